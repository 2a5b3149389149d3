"""What the sensitive-information-type catalogue costs on top of Presidio's patterns (the fast profile's core).

``python -m benchmarks.sit_cost [N]`` classifies ``corpus.documents(N)`` (default
300) with the pattern classifier alone and with the catalogue classifier after
it, best of nine interleaved rounds of CPU time (``time.process_time``), after one warm-up
round, and the whole fast profile (every cheap classifier, windows and overlap resolution) with
and without the catalogue; set-up (compiling patterns, the Hyperscan database, loading stdnum) is
timed apart.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from benchmarks.corpus import documents
from classifiers.catalogue import SitClassifier
from classifiers.patterns import PatternPiiClassifier
from classifiers.runner import ClassifierSet
from scanner.config import load_settings
from scanner.pipeline import build_classifiers


def _round(classifiers: Sequence[Any], docs: Sequence[str]) -> tuple[float, int]:
    start = time.process_time()
    found = 0
    for doc in docs:
        for c in classifiers:
            if isinstance(c, ClassifierSet):  # a whole profile; a generator of chunks bypasses its content cache
                found += len(list(c.detect(iter([doc]))))
            else:
                found += len(c.classify(doc))
    return time.process_time() - start, found


def measure(count: int = 300, rounds: int = 9) -> dict[str, float]:
    full = load_settings()
    settings = full.classifiers
    without = full.with_profile("fast")
    without = type(without)(
        scan=without.scan,
        classifiers=without.classifiers.model_copy(update={"sit": settings.sit.model_copy(update={"enabled": False})}),
        labels=without.labels,
        sources=without.sources,
    )
    fast, fast_without = build_classifiers(full, b"k" * 32, profile="fast"), build_classifiers(without, b"k" * 32)
    fast.setup()
    fast_without.setup()
    docs = list(documents(count))
    chars = sum(len(d) for d in docs)
    patterns = PatternPiiClassifier(settings.patterns)
    sit = SitClassifier(settings.sit)
    t0 = time.process_time()
    patterns.setup()
    t1 = time.process_time()
    sit.setup()
    t2 = time.process_time()
    out: dict[str, float] = {"docs": count, "chars": chars, "setup_patterns_s": t1 - t0, "setup_sit_s": t2 - t1}
    configs: dict[str, list[Any]] = {
        "patterns": [patterns],
        "patterns+sit": [patterns, sit],
        "sit": [sit],
        "fast_profile_without_sit": [fast_without],
        "fast_profile": [fast],
    }
    best = dict.fromkeys(configs, float("inf"))
    for members in configs.values():
        _round(members, docs)  # warm-up
    for _ in range(rounds):  # interleaved, so a busy neighbour slows every configuration alike
        for name, members in configs.items():
            best[name] = min(best[name], _round(members, docs)[0])
    for name, seconds in best.items():
        out[f"{name}_s"] = seconds
        out[f"{name}_docs_per_s"] = count / seconds if seconds else float("inf")
    out["overhead_pct"] = 100 * (out["patterns+sit_s"] - out["patterns_s"]) / out["patterns_s"]
    out["fast_profile_overhead_pct"] = (
        100 * (out["fast_profile_s"] - out["fast_profile_without_sit_s"]) / out["fast_profile_without_sit_s"]
    )
    return out


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    for key, value in measure(n).items():
        print(f"{key:36} {value:,.4f}")
