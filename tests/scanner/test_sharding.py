"""Large JSONL objects split into shards: boundaries are exact, and the rows equal an unsharded scan's."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.config import Settings
from scanner.driver import scan
from scanner.sharding import ShardReader, plan_shards

lines = st.lists(
    st.one_of(
        st.just(""),
        st.sampled_from(["   ", "\t", " \r"]),
        st.text(alphabet='abc {}":,é', min_size=1, max_size=40).filter(lambda s: s.strip()),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(lines=lines, shard_bytes=st.integers(1, 120), trailing_newline=st.booleans())
def test_shards_cover_the_object_in_whole_lines_with_exact_record_indices(
    lines: list[str], shard_bytes: int, trailing_newline: bool
) -> None:
    data = ("\n".join(lines) + ("\n" if trailing_newline else "")).encode()
    plan = plan_shards(io.BytesIO(data), shard_bytes=shard_bytes)
    assert plan is not None
    assert plan.sha256 == hashlib.sha256(data).hexdigest() and plan.size == len(data)
    if not plan.shards:
        return
    assert plan.shards[0].start == 0 and plan.shards[-1].end == len(data)
    for before, after in zip(plan.shards, plan.shards[1:], strict=False):
        assert before.end == after.start and data[after.start - 1 : after.start] == b"\n"
    for shard in plan.shards:
        preceding = data[: shard.start].split(b"\n")[:-1] if shard.start else []
        assert shard.first_record == sum(1 for line in preceding if line.strip())
        assert io.BufferedReader(ShardReader(io.BytesIO(data), shard)).read() == data[shard.start : shard.end]


def test_utf16_and_binary_objects_are_not_sharded() -> None:
    assert plan_shards(io.BytesIO("a\nb\n".encode("utf-16")), shard_bytes=2) is None
    assert plan_shards(io.BytesIO(b"\x00\x01\x02\n" * 100), shard_bytes=8) is None


def _jsonl(path: Path, count: int) -> None:
    fake = Faker()
    Faker.seed(5)
    out = []
    for i in range(count):
        if i % 17 == 3:
            out.append("")
        elif i % 29 == 7:
            out.append('{"broken": ')  # a record that fails: its index must not shift the others
        else:
            out.append(json.dumps({"id": i, "note": fake.sentence(), "contact": fake.email() if i % 3 else None}))
    path.write_text("\n".join(out) + "\n")


def _rows(out: Path, table: str) -> list[str]:
    return sorted(
        json.dumps(r, sort_keys=True, default=str) for r in pq.read_table(out / f"{table}.parquet").to_pylist()
    )


@pytest.mark.parametrize("state", [False, True])
def test_a_sharded_scan_writes_the_rows_of_an_unsharded_one(settings: Settings, tmp_path: Path, state: bool) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _jsonl(src / "big.jsonl", 400)
    (src / "small.jsonl").write_text('{"note": "tiny"}\n')
    whole = dataclasses.replace(settings, scan=settings.scan.model_copy(update={"shard_bytes": None}))
    split = dataclasses.replace(settings, scan=settings.scan.model_copy(update={"shard_bytes": 4096}))
    assert (src / "big.jsonl").stat().st_size > 8 * 4096  # several shards
    extra = {"state": tmp_path / "state.db"} if state else {}
    scan([str(src)], tmp_path / "whole", settings=whole, engine="local", workers=2)
    summary = scan([str(src)], tmp_path / "split", settings=split, engine="local", workers=2, **extra)
    for table in ("documents", "findings", "objects"):
        assert _rows(tmp_path / "split", table) == _rows(tmp_path / "whole", table), table
    assert summary["objects"] == {"scanned": 2}
    [big] = [r for r in pq.read_table(tmp_path / "split" / "objects.parquet").to_pylist() if "big" in r["uri"]]
    assert big["content_sha256"] == hashlib.sha256((src / "big.jsonl").read_bytes()).hexdigest()
    assert big["units_failed"] > 0 and big["partial"]
