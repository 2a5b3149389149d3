"""CSV/TSV and Parquet: each row is a record unit, with column names as context."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar, cast

from scanner.errors import ExtractionError, LimitExceededError
from scanner.extractors.base import CountingReader, ExtractContext, SkipObject, detect_encoding, past_max_records, spool
from scanner.extractors.jsonfmt import record_unit
from scanner.units import Unit, UnitProblem

csv.field_size_limit(sys.maxsize)


class _BoundedLines:
    """The lines of a text stream for :mod:`csv`, none held longer than ``limit`` characters.

    A longer line is read past in pieces (never held whole) and handed on as an empty
    line; ``oversized`` counts them so the caller can fail the row it belonged to.
    """

    def __init__(self, text: io.TextIOBase, limit: int) -> None:
        self._text = text
        self._limit = limit
        self.oversized = 0

    def __iter__(self) -> _BoundedLines:
        return self

    def __next__(self) -> str:
        line = self._text.readline(self._limit + 1)
        if not line:
            raise StopIteration
        if len(line) > self._limit and not line.endswith(("\n", "\r")):
            while True:
                more = self._text.readline(1 << 20)
                if not more or more.endswith(("\n", "\r")):
                    break
            self.oversized += 1
            return "\n"
        return line


class CsvExtractor:
    format: ClassVar[str] = "csv"
    extensions: ClassVar[tuple[str, ...]] = (".csv",)
    delimiter: ClassVar[str] = ","

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        buffered: Any = stream if hasattr(stream, "peek") else io.BufferedReader(cast(Any, stream), 1 << 20)
        sample = buffered.peek(64 << 10)[: 64 << 10]
        if not sample:
            raise SkipObject("empty file")
        encoding = detect_encoding(sample, complete=len(sample) < (64 << 10))
        text = io.TextIOWrapper(buffered, encoding=encoding, errors="strict", newline="")
        limit = ctx.limits.max_record_bytes
        lines = _BoundedLines(text, limit)
        # One field spanning many lines is bounded by the field limit (process-wide in the csv module;
        # a worker reads one object at a time).
        csv.field_size_limit(limit)
        reader = csv.reader(lines, delimiter=self.delimiter)
        oversized = 0
        try:
            header = next(reader, None)
            if header is None:
                raise SkipObject("empty file")
            columns = [h.strip() or f"column_{i}" for i, h in enumerate(header)]
            for index, row in enumerate(reader):
                if (stop := past_max_records(ctx, self.format, index, "rows")) is not None:
                    yield stop
                    return
                size = sum(len(v) for v in row)
                if size > limit or lines.oversized > oversized:
                    oversized = lines.oversized
                    yield UnitProblem(
                        ctx.uri,
                        self.format,
                        "failed",
                        f"limit max_record_bytes: row over {limit} characters",
                        record=index,
                        limit="max_record_bytes",
                    )
                    continue
                record = {(columns[i] if i < len(columns) else f"column_{i}"): value for i, value in enumerate(row)}
                yield record_unit(ctx, self.format, index, record, size)
        except UnicodeDecodeError as exc:
            raise ExtractionError(f"undecodable text as {encoding} at byte {exc.start} of a read block") from exc
        except csv.Error as exc:
            if "field limit" in str(exc):  # the csv module signals this only by its message
                raise LimitExceededError(
                    "max_record_bytes", f"a field over {limit} characters at line {reader.line_num}"
                ) from exc
            raise ExtractionError(f"malformed CSV at line {reader.line_num}") from exc
        finally:
            csv.field_size_limit(sys.maxsize)


class TsvExtractor(CsvExtractor):
    format: ClassVar[str] = "tsv"
    extensions: ClassVar[tuple[str, ...]] = (".tsv", ".tab")
    delimiter: ClassVar[str] = "\t"


class ParquetExtractor:
    format: ClassVar[str] = "parquet"
    extensions: ClassVar[tuple[str, ...]] = (".parquet", ".pq")

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        # Parquet's footer is at the end, so the file is spooled (memory, then disk) like a PDF, and bounded
        # like one: counted, so a seekable stream is copied and checked too rather than passed through.
        limit = ctx.limits.max_document_bytes
        counted = CountingReader(stream, limit=limit, limit_name="max_document_bytes")
        seekable = spool(cast(BinaryIO, counted), limit=limit, limit_name="max_document_bytes")
        # (a damaged footer can also name a column in bytes that are not UTF-8)
        unreadable = (pa.ArrowException, OSError, UnicodeDecodeError)
        try:
            pfile = pq.ParquetFile(seekable)
        except unreadable as exc:
            raise ExtractionError("not a readable Parquet file") from exc
        if pfile.metadata.num_rows == 0:
            raise SkipObject("Parquet file has no rows")
        index = 0
        try:
            for batch in pfile.iter_batches(batch_size=1024):
                for row in batch.to_pylist():
                    if (stop := past_max_records(ctx, self.format, index, "rows")) is not None:
                        yield stop
                        return
                    yield record_unit(ctx, self.format, index, row)
                    index += 1
        except unreadable as exc:
            raise ExtractionError(f"Parquet data unreadable after row {index}") from exc
