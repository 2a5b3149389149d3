"""The leak test: a scan over planted raw values must not write any of them anywhere.

The corpus plants Faker names and e-mail addresses, checksum-valid card
numbers and SSNs, and AWS-style keys, in readable objects and in objects built
to fail (an invalid JSON line holding a card number, an over-long CSV row, a
corrupt PDF, bytes that are not UTF-8 next to an SSN), so that an error message
quoting its input would show up. The CLI runs with ``-vv``; every output file
(Parquet read back and dumped as text), stdout and stderr are searched.
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
from email.message import EmailMessage
from pathlib import Path

import pyarrow.parquet as pq
from faker import Faker

from tests.conftest import TEST_KEY
from tests.corpus import card_number, ssn


def _aws_key(rng: random.Random) -> tuple[str, str]:
    key_id = "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    secret = "".join(rng.choice(string.ascii_letters + string.digits + "/+") for _ in range(40))
    return key_id, secret


def _plant(root: Path) -> list[str]:
    fake = Faker("en_US")
    fake.seed_instance(99)
    rng = random.Random(99)
    root.mkdir(parents=True)
    cards = [card_number(rng) for _ in range(5)]
    ssns = [ssn(rng) for _ in range(5)]
    emails = [fake.unique.email() for _ in range(4)]
    names = [fake.unique.name() for _ in range(3)]
    key_id, secret = _aws_key(rng)
    planted = [*cards, *ssns, *emails, *names, key_id, secret]

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


def test_no_planted_value_appears_in_any_output_log_or_error(tmp_path: Path) -> None:
    planted = _plant(tmp_path / "corpus")
    config = tmp_path / "config"
    config.mkdir()
    (config / "scan.yaml").write_text("limits:\n  max_record_bytes: 300\n  max_json_depth: 3\n")
    out = tmp_path / "out"
    env = {"INGESTGUARD_FINGERPRINT_KEY": TEST_KEY, "HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    options = ["--out", str(out), "--config", str(config), "--workers", "2", "--profile", "fast"]
    result = subprocess.run(
        [sys.executable, "-m", "scanner.cli", "-vv", "scan", str(tmp_path / "corpus"), *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 1, result.stderr[-2000:]  # some objects and records fail, on purpose
    objects = {r["uri"].rsplit("/", 1)[-1]: r for r in pq.read_table(out / "objects.parquet").to_pylist()}
    assert objects["broken.pdf"]["status"] == "failed" and objects["bad-utf8.txt"]["status"] == "failed"
    docs = pq.read_table(out / "documents.parquet").to_pylist()
    assert any(d["status"] == "failed" and "invalid JSON" in (d["reason"] or "") for d in docs)
    assert sum(f["entity_type"] == "US_SSN" for f in pq.read_table(out / "findings.parquet").to_pylist()) >= 2
    haystacks = {"outputs": _dump(out), "stdout": result.stdout, "stderr": result.stderr}
    assert "DEBUG" in result.stderr or "INFO" in result.stderr or result.stderr  # verbose logging was on
    for value in planted:
        digits = "".join(ch for ch in value if ch.isalnum())
        for where, text in haystacks.items():
            assert value not in text, f"a planted value ({len(value)} chars) leaked into {where}"
            if len(digits) >= 9 and digits.isdigit():
                squeezed = "".join(ch for ch in text if ch.isalnum())
                assert digits not in squeezed, f"a planted number leaked into {where} (separators removed)"
