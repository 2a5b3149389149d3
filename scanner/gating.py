"""The balanced profile's gate: run NER only where its entities could change a unit's label.

Before NER runs on a window, the cheap classifiers have already spoken. The
gate asks the label rules two questions: what label do the findings give now,
and what is the highest label they could give if NER added up to *U* more
findings, where *U* bounds how many entities NER could still find (the number
of distinct capitalised words that are not common sentence openers: PERSON,
LOCATION and NRP entities are capitalised in English). If the two agree, NER
cannot change the decision and is skipped.

When they differ, NER does not read the whole window: :class:`NerPlan` runs it
on the sentences holding the most candidate words, just enough of them that
the candidates left could no longer change the label if NER found nothing
there, then asks again with what it did find. The rules are monotone (adding
a finding never lowers a label), which makes each answer an upper bound; the
benchmark measures how often balanced and thorough still disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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
    return len(candidate_words(text))


#: Where a sentence ends: terminal punctuation before whitespace, or a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def lower_words(text: str) -> set[str]:
    return {w.lower() for w in _LOWER_WORD.findall(text)}


def candidate_words(text: str, lower: set[str] | None = None) -> set[str]:
    """The capitalised words of ``text`` that could belong to a named entity (see :func:`entity_candidates`);
    ``lower`` is the set of lower-case words of the surrounding text (default: of ``text``)."""
    lower = lower_words(text) if lower is None else lower
    out = set()
    for word in _CAPITALISED.findall(text):
        if word in COMMON_OPENERS or word.lower() in lower:
            continue
        if _INNER_CAPITAL.search(word) and not _NAME_PREFIX.match(word):
            continue
        out.add(word)
    return out


#: Characters of surrounding text NER reads on each side of the sentences it examines.
CONTEXT_CHARS = 40


@dataclass(frozen=True, slots=True)
class Region:
    """Run over ``[lo, hi)`` of the window text; keep what starts in ``[keep_lo, keep_hi)``."""

    lo: int
    hi: int
    keep_lo: int
    keep_hi: int


class NerPlan:
    """Where NER still has to run in one window, asked again after each round of results.

    The window is split into sentences, each with its candidate words. A round
    picks the sentences with the most candidates, just enough of them that, if
    NER found nothing there, the candidates left elsewhere could no longer
    change the label; the next round repeats the question with what NER did
    find. It ends when the label is at the top, or when the remaining
    candidates cannot lift it. When a single entity would change the label, the whole window is read.
    """

    def __init__(self, gate: NerGate, text: str, cheap: Sequence[tuple[Detection, str]]) -> None:
        self._gate = gate
        self._cheap = list(cheap)
        self._whole = (0, len(text))
        self._text = text
        lower = lower_words(text)
        self._sentences = [(lo, hi, candidate_words(text[lo:hi], lower)) for lo, hi in _sentences(text)]
        self._seen: set[str] = set()
        self._done = False

    def next(self, found: Sequence[tuple[Detection, str]] = ()) -> list[Region]:
        """Regions of the window text to run NER on next; empty when no more can matter."""
        if self._done:
            return []
        gate = self._gate
        if gate.always:
            self._done = True
            return [Region(*self._whole, *self._whole)]
        findings = _as_findings([*self._cheap, *found])
        now = gate.labeler.decide(findings).label
        if now.priority >= gate.labeler.top.priority:
            return self._stop()
        open_sentences = [(lo, hi, words - self._seen) for lo, hi, words in self._sentences]
        open_sentences = [s for s in open_sentences if s[2]]
        remaining = set().union(*(w for _, _, w in open_sentences)) if open_sentences else set()
        if gate.labeler.upper_bound(findings, types=gate.types, count=len(remaining)).priority <= now.priority:
            return self._stop()
        # The most candidates that could stay unexamined without being able to change the label.
        safe = 0
        while gate.labeler.upper_bound(findings, types=gate.types, count=safe + 1).priority <= now.priority:
            safe += 1
        if safe == 0 and not found:
            # One entity anywhere would change the label: read the whole window, as thorough does
            # (NER also finds entities that hold no capitalised word).
            self._done = True
            gate.sentences += len(self._sentences)
            return [Region(*self._whole, *self._whole)]
        picked: list[tuple[int, int]] = []
        left = set(remaining)
        for lo, hi, words in sorted(open_sentences, key=lambda s: -len(s[2])):
            if len(left) <= safe:
                break
            picked.append((lo, hi))
            left -= words
            self._seen |= words
        self._sentences = [s for s in self._sentences if (s[0], s[1]) not in set(picked)]
        gate.sentences += len(picked)
        return [self._with_context(lo, hi) for lo, hi in _merge(sorted(picked))]

    def _with_context(self, lo: int, hi: int) -> Region:
        """NER reads some text on each side of the sentences (its decisions depend on nearby words);
        only the entities that start inside the sentences are kept."""
        text, n = self._text, len(self._text)
        a, b = max(0, lo - CONTEXT_CHARS), min(n, hi + CONTEXT_CHARS)
        while a > 0 and not text[a - 1].isspace():
            a -= 1
        while b < n and not text[b].isspace():
            b += 1
        return Region(a, b, lo, hi)

    def _stop(self) -> list[Region]:
        self._done = True
        return []


def _merge(spans: list[tuple[int, int]], gap: int = 2) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in spans:
        if out and lo - out[-1][1] <= gap:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _as_findings(found: Sequence[tuple[Detection, str]]) -> list[Finding]:
    return [
        Finding(
            d.entity_type, d.start, d.end, d.score, Confidence.for_score(d.score), "", "", f"{d.entity_type}:{v}", ""
        )
        for d, v in found
    ]


class NerGate:
    """Plans, per window, where the expensive classifiers (NER) must run: see :class:`NerPlan`."""

    def __init__(self, labeler: Labeler, *, ner_types: Iterable[str], always_for: Iterable[str] = ()) -> None:
        self.labeler = labeler
        self.types = frozenset(ner_types)
        self.always = bool(frozenset(always_for) & self.types)
        self.asked = 0
        self.ran = 0
        self.sentences = 0

    def plan(self, text: str, cheap: Sequence[tuple[Detection, str]]) -> NerPlan:
        self.asked += 1
        return NerPlan(self, text, cheap)
