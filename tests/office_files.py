"""Office files generated at test time (python-docx, openpyxl, python-pptx), optionally carrying a
Purview label written by hand here, independently of ingestguard's own writer."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

TENANT = "7d1c9e0a-3b5f-4c2d-9e8f-0a1b2c3d4e5f"
LABELS = {  # the shipped taxonomy's GUIDs (configs/labels.yaml)
    "Public": "3fe8a7e5-8a24-4f3a-a7cf-0f3b7a4c2b10",
    "General": "9a8d6f3e-2c61-4b7e-9f0b-6d1c5e4a7b21",
    "Confidential": "c2f4b6a8-1d3e-4f5a-8b7c-9d0e1f2a3b32",
    "Highly Confidential": "e7d9c1b3-5f2a-4e6d-a8b0-c4d2e6f8a143",
}
UNKNOWN_LABEL = "0b6f3a52-9d4e-4c1b-8a7f-2e5d6c4b3a19"


def docx_file(path: Path, paragraphs: list[str]) -> Path:
    import docx

    doc = docx.Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    doc.save(str(path))
    return path


def xlsx_file(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(str(path))
    return path


def pptx_file(path: Path, slides: list[dict[str, Any]]) -> Path:
    """Each slide: ``title``, ``body``, optional ``notes``, ``table`` (rows of cells), ``hidden``."""
    import pptx
    from pptx.util import Inches

    deck = pptx.Presentation()
    for spec in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = spec.get("title", "")
        slide.placeholders[1].text = spec.get("body", "")
        if "table" in spec:
            rows = spec["table"]
            table = slide.shapes.add_table(len(rows), len(rows[0]), Inches(1), Inches(4), Inches(6), Inches(1)).table
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
        if spec.get("notes"):
            slide.notes_slide.notes_text_frame.text = spec["notes"]
        if spec.get("hidden"):
            slide._element.set("show", "0")
    deck.save(str(path))
    return path


def add_label(
    path: Path,
    label: str,
    *,
    method: str = "Standard",
    where: tuple[str, ...] = ("labelinfo", "custom"),
    name: str | None = None,
    site: str = TENANT,
) -> Path:
    """Stamp ``label`` (a name in LABELS or a GUID) on an Office package the way Office does."""
    guid = LABELS.get(label, label)
    files: dict[str, bytes] = {}
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            files[info.filename] = z.read(info)
    ctypes = files["[Content_Types].xml"].decode()
    rels = files["_rels/.rels"].decode()
    if "custom" in where:
        p = f"MSIP_Label_{guid}_"
        props = [
            ("Enabled", "true"),
            ("SetDate", "2024-05-06T07:08:09Z"),
            ("Method", method),
            ("Name", name or label),
            ("SiteId", site),
            ("ActionId", "5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170"),
            ("ContentBits", "0"),
        ]
        body = "".join(
            f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{i + 2}" name="{p}{k}">'
            f"<vt:lpwstr>{v}</vt:lpwstr></property>"
            for i, (k, v) in enumerate(props)
        )
        files["docProps/custom.xml"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
            f'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">{body}</Properties>'
        ).encode()
        ctypes = ctypes.replace(
            "</Types>",
            '<Override PartName="/docProps/custom.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>',
        )
        rels = rels.replace(
            "</Relationships>",
            '<Relationship Id="rIdC9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/custom-properties" Target="docProps/custom.xml"/></Relationships>',
        )
    if "labelinfo" in where:
        files["docMetadata/LabelInfo.xml"] = (
            '<?xml version="1.0" encoding="utf-8" standalone="yes"?>'
            '<clbl:labelList xmlns:clbl="http://schemas.microsoft.com/office/2020/mipLabelMetadata">'
            f'<clbl:label id="{{{guid}}}" enabled="1" method="{method}" siteId="{{{site}}}" '
            'contentBits="0" removed="0" /></clbl:labelList>'
        ).encode()
        ctypes = ctypes.replace(
            "</Types>",
            '<Override PartName="/docMetadata/LabelInfo.xml" '
            'ContentType="application/vnd.ms-office.classificationlabels+xml"/></Types>',
        )
        rels = rels.replace(
            "</Relationships>",
            '<Relationship Id="rIdL9" Type="http://schemas.microsoft.com/office/2020/02/relationships/'
            'classificationlabels" Target="docMetadata/LabelInfo.xml"/></Relationships>',
        )
    files["[Content_Types].xml"] = ctypes.encode()
    files["_rels/.rels"] = rels.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name_, data in files.items():
            z.writestr(name_, data)
    return path
