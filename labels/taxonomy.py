"""A Purview-style sensitivity label taxonomy: GUIDs, names, priorities, sublabels."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Label(BaseModel):
    """One sensitivity label. Higher ``priority`` is more sensitive, as in Purview.

    ``id`` is the GUID documents carry (``MSIP_Label_<id>_…``, LabelInfo.xml);
    ``immutable_id`` is Purview's ``ImmutableId`` when it differs, and matches too.
    The remaining optional fields keep what a tenant export says about the label.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: UUID
    name: str = Field(min_length=1)
    priority: int = Field(ge=0)
    parent: str | None = None
    description: str = ""
    tooltip: str = ""
    color: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{6}$")
    immutable_id: UUID | None = None
    purview_name: str | None = None
    content_types: list[str] = Field(default_factory=list)
    disabled: bool = False
    localized_names: dict[str, str] = Field(default_factory=dict)

    @property
    def guid(self) -> str:
        return str(self.id)

    def has_id(self, guid: str) -> bool:
        """Whether ``guid`` (any case, with or without braces) names this label."""
        key = guid.strip().strip("{}").lower()
        return key == str(self.id) or (self.immutable_id is not None and key == str(self.immutable_id))


class Taxonomy(BaseModel):
    """The labels of a tenant, validated: unique names, GUIDs and priorities; parents exist.

    ``tenant_id`` is the Microsoft Entra tenant (Purview's ``siteId``) written with a label
    into Office files; optional until Office write-back needs it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: list[Label] = Field(min_length=1)
    tenant_id: UUID | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Taxonomy:
        columns: dict[str, list[str]] = {
            "name": [label.name.lower() for label in self.labels],
            "id": [str(label.id) for label in self.labels],
            "priority": [str(label.priority) for label in self.labels],
        }
        for what, values in columns.items():
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"duplicate label {what}: {', '.join(dupes)}")
        for label in self.labels:
            if label.parent is not None and self.find(label.parent) is None:
                raise ValueError(f"label '{label.name}': parent '{label.parent}' is not a label")
        return self

    def find(self, name_or_id: str) -> Label | None:
        """A label by display name or GUID (case-insensitive; the GUID also as ``ImmutableId``), or None."""
        key = name_or_id.strip().lower()
        for label in self.labels:
            if label.name.lower() == key or label.has_id(key):
                return label
        return None

    def by_id(self, guid: str) -> Label | None:
        """A label by GUID or ImmutableId only (what documents carry), or None."""
        return next((label for label in self.labels if label.has_id(guid)), None)

    def get(self, name_or_id: str) -> Label:
        label = self.find(name_or_id)
        if label is None:
            raise KeyError(f"no label '{name_or_id}' (labels: {', '.join(self.names())})")
        return label

    def names(self) -> list[str]:
        return [label.name for label in self.ordered()]

    def ordered(self) -> list[Label]:
        """Labels from least to most sensitive."""
        return sorted(self.labels, key=lambda label: label.priority)

    def children(self, parent: Label | None) -> list[Label]:
        """The sublabels of ``parent`` (the top-level labels for None), by priority."""
        want = parent.id if parent is not None else None
        found = []
        for label in self.ordered():
            up = self.find(label.parent) if label.parent else None
            if (up.id if up is not None else None) == want:
                found.append(label)
        return found

    def __iter__(self) -> Iterator[Label]:  # type: ignore[override]
        return iter(self.ordered())
