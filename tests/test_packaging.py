"""A wheel built from the repo carries the packages and the shipped configs, and its CLI starts."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_packages_and_configs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if result.returncode != 0 and "hatchling" in (result.stderr + result.stdout):
        result = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(ROOT)],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    [wheel] = tmp_path.glob("ingestguard-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "configs/labels.yaml",
        "configs/classifiers.yaml",
        "configs/scan.yaml",
        "scanner/cli.py",
        "classifiers/pii.py",
        "connectors/local.py",
        "labels/rules.py",
        "scanner/py.typed",
        "scanner/templates/report.html.j2",
    ):
        assert required in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "ingestguard = scanner.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_cli_help_lists_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "scanner.cli", "scan", "--help"], capture_output=True, text=True, check=True
    )
    for option in ("--out", "--config", "--workers", "--quiet", "--include", "--exclude"):
        assert option in out.stdout
