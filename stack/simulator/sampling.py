"""Which traces reach Jaeger: tail sampling as production keeps 30 days of traces.

Every logged response belongs to a trace, and its log line carries the trace id (the playbook's structured
field), but only some traces are kept: every trace with a failed (5xx) span, every slow one (the logged
response slower than its route's 99th percentile) and ``REST_SHARE`` of the others, in the last
``RECENT_DAYS``; before them, ``OLDER_SHARE`` of that. Pure and vectorised, so ``events.py`` decides for a
whole day of log lines at once.
"""

from __future__ import annotations

import numpy as np

SLOW_Z = 2.326  # the 99th percentile of the standard normal: slower than p99 of the route's latency
REST_SHARE = 0.02
# Days older than RECENT_DAYS before the anchor keep OLDER_SHARE of what a recent day keeps (failed and slow
# traces, and the rest's share, alike): the stack loads 30 days of traces, most of them old ones nobody opens
# in the demo, and each span costs OpenSearch indexing at every start.
RECENT_DAYS = 8
OLDER_SHARE = 0.2


def share(days_before_anchor: float) -> float:
    """How much of what tail sampling keeps is kept for a day that starts this many days before the anchor."""
    return 1.0 if days_before_anchor <= RECENT_DAYS else OLDER_SHARE


def keep(
    codes: np.ndarray,
    latency_z: np.ndarray,
    sigma: float,
    multiplier: np.ndarray,
    uniform: np.ndarray,
    kept_share: float = 1.0,
) -> np.ndarray:
    """Which traces to keep: failed or slow ones drawn with ``uniform < kept_share``, the others with
    ``uniform < REST_SHARE·kept_share`` (a recent day: every failed and slow one, and REST_SHARE of the rest).

    The logged span's own latency is median·multiplier·e^{σ·z} (``latency_z`` the standard normal draw,
    ``multiplier`` the scenario's slowdown at that moment: ×4 during the HMRC outage, …); it is slow when it
    exceeds the route's usual p99, median·e^{σ·SLOW_Z}."""
    slow = latency_z + np.log(multiplier) / sigma > SLOW_Z
    return (((codes == "500") | slow) & (uniform < kept_share)) | (uniform < REST_SHARE * kept_share)
