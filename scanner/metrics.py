"""A Prometheus textfile-collector file for a scan (node_exporter's ``--collector.textfile.directory``).

Written atomically (``prometheus_client.write_to_textfile`` renames a temporary file), so the
collector never reads half a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile


def write_metrics(path: str | Path, summary: Mapping[str, Any], *, success: bool) -> None:
    """Gauges for the run in ``summary`` (objects by status and label, changes, duration, last run)."""
    registry = CollectorRegistry()
    objects = Gauge("ingestguard_objects", "Objects in the scan's output by status.", ["status"], registry=registry)
    for status, n in summary.get("objects", {}).items():
        objects.labels(status).set(n)
    labelled = Gauge("ingestguard_objects_labelled", "Objects by sensitivity label.", ["label"], registry=registry)
    for label, n in summary.get("labels", {}).get("objects", {}).items():
        labelled.labels(label).set(n)
    units = Gauge("ingestguard_units", "Units (files, records, members) by status.", ["status"], registry=registry)
    for status, n in summary.get("units", {}).items():
        units.labels(status).set(n)
    entities = Gauge("ingestguard_findings", "Findings by entity type.", ["entity_type"], registry=registry)
    for entity, n in summary.get("entities", {}).items():
        entities.labels(entity).set(n)
    incremental = summary.get("incremental")
    if incremental:
        changes = Gauge("ingestguard_changes", "Objects by change since the last run.", ["change"], registry=registry)
        for kind in ("new", "changed", "deleted", "relabelled", "unchanged", "rescanned"):
            changes.labels(kind).set(incremental.get(kind, 0))
    Gauge("ingestguard_bytes_listed", "Bytes listed under the sources.", registry=registry).set(
        summary.get("bytes", {}).get("listed", 0)
    )
    Gauge("ingestguard_run_seconds", "Duration of the run.", registry=registry).set(summary.get("seconds", 0))
    Gauge("ingestguard_fail_on_conditions", "--fail-on conditions that held in the run.", registry=registry).set(
        len(summary.get("fail_on", []))
    )
    Gauge("ingestguard_last_run_success", "1 if the last run finished, 0 if it failed.", registry=registry).set(
        int(success)
    )
    last = Gauge("ingestguard_last_run_timestamp_seconds", "When the last run ended.", registry=registry)
    last.set_to_current_time()
    write_to_textfile(str(path), registry)
