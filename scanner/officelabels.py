"""Write a sensitivity label into an Office file (DOCX, XLSX, PPTX) the way Office and Purview read it.

Both places Office keeps a label are written: the ``docMetadata/LabelInfo.xml`` part
(with its package relationship and content type) and the ``MSIP_Label_<GUID>_*``
custom document properties. Labels of other tenants (another ``siteId``) are kept;
this tenant's previous label is replaced, as a file carries one label per tenant.
Every other part of the package is copied byte for byte.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from scanner.extractors.mip import (
    CUSTOM_NS,
    CUSTOM_PART,
    CUSTOM_REL,
    LABELINFO_NS,
    LABELINFO_PART,
    LABELINFO_REL,
    RELS_NS,
    VT_NS,
    labelinfo_part_name,
)

CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
CUSTOM_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
LABELINFO_CONTENT_TYPE = "application/vnd.ms-office.classificationlabels+xml"
#: The format id Office uses for user-defined custom properties.
CUSTOM_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
OFFICE_FORMATS = ("docx", "xlsx", "pptx")


@dataclass(frozen=True, slots=True)
class LabelToWrite:
    """What is written: the label's GUID and unique name, the tenant, how and when it was applied."""

    guid: str
    name: str
    site_id: str
    method: str  # "Standard" (automatic) — ingestguard never writes "Privileged"
    set_date: datetime
    action_id: str
    content_bits: int = 0


def _xml(data: bytes) -> Any:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    return etree.fromstring(data, parser=parser)


def _serialise(root: Any) -> bytes:
    from lxml import etree

    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return out


def _msip_guid(name: str) -> str | None:
    parts = name.split("_")
    return parts[2].lower() if len(parts) >= 4 and parts[0] == "MSIP" and parts[1] == "Label" else None


def _custom_xml(existing: bytes | None, label: LabelToWrite) -> bytes:
    from lxml import etree

    root = (
        _xml(existing)
        if existing
        else etree.Element(f"{{{CUSTOM_NS}}}Properties", nsmap={None: CUSTOM_NS, "vt": VT_NS})
    )
    props = list(root.iter(f"{{{CUSTOM_NS}}}property"))
    by_guid: dict[str, dict[str, Any]] = {}
    for prop in props:
        guid = _msip_guid(prop.get("name", ""))
        if guid is not None:
            by_guid.setdefault(guid, {})[prop.get("name", "").rsplit("_", 1)[-1].lower()] = prop
    for group in by_guid.values():
        site = group.get("siteid")
        site_text = "".join(site.itertext()).strip().strip("{}").lower() if site is not None else ""
        if not site_text or site_text == label.site_id:
            for prop in group.values():
                root.remove(prop)
    pids = [int(p.get("pid", "1")) for p in root.iter(f"{{{CUSTOM_NS}}}property") if p.get("pid", "").isdigit()]
    pid = max([1, *pids]) + 1
    prefix = f"MSIP_Label_{label.guid}_"
    values = [
        ("Enabled", "true"),
        ("SetDate", label.set_date.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("Method", label.method),
        ("Name", label.name),
        ("SiteId", label.site_id),
        ("ActionId", label.action_id),
        ("ContentBits", str(label.content_bits)),
    ]
    for key, value in values:
        prop = etree.SubElement(root, f"{{{CUSTOM_NS}}}property", fmtid=CUSTOM_FMTID, pid=str(pid), name=prefix + key)
        etree.SubElement(prop, f"{{{VT_NS}}}lpwstr").text = value
        pid += 1
    return _serialise(root)


def _labelinfo_xml(existing: bytes | None, label: LabelToWrite) -> bytes:
    from lxml import etree

    root = _xml(existing) if existing else None
    if root is None or root.tag != f"{{{LABELINFO_NS}}}labelList":
        root = etree.Element(f"{{{LABELINFO_NS}}}labelList", nsmap={"clbl": LABELINFO_NS})
    for el in list(root.iter(f"{{{LABELINFO_NS}}}label")):
        if (el.get("siteId") or "").strip("{}").lower() in ("", label.site_id):
            el.getparent().remove(el)
    el = etree.Element(f"{{{LABELINFO_NS}}}label")
    # attribute order as [MS-OFFCRYPTO] 2.6.5.4 asks: id, enabled, method, siteId, contentBits, removed
    el.set("id", "{" + label.guid + "}")
    el.set("enabled", "1")
    el.set("method", label.method)
    el.set("siteId", "{" + label.site_id + "}")
    el.set("contentBits", str(label.content_bits))
    el.set("removed", "0")
    ext = root.find(f"{{{LABELINFO_NS}}}extLst")
    if ext is not None:
        ext.addprevious(el)
    else:
        root.append(el)
    return _serialise(root)


def _content_types(data: bytes, parts: dict[str, str]) -> bytes:
    from lxml import etree

    root = _xml(data)
    have = {o.get("PartName", "").lower() for o in root.iter(f"{{{CONTENT_TYPES_NS}}}Override")}
    for part, ctype in parts.items():
        if "/" + part.lower() not in have:
            etree.SubElement(root, f"{{{CONTENT_TYPES_NS}}}Override", PartName="/" + part, ContentType=ctype)
    return _serialise(root)


def _rels(data: bytes | None, wanted: dict[str, str]) -> bytes:
    from lxml import etree

    root = _xml(data) if data else etree.Element(f"{{{RELS_NS}}}Relationships", nsmap={None: RELS_NS})
    rels = list(root.iter(f"{{{RELS_NS}}}Relationship"))
    types = {r.get("Type") for r in rels}
    ids = {r.get("Id") for r in rels}
    n = len(ids) + 1
    for rel_type, target in wanted.items():
        if rel_type in types:
            continue
        while f"rId{n}" in ids:
            n += 1
        ids.add(f"rId{n}")
        etree.SubElement(root, f"{{{RELS_NS}}}Relationship", Id=f"rId{n}", Type=rel_type, Target=target)
    return _serialise(root)


def write_label(src: IO[bytes], dest: IO[bytes], label: LabelToWrite) -> None:
    """Copy the Office package ``src`` to ``dest`` with ``label`` set in LabelInfo.xml and custom properties."""
    with zipfile.ZipFile(src) as zin:
        names = zin.namelist()
        if "[Content_Types].xml" not in names:
            raise ValueError("not an Office package (no [Content_Types].xml)")
        info_part = labelinfo_part_name(zin) or LABELINFO_PART
        replaced = {
            CUSTOM_PART: _custom_xml(zin.read(CUSTOM_PART) if CUSTOM_PART in names else None, label),
            info_part: _labelinfo_xml(zin.read(info_part) if info_part in names else None, label),
            "_rels/.rels": _rels(
                zin.read("_rels/.rels") if "_rels/.rels" in names else None,
                {CUSTOM_REL: CUSTOM_PART, LABELINFO_REL: info_part},
            ),
            "[Content_Types].xml": _content_types(
                zin.read("[Content_Types].xml"),
                {CUSTOM_PART: CUSTOM_CONTENT_TYPE, info_part: LABELINFO_CONTENT_TYPE},
            ),
        }
        with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                if info.filename in replaced:
                    zout.writestr(info, replaced.pop(info.filename), compress_type=zipfile.ZIP_DEFLATED)
                else:
                    zout.writestr(info, zin.read(info), compress_type=info.compress_type)
            for name, data in replaced.items():  # parts the package did not have yet
                zout.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
