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
