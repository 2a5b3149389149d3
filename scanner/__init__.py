"""ingestguard's scanner: connectors in, classified and labelled rows out."""

from scanner.config import Settings, load_settings
from scanner.scan import scan
from scanner.version import __version__

__all__ = ["Settings", "__version__", "load_settings", "scan"]
