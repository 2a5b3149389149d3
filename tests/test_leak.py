"""The leak test: a scan over planted raw values must not write any of them anywhere.

The corpus plants Faker names and e-mail addresses, checksum-valid card
numbers and SSNs, and AWS-style keys, in readable objects and in objects built
to fail (an invalid JSON line holding a card number, an over-long CSV row, a
corrupt PDF, bytes that are not UTF-8 next to an SSN), so that an error message
quoting its input would show up. The CLI runs with ``-vv`` and ``--state`` (so the
change report and its HTML page are written too); every output file (Parquet
read back and dumped as text), stdout and stderr are searched for the exact
strings, and then scanned by ingestguard itself with its own classifiers: none
of them may find a planted value there (compared by keyed fingerprint), nor any
card number, SSN or secret at all.
"""

from __future__ import annotations

import io
import json
import random
import string
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from faker import Faker

from classifiers.fingerprint import Fingerprinter
from scanner.config import Settings
from scanner.driver import scan
from tests.conftest import TEST_KEY
from tests.corpus import card_number, ssn


def _aws_key(rng: random.Random) -> tuple[str, str]:
    key_id = "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    secret = "".join(rng.choice(string.ascii_letters + string.digits + "/+") for _ in range(40))
    return key_id, secret


def _plant(root: Path) -> dict[str, str]:
    """Write the corpus; returns each planted value with its entity type."""
    fake = Faker("en_US")
    fake.seed_instance(99)
    rng = random.Random(99)
    root.mkdir(parents=True)
    cards = [card_number(rng) for _ in range(5)]
    ssns = [ssn(rng) for _ in range(5)]
    emails = [fake.unique.email() for _ in range(4)]
    names = [fake.unique.name() for _ in range(3)]
    key_id, secret = _aws_key(rng)
    planted = {
        **dict.fromkeys(cards, "CREDIT_CARD"),
        **dict.fromkeys(ssns, "US_SSN"),
        **dict.fromkeys(emails, "EMAIL_ADDRESS"),
        **dict.fromkeys(names, "PERSON"),
        key_id: "SECRET_AWS_ACCESS_KEY_ID",
        secret: "SECRET_AWS_SECRET_ACCESS_KEY",
    }

    (root / "notes.txt").write_text(
        f"{names[0]} paid with {cards[0]}; SSN {ssns[0]}; mail {emails[0]}.\n"
        f"aws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"
    )
    lines = [
        json.dumps({"name": names[1], "ssn": ssns[1]}),
        '{"card": "' + cards[1] + '", "broken": ',  # invalid JSON whose text holds a card number
        '{"ssn": "' + ssns[2] + '" "missing comma": 1}',
        json.dumps({"email": emails[1]}),
    ]
    (root / "records.jsonl").write_text("\n".join(lines) + "\n")
    (root / "bad-utf8.txt").write_bytes(f"Grüße, SSN {ssns[3]} ".encode() * 3 + b"\xff\xfe\xfd" + cards[2].encode())
    (root / "rows.csv").write_text(f'id,card,notes\n1,{cards[3]},{"x" * 400}\n2,"{cards[4]}\n')
    (root / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Card (" + cards[2].encode() + b") >>\ntrailer garbage")
    (root / "broken.json").write_text('{"ssn": "' + ssns[4] + '", "oops": }')
    (root / "deep.json").write_text(json.dumps({"a": {"b": {"c": {"d": {"e": {"ssn": ssns[0]}}}}}}))
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = emails[2], emails[3], f"Card for {names[2]}"
    msg.set_content(f"Card {cards[0]} expires soon.")
    msg.add_attachment(f"ssn,{ssns[1]}\n".encode(), maintype="text", subtype="csv", filename="ids.csv")
    (root / "mail.eml").write_bytes(msg.as_bytes())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("inner/notes.md", f"# Keys\n\n{key_id} / {secret}\n")
        zf.writestr("inner/bad.jsonl", '{"card": "' + cards[3] + '"\n')
    (root / "bundle.zip").write_bytes(buf.getvalue())
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w:gz") as tf:
        data = f"{names[0]} {ssns[2]}\n".encode()
        info = tarfile.TarInfo("people.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    (root / "bundle.tar.gz").write_bytes(tar.getvalue())
    return planted


def _dump(out: Path) -> str:
    parts: list[str] = []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            parts.extend(json.dumps(row, default=str) for row in pq.read_table(path).to_pylist())
        else:
            parts.append(path.read_text(errors="replace"))
    return "\n".join(parts)


@dataclass(frozen=True)
class _Run:
    planted: dict[str, str]
    out: Path
    stdout: str
    stderr: str
    returncode: int


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory: pytest.TempPathFactory) -> _Run:
    """One verbose CLI scan of the planted corpus, with a state database (change report, HTML page)."""
    tmp_path = tmp_path_factory.mktemp("leak")
    planted = _plant(tmp_path / "corpus")
    config = tmp_path / "config"
    config.mkdir()
    (config / "scan.yaml").write_text("limits:\n  max_record_bytes: 300\n  max_json_depth: 3\n")
    out = tmp_path / "out"
    env = {"INGESTGUARD_FINGERPRINT_KEY": TEST_KEY, "HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    options = ["--out", str(out), "--config", str(config), "--workers", "2", "--profile", "fast"]
    options += ["--state", str(tmp_path / "state.db")]
    result = subprocess.run(
        [sys.executable, "-m", "scanner.cli", "-vv", "scan", str(tmp_path / "corpus"), *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return _Run(planted, out, result.stdout, result.stderr, result.returncode)


def test_no_planted_value_appears_in_any_output_log_or_error(cli_run: _Run) -> None:
    out, planted = cli_run.out, cli_run.planted
    assert cli_run.returncode == 1, cli_run.stderr[-2000:]  # some objects and records fail, on purpose
    assert (out / "changes.json").is_file() and (out / "report.html").is_file()
    objects = {r["uri"].rsplit("/", 1)[-1]: r for r in pq.read_table(out / "objects.parquet").to_pylist()}
    assert objects["broken.pdf"]["status"] == "failed" and objects["bad-utf8.txt"]["status"] == "failed"
    docs = pq.read_table(out / "documents.parquet").to_pylist()
    assert any(d["status"] == "failed" and "invalid JSON" in (d["reason"] or "") for d in docs)
    assert sum(f["entity_type"] == "US_SSN" for f in pq.read_table(out / "findings.parquet").to_pylist()) >= 2
    haystacks = {"outputs": _dump(out), "stdout": cli_run.stdout, "stderr": cli_run.stderr}
    assert "DEBUG" in cli_run.stderr or "INFO" in cli_run.stderr or cli_run.stderr  # verbose logging was on
    for value in planted:
        digits = "".join(ch for ch in value if ch.isalnum())
        for where, text in haystacks.items():
            assert value not in text, f"a planted value ({len(value)} chars) leaked into {where}"
            if len(digits) >= 9 and digits.isdigit():
                squeezed = "".join(ch for ch in text if ch.isalnum())
                assert digits not in squeezed, f"a planted number leaked into {where} (separators removed)"


#: Entity types that must not be found in our own outputs at all, planted or not: no output holds a card
#: number, an SSN or a credential (masked forms such as ``**** **** **** 1234`` are not card numbers).
NEVER_IN_OUTPUTS = ("CREDIT_CARD", "US_SSN", "SECRET_")


def test_ingestguard_finds_no_planted_value_in_its_own_outputs_and_logs(
    cli_run: _Run, tmp_path: Path, settings: Settings
) -> None:
    """The issue's leak test: scan the outputs, the change report, its HTML page and the logs of the scan
    above with ingestguard's own classifiers (thorough profile, every character through NER too)."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for path in sorted(cli_run.out.rglob("*")):
        if path.suffix == ".parquet":  # as JSON Lines text, so the extractors read every cell
            rows = pq.read_table(path).to_pylist()
            lines = (json.dumps(row, default=str, ensure_ascii=False) for row in rows)
            (evidence / f"{path.stem}.jsonl").write_text("\n".join(lines) + "\n")
        elif path.is_file():
            (evidence / path.name).write_bytes(path.read_bytes())
    assert {"summary.json", "changes.json", "report.html", "findings.jsonl", "documents.jsonl"} <= {
        p.name for p in evidence.iterdir()
    }
    (evidence / "stdout.log").write_text(cli_run.stdout)
    (evidence / "stderr.log").write_text(cli_run.stderr)
    # A positive control scanned beside them: planted values in plain sight must be found.
    canary = [next(v for v, t in cli_run.planted.items() if t == kind) for kind in ("CREDIT_CARD", "US_SSN")]
    canary += [v for v, t in cli_run.planted.items() if t == "SECRET_AWS_ACCESS_KEY_ID"]
    (evidence / "canary.txt").write_text("Card {} and SSN: {}; AWS key {}\n".format(*canary))

    out = tmp_path / "self-scan"
    summary = scan([str(evidence)], out, settings=settings.with_profile("thorough"), engine="serial")
    objects = pq.read_table(out / "objects.parquet").to_pylist()
    assert {o["status"] for o in objects} == {"scanned"}, [(o["uri"], o["reason"]) for o in objects]
    assert summary
    findings = pq.read_table(out / "findings.parquet").to_pylist()
    # the keyed fingerprint of every planted value under every type found: a match is a planted value found
    fingerprint = Fingerprinter(TEST_KEY.encode())
    types = {f["entity_type"] for f in findings} | set(cli_run.planted.values())
    planted_fps = {fingerprint(t, v) for v in cli_run.planted for t in types}
    in_canary = [f for f in findings if f["uri"].endswith("/canary.txt")]
    assert {f["fingerprint"] for f in in_canary} >= {fingerprint(cli_run.planted[v], v) for v in canary}
    ours = [f for f in findings if not f["uri"].endswith("/canary.txt")]
    leaked = [(f["entity_type"], f["uri"].rsplit("/", 1)[-1]) for f in ours if f["fingerprint"] in planted_fps]
    assert not leaked, f"ingestguard found planted values in its own outputs: {leaked}"
    forbidden = [
        (f["entity_type"], f["uri"].rsplit("/", 1)[-1], f["field"], f["masked"])
        for f in ours
        if f["entity_type"].startswith(NEVER_IN_OUTPUTS)
    ]
    assert not forbidden, f"card numbers, SSNs or secrets found in our own outputs: {forbidden}"
    # Our fingerprints (32 hex characters) are no entity of any kind (they were DEA numbers, 1.5% of them).
    in_fingerprints = [(f["entity_type"], f["uri"].rsplit("/", 1)[-1]) for f in ours if f["field"] == "fingerprint"]
    assert not in_fingerprints, f"fingerprints mistaken for entities: {in_fingerprints}"
    # what the classifiers did find there (names of objects and people in paths, e-mail-shaped URIs …)
    assert len(ours) < len(findings)
