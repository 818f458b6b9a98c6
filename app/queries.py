"""Named queries as data: `queries/<group>.yaml`, rendered with typed, escaped parameters.

Each file maps query names to a declaration:

    error_ratio:
      backend: prometheus          # prometheus | opensearch | jaeger
      kind: range                  # optional; prometheus: instant|range, opensearch: search|search_all|count,
                                   # jaeger: search
      description: …               # optional
      index: logs-*                # opensearch only
      query: …                     # prometheus: a PromQL template string;
                                   # opensearch: the DSL body; jaeger: JaegerClient.search keyword arguments
      params:
        tenant: {type: label_value}
        metrics: {type: label_values}   # a list: `__name__=~"{{metrics}}"` matches exactly one of them
        window: {type: duration, default: 5m}
        agg: {type: enum, values: [sum, max]}
        q: {type: float, min: 0, max: 1}

Placeholders are `{{name}}`. A value reaches a query only through the escape rule of its backend:

- PromQL: a `label_value` must sit alone inside double quotes (`tenant="{{tenant}}"`) and is escaped there
  (backslash, double quote, newline, carriage return), so `a"} or vector(1) #` stays one inert string.
  `label_values` (a list of texts) sits the same way after `=~` and becomes an alternation of the values,
  each escaped as a regular expression first, so it matches exactly those values.
  Durations must match `^[0-9]+(ms|s|m|h|d|w|y)$`, numbers are formatted from real numbers, enums come
  from the declared list, times become Unix seconds.
- OpenSearch and Jaeger: a placeholder must be a whole string value in the structure (`"{{tenant}}"`) and
  is replaced by the typed value itself — never spliced into a string — so user text can only ever be a
  JSON value in the DSL or one query parameter.

Load problems raise `CatalogueError` naming the file and query; bad parameter values raise `ParamError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from app.config import REPO_ROOT
from app.filecache import FileCache, UnreadableFile, read_yaml
from app.times import rfc3339, to_utc

QUERIES_DIR = REPO_ROOT / "queries"

KINDS = {
    "prometheus": {"instant", "range"},
    "opensearch": {"search", "search_all", "count"},
    "jaeger": {"search"},
}
PARAM_TYPES = {"label_value", "label_values", "duration", "int", "float", "enum", "time"}
_DECLARATION_KEYS = {"backend", "kind", "description", "index", "query", "params"}
_PARAM_KEYS = {"type", "default", "values", "min", "max", "description"}

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
DURATION = re.compile(r"^[0-9]+(ms|s|m|h|d|w|y)$")
_PROMQL_ENUM_VALUE = re.compile(r"^[A-Za-z0-9_:.]+$")


class CatalogueError(ValueError):
    """A query file is malformed; the message names the file and the query."""


class ParamError(ValueError):
    """A parameter value does not fit its declared type; the message names the query and parameter."""


# -- escaping: one function per backend ------------------------------------------------------------------


def escape_promql_string(value: str) -> str:
    """The inside of a double-quoted PromQL string holding `value` exactly."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


def promql_value(param: Param, value: Any, *, quoted: bool) -> str:
    """The text standing for a checked value in PromQL; only label values may carry free text."""
    if quoted and param.type == "label_values":
        return escape_promql_string("|".join(re.escape(v) for v in value))
    if quoted:
        return escape_promql_string(str(value))
    if param.type == "time":
        return f"{value.timestamp():.3f}"
    return str(value)


def structure_value(param: Param, value: Any, backend: str) -> Any:
    """The JSON value (OpenSearch) or keyword-argument value (Jaeger) standing for a checked value.

    Jaeger gets datetimes and timedeltas, which `JaegerClient` encodes for the wire itself; OpenSearch gets
    ISO 8601 times and duration text."""
    if param.type == "time" and backend == "opensearch":
        return rfc3339(value)
    if param.type == "label_values":
        return list(value)
    if param.type == "duration" and backend == "jaeger":
        return duration_timedelta(value)
    return value


_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


def duration_timedelta(text: str) -> timedelta:
    """A checked PromQL-style duration (`5m`, `1d`) as a timedelta."""
    match = DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r}")
    return timedelta(seconds=int(text[: match.start(1)]) * _UNIT_SECONDS[match.group(1)])


# -- declarations ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any = None
    values: tuple[Any, ...] = ()
    min: float | None = None
    max: float | None = None

    def check(self, value: Any, where: str) -> Any:
        """The value converted to this parameter's type, or `ParamError`."""
        problem = f"{where}: param {self.name!r} ({self.type})"
        if self.type == "label_value":
            if not isinstance(value, str):
                raise ParamError(f"{problem}: expected text, got {type(value).__name__}")
            return value
        if self.type == "label_values":
            if isinstance(value, str) or not all(isinstance(v, str) for v in value or [None]):
                raise ParamError(f"{problem}: expected a non-empty list of texts")
            return tuple(value)
        if self.type == "duration":
            if isinstance(value, timedelta):
                value = _duration_text(value)
            if not isinstance(value, str) or not DURATION.match(value):
                raise ParamError(f"{problem}: {value!r} is not a duration like 5m or 300s")
            return value
        if self.type in ("int", "float"):
            return self._number(value, problem)
        if self.type == "enum":
            if value not in self.values:
                raise ParamError(f"{problem}: {value!r} is not one of {list(self.values)}")
            return value
        if not isinstance(value, datetime):
            raise ParamError(f"{problem}: expected a datetime, got {type(value).__name__}")
        return to_utc(value)

    def _number(self, value: Any, problem: str) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParamError(f"{problem}: expected a number, got {type(value).__name__}")
        if self.type == "int" and not float(value).is_integer():
            raise ParamError(f"{problem}: {value!r} is not a whole number")
        number: int | float = int(value) if self.type == "int" else float(value)
        if not math.isfinite(number):
            raise ParamError(f"{problem}: {value!r} is not finite")
        if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
            raise ParamError(f"{problem}: {value!r} is outside [{self.min}, {self.max}]")
        return number


def _duration_text(value: timedelta) -> str:
    milliseconds = value // timedelta(milliseconds=1)
    return f"{milliseconds // 1000}s" if milliseconds % 1000 == 0 else f"{milliseconds}ms"


@dataclass(frozen=True)
class NamedQuery:
    group: str
    name: str
    backend: str
    kind: str | None
    query: Any  # PromQL template text, or a structure with placeholders
    params: Mapping[str, Param] = field(default_factory=dict)
    index: str | None = None
    description: str = ""
    source: str = ""  # the file it came from

    @property
    def where(self) -> str:
        return f"{self.group}.{self.name}"

    def render(self, **values: Any) -> RenderedQuery:
        unknown = set(values) - set(self.params)
        if unknown:
            raise ParamError(f"{self.where}: unknown param(s) {sorted(unknown)}")
        checked = {}
        for name, param in self.params.items():
            if name in values:
                checked[name] = param.check(values[name], self.where)
            elif param.default is not None:
                checked[name] = param.check(param.default, self.where)
            else:
                raise ParamError(f"{self.where}: param {name!r} is required")
        if self.backend == "prometheus":
            text = _render_promql(self.query, self.params, checked)
            return RenderedQuery(self.group, self.name, self.backend, self.kind, text, self.index)
        body = _render_structure(self.query, self.params, checked, self.backend)
        return RenderedQuery(self.group, self.name, self.backend, self.kind, body, self.index)


@dataclass(frozen=True)
class RenderedQuery:
    group: str
    name: str
    backend: str
    kind: str | None
    query: Any  # PromQL text; OpenSearch body; Jaeger search keyword arguments
    index: str | None = None

    @property
    def target_index(self) -> str:
        """The index an OpenSearch query searches (its file is refused at load when one has none)."""
        if self.index is None:
            raise ValueError(f"{self.group}.{self.name} names no index")
        return self.index


def _render_promql(template: str, params: Mapping[str, Param], values: Mapping[str, Any]) -> str:
    def substitute(match: re.Match[str]) -> str:
        quoted = _is_quoted(template, match)
        return promql_value(params[match.group(1)], values[match.group(1)], quoted=quoted)

    return PLACEHOLDER.sub(substitute, template)


def _is_quoted(template: str, match: re.Match[str]) -> bool:
    return (
        match.start() > 0
        and template[match.start() - 1] == '"'
        and template[match.end() : match.end() + 1] == '"'
    )


def _render_structure(node: Any, params: Mapping[str, Param], values: Mapping[str, Any], backend: str) -> Any:
    if isinstance(node, str):
        match = PLACEHOLDER.fullmatch(node.strip())
        if match:
            return structure_value(params[match.group(1)], values[match.group(1)], backend)
        return node
    if isinstance(node, dict):
        return {k: _render_structure(v, params, values, backend) for k, v in node.items()}
    if isinstance(node, list):
        return [_render_structure(v, params, values, backend) for v in node]
    return node


# -- loading ---------------------------------------------------------------------------------------------


class Catalogue:
    """Every named query of a directory, by (group, name); the group is the file's stem."""

    def __init__(self, queries: Mapping[tuple[str, str], NamedQuery]) -> None:
        self._queries = dict(queries)

    def get(self, group: str, name: str) -> NamedQuery:
        try:
            return self._queries[(group, name)]
        except KeyError:
            raise KeyError(f"no query {name!r} in queries/{group}.yaml") from None

    def names(self, group: str | None = None) -> list[tuple[str, str]]:
        return sorted(key for key in self._queries if group is None or key[0] == group)

    def __len__(self) -> int:
        return len(self._queries)


RESERVED_KEYS = frozenset({"dashboard"})
"""Top-level keys of a queries file that are not queries: `dashboard` holds the panels (dashboards/spec)."""


def load_catalogue(directory: str | Path = QUERIES_DIR) -> Catalogue:
    queries: dict[tuple[str, str], NamedQuery] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        for query in load_file(path):
            queries[(query.group, query.name)] = query
    return Catalogue(queries)


def load_file(path: str | Path) -> list[NamedQuery]:
    path = Path(path)
    try:
        document = read_yaml(path)
    except UnreadableFile as exc:
        raise CatalogueError(str(exc)) from None
    if document is None:
        return []
    if not isinstance(document, dict):
        raise CatalogueError(f"{path}: expected a mapping of query names to declarations")
    declared = {name: spec for name, spec in document.items() if name not in RESERVED_KEYS}
    return [_declaration(path, str(name), spec) for name, spec in declared.items()]


def known_mapping(
    spec: Any, allowed: Collection[str], fail: Callable[[str], Exception], expected: str
) -> None:
    """Raise `fail(...)` (its message names the file and the entry) unless `spec` is a mapping whose keys
    are all `allowed`: the first check of every entry of a definition file."""
    if not isinstance(spec, dict):
        raise fail(expected)
    extra = set(spec) - set(allowed)
    if extra:
        raise fail(f"unknown key(s) {sorted(extra)}")


def _declaration(path: Path, name: str, spec: Any) -> NamedQuery:
    def fail(message: str) -> CatalogueError:
        return CatalogueError(f"{path}: query {name!r}: {message}")

    known_mapping(spec, _DECLARATION_KEYS, fail, "expected a mapping with backend, query and params")
    backend = spec.get("backend")
    if backend not in KINDS:
        raise fail(f"backend must be one of {sorted(KINDS)}, got {backend!r}")
    kind = spec.get("kind")
    if kind is not None and kind not in KINDS[backend]:
        raise fail(f"kind {kind!r} is not one of {sorted(KINDS[backend])} for {backend}")
    if "query" not in spec:
        raise fail("missing query")
    params = {str(p): _param(fail, str(p), decl) for p, decl in (spec.get("params") or {}).items()}
    query = spec["query"]
    if backend == "prometheus":
        _check_promql(fail, query, params)
    else:
        _check_structure(fail, query, params)
    index = spec.get("index")
    if backend == "opensearch" and not isinstance(index, str):
        raise fail("an opensearch query needs an index")
    return NamedQuery(
        path.stem, name, backend, kind, query, params, index, str(spec.get("description", "")), str(path)
    )


def _param(fail: Any, name: str, decl: Any) -> Param:
    if not isinstance(decl, dict) or decl.get("type") not in PARAM_TYPES:
        raise fail(f"param {name!r}: type must be one of {sorted(PARAM_TYPES)}")
    extra = set(decl) - _PARAM_KEYS
    if extra:
        raise fail(f"param {name!r}: unknown key(s) {sorted(extra)}")
    values = tuple(decl.get("values") or ())
    if decl["type"] == "enum" and not values:
        raise fail(f"param {name!r}: an enum needs values")
    param = Param(name, decl["type"], decl.get("default"), values, decl.get("min"), decl.get("max"))
    if param.default is not None:
        try:
            param.check(param.default, name)
        except ParamError as exc:
            raise fail(f"bad default: {exc}") from None
    return param


def _check_used(fail: Any, used: set[str], params: Mapping[str, Param]) -> None:
    if used - set(params):
        raise fail(f"placeholder(s) {sorted(used - set(params))} not declared in params")
    if set(params) - used:
        raise fail(f"param(s) {sorted(set(params) - used)} not used in the query")


def _check_promql(fail: Any, query: Any, params: Mapping[str, Param]) -> None:
    if not isinstance(query, str):
        raise fail("a prometheus query must be text")
    used = set()
    for match in PLACEHOLDER.finditer(query):
        name = match.group(1)
        used.add(name)
        param = params.get(name)
        if param is None:
            continue
        quoted = _is_quoted(query, match)
        if param.type in ("label_value", "label_values") and not quoted:
            raise fail(f'{param.type} {name!r} must stand alone inside double quotes: "{{{{{name}}}}}"')
        bare_enum = param.type == "enum" and not quoted
        if bare_enum and not all(_PROMQL_ENUM_VALUE.match(str(v)) for v in param.values):
            raise fail(f"enum {name!r} outside quotes may only hold identifiers and numbers")
    _check_used(fail, used, params)


def _check_structure(fail: Any, query: Any, params: Mapping[str, Param]) -> None:
    used: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found = PLACEHOLDER.findall(node)
            if found and not PLACEHOLDER.fullmatch(node.strip()):
                raise fail(f"placeholder in {node!r} must be the whole value, never part of a string")
            used.update(found)
        elif isinstance(node, dict):
            for key, value in node.items():
                if PLACEHOLDER.search(str(key)):
                    raise fail(f"placeholder in key {key!r}: only values can be parameters")
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    if not isinstance(query, dict):
        raise fail("an opensearch or jaeger query must be a mapping")
    walk(query)
    _check_used(fail, used, params)


_catalogues = FileCache(load_catalogue, suffixes=(".yaml",))


def catalogue(directory: str | Path = QUERIES_DIR) -> Catalogue:
    """The catalogue of `directory`, re-read when a file there changes (cheap: one stat per file)."""
    return _catalogues.get(directory)


def render(group: str, name: str, /, **params: Any) -> Any:
    """The rendered query of `queries/<group>.yaml` → `name`: PromQL text, an OpenSearch body, or Jaeger
    search keyword arguments. Use `render_query` for the index and kind too."""
    return render_query(group, name, **params).query


def render_query(group: str, name: str, /, **params: Any) -> RenderedQuery:
    return catalogue().get(group, name).render(**params)
