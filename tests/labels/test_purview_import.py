"""Importing a tenant's labels from a Get-Label | ConvertTo-Json export; showing the tree."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from labels.purview import policy_document, read_export, render_tree, taxonomy_from_export
from scanner.config import load_settings
from scanner.errors import ConfigError
from tests.test_cli_e2e import run_cli

EXPORT = Path(__file__).parent / "data" / "get-label-export.json"
TENANT = "7d1c9e0a-3b5f-4c2d-9e8f-0a1b2c3d4e5f"


def records() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(EXPORT.read_text(encoding="utf-8"))
    return data


def test_guids_priorities_and_the_sublabel_tree_are_kept() -> None:
    result = taxonomy_from_export(records())
    tax = result.taxonomy
    by_guid = {r["Guid"]: r for r in records()}
    assert len(tax.labels) == len(by_guid)
    for label in tax.labels:
        rec = by_guid[label.guid]
        assert label.priority == rec["Priority"]
        assert label.purview_name == rec["Name"]
        assert label.tooltip == rec["Tooltip"]
        if rec["ParentId"]:
            parent = tax.get(label.parent or "")
            assert parent.guid == rec["ParentId"]
            assert label.name == f"{parent.name}/{rec['DisplayName']}"
        else:
            assert label.parent is None and label.name == rec["DisplayName"]
    assert [lb.priority for lb in tax.ordered()] == sorted(r["Priority"] for r in records())
    # sublabels with the same display name under two parents stay distinct
    assert tax.find("Confidential/All Employees") != tax.find("Highly Confidential/All Employees")
    assert [c.name for c in tax.children(tax.get("Highly Confidential"))] == [
        "Highly Confidential/All Employees",
        "Highly Confidential/Specified People",
    ]


def test_settings_locale_names_content_types_disabled_and_immutable_ids() -> None:
    tax = taxonomy_from_export(records()).taxonomy
    public = tax.get("Public")
    assert public.color == "#317100"
    assert public.localized_names["de-de"] == "Öffentlich"
    assert public.content_types == ["File", "Email"]
    assert tax.get("Legacy Restricted").disabled
    migrated = next(r for r in records() if r["ImmutableId"] != r["Guid"])
    label = tax.by_id(migrated["ImmutableId"])
    assert label is not None and label.guid == migrated["Guid"]
    assert tax.by_id("{" + migrated["Guid"].upper() + "}") == label


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s.encode("utf-8"),
        lambda s: b"\xef\xbb\xbf" + s.encode("utf-8"),
        lambda s: s.encode("utf-16"),  # PowerShell 5's Out-File: UTF-16 LE with BOM
        lambda s: s.encode("utf-16-le"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-bom", "utf-16-le"],
)
def test_encodings_and_shapes_powershell_writes(tmp_path: Path, encode: Any) -> None:
    text = EXPORT.read_text(encoding="utf-8")
    path = tmp_path / "labels.json"
    path.write_bytes(encode(text))
    assert read_export(path) == records()
    single = tmp_path / "one.json"
    single.write_bytes(encode(json.dumps(records()[0])))
    assert read_export(single) == records()[:1]
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_bytes(encode(json.dumps({"value": records(), "Count": len(records())})))
    assert read_export(wrapped) == records()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Guid": "not-a-guid", "ImmutableId": None}, "no valid 'Guid'"),
        ({"Priority": "high"}, "'Priority' must be a whole number"),
        ({"ParentId": "00000000-0000-0000-0000-0000000000aa"}, "is not a label in the export"),
    ],
)
def test_bad_records_fail_with_where_and_what(change: dict[str, Any], message: str) -> None:
    recs = records()
    recs[1] = {**recs[1], **change}
    with pytest.raises(ConfigError, match=r"\[1\].*" + message.replace("(", r"\(").replace(")", r"\)")):
        taxonomy_from_export(recs)


def test_duplicate_priorities_are_refused(tmp_path: Path) -> None:
    recs = records()
    recs[1] = {**recs[1], "Priority": recs[0]["Priority"]}
    with pytest.raises(ConfigError, match="duplicate label priority"):
        taxonomy_from_export(recs)
    bad = tmp_path / "bad.json"
    bad.write_text("[{", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid JSON at line 1"):
        read_export(bad)


def test_policy_keeps_rules_whose_labels_exist_and_loads_as_config(tmp_path: Path) -> None:
    result = taxonomy_from_export(records())
    doc, notes = policy_document(result, load_settings().labels)
    assert doc["default_label"] == "General"
    assert {r["label"] for r in doc["rules"]} == {"Confidential", "Highly Confidential"}
    assert any("has sublabels" in n for n in notes)
    (tmp_path / "labels.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    settings = load_settings(tmp_path)
    assert settings.labels.taxonomy == result.taxonomy


def test_cli_import_then_show(tmp_path: Path, cli_env: dict[str, str]) -> None:
    out = tmp_path / "conf" / "labels.yaml"
    done = run_cli(["labels", "import", str(EXPORT), "--out", str(out), "--tenant-id", TENANT], cli_env)
    assert done.returncode == 0, done.stderr
    assert "9 labels written" in done.stderr
    shown = run_cli(["labels", "show", "--config", str(out.parent)], cli_env)
    assert shown.returncode == 0, shown.stderr
    tax = load_settings(out.parent).labels.taxonomy
    assert shown.stdout == render_tree(tax) + "\ndefault label: General\n"
    lines = shown.stdout.splitlines()
    hc = next(i for i, line in enumerate(lines) if line.startswith("Highly Confidential "))
    assert (
        lines[hc + 1].startswith("  All Employees")
        and tax.get("Highly Confidential/All Employees").guid in lines[hc + 1]
    )
    assert f"tenant (siteId): {TENANT}" in shown.stdout
    assert str(tax.tenant_id) == TENANT


def test_cli_import_errors_exit_2(tmp_path: Path, cli_env: dict[str, str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"DisplayName": "X"}', encoding="utf-8")
    done = run_cli(["labels", "import", str(bad)], cli_env)
    assert done.returncode == 2 and "no valid 'Guid'" in done.stderr
    done = run_cli(["labels", "import", str(EXPORT), "--tenant-id", "nope"], cli_env)
    assert done.returncode == 2
    assert isinstance(done, subprocess.CompletedProcess)
