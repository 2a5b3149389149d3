"""Corpus cards: what one consumer may ingest, described from the scan's rows — counts, never values.

``build_card`` reads a manifest's ``entries.parquet`` and the scan's ``documents.parquet``
(bound to the manifest by its SHA-256) and ``objects.parquet``, keeps the units the
consumer may ingest (``allow`` / ``allow_redacted``) and writes to ``out``:

* ``units.parquet`` — those units (uri, record, member, content hash, label, decision,
  redacted types, rights signals);
* ``croissant.json`` — a Croissant 1.0 JSON-LD dataset whose distribution is
  ``units.parquet``, with the responsible-AI fields (``rai:*``) filled from the counts,
  and the counts themselves under ``ingestguard:statistics``;
* ``training-data-summary.md`` — laid out like the EU AI Office's template for the public
  summary of training content (Art. 53(1)(d) AI Act): general information, sources,
  data processing (rights reservations, other), with sensitive-data handling and time span.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from classifiers.entities import CATALOGUE, Family, is_rights
from scanner.errors import ConfigError, IngestguardError

INCLUDED = ("allow", "allow_redacted")

UNITS = pa.schema(
    [
        ("uri", pa.string()),
        ("record", pa.int64()),
        ("member", pa.string()),
        ("content_sha256", pa.string()),
        ("label", pa.string()),
        ("decision", pa.string()),
        ("redact_entities", pa.list_(pa.string())),
        ("rights", pa.list_(pa.string())),
    ]
)

#: Croissant 1.0's context, with the RAI vocabulary and a JSON-typed slot for the counts.
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
    "ingestguard": {"@id": "urn:ingestguard:statistics", "@type": "@json"},
}
CROISSANT = "http://mlcommons.org/croissant/1.0"


class CardError(IngestguardError):
    """The manifest, the scan results or the consumer do not fit together."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return row["uri"], row.get("record"), row.get("member"), row.get("content_sha256")


def source_kind(uri: str) -> str:
    """Where a unit came from, by kind of store: ``file``, ``s3``, ``az``, ``https`` …"""
    scheme = urlsplit(uri).scheme or "file"
    return {"abfs": "az", "abfss": "az", "http": "https"}.get(scheme, scheme)


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def load(
    manifest: Path, results: Path | None = None, *, public_key: Ed25519PublicKey | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]], Path, bool]:
    """The manifest's header and entries, and the scan results it was built from (checked by hash).

    With ``public_key`` the signature and expiry are verified; without, only the hashes are.
    """
    from labels.manifest import load_verified

    try:
        if public_key is not None:
            header, table = load_verified(manifest, public_key)
        else:
            header = json.loads((manifest / "manifest.json").read_text(encoding="utf-8"))
            if _sha256(manifest / "entries.parquet") != header["entries_sha256"]:
                raise CardError(f"{manifest}: entries.parquet does not match manifest.json (modified)")
            table = pq.read_table(manifest / "entries.parquet")
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"{manifest}: not a readable manifest ({type(exc).__name__})") from exc
    results = results if results is not None else manifest.parent
    documents = results / "documents.parquet"
    if not documents.exists():
        raise ConfigError(f"{results}: no documents.parquet; name the scan's --out directory with --results")
    if _sha256(documents) != header.get("results_sha256"):
        raise CardError(f"{documents}: not the scan this manifest was built from (results_sha256 differs)")
    return header, table.to_pylist(), results, public_key is not None


def statistics(
    entries: list[dict[str, Any]], documents: list[dict[str, Any]], objects: list[dict[str, Any]], consumer: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The card's counts for ``consumer`` (from the rows only) and the included units."""
    mine = [e for e in entries if e["consumer"] == consumer]
    by_key = {_key(d): d for d in documents}
    included: list[dict[str, Any]] = []
    for e in mine:
        if e["decision"] not in INCLUDED:
            continue
        doc = by_key.get(_key(e), {})
        included.append({**e, "rights": list(doc.get("rights") or []), "_doc": doc})
    units = len(included)
    total_bytes = sum(int(u["_doc"].get("size_bytes") or 0) for u in included)
    kinds: Counter[str] = Counter()
    kind_bytes: Counter[str] = Counter()
    formats: Counter[str] = Counter()
    labels: Counter[str] = Counter()
    entity_units: Counter[str] = Counter()
    entity_findings: Counter[str] = Counter()
    family_units: Counter[str] = Counter()
    licence_units: Counter[str] = Counter()
    signal_units: Counter[str] = Counter()
    redacted_units: Counter[str] = Counter()
    no_licence = 0
    for u in included:
        doc = u["_doc"]
        kind = source_kind(u["uri"])
        kinds[kind] += 1
        kind_bytes[kind] += int(doc.get("size_bytes") or 0)
        formats[str(doc.get("format") or "unknown")] += 1
        labels[str(u.get("label") or "none")] += 1
        counts = {k: v for k, v in dict(doc.get("entity_counts") or {}).items() if not is_rights(k)}
        entity_units.update(counts.keys())
        entity_findings.update(counts)
        family_units.update({str(CATALOGUE.get(k, "unknown")) for k in counts})
        redacted_units.update(u.get("redact_entities") or ())
        families = {f for s in u["rights"] if s.startswith("licence:") for f in s.rpartition(":")[2].split("+")}
        licence_units.update(families)
        no_licence += not families
        signal_units.update({s.split(":")[0] if s.startswith("licence:") else s for s in u["rights"]})
    denied = [e for e in mine if e["decision"] == "deny"]
    deny_reasons: Counter[str] = Counter(r for e in denied for r in e["reasons"])
    uris = {u["uri"] for u in included}
    times = sorted(str(o["last_modified"]) for o in objects if o["uri"] in uris and o.get("last_modified"))
    stats = {
        "consumer": consumer,
        "units": units,
        "objects": len(uris),
        "bytes": total_bytes,
        "decisions": dict(Counter(u["decision"] for u in included)),
        "units_denied": len(denied),
        "deny_reasons": dict(deny_reasons),
        "sources": {
            k: {
                "units": n,
                "unit_share": _share(n, units),
                "bytes": kind_bytes[k],
                "byte_share": _share(kind_bytes[k], total_bytes),
            }
            for k, n in kinds.most_common()
        },
        "formats": dict(formats.most_common()),
        "labels": dict(labels.most_common()),
        "entity_types": {k: {"units": n, "findings": entity_findings[k]} for k, n in entity_units.most_common()},
        "entity_families": dict(family_units.most_common()),
        "redacted_types": dict(redacted_units.most_common()),
        "licence_families": dict(licence_units.most_common()),
        "units_without_licence_signal": no_licence,
        "rights_signals": dict(signal_units.most_common()),
        "time_span": {"first": times[0], "last": times[-1]} if times else None,
    }
    return stats, included


_PERSONAL = {str(f) for f in (Family.PERSONAL, Family.FINANCIAL, Family.GOVERNMENT_ID, Family.HEALTH)}


def _sentence(counts: Mapping[str, Any], what: str) -> str:
    if not counts:
        return f"no {what}"
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def croissant(
    stats: Mapping[str, Any], header: Mapping[str, Any], policy: Mapping[str, Any], units_sha: str
) -> dict[str, Any]:
    """The Croissant JSON-LD document for the card."""
    consumer = stats["consumer"]
    personal = {k: v for k, v in stats["entity_types"].items() if str(CATALOGUE.get(k)) in _PERSONAL}
    secrets = {k: v for k, v in stats["entity_types"].items() if CATALOGUE.get(k) is Family.SECRET}
    span = stats["time_span"]
    fields = [
        ("uri", "sc:URL"),
        ("content_sha256", "sc:Text"),
        ("label", "sc:Text"),
        ("decision", "sc:Text"),
    ]
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "name": f"ingestguard-{consumer}",
        "description": (
            f"The {stats['units']} units ({stats['objects']} objects, {stats['bytes']} bytes) that consumer "
            f"'{consumer}' may ingest under the access manifest created {header.get('created')}."
        ),
        "conformsTo": CROISSANT,
        "url": "units.parquet",
        "license": sorted(stats["licence_families"]) or "unspecified: see rai:dataLimitations",
        "datePublished": str(header.get("created", ""))[:10],
        "distribution": [
            {
                "@type": "cr:FileObject",
                "@id": "units.parquet",
                "name": "units.parquet",
                "contentUrl": "units.parquet",
                "encodingFormat": "application/x-parquet",
                "sha256": units_sha,
            }
        ],
        "recordSet": [
            {
                "@type": "cr:RecordSet",
                "@id": "units",
                "name": "units",
                "field": [
                    {
                        "@type": "cr:Field",
                        "@id": f"units/{name}",
                        "name": name,
                        "dataType": dtype,
                        "source": {"fileObject": {"@id": "units.parquet"}, "extract": {"column": name}},
                    }
                    for name, dtype in fields
                ],
            }
        ],
        "rai:dataCollection": (
            f"Documents read from storage and scanned by ingestguard {header.get('tool_version')}; sources by kind: "
            + _sentence({k: v["units"] for k, v in stats["sources"].items()}, "sources")
            + "; formats: "
            + _sentence(stats["formats"], "formats")
            + "."
        ),
        "rai:dataCollectionType": "Existing documents (secondary data) from "
        + ", ".join(stats["sources"])
        + " storage",
        "rai:personalSensitiveInformation": (
            "Units holding personal data types: "
            f"{_sentence({k: v['units'] for k, v in personal.items()}, 'personal data')}; "
            f"secrets: {_sentence({k: v['units'] for k, v in secrets.items()}, 'secrets')}; "
            f"redacted before ingestion (units): {_sentence(stats['redacted_types'], 'redaction')}; "
            f"sensitivity labels (units): {_sentence(stats['labels'], 'labels')}."
        ),
        "rai:dataLimitations": (
            f"{stats['units_denied']} units were denied to this consumer and are not included "
            f"(reasons: {_sentence(stats['deny_reasons'], 'denials')}); "
            f"{stats['units_without_licence_signal']} included units carry no licence signal; "
            f"licence families (units): {_sentence(stats['licence_families'], 'licence signals')}."
        ),
        "rai:dataPreprocessingProtocol": (
            "Each unit was classified for personal data, secrets, markings, AI risks and rights signals, labelled, "
            "and decided for the consumer (allow, allow_redacted, deny) in a signed access manifest; "
            f"decisions of the included units: {_sentence(stats['decisions'], 'decisions')}."
        ),
        "rai:dataUseCases": "Purposes of the consumer: " + ", ".join(policy.get("purposes", [])) + ".",
        "ingestguard": dict(stats),
    }
    if span:
        doc["rai:dataCollectionTimeframe"] = [span["first"], span["last"]]
    return doc


def summary_markdown(
    stats: Mapping[str, Any], header: Mapping[str, Any], policy: Mapping[str, Any], verified: bool
) -> str:
    """The Markdown summary, in the order of the EU template for the public summary of training content."""
    s = stats
    out = [
        f"# Summary of the content used by `{s['consumer']}`",
        "",
        "Computed by `ingestguard card` from the scan rows and the access manifest "
        f"(created {header.get('created')}, signature {'verified' if verified else 'not verified: no --public-key'}). "
        "Counts only; no scanned value appears here.",
        "",
        "## 1. General information",
        "",
        "### 1.1 Provider identification",
        "",
        "Not known to ingestguard: to be completed by the provider.",
        "",
        "### 1.2 Model identification",
        "",
        f"- Consumer: `{s['consumer']}` ({policy.get('kind', 'unknown kind')}), purposes: "
        + ", ".join(policy.get("purposes", [])),
        f"- Description: {policy.get('description') or '(none)'}",
        "",
        "### 1.3 Modalities, overall size and other characteristics",
        "",
        f"- Modality: text. Units: {s['units']}; objects: {s['objects']}; bytes: {s['bytes']}.",
        f"- Formats (units): {_sentence(s['formats'], 'formats')}.",
        "- Time span (objects' last modification): "
        + (f"{s['time_span']['first']} to {s['time_span']['last']}." if s["time_span"] else "not known."),
        "",
        "## 2. List of data sources",
        "",
        "| source kind | units | share of units | bytes | share of bytes |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind, v in s["sources"].items():
        out.append(f"| {kind} | {v['units']} | {v['unit_share']:.2%} | {v['bytes']} | {v['byte_share']:.2%} |")
    out += [
        "",
        "## 3. Data processing aspects",
        "",
        "### 3.1 Respect of reservations of rights from the text and data mining exception",
        "",
        f"- Policy: TDM opt-outs respected: {'yes' if policy.get('respect_tdm_opt_out', True) else 'no'}; "
        f"licence families allowed: {', '.join(policy.get('licence_families', []))}.",
        "- Denials naming a rights reason: "
        + _sentence({k: v for k, v in s["deny_reasons"].items() if k.startswith("rights_")}, "rights exclusions")
        + ".",
        f"- Included units by licence family: {_sentence(s['licence_families'], 'licence signals')}; "
        f"without any licence signal: {s['units_without_licence_signal']}.",
        f"- Included units by rights signal: {_sentence(s['rights_signals'], 'rights signals')}.",
        "",
        "### 3.2 Removal of illegal content",
        "",
        "Not assessed by ingestguard.",
        "",
        "### 3.3 Other information: sensitive data handling",
        "",
        f"- Sensitivity labels (units): {_sentence(s['labels'], 'labels')}.",
        f"- Decisions of the included units: {_sentence(s['decisions'], 'decisions')}.",
        f"- Entity families present (units): {_sentence(s['entity_families'], 'findings')}.",
        f"- Redacted before ingestion (units per type): {_sentence(s['redacted_types'], 'redaction')}.",
        f"- Units denied to this consumer: {s['units_denied']} ({_sentence(s['deny_reasons'], 'denials')}).",
        "",
        "| entity type | units | findings |",
        "|---|---:|---:|",
    ]
    for name, v in s["entity_types"].items():
        out.append(f"| {name} | {v['units']} | {v['findings']} |")
    return "\n".join(out) + "\n"


def build_card(
    manifest: Path,
    consumer: str,
    out: Path,
    *,
    results: Path | None = None,
    public_key: Ed25519PublicKey | None = None,
    policy: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ``units.parquet``, ``croissant.json`` and ``training-data-summary.md`` for ``consumer``; return the counts.

    ``policy`` describes the consumer (kind, purposes, description, respect_tdm_opt_out, licence_families)
    for the summary's text; without it those lines say what the manifest alone tells.
    """
    header, entries, results, verified = load(manifest, results, public_key=public_key)
    if consumer not in header.get("consumers", {}):
        raise ConfigError(
            f"no consumer '{consumer}' in {manifest} (consumers: {', '.join(header.get('consumers', {}))})"
        )
    documents = pq.read_table(results / "documents.parquet").to_pylist()
    objects_path = results / "objects.parquet"
    objects = pq.read_table(objects_path, columns=["uri", "last_modified"]).to_pylist() if objects_path.exists() else []
    stats, included = statistics(entries, documents, objects, consumer)
    out.mkdir(parents=True, exist_ok=True)
    rows = [{name: u.get(name) for name in UNITS.names} for u in included]
    tmp = out / ".units.parquet.partial"
    pq.write_table(pa.Table.from_pylist(rows, schema=UNITS), tmp)
    os.replace(tmp, out / "units.parquet")
    described = dict(policy or {})
    card = croissant(stats, header, described, _sha256(out / "units.parquet"))
    (out / "croissant.json").write_text(json.dumps(card, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    (out / "training-data-summary.md").write_text(
        summary_markdown(stats, header, described, verified), encoding="utf-8"
    )
    return stats
