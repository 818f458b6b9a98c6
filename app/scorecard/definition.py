"""The acceptance criteria file (`slo_definitions/acceptance.yaml`): the playbook's targets, validated.

The criteria themselves (which figures, how judged) are code in `app.scorecard.criteria`; the file holds what
a reviewer may change: the targets, the datasets, experiments, services and paths they apply to, and which
security controls stand for the playbook's security bar. Every problem names the file and the field
(`slo_definitions/acceptance.yaml: spec.load.p95Below.gateway.max: …`), all at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from app import queries
from app.config import REPO_ROOT
from app.controls.definition import DEFAULT_PATH as CONTROLS_PATH
from app.controls.definition import ControlsError, controls
from app.controls.status import GRADES
from app.dashboards.spec import known_slos
from app.filecache import FileCache, UnreadableFile, read_yaml

DEFAULT_PATH = REPO_ROOT / "slo_definitions" / "acceptance.yaml"
API_VERSION = "sextant/v1"
KIND = "AcceptanceCriteria"
GOLDEN_KINDS = ("extraction", "ledger", "tax")

_SECTIONS: dict[str, set[str]] = {
    "ci": {"pipeline", "medianDurationBelow", "passRateAtLeast", "blockingChecks"},
    "tests": {"coverageAtLeast", "services", "criticalPaths", "nightlyWithin"},
    "golden": {"datasets", "ranWithin"},
    "chaos": {"experiments", "ranWithin"},
    "load": {"test", "ranWithin", "p95Below"},
    "observability": {"coverageAtLeast"},
    "security": {"grade", "controls"},
}


class AcceptanceError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid acceptance criteria:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    recover_within: timedelta


@dataclass(frozen=True)
class LoadTarget:
    service: str
    p95_below: timedelta
    slo: str | None  # the SLO whose latency threshold this is, if any


@dataclass(frozen=True)
class Acceptance:
    pipeline: str
    median_duration_below: timedelta
    pass_rate_at_least: float
    blocking_checks: tuple[str, ...]
    coverage_at_least: float
    services: tuple[str, ...]
    critical_paths: tuple[str, ...]
    nightly_within: timedelta
    golden: dict[str, str]  # extraction / ledger / tax -> dataset
    golden_within: timedelta
    experiments: tuple[Experiment, ...]
    chaos_within: timedelta
    load_test: str
    load_within: timedelta
    load_targets: tuple[LoadTarget, ...]
    observability_at_least: float
    grade: str
    security_controls: tuple[str, ...]
    source: str = "<memory>"


def load_acceptance(path: str | Path = DEFAULT_PATH) -> Acceptance:
    path = Path(path)
    try:
        raw = read_yaml(path)
    except UnreadableFile as exc:
        raise AcceptanceError([str(exc)]) from exc
    return parse_acceptance(raw, str(path))


_files = FileCache(load_acceptance)


def acceptance(path: str | Path = DEFAULT_PATH) -> Acceptance:
    """The criteria of `path`, parsed again only when the file changes."""
    return _files.get(path)


def parse_acceptance(raw: Any, source: str = "<memory>", controls_path: Path = CONTROLS_PATH) -> Acceptance:
    r = _Reader(source)
    if not isinstance(raw, Mapping) or raw.get("apiVersion") != API_VERSION or raw.get("kind") != KIND:
        raise AcceptanceError([f"{source}: must be apiVersion {API_VERSION}, kind {KIND}"])
    spec = r.mapping(raw.get("spec"), "spec")
    r.unknown(spec, set(_SECTIONS), "spec")
    s = {name: r.mapping(spec.get(name), f"spec.{name}") for name in _SECTIONS}
    for name, keys in _SECTIONS.items():
        r.unknown(s[name], keys, f"spec.{name}")
    golden = r.mapping(s["golden"].get("datasets"), "spec.golden.datasets")
    if set(golden) != set(GOLDEN_KINDS):
        r.problem("spec.golden.datasets", f"needs one dataset for each of {', '.join(GOLDEN_KINDS)}")
    experiments = []
    for name, node in r.mapping(s["chaos"].get("experiments"), "spec.chaos.experiments").items():
        where = f"spec.chaos.experiments.{name}"
        node = r.mapping(node, where)
        r.unknown(node, {"title", "recoverWithin"}, where)
        experiments.append(
            Experiment(
                str(name),
                r.text(node.get("title"), f"{where}.title"),
                r.duration(node.get("recoverWithin"), f"{where}.recoverWithin"),
            )
        )
    slos = known_slos()
    targets = []
    for service, node in r.mapping(s["load"].get("p95Below"), "spec.load.p95Below").items():
        where = f"spec.load.p95Below.{service}"
        node = r.mapping(node, where)
        r.unknown(node, {"max", "slo"}, where)
        slo = node.get("slo")
        if slo is not None and slo not in slos:
            r.problem(f"{where}.slo", f"no SLO {slo!r} in slo_definitions/")
        targets.append(LoadTarget(str(service), r.duration(node.get("max"), f"{where}.max"), slo))
    grade = s["security"].get("grade")
    if grade not in GRADES:
        r.problem("spec.security.grade", f"must be one of {', '.join(GRADES)}, got {grade!r}")
    wanted = r.names(s["security"].get("controls"), "spec.security.controls")
    try:
        ids = {c.id for c in controls(controls_path).controls}
    except ControlsError:
        ids = set(wanted)  # the controls file reports its own problems on the Security page
    for control in wanted:
        if control not in ids:
            r.problem("spec.security.controls", f"no control {control!r} in {controls_path.name}")
    acceptance = Acceptance(
        pipeline=r.text(s["ci"].get("pipeline"), "spec.ci.pipeline"),
        median_duration_below=r.duration(s["ci"].get("medianDurationBelow"), "spec.ci.medianDurationBelow"),
        pass_rate_at_least=r.share(s["ci"].get("passRateAtLeast"), "spec.ci.passRateAtLeast"),
        blocking_checks=r.names(s["ci"].get("blockingChecks"), "spec.ci.blockingChecks"),
        coverage_at_least=r.share(s["tests"].get("coverageAtLeast"), "spec.tests.coverageAtLeast"),
        services=r.names(s["tests"].get("services"), "spec.tests.services"),
        critical_paths=r.names(s["tests"].get("criticalPaths"), "spec.tests.criticalPaths"),
        nightly_within=r.duration(s["tests"].get("nightlyWithin"), "spec.tests.nightlyWithin"),
        golden={str(k): r.text(v, f"spec.golden.datasets.{k}") for k, v in golden.items()},
        golden_within=r.duration(s["golden"].get("ranWithin"), "spec.golden.ranWithin"),
        experiments=tuple(experiments),
        chaos_within=r.duration(s["chaos"].get("ranWithin"), "spec.chaos.ranWithin"),
        load_test=r.text(s["load"].get("test"), "spec.load.test"),
        load_within=r.duration(s["load"].get("ranWithin"), "spec.load.ranWithin"),
        load_targets=tuple(targets),
        observability_at_least=r.share(
            s["observability"].get("coverageAtLeast"), "spec.observability.coverageAtLeast"
        ),
        grade=str(grade),
        security_controls=wanted,
        source=source,
    )
    if r.problems:
        raise AcceptanceError(r.problems)
    return acceptance


class _Reader:
    """Reads fields, collecting every problem (the values returned for a bad field are placeholders: the
    caller raises before using them)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{self.source}: {where}: {message}")

    def unknown(self, node: Mapping[str, Any], allowed: set[str], where: str) -> None:
        for key in node:
            if key not in allowed:
                self.problem(f"{where}.{key}", f"unknown key (expected one of {', '.join(sorted(allowed))})")

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.problem(where, "must be a mapping")
            return {}
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.problem(where, "is required (text)")
            return ""
        return value.strip()

    def names(self, value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            self.problem(where, "must be a non-empty list of names")
            return ()
        return tuple(value)

    def duration(self, value: Any, where: str) -> timedelta:
        try:
            delay = queries.duration_timedelta(str(value))
        except ValueError:
            delay = timedelta(0)
        if delay <= timedelta(0):
            self.problem(where, f"must be a duration such as 20m or 26h, got {value!r}")
        return delay

    def share(self, value: Any, where: str) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or not 0 <= value <= 1:
            self.problem(where, f"must be a share between 0 and 1, got {value!r}")
            return math.nan
        return float(value)
