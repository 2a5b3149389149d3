"""Compiled Hyperscan databases kept in the user's cache: a later process loads instead of compiling,
finds exactly what a compiled database finds, and a cache that is damaged, unwritable or switched off
only means compiling."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from classifiers import prefilter
from classifiers.prefilter import Pattern, Prefilter

pytest.importorskip("hyperscan")

PATTERNS: list[str | Pattern | None] = [
    r"\b[\w.+-]+@[\w-]+\.[a-z]{2,}\b",
    re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)"),
    None,
    re.compile(r"confidential|internal use only", re.IGNORECASE),
    r"straße \d+",
]
TEXTS = [
    "jane.doe@example.org wrote to j@x.io",
    "SSN 078-05-1120, not 1078-05-11201",
    "Strictly CONFIDENTIAL — Internal Use Only",
    "Hauptstraße 5, Zürich",
    "nothing to see here",
    "",
]


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh cache home for each test (never the user's), with caching switched on."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("INGESTGUARD_NO_CACHE", raising=False)
    return tmp_path / "cache" / "ingestguard" / "hyperscan"


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[dict[int, Any]]:
    """The candidate sets compiled (not loaded) from here on, one entry per compile."""
    seen: list[dict[int, Any]] = []
    real = prefilter._build

    def counted(hyperscan: Any, candidates: dict[int, tuple[str, int]]) -> Any:
        seen.append(candidates)
        return real(hyperscan, candidates)

    monkeypatch.setattr(prefilter, "_build", counted)
    return seen


def _found(pf: Prefilter, count: int) -> list[list[tuple[Any, Any]]]:
    """Every text's windows and match ends for every pattern."""
    out = []
    for text in TEXTS:
        hits = pf.scan(text)
        out.append([(hits.spans(i), hits.ends(i)) for i in range(count)])
    return out


def _uncached(patterns: Sequence[str | Pattern | None], monkeypatch: pytest.MonkeyPatch) -> Prefilter:
    with monkeypatch.context() as m:
        m.setenv("INGESTGUARD_NO_CACHE", "1")
        return Prefilter(patterns)


def test_a_second_prefilter_loads_the_database_and_finds_the_same(
    cache: Path, builds: list[dict[int, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Prefilter(PATTERNS)
    assert len(builds) == 1 and len(list(cache.glob("*.hsdb"))) == 1
    monkeypatch.setattr(prefilter, "_database", _no_compiling)
    monkeypatch.setattr(prefilter, "_compiles", _no_compiling)
    second = Prefilter(PATTERNS)
    assert len(builds) == 1  # loaded, not compiled
    assert second.active and second._always == first._always == {2}
    assert second._stand_in == first._stand_in
    expected = _found(first, len(PATTERNS))
    assert _found(second, len(PATTERNS)) == expected
    assert any(ends for text in expected for _, ends in text)  # the texts do hit
    monkeypatch.undo()
    assert _found(_uncached(PATTERNS, monkeypatch), len(PATTERNS)) == expected


def _no_compiling(*_args: Any) -> Any:
    raise AssertionError("compiled although the database is cached")


def _garbage_with_checksum(blob: bytes) -> bytes:
    """A well-formed header whose checksum matches, over bytes ``loadb`` must refuse."""
    header = blob.partition(b"\n")[0]
    tag, _, ids = header.split(b" ")
    body = b"not a hyperscan database"
    return b" ".join([tag, prefilter.hashlib.sha256(body).hexdigest().encode(), ids]) + b"\n" + body


DAMAGE = {
    "empty": lambda blob: b"",
    "truncated": lambda blob: blob[: len(blob) // 2],
    "flipped byte": lambda blob: blob[:-100] + bytes([blob[-100] ^ 0xFF]) + blob[-99:],
    "other tag": lambda blob: blob.replace(prefilter._CACHE_TAG, b"ingestguard-hyperscan-0", 1),
    "foreign ids": lambda blob: blob.replace(b" 0,1,3,4\n", b" 0,1,3,9\n", 1),
    "garbage loadb refuses": _garbage_with_checksum,
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_cache_file_is_compiled_again_and_replaced(
    damage: str, cache: Path, builds: list[dict[int, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    expected = _found(Prefilter(PATTERNS), len(PATTERNS))
    [path] = cache.glob("*.hsdb")
    good = path.read_bytes()
    assert b" 0,1,3,4\n" in good
    path.write_bytes(DAMAGE[damage](good))
    with caplog.at_level("INFO", logger=prefilter.__name__):
        again = Prefilter(PATTERNS)
    assert len(builds) == 2  # compiled again
    assert "not used" in caplog.text
    assert again.active and _found(again, len(PATTERNS)) == expected
    assert path.read_bytes().partition(b"\n")[0] == good.partition(b"\n")[0]  # overwritten with a good one
    Prefilter(PATTERNS)
    assert len(builds) == 2  # and that one loads


def test_different_patterns_get_different_cache_files(cache: Path, builds: list[dict[int, Any]]) -> None:
    Prefilter(PATTERNS)
    Prefilter(PATTERNS[:-1])  # one pattern fewer
    Prefilter([PATTERNS[1], PATTERNS[0]])  # the same two, other ids
    Prefilter(["abc"])
    Prefilter(["abc"], flags=re.IGNORECASE)  # same expression, other flags
    Prefilter(["abd"])
    assert len(builds) == 6
    assert len(list(cache.glob("*.hsdb"))) == 6
    hits = Prefilter(["abc"], flags=re.IGNORECASE).scan("xx ABC")
    assert len(builds) == 6 and hits.ends(0) == [6]
    assert Prefilter(["abc"]).scan("xx ABC").ends(0) == []


def test_a_set_that_needs_the_one_by_one_trials_is_cached_too(
    builds: list[dict[int, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    patterns: list[str | Pattern | None] = [r"\Ga", "abc", "x+y"]  # \G: Hyperscan has no such anchor
    first = Prefilter(patterns)
    assert first.active and first._always == {0}
    monkeypatch.setattr(prefilter, "_database", _no_compiling)
    monkeypatch.setattr(prefilter, "_compiles", _no_compiling)
    second = Prefilter(patterns)
    assert len(builds) == 1 and second._always == {0}
    for text in ("a abc", "xxy and abc", "nothing"):
        one, two = first.scan(text), second.scan(text)
        assert [(one.spans(i), one.ends(i)) for i in range(3)] == [(two.spans(i), two.ends(i)) for i in range(3)]


def _mkstemp_refused(*_args: Any, **_kwargs: Any) -> Any:
    raise PermissionError(13, "Permission denied")


@pytest.mark.parametrize("how", ["home is a file", "folder refuses writes"])
def test_an_unwritable_cache_only_means_compiling(
    how: str, tmp_path: Path, builds: list[dict[int, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    if how == "home is a file":
        (tmp_path / "not-a-dir").write_text("")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-dir"))
    else:  # a chmod would not stop root, so the write itself is refused
        monkeypatch.setattr(prefilter.tempfile, "mkstemp", _mkstemp_refused)
    expected = _found(_uncached(PATTERNS, monkeypatch), len(PATTERNS))
    for _ in range(2):
        pf = Prefilter(PATTERNS)
        assert pf.active and _found(pf, len(PATTERNS)) == expected
    assert len(builds) == 3  # every one compiled
    assert not list(tmp_path.rglob("*.hsdb")) and not list(tmp_path.rglob("*.partial"))


def test_ingestguard_no_cache_switches_it_off(
    cache: Path, builds: list[dict[int, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    Prefilter(PATTERNS)
    monkeypatch.setenv("INGESTGUARD_NO_CACHE", "1")
    Prefilter(PATTERNS)
    Prefilter(["abc"])
    assert len(builds) == 3
    assert len(list(cache.glob("*.hsdb"))) == 1  # neither read nor written
