"""Extractors: units per format, record-level failures, encodings, and fuzzing that nothing escapes."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.local import LocalConnector
from scanner.config import Limits, load_settings
from scanner.errors import ExtractionError
from scanner.extractors import choose
from scanner.extractors.base import ExtractContext, SkipObject
from scanner.extractors.html import HtmlExtractor
from scanner.extractors.jsonfmt import JsonLinesExtractor
from scanner.extractors.tabular import CsvExtractor
from scanner.extractors.text import TextExtractor
from scanner.pipeline import ScanTask, Worker
from scanner.units import Unit, UnitProblem
from tests.conftest import TEST_KEY


def ctx(fmt: str = "x", **limits: Any) -> ExtractContext:
    return ExtractContext("file:///t", fmt, Limits(**limits))


def extract(extractor: Any, data: bytes, **limits: Any) -> list[Unit | UnitProblem]:
    return list(extractor.extract(io.BufferedReader(io.BytesIO(data)), ctx(**limits)))  # type: ignore[arg-type]


def test_jsonl_records_fields_and_failures() -> None:
    data = b'{"a": "x", "b": {"c": ["y", 5]}}\n\n   \nnot json\n{"d": null}\n'
    units = extract(JsonLinesExtractor(), data)
    assert [type(u).__name__ for u in units] == ["Unit", "UnitProblem", "Unit"]
    first = units[0]
    assert isinstance(first, Unit) and first.record == 0
    assert [(f.name, first.text[f.start : f.end]) for f in first.fields] == [
        ("a", "x"),
        ("b.c[0]", "y"),
        ("b.c[1]", "5"),
    ]
    assert isinstance(units[1], UnitProblem) and units[1].record == 1 and "invalid JSON" in units[1].reason
    assert units[2].record == 2 and units[2].text == ""


def test_jsonl_over_long_record_is_failed_with_the_limit_named() -> None:
    data = b'{"a": "' + b"x" * 5000 + b'"}\n{"b": "ok"}\n'
    units = extract(JsonLinesExtractor(), data, max_record_bytes=1000)
    assert isinstance(units[0], UnitProblem) and "max_record_bytes" in units[0].reason
    assert isinstance(units[1], Unit) and units[1].record == 1


def test_csv_rows_are_records_with_column_names() -> None:
    units = extract(CsvExtractor(), 'name,city\nAnn,Köln\n"B, C",Paris\n'.encode("utf-16"))
    assert [u.record for u in units] == [0, 1]
    u = units[1]
    assert isinstance(u, Unit) and [(f.name, u.text[f.start : f.end]) for f in u.fields] == [
        ("name", "B, C"),
        ("city", "Paris"),
    ]


def test_html_visible_and_hidden_text_are_kept_apart() -> None:
    html = b"""<html><head><title>T</title><script>var s='x'</script></head><body>
    <p>Visible words</p><div style="display: none">hidden words</div><span aria-hidden="true">aria</span>
    <!-- a comment --><p hidden>attr hidden</p><p>More <b>visible</b></p>
    <span style="color:#fff; background-color:#fff">same colour</span>
    <div style="position:absolute;left:-9999px">offscreen</div>
    <p style="color:white;background:black">white on black</p></body></html>"""
    [u] = extract(HtmlExtractor(), html)
    assert isinstance(u, Unit)
    assert "Visible words" in u.text and "More visible" in u.text and "var s" not in u.text
    assert "white on black" in u.text
    for hidden in ("hidden words", "aria", "a comment", "attr hidden", "same colour", "offscreen"):
        assert hidden in u.hidden_text and hidden not in u.text


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Grüße, café".encode(), "Grüße, café"),
        ("Le café est très bon, à bientôt".encode("cp1252"), "Le café est très bon, à bientôt"),
        ("hello there".encode("utf-16"), "hello there"),
        ("hello there".encode("utf-16-le"), "hello there"),
    ],
)
def test_text_encodings_are_detected(data: bytes, expected: str) -> None:
    [u] = extract(TextExtractor(), data)
    assert isinstance(u, Unit) and u.text == expected


def test_binary_and_empty_text_are_skipped_and_damaged_utf8_fails() -> None:
    with pytest.raises(SkipObject, match="binary"):
        extract(TextExtractor(), bytes(range(256)) * 8)
    with pytest.raises(SkipObject, match="empty"):
        extract(TextExtractor(), b"")
    with pytest.raises(ExtractionError, match="invalid UTF-8 at byte"):
        extract(TextExtractor(), "Grüße aus München ".encode() * 4 + b"\xff\xc3\x28")


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_jsonl_fuzz_every_line_ends_as_a_row(data: bytes) -> None:
    try:
        units = extract(JsonLinesExtractor(), data, max_record_bytes=500)
    except (SkipObject, ExtractionError):
        return
    lines = [ln for ln in data.split(b"\n") if ln.strip()]
    assert len(units) >= 1
    assert len(units) <= len(lines) + data.count(b"\n") + 1
    assert [u.record for u in units] == list(range(len(units)))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=1000))
def test_csv_fuzz_raises_only_our_errors(text: str) -> None:
    try:
        units = extract(CsvExtractor(), text.encode())
    except (SkipObject, ExtractionError):
        return
    assert all(isinstance(u, Unit | UnitProblem) for u in units)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=3000), st.sampled_from([".pdf", ".docx", ".html", ".json", ".eml", ".parquet", ".txt", ".csv"])
)
def test_any_bytes_in_any_format_end_as_rows(
    fast_worker: Worker, tmp_path_factory: pytest.TempPathFactory, data: bytes, ext: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / f"f{ext}"
    path.write_bytes(data)
    outputs = list(fast_worker.run(ScanTask(0, LocalConnector()._item(path))))  # type: ignore[arg-type]
    obj = outputs[-1].object_row
    assert obj is not None and obj["status"] in {"scanned", "skipped", "failed"}
    docs = [d for o in outputs for d in o.documents]
    assert docs and all(d["status"] in {"scanned", "skipped", "failed"} for d in docs)
    assert all(d["reason"] for d in docs if d["status"] != "scanned")


@pytest.fixture(scope="module")
def fast_worker() -> Worker:
    """A worker without NER (patterns only), for big or many inputs."""
    s = load_settings()
    off = {"enabled": False}
    classifiers = s.classifiers.model_copy(
        update={
            "patterns": s.classifiers.patterns.model_copy(update=off),
            "ner": s.classifiers.ner.model_copy(update=off),
        }
    )
    w = Worker(dataclasses.replace(s, classifiers=classifiers), TEST_KEY.encode())
    w.setup()
    return w


def run_file(worker: Worker, path: Path) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    outs = list(worker.run(ScanTask(0, LocalConnector()._item(path))))  # type: ignore[arg-type]
    return outs[-1].object_row or {}, [d for o in outs for d in o.documents], [f for o in outs for f in o.findings]


def test_large_text_streams_in_windows_and_hashes_the_whole_file(fast_worker: Worker, tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    filler = ("lorem ipsum dolor sit amet " * 40 + "\n").encode()
    with path.open("wb") as fh:
        fh.write(b"CONFIDENTIAL\n")
        for _ in range(9 * 1024 * 1024 // len(filler) + 1):
            fh.write(filler)
        fh.write(b"\nDO NOT DISTRIBUTE\n")
    obj, docs, findings = run_file(fast_worker, path)
    assert obj["status"] == "scanned" and not obj["partial"]
    [doc] = docs
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert doc["content_sha256"] == digest == obj["content_sha256"] and doc["size_bytes"] == path.stat().st_size
    starts = sorted(f["start"] for f in findings if f["entity_type"] == "CONFIDENTIALITY_MARKING")
    assert starts[0] == 0 and len(starts) == 2
    text = path.read_bytes().decode()
    assert text[starts[1] : starts[1] + 17] == "DO NOT DISTRIBUTE"


def test_gzip_bomb_is_stopped_by_the_ratio_limit(fast_worker: Worker, tmp_path: Path) -> None:
    path = tmp_path / "bomb.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=9) as gz:
        line = (json.dumps({"t": "a" * 100_000}) + "\n").encode()
        for _ in range(400):
            gz.write(line)
    obj, docs, _ = run_file(fast_worker, path)
    assert obj["partial"] and "max_compression_ratio" in obj["reason"]
    assert docs[-1]["status"] == "failed" and "max_compression_ratio" in docs[-1]["reason"]


def test_format_choice() -> None:
    assert choose("a.JSONL.ZST").label == "jsonl+zstd"
    assert choose("noext").extractor is None
    assert choose("x.tar.gz").label == choose("x.tgz").label == "tar+gzip"
    assert choose("x.tar.zst").label == "tar+zstd" and choose("x.zip").label == "zip"


def _parquet(rows: int) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    table = pa.table({"note": [f"row {i} " + "lorem ipsum " * 20 for i in range(rows)]})
    pq.write_table(table, buf, compression="none")
    return buf.getvalue()


@pytest.mark.parametrize("seekable", [True, False], ids=["seekable", "stream"])
def test_parquet_is_bounded_by_max_document_bytes(seekable: bool) -> None:
    """Parquet is spooled to be read (its footer is at the end): the copy is bounded like a PDF's,
    whether or not the stream it comes from could seek (a seekable one used to pass through unchecked)."""
    from scanner.errors import LimitExceededError
    from scanner.extractors.tabular import ParquetExtractor

    data = _parquet(500)
    assert len(data) > 50_000

    def stream() -> Any:
        raw = io.BytesIO(data)
        return io.BufferedReader(raw) if seekable else io.BufferedReader(_NonSeekable(raw))

    with pytest.raises(LimitExceededError, match="max_document_bytes"):
        list(ParquetExtractor().extract(stream(), ctx("parquet", max_document_bytes=50_000)))
    units = list(ParquetExtractor().extract(stream(), ctx("parquet", max_document_bytes=len(data))))
    assert len(units) == 500 and all(isinstance(u, Unit) for u in units)


def test_parquet_with_a_column_name_that_is_not_utf8_fails_with_our_error() -> None:
    """A damaged footer naming a column in bytes that are not UTF-8 (found by the fuzz test) used to
    escape as pyarrow's UnicodeDecodeError."""
    from scanner.extractors.tabular import ParquetExtractor

    data = _parquet(3)
    assert b"\x18\x04note" in data
    damaged = data.replace(b"\x18\x04note", b"\x18\x04\x80ote", 1)
    with pytest.raises(ExtractionError, match="Parquet"):
        list(ParquetExtractor().extract(io.BufferedReader(io.BytesIO(damaged)), ctx("parquet")))


class _NonSeekable(io.RawIOBase):
    def __init__(self, raw: io.BytesIO) -> None:
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        data = self._raw.read(len(buf))
        buf[: len(data)] = data
        return len(data)
