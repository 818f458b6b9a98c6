"""`python -m app.slo backfill`: the hourly tiles of past hours, as the tile rule would have recorded them."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from app.slo.backfill import history_needed, openmetrics, tile_rows, tiles_query, window_rows
from app.slo.model import WINDOWS, TimeWindow
from app.slo.rules import BACKFILLED, OBJECTIVE, TILE_BAD, TILE_TOTAL
from app.slo.status import raw_queries
from tests.slo_support import api_slo

PROMTOOL = shutil.which("promtool")


class HourlyProm:
    """Answers the tiles query: total 100 and bad 1 for every hour asked, and records what was asked."""

    def __init__(self):
        self.asked = []

    def range(self, query, start, end, step):
        self.asked.append((query, start, end, step))
        hours = pd.date_range(start.replace(minute=0, second=0, microsecond=0), end, freq="1h", tz="UTC")
        rows = [
            {"part": p, "timestamp": t, "value": v}
            for t in hours
            for p, v in (("total", 100.0), ("bad", 1.0))
        ]
        return type("Result", (), {"frame": pd.DataFrame(rows)})()


def test_each_hour_is_written_a_quarter_past_it_and_only_before_the_cutoff():
    prom = HourlyProm()
    end = datetime(2026, 12, 6, 19, 10, tzinfo=UTC)
    rows = tile_rows(
        [api_slo(), api_slo(name="short", window=TimeWindow(duration=timedelta(days=1)))],
        prom,
        end - timedelta(hours=3),
        end,
    )
    assert len(prom.asked) == 1  # the 1-day SLO reads its period raw: no tiles
    query, _, _, step = prom.asked[0]
    assert step == 3600.0 and query == tiles_query(api_slo()) and "x_total[1h]" in query
    ((labels, samples),) = rows[TILE_TOTAL]
    assert labels == {
        "slo": "api",
        "service": "svc",
        "domain": "filing",
        "sextant_events": api_slo().events_fingerprint(),
    }
    stamps = [datetime.fromtimestamp(t, UTC) for t, _ in samples]
    # the hour ending 19:00 would be written at 19:15, after the cutoff: the tile rule records it
    assert stamps == [datetime(2026, 12, 6, h, 15, tzinfo=UTC) for h in (16, 17, 18)]
    assert {v for _, v in samples} == {100.0} and {v for _, v in rows[TILE_BAD][0][1]} == {1.0}


class RawProm:
    """Answers an SLO's raw query (`status.raw_queries`) over a range: total 100 and bad 1 in every window it
    asks for at every step, but nothing for the 5m window at the first step and NaN for its bad events."""

    def __init__(self):
        self.asked = {}

    def range(self, query, start, end, step):
        self.asked[query] = (start, end, step)
        windows = (*WINDOWS, "period") if '"total:period"' in query else WINDOWS
        steps = pd.date_range(start, end, freq=f"{int(step)}s", tz="UTC")
        rows = [
            {"sextant_key": f"{part}:{window}", "timestamp": t, "value": value}
            for i, t in enumerate(steps)
            for window in windows
            for part, value in (("total", 100.0), ("bad", float("nan") if window == "5m" else 1.0))
            if not (window == "5m" and i == 0)
        ]
        return type("Result", (), {"frame": pd.DataFrame(rows)})()


def test_the_records_are_written_at_every_whole_hour_before_the_cutoff():
    prom = RawProm()
    end = datetime(2026, 12, 6, 19, 10, tzinfo=UTC)
    rows = window_rows([api_slo()], prom, datetime(2026, 12, 6, 15, 30, tzinfo=UTC), end)
    hours = [datetime(2026, 12, 6, h, tzinfo=UTC) for h in (16, 17, 18, 19)]
    assert prom.asked == {raw_queries(api_slo()): (hours[0], hours[-1], 3600.0)}
    stamps = [t.timestamp() for t in hours]
    ((labels, samples),) = rows[OBJECTIVE]
    assert samples == [(t, api_slo().target) for t in stamps]  # every hour, with events or not
    assert labels["sextant_hash"] == api_slo().fingerprint() and labels[BACKFILLED] == "hourly"
    ((labels, samples),) = rows["slo:sli_events_total:increase_period"]
    assert labels == {"slo": "api", "service": "svc", "domain": "filing", BACKFILLED: "hourly"}
    assert samples == [(t, 100.0) for t in stamps]
    assert rows["slo:sli_events_bad:increase3d"][0][1] == [(t, 1.0) for t in stamps]
    assert rows["slo:sli_events_total:increase5m"][0][1] == [(t, 100.0) for t in stamps[1:]]  # none at 16:00
    assert "slo:sli_events_bad:increase5m" not in rows  # NaN: absent, as the status reads it
    assert window_rows([api_slo()], prom, end, end) == {OBJECTIVE: []}


def test_a_calendar_period_is_the_sum_of_the_hours_since_it_began():
    """Its query cannot be asked over a range (`@ end()` is the range's end there): the hours are summed."""
    prom = RawProm()
    month = api_slo(window=TimeWindow(unit="month"))
    rows = window_rows(
        [month], prom, datetime(2026, 11, 30, 22, tzinfo=UTC), datetime(2026, 12, 1, 2, tzinfo=UTC)
    )
    # the 1h windows from the start of November, without the period's query
    assert prom.asked == {
        raw_queries(month, period=False): (
            datetime(2026, 11, 1, tzinfo=UTC),
            datetime(2026, 12, 1, 1, tzinfo=UTC),
            3600.0,
        )
    }
    hours = [datetime(2026, 11, 30, 22, tzinfo=UTC) + timedelta(hours=i) for i in range(4)]
    # 30 November 22:00 holds the 718 hours of November ending 1 November 01:00 … 30 November 22:00;
    # 1 December 00:00 none, 01:00 one
    expected = [(h.timestamp(), n) for h, n in zip(hours, (71_800.0, 71_900.0, 0.0, 100.0), strict=True)]
    assert rows["slo:sli_events_total:increase_period"][0][1] == expected
    assert rows["slo:sli_events_bad:increase_period"][0][1] == [(t, n / 100) for t, n in expected]


def test_history_reaches_back_to_the_earliest_period_start_and_two_hours():
    month = api_slo(window=TimeWindow(unit="month"))
    now = datetime(2026, 12, 6, 20, 30, tzinfo=UTC)
    assert history_needed([month], now) == timedelta(days=5, hours=22, minutes=30)  # since 1 Dec, + 2 h
    assert history_needed([api_slo(), month], now) == api_slo().window.nominal + timedelta(hours=2)


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")
def test_the_text_is_openmetrics_promtool_turns_into_a_block(tmp_path):
    text = openmetrics(
        {TILE_TOTAL: [({"slo": 'a"b', "service": "s"}, [(1_800_000_000.0, 3.0), (1_800_003_600.0, 4.5)])]}
    )
    assert text.splitlines()[0] == f"# TYPE {TILE_TOTAL} gauge" and text.endswith("# EOF\n")
    assert f'{TILE_TOTAL}{{slo="a\\"b",service="s"}} 3.0 1800000000' in text
    path = tmp_path / "tiles.om"
    path.write_text(text)
    run = subprocess.run(
        [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", str(path), str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert any((tmp_path / "out").iterdir())
