"""Logs, audit events and traces derived from the model, one day at a time (pure: no I/O).

Logs come from the per-minute HTTP counts of the model, so they agree with the metrics exactly:
- every ``500`` response is one ``ERROR`` log of its service, every ``400`` one ``WARN`` log, and a sample
  of ``200`` responses (binomial, ``LOG_INFO_SAMPLE``) gives ``INFO`` logs;
- ``filing`` logs carry ``action: hmrc.submit`` (so the HMRC outage shows as ERROR logs of that action);
- a log's timestamp falls inside the minute of its response, so a count over minute-aligned ``[start, end)``
  equals the model's ``counter_increase`` for the same range.

Every logged response belongs to a trace: the log carries the ``trace_id`` and ``span_id`` of its span. Only
the traces that tail sampling keeps (``sampling.keep``: failed, slow, and a small share of the rest) are
generated as span trees for Jaeger, so a log's trace may not be there, as in production. Audit events
follow the model's ``audit_events_total`` per action exactly (``login.success`` / ``login.failure`` =
``auth_logins_total``). Every message and detail goes through :func:`pii.mask` first, except the few that the
``leak`` scenario (:mod:`leak`) lets through unmasked, with the same personal data on their spans.
"""

from __future__ import annotations

import hashlib
import math
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from . import controls, leak, model, oncall, pii, probes, sampling

LOG_INFO_SAMPLE = 0.008
LEVEL_OF_CODE = {"500": "ERROR", "400": "WARN", "200": "INFO"}

ACTIONS = {
    "/api/upload": "document.upload",
    "/api/filings": "filing.request",
    "/ingest/document": "document.ingest",
    "/ingest/bank-feed": "bankfeed.sync",
    "/extract": "document.extract",
    "/reconcile": "ledger.reconcile",
    "/vat/returns": "hmrc.submit",
    "/itsa/updates": "hmrc.submit",
    "/assistant/answer": "assistant.answer",
}

# message templates per (route, level); the {placeholders} are filled with made-up values, PII included,
# and the result is masked before it leaves this module
MESSAGES = {
    ("/api/upload", "INFO"): "upload accepted: {doc_type} for client {email} ({pages} pages)",
    ("/api/upload", "WARN"): "upload rejected: unsupported file type from {email}",
    ("/api/upload", "ERROR"): "upload failed: storage write timeout after {ms} ms",
    ("/api/filings", "INFO"): "filing request queued for UTR {utr}",
    ("/api/filings", "WARN"): "filing request invalid: missing period for UTR {utr}",
    ("/api/filings", "ERROR"): "filing request failed: filing service unavailable",
    ("/ingest/document", "INFO"): "document stored: {doc_type} {doc_id}",
    ("/ingest/document", "WARN"): "document rejected: password-protected PDF from {email}",
    ("/ingest/document", "ERROR"): "document store failed: object storage 503 for {doc_id}",
    ("/ingest/bank-feed", "INFO"): "bank feed synced: {n} transactions",
    ("/ingest/bank-feed", "WARN"): "bank feed consent expired for client {email}, phone {phone}",
    ("/ingest/bank-feed", "ERROR"): "bank feed sync failed: provider timeout after {ms} ms",
    ("/extract", "INFO"): "extracted {doc_type} {doc_id} (confidence {conf})",
    ("/extract", "WARN"): "extraction rejected: unreadable {doc_type} {doc_id}",
    ("/extract", "ERROR"): "extraction failed: model server error for {doc_id}",
    ("/reconcile", "INFO"): "reconciled period {period}: {n} transactions matched",
    ("/reconcile", "WARN"): "reconciliation input invalid: period {period} is locked",
    ("/reconcile", "ERROR"): "reconciliation failed: ledger service error for period {period}",
    ("/vat/returns", "INFO"): "HMRC VAT return accepted for UTR {utr} (receipt {receipt})",
    ("/vat/returns", "WARN"): "HMRC VAT return rejected: INVALID_REQUEST for UTR {utr}",
    ("/vat/returns", "ERROR"): "HMRC VAT return failed: 500 SERVER_ERROR for UTR {utr}",
    ("/itsa/updates", "INFO"): "HMRC ITSA update accepted for NINO {nino} (receipt {receipt})",
    ("/itsa/updates", "WARN"): "HMRC ITSA update rejected: INVALID_REQUEST for NINO {nino}",
    ("/itsa/updates", "ERROR"): "HMRC ITSA update failed: 500 SERVER_ERROR for NINO {nino}",
    ("/assistant/answer", "INFO"): "answered question from {email} in {ms} ms",
    ("/assistant/answer", "WARN"): "question rejected: empty prompt from {email}",
    ("/assistant/answer", "ERROR"): "answer failed: language model timeout after {ms} ms",
}
OUTAGE_MESSAGES = {
    "/vat/returns": "HMRC VAT return failed: 503 SERVICE_UNAVAILABLE for UTR {utr}; will retry",
    "/itsa/updates": "HMRC ITSA update failed: 503 SERVICE_UNAVAILABLE for NINO {nino}; will retry",
}
FIRST_NAMES = ("amy", "ben", "carla", "dev", "ella", "farid", "grace", "harry", "isla", "jon", "kemi", "liam")
LAST_NAMES = ("patel", "smith", "jones", "okafor", "brown", "taylor", "khan", "evans", "wilson", "roberts")

# ---- traces -------------------------------------------------------------------------------------------
# (service, span name, route or None)
WORKFLOW = (
    ("gateway", "POST /api/upload", "/api/upload"),
    ("ingestion", "POST /ingest/document", "/ingest/document"),
    ("extraction", "POST /extract", "/extract"),
    ("reconciliation", "POST /reconcile", "/reconcile"),
    ("filing", "POST /vat/returns", "/vat/returns"),
)
FILINGS = (
    ("gateway", "POST /api/filings", "/api/filings"),
    ("filing", "POST /itsa/updates", "/itsa/updates"),
)
BANK_FEED = (
    ("ingestion", "POST /ingest/bank-feed", "/ingest/bank-feed"),
    ("reconciliation", "POST /reconcile", "/reconcile"),
)
ASSISTANT = (
    ("gateway", "POST /api/assistant", None),
    ("assistant", "POST /assistant/answer", "/assistant/answer"),
)
CHAIN_OF_ROUTE = {
    "/api/upload": (WORKFLOW, 0),
    "/ingest/document": (WORKFLOW, 1),
    "/extract": (WORKFLOW, 2),
    "/reconcile": (WORKFLOW, 3),
    "/vat/returns": (WORKFLOW, 4),
    "/api/filings": (FILINGS, 0),
    "/itsa/updates": (FILINGS, 1),
    "/ingest/bank-feed": (BANK_FEED, 0),
    "/assistant/answer": (ASSISTANT, 1),
}
# internal/client child spans: route -> ((name, kind, share of the parent's own time), ...)
CHILDREN = {
    "/ingest/document": (("store.document", "internal", 0.6),),
    "/ingest/bank-feed": (("fetch.transactions", "client", 0.7),),
    "/extract": (("ocr", "internal", 0.55), ("classify", "internal", 0.25)),
    "/reconcile": (("match.transactions", "internal", 0.8),),
    "/vat/returns": (("hmrc.submit", "client", 0.8),),
    "/itsa/updates": (("hmrc.submit", "client", 0.8),),
    "/assistant/answer": (("retrieve", "internal", 0.2), ("generate", "internal", 0.7)),
}
GATEWAY_ASSISTANT_MEDIAN = 0.01  # the gateway's own time around an assistant call
HOP_NS = 2_000_000  # 2 ms between a parent's own work and its downstream call
MODEL_VERSION = {False: "extract-v41", True: "extract-v42"}


@dataclass
class SpanSpec:
    service: str
    name: str
    kind: str  # server, client, internal
    trace_id: int
    span_id: int
    parent_id: int | None
    start_ns: int
    end_ns: int
    attributes: dict
    error: bool = False


@dataclass
class DayEvents:
    logs: list[dict] = field(default_factory=list)
    audit: list[dict] = field(default_factory=list)
    traces: list[list[SpanSpec]] = field(default_factory=list)


def _id(nbytes: int, *parts) -> int:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=nbytes).digest()
    return int.from_bytes(digest, "big") or 1


def iso_ms_array(epoch_ms: np.ndarray) -> list[str]:
    """RFC 3339 UTC strings with milliseconds for epoch milliseconds (vectorised)."""
    text = np.datetime_as_string(np.asarray(epoch_ms, dtype="int64").astype("datetime64[ms]"), unit="ms")
    return [t + "Z" for t in text.tolist()]


def iso_ms(epoch_ms: int) -> str:
    dt = datetime.fromtimestamp(epoch_ms // 1000, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{epoch_ms % 1000:03d}Z"


def _fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def _fake_values(rng: np.random.Generator, tenants: list[str], n: int, fields: set[str]) -> list[dict]:
    """Made-up values for the placeholders ``fields`` of ``n`` messages, drawn in bulk (much faster)."""
    columns: dict[str, list] = {}
    for f in sorted(fields):
        if f == "email":
            first = rng.integers(len(FIRST_NAMES), size=n).tolist()
            last = rng.integers(len(LAST_NAMES), size=n).tolist()
            columns[f] = [
                f"{FIRST_NAMES[a]}.{LAST_NAMES[b]}@{t}.example"
                for a, b, t in zip(first, last, tenants, strict=True)
            ]
        elif f == "phone":
            columns[f] = [f"07700 900{v:03d}" for v in rng.integers(1000, size=n).tolist()]
        elif f == "nino":
            columns[f] = [f"QQ{v:06d}C" for v in rng.integers(1_000_000, size=n).tolist()]
        elif f == "utr":
            columns[f] = [str(v) for v in rng.integers(10**9, 10**10, size=n).tolist()]
        elif f == "doc_type":
            columns[f] = [model.DOCUMENT_TYPES[v] for v in rng.integers(4, size=n).tolist()]
        elif f == "doc_id":
            columns[f] = [f"doc-{v:08x}" for v in rng.integers(16**8, size=n).tolist()]
        elif f == "pages":
            columns[f] = rng.integers(1, 12, size=n).tolist()
        elif f == "n":
            columns[f] = rng.integers(5, 400, size=n).tolist()
        elif f == "conf":
            columns[f] = [f"{v:.2f}" for v in (0.80 + 0.2 * rng.random(n)).tolist()]
        elif f == "period":
            columns[f] = [f"2026-Q{v}" for v in rng.integers(1, 5, size=n).tolist()]
        elif f == "receipt":
            columns[f] = [f"{v:010x}" for v in rng.integers(16**10, size=n).tolist()]
        elif f == "ms":
            columns[f] = rng.normal(size=n).tolist()  # turned into milliseconds by the caller
        else:
            raise KeyError(f)
    names = list(columns)
    return (
        [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]
        if names
        else [{} for _ in range(n)]
    )


class EventGenerator:
    """Generates the events of one (anchor, seed) day by day; the model is shared."""

    def __init__(self, anchor, seed: int = model.DEFAULT_SEED, m: model.Model | None = None):
        self.model = m or model.Model(anchor, seed)
        self.seed = self.model.seed
        weights = np.array([model.OBLIGATIONS_VAT[t] for t in model.TENANTS], dtype=float)
        self.tenant_p = weights / weights.sum()
        self.route_by_path = {r.route: r for r in model.ROUTES}
        self.windows = {
            s.name: (s.start.timestamp(), s.end.timestamp() if s.end else float("inf"))
            for s in model.scenarios(self.model.anchor)
        }

    # -- logs and traces --------------------------------------------------------------------------------
    def day(self, day: int, with_audit: bool = True) -> DayEvents:
        out = DayEvents()
        for r in model.ROUTES:
            self._route_logs(r, day, out)
        probes.add(self, day, out)
        if with_audit:
            out.audit = self.audit(day)
        out.logs.sort(key=lambda d: d["@timestamp"])
        return out

    def _in(self, scenario: str, ts: float) -> bool:
        start, end = self.windows[scenario]
        return start <= ts < end

    def _latency_mult(self, route: str, ts: float) -> float:
        if route in ("/vat/returns", "/itsa/updates") and self._in("hmrc_outage", ts):
            return model.OUTAGE_LATENCY
        if route == "/assistant/answer" and self._in("assistant_latency_spike", ts):
            return model.ASSISTANT_SPIKE
        return 1.0

    def _latency_mults(self, route: str, ts: np.ndarray) -> np.ndarray:
        """``_latency_mult`` for many epoch seconds at once."""
        mult = np.ones(len(ts))
        for scenario, routes, factor in (
            ("hmrc_outage", ("/vat/returns", "/itsa/updates"), model.OUTAGE_LATENCY),
            ("assistant_latency_spike", ("/assistant/answer",), model.ASSISTANT_SPIKE),
        ):
            if route in routes:
                start, end = self.windows[scenario]
                mult = np.where((ts >= start) & (ts < end), factor, mult)
        return mult

    def _route_logs(self, r: model.Route, day: int, out: DayEvents) -> None:
        m = self.model
        group = f"route:{r.service}:{r.route}"
        path = model.base_path(r.route)  # a route's other paths log and trace as the route does
        data = m.chunk(group, day)
        rng = model.rng_for(self.seed, "logs:" + group, day)
        counts = {}
        for code in model.CODES:
            counts[code] = data[model.series_key("http_requests_total", {**_rl(r), "code": code})]
        counts["200"] = rng.binomial(counts["200"], LOG_INFO_SAMPLE)
        minute0 = m.t0 + 60 * day * model.DAY_MINUTES
        for code in model.CODES:
            level = LEVEL_OF_CODE[code]
            per_minute = counts[code]
            total = int(per_minute.sum())
            if total == 0:
                continue
            minutes = np.repeat(np.arange(model.DAY_MINUTES), per_minute)
            epoch = (minute0 + 60 * minutes) * 1000 + rng.integers(0, 60_000, size=total)
            stamps = iso_ms_array(epoch)
            epoch = epoch.tolist()
            tenants = [model.TENANTS[i] for i in rng.choice(len(model.TENANTS), size=total, p=self.tenant_p)]
            latency_z = rng.normal(size=total)
            mults = self._latency_mults(path, np.asarray(epoch) / 1000)
            thinned = sampling.share(model.HISTORY_DAYS - day)  # day 0 starts 30 days before the anchor
            kept = sampling.keep(
                np.full(total, code), latency_z, r.sigma, mults, rng.random(total), thinned
            ).tolist()
            latency_z = latency_z.tolist()
            fields = set(_fields(MESSAGES[(path, level)]))
            if level == "ERROR" and path in OUTAGE_MESSAGES:
                fields |= set(_fields(OUTAGE_MESSAGES[path]))
            fakes = _fake_values(rng, tenants, total, fields)
            for j in range(total):
                epoch_ms = epoch[j]
                tenant = tenants[j]
                leaked = leak.leaked_values(self.seed, m.anchor, epoch_ms, f"{group}|{day}|{code}|{j}")
                doc = self._log_doc(r, path, level, code, epoch_ms, stamps[j], tenant, fakes[j], leaked)
                trace_id = _id(16, self.seed, group, day, code, j)
                span_id = _id(8, trace_id, CHAIN_OF_ROUTE[path][1])  # as `_trace` numbers the spans
                if kept[j]:
                    spans, span_id = self._trace(r, path, code, epoch_ms, tenant, trace_id, rng, latency_z[j])
                    if leaked:
                        next(sp for sp in spans if sp.span_id == span_id).attributes.update(
                            leak.span_attributes(leaked)
                        )
                    spans = [sp for sp in spans if not oncall.traces_lost(m, sp.service, epoch_ms / 1000)]
                    out.traces.append(spans)
                doc["trace_id"] = f"{trace_id:032x}"
                doc["span_id"] = f"{span_id:016x}"
                out.logs.append(doc)

    def _log_doc(
        self,
        r: model.Route,
        path: str,  # the route's base path (`model.base_path`): its messages, action and latency
        level: str,
        code: str,
        epoch_ms: int,
        stamp: str,
        tenant: str,
        values: dict,
        leaked: dict[str, str] | None = None,
    ) -> dict:
        if "ms" in values:
            mult = self._latency_mult(path, epoch_ms / 1000)
            values["ms"] = int(1000 * r.median * mult * math.exp(0.5 * values["ms"]))
        template = MESSAGES[(path, level)]
        if level == "ERROR" and path in OUTAGE_MESSAGES and self._in("hmrc_outage", epoch_ms / 1000):
            template = OUTAGE_MESSAGES[path]
        return {
            "@timestamp": stamp,
            "service": r.service,
            "level": level,
            "tenant": tenant,
            "action": ACTIONS[path],
            "route": r.route,
            "status": code,
            "message": leak.message(template.format(**values), leaked)
            if leaked
            else pii.mask(template.format(**values)),
        }

    def _trace(
        self,
        r: model.Route,
        path: str,  # the route's base path, whose chain of calls the trace follows
        code: str,
        epoch_ms: int,
        tenant: str,
        trace_id: int,
        rng,
        logged_z: float,
    ):
        """The span tree around one logged response; returns (spans, the logged span's id). ``logged_z``
        is the latency draw of the logged span, which the sampling decision has seen."""
        chain, k = CHAIN_OF_ROUTE[path]
        ts = epoch_ms / 1000
        # a replica's requests go through the other services' replicas of the same number
        suffix = r.service[len(model.base_of(r.service)) :]
        links = [(service + suffix, name, route) for service, name, route in chain]
        links = links[: k + 1] if code != "200" else links
        # the trace fan-out grows with the scale: the original services call each internal step SCALE times
        calls = model.SCALE if not suffix else 1
        # own durations (seconds) of every route span of the chain
        own = []
        for i, (_service, _name, route) in enumerate(links):
            if route is None:
                own.append(GATEWAY_ASSISTANT_MEDIAN * float(np.exp(0.3 * rng.normal())))
                continue
            spec = self.route_by_path[route]
            z = logged_z if i == k else rng.normal()
            own.append(spec.median * self._latency_mult(route, ts) * float(np.exp(spec.sigma * z)))
        # total durations, from the deepest span up: own work, a hop, then the downstream call
        n = len(links)
        total_ns = [0] * n
        for i in range(n - 1, -1, -1):
            total_ns[i] = int(own[i] * 1e9) + (HOP_NS + total_ns[i + 1] + 1_000_000 if i + 1 < n else 0)
        # the logged span ends (ERROR/WARN) or is halfway (INFO) at the log's time
        own_k = int(own[k] * 1e9)
        ref = epoch_ms * 1_000_000
        start = [0] * n
        start[k] = ref - (own_k if code != "200" else own_k // 2)
        for i in range(k - 1, -1, -1):
            start[i] = start[i + 1] - HOP_NS - int(own[i] * 1e9)
        for i in range(k + 1, n):
            start[i] = start[i - 1] + int(own[i - 1] * 1e9) + HOP_NS
        span_ids = [_id(8, trace_id, i) for i in range(n)]
        spans: list[SpanSpec] = []
        outage = self._in("hmrc_outage", ts)
        regression = self._in("extraction_regression", ts)
        for i, (service, name, route) in enumerate(links):
            status = int(code) if i == k else 200
            error = status >= 500
            attrs = {"http.method": "POST", "http.status_code": status, "tenant": tenant}
            if route:
                attrs["http.route"] = route
            else:
                attrs["http.route"] = "/api/assistant"
            if error:
                attrs["error"] = True
            if route == "/extract":
                attrs["model.version"] = MODEL_VERSION[regression]
            spans.append(
                SpanSpec(
                    service,
                    name,
                    "server",
                    trace_id,
                    span_ids[i],
                    span_ids[i - 1] if i else None,
                    start[i],
                    start[i] + total_ns[i],
                    attrs,
                    error,
                )
            )
            # children inside the span's own time
            t = start[i] + int(0.05 * own[i] * 1e9)
            for j, call, (child, kind, share) in (
                (j, call, spec) for j, spec in enumerate(CHILDREN.get(route, ())) for call in range(calls)
            ):
                dur = int(share * own[i] * 1e9 / calls)
                cattrs: dict = {}
                cerror = False
                if child == "hmrc.submit":
                    if status >= 500:
                        hmrc_status = 503 if outage else 500
                        cattrs = {
                            "http.status_code": hmrc_status,
                            "hmrc.error_code": "SERVICE_UNAVAILABLE" if outage else "SERVER_ERROR",
                            "error": True,
                        }
                        cerror = True
                    elif status == 400:
                        cattrs = {"http.status_code": 400, "hmrc.error_code": "INVALID_REQUEST"}
                    else:
                        cattrs = {"http.status_code": 200}
                    cattrs["peer.service"] = "hmrc-mtd-api"
                spans.append(
                    SpanSpec(
                        service,
                        child,
                        kind,
                        trace_id,
                        _id(8, trace_id, i, "child", j, *([call] if call else [])),
                        span_ids[i],
                        t,
                        t + dur,
                        cattrs,
                        cerror,
                    )
                )
                t += dur
        return spans, span_ids[k]

    # -- audit ------------------------------------------------------------------------------------------
    def audit(self, day: int) -> list[dict]:
        m = self.model
        rng = model.rng_for(self.seed, "audit", day)
        data = m.chunk("auth", day)
        ctx = m._ctx(day)
        success = data[model.series_key("auth_logins_total", {"result": "success"})]
        failure = data[model.series_key("auth_logins_total", {"result": "failure"})]
        burst = m.burst_failures(ctx.ts)
        docs: list[dict] = []

        def add(
            minute: int, action: str, outcome: str, tenant: str, actor: str, ip: str, details: str
        ) -> None:
            epoch_ms = int(ctx.ts[minute]) * 1000 + int(rng.integers(60_000))
            docs.append(
                {
                    "@timestamp": iso_ms(epoch_ms),
                    "actor": actor,
                    "tenant": tenant,
                    "action": action,
                    "outcome": outcome,
                    "source_ip": ip,
                    "details": pii.mask(details),
                }
            )

        def user(tenant: str) -> str:
            return (
                f"user:{tenant}/{FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]}{int(rng.integers(1, 9))}"
            )

        def office_ip(tenant: str) -> str:
            office = model.BASE_TENANTS.index(model.base_of(tenant))  # a replica shares its original's
            return f"192.0.2.{10 + 10 * office + int(rng.integers(5))}"

        def tenant_pick() -> str:
            return model.TENANTS[int(rng.choice(len(model.TENANTS), p=self.tenant_p))]

        for minute in np.nonzero(success)[0]:
            for _ in range(int(success[minute])):
                t = tenant_pick()
                add(int(minute), "login.success", "success", t, user(t), office_ip(t), "password + TOTP")
        for minute in np.nonzero(failure)[0]:
            n_burst = int(burst[minute])
            for i in range(int(failure[minute])):
                t = tenant_pick()
                if i < n_burst:
                    guess = ("admin", "support", "test", "finance", "payroll")[int(rng.integers(5))]
                    add(
                        int(minute),
                        "login.failure",
                        "failure",
                        t,
                        f"user:{t}/{guess}",
                        "198.51.100.66",
                        "unknown user or bad password",
                    )
                else:
                    ip = f"198.51.100.{int(rng.integers(1, 60))}"
                    add(int(minute), "login.failure", "failure", t, user(t), ip, "bad password")
        # other audited actions, as many a minute as the model's audit_events_total counts
        audited = m.chunk("audit", day)
        deploys = oncall.deploys(m, day)
        for action in oncall.AUDIT_RATES:
            counts = audited[model.series_key("audit_events_total", {"action": action})].copy()
            if action == "config.change":
                for minute, _version in deploys:
                    counts[minute] -= 1  # written below, by the deploy bot
            if action == oncall.MISSING_AUDIT_ACTION:
                for minute in oncall.unapproved_exports(m, day):
                    counts[minute] -= 1  # written by controls.with_approvals, without approval
            for minute in np.nonzero(counts)[0]:
                for _ in range(int(counts[minute])):
                    t = tenant_pick()
                    actor = user(t)
                    outcome, details = self._audit_details(action, t, rng)
                    add(int(minute), action, outcome, t, actor, office_ip(t), details)
        # deployments of the extraction model, as configuration changes
        for minute, version in deploys:
            add(
                minute,
                "config.change",
                "success",
                model.PLATFORM_TENANT,
                "svc:deploy-bot",
                "192.0.2.250",
                f"extraction model set to {version}" + (" (rollback)" if version == "extract-v41" else ""),
            )
        docs = controls.with_approvals(docs, m, day)
        docs.sort(key=lambda d: d["@timestamp"])
        return docs

    @staticmethod
    def _audit_details(action: str, tenant: str, rng) -> tuple[str, str]:
        first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
        last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
        if action == "role.change":
            role = ("accountant", "support", "client", "admin")[int(rng.integers(4))]
            return "success", f"granted role {role} to {first}.{last}@{tenant}.example"
        if action == "config.change":
            key = (
                "extraction.confidence_threshold",
                "reconciliation.auto_match",
                "filing.approval_required",
            )[int(rng.integers(3))]
            return "success", f"changed {key}"
        if action == "rulepack.edit":
            return (
                "success",
                f"edited rulepack vat-{int(rng.integers(1, 40)):02d} (rule {int(rng.integers(100))})",
            )
        if action == "assistant.action":
            what = ("drafted client e-mail", "categorised transactions", "flagged missing receipt")[
                int(rng.integers(3))
            ]
            return "success", f"approved assistant action: {what} for {first}.{last}@{tenant}.example"
        denied = rng.random() < 0.1
        n_docs, utr = int(rng.integers(5, 500)), int(rng.integers(10**9, 10**10))
        return ("denied" if denied else "success"), f"exported {n_docs} documents for client UTR {utr}"

    # -- all days ---------------------------------------------------------------------------------------
    def days(self, first: int = 0, last: int = model.HISTORY_DAYS) -> Iterator[tuple[int, DayEvents]]:
        for day in range(first, last):
            yield day, self.day(day)


def _rl(r: model.Route) -> dict[str, str]:
    return {"service": r.service, "route": r.route}


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def incidents(anchor) -> list[dict]:
    """One document per scenario, for chart annotations."""
    return [
        {
            "name": s.name,
            "title": s.title,
            "start": s.start.isoformat().replace("+00:00", "Z"),
            "end": s.end.isoformat().replace("+00:00", "Z") if s.end else None,
            "services": list(s.services),
            "description": s.description,
        }
        for s in model.scenarios(anchor)
    ]
