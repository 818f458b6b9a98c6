"""Stand-in for a backend left without a URL while the others run live.

Live mode starts as soon as one backend URL is set; mixing in snapshot data for the others would show
recorded numbers as if they were current. Instead every query method raises `BackendUnavailable` naming the
missing setting, which pages already handle like any outage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from app.sources.errors import not_configured
from app.sources.stats import BackendHealth, CallStats


class NotConfiguredClient:
    def __init__(self, name: str) -> None:
        self.name = name
        self.url = ""
        self.stats = CallStats()

    def health(self) -> BackendHealth:
        return BackendHealth(self.name, self.url, False, None, None, not_configured(self.name).message)

    def close(self) -> None:
        """Nothing to release."""

    def __getattr__(self, method: str) -> Callable[..., NoReturn]:
        if method.startswith("_"):
            raise AttributeError(method)

        def unavailable(*_args: Any, **_kwargs: Any) -> NoReturn:
            error = not_configured(self.name)
            self.stats.record_failure(0.0, error)
            raise error

        return unavailable
