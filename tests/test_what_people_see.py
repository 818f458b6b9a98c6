"""What an executive reads on the demo (issue 9, section 3): no file paths on screen, words instead of ids,
no "None" cells. Each page is run once per backend setting and read back as it shows."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest
from streamlit.testing.v1 import AppTest

from app import links, ui
from app.access import view as access_view
from app.config import REPO_ROOT
from app.overview import READINESS_SOURCE, SLO_SOURCE
from app.record import STAFF_VISITS
from app.slo.model import DOMAIN_TITLES
from tests.conftest import BACKEND_VARS, run_page, shown, texts
from tests.page_views import DOMAIN_PAGES, PAGES

EXECUTIVE = (
    "overview",
    "slos",
    "weekly_review",
    "ingestion",
    "extraction",
    "tax",
    "assistant",
    "readiness",
    "security",
    "scorecard",
)  # fmt: skip  (access.example.yaml's executive role)
PATH = re.compile(r"\b(slo_definitions|queries|runbooks)/|\b[\w-]+\.ya?ml\b")


@pytest.mark.parametrize("key", EXECUTIVE)
def test_no_file_path_is_on_screen(snapshot_mode, key):
    """Where a figure comes from is said in words; the definition file's path is only in a tooltip."""
    at = run_page(links.page(key).file)
    drawn = texts(at) + "\n" + "\n".join(m.label for m in at.metric)
    assert not PATH.findall(drawn), [line for line in drawn.splitlines() if PATH.search(line)]


def test_the_headlines_name_their_definition_files_in_a_tooltip(snapshot_mode):
    at = run_page("Overview.py")
    tips = [p.proto.popover.help for p in at.get("popover")]
    assert f"Declared in the repository: {READINESS_SOURCE}" in tips
    assert f"Declared in the repository: {SLO_SOURCE}" in tips
    assert READINESS_SOURCE == "slo_definitions/readiness.yaml"


@pytest.fixture(params=["demo", "prometheus down"])
def backends(request, monkeypatch):
    """The demo snapshot, or Prometheus on a closed port with the other backends unset."""
    for name in (*BACKEND_VARS, "SEXTANT_SNAPSHOT"):
        monkeypatch.delenv(name, raising=False)
    if request.param == "prometheus down":
        monkeypatch.setenv("SEXTANT_PROMETHEUS_URL", "http://127.0.0.1:1")
    return request.param


# Views besides each page as it opens: (page, URL parameters).
DEEPER = [("pages/2_SLOs.py", {"slo": "hmrc-submissions"})]  # the SLO detail: its alerts table


@pytest.mark.parametrize(("page", "params"), [*((p, {}) for p in PAGES), *DEEPER])
def test_no_cell_reads_none(backends, page, params):
    """A cell without a value is empty, or "—" with the reason in its column's tooltip: never "None" (what
    Streamlit shows for a missing value unless the table says otherwise) nor "nan"."""
    at = run_page(page, **params)
    for static in at.table:  # cells are text: a missing value reads as `ui.MISSING` or in words
        cells = {shown(c) for c in static.value.to_numpy().ravel()}
        assert not cells & {"None", "nan", "NaN", "NaT", "<NA>", ""}, f"a static table reads {cells}"
    for i, table in enumerate(at.dataframe):
        frame = table.value
        values = frame.astype(str).mask(frame.isna(), "")  # the cells that hold a value, as text
        assert not values.isin(["None", "nan", "NaN", "NaT", "<NA>"]).any().any(), (
            f"table {i} holds the text of a missing value"
        )
        missing = [c for c in frame.columns if frame[c].isna().any()]
        if not missing:
            continue
        assert table.proto.HasField("placeholder"), f"table {i}: {missing} would read 'None'"
        placeholder = table.proto.placeholder
        assert placeholder in ("", ui.MISSING), f"table {i}: missing values read {placeholder!r}"
        if placeholder == ui.MISSING:  # each column that has one says what it means
            config = json.loads(table.proto.columns or "{}")
            unexplained = [c for c in missing if ui.MISSING not in str(config.get(c, {}).get("help", ""))]
            assert not unexplained, f"table {i}: {unexplained} show {ui.MISSING} without saying why"


@pytest.mark.parametrize(
    ("page", "table"), [("Overview.py", 0), ("pages/2_SLOs.py", 0), ("pages/3_Weekly_review.py", 1)]
)
def test_slo_tables_name_domains_in_words(snapshot_mode, page, table):
    """The SLO tables say "Tax · HMRC filing", as the overview's tiles do, never the domain id `filing`."""
    at = run_page(page)
    if page == "Overview.py":  # its "Needs attention" is a static table (`ui.static_table`)
        domains = {shown(d) for d in at.table[table].value["Domain"]}
    else:
        domains = set(at.dataframe[table].value["domain"])
    assert domains and domains <= set(DOMAIN_TITLES.values()), domains


def test_the_slo_domain_filter_shows_titles_and_keeps_ids_in_the_url(snapshot_mode):
    """The SLOs list's Domain filter offers "Tax · HMRC filing", never `filing`; `?domain=filing` (the
    README's example) still picks it, and several domains are repeated parameters."""
    at = run_page("pages/2_SLOs.py", domain="filing")
    box = at.multiselect(key="domain")
    assert box.value == ["filing"]
    assert set(box.options) <= set(DOMAIN_TITLES.values()) and DOMAIN_TITLES["filing"] in box.options
    assert set(at.dataframe[0].value["domain"]) == {DOMAIN_TITLES["filing"]}

    two = AppTest.from_file(str(REPO_ROOT / "pages/2_SLOs.py"), default_timeout=120)
    two.query_params["domain"] = ["filing", "assistant"]
    two.run()
    assert not two.exception
    assert set(two.dataframe[0].value["domain"]) == {DOMAIN_TITLES["filing"], DOMAIN_TITLES["assistant"]}

    box = two.multiselect(key="domain").set_value(["assistant"])
    two.run()
    in_url = two.query_params["domain"]  # AppTest gives a single value as a string
    assert (in_url if isinstance(in_url, list) else [in_url]) == ["assistant"]
    assert set(two.dataframe[0].value["domain"]) == {DOMAIN_TITLES["assistant"]}


def state_colours(table, column: str) -> dict[int, str]:
    """Row → the text colour of `column`'s cell, from the table's style sheet."""
    index = list(table.value.columns).index(column)
    colour_of: dict[int, str] = {}
    for selectors, colour in re.findall(
        r"([^{}]+)\{\s*color: (#[0-9A-F]{6})", table.proto.arrow_data.styler.styles
    ):
        for row in re.findall(rf"_row(\d+)_col{index}\b", selectors):
            colour_of[int(row)] = colour
    return colour_of


@pytest.mark.parametrize(
    ("page", "column"), [("pages/12_Scorecard.py", "verdict"), ("pages/9_Security.py", "status")]
)
def test_a_state_in_a_table_is_coloured_as_every_state_is(snapshot_mode, page, column):
    """Each verdict or status cell takes its state's colour (ui.STATE_STYLES, the one vocabulary), not plain
    text: the Security page's failing controls read in red, as their badges do."""
    table = run_page(page).dataframe[0]
    colour_of = state_colours(table, column)
    for row, state in enumerate(table.value[column]):
        assert colour_of.get(row) == ui.STATE_TEXT_COLOURS[ui.STATE_STYLES[state][0]], (row, state)


def test_a_control_with_one_piece_of_evidence_says_its_finding_once(snapshot_mode):
    """Under the picked control its reason is said once: its only evidence's reason is the same sentence."""
    controls = run_page("pages/9_Security.py", control="secrets-rotation").tabs[0]
    said = [re.sub(r"^:material/\w+: ", "", m.value) for m in controls.markdown]
    repeated = {line for line in said if said.count(line) > 1}
    assert not repeated, repeated


def test_the_security_control_picker_shows_titles_and_keeps_ids_in_the_url(snapshot_mode):
    at = run_page("pages/9_Security.py", control="restore-drills")
    picker = at.selectbox(key="control")
    assert picker.value == "restore-drills"
    assert "Restore drills" in picker.options and "restore-drills" not in picker.options
    assert any("Restore drills" in m.value for m in at.markdown)


@pytest.mark.parametrize("page", DOMAIN_PAGES)
def test_table_columns_are_titled_in_words(snapshot_mode, page):
    """A column headed by a field's id ("due", "ready", "error_code") is a word nobody on the page chose:
    every column of the domain pages' tables carries a title."""
    for i, table in enumerate(run_page(page).dataframe):
        config = json.loads(table.proto.columns or "{}")
        titles = {c: config.get(str(c), {}).get("label") or str(c) for c in table.value.columns}
        raw = [t for t in titles.values() if re.fullmatch(r"[a-z_]+", t)]
        assert not raw, f"table {i} headed by ids: {raw}"


def shown_titles(table) -> list[str]:
    """A table's column titles as drawn: its columns in `column_order` when set, each by its label."""
    config = json.loads(table.proto.columns or "{}")
    order = list(table.proto.column_order) or [str(c) for c in table.value.columns]
    return [config.get(c, {}).get("label") or c for c in order if not config.get(c, {}).get("hidden")]


@pytest.mark.parametrize("page", PAGES)
def test_no_table_shows_a_column_title_twice(snapshot_mode, page):
    """Two columns under one title ("Runbook" and "Runbook") leave the reader guessing which is which."""
    for i, table in enumerate(run_page(page).dataframe):
        titles = shown_titles(table)
        assert len(titles) == len(set(titles)), f"table {i}: {titles}"


# Pages whose long text is sized to be read whole.
WHOLE_TEXT = (
    "pages/13_Alerts.py",
    "pages/14_Coverage.py",
    "pages/21_Access_log.py",
    "pages/3_Weekly_review.py",
)
LONG_TEXT = 40  # characters: a column sized to its content shows this much at most before cutting it


@pytest.mark.parametrize("page", WHOLE_TEXT)
def test_long_text_is_shown_whole_in_its_cell(snapshot_mode, page):
    """Text longer than a column sized to its content shows is cut at the column's edge, mid-sentence
    (the Alerts summaries stopped at three lines): such a column has a width. A column given a width holds
    each of its cells in the lines its rows have (the weekly review's SLO names were cut), at 6 px a
    character of 14 px type, 21 px a line and 7 px of padding."""
    checked = 0
    for i, table in enumerate(run_page(page).dataframe):
        frame, config = table.value, json.loads(table.proto.columns or "{}")
        lines = max(1, (table.proto.row_height - 7) // 21)
        for column in list(table.proto.column_order) or [str(c) for c in frame.columns]:
            kind = config.get(column, {}).get("type_config", {}).get("type")
            if column not in frame.columns or frame[column].dtype.kind in "iufmM" or kind == "link":
                continue  # figures, times, and links shown by a word
            texts = [str(t) for t in frame[column].dropna()]
            width = config.get(column, {}).get("width")
            if not texts or (width is None and max(map(len, texts)) <= LONG_TEXT):
                continue
            assert isinstance(width, int), f"table {i}: {column!r} holds long text and has no width"
            per_line = (width - 16) // 6
            cut = [t for t in texts if -(-len(t) // per_line) > lines]
            checked += 1
            assert not cut, f"table {i}: {column!r}, {lines} lines of {per_line} characters cut {cut[:3]}"
    assert checked  # the demo has text there to measure


def test_the_access_log_says_what_was_asked_in_words(snapshot_mode):
    """Each access event names its page by its title and its view's settings as words ("range: 7d · client
    firm: Elm Street Accountants"), never the page's key or the address's query text; every column titled."""
    at = run_page("pages/21_Access_log.py")
    counts, events = at.dataframe
    for table in (counts, events):
        titles = shown_titles(table)
        assert not [t for t in titles if re.fullmatch(r"[a-z_]+", t)], titles
    frame = events.value
    assert set(frame["page"]) <= {p.title for p in links.PAGES.values()}, set(frame["page"])
    asked = frame["params"].dropna()
    assert asked.str.len().gt(0).any()
    assert not asked.str.contains(r"[=&]").any(), list(asked[asked.str.contains(r"[=&]")])
    assert access_view.asked_words("tenant=elm-street&range=7d&trace_id=ab12") == (
        "client firm: Elm Street Accountants · range: 7d · trace: ab12"
    )


def test_the_demos_access_log_holds_the_recorded_staff_visits_and_nothing_else(snapshot_mode):
    """`make snapshot` sends the people of access.example.yaml through the pages before it records
    (`app.record.STAFF_VISITS`): the demo's Access log shows each visit once, by page title and in words, the
    support agent refused Security, and no test's or the recording walk's own visitors."""
    at = run_page("pages/21_Access_log.py")
    events = at.dataframe[1].value
    shown_visits = sorted(zip(events["user"], events["page"], events["params"].fillna(""), strict=True))
    assert shown_visits == sorted(
        (email, links.page(key).title, access_view.asked_words(urlencode(params)))
        for email, _, key, params in STAFF_VISITS
    )
    denied = events[events["outcome"] == "denied"]
    assert list(zip(denied["user"], denied["page"], strict=True)) == [("lee@example.com", "Security")]
    assert set(events["outcome"]) == {"allowed", "denied"}


def test_the_coverage_trend_is_charted_in_its_unit(snapshot_mode):
    """The share of services fully observed is a percentage, not a "score" (the readiness trend's unit)."""
    spec = json.loads(run_page("pages/14_Coverage.py").get("vega_lite_chart")[0].proto.spec)
    titles = [
        layer["encoding"]["y"].get("title") for layer in spec["layer"] if "y" in layer.get("encoding", {})
    ]
    assert "% of services" in titles and "score" not in titles, titles


def test_the_critical_paths_last_runs_are_ages_in_hours(snapshot_mode):
    """The criterion says "run within 26.0 h": its paths' last runs read in hours, not in raw seconds."""
    at = run_page("pages/12_Scorecard.py")
    table = next(t for t in at.dataframe if "path" in t.value.columns)
    config = json.loads(table.proto.columns)
    ages = [c for c in table.value.columns if c.startswith("ran_ago")]
    assert ages == ["ran_ago_h"] and config["ran_ago_h"]["type_config"]["format"].endswith(" h ago")
    oldest = float(re.search(r"critical paths passed [^.]*?([\d.]+) h ago at most", texts(at)).group(1))
    assert round(table.value["ran_ago_h"].max(), 1) == oldest


@pytest.mark.parametrize("page", ["Overview.py", "pages/8_Readiness.py"])
def test_readiness_speaks_of_client_firms_not_tenants(snapshot_mode, page):
    """ "Tenant" is the label's id; the pages call them client firms (the picker, the table), and so do the
    checks' sentences, what moved and the trend's legend."""
    at = run_page(page, tenant="elm-street") if "Readiness" in page else run_page(page)
    cells = [str(v) for table in at.dataframe for v in table.value.astype(str).to_numpy().ravel()]
    charts = [d.data.data for c in at.get("vega_lite_chart") for d in c.proto.datasets]
    words = "\n".join([texts(at), *cells])
    assert not re.search(r"\btenants?\b", words), [w for w in words.splitlines() if "tenant" in w][:3]
    assert "client firm" in words
    assert charts and not any(b"all tenants" in chart for chart in charts)  # the trend's legend


def test_the_slo_detail_names_its_alerts_in_words(snapshot_mode):
    """In words ("fast-burn page, 1h window"), as the SLO list and the Alerts page say it, not the label
    `page-1h-5m`."""
    table = run_page("pages/2_SLOs.py", slo="hmrc-submissions").dataframe[0]
    config = json.loads(table.proto.columns)
    shown = {c: table.value[c] for c in table.proto.column_order}
    alerts = next(values for c, values in shown.items() if config.get(c, {}).get("label") == "Alert")
    assert "fast-burn page, 1h window" in set(alerts)
    assert not [a for a in alerts if re.fullmatch(r"[a-z0-9-]+", a)], list(alerts)
