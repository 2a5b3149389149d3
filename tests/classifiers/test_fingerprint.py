"""Fingerprints are keyed and normalised; masks never show more than four trailing digits."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from classifiers.fingerprint import KEY_ENV, Fingerprinter, load_or_create_key, mask


def test_fingerprint_depends_on_the_key_and_not_on_separators() -> None:
    a, b = Fingerprinter(b"a" * 32), Fingerprinter(b"b" * 32)
    assert a("CREDIT_CARD", "4111 1111 1111 1111") == a("CREDIT_CARD", "4111-1111-1111-1111")
    assert a("CREDIT_CARD", "4111 1111 1111 1111") != b("CREDIT_CARD", "4111 1111 1111 1111")
    assert a("EMAIL_ADDRESS", "Ann@Example.com") == a("EMAIL_ADDRESS", "ann@example.com")
    assert "key" not in repr(a) or "<key>" in repr(a)


def test_key_file_is_created_private_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    path = tmp_path / "cfg" / "fp.key"
    first = load_or_create_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_key(path) == first and len(first) >= 32


def test_environment_key_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "from-env-" + "x" * 32)
    assert load_or_create_key(tmp_path / "unused.key").startswith(b"from-env-")
    assert not (tmp_path / "unused.key").exists()


@given(st.text(min_size=1, max_size=80), st.sampled_from(["CREDIT_CARD", "PERSON", "SECRET_PASSWORD", "US_SSN"]))
def test_mask_never_reveals_more_than_four_alphanumerics(value: str, entity: str) -> None:
    masked = mask(entity, value)
    revealed = [ch for ch in masked if ch.isalnum()]
    # digits of a "(N)" length suffix aside, at most the last four characters survive
    body = masked.split("…(")[0]
    revealed = [ch for ch in body if ch.isalnum()]
    assert len(revealed) <= 4
    if entity.startswith("SECRET_") or entity == "PERSON":
        assert not revealed


def test_card_mask_keeps_last_four() -> None:
    assert mask("CREDIT_CARD", "4111 1111 1111 1234") == "**** **** **** 1234"
    assert mask("US_SSN", "123-45-6789") == "***-**-****"


def _normalise_reference(value: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKC", value).casefold()
    return "".join(ch for ch in folded if ch.isalnum() or ch in "@.")


@given(st.one_of(st.text(alphabet=st.characters(max_codepoint=127)), st.text()))
def test_normalise_ascii_shortcut_folds_exactly_as_nfkc_and_casefold(value: str) -> None:
    # Fingerprints must not change between versions: stored ones are matched across runs.
    from classifiers.fingerprint import normalise

    assert normalise(value) == _normalise_reference(value)
