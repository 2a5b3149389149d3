"""Honour the labels documents already carry, as Purview does.

* A label a person chose (``Privileged``) is never replaced by an automatic one.
  When the content would get a higher label, the manual label stays and the unit
  is reported with the conflict ``manual_label_below_content`` for review.
* A label applied automatically or by default (``Standard``) is upgraded when a
  rule gives a higher label, and never downgraded (nor replaced by our default label).
* A label whose GUID is not in the taxonomy (another tenant's, or one not imported)
  is kept as it is and reported as ``unknown_existing_label``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from labels.rules import LabelDecision
from labels.taxonomy import Label, Taxonomy
from scanner.units import ExistingLabel

MANUAL_BELOW_CONTENT = "manual_label_below_content"
UNKNOWN_EXISTING_LABEL = "unknown_existing_label"

#: ``auto`` a rule fired; ``default`` no rule fired; ``manual`` a person's label was kept;
#: ``kept`` an automatic label was kept (content is not higher); ``unknown`` a label outside the taxonomy was kept.
LabelMethod = Literal["auto", "default", "manual", "kept", "unknown"]


@dataclass(frozen=True, slots=True)
class LabelOutcome:
    """The label a unit ends with, how, and what its content alone would have given."""

    name: str | None
    guid: str
    priority: int | None  # None for a label outside the taxonomy
    method: LabelMethod
    rule: str | None
    content: LabelDecision
    existing: ExistingLabel | None = None
    existing_name: str | None = None  # the taxonomy's name for the existing label, else the document's
    conflict: str | None = None


def _from_content(content: LabelDecision, existing: ExistingLabel | None, existing_name: str | None) -> LabelOutcome:
    return LabelOutcome(
        content.label.name,
        content.label.guid,
        content.label.priority,
        content.method,
        content.rule,
        content,
        existing,
        existing_name,
    )


def honour(content: LabelDecision, existing: ExistingLabel | None, taxonomy: Taxonomy) -> LabelOutcome:
    """The final label of a unit whose content got ``content`` and whose document carries ``existing``."""
    if existing is None:
        return _from_content(content, None, None)
    known: Label | None = taxonomy.by_id(existing.guid)
    if known is None:
        return LabelOutcome(
            existing.name,
            existing.guid,
            None,
            "unknown",
            None,
            content,
            existing,
            existing.name,
            UNKNOWN_EXISTING_LABEL,
        )
    higher = content.method == "auto" and content.label.priority > known.priority
    if existing.manual:
        return LabelOutcome(
            known.name,
            known.guid,
            known.priority,
            "manual",
            None,
            content,
            existing,
            known.name,
            MANUAL_BELOW_CONTENT if higher else None,
        )
    if higher:
        return _from_content(content, existing, known.name)
    return LabelOutcome(known.name, known.guid, known.priority, "kept", None, content, existing, known.name)
