"""One verdict per fact: a domain page says of an SLO's objective what the SLOs page and the overview say of
that SLO (its state, computed once in app.slo.status), on the demo snapshot and on the live stack."""

from __future__ import annotations

import os
import re
from collections import defaultdict

import pytest

from app import links
from app.config import load_config
from app.dashboards import DASHBOARDS
from app.dashboards.spec import known_slos
from app.slo import view as slo_view
from app.slo.math import SHOWN_ORDER
from app.sources import build_sources
from app.sources.cache import ResultCache
from tests.conftest import run_page, shown

_SAID = re.compile(rf"The SLO (.+) is ({'|'.join(SHOWN_ORDER)}) \(")


def slo_verdicts(page: str) -> dict[str, set[str]]:
    """Every SLO state a page shows beside a figure, by SLO name (the delta and its tooltip agree)."""
    names = {title: name for name, title in known_slos().items()}
    found: dict[str, set[str]] = defaultdict(set)
    for metric in run_page(page).metric:
        said = _SAID.search(shown(metric.help or ""))
        if said:
            assert metric.delta == f"SLO {said[2]}", (page, metric.label)
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
