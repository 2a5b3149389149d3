"""Cloud reads under stress: a 200 MB object in bounded memory; a store that dies mid-scan."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from scanner.config import load_settings
from scanner.driver import scan
from tests.conftest import TEST_KEY
from tests.services import azurite

ROOT = Path(__file__).resolve().parents[2]

#: Only the cheap markings classifier: the test is about streaming memory, not detection speed.
MARKINGS_ONLY = """
profile: fast
patterns: {enabled: false}
ner: {enabled: false}
secrets: {enabled: false}
addresses: {enabled: false}
risks: {enabled: false}
"""

_MEASURE = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], capture_output=True)\n"
    "sys.stderr.write(r.stderr.decode(errors='replace')[-2000:])\n"
    "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def _peak_rss_kib(args: list[str], env: dict[str, str]) -> tuple[int, int]:
    cmd = [sys.executable, "-c", _MEASURE, sys.executable, "-m", "scanner.cli", *args]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd=ROOT, timeout=900)
    rc, rss = out.stdout.split()
    return int(rc), int(rss)


def test_a_200_mb_object_streams_in_bounded_memory(tmp_path: Path, s3_service: Any) -> None:
    s3 = s3_service.client()
    s3.create_bucket(Bucket="big-bucket")
    line = (json.dumps({"text": "lorem ipsum dolor sit amet " * 3800}) + "\n").encode()  # ~100 KB records
    big = tmp_path / "big.jsonl"
    with big.open("wb") as fh:
        for _ in range(200 * 1024 * 1024 // len(line) + 1):
            fh.write(line)
        fh.write(b'{"text": "CONFIDENTIAL"}\n')
    size = big.stat().st_size
    s3.upload_file(str(big), "big-bucket", "big/big.jsonl")
    s3.put_object(Bucket="big-bucket", Key="small/small.jsonl", Body=line)
    big.unlink()
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "classifiers.yaml").write_text(MARKINGS_ONLY)
    env = dict(os.environ, INGESTGUARD_FINGERPRINT_KEY=TEST_KEY, HOME=str(tmp_path / "home"), **s3_service.env())
    common = ["--config", str(cfg), "--workers", "1", "-q"]
    rc_small, small_rss = _peak_rss_kib(["scan", "s3://big-bucket/small", "--out", str(tmp_path / "s"), *common], env)
    rc_big, big_rss = _peak_rss_kib(["scan", "s3://big-bucket/big", "--out", str(tmp_path / "b"), *common], env)
    assert rc_small == 0 and rc_big == 0
    growth_mib = (big_rss - small_rss) / 1024
    print(
        f"object {size / 2**20:.0f} MiB; peak RSS {small_rss / 1024:.0f} → {big_rss / 1024:.0f} MiB (+{growth_mib:.0f})"
    )
    assert growth_mib < 0.25 * size / 2**20
    [obj] = pq.read_table(tmp_path / "b" / "objects.parquet").to_pylist()
    assert (obj["status"], obj["size_bytes"], obj["label"], obj["partial"]) == (
        "scanned",
        size,
        "Confidential",
        False,
    ), obj


class _StopStore:
    """Progress callbacks that stop the emulator once the third object has been listed."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self.listed_count = 0

    def listed(self, obj: Any) -> None:
        self.listed_count += 1
        if self.listed_count == 3:
            self.service.process.kill()
            self.service.process.wait(timeout=10)

    def listing_done(self) -> None:
        return None

    def object_done(self, row: Any) -> None:
        return None


def test_a_store_that_dies_mid_scan_gives_failed_rows_and_a_clean_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "az").mkdir()
    with azurite(tmp_path / "az") as service:
        client = service.container("faults")
        for i in range(8):
            client.upload_blob(f"docs/{i}.txt", f"document {i}: nothing sensitive\n".encode())
        for key, value in service.env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("INGESTGUARD_AZURE_RETRY_TOTAL", "1")
        settings = load_settings().with_profile("fast")
        summary = scan(
            ["az://faults/docs"], tmp_path / "out", settings=settings, engine="serial", progress=_StopStore(service)
        )
    objects = pq.read_table(tmp_path / "out" / "objects.parquet").to_pylist()
    assert len(objects) == 8  # nothing lost
    status = {o["uri"].rsplit("/", 1)[-1]: o for o in objects}
    assert status["0.txt"]["status"] == "scanned" and status["1.txt"]["status"] == "scanned"
    failed = [o for o in objects if o["status"] == "failed"]
    assert len(failed) == 6
    assert all("unreachable" in o["reason"] or "failed" in o["reason"] for o in failed)
    assert summary["objects"] == {"failed": 6, "scanned": 2}
    assert service.key not in json.dumps(objects, default=str)
