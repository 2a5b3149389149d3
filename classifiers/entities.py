"""The catalogue of entity types ingestguard can report.

Configs name entity types; a name that is not in this catalogue (or a glob
that matches none) fails at load time, so a typo never silently scans for less.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType


class Family(StrEnum):
    PERSONAL = "personal"  # personal data (PII)
    FINANCIAL = "financial"  # payment and bank data, also personal
    GOVERNMENT_ID = "government_id"  # national IDs, passports, licences, also personal
    CONTEXT = "context"  # detected for context, not personal by itself (dates, URLs, organisations)
    SECRET = "secret"  # credentials and keys
    MARKING = "marking"  # confidentiality markings
    RISK = "risk"  # AI-specific risks


_PRESIDIO: dict[str, Family] = {
    "PERSON": Family.PERSONAL,
    "LOCATION": Family.PERSONAL,
    "STREET_ADDRESS": Family.PERSONAL,
    "NRP": Family.PERSONAL,
    "EMAIL_ADDRESS": Family.PERSONAL,
    "PHONE_NUMBER": Family.PERSONAL,
    "IP_ADDRESS": Family.PERSONAL,
    "MAC_ADDRESS": Family.PERSONAL,
    "AGE": Family.PERSONAL,
    "CREDIT_CARD": Family.FINANCIAL,
    "IBAN_CODE": Family.FINANCIAL,
    "US_BANK_NUMBER": Family.FINANCIAL,
    "CRYPTO": Family.FINANCIAL,
    "US_SSN": Family.GOVERNMENT_ID,
    "US_ITIN": Family.GOVERNMENT_ID,
    "US_PASSPORT": Family.GOVERNMENT_ID,
    "US_DRIVER_LICENSE": Family.GOVERNMENT_ID,
    "MEDICAL_LICENSE": Family.GOVERNMENT_ID,
    "UK_NHS": Family.GOVERNMENT_ID,
    "DATE_TIME": Family.CONTEXT,
    "URL": Family.CONTEXT,
    "ORGANIZATION": Family.CONTEXT,
}

_SECRETS = (
    "SECRET_AWS_ACCESS_KEY_ID",
    "SECRET_AWS_SECRET_ACCESS_KEY",
    "SECRET_AZURE_STORAGE_KEY",
    "SECRET_AZURE_CONNECTION_STRING",
    "SECRET_AZURE_SAS_TOKEN",
    "SECRET_GCP_SERVICE_ACCOUNT_KEY",
    "SECRET_GCP_API_KEY",
    "SECRET_GITHUB_TOKEN",
    "SECRET_GITLAB_TOKEN",
    "SECRET_SLACK_TOKEN",
    "SECRET_STRIPE_KEY",
    "SECRET_OPENAI_API_KEY",
    "SECRET_ANTHROPIC_API_KEY",
    "SECRET_JWT",
    "SECRET_PRIVATE_KEY",
    "SECRET_PASSWORD",
)

CATALOGUE: Mapping[str, Family] = MappingProxyType(
    {
        **_PRESIDIO,
        **{name: Family.SECRET for name in _SECRETS},
        "CONFIDENTIALITY_MARKING": Family.MARKING,
        "PROMPT_INJECTION": Family.RISK,
        "HIDDEN_TEXT": Family.RISK,
        "EXFIL_LINK": Family.RISK,
    }
)

#: Families whose findings count as personal data for label rules.
PERSONAL_FAMILIES = frozenset({Family.PERSONAL, Family.FINANCIAL, Family.GOVERNMENT_ID})


def is_personal(entity_type: str) -> bool:
    return CATALOGUE.get(entity_type) in PERSONAL_FAMILIES


def is_risk(entity_type: str) -> bool:
    return CATALOGUE.get(entity_type) is Family.RISK


def expand(pattern: str, known: Iterable[str] = CATALOGUE) -> list[str]:
    """Entity names matching ``pattern`` (an exact name or a glob such as ``SECRET_*``)."""
    names = list(known)
    if any(ch in pattern for ch in "*?["):
        return [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    return [pattern] if pattern in names else []
