"""The walk `make snapshot` records with and the demo test checks: where it starts, that it visits each
view once, and that it reads links and pickers back from what a page drew."""

from datetime import UTC, datetime

from streamlit.testing.v1 import AppTest

from app import crawl, links
from app.crawl import View
from app.timerange import PRESETS

NOW = datetime(2026, 11, 28, 5, 9, tzinfo=UTC)  # a Saturday


def test_it_starts_at_every_page_and_range_and_the_review_instants():
    starts = crawl.start_views(NOW)
    assert View.of("slos") in starts and View.of("slos", range="7d") in starts
    assert len([v for v in starts if v.page == "traces"]) == len(PRESETS)
    assert {v.page for v in starts} == set(links.PAGES)
    instants = crawl.review_instants(NOW)
    assert [f"{t:%a %d %b %H:%M}" for t in instants] == [
        "Mon 02 Nov 09:00",
        "Mon 09 Nov 09:00",
        "Sat 14 Nov 05:09",
        "Mon 16 Nov 09:00",
        "Sat 21 Nov 05:09",
        "Mon 23 Nov 09:00",
    ]  # a week and two back, and every Monday 09:00 within the 30 days (26 Oct is 33 days back)


def test_the_walk_visits_each_view_once_and_follows_where_they_lead():
    graph = {
        View.of("overview"): {View.of("slos"), View.of("tax", tenant="a")},
        View.of("slos"): {View.of("overview"), View.of("slos", slo="x")},
    }
    seen = []

    def visit(view: View) -> crawl.Visit:
        seen.append(view)
        return crawl.Visit(view, set(graph.get(view, ())))

    assert {v.view for v in crawl.walk([View.of("overview")], visit)} == {
        View.of("overview"),
        View.of("slos"),
        View.of("tax", tenant="a"),
        View.of("slos", slo="x"),
    }
    assert len(seen) == len(set(seen)) == 4
    assert len(list(crawl.walk([View.of("overview")], visit, follow=lambda _: False))) == 1
    assert len(list(crawl.walk([View.of("overview")], visit, limit=2))) == 2


def test_a_trace_is_walked_once_whichever_list_shows_it():
    lists = {
        View.of("traces"): {View.of("traces", trace="ab12"), View.of("traces", service="filing")},
        View.of("traces", service="filing"): {
            View.of("traces", service="filing", trace="ab12"),
            View.of("traces", service="filing", trace="cd34"),
        },
    }
    walked = [v.view for v in crawl.walk([View.of("traces")], lambda v: crawl.Visit(v, lists.get(v, set())))]
    assert walked == [
        View.of("traces"),
        View.of("traces", service="filing"),
        View.of("traces", trace="ab12"),
        View.of("traces", service="filing", trace="cd34"),
    ]


def test_a_page_run_tells_where_its_links_and_pickers_lead(snapshot_mode):
    found = crawl.visit(View.of("slos"))
    assert not found.problems
    assert View.of("slos", slo="hmrc-submissions") in found.leads_to  # a row's detail link
    assert View.of("slos", range="7d") in found.leads_to  # the sidebar's range
    assert View.of("slos", domain="filing") in found.leads_to  # a filter's values
    assert all(v.page in links.PAGES for v in found.leads_to)


def test_a_picker_that_shows_names_leads_to_the_values_the_url_carries(snapshot_mode):
    found = crawl.visit(View.of("extraction"))
    assert not found.problems
    kinds = {dict(v.params).get("document_type") for v in found.leads_to if v.page == "extraction"}
    assert {"invoice", "bank_statement", "payslip"} <= kinds  # ids, never "Bank statement"
    assert "Bank statement" not in kinds and "__all__" not in kinds


def test_a_sample_walks_a_few_views_of_each_shape():
    admit = crawl.per_shape(2)
    tenants = [View.of("tax", tenant=t) for t in "abc"]
    assert [admit(v) for v in tenants] == [True, True, False]
    assert admit(View.of("tax", route="/x"))  # another shape: another budget
    assert admit(View.of("tax", range="7d", tenant="a"))  # and with a range, another still


def test_new_apptests_share_one_scan_of_the_installed_components():
    from streamlit.components.v2 import manifest_scanner

    def script() -> None:
        import streamlit as st

        st.write("hello")

    for _ in range(2):
        assert not AppTest.from_function(script).run().exception
    assert manifest_scanner.scan_component_manifests.cache_info().misses == 1
