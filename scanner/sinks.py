"""Outputs of a scan: Parquet tables and a JSON summary, written atomically.

Rows stream into ``.<name>.partial`` files; only when the scan finishes are
they fsynced and renamed into place, and ``summary.json`` is written last. A
crashed scan therefore never leaves a half-written file under a final name.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

#: 2: label provenance columns (``label_method``, ``content_label[_id]``, ``existing_label[_id|_method|_source]``,
#: ``label_conflict``) appended to documents and objects; version-1 columns unchanged.
#: 3: ``rights`` (the unit's rights signals, classifiers/rights.py) appended to documents; version-2 columns unchanged.
#: 4: ``rights`` (the roll-up of the units' rights signals, a struct) appended to objects; version-3 columns unchanged.
SCHEMA_VERSION = "4"

_COUNTS = pa.map_(pa.string(), pa.int64())

#: Appended in schema version 2 to documents and objects: how the label came about.
LABEL_PROVENANCE = [
    pa.field("label_method", pa.string()),
    pa.field("content_label", pa.string()),
    pa.field("content_label_id", pa.string()),
    pa.field("existing_label", pa.string()),
    pa.field("existing_label_id", pa.string()),
    pa.field("existing_label_method", pa.string()),
    pa.field("existing_label_source", pa.string()),
    pa.field("label_conflict", pa.string()),
]

DOCUMENTS = pa.schema(
    [
        pa.field("uri", pa.string(), nullable=False),
        pa.field("record", pa.int64()),
        pa.field("member", pa.string()),
        pa.field("content_sha256", pa.string()),
        pa.field("size_bytes", pa.int64()),
        pa.field("format", pa.string()),
        pa.field("label", pa.string()),
        pa.field("label_id", pa.string()),
        pa.field("label_rule", pa.string()),
        pa.field("entity_counts", _COUNTS),
        pa.field("risks", pa.list_(pa.string())),
        pa.field("status", pa.string(), nullable=False),
        pa.field("reason", pa.string()),
        pa.field("partial", pa.bool_()),
        pa.field("version", pa.string()),
        *LABEL_PROVENANCE,
        pa.field("rights", pa.list_(pa.string())),
    ]
)

FINDINGS = pa.schema(
    [
        pa.field("uri", pa.string(), nullable=False),
        pa.field("record", pa.int64()),
        pa.field("member", pa.string()),
        pa.field("field", pa.string()),
        pa.field("entity_type", pa.string(), nullable=False),
        pa.field("start", pa.int64(), nullable=False),
        pa.field("end", pa.int64(), nullable=False),
        pa.field("score", pa.float64()),
        pa.field("confidence", pa.string()),
        pa.field("classifier", pa.string()),
        pa.field("detector", pa.string()),
        pa.field("fingerprint", pa.string()),
        pa.field("masked", pa.string()),
    ]
)

#: Appended in schema version 4 to objects: the units' rights signals rolled up, most restrictive wins.
RIGHTS_ROLLUP = pa.struct(
    [
        pa.field("licence_families", pa.list_(pa.string())),
        pa.field("tdm_reserved", pa.bool_()),
        pa.field("ai_opt_out", pa.bool_()),
        pa.field("c2pa_state", pa.string()),
        pa.field("c2pa_not_allowed", pa.list_(pa.string())),
        pa.field("signals", pa.list_(pa.string())),
    ]
)

OBJECTS = pa.schema(
    [
        pa.field("uri", pa.string(), nullable=False),
        pa.field("version", pa.string()),
        pa.field("last_modified", pa.string()),
        pa.field("size_bytes", pa.int64()),
        pa.field("format", pa.string()),
        pa.field("content_sha256", pa.string()),
        pa.field("status", pa.string(), nullable=False),
        pa.field("reason", pa.string()),
        pa.field("partial", pa.bool_()),
        pa.field("units_scanned", pa.int64()),
        pa.field("units_skipped", pa.int64()),
        pa.field("units_failed", pa.int64()),
        pa.field("label", pa.string()),
        pa.field("label_id", pa.string()),
        pa.field("entity_counts", _COUNTS),
        pa.field("metadata", pa.map_(pa.string(), pa.string())),
        pa.field("tags", pa.map_(pa.string(), pa.string())),
        *LABEL_PROVENANCE,
        pa.field("rights", RIGHTS_ROLLUP),
    ]
)

TABLES: Mapping[str, pa.Schema] = {"documents": DOCUMENTS, "findings": FINDINGS, "objects": OBJECTS}


def conform(table: pa.Table, name: str) -> pa.Table:
    """A table of an older schema version read as the current one: columns it lacks are added as nulls.

    Columns are only ever appended between versions, so a reader written for an older
    version keeps working on newer files, and this brings older files up to date.
    """
    schema = TABLES[name]
    columns = [
        table.column(f.name) if f.name in table.column_names else pa.nulls(table.num_rows, f.type) for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema.with_metadata(table.schema.metadata or {}))


def _with_metadata(schema: pa.Schema, tool_version: str) -> pa.Schema:
    return schema.with_metadata({"ingestguard.schema_version": SCHEMA_VERSION, "ingestguard.version": tool_version})


class _TableWriter:
    def __init__(self, final: Path, schema: pa.Schema, batch_rows: int) -> None:
        self.final = final
        self.partial = final.with_name(f".{final.name}.partial")
        self.schema = schema
        self.rows: list[dict[str, Any]] = []
        self.tables: list[pa.Table] = []  # pending, in order, with ``rows`` after them
        self.pending = 0
        self.batch_rows = batch_rows
        self.count = 0  # rows added so far: the next row's index in the file
        self.writer = pq.ParquetWriter(self.partial, schema, compression="zstd")

    def add(self, rows: list[dict[str, Any]]) -> None:
        self.rows.extend(rows)
        self._added(len(rows))

    def add_table(self, table: pa.Table) -> None:
        if not table.schema.equals(self.schema, check_metadata=False):
            raise ValueError(f"{self.final.name}: rows of another schema")
        self._rows_to_table()
        self.tables.append(table)
        self._added(table.num_rows)

    def _added(self, n: int) -> None:
        self.count += n
        self.pending += n
        if self.pending >= self.batch_rows:
            self.flush()

    def _rows_to_table(self) -> None:
        if self.rows:
            self.tables.append(pa.Table.from_pylist(self.rows, schema=self.schema))
            self.rows = []

    def flush(self) -> None:
        self._rows_to_table()
        if self.tables:
            table = self.tables[0] if len(self.tables) == 1 else pa.concat_tables(self.tables)
            self.writer.write_table(table.replace_schema_metadata(self.schema.metadata))
            self.tables = []
            self.pending = 0

    def adopt(self, source: Path, rows: int) -> None:
        """Take ``source``, a file of this table's schema, as the whole table (nothing added yet)."""
        if self.count or self.rows or self.tables:
            raise ValueError(f"{self.final.name}: rows were added before a whole file was adopted")
        self.writer.close()
        shutil.copyfile(source, self.partial)
        self.count = rows

    def commit(self) -> None:
        self.flush()
        self.writer.close()
        _fsync(self.partial)
        os.replace(self.partial, self.final)

    def abort(self) -> None:
        try:
            self.writer.close()
        finally:
            self.partial.unlink(missing_ok=True)


class ParquetSink:
    """Writes ``documents``, ``findings`` and ``objects`` tables and ``summary.json`` into ``out_dir``."""

    def __init__(self, out_dir: Path, *, tool_version: str, batch_rows: int = 10_000) -> None:
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        self._tables = {
            name: _TableWriter(out_dir / f"{name}.parquet", _with_metadata(schema, tool_version), batch_rows)
            for name, schema in TABLES.items()
        }

    def add(self, table: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            self._tables[table].add(rows)

    def add_table(self, table: str, rows: pa.Table) -> None:
        """Rows already in Arrow form (of that table's schema), written after those added before."""
        if rows.num_rows:
            self._tables[table].add_table(rows)

    def adopt(self, table: str, source: Path, rows: int) -> None:
        """Copy ``source`` (a complete file of the same table, schema and tool version) as ``table``."""
        self._tables[table].adopt(source, rows)

    def count(self, table: str) -> int:
        """Rows added to ``table`` so far (the index the next one will have in the file)."""
        return self._tables[table].count

    def path(self, table: str) -> Path:
        return self.out_dir / f"{table}.parquet"

    def commit(self, summary: Mapping[str, Any]) -> None:
        for writer in self._tables.values():
            writer.commit()
        write_json_atomic(self.out_dir / "summary.json", summary)
        _fsync_dir(self.out_dir)

    def abort(self) -> None:
        for writer in self._tables.values():
            writer.abort()


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    _fsync(tmp)
    os.replace(tmp, path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be fsynced
        _fsync(path)
