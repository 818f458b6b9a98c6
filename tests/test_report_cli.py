"""`python -m app.report` without the stack: one line on stderr and the documented exit code for every
refusal, and `weekly` on a frozen week (HTML, PDF, Slack once).

Chromium prints a real PDF in one test only (tests/test_weekly_golden.py, which reads it back with
pdftotext); here the printer is replaced by one that returns fixed bytes, so that these stay unit tests."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from app.report import cli, frozen
from app.report.weeks import week_of
from tests.browser_support import ROOT
from tests.conftest import BACKEND_VARS
from tests.report_support import TEST_KEY, WEEK, frozen_document, write_frozen
from tests.test_report_document import Receiver

KEY_TEXT = TEST_KEY.secret.decode()


FAKE_PDF = b"%PDF-1.7 printed by the test's stand-in for Chromium"


@pytest.fixture
def printer(monkeypatch) -> list[str]:
    """The HTML each `weekly` run asked to print; the PDF it gets back is FAKE_PDF."""
    printed: list[str] = []

    def fake_print(html: str) -> bytes:
        printed.append(html)
        return FAKE_PDF

    monkeypatch.setattr(cli, "html_to_pdf", fake_print)
    return printed


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in BACKEND_VARS:  # Alertmanager's too: its address alone makes a live configuration
        monkeypatch.delenv(name, raising=False)
    for name in ("SEXTANT_REPORT_KEY", "SEXTANT_SLACK_WEBHOOK_URL", "SEXTANT_PUBLIC_URL", "SEXTANT_SNAPSHOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SEXTANT_REPORTS_DIR", str(tmp_path / "reports"))
    return monkeypatch


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_help_lists_the_exit_codes():
    result = subprocess.run(
        [sys.executable, "-m", "app.report", "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0
    assert "exit codes:" in result.stdout and "3  a service failed" in result.stdout


def test_a_bad_week_is_a_usage_error_on_one_line():
    result = subprocess.run(
        [sys.executable, "-m", "app.report", "freeze", "--week", "last week"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "'last week' is not a week such as 2026-W48" in result.stderr


def test_freezing_needs_a_key_then_a_backend_then_a_week_that_is_over(env):
    code, _, err = run("freeze", "--week", "2026-W48")
    assert (code, err) == (2, "error: SEXTANT_REPORT_KEY is not set: a frozen week must be signed\n")
    env.setenv("SEXTANT_REPORT_KEY", "short")
    code, _, err = run("freeze", "--week", "2026-W48")
    assert code == 2 and "SEXTANT_REPORT_KEY is too short" in err and "short" not in err.split("too short")[1]
    env.setenv("SEXTANT_REPORT_KEY", KEY_TEXT)
    code, _, err = run("freeze", "--week", "2026-W48")
    assert (code, err) == (2, "error: no backend is configured: a week is frozen from the live backends\n")
    env.setenv("SEXTANT_PROMETHEUS_URL", "http://127.0.0.1:9")  # nothing listens: never asked
    this_week = week_of(datetime.now(UTC))
    code, _, err = run("freeze", "--week", str(this_week))
    assert code == 2 and err.startswith(f"error: {this_week} is not over until ") and err.count("\n") == 1


def test_a_tampered_frozen_week_stops_weekly_with_exit_1(env, tmp_path):
    env.setenv("SEXTANT_REPORT_KEY", KEY_TEXT)
    env.setenv("SEXTANT_PROMETHEUS_URL", "http://127.0.0.1:9")
    document = frozen_document()
    document["report"]["frozen_by"] = "someone else"
    from app.sources import snapshot as snapshots

    write_frozen(tmp_path / "reports", snapshots.seal(document))
    code, out, err = run("weekly", "--week", "2026-W48", "--out", str(tmp_path / "out"))
    assert code == 1 and out == "" and "refused: tampered: its HMAC signature does not match" in err
    assert not (tmp_path / "out").exists()


def test_weekly_on_a_frozen_week_writes_both_files_and_posts_once(env, tmp_path, printer):
    env.setenv("SEXTANT_SNAPSHOT", str(tmp_path / "demo" / "demo.json.gz"))  # the demo: its weeks beside it
    write_frozen(tmp_path / "demo" / frozen.DEMO_WEEKS, frozen_document(key=frozen.DEMO_KEY))
    receiver = Receiver()
    try:
        env.setenv("SEXTANT_SLACK_WEBHOOK_URL", receiver.url)
        env.setenv("SEXTANT_PUBLIC_URL", "https://sextant.example")
        out_dir = tmp_path / "out"
        code, out, err = run("weekly", "--week", "2026-W48", "--out", str(out_dir))
        assert (code, err) == (0, ""), err
        html = (out_dir / "report.html").read_text()
        assert html.startswith("<!DOCTYPE html>") and printer == [html]  # the PDF is printed from that HTML
        assert (out_dir / "report.pdf").read_bytes() == FAKE_PDF
        assert "posted the summary to Slack (127.0.0.1)" in out
        assert len(receiver.bodies) == 1
        button = receiver.bodies[0]["blocks"][-1]["elements"][0]
        assert button["url"] == "https://sextant.example/Weekly_review?week=2026-W48"
        again = run("weekly", "--week", "2026-W48", "--out", str(out_dir))
        assert again[0] == 0 and "posted to Slack already" in again[1] and len(receiver.bodies) == 1
        marker = json.loads((tmp_path / "reports" / f"{WEEK}.slack.json").read_text())
        assert marker["attempts"] == 1
        assert run("weekly", "--week", "2026-W48", "--out", str(out_dir), "--repost")[0] == 0
        assert len(receiver.bodies) == 2
    finally:
        receiver.close()


def test_a_slack_failure_fails_the_command_with_exit_3(env, tmp_path, printer):
    env.setenv("SEXTANT_SNAPSHOT", str(tmp_path / "demo" / "demo.json.gz"))
    write_frozen(tmp_path / "demo" / frozen.DEMO_WEEKS, frozen_document(key=frozen.DEMO_KEY))
    receiver = Receiver([400])
    try:
        env.setenv("SEXTANT_SLACK_WEBHOOK_URL", receiver.url)
        code, _, err = run("weekly", "--week", "2026-W48", "--out", str(tmp_path / "out"))
        assert code == 3 and "did not reach Slack" in err and "secret-token" not in err
        assert not (tmp_path / "reports" / f"{WEEK}.slack.json").exists()  # not marked as posted
    finally:
        receiver.close()


def test_no_chromium_fails_the_command_with_exit_3_before_slack(env, tmp_path):
    env.setenv("SEXTANT_SNAPSHOT", str(tmp_path / "demo" / "demo.json.gz"))
    write_frozen(tmp_path / "demo" / frozen.DEMO_WEEKS, frozen_document(key=frozen.DEMO_KEY))
    env.setenv("SEXTANT_CHROMIUM", str(tmp_path / "no-chromium"))
    receiver = Receiver()
    try:
        env.setenv("SEXTANT_SLACK_WEBHOOK_URL", receiver.url)
        code, _, err = run("weekly", "--week", "2026-W48", "--out", str(tmp_path / "out"))
        assert (
            code == 3
            and err
            == f"error: no Chromium at {tmp_path / 'no-chromium'}: install Debian's "
            "chromium or set SEXTANT_CHROMIUM\n"
        )
        assert receiver.bodies == []  # nothing announced for a report that was not written
    finally:
        receiver.close()
