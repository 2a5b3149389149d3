"""Labels written into Office files as Office and Purview read them: on a copy by default, in place on request,
never over a label a person applied."""

from __future__ import annotations

import hashlib
import io
import json
import random
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from faker import Faker

from scanner.extractors.mip import CUSTOM_NS, LABELINFO_NS, custom_properties, office_label
from scanner.officelabels import LabelToWrite, write_label
from tests.corpus import ssn
from tests.office_files import LABELS, TENANT, add_label, docx_file, pptx_file, xlsx_file
from tests.test_cli_e2e import run_cli

fake = Faker()
Faker.seed(21)
OTHER_TENANT = "11111111-2222-4333-8444-555555555555"


def label_to_write(name: str = "Highly Confidential", site: str = TENANT) -> LabelToWrite:
    return LabelToWrite(
        guid=LABELS[name],
        name=name,
        site_id=site,
        method="Standard",
        set_date=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        action_id="0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    )


def written(src: Path, label: LabelToWrite) -> bytes:
    out = io.BytesIO()
    with src.open("rb") as fh:
        write_label(fh, out, label)
    return out.getvalue()


def test_written_docx_opens_and_carries_both_forms_of_the_label(tmp_path: Path) -> None:
    import docx

    text = fake.paragraph()
    src = docx_file(tmp_path / "a.docx", [text])
    data = written(src, label_to_write())
    assert docx.Document(io.BytesIO(data)).paragraphs[0].text == text
    with zipfile.ZipFile(io.BytesIO(data)) as z, zipfile.ZipFile(src) as orig:
        label = office_label(z)
        assert label is not None and label.source == "LabelInfo.xml"
        assert (label.guid, label.method, label.site_id) == (LABELS["Highly Confidential"], "Standard", TENANT)
        props = custom_properties(z)
        prefix = f"MSIP_Label_{LABELS['Highly Confidential']}_"
        assert props == {
            prefix + "Enabled": "true",
            prefix + "SetDate": "2025-01-02T03:04:05Z",
            prefix + "Method": "Standard",
            prefix + "Name": "Highly Confidential",
            prefix + "SiteId": TENANT,
            prefix + "ActionId": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
            prefix + "ContentBits": "0",
        }
        info = z.read("docMetadata/LabelInfo.xml").decode()
        assert f'id="{{{LABELS["Highly Confidential"]}}}" enabled="1" method="Standard" siteId="{{{TENANT}}}"' in info
        assert "application/vnd.ms-office.classificationlabels+xml" in z.read("[Content_Types].xml").decode()
        rels = z.read("_rels/.rels").decode()
        assert "relationships/classificationlabels" in rels and "relationships/custom-properties" in rels
        for name in orig.namelist():  # every other part is copied as it was
            if name not in {"[Content_Types].xml", "_rels/.rels"}:
                assert z.read(name) == orig.read(name), name


def test_another_tenants_label_is_kept_and_this_tenants_replaced(tmp_path: Path) -> None:
    src = add_label(docx_file(tmp_path / "a.docx", ["x"]), "Public", site=OTHER_TENANT)
    src = add_label(src, "General", where=("labelinfo",))  # this tenant's General, LabelInfo only
    data = written(src, label_to_write("Confidential"))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        from lxml import etree

        root = etree.fromstring(z.read("docMetadata/LabelInfo.xml"))
        ids = sorted(el.get("id") for el in root.iter(f"{{{LABELINFO_NS}}}label"))
        assert ids == sorted([f"{{{LABELS['Confidential']}}}"])  # add_label rewrote LabelInfo; other kept in custom
        props = etree.fromstring(z.read("docProps/custom.xml"))
        names = [p.get("name") for p in props.iter(f"{{{CUSTOM_NS}}}property")]
        assert any(LABELS["Public"] in n for n in names) and any(LABELS["Confidential"] in n for n in names)
        pids = [p.get("pid") for p in props.iter(f"{{{CUSTOM_NS}}}property")]
        assert len(pids) == len(set(pids))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _writeback(out: Path) -> dict[tuple[str, str], tuple[str, str | None]]:
    return {
        (Path(r["uri"]).name, r["target"]): (r["action"], r["reason"])
        for r in pq.read_table(out / "writeback.parquet").to_pylist()
    }


def test_cli_copies_by_default_in_place_on_request_and_never_over_a_manual_label(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    rng = random.Random(4)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    secret = f"Employee social security number (SSN): {ssn(rng)}"
    plain = docx_file(corpus / "plain.docx", [fake.sentence(), secret])
    manual = add_label(docx_file(corpus / "manual.docx", [secret]), "Public", method="Privileged")
    auto = add_label(xlsx_file(corpus / "auto.xlsx", {"S": [["Note"], [secret]]}), "General", site=OTHER_TENANT)
    deck = pptx_file(corpus / "deck.pptx", [{"title": fake.word(), "body": fake.sentence()}])
    before = {p.name: _sha(p) for p in corpus.iterdir()}
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "labels.yaml").write_text(f"taxonomy:\n  tenant_id: {TENANT}\n", encoding="utf-8")
    base = ["scan", str(corpus), "--config", str(conf), "--workers", "1", "--profile", "fast", "-q", "--apply-labels"]

    out = tmp_path / "dry"
    done = run_cli([*base, "--out", str(out), "--dry-run"], cli_env)
    assert done.returncode == 0, done.stderr
    got = _writeback(out)
    assert got[("plain.docx", "office")] == ("would-set", "copy " + str(Path("labelled", "file", *plain.parts[1:])))
    assert not (out / "labelled").exists()

    out = tmp_path / "copy"
    done = run_cli([*base, "--out", str(out)], cli_env)
    assert done.returncode == 0, done.stderr
    got = _writeback(out)
    assert got[("plain.docx", "office")][0] == "set"
    assert got[("auto.xlsx", "office")][0] == "set"
    assert got[("deck.pptx", "office")][0] == "set"  # the default label, General
    assert got[("manual.docx", "office")] == (
        "unchanged",
        "a label applied by a person is kept; the file is not touched",
    )
    assert {p.name: _sha(p) for p in corpus.iterdir() if not p.name.endswith(".json")} == before
    summary = json.loads((out / "summary.json").read_text())
    assert summary["labels"]["conflicts"]["objects"] == {"manual_label_below_content": 1}
    assert summary["writeback"]["office"] == {"set": 3, "unchanged": 1}
    copies = {p.name: p for p in (out / "labelled").rglob("*.*")}
    assert set(copies) == {"plain.docx", "auto.xlsx", "deck.pptx"}
    import docx

    assert docx.Document(str(copies["plain.docx"])).paragraphs[1].text == secret
    for name, want, site in [
        ("plain.docx", "Highly Confidential", TENANT),
        ("auto.xlsx", "Highly Confidential", OTHER_TENANT),  # an automatic label's tenant is kept
        ("deck.pptx", "General", TENANT),
    ]:
        with zipfile.ZipFile(copies[name]) as z:
            label: Any = office_label(z)
        assert (label.guid, label.method, label.site_id) == (LABELS[want], "Standard", site), name

    out = tmp_path / "inplace"
    done = run_cli([*base, "--out", str(out), "--label-in-place"], cli_env)
    assert done.returncode == 0, done.stderr
    assert _writeback(out)[("plain.docx", "office")] == ("set", "in place")
    assert _sha(manual) == before["manual.docx"] and _sha(plain) != before["plain.docx"]
    with zipfile.ZipFile(plain) as z:
        label = office_label(z)
    assert label is not None and label.guid == LABELS["Highly Confidential"]

    out = tmp_path / "again"
    done = run_cli([*base, "--out", str(out), "--label-in-place"], cli_env)
    assert done.returncode == 0, done.stderr
    office = {k: v for k, v in _writeback(out).items() if k[1] == "office"}
    assert {v[0] for v in office.values()} == {"unchanged"}, office
    for path, want in [(auto, "Highly Confidential"), (deck, "General")]:
        with zipfile.ZipFile(path) as z:
            label = office_label(z)
        assert label is not None and label.guid == LABELS[want]


def test_in_place_needs_apply_labels(tmp_path: Path, cli_env: dict[str, str]) -> None:
    done = run_cli(["scan", str(tmp_path), "--out", str(tmp_path / "o"), "--label-in-place"], cli_env)
    assert done.returncode == 2 and "--label-in-place goes with --apply-labels" in done.stderr
