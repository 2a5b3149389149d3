"""Include/exclude globs, matched against an object's path relative to its source root.

A pattern without a slash matches the file name at any depth (``*.jsonl``);
a pattern with one matches the relative path, ``**`` spanning directories.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from wcmatch import glob as wglob

_FLAGS = wglob.GLOBSTAR | wglob.DOTGLOB


@functools.lru_cache(maxsize=64)
def _root_uri(root: str) -> str:
    """``file://`` URI of a local root directory, with a trailing slash (its objects' URIs start with it)."""
    from connectors.local import path_from_uri, uri_from_path

    return uri_from_path(path_from_uri(root)).rstrip("/") + "/"


def relative_path(root: str, uri: str) -> str:
    """``uri``'s path below ``root`` (the name alone when ``root`` is the object itself)."""
    from connectors.local import path_from_uri

    if "://" not in root or root.startswith("file://"):
        prefix = _root_uri(root)
        if uri.startswith(prefix):  # the common case, without building paths
            return unquote(uri[len(prefix) :])
        base, target = path_from_uri(root), path_from_uri(uri)
        try:
            rel = target.relative_to(base).as_posix()
        except ValueError:
            rel = target.name
        return rel if rel not in ("", ".") else target.name
    root_path = root.split("://", 1)[1].strip("/")
    uri_path = uri.split("://", 1)[1].lstrip("/") if "://" in uri else uri.lstrip("/")
    prefix = root_path + "/"
    rel = uri_path[len(prefix) :] if uri_path.startswith(prefix) else uri_path.rsplit("/", 1)[-1]
    return unquote(rel)


@dataclass(frozen=True, slots=True)
class _Glob:
    on_path: bool  # matched against the relative path (else the file name)
    literals: tuple[str, ...]  # text any match must contain: checked before the regular expression
    regex: re.Pattern[str]


def _literals(pattern: str) -> tuple[str, ...]:
    """The runs of plain characters between wildcards, without the slashes ``**`` may swallow
    (``**/.git/**`` needs ``.git``); none for patterns with escapes or classes."""
    if "\\" in pattern or "[" in pattern:
        return ()
    return tuple(run.strip("/") for run in re.split(r"[*?]+", pattern) if run.strip("/"))


@functools.lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str] | None, tuple[_Glob, ...]]:
    """Each pattern as wcmatch translates it, compiled once (per object, wcmatch's own matching cost
    more than listing the object), and a gate: one search for any pattern's longest literal, which
    must be in the path for any of them to match (None when a pattern has no literal)."""
    globs = []
    for pattern in patterns:
        positive, _ = wglob.translate(pattern, flags=_FLAGS)
        globs.append(_Glob("/" in pattern, _literals(pattern), re.compile("|".join(positive))))
    gate = None
    if globs and all(g.literals for g in globs):
        gate = re.compile("|".join(re.escape(max(g.literals, key=len)) for g in globs))
    return gate, tuple(globs)


def _any(rel: str, patterns: Sequence[str]) -> bool:
    gate, globs = _compiled(tuple(patterns))
    if gate is not None and gate.search(rel) is None:
        return False
    name = rel.rsplit("/", 1)[-1]
    for glob in globs:
        target = rel if glob.on_path else name
        if all(lit in target for lit in glob.literals) and glob.regex.match(target):
            return True
    return False


def selected(rel: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    if include and not _any(rel, include):
        return False
    return not (exclude and _any(rel, exclude))
