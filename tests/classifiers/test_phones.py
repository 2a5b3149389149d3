"""The gated phone recognizer parses fewer candidates than Presidio's and finds exactly what it finds."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from random import Random

import phonenumbers
import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberMatcher, PhoneNumberType
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from classifiers.phones import GatedPhoneRecognizer, RegionGate

REGIONS = PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS
_PLAIN_TEXT = re.compile(r"[0-9 ().\-/]+")
_LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "he_IL", "en_IN", "en_CA", "pt_BR", "es_AR", "it_IT", "ja_JP"]


def _valid_examples(regions: Iterable[str]) -> Iterator[tuple[str, int, phonenumbers.PhoneNumber]]:
    """(region, number type, example number) for every type phonenumbers has a valid example of."""
    for region in regions:
        for kind in PhoneNumberType.values():
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None and phonenumbers.is_valid_number(number):
                yield region, kind, number


def _fakes() -> list[str]:
    out = []
    for locale in _LOCALES:
        fake = Faker(locale)
        fake.seed_instance(7)
        out += [fake.phone_number() for _ in range(25)]
    return out


def _examples() -> list[str]:
    """Every example number phonenumbers has for the default regions, in the ways people write them."""
    out = []
    for region in REGIONS:
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            for fmt in (PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.E164):
                out.append(phonenumbers.format_number(number, fmt))
            out.append(phonenumbers.format_out_of_country_calling_number(number, "US"))
            out.append(phonenumbers.format_out_of_country_calling_number(number, "DE"))
    return out


FAKES = _fakes()
EXAMPLES = _examples()
_PIECES = (
    FAKES
    + EXAMPLES
    + [
        " ",
        "-",
        ".",
        "/",
        "(",
        ")",
        "+",
        "00",
        "011",
        "0",
        "1",
        " ext. 12",
        " x",
        "#",
        "%",
        "$",
        "abc",
        "\n",
        "4111 1111 1111 1111",
        "127.0.0.1",
        "1999-2003",
        "12/05/2021",
        "10:30",
    ]
)
texts = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(alphabet="0123456789 -./()+", max_size=8)), max_size=12)


@pytest.fixture(scope="module")
def recognizers() -> tuple[PhoneRecognizer, PhoneRecognizer]:
    plain = PhoneRecognizer()
    gated = GatedPhoneRecognizer.wrap(plain)
    assert isinstance(gated, GatedPhoneRecognizer)
    return plain, gated


def _found(rec: PhoneRecognizer, text: str) -> list[tuple[int, int, float]]:
    return sorted((r.start, r.end, r.score) for r in rec.analyze(text, ["PHONE_NUMBER"], None))


@settings(max_examples=400, deadline=None)
@given(pieces=texts)
def test_gated_recognizer_finds_what_presidio_finds(
    recognizers: tuple[PhoneRecognizer, PhoneRecognizer], pieces: list[str]
) -> None:
    plain, gated = recognizers
    text = "".join(pieces)
    assert _found(gated, text) == _found(plain, text)


def test_gated_recognizer_finds_the_fake_and_example_numbers(
    recognizers: tuple[PhoneRecognizer, PhoneRecognizer],
) -> None:
    plain, gated = recognizers
    text = "Call " + "; or call ".join(FAKES + EXAMPLES) + "."
    found = _found(gated, text)
    assert found == _found(plain, text)
    assert len(found) > len(FAKES)  # not vacuous: most of them are numbers


@settings(max_examples=2000, deadline=None)
@given(candidate=st.text(alphabet="0123456789 -./()", min_size=1, max_size=24), region=st.sampled_from(REGIONS))
def test_a_candidate_the_gate_rules_out_is_never_a_match(candidate: str, region: str) -> None:
    if RegionGate(region).could_be_valid(candidate):
        return
    matcher = PhoneNumberMatcher(candidate, region, leniency=1)
    assert matcher._parse_and_verify(candidate, 0) is None


def _written(number: phonenumbers.PhoneNumber) -> list[str]:
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    digits = phonenumbers.national_significant_number(number)
    cc = str(number.country_code)
    return [national, digits, cc + digits, f"{cc} {national}", f"00 {cc} {digits}", f"011 {cc} {digits}"]


_ALL_EXAMPLES = [
    text
    for region in sorted(phonenumbers.SUPPORTED_REGIONS)
    for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE)
    if (number := phonenumbers.example_number_for_type(region, kind)) is not None
    for text in _written(number)
]


@settings(max_examples=3000, deadline=None)
@given(
    written=st.sampled_from(_ALL_EXAMPLES),
    cut=st.integers(0, 4),
    digit=st.sampled_from("0123456789"),
    at=st.integers(0, 30),
    region=st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)),
)
def test_a_number_written_any_way_in_any_region_is_ruled_out_only_when_phonenumbers_rejects_it(
    written: str, cut: int, digit: str, at: int, region: str
) -> None:
    """Real numbers of every region, shortened, lengthened or with a digit changed, read in every region."""
    at = min(at, len(written))
    for candidate in (written, written[cut:], written[:at] + digit + written[at:], written[:at] + written[at + 1 :]):
        if not candidate or _PLAIN_TEXT.fullmatch(candidate) is None or RegionGate(region).could_be_valid(candidate):
            continue
        assert PhoneNumberMatcher(candidate, region, leniency=1)._parse_and_verify(candidate, 0) is None, (
            candidate,
            region,
        )


def test_the_gate_lets_every_valid_number_through() -> None:
    rng = Random(3)
    checked = 0
    for region, kind, number in _valid_examples(REGIONS):
        gate = RegionGate(region)
        national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        digits = str(number.national_number)
        for text in (national, digits, f"{number.country_code} {digits}", f"({digits[:3]}) {digits[3:]}"):
            if phonenumbers.is_valid_number(phonenumbers.parse(text, region)):
                assert gate.could_be_valid(text), (region, kind)
                checked += 1
        # A corrupted copy the gate rules out must also fail in phonenumbers.
        i = rng.randrange(len(digits))
        corrupt = digits[:i] + str((int(digits[i]) + 1) % 10) + digits[i + 1 :]
        if not gate.could_be_valid(corrupt):
            assert not phonenumbers.is_valid_number(phonenumbers.parse(corrupt, region))
    assert checked > 40


@settings(max_examples=1500, deadline=None)
@given(candidate=st.text(alphabet="0123456789 -./()", min_size=1, max_size=12), region=st.sampled_from(REGIONS))
def test_a_candidate_too_short_to_hold_a_number_yields_no_match(candidate: str, region: str) -> None:
    if not RegionGate(region).too_short(candidate):
        return
    assert PhoneNumberMatcher(candidate, region, leniency=1)._extract_match(candidate, 0) is None


def test_every_region_can_be_gated_and_its_rules_are_followed() -> None:
    """Not only the default regions: prefix rules that insert digits (Argentina's "0 11 15" becomes
    "9 11", NANPA islands' seven-digit numbers gain an area code) are followed, not assumed away."""
    for region, kind, number in _valid_examples(sorted(phonenumbers.SUPPORTED_REGIONS)):
        national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        if _PLAIN_TEXT.fullmatch(national) and phonenumbers.is_valid_number(phonenumbers.parse(national, region)):
            assert RegionGate(region).could_be_valid(national), (region, kind, national)
    gate = RegionGate("AR")
    assert gate.could_be_valid("011 15 2345-6789")  # mobile, written with the trunk and mobile prefixes
    assert phonenumbers.is_valid_number(phonenumbers.parse("011 15 2345-6789", "AR"))
    with_ar = PhoneRecognizer(supported_regions=("US", "AR"))
    gated = GatedPhoneRecognizer.wrap(with_ar)
    text = "Llame al 011 15 2345-6789 o al (212) 555-0187."
    assert _found(gated, text) == _found(with_ar, text) != []


def test_lenient_or_custom_recognizers_are_left_alone() -> None:
    class Custom(PhoneRecognizer):  # type: ignore[misc]
        pass

    custom = Custom()
    assert GatedPhoneRecognizer.wrap(custom) is custom
    lenient = GatedPhoneRecognizer.wrap(PhoneRecognizer(leniency=0))
    text = "call 555-0100 or 12345"
    assert _found(lenient, text) == _found(PhoneRecognizer(leniency=0), text)
