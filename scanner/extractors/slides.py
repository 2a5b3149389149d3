"""PPTX (python-pptx): each slide is a record unit with the fields ``text`` (every shape,
tables and groups included) and ``notes`` (the speaker notes). Text on hidden slides is
classified as hidden text (``$hidden``), which a reader of the slide show would not see."""

from __future__ import annotations

import dataclasses
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO, ClassVar

from scanner.errors import ExtractionError, LimitExceededError
from scanner.extractors.base import ExtractContext, past_max_records
from scanner.extractors.jsonfmt import record_unit
from scanner.extractors.mip import package_label
from scanner.extractors.office import seekable_copy
from scanner.units import Unit, UnitProblem


def _shape_texts(shapes: Iterable[Any], depth: int = 0) -> Iterator[str]:
    for shape in shapes:
        if depth < 32 and getattr(shape, "shape_type", None) is not None and hasattr(shape, "shapes"):
            yield from _shape_texts(shape.shapes, depth + 1)  # a group
        if getattr(shape, "has_text_frame", False) and shape.text_frame.text:
            yield shape.text_frame.text
        if getattr(shape, "has_table", False):
            for row in shape.table.rows:
                cells = [cell.text for cell in row.cells if cell.text]
                if cells:
                    yield "\t".join(cells)


class PptxExtractor:
    format: ClassVar[str] = "pptx"
    extensions: ClassVar[tuple[str, ...]] = (".pptx", ".pptm")

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        import pptx

        copy, _, _ = seekable_copy(stream, ctx)
        with copy:
            if not zipfile.is_zipfile(copy):
                raise ExtractionError("not a PPTX (not a zip container)")
            copy.seek(0)
            existing = package_label(copy)
            try:
                deck = pptx.Presentation(copy)
                slides = list(deck.slides)
            except Exception as exc:  # any parser failure (zlib, XML, KeyError, python-pptx's own…): corrupt
                raise ExtractionError(f"corrupt PPTX: {type(exc).__name__}") from exc
            chars = 0
            for index, slide in enumerate(slides):
                if (stop := past_max_records(ctx, self.format, index, "slides")) is not None:
                    yield stop
                    return
                try:
                    text = "\n".join(_shape_texts(slide.shapes))
                    notes = slide.notes_slide.notes_text_frame.text if slide.has_notes_slide else ""
                except Exception as exc:  # one damaged slide part: that slide fails, the rest is read
                    yield UnitProblem(
                        ctx.uri, self.format, "failed", f"unreadable slide: {type(exc).__name__}", record=index
                    )
                    continue
                chars += len(text) + len(notes or "")
                if chars > ctx.limits.max_unit_chars:
                    raise LimitExceededError(
                        "max_unit_chars", f"PPTX text longer than {ctx.limits.max_unit_chars} characters"
                    )
                record = {k: v for k, v in (("text", text), ("notes", notes or "")) if v}
                unit = record_unit(ctx, self.format, index, record)
                if slide._element.get("show") in ("0", "false"):
                    unit = dataclasses.replace(
                        unit, text="", fields=(), hidden_text="\n\n".join(v for v in record.values())
                    )
                yield dataclasses.replace(unit, existing_label=existing)
