"""`python -m app.report freeze | weekly | verify`: the weekly review from the command line, cron or a timer.

- `freeze [--week 2026-W48] [--force] [--by NAME]`: freeze a finished week (default: the last one) into
  SEXTANT_REPORTS_DIR, signed with SEXTANT_REPORT_KEY. Already frozen: nothing is written, exit 0.
- `weekly [--week …] [--out DIR] [--no-slack] [--repost]`: freeze the week if it is not frozen yet, write
  `report.html` and `report.pdf` of it into DIR (default `<reports dir>/<week>/`), and post the summary to
  Slack when SEXTANT_SLACK_WEBHOOK_URL is set (once per week: a marker file remembers the post; `--repost`
  posts again). Run twice, it freezes nothing more and writes the same report.
- `verify FILE`: check a frozen week's SHA-256 and signature.

Every failure is one line on stderr and an exit code a scheduler can act on (EXIT_CODES, also in
`--help`); a bad SEXTANT_* setting is reported like a bad option, never with a secret.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import socket
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from app import cli, links
from app.config import BACKENDS, Config, load_config, parse_timeout
from app.report import document, frozen, review, slack
from app.report.actions import ActionError
from app.report.freeze import FreezeError, freeze
from app.report.pdf import PdfError, html_to_pdf
from app.report.weeks import IsoWeek, last_full_week, parse_week
from app.sources import build_sources
from app.sources.cache import ResultCache
from app.times import rfc3339, utc_now

EXIT_OK = cli.EXIT_OK
EXIT_REFUSED = 1  # a frozen week that cannot be trusted (tampered, unreadable, signed with another key)
EXIT_USAGE = cli.EXIT_USAGE  # a bad option or setting: no key or backend, a week not over, a bad folder
EXIT_FAILED = 3  # a service did not do its part: a backend while freezing, Chromium printing, Slack
EXIT_CODES = f"""exit codes:
  {EXIT_OK}  ok (a week already frozen is left as it is)
  {EXIT_REFUSED}  a frozen week refused: tampered, unreadable, or signed with another key
  {EXIT_USAGE}  usage or configuration: a bad option or SEXTANT_* setting, no SEXTANT_REPORT_KEY, no backend,
     a week that is not over
  {EXIT_FAILED}  a service failed: a backend while freezing, Chromium printing the PDF, or Slack"""
CLI_TIMEOUT_S = 60.0


def _week(text: str) -> IsoWeek:
    try:
        return parse_week(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def default_by() -> str:
    """Who froze a week from the command line: the user and the machine."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()} (python -m app.report)"


def _config() -> Config:
    """The configuration, with backend timeouts of a minute unless SEXTANT_<B>_TIMEOUT says otherwise: a
    freeze asks as much as every page at once, and nobody waits for it."""
    config = load_config(os.environ)
    for name in BACKENDS:
        if not os.environ.get(f"SEXTANT_{name.upper()}_TIMEOUT"):
            backend = replace(getattr(config, name), timeout_s=parse_timeout("--timeout", str(CLI_TIMEOUT_S)))
            config = replace(config, **{name: backend})
    return config


def cmd_freeze(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config = _config()
    week = args.week or last_full_week(utc_now())
    result = freeze(build_sources(config), config, week, by=args.by or default_by(), force=args.force)
    done = result.frozen
    if not result.created:
        print(
            f"{week} is already frozen ({done.path}, on {done.frozen_at:%Y-%m-%d %H:%M} UTC by "
            f"{done.frozen_by}): left as it is; --force freezes it again",
            file=out,
        )
        return EXIT_OK
    kept = f"; the previous file is kept as {result.superseded}" if result.superseded else ""
    print(f"froze {week} into {done.path} (SHA-256 {done.sha256[:16]}…){kept}", file=out)
    return EXIT_OK


def cmd_weekly(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config = _config()
    week = args.week or last_full_week(utc_now())
    frozen_week = frozen.open_week(config, week)
    if frozen_week is None:
        result = freeze(build_sources(config), config, week, by=args.by or default_by())
        frozen_week = result.frozen
        print(f"froze {week} into {frozen_week.path}", file=out)
    view = review.load(frozen_week.sources(), week, ResultCache())
    link = week_link(config, week)
    html = document.render(view, frozen_week.actions, frozen=frozen_week, generated_at=utc_now(), link=link)
    target = Path(args.out) if args.out else config.reports_dir / str(week)
    try:
        target.mkdir(parents=True, exist_ok=True)
        _write(target / "report.html", html.encode("utf-8"))
        _write(target / "report.pdf", html_to_pdf(html))
    except OSError as exc:
        print(f"error: cannot write the report into {target}: {exc.strerror or exc}", file=err)
        return EXIT_USAGE
    print(f"wrote {target / 'report.html'} and {target / 'report.pdf'}", file=out)
    if config.slack_webhook_url and not args.no_slack:
        marker = config.reports_dir / f"{week}.slack.json"
        if marker.exists() and not args.repost:
            print(
                f"the summary of {week} was posted to Slack already ({marker}); --repost posts it again",
                file=out,
            )
            return EXIT_OK
        delivery = slack.post(config.slack_webhook_url, slack.summary(view, frozen_week, link))
        _write(marker, json.dumps({"posted_at": rfc3339(utc_now()), "attempts": delivery.attempts}).encode())
        print(f"posted the summary to Slack ({slack.host_of(config.slack_webhook_url)})", file=out)
    return EXIT_OK


def week_link(config: Config, week: IsoWeek) -> str | None:
    """The review's address under SEXTANT_PUBLIC_URL, for the report and the Slack button."""
    return f"{config.public_url}/{links.url('weekly_review', week=str(week))}" if config.public_url else None


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def cmd_verify(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    own = frozen.configured_key(load_config(os.environ))
    keys = ((own,) if own else ()) + ((frozen.DEMO_KEY,) if args.demo else ())
    if not keys:
        print(
            "error: SEXTANT_REPORT_KEY is not set, so the signature cannot be checked "
            "(--demo checks the shipped demo week with the published demo key)",
            file=err,
        )
        return EXIT_USAGE
    try:
        week = frozen.read(Path(args.file), keys)
    except FileNotFoundError:
        print(f"{args.file}: refused: there is no such file", file=err)
        return EXIT_REFUSED
    except frozen.FrozenWeekError as exc:
        print(f"{args.file}: refused: {exc.reason}", file=err)
        return EXIT_REFUSED
    print(
        f"{args.file}: good: {week.week} frozen on {week.frozen_at:%Y-%m-%d %H:%M} UTC by {week.frozen_by}, "
        f"signed with {week.key.label} (key {week.key.id}), SHA-256 {week.sha256}",
        file=out,
    )
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    top = cli.OneLineParser(
        prog="python -m app.report",
        description="The weekly review: freeze a week, export it as HTML and PDF, post it to Slack.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = top.add_subparsers(dest="command", required=True)

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=summary, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter
        )

    def week_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--week", type=_week, default=None, help="ISO week, e.g. 2026-W48 (default: the last one)"
        )
        p.add_argument("--by", default=None, help="who freezes it, shown on the page (default: user@host)")

    freeze_cmd = command("freeze", "freeze a finished week into SEXTANT_REPORTS_DIR")
    week_options(freeze_cmd)
    freeze_cmd.add_argument("--force", action="store_true", help="freeze again; the old file is kept")
    freeze_cmd.set_defaults(func=cmd_freeze)

    weekly = command("weekly", "freeze if needed, write report.html and report.pdf, post to Slack")
    week_options(weekly)
    weekly.add_argument("--out", default=None, help="folder for the report (default: <reports dir>/<week>)")
    weekly.add_argument("--no-slack", action="store_true", help="do not post to Slack")
    weekly.add_argument("--repost", action="store_true", help="post to Slack even if posted before")
    weekly.set_defaults(func=cmd_weekly)

    verify = command("verify", "check a frozen week's checksum and signature")
    verify.add_argument("file", help="a frozen week, e.g. reports/2026-W48.json.gz")
    verify.add_argument("--demo", action="store_true", help="accept the published demo key too")
    verify.set_defaults(func=cmd_verify)
    return top


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one command; returns its exit code (argparse exits EXIT_USAGE itself on a bad option)."""
    return cli.run(
        parser(),
        argv,
        out,
        err,
        [
            (FreezeError, lambda exc: (str(exc), EXIT_USAGE if exc.kind == "usage" else EXIT_FAILED)),
            (frozen.FrozenWeekError, lambda exc: (f"{exc.path}: refused: {exc.reason}", EXIT_REFUSED)),
            (ActionError, lambda exc: (f"the action items cannot be read: {exc}", EXIT_USAGE)),
            (PdfError, lambda exc: (str(exc), EXIT_FAILED)),
            (slack.SlackError, lambda exc: (str(exc), EXIT_FAILED)),
        ],
    )
