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
Combine = Literal["sum", "max", "weighted"]
HOW_WORDS = {"sum": "their sum", "max": "the highest of them", "weighted": "their combined ratio"}


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
