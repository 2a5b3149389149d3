"""The state store of incremental scans: what every object looked like when it was last scanned.

An embedded SQLite database (``scan --state PATH``) holds, per object, the
version the store reported (ETag, version id, ``mtime:size``), its content
hash, the fingerprints of the classifier and label configuration it was
scanned with, its object row and its document and finding rows. A rerun
lists the sources and reads only what is new or changed; everything else is
taken from here without a request to the store.

Crash safety: an object's rows are staged under a fresh *generation* and
become current in one transaction with its object record, so a run killed at
any point leaves every object either at its old or at its new state; staged
rows of unfinished objects are dropped when the next run opens the store. A
run that did not finish is resumed by the next one under the same run id, so
its change report covers both. One run at a time: an exclusive lock on
``PATH.lock`` (released by the OS if the process dies) refuses a second.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote

import orjson
import zstandard

from scanner.errors import IngestguardError

Row = dict[str, Any]

SCHEMA = 1

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL UNIQUE,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL,
    sources TEXT NOT NULL,
    summary TEXT
);
CREATE TABLE IF NOT EXISTS objects (
    uri TEXT PRIMARY KEY,
    root TEXT NOT NULL,
    version TEXT,
    content_sha256 TEXT,
    scan_fp TEXT NOT NULL,
    label_fp TEXT NOT NULL,
    generation INTEGER NOT NULL,
    status TEXT NOT NULL,
    label TEXT,
    risks TEXT NOT NULL,
    decisions TEXT NOT NULL,
    object_row BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_root ON objects (root);
-- what a rerun compares for every listed object, read from the index alone (not the rows' blobs)
CREATE INDEX IF NOT EXISTS objects_quick ON objects (root, uri, version, scan_fp, label_fp, status, generation);
CREATE TABLE IF NOT EXISTS chunks (
    uri TEXT NOT NULL,
    generation INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    documents BLOB NOT NULL,
    findings BLOB NOT NULL,
    PRIMARY KEY (uri, generation, seq)
);
CREATE TABLE IF NOT EXISTS changes (
    run_id TEXT NOT NULL,
    uri TEXT NOT NULL,
    change TEXT NOT NULL,
    old_label TEXT,
    new_label TEXT,
    old_risks TEXT NOT NULL,
    new_risks TEXT NOT NULL,
    old_decisions TEXT NOT NULL,
    new_decisions TEXT NOT NULL,
    entity_counts TEXT NOT NULL,
    PRIMARY KEY (run_id, uri)
);
"""


class StateError(IngestguardError):
    """The state store cannot be used (locked by another run, unreadable, from a newer version)."""


class Known(NamedTuple):
    """What the store remembers of one object (a row as it comes from SQLite: a rerun looks at the
    version and fingerprints of every object; risks and decisions are parsed only for those that changed)."""

    uri: str
    version: str | None
    content_sha256: str | None
    scan_fp: str
    label_fp: str
    generation: int
    status: str
    label: str | None
    risks_json: str
    decisions_json: str

    @property
    def risks(self) -> tuple[str, ...]:
        return tuple(orjson.loads(self.risks_json))

    @property
    def decisions(self) -> Mapping[str, str]:
        return dict(orjson.loads(self.decisions_json))


@dataclass(frozen=True, slots=True)
class Change:
    """One object's change in a run, as the change report shows it."""

    uri: str
    change: str  # new | changed | deleted | relabelled
    old_label: str | None
    new_label: str | None
    old_risks: tuple[str, ...]
    new_risks: tuple[str, ...]
    old_decisions: Mapping[str, str]
    new_decisions: Mapping[str, str]
    entity_counts: Mapping[str, int]


def state_path(spec: str | Path) -> Path:
    """The database a ``--state`` value or ``state:`` setting names: a path, ``file://`` or ``sqlite:///`` URL.

    The state is locked and written in place, so it lives on a local (or mounted) filesystem;
    a URL of an object store is refused rather than silently taken for a relative path.
    """
    text = str(spec)
    if "://" not in text:
        return Path(text).expanduser()
    scheme, rest = text.split("://", 1)
    if scheme == "file" and rest.startswith(("/", "localhost/")):
        return Path(unquote(rest.removeprefix("localhost")))
    if scheme == "sqlite":  # SQLAlchemy's form: sqlite:///relative/path, sqlite:////absolute/path
        if not rest.startswith("/") or len(rest) < 2:
            raise StateError(f"state URL {text}: write sqlite:///relative/path or sqlite:////absolute/path")
        return Path(unquote(rest[1:])).expanduser()
    raise StateError(
        f"state URL {text}: the state is a local SQLite database (a path, file:///… or sqlite:///…); "
        "it is locked and written in place, which an object store cannot do: mount a volume instead"
    )


def fingerprint(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:32]


_COMPRESS = zstandard.ZstdCompressor(level=3)
_DECOMPRESS = zstandard.ZstdDecompressor()


def _pack(value: Any) -> bytes:
    return _COMPRESS.compress(orjson.dumps(value, default=str))


def _unpack(blob: bytes) -> Any:
    return orjson.loads(_DECOMPRESS.decompress(blob))


_KNOWN_COLUMNS = "uri, version, content_sha256, scan_fp, label_fp, generation, status, label, risks, decisions"
_QUICK_COLUMNS = "version, scan_fp, label_fp, status"


class Quick(NamedTuple):
    """The part of an object's record a rerun compares for every listed object."""

    version: str | None
    scan_fp: str
    label_fp: str
    status: str


class StateStore:
    """One SQLite state database, locked for the lifetime of this object (use as a context manager)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = open(f"{self.path}.lock", "a+")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.seek(0)
            holder = self._lock.read().strip() or "another process"
            self._lock.close()
            raise StateError(f"state {self.path} is in use by another run ({holder}); not starting a second") from None
        self._lock.seek(0)
        self._lock.truncate()
        self._lock.write(f"pid {os.getpid()} since {datetime.now(UTC).isoformat(timespec='seconds')}\n")
        self._lock.flush()
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing
            self._db.executescript(_DDL)
            schema = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if schema is None:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
            elif int(schema[0]) > SCHEMA:
                raise StateError(f"state {self.path} was written by a newer ingestguard (schema {schema[0]})")
        except sqlite3.DatabaseError as exc:
            self._unlock()
            raise StateError(f"state {self.path} is not a usable SQLite database: {exc}") from exc
        last = self._db.execute("SELECT status FROM runs ORDER BY seq DESC LIMIT 1").fetchone()
        self._clean = last is None or last[0] == "finished"  # else staged rows of a dead run may be left
        recorded = self._db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        if self._clean and recorded is not None:  # every generation handed out so far is at most this
            self._generation = int(recorded[0])
        else:
            self._generation = (
                self._db.execute(
                    "SELECT MAX(g) FROM (SELECT MAX(generation) AS g FROM objects "
                    "UNION ALL SELECT MAX(generation) FROM chunks)"
                ).fetchone()[0]
                or 0
            )
        pointer = self._snapshot_pointer()
        if pointer is not None:  # generations are never reused below a snapshot's highest (see scanner.snapshot)
            self._generation = max(self._generation, int(pointer["max_generation"]))
        self._staged: dict[str, tuple[int, int]] = {}  # uri → (generation, next chunk seq)
        self._known: dict[str, tuple[Any, ...]] = {}  # prefetched Quick rows

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self._unlock()

    def _unlock(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- runs ----------------------------------------------------------------------------------

    def begin_run(self, sources: Sequence[str]) -> tuple[str, bool]:
        """Start a run, or resume the last one if it never finished; returns (run id, resumed).

        Staged rows of objects that were in flight when a run died are dropped here.
        """
        with self._transaction() as db:
            if not self._clean:  # only a run that did not finish leaves staged rows behind
                db.execute(
                    "DELETE FROM chunks WHERE NOT EXISTS (SELECT 1 FROM objects o "
                    "WHERE o.uri = chunks.uri AND o.generation = chunks.generation)"
                )
            last = db.execute("SELECT run_id, status, sources FROM runs ORDER BY seq DESC LIMIT 1").fetchone()
            if last is not None and last[1] == "running" and json.loads(last[2]) == list(sources):
                return str(last[0]), True
            if last is not None and last[1] == "running":
                db.execute("UPDATE runs SET status='abandoned' WHERE run_id=?", (last[0],))
            run_id = str(uuid.uuid4())
            db.execute(
                "INSERT INTO runs (run_id, started, status, sources) VALUES (?, ?, 'running', ?)",
                (run_id, datetime.now(UTC).isoformat(), json.dumps(list(sources))),
            )
            return run_id, False

    def finish_run(self, run_id: str, summary: Mapping[str, Any]) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE runs SET status='finished', finished=?, summary=? WHERE run_id=?",
                (datetime.now(UTC).isoformat(), json.dumps(summary, default=str), run_id),
            )
            db.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (str(self._generation),))

    def run_started(self, run_id: str) -> str:
        row = self._db.execute("SELECT started FROM runs WHERE run_id=?", (run_id,)).fetchone()
        return str(row[0]) if row else datetime.now(UTC).isoformat()

    def previous_run(self, run_id: str) -> str | None:
        row = self._db.execute(
            "SELECT run_id FROM runs WHERE status='finished' AND seq < (SELECT seq FROM runs WHERE run_id=?) "
            "ORDER BY seq DESC LIMIT 1",
            (run_id,),
        ).fetchone()
        return str(row[0]) if row else None

    def history(self, limit: int = 60) -> list[dict[str, Any]]:
        """Finished runs, oldest first: run id, finish time and object counts per label."""
        rows = self._db.execute(
            "SELECT run_id, finished, summary FROM runs WHERE status='finished' ORDER BY seq DESC LIMIT ?", (limit,)
        ).fetchall()
        out = []
        for run_id, finished, summary in reversed(rows):
            labels = (json.loads(summary or "{}").get("labels") or {}).get("objects") or {}
            out.append({"run_id": run_id, "finished": finished, "labels": labels})
        return out

    # -- objects -------------------------------------------------------------------------------

    def prefetch(self, root: str, *, limit: int = 2_000_000) -> None:
        """Load what is known of every object under ``root`` in one query (a rerun asks for each of
        them); above ``limit`` objects each is looked up on its own instead, to bound memory."""
        count = self._db.execute("SELECT COUNT(*) FROM objects WHERE root=?", (root,)).fetchone()[0]
        if count > limit:
            return
        self._known.update(
            (row[0], row[1:])
            for row in self._db.execute(f"SELECT uri, {_QUICK_COLUMNS} FROM objects WHERE root=?", (root,))
        )

    def unchanged(self, uri: str, version: str | None, scan_fp: str) -> Quick | None:
        """What is known of ``uri`` if it was scanned at this version with this fingerprint and did
        not fail (then it is not read again), else None."""
        row = self._known.pop(uri, None)
        if row is None:
            row = self._db.execute(f"SELECT {_QUICK_COLUMNS} FROM objects WHERE uri=?", (uri,)).fetchone()
        if row is None or version is None:
            return None
        quick = Quick._make(row)
        return quick if quick.version == version and quick.scan_fp == scan_fp and quick.status != "failed" else None

    def known(self, uri: str) -> Known | None:
        """All that is known of ``uri`` (None: a new object)."""
        row = self._db.execute(f"SELECT {_KNOWN_COLUMNS} FROM objects WHERE uri=?", (uri,)).fetchone()
        return None if row is None else Known._make(row)

    def stage(self, uri: str, documents: list[Row], findings: list[Row]) -> None:
        """Keep one chunk of an object's rows under its new generation (not yet current)."""
        if uri not in self._staged:
            self._generation += 1
            self._staged[uri] = (self._generation, 0)
        generation, seq = self._staged[uri]
        self._db.execute(
            "INSERT INTO chunks (uri, generation, seq, documents, findings) VALUES (?, ?, ?, ?, ?)",
            (uri, generation, seq, _pack(documents), _pack(findings)),
        )
        self._staged[uri] = (generation, seq + 1)

    def commit_object(
        self,
        *,
        root: str,
        object_row: Row,
        scan_fp: str,
        label_fp: str,
        risks: Sequence[str],
        decisions: Mapping[str, str],
        change: Change | None,
        run_id: str,
    ) -> None:
        """Make an object's staged rows current, with its record and its change, in one transaction."""
        uri = object_row["uri"]
        generation, _ = self._staged.pop(uri, (None, 0))
        if generation is None:
            self._generation += 1
            generation = self._generation
        with self._transaction() as db:
            db.execute("DELETE FROM chunks WHERE uri=? AND generation<>?", (uri, generation))
            db.execute(
                "INSERT OR REPLACE INTO objects (uri, root, version, content_sha256, scan_fp, label_fp, generation, "
                "status, label, risks, decisions, object_row) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    uri,
                    root,
                    object_row.get("version"),
                    object_row.get("content_sha256"),
                    scan_fp,
                    label_fp,
                    generation,
                    object_row["status"],
                    object_row.get("label"),
                    json.dumps(sorted(risks)),
                    json.dumps(dict(decisions), sort_keys=True),
                    _pack(object_row),
                ),
            )
            if change is not None:
                self._record(db, run_id, change)

    def delete_missing(self, roots: Sequence[str], seen: set[str], run_id: str) -> list[Change]:
        """Forget objects under ``roots`` that this run's complete listing did not see; returns them."""
        gone: list[Change] = []
        for root in roots:
            missing = [u for (u,) in self._db.execute("SELECT uri FROM objects WHERE root=?", (root,)) if u not in seen]
            for uri in missing:
                label, risks, decisions = self._db.execute(
                    "SELECT label, risks, decisions FROM objects WHERE uri=?", (uri,)
                ).fetchone()
                change = Change(
                    uri, "deleted", label, None, tuple(json.loads(risks)), (), json.loads(decisions), {}, {}
                )
                with self._transaction() as db:
                    db.execute("DELETE FROM chunks WHERE uri=?", (uri,))
                    db.execute("DELETE FROM objects WHERE uri=?", (uri,))
                    self._record(db, run_id, change)
                gone.append(change)
        return gone

    @staticmethod
    def _record(db: sqlite3.Connection, run_id: str, c: Change) -> None:
        db.execute(
            "INSERT OR REPLACE INTO changes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                c.uri,
                c.change,
                c.old_label,
                c.new_label,
                json.dumps(list(c.old_risks)),
                json.dumps(list(c.new_risks)),
                json.dumps(dict(c.old_decisions), sort_keys=True),
                json.dumps(dict(c.new_decisions), sort_keys=True),
                json.dumps(dict(c.entity_counts), sort_keys=True),
            ),
        )

    def changes(self, run_id: str) -> list[Change]:
        rows = self._db.execute("SELECT * FROM changes WHERE run_id=? ORDER BY uri", (run_id,)).fetchall()
        return [
            Change(
                r[1],
                r[2],
                r[3],
                r[4],
                tuple(json.loads(r[5])),
                tuple(json.loads(r[6])),
                json.loads(r[7]),
                json.loads(r[8]),
                json.loads(r[9]),
            )
            for r in rows
        ]

    def rows(self, uri: str) -> tuple[Row, Iterator[tuple[list[Row], list[Row]]]]:
        """An object's current object row and its (documents, findings) chunks in order."""
        row = self._db.execute("SELECT object_row, generation FROM objects WHERE uri=?", (uri,)).fetchone()
        if row is None:
            raise KeyError(uri)
        object_row, generation = _unpack(row[0]), row[1]

        def chunks() -> Iterator[tuple[list[Row], list[Row]]]:
            cursor = self._db.execute(
                "SELECT documents, findings FROM chunks WHERE uri=? AND generation=? ORDER BY seq", (uri, generation)
            )
            for documents, findings in cursor:
                yield _unpack(documents), _unpack(findings)

        return object_row, chunks()

    def generations(self, roots: Sequence[str]) -> Iterator[tuple[str, int]]:
        """Every current object under ``roots`` with the generation of its rows, in output order."""
        for root in roots:
            yield from self._db.execute("SELECT uri, generation FROM objects WHERE root=? ORDER BY uri", (root,))

    # -- the snapshot of the last run's rows (scanner.snapshot) ---------------------------------

    def _snapshot_pointer(self) -> dict[str, Any] | None:
        row = self._db.execute("SELECT value FROM meta WHERE key='snapshot'").fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def snapshot_id(self) -> str | None:
        pointer = self._snapshot_pointer()
        return None if pointer is None else str(pointer["id"])

    def point_snapshot(self, snapshot_id: str) -> None:
        """Make ``snapshot_id`` the snapshot the next run copies unchanged rows from."""
        pointer = {"id": snapshot_id, "max_generation": self._generation}
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('snapshot', ?)", (json.dumps(pointer),))

    def uris(self, roots: Sequence[str]) -> list[str]:
        return [uri for uri, _ in self.generations(roots)]
