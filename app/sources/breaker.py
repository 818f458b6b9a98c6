"""A per-backend circuit breaker: a backend that timed out or refused a connection counts as down a while.

Clients are shared by every session, so the breaker is process-wide: the one view that waited for a hanging
backend spares every other view that wait. While it is open, calls fail at once with a `BackendUnavailable`
that says since when and why, and a quiet background probe (the backend's cheap health request, not counted
in the Data sources statistics) closes it as soon as the backend answers, so the next refresh recovers
without restarting Sextant. It stays open `down_s` seconds after the last failure seen, a page's or the
probe's; once nobody has asked for `IDLE_S` the probe stops and the breaker simply expires, after which the
next call tries the backend for real. A closed client's breaker is stopped: it probes no more.

Only a timeout or a failed connection opens it. An HTTP 5xx or a malformed answer does not: the server did
answer, and quickly, so failing fast would save no waiting, and such a failure often belongs to one
question (an expensive PromQL, one broken index) while the others still work. `ResultCache` remembers
those briefly per question instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from app.sources.errors import BackendDown, BackendError

PROBE_EVERY_S = 2.0
IDLE_S = 300.0


class Breaker:
    def __init__(
        self,
        name: str,
        down_s: float,
        probe: Callable[[], object],
        *,
        probe_every_s: float | None = None,
        background: bool = True,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`probe()` raises when the backend does not answer; `down_s` 0 turns the breaker off.
        `background=False` leaves probing to the caller (`probe_once`), for tests; `probe_every_s` defaults
        to PROBE_EVERY_S."""
        self.name = name
        self.down_s = down_s
        self._probe = probe
        self._probe_every_s = probe_every_s
        self._background = background
        self._clock = clock
        self._wall = wall_clock
        self._lock = threading.Lock()
        self._reason: BackendError | None = None  # None: closed
        self._since: datetime | None = None
        self._until = 0.0  # monotonic; open until then (or while a probe is out)
        self._last_asked = 0.0
        self._probing = False
        self._stopped = False

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._open_locked()

    def check(self) -> None:
        """Raise at once when the backend counts as down."""
        with self._lock:
            if not self._open_locked():
                return
            self._last_asked = self._clock()
            since, reason = self._since, self._reason
        assert since is not None and reason is not None
        raise BackendDown(self.name, since, reason)

    def trip(self, error: BackendError) -> None:
        """A timeout or a failed connection: count the backend as down for `down_s` from now."""
        if self.down_s <= 0:
            return
        with self._lock:
            now = self._clock()
            if not self._open_locked():
                self._reason, self._since = error, self._wall()
            self._until = now + self.down_s
            self._last_asked = now
            start = self._background and not self._probing and not self._stopped
            self._probing = self._probing or start
        if start:
            threading.Thread(target=self._probe_loop, name=f"sextant-probe-{self.name}", daemon=True).start()

    def stop(self) -> None:
        """No probe from now on (a probe already asking ends with its answer): the client is closed, and a
        probe left running would ask whatever server has the backend's port by then."""
        with self._lock:
            self._stopped = True

    def probe_once(self) -> bool:
        """Ask the backend once: any answer closes the breaker, none keeps it down `down_s` longer."""
        try:
            self._probe()
        except Exception:  # whatever kept it from an answer (never let it end the probe loop)
            with self._lock:
                if self._reason is not None:
                    self._until = max(self._until, self._clock() + self.down_s)
            return False
        with self._lock:
            self._reason = self._since = None
        return True

    def _open_locked(self) -> bool:
        return self._reason is not None and (self._clock() < self._until or self._probing)

    def _probe_loop(self) -> None:
        try:
            while True:
                time.sleep(self._probe_every_s or PROBE_EVERY_S)
                with self._lock:
                    if self._stopped or self._reason is None or self._clock() - self._last_asked > IDLE_S:
                        return
                self.probe_once()  # closed by an answer: the next turn ends the loop, unless tripped again
        finally:
            with self._lock:
                self._probing = False
