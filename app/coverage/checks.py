"""The five coverage checks of one service, judged from what the backends said (pure: no I/O).

Each check is "pass", "gap" (the backend answered and the service falls short) or "no data" (the backend
could not be read): a failing backend never passes a check. A service passes when all five pass; the share
counts services that pass against every service of the definition file, so a service with "no data" is not
counted as covered either, and the share itself is "no data" when no service could be judged at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.alerting.runbooks import Runbook, resolve
from app.coverage.definition import Coverage, Service

CHECKS = ("metrics", "traces", "logs", "alert rules", "runbooks")
VERDICTS = ("gap", "no data", "pass")  # worst first


@dataclass(frozen=True)
class Check:
    name: str  # one of CHECKS
    verdict: str  # one of VERDICTS
    reason: str  # what was found, in words
    fix: str = ""  # how to close the gap ("" unless verdict is "gap")


@dataclass(frozen=True)
class LogCounts:
    documents: int
    structured: int  # documents carrying every structured field


@dataclass(frozen=True)
class ServiceFacts:
    """What the backends said of one service; None: that backend could not be read."""

    target_up: bool | None  # its scrape job's targets all up (False also when the job has no target)
    exports: bool | None  # its metric is there now
    traced: bool | None  # Jaeger has a trace of it in the window
    logs: LogCounts | None
    rules: Sequence[Mapping[str, object]] | None  # Prometheus's alerting rules labelled with the service


@dataclass(frozen=True)
class ServiceCoverage:
    service: str
    checks: tuple[Check, ...]

    @property
    def verdict(self) -> str:
        """ "gap" if any check has one, else "no data" if any is unknown, else "pass"."""
        return min((c.verdict for c in self.checks), key=VERDICTS.index)

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)


def _unknown(name: str, backend: str) -> Check:
    return Check(name, "no data", f"not known: {backend} could not be read")


def metrics(service: Service, facts: ServiceFacts) -> Check:
    if facts.target_up is None or facts.exports is None:
        return _unknown("metrics", "Prometheus")
    if not facts.target_up:
        return Check(
            "metrics", "gap", f"scrape job {service.scrape_job} is down or has no target",
            f"Make Prometheus scrape job {service.scrape_job} reach {service.name}'s exporter again "
            "(runbook: scrape-target-down).",
        )  # fmt: skip
    if not facts.exports:
        return Check(
            "metrics", "gap", f"no {service.metric} series for {service.name}",
            f"Export {service.metric}{{service=\"{service.name}\"}} from {service.name}.",
        )  # fmt: skip
    return Check("metrics", "pass", f"scrape job {service.scrape_job} up, {service.metric} exported")


def traces(service: Service, facts: ServiceFacts, window: str) -> Check:
    if facts.traced is None:
        return _unknown("traces", "Jaeger")
    if not facts.traced:
        return Check(
            "traces", "gap", f"Jaeger saw no trace of {service.name} in the last {window}",
            f"Check {service.name}'s trace exporter (OTLP endpoint, sampler): Jaeger must receive its spans.",
        )  # fmt: skip
    return Check("traces", "pass", f"Jaeger saw {service.name} in the last {window}")


def logs(service: Service, facts: ServiceFacts, coverage: Coverage, window: str) -> Check:
    if facts.logs is None:
        return _unknown("logs", "OpenSearch")
    fields = ", ".join(coverage.structured_fields)
    if not facts.logs.documents:
        return Check(
            "logs", "gap", f"no log document from {service.name} in the last {window}",
            f"Check {service.name}'s log shipping into {coverage.logs_index}.",
        )  # fmt: skip
    share = facts.logs.structured / facts.logs.documents
    found = f"{facts.logs.documents:,} documents, {share:.1%} with {fields}"
    if share < coverage.structured_at_least:
        return Check(
            "logs", "gap", found,
            f"Log {fields} on every line of {service.name} (at least {coverage.structured_at_least:.0%}).",
        )  # fmt: skip
    return Check("logs", "pass", found)


def rule_checks(service: Service, facts: ServiceFacts) -> tuple[Check, Check]:
    """ "alert rules" (it has at least one) and "runbooks" (every one of them has a runbook to open)."""
    if facts.rules is None:
        return _unknown("alert rules", "Prometheus's rules"), _unknown("runbooks", "Prometheus's rules")
    if not facts.rules:
        fix = f"Give {service.name} an SLO in slo_definitions/ (burn-rate alerts) or an alert rule."
        none = Check("alert rules", "gap", f"no alerting rule labelled service={service.name}", fix)
        return none, Check("runbooks", "gap", "no alert, so no runbook", fix)
    names = sorted({str(r.get("name", "")) for r in facts.rules})
    has = Check("alert rules", "pass", f"{len(names)} alert{'s' if len(names) > 1 else ''}")
    missing = sorted({str(r.get("name", "")) for r in facts.rules if runbook_of(r) is None})
    if missing:
        return has, Check(
            "runbooks", "gap", "no runbook for " + ", ".join(missing),
            "Write runbooks/<name>.md and name it in the rule's runbook_url (an SLO's sextant/runbook).",
        )  # fmt: skip
    return has, Check("runbooks", "pass", f"every one of {len(names)} alerts has a runbook")


def runbook_of(rule: Mapping[str, object]) -> Runbook | None:
    annotations = rule.get("annotations")
    url = annotations.get("runbook_url") if isinstance(annotations, Mapping) else None
    return resolve(str(url) if url else None)


def judge(service: Service, facts: ServiceFacts, coverage: Coverage, window: str) -> ServiceCoverage:
    return ServiceCoverage(
        service.name,
        (
            metrics(service, facts),
            traces(service, facts, window),
            logs(service, facts, coverage, window),
            *rule_checks(service, facts),
        ),
    )


def share(services: Sequence[ServiceCoverage]) -> float | None:
    """Services passing all five over every service; None when any could not be judged ("no data"): with
    Prometheus down, "0 of 6 (0%)" counted five services that might well pass as failing."""
    if not services or any(s.verdict == "no data" for s in services):
        return None
    return sum(s.verdict == "pass" for s in services) / len(services)
