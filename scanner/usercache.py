"""The user's cache directory: what ingestguard can rebuild, kept so the next process need not.

Compiled report templates and compiled Hyperscan databases live there, each kind in its own
subfolder of ``$XDG_CACHE_HOME/ingestguard`` (``~/.cache/ingestguard`` without the variable).
Anything in it may be deleted at any time; a cache that cannot be created, read or written only
makes a run slower. ``INGESTGUARD_NO_CACHE=1`` switches it off: every process builds what it needs.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

#: Set to anything but ``0`` or the empty string, no cache is read or written.
NO_CACHE_ENV = "INGESTGUARD_NO_CACHE"


def cache_dir(kind: str) -> Path | None:
    """The (created) cache folder for ``kind``, or None when caching is switched off or the folder
    cannot be made (a read-only home, a file where the folder should be)."""
    if os.environ.get(NO_CACHE_ENV, "").strip() not in ("", "0"):
        return None
    directory = Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "ingestguard" / kind
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.debug("no %s cache: %s", kind, exc)
        return None
    return directory
