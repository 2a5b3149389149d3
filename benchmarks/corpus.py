"""The benchmark corpus: ~1.5 KB English documents, mostly ordinary prose, some carrying PII.

Prose comes from the docstrings of Python's standard library (real English
technical writing, present on every machine); personal data comes from the
labelled evaluation sentences in ``shared/data/pii-eval``, so the PII is
realistic and varied. About a third of the documents get one to three such
sentences, which is PII-denser than most real RAG corpora. Deterministic for a
given seed.
"""

from __future__ import annotations

import importlib
import inspect
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "pii-eval"

_MODULES = (
    "argparse",
    "asyncio",
    "collections",
    "concurrent.futures",
    "contextlib",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "email",
    "functools",
    "http.client",
    "importlib",
    "inspect",
    "io",
    "itertools",
    "json",
    "logging",
    "multiprocessing",
    "os",
    "pathlib",
    "pickle",
    "queue",
    "random",
    "re",
    "shutil",
    "socket",
    "sqlite3",
    "statistics",
    "string",
    "subprocess",
    "tarfile",
    "tempfile",
    "textwrap",
    "threading",
    "typing",
    "unittest",
    "urllib.request",
    "uuid",
    "xml.etree.ElementTree",
    "zipfile",
)


def _paragraphs() -> list[str]:
    paras: list[str] = []
    for name in _MODULES:
        module = importlib.import_module(name)
        docs = [inspect.getdoc(module) or ""]
        docs += [
            inspect.getdoc(obj) or ""
            for _, obj in inspect.getmembers(module)
            if inspect.isclass(obj) or inspect.isfunction(obj)
        ]
        for doc in docs:
            for para in re.split(r"\n\s*\n", doc):
                flat = " ".join(para.split())
                if 120 <= len(flat) <= 900 and not flat.startswith((">>>", "...")):
                    paras.append(flat)
    return sorted(set(paras))


def _pii_sentences(path: Path) -> list[str]:
    return [s["full_text"].strip() for s in json.loads(path.read_text()) if s["spans"] and len(s["full_text"]) < 300]


def documents(count: int, *, seed: int = 13, target_chars: int = 1500, pii_share: float = 0.33) -> Iterator[str]:
    """``count`` documents of about ``target_chars`` characters each."""
    rng = random.Random(seed)
    paras = _paragraphs()
    pii = _pii_sentences(EVAL_DIR / "generated_large.json")
    for _ in range(count):
        parts: list[str] = []
        size = 0
        while size < target_chars:
            para = rng.choice(paras)
            parts.append(para)
            size += len(para) + 2
        if rng.random() < pii_share:
            for _ in range(rng.randint(1, 3)):
                parts.insert(rng.randrange(len(parts) + 1), rng.choice(pii))
        doc = "\n\n".join(parts)
        yield doc[: int(target_chars * 1.3)]


def write_jsonl(path: Path, count: int, *, seed: int = 13) -> int:
    """Write the corpus as JSONL (``{"id", "text"}`` per line); returns the number of characters."""
    chars = 0
    with path.open("w", encoding="utf-8") as fh:
        for i, doc in enumerate(documents(count, seed=seed)):
            chars += len(doc)
            fh.write(json.dumps({"id": i, "text": doc}) + "\n")
    return chars
