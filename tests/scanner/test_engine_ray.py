"""The Ray engine on a real local Ray cluster: the same rows as the local engine; a killed actor costs nothing.

One cluster (``ray.init(num_cpus=2)``, services on loopback, a small object store) serves every test here.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from scanner.config import Settings
from scanner.driver import scan
from tests.conftest import TEST_KEY
from tests.corpus import Corpus, build
from tests.scanner.test_engine_local import _big_text, _tasks
from tests.scanner.test_sharding import _jsonl

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Any]:
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # every service on 127.0.0.1
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(
        num_cpus=2,
        object_store_memory=256 << 20,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        configure_logging=False,
    )
    try:
        yield ray
    finally:
        ray.shutdown()


def _rows(out: Path, table: str) -> list[str]:
    return sorted(
        json.dumps(r, sort_keys=True, default=str) for r in pq.read_table(out / f"{table}.parquet").to_pylist()
    )


def test_the_ray_engine_writes_the_same_rows_as_the_local_engine_large_files_sharded(
    ray_cluster: Any, settings: Settings, tmp_path: Path
) -> None:
    corpus: Corpus = build(tmp_path / "src")
    _jsonl(corpus.root / "large.jsonl", 300)  # sharded on Ray: its shards spread over both actors
    whole = dataclasses.replace(settings, scan=settings.scan.model_copy(update={"shard_bytes": None}))
    split = dataclasses.replace(settings, scan=settings.scan.model_copy(update={"shard_bytes": 4096}))
    local = scan([str(corpus.root)], tmp_path / "local", settings=whole, engine="local", workers=2)
    on_ray = scan([str(corpus.root)], tmp_path / "ray", settings=split, engine="ray", workers=2)
    for table in ("documents", "findings", "objects"):
        assert _rows(tmp_path / "ray", table) == _rows(tmp_path / "local", table), table
    assert on_ray["objects"] == local["objects"] and on_ray["findings"] == local["findings"] > 0


def _run_and_kill(engine: Any, tasks: list[Any]) -> tuple[list[Any], list[int]]:
    killed: list[int] = []

    def kill_when_busy() -> None:
        time.sleep(3)  # the big object is being classified by now
        pid = engine.actor_pids[0]
        killed.append(pid)
        os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    try:
        outputs = list(engine.run(tasks))
    finally:
        killer.join()
        engine.close()
    return outputs, killed


def test_a_killed_actor_is_replaced_and_its_object_retried_once(
    ray_cluster: Any, settings: Settings, tmp_path: Path
) -> None:
    from scanner.engines.ray import RayEngine

    big, small = tmp_path / "big.txt", tmp_path / "small.txt"
    _big_text(big, 1)
    small.write_text("A short note with nothing sensitive.\n")
    engine = RayEngine(settings.with_profile("thorough"), TEST_KEY.encode(), actors=1, cpus_per_actor=0.5)
    first_pid = engine.actor_pids[0]
    outputs, killed = _run_and_kill(engine, _tasks(big, small))
    rows = [o.object_row for o in outputs if o.object_row]
    assert killed == [first_pid]
    assert sorted(r["uri"].rsplit("/", 1)[-1] for r in rows) == ["big.txt", "small.txt"]  # once each
    assert all(r["status"] == "scanned" for r in rows)  # the retry on a fresh actor finished it
    big_units = [d for o in outputs for d in o.documents if d["uri"].endswith("big.txt")]
    assert len(big_units) == 1  # no rows from the killed attempt


def test_without_retries_the_object_of_a_killed_actor_fails_with_the_reason(
    ray_cluster: Any, settings: Settings, tmp_path: Path
) -> None:
    from scanner.engines.ray import RayEngine

    big, small = tmp_path / "big.txt", tmp_path / "small.txt"
    _big_text(big, 1)
    small.write_text("A short note with nothing sensitive.\n")
    engine = RayEngine(
        settings.with_profile("thorough"), TEST_KEY.encode(), actors=1, cpus_per_actor=0.5, max_task_retries=0
    )
    outputs, killed = _run_and_kill(engine, _tasks(big, small))
    rows = {o.object_row["uri"].rsplit("/", 1)[-1]: o.object_row for o in outputs if o.object_row}
    assert killed and set(rows) == {"big.txt", "small.txt"}
    assert rows["big.txt"]["status"] == "failed" and "Ray actor lost" in rows["big.txt"]["reason"]
    assert rows["small.txt"]["status"] == "scanned"
