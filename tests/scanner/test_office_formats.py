"""XLSX, PPTX and RTF as units with fields; Outlook .msg skipped with its reason. Files made at test time."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pytest
from faker import Faker

from scanner.config import Limits
from scanner.errors import ExtractionError
from scanner.extractors import choose
from scanner.extractors.base import ExtractContext, SkipObject
from scanner.extractors.rtf import RtfExtractor
from scanner.extractors.slides import PptxExtractor
from scanner.extractors.spreadsheet import XlsxExtractor, looks_like_header
from scanner.pipeline import ScanTask, Worker
from scanner.units import Unit, UnitProblem
from tests.corpus import ssn
from tests.office_files import pptx_file, xlsx_file

fake = Faker()
Faker.seed(11)


def extract(extractor: Any, path: Path, **limits: Any) -> list[Unit | UnitProblem]:
    ctx = ExtractContext(path.as_uri(), extractor.format, Limits(**limits))
    with path.open("rb") as fh:
        return list(extractor.extract(io.BufferedReader(fh), ctx))  # type: ignore[arg-type]


def fields(unit: Unit | UnitProblem) -> dict[str, str]:
    assert isinstance(unit, Unit) and isinstance(unit.text, str)
    return {f.name: unit.text[f.start : f.end] for f in unit.fields}


def test_xlsx_every_sheet_rows_as_records_with_header_names_or_cell_refs(tmp_path: Path) -> None:
    people = [[fake.name(), fake.email(), fake.city()] for _ in range(3)]
    numbers = [[fake.random_int(1, 999), fake.sentence()], [None, fake.word()]]
    path = xlsx_file(tmp_path / "book.xlsx", {"People": [["Name", "Email", "City"], *people], "Raw": numbers})
    units = extract(XlsxExtractor(), path)
    assert [u.record for u in units] == list(range(6))
    assert fields(units[0]) == {"People!A1": "Name", "People!B1": "Email", "People!C1": "City"}
    assert fields(units[1]) == {"People!Name": people[0][0], "People!Email": people[0][1], "People!City": people[0][2]}
    assert fields(units[4]) == {"Raw!A1": str(numbers[0][0]), "Raw!B1": numbers[0][1]}
    assert fields(units[5]) == {"Raw!B2": numbers[1][1]}
    assert len({u.content_sha256 for u in units}) == 6


def test_xlsx_limits_and_corrupt_files(tmp_path: Path) -> None:
    path = xlsx_file(tmp_path / "big.xlsx", {"S": [[fake.word(), "x" * 50] for _ in range(5)]})
    units = extract(XlsxExtractor(), path, max_records=2)
    assert [type(u).__name__ for u in units] == ["Unit", "Unit", "UnitProblem"]
    assert isinstance(units[2], UnitProblem) and "max_records" in units[2].reason
    assert units[2].limit == "max_records"  # so the object is partial, never reported as clean
    over = extract(XlsxExtractor(), path, max_record_bytes=10)
    assert all(isinstance(u, UnitProblem) and "max_record_bytes" in u.reason for u in over)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04" + bytes(200))
    with pytest.raises(ExtractionError):
        extract(XlsxExtractor(), bad)


@pytest.mark.parametrize(
    ("row", "header"),
    [
        (["ssn", "name", "Address Line 2"], True),
        (["Ann", "Ann"], False),
        (["id", 5], False),
        (["123-45-6789"], False),
        ([], False),
    ],
)
def test_header_detection(row: list[Any], header: bool) -> None:
    assert looks_like_header(row) is header


def test_pptx_slides_notes_tables_and_hidden_slides(tmp_path: Path) -> None:
    name, email, secret_name = fake.name(), fake.email(), fake.name()
    path = pptx_file(
        tmp_path / "deck.pptx",
        [
            {"title": "Quarterly review", "body": f"Owner {name}", "notes": f"Call {email}"},
            {"title": "Table", "body": "", "table": [["Name", "City"], [fake.name(), fake.city()]]},
            {"title": "Backup", "body": f"Only for {secret_name}", "hidden": True},
        ],
    )
    units = extract(PptxExtractor(), path)
    assert [u.record for u in units] == [0, 1, 2]
    first = fields(units[0])
    assert first["notes"] == f"Call {email}" and f"Owner {name}" in first["text"]
    assert "Name\tCity" in fields(units[1])["text"]
    hidden = units[2]
    assert isinstance(hidden, Unit) and hidden.text == "" and secret_name in hidden.hidden_text
    capped = extract(PptxExtractor(), path, max_records=1)
    assert [type(u).__name__ for u in capped] == ["Unit", "UnitProblem"]
    assert isinstance(capped[1], UnitProblem) and capped[1].limit == "max_records"
    assert capped[1].reason == "limit max_records: slides after 1 not read"


def test_rtf_text_with_its_code_page_and_not_rtf_fails(tmp_path: Path) -> None:
    path = tmp_path / "letter.rtf"
    number = ssn(random.Random(9))
    escaped = number.replace("-", "\\'2d").encode()
    head = rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Arial;}}\f0 "
    path.write_bytes(head + rb"Sehr geehrte Frau M\'fcller,\par SSN " + escaped + rb"\par}")
    [unit] = extract(RtfExtractor(), path)
    assert isinstance(unit, Unit) and isinstance(unit.text, str)
    assert "Frau Müller," in unit.text and number in unit.text
    other = tmp_path / "fake.rtf"
    other.write_bytes(b"just text")
    with pytest.raises(ExtractionError, match="not RTF"):
        extract(RtfExtractor(), other)


def test_format_choice_for_the_new_formats() -> None:
    for name, fmt in [("a.xlsx", "xlsx"), ("a.XLSM", "xlsx"), ("a.pptx", "pptx"), ("a.rtf", "rtf"), ("a.msg", "msg")]:
        assert choose(name).label == fmt


def test_every_new_format_ends_as_rows_through_the_worker(worker: Worker, tmp_path: Path) -> None:
    from connectors.local import LocalConnector

    rng = random.Random(5)
    number = ssn(rng)
    xlsx = xlsx_file(tmp_path / "staff.xlsx", {"Staff": [["Name", "SSN"], [fake.name(), number]]})
    pptx = pptx_file(tmp_path / "deck.pptx", [{"title": "Hi", "body": fake.sentence()}])
    rtf = tmp_path / "note.rtf"
    rtf.write_bytes(rb"{\rtf1\ansi Plain words only\par}")
    msg = tmp_path / "mail.msg"
    msg.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    rows: dict[str, tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for path in (xlsx, pptx, rtf, msg):
        outs = list(worker.run(ScanTask(0, LocalConnector()._item(path))))  # type: ignore[arg-type]
        rows[path.suffix] = (
            outs[-1].object_row or {},
            [d for o in outs for d in o.documents],
            [f for o in outs for f in o.findings],
        )
    obj, docs, findings = rows[".xlsx"]
    assert obj["status"] == "scanned" and obj["label"] == "Highly Confidential"
    ssn_rows = [f for f in findings if f["entity_type"] == "US_SSN"]
    assert ssn_rows and ssn_rows[0]["field"] == "Staff!SSN" and number not in str(findings)
    assert rows[".pptx"][0]["status"] == "scanned" and rows[".rtf"][0]["status"] == "scanned"
    obj, docs, _ = rows[".msg"]
    assert obj["status"] == "skipped" and "GPL-3.0" in obj["reason"] and docs[0]["status"] == "skipped"
    with pytest.raises(SkipObject):
        from scanner.extractors.mail import MsgExtractor

        list(MsgExtractor().extract(io.BytesIO(b""), ExtractContext("x", "msg", Limits())))
