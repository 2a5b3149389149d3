"""Presidio's phone recognizer, without parsing candidates that cannot be valid numbers in a region.

Presidio runs ``phonenumbers``' matcher once per supported region (eight by default). For every
candidate digit run — a card number, a date range, ``127.0.0.1``, a lone ``5`` — each matcher parses
the candidate with its region's rules and checks it is a valid number: about 80 µs per candidate and
region, most of what the ``fast`` profile spent.

Most of that work cannot succeed, and which can be told from the digits alone. When a candidate has
only ASCII digits and plain separators (no ``+``, letters, extension marks), and its digits do not
start with the region's international dialling prefix, ``parse`` keeps the region's country code and
a national significant number that is a *suffix* of those digits (it can only strip the country
code, a national prefix or a carrier code from the front; the eight default regions' transform rules
keep a suffix too). A valid number's national significant number fully matches the general pattern
of some region with that country code. So when no suffix of the digits matches any of those
patterns, the matcher's ``_parse_and_verify`` would return None, and this one returns None without
parsing. Everything else goes to ``phonenumbers`` unchanged, so the matches are the same; a property
test compares them with Presidio's own recognizer.
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

#: Candidates the shortcut reasons about: ASCII digits and separators ``parse`` drops without meaning.
_PLAIN = re.compile(r"[0-9 ().\-/]*")
_NOT_DIGIT = re.compile(r"[^0-9]")


class RegionGate:
    """Whether a candidate could be a valid phone number when read with one region's rules."""

    __slots__ = ("_idd", "_national", "region")

    def __init__(self, region: str) -> None:
        meta = PhoneMetadata.metadata_for_region(region)
        if meta is None:
            raise ValueError(f"phonenumbers has no metadata for region {region!r}")
        rule = meta.national_prefix_transform_rule
        if rule and not re.fullmatch(r"\\[1-9]", rule):
            # A rule such as Argentina's "9$1" inserts digits, so the national number need not be a suffix.
            raise ValueError(f"region {region}: national prefix transform rule {rule!r} may add digits")
        members = phonenumbers.region_codes_for_country_code(phonenumbers.country_code_for_region(region))
        patterns = []
        for member in members:
            desc = PhoneMetadata.metadata_for_region(member)
            if desc is not None and desc.general_desc is not None and desc.general_desc.national_number_pattern:
                patterns.append(f"(?:{desc.general_desc.national_number_pattern})")
        self.region = region
        self._idd = re.compile(meta.international_prefix) if meta.international_prefix else None
        # ``search`` with an end anchor tries every suffix.
        self._national = re.compile("(?:" + "|".join(patterns) + r")\Z") if patterns else None

    def could_be_valid(self, candidate: str) -> bool:
        if self._national is None or _PLAIN.fullmatch(candidate) is None:
            return True
        digits = _NOT_DIGIT.sub("", candidate)
        if self._idd is not None and self._idd.match(digits):
            return True  # an international prefix: any country code may follow
        return self._national.search(digits) is not None


class _GatedMatcher(PhoneNumberMatcher):
    """``PhoneNumberMatcher`` that skips ``parse`` for candidates its region's gate rules out."""

    def __init__(self, text: str, gate: RegionGate, leniency: int) -> None:
        super().__init__(text, gate.region, leniency=leniency)
        self._gate = gate

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

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        if not self._gated:
            return super().analyze(text, entities, nlp_artifacts)
        results = [
            self._get_recognizer_result(match, text, gate.region, nlp_artifacts)  # type: ignore[no-untyped-call]
            for gate in self._gates
            for match in _GatedMatcher(text, gate, self._leniency)
        ]
        return EntityRecognizer.remove_duplicates(results)
