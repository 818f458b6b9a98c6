"""``python -m stack.simulator {backfill,serve,load,slos,expect}`` — see README.md."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import model
from .load import AHEAD_DAYS


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--anchor", default=None, help="RFC3339; default: now rounded down to the hour (UTC)")
    p.add_argument("--seed", type=int, default=model.DEFAULT_SEED)
    p.add_argument(
        "--scale",
        type=int,
        default=1,
        help="a platform N times the demo's: services, routes, client firms, SLOs, logs, trace fan-out",
    )
    p.add_argument(
        "--route-paths",
        type=int,
        default=1,
        help="paths per route, the new ones at 1/K of its rate: K times the HTTP series (default 1)",
    )


def _anchor(args) -> str:
    a = model.parse_anchor(args.anchor) if args.anchor else model.default_anchor()
    return a.isoformat().replace("+00:00", "Z")


def _labels(args) -> dict[str, str]:
    out = {}
    if args.job:
        out["job"] = args.job
    if args.instance:
        out["instance"] = args.instance
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack.simulator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    bf = sub.add_parser("backfill", help="write 30 days of metrics into a Prometheus data directory")
    _common(bf)
    bf.add_argument(
        "--out", required=True, type=Path, help="the Prometheus data directory (--storage.tsdb.path)"
    )
    bf.add_argument("--days", type=int, default=model.HISTORY_DAYS)
    bf.add_argument("--workers", type=int, default=2, help="promtool processes at a time")
    bf.add_argument("--job", default="simulator", help="job label of the backfilled series ('' for none)")
    bf.add_argument(
        "--instance", default="127.0.0.1:19100", help="instance label of the backfilled series ('' for none)"
    )
    bf.add_argument("--promtool", default="promtool")
    bf.add_argument(
        "--max-block-duration", default="162h", help="promtool block size ('' for its default, 2h)"
    )

    sv = sub.add_parser("serve", help="serve /metrics (current minute) and /healthz")
    _common(sv)
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=19100)
    sv.add_argument(
        "--planted", type=Path, default=None, help="text-format lines to add to every scrape while it exists"
    )

    ld = sub.add_parser(
        "load", help="write logs, audit events and incidents to OpenSearch and traces to Jaeger"
    )
    _common(ld)
    ld.add_argument("--opensearch-url", required=True)
    ld.add_argument(
        "--otlp-url", required=True, help="full OTLP/HTTP traces endpoint, e.g. http://h:4318/v1/traces"
    )
    ld.add_argument(
        "--jaeger-url", default=None, help="Jaeger query base URL; default: OTLP host, port 16686"
    )
    ld.add_argument("--skip-traces", action="store_true")
    ld.add_argument("--skip-opensearch", action="store_true")

    ld.add_argument(
        "--days",
        type=int,
        default=model.HISTORY_DAYS,
        help="the last DAYS days of the history; fewer than 30 also write one day ahead of the anchor, not "
        f"{AHEAD_DAYS} (a shortened data set is for a measurement on the day it is loaded)",
    )

    sl = sub.add_parser("slos", help="write the SLO definitions of the scale (slo_definitions/ and copies)")
    _common(sl)
    sl.add_argument("--out", required=True, type=Path, help="directory to write (emptied first)")

    ex = sub.add_parser("expect", help="print model figures as JSON (scenarios, or one counter increase)")
    _common(ex)
    ex.add_argument("--metric", default=None)
    ex.add_argument("--labels", default="{}", help='JSON object, e.g. {"result": "error"}')
    ex.add_argument("--start", default=None, help="RFC3339")
    ex.add_argument("--end", default=None, help="RFC3339")

    args = parser.parse_args(argv)
    anchor = _anchor(args)
    if args.scale != 1 or args.route_paths != 1:
        model.use_scale(args.scale, args.route_paths)

    if args.command == "backfill":
        from .backfill import backfill

        summary = backfill(
            anchor,
            args.seed,
            args.out,
            _labels(args),
            workers=args.workers,
            days=args.days,
            promtool=args.promtool,
            max_block_duration=args.max_block_duration or None,
        )
        summary["blocks"] = len(summary["blocks"])
        print(json.dumps(summary))
        return 0
    if args.command == "serve":
        from .exporter import serve

        serve(anchor, args.seed, args.host, args.port, args.planted)
        return 0
    if args.command == "load":
        from .load import load

        summary = load(
            anchor,
            args.seed,
            opensearch_url=None if args.skip_opensearch else args.opensearch_url,
            otlp_url=None if args.skip_traces else args.otlp_url,
            jaeger_url=args.jaeger_url,
            days=range(
                model.HISTORY_DAYS - args.days,
                model.HISTORY_DAYS + (AHEAD_DAYS if args.days >= model.HISTORY_DAYS else 1),
            ),
        )
        print(json.dumps(summary))
        return 0
    if args.command == "slos":
        from .slos import write_definitions

        files = write_definitions(args.scale, args.out)
        print(json.dumps({"scale": args.scale, "out": str(args.out), "files": files}))
        return 0
    if args.command == "expect":
        if args.metric:
            start = model.parse_anchor(args.start) if args.start else None
            end = model.parse_anchor(args.end) if args.end else None
            m = model.get_model(model.parse_anchor(anchor), args.seed)
            value = m.counter_increase(args.metric, json.loads(args.labels), start or m.t0, end or m.a)
            print(json.dumps({"metric": args.metric, "labels": json.loads(args.labels), "increase": value}))
        else:
            print(
                json.dumps(
                    [
                        {
                            "name": s.name,
                            "title": s.title,
                            "start": s.start.isoformat(),
                            "end": s.end.isoformat() if s.end else None,
                            "services": list(s.services),
                            "description": s.description,
                        }
                        for s in model.scenarios(anchor)
                    ],
                    indent=1,
                )
            )
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
