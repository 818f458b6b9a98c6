"""How long `python -m app.slo` takes from a script or cron (issue 14): `status --json` and `status` against
the running stack's Prometheus, `status --help` and `rules`, each the median wall time of `--runs` fresh
processes (start-up included: that is what a cron job pays).

With `--against DIR` (another checkout, e.g. `git archive main | tar -x -C DIR`, with its own `.venv` or
this one's) every run of a command here is followed by one there, so that a busy machine weighs on both
alike, and the table gives their ratio. One warm-up run each first (bytecode compiled, files cached).

    .venv/bin/python bench/bench_cli.py [--runs 9] [--against DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stack.addresses import stack_url  # noqa: E402

COMMANDS = {
    "status --json": ["status", "--json"],
    "status": ["status"],
    "status --help": ["status", "--help"],
    "rules": ["rules"],
}


def wall_s(checkout: Path, args: list[str], env: dict[str, str]) -> float:
    python = checkout / ".venv" / "bin" / "python"
    started = time.perf_counter()
    subprocess.run(
        [str(python if python.exists() else Path(sys.executable)), "-m", "app.slo", *args],
        cwd=checkout,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--against", type=Path, default=None, help="another checkout, run alternately")
    args = parser.parse_args()
    prometheus = stack_url("SEXTANT_PROMETHEUS_URL")
    if not prometheus:
        sys.exit("no Prometheus: start the stack (make stack-up) or set SEXTANT_PROMETHEUS_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTANT_")}
    env["SEXTANT_PROMETHEUS_URL"] = prometheus
    checkouts = [REPO, *([args.against.resolve()] if args.against else [])]
    times: dict[tuple[str, Path], list[float]] = {}
    for name, command in COMMANDS.items():
        for checkout in checkouts:
            wall_s(checkout, command, env)  # warm-up
        for _ in range(args.runs):
            for checkout in checkouts:
                times.setdefault((name, checkout), []).append(wall_s(checkout, command, env))
    head = f"{'command':16} {'this checkout':>14}"
    if args.against:
        head += f" {str(args.against)[-24:]:>24} {'ratio':>6}"
    print(f"python -m app.slo, median of {args.runs} runs (s), Prometheus at {prometheus}")
    print(head)
    for name in COMMANDS:
        here = statistics.median(times[(name, REPO)])
        line = f"{name:16} {here:14.3f}"
        if args.against:
            there = statistics.median(times[(name, checkouts[1])])
            line += f" {there:24.3f} {here / there:6.2f}"
        print(line)


if __name__ == "__main__":
    main()
