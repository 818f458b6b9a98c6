"""`slo_definitions/observability.yaml`: the services whose coverage is checked, and the checks' thresholds.

The services come from this file, never from a backend: a service that Jaeger or OpenSearch does not report
is a gap (or "no data" when the backend failed), not a service that silently drops out of the share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from app.config import REPO_ROOT
from app.filecache import FileCache, UnreadableFile, read_yaml
from app.scorecard.definition import _Reader

DEFAULT_PATH = REPO_ROOT / "slo_definitions" / "observability.yaml"
KIND = "ObservabilityCoverage"
_SPEC = {"target", "within", "structuredFields", "structuredAtLeast", "logsIndex", "services", "leakage"}


class CoverageError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid observability coverage file:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Service:
    name: str
    scrape_job: str  # the Prometheus job that scrapes its metrics
    metric: str  # a series it always exports, labelled service="<name>"


@dataclass(frozen=True)
class Coverage:
    target: float
    within: timedelta
    structured_fields: tuple[str, ...]
    structured_at_least: float
    logs_index: str
    services: tuple[Service, ...]
    leakage_within: timedelta
    leakage_sample: int


def _parse(path: Path) -> Coverage:
    r = _Reader(str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path))
    try:
        doc = read_yaml(path)
    except UnreadableFile as exc:
        raise CoverageError([str(exc)]) from None
    top = r.mapping(doc, "(document)")
    if top.get("kind") != KIND:
        r.problem("kind", f"must be {KIND}")
    spec = r.mapping(top.get("spec"), "spec")
    r.unknown(spec, _SPEC, "spec")
    services = []
    for name, entry in r.mapping(spec.get("services"), "spec.services").items():
        where = f"spec.services.{name}"
        fields: Mapping[str, Any] = r.mapping(entry, where)
        r.unknown(fields, {"scrapeJob", "metric"}, where)
        services.append(
            Service(str(name), r.text(fields.get("scrapeJob"), f"{where}.scrapeJob"),
                    r.text(fields.get("metric"), f"{where}.metric"))
        )  # fmt: skip
    if not services:
        r.problem("spec.services", "must list at least one service")
    leakage = r.mapping(spec.get("leakage"), "spec.leakage")
    r.unknown(leakage, {"within", "sample"}, "spec.leakage")
    sample = leakage.get("sample")
    if not isinstance(sample, int) or isinstance(sample, bool) or sample <= 0:
        r.problem("spec.leakage.sample", f"must be a positive number of documents, got {sample!r}")
    out = Coverage(
        target=r.share(spec.get("target"), "spec.target"),
        within=r.duration(spec.get("within"), "spec.within"),
        structured_fields=r.names(spec.get("structuredFields"), "spec.structuredFields"),
        structured_at_least=r.share(spec.get("structuredAtLeast"), "spec.structuredAtLeast"),
        logs_index=r.text(spec.get("logsIndex"), "spec.logsIndex"),
        services=tuple(services),
        leakage_within=r.duration(leakage.get("within"), "spec.leakage.within"),
        leakage_sample=sample if isinstance(sample, int) else 0,
    )
    if r.problems:
        raise CoverageError(r.problems)
    return out


_CACHE: FileCache[Coverage] = FileCache(_parse)


def coverage(path: Path = DEFAULT_PATH) -> Coverage:
    """The coverage file, parsed once per change; CoverageError names every problem."""
    return _CACHE.get(path)
