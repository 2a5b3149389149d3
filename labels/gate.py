"""The pre-ingest gate: may consumer C ingest this content? Answered from a verified, signed manifest.

The answer is bound to the content's SHA-256: changed or unknown content is
denied — unless the caller opts into ``on_unknown="scan"``, which classifies it
on the spot with the same settings and policy the manifest was built with.
A manifest lookup is a dictionary access.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from labels.consumers import ConsumerPolicy
from labels.manifest import Decision, decide, load_verified
from labels.signing import SignatureError, load_public_key
from scanner.errors import IngestguardError
from scanner.units import canonical_record_bytes


@dataclass(frozen=True, slots=True)
class GateDecision:
    """What the gate says, and why."""

    consumer: str
    decision: Decision
    reasons: tuple[str, ...]
    content_sha256: str
    label: str | None = None
    uri: str | None = None
    record: int | None = None
    redact_entities: tuple[str, ...] = ()
    label_id: str | None = None

    @property
    def allowed(self) -> bool:
        return self.decision != "deny"

    def to_json(self) -> dict[str, Any]:
        return {
            "consumer": self.consumer,
            "decision": self.decision,
            "reasons": list(self.reasons),
            "content_sha256": self.content_sha256,
            "label": self.label,
            "uri": self.uri,
            "record": self.record,
            "redact_entities": list(self.redact_entities),
            "label_id": self.label_id,
        }


@dataclass(frozen=True, slots=True)
class Redaction:
    text: str
    replaced: Mapping[str, int]


class Gate:
    """Decisions from a verified manifest; build with :meth:`Gate.load`."""

    def __init__(
        self,
        header: dict[str, Any],
        rows: list[dict[str, Any]],
        *,
        policy: ConsumerPolicy | None,
        on_unknown: Literal["deny", "scan"],
        settings: Any = None,
    ) -> None:
        self.header = header
        self.consumers = set(header["consumers"])
        self._by_hash: dict[tuple[str, str], dict[str, Any]] = {}
        self._by_uri: dict[tuple[str, str], dict[str, Any]] = {}
        for row in rows:
            if row["content_sha256"]:
                self._by_hash.setdefault((row["consumer"], row["content_sha256"]), row)
            self._by_uri.setdefault((row["consumer"], row["uri"]), row)
        self._policy = policy
        self._on_unknown = on_unknown
        self._settings = settings
        self._worker: Any = None

    @classmethod
    def load(
        cls,
        manifest: str | Path,
        public_key: str | Path | Ed25519PublicKey,
        *,
        on_unknown: Literal["deny", "scan"] = "deny",
        policy: ConsumerPolicy | None = None,
        settings: Any = None,
    ) -> Gate:
        """Verify and load a manifest. ``on_unknown="scan"`` needs the ``policy`` it was built with."""
        key = public_key if isinstance(public_key, Ed25519PublicKey) else load_public_key(Path(public_key))
        header, table = load_verified(Path(manifest), key)
        if on_unknown == "scan":
            if policy is None:
                raise IngestguardError("on_unknown='scan' needs the consumers policy the manifest was built with")
            if policy.fingerprint() != header["policy_sha256"]:
                raise SignatureError("the consumers policy given is not the one this manifest was built with")
        return cls(header, table.to_pylist(), policy=policy, on_unknown=on_unknown, settings=settings)

    # -- checks ---------------------------------------------------------------------------

    def check(
        self,
        consumer: str,
        *,
        content: bytes | str | None = None,
        path: str | Path | None = None,
        uri: str | None = None,
        record: Any = None,
    ) -> GateDecision:
        """The decision for one document (raw ``content``, a local ``path``, a ``uri``) or one ``record``."""
        if consumer not in self.consumers:
            return GateDecision(consumer, "deny", ("unknown_consumer",), "")
        name = Path(path).name if path is not None else (uri.rsplit("/", 1)[-1] if uri else "content.txt")
        data = self._content(content=content, path=path, uri=uri, record=record)
        digest = hashlib.sha256(data).hexdigest()
        row = self._by_hash.get((consumer, digest))
        if row is not None:
            return GateDecision(
                consumer,
                row["decision"],
                tuple(row["reasons"]),
                digest,
                row["label"],
                row["uri"],
                row["record"],
                tuple(row["redact_entities"]),
                row["label_id"],
            )
        known_uri = uri or (Path(path).absolute().as_uri() if path is not None else None)
        by_uri = self._by_uri.get((consumer, known_uri)) if known_uri is not None else None
        if by_uri is not None and not by_uri["content_sha256"]:  # failed or skipped: denied, with the scan's reason
            return GateDecision(consumer, "deny", tuple(by_uri["reasons"]), digest, None, known_uri, by_uri["record"])
        changed = by_uri is not None
        if self._on_unknown == "scan" and record is None:
            return self._scan_now(consumer, data, name, digest, changed)
        return GateDecision(
            consumer, "deny", ("content_changed" if changed else "unknown_content",), digest, uri=known_uri
        )

    @staticmethod
    def _content(*, content: bytes | str | None, path: str | Path | None, uri: str | None, record: Any) -> bytes:
        given = [x is not None for x in (content, path, uri, record)]
        if sum(given) != 1:
            raise ValueError("give exactly one of content=, path=, uri=, record=")
        if record is not None:
            return canonical_record_bytes(record)
        if content is not None:
            return content.encode() if isinstance(content, str) else content
        if path is not None:
            return Path(path).read_bytes()
        from connectors import ConnectorRegistry, SourceObject

        assert uri is not None
        with ConnectorRegistry().for_uri(uri).open(SourceObject(uri=uri)) as fh:
            return fh.read()

    def _scan_now(self, consumer: str, data: bytes, name: str, digest: str, changed: bool) -> GateDecision:
        from connectors.local import LocalConnector
        from scanner.pipeline import ScanTask

        worker = self._ensure_worker()
        assert self._policy is not None
        suffix = Path(name).suffix or ".txt"
        with tempfile.TemporaryDirectory() as tmp:
            file = Path(tmp) / f"content{suffix}"
            file.write_bytes(data)
            item = LocalConnector()._item(file)
            outputs = list(worker.run(ScanTask(0, item)))  # type: ignore[arg-type]
        units = [d for o in outputs for d in o.documents]
        policy_consumer = self._policy.get(consumer)
        decisions = [decide(policy_consumer, u, worker.labeler.taxonomy) for u in units]
        worst = max(decisions, key=lambda d: {"allow": 0, "allow_redacted": 1, "deny": 2}[d[0]])
        extra = ("scanned_on_the_spot", "content_changed" if changed else "unknown_content")
        labels = [u["label"] for u in units if u["label"]]
        return GateDecision(
            consumer, worst[0], (*worst[1], *extra), digest, labels[0] if labels else None, redact_entities=worst[2]
        )

    # -- redaction --------------------------------------------------------------------------

    def redact(self, consumer: str, text: str) -> Redaction:
        """``text`` with the consumer's ``redact_entities`` replaced by ``<ENTITY_TYPE>`` (presidio-anonymizer)."""
        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

        if self._policy is None:
            raise IngestguardError("redaction needs the consumers policy: Gate.load(..., policy=...)")
        wanted = self._policy.get(consumer).redacted_types()
        worker = self._ensure_worker()
        found = [d for d, _, _ in worker.classifiers.detect([text]) if d.entity_type in wanted]
        results = [RecognizerResult(d.entity_type, d.start, d.end, d.score) for d in found]
        out = AnonymizerEngine().anonymize(  # type: ignore[no-untyped-call]
            text=text, analyzer_results=results, operators={"DEFAULT": OperatorConfig("replace")}
        )
        replaced: dict[str, int] = {}
        for item in out.items:
            replaced[item.entity_type] = replaced.get(item.entity_type, 0) + 1
        return Redaction(out.text, replaced)

    def _ensure_worker(self) -> Any:
        if self._worker is None:
            from classifiers.fingerprint import load_or_create_key
            from scanner.config import load_settings
            from scanner.pipeline import Worker

            settings = (self._settings or load_settings()).with_profile("thorough")
            self._worker = Worker(settings, load_or_create_key(settings.scan.fingerprint_key_file))
            self._worker.setup()
        return self._worker
