"""The acceptance criteria judged from their figures (pure): one `Criterion` per row of the scorecard.

A criterion is "met" or "not met" against its target, or "no data" when a figure it needs is missing: a
query that failed or came back empty, a service, path or dataset that reports nothing. Missing data never
meets a criterion.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import pandas as pd

from app.controls.status import GRADES, ControlStatus, Grade
from app.scorecard.definition import Acceptance
from app.timerange import PRESET_LABELS, PRESETS
from app.units import format_seconds

AREAS = ("CI", "Tests", "Golden datasets", "Chaos", "Load", "Observability", "Security")
VERDICTS = ("not met", "no data", "met")  # worst first


@dataclass(frozen=True)
class Answer:
    """One query's answer: its frame, or why there is none."""

    frame: pd.DataFrame | None
    error: str | None = None

    def values(self, label: str | None = None) -> dict[str, float] | None:
        """label value -> figure (one series: key ""), NaN figures left out; None without an answer."""
        if self.frame is None:
            return None
        if self.frame.empty:
            return {}
        keys = (
            self.frame[label].astype(str) if label and label in self.frame.columns else [""] * len(self.frame)
        )
        return {
            k: float(v) for k, v in zip(keys, self.frame["value"], strict=True) if not math.isnan(float(v))
        }

    def why(self) -> str:
        return self.error or "nothing was reported"


Answers = Mapping[str, Answer]


@dataclass(frozen=True)
class Criterion:
    key: str  # stable id, for trends and changes: "ci.median_duration", "golden.extraction"
    area: str  # one of AREAS
    title: str
    target: str  # in words
    figure: str  # the figure now, in words
    verdict: str  # one of VERDICTS
    reason: str  # one sentence: why this verdict
    value: float | None = None  # the number a trend compares
    better: str = "higher"  # which way `value` improves: "higher", "lower" or "either"
    detail: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)


def _no_data(key: str, area: str, title: str, target: str, why: str, better: str = "higher") -> Criterion:
    return Criterion(key, area, title, target, "no data", "no data", f"No figure: {why}.", None, better)


def _verdict(ok: bool) -> str:
    return "met" if ok else "not met"


def percent(value: float) -> str:
    return f"{value * 100:.3g}%" if value < 0.995 else f"{value * 100:.4g}%"


# -- CI --------------------------------------------------------------------------------------------------


def span_words(window: timedelta) -> str:
    """ "last 24 hours" for a preset's length, else "last 3.0 h"."""
    preset = next((k for k, v in PRESETS.items() if v == window), None)
    return PRESET_LABELS[preset].lower() if preset else f"last {format_seconds(window.total_seconds())}"


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def ci(a: Acceptance, answers: Answers, window: timedelta) -> list[Criterion]:
    span = span_words(window)
    runs = answers["ci_runs"].values("result")
    out = []
    if runs is None:
        why = answers["ci_runs"].why()
        out += [
            _no_data("ci.runs", "CI", "Pipeline runs", f"at least one over the {span}", why, "either"),
            _no_data("ci.pass_rate", "CI", "Pass rate", f"at least {percent(a.pass_rate_at_least)}", why),
        ]
    else:
        total, passed = sum(runs.values()), runs.get("success", 0.0)
        out.append(
            Criterion(
                "ci.runs",
                "CI",
                "Pipeline runs",
                f"at least one over the {span}",
                f"{total:,.0f} runs",
                _verdict(total >= 1),
                f"{total:,.0f} runs of {a.pipeline} finished over the {span}, {passed:,.0f} passed.",
                total,
                "either",
            )
        )
        if total:
            rate = passed / total
            out.append(
                Criterion(
                    "ci.pass_rate",
                    "CI",
                    "Pass rate",
                    f"at least {percent(a.pass_rate_at_least)}",
                    percent(rate),
                    _verdict(rate >= a.pass_rate_at_least),
                    f"{passed:,.0f} of {total:,.0f} runs passed over the {span}.",
                    rate,
                )
            )
        else:
            target = f"at least {percent(a.pass_rate_at_least)}"
            out.append(_no_data("ci.pass_rate", "CI", "Pass rate", target, f"no run over the {span}"))
    limit = a.median_duration_below.total_seconds()
    target = f"under {format_seconds(limit)}"
    median = (answers["ci_median_duration"].values() or {}).get("")
    if median is None:
        why = answers["ci_median_duration"].error or f"no run over the {span}"
        out.append(_no_data("ci.median_duration", "CI", "Median run time", target, why, "lower"))
    else:
        out.append(
            Criterion(
                "ci.median_duration",
                "CI",
                "Median run time",
                target,
                format_seconds(median),
                _verdict(median < limit),
                f"Half the runs over the {span} took less than {format_seconds(median)} "
                f"(the playbook asks for under {format_seconds(limit)}).",
                median,
                "lower",
            )
        )
    out.append(_blocking(a, answers["ci_blocking"]))
    return out


def _blocking(a: Acceptance, answer: Answer) -> Criterion:
    title, target = "Blocking checks", f"{', '.join(a.blocking_checks)} block a merge"
    checks = answer.values("check")
    if checks is None:
        return _no_data("ci.blocking", "CI", title, target, answer.why())
    missing = [c for c in a.blocking_checks if c not in checks]
    if missing:
        return _no_data(
            "ci.blocking", "CI", title, target, f"the CI reports nothing for {', '.join(missing)}"
        )
    loose = [c for c in a.blocking_checks if checks[c] < 1]
    blocking = len(a.blocking_checks) - len(loose)
    reason = (
        f"{', '.join(loose)} {'does' if len(loose) == 1 else 'do'} not block a merge on {a.pipeline}."
        if loose
        else f"Every required check blocks a merge on {a.pipeline}."
    )
    figure = f"{blocking} of {len(a.blocking_checks)} blocking"
    return Criterion("ci.blocking", "CI", title, target, figure, _verdict(not loose), reason, blocking)


# -- tests -----------------------------------------------------------------------------------------------


def tests(a: Acceptance, answers: Answers) -> list[Criterion]:
    return [_coverage(a, answers["unit_coverage"]), _e2e(a, answers), _nightly(a, answers)]


def _coverage(a: Acceptance, answer: Answer) -> Criterion:
    title, target = "Unit test coverage", f"at least {percent(a.coverage_at_least)} in every service"
    values = answer.values("service")
    if values is None:
        return _no_data("tests.coverage", "Tests", title, target, answer.why())
    missing = [s for s in a.services if s not in values]
    if missing:
        return _no_data("tests.coverage", "Tests", title, target, f"no coverage for {', '.join(missing)}")
    detail = pd.DataFrame(
        [{"service": s, "coverage": values[s], "meets": values[s] >= a.coverage_at_least} for s in a.services]
    ).sort_values("coverage", ignore_index=True)
    low = detail[~detail["meets"]]
    lowest = detail.iloc[0]
    lowest_text = f"lowest {lowest['service']} {percent(lowest['coverage'])}"
    figure = f"{len(detail) - len(low)} of {len(detail)} services; {lowest_text}"
    reason = (
        f"Below {percent(a.coverage_at_least)}: "
        + ", ".join(f"{r['service']} ({percent(r['coverage'])})" for _, r in low.iterrows())
        + "."
        if not low.empty
        else f"Every service at {percent(a.coverage_at_least)} or more."
    )
    return Criterion(
        "tests.coverage",
        "Tests",
        title,
        target,
        figure,
        _verdict(low.empty),
        reason,
        float(lowest["coverage"]),
        detail=detail,
    )


def _e2e(a: Acceptance, answers: Answers) -> Criterion:
    within = format_seconds(a.nightly_within.total_seconds())
    title, target = "End-to-end critical paths", f"every path passing, run within {within}"
    results, ages = answers["e2e_results"].values("path"), answers["e2e_age"].values("path")
    if results is None or ages is None:
        why = (answers["e2e_results"] if results is None else answers["e2e_age"]).why()
        return _no_data("tests.e2e", "Tests", title, target, why)
    missing = [p for p in a.critical_paths if p not in results or p not in ages]
    if missing:
        return _no_data("tests.e2e", "Tests", title, target, f"no run of {', '.join(missing)} reported")
    failed = [p for p in a.critical_paths if results[p] < 1]
    old = [p for p in a.critical_paths if ages[p] > a.nightly_within.total_seconds()]
    passing = len(a.critical_paths) - len(failed)
    problems = ([f"failing: {', '.join(failed)}"] if failed else []) + (
        [f"not run within {within}: {', '.join(old)}"] if old else []
    )
    reason = (
        (sentence("; ".join(problems)) + ".")
        if problems
        else (
            f"All {len(a.critical_paths)} critical paths passed in their last run, "
            f"{format_seconds(max(ages[p] for p in a.critical_paths))} ago at most."
        )
    )
    detail = pd.DataFrame(
        [{"path": p, "passed": results[p] >= 1, "ran_ago_h": ages[p] / 3600} for p in a.critical_paths]
    )
    figure = f"{passing} of {len(a.critical_paths)} passing"
    return Criterion(
        "tests.e2e", "Tests", title, target, figure, _verdict(not problems), reason, passing, detail=detail
    )


def _nightly(a: Acceptance, answers: Answers) -> Criterion:
    within = format_seconds(a.nightly_within.total_seconds())
    title, target = "Nightly regression", f"no failure, run within {within}"
    results, age = answers["nightly_results"].values("result"), answers["nightly_age"].values()
    if results is None or age is None:
        why = (answers["nightly_results"] if results is None else answers["nightly_age"]).why()
        return _no_data("tests.nightly", "Tests", title, target, why, "lower")
    if "failed" not in results or "" not in age:
        return _no_data("tests.nightly", "Tests", title, target, "no nightly run reported", "lower")
    failed, ago = results["failed"], age[""]
    figure = f"{results.get('passed', 0):,.0f} passed, {failed:,.0f} failed"
    fresh = ago <= a.nightly_within.total_seconds()
    skipped = results.get("skipped", 0)
    reason = f"The last nightly run, {format_seconds(ago)} ago: {figure}, {skipped:,.0f} skipped."
    if not fresh:
        reason += f" It is older than {within}."
    return Criterion(
        "tests.nightly",
        "Tests",
        title,
        target,
        figure,
        _verdict(failed == 0 and fresh),
        reason,
        failed,
        "lower",
    )


# -- golden datasets -------------------------------------------------------------------------------------


def golden(a: Acceptance, answers: Answers) -> list[Criterion]:
    return [_golden(a, kind, dataset, answers) for kind, dataset in a.golden.items()]


def _golden(a: Acceptance, kind: str, dataset: str, answers: Answers) -> Criterion:
    key, title = f"golden.{kind}", f"Golden {kind} outputs"
    within = format_seconds(a.golden_within.total_seconds())
    target = f"every output within tolerance, hash verified, run within {within}"
    names = ("golden_divergence", "golden_tolerance", "golden_hash", "golden_age")
    if any(answers[n].frame is None for n in names):
        why = next(answers[n].why() for n in names if answers[n].frame is None)
        return _no_data(key, "Golden datasets", title, target, why, "lower")
    div, tol = (
        _per_output(answers["golden_divergence"], dataset),
        _per_output(answers["golden_tolerance"], dataset),
    )
    hashed = (answers["golden_hash"].values("dataset") or {}).get(dataset)
    age = (answers["golden_age"].values("dataset") or {}).get(dataset)
    if not div or set(div) != set(tol) or hashed is None or age is None:
        return _no_data(key, "Golden datasets", title, target, f"{dataset} reports no complete run", "lower")
    detail = pd.DataFrame(
        [
            {
                "dataset": dataset,
                "output": o,
                "divergence": div[o],
                "tolerance": tol[o],
                "within": div[o] <= tol[o],
            }
            for o in sorted(div)
        ]
    )
    beyond = detail[~detail["within"]]
    problems = [
        f"in {dataset}, {r['output']} diverges by {percent(r['divergence'])}, beyond its "
        f"{percent(r['tolerance'])} tolerance"
        for _, r in beyond.iterrows()
    ]
    if hashed < 1:
        problems.append(f"the hash of {dataset} does not match its recorded hash")
    if age > a.golden_within.total_seconds():
        problems.append(f"{dataset} last ran {format_seconds(age)} ago")
    if beyond.empty:
        figure = f"{len(detail)} of {len(detail)} outputs within tolerance"
    else:
        top = beyond.iloc[0]
        figure = f"{top['output']} {percent(top['divergence'])} (tolerance {percent(top['tolerance'])})"
    reason = (
        (sentence("; ".join(problems)) + ".")
        if problems
        else (f"Every output of {dataset} within tolerance, hash verified, {format_seconds(age)} ago.")
    )
    return Criterion(
        key,
        "Golden datasets",
        title,
        target,
        figure,
        _verdict(not problems),
        reason,
        float(len(beyond)),
        "lower",
        detail,
    )


def _per_output(answer: Answer, dataset: str) -> dict[str, float]:
    frame = answer.frame
    if frame is None or frame.empty or not {"dataset", "output"} <= set(frame.columns):
        return {}
    mine = frame[frame["dataset"] == dataset]
    return {str(o): float(v) for o, v in zip(mine["output"], mine["value"], strict=True)}


# -- chaos -----------------------------------------------------------------------------------------------


def chaos(a: Acceptance, answers: Answers) -> list[Criterion]:
    results = answers["chaos_results"].values("experiment")
    recovery = answers["chaos_recovery"].values("experiment")
    ages = answers["chaos_age"].values("experiment")
    within = format_seconds(a.chaos_within.total_seconds())
    out = []
    for e in a.experiments:
        key, title = f"chaos.{e.name}", f"Chaos: {e.title}"
        allowed = format_seconds(e.recover_within.total_seconds())
        target = f"steady state held, recovered within {allowed}, run within {within}"
        if results is None or recovery is None or ages is None:
            why = next(
                answers[n].why()
                for n in ("chaos_results", "chaos_recovery", "chaos_age")
                if answers[n].frame is None
            )
            out.append(_no_data(key, "Chaos", title, target, why, "lower"))
            continue
        if e.name not in results or e.name not in recovery or e.name not in ages:
            out.append(_no_data(key, "Chaos", title, target, f"no run of {e.name} reported", "lower"))
            continue
        held, took, ago = results[e.name] >= 1, recovery[e.name], ages[e.name]
        fast = took <= e.recover_within.total_seconds()
        fresh = ago <= a.chaos_within.total_seconds()
        figure = f"{'held' if held else 'failed'}, recovered in {format_seconds(took)}"
        reason = (
            f"The last {e.title} experiment, {format_seconds(ago)} ago: the steady state "
            f"{'held' if held else 'did not hold'} and recovery took {format_seconds(took)}"
            f"{'' if fast else f', longer than the {allowed} allowed'}"
            f"{'' if fresh else f'; it is older than {within}'}."
        )
        out.append(
            Criterion(
                key, "Chaos", title, target, figure, _verdict(held and fast and fresh), reason, took, "lower"
            )
        )
    return out


# -- load ------------------------------------------------------------------------------------------------


def load(a: Acceptance, answers: Answers) -> Criterion:
    title = f"Load test ({a.load_test}): p95 per service"
    target = "every service's p95 within its SLO's latency"
    p95, age = answers["load_p95"].values("service"), answers["load_age"].values()
    if p95 is None or age is None:
        return _no_data(
            "load.p95",
            "Load",
            title,
            target,
            (answers["load_p95"] if p95 is None else answers["load_age"]).why(),
        )
    missing = [t.service for t in a.load_targets if t.service not in p95]
    if missing or "" not in age:
        why = f"no p95 for {', '.join(missing)}" if missing else "no run reported"
        return _no_data("load.p95", "Load", title, target, why)
    detail = pd.DataFrame(
        [
            {
                "service": t.service,
                "p95_s": p95[t.service],
                "limit_s": t.p95_below.total_seconds(),
                "slo": t.slo or "team target",
                "within": p95[t.service] <= t.p95_below.total_seconds(),
            }
            for t in a.load_targets
        ]
    )
    slow = detail[~detail["within"]]
    fresh = age[""] <= a.load_within.total_seconds()
    within = len(detail) - len(slow)
    figure = f"{within} of {len(detail)} services within"
    problems = [
        f"{r['service']} p95 {format_seconds(r['p95_s'])} above {format_seconds(r['limit_s'])}"
        for _, r in slow.iterrows()
    ]
    if not fresh:
        problems.append(f"the last run is {format_seconds(age[''])} old")
    reason = (
        (sentence("; ".join(problems)) + ".")
        if problems
        else (f"Every service's p95 within its limit in the last run, {format_seconds(age[''])} ago.")
    )
    return Criterion(
        "load.p95",
        "Load",
        title,
        target,
        figure,
        _verdict(not problems),
        reason,
        float(within),
        detail=detail,
    )


# -- observability and security --------------------------------------------------------------------------


def observability(a: Acceptance, coverage: float | None, why: str) -> Criterion:
    title, target = "Observability coverage", f"{percent(a.observability_at_least)} of services"
    if coverage is None:
        return _no_data("observability.coverage", "Observability", title, target, why)
    return Criterion(
        "observability.coverage",
        "Observability",
        title,
        target,
        percent(coverage),
        _verdict(coverage >= a.observability_at_least),
        f"{percent(coverage)} of services export metrics, traces and logs with alert runbooks.",
        coverage,
    )


def security(
    a: Acceptance,
    grade: Grade | None,
    statuses: Mapping[str, ControlStatus],
    why: str,
    titles: Mapping[str, str] | None = None,
) -> list[Criterion]:
    """The posture grade and each control the criteria name; a control without a status is "no data" under
    its title (`titles`: id -> title, from the controls file), its id only when even that is unknown."""
    title, target = "Security posture grade", f"{a.grade} (what an auditor accepts)"
    if grade is None or not sum(grade.counts.values()):
        out = [_no_data("security.grade", "Security", title, target, why)]
    elif grade.word == "Unknown":
        out = [Criterion("security.grade", "Security", title, target, "Unknown", "no data", grade.summary)]
    else:
        rank = GRADES.index(grade.word)
        out = [
            Criterion(
                "security.grade",
                "Security",
                title,
                target,
                grade.word,
                _verdict(rank >= GRADES.index(a.grade)),
                grade.summary,
                float(rank),
            )
        ]
    for control_id in a.security_controls:
        status = statuses.get(control_id)
        key = f"security.{control_id}"
        if status is None:
            title = (titles or {}).get(control_id, control_id)
            out.append(_no_data(key, "Security", title, "control met", why))
            continue
        verdict = {"met": "met", "no evidence": "no data"}.get(status.status, "not met")
        target = "control met (live evidence, review current)"
        figure = f"{status.status}: {status.figure}"
        value = float(status.status == "met")
        out.append(
            Criterion(key, "Security", status.control.title, target, figure, verdict, status.reason, value)
        )
    return out
