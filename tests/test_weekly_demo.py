"""The shipped demo's frozen week (snapshots/weeks/, written by `make snapshot`): the last full week before
the snapshot's time, signed with the published demo key and said on screen to prove nothing; the Weekly
review opens on it with the figures the simulator's model implies, other pages open it too, and
`verify` accepts it only when asked for the demo key."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest

from app.crawl import MISS
from app.readiness.view import format_score
from app.report import cli, frozen
from app.report.weeks import last_full_week
from app.sources import snapshot
from tests.browser_support import ROOT
from tests.conftest import metrics, run_page, texts
from tests.weekly_support import COUNTERS, Model

SHIPPED = snapshot.load(ROOT / "snapshots" / "demo.json.gz")
WEEK = last_full_week(SHIPPED.recorded_at)
WEEKS_DIR = ROOT / "snapshots" / frozen.DEMO_WEEKS
PATH = frozen.week_path(WEEKS_DIR, WEEK)
SEED = 7  # the demo's (tests/test_core_pages.py)


def test_the_demo_ships_its_last_full_week_frozen_with_the_published_key():
    assert sorted(p.name for p in WEEKS_DIR.iterdir()) == [PATH.name]
    week = frozen.read(PATH, (frozen.DEMO_KEY,))
    assert week.week == WEEK and week.at == WEEK.end and week.key.demo
    assert "proves nothing" in week.signature_note


def test_verify_accepts_the_demo_week_only_with_the_demo_key(monkeypatch):
    monkeypatch.setenv("SEXTANT_REPORT_KEY", "a key of the test, not the demo's")
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["verify", str(PATH)], out=out, err=err) == cli.EXIT_REFUSED
    assert "refused" in err.getvalue()
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["verify", "--demo", str(PATH)], out=out, err=err) == cli.EXIT_OK
    assert f"good: {WEEK}" in out.getvalue() and "the published demo key" in out.getvalue()


def test_the_review_opens_on_the_demo_frozen_with_the_models_figures(snapshot_mode):
    at = run_page("pages/3_Weekly_review.py")  # no week: the last full one, which the demo ships frozen
    assert at.query_params["week"] == str(WEEK)
    shown = texts(at)
    assert f"Frozen week {WEEK}" in shown and "published demo key" in shown and "proves nothing" in shown
    assert "not recorded" not in shown and MISS not in shown and not at.error
    model = Model(SHIPPED.anchor, SEED)
    table = at.dataframe[1].value
    names = [parse_qs(urlsplit(link).query)["slo"][0] for link in table["link"]]
    spent = dict(zip(names, table["spent"], strict=True))
    for name in COUNTERS:
        assert spent[name] == pytest.approx(model.spent(name, WEEK.start, WEEK.end), rel=1e-9), name
    # written as the Readiness page writes a score ("72.4", "100")
    assert metrics(at)["Filing readiness"] == format_score(model.readiness(WEEK.end).score)
    assert not [b for b in at.button if b.label in ("Add", "Save", "Close", f"Freeze {WEEK}")]


def test_other_pages_open_the_demo_week_frozen(snapshot_mode):
    slo = {"slo": "hmrc-submissions", "range": "7d"}
    for page, params in (("Overview.py", {}), ("pages/2_SLOs.py", slo)):
        at = run_page(page, week=str(WEEK), **params)
        shown = texts(at)
        assert f"Frozen week {WEEK}" in shown and "not recorded" not in shown and MISS not in shown, page
