"""Auto-labeling rules as data: conditions on what was found, the highest-priority match wins.

A rule names a label and a condition tree. A leaf condition counts findings of
an entity type (or glob, or a named group of types) at or above a confidence
level, optionally counting distinct values (by fingerprint) only; ``any`` and
``all`` combine leaves. This mirrors Purview's auto-labeling policies, where a
rule is "N instances of sensitive information type T at confidence C".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from classifiers.base import Confidence, Finding
from classifiers.entities import CATALOGUE, expand, is_personal
from labels.taxonomy import Label, Taxonomy


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Match(_Strict):
    """Count findings of ``entity`` (name or glob) or of a ``group``; true when the count reaches ``min_count``."""

    entity: str | None = None
    group: str | None = None
    min_count: int = Field(default=1, ge=1)
    min_confidence: Confidence = Confidence.LOW
    distinct: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> Match:
        if (self.entity is None) == (self.group is None):
            raise ValueError("a condition names exactly one of 'entity' or 'group'")
        if self.entity is not None and not expand(self.entity):
            raise ValueError(f"'{self.entity}' matches no known entity type")
        return self


class AnyOf(_Strict):
    any: list[Condition] = Field(min_length=1)


class AllOf(_Strict):
    all: list[Condition] = Field(min_length=1)


Condition = Union[Match, AnyOf, AllOf]  # noqa: UP007 - recursive alias pydantic resolves by name
AnyOf.model_rebuild()
AllOf.model_rebuild()


class Rule(_Strict):
    name: str = Field(min_length=1)
    label: str
    when: Condition
    description: str = ""


#: Groups every config has; ``personal`` is every personal-data entity type in the catalogue.
BUILTIN_GROUPS: dict[str, list[str]] = {"personal": sorted(n for n in CATALOGUE if is_personal(n))}


class LabelPolicy(_Strict):
    """Everything in ``configs/labels.yaml``: the taxonomy, the default label, groups and rules."""

    taxonomy: Taxonomy
    default_label: str
    groups: dict[str, list[str]] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)

    @field_validator("groups")
    @classmethod
    def _known_members(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for group, members in value.items():
            for member in members:
                if not expand(member):
                    raise ValueError(f"group '{group}': '{member}' matches no known entity type")
        return value

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> LabelPolicy:
        self.taxonomy.get(self.default_label)
        groups = {**BUILTIN_GROUPS, **self.groups}
        for i, rule in enumerate(self.rules):
            if self.taxonomy.find(rule.label) is None:
                raise ValueError(f"rules[{i}] '{rule.name}': unknown label '{rule.label}'")
            for leaf in _leaves(rule.when):
                if leaf.group is not None and leaf.group not in groups:
                    raise ValueError(f"rules[{i}] '{rule.name}': unknown group '{leaf.group}'")
        return self

    def resolved_groups(self) -> dict[str, frozenset[str]]:
        merged = {**BUILTIN_GROUPS, **self.groups}
        return {g: frozenset(n for m in members for n in expand(m)) for g, members in merged.items()}


def _leaves(cond: Condition) -> list[Match]:
    if isinstance(cond, Match):
        return [cond]
    children = cond.any if isinstance(cond, AnyOf) else cond.all
    return [leaf for child in children for leaf in _leaves(child)]


@dataclass(frozen=True, slots=True)
class LabelDecision:
    """The label a unit gets and why: the rule that fired (``auto``) or the default."""

    label: Label
    rule: str | None
    method: Literal["auto", "default"]


class Labeler:
    """Applies a :class:`LabelPolicy` to a unit's findings."""

    def __init__(self, policy: LabelPolicy) -> None:
        self.policy = policy
        self.taxonomy = policy.taxonomy
        self._default = policy.taxonomy.get(policy.default_label)
        self._groups = policy.resolved_groups()
        self._rules = sorted(((policy.taxonomy.get(r.label), r) for r in policy.rules), key=lambda lr: -lr[0].priority)
        #: Entity globs of the rules, expanded once (not on every decision).
        self._expanded: dict[str, frozenset[str]] = {}

    def decide(self, findings: Sequence[Finding]) -> LabelDecision:
        for label, rule in self._rules:
            if self._holds(rule.when, findings, _NO_WILDCARDS):
                return LabelDecision(label, rule.name, "auto")
        return LabelDecision(self._default, None, "default")

    @property
    def top(self) -> Label:
        """The most sensitive label of the taxonomy."""
        return self.taxonomy.ordered()[-1]

    def upper_bound(self, findings: Sequence[Finding], *, types: frozenset[str], count: int) -> Label:
        """The highest label ``findings`` could reach if up to ``count`` more distinct findings,
        each of any type in ``types``, were added (rules are monotone, so this bounds every outcome)."""
        wild = _Wildcards(types, count)
        for label, rule in self._rules:
            if self._holds(rule.when, findings, wild):
                return label
        return self._default

    def _holds(self, cond: Condition, findings: Sequence[Finding], wild: _Wildcards) -> bool:
        if isinstance(cond, AnyOf):
            return any(self._holds(c, findings, wild) for c in cond.any)
        if isinstance(cond, AllOf):
            return all(self._holds(c, findings, wild) for c in cond.all)
        if cond.entity is not None:
            targets = self._expanded.get(cond.entity)
            if targets is None:
                targets = self._expanded[cond.entity] = frozenset(expand(cond.entity))
        else:
            targets = self._groups[cond.group or ""]
        hits = [f for f in findings if f.entity_type in targets and f.confidence.rank >= cond.min_confidence.rank]
        count = len({f.fingerprint for f in hits}) if cond.distinct else len(hits)
        if wild.count and not targets.isdisjoint(wild.types):
            count += wild.count
        return count >= cond.min_count


@dataclass(frozen=True, slots=True)
class _Wildcards:
    types: frozenset[str]
    count: int


_NO_WILDCARDS = _Wildcards(frozenset(), 0)
