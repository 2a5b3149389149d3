"""Issue #9's hostile corpus through a real scan (local engine, two worker processes).

Every object ends as a row with a status and a reason that names the cause;
the scan finishes; peak memory of the whole scan stays under 2 GiB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.conftest import TEST_KEY
from tests.hostile import write_hostile_corpus

#: object name → (status, words its reason must contain)
EXPECTED: dict[str, tuple[str, tuple[str, ...]]] = {
    "bomb42.zip": ("failed", ("max_compression_ratio",)),
    "ratio.zip": ("failed", ("max_compression_ratio",)),
    "bomb.txt.gz": ("failed", ("max_compression_ratio",)),
    "truncated.pdf": ("failed", ("corrupt PDF",)),
    "encrypted.pdf": ("failed", ("encrypted PDF",)),
    "cyclic.pdf": ("failed", ("corrupt PDF",)),
    "notazip.docx": ("failed", ("not a DOCX",)),
    "longline.jsonl.gz": ("scanned", ("max_record_bytes",)),
    "deep.json": ("failed", ("max_json_depth",)),
    "deep.jsonl": ("scanned", ("max_json_depth",)),
    "bigfield.csv.gz": ("scanned", ("max_record_bytes",)),
    "utf16-bom.txt": ("scanned", ()),
    "utf16-nobom.txt": ("scanned", ()),
    "invalid-utf8.txt": ("failed", ("invalid UTF-8 at byte",)),
    "binary.txt": ("skipped", ("binary content",)),
    "empty.txt": ("skipped", ("empty file",)),
    "vanishing.txt": ("failed", ("disappeared",)),
    "unreadable.txt": ("failed", ("Errno",)),
    "loop-a": ("skipped", ("symbolic link loop",)),
    "loop-b": ("skipped", ("symbolic link loop",)),
    "traversal.zip": ("scanned", ("units skipped",)),
    "symlink.zip": ("scanned", ("units skipped",)),
    "encrypted.zip": ("failed", ("encrypted archive member",)),
    "links.tar.gz": ("scanned", ("units skipped",)),
}

#: (object, member) → (status, words its reason must contain), for units inside containers
EXPECTED_MEMBERS: dict[tuple[str, str], tuple[str, str]] = {
    ("traversal.zip", "../../escape.txt"): ("skipped", "leaves the archive"),
    ("traversal.zip", "/etc/cron.d/x"): ("skipped", "leaves the archive"),
    ("symlink.zip", "passwd"): ("skipped", "symbolic link"),
    ("encrypted.zip", "secret.txt"): ("failed", "encrypted archive member"),
    ("links.tar.gz", "sym"): ("skipped", "symbolic link"),
    ("links.tar.gz", "hard"): ("skipped", "hard link"),
    ("links.tar.gz", "pipe"): ("skipped", "special file"),
    ("ratio.zip", "huge.txt"): ("failed", "max_compression_ratio"),
}


@pytest.fixture(scope="module")
def hostile_scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    base = tmp_path_factory.mktemp("hostile")
    corpus = base / "corpus"
    write_hostile_corpus(corpus)
    out = base / "out"
    env = dict(os.environ, INGESTGUARD_FINGERPRINT_KEY=TEST_KEY, HOME=str(base / "home"))
    result = subprocess.run(
        [sys.executable, "-m", "tests.hostile_scan", str(corpus), str(out), "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"\nhostile scan: {report}")
    return corpus, out, report


def _name(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def test_every_hostile_object_ends_as_a_reasoned_row(hostile_scan: tuple[Path, Path, dict[str, Any]]) -> None:
    _, out, _ = hostile_scan
    objects = {_name(r["uri"]): r for r in pq.read_table(out / "objects.parquet").to_pylist()}
    assert set(objects) == set(EXPECTED)
    for name, (status, words) in EXPECTED.items():
        row = objects[name]
        assert row["status"] == status, (name, row["status"], row["reason"])
        if status != "scanned" or words:
            assert row["reason"], name
        for word in words:
            assert word in row["reason"], (name, row["reason"])
    # limits that cut a scanned object make it partial: never reported as clean
    for name in ("longline.jsonl.gz", "deep.jsonl", "bigfield.csv.gz"):
        assert objects[name]["partial"], name
    # the records after an over-long line or field are still read
    docs = pq.read_table(out / "documents.parquet").to_pylist()
    by_record = {(_name(d["uri"]), d["record"]): d for d in docs if d["record"] is not None}
    assert by_record[("longline.jsonl.gz", 1)]["status"] == "scanned"
    assert by_record[("bigfield.csv.gz", 1)]["status"] == "scanned"
    assert by_record[("bigfield.csv.gz", 0)]["status"] == "failed"


def test_archive_members_are_reasoned_rows(hostile_scan: tuple[Path, Path, dict[str, Any]]) -> None:
    _, out, _ = hostile_scan
    docs = pq.read_table(out / "documents.parquet").to_pylist()
    members = {(_name(d["uri"]), d["member"]): d for d in docs if d["member"]}
    for key, (status, words) in EXPECTED_MEMBERS.items():
        row = members[key]
        assert row["status"] == status and words in row["reason"], (key, row)
    assert members[("traversal.zip", "ok.txt")]["status"] == "scanned"
    assert dict(members[("links.tar.gz", "docs/memo.md")]["entity_counts"]).get("CONFIDENTIALITY_MARKING") == 1
    assert all(d["reason"] for d in docs if d["status"] != "scanned")


def test_nothing_is_written_outside_the_output_directory(hostile_scan: tuple[Path, Path, dict[str, Any]]) -> None:
    corpus, out, _ = hostile_scan
    assert not (corpus.parent / "escape.txt").exists() and not (corpus / "escape.txt").exists()
    assert sorted(p.name for p in out.iterdir()) == [
        "documents.parquet",
        "findings.parquet",
        "objects.parquet",
        "summary.json",
    ]


def test_peak_memory_of_the_whole_scan_stays_under_2_gib(hostile_scan: tuple[Path, Path, dict[str, Any]]) -> None:
    _, _, report = hostile_scan
    print(
        f"\npeak RSS: parent {report['peak_rss_parent_mib']} MiB, largest worker "
        f"{report['peak_rss_largest_worker_mib']} MiB, all processes together (sampled) "
        f"{report['peak_rss_all_sampled_mib']} MiB, bound {report['peak_rss_bound_mib']} MiB"
    )
    assert report["peak_rss_bound_mib"] < 2048
    assert report["peak_rss_all_sampled_mib"] < 2048
