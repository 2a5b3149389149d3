"""Listing: every entry under a root becomes an object or a reasoned problem; globs select."""

from __future__ import annotations

import os
from pathlib import Path

import fsspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wcmatch import glob as wglob

from connectors import ConnectorRegistry, ListingProblem, SourceObject
from connectors.local import LocalConnector, path_from_uri, uri_from_path
from scanner.errors import SourceNotFoundError, UnsupportedSchemeError
from scanner.selection import relative_path, selected


def test_local_listing_reports_what_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("b")
    os.symlink(tmp_path / "loop", tmp_path / "loop")
    os.symlink(tmp_path / "missing", tmp_path / "dangling.txt")
    os.symlink(tmp_path / "sub", tmp_path / "dirlink")
    os.mkfifo(tmp_path / "pipe.txt")
    items = {relative_path(str(tmp_path), i.uri): i for i in LocalConnector().iter_objects(str(tmp_path))}
    assert isinstance(items["a.txt"], SourceObject) and items["a.txt"].size == 1
    assert isinstance(items["sub/b.md"], SourceObject)
    for name, fragment in [
        ("loop", "link"),
        ("dangling.txt", "link"),
        ("dirlink", "directory"),
        ("pipe.txt", "regular file"),
    ]:
        item = items[name]
        assert isinstance(item, ListingProblem) and item.status == "skipped" and fragment in item.reason


def test_single_file_root_and_uri_round_trip(tmp_path: Path) -> None:
    f = tmp_path / "x y.txt"
    f.write_text("x")
    [item] = LocalConnector().iter_objects(uri_from_path(f))
    assert isinstance(item, SourceObject) and path_from_uri(item.uri) == f
    with pytest.raises(SourceNotFoundError):
        list(LocalConnector().iter_objects(str(tmp_path / "nope")))


def test_generic_fsspec_connector_lists_and_reads_memory_urls() -> None:
    fs = fsspec.filesystem("memory")
    fs.pipe("/bucket/docs/a.txt", b"hello")
    fs.pipe("/bucket/docs/deep/b.jsonl", b'{"a": 1}\n')
    connector = ConnectorRegistry().for_uri("memory://bucket/docs")
    items = list(connector.iter_objects("memory://bucket/docs"))
    assert sorted(i.uri for i in items) == ["memory://bucket/docs/a.txt", "memory://bucket/docs/deep/b.jsonl"]
    assert [relative_path("memory://bucket/docs", i.uri) for i in sorted(items, key=lambda i: i.uri)] == [
        "a.txt",
        "deep/b.jsonl",
    ]
    obj = next(i for i in items if i.uri.endswith("a.txt"))
    assert isinstance(obj, SourceObject)
    with connector.open(obj) as fh:
        assert fh.read() == b"hello"


def test_unknown_scheme_names_the_missing_package() -> None:
    with pytest.raises(UnsupportedSchemeError, match="gcs"):
        list(ConnectorRegistry().for_uri("gcs://bucket/x").iter_objects("gcs://bucket/x"))


@pytest.mark.parametrize(
    ("rel", "include", "exclude", "expected"),
    [
        ("a/b/c.jsonl", ["*.jsonl"], [], True),
        ("a/b/c.txt", ["*.jsonl"], [], False),
        ("a/b/c.jsonl", [], ["a/**"], False),
        ("a/.git/config", [], ["**/.git/**"], False),
        ("docs/x.md", ["docs/**/*.md"], [], True),
        ("other/x.md", ["docs/**/*.md"], [], False),
    ],
)
def test_globs(rel: str, include: list[str], exclude: list[str], expected: bool) -> None:
    assert selected(rel, include, exclude) is expected


_SEGMENTS = ["a", "b c", ".git", "x.jsonl", ".DS_Store", "n.ingestguard-label.json", "ü.txt", "d", "x", "b", "c"]
_PATTERNS = [
    "*.jsonl",
    "**/.git/**",
    "**/.DS_Store",
    "**/*.ingestguard-label.json",
    "a/**",
    "*.txt",
    "b c/*",
    "d",
    "x/**/b/c",
    "?.txt",
    "**/a/*.jsonl",
    "[ab]",
    "*/x*",
]


@settings(max_examples=300, deadline=None)
@given(
    rel=st.lists(st.sampled_from(_SEGMENTS), min_size=1, max_size=4).map("/".join),
    include=st.lists(st.sampled_from(_PATTERNS), max_size=3),
    exclude=st.lists(st.sampled_from(_PATTERNS), max_size=3),
)
def test_compiled_globs_select_what_wcmatch_selects(rel: str, include: list[str], exclude: list[str]) -> None:
    """Patterns are compiled once and checked for their literal text before their regular expression;
    an object is selected exactly when wcmatch's own matching, pattern by pattern, would select it."""
    flags = wglob.GLOBSTAR | wglob.DOTGLOB

    def one(pattern: str) -> bool:
        target = rel if "/" in pattern else rel.rsplit("/", 1)[-1]
        return bool(wglob.globmatch(target, pattern, flags=flags))

    expected = (not include or any(one(p) for p in include)) and not any(one(p) for p in exclude)
    assert selected(rel, include, exclude) is expected
