"""The filing readiness score: one number an executive can trust, and why it is what it is.

The definition lives in `slo_definitions/readiness.yaml` (weighted checks and hard gates, each with its
PromQL, threshold, unit and a plain-English description). The pieces:

- `load_definition(path)`: read and validate the file (errors name the file and field);
- `score(definition, inputs)`: the pure computation (rules in app.readiness_score's docstring);
- `what_moved(previous, current)`: the movements behind a change of score;
- `gather_inputs(definition, prom, at, slo_states)`: the numbers from Prometheus, queried concurrently;
- `weekly_trend(definition, prom, end, weeks, slo_states_at)`: the score at each of the last week ends.
"""

from app.readiness.definition import (
    DEFAULT_PATH,
    Check,
    ReadinessDefinition,
    ReadinessDefinitionError,
    load_definition,
    parse_definition,
)
from app.readiness.gather import (
    DeadlineClock,
    InstantQuerier,
    Trend,
    calendar_deadline,
    gather_inputs,
    planned_queries,
    week_ends,
    weekly_trend,
)
from app.readiness.moves import Movement, Transition, format_points, what_moved
from app.readiness.score import (
    NOT_APPLICABLE,
    RULES,
    Assessment,
    CheckResult,
    Figure,
    ReadinessInputs,
    ReadinessScore,
    Status,
    SubScore,
    score,
)

__all__ = [
    "DEFAULT_PATH",
    "NOT_APPLICABLE",
    "RULES",
    "Check",
    "DeadlineClock",
    "CheckResult",
    "Figure",
    "InstantQuerier",
    "Movement",
    "Assessment",
    "ReadinessDefinition",
    "ReadinessDefinitionError",
    "ReadinessInputs",
    "ReadinessScore",
    "Status",
    "SubScore",
    "Transition",
    "Trend",
    "calendar_deadline",
    "format_points",
    "gather_inputs",
    "load_definition",
    "parse_definition",
    "planned_queries",
    "score",
    "week_ends",
    "weekly_trend",
    "what_moved",
]
