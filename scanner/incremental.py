"""What an incremental run does besides scanning: compare, relabel, decide, report, fail on.

* :func:`scan_fingerprint` / :func:`label_fingerprint` say whether stored results are still valid:
  the first covers everything that changes findings (tool version, classifier settings, limits,
  the fingerprint key), the second the label rules only, so a rule change relabels stored
  findings without reading the object again.
* :class:`ObjectResult` accumulates one object's rows while it is scanned and classifies its
  change against what the state store knew.
* :func:`change_report` turns a run's changes into ``changes.json``.
* :func:`fail_on` evaluates ``--fail-on`` conditions for schedulers.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from classifiers.base import Confidence, Finding
from labels import Labeler
from labels.consumers import ConsumerPolicy
from labels.existing import honour
from labels.taxonomy import Taxonomy
from scanner.config import Settings
from scanner.state import Change, Known, fingerprint
from scanner.units import ExistingLabel
from scanner.version import __version__

Row = dict[str, Any]

#: Decisions from least to most restrictive: an object's decision for a consumer is its units' worst.
_DECISION_RANK = {"allow": 0, "allow_redacted": 1, "deny": 2}


def scan_fingerprint(settings: Settings, key: bytes) -> str:
    """Everything that changes findings: tool version, classifier settings, the shipped
    sensitive-information-type catalogue, limits, and the fingerprint key (by its hash)."""
    from importlib import resources

    catalogue = resources.files("configs").joinpath("sit_catalogue.yaml").read_bytes()
    return fingerprint(
        __version__,
        settings.classifiers.model_dump_json(),
        hashlib.sha256(catalogue).hexdigest(),
        settings.scan.limits.model_dump_json(),
        hashlib.sha256(key).hexdigest(),
    )


def label_fingerprint(settings: Settings) -> str:
    return fingerprint(settings.labels.model_dump_json())


@dataclass(slots=True)
class ObjectResult:
    """One object's rows as they arrive, rolled up for its state record and its change."""

    root: str
    known: Known | None
    risks: set[str] = field(default_factory=set)
    decisions: dict[str, str] = field(default_factory=dict)

    def add(self, documents: Iterable[Row], policy: ConsumerPolicy | None, taxonomy: Taxonomy) -> None:
        for doc in documents:
            self.risks.update(doc.get("risks") or ())
            if policy is None:
                continue
            from labels.manifest import decide  # (signing and crypto: only when there are consumers)

            for consumer in policy.consumers:
                decision = decide(consumer, doc, taxonomy)[0]
                if _DECISION_RANK[decision] >= _DECISION_RANK[self.decisions.get(consumer.id, "allow")]:
                    self.decisions[consumer.id] = decision

    def change(self, object_row: Row) -> Change:
        """New, changed (other content), relabelled (same content, other label, risks or decisions), or touched."""
        new_label, risks = object_row.get("label"), tuple(sorted(self.risks))
        counts = dict(object_row.get("entity_counts") or {})
        known = self.known
        if known is None:
            return Change(object_row["uri"], "new", None, new_label, (), risks, {}, self.decisions, counts)
        if known.content_sha256 != object_row.get("content_sha256"):
            kind = "changed"
        elif known.label != new_label or known.risks != risks or dict(known.decisions) != self.decisions:
            kind = "relabelled"
        else:
            kind = "touched"  # read again (its version changed), but nothing about it did
        return Change(
            object_row["uri"], kind, known.label, new_label, known.risks, risks, known.decisions, self.decisions, counts
        )


def relabel(
    object_row: Row, chunks: Iterable[tuple[list[Row], list[Row]]], labeler: Labeler
) -> tuple[Row, list[tuple[list[Row], list[Row]]]]:
    """Apply the current label rules to stored findings, honouring each unit's existing label as the
    worker does: new document label columns and the object's roll-up."""
    from scanner.pipeline import ObjectTally, label_columns

    out: list[tuple[list[Row], list[Row]]] = []
    tally = ObjectTally()
    for documents, findings in chunks:
        by_unit: dict[tuple[Any, Any], list[Finding]] = {}
        for f in findings:
            by_unit.setdefault((f["record"], f["member"]), []).append(_finding(f))
        for doc in documents:
            if doc["status"] != "scanned":
                continue
            content = labeler.decide(by_unit.get((doc["record"], doc["member"]), []))
            outcome = honour(content, _existing(doc), labeler.taxonomy)
            doc.update(label=outcome.name, label_id=outcome.guid, label_rule=outcome.rule, **label_columns(outcome))
            tally.add("scanned", outcome, None, None)
        out.append((documents, findings))
    if object_row["status"] == "scanned" and tally.top is not None:
        object_row = {**object_row, **tally.label_columns()}
    return object_row, out


def _existing(doc: Row) -> ExistingLabel | None:
    if not doc.get("existing_label_id"):
        return None
    return ExistingLabel(
        guid=doc["existing_label_id"],
        method=doc.get("existing_label_method") or "Standard",
        source=doc.get("existing_label_source") or "",
        name=doc.get("existing_label"),
    )


def _finding(row: Row) -> Finding:
    return Finding(
        entity_type=row["entity_type"],
        start=row["start"],
        end=row["end"],
        score=row["score"],
        confidence=Confidence(row["confidence"]),
        classifier=row["classifier"] or "",
        detector=row["detector"] or "",
        fingerprint=row["fingerprint"] or "",
        masked=row["masked"] or "",
        field=row["field"],
    )


# -- the change report -------------------------------------------------------------------------


def label_direction(old: str | None, new: str | None, taxonomy: Taxonomy) -> str | None:
    if old is None or new is None:
        return None
    a, b = taxonomy.find(old), taxonomy.find(new)
    if a is None or b is None or a.priority == b.priority:
        return "same"
    return "upgrade" if b.priority > a.priority else "downgrade"


def change_report(
    *,
    run_id: str,
    previous_run_id: str | None,
    started: str,
    finished: str,
    sources: Sequence[str],
    changes: Sequence[Change],
    counts: Mapping[str, int],
    history: list[dict[str, Any]],
    entities: Mapping[str, int],
    objects: Iterable[Row],
    taxonomy: Taxonomy,
) -> dict[str, Any]:
    """``changes.json``: what this run found different, and the picture it leaves (no raw values)."""
    directions = Counter[str]()
    new_risks = Counter[str]()
    manifest: dict[str, dict[str, Any]] = {}
    listed = []
    for c in changes:
        if c.change == "touched":
            continue
        direction = label_direction(c.old_label, c.new_label, taxonomy) if c.change != "deleted" else None
        if direction in ("upgrade", "downgrade"):
            directions[direction] += 1
        added = sorted(set(c.new_risks) - set(c.old_risks))
        new_risks.update(added)
        for consumer in sorted(set(c.old_decisions) | set(c.new_decisions)):
            old, new = c.old_decisions.get(consumer), c.new_decisions.get(consumer)
            if old != new:
                entry = manifest.setdefault(consumer, {"changed": 0, "objects": []})
                entry["changed"] += 1
                entry["objects"].append({"uri": c.uri, "old": old, "new": new})
        listed.append(
            {
                "uri": c.uri,
                "change": c.change,
                "old_label": c.old_label,
                "new_label": c.new_label,
                "label_change": direction,
                "old_risks": list(c.old_risks),
                "new_risks": list(c.new_risks),
                "added_risks": added,
                "entity_counts": dict(c.entity_counts),
            }
        )
    return {
        "report_version": 1,
        "run_id": run_id,
        "previous_run_id": previous_run_id,
        "started": started,
        "finished": finished,
        "sources": list(sources),
        "counts": dict(counts),
        "label_changes": {"upgrades": directions["upgrade"], "downgrades": directions["downgrade"]},
        "new_risks": dict(sorted(new_risks.items())),
        "objects": listed,
        "manifest": manifest,
        "history": history,
        "entities": dict(entities),
        "top_sources": top_sources(objects, taxonomy),
        "labels": [{"name": label.name, "priority": label.priority, "color": label.color} for label in taxonomy.labels],
    }


def top_sources(objects: Iterable[Row], taxonomy: Taxonomy, *, limit: int = 15) -> list[dict[str, Any]]:
    """Folders (the URI up to its last ``/``) with the most objects labelled Confidential-level or above
    (priority 2 and up in the shipped taxonomy)."""
    priority: dict[str, int] = {}

    def rank(name: str) -> int | None:
        if name not in priority:
            label = taxonomy.find(name)
            priority[name] = label.priority if label is not None else -1
        return priority[name] if priority[name] >= 0 else None

    stats: dict[str, dict[str, Any]] = {}
    for row in objects:
        prefix = row["uri"].rsplit("/", 1)[0] + "/"
        s = stats.get(prefix) or stats.setdefault(
            prefix, {"prefix": prefix, "objects": 0, "sensitive": 0, "highest_label": None}
        )
        s["objects"] += 1
        level = rank(row["label"]) if row.get("label") else None
        if level is None:
            continue
        if level >= 2:
            s["sensitive"] += 1
        best = rank(s["highest_label"]) if s["highest_label"] else None
        if best is None or level > best:
            s["highest_label"] = row["label"]
    ranked = sorted(stats.values(), key=lambda s: (-s["sensitive"], -s["objects"], s["prefix"]))
    return ranked[:limit]


# -- conditions for schedulers -----------------------------------------------------------------

_CONDITION = re.compile(
    r"^(?P<kind>label|new-label)\s*>=\s*(?P<label>[^@]+?)\s*(?:@\s*(?P<prefix>\S+))?$"
    r"|^(?P<rkind>risk|new-risk):(?P<risk>[A-Z_]+)\s*(?:@\s*(?P<rprefix>\S+))?$"
    r"|^(?P<failed>failed)$"
)


@dataclass(frozen=True, slots=True)
class Condition:
    """One ``--fail-on`` condition (see :func:`parse_condition` for the forms)."""

    text: str
    kind: str  # label | new-label | risk | new-risk | failed
    label: str | None = None
    risk: str | None = None
    prefix: str | None = None


def parse_condition(text: str, taxonomy: Taxonomy) -> Condition:
    """``label>=NAME[@PREFIX]``, ``new-label>=NAME[@PREFIX]``, ``risk:TYPE[@PREFIX]``, ``new-risk:TYPE[@PREFIX]``
    or ``failed``. Raises ValueError naming what is wrong."""
    m = _CONDITION.match(text.strip())
    if m is None:
        raise ValueError(
            f"--fail-on '{text}': expected label>=NAME[@PREFIX], new-label>=NAME[@PREFIX], "
            "risk:TYPE[@PREFIX], new-risk:TYPE[@PREFIX] or failed"
        )
    if m["failed"]:
        return Condition(text, "failed")
    if m["kind"]:
        if taxonomy.find(m["label"]) is None:
            raise ValueError(f"--fail-on '{text}': unknown label '{m['label']}' (known: {', '.join(taxonomy.names())})")
        return Condition(text, m["kind"], label=m["label"], prefix=m["prefix"])
    return Condition(text, m["rkind"], risk=m["risk"], prefix=m["rprefix"])


def fail_on(
    conditions: Sequence[Condition],
    *,
    objects: Iterable[Row],
    documents_risks: Mapping[str, set[str]],
    changes: Sequence[Change],
    taxonomy: Taxonomy,
) -> list[str]:
    """The conditions that hold, each with how many objects make it hold."""
    if not conditions:
        return []
    hits = Counter[str]()
    rows = list(objects)
    for cond in conditions:
        prefix = cond.prefix or ""
        if cond.kind == "failed":
            hits[cond.text] += sum(r["status"] == "failed" for r in rows)
        elif cond.kind == "label":
            floor = taxonomy.get(cond.label or "").priority
            hits[cond.text] += sum(
                1 for r in rows if r["uri"].startswith(prefix) and r.get("label") and _priority(taxonomy, r) >= floor
            )
        elif cond.kind == "risk":
            hits[cond.text] += sum(
                1 for uri, risks in documents_risks.items() if uri.startswith(prefix) and cond.risk in risks
            )
        elif cond.kind == "new-label":
            floor = taxonomy.get(cond.label or "").priority
            for c in changes:
                new, old = taxonomy.find(c.new_label or ""), taxonomy.find(c.old_label or "")
                reached = new is not None and new.priority >= floor and (old is None or old.priority < floor)
                hits[cond.text] += int(c.uri.startswith(prefix) and reached)
        elif cond.kind == "new-risk":
            hits[cond.text] += sum(
                1 for c in changes if c.uri.startswith(prefix) and cond.risk in set(c.new_risks) - set(c.old_risks)
            )
    return [f"{text} ({n} objects)" for text, n in hits.items() if n]


def _priority(taxonomy: Taxonomy, row: Row) -> int:
    label = taxonomy.find(row["label"])
    return label.priority if label is not None else -1
