"""A big trace made readable: repeated sibling spans grouped into one row, deep spans folded into their
ancestor. Pure: works on `waterfall_rows` (depth-first order, one row per span).

A trace of thousands of spans is mostly repetition (a query per row, a call per page, retries). Rules:
- a trace of at most `MAX_ROWS` spans is shown whole, one row per span;
- otherwise siblings (same parent) with the same service and operation, `GROUP_MIN` or more of them,
  become one row "×N" carrying their total and slowest duration; their descendants fold into that row;
- if that still leaves more than `MAX_ROWS` rows, spans deeper than a depth limit fold into their
  ancestor at that depth; the limit is the deepest one that keeps the rows within `MAX_ROWS`;
- a failed span is never grouped nor folded, and neither is any ancestor of one: a failure keeps its own
  row and the path to it stays visible, so no row stands for a failure it does not show.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from app.traces.tree import WATERFALL_COLUMNS

MAX_ROWS = 300
GROUP_MIN = 2
FOLDED_COLUMNS = (*WATERFALL_COLUMNS, "count", "spans", "total_ms", "slowest_ms")


@dataclass(frozen=True)
class Folded:
    """The rows to draw and what was done to get them (for the sentence on screen)."""

    rows: pd.DataFrame  # FOLDED_COLUMNS
    spans: int  # spans in the trace
    groups: int  # rows standing for several siblings
    depth_limit: int | None  # spans deeper than this folded into their ancestor (None: no limit)

    @property
    def folded(self) -> bool:
        return len(self.rows) < self.spans

    def summary(self) -> str:
        """What the rows stand for, in words ("" when every span has its own row)."""
        if not self.folded:
            return ""
        ways = []
        if self.groups:
            ways.append(
                f"{self.groups:,} rows group repeated calls (same service and operation, same parent)"
            )
        if self.depth_limit is not None:
            ways.append(f"spans below depth {self.depth_limit} are folded into their ancestor")
        return (
            f"{self.spans:,} spans shown as {len(self.rows):,} rows: {'; '.join(ways)}. "
            "Failed spans and the path to them always keep their own rows."
        )


def whole(rows: pd.DataFrame) -> Folded:
    """Every span its own row."""
    frame = rows.assign(count=1, spans=1, total_ms=rows["duration_ms"], slowest_ms=rows["duration_ms"])
    return Folded(frame[list(FOLDED_COLUMNS)].reset_index(drop=True), len(rows), 0, None)


def fold(rows: pd.DataFrame, max_rows: int = MAX_ROWS, group_min: int = GROUP_MIN) -> Folded:
    """`rows` (from `waterfall_rows`) grouped and folded by the rules above."""
    if len(rows) <= max_rows:
        return whole(rows)
    tree = _Tree(rows)
    built = tree.build(None, group_min)
    limit = None
    if len(built) > max_rows:
        # The number of rows never shrinks as the limit deepens: the deepest limit that fits.
        low, high = 0, tree.max_depth
        while low < high:
            middle = (low + high + 1) // 2
            if len(tree.build(middle, group_min)) <= max_rows:
                low = middle
            else:
                high = middle - 1
        limit = low
        built = tree.build(limit, group_min)
    frame = pd.DataFrame([tree.row(item, spans) for item, spans in built], columns=list(FOLDED_COLUMNS))
    frame["row"] = range(len(frame))
    return Folded(frame, len(rows), sum(1 for item, _ in built if len(item) > 1), limit)


class _Tree:
    """The span tree behind the depth-first rows: each row's subtree is the rows after it that are deeper
    (waterfall order), which also holds for spans whose parent is missing or part of a cycle."""

    def __init__(self, rows: pd.DataFrame) -> None:
        self.rows = rows.reset_index(drop=True)
        depth = [int(d) for d in self.rows["depth"]]
        failed = [bool(e) for e in self.rows["error"]]
        n = len(depth)
        self.depth = depth
        self.max_depth = max(depth, default=0)
        self.end = [n] * n  # subtree of i: rows i .. end[i] - 1
        self.children: list[list[int]] = [[] for _ in range(n)]
        self.roots: list[int] = []
        open_rows: list[int] = []
        for i, d in enumerate(depth):
            while open_rows and depth[open_rows[-1]] >= d:
                self.end[open_rows.pop()] = i
            (self.children[open_rows[-1]] if open_rows else self.roots).append(i)
            open_rows.append(i)
        self.failure_inside = failed[:]  # the span or one below it failed
        for i in range(n - 1, -1, -1):
            if failed[i]:
                continue
            self.failure_inside[i] = any(self.failure_inside[k] for k in self.children[i])
        services, operations = self.rows["service"].astype(str), self.rows["operation"].astype(str)
        self.keys = list(zip(services, operations, strict=True))

    def build(self, limit: int | None, group_min: int) -> list[tuple[tuple[int, ...], int]]:
        """Rows as (span positions, spans it stands for): one position, a span (with the descendants
        folded into it); several, a group of siblings (with all their descendants)."""
        out: list[tuple[tuple[int, ...], int]] = []
        stack = list(reversed(self._items(self.roots, group_min)))
        while stack:
            item = stack.pop()
            if len(item) > 1:  # a group holds its members' subtrees
                out.append((item, sum(self.end[i] - i for i in item)))
                continue
            i = item[0]
            kids = self.children[i]
            if limit is not None and self.depth[i] >= limit:
                kids = [k for k in kids if self.failure_inside[k]]
            out.append((item, self.end[i] - i - sum(self.end[k] - k for k in kids)))
            stack.extend(reversed(self._items(kids, group_min)))
        return out

    def _items(self, siblings: list[int], group_min: int) -> list[tuple[int, ...]]:
        groups: dict[tuple[str, str], list[int]] = {}
        for k in siblings:
            if not self.failure_inside[k]:
                groups.setdefault(self.keys[k], []).append(k)
        items, placed = [], set()
        for k in siblings:
            members = groups.get(self.keys[k], []) if not self.failure_inside[k] else []
            if len(members) >= group_min:
                if members[0] == k:
                    items.append(tuple(members))
                placed.add(k)
            else:
                items.append((k,))
        return items

    def row(self, item: tuple[int, ...], spans: int) -> dict[str, object]:
        """The row drawn for one item: a span, or a group of siblings with their extent, total and slowest
        duration; `spans` counts every span it stands for, folded descendants included."""
        first = self.rows.iloc[item[0]].to_dict()
        members = self.rows.iloc[list(item)]
        durations = members["duration_ms"].astype("float64")
        row = {
            **first,
            "count": len(item),
            "spans": spans,
            "total_ms": float(durations.sum()),
            "slowest_ms": float(durations.max()),
        }
        if len(item) > 1:
            start, end = float(members["start_ms"].min()), float(members["end_ms"].max())
            row.update(
                span_id=",".join(str(s) for s in members["span_id"]),
                label=f"{first['label']} ×{len(item)}",
                start_ms=start,
                end_ms=end,
                duration_ms=end - start,
                self_ms=float(members["self_ms"].sum()),
                critical_ms=float(members["critical_ms"].sum()),
                on_critical_path=bool(members["on_critical_path"].any()),
                detail="",
            )
        return row
