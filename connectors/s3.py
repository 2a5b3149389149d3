"""Amazon S3 (``s3://bucket/prefix``) through s3fs, with the standard AWS credential chain.

Credentials come only from where AWS tools look (environment, shared profile,
instance or task role); an endpoint override (MinIO, moto, a VPC endpoint)
comes from ``$INGESTGUARD_S3_ENDPOINT_URL`` or botocore's own
``$AWS_ENDPOINT_URL_S3`` / ``$AWS_ENDPOINT_URL``. Objects are read with ranged
GETs in bounded blocks, so a 200 MB object never needs 200 MB of memory.
Throttling, 5xx and timeouts are retried by botocore (standard mode, bounded).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar, cast

from connectors.base import ListingItem, ListingProblem, SourceObject
from scanner.errors import AccessDeniedError, ConnectorError, SourceNotFoundError, TransientConnectorError

if TYPE_CHECKING:
    from scanner.writeback import WriteResult

ENDPOINT_ENV = ("INGESTGUARD_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
#: Bytes fetched per ranged GET while streaming an object.
BLOCK_SIZE = 8 << 20
MAX_ATTEMPTS = int(os.environ.get("INGESTGUARD_S3_MAX_ATTEMPTS", "5"))


def _endpoint() -> str | None:
    return next((os.environ[name] for name in ENDPOINT_ENV if os.environ.get(name)), None)


def _describe(before: Mapping[str, str], after: Mapping[str, str]) -> str:
    """Which tag keys change (keys only: values of unrelated tags are not ours to print)."""
    changed = sorted(k for k in after if before.get(k) != after[k])
    return "tags " + ", ".join(changed)


def _translate(uri: str, exc: BaseException) -> ConnectorError:
    name = type(exc).__name__
    if isinstance(exc, FileNotFoundError):
        return SourceNotFoundError(f"{uri}: not found")
    if isinstance(exc, PermissionError) or "AccessDenied" in name or "Forbidden" in name:
        return AccessDeniedError(f"{uri}: access denied (check the credentials' s3:ListBucket / s3:GetObject rights)")
    if "Endpoint" in name or "Connect" in name or "Timeout" in name or isinstance(exc, ConnectionError | TimeoutError):
        return TransientConnectorError(f"{uri}: S3 endpoint {_endpoint() or 'for the region'} unreachable ({name})")
    return ConnectorError(f"{uri}: S3 request failed ({name})")


class S3Connector:
    """S3 buckets and prefixes; object versions are ETags (and version ids where the bucket has them)."""

    schemes: ClassVar[tuple[str, ...]] = ("s3", "s3a")

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._fs: Any = None

    @property
    def fs(self) -> Any:
        if self._fs is None:
            import s3fs

            endpoint = _endpoint()
            self._fs = s3fs.S3FileSystem(
                endpoint_url=endpoint,
                skip_instance_cache=True,  # never reuse a filesystem (and its credentials) across configurations
                config_kwargs={
                    "retries": {"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
                    "connect_timeout": 5,
                    "read_timeout": 60,
                },
                default_block_size=BLOCK_SIZE,
                version_aware=True,  # reads are pinned to the version id seen when listing, where there is one
                **self._options,
            )
        return self._fs

    @staticmethod
    def _path(uri: str) -> str:
        return uri.split("://", 1)[1].strip("/")

    def iter_objects(self, root: str) -> Iterator[ListingItem]:
        path = self._path(root)
        try:
            if not self.fs.exists(path):
                raise SourceNotFoundError(f"{root}: no such bucket or prefix")
            if self.fs.isfile(path):
                yield self._item(self.fs.info(path))
                return
            walker = self.fs.walk(path, detail=True)
            for _dir, _subdirs, files in walker:
                for name in sorted(files):
                    yield self._item(cast(dict[str, Any], files[name]))
        except ConnectorError:
            raise
        except Exception as exc:
            raise _translate(root, exc) from exc

    def _item(self, info: dict[str, Any]) -> ListingItem:
        key = str(info["name"])
        uri = f"s3://{key}"
        if info.get("type") == "directory":
            return ListingProblem(uri, "skipped", "a directory marker, not an object")
        try:
            tags = dict(self.fs.get_tags(key) or {})
        except Exception:  # tags are optional (no s3:GetObjectTagging right)
            tags = {}
        bucket, _, name = key.partition("/")
        try:
            head = self.fs.call_s3("head_object", Bucket=bucket, Key=name)
        except Exception:  # the read will report a real problem, with its reason
            head = {}
        last: Any = info.get("LastModified")
        etag = str(info.get("ETag") or head.get("ETag") or "").strip('"') or None
        version = head.get("VersionId") if head.get("VersionId") not in (None, "null") else None
        return SourceObject(
            uri=uri,
            size=info.get("size"),
            version=f"{etag}:{version}" if version else etag,
            last_modified=None if last is None else (last.isoformat() if hasattr(last, "isoformat") else str(last)),
            metadata={str(k): str(v) for k, v in (head.get("Metadata") or {}).items()},
            tags=tags,
        )

    def write_labels(self, obj: SourceObject, labels: Mapping[str, str], *, dry_run: bool) -> WriteResult:
        """Merge ``labels`` into the object's tag set (S3 replaces whole tag sets; 10 tags at most)."""
        from scanner.writeback import MAX_TAGS, WriteResult, merged

        path = self._path(obj.uri)
        try:
            existing = dict(self.fs.get_tags(path) or {})
            target = merged(existing, labels)
            if target is None:
                return WriteResult(obj.uri, "unchanged")
            if len(target) > MAX_TAGS:
                return WriteResult(obj.uri, "failed", f"would exceed S3's {MAX_TAGS}-tag limit; existing tags kept")
            if dry_run:
                return WriteResult(obj.uri, "would-set", _describe(existing, target))
            self.fs.put_tags(path, target, mode="o")
            return WriteResult(obj.uri, "set", _describe(existing, target))
        except Exception as exc:
            raise _translate(obj.uri, exc) from exc

    def open(self, obj: SourceObject) -> BinaryIO:
        version_id = (obj.version or "").partition(":")[2] or None
        try:
            return cast(
                BinaryIO,
                self.fs.open(
                    self._path(obj.uri), "rb", block_size=BLOCK_SIZE, cache_type="readahead", version_id=version_id
                ),
            )
        except FileNotFoundError as exc:
            raise ConnectorError(f"{obj.uri}: disappeared before it could be read") from exc
        except Exception as exc:
            raise _translate(obj.uri, exc) from exc
