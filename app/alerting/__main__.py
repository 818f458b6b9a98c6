"""`python -m app.alerting rules --output FILE`: write the security alert rules generated from the policy.

Exit status: 0 written, 1 the policy is invalid (each problem on stderr), 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.alerting.rules import load_security, render_security
from app.security import DEFAULT_PATH, SecurityPolicyError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.alerting", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["rules"])
    parser.add_argument("--output", type=Path, required=True, help="the rule file to write")
    parser.add_argument("--policy", type=Path, default=DEFAULT_PATH, help="the security policy to read")
    args = parser.parse_args(argv)
    try:
        policy, alerts = load_security(args.policy)
    except SecurityPolicyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_security(policy, alerts), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
