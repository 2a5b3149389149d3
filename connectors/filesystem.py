"""Any fsspec URL (``memory://``, ``gcs://``, ``http://`` …) through fsspec.

The protocol's package must be installed; a missing one is reported with the
package name fsspec knows for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar, cast

import fsspec
from fsspec.registry import known_implementations

from connectors.base import ListingItem, ListingProblem, SourceObject
from scanner.errors import ConnectorError, SourceNotFoundError, UnsupportedSchemeError


def _protocol(uri: str) -> str:
    return uri.split("://", 1)[0] if "://" in uri else "file"


def filesystem_for(uri: str, **storage_options: Any) -> fsspec.AbstractFileSystem:
    """The fsspec filesystem for ``uri``, or a clear error naming the package to install."""
    protocol = _protocol(uri)
    try:
        return fsspec.filesystem(protocol, **storage_options)
    except (ImportError, ValueError) as exc:
        hint = known_implementations.get(protocol, {}).get("err", "")
        detail = f": {hint}" if hint else ""
        raise UnsupportedSchemeError(f"{uri}: no filesystem for '{protocol}://'{detail}") from exc


class FsspecConnector:
    """The generic connector; S3 and Azure get their own files for tags, versions and retries."""

    schemes: ClassVar[tuple[str, ...]] = ("*",)

    def __init__(self, **storage_options: Any) -> None:
        self._options = storage_options

    def iter_objects(self, root: str) -> Iterator[ListingItem]:
        fs = filesystem_for(root, **self._options)
        protocol = _protocol(root)
        path = fs._strip_protocol(root)
        if not fs.exists(path):
            raise SourceNotFoundError(f"{root}: not found")
        if fs.isfile(path):
            yield self._item(protocol, fs.info(path))
            return
        for _dir, _subdirs, files in fs.walk(path, detail=True):
            for name in sorted(files):
                yield self._item(protocol, cast(dict[str, Any], files[name]))

    @staticmethod
    def _item(protocol: str, info: dict[str, Any]) -> ListingItem:
        name = str(info["name"])
        uri = f"{protocol}://{name.lstrip('/')}"
        if info.get("type") not in ("file", None):
            return ListingProblem(uri, "skipped", f"not a file ({info.get('type')})")
        version = (
            info.get("ETag") or info.get("etag") or info.get("version_id") or info.get("mtime") or info.get("created")
        )
        return SourceObject(uri=uri, size=info.get("size"), version=None if version is None else str(version))

    def open(self, obj: SourceObject) -> BinaryIO:
        fs = filesystem_for(obj.uri, **self._options)
        try:
            return cast(BinaryIO, fs.open(fs._strip_protocol(obj.uri), "rb"))
        except FileNotFoundError as exc:
            raise ConnectorError(f"{obj.uri}: disappeared before it could be read") from exc
