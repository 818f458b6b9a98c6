"""Loading and validating slo_definitions/readiness.yaml."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from app.readiness import (
    DEFAULT_PATH,
    ReadinessDefinitionError,
    load_definition,
    parse_definition,
    planned_queries,
)
from tests.readiness_support import check, document, gate


def test_the_shipped_definition_loads() -> None:
    d = load_definition()
    assert d.source == str(DEFAULT_PATH)
    names = [c.name for c in d.checks]
    assert names == [
        "documents_ingested",
        "extracted_above_target",
        "reconciled_within_sla",
        "approved",
        "filing_slos_healthy",
        "hmrc_api_error_rate",
        "backlog_before_deadline",
    ]
    assert sum(c.weight for c in d.checks) == 100
    assert {g.name: g.cap for g in d.gates} == {
        "fraud_prevention_headers_complete": 50,
        "no_exhausted_filing_slo": 40,
    }
    for c in d.items:
        assert c.description and c.unit and c.display_name
    item_queries = [q for c in d.items for q in c.queries()]
    assert len(item_queries) == 8  # four components, the HMRC error rate, the backlog's two, one gate
    assert all("{{" not in q for q in item_queries)
    assert d.tenant_label == "tenant"
    # The figures over a fixed window say it (the pages' range may differ): the HMRC error rate, the gate.
    assert {c.name: c.window for c in d.items if c.window} == {
        "hmrc_api_error_rate": "1h",
        "fraud_prevention_headers_complete": "1h",
    }
    # One request per distinct query: the tenants, six PromQL checks (backlog has two), one gate.
    assert len(planned_queries(d)) == 9


def test_tenant_queries_aggregate_by_tenant() -> None:
    d = load_definition()
    for c in d.items:
        if c.scope == "tenant":
            assert "by (tenant)" in (c.query or "")
        elif c.query:
            assert "by (tenant)" not in c.query


def test_a_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ReadinessDefinitionError, match=r"missing\.yaml: cannot read"):
        load_definition(tmp_path / "missing.yaml")


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("spec: [unclosed\n")
    with pytest.raises(ReadinessDefinitionError, match=r"bad\.yaml: not valid YAML"):
        load_definition(path)


def test_every_problem_is_reported_with_file_and_field(tmp_path: Path) -> None:
    doc = document(
        [
            check("ok", weight=10),
            {**check("bad", weight=-1, comparison="=>", domain="tax"), "colour": "red"},
            check("ok", weight=5),
            {k: v for k, v in check("nounit").items() if k != "unit"},
        ],
        [gate("g", 120)],
    )
    path = tmp_path / "readiness.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ReadinessDefinitionError) as caught:
        load_definition(path)
    problems = caught.value.problems
    assert problems and all(p.startswith(f"{path}: ") for p in problems)
    text = "\n".join(problems)
    assert "spec.checks[1].colour: unknown key" in text
    assert "spec.checks[1].weight: must be > 0, got -1" in text
    assert "spec.checks[1].comparison: '=>' is not one of >=, >, <=, <" in text
    assert "spec.checks[1].domain: 'tax' is not one of ingestion, extraction" in text
    assert "spec.checks[2].name: duplicate name 'ok' (also spec.checks[0].name)" in text
    assert "spec.checks[3].unit: is required" in text
    assert "spec.gates[0].cap: must be in [0, 100), got 120" in text
    assert str(caught.value).startswith("invalid readiness definition:")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(apiVersion="v2"), "apiVersion: must be 'sextant/v1'"),
        (lambda d: d.update(kind="SLO"), "kind: must be 'ReadinessScore'"),
        (lambda d: d.pop("metadata"), "metadata: is required"),
        (
            lambda d: d["metadata"].update(name="Bad Name"),
            "metadata.name: 'Bad Name' must be lower_snake_case",
        ),
        (lambda d: d["spec"].update(checks=[]), "spec.checks: at least one check is required"),
        (lambda d: d["spec"].update(checks="x"), "spec.checks: must be a list"),
        (lambda d: d["spec"]["checks"].append(3), r"spec.checks\[1\]: must be a mapping"),
        (lambda d: d["spec"]["checks"][0].update(threshold="high"), "threshold: must be a finite number"),
        (lambda d: d["spec"]["checks"][0].update(weight=True), "weight: must be a finite number"),
        (lambda d: d["spec"]["checks"][0].pop("query"), r"spec.checks\[0\].query: is required"),
        (
            lambda d: d["spec"]["checks"][0].update(query='x{tenant="{{tenant}}"}'),
            r"placeholders \{\{tenant\}\} are not supported",
        ),
        (lambda d: d["spec"]["checks"][0].update(query="sum(x"), "unbalanced brackets"),
        (
            lambda d: d["spec"]["checks"][0].update(scope="global"),
            "scope: 'global' is not one of tenant, platform",
        ),
        (
            lambda d: d["spec"]["checks"][0].update(aggregate="share_healthy"),
            "aggregate: only used by source",
        ),
        (lambda d: d["spec"]["checks"][0].update(deadline="vat"), "deadline: only used by source: backlog"),
        (
            lambda d: d["spec"]["checks"][0].update(throughputQuery="x"),
            "throughputQuery: only used by source",
        ),
        (lambda d: d["spec"].update(tenants={"query": "x", "extra": 1}), "spec.tenants.extra: unknown key"),
        (lambda d: d["spec"]["gates"].append(check("g_no_cap", weight=None)), r"gates\[0\].cap: is required"),
        (
            lambda d: d["spec"]["gates"].append(check("g_weight", weight=5, cap=None)),
            r"gates\[0\].weight: unknown",
        ),
        (lambda d: d.update(extra=1), "extra: unknown key"),
        (lambda d: d["spec"]["checks"][0].update(window="2h"), r"window: '2h' is not one of 1h, 6h"),
        (
            lambda d: d["spec"]["checks"][0].update(query="sum(rate(x[5m]))", window="1h"),
            r"window: the query must select \[1h\] and no other range",
        ),
        (
            lambda d: d["spec"]["checks"][0].update(query="sum(rate(x[1h])) / sum(rate(x[1d]))", window="1h"),
            r"window: the query must select \[1h\] and no other range",
        ),
    ],
)
def test_validation_messages(mutate, message: str) -> None:
    doc = copy.deepcopy(document([check("a")]))
    mutate(doc)
    with pytest.raises(ReadinessDefinitionError, match=message):
        parse_definition(doc, source="x.yaml")


def test_source_specific_rules() -> None:
    bad = [
        (
            check("s", source="slo_states", scope="tenant", aggregate="share_healthy"),
            "SLO states are platform-wide",
        ),
        (check("s", source="slo_states", aggregate="mean"), "aggregate: 'mean' is not one of"),
        (check("s", source="slo_states", aggregate="share_healthy", query="up"), "query: not used by source"),
        (
            check("b", source="backlog", scope="platform", throughputQuery="t", deadline="vat"),
            "use scope: tenant",
        ),
        (check("b", source="backlog", scope="tenant", deadline="vat"), "throughputQuery: is required"),
        (check("b", source="backlog", scope="tenant", throughputQuery="t", deadline="ct"), "deadline: 'ct'"),
    ]
    for node, message in bad:
        with pytest.raises(ReadinessDefinitionError, match=message):
            parse_definition(document([node]))


def test_a_non_mapping_document() -> None:
    with pytest.raises(
        ReadinessDefinitionError, match=r"x.yaml: \(document\): the document must be a mapping"
    ):
        parse_definition(["not", "a", "mapping"], source="x.yaml")


def test_defaults_and_item_lookup() -> None:
    d = parse_definition(document([check("a")], [gate("g", 10)]))
    assert d.tenant_label == "tenant" and d.tenants_query is None
    assert d.display_name == "test_readiness"
    assert d.item("g").is_gate and not d.item("a").is_gate
    with pytest.raises(KeyError):
        d.item("zzz")


def test_minimum_coverage() -> None:
    assert load_definition().minimum_coverage == 0.5
    assert parse_definition(document([check("a")])).minimum_coverage == 0
    assert parse_definition(document([check("a")], minimumCoverage=1)).minimum_coverage == 1
    for bad, message in ((1.5, "must be in"), ("half", "must be a finite number")):
        with pytest.raises(ReadinessDefinitionError, match=rf"spec.minimumCoverage: {message}"):
            parse_definition(document([check("a")], minimumCoverage=bad))


def test_target() -> None:
    """The score the trend charts draw as a labelled line: optional, in (0, 100]."""
    assert load_definition().target == 90
    assert parse_definition(document([check("a")])).target is None
    assert parse_definition(document([check("a")], target=75)).target == 75
    for bad, message in ((0, "must be in"), (120, "must be in"), ("high", "must be a finite number")):
        with pytest.raises(ReadinessDefinitionError, match=rf"spec.target: {message}"):
            parse_definition(document([check("a")], target=bad))
