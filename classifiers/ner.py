"""Named entities (PERSON, LOCATION, NRP, ORGANIZATION, DATE_TIME) from a spaCy model.

Only the components NER needs are loaded (the tagger, parser and lemmatizer
are excluded), which roughly doubles spaCy's speed; labels are mapped as
Presidio maps them and scored 0.85, Presidio's score for spaCy entities.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from classifiers.base import Detection
from classifiers.settings import NerSettings
from scanner.errors import ClassifierError

#: spaCy label → entity type, as Presidio's default NER model configuration maps them.
LABELS = {
    "PERSON": "PERSON",
    "PER": "PERSON",
    "NORP": "NRP",
    "FAC": "LOCATION",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "ORG": "ORGANIZATION",
    "DATE": "DATE_TIME",
    "TIME": "DATE_TIME",
}
NER_SCORE = 0.85
#: A calendar date or time: a month or weekday name, a numeric date, a year, a clock time.
_ABSOLUTE_DATE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b"
    r"|\b(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\b"
    r"|\b\d{1,4}[-/.]\d{1,2}(?:[-/.]\d{1,4})?\b|\b(?:1[6-9]|20)\d\d\b|\b\d{1,2}:\d\d\b",
    re.IGNORECASE,
)
_EXCLUDE = ("tagger", "parser", "lemmatizer", "senter")


class SpacyNerClassifier:
    """spaCy NER over a text; the only expensive classifier, so the balanced profile gates it."""

    name: ClassVar[str] = "ner"
    expensive: ClassVar[bool] = True

    def __init__(self, settings: NerSettings) -> None:
        self._settings = settings
        self._nlp: Any = None
        self._entities = frozenset(settings.entities)

    @property
    def entity_types(self) -> frozenset[str]:
        return self._entities

    def setup(self) -> None:
        if self._nlp is not None:
            return
        from classifiers.pii import ensure_spacy_model

        ensure_spacy_model(self._settings.spacy_model, self._settings.model_install_hint)
        import spacy

        logging.getLogger("spacy").setLevel(logging.ERROR)
        model = self._settings.spacy_model
        # Only NER itself: in the CNN pipelines it embeds its own tokens, so the shared tok2vec (for
        # the tagger and parser) and the attribute ruler are pure cost. The components are read from
        # the model's meta.json, so the lean pipeline is the only one loaded (a load is ~0.5 s). A model
        # whose NER listens to a shared embedding layer (transformer pipelines) fails to run lean and
        # keeps the full set above.
        components = _components(model)
        lean = None
        if components is not None and "ner" in components:
            try:
                lean = spacy.load(model, exclude=[*_EXCLUDE, *(c for c in components if c != "ner")])
                lean("Warm up, Ada Lovelace.")
            except Exception:
                lean = None
        if lean is None:
            try:
                nlp = spacy.load(model, exclude=list(_EXCLUDE))
            except OSError as exc:
                raise ClassifierError(f"spaCy model '{model}' could not be loaded") from exc
            if "ner" not in nlp.pipe_names:
                raise ClassifierError(f"spaCy model '{model}' has no NER component")
            lean = nlp
        self._nlp = lean
        self._nlp.max_length = max(self._nlp.max_length, 2_000_000)

    def classify(self, text: str, *, context: Sequence[str] = ()) -> list[Detection]:
        if self._nlp is None:
            raise ClassifierError("SpacyNerClassifier.classify called before setup()")
        if not text.strip():
            return []
        return self._detections(self._nlp(text))

    def classify_many(self, texts: Sequence[str], *, context: Sequence[str] = ()) -> list[list[Detection]]:
        """:meth:`classify` for several texts in one batch (spaCy's per-call overhead is paid once)."""
        if self._nlp is None:
            raise ClassifierError("SpacyNerClassifier.classify_many called before setup()")
        return [self._detections(doc) for doc in self._nlp.pipe(texts, batch_size=64)]

    def _detections(self, doc: Any) -> list[Detection]:
        out: list[Detection] = []
        for ent in doc.ents:
            entity = LABELS.get(ent.label_)
            if entity == "DATE_TIME" and not _ABSOLUTE_DATE.search(ent.text):
                continue  # "next week", "this morning": relative dates identify nobody
            if entity in self._entities:
                out.append(Detection(entity, ent.start_char, ent.end_char, NER_SCORE, f"spacy:{ent.label_}"))
        return out


def _components(model: str) -> list[str] | None:
    """The pipeline components a model names in its meta.json (a package or a directory), or None."""
    import importlib.util
    from pathlib import Path

    import spacy.util

    try:
        path = Path(model)
        if not path.exists():
            spec = importlib.util.find_spec(model)
            if spec is None or spec.origin is None:
                return None
            path = Path(spec.origin).parent
        meta = spacy.util.get_model_meta(path)
    except Exception:
        return None
    names = meta.get("components") or meta.get("pipeline")
    return [str(n) for n in names] if isinstance(names, list) else None
