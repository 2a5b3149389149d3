"""The change report: one self-contained HTML page, rendered for real in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from click.testing import CliRunner
from PIL import Image

from scanner import report as rp
from scanner.cli import main
from tests.changes_fixture import empty_changes, make_changes

HEADINGS = (
    "Summary",
    "Labels over time",
    "Label changes",
    "New risks",
    "Manifest changes",
    "Entity types",
    "Top sources",
)
WIDTH, HEIGHT = 1280, 4000


def rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def h2s(page: str) -> list[str]:
    return [h.text_content().strip() for h in lxml.html.fromstring(page).iter("h2")]


# --- headless Chromium -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    found = os.environ.get("INGESTGUARD_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium; `make test` installs it as root)")
    return found


def run_chromium(binary: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    flags = [
        "--headless",
        "--no-sandbox",  # we run as root, where Chromium's sandbox refuses to start
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ]
    return subprocess.run([binary, *flags, *args], capture_output=True, timeout=120, check=False)


def screenshot(binary: str, page: str, tmp_path: Path, name: str) -> Image.Image:
    html = tmp_path / f"{name}.html"
    html.write_text(page, encoding="utf-8")
    png = tmp_path / f"{name}.png"
    started = time.monotonic()
    result = run_chromium(
        binary, tmp_path, f"--screenshot={png}", f"--window-size={WIDTH},{HEIGHT}", html.resolve().as_uri()
    )
    assert png.exists(), f"no screenshot (exit {result.returncode}): {result.stderr.decode(errors='replace')[-2000:]}"
    print(f"chromium screenshot of {name}: {time.monotonic() - started:.1f} s")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(png)
    assert image.format == "PNG"
    assert image.size == (WIDTH, HEIGHT)
    return image.convert("RGB")


def pixel_counts(image: Image.Image) -> dict[tuple[int, int, int], int]:
    colors = image.getcolors(WIDTH * HEIGHT)
    assert colors is not None
    return {color: n for n, color in colors}


def test_screenshot_shows_the_page_with_its_label_colours(chromium: str, tmp_path: Path) -> None:
    changes = make_changes(seed=11)
    image = screenshot(chromium, rp.render_html(changes), tmp_path, "report")
    counts = pixel_counts(image)
    white = counts.get((255, 255, 255), 0)
    assert white < 0.95 * WIDTH * HEIGHT, "the screenshot is (almost) blank"
    assert len(counts) > 200, "too few colours for a page with text and charts"
    for label in changes["labels"]:
        assert counts.get(rgb(label["color"]), 0) > 1500, f"{label['name']} ({label['color']}) is not on the page"
    assert counts.get(rgb(rp._ACCENT), 0) > 1500, "the entity-type bars are not on the page"


def test_labels_over_time_stacks_label_colours_in_priority_order(chromium: str, tmp_path: Path) -> None:
    # Only the charts carry label colours here (no tables with label chips), so every pixel counted is a bar.
    changes = {**make_changes(seed=3), "objects": [], "top_sources": [], "manifest": {}}
    image = screenshot(chromium, rp.render_html(changes), tmp_path, "charts")
    counts = pixel_counts(image)
    labels = sorted(changes["labels"], key=lambda label: label["priority"])
    for label in labels:
        assert counts.get(rgb(label["color"]), 0) > 3000, f"{label['name']} bars are missing"
    # Walk up one column through the latest bar: least sensitive label at the bottom, as the legend says.
    pixels = image.load()
    assert pixels is not None
    public = rgb(labels[0]["color"])
    columns = [x for x in range(WIDTH) for y in range(0, 1200, 2) if pixels[x, y] == public]
    x = max(columns) - 3
    seen: list[tuple[int, int, int]] = []
    for y in range(1200, 0, -1):
        color = pixels[x, y]
        if color in {rgb(label["color"]) for label in labels} and (not seen or seen[-1] != color):
            seen.append(color)
    assert seen[:4] == [rgb(label["color"]) for label in labels]


def test_dom_holds_every_section(chromium: str, tmp_path: Path) -> None:
    html = tmp_path / "dom.html"
    html.write_text(rp.render_html(make_changes(seed=5)), encoding="utf-8")
    started = time.monotonic()
    result = run_chromium(chromium, tmp_path, "--dump-dom", html.resolve().as_uri())
    print(f"chromium --dump-dom: {time.monotonic() - started:.1f} s")
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    headings = h2s(result.stdout.decode())
    for heading in HEADINGS:
        assert heading in headings
    assert headings[: len(HEADINGS)] == list(HEADINGS)


# --- the page without a browser ----------------------------------------------------------------------


def test_empty_first_run_renders() -> None:
    page = rp.render_html(empty_changes())
    assert h2s(page)[: len(HEADINGS)] == list(HEADINGS)
    assert "the first run: nothing to compare with" in page
    assert "No run history yet." in page
    assert "Nothing changed since the previous run." in page
    assert "No new risks in this run." in page
    assert "<svg" not in page


def test_bare_minimum_document_renders() -> None:
    page = rp.render_html({"report_version": 1, "run_id": "r1"})
    assert h2s(page)[: len(HEADINGS)] == list(HEADINGS)


def test_single_run_history_draws_one_bar() -> None:
    changes = {
        **empty_changes(),
        "history": [{"run_id": "r1", "finished": "2025-06-01T02:00:03+00:00", "labels": {"General": 5}}],
    }
    page = rp.render_html(changes)
    svg = lxml.html.fromstring(page).get_element_by_id("labels-over-time")
    bars = [r for r in svg.iter("rect") if r.find("title") is not None]
    assert len(bars) == 1
    assert "General 5 objects" in bars[0].find("title").text_content()


HOSTILE = '<script>alert("x")</script>'


def test_untrusted_names_and_uris_are_escaped() -> None:
    changes = make_changes(seed=2, objects=80)
    obj = changes["objects"][0]
    obj.update(uri=f"s3://bucket/{HOSTILE}.txt", label_change="upgrade", added_risks=[HOSTILE])
    changes["manifest"][HOSTILE] = {
        "changed": 1,
        "objects": [{"uri": HOSTILE, "old": HOSTILE, "new": "deny", "reasons": [HOSTILE]}],
    }
    changes["top_sources"].append({"prefix": HOSTILE, "objects": 1, "sensitive": 1, "highest_label": HOSTILE})
    changes["entities"][HOSTILE] = 10**6  # the longest bar, so it is drawn
    changes["history"][-1]["labels"][HOSTILE] = 3
    changes["new_risks"][HOSTILE] = 1
    changes["sources"].append(HOSTILE)
    changes["run_id"] = '"><img src=x onerror=alert(1)>'
    page = rp.render_html(changes)
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;script&gt;" in page
    tree = lxml.html.fromstring(page)
    assert not list(tree.iter("script")) and not list(tree.iter("img"))
    assert not [el for el in tree.iter() if any(attr.startswith("on") for attr in el.attrib)]
    # The values arrive intact as text, in every place they were put.
    text = tree.text_content()
    assert text.count(HOSTILE) >= 8


def test_colours_must_be_hex() -> None:
    changes = empty_changes()
    changes["labels"][0]["color"] = "red;background:url(https://example.com/x)"
    with pytest.raises(rp.ReportError, match=r"labels\.0\.color"):
        rp.render_html(changes)


def test_page_is_self_contained() -> None:
    page = rp.render_html(make_changes(seed=4))
    lowered = page.lower()
    for needle in ("<script", "<link", "<img", "<iframe", "src=", "href=", "url(", "@import"):
        assert needle not in lowered
    assert set(re.findall(r"https?://[^\s\"'<>]*", page)) == {"http://www.w3.org/2000/svg"}  # a namespace name
    assert "default-src 'none'" in page  # and a CSP refuses anything that slipped through


def test_cap_lists_the_most_important_objects_and_says_how_many_were_left_out() -> None:
    def obj(i: int, **kw: Any) -> dict[str, Any]:
        base = {"uri": f"s3://b/p/{i:05d}.jsonl", "change": "changed", "old_label": "General", "new_label": "General"}
        return {**base, "label_change": "same", **kw}

    objects = [obj(i) for i in range(900)]
    objects += [obj(1000 + i, new_label="Confidential", label_change="upgrade") for i in range(150)]
    objects += [obj(2000 + i, added_risks=["PROMPT_INJECTION"], new_risks=["PROMPT_INJECTION"]) for i in range(50)]
    objects += [obj(3000 + i, new_label="Public", label_change="downgrade") for i in range(100)]
    changes = {**empty_changes(), "objects": objects}
    page = rp.render_html(changes)
    section = lxml.html.fromstring(page).get_element_by_id("changed-objects")
    rows = section.findall(".//tbody/tr")
    assert len(rows) == rp.MAX_OBJECTS
    assert "700 more changed objects not listed" in section.text_content()
    listed = [row.findall("td")[1].text_content() for row in rows]

    def tier(uri: str) -> int:
        return int(uri.removeprefix("s3://b/p/").removesuffix(".jsonl")) // 1000

    # All upgrades and all new risks come first, then the downgrades, then the rest.
    assert {tier(u) for u in listed[:200]} == {1, 2}
    assert {tier(u) for u in listed[200:300]} == {3}
    assert {tier(u) for u in listed[300:]} == {0}
    # Within the first tier, the more sensitive new label first.
    assert all(tier(u) == 1 for u in listed[:150])
    label_changes = lxml.html.fromstring(page).get_element_by_id("label-changes")
    assert len(label_changes.findall(".//tbody/tr")) == 250
    assert "more label changes" not in label_changes.text_content()

    few = rp.render_html(changes, max_objects=120)
    section = lxml.html.fromstring(few).get_element_by_id("label-changes")
    assert "130 more label changes not listed" in section.text_content()


def test_upgrades_and_new_risks_sort_ahead() -> None:
    palette = rp.Palette.build([rp.LabelInfo(**label) for label in empty_changes()["labels"]], [])
    make = rp.ChangedObject.model_validate
    upgrade = make(
        {
            "uri": "a",
            "change": "relabelled",
            "old_label": "General",
            "new_label": "Confidential",
            "label_change": "upgrade",
        }
    )
    risky = make({"uri": "b", "change": "new", "new_label": "Public", "added_risks": ["HIDDEN_TEXT"]})
    deleted = make({"uri": "c", "change": "deleted", "old_label": "Highly Confidential"})
    down = make(
        {
            "uri": "d",
            "change": "changed",
            "old_label": "Confidential",
            "new_label": "General",
            "label_change": "downgrade",
        }
    )
    chosen, left_out = rp.select_objects([deleted, down, risky, upgrade], palette, limit=3)
    assert [o.uri for o in chosen] == ["a", "b", "d"]
    assert left_out == 1


# --- charts: scales ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("maximum", "ticks"),
    [
        (0, [0, 1]),
        (3, [0, 1, 2, 3]),
        (9, [0, 2, 4, 6, 8, 10]),
        (775, [0, 200, 400, 600, 800]),
        (1167, [0, 500, 1000, 1500]),
        (10_000, [0, 2000, 4000, 6000, 8000, 10_000]),
    ],
)
def test_nice_ticks(maximum: int, ticks: list[int]) -> None:
    assert rp.nice_ticks(maximum) == ticks


def test_stacked_bar_heights_are_proportional() -> None:
    changes = make_changes(seed=8, runs=5)
    report = rp.parse_changes(changes)
    palette = rp.Palette.build(report.labels, [])
    page = rp.render_html(changes)
    svg = lxml.html.fromstring(page).get_element_by_id("labels-over-time").find(".//svg")
    assert svg.find("title").text_content().startswith("Objects per sensitivity label in the last 5 runs")
    bars = [r for r in svg.iter("rect") if r.find("title") is not None]
    assert len(bars) == sum(1 for run in report.history for v in run.labels.values() if v)
    axis_max = rp.nice_ticks(max(sum(run.labels.values()) for run in report.history))[-1]
    plot_h = 380 - 16 - 78
    for bar in bars:
        value = int(bar.find("title").text_content().rsplit(" ", 2)[-2].replace(",", ""))
        assert float(bar.get("height")) == pytest.approx(value / axis_max * plot_h, abs=0.01)
        assert bar.get("fill") in palette.colors.values()
    # Each run's bar stacks without gaps: its segments' heights add up to its total.
    for i, run in enumerate(sorted(report.history, key=lambda r: r.finished)):
        segs = [s for s in rp.stacked_segments([run], palette, left=0, slot=10, bar_w=5, y_of=lambda v: 100 - v)]
        assert sum(s.height for s in segs) == pytest.approx(sum(run.labels.values()))
        assert [s.label for s in segs] == [n for n in palette.order if run.labels.get(n)], i


def test_entity_bars_are_proportional_and_capped() -> None:
    entities = {f"TYPE_{i:02d}": 1000 - 30 * i for i in range(30)}
    svg_markup, left_out = rp.entity_chart(entities)
    assert left_out == 30 - rp.MAX_ENTITY_TYPES
    svg = lxml.html.fromstring(str(svg_markup))
    bars = [r for r in svg.iter("rect") if r.find("title") is not None]
    assert len(bars) == rp.MAX_ENTITY_TYPES
    plot_w = 1100 - 230 - 80
    for i, bar in enumerate(bars):
        assert float(bar.get("width")) == pytest.approx((1000 - 30 * i) / 1000 * plot_w, abs=0.01)


def test_labels_missing_from_the_taxonomy_are_drawn_last_in_grey() -> None:
    labels = [rp.LabelInfo(name="Public", priority=0, color="#2E7D32"), rp.LabelInfo(name="Secret", priority=5)]
    palette = rp.Palette.build(labels, ["Mystery", "Public"])
    assert palette.order == ("Public", "Secret", "Mystery")
    assert palette.color("Mystery") == rp._UNKNOWN_LABEL
    assert palette.color("Secret").startswith("#")


def test_chip_text_is_readable() -> None:
    assert rp.text_color("#C62828") == "#FFFFFF"
    assert rp.text_color("#FFEB3B") == "#000000"


# --- reading and writing -------------------------------------------------------------------------------


def test_write_report_writes_atomically(tmp_path: Path) -> None:
    (tmp_path / "changes.json").write_text(json.dumps(make_changes(seed=1)), encoding="utf-8")
    page = rp.write_report(tmp_path)
    assert page == tmp_path / "report.html"
    assert h2s(page.read_text(encoding="utf-8"))[: len(HEADINGS)] == list(HEADINGS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["changes.json", "report.html"]
    elsewhere = rp.write_report(tmp_path, out=tmp_path / "pages" / "night.html")
    assert elsewhere.read_text(encoding="utf-8") == page.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "changes.json: not found"),
        ("{not json", "not valid JSON (line 1, column 2"),
        ("[1, 2]", "expected a JSON object"),
        ('{"report_version": 1}', "run_id: Field required"),
        (
            '{"report_version": 1, "run_id": "r", "counts": {"new": "many"}}',
            "counts.new: Input should be a valid integer",
        ),
        ('{"report_version": 1, "run_id": "r", "objects": [{"uri": "u", "change": "moved"}]}', "objects.0.change"),
        ('{"report_version": 2, "run_id": "r"}', "written by a newer ingestguard"),
    ],
)
def test_missing_or_invalid_changes_json_is_a_clear_error(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "changes.json").write_text(content, encoding="utf-8")
    with pytest.raises(rp.ReportError, match=None) as info:
        rp.write_report(tmp_path)
    assert message in str(info.value)
    assert not (tmp_path / "report.html").exists()


# --- the command ---------------------------------------------------------------------------------------


def test_cli_writes_the_report(tmp_path: Path) -> None:
    (tmp_path / "changes.json").write_text(json.dumps(make_changes(seed=1)), encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"report: {tmp_path / 'report.html'}" in result.output
    out = tmp_path / "elsewhere.html"
    result = CliRunner().invoke(main, ["report", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 0 and out.exists()


def test_cli_open_starts_a_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url) or True)
    (tmp_path / "changes.json").write_text(json.dumps(empty_changes()), encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(tmp_path), "--open"])
    assert result.exit_code == 0, result.output
    assert opened == [(tmp_path / "report.html").resolve().as_uri()]


def test_cli_missing_or_invalid_changes_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "error:" in result.output and "changes.json: not found" in result.output
    (tmp_path / "changes.json").write_text('{"report_version": 1, "run_id": 5}', encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "run_id: Input should be a valid string" in result.output


def test_runs_are_drawn_in_time_order_whatever_the_offset() -> None:
    history = [
        {"run_id": "late", "finished": "2025-06-01T23:30:00+00:00", "labels": {"General": 2}},
        {"run_id": "early", "finished": "2025-06-02T01:00:00+02:00", "labels": {"General": 1}},
    ]
    svg = str(rp.label_chart([rp.HistoryRun(**run) for run in history], rp.Palette.build([], ["General"]))[0])
    assert svg.index("(run early)") < svg.index("(run late)")
