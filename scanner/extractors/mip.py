"""Read the sensitivity label a document already carries (Microsoft Purview / MIP metadata).

Office files (DOCX, XLSX, PPTX) keep it in two places: the ``docMetadata/LabelInfo.xml``
part ([MS-OFFCRYPTO] 2.6.4: ``label`` elements with ``id``, ``enabled``, ``method``,
``siteId``, ``contentBits``, ``removed``), which is read first and wins when present, and
the older custom document properties ``MSIP_Label_<GUID>_Enabled`` / ``_Method`` /
``_Name`` / ``_SiteId`` / ``_SetDate`` / ``_ActionId`` / ``_ContentBits``. E-mail carries
the same pairs in its ``msip_labels:`` header, PDF files in their document info.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from typing import Any

from scanner.units import ExistingLabel

LABELINFO_NS = "http://schemas.microsoft.com/office/2020/mipLabelMetadata"
LABELINFO_REL = "http://schemas.microsoft.com/office/2020/02/relationships/classificationlabels"
LABELINFO_PART = "docMetadata/LabelInfo.xml"
CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
CUSTOM_PART = "docProps/custom.xml"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

_MSIP_KEY = re.compile(
    r"^/?MSIP_Label_\{?([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})\}?_(\w+)$"
)
_GUID = re.compile(r"^\{?([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})\}?$")
#: Metadata parts are a few hundred bytes; anything far larger is not what Office writes.
_MAX_PART_BYTES = 1 << 20


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in {"true", "1"}


def _guid(value: str | None) -> str | None:
    m = _GUID.match((value or "").strip())
    return m.group(1).lower() if m else None


def _int(value: str | None) -> int | None:
    try:
        return int((value or "").strip())
    except ValueError:
        return None


def _xml(data: bytes) -> Any:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
    return etree.fromstring(data, parser=parser)


def label_from_properties(props: Mapping[str, Any], source: str) -> ExistingLabel | None:
    """The enabled label among ``MSIP_Label_<GUID>_<Attribute>`` pairs (the first, if several tenants')."""
    grouped: dict[str, dict[str, str]] = {}
    for key, value in props.items():
        m = _MSIP_KEY.match(str(key).strip())
        if m:
            grouped.setdefault(m.group(1).lower(), {})[m.group(2).lower()] = str(value).strip()
    for guid, attrs in grouped.items():
        if _true(attrs.get("enabled")):
            return ExistingLabel(
                guid=guid,
                method=attrs.get("method") or "Standard",
                source=source,
                name=attrs.get("name") or None,
                site_id=_guid(attrs.get("siteid")),
                set_date=attrs.get("setdate") or None,
                action_id=_guid(attrs.get("actionid")),
                content_bits=_int(attrs.get("contentbits")),
            )
    return None


def parse_msip_header(value: str) -> dict[str, str]:
    """``msip_labels: MSIP_Label_<GUID>_Enabled=True; MSIP_Label_<GUID>_Method=Privileged; …`` as pairs."""
    pairs: dict[str, str] = {}
    for item in " ".join(value.split()).split(";"):
        key, sep, val = item.partition("=")
        if sep and key.strip():
            pairs[key.strip()] = val.strip()
    return pairs


def _read_part(zf: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _MAX_PART_BYTES:
        return None
    return zf.read(info)


def labelinfo_part_name(zf: zipfile.ZipFile) -> str | None:
    """The LabelInfo part named by the package relationships (or at its usual place)."""
    rels = _read_part(zf, "_rels/.rels")
    if rels is not None:
        try:
            root = _xml(rels)
        except Exception:
            root = None
        if root is not None:
            for rel in root.iter(f"{{{RELS_NS}}}Relationship"):
                if rel.get("Type") == LABELINFO_REL and rel.get("TargetMode") != "External":
                    return str(rel.get("Target", "")).lstrip("/") or None
    return LABELINFO_PART if LABELINFO_PART in zf.namelist() else None


def custom_properties(zf: zipfile.ZipFile) -> dict[str, str]:
    """The custom document properties (``docProps/custom.xml``) as name → text."""
    data = _read_part(zf, CUSTOM_PART)
    if data is None:
        return {}
    try:
        root = _xml(data)
    except Exception:
        return {}
    props: dict[str, str] = {}
    for prop in root.iter(f"{{{CUSTOM_NS}}}property"):
        name = prop.get("name")
        if name:
            props[name] = "".join(child.text or "" for child in prop)
    return props


def office_label(zf: zipfile.ZipFile) -> ExistingLabel | None:
    """The label of an Office package: LabelInfo.xml first (authoritative when present), then custom properties."""
    props = custom_properties(zf)
    legacy = label_from_properties(props, "custom.xml")
    part = labelinfo_part_name(zf)
    data = _read_part(zf, part) if part else None
    if data is None:
        return legacy
    try:
        root = _xml(data)
    except Exception:
        return legacy
    for el in root.iter(f"{{{LABELINFO_NS}}}label"):
        guid = _guid(el.get("id"))
        if guid is None or not _true(el.get("enabled")) or _true(el.get("removed")):
            continue
        same = legacy if legacy is not None and legacy.guid == guid else None
        return ExistingLabel(
            guid=guid,
            method=el.get("method") or "Standard",
            source="LabelInfo.xml",
            name=same.name if same else None,
            site_id=_guid(el.get("siteId")),
            set_date=same.set_date if same else None,
            action_id=same.action_id if same else None,
            content_bits=_int(el.get("contentBits")),
        )
    return None  # LabelInfo.xml present without an active label: the label was removed


def package_label(stream: Any) -> ExistingLabel | None:
    """The label of the Office package in a seekable binary ``stream`` (rewound afterwards)."""
    try:
        with zipfile.ZipFile(stream) as zf:
            return office_label(zf)
    except Exception:  # a damaged package or label part: no label can be honoured, content decides
        return None
    finally:
        stream.seek(0)
