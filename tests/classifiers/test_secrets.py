"""Tests for the secrets classifier.

No secret-looking literal is committed here: every positive example is built
at test time from random parts (``ghp_`` + random base62 + its computed CRC32
checksum, PEM keys from ``cryptography``, passwords from a seeded generator),
so the repository never trips its own scanner or anyone else's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import string
import time
import urllib.parse
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from faker import Faker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifiers.base import Detection
from classifiers.entities import CATALOGUE
from classifiers.secrets import ENTITY_TYPES, SecretsClassifier, resolve_overlaps
from scanner.errors import ConfigError

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
AWS_ID_CHARS = string.ascii_uppercase + "234567"
NO_ALG_HEADER = json.dumps({"typ": "JWT"}).encode()

CLASSIFIER = SecretsClassifier()
CLASSIFIER.setup()


# --------------------------------------------------------------------------- builders


def rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choices(alphabet, k=n))


def mixed(rng: random.Random, alphabet: str, n: int) -> str:
    """Random text that surely has upper case, lower case and a digit (as generated keys do)."""
    while True:
        value = rand(rng, alphabet, n)
        if any(c.isupper() for c in value) and any(c.islower() for c in value) and any(c.isdigit() for c in value):
            return value


def b62(number: int, width: int) -> str:
    out = ""
    while number:
        number, rem = divmod(number, 62)
        out = BASE62[rem] + out
    return out.rjust(width, "0")


def github_token(rng: random.Random, prefix: str = "ghp") -> str:
    """A classic GitHub token with a valid checksum: base62(crc32(30 random chars)), padded to 6."""
    body = mixed(rng, ALNUM, 30)
    return f"{prefix}_{body}{b62(zlib.crc32(body.encode()), 6)}"


def password(rng: random.Random, n: int = 14) -> str:
    """A strong-looking password: starts with a letter, has a digit, uses symbols safe in URLs and configs."""
    return rng.choice(string.ascii_letters) + mixed(rng, ALNUM + "!^*_+-", n - 1)


def aws_key_id(rng: random.Random, prefix: str = "AKIA") -> str:
    return prefix + rand(rng, AWS_ID_CHARS, 16)


def azure_key(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(64)).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(rng: random.Random, fake: Faker, header: dict[str, object] | None = None) -> str:
    head = b64url(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(
        json.dumps({"sub": fake.uuid4(), "name": fake.name(), "iat": rng.randrange(10**9, 2 * 10**9)}).encode()
    )
    sig = b64url(hmac.new(rng.randbytes(32), f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


def sas_token(rng: random.Random, *, sv_first: bool = True) -> str:
    sig = urllib.parse.quote(base64.b64encode(rng.randbytes(32)).decode(), safe="")
    params = ["sp=r", "st=2024-03-01T09:00:00Z", "se=2024-03-02T17:00:00Z", "spr=https", "sr=b", f"sig={sig}"]
    version = "sv=2022-11-02"
    return "&".join([version, *params] if sv_first else [*params[:-1], version, params[-1]])


def pem(kind: str) -> str:
    """A freshly generated private key in the PEM flavour named by ``kind``."""
    traditional, pkcs8 = serialization.PrivateFormat.TraditionalOpenSSL, serialization.PrivateFormat.PKCS8
    plain: serialization.KeySerializationEncryption = serialization.NoEncryption()
    key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    if kind == "RSA":
        key, fmt, enc = rsa.generate_private_key(public_exponent=65537, key_size=1024), traditional, plain
    elif kind == "OPENSSH":
        key, fmt, enc = ed25519.Ed25519PrivateKey.generate(), serialization.PrivateFormat.OpenSSH, plain
    elif kind == "EC":
        key, fmt, enc = ec.generate_private_key(ec.SECP256R1()), traditional, plain
    elif kind == "PKCS8":
        key, fmt, enc = ec.generate_private_key(ec.SECP256R1()), pkcs8, plain
    else:  # ENCRYPTED
        key, fmt, enc = ec.generate_private_key(ec.SECP256R1()), pkcs8, serialization.BestAvailableEncryption(b"pw")
    return key.private_bytes(serialization.Encoding.PEM, fmt, enc).decode().strip()


def pgp_block(rng: random.Random) -> str:
    """An armored block of the PGP private-key shape (random payload; only the framing matters here)."""
    body = base64.b64encode(rng.randbytes(300)).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{lines}\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----"


def public_pem_and_certificate() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test.invalid")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return public.decode(), cert.public_bytes(serialization.Encoding.PEM).decode()


def gcp_service_account(rng: random.Random, fake: Faker, *, with_private_key: bool = True) -> tuple[str, str]:
    """A service-account key file and the region the classifier should report (key id .. end of private key)."""
    key_id = rand(rng, "0123456789abcdef", 40)
    doc: dict[str, str] = {"type": "service_account", "project_id": fake.slug(), "private_key_id": key_id}
    if with_private_key:
        doc["private_key"] = pem("PKCS8") + "\n"
    doc["client_email"] = f"{fake.user_name()}@{fake.slug()}.iam.gserviceaccount.com"
    text = json.dumps(doc, indent=2)
    start = text.index(key_id)
    end = start + 40
    if with_private_key:
        encoded = json.dumps(doc["private_key"])[1:-1]
        end = text.index(encoded) + len(encoded)
    return text, text[start:end]


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Case:
    """One planted secret: the entity type, and a builder of ``(text, secret)``."""

    id: str
    entity_type: str
    build: Callable[[random.Random, Faker], tuple[str, str]]
    detector: str | None = None


def _case(
    id_: str, entity: str, build: Callable[[random.Random, Faker], tuple[str, str]], det: str | None = None
) -> Case:
    return Case(id_, entity, build, det)


def _planted(
    template: str, make: Callable[[random.Random, Faker], str]
) -> Callable[[random.Random, Faker], tuple[str, str]]:
    """A builder that formats ``make``'s value into ``template`` (``{v}`` marks the spot)."""

    def build(rng: random.Random, fake: Faker) -> tuple[str, str]:
        value = make(rng, fake)
        return template.format(v=value, name=fake.user_name(), host=fake.domain_name()), value

    return build


def _github_maker(prefix: str) -> Callable[[random.Random, Faker], str]:
    return lambda rng, fake: github_token(rng, prefix)


def _pem_maker(kind: str) -> Callable[[random.Random, Faker], str]:
    return lambda rng, fake: pem(kind)


def _connection_string(rng: random.Random, fake: Faker) -> str:
    account = fake.user_name().replace("_", "").replace(".", "")[:20] + "sa"
    return (
        f"DefaultEndpointsProtocol=https;AccountName={account};AccountKey={azure_key(rng)};"
        "EndpointSuffix=core.windows.net"
    )


def _gcp_with_key(rng: random.Random, fake: Faker) -> tuple[str, str]:
    return gcp_service_account(rng, fake, with_private_key=True)


def _gcp_id_only(rng: random.Random, fake: Faker) -> tuple[str, str]:
    return gcp_service_account(rng, fake, with_private_key=False)


def _aws_pair(rng: random.Random, fake: Faker) -> tuple[str, str]:
    secret = mixed(rng, B64, 40)
    return f"key_id: {aws_key_id(rng)}\nsecret_key: {secret}\n", secret


POSITIVES: list[Case] = [
    # AWS
    _case("aws-id-akia", "SECRET_AWS_ACCESS_KEY_ID", _planted("aws_access_key_id = {v}", lambda r, f: aws_key_id(r))),
    _case(
        "aws-id-asia-json",
        "SECRET_AWS_ACCESS_KEY_ID",
        _planted('{{"AccessKeyId": "{v}"}}', lambda r, f: aws_key_id(r, "ASIA")),
    ),
    _case(
        "aws-secret-env",
        "SECRET_AWS_SECRET_ACCESS_KEY",
        _planted("AWS_SECRET_ACCESS_KEY={v}\n", lambda r, f: mixed(r, B64, 40)),
    ),
    _case(
        "aws-secret-ini",
        "SECRET_AWS_SECRET_ACCESS_KEY",
        _planted("aws_secret_access_key = {v}", lambda r, f: mixed(r, B64, 40)),
    ),
    _case(
        "aws-secret-sts-json",
        "SECRET_AWS_SECRET_ACCESS_KEY",
        _planted('"SecretAccessKey": "{v}",', lambda r, f: mixed(r, B64, 40)),
    ),
    _case("aws-secret-near-id", "SECRET_AWS_SECRET_ACCESS_KEY", _aws_pair),
    # Azure
    _case(
        "azure-account-key",
        "SECRET_AZURE_STORAGE_KEY",
        _planted("AccountKey={v};", lambda r, f: azure_key(r)),
        "azure-account-key",
    ),
    _case(
        "azure-key-assignment",
        "SECRET_AZURE_STORAGE_KEY",
        _planted('AZURE_STORAGE_KEY="{v}"', lambda r, f: azure_key(r)),
    ),
    _case(
        "azure-key-yaml", "SECRET_AZURE_STORAGE_KEY", _planted("storage_account_key: {v}\n", lambda r, f: azure_key(r))
    ),
    _case("azure-conn-string", "SECRET_AZURE_CONNECTION_STRING", _planted('conn = "{v}"', _connection_string)),
    _case("azure-conn-string-bare", "SECRET_AZURE_CONNECTION_STRING", _planted("{v}\n", _connection_string)),
    _case(
        "azure-sas-url",
        "SECRET_AZURE_SAS_TOKEN",
        _planted("https://{name}.blob.core.windows.net/docs/report.pdf?{v}", lambda r, f: sas_token(r)),
    ),
    _case(
        "azure-sas-sv-later",
        "SECRET_AZURE_SAS_TOKEN",
        _planted('url: "https://x.blob.core.windows.net/c/b?{v}"', lambda r, f: sas_token(r, sv_first=False)),
    ),
    _case(
        "azure-sas-sentence",
        "SECRET_AZURE_SAS_TOKEN",
        _planted("Use the token ?{v}. It expires soon.", lambda r, f: sas_token(r)),
    ),
    # Google Cloud
    _case("gcp-sa-with-private-key", "SECRET_GCP_SERVICE_ACCOUNT_KEY", _gcp_with_key),
    _case("gcp-sa-id-only", "SECRET_GCP_SERVICE_ACCOUNT_KEY", _gcp_id_only),
    _case(
        "gcp-api-key", "SECRET_GCP_API_KEY", _planted("maps?key={v}&q=x", lambda r, f: "AIza" + mixed(r, B64URL, 35))
    ),
    # Source hosting
    *[
        _case(f"github-{p}", "SECRET_GITHUB_TOKEN", _planted("export GH_TOKEN={v}", _github_maker(p)))
        for p in ("ghp", "gho", "ghu", "ghs", "ghr")
    ],
    _case(
        "github-in-url",
        "SECRET_GITHUB_TOKEN",
        _planted("https://x-access-token:{v}@github.com/o/r.git", lambda r, f: github_token(r)),
    ),
    _case(
        "github-fine-grained",
        "SECRET_GITHUB_TOKEN",
        _planted('token = "{v}"', lambda r, f: f"github_pat_{mixed(r, ALNUM, 22)}_{mixed(r, ALNUM, 59)}"),
        "github-fine-grained-token",
    ),
    _case(
        "gitlab-pat",
        "SECRET_GITLAB_TOKEN",
        _planted("GITLAB_TOKEN={v}", lambda r, f: "glpat-" + mixed(r, ALNUM + "_-", 20)),
    ),
    # Chat
    _case(
        "slack-bot",
        "SECRET_SLACK_TOKEN",
        _planted(
            "SLACK_BOT_TOKEN={v}",
            lambda r, f: f"xoxb-{rand(r, string.digits, 12)}-{rand(r, string.digits, 13)}-{mixed(r, ALNUM, 24)}",
        ),
    ),
    _case(
        "slack-user",
        "SECRET_SLACK_TOKEN",
        _planted(
            "auth: {v}",
            lambda r, f: (
                f"xoxp-{rand(r, string.digits, 11)}-{rand(r, string.digits, 11)}-"
                f"{rand(r, string.digits, 12)}-{rand(r, '0123456789abcdef', 32)}"
            ),
        ),
    ),
    _case(
        "slack-webhook",
        "SECRET_SLACK_TOKEN",
        _planted(
            "curl -X POST {v} -d @msg.json",
            lambda r, f: (
                "https://hooks.slack.com/services/"
                f"T{rand(r, AWS_ID_CHARS, 10)}/B{rand(r, AWS_ID_CHARS, 10)}/{mixed(r, ALNUM, 24)}"
            ),
        ),
        "slack-webhook",
    ),
    # Payments
    _case(
        "stripe-live",
        "SECRET_STRIPE_KEY",
        _planted("stripe.api_key = '{v}'", lambda r, f: "sk_live_" + mixed(r, ALNUM, 24)),
    ),
    _case(
        "stripe-restricted-long",
        "SECRET_STRIPE_KEY",
        _planted("STRIPE={v}", lambda r, f: "rk_live_" + mixed(r, ALNUM, 99)),
    ),
    _case("stripe-test", "SECRET_STRIPE_KEY", _planted("key: {v}", lambda r, f: "sk_test_" + mixed(r, ALNUM, 30))),
    # AI providers
    _case(
        "openai-project",
        "SECRET_OPENAI_API_KEY",
        _planted(
            "OPENAI_API_KEY={v}",
            lambda r, f: "sk-proj-" + mixed(r, B64URL, 74) + "T3BlbkFJ" + mixed(r, B64URL, 74),
        ),
        "openai-project-key",
    ),
    _case(
        "openai-marked",
        "SECRET_OPENAI_API_KEY",
        _planted(
            "client = OpenAI(api_key='{v}')",
            lambda r, f: "sk-" + mixed(r, ALNUM, 20) + "T3BlbkFJ" + mixed(r, ALNUM, 20),
        ),
    ),
    _case("openai-legacy", "SECRET_OPENAI_API_KEY", _planted("key={v}", lambda r, f: "sk-" + mixed(r, ALNUM, 48))),
    _case(
        "anthropic",
        "SECRET_ANTHROPIC_API_KEY",
        _planted("ANTHROPIC_API_KEY={v}", lambda r, f: "sk-ant-api03-" + mixed(r, B64URL, 93) + "AA"),
    ),
    _case(
        "anthropic-admin",
        "SECRET_ANTHROPIC_API_KEY",
        _planted("x-api-key: {v}", lambda r, f: "sk-ant-admin01-" + mixed(r, B64URL, 93) + "AA"),
    ),
    # JWT
    _case("jwt-bearer", "SECRET_JWT", _planted("Authorization: Bearer {v}\n", jwt)),
    _case("jwt-rs256", "SECRET_JWT", _planted("id_token={v}", lambda r, f: jwt(r, f, {"alg": "RS256", "kid": "k1"}))),
    # Private keys
    *[
        _case(f"pem-{kind.lower()}", "SECRET_PRIVATE_KEY", _planted("key file:\n{v}\nend", _pem_maker(kind)))
        for kind in ("RSA", "EC", "PKCS8", "OPENSSH", "ENCRYPTED")
    ],
    _case("pem-pgp", "SECRET_PRIVATE_KEY", _planted("{v}\n", lambda r, f: pgp_block(r))),
    _case(
        "pem-escaped-in-json",
        "SECRET_PRIVATE_KEY",
        _planted('{{"key": "{v}"}}', lambda r, f: pem("PKCS8").replace("\n", "\\n")),
    ),
    # Passwords
    _case(
        "pw-url",
        "SECRET_PASSWORD",
        _planted("postgres://{name}:{v}@{host}:5432/app", lambda r, f: password(r)),
        "url-password",
    ),
    _case(
        "pw-url-no-user", "SECRET_PASSWORD", _planted("REDIS_URL=redis://:{v}@{host}:6379/0", lambda r, f: password(r))
    ),
    _case("pw-env", "SECRET_PASSWORD", _planted("DB_PASSWORD={v}\n", lambda r, f: password(r)), "password-assignment"),
    _case("pw-json", "SECRET_PASSWORD", _planted('{{"user": "{name}", "password": "{v}"}}', lambda r, f: password(r))),
    _case("pw-yaml", "SECRET_PASSWORD", _planted("db:\n  passwd: '{v}'\n", lambda r, f: password(r))),
    _case("pw-properties", "SECRET_PASSWORD", _planted("spring.datasource.password={v}", lambda r, f: password(r))),
    _case("pw-camel", "SECRET_PASSWORD", _planted('const dbPassword = "{v}";', lambda r, f: password(r))),
    _case("pw-odbc", "SECRET_PASSWORD", _planted("Server={host};User Id={name};Pwd={v};", lambda r, f: password(r))),
    _case("pw-cli", "SECRET_PASSWORD", _planted("mysql --password={v} -h {host}", lambda r, f: password(r))),
    _case("pw-pin", "SECRET_PASSWORD", _planted("pin_password: {v}", lambda r, f: rand(r, string.digits, 8))),
    _case(
        "secret-client",
        "SECRET_PASSWORD",
        _planted("client_secret: {v}", lambda r, f: mixed(r, ALNUM, 32)),
        "secret-assignment",
    ),
    _case("secret-api-key", "SECRET_PASSWORD", _planted('api_key = "{v}"', lambda r, f: mixed(r, ALNUM, 32))),
    _case("secret-token", "SECRET_PASSWORD", _planted("token={v}&user=1", lambda r, f: mixed(r, ALNUM + "-_", 24))),
    _case(
        "secret-django", "SECRET_PASSWORD", _planted("SECRET_KEY = '{v}'", lambda r, f: mixed(r, ALNUM + "!^*_+-", 50))
    ),
]

#: Hard negatives: none of these may produce any SECRET_* detection.
NEGATIVES: list[tuple[str, Callable[[random.Random, Faker], str]]] = [
    # placeholders and templates
    ("env-template", lambda r, f: "password=${DB_PASSWORD}"),
    ("angle-placeholder", lambda r, f: "password: <your-password>"),
    ("changeme", lambda r, f: 'password = "changeme"'),
    ("stars", lambda r, f: 'password: "********"'),
    ("xs", lambda r, f: "password = 'xxxxxxxxxx'"),
    ("example", lambda r, f: '"password": "example"'),
    ("your-password", lambda r, f: 'password = "your_password"'),
    ("null", lambda r, f: "password: null"),
    ("none", lambda r, f: "password = None"),
    ("bool", lambda r, f: "secret: true\ntoken: false"),
    ("empty", lambda r, f: 'password=""'),
    ("jinja", lambda r, f: "password: {{ db_password }}"),
    ("jinja-quoted", lambda r, f: 'password: "{{ vault_db_password }}"'),
    ("printf", lambda r, f: "password = '%s' % pw"),
    ("os-environ", lambda r, f: 'password = os.environ["DB_PASSWORD"]'),
    ("os-getenv", lambda r, f: 'password = os.getenv("DB_PASSWORD")'),
    ("process-env", lambda r, f: "const token = process.env.API_TOKEN;"),
    ("call", lambda r, f: "password = get_password()"),
    ("attribute", lambda r, f: "password = self.password"),
    ("variable", lambda r, f: "password = new_password"),
    ("type-annotation", lambda r, f: "password: string;\ntoken: Optional[str] = None"),
    ("comparison", lambda r, f: "if password == other:"),
    ("url-template", lambda r, f: "postgres://app:${PGPASSWORD}@db:5432/app"),
    (
        "url-no-password",
        lambda r, f: f"https://{f.user_name()}@{f.domain_name()}/x and https://{f.domain_name()}:8080/a",
    ),
    ("pwd-path", lambda r, f: "PWD=/home/user/project"),
    ("counts", lambda r, f: "max_tokens=4096\ntoken_count = 1234567\nnum_tokens: 32768"),
    ("key-suffix", lambda r, f: "password_policy = strict-mode\ntoken_type = bearer-token"),
    ("bearer-word", lambda r, f: "token: Bearer"),
    # prose
    (
        "prose-aws",
        lambda r, f: "Remember to rotate your AWS secret key regularly and never share the secret access key.",
    ),
    ("prose-password", lambda r, f: "Password must be at least 8 characters long. Enter your password: "),
    ("prose-faker", lambda r, f: f.paragraph(nb_sentences=8)),
    ("sk-in-words", lambda r, f: "task-runner, risk-based, desk-lamp, sk-learn, whisk-together"),
    # ids and hashes
    ("git-sha", lambda r, f: f"commit {rand(r, '0123456789abcdef', 40)}\nAuthor: {f.name()}"),
    ("uuid", lambda r, f: f"request id {f.uuid4()} / trace {f.uuid4()}"),
    ("sha256", lambda r, f: f"sha256:{hashlib.sha256(r.randbytes(8)).hexdigest()}"),
    ("image-data", lambda r, f: f'<img src="data:image/png;base64,{base64.b64encode(r.randbytes(300)).decode()}">'),
    ("bare-azure-like", lambda r, f: f"blob {azure_key(r)} end"),
    ("bare-40-b64", lambda r, f: f"value {mixed(r, B64, 40)} end"),
    # JWT look-alikes
    ("jwt-random", lambda r, f: f"eyJ{rand(r, B64URL, 30)}.eyJ{rand(r, B64URL, 40)}.{rand(r, B64URL, 43)}"),
    ("jwt-not-json", lambda r, f: f"{b64url(b'{not json')}.{b64url(b'{}')}.{rand(r, B64URL, 43)}"),
    ("jwt-no-alg", lambda r, f: f"{b64url(NO_ALG_HEADER)}.{b64url(b'{}')}.{rand(r, B64URL, 43)}"),
    # key material that is not private, or not really there
    ("pem-public", lambda r, f: public_pem_and_certificate()[0]),
    ("pem-certificate", lambda r, f: public_pem_and_certificate()[1]),
    (
        "pem-truncated",
        lambda r, f: "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----",
    ),
    (
        "pem-mismatched-end",
        lambda r, f: pem("EC").replace("END EC PRIVATE KEY", "END RSA PRIVATE KEY"),
    ),
    # provider look-alikes
    ("slack-placeholder", lambda r, f: "SLACK_TOKEN=xoxb-your-token-here"),
    ("stripe-placeholder", lambda r, f: "sk_live_" + "x" * 24),
    ("github-placeholder", lambda r, f: "ghp_" + "X" * 36),
    ("gcp-short", lambda r, f: "AIza" + rand(r, ALNUM, 20)),
    ("gitlab-short", lambda r, f: "glpat-" + rand(r, ALNUM, 10)),
    ("openai-truncated", lambda r, f: "OPENAI_API_KEY=sk-proj-..."),
    ("aws-too-short", lambda r, f: "AKIA" + rand(r, AWS_ID_CHARS, 12)),
    ("aws-lowercase", lambda r, f: "akia" + rand(r, string.ascii_lowercase, 16)),
    # structures missing their secret part
    ("sas-without-sig", lambda r, f: "https://a.blob.core.windows.net/c/b?sv=2022-11-02&sp=r&se=2024-01-01"),
    ("query-string", lambda r, f: "https://example.org/search?q=cats&page=2&sort=asc&lang=en"),
    ("conn-string-placeholder", lambda r, f: "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=<your-key>"),
    ("gcp-id-without-type", lambda r, f: f'{{"private_key_id": "{rand(r, "0123456789abcdef", 40)}"}}'),
]


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """A generator seeded per test, so a failure reproduces."""
    return random.Random(request.node.nodeid)


@pytest.fixture
def fake(rng: random.Random) -> Faker:
    faker = Faker()
    faker.seed_instance(rng.random())
    return faker


def secret_detections(text: str, classifier: SecretsClassifier = CLASSIFIER) -> list[Detection]:
    return [d for d in classifier.classify(text) if d.entity_type.startswith("SECRET_")]


# --------------------------------------------------------------------------- table tests


@pytest.mark.parametrize("case", POSITIVES, ids=[c.id for c in POSITIVES])
def test_positive(case: Case, rng: random.Random, fake: Faker) -> None:
    text, secret = case.build(rng, fake)
    found = secret_detections(text)
    spans = [(d.entity_type, text[d.start : d.end]) for d in found]
    assert (case.entity_type, secret) in spans, f"{case.id}: got types {[d.entity_type for d in found]}"
    hit = next(d for d in found if d.entity_type == case.entity_type and text[d.start : d.end] == secret)
    assert 0.5 <= hit.score <= 1.0
    if case.detector is not None:
        assert hit.detector == case.detector
    # one finding per secret: nothing else overlaps the planted one
    assert [d for d in found if d is not hit and d.start < hit.end and hit.start < d.end] == []


@pytest.mark.parametrize(("case_id", "build"), NEGATIVES, ids=[n[0] for n in NEGATIVES])
def test_hard_negative(
    case_id: str, build: Callable[[random.Random, Faker], str], rng: random.Random, fake: Faker
) -> None:
    text = build(rng, fake)
    found = secret_detections(text)
    assert found == [], f"{case_id}: unexpected {[(d.entity_type, d.detector) for d in found]}"


def test_every_entity_type_has_positive_examples() -> None:
    assert {c.entity_type for c in POSITIVES} == ENTITY_TYPES


# --------------------------------------------------------------------------- scores


def test_structured_tokens_score_high(rng: random.Random, fake: Faker) -> None:
    for text, entity in [
        (github_token(rng), "SECRET_GITHUB_TOKEN"),
        (pem("EC"), "SECRET_PRIVATE_KEY"),
        (_connection_string(rng, fake), "SECRET_AZURE_CONNECTION_STRING"),
    ]:
        (hit,) = secret_detections(text)
        assert hit.entity_type == entity
        assert hit.score >= 0.9


def test_assignment_scores_are_contextual(rng: random.Random) -> None:
    (hit,) = secret_detections(f"password = '{password(rng)}'")
    assert 0.7 <= hit.score <= 0.85


def test_aws_documentation_key_is_found_but_scored_low() -> None:
    key = "AKIA" + "IOSFODNN7" + "EXAMPLE"  # AWS's documented example, assembled so no scanner flags this file
    (hit,) = secret_detections(f"aws_access_key_id={key}")
    assert hit.entity_type == "SECRET_AWS_ACCESS_KEY_ID"
    assert hit.score < 0.5


def test_azure_emulator_account_scores_low(rng: random.Random) -> None:
    text = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={azure_key(rng)}"
    (hit,) = secret_detections(text)
    assert hit.entity_type == "SECRET_AZURE_CONNECTION_STRING"
    assert hit.score < 0.5


def test_stripe_test_keys_score_below_live_keys(rng: random.Random) -> None:
    tail = mixed(rng, ALNUM, 30)
    (live,) = secret_detections(f"sk_live_{tail}")
    (test,) = secret_detections(f"sk_test_{tail}")
    assert test.score < live.score


def test_bad_github_checksum_scores_low(rng: random.Random) -> None:
    token = github_token(rng)
    broken = token[:-1] + ("A" if token[-1] != "A" else "B")
    (good,) = secret_detections(token)
    (bad,) = secret_detections(broken)
    assert good.score >= 0.95
    assert bad.score < 0.75


def test_connection_string_is_one_finding(rng: random.Random, fake: Faker) -> None:
    text = _connection_string(rng, fake)
    assert [(d.entity_type, d.start, d.end) for d in secret_detections(text)] == [
        ("SECRET_AZURE_CONNECTION_STRING", 0, len(text))
    ]


def test_generic_assignment_yields_to_specific_detector(rng: random.Random) -> None:
    token = github_token(rng)
    text = f'token = "{token}"'
    (hit,) = secret_detections(text)
    assert (hit.entity_type, hit.detector, text[hit.start : hit.end]) == (
        "SECRET_GITHUB_TOKEN",
        "github-classic-token",
        token,
    )


def test_several_secrets_in_one_document(rng: random.Random, fake: Faker) -> None:
    planted = [github_token(rng), aws_key_id(rng), password(rng), jwt(rng, fake)]
    text = (
        f"# {fake.sentence()}\nGH={planted[0]}\naws_access_key_id: {planted[1]}\n"
        f"db_password: {planted[2]}\n{fake.paragraph()}\nBearer {planted[3]}\n"
    )
    assert sorted(text[d.start : d.end] for d in secret_detections(text)) == sorted(planted)


def test_detections_are_sorted_and_named(rng: random.Random, fake: Faker) -> None:
    text = "\n".join(case.build(rng, fake)[0] for case in POSITIVES)
    found = CLASSIFIER.classify(text)
    assert found == sorted(found, key=lambda d: (d.start, d.end, d.entity_type))
    assert all(d.detector and d.detector == d.detector.lower() and " " not in d.detector for d in found)


# --------------------------------------------------------------------------- configuration


def test_entity_types_match_the_catalogue() -> None:
    secrets_in_catalogue = {name for name in CATALOGUE if name.startswith("SECRET_")}
    assert CLASSIFIER.entity_types == ENTITY_TYPES == secrets_in_catalogue
    assert SecretsClassifier.name == "secrets"


def test_enabled_types_restrict_detection(rng: random.Random) -> None:
    only_github = SecretsClassifier(enabled_types=["SECRET_GITHUB_TOKEN"])
    assert only_github.entity_types == {"SECRET_GITHUB_TOKEN"}
    token, pw = github_token(rng), password(rng)
    text = f"{token}\npassword={pw}\n"
    assert [text[d.start : d.end] for d in only_github.classify(text)] == [token]
    assert SecretsClassifier(enabled_types=[]).classify(text) == []


def test_unknown_enabled_type_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="SECRET_NOPE"):
        SecretsClassifier(enabled_types=["SECRET_NOPE"])


def test_context_is_accepted(rng: random.Random) -> None:
    token = github_token(rng)
    assert secret_detections(token) == CLASSIFIER.classify(token, context=["password", "token"])


def test_resolve_overlaps_keeps_container_and_drops_generic() -> None:
    outer = Detection("SECRET_AZURE_CONNECTION_STRING", 0, 100, 0.95, "azure-connection-string")
    inner = Detection("SECRET_AZURE_STORAGE_KEY", 50, 90, 0.95, "azure-account-key")
    generic = Detection("SECRET_PASSWORD", 80, 120, 0.8, "password-assignment")
    apart = Detection("SECRET_JWT", 130, 200, 0.9, "jwt")
    assert resolve_overlaps([(inner, False), (generic, True), (outer, False), (apart, False)]) == [outer, apart]


# --------------------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    "text",
    [
        "-----BEGIN PRIVATE KEY-----" * 3000,
        "?ab=" + "x&ab=" * 15000,
        "password=" * 10000,
        "xoxb-" + "1-" * 40000,
        "https://a:" * 8000,
        "eyJ" + "a" * 80000,
        "DefaultEndpointsProtocol=https" + ";a=b" * 20000,
        "aB" * 40000,
    ],
    ids=["pem", "sas", "password", "slack", "url", "jwt", "conn", "camel"],
)
def test_pathological_input_stays_fast(text: str) -> None:
    started = time.perf_counter()
    CLASSIFIER.classify(text)
    assert time.perf_counter() - started < 1.0


# --------------------------------------------------------------------------- properties

#: Characters that pull the patterns in many directions at once.
_TRICKY = st.sampled_from(
    [
        *"=:;&?@/.-_\"' \n\t{}[]$%<>",
        *("ghp_", "sk-", "sk-ant-api03-", "AKIA", "eyJ", "xoxb-", "AIza", "glpat-", "sk_live_", "T3BlbkFJ"),
        *("password", "token", "AccountKey=", "sv=2020-01-01", "&sig=", "://", "-----BEGIN ", "PRIVATE KEY-----"),
        *("-----END ", "DefaultEndpointsProtocol=https", '"private_key_id": "', "service_account"),
    ]
)
_TEXT = st.one_of(
    st.text(max_size=400), st.lists(st.one_of(_TRICKY, st.text(ALNUM, max_size=50)), max_size=60).map("".join)
)
#: Seeded generators: the token is random-looking whatever seed Hypothesis shrinks to.
_RNGS = st.integers(min_value=0, max_value=2**32).map(random.Random)
_SEPARATORS = st.sampled_from(list(" \n\t\"'=:,;()[]{}<>|"))
_FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_FAST
@given(_TEXT)
def test_classify_never_raises_and_spans_are_sane(text: str) -> None:
    found = CLASSIFIER.classify(text)
    for det in found:
        assert 0 <= det.start < det.end <= len(text)
        assert det.entity_type in CLASSIFIER.entity_types
        assert 0.0 <= det.score <= 1.0
        assert det.detector


@_FAST
@given(
    prefix=st.text(max_size=80),
    left=_SEPARATORS,
    right=_SEPARATORS,
    suffix=st.text(max_size=80),
    token_rng=_RNGS,
    kind=st.sampled_from(["ghp", "gho", "ghu", "ghs", "ghr"]),
)
def test_planted_github_token_is_found_exactly(
    prefix: str, left: str, right: str, suffix: str, token_rng: random.Random, kind: str
) -> None:
    token = github_token(token_rng, kind)
    text = prefix + left + token + right + suffix
    start = len(prefix) + len(left)
    hits = [d for d in CLASSIFIER.classify(text) if d.entity_type == "SECRET_GITHUB_TOKEN"]
    assert any(d.start == start and d.end == start + len(token) and d.score >= 0.95 for d in hits)


@_FAST
@given(token_rng=_RNGS, index=st.integers(4, 39), replacement=st.sampled_from(ALNUM))
def test_flipping_a_character_breaks_the_checksum(token_rng: random.Random, index: int, replacement: str) -> None:
    token = github_token(token_rng)
    flipped = token[:index] + replacement + token[index + 1 :]
    (original,) = CLASSIFIER.classify(token)
    after = CLASSIFIER.classify(flipped)
    if flipped == token:
        assert after == [original]
    else:  # the checksum no longer matches: found as a token shape only, with a low score
        assert [(d.entity_type, d.start, d.end) for d in after] == [("SECRET_GITHUB_TOKEN", 0, 40)]
        assert after[0].score < original.score
        assert after[0].score < 0.75


# --------------------------------------------------------------------------- prefilter

#: The reference: every detector whose needles are present runs over the whole text.
PLAIN = SecretsClassifier(prefilter=False)


@pytest.mark.parametrize("case", POSITIVES, ids=[c.id for c in POSITIVES])
def test_prefilter_keeps_every_positive(case: Case, rng: random.Random, fake: Faker) -> None:
    text, _ = case.build(rng, fake)
    for wrapped in (text, f"Prose before. {text} ünïcode after", text.replace("\n", "\u00a0\n")):
        assert CLASSIFIER.classify(wrapped) == PLAIN.classify(wrapped)


@pytest.mark.parametrize(("case_id", "build"), NEGATIVES, ids=[n[0] for n in NEGATIVES])
def test_prefilter_keeps_every_negative(
    case_id: str, build: Callable[[random.Random, Faker], str], rng: random.Random, fake: Faker
) -> None:
    text = build(rng, fake)
    assert CLASSIFIER.classify(text) == PLAIN.classify(text)


@_FAST
@given(_TEXT)
def test_prefiltered_and_full_scans_find_the_same(text: str) -> None:
    assert CLASSIFIER.classify(text) == PLAIN.classify(text)
