"""The simulator's "leak" scenario: in the last day only, a small share of log documents and their spans
carry unmasked personal data of every kind Sextant masks; nothing else of the data set changes; and
Sextant's masking leaves none of it."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest

from app.masking import Masker
from stack.simulator import events, leak, model, pii

ANCHOR = model.parse_anchor("2026-03-20T12:00:00Z")
SEED = 7
LAST_DAY = model.HISTORY_DAYS - 1  # [A-24h, A): the leak's window


@pytest.fixture(scope="module")
def days():
    gen = events.EventGenerator(ANCHOR, SEED)
    return {day: gen.day(day) for day in (LAST_DAY - 1, LAST_DAY)}


def leaked(day: events.DayEvents) -> list[dict]:
    return [d for d in day.logs if "[debug customer=" in d["message"]]


def debug_values(message: str) -> dict[str, str]:
    """The values of a leaked message's debugging suffix, by name."""
    suffix = message.split(" [debug ", 1)[1]
    return dict(re.findall(r"(\w+)=(.*?)(?= \w+=|\]$)", suffix))


def test_only_a_small_share_of_the_last_days_logs_leak(days):
    assert leak.window(ANCHOR) == (ANCHOR - timedelta(hours=24), ANCHOR)
    assert leaked(days[LAST_DAY - 1]) == []
    assert not any(pii.contains_pii(d["message"]) for d in days[LAST_DAY - 1].logs)
    share = len(leaked(days[LAST_DAY])) / len(days[LAST_DAY].logs)
    assert 0.04 < share < 0.06  # SHARE is 5%: a few hundred documents of ten thousand


def test_each_leaked_document_and_its_span_carry_every_kind_unmasked(days):
    day = days[LAST_DAY]
    spans = {(f"{s.trace_id:032x}", f"{s.span_id:016x}"): s for trace in day.traces for s in trace}
    traced = 0
    for doc in leaked(day):
        values = debug_values(doc["message"])
        assert set(values) == {"customer", "phone", "nino", "utr", "card", "postcode"}
        assert pii.contains_pii(doc["message"])
        if (doc["trace_id"], doc["span_id"]) in spans:  # every log has a trace id; few traces are kept
            traced += 1
            attributes = spans[(doc["trace_id"], doc["span_id"])].attributes
            assert set(leak.SPAN_ATTRIBUTES) <= set(attributes)
    assert traced > 0
    phones = {debug_values(doc["message"])["phone"] for doc in leaked(day)}
    assert any(p.startswith("+44 ") for p in phones) and any(p.startswith("07700") for p in phones)
    ninos = {debug_values(doc["message"])["nino"] for doc in leaked(day)}
    assert any(" " in n for n in ninos) and any(" " not in n for n in ninos)


def test_nothing_else_of_the_data_set_changes(days, monkeypatch):
    monkeypatch.setattr(leak, "SHARE", 0.0)
    without = events.EventGenerator(ANCHOR, SEED).day(LAST_DAY)
    with_leak = days[LAST_DAY]
    assert len(without.logs) == len(with_leak.logs) and without.audit == with_leak.audit
    for plain, doc in zip(without.logs, with_leak.logs, strict=True):
        if "[debug customer=" in doc["message"]:
            assert {**doc, "message": ""} == {**plain, "message": ""}
            assert pii.mask(doc["message"].split(" [debug")[0]) == plain["message"]
        else:
            assert doc == plain
    for plain_trace, trace in zip(without.traces, with_leak.traces, strict=True):
        for plain_span, span in zip(plain_trace, trace, strict=True):
            extra = {k: v for k, v in span.attributes.items() if k not in plain_span.attributes}
            assert dataclasses.replace(span, attributes=plain_span.attributes) == plain_span
            assert set(extra) in (set(), set(leak.SPAN_ATTRIBUTES))


def test_sextant_masks_every_leaked_value(days):
    mask = Masker("test key")
    for doc in leaked(days[LAST_DAY]):
        masked = mask.text(doc["message"])
        assert not pii.contains_pii(masked), masked
        for value in debug_values(doc["message"]).values():
            assert value not in masked
    for trace in days[LAST_DAY].traces:
        for span in trace:
            if "customer.email" in span.attributes:
                masked = mask.value(span.attributes)
                assert all(masked[a].startswith(f"{kind}:") for a, kind in leak.SPAN_ATTRIBUTES.items())
