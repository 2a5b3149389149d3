"""Regular expressions from user configuration, compiled for a linear-time engine (RE2).

A backtracking engine can take exponential time on a pattern such as
``(a+)+$`` against a long run of ``a`` followed by a ``b`` (ReDoS), so a
pattern written in a config could hang a scan. RE2 matches in time linear in
the text, whatever the pattern; the price is that backreferences and
look-around are refused, at load time, with the reason.
"""

from __future__ import annotations

from typing import Any

#: Memory RE2 may use for one compiled pattern (its default is 8 MiB).
MAX_PROGRAM_BYTES = 32 << 20


class UserRegexError(ValueError):
    """A configured pattern RE2 cannot compile; the message says why (never any scanned text)."""


def compile_user_regex(pattern: str, *, ignore_case: bool = False) -> Any:
    """Compile ``pattern`` with RE2 (linear time), or raise :class:`UserRegexError`."""
    import re2

    options = re2.Options()
    options.log_errors = False
    options.max_mem = MAX_PROGRAM_BYTES
    options.case_sensitive = not ignore_case
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        detail = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise UserRegexError(
            f"pattern not supported by the linear-time engine RE2 ({detail}); "
            "backreferences and look-around are not available"
        ) from None
