"""RTF (striprtf): the document's text as one unit, decoded with the code page the file declares."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from scanner.errors import ExtractionError
from scanner.extractors.base import ExtractContext, SkipObject, read_all
from scanner.units import Unit, UnitProblem, sha256_hex

_CODEPAGE = re.compile(rb"\\ansicpg(\d{3,5})")


class RtfExtractor:
    format: ClassVar[str] = "rtf"
    extensions: ClassVar[tuple[str, ...]] = (".rtf",)

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        from striprtf.striprtf import rtf_to_text

        raw = read_all(stream, limit=ctx.limits.max_document_bytes, limit_name="max_document_bytes")
        if not raw.strip():
            raise SkipObject("empty file")
        if not raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{\\rtf"):
            raise ExtractionError("not RTF (no {\\rtf header)")
        encoding = "cp1252"
        m = _CODEPAGE.search(raw[:4096])
        if m:
            try:
                encoding = codecs.lookup(f"cp{int(m.group(1))}").name
            except LookupError:
                encoding = "cp1252"
        try:
            # RTF is 7-bit: control words and \'hh escapes; latin-1 maps any stray byte one to one
            text: str = rtf_to_text(raw.decode("latin-1"), encoding=encoding, errors="replace")  # type: ignore[no-untyped-call]
        except (ValueError, IndexError, RecursionError) as exc:
            raise ExtractionError(f"corrupt RTF: {type(exc).__name__}") from exc
        if len(text) > ctx.limits.max_unit_chars:
            text = text[: ctx.limits.max_unit_chars]
            partial: str | None = f"limit max_unit_chars: text cut at {ctx.limits.max_unit_chars} characters"
        else:
            partial = None
        yield Unit(ctx.uri, self.format, text, sha256_hex(raw), len(raw), partial=partial)
