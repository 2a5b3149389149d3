"""Extractors by format, chosen by file name; compression suffixes are peeled off first.

Unknown formats are skipped with a reason, not guessed at. Archives (zip, tar)
are containers whose members are chosen the same way (see ``archives``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from scanner.extractors.archives import TarExtractor, ZipExtractor
from scanner.extractors.base import ExtractContext, Extractor, SkipObject
from scanner.extractors.compression import SUFFIXES
from scanner.extractors.html import HtmlExtractor
from scanner.extractors.jsonfmt import JsonExtractor, JsonLinesExtractor
from scanner.extractors.mail import EmlExtractor, MsgExtractor
from scanner.extractors.office import DocxExtractor, PdfExtractor
from scanner.extractors.rtf import RtfExtractor
from scanner.extractors.slides import PptxExtractor
from scanner.extractors.spreadsheet import XlsxExtractor
from scanner.extractors.tabular import CsvExtractor, ParquetExtractor, TsvExtractor
from scanner.extractors.text import MarkdownExtractor, TextExtractor

__all__ = ["ExtractContext", "Extractor", "FormatChoice", "SkipObject", "choose"]

_ALL: tuple[type[Extractor], ...] = (
    TextExtractor,
    MarkdownExtractor,
    HtmlExtractor,
    JsonExtractor,
    JsonLinesExtractor,
    CsvExtractor,
    TsvExtractor,
    ParquetExtractor,
    PdfExtractor,
    DocxExtractor,
    EmlExtractor,
    ZipExtractor,
    TarExtractor,
    XlsxExtractor,
    PptxExtractor,
    RtfExtractor,
    MsgExtractor,
)

#: Extractor class by lower-case file extension.
BY_EXTENSION: Mapping[str, type[Extractor]] = MappingProxyType({ext: cls for cls in _ALL for ext in cls.extensions})


@dataclass(frozen=True, slots=True)
class FormatChoice:
    """How to read an object: an extractor, behind zero or one decompression step."""

    extractor: type[Extractor] | None
    compression: str | None
    label: str  # e.g. "jsonl", "jsonl+zstd", or the unknown extension


#: Single suffixes that stand for a compressed tar.
_TAR_ALIASES = {".tgz": "gzip", ".taz": "gzip", ".tbz": "bz2", ".tbz2": "bz2", ".txz": "xz", ".tzst": "zstd"}


def _ext(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def choose(name: str) -> FormatChoice:
    """Pick the extractor for a file name (``data.jsonl.zst`` → JSON Lines behind zstd)."""
    ext = _ext(name)
    if ext in _TAR_ALIASES:
        return FormatChoice(TarExtractor, _TAR_ALIASES[ext], f"tar+{_TAR_ALIASES[ext]}")
    compression = SUFFIXES.get(ext)
    if compression is not None:
        name = name[: -len(ext)]
        ext = _ext(name)
    extractor = BY_EXTENSION.get(ext)
    if extractor is None:
        label = (ext.lstrip(".") or "unknown") + (f"+{compression}" if compression else "")
        return FormatChoice(None, compression, label)
    return FormatChoice(extractor, compression, extractor.format + (f"+{compression}" if compression else ""))
