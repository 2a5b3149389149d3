"""The rights roll-up on objects.parquet (schema 4): every unit's signals folded into the object's row,
most restrictive wins; read back from the Parquet file, also through an incremental rerun."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from scanner.config import Settings
from scanner.driver import scan
from scanner.pipeline import rights_rollup
from scanner.sinks import SCHEMA_VERSION, conform

EMPTY = {
    "licence_families": [],
    "tdm_reserved": False,
    "ai_opt_out": False,
    "c2pa_state": None,
    "c2pa_not_allowed": [],
    "signals": [],
}


def test_rollup_keeps_the_most_restrictive() -> None:
    rolled = rights_rollup(
        {
            "licence:MIT:permissive",
            "licence:CC-BY-NC-ND-4.0:non-commercial+no-derivatives",
            "c2pa:manifest:untrusted",
            "c2pa:manifest:invalid:assertion.dataHash.mismatch",
            "c2pa:ai_training:constrained",
            "c2pa:ai_inference:allowed",
            "tdm:policy",
        }
    )
    assert rolled["licence_families"] == ["non-commercial", "no-derivatives", "permissive"]
    assert rolled["c2pa_state"] == "invalid"
    assert rolled["c2pa_not_allowed"] == ["ai_training"]
    assert rolled["tdm_reserved"] is False and rolled["ai_opt_out"] is False
    assert rights_rollup(set()) == EMPTY


def _objects(out: Path) -> dict[str, dict[str, Any]]:
    table = pq.read_table(out / "objects.parquet")
    assert table.schema.metadata[b"ingestguard.schema_version"] == SCHEMA_VERSION.encode() == b"4"
    return {r["uri"].rsplit("/", 1)[-1]: r for r in table.to_pylist()}


def test_objects_parquet_carries_the_rollup(tmp_path: Path, settings: Settings) -> None:
    src = tmp_path / "src"
    src.mkdir()
    records = [
        {"id": 1, "header": "SPDX-License-Identifier: MIT", "body": "A ferry timetable."},
        {"id": 2, "header": "SPDX-License-Identifier: CC-BY-NC-4.0", "body": "Harbour photos."},
        {"id": 3, "body": "Opening hours."},
    ]
    (src / "mixed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (src / "page.html").write_text(
        '<html><head><meta name="tdm-reservation" content="1"><meta name="robots" content="noai">'
        "</head><body><p>News of the harbour.</p></body></html>"
    )
    (src / "plain.txt").write_text("Nothing but the tide tables.\n")
    (src / "data.bin").write_bytes(b"\x00\x01")
    state = tmp_path / "state.db"
    scan([str(src)], tmp_path / "out", settings=settings, engine="serial", state=state)
    scan([str(src)], tmp_path / "again", settings=settings, engine="serial", state=state)
    for out in (tmp_path / "out", tmp_path / "again"):  # the rerun writes the stored rows back
        objects = _objects(out)
        assert objects["mixed.jsonl"]["rights"] == {
            **EMPTY,
            "licence_families": ["non-commercial", "permissive"],
            "signals": ["licence:CC-BY-NC-4.0:non-commercial", "licence:MIT:permissive"],
        }
        assert objects["page.html"]["rights"] == {
            **EMPTY,
            "tdm_reserved": True,
            "ai_opt_out": True,
            "signals": ["robots:noai", "tdm:reserved"],
        }
        assert objects["plain.txt"]["rights"] == EMPTY
        assert objects["data.bin"]["status"] == "skipped" and objects["data.bin"]["rights"] is None


def test_older_objects_files_read_with_a_null_rollup() -> None:
    old = pa.table({"uri": ["file:///a"], "status": ["scanned"]})
    assert conform(old, "objects").column("rights").to_pylist() == [None]
