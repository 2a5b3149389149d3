"""One profile's throughput on the benchmark corpus, repeatable, with an optional cProfile and a findings dump.

    python -m benchmarks.profile_fast                      # fast: MB/s per core (CPU seconds, best of 3)
    python -m benchmarks.profile_fast --cprofile 25        # … and the 25 costliest functions
    python -m benchmarks.profile_fast --dump findings.tsv  # every finding on the corpus and the pii-eval sets

Measures exactly what ``benchmarks.run`` measures for a profile (detect + label per document, content
cache cleared). The dump lists, per text, each finding's entity type, offsets, score, classifier and
detector (never its value), so two versions of the code can be compared with ``diff``.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
from pathlib import Path

import click

from benchmarks.corpus import EVAL_DIR, documents
from benchmarks.run import KEY, ingestguard, timed


def texts_for_dump(docs: int) -> dict[str, list[str]]:
    """The benchmark corpus and the labelled evaluation sets, by name."""
    out = {"corpus": list(documents(docs))}
    for name in ("synth_dataset_v2", "generated_large"):
        out[name] = [s["full_text"] for s in json.loads((EVAL_DIR / f"{name}.json").read_text())]
    return out


@click.command()
@click.option("--profile", "profile", default="fast", show_default=True, help="fast, balanced or thorough.")
@click.option("--docs", default=300, show_default=True, help="Benchmark documents.")
@click.option("--repeat", default=3, show_default=True, help="Timed passes (the best counts).")
@click.option("--cprofile", "top", default=0, help="Also run under cProfile and print the N costliest functions.")
@click.option("--dump", type=click.Path(path_type=Path), default=None, help="Write every finding to this file.")
def main(profile: str, docs: int, repeat: int, top: int, dump: Path | None) -> None:
    """Throughput of one profile on the benchmark corpus."""
    os.environ.setdefault("INGESTGUARD_FINGERPRINT_KEY", KEY.decode())
    corpus = list(documents(docs))
    mb = sum(len(d.encode()) for d in corpus) / 1e6
    _, label, cs = ingestguard(profile)
    seconds = timed(label, corpus, repeat=repeat, reset=cs.forget)
    click.echo(f"{profile}: {len(corpus)} docs, {mb:.3f} MB, {seconds:.3f} CPU s, {mb / seconds:.3f} MB/s per core")
    if top:
        cs.forget()
        prof = cProfile.Profile()
        prof.enable()
        for doc in corpus:
            label(doc)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
        click.echo(out.getvalue())
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
        click.echo(out.getvalue())
    if dump is not None:
        with dump.open("w", encoding="utf-8") as fh:
            for name, texts in texts_for_dump(docs).items():
                for i, text in enumerate(texts):
                    cs.forget()
                    for det, classifier, _ in cs.detect([text]):
                        fh.write(
                            f"{name}\t{i}\t{det.entity_type}\t{det.start}\t{det.end}\t{det.score:.4f}\t"
                            f"{classifier}\t{det.detector}\n"
                        )
        click.echo(f"findings written to {dump}")


if __name__ == "__main__":
    main()
