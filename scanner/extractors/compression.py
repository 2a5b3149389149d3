"""Streaming decompression of single-stream files (``.gz``, ``.zst``, ``.bz2``, ``.xz``), with bomb guards."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from typing import IO, Any, BinaryIO, cast

from scanner.config import Limits
from scanner.errors import ExtractionError, LimitExceededError
from scanner.extractors.base import CountingReader

SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bz2", ".xz": "xz"}

#: Decompressed output allowed before the ratio guard applies (small files compress very well).
RATIO_GRACE_BYTES = 16 << 20


class GuardedReader(io.RawIOBase):
    """Counts decompressed bytes and stops a decompression bomb by size or by ratio."""

    def __init__(self, inner: IO[bytes], compressed: CountingReader, limits: Limits) -> None:
        self._inner = inner
        self._compressed = compressed
        self._limits = limits
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buf))
        except (OSError, EOFError, lzma.LZMAError) as exc:
            raise ExtractionError(f"corrupt compressed stream: {exc}") from exc
        except Exception as exc:  # zstandard.ZstdError and friends
            raise ExtractionError(f"corrupt compressed stream: {type(exc).__name__}") from exc
        n = len(data)
        buf[:n] = data
        self.count += n
        if self.count > self._limits.max_decompressed_bytes:
            raise LimitExceededError("max_decompressed_bytes", f"more than {self._limits.max_decompressed_bytes} bytes")
        if self.count > RATIO_GRACE_BYTES:
            ratio = self.count / max(1, self._compressed.count)
            if ratio > self._limits.max_compression_ratio:
                raise LimitExceededError("max_compression_ratio", f"ratio above {self._limits.max_compression_ratio:g}")
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
    return cast(BinaryIO, io.BufferedReader(GuardedReader(inner, compressed, limits), buffer_size=1 << 20))
