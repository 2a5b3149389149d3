"""Label write-back against the emulators and local files: merged, idempotent, content untouched."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from tests.conftest import TEST_KEY
from tests.test_cli_e2e import run_cli

SSN_TEXT = "Employee record. SSN: 536-22-8174\n"
PLAIN = "Nothing sensitive here.\n"


def _env(tmp_path: Path, *services: Any) -> dict[str, str]:
    env = dict(os.environ, INGESTGUARD_FINGERPRINT_KEY=TEST_KEY, HOME=str(tmp_path / "home"))
    for s in services:
        env.update(s.env())
    return env


def apply_labels(source: str, out: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    """A quick scan (no NER, one worker) that writes labels back."""
    return run_cli(
        ["scan", source, "--out", str(out), "--apply-labels", *extra, "--profile", "fast", "--workers", "1", "-q"], env
    )


def _writeback(out: Path) -> dict[str, str]:
    return {r["uri"].rsplit("/", 1)[-1]: r["action"] for r in pq.read_table(out / "writeback.parquet").to_pylist()}


def test_s3_tags_are_merged_idempotent_and_limited(tmp_path: Path, s3_service: Any) -> None:
    s3 = s3_service.client()
    s3.create_bucket(Bucket="wb-bucket")
    s3.put_object(Bucket="wb-bucket", Key="docs/hr.txt", Body=SSN_TEXT.encode())
    s3.put_object(Bucket="wb-bucket", Key="docs/plain.txt", Body=PLAIN.encode())
    s3.put_object(Bucket="wb-bucket", Key="docs/full.txt", Body=PLAIN.encode())
    s3.put_object_tagging(Bucket="wb-bucket", Key="docs/hr.txt", Tagging={"TagSet": [{"Key": "owner", "Value": "hr"}]})
    full = [{"Key": f"k{i}", "Value": "v"} for i in range(10)]
    s3.put_object_tagging(Bucket="wb-bucket", Key="docs/full.txt", Tagging={"TagSet": full})
    env = _env(tmp_path, s3_service)
    before = s3.get_object(Bucket="wb-bucket", Key="docs/hr.txt")["ETag"]

    dry = apply_labels("s3://wb-bucket/docs", tmp_path / "dry", env, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert _writeback(tmp_path / "dry") == {"hr.txt": "would-set", "plain.txt": "would-set", "full.txt": "failed"}
    assert {t["Key"] for t in s3.get_object_tagging(Bucket="wb-bucket", Key="docs/hr.txt")["TagSet"]} == {"owner"}

    first = apply_labels("s3://wb-bucket/docs", tmp_path / "a", env)
    assert first.returncode == 0, first.stderr
    assert _writeback(tmp_path / "a") == {"hr.txt": "set", "plain.txt": "set", "full.txt": "failed"}
    tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket="wb-bucket", Key="docs/hr.txt")["TagSet"]}
    assert tags["owner"] == "hr" and tags["SensitivityLabel"] == "Highly Confidential"
    assert tags["SensitivityLabelId"] == "e7d9c1b3-5f2a-4e6d-a8b0-c4d2e6f8a143"
    assert len(s3.get_object_tagging(Bucket="wb-bucket", Key="docs/full.txt")["TagSet"]) == 10
    assert s3.get_object(Bucket="wb-bucket", Key="docs/hr.txt")["ETag"] == before  # content untouched

    second = apply_labels("s3://wb-bucket/docs", tmp_path / "b", env)
    assert _writeback(tmp_path / "b") == {"hr.txt": "unchanged", "plain.txt": "unchanged", "full.txt": "failed"}
    assert json.loads((tmp_path / "b" / "summary.json").read_text())["writeback"]["unchanged"] == 2
    assert second.returncode == 0


def test_azure_index_tags_and_metadata_are_merged_and_idempotent(tmp_path: Path, azure_service: Any) -> None:
    container = azure_service.container("wb-container")
    container.upload_blob("docs/hr.txt", SSN_TEXT.encode(), metadata={"department": "hr"}, tags={"owner": "hr"})
    env = _env(tmp_path, azure_service)
    first = apply_labels("az://wb-container/docs", tmp_path / "a", env)
    assert first.returncode == 0, first.stderr
    assert _writeback(tmp_path / "a") == {"hr.txt": "set"}
    blob = container.get_blob_client("docs/hr.txt")
    assert blob.get_blob_tags() == {
        "owner": "hr",
        "SensitivityLabel": "Highly Confidential",
        "SensitivityLabelId": "e7d9c1b3-5f2a-4e6d-a8b0-c4d2e6f8a143",
    }
    meta = blob.get_blob_properties().metadata
    assert meta["department"] == "hr" and meta["SensitivityLabel"] == "Highly Confidential"
    assert blob.download_blob().readall() == SSN_TEXT.encode()
    apply_labels("az://wb-container/docs", tmp_path / "b", env)
    assert _writeback(tmp_path / "b") == {"hr.txt": "unchanged"}


def test_local_sidecar_is_written_once_and_not_scanned(tmp_path: Path, cli_env: dict[str, str]) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "hr.txt").write_text(SSN_TEXT)
    digest = hashlib.sha256((src / "hr.txt").read_bytes()).hexdigest()
    first = apply_labels(str(src), tmp_path / "a", cli_env)
    assert first.returncode == 0, first.stderr
    sidecar = json.loads((src / "hr.txt.ingestguard-label.json").read_text())
    assert sidecar == {
        "SensitivityLabel": "Highly Confidential",
        "SensitivityLabelId": "e7d9c1b3-5f2a-4e6d-a8b0-c4d2e6f8a143",
    }
    assert hashlib.sha256((src / "hr.txt").read_bytes()).hexdigest() == digest
    apply_labels(str(src), tmp_path / "b", cli_env)
    assert _writeback(tmp_path / "b") == {"hr.txt": "unchanged"}
    scanned = {r["uri"].rsplit("/", 1)[-1] for r in pq.read_table(tmp_path / "b" / "objects.parquet").to_pylist()}
    assert scanned == {"hr.txt"}


def test_dry_run_needs_apply_labels(tmp_path: Path, cli_env: dict[str, str]) -> None:
    result = run_cli(["scan", str(tmp_path), "--out", str(tmp_path / "o"), "--dry-run"], cli_env)
    assert result.returncode == 2 and "--apply-labels" in result.stderr
