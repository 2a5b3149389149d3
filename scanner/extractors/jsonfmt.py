"""JSON (one unit per file) and JSON Lines (one unit per record)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar

from scanner.errors import ExtractionError, LimitExceededError
from scanner.extractors.base import ExtractContext, SkipObject, detect_encoding, past_max_records
from scanner.extractors.text import read_small_text
from scanner.units import Unit, UnitProblem, canonical_record_bytes, flatten_limited, join_fields, sha256_hex


def too_deep(ctx: ExtractContext) -> str:
    """The partial-reason of a unit whose values nest deeper than ``max_json_depth``."""
    return f"limit max_json_depth: values nested deeper than {ctx.limits.max_json_depth} levels not read"


def record_unit(ctx: ExtractContext, fmt: str, index: int, record: Any, size: int | None = None) -> Unit:
    """A record as a unit: its scalar leaves joined, with each field's span, hashed canonically.

    ``size`` is the record's size in the file when known, else its canonical size. Values nested
    deeper than ``max_json_depth`` are left out and the unit is marked partial.
    """
    cut = False
    if isinstance(record, dict | list):
        pairs, cut = flatten_limited(record, max_depth=ctx.limits.max_json_depth)
        text, spans = join_fields(pairs)
    else:
        text, spans = join_fields([("$", str(record))]) if record is not None else ("", ())
    canonical = canonical_record_bytes(record)
    return Unit(
        ctx.uri,
        fmt,
        text,
        sha256_hex(canonical),
        len(canonical) if size is None else size,
        record=index,
        fields=spans,
        partial=too_deep(ctx) if cut else None,
    )


#: What a JSON parse that ran out of recursion depth is reported as (the parser's own limit).
PARSER_DEPTH = "limit max_json_depth: nested deeper than the JSON parser can follow"


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
            raise LimitExceededError("max_json_depth", "nested deeper than the JSON parser can follow") from exc
        pairs, cut = flatten_limited(doc, max_depth=ctx.limits.max_json_depth)
        joined, spans = join_fields(pairs)
        yield Unit(
            ctx.uri,
            self.format,
            joined,
            sha256_hex(raw),
            len(raw),
            fields=spans,
            partial=too_deep(ctx) if cut else None,
        )


def _record_error(exc: Exception) -> str:
    """Why one JSON Lines record could not be read (positions only, never its content)."""
    if isinstance(exc, UnicodeDecodeError):
        return f"undecodable text at byte {exc.start}"
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON at column {exc.colno}"
    return PARSER_DEPTH


class JsonLinesExtractor:
    format: ClassVar[str] = "jsonl"
    extensions: ClassVar[tuple[str, ...]] = (".jsonl", ".ndjson", ".jsonlines")

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        limit = ctx.limits.max_record_bytes
        encoding: str | None = None
        index = ctx.first_record
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
                    ctx.uri,
                    self.format,
                    "failed",
                    f"limit max_record_bytes: record over {limit} bytes",
                    record=index,
                    limit="max_record_bytes",
                )
                index += 1
                continue
            stripped = line.strip()
            if not stripped:
                continue  # blank lines are not records
            saw_any = True
            if (stop := past_max_records(ctx, self.format, index)) is not None:
                yield stop
                return
            if encoding is None:
                encoding = (
                    "utf-8" if stripped.startswith((b"{", b"[", b'"')) else detect_encoding(stripped, complete=True)
                )
            try:
                record = json.loads(stripped.decode(encoding))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
                yield UnitProblem(
                    ctx.uri,
                    self.format,
                    "failed",
                    _record_error(exc),
                    record=index,
                    size_bytes=len(stripped),
                    limit="max_json_depth" if isinstance(exc, RecursionError) else None,
                )
            else:
                yield record_unit(ctx, self.format, index, record, len(stripped))
            index += 1
        if not saw_any:
            raise SkipObject("empty file")
