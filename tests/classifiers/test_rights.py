"""Rights signals: licences, CC marks, "all rights reserved", TDMRep, robots noai, C2PA training-mining.

Every signal has positives and hard negatives: a licence discussed in prose is not a header,
a quoted "all rights reserved" is not a notice, a tag shown in a tutorial is not a reservation.
"""

from __future__ import annotations

import json

import pytest

from classifiers.entities import CATALOGUE, Family, is_rights
from classifiers.licences import LicenceFamily, expression_families, id_families
from classifiers.rights import ENTITIES, RENDERED, RightsClassifier


@pytest.fixture(scope="module")
def rights() -> RightsClassifier:
    c = RightsClassifier()
    c.setup()
    return c


def signals(c: RightsClassifier, text: str, context: tuple[str, ...] = ()) -> list[str]:
    return sorted(d.detector for d in c.classify(text, context=context))


C2PA_ASSERTION = {
    "label": "c2pa.training-mining",
    "data": {
        "entries": {
            "c2pa.ai_generative_training": {"use": "notAllowed"},
            "c2pa.ai_inference": {"use": "allowed"},
            "c2pa.ai_training": {"use": "constrained", "constraint_info": "licence required"},
            "c2pa.data_mining": {"use": "notAllowed"},
        }
    },
}

POSITIVES = [
    # SPDX identifiers, in the comment styles of several languages
    ("# SPDX-License-Identifier: MIT\nimport os\n", ["licence:MIT:permissive"]),
    ("// SPDX-License-Identifier: GPL-3.0-or-later\nint main;", ["licence:GPL-3.0-or-later:copyleft"]),
    ("/* SPDX-License-Identifier: CC-BY-NC-ND-4.0 */", ["licence:CC-BY-NC-ND-4.0:non-commercial+no-derivatives"]),
    ("<!-- SPDX-License-Identifier: CC0-1.0 -->", ["licence:CC0-1.0:public-domain"]),
    ("-- SPDX-License-Identifier: MIT AND BSD-3-Clause", ["licence:MIT AND BSD-3-Clause:permissive"]),
    ("# SPDX-License-Identifier: GPL-2.0-only OR MIT", ["licence:GPL-2.0-only OR MIT:permissive"]),
    ("# SPDX-License-Identifier: MPL-2.0 AND CC-BY-SA-4.0", ["licence:MPL-2.0 AND CC-BY-SA-4.0:copyleft"]),
    # licence headers
    (
        "Copyright 2024 Jo\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\nof this",
        ["licence:MIT:permissive"],
    ),
    ('# Licensed under the Apache License, Version 2.0 (the "License");', ["licence:Apache-2.0:permissive"]),
    (
        " * This program is free software: you can redistribute it and/or modify\n"
        " * it under the terms of the GNU General Public License as published by\n"
        " * the Free Software Foundation, either version 3 of the License, or\n"
        " * (at your option) any later version.",
        ["licence:GPL-3.0-or-later:copyleft"],
    ),
    (
        "This library is free software; you can redistribute it and/or\n"
        "modify it under the terms of the GNU Lesser General Public\n"
        "License as published by the Free Software Foundation; either\n"
        "version 2.1 of the License, or (at your option) any later version.",
        ["licence:LGPL-2.1-or-later:copyleft"],
    ),
    (
        "    This program is free software: you can redistribute it and/or modify\n"
        "    it under the terms of the GNU Affero General Public License as published\n"
        "    by the Free Software Foundation, either version 3 of the License, or\n"
        "    (at your option) any later version.",
        ["licence:AGPL-3.0-or-later:copyleft"],
    ),
    (
        "Copyright (c) 2020, Jo\nAll rights reserved.\n\nRedistribution and use in source and binary forms, with or "
        "without\nmodification, are permitted provided that the following conditions are met:",
        ["licence:BSD-2-Clause:permissive"],  # the BSD header's "All rights reserved" is not proprietary
    ),
    (
        "# This Source Code Form is subject to the terms of the Mozilla Public\n# License, v. 2.0.",
        ["licence:MPL-2.0:copyleft"],
    ),
    # Creative Commons in text
    (
        "This work is licensed under a Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International"
        " License.",
        ["licence:CC-BY-NC-SA-4.0:non-commercial+copyleft"],
    ),
    ("Photo by Jo, licensed under CC BY-ND 4.0", ["licence:CC-BY-ND-4.0:no-derivatives"]),
    ("CC BY 4.0\n", ["licence:CC-BY-4.0:permissive"]),
    ("Licence: CC0 1.0\n", ["licence:CC0-1.0:public-domain"]),
    # "All rights reserved" notices
    ("© 2025 Acme Corp. All rights reserved.", ["licence:all-rights-reserved:proprietary"]),
    ("Copyright 2019 Acme Ltd. All Rights Reserved.", ["licence:all-rights-reserved:proprietary"]),
    # TDMRep, in markup and as the header line
    ('<meta name="tdm-reservation" content="1">', ["tdm:reserved"]),
    ("<meta content='1' name='tdm-reservation'>", ["tdm:reserved"]),
    ('<meta name="tdm-policy" content="https://pub.example/policy.json">', ["tdm:policy"]),
    ("tdm-reservation: 1\n", ["tdm:reserved"]),
    # robots noai
    ('<meta name="robots" content="noai, noimageai">', ["robots:noai", "robots:noimageai"]),
    ('<meta name="robots" content="index, follow, noai">', ["robots:noai"]),
    # rel=license links, the licence parsed from the URL
    (
        '<a rel="license" href="https://creativecommons.org/licenses/by-nc/4.0/">CC</a>',
        ["licence:CC-BY-NC-4.0:non-commercial"],
    ),
    (
        '<link rel="license" href="https://creativecommons.org/publicdomain/zero/1.0/">',
        ["licence:CC0-1.0:public-domain"],
    ),
    ('<link rel="license" href="https://spdx.org/licenses/Apache-2.0.html">', ["licence:Apache-2.0:permissive"]),
    ('<link rel="license" href="/terms-of-use">', ["licence:linked:unknown"]),
    # C2PA / CAWG training-mining, as a JSON manifest
    (
        json.dumps({"assertions": [C2PA_ASSERTION]}),
        [
            "c2pa:ai_generative_training:notAllowed",
            "c2pa:ai_inference:allowed",
            "c2pa:ai_training:constrained",
            "c2pa:data_mining:notAllowed",
        ],
    ),
    (
        '{"label": "cawg.training-mining", "data": {"entries": {"cawg.ai_training": {"use": "notAllowed"}}}}',
        ["c2pa:ai_training:notAllowed"],
    ),
    ("assertions[0].data.entries.c2pa.ai_inference.use: notAllowed", ["c2pa:ai_inference:notAllowed"]),
]


@pytest.mark.parametrize(("text", "expected"), POSITIVES)
def test_signals_are_found(rights: RightsClassifier, text: str, expected: list[str]) -> None:
    assert signals(rights, text) == sorted(expected)


HARD_NEGATIVES = [
    # licences discussed, not declared
    "The GPL is a copyleft licence, and the LGPL a weaker one.",
    "We chose MIT because it is short; Apache-2.0 adds a patent grant.",
    "Put `SPDX-License-Identifier: MIT` at the top of each file.",
    "SPDX-License-Identifier: header lines tell tools the licence",
    'The MIT licence begins "Permission is hereby granted, free of charge, to any person obtaining a copy".',
    "Under the GPL, this program is free software you may study.",
    "Creative Commons licences such as CC BY-SA are popular with wikis.",
    "Articles about Creative Commons Attribution licences are everywhere.",
    # "all rights reserved" talked about
    'The phrase "all rights reserved" comes from the Buenos Aires Convention of 1910.',
    "Copyright notices often end with all rights reserved, which adds nothing today.",
    "Many footers say “All rights reserved” out of habit.",
    # TDM and robots, not reserved or only shown
    '<meta name="tdm-reservation" content="0">',
    'Add `<meta name="tdm-reservation" content="1">` to your page head.',
    '<meta name="robots" content="noindex, nofollow">',
    "tdm-reservation: 0",
    "The TDM reservation protocol lets publishers opt out with a tdm-reservation meta tag.",
    # C2PA named in prose, without an assertion
    "C2PA manifests may carry c2pa.ai_training entries saying whether training is allowed.",
    '{"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created"}]}}',
]


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negatives(rights: RightsClassifier, text: str) -> None:
    assert signals(rights, text) == []


def test_markup_in_rendered_html_text_is_shown_not_meant(rights: RightsClassifier) -> None:
    tag = '<meta name="tdm-reservation" content="1">'
    assert signals(rights, tag) == ["tdm:reserved"]
    assert signals(rights, tag, context=(RENDERED,)) == []


def test_spans_cover_the_signal(rights: RightsClassifier) -> None:
    text = "x = 1\n# SPDX-License-Identifier: MIT\n"
    [det] = rights.classify(text)
    assert text[det.start : det.end] == "SPDX-License-Identifier: MIT"
    assert det.entity_type == "RIGHTS_SPDX_ID"


def test_rights_entities_are_their_own_family() -> None:
    assert set(CATALOGUE) >= ENTITIES
    assert all(CATALOGUE[e] is Family.RIGHTS and is_rights(e) for e in ENTITIES)
    assert not any(is_rights(e) for e in ("PERSON", "SECRET_JWT", "PROMPT_INJECTION"))


@pytest.mark.parametrize(
    ("spdx", "family"),
    [
        ("MIT", LicenceFamily.PERMISSIVE),
        ("BSD-3-Clause", LicenceFamily.PERMISSIVE),
        ("GPL-2.0-only", LicenceFamily.COPYLEFT),
        ("LGPL-2.1-or-later", LicenceFamily.COPYLEFT),
        ("CC0-1.0", LicenceFamily.PUBLIC_DOMAIN),
        ("Unlicense", LicenceFamily.PUBLIC_DOMAIN),
        ("CC-BY-SA-4.0", LicenceFamily.COPYLEFT),
        ("CC-BY-NC-4.0", LicenceFamily.NON_COMMERCIAL),
        ("LicenseRef-Acme", LicenceFamily.UNKNOWN),
    ],
)
def test_families_come_from_the_spdx_list(spdx: str, family: LicenceFamily) -> None:
    assert family in id_families(spdx)


def test_words_after_the_tag_that_are_no_spdx_id_are_not_a_licence() -> None:
    assert expression_families("header lines") is None
    assert expression_families("MIT") is not None


@pytest.mark.parametrize("text", [t for t, _ in POSITIVES])
def test_every_header_match_holds_the_word_looked_for_first(text: str) -> None:
    """Licence-header patterns run only where their word is (a cheap check before a regex per line):
    every match of every pattern, in every positive, in any case and with comment markers, holds it."""
    from classifiers.rights import _HEADERS

    variants = [text, text.upper(), text.lower(), text.replace(" ", "\n# "), text.replace(" ", "\n * ")]
    for _, word, pattern in _HEADERS:
        for variant in variants:
            for m in pattern.finditer(variant):
                assert word in m.group(0).lower()


@pytest.mark.parametrize("text", [t for t, _ in POSITIVES])
def test_every_short_cc_mark_holds_what_is_looked_for_first(text: str) -> None:
    from classifiers.rights import _CC_MARK, _CC_SHORT

    for variant in (text, text.upper(), text.lower()):
        for m in _CC_SHORT.finditer(variant):
            assert _CC_MARK.search(m.group(0).lower())
