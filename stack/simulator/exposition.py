"""Text formats: OpenMetrics day files for promtool, and the Prometheus text format for /metrics."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from . import controls, delivery, model

HELP = {
    "http_requests": "Requests served.",
    "http_request_duration_seconds": "Request latency.",
    "queue_depth": "Items waiting in the queue.",
    "queue_oldest_item_age_seconds": "Age of the oldest waiting item.",
    "extraction_documents": "Documents extracted, judged against the reviewed value.",
    "extraction_accuracy_ratio": "Extraction accuracy over the last hour.",
    "reconciliation_jobs": "Reconciliation jobs finished.",
    "reconciliation_duration_seconds": "Time to reconcile a client period.",
    "reconciliation_sla_seconds": "The reconciliation SLA.",
    "hmrc_submissions": "HMRC API submissions.",
    "fraud_prevention_headers": "Submissions by fraud-prevention header completeness.",
    "filing_readiness_component_ratio": "Share of the tenant's entities passing that step.",
    "filing_obligations_due": "Client entities with that obligation due at the next deadline.",
    "filing_obligations_ready": "Client entities ready to file.",
    "tenant_backlog_documents": "Documents waiting for the tenant.",
    "assistant_answer_duration_seconds": "Time to answer.",
    "assistant_feedback": "User feedback on answers.",
    "secret_last_rotated_timestamp_seconds": "Unix time of the last rotation.",
    "backup_last_success_timestamp_seconds": "Unix time of the last good backup.",
    "auth_logins": "Login attempts.",
    "service_up": "1 when the service's health check passes.",
    **controls.HELP,
    **delivery.HELP,
}


def sample_name(s: model.Series, extra: Mapping[str, str]) -> str:
    labels = {**s.label_dict, **extra}
    return model.series_key(s.name, labels)


def format_values(s: model.Series, values: np.ndarray) -> list[str]:
    """Stored values (cumulative for counters) as exposition strings."""
    return [v.rstrip() for v in format_lines(s, values, [""] * len(values), "")]


def format_lines(s: model.Series, values: np.ndarray, tstr: list[str], prefix: str) -> list[str]:
    """``prefix + value + tstr[i]`` for every value (f-strings: the fastest way found in CPython)."""
    if s.scale == 1000:
        ints = np.asarray(values, dtype=np.int64).tolist()
        return [f"{prefix}{v // 1000}.{v % 1000:03d}{t}" for v, t in zip(ints, tstr, strict=True)]
    arr = np.asarray(values)
    if s.kind == "counter" or (np.all(arr == np.rint(arr)) and np.all(np.abs(arr) < 2**53)):
        ints = arr.astype(np.int64).tolist()
        return [f"{prefix}{v}{t}" for v, t in zip(ints, tstr, strict=True)]
    return [f"{prefix}{v!r}{t}" for v, t in zip(arr.astype(float).tolist(), tstr, strict=True)]


def openmetrics_day(
    day_data: Mapping[str, np.ndarray],
    offsets: dict[str, int],
    ts: np.ndarray,
    extra: Mapping[str, str],
) -> str:
    """One day of every series as OpenMetrics (seconds, each series ascending, ends with ``# EOF``).

    ``day_data`` holds the day's increments (counters) and values (gauges); ``offsets`` the counters' values
    at the first minute of the day, updated in place to the values at the first minute of the next day.
    """
    tstr = [f" {t}\n" for t in np.asarray(ts, dtype=np.int64).tolist()]
    parts: list[str] = []
    family = None
    for s in model.catalogue():
        if s.family != family:
            family = s.family
            parts.append(f"# TYPE {family} {s.family_type}\n")
        raw = day_data[s.key]
        if s.kind == "counter":
            start = offsets.get(s.key, 0)
            cum = np.cumsum(raw, dtype=np.int64)
            values = start + cum - raw  # value at minute m counts the minutes before m
            offsets[s.key] = int(start + cum[-1]) if len(cum) else start
        else:
            values = raw
        prefix = sample_name(s, extra) + " "
        parts.append("".join(format_lines(s, values, tstr, prefix)))
    if "job" in extra:
        # The scrape's own series, which Prometheus writes for every target it reached: history without it
        # reads as "no scrape target" (the Coverage page's metrics check at a past instant).
        prefix = model.series_key("up", dict(extra)) + " 1"
        parts.append("# TYPE up gauge\n" + "".join(prefix + t for t in tstr))
    parts.append("# EOF\n")
    return "".join(parts)


def prometheus_text(values: Mapping[str, float | int], extra: Mapping[str, str] | None = None) -> str:
    """The Prometheus text format (0.0.4) of every series' stored value at one instant (no timestamps)."""
    extra = extra or {}
    lines: list[str] = []
    family = None
    for s in model.catalogue():
        if s.family != family:
            family = s.family
            type_name = family + "_total" if s.family_type == "counter" else family
            lines.append(f"# HELP {type_name} {HELP.get(family, family)}")
            lines.append(f"# TYPE {type_name} {s.family_type}")
        v = format_values(s, np.array([values[s.key]]))[0]
        lines.append(f"{sample_name(s, extra)} {v}")
    return "\n".join(lines) + "\n"
