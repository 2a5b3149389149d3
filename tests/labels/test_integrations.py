"""LangChain and LlamaIndex, for real: a small ingest through each framework's own objects."""

from __future__ import annotations

from typing import Any

import pytest

from labels.consumers import load_consumers
from labels.gate import Gate
from labels.integrations import LABEL, clearance_filter
from labels.manifest import build
from labels.signing import generate_keys, load_private_key
from scanner.config import Settings
from scanner.driver import scan

EMAIL = "aiko.tanaka@example.net"
CONSUMERS = """
consumers:
  - {id: helpdesk, kind: rag_index, purposes: [rag], max_label: Confidential,
     redact_entities: [EMAIL_ADDRESS], deny_entities: ["SECRET_*", US_SSN]}
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("integrations")
    src = base / "src"
    src.mkdir()
    (src / "faq.md").write_text("# Returns\n\nItems can be returned within thirty days of delivery.\n" * 3)
    (src / "escalation.md").write_text(f"# Escalation\n\nEscalate refunds over 500 euros to {EMAIL}.\n" * 3)
    (src / "payroll.md").write_text("# Payroll\n\nEmployee SSN: 536-22-8174\n")
    scan([str(src)], base / "results", settings=settings, engine="serial")
    private, public = generate_keys(base / "keys")
    (base / "consumers.yaml").write_text(CONSUMERS)
    policy = load_consumers(base / "consumers.yaml", label_names=settings.labels.taxonomy.names())
    build(
        base / "results",
        policy,
        settings.labels.taxonomy,
        base / "manifest",
        private_key=load_private_key(private),
        tool_version="t",
    )
    return {
        "src": src,
        "gate": Gate.load(base / "manifest", public, policy=policy),
        "taxonomy": settings.labels.taxonomy,
    }


def test_langchain_transformer_splitter_and_vector_store(setup: dict[str, Any]) -> None:
    from langchain_core.documents import Document
    from langchain_core.embeddings import DeterministicFakeEmbedding
    from langchain_core.vectorstores import InMemoryVectorStore
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from labels.integrations.langchain import IngestGuardTransformer

    src = setup["src"]
    docs = [Document(page_content=p.read_text(), metadata={"source": str(p)}) for p in sorted(src.glob("*.md"))]
    guard = IngestGuardTransformer(setup["gate"], "helpdesk")
    passed = guard.transform_documents(docs)
    assert (guard.report.kept, guard.report.redacted, guard.report.dropped) == (1, 1, 1)
    assert guard.report.reasons["denied_entity:US_SSN"] == 1
    assert all(EMAIL not in d.page_content for d in passed)
    chunks = RecursiveCharacterTextSplitter(chunk_size=80, chunk_overlap=0).split_documents(passed)
    assert len(chunks) > len(passed) and all(c.metadata[LABEL] in ("General", "Confidential") for c in chunks)
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=32))
    store.add_documents(chunks)
    general = clearance_filter(setup["taxonomy"], "General")
    hits = store.similarity_search("refunds escalation", k=20, filter=lambda d: general(d.metadata))
    assert hits and all(h.metadata[LABEL] == "General" for h in hits)
    everything = store.similarity_search("refunds escalation", k=20)
    assert any(h.metadata[LABEL] == "Confidential" for h in everything)


def test_llamaindex_transformation_in_an_ingestion_pipeline(setup: dict[str, Any]) -> None:
    from llama_index.core import Document
    from llama_index.core.ingestion import IngestionPipeline
    from llama_index.core.node_parser import SentenceSplitter

    from labels.integrations.llamaindex import IngestGuardTransform

    src = setup["src"]
    docs = [Document(text=p.read_text(), metadata={"file_path": str(p)}) for p in sorted(src.glob("*.md"))]
    guard = IngestGuardTransform(gate=setup["gate"], consumer="helpdesk")
    nodes = IngestionPipeline(transformations=[guard, SentenceSplitter(chunk_size=96, chunk_overlap=0)]).run(
        documents=docs
    )
    assert (guard.report.kept, guard.report.redacted, guard.report.dropped) == (1, 1, 1)
    assert nodes and all(EMAIL not in n.get_content() for n in nodes)
    assert {n.metadata[LABEL] for n in nodes} == {"General", "Confidential"}
    assert all(n.metadata["ingestguard_decision"] in ("allow", "allow_redacted") for n in nodes)
