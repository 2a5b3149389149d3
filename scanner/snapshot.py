"""The last incremental run's output rows, kept beside the state store so unchanged objects' rows are copied.

After every finished ``--state`` run, the three Parquet tables it wrote are kept
(hard-linked, or copied where a link cannot be made) under
``STATE.snapshot/<id>/`` with an index: for every object, the generation its rows
had in the store and where they lie in each table. The next run takes the rows
of every object whose generation is still the same straight from there, as Arrow
slices of whole row groups: nothing is unpacked into Python objects or rebuilt
row by row, which is what made an unchanged rerun cost as much as its listing.

The SQLite store stays the source of truth. An object whose generation moved,
and every object when the snapshot is missing, damaged, of another schema or
not the one the store points to, gets its rows from the store as before.
Generations are never reused below a snapshot's highest one (the store starts
its counter above it), so an equal generation means the very rows indexed here.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import logging
import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from scanner.sinks import TABLES

log = logging.getLogger(__name__)

_INDEX = "index.json.zst"

#: Where an object's rows lie: its generation, then [lo, hi) in documents, findings and objects.
Entry = tuple[int, int, int, int, int, int, int]


def directory(state: Path) -> Path:
    return state.with_name(f"{state.name}.snapshot")


class _Rows:
    """One snapshot table, read a row group at a time (the last one kept: access is mostly in order)."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.file = pq.ParquetFile(path, memory_map=True)
        if not self.file.schema_arrow.equals(TABLES[name], check_metadata=False):
            raise ValueError(f"{path.name} has another schema")
        meta = self.file.metadata
        self.starts = list(
            itertools.accumulate((meta.row_group(i).num_rows for i in range(meta.num_row_groups)), initial=0)
        )
        self._cached: tuple[int, pa.Table] | None = None

    @property
    def num_rows(self) -> int:
        return int(self.starts[-1])

    def _group(self, i: int) -> pa.Table:
        if self._cached is None or self._cached[0] != i:
            self._cached = (i, self.file.read_row_group(i))
        return self._cached[1]

    def slice(self, lo: int, hi: int) -> pa.Table:
        parts = []
        i = bisect.bisect_right(self.starts, lo) - 1
        while lo < hi:
            end = min(hi, self.starts[i + 1])
            parts.append(self._group(i).slice(lo - self.starts[i], end - lo))
            lo, i = end, i + 1
        return parts[0] if len(parts) == 1 else pa.concat_tables(parts)

    def columns(self, names: list[str]) -> pa.Table:
        return self.file.read(columns=names)

    def close(self) -> None:
        self._cached = None
        self.file.close()


class Snapshot:
    """A readable snapshot: which objects it holds at which generation, and their rows."""

    def __init__(self, path: Path, entries: Mapping[str, Sequence[int]], tables: Mapping[str, _Rows]) -> None:
        self.path = path
        self._entries = entries
        self.tables = tables

    @classmethod
    def open(cls, state: Path, snapshot_id: str | None) -> Snapshot | None:
        """The snapshot the store points to, or None (then every row comes from the store)."""
        if snapshot_id is None:
            return None
        path = directory(state) / snapshot_id
        tables: dict[str, _Rows] = {}
        try:
            index = orjson.loads(zstandard.ZstdDecompressor().decompress((path / _INDEX).read_bytes()))
            for name in TABLES:
                tables[name] = _Rows(path / f"{name}.parquet", name)
                if tables[name].num_rows != index["rows"][name]:
                    raise ValueError(
                        f"{name}.parquet holds {tables[name].num_rows} rows, the index says {index['rows'][name]}"
                    )
        except (OSError, ValueError, KeyError, TypeError, zstandard.ZstdError, pa.ArrowException) as exc:
            for table in tables.values():
                table.close()
            log.warning("state snapshot %s not used (rows come from the store): %s", path, exc)
            return None
        return cls(path, index["objects"], tables)

    def entry(self, uri: str, generation: int) -> Sequence[int] | None:
        """Where ``uri``'s rows lie, if the snapshot holds them at ``generation``."""
        entry = self._entries.get(uri)
        return entry if entry is not None and entry[0] == generation else None

    def close(self) -> None:
        for table in self.tables.values():
            table.close()


def save(state: Path, files: Mapping[str, Path], objects: Mapping[str, Entry], rows: Mapping[str, int]) -> str:
    """Keep ``files`` (the tables just written) and the index as a new snapshot; returns its id.

    The caller points the store at the id afterwards; until then the previous snapshot stays in use.
    """
    snapshot_id = uuid.uuid4().hex
    root = directory(state)
    partial = root / f"{snapshot_id}.partial"
    partial.mkdir(parents=True)
    try:
        for name in TABLES:
            target = partial / f"{name}.parquet"
            try:
                os.link(files[name], target)
            except OSError:  # another filesystem, or links not allowed: a copy
                shutil.copyfile(files[name], target)
        index: dict[str, Any] = {"rows": dict(rows), "objects": objects}
        (partial / _INDEX).write_bytes(zstandard.ZstdCompressor(level=3).compress(orjson.dumps(index)))
        os.replace(partial, root / snapshot_id)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return snapshot_id


def prune(state: Path, keep: str | None) -> None:
    """Remove every snapshot but ``keep`` (left-overs of crashed runs included)."""
    root = directory(state)
    with contextlib.suppress(FileNotFoundError):
        for child in root.iterdir():
            if child.name != keep:
                shutil.rmtree(child, ignore_errors=True)
