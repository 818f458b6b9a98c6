"""One verdict per fact: a domain page says of an SLO's objective what the SLOs page and the overview say of
that SLO (its state, computed once in app.slo.status), on the demo snapshot and on the live stack."""

from __future__ import annotations

import os
import re
from collections import defaultdict

import pytest

from app import links
from app.config import load_config
from app.controls.definition import controls
from app.dashboards import DASHBOARDS
from app.dashboards.spec import known_slos
from app.scorecard.definition import acceptance
from app.slo import view as slo_view
from app.slo.math import SHOWN_ORDER
from app.sources import build_sources
from app.sources.cache import ResultCache
from tests.conftest import run_page, shown

_SAID = re.compile(
    rf"The SLO (.+) is ({'|'.join(SHOWN_ORDER)}): its error budget over its own period \((.+)\)"
)


def slo_verdicts(page: str) -> dict[str, set[str]]:
    """Every SLO state a page shows beside a figure, by SLO name (the delta and its tooltip agree)."""
    names = {title: name for name, title in known_slos().items()}
    found: dict[str, set[str]] = defaultdict(set)
    for metric in run_page(page).metric:
        said = _SAID.search(shown(metric.help or ""))
        if said:
            assert metric.delta == f"{said[3]} SLO {said[2]}", (page, metric.label)
            found[names[said[1]]].add(said[2])
    return found


@pytest.mark.parametrize("mode", ["snapshot_mode", pytest.param("live_mode", marks=pytest.mark.integration)])
def test_every_domain_page_shows_each_slo_in_the_state_the_slos_page_gives_it(request, mode):
    request.getfixturevalue(mode)
    sources = build_sources(load_config(os.environ))
    states = slo_view.states(sources, sources.now(), ResultCache())
    shown_on: dict[str, set[str]] = defaultdict(set)
    for domain in DASHBOARDS:
        for name, verdicts in slo_verdicts(links.page(domain).file).items():
            shown_on[name] |= verdicts
    assert len(shown_on) >= 10  # the objectives of four domain pages, not a page that drew nothing
    assert {name: verdicts for name, verdicts in shown_on.items() if verdicts != {states[name]}} == {}
    assert {v for verdicts in shown_on.values() for v in verdicts} - {"no data"}  # real states, not only gaps


def control_states(page: str) -> dict[str, str]:
    """Each security control's status as `page` shows it over the last 24 hours, by control title."""
    at = run_page(page, range="24h")
    if page.endswith("Security.py"):
        table = at.tabs[0].dataframe[0].value
        return dict(zip(table["control"], table["status"], strict=True))
    table = at.dataframe[0].value  # the Scorecard's: a control's figure reads "<status>: <evidence>"
    rows = table[table["area"] == "Security"]
    return {c: now.split(":")[0] for c, now in zip(rows["criterion"], rows["now"], strict=True)}


@pytest.mark.parametrize("mode", ["snapshot_mode", pytest.param("live_mode", marks=pytest.mark.integration)])
def test_every_page_shows_each_security_control_in_the_state_the_security_page_gives_it(request, mode):
    request.getfixturevalue(mode)
    on_security = control_states("pages/9_Security.py")
    on_scorecard = control_states("pages/12_Scorecard.py")
    shared = set(on_security) & set(on_scorecard)
    titles = {c.id: c.title for c in controls().controls}
    expected = {titles[c] for c in acceptance().security_controls}
    assert shared == expected, (on_security, on_scorecard)  # every control the scorecard judges, found
    assert {c: (on_security[c], on_scorecard[c]) for c in shared if on_security[c] != on_scorecard[c]} == {}
    failing = sorted(c for c, state in on_security.items() if state == "failing")
    assert failing, on_security  # the demo and the live stack both hold an overdue secret
    line = next(shown(m.value) for m in run_page("Overview.py").markdown if "Failing: " in shown(m.value))
    named = re.sub(r" and \d+ more$", "", line.split("Failing: ")[1].rstrip(".")).split(", ")
    assert set(named) <= set(failing) and (len(failing) > 3 or sorted(named) == failing), (line, failing)
