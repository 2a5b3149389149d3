"""Plain text and Markdown: the whole file is one unit, streamed in chunks when large."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from scanner.extractors.base import ExtractContext, SkipObject, decode_document, iter_text_chunks, read_all
from scanner.units import LazyText, Unit, UnitProblem, sha256_hex

#: Files up to this size are decoded at once; larger ones stream through a LazyText.
IN_MEMORY_BYTES = 8 << 20


class TextExtractor:
    format: ClassVar[str] = "text"
    extensions: ClassVar[tuple[str, ...]] = (".txt", ".text", ".log", ".rst", ".tex")

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        head = stream.read(IN_MEMORY_BYTES + 1)
        if not head:
            raise SkipObject("empty file")
        if len(head) <= IN_MEMORY_BYTES:
            text = decode_document(head)
            partial = None
            if len(text) > ctx.limits.max_unit_chars:
                text = text[: ctx.limits.max_unit_chars]
                partial = f"limit max_unit_chars: text cut at {ctx.limits.max_unit_chars} characters"
            yield Unit(ctx.uri, self.format, text, sha256_hex(head), len(head), partial=partial)
            return
        yield Unit(ctx.uri, self.format, _lazy(head, stream, ctx), None, 0)


class MarkdownExtractor(TextExtractor):
    format: ClassVar[str] = "markdown"
    extensions: ClassVar[tuple[str, ...]] = (".md", ".markdown", ".mdx")


def _lazy(head: bytes, stream: BinaryIO, ctx: ExtractContext) -> LazyText:
    import hashlib

    def chunks(lazy: LazyText) -> Iterator[str]:
        digest = hashlib.sha256()
        size = 0
        first = True

        class _Tee:
            def read(self, n: int = -1) -> bytes:
                nonlocal first, size
                if first:
                    first = False
                    data = head
                else:
                    data = stream.read(n)
                digest.update(data)
                size += len(data)
                return data

        emitted = 0
        for text in iter_text_chunks(_Tee(), chunk_bytes=len(head)):  # type: ignore[arg-type]
            room = ctx.limits.max_unit_chars - emitted
            if len(text) > room:
                yield text[:room]
                lazy.partial = f"limit max_unit_chars: text cut at {ctx.limits.max_unit_chars} characters"
                break
            emitted += len(text)
            yield text
        else:
            lazy.sha256 = digest.hexdigest()
        lazy.size_bytes = size

    return LazyText(chunks)


def read_small_text(stream: BinaryIO, ctx: ExtractContext) -> tuple[str, bytes]:
    """Read and decode a whole small text document (JSON, HTML sources)."""
    data = read_all(stream, limit=ctx.limits.max_document_bytes, limit_name="max_document_bytes")
    if not data.strip():
        raise SkipObject("empty file")
    return decode_document(data), data
