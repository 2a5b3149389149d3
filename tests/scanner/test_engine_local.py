"""The supervised worker pool: a worker that dies or hangs costs one object, and the scan goes on."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

from connectors.local import LocalConnector
from scanner.config import Settings
from scanner.engines.local import LocalEngine
from scanner.pipeline import ScanTask
from tests.conftest import TEST_KEY


def _big_text(path: Path, megabytes: int) -> None:
    line = ("The quarterly review covers revenue, churn and hiring across every region. " * 20 + "\n").encode()
    with path.open("wb") as fh:
        for _ in range(megabytes * 1024 * 1024 // len(line)):
            fh.write(line)


def _tasks(*paths: Path) -> list[ScanTask]:
    return [ScanTask(i, LocalConnector()._item(p)) for i, p in enumerate(paths)]  # type: ignore[arg-type]


def test_a_killed_worker_costs_one_object_and_is_replaced(tmp_path: Path, settings: Settings) -> None:
    big, small = tmp_path / "big.txt", tmp_path / "small.txt"
    _big_text(big, 40)
    small.write_text("A short note with nothing sensitive.\n")
    engine = LocalEngine(settings.with_profile("thorough"), TEST_KEY.encode(), workers=1)
    killed: list[int] = []

    def kill_when_busy() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            slot = engine._slots[0]
            if slot.task is not None and slot.task.obj.uri.endswith("big.txt"):
                time.sleep(0.5)
                killed.append(slot.process.pid)
                slot.process.kill()
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    try:
        outputs = list(engine.run(_tasks(big, small)))
    finally:
        killer.join()
        engine.close()
    rows = {o.object_row["uri"].rsplit("/", 1)[-1]: o.object_row for o in outputs if o.object_row}
    assert killed and set(rows) == {"big.txt", "small.txt"}
    assert rows["big.txt"]["status"] == "failed" and "worker process died" in rows["big.txt"]["reason"]
    assert rows["small.txt"]["status"] == "scanned"
    assert engine._slots[0].process.pid != killed[0]


def test_an_object_over_the_time_limit_fails_and_the_scan_goes_on(tmp_path: Path, settings: Settings) -> None:
    big, small = tmp_path / "big.txt", tmp_path / "small.txt"
    _big_text(big, 40)
    small.write_text("A short note with nothing sensitive.\n")
    limits = settings.scan.limits.model_copy(update={"object_timeout_seconds": 3.0})
    slow = dataclasses.replace(settings, scan=settings.scan.model_copy(update={"limits": limits})).with_profile(
        "thorough"
    )
    engine = LocalEngine(slow, TEST_KEY.encode(), workers=1)
    try:
        outputs = list(engine.run(_tasks(big, small)))
    finally:
        engine.close()
    rows = {o.object_row["uri"].rsplit("/", 1)[-1]: o.object_row for o in outputs if o.object_row}
    assert rows["big.txt"]["status"] == "failed" and "object_timeout_seconds" in rows["big.txt"]["reason"]
    assert rows["small.txt"]["status"] == "scanned"
