"""`python -m app.slo`: one line on stderr and a documented exit code for every failure, never a traceback
and never a password (0 ok, 1 findings, 2 usage or configuration, 3 Prometheus unreachable)."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys

import pytest

from app.config import load_config
from app.slo import cli
from app.slo import view as slo_view
from app.sources import build_sources
from app.sources.cache import ResultCache
from app.sources.errors import BackendError
from app.times import rfc3339
from tests.browser_support import ROOT
from tests.faults import SlowPrometheus

SECRET = "hunter2s3cret"


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):  # argparse writes to sys.*
        try:
            code = cli.main(list(args), out, err)
        except SystemExit as exited:  # argparse: usage errors and --help
            code = int(exited.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def no_prometheus_settings(monkeypatch):
    for name in ("URL", "TIMEOUT", "TOKEN", "USERNAME", "PASSWORD", "HEADERS", "VERIFY"):
        monkeypatch.delenv(f"SEXTANT_PROMETHEUS_{name}", raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("SEXTANT_PROMETHEUS_URL", "htp:/x", "SEXTANT_PROMETHEUS_URL must start with http:// or https://"),
        ("SEXTANT_PROMETHEUS_URL", "http://[::1", "SEXTANT_PROMETHEUS_URL is not a URL (Invalid IPv6 URL)"),
        (
            "SEXTANT_PROMETHEUS_URL",
            f"http://u:{SECRET}@h:99999",
            "SEXTANT_PROMETHEUS_URL has a port that is not",
        ),
        ("SEXTANT_PROMETHEUS_TIMEOUT", "abc", "SEXTANT_PROMETHEUS_TIMEOUT must be a number of seconds"),
        ("SEXTANT_PROMETHEUS_HEADERS", "{", "SEXTANT_PROMETHEUS_HEADERS is not valid JSON"),
    ],
)
@pytest.mark.parametrize("command", ["status", "check"])
def test_a_bad_setting_is_one_line_and_exit_2(no_prometheus_settings, command, name, value, words):
    no_prometheus_settings.setenv(name, value)
    code, out, err = run_cli(command)
    assert code == cli.EXIT_USAGE == 2
    assert err == f"error: {err.removeprefix('error: ')}" and err.count("\n") == 1 and words in err
    assert SECRET not in err + out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--prometheus-url", "htp:/x"], "error: --prometheus-url must start with http:// or https://"),
        (["--prometheus-url", f"http://u:{SECRET}@[::1"], "error: --prometheus-url is not a URL"),
        (["--timeout", "abc"], "argument --timeout: --timeout must be a number of seconds, got 'abc'"),
        (["--timeout", "0"], "--timeout must be between 0 and 600 seconds"),
        (["--timeout", "nan"], "--timeout must be between 0 and 600 seconds"),
        (["--at", "0001-01-01"], "argument --at: '0001-01-01' is before 1970"),
        (["--at", "9999-12-31T23:59-12:00"], "argument --at: '9999-12-31T23:59-12:00' is after 2200"),
        (["--at", "yesterday"], "argument --at: 'yesterday' is not a time such as 2026-11-23T09:00Z"),
        (["--no-such-option"], "unrecognized arguments: --no-such-option"),
    ],
)
def test_a_bad_option_is_one_line_and_exit_2(args, words):
    code, out, err = run_cli("status", "--json", *args)
    assert code == cli.EXIT_USAGE and out == ""
    assert err.count("\n") == 1 and words in err and SECRET not in err


# The commands that ask Prometheus for figures, and what they need besides.
ASKING = pytest.mark.parametrize("command", [["status"], ["backfill", "--output", "unused-blocks"]])


@ASKING
def test_a_live_setup_without_prometheus_is_a_usage_error(monkeypatch, command):
    monkeypatch.setenv("SEXTANT_OPENSEARCH_URL", "http://127.0.0.1:9")
    code, _, err = run_cli(*command)
    assert code == cli.EXIT_USAGE
    assert err == "error: no Prometheus: pass --prometheus-url or set SEXTANT_PROMETHEUS_URL\n"


@ASKING
def test_invalid_definitions_are_findings_before_prometheus_is_asked(tmp_path, command):
    (tmp_path / "broken.yaml").write_text("apiVersion: openslo/v1\nkind: SLO\nmetadata: {}\n")
    code, out, err = run_cli(*command, "--definitions", str(tmp_path), "--prometheus-url", "http://127.0.0.1:9")
    assert code == cli.EXIT_FINDINGS and out == ""
    assert err.startswith("error: ") and "problem(s) in slo definitions" in err.splitlines()[-1]
    assert "Prometheus" not in err  # not asked: nothing to ask it about


@pytest.mark.usefixtures("snapshot_mode")
def test_with_no_backend_at_all_status_reads_the_demo_as_the_pages_do():
    code, out, err = run_cli("status", "--json")
    assert code == cli.EXIT_OK, err
    document = json.loads(out)
    sources = build_sources(load_config({}))
    assert document["source"] == "demo snapshot" and document["at"] == rfc3339(sources.now())
    board = slo_view.load_board(sources, sources.now(), ResultCache())
    shown = {s.definition.name: s.state for s in board.statuses}
    assert {s["name"]: s["state"] for s in document["slos"]} == shown  # the SLOs page's verdicts
    assert len(shown) == len(slo_view.definitions().definitions)
    code, out, _ = run_cli("status")
    assert code == cli.EXIT_OK and "demo snapshot" in out.splitlines()[0]


@pytest.mark.usefixtures("snapshot_mode")
def test_a_time_the_demo_did_not_record_is_said_plainly():
    code, out, err = run_cli("status", "--at", "2026-01-05T09:00Z")
    assert code == cli.EXIT_UNREACHABLE and out == ""
    assert err.startswith("error: the demo snapshot holds no status at 2026-01-05T09:00:00Z")
    assert err.count("\n") == 1


def test_an_unwritable_output_is_one_line_and_exit_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run_cli("rules", "--output", str(blocker / "slo.yml"))
    assert code == cli.EXIT_USAGE and err.startswith(f"error: cannot write --output {blocker / 'slo.yml'}: ")


def test_a_closed_port_exits_3_without_the_password():
    code, _, err = run_cli("status", "--prometheus-url", f"http://u:{SECRET}@127.0.0.1:9", "--timeout", "2")
    assert code == cli.EXIT_UNREACHABLE == 3
    assert "error: Prometheus at http://127.0.0.1:9 did not answer" in err and SECRET not in err


@ASKING
def test_a_refused_request_exits_3_saying_so(monkeypatch, command):
    """Say, a wrong token: Prometheus answers, but not with statuses."""

    class Refusing:
        url = "http://prometheus.example"

        def __getattr__(self, method):
            def refuse(*args, **kwargs):
                raise BackendError("prometheus", "HTTP 401 Unauthorized", 401)

            return refuse

    monkeypatch.setattr(cli, "_client", lambda url, timeout=None: Refusing())
    code, _, err = run_cli(*command)
    assert code == cli.EXIT_UNREACHABLE
    said = "refused the request: prometheus: HTTP 401 Unauthorized"
    assert err == f"error: Prometheus at http://prometheus.example {said}\n"


def test_credentials_in_the_url_option_become_basic_auth():
    client = cli._client(f"http://reader:{SECRET}@prom.example:9090/")
    assert client.url == "http://prom.example:9090"
    assert client._http._client.auth is not None and SECRET not in client.url


def test_help_lists_the_exit_codes():
    code, out, _ = run_cli("--help")
    assert code == 0
    for line in ("0  ok", "1  findings", "2  usage or configuration", "3  Prometheus unreachable"):
        assert line in out
    assert "3  Prometheus unreachable" in run_cli("status", "--help")[1]


def test_as_a_process_a_bad_setting_prints_no_traceback():
    env = {"SEXTANT_PROMETHEUS_URL": f"http://admin:{SECRET}@prom:99999", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "app.slo", "status"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr and SECRET not in done.stderr
    assert done.stderr.startswith("error: SEXTANT_PROMETHEUS_URL has a port that is not a number")


def test_status_starts_without_pandas():
    """`status` suits scripts and cron: it reads Prometheus's answers as rows and never loads pandas (a third
    of its start-up). Every query is answered with 1 bad event in 1,000 over the period and the hour."""
    counts = {"bad:period": 1, "total:period": 1000, "bad:1h": 1, "total:1h": 1000}
    vector = [{"metric": {"sextant_key": key}, "value": [0, str(n)]} for key, n in counts.items()]
    with SlowPrometheus(delay_s=0, vector=vector) as prometheus:
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "app.slo", "status", "--json"],
            cwd=ROOT,
            env={"SEXTANT_PROMETHEUS_URL": prometheus.url, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr[-500:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "app.slo.status" in imported and "app.sources.prometheus" in imported
    assert not {name for name in imported if name.split(".")[0] in ("pandas", "numpy")}
    slos = json.loads(done.stdout)["slos"]
    assert slos and [s["sli"] for s in slos] == pytest.approx([0.999] * len(slos))
