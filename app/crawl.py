"""Walk the app as a user can: every page, then every view its links and pickers lead to.

The pages themselves say where a user can go: each view is run through Streamlit's AppTest and what it
drew is read back — page links, Markdown links, link buttons, links in tables and share links (through
`app.links.parse`), the values offered by every picker bound to the URL, and the rows of the trace list
(picking one opens the trace). `make snapshot` (app/record.py) walks this graph to record every answer
the demo needs; the tests walk the recorded demo to prove it has no dead end. Nothing here keeps a list of
views by hand, so a link added to a page is followed the next time.

Picker values are followed one picker at a time from a view with no other picker set (a view per tenant,
per route…), the time range from every view: combinations of two pickers are not walked.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from streamlit.components.v2 import manifest_scanner
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Multiselect, Radio, Selectbox

from app import links
from app.config import REPO_ROOT
from app.slo.math import calendar_start
from app.timerange import DEFAULT_PRESET, PRESETS, pinned_text
from app.ui import NAMED_PICKERS

APPTEST_TIMEOUT_S = 300
_MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")
_NOT_FOLLOWED = {"refresh"}  # the same data on a timer
MISS = "not in the demo snapshot"  # how a page says a view was not recorded (app.ui.show_problems)

# Each new AppTest scans every installed distribution for Streamlit component manifests before its first
# run (a quarter of the CPU of a short page run here); the installed packages do not change while a walk
# or a test run lasts, so one scan per process serves every AppTest (`make snapshot` and the tests).
manifest_scanner.scan_component_manifests = functools.cache(manifest_scanner.scan_component_manifests)


@dataclass(frozen=True, order=True)
class View:
    """One address of the app: a page and its URL parameters."""

    page: str
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, page: str, **params: str) -> View:
        return cls(page, tuple(sorted((k, v) for k, v in params.items() if v not in ("", None))))

    @property
    def address(self) -> str:
        return links.url(self.page, **dict(self.params))

    def with_param(self, key: str, value: str) -> View:
        return View.of(self.page, **(dict(self.params) | {key: value}))

    @property
    def identity(self) -> View:
        """The view that asks the same questions: a trace opened from a list asks for the trace by its id
        whatever the list's filters (the list's own questions were asked when the list was visited), so a
        trace is walked once, from the first list that shows it."""
        trace = dict(self.params).get("trace")
        return View.of("traces", trace=trace) if self.page == "traces" and trace else self

    @property
    def picked(self) -> set[str]:
        """The pickers set in this view, the time range apart."""
        return {k for k, _ in self.params} - {"range", *_NOT_FOLLOWED}


@dataclass
class Visit:
    """What one view drew: where it leads, and any problem it showed (an exception, a miss)."""

    view: View
    leads_to: set[View] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def start_views(now: datetime) -> list[View]:
    """Every page at every range preset, and the overview frozen at the weekly review's instants: a week
    and two back, and every Monday 09:00 UTC of the 30 days Prometheus keeps."""
    views = [
        View.of(key, **({} if preset == DEFAULT_PRESET else {"range": preset}))
        for key in links.PAGES
        for preset in PRESETS
    ]
    return views + [View.of("overview", at=pinned_text(at)) for at in review_instants(now)]


def review_instants(now: datetime) -> list[datetime]:
    """The instants a weekly review pins the overview at, oldest first."""
    monday = calendar_start(now, "week") + timedelta(hours=9)
    mondays = [monday - timedelta(weeks=n) for n in range(5)]
    wanted = {now - timedelta(days=7), now - timedelta(days=14)} | {
        m for m in mondays if now - timedelta(days=30) < m < now
    }
    return sorted(at.replace(second=0, microsecond=0) for at in wanted)


def visit(view: View, base_path: str = "") -> Visit:
    """Run `view` as a page run and read back where it leads and what went wrong."""
    page = links.page(view.page)
    run = AppTest.from_file(str(REPO_ROOT / page.file), default_timeout=APPTEST_TIMEOUT_S)
    for key, value in view.params:
        run.query_params[key] = value
    run.run()
    found = Visit(view)
    found.problems += [f"exception: {e.value}" for e in run.exception]
    found.problems += [f"error: {e.value}" for e in run.error]
    found.problems += [f"miss: {e.value}" for e in (*run.info, *run.warning) if MISS in str(e.value)]
    for address in _addresses(run, base_path):
        target = links.parse(address, base_path)
        if target is not None:
            found.leads_to.add(View.of(target[0], **target[1]))
    for key, values in _offered(run, page):
        if key == "range" or not view.picked or key in view.picked:
            found.leads_to.update(view.with_param(key, value) for value in values)
    return found


def walk(
    starts: Iterable[View],
    visit_one: Callable[[View], Visit] = visit,
    *,
    limit: int | None = None,
    follow: Callable[[Visit], bool] = lambda _: True,
    admit: Callable[[View], bool] = lambda _: True,
) -> Iterator[Visit]:
    """Visit `starts` and everything they lead to, each view once, breadth first (at most `limit` views);
    `follow(visit)` says whether to go on from a visited view, `admit(view)` whether a view it leads to is
    walked (a sample: `per_shape`)."""
    queue = deque(dict.fromkeys(starts))
    seen = {view.identity for view in queue}
    visited = 0
    while queue and (limit is None or visited < limit):
        done = visit_one(queue.popleft())
        visited += 1
        yield done
        if not follow(done):
            continue
        for target in sorted(done.leads_to):
            if target.identity not in seen and admit(target):
                seen.add(target.identity)
                queue.append(target)


def per_shape(most: int) -> Callable[[View], bool]:
    """Admit at most `most` views of each shape (a page and the names of its URL parameters): every kind of
    link and picker a page draws is followed, and a few of its values, in the order the walk meets them."""
    seen: Counter[tuple[str, tuple[str, ...]]] = Counter()

    def admit(view: View) -> bool:
        shape = (view.page, tuple(k for k, _ in view.params))
        seen[shape] += 1
        return seen[shape] <= most

    return admit


def _addresses(run: AppTest, base_path: str) -> Iterator[str]:
    for link in run.get("page_link"):
        slug = "" if link.proto.page in ("", "Overview") else link.proto.page
        yield f"{slug or './'}{'?' + link.proto.query_string if link.proto.query_string else ''}"
    for button in run.get("link_button"):
        yield button.proto.url
    for element in (*run.markdown, *run.caption, *run.info, *run.warning, *run.error):
        yield from _MARKDOWN_LINK.findall(str(element.value))
    for code in run.code:
        yield code.value.strip()
    for static in run.table:  # `ui.static_table`: cells are Markdown
        for cell in static.value.to_numpy().ravel():
            yield from _MARKDOWN_LINK.findall(str(cell))
    for table in run.dataframe:
        frame = table.value
        for column in frame.columns:
            if frame[column].dtype == object:  # cells may hold lists too: only strings can be links
                yield from {v for v in frame[column] if isinstance(v, str) and "?" in v}


def _offered(run: AppTest, page: links.Page) -> Iterator[tuple[str, list[str]]]:
    """The values each URL-bound picker offers, but the one it shows now: (parameter, values)."""
    followed = set(page.url_params) - _NOT_FOLLOWED
    pickers: list[Selectbox[Any] | Multiselect[Any] | Radio[Any]] = [
        *run.selectbox,
        *run.multiselect,
        *run.radio,
    ]
    state = run.session_state  # AppTest's: no `get`
    named: dict[str, dict[str, str]] = state[NAMED_PICKERS] if NAMED_PICKERS in state else {}  # noqa: SIM401
    for widget in pickers:
        if widget.key in followed:
            current = None if isinstance(widget, Multiselect) else widget.value
            if widget.key in named:  # it shows names: the URL carries their values, the first no value
                values = list(named[widget.key].values())[1:]
            else:
                values = _raw_options(widget.options)
            yield widget.key, [v for v in values if v != current]
    for box in run.checkbox:
        if box.key in followed and not box.value:
            yield box.key, ["true"]
    if "tab" in followed:
        yield "tab", [tab.label for tab in run.tabs][1:]  # the first tab is the page's default
    if "trace" in followed:
        for table in run.dataframe:
            if "trace_id" in table.value.columns:
                yield "trace", [str(t) for t in table.value["trace_id"].dropna()]


def _raw_options(options: Iterable[str]) -> list[str]:
    """A picker's options as the URL carries them: pickers bound to the URL show their raw values, but for
    the "all"/"any" option a format_func names (it is the page's default: no parameter at all)."""
    return [o for o in options if not o.startswith(("All (", "All operations", "Any duration"))]
