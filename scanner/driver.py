"""The scan driver: list sources, run tasks on an engine, write rows, summarise."""

from __future__ import annotations

import itertools
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from classifiers.fingerprint import load_or_create_key
from connectors import ConnectorRegistry, ListingItem, ListingProblem, SourceObject
from labels import Labeler
from labels.consumers import ConsumerPolicy
from labels.taxonomy import Taxonomy
from scanner import snapshot, tdmrep
from scanner.config import Settings
from scanner.errors import ConfigError
from scanner.incremental import (
    Condition,
    ObjectResult,
    change_report,
    label_fingerprint,
    parse_condition,
    relabel,
    scan_fingerprint,
)
from scanner.incremental import fail_on as fail_on_hits
from scanner.selection import relative_path, selected
from scanner.sinks import SCHEMA_VERSION, TABLES, ParquetSink, write_json_atomic
from scanner.snapshot import Entry, Snapshot
from scanner.state import Change, Known, StateStore
from scanner.units import UnitProblem
from scanner.version import __version__

if TYPE_CHECKING:  # the rest is imported where it is used: an unchanged rerun needs no classifier or extractor
    from scanner.engines.base import Engine
    from scanner.pipeline import ObjectTally, ScanTask, TaskOutput
    from scanner.sharding import ShardPlan

log = logging.getLogger(__name__)
Row = dict[str, Any]


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

    def documents_table(self, table: pa.Table) -> None:
        """:meth:`documents` over rows in Arrow form (copied from a snapshot)."""
        for column, counter in (
            ("status", self.units),
            ("label", self.unit_labels),
            ("label_method", self.unit_methods),
            ("label_conflict", self.unit_conflicts),
        ):
            _count(counter, table.column(column))

    def objects_table(self, table: pa.Table) -> None:
        """:meth:`object` over rows in Arrow form."""
        for column, counter in (("status", self.objects), ("label", self.object_labels)):
            _count(counter, table.column(column))
        _count(self.object_conflicts, table.column("label_conflict"))
        for maps in table.column("entity_counts").chunks:  # (.keys of a sliced map array: the whole child)
            if not len(maps):
                continue
            lo, hi = maps.offsets[0].as_py(), maps.offsets[-1].as_py()
            keys, values = maps.keys.slice(lo, hi - lo).to_pylist(), maps.items.slice(lo, hi - lo).to_pylist()
            for entity, n in zip(keys, values, strict=True):
                self.entities[entity] += n
        # (comparisons with a Python value, like pyarrow's group_by, would import pandas: a third of a rerun)
        scanned = pc.match_substring_regex(table.column("status"), pattern="^scanned$")
        self.bytes_scanned += pc.sum(pc.filter(table.column("size_bytes"), scanned)).as_py() or 0


def _count(counter: Counter[str], column: pa.ChunkedArray) -> None:
    for item in pc.value_counts(column).to_pylist():
        if item["values"]:
            counter[item["values"]] += item["counts"]


def _ranked(counter: Counter[str]) -> dict[str, int]:
    """Most common first, ties by name (the same summary however the rows were counted)."""
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


class _Copier:
    """Runs of consecutive snapshot rows (one per table), written to the sink as slices."""

    def __init__(
        self,
        snapshot: Snapshot,
        sink: ParquetSink,
        totals: _Totals,
        risks_by_uri: dict[str, set[str]],
        briefs: list[Row],
    ) -> None:
        self.snapshot, self.sink, self.totals, self.risks_by_uri, self.briefs = (
            snapshot,
            sink,
            totals,
            risks_by_uri,
            briefs,
        )
        self.run = [0, 0, 0, 0, 0, 0]  # [lo, hi) in documents, findings, objects

    def take(self, d0: int, d1: int, f0: int, f1: int, o0: int, o1: int) -> tuple[int, int, int]:
        """Add one object's rows; returns where they will start in the output tables."""
        run = self.run
        if run[1] != d0 or run[3] != f0 or run[5] != o0:  # not where the current run ends
            self.flush()
            run[:] = [d0, d0, f0, f0, o0, o0]
        sink = self.sink
        at = (
            sink.count("documents") + run[1] - run[0],
            sink.count("findings") + run[3] - run[2],
            sink.count("objects") + run[5] - run[4],
        )
        run[1], run[3], run[5] = d1, f1, o1
        return at

    def flush(self, *, last: bool = False) -> None:
        d0, d1, f0, f1, o0, o1 = self.run
        tables = self.snapshot.tables
        whole = (d0, f0, o0) == (0, 0, 0) and (d1, f1, o1) == tuple(tables[n].num_rows for n in TABLES)
        if last and whole and not any(self.sink.count(n) for n in TABLES):
            self._adopt()
            return
        if d1 > d0:
            rows = tables["documents"].slice(d0, d1)
            self.sink.add_table("documents", rows)
            self.totals.documents_table(rows)
            self._risks(rows)
        if f1 > f0:
            rows = tables["findings"].slice(f0, f1)
            self.sink.add_table("findings", rows)
            self.totals.findings += rows.num_rows
        if o1 > o0:
            rows = tables["objects"].slice(o0, o1)
            self.sink.add_table("objects", rows)
            self.totals.objects_table(rows)
            self._briefs(rows)
        self.run[:] = [0, 0, 0, 0, 0, 0]

    def _adopt(self) -> None:
        """Nothing changed at all: the snapshot's files are the output (copied, not re-encoded);
        only the columns the summary counts are read."""
        tables = self.snapshot.tables
        for name in TABLES:
            self.sink.adopt(name, tables[name].path, tables[name].num_rows)
        documents = tables["documents"].columns(["uri", "status", "label", "label_method", "label_conflict", "risks"])
        self.totals.documents_table(documents)
        self._risks(documents)
        self.totals.findings += tables["findings"].num_rows
        objects = tables["objects"].columns(["uri", "status", "label", "label_conflict", "entity_counts", "size_bytes"])
        self.totals.objects_table(objects)
        self._briefs(objects)
        self.run[:] = [0, 0, 0, 0, 0, 0]

    def _risks(self, documents: pa.Table) -> None:
        risky = documents.filter(pc.cast(pc.list_value_length(documents.column("risks")), pa.bool_()))
        for uri, risks in zip(risky.column("uri").to_pylist(), risky.column("risks").to_pylist(), strict=True):
            self.risks_by_uri.setdefault(uri, set()).update(risks)

    def _briefs(self, objects: pa.Table) -> None:
        self.briefs.extend(objects.select(["uri", "label", "status"]).to_pylist())  # as _brief() makes them


def _write_current(
    store: StateStore,
    roots: Sequence[str],
    sink: ParquetSink,
    totals: _Totals,
    risks_by_uri: dict[str, set[str]],
    briefs: list[Row],
) -> dict[str, Entry]:
    """Write every current object's rows under ``roots`` (in URI order) and return the snapshot index.

    Rows still at the generation the last run's snapshot holds are copied from it as Arrow slices
    (consecutive objects as one slice); the others are unpacked from the store.
    """
    snapshot = Snapshot.open(store.path, store.snapshot_id())
    copier = _Copier(snapshot, sink, totals, risks_by_uri, briefs) if snapshot is not None else None
    index: dict[str, Entry] = {}
    try:
        for uri, generation in store.generations(roots):
            entry = snapshot.entry(uri, generation) if snapshot is not None else None
            if entry is not None and copier is not None:
                _, d0, d1, f0, f1, o0, o1 = entry
                ad, af, ao = copier.take(d0, d1, f0, f1, o0, o1)
                index[uri] = (generation, ad, ad + d1 - d0, af, af + f1 - f0, ao, ao + o1 - o0)
                continue
            if copier is not None:
                copier.flush()
            ad, af, ao = sink.count("documents"), sink.count("findings"), sink.count("objects")
            object_row, chunks = store.rows(uri)
            risks: set[str] = set()
            for documents, findings in chunks:
                sink.add("documents", documents)
                sink.add("findings", findings)
                totals.documents(documents)
                totals.findings += len(findings)
                for doc in documents:
                    risks.update(doc.get("risks") or ())
            sink.add("objects", [object_row])
            totals.object(object_row)
            if risks:
                risks_by_uri[uri] = risks
            briefs.append(_brief(object_row))
            index[uri] = (
                generation,
                ad,
                sink.count("documents"),
                af,
                sink.count("findings"),
                ao,
                sink.count("objects"),
            )
        if copier is not None:
            copier.flush(last=True)
    finally:
        if snapshot is not None:
            snapshot.close()
    return index


def _keep_snapshot(store: StateStore, sink: ParquetSink, index: dict[str, Entry]) -> None:
    """Keep the tables just written as the next run's snapshot (a failure only costs the next run time)."""
    try:
        snapshot_id = snapshot.save(
            store.path, {n: sink.path(n) for n in TABLES}, index, {n: sink.count(n) for n in TABLES}
        )
    except OSError as exc:
        log.warning("state snapshot not kept (the next run unpacks rows from the store): %s", exc)
        return
    store.point_snapshot(snapshot_id)
    snapshot.prune(store.path, keep=snapshot_id)


def _problem_rows(problem: ListingProblem) -> tuple[Row, Row]:
    obj = SourceObject(uri=problem.uri)
    from scanner.pipeline import document_row

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


def make_engine(
    settings: Settings, key: bytes, *, engine: str | None, workers: int | None, address: str | None = None
) -> Engine:
    name = engine or settings.scan.engine
    if name == "serial":
        from scanner.engines.serial import SerialEngine

        return SerialEngine(settings, key)
    if name == "local":
        from scanner.engines.local import LocalEngine

        count = workers if workers is not None else settings.scan.workers
        return LocalEngine(settings, key, workers=count or os.cpu_count() or 1)
    if name == "ray":
        from scanner.engines.ray import RayEngine

        ray = settings.scan.ray
        return RayEngine(
            settings,
            key,
            address=address if address is not None else ray.address,
            actors=workers if workers else ray.actors,
            cpus_per_actor=ray.cpus_per_actor,
            max_task_retries=ray.max_task_retries,
        )
    raise ValueError(f"unknown engine '{name}' (expected: local, serial, ray)")


@dataclass(slots=True)
class _Sharded:
    """The shards of one large object, their roll-ups kept in shard order until all are in."""

    sha256: str
    tallies: list[ObjectTally | None]

    def finish(self, obj: SourceObject, fmt: str) -> Row:
        from scanner.pipeline import ObjectTally, finish_object

        merged = ObjectTally()
        for tally in self.tallies:
            if tally is not None:
                merged.merge(tally)
        return finish_object(obj, fmt, "scanned", None, self.sha256, merged, problems=None)


def _shard_plan(item: SourceObject, settings: Settings, connectors: ConnectorRegistry) -> ShardPlan | None:
    """Shards for a large uncompressed JSON Lines object (one sequential read), else None."""
    shard_bytes = settings.scan.shard_bytes
    if not shard_bytes or (item.size or 0) <= shard_bytes or settings.scan.limits.max_records is not None:
        return None
    from scanner.extractors import choose
    from scanner.extractors.jsonfmt import JsonLinesExtractor
    from scanner.sharding import plan_shards

    choice = choose(item.name)
    if choice.extractor is not JsonLinesExtractor or choice.compression is not None:
        return None
    try:
        with connectors.for_uri(item.uri).open(item) as raw:
            plan = plan_shards(raw, shard_bytes=shard_bytes)
    except Exception:  # unreadable now: the unsharded task will report why
        return None
    return plan if plan is not None and len(plan.shards) > 1 else None


def _brief(object_row: Row) -> Row:
    return {"uri": object_row["uri"], "label": object_row["label"], "status": object_row["status"]}


def _root_key(root: str) -> str:
    """The form of a source root the state store keys objects by (local paths made absolute)."""
    return root if "://" in root else str(Path(root).resolve())


def scan(
    sources: Sequence[str],
    out_dir: str | Path,
    *,
    settings: Settings,
    engine: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    apply_labels: Literal["apply", "dry-run"] | None = None,
    state: str | Path | None = None,
    address: str | None = None,
    consumers: ConsumerPolicy | None = None,
    fail_on: Sequence[str] = (),
    office_in_place: bool = False,
) -> dict[str, Any]:
    """Scan every object under ``sources`` into ``out_dir``; returns the summary (also in ``summary.json``).

    With ``state`` (a SQLite path) the run is incremental: objects whose version and
    configuration fingerprint are unchanged are not read again, their stored rows are
    written as they were; what changed is in ``changes.json`` (see :mod:`scanner.state`).
    ``consumers`` adds each object's per-consumer decision to what is compared.
    ``fail_on`` conditions that hold are listed under ``summary["fail_on"]``.

    With ``apply_labels``, each scanned object's label is then written back to its store
    (``dry-run``: only reported), with the outcome per object in ``writeback.parquet``; Office files
    also get the label inside them, in a copy under ``OUT/labelled/`` (``office_in_place``: the file itself).
    """
    taxonomy = settings.labels.taxonomy
    try:
        conditions = [parse_condition(c, taxonomy) for c in fail_on]
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    store = StateStore(state) if state is not None else None
    try:
        return _scan(
            sources,
            Path(out_dir),
            settings=settings,
            engine=engine,
            workers=workers,
            progress=progress or _NoProgress(),
            apply_labels=apply_labels,
            office_in_place=office_in_place,
            address=address,
            store=store,
            consumers=consumers,
            conditions=conditions,
        )
    finally:
        if store is not None:
            store.close()


def _scan(
    sources: Sequence[str],
    out: Path,
    *,
    settings: Settings,
    engine: str | None,
    workers: int | None,
    progress: Progress,
    apply_labels: Literal["apply", "dry-run"] | None,
    office_in_place: bool,
    address: str | None,
    store: StateStore | None,
    consumers: ConsumerPolicy | None,
    conditions: Sequence[Condition],
) -> dict[str, Any]:
    started = datetime.now(UTC)
    clock = time.monotonic()
    key = load_or_create_key(settings.scan.fingerprint_key_file)
    connectors = ConnectorRegistry()
    taxonomy = settings.labels.taxonomy
    labeler = Labeler(settings.labels)
    totals = _Totals()
    sink = ParquetSink(out, tool_version=__version__)
    task_ids = iter(range(1 << 62))
    roots = [_root_key(root) for root in sources]
    scan_fp, label_fp = scan_fingerprint(settings, key), label_fingerprint(settings)
    run_id, resumed = store.begin_run(sources) if store is not None else (str(uuid.uuid4()), False)
    if store is not None:
        for key_root in roots:
            store.prefetch(key_root)
    in_flight: dict[int, tuple[SourceObject, ObjectResult]] = {}
    sharded: dict[str, _Sharded] = {}
    seen: set[str] = set()
    counts: Counter[str] = Counter()
    unchanged: set[str] = set()  # not read by this process (in a resumed run: some were done by the one before)

    # Open every listing and take its first item before any worker starts, so a missing or
    # unreachable source fails at once with one message.
    listings: list[tuple[str, str, Iterator[ListingItem]]] = []
    for root, key_root in zip(sources, roots, strict=True):
        listing = connectors.for_uri(root).iter_objects(root)
        first = next(listing, None)
        listings.append((root, key_root, itertools.chain([] if first is None else [first], listing)))
    # TDMRep files at each root and above it (only when the rights classifier runs)
    sites = {
        root: tdmrep.load_sites(root, connectors) if settings.classifiers.rights.enabled else () for root in sources
    }
    object_fp: dict[str, str] = {}

    def tasks() -> Iterator[ScanTask]:
        for root, key_root, listing in listings:
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
                seen.add(item.uri)
                declared = tdmrep.declarations(item, sites[root]) if settings.classifiers.rights.enabled else ()
                # a changed tdmrep.json rule or TDM metadata rescans the object, as a changed configuration does
                item_fp = tdmrep.fingerprint(scan_fp, declared)
                if item_fp != scan_fp:
                    object_fp[item.uri] = item_fp
                same = store.unchanged(item.uri, item.version, item_fp) if store is not None else None
                if store is not None and same is not None:
                    if same.label_fp != label_fp:
                        known = store.known(item.uri)
                        assert known is not None
                        _relabel(
                            store, item.uri, key_root, known, labeler, taxonomy, consumers, run_id, item_fp, label_fp
                        )
                        counts["relabelled_from_findings"] += 1
                    unchanged.add(item.uri)
                    progress.object_done({"status": same.status, "size_bytes": item.size or 0})
                    continue
                from scanner.pipeline import ScanTask  # (here: an unchanged rerun never needs the classifiers)

                result = ObjectResult(key_root, store.known(item.uri) if store is not None else None)
                plan = _shard_plan(item, settings, connectors)
                if plan is None:
                    task = ScanTask(next(task_ids), item, declared=declared)
                    in_flight[task.task_id] = (item, result)
                    yield task
                    continue
                sharded[item.uri] = _Sharded(plan.sha256, [None] * len(plan.shards))
                for shard in plan.shards:
                    task = ScanTask(next(task_ids), item, shard, declared=declared)
                    in_flight[task.task_id] = (item, result)
                    yield task
        progress.listing_done()

    risks_by_uri: dict[str, set[str]] = {}
    objects_for_report: list[Row] = []
    runner = None
    try:
        # Workers (and their models) start only if there is something to scan: an unchanged
        # incremental rerun lists, compares and writes, nothing more.
        pending = tasks()
        first_task = next(pending, None)
        outputs: Iterator[TaskOutput] = iter(())
        if first_task is not None:
            runner = make_engine(settings, key, engine=engine, workers=workers, address=address)
            outputs = runner.run(itertools.chain([first_task], pending))
        for output in outputs:
            obj, result = in_flight[output.task_id]
            if store is None:
                sink.add("documents", output.documents)
                sink.add("findings", output.findings)
                totals.documents(output.documents)
                totals.findings += len(output.findings)
                for doc in output.documents:
                    risks_by_uri.setdefault(doc["uri"], set()).update(doc.get("risks") or ())
            else:
                store.stage(obj.uri, output.documents, output.findings)
                result.add(output.documents, consumers, taxonomy)
            if output.object_row is None:
                continue
            del in_flight[output.task_id]
            if output.tally is not None:  # a shard: the object is done when all its shards are
                parts = sharded[obj.uri]
                parts.tallies[output.tally_index] = output.tally
                if any(tally is None for tally in parts.tallies):
                    continue
                output.object_row = parts.finish(obj, output.object_row["format"])
                del sharded[obj.uri]
            progress.object_done(output.object_row)
            if store is None:
                sink.add("objects", [output.object_row])
                totals.object(output.object_row)
                objects_for_report.append(_brief(output.object_row))
                continue
            change = result.change(output.object_row)
            counts["rescanned"] += 1
            store.commit_object(
                root=result.root,
                object_row=output.object_row,
                scan_fp=object_fp.get(obj.uri, scan_fp),
                label_fp=label_fp,
                risks=sorted(result.risks),
                decisions=result.decisions,
                change=change,
                run_id=run_id,
            )
        index: dict[str, Entry] = {}
        if store is not None:
            store.delete_missing(roots, seen, run_id)
            index = _write_current(store, roots, sink, totals, risks_by_uri, objects_for_report)
        elapsed = time.monotonic() - clock
        summary: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "tool_version": __version__,
            "run_id": run_id,
            "started": (store.run_started(run_id) if store is not None else started.isoformat()),
            "finished": datetime.now(UTC).isoformat(),
            "seconds": round(elapsed, 3),
            "sources": list(sources),
            "config": settings.sources,
            "objects": dict(sorted(totals.objects.items())),
            "units": dict(sorted(totals.units.items())),
            "labels": {
                "units": _ranked(totals.unit_labels),
                "objects": _ranked(totals.object_labels),
                "methods": _ranked(totals.unit_methods),
                "conflicts": {
                    "units": _ranked(totals.unit_conflicts),
                    "objects": _ranked(totals.object_conflicts),
                },
            },
            "entities": _ranked(totals.entities),
            "findings": totals.findings,
            "bytes": {"listed": totals.bytes_listed, "scanned": totals.bytes_scanned},
            "bytes_per_second": round(totals.bytes_listed / elapsed) if elapsed > 0 else None,
        }
        changes: list[Change] = []
        if store is not None:
            changes = store.changes(run_id)
            kinds = Counter(c.change for c in changes)
            counts["unchanged"] = len(unchanged - {c.uri for c in changes})
            summary["incremental"] = {
                "state": str(store.path),
                "resumed": resumed,
                "new": kinds["new"],
                "changed": kinds["changed"],
                "deleted": kinds["deleted"],
                "relabelled": kinds["relabelled"],
                "unchanged": counts["unchanged"],
                "rescanned": counts["rescanned"],
                "relabelled_from_findings": counts["relabelled_from_findings"],
            }
            report = change_report(
                run_id=run_id,
                previous_run_id=store.previous_run(run_id),
                started=summary["started"],
                finished=summary["finished"],
                sources=sources,
                changes=changes,
                counts={
                    **{k: kinds[k] for k in ("new", "changed", "deleted", "relabelled")},
                    "unchanged": counts["unchanged"],
                    "touched": kinds["touched"],
                },
                history=[
                    *store.history(),
                    {"run_id": run_id, "finished": summary["finished"], "labels": summary["labels"]["objects"]},
                ],
                entities=summary["entities"],
                objects=objects_for_report,
                taxonomy=taxonomy,
            )
            write_json_atomic(out / "changes.json", report)
            from scanner.report import write_report

            write_report(out)
        if conditions:
            summary["fail_on"] = fail_on_hits(
                conditions,
                objects=objects_for_report,
                documents_risks=risks_by_uri,
                changes=changes,
                taxonomy=taxonomy,
            )
        sink.commit(summary)
        if store is not None:
            _keep_snapshot(store, sink, index)
            store.finish_run(run_id, summary)
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


def _relabel(
    store: StateStore,
    uri: str,
    root: str,
    known: Known,
    labeler: Labeler,
    taxonomy: Taxonomy,
    consumers: ConsumerPolicy | None,
    run_id: str,
    scan_fp: str,
    label_fp: str,
) -> None:
    """Apply changed label rules to an unchanged object's stored findings (nothing is read from the store)."""
    object_row, chunks = store.rows(uri)
    object_row, relabelled = relabel(object_row, list(chunks), labeler)
    result = ObjectResult(root, known)
    for documents, findings in relabelled:
        store.stage(uri, documents, findings)
        result.add(documents, consumers, taxonomy)
    store.commit_object(
        root=root,
        object_row=object_row,
        scan_fp=scan_fp,
        label_fp=label_fp,
        risks=sorted(result.risks),
        decisions=result.decisions,
        change=change if (change := result.change(object_row)).change != "touched" else None,  # not read again
        run_id=run_id,
    )
