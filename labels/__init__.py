"""Sensitivity labels: a Purview-style taxonomy and auto-labeling rules."""

from labels.rules import LabelDecision, Labeler, LabelPolicy
from labels.taxonomy import Label, Taxonomy

__all__ = ["Label", "LabelDecision", "LabelPolicy", "Labeler", "Taxonomy"]
