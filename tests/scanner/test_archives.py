"""Archives as containers: members as units with a member path, limits per member and per archive."""

from __future__ import annotations

import dataclasses
import io
import tarfile
from pathlib import Path
from typing import Any

import pytest
import zstandard

from connectors.local import LocalConnector
from scanner.config import load_settings
from scanner.extractors.archives import MEMBER_SEPARATOR, unsafe_name
from scanner.pipeline import ScanTask, Worker
from tests.conftest import TEST_KEY
from tests.hostile import nested_zip_bomb, zip_bytes


def _worker(**limits: Any) -> Worker:
    s = load_settings()
    off = {"enabled": False}
    classifiers = s.classifiers.model_copy(
        update={
            "patterns": s.classifiers.patterns.model_copy(update=off),
            "ner": s.classifiers.ner.model_copy(update=off),
        }
    )
    scan = s.scan.model_copy(update={"limits": s.scan.limits.model_copy(update=limits)})
    w = Worker(dataclasses.replace(s, classifiers=classifiers, scan=scan), TEST_KEY.encode())
    w.setup()
    return w


@pytest.fixture(scope="module")
def worker() -> Worker:
    return _worker()


def run(worker: Worker, path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    outs = list(worker.run(ScanTask(0, LocalConnector()._item(path))))  # type: ignore[arg-type]
    return outs[-1].object_row or {}, [d for o in outs for d in o.documents]


def test_nested_members_carry_their_path_and_the_objects_uri(worker: Worker, tmp_path: Path) -> None:
    inner = zip_bytes({"deep/a.txt": b"CONFIDENTIAL memo\n", "b.jsonl": b'{"x": "internal use only"}\n{bad\n'})
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as tf:
        info = tarfile.TarInfo("inner.zip")
        info.size = len(inner)
        tf.addfile(info, io.BytesIO(inner))
    path = tmp_path / "outer.tar.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(tar.getvalue()))
    obj, docs = run(worker, path)
    assert obj["status"] == "scanned" and obj["format"] == "tar+zstd" and obj["partial"]
    rows = {(d["member"], d["record"]): d for d in docs}
    sep = MEMBER_SEPARATOR
    assert set(rows) == {
        (f"inner.zip{sep}deep/a.txt", None),
        (f"inner.zip{sep}b.jsonl", 0),
        (f"inner.zip{sep}b.jsonl", 1),
    }
    assert all(d["uri"] == path.as_uri() for d in docs)
    assert rows[(f"inner.zip{sep}deep/a.txt", None)]["label"] == "Confidential"
    assert rows[(f"inner.zip{sep}b.jsonl", 1)]["status"] == "failed"


def test_archives_nested_deeper_than_the_limit_are_skipped_with_the_limit_named(tmp_path: Path) -> None:
    level = zip_bytes({"note.txt": b"plain"})
    for i in range(3):
        level = zip_bytes({f"z{i}.zip": level})
    path = tmp_path / "nest.zip"
    path.write_bytes(level)
    obj, docs = run(_worker(max_archive_depth=2), path)
    [row] = docs
    assert row["status"] == "skipped" and "max_archive_depth" in row["reason"] and row["member"] == "z2.zip!z1.zip"
    assert obj["status"] == "skipped" and "max_archive_depth" in obj["reason"]


def test_too_many_members_stop_the_archive_and_make_it_partial(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    path.write_bytes(zip_bytes({f"f{i}.txt": b"hello there" for i in range(30)}))
    obj, docs = run(_worker(max_archive_members=10), path)
    assert obj["status"] == "failed" and "max_archive_members" in obj["reason"]
    path2 = tmp_path / "many.tar"
    with tarfile.open(path2, "w") as tf:
        for i in range(30):
            info = tarfile.TarInfo(f"f{i}.txt")
            info.size = 5
            tf.addfile(info, io.BytesIO(b"hello"))
    obj, docs = run(_worker(max_archive_members=10), path2)
    assert obj["status"] == "scanned" and obj["partial"] and "max_archive_members" in obj["reason"]
    assert sum(d["status"] == "scanned" for d in docs) == 10


def test_a_nested_bomb_stops_without_decompressing_it(worker: Worker, tmp_path: Path) -> None:
    obj, docs = run(worker, nested_zip_bomb(tmp_path / "42.zip", fanout=4))
    assert obj["status"] == "failed" and "max_compression_ratio" in obj["reason"]
    assert all("max_compression_ratio" in d["reason"] for d in docs)


def test_a_huge_tar_extended_header_is_refused_not_buffered(worker: Worker, tmp_path: Path) -> None:
    header = tarfile.TarInfo("././@PaxHeader")
    header.type = tarfile.XHDTYPE
    header.size = 3 << 30  # claims 3 GiB of pax records
    path = tmp_path / "pax.tar"
    path.write_bytes(header.tobuf(format=tarfile.USTAR_FORMAT) + b"\0" * 4096)
    obj, _ = run(worker, path)
    assert obj["status"] == "failed" and "extended header" in obj["reason"]


@pytest.mark.parametrize(
    ("name", "unsafe"),
    [("../x", True), ("a/../../x", True), ("/etc/passwd", True), ("C:\\x", True), ("a/b..c", False), ("a/b", False)],
)
def test_unsafe_member_names(name: str, unsafe: bool) -> None:
    assert unsafe_name(name) is unsafe
