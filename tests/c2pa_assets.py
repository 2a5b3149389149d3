"""C2PA-signed test assets made at test time: an ES256 root CA and leaf certificate, and small JPEG / PNG /
PDF files carrying a manifest with a training-mining assertion, signed with c2pa-python's Builder.

c2pa accepts a signing certificate whose key usage is ``digitalSignature`` and whose extended key usage is
one of emailProtection, documentSigning, timeStamping, OCSPSigning or the C2PA signing OID; the CA needs
``keyCertSign``. Nothing here is fetched: no timestamp authority, no remote manifest.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class SigningIdentity:
    ca_pem: bytes
    chain_pem: bytes  # leaf, then the CA
    key_pem: bytes


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ingestguard tests"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        ]
    )


def _usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def signing_identity() -> SigningIdentity:
    """A fresh root CA and an ES256 leaf it issued, with the key usages c2pa requires."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("ingestguard test root"))
        .issuer_name(_name("ingestguard test root"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("ingestguard test signer"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=True, ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return SigningIdentity(
        ca_pem=ca.public_bytes(pem),
        chain_pem=leaf.public_bytes(pem) + ca.public_bytes(pem),
        key_pem=key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


def plain_image(kind: str = "JPEG") -> bytes:
    """An 8×8 image without any manifest."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (40, 90, 160)).save(buf, kind)
    return buf.getvalue()


def plain_pdf(text: str = "Harbour schedule for the week.") -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, text)
    c.save()
    return buf.getvalue()


def manifest_definition(entries: dict[str, str], *, prefix: str = "c2pa") -> dict[str, Any]:
    """A manifest with a created action and a ``<prefix>.training-mining`` assertion (``{use: value}``)."""
    return {
        "claim_generator_info": [{"name": "ingestguard-tests", "version": "1"}],
        "title": "test asset",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
                        }
                    ]
                },
            },
            {
                "label": f"{prefix}.training-mining",
                "data": {"entries": {f"{prefix}.{use}": {"use": value} for use, value in entries.items()}},
            },
        ],
    }


def sign(identity: SigningIdentity, data: bytes, mime: str, entries: dict[str, str], *, prefix: str = "c2pa") -> bytes:
    """``data`` with a signed manifest embedded (no thumbnail, no timestamp authority)."""
    import c2pa

    context = c2pa.Context(
        c2pa.Settings.from_dict(
            {"verify": {"remote_manifest_fetch": False}, "builder": {"thumbnail": {"enabled": False}}}
        )
    )
    signer = c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, identity.chain_pem, identity.key_pem, None)
    )
    with c2pa.Builder(manifest_definition(entries, prefix=prefix), context=context) as builder:
        dest = io.BytesIO()
        builder.sign(signer, mime, io.BytesIO(data), dest)
    return dest.getvalue()


def tamper(data: bytes) -> bytes:
    """Flip one byte of the image data near the end, outside the manifest: the hard binding breaks."""
    out = bytearray(data)
    out[-20] ^= 0xFF
    return bytes(out)


def minimal_mp4() -> bytes:
    """The smallest ISO BMFF file c2pa signs: ``ftyp``, a ``moov`` with an ``mvhd``, an empty ``mdat``."""
    import struct

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    matrix = struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
    mvhd = box(
        b"mvhd",
        bytes(4)
        + struct.pack(">IIIIIH", 0, 0, 1000, 0, 0x00010000, 0x0100)
        + bytes(10)
        + matrix
        + bytes(24)
        + struct.pack(">I", 2),
    )
    return (
        box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41") + box(b"moov", mvhd) + box(b"mdat", bytes(16))
    )


def minimal_wav() -> bytes:
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(b"\x80" * 80)
    return buf.getvalue()
