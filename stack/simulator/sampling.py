"""Which traces reach Jaeger: tail sampling as production keeps 30 days of traces.

Every logged response belongs to a trace, and its log line carries the trace id (the playbook's structured
field), but only some traces are kept: every trace with a failed (5xx) span, every slow one (the logged
response slower than its route's 99th percentile) and ``REST_SHARE`` of the others. Pure and vectorised,
so ``events.py`` decides for a whole day of log lines at once.
"""

from __future__ import annotations

import numpy as np

SLOW_Z = 2.326  # the 99th percentile of the standard normal: slower than p99 of the route's latency
REST_SHARE = 0.02


def keep(
    codes: np.ndarray, latency_z: np.ndarray, sigma: float, multiplier: np.ndarray, uniform: np.ndarray
) -> np.ndarray:
    """Which traces to keep: failed, slow, or drawn (``uniform < REST_SHARE``).

    The logged span's own latency is median·multiplier·e^{σ·z} (``latency_z`` the standard normal draw,
    ``multiplier`` the scenario's slowdown at that moment: ×4 during the HMRC outage, …); it is slow when it
    exceeds the route's usual p99, median·e^{σ·SLOW_Z}."""
    slow = latency_z + np.log(multiplier) / sigma > SLOW_Z
    return (codes == "500") | slow | (uniform < REST_SHARE)
