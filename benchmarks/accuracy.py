"""Span-level accuracy scoring of PII detection against the labelled sets in ``shared/data/pii-eval``.

Stdlib only, so it can score any detector's output, not just ingestguard's.

Gold types are mapped to ingestguard/Presidio types before scoring (``GOLD_MAPPING``; ``None`` = not scored):

================================================  ==============
gold type (synth_dataset_v2 / generated_large)    scored as
================================================  ==============
PERSON                                            PERSON
STREET_ADDRESS, ADDRESS, GPE, LOCATION            LOCATION
CREDIT_CARD, PHONE_NUMBER, EMAIL_ADDRESS,         themselves
US_SSN, IBAN_CODE, IP_ADDRESS,
US_DRIVER_LICENSE, DATE_TIME, NRP, AGE,
ORGANIZATION
DOMAIN_NAME                                       URL
TITLE, PREFIX, ZIP_CODE                           (not scored)
================================================  ==============

Predicted types go through ``PRED_MAPPING`` (STREET_ADDRESS/ADDRESS/GPE → LOCATION, DOMAIN_NAME → URL, identity
otherwise). Types absent from either mapping pass through unchanged. Both mappings can be replaced per call, e.g.
``gold_mapping={**GOLD_MAPPING, "ZIP_CODE": "LOCATION"}``; say which mapping a reported number used.

Three match modes, each one-to-one (greedy, best pair first; a gold span and a prediction match at most once):

- ``overlap``: same type, at least one character in common (pairs ranked by overlap length).
- ``exact``: same type, equal ranges once leading/trailing whitespace and trailing ``.,;:`` are stripped from both.
- ``iou75``: any type vs any type ("PII vs not-PII"), character IoU ≥ 0.75 (pairs ranked by IoU). This is the
  convention behind Presidio's published 0.733/0.646/0.661 (P/R/F2); Presidio's own evaluator works on normalised
  tokens and lets one prediction cover several annotations, so numbers are comparable, not identical. Per-type
  rows in this mode credit a match (and a miss) to the gold type and a false positive to the predicted type.

Only spans whose mapped type is in ``scored_types`` count; other predictions are ignored, not false positives.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Mode = Literal["overlap", "exact", "iou75"]
MODES: tuple[Mode, ...] = ("overlap", "exact", "iou75")
IOU_THRESHOLD = 0.75
_TRAILING_PUNCT = ".,;:"

GOLD_MAPPING: dict[str, str | None] = {
    "PERSON": "PERSON",
    "STREET_ADDRESS": "LOCATION",
    "ADDRESS": "LOCATION",
    "GPE": "LOCATION",
    "LOCATION": "LOCATION",
    "CREDIT_CARD": "CREDIT_CARD",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "US_SSN": "US_SSN",
    "IBAN_CODE": "IBAN_CODE",
    "IP_ADDRESS": "IP_ADDRESS",
    "US_DRIVER_LICENSE": "US_DRIVER_LICENSE",
    "DATE_TIME": "DATE_TIME",
    "DOMAIN_NAME": "URL",
    "NRP": "NRP",
    "AGE": "AGE",
    "ORGANIZATION": "ORGANIZATION",
    "TITLE": None,
    "PREFIX": None,
    "ZIP_CODE": None,
}

PRED_MAPPING: dict[str, str | None] = {
    "STREET_ADDRESS": "LOCATION",
    "ADDRESS": "LOCATION",
    "GPE": "LOCATION",
    "DOMAIN_NAME": "URL",
}

#: Every type the gold mapping can produce: the natural ``scored_types`` for a full comparison.
ALL_GOLD_TYPES: frozenset[str] = frozenset(t for t in GOLD_MAPPING.values() if t is not None)


@dataclass(frozen=True)
class Span:
    """A typed character range, ``end`` exclusive."""

    entity_type: str
    start: int
    end: int


@dataclass(frozen=True)
class Sample:
    """One labelled text and its gold spans."""

    text: str
    spans: tuple[Span, ...]


def load_samples(path: str | Path) -> list[Sample]:
    """Read a presidio-research style JSON list (``full_text`` plus ``spans`` with start/end positions)."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return [
        Sample(
            text=item["full_text"],
            spans=tuple(
                Span(s["entity_type"], int(s["start_position"]), int(s["end_position"])) for s in item.get("spans", [])
            ),
        )
        for item in raw
    ]


@dataclass(frozen=True)
class Metrics:
    """Counts and the scores derived from them; any zero denominator gives 0.0."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    def fbeta(self, beta: float) -> float:
        """F-beta; beta > 1 weighs recall higher (a missed PII value costs more than a false alarm)."""
        p, r, b2 = self.precision, self.recall, beta * beta
        return (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0

    @property
    def f1(self) -> float:
        return self.fbeta(1.0)

    @property
    def f2(self) -> float:
        return self.fbeta(2.0)

    def __add__(self, other: Metrics) -> Metrics:
        return Metrics(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


@dataclass(frozen=True)
class Report:
    """Per-mode, per-type counts; ``overall`` is micro-averaged over the scored types."""

    counts: Mapping[str, Mapping[str, Metrics]]

    def per_type(self, mode: Mode) -> dict[str, Metrics]:
        return dict(sorted(self.counts[mode].items()))

    def overall(self, mode: Mode) -> Metrics:
        return sum(self.counts[mode].values(), Metrics())

    def to_rows(self) -> list[dict[str, str | int | float]]:
        """One flat row per (mode, type), then an ``ALL`` row per mode, for tables and CSV."""
        rows: list[dict[str, str | int | float]] = []
        for mode in MODES:
            for name, m in [*self.per_type(mode).items(), ("ALL", self.overall(mode))]:
                rows.append(
                    {
                        "mode": mode,
                        "entity_type": name,
                        "tp": m.tp,
                        "fp": m.fp,
                        "fn": m.fn,
                        "precision": round(m.precision, 4),
                        "recall": round(m.recall, 4),
                        "f1": round(m.f1, 4),
                        "f2": round(m.f2, 4),
                    }
                )
        return rows


@dataclass(frozen=True)
class _Outcome:
    """Matching result for one sample in one mode: matched (gold, pred) pairs and the leftovers."""

    matches: list[tuple[Span, Span]]
    false_positives: list[Span]
    false_negatives: list[Span]


def _mapped(spans: Iterable[Span], mapping: Mapping[str, str | None], scored: Iterable[str]) -> list[Span]:
    keep = set(scored)
    out = []
    for s in spans:
        new_type = mapping.get(s.entity_type, s.entity_type)
        if new_type is not None and new_type in keep:
            out.append(Span(new_type, s.start, s.end))
    return out


def _trimmed(text: str, span: Span) -> tuple[int, int]:
    start, end = span.start, span.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in _TRAILING_PUNCT):
        end -= 1
    return start, end


def _pair_scorer(mode: Mode, text: str) -> Callable[[Span, Span], float | None]:
    """How well a (gold, pred) pair matches in ``mode``; None when it may not match at all."""

    def overlap(g: Span, p: Span) -> float | None:
        inter = min(g.end, p.end) - max(g.start, p.start)
        return float(inter) if inter > 0 and g.entity_type == p.entity_type else None

    def exact(g: Span, p: Span) -> float | None:
        if g.entity_type != p.entity_type:
            return None
        gs, ge = _trimmed(text, g)
        return 1.0 if ge > gs and (gs, ge) == _trimmed(text, p) else None

    def iou(g: Span, p: Span) -> float | None:
        inter = min(g.end, p.end) - max(g.start, p.start)
        if inter <= 0:
            return None
        value = inter / ((g.end - g.start) + (p.end - p.start) - inter)
        return value if value >= IOU_THRESHOLD else None

    return {"overlap": overlap, "exact": exact, "iou75": iou}[mode]


def _match(text: str, gold: Sequence[Span], pred: Sequence[Span], mode: Mode) -> _Outcome:
    """Greedy one-to-one matching, best-scoring pair first (ties: earlier gold, then earlier prediction)."""
    pair_score = _pair_scorer(mode, text)
    candidates = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(pred):
            value = pair_score(g, p)
            if value is not None:
                candidates.append((-value, gi, pi))
    candidates.sort()
    used_gold: set[int] = set()
    used_pred: set[int] = set()
    matches = []
    for _, gi, pi in candidates:
        if gi not in used_gold and pi not in used_pred:
            used_gold.add(gi)
            used_pred.add(pi)
            matches.append((gold[gi], pred[pi]))
    return _Outcome(
        matches=matches,
        false_positives=[p for i, p in enumerate(pred) if i not in used_pred],
        false_negatives=[g for i, g in enumerate(gold) if i not in used_gold],
    )


def _outcomes(
    samples: Sequence[Sample],
    predictions: Sequence[Sequence[Span]],
    mode: Mode,
    scored_types: Iterable[str],
    gold_mapping: Mapping[str, str | None],
    pred_mapping: Mapping[str, str | None],
) -> Iterable[tuple[Sample, _Outcome]]:
    if len(samples) != len(predictions):
        raise ValueError(f"{len(samples)} samples but {len(predictions)} prediction lists")
    scored = set(scored_types)
    for sample, preds in zip(samples, predictions, strict=True):
        gold = _mapped(sample.spans, gold_mapping, scored)
        yield sample, _match(sample.text, gold, _mapped(preds, pred_mapping, scored), mode)


def score(
    samples: Sequence[Sample],
    predictions: Sequence[Sequence[Span]],
    *,
    scored_types: Iterable[str],
    gold_mapping: Mapping[str, str | None] = GOLD_MAPPING,
    pred_mapping: Mapping[str, str | None] = PRED_MAPPING,
) -> Report:
    """Score ``predictions`` (one span list per sample, same order) in every mode."""
    scored = set(scored_types)
    counts: dict[str, dict[str, Metrics]] = {}
    for mode in MODES:
        per_type = dict.fromkeys(scored, Metrics())
        for _, outcome in _outcomes(samples, predictions, mode, scored, gold_mapping, pred_mapping):
            for g, _p in outcome.matches:
                per_type[g.entity_type] += Metrics(tp=1)
            for p in outcome.false_positives:
                per_type[p.entity_type] += Metrics(fp=1)
            for g in outcome.false_negatives:
                per_type[g.entity_type] += Metrics(fn=1)
        counts[mode] = per_type
    return Report(counts)


@dataclass(frozen=True)
class TypeErrors:
    """The most frequent missed (FN) and spurious (FP) strings of one type, with their counts."""

    false_negatives: list[tuple[str, int]]
    false_positives: list[tuple[str, int]]


def errors(
    samples: Sequence[Sample],
    predictions: Sequence[Sequence[Span]],
    *,
    scored_types: Iterable[str],
    gold_mapping: Mapping[str, str | None] = GOLD_MAPPING,
    pred_mapping: Mapping[str, str | None] = PRED_MAPPING,
    mode: Mode = "overlap",
    top: int = 10,
) -> dict[str, TypeErrors]:
    """Per type, the ``top`` most common FN and FP strings in ``mode``, to see what a detector gets wrong."""
    missed: dict[str, Counter[str]] = {}
    spurious: dict[str, Counter[str]] = {}
    for sample, outcome in _outcomes(samples, predictions, mode, scored_types, gold_mapping, pred_mapping):
        for g in outcome.false_negatives:
            missed.setdefault(g.entity_type, Counter())[sample.text[g.start : g.end]] += 1
        for p in outcome.false_positives:
            spurious.setdefault(p.entity_type, Counter())[sample.text[p.start : p.end]] += 1
    return {
        name: TypeErrors(
            false_negatives=missed.get(name, Counter()).most_common(top),
            false_positives=spurious.get(name, Counter()).most_common(top),
        )
        for name in sorted(missed.keys() | spurious.keys())
    }
