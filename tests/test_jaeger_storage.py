"""Jaeger keeps its traces in the stack's OpenSearch: 30 days of them, found again after Jaeger restarts,
and its `error=true` tag search works there (the memory store's bug, jaegertracing/jaeger#8553, is gone).

The restart test kills the stack's Jaeger: it runs only on a stack of one's own, with
SEXTANT_STACK_RESTARTABLE=1 (stack/README.md, "Several stacks can run side by side")."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timedelta

import httpx
import pytest

from app.config import REPO_ROOT

pytestmark = pytest.mark.integration
CONTROL = REPO_ROOT / "stack" / "chaos" / "control.sh"


def us(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


def search(jaeger_url: str, start: datetime, end: datetime, **params: str) -> list[dict]:
    answer = httpx.get(
        f"{jaeger_url}/api/traces",
        params={"service": "filing", "start": us(start), "end": us(end), "limit": 200, **params},
        timeout=60,
    )
    answer.raise_for_status()
    return answer.json()["data"]


def failed(trace: dict) -> bool:
    return any(
        tag["key"] == "error" and tag["value"] in (True, "true")
        for span in trace["spans"]
        for tag in span.get("tags", [])
    )


def test_the_error_tag_search_finds_failed_traces_only(live_stack):
    day = (live_stack.anchor - timedelta(days=1), live_stack.anchor)
    found = search(live_stack.jaeger_url, *day, tags='{"error":"true"}')
    assert found, "a day of the filing service has failed traces (tail sampling keeps all of them)"
    assert all(failed(t) for t in found)
    everything = search(live_stack.jaeger_url, *day)
    assert any(not failed(t) for t in everything)  # the filter does filter


def test_jaeger_restarted_finds_the_same_traces_thirty_days_back(live_stack):
    if os.environ.get("SEXTANT_STACK_RESTARTABLE") != "1":
        pytest.skip("restarts Jaeger: only on a stack of one's own (SEXTANT_STACK_RESTARTABLE=1)")
    oldest = (
        live_stack.anchor - timedelta(days=30),
        live_stack.anchor - timedelta(days=30) + timedelta(hours=6),
    )
    before = {t["traceID"]: len(t["spans"]) for t in search(live_stack.jaeger_url, *oldest)}
    assert 0 < len(before) < 200, (
        "the simulator sent traces from 30 days before the anchor (all of them here)"
    )

    subprocess.run(["bash", str(CONTROL), "kill", "jaeger"], check=True, timeout=60)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{live_stack.jaeger_url}/api/services", timeout=2)
    subprocess.run(["bash", str(CONTROL), "restart", "jaeger"], check=True, timeout=180)

    after = {t["traceID"]: len(t["spans"]) for t in search(live_stack.jaeger_url, *oldest)}
    assert after == before  # the same traces, each with all its spans, none loaded twice
