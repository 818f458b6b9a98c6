"""Named-query catalogue: loading checks, typed parameters, and escaping that keeps injections inert."""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from app import queries
from app.queries import CatalogueError, ParamError, escape_promql_string, load_catalogue, load_file

INJECTION = 'a"} or vector(1) #'


def write(tmp_path, name, text):
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def catalogue(tmp_path):
    write(
        tmp_path,
        "tenants",
        """
        backlog:
          backend: prometheus
          kind: instant
          description: Documents waiting for one tenant.
          query: 'sum by (tenant) (tenant_backlog_documents{tenant="{{ tenant }}"}) > {{min}}'
          params:
            tenant: {type: label_value}
            min: {type: int, default: 0, min: 0}
        rate:
          backend: prometheus
          query: '{{agg}}(rate(http_requests_total{service="{{service}}"}[{{window}}])) @ {{at}} * {{scale}}'
          params:
            agg: {type: enum, values: [sum, max]}
            service: {type: label_value}
            window: {type: duration, default: 5m}
            at: {type: time}
            scale: {type: float, min: 0, max: 100}
        errors:
          backend: opensearch
          kind: search
          index: logs-*
          query:
            size: "{{size}}"
            query:
              bool:
                filter:
                  - term: {tenant: "{{tenant}}"}
                  - range: {"@timestamp": {gte: "{{since}}"}}
          params:
            tenant: {type: label_value}
            since: {type: time}
            size: {type: int, default: 20}
        slow:
          backend: jaeger
          kind: search
          query:
            service: filing
            tags: {tenant: "{{tenant}}"}
            min_duration: "{{slower_than}}"
            limit: "{{limit}}"
          params:
            tenant: {type: label_value}
            slower_than: {type: duration}
            limit: {type: int, default: 20}
        """,
    )
    return load_catalogue(tmp_path)


def test_promql_label_value_injection_stays_inside_the_string(catalogue):
    text = catalogue.get("tenants", "backlog").render(tenant=INJECTION).query
    assert text == 'sum by (tenant) (tenant_backlog_documents{tenant="a\\"} or vector(1) #"}) > 0'
    # The escaped value reads back as the original string: one matcher, nothing executable.
    inside = text.split('tenant="', 1)[1].rsplit('"})', 1)[0]
    assert inside.encode().decode("unicode_escape") == INJECTION


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("plain", "plain"),
        ('q"uote', 'q\\"uote'),
        ("back\\slash", "back\\\\slash"),
        ("new\nline\r", "new\\nline\\r"),
        ('\\"', '\\\\\\"'),
    ],
)
def test_escape_promql_string(value, escaped):
    assert escape_promql_string(value) == escaped


def test_typed_promql_params(catalogue):
    at = datetime(2024, 3, 1, 12, tzinfo=UTC)
    text = (
        catalogue.get("tenants", "rate")
        .render(agg="max", service="gateway", window=timedelta(minutes=10), at=at, scale=2)
        .query
    )
    assert text == f'max(rate(http_requests_total{{service="gateway"}}[600s])) @ {at.timestamp():.3f} * 2.0'
    assert "[5m]" in catalogue.get("tenants", "rate").render(agg="sum", service="x", at=at, scale=1).query
    naive = catalogue.get("tenants", "rate").render(
        agg="sum", service="x", at=datetime(2024, 3, 1, 12), scale=1
    )
    assert f"@ {at.timestamp():.3f}" in naive.query


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"window": "5 minutes"}, "not a duration"),
        ({"window": "5m) or vector(1"}, "not a duration"),
        ({"window": timedelta(milliseconds=1500)}, None),
        ({"agg": "count"}, "not one of"),
        ({"agg": "sum) or vector(1) #"}, "not one of"),
        ({"service": 5}, "expected text"),
        ({"scale": "2"}, "expected a number"),
        ({"scale": True}, "expected a number"),
        ({"scale": float("nan")}, "not finite"),
        ({"scale": 101}, "outside"),
        ({"at": "2024-03-01"}, "expected a datetime"),
        ({"extra": 1}, "unknown param"),
    ],
)
def test_bad_param_values_are_refused_with_the_query_name(catalogue, params, message):
    base = {"agg": "sum", "service": "x", "at": datetime(2024, 3, 1, tzinfo=UTC), "scale": 1.0}
    query = catalogue.get("tenants", "rate")
    if message is None:
        assert "[1500ms]" in query.render(**{**base, **params}).query
        return
    with pytest.raises(ParamError, match=message) as caught:
        query.render(**{**base, **params})
    assert "tenants.rate" in str(caught.value)


def test_int_params_must_be_whole_and_required_params_present(catalogue):
    query = catalogue.get("tenants", "backlog")
    assert query.render(tenant="x", min=3.0).query.endswith("> 3")
    with pytest.raises(ParamError, match="whole number"):
        query.render(tenant="x", min=2.5)
    with pytest.raises(ParamError, match="outside"):
        query.render(tenant="x", min=-1)
    with pytest.raises(ParamError, match="'tenant' is required"):
        query.render()


def test_opensearch_values_are_json_values_in_the_structure(catalogue):
    since = datetime(2024, 3, 1, 12, tzinfo=UTC)
    rendered = catalogue.get("tenants", "errors").render(tenant=INJECTION, since=since)
    assert rendered.backend == "opensearch" and rendered.kind == "search" and rendered.index == "logs-*"
    assert rendered.query == {
        "size": 20,
        "query": {
            "bool": {
                "filter": [
                    {"term": {"tenant": INJECTION}},
                    {"range": {"@timestamp": {"gte": "2024-03-01T12:00:00Z"}}},
                ]
            }
        },
    }
    again = catalogue.get("tenants", "errors").render(tenant="b", since=since)
    assert again.query["query"]["bool"]["filter"][0] == {"term": {"tenant": "b"}}  # the template is untouched


def test_jaeger_params_become_search_arguments(catalogue):
    rendered = catalogue.get("tenants", "slow").render(tenant='x"}', slower_than="2s")
    assert rendered.query == {
        "service": "filing",
        "tags": {"tenant": 'x"}'},
        "min_duration": timedelta(seconds=2),
        "limit": 20,
    }


def test_catalogue_lookup_and_names(catalogue):
    assert len(catalogue) == 4
    assert catalogue.names("tenants")[0] == ("tenants", "backlog")
    assert catalogue.get("tenants", "backlog").description == "Documents waiting for one tenant."
    with pytest.raises(KeyError, match="no query 'nope' in queries/tenants.yaml"):
        catalogue.get("tenants", "nope")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("q: [1, 2", "not valid YAML"),
        ("- a\n- b", "expected a mapping of query names"),
        ("q: 5", "expected a mapping with backend"),
        ("q: {backend: graphite, query: x}", "backend must be one of"),
        ("q: {backend: prometheus, kind: search, query: x}", "kind 'search' is not one of"),
        ("q: {backend: prometheus}", "missing query"),
        ("q: {backend: prometheus, query: x, colour: red}", "unknown key"),
        ("q: {backend: prometheus, query: '{{a}}'}", r"placeholder\(s\) \['a'\] not declared"),
        ("q: {backend: prometheus, query: x, params: {a: {type: duration}}}", r"param\(s\) \['a'\] not used"),
        (
            "q: {backend: prometheus, query: 'x{t={{t}}}', params: {t: {type: label_value}}}",
            "inside double quotes",
        ),
        (
            "q: {backend: prometheus, query: 'x{t=\"p{{t}}\"}', params: {t: {type: label_value}}}",
            "inside double",
        ),
        ("q: {backend: prometheus, query: '{{t}}', params: {t: {type: string}}}", "type must be one of"),
        ("q: {backend: prometheus, query: '{{t}}', params: {t: {type: enum}}}", "an enum needs values"),
        ("q: {backend: prometheus, query: '{{t}}', params: {t: {type: int, dflt: 1}}}", "unknown key"),
        (
            "q: {backend: prometheus, query: '{{t}}', params: {t: {type: duration, default: 5min}}}",
            "bad default",
        ),
        (
            "q: {backend: prometheus, query: '{{t}}', params: {t: {type: enum, values: ['a b']}}}",
            "identifiers",
        ),
        ("q: {backend: prometheus, query: {a: 1}}", "must be text"),
        ("q: {backend: opensearch, query: {size: 0}}", "needs an index"),
        ("q: {backend: opensearch, index: x, query: 'text'}", "must be a mapping"),
        (
            "q: {backend: opensearch, index: x, query: {q: 't:{{t}}'}, params: {t: {type: label_value}}}",
            "whole value",
        ),
        (
            "q: {backend: jaeger, query: {tags: {'{{t}}': x}}, params: {t: {type: label_value}}}",
            "only values can be parameters",
        ),
    ],
)
def test_malformed_files_name_the_file_and_query(tmp_path, text, message):
    path = write(tmp_path, "broken", text)
    with pytest.raises(CatalogueError, match=message) as caught:
        load_file(path)
    assert str(path) in str(caught.value)
    if "q:" in text and "not valid YAML" not in message and "names" not in message:
        assert "query 'q'" in str(caught.value)


def test_empty_file_has_no_queries(tmp_path):
    assert load_file(write(tmp_path, "empty", "")) == []


def test_quoted_enum_is_escaped_like_a_label_value(tmp_path):
    write(
        tmp_path,
        "e",
        """q: {backend: prometheus, query: 'x{a="{{v}}"}', params: {v: {type: enum, values: ['a"b']}}}""",
    )
    assert load_catalogue(tmp_path).get("e", "q").render(v='a"b').query == 'x{a="a\\"b"}'


def test_catalogue_is_reloaded_when_a_file_changes(tmp_path):
    path = write(tmp_path, "g", "q: {backend: prometheus, query: up}")
    assert queries.catalogue(tmp_path).get("g", "q").query == "up"
    assert queries.catalogue(tmp_path) is queries.catalogue(tmp_path)
    path.write_text("q: {backend: prometheus, query: down}")
    import os

    os.utime(path, ns=(1, 1))
    assert queries.catalogue(tmp_path).get("g", "q").query == "down"


def test_repository_catalogue_loads_and_renders():
    catalogue = load_catalogue()
    assert len(catalogue) > 0
    text = queries.render("service_health", "error_ratio", window="5m")
    assert "[5m]" in text and "{{" not in text
    rendered = queries.render_query("service_health", "latency_quantile", quantile=0.95, window="1h")
    assert rendered.query.startswith("histogram_quantile(0.95,")


NAMES_QUERY = "q: {backend: prometheus, query: '%s', params: {names: {type: label_values}}}"


def test_label_values_match_exactly_the_values_given(tmp_path):
    (tmp_path / "names.yaml").write_text(NAMES_QUERY % 'count({__name__=~"{{names}}"})')
    query = load_catalogue(tmp_path).get("names", "q")
    hostile = 'a.b"} or vector(1) #'
    text = query.render(names=["http_requests_total", hostile]).query
    # Each value escaped as a regular expression (the dot matches only a dot), then as a PromQL string.
    escaped = 'a\\\\.b\\"\\\\}\\\\ or\\\\ vector\\\\(1\\\\)\\\\ \\\\#'
    assert text == f'count({{__name__=~"http_requests_total|{escaped}"}})'
    inside = text.split('=~"', 1)[1].rsplit('"})', 1)[0].encode().decode("unicode_escape")
    matched = [bool(re.fullmatch(inside, v)) for v in ("http_requests_total", hostile, "aXb")]
    assert matched == [True, True, False]
    for bad in ("one text", [], [1]):
        with pytest.raises(ParamError, match="non-empty list of texts"):
            query.render(names=bad)


def test_label_values_must_stand_alone_inside_quotes(tmp_path):
    (tmp_path / "names.yaml").write_text(NAMES_QUERY % "count({__name__=~{{names}}})")
    with pytest.raises(CatalogueError, match="label_values 'names' must stand alone inside double quotes"):
        load_catalogue(tmp_path)
