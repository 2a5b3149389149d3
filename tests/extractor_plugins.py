"""Test-only extractor plugins (loaded through ``$INGESTGUARD_EXTRA_EXTRACTORS``) whose input kills or hangs
the worker reading it, standing in for a parser that segfaults or loops forever on hostile content."""

from __future__ import annotations

import io
import os
import signal
import time
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from scanner.extractors.base import ExtractContext
from scanner.extractors.text import TextExtractor
from scanner.units import Unit, UnitProblem


class CrashExtractor:
    """Reads the object; ``SEGFAULT`` in it kills the process with SIGSEGV, ``EXIT`` with ``os._exit(137)``."""

    format: ClassVar[str] = "crash"
    extensions: ClassVar[tuple[str, ...]] = (".crash",)

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        data = stream.read()
        if b"SEGFAULT" in data:
            signal.signal(signal.SIGSEGV, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGSEGV)
        if b"EXIT" in data:
            os._exit(137)
        yield from TextExtractor().extract(io.BufferedReader(io.BytesIO(data)), ctx)  # type: ignore[arg-type]


class HangExtractor:
    """Reads the object, then never returns (a parser's infinite loop)."""

    format: ClassVar[str] = "hang"
    extensions: ClassVar[tuple[str, ...]] = (".hang",)

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        stream.read()
        while True:
            time.sleep(3600)
        yield  # pragma: no cover - a generator that never gets here


class NotAnExtractor:
    format: ClassVar[str] = "nope"
