"""The ``ingestguard`` command: thin over the library (parse, load config, call, render).

Exit codes:
  0  the scan finished; every object was scanned or skipped
  1  the scan finished, but some objects or units failed (see their reasons)
  2  usage or configuration error
  3  the scan could not run: a source is missing or unreachable, a model is not installed,
     workers could not start
  4  check: at least one document is denied for the consumer
  5  scan: a --fail-on condition held (takes precedence over 1)
  130 interrupted
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path
from typing import Any, Literal

import click

from connectors import SourceObject
from scanner.config import load_settings
from scanner.driver import scan as run_scan
from scanner.errors import ConfigError, IngestguardError
from scanner.version import __version__

Row = dict[str, Any]

EXIT_OK, EXIT_FAILED_OBJECTS, EXIT_USAGE, EXIT_CANNOT_RUN, EXIT_DENIED, EXIT_FAIL_ON = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130


class _Bar:
    """A tqdm bar over bytes, with object counts; total known once listing ends (nothing at all when quiet)."""

    def __init__(self, quiet: bool) -> None:
        self.bar: Any = None
        if not quiet:
            from tqdm import tqdm

            self.bar = tqdm(
                total=0,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=sys.stderr,
                desc="scanning",
                dynamic_ncols=True,
            )
        self.listed_objects = 0
        self.done_objects = 0
        self.failed = 0
        self.listing = True

    def listed(self, obj: SourceObject) -> None:
        self.listed_objects += 1
        if self.bar is not None:
            self.bar.total = (self.bar.total or 0) + (obj.size or 0)
            self._postfix()

    def listing_done(self) -> None:
        self.listing = False
        if self.bar is not None:
            self._postfix()

    def object_done(self, row: Row) -> None:
        self.done_objects += 1
        self.failed += row["status"] == "failed"
        if self.bar is not None:
            self.bar.update(row["size_bytes"] or 0)
            self._postfix()

    def _postfix(self) -> None:
        total = f"{self.listed_objects}{'+' if self.listing else ''}"
        self.bar.set_postfix_str(f"objects {self.done_objects}/{total} failed {self.failed}", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _table(title: str, counts: dict[str, Any]) -> list[str]:
    if not counts:
        return []
    width = max(len(k) for k in counts)
    return [title] + [f"  {k.ljust(width)}  {v:>8}" for k, v in counts.items()]


def render_summary(summary: dict[str, Any], out: Path) -> str:
    lines = [f"ingestguard {summary['tool_version']}: scanned into {out}"]
    lines += _table("objects", summary["objects"])
    lines += _table("units (files and records)", summary["units"])
    lines += _table("labels (objects)", summary["labels"]["objects"])
    lines += _table("labels (units)", summary["labels"]["units"])
    lines += _table("label conflicts for review (units)", summary["labels"].get("conflicts", {}).get("units", {}))
    if "writeback" in summary:
        wb = dict(summary["writeback"])
        office = wb.pop("office", {})
        title = "label write-back (dry run: nothing changed)" if wb.pop("dry_run") else "label write-back"
        lines += _table(title, wb)
        lines += _table("label write-back into Office files", office)
    for consumer, counts in summary.get("manifest", {}).items():
        lines += _table(f"manifest: {consumer}", counts)
    top = dict(list(summary["entities"].items())[:15])
    lines += _table("entity types (findings)", top)
    mb = summary["bytes"]["listed"] / 1e6
    lines.append(f"{mb:.1f} MB in {summary['seconds']:.1f} s ({mb / max(summary['seconds'], 1e-9):.2f} MB/s)")
    return "\n".join(lines)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ingestguard")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """Govern what AI systems may read: scan, classify and label documents before ingest."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


@main.command()
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output directory."
)
@click.option(
    "--config",
    "config_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory with scan.yaml / classifiers.yaml / labels.yaml overriding the shipped defaults.",
)
@click.option("--workers", type=click.IntRange(min=0), help="Worker processes (0 = one per core).")
@click.option(
    "--engine",
    type=click.Choice(["local", "serial", "ray"]),
    help="Where classification runs: local processes (default), in-process, or Ray actors.",
)
@click.option(
    "--address",
    help="With --engine ray: the cluster (auto, ray://HOST:10001); default a private local one.",
)
@click.option(
    "--profile",
    type=click.Choice(["fast", "balanced", "thorough"]),
    help="fast: no NER; balanced: NER where it can change a label (default); thorough: NER everywhere.",
)
@click.option("--include", multiple=True, help="Only objects matching this glob (repeatable).")
@click.option("--exclude", multiple=True, help="Leave out objects matching this glob (repeatable).")
@click.option(
    "--apply-labels", is_flag=True, help="Write each object's label back to its store (tags, metadata or a sidecar)."
)
@click.option("--dry-run", is_flag=True, help="With --apply-labels: report what would change, change nothing.")
@click.option(
    "--label-in-place",
    is_flag=True,
    help="With --apply-labels: write labels into local Office files themselves (default: copies under OUT/labelled/).",
)
@click.option(
    "--consumers",
    "consumers_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Consumers: their per-object decisions go into the change report; with --private-key a signed "
    "access manifest is also built into OUT/manifest.",
)
@click.option(
    "--private-key", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Key for --consumers."
)
@click.option(
    "--state",
    "state_spec",
    metavar="DB",
    help="SQLite state for incremental runs (a path, file:///… or sqlite:///… URL): unchanged objects are not "
    "read again; changes go to OUT/changes.json.",
)
@click.option(
    "--fail-on",
    multiple=True,
    metavar="CONDITION",
    help="Exit 5 if it holds: label>=NAME[@PREFIX], new-label>=NAME[@PREFIX], risk:TYPE[@PREFIX], "
    "new-risk:TYPE[@PREFIX], failed (repeatable).",
)
@click.option(
    "--metrics",
    "metrics_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a Prometheus textfile-collector file (e.g. /var/lib/node_exporter/ingestguard.prom).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary table.")
def scan(
    sources: tuple[str, ...],
    out_dir: Path,
    config_dir: Path | None,
    workers: int | None,
    engine: str | None,
    address: str | None,
    profile: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    apply_labels: bool,
    dry_run: bool,
    label_in_place: bool,
    consumers_file: Path | None,
    private_key: Path | None,
    state_spec: str | None,
    fail_on: tuple[str, ...],
    metrics_path: Path | None,
    quiet: bool,
) -> None:
    """Scan SOURCES (paths, file://, s3://, az://, https://ACCOUNT.blob.core.windows.net/…, other fsspec URLs)
    and write Parquet results to --out."""
    if dry_run and not apply_labels:
        raise click.UsageError("--dry-run goes with --apply-labels")
    if label_in_place and not apply_labels:
        raise click.UsageError("--label-in-place goes with --apply-labels")
    if private_key is not None and consumers_file is None:
        raise click.UsageError("--private-key goes with --consumers")
    try:
        settings = load_settings(config_dir)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if profile:
        settings = settings.with_profile(profile)
    if include or exclude:
        scan_settings = settings.scan.model_copy(
            update={"include": list(include) or settings.scan.include, "exclude": [*settings.scan.exclude, *exclude]}
        )
        settings = dataclasses.replace(settings, scan=scan_settings)
    state_path = None
    if state_spec is not None:
        from scanner.state import StateError
        from scanner.state import state_path as parse_state

        try:
            state_path = parse_state(state_spec)
        except StateError as exc:
            raise click.BadParameter(str(exc), param_hint="--state") from None
    policy = None
    if consumers_file is not None:
        from labels.consumers import load_consumers

        try:
            policy = load_consumers(consumers_file, label_names=settings.labels.taxonomy.names())
        except ConfigError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
    bar = _Bar(quiet)
    try:
        mode: Literal["apply", "dry-run"] | None = ("dry-run" if dry_run else "apply") if apply_labels else None
        summary = run_scan(
            list(sources),
            out_dir,
            settings=settings,
            engine=engine,
            workers=workers,
            progress=bar,
            apply_labels=mode,
            state=state_path if state_path is not None else settings.scan.state,
            address=address,
            consumers=policy,
            fail_on=fail_on,
            office_in_place=label_in_place,
        )
    except KeyboardInterrupt:
        bar.close()
        click.echo("interrupted: no results written" + (" (the next run resumes)" if state_path else ""), err=True)
        sys.exit(EXIT_INTERRUPTED)
    except ConfigError as exc:
        bar.close()
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except IngestguardError as exc:
        bar.close()
        click.echo(f"error: {exc}", err=True)
        if metrics_path is not None:
            from scanner.metrics import write_metrics

            write_metrics(metrics_path, {}, success=False)
        sys.exit(EXIT_CANNOT_RUN)
    bar.close()
    if policy is not None and private_key is not None:
        from labels import manifest as mf
        from labels.signing import load_private_key

        try:
            header = mf.build(
                out_dir,
                policy,
                settings.labels.taxonomy,
                out_dir / "manifest",
                private_key=load_private_key(private_key),
                tool_version=__version__,
            )
        except ConfigError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        summary["manifest"] = header["consumers"]
    if metrics_path is not None:
        from scanner.metrics import write_metrics

        write_metrics(metrics_path, summary, success=True)
    if not quiet:
        click.echo(render_summary(summary, out_dir))
    for held in summary.get("fail_on", []):
        click.echo(f"fail-on: {held}", err=True)
    if summary.get("fail_on"):
        sys.exit(EXIT_FAIL_ON)
    failed = summary["objects"].get("failed", 0) + summary["units"].get("failed", 0)
    sys.exit(EXIT_FAILED_OBJECTS if failed else EXIT_OK)


@main.group()
def keys() -> None:
    """Signing keys for access manifests."""


@keys.command("generate")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default="ingestguard", show_default=True, help="File name stem: NAME.key and NAME.pub.")
def keys_generate(out_dir: Path, name: str) -> None:
    """Write an Ed25519 key pair (private key mode 0600)."""
    from labels.signing import generate_keys

    try:
        private, public = generate_keys(out_dir, name)
    except FileExistsError:
        click.echo(f"error: {out_dir / name}.key exists; not overwritten", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"private key: {private}\npublic key:  {public}")


@main.group()
def manifest() -> None:
    """Access manifests: per-consumer decisions, signed."""


@manifest.command("build")
@click.option(
    "--results",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A scan's --out directory.",
)
@click.option(
    "--consumers", "consumers_file", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--private-key", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--config", "config_dir", type=click.Path(file_okay=False, path_type=Path), help="As for scan (labels.yaml)."
)
@click.option(
    "--valid-days", default=7, show_default=True, type=click.IntRange(min=1), help="Days until the manifest expires."
)
def manifest_build(
    results: Path, consumers_file: Path, out_dir: Path, private_key: Path, config_dir: Path | None, valid_days: int
) -> None:
    """Decide every unit of a scan for every consumer and sign the result."""
    from datetime import timedelta

    from labels import manifest as mf
    from labels.consumers import load_consumers
    from labels.signing import load_private_key

    try:
        settings = load_settings(config_dir)
        policy = load_consumers(consumers_file, label_names=settings.labels.taxonomy.names())
        header = mf.build(
            results,
            policy,
            settings.labels.taxonomy,
            out_dir,
            private_key=load_private_key(private_key),
            tool_version=__version__,
            valid_for=timedelta(days=valid_days),
        )
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except IngestguardError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_CANNOT_RUN)
    for consumer, counts in header["consumers"].items():
        click.echo(f"{consumer}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    click.echo(f"manifest: {out_dir} (expires {header['expires']})")


@main.command()
@click.argument("targets", nargs=-1, required=True)
@click.option(
    "--manifest", "manifest_dir", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path)
)
@click.option("--public-key", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--consumer", required=True, help="The consumer id asking to ingest.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per target on stdout.")
def check(targets: tuple[str, ...], manifest_dir: Path, public_key: Path, consumer: str, as_json: bool) -> None:
    """May CONSUMER ingest each of TARGETS (paths or URIs)? Exit 0 if all may, 4 if any is denied."""
    import json

    from labels.gate import Gate

    try:
        gate = Gate.load(manifest_dir, public_key)
    except IngestguardError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_CANNOT_RUN)
    denied = False
    for target in targets:
        try:
            decision = gate.check(consumer, uri=target) if "://" in target else gate.check(consumer, path=target)
        except (OSError, IngestguardError) as exc:
            click.echo(f"error: {target}: {exc.__class__.__name__}", err=True)
            denied = True
            continue
        denied |= not decision.allowed
        if as_json:
            click.echo(json.dumps({"target": target, **decision.to_json()}))
        else:
            click.echo(
                f"{decision.decision:15} {target}" + (f"  ({', '.join(decision.reasons)})" if decision.reasons else "")
            )
    sys.exit(EXIT_DENIED if denied else EXIT_OK)


@main.group("labels")
def labels_group() -> None:
    """Sensitivity labels: import a Purview tenant's labels, show the taxonomy."""


@labels_group.command("import")
@click.argument("export_file", metavar="FILE", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the labels.yaml here (default: standard output). Put it in a --config DIR.",
)
@click.option("--tenant-id", help="The tenant's Microsoft Entra ID (Purview siteId), needed to label Office files.")
def labels_import(export_file: Path, out_file: Path | None, tenant_id: str | None) -> None:
    """Turn FILE, the JSON of `Get-Label | ConvertTo-Json -Depth 5`, into a labels.yaml."""
    from uuid import UUID

    import yaml

    from labels.purview import policy_document, read_export, taxonomy_from_export

    try:
        tenant = UUID(tenant_id.strip().strip("{}")) if tenant_id else None
    except ValueError:
        raise click.BadParameter("expected a GUID", param_hint="--tenant-id") from None
    try:
        result = taxonomy_from_export(read_export(export_file), tenant_id=tenant, source=str(export_file))
        doc, notes = policy_document(result, load_settings().labels)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    header = f"# Sensitivity labels imported by ingestguard {__version__} from {export_file.name}\n"
    body = header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
    if out_file is None:
        click.echo(body, nl=False)
    else:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = out_file.with_name(f".{out_file.name}.partial")
        tmp.write_text(body, encoding="utf-8")
        tmp.replace(out_file)
        click.echo(f"{len(result.taxonomy.labels)} labels written to {out_file}", err=True)
    for note in notes:
        click.echo(f"note: {note}", err=True)


@labels_group.command("show")
@click.option(
    "--config", "config_dir", type=click.Path(file_okay=False, path_type=Path), help="As for scan (labels.yaml)."
)
def labels_show(config_dir: Path | None) -> None:
    """Print the label tree: name, GUID and priority, sublabels under their parent."""
    from labels.purview import render_tree

    try:
        settings = load_settings(config_dir)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(render_tree(settings.labels.taxonomy))
    click.echo(f"default label: {settings.labels.default_label}")


@main.command()
@click.argument("results", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the page (default: RESULTS/report.html).",
)
@click.option("--open", "open_page", is_flag=True, help="Also open the page in a web browser.")
def report(results: Path, out_file: Path | None, open_page: bool) -> None:
    """Render RESULTS/changes.json (what a run changed) as a self-contained HTML page."""
    import webbrowser

    from scanner.report import write_report

    try:
        page = write_report(results, out=out_file)
    except IngestguardError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"report: {page}")
    if open_page and not webbrowser.open(page.resolve().as_uri()):
        click.echo("note: no web browser could be started; open the file above", err=True)


@main.command()
@click.option(
    "--manifest", "manifest_dir", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path)
)
@click.option("--consumer", required=True, help="The consumer whose corpus the card describes.")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Default: MANIFEST/card-CONSUMER."
)
@click.option(
    "--results",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The scan's --out directory (default: the manifest's parent); checked against the manifest's hash.",
)
@click.option(
    "--public-key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Verify the manifest's signature.",
)
@click.option(
    "--consumers",
    "consumers_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The consumers file, to describe the consumer's purposes and rights policy.",
)
@click.option("--config", "card_config", type=click.Path(file_okay=False, path_type=Path), help="As for scan.")
def card(
    manifest_dir: Path,
    consumer: str,
    out_dir: Path | None,
    results: Path | None,
    public_key: Path | None,
    consumers_file: Path | None,
    card_config: Path | None,
) -> None:
    """Write a Croissant card and an EU-style training-data summary of what CONSUMER may ingest."""
    from labels.card import build_card
    from labels.consumers import load_consumers
    from labels.signing import load_public_key

    out = out_dir or manifest_dir / f"card-{consumer}"
    try:
        described: dict[str, Any] = {}
        if consumers_file is not None:
            settings = load_settings(card_config)
            c = load_consumers(consumers_file, label_names=settings.labels.taxonomy.names()).get(consumer)
            described = {
                "kind": str(c.kind),
                "purposes": [str(p) for p in c.purposes],
                "description": c.description,
                "respect_tdm_opt_out": c.respect_tdm_opt_out,
                "licence_families": sorted(str(f) for f in c.licence_families()),
            }
        key = load_public_key(public_key) if public_key is not None else None
        stats = build_card(manifest_dir, consumer, out, results=results, public_key=key, policy=described)
    except (ConfigError, KeyError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except IngestguardError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_CANNOT_RUN)
    click.echo(f"{consumer}: {stats['units']} units, {stats['objects']} objects, {stats['units_denied']} denied")
    click.echo(f"card: {out / 'croissant.json'}, {out / 'training-data-summary.md'}")


if __name__ == "__main__":
    main()
