"""The NER classifier loads only spaCy's NER component, once, and still finds names."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.ner import SpacyNerClassifier, _components
from classifiers.settings import NerSettings


@pytest.fixture(scope="module")
def ner() -> SpacyNerClassifier:
    classifier = SpacyNerClassifier(NerSettings())
    classifier.setup()
    return classifier


def test_only_the_ner_component_is_loaded(ner: SpacyNerClassifier) -> None:
    assert ner._nlp.pipe_names == ["ner"]
    text = "Maria Gonzalez met Daniel Park in Lisbon."
    found = {(d.entity_type, text[d.start : d.end]) for d in ner.classify(text)}
    assert ("PERSON", "Maria Gonzalez") in found and ("LOCATION", "Lisbon") in found


def test_the_model_is_loaded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import spacy

    loads: list[list[str]] = []
    real = spacy.load

    def counting(name: str, **kwargs: object) -> object:
        loads.append(sorted(kwargs.get("exclude", [])))  # type: ignore[arg-type]
        return real(name, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(spacy, "load", counting)
    SpacyNerClassifier(NerSettings()).setup()
    assert len(loads) == 1
    assert "tok2vec" in loads[0] and "ner" not in loads[0]


def test_components_come_from_meta_json_of_a_package_or_a_directory(ner: SpacyNerClassifier, tmp_path: Path) -> None:
    components = _components(NerSettings().spacy_model)
    assert components is not None and "ner" in components and "tok2vec" in components
    ner._nlp.to_disk(tmp_path / "model")
    assert _components(str(tmp_path / "model")) == ["ner"]
    assert _components("no_such_model_package") is None
    assert _components(str(tmp_path)) is None  # a directory without meta.json
    from_dir = SpacyNerClassifier(NerSettings(spacy_model=str(tmp_path / "model")))
    from_dir.setup()
    assert from_dir._nlp.pipe_names == ["ner"]
    assert any(d.entity_type == "PERSON" for d in from_dir.classify("Ada Lovelace wrote the first program."))
