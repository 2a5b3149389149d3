"""The change report of a run: ``OUT/changes.json`` rendered as one self-contained HTML page.

The page has inline CSS and inline SVG charts, no script and no external URL, so
it can be mailed, archived or opened offline. Everything in ``changes.json`` is
untrusted text (object URIs, consumer ids, entity and label names): the template
autoescapes, the charts escape every attribute and text node, and colours must
be ``#RRGGBB``. ``changes.json`` holds no raw sensitive values by construction
and the page adds none: it shows only counts, names, URIs and labels.

The charts are drawn here rather than with a chart library: two simple charts
(stacked bars over runs, horizontal bars over entity types) need about a hundred
lines, while the pure-Python SVG libraries either embed JavaScript and external
stylesheets by default (pygal) or are no longer maintained (leather).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import jinja2
from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scanner.errors import IngestguardError
from scanner.usercache import cache_dir

REPORT_VERSION = 1
CHANGES_FILE = "changes.json"
REPORT_FILE = "report.html"
MAX_OBJECTS = 500  # objects listed on the page, the most important first
MAX_MANIFEST_OBJECTS = 100  # decision changes listed per consumer, new denials first
OPEN_ROWS = 25  # longer tables start folded (<details>, no script needed)
MAX_RUNS = 60  # runs drawn in "Labels over time", the latest
MAX_ENTITY_TYPES = 25  # bars in "Entity types", the most frequent

# Colours for labels that ``labels`` does not colour (unknown names, or no colour given).
_FALLBACK = ("#6D4C41", "#546E7A", "#8E24AA", "#00838F", "#9E9D24", "#5D4037")
_UNKNOWN_LABEL = "#9E9E9E"
_ACCENT = "#37474F"


class ReportError(IngestguardError):
    """``changes.json`` is missing or invalid, or the page cannot be written."""


# --- changes.json, validated -------------------------------------------------------------------------


class _Model(BaseModel):
    # Unknown keys are ignored so that a newer writer with extra fields still renders.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Counts(_Model):
    new: int = Field(default=0, ge=0)
    changed: int = Field(default=0, ge=0)
    deleted: int = Field(default=0, ge=0)
    unchanged: int = Field(default=0, ge=0)
    relabelled: int = Field(default=0, ge=0)
    touched: int = Field(default=0, ge=0)


class LabelChanges(_Model):
    upgrades: int = Field(default=0, ge=0)
    downgrades: int = Field(default=0, ge=0)


class ChangedObject(_Model):
    uri: str
    change: Literal["new", "changed", "deleted", "relabelled"]
    old_label: str | None = None
    new_label: str | None = None
    label_change: Literal["upgrade", "downgrade", "same"] | None = None
    old_risks: list[str] = []
    new_risks: list[str] = []
    added_risks: list[str] = []
    entity_counts: dict[str, int] = {}


class DecisionChange(_Model):
    uri: str
    old: str | None = None
    new: str | None = None
    reasons: list[str] = []


class ConsumerChanges(_Model):
    changed: int = Field(default=0, ge=0)
    objects: list[DecisionChange] = []


class HistoryRun(_Model):
    run_id: str
    finished: str
    labels: dict[str, int] = {}


class TopSource(_Model):
    prefix: str
    objects: int = Field(default=0, ge=0)
    sensitive: int = Field(default=0, ge=0)
    highest_label: str | None = None


class LabelInfo(_Model):
    name: str
    priority: int
    color: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{6}$")


class Changes(_Model):
    """The shape of ``changes.json`` (``report_version`` 1), as the state store writes it."""

    report_version: int
    run_id: str
    previous_run_id: str | None = None
    started: str | None = None
    finished: str | None = None
    sources: list[str] = []
    counts: Counts = Counts()
    label_changes: LabelChanges = LabelChanges()
    new_risks: dict[str, int] = {}
    objects: list[ChangedObject] = []
    manifest: dict[str, ConsumerChanges] = {}
    history: list[HistoryRun] = []
    entities: dict[str, int] = {}
    top_sources: list[TopSource] = []
    labels: list[LabelInfo] = []


def parse_changes(changes: Mapping[str, Any], *, source: str = CHANGES_FILE) -> Changes:
    """Validate a ``changes.json`` document; errors name the key and what was expected."""
    version = changes.get("report_version") if isinstance(changes, Mapping) else None
    if isinstance(version, int) and version > REPORT_VERSION:
        raise ReportError(
            f"{source}: report_version {version} was written by a newer ingestguard; this one reads {REPORT_VERSION}"
        )
    try:
        return Changes.model_validate(changes)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()[:5]
        )
        more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
        raise ReportError(f"{source}: not a valid change report: {problems}{more}") from exc


# --- labels and colours ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Palette:
    """Label names in priority order (least sensitive first) with their colours."""

    order: tuple[str, ...]
    colors: Mapping[str, str]
    priority: Mapping[str, int]

    @classmethod
    def build(cls, labels: Sequence[LabelInfo], seen: Iterable[str]) -> Palette:
        known = sorted(labels, key=lambda label: (label.priority, label.name))
        order = [label.name for label in known]
        colors: dict[str, str] = {}
        for i, label in enumerate(known):
            colors[label.name] = label.color or _FALLBACK[i % len(_FALLBACK)]
        for name in sorted(set(seen) - set(order)):  # in the history but not in `labels`: drawn last, in grey
            order.append(name)
            colors[name] = _UNKNOWN_LABEL
        priority = {name: i for i, name in enumerate(order)}
        return cls(tuple(order), colors, priority)

    def color(self, name: str | None) -> str:
        return self.colors.get(name or "", _UNKNOWN_LABEL)

    def rank(self, name: str | None) -> int:
        return self.priority.get(name or "", -1)


def text_color(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (``#RRGGBB``; WCAG relative luminance)."""

    def channel(hex2: str) -> float:
        c = int(hex2, 16) / 255
        return c / 12.92 if c <= 0.03928 else float(((c + 0.055) / 1.055) ** 2.4)

    r, g, b = (channel(background[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#FFFFFF"


# --- choosing what to list ---------------------------------------------------------------------------

_CHANGE_ORDER = {"new": 0, "changed": 1, "relabelled": 2, "deleted": 3}


def importance(obj: ChangedObject, palette: Palette) -> tuple[int, int, int, int, str]:
    """Sort key, most important first: label upgrades and new risks, then downgrades, then the rest;
    within a tier the more sensitive new label, more new risks, then the kind of change and the URI."""
    if obj.label_change == "upgrade" or obj.added_risks:
        tier = 0
    elif obj.label_change == "downgrade":
        tier = 1
    else:
        tier = 2
    label = obj.new_label if obj.new_label is not None else obj.old_label
    return (tier, -palette.rank(label), -len(obj.added_risks), _CHANGE_ORDER[obj.change], obj.uri)


def select_objects(
    objects: Sequence[ChangedObject], palette: Palette, limit: int = MAX_OBJECTS
) -> tuple[list[ChangedObject], int]:
    """The ``limit`` most important objects, and how many were left out."""
    ranked = sorted(objects, key=lambda obj: importance(obj, palette))
    return ranked[:limit], max(0, len(ranked) - limit)


_DECISION_ORDER = {"deny": 0, "allow_redacted": 1, "allow": 2}


@dataclass(frozen=True, slots=True)
class ConsumerView:
    """What the page lists for one consumer: its changed decisions, new denials first, capped."""

    consumer: str
    changed: int
    rows: list[DecisionChange]
    left_out: int


def manifest_views(manifest: Mapping[str, ConsumerChanges], limit: int = MAX_MANIFEST_OBJECTS) -> list[ConsumerView]:
    views = []
    for consumer in sorted(manifest):
        entry = manifest[consumer]
        ranked = sorted(entry.objects, key=lambda d: (_DECISION_ORDER.get(d.new or "", 3), d.uri))
        views.append(ConsumerView(consumer, entry.changed, ranked[:limit], max(0, len(ranked) - limit)))
    return views


# --- SVG -----------------------------------------------------------------------------------------------


def _el(tag: str, attrs: Mapping[str, object] | None = None, *children: str | Markup) -> Markup:
    """One SVG element; attribute values and text children are escaped, Markup children kept."""
    parts = [f"<{tag}"]
    for key, value in (attrs or {}).items():
        if value is not None:
            shown = f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
            parts.append(f' {key}="{escape(shown)}"')
    if not children:
        return Markup("".join(parts) + "/>")
    inner = "".join(str(escape(child)) for child in children)
    return Markup("".join(parts) + ">" + inner + f"</{tag}>")


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """Axis ticks from 0 to at least ``maximum`` in steps of 1, 2 or 5 times a power of ten."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if step < 1:  # counts are whole numbers
        step = 1
    top = math.ceil(maximum / step) * step
    return [i * step for i in range(round(top / step) + 1)]


def _fmt(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"


def short_time(stamp: str | None) -> str:
    """``2024-05-01T03:12:09+00:00`` → ``2024-05-01 03:12 UTC``; anything unparsable is shown as given."""
    if not stamp:
        return "–"
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if parsed.tzinfo is not None and parsed.utcoffset():
        return parsed.strftime("%Y-%m-%d %H:%M %z")
    return parsed.strftime("%Y-%m-%d %H:%M") + (" UTC" if parsed.tzinfo is not None else "")


def _sort_time(stamp: str) -> tuple[int, float, str]:
    """Chronological order whatever the UTC offsets (naive times taken as UTC); unparsable stamps last."""
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        return (1, 0.0, stamp)
    return (0, (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp(), stamp)


@dataclass(frozen=True, slots=True)
class Segment:
    """One coloured block of a stacked bar: its label, count and box in SVG coordinates."""

    run: int
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


def label_chart(history: Sequence[HistoryRun], palette: Palette, *, width: int = 1100) -> tuple[Markup, int]:
    """Stacked bars of objects per label, one bar per run (the latest ``MAX_RUNS``); returns the SVG
    and how many older runs were left out."""
    runs = sorted(history, key=lambda run: _sort_time(run.finished))
    left_out = max(0, len(runs) - MAX_RUNS)
    runs = runs[left_out:]
    height, left, right, top, bottom = 380, 78, 16, 16, 78
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(max(0, v) for v in run.labels.values()) for run in runs]
    ticks = nice_ticks(max(totals, default=0))
    axis_max = ticks[-1]
    slot = plot_w / max(1, len(runs))
    bar_w = max(2.0, min(64.0, slot * 0.7))

    def y_of(value: float) -> float:
        return top + plot_h - value / axis_max * plot_h

    shapes: list[Markup] = []
    for tick in ticks:
        y = y_of(tick)
        shapes.append(_el("line", {"x1": left, "x2": left + plot_w, "y1": y, "y2": y, "class": "grid"}))
        shapes.append(_el("text", {"x": left - 8, "y": y + 4, "text-anchor": "end", "class": "tick"}, _fmt(tick)))
    segments = stacked_segments(runs, palette, left=left, slot=slot, bar_w=bar_w, y_of=y_of)
    for seg in segments:
        run = runs[seg.run]
        tip = f"{short_time(run.finished)} (run {run.run_id}): {seg.label} {seg.value:,} objects"
        attrs = {"x": seg.x, "y": seg.y, "width": seg.width, "height": seg.height, "fill": palette.color(seg.label)}
        shapes.append(_el("rect", attrs, _el("title", None, tip)))
    every = max(1, math.ceil(len(runs) / 12))  # at most a dozen run captions under the axis, the latest always
    for i, run in enumerate(runs):
        if (len(runs) - 1 - i) % every == 0:
            x = left + slot * (i + 0.5)
            caption = short_time(run.finished)[:10] if len(runs) > 1 else short_time(run.finished)
            attrs = {"x": x, "y": top + plot_h + 16, "text-anchor": "middle", "class": "tick"}
            shapes.append(_el("text", attrs, caption))
    shapes.append(_el("line", {"x1": left, "x2": left, "y1": top, "y2": top + plot_h, "class": "axis"}))
    shapes.append(
        _el("line", {"x1": left, "x2": left + plot_w, "y1": top + plot_h, "y2": top + plot_h, "class": "axis"})
    )
    shapes.append(
        _el(
            "text",
            {
                "x": 16,
                "y": top + plot_h / 2,
                "transform": f"rotate(-90 16 {top + plot_h / 2:.1f})",
                "class": "axis-title",
            },
            "objects",
        )
    )
    shapes.append(_el("text", {"x": left + plot_w / 2, "y": height - 40, "class": "axis-title"}, "run (finished)"))
    shapes.extend(
        _legend([name for name in palette.order if any(name in r.labels for r in runs)], palette, height - 18)
    )
    title = f"Objects per sensitivity label in the last {len(runs)} run{'s' if len(runs) != 1 else ''}"
    desc = "; ".join(
        f"{short_time(run.finished)}: "
        + ", ".join(f"{name} {run.labels[name]:,}" for name in palette.order if name in run.labels)
        for run in runs[-5:]
    )
    return _svg(width, height, title, desc, shapes, "labels-chart"), left_out


def stacked_segments(
    runs: Sequence[HistoryRun],
    palette: Palette,
    *,
    left: float,
    slot: float,
    bar_w: float,
    y_of: Callable[[float], float],
) -> list[Segment]:
    """Boxes of the stacked bars: per run, labels bottom-up in priority order (least sensitive at the bottom)."""
    segments: list[Segment] = []
    for i, run in enumerate(runs):
        x = left + slot * (i + 0.5) - bar_w / 2
        below = 0
        for name in palette.order:
            value = max(0, run.labels.get(name, 0))
            if value == 0:
                continue
            y_top, y_bottom = y_of(below + value), y_of(below)
            segments.append(Segment(i, name, value, x, y_top, bar_w, y_bottom - y_top))
            below += value
    return segments


def entity_chart(entities: Mapping[str, int], *, width: int = 1100) -> tuple[Markup, int]:
    """Horizontal bars of findings per entity type (the ``MAX_ENTITY_TYPES`` most frequent);
    returns the SVG and how many types were left out."""
    ranked = sorted(((name, count) for name, count in entities.items() if count > 0), key=lambda kv: (-kv[1], kv[0]))
    shown, left_out = ranked[:MAX_ENTITY_TYPES], max(0, len(ranked) - MAX_ENTITY_TYPES)
    row, left, right, top = 24, 230, 80, 10
    plot_w = width - left - right
    plot_h = row * len(shown)
    height = top + plot_h + 56
    ticks = nice_ticks(shown[0][1] if shown else 0)
    axis_max = ticks[-1]
    shapes: list[Markup] = []
    for tick in ticks:
        x = left + tick / axis_max * plot_w
        shapes.append(_el("line", {"x1": x, "x2": x, "y1": top, "y2": top + plot_h, "class": "grid"}))
        shapes.append(
            _el("text", {"x": x, "y": top + plot_h + 16, "text-anchor": "middle", "class": "tick"}, _fmt(tick))
        )
    for i, (name, count) in enumerate(shown):
        y = top + i * row
        bar = count / axis_max * plot_w
        shapes.append(_el("text", {"x": left - 8, "y": y + row / 2 + 4, "text-anchor": "end", "class": "name"}, name))
        rect = {"x": left, "y": y + 4, "width": bar, "height": row - 8, "fill": _ACCENT}
        shapes.append(_el("rect", rect, _el("title", None, f"{name}: {count:,} findings")))
        shapes.append(_el("text", {"x": left + bar + 6, "y": y + row / 2 + 4, "class": "tick"}, f"{count:,}"))
    shapes.append(_el("line", {"x1": left, "x2": left, "y1": top, "y2": top + plot_h, "class": "axis"}))
    shapes.append(_el("text", {"x": left + plot_w / 2, "y": height - 12, "class": "axis-title"}, "findings"))
    title = f"Findings per entity type (the {len(shown)} most frequent)"
    desc = ", ".join(f"{name} {count:,}" for name, count in shown)
    return _svg(width, height, title, desc, shapes, "entities-chart"), left_out


def _legend(names: Sequence[str], palette: Palette, y: float) -> list[Markup]:
    shapes: list[Markup] = []
    x = 78.0
    for name in names:
        shapes.append(_el("rect", {"x": x, "y": y - 11, "width": 14, "height": 14, "fill": palette.color(name)}))
        shapes.append(_el("text", {"x": x + 20, "y": y + 1, "class": "legend"}, name))
        x += 44 + 6.8 * len(name)
    return shapes


def _svg(width: int, height: int, title: str, desc: str, shapes: Sequence[Markup], ident: str) -> Markup:
    attrs = {
        "xmlns": "http://www.w3.org/2000/svg",  # a namespace name, never fetched
        "viewBox": f"0 0 {width} {height}",
        "width": width,
        "height": height,
        "role": "img",
        "aria-labelledby": f"{ident}-title {ident}-desc",
        "class": "chart",
    }
    head = [_el("title", {"id": f"{ident}-title"}, title), _el("desc", {"id": f"{ident}-desc"}, desc or "no data")]
    return _el("svg", attrs, *head, *shapes)


# --- the page ----------------------------------------------------------------------------------------


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept in the user's cache directory (compiling the page took longer than
    rendering it); a cache that cannot be read or written is only a slower run."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError, ValueError, EOFError):
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _template_cache() -> jinja2.BytecodeCache | None:
    directory = cache_dir("templates")
    return None if directory is None else _TemplateCache(str(directory))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        bytecode_cache=_template_cache(),
        loader=jinja2.PackageLoader("scanner", "templates"),
        autoescape=True,  # every value from changes.json is untrusted text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = short_time
    env.filters["num"] = lambda value: f"{value:,}"
    return env


def render_html(changes: Mapping[str, Any], *, max_objects: int = MAX_OBJECTS, source: str = CHANGES_FILE) -> str:
    """The change report as one self-contained HTML page (inline CSS and SVG, no script, no external URL);
    ``source`` names the input in validation errors."""
    report = parse_changes(changes, source=source)
    seen = {name for run in report.history for name in run.labels}
    seen |= {label for obj in report.objects for label in (obj.old_label, obj.new_label) if label}
    seen |= {src.highest_label for src in report.top_sources if src.highest_label}
    palette = Palette.build(report.labels, seen)
    listed, objects_left_out = select_objects(report.objects, palette, max_objects)
    label_changed = [obj for obj in listed if obj.label_change in ("upgrade", "downgrade")]
    risky = [obj for obj in listed if obj.added_risks]
    labels_svg, runs_left_out = label_chart(report.history, palette) if report.history else (Markup(""), 0)
    entities_svg, types_left_out = entity_chart(report.entities) if report.entities else (Markup(""), 0)
    chips = {name: (color, text_color(color)) for name, color in palette.colors.items()}
    template = _environment().get_template("report.html.j2")
    return template.render(
        r=report,
        chips=chips,
        unknown_chip=(_UNKNOWN_LABEL, text_color(_UNKNOWN_LABEL)),
        listed=listed,
        objects_left_out=objects_left_out,
        label_changed=label_changed,
        label_changed_left_out=sum(o.label_change in ("upgrade", "downgrade") for o in report.objects)
        - len(label_changed),
        risky=risky,
        risky_left_out=sum(bool(o.added_risks) for o in report.objects) - len(risky),
        new_risk_total=sum(report.new_risks.values()),
        new_risks=sorted(((k, v) for k, v in report.new_risks.items() if v > 0), key=lambda kv: (-kv[1], kv[0])),
        labels_svg=labels_svg,
        runs_left_out=runs_left_out,
        entities_svg=entities_svg,
        types_left_out=types_left_out,
        manifest=manifest_views(report.manifest),
        open_rows=OPEN_ROWS,
    )


def write_report(out_dir: Path, *, out: Path | None = None) -> Path:
    """Read ``OUT_DIR/changes.json`` and write the page (default ``OUT_DIR/report.html``) atomically."""
    source = Path(out_dir) / CHANGES_FILE
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReportError(f"{source}: not found (a run with a state store writes it)") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{source}: cannot be read ({exc.__class__.__name__})") from exc
    except json.JSONDecodeError as exc:
        raise ReportError(f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
    if not isinstance(data, dict):
        raise ReportError(f"{source}: not a valid change report: expected a JSON object")
    page = render_html(data, source=str(source))
    target = Path(out) if out is not None else Path(out_dir) / REPORT_FILE
    try:
        _write_atomic(target, page)
    except OSError as exc:
        raise ReportError(f"{target}: cannot be written ({exc.strerror or exc.__class__.__name__})") from exc
    return target


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
