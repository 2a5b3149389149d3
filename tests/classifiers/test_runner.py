"""Windowing: an entity anywhere in a long text is found once, at its true offsets."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import ClassVar

from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.base import Confidence, Detection
from classifiers.fingerprint import Fingerprinter
from classifiers.runner import ClassifierSet, windows


class TokenClassifier:
    """A real (tiny) classifier: finds TOKEN-<digits> with a regex."""

    name: ClassVar[str] = "token"
    entity_types = frozenset({"SECRET_PASSWORD"})

    def setup(self) -> None:
        self.regex = re.compile(r"TOKEN-\d{6,40}")

    def classify(self, text: str, *, context: Sequence[str] = ()) -> list[Detection]:
        return [Detection("SECRET_PASSWORD", m.start(), m.end(), 0.9, "token") for m in self.regex.finditer(text)]


def make_set(size: int, overlap: int) -> ClassifierSet:
    cs = ClassifierSet(
        [TokenClassifier()],
        fingerprint=Fingerprinter(b"k" * 32),
        min_score=0.4,
        window_chars=size,
        window_overlap=overlap,
    )
    cs.setup()
    return cs


@given(
    text=st.text(alphabet="ab \n", min_size=0, max_size=5000),
    chunk=st.integers(min_value=1, max_value=700),
    size=st.integers(min_value=200, max_value=1200),
)
def test_windows_cover_the_text_exactly(text: str, chunk: int, size: int) -> None:
    overlap = size // 4
    pieces = [text[i : i + chunk] for i in range(0, len(text), chunk)]
    ws = list(windows(pieces, size=size, overlap=overlap))
    assert ws[0].offset == 0
    for w in ws:
        assert text[w.offset : w.offset + len(w.text)] == w.text
        assert len(w.text) <= size
    owned = [(w.offset, min(w.owned_end, len(text))) for w in ws]
    # the owned regions tile [0, len(text)) without gaps or overlaps
    assert owned[0][0] == 0 and owned[-1][1] == len(text)
    for (_, end), (start, _) in itertools.pairwise(owned):
        assert end == start


@settings(max_examples=200)
@given(
    positions=st.lists(st.integers(min_value=0, max_value=4000), min_size=1, max_size=6, unique=True),
    digits=st.integers(min_value=6, max_value=40),
    chunk=st.integers(min_value=1, max_value=900),
)
def test_entities_straddling_window_edges_are_found_once(positions: list[int], digits: int, chunk: int) -> None:
    cs = make_set(size=400, overlap=100)
    text = list("." * 4100)
    planted = []
    for pos in sorted(positions):
        token = "TOKEN-" + "7" * digits
        if any(pos < end + 1 and pos + len(token) + 1 > start for start, end in planted):
            continue
        text[pos : pos + len(token)] = token
        planted.append((pos, pos + len(token)))
    joined = "".join(text)[:4100]
    planted = [(s, e) for s, e in planted if e <= len(joined)]
    pieces = [joined[i : i + chunk] for i in range(0, len(joined), chunk)]
    found = sorted((d.start, d.end) for d, _, _ in cs.detect(pieces))
    assert found == sorted(planted)


def test_findings_never_hold_the_value_but_fingerprint_it() -> None:
    cs = make_set(size=1000, overlap=100)
    [(det, name, value)] = list(cs.detect(["xx TOKEN-123456789 yy"]))
    f = cs.finding(det, name, value, field=None, base=0)
    assert "123456789" not in f.masked and "123456789" not in repr(f).replace(f.fingerprint, "")
    assert f.fingerprint == Fingerprinter(b"k" * 32)("SECRET_PASSWORD", value)
    assert f.confidence is Confidence.HIGH and (f.start, f.end) == (3, 18)
