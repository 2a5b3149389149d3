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

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from connectors import ConnectorRegistry, SourceObject
from scanner.errors import describe_exception

MAX_TAGS = 10
Action = Literal["set", "unchanged", "would-set", "failed", "unsupported"]


@dataclass(frozen=True, slots=True)
class WriteResult:
    uri: str
    action: Action
    reason: str | None = None


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
