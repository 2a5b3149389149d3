"""Framework integrations of the gate (optional extras): LangChain and LlamaIndex.

Both drop denied documents, redact where the consumer requires it, and stamp
what passes with its label, label GUID, content hash and decision, so chunks
split from it carry them into the vector store and retrieval can filter by a
consumer's clearance (:func:`clearance_filter`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from labels.gate import Gate, GateDecision
from labels.taxonomy import Taxonomy

LABEL = "ingestguard_label"
LABEL_ID = "ingestguard_label_id"
DECISION = "ingestguard_decision"
CONTENT_SHA256 = "ingestguard_content_sha256"


@dataclass
class GateReport:
    """What an integration did to the last batch it saw."""

    kept: int = 0
    redacted: int = 0
    dropped: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


def decide(gate: Gate, consumer: str, text: str, metadata: Mapping[str, Any], source_key: str) -> GateDecision:
    """Check a framework document: by its source file or URI when it names one, else by its text."""
    source = metadata.get(source_key)
    if isinstance(source, str) and source:
        return gate.check(consumer, uri=source) if "://" in source else gate.check(consumer, path=source)
    return gate.check(consumer, content=text)


def stamp(decision: GateDecision) -> dict[str, Any]:
    return {
        LABEL: decision.label,
        LABEL_ID: decision.label_id,
        DECISION: decision.decision,
        CONTENT_SHA256: decision.content_sha256,
    }


def clearance_filter(taxonomy: Taxonomy, max_label: str) -> Callable[[Mapping[str, Any]], bool]:
    """A metadata predicate: true for chunks labelled at or below ``max_label`` (unlabelled: false)."""
    ceiling = taxonomy.get(max_label).priority

    def allowed(metadata: Mapping[str, Any]) -> bool:
        name = metadata.get(LABEL)
        label = taxonomy.find(name) if isinstance(name, str) else None
        return label is not None and label.priority <= ceiling

    return allowed
