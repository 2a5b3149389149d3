"""C2PA manifests embedded in binary files: read with c2pa-python from assets signed at test time, turned into
the same ``c2pa:<use>:<value>`` rights signals as the text path, and judged by the access manifest.

Positive: notAllowed denies a training consumer while an allowed ai_inference lets a RAG consumer in;
constrained counts as not allowed. Hard negatives: an image without a manifest is skipped (never
allowed by default), a tampered image's manifest is invalid and grants nothing, yet its notAllowed
entries still restrict.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from scanner.extractors.c2pa import INVALID, TRUSTED, UNTRUSTED, C2paReader, EmbeddedManifest
from tests import c2pa_assets as assets
from tests.test_cli_e2e import run_cli

pytest.importorskip("c2pa")

TRAINING_NO = {
    "ai_generative_training": "notAllowed",
    "ai_training": "notAllowed",
    "ai_inference": "allowed",
    "data_mining": "allowed",
}
CONSTRAINED = {"ai_training": "constrained", "ai_generative_training": "allowed", "ai_inference": "allowed"}
ALL_ALLOWED_BUT_INFERENCE = {
    "ai_generative_training": "allowed",
    "ai_training": "allowed",
    "ai_inference": "notAllowed",
    "data_mining": "allowed",
}
CONSUMERS = """
consumers:
  - {id: trainer, kind: model, purposes: [training], max_label: Confidential}
  - {id: rag, kind: rag_index, purposes: [rag], max_label: Confidential}
  - {id: research, kind: model, purposes: [training], max_label: Confidential, respect_tdm_opt_out: false}
"""


@pytest.fixture(scope="module")
def identity() -> assets.SigningIdentity:
    return assets.signing_identity()


@pytest.fixture(scope="module")
def files(identity: assets.SigningIdentity) -> dict[str, bytes]:
    jpeg, png = assets.plain_image("JPEG"), assets.plain_image("PNG")
    return {
        "no-training.jpg": assets.sign(identity, jpeg, "image/jpeg", TRAINING_NO),
        "constrained.png": assets.sign(identity, png, "image/png", CONSTRAINED),
        "tampered.jpg": assets.tamper(assets.sign(identity, jpeg, "image/jpeg", ALL_ALLOWED_BUT_INFERENCE)),
        "plain.jpg": jpeg,
        "no-mining.pdf": assets.sign(
            identity, assets.plain_pdf(), "application/pdf", {"data_mining": "notAllowed"}, prefix="cawg"
        ),
        "plain.pdf": assets.plain_pdf(),
    }


def _read(data: bytes, mime: str, *, anchors: bytes | None = None) -> EmbeddedManifest | None:
    reader = C2paReader(trust_anchors=anchors.decode() if anchors else None)
    reader.setup()
    return reader.read(io.BytesIO(data), mime)


def test_reader_reports_entries_and_an_untrusted_signer(files: dict[str, bytes]) -> None:
    manifest = _read(files["no-training.jpg"], "image/jpeg")
    assert manifest is not None
    assert manifest.state == UNTRUSTED  # valid signature, signer on no configured trust list
    assert set(manifest.entries) == {("c2pa", use, value) for use, value in TRAINING_NO.items()}
    assert manifest.failures == ()


def test_reader_trusts_a_signer_under_the_configured_anchors(
    files: dict[str, bytes], identity: assets.SigningIdentity
) -> None:
    manifest = _read(files["constrained.png"], "image/png", anchors=identity.ca_pem)
    assert manifest is not None and manifest.state == TRUSTED
    assert ("c2pa", "ai_training", "constrained") in manifest.entries


def test_reader_reads_cawg_entries_in_a_pdf(files: dict[str, bytes]) -> None:
    manifest = _read(files["no-mining.pdf"], "application/pdf")
    assert manifest is not None and manifest.entries == (("cawg", "data_mining", "notAllowed"),)


def test_tampered_manifest_is_invalid_and_its_allowed_entries_grant_nothing(files: dict[str, bytes]) -> None:
    manifest = _read(files["tampered.jpg"], "image/jpeg")
    assert manifest is not None and manifest.state == INVALID
    assert manifest.failures  # c2pa's failure codes, e.g. assertion.dataHash.mismatch
    text = manifest.rights_text()
    assert "c2pa.ai_inference.use: notAllowed" in text
    assert ": allowed" not in text


@pytest.mark.parametrize(("name", "mime"), [("plain.jpg", "image/jpeg"), ("plain.pdf", "application/pdf")])
def test_no_manifest_reads_as_none(files: dict[str, bytes], name: str, mime: str) -> None:
    assert _read(files[name], mime) is None


def test_a_manifest_line_in_ordinary_text_is_not_a_state() -> None:
    from classifiers.rights import EMBEDDED_C2PA, RightsClassifier

    rights = RightsClassifier()
    assert rights.classify("c2pa.manifest: invalid\n") == []
    [det] = rights.classify("c2pa.manifest: invalid (assertion.dataHash.mismatch)", context=[EMBEDDED_C2PA])
    assert det.detector == "c2pa:manifest:invalid:assertion.dataHash.mismatch"


# -- end to end through the CLI -----------------------------------------------------------------


@pytest.fixture(scope="module")
def scanned(files: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import os

    from tests.conftest import TEST_KEY

    base = tmp_path_factory.mktemp("c2pa")
    src = base / "src"
    src.mkdir()
    for name, data in files.items():
        (src / name).write_bytes(data)
    (base / "consumers.yaml").write_text(CONSUMERS)
    env = dict(os.environ, INGESTGUARD_FINGERPRINT_KEY=TEST_KEY, HOME=str(base / "home"))
    out = base / "out"
    steps = [
        ["scan", str(src), "--out", str(out), "--profile", "fast", "-q"],
        ["keys", "generate", "--out", str(base / "keys")],
        [
            "manifest",
            "build",
            "--results",
            str(out),
            "--consumers",
            str(base / "consumers.yaml"),
            "--out",
            str(out / "manifest"),
            "--private-key",
            str(base / "keys" / "ingestguard.key"),
        ],
    ]
    for args in steps:
        result = run_cli(args, env)
        assert result.returncode in (0, 1), (args, result.stderr[-2000:])
    return {"src": src, "out": out, "env": env, "keys": base / "keys"}


def _documents(out: Path) -> dict[str, dict[str, Any]]:
    return {r["uri"].rsplit("/", 1)[-1]: r for r in pq.read_table(out / "documents.parquet").to_pylist()}


@pytest.fixture(scope="module")
def checked(scanned: dict[str, Any]) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    """``ingestguard check --json`` for every file, once per consumer."""
    names = sorted(p.name for p in scanned["src"].iterdir())
    out: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
    for consumer in ("trainer", "rag", "research"):
        result = run_cli(
            [
                "check",
                *(str(scanned["src"] / n) for n in names),
                "--manifest",
                str(scanned["out"] / "manifest"),
                "--public-key",
                str(scanned["keys"] / "ingestguard.pub"),
                "--consumer",
                consumer,
                "--json",
            ],
            scanned["env"],
        )
        for line in result.stdout.splitlines():
            decision = json.loads(line)
            out[consumer, Path(decision["target"]).name] = (decision["decision"], tuple(decision["reasons"]))
    return out


def test_scan_rows_carry_the_embedded_signals(scanned: dict[str, Any]) -> None:
    docs = _documents(scanned["out"])
    image = docs["no-training.jpg"]
    assert (image["status"], image["format"], image["partial"]) == ("scanned", "image", False)
    assert image["rights"] == [
        "c2pa:ai_generative_training:notAllowed",
        "c2pa:ai_inference:allowed",
        "c2pa:ai_training:notAllowed",
        "c2pa:data_mining:allowed",
        "c2pa:manifest:untrusted",
    ]
    assert "c2pa:ai_training:constrained" in docs["constrained.png"]["rights"]
    tampered = docs["tampered.jpg"]["rights"]
    assert tampered[0] == "c2pa:ai_inference:notAllowed"
    assert tampered[1].startswith("c2pa:manifest:invalid:")
    assert len(tampered) == 2  # the allowed entries of an invalid manifest are not signals
    assert docs["no-mining.pdf"]["rights"] == ["c2pa:data_mining:notAllowed", "c2pa:manifest:untrusted"]
    assert docs["plain.pdf"]["rights"] == []
    plain = docs["plain.jpg"]
    assert plain["status"] == "skipped" and "no embedded C2PA manifest" in plain["reason"]
    objects = {r["uri"].rsplit("/", 1)[-1]: r for r in pq.read_table(scanned["out"] / "objects.parquet").to_pylist()}
    rolled = objects["tampered.jpg"]["rights"]
    assert (rolled["c2pa_state"], rolled["c2pa_not_allowed"]) == ("invalid", ["ai_inference"])
    rolled = objects["no-training.jpg"]["rights"]
    assert (rolled["c2pa_state"], rolled["c2pa_not_allowed"]) == (
        "untrusted",
        ["ai_generative_training", "ai_training"],
    )
    assert objects["plain.jpg"]["rights"] is None  # skipped: not read, so unknown
    findings = [f for f in pq.read_table(scanned["out"] / "findings.parquet").to_pylist() if f["field"] == "$c2pa"]
    assert {f["entity_type"] for f in findings} == {"RIGHTS_C2PA_TDM"}


@pytest.mark.parametrize(
    ("consumer", "name", "expected"),
    [
        ("trainer", "no-training.jpg", ("deny", ("rights_c2pa:ai_generative_training", "rights_c2pa:ai_training"))),
        ("rag", "no-training.jpg", ("allow", ())),
        ("research", "no-training.jpg", ("allow", ())),
        ("trainer", "constrained.png", ("deny", ("rights_c2pa:ai_training",))),
        ("rag", "constrained.png", ("allow", ())),
        ("trainer", "tampered.jpg", ("deny", ("rights_c2pa:manifest_invalid",))),
        ("rag", "tampered.jpg", ("deny", ("rights_c2pa:ai_inference", "rights_c2pa:manifest_invalid"))),
        ("trainer", "plain.jpg", ("deny", ("scan_skipped",))),
        ("rag", "plain.jpg", ("deny", ("scan_skipped",))),
        ("rag", "no-mining.pdf", ("deny", ("rights_c2pa:data_mining",))),
        ("rag", "plain.pdf", ("allow", ())),
    ],
)
def test_check_decides_from_the_embedded_manifest(
    checked: dict[tuple[str, str], tuple[str, tuple[str, ...]]],
    consumer: str,
    name: str,
    expected: tuple[str, tuple[str, ...]],
) -> None:
    assert checked[consumer, name] == expected
