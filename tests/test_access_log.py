"""The access log's way to OpenSearch: the spool (atomic, bounded, shared), the sender (exactly what
OpenSearch confirmed leaves the spool; a retry stores nothing twice), and the real `_bulk` write."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import respx

from app.access.log import INDEX_PATTERN, TEMPLATE, TEMPLATE_BODY, AccessEvent, AccessLog
from app.access.spool import Spool, SpoolFull
from app.sources.errors import BackendUnavailable
from app.sources.opensearch import BulkResult, OpenSearchClient


def event(user: str = "sam@example.com", kind: str = "view", **fields) -> AccessEvent:
    return AccessEvent(kind, "allowed", user, ("oncall",), "logs", "service=filing", **fields)


class FakeWriter:
    """OpenSearch's side of `_bulk` `create`: a document id seen before answers 409; `down` refuses."""

    def __init__(self, refuse: set[str] = frozenset()) -> None:
        self.stored: dict[str, dict] = {}
        self.sent: list[str] = []
        self.templates: list[str] = []
        self.down = False
        self.refuse = refuse

    def put_index_template(self, name, body):
        if self.down:
            raise BackendUnavailable("opensearch", "connection refused")
        self.templates.append(name)

    def create_documents(self, documents):
        if self.down:
            raise BackendUnavailable("opensearch", "connection refused")
        stored, refused = [], {}
        for index, doc_id, doc in documents:
            self.sent.append(doc_id)
            if doc["user"] in self.refuse:
                refused[doc_id] = "mapper_parsing_exception"
                continue
            assert index == f"audit-sextant-{doc['@timestamp'][:4]}.{doc['@timestamp'][5:7]}"
            self.stored.setdefault(doc_id, doc)
            stored.append(doc_id)
        return BulkResult(tuple(stored), refused)


def test_the_spool_is_bounded_warns_near_full_and_survives_a_new_process(tmp_path):
    spool = Spool(tmp_path / "spool.jsonl", capacity=5)
    for n in range(4):
        assert spool.add({"id": str(n)}) == n + 1
    assert spool.near_full()  # 4 of 5: past 80%
    spool.add({"id": "4"})
    with pytest.raises(SpoolFull):
        spool.add({"id": "5"})
    again = Spool(tmp_path / "spool.jsonl", capacity=5)  # another process reading the file
    assert [d["id"] for d in again.pending()] == ["0", "1", "2", "3", "4"]
    assert again.remove({"1", "3"}) == 3 and not again.near_full()
    assert [json.loads(line)["id"] for line in (tmp_path / "spool.jsonl").read_text().splitlines()] == [
        "0",
        "2",
        "4",
    ]
    assert {p.name for p in tmp_path.iterdir()} == {"spool.jsonl", "spool.jsonl.lock"}  # no temporary left


def test_a_crash_while_writing_leaves_the_previous_spool_whole(tmp_path, monkeypatch):
    spool = Spool(tmp_path / "spool.jsonl", capacity=10)
    spool.add({"id": "kept"})

    def crash(*_args):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        spool.add({"id": "lost"})
    monkeypatch.undo()
    assert [d["id"] for d in spool.pending()] == ["kept"]
    assert {p.name for p in tmp_path.iterdir()} == {"spool.jsonl", "spool.jsonl.lock"}


def _add_many(path: str, prefix: str) -> None:
    spool = Spool(Path(path), capacity=1000)
    for n in range(50):
        spool.add({"id": f"{prefix}{n}"})


def test_several_processes_adding_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "spool.jsonl")
    workers = [multiprocessing.get_context("fork").Process(target=_add_many, args=(path, p)) for p in "abc"]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    ids = [d["id"] for d in Spool(tmp_path / "spool.jsonl", 1000).pending()]
    assert sorted(ids) == sorted(f"{p}{n}" for p in "abc" for n in range(50))


def test_events_wait_while_opensearch_is_down_and_arrive_once_when_it_is_back(tmp_path):
    writer = FakeWriter()
    log = AccessLog(Spool(tmp_path / "spool.jsonl", 100), writer)
    writer.down = True
    recorded = [event(at=datetime(2026, 12, 6, 1, n, tzinfo=UTC)) for n in range(20)]
    for e in recorded:
        log.record(e)
    assert log.flush() == 20 and "connection refused" in (log.last_error or "")
    writer.down = False
    assert log.flush() == 0 and log.last_error is None
    assert sorted(writer.stored) == sorted(e.id for e in recorded)
    assert writer.templates == ["sextant-access"]
    assert log.flush() == 0 and len(writer.sent) == 20  # nothing left to send again


def test_a_lost_answer_makes_the_sender_send_again_and_opensearch_keeps_one_copy(tmp_path):
    writer = FakeWriter()
    spool = Spool(tmp_path / "spool.jsonl", 100)
    log = AccessLog(spool, writer)
    first = event()
    log.record(first)
    writer.create_documents([(first.index, first.id, first.document())])  # stored, but the answer was lost
    assert log.flush() == 0
    assert writer.sent == [first.id, first.id] and list(writer.stored) == [first.id]


def test_a_refused_event_stays_in_the_spool_and_says_why(tmp_path):
    writer = FakeWriter(refuse={"bad@example.com"})
    log = AccessLog(Spool(tmp_path / "spool.jsonl", 100), writer)
    log.record(event())
    log.record(event(user="bad@example.com"))
    assert log.flush() == 1
    assert "refused 1 access event" in (log.state().last_error or "")
    assert [d["user"] for d in log.spool.pending()] == ["bad@example.com"]


def _bulk_answer(doc_id: str, error_type: str | None) -> httpx.Response:
    """`_bulk`'s answer for one `create`: stored, or refused with `error_type`."""
    item = {"_id": doc_id, "status": 201}
    if error_type:
        item = {"_id": doc_id, "status": 400, "error": {"type": error_type, "reason": f"{error_type} here"}}
    return httpx.Response(200, json={"errors": error_type is not None, "items": [{"create": item}]})


@pytest.mark.parametrize(
    ("answers", "left"),
    [
        (["strict_dynamic_mapping_exception", None], 0),  # mapped again: stored
        (["strict_dynamic_mapping_exception"] * 2, 1),  # still refused: once only, it waits in the spool
    ],
)
def test_an_index_whose_strict_mapping_lacks_our_fields_gets_them_and_the_write_is_tried_once_more(
    tmp_path, answers, left
):
    """After the stack's data is reset, this month's index is made by the simulator's strict `audit-*`
    template: the template is put again, the index given the access log's fields, the events sent again."""
    url = "http://opensearch.example:9200"
    spooled = event()
    with respx.mock(base_url=url) as mock:
        templates = mock.put(f"/_index_template/{TEMPLATE}").mock(return_value=httpx.Response(200, json={}))
        mapping = mock.put(f"/{spooled.index}/_mapping").mock(return_value=httpx.Response(200, json={}))
        bulk = mock.post("/_bulk").mock(side_effect=[_bulk_answer(spooled.id, a) for a in answers])
        log = AccessLog(Spool(tmp_path / "spool.jsonl", 100), OpenSearchClient(url))
        log.record(spooled)
        assert log.flush() == left
    assert bulk.call_count == 2 and templates.call_count == 2  # at start, and again on the refusal
    assert json.loads(mapping.calls.last.request.content) == TEMPLATE_BODY["template"]["mappings"]
    assert (log.last_error is None) == (left == 0)


def test_a_refusal_that_is_not_the_mapping_is_not_sent_again(tmp_path):
    url = "http://opensearch.example:9200"
    spooled = event()
    with respx.mock(base_url=url) as mock:
        mock.put(f"/_index_template/{TEMPLATE}").mock(return_value=httpx.Response(200, json={}))
        bulk = mock.post("/_bulk").mock(return_value=_bulk_answer(spooled.id, "mapper_parsing_exception"))
        log = AccessLog(Spool(tmp_path / "spool.jsonl", 100), OpenSearchClient(url))
        log.record(spooled)
        assert log.flush() == 1
    assert bulk.call_count == 1 and "mapper_parsing_exception" in (log.last_error or "")


def test_the_background_sender_sends_when_woken_and_retries_while_events_wait(tmp_path):
    writer = FakeWriter()
    writer.down = True
    log = AccessLog(Spool(tmp_path / "spool.jsonl", 100), writer, retry_s=0.2)
    log.start()
    e = event()
    log.record(e)
    time.sleep(0.5)
    assert log.state().pending == 1
    writer.down = False
    deadline = time.monotonic() + 5
    while log.state().pending and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(writer.stored) == [e.id]


def test_a_stopped_sender_ends_and_leaves_what_it_did_not_send_in_the_spool(tmp_path):
    writer = FakeWriter()
    writer.down = True
    log = AccessLog(Spool(tmp_path / "spool.jsonl", 100), writer, retry_s=0.05)
    log.start()
    log.record(event())
    log.stop()
    assert log._thread is not None
    log._thread.join(timeout=5)
    assert not log._thread.is_alive() and log.state().pending == 1


@pytest.mark.integration
def test_opensearch_stores_each_event_once_under_the_access_logs_mapping(live_stack):
    client = OpenSearchClient(live_stack.opensearch_url)
    user = f"log-test-{uuid.uuid4().hex[:8]}@example.com"
    events = [event(user=user), event(user=user, kind="download", detail="report.md")]
    client.put_index_template(TEMPLATE, TEMPLATE_BODY)
    batch = [(e.index, e.id, e.document()) for e in events]
    assert sorted(client.create_documents(batch).stored) == sorted(e.id for e in events)
    again = client.create_documents(batch)  # a retry: both already there
    assert sorted(again.stored) == sorted(e.id for e in events) and not again.refused
    httpx.post(f"{live_stack.opensearch_url}/{INDEX_PATTERN}/_refresh", timeout=10)
    found = client.search(INDEX_PATTERN, {"query": {"term": {"user": user}}, "size": 10})
    assert found.total == 2 and sorted(found.hits["_id"]) == sorted(e.id for e in events)
    assert sorted(found.hits["event"]) == ["download", "view"]
    # a document that does not fit the strict mapping is refused, and said so
    odd = client.create_documents([(events[0].index, uuid.uuid4().hex, {"unexpected": 1})])
    assert not odd.stored and "strict" in next(iter(odd.refused.values()))
    # the platform's audit trail queries leave Sextant's access log out
    platform = client.count("audit-*,-audit-sextant-*", {"query": {"term": {"user": user}}})
    assert platform == 0
    client.close()
