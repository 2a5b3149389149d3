"""One typed, validated configuration, loaded from ``configs/*.yaml``.

``--config DIR`` points at a directory holding any of ``scan.yaml``,
``classifiers.yaml`` and ``labels.yaml``; each is merged over the shipped file
of the same name (mappings key by key, lists replaced), so an override names
only what it changes. A bad value fails at load time with the file, the key
and what was expected.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from classifiers.settings import ClassifierSettings
from labels.rules import LabelPolicy
from scanner.errors import ConfigError


class Limits(BaseModel):
    """Resource limits per object; hitting one marks the object or unit with the limit's name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_document_bytes: int = Field(default=256 << 20, ge=1)
    max_object_bytes: int | None = Field(default=None, ge=1)
    max_decompressed_bytes: int = Field(default=16 << 30, ge=1)
    max_compression_ratio: float = Field(default=200, ge=1)
    max_record_bytes: int = Field(default=16 << 20, ge=1)
    max_records: int | None = Field(default=None, ge=1)
    max_archive_depth: int = Field(default=3, ge=1)
    max_archive_members: int = Field(default=10_000, ge=1)
    max_json_depth: int = Field(default=64, ge=1)
    max_pdf_pages: int = Field(default=5000, ge=1)
    max_unit_chars: int = Field(default=50_000_000, ge=1000)
    object_timeout_seconds: float = Field(default=900, gt=0)


class WritebackSettings(BaseModel):
    """Names of the tags (S3, Azure index tags), metadata (Azure) and sidecar keys carrying the label."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name_key: str = Field(default="SensitivityLabel", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
    id_key: str = Field(default="SensitivityLabelId", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class RaySettings(BaseModel):
    """Where and how the Ray engine runs (``engine: ray`` or ``--engine ray``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str | None = None  # None: a private local cluster; "auto", "ray://HOST:10001", "HOST:6379"
    actors: int = Field(default=0, ge=0)  # 0: as many as the cluster's CPUs allow
    cpus_per_actor: float = Field(default=1.0, gt=0)
    max_task_retries: int = Field(default=1, ge=0)


class ScanSettings(BaseModel):
    """Everything in ``configs/scan.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    engine: Literal["local", "serial", "ray"] = "local"
    workers: int = Field(default=0, ge=0)
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    fingerprint_key_file: Path = Path("~/.config/ingestguard/fingerprint.key")
    writeback: WritebackSettings = WritebackSettings()
    limits: Limits = Limits()
    ray: RaySettings = RaySettings()
    #: JSON Lines objects larger than this are split into shards of about this size, scanned in parallel
    #: (null: never). Rows are the same either way.
    shard_bytes: int | None = Field(default=64 << 20, ge=1024)
    #: The incremental state database (``scan --state`` overrides it): a path, ``file:///…`` or ``sqlite:///…``
    #: URL; null: every run scans everything.
    state: Path | None = None

    @field_validator("state", mode="before")
    @classmethod
    def _state(cls, value: object) -> object:
        from scanner.state import StateError, state_path

        if isinstance(value, str):
            try:
                return state_path(value)
            except StateError as exc:
                raise ValueError(str(exc)) from None
        return value


M = TypeVar("M", bound=BaseModel)

FILES = {"scan": "scan.yaml", "classifiers": "classifiers.yaml", "labels": "labels.yaml"}


@dataclass(frozen=True, slots=True)
class Settings:
    """The whole configuration of a scan, and where each part came from."""

    scan: ScanSettings
    classifiers: ClassifierSettings
    labels: LabelPolicy
    sources: dict[str, str]

    def with_profile(self, profile: str) -> Settings:
        """The same settings with another classifier profile (fast, balanced, thorough)."""
        classifiers = ClassifierSettings.model_validate({**self.classifiers.model_dump(), "profile": profile})
        return dataclasses.replace(self, classifiers=classifiers)


def _deep_merge(base: Any, override: Any) -> Any:
    """``override`` over ``base``: mappings merge key by key, anything else (lists too) is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{k: _deep_merge(base.get(k), v) for k, v in override.items()}}
    return override


def _read_yaml(name: str, config_dir: Path | None) -> tuple[Any, str]:
    """The shipped file, with the same-named file of ``config_dir`` merged over it."""
    shipped = yaml.safe_load(resources.files("configs").joinpath(name).read_text(encoding="utf-8")) or {}
    if config_dir is not None:
        candidate = config_dir / name
        if candidate.exists():
            try:
                override = yaml.safe_load(candidate.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise ConfigError(f"{candidate}: not valid YAML: {exc}") from exc
            if not isinstance(override, dict):
                raise ConfigError(f"{candidate}: expected a mapping at the top level")
            return _deep_merge(shipped, override), str(candidate)
    return shipped, f"<shipped>/configs/{name}"


def _validate(model: type[M], data: Any, source: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "<top>"
            problems.append(f"{source}: {where}: {err['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from None


def load_settings(config_dir: str | Path | None = None) -> Settings:
    """Load and validate the configuration from ``config_dir`` over the shipped defaults."""
    directory = Path(config_dir).expanduser() if config_dir is not None else None
    if directory is not None and not directory.is_dir():
        raise ConfigError(f"{directory}: configuration directory not found")
    parts: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, name in FILES.items():
        parts[key], sources[key] = _read_yaml(name, directory)
    return Settings(
        scan=_validate(ScanSettings, parts["scan"], sources["scan"]),
        classifiers=_validate(ClassifierSettings, parts["classifiers"], sources["classifiers"]),
        labels=_validate(LabelPolicy, parts["labels"], sources["labels"]),
        sources=sources,
    )
