"""A chart of many series draws the top ones by the figure that matters and the rest as one "others" line.

A chart of hundreds of lines is unreadable and sends the browser every point of every line (a platform of
600 services made the Service health page's three charts several megabytes). `top_and_others` keeps the
`n` series ranked first and folds the rest into one series named `OTHERS`, combined as the figure allows:
summed (a rate), averaged weighted by another curve (an error ratio by the request rate), or their highest
(a latency quantile cannot be combined: the slowest of the rest bounds them). The caller says so on screen
with `Reduced.note`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pandas as pd

TOP_N = 10
OTHERS = "others"
Combine = Literal["sum", "max", "min", "weighted"]
Curves = Literal["sum", "max", "min"]  # how `top_groups` combines the curves it folds
HOW_WORDS = {
    "sum": "their sum",
    "max": "the highest of them",
    "min": "the lowest of them",
    "weighted": "their combined ratio",
}


@dataclass(frozen=True)
class Reduced:
    frame: pd.DataFrame  # the kept series and, when any was folded, the OTHERS series
    kept: int
    folded: int  # series drawn as OTHERS
    how: Combine

    def note(self, noun: str, by: str) -> str | None:
        """ "The 10 services with the highest request rate; the other 590 as "others" (their sum)." """
        if not self.folded:
            return None
        return (
            f'The {self.kept} {noun} with the {by}; the other {self.folded:,} drawn as "{OTHERS}" '
            f"({HOW_WORDS[self.how]})."
        )


def top_and_others(
    frame: pd.DataFrame,
    key: str,
    ranking: Mapping[str, float],
    *,
    how: Combine,
    n: int = TOP_N,
    weights: pd.DataFrame | None = None,
) -> Reduced:
    """`frame` (columns `key`, `timestamp`, `value`) with the `n` series ranked highest by `ranking` (a
    series without a figure ranks last) and the rest combined per timestamp; `weights` (same columns) for
    `how="weighted"`. Series of `frame` the ranking does not know rank last too."""
    names = frame[key].drop_duplicates().tolist() if key in frame.columns else []  # in order of appearance
    if len(names) <= n + 1:  # folding one series into "others" would hide its name for nothing
        return Reduced(frame, len(names), 0, how)
    ordered = sorted(names, key=lambda s: (pd.isna(ranking.get(s)), -(ranking.get(s) or 0.0), s))
    kept = set(ordered[:n])
    rest = frame[~frame[key].isin(kept)]
    if how == "sum":
        combined = rest.groupby("timestamp", as_index=False)["value"].sum(min_count=1)
    elif how == "max":
        combined = rest.groupby("timestamp", as_index=False)["value"].max()
    else:
        if weights is None:
            raise ValueError('how="weighted" needs weights')
        joined = rest.merge(weights.rename(columns={"value": "weight"}), on=[key, "timestamp"], how="inner")
        joined = joined.assign(product=joined["value"] * joined["weight"])
        sums = joined.groupby("timestamp", as_index=False)[["product", "weight"]].sum()
        combined = sums.assign(value=sums["product"] / sums["weight"].where(sums["weight"] > 0))
        combined = combined[["timestamp", "value"]]
    combined = combined.dropna(subset=["value"]).assign(**{key: OTHERS})
    out = pd.concat([frame[frame[key].isin(kept)], combined[[key, "timestamp", "value"]]], ignore_index=True)
    return Reduced(out, n, len(names) - n, how)


def top_groups(
    curves: pd.DataFrame,
    figures: pd.DataFrame | None,
    labels: list[str],
    *,
    how: Curves,
    lowest_first: bool = False,
    lines: int = TOP_N,
) -> Reduced:
    """A dashboard panel's curves (columns series, legend, the `labels`, timestamp, value) with the label
    groups that matter most, each with all its series: a group is one combination of label values (a
    route), a series one of the panel's queries (p50, p95, p99), so that the p99 of a route is never drawn
    without its p50. A group ranks by the highest figure of its series (the lowest when `lowest_first`),
    from `figures` (one value per series over the range) or, without them, from the curves; as many groups
    are kept as draw about `lines` lines, the rest combined per series and timestamp into the group
    `OTHERS` (legend "p95 · others")."""
    groups = _group_names(curves, labels)
    names = groups.drop_duplicates().tolist()
    keep = max(1, lines // max(1, curves["series"].nunique() if len(curves) else 1))
    if not labels or len(names) <= keep + 1:  # folding one group would hide its name for nothing
        return Reduced(curves, len(names), 0, how)
    usable = figures is not None and not figures.empty and set(labels) <= set(figures.columns)
    source = figures if usable and figures is not None else curves
    figure = source["value"].groupby(_group_names(source, labels)).agg("min" if lowest_first else "max")
    sign = 1.0 if lowest_first else -1.0

    def rank(group: str) -> tuple[bool, float, str]:
        value = figure.get(group)
        return (pd.isna(value), sign * value if not pd.isna(value) else 0.0, group)

    ordered = sorted(names, key=rank)
    kept = groups.isin(ordered[:keep])
    rest = curves[~kept].groupby(["series", "timestamp"], as_index=False)["value"]
    combined = (rest.sum(min_count=1) if how == "sum" else rest.agg(how)).dropna(subset=["value"])
    combined = combined.assign(**{label: OTHERS for label in labels})
    combined["legend"] = [f"{s} · {OTHERS}" if s else OTHERS for s in combined["series"]]
    out = pd.concat([curves[kept], combined[curves.columns]], ignore_index=True)
    return Reduced(out, keep, len(names) - keep, how)


def _group_names(frame: pd.DataFrame, labels: list[str]) -> pd.Series:
    """Each row's group: its label values joined (empty when the frame has no labels)."""
    if not labels:
        return pd.Series([""] * len(frame), index=frame.index)
    names = frame[labels[0]].astype(str)
    for label in labels[1:]:  # column by column: a row-wise join took 1.6 s for 36,000 points
        names = names + " · " + frame[label].astype(str)
    return names


BAR_LIMIT = 20


def top_bars(frame: pd.DataFrame, label: str, *, lowest_first: bool, n: int = BAR_LIMIT) -> Reduced:
    """One bar per `label` value: the `n` that matter most (the lowest `value` when `lowest_first`, e.g. a
    share expected above a threshold, else the highest) and one bar `others (K)` standing for the rest at
    the figure of the one nearest the kept bars (every other one of them is further from the top)."""
    if len(frame) <= n + 1:
        return Reduced(frame, len(frame), 0, "max")
    ordered = frame.sort_values(["value", label], ascending=[lowest_first, True], na_position="last")
    kept, rest = ordered.iloc[:n], ordered.iloc[n:]
    others = rest.iloc[[0]].assign(**{label: f"{OTHERS} ({len(rest):,})"})
    return Reduced(pd.concat([kept, others], ignore_index=True), n, len(rest), "max")


def bars_note(reduced: Reduced, *, lowest_first: bool) -> str | None:
    """ "The 20 lowest of 800 bars; the other 780 are one bar, "others (780)", at the lowest of theirs." """
    if not reduced.folded:
        return None
    end = "lowest" if lowest_first else "highest"
    total, rest = reduced.kept + reduced.folded, reduced.folded
    return (
        f"The {reduced.kept} {end} of {total:,} bars; the other {rest:,} are "
        f'one bar, "{OTHERS} ({rest:,})", at the {end} figure among them.'
    )
