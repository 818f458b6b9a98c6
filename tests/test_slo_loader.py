"""Loading SLO definitions: both formats, every validation error with file, field path and problem."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from app.slo.loader import DefinitionError, load_definitions, load_file
from app.slo.model import DOMAINS
from app.slo.promql_check import local_problems, prometheus_validator, render
from app.sources.errors import BackendUnavailable, QueryRejected

REPO = Path(__file__).resolve().parents[1]

OPENSLO = """
apiVersion: openslo/v1
kind: SLO
metadata:
  name: api-availability
  displayName: API availability
  labels: {domain: filing, team: tax}
  annotations: {sextant/runbook: runbooks/api.md}
spec:
  service: api
  budgetingMethod: Occurrences
  timeWindow: [{duration: 28d, isRolling: true}]
  indicator:
    metadata: {name: errors}
    spec:
      ratioMetric:
        counter: true
        bad: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(x_total{code="500"}[{{.window}}]))'}}}
        total: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(x_total[{{.window}}]))'}}}
  objectives: [{target: 0.999}]
"""

SLOTH = """
version: prometheus/v1
service: assistant
labels: {domain: assistant, team: helpers}
slos:
  - name: availability
    objective: 99.5
    description: answers without errors
    sli:
      events:
        error_query: sum(rate(req_total{code="500"}[{{.window}}]))
        total_query: sum(rate(req_total[{{.window}}]))
    alerting:
      name: AssistantBurn
      labels: {category: availability}
      annotations: {runbook: runbooks/a.md, summary_extra: hello}
      page_alert: {labels: {severity: critical, route: pager}}
      ticket_alert: {disable: true}
  - name: latency
    objective: 99
    labels: {tier: "2"}
    sli:
      events:
        error_query: sum(rate(lat_count[{{.window}}])) - sum(rate(lat_bucket{le="8"}[{{.window}}]))
        total_query: sum(rate(lat_count[{{.window}}]))
"""


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(textwrap.dedent(text))
    return path


def errors_of(tmp: Path, text: str, name: str = "slo.yaml", **kw) -> list[DefinitionError]:
    defs, errors = load_file(write(tmp, name, text), **kw)
    assert not defs  # nothing half-loaded
    return errors


def messages(errors: list[DefinitionError]) -> list[str]:
    return [f"{e.path}: {e.message}" for e in errors]


def test_openslo_document_loads_with_every_field(tmp_path):
    defs, errors = load_file(write(tmp_path, "a.yaml", OPENSLO))
    assert errors == []
    (d,) = defs
    assert (d.name, d.service, d.domain, d.team, d.target) == (
        "api-availability",
        "api",
        "filing",
        "tax",
        0.999,
    )
    assert d.window.duration == timedelta(days=28) and not d.window.is_calendar
    assert d.indicator.bad and d.indicator.total and d.indicator.good is None
    assert d.runbook == "runbooks/api.md" and d.title == "API availability"
    assert d.source_format == "openslo" and d.source == tmp_path / "a.yaml"
    assert d.budgeting == "Occurrences"


def test_sloth_file_loads_unchanged(tmp_path):
    defs, errors = load_file(write(tmp_path, "s.yaml", SLOTH))
    assert errors == []
    avail, latency = defs
    assert avail.name == "assistant-availability" and latency.name == "assistant-latency"
    assert avail.target == 0.995 and latency.target == 0.99
    assert avail.window.duration == timedelta(days=30)  # Sloth's default period
    assert avail.domain == "assistant" and avail.team == "helpers"
    assert avail.runbook == "runbooks/a.md"
    assert avail.alerting.name == "AssistantBurn" and avail.alerting.page and not avail.alerting.ticket
    assert dict(avail.alerting.page_labels) == {"route": "pager"}  # Sextant sets severity itself
    assert dict(avail.alerting.annotations) == {"summary_extra": "hello"}
    assert dict(latency.labels)["tier"] == "2" and dict(latency.labels)["domain"] == "assistant"
    assert latency.alerting.name == "SLOErrorBudgetBurn"
    assert avail.title == "Assistant availability"  # in words: the service, then the short name


def test_calendar_windows_in_both_spellings(tmp_path):
    month = OPENSLO.replace(
        "timeWindow: [{duration: 28d, isRolling: true}]",
        "timeWindow: [{duration: 1M, isRolling: false,"
        " calendar: {startTime: '2026-01-01 00:00:00', timeZone: UTC}}]",
    )
    (d,), _ = load_file(write(tmp_path, "m.yaml", month))
    assert d.window.unit == "month" and d.window.label == "calendar month"
    quarter = OPENSLO.replace(
        "timeWindow: [{duration: 28d, isRolling: true}]",
        "timeWindow: [{isRolling: false, calendar: {unit: Quarter}}]",
    )
    (d,), _ = load_file(write(tmp_path, "q.yaml", quarter))
    assert d.window.unit == "quarter"
    week = OPENSLO.replace(
        "timeWindow: [{duration: 28d, isRolling: true}]", "timeWindow: [{duration: 1w, calendar: {}}]"
    )
    (d,), _ = load_file(write(tmp_path, "w.yaml", week))
    assert d.window.unit == "week"


def test_timeslices_over_a_gauge_and_over_a_ratio(tmp_path):
    gauge = OPENSLO.replace("budgetingMethod: Occurrences", "budgetingMethod: Timeslices").replace(
        """      ratioMetric:
        counter: true
        bad: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(x_total{code="500"}[{{.window}}]))'}}}
        total: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(x_total[{{.window}}]))'}}}""",
        "      thresholdMetric: {metricSource: {type: Prometheus,"
        " spec: {query: 'max_over_time(age[{{.window}}])'}}}",
    )
    with_value = gauge.replace(
        "objectives: [{target: 0.999}]",
        "objectives: [{target: 0.99, op: lte, value: 60, timeSliceWindow: 1m}]",
    )
    (d,), errors = load_file(write(tmp_path, "g.yaml", with_value))
    assert errors == []
    assert (d.budgeting, d.op, d.threshold, d.time_slice_window) == (
        "Timeslices",
        "lte",
        60.0,
        timedelta(minutes=1),
    )
    with_target = gauge.replace(
        "objectives: [{target: 0.999}]",
        "objectives: [{target: 0.9, timeSliceTarget: 0.93, timeSliceWindow: 5}]",
    )
    (d,), errors = load_file(write(tmp_path, "t.yaml", with_target))
    assert (d.op, d.threshold, d.time_slice_window) == (
        "gte",
        0.93,
        timedelta(minutes=5),
    )  # bare number = minutes
    ratio = OPENSLO.replace("budgetingMethod: Occurrences", "budgetingMethod: Timeslices").replace(
        "objectives: [{target: 0.999}]",
        "objectives: [{target: 0.99, timeSliceTarget: 0.95, timeSliceWindow: 5m}]",
    )
    (d,), errors = load_file(write(tmp_path, "r.yaml", ratio))
    assert errors == [] and d.indicator.total is not None and d.threshold == 0.95


def test_target_percent_and_multi_document_files_and_lists(tmp_path):
    pct = OPENSLO.replace("objectives: [{target: 0.999}]", "objectives: [{targetPercent: 99.5}]")
    two = pct + "---\n" + OPENSLO.replace("api-availability", "api-two")
    defs, errors = load_file(write(tmp_path, "two.yaml", two))
    assert errors == [] and [d.target for d in defs] == [0.995, 0.999]
    as_list = "- " + textwrap.indent(textwrap.dedent(OPENSLO).strip(), "  ").lstrip()
    defs, errors = load_file(write(tmp_path, "list.yaml", as_list))
    assert errors == [] and len(defs) == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("  service: api\n", "  service: api\n  colour: blue\n"), "spec.colour: unknown key 'colour'"),
        (
            ("objectives: [{target: 0.999}]", "objectives: [{target: 1.5}]"),
            "spec.objectives[0].target: 1.5 is outside (0, 1)",
        ),
        (
            ("objectives: [{target: 0.999}]", "objectives: [{target: 0}]"),
            "spec.objectives[0].target: 0.0 is outside (0, 1)",
        ),
        (
            ("objectives: [{target: 0.999}]", "objectives: [{target: '99%'}]"),
            "spec.objectives[0].target: must be a number",
        ),
        (("duration: 28d", "duration: 28 days"), "spec.timeWindow[0].duration: '28 days' is not a duration"),
        (("duration: 28d", "duration: 2h"), "spec.timeWindow[0].duration: '2h' is shorter than a day"),
        (
            ("[{{.window}}]))'}}}\n        total", "[5m]))'}}}\n        total"),
            "bad.metricSource.spec.query: the query has no {{.window}}",
        ),
        (
            ("sum(rate(x_total[{{.window}}]))'", "sum(rate(x_total[{{.window}}])'"),
            "total.metricSource.spec.query: '(' opened",
        ),
        (("domain: filing", "domain: payroll"), "metadata.labels.domain: 'payroll' is not a domain"),
        (("{domain: filing, team: tax}", "{domain: filing}"), "metadata.labels.team: is required"),
        (
            ("budgetingMethod: Occurrences", "budgetingMethod: Sometimes"),
            "spec.budgetingMethod: must be Occurrences or Timeslices",
        ),
        (
            ("budgetingMethod: Occurrences", "budgetingMethod: RatioTimeslices"),
            "RatioTimeslices is not supported",
        ),
        (
            ("name: api-availability", "name: API_Availability"),
            "metadata.name: 'API_Availability' must be lowercase",
        ),
        (("counter: true", "counter: false"), "ratioMetric.counter: must be true"),
        (
            (
                "type: Prometheus, spec: {query: 'sum(rate(x_total[",
                "type: Datadog, spec: {query: 'sum(rate(x_total[",
            ),
            "metricSource.type: 'Datadog' is not supported",
        ),
        (
            ("objectives: [{target: 0.999}]", "objectives: [{target: 0.99}, {target: 0.9}]"),
            "spec.objectives: must be a list with exactly one",
        ),
        (
            ("objectives: [{target: 0.999}]", "objectives: [{target: 0.99, op: lte}]"),
            "spec.objectives[0].op: is only used with budgetingMethod: Timeslices",
        ),
        (
            (
                "timeWindow: [{duration: 28d, isRolling: true}]",
                "timeWindow: [{duration: 2M, isRolling: false}]",
            ),
            "'2M' is not a calendar period",
        ),
        (
            (
                "timeWindow: [{duration: 28d, isRolling: true}]",
                "timeWindow: [{duration: 1M, isRolling: false, calendar: {timeZone: Europe/London}}]",
            ),
            "calendar.timeZone: 'Europe/London' is not supported",
        ),
        (
            ("timeWindow: [{duration: 28d, isRolling: true}]", "timeWindow: []"),
            "spec.timeWindow: must be a list with exactly one",
        ),
        (("apiVersion: openslo/v1", "apiVersion: openslo/v2"), "apiVersion: 'openslo/v2' is not supported"),
        (("kind: SLO", "kind: SLI"), "kind: 'SLI' is not supported"),
    ],
)
def test_openslo_errors_name_the_field_and_the_problem(tmp_path, change, expected):
    text = OPENSLO.replace(*change)
    assert text != OPENSLO, change
    found = messages(errors_of(tmp_path, text))
    assert any(expected in m for m in found), found


def test_errors_name_the_file(tmp_path):
    (error,) = errors_of(tmp_path, OPENSLO.replace("target: 0.999", "target: 2"), name="broken.yaml")
    assert str(error).startswith(
        f"{tmp_path / 'broken.yaml'}: spec.objectives[0].target: 2.0 is outside (0, 1)"
    )


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    text = OPENSLO.replace("target: 0.999", "target: 2").replace("domain: filing", "domain: nope")
    assert len(errors_of(tmp_path, text)) == 2


def test_openslo_v1_nesting_is_explained(tmp_path):
    text = OPENSLO.replace("    metadata: {name: errors}\n    spec:\n      ratioMetric:", "    ratioMetric:")
    found = messages(errors_of(tmp_path, text))
    assert any("OpenSLO v1 nests it: indicator.spec.ratioMetric" in m for m in found), found


def test_timeslice_specific_errors(tmp_path):
    sliced = OPENSLO.replace("budgetingMethod: Occurrences", "budgetingMethod: Timeslices")
    found = messages(errors_of(tmp_path, sliced))
    assert any("timeSliceWindow: is required" in m for m in found)
    assert any("timeSliceTarget: is required" in m for m in found)
    odd = sliced.replace("[{target: 0.999}]", "[{target: 0.99, timeSliceTarget: 0.9, timeSliceWindow: 2m}]")
    assert any("'2m' is not supported: use 1m or 5m" in m for m in messages(errors_of(tmp_path, odd)))
    gauge = OPENSLO.replace(
        """      ratioMetric:
        counter: true
        bad: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(x_total{code="500"}[{{.window}}]))'}}}
        total: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(x_total[{{.window}}]))'}}}""",
        """      thresholdMetric: {metricSource: {spec: {query: 'max_over_time(age[{{.window}}])'}}}""",
    )
    assert any("a thresholdMetric (a gauge) has no events" in m for m in messages(errors_of(tmp_path, gauge)))
    both = gauge.replace("budgetingMethod: Occurrences", "budgetingMethod: Timeslices").replace(
        "[{target: 0.999}]", "[{target: 0.9, value: 3, timeSliceTarget: 0.9, timeSliceWindow: 1m, op: up}]"
    )
    found = messages(errors_of(tmp_path, both))
    assert any("exactly one of value or timeSliceTarget" in m for m in found)
    assert any("'up' must be one of gte, gt, lte, lt" in m for m in found)


def test_sloth_errors(tmp_path):
    found = messages(
        errors_of(
            tmp_path,
            SLOTH.replace("objective: 99.5", "objective: 0.995").replace(
                "objective: 99\n", "objective: 100\n"
            ),
        )
    )
    assert any("slos[1].objective: 100.0 is outside (0, 100)" in m for m in found), found
    raw = SLOTH.replace(
        """      events:
        error_query: sum(rate(req_total{code="500"}[{{.window}}]))
        total_query: sum(rate(req_total[{{.window}}]))""",
        """      raw: {error_ratio_query: 'x'}""",
    )
    assert any("slos[0].sli.raw: sli.raw is not supported" in m for m in messages(errors_of(tmp_path, raw)))
    assert any(
        "slos: must be a non-empty list" in m
        for m in messages(errors_of(tmp_path, "version: prometheus/v1\nservice: x\nslos: []\n"))
    )
    dup = SLOTH.replace("name: latency", "name: availability")
    assert any("'assistant-availability' is defined 2 times" in m for m in messages(errors_of(tmp_path, dup)))
    bad_alert = SLOTH.replace("name: AssistantBurn", "name: 'not valid'").replace(
        "disable: true", "disable: maybe"
    )
    found = messages(errors_of(tmp_path, bad_alert))
    assert any("alerting.name: 'not valid' is not a valid Prometheus alert name" in m for m in found)
    assert any("ticket_alert.disable: must be true or false" in m for m in found)
    events = SLOTH.replace('error_query: sum(rate(req_total{code="500"}[{{.window}}]))', "error_query: ''")
    assert any(
        "sli.events.error_query: the query is empty" in m for m in messages(errors_of(tmp_path, events))
    )


def test_sloth_disable_as_a_label_as_in_its_docs(tmp_path):
    text = SLOTH.replace("ticket_alert: {disable: true}", "ticket_alert: {labels: {disable: 'true'}}")
    defs, errors = load_file(write(tmp_path, "s.yaml", text))
    assert errors == [] and not defs[0].alerting.ticket


def test_yaml_errors_and_unrecognised_documents(tmp_path):
    found = messages(errors_of(tmp_path, "apiVersion: [unclosed\n"))
    assert any("is not valid YAML at line" in m for m in found), found
    assert messages(errors_of(tmp_path, "")) == [": is empty"]
    assert any("neither an OpenSLO document" in m for m in messages(errors_of(tmp_path, "foo: bar\n")))
    assert any("must be a mapping" in m for m in messages(errors_of(tmp_path, "- 1\n- 2\n")))


def test_non_slo_documents_are_skipped(tmp_path):
    readiness = "apiVersion: sextant/v1\nkind: ReadinessScore\nmetadata: {name: r}\nspec: {}\n"
    service = "apiVersion: openslo/v1\nkind: Service\nmetadata: {name: api}\nspec: {description: x}\n"
    defs, errors = load_file(write(tmp_path, "mixed.yaml", readiness + "---\n" + service + "---\n" + OPENSLO))
    assert errors == [] and [d.name for d in defs] == ["api-availability"]


def test_one_bad_file_is_reported_and_the_others_still_load(tmp_path):
    write(tmp_path, "a.yaml", OPENSLO)
    write(tmp_path, "b.yaml", SLOTH.replace("objective: 99.5", "objective: 250"))
    write(tmp_path, "c.yml", OPENSLO.replace("api-availability", "third"))
    write(tmp_path, "notes.txt", "ignored")
    result = load_definitions(tmp_path)
    assert [d.name for d in result.definitions] == ["api-availability", "third"]
    assert {e.file.name for e in result.errors} == {"b.yaml"}
    assert not result.ok and set(result.by_name()) == {"api-availability", "third"}


def test_duplicate_names_across_files_reject_the_later_file(tmp_path):
    write(tmp_path, "a.yaml", OPENSLO)
    write(tmp_path, "b.yaml", OPENSLO.replace("target: 0.999", "target: 0.99"))
    result = load_definitions(tmp_path)
    assert [d.target for d in result.definitions] == [0.999]
    (error,) = result.errors
    assert error.file.name == "b.yaml" and "already defined in a.yaml" in error.message


def test_missing_directory(tmp_path):
    result = load_definitions(tmp_path / "nope")
    assert not result.definitions and "is not a directory" in str(result.errors[0])
    assert load_definitions(None).files == load_definitions().files  # None: slo_definitions/


def test_local_query_checks():
    assert local_problems('sum(rate(x{a="(["}[{{ .window }}]))') == []
    assert local_problems("") == ["the query is empty"]
    assert local_problems(5) == ["the query is empty"]
    assert any("unexpected ')'" in p for p in local_problems("sum(rate(x[{{.window}}])))"))
    assert any("never closed" in p for p in local_problems('sum(rate(x{a="b}[{{.window}}]))'))
    assert any("unknown template {{.foo}}" in p for p in local_problems("rate(x[{{.window}}]) + {{.foo}}"))
    assert local_problems("rate(x[{{.window}}]) # a comment with (") == []
    assert render("rate(x[{{.window}}]) / rate(y[{{ .window }}])", "1h") == "rate(x[1h]) / rate(y[1h])"


class FakeFormatter:
    def __init__(self, reachable: bool = True, reject: str = "nope", down_after: int | None = None):
        self.reachable, self.reject, self.calls, self.down_after = reachable, reject, 0, down_after

    def format_query(self, query: str) -> str:
        self.calls += 1
        if not self.reachable or (self.down_after is not None and self.calls > self.down_after):
            raise BackendUnavailable("prometheus", "connection refused")
        if self.reject in query:
            raise QueryRejected("prometheus", 'parse error: unexpected identifier "nope"', 400, "bad_data")
        return query


def test_promql_rejected_by_prometheus_is_a_definition_error(tmp_path):
    validator = prometheus_validator(FakeFormatter())
    text = OPENSLO.replace('x_total{code="500"}', 'x_total{code="500"} nope')
    found = messages(errors_of(tmp_path, text, validator=validator))
    assert any(
        "bad.metricSource.spec.query: Prometheus rejects this query: parse error: unexpected identifier" in m
        for m in found
    ), found
    defs, errors = load_file(write(tmp_path, "ok.yaml", OPENSLO), validator=validator)
    assert defs and not errors


def test_unreachable_prometheus_means_local_checks_only():
    assert prometheus_validator(FakeFormatter(reachable=False)) is None
    flaky = prometheus_validator(FakeFormatter(down_after=1))
    assert flaky is not None and flaky("vector(1)") is None  # a failure mid-way is not the query's fault


def test_the_shipped_definitions_are_valid_and_cover_every_domain():
    result = load_definitions(REPO / "slo_definitions")
    assert result.ok, [str(e) for e in result.errors]
    defs = result.definitions
    assert len(defs) >= 12
    assert {d.domain for d in defs} == set(DOMAINS)
    assert any(d.budgeting == "Timeslices" and d.indicator.query for d in defs)  # a gauge SLI
    assert any(d.window.unit == "month" for d in defs)  # a calendar month
    assert any(d.source_format == "sloth" for d in defs)
    assert {"hmrc-submissions", "extraction-accuracy", "extraction-invoice-accuracy"} <= {
        d.name for d in defs
    }
    for d in defs:
        assert d.runbook == f"runbooks/{d.name}.md", d.name
        text = (REPO / d.runbook).read_text()
        assert d.name in text and "## First checks" in text and "## Escalation" in text
        latency = [q for q in d.indicator.queries().values() if "_bucket" in q]
        for q in latency:  # latency SLIs are bucket/count ratios
            assert 'le="' in q and any("_count" in other for other in d.indicator.queries().values())
