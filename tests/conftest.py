"""Shared fixtures: a fixed fingerprint key, no network beyond loopback, a private user cache, one classifier set."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scanner.config import Settings, load_settings

TEST_KEY = "ingestguard-test-key-0123456789abcdef0123456789abcdef"
os.environ.setdefault("INGESTGUARD_FINGERPRINT_KEY", TEST_KEY)

_LOOPBACK = ("127.", "::1", "localhost")


def pytest_configure(config: pytest.Config) -> None:
    """The user's cache (compiled templates and Hyperscan databases) is the run's own: tests neither read
    what an earlier run or another checkout left there nor write to the real home, and the worker
    processes they start share it. Set here, before collection, as some test modules build classifiers
    when they are imported."""
    cache = tempfile.mkdtemp(prefix="ingestguard-test-cache-")
    env = pytest.MonkeyPatch()
    env.setenv("XDG_CACHE_HOME", cache)
    config.add_cleanup(lambda: shutil.rmtree(cache, ignore_errors=True))
    config.add_cleanup(env.undo)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection outside loopback fails the test: a local scan must never reach out."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family == socket.AF_UNIX or str(host).startswith(_LOOPBACK):
            return real_connect(self, address)
        raise AssertionError(f"test tried to connect to {host}")

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def worker(settings: Settings) -> Iterator[Any]:
    """One set-up pipeline worker (spaCy and Presidio loaded once for the whole session)."""
    from scanner.pipeline import Worker

    w = Worker(settings, TEST_KEY.encode())
    w.setup()
    yield w


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for running the CLI in a subprocess: the test key, a throwaway HOME."""
    env = dict(os.environ)
    env["INGESTGUARD_FINGERPRINT_KEY"] = TEST_KEY
    env["HOME"] = str(tmp_path / "home")
    env.pop("PYTHONWARNINGS", None)
    return env


@pytest.fixture(scope="session")
def s3_service() -> Iterator[Any]:
    """moto's S3 server on 127.0.0.1, shared by the session."""
    from tests.services import moto_s3

    with moto_s3() as service:
        yield service


@pytest.fixture(scope="session")
def azure_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Azurite (blob) on 127.0.0.1, shared by the session."""
    from tests.services import azurite

    with azurite(tmp_path_factory.mktemp("azurite")) as service:
        yield service
