"""The Ray engine against the local engine on this machine: 1 and 2 actors, 1 and 2 worker processes.

    python -m benchmarks.ray_scaling [--files 64]

The same generated corpus (files of ~1.5 KB documents as JSONL, the benchmark corpus) is scanned
with the default profile by each engine; the Ray cluster is started once beforehand (on loopback, as
the tests do), so the times cover actor start-up and the scan, not ``ray.init``. Prints a Markdown
table and writes ``benchmarks/results/ray.json``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from benchmarks.corpus import write_jsonl
from benchmarks.run import KEY, ROOT, machine


def main_impl(files: int, docs_per_file: int) -> dict[str, Any]:
    os.environ.setdefault("INGESTGUARD_FINGERPRINT_KEY", KEY.decode())
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray

    from scanner.config import load_settings
    from scanner.driver import scan

    settings = load_settings()
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ig-ray-") as tmp:
        src = Path(tmp) / "corpus"
        src.mkdir()
        chars = sum(write_jsonl(src / f"part{i:03d}.jsonl", docs_per_file, seed=100 + i) for i in range(files))
        started = time.perf_counter()
        ray.init(
            num_cpus=os.cpu_count(),
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            log_to_driver=False,
            configure_logging=False,
        )
        ray_init = time.perf_counter() - started
        try:
            for name, engine, workers in (
                ("local, 1 worker", "local", 1),
                ("local, 2 workers", "local", 2),
                ("ray, 1 actor", "ray", 1),
                ("ray, 2 actors", "ray", 2),
            ):
                click.echo(f"{name}…", err=True)
                start = time.perf_counter()
                summary = scan(
                    [str(src)], Path(tmp) / name.replace(" ", ""), settings=settings, engine=engine, workers=workers
                )
                seconds = time.perf_counter() - start
                rows[name] = {
                    "seconds": round(seconds, 2),
                    "chars_per_s": round(chars / seconds),
                    "units": sum(summary["units"].values()),
                }
        finally:
            ray.shutdown()
    base = rows["local, 1 worker"]["seconds"]
    for row in rows.values():
        row["vs_local_1"] = round(base / row["seconds"], 2)
    return {
        "machine": machine(),
        "files": files,
        "documents": files * docs_per_file,
        "characters": chars,
        "ray_init_seconds": round(ray_init, 1),
        "rows": rows,
    }


def render(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [
        f"Engines on {m['cpu']}, {m['cores']} cores, {m['date']}: {r['documents']:,} documents in {r['files']} JSONL "
        f"files, default profile (ray.init once beforehand: {r['ray_init_seconds']} s, not counted):",
        "",
        "| engine | seconds | characters/s | vs local, 1 worker |",
        "|---|---:|---:|---:|",
    ]
    for name, row in r["rows"].items():
        lines.append(f"| {name} | {row['seconds']:.1f} | {row['chars_per_s']:,} | {row['vs_local_1']:.2f}× |")
    return "\n".join(lines)


@click.command()
@click.option("--files", default=32, show_default=True)
@click.option("--docs-per-file", default=100, show_default=True)
@click.option("--out-file", default=str(ROOT / "benchmarks" / "results" / "ray.json"), type=click.Path(path_type=Path))
def main(files: int, docs_per_file: int, out_file: Path) -> None:
    results = main_impl(files, docs_per_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(json.dumps(results, indent=1) + "\n")
    click.echo(render(results))


if __name__ == "__main__":
    main()
