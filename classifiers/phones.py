"""Presidio's phone recognizer, without parsing candidates that cannot be valid numbers in a region.

Presidio runs ``phonenumbers``' matcher once per supported region (eight by default). For every
candidate digit run — a card number, a date range, ``127.0.0.1``, a lone ``5`` — each matcher parses
the candidate with its region's rules and checks it is a valid number: about 80 µs per candidate and
region, most of what the ``fast`` profile spent.

Most of that work cannot succeed, and which can be told from the digits alone. When a candidate has
only ASCII digits and plain separators (no ``+``, letters or extension marks) and its digits do not
start with the region's international dialling prefix, ``parse`` keeps the region's country code,
and the national significant number it derives is one of a few strings: the digits, or the digits
without the country code in front, each with the national prefix (or carrier code) stripped or
transformed by the rules of the region or of its country code's main region, at most twice. A valid
number's national significant number fully matches one of the number-type patterns (fixed line,
mobile, toll free, …) of a region with that country code. When none of those strings does, the matcher's
``_parse_and_verify`` would return None, and this one returns None without parsing. Everything else
goes to ``phonenumbers`` unchanged, so the matches are the same; property tests compare the gate with
``_parse_and_verify`` and the recognizer with Presidio's.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import phonenumbers
from phonenumbers import Leniency, PhoneMetadata, PhoneNumberMatcher
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

log = logging.getLogger(__name__)

#: Candidates the gate reasons about: ASCII digits and separators that ``parse`` drops without meaning.
_PLAIN = re.compile(r"[0-9 ().\-/]*")
_NOT_DIGIT = re.compile(r"[^0-9]")
#: The number types ``is_valid_number`` accepts (``phonenumberutil._number_type_helper``).
_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
_REMEMBERED = 4096
_MIN_NSN, _MAX_NSN = 2, 17  # phonenumberutil._MIN_LENGTH_FOR_NSN, _MAX_LENGTH_FOR_NSN
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")


class RegionGate:
    """Whether a candidate could be a valid phone number when read with one region's rules."""

    __slots__ = ("_country", "_idd", "_numbers", "_prefixes", "_seen", "_shortest", "region")

    def __init__(self, region: str) -> None:
        meta = PhoneMetadata.metadata_for_region(region)
        if meta is None or meta.country_code is None:
            raise ValueError(f"phonenumbers has no metadata for region {region!r}")
        country: int = meta.country_code
        members = [
            m
            for code in phonenumbers.region_codes_for_country_code(country)
            if (m := PhoneMetadata.metadata_for_region(code)) is not None
        ]
        # For each length a national number can have, the type patterns that accept numbers of that length
        # (``_is_number_matching_desc``: the general description's lengths, then the type's own).
        by_length: dict[int, list[str]] = {}
        for m in members:
            general = set(m.general_desc.possible_length or ()) if m.general_desc is not None else set()
            for kind in _TYPES:
                desc = getattr(m, kind, None)
                if desc is None or not desc.national_number_pattern:
                    continue
                if _BACKREFERENCE.search(desc.national_number_pattern):
                    raise ValueError(f"region {region}: number patterns cannot be combined")
                lengths = set(desc.possible_length or ()) or general
                if not lengths or -1 in lengths:
                    lengths = set(range(_MIN_NSN, _MAX_NSN + 1))  # no usable lengths: any
                for n in lengths:
                    by_length.setdefault(n, []).append(desc.national_number_pattern)
        # National prefixes are stripped with this region's rules and, once a country code has been taken
        # off the front, with those of the country code's main region (``parse`` switches metadata).
        main = PhoneMetadata.metadata_for_region(phonenumbers.region_code_for_country_code(country))
        prefixes = {(m.national_prefix_for_parsing, m.national_prefix_transform_rule or "") for m in (meta, main) if m}
        self.region = region
        self._country = str(country)
        self._idd = re.compile(meta.international_prefix) if meta.international_prefix else None
        self._prefixes = [(re.compile(p), rule) for p, rule in sorted(prefixes) if p]
        # A transform rule that writes digits of its own (Madagascar's "20\1" before a seven-digit local
        # number) makes a national number longer than the candidate's digits: no length bound then.
        adds_digits = any(rule and not re.fullmatch(r"(?:\\[1-9])+", rule) for _, rule in prefixes)
        self._shortest = 0 if adds_digits else min(by_length, default=0)
        #: Verdicts by candidate: short digit runs (years, counts, versions) recur in every corpus.
        self._seen: dict[str, bool] = {}
        self._numbers = {
            n: re.compile("|".join(f"(?:{t})" for t in dict.fromkeys(patterns))) for n, patterns in by_length.items()
        }

    def could_be_valid(self, candidate: str) -> bool:
        verdict = self._seen.get(candidate)
        if verdict is None:
            verdict = self._could_be_valid(candidate)
            if len(self._seen) >= _REMEMBERED:
                self._seen.clear()
            self._seen[candidate] = verdict
        return verdict

    def forget(self) -> None:
        self._seen.clear()

    def too_short(self, candidate: str) -> bool:
        """Whether ``candidate`` and every part of it are too short to be a valid number in this region."""
        digits = _plain_digits(candidate)
        return digits is not None and len(digits) < self._shortest

    def _could_be_valid(self, candidate: str) -> bool:
        digits = _plain_digits(candidate)
        if digits is None:
            return True
        if len(digits) < self._shortest:
            return False  # every national number parse derives is at most this long
        if self._idd is not None and self._idd.match(digits):
            return True  # an international prefix: any country code may follow
        for number in self.national_numbers(digits):
            pattern = self._numbers.get(len(number))
            if pattern is not None and pattern.fullmatch(number):
                return True
        return False

    def national_numbers(self, digits: str) -> set[str]:
        """Every national significant number ``parse`` can derive from ``digits`` (no IDD, no ``+``).

        ``_maybe_extract_country_code`` may take the country code off the front and strip a national
        prefix; ``parse`` then strips one more (with the metadata of the country code's main region).
        """
        frontier = {digits}
        if digits.startswith(self._country):
            frontier.add(digits[len(self._country) :])
        out = set(frontier)
        for _ in range(2):
            frontier = {n for number in frontier for n in self._stripped(number)} - out
            out |= frontier
        return out

    def _stripped(self, number: str) -> list[str]:
        """What ``_maybe_strip_national_prefix_carrier_code`` may make of ``number``, per prefix rule."""
        out = []
        for pattern, rule in self._prefixes:
            m = pattern.match(number)
            if m is None:
                continue
            out.append(number[m.end() :])
            if rule:
                out.append(pattern.sub(rule, number, count=1))
        return out


def _plain_digits(candidate: str) -> str | None:
    """The digits of a candidate the gate can reason about (see :data:`_PLAIN`), or None."""
    return _NOT_DIGIT.sub("", candidate) if _PLAIN.fullmatch(candidate) is not None else None


class _GatedMatcher(PhoneNumberMatcher):
    """``PhoneNumberMatcher`` that skips ``parse`` for candidates its region's gate rules out.

    Skipping a short candidate's inner groups also skips their count against phonenumbers' limit of
    65,535 tries per text: past that limit (a text with that many digit runs) this matcher goes on
    finding numbers where the original stops.
    """

    def __init__(self, text: str, gate: RegionGate, leniency: int) -> None:
        super().__init__(text, gate.region, leniency=leniency)
        self._gate = gate

    def _extract_match(self, candidate: str, offset: int) -> Any:
        # Every number tried below (the candidate, then groups inside it) has at most its digits.
        if self._gate.too_short(candidate):
            return None
        return super()._extract_match(candidate, offset)

    def _parse_and_verify(self, candidate: str, offset: int) -> Any:
        if not self._gate.could_be_valid(candidate):
            return None
        return super()._parse_and_verify(candidate, offset)


class GatedPhoneRecognizer(PhoneRecognizer):
    """Presidio's ``PhoneRecognizer`` (same regions, leniency, score and context) with gated matchers."""

    def __init__(self, original: PhoneRecognizer) -> None:
        leniency = int(original.leniency if original.leniency is not None else Leniency.VALID)
        super().__init__(
            context=list(original.context or []),
            supported_language=original.supported_language,
            supported_entity=original.supported_entities[0],
            supported_regions=original.supported_regions,
            leniency=leniency,
            name=str(getattr(original, "name", "PhoneRecognizer")),
        )
        self._gates = [RegionGate(region) for region in self.supported_regions]
        # The gate relies on validity; under POSSIBLE (0) a number need not be valid.
        self._leniency = leniency
        self._gated = leniency >= int(Leniency.VALID)

    @classmethod
    def wrap(cls, original: Any) -> Any:
        """The gated twin of ``original``, or ``original`` itself when it is not Presidio's plain recognizer."""
        if type(original) is not PhoneRecognizer or not hasattr(PhoneNumberMatcher, "_parse_and_verify"):
            return original
        try:
            return cls(original)
        except ValueError as exc:
            log.info("phone numbers: parsing every candidate (%s)", exc)
            return original

    def forget(self) -> None:
        for gate in self._gates:
            gate.forget()

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        if not self._gated:
            return super().analyze(text, entities, nlp_artifacts)
        results = [
            self._get_recognizer_result(match, text, gate.region, nlp_artifacts)  # type: ignore[no-untyped-call]
            for gate in self._gates
            for match in _GatedMatcher(text, gate, self._leniency)
        ]
        return EntityRecognizer.remove_duplicates(results)
