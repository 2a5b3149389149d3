"""Valid example values for every entry of the sensitive-information-type catalogue, made at test time.

Each generator draws a random value shaped like the scheme (letters, digits,
dates, prefixes) from ``r`` and completes it with the scheme's check digit:
python-stdnum's ``calc_check_digit`` helpers where they exist, otherwise the
check characters are searched for with stdnum's own ``is_valid``. Nothing here
is a real person's identifier, and no list of IDs is committed.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable, Iterable
from random import Random

from stdnum import luhn, verhoeff
from stdnum.iso7064 import mod_11_10

from classifiers.validators import VALIDATORS

Gen = Callable[[Random], str | None]

UPPER = string.ascii_uppercase
DIGITS = string.digits


def d(r: Random, n: int, first: str = DIGITS) -> str:
    return r.choice(first) + "".join(r.choice(DIGITS) for _ in range(n - 1)) if n else ""


def a(r: Random, n: int, alphabet: str = UPPER) -> str:
    return "".join(r.choice(alphabet) for _ in range(n))


def valid(validator: str) -> Callable[[str], bool]:
    return VALIDATORS[validator].load()


def first_valid(check: Callable[[str], bool], candidates: Iterable[str]) -> str | None:
    return next((c for c in candidates if check(c)), None)


def fill(check: Callable[[str], bool], template: str, alphabet: str = DIGITS) -> str | None:
    """``template`` with each ``?`` replaced so that ``check`` accepts it (the first such filling)."""
    holes = template.count("?")
    parts = template.split("?")

    def candidates() -> Iterable[str]:
        for combo in itertools.product(alphabet, repeat=holes):
            yield "".join(p + c for p, c in zip(parts, (*combo, ""), strict=True))

    return first_valid(check, candidates())


def date6(r: Random, order: str = "dmy", century_offset: int = 0) -> str:
    """A valid birth date as six digits (day 1-28, so every month works)."""
    day, month, year = f"{r.randint(1, 28):02d}", f"{r.randint(1, 12) + century_offset:02d}", f"{r.randint(40, 99):02d}"
    parts = {"d": day, "m": month, "y": year}
    return "".join(parts[c] for c in order)


def sp(r: Random, *groups: str, seps: str = " ") -> str:
    """Groups joined by one separator chosen from ``seps`` (or by nothing, when seps has '')."""
    return r.choice(seps).join(groups)


# ------------------------------------------------------------------------------------------ generators


def us_ein(r: Random) -> str | None:
    v = f"{d(r, 2)}-{d(r, 7)}"
    return v if valid("us.ein")(v) else None


def aba(r: Random) -> str:
    prefix = r.choice(["01", "02", "05", "09", "11", "12", "21", "26", "31", "32", "61", "66", "71", "72", "80"])
    body = prefix + d(r, 6)
    from stdnum.us import rtn

    return body + rtn.calc_check_digit(body)


def us_npi(r: Random) -> str:
    body = d(r, 9, "12")
    return body + luhn.calc_check_digit("80840" + body)


MBI_L = "ACDEFGHJKMNPQRTUVWXY"


def us_mbi(r: Random) -> str:
    v = [d(r, 1, "123456789"), a(r, 1, MBI_L), a(r, 1, MBI_L + DIGITS), d(r, 1)]
    v += [a(r, 1, MBI_L), a(r, 1, MBI_L + DIGITS), d(r, 1), a(r, 2, MBI_L), d(r, 2)]
    s = "".join(v)
    return s if r.random() < 0.5 else f"{s[:4]}-{s[4:7]}-{s[7:]}"


def uk_nino(r: Random) -> str | None:
    prefix = a(r, 1, "ABCEGHJKLMNOPRSTWXYZ") + a(r, 1, "ABCEGHJKLMNPRSTWXYZ")
    if prefix in {"BG", "GB", "NK", "KN", "NT", "TN", "ZZ"}:
        return None
    return sp(r, prefix, d(r, 2), d(r, 2), d(r, 2), a(r, 1, "ABCD"), seps=" ")


def uk_utr(r: Random) -> str | None:
    v = fill(valid("gb.utr"), "?" + d(r, 9))
    return None if v is None else r.choice([f"{v[:5]} {v[5:]}", v])


def uk_vat(r: Random) -> str | None:
    return fill(valid("gb.vat"), "GB" + d(r, 7) + "??")


def uk_sort(r: Random) -> str:
    return f"{d(r, 2)}-{d(r, 2)}-{d(r, 2)} {d(r, 8)}"


def uk_dl(r: Random) -> str:
    month = r.choice([f"{m:02d}" for m in (*range(1, 13), *range(51, 63))])
    return f"{a(r, 5)}{d(r, 1)}{month}{r.randint(1, 28):02d}{d(r, 1)}{a(r, 2)}{d(r, 1)}{a(r, 2)}"


def uk_upn(r: Random) -> str | None:
    return fill(valid("gb.upn"), "?" + d(r, 12), "ABCDEFGHJKLMNPQRTUVWXYZ")


def de_idnr(r: Random) -> str:
    digits = r.sample(DIGITS, 9)
    digits.append(r.choice(digits))
    r.shuffle(digits)
    if digits[0] == "0":
        digits[0], digits[1] = digits[1], digits[0]
        if digits[0] == "0":
            digits[0], digits[2] = digits[2], digits[0]
    body = "".join(digits)
    v = body + mod_11_10.calc_check_digit(body)
    return r.choice([v, f"{v[:2]} {v[2:5]} {v[5:8]} {v[8:]}"])


def de_stnr(r: Random) -> str | None:
    v = r.choice([f"{d(r, 3)}/{d(r, 3)}/{d(r, 5)}", f"{d(r, 2)}/{d(r, 3)}/{d(r, 5)}", f"{d(r, 3)}/{d(r, 4)}/{d(r, 4)}"])
    return v if valid("de.stnr")(v) else None


def de_vat(r: Random) -> str:
    body = d(r, 8, "123456789")
    return "DE" + body + mod_11_10.calc_check_digit(body)


DOC = "CFGHJKLMNPRTVWXYZ" + DIGITS


def nir(r: Random) -> str:
    from stdnum.fr import nir as m

    body = d(r, 1, "12") + d(r, 2) + f"{r.randint(1, 12):02d}" + f"{r.randint(1, 95):02d}".replace("20", "21") + d(r, 6)
    v = body + m.calc_check_digits(body)
    return r.choice([v, f"{v[0]} {v[1:3]} {v[3:5]} {v[5:7]} {v[7:10]} {v[10:13]} {v[13:]}"])


def fr_nif(r: Random) -> str:
    from stdnum.fr import nif as m

    body = d(r, 10, "0123")
    v = body + m.calc_check_digits(body)
    return r.choice([v, f"{v[:2]} {v[2:4]} {v[4:7]} {v[7:10]} {v[10:]}"])


def siren_digits(r: Random) -> str:
    body = d(r, 8)
    return body + luhn.calc_check_digit(body)


def siren(r: Random) -> str:
    v = siren_digits(r)
    return r.choice([v, f"{v[:3]} {v[3:6]} {v[6:]}"])


def siret(r: Random) -> str | None:
    s = siren_digits(r)
    v = fill(valid("fr.siret"), s + d(r, 4) + "?")
    return None if v is None else r.choice([v, f"{v[:3]} {v[3:6]} {v[6:9]} {v[9:]}"])


def fr_tva(r: Random) -> str | None:
    return fill(valid("fr.tva"), "FR??" + siren_digits(r))


def es_dni(r: Random) -> str:
    from stdnum.es import dni

    body = d(r, 8)
    return body + r.choice(["", "-"]) + dni.calc_check_digit(body)


def es_nie(r: Random) -> str:
    from stdnum.es import nie

    body = a(r, 1, "XYZ") + d(r, 7)
    return body + nie.calc_check_digit(body)


def es_cif(r: Random) -> str | None:
    return fill(valid("es.cif"), a(r, 1, "ABCDEFGHJNPQRSUVW") + d(r, 7) + "?", DIGITS + "ABCDEFGHIJ")


def es_ccc(r: Random) -> str | None:
    v = fill(valid("es.ccc"), d(r, 8) + "??" + d(r, 10))
    return None if v is None else r.choice([v, f"{v[:4]} {v[4:8]} {v[8:10]} {v[10:]}"])


def it_cf(r: Random) -> str:
    from stdnum.it import codicefiscale

    body = a(r, 6) + d(r, 2) + a(r, 1, "ABCDEHLMPRST") + f"{r.randint(1, 28) + r.choice([0, 40]):02d}"
    body += a(r, 1) + d(r, 3)
    return body + codicefiscale.calc_check_digit(body)


def it_iva(r: Random) -> str:
    body = d(r, 7, "123456789") + f"{r.randint(1, 100):03d}"
    v = body + luhn.calc_check_digit(body)
    return r.choice([v, "IT" + v])


def nl_bsn(r: Random) -> str | None:
    v = fill(valid("nl.bsn"), d(r, 8, "123456789") + "?")
    if v is None:
        return None
    return r.choice([v, f"{v[:4]}.{v[4:6]}.{v[6:]}"])


def nl_btw(r: Random) -> str | None:
    v = nl_bsn(r)
    return None if v is None else f"NL{v.replace('.', '')}B{r.randint(1, 99):02d}"


def nl_onderwijs(r: Random) -> str | None:
    return fill(valid("nl.onderwijsnummer"), "10" + d(r, 6) + "?")


def nl_passport(r: Random) -> str | None:
    letters = UPPER.replace("O", "")
    v = a(r, 2, letters) + a(r, 6, letters + DIGITS) + d(r, 1)
    return v if valid("nl.identiteitskaartnummer")(v) else None


def aadhaar(r: Random) -> str | None:
    body = d(r, 11, "23456789")
    v = body + verhoeff.calc_check_digit(body)
    if not valid("in_.aadhaar")(v):
        return None
    return r.choice([v, f"{v[:4]} {v[4:8]} {v[8:]}"])


def vid(r: Random) -> str | None:
    body = d(r, 15, "23456789")
    v = body + verhoeff.calc_check_digit(body)
    if not valid("in_.vid")(v):
        return None
    return r.choice([v, f"{v[:4]} {v[4:8]} {v[8:12]} {v[12:]}"])


def pan(r: Random) -> str:
    return a(r, 3) + a(r, 1, "ABCFGHJLPT") + a(r, 1) + d(r, 4) + a(r, 1)


def gstin(r: Random) -> str | None:
    return fill(valid("in_.gstin"), f"{r.randint(1, 37):02d}" + pan(r) + a(r, 1, "123456789") + "Z?", DIGITS + UPPER)


def epic(r: Random) -> str:
    body = d(r, 6)
    return a(r, 3) + body + luhn.calc_check_digit(body)


def tfn(r: Random) -> str | None:
    v = fill(valid("au.tfn"), d(r, 8) + "?")
    return None if v is None else r.choice([v, f"{v[:3]} {v[3:6]} {v[6:]}"])


def abn(r: Random) -> str:
    from stdnum.au import abn as m

    body = d(r, 9, "123456789")
    v = m.calc_check_digits(body) + body
    return r.choice([v, f"{v[:2]} {v[2:5]} {v[5:8]} {v[8:]}"])


def acn(r: Random) -> str:
    from stdnum.au import acn as m

    body = d(r, 8)
    v = body + m.calc_check_digit(body)
    return r.choice([v, f"{v[:3]} {v[3:6]} {v[6:]}"])


def medicare(r: Random) -> str | None:
    v = fill(valid("au.medicare"), d(r, 8, "23456") + "?" + d(r, 1, "123456789"))
    return None if v is None else r.choice([f"{v[:4]} {v[4:9]} {v[9]}", v])


def ihi(r: Random) -> str:
    body = "800360" + d(r, 9)
    v = body + luhn.calc_check_digit(body)
    return r.choice([v, f"{v[:4]} {v[4:8]} {v[8:12]} {v[12:]}"])


def ca_sin(r: Random) -> str:
    body = d(r, 8, "1234567")
    v = body + luhn.calc_check_digit(body)
    return r.choice([v, f"{v[:3]}-{v[3:6]}-{v[6:]}", f"{v[:3]} {v[3:6]} {v[6:]}"])


def ca_bn(r: Random) -> str:
    body = d(r, 8)
    return body + luhn.calc_check_digit(body) + r.choice(["RC", "RT", "RP"]) + d(r, 4)


def ohip(r: Random) -> str:
    body = d(r, 9)
    v = body + luhn.calc_check_digit(body)
    return r.choice([v, f"{v[:4]}-{v[4:7]}-{v[7:]}", f"{v[:4]} {v[4:7]} {v[7:]} {a(r, 2)}"])


def bc_phn(r: Random) -> str | None:
    from stdnum.ca import bc_phn as m

    body = "9" + d(r, 8)
    try:
        v = body + m.calc_check_digit(body)
    except Exception:
        return None
    if not valid("ca.bc_phn")(v):
        return None
    return r.choice([v, f"{v[:4]} {v[4:7]} {v[7:]}"])


def bic(r: Random) -> str | None:
    v = a(r, 4) + r.choice(["DE", "FR", "GB", "US", "NL", "IT", "ES"]) + a(r, 1, UPPER[:-1]) + a(r, 1, "ABCDEFGH")
    v += r.choice(["", "XXX", a(r, 3)])
    return v if valid("bic")(v) else None


def be_nn(r: Random) -> str | None:
    v = fill(valid("be.nn"), date6(r, "ymd") + d(r, 3) + "??")
    return None if v is None else r.choice([v, f"{v[:2]}.{v[2:4]}.{v[4:6]}-{v[6:9]}.{v[9:]}"])


def pesel(r: Random) -> str:
    from stdnum.pl import pesel as m

    body = date6(r, "ymd") + d(r, 4)
    return body + m.calc_check_digit(body)


def pt_nif(r: Random) -> str:
    from stdnum.pt import nif

    body = d(r, 8, "12356789")
    return body + nif.calc_check_digit(body)


def pt_cc(r: Random) -> str | None:
    v = fill(valid("pt.cc"), d(r, 8) + "?" + a(r, 2) + "?")
    return None if v is None else f"{v[:8]} {v[8]} {v[9:]}"


def personnummer(r: Random) -> str:
    body = date6(r, "ymd") + d(r, 3)
    return f"{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}"


def cpr(r: Random) -> str | None:
    v = f"{date6(r, 'dmy')}-{d(r, 1, '0123')}{d(r, 3)}"
    return v if valid("dk.cpr")(v) else None


def hetu(r: Random) -> str | None:
    return fill(valid("fi.hetu"), f"{date6(r, 'dmy')}-{r.randint(2, 899):03d}?", DIGITS + "ABCDEFHJKLMNPRSTUVWXY")


def pps(r: Random) -> str | None:
    return fill(valid("ie.pps"), d(r, 7) + "?", "ABCDEFGHIJKLMNOPQRSTUVW")


def ahv(r: Random) -> str | None:
    v = fill(valid("ch.ssn"), "756" + d(r, 9) + "?")
    return None if v is None else r.choice([v, f"{v[:3]}.{v[3:7]}.{v[7:11]}.{v[11:]}"])


def at_vnr(r: Random) -> str | None:
    v = fill(valid("at.vnr"), d(r, 3, "123456789") + "?" + date6(r, "dmy"))
    return None if v is None else r.choice([v, f"{v[:4]} {v[4:]}"])


def cpf(r: Random) -> str | None:
    v = fill(valid("br.cpf"), d(r, 9) + "??")
    return None if v is None else r.choice([v, f"{v[:3]}.{v[3:6]}.{v[6:9]}-{v[9:]}"])


GENERATORS: dict[str, Gen] = {
    "US_EIN": us_ein,
    "US_PTIN": lambda r: "P" + d(r, 8),
    "ABA_ROUTING_NUMBER": aba,
    "US_NPI": us_npi,
    "US_MBI": us_mbi,
    "UK_NINO": uk_nino,
    "UK_UTR": uk_utr,
    "UK_VAT": uk_vat,
    "UK_SORT_CODE_ACCOUNT": uk_sort,
    "UK_PASSPORT": lambda r: d(r, 9),
    "UK_DRIVING_LICENCE": uk_dl,
    "UK_UPN": uk_upn,
    "DE_TAX_ID": de_idnr,
    "DE_TAX_NUMBER": de_stnr,
    "DE_VAT_ID": de_vat,
    "DE_PASSPORT": lambda r: a(r, 1, "CFGHJK") + a(r, 8, DOC),
    "DE_ID_CARD": lambda r: a(r, 1, "LMNPRTVWXY") + a(r, 8, DOC),
    "FR_NIR": nir,
    "FR_NIF": fr_nif,
    "FR_SIREN": siren,
    "FR_SIRET": siret,
    "FR_VAT": fr_tva,
    "FR_PASSPORT": lambda r: d(r, 2) + a(r, 2) + d(r, 5),
    "ES_NIF": es_dni,
    "ES_NIE": es_nie,
    "ES_CIF": es_cif,
    "ES_CCC": es_ccc,
    "ES_PASSPORT": lambda r: a(r, 3) + d(r, 6),
    "IT_FISCAL_CODE": it_cf,
    "IT_VAT_CODE": it_iva,
    "IT_PASSPORT": lambda r: a(r, 2) + d(r, 7),
    "IT_IDENTITY_CARD": lambda r: "C" + a(r, 1) + d(r, 5) + a(r, 2),
    "IT_DRIVER_LICENSE": lambda r: a(r, 2) + d(r, 7) + a(r, 1),
    "NL_BSN": nl_bsn,
    "NL_VAT": nl_btw,
    "NL_ONDERWIJSNUMMER": nl_onderwijs,
    "NL_PASSPORT": nl_passport,
    "IN_AADHAAR": aadhaar,
    "IN_VID": vid,
    "IN_PAN": pan,
    "IN_GSTIN": gstin,
    "IN_VOTER": epic,
    "IN_PASSPORT": lambda r: a(r, 1, "ABCDEFGHJKLMNPRSTUVWY") + d(r, 1, "123456789") + d(r, 5) + d(r, 1, "123456789"),
    "IN_IFSC": lambda r: a(r, 4) + "0" + a(r, 6, UPPER + DIGITS),
    "AU_TFN": tfn,
    "AU_ABN": abn,
    "AU_ACN": acn,
    "AU_MEDICARE": medicare,
    "AU_IHI": ihi,
    "AU_PASSPORT": lambda r: a(r, r.choice([1, 2])) + d(r, 7),
    "AU_BSB_ACCOUNT": lambda r: f"{d(r, 3)}-{d(r, 3)} {d(r, r.randint(6, 10))}",
    "CA_SIN": ca_sin,
    "CA_BN": ca_bn,
    "CA_PASSPORT": lambda r: a(r, 2) + d(r, 6),
    "CA_ON_HEALTH_CARD": ohip,
    "CA_BC_PHN": bc_phn,
    "CA_QC_HEALTH_CARD": lambda r: a(r, 4) + " " + d(r, 4) + " " + d(r, 4),
    "SWIFT_BIC": bic,
    "BE_NATIONAL_NUMBER": be_nn,
    "PL_PESEL": pesel,
    "PT_NIF": pt_nif,
    "PT_CC": pt_cc,
    "SE_PERSONNUMMER": personnummer,
    "DK_CPR": cpr,
    "FI_PERSONAL_IDENTITY_CODE": hetu,
    "IE_PPS": pps,
    "CH_AHV": ahv,
    "AT_SVNR": at_vnr,
    "BR_CPF": cpf,
}


def example(entity: str, r: Random, *, tries: int = 2000) -> str:
    """A valid value for ``entity`` (the generator retried until it yields one)."""
    gen = GENERATORS[entity]
    for _ in range(tries):
        value = gen(r)
        if value is not None:
            return value
    raise AssertionError(f"no valid {entity} generated in {tries} tries")
