"""Presidio's pattern recognizers, driven directly: no tokenizer, no NLP artifacts per call.

Presidio's ``AnalyzerEngine`` tokenizes and lemmatizes every text (with spaCy)
before any regex runs, so even its pattern-only recognizers cost more than NER
would. This classifier keeps what Presidio knows — each recognizer's
patterns, base scores, checksum validators (Luhn, IBAN mod-97, SSN rules, …)
and context words — and applies it in one cheap pass over the raw text:

* each pattern is compiled once and run with ``finditer``; a match is scored
  with Presidio's rules (validator true → 1.0, false or invalidated → dropped);
* context words are looked for in a proximity window around the match (and in
  the unit's field names), raising the score as Presidio's context enhancer does
  (+0.35, at least 0.4);
* the phone recognizer (``phonenumbers``) runs only around digit runs that
  could be a phone number.
"""

from __future__ import annotations

import codecs
import copy
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from classifiers.base import Detection, context_hit, dedupe
from classifiers.prefilter import Prefilter, stand_in
from classifiers.settings import PatternSettings
from scanner.errors import ClassifierError

log = logging.getLogger(__name__)

_WORD = re.compile(r"[a-z0-9#]+")
#: Every URL match has a dot after a letter, digit, dot or hyphen and before a letter (``example.com``,
#: ``a..be``), or a scheme separator.
_URL_TRIGGER = re.compile(r"[A-Za-z0-9.\-]\.[A-Za-z]|://")
_PHONE_CANDIDATE = re.compile(r"\+?\(?\d[\d\s().\-/]{5,}\d")
CONTEXT_BOOST = 0.35
CONTEXT_FLOOR = 0.4
#: Recognizers whose patterns have no boundaries and so match inside longer tokens: Presidio's DEA
#: pattern finds ``ab1234567`` inside any hex digest, and about one such window in ten passes its
#: checksum (1.5% of 128-bit fingerprints, 3% of SHA-256 digests were DEA numbers at score 1.0).
#: Their matches must stand alone: no letter or digit directly before or after.
_NEEDS_BOUNDARIES = frozenset({"MedicalLicenseRecognizer"})


@dataclass(frozen=True, slots=True)
class _Pattern:
    entity: str
    name: str
    regex: Any  # a compiled ``regex`` pattern
    score: float
    validate: Callable[[str], bool | None]
    invalidate: Callable[[str], bool | None]
    context: tuple[str, ...]
    recognizer: str
    trigger: str | None = None  # "url": the prefilter looks for the URL trigger instead of the pattern
    #: An RE2 twin of ``regex`` for ASCII text (bytes), run over the whole text instead of the prefilter
    #: windows: for patterns the prefilter cannot narrow (URLs, a large TLD alternation that backtracks
    #: at every dotted name) a linear-time DFA over the whole text is cheaper than backtracking in windows.
    ascii_twin: Any = None


@dataclass(frozen=True, slots=True)
class _Whole:
    """A recognizer whose ``analyze`` is its own logic (phone numbers, IBAN)."""

    recognizer: Any
    entity: str
    context: tuple[str, ...]
    prefilter: re.Pattern[str] | None
    trigger: str | None  # what the one-pass prefilter looks for before ``analyze`` runs at all


class PatternPiiClassifier:
    """Presidio's predefined pattern recognizers for the configured entities, without its NLP pass."""

    name: ClassVar[str] = "pii"
    expensive: ClassVar[bool] = False

    def __init__(self, settings: PatternSettings, *, shortcuts: bool = True) -> None:
        self._settings = settings
        #: False: no RE2 twins, Presidio's own phone recognizer (the reference the fast paths must equal).
        self._shortcuts = shortcuts
        self._patterns: list[_Pattern] = []
        self._whole: list[_Whole] = []
        self._entities = frozenset(settings.entities)
        self._prefilter: Prefilter | None = None

    @property
    def entity_types(self) -> frozenset[str]:
        return self._entities

    def setup(self) -> None:
        if self._patterns or self._whole:
            return
        from classifiers.pii import use_offline_public_suffix_list

        use_offline_public_suffix_list()
        logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
        import regex
        from presidio_analyzer import PatternRecognizer, RecognizerRegistry

        registry = RecognizerRegistry(supported_languages=[self._settings.language])
        registry.load_predefined_recognizers(languages=[self._settings.language])
        flags = registry.global_regex_flags
        covered: set[str] = set()
        recognizer_list: list[Any] = list(registry.recognizers)
        for rec in recognizer_list:
            entity = rec.supported_entities[0] if rec.supported_entities else ""
            if entity not in self._entities or len(rec.supported_entities) != 1:
                continue
            extra = self._settings.context_words.get(entity, [])
            context = tuple(dict.fromkeys(w.lower() for w in [*(rec.context or []), *extra]))
            covered.add(entity)
            if isinstance(rec, PatternRecognizer) and "analyze" not in type(rec).__dict__:
                patterns: list[Any] = getattr(rec, "patterns", [])
                bounded = type(rec).__name__ in _NEEDS_BOUNDARIES
                for p in patterns:
                    source = f"(?<![A-Za-z0-9])(?:{p.regex})(?![A-Za-z0-9])" if bounded else p.regex
                    trigger = _trigger_for(type(rec).__name__)
                    self._patterns.append(
                        _Pattern(
                            entity,
                            p.name,
                            regex.compile(source, flags=flags),
                            p.score,
                            rec.validate_result,
                            rec.invalidate_result,
                            context,
                            str(getattr(rec, "name", type(rec).__name__)),
                            trigger,
                            ascii_re2(source, int(flags or 0)) if trigger == "url" and self._shortcuts else None,
                        )
                    )
            else:
                prefilter = _PHONE_CANDIDATE if entity == "PHONE_NUMBER" else None
                if prefilter is not None and self._shortcuts:
                    from classifiers.phones import GatedPhoneRecognizer

                    rec = GatedPhoneRecognizer.wrap(rec)
                own = [p.regex for p in getattr(rec, "patterns", [])]
                trigger = prefilter.pattern if prefilter else ("|".join(f"(?:{r})" for r in own) or None)
                self._whole.append(_Whole(rec, entity, context, prefilter, trigger))
                if entity == "IBAN_CODE" and int(getattr(rec, "global_regex_flags", 0) or 0) & regex.IGNORECASE:
                    # Under the registry's IGNORECASE the IBAN pattern's optional trailing groups swallow a
                    # following word ("BE48660487647593 today" -> "...7593 toda" + "y"), every candidate
                    # then fails mod-97 and the IBAN is missed. A case-sensitive copy finds upper-case IBANs
                    # (their standard form); the original still finds lower-case ones. Duplicates fold.
                    exact = copy.copy(rec)
                    exact.global_regex_flags = int(rec.global_regex_flags) & ~regex.IGNORECASE
                    self._whole.append(_Whole(exact, entity, context, prefilter, trigger))
        missing = sorted(self._entities - covered)
        if missing:
            raise ClassifierError(f"presidio has no pattern recognizer for {', '.join(missing)}")
        # One pass finds where any pattern could match; URL patterns (a huge TLD alternation, slow to
        # compile) are stood in for by the URL trigger, which every URL match contains.
        sources = [_URL_TRIGGER.pattern if p.trigger == "url" else p.regex.pattern for p in self._patterns]
        sources += [w.trigger for w in self._whole]
        self._prefilter = Prefilter(sources, flags=int(flags or 0))

    def forget(self) -> None:
        for w in self._whole:
            forget = getattr(w.recognizer, "forget", None)
            if forget is not None:
                forget()

    def classify(self, text: str, *, context: Sequence[str] = ()) -> list[Detection]:
        if not text or self._prefilter is None:
            return []
        hits = self._prefilter.scan(text)
        lowered = ""
        field_words = {w for c in context for w in _WORD.findall(c.lower())}
        found: list[Detection] = []
        data = _twin_input(text)
        base = len(self._patterns)
        candidates = hits.candidates(base + len(self._whole))
        for i in candidates:
            if i >= base:
                break
            p = self._patterns[i]
            if p.ascii_twin is not None and data is not None:
                matches = list(p.ascii_twin.finditer(data))
            elif (spans := hits.spans(i)) is None:
                matches = list(p.regex.finditer(text))
            else:
                matches = [m for lo, hi in spans for m in p.regex.finditer(text, lo, hi)]
            for m in matches:
                start, end = m.span()
                if start == end:
                    continue
                value = text[start:end]
                score = p.score
                verdict = p.validate(value)
                if verdict is not None:
                    if not verdict:
                        continue
                    score = 1.0
                if p.invalidate(value):
                    continue
                lowered = lowered or text.lower()
                score = self._with_context(score, lowered, start, end, p.context, field_words)
                found.append(Detection(p.entity, start, end, round(score, 4), f"{p.recognizer}:{p.name}"))
        for i in candidates:
            if i < base:
                continue
            w = self._whole[i - base]
            for start, end, score in self._run_whole(w, text, hits.spans(i)):
                if w.entity == "IBAN_CODE" and not _iban_ok(text[start:end]):
                    continue
                lowered = lowered or text.lower()
                score = self._with_context(score, lowered, start, end, w.context, field_words)
                found.append(Detection(w.entity, start, end, round(score, 4), str(w.recognizer.name)))
        return dedupe(found)

    def _run_whole(self, w: _Whole, text: str, where: list[tuple[int, int]] | None) -> list[tuple[int, int, float]]:
        spans: list[tuple[int, int]]
        if w.prefilter is None:
            spans = where if where is not None else [(0, len(text))]
        else:
            spans = []
            for m in w.prefilter.finditer(text):
                lo, hi = max(0, m.start() - 8), min(len(text), m.end() + 24)  # room for an extension
                if spans and lo <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], hi)
                else:
                    spans.append((lo, hi))
        out: list[tuple[int, int, float]] = []
        for lo, hi in spans:
            for r in w.recognizer.analyze(text[lo:hi], [w.entity], None):
                out.append((lo + r.start, lo + r.end, float(r.score)))
        return out

    def _with_context(
        self, score: float, lowered: str, start: int, end: int, context: Sequence[str], field_words: set[str]
    ) -> float:
        if score >= 1.0 or not context:
            return score
        hit = bool(field_words) and context_hit(field_words, " " + " ".join(sorted(field_words)) + " ", context)
        if not hit:
            window = (
                lowered[max(0, start - self._settings.context_before) : start]
                + " "
                + lowered[end : end + self._settings.context_after]
            )
            found = _WORD.findall(window)
            hit = context_hit(set(found), " " + " ".join(found) + " ", context)
        if not hit:
            return score
        return min(1.0, max(score + CONTEXT_BOOST, CONTEXT_FLOOR))


#: What ``\\s`` and ``\\d`` match in ASCII text under Python's ``regex`` (RE2's ``\\s`` has no ``\\v``).
_ASCII_CLASSES = {"s": "\\t\\n\\x0b\\f\\r ", "d": "0-9"}
#: Escapes that mean the same in RE2 as in ``regex`` (a literal character).
_LITERAL_ESCAPES = frozenset("-./\"'()[]{}?*+|\\")


def _twin_input(text: str) -> bytes | None:
    """What the URL patterns' RE2 twins read for ``text``, or None when they cannot read it exactly.

    ASCII text as it is. In other text, a non-ASCII character the URL patterns can only take as "not
    whitespace, not a bracket or quote" (``[^\\s()<>"']`` after the domain) becomes DEL, which they take
    exactly so, and non-ASCII whitespace a space; a decimal digit (``www\\d``) or a character that case-folds
    to ASCII (the Kelvin sign in a domain) has no such replacement: None.
    """
    if text.isascii():
        return text.encode("ascii")
    try:
        return text.encode("ascii", _TWIN_ERRORS)
    except _NoTwinError:
        return None


class _NoTwinError(ValueError):
    """A character the twins cannot read exactly."""


def _twin_chars(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):  # pragma: no cover - registered for encoding only
        raise exc
    out = []
    for ch in exc.object[exc.start : exc.end]:
        kind = stand_in(ch)
        if kind not in (" ", "a", "\x7f"):
            raise _NoTwinError
        out.append(" " if kind == " " else "\x7f")
    return "".join(out), exc.end


_TWIN_ERRORS = "ingestguard-url-twin"
codecs.register_error(_TWIN_ERRORS, _twin_chars)


def ascii_re2(source: str, flags: int) -> Any:
    """An RE2 pattern that finds exactly what ``regex.compile(source, flags)`` finds in ASCII text, or None.

    Only a plain subset is translated — literals, groups, alternation, greedy and bounded repeats,
    classes, ``\\d`` and ``\\s`` — where RE2's leftmost-first matching is the backtracking engine's;
    anything else (anchors, ``.``, ``\\b``, ``\\w``, look-arounds, back-references, lazy repeats)
    gives None and the pattern keeps its ``regex`` path.
    """
    try:
        import re2
    except ImportError:  # pragma: no cover - google-re2 is a dependency
        return None
    if not source.isascii() or flags & ~(re.IGNORECASE | re.MULTILINE | re.DOTALL | re.UNICODE):
        return None
    out: list[str] = []
    in_class = False
    i = 0
    if source.startswith("(?i)"):
        flags |= re.IGNORECASE
        i = 4
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            nxt = source[i + 1 : i + 2]
            if nxt in _ASCII_CLASSES:
                body = _ASCII_CLASSES[nxt]
                out.append(body if in_class else f"[{body}]")
            elif nxt and nxt in _LITERAL_ESCAPES:
                out.append(ch + nxt)
            else:
                return None
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
            out.append(ch)
        elif ch == "[":
            in_class = True
            out.append(ch)
            if source[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if source[i + 1 : i + 2] == "]":
                return None  # a leading literal "]": not worth translating
        elif ch == "(":
            if source.startswith("(?:", i):
                out.append("(?:")
                i += 3
                continue
            if source.startswith("(?", i):
                return None
            out.append("(?:")  # no capture: only the whole match is used
        elif ch in ".^$":
            return None
        elif ch in "*+?}" and source[i + 1 : i + 2] in ("?", "+"):
            return None  # lazy or possessive
        else:
            out.append(ch)
        i += 1
    options = re2.Options()
    options.case_sensitive = not flags & re.IGNORECASE
    options.never_capture = True
    options.max_mem = 64 << 20
    try:
        return re2.compile("".join(out).encode("ascii"), options)
    except re2.error:
        return None


def _trigger_for(recognizer: str) -> str | None:
    return "url" if recognizer == "UrlRecognizer" else None


def _iban_ok(value: str) -> bool:
    """The country's IBAN length and BBAN format too (python-stdnum's registry), not only mod-97.

    Presidio checks the format of a prefix only, so a match that swallowed the next word
    ("BE35 0018 4973 9223 today") passes whenever the longer string happens to pass mod-97
    (about one in 97); the case-sensitive copy of the pattern still finds the IBAN itself.
    National check digits inside the BBAN are not required (Presidio does not ask for them).
    """
    from stdnum import iban
    from stdnum.exceptions import ValidationError

    try:
        iban.validate(value, check_country=False)
    except ValidationError:
        return False
    return True
