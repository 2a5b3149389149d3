"""One pass over a text for many regexes at once, then exact matching only where a match can be.

Running each of dozens of recognizer regexes over every character costs more
than all the validation after it. :class:`Prefilter` compiles every pattern
into one Hyperscan database in *prefilter mode*: Hyperscan approximates each
pattern by a superset it can run (lookarounds and back-references dropped) and
reports every offset where the approximation ends a match. Every true match of
the original pattern ends at one of those offsets, so running the exact
pattern in a window around each reported end finds exactly the matches a full
scan finds (a property test checks it against the full scan).

The text is handed to Hyperscan as one byte per character (non-ASCII characters
become ``?``), which keeps offsets equal to ``str`` offsets; around every run of
non-ASCII characters the exact patterns run unconditionally, since their
Unicode semantics (``\\w``, ``\\d``, case folding) are not the prefilter's.

Without Hyperscan (not installed, an unsupported CPU) or for a pattern it
cannot compile, the pattern runs over the whole text: slower, never different.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import regex

log = logging.getLogger(__name__)

#: Characters kept on each side of a reported match end when the exact pattern runs (then widened
#: to whitespace): longer than any match that contains whitespace.
MARGIN = 64
#: Python ``re``/``regex`` flags Hyperscan understands.
_IGNORECASE, _MULTILINE, _DOTALL, _VERBOSE = 2, 8, 16, 64
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
#: A bounded repeat with a large upper bound (``{0,8000}``): Hyperscan takes minutes to compile one or
#: refuses it; the prefilter compiles ``{m,}`` instead, which matches more, as a prefilter may.
_LARGE_REPEAT = re.compile(r"(?<!\\)\{(\d+),(\d+)\}")
LARGE_BOUND = 1000
_WS = regex.compile(r"\s")
_WS_BACK = regex.compile(r"\s", flags=regex.REVERSE)


class Pattern(Protocol):
    """A compiled ``re`` or ``regex`` pattern."""

    @property
    def pattern(self) -> Any: ...

    @property
    def flags(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Hits:
    """Where each pattern may match in one text: ``spans(i)`` lists ``(lo, hi)`` ranges to search,
    ``None`` meaning the whole text."""

    _ends: dict[int, list[int]]
    _always: frozenset[int]
    _zones: tuple[tuple[int, int], ...]
    _text: str
    #: The windows around the non-ASCII zones alone, shared by every pattern with no reported end.
    _zone_spans: list[list[tuple[int, int]]] = field(default_factory=list)

    def spans(self, index: int) -> list[tuple[int, int]] | None:
        if index in self._always:
            return None
        ends = self._ends.get(index)
        if not ends:
            if not self._zones:
                return []
            if not self._zone_spans:
                self._zone_spans.append(around(self._text, [], zones=self._zones))
            return list(self._zone_spans[0])
        return around(self._text, [(e, e) for e in ends], zones=self._zones)

    def ends(self, index: int) -> list[int] | None:
        """Offsets where the pattern may end a match (None: look everywhere). Non-ASCII zones are
        reported as the ends of their characters, so callers that work from ends see them too."""
        if index in self._always:
            return None
        out = list(self._ends.get(index, ()))
        for lo, hi in self._zones:
            out.extend(range(lo + 1, hi + 1))
        return out

    def any(self, index: int) -> bool:
        """Whether the pattern can match anywhere (cheap: no windows built)."""
        return index in self._always or bool(self._ends.get(index)) or bool(self._zones)


class Prefilter:
    """Many regexes, one scan.

    ``patterns`` are regex sources or compiled patterns (their own flags apply); ``None`` marks a
    pattern that always runs over the whole text. ``flags`` (Python regex flags: IGNORECASE,
    MULTILINE, DOTALL) apply to the sources given as strings.
    """

    def __init__(self, patterns: Sequence[str | Pattern | None], *, flags: int = 0) -> None:
        self._db: Any = None
        always = set(range(len(patterns)))
        try:
            import hyperscan
        except ImportError:  # pragma: no cover - exercised where the wheel is missing
            log.info("hyperscan not installed: patterns run over whole texts")
        else:
            sources: dict[int, tuple[str, int]] = {}
            for i, p in enumerate(patterns):
                if p is None:
                    continue
                source, own = (p, flags) if isinstance(p, str) else (p.pattern, p.flags)
                hs_flags = _hs_flags(hyperscan, own)
                if own & _VERBOSE:
                    continue
                if isinstance(source, str):
                    source = _loosen(source)
                if isinstance(source, str) and source.isascii() and _compiles(hyperscan, source, hs_flags):
                    sources[i] = (source, hs_flags)
            if sources:
                self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
                self._db.compile(
                    expressions=[s.encode() for s, _ in sources.values()],
                    ids=list(sources),
                    elements=len(sources),
                    flags=[f for _, f in sources.values()],
                )
                always -= set(sources)
        self._always = frozenset(always)

    @property
    def active(self) -> bool:
        """Whether any pattern is prefiltered (False: every pattern runs over whole texts)."""
        return self._db is not None

    def scan(self, text: str) -> Hits:
        ends: dict[int, list[int]] = {}
        zones: tuple[tuple[int, int], ...] = ()
        if self._db is not None and text:
            if text.isascii():
                data = text.encode("ascii")
            else:
                data = text.encode("ascii", errors="replace")
                zones = tuple(m.span() for m in _NON_ASCII.finditer(text))

            def on_match(pattern: int, _start: int, end: int, _flags: int, _ctx: Any) -> None:
                ends.setdefault(pattern, []).append(end)

            self._db.scan(data, match_event_handler=on_match)
        return Hits(ends, self._always, zones, text)


def _loosen(source: str) -> str:
    return _LARGE_REPEAT.sub(lambda m: f"{{{m[1]},}}" if int(m[2]) > LARGE_BOUND else m[0], source)


def _hs_flags(hyperscan: Any, flags: int) -> int:
    out = int(hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_ALLOWEMPTY)
    if flags & _IGNORECASE:
        out |= hyperscan.HS_FLAG_CASELESS
    if flags & _MULTILINE:
        out |= hyperscan.HS_FLAG_MULTILINE
    if flags & _DOTALL:
        out |= hyperscan.HS_FLAG_DOTALL
    return out


def _compiles(hyperscan: Any, pattern: str, flags: int) -> bool:
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        db.compile(expressions=[pattern.encode()], ids=[0], elements=1, flags=[flags])
    except hyperscan.error as exc:
        log.debug("pattern not prefiltered (%s): runs over whole texts", str(exc)[:80])
        return False
    return True


def around(
    text: str, spans: Sequence[tuple[int, int]], *, zones: Sequence[tuple[int, int]] = (), margin: int = MARGIN
) -> list[tuple[int, int]]:
    """Merged ranges ``margin`` characters around each span, widened to whitespace so no match is cut.

    Searching ``finditer(text, lo, hi)`` keeps the text before ``lo`` visible to look-behinds and
    ``\\b``; ``hi`` sits on whitespace, where a match's end behaves as it does in the full text.
    """
    n = len(text)
    out: list[tuple[int, int]] = []
    for start, end in sorted([*spans, *zones]):
        lo, hi = max(0, start - margin), min(n, end + margin)
        if out and lo <= out[-1][1]:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], _right(text, hi))
            continue
        floor = out[-1][1] if out else 0
        m = _WS_BACK.search(text, floor, lo)
        lo = m.end() if m is not None else floor
        hi = _right(text, hi)
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _right(text: str, hi: int) -> int:
    m = _WS.search(text, hi)
    return m.start() if m is not None else len(text)
