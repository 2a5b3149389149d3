"""A Purview-style sensitivity label taxonomy: GUIDs, names, priorities, sublabels."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Label(BaseModel):
    """One sensitivity label. Higher ``priority`` is more sensitive, as in Purview."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: UUID
    name: str = Field(min_length=1)
    priority: int = Field(ge=0)
    parent: str | None = None
    description: str = ""
    tooltip: str = ""
    color: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{6}$")

    @property
    def guid(self) -> str:
        return str(self.id)


class Taxonomy(BaseModel):
    """The labels of a tenant, validated: unique names, GUIDs and priorities; parents exist."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: list[Label] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Taxonomy:
        columns: dict[str, list[str]] = {
            "name": [label.name for label in self.labels],
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
        """A label by display name or GUID (case-insensitive), or None."""
        key = name_or_id.strip().lower()
        for label in self.labels:
            if label.name.lower() == key or str(label.id) == key:
                return label
        return None

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

    def __iter__(self) -> Iterator[Label]:  # type: ignore[override]
        return iter(self.ordered())
