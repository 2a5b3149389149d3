"""Connectors: one per storage back-end, chosen by URL scheme."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from connectors.base import Connector, ListingItem, ListingProblem, SourceObject
from scanner.errors import UnsupportedSchemeError

__all__ = ["Connector", "ConnectorRegistry", "ListingItem", "ListingProblem", "SourceObject", "scheme_of"]


def scheme_of(uri: str) -> str:
    """``s3://b/k`` → ``s3``; a plain path → ``file``."""
    if "://" in uri:
        return uri.split("://", 1)[0].lower()
    return "file"


def _local() -> Connector:
    from connectors.local import LocalConnector

    return LocalConnector()


def _s3() -> Connector:
    from connectors.s3 import S3Connector

    return S3Connector()


def _azure() -> Connector:
    from connectors.azure_blob import AzureBlobConnector

    return AzureBlobConnector()


def _generic() -> Connector:
    from connectors.filesystem import FsspecConnector

    return FsspecConnector()


#: Built-in factories by scheme; ``*`` is the fsspec fallback for any other URL.
BUILTIN: Mapping[str, Callable[[], Connector]] = MappingProxyType(
    {"file": _local, "s3": _s3, "s3a": _s3, "az": _azure, "abfs": _azure, "abfss": _azure, "*": _generic}
)


class ConnectorRegistry:
    """Connectors by scheme, built lazily once per process and reused."""

    def __init__(self, factories: Mapping[str, Callable[[], Connector]] = BUILTIN) -> None:
        self._factories = dict(factories)
        self._built: dict[str, Connector] = {}

    def register(self, scheme: str, factory: Callable[[], Connector], *, clobber: bool = False) -> None:
        """Add a connector for ``scheme``; an existing one is kept unless ``clobber``."""
        if scheme in self._factories and not clobber:
            raise ValueError(f"a connector for '{scheme}' is already registered")
        self._factories[scheme] = factory

    def for_uri(self, uri: str) -> Connector:
        scheme = scheme_of(uri)
        if scheme == "https" and ".blob.core." in uri.split("/", 3)[2]:
            scheme = "az"  # https://ACCOUNT.blob.core.windows.net/… is Azure Blob Storage
        key = scheme if scheme in self._factories else "*"
        if key not in self._factories:
            raise UnsupportedSchemeError(f"{uri}: no connector for '{scheme}://'")
        if key not in self._built:
            self._built[key] = self._factories[key]()
        return self._built[key]
