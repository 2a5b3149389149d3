"""Import a tenant's sensitivity labels from Purview's ``Get-Label | ConvertTo-Json`` export.

Security & Compliance PowerShell describes each label with ``Guid``,
``ImmutableId``, ``Name`` (unique, may be a GUID-like string), ``DisplayName``
(what users see), ``Priority`` (0 = least sensitive), ``ParentId`` (the
parent label's GUID for a sublabel), ``Tooltip``, ``Comment``, ``ContentType``,
``Disabled``, ``Settings`` (``"[key, value]"`` strings such as the colour) and
``LocaleSettings`` (JSON strings with localised display names). The export is
one object or an array (PowerShell 5 may also wrap it as ``{"value": […],
"Count": n}``), in UTF-8 with or without BOM or in UTF-16 as PowerShell 5 writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from labels.rules import LabelPolicy
from labels.taxonomy import Label, Taxonomy
from scanner.errors import ConfigError

_EMPTY_GUID = UUID(int=0)
_SETTING = re.compile(r"^\[\s*([^,\]]+?)\s*,\s*(.*?)\s*\]$", re.S)
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
#: Sublabel names are qualified with their parent's, as Office shows them.
SUBLABEL_SEPARATOR = "/"


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The taxonomy read from an export, and what was adjusted on the way (for the user to review)."""

    taxonomy: Taxonomy
    notes: tuple[str, ...]


def read_export(path: Path) -> list[dict[str, Any]]:
    """The label records of an export file, whatever its encoding and top-level shape."""
    from scanner.errors import IngestguardError
    from scanner.extractors.base import SkipObject, detect_encoding

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    if not data.strip():
        raise ConfigError(f"{path}: empty file, expected the JSON of Get-Label | ConvertTo-Json")
    try:
        text = data.decode(detect_encoding(data, complete=True))
    except (SkipObject, IngestguardError, UnicodeDecodeError, LookupError) as exc:
        raise ConfigError(f"{path}: not a text file in UTF-8 or UTF-16") from exc
    try:
        doc = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}") from exc
    if isinstance(doc, dict) and isinstance(doc.get("value"), list) and "Count" in doc:
        doc = doc["value"]
    records = doc if isinstance(doc, list) else [doc]
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise ConfigError(f"{path}: [{i}]: expected a label object, got {type(record).__name__}")
    return records


def _guid(value: Any) -> UUID | None:
    if isinstance(value, dict):  # a Guid serialised as an object by some PowerShell versions
        value = value.get("Guid") or value.get("guid")
    if value is None or value == "":
        return None
    try:
        guid = UUID(str(value).strip().strip("{}"))
    except ValueError:
        return None
    return None if guid == _EMPTY_GUID else guid


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def _settings(value: Any) -> dict[str, str]:
    """``Settings``: ``["[color, #FF0000]", "[isparent, True]", …]`` (or key/value objects) as a dict."""
    out: dict[str, str] = {}
    items = value if isinstance(value, list) else [value] if value else []
    for item in items:
        if isinstance(item, str):
            m = _SETTING.match(item.strip())
            if m:
                out[m.group(1).strip().lower()] = m.group(2)
        elif isinstance(item, dict) and "Key" in item:
            out[str(item["Key"]).lower()] = str(item.get("Value", ""))
    return out


def _localized_names(value: Any) -> dict[str, str]:
    """``LocaleSettings``: JSON strings ``{"LocaleKey": "displayName", "Settings": [{"Key": "de-de", "Value": …}]}``."""
    names: dict[str, str] = {}
    items = value if isinstance(value, list) else [value] if value else []
    for item in items:
        entry = item
        if isinstance(item, str):
            try:
                entry = json.loads(item)
            except json.JSONDecodeError:
                continue
        if not isinstance(entry, dict):
            continue
        key = str(entry.get("LocaleKey") or entry.get("localeKey") or "")
        if key.lower() != "displayname":
            continue
        for pair in entry.get("Settings") or entry.get("settings") or []:
            if isinstance(pair, dict) and pair.get("Key") and pair.get("Value"):
                names[str(pair["Key"]).lower()] = str(pair["Value"])
    return names


def _content_types(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if value is None or value == "":
        return []
    return [part.strip() for part in str(value).split(",") if part.strip()]


def taxonomy_from_export(
    records: Sequence[Mapping[str, Any]], *, tenant_id: UUID | None = None, source: str = "export"
) -> ImportResult:
    """Map Get-Label records onto our taxonomy, keeping GUIDs, priorities and the sublabel tree."""
    notes: list[str] = []
    by_guid: dict[UUID, int] = {}
    parsed: list[dict[str, Any]] = []
    for i, rec in enumerate(records):
        where = f"{source}: [{i}]"
        guid = _guid(rec.get("Guid")) or _guid(rec.get("ImmutableId"))
        if guid is None:
            raise ConfigError(f"{where}: no valid 'Guid' (nor 'ImmutableId')")
        display = str(rec.get("DisplayName") or rec.get("Name") or "").strip()
        if not display:
            raise ConfigError(f"{where}: no 'DisplayName' or 'Name'")
        priority = rec.get("Priority")
        if isinstance(priority, bool) or not isinstance(priority, int | str) or not str(priority).strip().isdigit():
            raise ConfigError(f"{where} '{display}': 'Priority' must be a whole number >= 0, got {priority!r}")
        settings = _settings(rec.get("Settings"))
        color = settings.get("color")
        if color and not _COLOR.match(color):
            notes.append(f"'{display}': colour {color!r} is not #RRGGBB; left out")
            color = None
        immutable = _guid(rec.get("ImmutableId"))
        parsed.append(
            {
                "guid": guid,
                "immutable": immutable if immutable != guid else None,
                "display": display,
                "name": str(rec.get("Name") or "").strip() or None,
                "priority": int(str(priority).strip()),
                "parent": _guid(rec.get("ParentId")),
                "tooltip": str(rec.get("Tooltip") or ""),
                "comment": str(rec.get("Comment") or ""),
                "content_types": _content_types(rec.get("ContentType")),
                "disabled": _bool(rec.get("Disabled", False)),
                "color": color,
                "localized": _localized_names(rec.get("LocaleSettings")),
                "where": where,
            }
        )
        if guid in by_guid:
            raise ConfigError(f"{where}: GUID {guid} appears twice in the export")
        by_guid[guid] = len(parsed) - 1
        if immutable is not None and immutable != guid:
            by_guid.setdefault(immutable, len(parsed) - 1)
    names: dict[int, str] = {}
    for idx, p in enumerate(parsed):
        if p["parent"] is None:
            names[idx] = p["display"]
            continue
        parent_idx = by_guid.get(p["parent"])
        if parent_idx is None or parent_idx == idx:
            raise ConfigError(f"{p['where']} '{p['display']}': ParentId {p['parent']} is not a label in the export")
        if parsed[parent_idx]["parent"] is not None:
            raise ConfigError(
                f"{p['where']} '{p['display']}': its parent is itself a sublabel (Purview allows one level)"
            )
        names[idx] = f"{parsed[parent_idx]['display']}{SUBLABEL_SEPARATOR}{p['display']}"
    seen: dict[str, int] = {}
    for idx in sorted(names, key=lambda k: parsed[k]["priority"]):
        key = names[idx].lower()
        if key in seen:
            unique = f"{names[idx]} ({parsed[idx]['name'] or parsed[idx]['guid']})"
            notes.append(
                f"two labels are shown as '{names[idx]}'; the one with GUID {parsed[idx]['guid']} is '{unique}'"
            )
            names[idx] = unique
        seen[names[idx].lower()] = idx
    labels = []
    for idx, p in sorted(enumerate(parsed), key=lambda ip: ip[1]["priority"]):
        parent_idx = by_guid.get(p["parent"]) if p["parent"] is not None else None
        labels.append(
            Label(
                id=p["guid"],
                name=names[idx],
                priority=p["priority"],
                parent=names[parent_idx] if parent_idx is not None else None,
                description=p["comment"],
                tooltip=p["tooltip"],
                color=p["color"],
                immutable_id=p["immutable"],
                purview_name=p["name"],
                content_types=p["content_types"],
                disabled=p["disabled"],
                localized_names=p["localized"],
            )
        )
    if not labels:
        raise ConfigError(f"{source}: the export holds no labels")
    try:
        taxonomy = Taxonomy(labels=labels, tenant_id=tenant_id)
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]) for e in exc.errors())
        raise ConfigError(f"{source}: {problems}") from None
    return ImportResult(taxonomy, tuple(notes))


def policy_document(result: ImportResult, shipped: LabelPolicy) -> tuple[dict[str, Any], list[str]]:
    """A complete ``labels.yaml`` for ``--config DIR``: the imported taxonomy, a default label, and
    the shipped rules whose label exists in the tenant (the others are listed in the notes)."""
    taxonomy = result.taxonomy
    notes = list(result.notes)
    default = taxonomy.find(shipped.default_label)
    if default is None or default.disabled or taxonomy.children(default):
        applicable = [lb for lb in taxonomy.ordered() if not lb.disabled and not taxonomy.children(lb)]
        default = applicable[0] if applicable else taxonomy.ordered()[0]
        notes.append(
            f"default_label: '{shipped.default_label}' is not an applicable label here; using '{default.name}'"
        )
    rules = []
    for rule in shipped.rules:
        label = taxonomy.find(rule.label)
        if label is None:
            notes.append(f"rule '{rule.name}' dropped: no label '{rule.label}' in this tenant (add a rule naming one)")
            continue
        if taxonomy.children(label):
            notes.append(f"rule '{rule.name}': '{label.name}' has sublabels; Office applies only sublabels")
        rules.append({**rule.model_dump(mode="json", exclude_defaults=True), "label": label.name})
    labels_out = [lb.model_dump(mode="json", exclude_defaults=True) for lb in taxonomy.ordered()]
    tax_doc: dict[str, Any] = {"labels": labels_out}
    if taxonomy.tenant_id is not None:
        tax_doc["tenant_id"] = str(taxonomy.tenant_id)
    doc = {"taxonomy": tax_doc, "default_label": default.name, "rules": rules}
    try:
        LabelPolicy.model_validate({**doc, "groups": shipped.groups})
    except ValidationError as exc:  # pragma: no cover - the pieces were validated one by one
        raise ConfigError(f"imported labels do not form a valid policy: {exc.errors()[0]['msg']}") from None
    return doc, notes


def render_tree(taxonomy: Taxonomy) -> str:
    """The labels as an indented tree: name, GUID, priority (sublabels under their parent)."""
    lines: list[str] = []
    width = max(len(label.name) for label in taxonomy.labels) + 2

    def line(label: Label, depth: int) -> str:
        flags = " (disabled)" if label.disabled else ""
        shown = label.name.rsplit(SUBLABEL_SEPARATOR, 1)[-1] if depth else label.name
        return f"{'  ' * depth}{shown.ljust(width - 2 * depth)} {label.guid}  priority {label.priority}{flags}"

    for top in taxonomy.children(None):
        lines.append(line(top, 0))
        lines.extend(line(child, 1) for child in taxonomy.children(top))
    if taxonomy.tenant_id is not None:
        lines.append(f"tenant (siteId): {taxonomy.tenant_id}")
    return "\n".join(lines)
