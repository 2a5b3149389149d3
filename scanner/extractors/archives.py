"""Archives as containers: zip and tar (plain or behind gzip, bz2, xz, zstd); each member is read as its own units.

A member is handed to the extractor its name chooses, and its units carry the
object's ``uri`` and ``member``, the member's path inside the object. Members of
nested archives join the path of each container with ``!``
(``inner.zip!docs/a.txt`` inside ``s3://b/outer.zip``).

Nothing is written where a member's name points: members are read as streams
(a zip, which needs seeking, is first spooled to memory or an anonymous
temporary file, like PDFs). Links inside archives are never followed, special
files are not read, and names that would escape the archive (``../``, absolute
paths) are reported and not read. Resources are bounded per member and per
object:

* ``max_archive_depth`` — archive levels opened, the object counting as the first;
* ``max_archive_members`` — entries read from one object, at every depth;
* ``max_decompressed_bytes`` and ``max_compression_ratio`` — for each member, and
  for all members of the object together (against the object's size).

A member that hits a limit becomes a ``failed`` (or ``skipped``) row naming it;
a limit on the whole object stops reading it, and the object is partial.
"""

from __future__ import annotations

import dataclasses
import io
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from typing import IO, Any, BinaryIO, ClassVar, cast

from scanner.config import Limits
from scanner.errors import ExtractionError, IngestguardError, LimitExceededError, describe_exception
from scanner.extractors.base import CountingReader, ExtractContext, SkipObject, spool
from scanner.extractors.compression import RATIO_GRACE_BYTES, GuardedReader, decompress
from scanner.units import Unit, UnitProblem

#: Joins the paths of nested containers in a unit's ``member``.
MEMBER_SEPARATOR = "!"

#: Largest tar extended header (long name, pax record) read; larger ones are refused, not buffered.
MAX_TAR_HEADER_BYTES = 1 << 20

#: Largest zip central-directory entry assumed when bounding the directory size by ``max_archive_members``.
_CD_ENTRY_BYTES = 4096


class ArchiveLimitError(LimitExceededError):
    """A limit on the whole object (not one member) was hit: reading the archive stops."""


class _Budget:
    """What one object may still decompress and open, across all its members and depths."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0
        self.declared = 0
        self.members = 0
        self.basis: Callable[[], int] = lambda: 0
        self.exceeded: ArchiveLimitError | None = None

    def stop(self, limit: str, detail: str) -> None:
        self.exceeded = ArchiveLimitError(limit, detail)
        raise self.exceeded

    def add_bytes(self, n: int) -> None:
        self.total += n
        if self.total > self.limits.max_decompressed_bytes:
            self.stop(
                "max_decompressed_bytes", f"archive members larger than {self.limits.max_decompressed_bytes} bytes"
            )
        if self.total > RATIO_GRACE_BYTES and self.total / max(1, self.basis()) > self.limits.max_compression_ratio:
            self.stop("max_compression_ratio", f"archive expands more than {self.limits.max_compression_ratio:g} times")

    def declare(self, n: int) -> None:
        """Count the sizes an archive's directory declares for its members (zip): a bomb is refused before
        anything is decompressed. The declared size bounds the output (``ZipExtFile`` stops there)."""
        self.declared += n
        if self.declared > self.limits.max_decompressed_bytes:
            self.stop(
                "max_decompressed_bytes",
                f"archive members declare more than {self.limits.max_decompressed_bytes} bytes",
            )
        if (
            self.declared > RATIO_GRACE_BYTES
            and self.declared / max(1, self.basis()) > self.limits.max_compression_ratio
        ):
            self.stop(
                "max_compression_ratio",
                f"archive members declare more than {self.limits.max_compression_ratio:g} times its size",
            )

    def add_member(self) -> None:
        self.members += 1
        if self.members > self.limits.max_archive_members:
            self.stop("max_archive_members", f"more than {self.limits.max_archive_members} members")

    def check(self) -> None:
        """Re-raise a whole-object limit hit while a unit of ours was being read elsewhere."""
        if self.exceeded is not None:
            raise self.exceeded


def _member_stream(inner: IO[bytes], budget: _Budget, compressed_size: int | None = None) -> GuardedReader:
    """A member's bytes, counted against the member's limits and the whole object's budget.

    ``compressed_size`` is the member's size inside the archive when the archive compresses it: the output
    is held to ``max_compression_ratio`` times that.
    """
    return GuardedReader(
        inner,
        budget.limits,
        compressed=lambda: compressed_size,
        what="member",
        corrupt="corrupt archive member",
        on_read=budget.add_bytes,
    )


def _buffered(raw: io.RawIOBase) -> BinaryIO:
    return cast(BinaryIO, io.BufferedReader(raw, buffer_size=1 << 20))


def unsafe_name(name: str) -> bool:
    """A member name that would land outside the archive's directory if extracted."""
    normal = name.replace("\\", "/")
    if normal.startswith("/") or (len(normal) > 1 and normal[1] == ":"):
        return True
    return ".." in normal.split("/")


def _relocate(item: Unit | UnitProblem, path: str) -> Unit | UnitProblem:
    member = path if item.member is None else f"{path}{MEMBER_SEPARATOR}{item.member}"
    return dataclasses.replace(item, member=member)


class _Archive:
    """What zip and tar share: reading one member through the extractor its name chooses."""

    format: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]

    def extract(self, stream: BinaryIO, ctx: ExtractContext) -> Iterator[Unit | UnitProblem]:
        yield from self.members(stream, ctx, _Budget(ctx.limits), depth=1)

    def members(
        self, stream: BinaryIO, ctx: ExtractContext, budget: _Budget, *, depth: int
    ) -> Iterator[Unit | UnitProblem]:
        raise NotImplementedError

    def _problem(self, ctx: ExtractContext, name: str, status: str, reason: str, **extra: Any) -> UnitProblem:
        return UnitProblem(ctx.uri, self.format, status, reason, member=name, **extra)

    def _entry_problem(self, ctx: ExtractContext, name: str) -> UnitProblem | None:
        if unsafe_name(name):
            return self._problem(ctx, name, "skipped", "member path leaves the archive (absolute or '..'): not read")
        return None

    def _read_member(
        self, name: str, stream: BinaryIO, ctx: ExtractContext, budget: _Budget, depth: int
    ) -> Iterator[Unit | UnitProblem]:
        from scanner.extractors import choose

        choice = choose(name)
        if choice.extractor is None:
            yield self._problem(ctx, name, "skipped", f"unsupported format '{choice.label}'")
            return
        nested = issubclass(choice.extractor, _Archive)
        if nested and depth >= ctx.limits.max_archive_depth:
            yield self._problem(
                ctx,
                name,
                "skipped",
                f"limit max_archive_depth: archive nested more than {ctx.limits.max_archive_depth} levels not opened",
                limit="max_archive_depth",
            )
            return
        child = ExtractContext(uri=ctx.uri, format=choice.label, limits=ctx.limits, c2pa=ctx.c2pa)
        try:
            source = stream
            if choice.compression is not None:
                source = _buffered(_member_stream(decompress(choice.compression, stream, ctx.limits), budget))
            extractor = choice.extractor()
            items = (
                cast(_Archive, extractor).members(source, child, budget, depth=depth + 1)
                if nested
                else extractor.extract(source, child)
            )
            for item in items:
                yield _relocate(item, name)
                budget.check()
        except ArchiveLimitError:
            raise
        except SkipObject as exc:
            yield self._problem(ctx, name, "skipped", str(exc))
        except Exception as exc:
            yield self._problem(ctx, name, "failed", describe_exception(exc), limit=getattr(exc, "limit", None) or None)


class ZipExtractor(_Archive):
    """Zip archives: spooled (zip needs seeking), then each member streamed through ``ZipFile.open``."""

    format: ClassVar[str] = "zip"
    extensions: ClassVar[tuple[str, ...]] = (".zip",)

    def members(
        self, stream: BinaryIO, ctx: ExtractContext, budget: _Budget, *, depth: int
    ) -> Iterator[Unit | UnitProblem]:
        copy = spool(stream, limit=ctx.limits.max_document_bytes, limit_name="max_document_bytes")
        try:
            size = copy.seek(0, io.SEEK_END)
            copy.seek(0)
            if size == 0:
                raise SkipObject("empty file")
            if depth == 1:
                budget.basis = lambda: size
            self._check_directory(copy, ctx, budget)
            try:
                archive = zipfile.ZipFile(copy)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
                raise ExtractionError(f"not a readable zip archive: {describe_exception(exc)}") from exc
            with archive:
                for info in archive.infolist():
                    budget.add_member()
                    if info.is_dir():
                        continue
                    name = info.filename
                    problem = self._entry_problem(ctx, name) or self._zip_problem(ctx, info)
                    if problem is None:
                        budget.declare(info.file_size)
                    if problem is not None:
                        yield problem
                        continue
                    try:
                        raw = archive.open(info)
                    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, OSError) as exc:
                        yield self._problem(
                            ctx, name, "failed", f"unreadable archive member: {describe_exception(exc)}"
                        )
                        continue
                    with raw:
                        member = _buffered(
                            _member_stream(
                                raw, budget, None if info.compress_type == zipfile.ZIP_STORED else info.compress_size
                            )
                        )
                        yield from self._read_member(name, member, ctx, budget, depth)
        finally:
            if copy is not stream:
                copy.close()

    @staticmethod
    def _check_directory(copy: IO[bytes], ctx: ExtractContext, budget: _Budget) -> None:
        """Refuse a central directory too large for ``max_archive_members`` before ``ZipFile`` loads it whole."""
        end_record = getattr(zipfile, "_EndRecData", None)
        if end_record is None:
            return
        try:
            record = end_record(copy)
        except (OSError, ValueError, EOFError):
            record = None
        copy.seek(0)
        if record is None:
            raise ExtractionError("not a zip archive (no end of central directory)")
        entries, directory_bytes = int(record[4]), int(record[5])  # _ECD_ENTRIES_TOTAL, _ECD_SIZE
        room = ctx.limits.max_archive_members - budget.members
        if entries > room or directory_bytes > room * _CD_ENTRY_BYTES:
            budget.stop(
                "max_archive_members", f"zip directory lists more than {ctx.limits.max_archive_members} members"
            )

    def _zip_problem(self, ctx: ExtractContext, info: zipfile.ZipInfo) -> UnitProblem | None:
        mode = info.external_attr >> 16
        if info.create_system == 3 and (mode & 0o170000) == 0o120000:
            return self._problem(ctx, info.filename, "skipped", "symbolic link inside archive: not followed")
        if info.flag_bits & 0x1:
            return self._problem(ctx, info.filename, "failed", "encrypted archive member", size_bytes=info.file_size)
        limits = ctx.limits
        if info.file_size > limits.max_decompressed_bytes:
            return self._problem(
                ctx,
                info.filename,
                "failed",
                f"limit max_decompressed_bytes exceeded: member declares over {limits.max_decompressed_bytes} bytes",
                limit="max_decompressed_bytes",
            )
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > RATIO_GRACE_BYTES and ratio > limits.max_compression_ratio:
            return self._problem(
                ctx,
                info.filename,
                "failed",
                f"limit max_compression_ratio exceeded: member declares {ratio:.0f} times its compressed size",
                limit="max_compression_ratio",
            )
        return None


class _BoundedTarInfo(tarfile.TarInfo):
    """A tar header that refuses extended headers (long names, pax records) too large to buffer."""

    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        extended = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE, b"X")
        if self.type in extended and self.size > MAX_TAR_HEADER_BYTES:
            raise ExtractionError(f"corrupt tar archive: extended header of more than {MAX_TAR_HEADER_BYTES} bytes")
        result: tarfile.TarInfo = super()._proc_member(tarfile_)  # type: ignore[misc]
        return result


class TarExtractor(_Archive):
    """Tar archives, read as a stream (a compressed tar arrives already decompressed)."""

    format: ClassVar[str] = "tar"
    extensions: ClassVar[tuple[str, ...]] = (".tar",)

    def members(
        self, stream: BinaryIO, ctx: ExtractContext, budget: _Budget, *, depth: int
    ) -> Iterator[Unit | UnitProblem]:
        counted = CountingReader(stream, limit=None, limit_name="max_object_bytes")
        if depth == 1:
            budget.basis = lambda: counted.count
        try:
            archive = tarfile.open(  # noqa: SIM115 - closed by the `with` below
                fileobj=cast(IO[bytes], counted), mode="r|", tarinfo=_BoundedTarInfo
            )
        except IngestguardError:
            raise
        except (tarfile.TarError, EOFError, OSError) as exc:
            if counted.count == 0:
                raise SkipObject("empty file") from exc
            raise ExtractionError("not a tar archive") from exc
        with archive:
            while True:
                try:
                    info = archive.next()
                except IngestguardError:
                    raise
                except Exception as exc:
                    raise ExtractionError(f"corrupt tar archive: {describe_exception(exc)}") from exc
                if info is None:
                    return
                archive.members.clear()  # type: ignore[attr-defined]  # stream mode never looks back; keep memory flat over many members
                budget.add_member()
                if info.isdir():
                    continue
                name = info.name
                problem = self._entry_problem(ctx, name) or self._tar_problem(ctx, info)
                if problem is not None:
                    yield problem
                    continue
                raw = archive.extractfile(info)
                if raw is None:  # pragma: no cover - regular files always have data
                    continue
                member = _buffered(_member_stream(raw, budget))
                yield from self._read_member(name, member, ctx, budget, depth)

    def _tar_problem(self, ctx: ExtractContext, info: tarfile.TarInfo) -> UnitProblem | None:
        if info.issym():
            return self._problem(ctx, info.name, "skipped", "symbolic link inside archive: not followed")
        if info.islnk():
            return self._problem(ctx, info.name, "skipped", "hard link inside archive: not followed")
        if not info.isreg():
            return self._problem(ctx, info.name, "skipped", "special file inside archive (device, FIFO): not read")
        return None
