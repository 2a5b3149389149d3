"""Marking patterns written by the user (``markings.patterns`` in ``classifiers.yaml``), matched with RE2.

Where a phrase list is not enough (``CLASSIFICATION: SECRET//NOFORN``, a
project code name followed by a number), a marking may be a regular
expression. It runs on RE2 (see :mod:`classifiers.userregex`), so no pattern
can make a scan hang.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from classifiers.base import Detection
from classifiers.markings import ENTITY
from classifiers.settings import MarkingPattern
from classifiers.userregex import compile_user_regex


class MarkingPatternClassifier:
    """User-configured marking patterns, each reported as a confidentiality marking with its own score."""

    name: ClassVar[str] = "markings"

    def __init__(self, patterns: Sequence[MarkingPattern]) -> None:
        self._specs = tuple(patterns)
        self._compiled: list[tuple[MarkingPattern, Any]] = []

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset({ENTITY})

    def setup(self) -> None:
        if not self._compiled:
            self._compiled = [(p, compile_user_regex(p.pattern, ignore_case=p.ignore_case)) for p in self._specs]

    def classify(self, text: str, *, context: Sequence[str] = ()) -> list[Detection]:
        out: list[Detection] = []
        for spec, regex in self._compiled:
            for match in regex.finditer(text):
                start, end = match.span()
                if end > start:
                    out.append(Detection(ENTITY, start, end, spec.score, f"marking-pattern:{spec.name}"))
        return out
