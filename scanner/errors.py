"""One error hierarchy for ingestguard.

Messages name the object and the reason and never carry a sensitive value:
third-party exceptions are re-raised ``from`` the original, but the text we
show is ours (see :func:`describe_exception`).
"""

from __future__ import annotations

import re


class IngestguardError(Exception):
    """Root of every error ingestguard raises on purpose."""


class ConfigError(IngestguardError):
    """A configuration file is missing, malformed or names something unknown."""


class ModelNotInstalledError(IngestguardError):
    """A model a classifier needs is not installed; the message says how to install it."""


class ConnectorError(IngestguardError):
    """A storage back-end refused or failed an operation."""


class SourceNotFoundError(ConnectorError):
    """The source root given by the user does not exist."""


class AccessDeniedError(ConnectorError):
    """The storage back-end refused access."""


class TransientConnectorError(ConnectorError):
    """A failure worth retrying (throttling, 5xx, timeouts)."""


class UnsupportedSchemeError(ConnectorError):
    """No connector is registered for a URL scheme, or its package is missing."""


class ExtractionError(IngestguardError):
    """An object could not be turned into text (corrupt, encrypted, wrong format)."""


class LimitExceededError(ExtractionError):
    """A configured resource limit was hit; ``limit`` names it."""

    def __init__(self, limit: str, detail: str) -> None:
        super().__init__(f"limit {limit} exceeded: {detail}")
        self.limit = limit


class ClassifierError(IngestguardError):
    """A classifier failed on a unit."""


class WorkerError(IngestguardError):
    """A worker process died, hung or could not start."""


#: Exception types whose messages describe the failure without quoting the
#: input (positions, byte values, file names, structural complaints).
_SAFE_MESSAGE_TYPES: tuple[type[BaseException], ...] = (
    UnicodeError,
    ImportError,
    OSError,
    EOFError,
    MemoryError,
    TimeoutError,
)
_SAFE_MESSAGE_MODULES = ("json", "zipfile", "gzip", "zlib", "lzma", "bz2", "pypdf", "zstandard", "docx")
_MAX_REASON = 300
_BYTES_LITERAL = re.compile(r"""\bb(['"])(?:\\.|(?!\1).)*\1""")


def describe_exception(exc: BaseException) -> str:
    """A one-line, value-free description of an exception for rows and logs.

    Our own errors are written to be safe, and so are a few families of
    third-party errors that describe positions and structure. Anything else may
    quote the input it choked on, so only its type is kept.
    """
    kind = type(exc).__qualname__
    module = type(exc).__module__.split(".")[0]
    if isinstance(exc, IngestguardError):
        text = str(exc)
    elif isinstance(exc, UnicodeEncodeError | UnicodeTranslateError):  # their message quotes the character
        text = f"{kind}: position {exc.start}: {exc.reason}"
    elif isinstance(exc, _SAFE_MESSAGE_TYPES) or module in _SAFE_MESSAGE_MODULES:
        # ... but some quote a few bytes of what they read ("Not a gzipped file (b'SE')"): dropped
        text = _BYTES_LITERAL.sub("b'…'", f"{kind}: {exc}") if str(exc) else kind
    else:
        text = f"{module}.{kind}"
    text = " ".join(text.split())
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"
