"""Cheap checks of SLI queries, and the optional check by Prometheus itself.

The local check catches what breaks most hand-written queries (a missing `{{.window}}`, an unclosed bracket
or quote) without a server. When a Prometheus is reachable, `prometheus_validator` asks its `format_query`
API, which runs the real parser, so a definition can never reach the rule file with PromQL Prometheus
would refuse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

WINDOW_PLACEHOLDER = re.compile(r"\{\{\s*\.window\s*\}\}")
_ANY_TEMPLATE = re.compile(r"\{\{.*?\}\}")
_PAIRS = {")": "(", "]": "[", "}": "{"}

Validator = Callable[[str], str | None]
"""Takes a rendered query, returns what is wrong with it or None."""


class FormatsQueries(Protocol):
    def format_query(self, query: str) -> str: ...


def render(query: str, window: str) -> str:
    """Put a Prometheus duration in place of every `{{.window}}`."""
    return WINDOW_PLACEHOLDER.sub(window, query)


def local_problems(query: object) -> list[str]:
    """What is wrong with `query` as an SLI template, found without a server (empty list: nothing)."""
    if not isinstance(query, str) or not query.strip():
        return ["the query is empty"]
    problems = []
    if not WINDOW_PLACEHOLDER.search(query):
        problems.append("the query has no {{.window}} placeholder for the range, e.g. rate(x[{{.window}}])")
    others = [t for t in _ANY_TEMPLATE.findall(query) if not WINDOW_PLACEHOLDER.fullmatch(t)]
    if others:
        problems.append(f"unknown template {others[0]}: only {{{{.window}}}} is supported")
    bracket = _bracket_problem(WINDOW_PLACEHOLDER.sub("5m", query))
    if bracket:
        problems.append(bracket)
    return problems


def _bracket_problem(text: str) -> str | None:
    """Unbalanced (), [], {} or an unclosed string, ignoring brackets inside string literals and comments."""
    stack: list[tuple[str, int]] = []
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote != "`":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'`":
            quote = ch
            start_quote = i
        elif ch == "#":
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
            continue
        elif ch in "([{":
            stack.append((ch, i))
        elif ch in ")]}":
            if not stack or stack[-1][0] != _PAIRS[ch]:
                return f"unexpected {ch!r} at character {i + 1}"
            stack.pop()
        i += 1
    if quote:
        return f"string opened at character {start_quote + 1} is never closed"
    if stack:
        ch, pos = stack[-1]
        return f"{ch!r} opened at character {pos + 1} is never closed"
    return None


def prometheus_validator(client: FormatsQueries) -> Validator | None:
    """A validator backed by Prometheus's `format_query`, or None when Prometheus cannot be reached (the
    local checks still run). One probe decides, so an unreachable server costs one timeout, not one per
    query."""
    # here, not at the top: importing app.sources (every client, pandas) would slow every `python -m app.slo`
    from app.sources.errors import BackendError, BackendUnavailable, QueryRejected

    try:
        client.format_query("vector(1)")
    except BackendError:
        return None

    def validate(query: str) -> str | None:
        try:
            client.format_query(query)
        except QueryRejected as exc:
            return f"Prometheus rejects this query: {exc.message}"
        except BackendUnavailable:
            return None
        return None

    return validate
