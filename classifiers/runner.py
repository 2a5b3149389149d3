"""Run every configured classifier over a unit's text, window by window.

Long texts are classified in overlapping windows: spaCy refuses texts past its
``max_length`` and NER memory grows with length. Window *i* owns the findings
that start in ``[start_i, start_{i+1})``; since consecutive windows overlap by
``overlap`` characters, any entity shorter than that is seen whole by the
window that owns it, and found exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from classifiers.base import Classifier, Confidence, Detection, Finding
from classifiers.fingerprint import Fingerprinter, mask
from scanner.errors import ClassifierError


@dataclass(frozen=True, slots=True)
class Window:
    offset: int
    text: str
    owned_end: int  # absolute offset: findings starting at or after it belong to the next window


def windows(chunks: Iterable[str], *, size: int, overlap: int) -> Iterator[Window]:
    """Overlapping windows over text that arrives in chunks of any size."""
    step = size - overlap
    buf = ""
    offset = 0
    emitted = False
    for chunk in chunks:
        buf += chunk
        while len(buf) > size:
            yield Window(offset, buf[:size], offset + step)
            emitted = True
            buf = buf[step:]
            offset += step
    if buf or not emitted:
        yield Window(offset, buf, offset + len(buf) + 1)


class ClassifierSet:
    """The classifiers of one profile, set up once, applied to whole units."""

    def __init__(
        self,
        classifiers: Sequence[Classifier],
        *,
        fingerprint: Fingerprinter,
        min_score: float,
        window_chars: int,
        window_overlap: int,
    ) -> None:
        self.classifiers = tuple(classifiers)
        self._fingerprint = fingerprint
        self._min_score = min_score
        self._size = window_chars
        self._overlap = window_overlap

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset().union(*(c.entity_types for c in self.classifiers))

    def setup(self) -> None:
        for classifier in self.classifiers:
            classifier.setup()

    def detect(self, chunks: Iterable[str], *, context: Sequence[str] = ()) -> Iterator[tuple[Detection, str, str]]:
        """Yield ``(detection, classifier name, value)`` with absolute offsets.

        The value is handed to the caller only to fingerprint and mask it.
        """
        for window in windows(chunks, size=self._size, overlap=self._overlap):
            for classifier in self.classifiers:
                try:
                    found = classifier.classify(window.text, context=context)
                except Exception as exc:
                    raise ClassifierError(f"classifier '{classifier.name}' failed: {type(exc).__name__}") from exc
                for det in found:
                    start = window.offset + det.start
                    if start >= window.owned_end or det.score < self._min_score or det.end <= det.start:
                        continue
                    value = window.text[det.start : det.end]
                    shifted = Detection(det.entity_type, start, window.offset + det.end, det.score, det.detector)
                    yield shifted, classifier.name, value

    def finding(self, det: Detection, classifier: str, value: str, *, field: str | None, base: int) -> Finding:
        """A stored finding: offsets relative to ``base`` (the field's start), fingerprinted and masked."""
        return Finding(
            entity_type=det.entity_type,
            start=det.start - base,
            end=det.end - base,
            score=round(det.score, 4),
            confidence=Confidence.for_score(det.score),
            classifier=classifier,
            detector=det.detector,
            fingerprint=self._fingerprint(det.entity_type, value),
            masked=mask(det.entity_type, value),
            field=field,
        )
