"""What moved the readiness score between two scores (e.g. last week and this week). Pure.

Each check's `points` is what it contributes to the score (weight x share passing, over the assessed
weight), and a binding gate contributes its cap effect (capped - uncapped, negative). The contributions add
up to the score (a missing score counts as 0), so the movements' points add up to the change in the score.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.directory import name
from app.readiness.score import Assessment, CheckResult, ReadinessScore, Status

MIN_POINTS = 0.05  # smaller drifts with no status change are noise, not news
MAX_NAMES = 5


@dataclass(frozen=True)
class Transition:
    before: Status
    after: Status
    tenants: tuple[str, ...] = ()  # empty for a platform-wide check


@dataclass(frozen=True)
class Movement:
    name: str
    display_name: str
    is_gate: bool
    points: float
    before: Status
    after: Status
    transitions: tuple[Transition, ...]
    text: str


def what_moved(previous: ReadinessScore, current: ReadinessScore) -> list[Movement]:
    """Checks and gates whose status changed or whose points moved, biggest move first (ties: by name)."""
    before_items = {item.name: item for item in previous.items}
    moves = []
    for after in current.items:
        before = before_items.get(after.name)
        transitions = _transitions(before, after)
        points = after.points - (before.points if before else 0.0)
        if not transitions and abs(points) < MIN_POINTS:
            continue
        moves.append(
            Movement(
                name=after.name,
                display_name=after.check.display_name,
                is_gate=after.check.is_gate,
                points=points,
                before=before.status if before else Status.NO_DATA,
                after=after.status,
                transitions=transitions,
                text=_text(after, transitions, points),
            )
        )
    return sorted(moves, key=lambda m: (-round(abs(m.points), 9), m.name))


def _transitions(before: CheckResult | None, after: CheckResult) -> tuple[Transition, ...]:
    if after.check.scope == "platform":
        was = before.status if before else Status.NO_DATA
        return () if was is after.status else (Transition(was, after.status),)
    old: dict[str, Assessment] = dict(before.tenants) if before else {}
    groups: dict[tuple[Status, Status], list[str]] = {}
    for tenant in sorted(set(old) | set(after.tenants)):
        was = old[tenant].status if tenant in old else Status.NO_DATA
        now = after.tenants[tenant].status if tenant in after.tenants else Status.NO_DATA
        if was is not now:
            groups.setdefault((was, now), []).append(tenant)
    order = [Status.PASS, Status.FAIL, Status.NO_DATA, Status.NOT_APPLICABLE]
    keys = sorted(groups, key=lambda k: (order.index(k[0]), order.index(k[1])))
    return tuple(Transition(b, a, tuple(groups[(b, a)])) for b, a in keys)


def _words(status: Status) -> str:
    return status.value.replace("_", " ")


def _verb(before: Status, after: Status) -> str:
    if (before, after) == (Status.PASS, Status.FAIL):
        return "fell from pass to fail"
    if (before, after) == (Status.FAIL, Status.PASS):
        return "recovered from fail to pass"
    if after is Status.NO_DATA:
        return f"lost its data (was {_words(before)})"
    if before is Status.NO_DATA:
        return f"has data again ({_words(after)})"
    return f"went from {_words(before)} to {_words(after)}"


def _names(tenants: tuple[str, ...]) -> str:
    shown = ", ".join(name("tenant", t) for t in tenants[:MAX_NAMES])
    more = len(tenants) - MAX_NAMES
    return shown + (f" and {more} more" if more > 0 else "")


def format_points(points: float) -> str:
    """`−12 points`, `+3.5 points`, `±0 points` (a true minus sign: it reads better on a big screen)."""
    value = round(points, 1)
    if value == 0:
        return "±0 points"
    text = f"{abs(value):.1f}".removesuffix(".0")
    return f"{'+' if value > 0 else '−'}{text} point{'' if abs(value) == 1 else 's'}"


def _text(after: CheckResult, transitions: tuple[Transition, ...], points: float) -> str:
    parts = []
    for t in transitions:
        part = _verb(t.before, t.after)
        if t.tenants:
            n = len(t.tenants)
            part += f" for {n} client firm{'' if n == 1 else 's'} ({_names(t.tenants)})"
        parts.append(part)
    head = after.check.display_name
    if not parts:
        parts.append("kept its status but weighs differently as other checks gained or lost data")
    text = f"{head} {'; '.join(parts)}"
    if after.check.is_gate and after.status is Status.FAIL:
        text += f" (caps the score at {after.check.cap:g})"
    return f"{text}: {format_points(points)}"
