"""Profiles: fast has no NER, thorough runs it everywhere, balanced gives thorough's labels."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from classifiers.base import Detection
from labels import Labeler
from scanner.config import Settings
from scanner.driver import scan
from scanner.gating import NerGate, NerPlan, entity_candidates
from tests.test_cli_e2e import rel, run_cli

TEXTS = [
    "The scheduler retries a failed task twice before it gives up.",
    "Maria Gonzalez met Daniel Park in Lisbon to discuss the merger.",
    "Contact Aiko Tanaka at aiko.tanaka@example.net or (312) 555-0119.",
    "Ship the order to Samuel Okafor, 742 Evergreen Terrace, Springfield.",
    ", ".join(
        f"{n} {s}"
        for n, s in zip(
            ["Alice", "Bruno", "Chen", "Dara", "Emil", "Fatima", "Goran", "Hana", "Ivan", "Jana", "Kofi"],
            ["Walker", "Rossi", "Wei", "Okoye", "Berg", "Khan", "Petrov", "Sato", "Novak", "Horak", "Mensah"],
            strict=True,
        )
    )
    + " signed the petition.",
    "USER: my password is hunter22, card 4111 1111 1111 1111",
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("profiles")
    (root / "docs.jsonl").write_text("\n".join(json.dumps({"text": t}) for t in TEXTS) + "\n")
    return root


def _labels_and_types(settings: Settings, corpus: Path, out: Path, profile: str) -> tuple[list[str], list[set[str]]]:
    scan([str(corpus)], out, settings=settings.with_profile(profile), engine="serial")
    docs = sorted(pq.read_table(out / "documents.parquet").to_pylist(), key=lambda r: r["record"])
    return [d["label"] for d in docs], [set(dict(d["entity_counts"])) for d in docs]


def test_profiles_agree_on_labels_and_differ_in_findings(settings: Settings, corpus: Path, tmp_path: Path) -> None:
    fast_labels, fast_types = _labels_and_types(settings, corpus, tmp_path / "fast", "fast")
    bal_labels, bal_types = _labels_and_types(settings, corpus, tmp_path / "balanced", "balanced")
    thr_labels, thr_types = _labels_and_types(settings, corpus, tmp_path / "thorough", "thorough")
    assert bal_labels == thr_labels
    assert thr_labels == [
        "General",
        "General",
        "Confidential",
        "Confidential",
        "Highly Confidential",
        "Highly Confidential",
    ]
    assert not any("PERSON" in t for t in fast_types)
    assert "PERSON" in thr_types[1] and "LOCATION" in thr_types[1]
    assert "PERSON" not in bal_types[1]  # NER could not have changed record 1's label, so balanced skipped it
    assert "PERSON" in bal_types[4]  # eleven names could make bulk personal data: balanced ran NER
    assert fast_labels[4] == "General"  # without NER, the list of names is invisible


def test_entity_candidates_bound() -> None:
    assert entity_candidates("The parser returns None. If it fails, TypeError is raised.") == 0
    assert entity_candidates("Maria met McDonald in Lisbon") == 3


def test_thorough_findings_are_offsets_into_the_text_value(tmp_path: Path, cli_env: dict[str, str]) -> None:
    """The benchmark's contract: scanning {"text": …} records reports offsets into that text."""
    samples = [
        ("Write to anna.berg@example.org today.", "EMAIL_ADDRESS", "anna.berg@example.org"),
        ("Her IBAN is DE89370400440532013000.", "IBAN_CODE", "DE89370400440532013000"),
        ("Daniel Park called.", "PERSON", "Daniel Park"),
    ]
    src = tmp_path / "eval.jsonl"
    src.write_text("\n".join(json.dumps({"text": t}) for t, _, _ in samples) + "\n")
    out = tmp_path / "out"
    result = run_cli(["scan", str(src), "--out", str(out), "--profile", "thorough", "--workers", "1", "-q"], cli_env)
    assert result.returncode == 0, result.stderr
    findings = pq.read_table(out / "findings.parquet").to_pylist()
    for i, (text, entity, value) in enumerate(samples):
        spans = {(f["start"], f["end"]) for f in findings if f["record"] == i and f["entity_type"] == entity}
        assert (text.index(value), text.index(value) + len(value)) in spans
        assert all(f["field"] == "text" for f in findings if f["record"] == i)
    assert rel(tmp_path, findings[0]["uri"]) == "eval.jsonl"


# -- the balanced profile's NER plan ---------------------------------------------------------

_PROSE = "The scheduler retries a failed task twice before it gives up. It logs each retry."


def _gate(settings: Settings, always_for: tuple[str, ...] = ()) -> NerGate:
    return NerGate(Labeler(settings.labels), ner_types=settings.classifiers.ner.entities, always_for=always_for)


def _rounds(plan: NerPlan, text: str, ner: dict[str, str]) -> list[list[str]]:
    """Drive a plan as the runner does, with a stand-in NER that knows ``ner`` (value → type)."""
    rounds: list[list[str]] = []
    found: list[tuple[Detection, str]] = []
    regions = plan.next()
    while regions:
        rounds.append([text[r.keep_lo : r.keep_hi] for r in regions])
        for r in regions:
            for value, entity in ner.items():
                start = text.find(value, r.keep_lo, r.keep_hi)
                if start >= 0:
                    found.append((Detection(entity, start, start + len(value), 0.85, "stand-in"), value))
        regions = plan.next(found)
    return rounds


def test_plan_skips_ner_when_no_entity_could_change_the_label(settings: Settings) -> None:
    gate = _gate(settings)
    assert _rounds(gate.plan(_PROSE, []), _PROSE, {}) == []
    secret = Detection("SECRET_AWS_ACCESS_KEY_ID", 0, 5, 0.9, "x")
    text = "Ana Bo Cy Di Ed Fa Gu Hi Io Ju Ka Lu met."
    assert _rounds(gate.plan(text, [(secret, "AKIA-stand-in")]), text, {}) == []  # already at the top label


def test_plan_reads_only_the_sentences_that_could_still_matter(settings: Settings) -> None:
    names = ["Alice Walker", "Bruno Rossi", "Chen Wei", "Dara Okoye", "Emil Berg", "Fatima Khan"]
    crowded = "Yesterday " + ", ".join(names) + " and Goran Petrov met Hana Sato, Ivan Novak and Jana Horak."
    text = " ".join([_PROSE, crowded, _PROSE, "Reports go to Kofi Mensah weekly.", _PROSE])
    gate = _gate(settings)
    # NER finds only three of the names: with nine candidates left unread elsewhere... none are left.
    rounds = _rounds(gate.plan(text, []), text, {"Alice Walker": "PERSON", "Bruno Rossi": "PERSON"})
    assert rounds and crowded in rounds[0][0]
    read = " ".join(" ".join(r) for r in rounds)
    assert _PROSE not in read  # sentences without candidates are never read
    assert "Kofi Mensah" not in read  # one more candidate could not reach ten distinct values


def test_plan_reads_the_whole_window_when_one_entity_would_change_the_label(settings: Settings) -> None:
    address = Detection("STREET_ADDRESS", 0, 10, 0.7, "x")  # a person beside an address is Confidential
    text = "Ship to 742 Evergreen Terrace.\nnan 06079 signed."
    rounds = _rounds(_gate(settings).plan(text, [(address, "742 Evergreen Terrace")]), text, {})
    assert rounds == [[text]]


def test_plan_reads_everything_for_a_consumer_that_needs_ner_everywhere(settings: Settings) -> None:
    rounds = _rounds(_gate(settings, always_for=("PERSON",)).plan(_PROSE, []), _PROSE, {})
    assert rounds == [[_PROSE]]
