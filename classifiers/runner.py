"""Run every configured classifier over a unit's text, window by window.

Long texts are classified in overlapping windows: spaCy refuses texts past its
``max_length`` and NER memory grows with length. Window *i* owns the findings
that start in ``[start_i, start_{i+1})``; since consecutive windows overlap by
``overlap`` characters, any entity shorter than that is seen whole by the
window that owns it, and found exactly once.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

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


class GateRegion(Protocol):
    """Run over ``[lo, hi)`` of a window's text; keep what starts in ``[keep_lo, keep_hi)``."""

    @property
    def lo(self) -> int: ...
    @property
    def hi(self) -> int: ...
    @property
    def keep_lo(self) -> int: ...
    @property
    def keep_hi(self) -> int: ...


class GatePlan(Protocol):
    def next(self, found: Sequence[tuple[Detection, str]] = ()) -> Sequence[GateRegion]: ...


class Gate(Protocol):
    """Plans where the expensive classifiers run in a window, given its text and the cheap detections
    (with their values) found in the unit so far; the plan is asked again after each round."""

    ran: int

    def plan(self, text: str, cheap: Sequence[tuple[Detection, str]]) -> GatePlan: ...


#: Units up to this many characters are remembered by content, so repeated text is classified once.
CACHE_MAX_CHARS = 100_000
CACHE_ENTRIES = 4096


#: A detection inside a stronger one of another type is part of it, not an entity of its own
#: (the domain inside an e-mail address, the "phone number" inside a card number).
STRONG_SCORE = 0.85
#: Types that are never folded into a containing detection: credentials stay visible as such.
NEVER_FOLDED = ("SECRET_", "PROMPT_INJECTION", "HIDDEN_TEXT", "EXFIL_LINK")
#: Types whose spans are too loose to swallow others (a NER "date" may cover a phone number; an injection
#: finding is a whole sentence).
LOOSE_CONTAINERS = frozenset({"DATE_TIME", "ORGANIZATION", "NRP", "PROMPT_INJECTION", "HIDDEN_TEXT", "EXFIL_LINK"})


def resolve(found: list[tuple[Detection, str, str]]) -> list[tuple[Detection, str, str]]:
    """Drop detections inside a stronger (longer, or equally long and better-scored) one of another type."""
    strong = [d for d, _, _ in found if d.score >= STRONG_SCORE and d.entity_type not in LOOSE_CONTAINERS]
    if not strong:
        return found
    kept = []
    for item in found:
        det = item[0]
        inside = any(
            s.entity_type != det.entity_type
            and s.start <= det.start
            and det.end <= s.end
            and ((s.end - s.start) > (det.end - det.start) or s.score > det.score)
            and s.score >= det.score
            for s in strong
        )
        if inside and not det.entity_type.startswith(NEVER_FOLDED):
            continue
        kept.append(item)
    return kept


class ClassifierSet:
    """The classifiers of one profile, set up once, applied to whole units.

    Cheap classifiers run on every window; expensive ones (NER) run where the
    ``gate`` says they can matter, or everywhere when there is no gate.
    """

    def __init__(
        self,
        classifiers: Sequence[Classifier],
        *,
        fingerprint: Fingerprinter,
        min_score: float,
        window_chars: int,
        window_overlap: int,
        gate: Gate | None = None,
    ) -> None:
        self.classifiers = tuple(classifiers)
        self._cheap = tuple(c for c in classifiers if not getattr(c, "expensive", False))
        self._expensive = tuple(c for c in classifiers if getattr(c, "expensive", False))
        self._fingerprint = fingerprint
        self._min_score = min_score
        self._size = window_chars
        self._overlap = window_overlap
        self.gate = gate
        self._cache: OrderedDict[tuple[str, tuple[str, ...]], list[tuple[Detection, str, str]]] = OrderedDict()

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset().union(*(c.entity_types for c in self.classifiers))

    def setup(self) -> None:
        from classifiers.prefilter import compiled_together

        with compiled_together():  # the members' prefilters: one database, one scan per window
            for classifier in self.classifiers:
                classifier.setup()

    def forget(self) -> None:
        """Drop what was remembered from texts already seen (the content cache, classifiers' memos), so a
        benchmark pass costs what a first pass over its documents costs."""
        self._cache.clear()
        for classifier in self.classifiers:
            forget = getattr(classifier, "forget", None)
            if forget is not None:
                forget()

    def detect(self, chunks: Iterable[str], *, context: Sequence[str] = ()) -> Iterator[tuple[Detection, str, str]]:
        """Yield ``(detection, classifier name, value)`` with absolute offsets.

        The value is handed to the caller only to fingerprint and mask it.
        """
        if isinstance(chunks, list | tuple) and len(chunks) == 1 and len(chunks[0]) <= min(CACHE_MAX_CHARS, self._size):
            key = (hashlib.sha256(chunks[0].encode("utf-8", "surrogatepass")).hexdigest(), tuple(context))
            hit = self._cache.get(key)
            if hit is None:
                hit = list(self._detect(chunks, context))
                self._cache[key] = hit
                if len(self._cache) > CACHE_ENTRIES:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(key)
            yield from hit
            return
        yield from self._detect(chunks, context)

    def detect_only(
        self, classifier: Classifier, text: str, *, context: Sequence[str] = ()
    ) -> Iterator[tuple[Detection, str, str]]:
        """One member classifier over ``text`` (window by window), e.g. the rights classifier over markup
        that no other classifier should read."""
        for window in windows([text], size=self._size, overlap=self._overlap):
            yield from self._run([classifier], window, context)

    def _detect(self, chunks: Iterable[str], context: Sequence[str]) -> Iterator[tuple[Detection, str, str]]:
        cheap_so_far: list[tuple[Detection, str]] = []
        for window in windows(chunks, size=self._size, overlap=self._overlap):
            found = list(self._run(self._cheap, window, context))
            cheap_so_far.extend((det, value) for det, _, value in found)
            if self._expensive and self.gate is None:
                found.extend(self._run(self._expensive, window, context))
            elif self._expensive and self.gate is not None:
                found.extend(self._gated(self.gate, window, context, cheap_so_far))
            yield from resolve(found)

    def _gated(
        self, gate: Gate, window: Window, context: Sequence[str], cheap: Sequence[tuple[Detection, str]]
    ) -> list[tuple[Detection, str, str]]:
        """The expensive classifiers over the parts of ``window`` the gate's plan names, round by round."""
        plan = gate.plan(window.text, cheap)
        out: list[tuple[Detection, str, str]] = []
        regions = plan.next()
        if regions:
            gate.ran += 1
        while regions:
            parts = [Window(window.offset + r.lo, window.text[r.lo : r.hi], window.owned_end) for r in regions]
            keep = [(window.offset + r.keep_lo, window.offset + r.keep_hi) for r in regions]
            for i, found in self._run_batch(self._expensive, parts, context):
                out.extend(x for x in found if keep[i][0] <= x[0].start < keep[i][1])
            regions = plan.next([(d, v) for d, _, v in out])
        return out

    def _run_batch(
        self, classifiers: Sequence[Classifier], parts: Sequence[Window], context: Sequence[str]
    ) -> Iterator[tuple[int, list[tuple[Detection, str, str]]]]:
        """Each classifier over several windows, batched where the classifier can (``classify_many``)."""
        for classifier in classifiers:
            many = getattr(classifier, "classify_many", None)
            if many is None:
                for i, part in enumerate(parts):
                    yield i, list(self._run([classifier], part, context))
                continue
            try:
                results = many([p.text for p in parts], context=context)
            except Exception as exc:
                raise ClassifierError(f"classifier '{classifier.name}' failed: {type(exc).__name__}") from exc
            for i, (part, found) in enumerate(zip(parts, results, strict=True)):
                yield i, list(self._placed(classifier, part, found))

    def _run(
        self, classifiers: Sequence[Classifier], window: Window, context: Sequence[str]
    ) -> Iterator[tuple[Detection, str, str]]:
        for classifier in classifiers:
            try:
                found = classifier.classify(window.text, context=context)
            except Exception as exc:
                raise ClassifierError(f"classifier '{classifier.name}' failed: {type(exc).__name__}") from exc
            yield from self._placed(classifier, window, found)

    def _placed(
        self, classifier: Classifier, window: Window, found: Iterable[Detection]
    ) -> Iterator[tuple[Detection, str, str]]:
        """Detections in window coordinates → absolute offsets, past the owned end and weak ones dropped."""
        for det in found:
            start = window.offset + det.start
            if start >= window.owned_end or det.score < self._min_score or det.end <= det.start:
                continue
            value = window.text[det.start : det.end]
            if window.offset:
                det = Detection(det.entity_type, start, window.offset + det.end, det.score, det.detector)
            yield det, classifier.name, value

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
