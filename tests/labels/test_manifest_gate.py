"""The access manifest and the pre-ingest gate: decisions, signatures, content binding, redaction."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from labels.consumers import load_consumers
from labels.gate import Gate
from labels.manifest import build
from labels.signing import SignatureError, generate_keys, load_private_key
from scanner.config import Settings, load_settings
from scanner.driver import scan
from scanner.errors import ConfigError
from tests.test_cli_e2e import run_cli

EMAIL = "maria.gonzalez@example.org"
CONSUMERS = """
consumers:
  - {id: general-agent, kind: agent, purposes: [rag], max_label: General}
  - {id: redactor, kind: rag_index, purposes: [rag], max_label: Confidential,
     redact_entities: [EMAIL_ADDRESS], deny_entities: [US_SSN]}
  - {id: scoped, kind: model, purposes: [fine_tuning], max_label: Highly Confidential,
     sources: ["file:///**/approved/**"]}
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("gate")
    src = base / "src"
    (src / "approved").mkdir(parents=True)
    (src / "public.txt").write_text("Our office opens at nine.\n")
    (src / "contact.txt").write_text(f"Write to {EMAIL} for refunds.\n")
    (src / "hr.txt").write_text("Employee SSN: 536-22-8174\n")
    (src / "approved" / "ok.txt").write_text("Approved training text about gardening.\n")
    (src / "broken.pdf").write_bytes(b"%PDF-1.7 not really")
    results = base / "results"
    scan([str(src)], results, settings=settings, engine="serial")
    private, public = generate_keys(base / "keys")
    (base / "consumers.yaml").write_text(CONSUMERS)
    policy = load_consumers(base / "consumers.yaml", label_names=settings.labels.taxonomy.names())
    manifest = base / "manifest"
    build(results, policy, settings.labels.taxonomy, manifest, private_key=load_private_key(private), tool_version="t")
    gate = Gate.load(manifest, public, policy=policy)
    return {
        "base": base,
        "src": src,
        "results": results,
        "private": private,
        "public": public,
        "policy": policy,
        "manifest": manifest,
        "gate": gate,
    }


def test_clearance_and_defaults(world: dict[str, Any]) -> None:
    gate, src = world["gate"], world["src"]
    contact = gate.check("general-agent", path=src / "contact.txt")
    assert contact.decision == "deny" and "label_above_clearance" in contact.reasons and contact.label == "Confidential"
    assert gate.check("general-agent", path=src / "public.txt").decision == "allow"
    failed = gate.check("redactor", path=src / "broken.pdf")
    assert failed.decision == "deny" and "scan_failed" in failed.reasons
    assert gate.check("nobody", path=src / "public.txt").reasons == ("unknown_consumer",)


def test_redacting_consumer_gets_redacted_text(world: dict[str, Any]) -> None:
    gate, src = world["gate"], world["src"]
    decision = gate.check("redactor", path=src / "contact.txt")
    assert decision.decision == "allow_redacted" and decision.redact_entities == ("EMAIL_ADDRESS",)
    redacted = gate.redact("redactor", (src / "contact.txt").read_text())
    assert EMAIL not in redacted.text and "<EMAIL_ADDRESS>" in redacted.text
    assert redacted.replaced == {"EMAIL_ADDRESS": 1}
    hr = gate.check("redactor", path=src / "hr.txt")
    assert hr.decision == "deny" and "denied_entity:US_SSN" in hr.reasons


def test_a_one_byte_edit_to_a_scanned_file_is_denied(world: dict[str, Any], tmp_path: Path) -> None:
    edited = world["src"] / "public.txt"
    original = edited.read_bytes()
    try:
        edited.write_bytes(original[:-2] + b"!\n")
        decision = world["gate"].check("general-agent", path=edited)
        assert decision.decision == "deny" and decision.reasons == ("content_changed",)
    finally:
        edited.write_bytes(original)
    assert world["gate"].check("general-agent", path=edited).decision == "allow"
    assert world["gate"].check("general-agent", content=b"never seen").reasons == ("unknown_content",)


@pytest.mark.parametrize("target", ["entries.parquet", "manifest.json", "manifest.sig"])
def test_a_one_byte_edit_to_the_manifest_fails_verification(world: dict[str, Any], tmp_path: Path, target: str) -> None:
    copy = tmp_path / "m"
    shutil.copytree(world["manifest"], copy)
    data = bytearray((copy / target).read_bytes())
    data[len(data) // 2] ^= 0x01
    (copy / target).write_bytes(bytes(data))
    with pytest.raises(SignatureError):
        Gate.load(copy, world["public"])


def test_a_manifest_signed_by_another_key_is_refused(world: dict[str, Any], tmp_path: Path) -> None:
    _, other_public = generate_keys(tmp_path / "other")
    with pytest.raises(SignatureError, match="signature"):
        Gate.load(world["manifest"], other_public)


def test_an_expired_manifest_is_refused(world: dict[str, Any], tmp_path: Path, settings: Settings) -> None:
    build(
        world["results"],
        world["policy"],
        settings.labels.taxonomy,
        tmp_path / "old",
        private_key=load_private_key(world["private"]),
        tool_version="t",
        valid_for=timedelta(seconds=-1),
    )
    with pytest.raises(SignatureError, match="expired"):
        Gate.load(tmp_path / "old", world["public"])


def test_a_source_outside_the_consumers_globs_is_denied(world: dict[str, Any]) -> None:
    gate, src = world["gate"], world["src"]
    assert gate.check("scoped", path=src / "approved" / "ok.txt").decision == "allow"
    outside = gate.check("scoped", path=src / "public.txt")
    assert outside.decision == "deny" and "source_not_allowed" in outside.reasons


def test_unknown_content_can_be_scanned_on_the_spot(world: dict[str, Any]) -> None:
    gate = Gate.load(world["manifest"], world["public"], on_unknown="scan", policy=world["policy"])
    safe = gate.check("general-agent", content="The canteen serves soup on Fridays.\n")
    assert safe.decision == "allow" and "scanned_on_the_spot" in safe.reasons
    risky = gate.check("general-agent", content=f"Mail {EMAIL} today.\n")
    assert risky.decision == "deny" and "label_above_clearance" in risky.reasons


def test_cli_check_exit_codes_and_json(world: dict[str, Any], cli_env: dict[str, str]) -> None:
    src = world["src"]
    common = ["--manifest", str(world["manifest"]), "--public-key", str(world["public"]), "--consumer", "general-agent"]
    ok = run_cli(["check", str(src / "public.txt"), *common], cli_env)
    assert ok.returncode == 0 and ok.stdout.startswith("allow")
    mixed = run_cli(["check", str(src / "public.txt"), str(src / "contact.txt"), *common, "--json"], cli_env)
    assert mixed.returncode == 4
    rows = [json.loads(line) for line in mixed.stdout.splitlines()]
    assert [r["decision"] for r in rows] == ["allow", "deny"] and EMAIL not in mixed.stdout


def test_cli_keys_and_manifest_build(world: dict[str, Any], tmp_path: Path, cli_env: dict[str, str]) -> None:
    keys = run_cli(["keys", "generate", "--out", str(tmp_path / "k")], cli_env)
    assert keys.returncode == 0 and oct((tmp_path / "k" / "ingestguard.key").stat().st_mode)[-3:] == "600"
    built = run_cli(
        [
            "manifest",
            "build",
            "--results",
            str(world["results"]),
            "--consumers",
            str(world["base"] / "consumers.yaml"),
            "--out",
            str(tmp_path / "m"),
            "--private-key",
            str(tmp_path / "k" / "ingestguard.key"),
        ],
        cli_env,
    )
    assert built.returncode == 0, built.stderr
    assert "general-agent:" in built.stdout
    Gate.load(tmp_path / "m", tmp_path / "k" / "ingestguard.pub")


def test_scan_builds_the_manifest_when_consumers_are_given(
    world: dict[str, Any], tmp_path: Path, cli_env: dict[str, str]
) -> None:
    result = run_cli(
        [
            "scan",
            str(world["src"]),
            "--out",
            str(tmp_path / "out"),
            "--profile",
            "fast",
            "--workers",
            "1",
            "--consumers",
            str(world["base"] / "consumers.yaml"),
            "--private-key",
            str(world["private"]),
        ],
        cli_env,
    )
    assert result.returncode == 1, result.stderr  # broken.pdf failed
    assert "manifest: general-agent" in result.stdout
    gate = Gate.load(tmp_path / "out" / "manifest", world["public"])
    assert gate.check("general-agent", path=world["src"] / "public.txt").decision == "allow"


def test_shipped_consumers_validate_and_mistakes_are_named(tmp_path: Path) -> None:
    names = load_settings().labels.taxonomy.names()
    shipped = Path(__file__).resolve().parents[2] / "configs" / "consumers.yaml"
    assert [c.id for c in load_consumers(shipped, label_names=names).consumers] == [
        "support-agent",
        "kb-rag-index",
        "support-finetune-2026q4",
    ]
    bad = tmp_path / "c.yaml"
    bad.write_text("consumers:\n  - {id: x, kind: robot, purposes: [rag], max_label: General}\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: consumers\.0\.kind"):
        load_consumers(bad, label_names=names)
    bad.write_text("consumers:\n  - {id: x, kind: agent, purposes: [rag], max_label: Secret}\n")
    with pytest.raises(ConfigError, match="max_label: unknown label 'Secret'"):
        load_consumers(bad, label_names=names)
