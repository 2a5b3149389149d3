"""End to end through the CLI: a generated corpus of every format, real workers, real Parquet."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from classifiers.fingerprint import Fingerprinter
from tests.conftest import TEST_KEY
from tests.corpus import Corpus, build

LABEL_RANK = {"Public": 0, "General": 1, "Confidential": 2, "Highly Confidential": 3}


def run_cli(
    args: list[str], env: dict[str, str], *, prefix: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    cmd = [*(prefix or []), sys.executable, "-m", "scanner.cli", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)


def rel(corpus_root: Path, uri: str) -> str:
    return uri.removeprefix(corpus_root.resolve().as_uri() + "/")


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Corpus, Path, subprocess.CompletedProcess[str]]:
    import os

    base = tmp_path_factory.mktemp("e2e")
    corpus = build(base / "corpus")
    out = base / "out"
    env = dict(os.environ, INGESTGUARD_FINGERPRINT_KEY=TEST_KEY, HOME=str(base / "home"))
    result = run_cli(["scan", str(corpus.root), "--out", str(out), "--workers", "2"], env)
    return corpus, out, result


def rows(out: Path, table: str) -> list[dict[str, Any]]:
    return pq.read_table(out / f"{table}.parquet").to_pylist()


def test_scan_exits_zero_and_prints_summary(scanned: tuple[Corpus, Path, Any]) -> None:
    _, _, result = scanned
    assert result.returncode == 0, result.stderr
    assert "objects" in result.stdout and "scanned" in result.stdout


def test_every_object_and_record_is_present_with_the_right_label(scanned: tuple[Corpus, Path, Any]) -> None:
    corpus, out, _ = scanned
    got = {
        (rel(corpus.root, r["uri"]), r["record"], r["member"]): (r["status"], r["label"])
        for r in rows(out, "documents")
    }
    assert set(got) == set(corpus.expected)
    wrong = {k: (got[k], v) for k, v in corpus.expected.items() if got[k] != ("scanned", v)}
    assert not wrong


def test_object_rows_roll_up_to_the_highest_record_label(scanned: tuple[Corpus, Path, Any]) -> None:
    corpus, out, _ = scanned
    objects = {rel(corpus.root, r["uri"]): r for r in rows(out, "objects")}
    expected: dict[str, str] = {}
    for (path, _record, _member), label in corpus.expected.items():
        if LABEL_RANK[label] > LABEL_RANK.get(expected.get(path, "Public"), 0):
            expected[path] = label
    assert {p: o["label"] for p, o in objects.items()} == expected
    assert all(o["status"] == "scanned" and not o["partial"] for o in objects.values())
    assert all(len(o["content_sha256"]) == 64 for o in objects.values())


def test_every_planted_value_is_found_by_fingerprint(scanned: tuple[Corpus, Path, Any]) -> None:
    corpus, out, _ = scanned
    fp = Fingerprinter(TEST_KEY.encode())
    found = {(r["entity_type"], r["fingerprint"]) for r in rows(out, "findings")}
    missing = [entity for value, entity in corpus.planted.items() if (entity, fp(entity, value)) not in found]
    assert not missing


def test_record_findings_are_offsets_into_their_field(scanned: tuple[Corpus, Path, Any]) -> None:
    _, out, _ = scanned
    record_findings = [r for r in rows(out, "findings") if r["record"] is not None and r["entity_type"] == "US_SSN"]
    assert record_findings
    for r in record_findings:
        assert r["field"] == "ssn" and r["start"] == 0 and r["end"] == 11


def test_summary_counts_match_rows(scanned: tuple[Corpus, Path, Any]) -> None:
    corpus, out, _ = scanned
    summary = json.loads((out / "summary.json").read_text())
    assert summary["objects"] == {"scanned": len(rows(out, "objects"))}
    assert summary["units"] == {"scanned": len(corpus.expected)}
    assert summary["findings"] == len(rows(out, "findings"))
    assert not list(out.glob(".*.partial"))


def _all_text(out: Path) -> str:
    parts: list[str] = []
    for path in out.iterdir():
        if path.suffix == ".parquet":
            for row in pq.read_table(path).to_pylist():
                parts.append(json.dumps(row, default=str))
        else:
            parts.append(path.read_text(errors="replace"))
    return "\n".join(parts)


def test_no_planted_value_reaches_outputs_or_logs(scanned: tuple[Corpus, Path, Any]) -> None:
    corpus, out, result = scanned
    haystacks = {"outputs": _all_text(out), "stdout": result.stdout, "stderr": result.stderr}
    for value in corpus.planted:
        compact = "".join(ch for ch in value if ch.isalnum())
        for where, text in haystacks.items():
            assert value not in text, f"a planted {corpus.planted[value]} leaked into {where}"
            assert compact not in "".join(ch for ch in text if ch.isalnum()) or len(compact) < 9, where


def test_bad_input_is_reported_and_the_rest_is_scanned(tmp_path: Path, cli_env: dict[str, str]) -> None:
    src = tmp_path / "bad"
    src.mkdir()
    (src / "good.txt").write_text("Nothing sensitive in here at all.\n")
    (src / "corrupt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nthis is not a pdf\n")
    (src / "binary.txt").write_bytes(bytes(range(256)) * 16)
    (src / "broken-utf8.txt").write_bytes(
        "Grüße aus München und schöne Grüße\n".encode() * 5 + b"\xff\xfe\xc3\x28 tail\n"
    )
    (src / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    (src / "empty.txt").write_bytes(b"")
    out = tmp_path / "out"
    result = run_cli(["scan", str(src), "--out", str(out), "--workers", "1", "-q"], cli_env)
    assert result.returncode == 1, result.stderr  # some objects failed
    got = {rel(src, r["uri"]): r for r in rows(out, "objects")}
    assert got["good.txt"]["status"] == "scanned"
    assert got["corrupt.pdf"]["status"] == "failed" and "PDF" in got["corrupt.pdf"]["reason"]
    assert got["binary.txt"]["status"] == "skipped" and "binary" in got["binary.txt"]["reason"]
    assert got["broken-utf8.txt"]["status"] == "failed" and "UTF-8" in got["broken-utf8.txt"]["reason"]
    # an image is read for its C2PA manifest only; a container c2pa cannot parse fails with the reason
    from scanner.extractors.c2pa import available

    if available():
        assert got["image.png"]["status"] == "failed" and "C2PA: cannot read" in got["image.png"]["reason"]
    else:
        assert got["image.png"]["status"] == "skipped" and "c2pa-python not installed" in got["image.png"]["reason"]
    assert got["empty.txt"]["status"] == "skipped" and "empty" in got["empty.txt"]["reason"]
    docs = {rel(src, r["uri"]) for r in rows(out, "documents")}
    assert docs == set(got)


def test_scan_succeeds_without_any_network(tmp_path: Path, cli_env: dict[str, str]) -> None:
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"], check=False).returncode != 0:
        pytest.skip("unshare -n is not available here (needs root or user namespaces)")
    corpus = build(tmp_path / "corpus", seed=11)
    out = tmp_path / "out"
    result = run_cli(
        ["scan", str(corpus.root), "--out", str(out), "--workers", "1", "-q"], cli_env, prefix=["unshare", "-n"]
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["objects"] == {"scanned": len({k[0] for k in corpus.expected})}


def test_missing_source_is_one_clear_error(tmp_path: Path, cli_env: dict[str, str]) -> None:
    result = run_cli(["scan", str(tmp_path / "nope"), "--out", str(tmp_path / "out"), "-q"], cli_env)
    assert result.returncode == 3
    assert "no such file or directory" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "summary.json").exists()
