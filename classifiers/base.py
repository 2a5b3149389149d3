"""The classifier protocol and the records every classifier speaks.

A classifier has a stable ``name``, declares the entity types it can report,
loads anything heavy in :meth:`Classifier.setup` (once per worker), and
classifies text in a pure :meth:`Classifier.classify`. It returns
:class:`Detection` spans; the scanner turns them into :class:`Finding` rows
with a keyed fingerprint and a masked form, so no classifier ever hands a raw
value onward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Protocol


class Confidence(StrEnum):
    """Purview's confidence levels: low (65), medium (75), high (85)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def for_score(cls, score: float) -> Confidence:
        """Map a 0..1 score onto Purview's scale: ≥0.85 high, ≥0.75 medium, else low."""
        if score >= 0.85:
            return cls.HIGH
        if score >= 0.75:
            return cls.MEDIUM
        return cls.LOW


_RANK = {Confidence.LOW: 1, Confidence.MEDIUM: 2, Confidence.HIGH: 3}


@dataclass(frozen=True, slots=True)
class Detection:
    """A span a classifier found: offsets into the text it was given, never the value."""

    entity_type: str
    start: int
    end: int
    score: float
    detector: str


@dataclass(frozen=True, slots=True)
class Finding:
    """A detection placed in its unit, with a keyed fingerprint and a masked form of the value.

    ``start``/``end`` are offsets into ``field``'s value for record units, or
    into the unit's extracted text when ``field`` is None.
    """

    entity_type: str
    start: int
    end: int
    score: float
    confidence: Confidence
    classifier: str
    detector: str
    fingerprint: str
    masked: str
    field: str | None = None


class Classifier(Protocol):
    """A detector family (personal data, secrets, markings, AI risks)."""

    name: ClassVar[str]

    @property
    def entity_types(self) -> frozenset[str]:
        """Every entity type this classifier may report, as configured."""
        ...

    def setup(self) -> None:
        """Load models and compile patterns; called once per worker before any classify."""
        ...

    def classify(self, text: str, *, context: Sequence[str] = ()) -> list[Detection]:
        """Find entities in ``text``; ``context`` carries words such as field names."""
        ...


def context_hit(words: set[str], joined: str, context: Sequence[str]) -> bool:
    """Whether a context word (or its plural) is among ``words``, or a context phrase stands in
    ``joined`` (the same words, space-separated and padded with a space at each end)."""
    for key in context:
        if " " in key:
            if f" {key} " in joined:
                return True
        elif key in words or key + "s" in words:
            return True
    return False


def dedupe(found: list[Detection]) -> list[Detection]:
    """Of overlapping detections of one type keep the best (highest score, then longest)."""
    kept: list[Detection] = []
    for det in sorted(found, key=lambda d: (-d.score, -(d.end - d.start), d.start)):
        if any(k.entity_type == det.entity_type and k.start < det.end and det.start < k.end for k in kept):
            continue
        kept.append(det)
    return sorted(kept, key=lambda d: (d.start, d.end, d.entity_type))
