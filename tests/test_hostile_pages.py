"""Hostile and odd input never crashes a page (AppTest, on the shipped snapshot or none).

Each page is run with: a bad setting (one error naming it, nothing else, no password anywhere, not even
in the server log), an unreadable snapshot (one sentence naming the file, no backend blamed), the `?at=`
and Traces `start`/`end` values a hostile review found, and, property-based, any text in every URL
parameter it reads and in every setting: it draws or warns, never raises.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from app import links
from app.config import BACKENDS
from tests.browser_support import ROOT
from tests.conftest import shown
from tests.test_snapshot_malformed import VALID, changed, write

SECRET = "hunter2s3cret"
# Every URL parameter each page reads, from the page registry (the shared sidebar's come on top).
URL_PARAMETERS: dict[str, tuple[str, ...]] = {
    p.file: tuple(k for k in p.url_params if k not in links.SHARED_PARAMS) for p in links.PAGES.values()
}
PAGES = tuple(URL_PARAMETERS)
SHARED_PARAMETERS = links.SHARED_PARAMS
NOT_IN_THE_URL = {"trace_table"}  # a table's row selection


def run(page: str, params: dict[str, str | list[str]] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    return at


def elements(at: AppTest) -> list:
    def walk(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    return [node for node in walk(at._tree) if type(node).__name__ not in ("ElementTree", "SpecialBlock")]


def screen(at: AppTest) -> str:
    """Everything sent to the browser, as the visitor reads it."""
    return shown("\n".join(str(node.proto) for node in elements(at) if getattr(node, "proto", None)))


def test_every_url_parameter_of_every_page_is_listed_here():
    sources = {page: (ROOT / page).read_text() for page in PAGES}
    sources["pages/11_Logs.py"] += " ".join(f'key="{k}"' for k in ("service", "level", "tenant", "action"))
    for page, source in sources.items():
        read = set(re.findall(r'key="(\w+)"', source)) | set(
            re.findall(r'query_params\.get\("(\w+)"\)', source)
        )
        assert read - NOT_IN_THE_URL <= set(URL_PARAMETERS[page]), page
    assert set(PAGES) == {"Overview.py", *(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))}


# -- settings ----------------------------------------------------------------------------------------------

BAD_SETTINGS = {
    "scheme": ("SEXTANT_PROMETHEUS_URL", "htp:/x", "must start with http:// or https://"),
    "ipv6": ("SEXTANT_OPENSEARCH_URL", "http://[::1", "is not a URL (Invalid IPv6 URL)"),
    "port": ("SEXTANT_JAEGER_URL", f"http://admin:{SECRET}@jaeger:99999", "has a port that is not a number"),
    "timeout": ("SEXTANT_PROMETHEUS_TIMEOUT", "abc", "must be a number of seconds, got 'abc'"),
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(("name", "value", "words"), BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_a_bad_setting_is_one_error_naming_it_and_nothing_else(snapshot_mode, page, name, value, words):
    snapshot_mode.setenv(name, value)
    at = run(page)
    assert not at.exception, [e.value for e in at.exception]
    (error,) = at.error
    assert shown(error.value).startswith(f"Sextant is not configured correctly: {name} {words}")
    assert len(elements(at)) == 1  # nothing fetched, nothing else drawn
    assert SECRET not in screen(at)


@pytest.mark.parametrize("value", [f"htp://admin:{SECRET}@h", f"http://admin:{SECRET}@h:99999"])
def test_a_password_in_a_bad_url_is_neither_on_screen_nor_in_the_server_log(snapshot_mode, capfd, value):
    snapshot_mode.setenv("SEXTANT_PROMETHEUS_URL", value)
    at = run("Overview.py")
    assert not at.exception and len(at.error) == 1
    assert "SEXTANT_PROMETHEUS_URL" in shown(at.error[0].value) and SECRET not in screen(at)
    out, err = capfd.readouterr()
    assert SECRET not in out + err


# -- an unreadable snapshot --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def malformed_snapshot(tmp_path_factory):
    """A snapshot with a valid checksum whose recording time is not a time."""
    path = tmp_path_factory.mktemp("hostile") / "demo.json.gz"
    return write(path, changed(lambda d: d.update(recorded_at="yesterday")))


@pytest.mark.parametrize("page", PAGES)
def test_an_unreadable_snapshot_is_one_sentence_naming_the_file_on_every_page(
    snapshot_mode, malformed_snapshot, page
):
    snapshot_mode.setenv("SEXTANT_SNAPSHOT", str(malformed_snapshot))
    at = run(page)
    assert not at.exception, [e.value for e in at.exception]
    reason = "recorded_at: 'yesterday' is not a time such as 2026-11-23T09:00Z"
    assert [shown(e.value) for e in at.error] == [
        f"The demo snapshot {malformed_snapshot} is unreadable: {reason}"
    ]
    assert "not answering" not in screen(at) and len(elements(at)) == 1


def test_a_readable_snapshot_still_draws_the_page(snapshot_mode, tmp_path):
    """The check above is not a page that always stops: the same snapshot, well formed, draws."""
    snapshot_mode.setenv("SEXTANT_SNAPSHOT", str(write(tmp_path / "ok.json.gz", VALID)))
    at = run("pages/20_Data_sources.py")
    assert not at.exception and not at.error and at.title[0].value == "Data sources"
    # the probes answer from it; the storage panel's questions were not recorded in it, and it says so
    assert any("not in the demo snapshot" in i.value for i in at.info)


# -- the times a hostile review found ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at_text", "words"),
    [
        ("0001-01-01", "is before 1970"),  # today: OverflowError at `at - WEEK`
        ("0001-01-01T00:00+14:00", "is before 1970"),  # today: OverflowError
        ("9999-12-31T23:59-12:00", "is after 2200"),  # today: OverflowError
    ],
)
def test_overview_at_out_of_range_warns_and_shows_now(snapshot_mode, at_text, words):
    at = run("Overview.py", {"at": at_text})
    assert not at.exception, [e.value for e in at.exception]
    assert any(words in shown(w.value) and "Showing now instead of" in w.value for w in at.warning)
    assert any(c.value.startswith("As of ") for c in at.caption)


def test_overview_at_with_a_plus_turned_into_a_space_is_frozen_at_that_time(snapshot_mode):
    at = run("Overview.py", {"at": "2026-11-23T09:00 05:00"})  # today: refused as not a time
    assert not at.exception and not any("Showing now instead" in w.value for w in at.warning)
    assert any(c.value.startswith("Frozen at Monday 23 November 2026, 04:00 UTC") for c in at.caption)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("0001-01-01T00:00+01:00", "0001-01-02T00:00+01:00"),  # today: OverflowError
        ("9999-12-30T00:00Z", "9999-12-31T23:59-12:00"),  # today: OverflowError
        ("9999-12-01T00:00Z", "9999-12-31T23:59Z"),
    ],
)
def test_traces_window_out_of_range_warns_and_uses_the_sidebar_range(snapshot_mode, start, end):
    at = run("pages/10_Traces.py", {"service": "filing", "start": start, "end": end})
    assert not at.exception, [e.value for e in at.exception]
    assert any("window is not usable" in w.value for w in at.warning)
    assert any(c.value.startswith("Last 24 hours: ") for c in at.caption)


# -- property-based: any text in every URL parameter and every setting -------------------------------------

URL_TEXT = st.text(
    st.characters(exclude_categories=["Cs"]), max_size=60
)  # a URL cannot carry lone surrogates
HOSTILE_VALUES = st.sampled_from(
    [
        "0001-01-01",
        "0001-01-01T00:00+14:00",
        "9999-12-31T23:59-12:00",
        "2026-11-23T09:00 05:00",
        "",
        " ",
        "nan",
        "-1",
        "1e309",
        "true",
        "7d",
        "healthy",
        "**x** [click](https://evil.example) ![](https://evil.example/t.png)",
        "<script>alert(1)</script>",
        "\x00",
        "'; drop table",
        "ä" * 3000,
    ]
)
PARAMETER_VALUE = st.one_of(HOSTILE_VALUES, URL_TEXT)
PARAMETER = st.one_of(PARAMETER_VALUE, st.lists(PARAMETER_VALUE, min_size=2, max_size=3))  # `?x=a&x=b` too


@pytest.mark.parametrize("page", PAGES)
@settings(max_examples=5, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_text_in_any_url_parameter_draws_or_warns(snapshot_mode, page, data):
    keys = (*SHARED_PARAMETERS, *URL_PARAMETERS[page])
    params = data.draw(st.fixed_dictionaries({}, optional={key: PARAMETER for key in keys}))
    at = run(page, params)
    assert not at.exception, (params, [e.value for e in at.exception])


SETTING_NAMES = (
    *(f"SEXTANT_{b.upper()}_{s}" for b in BACKENDS for s in ("URL", "TOKEN", "USERNAME", "PASSWORD")),
    *(f"SEXTANT_{b.upper()}_{s}" for b in BACKENDS for s in ("HEADERS", "VERIFY", "TIMEOUT", "DOWN_S")),
    "SEXTANT_PROMETHEUS_ORG_ID",
    "SEXTANT_SNAPSHOT",
    "SEXTANT_ALLOWED_EMAILS",
    "SEXTANT_ALLOWED_GROUPS",
)
# What an environment variable can hold: any code point but NUL and lone surrogates.
ENV_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=60)


@pytest.mark.parametrize("page", ["Overview.py", "pages/20_Data_sources.py"])
@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    name=st.sampled_from(SETTING_NAMES),
    value=st.one_of(ENV_TEXT, HOSTILE_VALUES.filter(lambda v: "\x00" not in v)),
)
def test_any_text_in_any_setting_draws_or_shows_one_error(snapshot_mode, page, name, value):
    with snapshot_mode.context() as env:
        env.setenv(name, value)
        if name.endswith("_URL"):  # should the text be a working URL, do not wait long for that host
            for backend in BACKENDS:
                env.setenv(f"SEXTANT_{backend.upper()}_TIMEOUT", "1")
        at = run(page)
    assert not at.exception, (name, value, [e.value for e in at.exception])
    assert at.title or len(at.error) == 1, (name, value)  # the page, or the one error that stopped it
