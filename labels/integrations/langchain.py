"""A LangChain document transformer that puts the gate in front of an index (``pip install langchain-core``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.documents import BaseDocumentTransformer, Document

from labels.gate import Gate
from labels.integrations import GateReport, decide, stamp


class IngestGuardTransformer(BaseDocumentTransformer):
    """Drops denied documents, redacts where required, stamps label metadata on the rest."""

    def __init__(self, gate: Gate, consumer: str, *, source_key: str = "source") -> None:
        self.gate = gate
        self.consumer = consumer
        self.source_key = source_key
        self.report = GateReport()

    def transform_documents(self, documents: Sequence[Document], **kwargs: Any) -> Sequence[Document]:
        self.report = GateReport()
        out: list[Document] = []
        for doc in documents:
            decision = decide(self.gate, self.consumer, doc.page_content, doc.metadata, self.source_key)
            self.report.reasons.update(decision.reasons)
            if decision.decision == "deny":
                self.report.dropped += 1
                continue
            text = doc.page_content
            if decision.decision == "allow_redacted":
                text = self.gate.redact(self.consumer, text).text
                self.report.redacted += 1
            else:
                self.report.kept += 1
            out.append(Document(page_content=text, metadata={**doc.metadata, **stamp(decision)}))
        return out
