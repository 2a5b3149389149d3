"""The supervised worker pool: a worker that dies or hangs costs one object, and the scan goes on."""

from __future__ import annotations

import dataclasses
import signal
import threading
import time
from pathlib import Path

import pytest

from connectors.local import LocalConnector
from scanner.config import Settings
from scanner.engines.local import LocalEngine
from scanner.errors import ConfigError, WorkerError
from scanner.extractors import PLUGINS_ENV, load_plugins
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


PLUGINS = "tests.extractor_plugins:CrashExtractor,tests.extractor_plugins:HangExtractor"


def test_content_that_kills_or_hangs_its_worker_costs_only_that_object(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker dies (SIGSEGV, exit 137) or hangs because of what the object holds, not from outside:
    each such object is a failed row with the cause, the pool replaces the worker, the rest is scanned."""
    monkeypatch.setenv(PLUGINS_ENV, PLUGINS)  # the spawned workers import the plugins when they set up
    (tmp_path / "a.crash").write_text("header\nSEGFAULT\n")
    (tmp_path / "b.hang").write_text("anything at all\n")
    (tmp_path / "c.txt").write_text("A short note with nothing sensitive.\n")
    (tmp_path / "d.crash").write_text("EXIT now\n")
    (tmp_path / "e.crash").write_text("Only words here, read as text.\n")
    limits = settings.scan.limits.model_copy(update={"object_timeout_seconds": 3.0})
    quick = dataclasses.replace(settings, scan=settings.scan.model_copy(update={"limits": limits})).with_profile("fast")
    names = ["a.crash", "b.hang", "c.txt", "d.crash", "e.crash"]
    engine = LocalEngine(quick, TEST_KEY.encode(), workers=2)
    try:
        outputs = list(engine.run(_tasks(*(tmp_path / n for n in names))))
    finally:
        engine.close()
    rows = {o.object_row["uri"].rsplit("/", 1)[-1]: o.object_row for o in outputs if o.object_row}
    assert set(rows) == set(names)
    assert rows["a.crash"]["status"] == "failed"
    assert rows["a.crash"]["reason"] == f"worker process died (exit code {-signal.SIGSEGV})"
    assert rows["d.crash"]["status"] == "failed" and rows["d.crash"]["reason"] == "worker process died (exit code 137)"
    assert rows["b.hang"]["status"] == "failed" and "object_timeout_seconds" in rows["b.hang"]["reason"]
    assert rows["c.txt"]["status"] == "scanned" and rows["e.crash"]["status"] == "scanned"
    assert rows["e.crash"]["format"] == "crash"


def test_plugin_entries_are_validated() -> None:
    for spec, message in [
        ("tests.extractor_plugins", "module:Class"),
        ("tests.no_such_module:X", "cannot import"),
        ("tests.extractor_plugins:NotAnExtractor", "'format' name and an 'extract'"),
        ("tests.extractor_plugins:CrashExtractor,tests.extractor_plugins:CrashExtractor", "already taken"),
        ("scanner.extractors.text:TextExtractor", "already taken"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load_plugins(spec)
    assert set(load_plugins(PLUGINS)) == {".crash", ".hang"}
    assert load_plugins("") == {}


def test_a_bad_plugin_stops_the_scan_at_worker_set_up(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PLUGINS_ENV, "tests.no_such_module:X")
    (tmp_path / "c.txt").write_text("note\n")
    engine = LocalEngine(settings.with_profile("fast"), TEST_KEY.encode(), workers=1)
    try:
        with pytest.raises(WorkerError, match=PLUGINS_ENV):
            list(engine.run(_tasks(tmp_path / "c.txt")))
    finally:
        engine.close()


def test_workers_leave_as_soon_as_the_last_result_is_in(tmp_path: Path, settings: Settings) -> None:
    """The driver writes its outputs after the last result; the workers need not wait for that, and
    leave cleanly (exit code 0) before ``close`` is called."""
    docs = [tmp_path / f"note-{i}.txt" for i in range(3)]
    for i, path in enumerate(docs):
        path.write_text(f"Note {i}: call Dana at (212) 555-01{i:02d} about the invoice.\n")
    engine = LocalEngine(settings.with_profile("fast"), TEST_KEY.encode(), workers=2)
    try:
        outputs = list(engine.run(_tasks(*docs)))
        processes = [slot.process for slot in engine._slots]
        for process in processes:
            process.join(timeout=30)
        assert [p.exitcode for p in processes] == [0, 0]
    finally:
        engine.close()
    rows = [o.object_row for o in outputs if o.object_row]
    assert sorted(r["status"] for r in rows) == ["scanned"] * 3
    assert sum(len(o.findings) for o in outputs) >= 3  # every result arrived before the workers left
