"""Real storage services for tests, on 127.0.0.1 with free ports: moto's S3 server and Azurite.

No SDK is mocked: s3fs and azure-storage-blob talk HTTP to these servers exactly
as they would to AWS and Azure. Azurite gets an account and key generated per
session (``AZURITE_ACCOUNTS``), so no emulator key is hard-coded.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AZURITE = ROOT / "node_modules" / ".bin" / "azurite-blob"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


@dataclass(frozen=True)
class S3Service:
    endpoint: str

    def env(self) -> dict[str, str]:
        return {
            "INGESTGUARD_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "INGESTGUARD_S3_MAX_ATTEMPTS": "2",
        }

    def client(self) -> Any:
        """A boto3 S3 client for arranging test data (the scanner itself goes through s3fs)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )


@contextmanager
def moto_s3() -> Iterator[S3Service]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Service(f"http://{host}:{port}")
    finally:
        server.stop()


@dataclass(frozen=True)
class AzureService:
    account: str
    key: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={self.account};AccountKey={self.key};"
            f"BlobEndpoint=http://127.0.0.1:{self.port}/{self.account};"
        )

    def env(self) -> dict[str, str]:
        return {"AZURE_STORAGE_CONNECTION_STRING": self.connection_string, "INGESTGUARD_AZURE_RETRY_TOTAL": "2"}

    def container(self, name: str, *, create: bool = True) -> Any:
        """A container client for arranging test data."""
        from azure.storage.blob import BlobServiceClient

        client = BlobServiceClient.from_connection_string(self.connection_string).get_container_client(name)
        if create:
            client.create_container()
        return client


@contextmanager
def azurite(workdir: Path) -> Iterator[AzureService]:
    node = shutil.which("node")
    if not AZURITE.exists() or node is None:
        raise RuntimeError("Azurite is not installed: run `npm ci` in the repository (make test does)")
    account = "igtest" + secrets.token_hex(3)
    key = base64.b64encode(secrets.token_bytes(64)).decode()
    port = free_port()
    env = dict(os.environ, AZURITE_ACCOUNTS=f"{account}:{key}")
    cmd = [
        str(AZURITE),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--inMemoryPersistence",
        "--silent",
        "--skipApiVersionCheck",
        "--disableTelemetry",
    ]
    log = (workdir / "azurite.log").open("wb")
    process = subprocess.Popen(cmd, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            wait_for_port(port)
        except RuntimeError as exc:
            raise RuntimeError(f"Azurite did not start: {(workdir / 'azurite.log').read_text()[-500:]}") from exc
        yield AzureService(account, key, port, process)
    finally:
        log.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
