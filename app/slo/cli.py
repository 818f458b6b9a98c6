"""`python -m app.slo rules | status | check`.

Every failure is one line on stderr, never a traceback, and an exit code a script can act on (EXIT_CODES,
also in `--help`). A bad SEXTANT_PROMETHEUS_* setting is reported like a bad option: its name and what is
wrong, never a password.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app import cli, times
from app.config import ConfigError, load_config, parse_timeout, parse_url
from app.slo.loader import DEFAULT_DIRECTORY, LoadResult, load_definitions
from app.slo.promql_check import prometheus_validator
from app.times import rfc3339

# The rule generator, the status code and the backends' clients (httpx) are imported by the command that
# needs them, not here: `--help` and `rules` then start in a fraction of the time. None of them loads pandas
# (tests/test_slo_cli.py::test_status_starts_without_pandas): `status` reads Prometheus's answers as rows.
if TYPE_CHECKING:
    from app.slo.model import SloDefinition
    from app.slo.status import SloStatus
    from app.sources import Sources

EXIT_OK = cli.EXIT_OK
EXIT_FINDINGS = 1  # the command ran and found problems: invalid definitions
EXIT_USAGE = cli.EXIT_USAGE  # a bad option or setting, or nothing to ask (no Prometheus configured)
EXIT_UNREACHABLE = 3  # Prometheus did not answer, or refused the request
EXIT_CODES = f"""exit codes:
  {EXIT_OK}  ok
  {EXIT_FINDINGS}  findings: invalid SLO definitions
  {EXIT_USAGE}  usage or configuration: a bad option, a bad SEXTANT_PROMETHEUS_* setting, no Prometheus
  {EXIT_UNREACHABLE}  Prometheus unreachable, or it refused the request"""

CLI_TIMEOUT_S = 60.0


def _client(url: str | None, timeout: float | None = None) -> Any:
    """A PrometheusClient for `url`, or for SEXTANT_PROMETHEUS_URL with its auth/TLS settings.

    The timeout is `timeout`, else SEXTANT_PROMETHEUS_TIMEOUT when set, else 60 s: the command line may
    wait longer than a page (a status in backfilled history reads 30-day windows of raw series).
    Raises ConfigError for a bad setting or `--prometheus-url`."""
    from app.sources.prometheus import PrometheusClient

    config = load_config(os.environ)
    p = config.prometheus
    auth = p.basic_auth()
    base: str | None
    if url:
        base, user, password = parse_url("--prometheus-url", url)
        auth = (user, password or "") if user else auth
    else:
        base = p.url
    if not base:
        return None
    return PrometheusClient(
        base,
        timeout=timeout or (p.timeout_s if os.environ.get("SEXTANT_PROMETHEUS_TIMEOUT") else CLI_TIMEOUT_S),
        headers=p.request_headers(),
        auth=auth,
        verify=p.verify,
        org_id=config.prometheus_org_id,
    )


def _demo_sources() -> Sources | None:
    """With no backend configured at all the pages replay the demo snapshot (SEXTANT_SNAPSHOT_PATH), and
    so does `status`; None when another backend is configured (a live setup missing its Prometheus)."""
    from app.sources import build_sources

    config = load_config(os.environ)
    return build_sources(config) if config.mode == "snapshot" else None


def _report_errors(result: LoadResult, err: TextIO) -> None:
    for error in result.errors:
        print(f"error: {error}", file=err)
    print(
        f"{len(result.errors)} problem(s) in slo definitions; fix them and re-run `python -m app.slo check`",
        file=err,
    )


def _definitions_and_prometheus(
    args: argparse.Namespace, err: TextIO, *, demo: bool = False
) -> tuple[tuple[SloDefinition, ...], Any, Sources | None]:
    """What `backfill` and `status` start from: the valid definitions, and a client of the Prometheus asked
    for or, with `demo` and no backend configured at all, the demo snapshot's sources instead (client None).
    Stops with EXIT_FINDINGS once invalid definitions are said on `err`, and with EXIT_USAGE when there is
    no Prometheus to ask."""
    result = load_definitions(args.definitions)
    if result.errors:
        _report_errors(result, err)
        raise cli.Stop(EXIT_FINDINGS)
    client = _client(args.prometheus_url, args.timeout)
    sources = _demo_sources() if client is None and demo else None
    if client is None and sources is None:
        raise cli.Stop(EXIT_USAGE, "no Prometheus: pass --prometheus-url or set SEXTANT_PROMETHEUS_URL")
    return result.definitions, client, sources


def _prometheus_failed(url: str, error: Exception) -> cli.Stop:
    from app.sources.errors import BackendUnavailable

    what = "did not answer" if isinstance(error, BackendUnavailable) else "refused the request"
    return cli.Stop(EXIT_UNREACHABLE, f"Prometheus at {url} {what}: {error}")


def _parse_at(text: str) -> datetime:
    try:
        return times.parse_time(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parse_timeout(text: str) -> float:
    try:
        return parse_timeout("--timeout", text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_rules(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from app.slo.rules import render_rules

    result = load_definitions(args.definitions)
    text = render_rules(result.definitions, base_url=args.runbook_base_url)
    if args.output:
        path = Path(args.output)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)  # Prometheus may reload at any moment: never let it read half a file
        except OSError as exc:
            print(f"error: cannot write --output {path}: {exc.strerror or exc}", file=err)
            return EXIT_USAGE
        print(f"wrote {len(result.definitions)} SLO(s) to {path}", file=err)
    else:
        out.write(text)
    if result.errors:
        _report_errors(result, err)
        return EXIT_FINDINGS
    return 0


def cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    validator = None
    client = _client(args.prometheus_url, args.timeout)
    if client is not None:
        validator = prometheus_validator(client)
        if validator is None:
            print(f"note: Prometheus at {client.url} is unreachable: PromQL checked locally only", file=err)
    result = load_definitions(args.definitions, validator=validator)
    if result.errors:
        _report_errors(result, err)
        return EXIT_FINDINGS
    how = "by Prometheus" if validator else "locally"
    print(
        f"ok: {len(result.definitions)} SLO(s) in {len(result.files)} file(s), PromQL checked {how}", file=out
    )
    return 0


def cmd_backfill(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from app.slo.backfill import backfill
    from app.sources.errors import BackendError

    definitions, client, _ = _definitions_and_prometheus(args, err)
    now = args.before or datetime.now(UTC)
    try:
        tiles, records, blocks = backfill(
            definitions, client, Path(args.output), now, only_missing=args.only_missing
        )
    except BackendError as exc:
        raise _prometheus_failed(client.url, exc) from None
    except (OSError, RuntimeError) as exc:
        print(f"error: cannot write blocks into {args.output}: {exc}", file=err)
        return EXIT_USAGE
    print(
        f"wrote {tiles} hourly tile(s) and {records} hourly record(s) before {rfc3339(now)}"
        f" as {len(blocks)} block(s) in {args.output}",
        file=err,
    )
    return 0


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:.3%}" if pct else f"{value:.2f}"


def human_table(statuses: Sequence[SloStatus]) -> str:
    from app.slo.status import sort_worst_first

    lines = [f"{'SLO':34} {'domain':14} {'target':>8} {'SLI':>9} {'budget left':>11} {'1h burn':>8} state"]
    for s in sort_worst_first(statuses):
        firing = ", ".join(a.name for a in s.firing_alerts)
        lines.append(
            f"{s.name[:34]:34} {s.domain:14} {s.target:>8.3%} {_fmt(s.sli, True):>9} "
            f"{_fmt(s.error_budget_remaining, True):>11} {_fmt(s.burn_rates.get('1h')):>8} {s.state}"
            + (f"  [{firing}]" if firing else "")
        )
    return "\n".join(lines)


def cmd_status(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from app.slo.status import compute_status
    from app.sources.errors import BackendError, SnapshotMiss

    definitions, client, demo = _definitions_and_prometheus(args, err, demo=True)
    at, origin = args.at or datetime.now(UTC).replace(microsecond=0), "live"
    recorded_at: datetime | None = None
    if demo is not None:
        if demo.snapshot_problem:
            print(f"error: {demo.snapshot_problem}", file=err)
            return EXIT_UNREACHABLE
        recorded_at = demo.now()
        client, at, origin = demo.prometheus, args.at or recorded_at, "demo snapshot"
    try:
        statuses = compute_status(definitions, client, at)
    except SnapshotMiss:
        print(
            f"error: the demo snapshot holds no status at {rfc3339(at)} (it was recorded at "
            f"{rfc3339(recorded_at) if recorded_at else 'another time'}): leave out --at, or pass "
            "--prometheus-url",
            file=err,
        )
        return EXIT_UNREACHABLE
    except BackendError as exc:
        raise _prometheus_failed(client.url, exc) from None
    if args.json:
        document = {"at": rfc3339(at), "source": origin, "slos": [s.to_json() for s in statuses]}
        json.dump(document, out, indent=2)
        out.write("\n")
    else:
        source = "recording rules" if all(s.source == "rules" for s in statuses) else "raw series"
        print(f"SLOs at {rfc3339(at)} (from {source}{', ' + origin if origin != 'live' else ''})", file=out)
        print(human_table(statuses), file=out)
    return 0


def parser() -> argparse.ArgumentParser:
    top = cli.OneLineParser(
        prog="python -m app.slo",
        description="SLO definitions, rules and status.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = top.add_subparsers(dest="command", required=True)

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=summary, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter
        )

    def common(p: argparse.ArgumentParser, *, asks_prometheus: bool = False) -> None:
        p.add_argument(
            "--definitions",
            type=Path,
            default=DEFAULT_DIRECTORY,
            help="directory of SLO definitions (default: slo_definitions/)",
        )
        if asks_prometheus:
            p.add_argument("--prometheus-url", default=None, help="default: SEXTANT_PROMETHEUS_URL")
            p.add_argument(
                "--timeout", type=_parse_timeout, default=None, help="seconds per request (default 60)"
            )

    rules = command("rules", "generate the Prometheus rule file")
    common(rules)
    rules.add_argument("--output", help="write here (atomically) instead of stdout")
    rules.add_argument(
        "--runbook-base-url",
        default=None,
        help="prefix for runbook paths in runbook_url (default: SEXTANT_RUNBOOK_BASE_URL)",
    )
    rules.set_defaults(func=cmd_rules)

    check = command("check", "validate the definitions (PromQL by Prometheus when reachable)")
    common(check, asks_prometheus=True)
    check.set_defaults(func=cmd_check)

    backfill = command(
        "backfill",
        "write the hourly tiles and records of the history Prometheus holds as TSDB blocks (move them into"
        " its data dir)",
    )
    common(backfill, asks_prometheus=True)
    backfill.add_argument("--output", required=True, help="directory for the blocks")
    backfill.add_argument("--before", type=_parse_at, default=None, help="RFC 3339 time (default: now)")
    backfill.add_argument(
        "--only-missing",
        action="store_true",
        help="only the tiles of SLOs without tiles older than two hours (no records)",
    )
    backfill.set_defaults(func=cmd_backfill)

    status = command("status", "SLO status at a time")
    common(status, asks_prometheus=True)
    status.add_argument(
        "--at", type=_parse_at, default=None, help="RFC 3339 time, e.g. 2026-11-23T09:00Z (default: now)"
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(func=cmd_status)
    return top


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one command; returns its exit code (argparse exits EXIT_USAGE itself on a bad option)."""
    return cli.run(parser(), argv, out, err)
