"""Set-up shared by the personal-data classifiers: offline public-suffix list, model checks.

Personal data is found by :mod:`classifiers.patterns` (Presidio's pattern
recognizers with their validators and context words) and :mod:`classifiers.ner`
(spaCy NER). Nothing is downloaded: a missing model is a one-line error with
the install command, and tldextract (used by Presidio's e-mail and URL
validation) uses its bundled public-suffix snapshot instead of the network.
"""

from __future__ import annotations

from scanner.errors import ModelNotInstalledError


def use_offline_public_suffix_list() -> None:
    """Make tldextract use its bundled snapshot: no fetch of the public suffix list, ever."""
    import tldextract.tldextract as tld

    if not getattr(tld.TLD_EXTRACTOR, "_ingestguard_offline", False):
        offline = tld.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
        offline._ingestguard_offline = True  # type: ignore[attr-defined]
        tld.TLD_EXTRACTOR = offline


def ensure_spacy_model(name: str, install_hint: str) -> None:
    """Fail with the install command when the spaCy model is not importable."""
    import importlib.util
    from pathlib import Path

    if Path(name).exists() or importlib.util.find_spec(name) is not None:
        return
    raise ModelNotInstalledError(f"spaCy model '{name}' is not installed: run `{install_hint}`")
