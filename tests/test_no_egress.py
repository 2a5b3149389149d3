"""No egress: a whole CLI scan (local engine, two worker processes) reaches nothing beyond this host.

The suite's autouse guard covers the test process only, and ``unshare -n``
(``test_cli_e2e``) needs privileges not every runner has. Here a
``sitecustomize`` module on ``PYTHONPATH`` guards *every* interpreter the scan
starts — the CLI and each spawned worker — before any of our code runs: a
connection to anything but loopback or a Unix socket is refused, and every
attempt (and every name lookup for a host that is not local) is logged to a
file that must stay empty. Each guarded process also signs in, so the test
knows the workers were guarded too; a probe checks the guard does catch an
attempt.

The corpus invites reaching out: HTML with remote images, scripts, styles and
frames, Markdown images, a PDF with a link annotation, a DOCX whose XML
declares an external entity and DTD, an e-mail with a remote image, and text
full of e-mail addresses and URLs (whose validation asks the public-suffix list).
Nothing may be downloaded either: tldextract's cache stays unwritten (its bundled
snapshot is used) and the spaCy model is an installed package.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pyarrow.parquet as pq

from classifiers.settings import NerSettings
from tests.conftest import TEST_KEY

SITECUSTOMIZE = '''
"""Test-only network guard, loaded by every Python process started with this directory on PYTHONPATH."""
import os
import socket

_LOG = os.environ.get("INGESTGUARD_TEST_EGRESS_LOG")
if _LOG:
    with open(_LOG + ".pids", "a") as fh:
        fh.write(f"{os.getpid()}\\n")
    _LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "", None}

    def _note(what, target):
        with open(_LOG, "a") as fh:
            fh.write(f"{os.getpid()} {what} {target!r}\\n")

    def _local(sock, address):
        if sock.family == getattr(socket, "AF_UNIX", None):
            return True
        host = address[0] if isinstance(address, tuple) else address
        return isinstance(host, str) and (host.startswith("127.") or host in ("::1", "localhost"))

    _connect, _connect_ex, _sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto
    _getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if not _local(self, address):
            _note("connect", address)
            raise ConnectionRefusedError("egress refused by the test guard")
        return _connect(self, address)

    def connect_ex(self, address):
        if not _local(self, address):
            _note("connect_ex", address)
            return 111
        return _connect_ex(self, address)

    def sendto(self, data, *args):
        address = args[-1]
        if not _local(self, address):
            _note("sendto", address)
            raise ConnectionRefusedError("egress refused by the test guard")
        return _sendto(self, data, *args)

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in _LOCAL_NAMES and not str(name).startswith("127."):
            _note("getaddrinfo", name)
            raise socket.gaierror("name lookup refused by the test guard")
        return _getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto = connect, connect_ex, sendto
    socket.getaddrinfo = getaddrinfo
'''

XXE_DOCUMENT = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE w:document SYSTEM "http://dtd.egress-probe.example/doc.dtd" [
  <!ENTITY remote SYSTEM "http://xxe.egress-probe.example/secret.txt">
]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>Quarterly note &remote; for the board.</w:t></w:r></w:p></w:body>
</w:document>"""

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml"
 ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>"""

RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Target="word/document.xml"
 Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>
<Relationship Id="rId2" Target="http://rels.egress-probe.example/x" TargetMode="External"
 Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"/>
</Relationships>"""


def _corpus(root: Path) -> None:
    root.mkdir()
    probe = "egress-probe.example"
    (root / "page.html").write_text(
        f"""<!doctype html><html><head>
        <link rel="stylesheet" href="https://css.{probe}/s.css"><script src="https://js.{probe}/a.js"></script>
        <style>@import url("https://import.{probe}/x.css"); body {{ background: url(https://bg.{probe}/b.png) }}</style>
        </head><body><h1>Contact</h1><img src="https://img.{probe}/pixel.gif?u=1">
        <iframe src="https://frame.{probe}/"></iframe><object data="https://obj.{probe}/o.swf"></object>
        <p>Write to ann.lee@{probe} or see https://www.{probe}/about and <a href="http://{probe}/x">this</a>.</p>
        </body></html>"""
    )
    (root / "notes.md").write_text(
        f"# Notes\n\n![logo](https://md.{probe}/logo.png?d=QUJDREVGR0hJSktMTU5PUFFS)\n\n"
        f"Mail bob@{probe}, carol@mail.co.uk or visit www.example.org; call +1 415 555 0142.\n"
    )
    (root / "emails.txt").write_text(
        "\n".join(f"user{i}@host{i}.{tld}" for i, tld in enumerate(["com", "io", "co.jp", "xyz", "museum"])) + "\n"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        zf.writestr("word/document.xml", XXE_DOCUMENT)
    (root / "xxe.docx").write_bytes(buf.getvalue())
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(root / "linked.pdf"))
    pdf.drawString(72, 720, f"Invoice for Jane Roe, jane.roe@{probe}, see https://pdf.{probe}/inv")
    pdf.linkURL(f"https://annot.{probe}/track", (72, 700, 300, 730))
    pdf.save()
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = f"a@{probe}", f"b@{probe}", "Report"
    msg.set_content("See the attached report.")
    msg.add_alternative(f'<p>Report <img src="https://mail.{probe}/open.gif"></p>', subtype="html")
    (root / "mail.eml").write_bytes(msg.as_bytes())


def _guarded_env(tmp_path: Path, log: Path) -> dict[str, str]:
    guard = tmp_path / "guard"
    guard.mkdir(exist_ok=True)
    (guard / "sitecustomize.py").write_text(SITECUSTOMIZE)
    repo = Path(__file__).resolve().parents[1]
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "XDG_CACHE_HOME": str(tmp_path / "home" / ".cache"),
        "PYTHONPATH": os.pathsep.join([str(guard), str(repo)]),
        "INGESTGUARD_FINGERPRINT_KEY": TEST_KEY,
        "INGESTGUARD_TEST_EGRESS_LOG": str(log),
    }


def test_the_guard_catches_an_attempt(tmp_path: Path) -> None:
    log = tmp_path / "egress.log"
    probe = (
        "import socket, contextlib\n"
        "with contextlib.suppress(OSError):\n socket.socket().connect(('192.0.2.1', 443))\n"
        "with contextlib.suppress(OSError):\n socket.getaddrinfo('pypi.org', 443)\n"
        "udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "with contextlib.suppress(OSError):\n udp.sendto(b'x', ('9.9.9.9', 53))\n"
    )
    env = _guarded_env(tmp_path, log)
    subprocess.run([sys.executable, "-c", probe], env=env, check=True, timeout=60)
    attempts = log.read_text()
    assert "connect ('192.0.2.1', 443)" in attempts
    assert "getaddrinfo 'pypi.org'" in attempts and "sendto ('9.9.9.9', 53)" in attempts


def test_a_whole_scan_makes_no_network_call_in_any_process(tmp_path: Path) -> None:
    corpus, out, log = tmp_path / "corpus", tmp_path / "out", tmp_path / "egress.log"
    _corpus(corpus)
    env = _guarded_env(tmp_path, log)
    args = ["-v", "scan", str(corpus), "--out", str(out), "--workers", "2", "--engine", "local"]
    args += ["--profile", "thorough", "--state", str(tmp_path / "state.db")]
    result = subprocess.run(
        [sys.executable, "-m", "scanner.cli", *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode in (0, 1), result.stderr[-3000:]
    objects = {r["uri"].rsplit("/", 1)[-1]: r for r in pq.read_table(out / "objects.parquet").to_pylist()}
    assert set(objects) == {"page.html", "notes.md", "emails.txt", "xxe.docx", "linked.pdf", "mail.eml"}
    assert all(o["status"] in ("scanned", "failed") for o in objects.values()), objects
    assert objects["page.html"]["status"] == objects["linked.pdf"]["status"] == "scanned"
    findings = pq.read_table(out / "findings.parquet").to_pylist()
    assert any(f["entity_type"] == "EMAIL_ADDRESS" for f in findings)  # the public-suffix list was consulted
    # every process was guarded: the CLI and both workers signed in (more if a worker was replaced)
    pids = set(Path(f"{log}.pids").read_text().split())
    assert len(pids) >= 3, pids
    attempts = log.read_text() if log.exists() else ""
    assert attempts == "", f"network attempts during a local scan:\n{attempts}"
    # nothing downloaded: tldextract wrote no cache (its bundled snapshot served) and no model was fetched
    home = tmp_path / "home"
    written = [str(p.relative_to(home)) for p in home.rglob("*") if p.is_file()] if home.exists() else []
    assert not [p for p in written if "tldextract" in p or "spacy" in p.lower()], written


def test_the_spacy_model_is_an_installed_package() -> None:
    import spacy.util

    model = NerSettings().spacy_model
    assert spacy.util.is_package(model), f"{model} must be installed, never downloaded at run time"
