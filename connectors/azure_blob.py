"""Azure Blob Storage through azure-storage-blob: ``az://container/prefix``, ``abfs[s]://container[@account.dfs.core.windows.net]/prefix``
and ``https://ACCOUNT.blob.core.windows.net/container/prefix``.

Credentials, first match wins, all from the environment and never from our files:
``AZURE_STORAGE_CONNECTION_STRING``; ``AZURE_STORAGE_ACCOUNT`` with ``AZURE_STORAGE_KEY`` or
``AZURE_STORAGE_SAS_TOKEN``; else ``DefaultAzureCredential`` (azure-identity: managed identity,
workload identity, Azure CLI login …). Listing asks for metadata and blob index tags in the same
call. Reads stream in bounded chunks and are pinned to the ETag seen at listing, so a blob that
changes mid-scan fails with a reason instead of mixing two versions. The SDK retries throttling,
5xx and timeouts (exponential back-off, bounded).
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar, cast
from urllib.parse import urlsplit

from connectors.base import ListingItem, SourceObject
from scanner.errors import (
    AccessDeniedError,
    ConnectorError,
    SourceNotFoundError,
    TransientConnectorError,
    UnsupportedSchemeError,
)

if TYPE_CHECKING:
    from scanner.writeback import WriteResult

CHUNK_BYTES = 4 << 20
FAIL_FAST_SECONDS = 30.0
RETRY_TOTAL = int(os.environ.get("INGESTGUARD_AZURE_RETRY_TOTAL", "5"))


@dataclass(frozen=True, slots=True)
class BlobLocation:
    """A parsed Azure URL: account (None: from the environment), container, blob name or prefix."""

    scheme: str
    account: str | None
    container: str
    path: str

    def uri(self, name: str) -> str:
        if self.scheme == "https":
            return f"https://{self.account}.blob.core.windows.net/{self.container}/{name}"
        return f"az://{self.container}/{name}"


def parse(uri: str) -> BlobLocation:
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme == "https":
        account = parts.netloc.split(".", 1)[0]
        container, _, path = parts.path.lstrip("/").partition("/")
        return BlobLocation("https", account, container, path)
    if scheme in ("az", "abfs", "abfss"):
        container, _, host = parts.netloc.partition("@")
        return BlobLocation("az", host.split(".", 1)[0] if host else None, container, parts.path.lstrip("/"))
    raise UnsupportedSchemeError(f"{uri}: not an Azure Blob Storage URL")


def _translate(uri: str, exc: BaseException) -> ConnectorError:
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    if name == "ResourceNotFoundError" or status == 404:
        return SourceNotFoundError(f"{uri}: not found")
    if name == "ClientAuthenticationError" or status in (401, 403):
        return AccessDeniedError(f"{uri}: access denied (a scan needs read access: Storage Blob Data Reader)")
    if name in ("ServiceRequestError", "ServiceResponseError") or isinstance(exc, ConnectionError | TimeoutError):
        return TransientConnectorError(f"{uri}: Azure Blob endpoint unreachable ({name})")
    return ConnectorError(f"{uri}: Azure Blob request failed ({name}{f' {status}' if status else ''})")


class _ChunkReader(io.RawIOBase):
    """A raw stream over the SDK's chunk iterator: at most one chunk held at a time."""

    def __init__(self, chunks: Iterator[bytes], uri: str) -> None:
        super().__init__()
        self._chunks = chunks
        self._buf = b""
        self._uri = uri

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self._buf:
            try:
                self._buf = next(self._chunks, b"")
            except Exception as exc:
                raise _translate(self._uri, exc) from exc
        n = min(len(buf), len(self._buf))
        buf[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


class AzureBlobConnector:
    """Blob containers and prefixes; versions are ETags (plus version ids where versioning is on)."""

    schemes: ClassVar[tuple[str, ...]] = ("az", "abfs", "abfss")

    def __init__(self) -> None:
        self._services: dict[str | None, Any] = {}
        #: account → monotonic time until which reads fail at once: once the SDK's retries are spent on an
        #: unreachable endpoint, the rest of the scan does not wait out the same retries object by object.
        self._down_until: dict[str | None, float] = {}

    def _service(self, account: str | None) -> Any:
        if account in self._services:
            return self._services[account]
        from azure.storage.blob import BlobServiceClient, ExponentialRetry

        options: dict[str, Any] = {
            # back-off 1 + 2^n s with jitter (the SDK's default starts at 15 s per retry)
            "retry_policy": ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=RETRY_TOTAL),
            "connection_timeout": 10,
            "read_timeout": 60,
            "max_chunk_get_size": CHUNK_BYTES,
            "max_single_get_size": CHUNK_BYTES,
        }
        conn = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
        env_account = os.environ.get("AZURE_STORAGE_ACCOUNT") or os.environ.get("AZURE_STORAGE_ACCOUNT_NAME")
        if conn and (account is None or account == _conn_account(conn)):
            service = BlobServiceClient.from_connection_string(conn, **options)
        else:
            name = account or env_account
            if not name:
                raise ConnectorError(
                    "no Azure storage account: use https://ACCOUNT.blob.core.windows.net/… or set "
                    "AZURE_STORAGE_ACCOUNT (or AZURE_STORAGE_CONNECTION_STRING)"
                )
            url = f"https://{name}.blob.core.windows.net"
            credential: Any
            if os.environ.get("AZURE_STORAGE_KEY"):
                credential = {"account_name": name, "account_key": os.environ["AZURE_STORAGE_KEY"]}
            elif os.environ.get("AZURE_STORAGE_SAS_TOKEN"):
                credential = os.environ["AZURE_STORAGE_SAS_TOKEN"].lstrip("?")
            else:
                try:
                    from azure.identity import DefaultAzureCredential
                except ImportError as exc:
                    raise UnsupportedSchemeError(
                        "Azure credentials: set AZURE_STORAGE_CONNECTION_STRING / AZURE_STORAGE_KEY / "
                        "AZURE_STORAGE_SAS_TOKEN, or `pip install azure-identity` for DefaultAzureCredential"
                    ) from exc
                credential = DefaultAzureCredential()
            service = BlobServiceClient(url, credential=credential, **options)
        self._services[account] = service
        return service

    def iter_objects(self, root: str) -> Iterator[ListingItem]:
        loc = parse(root)
        container = self._service(loc.account).get_container_client(loc.container)
        try:
            if loc.path and not loc.path.endswith("/"):
                blob = container.get_blob_client(loc.path)
                if blob.exists():
                    yield self._item(loc, blob.get_blob_properties(), tags=blob.get_blob_tags())
                    return
            if not container.exists():
                raise SourceNotFoundError(f"{root}: no such container")
            prefix = loc.path.rstrip("/") + "/" if loc.path else None
            for props in container.list_blobs(name_starts_with=prefix, include=["metadata", "tags"]):
                yield self._item(loc, props)
        except ConnectorError:
            raise
        except Exception as exc:
            raise _translate(root, exc) from exc

    @staticmethod
    def _item(loc: BlobLocation, props: Any, tags: dict[str, str] | None = None) -> ListingItem:
        etag = str(props.etag or "").strip('"') or None
        version = getattr(props, "version_id", None)
        last = props.last_modified
        return SourceObject(
            uri=loc.uri(props.name),
            size=props.size,
            version=f"{etag}:{version}" if version else etag,
            last_modified=last.isoformat() if last else None,
            metadata=dict(props.metadata or {}),
            tags=dict(
                tags if tags is not None else (getattr(props, "tag", None) or getattr(props, "tags", None) or {})
            ),
        )

    def write_labels(self, obj: SourceObject, labels: Mapping[str, str], *, dry_run: bool) -> WriteResult:
        """Merge ``labels`` into the blob's index tags and metadata (metadata under an ETag condition)."""
        from azure.core import MatchConditions

        from scanner.writeback import MAX_TAGS, WriteResult, merged

        loc = parse(obj.uri)
        blob = self._service(loc.account).get_blob_client(loc.container, loc.path)
        try:
            tags = dict(blob.get_blob_tags() or {})
            props = blob.get_blob_properties()
            metadata = dict(props.metadata or {})
            new_tags = merged(tags, labels)
            new_meta = merged(metadata, labels)
            if new_tags is None and new_meta is None:
                return WriteResult(obj.uri, "unchanged")
            if new_tags is not None and len(new_tags) > MAX_TAGS:
                return WriteResult(obj.uri, "failed", f"would exceed the {MAX_TAGS} blob index tag limit; tags kept")
            what = ", ".join(x for x, new in (("index tags", new_tags), ("metadata", new_meta)) if new is not None)
            if dry_run:
                return WriteResult(obj.uri, "would-set", what)
            if new_tags is not None:
                blob.set_blob_tags(new_tags)
            if new_meta is not None:
                blob.set_blob_metadata(new_meta, etag=props.etag, match_condition=MatchConditions.IfNotModified)
            return WriteResult(obj.uri, "set", what)
        except Exception as exc:
            if type(exc).__name__ == "ResourceModifiedError":
                raise ConnectorError(f"{obj.uri}: changed while its labels were written; not labelled") from exc
            raise _translate(obj.uri, exc) from exc

    def open(self, obj: SourceObject) -> BinaryIO:
        from azure.core import MatchConditions

        loc = parse(obj.uri)
        if time.monotonic() < self._down_until.get(loc.account, 0.0):
            raise TransientConnectorError(f"{obj.uri}: Azure Blob endpoint unreachable (failing fast after retries)")
        blob = self._service(loc.account).get_blob_client(loc.container, loc.path)
        etag = (obj.version or "").split(":", 1)[0] or None
        try:
            downloader = blob.download_blob(
                max_concurrency=1,
                etag=f'"{etag}"' if etag else None,
                match_condition=MatchConditions.IfNotModified if etag else None,
            )
        except Exception as exc:
            if type(exc).__name__ == "ResourceModifiedError":
                raise ConnectorError(
                    f"{obj.uri}: changed since it was listed; it will be read on the next scan"
                ) from exc
            error = _translate(obj.uri, exc)
            if isinstance(error, TransientConnectorError):
                self._down_until[loc.account] = time.monotonic() + FAIL_FAST_SECONDS
            raise error from exc
        return cast(BinaryIO, io.BufferedReader(_ChunkReader(iter(downloader.chunks()), obj.uri), CHUNK_BYTES))


def _conn_account(conn: str) -> str | None:
    for part in conn.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == "accountname":
            return value.strip()
    return None
