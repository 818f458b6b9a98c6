"""`freeze` without the stack: what it refuses, that a second freeze changes nothing, that --force keeps the
old file, and that a recording a backend failed is never kept (the recording itself is replaced by a
stand-in here: tests/test_weekly_golden.py records the real one)."""

from __future__ import annotations

import pytest

from app.config import load_config
from app.links import PAGES
from app.report import freeze, frozen
from app.report.actions import ActionStore
from app.slo.view import definitions
from app.sources import Sources
from app.sources.unconfigured import NotConfiguredClient
from app.timerange import DEFAULT_PRESET, PRESETS
from tests.report_support import TEST_KEY, WEEK, frozen_document

KEY_TEXT = TEST_KEY.secret.decode()


@pytest.fixture
def setup(tmp_path, monkeypatch):
    config = load_config(
        {
            "SEXTANT_PROMETHEUS_URL": "http://127.0.0.1:9",
            "SEXTANT_REPORT_KEY": KEY_TEXT,
            "SEXTANT_REPORTS_DIR": str(tmp_path),
        }
    )
    live = Sources(
        NotConfiguredClient("prometheus"),
        NotConfiguredClient("opensearch"),
        NotConfiguredClient("jaeger"),
        "live",
    )
    recorded: list[tuple] = []

    def build(sources, week, at, *, by, actions, key):
        recorded.append((week, at, by, [a.text for a in actions]))
        document = frozen_document(week, value=float(len(recorded)), key=key)
        document["report"]["frozen_by"] = by
        document["report"]["actions"] = [a.to_json() for a in actions]
        return frozen.sign({k: v for k, v in document.items() if k not in ("hmac", "sha256")}, key)

    monkeypatch.setattr(freeze, "build", build)
    return config, live, recorded


def test_a_week_is_frozen_once_and_a_second_freeze_leaves_it_alone(setup, tmp_path):
    config, live, recorded = setup
    ActionStore(tmp_path).add("Rotate the HMRC secret", "Priya", WEEK, "lead@example.com")
    first = freeze.freeze(live, config, WEEK, by="cron@host")
    assert first.created and first.frozen.path == tmp_path / "2026-W48.json.gz"
    assert recorded == [(WEEK, WEEK.end, "cron@host", ["Rotate the HMRC secret"])]
    before = first.frozen.path.read_bytes()
    again = freeze.freeze(live, config, WEEK, by="someone else")
    assert not again.created and again.frozen.frozen_by == "cron@host" and len(recorded) == 1
    assert first.frozen.path.read_bytes() == before


def test_force_freezes_again_and_keeps_the_old_file(setup, tmp_path):
    config, live, recorded = setup
    first = freeze.freeze(live, config, WEEK, by="cron@host")
    old = first.frozen.path.read_bytes()
    again = freeze.freeze(live, config, WEEK, by="lead@example.com", force=True)
    assert again.created and again.frozen.frozen_by == "lead@example.com" and len(recorded) == 2
    assert again.superseded is not None and again.superseded.read_bytes() == old
    assert again.superseded.name == "2026-W48.superseded-20261130T060000Z.json.gz"
    assert frozen.frozen_weeks(tmp_path) == [WEEK]  # the kept copy is not a second week
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_week_frozen_with_another_key_is_refused_not_replaced(setup, tmp_path):
    config, live, _ = setup
    other = frozen.SigningKey(b"another key of sixteen characters", "SEXTANT_REPORT_KEY")
    from tests.report_support import write_frozen

    write_frozen(tmp_path, frozen_document(key=other))
    with pytest.raises(frozen.FrozenWeekError, match="another signing key"):
        freeze.freeze(live, config, WEEK, by="cron@host")


def test_a_week_not_over_and_a_demo_are_refused(setup):
    config, live, _ = setup
    from app.report.weeks import week_of

    this_week = week_of(live.now())
    with pytest.raises(freeze.FreezeError, match=f"{this_week} is not over until") as caught:
        freeze.freeze(live, config, this_week, by="cron@host")
    assert caught.value.kind == "usage"
    demo = Sources(live.prometheus, live.opensearch, live.jaeger, "snapshot")
    with pytest.raises(freeze.FreezeError, match="no backend is configured"):
        freeze.freeze(demo, config, WEEK, by="cron@host")


def test_calls_that_got_no_answer_are_named_and_stop_the_freeze():
    document = frozen_document()
    document["entries"].append(
        {
            "backend": "prometheus",
            "method": "instant",
            "args": {"query": "up"},
            "query_text": "up",
            "result": {
                "__error__": {
                    "class": "BackendUnavailable",
                    "backend": "prometheus",
                    "message": "no answer within 60 s",
                    "status": None,
                    "error_type": "timeout",
                }
            },
        }
    )
    assert freeze.recording_failures(document) == ["prometheus: no answer within 60 s (instant up)"]
    assert freeze.recording_failures(frozen_document()) == []


def test_a_freeze_records_every_page_at_every_range_and_each_slos_detail():
    views = freeze.page_views(WEEK.end)
    params = [(v.page, dict(v.params)) for v in views]
    ranges = {p: {q.get("range", DEFAULT_PRESET) for page, q in params if page == p} for p in PAGES}
    assert ranges == {p: set(PRESETS) for p in PAGES if p != "weekly_review"} | {"weekly_review": set()}
    details = {(q["slo"], q.get("range", DEFAULT_PRESET)) for _, q in params if "slo" in q}
    assert details == {(d.name, r) for d in definitions().definitions for r in PRESETS}
    assert not [q for _, q in params if "week" in q or "at" in q]  # at the week's end, never pinned elsewhere
