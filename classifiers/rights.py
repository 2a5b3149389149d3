"""Rights signals: may this text be used to train or feed a model at all?

Each detection's ``detector`` is the *signal* it stands for, which the scanner lists in
the unit's ``rights`` column and the access manifest judges:

* ``licence:<SPDX id or expression>:<families>`` — an ``SPDX-License-Identifier:`` line
  (``RIGHTS_SPDX_ID``), the opening lines of a licence (``RIGHTS_LICENCE_HEADER``: MIT,
  Apache-2.0, GPL/LGPL/AGPL, BSD, MPL), a Creative Commons mark in text or a
  ``rel="license"`` link (``RIGHTS_CREATIVE_COMMONS``), or an "All rights reserved"
  notice (``RIGHTS_ALL_RESERVED``, ``licence:all-rights-reserved:proprietary``). Families:
  see :class:`classifiers.licences.LicenceFamily`; several are joined with ``+``.
* ``tdm:reserved`` / ``tdm:policy`` — W3C TDMRep: ``<meta name="tdm-reservation" content="1">``
  or the ``tdm-reservation: 1`` header line, and ``tdm-policy`` (``RIGHTS_TDM_RESERVATION``).
  The site-wide ``/.well-known/tdmrep.json`` and object metadata (the header form) are read by
  ``scanner.tdmrep`` and passed here as header lines under the fields ``$tdmrep`` / ``$metadata``.
* ``robots:noai`` / ``robots:noimageai`` — in ``<meta name="robots">`` (``RIGHTS_AI_OPT_OUT``).
* ``c2pa:<use>:<allowed|notAllowed|constrained>`` — an entry of a C2PA / CAWG
  ``training-mining`` assertion (``ai_training``, ``ai_generative_training``,
  ``ai_inference``, ``data_mining``) in a manifest carried as JSON, or embedded in a binary file
  and read by ``scanner.extractors.c2pa`` (``RIGHTS_C2PA_TDM``); for an embedded manifest also
  ``c2pa:manifest:<trusted|untrusted|invalid|unreadable>`` (``invalid`` followed by c2pa's failure
  codes, ``unreadable`` by the error's kind).

A licence *discussed* in prose is not a header: headers, SPDX tags and CC marks count only
where they stand at the start of a line (after comment markers), and "all rights reserved"
only after a copyright notice on the same line, never in quotes, and not beside a licence
(BSD headers carry the phrase). Markup (``<meta>``, ``<link>``) counts in raw text only: in
the rendered text of an HTML page a tag is something the page *shows* (a tutorial), so the
scanner passes ``$rendered`` as context there and the page's real head as the ``$meta`` field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import ClassVar

from classifiers.base import Detection
from classifiers.licences import LicenceFamily, canonical_id, cc_families, expression_families, family_text, id_families

SPDX_ID = "RIGHTS_SPDX_ID"
LICENCE_HEADER = "RIGHTS_LICENCE_HEADER"
CREATIVE_COMMONS = "RIGHTS_CREATIVE_COMMONS"
ALL_RESERVED = "RIGHTS_ALL_RESERVED"
TDM_RESERVATION = "RIGHTS_TDM_RESERVATION"
AI_OPT_OUT = "RIGHTS_AI_OPT_OUT"
C2PA_TDM = "RIGHTS_C2PA_TDM"
ENTITIES = frozenset({SPDX_ID, LICENCE_HEADER, CREATIVE_COMMONS, ALL_RESERVED, TDM_RESERVATION, AI_OPT_OUT, C2PA_TDM})

#: Context word: the text is what an HTML page renders (markup in it is shown, not meant).
RENDERED = "$rendered"
#: Context word (and field): the text is what a C2PA manifest embedded in a binary file says
#: (``scanner.extractors.c2pa``); only there does a ``c2pa.manifest: <state>`` line count.
EMBEDDED_C2PA = "$c2pa"
#: C2PA / CAWG uses of the training-and-data-mining assertion.
C2PA_USES = ("ai_training", "ai_generative_training", "ai_inference", "data_mining")

_I, _M = re.IGNORECASE, re.MULTILINE
#: The start of a line, then comment markers or list bullets a header may stand behind.
_LINE = r"^[ \t]*(?:(?:#+|//+|/?\*+|--+|;+|%+|<!--|\(\*|\"\"\"|''')[ \t]*)?"

#: Whitespace between the words of a header, across comment-marked line breaks.
_W = r"\s+(?:(?:#+|//+|\*+|--+|;+)[ \t]*)?"


def _words(phrase: str) -> str:
    return _W.join(phrase.split(" "))


_SPDX = re.compile(
    _LINE + r"(?P<tag>SPDX-License-Identifier:)[ \t]*(?P<expr>[A-Za-z0-9.+\-() ]+?)[ \t]*(?:\*/|-->|\*\)|$)", _M
)

#: (licence id or None to decide from the match, a word every match holds, pattern) for licence headers;
#: the word (lower case, never split by a line break) is looked for first, the pattern only where it is.
_HEADERS: tuple[tuple[str | None, str, re.Pattern[str]], ...] = (
    (
        "MIT",
        "hereby",
        re.compile(_LINE + r"Permission is hereby granted,? free of charge,? to any person obtaining a copy", _M | _I),
    ),
    ("Apache-2.0", "apache", re.compile(_LINE + r"Licensed under the Apache License,? Version 2\.0", _M | _I)),
    ("Apache-2.0", "apache", re.compile(_LINE + r"Apache License\s*\n[ \t]*Version 2\.0, January 2004", _M)),
    (
        None,
        "redistribute",
        re.compile(
            _LINE
            + _words("This (?:program|library|file) is free software[:;,]? you can redistribute it and/or modify it")
            + _W
            + _words("under the terms of the GNU (?P<which>Affero General|Lesser General|Library General|General)")
            + _W
            + _words("Public License")
            + r"(?:"
            + _W
            + _words("as published by the Free Software Foundation[;,]?")
            + r"(?:"
            + _W
            + r"(?:either"
            + _W
            + r")?version"
            + _W
            + r"(?P<version>[23](?:\.[01])?)(?P<later>[^\n]*\n?[^\n]*?or"
            + _W
            + r"\(at your option\))?)?)?",
            _M | _I,
        ),
    ),
    (
        None,
        "gnu",
        re.compile(
            _LINE
            + r"GNU (?P<which>AFFERO GENERAL|LESSER GENERAL|GENERAL) PUBLIC LICENSE"
            + r"\s*\n[ \t]*Version (?P<version>[23])",
            _M,
        ),
    ),
    (
        "BSD",
        "redistribution",
        re.compile(
            _LINE
            + r"Redistribution and use in source and binary forms,? with or without\s+(?:[#*/ \t]*)modification,? "
            r"are permitted provided that",
            _M | _I,
        ),
    ),
    (
        "MPL-2.0",
        "mozilla",
        re.compile(
            _LINE
            + r"This Source Code Form is subject to the terms of the Mozilla Public\s+(?:[#*/ \t]*)License,? v\. 2\.0",
            _M | _I,
        ),
    ),
)

_CC_WORDS = {"attribution": "by", "noncommercial": "nc", "sharealike": "sa", "noderivatives": "nd", "noderivs": "nd"}
#: "This work is licensed under a Creative Commons Attribution-NonCommercial 4.0 International License".
_CC_LONG = re.compile(
    _LINE + r"(?:[^\n]{0,80}?\b(?:licen[cs]ed|released|available|published|distributed) under\s+(?:a|the)\s+)?"
    r"(?P<cc>Creative Commons)\s+"
    r"(?P<words>Attribution(?:[- ](?:Non-?Commercial|Share-?Alike|No-?Derivatives|No-?Derivs))*"
    r"|Zero|CC0)\s+(?P<version>\d\.\d)",
    _M | _I,
)
#: A short mark: "CC BY-NC-SA 4.0", "CC0 1.0", standing as a line or after "licensed under" / "licence:".
_CC_SHORT = re.compile(
    r"(?:(?P<lead>\b(?:licen[cs]ed|released|available|published|distributed) under|\blicen[cs]e[:\s]|©[^\n]{0,80}?)"
    r"\s*(?:the\s+)?|" + _LINE + r")"
    r"(?P<mark>CC[- ](?:BY(?:-(?:NC|SA|ND)){0,2}|0)|CC0)[- ](?P<version>\d\.\d)\b",
    _M | _I,
)
#: What any short CC mark holds, in lower case: the check before _CC_SHORT runs.
_CC_MARK = re.compile(r"cc(?:[- ](?:by|0)|0)")
_CC_URL = re.compile(
    r"creativecommons\.org/(?:licenses/(?P<elements>by(?:-(?:nc|sa|nd)){0,2})/(?P<version>\d\.\d)"
    r"|publicdomain/(?P<pd>zero|mark)/(?P<pdversion>\d\.\d))",
    _I,
)
_SPDX_URL = re.compile(
    r"(?:spdx\.org/licenses|opensource\.org/licenses?)/(?P<id>[A-Za-z0-9.+\-]+?)(?:\.html)?(?:[/\"'#?]|$)", _I
)

#: A copyright notice before "All rights reserved" on its line: the symbol, or the word and a year.
_COPYRIGHT = re.compile(r"(?:©|\(c\)|\bcopyright\b[^\n]{0,40}?\b(?:19|20)\d\d\b)[^\n]{0,120}?$", _I)
_ALL_RESERVED = re.compile(r"\ball rights reserved\b", _I)
_QUOTES = "\"'“”‘’«»`"

_TAG = re.compile(r"<(?P<tag>meta|link|a)\b(?P<attrs>[^<>]{0,2000})>", _I)
_ATTR = re.compile(r"(?P<name>[A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*(?P<value>\"[^\"]*\"|'[^']*'|[^\s\"'>]+)")
_TDM_HEADER = re.compile(r"^[ \t]*tdm-reservation[ \t]*:[ \t]*(?P<value>[01])[ \t]*$", _M | _I)
#: ``tdm-policy: URL`` as a header line: only from object-level declarations (a site's tdmrep.json,
#: object metadata), which the scanner passes with the context words ``$tdmrep`` / ``$metadata``.
_TDM_POLICY_HEADER = re.compile(r"^[ \t]*tdm-policy[ \t]*:[ \t]*\S+[ \t]*$", _M | _I)
DECLARED = frozenset({"$tdmrep", "$metadata"})

_C2PA_LABEL = re.compile(r"(?:c2pa|cawg)\.training-mining", _I)
_C2PA_JSON = re.compile(
    r"\"(?:c2pa|cawg)\.(?P<use>ai_training|ai_generative_training|ai_inference|data_mining)\"\s*:\s*\{[^{}]{0,2000}?"
    r"\"use\"\s*:\s*\"(?P<value>allowed|notAllowed|constrained)\"",
)
#: The validation state of an embedded manifest, as ``scanner.extractors.c2pa`` renders it.
_C2PA_STATE = re.compile(
    r"^c2pa\.manifest:[ \t]*(?P<state>trusted|untrusted|invalid|unreadable)"
    r"(?:[ \t]+\((?P<why>[A-Za-z0-9.+_-]{1,300})\))?[ \t]*$",
    _M,
)
#: The flattened form the scanner builds for JSON records: ``….entries.c2pa.ai_training.use: notAllowed``.
_C2PA_FLAT = re.compile(
    r"(?:c2pa|cawg)\.(?P<use>ai_training|ai_generative_training|ai_inference|data_mining)\.use:[ \t]*"
    r"(?P<value>allowed|notAllowed|constrained)\b"
)


def licence_signal(licence: str, families: frozenset[LicenceFamily]) -> str:
    return f"licence:{licence.replace(':', '_')}:{family_text(families)}"


def _attrs(raw: str) -> dict[str, str]:
    return {m["name"].lower(): m["value"].strip("\"'").strip() for m in _ATTR.finditer(raw)}


def cc_licence(elements: str, version: str) -> tuple[str, frozenset[LicenceFamily]]:
    """A CC licence's SPDX-style id (``CC-BY-NC-SA-4.0``, ``CC0-1.0``) and families."""
    elements = elements.lower()
    if elements in {"zero", "cc0", "0"}:
        return f"CC0-{version}", cc_families("zero")
    if elements == "mark":
        return f"CC-PDM-{version}", cc_families("zero")
    return f"CC-{elements.upper()}-{version}", cc_families(elements)


def url_licence(url: str) -> tuple[str, frozenset[LicenceFamily]]:
    """The licence a ``rel="license"`` link points at (Creative Commons, SPDX, OSI); else unknown."""
    cc = _CC_URL.search(url)
    if cc:
        if cc["pd"]:
            return cc_licence(cc["pd"], cc["pdversion"])
        return cc_licence(cc["elements"], cc["version"])
    spdx = _SPDX_URL.search(url)
    if spdx:
        key = canonical_id(spdx["id"])
        if key is not None:
            return key, id_families(key)
    return "linked", frozenset({LicenceFamily.UNKNOWN})


class RightsClassifier:
    """Licences, CC marks, rights reservations, TDM and AI opt-outs, C2PA training-mining entries."""

    name: ClassVar[str] = "rights"

    @property
    def entity_types(self) -> frozenset[str]:
        return ENTITIES

    def setup(self) -> None:
        from classifiers.licences import _spdx

        _spdx()  # load the SPDX list once per worker

    def classify(self, text: str, *, context: Sequence[str] = ()) -> list[Detection]:
        lower = text.lower()
        out: list[Detection] = []
        licences = list(self._licences(text, lower))
        out.extend(licences)
        if "all rights reserved" in lower and not licences:
            out.extend(self._all_reserved(text))
        if RENDERED not in context and "<" in text:
            out.extend(self._markup(text, lower))
        if "tdm-reservation" in lower:
            out.extend(
                Detection(TDM_RESERVATION, m.start(), m.end(), 0.95, "tdm:reserved")
                for m in _TDM_HEADER.finditer(text)
                if m["value"] == "1"
            )
        if "training-mining" in lower or ".use:" in lower:
            out.extend(self._c2pa(text))
        if DECLARED & set(context) and "tdm-policy" in lower:
            out.extend(
                Detection(TDM_RESERVATION, m.start(), m.end(), 0.9, "tdm:policy")
                for m in _TDM_POLICY_HEADER.finditer(text)
            )
        if EMBEDDED_C2PA in context:
            out.extend(
                Detection(C2PA_TDM, m.start(), m.end(), 0.95, self._state_signal(m["state"], m["why"]))
                for m in _C2PA_STATE.finditer(text)
            )
        return out

    # -- licences -------------------------------------------------------------------------------

    def _licences(self, text: str, lower: str) -> Iterator[Detection]:
        if "spdx-license-identifier" in lower:
            for m in _SPDX.finditer(text):
                parsed = expression_families(m["expr"])
                if parsed is not None:
                    yield Detection(SPDX_ID, m.start("tag"), m.end("expr"), 0.95, licence_signal(*parsed))
        for licence, word, pattern in _HEADERS:
            if word not in lower:
                continue
            for m in pattern.finditer(text):
                start = m.start() + len(m.group(0)) - len(m.group(0).lstrip(" \t#/*-;%<!(\"'"))
                yield Detection(LICENCE_HEADER, start, m.end(), 0.9, licence_signal(*self._header(licence, m)))
        if "creative commons" in lower:
            for m in _CC_LONG.finditer(text):
                words = (
                    m["words"].lower().replace("non-commercial", "noncommercial").replace("share-alike", "sharealike")
                )
                words = words.replace("no-derivatives", "noderivatives").replace("no-derivs", "noderivs")
                if words in {"zero", "cc0"}:
                    elements = "zero"
                else:
                    elements = "-".join(dict.fromkeys(_CC_WORDS[w] for w in re.split(r"[- ]", words) if w in _CC_WORDS))
                yield Detection(
                    CREATIVE_COMMONS, m.start("cc"), m.end(), 0.9, licence_signal(*cc_licence(elements, m["version"]))
                )
        if _CC_MARK.search(lower):  # ("cc" alone is in "access", "account"…)
            for m in _CC_SHORT.finditer(text):
                mark = m["mark"].lower().replace(" ", "-")
                elements = "zero" if mark in {"cc0", "cc-0"} else mark.removeprefix("cc-")
                yield Detection(
                    CREATIVE_COMMONS,
                    m.start("mark"),
                    m.end(),
                    0.85,
                    licence_signal(*cc_licence(elements, m["version"])),
                )

    @staticmethod
    def _header(licence: str | None, m: re.Match[str]) -> tuple[str, frozenset[LicenceFamily]]:
        if licence == "BSD":
            key = "BSD-2-Clause"  # the clauses follow; counting them is not needed for the family
            return key, id_families(key)
        if licence is not None:
            return licence, id_families(licence)
        which = (m["which"] or "General").lower()
        base = {"affero general": "AGPL", "lesser general": "LGPL", "library general": "LGPL"}.get(which, "GPL")
        version = m.groupdict().get("version")
        if not version:
            key = f"{base}-3.0-or-later" if base == "AGPL" else f"{base}-2.0-or-later"
        else:
            number = version if "." in version else f"{version}.0"
            if base == "LGPL" and number == "2.0":
                number = "2.0"
            later = "-or-later" if m.groupdict().get("later") else "-only"
            key = f"{base}-{number}{later}"
        return key, id_families(key)

    @staticmethod
    def _all_reserved(text: str) -> Iterator[Detection]:
        for m in _ALL_RESERVED.finditer(text):
            before = text[max(0, m.start() - 1) : m.start()]
            after = text[m.end() : m.end() + 1]
            if (before and before in _QUOTES) or (after and after in _QUOTES):
                continue  # the phrase quoted: talked about, not a notice
            line_start = text.rfind("\n", 0, m.start()) + 1
            lead = text[line_start : m.start()]
            if not _COPYRIGHT.search(lead) or any(q in lead for q in '"“«'):
                continue
            yield Detection(ALL_RESERVED, m.start(), m.end(), 0.85, "licence:all-rights-reserved:proprietary")

    # -- markup, TDM, C2PA ----------------------------------------------------------------------

    @staticmethod
    def _markup(text: str, lower: str) -> Iterator[Detection]:
        if not any(word in lower for word in ("tdm-", "robots", "license", "licence")):
            return
        for m in _TAG.finditer(text):
            line_start = text.rfind("\n", 0, m.start()) + 1
            if "`" in text[line_start : m.start()]:
                continue  # inline code in Markdown: shown, not meant
            attrs = _attrs(m["attrs"])
            tag = m["tag"].lower()
            if tag == "meta":
                name, content = attrs.get("name", "").lower(), attrs.get("content", "")
                if name == "tdm-reservation" and content == "1":
                    yield Detection(TDM_RESERVATION, m.start(), m.end(), 0.95, "tdm:reserved")
                elif name == "tdm-policy" and content:
                    yield Detection(TDM_RESERVATION, m.start(), m.end(), 0.9, "tdm:policy")
                elif name == "robots":
                    for token in sorted({t.strip().lower() for t in content.split(",")} & {"noai", "noimageai"}):
                        yield Detection(AI_OPT_OUT, m.start(), m.end(), 0.95, f"robots:{token}")
            elif "license" in attrs.get("rel", "").lower().split() and attrs.get("href"):
                licence, families = url_licence(attrs["href"])
                entity = CREATIVE_COMMONS if "creativecommons.org" in attrs["href"].lower() else SPDX_ID
                if licence == "linked":
                    entity = LICENCE_HEADER
                yield Detection(entity, m.start(), m.end(), 0.9, licence_signal(licence, families))

    @staticmethod
    def _state_signal(state: str, why: str | None) -> str:
        """``c2pa:manifest:trusted``, ``…:untrusted``, ``…:invalid:<failure codes>``, ``…:unreadable:<error>``."""
        return f"c2pa:manifest:{state}" + (f":{why}" if why and state in {"invalid", "unreadable"} else "")

    @staticmethod
    def _c2pa(text: str) -> Iterator[Detection]:
        if _C2PA_LABEL.search(text):
            for m in _C2PA_JSON.finditer(text):
                yield Detection(C2PA_TDM, m.start(), m.end(), 0.95, f"c2pa:{m['use']}:{m['value']}")
        for m in _C2PA_FLAT.finditer(text):
            yield Detection(C2PA_TDM, m.start(), m.end(), 0.95, f"c2pa:{m['use']}:{m['value']}")
