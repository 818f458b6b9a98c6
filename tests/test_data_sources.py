"""The Data sources page's one verdict per backend: never a green beside a failing last call."""

from datetime import UTC, datetime, timedelta

from app.data_sources import BackendStatus

T = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def status(reachable: bool, success: datetime | None, error: datetime | None) -> BackendStatus:
    return BackendStatus(
        "prometheus", "http://p", reachable, None, 0.01, None if reachable else "refused",
        calls=737, failures=22, last_query_latency_s=0.1, last_success_at=success,
        last_error="prometheus: refused a query, HTTP 400 (bad_data)" if error else None, last_error_at=error,
    )  # fmt: skip


def test_one_verdict_from_the_probe_and_the_last_call():
    assert status(False, T, None).state == "failing"
    assert status(True, T - timedelta(minutes=1), T).state == "attention"  # answers, but the last call failed
    assert status(True, T, T - timedelta(minutes=1)).state == "ok"  # an older failure is history
    assert status(True, None, None).verdict == "Working"
