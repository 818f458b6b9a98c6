"""One registry of pages and one address builder: every page file is registered, links are relative (they
work under any base path), share links absolute, spaces as %20, and a parameter a page does not read is
refused."""

from pathlib import Path

import pytest

from app import links
from tests.browser_support import ROOT


def test_every_page_script_is_registered_once_and_every_entry_has_its_script():
    scripts = {"Overview.py", *(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))}
    registered = [p.file for p in links.PAGES.values()]
    assert sorted(registered) == sorted(scripts)
    assert len({p.slug for p in links.PAGES.values()}) == len(links.PAGES)
    for p in links.PAGES.values():  # Streamlit's address of a page file: its name without the number
        if p.file != "Overview.py":
            assert p.slug == Path(p.file).stem.split("_", 1)[1]


def test_links_are_relative_with_spaces_as_percent_20_and_empty_values_left_out():
    assert links.url("slos", slo="hmrc submissions", range="7d") == "SLOs?slo=hmrc%20submissions&range=7d"
    assert links.url("overview", at="2026-11-23T09:00Z") == "./?at=2026-11-23T09:00Z"
    assert links.url("logs", service="filing", q="", level=None) == "Logs?service=filing"
    assert links.url("tax", tenant="cobalt-cpa") == "Tax?tenant=cobalt-cpa"  # a dashboard's own variable


def test_a_parameter_the_page_does_not_read_is_refused():
    with pytest.raises(ValueError, match="reads no tenant"):
        links.url("service_health", tenant="x")
    with pytest.raises(KeyError, match="no page 'nope'"):
        links.url("nope")


@pytest.mark.parametrize(
    ("browser", "base", "expected"),
    [
        (None, "", "Logs?service=a%20b"),
        ("http://127.0.0.1:8612/Traces?x=1", "", "http://127.0.0.1:8612/Logs?service=a%20b"),
        ("http://127.0.0.1:8612", "", "http://127.0.0.1:8612/Logs?service=a%20b"),
        ("https://ops.example/sextant", "sextant", "https://ops.example/sextant/Logs?service=a%20b"),
        ("https://ops.example/sextant/SLOs", "/sextant/", "https://ops.example/sextant/Logs?service=a%20b"),
    ],
)
def test_share_links_are_absolute_under_the_base_path(browser, base, expected):
    assert links.absolute(browser, base, links.url("logs", service="a b")) == expected


@pytest.mark.parametrize(
    ("address", "base", "expected"),
    [
        ("SLOs?slo=a%20b&range=7d", "", ("slos", {"slo": "a b", "range": "7d"})),
        ("./?at=2026-11-23T09:00Z", "", ("overview", {"at": "2026-11-23T09:00Z"})),
        ("https://ops.example/sextant/Logs?q=x", "sextant", ("logs", {"q": "x"})),
        ("https://ops.example/sextant", "sextant", ("overview", {})),
        ("https://ops.example/sextantish/Logs", "sextant", None),  # another app under a longer path
        ("https://ops.example/Logs", "sextant", None),
        ("Nowhere?x=1", "", None),
    ],
)
def test_an_address_reads_back_as_the_page_and_parameters_it_was_built_from(address, base, expected):
    assert links.parse(address, base) == expected


def test_every_page_round_trips_through_its_address():
    for key in links.PAGES:
        assert links.parse(links.url(key, range="7d")) == (key, {"range": "7d"})
