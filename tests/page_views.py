"""What a page drew, read back from an AppTest run: its banners, its words, and whether each backend's
panels show figures. Shared by the failure-matrix tests and `make chaos` (bench/chaos.py), so both judge a
page the same way.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyarrow as pa
from streamlit.testing.v1 import AppTest

from app.sources.errors import BACKEND_TITLES
from tests.browser_support import ROOT
from tests.conftest import shown

BACKENDS = tuple(BACKEND_TITLES)
PAGES = ("Overview.py", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py")))
DOMAIN_PAGES = ("pages/4_Ingestion.py", "pages/5_Extraction.py", "pages/6_Tax.py", "pages/7_Assistant.py")

# Which backends each page asks on its own address (no `?trace=`: the logs of one trace come from
# OpenSearch). The domain pages read OpenSearch for the incidents they shade on their charts.
READS: dict[str, frozenset[str]] = {
    "Overview.py": frozenset({"prometheus", "opensearch", "jaeger"}),  # the scorecard's coverage: Jaeger
    "pages/1_Service_health.py": frozenset({"prometheus"}),
    "pages/2_SLOs.py": frozenset({"prometheus"}),
    # incidents and sign-ins: OpenSearch; the scorecard's observability coverage: Jaeger too
    "pages/3_Weekly_review.py": frozenset({"prometheus", "opensearch", "jaeger"}),
    "pages/13_Alerts.py": frozenset({"prometheus", "alertmanager"}),
    **{page: frozenset({"prometheus", "opensearch"}) for page in DOMAIN_PAGES},
    "pages/8_Readiness.py": frozenset({"prometheus"}),
    "pages/9_Security.py": frozenset({"prometheus", "opensearch"}),
    "pages/10_Traces.py": frozenset({"jaeger"}),
    "pages/11_Logs.py": frozenset({"opensearch"}),
    # the controls' audit and findings; observability coverage asks all three
    "pages/12_Scorecard.py": frozenset({"prometheus", "opensearch", "jaeger"}),
    "pages/14_Coverage.py": frozenset({"prometheus", "opensearch", "jaeger"}),
    "pages/20_Data_sources.py": frozenset(BACKENDS),
    "pages/21_Access_log.py": frozenset({"opensearch"}),
}
DATA_SOURCES = "pages/20_Data_sources.py"

# How a page says that a backend's panels lack their figures: it failed, it has no URL, it is slow, or the
# page ran out of time before asking it.
SAID_OF_A_BACKEND = (
    "is not answering",
    "is not configured",
    "is slow to answer",
    "was not asked",
    "has not answered yet",
)

# Sentences that say a backend found nothing: said while it failed, they would claim more than is known.
EMPTINESS_CLAIMS = (
    "No trace matches",
    "No log line matches",
    "No log line carries",
    "No audit event in this time range",
    "No failed sign-in in this range",
    "Nothing changed state since last week",
    "No SLO is defined",
)


@dataclass
class Drawn:
    """One run of one page."""

    page: str
    at: AppTest
    seconds: float

    def exceptions(self) -> list[str]:
        return [e.value for e in self.at.exception]

    def banners(self) -> list[str]:
        """Errors, warnings and notes as they read on screen."""
        return [shown(a.value) for a in [*self.at.error, *self.at.warning, *self.at.info]]

    def banner(self, backend: str) -> str | None:
        """What says this backend failed or is slow: a banner, or the caption of the one panel it feeds
        (the domain pages' incident shading); on Data sources, its probe's error."""
        if self.page == DATA_SOURCES:
            errors = self.source_boxes().get(backend, [])
            return next((e for e in errors if e.startswith("Probe failed")), None)
        said = [f"{BACKEND_TITLES[backend]} {words}" for words in SAID_OF_A_BACKEND]
        return next((b for b in [*self.banners(), *self.captions()] if any(s in b for s in said)), None)

    def captions(self) -> list[str]:
        return [shown(c.value) for c in self.at.caption]

    def words(self) -> str:
        """Everything written on the page: text, alerts, figures and table cells of states."""
        at = self.at
        texts = [
            *(e.value for e in [*at.markdown, *at.caption, *at.success, *at.info, *at.warning, *at.error]),
            *self.verdicts(),
        ]
        return "\n".join(shown(t) for t in texts)

    def verdicts(self) -> list[str]:
        """What the page claims about a state: figures, badges, and the cells of state and status columns
        (labels only name a state, so they are not verdicts)."""
        at = self.at
        return [
            *(m.value for m in at.metric),
            *(b for md in at.markdown for b in _BADGE.findall(md.value)),
            *(
                str(v)
                for d in at.dataframe
                for c in ("state", "status")
                if c in d.value.columns
                for v in d.value[c]
            ),
            *(
                shown(v)
                for t in at.table  # `ui.static_table`: cells are Markdown, columns their titles
                for c in ("State", "Status")
                if c in t.value.columns
                for v in t.value[c]
            ),
            *(s.value for s in at.success),
        ]

    def metric(self, label: str) -> str | None:
        return next((m.value for m in self.at.metric if m.label == label), None)

    def table(self, column: str):
        """The first dataframe with this column, or None."""
        return next((d.value for d in self.at.dataframe if column in d.value.columns), None)

    def chart_rows(self) -> int:
        return sum(_arrow_rows(d.data.data) for c in self.at.get("vega_lite_chart") for d in c.proto.datasets)

    def source_boxes(self) -> dict[str, list[str]]:
        """Data sources: what each backend's box says, in order: its state badge ("ok", "failing" …), the
        state in words, alerts ("Probe failed: …") and captions."""
        boxes: dict[str, list[str]] = {}
        titles = {title: name for name, title in BACKEND_TITLES.items()}
        for box in _walk(self.at.main):  # outermost first: a backend's box, then the columns inside it
            nodes = list(_walk(box))
            names = [titles[n.value] for n in nodes if n.type == "subheader" and n.value in titles]
            if len(names) == 1 and (name := names[0]) not in boxes:
                boxes[name] = [
                    *(badge for n in nodes if n.type == "markdown" for badge in _BADGE.findall(n.value)),
                    *(shown(n.value) for n in nodes if n.type in ("caption", "error", "warning")),
                ]
        return boxes

    def has_data(self, backend: str) -> bool:
        """Whether this backend's panels on this page show figures (fresh or last good)."""
        return PANELS[(self.page, backend)](self)


def render(
    page: str,
    params: dict[str, str] | None = None,
    timeout_s: float = 120,
    user: dict[str, str] | None = None,
) -> Drawn:
    """`user`: `st.user` as a sign-in proxy fills it; None, nobody signed in."""
    at = AppTest.from_file(str(ROOT / page), default_timeout=timeout_s)
    if user is not None:
        at.user = user
    for key, value in (params or {}).items():
        at.query_params[key] = value
    started = time.perf_counter()
    at.run()
    return Drawn(page, at, time.perf_counter() - started)


_BADGE = re.compile(r":[a-z]+-badge\[(?::material/[a-z_]+: )?([^\]]*)\]")


def _walk(node) -> Iterator:
    yield node
    for child in (getattr(node, "children", None) or {}).values():
        yield from _walk(child)


def _arrow_rows(data: bytes) -> int:
    return pa.ipc.open_stream(io.BytesIO(data)).read_all().num_rows if data else 0


def _rows(drawn: Drawn, column: str) -> int:
    frame = drawn.table(column)
    return 0 if frame is None else len(frame)


def _known(value: str | None) -> bool:
    return value is not None and value != "no data"


def _no_text(pattern: str) -> Callable[[Drawn], bool]:
    return lambda d: re.search(pattern, d.words()) is None


def _verdict_of(drawn: Drawn, criterion: str) -> str | None:
    """The Scorecard's verdict on one criterion."""
    frame = drawn.table("verdict")
    if frame is None or criterion not in set(frame["criterion"]):
        return None
    return str(frame.set_index("criterion").loc[criterion, "verdict"])


def _judged(drawn: Drawn, check: str) -> bool:
    """The coverage page's per-service table judges `check` for every service (pass or gap)."""
    frame = drawn.table(check)
    return frame is not None and len(frame) > 0 and not frame[check].str.contains("no data").any()


def _all_figures(drawn: Drawn) -> bool:
    return bool(drawn.at.metric) and all(_known(m.value) for m in drawn.at.metric)


PANELS: dict[tuple[str, str], Callable[[Drawn], bool]] = {
    ("Overview.py", "prometheus"): _all_figures,
    ("Overview.py", "opensearch"): _no_text(r"Incidents: not known"),
    ("Overview.py", "jaeger"): _no_text(r"No data: [^.]*Observability coverage"),
    ("pages/1_Service_health.py", "prometheus"): lambda d: _rows(d, "request_rate") > 0 < d.chart_rows(),
    ("pages/2_SLOs.py", "prometheus"): _all_figures,
    ("pages/13_Alerts.py", "prometheus"): lambda d: any(_known(m.value) for m in d.at.metric),
    # Alertmanager's panels: silences, and the inhibit rules of its running configuration.
    ("pages/13_Alerts.py", "alertmanager"): lambda d: _rows(d, "matchers") + _rows(d, "source") > 0,
    **{(page, "prometheus"): lambda d: any(_known(m.value) for m in d.at.metric) for page in DOMAIN_PAGES},
    **{(page, "opensearch"): _no_text(r"Incidents are not marked") for page in DOMAIN_PAGES},
    ("pages/3_Weekly_review.py", "prometheus"): _all_figures,
    ("pages/3_Weekly_review.py", "opensearch"): _no_text(r"Incidents: not known"),
    ("pages/3_Weekly_review.py", "jaeger"): _no_text(r"window earlier \(.*Observability coverage"),
    ("pages/8_Readiness.py", "prometheus"): lambda d: _known(d.metric("Filing readiness score")),
    ("pages/9_Security.py", "prometheus"): lambda d: _rows(d, "secret") > 0,
    ("pages/9_Security.py", "opensearch"): lambda d: _rows(d, "action") > 0,
    ("pages/10_Traces.py", "jaeger"): lambda d: _rows(d, "trace_id") > 0,
    ("pages/11_Logs.py", "opensearch"): lambda d: _known(d.metric("Matching lines")),
    ("pages/21_Access_log.py", "opensearch"): lambda d: _known(d.metric("Access events")),
    ("pages/12_Scorecard.py", "prometheus"): lambda d: _verdict_of(d, "Median run time") != "no data",
    ("pages/12_Scorecard.py", "opensearch"): lambda d: (
        _verdict_of(d, "Quarterly penetration tests") != "no data"
    ),
    ("pages/12_Scorecard.py", "jaeger"): lambda d: _verdict_of(d, "Observability coverage") != "no data",
    # The coverage page: each backend's column of the per-service checks is judged, never "no data".
    ("pages/14_Coverage.py", "prometheus"): lambda d: _judged(d, "metrics"),
    ("pages/14_Coverage.py", "opensearch"): lambda d: _judged(d, "logs"),
    ("pages/14_Coverage.py", "jaeger"): lambda d: _judged(d, "traces"),
    **{
        (DATA_SOURCES, b): lambda d, b=b: "failing" not in d.source_boxes().get(b, ["failing"])
        for b in BACKENDS
    },
}
