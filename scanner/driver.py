"""The scan driver: list sources, run tasks on an engine, write rows, summarise."""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from classifiers.fingerprint import load_or_create_key
from connectors import ConnectorRegistry, ListingItem, ListingProblem, SourceObject
from scanner.config import Settings
from scanner.engines.base import Engine
from scanner.pipeline import Row, ScanTask, document_row
from scanner.selection import relative_path, selected
from scanner.sinks import SCHEMA_VERSION, ParquetSink, write_json_atomic
from scanner.units import UnitProblem
from scanner.version import __version__


class Progress(Protocol):
    """Callbacks a front end (the CLI's progress bar) hangs on a scan."""

    def listed(self, obj: SourceObject) -> None: ...
    def listing_done(self) -> None: ...
    def object_done(self, row: Row) -> None: ...


class _NoProgress:
    def listed(self, obj: SourceObject) -> None:
        return None

    def listing_done(self) -> None:
        return None

    def object_done(self, row: Row) -> None:
        return None


@dataclass(slots=True)
class _Totals:
    objects: Counter[str] = field(default_factory=Counter)
    units: Counter[str] = field(default_factory=Counter)
    unit_labels: Counter[str] = field(default_factory=Counter)
    object_labels: Counter[str] = field(default_factory=Counter)
    unit_methods: Counter[str] = field(default_factory=Counter)
    unit_conflicts: Counter[str] = field(default_factory=Counter)
    object_conflicts: Counter[str] = field(default_factory=Counter)
    entities: Counter[str] = field(default_factory=Counter)
    findings: int = 0
    bytes_listed: int = 0
    bytes_scanned: int = 0

    def documents(self, rows: list[Row]) -> None:
        for row in rows:
            self.units[row["status"]] += 1
            if row["label"]:
                self.unit_labels[row["label"]] += 1
            if row.get("label_method"):
                self.unit_methods[row["label_method"]] += 1
            if row.get("label_conflict"):
                self.unit_conflicts[row["label_conflict"]] += 1

    def object(self, row: Row) -> None:
        self.objects[row["status"]] += 1
        if row["label"]:
            self.object_labels[row["label"]] += 1
        if row.get("label_conflict"):
            self.object_conflicts[row["label_conflict"]] += 1
        self.entities.update(row["entity_counts"])
        if row["status"] == "scanned":
            self.bytes_scanned += row["size_bytes"] or 0


def _problem_rows(problem: ListingProblem) -> tuple[Row, Row]:
    obj = SourceObject(uri=problem.uri)
    unit = UnitProblem(problem.uri, "unknown", problem.status, problem.reason)
    doc = document_row(unit, obj, status=problem.status, reason=problem.reason)
    object_row: Row = {
        "uri": problem.uri,
        "version": None,
        "last_modified": None,
        "size_bytes": None,
        "format": None,
        "content_sha256": None,
        "status": problem.status,
        "reason": problem.reason,
        "partial": False,
        "units_scanned": 0,
        "units_skipped": int(problem.status == "skipped"),
        "units_failed": int(problem.status == "failed"),
        "label": None,
        "label_id": None,
        "entity_counts": {},
        "metadata": {},
        "tags": {},
    }
    return doc, object_row


def _write_back(
    out: Path, settings: Settings, connectors: ConnectorRegistry, *, dry_run: bool, office_in_place: bool = False
) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from scanner.writeback import apply_labels as write
    from scanner.writeback import apply_office_labels

    results = []
    counts: Counter[str] = Counter()
    table = pq.ParquetFile(out / "objects.parquet")
    for batch in table.iter_batches(
        batch_size=1000, columns=["uri", "status", "label", "label_id", "size_bytes", "version"]
    ):
        got, n = write(
            batch.to_pylist(),
            connectors=connectors,
            name_key=settings.scan.writeback.name_key,
            id_key=settings.scan.writeback.id_key,
            dry_run=dry_run,
        )
        results.extend(got)
        counts.update(n)
    office_counts: Counter[str] = Counter()
    columns = ["uri", "status", "format", "label_id", "label_method", "size_bytes", "version"]
    for batch in table.iter_batches(batch_size=1000, columns=columns):
        office = apply_office_labels(
            batch.to_pylist(),
            connectors=connectors,
            taxonomy=settings.labels.taxonomy,
            out_dir=out,
            in_place=office_in_place,
            dry_run=dry_run,
            max_bytes=settings.scan.limits.max_document_bytes,
        )
        results.extend(office)
        office_counts.update(r.action for r in office)
    rows = [{"uri": r.uri, "target": r.target, "action": r.action, "reason": r.reason} for r in results]
    schema = pa.schema(
        [("uri", pa.string()), ("target", pa.string()), ("action", pa.string()), ("reason", pa.string())]
    )
    tmp = out / ".writeback.parquet.partial"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp)
    tmp.replace(out / "writeback.parquet")
    summary: dict[str, Any] = {"dry_run": dry_run, **dict(sorted(counts.items()))}
    if office_counts:
        summary["office"] = dict(sorted(office_counts.items()))
    return summary


def make_engine(settings: Settings, key: bytes, *, engine: str | None, workers: int | None) -> Engine:
    name = engine or settings.scan.engine
    if name == "serial":
        from scanner.engines.serial import SerialEngine

        return SerialEngine(settings, key)
    if name == "local":
        from scanner.engines.local import LocalEngine

        count = workers if workers is not None else settings.scan.workers
        return LocalEngine(settings, key, workers=count or os.cpu_count() or 1)
    raise ValueError(f"unknown engine '{name}' (expected: local, serial)")


def scan(
    sources: Sequence[str],
    out_dir: str | Path,
    *,
    settings: Settings,
    engine: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    apply_labels: Literal["apply", "dry-run"] | None = None,
    office_in_place: bool = False,
) -> dict[str, Any]:
    """Scan every object under ``sources`` into ``out_dir``; returns the summary (also in ``summary.json``).

    With ``apply_labels``, each scanned object's label is then written back to its store
    (``dry-run``: only reported), with the outcome per object in ``writeback.parquet``; Office files
    also get the label inside them, in a copy under ``OUT/labelled/`` (``office_in_place``: the file itself).
    """
    progress = progress or _NoProgress()
    out = Path(out_dir)
    started = datetime.now(UTC)
    clock = time.monotonic()
    key = load_or_create_key(settings.scan.fingerprint_key_file)
    connectors = ConnectorRegistry()
    totals = _Totals()
    sink = ParquetSink(out, tool_version=__version__)
    task_ids = iter(range(1 << 62))

    # Open every listing and take its first item before any worker starts, so a missing or
    # unreachable source fails at once with one message.
    listings: list[tuple[str, Iterator[ListingItem]]] = []
    for root in sources:
        listing = connectors.for_uri(root).iter_objects(root)
        first = next(listing, None)
        listings.append((root, itertools.chain([] if first is None else [first], listing)))

    def tasks() -> Iterator[ScanTask]:
        for root, listing in listings:
            for item in listing:
                rel = relative_path(root, item.uri)
                if not selected(rel, settings.scan.include, settings.scan.exclude):
                    continue
                if isinstance(item, ListingProblem):
                    doc, obj_row = _problem_rows(item)
                    sink.add("documents", [doc])
                    sink.add("objects", [obj_row])
                    totals.documents([doc])
                    totals.object(obj_row)
                    progress.object_done(obj_row)
                    continue
                totals.bytes_listed += item.size or 0
                progress.listed(item)
                yield ScanTask(next(task_ids), item)
        progress.listing_done()

    runner = None
    try:
        runner = make_engine(settings, key, engine=engine, workers=workers)
        for output in runner.run(tasks()):
            sink.add("documents", output.documents)
            sink.add("findings", output.findings)
            totals.documents(output.documents)
            totals.findings += len(output.findings)
            if output.object_row is not None:
                sink.add("objects", [output.object_row])
                totals.object(output.object_row)
                progress.object_done(output.object_row)
        elapsed = time.monotonic() - clock
        summary = {
            "schema_version": SCHEMA_VERSION,
            "tool_version": __version__,
            "run_id": str(uuid.uuid4()),
            "started": started.isoformat(),
            "finished": datetime.now(UTC).isoformat(),
            "seconds": round(elapsed, 3),
            "sources": list(sources),
            "config": settings.sources,
            "objects": dict(sorted(totals.objects.items())),
            "units": dict(sorted(totals.units.items())),
            "labels": {
                "units": dict(totals.unit_labels.most_common()),
                "objects": dict(totals.object_labels.most_common()),
                "methods": dict(totals.unit_methods.most_common()),
                "conflicts": {
                    "units": dict(totals.unit_conflicts.most_common()),
                    "objects": dict(totals.object_conflicts.most_common()),
                },
            },
            "entities": dict(totals.entities.most_common()),
            "findings": totals.findings,
            "bytes": {"listed": totals.bytes_listed, "scanned": totals.bytes_scanned},
            "bytes_per_second": round(totals.bytes_listed / elapsed) if elapsed > 0 else None,
        }
        sink.commit(summary)
        if apply_labels is not None:
            summary["writeback"] = _write_back(
                out, settings, connectors, dry_run=apply_labels == "dry-run", office_in_place=office_in_place
            )
            write_json_atomic(out / "summary.json", summary)
        return summary
    except BaseException:
        sink.abort()
        raise
    finally:
        if runner is not None:
            runner.close()
