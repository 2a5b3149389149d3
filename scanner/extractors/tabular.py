"""CSV/TSV and Parquet: each row is a record unit, with column names as context."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar, cast

from scanner.errors import ExtractionError
from scanner.extractors.base import ExtractContext, SkipObject, detect_encoding, spool
from scanner.extractors.jsonfmt import record_unit
from scanner.units import Unit, UnitProblem

csv.field_size_limit(sys.maxsize)


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
        reader = csv.reader(text, delimiter=self.delimiter)
        limit = ctx.limits.max_record_bytes
        try:
            header = next(reader, None)
            if header is None:
                raise SkipObject("empty file")
            columns = [h.strip() or f"column_{i}" for i, h in enumerate(header)]
            for index, row in enumerate(reader):
                if ctx.limits.max_records is not None and index >= ctx.limits.max_records:
                    yield UnitProblem(
                        ctx.uri, self.format, "skipped", f"limit max_records: rows after {index} not read", record=index
                    )
                    return
                size = sum(len(v) for v in row)
                if size > limit:
                    yield UnitProblem(
                        ctx.uri,
                        self.format,
                        "failed",
                        f"limit max_record_bytes: row over {limit} characters",
                        record=index,
                    )
                    continue
                record = {(columns[i] if i < len(columns) else f"column_{i}"): value for i, value in enumerate(row)}
                yield record_unit(ctx, self.format, index, record, size)
        except UnicodeDecodeError as exc:
            raise ExtractionError(f"undecodable text as {encoding} at byte {exc.start} of a read block") from exc
        except csv.Error as exc:
            raise ExtractionError(f"malformed CSV at line {reader.line_num}") from exc


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

        seekable = spool(stream, limit=1 << 62, limit_name="max_object_bytes")
        try:
            pfile = pq.ParquetFile(seekable)
        except (pa.ArrowInvalid, OSError) as exc:
            raise ExtractionError("not a readable Parquet file") from exc
        if pfile.metadata.num_rows == 0:
            raise SkipObject("Parquet file has no rows")
        index = 0
        try:
            for batch in pfile.iter_batches(batch_size=1024):
                for row in batch.to_pylist():
                    if ctx.limits.max_records is not None and index >= ctx.limits.max_records:
                        yield UnitProblem(
                            ctx.uri,
                            self.format,
                            "skipped",
                            f"limit max_records: rows after {index} not read",
                            record=index,
                        )
                        return
                    yield record_unit(ctx, self.format, index, row)
                    index += 1
        except (pa.ArrowInvalid, OSError) as exc:
            raise ExtractionError(f"Parquet data unreadable after row {index}") from exc
