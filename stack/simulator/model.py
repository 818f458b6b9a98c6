"""The simulator's model: every rate, ratio and scenario of the platform, as pure numpy.

Time is counted in minutes from the start of the history, ``T0 = A - 30d`` (``A`` is the anchor).
Minute ``m`` starts at ``T0 + 60 m``. For a counter, ``increments[m]`` counts the events in
``[T0 + 60 m, T0 + 60 (m + 1))`` and the counter's value at the sample time ``T0 + 60 m`` is the sum of the
increments of the minutes before ``m`` (so it is 0 at ``T0`` and ``value(end) - value(start)`` counts the
events in ``[start, end)``). A gauge's value at minute ``m`` describes the state at ``T0 + 60 m``.

Noise is drawn from a numpy Generator seeded with (seed, group of series, day of the history) through a
stable hash, one day (1,440 minutes) at a time, so any range of any series is reproducible without
wall-clock time. Series are generated in groups (e.g. one route's requests, codes and latency buckets) so
that related series stay consistent (``_count`` equals the sum of the route's requests, the ``le="3600"``
bucket of reconciliation equals ``within_sla`` jobs, fraud-prevention results add up to submissions).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

DAY_MINUTES = 1440
HISTORY_DAYS = 30
HISTORY_MINUTES = HISTORY_DAYS * DAY_MINUTES
DEFAULT_SEED = 7
LONDON = ZoneInfo("Europe/London")

# ---------------------------------------------------------------------------------------------------------
# The catalogue (see README.md: names and labels are a contract)

TENANTS = (
    "acme-accounts",
    "brightside-tax",
    "cobalt-cpa",
    "dunmore-partners",
    "elm-street",
    "fenwick-co",
    "greyfriars",
    "harbour-ledger",
)
# The tenant of the platform's own requests and actions (its health probes, the deploy bot's changes): not
# a client firm, so not in TENANTS, yet every log and audit event carries a tenant as the playbook asks.
PLATFORM_TENANT = "platform"
BACKLOG_TENANTS = ("cobalt-cpa", "elm-street", "greyfriars")
SERVICES = ("gateway", "ingestion", "extraction", "reconciliation", "filing", "assistant")


@dataclass(frozen=True)
class Route:
    service: str
    route: str
    rate: float  # requests per second at the daytime peak
    median: float  # latency median, seconds
    sigma: float  # lognormal shape


ROUTES = (
    Route("gateway", "/api/upload", 4.0, 0.18, 0.6),
    Route("gateway", "/api/filings", 1.0, 0.12, 0.5),
    Route("ingestion", "/ingest/document", 3.0, 0.35, 0.6),
    Route("ingestion", "/ingest/bank-feed", 1.0, 0.6, 0.7),
    Route("extraction", "/extract", 3.0, 0.9, 0.6),
    Route("reconciliation", "/reconcile", 1.0, 0.7, 0.6),
    Route("filing", "/vat/returns", 0.5, 0.45, 0.5),
    Route("filing", "/itsa/updates", 0.3, 0.4, 0.5),
    Route("assistant", "/assistant/answer", 0.5, 1.5, 0.55),
)
CODES = ("200", "400", "500")
P400 = 0.01
P500 = 0.001
HTTP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
HTTP_LE = ("0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf")

QUEUES = ("ingestion", "extraction", "reconciliation", "filing")
QUEUE_BASE_DEPTH = {"ingestion": 40.0, "extraction": 60.0, "reconciliation": 25.0, "filing": 8.0}
QUEUE_BASE_AGE = {"ingestion": 40.0, "extraction": 75.0, "reconciliation": 300.0, "filing": 20.0}
BACKLOG_QUEUE_DEPTH = 4000.0
BACKLOG_QUEUE_AGE = 6 * 3600.0
OUTAGE_FILING_QUEUE_EXTRA = 500.0

DOCUMENT_TYPES = ("invoice", "receipt", "bank_statement", "payslip")
EXTRACTION_RATE = 3.0
DOCUMENT_SHARE = {"invoice": 0.40, "receipt": 0.30, "bank_statement": 0.15, "payslip": 0.15}
ACCURACY = {"invoice": 0.97, "receipt": 0.95, "bank_statement": 0.985, "payslip": 0.99}
REGRESSED_ACCURACY = {"invoice": 0.88, "receipt": 0.90}

RECONCILIATION_RATE = 0.25  # jobs finished per second at the daytime peak
RECONCILIATION_SLA = 3600
SLA_BREACH = 0.02
BACKLOG_SLA_BREACH = 0.30
BACKLOG_SLA_RAMP_HOURS = 6
RECON_LE = ("60", "300", "900", "1800", "3600", "7200", "+Inf")
RECON_MEDIAN = 600.0
RECON_SIGMA = 0.9
RECON_BREACH_SPLIT = (0.75, 0.25)  # of breached jobs: (3600, 7200], > 7200
RECON_BREACH_MEAN = (5000.0, 9500.0)

HMRC_RATE = {"vat": 0.2, "itsa": 0.1}
# (result, error_code, baseline probability); accepted carries no error_code label (= "")
HMRC_OUTCOMES = (
    ("accepted", "", 0.983),
    ("rejected", "INVALID_REQUEST", 0.010),
    ("rejected", "DUPLICATE_SUBMISSION", 0.005),
    ("error", "SERVER_ERROR", 0.0012),
    ("error", "SERVICE_UNAVAILABLE", 0.0),
    ("error", "TIMEOUT", 0.0008),
)
OUTAGE_UNAVAILABLE = 0.85
OUTAGE_HTTP_500 = 0.85
OUTAGE_LATENCY = 4.0
FRAUD_HEADERS_INCOMPLETE = 0.0005

READINESS_COMPONENTS = ("documents_ingested", "extracted_above_target", "reconciled_within_sla", "approved")
# component -> (value just after a deadline, value at the next deadline)
READINESS_RANGE = {
    "documents_ingested": (0.80, 0.995),
    "extracted_above_target": (0.75, 0.98),
    "reconciled_within_sla": (0.68, 0.97),
    "approved": (0.60, 0.95),
}
READINESS_TENANT_OFFSET = {
    "acme-accounts": 0.01,
    "brightside-tax": 0.0,
    "cobalt-cpa": -0.02,
    "dunmore-partners": 0.015,
    "elm-street": -0.01,
    "fenwick-co": 0.02,
    "greyfriars": -0.025,
    "harbour-ledger": 0.005,
}
BACKLOG_READINESS_DROP = 0.25  # of the value, for the last three components, ramped over 6 h
DEADLINE_CYCLE = timedelta(days=30)
DEADLINE_AFTER_ANCHOR = timedelta(hours=2)
OBLIGATIONS_VAT = {
    "acme-accounts": 140,
    "brightside-tax": 85,
    "cobalt-cpa": 210,
    "dunmore-partners": 60,
    "elm-street": 175,
    "fenwick-co": 45,
    "greyfriars": 190,
    "harbour-ledger": 95,
}
ITSA_SHARE = 0.4
TENANT_BACKLOG_BASE = {
    "acme-accounts": 35.0,
    "brightside-tax": 20.0,
    "cobalt-cpa": 50.0,
    "dunmore-partners": 15.0,
    "elm-street": 40.0,
    "fenwick-co": 10.0,
    "greyfriars": 45.0,
    "harbour-ledger": 25.0,
}
TENANT_BACKLOG_PEAK = 1500.0

ASSISTANT_LE = ("0.5", "1", "2", "4", "8", "16", "+Inf")
ASSISTANT_MEDIAN = 1.5
ASSISTANT_SIGMA = 0.55
ASSISTANT_SPIKE = 8.0
FEEDBACK_SHARE = 0.3  # of answers that get a rating
FEEDBACK_POSITIVE = 0.85
SPIKE_FEEDBACK_POSITIVE = 0.55

LOGIN_RATE = 0.03  # successful logins per second at the daytime peak
LOGIN_FAILURE_SHARE = 0.03
BURST_FAILURES_PER_MINUTE = 40

# secret -> (last rotation before A, rotation period)
SECRETS = {
    "hmrc-oauth-client-secret": (timedelta(days=97), timedelta(days=90)),
    "postgres-app-password": (timedelta(days=12), timedelta(days=30)),
    "opensearch-admin-password": (timedelta(days=20), timedelta(days=30)),
    "document-encryption-key": (timedelta(days=3), timedelta(days=30)),
    "jwt-signing-key": (timedelta(days=26), timedelta(days=30)),
}
SECRET_POLICY = timedelta(days=90)
# target -> (period, offset of the completion within the period), in seconds since the Unix epoch
BACKUPS = {"postgres": (900, 180), "documents": (3600, 1800), "opensearch": (86400, 7200)}
EXTRACTION_RESTART_MINUTES = 2  # service_up{service="extraction"} = 0 when the regressed model is deployed

# ---------------------------------------------------------------------------------------------------------
# Scale: a platform N times the demo's (`use_scale`, README "Scale")

SCALE = 1
BASE_SERVICES, BASE_ROUTES, BASE_TENANTS = SERVICES, ROUTES, TENANTS
_BASE_OBLIGATIONS_VAT = OBLIGATIONS_VAT
_BASE_TENANT_BACKLOG_BASE = TENANT_BACKLOG_BASE
_BASE_READINESS_TENANT_OFFSET = READINESS_TENANT_OFFSET


def replica(name: str, k: int) -> str:
    """The name of the ``k``-th copy of a service or client firm: the original for 1, else ``name-k``."""
    return name if k == 1 else f"{name}-{k}"


def base_of(name: str) -> str:
    """The demo service or client firm a replica copies (``gateway-7`` -> ``gateway``)."""
    head, _, k = name.rpartition("-")
    return head if k.isdigit() and head else name


def route_variant(path: str, j: int) -> str:
    """The ``j``-th path of a route (`use_scale`'s ``route_paths``): the path itself for 1, else ``path/vj``
    (``/extract/v2``)."""
    return path if j == 1 else f"{path}/v{j}"


def base_path(path: str) -> str:
    """The route a `route_variant` path copies (``/extract/v2`` -> ``/extract``)."""
    head, _, k = path.rpartition("/v")
    return head if k.isdigit() and head else path


def use_scale(n: int, route_paths: int = 1) -> None:
    """Makes the catalogue, the model and the events those of a platform ``n`` times the demo's: every
    service copied ``n`` times with its routes (``gateway-2`` ... ``gateway-n``, same paths, rates and
    latencies, noise of their own), every client firm too (``acme-accounts-2`` ..., same obligations and
    backlog), so ``n`` times the series, requests and logs. The scenarios stay on the original services and
    firms. ``use_scale(1)`` is the demo, exactly. A process runs one scale: call it before anything else.

    ``route_paths`` above 1 gives every route ``route_paths − 1`` more paths on its service
    (`route_variant`), each at 1/``route_paths`` of the route's rate: the long tail of a platform with many
    routes per service, its HTTP series growing ``route_paths`` times while its traffic and logs stay under
    twice the scale's. The original routes keep their series; a service's sums take in its new paths."""
    global SCALE, SERVICES, ROUTES, TENANTS, OBLIGATIONS_VAT, TENANT_BACKLOG_BASE, READINESS_TENANT_OFFSET
    if n < 1 or route_paths < 1:
        raise ValueError(f"scale and route paths must be at least 1, not {n} and {route_paths}")
    copies = range(1, n + 1)
    SCALE = n
    SERVICES = tuple(replica(s, k) for k in copies for s in BASE_SERVICES)
    ROUTES = tuple(
        Route(
            replica(r.service, k),
            route_variant(r.route, j),
            r.rate if j == 1 else r.rate / route_paths,
            r.median,
            r.sigma,
        )
        for k in copies
        for r in BASE_ROUTES
        for j in range(1, route_paths + 1)
    )
    TENANTS = tuple(replica(t, k) for k in copies for t in BASE_TENANTS)
    OBLIGATIONS_VAT = {t: _BASE_OBLIGATIONS_VAT[base_of(t)] for t in TENANTS}
    TENANT_BACKLOG_BASE = {t: _BASE_TENANT_BACKLOG_BASE[base_of(t)] for t in TENANTS}
    READINESS_TENANT_OFFSET = {t: _BASE_READINESS_TENANT_OFFSET[base_of(t)] for t in TENANTS}
    catalogue.cache_clear()
    _by_key.cache_clear()
    get_model.cache_clear()


# ---------------------------------------------------------------------------------------------------------
# Time


def parse_anchor(value: str | datetime) -> datetime:
    """The anchor as an aware UTC datetime floored to the minute ("Z" and offsets accepted)."""
    dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00")) if isinstance(value, str) else value
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).replace(second=0, microsecond=0)


def default_anchor(now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _epoch(t: datetime | float | int) -> float:
    return t.timestamp() if isinstance(t, datetime) else float(t)


# ---------------------------------------------------------------------------------------------------------
# Scenarios


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    start: datetime
    end: datetime | None  # None: ongoing (a static condition)
    services: tuple[str, ...]
    description: str

    def contains(self, t: datetime) -> bool:
        return self.start <= t and (self.end is None or t < self.end)


def hmrc_outage_start(anchor: datetime) -> datetime:
    """15:00 UTC on the day 60 hours before the anchor: always in the afternoon's traffic, so that its alerts
    fire as the golden tests expect whatever the hour of the anchor (at night the filing traffic is near
    the SLO's minimum of events and a borderline count decides). 41 to 69 hours before the anchor."""
    day = (anchor - timedelta(hours=60)).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(hours=15)


def scenarios(anchor: str | datetime) -> list[Scenario]:
    """The scenarios with their windows for this anchor (README table), in chronological order."""
    a = parse_anchor(anchor)
    h = timedelta(hours=1)
    last_hmrc_rotation, _ = SECRETS["hmrc-oauth-client-secret"]
    items = [
        Scenario(
            "extraction_regression",
            "Extraction model regression",
            a - timedelta(days=6),
            a - timedelta(days=4),
            ("extraction",),
            "A model release lowers extraction accuracy: invoice 0.97 to 0.88, receipt 0.95 to 0.90; "
            "rolled back after two days.",
        ),
        Scenario(
            "hmrc_outage",
            "HMRC API outage",
            hmrc_outage_start(a),
            hmrc_outage_start(a) + 4 * h,
            ("filing",),
            "The HMRC API answers 503: 85% of submissions fail with SERVICE_UNAVAILABLE, filing answers 500 "
            "for 85% of requests and is 4 times slower.",
        ),
        Scenario(
            "assistant_latency_spike",
            "Assistant latency spike",
            a - 27 * h,
            a - 25 * h - timedelta(minutes=30),
            ("assistant",),
            "Assistant answers are 8 times slower; fewer answers are rated positive.",
        ),
        Scenario(
            "vat_backlog",
            "VAT deadline backlog",
            a - 10 * h,
            a + 2 * h,
            ("extraction", "reconciliation"),
            "Queue backlog before the VAT deadline: extraction and reconciliation queues grow linearly "
            "toward 4,000 items and 6 h of age; cobalt-cpa, elm-street and greyfriars fall behind; "
            "reconciliation SLA breaches rise to 30%.",
        ),
        Scenario(
            "failed_logins_burst",
            "Failed logins burst",
            a - 5 * h,
            a - 4 * h - timedelta(minutes=30),
            ("gateway",),
            "40 failed logins a minute from one source address (credential stuffing).",
        ),
        Scenario(
            "secret_rotation_overdue",
            "Secret rotation overdue",
            a - last_hmrc_rotation + SECRET_POLICY,
            None,
            ("filing",),
            "hmrc-oauth-client-secret was last rotated 97 days before the anchor (policy: 90 days).",
        ),
    ]
    from . import oncall  # the on-call scenarios (backups, audit, traces) live in their own module

    return sorted([*items, *oncall.scenarios(a)], key=lambda s: s.start)


def scenario(name: str, anchor: str | datetime) -> Scenario:
    return next(s for s in scenarios(anchor) if s.name == name)


# ---------------------------------------------------------------------------------------------------------
# Series


@dataclass(frozen=True)
class Series:
    name: str  # the sample name, e.g. http_request_duration_seconds_bucket
    labels: tuple[tuple[str, str], ...]  # sorted; empty values left out
    kind: str  # "counter" (increments) or "gauge" (values)
    family: str  # the metric family (for # TYPE)
    family_type: str  # counter, gauge or histogram
    group: str  # the group generated together
    scale: int = 1  # stored values are integers divided by this (1000 for *_sum in milliseconds)
    key: str = field(default="", compare=False)

    @property
    def label_dict(self) -> dict[str, str]:
        return dict(self.labels)


def series_key(name: str, labels: Mapping[str, str]) -> str:
    """Canonical id of a series: ``name{a="x",b="y"}`` with labels sorted and empty values left out."""
    items = sorted((k, v) for k, v in labels.items() if v != "")
    if not items:
        return name
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in items) + "}"


def _mk(name, labels, kind, family, family_type, group, scale=1) -> Series:
    items = tuple(sorted((k, v) for k, v in labels.items() if v != ""))
    return Series(name, items, kind, family, family_type, group, scale, series_key(name, labels))


def _histogram(family, labels, les, group) -> list[Series]:
    out = [_mk(family + "_bucket", {**labels, "le": le}, "counter", family, "histogram", group) for le in les]
    out.append(_mk(family + "_sum", labels, "counter", family, "histogram", group, scale=1000))
    out.append(_mk(family + "_count", labels, "counter", family, "histogram", group))
    return out


def _route_group(r: Route) -> str:
    return f"route:{r.service}:{r.route}"


@lru_cache(maxsize=1)
def catalogue() -> tuple[Series, ...]:
    """Every series the simulator exports, in exposition order (grouped by family)."""
    out: list[Series] = []
    for r in ROUTES:
        for code in CODES:
            labels = {"service": r.service, "route": r.route, "code": code}
            out.append(
                _mk("http_requests_total", labels, "counter", "http_requests", "counter", _route_group(r))
            )
    for r in ROUTES:
        out += _histogram(
            "http_request_duration_seconds",
            {"service": r.service, "route": r.route},
            HTTP_LE,
            _route_group(r),
        )
    for q in QUEUES:
        out.append(_mk("queue_depth", {"queue": q}, "gauge", "queue_depth", "gauge", f"queue:{q}"))
    for q in QUEUES:
        out.append(
            _mk(
                "queue_oldest_item_age_seconds",
                {"queue": q},
                "gauge",
                "queue_oldest_item_age_seconds",
                "gauge",
                f"queue:{q}",
            )
        )
    for d in DOCUMENT_TYPES:
        for outcome in ("correct", "incorrect"):
            out.append(
                _mk(
                    "extraction_documents_total",
                    {"document_type": d, "outcome": outcome},
                    "counter",
                    "extraction_documents",
                    "counter",
                    "extraction",
                )
            )
    for d in DOCUMENT_TYPES:
        out.append(
            _mk(
                "extraction_accuracy_ratio",
                {"document_type": d},
                "gauge",
                "extraction_accuracy_ratio",
                "gauge",
                "extraction_accuracy",
            )
        )
    for result in ("within_sla", "breached_sla"):
        out.append(
            _mk(
                "reconciliation_jobs_total",
                {"result": result},
                "counter",
                "reconciliation_jobs",
                "counter",
                "reconciliation",
            )
        )
    out += _histogram("reconciliation_duration_seconds", {}, RECON_LE, "reconciliation")
    out.append(
        _mk("reconciliation_sla_seconds", {}, "gauge", "reconciliation_sla_seconds", "gauge", "static")
    )
    for kind in ("vat", "itsa"):
        for result, code, _ in HMRC_OUTCOMES:
            out.append(
                _mk(
                    "hmrc_submissions_total",
                    {"kind": kind, "result": result, "error_code": code},
                    "counter",
                    "hmrc_submissions",
                    "counter",
                    "hmrc",
                )
            )
    for result in ("complete", "incomplete"):
        out.append(
            _mk(
                "fraud_prevention_headers_total",
                {"result": result},
                "counter",
                "fraud_prevention_headers",
                "counter",
                "hmrc",
            )
        )
    for t in TENANTS:
        for c in READINESS_COMPONENTS:
            out.append(
                _mk(
                    "filing_readiness_component_ratio",
                    {"tenant": t, "component": c},
                    "gauge",
                    "filing_readiness_component_ratio",
                    "gauge",
                    f"tenant:{t}",
                )
            )
    for name in ("filing_obligations_due", "filing_obligations_ready"):
        for t in TENANTS:
            for ob in ("vat", "itsa_quarterly"):
                out.append(_mk(name, {"tenant": t, "obligation": ob}, "gauge", name, "gauge", f"tenant:{t}"))
    for t in TENANTS:
        out.append(
            _mk(
                "tenant_backlog_documents",
                {"tenant": t},
                "gauge",
                "tenant_backlog_documents",
                "gauge",
                f"tenant:{t}",
            )
        )
    assistant = next(r for r in ROUTES if r.service == "assistant")
    out += _histogram("assistant_answer_duration_seconds", {}, ASSISTANT_LE, _route_group(assistant))
    for rating in ("positive", "negative"):
        out.append(
            _mk(
                "assistant_feedback_total",
                {"rating": rating},
                "counter",
                "assistant_feedback",
                "counter",
                _route_group(assistant),
            )
        )
    for s in SECRETS:
        out.append(
            _mk(
                "secret_last_rotated_timestamp_seconds",
                {"secret": s},
                "gauge",
                "secret_last_rotated_timestamp_seconds",
                "gauge",
                "static",
            )
        )
    for target in BACKUPS:
        out.append(
            _mk(
                "backup_last_success_timestamp_seconds",
                {"target": target},
                "gauge",
                "backup_last_success_timestamp_seconds",
                "gauge",
                "static",
            )
        )
    for result in ("success", "failure"):
        out.append(_mk("auth_logins_total", {"result": result}, "counter", "auth_logins", "counter", "auth"))
    for s in SERVICES:
        out.append(_mk("service_up", {"service": s}, "gauge", "service_up", "gauge", "static"))
    for extension in extensions():
        out += extension.series()
    return tuple(out)


def extensions() -> list:
    """The modules that add series of their own (`series()`, `generators(model)`): see README.md."""
    from . import controls, delivery, oncall

    return [controls, delivery, oncall]


@lru_cache(maxsize=1)
def _by_key() -> dict[str, Series]:
    return {s.key: s for s in catalogue()}


def find(metric: str, labels: Mapping[str, str] | None = None) -> list[Series]:
    """Series of ``metric`` whose labels include ``labels`` (``""`` matches an absent label, as in PromQL)."""
    labels = labels or {}
    out = []
    for s in catalogue():
        if s.name != metric:
            continue
        d = s.label_dict
        if all(d.get(k, "") == v for k, v in labels.items()):
            out.append(s)
    return out


# ---------------------------------------------------------------------------------------------------------
# Helpers


def _stable_words(text: str) -> list[int]:
    digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def rng_for(seed: int, key: str, index: int) -> np.random.Generator:
    """A Generator for (seed, key, index), stable across processes and Python versions."""
    return np.random.default_rng(np.random.SeedSequence([seed % 2**63, *_stable_words(key), index + 2**40]))


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


@lru_cache(maxsize=256)
def lognormal_buckets(
    median: float, sigma: float, bounds: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of the intervals (-inf, b0], (b0, b1], ..., (bn, inf) and the mean value in each."""
    mu = math.log(median)
    edges = (0.0, *bounds, math.inf)
    probs, means = [], []
    scale = math.exp(mu + sigma * sigma / 2)

    def cdf(x: float, shift: float = 0.0) -> float:
        if x <= 0:
            return 0.0
        if math.isinf(x):
            return 1.0
        return _phi((math.log(x) - mu - shift) / sigma)

    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        p = cdf(hi) - cdf(lo)
        partial = scale * (cdf(hi, sigma * sigma) - cdf(lo, sigma * sigma))
        probs.append(max(p, 0.0))
        if p > 1e-15:
            means.append(min(max(partial / p, lo), hi if not math.isinf(hi) else partial / p))
        else:
            means.append(hi if not math.isinf(hi) else lo * 1.5)
    pr = np.array(probs)
    pr = pr / pr.sum()
    return pr, np.array(means)


def _multinomial_rows(rng: np.random.Generator, n: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Split each n[i] over the categories with probabilities probs[i] (shape (len(n), k))."""
    return rng.multinomial(n, probs)


def working_day_curve(ts: np.ndarray) -> np.ndarray:
    """Relative traffic (peak 1.0) at epoch seconds ``ts``: UK local working hours, quieter at weekends."""
    ts = np.asarray(ts, dtype=np.int64)
    if len(ts) == 0:
        return np.zeros(0)
    first, last = _local_offset(int(ts[0])), _local_offset(int(ts[-1]))
    if first == last:
        offset = np.full(len(ts), first, dtype=np.int64)
    else:  # a daylight-saving change inside the range
        offset = np.array([_local_offset(int(t)) for t in ts], dtype=np.int64)
    local = ts + offset
    days = np.floor_divide(local, 86400)
    hour = (local - days * 86400) / 3600.0
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    day = _sigmoid((hour - 8.25) / 0.45) * _sigmoid((17.75 - hour) / 0.6)
    lunch = 1.0 - 0.12 * np.exp(-(((hour - 12.75) / 0.5) ** 2))
    evening = 0.10 * np.exp(-(((hour - 20.5) / 1.2) ** 2))
    workday = 0.05 + 0.95 * day * lunch + evening
    saturday = 0.04 + 0.16 * day + 0.3 * evening
    sunday = 0.03 + 0.09 * day + 0.3 * evening
    return np.where(weekday < 5, workday, np.where(weekday == 5, saturday, sunday))


def _local_offset(t: int) -> int:
    return int(datetime.fromtimestamp(t, UTC).astimezone(LONDON).utcoffset().total_seconds())


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------------------------------------------------
# The model


@dataclass
class _Ctx:
    day: int
    m: np.ndarray  # minute indices
    ts: np.ndarray  # epoch seconds of each minute's start
    curve: np.ndarray

    def __len__(self) -> int:
        return len(self.m)


class Model:
    """Per-minute increments and values of every series for one (anchor, seed)."""

    def __init__(self, anchor: str | datetime, seed: int = DEFAULT_SEED, cache_days: int = 40):
        self.anchor = parse_anchor(anchor)
        self.seed = int(seed)
        self.a = int(self.anchor.timestamp())
        self.t0 = self.a - HISTORY_MINUTES * 60
        self._scen = {s.name: s for s in scenarios(self.anchor)}
        self._cache: dict[tuple[str, int], dict[str, np.ndarray]] = {}
        self._cache_days = cache_days
        self._day_totals: dict[tuple[str, int], int] = {}
        self._generators: dict[str, Callable[[_Ctx, np.random.Generator], dict[str, np.ndarray]]] = {}
        for r in ROUTES:
            self._generators[_route_group(r)] = self._route_fn(r)
        for q in QUEUES:
            self._generators[f"queue:{q}"] = self._queue_fn(q)
        for t in TENANTS:
            self._generators[f"tenant:{t}"] = self._tenant_fn(t)
        self._generators["extraction"] = self._gen_extraction
        self._generators["reconciliation"] = self._gen_reconciliation
        self._generators["hmrc"] = self._gen_hmrc
        self._generators["auth"] = self._gen_auth
        self._generators["static"] = self._gen_static
        for extension in extensions():
            self._generators.update(extension.generators(self))

    # -- time -------------------------------------------------------------------------------------------
    def minute(self, t: datetime | float) -> int:
        """Index of the minute containing ``t``."""
        return math.floor((_epoch(t) - self.t0) / 60)

    def minute_start(self, m: int) -> int:
        return self.t0 + 60 * m

    def _window(self, name: str) -> tuple[int, int]:
        s = self._scen[name]
        return int(s.start.timestamp()), int(s.end.timestamp()) if s.end else 2**62

    def _mask(self, name: str, ts: np.ndarray) -> np.ndarray:
        s, e = self._window(name)
        return (ts >= s) & (ts < e)

    def _progress(self, name: str, ts: np.ndarray, ramp_seconds: float | None = None) -> np.ndarray:
        """0 outside the window; inside, (t - start) / (end - start) (or / ramp_seconds, capped at 1)."""
        s, e = self._window(name)
        span = ramp_seconds if ramp_seconds else (e - s)
        p = np.clip((ts - s) / span, 0.0, 1.0)
        return np.where((ts >= s) & (ts < e), p, 0.0)

    # -- chunks -----------------------------------------------------------------------------------------
    def _ctx(self, day: int) -> _Ctx:
        m = np.arange(day * DAY_MINUTES, (day + 1) * DAY_MINUTES, dtype=np.int64)
        ts = self.t0 + 60 * m
        return _Ctx(day, m, ts, working_day_curve(ts))

    def chunk(self, group: str, day: int) -> dict[str, np.ndarray]:
        """All series of ``group`` for one day of minutes ``[1440 day, 1440 (day + 1))``."""
        key = (group, day)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if group == "extraction_accuracy":
            data = self._gen_accuracy(day)
        else:
            data = self._generators[group](self._ctx(day), rng_for(self.seed, group, day))
        if len(self._cache) >= self._cache_days * 30:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = data
        return data

    def day_data(self, day: int) -> dict[str, np.ndarray]:
        """Every series for one day: counters as increments, gauges as values (``_sum`` in milliseconds)."""
        out: dict[str, np.ndarray] = {}
        for group in dict.fromkeys(s.group for s in catalogue()):
            out.update(self.chunk(group, day))
        return out

    def raw(self, series: Series | str, m0: int, m1: int) -> np.ndarray:
        """Increments (counters) or values (gauges) of a series for minutes ``[m0, m1)``, as stored."""
        s = series if isinstance(series, Series) else _by_key()[series]
        if m1 <= m0:
            return np.zeros(0, dtype=np.int64 if s.kind == "counter" else float)
        parts = []
        for day in range(m0 // DAY_MINUTES, (m1 - 1) // DAY_MINUTES + 1):
            arr = self.chunk(s.group, day)[s.key]
            lo = max(m0 - day * DAY_MINUTES, 0)
            hi = min(m1 - day * DAY_MINUTES, DAY_MINUTES)
            parts.append(arr[lo:hi])
        return np.concatenate(parts)

    def _counter_total_raw(self, s: Series, m0: int, m1: int) -> int:
        """Sum of stored increments over [m0, m1), using whole-day totals where possible."""
        m0 = max(m0, 0)
        if m1 <= m0:
            return 0
        total = 0
        d0, d1 = -(-m0 // DAY_MINUTES), m1 // DAY_MINUTES  # whole days inside
        if d0 >= d1:
            return int(self.raw(s, m0, m1).sum())
        total += int(self.raw(s, m0, d0 * DAY_MINUTES).sum())
        for day in range(d0, d1):
            k = (s.key, day)
            if k not in self._day_totals:
                self._day_totals[k] = int(self.chunk(s.group, day)[s.key].sum())
            total += self._day_totals[k]
        total += int(self.raw(s, d1 * DAY_MINUTES, m1).sum())
        return total

    def counter_value_raw(self, s: Series, m: int) -> int:
        """The counter at the sample time of minute ``m`` (events in [T0, T0 + 60 m)), as stored."""
        return self._counter_total_raw(s, 0, m)

    # -- public helpers ---------------------------------------------------------------------------------
    def counter_increase(
        self, metric: str, labels: Mapping[str, str] | None, start: datetime | float, end: datetime | float
    ) -> float:
        """Exact number of events in ``[start, end)`` summed over the matching series (minute granularity:
        both ends are floored to the minute)."""
        found = [s for s in find(metric, labels) if s.kind == "counter"]
        if not found:
            raise KeyError(f"no counter series {metric} {labels}")
        m0, m1 = self.minute(start), self.minute(end)
        total = sum(self._counter_total_raw(s, m0, m1) / s.scale for s in found)
        return total

    def counter_value(self, metric: str, labels: Mapping[str, str] | None, t: datetime | float) -> float:
        """Counter value(s) summed over matching series as sampled at ``t`` (floored to the minute)."""
        found = [s for s in find(metric, labels) if s.kind == "counter"]
        if not found:
            raise KeyError(f"no counter series {metric} {labels}")
        m = self.minute(t)
        return sum(self.counter_value_raw(s, m) / s.scale for s in found)

    def gauge_value(self, metric: str, labels: Mapping[str, str], t: datetime | float) -> float:
        """The gauge's value at ``t`` (floored to the minute); labels must identify one series."""
        found = [s for s in find(metric, labels) if s.kind == "gauge"]
        if len(found) != 1:
            raise KeyError(f"{len(found)} gauge series match {metric} {labels}")
        m = self.minute(t)
        return float(self.raw(found[0], m, m + 1)[0])

    def gauge_series(
        self, metric: str, labels: Mapping[str, str], start: datetime | float, end: datetime | float
    ) -> np.ndarray:
        """The gauge's values for the minutes of ``[start, end)``."""
        found = [s for s in find(metric, labels) if s.kind == "gauge"]
        if len(found) != 1:
            raise KeyError(f"{len(found)} gauge series match {metric} {labels}")
        return self.raw(found[0], self.minute(start), self.minute(end)).astype(float)

    def increments(
        self, metric: str, labels: Mapping[str, str] | None, start: datetime | float, end: datetime | float
    ) -> np.ndarray:
        """Per-minute increments over ``[start, end)`` summed over the matching counter series."""
        found = [s for s in find(metric, labels) if s.kind == "counter"]
        if not found:
            raise KeyError(f"no counter series {metric} {labels}")
        m0, m1 = self.minute(start), self.minute(end)
        return sum(self.raw(s, m0, m1) / s.scale for s in found)

    def values_at(self, m: int) -> dict[str, float | int]:
        """Every series at the sample time of minute ``m``: counters cumulative, gauges as is (as stored)."""
        out: dict[str, float | int] = {}
        for s in catalogue():
            out[s.key] = self.counter_value_raw(s, m) if s.kind == "counter" else self.raw(s, m, m + 1)[0]
        return out

    # -- generators -------------------------------------------------------------------------------------
    def _route_fn(self, r: Route):
        def gen(ctx: _Ctx, rng: np.random.Generator) -> dict[str, np.ndarray]:
            n_min = len(ctx)
            n = rng.poisson(r.rate * 60.0 * ctx.curve)
            p500 = np.full(n_min, P500)
            mult = np.ones(n_min)
            if r.service == "filing":
                outage = self._mask("hmrc_outage", ctx.ts)
                p500 = np.where(outage, OUTAGE_HTTP_500, P500)
                mult = np.where(outage, OUTAGE_LATENCY, 1.0)
            spike = np.zeros(n_min, dtype=bool)
            if r.service == "assistant":
                spike = self._mask("assistant_latency_spike", ctx.ts)
                mult = np.where(spike, ASSISTANT_SPIKE, 1.0)
            probs = np.stack([1.0 - P400 - p500, np.full(n_min, P400), p500], axis=1)
            codes = _multinomial_rows(rng, n, probs)
            out: dict[str, np.ndarray] = {}
            for i, code in enumerate(CODES):
                key = series_key(
                    "http_requests_total", {"service": r.service, "route": r.route, "code": code}
                )
                out[key] = codes[:, i].astype(np.int64)
            labels = {"service": r.service, "route": r.route}
            out.update(
                self._histogram(
                    rng,
                    "http_request_duration_seconds",
                    labels,
                    n,
                    r.median,
                    r.sigma,
                    mult,
                    HTTP_BUCKETS,
                    HTTP_LE,
                )
            )
            if r.service == "assistant" and r.route == "/assistant/answer":  # not its other paths
                answers = codes[:, 0]
                out.update(
                    self._histogram(
                        rng,
                        "assistant_answer_duration_seconds",
                        {},
                        answers,
                        ASSISTANT_MEDIAN,
                        ASSISTANT_SIGMA,
                        mult,
                        tuple(float(x) for x in ASSISTANT_LE[:-1]),
                        ASSISTANT_LE,
                    )
                )
                rated = rng.binomial(answers, FEEDBACK_SHARE)
                positive = rng.binomial(rated, np.where(spike, SPIKE_FEEDBACK_POSITIVE, FEEDBACK_POSITIVE))
                out[series_key("assistant_feedback_total", {"rating": "positive"})] = positive.astype(
                    np.int64
                )
                out[series_key("assistant_feedback_total", {"rating": "negative"})] = (
                    rated - positive
                ).astype(np.int64)
            return out

        return gen

    def _histogram(self, rng, family, labels, n, median, sigma, mult, bounds, les) -> dict[str, np.ndarray]:
        n_min = len(n)
        k = len(bounds) + 1
        probs = np.empty((n_min, k))
        means = np.empty((n_min, k))
        for factor in np.unique(mult):
            p, mean = lognormal_buckets(float(median * factor), float(sigma), tuple(bounds))
            sel = mult == factor
            probs[sel] = p
            means[sel] = mean
        counts = _multinomial_rows(rng, n, probs)
        cum = np.cumsum(counts, axis=1)
        out = {}
        for i, le in enumerate(les):
            out[series_key(family + "_bucket", {**labels, "le": le})] = cum[:, i].astype(np.int64)
        out[series_key(family + "_sum", labels)] = np.rint((counts * means).sum(axis=1) * 1000).astype(
            np.int64
        )
        out[series_key(family + "_count", labels)] = cum[:, -1].astype(np.int64)
        return out

    def _queue_fn(self, q: str):
        def gen(ctx: _Ctx, rng: np.random.Generator) -> dict[str, np.ndarray]:
            n_min = len(ctx)
            depth = QUEUE_BASE_DEPTH[q] * (0.25 + ctx.curve) * np.exp(rng.normal(0, 0.15, n_min))
            age = QUEUE_BASE_AGE[q] * (0.5 + ctx.curve) * np.exp(rng.normal(0, 0.2, n_min))
            if q in ("extraction", "reconciliation"):
                p = self._progress("vat_backlog", ctx.ts)
                depth = depth + (BACKLOG_QUEUE_DEPTH - depth) * p
                age = age + (BACKLOG_QUEUE_AGE - age) * p
            if q == "filing":
                s, e = self._window("hmrc_outage")
                p = self._progress("hmrc_outage", ctx.ts)
                # retries pile up during the outage and drain over the following 30 minutes
                drain = np.clip(1.0 - (ctx.ts - e) / 1800.0, 0.0, 1.0) * (ctx.ts >= e)
                depth = depth + OUTAGE_FILING_QUEUE_EXTRA * np.maximum(np.minimum(p * 8, 1.0), drain)
                age = age + np.where(self._mask("hmrc_outage", ctx.ts), np.minimum(ctx.ts - s, 1800.0), 0.0)
            return {
                series_key("queue_depth", {"queue": q}): np.rint(depth),
                series_key("queue_oldest_item_age_seconds", {"queue": q}): np.rint(age),
            }

        return gen

    def _accuracy_targets(self, ts: np.ndarray) -> dict[str, np.ndarray]:
        regression = self._mask("extraction_regression", ts)
        out = {}
        for d in DOCUMENT_TYPES:
            base = np.full(len(ts), ACCURACY[d])
            if d in REGRESSED_ACCURACY:
                base = np.where(regression, REGRESSED_ACCURACY[d], base)
            out[d] = base
        return out

    def _gen_extraction(self, ctx: _Ctx, rng: np.random.Generator) -> dict[str, np.ndarray]:
        targets = self._accuracy_targets(ctx.ts)
        out = {}
        for d in DOCUMENT_TYPES:
            n = rng.poisson(EXTRACTION_RATE * DOCUMENT_SHARE[d] * 60.0 * ctx.curve)
            correct = rng.binomial(n, targets[d])
            out[series_key("extraction_documents_total", {"document_type": d, "outcome": "correct"})] = (
                correct
            )
            out[series_key("extraction_documents_total", {"document_type": d, "outcome": "incorrect"})] = (
                n - correct
            )
        return {k: v.astype(np.int64) for k, v in out.items()}

    def _gen_accuracy(self, day: int) -> dict[str, np.ndarray]:
        """Accuracy over the hour before each sample: exactly correct / all over the previous 60 minutes."""
        prev, cur = self.chunk("extraction", day - 1), self.chunk("extraction", day)
        ts = self._ctx(day).ts
        targets = self._accuracy_targets(ts)
        out = {}
        for d in DOCUMENT_TYPES:
            kc = series_key("extraction_documents_total", {"document_type": d, "outcome": "correct"})
            ki = series_key("extraction_documents_total", {"document_type": d, "outcome": "incorrect"})
            c = np.concatenate([prev[kc][-60:], cur[kc]])
            i = np.concatenate([prev[ki][-60:], cur[ki]])
            cc = np.concatenate([[0], np.cumsum(c)])
            ci = np.concatenate([[0], np.cumsum(i)])
            # value at minute j of the day: sum over minutes j-60 .. j-1 = positions j .. j+59 of c
            j = np.arange(DAY_MINUTES)
            correct = cc[j + 60] - cc[j]
            total = correct + ci[j + 60] - ci[j]
            ratio = np.where(total > 0, correct / np.maximum(total, 1), targets[d])
            out[series_key("extraction_accuracy_ratio", {"document_type": d})] = np.round(ratio, 6)
        return out

    def _gen_reconciliation(self, ctx: _Ctx, rng: np.random.Generator) -> dict[str, np.ndarray]:
        n = rng.poisson(RECONCILIATION_RATE * 60.0 * ctx.curve)
        ramp = self._progress("vat_backlog", ctx.ts, BACKLOG_SLA_RAMP_HOURS * 3600)
        breach_p = np.where(
            self._mask("vat_backlog", ctx.ts),
            SLA_BREACH + (BACKLOG_SLA_BREACH - SLA_BREACH) * ramp,
            SLA_BREACH,
        )
        breached = rng.binomial(n, breach_p)
        within = n - breached
        bounds = tuple(float(x) for x in RECON_LE[:5])
        p, means = lognormal_buckets(RECON_MEDIAN, RECON_SIGMA, bounds)
        p_in, means_in = p[:5] / p[:5].sum(), means[:5]
        c_in = _multinomial_rows(rng, within, np.broadcast_to(p_in, (len(n), 5)))
        c_out = _multinomial_rows(rng, breached, np.broadcast_to(np.array(RECON_BREACH_SPLIT), (len(n), 2)))
        counts = np.concatenate([c_in, c_out], axis=1)
        cum = np.cumsum(counts, axis=1)
        out = {
            series_key("reconciliation_jobs_total", {"result": "within_sla"}): within.astype(np.int64),
            series_key("reconciliation_jobs_total", {"result": "breached_sla"}): breached.astype(np.int64),
        }
        for i, le in enumerate(RECON_LE):
            out[series_key("reconciliation_duration_seconds_bucket", {"le": le})] = cum[:, i].astype(np.int64)
        mean_all = np.concatenate([means_in, np.array(RECON_BREACH_MEAN)])
        out[series_key("reconciliation_duration_seconds_sum", {})] = np.rint(
            (counts * mean_all).sum(axis=1) * 1000
        ).astype(np.int64)
        out[series_key("reconciliation_duration_seconds_count", {})] = cum[:, -1].astype(np.int64)
        return out

    def hmrc_probabilities(self, ts: np.ndarray) -> np.ndarray:
        """Outcome probabilities (rows: minutes, columns: HMRC_OUTCOMES)."""
        base = np.array([p for _, _, p in HMRC_OUTCOMES])
        outage = base.copy() * (1.0 - OUTAGE_UNAVAILABLE)
        outage[[o[1] for o in HMRC_OUTCOMES].index("SERVICE_UNAVAILABLE")] = OUTAGE_UNAVAILABLE
        mask = self._mask("hmrc_outage", ts)
        return np.where(mask[:, None], outage[None, :], base[None, :])

    def _gen_hmrc(self, ctx: _Ctx, rng: np.random.Generator) -> dict[str, np.ndarray]:
        probs = self.hmrc_probabilities(ctx.ts)
        out = {}
        total = np.zeros(len(ctx), dtype=np.int64)
        for kind in ("vat", "itsa"):
            n = rng.poisson(HMRC_RATE[kind] * 60.0 * ctx.curve)
            total += n
            split = _multinomial_rows(rng, n, probs)
            for i, (result, code, _) in enumerate(HMRC_OUTCOMES):
                key = series_key(
                    "hmrc_submissions_total", {"kind": kind, "result": result, "error_code": code}
                )
                out[key] = split[:, i].astype(np.int64)
        incomplete = rng.binomial(total, FRAUD_HEADERS_INCOMPLETE)
        out[series_key("fraud_prevention_headers_total", {"result": "complete"})] = (
            total - incomplete
        ).astype(np.int64)
        out[series_key("fraud_prevention_headers_total", {"result": "incomplete"})] = incomplete.astype(
            np.int64
        )
        return out

    def deadline_progress(self, ts: np.ndarray) -> np.ndarray:
        """Share of the 30-day filing cycle elapsed at ``ts`` (0 just after a deadline, 1 at the next one)."""
        cycle = DEADLINE_CYCLE.total_seconds()
        d0 = self.a + DEADLINE_AFTER_ANCHOR.total_seconds()
        return np.mod(np.asarray(ts, dtype=float) - d0, cycle) / cycle

    def _tenant_fn(self, tenant: str):
        def gen(ctx: _Ctx, rng: np.random.Generator) -> dict[str, np.ndarray]:
            n_min = len(ctx)
            q = self.deadline_progress(ctx.ts) ** 0.7
            drop = np.zeros(n_min)
            if tenant in BACKLOG_TENANTS:
                drop = BACKLOG_READINESS_DROP * self._progress(
                    "vat_backlog", ctx.ts, BACKLOG_SLA_RAMP_HOURS * 3600
                )
            out = {}
            ratios = {}
            for c in READINESS_COMPONENTS:
                lo, hi = READINESS_RANGE[c]
                v = lo + (hi - lo) * q + READINESS_TENANT_OFFSET[tenant] + rng.normal(0, 0.004, n_min)
                if c != "documents_ingested":
                    v = v * (1.0 - drop)
                v = np.round(np.clip(v, 0.0, 1.0), 4)
                ratios[c] = v
                out[series_key("filing_readiness_component_ratio", {"tenant": tenant, "component": c})] = v
            due = {
                "vat": OBLIGATIONS_VAT[tenant],
                "itsa_quarterly": round(OBLIGATIONS_VAT[tenant] * ITSA_SHARE),
            }
            for ob, n_due in due.items():
                ready = np.floor(n_due * ratios["approved"] * (1.0 if ob == "vat" else 0.97))
                out[series_key("filing_obligations_due", {"tenant": tenant, "obligation": ob})] = np.full(
                    n_min, float(n_due)
                )
                out[series_key("filing_obligations_ready", {"tenant": tenant, "obligation": ob})] = ready
            backlog = TENANT_BACKLOG_BASE[tenant] * (0.4 + ctx.curve) * np.exp(rng.normal(0, 0.2, n_min))
            if tenant in BACKLOG_TENANTS:
                backlog = backlog + (TENANT_BACKLOG_PEAK - backlog) * self._progress("vat_backlog", ctx.ts)
            out[series_key("tenant_backlog_documents", {"tenant": tenant})] = np.rint(backlog)
            return out

        return gen

    def _gen_auth(self, ctx: _Ctx, rng: np.random.Generator) -> dict[str, np.ndarray]:
        lam = LOGIN_RATE * 60.0 * ctx.curve
        success = rng.poisson(lam)
        failure = rng.poisson(lam * LOGIN_FAILURE_SHARE)
        burst = np.where(self._mask("failed_logins_burst", ctx.ts), BURST_FAILURES_PER_MINUTE, 0)
        return {
            series_key("auth_logins_total", {"result": "success"}): success.astype(np.int64),
            series_key("auth_logins_total", {"result": "failure"}): (failure + burst).astype(np.int64),
        }

    def burst_failures(self, ts: np.ndarray) -> np.ndarray:
        """Failed logins per minute that belong to the burst (the rest of the failures are background)."""
        return np.where(self._mask("failed_logins_burst", ts), BURST_FAILURES_PER_MINUTE, 0)

    def secret_last_rotated(self, secret: str, ts: np.ndarray) -> np.ndarray:
        ago, period = SECRETS[secret]
        last = self.a - ago.total_seconds()
        per = period.total_seconds()
        ts = np.asarray(ts, dtype=float)
        k = np.ceil(np.maximum(last - ts, 0.0) / per)
        return last - k * per

    def _gen_static(self, ctx: _Ctx, rng: np.random.Generator) -> dict[str, np.ndarray]:
        n_min = len(ctx)
        out = {series_key("reconciliation_sla_seconds", {}): np.full(n_min, float(RECONCILIATION_SLA))}
        restart_start = int(self._scen["extraction_regression"].start.timestamp())
        restart = (ctx.ts >= restart_start) & (ctx.ts < restart_start + 60 * EXTRACTION_RESTART_MINUTES)
        for s in SERVICES:
            up = np.ones(n_min)
            if s == "extraction":
                up = np.where(restart, 0.0, 1.0)
            out[series_key("service_up", {"service": s})] = up
        for secret in SECRETS:
            out[series_key("secret_last_rotated_timestamp_seconds", {"secret": secret})] = (
                self.secret_last_rotated(secret, ctx.ts)
            )
        from . import oncall

        for target, (period, offset) in BACKUPS.items():
            out[series_key("backup_last_success_timestamp_seconds", {"target": target})] = (
                oncall.backup_last_success(self, target, period, offset, ctx.ts)
            )
        return out


# ---------------------------------------------------------------------------------------------------------
# Module-level helpers (cached models)


@lru_cache(maxsize=8)
def get_model(anchor: str | datetime, seed: int = DEFAULT_SEED) -> Model:
    return Model(parse_anchor(anchor), seed)


def counter_increase(
    metric: str,
    labels: Mapping[str, str] | None,
    start: datetime | float,
    end: datetime | float,
    anchor: str | datetime,
    seed: int = DEFAULT_SEED,
) -> float:
    """Exact number of events of the matching counter series in ``[start, end)`` (minute-floored)."""
    return get_model(parse_anchor(anchor), seed).counter_increase(metric, labels, start, end)


def counter_value(
    metric: str,
    labels: Mapping[str, str] | None,
    t: datetime | float,
    anchor: str | datetime,
    seed: int = DEFAULT_SEED,
) -> float:
    return get_model(parse_anchor(anchor), seed).counter_value(metric, labels, t)


def gauge_value(
    metric: str,
    labels: Mapping[str, str],
    t: datetime | float,
    anchor: str | datetime,
    seed: int = DEFAULT_SEED,
) -> float:
    return get_model(parse_anchor(anchor), seed).gauge_value(metric, labels, t)


def increments(
    metric: str,
    labels: Mapping[str, str] | None,
    start: datetime | float,
    end: datetime | float,
    anchor: str | datetime,
    seed: int = DEFAULT_SEED,
) -> np.ndarray:
    return get_model(parse_anchor(anchor), seed).increments(metric, labels, start, end)


def families() -> dict[str, str]:
    """Metric family -> type, in exposition order."""
    return {s.family: s.family_type for s in catalogue()}


def label_values(metric: str, label: str) -> list[str]:
    return sorted({s.label_dict.get(label, "") for s in find(metric)})


def iter_series(names: Iterable[str] | None = None) -> Iterable[Series]:
    wanted = set(names) if names else None
    return (s for s in catalogue() if wanted is None or s.name in wanted)
