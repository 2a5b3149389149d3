"""Secrets and credentials: cloud keys, API tokens, private keys, JWTs and passwords.

Every detector is one row of :data:`SPECS`: a compiled regular expression, the
entity type it reports, a base score and an optional validator that rejects
look-alikes or adjusts the score (GitHub's CRC32 checksum, JWT segments that
must decode to JSON, placeholders such as ``${DB_PASSWORD}`` or ``changeme``).
:meth:`SecretsClassifier.classify` runs each pattern once over the text and
then resolves overlaps, so a GitHub token inside ``token = "..."`` is reported
once, as a GitHub token, not also as a generic assignment.

Spans cover the secret value only (for ``password=hunter2`` just ``hunter2``,
for ``scheme://user:pw@host`` just ``pw``); Azure connection strings, SAS
tokens, Slack webhooks and PEM blocks are reported whole because the whole
string is the credential.

The patterns are linear-time: no nested quantifiers that can backtrack into
each other, bounded repetitions where a match may fail late, and left
boundaries that keep a pattern from being retried at every position of a run.
Nothing here logs a matched value or puts one into an exception message.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import math
import re
import string
import zlib
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import ClassVar

from classifiers.base import Detection
from classifiers.prefilter import Prefilter
from scanner.errors import ConfigError

#: A validator sees the whole match and the spec's base score; it returns the score to report, or None to reject.
Validator = Callable[[re.Match[str], float], float | None]


@dataclass(frozen=True, slots=True)
class Spec:
    """One detector: what it reports, how it matches and how sure a match makes us.

    ``groups`` names the capture groups that may hold the reported span; the
    first one that took part in the match wins (assignment patterns have one
    group per quoting style). ``generic`` detectors (keyword assignments) give
    way to any specific detector whose span they overlap.
    """

    detector: str
    entity_type: str
    regex: re.Pattern[str]
    score: float
    validator: Validator | None = None
    groups: tuple[str, ...] = ("secret",)
    generic: bool = False


# --------------------------------------------------------------------------- helpers

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase

#: Words and shapes that mark a value as a stand-in, not a real secret (matched case-insensitively).
_PLACEHOLDER_WORDS = frozenset(
    """
    changeme change_me change-me changeit password passwd pass secret token apikey api_key example sample dummy
    test testing placeholder redacted removed hidden masked omitted required optional null none nil true false yes no
    undefined empty default string str bytes int integer bool boolean object any value bearer basic unknown notset
    not_set your_password yourpassword mypassword my_password secretpassword supersecret password123 admin root
    letmein qwerty abc123 foobar foo bar baz todo tbd fixme xxx n/a na ********
    """.split()  # noqa: SIM905 - a word list reads better than 70 quoted strings
)
#: Stand-in words inside a value (``your_api_key_here``, ``EXAMPLE-TOKEN``). Matched only in one consistent case
#: (lower, UPPER or Title) so that random keys, which mix cases, rarely contain one by chance ("...FaKe...").
_STAND_IN_WORDS = (  # noqa: SIM905 - a word list reads better than quoted strings
    "example placeholder changeme change_me change-me dummy redacted fake sample insert replace your_ your- "
    "yourpass yoursecret yourtoken yourapi yourkey _here -here"
).split()
_STAND_IN = re.compile(
    "|".join(
        re.escape(form) for word in _STAND_IN_WORDS for form in dict.fromkeys((word, word.upper(), word.capitalize()))
    )
)
#: Template and code shapes: ``${VAR}``, ``{{ var }}``, ``<your-key>``, ``%s``, ``os.environ[...]``, ``xxxx``, ``...``.
_TEMPLATE = re.compile(
    r"""(?x)
    \$\{ | \{\{ | \{% | <[^<>]*> | %\( | %[sd]\b | ^\$[A-Za-z_] | ^%[A-Za-z_]+%$ | ^@[A-Za-z_]+@?$
    | (?i:os\.environ | getenv | process\.env | env\( | env\[ | secrets\. | vault: | !vault)
    | ^(?:[xX]{2,}|\*+|\.+|-+|_+|0+|\#+)$ | \.\.\. | \u2026
    """
)
#: A dotted code reference (``self.password``, ``settings.DB_PASSWORD``), not a literal.
_CODE_REFERENCE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
#: An identifier that names a secret (``new_password``, ``apiToken``): a variable, not a value.
_SECRET_NAMED_IDENTIFIER = re.compile(r"(?i)[a-z_]*(?:pass|pwd|secret|token|key|cred)[a-z_]*")
_PATH = re.compile(r"[~.]{0,2}/[\w./-]*")
_HEX = re.compile(r"[0-9a-fA-F]+")
#: SHA-256 of the well-known Azurite/storage-emulator account key (public, documented, not a secret).
_AZURE_EMULATOR_KEY_SHA256 = "0011cc25eb4320717494d2703e8cba85743e71b500283c21c8b88147992f9059"


def is_placeholder(value: str) -> bool:
    """True for template variables, documentation stand-ins and other values that are no real secret."""
    stripped = value.strip()
    if not stripped or stripped.lower() in _PLACEHOLDER_WORDS:
        return True
    if len(set(stripped.lower())) <= 2:  # "aaaaaa", "xxxxxxxx", "********", "abababab"
        return True
    return _STAND_IN.search(stripped) is not None or _TEMPLATE.search(stripped) is not None


def shannon_entropy(value: str) -> float:
    """Bits of entropy per character of ``value`` (0 for an empty string)."""
    if not value:
        return 0.0
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in Counter(value).values())


def base62_encode(number: int, width: int) -> str:
    """``number`` in base 62 (digits, upper, lower), left-padded with zeros to ``width``."""
    digits: list[str] = []
    while number:
        number, rem = divmod(number, 62)
        digits.append(_BASE62[rem])
    return "".join(reversed(digits)).rjust(width, "0")


def github_checksum_ok(token: str) -> bool:
    """Check the CRC32 GitHub embeds in classic tokens (``ghp_`` + 30 random + 6 checksum chars).

    The last six characters are the base-62 encoding of the CRC32 of the 30
    random characters after the prefix, zero-padded (GitHub's 2021 token
    format); a random string passes with probability about 1 in 56 billion.
    """
    body = token[4:]
    if len(body) != 36:
        return False
    return base62_encode(zlib.crc32(body[:30].encode("ascii")), 6) == body[30:]


def _b64url_json_object(segment: str) -> dict[str, object] | None:
    """Decode one base64url JWT segment into a JSON object, or None when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        decoded = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, RecursionError):  # Unicode/JSONDecodeError are ValueErrors;
        return None  # RecursionError: JSON nested deeper than the parser follows (a hostile token)
    return decoded if isinstance(decoded, dict) else None


def _random_looking(value: str, *, min_entropy: float = 3.5) -> bool:
    """Mixed-case, high-entropy text: what generated keys look like and hex digests or words do not."""
    has_upper = any(c.isupper() for c in value)
    has_lower = any(c.islower() for c in value)
    return has_upper and has_lower and not _HEX.fullmatch(value) and shannon_entropy(value) >= min_entropy


def _window(match: re.Match[str], before: int, after: int) -> str:
    """The text around a match, for validators that look for nearby evidence."""
    return match.string[max(0, match.start() - before) : match.end() + after]


# --------------------------------------------------------------------------- validators


def _aws_access_key_id(match: re.Match[str], score: float) -> float | None:
    """AWS documents ``AKIAIOSFODNN7EXAMPLE``; keys ending in EXAMPLE are format-valid but low-scored."""
    return 0.3 if match.group("secret").endswith("EXAMPLE") else score


_AWS_NEARBY = re.compile(r"(?i)\baws|amazon|(?:AKIA|ASIA)[A-Z2-7]{16}")


def _aws_secret_access_key(match: re.Match[str], score: float) -> float | None:
    """A 40-character random value; the key name must say AWS, or AWS must be mentioned nearby."""
    value = match.group("secret")
    if not _random_looking(value, min_entropy=4.0):
        return None
    if "EXAMPLE" in value:
        return 0.3
    key = match.group("key").lower()
    if "aws" in key or "access" in key:
        return score
    return score - 0.05 if _AWS_NEARBY.search(_window(match, 300, 300)) else None


def _azure_key(match: re.Match[str], score: float) -> float | None:
    """64 random bytes in base64; the storage emulator's published key scores low."""
    value = match.group("secret")
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        return None
    if len(raw) != 64 or shannon_entropy(value) < 4.5:
        return None
    if hashlib.sha256(value.encode("ascii")).hexdigest() == _AZURE_EMULATOR_KEY_SHA256:
        return 0.3
    return score


_CONN_ACCOUNT_KEY = re.compile(r"(?:^|;)AccountKey=(?P<key>[^;]+)")


def _azure_connection_string(match: re.Match[str], score: float) -> float | None:
    """It must name an account and carry a real key; the emulator account scores low."""
    value = match.group("secret")
    key = _CONN_ACCOUNT_KEY.search(value)
    if "AccountName=" not in value or key is None or is_placeholder(key.group("key")) or len(key.group("key")) < 20:
        return None
    return 0.3 if "AccountName=devstoreaccount1" in value else score


_SAS_VERSION = re.compile(r"(?:^|&|&amp;)sv=\d{4}-\d{2}-\d{2}(?:&|$)")
_SAS_SIGNATURE = re.compile(r"(?:^|&|&amp;)sig=(?P<sig>[A-Za-z0-9%+/=_-]{16,})(?:&|$)")


def _azure_sas(match: re.Match[str], score: float) -> float | None:
    """A SAS query string has a service version date and a signature of real length."""
    value = match.group("secret")
    sig = _SAS_SIGNATURE.search(value)
    if _SAS_VERSION.search(value) is None or sig is None or is_placeholder(sig.group("sig")):
        return None
    return score


_GCP_SERVICE_ACCOUNT_TYPE = re.compile(r"""["']type["']\s*:\s*["']service_account["']""")


def _gcp_service_account(match: re.Match[str], score: float) -> float | None:
    """A ``private_key_id`` counts only inside a service-account key file (``"type": "service_account"``)."""
    return score if _GCP_SERVICE_ACCOUNT_TYPE.search(_window(match, 4000, 4000)) else None


def _github_classic(match: re.Match[str], score: float) -> float | None:
    """Checksum-valid tokens are near-certain; a bad checksum (typo, made-up example) scores low."""
    token = match.group("secret")
    if is_placeholder(token[4:]) or shannon_entropy(token[4:]) < 3.0:
        return None
    if len(token) != 40:  # longer tokens (newer installation tokens) carry no checksum we know
        return 0.85
    return score if github_checksum_ok(token) else 0.55


def _random_suffix(match: re.Match[str], score: float) -> float | None:
    """Prefixed tokens: the part after the prefix must not be a placeholder such as ``xxxx`` or ``your-token``."""
    value = match.group("secret")
    return None if is_placeholder(value) or shannon_entropy(value) < 3.0 else score


def _slack_token(match: re.Match[str], score: float) -> float | None:
    """Slack tokens end in a long random segment and carry numeric team/user ids."""
    value = match.group("secret")
    last = value.rsplit("-", 1)[-1]
    if len(last) < 10 or not any(c.isdigit() for c in value[5:]) or is_placeholder(last):
        return None
    return score


def _stripe_key(match: re.Match[str], score: float) -> float | None:
    """Test-mode keys reach no money, so they score lower than live keys."""
    value = match.group("secret")
    if is_placeholder(value[8:]) or shannon_entropy(value[8:]) < 3.0:
        return None
    return 0.6 if "_test_" in value else score


_OPENAI_MARKER = "T3BlbkFJ"  # base64 of "OpenAI", embedded in OpenAI keys


def _openai_key(match: re.Match[str], score: float) -> float | None:
    """Keys carrying the ``T3BlbkFJ`` marker are near-certain; unmarked legacy keys must look random."""
    value = match.group("secret")
    if _OPENAI_MARKER in value:
        return max(score, 0.95)
    return score if _random_looking(value[3:], min_entropy=4.0) else None


def _anthropic_key(match: re.Match[str], score: float) -> float | None:
    """Anthropic keys end in ``AA``; others of the right shape score a little lower."""
    value = match.group("secret")
    if shannon_entropy(value) < 3.5:
        return None
    return score if value.endswith("AA") else score - 0.07


def _jwt(match: re.Match[str], score: float) -> float | None:
    """Header and payload must decode to JSON objects, and the header must name an ``alg``."""
    header_b64, payload_b64, _ = match.group("secret").split(".")
    header = _b64url_json_object(header_b64)
    if header is None or "alg" not in header or _b64url_json_object(payload_b64) is None:
        return None
    return score


_PEM_HEADER_LINE = re.compile(r"^[A-Za-z-]+:.*$", re.MULTILINE)
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/=]")


def _private_key(match: re.Match[str], score: float) -> float | None:
    """The body must hold real key material (not ``...``); encrypted keys score a little lower."""
    body = match.group("body").replace("\\n", "\n").replace("\\r", "\n")
    material = _NOT_BASE64.sub("", _PEM_HEADER_LINE.sub("", body))
    if len(material) < 64 or len(set(material)) < 16:
        return None
    encrypted = match.group("kind").startswith("ENCRYPTED") or "ENCRYPTED" in body
    return 0.9 if encrypted else score


def _url_password(match: re.Match[str], score: float) -> float | None:
    """``scheme://user:password@host``: the password must not be a template or stand-in."""
    value = match.group("secret")
    return None if len(value) < 3 or is_placeholder(value) else score


def _assignment_value(match: re.Match[str], score: float, *, allow_digits_only: bool) -> float | None:
    """Shared checks for ``key = value`` detectors: placeholders, code references, paths."""
    quoted = match.group("dq") or match.group("sq")
    value = quoted if quoted is not None else match.group("bare")
    if is_placeholder(value) or value != value.strip():
        return None
    if not allow_digits_only and value.isdigit():
        return None
    if quoted is None:
        if _CODE_REFERENCE.fullmatch(value) or _PATH.fullmatch(value) or _SECRET_NAMED_IDENTIFIER.fullmatch(value):
            return None
        if value.replace("_", "").isalpha():  # a bare word may be a variable: keep it, but unsure
            return min(score, 0.6)
    return score


def _password_assignment(match: re.Match[str], score: float) -> float | None:
    """Passwords may be all digits (PINs); everything else as for any assignment."""
    return _assignment_value(match, score, allow_digits_only=True)


def _secret_assignment(match: re.Match[str], score: float) -> float | None:
    """Tokens and API keys are never plain numbers (those are counts and ids)."""
    return _assignment_value(match, score, allow_digits_only=False)


# --------------------------------------------------------------------------- patterns

#: ``key = value`` / ``key: value`` / ``"key": "value"`` / ``key => value``, after the key keyword.
_ASSIGN = r"""["']?[ \t]*(?::=|=>|=(?!=)|:)[ \t]*"""
#: The value: double-quoted, single-quoted, or bare up to a delimiter (never directly followed by a call or index).
_VALUE = (
    r"""(?:"(?P<dq>[^"\r\n]{6,200})"|'(?P<sq>[^'\r\n]{6,200})'"""
    r"""|(?P<bare>[^\s"'`;,&<>(){}\[\]]{6,200})(?=[\s"'`;,&<>)}\]]|$))"""
)
#: A key keyword starts a word: after a non-letter, or at a camelCase hump (``dbPassword``).
_KEY_START = r"(?:(?<![A-Za-z])|(?<=[a-z])(?=[A-Z]))"
#: Nothing may follow the keyword inside the key name: ``password_policy`` is not a password.
_KEY_END = r"(?![A-Za-z0-9_-])"

_PASSWORD_KEY = r"(?i:pass(?:word|wd|phrase)?|pwd)"
_SECRET_KEY = (
    r"(?i:(?:client[_-]?)?secret(?:[_-]?key)?|(?:access|auth|api|bearer|refresh|session)?[_-]?token"
    r"|(?:api|access)[_-]?key)"
)

_B64 = r"[A-Za-z0-9+/]"


SPECS: tuple[Spec, ...] = (
    # --- AWS
    Spec(
        "aws-access-key-id",
        "SECRET_AWS_ACCESS_KEY_ID",
        re.compile(r"(?<![A-Za-z0-9])(?P<secret>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})(?![A-Za-z0-9])"),
        0.9,
        _aws_access_key_id,
    ),
    Spec(
        "aws-secret-access-key",
        "SECRET_AWS_SECRET_ACCESS_KEY",
        re.compile(
            r"(?<![A-Za-z])(?P<key>(?i:(?:aws[_.\s-]?)?secret[_.\s-]?(?:access[_.\s-]?)?key))"
            + _ASSIGN
            + r"""["']?(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"""
        ),
        0.9,
        _aws_secret_access_key,
    ),
    # --- Azure
    Spec(
        "azure-connection-string",
        "SECRET_AZURE_CONNECTION_STRING",
        re.compile(r"""(?P<secret>DefaultEndpointsProtocol=https?(?:;[A-Za-z]+=[^;\s"'<>]*)*)"""),
        0.95,
        _azure_connection_string,
    ),
    Spec(
        "azure-account-key",
        "SECRET_AZURE_STORAGE_KEY",
        re.compile(rf"AccountKey=(?P<secret>{_B64}{{86}}==)(?![A-Za-z0-9+/=])"),
        0.95,
        _azure_key,
    ),
    Spec(
        "azure-storage-key-assignment",
        "SECRET_AZURE_STORAGE_KEY",
        re.compile(
            r"(?i:(?:azure|storage|account)[_.-]?(?:storage[_.-]?)?(?:account[_.-]?)?(?:access[_.-]?)?key)"
            + _ASSIGN
            + rf"""["']?(?<![A-Za-z0-9+/])(?P<secret>{_B64}{{86}}==)(?![A-Za-z0-9+/=])"""
        ),
        0.8,
        _azure_key,
    ),
    Spec(
        "azure-sas-token",
        "SECRET_AZURE_SAS_TOKEN",
        # A run of ``&``-joined short lowercase parameters; the validator wants ``sv=<date>`` and ``sig=``.
        re.compile(
            r"(?<![\w%+/=:.,&-])(?:SharedAccessSignature=)?"
            r"(?P<secret>[a-z]{2,5}=[\w%+/=:.,-]*(?:&(?:amp;)?[a-z]{2,5}=[\w%+/=:.,-]*)+)(?<![.,:])"
        ),
        0.95,
        _azure_sas,
    ),
    # --- Google Cloud
    Spec(
        "gcp-service-account-key",
        "SECRET_GCP_SERVICE_ACCOUNT_KEY",
        # The key id, extended over a directly following ``"private_key": "..."`` value.
        re.compile(
            r"""["']private_key_id["']\s*:\s*["'](?P<secret>[0-9a-f]{40}"""
            r"""(?:["']\s*,\s*["']private_key["']\s*:\s*["'][^"'\r\n]{0,8000})?)(?=["'])"""
        ),
        0.97,
        _gcp_service_account,
    ),
    Spec(
        "gcp-api-key",
        "SECRET_GCP_API_KEY",
        re.compile(r"(?<![\w-])(?P<secret>AIza[0-9A-Za-z_-]{35})(?![\w-])"),
        0.9,
        _random_suffix,
    ),
    # --- Source hosting
    Spec(
        "github-classic-token",
        "SECRET_GITHUB_TOKEN",
        re.compile(r"(?<![A-Za-z0-9_])(?P<secret>gh[pousr]_[A-Za-z0-9]{36,251})(?![A-Za-z0-9_])"),
        0.99,
        _github_classic,
    ),
    Spec(
        "github-fine-grained-token",
        "SECRET_GITHUB_TOKEN",
        re.compile(r"(?<![A-Za-z0-9_])(?P<secret>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})(?![A-Za-z0-9_])"),
        0.95,
        _random_suffix,
    ),
    Spec(
        "gitlab-token",
        "SECRET_GITLAB_TOKEN",
        re.compile(
            r"(?<![\w-])(?P<secret>gl(?:pat|dt|rt|ptt)-[0-9A-Za-z_-]{20,255}(?:\.[0-9A-Za-z_-]{1,32}){0,3})(?![\w-])"
        ),
        0.95,
        _random_suffix,
    ),
    # --- Chat
    Spec(
        "slack-token",
        "SECRET_SLACK_TOKEN",
        re.compile(r"(?<![\w-])(?P<secret>xox[abprs]-[0-9A-Za-z]{1,64}(?:-[0-9A-Za-z]{1,64}){1,5})(?![\w-])"),
        0.95,
        _slack_token,
    ),
    Spec(
        "slack-webhook",
        "SECRET_SLACK_TOKEN",
        re.compile(
            r"(?P<secret>https://hooks\.slack\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,32})"
            r"(?![A-Za-z0-9])"
        ),
        0.95,
    ),
    # --- Payments
    Spec(
        "stripe-key",
        "SECRET_STRIPE_KEY",
        re.compile(r"(?<![A-Za-z0-9_])(?P<secret>[sr]k_(?:live|test)_[0-9A-Za-z]{24,247})(?![0-9A-Za-z])"),
        0.97,
        _stripe_key,
    ),
    # --- AI providers
    Spec(
        "openai-project-key",
        "SECRET_OPENAI_API_KEY",
        re.compile(r"(?<![\w-])(?P<secret>sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,300})(?![\w-])"),
        0.92,
        _openai_key,
    ),
    Spec(
        "openai-marked-key",
        "SECRET_OPENAI_API_KEY",
        re.compile(r"(?<![\w-])(?P<secret>sk-(?!ant-)[A-Za-z0-9_-]{0,150}T3BlbkFJ[A-Za-z0-9_-]{0,150})(?![\w-])"),
        0.95,
        _openai_key,
    ),
    Spec(
        "openai-legacy-key",
        "SECRET_OPENAI_API_KEY",
        re.compile(r"(?<![\w-])(?P<secret>sk-[A-Za-z0-9]{48})(?![\w-])"),
        0.75,
        _openai_key,
    ),
    Spec(
        "anthropic-api-key",
        "SECRET_ANTHROPIC_API_KEY",
        re.compile(r"(?<![\w-])(?P<secret>sk-ant-(?:api|admin|oat)\d{2}-[A-Za-z0-9_-]{80,200})(?![\w-])"),
        0.97,
        _anthropic_key,
    ),
    # --- Structured tokens and key material
    Spec(
        "jwt",
        "SECRET_JWT",
        re.compile(r"(?<![\w-])(?P<secret>ey[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{8,})(?![\w-])"),
        0.9,
        _jwt,
    ),
    Spec(
        "pem-private-key",
        "SECRET_PRIVATE_KEY",
        # The body stops at the next run of five dashes, so a BEGIN without END costs one scan, not a quadratic one.
        re.compile(
            r"(?P<secret>-----BEGIN (?P<kind>(?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY|PGP PRIVATE KEY BLOCK)"
            r"-----(?P<body>(?:[^-]|-(?!----)){0,65536})-----END (?P=kind)-----)"
        ),
        0.99,
        _private_key,
    ),
    # --- Passwords and generic secrets
    Spec(
        "url-password",
        "SECRET_PASSWORD",
        re.compile(
            r"""(?<![A-Za-z0-9+.-])(?i:[a-z][a-z0-9+.-]{1,30})://[^\s:/?#@"'<>]{0,256}"""
            r""":(?P<secret>[^\s/?#@"'<>]{1,256})@(?=[^\s/?#@"'<>:])"""
        ),
        0.85,
        _url_password,
    ),
    Spec(
        "password-assignment",
        "SECRET_PASSWORD",
        re.compile(_KEY_START + _PASSWORD_KEY + _KEY_END + _ASSIGN + _VALUE),
        0.8,
        _password_assignment,
        groups=("dq", "sq", "bare"),
        generic=True,
    ),
    Spec(
        "secret-assignment",
        "SECRET_PASSWORD",
        re.compile(_KEY_START + _SECRET_KEY + _KEY_END + _ASSIGN + _VALUE),
        0.75,
        _secret_assignment,
        groups=("dq", "sq", "bare"),
        generic=True,
    ),
)

#: Lower-case substrings at least one of which every match of a detector contains. A detector whose
#: needles are all absent from a text is not run on it: a substring test costs a fraction of a regex scan.
NEEDLES: dict[str, tuple[str, ...]] = {
    "aws-access-key-id": ("akia", "asia", "abia", "acca"),
    "aws-secret-access-key": ("secret",),
    "azure-connection-string": ("defaultendpointsprotocol",),
    "azure-account-key": ("accountkey=",),
    "azure-storage-key-assignment": ("key",),
    "azure-sas-token": ("sig=",),
    "gcp-service-account-key": ("private_key_id",),
    "gcp-api-key": ("aiza",),
    "github-classic-token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    "github-fine-grained-token": ("github_pat_",),
    "gitlab-token": ("glpat-", "gldt-", "glrt-", "glptt-"),
    "slack-token": ("xox",),
    "slack-webhook": ("hooks.slack.com",),
    "stripe-key": ("k_live_", "k_test_"),
    "openai-project-key": ("sk-",),
    "openai-marked-key": ("t3blbkfj",),
    "openai-legacy-key": ("sk-",),
    "anthropic-api-key": ("sk-ant-",),
    "jwt": ("ey",),
    "pem-private-key": ("-----begin",),
    "url-password": ("://",),
    "password-assignment": ("pass", "pwd"),
    "secret-assignment": ("secret", "token", "key"),
}


@functools.cache
def _prefilter() -> Prefilter:
    """One Hyperscan pass tells which detectors can match a text at all (compiled once per process)."""
    return Prefilter([spec.regex for spec in SPECS])


#: Every entity type this module can report.
ENTITY_TYPES: frozenset[str] = frozenset(spec.entity_type for spec in SPECS)


# --------------------------------------------------------------------------- classifier


def _span(match: re.Match[str], groups: tuple[str, ...]) -> tuple[int, int] | None:
    for group in groups:
        if match.group(group) is not None:
            return match.span(group)
    return None


def resolve_overlaps(candidates: list[tuple[Detection, bool]]) -> list[Detection]:
    """Keep one detection per secret.

    Specific detections come first, longest first (then highest score), and a
    specific detection inside one already kept is dropped (the account key
    inside a connection string, a private key inside a service-account key
    region). Generic assignment detections are dropped when they overlap any
    kept detection.
    """
    kept: list[Detection] = []
    ordered = sorted(candidates, key=lambda c: (c[1], -(c[0].end - c[0].start), -c[0].score, c[0].start))
    for det, generic in ordered:
        if generic:
            clash = any(det.start < k.end and k.start < det.end for k in kept)
        else:
            clash = any(k.start <= det.start and det.end <= k.end for k in kept)
        if not clash:
            kept.append(det)
    return sorted(kept, key=lambda d: (d.start, d.end, d.entity_type))


class SecretsClassifier:
    """Regex detectors with validators for cloud keys, API tokens, private keys, JWTs and passwords."""

    name: ClassVar[str] = "secrets"

    def __init__(self, *, enabled_types: Collection[str] | None = None, prefilter: bool = True) -> None:
        if enabled_types is not None:
            unknown = sorted(set(enabled_types) - ENTITY_TYPES)
            if unknown:
                raise ConfigError(f"secrets classifier: unknown entity types {', '.join(unknown)}")
        wanted = ENTITY_TYPES if enabled_types is None else frozenset(enabled_types)
        self._specs = tuple((i, spec) for i, spec in enumerate(SPECS) if spec.entity_type in wanted)
        self._types = frozenset(spec.entity_type for _, spec in self._specs)
        #: False: no Hyperscan pass, every detector whose needles are present runs (the reference path).
        self._prefiltered = prefilter

    @property
    def entity_types(self) -> frozenset[str]:
        return self._types

    def setup(self) -> None:
        """Compile the prefilter (the patterns themselves are compiled when the module is imported)."""
        if self._prefiltered:
            _prefilter()

    def classify(self, text: str, *, context: Sequence[str] = ()) -> list[Detection]:
        """Find secrets in ``text``.

        ``context`` (field names of a record) is accepted for the protocol but
        not used: it names every field of a unit, not the one a span lies in, so
        it cannot tell which value is the password.
        """
        candidates: list[tuple[Detection, bool]] = []
        lowered = ""
        hits = _prefilter().scan(text) if self._prefiltered else None
        for index, spec in self._specs:
            if hits is not None and not hits.any(index):
                continue  # the prefilter saw no possible match: the full scan would find none
            needles = NEEDLES.get(spec.detector)
            lowered = lowered or text.lower()
            if needles is not None and not any(needle in lowered for needle in needles):
                continue
            for match in spec.regex.finditer(text):
                span = _span(match, spec.groups)
                if span is None or span[0] >= span[1]:
                    continue
                score = spec.score if spec.validator is None else spec.validator(match, spec.score)
                if score is None:
                    continue
                detection = Detection(spec.entity_type, span[0], span[1], round(score, 4), spec.detector)
                candidates.append((detection, spec.generic))
        return resolve_overlaps(candidates)
