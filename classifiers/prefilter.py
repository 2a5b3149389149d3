"""One pass over a text for many regexes at once, then exact matching only where a match can be.

Running each of dozens of recognizer regexes over every character costs more
than all the validation after it. :class:`Prefilter` compiles every pattern
into one Hyperscan database in *prefilter mode*: Hyperscan approximates each
pattern by a superset it can run (lookarounds and back-references dropped) and
reports every offset where the approximation ends a match. Every true match of
the original pattern ends at one of those offsets, so running the exact
pattern in a window around each reported end finds exactly the matches a full
scan finds (a property test checks it against the full scan).

The text is handed to Hyperscan as one byte per character, which keeps offsets
equal to ``str`` offsets. A non-ASCII character becomes an ASCII stand-in of the
same kind to both regex engines: ``a`` for a letter, ``0`` for a decimal digit,
a space for whitespace, DEL for anything else that is neither a word character
nor a space. For a pattern whose negated classes name none of these stand-ins
(most of them), every match in the text is then a match of the prefilter's
approximation in the stand-in text: a class that accepts the character accepts
its stand-in, and ``\\b`` sees the same word boundaries.
Characters that have no such stand-in (those that case-fold to ASCII, like the
Kelvin sign; those ``re`` and ``regex`` classify differently; the ASCII
separators ``\\x1c``–``\\x1f``, which are ``\\s`` to ``re`` but not to Hyperscan), and
every non-ASCII character for the other patterns, are *zones*: around them the
exact pattern runs unconditionally.

Without Hyperscan (not installed, an unsupported CPU) or for a pattern it
cannot compile, the pattern runs over the whole text: slower, never different.

Compiling the databases is most of a worker's start-up, so each compiled one is kept in the user's
cache (``~/.cache/ingestguard/hyperscan``, see :mod:`scanner.usercache`) under a hash of everything
it depends on; a later process with the same patterns loads it instead (see :func:`_cached_database`).
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import functools
import hashlib
import importlib
import logging
import os
import platform
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import regex

from scanner.usercache import cache_dir

log = logging.getLogger(__name__)

#: Python's own regex parser, to judge which patterns the stand-ins serve (see :func:`_stand_ins_serve`).
_RE_PARSER: Any = importlib.import_module("re._parser")
_RE_CONSTANTS: Any = importlib.import_module("re._constants")
_CATEGORIES = frozenset(
    getattr(_RE_CONSTANTS, f"CATEGORY_{name}")
    for name in ("DIGIT", "NOT_DIGIT", "SPACE", "NOT_SPACE", "WORD", "NOT_WORD")
)

#: Characters kept on each side of a reported match end when the exact pattern runs (then widened
#: to whitespace): longer than any match that contains whitespace.
MARGIN = 64
#: Python ``re``/``regex`` flags Hyperscan understands.
_IGNORECASE, _MULTILINE, _DOTALL, _VERBOSE = 2, 8, 16, 64
#: Characters Hyperscan may not read as the exact engines do: non-ASCII, and the separators ``\\x1c``–``\\x1f``.
_NON_ASCII = re.compile(r"[^\x00-\x1b\x20-\x7f]+")
_SEPARATORS = "\x1c\x1d\x1e\x1f"
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


@dataclass(slots=True)
class Hits:
    """Where each pattern may match in one text: ``spans(i)`` lists ``(lo, hi)`` ranges to search,
    ``None`` meaning the whole text."""

    _ends: dict[int, list[int]]
    _always: frozenset[int]
    _zones: tuple[tuple[int, int], ...]  # every run of non-ASCII characters (and ASCII separators)
    _text: str
    #: Patterns the stand-ins serve; they need only the ``_hard`` zones.
    _stand_in: frozenset[int] = frozenset()
    #: Runs of characters without a stand-in.
    _hard: tuple[tuple[int, int], ...] = ()
    #: The windows around the zones alone (by id of the zone tuple), shared by patterns with no reported end.
    _zone_spans: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    def _zones_for(self, index: int) -> tuple[tuple[int, int], ...]:
        return self._hard if index in self._stand_in else self._zones

    def spans(self, index: int) -> list[tuple[int, int]] | None:
        if index in self._always:
            return None
        ends = self._ends.get(index)
        zones = self._zones_for(index)
        if not ends:
            if not zones:
                return []
            cached = self._zone_spans.get(id(zones))
            if cached is None:
                cached = self._zone_spans[id(zones)] = around(self._text, [], zones=zones)
            return list(cached)
        return around(self._text, [(e, e) for e in ends], zones=zones)

    def ends(self, index: int) -> list[int] | None:
        """Offsets where the pattern may end a match (None: look everywhere). Zones are reported as
        the ends of their characters, so callers that work from ends see them too."""
        if index in self._always:
            return None
        out = list(self._ends.get(index, ()))
        for lo, hi in self._zones_for(index):
            out.extend(range(lo + 1, hi + 1))
        return out

    def candidates(self, count: int) -> list[int]:
        """The indexes below ``count`` whose pattern may match, ascending (``any`` for each, in one go)."""
        out = set(self._ends) | self._always
        if self._hard:
            return list(range(count))
        if self._zones:
            out.update(i for i in range(count) if i not in self._stand_in)
        return sorted(i for i in out if i < count)

    def any(self, index: int) -> bool:
        """Whether the pattern can match anywhere (cheap: no windows built)."""
        return index in self._always or bool(self._ends.get(index)) or bool(self._zones_for(index))


class Prefilter:
    """Many regexes, one scan.

    ``patterns`` are regex sources or compiled patterns (their own flags apply); ``None`` marks a
    pattern that always runs over the whole text. ``flags`` (Python regex flags: IGNORECASE,
    MULTILINE, DOTALL) apply to the sources given as strings.
    """

    def __init__(self, patterns: Sequence[str | Pattern | None], *, flags: int = 0) -> None:
        self._count = len(patterns)
        #: What Hyperscan is given: pattern index → (expression, Hyperscan flags).
        self._candidates: dict[int, tuple[str, int]] = {}
        self._served: set[int] = set()
        self._always = frozenset(range(self._count))
        self._stand_in: frozenset[int] = frozenset()
        self._shared: _SharedScan | None = None
        self._index = 0
        self._pending: _Pending | None = None
        try:
            import hyperscan
        except ImportError:  # pragma: no cover - exercised where the wheel is missing
            log.info("hyperscan not installed: patterns run over whole texts")
            return
        for i, p in enumerate(patterns):
            if p is None:
                continue
            source, own = (p, flags) if isinstance(p, str) else (p.pattern, p.flags)
            hs_flags = _hs_flags(hyperscan, own)
            if own & _VERBOSE:
                continue
            if not isinstance(source, str):
                continue
            served = _stand_ins_serve(source, own)
            ascii_source = _loosen(source) if source.isascii() else _ascii_form(source) if served else None
            if ascii_source is not None:
                self._candidates[i] = (ascii_source, hs_flags)
                if served:
                    self._served.add(i)
        if not self._candidates:
            return
        stack: list[_Pending] | None = getattr(_GROUPS, "stack", None)
        if stack:
            self._pending = stack[-1]
            stack[-1].members.append(self)
        else:
            _compile([self])

    @property
    def active(self) -> bool:
        """Whether any pattern is prefiltered (False: every pattern runs over whole texts)."""
        self._ready()
        return self._shared is not None

    def _ready(self) -> None:
        if self._pending is not None:
            self._pending.flush()

    def scan(self, text: str) -> Hits:
        self._ready()
        shared = self._shared
        if shared is None or not text:
            return Hits({}, self._always, (), text, self._stand_in, ())
        zones, hard, ends = shared.scan(text)
        return Hits(ends[self._index], self._always, zones, text, self._stand_in, hard)


class _Pending:
    """Prefilters built inside one :func:`compiled_together` block, not compiled yet."""

    __slots__ = ("members",)

    def __init__(self) -> None:
        self.members: list[Prefilter] = []

    def flush(self) -> None:
        members, self.members = self.members, []
        for m in members:
            m._pending = None
        if members:
            _compile(members)


_GROUPS = threading.local()


@contextlib.contextmanager
def compiled_together() -> Iterator[None]:
    """Prefilters built inside the block compile into one Hyperscan database when it ends, and a text
    they are all asked about is scanned once for all of them (a classifier set's six prefilters: one
    scan per window instead of six). Each still gets exactly the hits it would get alone."""
    stack: list[_Pending] | None = getattr(_GROUPS, "stack", None)
    if stack is None:
        stack = _GROUPS.stack = []
    pending = _Pending()
    stack.append(pending)
    try:
        yield
    finally:
        stack.remove(pending)
        pending.flush()


def _compile(members: Sequence[Prefilter]) -> None:
    """One database for every member's candidate patterns (ids offset per member), shared by them."""
    import hyperscan

    offsets: list[int] = []
    merged: dict[int, tuple[str, int]] = {}
    base = 0
    for m in members:
        offsets.append(base)
        merged.update((base + i, c) for i, c in m._candidates.items())
        base += m._count
    db, sources = _cached_database(hyperscan, merged)
    shared = _SharedScan(db, offsets) if db is not None else None
    for k, m in enumerate(members):
        lo, hi = offsets[k], offsets[k] + m._count
        compiled = {i - lo for i in sources if lo <= i < hi} if shared is not None else set()
        m._always = frozenset(set(range(m._count)) - compiled)
        m._stand_in = frozenset(m._served & compiled)
        m._shared = shared if compiled else None
        m._index = k


class _SharedScan:
    """One database scanned once per text for all its members; the last text's results are kept."""

    __slots__ = ("_db", "_last", "_offsets")

    def __init__(self, db: Any, offsets: list[int]) -> None:
        self._db = db
        self._offsets = offsets
        #: (text, (zones, hard runs, each member's ends)); the text is held, so ``is`` cannot mistake
        #: another string for it. Replaced in one assignment, so a reader sees a consistent pair.
        self._last: tuple[str, tuple[Any, Any, list[dict[int, list[int]]]]] | None = None

    def scan(
        self, text: str
    ) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...], list[dict[int, list[int]]]]:
        last = self._last
        if last is not None and last[0] is text:
            return last[1]
        zones: tuple[tuple[int, int], ...] = ()
        hard: tuple[tuple[int, int], ...] = ()
        separated = any(sep in text for sep in _SEPARATORS)  # four memchr scans: cheaper than one regex
        if text.isascii():
            data = text.encode("ascii")
            if separated:
                zones = hard = tuple(m.span() for m in _NON_ASCII.finditer(text))
        else:
            runs: list[tuple[int, int]] = []
            _RUNS.found = runs
            data = text.encode("ascii", _ERRORS)
            if separated:
                runs = [m.span() for m in _NON_ASCII.finditer(text)]
            zones = tuple(runs)
            hard = _hard_runs(text, zones)
        found: dict[int, list[int]] = {}

        def on_match(pattern: int, _start: int, end: int, _flags: int, _ctx: Any) -> None:
            found.setdefault(pattern, []).append(end)

        self._db.scan(data, match_event_handler=on_match)
        ends: list[dict[int, list[int]]] = [{} for _ in self._offsets]
        offsets = self._offsets
        for pattern, at in found.items():
            k = bisect.bisect_right(offsets, pattern) - 1
            ends[k][pattern - offsets[k]] = at
        result = (zones, hard, ends)
        self._last = (text, result)
        return result


#: The stand-in of a character that is neither a word character nor whitespace (and what characters without
#: a stand-in become): DEL, which no pattern names, so a negated class that accepts the character accepts it too.
_OTHER = "\x7f"
#: Every stand-in; a negated class may name none of them (see :func:`_served`).
_STAND_INS = ("a", "0", " ", _OTHER)


@functools.cache
def stand_in(ch: str) -> str | None:
    """The ASCII character Hyperscan reads for ``ch``: of the same kind to ``re`` and to ``regex``
    (word, decimal digit, whitespace, or none of them), or None when there is none."""
    if ch.isascii():
        return ch if ord(ch) not in range(0x1C, 0x20) else None
    if any(c.isascii() for c in ch.lower() + ch.upper() + ch.casefold()):
        return None  # case-folds to ASCII (the Kelvin sign, long s, dotless i): IGNORECASE would see it
    kinds = [
        (ch.isalnum() or ch == "_", bool(regex.match(r"\w", ch))),
        (unicodedata.category(ch) == "Nd", bool(regex.match(r"\d", ch)), bool(re.match(r"\d", ch))),
        (ch.isspace(), bool(regex.match(r"\s", ch)), bool(re.match(r"\s", ch))),
    ]
    if any(len(set(k)) > 1 for k in kinds):
        return None  # the engines disagree
    word, digit, space = (k[0] for k in kinds)
    if digit:
        return "0"
    if word:
        return "a"
    return " " if space else _OTHER


def _ascii_form(source: str) -> str | None:
    """``source`` with each non-ASCII character replaced by its stand-in (DEL when it has none, as in the
    text Hyperscan reads), so a pattern with accented words is prefiltered too; None when a non-ASCII
    character bounds a class range (``[à-ÿ]``), which stand-ins cannot keep."""
    if regex.search(r"[^\x00-\x7f]-[^\]]|[^\\\[]-[^\x00-\x7f]", source):
        return None
    return _loosen("".join(ch if ch.isascii() else _source_char(stand_in(ch) or _OTHER) for ch in source))


def _source_char(ch: str) -> str:
    return "\\x7f" if ch == _OTHER else re.escape(ch)


def _hard_runs(text: str, runs: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """The runs of characters without a stand-in, inside the zones ``runs``."""
    out: list[tuple[int, int]] = []
    for lo, hi in runs:
        for i in range(lo, hi):
            if stand_in(text[i]) is None:
                if out and out[-1][1] == i:
                    out[-1] = (out[-1][0], i + 1)
                else:
                    out.append((i, i + 1))
    return tuple(out)


#: Where the ``ascii`` codec's error handler records the runs it replaced (one list per thread).
_RUNS = threading.local()
_ERRORS = "ingestguard-stand-in"


def _replace_with_stand_ins(exc: UnicodeError) -> tuple[str, int]:
    """Encoding error handler: a run of non-ASCII characters becomes their stand-ins, and is recorded."""
    if not isinstance(exc, UnicodeEncodeError):  # pragma: no cover - registered for encoding only
        raise exc
    _RUNS.found.append((exc.start, exc.end))
    return "".join(stand_in(ch) or _OTHER for ch in exc.object[exc.start : exc.end]), exc.end


codecs.register_error(_ERRORS, _replace_with_stand_ins)


def _stand_ins_serve(source: str, flags: int) -> bool:
    """Whether every negated class of the pattern accepts a stand-in whenever it accepts a character the
    stand-in stands for: a negated class may hold ``\\w``/``\\d``/``\\s`` (a character and its stand-in are
    of the same kind) but no stand-in itself, in any case.

    Judged on Python's ``re`` parse of the source; a pattern ``re`` cannot parse is not served.
    """
    try:
        tree = _RE_PARSER.parse(source, flags & (_IGNORECASE | _MULTILINE | _DOTALL | _VERBOSE))
    except (re.error, OverflowError, RecursionError, ValueError):  # syntax only ``regex`` knows: judged unsafe
        return False
    return _served(tree)


def _names_a_stand_in(lo: int, hi: int) -> bool:
    return any(lo <= ord(form) <= hi for r in _STAND_INS for form in {r, r.upper()})


def _served(items: Any) -> bool:
    c = _RE_CONSTANTS
    for op, av in items:
        if op is c.GROUPREF_EXISTS or (op is c.NOT_LITERAL and _names_a_stand_in(av, av)):
            return False
        if op is c.IN and av and av[0][0] is c.NEGATE:
            for kind, arg in av[1:]:
                if kind is c.CATEGORY and arg in _CATEGORIES:
                    continue
                if kind is c.LITERAL and not _names_a_stand_in(arg, arg):
                    continue
                if kind is c.RANGE and not _names_a_stand_in(*arg):
                    continue
                return False
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            if not _served(av[2]):
                return False
        elif op is c.SUBPATTERN:
            if not _served(av[3]):
                return False
        elif op is c.BRANCH:
            if not all(_served(branch) for branch in av[1]):
                return False
        elif op is c.ATOMIC_GROUP and not _served(av):
            return False
        # ASSERT / ASSERT_NOT: Hyperscan's approximation drops look-arounds, so what they hold is moot.
    return True


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


def _build(hyperscan: Any, candidates: dict[int, tuple[str, int]]) -> tuple[Any, dict[int, tuple[str, int]]]:
    """The database of the candidates Hyperscan can compile (None if none), and those candidates.

    All at once first; only when that fails is each pattern tried on its own, to leave out the ones
    Hyperscan cannot take (a third of a worker's start-up went to those trials).
    """
    db = _database(hyperscan, candidates)
    if db is not None or not candidates:
        return db, candidates
    sources = {i: c for i, c in candidates.items() if _compiles(hyperscan, *c)}
    return _database(hyperscan, sources), sources


def _compile_args(sources: dict[int, tuple[str, int]]) -> tuple[list[bytes], list[int], list[int]]:
    """Expressions, ids and flags as ``Database.compile`` takes them (and the cache key hashes them)."""
    return [s.encode() for s, _ in sources.values()], list(sources), [f for _, f in sources.values()]


def _database(hyperscan: Any, sources: dict[int, tuple[str, int]]) -> Any:
    """One block-mode database of ``sources`` (id → (expression, flags)), or None if it does not compile."""
    if not sources:
        return None
    expressions, ids, flags = _compile_args(sources)
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        db.compile(expressions=expressions, ids=ids, elements=len(ids), flags=flags)
    except hyperscan.error:
        return None
    return db


def _compiles(hyperscan: Any, pattern: str, flags: int) -> bool:
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        db.compile(expressions=[pattern.encode()], ids=[0], elements=1, flags=[flags])
    except hyperscan.error as exc:
        log.debug("pattern not prefiltered (%s): runs over whole texts", str(exc)[:80])
        return False
    return True


# --- compiled databases kept between processes ----------------------------------------------------

#: What a cache file's first line starts with; a new layout takes a new tag, so no file of an old one is read.
_CACHE_TAG = b"ingestguard-hyperscan-1"


def _cached_database(hyperscan: Any, candidates: dict[int, tuple[str, int]]) -> tuple[Any, dict[int, tuple[str, int]]]:
    """:func:`_build` through the user's cache: compiling the databases took about 1 s of CPU of every
    worker's start-up, loading one a process on this machine compiled before takes milliseconds.

    A file is named by a hash of the candidates and of everything else the database depends on (see
    :func:`_cache_key`), and holds the database with the ids that made it in, so a set that needed the
    one-by-one trials skips them too. Whatever goes wrong with the cache, the database is compiled as
    if there were none.
    """
    target = _target(hyperscan) if candidates else None
    directory = cache_dir("hyperscan") if target is not None else None
    if target is None or directory is None:
        return _build(hyperscan, candidates)
    path = directory / f"{_cache_key(hyperscan, target, candidates)}.hsdb"
    loaded = _load(hyperscan, path, target, candidates)
    if loaded is not None:
        return loaded
    db, sources = _build(hyperscan, candidates)
    if db is not None:
        _store(hyperscan, path, db, sources)
    return db, sources


@functools.cache
def _target(hyperscan: Any) -> bytes | None:
    """What this process's Hyperscan builds databases for, as ``Database.info`` reports it (library
    version, CPU features, mode) for a one-pattern database; None if even that does not compile."""
    probe = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        probe.compile(expressions=[b"a"], ids=[0], elements=1, flags=[0])
        info = probe.info()
    except hyperscan.error:
        return None
    return info if isinstance(info, bytes) else str(info).encode()


def _cache_key(hyperscan: Any, target: bytes, candidates: dict[int, tuple[str, int]]) -> str:
    """SHA-256 of every (id, expression, flags) exactly as ``Database.compile`` gets them, the mode,
    the package and library that compile, and the machine; each field length-prefixed, so no two
    different pattern sets hash the same bytes."""
    expressions, ids, flags = _compile_args(candidates)
    fields: list[bytes] = [
        _CACHE_TAG,
        str(hyperscan.HS_MODE_BLOCK).encode(),
        str(getattr(hyperscan, "__version__", "")).encode(),
        target,
        platform.machine().encode(),
    ]
    for i, expression, f in zip(ids, expressions, flags, strict=True):
        fields += [str(i).encode(), expression, str(f).encode()]
    digest = hashlib.sha256()
    for data in fields:
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def _load(
    hyperscan: Any, path: Path, target: bytes, candidates: dict[int, tuple[str, int]]
) -> tuple[Any, dict[int, tuple[str, int]]] | None:
    """The database kept at ``path`` and the candidates it holds, ready to scan; None when there is no
    such file or it cannot be trusted (then the caller compiles and overwrites it).

    The file is ``<tag> <sha256 of the database> <ids>`` on one line, then what ``hyperscan.dumpb``
    wrote. The checksum catches a damaged file before ``loadb`` reads it; a database built for another
    library or CPU is refused by ``loadb`` or by comparing its ``info()`` with :func:`_target`.
    """
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.debug("Hyperscan cache not read (%s): compiling", exc)
        return None
    try:
        header, _, body = blob.partition(b"\n")
        tag, checksum, listed = header.split(b" ")
        if tag != _CACHE_TAG or hashlib.sha256(body).hexdigest().encode() != checksum:
            raise ValueError("not a database this version wrote, or damaged")
        ids = [int(i) for i in listed.split(b",")]
        if not set(ids) <= candidates.keys():
            raise ValueError("ids that are not among the patterns")
        # ``loadb(buf, mode)``; the older ``loadb(buf, create_scratch)`` reads the mode as a yes.
        db = hyperscan.loadb(body, hyperscan.HS_MODE_BLOCK)
        if db.info() != target:
            raise ValueError("built for another Hyperscan library or CPU")
        # ``compile`` gives a database its scratch space; python-hyperscan 0.9's ``loadb`` leaves
        # ``scratch`` None, and scanning then reads None as scratch space (an error, at best).
        if not isinstance(getattr(db, "scratch", None), hyperscan.Scratch):
            db.scratch = hyperscan.Scratch(db)
        db.scan(b"", match_event_handler=_ignore)
    except Exception as exc:  # whatever loading raises, compiling gives the database: a cache never fails a start
        log.info("cached Hyperscan database %s not used (%s): compiling", path.name, exc)
        return None
    log.debug("Hyperscan database loaded from %s", path)
    return db, {i: candidates[i] for i in ids}


def _ignore(*_args: Any) -> None:
    return None


def _store(hyperscan: Any, path: Path, db: Any, sources: dict[int, tuple[str, int]]) -> None:
    """Keep ``db`` at ``path`` for later processes: written to a temporary file beside it, then renamed
    over it, so a reader (another worker starting at the same moment) sees a whole file or none.
    Nothing is fsynced: a file a crash left short fails its checksum and is compiled again."""
    tmp: str | None = None
    try:
        body = hyperscan.dumpb(db)
        ids = ",".join(str(i) for i in sources).encode()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".partial")
        with os.fdopen(fd, "wb") as handle:
            handle.write(b" ".join([_CACHE_TAG, hashlib.sha256(body).hexdigest().encode(), ids]) + b"\n" + body)
        os.replace(tmp, path)
        tmp = None
    except Exception as exc:  # no cache is only a slower next start (a read-only or full disk, ...)
        log.debug("Hyperscan database not cached (%s)", exc)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


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
