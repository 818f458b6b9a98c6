"""`python -m app.slo rules | status | check`.

Exit codes: 0 fine, 2 invalid definitions or Prometheus unreachable (with a message on stderr saying which
file and field, or which URL), 1 for usage errors (argparse).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from app.slo.loader import DEFAULT_DIRECTORY, LoadResult, load_definitions
from app.slo.promql_check import prometheus_validator
from app.slo.rules import render_rules
from app.slo.status import SloStatus, compute_status, rfc3339, sort_worst_first
from app.sources.errors import BackendError

EXIT_INVALID = 2


CLI_TIMEOUT_S = 60.0


def _client(url: str | None, timeout: float | None = None) -> Any:
    """A PrometheusClient for `url`, or for SEXTANT_PROMETHEUS_URL with its auth/TLS settings.

    The timeout is `timeout`, else SEXTANT_PROMETHEUS_TIMEOUT when set, else 60 s: the command line may
    wait longer than a page (a status in backfilled history reads 30-day windows of raw series)."""
    from app.config import load_config
    from app.sources.prometheus import PrometheusClient

    config = load_config(os.environ)
    p = config.prometheus
    base = url or p.url
    if not base:
        return None
    return PrometheusClient(
        base,
        timeout=timeout or (p.timeout_s if os.environ.get("SEXTANT_PROMETHEUS_TIMEOUT") else CLI_TIMEOUT_S),
        headers=p.request_headers(),
        auth=p.basic_auth(),
        verify=p.verify,
        org_id=config.prometheus_org_id,
    )


def _report_errors(result: LoadResult, err: TextIO) -> None:
    for error in result.errors:
        print(f"error: {error}", file=err)
    print(
        f"{len(result.errors)} problem(s) in slo definitions; fix them and re-run `python -m app.slo check`",
        file=err,
    )


def _parse_at(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--at {text!r} is not an RFC 3339 time such as 2026-01-31T12:00:00Z"
        ) from exc
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def cmd_rules(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    result = load_definitions(args.definitions)
    text = render_rules(result.definitions, base_url=args.runbook_base_url)
    if args.output:
        path = Path(args.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)  # Prometheus may reload at any moment: never let it read half a file
        print(f"wrote {len(result.definitions)} SLO(s) to {path}", file=err)
    else:
        out.write(text)
    if result.errors:
        _report_errors(result, err)
        return EXIT_INVALID
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
        return EXIT_INVALID
    how = "by Prometheus" if validator else "locally"
    print(
        f"ok: {len(result.definitions)} SLO(s) in {len(result.files)} file(s), PromQL checked {how}", file=out
    )
    return 0


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:.3%}" if pct else f"{value:.2f}"


def human_table(statuses: Sequence[SloStatus]) -> str:
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
    result = load_definitions(args.definitions)
    if result.errors:
        _report_errors(result, err)
        return EXIT_INVALID
    client = _client(args.prometheus_url, args.timeout)
    if client is None:
        print("error: no Prometheus: pass --prometheus-url or set SEXTANT_PROMETHEUS_URL", file=err)
        return EXIT_INVALID
    at = args.at or datetime.now(UTC).replace(microsecond=0)
    try:
        statuses = compute_status(result.definitions, client, at)
    except BackendError as exc:
        print(f"error: Prometheus at {client.url} did not answer: {exc}", file=err)
        return EXIT_INVALID
    if args.json:
        json.dump({"at": rfc3339(at), "slos": [s.to_json() for s in statuses]}, out, indent=2)
        out.write("\n")
    else:
        source = "recording rules" if all(s.source == "rules" for s in statuses) else "raw series"
        print(f"SLOs at {rfc3339(at)} (from {source})", file=out)
        print(human_table(statuses), file=out)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m app.slo", description="SLO definitions, rules and status.")
    sub = top.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--definitions",
            type=Path,
            default=DEFAULT_DIRECTORY,
            help="directory of SLO definitions (default: slo_definitions/)",
        )

    rules = sub.add_parser("rules", help="generate the Prometheus rule file")
    common(rules)
    rules.add_argument("--output", help="write here (atomically) instead of stdout")
    rules.add_argument(
        "--runbook-base-url",
        default=None,
        help="prefix for runbook paths in runbook_url (default: SEXTANT_RUNBOOK_BASE_URL)",
    )
    rules.set_defaults(func=cmd_rules)

    check = sub.add_parser("check", help="validate the definitions (PromQL by Prometheus when reachable)")
    common(check)
    check.add_argument("--prometheus-url", default=None, help="default: SEXTANT_PROMETHEUS_URL")
    check.add_argument("--timeout", type=float, default=None, help="seconds per request (default 60)")
    check.set_defaults(func=cmd_check)

    status = sub.add_parser("status", help="SLO status at a time")
    common(status)
    status.add_argument("--prometheus-url", default=None, help="default: SEXTANT_PROMETHEUS_URL")
    status.add_argument("--timeout", type=float, default=None, help="seconds per request (default 60)")
    status.add_argument("--at", type=_parse_at, default=None, help="RFC 3339 time (default: now)")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(func=cmd_status)
    return top


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args, out or sys.stdout, err or sys.stderr))
