"""The sensitive-information-type catalogue: national, tax, passport, licence, bank and health IDs.

``configs/sit_catalogue.yaml`` lists each type Purview-style — entity, country,
family, patterns with base scores, a validator (python-stdnum, see
:mod:`classifiers.validators`) and context words. :class:`SitClassifier`
applies it in one cheap pass:

* every pattern of every entry is compiled into one :class:`Prefilter`; the
  exact regexes run only in the windows it reports;
* a candidate the validator rejects is dropped (stdnum exceptions count as
  rejections);
* context words within ``context_before``/``context_after`` characters (Purview's
  300) or in the unit's field names raise the score as for Presidio's patterns
  (+0.35, at least 0.4); a ``context_required`` pattern reports nothing without one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from classifiers.base import Confidence, Detection, context_hit, dedupe
from classifiers.entities import CATALOGUE, SIT_ENTITIES
from classifiers.patterns import CONTEXT_BOOST, CONTEXT_FLOOR
from classifiers.prefilter import Prefilter
from classifiers.settings import SitSettings
from classifiers.validators import VALIDATORS, Check
from scanner.errors import ConfigError

SHIPPED = "sit_catalogue.yaml"
#: Words (Unicode letters and digits) in context words and in the text around a match.
_WORD = re.compile(r"[^\W_]+")


def context_key(word: str) -> str:
    """A context word or phrase as it is compared: lower case, words joined by single spaces."""
    return " ".join(_WORD.findall(word.lower()))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SitPattern(_Strict):
    """One regex of an entry with the score a (validated) match gets before context."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")
    regex: str = Field(min_length=1, max_length=2000)
    score: float = Field(gt=0, le=1)
    context_required: bool = False

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        import regex

        try:
            regex.compile(value)
        except regex.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value


class SitEntry(_Strict):
    """A sensitive information type: where it comes from, how it is found and validated."""

    entity: str = Field(pattern=r"^[A-Z][A-Z0-9_]{2,63}$")
    country: str = Field(pattern=r"^(?:[A-Z]{2}|INTL)$")
    family: Literal["government_id", "financial", "health", "personal"]
    description: str = Field(min_length=1, max_length=200)
    validator: str
    context: list[str] = Field(min_length=1)
    patterns: list[SitPattern] = Field(min_length=1)

    @field_validator("validator")
    @classmethod
    def _registered(cls, value: str) -> str:
        if value not in VALIDATORS:
            raise ValueError(f"unknown validator '{value}' (known: {', '.join(sorted(VALIDATORS))})")
        return value

    @field_validator("context")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        for word in value:
            if not context_key(word):
                raise ValueError(f"context word '{word}' has no letters or digits")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SitEntry:
        if self.entity not in SIT_ENTITIES:
            raise ValueError(
                f"entity '{self.entity}' is not registered in classifiers/entities.py (_SIT)"
                + (" (it is another classifier's type)" if self.entity in CATALOGUE else "")
            )
        if SIT_ENTITIES[self.entity].value != self.family:
            raise ValueError(
                f"entity '{self.entity}' is registered as {SIT_ENTITIES[self.entity].value}, not {self.family}"
            )
        names = [p.name for p in self.patterns]
        if len(set(names)) != len(names):
            raise ValueError(f"entity '{self.entity}': pattern names repeat")
        if not self.checksum:
            for p in self.patterns:
                if Confidence.for_score(p.score) is not Confidence.LOW:
                    raise ValueError(
                        f"entity '{self.entity}' pattern '{p.name}': without a checksum a pattern alone scores low"
                    )
        return self

    @property
    def checksum(self) -> bool:
        return VALIDATORS[self.validator].checksum

    @property
    def context_keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(context_key(w) for w in self.context))


class SitCatalogue(_Strict):
    """Everything in ``configs/sit_catalogue.yaml``."""

    entries: list[SitEntry] = Field(min_length=1)

    @field_validator("entries")
    @classmethod
    def _unique(cls, value: list[SitEntry]) -> list[SitEntry]:
        seen: set[str] = set()
        for entry in value:
            if entry.entity in seen:
                raise ValueError(f"entity '{entry.entity}' is listed twice")
            seen.add(entry.entity)
        return value

    def entry(self, entity: str) -> SitEntry:
        for e in self.entries:
            if e.entity == entity:
                return e
        raise KeyError(entity)


def load_catalogue(path: str | Path | None = None) -> SitCatalogue:
    """The catalogue at ``path`` (default: the shipped one), validated; errors name the file and key."""
    source = str(path) if path is not None else f"<shipped>/configs/{SHIPPED}"
    try:
        if path is None:
            text = resources.files("configs").joinpath(SHIPPED).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{source}: cannot read the catalogue: {exc}") from exc
    try:
        return SitCatalogue.model_validate(data)
    except ValidationError as exc:
        problems = [f"{source}: {'.'.join(str(p) for p in e['loc']) or '<top>'}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("invalid catalogue:\n  " + "\n  ".join(problems)) from None


def with_context(score: float) -> float:
    """A score raised by a context word, as Presidio's context enhancer does."""
    return min(1.0, max(score + CONTEXT_BOOST, CONTEXT_FLOOR))


def confidence_rule(entry: SitEntry) -> str:
    """The entry's confidence rule in words (the README table), derived from its scores."""
    verdict = "checksum valid" if entry.checksum else ("format valid" if entry.validator != "none" else "pattern")
    parts = []
    for p in entry.patterns:
        alone = Confidence.for_score(p.score).value
        boosted = Confidence.for_score(with_context(p.score)).value
        if p.context_required:
            parts.append(f"{p.name}: {verdict} + context → {boosted} (none without context)")
        else:
            parts.append(f"{p.name}: {verdict} → {alone}; + context → {boosted}")
    if entry.checksum:
        parts.append("checksum invalid → dropped")
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class _Compiled:
    entity: str
    name: str
    score: float
    context_required: bool
    context: tuple[str, ...]
    validate: Check


class SitClassifier:
    """The catalogue's patterns, one prefilter pass, stdnum validation and context words."""

    name: ClassVar[str] = "sit"
    expensive: ClassVar[bool] = False

    def __init__(self, settings: SitSettings, catalogue: SitCatalogue | None = None) -> None:
        self._settings = settings
        self._catalogue = catalogue if catalogue is not None else load_catalogue()
        wanted = settings.entities
        self._entries = tuple(e for e in self._catalogue.entries if wanted is None or e.entity in wanted)
        self._regexes: list[Any] = []  # compiled ``regex`` patterns, one per distinct source
        self._groups: list[tuple[_Compiled, ...]] = []  # the patterns of each regex
        self._prefilter: Prefilter | None = None

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset(e.entity for e in self._entries)

    def setup(self) -> None:
        if self._prefilter is not None:
            return
        import regex

        loaded: dict[str, Check] = {}
        groups: dict[str, list[_Compiled]] = {}
        for entry in self._entries:
            check = loaded.get(entry.validator)
            if check is None:
                check = loaded[entry.validator] = VALIDATORS[entry.validator].load()
            for p in entry.patterns:
                compiled = _Compiled(entry.entity, p.name, p.score, p.context_required, entry.context_keys, check)
                groups.setdefault(p.regex, []).append(compiled)
        # Entries sharing a regex (a bare nine-digit run is a SIN, a BSN, a SIREN…) share one search.
        self._regexes = [regex.compile(source) for source in groups]
        self._groups = [tuple(group) for group in groups.values()]
        self._prefilter = Prefilter(self._regexes)

    def classify(self, text: str, *, context: Sequence[str] = ()) -> list[Detection]:
        if not text or self._prefilter is None:
            return []
        hits = self._prefilter.scan(text)
        field_seq = [w for c in context for w in _WORD.findall(c.lower())]  # in order: phrases span field words
        field_words, field_joined = set(field_seq), " " + " ".join(field_seq) + " "
        around: dict[tuple[int, int], tuple[set[str], str]] = {}
        lowered = ""
        found: list[Detection] = []
        for i in hits.candidates(len(self._regexes)):
            rx, group = self._regexes[i], self._groups[i]
            spans = hits.spans(i)
            if spans is None:
                matches = list(rx.finditer(text))
            else:
                matches = [m for lo, hi in spans for m in rx.finditer(text, lo, hi)]
            for m in matches:
                start, end = m.span()
                if start == end:
                    continue
                value = m.group()
                for p in group:
                    if not p.validate(value):
                        continue
                    hit = context_hit(field_words, field_joined, p.context)
                    if not hit:
                        window = around.get((start, end))
                        if window is None:
                            lowered = lowered or text.lower()
                            near = (
                                lowered[max(0, start - self._settings.context_before) : start]
                                + " "
                                + lowered[end : end + self._settings.context_after]
                            )
                            words = _WORD.findall(near)
                            window = around[(start, end)] = (set(words), " " + " ".join(words) + " ")
                        hit = context_hit(window[0], window[1], p.context)
                    if p.context_required and not hit:
                        continue
                    score = with_context(p.score) if hit else p.score
                    found.append(Detection(p.entity, start, end, round(score, 4), f"sit:{p.entity}:{p.name}"))
        return dedupe(found)
