"""A mixed corpus generated at test time, with the values it plants and the labels it expects.

Nothing sensitive-looking is committed: card numbers, SSNs, IBANs and tokens
are made fresh by Faker and checksum-valid generators on every run.
"""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import zstandard
from faker import Faker

HC, CONF, GEN = "Highly Confidential", "Confidential", "General"


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    digits = [int(d) for d in prefix] + [rng.randrange(10) for _ in range(length - len(prefix) - 1)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def card_number(rng: random.Random) -> str:
    n = luhn_complete("4", 16, rng)
    return " ".join(n[i : i + 4] for i in range(0, 16, 4))


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(101, 665) if a != 666])
    return f"{area:03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999):04d}"


def phone(rng: random.Random) -> str:
    return f"({rng.randint(201, 989)}) 555-01{rng.randint(10, 99)}"


@dataclass
class Corpus:
    root: Path
    #: (relative path, record index or None, member or None) → expected unit label
    expected: dict[tuple[str, int | None, str | None], str] = field(default_factory=dict)
    #: planted raw values → the entity type expected for them
    planted: dict[str, str] = field(default_factory=dict)

    def plant(self, value: str, entity: str) -> str:
        self.planted[value] = entity
        return value


def build(root: Path, seed: int = 7) -> Corpus:
    """Write one file of every supported format under ``root``."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    c = Corpus(root)
    root.mkdir(parents=True, exist_ok=True)

    email1 = c.plant(fake.unique.email(), "EMAIL_ADDRESS")
    tel = c.plant(phone(rng), "PHONE_NUMBER")
    (root / "notes.txt").write_text(f"Call {fake.name()} back at {tel} or write to {email1} about the invoice.\n")
    c.expected[("notes.txt", None, None)] = CONF

    (root / "docs").mkdir()
    (root / "docs" / "policy.md").write_text(
        "CONFIDENTIAL\n\n# Travel policy\n\nBook economy for flights under six hours.\n"
    )
    c.expected[("docs/policy.md", None, None)] = CONF
    (root / "docs" / "readme.md").write_text("# Widgets\n\nWidgets are assembled in three steps.\n")
    c.expected[("docs/readme.md", None, None)] = GEN

    card1 = c.plant(card_number(rng), "CREDIT_CARD")
    (root / "page.html").write_text(
        "<html><head><title>Pricing</title><style>.x{color:red}</style></head><body>"
        "<h1>Pricing</h1><p>Plans start at ten dollars.</p>"
        f'<div style="display:none">backup card {card1}</div></body></html>'
    )
    c.expected[("page.html", None, None)] = HC

    email2 = c.plant(fake.unique.email(), "EMAIL_ADDRESS")
    (root / "settings.json").write_text(json.dumps({"owner": {"contact": email2}, "retries": 3, "debug": False}))
    c.expected[("settings.json", None, None)] = CONF

    ssn1 = c.plant(ssn(rng), "US_SSN")
    email3 = c.plant(fake.unique.email(), "EMAIL_ADDRESS")
    rows = [
        {"ssn": ssn1, "note": "tax form update"},
        {"text": "The committee meets on the first floor."},
        {"user": {"email": email3}, "tags": ["a", "b"]},
    ]
    (root / "records.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    for i, label in enumerate([HC, GEN, CONF]):
        c.expected[("records.jsonl", i, None)] = label

    card2 = c.plant(card_number(rng), "CREDIT_CARD")
    gz_rows = [{"payment": {"card": card2}}, {"text": "Shipping takes three days."}]
    (root / "archive.jsonl.gz").write_bytes(gzip.compress(("\n".join(json.dumps(r) for r in gz_rows) + "\n").encode()))
    c.expected[("archive.jsonl.gz", 0, None)] = HC
    c.expected[("archive.jsonl.gz", 1, None)] = GEN

    iban = c.plant(fake.iban(), "IBAN_CODE")
    zst_rows = [{"iban": iban, "memo": "supplier payout"}, {"text": "Quarterly totals are attached."}]
    data = ("\n".join(json.dumps(r) for r in zst_rows) + "\n").encode()
    (root / "payouts.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
    c.expected[("payouts.jsonl.zst", 0, None)] = HC
    c.expected[("payouts.jsonl.zst", 1, None)] = GEN

    email4 = c.plant(fake.unique.email(), "EMAIL_ADDRESS")
    (root / "people.csv").write_text(f"id,email,notes\n1,{email4},vip\n2,,no contact on file\n")
    c.expected[("people.csv", 0, None)] = CONF
    c.expected[("people.csv", 1, None)] = GEN

    tel2 = c.plant(phone(rng), "PHONE_NUMBER")
    (root / "calls.tsv").write_text(f"id\tphone\n1\t{tel2}\n")
    c.expected[("calls.tsv", 0, None)] = CONF

    import pyarrow as pa
    import pyarrow.parquet as pq

    ssn2 = c.plant(ssn(rng), "US_SSN")
    email5 = c.plant(fake.unique.email(), "EMAIL_ADDRESS")
    table = pa.table({"ssn": [ssn2, None, None], "email": [None, None, email5], "comment": ["x", "plain words", "y"]})
    pq.write_table(table, root / "table.parquet")
    for i, label in enumerate([HC, GEN, CONF]):
        c.expected[("table.parquet", i, None)] = label

    email6 = c.plant(fake.unique.email(), "EMAIL_ADDRESS")
    _pdf(root / "brochure.pdf", ["Product brochure", f"Questions? Write to {email6}."])
    c.expected[("brochure.pdf", None, None)] = CONF

    card3 = c.plant(card_number(rng), "CREDIT_CARD")
    import docx

    d = docx.Document()
    d.add_paragraph("Expense claim")
    d.add_paragraph(f"Corporate card {card3} was used for the hotel.")
    d.save(str(root / "claim.docx"))
    c.expected[("claim.docx", None, None)] = HC

    sender = c.plant(fake.unique.email(), "EMAIL_ADDRESS")
    ssn3 = c.plant(ssn(rng), "US_SSN")
    msg = EmailMessage()
    msg["From"] = f"{fake.name()} <{sender}>"
    msg["To"] = "payroll@example.com"
    msg["Subject"] = "Form attached"
    msg["Date"] = "Tue, 03 Nov 2026 10:14:00 +0000"
    msg.set_content("Please find the form attached.")
    msg.add_attachment(f"Employee SSN: {ssn3}\n".encode(), maintype="text", subtype="plain", filename="form.txt")
    (root / "mail.eml").write_bytes(bytes(msg))
    c.expected[("mail.eml", None, None)] = CONF
    c.expected[("mail.eml", None, "attachment:form.txt")] = HC
    return c


def _pdf(path: Path, lines: list[str]) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    cv = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    y = 780
    for line in lines:
        cv.drawString(72, y, line)
        y -= 20
    cv.showPage()
    cv.save()
