"""Large record files split into shards, so one huge JSONL file spreads over every worker or actor.

A shard is a byte range of whole lines with the record index of its first
record. The driver finds the boundaries in one sequential read of the object
(newline counting at C speed, far cheaper than classifying it), which also
gives the object's SHA-256; each shard then becomes its own task, read with a
seek (or a skip, for streams that cannot seek). The shards' rows are exactly
the rows an unsharded scan gives: the same record indices, the same findings;
their object rows are merged back into one by the driver.

Only uncompressed JSON Lines in UTF-8 is sharded (a compressed stream cannot
be entered in the middle; UTF-16 lines do not end at a ``\\n`` byte), and not
when ``max_records`` is set (the limit counts records across the whole file).
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from typing import IO, BinaryIO

from scanner.extractors.base import looks_binary

#: Bytes read per step while planning shards.
BLOCK = 8 << 20
#: Lines that hold a record: anything but ASCII whitespace (as ``bytes.strip`` sees it, which the
#: JSON Lines extractor uses to skip blank lines).
_RECORD_LINE = re.compile(rb"^[ \t\r\x0b\x0c]*[^ \t\r\x0b\x0c\n]", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Shard:
    """Bytes ``[start, end)`` of an object: whole lines, the first of them record ``first_record``."""

    index: int
    count: int
    start: int
    end: int
    first_record: int


@dataclass(frozen=True, slots=True)
class ShardPlan:
    shards: tuple[Shard, ...]
    sha256: str
    size: int


def plan_shards(stream: IO[bytes], *, shard_bytes: int) -> ShardPlan | None:
    """Boundaries at the first line end at least ``shard_bytes`` after the previous boundary; None if the
    text is not shardable (UTF-16/32, binary)."""
    digest = hashlib.sha256()
    bounds: list[tuple[int, int]] = [(0, 0)]  # (byte offset, records before it)
    records = size = data_start = 0
    carry = b""
    while True:
        block = stream.read(BLOCK)
        if size == 0 and block:
            head = block[:65536]
            if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head or looks_binary(head):
                return None  # UTF-16/32 or binary: left to the extractor, unsharded
        if not block:
            break
        digest.update(block)
        size += len(block)
        data = carry + block  # starts at data_start
        cut = data.rfind(b"\n") + 1
        pos = 0
        while pos < cut:
            target = bounds[-1][0] + shard_bytes - data_start  # where the next boundary is due, in data
            if target >= cut:
                records += len(_RECORD_LINE.findall(data, pos, cut))
                break
            newline = data.find(b"\n", max(target - 1, pos), cut)  # the line end at or past the target
            records += len(_RECORD_LINE.findall(data, pos, newline + 1))
            pos = newline + 1
            bounds.append((data_start + pos, records))
        carry = data[cut:]
        data_start += cut
    if bounds[-1][0] >= size:
        bounds.pop()
    if len(bounds) < 2:
        return ShardPlan((), digest.hexdigest(), size)
    shards = []
    for i, (start, first_record) in enumerate(bounds):
        end = bounds[i + 1][0] if i + 1 < len(bounds) else size
        shards.append(Shard(i, len(bounds), start, end, first_record))
    return ShardPlan(tuple(shards), digest.hexdigest(), size)


class ShardReader(io.RawIOBase):
    """The bytes of one shard of ``raw``: seeks to its start (or reads past it) and stops at its end."""

    def __init__(self, raw: BinaryIO, shard: Shard) -> None:
        super().__init__()
        self._raw = raw
        self._left = shard.end - shard.start
        skip = shard.start
        seekable = getattr(raw, "seekable", lambda: False)
        if skip and seekable():
            raw.seek(skip)
            skip = 0
        while skip:
            chunk = raw.read(min(skip, 1 << 20))
            if not chunk:
                break
            skip -= len(chunk)

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._left <= 0:
            return 0
        data = self._raw.read(min(len(buf), self._left))
        n = len(data)
        buf[:n] = data
        self._left -= n
        return n
