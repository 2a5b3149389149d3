"""Confidentiality markings: banners score higher than the same words in prose."""

from __future__ import annotations

import pytest

from classifiers.markings import MarkingsClassifier
from scanner.config import load_settings


@pytest.fixture(scope="module")
def markings() -> MarkingsClassifier:
    c = MarkingsClassifier(load_settings().classifiers.markings)
    c.setup()
    return c


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("CONFIDENTIAL\nQuarterly numbers follow.", "CONFIDENTIAL"),
        ("Privileged & Confidential is not it, but Attorney-Client Privileged is.", "Attorney-Client Privileged"),
        ("This memo is for internal use only.", "for internal use only"),
        ("DO NOT DISTRIBUTE", "DO NOT DISTRIBUTE"),
        ("Strictly   Confidential", "Strictly   Confidential"),
    ],
)
def test_markings_are_found_with_exact_spans(markings: MarkingsClassifier, text: str, phrase: str) -> None:
    found = markings.classify(text)
    assert any(text[d.start : d.end] == phrase for d in found)


def test_banner_scores_higher_than_prose(markings: MarkingsClassifier) -> None:
    banner = markings.classify("CONFIDENTIAL\n\nbody")[0].score
    prose = markings.classify("please keep this confidential between us")[0].score
    assert banner >= 0.75 > prose


@pytest.mark.parametrize("text", ["Confidentiality is a virtue.", "The unrestricted area is open.", "nonconfidential"])
def test_hard_negatives(markings: MarkingsClassifier, text: str) -> None:
    assert markings.classify(text) == []
