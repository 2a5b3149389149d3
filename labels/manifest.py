"""The access manifest: for every unit and every consumer, allow / allow_redacted / deny, and why.

A manifest is a directory: ``entries.parquet`` (one row per unit × consumer),
``manifest.json`` (tool version, created/expires, the SHA-256 of the policy, of
the scan results and of ``entries.parquet``) and ``manifest.sig`` (Ed25519 over
``manifest.json``). Changing any byte of any of them fails verification.
Deny by default: a unit that failed, was skipped or is partial is denied for all.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from wcmatch import glob as wglob

from labels.consumers import Consumer, ConsumerPolicy
from labels.signing import SignatureError, verify
from labels.taxonomy import Taxonomy

Decision = Literal["allow", "allow_redacted", "deny"]
MANIFEST_VERSION = "1"

ENTRIES = pa.schema(
    [
        ("consumer", pa.string()),
        ("uri", pa.string()),
        ("record", pa.int64()),
        ("member", pa.string()),
        ("content_sha256", pa.string()),
        ("label", pa.string()),
        ("label_id", pa.string()),
        ("decision", pa.string()),
        ("reasons", pa.list_(pa.string())),
        ("redact_entities", pa.list_(pa.string())),
    ]
)


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    consumer: str
    uri: str
    record: int | None
    member: str | None
    content_sha256: str | None
    label: str | None
    label_id: str | None
    decision: Decision
    reasons: tuple[str, ...]
    redact_entities: tuple[str, ...]


def source_allowed(consumer: Consumer, uri: str) -> bool:
    return any(
        wglob.globmatch(uri, pattern, flags=wglob.GLOBSTAR | wglob.DOTGLOB) or pattern == "**"
        for pattern in consumer.sources
    )


def decide(
    consumer: Consumer, unit: Mapping[str, Any], taxonomy: Taxonomy
) -> tuple[Decision, tuple[str, ...], tuple[str, ...]]:
    """The decision for one unit row (documents.parquet) and one consumer: (decision, reasons, types to redact)."""
    reasons: list[str] = []
    if unit["status"] != "scanned":
        reasons.append(f"scan_{unit['status']}")
    elif unit.get("partial"):
        reasons.append("scan_partial")
    if not source_allowed(consumer, unit["uri"]):
        reasons.append("source_not_allowed")
    label = taxonomy.find(unit["label"]) if unit.get("label") else None
    content = taxonomy.find(unit["content_label"]) if unit.get("content_label") else None
    if label is not None and content is not None and content.priority > label.priority:
        label = content  # a manual label below its content: clearance is judged on the content
    clearance = taxonomy.get(consumer.max_label)
    if unit["status"] == "scanned" and (label is None or label.priority > clearance.priority):
        reasons.append("label_above_clearance")
    entities = set(dict(unit.get("entity_counts") or {}))
    reasons.extend(f"denied_entity:{e}" for e in sorted(entities & consumer.denied_types()))
    reasons.extend(f"denied_risk:{r}" for r in sorted(set(unit.get("risks") or ()) & set(consumer.deny_risks)))
    reasons.extend(rights_reasons(consumer, unit.get("rights") or ()))
    if reasons:
        return "deny", tuple(reasons), ()
    redact = tuple(sorted(entities & consumer.redacted_types()))
    if redact:
        return "allow_redacted", tuple(f"redact_entity:{e}" for e in redact), redact
    return "allow", (), ()


def rights_reasons(consumer: Consumer, signals: Iterable[str]) -> list[str]:
    """Why the unit's rights signals (``documents.rights``) deny it to ``consumer``: a licence family it
    does not take (``rights_licence_family:non-commercial``) and, when it respects opt-outs, a TDM
    reservation (``rights_tdm_reserved``), a robots ``noai`` (``rights_noai``), a C2PA/CAWG entry not
    allowed for one of its uses (``rights_c2pa:ai_generative_training``; ``constrained`` is not allowed) or
    an embedded C2PA manifest that does not validate or a PDF container c2pa cannot read
    (``rights_c2pa:manifest_invalid`` / ``rights_c2pa:manifest_unreadable``: deny by default)."""
    allowed = {str(f) for f in consumer.licence_families()}
    uses = consumer.c2pa_uses()
    reasons: list[str] = []
    for signal in signals:
        kind, _, rest = signal.partition(":")
        if kind == "licence":
            families = rest.rpartition(":")[2].split("+")
            reasons.extend(f"rights_licence_family:{f}" for f in families if f not in allowed)
        elif not consumer.respect_tdm_opt_out:
            continue
        elif signal == "tdm:reserved":
            reasons.append("rights_tdm_reserved")
        elif signal == "robots:noai":
            reasons.append("rights_noai")
        elif kind == "c2pa":
            use, _, value = rest.partition(":")
            state = value.partition(":")[0]
            if use == "manifest" and state in {"invalid", "unreadable"}:
                reasons.append(f"rights_c2pa:manifest_{state}")  # what it reserves cannot be known: deny
            elif use in uses and value != "allowed":
                reasons.append(f"rights_c2pa:{use}")
    return sorted(dict.fromkeys(reasons))


def entries(units: Iterable[Mapping[str, Any]], policy: ConsumerPolicy, taxonomy: Taxonomy) -> Iterator[ManifestEntry]:
    for unit in units:
        for consumer in policy.consumers:
            decision, reasons, redact = decide(consumer, unit, taxonomy)
            yield ManifestEntry(
                consumer.id,
                unit["uri"],
                unit.get("record"),
                unit.get("member"),
                unit.get("content_sha256"),
                unit.get("label"),
                unit.get("label_id"),
                decision,
                reasons,
                redact,
            )


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build(
    results: Path,
    policy: ConsumerPolicy,
    taxonomy: Taxonomy,
    out: Path,
    *,
    private_key: Ed25519PrivateKey,
    tool_version: str,
    valid_for: timedelta = timedelta(days=7),
) -> dict[str, Any]:
    """Decide every unit of a scan's ``documents.parquet`` for every consumer; write and sign the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    documents = results / "documents.parquet"
    tmp = out / ".entries.parquet.partial"
    counts: dict[str, dict[str, int]] = {c.id: {"allow": 0, "allow_redacted": 0, "deny": 0} for c in policy.consumers}
    with pq.ParquetWriter(tmp, ENTRIES) as writer:
        for batch in pq.ParquetFile(documents).iter_batches(batch_size=2000):
            rows = []
            for e in entries(batch.to_pylist(), policy, taxonomy):
                counts[e.consumer][e.decision] += 1
                rows.append(_asdict(e))
            writer.write_table(pa.Table.from_pylist(rows, schema=ENTRIES))
    os.replace(tmp, out / "entries.parquet")
    now = datetime.now(UTC).replace(microsecond=0)
    header = {
        "manifest_version": MANIFEST_VERSION,
        "tool_version": tool_version,
        "created": now.isoformat(),
        "expires": (now + valid_for).isoformat(),
        "policy_sha256": policy.fingerprint(),
        "results_sha256": _sha256_file(documents),
        "entries_sha256": _sha256_file(out / "entries.parquet"),
        "consumers": counts,
    }
    body = json.dumps(header, sort_keys=True, indent=1).encode()
    (out / "manifest.json").write_bytes(body)
    (out / "manifest.sig").write_text(base64.b64encode(private_key.sign(body)).decode() + "\n")
    return header


def _asdict(e: ManifestEntry) -> dict[str, Any]:
    return {name: getattr(e, name) for name in ManifestEntry.__slots__}


def load_verified(
    manifest: Path, public_key: Ed25519PublicKey, *, now: datetime | None = None
) -> tuple[dict[str, Any], pa.Table]:
    """Verify signature, entries hash and expiry; return the header and the entries table."""
    try:
        body = (manifest / "manifest.json").read_bytes()
        signature = base64.b64decode((manifest / "manifest.sig").read_text().strip(), validate=True)
    except (OSError, ValueError) as exc:
        raise SignatureError(f"{manifest}: not a readable manifest ({type(exc).__name__})") from exc
    verify(public_key, signature, body, str(manifest))
    header = json.loads(body)
    if _sha256_file(manifest / "entries.parquet") != header["entries_sha256"]:
        raise SignatureError(f"{manifest}: entries.parquet does not match the signed hash (modified)")
    expires = datetime.fromisoformat(header["expires"])
    if (now or datetime.now(UTC)) >= expires:
        raise SignatureError(f"{manifest}: expired at {header['expires']}; rebuild it from a fresh scan")
    return header, pq.read_table(manifest / "entries.parquet")
