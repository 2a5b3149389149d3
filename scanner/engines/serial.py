"""Run tasks in this process: no isolation, no start-up cost. For tests, the gate and tiny jobs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from scanner.config import Settings
from scanner.pipeline import ScanTask, TaskOutput, Worker


class SerialEngine:
    def __init__(self, settings: Settings, key: bytes, *, worker: Worker | None = None) -> None:
        self._worker = worker or Worker(settings, key)
        self._worker.setup()

    def run(self, tasks: Iterable[ScanTask]) -> Iterator[TaskOutput]:
        for task in tasks:
            yield from self._worker.run(task)

    def close(self) -> None:
        return None
