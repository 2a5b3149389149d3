"""S3 (moto server) and Azure Blob (Azurite) scanned for real, in one CLI run with a local folder.

The same generated corpus is uploaded to a bucket and a container and kept on
disk; every source must give the same rows: every object and record present,
the same labels, the planted values found, versions and tags recorded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.corpus import Corpus, build
from tests.test_cli_e2e import run_cli


def upload_s3(service: Any, corpus: Corpus, bucket: str) -> None:
    s3 = service.client()
    s3.create_bucket(Bucket=bucket)
    for path in sorted(corpus.root.rglob("*")):
        if path.is_file():
            key = f"corpus/{path.relative_to(corpus.root).as_posix()}"
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    s3.put_object_tagging(Bucket=bucket, Key="corpus/notes.txt", Tagging={"TagSet": [{"Key": "team", "Value": "ops"}]})


def upload_azure(service: Any, corpus: Corpus, container: str) -> None:
    client = service.container(container)
    for path in sorted(corpus.root.rglob("*")):
        if path.is_file():
            name = f"corpus/{path.relative_to(corpus.root).as_posix()}"
            client.upload_blob(name, path.read_bytes(), metadata={"origin": "test"})
    client.get_blob_client("corpus/notes.txt").set_blob_tags({"team": "ops"})


@pytest.fixture(scope="module")
def cloud_scan(tmp_path_factory: pytest.TempPathFactory, s3_service: Any, azure_service: Any) -> dict[str, Any]:
    from tests.conftest import TEST_KEY

    base = tmp_path_factory.mktemp("cloud")
    corpus = build(base / "corpus", seed=21)
    upload_s3(s3_service, corpus, "ig-bucket")
    upload_azure(azure_service, corpus, "ig-container")
    env = dict(
        os.environ,
        INGESTGUARD_FINGERPRINT_KEY=TEST_KEY,
        HOME=str(base / "home"),
        **s3_service.env(),
        **azure_service.env(),
    )
    out = base / "out"
    result = run_cli(
        [
            "scan",
            "s3://ig-bucket/corpus",
            "az://ig-container/corpus",
            str(corpus.root),
            "--out",
            str(out),
            "--workers",
            "2",
            "-q",
        ],
        env,
    )
    return {"corpus": corpus, "out": out, "result": result, "env": env}


def _by_source(rows: list[dict[str, Any]], corpus: Corpus) -> dict[str, dict[tuple[str, Any, Any], Any]]:
    prefixes = {
        "s3": "s3://ig-bucket/corpus/",
        "az": "az://ig-container/corpus/",
        "local": corpus.root.resolve().as_uri() + "/",
    }
    out: dict[str, dict[tuple[str, Any, Any], Any]] = {k: {} for k in prefixes}
    for r in rows:
        for name, prefix in prefixes.items():
            if r["uri"].startswith(prefix):
                out[name][(r["uri"].removeprefix(prefix), r["record"], r["member"])] = (r["status"], r["label"])
    return out


def test_one_run_scans_s3_azure_and_local_with_identical_rows(cloud_scan: dict[str, Any]) -> None:
    result, corpus, out = cloud_scan["result"], cloud_scan["corpus"], cloud_scan["out"]
    assert result.returncode == 0, result.stderr[-2000:]
    docs = pq.read_table(out / "documents.parquet").to_pylist()
    per_source = _by_source(docs, corpus)
    expected = {k: ("scanned", v) for k, v in corpus.expected.items()}
    for name, rows in per_source.items():
        assert rows == expected, name


def test_versions_metadata_and_tags_are_recorded(cloud_scan: dict[str, Any]) -> None:
    objects = {r["uri"]: r for r in pq.read_table(cloud_scan["out"] / "objects.parquet").to_pylist()}
    s3_notes = objects["s3://ig-bucket/corpus/notes.txt"]
    az_notes = objects["az://ig-container/corpus/notes.txt"]
    assert s3_notes["version"] and az_notes["version"]
    assert dict(s3_notes["tags"]) == {"team": "ops"}
    assert dict(az_notes["tags"]) == {"team": "ops"} and dict(az_notes["metadata"]) == {"origin": "test"}
    assert s3_notes["content_sha256"] == az_notes["content_sha256"]


def test_credentials_never_reach_outputs_or_logs(cloud_scan: dict[str, Any], azure_service: Any) -> None:
    out, result = cloud_scan["out"], cloud_scan["result"]
    blobs = [result.stdout, result.stderr]
    for path in out.iterdir():
        blobs.append(
            path.read_bytes().decode("latin-1") if path.suffix != ".parquet" else str(pq.read_table(path).to_pylist())
        )
    for text in blobs:
        assert azure_service.key not in text and azure_service.key[:20] not in text


def test_missing_container_and_bucket_fail_fast_with_one_message(cloud_scan: dict[str, Any], tmp_path: Path) -> None:
    for uri in ("s3://no-such-bucket/x", "az://no-such-container/x"):
        result = run_cli(["scan", uri, "--out", str(tmp_path / "o"), "-q"], cloud_scan["env"])
        assert result.returncode == 3, (uri, result.stderr[-1000:])
        assert uri.split("/")[2] in result.stderr and "Traceback" not in result.stderr


def test_s3_versions_are_recorded_and_reads_pinned_to_them(tmp_path: Path, s3_service: Any) -> None:
    from connectors.s3 import S3Connector

    for key, value in s3_service.env().items():
        os.environ.setdefault(key, value)
    s3 = s3_service.client()
    s3.create_bucket(Bucket="versioned")
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="versioned", Key="doc.txt", Body=b"first version", Metadata={"owner": "ops"})
    connector = S3Connector()
    [listed] = list(connector.iter_objects("s3://versioned"))
    first_version = s3.list_object_versions(Bucket="versioned")["Versions"][0]["VersionId"]
    assert listed.version is not None and listed.version.endswith(":" + first_version)
    assert dict(listed.metadata) == {"owner": "ops"}
    s3.put_object(Bucket="versioned", Key="doc.txt", Body=b"second version, written after listing")
    with connector.open(listed) as fh:
        assert fh.read() == b"first version"
