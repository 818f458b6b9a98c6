"""Synthetic health probes: every service answers one ``GET /healthz`` every ``EVERY_MIN`` minutes, traced
and logged like any request, as a production platform's synthetic monitoring does.

They make "Jaeger saw it in the last hour" and "logs from it in the last hour" true of every service at every
hour, also at night, when a quiet service's own traffic (whose traces are tail-sampled and whose successful
requests are logged at 0.8%) may leave an hour without a kept trace or a log line. So only a scenario takes
a service's traces or logs away: ``traces_lost`` drops the assistant's probe spans as it drops its others.

Hooked into ``events.EventGenerator.day`` only. Deterministic: the probe times are fixed offsets, the ids
and latencies are BLAKE2b draws of (seed, service, minute), not draws of the simulator's random streams.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from . import model, oncall

if TYPE_CHECKING:
    from .events import DayEvents, EventGenerator

EVERY_MIN = 30  # any hour holds two probes of every service
ROUTE = "/healthz"
ACTION = "health.check"
TENANT = model.PLATFORM_TENANT  # the platform's own requests, as the deploy bot's audit events
MEDIAN_MS = 4.0


def _draw(*parts: object) -> int:
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


def minutes(service: str) -> range:
    """The minutes of a day at which ``service`` is probed (its own offset into each period)."""
    return range(model.SERVICES.index(service) * 5 % EVERY_MIN, model.DAY_MINUTES, EVERY_MIN)


def add(gen: EventGenerator, day: int, out: DayEvents) -> None:
    """The day's probes: one log line and one single-span trace each (no span while ``traces_lost``)."""
    from .events import SpanSpec, iso_ms

    m = gen.model
    for service in model.SERVICES:
        for minute in minutes(service):
            key = (gen.seed, service, day, minute)
            epoch_ms = (m.t0 + 60 * (day * model.DAY_MINUTES + minute)) * 1000 + _draw("at", *key) % 60_000
            trace_id = _draw("trace", *key) << 64 | _draw("trace-low", *key) or 1
            span_id = _draw("span", *key) or 1
            took_ms = MEDIAN_MS * (0.5 + (_draw("ms", *key) % 1000) / 1000)
            out.logs.append(
                {
                    "@timestamp": iso_ms(epoch_ms),
                    "service": service,
                    "level": "INFO",
                    "tenant": TENANT,
                    "action": ACTION,
                    "route": ROUTE,
                    "status": "200",
                    "message": f"GET {ROUTE} 200 in {took_ms:.1f} ms (synthetic probe)",
                    "trace_id": f"{trace_id:032x}",
                    "span_id": f"{span_id:016x}",
                }
            )
            if oncall.traces_lost(m, service, epoch_ms / 1000):
                continue
            start_ns = epoch_ms * 1_000_000
            attributes = {
                "http.method": "GET",
                "http.route": ROUTE,
                "http.status_code": 200,
                "synthetic": True,
            }
            out.traces.append(
                [SpanSpec(service, f"GET {ROUTE}", "server", trace_id, span_id, None, start_ns,
                          start_ns + int(took_ms * 1e6), attributes)]
            )  # fmt: skip
