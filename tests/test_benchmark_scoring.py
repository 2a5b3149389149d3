"""Scoring of span predictions against labelled PII data: each match mode by hand, the invariants by property."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.accuracy import (
    GOLD_MAPPING,
    MODES,
    Metrics,
    Sample,
    Span,
    errors,
    load_samples,
    score,
)

V2 = Path(__file__).resolve().parents[2] / "shared" / "data" / "pii-eval" / "synth_dataset_v2.json"
TYPES = {"PERSON", "LOCATION", "CREDIT_CARD"}


def one(text: str, gold: list[Span], pred: list[Span], scored: set[str] | None = None) -> dict[str, Metrics]:
    report = score([Sample(text, tuple(gold))], [pred], scored_types=scored or TYPES)
    return {mode: report.overall(mode) for mode in MODES}


def test_partial_prediction_is_overlap_only() -> None:
    text = "Call John Smith now."
    got = one(text, [Span("PERSON", 5, 15)], [Span("PERSON", 5, 9)])
    assert got["overlap"] == Metrics(tp=1)
    assert got["exact"] == Metrics(fp=1, fn=1)
    assert got["iou75"] == Metrics(fp=1, fn=1)  # 4/10


def test_whitespace_and_trailing_punctuation_still_exact() -> None:
    text = "Billed to Shepherd Ltd. today"
    got = one(text, [Span("PERSON", 10, 23)], [Span("PERSON", 9, 22)])  # " Shepherd Ltd" vs "Shepherd Ltd."
    assert got["exact"] == Metrics(tp=1)
    assert got["overlap"] == Metrics(tp=1)
    assert got["iou75"] == Metrics(tp=1)  # 12/14


def test_iou_threshold_boundary() -> None:
    text = "x" * 20
    assert one(text, [Span("PERSON", 0, 4)], [Span("PERSON", 0, 3)])["iou75"] == Metrics(tp=1)  # 0.75
    assert one(text, [Span("PERSON", 0, 5)], [Span("PERSON", 0, 3)])["iou75"] == Metrics(fp=1, fn=1)  # 0.6


def test_type_mismatch_counts_only_untyped() -> None:
    text = "Paris Hilton arrived."
    report = score([Sample(text, (Span("PERSON", 0, 12),))], [[Span("LOCATION", 0, 12)]], scored_types=TYPES)
    assert report.overall("overlap") == Metrics(fp=1, fn=1)
    assert report.overall("exact") == Metrics(fp=1, fn=1)
    assert report.overall("iou75") == Metrics(tp=1)
    assert report.per_type("overlap")["PERSON"] == Metrics(fn=1)
    assert report.per_type("overlap")["LOCATION"] == Metrics(fp=1)
    assert report.per_type("iou75")["PERSON"] == Metrics(tp=1)  # credited to the gold type


def test_gold_matched_at_most_once() -> None:
    text = "Jane Q Public was here"
    got = one(text, [Span("PERSON", 0, 13)], [Span("PERSON", 0, 4), Span("PERSON", 5, 13)])
    assert got["overlap"] == Metrics(tp=1, fp=1)


def test_prediction_matched_at_most_once() -> None:
    text = "Ann Lee"
    got = one(text, [Span("PERSON", 0, 3), Span("PERSON", 4, 7)], [Span("PERSON", 0, 7)])
    assert got["overlap"] == Metrics(tp=1, fn=1)


def test_greedy_prefers_largest_overlap() -> None:
    # P1 touches gold A by 1 char and gold B by 5; P2 covers A. First-come matching would pair P1 with A.
    text = "a" * 20
    gold = [Span("PERSON", 0, 5), Span("PERSON", 10, 15)]
    got = one(text, gold, [Span("PERSON", 4, 15), Span("PERSON", 0, 5)])
    assert got["overlap"] == Metrics(tp=2)


def test_ignored_types_and_mapping() -> None:
    text = "Dr. Bo lives at 12 Elm St, Oslo 0150, see http://bo.example"
    gold = (
        Span("TITLE", 0, 3),
        Span("PERSON", 4, 6),
        Span("STREET_ADDRESS", 16, 25),
        Span("GPE", 27, 31),
        Span("ZIP_CODE", 32, 36),
        Span("DOMAIN_NAME", 42, 59),
    )
    pred = [Span("PERSON", 4, 6), Span("STREET_ADDRESS", 16, 25), Span("LOCATION", 27, 31), Span("URL", 42, 59)]
    report = score([Sample(text, gold)], [pred], scored_types={"PERSON", "LOCATION"})
    for mode in MODES:  # TITLE/ZIP_CODE unscored, URL not in scored_types: neither FN nor FP
        assert report.overall(mode) == Metrics(tp=3)
    assert set(report.per_type("overlap")) == {"PERSON", "LOCATION"}
    with_zip = score(
        [Sample(text, gold)],
        [pred],
        scored_types={"LOCATION"},
        gold_mapping={**GOLD_MAPPING, "ZIP_CODE": "LOCATION"},
        pred_mapping={"STREET_ADDRESS": None},
    )
    assert with_zip.overall("overlap") == Metrics(tp=1, fn=2)


def test_empty_inputs() -> None:
    report = score([], [], scored_types=TYPES)
    for mode in MODES:
        m = report.overall(mode)
        assert (m.tp, m.fp, m.fn, m.precision, m.recall, m.f1, m.f2) == (0, 0, 0, 0.0, 0.0, 0.0, 0.0)
    assert one("nothing here", [], [])["overlap"] == Metrics()
    assert errors([], [], scored_types=TYPES) == {}


def test_misaligned_predictions_rejected() -> None:
    with pytest.raises(ValueError, match="1 samples but 0"):
        score([Sample("x", ())], [], scored_types=TYPES)


def test_f_scores() -> None:
    m = Metrics(tp=1, fn=1)
    assert (m.precision, m.recall) == (1.0, 0.5)
    assert m.f1 == pytest.approx(2 / 3)
    assert m.f2 == pytest.approx(5 * 0.5 / (4 + 0.5))


def test_rows_and_errors() -> None:
    samples = [Sample("Ann met Bob in Rome", (Span("PERSON", 0, 3), Span("PERSON", 8, 11), Span("GPE", 15, 19)))] * 2
    preds = [[Span("PERSON", 0, 3), Span("PERSON", 4, 7)]] * 2
    rows = score(samples, preds, scored_types={"PERSON", "LOCATION"}).to_rows()
    assert len(rows) == 3 * 3
    all_overlap = next(r for r in rows if r["mode"] == "overlap" and r["entity_type"] == "ALL")
    assert all_overlap == {
        "mode": "overlap", "entity_type": "ALL", "tp": 2, "fp": 2, "fn": 4,
        "precision": 0.5, "recall": 0.3333, "f1": 0.4, "f2": 0.3571,
    }  # fmt: skip
    errs = errors(samples, preds, scored_types={"PERSON", "LOCATION"}, top=5)
    assert errs["PERSON"].false_negatives == [("Bob", 2)]
    assert errs["PERSON"].false_positives == [("met", 2)]
    assert errs["LOCATION"].false_negatives == [("Rome", 2)]
    assert errs["LOCATION"].false_positives == []


# --- properties -----------------------------------------------------------------------------------------------------

_FILLER = st.text(alphabet=" .,;:\n-" + string.ascii_lowercase, max_size=6)
_ENTITY = st.tuples(
    st.sampled_from(string.ascii_letters), st.text(alphabet=string.ascii_letters + " .,'-", max_size=8)
).map("".join)
_GOLD_TYPE = st.sampled_from(["PERSON", "STREET_ADDRESS", "GPE", "CREDIT_CARD", "TITLE", "ZIP_CODE"])
_ANY_TYPE = st.sampled_from(["PERSON", "LOCATION", "STREET_ADDRESS", "CREDIT_CARD", "URL", "TITLE"])


@st.composite
def samples(draw: st.DrawFn) -> Sample:
    """A text made of filler and entity pieces, gold spans non-overlapping (as in the datasets)."""
    text, spans = draw(_FILLER), []
    for entity, kind in draw(st.lists(st.tuples(_ENTITY, _GOLD_TYPE), max_size=5)):
        spans.append(Span(kind, len(text), len(text) + len(entity)))
        text += entity + draw(_FILLER)
    return Sample(text, tuple(spans))


@st.composite
def samples_with_predictions(draw: st.DrawFn) -> tuple[list[Sample], list[list[Span]]]:
    batch = draw(st.lists(samples(), max_size=4))
    preds = []
    for sample in batch:
        n = len(sample.text)
        ranges = st.tuples(st.integers(0, n), st.integers(0, n)).map(sorted)
        preds.append([Span(draw(_ANY_TYPE), a, b) for a, b in draw(st.lists(ranges, max_size=6))])
    return batch, preds


@settings(max_examples=100, deadline=None)
@given(st.lists(samples(), min_size=1, max_size=4))
def test_predicting_gold_is_perfect(batch: list[Sample]) -> None:
    report = score(batch, [list(s.spans) for s in batch], scored_types=TYPES)
    for mode in MODES:
        m = report.overall(mode)
        if m.tp + m.fn == 0:  # only unscored gold types drawn
            assert m == Metrics()
            continue
        assert (m.precision, m.recall, m.f1, m.f2) == (1.0, 1.0, 1.0, 1.0), mode


@settings(max_examples=100, deadline=None)
@given(samples_with_predictions(), st.sampled_from(sorted(TYPES)))
def test_extra_disjoint_prediction_lowers_precision_only(
    data: tuple[list[Sample], list[list[Span]]], kind: str
) -> None:
    batch, preds = data
    if not batch:
        batch, preds = [Sample("", ())], [[]]
    before = score(batch, preds, scored_types=TYPES)
    last = batch[-1]
    extended = Sample(last.text + " zzzz", last.spans)  # appended text: no gold span can overlap the new one
    extra = Span(kind, len(last.text) + 1, len(extended.text))
    after = score([*batch[:-1], extended], [*preds[:-1], [*preds[-1], extra]], scored_types=TYPES)
    for mode in MODES:
        b, a = before.overall(mode), after.overall(mode)
        assert a.recall == b.recall and a.fp == b.fp + 1
        assert a.precision < b.precision if b.precision > 0 else a.precision == 0.0


@settings(max_examples=100, deadline=None)
@given(samples_with_predictions())
def test_metrics_bounded_and_counts_conserved(data: tuple[list[Sample], list[list[Span]]]) -> None:
    batch, preds = data
    report = score(batch, preds, scored_types=TYPES)
    n_gold = sum(GOLD_MAPPING.get(s.entity_type) in TYPES for sample in batch for s in sample.spans)
    n_pred = sum(p.entity_type in TYPES or p.entity_type == "STREET_ADDRESS" for ps in preds for p in ps)
    for mode in MODES:
        overall = report.overall(mode)
        assert (overall.tp + overall.fn, overall.tp + overall.fp) == (n_gold, n_pred)
        for m in [overall, *report.per_type(mode).values()]:
            assert all(0.0 <= v <= 1.0 for v in (m.precision, m.recall, m.f1, m.f2))


# --- the real data ----------------------------------------------------------------------------------------------------


@pytest.mark.skipif(not V2.exists(), reason="shared pii-eval data not present")
def test_load_synth_dataset_v2() -> None:
    loaded = load_samples(V2)
    raw = json.loads(V2.read_text(encoding="utf-8"))
    assert len(loaded) == 1500
    for sample, item in zip(loaded, raw, strict=True):
        assert sample.text == item["full_text"]
        assert [sample.text[s.start : s.end] for s in sample.spans] == [s["entity_value"] for s in item["spans"]]
