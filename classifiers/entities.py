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
    HEALTH = "health"  # health identifiers (insurance, provider, patient numbers), also personal
    CONTEXT = "context"  # detected for context, not personal by itself (dates, URLs, organisations)
    SECRET = "secret"  # credentials and keys
    MARKING = "marking"  # confidentiality markings
    RISK = "risk"  # AI-specific risks
    RIGHTS = "rights"  # licences, rights reservations, TDM and AI opt-outs (not personal)


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

#: Rights signals (classifiers/rights.py): what a licence or a reservation lets a model do with the text.
_RIGHTS = (
    "RIGHTS_SPDX_ID",
    "RIGHTS_LICENCE_HEADER",
    "RIGHTS_CREATIVE_COMMONS",
    "RIGHTS_ALL_RESERVED",
    "RIGHTS_TDM_RESERVATION",
    "RIGHTS_AI_OPT_OUT",
    "RIGHTS_C2PA_TDM",
)

#: The sensitive information types of ``configs/sit_catalogue.yaml`` (reported by the ``sit``
#: classifier, classifiers/catalogue.py); the catalogue must name each with the same family.
_SIT: dict[str, Family] = {
    "US_EIN": Family.GOVERNMENT_ID,
    "US_PTIN": Family.GOVERNMENT_ID,
    "ABA_ROUTING_NUMBER": Family.FINANCIAL,
    "US_NPI": Family.HEALTH,
    "US_MBI": Family.HEALTH,
    "UK_NINO": Family.GOVERNMENT_ID,
    "UK_UTR": Family.GOVERNMENT_ID,
    "UK_VAT": Family.FINANCIAL,
    "UK_SORT_CODE_ACCOUNT": Family.FINANCIAL,
    "UK_PASSPORT": Family.GOVERNMENT_ID,
    "UK_DRIVING_LICENCE": Family.GOVERNMENT_ID,
    "UK_UPN": Family.PERSONAL,
    "DE_TAX_ID": Family.GOVERNMENT_ID,
    "DE_TAX_NUMBER": Family.GOVERNMENT_ID,
    "DE_VAT_ID": Family.FINANCIAL,
    "DE_PASSPORT": Family.GOVERNMENT_ID,
    "DE_ID_CARD": Family.GOVERNMENT_ID,
    "FR_NIR": Family.GOVERNMENT_ID,
    "FR_NIF": Family.GOVERNMENT_ID,
    "FR_SIREN": Family.FINANCIAL,
    "FR_SIRET": Family.FINANCIAL,
    "FR_VAT": Family.FINANCIAL,
    "FR_PASSPORT": Family.GOVERNMENT_ID,
    "ES_NIF": Family.GOVERNMENT_ID,
    "ES_NIE": Family.GOVERNMENT_ID,
    "ES_CIF": Family.FINANCIAL,
    "ES_CCC": Family.FINANCIAL,
    "ES_PASSPORT": Family.GOVERNMENT_ID,
    "IT_FISCAL_CODE": Family.GOVERNMENT_ID,
    "IT_VAT_CODE": Family.FINANCIAL,
    "IT_PASSPORT": Family.GOVERNMENT_ID,
    "IT_IDENTITY_CARD": Family.GOVERNMENT_ID,
    "IT_DRIVER_LICENSE": Family.GOVERNMENT_ID,
    "NL_BSN": Family.GOVERNMENT_ID,
    "NL_VAT": Family.FINANCIAL,
    "NL_ONDERWIJSNUMMER": Family.PERSONAL,
    "NL_PASSPORT": Family.GOVERNMENT_ID,
    "IN_AADHAAR": Family.GOVERNMENT_ID,
    "IN_VID": Family.GOVERNMENT_ID,
    "IN_PAN": Family.GOVERNMENT_ID,
    "IN_GSTIN": Family.FINANCIAL,
    "IN_VOTER": Family.GOVERNMENT_ID,
    "IN_PASSPORT": Family.GOVERNMENT_ID,
    "IN_IFSC": Family.FINANCIAL,
    "AU_TFN": Family.GOVERNMENT_ID,
    "AU_ABN": Family.FINANCIAL,
    "AU_ACN": Family.FINANCIAL,
    "AU_MEDICARE": Family.HEALTH,
    "AU_IHI": Family.HEALTH,
    "AU_PASSPORT": Family.GOVERNMENT_ID,
    "AU_BSB_ACCOUNT": Family.FINANCIAL,
    "CA_SIN": Family.GOVERNMENT_ID,
    "CA_BN": Family.FINANCIAL,
    "CA_PASSPORT": Family.GOVERNMENT_ID,
    "CA_ON_HEALTH_CARD": Family.HEALTH,
    "CA_BC_PHN": Family.HEALTH,
    "CA_QC_HEALTH_CARD": Family.HEALTH,
    "SWIFT_BIC": Family.FINANCIAL,
    "BE_NATIONAL_NUMBER": Family.GOVERNMENT_ID,
    "PL_PESEL": Family.GOVERNMENT_ID,
    "PT_NIF": Family.GOVERNMENT_ID,
    "PT_CC": Family.GOVERNMENT_ID,
    "SE_PERSONNUMMER": Family.GOVERNMENT_ID,
    "DK_CPR": Family.GOVERNMENT_ID,
    "FI_PERSONAL_IDENTITY_CODE": Family.GOVERNMENT_ID,
    "IE_PPS": Family.GOVERNMENT_ID,
    "CH_AHV": Family.GOVERNMENT_ID,
    "AT_SVNR": Family.GOVERNMENT_ID,
    "BR_CPF": Family.GOVERNMENT_ID,
}
SIT_ENTITIES: Mapping[str, Family] = MappingProxyType(_SIT)

CATALOGUE: Mapping[str, Family] = MappingProxyType(
    {
        **_PRESIDIO,
        **_SIT,
        **{name: Family.SECRET for name in _SECRETS},
        "CONFIDENTIALITY_MARKING": Family.MARKING,
        "PROMPT_INJECTION": Family.RISK,
        "HIDDEN_TEXT": Family.RISK,
        "EXFIL_LINK": Family.RISK,
        **{name: Family.RIGHTS for name in _RIGHTS},
    }
)

#: Families whose findings count as personal data for label rules.
PERSONAL_FAMILIES = frozenset({Family.PERSONAL, Family.FINANCIAL, Family.GOVERNMENT_ID, Family.HEALTH})


def is_personal(entity_type: str) -> bool:
    return CATALOGUE.get(entity_type) in PERSONAL_FAMILIES


def is_risk(entity_type: str) -> bool:
    return CATALOGUE.get(entity_type) is Family.RISK


def is_rights(entity_type: str) -> bool:
    return CATALOGUE.get(entity_type) is Family.RIGHTS


def expand(pattern: str, known: Iterable[str] = CATALOGUE) -> list[str]:
    """Entity names matching ``pattern`` (an exact name or a glob such as ``SECRET_*``)."""
    names = list(known)
    if any(ch in pattern for ch in "*?["):
        return [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    return [pattern] if pattern in names else []
