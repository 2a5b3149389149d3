"""Named validators for the sensitive-information-type catalogue, backed by python-stdnum.

The catalogue (``configs/sit_catalogue.yaml``) names a validator per entry;
this registry maps each name to the check that decides whether a candidate is
a real identifier. Almost every check is a python-stdnum module's
``is_valid`` (which compacts separators itself); the few schemes stdnum lacks
are composed from stdnum's Luhn (NPI, IHI, OHIP) or taken from Presidio's
recognizer (AU Medicare). Imports are lazy: a validator is loaded when a
classifier is set up, once per worker.

``checksum`` says whether the scheme carries a check digit: only then may a
match score medium or high on its own, and only then does a one-digit change
make a value invalid.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from scanner.errors import ConfigError

Check = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class ValidatorSpec:
    """A named validator: what implements it, whether the scheme has a checksum, and how to load it."""

    name: str
    source: str  # shown in the README: the stdnum module or what the check is composed of
    checksum: bool
    load: Callable[[], Check]


def _guarded(check: Callable[[str], Any]) -> Check:
    """A check whose exceptions (stdnum raises on malformed input) mean 'invalid', never a crash."""

    def run(value: str) -> bool:
        try:
            return bool(check(value))
        except Exception:
            return False

    return run


def _stdnum(module: str) -> Callable[[], Check]:
    def load() -> Check:
        try:
            mod = importlib.import_module(f"stdnum.{module}")
        except ImportError as exc:
            raise ConfigError(f"validator stdnum.{module} is not installed: pip install python-stdnum") from exc
        return _guarded(mod.is_valid)

    return load


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _npi() -> Check:
    from stdnum import luhn

    def check(value: str) -> bool:
        digits = _digits(value)
        return len(digits) == 10 and digits[0] in "12" and bool(luhn.is_valid("80840" + digits))

    return _guarded(check)


def _ihi() -> Check:
    from stdnum import luhn

    def check(value: str) -> bool:
        digits = _digits(value)
        return len(digits) == 16 and digits.startswith("800360") and bool(luhn.is_valid(digits))

    return _guarded(check)


def _ohip() -> Check:
    from stdnum import luhn

    def check(value: str) -> bool:
        digits = _digits(value)  # the version code (two letters) is not part of the check
        return len(digits) == 10 and bool(luhn.is_valid(digits))

    return _guarded(check)


def _au_medicare() -> Check:
    from presidio_analyzer.predefined_recognizers import AuMedicareRecognizer

    recognizer = AuMedicareRecognizer()

    def check(value: str) -> bool:
        digits = _digits(value)  # card number (10 digits) and an optional individual reference number
        return len(digits) in (10, 11) and digits[0] in "23456" and bool(recognizer.validate_result(digits))

    return _guarded(check)


def _always() -> Check:
    return lambda _value: True


class ValidatorRegistry:
    """A read-only view of named validators; registering a taken name is refused unless ``clobber``."""

    def __init__(self) -> None:
        self._specs: dict[str, ValidatorSpec] = {}

    def register(self, spec: ValidatorSpec, *, clobber: bool = False) -> None:
        if spec.name in self._specs and not clobber:
            raise ValueError(f"validator '{spec.name}' is already registered")
        self._specs[spec.name] = spec

    def __getitem__(self, name: str) -> ValidatorSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise KeyError(f"unknown validator '{name}' (known: {', '.join(sorted(self._specs))})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    @property
    def specs(self) -> Mapping[str, ValidatorSpec]:
        return MappingProxyType(self._specs)


#: stdnum modules with a check digit (or check letter / check characters).
_STDNUM_CHECKSUM = (
    "us.rtn",
    "gb.utr",
    "gb.vat",
    "gb.upn",
    "de.idnr",
    "de.vat",
    "fr.nir",
    "fr.nif",
    "fr.siren",
    "fr.siret",
    "fr.tva",
    "es.dni",
    "es.nie",
    "es.cif",
    "es.ccc",
    "it.codicefiscale",
    "it.iva",
    "nl.bsn",
    "nl.btw",
    "nl.onderwijsnummer",
    "in_.aadhaar",
    "in_.vid",
    "in_.gstin",
    "in_.epic",
    "au.tfn",
    "au.abn",
    "au.acn",
    "ca.sin",
    "ca.bn",
    "ca.bc_phn",
    "be.nn",
    "pl.pesel",
    "pt.nif",
    "pt.cc",
    "se.personnummer",
    "fi.hetu",
    "ie.pps",
    "ch.ssn",
    "at.vnr",
    "br.cpf",
)
#: stdnum modules that check structure only (prefixes, formats, dates, country codes): no check digit.
_STDNUM_STRUCTURE = ("us.ein", "us.ptin", "de.stnr", "nl.identiteitskaartnummer", "in_.pan", "bic", "dk.cpr")

VALIDATORS = ValidatorRegistry()
for _module in _STDNUM_CHECKSUM:
    VALIDATORS.register(ValidatorSpec(_module, f"stdnum.{_module}", True, _stdnum(_module)))
for _module in _STDNUM_STRUCTURE:
    VALIDATORS.register(ValidatorSpec(_module, f"stdnum.{_module} (format only)", False, _stdnum(_module)))
VALIDATORS.register(ValidatorSpec("us.npi", "stdnum.luhn over 80840 + NPI", True, _npi))
VALIDATORS.register(ValidatorSpec("au.ihi", "stdnum.luhn, 800360 prefix", True, _ihi))
VALIDATORS.register(ValidatorSpec("ca.ohip", "stdnum.luhn over 10 digits", True, _ohip))
VALIDATORS.register(ValidatorSpec("au.medicare", "presidio AuMedicareRecognizer (1-3-7-9 weights)", True, _au_medicare))
VALIDATORS.register(ValidatorSpec("none", "none (pattern only)", False, _always))
