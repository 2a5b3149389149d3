"""Labels documents already carry: read from Office, e-mail and PDF metadata, honoured as Purview does."""

from __future__ import annotations

import random
import zipfile
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from faker import Faker

from classifiers.base import Confidence, Finding
from connectors.local import LocalConnector
from labels import Labeler
from labels.existing import MANUAL_BELOW_CONTENT, UNKNOWN_EXISTING_LABEL, honour
from scanner.config import load_settings
from scanner.extractors.mip import label_from_properties, office_label, parse_msip_header
from scanner.pipeline import ScanTask, Worker
from scanner.units import ExistingLabel
from tests.corpus import ssn
from tests.office_files import LABELS, TENANT, UNKNOWN_LABEL, add_label, docx_file, pptx_file, xlsx_file

fake = Faker()
Faker.seed(3)
RNG = random.Random(3)


def run(worker: Worker, path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    outs = list(worker.run(ScanTask(0, LocalConnector()._item(path))))  # type: ignore[arg-type]
    return outs[-1].object_row or {}, [d for o in outs for d in o.documents]


def make(kind: str, path: Path, text: str) -> Path:
    if kind == "docx":
        return docx_file(path, [fake.sentence(), text])
    if kind == "xlsx":
        return xlsx_file(path, {"Sheet1": [["Note"], [fake.sentence()], [text]]})
    return pptx_file(path, [{"title": fake.word(), "body": fake.sentence()}, {"title": "Data", "body": text}])


def sensitive() -> str:
    return f"Employee social security number (SSN): {ssn(RNG)}"


# -- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize("where", [("labelinfo", "custom"), ("labelinfo",), ("custom",)])
def test_office_label_is_read_from_labelinfo_then_custom_properties(tmp_path: Path, where: tuple[str, ...]) -> None:
    path = add_label(docx_file(tmp_path / "a.docx", ["x"]), "Confidential", method="Privileged", where=where)
    with zipfile.ZipFile(path) as z:
        label = office_label(z)
    assert label is not None and label.guid == LABELS["Confidential"] and label.manual
    assert label.site_id == TENANT
    assert label.source == ("LabelInfo.xml" if "labelinfo" in where else "custom.xml")
    assert label.name == ("Confidential" if "custom" in where else None)


def test_labelinfo_wins_over_stale_custom_properties(tmp_path: Path) -> None:
    path = add_label(docx_file(tmp_path / "a.docx", ["x"]), "Public", where=("custom",))
    path = add_label(path, "General", method="Privileged", where=("labelinfo",))
    with zipfile.ZipFile(path) as z:
        label = office_label(z)
    assert label is not None and label.guid == LABELS["General"] and label.method == "Privileged"


def test_msip_header_and_properties_parse() -> None:
    guid = LABELS["General"]
    header = (
        f"MSIP_Label_{guid}_Enabled=True;\r\n MSIP_Label_{guid}_SiteId={TENANT};"
        f" MSIP_Label_{guid}_SetDate=2024-01-02T03:04:05Z; MSIP_Label_{guid}_Name=General;"
        f" MSIP_Label_{guid}_ContentBits=0; MSIP_Label_{guid}_Method=Privileged"
    )
    label = label_from_properties(parse_msip_header(header), "msip_labels")
    assert label == ExistingLabel(guid, "Privileged", "msip_labels", "General", TENANT, "2024-01-02T03:04:05Z", None, 0)
    disabled = label_from_properties({f"MSIP_Label_{guid}_Enabled": "False"}, "pdf")
    assert disabled is None
    no_method = label_from_properties({f"/MSIP_Label_{guid.upper()}_Enabled": "true"}, "pdf")
    assert no_method is not None and no_method.method == "Standard" and no_method.guid == guid


# -- honouring -------------------------------------------------------------------------------


def f(entity: str, confidence: str = "high") -> Finding:
    return Finding(entity, 0, 1, 0.9, Confidence(confidence), "t", "t", f"fp-{entity}", "*")


@pytest.fixture(scope="module")
def labeler() -> Labeler:
    return Labeler(load_settings().labels)


def existing(label: str, method: str) -> ExistingLabel:
    return ExistingLabel(LABELS.get(label, label), method, "custom.xml", label, TENANT)


@pytest.mark.parametrize(
    ("findings", "on_file", "label", "method", "conflict"),
    [
        ([f("US_SSN")], existing("Highly Confidential", "Privileged"), "Highly Confidential", "manual", None),
        ([], existing("Public", "Privileged"), "Public", "manual", None),
        ([f("US_SSN")], existing("Public", "Privileged"), "Public", "manual", MANUAL_BELOW_CONTENT),
        ([f("US_SSN")], existing("General", "Standard"), "Highly Confidential", "auto", None),
        ([f("EMAIL_ADDRESS")], existing("Highly Confidential", "Standard"), "Highly Confidential", "kept", None),
        ([], existing("Public", "Standard"), "Public", "kept", None),  # the default label never replaces one
        ([f("US_SSN")], existing(UNKNOWN_LABEL, "Standard"), UNKNOWN_LABEL, "unknown", UNKNOWN_EXISTING_LABEL),
        ([f("US_SSN")], None, "Highly Confidential", "auto", None),
        ([], None, "General", "default", None),
    ],
)
def test_purview_precedence(
    labeler: Labeler,
    findings: list[Finding],
    on_file: ExistingLabel | None,
    label: str,
    method: str,
    conflict: str | None,
) -> None:
    out = honour(labeler.decide(findings), on_file, labeler.taxonomy)
    assert (out.name, out.method, out.conflict) == (label, method, conflict)
    if on_file is not None and method != "unknown":
        assert out.guid == (labeler.taxonomy.get(label).guid)


# -- end to end through the worker: the acceptance cases for DOCX, XLSX and PPTX -------------


@pytest.mark.parametrize("kind", ["docx", "xlsx", "pptx"])
def test_manual_label_is_kept(worker: Worker, tmp_path: Path, kind: str) -> None:
    path = add_label(make(kind, tmp_path / f"a.{kind}", fake.sentence()), "Highly Confidential", method="Privileged")
    obj, docs = run(worker, path)
    assert obj["label"] == "Highly Confidential" and obj["label_method"] == "manual"
    assert obj["existing_label"] == "Highly Confidential" and obj["existing_label_method"] == "Privileged"
    assert obj["existing_label_source"] == "LabelInfo.xml" and obj["label_conflict"] is None
    assert all(d["label"] == "Highly Confidential" for d in docs if d["status"] == "scanned")


@pytest.mark.parametrize("kind", ["docx", "xlsx", "pptx"])
def test_automatic_general_with_an_ssn_is_upgraded(worker: Worker, tmp_path: Path, kind: str) -> None:
    path = add_label(make(kind, tmp_path / f"b.{kind}", sensitive()), "General", method="Standard")
    obj, docs = run(worker, path)
    assert obj["label"] == "Highly Confidential" and obj["label_method"] == "auto"
    assert obj["existing_label"] == "General" and obj["label_conflict"] is None
    assert any(d["label_rule"] == "regulated-identifiers" for d in docs)


@pytest.mark.parametrize("kind", ["docx", "xlsx", "pptx"])
def test_manual_public_with_an_ssn_is_a_conflict(worker: Worker, tmp_path: Path, kind: str) -> None:
    path = add_label(make(kind, tmp_path / f"c.{kind}", sensitive()), "Public", method="Privileged")
    obj, docs = run(worker, path)
    assert obj["label"] == "Public" and obj["label_method"] == "manual"
    assert obj["label_conflict"] == MANUAL_BELOW_CONTENT and obj["content_label"] == "Highly Confidential"
    flagged = [d for d in docs if d["label_conflict"]]
    assert flagged and all(d["label"] == "Public" and d["content_label"] == "Highly Confidential" for d in flagged)


def test_unknown_label_is_kept_and_reported(worker: Worker, tmp_path: Path) -> None:
    path = add_label(docx_file(tmp_path / "u.docx", [sensitive()]), UNKNOWN_LABEL, name="Partner Secret")
    obj, docs = run(worker, path)
    assert (obj["label"], obj["label_id"], obj["label_method"]) == ("Partner Secret", UNKNOWN_LABEL, "unknown")
    assert obj["label_conflict"] == UNKNOWN_EXISTING_LABEL and docs[0]["content_label"] == "Highly Confidential"


def test_eml_and_pdf_labels_are_read(worker: Worker, tmp_path: Path) -> None:
    from pypdf import PdfWriter

    guid = LABELS["Confidential"]
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = fake.email(), fake.email(), "Hello"
    msg["msip_labels"] = (
        f"MSIP_Label_{guid}_Enabled=True; MSIP_Label_{guid}_SiteId={TENANT}; MSIP_Label_{guid}_Method=Privileged;"
    )
    msg.set_content(fake.sentence())
    eml = tmp_path / "m.eml"
    eml.write_bytes(msg.as_bytes())
    obj, _ = run(worker, eml)
    assert (obj["label"], obj["label_method"], obj["existing_label_source"]) == (
        "Confidential",
        "manual",
        "msip_labels",
    )

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({f"/MSIP_Label_{guid}_Enabled": "true", f"/MSIP_Label_{guid}_Method": "Standard"})
    pdf = tmp_path / "p.pdf"
    with pdf.open("wb") as fh:
        writer.write(fh)
    obj, _ = run(worker, pdf)
    assert obj["existing_label_source"] == "pdf" and obj["existing_label_method"] == "Standard"


# -- outputs: manifest clearance and old readers ---------------------------------------------


def test_manifest_clearance_is_judged_on_the_content_when_higher() -> None:
    from labels.consumers import Consumer
    from labels.manifest import decide

    taxonomy = load_settings().labels.taxonomy
    consumer = Consumer.model_validate(
        {"id": "rag", "kind": "rag_index", "purposes": ["rag"], "max_label": "General", "sources": ["**"]}
    )
    row = {"uri": "file:///x.docx", "status": "scanned", "label": "Public", "content_label": "Public"}
    assert decide(consumer, row, taxonomy)[0] == "allow"
    conflict = {**row, "content_label": "Highly Confidential", "label_conflict": MANUAL_BELOW_CONTENT}
    decision, reasons, _ = decide(consumer, conflict, taxonomy)
    assert decision == "deny" and "label_above_clearance" in reasons
    unknown = {**row, "label": "Partner Secret", "label_id": UNKNOWN_LABEL}
    assert decide(consumer, unknown, taxonomy)[0] == "deny"


def test_version_1_tables_conform_to_the_current_schema() -> None:
    import pyarrow as pa

    from scanner.sinks import DOCUMENTS, LABEL_PROVENANCE, conform

    v1 = pa.schema([f for f in DOCUMENTS if f.name not in {p.name for p in LABEL_PROVENANCE}])
    old = pa.Table.from_pylist([{"uri": "file:///a", "status": "scanned", "label": "General"}], schema=v1)
    table = conform(old, "documents")
    assert table.schema.names == DOCUMENTS.names
    row = table.to_pylist()[0]
    assert row["label"] == "General" and row["label_conflict"] is None and row["existing_label"] is None
