"""The library entry point: atomic outputs, the missing-model error, golden rows for the bundled examples."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from scanner import scan
from scanner.config import Settings
from scanner.errors import ModelNotInstalledError
from tests.test_cli_e2e import run_cli

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "examples_documents.json"


class _Explode:
    """A progress callback that interrupts the scan after the first object."""

    def listed(self, obj: Any) -> None:
        return None

    def listing_done(self) -> None:
        return None

    def object_done(self, row: Any) -> None:
        raise KeyboardInterrupt


def test_an_interrupted_scan_leaves_no_result_files(tmp_path: Path, settings: Settings) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"{i}.txt").write_text("plain text\n")
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        scan([str(src)], out, settings=settings, engine="serial", progress=_Explode())
    assert sorted(p.name for p in out.iterdir()) == []


def test_missing_spacy_model_is_one_line_naming_model_and_command(tmp_path: Path, cli_env: dict[str, str]) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "classifiers.yaml").write_text(
        "ner:\n  spacy_model: en_core_web_doesnotexist\n  model_install_hint: pip install en-core-web-doesnotexist\n"
        "  entities: [PERSON]\n"
    )
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("hello")
    result = run_cli(
        ["scan", str(tmp_path / "src"), "--out", str(tmp_path / "out"), "--config", str(cfg), "-q"], cli_env
    )
    assert result.returncode == 3
    [line] = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert "en_core_web_doesnotexist" in line and "pip install en-core-web-doesnotexist" in line
    assert "Traceback" not in result.stderr


def test_missing_model_error_type() -> None:
    from classifiers.pii import ensure_spacy_model

    with pytest.raises(ModelNotInstalledError, match="run `pip install x`"):
        ensure_spacy_model("en_core_web_doesnotexist", "pip install x")


def _documents_view(out: Path) -> list[dict[str, Any]]:
    base = (ROOT / "examples").resolve().as_uri() + "/"
    view = []
    for r in pq.read_table(out / "documents.parquet").to_pylist():
        view.append(
            {
                "path": r["uri"].removeprefix(base),
                "record": r["record"],
                "member": r["member"],
                "status": r["status"],
                "label": r["label"],
                "label_rule": r["label_rule"],
                "pattern_entities": sorted(
                    e
                    for e in dict(r["entity_counts"])
                    if e.startswith("SECRET_")
                    or e in {"CREDIT_CARD", "EMAIL_ADDRESS", "US_SSN", "CONFIDENTIALITY_MARKING"}
                ),
            }
        )
    return sorted(view, key=lambda v: (v["path"], v["record"] if v["record"] is not None else -1, v["member"] or ""))


def test_bundled_examples_match_the_golden_rows(tmp_path: Path, settings: Settings) -> None:
    out = tmp_path / "out"
    scan([str(ROOT / "examples")], out, settings=settings, engine="serial")
    view = _documents_view(out)
    if os.environ.get("INGESTGUARD_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(view, indent=1) + "\n")
    assert view == json.loads(GOLDEN.read_text())
