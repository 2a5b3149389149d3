"""Extractors by format, chosen by file name; compression suffixes are peeled off first.

Unknown formats are skipped with a reason, not guessed at. Archives (zip, tar)
are containers whose members are chosen the same way (see ``archives``).

Plugins: ``$INGESTGUARD_EXTRA_EXTRACTORS`` (``module:Class,module:Class``) adds
extractors for extensions no built-in one claims; each worker imports them when
it sets up, and a bad entry stops the scan naming the variable and the entry.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from scanner.errors import ConfigError
from scanner.extractors.archives import TarExtractor, ZipExtractor
from scanner.extractors.base import ExtractContext, Extractor, SkipObject
from scanner.extractors.c2pa import AudioExtractor, ImageExtractor, VideoExtractor
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

__all__ = [
    "PLUGINS_ENV",
    "ExtractContext",
    "Extractor",
    "FormatChoice",
    "SkipObject",
    "choose",
    "load_plugins",
    "plugin_extractors",
]

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
    ImageExtractor,
    VideoExtractor,
    AudioExtractor,
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
    extractor = BY_EXTENSION.get(ext) or plugin_extractors().get(ext)
    if extractor is None:
        label = (ext.lstrip(".") or "unknown") + (f"+{compression}" if compression else "")
        return FormatChoice(None, compression, label)
    return FormatChoice(extractor, compression, extractor.format + (f"+{compression}" if compression else ""))


#: Extra extractors to load, as ``module:Class`` entries separated by commas.
PLUGINS_ENV = "INGESTGUARD_EXTRA_EXTRACTORS"
_ENTRY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")
_EXTENSION = re.compile(r"^\.[a-z0-9][a-z0-9_+-]{0,15}$")


def load_plugins(spec: str) -> Mapping[str, type[Extractor]]:
    """Import the extractors ``spec`` names (``module:Class,...``) and map their extensions to them.

    Each class needs a ``format`` name, lower-case ``extensions`` (``".crash"``) and an ``extract``
    method; an extension a built-in extractor, a compression suffix or another plugin claims is
    refused, so a plugin can add formats but never change how a known one is read.
    """
    found: dict[str, type[Extractor]] = {}
    for entry in (e.strip() for e in spec.split(",")):
        if not entry:
            continue
        if not _ENTRY.match(entry):
            raise ConfigError(f"{PLUGINS_ENV}: '{entry}' is not of the form module:Class")
        module_name, _, class_name = entry.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"{PLUGINS_ENV}: cannot import {entry} ({type(exc).__name__})") from exc
        extensions = getattr(cls, "extensions", None)
        if not isinstance(getattr(cls, "format", None), str) or not callable(getattr(cls, "extract", None)):
            raise ConfigError(f"{PLUGINS_ENV}: {entry} needs a 'format' name and an 'extract' method")
        if not isinstance(extensions, tuple) or not extensions:
            raise ConfigError(f"{PLUGINS_ENV}: {entry} needs a tuple of 'extensions'")
        for ext in extensions:
            if not isinstance(ext, str) or not _EXTENSION.match(ext):
                raise ConfigError(f"{PLUGINS_ENV}: {entry}: extension {ext!r} is not like '.abc' (lower case)")
            if ext in BY_EXTENSION or ext in SUFFIXES or ext in _TAR_ALIASES or ext in found:
                raise ConfigError(f"{PLUGINS_ENV}: {entry}: extension '{ext}' is already taken")
            found[ext] = cls
    return MappingProxyType(found)


@functools.cache
def plugin_extractors() -> Mapping[str, type[Extractor]]:
    """The plugins ``$INGESTGUARD_EXTRA_EXTRACTORS`` names, imported once per process."""
    return load_plugins(os.environ.get(PLUGINS_ENV, ""))
