"""A Dagster asset for the nightly scan (``pip install 'ingestguard[dagster]'``).

Load it in a code location (``dagster dev -m scanner.integrations.dagster``) or import
``ingestguard_scan`` / ``nightly_job`` / ``nightly_schedule`` into your own
``Definitions``. Each materialisation is one incremental run against the state
store; its counts and changes become asset metadata, and a ``--fail-on``
condition that holds fails the run (Dagster then alerts as it does for any failure).
"""

from pathlib import Path

import dagster as dg
from pydantic import Field

from scanner.config import load_settings
from scanner.driver import scan


class ScanConfig(dg.Config):
    """What ``ingestguard scan`` takes on the command line."""

    sources: list[str]
    out: str
    state: str
    config_dir: str | None = None
    profile: str | None = None
    fail_on: list[str] = Field(default_factory=list)
    metrics: str | None = None


@dg.asset(description="ingestguard's labels, findings and change report for the configured sources.")
def ingestguard_scan(context: dg.AssetExecutionContext, config: ScanConfig) -> dg.MaterializeResult[None]:
    settings = load_settings(Path(config.config_dir) if config.config_dir else None)
    if config.profile:
        settings = settings.with_profile(config.profile)
    summary = scan(config.sources, config.out, settings=settings, state=config.state, fail_on=config.fail_on)
    if config.metrics:
        from scanner.metrics import write_metrics

        write_metrics(config.metrics, summary, success=True)
    incremental = summary.get("incremental", {})
    context.log.info(f"ingestguard run {summary['run_id']}: {incremental}")
    if summary.get("fail_on"):
        raise dg.Failure(
            description="ingestguard --fail-on conditions held: " + "; ".join(summary["fail_on"]),
            metadata={"out": dg.MetadataValue.path(config.out)},
        )
    return dg.MaterializeResult(
        metadata={
            "run_id": summary["run_id"],
            "objects": dg.MetadataValue.json(summary["objects"]),
            "labels": dg.MetadataValue.json(summary["labels"]["objects"]),
            "new": incremental.get("new", 0),
            "changed": incremental.get("changed", 0),
            "deleted": incremental.get("deleted", 0),
            "unchanged": incremental.get("unchanged", 0),
            "changes": dg.MetadataValue.path(str(Path(config.out) / "changes.json")),
        }
    )


nightly_job = dg.define_asset_job("ingestguard_nightly", selection=[ingestguard_scan])
nightly_schedule = dg.ScheduleDefinition(job=nightly_job, cron_schedule="30 2 * * *")
defs = dg.Definitions(assets=[ingestguard_scan], jobs=[nightly_job], schedules=[nightly_schedule])
