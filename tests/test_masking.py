"""The one masking step: every kind of personal data in every spelling becomes a stable keyed token, in text,
nested values and frames; what is not personal data (ids, versions, times) is left alone."""

from __future__ import annotations

import hashlib
import hmac
import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.masking import DEMO_KEY, Masker, canonical, luhn_valid

MASK = Masker()
TOKEN = re.compile(r"^(email|card|nino|phone|utr|postcode):[0-9a-f]{6}$")


def expected_token(kind: str, canonical_value: str, key: str = DEMO_KEY) -> str:
    """The token written out from its definition: HMAC-SHA256 of kind, NUL, canonical value."""
    digest = hmac.new(key.encode(), f"{kind}\0{canonical_value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:6]}"


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("jane.doe+tax@example.co.uk", "email", "jane.doe+tax@example.co.uk"),
        ("J_Smith99@Acme-Accounts.example", "email", "j_smith99@acme-accounts.example"),
        ("QQ 12 34 56 C", "nino", "QQ123456C"),
        ("QQ123456C", "nino", "QQ123456C"),
        ("qq 12 34 56 c", "nino", "QQ123456C"),
        ("1234567890", "utr", "1234567890"),
        ("12345 67890K", "utr", "1234567890"),
        ("07700 900123", "phone", "07700900123"),
        ("+44 7700 900123", "phone", "07700900123"),
        ("+44 (0)20 7946 0958", "phone", "02079460958"),
        ("(020) 7946 0958", "phone", "02079460958"),
        ("0161-496-0000", "phone", "01614960000"),
        ("4111 1111 1111 1111", "card", "4111111111111111"),
        ("4111111111111111", "card", "4111111111111111"),
        ("3782 822463 10005", "card", "378282246310005"),
        ("5555-5555-5555-4444", "card", "5555555555554444"),
        ("SW1A 1AA", "postcode", "SW1A1AA"),
        ("m1 1ae", "postcode", "M11AE"),
        ("EC2R8AH", "postcode", "EC2R8AH"),
    ],
)
def test_every_kind_in_every_spelling_becomes_its_token(text, kind, value):
    found: dict[str, str] = {}
    masked = MASK.text(f"before {text}, after", found)
    token = expected_token(kind, value)
    assert masked == f"before {token}, after"
    assert canonical(kind, text) == value
    assert found == {token: text}  # what a reveal would show: the value as it was written


def test_equal_values_share_a_token_and_another_key_gives_other_tokens():
    assert MASK.text("QQ 12 34 56 C") == MASK.text("QQ123456C")
    assert MASK.text("+44 7700 900123") == MASK.text("07700 900123")
    assert Masker("another key").text("QQ123456C") != MASK.text("QQ123456C")
    assert Masker("another key").text("QQ123456C") == expected_token("nino", "QQ123456C", "another key")


def test_a_card_number_counts_only_when_luhn_valid():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert MASK.text("ref 4111 1111 1111 1112") == "ref 4111 1111 1111 1112"


@pytest.mark.parametrize(
    "text",
    [
        "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
        "doc-1a2b3c4d extract-v41 period 2026-Q3 receipt 00ab12cd34",
        "POST /vat/returns 503 SERVICE_UNAVAILABLE after 1830 ms",
        "HMRC VAT return failed: 503 SERVICE_UNAVAILABLE for UTR [UTR]; will retry",
        "user:acme-accounts/amy3 from 192.0.2.14",
        "2026-12-06T01:02:03.456Z",
    ],
)
def test_what_is_not_personal_data_is_left_alone(text):
    assert MASK.text(text) == text


def test_masking_twice_changes_nothing():
    once = MASK.text("mail a@b.example, NI QQ123456C, SW1A 1AA, card 4111111111111111, 07700 900123")
    assert TOKEN.match(once.split(", ")[-1].split(" ")[-1])
    assert MASK.text(once) == once


def test_nested_values_integers_and_keys_are_masked():
    found: dict[str, str] = {}
    value = {"customer.utr": 1234567890, "contacts": ["x@y.example", 5, True, None], "a@b.example": (1.5,)}
    masked = MASK.value(value, found)
    assert masked == {
        "customer.utr": expected_token("utr", "1234567890"),
        "contacts": [expected_token("email", "x@y.example"), 5, True, None],
        expected_token("email", "a@b.example"): (1.5,),
    }
    assert set(found.values()) == {"1234567890", "x@y.example", "a@b.example"}


def test_a_frame_is_masked_everywhere_but_the_columns_kept():
    frame = pd.DataFrame(
        {
            "time": pd.to_datetime(["2026-12-06T01:00:00Z"] * 2),
            "actor": ["staff@firm.example", "svc:deploy-bot"],
            "message": ["for QQ123456C", "fine"],
            "tags": [{"customer.email": "x@y.example"}, {}],
            "n": pd.Series([1234567890, 7], dtype="int64"),
            "ms": [1.5, 2.5],
            "m@il.example": ["x", "y"],
        }
    )
    masked = MASK.frame(frame, keep=("actor",))
    assert list(masked["actor"]) == ["staff@firm.example", "svc:deploy-bot"]
    assert list(masked["message"]) == [f"for {expected_token('nino', 'QQ123456C')}", "fine"]
    assert masked["tags"][0] == {"customer.email": expected_token("email", "x@y.example")}
    assert list(masked["n"]) == [expected_token("utr", "1234567890"), 7]
    assert masked["time"].equals(frame["time"]) and masked["ms"].equals(frame["ms"])
    assert expected_token("email", "m@il.example") in masked.columns
    assert list(frame["message"]) == ["for QQ123456C", "fine"]  # the input is not changed


VALUES = st.sampled_from(
    ["ann@x.example", "QQ 12 34 56 C", "QQ654321A", "9876543210", "07700 900999", "+44 7700 900001",
     "4111 1111 1111 1111", "5555555555554444", "SW1A 2AA", "cf10 1ep"]
)  # fmt: skip
FILLER = st.text(alphabet=st.sampled_from(list("abc xyz.,:;-()[]=/")), max_size=12)


@given(st.lists(st.tuples(FILLER, VALUES), min_size=1, max_size=5), FILLER)
def test_no_planted_value_survives_in_any_surrounding_text(parts, tail):
    text = "".join(f"{before} {value} " for before, value in parts) + tail
    masked = MASK.text(text)
    for _, value in parts:
        assert value not in masked
