"""The sensitive-information-type catalogue: every entry found when valid, dropped when its checksum fails.

Example values are generated at test time (``sit_examples``); hypothesis draws
the random seeds, so each entry is tried with many values, and a one-digit
corruption of each checksum-bearing value must not be reported at medium or
high confidence.
"""

from __future__ import annotations

import functools
import random
from pathlib import Path

import pytest
import regex
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifiers.base import Confidence, Detection
from classifiers.catalogue import SitCatalogue, SitClassifier, SitEntry, load_catalogue, with_context
from classifiers.entities import CATALOGUE, SIT_ENTITIES, Family
from classifiers.settings import ClassifierSettings, SitSettings
from classifiers.validators import VALIDATORS
from scanner.errors import ConfigError
from tests.classifiers.sit_examples import GENERATORS, example

CAT = load_catalogue()
ENTRIES = {e.entity: e for e in CAT.entries}
CHECKSUM = sorted(e.entity for e in CAT.entries if e.checksum)
#: Words around a value that are no entry's context word.
NEUTRAL = "Value {v} recorded today."


@functools.cache
def classifier() -> SitClassifier:
    c = SitClassifier(SitSettings(), CAT)
    c.setup()
    return c


def with_word(entry: SitEntry, value: str) -> str:
    return f"The {entry.context[0]} on file: {value} (checked)."


def expected(entry: SitEntry, value: str, *, context: bool) -> float | None:
    """The score the catalogue promises for ``value``: the best pattern that matches it whole."""
    scores = [
        with_context(p.score) if context else p.score
        for p in entry.patterns
        if regex.fullmatch(p.regex, value) and (context or not p.context_required)
    ]
    return max(scores) if scores else None


def found(text: str, entity: str, value: str) -> list[Detection]:
    start = text.index(value)
    return [
        d
        for d in classifier().classify(text)
        if d.entity_type == entity and d.start < start + len(value) and start < d.end
    ]


def corrupt(entry: SitEntry, value: str, r: random.Random) -> str | None:
    """``value`` with one digit changed so that the entry's validator rejects it (None: no such change)."""
    check = VALIDATORS[entry.validator].load()
    positions = [i for i, ch in enumerate(value) if ch.isdigit()]
    r.shuffle(positions)
    for i in positions:
        for digit in r.sample("0123456789", 10):
            if digit == value[i]:
                continue
            bad = value[:i] + digit + value[i + 1 :]
            if not check(bad):
                return bad
    return None


# ------------------------------------------------------------------------------------------ the config


def test_catalogue_validates_with_60_entries_in_8_countries() -> None:
    countries = {e.country for e in CAT.entries}
    assert len(CAT.entries) >= 60
    assert len(countries - {"INTL"}) >= 8
    assert {"US", "UK", "DE", "FR", "ES", "IT", "NL", "IN", "AU", "CA"} <= countries
    assert {"government_id", "financial", "health"} <= {e.family for e in CAT.entries}


def test_catalogue_and_entity_registry_agree() -> None:
    assert set(ENTRIES) == set(SIT_ENTITIES)
    assert set(GENERATORS) == set(ENTRIES)
    for entry in CAT.entries:
        assert CATALOGUE[entry.entity] is Family(entry.family)


def test_no_entry_duplicates_a_presidio_type_the_pii_classifier_reports() -> None:
    assert not set(ENTRIES) & set(ClassifierSettings().patterns.entities)
    shipped = yaml.safe_load((Path(__file__).parents[2] / "configs" / "classifiers.yaml").read_text())
    assert not set(ENTRIES) & set(shipped["patterns"]["entities"])


def test_checksum_schemes_use_stdnum_and_every_scheme_has_a_validator_name() -> None:
    for entry in CAT.entries:
        spec = VALIDATORS[entry.validator]
        if entry.checksum:
            assert "stdnum" in spec.source or "presidio" in spec.source


def _bad_catalogue(tmp_path: Path, **change: object) -> Path:
    entry = {**yaml.safe_load(yaml.safe_dump(CAT.entries[0].model_dump())), **change}
    path = tmp_path / "cat.yaml"
    path.write_text(yaml.safe_dump({"entries": [entry]}))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"validator": "xx.nope"}, "unknown validator"),
        ({"family": "health"}, "registered as government_id"),
        ({"entity": "XX_UNKNOWN"}, "not registered"),
        ({"entity": "US_SSN"}, "another classifier"),
        ({"patterns": [{"name": "p", "regex": r"\d{9}", "score": 0.8}]}, "without a checksum"),
        ({"patterns": [{"name": "p", "regex": "([", "score": 0.3}]}, "not a valid regular expression"),
        ({"context": ["--"]}, "no letters or digits"),
    ],
)
def test_a_bad_catalogue_fails_at_load_naming_file_and_key(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    path = _bad_catalogue(tmp_path, **change)
    with pytest.raises(ConfigError) as err:
        load_catalogue(path)
    assert str(path) in str(err.value)
    assert "entries.0" in str(err.value)
    assert message in str(err.value)


def test_settings_refuse_unknown_sit_entities_and_sit_types_under_patterns() -> None:
    with pytest.raises(ValueError, match="not in the sit catalogue"):
        SitSettings(entities=["US_SSN"])
    with pytest.raises(ValueError, match="reported by the sit catalogue"):
        ClassifierSettings.model_validate({"patterns": {"entities": ["DE_TAX_ID"]}})


def test_sit_entities_restrict_the_classifier() -> None:
    only = SitClassifier(SitSettings(entities=["ES_NIF"]), CAT)
    only.setup()
    assert only.entity_types == {"ES_NIF"}
    text = "DNI 12345678Z, codice fiscale " + example("IT_FISCAL_CODE", random.Random(1))
    assert {d.entity_type for d in only.classify(text)} == {"ES_NIF"}


# ------------------------------------------------------------------------------------------ per entry


@pytest.mark.parametrize("entity", sorted(ENTRIES))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_valid_values_are_found_with_the_promised_confidence(entity: str, seed: int) -> None:
    entry = ENTRIES[entity]
    value = example(entity, random.Random(seed))
    # With a context word: every entry reports it; checksum schemes at high confidence.
    text = with_word(entry, value)
    hits = found(text, entity, value)
    promised = expected(entry, value, context=True)
    assert promised is not None
    assert [(text[d.start : d.end], d.score) for d in hits] == [(value, pytest.approx(promised))], (value, hits)
    assert hits[0].detector.startswith(f"sit:{entity}:")
    confidence = Confidence.for_score(hits[0].score)
    assert confidence is (Confidence.HIGH if entry.checksum else confidence)
    assert confidence.rank >= Confidence.MEDIUM.rank
    # Without one: only patterns that stand alone report, at their base score (low without a checksum).
    text = NEUTRAL.format(v=value)
    hits = found(text, entity, value)
    alone = expected(entry, value, context=False)
    if alone is None:
        assert hits == []
    else:
        assert [(text[d.start : d.end], d.score) for d in hits] == [(value, pytest.approx(alone))]
        if not entry.checksum:
            assert Confidence.for_score(alone) is Confidence.LOW


@pytest.mark.parametrize("entity", CHECKSUM)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_a_one_digit_change_is_not_reported_at_medium_or_high(entity: str, seed: int) -> None:
    entry = ENTRIES[entity]
    r = random.Random(seed)
    value = example(entity, r)
    bad = corrupt(entry, value, r)
    assert bad is not None, f"no one-digit change of {value!r} fails the checksum"
    for text in (with_word(entry, bad), NEUTRAL.format(v=bad)):
        strong = [d for d in found(text, entity, bad) if Confidence.for_score(d.score).rank >= Confidence.MEDIUM.rank]
        assert strong == [], (bad, strong)


@pytest.mark.parametrize("entity", sorted(ENTRIES))
def test_every_pattern_is_exercised_by_the_examples(entity: str) -> None:
    entry = ENTRIES[entity]
    seen: set[str] = set()
    r = random.Random(7)
    for _ in range(200):
        value = example(entity, r)
        seen |= {p.name for p in entry.patterns if regex.fullmatch(p.regex, value)}
    missing = {p.name for p in entry.patterns} - seen
    assert not missing, f"{entity}: no generated example matches pattern(s) {sorted(missing)}"


# ------------------------------------------------------------------------------------------ context


def test_context_words_count_within_purview_proximity_and_in_field_names() -> None:
    entry = ENTRIES["DE_TAX_ID"]
    value = example("DE_TAX_ID", random.Random(3)).replace(" ", "")  # bare digits: context required
    filler = "x " * 200  # 400 characters
    near = f"Steuer-ID {'y ' * 120}{value}"  # 240 characters away: within 300
    far = f"Steuer-ID {filler}{value}"
    assert [d.score for d in found(near, "DE_TAX_ID", value)] == [pytest.approx(with_context(entry.patterns[1].score))]
    assert found(far, "DE_TAX_ID", value) == []
    after = f"{value} {'y ' * 120} (Steueridentifikationsnummer)"
    assert found(after, "DE_TAX_ID", value) != []
    # A record's field name is context too.
    dets = classifier().classify(value, context=["steuer id"])
    assert [d.entity_type for d in dets if d.entity_type == "DE_TAX_ID"] == ["DE_TAX_ID"]


def test_multi_word_and_accented_context_words() -> None:
    value = example("FR_NIR", random.Random(5))
    text = f"Numéro de sécurité sociale : {value}"
    (det,) = found(text, "FR_NIR", value)
    assert det.score == 1.0
    plain = NEUTRAL.format(v=value)
    (det,) = found(plain, "FR_NIR", value)
    assert Confidence.for_score(det.score) is Confidence.HIGH  # a 15-digit NIR with its mod-97 key stands alone


def test_a_context_word_raises_pattern_only_entries_from_low_to_medium() -> None:
    text_alone = "Ref AB 12 34 56 C."
    text_ctx = "National Insurance number AB 12 34 56 C."
    (alone,) = found(text_alone, "UK_NINO", "AB 12 34 56 C")
    (ctx,) = found(text_ctx, "UK_NINO", "AB 12 34 56 C")
    assert Confidence.for_score(alone.score) is Confidence.LOW
    assert Confidence.for_score(ctx.score).rank > Confidence.LOW.rank


# ------------------------------------------------------------------------------------------ prose


def test_ordinary_prose_yields_almost_no_findings_at_medium_or_high(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.corpus import documents

    docs = list(documents(50, pii_share=0.0))
    strong = low = 0
    flagged = 0
    for doc in docs:
        dets = classifier().classify(doc)
        medium_up = [d for d in dets if Confidence.for_score(d.score).rank >= Confidence.MEDIUM.rank]
        strong += len(medium_up)
        low += len(dets) - len(medium_up)
        flagged += bool(medium_up)
    with capsys.disabled():
        print(
            f"\nsit catalogue on {len(docs)} prose documents: {strong} findings at medium+ "
            f"({flagged / len(docs):.0%} of documents), {low} at low"
        )
    assert flagged <= 1  # at most one document in 50 (2%) gets a medium+ catalogue finding


def test_documents_with_pii_sentences_only_report_what_is_there() -> None:
    from benchmarks.corpus import documents

    docs = list(documents(50))
    strong = [
        d
        for doc in docs
        for d in classifier().classify(doc)
        if Confidence.for_score(d.score).rank >= Confidence.MEDIUM.rank
    ]
    assert len(strong) <= 5


# ------------------------------------------------------------------------------------------ wiring


def test_every_profile_runs_the_catalogue_and_labels_identifiers_highly_confidential() -> None:
    from classifiers.base import Finding
    from labels import Labeler
    from scanner.config import load_settings
    from scanner.pipeline import build_classifiers

    settings_ = load_settings()
    for profile in ("fast", "balanced", "thorough"):
        names = [c.name for c in build_classifiers(settings_, b"k" * 32, profile=profile).classifiers]
        assert "sit" in names
    group = set(settings_.labels.groups["national_ids"])
    wanted = {n for n, f in SIT_ENTITIES.items() if f in {Family.GOVERNMENT_ID, Family.FINANCIAL, Family.HEALTH}}
    assert group == wanted
    labeler = Labeler(settings_.labels)

    def finding(entity: str, score: float) -> Finding:
        return Finding(entity, 0, 9, score, Confidence.for_score(score), "sit", f"sit:{entity}:x", "f" * 32, "*" * 9)

    assert labeler.decide([finding("DE_TAX_ID", 0.95)]).label.name == "Highly Confidential"
    assert labeler.decide([finding("AU_MEDICARE", 0.8)]).label.name == "Highly Confidential"
    assert labeler.decide([finding("UK_NINO", 0.5)]).label.name != "Highly Confidential"


def test_readme_table_matches_the_catalogue() -> None:
    from benchmarks.sit_table import README, render, section

    table = section(README.read_text(encoding="utf-8"))
    assert table is not None, "README.md lacks the sit-table markers"
    assert table == render(), "README table is stale: run python -m benchmarks.sit_table"
    for entity in ENTRIES:
        assert f"`{entity}`" in table


def test_catalogue_model_round_trips() -> None:
    assert SitCatalogue.model_validate(CAT.model_dump()) == CAT
