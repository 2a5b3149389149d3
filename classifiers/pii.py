"""Personal data through presidio-analyzer and a spaCy model named in the config.

Everything heavy (the spaCy pipeline, Presidio's recognizer registry) is built
in :meth:`PiiClassifier.setup`, once per worker. Nothing is downloaded: a
missing model is a one-line error with the install command, and tldextract
(used by Presidio's e-mail and URL validation) is pointed at its bundled
public-suffix snapshot instead of the network.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from classifiers.base import Detection
from classifiers.settings import PiiSettings
from scanner.errors import ClassifierError, ModelNotInstalledError

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine


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


class PiiClassifier:
    """Presidio's recognizers (patterns, checksums, context words) plus spaCy NER."""

    name: ClassVar[str] = "pii"

    def __init__(self, settings: PiiSettings) -> None:
        self._settings = settings
        self._analyzer: AnalyzerEngine | None = None

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset(self._settings.entities)

    def setup(self) -> None:
        if self._analyzer is not None:
            return
        use_offline_public_suffix_list()
        ensure_spacy_model(self._settings.spacy_model, self._settings.model_install_hint)
        for noisy in ("presidio-analyzer", "presidio_analyzer"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import SpacyNlpEngine

        lang = self._settings.language
        nlp = SpacyNlpEngine(models=[{"lang_code": lang, "model_name": self._settings.spacy_model}])
        nlp.load()
        registry = RecognizerRegistry(supported_languages=[lang])
        registry.load_predefined_recognizers(languages=[lang], nlp_engine=nlp)
        for recognizer in registry.recognizers:
            extra: list[str] = []
            for entity in recognizer.supported_entities:
                extra.extend(self._settings.context_words.get(entity, ()))
            if extra:
                recognizer.context = list(dict.fromkeys([*(recognizer.context or []), *extra]))
        supported = set(registry.get_supported_entities([lang]))
        missing = sorted(set(self._settings.entities) - supported)
        if missing:
            raise ClassifierError(f"presidio has no recognizer for {', '.join(missing)} in language '{lang}'")
        self._analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=[lang])

    def classify(self, text: str, *, context: Sequence[str] = ()) -> list[Detection]:
        if self._analyzer is None:
            raise ClassifierError("PiiClassifier.classify called before setup()")
        if not text.strip():
            return []
        results: list[Any] = self._analyzer.analyze(
            text,
            language=self._settings.language,
            entities=self._settings.entities,
            context=list(context) or None,
        )
        return [
            Detection(
                entity_type=r.entity_type,
                start=r.start,
                end=r.end,
                score=float(r.score),
                detector=str((r.recognition_metadata or {}).get("recognizer_name", "presidio")),
            )
            for r in results
        ]
