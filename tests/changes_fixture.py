"""Realistic ``changes.json`` documents for tests of the change report.

A small simulation: a corpus of objects under a few sources and departments,
labelled by rules like the shipped ones, scanned nightly for ``runs`` nights;
each night some objects are added, edited, deleted or relabelled. The last
night's differences become ``objects``, ``counts``, ``label_changes``,
``new_risks`` and the per-consumer ``manifest`` changes; every night gives a
``history`` entry. Deterministic for a seed. Values are names and counts only,
as the state store writes them: no scanned content.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from scanner.config import load_settings

SOURCES = ("s3://acme-corpus/knowledge-base", "/data/docs")
DEPARTMENTS = ("hr", "finance", "support", "engineering", "legal", "public", "sales/emea", "sales/us")
EXTENSIONS = ("jsonl", "md", "pdf", "docx", "csv", "eml", "html", "txt.gz")
ENTITIES = (
    ("EMAIL_ADDRESS", 0.12),
    ("PERSON", 0.4),
    ("PHONE_NUMBER", 0.06),
    ("LOCATION", 0.3),
    ("DATE_TIME", 0.5),
    ("URL", 0.35),
    ("STREET_ADDRESS", 0.08),
    ("IP_ADDRESS", 0.06),
    ("US_SSN", 0.02),
    ("CREDIT_CARD", 0.015),
    ("IBAN_CODE", 0.02),
    ("SECRET_AWS_ACCESS_KEY", 0.01),
    ("SECRET_GITHUB_TOKEN", 0.008),
    ("SECRET_PRIVATE_KEY", 0.004),
)
RISKS = (("PROMPT_INJECTION", 0.01), ("HIDDEN_TEXT", 0.008), ("EXFIL_LINK", 0.004))
CONSUMERS = {  # id: (clearance, denied risks)
    "kb-rag-index": ("General", ("PROMPT_INJECTION", "HIDDEN_TEXT")),
    "support-agent": ("Confidential", ("PROMPT_INJECTION", "HIDDEN_TEXT", "EXFIL_LINK")),
    "finetune-2025q3": ("Public", ("PROMPT_INJECTION", "HIDDEN_TEXT", "EXFIL_LINK")),
}


@dataclass(frozen=True)
class Obj:
    uri: str
    label: str
    risks: tuple[str, ...]
    entities: dict[str, int]


def taxonomy_labels() -> list[dict[str, Any]]:
    """The shipped taxonomy as the state store lists it: name, priority, colour."""
    return [
        {"name": label.name, "priority": label.priority, "color": label.color}
        for label in load_settings().labels.taxonomy.ordered()
    ]


def _label_for(uri: str, entities: dict[str, int], rules_version: int) -> str:
    if any(name.startswith("SECRET_") or name in ("US_SSN", "CREDIT_CARD", "IBAN_CODE") for name in entities):
        return "Highly Confidential"
    personal = sum(n for name, n in entities.items() if name in ("EMAIL_ADDRESS", "PERSON", "PHONE_NUMBER"))
    if personal >= (10 if rules_version == 0 else 7):  # the last night's rules are a little stricter
        return "Highly Confidential"
    if "EMAIL_ADDRESS" in entities or "PHONE_NUMBER" in entities:
        return "Confidential"
    return "Public" if "/public/" in uri else "General"


def _content(rng: random.Random, uri: str, rules_version: int) -> Obj:
    entities = {name: int(rng.paretovariate(1.4)) for name, p in ENTITIES if rng.random() < p}
    risks = tuple(name for name, p in RISKS if rng.random() < p)
    return Obj(uri, _label_for(uri, entities, rules_version), risks, entities)


def _new_uri(rng: random.Random, n: int) -> str:
    return f"{rng.choice(SOURCES)}/{rng.choice(DEPARTMENTS)}/doc-{n:06d}.{rng.choice(EXTENSIONS)}"


def _decision(obj: Obj | None, consumer: str, rank: dict[str, int]) -> tuple[str | None, list[str]]:
    if obj is None:
        return None, []
    clearance, denied = CONSUMERS[consumer]
    reasons = [f"denied_risk:{risk}" for risk in obj.risks if risk in denied]
    if rank[obj.label] > rank[clearance]:
        reasons.insert(0, "label_above_clearance")
    if reasons:
        return "deny", reasons
    if "PERSON" in obj.entities and consumer != "finetune-2025q3":
        return "allow_redacted", ["redact_entity:PERSON"]
    return "allow", []


def make_changes(
    *, seed: int = 7, objects: int = 600, runs: int = 14, churn: float = 0.02, relabel: bool = True
) -> dict[str, Any]:
    """A ``changes.json`` document for the last of ``runs`` nightly runs over about ``objects`` objects."""
    rng = random.Random(seed)
    labels = taxonomy_labels()
    rank = {entry["name"]: entry["priority"] for entry in labels}
    counter = 0
    state: dict[str, Obj] = {}
    for _ in range(objects):
        counter += 1
        uri = _new_uri(rng, counter)
        state[uri] = _content(rng, uri, 0)
    start = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)
    history: list[dict[str, Any]] = []
    run_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(runs)]
    previous: dict[str, Obj] = {}
    touched = 0
    for night in range(runs):
        last = night == runs - 1
        previous = dict(state)
        if night > 0:
            uris = sorted(state)
            for uri in rng.sample(uris, k=int(len(uris) * churn)):
                state[uri] = _content(rng, uri, 0)
            for uri in rng.sample(sorted(state), k=max(1, int(len(uris) * churn / 2))):
                del state[uri]
            for _ in range(max(1, int(len(uris) * churn * 1.5))):
                counter += 1
                uri = _new_uri(rng, counter)
                state[uri] = _content(rng, uri, 0)
            touched = rng.randint(0, int(len(uris) * churn) + 1)
        if last and relabel:  # the last night ships stricter rules: some objects are relabelled from findings
            for uri, obj in state.items():
                state[uri] = replace(obj, label=_label_for(uri, obj.entities, 1))
        finished = start + timedelta(days=night, minutes=rng.randint(20, 90))
        tally: dict[str, int] = {}
        for obj in state.values():
            tally[obj.label] = tally.get(obj.label, 0) + 1
        history.append({"run_id": run_ids[night], "finished": finished.isoformat(), "labels": tally})

    listed: list[dict[str, Any]] = []
    counts = {"new": 0, "changed": 0, "deleted": 0, "unchanged": 0, "relabelled": 0, "touched": touched}
    upgrades = downgrades = 0
    new_risks: dict[str, int] = {name: 0 for name, _ in RISKS[:2]}
    manifest: dict[str, dict[str, Any]] = {c: {"changed": 0, "objects": []} for c in CONSUMERS}
    for uri in sorted(set(previous) | set(state)):
        old, new = previous.get(uri), state.get(uri)
        if old is not None and new is not None and old == new:
            counts["unchanged"] += 1
            continue
        if old is None:
            change = "new"
        elif new is None:
            change = "deleted"
        elif old.entities == new.entities and old.risks == new.risks:
            change = "relabelled"
        else:
            change = "changed"
        counts[change] += 1
        old_label, new_label = (old.label if old else None), (new.label if new else None)
        label_change = None
        if old_label is not None and new_label is not None:
            delta = rank[new_label] - rank[old_label]
            label_change = "upgrade" if delta > 0 else "downgrade" if delta < 0 else "same"
            upgrades += delta > 0
            downgrades += delta < 0
        old_risks, now_risks = list(old.risks if old else ()), list(new.risks if new else ())
        added = [risk for risk in now_risks if risk not in old_risks]
        for risk in added:
            new_risks[risk] = new_risks.get(risk, 0) + 1
        listed.append(
            {
                "uri": uri,
                "change": change,
                "old_label": old_label,
                "new_label": new_label,
                "label_change": label_change,
                "old_risks": old_risks,
                "new_risks": now_risks,
                "added_risks": added,
                "entity_counts": dict(new.entities if new else {}),
            }
        )
        for consumer, entry in manifest.items():
            was, _ = _decision(old, consumer, rank)
            now, reasons = _decision(new, consumer, rank)
            if was != now:
                entry["changed"] += 1
                entry["objects"].append({"uri": uri, "old": was, "new": now, "reasons": reasons})

    entities: dict[str, int] = {}
    prefixes: dict[str, dict[str, Any]] = {}
    for uri, obj in state.items():
        for name, n in obj.entities.items():
            entities[name] = entities.get(name, 0) + n
        prefix = uri.rsplit("/", 1)[0] + "/"
        top = prefixes.setdefault(prefix, {"prefix": prefix, "objects": 0, "sensitive": 0, "highest_label": "Public"})
        top["objects"] += 1
        top["sensitive"] += rank[obj.label] >= rank["Confidential"]
        if rank[obj.label] > rank[top["highest_label"]]:
            top["highest_label"] = obj.label
    top_sources = sorted(prefixes.values(), key=lambda p: (-p["sensitive"], -p["objects"], p["prefix"]))[:10]
    started = datetime.fromisoformat(history[-1]["finished"]) - timedelta(minutes=17)
    return {
        "report_version": 1,
        "run_id": run_ids[-1],
        "previous_run_id": run_ids[-2] if runs > 1 else None,
        "started": started.isoformat(),
        "finished": history[-1]["finished"],
        "sources": list(SOURCES),
        "counts": counts,
        "label_changes": {"upgrades": upgrades, "downgrades": downgrades},
        "new_risks": new_risks,
        "objects": listed,
        "manifest": manifest,
        "history": history,
        "entities": dict(sorted(entities.items(), key=lambda kv: -kv[1])),
        "top_sources": top_sources,
        "labels": labels,
    }


def empty_changes() -> dict[str, Any]:
    """The first run over an empty source: nothing to compare with, nothing changed."""
    return {
        "report_version": 1,
        "run_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "previous_run_id": None,
        "started": "2025-06-01T02:00:00+00:00",
        "finished": "2025-06-01T02:00:03+00:00",
        "sources": ["/data/docs"],
        "counts": {"new": 0, "changed": 0, "deleted": 0, "unchanged": 0, "relabelled": 0, "touched": 0},
        "label_changes": {"upgrades": 0, "downgrades": 0},
        "new_risks": {},
        "objects": [],
        "manifest": {},
        "history": [],
        "entities": {},
        "top_sources": [],
        "labels": taxonomy_labels(),
    }
