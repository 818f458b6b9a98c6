"""A week frozen after it ended never takes the alerts Prometheus holds at freeze time as the week's end's:
here every generated alert of every SLO fires while the golden week is frozen, and the frozen review still
shows each SLO as the simulator's model has it at the week's end (Prometheus keeps no history of its alerts,
so a past instant's are computed)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from app.config import load_config
from app.report import freeze, frozen, review
from app.slo import alert_states
from app.sources import build_sources
from app.sources import snapshot as snapshots
from app.sources.cache import ResultCache
from app.times import utc_now
from tests.report_support import TEST_KEY
from tests.weekly_support import COUNTERS, DEFS, Model, golden_week

pytestmark = pytest.mark.integration


class EveryAlertFiring:
    """The stack's Prometheus, except that every alert rule it has loaded is firing right now."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def alerts(self) -> list[dict[str, Any]]:
        rules = self._client.rules()
        return [{"state": "firing", "labels": r["labels"]} for r in rules if r.get("type") == "alerting"]


def test_alerts_firing_when_a_past_week_is_frozen_do_not_change_its_slo_states(live_stack, tmp_path):
    week, at = golden_week(live_stack.anchor)
    assert utc_now() - at > alert_states.NOW_WITHIN  # the week's end is past: its alerts are not today's
    live = build_sources(
        load_config(
            {
                "SEXTANT_PROMETHEUS_URL": live_stack.prometheus_url,
                "SEXTANT_OPENSEARCH_URL": live_stack.opensearch_url,
                "SEXTANT_JAEGER_URL": live_stack.jaeger_url,
                "SEXTANT_PROMETHEUS_TIMEOUT": "120",
            }
        )
    )
    firing = replace(live, prometheus=EveryAlertFiring(live.prometheus))
    try:
        assert firing.prometheus.alerts(), "the stack loads the generated alert rules"
        document = freeze.build(firing, week, at, by="a test", actions=[], key=TEST_KEY, views=())
    finally:
        live.close()
    path = snapshots.write_document(frozen.week_path(tmp_path, week), document)
    replayed = review.load(frozen.read(path, (TEST_KEY,)).sources(), week, ResultCache())
    assert replayed.problems == []
    statuses = {s.definition.name: s.status for s in replayed.slos}
    assert {s.alerts_from for s in statuses.values() if s.state != "no data"} == {alert_states.PAST}
    model = Model(live_stack.anchor, live_stack.seed)
    rolling = [name for name in COUNTERS if DEFS[name].window.duration is not None]  # the model's states
    expected = {name: model.state(DEFS[name], at) for name in rolling}
    assert {name: statuses[name].state for name in rolling} == expected
    assert "healthy" in expected.values()  # an SLO that every firing alert would have put at risk
