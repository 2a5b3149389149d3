"""HTML: the visible text as the unit's text; what a reader would not see is kept apart.

Hidden content (comments, ``hidden``/``aria-hidden`` elements, inline
``display:none`` / ``visibility:hidden`` / zero font size) goes to
``Unit.hidden_text``: the AI-risk classifiers look at it, and it is classified
for sensitive data too, since a model reads it.

Rights markup the text drops — ``<meta name="tdm-reservation|tdm-policy|robots">``,
``rel="license"`` links and anchors, JSON-LD scripts holding a C2PA ``training-mining``
assertion — is written back as canonical tags to ``Unit.meta_text`` for the rights classifier.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

import lxml.html
from lxml import etree

from scanner.errors import ExtractionError
from scanner.extractors.base import ExtractContext, SkipObject, read_all
from scanner.units import Unit, UnitProblem, sha256_hex

_INVISIBLE_TAGS = {"script", "style", "template", "noscript", "head", "meta", "link"}
_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "dt",
    "dd",
    "title",
    "form",
    "label",
}
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|$)|opacity\s*:\s*0(?:\.0+)?\s*(?:;|$)",
    re.IGNORECASE,
)


_OFFSCREEN = re.compile(r"^-\d{3,}(?:\.\d+)?(?:px|em|rem|pt)?$")


def _style(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for decl in raw.split(";"):
        name, _, value = decl.partition(":")
        if value:
            out[name.strip().lower()] = " ".join(value.strip().lower().replace("!important", "").split())
    return out


def _is_hidden(el: etree._Element) -> bool:
    """Hidden by attribute or inline CSS: none/hidden, zero size or opacity, text colour equal to its
    background, pushed off-screen, clipped away."""
    if el.get("hidden") is not None or (el.get("aria-hidden") or "").lower() == "true":
        return True
    raw = el.get("style") or ""
    if not raw:
        return False
    if _HIDDEN_STYLE.search(raw):
        return True
    style = _style(raw)
    colour, background = style.get("color"), style.get("background-color") or style.get("background")
    if colour and background and colour == background:
        return True
    if any(_OFFSCREEN.match(style.get(k, "")) for k in ("left", "top", "text-indent", "margin-left")):
        return True
    clip = style.get("clip", "") + style.get("clip-path", "")
    return "rect(0" in clip.replace(" ", "") or "inset(50%" in clip.replace(" ", "")


class HtmlExtractor:
    format: ClassVar[str] = "html"
    extensions: ClassVar[tuple[str, ...]] = (".html", ".htm", ".xhtml")

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        raw = read_all(stream, limit=ctx.limits.max_document_bytes, limit_name="max_document_bytes")
        if not raw.strip():
            raise SkipObject("empty file")
        try:
            root = lxml.html.document_fromstring(raw)
        except (etree.ParserError, ValueError) as exc:
            raise ExtractionError("unparseable HTML") from exc
        visible: list[str] = []
        hidden: list[str] = []
        title = root.find(".//title")
        if title is not None and title.text_content().strip():
            visible.append(title.text_content().strip() + "\n")
        self._walk(root, visible, hidden, hidden_parent=False)
        text = _tidy("".join(visible))
        yield Unit(
            ctx.uri,
            self.format,
            text,
            sha256_hex(raw),
            len(raw),
            hidden_text=_tidy("\n".join(hidden)),
            meta_text=rights_markup(root),
        )

    def _walk(self, el: etree._Element, visible: list[str], hidden: list[str], *, hidden_parent: bool) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if isinstance(el, etree._Comment):
            if el.text and el.text.strip():
                hidden.append(el.text.strip())
            if el.tail:
                (hidden if hidden_parent else visible).append(el.tail)
            return
        if not tag:  # processing instructions, entities
            return
        name = tag.lower()
        if name in _INVISIBLE_TAGS:
            if el.tail:
                (hidden if hidden_parent else visible).append(el.tail)
            return
        is_hidden = hidden_parent or _is_hidden(el)
        sink = hidden if is_hidden else visible
        if name in _BLOCK_TAGS:
            sink.append("\n")
        if el.text:
            sink.append(el.text)
        for child in el:
            self._walk(child, visible, hidden, hidden_parent=is_hidden)
        if name in _BLOCK_TAGS:
            sink.append("\n")
        if el.tail:
            (hidden if hidden_parent else visible).append(el.tail)


_RIGHTS_META = {"tdm-reservation", "tdm-policy", "robots"}


def _quote(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def rights_markup(root: etree._Element) -> str:
    """The page's rights signals as canonical tags, one a line ("" when it has none)."""
    lines: list[str] = []
    for el in root.iter("meta", "link", "a", "script"):
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag == "meta":
            name = (el.get("name") or el.get("http-equiv") or "").strip().lower()
            if name in _RIGHTS_META:
                lines.append(f'<meta name="{_quote(name)}" content="{_quote((el.get("content") or "").strip())}">')
        elif tag in {"link", "a"}:
            rel = (el.get("rel") or "").lower().split()
            if "license" in rel and el.get("href"):
                lines.append(f'<link rel="license" href="{_quote(el.get("href", "").strip())}">')
        elif tag == "script" and "json" in (el.get("type") or "").lower():
            body = el.text or ""
            if "training-mining" in body:
                lines.append(body.strip())
    return "\n".join(lines)


def _tidy(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
