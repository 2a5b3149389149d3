"""Run one scan with the local engine and report its memory: ``python -m tests.hostile_scan SOURCE OUT [WORKERS]``.

Run in its own process so its resource usage is the scan's alone. A file named
``vanishing.txt`` is deleted the moment it is listed (before a worker opens it).
Prints one JSON line: the summary's counts and the peak resident set sizes —
of this process, of the largest worker (``RUSAGE_CHILDREN``), and of all of
them together (sampled from ``/proc`` while the scan runs).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
from pathlib import Path
from typing import Any

from connectors import SourceObject
from connectors.local import path_from_uri
from scanner.config import load_settings
from scanner.driver import scan


class _DeleteOnListing:
    def listed(self, obj: SourceObject) -> None:
        if obj.uri.endswith("/vanishing.txt"):
            path_from_uri(obj.uri).unlink()

    def listing_done(self) -> None:
        return None

    def object_done(self, row: dict[str, Any]) -> None:
        return None


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


def main() -> None:
    source, out = sys.argv[1], sys.argv[2]
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    settings = load_settings().with_profile("fast")
    peak_total = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_total
        while not done.wait(0.2):
            peak_total = max(peak_total, sum(_rss_kib(pid) for pid in _tree(os.getpid())))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        summary = scan([source], out, settings=settings, workers=workers, progress=_DeleteOnListing())
    finally:
        done.set()
        sampler.join()
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        json.dumps(
            {
                "objects": summary["objects"],
                "units": summary["units"],
                "seconds": summary["seconds"],
                "peak_rss_parent_mib": round(self_kib / 1024, 1),
                "peak_rss_largest_worker_mib": round(children_kib / 1024, 1),
                "peak_rss_all_sampled_mib": round(peak_total / 1024, 1),
                # an upper bound that needs no sampling: every process at its own peak at once
                "peak_rss_bound_mib": round((self_kib + children_kib * workers) / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
