"""describe_exception: the text of a third-party error shown in rows and logs carries no content."""

from __future__ import annotations

import gzip
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner.config import Limits
from scanner.errors import ExtractionError, describe_exception
from scanner.extractors.compression import decompress


@given(st.binary(min_size=2, max_size=40).filter(lambda b: not b.startswith(b"\x1f\x8b")))
def test_a_file_that_is_not_gzip_is_named_without_its_first_bytes(data: bytes) -> None:
    with pytest.raises(ExtractionError) as info:
        decompress("gzip", io.BytesIO(data), Limits()).read()
    message = str(info.value)
    assert message.startswith("corrupt compressed stream: BadGzipFile")
    assert repr(data[:2]) not in message  # gzip itself says "Not a gzipped file (b'..')"


def test_unicode_errors_keep_the_position_not_the_character() -> None:
    with pytest.raises(UnicodeEncodeError) as info:
        "Müller".encode("ascii")
    text = describe_exception(info.value)
    assert text == "UnicodeEncodeError: position 1: ordinal not in range(128)" and "ü" not in text


def test_errors_of_unknown_libraries_keep_only_their_type() -> None:
    class LeakyError(Exception):
        pass

    text = describe_exception(LeakyError("token=ghp_0123456789"))
    assert text.endswith(".LeakyError") and "0123" not in text
    assert "0123" not in describe_exception(gzip.BadGzipFile("Not a gzipped file (b'01')"))
