"""Local files and ``file://`` URLs.

Listing walks with :func:`os.scandir` rather than fsspec's local walk because a
scanner of untrusted trees must see what that walk hides: symlink loops,
FIFOs and devices (opening a FIFO blocks forever), unreadable directories.
Each of those becomes a reasoned row instead of a hang or a silent gap.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, ClassVar
from urllib.parse import quote, unquote, urlsplit

from connectors.base import ListingItem, ListingProblem, SourceObject
from scanner.errors import AccessDeniedError, ConnectorError, SourceNotFoundError

if TYPE_CHECKING:
    from scanner.writeback import WriteResult


def path_from_uri(uri: str) -> Path:
    """``file:///a/b`` or a plain path → an absolute :class:`Path`."""
    if uri.startswith("file://"):
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost"):
            raise ConnectorError(f"{uri}: file URLs on other hosts are not supported")
        return Path(unquote(parts.path))
    return Path(uri).expanduser().absolute()


SIDECAR_SUFFIX = ".ingestguard-label.json"


def sidecar_path(path: Path) -> Path:
    """Where the label of a local file is written: beside it, never inside it."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def uri_from_path(path: Path | str) -> str:
    """The canonical URI ingestguard records for a local file (``Path.as_uri`` of its absolute path)."""
    text = os.path.abspath(path)
    return "file://" + quote(os.fsencode(text), safe=_URI_SAFE)


#: What ``Path.as_uri`` leaves unescaped in a POSIX path (``urllib.parse.quote_from_bytes`` defaults plus ``/``).
_URI_SAFE = "/"


class LocalConnector:
    """Files on this machine. Symlinks to files are read; symlinked directories are not followed."""

    schemes: ClassVar[tuple[str, ...]] = ("file", "")

    def iter_objects(self, root: str) -> Iterator[ListingItem]:
        base = path_from_uri(root)
        try:
            st = base.stat()
        except FileNotFoundError as exc:
            raise SourceNotFoundError(f"{root}: no such file or directory") from exc
        except PermissionError as exc:
            raise AccessDeniedError(f"{root}: permission denied") from exc
        if stat.S_ISDIR(st.st_mode):
            yield from self._walk(base)
        else:
            yield self._item(base)

    def _walk(self, directory: Path) -> Iterator[ListingItem]:
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield ListingProblem(uri_from_path(directory), "failed", f"cannot list directory: {exc.strerror}")
            return
        prefix = uri_from_path(directory)  # quoted once, not per file
        prefix = prefix if prefix.endswith("/") else prefix + "/"
        for entry in entries:
            uri = prefix + quote(os.fsencode(entry.name), safe=_URI_SAFE)
            try:
                if entry.is_dir(follow_symlinks=False):
                    yield from self._walk(Path(entry.path))
                    continue
            except OSError as exc:
                yield ListingProblem(uri, "failed", f"cannot stat: {exc.strerror}")
                continue
            yield self._item(entry.path, uri)

    def _item(self, path: Path | str, uri: str | None = None) -> ListingItem:
        uri = uri or uri_from_path(path)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            if os.path.islink(path):
                return ListingProblem(uri, "skipped", "broken or looping symbolic link")
            return ListingProblem(uri, "failed", "disappeared before it could be read")
        except OSError as exc:
            if exc.errno == 40:  # ELOOP
                return ListingProblem(uri, "skipped", "symbolic link loop")
            return ListingProblem(uri, "failed", f"cannot stat: {exc.strerror}")
        if stat.S_ISDIR(st.st_mode):
            return ListingProblem(uri, "skipped", "symbolic link to a directory (not followed)")
        if not stat.S_ISREG(st.st_mode):
            return ListingProblem(uri, "skipped", "not a regular file (device, FIFO or socket)")
        mtime = datetime.fromtimestamp(st.st_mtime, tz=UTC)
        return SourceObject(
            uri=uri,
            size=st.st_size,
            version=f"{st.st_mtime_ns}:{st.st_size}",
            last_modified=mtime.isoformat(),
        )

    def write_labels(self, obj: SourceObject, labels: Mapping[str, str], *, dry_run: bool) -> WriteResult:
        """Write ``<name>.ingestguard-label.json`` beside the file (the file itself is never touched)."""
        from scanner.writeback import WriteResult, merged

        sidecar = sidecar_path(path_from_uri(obj.uri))
        existing: dict[str, str] = {}
        if sidecar.exists():
            try:
                existing = {str(k): str(v) for k, v in json.loads(sidecar.read_text(encoding="utf-8")).items()}
            except (ValueError, OSError, AttributeError):
                existing = {}
        target = merged(existing, labels)
        if target is None:
            return WriteResult(obj.uri, "unchanged")
        if dry_run:
            return WriteResult(obj.uri, "would-set", f"sidecar {sidecar.name}")
        tmp = sidecar.with_name(sidecar.name + ".tmp")
        tmp.write_text(json.dumps(target, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, sidecar)
        return WriteResult(obj.uri, "set", f"sidecar {sidecar.name}")

    def open(self, obj: SourceObject) -> BinaryIO:
        path = path_from_uri(obj.uri)
        try:
            return path.open("rb")
        except FileNotFoundError as exc:
            raise ConnectorError(f"{obj.uri}: disappeared before it could be read") from exc
        except PermissionError as exc:
            raise AccessDeniedError(f"{obj.uri}: permission denied") from exc
        except OSError as exc:
            raise ConnectorError(f"{obj.uri}: cannot open: {exc.strerror}") from exc
