"""Licence identifiers → licence families, from the SPDX list and ScanCode's licence categories.

The SPDX identifiers and each licence's category come from the ``license-expression``
package, which carries the ScanCode LicenseDB index (every SPDX licence with a category
such as ``Permissive``, ``Copyleft Limited``, ``Public Domain``). No licence list is
written here; only how a category maps onto the families a consumer can allow, and the
Creative Commons elements (NC, ND, SA) that decide a CC licence's family.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class LicenceFamily(StrEnum):
    """What a licence lets a model trainer do, coarsely."""

    PUBLIC_DOMAIN = "public-domain"
    PERMISSIVE = "permissive"
    COPYLEFT = "copyleft"
    NO_DERIVATIVES = "no-derivatives"
    NON_COMMERCIAL = "non-commercial"
    PROPRIETARY = "proprietary"
    UNKNOWN = "unknown"


#: From least to most restrictive: an ``OR`` expression takes its least restrictive choice.
_RANK = {f: i for i, f in enumerate(LicenceFamily)}

#: ScanCode LicenseDB categories → families.
_CATEGORY: Mapping[str, LicenceFamily] = MappingProxyType(
    {
        "Public Domain": LicenceFamily.PUBLIC_DOMAIN,
        "Permissive": LicenceFamily.PERMISSIVE,
        "Copyleft": LicenceFamily.COPYLEFT,
        "Copyleft Limited": LicenceFamily.COPYLEFT,
        "Proprietary Free": LicenceFamily.PROPRIETARY,
        "Commercial": LicenceFamily.PROPRIETARY,
        "Source-available": LicenceFamily.PROPRIETARY,
        "Free Restricted": LicenceFamily.PROPRIETARY,
        "Patent License": LicenceFamily.PROPRIETARY,
    }
)


@functools.cache
def _spdx() -> tuple[Any, Mapping[str, str], Mapping[str, str]]:
    """The SPDX licensing object, SPDX key (lower case) → canonical key, and → ScanCode category."""
    from license_expression import get_license_index, get_spdx_licensing

    canonical: dict[str, str] = {}
    category: dict[str, str] = {}
    for entry in get_license_index():
        cat = entry.get("category") or ""
        keys = [entry.get("spdx_license_key") or "", *(entry.get("other_spdx_license_keys") or [])]
        for key in keys:
            if key and not key.startswith("LicenseRef-"):
                canonical.setdefault(key.lower(), key)
                category.setdefault(key.lower(), cat)
    return get_spdx_licensing(), MappingProxyType(canonical), MappingProxyType(category)


def canonical_id(key: str) -> str | None:
    """The SPDX identifier as the list spells it (``mit`` → ``MIT``), or None if it is not on the list."""
    if key.startswith("LicenseRef-"):
        return key
    return _spdx()[1].get(key.lower())


def cc_families(elements: str) -> frozenset[LicenceFamily]:
    """A Creative Commons licence's families from its elements (``by-nc-sa``, ``zero``)."""
    parts = set(elements.lower().replace("cc-", "").replace("cc0", "zero").split("-"))
    if "zero" in parts or "publicdomain" in parts or "pdm" in parts:
        return frozenset({LicenceFamily.PUBLIC_DOMAIN})
    out = set()
    if "nc" in parts:
        out.add(LicenceFamily.NON_COMMERCIAL)
    if "nd" in parts:
        out.add(LicenceFamily.NO_DERIVATIVES)
    if "sa" in parts:
        out.add(LicenceFamily.COPYLEFT)
    return frozenset(out or {LicenceFamily.PERMISSIVE})


def id_families(spdx_id: str) -> frozenset[LicenceFamily]:
    """The families of one SPDX identifier (not an expression)."""
    key = spdx_id.strip()
    lower = key.lower()
    if lower.startswith("cc0"):
        return frozenset({LicenceFamily.PUBLIC_DOMAIN})
    if lower.startswith("cc-by") or lower.startswith("cc-pdm"):
        return cc_families(lower.rsplit("-", 1)[0] if lower[-1].isdigit() else lower)
    if lower.startswith("licenseref-"):
        return frozenset({LicenceFamily.UNKNOWN})
    category = _spdx()[2].get(lower.removesuffix("+"))
    if category is None:
        return frozenset({LicenceFamily.UNKNOWN})
    return frozenset({_CATEGORY.get(category, LicenceFamily.UNKNOWN)})


def _rank(families: frozenset[LicenceFamily]) -> int:
    return max(_RANK[f] for f in families)


def expression_families(expression: str) -> tuple[str, frozenset[LicenceFamily]] | None:
    """An SPDX licence expression's normalised form and families; None if it does not parse.

    ``A AND B`` carries both licences' families; ``A OR B`` the least restrictive choice;
    ``A WITH exception`` is ``A``'s.
    """
    from license_expression import AND, OR, ExpressionError, LicenseSymbol, LicenseWithExceptionSymbol

    licensing = _spdx()[0]
    try:
        parsed = licensing.parse(expression, validate=False, simple=False)
    except (ExpressionError, TypeError, ValueError):
        return None
    if parsed is None:
        return None

    def walk(node: Any) -> frozenset[LicenceFamily]:
        if isinstance(node, LicenseWithExceptionSymbol):
            return walk(node.license_symbol)
        if isinstance(node, LicenseSymbol):
            return id_families(str(node.key))
        if isinstance(node, OR):
            return min((walk(arg) for arg in node.args), key=_rank)
        if isinstance(node, AND):
            return frozenset().union(*(walk(arg) for arg in node.args))
        return frozenset({LicenceFamily.UNKNOWN})

    for symbol in licensing.license_symbols(parsed):
        key = str(symbol.key)
        if canonical_id(key.removesuffix("+")) is None and not key.lower().startswith("cc"):
            return None  # not an SPDX id: prose after the tag, not a licence
    return licensing.unparse(parsed) if hasattr(licensing, "unparse") else str(parsed), walk(parsed)


def family_text(families: frozenset[LicenceFamily]) -> str:
    """Families as written in a signal: ``non-commercial+no-derivatives`` (most restrictive first)."""
    return "+".join(str(f) for f in sorted(families, key=lambda f: -_RANK[f]))
