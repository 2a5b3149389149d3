"""TDM reservations declared outside a document: a site's ``/.well-known/tdmrep.json`` and the
``tdm-reservation`` / ``tdm-policy`` headers an object carries as metadata.

* **tdmrep.json** (W3C TDMRep, JSON form): an array of ``{"location": pattern, "tdm-reservation": 0|1,
  "tdm-policy": url}``. It is looked for in ``.well-known/`` at each source root and at every ancestor
  prefix of it (``s3://bucket/site/docs`` → ``…/site/docs/.well-known/``, ``…/site/.well-known/``,
  ``s3://bucket/.well-known/``); the directory holding ``.well-known`` is the site's root, and a
  ``location`` is a path from there (``/news/*``; ``*`` matches anything, a final ``$`` anchors the end,
  otherwise a pattern matches as a prefix). As TDMRep processes it, the first rule that matches
  decides; the nearest file with a matching rule wins over its ancestors. A file that is present but
  cannot be read or parsed reserves every object of its site (deny by default).
* **headers as metadata**: S3 user metadata ``x-amz-meta-tdm-reservation`` / ``x-amz-meta-tdm-policy``
  (listed as ``tdm-reservation`` / ``tdm-policy``); Azure blob metadata names must be C# identifiers,
  so ``tdm_reservation`` / ``tdm_policy`` (``tdmreservation`` / ``tdmpolicy`` are accepted too).

Both become header lines (``tdm-reservation: 1``, ``tdm-policy: URL``) that the rights classifier reads
as the fields ``$tdmrep`` and ``$metadata`` of every unit of the object, so they give the same
``RIGHTS_TDM_RESERVATION`` findings and ``tdm:reserved`` / ``tdm:policy`` signals as a ``<meta>`` tag.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from connectors import ConnectorRegistry, SourceObject
from scanner.errors import ConnectorError

log = logging.getLogger(__name__)

WELL_KNOWN = ".well-known/tdmrep.json"
#: Field names (and context words) under which the rights classifier reads object-level declarations.
TDMREP_FIELD = "$tdmrep"
METADATA_FIELD = "$metadata"
#: A tdmrep.json larger than this is not read (and so reserves its site).
MAX_BYTES = 1 << 20
_RESERVATION_KEYS = ("tdm-reservation", "tdm_reservation", "tdmreservation")
_POLICY_KEYS = ("tdm-policy", "tdm_policy", "tdmpolicy")


@dataclass(frozen=True, slots=True)
class TdmRule:
    location: str
    reservation: int
    policy: str | None = None

    def matches(self, path: str) -> bool:
        pattern = self.location if self.location.startswith("/") else "/" + self.location
        anchored = pattern.endswith("$")
        regex = ".*".join(re.escape(part) for part in pattern.rstrip("$").split("*"))
        return re.match(regex + ("$" if anchored else ""), path) is not None


@dataclass(frozen=True, slots=True)
class TdmRepFile:
    """One site's declarations: ``base`` is the key of the directory holding ``.well-known``."""

    uri: str
    base: str
    rules: tuple[TdmRule, ...]
    sha256: str
    unreadable: str | None = None  # why the file could not be used (then every object is reserved)

    def rule_for(self, key: str) -> TdmRule | None:
        if not key.startswith(self.base):
            return None
        if self.unreadable is not None:
            return TdmRule("/*", 1)
        path = "/" + unquote(key[len(self.base) :])
        return next((rule for rule in self.rules if rule.matches(path)), None)


def key_of(uri: str) -> str:
    """A store-independent key for prefix comparison (``bucket/a/b``, ``container/a/b``, ``/abs/path``)."""
    if "://" not in uri:
        return uri
    if uri.startswith("file://"):
        return unquote(urlsplit(uri).path)
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme in ("az", "abfs", "abfss"):
        return parts.netloc.partition("@")[0] + parts.path
    if scheme == "https" and parts.netloc.endswith(".blob.core.windows.net"):
        return parts.path.lstrip("/")
    return parts.netloc + parts.path


def _candidates(root_uri: str) -> Iterator[str]:
    """``.well-known/tdmrep.json`` at the root and at each ancestor prefix, nearest first."""
    scheme, _, rest = root_uri.partition("://")
    head, path = "", rest
    if scheme == "file":
        head, path = "", rest  # rest is "/abs/path"
    elif scheme == "https":
        host, _, path = rest.partition("/")
        container, _, path = path.partition("/")
        head = f"{host}/{container}/"
    else:
        container, _, path = rest.partition("/")
        head = f"{container}/"
    segments = [s for s in path.strip("/").split("/") if s]
    lead = "/" if scheme == "file" else ""
    for depth in range(len(segments), -1, -1):
        prefix = lead + "/".join(segments[:depth])
        prefix = prefix.rstrip("/") + "/" if prefix not in ("", "/") else lead
        yield f"{scheme}://{head}{prefix}{WELL_KNOWN}"


def parse(data: bytes) -> tuple[TdmRule, ...]:
    """The rules of a tdmrep.json; raises ValueError when it is not the TDMRep JSON form."""
    doc = json.loads(data.decode("utf-8-sig"))
    if not isinstance(doc, list):
        raise ValueError("not a JSON array")
    rules = []
    for entry in doc:
        if not isinstance(entry, dict) or not isinstance(entry.get("location"), str):
            raise ValueError("an entry without a location")
        reservation = entry.get("tdm-reservation")
        if reservation not in (0, 1, "0", "1"):
            raise ValueError("tdm-reservation is not 0 or 1")
        policy = entry.get("tdm-policy")
        rules.append(TdmRule(entry["location"], int(reservation), policy if isinstance(policy, str) else None))
    return tuple(rules)


def load_sites(root: str, connectors: ConnectorRegistry) -> tuple[TdmRepFile, ...]:
    """Every tdmrep.json at ``root`` or above it, nearest first."""
    from connectors.local import uri_from_path

    if "://" not in root:
        from pathlib import Path

        root = uri_from_path(Path(root).resolve())
    connector = connectors.for_uri(root)
    found: list[TdmRepFile] = []
    for candidate in _candidates(root):
        try:
            objects = [o for o in connector.iter_objects(candidate) if isinstance(o, SourceObject)]
        except ConnectorError:
            continue
        except Exception:  # a store that cannot even be asked: no declaration there
            log.debug("cannot look for %s", candidate, exc_info=True)
            continue
        obj = next((o for o in objects if key_of(o.uri) == key_of(candidate)), None)
        if obj is None:
            continue
        base = key_of(candidate)[: -len(WELL_KNOWN)]
        try:
            with connector.open(obj) as fh:
                data = fh.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                raise ValueError(f"larger than {MAX_BYTES} bytes")
            rules, why = parse(data), None
        except (OSError, ConnectorError, ValueError) as exc:
            data, rules = b"", ()
            why = f"{type(exc).__name__}"
            log.warning("%s: unreadable TDMRep file (%s): every object of the site counts as reserved", obj.uri, why)
        found.append(TdmRepFile(obj.uri, base, rules, hashlib.sha256(data).hexdigest(), why))
    return tuple(found)


def declarations(obj: SourceObject, sites: Sequence[TdmRepFile]) -> tuple[tuple[str, str], ...]:
    """``(field, header lines)`` the rights classifier reads for ``obj``: its tdmrep rule, its metadata."""
    out: list[tuple[str, str]] = []
    key = key_of(obj.uri) if sites else ""  # (most sources have no tdmrep.json: no URL parsing per object)
    for site in sites:
        rule = site.rule_for(key)
        if rule is None:
            continue
        lines = [f"tdm-reservation: {rule.reservation}"]
        if rule.policy and rule.reservation == 1:
            lines.append(f"tdm-policy: {rule.policy}")
        out.append((TDMREP_FIELD, "\n".join(lines)))
        break
    headers = _metadata_headers(obj.metadata)
    if headers:
        out.append((METADATA_FIELD, headers))
    return tuple(out)


def _metadata_headers(metadata: Mapping[str, str]) -> str:
    if not metadata:
        return ""
    lower = {k.lower().removeprefix("x-amz-meta-"): str(v).strip() for k, v in metadata.items()}
    lines = []
    reservation = next((lower[k] for k in _RESERVATION_KEYS if k in lower), None)
    if reservation is not None:
        lines.append(f"tdm-reservation: {reservation}")
    policy = next((lower[k] for k in _POLICY_KEYS if k in lower), None)
    if policy and reservation == "1":
        lines.append(f"tdm-policy: {policy}")
    return "\n".join(lines)


def fingerprint(scan_fp: str, found: Sequence[tuple[str, str]]) -> str:
    """The scan fingerprint for an object with external declarations: a changed declaration rescans it."""
    if not found:
        return scan_fp
    return hashlib.sha256((scan_fp + json.dumps(found)).encode()).hexdigest()
