"""ingestguard's scanner: connectors in, classified and labelled rows out.

The public names are imported lazily so that ``scanner.errors`` can be used by
every package without pulling in the whole pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scanner.config import Settings, load_settings
    from scanner.driver import scan
    from scanner.version import __version__

__all__ = ["Settings", "__version__", "load_settings", "scan"]


def __getattr__(name: str) -> Any:
    if name in ("Settings", "load_settings"):
        from scanner import config

        return getattr(config, name)
    if name == "scan":
        from scanner.driver import scan

        return scan
    if name == "__version__":
        from scanner.version import __version__

        return __version__
    raise AttributeError(name)
