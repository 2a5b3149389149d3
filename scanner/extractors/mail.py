"""E-mail (.eml): headers and body as one unit; each text attachment as a member unit."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import MIMEPart
from typing import BinaryIO, ClassVar

from scanner.errors import ExtractionError
from scanner.extractors.base import ExtractContext, SkipObject, decode_document, read_all
from scanner.extractors.mip import label_from_properties, parse_msip_header
from scanner.units import Unit, UnitProblem, join_fields, sha256_hex

_HEADERS = ("from", "to", "cc", "bcc", "reply-to", "subject", "date")
_TEXT_ATTACHMENT_TYPES = {"text/plain", "text/csv", "text/markdown", "text/html", "application/json"}


def _html_to_text(html: str) -> str:
    import lxml.html

    return lxml.html.document_fromstring(html).text_content() if html.strip() else ""


def _header(msg: email.message.EmailMessage, name: str) -> str | None:
    """A header's value as the default policy reads it, or as it stands in the message when that
    parser fails on it (``email``'s address parser raises IndexError on some malformed addresses):
    the header is still scanned, undecoded."""
    try:
        value = msg.get(name)
        return str(value) if value else None
    except Exception:
        raw = next((v for k, v in msg.raw_items() if k.lower() == name), None)
        return str(raw) if raw else None


class EmlExtractor:
    format: ClassVar[str] = "eml"
    extensions: ClassVar[tuple[str, ...]] = (".eml",)

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        raw = read_all(stream, limit=ctx.limits.max_document_bytes, limit_name="max_document_bytes")
        if not raw.strip():
            raise SkipObject("empty file")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        values = {h: _header(msg, h) for h in (*_HEADERS, "message-id")}  # each header parsed once
        if not any(values[h] for h in ("from", "to", "subject", "date", "message-id")):
            raise ExtractionError("not an e-mail message (no From/To/Subject/Date/Message-ID header)")
        fields: list[tuple[str, str]] = [(h, value) for h in _HEADERS if (value := values[h])]
        try:
            body = msg.get_body(preferencelist=("plain", "html"))
        except Exception as exc:  # the stdlib's MIME structure parsing on a malformed message
            raise ExtractionError(f"corrupt e-mail message: {type(exc).__name__}") from exc
        if body is not None:
            content = self._part_text(body)
            if content:
                fields.append(("body", content))
        text, spans = join_fields(fields)
        msip = _header(msg, "msip_labels")
        existing = label_from_properties(parse_msip_header(str(msip)), "msip_labels") if msip else None
        yield Unit(ctx.uri, self.format, text, sha256_hex(raw), len(raw), fields=spans, existing_label=existing)
        try:
            attachments = list(msg.iter_attachments())
        except Exception as exc:  # the MIME structure of a malformed message: its text is in already
            yield UnitProblem(ctx.uri, self.format, "failed", f"attachments not readable: {type(exc).__name__}")
            return
        for i, part in enumerate(attachments):
            name = part.get_filename() or f"attachment-{i}"
            member = f"attachment:{name}"
            ctype = part.get_content_type()
            if ctype not in _TEXT_ATTACHMENT_TYPES:
                yield UnitProblem(
                    ctx.uri, self.format, "skipped", f"attachment type {ctype} not extracted", member=member
                )
                continue
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            try:
                content = decode_document(data) if data else ""
                if ctype == "text/html":
                    content = _html_to_text(content)
            except (ExtractionError, SkipObject) as exc:
                yield UnitProblem(
                    ctx.uri, self.format, "failed", f"attachment: {exc}", member=member, size_bytes=len(data)
                )
                continue
            yield Unit(ctx.uri, ctype.split("/")[-1], content, sha256_hex(data), len(data), member=member)

    @staticmethod
    def _part_text(part: MIMEPart) -> str:
        try:
            content = part.get_content()
        except (LookupError, ValueError):  # unknown charset, bad transfer encoding
            payload = part.get_payload(decode=True)
            content = decode_document(payload) if isinstance(payload, bytes) and payload else ""
        if not isinstance(content, str):
            return ""
        return _html_to_text(content) if part.get_content_type() == "text/html" else content


class MsgExtractor:
    """Outlook ``.msg`` is recognised but not read: the maintained reader (extract-msg) is GPL-3.0,
    which does not combine with this Apache-2.0 project. Each file is skipped with that reason."""

    format: ClassVar[str] = "msg"
    extensions: ClassVar[tuple[str, ...]] = (".msg",)

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        raise SkipObject("Outlook .msg is not supported (its maintained reader is GPL-3.0); save the message as .eml")
