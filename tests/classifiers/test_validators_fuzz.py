"""Property-based fuzzing of every validator and pattern classifier the scanner runs (issue #9).

Two kinds of property:

* **robustness**: for arbitrary text (any Unicode, non-ASCII digits, huge digit
  runs, separators, prefixes that wake up the secret detectors) no exception
  escapes a classifier or a validator, detections are well formed (spans inside
  the text, ``start < end``, scores in ``[0, 1]``, declared entity types), and
  nothing is logged (a log line could quote the value);
* **checksums**: where valid numbers can be generated (Luhn cards, IBAN
  mod-97, UK NHS mod-11, DEA mod-10, Bitcoin base58check, US SSN area/group/serial
  rules), every generated number is accepted and *every* single-digit
  corruption is rejected, except where the scheme itself cannot see it (a DEA
  weight-2 digit changed by 5, which that checksum does not detect).

``tests/classifiers/test_patterns.py`` checks one random corruption per card
and IBAN through the classifier; this file checks all of them, at the
validators the classifier drives, and the schemes that file does not cover.
"""

from __future__ import annotations

import hashlib
import logging
import random
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from classifiers.addresses import StreetAddressClassifier
from classifiers.base import Detection
from classifiers.fingerprint import Fingerprinter, mask, normalise
from classifiers.markings import MarkingsClassifier
from classifiers.patterns import PatternPiiClassifier
from classifiers.risks import RiskClassifier
from classifiers.secrets import SPECS, SecretsClassifier
from classifiers.settings import MarkingPattern
from classifiers.userpatterns import MarkingPatternClassifier
from scanner.config import load_settings
from tests.corpus import luhn_complete

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHECKSUM = settings(max_examples=40, deadline=None)


# --------------------------------------------------------------------------- classifiers under test


@pytest.fixture(scope="module")
def patterns() -> PatternPiiClassifier:
    c = PatternPiiClassifier(load_settings().classifiers.patterns)
    c.setup()
    return c


@pytest.fixture(scope="module")
def every_classifier(patterns: PatternPiiClassifier) -> list[Any]:
    cfg = load_settings().classifiers
    markings = MarkingsClassifier(cfg.markings)
    user = MarkingPatternClassifier([MarkingPattern(name="code", pattern=r"PROJECT[- ]?[A-Z]+-\d{2,4}", score=0.8)])
    out: list[Any] = [patterns, SecretsClassifier(), StreetAddressClassifier(), markings, user, RiskClassifier()]
    for c in out:
        c.setup()
    return out


def _validator(patterns: PatternPiiClassifier, entity: str) -> Callable[[str], bool | None]:
    """The ``validate_result`` the classifier drives for ``entity`` (a pattern or a whole recognizer)."""
    for p in patterns._patterns:
        if p.entity == entity:
            return p.validate
    for w in patterns._whole:
        if w.entity == entity:
            return w.recognizer.validate_result  # type: ignore[no-any-return]
    raise LookupError(entity)


def _found(patterns: PatternPiiClassifier, text: str, entity: str) -> list[str]:
    return [text[d.start : d.end] for d in patterns.classify(text) if d.entity_type == entity]


# --------------------------------------------------------------------------- hostile text

#: Digits of other scripts (Arabic-Indic, Devanagari, fullwidth, mathematical), and digit-like
#: characters that ``str.isdigit`` accepts but ``int`` refuses (superscripts, circled).
ODD_DIGITS = "٠١٢٣٤٥٦٧٨٩०१२३४५६७८९０１２３４５６７８９𝟎𝟏𝟐²³¹⁴①②⑩"
SEPARATORS = " -./\t\n\r:_,;\u00a0\u2009\u2011\u200b\ufeff"
WAKE_UP = [
    "ssn ", "SSN: ", "card ", "iban ", "DE", "GB", "bc1", "1", "3", "ghp_", "gho_", "github_pat_", "glpat-",
    "xoxb-", "sk-", "sk-proj-", "sk-ant-api03-", "sk_live_", "rk_test_", "AKIA", "ASIA", "AIza", "eyJ", "ey",
    "password=", "passwd: ", 'token = "', "api_key=", "secret_key: ", "aws_secret_access_key = ", "AccountKey=",
    "DefaultEndpointsProtocol=https;AccountName=a;", "sv=2024-01-01&sig=", "&sig=", "https://u:", "@host",
    "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----",
    '"private_key_id": "', '"type": "service_account"', "https://hooks.slack.com/services/T",
    "CONFIDENTIAL", "internal use only", "PROJECT-X-12", "Ignore all previous instructions. ",
    "742 Evergreen Terrace", "Hauptstraße 5", "Rue ", "![x](https://e.example/p?d=", ")", "<img src=",
    "\U000e0049\U000e0067", "\u202e", "\u200b", "@", "example.com", "http://", "://", "192.168.", "::",
]  # fmt: skip


def _digit_run() -> st.SearchStrategy[str]:
    return st.integers(min_value=1, max_value=600).flatmap(
        lambda n: st.text(alphabet=string.digits, min_size=n, max_size=n)
    )


hostile_text = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.text(alphabet=string.digits + SEPARATORS, max_size=60),
        st.text(alphabet=ODD_DIGITS + string.digits + SEPARATORS, max_size=40),
        st.text(alphabet=string.ascii_letters + string.digits + "+/=_-.", max_size=120),
        _digit_run(),
        st.sampled_from(WAKE_UP),
    ),
    max_size=14,
).map("".join)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _logged() -> Iterator[list[logging.LogRecord]]:
    """Every record logged anywhere meanwhile (presidio logs at ERROR when a validator raises)."""
    handler = _Records()
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)
        root.setLevel(old)


def _well_formed(found: list[Detection], text: str, entity_types: frozenset[str]) -> None:
    for d in found:
        assert 0 <= d.start < d.end <= len(text), d
        assert 0.0 <= d.score <= 1.0, d
        assert d.entity_type in entity_types, d
        assert isinstance(d.detector, str) and d.detector


# --------------------------------------------------------------------------- robustness


@FUZZ
@given(text=hostile_text)
def test_no_classifier_raises_and_every_detection_is_well_formed(every_classifier: list[Any], text: str) -> None:
    with _logged() as records:
        for c in every_classifier:
            found = c.classify(text, context=["ssn", "card_number", "$hidden"])
            _well_formed(found, text, c.entity_types)
    # Anything logged while classifying could quote the text (presidio's IBAN validator does on error).
    loud = [r for r in records if r.levelno >= logging.WARNING]
    assert not loud, [r.getMessage()[:80] for r in loud]


@FUZZ
@given(text=hostile_text)
def test_every_presidio_validator_takes_whatever_its_pattern_matches(patterns: PatternPiiClassifier, text: str) -> None:
    """Each pattern's validate/invalidate on every match of its regex (not only those the prefilter keeps)."""
    for p in patterns._patterns:
        if p.trigger == "url":  # the URL recognizer has no validator; its TLD alternation is slow to run everywhere
            continue
        for m in p.regex.finditer(text):
            value = m.group(0)
            if not value:
                continue
            assert p.validate(value) in (True, False, None)
            assert p.invalidate(value) in (True, False, None)
    for w in patterns._whole:
        for r in w.recognizer.analyze(text, [w.entity], None):
            assert 0 <= r.start < r.end <= len(text) and 0.0 <= r.score <= 1.0


@FUZZ
@given(text=hostile_text)
def test_every_secret_validator_returns_a_score_or_rejects(text: str) -> None:
    for spec in SPECS:
        if spec.validator is None:
            continue
        for m in spec.regex.finditer(text):
            score = spec.validator(m, spec.score)
            assert score is None or 0.0 <= score <= 1.0, (spec.detector, score)


@pytest.mark.parametrize(
    "text",
    [
        "4" * 200_000,
        ("1234 5678 9012 3456 " * 20_000),
        ("0" * 50_000 + "-") * 4,
        "٣" * 100_000,
        "² " * 50_000,
        "ey" + "A" * 100_000 + ".eyJ" + "a" * 1000 + ".sig_sig_sig",
        "password=" + "x" * 100_000,
        "-----BEGIN PRIVATE KEY-----" + "-" * 100_000,
        "DE89 " * 40_000,
    ],
    ids=["digits", "cards", "zeros", "arabic-digits", "superscripts", "jwt", "password", "pem", "iban-prefix"],
)
def test_huge_runs_end_and_stay_well_formed(every_classifier: list[Any], text: str) -> None:
    for c in every_classifier:
        _well_formed(c.classify(text), text, c.entity_types)


def test_a_jwt_whose_json_nests_beyond_the_parser_is_rejected_not_raised() -> None:
    """A JWT segment decoding to 100,000 nested arrays made ``json.loads`` raise RecursionError out of the
    secrets classifier, failing the unit instead of classifying it."""
    import base64
    import json

    def seg(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    header = seg(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    deep = seg(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    text = f"Authorization: Bearer {header}.{deep}.c2lnbmF0dXJlc2ln"
    assert SecretsClassifier().classify(text) == []
    deep_header = seg(b'{"alg":' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert SecretsClassifier().classify(f"{deep_header}.{seg(b'{}')}.c2lnbmF0dXJlc2ln") == []


# --------------------------------------------------------------------------- fingerprint and mask


@FUZZ
@given(value=st.one_of(st.text(max_size=300), _digit_run()), entity=st.sampled_from(["CREDIT_CARD", "SECRET_JWT"]))
def test_fingerprint_and_mask_take_any_value(value: str, entity: str) -> None:
    fp = Fingerprinter(b"k" * 32)
    first = fp(entity, value)
    assert len(first) == 32 and all(ch in "0123456789abcdef" for ch in first)
    assert fp(entity, value) == first and fp(entity, normalise(value)) == first  # normalising is idempotent
    masked = mask(entity, value)
    body, _, suffix = masked.partition("…(")
    assert len(body) <= 64 and (not suffix or suffix == f"{len(value)})")
    revealed = [ch for ch in body if ch.isalnum()]
    assert len(revealed) <= (0 if entity.startswith("SECRET_") else 4)


# --------------------------------------------------------------------------- checksums: generate, then corrupt


def _substitutions(value: str, positions: range | list[int] | None = None) -> Iterator[tuple[int, str]]:
    """Every string that differs from ``value`` in exactly one ASCII digit, with the position changed."""
    for i in positions if positions is not None else range(len(value)):
        if not value[i].isdigit():
            continue
        for d in string.digits:
            if d != value[i]:
                yield i, value[:i] + d + value[i + 1 :]


CARD_PREFIXES = [("4", 16), ("4", 13), ("4", 19), ("51", 16), ("55", 16), ("37", 15), ("34", 15), ("6011", 16)]


@CHECKSUM
@given(seed=st.integers(0, 2**32), prefix=st.sampled_from(CARD_PREFIXES), spaced=st.booleans())
def test_luhn_every_single_digit_corruption_is_rejected(
    patterns: PatternPiiClassifier, seed: int, prefix: tuple[str, int], spaced: bool
) -> None:
    card = luhn_complete(prefix[0], prefix[1], random.Random(seed))
    if spaced:
        card = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    validate = _validator(patterns, "CREDIT_CARD")
    assert validate(card) is True
    if len(card.replace(" ", "")) == 16:  # a length the card pattern matches
        assert _found(patterns, f"paid with {card} today", "CREDIT_CARD") == [card]
    for _, bad in _substitutions(card):
        assert validate(bad) is False, "a single-digit change passed Luhn"


def _iban(rng: random.Random, country: str, shape: str) -> str:
    alphabet = {"n": string.digits, "a": string.ascii_uppercase, "c": string.digits + string.ascii_uppercase}
    bban = "".join(rng.choice(alphabet[kind]) for kind in shape)
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


IBAN_SHAPES = {
    "DE": "n" * 18,
    "GB": "a" * 4 + "n" * 14,
    "NL": "a" * 4 + "n" * 10,
    "ES": "n" * 20,
    "FR": "n" * 10 + "c" * 11 + "n" * 2,
    "CH": "n" * 5 + "c" * 12,
    "BE": "n" * 12,
}


@CHECKSUM
@given(seed=st.integers(0, 2**32), country=st.sampled_from(sorted(IBAN_SHAPES)), grouped=st.booleans())
@example(seed=3620997, country="BE", grouped=False)  # "...9223 today" passed mod-97 with the next word in it
@example(seed=3620997, country="BE", grouped=True)
def test_iban_mod97_every_single_digit_corruption_is_rejected(
    patterns: PatternPiiClassifier, seed: int, country: str, grouped: bool
) -> None:
    """mod-97 sees every single-digit change (97 is prime and larger than any digit difference)."""
    good = _iban(random.Random(seed), country, IBAN_SHAPES[country])
    if grouped:
        good = " ".join(good[i : i + 4] for i in range(0, len(good), 4))
    validate = _validator(patterns, "IBAN_CODE")
    assert validate(good) is True
    assert _found(patterns, f"transfer to {good} today", "IBAN_CODE") == [good]
    for _, bad in _substitutions(good, range(2, len(good))):
        assert validate(bad) is not True, "a single-digit change passed mod-97"
        assert bad not in _found(patterns, f"transfer to {bad} today", "IBAN_CODE")


def _nhs(rng: random.Random) -> str:
    while True:
        body = [rng.randrange(10) for _ in range(9)]
        check = -sum(d * w for d, w in zip(body, range(10, 1, -1), strict=True)) % 11
        if check < 10:
            return "".join(map(str, body)) + str(check)


@CHECKSUM
@given(seed=st.integers(0, 2**32), sep=st.sampled_from(["", " ", "-"]))
def test_nhs_mod11_every_single_digit_corruption_is_rejected(
    patterns: PatternPiiClassifier, seed: int, sep: str
) -> None:
    raw = _nhs(random.Random(seed))
    number = sep.join([raw[:3], raw[3:6], raw[6:]])
    validate = _validator(patterns, "UK_NHS")
    assert validate(number) is True
    assert number in _found(patterns, f"NHS number {number} on file", "UK_NHS")
    for _, bad in _substitutions(number):
        assert validate(bad) is False


def _dea(rng: random.Random) -> str:
    digits = [rng.randrange(10) for _ in range(6)]
    check = (digits[0] + digits[2] + digits[4] + 2 * (digits[1] + digits[3] + digits[5])) % 10
    return rng.choice("ABFGM") + rng.choice(string.ascii_uppercase) + "".join(map(str, digits)) + str(check)


@CHECKSUM
@given(seed=st.integers(0, 2**32))
def test_dea_checksum_rejects_every_corruption_it_can_see(patterns: PatternPiiClassifier, seed: int) -> None:
    """DEA numbers: odd digits + 2×even digits, last digit. A weight-2 digit changed by exactly 5 changes the
    sum by 10, which no mod-10 check sees: that blind spot is the scheme's, and the only one."""
    number = _dea(random.Random(seed))
    validate = _validator(patterns, "MEDICAL_LICENSE")
    assert validate(number) is True
    assert number in _found(patterns, f"DEA {number}", "MEDICAL_LICENSE")
    for i, bad in _substitutions(number):
        invisible = i in (3, 5, 7) and abs(int(bad[i]) - int(number[i])) == 5
        assert validate(bad) is invisible


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _base58check(payload: bytes) -> str:
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, rem = divmod(n, 58)
        out = B58[rem] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


@CHECKSUM
@given(seed=st.integers(0, 2**32), version=st.sampled_from([b"\x00", b"\x05"]))
def test_bitcoin_base58check_every_single_character_corruption_is_rejected(
    patterns: PatternPiiClassifier, seed: int, version: bytes
) -> None:
    rng = random.Random(seed)
    address = _base58check(version + rng.randbytes(20))
    validate = _validator(patterns, "CRYPTO")
    assert validate(address) is True
    assert address in _found(patterns, f"send to wallet {address} now", "CRYPTO")
    for i in range(1, len(address)):  # the first character selects the format; a 32-bit checksum covers the rest
        for ch in B58:
            if ch != address[i]:
                assert validate(address[:i] + ch + address[i + 1 :]) is False


def _ssn(rng: random.Random) -> str:
    while True:
        area, group, serial = rng.randint(1, 899), rng.randint(1, 99), rng.randint(1, 9999)
        value = f"{area:03d}-{group:02d}-{serial:04d}"
        digits = value.replace("-", "")
        if area != 666 and len(set(digits)) > 1 and digits not in ("123456789", "987654320", "078051120"):
            return value


@CHECKSUM
@given(seed=st.integers(0, 2**32), sep=st.sampled_from(["-", " ", "."]))
def test_ssn_rules_accept_issuable_numbers_and_reject_each_rule_break(
    patterns: PatternPiiClassifier, seed: int, sep: str
) -> None:
    """SSNs carry no checksum: the rules are area ≠ 000/666, group ≠ 00, serial ≠ 0000, one delimiter kind."""
    good = _ssn(random.Random(seed)).replace("-", sep)
    rules = [p for p in patterns._patterns if p.entity == "US_SSN"]
    assert not any(p.invalidate(good) for p in rules)
    assert good in _found(patterns, f"SSN: {good}", "US_SSN")
    area, group, serial = good.split(sep)
    broken = [
        sep.join(["000", group, serial]),
        sep.join(["666", group, serial]),
        sep.join([area, "00", serial]),
        sep.join([area, group, "0000"]),
        area + sep + group + ("." if sep != "." else "-") + serial,
    ]
    for bad in broken:
        assert all(p.invalidate(bad) for p in rules)
        assert bad not in _found(patterns, f"SSN: {bad}", "US_SSN")


@FUZZ
@given(digest=st.one_of(st.binary(min_size=16, max_size=32).map(bytes.hex), st.uuids().map(str)))
def test_hex_digests_and_uuids_are_not_dea_numbers(patterns: PatternPiiClassifier, digest: str) -> None:
    """Presidio's DEA pattern has no boundaries: inside a hex digest (our own fingerprints, git SHAs) it
    matched ``ab1234567`` and one in ten passed the checksum, a MEDICAL_LICENSE at score 1.0."""
    text = f'"fingerprint": "{digest}"'
    assert not [d for d in patterns.classify(text) if d.entity_type == "MEDICAL_LICENSE"]


def test_a_dea_number_glued_to_a_token_is_not_one(patterns: PatternPiiClassifier) -> None:
    number = _dea(random.Random(7))
    assert _found(patterns, f"DEA: {number}.", "MEDICAL_LICENSE") == [number]
    assert _found(patterns, f"id 9{number}f0", "MEDICAL_LICENSE") == []
