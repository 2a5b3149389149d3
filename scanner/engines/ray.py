"""The Ray engine: the same tasks, run by a pool of Ray actors on a cluster (``pip install 'ingestguard[ray]'``).

Each actor builds one :class:`~scanner.pipeline.Worker` (models load once per
actor) and runs whole tasks with it, exactly as a local worker process does;
listing, the state store, labels and the Parquet outputs stay with the driver.
The driver keeps at most two tasks per actor in flight, so a huge listing
streams through a bounded window.

Faults are accounted per object, as in the local engine: an actor that dies
(killed, out of memory, a node lost) is replaced and its task is retried up to
``max_task_retries`` times, then ends as a ``failed`` row naming the cause; a
task over ``object_timeout_seconds`` has its actor killed and replaced and ends
as ``failed`` (not retried: it would hang again). Nothing is lost and nothing is
reported twice: a task's outputs are taken only from the attempt that finished.

Why Ray core actors and not Ray Data's ``map_batches``: a dataset operator retries
a failed batch or fails the whole execution; it cannot turn one poisonous object
into one reasoned row while the rest of the window goes on. The actor pool below
gives the guarantees the local engine gives, on any number of machines.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from scanner.config import Settings
from scanner.engines.base import failed_task_output
from scanner.errors import IngestguardError, WorkerError, describe_exception
from scanner.pipeline import ScanTask, TaskOutput, Worker

log = logging.getLogger(__name__)

#: Tasks queued on each actor beyond the one it runs (keeps actors busy between round trips).
QUEUE_PER_ACTOR = 1


class ScanActor:
    """A Ray actor holding one set-up :class:`Worker`."""

    def __init__(self, settings: Settings, key: bytes) -> None:
        self._worker = Worker(settings, key)
        self._worker.setup()

    def pid(self) -> int:
        return os.getpid()

    def run(self, task: ScanTask) -> list[TaskOutput]:
        return list(self._worker.run(task))


@dataclass(slots=True)
class _Slot:
    actor: Any
    pid: int | None = None


@dataclass(slots=True)
class _Flight:
    task: ScanTask
    slot: int
    attempt: int
    seq: int
    started: float | None  # None while queued behind another task on the same actor


class RayEngine:
    """A pool of ``actors`` Ray actors (0: one per CPU the cluster offers, divided by ``cpus_per_actor``)."""

    def __init__(
        self,
        settings: Settings,
        key: bytes,
        *,
        address: str | None = None,
        actors: int = 0,
        cpus_per_actor: float = 1.0,
        max_task_retries: int = 1,
    ) -> None:
        try:
            import ray
        except ImportError as exc:
            raise WorkerError("the Ray engine needs Ray: pip install 'ingestguard[ray]'") from exc
        self._ray = ray
        self._owns_cluster = False
        if not ray.is_initialized():
            self._init(address)
        self._timeout = settings.scan.limits.object_timeout_seconds
        self._retries = max_task_retries
        total = float(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
        count = actors or max(1, int(total // cpus_per_actor))
        self._remote = ray.remote(num_cpus=cpus_per_actor, max_restarts=0, max_task_retries=0)(ScanActor)
        self._settings, self._key = settings, key
        self._slots = [_Slot(self._remote.remote(settings, key)) for _ in range(count)]
        self._check_ready()

    def _init(self, address: str | None) -> None:
        ray = self._ray
        if address in (None, "", "local"):
            # A private local cluster: every service on loopback, no dashboard, no token to manage.
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")
            ray.init(
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                log_to_driver=False,
                configure_logging=False,
            )
            self._owns_cluster = True
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)

    def _check_ready(self) -> None:
        try:
            pids = self._ray.get([s.actor.pid.remote() for s in self._slots], timeout=600)
        except Exception as exc:
            self.close()
            inner = getattr(exc, "cause", None)
            cause = inner if isinstance(inner, IngestguardError) else exc
            raise WorkerError(f"Ray actors could not start: {describe_exception(cause)}") from exc
        for slot, pid in zip(self._slots, pids, strict=True):
            slot.pid = pid

    @property
    def actor_pids(self) -> list[int | None]:
        return [s.pid for s in self._slots]

    def _replace(self, index: int) -> None:
        old = self._slots[index].actor
        with contextlib.suppress(Exception):  # already dead
            self._ray.kill(old, no_restart=True)
        slot = _Slot(self._remote.remote(self._settings, self._key))
        self._slots[index] = slot

    def run(self, tasks: Iterable[ScanTask]) -> Iterator[TaskOutput]:
        ray = self._ray
        from ray.exceptions import RayActorError, RayTaskError

        source = iter(tasks)
        retry: deque[tuple[ScanTask, int]] = deque()
        flights: dict[Any, _Flight] = {}
        seq = 0
        exhausted = False

        def on_slot(index: int) -> list[tuple[Any, _Flight]]:
            return sorted(((r, f) for r, f in flights.items() if f.slot == index), key=lambda rf: rf[1].seq)

        def submit() -> None:
            nonlocal exhausted, seq
            while retry or not exhausted:
                load = [0] * len(self._slots)
                for f in flights.values():
                    load[f.slot] += 1
                index = min(range(len(self._slots)), key=load.__getitem__)
                if load[index] > QUEUE_PER_ACTOR:
                    return
                if retry:
                    task, attempt = retry.popleft()
                else:
                    next_task = next(source, None)
                    if next_task is None:
                        exhausted = True
                        return
                    task, attempt = next_task, 0
                seq += 1
                ref = self._slots[index].actor.run.remote(task)
                flights[ref] = _Flight(task, index, attempt, seq, time.monotonic() if load[index] == 0 else None)

        def lost(index: int, *, timed_out: bool) -> Iterator[TaskOutput]:
            """The actor of ``index`` died or overran: replace it; its running task is retried (a death,
            within the budget) or fails; the tasks queued behind it run again elsewhere."""
            self._replace(index)
            for position, (ref, flight) in enumerate(on_slot(index)):
                del flights[ref]
                if position > 0:
                    retry.append((flight.task, flight.attempt))
                elif timed_out:
                    yield failed_task_output(
                        flight.task,
                        f"limit object_timeout_seconds: not finished after {self._timeout:g} s (worker restarted)",
                    )
                elif flight.attempt < self._retries:
                    retry.append((flight.task, flight.attempt + 1))
                else:
                    yield failed_task_output(
                        flight.task,
                        f"worker process died while scanning (Ray actor lost; {flight.attempt + 1} attempts)",
                    )

        submit()
        while flights:
            ready, _ = ray.wait(list(flights), num_returns=1, timeout=1.0)
            now = time.monotonic()
            if not ready:
                for index in range(len(self._slots)):
                    head = on_slot(index)[:1]
                    started = head[0][1].started if head else None
                    if started is not None and now - started > self._timeout:
                        yield from lost(index, timed_out=True)
                submit()
                continue
            ref = ready[0]
            flight = flights[ref]
            try:
                outputs: list[TaskOutput] = ray.get(ref)
            except RayActorError:
                yield from lost(flight.slot, timed_out=False)
                submit()
                continue
            except RayTaskError as exc:
                del flights[ref]
                yield failed_task_output(flight.task, f"worker failed: {describe_exception(exc.cause or exc)}")
            else:
                del flights[ref]
                yield from outputs
            following = on_slot(flight.slot)[:1]
            if following and following[0][1].started is None:
                following[0][1].started = now
            submit()

    def close(self) -> None:
        for slot in self._slots if hasattr(self, "_slots") else []:
            with contextlib.suppress(Exception):
                self._ray.kill(slot.actor, no_restart=True)
        if self._owns_cluster:
            self._ray.shutdown()
