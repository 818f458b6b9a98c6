"""Panel declarations: every file in queries/ loads, each kind of mistake is reported by file and panel,
linked SLOs exist, and a variable's value can never change a query's meaning."""

from __future__ import annotations

import os
import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from app import queries
from app.dashboards import spec as panels
from app.dashboards.spec import ALL, PanelError, variable_regex
from app.queries import QUERIES_DIR

DOMAINS = ("ingestion", "extraction", "tax", "assistant")

NAMED = """
latency:
  backend: prometheus
  query: histogram_quantile({{quantile}}, sum by (route, le) (rate(x_bucket{route=~"{{route}}"}[{{window}}])))
  params:
    quantile: {type: float}
    route: {type: label_value}
    window: {type: duration}
route_values:
  backend: prometheus
  query: group by (route) (x_count)
incidents:
  backend: opensearch
  index: incidents
  query: {query: {range: {start: {lt: "{{end}}"}}}}
  params:
    end: {type: time}
"""

GOOD = """
title: Demo
service: demo
incidents: incidents
variables:
  - {name: route, label: Route, query: route_values}
panels:
  - id: latency
    title: Latency
    description: How long it takes.
    backend: prometheus
    query: latency
    series: {p50: {quantile: 0.5}, p99: {quantile: 0.99}}
    kind: line
    unit: seconds
    thresholds: [{label: "SLO: 1 s", value: 1, good: below, where: {series: p99}}]
"""


def write(tmp_path: Path, board: str = GOOD, named: str = NAMED) -> Path:
    """A domain file: the named queries, then the dashboard under `dashboard`."""
    path = tmp_path / "demo.yaml"
    path.write_text(textwrap.dedent(named) + "dashboard:\n" + textwrap.indent(textwrap.dedent(board), "  "))
    return path


def mutate(tmp_path: Path, change) -> Path:
    """GOOD and NAMED with `change(dashboard, named)` applied to their parsed forms."""
    board, named = yaml.safe_load(GOOD), yaml.safe_load(NAMED)
    change(board, named)
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump({**named, "dashboard": board}, sort_keys=False))
    return path


def first_panel(board: dict) -> dict:
    return board["panels"][0]


def panel_with(**changes):
    return lambda board, named: first_panel(board).update(**changes)


# -- the real files ----------------------------------------------------------------------------------------


def test_every_query_file_loads():
    """`make test` fails on any bad file in queries/: named queries as catalogues, then every dashboard."""
    files = sorted(QUERIES_DIR.glob("*.yaml"))
    assert files
    for path in files:
        queries.load_file(path)  # the catalogue skips `dashboard`
    boards = panels.dashboard_files()
    assert {p.stem for p in boards} >= set(DOMAINS)
    for path in boards:
        assert panels.load_file(path).panels, path
    assert len(queries.catalogue().names("ingestion")) >= 5


@pytest.mark.parametrize("domain", DOMAINS)
def test_each_domain_has_a_dashboard_with_described_panels(domain):
    board = panels.dashboard(domain)
    assert board.title and board.service and board.incidents is not None
    for panel in board.panels:
        assert panel.description and panel.unit and panel.kind in panels.KINDS
    assert board.variables, "a variable narrows every panel of the page"
    for variable in board.variables:
        assert any(variable.name in p.variables for p in board.panels), variable.name


def test_linked_slos_exist_in_the_definitions():
    """Every SLO a panel links to is defined in slo_definitions/ (the SLO detail page can show it)."""
    known = panels.known_slos()
    assert known, "slo_definitions/ defines no SLO"
    missing = [
        (domain, panel.id, name)
        for domain in DOMAINS
        for panel in panels.dashboard(domain).panels
        for name in panel.slos
        if name not in known
    ]
    assert not missing


def test_required_panels_are_declared():
    ids = {domain: {p.id for p in panels.dashboard(domain).panels} for domain in DOMAINS}
    assert {"latency", "error_ratio", "throughput", "queue_depth", "queue_age"} <= ids["ingestion"]
    assert {"accuracy", "accuracy_trend", "queue_depth", "queue_age"} <= ids["extraction"]
    assert {"reconciliation_time", "hmrc_outcomes", "fraud_headers"} <= ids["tax"]
    assert {"answer_latency", "feedback_positive", "feedback_by_rating"} <= ids["assistant"]
    latency = next(p for p in panels.dashboard("ingestion").panels if p.id == "latency")
    assert [name for name, _ in latency.series] == ["p50", "p95", "p99"]


def test_known_slos_of_a_missing_directory_is_empty(tmp_path):
    assert panels.known_slos(tmp_path / "absent") == {}


# -- each kind of mistake, named by file and panel -----------------------------------------------------


def test_the_good_example_loads(tmp_path):
    board = panels.load_file(write(tmp_path, GOOD))
    panel = board.panels[0]
    assert panel.variables == ("route",)
    assert board.defaults() == {"route": ALL}
    assert [name for name, _ in panel.series] == ["p50", "p99"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (panel_with(backend="graphite"), "unknown backend 'graphite'"),
        (panel_with(backend="jaeger"), "unknown backend 'jaeger'"),
        (lambda d, n: first_panel(d).pop("unit"), "missing unit"),
        (panel_with(unit="furlongs"), "unknown unit 'furlongs'"),
        (panel_with(kind="pie"), "unknown chart kind 'pie'"),
        (lambda d, n: first_panel(d).pop("description"), "missing description"),
        (panel_with(query="nope"), "no named query 'nope'"),
        (panel_with(series={"p50": {"quantile": "high"}}), "expected a number"),
        (panel_with(series={"p50": {"colour": 1}}), "'colour' is not a param"),
        (panel_with(series={"p50": {"route": "/x"}}), "'route' is filled in by the page"),
        (panel_with(thresholds=[{"label": "x", "value": "1", "good": "below"}]), "number"),
        (panel_with(thresholds=[{"label": "x", "value": 1, "good": "up"}]), "above or below"),
        (panel_with(slos="one"), "slos must be a list"),
        (panel_with(colour="red"), "unknown key(s) ['colour']"),
        (lambda d, n: d["panels"].append(dict(first_panel(d))), "panel ids repeat"),
    ],
)
def test_invalid_panel_names_file_and_panel(tmp_path, change, message):
    path = mutate(tmp_path, change)
    with pytest.raises(PanelError) as caught:
        panels.load_file(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)
    if "repeat" not in message:
        assert "panel 'latency'" in str(caught.value)


def test_undeclared_variable_is_an_error(tmp_path):
    """The query needs `route`, but the page declares no such variable and no args give it."""
    path = mutate(tmp_path, lambda d, n: d.pop("variables"))
    with pytest.raises(PanelError, match=r"panel 'latency'.*param 'route' of query 'latency' is undeclared"):
        panels.load_file(path)


def test_variable_must_be_a_regex_matcher(tmp_path):
    """`route="{{route}}"` could not express "All": the loader refuses it."""

    def change(board, named):
        named["latency"]["query"] = named["latency"]["query"].replace('route=~"', 'route="')

    with pytest.raises(PanelError, match=r"variable 'route' must be used as a regex matcher"):
        panels.load_file(mutate(tmp_path, change))


def test_variable_must_be_a_label_value(tmp_path):
    def change(board, named):
        named["latency"]["params"]["route"] = {"type": "enum", "values": ["a"]}

    with pytest.raises(PanelError, match=r"variable 'route' must be a label_value param"):
        panels.load_file(mutate(tmp_path, change))


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ({"name": "range", "label": "x", "values": ["a"]}, "taken by the page"),
        ({"name": "bad name", "label": "x", "values": ["a"]}, "must be an identifier"),
        ({"name": "route", "label": "x"}, "either query"),
        ({"name": "route", "label": "x", "query": "latency"}, "may only take window"),
        ({"name": "route", "label": "x", "query": "missing"}, "must name a prometheus query"),
    ],
)
def test_invalid_variable(tmp_path, variable, message):
    path = mutate(tmp_path, lambda d, n: d.update(variables=[variable]))
    with pytest.raises(PanelError, match=message) as caught:
        panels.load_file(path)
    assert str(path) in str(caught.value)


def test_reserved_param_with_the_wrong_type(tmp_path):
    def change(board, named):
        named["latency"]["params"]["window"] = {"type": "int"}

    with pytest.raises(PanelError, match="'window' is filled in by the page and must have type duration"):
        panels.load_file(mutate(tmp_path, change))


def test_a_bad_named_query_is_reported_with_its_file(tmp_path):
    path = mutate(tmp_path, lambda d, n: n["latency"].update(backend="influx"))
    with pytest.raises(PanelError, match=r"query 'latency': backend must be one of") as caught:
        panels.load_file(path)
    assert str(path) in str(caught.value)


def test_inline_queries(tmp_path):
    def change(board, named):
        panel = first_panel(board)
        del panel["query"], panel["series"]
        panel["expr"] = 'sum(rate(x_count{route=~"{{route}}"}[{{window}}]))'
        panel["params"] = {"route": {"type": "label_value"}, "window": {"type": "duration"}}

    board = panels.load_file(mutate(tmp_path, change))
    assert board.panels[0].variables == ("route",)

    def bad(board, named):
        panel = first_panel(board)
        del panel["query"]
        panel["expr"] = "sum(x{a={{route}}})"
        panel["params"] = {"route": {"type": "label_value"}}

    with pytest.raises(PanelError, match=r"panel 'latency'.*must stand alone inside double quotes"):
        panels.load_file(mutate(tmp_path, bad))


def test_an_opensearch_panel_cannot_draw_a_line(tmp_path):
    def change(board, named):
        panel = first_panel(board)
        del panel["query"], panel["series"]
        panel.update(backend="opensearch", body={"query": {"match_all": {}}}, index="logs-*")

    with pytest.raises(PanelError, match="a line panel needs a prometheus query"):
        panels.load_file(mutate(tmp_path, change))


def test_dashboard_level_mistakes(tmp_path):
    with pytest.raises(PanelError, match="dashboard: needs a service"):
        panels.load_file(mutate(tmp_path, lambda d, n: d.pop("service")))
    with pytest.raises(PanelError, match="incidents must name an opensearch query"):
        panels.load_file(mutate(tmp_path, lambda d, n: d.update(incidents="latency")))
    with pytest.raises(PanelError, match="needs a list of panels"):
        panels.load_file(mutate(tmp_path, lambda d, n: d.update(panels=[])))
    with pytest.raises(PanelError, match="dashboard: unknown key"):
        panels.load_file(mutate(tmp_path, lambda d, n: d.update(colour="red")))
    with pytest.raises(PanelError, match="expected named queries and a `dashboard` mapping"):
        panels.load_file(write(tmp_path, "- a\n"))
    with pytest.raises(PanelError, match="not valid YAML"):
        panels.load_file(write(tmp_path, "a: [\n"))


def test_dashboard_cache_rereads_a_changed_file(tmp_path):
    path = write(tmp_path, GOOD)
    assert panels.dashboard("demo", path.parent).title == "Demo"
    write(tmp_path, GOOD.replace("title: Demo", "title: Other"))
    os.utime(path, ns=(1, 1))
    assert panels.dashboard("demo", path.parent).title == "Other"


# -- variables stay inert -----------------------------------------------------------------------------------

INJECTION = 'a"} or vector(1) #'


def test_variable_regex_escapes_every_special_character():
    assert variable_regex(ALL) == ".*"
    assert variable_regex("/ingest/document") == r"\/ingest\/document"
    assert variable_regex(".*") == r"\.\*"
    assert variable_regex("cobalt-cpa") == r"cobalt\-cpa"
    assert variable_regex("élan_1") == "élan_1"  # RE2 refuses an escaped non-ASCII letter


def test_injection_in_a_variable_stays_one_label_value():
    board = panels.dashboard("ingestion")
    panel = next(p for p in board.panels if p.id == "latency")
    now = datetime(2026, 11, 28, tzinfo=UTC)
    args = panel.params("p95", "5m", now, now, {"route": INJECTION})
    text = panel.query.render(**args).query
    escaped = queries.escape_promql_string(variable_regex(INJECTION))
    assert f'route=~"{escaped}"' in text
    # Outside the quoted value, the query is exactly the template: nothing of the value became syntax.
    assert "vector" not in text.replace(escaped, "ROUTE")
    assert text.replace(escaped, "ROUTE") == panel.query.query.replace("{{route}}", "ROUTE").replace(
        "{{quantile}}", "0.95"
    ).replace("{{window}}", "5m")


def test_unset_variable_means_all():
    panel = next(p for p in panels.dashboard("tax").panels if p.id == "obligations")
    now = datetime(2026, 11, 28, tzinfo=UTC)
    text = panel.query.render(**panel.params("due", "1h", now, now, {})).query
    assert 'tenant=~".*"' in text and "filing_obligations_due{" in text


def test_threshold_where_and_met():
    threshold = panels.Threshold("x", 0.95, "above", (("document_type", "invoice"),))
    assert threshold.applies({"document_type": "invoice", "value": 1})
    assert not threshold.applies({"document_type": "receipt"})
    assert threshold.met(0.95) and not threshold.met(0.949)
    assert panels.Threshold("y", 1.0, "below").met(0.5)


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ({"route": {"/x": ""}}, "names.route: /x need a display name"),
        ({"route": ["/x"]}, "names must map each label"),
        ("route", "names must map each label"),
    ],
)
def test_invalid_display_names_name_the_file_and_the_label(tmp_path, names, message):
    path = mutate(tmp_path, lambda d, n: d.update(names=names))
    with pytest.raises(PanelError, match=re.escape(message)) as caught:
        panels.load_file(path)
    assert str(path) in str(caught.value)


def test_display_names_are_given_in_one_place_and_kept_off_the_url(tmp_path):
    board = panels.load_file(mutate(tmp_path, lambda d, n: d.update(names={"route": {"/x": "The X route"}})))
    assert board.display("route", "/x") == "The X route"
    assert board.display("route", "/y") == "/y"  # a value without a name is shown as it is
    assert board.display("tenant", "/x") == "/x"  # names belong to one label
