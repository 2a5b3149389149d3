"""Street addresses (STREET_ADDRESS): a house number beside a street name with a street-type word.

Presidio has no street-address recognizer (its NER finds cities, not streets),
so an address line is invisible to it. These patterns cover the common
English-language form (``742 Evergreen Terrace``, ``10 Downing St., Apt 4``)
and continental forms where the street type is a suffix or a leading word
(``Koskikatu 25``, ``Hauptstraße 5``, ``Rue de Rivoli 12``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import ClassVar

from classifiers.base import Detection
from classifiers.prefilter import Prefilter

ENTITY = "STREET_ADDRESS"

_TYPES = (
    r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|Square|Sq|"
    r"Parkway|Pkwy|Highway|Hwy|Circle|Cir|Trail|Trl|Crescent|Cres|Close|Gardens|Gdns|Row|Alley|Plaza|Mews|Grove|"
    r"Hill|Park|Walk|Loop|Pike|Path|Run|Point|Ridge|View|Heights"
)
_UNIT = r"(?:,?\s*(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|#)\.?\s*#?\w{1,6})?"
_NAME = r"(?:[A-Z][\w'’.-]*\s+){1,4}"
_SUFFIXED = (
    r"straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|katu|tie|kuja|gatan|vägen|väg|gata|vej|gade|laan|straat|"
    r"plein|gracht|utca|ulica|cesta|iela|gatve"
)
_LEADING = r"Rue|Avenue|Boulevard|Via|Viale|Piazza|Calle|Avenida|Carrer|Rua|Praça|Plaza|Paseo|Chemin|Place"

_PATTERNS: tuple[tuple[str, re.Pattern[str], float], ...] = (
    ("number-name-type", re.compile(rf"\b\d{{1,6}}[A-Za-z]?\s+{_NAME}(?:{_TYPES})\b\.?{_UNIT}"), 0.7),
    (
        "name-suffix-number",
        re.compile(rf"\b[A-ZÄÖÜÅ][\w'’-]*(?:{_SUFFIXED})\s+\d{{1,5}}[a-zA-Z]?\b{_UNIT}", re.UNICODE),
        0.7,
    ),
    ("leading-type-number", re.compile(rf"\b(?:{_LEADING})\s+(?:[\w'’-]+\s+){{1,4}}?\d{{1,5}}[a-zA-Z]?\b{_UNIT}"), 0.6),
    ("number-leading-type", re.compile(rf"\b\d{{1,5}}[a-zA-Z]?,?\s+(?:{_LEADING})\s+(?:[A-Z][\w'’-]*\s*){{1,4}}"), 0.6),
)
_CONTEXT = re.compile(
    r"\b(?:address|addr|lives?|living|located|ship|shipping|deliver|delivery|mail|residence|home)\b", re.I
)
CONTEXT_BOOST = 0.2
_DIGIT = re.compile(r"\d")


@functools.cache
def _prefilter() -> Prefilter:
    return Prefilter([regex for _, regex, _ in _PATTERNS])


_WHOLE_TEXT = Prefilter([None] * len(_PATTERNS))


class StreetAddressClassifier:
    """Street-address lines by pattern, with address words nearby raising the score."""

    name: ClassVar[str] = "addresses"
    expensive: ClassVar[bool] = False

    def __init__(self, *, prefilter: bool = True) -> None:
        #: False: every pattern over the whole text (the reference the prefiltered path must equal).
        self._prefiltered = prefilter

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset({ENTITY})

    def setup(self) -> None:
        _prefilter()

    def classify(self, text: str, *, context: Sequence[str] = ()) -> list[Detection]:
        if text.isascii():
            if not any(d in text for d in "0123456789"):  # ten substring tests: cheaper than searching \d
                return []
        elif _DIGIT.search(text) is None:
            return []
        hits = (_prefilter() if self._prefiltered else _WHOLE_TEXT).scan(text)
        field_hit = any(_CONTEXT.search(c) for c in context)
        found: list[Detection] = []
        for i, (name, regex, score) in enumerate(_PATTERNS):
            if not hits.any(i):
                continue
            spans = hits.spans(i)
            matches = (
                regex.finditer(text) if spans is None else (m for lo, hi in spans for m in regex.finditer(text, lo, hi))
            )
            for m in matches:
                value = m.group(0).rstrip(" ,")
                if field_hit or _CONTEXT.search(text, max(0, m.start() - 80), m.start()):
                    score_now = min(1.0, score + CONTEXT_BOOST)
                else:
                    score_now = score
                found.append(Detection(ENTITY, m.start(), m.start() + len(value), score_now, f"street-address:{name}"))
        found.sort(key=lambda d: (-(d.end - d.start), d.start))
        kept: list[Detection] = []
        for det in found:
            if not any(k.start < det.end and det.start < k.end for k in kept):
                kept.append(det)
        return sorted(kept, key=lambda d: d.start)
