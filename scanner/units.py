"""The unit of classification: the text of a file, a record, or an archive member."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldSpan:
    """Where one field's value sits in a record unit's joined text."""

    name: str
    start: int
    end: int


class LazyText:
    """Text too large to hold at once, produced as chunks while it is read.

    ``sha256`` and ``size_bytes`` describe the raw bytes and are known only
    once the chunks have been consumed; ``partial`` is set if reading stopped
    early (a limit, an undecodable tail).
    """

    __slots__ = ("_factory", "_used", "partial", "sha256", "size_bytes")

    def __init__(self, factory: Callable[[LazyText], Iterator[str]]) -> None:
        self._factory = factory
        self._used = False
        self.sha256: str | None = None
        self.size_bytes = 0
        self.partial: str | None = None

    def chunks(self) -> Iterator[str]:
        if self._used:
            raise RuntimeError("LazyText can be read once")
        self._used = True
        return self._factory(self)


@dataclass(frozen=True, slots=True)
class ExistingLabel:
    """A sensitivity label a document already carries, as Purview/MIP metadata records it.

    ``method`` is ``Standard`` (applied by default or automatically) or ``Privileged``
    (chosen by a person); ``source`` says where it was read: ``LabelInfo.xml`` or
    ``custom.xml`` (Office), ``msip_labels`` (an e-mail header) or ``pdf`` (document info).
    """

    guid: str
    method: str
    source: str
    name: str | None = None
    site_id: str | None = None
    set_date: str | None = None
    action_id: str | None = None
    content_bits: int | None = None

    @property
    def manual(self) -> bool:
        """Applied by a person (``Privileged``): never replaced by an automatic label."""
        return self.method.lower() == "privileged"


@dataclass(frozen=True, slots=True)
class Unit:
    """Text to classify and where it came from.

    ``record`` is the 0-based record index in a JSONL/CSV/Parquet file (None for
    whole-file units); ``member`` is a path inside a container (an e-mail
    attachment, an archive member). For record units ``fields`` says which part
    of ``text`` each field's value occupies, so findings are reported as
    offsets into that field's value. ``existing_label`` is the sensitivity label
    the document carried when read (every unit of the document carries it).
    ``meta_text`` carries rights markup a reader does not see and the text drops (an HTML
    page's ``<meta name="tdm-reservation">``, ``<meta name="robots">``, ``rel="license"``
    links, C2PA JSON): only the rights classifier reads it, as the field ``$meta``.
    ``embedded_rights`` is what a C2PA manifest embedded in a binary container says (its
    training-mining entries and validation state, see ``scanner.extractors.c2pa``): only the rights
    classifier reads it, as the field ``$c2pa``.
    """

    uri: str
    format: str
    text: str | LazyText
    content_sha256: str | None
    size_bytes: int
    record: int | None = None
    member: str | None = None
    fields: tuple[FieldSpan, ...] = ()
    partial: str | None = None
    hidden_text: str = ""
    existing_label: ExistingLabel | None = None
    meta_text: str = ""
    embedded_rights: str = ""

    def field_at(self, offset: int) -> FieldSpan | None:
        """The field whose value contains ``offset`` (None for whole-file text)."""
        lo, hi = 0, len(self.fields) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            span = self.fields[mid]
            if offset < span.start:
                hi = mid - 1
            elif offset >= span.end:
                lo = mid + 1
            else:
                return span
        return None


@dataclass(frozen=True, slots=True)
class UnitProblem:
    """A unit (or whole object) that could not be classified: skipped or failed, with why."""

    uri: str
    format: str
    status: str  # "skipped" | "failed"
    reason: str
    record: int | None = None
    member: str | None = None
    size_bytes: int = 0
    content_sha256: str | None = None
    #: The configured limit that stopped this unit (``max_records`` …): the object is then partial.
    limit: str | None = None


#: Separator between field values in a record unit's text; a blank line keeps
#: NER and patterns from joining the end of one field to the next.
FIELD_SEPARATOR = "\n\n"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_record_bytes(record: Any) -> bytes:
    """The bytes a record's ``content_sha256`` is computed over (canonical JSON)."""
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def flatten_record(record: Any, prefix: str = "", *, max_depth: int = 64) -> Iterator[tuple[str, str]]:
    """Yield ``(field_path, text)`` for every scalar leaf of a JSON-like record.

    Paths use dots for keys and ``[i]`` for list items (``user.emails[0]``).
    Booleans and nulls carry no text and are left out; numbers are kept, since
    card and phone numbers are often stored as numbers. Values nested deeper
    than ``max_depth`` are left out; :func:`flatten_limited` says when that happened.
    """
    yield from flatten_limited(record, prefix, max_depth=max_depth)[0]


def flatten_limited(record: Any, prefix: str = "", *, max_depth: int = 64) -> tuple[list[tuple[str, str]], bool]:
    """:func:`flatten_record` as a list, and whether values nested deeper than ``max_depth`` were left out."""
    stack: list[tuple[str, Any, int]] = [(prefix, record, 0)]
    out: list[tuple[str, str]] = []
    cut = False
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, dict | list | tuple) and depth >= max_depth:
            cut = cut or bool(value)
            continue
        if isinstance(value, dict):
            for key in reversed(list(value)):
                stack.append((f"{path}.{key}" if path else str(key), value[key], depth + 1))
        elif isinstance(value, list | tuple):
            for i in reversed(range(len(value))):
                stack.append((f"{path}[{i}]", value[i], depth + 1))
        elif isinstance(value, str):
            if value:
                out.append((path, value))
        elif isinstance(value, bool) or value is None or isinstance(value, bytes):
            continue
        else:
            out.append((path, str(value)))
    return out, cut


def join_fields(pairs: list[tuple[str, str]]) -> tuple[str, tuple[FieldSpan, ...]]:
    """Join field values into one text with the span of each value."""
    parts: list[str] = []
    spans: list[FieldSpan] = []
    pos = 0
    for name, value in pairs:
        if parts:
            parts.append(FIELD_SEPARATOR)
            pos += len(FIELD_SEPARATOR)
        parts.append(value)
        spans.append(FieldSpan(name, pos, pos + len(value)))
        pos += len(value)
    return "".join(parts), tuple(spans)
