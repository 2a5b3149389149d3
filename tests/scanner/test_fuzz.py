"""Property-based fuzzing of every extractor: random bytes and mutated valid samples of each format.

Only our own signals may escape an extractor (``SkipObject``, ``IngestguardError``);
through :meth:`Worker.run` every input ends in an object row with a status.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import io
import json
import tarfile
import zipfile
from email.message import EmailMessage
from typing import Any, BinaryIO, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.local import LocalConnector
from scanner.config import Limits, load_settings
from scanner.errors import ExtractionError, IngestguardError
from scanner.extractors import BY_EXTENSION, ExtractContext, SkipObject, choose
from scanner.extractors.base import CountingReader
from scanner.extractors.c2pa import C2paReader, available
from scanner.extractors.compression import decompress
from scanner.pipeline import ScanTask, Worker
from scanner.units import LazyText, Unit, UnitProblem
from tests import c2pa_assets
from tests.conftest import TEST_KEY
from tests.hostile import pdf_bytes, zip_bytes

#: Small limits, so that fuzzed inputs also run into them.
LIMITS = Limits(
    max_document_bytes=1 << 20,
    max_record_bytes=2048,
    max_records=50,
    max_json_depth=8,
    max_archive_members=20,
    max_archive_depth=2,
    max_unit_chars=100_000,
)


def _docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("Internal use only: the plan for next quarter.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "name"
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _parquet() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table({"name": ["a", "b"], "note": ["x", None]}), buf)
    return buf.getvalue()


def _eml() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.com", "b@example.com", "Hello"
    msg.set_content("Body text.")
    msg.add_attachment(b"col\n1\n", maintype="text", subtype="csv", filename="t.csv")
    return msg.as_bytes()


def _tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in (("a.txt", b"hello world"), ("d/b.json", b'{"k": [1, {"v": "x"}]}')):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["name", "note"])
    sheet.append(["alice", "internal use only"])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _pptx() -> bytes:
    import pptx

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Plan"
    slide.notes_slide.notes_text_frame.text = "speaker notes"
    buf = io.BytesIO()
    deck.save(buf)
    return buf.getvalue()


_ENTRIES = {"ai_training": "notAllowed", "ai_inference": "allowed"}
_C2PA = C2paReader() if available() else None


@functools.cache
def samples() -> dict[str, bytes]:
    """One valid sample per file name (so per extractor, compressed and archived forms included)."""
    jsonl = b'{"user": {"email": "a@example.com", "tags": ["x", 1]}}\n{"n": 2}\n'
    out = {
        "a.txt": "Plain text, ünïcode and a CONFIDENTIAL marking.\n".encode(),
        "a.md": b"# Title\n\nSome *markdown* text.\n",
        "a.html": b"<html><body><p>Visible</p><div style='display:none'>hidden</div><!-- c --></body></html>",
        "a.json": b'{"a": {"b": [1, 2, {"c": "deep"}]}, "s": "text"}',
        "a.jsonl": jsonl,
        "a.csv": b'name,note\nalice,"multi\nline"\nbob,plain\n',
        "a.tsv": b"name\tnote\nalice\tx\n",
        "a.parquet": _parquet(),
        "a.pdf": pdf_bytes(),
        "a.docx": _docx(),
        "a.eml": _eml(),
        "a.xlsx": _xlsx(),
        "a.pptx": _pptx(),
        "a.rtf": rb"{\rtf1\ansi Confidential {\b draft} plan.\par}",
        "a.msg": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
        "a.zip": zip_bytes({"x.txt": b"hello", "y.jsonl": jsonl, "in.zip": zip_bytes({"z.md": b"# z"})}),
        "a.tar": _tar(),
        "a.tar.gz": gzip.compress(_tar()),
        "a.jsonl.gz": gzip.compress(jsonl),
    }
    if _C2PA is not None:  # media are read for their embedded C2PA manifest (signed with a throwaway test CA)
        identity = c2pa_assets.signing_identity()
        out["a.jpg"] = c2pa_assets.sign(identity, c2pa_assets.plain_image("JPEG"), "image/jpeg", _ENTRIES)
        out["a.png"] = c2pa_assets.sign(identity, c2pa_assets.plain_image("PNG"), "image/png", _ENTRIES)
        out["a.mp4"] = c2pa_assets.sign(identity, c2pa_assets.minimal_mp4(), "video/mp4", _ENTRIES)
        out["a.wav"] = c2pa_assets.sign(identity, c2pa_assets.minimal_wav(), "audio/wav", _ENTRIES)
    media = {"image", "video", "audio"} if _C2PA is None else set()
    extractors = {cls for cls in BY_EXTENSION.values() if cls.format not in media}
    assert extractors <= {choose(name).extractor for name in out}, "every extractor has a sample"
    return out


def extract_like_the_pipeline(name: str, data: bytes) -> list[Unit | UnitProblem]:
    """What the pipeline does with an object's bytes: decompress, extract, read lazy texts."""
    choice = choose(name)
    assert choice.extractor is not None
    raw = CountingReader(io.BytesIO(data), limit=None, limit_name="max_object_bytes")
    stream: Any = io.BufferedReader(raw)
    if choice.compression is not None:
        stream = decompress(choice.compression, cast(BinaryIO, stream), LIMITS)
    items: list[Unit | UnitProblem] = []
    for item in choice.extractor().extract(
        stream, ExtractContext(uri="memory://fuzz/" + name, format=choice.label, limits=LIMITS, c2pa=_C2PA)
    ):
        if isinstance(item, Unit) and isinstance(item.text, LazyText):
            for _ in item.text.chunks():
                pass
        items.append(item)
    return items


def _check(name: str, data: bytes) -> None:
    try:
        items = extract_like_the_pipeline(name, data)
    except (SkipObject, IngestguardError):
        return
    for item in items:
        assert isinstance(item, Unit | UnitProblem)
        if isinstance(item, UnitProblem):
            assert item.status in {"skipped", "failed"} and item.reason


NAMES = sorted(samples())


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """A valid sample of some format, with bytes flipped, cut, or spliced in."""
    name = draw(st.sampled_from(NAMES))
    data = bytearray(samples()[name])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        else:
            del data[at:]
    return name, bytes(data)


def test_a_pdf_stream_with_a_filter_pypdf_does_not_know_fails_with_our_error() -> None:
    """Found by the fuzz test below: a flipped byte in a filter name made pypdf raise NotImplementedError."""
    data = samples()["a.pdf"]
    assert b"/ASCII85Decode" in data
    with pytest.raises(ExtractionError, match="unsupported filter"):
        extract_like_the_pipeline("a.pdf", data.replace(b"/ASCII85Decode", b"/\x00SCII85Decode"))


def test_a_docx_member_with_broken_deflate_data_fails_with_our_error() -> None:
    """Found by the fuzz test below: python-docx let zlib.error through from a damaged zip member."""
    data = bytearray(samples()["a.docx"])
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("word/document.xml")
    assert info.compress_type == zipfile.ZIP_DEFLATED
    name_len, extra_len = (
        int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little"),
        int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little"),
    )
    start = info.header_offset + 30 + name_len + extra_len
    for i in range(start + 2, start + min(info.compress_size, 40)):
        data[i] ^= 0x5A
    with pytest.raises(ExtractionError, match="corrupt DOCX"):
        extract_like_the_pipeline("a.docx", bytes(data))


def test_an_address_the_email_parser_fails_on_is_still_scanned_as_written() -> None:
    """Found by a longer fuzz run: ``email``'s address parser raises IndexError on ``To: a@``; the
    message is still read, that header as it stands in the file."""
    data = b"Subject: Invoice\nTo: billing@\nFrom: Dana <dana@example.org>\n\nCall 212-555-0187 today.\n"
    items = extract_like_the_pipeline("a.eml", data)
    assert len(items) == 1 and isinstance(items[0], Unit)
    text = items[0].text
    assert isinstance(text, str)
    assert "billing@" in text and "dana@example.org" in text and "212-555-0187" in text


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.sampled_from(NAMES), st.binary(max_size=2048))
def test_random_bytes_in_every_format_raise_only_our_errors(name: str, data: bytes) -> None:
    _check(name, data)


@FUZZ
@given(mutated())
def test_mutated_samples_raise_only_our_errors(case: tuple[str, bytes]) -> None:
    _check(*case)


@pytest.mark.parametrize("name", NAMES)
def test_every_sample_extracts_cleanly(name: str) -> None:
    if name.endswith(".msg"):
        with pytest.raises(SkipObject, match="not supported"):
            extract_like_the_pipeline(name, samples()[name])
        return
    items = extract_like_the_pipeline(name, samples()[name])
    assert any(isinstance(i, Unit) for i in items), name


@pytest.fixture(scope="module")
def small_worker() -> Worker:
    s = load_settings()
    off = {"enabled": False}
    classifiers = s.classifiers.model_copy(
        update={
            "patterns": s.classifiers.patterns.model_copy(update=off),
            "ner": s.classifiers.ner.model_copy(update=off),
        }
    )
    w = Worker(
        dataclasses.replace(s, classifiers=classifiers, scan=s.scan.model_copy(update={"limits": LIMITS})),
        TEST_KEY.encode(),
    )
    w.setup()
    return w


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(mutated())
def test_every_mutated_input_ends_in_an_object_row(
    small_worker: Worker, tmp_path_factory: pytest.TempPathFactory, case: tuple[str, bytes]
) -> None:
    name, data = case
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(data)
    outputs = list(small_worker.run(ScanTask(0, LocalConnector()._item(path))))  # type: ignore[arg-type]
    obj = outputs[-1].object_row
    assert obj is not None and obj["status"] in {"scanned", "skipped", "failed"}
    assert obj["status"] == "scanned" or obj["reason"]
    docs = [d for o in outputs for d in o.documents]
    assert docs and all(d["reason"] for d in docs if d["status"] != "scanned")
    assert json.dumps(obj, default=str)
