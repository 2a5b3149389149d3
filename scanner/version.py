"""The tool version, recorded in every output."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ingestguard")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+source"
