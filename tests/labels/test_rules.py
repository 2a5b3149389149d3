"""Auto-labeling rules: the highest matching label wins; counts, confidence and distinctness matter."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from classifiers.base import Confidence, Finding
from labels import Labeler
from scanner.config import load_settings
from scanner.errors import ConfigError


def f(entity: str, confidence: str = "high", value: str = "v") -> Finding:
    return Finding(entity, 0, 1, 0.9, Confidence(confidence), "test", "test", f"fp-{entity}-{value}", "*")


@pytest.fixture(scope="module")
def labeler() -> Labeler:
    return Labeler(load_settings().labels)


@pytest.mark.parametrize(
    ("findings", "label", "rule"),
    [
        ([], "General", None),
        ([f("SECRET_GITHUB_TOKEN", "low")], "Highly Confidential", "credentials"),
        ([f("US_SSN", "high")], "Highly Confidential", "regulated-identifiers"),
        ([f("US_SSN", "low")], "General", None),
        ([f("EMAIL_ADDRESS")], "Confidential", "contact-details"),
        ([f("PERSON")], "General", None),
        ([f("PERSON"), f("LOCATION")], "General", None),
        ([f("PERSON"), f("PHONE_NUMBER", "low")], "Confidential", "contact-details"),
        ([f("CONFIDENTIALITY_MARKING", "medium")], "Confidential", "marked-confidential"),
        ([f("CONFIDENTIALITY_MARKING", "low")], "General", None),
        ([f("DATE_TIME"), f("URL")], "General", None),
        ([f("EMAIL_ADDRESS"), f("CREDIT_CARD")], "Highly Confidential", "regulated-identifiers"),
    ],
)
def test_shipped_rules(labeler: Labeler, findings: list[Finding], label: str, rule: str | None) -> None:
    decision = labeler.decide(findings)
    assert (decision.label.name, decision.rule) == (label, rule)
    assert decision.method == ("default" if rule is None else "auto")


def test_bulk_personal_data_counts_distinct_values(labeler: Labeler) -> None:
    same = [f("PERSON", value="same")] * 12
    assert labeler.decide(same).label.name != "Highly Confidential"
    many = [f("PERSON", value=str(i)) for i in range(10)]
    assert labeler.decide(many).rule == "bulk-personal-data"


@given(st.lists(st.sampled_from(["US_SSN", "EMAIL_ADDRESS", "PERSON", "URL", "SECRET_JWT", "LOCATION"]), max_size=8))
def test_adding_findings_never_lowers_the_label(entities: list[str]) -> None:
    labeler = Labeler(load_settings().labels)
    prio = 0
    acc: list[Finding] = []
    for e in entities:
        acc.append(f(e, value=str(len(acc))))
        now = labeler.decide(acc).label.priority
        assert now >= prio
        prio = now


def _write_labels(tmp_path: Path, mutate: object) -> Path:
    data = yaml.safe_load((Path(__file__).parents[2] / "configs" / "labels.yaml").read_text())
    mutate(data)  # type: ignore[operator]
    (tmp_path / "labels.yaml").write_text(yaml.safe_dump(data))
    return tmp_path


def test_unknown_entity_fails_at_load_naming_file_and_key(tmp_path: Path) -> None:
    def typo(d: dict) -> None:  # type: ignore[type-arg]
        d["rules"][1]["when"] = {"entity": "US_SNN"}

    with pytest.raises(ConfigError) as err:
        load_settings(_write_labels(tmp_path, typo))
    msg = str(err.value)
    assert str(tmp_path / "labels.yaml") in msg and "rules.1" in msg and "US_SNN" in msg


def test_unknown_label_and_duplicate_priorities_fail(tmp_path: Path) -> None:
    def bad_label(d: dict) -> None:  # type: ignore[type-arg]
        d["rules"][0]["label"] = "Top Secret"

    with pytest.raises(ConfigError, match="Top Secret"):
        load_settings(_write_labels(tmp_path, bad_label))

    def dupe(d: dict) -> None:  # type: ignore[type-arg]
        d["taxonomy"]["labels"][1]["priority"] = 0

    with pytest.raises(ConfigError, match="duplicate label priority"):
        load_settings(_write_labels(tmp_path, dupe))


def test_taxonomy_keeps_guids_and_order() -> None:
    tax = load_settings().labels.taxonomy
    assert tax.names() == ["Public", "General", "Confidential", "Highly Confidential"]
    assert tax.get("confidential").guid == "c2f4b6a8-1d3e-4f5a-8b7c-9d0e1f2a3b32"
    assert tax.get("c2f4b6a8-1d3e-4f5a-8b7c-9d0e1f2a3b32").name == "Confidential"
