"""The connector protocol: list objects under a root, open one as a binary stream.

A connector needs only :meth:`Connector.iter_objects` and :meth:`Connector.open`;
globbing, progress and retries are built around it once, in the scanner.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, ClassVar, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class SourceObject:
    """One object in a store: a file, a blob, an S3 object.

    ``version`` is whatever the store offers to detect change (ETag, version id,
    or ``mtime:size`` for files); ``metadata`` and ``tags`` are what the object
    already carries, recorded so labels can honour and merge with them.
    """

    uri: str
    size: int | None = None
    version: str | None = None
    last_modified: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The last path segment, used for format detection."""
        return self.uri.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class ListingProblem:
    """Something under a root that could not be listed or is not an object we read.

    It becomes a ``skipped`` or ``failed`` row, so nothing under a root is lost
    without a trace.
    """

    uri: str
    status: str  # "skipped" | "failed"
    reason: str


ListingItem = SourceObject | ListingProblem


@runtime_checkable
class Connector(Protocol):
    """A storage back-end for one or more URL schemes."""

    schemes: ClassVar[tuple[str, ...]]

    def iter_objects(self, root: str) -> Iterator[ListingItem]:
        """Yield every object below ``root`` (a single object if ``root`` is one)."""
        ...

    def open(self, obj: SourceObject) -> BinaryIO:
        """Open ``obj`` for streaming reads; the caller closes it."""
        ...
