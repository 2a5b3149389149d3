"""The work of one scan task, shared by every engine: read, extract, classify, label, make rows.

:class:`Worker` is built once per worker process (models load in
:meth:`Worker.setup`); :meth:`Worker.run` turns one :class:`ScanTask` into a
stream of :class:`TaskOutput` chunks, the last one carrying the object's row.
Every path ends in rows: an object is ``scanned``, ``skipped`` or ``failed``,
and so is every unit inside it.
"""

from __future__ import annotations

import io
import logging
from collections import Counter
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

from classifiers.addresses import StreetAddressClassifier
from classifiers.base import Finding
from classifiers.entities import is_rights, is_risk
from classifiers.fingerprint import Fingerprinter
from classifiers.markings import MarkingsClassifier
from classifiers.ner import SpacyNerClassifier
from classifiers.patterns import PatternPiiClassifier
from classifiers.rights import EMBEDDED_C2PA, RENDERED, RightsClassifier
from classifiers.risks import RiskClassifier
from classifiers.runner import ClassifierSet
from connectors import ConnectorRegistry, SourceObject
from labels import Labeler
from labels.existing import MANUAL_BELOW_CONTENT, LabelOutcome, honour
from scanner.config import Settings
from scanner.errors import ConfigError, IngestguardError, LimitExceededError, describe_exception
from scanner.extractors import ExtractContext, SkipObject, choose, plugin_extractors
from scanner.extractors.base import CountingReader
from scanner.extractors.c2pa import C2paReader, available
from scanner.extractors.compression import decompress
from scanner.gating import NerGate
from scanner.sharding import Shard, ShardReader
from scanner.units import LazyText, Unit, UnitProblem

log = logging.getLogger(__name__)

Row = dict[str, Any]

#: Rows per output chunk sent back from a worker.
CHUNK_DOCUMENTS = 500
CHUNK_FINDINGS = 5000
HIDDEN_FIELD = "$hidden"
META_FIELD = "$meta"


@dataclass(frozen=True, slots=True)
class ScanTask:
    """One object to scan, or one shard of a large record file (see :mod:`scanner.sharding`)."""

    task_id: int
    obj: SourceObject
    shard: Shard | None = None
    #: Rights declared outside the object's bytes (``scanner.tdmrep``): ``(field, header lines)`` that the
    #: rights classifier reads for every unit of the object.
    declared: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class TaskOutput:
    """A chunk of rows from one task; ``object_row`` is set on the task's last chunk only."""

    task_id: int
    documents: list[Row] = field(default_factory=list)
    findings: list[Row] = field(default_factory=list)
    object_row: Row | None = None
    tally: Any = None  # a shard's roll-up (an ObjectTally), merged by the driver with its siblings'
    tally_index: int = 0  # which shard of its object


def build_classifiers(settings: Settings, key: bytes, *, profile: str | None = None) -> ClassifierSet:
    """The classifier set a profile asks for (not yet set up).

    ``fast`` leaves NER out; ``balanced`` gates it with the label rules;
    ``thorough`` runs it everywhere.
    """
    cs = settings.classifiers
    profile = profile or cs.profile
    members: list[Any] = []
    if cs.patterns.enabled:
        members.append(PatternPiiClassifier(cs.patterns))
    if cs.sit.enabled:
        from classifiers.catalogue import SitClassifier

        members.append(SitClassifier(cs.sit))
    if cs.addresses.enabled:
        members.append(StreetAddressClassifier())
    if cs.ner.enabled and profile != "fast":
        members.append(SpacyNerClassifier(cs.ner))
    if cs.secrets.enabled:
        from classifiers.secrets import SecretsClassifier

        members.append(SecretsClassifier(enabled_types=cs.secrets.entities))
    if cs.markings.enabled:
        members.append(MarkingsClassifier(cs.markings))
        if cs.markings.patterns:
            from classifiers.userpatterns import MarkingPatternClassifier

            members.append(MarkingPatternClassifier(cs.markings.patterns))
    if cs.risks.enabled:
        members.append(RiskClassifier())
    if cs.rights.enabled:
        members.append(RightsClassifier())
    gate = None
    if profile == "balanced":
        gate = NerGate(Labeler(settings.labels), ner_types=cs.ner.entities, always_for=cs.ner.always_for)
    return ClassifierSet(
        members,
        fingerprint=Fingerprinter(key),
        min_score=cs.min_score,
        window_chars=cs.window.chars,
        window_overlap=cs.window.overlap,
        gate=gate,
    )


def build_c2pa_reader(settings: Settings) -> C2paReader | None:
    """The embedded-manifest reader the rights settings ask for; None when C2PA reading is off or
    c2pa-python is not installed (media objects are then skipped with that reason)."""
    rights = settings.classifiers.rights
    if not rights.enabled or not rights.c2pa or not available():
        return None
    anchors = None
    if rights.c2pa_trust_anchors:
        try:
            with open(rights.c2pa_trust_anchors, encoding="utf-8") as fh:
                anchors = fh.read()
        except OSError as exc:
            raise ConfigError(
                f"classifiers.yaml: rights.c2pa_trust_anchors: cannot read {rights.c2pa_trust_anchors} "
                f"({exc.strerror}); expected a PEM file of root certificates"
            ) from exc
    return C2paReader(trust_anchors=anchors)


def rights_signals(findings: list[Finding]) -> list[str]:
    """The unit's rights signals (``licence:MIT:permissive``, ``tdm:reserved`` …): the rights detectors that fired."""
    return sorted({f.detector for f in findings if is_rights(f.entity_type)})


#: Embedded-manifest states from least to most restrictive (the object's roll-up keeps the last seen).
_C2PA_ORDER = ("trusted", "untrusted", "unreadable", "invalid")


def rights_rollup(signals: set[str]) -> Row:
    """An object's rights from all its units' signals, most restrictive wins: every licence family seen
    (most restrictive first), whether any unit is TDM-reserved or opted out of AI (robots ``noai``), the
    worst embedded C2PA manifest state, and the C2PA uses any unit does not allow (constrained included)."""
    from classifiers.licences import LicenceFamily, family_text

    families: set[LicenceFamily] = set()
    states: set[str] = set()
    not_allowed: set[str] = set()
    for signal in signals:
        kind, _, rest = signal.partition(":")
        if kind == "licence":
            for name in rest.rpartition(":")[2].split("+"):
                try:
                    families.add(LicenceFamily(name))
                except ValueError:
                    families.add(LicenceFamily.UNKNOWN)
        elif kind == "c2pa":
            use, _, value = rest.partition(":")
            if use == "manifest":
                states.add(value.partition(":")[0])
            elif value != "allowed":
                not_allowed.add(use)
    state = max(states, key=lambda s: _C2PA_ORDER.index(s) if s in _C2PA_ORDER else len(_C2PA_ORDER), default=None)
    return {
        "licence_families": family_text(frozenset(families)).split("+") if families else [],
        "tdm_reserved": "tdm:reserved" in signals,
        "ai_opt_out": "robots:noai" in signals,
        "c2pa_state": state,
        "c2pa_not_allowed": sorted(not_allowed),
        "signals": sorted(signals),
    }


def _meta_text(unit: Unit) -> str:
    """What only the rights classifier reads: the unit's rights markup, and for JSON records the fields of a
    C2PA/CAWG ``training-mining`` assertion as ``path: value`` lines (their keys name the uses)."""
    parts = [unit.meta_text] if unit.meta_text else []
    if unit.fields and isinstance(unit.text, str) and "training-mining" in unit.text:
        for span in unit.fields:
            if ".use" in span.name and ("c2pa." in span.name or "cawg." in span.name):
                parts.append(f"{span.name}: {unit.text[span.start : span.end]}")
    return "\n".join(parts)


def _context_words(unit: Unit) -> list[str]:
    words: list[str] = []
    for span in unit.fields:
        name = span.name.split("!")[-1].split(".")[-1].split("[")[0]
        words.extend(w for w in name.replace("_", " ").replace("-", " ").lower().split() if w)
    return list(dict.fromkeys(words))


def document_row(
    unit: Unit | UnitProblem,
    obj: SourceObject,
    *,
    status: str,
    reason: str | None,
    outcome: LabelOutcome | None = None,
    counts: Counter[str] | None = None,
    risks: list[str] | None = None,
    sha256: str | None = None,
    size: int | None = None,
    partial: bool = False,
    rights: list[str] | None = None,
) -> Row:
    return {
        "uri": unit.uri,
        "record": unit.record,
        "member": unit.member,
        "content_sha256": sha256 if sha256 is not None else unit.content_sha256,
        "size_bytes": size if size is not None else unit.size_bytes,
        "format": unit.format,
        "label": outcome.name if outcome else None,
        "label_id": outcome.guid if outcome else None,
        "label_rule": outcome.rule if outcome else None,
        "entity_counts": dict(counts or {}),
        "risks": risks or [],
        "status": status,
        "reason": reason,
        "partial": partial,
        "version": obj.version,
        **label_columns(outcome),
        "rights": rights or [],
    }


def label_columns(outcome: LabelOutcome | None) -> Row:
    """The columns saying how a label came about: rule or existing label, and any conflict."""
    existing = outcome.existing if outcome else None
    content = outcome.content.label if outcome else None
    return {
        "label_method": outcome.method if outcome else None,
        "content_label": content.name if content else None,
        "content_label_id": content.guid if content else None,
        "existing_label": outcome.existing_name if outcome and existing else None,
        "existing_label_id": existing.guid if existing else None,
        "existing_label_method": existing.method if existing else None,
        "existing_label_source": existing.source if existing else None,
        "label_conflict": outcome.conflict if outcome else None,
    }


def finding_row(unit: Unit, f: Finding) -> Row:
    return {
        "uri": unit.uri,
        "record": unit.record,
        "member": unit.member,
        "field": f.field,
        "entity_type": f.entity_type,
        "start": f.start,
        "end": f.end,
        "score": f.score,
        "confidence": f.confidence.value,
        "classifier": f.classifier,
        "detector": f.detector,
        "fingerprint": f.fingerprint,
        "masked": f.masked,
    }


class ObjectTally:
    """Rolls a task's units up into the object's row."""

    def __init__(self) -> None:
        self.units = Counter[str]()
        self.entities = Counter[str]()
        self.top: LabelOutcome | None = None
        self.top_content: LabelOutcome | None = None
        self.conflict: str | None = None
        self.partial: list[str] = []
        self.first_failure: str | None = None
        self.rights: set[str] = set()

    def add(
        self,
        status: str,
        outcome: LabelOutcome | None,
        counts: Counter[str] | None,
        partial: str | None,
        reason: str | None = None,
        rights: list[str] | None = None,
    ) -> None:
        self.units[status] += 1
        if rights:
            self.rights.update(rights)
        if status == "failed" and self.first_failure is None:
            self.first_failure = reason
        if counts:
            self.entities.update(counts)
        if outcome is not None:
            if self.top is None or _rank(outcome) > _rank(self.top):
                self.top = outcome
            if self.top_content is None or outcome.content.label.priority > self.top_content.content.label.priority:
                self.top_content = outcome
            if outcome.conflict and self.conflict != MANUAL_BELOW_CONTENT:
                self.conflict = outcome.conflict
        if partial:
            self.partial.append(partial)

    def merge(self, other: ObjectTally) -> None:
        """Fold in the roll-up of the next shard of the same object (shards merged in order)."""
        self.units.update(other.units)
        self.entities.update(other.entities)
        if other.top is not None and (self.top is None or _rank(other.top) > _rank(self.top)):
            self.top = other.top
        content = other.top_content
        if content is not None and (
            self.top_content is None or content.content.label.priority > self.top_content.content.label.priority
        ):
            self.top_content = content
        if other.conflict and self.conflict != MANUAL_BELOW_CONTENT:
            self.conflict = other.conflict
        self.partial.extend(other.partial)
        self.rights.update(other.rights)
        if self.first_failure is None:
            self.first_failure = other.first_failure

    def label_columns(self) -> Row:
        """The object's label columns: its highest unit label, its units' highest content label, any conflict."""
        if self.top is None:
            return {"label": None, "label_id": None, **label_columns(None)}
        content = self.top_content.content.label if self.top_content else self.top.content.label
        return {
            "label": self.top.name,
            "label_id": self.top.guid,
            **label_columns(self.top),
            "content_label": content.name,
            "content_label_id": content.guid,
            "label_conflict": self.conflict,
        }


def _rank(outcome: LabelOutcome) -> float:
    """Labels outside the taxonomy rank above all (they are kept and always win the object's label)."""
    return float("inf") if outcome.priority is None else outcome.priority


def object_problem(obj: SourceObject, fmt: str, status: str, reason: str) -> Row:
    problem = UnitProblem(obj.uri, fmt, status, reason, size_bytes=obj.size or 0)
    return document_row(problem, obj, status=status, reason=reason)


def _object_reason(tally: ObjectTally) -> str | None:
    notes = []
    if tally.units["failed"]:
        notes.append(f"{tally.units['failed']} units failed")
    if tally.units["skipped"]:
        notes.append(f"{tally.units['skipped']} units skipped")
    notes.extend(dict.fromkeys(tally.partial))
    return "; ".join(notes) or None


def finish_object(
    obj: SourceObject,
    fmt: str,
    status: str,
    reason: str | None,
    object_sha: str | None,
    tally: ObjectTally,
    *,
    problems: list[Row] | None,
) -> Row:
    """The object's row from its units' roll-up; an object with no readable unit gets a row in
    ``problems`` (its documents) saying so (None: a shard, whose object is finished by the driver)."""
    if status == "scanned" and not tally.units:
        status, reason = "skipped", "no text or records found"
        if problems is not None:
            problems.append(object_problem(obj, fmt, status, reason))
    elif status == "scanned" and tally.units["scanned"] == 0 and tally.units["failed"]:
        first = f" (first: {tally.first_failure})" if tally.first_failure and not tally.partial else ""
        status, reason = "failed", f"no unit could be read: {_object_reason(tally)}{first}"
    elif status == "scanned" and tally.units["scanned"] == 0:
        status, reason = "skipped", f"no unit was read: {_object_reason(tally)}"
    elif status == "scanned":
        reason = _object_reason(tally)
    return {
        "uri": obj.uri,
        "version": obj.version,
        "last_modified": obj.last_modified,
        "size_bytes": obj.size,
        "format": fmt,
        "content_sha256": object_sha,
        "status": status,
        "reason": reason,
        "partial": status == "scanned" and (bool(tally.partial) or tally.units["failed"] > 0),
        "units_scanned": tally.units["scanned"],
        "units_skipped": tally.units["skipped"],
        "units_failed": tally.units["failed"],
        "entity_counts": dict(tally.entities),
        "metadata": dict(obj.metadata),
        "tags": dict(obj.tags),
        **(tally.label_columns() if status == "scanned" else ObjectTally().label_columns()),
        # unknown (null) unless the object was read
        "rights": rights_rollup(tally.rights) if status == "scanned" else None,
    }


class Worker:
    """Everything one worker needs, built once; :meth:`run` is called per task."""

    def __init__(self, settings: Settings, key: bytes) -> None:
        self.settings = settings
        self.connectors = ConnectorRegistry()
        self.classifiers = build_classifiers(settings, key)
        self.labeler = Labeler(settings.labels)
        self.taxonomy = settings.labels.taxonomy
        self.rights = next((c for c in self.classifiers.classifiers if isinstance(c, RightsClassifier)), None)
        self.c2pa = build_c2pa_reader(settings) if self.rights is not None else None

    def setup(self) -> None:
        plugin_extractors()  # a bad $INGESTGUARD_EXTRA_EXTRACTORS stops the worker here, not on its first object
        self.classifiers.setup()
        if self.c2pa is not None:
            self.c2pa.setup()

    # -- one task ---------------------------------------------------------------------------

    def run(self, task: ScanTask) -> Iterator[TaskOutput]:
        obj = task.obj
        out = TaskOutput(task.task_id)
        tally = ObjectTally()
        choice = choose(obj.name)
        status, reason, object_sha = "scanned", None, None
        if choice.extractor is None:
            status, reason = "skipped", f"unsupported format '{choice.label}'"
            out.documents.append(object_problem(obj, choice.label, status, reason))
        else:
            try:
                object_sha = yield from self._extract_and_classify(
                    obj, choice.extractor(), choice, out, tally, shard=task.shard, declared=task.declared
                )
            except SkipObject as exc:
                status, reason = self._end_early(obj, choice.label, "skipped", str(exc), out, tally, task.shard)
            except Exception as exc:
                if not isinstance(exc, IngestguardError):
                    log.debug("unexpected error on %s", obj.uri, exc_info=True)
                status, reason = self._end_early(
                    obj, choice.label, "failed", describe_exception(exc), out, tally, task.shard
                )
        if task.shard is not None:
            # A shard's rows are final; its object row is merged with its siblings' by the driver.
            out.tally, out.tally_index = tally, task.shard.index
            out.object_row = finish_object(obj, choice.label, status, reason, None, tally, problems=None)
            yield out
            return
        out.object_row = finish_object(obj, choice.label, status, reason, object_sha, tally, problems=out.documents)
        yield out

    def _end_early(
        self,
        obj: SourceObject,
        fmt: str,
        status: str,
        reason: str,
        out: TaskOutput,
        tally: ObjectTally,
        shard: Shard | None = None,
    ) -> tuple[str, str]:
        """An object stopped by an error or a skip: before any unit, the object's row says so;
        after some units (or in any shard), a row marks where reading stopped and the object stays
        scanned but partial."""
        if sum(tally.units.values()) == 0 and shard is None:
            out.documents.append(object_problem(obj, fmt, status, reason))
            return status, reason
        stopped = UnitProblem(obj.uri, fmt, "failed", f"reading stopped: {reason}")
        out.documents.append(document_row(stopped, obj, status="failed", reason=stopped.reason, partial=True))
        tally.add("failed", None, None, stopped.reason)
        return "scanned", f"partial: reading stopped after {sum(tally.units.values()) - 1} units: {reason}"

    def _extract_and_classify(
        self,
        obj: SourceObject,
        extractor: Any,
        choice: Any,
        out: TaskOutput,
        tally: ObjectTally,
        *,
        shard: Shard | None = None,
        declared: tuple[tuple[str, str], ...] = (),
    ) -> Generator[TaskOutput, None, str]:
        limits = self.settings.scan.limits
        raw = self.connectors.for_uri(obj.uri).open(obj)
        source: Any = raw if shard is None else ShardReader(raw, shard)
        counted = CountingReader(source, limit=limits.max_object_bytes, limit_name="max_object_bytes")
        try:
            stream: Any
            if choice.compression is not None:
                stream = decompress(choice.compression, cast(BinaryIO, counted), limits)
            else:
                stream = io.BufferedReader(counted, buffer_size=1 << 20)
            ctx = ExtractContext(
                uri=obj.uri,
                format=choice.label,
                limits=limits,
                first_record=shard.first_record if shard else 0,
                c2pa=self.c2pa,
            )
            for item in extractor.extract(stream, ctx):
                if isinstance(item, UnitProblem):
                    out.documents.append(document_row(item, obj, status=item.status, reason=item.reason))
                    # a unit stopped by a limit leaves the object partial: never reported as clean
                    tally.add(item.status, None, None, item.reason if item.limit else None, item.reason)
                else:
                    self._classify_unit(item, obj, out, tally, declared)
                if len(out.documents) >= CHUNK_DOCUMENTS or len(out.findings) >= CHUNK_FINDINGS:
                    yield TaskOutput(out.task_id, out.documents, out.findings)
                    out.documents, out.findings = [], []
            counted.drain()
            return counted.hexdigest()
        finally:
            raw.close()

    def _classify_unit(
        self,
        unit: Unit,
        obj: SourceObject,
        out: TaskOutput,
        tally: ObjectTally,
        declared: tuple[tuple[str, str], ...] = (),
    ) -> None:
        context = _context_words(unit)
        findings: list[Finding] = []
        try:
            chunks = unit.text.chunks() if isinstance(unit.text, LazyText) else [unit.text]
            # an HTML page's text is what it renders: markup in it is shown (a tutorial), not meant
            text_context = [*context, RENDERED] if unit.format.startswith(("html", "xhtml")) else context
            for det, classifier, value in self.classifiers.detect(chunks, context=text_context):
                span = unit.field_at(det.start) if unit.fields else None
                base = span.start if span else 0
                if span is not None and det.end > span.end:
                    det = type(det)(det.entity_type, det.start, span.end, det.score, det.detector)
                    value = value[: span.end - det.start]
                findings.append(
                    self.classifiers.finding(det, classifier, value, field=span.name if span else None, base=base)
                )
            if unit.hidden_text:
                hidden_context = [*context, HIDDEN_FIELD]
                for det, classifier, value in self.classifiers.detect([unit.hidden_text], context=hidden_context):
                    findings.append(self.classifiers.finding(det, classifier, value, field=HIDDEN_FIELD, base=0))
            meta = _meta_text(unit) if self.rights is not None else ""
            if meta and self.rights is not None:
                for det, classifier, value in self.classifiers.detect_only(self.rights, meta, context=[META_FIELD]):
                    findings.append(self.classifiers.finding(det, classifier, value, field=META_FIELD, base=0))
            if unit.embedded_rights and self.rights is not None:
                embedded = self.classifiers.detect_only(self.rights, unit.embedded_rights, context=[EMBEDDED_C2PA])
                for det, classifier, value in embedded:
                    findings.append(self.classifiers.finding(det, classifier, value, field=EMBEDDED_C2PA, base=0))
            if self.rights is not None:
                for name, lines in declared:
                    for det, classifier, value in self.classifiers.detect_only(self.rights, lines, context=[name]):
                        findings.append(self.classifiers.finding(det, classifier, value, field=name, base=0))
        except Exception as exc:
            reason = describe_exception(exc)
            out.documents.append(document_row(unit, obj, status="failed", reason=reason, partial=True))
            tally.add("failed", None, None, reason if isinstance(exc, LimitExceededError) else None)
            return
        sha, size, partial = unit.content_sha256, unit.size_bytes, unit.partial
        if isinstance(unit.text, LazyText):
            sha, size, partial = unit.text.sha256, unit.text.size_bytes, unit.text.partial
        outcome = honour(self.labeler.decide(findings), unit.existing_label, self.taxonomy)
        counts = Counter(f.entity_type for f in findings)
        signals = rights_signals(findings)
        out.documents.append(
            document_row(
                unit,
                obj,
                status="scanned",
                reason=partial,
                outcome=outcome,
                counts=counts,
                risks=sorted({f.entity_type for f in findings if is_risk(f.entity_type)}),
                sha256=sha,
                size=size,
                partial=partial is not None,
                rights=signals,
            )
        )
        out.findings.extend(finding_row(unit, f) for f in findings)
        tally.add("scanned", outcome, counts, partial, rights=signals)
