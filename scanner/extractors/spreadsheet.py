"""XLSX (openpyxl, read-only streaming): every row of every sheet is a record unit.

Fields are named ``Sheet!B7`` (sheet and cell), or ``Sheet!<header>`` when the
first row of the sheet looks like a header (short, distinct, text-only cells), so
column names become context words as they do for CSV. The header row itself is
scanned too, as a record of its own. ``record`` counts the rows of all sheets in
order (empty rows are not counted).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO, ClassVar

from scanner.errors import ExtractionError, IngestguardError
from scanner.extractors.base import ExtractContext, SkipObject, past_max_records
from scanner.extractors.jsonfmt import record_unit
from scanner.extractors.mip import package_label
from scanner.extractors.office import seekable_copy
from scanner.units import Unit, UnitProblem

_MAX_HEADER_CHARS = 64


def _text(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def looks_like_header(values: Sequence[Any]) -> bool:
    """A header row: only non-empty text cells, distinct, short, without long digit runs (not data)."""
    present = [v for v in values if v is not None and v != ""]
    if not present or not all(isinstance(v, str) and v.strip() for v in present):
        return False
    names = [v.strip().lower() for v in present]
    if len(set(names)) != len(names):
        return False
    return all(len(v) <= _MAX_HEADER_CHARS and sum(c.isdigit() for c in v) <= 3 for v in present)


class XlsxExtractor:
    format: ClassVar[str] = "xlsx"
    extensions: ClassVar[tuple[str, ...]] = (".xlsx", ".xlsm")

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        import openpyxl

        copy, _, _ = seekable_copy(stream, ctx)
        with copy:
            if not zipfile.is_zipfile(copy):
                raise ExtractionError("not an XLSX (not a zip container)")
            copy.seek(0)
            existing = package_label(copy)
            try:
                book = openpyxl.load_workbook(copy, read_only=True, data_only=True, keep_links=False)
            except Exception as exc:  # any parser failure (zlib, XML, KeyError, InvalidFileException…): corrupt
                raise ExtractionError(f"corrupt XLSX: {type(exc).__name__}") from exc
            try:
                index = 0
                for sheet in book.worksheets:
                    for unit in self._sheet(sheet, ctx, index):
                        if isinstance(unit, Unit) and existing is not None:
                            unit = _with_label(unit, existing)
                        yield unit
                        index += 1
                        if isinstance(unit, UnitProblem) and unit.limit == "max_records":
                            return
            except (IngestguardError, SkipObject):
                raise
            except Exception as exc:  # the sheet's XML or its zip member is damaged
                raise ExtractionError(f"corrupt XLSX sheet data: {type(exc).__name__}") from exc
            finally:
                book.close()

    def _sheet(self, sheet: Any, ctx: ExtractContext, start: int) -> Iterator[Unit | UnitProblem]:
        sheet.reset_dimensions()  # a declared size is not trusted: rows are read as they are stored
        title = str(sheet.title)
        header: dict[int, str] = {}
        first = True
        index = start
        for row in sheet.iter_rows():
            cells = [c for c in row if getattr(c, "value", None) is not None and c.value != ""]
            if not cells:
                continue
            if (stop := past_max_records(ctx, self.format, index, "rows")) is not None:
                yield stop
                return
            record: dict[str, Any] = {}
            for cell in cells:
                name = header.get(cell.column)
                key = f"{title}!{name}" if name else f"{title}!{cell.coordinate}"
                record[key] = cell.value if isinstance(cell.value, int | float | str) else _text(cell.value)
            if first:
                first = False
                values = [c.value for c in cells]
                if looks_like_header(values):
                    header = {c.column: str(c.value).strip() for c in cells}
            size = sum(len(_text(v)) for v in record.values())
            if size > ctx.limits.max_record_bytes:
                yield UnitProblem(
                    ctx.uri,
                    self.format,
                    "failed",
                    f"limit max_record_bytes: row over {ctx.limits.max_record_bytes} characters",
                    record=index,
                )
            else:
                yield record_unit(ctx, self.format, index, record, size)
            index += 1


def _with_label(unit: Unit, existing: Any) -> Unit:
    import dataclasses

    return dataclasses.replace(unit, existing_label=existing)
