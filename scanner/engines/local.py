"""The embedded engine: a supervised pool of worker processes on this machine.

Each worker builds its :class:`~scanner.pipeline.Worker` (and loads its models)
once, then takes one task at a time over its own pipe. Because the parent
always knows which task each worker holds, a worker that dies (a segfault, the
OOM killer) or overruns ``object_timeout_seconds`` costs exactly that object:
it ends as a ``failed`` row with the reason, the worker is replaced, and the
scan goes on. Results stream back in chunks; a full pipe blocks its worker, so
memory stays bounded however large an object is.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from scanner.config import Settings
from scanner.engines.base import failed_task_output
from scanner.errors import IngestguardError, WorkerError, describe_exception
from scanner.pipeline import ScanTask, TaskOutput, Worker

log = logging.getLogger(__name__)

#: A slot whose worker dies this many times before it is ready stops the scan (a broken set-up).
MAX_STARTUP_FAILURES = 3


def _worker_main(conn: Connection, settings: Settings, key: bytes) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    try:
        worker = Worker(settings, key)
        worker.setup()
    except Exception as exc:
        conn.send(
            (
                "fatal",
                describe_exception(exc)
                if isinstance(exc, IngestguardError)
                else f"worker set-up failed: {describe_exception(exc)}",
            )
        )
        return
    conn.send(("ready", None))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            break
        for out in worker.run(task):
            conn.send(("out", out))
    # Every result has been sent (sends are synchronous) and nothing else is owed: leave without the
    # interpreter's teardown of models and modules (~0.4 s, which the parent would wait for), as
    # multiprocessing's own fork children leave.
    conn.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@dataclass(slots=True)
class _Slot:
    index: int
    process: Any
    conn: Connection
    ready: bool = False
    task: ScanTask | None = None
    started: float = 0.0
    units: int = 0
    startup_failures: int = 0
    stopped: bool = False


class LocalEngine:
    """A pool of ``workers`` processes (spawned, so no state leaks in from the parent)."""

    def __init__(self, settings: Settings, key: bytes, *, workers: int) -> None:
        self._settings = settings
        self._key = key
        self._ctx = mp.get_context("spawn")
        self._timeout = settings.scan.limits.object_timeout_seconds
        self._slots = [self._start(i) for i in range(max(1, workers))]

    def _start(self, index: int, failures: int = 0) -> _Slot:
        parent, child = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=_worker_main,
            args=(child, self._settings, self._key),
            name=f"ingestguard-worker-{index}",
            daemon=True,
        )
        process.start()
        child.close()
        return _Slot(index, process, parent, startup_failures=failures)

    def run(self, tasks: Iterable[ScanTask]) -> Iterator[TaskOutput]:
        source = iter(tasks)
        exhausted = False
        while True:
            for slot in self._slots:
                if slot.ready and slot.task is None and not exhausted:
                    task = next(source, None)
                    if task is None:
                        exhausted = True
                        break
                    slot.task, slot.started, slot.units = task, time.monotonic(), 0
                    slot.conn.send(task)
            if exhausted and all(slot.task is None for slot in self._slots):
                self._stop()  # the workers leave while the driver writes its outputs
                return
            handles: list[Any] = [s.conn for s in self._slots] + [s.process.sentinel for s in self._slots]
            for handle in wait(handles, timeout=1.0):
                # a slot replaced while servicing an earlier handle of this batch has no handles any more
                owner = next((s for s in self._slots if handle in (s.conn, s.process.sentinel)), None)
                if owner is not None:
                    yield from self._service(owner)
            yield from self._enforce_timeouts()

    def _service(self, slot: _Slot) -> Iterator[TaskOutput]:
        """Read what a worker sent; if it died, account for its task and replace it."""
        try:
            while slot.conn.poll():
                kind, payload = slot.conn.recv()
                if kind == "ready":
                    slot.ready = True
                elif kind == "fatal":
                    raise WorkerError(str(payload))
                elif kind == "out":
                    out: TaskOutput = payload
                    slot.units += len(out.documents)
                    if out.object_row is not None:
                        slot.task = None
                    yield out
        except (EOFError, OSError):
            pass
        if not slot.process.is_alive():
            yield from self._replace(slot, f"worker process died (exit code {slot.process.exitcode})")

    def _replace(self, slot: _Slot, reason: str) -> Iterator[TaskOutput]:
        task = slot.task
        failures = slot.startup_failures + (0 if slot.ready else 1)
        if failures >= MAX_STARTUP_FAILURES:
            raise WorkerError(f"workers keep dying before they are ready ({reason})")
        slot.conn.close()
        slot.process.join(timeout=5)
        log.warning("worker %d lost: %s%s", slot.index, reason, f" while scanning {task.obj.uri}" if task else "")
        self._slots[slot.index] = self._start(slot.index, failures)
        if task is not None:
            yield failed_task_output(task, reason, after_units=slot.units)

    def _enforce_timeouts(self) -> Iterator[TaskOutput]:
        now = time.monotonic()
        for slot in list(self._slots):
            if slot.task is not None and now - slot.started > self._timeout:
                slot.process.kill()
                slot.process.join(timeout=5)
                yield from self._replace(slot, f"limit object_timeout_seconds: no result within {self._timeout:g} s")

    def _stop(self) -> None:
        """Ask every worker to leave (once); they finish no task after this."""
        for slot in self._slots:
            if slot.stopped:
                continue
            slot.stopped = True
            try:
                if slot.process.is_alive():
                    slot.conn.send(None)
            except (OSError, BrokenPipeError):
                pass

    def close(self) -> None:
        self._stop()
        deadline = time.monotonic() + 5
        for slot in self._slots:
            slot.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(timeout=5)
            slot.conn.close()
