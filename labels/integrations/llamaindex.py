"""A LlamaIndex transformation that puts the gate in front of an index (``pip install llama-index-core``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.schema import BaseNode, TransformComponent
from pydantic import ConfigDict, PrivateAttr

from labels.gate import Gate
from labels.integrations import GateReport, decide, stamp


class IngestGuardTransform(TransformComponent):
    """Drops denied nodes, redacts where required, stamps label metadata on the rest."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    gate: Any
    consumer: str
    source_key: str = "file_path"
    _report: GateReport = PrivateAttr(default_factory=GateReport)

    @property
    def report(self) -> GateReport:
        return self._report

    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> Sequence[BaseNode]:
        gate: Gate = self.gate
        self._report = GateReport()
        out: list[BaseNode] = []
        for node in nodes:
            text = node.get_content()
            decision = decide(gate, self.consumer, text, node.metadata, self.source_key)
            self._report.reasons.update(decision.reasons)
            if decision.decision == "deny":
                self._report.dropped += 1
                continue
            if decision.decision == "allow_redacted":
                node.set_content(gate.redact(self.consumer, text).text)
                self._report.redacted += 1
            else:
                self._report.kept += 1
            stamped = stamp(decision)
            node.metadata.update(stamped)
            # governance metadata is for filtering, not for the embedding model or the LLM prompt
            for keys in (node.excluded_embed_metadata_keys, node.excluded_llm_metadata_keys):
                keys.extend(k for k in stamped if k not in keys)
            out.append(node)
        return out
