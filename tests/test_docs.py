"""The README documents every CLI option, every exit code and every output column."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from scanner.cli import main
from scanner.sinks import TABLES

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_option_is_documented(name: str) -> None:
    command = main.commands[name]
    for param in command.params:
        if isinstance(param, click.Option):
            assert any(opt in README for opt in param.opts), f"{name} {param.opts} is not in the README"


def test_every_exit_code_is_documented() -> None:
    from scanner import cli

    codes = {v for k, v in vars(cli).items() if k.startswith("EXIT_")}
    table = set(int(m) for m in re.findall(r"^\| (\d+) \|", README, flags=re.M))
    assert codes <= table


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_output_column_is_documented(table: str) -> None:
    for field in TABLES[table]:
        assert f"`{field.name}`" in README, f"{table}.{field.name} is not in the README"


def _readme_default(text: str) -> float | None:
    text = text.strip().replace(",", "")
    if text == "none":
        return None
    number, _, unit = text.partition(" ")
    scale = {"": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "M": 1_000_000}[unit]
    return float(number) * scale


def test_every_limit_is_documented_with_its_default_and_the_guarantee() -> None:
    from scanner.config import Limits

    rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]+) \|", README, flags=re.M))
    for name, field in Limits.model_fields.items():
        assert name in rows, f"limit {name} is not in the README's limits table"
        default = field.default
        assert _readme_default(rows[name]) == (None if default is None else float(default)), name
    guarantee = "every object and every unit ends as `scanned`, `skipped` or\n`failed` with a reason"
    assert guarantee in README
