"""Include/exclude globs, matched against an object's path relative to its source root.

A pattern without a slash matches the file name at any depth (``*.jsonl``);
a pattern with one matches the relative path, ``**`` spanning directories.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
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


@functools.lru_cache(maxsize=64)
def _matchers(patterns: tuple[str, ...]) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """One regular expression for the patterns on the file name, one for those on the relative path
    (wcmatch's translation, joined: matching pattern by pattern per object cost more than listing it)."""

    def joined(group: list[str]) -> re.Pattern[str] | None:
        if not group:
            return None
        positive, _ = wglob.translate(group, flags=_FLAGS)
        return re.compile("|".join(f"(?:{p})" for p in positive))

    return joined([p for p in patterns if "/" not in p]), joined([p for p in patterns if "/" in p])


def _any(rel: str, patterns: Sequence[str]) -> bool:
    names, paths = _matchers(tuple(patterns))
    return bool((names is not None and names.match(rel.rsplit("/", 1)[-1])) or (paths is not None and paths.match(rel)))


def selected(rel: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    if include and not _any(rel, include):
        return False
    return not (exclude and _any(rel, exclude))
