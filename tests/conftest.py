"""Shared fixtures. Integration tests use the real stack that `make test` starts (stack/up.sh)."""

from __future__ import annotations

import contextlib
import html
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from hypothesis import settings
from streamlit.testing.v1 import AppTest

from app import ui
from app.access.log import AccessLog
from app.config import REPO_ROOT, Config, settings_for
from app.crawl import View
from app.record import record
from app.sources import Sources, build_sources
from app.ui import access as ui_access
from stack.addresses import run_dir, stack_url

# Property-based tests are reproducible (the same examples on every machine and run) and leave no example
# database in the checkout; each test sets its own max_examples to stay fast.
settings.register_profile("sextant", derandomize=True, database=None, deadline=None)
settings.load_profile("sextant")

RUN_DIR = run_dir()


@dataclass(frozen=True)
class LiveStack:
    prometheus_url: str
    opensearch_url: str
    jaeger_url: str
    anchor: datetime
    seed: int
    alertmanager_url: str = ""


def _reachable(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code < 500
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def live_stack() -> LiveStack:
    """The running stack and the simulator's anchor; fails under `make test`, skips elsewhere, when absent."""
    stack = LiveStack(
        prometheus_url=stack_url("SEXTANT_PROMETHEUS_URL") or "",
        opensearch_url=stack_url("SEXTANT_OPENSEARCH_URL") or "",
        jaeger_url=stack_url("SEXTANT_JAEGER_URL") or "",
        anchor=datetime.fromisoformat((RUN_DIR / "anchor").read_text().strip()).astimezone(UTC)
        if (RUN_DIR / "anchor").exists()
        else datetime.now(UTC),
        seed=int((RUN_DIR / "seed").read_text()) if (RUN_DIR / "seed").exists() else 7,
        alertmanager_url=stack_url("SEXTANT_ALERTMANAGER_URL") or "",
    )
    missing = [
        url
        for url in (
            stack.prometheus_url + "/-/ready",
            stack.opensearch_url,
            stack.jaeger_url + "/api/services",
        )
        if not _reachable(url)
    ]
    if missing or not (RUN_DIR / "anchor").exists():
        message = f"the real stack is not running (unreachable: {missing}); run `make stack-up`"
        if os.environ.get("SEXTANT_REQUIRE_STACK") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return stack


# A backend a test's page never asks: only its address (and name) count.
UNASKED = SimpleNamespace(url="unasked://", name="unasked")


def record_views(path: Path, sources: Sources, now: datetime, *views: View) -> Path:
    """A snapshot of what the pages ask of `sources` (fakes) to draw `views` at `now`, recorded the way
    `make snapshot` records the demo: the pages themselves, driven through AppTest."""
    return record(sources, path, now, views=views, follow=False)


def shown(markdown: str) -> str:
    """What Streamlit shows of a Markdown source that went through `app.text.plain`: references decoded,
    word joiners dropped (and any backslash escape undone)."""
    return re.sub(r"\\(.)", r"\1", html.unescape(markdown)).replace("\u2060", "")


def run_page(page: str | Path, **query_params: str) -> AppTest:
    """`page` (a script path from the repository root) run once under AppTest with these URL parameters;
    fails the test if the page raised."""
    at = AppTest.from_file(str(REPO_ROOT / page), default_timeout=120)
    for key, value in query_params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def run_link(page: str | Path, link: str) -> AppTest:
    """`page` opened from `link`: run with the link's query parameters."""
    return run_page(page, **dict(parse_qsl(urlsplit(link).query)))


def metrics(at: AppTest) -> dict[str, str]:
    """Each metric's value by its label, as shown."""
    return {shown(m.label): m.value for m in at.metric}


TEXT_ELEMENTS = ("error", "warning", "info", "success", "caption", "markdown")


def texts(at: AppTest) -> str:
    """Every alert, caption and Markdown text of the page as shown, one element per line."""
    return "\n".join(shown(str(e.value)) for kind in TEXT_ELEMENTS for e in at.get(kind))


BACKEND_VARS = (
    "SEXTANT_PROMETHEUS_URL",
    "SEXTANT_OPENSEARCH_URL",
    "SEXTANT_JAEGER_URL",
    "SEXTANT_ALERTMANAGER_URL",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked `long(minutes)` run first, longest first: pytest-xdist deals the first tests out one
    by one in turn, so `make test`'s two workers share them instead of one worker ending the run alone."""

    def minutes(item: pytest.Item) -> float:
        mark = item.get_closest_marker("long")
        return -mark.args[0] if mark else 0.0

    items.sort(key=minutes)


@pytest.fixture(autouse=True)
def error_details():
    """Production config hides error text; show it so a failing test says why."""
    import streamlit.config

    before = streamlit.config.get_option("client.showErrorDetails")
    streamlit.config.set_option("client.showErrorDetails", "full")
    yield
    streamlit.config.set_option("client.showErrorDetails", before)


@pytest.fixture(scope="session", autouse=True)
def access_spool_of_the_run(tmp_path_factory) -> Iterator[None]:
    """Audited views a test's pages make wait in a spool of the run, not in the repository's
    `var/access-spool.jsonl`, from which every later access log would send them to its own OpenSearch.
    Session-wide, so that the servers started for the browser tests inherit it; a test may set its own.
    (`SEXTANT_CACHE` stays the user's: the stack's scripts find their downloads and run directory there;
    what the app keeps in it is keyed by content and pruned.)"""
    with settings_for({"SEXTANT_ACCESS_SPOOL": str(tmp_path_factory.mktemp("access") / "spool.jsonl")}):
        yield


@pytest.fixture(autouse=True)
def open_access(monkeypatch):
    """Pages are open unless a test sets an access policy (tests/test_auth.py), whatever the shell has."""
    for name in ("SEXTANT_ALLOWED_EMAILS", "SEXTANT_ALLOWED_GROUPS"):
        monkeypatch.delenv(name, raising=False)


@contextlib.contextmanager
def page_clients_released() -> Iterator[None]:
    """The live clients and access logs that pages build inside end with it: dropped from the pages'
    caches (`app.ui._sources`, `app.ui.access._access_log`: one per configuration, for the life of the
    process), their access logs' senders stopped and their clients closed (which stops their breakers'
    probes). Left running, a client whose backend went away probes that address every few seconds
    (`app.sources.breaker`) while its access log retries the events it holds there, and the OS may give the
    port to a later test's fake, which then counts requests its own pages never made."""
    built: list[tuple[Config, Sources]] = []
    logs: list[AccessLog] = []

    def sources_of(config: Config) -> Sources:
        sources = build_sources(config)
        if sources.mode == "live":  # a replay holds no connection and no thread, and is slow to parse again
            built.append((config, sources))
        return sources

    def access_log(*args, **kwargs) -> AccessLog:
        log = AccessLog(*args, **kwargs)
        logs.append(log)
        return log

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ui, "build_sources", sources_of)
        patch.setattr(ui_access, "AccessLog", access_log)
        yield
    for config, sources in built:
        ui._sources.clear(config)
        ui_access._access_log.clear(config, sources)
    for log in logs:
        log.stop()
    for _, sources in built:
        sources.close()


@pytest.fixture(autouse=True)
def page_clients_end_with_the_test():
    """Nothing a test's pages started reaches a later test's backends (`page_clients_released`)."""
    with page_clients_released():
        yield


@pytest.fixture
def snapshot_mode(monkeypatch):
    """No backend configured: pages replay the shipped snapshot."""
    for name in (*BACKEND_VARS, "SEXTANT_SNAPSHOT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def live_mode(live_stack, monkeypatch):
    """Pages read the real stack."""
    monkeypatch.setenv("SEXTANT_PROMETHEUS_URL", live_stack.prometheus_url)
    monkeypatch.setenv("SEXTANT_OPENSEARCH_URL", live_stack.opensearch_url)
    monkeypatch.setenv("SEXTANT_JAEGER_URL", live_stack.jaeger_url)
    monkeypatch.setenv("SEXTANT_ALERTMANAGER_URL", live_stack.alertmanager_url)
    monkeypatch.delenv("SEXTANT_SNAPSHOT", raising=False)
    return live_stack
