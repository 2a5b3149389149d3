"""Hostile inputs, generated at test time (nothing of the kind is committed).

Each builder writes one file (or link) and returns its path. Large inputs cost
little disk: a 1 GiB line is one compressed 1 MiB block repeated as gzip
members, a bomb is a few kilobytes.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import tarfile
import zipfile
from pathlib import Path

MIB = 1 << 20


def moderate_block(size: int = MIB) -> bytes:
    """Text that compresses about 90:1 — below the ratio guard, so only size limits can stop it."""
    parts: list[str] = []
    total = 0
    i = 0
    while total < size:
        piece = f"{(i * 2654435761) % (1 << 32):08x}{'a' * 1000}"
        parts.append(piece)
        total += len(piece)
        i += 1
    return "".join(parts)[:size].encode()


def repeated_gzip(path: Path, *, head: bytes, block: bytes, repeat: int, tail: bytes) -> Path:
    """``head + block * repeat + tail`` as concatenated gzip members (block compressed once)."""
    packed = gzip.compress(block, compresslevel=6)
    with path.open("wb") as fh:
        fh.write(gzip.compress(head))
        for _ in range(repeat):
            fh.write(packed)
        fh.write(gzip.compress(tail))
    return path


def gzip_bomb(path: Path, *, gib: int = 2) -> Path:
    """Spaces at about 1000:1, ``gib`` GiB of them (a text file behind gzip)."""
    return repeated_gzip(path, head=b"", block=b" " * (16 * MIB), repeat=gib * 64, tail=b"\n")


def zip_bytes(entries: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def nested_zip_bomb(path: Path, *, fanout: int = 16, levels: int = 3, leaf_mib: int = 64) -> Path:
    """A 42.zip-style bomb: ``levels`` of zips, ``fanout`` copies of the level below in each; every
    innermost zip holds one ``leaf_mib`` MiB page of spaces (16 * 16 * 64 MiB = 16 GiB by default)."""
    data = zip_bytes({"page.txt": b" " * (leaf_mib * MIB)})
    for level in range(levels - 1):
        data = zip_bytes({f"l{level}-{i}.zip": data for i in range(fanout)})
    path.write_bytes(data)
    return path


def high_ratio_zip(path: Path, *, mib: int = 256) -> Path:
    """One member of ``mib`` MiB of spaces (about 1000:1), written in pieces."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("huge.txt", "w", force_zip64=True) as member:
        chunk = b" " * (16 * MIB)
        for _ in range(mib // 16):
            member.write(chunk)
    return path


def zip_with_traversal(path: Path) -> Path:
    path.write_bytes(
        zip_bytes({"../../escape.txt": b"written nowhere", "/etc/cron.d/x": b"nor here", "ok.txt": b"fine"})
    )
    return path


def zip_with_symlink(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        link = zipfile.ZipInfo("passwd")
        link.create_system = 3
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("note.txt", "a plain note")
    return path


def encrypted_zip(path: Path) -> Path:
    """A zip whose member is marked encrypted (general-purpose bit 0), as a password-protected one is.

    The standard library cannot write ZipCrypto, so the bit is set in both headers of a stored member;
    a reader sees exactly what an encrypted member shows it.
    """
    raw = bytearray(zip_bytes({"secret.txt": b"\x8a\x11" * 20}, method=zipfile.ZIP_STORED))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.find(signature)
        (flags,) = struct.unpack_from("<H", raw, at + offset)
        struct.pack_into("<H", raw, at + offset, flags | 0x1)
    path.write_bytes(bytes(raw))
    return path


def tar_with_links(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        data = b"INTERNAL USE ONLY\n"
        info = tarfile.TarInfo("docs/memo.md")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
        for name, kind, target in (("sym", tarfile.SYMTYPE, "/etc/shadow"), ("hard", tarfile.LNKTYPE, "docs/memo.md")):
            link = tarfile.TarInfo(name)
            link.type = kind
            link.linkname = target
            tf.addfile(link)
        fifo = tarfile.TarInfo("pipe")
        fifo.type = tarfile.FIFOTYPE
        tf.addfile(fifo)
    return path


def pdf_bytes(text: str = "Quarterly report") -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def encrypted_pdf(path: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf_bytes())).pages:
        writer.add_page(page)
    writer.encrypt(user_password="open sesame", owner_password="owner", algorithm="AES-128")
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def cyclic_pdf(path: Path) -> Path:
    """A page tree whose /Kids point back at their parent, and an object that is a reference to itself."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 1 /Parent 2 0 R /Resources 4 0 R >>",
        b"4 0 R",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def write_hostile_corpus(root: Path) -> dict[str, Path]:
    """Every hostile input of issue #9 under ``root``; returns name → path."""
    root.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        (root / name).write_bytes(data)
        made[name] = root / name

    made["bomb42.zip"] = nested_zip_bomb(root / "bomb42.zip")
    made["ratio.zip"] = high_ratio_zip(root / "ratio.zip")
    made["bomb.txt.gz"] = gzip_bomb(root / "bomb.txt.gz")
    pdf = pdf_bytes()
    put("truncated.pdf", pdf[: len(pdf) // 2])
    made["encrypted.pdf"] = encrypted_pdf(root / "encrypted.pdf")
    made["cyclic.pdf"] = cyclic_pdf(root / "cyclic.pdf")
    put("notazip.docx", b"This is plain text pretending to be a Word document.\n" * 20)
    made["longline.jsonl.gz"] = repeated_gzip(
        root / "longline.jsonl.gz", head=b'{"t": "', block=moderate_block(), repeat=1024, tail=b'"}\n{"ok": "next"}\n'
    )
    put("deep.json", b"[" * 10_000 + b"]" * 10_000)
    put("deep.jsonl", b'{"a": ' * 10_000 + b"1" + b"}" * 10_000 + b'\n{"ok": 1}\n')
    made["bigfield.csv.gz"] = repeated_gzip(
        root / "bigfield.csv.gz", head=b'id,notes\n1,"', block=moderate_block(), repeat=100, tail=b'"\n2,short\n'
    )
    text = "Meeting notes: the budget review moves to Thursday.\n" * 20
    put("utf16-bom.txt", text.encode("utf-16"))
    put("utf16-nobom.txt", text.encode("utf-16-le"))
    put("invalid-utf8.txt", "Grüße aus München ".encode() * 20 + b"\xff\xfe\xc3\x28 tail")
    put("binary.txt", bytes(range(256)) * 64)
    put("empty.txt", b"")
    put("vanishing.txt", b"this file is deleted after it is listed\n")
    made["unreadable.txt"] = _unreadable(root / "unreadable.txt")
    os.symlink(root / "loop-b", root / "loop-a")
    os.symlink(root / "loop-a", root / "loop-b")
    made["loop-a"], made["loop-b"] = root / "loop-a", root / "loop-b"
    made["traversal.zip"] = zip_with_traversal(root / "traversal.zip")
    made["symlink.zip"] = zip_with_symlink(root / "symlink.zip")
    made["encrypted.zip"] = encrypted_zip(root / "encrypted.zip")
    made["links.tar.gz"] = tar_with_links(root / "links.tar.gz")
    return made


def _unreadable(path: Path) -> Path:
    """A file that cannot be read. Unprivileged: mode 000. As root (which reads anything), a link to
    ``/proc/self/mem``: a regular file whose first byte lies in unmapped memory, so reading it fails (EIO)."""
    if os.geteuid() != 0:
        path.write_bytes(b"you cannot read me\n")
        path.chmod(0)
    else:
        os.symlink("/proc/self/mem", path)
    return path
