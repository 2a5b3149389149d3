"""Streaming decompression of single-stream files (``.gz``, ``.zst``, ``.bz2``, ``.xz``), with bomb guards."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from collections.abc import Callable
from typing import IO, Any, BinaryIO, cast

from scanner.config import Limits
from scanner.errors import ExtractionError, IngestguardError, LimitExceededError, describe_exception
from scanner.extractors.base import CountingReader

SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bz2", ".xz": "xz"}

#: Decompressed output allowed before the ratio guard applies (small files compress very well).
RATIO_GRACE_BYTES = 16 << 20


class GuardedReader(io.RawIOBase):
    """Counts decompressed bytes and stops a decompression bomb by size or by ratio.

    ``compressed`` says how many compressed bytes the output came from so far (a live count for a
    compressed file; an archive member's stored size; None: no ratio guard). ``what`` names the thing
    in errors, and ``on_read`` hears of every block (an archive's budget for the whole object).
    Errors of the decompressor become value-free :class:`ExtractionError`.
    """

    def __init__(
        self,
        inner: IO[bytes],
        limits: Limits,
        *,
        compressed: Callable[[], int | None],
        what: str = "stream",
        corrupt: str = "corrupt compressed stream",
        on_read: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__()
        self._inner = inner
        self._limits = limits
        self._compressed = compressed
        self._what = what
        self._corrupt = corrupt
        self._on_read = on_read
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buf))
        except IngestguardError:
            raise
        except Exception as exc:  # OSError (bad CRC, not gzip), EOFError, LZMAError, zstd and zip errors …
            raise ExtractionError(f"{self._corrupt}: {describe_exception(exc)}") from exc
        n = len(data)
        buf[:n] = data
        self.count += n
        limits = self._limits
        if self.count > limits.max_decompressed_bytes:
            raise LimitExceededError(
                "max_decompressed_bytes", f"{self._what} larger than {limits.max_decompressed_bytes} bytes"
            )
        if self.count > RATIO_GRACE_BYTES:
            compressed = self._compressed()
            if compressed is not None and self.count / max(1, compressed) > limits.max_compression_ratio:
                raise LimitExceededError(
                    "max_compression_ratio", f"{self._what} expands more than {limits.max_compression_ratio:g} times"
                )
        if self._on_read is not None:
            self._on_read(n)
        return n

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


def decompress(kind: str, raw: BinaryIO, limits: Limits) -> BinaryIO:
    """A buffered, guarded stream of the decompressed bytes of ``raw``."""
    compressed = CountingReader(raw, limit=None, limit_name="max_object_bytes")
    source = cast(IO[bytes], compressed)
    inner: Any
    if kind == "gzip":
        inner = gzip.GzipFile(fileobj=source, mode="rb")
    elif kind == "bz2":
        inner = bz2.BZ2File(source, mode="rb")
    elif kind == "xz":
        inner = lzma.LZMAFile(source, mode="rb")  # noqa: SIM115
    elif kind == "zstd":
        import zstandard

        inner = zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True)
    else:
        raise ExtractionError(f"unsupported compression '{kind}'")
    return cast(
        BinaryIO,
        io.BufferedReader(GuardedReader(inner, limits, compressed=lambda: compressed.count), buffer_size=1 << 20),
    )
