"""C2PA manifests embedded in binary files (JPEG, PNG, WebP, PDF, MP4 …), read with ``c2pa-python``.

Only the *active* manifest's ``c2pa.training-mining`` and ``cawg.training-mining`` assertions are
used, and the manifest store's validation state is kept beside them:

* ``trusted`` — signature and bindings valid, the signer chains to a configured trust anchor;
* ``untrusted`` — signature and bindings valid, the signer is not on any configured trust list
  (c2pa's ``Valid``; every manifest is this when no trust anchors are configured);
* ``invalid`` — the manifest does not validate (the file changed after signing, a bad signature):
  its ``allowed`` entries grant nothing and are dropped, its ``notAllowed`` / ``constrained`` entries
  still restrict;
* ``unreadable`` — (PDF only) c2pa could not parse the container, so whether it carries a manifest is
  unknown. An image, video or audio file c2pa cannot parse fails instead, and one whose manifest is
  remote (a URL) is skipped: fetching it would leave the machine.

What is read is rendered as lines for the rights classifier (the field ``$c2pa``), in the flat form the
text path already knows (``c2pa.training-mining.entries.c2pa.ai_training.use: notAllowed``) plus one
``c2pa.manifest: <state>`` line, so both paths produce the same ``RIGHTS_C2PA_TDM`` findings and
``c2pa:<use>:<value>`` signals. Reading never leaves the machine: remote manifests and OCSP are not
fetched. The reader is built once per worker and handed to extractors through their context.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, BinaryIO, ClassVar

from scanner.errors import ExtractionError
from scanner.extractors.base import ExtractContext, SkipObject
from scanner.units import Unit, UnitProblem

log = logging.getLogger(__name__)

#: The manifest store's state, as the ``c2pa.manifest:`` line and the ``c2pa:manifest:<state>`` signal say it.
TRUSTED, UNTRUSTED, INVALID = "trusted", "untrusted", "invalid"
#: A document whose container c2pa could not parse (a PDF pypdf reads but c2pa does not): whether it
#: carries a manifest is unknown.
UNREADABLE = "unreadable"
_STATES = {"Trusted": TRUSTED, "Valid": UNTRUSTED, "Invalid": INVALID}
#: The uses of a training-mining assertion (C2PA and CAWG spell them the same after the prefix).
USES = ("ai_training", "ai_generative_training", "ai_inference", "data_mining")
_VALUES = ("allowed", "notAllowed", "constrained")
_LABELS = ("c2pa.training-mining", "cawg.training-mining")
INSTALL_HINT = "pip install c2pa-python"


@dataclass(frozen=True, slots=True)
class EmbeddedManifest:
    """What an asset's active C2PA manifest says about training and mining, and whether it validated.

    ``entries`` are ``(prefix, use, value)``: ``("c2pa", "ai_training", "notAllowed")``. ``failures``
    are c2pa's validation failure codes (``assertion.dataHash.mismatch``), never asset content.
    """

    state: str
    entries: tuple[tuple[str, str, str], ...] = ()
    failures: tuple[str, ...] = ()

    def rights_text(self) -> str:
        """The lines the rights classifier reads as the field ``$c2pa`` (an invalid manifest's
        ``allowed`` entries are left out: they grant nothing)."""
        why = "+".join(f.replace(" ", "-") for f in self.failures)
        lines = [f"c2pa.manifest: {self.state}" + (f" ({why})" if why else "")]
        for prefix, use, value in self.entries:
            if self.state == INVALID and value == "allowed":
                continue
            lines.append(f"{prefix}.training-mining.entries.{prefix}.{use}.use: {value}")
        return "\n".join(lines)


def available() -> bool:
    """Whether ``c2pa-python`` can be imported here (it has no wheel on every platform)."""
    try:
        import c2pa  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


class C2paReader:
    """Reads embedded C2PA manifests offline; built once per worker (one c2pa ``Context``).

    ``trust_anchors`` is a PEM bundle of root certificates whose signers count as ``trusted``.
    """

    def __init__(self, *, trust_anchors: str | None = None) -> None:
        self._trust_anchors = trust_anchors
        self._context: Any = None

    def setup(self) -> None:
        import c2pa

        config: dict[str, Any] = {
            "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_trust": True},
        }
        if self._trust_anchors:
            config["trust"] = {"user_anchors": self._trust_anchors}
        self._context = c2pa.Context(c2pa.Settings.from_dict(config))

    def read(self, stream: IO[bytes], mime: str) -> EmbeddedManifest | None:
        """The active manifest of a seekable ``stream`` of type ``mime``; None when it carries none.

        A manifest that does not validate is ``invalid`` (deny by default). A container c2pa cannot
        parse raises :class:`ExtractionError`; a format it does not read, or a manifest kept remotely,
        raises :class:`SkipObject`.
        """
        import c2pa

        if self._context is None:
            self.setup()
        stream.seek(0)
        try:
            reader = c2pa.Reader.try_create(mime, stream, None, self._context)
        except c2pa.C2paError.NotSupported as exc:
            raise SkipObject(f"C2PA: format '{mime}' not supported by c2pa") from exc
        except c2pa.C2paError.RemoteManifest as exc:
            raise SkipObject(
                "C2PA: the manifest is remote and is not fetched (a scan never leaves the machine)"
            ) from exc
        except c2pa.C2paError as exc:
            raise ExtractionError(f"C2PA: cannot read the {mime} container ({_error_code(exc)})") from exc
        finally:
            stream.seek(0)
        if reader is None:
            return None
        with reader:
            try:
                active = reader.get_active_manifest() or {}
                state = _STATES.get(str(reader.get_validation_state()), INVALID)
                results = reader.get_validation_results() or {}
            except (c2pa.C2paError, KeyError, ValueError) as exc:
                return EmbeddedManifest(INVALID, failures=(_error_code(exc),))
        failures = tuple(
            sorted(
                {
                    str(f.get("code"))
                    for f in (results.get("activeManifest") or {}).get("failure") or ()
                    if isinstance(f, dict) and f.get("code")
                }
            )
        )
        return EmbeddedManifest(state, _entries(active), failures if state == INVALID else ())


def _error_code(exc: BaseException) -> str:
    """The c2pa error's kind (``Signature``, ``Decoding`` …), not its message (which may quote the asset)."""
    name = type(exc).__name__.lstrip("_")
    return "c2pa." + (name.removeprefix("C2pa") or "error")


def _entries(manifest: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    out: list[tuple[str, str, str]] = []
    for assertion in manifest.get("assertions") or ():
        if not isinstance(assertion, dict):
            continue
        label = str(assertion.get("label", ""))
        if label.split(".v")[0] not in _LABELS and not label.startswith(tuple(f"{x}." for x in _LABELS)):
            continue
        data = assertion.get("data") or {}
        entries = data.get("entries") if isinstance(data, dict) else None
        if not isinstance(entries, dict):
            continue
        for key, entry in entries.items():
            prefix, _, use = str(key).partition(".")
            value = entry.get("use") if isinstance(entry, dict) else None
            if prefix in {"c2pa", "cawg"} and use in USES and value in _VALUES:
                out.append((prefix, use, str(value)))
    return tuple(sorted(set(out)))


#: File extension → the MIME type c2pa reads it as.
MEDIA_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".avif": "image/avif",
    ".jxl": "image/jxl",
    ".dng": "image/dng",
    ".mp4": "video/mp4",
    ".m4v": "video/x-m4v",
    ".mov": "video/quicktime",
    ".avi": "video/avi",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
}


def _mime(uri: str, extensions: tuple[str, ...]) -> str:
    name = uri.rsplit("/", 1)[-1].lower()
    for ext in sorted(extensions, key=len, reverse=True):
        if name.endswith(ext):
            return MEDIA_TYPES[ext]
    return MEDIA_TYPES[extensions[0]]


class _MediaExtractor:
    """Images, video and audio: no text is read (no OCR, no transcription); the unit carries what the
    embedded C2PA manifest says. Without a manifest (or without c2pa-python) the object is skipped."""

    format: ClassVar[str] = "media"
    extensions: ClassVar[tuple[str, ...]] = ()

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        from scanner.extractors.office import seekable_copy

        reader = ctx.c2pa
        if reader is None:
            reason = "not installed" if not available() else "not enabled"
            raise SkipObject(f"{self.format}: no text to read and C2PA manifest not read (c2pa-python {reason})")
        copy, digest, size = seekable_copy(stream, ctx)
        with copy:
            manifest = reader.read(copy, _mime(ctx.uri, self.extensions))
        if manifest is None:
            raise SkipObject(f"{self.format}: no text to read and no embedded C2PA manifest")
        yield Unit(ctx.uri, ctx.format, "", digest, size, embedded_rights=manifest.rights_text())


class ImageExtractor(_MediaExtractor):
    format: ClassVar[str] = "image"
    extensions: ClassVar[tuple[str, ...]] = tuple(e for e, m in MEDIA_TYPES.items() if m.startswith("image/"))


class VideoExtractor(_MediaExtractor):
    format: ClassVar[str] = "video"
    extensions: ClassVar[tuple[str, ...]] = tuple(e for e, m in MEDIA_TYPES.items() if m.startswith("video/"))


class AudioExtractor(_MediaExtractor):
    format: ClassVar[str] = "audio"
    extensions: ClassVar[tuple[str, ...]] = tuple(e for e, m in MEDIA_TYPES.items() if m.startswith("audio/"))


def read_embedded(reader: C2paReader | None, copy: IO[bytes], mime: str) -> str:
    """For extractors of documents that may carry a manifest (PDF): the ``$c2pa`` lines, or ""."""
    if reader is None:
        return ""
    try:
        manifest = reader.read(copy, mime)
    except (SkipObject, ExtractionError) as exc:
        code = "remote-manifest" if isinstance(exc, SkipObject) else _error_code(exc.__cause__ or exc)
        return EmbeddedManifest(UNREADABLE, failures=(code,)).rights_text()
    finally:
        copy.seek(0)
    return manifest.rights_text() if manifest is not None else ""


__all__ = [
    "INSTALL_HINT",
    "AudioExtractor",
    "C2paReader",
    "EmbeddedManifest",
    "ImageExtractor",
    "VideoExtractor",
    "available",
    "read_embedded",
]
