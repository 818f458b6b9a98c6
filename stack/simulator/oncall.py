"""What on-call needs from the simulator: scenarios that make the non-SLO alerts fire, the audit pipeline's
own counter, and a service whose traces go missing (the observability coverage gap).

Hooked into ``model.py`` in four places only: ``scenarios()`` adds :func:`scenarios`, ``catalogue()`` adds
:func:`series`, ``Model`` registers :func:`generate_audit` for the ``audit`` group, and the backups of
``_gen_static`` come from :func:`backup_last_success`. ``events.py`` takes its audit counts from the
``audit`` group (so the audit log and ``audit_events_total`` agree exactly) and drops the spans of a
service while :data:`TRACES_LOST` runs.

Scenarios (offsets from the anchor A):

- ``backup_missed`` ``[A-20h, A-16h)``: every ``documents`` backup due in the window fails, so the newest
  good one ages past its 90 min RPO;
- ``audit_kind_missing`` ``[A-9d, A-1d)``: ``data.export`` events stop reaching the audit log (exports go
  on), so the kind is missing for more than 7 days;
- ``traces_lost`` from ``A-3h``, ongoing: a deploy dropped the assistant's trace exporter; its logs still
  carry trace ids, but Jaeger receives no assistant span (the gateway's spans of those traces still arrive).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

    from .model import Model, Scenario, Series

BACKUP_MISSED = "backup_missed"
BACKUP_MISSED_TARGET = "documents"
AUDIT_KIND_MISSING = "audit_kind_missing"
MISSING_AUDIT_ACTION = "data.export"
TRACES_LOST = "traces_lost"
TRACES_LOST_SERVICE = "assistant"

# Audited actions besides sign-ins, per hour at the daytime peak (sign-ins follow auth_logins_total).
AUDIT_RATES = {
    "role.change": 0.4,
    "config.change": 0.6,
    "rulepack.edit": 0.5,
    "assistant.action": 6.0,
    "data.export": 0.8,
}
LOGIN_ACTIONS = {"login.success": "success", "login.failure": "failure"}
AUDIT_ACTIONS = (*LOGIN_ACTIONS, *AUDIT_RATES)


def scenarios(a: datetime) -> list[Scenario]:
    """The on-call scenarios for anchor ``a`` (merged into ``model.scenarios``)."""
    from .model import Scenario

    h = timedelta(hours=1)
    return [
        Scenario(
            BACKUP_MISSED,
            "Documents backups failing",
            a - 20 * h,
            a - 16 * h,
            ("ingestion",),
            "Every documents backup due in four hours fails (the backup job cannot reach object storage); "
            "the newest good backup ages past its 90-minute RPO.",
        ),
        Scenario(
            AUDIT_KIND_MISSING,
            "Data exports not audited",
            a - timedelta(days=9),
            a - timedelta(days=1),
            ("gateway",),
            "A release drops the audit hook of data exports: exports go on, but no data.export event reaches "
            "the audit log for eight days.",
        ),
        Scenario(
            TRACES_LOST,
            "Assistant traces lost",
            a - 3 * h,
            None,
            (TRACES_LOST_SERVICE,),
            "A deploy dropped the assistant's trace exporter: its logs still carry trace ids, but Jaeger "
            "receives no assistant span.",
        ),
    ]


def series() -> list[Series]:
    """``audit_events_total{action}``: events written to the audit log, one series per action."""
    from .model import _mk

    return [
        _mk("audit_events_total", {"action": action}, "counter", "audit_events", "counter", "audit")
        for action in AUDIT_ACTIONS
    ]


def generators(model: Model) -> dict[str, Callable]:
    """The ``audit`` group's generator (``model.extensions`` registers it)."""
    return {"audit": lambda ctx, rng: generate_audit(model, ctx, rng)}


def generate_audit(model: Model, ctx, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-minute audit events of each action: sign-ins exactly as ``auth_logins_total``, the other
    actions Poisson at ``AUDIT_RATES`` along the working day, ``data.export`` absent while its audit hook is
    broken."""
    from .model import series_key

    auth = model.chunk("auth", ctx.day)
    out = {
        series_key("audit_events_total", {"action": action}): auth[
            series_key("auth_logins_total", {"result": result})
        ].astype(np.int64)
        for action, result in LOGIN_ACTIONS.items()
    }
    missing = model._mask(AUDIT_KIND_MISSING, ctx.ts)
    for action, per_hour in AUDIT_RATES.items():
        counts = rng.poisson(per_hour / 60.0 * ctx.curve)
        if action == MISSING_AUDIT_ACTION:
            counts = np.where(missing, 0, counts)
        if action == "config.change":
            for minute, _version in deploys(model, ctx.day):
                counts[minute] += 1
        if action == MISSING_AUDIT_ACTION:
            for minute in unapproved_exports(model, ctx.day):
                counts[minute] += 1
        out[series_key("audit_events_total", {"action": action})] = counts.astype(np.int64)
    return out


def deploys(model: Model, day: int) -> list[tuple[int, str]]:
    """(minute of the day, model version) of the extraction model deployments on ``day``: the start of
    the regression (extract-v42) and its rollback (extract-v41), each audited as one ``config.change``."""
    from .model import DAY_MINUTES

    regression = model._scen["extraction_regression"]
    found = []
    for when, version in ((regression.start, "extract-v42"), (regression.end, "extract-v41")):
        minute = model.minute(when) - day * DAY_MINUTES if when is not None else -1
        if 0 <= minute < DAY_MINUTES:
            found.append((minute, version))
    return found


def unapproved_exports(model: Model, day: int) -> list[int]:
    """Minute of the day of the export without approval that ``controls.with_approvals`` adds to the audit
    log (the ``unapproved_export`` scenario), so that ``audit_events_total`` counts it too."""
    from . import controls
    from .model import DAY_MINUTES

    minute = model.minute(controls.scenario("unapproved_export", model.anchor).start) - day * DAY_MINUTES
    return [minute] if 0 <= minute < DAY_MINUTES else []


def backup_last_success(model: Model, target: str, period: int, offset: int, ts: np.ndarray) -> np.ndarray:
    """Unix time of the newest good backup at each ``ts``: backups complete every ``period`` seconds at
    ``offset`` into it, except the ``documents`` backups due while ``backup_missed`` runs."""
    scheduled = np.floor((ts - offset) / period) * period + offset
    if target != BACKUP_MISSED_TARGET:
        return scheduled.astype(float)
    start, end = model._window(BACKUP_MISSED)
    failed = (scheduled >= start) & (scheduled < end)
    # the newest scheduled backup before the window is the last good one until the window's first after
    last_good_before = np.floor((start - 1 - offset) / period) * period + offset
    return np.where(failed, last_good_before, scheduled).astype(float)


def traces_lost(model: Model, service: str, epoch_s: float) -> bool:
    """Whether ``service``'s spans are lost at ``epoch_s`` (its trace exporter is broken)."""
    if service != TRACES_LOST_SERVICE:
        return False
    start, end = model._window(TRACES_LOST)
    return start <= epoch_s < end
