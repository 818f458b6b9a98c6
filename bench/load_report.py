"""The figures of one `make load` run (bench/load.py) per session count, its table and the targets of
issue 15 checked against them."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.backend_counters import RequestCounter
from bench.process_stats import CPU_LABELS

P95_TARGET_S = 3.0
REQUEST_RATIO_TARGET = 1.2
RSS_TARGET_MB = 800
FIRST_LOAD = "first page, by address"  # a session's first, or the one after a stuck page


@dataclass
class PhaseResult:
    sessions: int
    settle_s: dict[str, list[float]] = field(default_factory=dict)  # per view label, and FIRST_LOAD
    views_settled: int = 0  # the others in settle_s count as the settle timeout
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    peak_rss_mb: float = 0.0
    cpu_percent: dict[str, float] = field(default_factory=dict)  # of one core, per CPU_LABELS key
    requests_per_min: dict[str, float | str] = field(default_factory=dict)  # a text when not measured

    def record(self, label: str, seconds: float, settled: bool = True) -> None:
        self.settle_s.setdefault(label, []).append(seconds)
        self.views_settled += settled


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (as numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def settle_cells(values: list[float] | None) -> list[str]:
    if not values:
        return ["0", "no data", "no data"]
    return [str(len(values)), f"{percentile(values, 0.5):.2f}", f"{percentile(values, 0.95):.2f}"]


def table(
    results: list[PhaseResult], pages: list[str], wanted: list[RequestCounter], lifetime_peak_mb: float
) -> str:
    labels = [*pages, FIRST_LOAD]
    rows: list[list[str]] = [
        ["", *(cell for r in results for cell in (f"{r.sessions} sessions", "", ""))],
        ["time to settle, s", *(["visits", "p50", "p95"] * len(results))],
    ]
    rows += [
        [f"  {label}", *(c for r in results for c in settle_cells(r.settle_s.get(label)))] for label in labels
    ]
    every_view = [
        [s for label, values in r.settle_s.items() if label != FIRST_LOAD for s in values] for r in results
    ]
    rows.append(["  every page", *(c for values in every_view for c in settle_cells(values))])

    def wide(name: str, cells: list[str], note: str = "") -> list[str]:
        return [name, *(part for cell in cells for part in ("", "", cell)), note]

    rows.append(wide("page views settled", [str(r.views_settled) for r in results]))
    rows.append(wide("errors", [str(len(r.errors)) for r in results]))
    rows.append(
        wide(
            "Sextant peak RSS, MB",
            [f"{r.peak_rss_mb:.0f}" for r in results],
            f"(VmHWM over the whole run {lifetime_peak_mb:.0f})",
        )
    )
    rows.append(wide("CPU, % of one core", [""] * len(results)))
    for group, label in CPU_LABELS.items():
        cells = [f"{r.cpu_percent[group]:.0f}" if group in r.cpu_percent else "not measured" for r in results]
        rows.append(wide(f"  {label}", cells))
    rows.append(wide("CPU seconds per settled page view", [""] * len(results)))
    for group in ("sextant", "browser"):
        rows.append(wide(f"  {CPU_LABELS[group]}", [cpu_per_view(r, group) for r in results]))
    rows.append(wide("backend requests per minute", [""] * len(results), "last/first"))
    for counter in wanted:
        rates = [r.requests_per_min[counter.name] for r in results]
        cells = [f"{rate:.0f}" if isinstance(rate, float) else "not measured" for rate in rates]
        rows.append(wide(f"  {counter.name}", cells, ratio_text(rates)))
    width = [max(len(row[i]) for row in rows if i < len(row)) for i in range(max(map(len, rows)))]
    lines = []
    for row in rows:
        first, *rest = row
        lines.append(
            "  ".join(
                [first.ljust(width[0]), *(cell.rjust(width[i + 1]) for i, cell in enumerate(rest))]
            ).rstrip()
        )
    return "\n".join(lines)


def cpu_per_view(result: PhaseResult, group: str) -> str:
    if group not in result.cpu_percent:
        return "not measured"
    if not result.views_settled:
        return "no data"
    return f"{result.cpu_percent[group] * result.elapsed_s / 100 / result.views_settled:.2f}"


def ratio_text(rates: list[float | str]) -> str:
    ratio = request_ratio(rates)
    return "" if ratio is None else ("not measured" if isinstance(ratio, str) else f"{ratio:.2f}×")


def request_ratio(rates: list[float | str]) -> float | str | None:
    """The last phase's rate over the first's: None with one phase, a text when it cannot be computed."""
    if len(rates) < 2:
        return None
    first, last = rates[0], rates[-1]
    if isinstance(first, str) or isinstance(last, str):
        return "not measured"
    if first == 0:
        return "no requests in the first phase"
    return last / first


def verdicts(
    results: list[PhaseResult], pages: list[str], wanted: list[RequestCounter], lifetime_peak_mb: float
) -> list[tuple[bool, str]]:
    """(met, what) for each target of issue 15; a figure that could not be measured does not meet it."""
    first = results[0]
    slow = {
        label: percentile(values, 0.95)
        for label, values in first.settle_s.items()
        if label != FIRST_LOAD and percentile(values, 0.95) >= P95_TARGET_S
    }
    missing = [label for label in pages if not first.settle_s.get(label)]
    checks = [
        (
            not slow and not missing,
            f"p95 to settle under {P95_TARGET_S:.0f} s on every page at {first.sessions} sessions"
            + "".join(f"; {label}: {p95:.2f} s" for label, p95 in slow.items())
            + (f"; never measured: {', '.join(missing)}" if missing else ""),
        )
    ]
    last = results[-1]
    # Fewer requests from a crowd that could not open its pages shows nothing about the cache.
    crowd_shown = last.views_settled >= first.views_settled
    for counter in wanted:
        ratio = request_ratio([r.requests_per_min[counter.name] for r in results])
        if ratio is not None:
            checks.append(
                (
                    isinstance(ratio, float) and ratio <= REQUEST_RATIO_TARGET and crowd_shown,
                    f"{counter.name} per minute at {last.sessions} sessions within "
                    f"{REQUEST_RATIO_TARGET}× of {first.sessions}: "
                    + (f"{ratio:.2f}×" if isinstance(ratio, float) else ratio)
                    + (
                        ""
                        if crowd_shown
                        else f", but {last.sessions} sessions settled {last.views_settled} page views"
                        f" against {first.views_settled} (not shown)"
                    ),
                )
            )
    checks.append(
        (lifetime_peak_mb < RSS_TARGET_MB, f"RSS under {RSS_TARGET_MB} MB: {lifetime_peak_mb:.0f} MB")
    )
    errors = sum(len(r.errors) for r in results)
    checks.append((errors == 0, f"zero errors: {errors}"))
    return checks
