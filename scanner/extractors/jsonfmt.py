"""JSON (one unit per file) and JSON Lines (one unit per record)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar

from scanner.errors import ExtractionError, LimitExceededError
from scanner.extractors.base import ExtractContext, SkipObject, detect_encoding
from scanner.extractors.text import read_small_text
from scanner.units import Unit, UnitProblem, canonical_record_bytes, flatten_record, join_fields, sha256_hex


def record_unit(ctx: ExtractContext, fmt: str, index: int, record: Any, size: int | None = None) -> Unit:
    """A record as a unit: its scalar leaves joined, with each field's span, hashed canonically.

    ``size`` is the record's size in the file when known, else its canonical size.
    """
    if isinstance(record, dict | list):
        text, spans = join_fields(list(flatten_record(record)))
    else:
        text, spans = join_fields([("$", str(record))]) if record is not None else ("", ())
    canonical = canonical_record_bytes(record)
    return Unit(
        ctx.uri, fmt, text, sha256_hex(canonical), len(canonical) if size is None else size, record=index, fields=spans
    )


class JsonExtractor:
    format: ClassVar[str] = "json"
    extensions: ClassVar[tuple[str, ...]] = (".json", ".geojson")

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        text, raw = read_small_text(stream, ctx)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExtractionError(f"invalid JSON at line {exc.lineno} column {exc.colno}") from exc
        except RecursionError as exc:
            raise LimitExceededError("json_nesting", "JSON nested too deeply to parse") from exc
        joined, spans = join_fields(list(flatten_record(doc)))
        yield Unit(ctx.uri, self.format, joined, sha256_hex(raw), len(raw), fields=spans)


def _record_error(exc: Exception) -> str:
    """Why one JSON Lines record could not be read (positions only, never its content)."""
    if isinstance(exc, UnicodeDecodeError):
        return f"undecodable text at byte {exc.start}"
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON at column {exc.colno}"
    return "limit json_nesting: record nested too deeply"


class JsonLinesExtractor:
    format: ClassVar[str] = "jsonl"
    extensions: ClassVar[tuple[str, ...]] = (".jsonl", ".ndjson", ".jsonlines")

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        limit = ctx.limits.max_record_bytes
        encoding: str | None = None
        index = 0
        saw_any = False
        while True:
            line = stream.readline(limit + 1)
            if not line:
                break
            if len(line) > limit and not line.endswith(b"\n"):
                # Skip the rest of an over-long line without holding it.
                while True:
                    more = stream.readline(1 << 20)
                    if not more or more.endswith(b"\n"):
                        break
                yield UnitProblem(
                    ctx.uri, self.format, "failed", f"limit max_record_bytes: record over {limit} bytes", record=index
                )
                index += 1
                continue
            stripped = line.strip()
            if not stripped:
                continue  # blank lines are not records
            saw_any = True
            if ctx.limits.max_records is not None and index >= ctx.limits.max_records:
                yield UnitProblem(
                    ctx.uri, self.format, "skipped", f"limit max_records: records after {index} not read", record=index
                )
                return
            if encoding is None:
                encoding = (
                    "utf-8" if stripped.startswith((b"{", b"[", b'"')) else detect_encoding(stripped, complete=True)
                )
            try:
                record = json.loads(stripped.decode(encoding))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
                yield UnitProblem(
                    ctx.uri, self.format, "failed", _record_error(exc), record=index, size_bytes=len(stripped)
                )
            else:
                yield record_unit(ctx, self.format, index, record, len(stripped))
            index += 1
        if not saw_any:
            raise SkipObject("empty file")
