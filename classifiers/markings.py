"""Confidentiality markings: "CONFIDENTIAL", "internal use only", "attorney-client privileged" …

A phrase used as a marking (upper case, alone on its line, in a banner) scores
higher than the same words in running prose ("keep this confidential").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

from classifiers.base import Detection
from classifiers.prefilter import Prefilter
from classifiers.settings import MarkingsSettings

ENTITY = "CONFIDENTIALITY_MARKING"


def _phrase_regex(phrase: str) -> str:
    words = [re.escape(w) for w in re.split(r"[\s\-_/]+", phrase.strip()) if w]
    return r"[\s\-_/]+".join(words)


class MarkingsClassifier:
    """Phrase list from the config, one compiled alternation, scored by how the phrase stands."""

    name: ClassVar[str] = "markings"

    def __init__(self, settings: MarkingsSettings) -> None:
        self._settings = settings
        self._regex: re.Pattern[str] | None = None
        self._prefilter: Prefilter | None = None
        self._scores: list[float] = []

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset({ENTITY})

    def setup(self) -> None:
        phrases = sorted(self._settings.phrases, key=lambda p: -len(p.phrase))
        if not phrases:
            self._regex = None
            return
        groups = [f"(?P<p{i}>{_phrase_regex(p.phrase)})" for i, p in enumerate(phrases)]
        self._regex = re.compile(r"(?<![\w])(?:" + "|".join(groups) + r")(?![\w])", re.IGNORECASE)
        self._scores = [p.score for p in phrases]
        self._prefilter = Prefilter([self._regex])

    def classify(self, text: str, *, context: Sequence[str] = ()) -> list[Detection]:
        if self._regex is None or self._prefilter is None:
            return []
        hits = self._prefilter.scan(text)
        if not hits.any(0):
            return []
        spans = hits.spans(0)
        matches = (
            self._regex.finditer(text)
            if spans is None
            else (m for lo, hi in spans for m in self._regex.finditer(text, lo, hi))
        )
        out: list[Detection] = []
        for match in matches:
            index = int((match.lastgroup or "p0")[1:])
            score = self._scores[index]
            if self._stands_as_marking(text, match.start(), match.end()):
                score = min(1.0, score + self._settings.banner_boost)
            out.append(Detection(ENTITY, match.start(), match.end(), round(score, 4), "marking-phrase"))
        return out

    @staticmethod
    def _stands_as_marking(text: str, start: int, end: int) -> bool:
        value = text[start:end]
        if value.isupper():
            return True
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line = text[line_start : len(text) if line_end < 0 else line_end]
        return len(line.strip(" \t*#-_=[]():|.")) <= len(value) + 2
