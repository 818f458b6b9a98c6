"""Sextant's access log: who viewed which sensitive page, downloaded what, revealed what, and who was
turned away, stored in OpenSearch (`audit-sextant-YYYY.MM`) without losing an event.

`AccessLog.record` writes the event to the local spool first (`app.access.spool`: durable before the page
draws) and wakes a background sender, which stores what the spool holds with `_bulk` `create` and removes
from the spool exactly what OpenSearch confirmed. While OpenSearch is down the events wait in the spool;
the sender tries again every `retry_s` seconds (and at start-up, for what an earlier process left), so
they arrive once it is back. Each event's id is fixed when it is recorded and is the document's id: an
answer lost on the way makes the sender send again, and OpenSearch keeps the first copy.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from app.access.spool import Spool
from app.sources.errors import BackendError
from app.sources.opensearch import BulkResult
from app.times import rfc3339

INDEX_PREFIX = "audit-sextant-"
INDEX_PATTERN = INDEX_PREFIX + "*"
TEMPLATE = "sextant-access"
BATCH = 500
RETRY_S = 5.0
_KEYWORDS = ("id", "event", "outcome", "user", "roles", "page", "how")
MAPPING = {
    "dynamic": "strict",
    "properties": {
        "@timestamp": {"type": "date"},
        **{name: {"type": "keyword"} for name in _KEYWORDS},
        "params": {"type": "keyword", "ignore_above": 4096},
        "detail": {"type": "keyword", "ignore_above": 4096},
    },
}
TEMPLATE_BODY = {
    "index_patterns": [INDEX_PATTERN],
    # above the simulator's `audit-*` template (priority 0), whose strict mapping has other fields
    "priority": 200,
    "template": {"settings": {"number_of_shards": 1}, "mappings": MAPPING},
}
_log = logging.getLogger(__name__)

Event = Literal["view", "download", "reveal"]
Outcome = Literal["allowed", "denied"]


@dataclass(frozen=True)
class AccessEvent:
    """One access: `params` and `detail` hold masked text only (never a revealed value)."""

    event: Event
    outcome: Outcome
    user: str
    roles: tuple[str, ...]
    page: str
    params: str = ""  # the view's URL parameters, as a query string
    detail: str = ""  # the file downloaded, the token revealed, the roles a denied page needs
    how: str = ""  # how the visitor was identified: oidc, proxy, open
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def index(self) -> str:
        return f"{INDEX_PREFIX}{self.at:%Y.%m}"

    def document(self) -> dict[str, Any]:
        return {
            "@timestamp": rfc3339(self.at),
            "id": self.id,
            "event": self.event,
            "outcome": self.outcome,
            "user": self.user,
            "roles": list(self.roles),
            "page": self.page,
            "params": self.params,
            "detail": self.detail,
            "how": self.how,
        }


class Writer(Protocol):
    def create_documents(self, documents: Sequence[tuple[str, str, Mapping[str, Any]]]) -> BulkResult: ...

    def put_index_template(self, name: str, body: Mapping[str, Any]) -> None: ...

    def put_mapping(self, index: str, mapping: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True)
class SpoolState:
    pending: int
    capacity: int
    near_full: bool
    last_error: str | None  # why the last attempt to send failed, while events wait


class AccessLog:
    """Records access events through `spool` into OpenSearch (`writer`; None: they stay in the spool)."""

    def __init__(self, spool: Spool, writer: Writer | None, retry_s: float = RETRY_S) -> None:
        self.spool = spool
        self.writer = writer
        self.retry_s = retry_s
        self.last_error: str | None = None
        self._template_ready = False
        self._sending = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def record(self, event: AccessEvent) -> int:
        """Spool the event (`SpoolFull` when the spool is at its limit) and wake the sender; the number of
        events waiting."""
        waiting = self.spool.add(event.document())
        self._wake.set()
        return waiting

    def state(self) -> SpoolState:
        pending = self.spool.count()
        return SpoolState(pending, self.spool.capacity, self.spool.near_full(pending), self.last_error)

    def flush(self) -> int:
        """Send what the spool holds; the number of events still waiting (0 when all arrived)."""
        if self.writer is None:
            self.last_error = "OpenSearch is not configured (SEXTANT_OPENSEARCH_URL)"
            return self.spool.count()
        with self._sending:
            pending = self.spool.pending()
            try:
                self._ensure_template()
                for start in range(0, len(pending), BATCH):
                    self._send(pending[start : start + BATCH])
            except BackendError as exc:
                self.last_error = str(exc)
                return self.spool.count()
            left = self.spool.count()
            if left == 0:
                self.last_error = None
            return left

    def start(self) -> None:
        """The background sender (a daemon thread): at once (for what an earlier process left), when woken
        by `record`, and every `retry_s` while events wait; idle while the spool is empty."""
        if self._thread is None and self.writer is not None:
            self._thread = threading.Thread(target=self._run, name="sextant-access-log", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """End the background sender (at once, or after the send under way): what it has not sent stays
        in the spool, for the next process."""
        self._stopped = True
        self._wake.set()

    def _run(self) -> None:
        while not self._stopped:
            left = 1
            try:
                left = self.flush()
            except Exception:  # a bug must not end the sender: the events wait in the spool
                _log.exception("sending access events failed")
            self._wake.wait(self.retry_s if left else None)
            self._wake.clear()

    def _ensure_template(self) -> None:
        if self._template_ready or self.writer is None:
            return
        self.writer.put_index_template(TEMPLATE, TEMPLATE_BODY)
        self._template_ready = True

    def _send(self, documents: list[dict[str, Any]]) -> None:
        if self.writer is None:
            return
        batch = [(_index_of(doc), str(doc["id"]), doc) for doc in documents if doc.get("id")]
        result = self.writer.create_documents(batch)
        self.spool.remove(result.stored)
        refused = result.refused
        if result.unmapped:  # once: mapped again, a second refusal is not the mapping's doing
            again = [item for item in batch if item[1] in result.unmapped]
            self._map_again({index for index, _, _ in again})
            retried = self.writer.create_documents(again)
            self.spool.remove(retried.stored)
            refused = {**{k: v for k, v in refused.items() if k not in result.unmapped}, **retried.refused}
        if refused:  # our own documents: a refusal is a bug, so they stay in the spool to be seen
            doc_id, why = next(iter(refused.items()))
            self.last_error = f"OpenSearch refused {len(refused)} access event(s), e.g. {doc_id}: {why}"
            _log.error(self.last_error)

    def _map_again(self, indices: set[str]) -> None:
        """Put the template again and add the access log's fields to `indices`, whose strict mapping lacked
        them. It happens after the stack's data is reset: Sextant's template gone, the simulator's strict
        `audit-*` one made this month's index, and the refused write itself created that index, so the
        template alone would mend later months only."""
        assert self.writer is not None
        self.writer.put_index_template(TEMPLATE, TEMPLATE_BODY)
        for index in sorted(indices):
            self.writer.put_mapping(index, MAPPING)


def _index_of(document: Mapping[str, Any]) -> str:
    stamp = str(document.get("@timestamp", ""))
    return f"{INDEX_PREFIX}{stamp[0:4]}.{stamp[5:7]}" if len(stamp) >= 7 else f"{INDEX_PREFIX}unknown"
