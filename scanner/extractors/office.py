"""PDF (pypdf) and DOCX (python-docx): parsed whole from a seekable copy, bounded in size."""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar

from scanner.errors import ExtractionError, LimitExceededError
from scanner.extractors.base import CountingReader, ExtractContext, SkipObject, spool
from scanner.extractors.c2pa import read_embedded
from scanner.extractors.mip import label_from_properties, package_label
from scanner.units import ExistingLabel, Unit, UnitProblem


def seekable_copy(stream: BinaryIO, ctx: ExtractContext) -> tuple[BinaryIO, str, int]:
    """Spool the object (hashing it) so parsers can seek; returns (file, sha256, size)."""
    counted = CountingReader(stream, limit=ctx.limits.max_document_bytes, limit_name="max_document_bytes")
    copy = spool(counted, limit=ctx.limits.max_document_bytes, limit_name="max_document_bytes")  # type: ignore[arg-type]
    if counted.count == 0:
        raise SkipObject("empty file")
    return copy, counted.hexdigest(), counted.count  # type: ignore[return-value]


class PdfExtractor:
    format: ClassVar[str] = "pdf"
    extensions: ClassVar[tuple[str, ...]] = (".pdf",)

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        import logging

        from pypdf import PdfReader
        from pypdf.errors import FileNotDecryptedError, PdfReadError

        logging.getLogger("pypdf").setLevel(logging.ERROR)
        copy, digest, size = seekable_copy(stream, ctx)
        with copy:
            if copy.read(5) != b"%PDF-":
                raise ExtractionError("not a PDF (no %PDF- header)")
            embedded = read_embedded(ctx.c2pa, copy, "application/pdf")
            try:
                reader = PdfReader(copy, strict=False)
                if reader.is_encrypted:
                    try:
                        reader.decrypt("")  # readable with an empty user password?
                        _ = reader.pages[0] if len(reader.pages) else None
                    except (FileNotDecryptedError, NotImplementedError, PdfReadError) as exc:
                        raise ExtractionError("encrypted PDF: cannot be read without its password") from exc
                existing = _pdf_label(reader)
                pages = reader.pages
                count = len(pages)
                partial = None
                if count > ctx.limits.max_pdf_pages:
                    partial = f"limit max_pdf_pages: read {ctx.limits.max_pdf_pages} of {count} pages"
                    count = ctx.limits.max_pdf_pages
                texts: list[str] = []
                hidden: list[str] = []
                chars = 0
                for i in range(count):
                    page_text, page_hidden = _page_text(pages[i])
                    if page_hidden.strip():
                        hidden.append(page_hidden)
                    chars += len(page_text) + len(page_hidden)
                    if chars > ctx.limits.max_unit_chars:
                        raise LimitExceededError(
                            "max_unit_chars", f"PDF text longer than {ctx.limits.max_unit_chars} characters"
                        )
                    texts.append(page_text)
            except ExtractionError:
                raise
            except NotImplementedError as exc:  # pypdf: a stream filter it does not know ("/SCII85Decode")
                raise ExtractionError("unreadable PDF: a content stream uses an unsupported filter") from exc
            except Exception as exc:  # any parser failure (zlib, PdfReadError, KeyError, recursion…): corrupt
                raise ExtractionError(f"corrupt PDF: {type(exc).__name__}") from exc
        yield Unit(
            ctx.uri,
            self.format,
            "\n\f\n".join(texts),
            digest,
            size,
            partial=partial,
            hidden_text="\n".join(hidden),
            existing_label=existing,
            embedded_rights=embedded,
        )


def _pdf_label(reader: Any) -> ExistingLabel | None:
    """MSIP_Label_* entries of the PDF's document information dictionary, if any."""
    try:
        info = reader.metadata
    except Exception:  # a damaged info dictionary does not stop text extraction
        return None
    if not info:
        return None
    return label_from_properties({str(k): str(v) for k, v in info.items()}, "pdf")


def _page_text(page: Any) -> tuple[str, str]:
    """A page's visible text and its invisible text (text render mode 3: neither filled nor stroked).

    The render mode is part of the graphics state, so it is tracked across ``q``/``Q`` saves and restores.
    """
    stack = [0]
    visible: list[str] = []
    invisible: list[str] = []

    def before(operator: bytes, operands: list[Any], cm: Any, tm: Any) -> None:
        if operator == b"q":
            stack.append(stack[-1])
        elif operator == b"Q" and len(stack) > 1:
            stack.pop()
        elif operator == b"Tr" and operands:
            with contextlib.suppress(TypeError, ValueError):
                stack[-1] = int(operands[0])

    def text(fragment: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        (invisible if stack[-1] == 3 else visible).append(fragment)

    page.extract_text(visitor_operand_before=before, visitor_text=text)
    return "".join(visible), "".join(invisible)


class DocxExtractor:
    format: ClassVar[str] = "docx"
    extensions: ClassVar[tuple[str, ...]] = (".docx", ".docm")

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        import docx
        from docx.opc.exceptions import PackageNotFoundError

        copy, digest, size = seekable_copy(stream, ctx)
        with copy:
            if not zipfile.is_zipfile(copy):
                raise ExtractionError("not a DOCX (not a zip container)")
            copy.seek(0)
            existing = package_label(copy)
            parts: list[str] = []
            hidden: list[str] = []
            try:
                document = docx.Document(copy)
                for section in document.sections:
                    for hf in (section.header, section.first_page_header, section.footer):
                        if hf is not None and not hf.is_linked_to_previous:
                            parts.extend(p.text for p in hf.paragraphs if p.text)
                for paragraph in document.paragraphs:
                    shown, unseen = _split_runs(paragraph)
                    parts.append(shown)
                    if unseen.strip():
                        hidden.append(unseen)
                for table in document.tables:
                    for row in table.rows:
                        cells = [cell.text for cell in row.cells]
                        parts.append("\t".join(dict.fromkeys(cells)))
            except PackageNotFoundError as exc:
                raise ExtractionError("corrupt DOCX: not a Word package") from exc
            except Exception as exc:  # any parser failure (zlib, XML, KeyError, python-docx's own…): corrupt
                raise ExtractionError(f"corrupt DOCX: {type(exc).__name__}") from exc
        yield Unit(
            ctx.uri,
            self.format,
            "\n".join(parts),
            digest,
            size,
            hidden_text="\n".join(hidden),
            existing_label=existing,
        )


#: Run colours a reader cannot see on a white page.
_INVISIBLE_COLOURS = {"FFFFFF", "FEFEFE", "FDFDFD"}


def _split_runs(paragraph: Any) -> tuple[str, str]:
    """A paragraph's visible text and its hidden text (``vanish`` runs, white text, tiny font)."""
    shown: list[str] = []
    unseen: list[str] = []
    for run in paragraph.runs:
        font = run.font
        colour = (
            str(font.color.rgb) if font.color is not None and font.color.type is not None and font.color.rgb else ""
        )
        tiny = font.size is not None and font.size.pt < 2
        (unseen if font.hidden or colour.upper() in _INVISIBLE_COLOURS or tiny else shown).append(run.text)
    if not paragraph.runs:
        return paragraph.text, ""
    return "".join(shown), "".join(unseen)
