"""Label write-back: put each object's label where the people and tools reading the store see it.

Opt-in (``scan --apply-labels``; ``--dry-run`` only reports). S3 objects get
object tags, Azure blobs blob index tags and metadata, local files a sidecar
``<name>.ingestguard-label.json``. Object content is never touched. Existing
unrelated tags are kept (S3 replaces a whole tag set, so tags are merged, and
the 10-tag limit of S3 and of blob index tags is respected: an object that
would exceed it is reported, not truncated). Applying the same labels twice
changes nothing the second time.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

from connectors import ConnectorRegistry, SourceObject
from labels.taxonomy import Taxonomy
from scanner.errors import describe_exception

MAX_TAGS = 10
Action = Literal["set", "unchanged", "would-set", "failed", "unsupported"]


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What write-back did to one object; ``target`` is ``store`` (tags, metadata, sidecar) or ``office``
    (the label inside an Office file)."""

    uri: str
    action: Action
    reason: str | None = None
    target: str = "store"


@runtime_checkable
class LabelWriter(Protocol):
    """A connector that can attach labels to the objects it reads."""

    def write_labels(self, obj: SourceObject, labels: Mapping[str, str], *, dry_run: bool) -> WriteResult: ...


def merged(existing: Mapping[str, str], wanted: Mapping[str, str]) -> dict[str, str] | None:
    """The tag set to write, or None if ``existing`` already carries ``wanted``."""
    if all(existing.get(k) == v for k, v in wanted.items()):
        return None
    return {**existing, **wanted}


def apply_labels(
    rows: Iterable[Mapping[str, Any]],
    *,
    connectors: ConnectorRegistry,
    name_key: str,
    id_key: str,
    dry_run: bool,
) -> tuple[list[WriteResult], dict[str, int]]:
    """Write the label of every scanned object row; returns per-object results and counts by action."""
    results: list[WriteResult] = []
    for row in rows:
        if row["status"] != "scanned" or not row["label"]:
            continue
        obj = SourceObject(uri=row["uri"], size=row["size_bytes"], version=row["version"])
        connector = connectors.for_uri(obj.uri)
        if not isinstance(connector, LabelWriter):
            results.append(WriteResult(obj.uri, "unsupported", "this store has no label write-back"))
            continue
        try:
            results.append(
                connector.write_labels(obj, {name_key: row["label"], id_key: row["label_id"]}, dry_run=dry_run)
            )
        except Exception as exc:
            results.append(WriteResult(obj.uri, "failed", describe_exception(exc)))
    return results, dict(Counter(r.action for r in results))


#: Where labelled copies of Office files go, under the scan's output directory.
LABELLED_DIR = "labelled"
_KEPT = {
    "manual": "a label applied by a person is kept; the file is not touched",
    "unknown": "a label outside the taxonomy is kept; the file is not touched",
    "kept": "the file already carries this label",
}


def labelled_copy_path(out_dir: Path, uri: str) -> Path:
    """``OUT/labelled/<scheme>/[<bucket or host>/]<path>``: where the labelled copy of ``uri`` is written."""
    parts = urlsplit(uri)
    segments = [s for s in unquote(parts.path).split("/") if s not in ("", ".", "..")]
    host = [parts.netloc] if parts.netloc else []
    return out_dir.joinpath(LABELLED_DIR, parts.scheme or "file", *host, *segments)


def apply_office_labels(
    rows: Iterable[Mapping[str, Any]],
    *,
    connectors: ConnectorRegistry,
    taxonomy: Taxonomy,
    out_dir: Path,
    in_place: bool,
    dry_run: bool,
    max_bytes: int,
) -> list[WriteResult]:
    """Write each scanned Office file's label into the file (LabelInfo.xml and MSIP custom properties):
    into a copy under ``OUT/labelled/`` by default, into the file itself only with ``in_place`` (local files).
    A label a person applied is never touched."""
    from scanner.officelabels import OFFICE_FORMATS

    results = []
    for row in rows:
        if row["status"] != "scanned" or row.get("format") not in OFFICE_FORMATS or not row.get("label_id"):
            continue
        try:
            results.append(
                _office_one(row, connectors, taxonomy, out_dir, in_place=in_place, dry_run=dry_run, max_bytes=max_bytes)
            )
        except Exception as exc:
            results.append(WriteResult(row["uri"], "failed", describe_exception(exc), "office"))
    return results


def _office_one(
    row: Mapping[str, Any],
    connectors: ConnectorRegistry,
    taxonomy: Taxonomy,
    out_dir: Path,
    *,
    in_place: bool,
    dry_run: bool,
    max_bytes: int,
) -> WriteResult:
    from scanner.extractors.base import CountingReader, spool
    from scanner.extractors.mip import package_label
    from scanner.officelabels import LabelToWrite, write_label

    uri = row["uri"]
    kept = _KEPT.get(row.get("label_method") or "")
    if kept is not None:
        return WriteResult(uri, "unchanged", kept, "office")
    label = taxonomy.by_id(row["label_id"])
    if label is None:
        return WriteResult(uri, "failed", f"label {row['label_id']} is not in the taxonomy", "office")
    local = uri.startswith("file://")
    if in_place and not local:
        return WriteResult(uri, "unsupported", "Office files are rewritten in place on local disk only", "office")
    obj = SourceObject(uri=uri, size=row.get("size_bytes"), version=row.get("version"))
    raw = connectors.for_uri(uri).open(obj)
    try:
        counted = CountingReader(raw, limit=max_bytes, limit_name="max_document_bytes")
        copy = spool(counted, limit=max_bytes, limit_name="max_document_bytes")  # type: ignore[arg-type]
    finally:
        raw.close()
    with copy:
        existing = package_label(copy)
        if existing is not None and existing.manual:
            return WriteResult(uri, "unchanged", _KEPT["manual"], "office")
        if existing is not None and label.has_id(existing.guid):
            return WriteResult(uri, "unchanged", _KEPT["kept"], "office")
        site = (existing.site_id if existing is not None else None) or (
            str(taxonomy.tenant_id) if taxonomy.tenant_id else None
        )
        if site is None:
            return WriteResult(
                uri,
                "failed",
                "no tenant id: set taxonomy.tenant_id in labels.yaml (labels import --tenant-id)",
                "office",
            )
        if in_place:
            target = Path(unquote(urlsplit(uri).path))
            where = "in place"
        else:
            target = labelled_copy_path(out_dir, uri)
            where = f"copy {target.relative_to(out_dir)}"
        if dry_run:
            return WriteResult(uri, "would-set", where, "office")
        todo = LabelToWrite(
            guid=label.guid,
            name=label.purview_name or label.name,
            site_id=site.lower(),
            method="Standard",
            set_date=datetime.now(UTC),
            action_id=str(uuid.uuid4()),
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                write_label(copy, out, todo)
            if in_place:
                st = target.stat()
                if f"{st.st_mtime_ns}:{st.st_size}" != row.get("version"):
                    tmp.unlink()
                    return WriteResult(uri, "failed", "the file changed since it was scanned; not rewritten", "office")
                os.chmod(tmp, st.st_mode & 0o7777)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    return WriteResult(uri, "set", where, "office")
