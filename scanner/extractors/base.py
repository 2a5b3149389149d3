"""The extractor protocol and what every extractor shares: limits, decoding, spooling.

An extractor turns one object's (already decompressed) byte stream into
:class:`~scanner.units.Unit` items, or :class:`~scanner.units.UnitProblem`
items for the records it could not read. Raising :class:`SkipObject` or an
:class:`~scanner.errors.ExtractionError` ends the object with a reason.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, BinaryIO, ClassVar, Protocol

from charset_normalizer import from_bytes

from scanner.config import Limits
from scanner.errors import ExtractionError, LimitExceededError
from scanner.units import Unit, UnitProblem

if TYPE_CHECKING:
    from scanner.extractors.c2pa import C2paReader


class SkipObject(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The object is deliberately not scanned (binary, empty, unsupported); carries the reason."""


@dataclass(frozen=True, slots=True)
class ExtractContext:
    """What an extractor knows about the object it reads."""

    uri: str
    format: str
    limits: Limits
    first_record: int = 0  # record index of the first record read (a shard of a large record file)
    #: Reads embedded C2PA manifests (built once per worker); None when c2pa-python is missing or rights are off.
    c2pa: C2paReader | None = None


class Extractor(Protocol):
    """Turns a byte stream of one format into units."""

    format: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]: ...


class CountingReader(io.RawIOBase):
    """A read-only raw stream that hashes and counts what passes, and enforces a byte limit."""

    def __init__(self, raw: IO[bytes], *, limit: int | None, limit_name: str) -> None:
        super().__init__()
        self._raw = raw
        self._limit = limit
        self._limit_name = limit_name
        self._hash = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buf))
        n = len(data)
        self.count += n
        if self._limit is not None and self.count > self._limit:
            raise LimitExceededError(self._limit_name, f"more than {self._limit} bytes")
        self._hash.update(data)
        buf[:n] = data
        return n

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    def drain(self, chunk: int = 1 << 20) -> None:
        """Read to the end so the hash covers the whole object (even after a wrapper closed us).

        Closing this reader leaves the underlying stream open: its owner closes it.
        """
        while True:
            data = self._raw.read(chunk)
            if not data:
                return
            self.count += len(data)
            if self._limit is not None and self.count > self._limit:
                raise LimitExceededError(self._limit_name, f"more than {self._limit} bytes")
            self._hash.update(data)


def past_max_records(ctx: ExtractContext, fmt: str, index: int, what: str = "records") -> UnitProblem | None:
    """The unit that ends reading at ``limits.max_records`` (its ``limit`` leaves the object partial,
    never reported as clean), or None while ``index`` is below it."""
    limit = ctx.limits.max_records
    if limit is None or index < limit:
        return None
    return UnitProblem(
        ctx.uri, fmt, "skipped", f"limit max_records: {what} after {index} not read", record=index, limit="max_records"
    )


def read_all(stream: IO[bytes], *, limit: int, limit_name: str) -> bytes:
    """Read a whole (small) document, refusing more than ``limit`` bytes."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise LimitExceededError(limit_name, f"document larger than {limit} bytes")
    return data


def spool(stream: IO[bytes], *, limit: int, limit_name: str) -> IO[bytes]:
    """A seekable copy of ``stream`` (memory, then disk past 16 MiB) for parsers that seek."""
    if getattr(stream, "seekable", lambda: False)():
        return stream
    out = tempfile.SpooledTemporaryFile(max_size=16 << 20)  # noqa: SIM115 - returned to the caller
    copied = 0
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            break
        copied += len(chunk)
        if copied > limit:
            out.close()
            raise LimitExceededError(limit_name, f"document larger than {limit} bytes")
        out.write(chunk)
    out.seek(0)
    return out


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
_SNIFF_BYTES = 64 << 10


def _utf16_without_bom(sample: bytes) -> str | None:
    """ASCII-range UTF-16 has a NUL in nearly every other byte and almost none in the rest."""
    even, odd = sample[0::2], sample[1::2]
    if not even or not odd:
        return None
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.4 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.4 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def looks_binary(sample: bytes) -> bool:
    """NUL bytes outside a UTF-16/32 text, or more than 10% control bytes, mean binary."""
    sample = sample[:_SNIFF_BYTES]
    if not sample or any(sample.startswith(bom) for bom, _ in _BOMS):
        return False
    if b"\x00" in sample:
        return _utf16_without_bom(sample) is None
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > 0.1 * len(sample)


def detect_encoding(sample: bytes, *, complete: bool) -> str:
    """The text encoding of ``sample``: a BOM, else strict UTF-8, else charset-normalizer's best guess.

    ``complete`` says ``sample`` is the whole text (a truncated sample may end
    inside a UTF-8 sequence). Raises :class:`SkipObject` for binary content and
    :class:`ExtractionError` when no encoding fits with confidence.
    """
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    if looks_binary(sample):
        raise SkipObject("binary content, not text")
    utf16 = _utf16_without_bom(sample[:_SNIFF_BYTES]) if b"\x00" in sample[:_SNIFF_BYTES] else None
    if utf16 is not None:
        return utf16
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if not complete and exc.start >= len(sample) - 3:
            return "utf-8"
        first_error = exc.start
    if _mostly_utf8(sample):
        raise ExtractionError(f"invalid UTF-8 at byte {first_error}")
    results = from_bytes(sample)
    best = results.best()
    if best is None or best.chaos > 0.3:
        raise ExtractionError("undecodable text: not UTF-8 and no other encoding fits")
    # Short samples often tie between Windows code pages; prefer the most common one on a tie.
    for candidate in results:
        if candidate.encoding == "cp1252" and candidate.chaos <= best.chaos + 0.01:
            return "cp1252"
    return best.encoding


def _mostly_utf8(sample: bytes) -> bool:
    """Valid multi-byte UTF-8 sequences alongside the invalid bytes: a UTF-8 file with damage,
    not a legacy 8-bit encoding (which would almost never form valid sequences by chance)."""
    text = sample.decode("utf-8", errors="replace")
    errors = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    return good >= 2 and good >= errors


def decode_document(data: bytes) -> str:
    """Decode a whole small document with a detected encoding."""
    encoding = detect_encoding(data, complete=True)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ExtractionError(f"undecodable text at byte {exc.start} as {encoding}") from exc


def iter_text_chunks(stream: IO[bytes], *, chunk_bytes: int = 1 << 20) -> Iterator[str]:
    """Decode a large byte stream incrementally; the encoding is detected on the first chunk."""
    first = stream.read(chunk_bytes)
    encoding = detect_encoding(first, complete=len(first) < chunk_bytes)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    data = first
    while data:
        try:
            text = decoder.decode(data)
        except UnicodeDecodeError as exc:
            raise ExtractionError(f"undecodable text at byte {offset + exc.start} as {encoding}") from exc
        offset += len(data)
        if text:
            yield text
        data = stream.read(chunk_bytes)
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail
