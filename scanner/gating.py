"""The balanced profile's gate: run NER only where its entities could change a unit's label.

Before NER runs on a window, the cheap classifiers have already spoken. The
gate asks the label rules two questions: what label do the cheap findings give
now, and what is the highest label they could give if NER added up to *U*
more findings, where *U* bounds how many entities NER could find (the number
of distinct capitalised words that are not common sentence openers: PERSON,
LOCATION and NRP entities are capitalised in English). If the two agree, NER
cannot change the decision and is skipped. The rules are monotone (adding a
finding never lowers a label), which makes this an upper bound; the benchmark
measures how often balanced and thorough still disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from classifiers.base import Confidence, Detection, Finding
from labels import Labeler

_CAPITALISED = re.compile(r"(?<![\w.])[A-Z][A-Za-z'’\-]*")

#: Capitalised words that open sentences and headings but are practically never entities.
_OPENERS = """
A About After All Also An And Any Are As At Be Because Before Both But By Can Create Creates Default Do Does
Each Either Else Every Example Examples False For From Get Gets Given He Her Here His How However I If In
Into Is It Its Let May Must My No None Not Note Now Of On Once Only Or Other Otherwise Our Raise Raises
Return Returns See Set Sets She Should Since So Some Such That The Their Then There These They This Those
Thus To True Unless Use Used Uses Using We What When Where Whether Which While Who Why Will With Without Yes
You Your
"""
COMMON_OPENERS = frozenset(_OPENERS.split())


_LOWER_WORD = re.compile(r"\b[a-z][a-z'’\-]*\b")
_INNER_CAPITAL = re.compile(r"[a-z][A-Z]")
#: Names with an inner capital (McDonald, DeVito, O'Neill) are still names; other CamelCase is code.
_NAME_PREFIX = re.compile(r"^(?:Mc|Mac|De|Di|Da|Du|La|Le|Van|Von|O'|O’|D'|D’)[A-Z]")


def entity_candidates(text: str) -> int:
    """Distinct capitalised words that could belong to a named entity.

    Left out: common sentence openers, words the same text also uses in lower
    case (a proper noun rarely appears uncapitalised beside itself), and
    CamelCase identifiers other than name-like ones (``TypeError``, not ``McDonald``).
    """
    lower = {w.lower() for w in _LOWER_WORD.findall(text)}
    out = set()
    for word in _CAPITALISED.findall(text):
        if word in COMMON_OPENERS or word.lower() in lower:
            continue
        if _INNER_CAPITAL.search(word) and not _NAME_PREFIX.match(word):
            continue
        out.add(word)
    return len(out)


class NerGate:
    """Decides, per window, whether the expensive classifiers must run."""

    def __init__(self, labeler: Labeler, *, ner_types: Iterable[str], always_for: Iterable[str] = ()) -> None:
        self._labeler = labeler
        self._types = frozenset(ner_types)
        self._always = bool(frozenset(always_for) & self._types)
        self.asked = 0
        self.ran = 0

    def __call__(self, text: str, cheap: Sequence[tuple[Detection, str]]) -> bool:
        self.asked += 1
        run = self._decide(text, cheap)
        self.ran += run
        return run

    def _decide(self, text: str, cheap: Sequence[tuple[Detection, str]]) -> bool:
        if self._always:
            return True
        findings = [
            Finding(
                d.entity_type,
                d.start,
                d.end,
                d.score,
                Confidence.for_score(d.score),
                "",
                "",
                f"{d.entity_type}:{v}",
                "",
            )
            for d, v in cheap
        ]
        now = self._labeler.decide(findings).label
        if now.priority >= self._labeler.top.priority:
            return False
        candidates = entity_candidates(text)
        if candidates == 0:
            return False
        best = self._labeler.upper_bound(findings, types=self._types, count=candidates)
        return best.priority > now.priority
