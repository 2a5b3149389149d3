"""Safe configuration: user regexes cannot hang a scan (RE2), YAML is loaded safely, no pickle anywhere."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from classifiers.settings import MarkingPattern
from classifiers.userpatterns import MarkingPatternClassifier
from classifiers.userregex import UserRegexError, compile_user_regex
from connectors.local import LocalConnector
from scanner.config import load_settings
from scanner.errors import ConfigError
from scanner.pipeline import ScanTask, Worker
from tests.conftest import TEST_KEY

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("scanner", "classifiers", "connectors", "labels")

#: Exponential on a backtracking engine: (a+)+$ against a^n b tries 2^n splits before failing.
CATASTROPHIC = r"(a+)+$"


def test_a_catastrophic_pattern_runs_in_linear_time() -> None:
    classifier = MarkingPatternClassifier([MarkingPattern(name="redos", pattern=CATASTROPHIC, score=0.9)])
    classifier.setup()
    assert classifier.classify("a" * 1_000_000 + "b") == []
    [hit] = classifier.classify("x aaaa")
    assert (hit.start, hit.end, hit.detector) == (2, 6, "marking-pattern:redos")


def test_a_catastrophic_pattern_in_a_config_cannot_hang_a_scan(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "classifiers.yaml").write_text(
        "markings:\n  patterns:\n"
        f"    - {{name: redos, pattern: '{CATASTROPHIC}', score: 0.9}}\n"
        "    - {name: banner, pattern: 'CLASSIFICATION:\\s*(SECRET|RESTRICTED)', score: 0.9}\n"
    )
    s = load_settings(config)
    off = {"enabled": False}
    classifiers = s.classifiers.model_copy(
        update={
            "patterns": s.classifiers.patterns.model_copy(update=off),
            "ner": s.classifiers.ner.model_copy(update=off),
        }
    )
    worker = Worker(dataclasses.replace(s, classifiers=classifiers), TEST_KEY.encode())
    worker.setup()
    path = tmp_path / "attack.txt"
    path.write_text("CLASSIFICATION: SECRET\n" + "a" * 2_000_000 + "b\n")
    outputs = list(worker.run(ScanTask(0, LocalConnector()._item(path))))  # type: ignore[arg-type]
    row = outputs[-1].object_row
    assert row is not None and row["status"] == "scanned"
    detectors = {f["detector"] for o in outputs for f in o.findings}
    assert "marking-pattern:banner" in detectors


@pytest.mark.parametrize("pattern", [r"(a+)\1", r"(?<=x)a", r"a(?!b)"])
def test_patterns_re2_cannot_run_fail_at_load_time_with_file_and_key(tmp_path: Path, pattern: str) -> None:
    with pytest.raises(UserRegexError, match="RE2"):
        compile_user_regex(pattern)
    (tmp_path / "classifiers.yaml").write_text(
        f"markings:\n  patterns:\n    - {{name: bad, pattern: '{pattern}', score: 0.5}}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    assert "classifiers.yaml" in str(info.value) and "markings.patterns.0" in str(info.value)


def _sources() -> list[Path]:
    return [p for package in PACKAGES for p in (REPO / package).rglob("*.py")]


def test_yaml_is_only_ever_loaded_safely(tmp_path: Path) -> None:
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "yaml":
                assert node.attr not in {"load", "load_all", "unsafe_load", "full_load", "Loader", "UnsafeLoader"}, (
                    f"{path}: yaml.{node.attr}"
                )
    (tmp_path / "scan.yaml").write_text("workers: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(tmp_path)


def test_no_pickle_anywhere_in_the_packages() -> None:
    banned = {"pickle", "cPickle", "cloudpickle", "dill", "shelve", "marshal", "joblib"}
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module.split(".")[0]]
            assert not banned & set(names), f"{path}: imports {banned & set(names)}"
