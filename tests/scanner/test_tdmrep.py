"""TDM reservations declared outside the document: a site's ``/.well-known/tdmrep.json`` (at the root or an
ancestor prefix) and the header form carried as object metadata (S3 user metadata on moto's server, Azure
blob metadata on Azurite), judged by the access manifest; a changed declaration rescans the object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from connectors import SourceObject
from labels.consumers import load_consumers
from labels.manifest import build
from labels.signing import generate_keys, load_private_key
from scanner.config import Settings
from scanner.driver import scan
from scanner.tdmrep import METADATA_FIELD, TDMREP_FIELD, TdmRepFile, TdmRule, _candidates, declarations, parse

RULES = [
    {"location": "/public/*", "tdm-reservation": 0},
    {"location": "/press.txt$", "tdm-reservation": 0},
    {"location": "/*", "tdm-reservation": 1, "tdm-policy": "https://publisher.example/tdm-policy.json"},
]
CONSUMERS = """
consumers:
  - {id: trainer, kind: model, purposes: [training], max_label: Confidential}
  - {id: research, kind: model, purposes: [training], max_label: Confidential, respect_tdm_opt_out: false}
"""


def test_candidates_are_the_root_and_every_ancestor_nearest_first() -> None:
    assert list(_candidates("s3://bucket/site/docs")) == [
        "s3://bucket/site/docs/.well-known/tdmrep.json",
        "s3://bucket/site/.well-known/tdmrep.json",
        "s3://bucket/.well-known/tdmrep.json",
    ]
    assert list(_candidates("file:///srv/site"))[-2:] == [
        "file:///srv/.well-known/tdmrep.json",
        "file:///.well-known/tdmrep.json",
    ]
    assert list(_candidates("az://container/a"))[-1] == "az://container/.well-known/tdmrep.json"


@pytest.mark.parametrize(
    ("path", "reserved"),
    [
        ("/public/a.txt", 0),
        ("/public/deep/b.md", 0),
        ("/press.txt", 0),
        ("/press.txt.bak", 1),  # $ anchors the end
        ("/news/a.html", 1),
        ("/publicity.txt", 1),  # /public/* needs the slash
    ],
)
def test_first_matching_rule_decides(path: str, reserved: int) -> None:
    site = TdmRepFile("s3://b/.well-known/tdmrep.json", "b/", parse(json.dumps(RULES).encode()), "x")
    rule = site.rule_for("b" + path)
    assert rule is not None and rule.reservation == reserved


@pytest.mark.parametrize(
    "bad", [b"{}", b"not json", b'[{"location": "/*", "tdm-reservation": 2}]', b'[{"tdm-reservation": 1}]']
)
def test_malformed_files_are_refused(bad: bytes) -> None:
    with pytest.raises(ValueError):
        parse(bad)


def test_metadata_header_form_in_s3_and_azure_spelling() -> None:
    site = TdmRepFile("u", "b/", (TdmRule("/*", 0),), "x")
    s3 = SourceObject("s3://b/x.txt", metadata={"tdm-reservation": "1", "tdm-policy": "https://p.example/"})
    azure = SourceObject("az://b/x.txt", metadata={"tdm_reservation": "1"})
    unreserved = SourceObject("s3://b/y.txt", metadata={"tdm-reservation": "0", "origin": "test"})
    assert declarations(s3, [site]) == (
        (TDMREP_FIELD, "tdm-reservation: 0"),
        (METADATA_FIELD, "tdm-reservation: 1\ntdm-policy: https://p.example/"),
    )
    assert declarations(azure, []) == ((METADATA_FIELD, "tdm-reservation: 1"),)
    assert declarations(unreserved, []) == ((METADATA_FIELD, "tdm-reservation: 0"),)
    assert declarations(SourceObject("s3://b/z.txt", metadata={"origin": "x"}), []) == ()


# -- through the scan and the manifest ----------------------------------------------------------


def _site(base: Path, rules: Any) -> Path:
    site = base / "site"
    for rel, text in {
        "docs/report.txt": "The quarterly harbour report.\n",
        "public/notice.txt": "The harbour opens at six.\n",
        "press.txt": "Press release: new ferry line.\n",
    }.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text)
    (site / ".well-known").mkdir(exist_ok=True)
    (site / ".well-known" / "tdmrep.json").write_text(rules if isinstance(rules, str) else json.dumps(rules))
    (base / "consumers.yaml").write_text(CONSUMERS)
    return site


def _decisions(results: Path, base: Path, settings: Settings) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    private, _ = generate_keys(base / "keys")
    policy = load_consumers(base / "consumers.yaml", label_names=settings.labels.taxonomy.names())
    build(
        results,
        policy,
        settings.labels.taxonomy,
        results / "m",
        private_key=load_private_key(private),
        tool_version="t",
    )
    return {
        (e["uri"].rsplit("/", 1)[-1], e["consumer"]): (e["decision"], tuple(e["reasons"]))
        for e in pq.read_table(results / "m" / "entries.parquet").to_pylist()
    }


def _rights(results: Path) -> dict[str, list[str]]:
    return {r["uri"].rsplit("/", 1)[-1]: r["rights"] for r in pq.read_table(results / "documents.parquet").to_pylist()}


def test_a_site_file_above_the_root_reserves_what_its_rules_say(tmp_path: Path, settings: Settings) -> None:
    site = _site(tmp_path, RULES)
    results = tmp_path / "out"
    scan(
        [str(site / "docs"), str(site / "public"), str(site / "press.txt")], results, settings=settings, engine="serial"
    )
    rights = _rights(results)
    assert rights["report.txt"] == ["tdm:policy", "tdm:reserved"]
    assert rights["notice.txt"] == [] and rights["press.txt"] == []
    findings = [f for f in pq.read_table(results / "findings.parquet").to_pylist() if f["field"] == TDMREP_FIELD]
    assert {(f["uri"].rsplit("/", 1)[-1], f["entity_type"]) for f in findings} == {
        ("report.txt", "RIGHTS_TDM_RESERVATION")
    }
    decisions = _decisions(results, tmp_path, settings)
    assert decisions["report.txt", "trainer"] == ("deny", ("rights_tdm_reserved",))
    assert decisions["report.txt", "research"] == ("allow", ())
    assert decisions["notice.txt", "trainer"] == ("allow", ())


def test_an_unreadable_site_file_reserves_its_whole_site(tmp_path: Path, settings: Settings) -> None:
    site = _site(tmp_path, "[{not json")
    results = tmp_path / "out"
    scan([str(site / "public")], results, settings=settings, engine="serial")
    assert _rights(results)["notice.txt"] == ["tdm:reserved"]


def test_a_changed_site_file_rescans_unchanged_objects(tmp_path: Path, settings: Settings) -> None:
    site = _site(tmp_path, [{"location": "/*", "tdm-reservation": 0}])
    state = tmp_path / "state.db"
    scan([str(site / "docs")], tmp_path / "run1", settings=settings, state=state, engine="serial")
    assert _rights(tmp_path / "run1")["report.txt"] == []
    again = scan([str(site / "docs")], tmp_path / "run2", settings=settings, state=state, engine="serial")
    assert _rights(tmp_path / "run2")["report.txt"] == []
    assert again["incremental"]["rescanned"] == 0
    (site / ".well-known" / "tdmrep.json").write_text(json.dumps([{"location": "/*", "tdm-reservation": 1}]))
    third = scan([str(site / "docs")], tmp_path / "run3", settings=settings, state=state, engine="serial")
    assert third["incremental"]["rescanned"] == 1
    assert _rights(tmp_path / "run3")["report.txt"] == ["tdm:reserved"]


def test_s3_metadata_and_bucket_site_file(
    tmp_path: Path, settings: Settings, s3_service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in s3_service.env().items():
        monkeypatch.setenv(name, value)
    s3 = s3_service.client()
    s3.create_bucket(Bucket="tdm-bucket")
    s3.put_object(
        Bucket="tdm-bucket",
        Key="site/.well-known/tdmrep.json",
        Body=json.dumps([{"location": "/docs/reserved/*", "tdm-reservation": 1}]).encode(),
    )
    s3.put_object(Bucket="tdm-bucket", Key="site/docs/reserved/a.txt", Body=b"Harbour timetable.\n")
    s3.put_object(
        Bucket="tdm-bucket",
        Key="site/docs/header.txt",
        Body=b"Ferry prices.\n",
        Metadata={"tdm-reservation": "1", "tdm-policy": "https://publisher.example/p.json"},
    )
    s3.put_object(Bucket="tdm-bucket", Key="site/docs/free.txt", Body=b"Opening hours.\n")
    results = tmp_path / "out"
    scan(["s3://tdm-bucket/site/docs"], results, settings=settings, engine="serial")
    rights = _rights(results)
    assert rights["header.txt"] == ["tdm:policy", "tdm:reserved"]
    assert rights["free.txt"] == []
    # the site file sits above the scanned root; its locations are paths from the prefix holding .well-known
    assert rights["a.txt"] == ["tdm:reserved"]
    (tmp_path / "consumers.yaml").write_text(CONSUMERS)
    decisions = _decisions(results, tmp_path, settings)
    assert decisions["header.txt", "trainer"] == ("deny", ("rights_tdm_reserved",))
    assert decisions["free.txt", "trainer"] == ("allow", ())


def test_azure_blob_metadata(
    tmp_path: Path, settings: Settings, azure_service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in azure_service.env().items():
        monkeypatch.setenv(name, value)
    container = azure_service.container("tdm-container")
    container.upload_blob("docs/held.txt", b"Ferry prices.\n", metadata={"tdm_reservation": "1"})
    container.upload_blob("docs/open.txt", b"Opening hours.\n", metadata={"tdm_reservation": "0"})
    results = tmp_path / "out"
    scan(["az://tdm-container/docs"], results, settings=settings, engine="serial")
    rights = _rights(results)
    assert rights["held.txt"] == ["tdm:reserved"]
    assert rights["open.txt"] == []
