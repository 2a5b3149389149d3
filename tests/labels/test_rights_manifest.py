"""Rights in the scan and the manifest: the ``rights`` column, consumers' licence families and TDM opt-outs,
and the corpus card (Croissant + EU-style summary) whose numbers equal counts from the Parquet rows."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from labels.consumers import Consumer, load_consumers
from labels.manifest import build, decide
from labels.signing import generate_keys, load_private_key
from scanner.config import Settings
from scanner.driver import scan
from scanner.sinks import SCHEMA_VERSION, conform
from tests.test_cli_e2e import run_cli

RESERVED_PAGE = """<!doctype html><html><head><title>Harbour news</title>
<meta name="tdm-reservation" content="1">
<meta name="tdm-policy" content="https://news.example/tdm-policy.json">
</head><body><p>The harbour reopened on Monday after the storm.</p>
<p>To opt out, publishers add <code>&lt;meta name="robots" content="noai"&gt;</code> to a page.</p></body></html>
"""
CONSUMERS = """
consumers:
  - {id: trainer, kind: model, purposes: [training], max_label: Confidential}
  - {id: rag, kind: rag_index, purposes: [rag], max_label: Confidential}
  - {id: research, kind: model, purposes: [training], max_label: Confidential, respect_tdm_opt_out: false,
     allowed_licence_families: [permissive, public-domain, copyleft, non-commercial]}
"""


def _consumer(**kw: Any) -> Consumer:
    return Consumer.model_validate({"id": "c", "kind": "model", "max_label": "Confidential", **kw})


def _unit(rights: list[str]) -> dict[str, Any]:
    return {
        "uri": "file:///x.txt",
        "status": "scanned",
        "partial": False,
        "label": "General",
        "content_label": "General",
        "entity_counts": {},
        "risks": [],
        "rights": rights,
    }


@pytest.mark.parametrize(
    ("purposes", "rights", "reasons"),
    [
        (["training"], [], ()),
        (["rag"], [], ()),
        (["training"], ["licence:MIT:permissive"], ()),
        (["training"], ["licence:CC0-1.0:public-domain"], ()),
        (["training"], ["licence:GPL-3.0-only:copyleft"], ("rights_licence_family:copyleft",)),
        (
            ["fine_tuning"],
            ["licence:CC-BY-NC-ND-4.0:non-commercial+no-derivatives"],
            ("rights_licence_family:no-derivatives", "rights_licence_family:non-commercial"),
        ),
        (["training"], ["licence:all-rights-reserved:proprietary"], ("rights_licence_family:proprietary",)),
        (["rag"], ["licence:all-rights-reserved:proprietary"], ()),  # RAG takes every family by default
        (["rag"], ["tdm:reserved", "tdm:policy"], ("rights_tdm_reserved",)),
        (["training"], ["robots:noai"], ("rights_noai",)),
        (["training"], ["robots:noimageai"], ()),  # images only: text is not an image
        (["training"], ["c2pa:ai_generative_training:notAllowed"], ("rights_c2pa:ai_generative_training",)),
        (["training"], ["c2pa:ai_training:constrained"], ("rights_c2pa:ai_training",)),
        (["rag"], ["c2pa:ai_generative_training:notAllowed"], ()),  # inference is not training
        (["rag"], ["c2pa:ai_inference:constrained"], ("rights_c2pa:ai_inference",)),
        (["rag"], ["c2pa:data_mining:notAllowed"], ("rights_c2pa:data_mining",)),
        (["training"], ["c2pa:ai_generative_training:allowed"], ()),
    ],
)
def test_decide_names_the_rights_reason(
    settings: Settings, purposes: list[str], rights: list[str], reasons: tuple[str, ...]
) -> None:
    decision, why, _ = decide(_consumer(purposes=purposes), _unit(rights), settings.labels.taxonomy)
    assert why == reasons
    assert decision == ("deny" if reasons else "allow")


def test_opt_outs_are_ignored_only_when_the_consumer_says_so(settings: Settings) -> None:
    unit = _unit(["tdm:reserved", "robots:noai", "c2pa:ai_generative_training:notAllowed"])
    relaxed = _consumer(purposes=["training"], respect_tdm_opt_out=False)
    assert decide(relaxed, unit, settings.labels.taxonomy)[0] == "allow"
    allowed = _consumer(purposes=["training"], allowed_licence_families=["copyleft"])
    assert decide(allowed, _unit(["licence:GPL-3.0-only:copyleft"]), settings.labels.taxonomy)[0] == "allow"


def test_unknown_licence_family_fails_at_load(tmp_path: Path, settings: Settings) -> None:
    from scanner.errors import ConfigError

    path = tmp_path / "c.yaml"
    path.write_text(
        "consumers:\n  - {id: a, kind: model, purposes: [training], max_label: General,"
        " allowed_licence_families: [permisive]}\n"
    )
    with pytest.raises(ConfigError, match="allowed_licence_families"):
        load_consumers(path, label_names=settings.labels.taxonomy.names())


def _scan_and_build(src: Path, base: Path, settings: Settings, name: str) -> tuple[Path, Path]:
    results = base / f"results-{name}"
    scan([str(src)], results, settings=settings, engine="serial")
    private, _ = generate_keys(base / f"keys-{name}")
    policy = load_consumers(base / "consumers.yaml", label_names=settings.labels.taxonomy.names())
    manifest = results / "manifest"
    build(results, policy, settings.labels.taxonomy, manifest, private_key=load_private_key(private), tool_version="t")
    return results, manifest


def _decisions(manifest: Path, name: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {
        e["consumer"]: (e["decision"], tuple(e["reasons"]))
        for e in pq.read_table(manifest / "entries.parquet").to_pylist()
        if e["uri"].endswith(name)
    }


def test_a_tdm_reserved_page_is_denied_until_the_reservation_is_gone(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "consumers.yaml").write_text(CONSUMERS)
    src = tmp_path / "src"
    src.mkdir()
    (src / "news.html").write_text(RESERVED_PAGE)
    results, manifest = _scan_and_build(src, tmp_path, settings, "reserved")

    [row] = [r for r in pq.read_table(results / "documents.parquet").to_pylist() if r["uri"].endswith("news.html")]
    # the shown <meta … noai> in <code> is text the page renders, not a directive
    assert row["rights"] == ["tdm:policy", "tdm:reserved"]
    table = pq.read_table(results / "documents.parquet")
    assert table.schema.metadata[b"ingestguard.schema_version"] == SCHEMA_VERSION.encode()
    meta = [f for f in pq.read_table(results / "findings.parquet").to_pylist() if f["field"] == "$meta"]
    assert {f["entity_type"] for f in meta} == {"RIGHTS_TDM_RESERVATION"}
    decisions = _decisions(manifest, "news.html")
    assert decisions["trainer"] == ("deny", ("rights_tdm_reserved",))
    assert decisions["rag"] == ("deny", ("rights_tdm_reserved",))
    assert decisions["research"] == ("allow", ())

    (src / "news.html").write_text(RESERVED_PAGE.replace('<meta name="tdm-reservation" content="1">\n', ""))
    results, manifest = _scan_and_build(src, tmp_path, settings, "released")
    decisions = _decisions(manifest, "news.html")
    assert decisions["trainer"] == ("allow", ())
    assert decisions["rag"] == ("allow", ())


def test_older_documents_files_read_with_an_empty_rights_column(tmp_path: Path) -> None:
    import pyarrow as pa

    old = pa.table({"uri": ["file:///a"], "status": ["scanned"]})
    assert conform(old, "documents").column("rights").to_pylist() == [None]


# -- the corpus card ----------------------------------------------------------------------------

CARD_CONSUMERS = """
consumers:
  - {id: trainer, kind: model, purposes: [training], max_label: Confidential,
     redact_entities: [EMAIL_ADDRESS], deny_entities: [US_SSN]}
  - {id: rag, kind: rag_index, purposes: [rag], max_label: Confidential}
"""


@pytest.fixture(scope="module")
def carded(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> dict[str, Any]:
    import os

    from tests.conftest import TEST_KEY

    base = tmp_path_factory.mktemp("card")
    src = base / "src"
    (src / "docs").mkdir(parents=True)
    (src / "docs" / "mit-module.txt").write_text("# SPDX-License-Identifier: MIT\nprint('hello')\n")
    (src / "docs" / "gpl-module.txt").write_text("// SPDX-License-Identifier: GPL-2.0-only\nint x;\n")
    (src / "docs" / "plain.txt").write_text("The river flooded the lower town twice this year.\n")
    (src / "docs" / "contact.txt").write_text("Write to lena.fischer@example.org for the minutes.\n")
    (src / "docs" / "hr.txt").write_text("Employee SSN: 536-22-8174\n")
    (src / "docs" / "news.html").write_text(RESERVED_PAGE)
    (src / "notes.md").write_text("# Notes\n\nThis work is licensed under CC BY 4.0\n")
    (base / "consumers.yaml").write_text(CARD_CONSUMERS)
    env = dict(os.environ, INGESTGUARD_FINGERPRINT_KEY=TEST_KEY, HOME=str(base / "home"))
    env.pop("PYTHONWARNINGS", None)
    keys = base / "keys"
    assert run_cli(["keys", "generate", "--out", str(keys)], env).returncode == 0
    out = base / "out"
    done = run_cli(
        [
            "scan",
            str(src),
            "--out",
            str(out),
            "--engine",
            "serial",
            "--consumers",
            str(base / "consumers.yaml"),
            "--private-key",
            str(keys / "ingestguard.key"),
            "-q",
        ],
        env,
    )
    assert done.returncode in (0, 1), done.stderr
    card_dir = base / "card"
    made = run_cli(
        [
            "card",
            "--manifest",
            str(out / "manifest"),
            "--consumer",
            "trainer",
            "--out",
            str(card_dir),
            "--public-key",
            str(keys / "ingestguard.pub"),
            "--consumers",
            str(base / "consumers.yaml"),
        ],
        env,
    )
    assert made.returncode == 0, made.stderr
    return {"out": out, "card": card_dir, "env": env, "base": base}


def _included(out: Path, consumer: str) -> list[dict[str, Any]]:
    entries = pq.read_table(out / "manifest" / "entries.parquet").to_pylist()
    docs = {(d["uri"], d["record"], d["member"]): d for d in pq.read_table(out / "documents.parquet").to_pylist()}
    return [
        {**e, "doc": docs[(e["uri"], e["record"], e["member"])]}
        for e in entries
        if e["consumer"] == consumer and e["decision"] in ("allow", "allow_redacted")
    ]


def test_card_numbers_equal_counts_from_the_parquet_rows(carded: dict[str, Any]) -> None:
    out, card_dir = carded["out"], carded["card"]
    card = json.loads((card_dir / "croissant.json").read_text())
    stats = card["ingestguard"]
    included = _included(out, "trainer")
    entries = [e for e in pq.read_table(out / "manifest" / "entries.parquet").to_pylist() if e["consumer"] == "trainer"]
    assert stats["units"] == len(included) > 0
    assert stats["objects"] == len({u["uri"] for u in included})
    assert stats["bytes"] == sum(u["doc"]["size_bytes"] for u in included)
    assert stats["units_denied"] == sum(e["decision"] == "deny" for e in entries)
    assert stats["deny_reasons"] == dict(Counter(r for e in entries if e["decision"] == "deny" for r in e["reasons"]))
    assert stats["decisions"] == dict(Counter(u["decision"] for u in included))
    assert stats["labels"] == dict(Counter(u["label"] for u in included))
    assert stats["redacted_types"] == dict(Counter(t for u in included for t in u["redact_entities"]))
    families = Counter(
        f
        for u in included
        for f in {x for s in u["doc"]["rights"] if s.startswith("licence:") for x in s.rpartition(":")[2].split("+")}
    )
    assert stats["licence_families"] == dict(families)
    # what the trainer was refused, and why: the GPL file, the TDM-reserved page, the SSN
    assert stats["deny_reasons"]["rights_licence_family:copyleft"] == 1
    assert stats["deny_reasons"]["rights_tdm_reserved"] == 1
    assert stats["deny_reasons"]["denied_entity:US_SSN"] == 1
    units = pq.read_table(card_dir / "units.parquet").to_pylist()
    assert sorted(u["uri"] for u in units) == sorted(u["uri"] for u in included)


def test_card_validates_with_mlcroissant_and_reads_its_records(carded: dict[str, Any]) -> None:
    mlc = pytest.importorskip("mlcroissant")
    card_dir = carded["card"]
    dataset = mlc.Dataset(jsonld=str(card_dir / "croissant.json"))
    card = json.loads((card_dir / "croissant.json").read_text())
    for key in ("rai:personalSensitiveInformation", "rai:dataLimitations", "rai:dataCollection"):
        assert card[key]
    records = list(dataset.records("units"))
    assert len(records) == card["ingestguard"]["units"]


def test_summary_follows_the_eu_template_and_holds_no_values(carded: dict[str, Any]) -> None:
    text = (carded["card"] / "training-data-summary.md").read_text()
    for heading in (
        "## 1. General information",
        "## 2. List of data sources",
        "## 3. Data processing aspects",
        "### 3.1 Respect of reservations of rights",
    ):
        assert heading in text
    card = json.loads((carded["card"] / "croissant.json").read_text())
    assert f"Units: {card['ingestguard']['units']};" in text
    assert "signature verified" in text
    for raw in ("lena.fischer@example.org", "536-22-8174", "hello", "flooded"):
        assert raw not in text
        assert raw not in (carded["card"] / "croissant.json").read_text()


def test_card_refuses_results_that_are_not_the_manifests(carded: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    other = tmp_path / "other"
    shutil.copytree(carded["out"], other)
    pq.write_table(pq.read_table(other / "documents.parquet").slice(0, 1), other / "documents.parquet")
    done = run_cli(["card", "--manifest", str(other / "manifest"), "--consumer", "trainer"], carded["env"])
    assert done.returncode == 3
    assert "results_sha256" in done.stderr
    unknown = run_cli(["card", "--manifest", str(carded["out"] / "manifest"), "--consumer", "nobody"], carded["env"])
    assert unknown.returncode == 2
