"""Latency of the pre-ingest gate: a manifest lookup, and an on-the-spot scan of a 5 KB document."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.corpus import documents


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
        "n": len(ordered),
    }


def gate_latency(known_docs: int = 2000, scans: int = 60) -> dict[str, Any]:
    """Build a manifest over ``known_docs`` documents, then time ``check`` for known and unknown content."""
    from labels.consumers import load_consumers
    from labels.gate import Gate
    from labels.manifest import build
    from labels.signing import generate_keys, load_private_key
    from scanner.config import load_settings
    from scanner.driver import scan

    settings = load_settings().with_profile("fast")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        src = base / "src"
        src.mkdir()
        texts = list(documents(known_docs, seed=5))
        for i, text in enumerate(texts):
            (src / f"{i:05d}.txt").write_text(text)
        scan([str(src)], base / "results", settings=settings, engine="serial")
        private, public = generate_keys(base / "keys")
        consumers = Path(__file__).resolve().parents[1] / "configs" / "consumers.yaml"
        policy = load_consumers(consumers, label_names=settings.labels.taxonomy.names())
        build(
            base / "results",
            policy,
            settings.labels.taxonomy,
            base / "manifest",
            private_key=load_private_key(private),
            tool_version="bench",
        )
        t = time.perf_counter()
        gate = Gate.load(base / "manifest", public, on_unknown="scan", policy=policy, settings=load_settings())
        load_s = time.perf_counter() - t
        payloads = [t.encode() for t in texts]
        known = []
        for i in range(5000):
            data = payloads[i % len(payloads)]
            t = time.perf_counter()
            gate.check("kb-rag-index", content=data)
            known.append(time.perf_counter() - t)
        fresh = [(doc + "\n\n" + doc + "\n\n" + doc)[:5000] for doc in documents(scans, seed=99)]
        gate.check("kb-rag-index", content=fresh[0])  # loads the models once
        unknown = []
        for doc in fresh[1:]:
            t = time.perf_counter()
            gate.check("kb-rag-index", content=doc)
            unknown.append(time.perf_counter() - t)
    return {
        "manifest_entries": known_docs * len(policy.consumers),
        "load_seconds": round(load_s, 3),
        "known": _percentiles(known),
        "scan_5kb_thorough": _percentiles(unknown),
    }
