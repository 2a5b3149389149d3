"""AI-specific risks: text that tries to steer a model, and text a human reader would not see.

* ``PROMPT_INJECTION`` — text addressed to an AI that tries to override its
  instructions, change its role, extract its prompt or data, or invoke tools:
  weighted phrase patterns (English, plus German, French and Spanish for the
  commonest override) and chat-template markers, scored per sentence. Text
  that *discusses* injection (security articles quoting an attack) is scored
  down, and everyday phrasing ("ignore my previous e-mail") does not match.
* ``HIDDEN_TEXT`` — Unicode tag characters (U+E0000–U+E007F, "ASCII
  smuggling": decoded, and the decoded text is checked for injection too),
  zero-width characters splitting words, bidirectional overrides. Content the
  extractors found hidden (CSS-hidden HTML, comments) is classified by every
  classifier under the field ``$hidden``; an injection there is both risks.
* ``EXFIL_LINK`` — markdown or HTML images and links whose URL carries
  data-shaped query values (a known exfiltration channel through rendered markdown).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Collection, Iterator, Sequence
from typing import ClassVar

import regex as regex_module

from classifiers.base import Detection
from classifiers.prefilter import Prefilter

PROMPT_INJECTION, HIDDEN_TEXT, EXFIL_LINK = "PROMPT_INJECTION", "HIDDEN_TEXT", "EXFIL_LINK"

_I = re.IGNORECASE
_PRIOR = (
    r"(?:(?:all|any)\s+(?:of\s+)?)?(?:the\s+|your\s+|my\s+|these\s+|those\s+)?"
    r"(?:previous|prior|above|earlier|preceding|original|initial|existing|system)"
)
_RULES = r"(?:instructions?|prompts?|directions?|rules|guidelines|directives|commands|guardrails|constraints|context)"

#: (name, regex, weight): a sentence scoring ≥ 0.8 is an injection.
_PATTERNS: tuple[tuple[str, re.Pattern[str], float], ...] = (
    ("override", re.compile(rf"\b(?:ignore|disregard|forget|override|bypass|skip)\s+{_PRIOR}\s+{_RULES}", _I), 0.9),
    (
        "override-everything",
        re.compile(
            r"\b(?:ignore|disregard|forget)\s+(?:everything|all(?:\s+of\s+it)?)\s+(?:above|before|you\s+(?:were|have\s+been)\s+told)",
            _I,
        ),
        0.85,
    ),
    (
        "new-instructions",
        re.compile(r"\b(?:new|updated|real|actual|following)\s+(?:system\s+)?instructions?\s*:", _I),
        0.6,
    ),
    (
        "role-change",
        re.compile(
            r"\byou\s+are\s+(?:now|no\s+longer)\s+(?:in\s+)?(?:an?\s+)?(?:developer|dan|jailbr\w*|unrestricted|unfiltered|evil|admin|god)\b",
            _I,
        ),
        0.85,
    ),
    (
        "mode-switch",
        re.compile(
            r"\b(?:enable|activate|enter|switch\s+to)\s+(?:developer|debug|jailbreak|god|dan|unrestricted)\s+mode\b", _I
        ),
        0.8,
    ),
    (
        "act-as-unrestricted",
        re.compile(
            r"\b(?:pretend|act)\s+(?:to\s+be|as(?:\s+if)?)\s+(?:you\s+(?:are|were)\s+)?(?:an?\s+)?(?:ai|assistant|model)?\s*(?:with(?:out)?\s+(?:no\s+)?(?:restrictions|filters|rules|guidelines))",
            _I,
        ),
        0.8,
    ),
    (
        "prompt-leak",
        re.compile(
            r"\b(?:reveal|print|show|repeat|output|leak|display|tell\s+me)\s+(?:me\s+)?(?:your|the)\s+(?:full\s+|entire\s+|hidden\s+|initial\s+)?(?:system\s+prompt|instructions|prompt|hidden\s+rules)",
            _I,
        ),
        0.8,
    ),
    (
        "exfiltrate",
        re.compile(
            r"\b(?:send|post|forward|upload|transmit|exfiltrate|email|leak)\s+(?:all\s+|the\s+|this\s+|every\s+|any\s+)?(?:(?:user(?:'s|s')?|conversation|chat|private|personal|confidential|session|customer)\s+){0,2}(?:data|history|conversation|messages|credentials|passwords?|secrets|api\s+keys?|tokens?|files|documents|contents)\s+to\s+(?:https?://|\S+@\S+|the\s+(?:following|address|url|endpoint|server))",
            _I,
        ),
        0.9,
    ),
    (
        "tool-invocation",
        re.compile(
            r"\b(?:call|invoke|execute|run|use)\s+the\s+[`'\"]?\w+[`'\"]?\s+(?:tool|function|plugin|action)\s+(?:with|to|and)\b",
            _I,
        ),
        0.5,
    ),
    (
        "secrecy",
        re.compile(
            r"\b(?:do\s+not|don't|never)\s+(?:tell|inform|mention\s+(?:this|it)\s+to|reveal\s+(?:this|it)\s+to|let)\s+(?:the\s+)?(?:user|human|operator|them)\b",
            _I,
        ),
        0.5,
    ),
    (
        "addressed-to-ai",
        re.compile(
            r"\b(?:attention|note\s+to|message\s+for|instructions?\s+for)\s*:?\s*(?:the\s+)?(?:ai|llm|assistant|chatbot|language\s+model|gpt|claude|copilot)s?\b",
            _I,
        ),
        0.5,
    ),
    (
        "template-marker",
        re.compile(
            r"<\|(?:im_start|im_end|system|endoftext|begin_of_text|start_header_id)\|>|\[/?INST\]|<<SYS>>|^\s*#{2,}\s*(?:system|instruction)s?\s*:?\s*$|\bBEGIN\s+SYSTEM\s+PROMPT\b",
            _I | re.MULTILINE,
        ),
        0.85,
    ),
    (
        "override-de",
        re.compile(
            r"\bignorier(?:e|en)?\s+(?:sie\s+)?(?:alle\s+)?(?:vorherigen|bisherigen|obigen)\s+(?:anweisungen|instruktionen|regeln)",
            _I,
        ),
        0.9,
    ),
    (
        "override-fr",
        re.compile(
            r"\bignore[rz]?\s+(?:toutes\s+)?(?:les\s+)?(?:instructions|consignes|règles)\s+(?:précédentes|antérieures|ci-dessus)",
            _I,
        ),
        0.9,
    ),
    (
        "override-es",
        re.compile(
            r"\bignora(?:r)?\s+(?:todas\s+)?(?:las\s+)?(?:instrucciones|indicaciones|reglas)\s+(?:anteriores|previas)",
            _I,
        ),
        0.9,
    ),
)
_DISCUSSION = re.compile(
    r"\b(?:prompt\s+injection|jailbreak(?:ing|s)?\b|attack(?:er|ers|s)?|adversar\w*|researchers?|for\s+example|e\.g\.|such\s+as|"
    r"phrases?\s+like|known\s+as|payloads?|red[\s-]team\w*|mitigat\w*|defen[cs]e\w*|detect\w*|OWASP)\b",
    _I,
)
_QUOTED = re.compile(r"[\"“”'‘’`]")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")
_BOUNDARY_BACK = regex_module.compile(r"[.!?\n]", flags=regex_module.REVERSE)
#: Every injection pattern contains one of these (lower-case) stems; a sentence without any is not examined
#: further. Substring tests are far cheaper than a case-insensitive alternation.
_STEMS = (
    "ignor",
    "disregard",
    "forget",
    "overrid",
    "bypass",
    "skip",
    "you are",
    "mode",
    "pretend",
    "act as",
    "reveal",
    "prompt",
    "instruction",
    "hidden",
    "send",
    "post",
    "forward",
    "upload",
    "transmit",
    "exfiltrat",
    "email",
    "leak",
    "tool",
    "function",
    "plugin",
    "action",
    "tell",
    "inform",
    "mention",
    "let ",
    "attention",
    "note to",
    "message for",
    "<|",
    "inst]",
    "<<sys>>",
    "##",
    "begin system",
    "anweisung",
    "consigne",
    "instrucci",
)
#: Any invisible or direction-control character, or a tag character: the hidden-text checks run only then.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\u180e\ufeff\U000E0000-\U000E007F]")


def _unanchored(source: str) -> str:
    """``source`` without its line anchors: a sentence is searched on its own, where ``^`` and ``$`` match at
    its edges, so the prefilter (which reads the whole text) must not require a line break there."""
    return source.replace("|^\\s*", "|\\s*").replace("\\s*$|", "\\s*|")


@functools.cache
def _stem_prefilter() -> Prefilter:
    """Index 0: any stem; index ``1 + i``: where injection pattern ``i`` may end a match (one pass for both)."""
    sources = ["|".join(re.escape(stem) for stem in _STEMS)]
    sources += [_unanchored(regex.pattern) for _, regex, _ in _PATTERNS]
    return Prefilter(sources, flags=re.IGNORECASE)


def _sentences_with_stems(text: str) -> Iterator[re.Match[str]]:
    """The sentences of ``text`` that contain a stem, exactly as a full sentence scan splits them."""
    hits = _stem_prefilter().scan(text)
    ends = hits.ends(0)
    if ends is None:
        yield from _SENTENCE.finditer(text)
        return
    last_end = -1
    for end in sorted(set(ends)):
        inside = end - 1  # the stem's last character; stems hold no sentence boundary
        if inside < last_end:
            continue
        boundary = _BOUNDARY_BACK.search(text, 0, max(0, inside))
        for m in _SENTENCE.finditer(text, boundary.end() if boundary else 0):
            if m.end() > inside:
                if m.start() <= inside:
                    yield m
                    last_end = m.end()
                break


def _sorted(ends: list[int] | None) -> list[int] | None:
    return None if ends is None else sorted(ends)


def _any_in(ends: list[int], lo: int, hi: int) -> bool:
    """Whether a sorted list holds a value in ``(lo, hi]``."""
    i = bisect.bisect_right(ends, lo)
    return i < len(ends) and ends[i] <= hi


def _triggered(sentence: str) -> bool:
    lowered = sentence.lower()
    return any(stem in lowered for stem in _STEMS)


THRESHOLD = 0.8

_TAGS = re.compile(r"[\U000E0000-\U000E007F]+")
_ZERO_WIDTH = re.compile(r"(?<=\w)[\u200b\u200c\u200d\u2060\u180e\ufeff]+(?=\w)")
_BIDI_OVERRIDE = re.compile(r"[\u202d\u202e]")
_BIDI_OTHER = re.compile(r"[\u202a\u202b\u2066\u2067\u2068]")
_RTL = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_EMOJI_NEAR = re.compile(r"[\U0001F000-\U0001FAFF\u2600-\u27BF]")
_EXFIL = re.compile(
    r"!?\[[^\]\n]{0,200}\]\((https?://[^)\s]+\?[^)\s]+)\)|<img\b[^>]*\bsrc=[\"'](https?://[^\"'\s]+\?[^\"'\s]+)[\"']",
    _I,
)
_DATA_VALUE = re.compile(r"[?&][\w.-]{1,32}=(?:[A-Za-z0-9+/_%-]{32,}|[^&#\s]*(?:\{[^}]*\}|\$\w+|%7B))")


def decode_tags(text: str) -> str:
    """The ASCII hidden in Unicode tag characters (U+E0020–U+E007E map to ' '–'~')."""
    return "".join(chr(ord(ch) - 0xE0000) for ch in text if 0xE0020 <= ord(ch) <= 0xE007E)


def injection_score(sentence: str, only: Collection[int] | None = None) -> tuple[float, str]:
    """The score of one sentence and the strongest pattern that fired; ``only``: the indexes of the patterns
    that can match in it (the others are known not to)."""
    total, best, best_weight = 0.0, "", 0.0
    for i, (name, regex, weight) in enumerate(_PATTERNS):
        if only is not None and i not in only:
            continue
        if regex.search(sentence):
            total += weight
            if weight > best_weight:
                best, best_weight = name, weight
    if total and _DISCUSSION.search(sentence) and _QUOTED.search(sentence):
        total *= 0.4  # quoted and discussed: an article about injection, not an injection
    return min(1.0, total), best


class RiskClassifier:
    """PROMPT_INJECTION, HIDDEN_TEXT and EXFIL_LINK, model-free."""

    name: ClassVar[str] = "risks"
    expensive: ClassVar[bool] = False

    def __init__(self, *, prefilter: bool = True) -> None:
        #: False: every pattern searched in every triggered sentence (the reference the prefiltered path must equal).
        self._prefiltered = prefilter

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset({PROMPT_INJECTION, HIDDEN_TEXT, EXFIL_LINK})

    def setup(self) -> None:
        _stem_prefilter()

    def classify(self, text: str, *, context: Sequence[str] = ()) -> list[Detection]:
        found: list[Detection] = []
        hidden_field = "$hidden" in context
        hits = _stem_prefilter().scan(text)
        ends: list[list[int] | None] = []
        anywhere: list[int] | None = None
        spans: list[tuple[int, int]] | None = []
        if hits.any(0):  # some trigger stem: only then can a sentence score
            # A pattern matching inside a sentence ends a match the prefilter reported in (start, end]; a
            # sentence holding no such end scores 0 whatever its stems.
            if self._prefiltered:
                reported = set(hits.candidates(1 + len(_PATTERNS)))
                ends = [_sorted(hits.ends(1 + i)) if 1 + i in reported else [] for i in range(len(_PATTERNS))]
                anywhere = None if None in ends else sorted({e for x in ends if x for e in x})
            if anywhere != []:
                spans = hits.spans(0)
        sentences = (
            _SENTENCE.finditer(text)
            if spans is None
            else (m for lo, hi in spans for m in _SENTENCE.finditer(text, lo, hi))
        )
        for m in sentences:
            if anywhere is not None and not _any_in(anywhere, m.start(), m.end()):
                continue
            if not _triggered(m.group(0)):
                continue
            only: list[int] | None = None
            if self._prefiltered:
                only = [i for i, e in enumerate(ends) if e is None or _any_in(e, m.start(), m.end())]
            score, name = injection_score(m.group(0), only)
            if score >= THRESHOLD:
                start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
                end = m.start() + len(m.group(0).rstrip())
                found.append(Detection(PROMPT_INJECTION, start, end, round(score, 3), f"injection:{name}"))
                if hidden_field:
                    found.append(Detection(HIDDEN_TEXT, start, end, 0.95, "hidden-channel-injection"))
        if not text.isascii() and _INVISIBLE.search(text) is not None:
            found.extend(self._hidden(text))
        if "](" in text or "<img" in text.lower():
            for m in _EXFIL.finditer(text):
                url = m.group(1) or m.group(2)
                if _DATA_VALUE.search(url):
                    found.append(Detection(EXFIL_LINK, m.start(), m.end(), 0.85, "data-in-link"))
        return found

    def _hidden(self, text: str) -> list[Detection]:
        found: list[Detection] = []
        for m in _TAGS.finditer(text):
            decoded = decode_tags(m.group(0))
            if len(decoded.strip()) >= 3:
                found.append(Detection(HIDDEN_TEXT, m.start(), m.end(), 0.95, "unicode-tags"))
                score, name = injection_score(decoded)
                if score >= THRESHOLD:
                    found.append(
                        Detection(PROMPT_INJECTION, m.start(), m.end(), round(score, 3), f"injection-in-tags:{name}")
                    )
        splits = [m for m in _ZERO_WIDTH.finditer(text) if not self._emoji_join(text, m.start(), m.end())]
        if len(splits) >= 3:
            found.append(Detection(HIDDEN_TEXT, splits[0].start(), splits[-1].end(), 0.85, "zero-width-split"))
        override = _BIDI_OVERRIDE.search(text)
        embedding = _BIDI_OTHER.search(text)
        if override is not None:
            found.append(Detection(HIDDEN_TEXT, override.start(), override.end(), 0.9, "bidi-override"))
        elif embedding is not None and not _RTL.search(text):
            found.append(Detection(HIDDEN_TEXT, embedding.start(), embedding.end(), 0.6, "bidi-embedding-without-rtl"))
        return found

    @staticmethod
    def _emoji_join(text: str, start: int, end: int) -> bool:
        return bool(_EMOJI_NEAR.search(text[max(0, start - 2) : end + 2]))
