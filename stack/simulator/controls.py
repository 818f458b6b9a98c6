"""Security evidence, exported as the platform's own tools would export it.

- Scraped gauges (`series`, `generators`, hooked into model.py's catalogue and generators): per store the
  last restore drill (when, passed or not, restore time), cross-region replication lag, documents by
  encryption, key age per KMS key, encryption at rest per store, the `.env` secret scanner's findings, and
  the SOC 2 Type II readiness checklist as the compliance tool counts it.
- Audit approvals (`with_approvals`, hooked into events.py): a data export or a role change that succeeds
  carries the admin who approved it (`approved_by`); the `unapproved_export` scenario adds one without.
- Penetration tests and vulnerability findings (`findings`, hooked into load.py): the `security-findings`
  index, as the security team's tracker would feed it.

Everything is a function of (anchor, seed, time); the scenarios (`scenarios`) sit around the anchor so that
a stack started now shows them. The README's "Security evidence" section is the contract.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np

from . import model, pii

H = 3600
DAY = 86400

STORES = tuple(model.BACKUPS)  # postgres, documents, opensearch: the backup targets
# Restore drills: each store is restored from its newest backup into a scratch environment once a week.
DRILL_PERIOD_S = 7 * DAY
DRILL_BEFORE_ANCHOR_S = {"postgres": 2 * DAY + 3 * H, "documents": 9 * H, "opensearch": 4 * DAY + H}
DRILL_RESTORE_S = {"postgres": 1380.0, "documents": 2460.0, "opensearch": 1920.0}  # typical restore time
DRILL_JITTER = 0.12  # a drill's restore time is typical × (1 ± up to 12%)
FAILED_DRILL_STORE = "documents"  # restore_drill_failed: its last drill before the anchor fails
FAILED_DRILL_RESTORE_S = 11_400.0  # 3 h 10 min, and the restored data failed its checksum

# Cross-region replication (store -> destination region) and its lag: base × (0.5 + working-day curve).
REPLICATION = {"documents": "eu-west-1", "postgres": "eu-west-1"}
REPLICATION_BASE_LAG_S = {"documents": 40.0, "postgres": 1.5}
REPLICATION_LAG_PEAK_S = 2700.0  # replication_lag: documents' lag grows linearly to 45 min, then stays there
REPLICATION_LAG_RAMP_S = 4 * H

# Documents by encryption: every new document is encrypted client-side; legacy documents, encrypted by the
# store only, are re-encrypted by a background job.
CLIENT_SIDE_AT_T0 = 2_000_000
CLIENT_SIDE_PER_SECOND = 0.6
LEGACY_AT_T0 = 6_000
LEGACY_REENCRYPTED_PER_DAY = 150

# KMS keys: key -> (last rotation before the anchor, rotation period)
KEYS = {
    "documents-cmk": (timedelta(days=41), timedelta(days=90)),
    "postgres-tde": (timedelta(days=63), timedelta(days=90)),
    "backups-cmk": (timedelta(days=17), timedelta(days=90)),
    "audit-signing-key": (timedelta(days=80), timedelta(days=90)),
}
ENCRYPTED_AT_REST = ("postgres", "documents", "opensearch", "backups")

# The `.env` secret scanner, hourly at :20 over every repository; tax-engine still had two `.env` secrets
# until 12 days before the anchor.
REPOSITORIES = ("tax-engine", "ingestion-service", "extraction-models", "assistant", "infra")
SCAN_OFFSET_S = 20 * 60
LEAKED_SECRETS = ("tax-engine", 2, timedelta(days=12))  # repository, count, removed this long before A

# SOC 2 Type II readiness checklist: 64 items, 51 complete at the start of the history, one more every 4 days.
SOC2_ITEMS = 64
SOC2_COMPLETE_AT_T0 = 51
SOC2_ITEM_EVERY_S = 4 * DAY

# Audit: which actions need an admin's approval, and the unapproved export of the scenario.
NEEDS_APPROVAL = ("data.export", "role.change")
APPROVERS = 3  # user:<tenant>/admin1 … admin3
UNAPPROVED_EXPORT_BEFORE_ANCHOR = timedelta(hours=2, minutes=15)
UNAPPROVED_EXPORT_ACTOR = "user:harbour-ledger/liam4"
UNAPPROVED_EXPORT_DETAILS = "exported 480 documents for client UTR 4817300265 to an external share"

HELP = {
    "restore_drill_last_timestamp_seconds": "Unix time the last restore drill of the store finished.",
    "restore_drill_last_success": "1 when the last restore drill's data checked out, else 0.",
    "restore_drill_last_duration_seconds": "How long the last restore drill took to restore the store.",
    "replication_lag_seconds": "Cross-region replication lag of the store.",
    "documents_stored": "Documents held, by how they are encrypted.",
    "encryption_key_last_rotated_timestamp_seconds": "Unix time the KMS key was last rotated.",
    "storage_encrypted_at_rest": "1 when the store is encrypted at rest.",
    "secret_scan_findings": "Secrets the .env scanner found outside the central store, per repository.",
    "secret_scan_last_run_timestamp_seconds": "Unix time of the scanner's last run.",
    "compliance_checklist_items": "Items of the compliance checklist, by status.",
}


def _gauge(name: str, labels: dict[str, str], group: str) -> model.Series:
    return model._mk(name, labels, "gauge", name, "gauge", group)


def series() -> list[model.Series]:
    """Every series this module adds to the catalogue, in exposition order."""
    out = []
    for name in (
        "restore_drill_last_timestamp_seconds",
        "restore_drill_last_success",
        "restore_drill_last_duration_seconds",
    ):
        out += [_gauge(name, {"target": s}, "controls:drills") for s in STORES]
    out += [
        _gauge("replication_lag_seconds", {"store": s, "region": r}, "controls:replication")
        for s, r in REPLICATION.items()
    ]
    out += [
        _gauge("documents_stored", {"encryption": e}, "controls:static")
        for e in ("client_side", "server_side_only")
    ]
    out += [
        _gauge("encryption_key_last_rotated_timestamp_seconds", {"key": k}, "controls:static") for k in KEYS
    ]
    out += [_gauge("storage_encrypted_at_rest", {"store": s}, "controls:static") for s in ENCRYPTED_AT_REST]
    out += [_gauge("secret_scan_findings", {"repository": r}, "controls:static") for r in REPOSITORIES]
    out.append(_gauge("secret_scan_last_run_timestamp_seconds", {}, "controls:static"))
    out += [
        _gauge("compliance_checklist_items", {"framework": "soc2-type2", "status": s}, "controls:static")
        for s in ("complete", "open")
    ]
    return out


def scenarios(anchor: str | datetime) -> list[model.Scenario]:
    """The scenarios this module plays (not incidents: they are not written to the `incidents` index)."""
    a = model.parse_anchor(anchor)
    drill = a - timedelta(seconds=DRILL_BEFORE_ANCHOR_S[FAILED_DRILL_STORE])
    export = a - UNAPPROVED_EXPORT_BEFORE_ANCHOR
    return [
        model.Scenario(
            "restore_drill_failed",
            "Failed restore drill",
            drill,
            drill + timedelta(seconds=DRILL_PERIOD_S),
            ("documents",),
            "The weekly restore drill of the documents store took 3 h 10 min and its restored data failed "
            "the checksum; it stays the last drill until the next one, a week later.",
        ),
        model.Scenario(
            "replication_lag",
            "Cross-region replication lag",
            a - timedelta(hours=3),
            a + timedelta(hours=24),
            ("documents",),
            "Replication of the documents store to eu-west-1 falls behind: its lag grows linearly to "
            "45 minutes over four hours (past the 15-minute RPO after about 80 minutes) and stays there.",
        ),
        model.Scenario(
            "unapproved_export",
            "Data export without approval",
            export,
            export + timedelta(minutes=1),
            ("gateway",),
            f"{UNAPPROVED_EXPORT_ACTOR} exports 480 documents with no admin approval on record.",
        ),
    ]


def scenario(name: str, anchor: str | datetime) -> model.Scenario:
    return next(s for s in scenarios(anchor) if s.name == name)


# -- gauges --------------------------------------------------------------------------------------------


def unit_noise(seed: int, key: str, k: np.ndarray) -> np.ndarray:
    """A number in [-1, 1) per integer k, stable across processes (one event's jitter, e.g. a drill's)."""
    out = np.empty(len(k))
    values = np.asarray(k, dtype=np.int64)
    for v in np.unique(values):
        digest = hashlib.blake2b(f"{seed}|{key}|{int(v)}".encode(), digest_size=8).digest()
        out[values == v] = int.from_bytes(digest, "little") / 2**63 - 1.0
    return out


def last_event(ts: np.ndarray, first: float, period: float) -> tuple[np.ndarray, np.ndarray]:
    """(index k, time) of the last event of the series `first + k · period` at or before each `ts`."""
    k = np.floor((np.asarray(ts, dtype=float) - first) / period)
    return k.astype(np.int64), first + k * period


def drill_failed(m: model.Model, store: str, k: np.ndarray) -> np.ndarray:
    """Whether drill k of the store is the failed one of `restore_drill_failed` (k = 0: the last before A)."""
    return (k == 0) & (store == FAILED_DRILL_STORE)


def _drills(m: model.Model) -> Callable:
    def gen(ctx, rng: np.random.Generator) -> dict[str, np.ndarray]:
        out = {}
        for store in STORES:
            k, when = last_event(ctx.ts, m.a - DRILL_BEFORE_ANCHOR_S[store], DRILL_PERIOD_S)
            failed = drill_failed(m, store, k)
            took = DRILL_RESTORE_S[store] * (1 + DRILL_JITTER * unit_noise(m.seed, f"drill:{store}", k))
            labels = {"target": store}
            out[model.series_key("restore_drill_last_timestamp_seconds", labels)] = when
            out[model.series_key("restore_drill_last_success", labels)] = np.where(failed, 0.0, 1.0)
            out[model.series_key("restore_drill_last_duration_seconds", labels)] = np.where(
                failed, FAILED_DRILL_RESTORE_S, np.round(took)
            )
        return out

    return gen


def lag_progress(m: model.Model, ts: np.ndarray) -> np.ndarray:
    """How far the documents' lag has grown toward its peak in `replication_lag` (0 outside it, 1 once its
    four-hour ramp is over)."""
    s = scenario("replication_lag", m.anchor)
    start, end = s.start.timestamp(), s.end.timestamp() if s.end else np.inf
    inside = (ts >= start) & (ts < end)
    return np.where(inside, np.clip((ts - start) / REPLICATION_LAG_RAMP_S, 0.0, 1.0), 0.0)


def _replication(m: model.Model) -> Callable:
    def gen(ctx, rng: np.random.Generator) -> dict[str, np.ndarray]:
        out = {}
        for store, region in REPLICATION.items():
            lag = REPLICATION_BASE_LAG_S[store] * (0.5 + ctx.curve) * np.exp(rng.normal(0, 0.3, len(ctx)))
            if store == "documents":
                lag = lag + (REPLICATION_LAG_PEAK_S - lag) * lag_progress(m, ctx.ts)
            out[model.series_key("replication_lag_seconds", {"store": store, "region": region})] = np.round(
                lag, 1
            )
        return out

    return gen


def key_last_rotated(m: model.Model, key: str, ts: np.ndarray) -> np.ndarray:
    ago, period = KEYS[key]
    return last_event(ts, m.a - ago.total_seconds(), period.total_seconds())[1]


def _static(m: model.Model) -> Callable:
    def gen(ctx, rng: np.random.Generator) -> dict[str, np.ndarray]:
        ts = np.asarray(ctx.ts, dtype=float)
        elapsed = ts - m.t0
        legacy = np.maximum(LEGACY_AT_T0 - np.floor(elapsed / DAY) * LEGACY_REENCRYPTED_PER_DAY, 0)
        out = {
            model.series_key("documents_stored", {"encryption": "client_side"}): CLIENT_SIDE_AT_T0
            + np.floor(elapsed * CLIENT_SIDE_PER_SECOND),
            model.series_key("documents_stored", {"encryption": "server_side_only"}): legacy,
        }
        for key in KEYS:
            out[model.series_key("encryption_key_last_rotated_timestamp_seconds", {"key": key})] = (
                key_last_rotated(m, key, ts)
            )
        for store in ENCRYPTED_AT_REST:
            out[model.series_key("storage_encrypted_at_rest", {"store": store})] = np.ones(len(ts))
        leaky, count, removed = LEAKED_SECRETS
        for repo in REPOSITORIES:
            found = np.where(ts < m.a - removed.total_seconds(), count, 0) if repo == leaky else 0
            out[model.series_key("secret_scan_findings", {"repository": repo})] = np.zeros(len(ts)) + found
        out[model.series_key("secret_scan_last_run_timestamp_seconds", {})] = last_event(
            ts, SCAN_OFFSET_S, H
        )[1]
        complete = np.minimum(SOC2_COMPLETE_AT_T0 + np.floor(elapsed / SOC2_ITEM_EVERY_S), SOC2_ITEMS)
        for status, value in (("complete", complete), ("open", SOC2_ITEMS - complete)):
            labels = {"framework": "soc2-type2", "status": status}
            out[model.series_key("compliance_checklist_items", labels)] = value
        return out

    return gen


def generators(m: model.Model) -> dict[str, Callable]:
    return {
        "controls:drills": _drills(m),
        "controls:replication": _replication(m),
        "controls:static": _static(m),
    }


# -- audit approvals -------------------------------------------------------------------------------------


def approver(doc: dict) -> str:
    """The admin of the actor's firm who approved the action: stable, drawn from the event itself (no draw
    from the day's random stream, so the other audit events stay as they were)."""
    digest = hashlib.blake2b(f"{doc['@timestamp']}|{doc['actor']}".encode(), digest_size=2).digest()
    return f"user:{doc['tenant']}/admin{1 + int.from_bytes(digest, 'little') % APPROVERS}"


def with_approvals(docs: list[dict], m: model.Model, day: int) -> list[dict]:
    """The day's audit events with `approved_by` on every successful action that needs approval, plus the
    unapproved export of the scenario when it falls on this day."""
    for doc in docs:
        if doc["action"] in NEEDS_APPROVAL and doc["outcome"] == "success":
            doc["approved_by"] = approver(doc)
    when = scenario("unapproved_export", m.anchor).start
    first = m.t0 + day * DAY
    if first <= when.timestamp() < first + DAY:
        docs.append(
            {
                "@timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "actor": UNAPPROVED_EXPORT_ACTOR,
                "tenant": "harbour-ledger",
                "action": "data.export",
                "outcome": "success",
                "source_ip": "198.51.100.23",
                "details": pii.mask(UNAPPROVED_EXPORT_DETAILS),
            }
        )
    return docs


# -- penetration tests and vulnerability findings --------------------------------------------------------

FINDINGS_INDEX = "security-findings"
FINDINGS_MAPPING = {
    "dynamic": "strict",
    "properties": {
        **{
            f: {"type": "keyword"}
            for f in ("kind", "id", "source", "severity", "service", "status", "vendor", "scope")
        },
        "title": {"type": "text"},
        **{f: {"type": "date"} for f in ("found_at", "fixed_at", "started_at", "ended_at")},
    },
}
PENTEST_EVERY = timedelta(days=91)
PENTEST_LAST_ENDED = timedelta(days=40)  # before the anchor
PENTEST_LENGTH = timedelta(days=5)
PENTESTS = 3
# (source, days before A it was found, severity, service, title, status, days before A it was fixed);
# source "pentest:0" is the latest engagement, "pentest:1" the one before.
FINDINGS = (
    ("pentest:0", 40, "high", "gateway", "Filing status readable across client firms (IDOR)", "open", None),
    ("pentest:0", 40, "medium", "gateway", "Session cookie without SameSite=Strict", "fixed", 20),
    ("pentest:0", 40, "medium", "assistant", "Error pages reveal the framework version", "open", None),
    ("pentest:0", 40, "low", "gateway", "No security.txt published", "open", None),
    ("pentest:1", 131, "critical", "reconciliation", "SQL injection in the ledger export", "fixed", 129),
    ("pentest:1", 131, "high", "ingestion", "Uploaded file type checked by extension only", "fixed", 110),
    ("pentest:1", 131, "medium", "filing", "Verbose HMRC errors shown to clients", "risk_accepted", None),
    (
        "dependency-scan",
        5,
        "critical",
        "extraction",
        "PDF parser with a known code-execution flaw",
        "open",
        None,
    ),
    ("dependency-scan", 12, "high", "assistant", "HTTP client vulnerable to request smuggling", "open", None),
    ("dependency-scan", 100, "medium", "ingestion", "YAML loader allows arbitrary tags", "open", None),
    ("dependency-scan", 60, "high", "filing", "Outdated TLS library", "fixed", 51),
    ("container-scan", 200, "low", "infra", "Base image ships curl with a low-severity flaw", "open", None),
)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def pentest_window(anchor: datetime, i: int) -> tuple[datetime, datetime]:
    """(start, end) of engagement i (0: the latest)."""
    end = anchor - PENTEST_LAST_ENDED - i * PENTEST_EVERY
    return end - PENTEST_LENGTH, end


def findings(anchor: str | datetime) -> list[dict]:
    """The documents of the `security-findings` index: the engagements, then the findings."""
    a = model.parse_anchor(anchor)
    docs = []
    for i in range(PENTESTS):
        start, end = pentest_window(a, i)
        quarter = (end.month - 1) // 3 + 1
        docs.append(
            {
                "kind": "pentest",
                "id": f"pentest-{end.year}-q{quarter}",
                "vendor": "Redline Security",
                "scope": "gateway, web app, filing and assistant APIs",
                "title": f"External penetration test {end.year} Q{quarter}",
                "started_at": _iso(start),
                "ended_at": _iso(end),
            }
        )
    for n, (source, found, severity, service, title, status, fixed) in enumerate(FINDINGS, start=1):
        engagement = docs[int(source.split(":")[1])]["id"] if source.startswith("pentest:") else source
        doc = {
            "kind": "finding",
            "id": f"SEC-{100 + n}",
            "source": engagement,
            "severity": severity,
            "service": service,
            "title": title,
            "status": status,
            "found_at": _iso(a - timedelta(days=found)),
        }
        if fixed is not None:
            doc["fixed_at"] = _iso(a - timedelta(days=fixed))
        docs.append(doc)
    return docs
