"""Nightly reruns: a first scan of N small objects with a state store, an unchanged rerun, a rerun after 1% changed.

    python -m benchmarks.incremental [--objects 10000]

Runs the real CLI (local engine, default profile and workers) on a generated corpus of
files (~1.5 KB of prose each, a third carrying personal data from the evaluation sets);
prints a Markdown table and writes ``benchmarks/results/incremental.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from benchmarks.corpus import documents
from benchmarks.run import KEY, ROOT, machine

PACKAGES = ("scanner", "classifiers", "connectors", "labels")


def _command() -> list[str]:
    """The ``ingestguard`` command as installed (``python -m`` would compile the CLI module on every run)."""
    script = Path(sys.executable).with_name("ingestguard")
    return [str(script)] if script.exists() else [sys.executable, "-m", "scanner.cli"]


def _run(args: list[str], env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    result = subprocess.run([*_command(), *args], env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise RuntimeError(f"scan failed ({result.returncode}): {result.stderr[-2000:]}")
    out = Path(args[args.index("--out") + 1])
    return seconds, json.loads((out / "summary.json").read_text())


@click.command()
@click.option("--objects", default=10_000, show_default=True, help="Files in the generated corpus.")
@click.option(
    "--out-file", default=str(ROOT / "benchmarks" / "results" / "incremental.json"), type=click.Path(path_type=Path)
)
def main(objects: int, out_file: Path) -> None:
    # Byte-compiled modules, as an installed package has them (pip compiles them; this sandbox sets
    # PYTHONDONTWRITEBYTECODE, which would make every run compile ingestguard from source).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["INGESTGUARD_FINGERPRINT_KEY"] = KEY.decode()
    subprocess.run([sys.executable, "-m", "compileall", "-q", *(str(ROOT / p) for p in PACKAGES)], check=True)
    with tempfile.TemporaryDirectory(prefix="ig-incremental-") as tmp:
        root = Path(tmp)
        src = root / "corpus"
        for i, doc in enumerate(documents(objects, seed=29)):
            folder = src / f"part{i % 100:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"doc{i:06d}.txt").write_text(doc)
        state = root / "state.db"
        base = ["scan", str(src), "--state", str(state), "-q"]
        click.echo(f"first scan of {objects} objects…", err=True)
        first, s1 = _run([*base, "--out", str(root / "run1")], env)
        click.echo("unchanged rerun…", err=True)
        unchanged, s2 = _run([*base, "--out", str(root / "run2")], env)
        changed_count = max(1, objects // 100)
        for i in range(changed_count):
            path = src / f"part{i % 100:02d}" / f"doc{i:06d}.txt"
            path.write_text(path.read_text() + "\nAddendum: call +1 (212) 555-0187 to confirm.\n")
        click.echo(f"rerun after {changed_count} changed…", err=True)
        changed, s3 = _run([*base, "--out", str(root / "run3")], env)
    results = {
        "machine": machine(),
        "objects": objects,
        "first_scan_seconds": round(first, 2),
        "unchanged_rerun_seconds": round(unchanged, 2),
        "rerun_after_1pct_changed_seconds": round(changed, 2),
        "unchanged_speedup": round(first / unchanged, 1),
        "changed_speedup": round(first / changed, 1),
        "unchanged_incremental": s2["incremental"],
        "changed_incremental": s3["incremental"],
        "first_objects": s1["objects"],
    }
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(json.dumps(results, indent=1) + "\n")
    click.echo(render(results))


def render(r: dict[str, Any]) -> str:
    m = r["machine"]
    return "\n".join(
        [
            f"Incremental reruns, {r['objects']:,} files (~1.5 KB each), {m['cpu']}, {m['cores']} cores, {m['date']}:",
            "",
            "| run | seconds | vs first scan |",
            "|---|---:|---:|",
            f"| first scan (state empty) | {r['first_scan_seconds']:.1f} | 1× |",
            f"| unchanged rerun | {r['unchanged_rerun_seconds']:.2f} | {r['unchanged_speedup']:.0f}× faster |",
            f"| rerun after 1% changed | {r['rerun_after_1pct_changed_seconds']:.2f} | "
            f"{r['changed_speedup']:.0f}× faster |",
        ]
    )


if __name__ == "__main__":
    main()
