"""The engine protocol: run scan tasks somewhere, stream back their outputs.

Engines differ only in where :meth:`scanner.pipeline.Worker.run` executes (this
process, a pool of processes, a Ray cluster); every engine yields the same
:class:`~scanner.pipeline.TaskOutput` chunks, and a task whose worker died or
hung still ends with an object row saying so.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from scanner.pipeline import Row, ScanTask, TaskOutput, document_row
from scanner.units import UnitProblem


class Engine(Protocol):
    def run(self, tasks: Iterable[ScanTask]) -> Iterator[TaskOutput]:
        """Run every task; yield outputs as they come (tasks interleave, chunks of one task stay in order)."""
        ...

    def close(self) -> None: ...


def failed_task_output(task: ScanTask, reason: str, *, after_units: int = 0) -> TaskOutput:
    """The rows for a task whose worker was lost: the object failed (or partial after some units)."""
    obj = task.obj
    problem = UnitProblem(obj.uri, "unknown", "failed", reason, size_bytes=obj.size or 0)
    doc: Row = document_row(problem, obj, status="failed", reason=reason, partial=after_units > 0)
    object_row: Row = {
        "uri": obj.uri,
        "version": obj.version,
        "last_modified": obj.last_modified,
        "size_bytes": obj.size,
        "format": None,
        "content_sha256": None,
        "status": "failed",
        "reason": reason if not after_units else f"partial: {reason} after {after_units} units",
        "partial": after_units > 0,
        "units_scanned": after_units,
        "units_skipped": 0,
        "units_failed": 1,
        "label": None,
        "label_id": None,
        "entity_counts": {},
        "metadata": dict(obj.metadata),
        "tags": dict(obj.tags),
    }
    return TaskOutput(task.task_id, [doc], [], object_row)
