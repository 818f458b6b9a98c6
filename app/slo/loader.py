"""Read SLO definitions from `slo_definitions/*.yaml`: OpenSLO v1 (`kind: SLO`) and Sloth `prometheus/v1`.

Every problem is reported as a `DefinitionError` naming the file, the field path
(`spec.objectives[0].target`) and what is wrong, all problems of a file at once. A file with any problem
contributes no SLO at all (nothing is half-loaded), and the other files still load.

Documents with an `apiVersion` of `sextant/…` (the filing readiness score) are not SLOs and are skipped.
OpenSLO `kind: Service` documents are accepted and ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import yaml

from app.filecache import FileCache, yaml_documents
from app.slo.model import (
    DEFAULT_MIN_EVENTS,
    DOMAINS,
    AlertingOptions,
    Budgeting,
    CalendarUnit,
    Indicator,
    Operator,
    SloDefinition,
    TimeWindow,
    parse_duration,
)
from app.slo.promql_check import Validator, local_problems, render

DEFAULT_DIRECTORY = Path(__file__).resolve().parents[2] / "slo_definitions"

OPENSLO_VERSION = "openslo/v1"
SLOTH_VERSION = "prometheus/v1"
RUNBOOK_ANNOTATION = "sextant/runbook"
MIN_EVENTS_ANNOTATION = "sextant/min-events"
SLOTH_PERIOD = timedelta(days=30)  # Sloth's default period; its files carry none.

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_CALENDAR_UNITS: dict[str, CalendarUnit] = {
    "w": "week",
    "week": "week",
    "m": "month",
    "month": "month",
    "q": "quarter",
    "quarter": "quarter",
}
_SLICE_WINDOWS = (timedelta(minutes=1), timedelta(minutes=5))
_OPS = ("gte", "gt", "lte", "lt")


@dataclass(frozen=True)
class DefinitionError:
    file: Path
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}: {where}{self.message}"


@dataclass(frozen=True)
class LoadResult:
    definitions: tuple[SloDefinition, ...]
    errors: tuple[DefinitionError, ...]
    files: tuple[Path, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def by_name(self) -> dict[str, SloDefinition]:
        return {d.name: d for d in self.definitions}


@dataclass
class _Problems:
    """Collects problems of one file; `at` builds field paths."""

    file: Path
    found: list[DefinitionError] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.found.append(DefinitionError(self.file, path, message))


def _join(base: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else key


def _mapping(value: Any, path: str, p: _Problems, what: str = "a mapping") -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        p.add(path, f"must be {what}, got {_kind(value)}")
        return None
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        p.add(path, f"keys must be strings, got {bad[0]!r}")
        return None
    return dict(value)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _unknown(
    mapping: Mapping[str, Any],
    allowed: Iterable[str],
    path: str,
    p: _Problems,
    hints: Mapping[str, str] | None = None,
) -> None:
    allowed = set(allowed)
    for key in mapping:
        if key not in allowed:
            hint = (hints or {}).get(key) or f"expected one of {', '.join(sorted(allowed))}"
            p.add(_join(path, key), f"unknown key {key!r}; {hint}")


def _string(mapping: Mapping[str, Any], key: str, path: str, p: _Problems, *, required: bool = True) -> str:
    value = mapping.get(key)
    if value is None:
        if required:
            p.add(_join(path, key), "is required")
        return ""
    if not isinstance(value, str) or not value.strip():
        p.add(_join(path, key), f"must be a non-empty string, got {_kind(value)}")
        return ""
    return value.strip()


def _number(value: Any, path: str, p: _Problems) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        p.add(path, f"must be a number, got {_kind(value)} {value!r}")
        return None
    return float(value)


def _check_query(query: Any, path: str, p: _Problems, validator: Validator | None) -> str | None:
    problems = local_problems(query)
    for problem in problems:
        p.add(path, problem)
    if problems:
        return None
    if validator is not None:
        rejected = validator(render(query, "5m"))
        if rejected:
            p.add(path, rejected)
            return None
    return query.strip()


def _labels(value: Any, path: str, p: _Problems) -> dict[str, str]:
    """OpenSLO labels are strings or lists of strings; Sloth labels are strings. Lists become `a,b`."""
    if value is None:
        return {}
    mapping = _mapping(value, path, p)
    if mapping is None:
        return {}
    out: dict[str, str] = {}
    for key, item in mapping.items():
        if isinstance(item, str | int | float) and not isinstance(item, bool):
            out[key] = str(item)
        elif isinstance(item, list) and item and all(isinstance(x, str) for x in item):
            out[key] = ",".join(item)
        else:
            p.add(_join(path, key), f"must be a string or a list of strings, got {_kind(item)}")
    return out


def _check_domain_team(labels: dict[str, str], path: str, p: _Problems) -> tuple[str, str]:
    domain = labels.get("domain", "")
    team = labels.get("team", "")
    if not domain:
        p.add(_join(path, "domain"), f"is required: one of {', '.join(DOMAINS)}")
    elif domain not in DOMAINS:
        p.add(_join(path, "domain"), f"{domain!r} is not a domain; expected one of {', '.join(DOMAINS)}")
    if not team:
        p.add(_join(path, "team"), "is required: the team that owns this SLO")
    return domain, team


def _check_name(name: str, path: str, p: _Problems) -> None:
    if name and not _NAME.match(name):
        p.add(
            path,
            f"{name!r} must be lowercase letters, digits and '-', at most 63 characters, "
            "starting and ending with a letter or digit",
        )


def _min_events(annotations: Mapping[str, str], path: str, p: _Problems) -> int:
    raw = annotations.get(MIN_EVENTS_ANNOTATION)
    if raw is None:
        return DEFAULT_MIN_EVENTS
    try:
        value = int(str(raw))
    except ValueError:
        value = -1
    if value < 0:
        p.add(_join(path, MIN_EVENTS_ANNOTATION), f"must be a whole number of events ≥ 0, got {raw!r}")
        return DEFAULT_MIN_EVENTS
    return value


# -- OpenSLO v1 ---------------------------------------------------------------------------------------------

_OPENSLO_TOP = ("apiVersion", "kind", "metadata", "spec")
_OPENSLO_METADATA = ("name", "displayName", "labels", "annotations", "namespace")
_OPENSLO_SPEC = (
    "description",
    "service",
    "indicator",
    "indicatorRef",
    "budgetingMethod",
    "timeWindow",
    "objectives",
    "alertPolicies",
)
_OPENSLO_OBJECTIVE = (
    "displayName",
    "op",
    "value",
    "target",
    "targetPercent",
    "timeSliceTarget",
    "timeSliceWindow",
)


def _metric_query(value: Any, path: str, p: _Problems, validator: Validator | None) -> str | None:
    """`{metricSource: {type: Prometheus, spec: {query: …}}}` → the query."""
    metric = _mapping(value, path, p)
    if metric is None:
        return None
    _unknown(metric, ("metricSource",), path, p)
    src_path = _join(path, "metricSource")
    source = _mapping(metric.get("metricSource"), src_path, p)
    if source is None:
        return None
    _unknown(source, ("type", "spec", "metricSourceRef"), src_path, p)
    kind = source.get("type")
    if kind is not None and str(kind).lower() != "prometheus":
        p.add(_join(src_path, "type"), f"{kind!r} is not supported: Sextant reads Prometheus")
    if "metricSourceRef" in source:
        p.add(_join(src_path, "metricSourceRef"), "is not supported: give the query inline under spec.query")
    spec_path = _join(src_path, "spec")
    spec = _mapping(source.get("spec"), spec_path, p)
    if spec is None:
        return None
    _unknown(spec, ("query",), spec_path, p)
    return _check_query(spec.get("query"), _join(spec_path, "query"), p, validator)


def _time_window(value: Any, path: str, p: _Problems) -> TimeWindow | None:
    if not isinstance(value, list) or len(value) != 1:
        p.add(
            path,
            f"must be a list with exactly one time window, got {_kind(value)}"
            + (f" of {len(value)}" if isinstance(value, list) else ""),
        )
        return None
    item_path = _join(path, 0)
    item = _mapping(value[0], item_path, p)
    if item is None:
        return None
    _unknown(item, ("duration", "isRolling", "calendar"), item_path, p)
    calendar = item.get("calendar")
    rolling = item.get("isRolling", calendar is None)
    if not isinstance(rolling, bool):
        p.add(_join(item_path, "isRolling"), f"must be true or false, got {rolling!r}")
        return None
    duration = item.get("duration")
    if rolling:
        if calendar is not None:
            p.add(_join(item_path, "calendar"), "is only for calendar windows (isRolling: false)")
        if not isinstance(duration, str):
            p.add(_join(item_path, "duration"), "is required for a rolling window, e.g. 30d or 4w")
            return None
        try:
            parsed = parse_duration(duration)
        except ValueError as exc:
            p.add(_join(item_path, "duration"), f"{exc}; rolling windows take m, h, d or w units")
            return None
        if parsed < timedelta(days=1):
            p.add(_join(item_path, "duration"), f"{duration!r} is shorter than a day: too short for an SLO")
            return None
        return TimeWindow(duration=parsed)
    # calendar-aligned: `duration: 1w|1M|1Q` (OpenSLO) or `calendar: {unit: Week|Month|Quarter}`
    cal_path = _join(item_path, "calendar")
    cal = _mapping(calendar if calendar is not None else {}, cal_path, p)
    if cal is None:
        return None
    _unknown(cal, ("startTime", "timeZone", "unit"), cal_path, p)
    zone = cal.get("timeZone")
    if zone is not None and str(zone) not in ("UTC", "Etc/UTC", "Z"):
        p.add(_join(cal_path, "timeZone"), f"{zone!r} is not supported: calendar periods are aligned to UTC")
    unit: CalendarUnit | None = None
    if "unit" in cal:
        unit = _CALENDAR_UNITS.get(str(cal["unit"]).lower())
        if unit is None:
            p.add(_join(cal_path, "unit"), f"{cal['unit']!r} must be Week, Month or Quarter")
            return None
    if duration is not None:
        match = re.fullmatch(r"1([wMQ])", str(duration))
        if not match:
            p.add(
                _join(item_path, "duration"),
                f"{duration!r} is not a calendar period: use 1w, 1M or 1Q (week, month, quarter)",
            )
            return None
        from_duration = _CALENDAR_UNITS[match.group(1).lower()]
        if unit and unit != from_duration:
            p.add(_join(cal_path, "unit"), f"{unit} contradicts duration {duration!r}")
            return None
        unit = from_duration
    if unit is None:
        p.add(item_path, "a calendar window needs duration (1w, 1M, 1Q) or calendar.unit")
        return None
    return TimeWindow(unit=unit)


def _slice_window(value: Any, path: str, p: _Problems) -> timedelta | None:
    if isinstance(value, int) and not isinstance(value, bool):
        parsed: timedelta | None = timedelta(minutes=value)  # OpenSLO: a bare number means minutes
    else:
        try:
            parsed = parse_duration(str(value))
        except ValueError as exc:
            p.add(path, str(exc))
            return None
    if parsed not in _SLICE_WINDOWS:
        p.add(path, f"{value!r} is not supported: use 1m or 5m, so every alert window holds whole slices")
        return None
    return parsed


def _openslo(
    doc: dict[str, Any], base: str, p: _Problems, validator: Validator | None, source: Path
) -> SloDefinition | None:
    before = len(p.found)
    _unknown(doc, _OPENSLO_TOP, base, p)
    meta_path = _join(base, "metadata")
    meta = _mapping(doc.get("metadata"), meta_path, p) or {}
    _unknown(meta, _OPENSLO_METADATA, meta_path, p)
    name = _string(meta, "name", meta_path, p)
    _check_name(name, _join(meta_path, "name"), p)
    display = meta.get("displayName") or ""
    labels = _labels(meta.get("labels"), _join(meta_path, "labels"), p)
    domain, team = _check_domain_team(labels, _join(meta_path, "labels"), p)
    annotations = _labels(meta.get("annotations"), _join(meta_path, "annotations"), p)
    min_events = _min_events(annotations, _join(meta_path, "annotations"), p)

    spec_path = _join(base, "spec")
    spec = _mapping(doc.get("spec"), spec_path, p) or {}
    _unknown(spec, _OPENSLO_SPEC, spec_path, p)
    service = _string(spec, "service", spec_path, p)
    if "indicatorRef" in spec:
        p.add(_join(spec_path, "indicatorRef"), "is not supported: inline the SLI under spec.indicator")
    budgeting = spec.get("budgetingMethod")
    if budgeting == "RatioTimeslices":
        p.add(
            _join(spec_path, "budgetingMethod"),
            "RatioTimeslices is not supported: use Occurrences or Timeslices",
        )
    elif budgeting not in ("Occurrences", "Timeslices"):
        p.add(_join(spec_path, "budgetingMethod"), f"must be Occurrences or Timeslices, got {budgeting!r}")
    window = _time_window(spec.get("timeWindow"), _join(spec_path, "timeWindow"), p)

    # objectives: exactly one
    obj_path = _join(spec_path, "objectives")
    objectives = spec.get("objectives")
    objective: dict[str, Any] = {}
    if not isinstance(objectives, list) or len(objectives) != 1:
        p.add(obj_path, "must be a list with exactly one objective (define one SLO per objective)")
    else:
        objective = _mapping(objectives[0], _join(obj_path, 0), p) or {}
        _unknown(objective, _OPENSLO_OBJECTIVE, _join(obj_path, 0), p)
    o_path = _join(obj_path, 0)
    target = _target(objective, o_path, p)

    # indicator
    ind_path = _join(spec_path, "indicator")
    indicator_raw = spec.get("indicator")
    indicator: Indicator | None = None
    is_threshold = False
    if indicator_raw is None and "indicatorRef" not in spec:
        p.add(ind_path, "is required")
    elif indicator_raw is not None:
        ind = _mapping(indicator_raw, ind_path, p) or {}
        _unknown(
            ind,
            ("metadata", "spec"),
            ind_path,
            p,
            hints={
                "ratioMetric": "OpenSLO v1 nests it: indicator.spec.ratioMetric",
                "thresholdMetric": "OpenSLO v1 nests it: indicator.spec.thresholdMetric",
            },
        )
        sli_path = _join(ind_path, "spec")
        sli = _mapping(ind.get("spec"), sli_path, p) if "spec" in ind else None
        if sli is not None:
            _unknown(sli, ("ratioMetric", "thresholdMetric", "description"), sli_path, p)
            if ("ratioMetric" in sli) == ("thresholdMetric" in sli):
                p.add(sli_path, "needs exactly one of ratioMetric or thresholdMetric")
            elif "ratioMetric" in sli:
                indicator = _ratio_metric(sli["ratioMetric"], _join(sli_path, "ratioMetric"), p, validator)
            else:
                is_threshold = True
                query = _metric_query(
                    sli["thresholdMetric"], _join(sli_path, "thresholdMetric"), p, validator
                )
                indicator = Indicator(query=query) if query else None

    # budgeting-specific objective fields
    slice_window: timedelta | None = None
    threshold: float | None = None
    op: Operator = "gte"
    if budgeting == "Occurrences":
        for key in ("op", "value", "timeSliceTarget", "timeSliceWindow"):
            if key in objective:
                p.add(_join(o_path, key), "is only used with budgetingMethod: Timeslices")
        if is_threshold:
            p.add(
                _join(spec_path, "budgetingMethod"),
                "a thresholdMetric (a gauge) has no events to count: use Timeslices",
            )
    elif budgeting == "Timeslices":
        if "timeSliceWindow" not in objective:
            p.add(_join(o_path, "timeSliceWindow"), "is required with Timeslices (1m or 5m)")
        else:
            slice_window = _slice_window(objective["timeSliceWindow"], _join(o_path, "timeSliceWindow"), p)
        threshold, op = _slice_threshold(objective, o_path, p, is_threshold)

    if len(p.found) > before:
        return None
    assert window is not None and indicator is not None and target is not None
    return SloDefinition(
        name=name,
        service=service,
        domain=domain,
        team=team,
        target=target,
        window=window,
        indicator=indicator,
        budgeting=cast(Budgeting, budgeting),  # one of the two: a problem was added otherwise
        display_name=str(display),
        description=str(spec.get("description") or ""),
        runbook=annotations.get(RUNBOOK_ANNOTATION),
        labels=tuple(sorted(labels.items())),
        time_slice_window=slice_window,
        threshold=threshold,
        op=op,
        min_events=min_events,
        source=source,
        source_format="openslo",
    )


def _target(objective: Mapping[str, Any], path: str, p: _Problems) -> float | None:
    if ("target" in objective) == ("targetPercent" in objective):
        p.add(path, "needs exactly one of target (0 < t < 1) or targetPercent (0 < t < 100)")
        return None
    if "target" in objective:
        value = _number(objective["target"], _join(path, "target"), p)
        if value is not None and not 0.0 < value < 1.0:
            p.add(_join(path, "target"), f"{value} is outside (0, 1): write 99.9% as 0.999")
            return None
        return value
    value = _number(objective["targetPercent"], _join(path, "targetPercent"), p)
    if value is not None and not 0.0 < value < 100.0:
        p.add(_join(path, "targetPercent"), f"{value} is outside (0, 100)")
        return None
    return None if value is None else round(value / 100.0, 12)


def _slice_threshold(
    objective: Mapping[str, Any], path: str, p: _Problems, is_threshold: bool
) -> tuple[float | None, Operator]:
    """A slice is good when its ratio ≥ timeSliceTarget (ratioMetric), or when the gauge meets
    `op value` (thresholdMetric; `timeSliceTarget` may stand for `value`, with op defaulting to gte)."""
    given = objective.get("op", "gte")
    op: Operator = given if given in _OPS else "gte"
    if given not in _OPS:
        p.add(_join(path, "op"), f"{given!r} must be one of {', '.join(_OPS)}")
    if not is_threshold:
        for key in ("op", "value"):
            if key in objective:
                p.add(
                    _join(path, key),
                    "is only used with a thresholdMetric; a ratio slice is good when "
                    "its ratio ≥ timeSliceTarget",
                )
        if "timeSliceTarget" not in objective:
            p.add(_join(path, "timeSliceTarget"), "is required with Timeslices over a ratioMetric")
            return None, "gte"
        value = _number(objective["timeSliceTarget"], _join(path, "timeSliceTarget"), p)
        if value is not None and not 0.0 < value <= 1.0:
            p.add(_join(path, "timeSliceTarget"), f"{value} is outside (0, 1]")
            return None, "gte"
        return value, "gte"
    if ("value" in objective) == ("timeSliceTarget" in objective):
        p.add(
            path,
            "a thresholdMetric needs exactly one of value or timeSliceTarget: the threshold a slice "
            "must meet",
        )
        return None, op
    key = "value" if "value" in objective else "timeSliceTarget"
    return _number(objective[key], _join(path, key), p), op


def _ratio_metric(value: Any, path: str, p: _Problems, validator: Validator | None) -> Indicator | None:
    ratio = _mapping(value, path, p)
    if ratio is None:
        return None
    _unknown(ratio, ("counter", "good", "bad", "total", "raw", "rawType"), path, p)
    if "raw" in ratio or "rawType" in ratio:
        p.add(
            _join(path, "raw"),
            "is not supported: a precomputed ratio cannot be weighted by events; give good or bad with total",
        )
        return None
    if ratio.get("counter") is not True:
        p.add(
            _join(path, "counter"),
            "must be true: Occurrences are counted from counters (use a "
            "thresholdMetric with Timeslices for gauges)",
        )
    if ("good" in ratio) == ("bad" in ratio):
        p.add(path, "needs exactly one of good or bad, with total")
        return None
    if "total" not in ratio:
        p.add(_join(path, "total"), "is required")
        return None
    total = _metric_query(ratio["total"], _join(path, "total"), p, validator)
    key = "good" if "good" in ratio else "bad"
    part = _metric_query(ratio[key], _join(path, key), p, validator)
    if not total or not part:
        return None
    return Indicator(total=total, good=part if key == "good" else None, bad=part if key == "bad" else None)


# -- Sloth prometheus/v1 ---------------------------------------------------------------------------------

_SLOTH_TOP = ("version", "service", "labels", "slos")
_SLOTH_SLO = ("name", "objective", "description", "labels", "sli", "alerting")
_SLOTH_ALERTING = ("name", "labels", "annotations", "page_alert", "ticket_alert")
_SLOTH_ALERT = ("disable", "labels", "annotations")


def _sloth(
    doc: dict[str, Any], base: str, p: _Problems, validator: Validator | None, source: Path
) -> list[SloDefinition]:
    _unknown(doc, _SLOTH_TOP, base, p)
    service = _string(doc, "service", base, p)
    file_labels = _labels(doc.get("labels"), _join(base, "labels"), p)
    slos = doc.get("slos")
    out: list[SloDefinition] = []
    if not isinstance(slos, list) or not slos:
        p.add(_join(base, "slos"), "must be a non-empty list of SLOs")
        return out
    for i, raw in enumerate(slos):
        path = _join(_join(base, "slos"), i)
        before = len(p.found)
        slo = _mapping(raw, path, p)
        if slo is None:
            continue
        _unknown(slo, _SLOTH_SLO, path, p)
        short = _string(slo, "name", path, p)
        name = f"{service}-{short}" if service and short else ""
        _check_name(name, _join(path, "name"), p)
        labels = {**file_labels, **_labels(slo.get("labels"), _join(path, "labels"), p)}
        domain, team = _check_domain_team(labels, _join(path, "labels"), p)
        objective = slo.get("objective")
        target: float | None = None
        if objective is None:
            p.add(_join(path, "objective"), "is required, in percent (99.9)")
        else:
            value = _number(objective, _join(path, "objective"), p)
            if value is not None and not 0.0 < value < 100.0:
                p.add(_join(path, "objective"), f"{value} is outside (0, 100): Sloth objectives are percents")
            elif value is not None:
                target = round(value / 100.0, 12)
        indicator = _sloth_sli(slo.get("sli"), _join(path, "sli"), p, validator)
        alerting, runbook, min_events = _sloth_alerting(slo.get("alerting"), _join(path, "alerting"), p)
        if len(p.found) > before:
            continue
        assert indicator is not None and target is not None
        out.append(
            SloDefinition(
                name=name,
                service=service,
                domain=domain,
                team=team,
                target=target,
                window=TimeWindow(duration=SLOTH_PERIOD),
                indicator=indicator,
                description=str(slo.get("description") or ""),
                runbook=runbook,
                labels=tuple(sorted(labels.items())),
                min_events=min_events,
                alerting=alerting,
                source=source,
                source_format="sloth",
                # In words, with the service: "availability" alone says too little, "assistant-…" is an id.
                display_name=f"{service} {short}".replace("-", " ").capitalize(),
            )
        )
    return out


def _sloth_sli(value: Any, path: str, p: _Problems, validator: Validator | None) -> Indicator | None:
    sli = _mapping(value, path, p)
    if sli is None:
        return None
    _unknown(sli, ("events", "raw", "plugin"), path, p)
    for key in ("raw", "plugin"):
        if key in sli:
            p.add(_join(path, key), f"sli.{key} is not supported: use sli.events (error_query, total_query)")
            return None
    events_path = _join(path, "events")
    events = _mapping(sli.get("events"), events_path, p)
    if events is None:
        return None
    _unknown(events, ("error_query", "total_query"), events_path, p)
    bad = _check_query(events.get("error_query"), _join(events_path, "error_query"), p, validator)
    total = _check_query(events.get("total_query"), _join(events_path, "total_query"), p, validator)
    if not bad or not total:
        return None
    return Indicator(total=total, bad=bad)


def _pairs(value: Any, path: str, p: _Problems) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(_labels(value, path, p).items()))


def _sloth_alerting(value: Any, path: str, p: _Problems) -> tuple[AlertingOptions, str | None, int]:
    if value is None:
        return AlertingOptions(), None, DEFAULT_MIN_EVENTS
    alerting = _mapping(value, path, p)
    if alerting is None:
        return AlertingOptions(), None, DEFAULT_MIN_EVENTS
    _unknown(alerting, _SLOTH_ALERTING, path, p)
    name = alerting.get("name") or "SLOErrorBudgetBurn"
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        p.add(_join(path, "name"), f"{name!r} is not a valid Prometheus alert name")
        name = "SLOErrorBudgetBurn"
    annotations = dict(_pairs(alerting.get("annotations"), _join(path, "annotations"), p))
    runbook = (
        annotations.pop(RUNBOOK_ANNOTATION, None)
        or annotations.pop("runbook_url", None)
        or annotations.pop("runbook", None)
    )
    min_events = _min_events(annotations, _join(path, "annotations"), p)
    annotations.pop(MIN_EVENTS_ANNOTATION, None)
    enabled = {}
    sev_labels = {}
    for key in ("page_alert", "ticket_alert"):
        sub_path = _join(path, key)
        sub = _mapping(alerting.get(key) or {}, sub_path, p) or {}
        _unknown(sub, _SLOTH_ALERT, sub_path, p)
        disable = sub.get("disable", False)
        if not isinstance(disable, bool):
            p.add(_join(sub_path, "disable"), f"must be true or false, got {disable!r}")
            disable = False
        labels = dict(_pairs(sub.get("labels"), _join(sub_path, "labels"), p))
        if "disable" in labels:  # Sloth's docs show `labels: {disable: true}` too; honour it
            disable = disable or labels.pop("disable").lower() == "true"
        labels.pop("severity", None)  # Sextant's severity label is always page or ticket
        enabled[key] = not disable
        sev_labels[key] = tuple(sorted(labels.items()))
    options = AlertingOptions(
        name=name,
        page=enabled["page_alert"],
        ticket=enabled["ticket_alert"],
        labels=_pairs(alerting.get("labels"), _join(path, "labels"), p),
        annotations=tuple(sorted(annotations.items())),
        page_labels=sev_labels["page_alert"],
        ticket_labels=sev_labels["ticket_alert"],
    )
    return options, runbook, min_events


# -- files ------------------------------------------------------------------------------------------------


def _documents(file: Path, p: _Problems) -> list[tuple[str, Any]]:
    """(path prefix, document) for every document of a file; a top-level list counts as documents too."""
    try:
        docs = [d for d in yaml_documents(file) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        p.add("", f"is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}")
        return []
    except (OSError, UnicodeDecodeError) as exc:
        p.add("", f"cannot be read: {exc}")
        return []
    flat: list[tuple[str, Any]] = []
    multi = len(docs) > 1
    for i, doc in enumerate(docs):
        prefix = f"documents[{i}]" if multi else ""
        if isinstance(doc, list):
            flat.extend((f"{prefix}[{j}]", item) for j, item in enumerate(doc))
        else:
            flat.append((prefix, doc))
    if not flat:
        p.add("", "is empty")
    return flat


def load_file(
    file: Path, *, validator: Validator | None = None
) -> tuple[list[SloDefinition], list[DefinitionError]]:
    """The SLOs of one file and its problems; with any problem, no SLO of the file is returned."""
    p = _Problems(file)
    found: list[SloDefinition] = []
    for base, doc in _documents(file, p):
        mapping = _mapping(doc, base or "(document)", p)
        if mapping is None:
            continue
        api = mapping.get("apiVersion")
        if isinstance(api, str) and api.startswith("sextant/"):
            continue  # not an SLO (e.g. the filing readiness score)
        if api == OPENSLO_VERSION:
            kind = mapping.get("kind")
            if kind == "Service":
                continue
            if kind != "SLO":
                p.add(
                    _join(base, "kind"),
                    f"{kind!r} is not supported: Sextant reads kind SLO (and ignores Service)",
                )
                continue
            slo = _openslo(mapping, base, p, validator, file)
            if slo:
                found.append(slo)
        elif mapping.get("version") == SLOTH_VERSION:
            found.extend(_sloth(mapping, base, p, validator, file))
        elif api is not None:
            p.add(
                _join(base, "apiVersion"),
                f"{api!r} is not supported: use {OPENSLO_VERSION} (or Sloth's version: {SLOTH_VERSION})",
            )
        else:
            p.add(
                base,
                f"neither an OpenSLO document (apiVersion: {OPENSLO_VERSION}) nor a Sloth file "
                f"(version: {SLOTH_VERSION})",
            )
    names: dict[str, int] = {}
    for slo in found:
        names[slo.name] = names.get(slo.name, 0) + 1
    for name, count in names.items():
        if count > 1:
            p.add("", f"SLO name {name!r} is defined {count} times in this file")
    if p.found:
        return [], p.found
    return found, []


def definition_files(directory: Path) -> list[Path]:
    return sorted(f for f in directory.iterdir() if f.is_file() and f.suffix in (".yaml", ".yml"))


def load_definitions(
    directory: Path | str | None = DEFAULT_DIRECTORY, *, validator: Validator | None = None
) -> LoadResult:
    """Every SLO of `directory/*.yaml|yml` (None: `slo_definitions/`), sorted by name, and every problem
    found.

    A file with a problem contributes nothing; a name already taken by an earlier file (in file-name
    order) is a problem of the later file.
    """
    directory = Path(directory if directory is not None else DEFAULT_DIRECTORY)
    if not directory.is_dir():
        return LoadResult((), (DefinitionError(directory, "", "is not a directory"),))
    definitions: dict[str, SloDefinition] = {}
    errors: list[DefinitionError] = []
    files = definition_files(directory)
    for file in files:
        found, problems = load_file(file, validator=validator)
        clashes = [s for s in found if s.name in definitions]
        for slo in clashes:
            first = definitions[slo.name].source
            problems.append(
                DefinitionError(
                    file, "", f"SLO name {slo.name!r} is already defined in {first.name if first else '?'}"
                )
            )
        if problems:
            errors.extend(problems)
            continue
        definitions.update((s.name, s) for s in found)
    return LoadResult(tuple(sorted(definitions.values(), key=lambda d: d.name)), tuple(errors), tuple(files))


_loaded = FileCache(load_definitions)


def cached_definitions(directory: Path | str | None = DEFAULT_DIRECTORY) -> LoadResult:
    """`load_definitions(directory)` (without a validator), parsed again only when a file there changes:
    the pages ask for the definitions several times a run."""
    return _loaded.get(Path(directory if directory is not None else DEFAULT_DIRECTORY))
