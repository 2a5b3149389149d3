"""Consumers of documents — models in training, RAG indexes, agents — and what each may ingest.

Loaded from ``configs/consumers.yaml`` (or any file) and validated: an unknown
entity type, label or kind fails at load time with the file, key and expected form.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from classifiers.entities import expand
from classifiers.licences import LicenceFamily
from scanner.errors import ConfigError

#: Risk types consumers may refuse (found by the AI-risk classifiers).
KNOWN_RISKS = frozenset({"PROMPT_INJECTION", "HIDDEN_TEXT", "EXFIL_LINK"})


class Kind(StrEnum):
    MODEL = "model"
    RAG_INDEX = "rag_index"
    AGENT = "agent"


class Purpose(StrEnum):
    TRAINING = "training"
    FINE_TUNING = "fine_tuning"
    RAG = "rag"
    EVALUATION = "evaluation"


#: Purposes that train a model: by default they take only permissive and public-domain licences.
TRAINING_PURPOSES = frozenset({Purpose.TRAINING, Purpose.FINE_TUNING})
TRAINING_DEFAULT_FAMILIES = frozenset({LicenceFamily.PERMISSIVE, LicenceFamily.PUBLIC_DOMAIN})

#: The uses of a C2PA/CAWG training-mining assertion each purpose makes (``data_mining`` counts for
#: every purpose as a TDM reservation): RAG and evaluation run inference, training and fine-tuning
#: train a generative model (which is training too).
C2PA_USES: dict[Purpose, tuple[str, ...]] = {
    Purpose.RAG: ("ai_inference",),
    Purpose.EVALUATION: ("ai_inference",),
    Purpose.TRAINING: ("ai_generative_training", "ai_training"),
    Purpose.FINE_TUNING: ("ai_generative_training", "ai_training"),
}


class Consumer(BaseModel):
    """One consumer and its policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    kind: Kind
    purposes: list[Purpose] = Field(min_length=1)
    description: str = ""
    max_label: str
    deny_entities: list[str] = Field(default_factory=list)
    redact_entities: list[str] = Field(default_factory=list)
    deny_risks: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=lambda: ["**"], min_length=1)
    #: Licence families this consumer may take (``licence:…`` rights signals). None: for training and
    #: fine-tuning consumers permissive and public-domain only, for the others every family.
    allowed_licence_families: list[LicenceFamily] | None = None
    #: Deny text carrying a machine-readable reservation: TDMRep ``tdm-reservation``, robots ``noai``,
    #: a C2PA/CAWG training-mining entry that is notAllowed or constrained for this consumer's purposes.
    respect_tdm_opt_out: bool = True

    @field_validator("deny_entities", "redact_entities")
    @classmethod
    def _known_entities(cls, value: list[str]) -> list[str]:
        for name in value:
            if not expand(name):
                raise ValueError(f"'{name}' matches no known entity type")
        return value

    @field_validator("deny_risks")
    @classmethod
    def _known_risks(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - KNOWN_RISKS)
        if unknown:
            raise ValueError(f"unknown risk {', '.join(unknown)} (known: {', '.join(sorted(KNOWN_RISKS))})")
        return value

    def denied_types(self) -> frozenset[str]:
        return frozenset(n for p in self.deny_entities for n in expand(p))

    def redacted_types(self) -> frozenset[str]:
        return frozenset(n for p in self.redact_entities for n in expand(p))

    def licence_families(self) -> frozenset[LicenceFamily]:
        """The licence families allowed, the default resolved by purpose."""
        if self.allowed_licence_families is not None:
            return frozenset(self.allowed_licence_families)
        if TRAINING_PURPOSES & set(self.purposes):
            return TRAINING_DEFAULT_FAMILIES
        return frozenset(LicenceFamily)

    def c2pa_uses(self) -> tuple[str, ...]:
        """The C2PA training-mining uses this consumer's purposes make, ``data_mining`` first."""
        return tuple(dict.fromkeys(["data_mining", *(u for p in self.purposes for u in C2PA_USES[p])]))


class ConsumerPolicy(BaseModel):
    """Every consumer, with unique ids."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    consumers: list[Consumer] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ConsumerPolicy:
        ids = [c.id for c in self.consumers]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate consumer id: {', '.join(dupes)}")
        return self

    def get(self, consumer_id: str) -> Consumer:
        for consumer in self.consumers:
            if consumer.id == consumer_id:
                return consumer
        raise KeyError(f"no consumer '{consumer_id}' (consumers: {', '.join(c.id for c in self.consumers)})")

    def check_labels(self, label_names: Sequence[str], source: str) -> None:
        known = {n.lower() for n in label_names}
        for i, consumer in enumerate(self.consumers):
            if consumer.max_label.lower() not in known:
                raise ConfigError(
                    f"{source}: consumers.{i}.max_label: unknown label '{consumer.max_label}' "
                    f"(labels: {', '.join(label_names)})"
                )

    def fingerprint(self) -> str:
        """SHA-256 of the policy's canonical JSON: the manifest records which policy decided."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


def load_consumers(path: str | Path, *, label_names: Sequence[str]) -> ConsumerPolicy:
    """Load and validate a consumers file against the taxonomy's label names."""
    source = str(path)
    try:
        data: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read consumers file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    try:
        policy = ConsumerPolicy.model_validate(data)
    except ValidationError as exc:
        problems = [f"{source}: {'.'.join(str(p) for p in e['loc']) or '<top>'}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("invalid consumers:\n  " + "\n  ".join(problems)) from None
    policy.check_labels(label_names, source)
    return policy
