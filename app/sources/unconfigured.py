"""Stand-in for a backend left without a URL while the others run live.

Live mode starts as soon as one backend URL is set; mixing in snapshot data for the others would show
recorded numbers as if they were current. Instead every query method raises `BackendUnavailable` naming the
missing setting, which pages already handle like any outage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from app.sources.errors import BackendUnavailable
from app.sources.stats import BackendHealth, CallStats


class NotConfiguredClient:
    def __init__(self, name: str) -> None:
        self.name = name
        self.url = ""
        self.stats = CallStats()
        self._message = f"not configured: set SEXTANT_{name.upper()}_URL"

    def health(self) -> BackendHealth:
        return BackendHealth(self.name, self.url, False, None, None, self._message)

    def close(self) -> None:
        """Nothing to release."""

    def __getattr__(self, method: str) -> Callable[..., NoReturn]:
        if method.startswith("_"):
            raise AttributeError(method)

        def unavailable(*_args: Any, **_kwargs: Any) -> NoReturn:
            error = BackendUnavailable(self.name, self._message, error_type="not_configured")
            self.stats.record_failure(0.0, error)
            raise error

        return unavailable
