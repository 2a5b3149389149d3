"""Keyed fingerprints and masked forms: how a finding refers to a value without holding it.

A fingerprint is HMAC-SHA256 over the normalised value with a secret key, so
equal values can be matched across runs and files while nobody without the key
can test guesses (a plain hash of a 9-digit SSN is reversed in seconds).
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
import unicodedata
from pathlib import Path

from scanner.errors import ConfigError

KEY_ENV = "INGESTGUARD_FINGERPRINT_KEY"
DEFAULT_KEY_FILE = Path("~/.config/ingestguard/fingerprint.key")


def load_or_create_key(key_file: Path | None = None) -> bytes:
    """The fingerprint key: ``$INGESTGUARD_FINGERPRINT_KEY``, else a local key file (created 0600)."""
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode()
    path = (key_file or DEFAULT_KEY_FILE).expanduser()
    if path.exists():
        key = path.read_bytes().strip()
        if len(key) < 32:
            raise ConfigError(f"{path}: fingerprint key is shorter than 32 bytes")
        return key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n")
    return key


def normalise(value: str) -> str:
    """Fold case, Unicode form and separators so ``4111-1111…`` and ``4111 1111…`` match."""
    if value.isascii():  # NFKC keeps ASCII as it is, and casefold is lower there
        return _ASCII_DROPPED.sub("", value.lower())
    folded = unicodedata.normalize("NFKC", value).casefold()
    return "".join(ch for ch in folded if ch.isalnum() or ch in "@.")


#: In lower-cased ASCII, what :func:`normalise` drops: everything but letters, digits, ``@`` and ``.``.
_ASCII_DROPPED = re.compile(r"[^0-9a-z@.]+")


class Fingerprinter:
    """HMAC-SHA256 fingerprints under one key, truncated to 128 bits of hex."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, entity_type: str, value: str) -> str:
        message = f"{entity_type}\x1f{normalise(value)}".encode()
        return hmac.digest(self._key, message, "sha256").hex()[:32]  # one-shot: same digest as hmac.new

    def __repr__(self) -> str:  # never show the key
        return "Fingerprinter(<key>)"


def mask(entity_type: str, value: str) -> str:
    """A masked form safe to store: shape and at most the last four characters of long identifiers.

    Card, account and ID numbers keep their last four digits (as Purview, Macie
    and DLP reports do); secrets, names and anything short keep nothing but
    their shape.
    """
    alnum = sum(ch.isalnum() for ch in value)
    keep_tail = 4 if (alnum >= 12 and not entity_type.startswith("SECRET_") and _is_numberish(value)) else 0
    out: list[str] = []
    seen = 0
    for ch in value:
        if ch.isalnum():
            seen += 1
            out.append(ch if seen > alnum - keep_tail else "*")
        elif ch in " -./@:_":
            out.append(ch)
        else:
            out.append("*")
    masked = "".join(out)
    if len(masked) > 64:
        masked = masked[:60] + f"…({len(value)})"
    return masked


def _is_numberish(value: str) -> bool:
    digits = sum(ch.isdigit() for ch in value)
    return digits >= 0.6 * sum(ch.isalnum() for ch in value)
