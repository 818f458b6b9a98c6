"""Domain dashboards declared as data: `queries/<domain>.yaml` holds named queries and one `dashboard`.

A domain file is an ordinary query file (see `app.queries`, whose catalogue skips the reserved top-level key
`dashboard`) plus the page's panels:

    latency_quantile:                     # a named query, as in every queries/*.yaml file
      backend: prometheus
      query: histogram_quantile({{quantile}}, sum by (route, le) (rate(…{route=~"{{route}}"}[{{window}}])))
      params: {quantile: {type: float}, route: {type: label_value}, window: {type: duration}}

    dashboard:
      title: Ingestion
      service: ingestion                  # traces link of every panel, unless a panel names its own
      services: [ingestion]               # incidents touching these services are drawn on the charts
      incidents: incidents                # named OpenSearch query of the incidents overlapping the range
      variables:                          # pickers that narrow every panel whose query has the param
        - {name: route, label: Route, query: route_values}       # values: a label-values style query
        - {name: document_type, label: Document type, values: [invoice, receipt]}  # or a fixed set
      names:                              # display names of label values: pickers, legends, tables
        document_type: {invoice: Invoice, bank_statement: Bank statement}
      panels:
        - id: latency
          title: Request latency
          description: …                  # shown on hover
          section: Requests               # panels are grouped under section headings, in order
          backend: prometheus
          query: latency_quantile         # a named query of this file; or inline: `expr` (PromQL) or
                                          # `body` + `index` (OpenSearch), with `params` declaring types
          series: {p50: {quantile: 0.5}, p95: {quantile: 0.95}}   # one query per series, these args
          args: {}                        # fixed values for every series
          legend: [route]                 # labels that name a series (default: all labels)
          kind: line                      # line | bar | stat | table
          unit: seconds
          thresholds: [{label: "SLO: 1 s", value: 1, good: below, where: {series: p99}, slo: x-latency}]
          slos: [ingestion-document-latency]   # SLOs this panel feeds (links to the SLO detail page)
          summary: true                   # line panels (default): one figure per series over the range
          zero: true                      # line panels (default): value axis from zero; false: near the data

Query parameters are filled in this order: `window` (a `rate()` window fitted to the chart step for `line`
panels, the whole range otherwise), `start` and `end` (the range), a page variable of the same name, the
panel's `args`/`series`, the declared default. A parameter left without a value is an error at load time.
A variable reaches PromQL only as a regex matcher, `label=~"{{name}}"`, so that "All" can be `.*` and a
picked value is regex-escaped here and then PromQL-escaped by `app.queries`: user text is never syntax.

`names` is the one place a label's values get their words (`bank_statement` is "Bank statement"): the
pickers offer them, legends, figures and tables show them; the URL, the queries and the thresholds' `where`
keep the raw values. A value without a name is shown as it is. Client firms (`tenant`) and secrets are named
once for every page, in `slo_definitions/directory.yaml` (`app.directory`), not here.

Every problem raises `PanelError` naming the file and the panel.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from app import directory, queries
from app.config import REPO_ROOT
from app.filecache import FileCache, UnreadableFile, read_yaml
from app.queries import CatalogueError, NamedQuery, ParamError, known_mapping
from app.slo.loader import cached_definitions

DASHBOARD_KEY = "dashboard"
KINDS = ("line", "bar", "stat", "table")
BACKENDS = ("prometheus", "opensearch")
UNITS = ("ratio", "seconds", "req/s", "count", "x", "docs/s", "jobs/s", "submissions/s", "ratings/s")
RESERVED_PARAMS = {"window": "duration", "start": "time", "end": "time"}
RESERVED_URL_KEYS = {"range", "refresh", "slo", "service"}  # used by page_setup and the linked pages

ALL = "__all__"
"""The variable value meaning "do not narrow"; matched as `.*`."""

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# fmt: off
_PANEL_KEYS = {
    "id", "title", "description", "section", "backend", "query", "expr", "body", "index", "params",
    "series", "args", "legend", "kind", "unit", "thresholds", "slos", "service", "width", "summary", "zero",
}
# fmt: on
_DASHBOARD_KEYS = {
    "title",
    "description",
    "service",
    "services",
    "incidents",
    "variables",
    "panels",
    "names",
}  # fmt: skip
_VARIABLE_KEYS = {"name", "label", "description", "query", "values"}
_THRESHOLD_KEYS = {"label", "value", "good", "where", "slo"}


class PanelError(ValueError):
    """A dashboard declaration is invalid; the message names the file and the panel."""


@dataclass(frozen=True)
class Threshold:
    label: str
    value: float
    good: Literal["above", "below"]
    where: tuple[tuple[str, str], ...] = ()  # applies only to series with these label values
    slo: str = ""  # the SLO whose objective this is: its figure is then judged by that SLO's state

    def applies(self, labels: Mapping[str, Any]) -> bool:
        return all(str(labels.get(name)) == value for name, value in self.where)

    def met(self, value: float) -> bool:
        return value >= self.value if self.good == "above" else value <= self.value


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    description: str = ""
    query: NamedQuery | None = None  # lists the label's values; None: `values` is the fixed set
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Panel:
    id: str
    title: str
    description: str
    backend: str
    query: NamedQuery
    kind: str
    unit: str
    series: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]  # (name, args) per query to run
    legend: tuple[str, ...] | None = None
    thresholds: tuple[Threshold, ...] = ()
    slos: tuple[str, ...] = ()
    service: str = ""
    section: str = ""
    width: Literal["half", "full"] = "half"
    variables: tuple[str, ...] = ()  # page variables that narrow this panel
    summary: bool = True  # line panels: also one figure per series over the whole range (or now)
    zero: bool = True  # line panels: the value axis starts at zero (false: near the data, e.g. accuracy)

    @property
    def ranged(self) -> bool:
        """Line panels ask for a curve over the range; the others for one figure over the whole range."""
        return self.kind == "line"

    def params(self, series: str, window: str, start: Any, end: Any, values: Mapping[str, str]) -> dict:
        """The arguments of one series' query: reserved parameters, variables, then fixed args."""
        args: dict[str, Any] = {}
        reserved = {"window": window, "start": start, "end": end}
        for name in self.query.params:
            if name in reserved:
                args[name] = reserved[name]
            elif name in self.variables:
                args[name] = variable_regex(values.get(name, ALL))
        args.update(dict(dict(self.series)[series]))
        return args


@dataclass(frozen=True)
class Dashboard:
    name: str  # the file's stem, e.g. "ingestion"
    title: str
    description: str
    service: str
    services: tuple[str, ...]
    variables: tuple[Variable, ...]
    panels: tuple[Panel, ...]
    incidents: NamedQuery | None = None
    source: str = ""
    queries: Mapping[str, NamedQuery] = field(default_factory=dict, repr=False)
    names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # label -> value -> display name

    def display(self, label: str, value: str) -> str:
        """A label value's display name, or the value itself when it has none."""
        return self.value_names().get(label, {}).get(value, value)

    def value_names(self) -> dict[str, Mapping[str, str]]:
        """label -> value -> display name: the file's `names`, over the shared ones of `app.directory`
        (client firms, secrets), so that a firm reads the same on every page."""
        shared = {label: directory.names(label) for label in directory.LABELS}
        return shared | {label: {**shared.get(label, {}), **own} for label, own in self.names.items()}

    def defaults(self) -> dict[str, str]:
        """Every variable at "All": the view a link without variables shows, and the one recorded."""
        return {variable.name: ALL for variable in self.variables}

    def sections(self) -> list[tuple[str, list[Panel]]]:
        grouped: dict[str, list[Panel]] = {}
        for panel in self.panels:
            grouped.setdefault(panel.section, []).append(panel)
        return list(grouped.items())


def variable_regex(value: str) -> str:
    """A picked variable value as an RE2 regex matching exactly it; `ALL` matches anything.

    Every ASCII character other than letters, digits and `_` is backslash-escaped (RE2 reads an escaped
    punctuation character as itself), so `.*` or `a|b` picked from a forged URL match only themselves."""
    if value == ALL:
        return ".*"
    return "".join("\\" + ch if ch.isascii() and not (ch.isalnum() or ch == "_") else ch for ch in value)


# -- loading ---------------------------------------------------------------------------------------------


def load_file(path: str | Path) -> Dashboard:
    """The dashboard of one domain file; raises `PanelError` naming the file and panel."""
    path = Path(path)
    try:
        document = read_yaml(path)
    except UnreadableFile as exc:
        raise PanelError(str(exc)) from None
    if not isinstance(document, dict) or not isinstance(document.get(DASHBOARD_KEY), dict):
        raise PanelError(f"{path}: expected named queries and a `{DASHBOARD_KEY}` mapping")
    try:
        named = {query.name: query for query in queries.load_file(path)}
    except CatalogueError as exc:
        raise PanelError(str(exc)) from None
    return _dashboard(path, document[DASHBOARD_KEY], named)


def is_dashboard_file(path: str | Path) -> bool:
    try:
        document = read_yaml(path)
    except UnreadableFile:
        return False
    return isinstance(document, dict) and DASHBOARD_KEY in document


def dashboard_files(directory: str | Path = queries.QUERIES_DIR) -> list[Path]:
    return [p for p in sorted(Path(directory).glob("*.yaml")) if is_dashboard_file(p)]


_dashboards = FileCache(load_file)


def dashboard(name: str, directory: str | Path = queries.QUERIES_DIR) -> Dashboard:
    """The dashboard of `queries/<name>.yaml`, re-read when the file changes."""
    return _dashboards.get(Path(directory) / f"{name}.yaml")


def _dashboard(path: Path, spec: dict[str, Any], named: dict[str, NamedQuery]) -> Dashboard:
    def fail(message: str) -> PanelError:
        return PanelError(f"{path}: dashboard: {message}")

    extra = set(spec) - _DASHBOARD_KEYS
    if extra:
        raise fail(f"unknown key(s) {sorted(extra)}")
    title = spec.get("title")
    service = spec.get("service")
    if not isinstance(title, str) or not title:
        raise fail("needs a title")
    if not isinstance(service, str) or not service:
        raise fail("needs a service (for the traces links)")
    services = spec.get("services", [service])
    if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
        raise fail("services must be a list of service names")
    incidents = None
    if spec.get("incidents") is not None:
        incidents = named.get(str(spec["incidents"]))
        if incidents is None or incidents.backend != "opensearch":
            raise fail(f"incidents must name an opensearch query, got {spec['incidents']!r}")
        missing = set(incidents.params) - {"start", "end"}
        if missing:
            raise fail(f"the incidents query may only take start and end, not {sorted(missing)}")
    variables = tuple(_variable(path, i, v, named) for i, v in enumerate(spec.get("variables") or []))
    names = [v.name for v in variables]
    if len(set(names)) != len(names):
        raise fail(f"variable names repeat: {names}")
    panel_specs = spec.get("panels")
    if not isinstance(panel_specs, list) or not panel_specs:
        raise fail("needs a list of panels")
    panels = tuple(_panel(path, i, p, named, variables, service) for i, p in enumerate(panel_specs))
    ids = [p.id for p in panels]
    if len(set(ids)) != len(ids):
        raise fail(f"panel ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
    return Dashboard(
        names=_names(spec.get("names"), fail),
        name=path.stem,
        title=title,
        description=str(spec.get("description") or ""),
        service=service,
        services=tuple(services),
        variables=variables,
        panels=panels,
        incidents=incidents,
        source=str(path),
        queries=named,
    )


def _names(spec: Any, fail: Callable[[str], PanelError]) -> dict[str, dict[str, str]]:
    """`names`: label -> {value: display name}, every name a non-empty string."""
    if spec is None:
        return {}
    if not isinstance(spec, dict) or not all(
        isinstance(label, str) and isinstance(values, dict) and values for label, values in spec.items()
    ):
        raise fail("names must map each label to a mapping of its values to their display names")
    for label, values in spec.items():
        blank = [str(v) for v, name in values.items() if not isinstance(name, str) or not name.strip()]
        if blank:
            raise fail(f"names.{label}: {', '.join(blank)} need a display name (a non-empty string)")
    return {label: {str(v): name for v, name in values.items()} for label, values in spec.items()}


def _variable(path: Path, index: int, spec: Any, named: dict[str, NamedQuery]) -> Variable:
    name = spec.get("name") if isinstance(spec, dict) else None

    def fail(message: str) -> PanelError:
        return PanelError(f"{path}: variable {name or index!r}: {message}")

    known_mapping(spec, _VARIABLE_KEYS, fail, "expected a mapping with name, label and query or values")
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise fail("name must be an identifier: it is the label name and the URL parameter")
    if name in RESERVED_URL_KEYS or name in RESERVED_PARAMS:
        raise fail(
            f"{name!r} is taken by the page (reserved: {sorted(RESERVED_URL_KEYS | set(RESERVED_PARAMS))})"
        )
    if ("query" in spec) == ("values" in spec):
        raise fail("give either query (a named label-values query) or values (a fixed set)")
    query = None
    values: tuple[str, ...] = ()
    if "query" in spec:
        query = named.get(str(spec["query"]))
        if query is None or query.backend != "prometheus":
            raise fail(f"query must name a prometheus query, got {spec['query']!r}")
        if set(query.params) - {"window"}:
            raise fail(
                f"a variable's query may only take window, not {sorted(set(query.params) - {'window'})}"
            )
    else:
        if not isinstance(spec["values"], list) or not spec["values"]:
            raise fail("values must be a non-empty list")
        values = tuple(str(v) for v in spec["values"])
    return Variable(name, str(spec.get("label") or name), str(spec.get("description") or ""), query, values)


def _panel(
    path: Path,
    index: int,
    spec: Any,
    named: dict[str, NamedQuery],
    variables: tuple[Variable, ...],
    default_service: str,
) -> Panel:
    panel_id = spec.get("id") if isinstance(spec, dict) else None

    def fail(message: str) -> PanelError:
        return PanelError(f"{path}: panel {panel_id or f'#{index + 1}'!r}: {message}")

    known_mapping(spec, _PANEL_KEYS, fail, "expected a mapping")
    if not isinstance(panel_id, str) or not _IDENTIFIER.match(panel_id):
        raise fail("id must be an identifier")
    for key in ("title", "description"):
        if not isinstance(spec.get(key), str) or not spec[key].strip():
            raise fail(f"missing {key}")
    backend = spec.get("backend")
    if backend not in BACKENDS:
        raise fail(f"unknown backend {backend!r}: a panel reads one of {list(BACKENDS)}")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise fail(f"unknown chart kind {kind!r}: use one of {list(KINDS)}")
    unit = spec.get("unit")
    if unit is None or unit == "":
        raise fail(f"missing unit: every number is shown with its unit (one of {list(UNITS)})")
    if unit not in UNITS:
        raise fail(f"unknown unit {unit!r}: use one of {list(UNITS)}")
    query = _panel_query(path, panel_id, spec, named, backend, fail)
    if kind == "line" and backend != "prometheus":
        raise fail("a line panel needs a prometheus query (a curve over the range)")
    variable_names = {v.name for v in variables}
    for name, param in query.params.items():
        if name in RESERVED_PARAMS and param.type != RESERVED_PARAMS[name]:
            raise fail(f"param {name!r} is filled in by the page and must have type {RESERVED_PARAMS[name]}")
    used = tuple(name for name in query.params if name in variable_names)
    _check_variable_use(query, used, fail)
    series = _series(spec, query, variable_names, fail)
    legend = spec.get("legend")
    if legend is not None and (not isinstance(legend, list) or not all(isinstance(x, str) for x in legend)):
        raise fail("legend must be a list of label names")
    slos = spec.get("slos") or []
    if not isinstance(slos, list) or not all(isinstance(s, str) and s for s in slos):
        raise fail("slos must be a list of SLO names")
    width = spec.get("width", "half")
    if width not in ("half", "full"):
        raise fail("width must be half or full")
    summary = spec.get("summary", kind == "line")
    zero = spec.get("zero", True)
    if not isinstance(summary, bool) or not isinstance(zero, bool):
        raise fail("summary and zero must be true or false")
    return Panel(
        id=panel_id,
        title=spec["title"].strip(),
        description=" ".join(spec["description"].split()),
        backend=backend,
        query=query,
        kind=kind,
        unit=unit,
        series=series,
        legend=tuple(legend) if legend is not None else None,
        thresholds=tuple(_threshold(t, fail, slos) for t in spec.get("thresholds") or []),
        slos=tuple(slos),
        service=str(spec.get("service") or default_service),
        section=str(spec.get("section") or ""),
        width=width,
        variables=used,
        summary=summary,
        zero=zero,
    )


def _panel_query(
    path: Path, panel_id: str, spec: dict[str, Any], named: dict[str, NamedQuery], backend: str, fail: Any
) -> NamedQuery:
    given = [key for key in ("query", "expr", "body") if key in spec]
    if len(given) != 1:
        raise fail("give exactly one of query (a named query), expr (PromQL) or body (OpenSearch)")
    if given == ["query"]:
        if "params" in spec or "index" in spec:
            raise fail("params and index belong to the named query, not to a panel that names it")
        query = named.get(str(spec["query"]))
        if query is None:
            raise fail(f"no named query {spec['query']!r} in this file (have: {sorted(named)})")
        if query.backend != backend:
            raise fail(f"backend {backend!r} differs from the query's {query.backend!r}")
        return query
    if (given == ["expr"]) != (backend == "prometheus"):
        raise fail("inline queries: expr for prometheus, body (with index) for opensearch")
    declaration: dict[str, Any] = {
        "backend": backend,
        "query": spec[given[0]],
        "params": spec.get("params") or {},
    }
    if backend == "prometheus":
        declaration["kind"] = "instant"
    else:
        declaration["kind"] = "search"
        declaration["index"] = spec.get("index")
    try:
        return queries._declaration(path, f"panel {panel_id}", declaration)
    except CatalogueError as exc:
        raise fail(str(exc).split(": ", 1)[-1]) from None


def _check_variable_use(query: NamedQuery, used: tuple[str, ...], fail: Any) -> None:
    """A variable narrows a panel only as a regex label matcher, so that "All" can be expressed."""
    for name in used:
        param = query.params[name]
        if param.type != "label_value":
            raise fail(f"variable {name!r} must be a label_value param, not {param.type}")
        if query.backend != "prometheus":
            raise fail(f"variable {name!r}: only prometheus panels can be narrowed by a variable")
        for match in queries.PLACEHOLDER.finditer(query.query):
            before = query.query[: match.start()]
            if match.group(1) == name and not before[:-1].rstrip().endswith("=~"):
                raise fail(f'variable {name!r} must be used as a regex matcher: label=~"{{{{{name}}}}}"')


def _series(spec: dict[str, Any], query: NamedQuery, variables: set[str], fail: Any) -> tuple:
    args = spec.get("args") or {}
    series = spec.get("series") or {"": {}}
    if not isinstance(args, dict) or not isinstance(series, dict):
        raise fail("args and series must be mappings")
    out = []
    for name, extra in series.items():
        if not isinstance(extra, dict):
            raise fail(f"series {name!r}: expected a mapping of query arguments")
        merged = {**args, **extra}
        for key, value in merged.items():
            param = query.params.get(key)
            if param is None:
                raise fail(f"series {name or 'args'!r}: {key!r} is not a param of query {query.name!r}")
            if key in RESERVED_PARAMS or key in variables:
                raise fail(f"series {name or 'args'!r}: {key!r} is filled in by the page")
            try:
                merged[key] = param.check(value, query.where)
            except ParamError as exc:
                raise fail(str(exc)) from None
        for key, param in query.params.items():
            filled = key in RESERVED_PARAMS or key in variables or key in merged or param.default is not None
            if not filled:
                raise fail(
                    f"param {key!r} of query {query.name!r} is undeclared: not a page variable "
                    f"({sorted(variables)}), not window/start/end, and not given in args or series"
                )
        out.append((str(name), tuple(sorted(merged.items()))))
    return tuple(out)


def _threshold(spec: Any, fail: Any, slos: list[str]) -> Threshold:
    if not isinstance(spec, dict) or set(spec) - _THRESHOLD_KEYS:
        raise fail(f"a threshold is a mapping of {sorted(_THRESHOLD_KEYS)}, got {spec!r}")
    value = spec.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(f"threshold {spec.get('label')!r}: value must be a number")
    if spec.get("good") not in ("above", "below"):
        raise fail(f"threshold {spec.get('label')!r}: good must be above or below")
    if not isinstance(spec.get("label"), str) or not spec["label"]:
        raise fail("a threshold needs a label, in words")
    where = spec.get("where") or {}
    if not isinstance(where, dict):
        raise fail(f"threshold {spec['label']!r}: where must map label names to values")
    slo = spec.get("slo") or ""
    if slo and slo not in slos:
        raise fail(f"threshold {spec['label']!r}: slo {slo!r} is not one of the panel's slos {slos}")
    return Threshold(
        spec["label"],
        float(value),
        spec["good"],
        tuple(sorted((str(k), str(v)) for k, v in where.items())),
        slo,
    )


# -- linked SLOs -----------------------------------------------------------------------------------------

SLO_DIR = REPO_ROOT / "slo_definitions"


def _slo_titles(directory: Path) -> dict[str, str]:
    return {d.name: d.title for d in cached_definitions(directory).definitions}


def slo_periods(directory: str | Path = SLO_DIR) -> dict[str, str]:
    """Name → period ("30d", "calendar month") of every SLO `known_slos` lists: a panel's figure over the
    page's range is judged by its SLO over that period, and a badge says which."""
    path = Path(directory)
    return {d.name: d.window.label for d in cached_definitions(path).definitions} if path.is_dir() else {}


def known_slos(directory: str | Path = SLO_DIR) -> dict[str, str]:
    """Name → title of every SLO defined in `slo_definitions/` that loads without error: the SLOs a panel
    can link to. Re-read when a file there changes."""
    path = Path(directory)
    return _slo_titles(path) if path.is_dir() else {}
