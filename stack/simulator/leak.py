"""The "leak" scenario: personal data that slipped past the platform's masking at ingest.

In the last day of the history, `[A−24h, A)`, a release logged a debugging suffix without the masking
filter: `SHARE` of the log documents of that day carry unmasked personal data of every kind Sextant masks
on display (an e-mail address, a UK phone number, a National Insurance number, a UTR, a Luhn-valid card
number and a UK postcode), and when such a log is traced, its span carries the same values as attributes
(`customer.email`, …). The live stack thereby shows that Sextant masks what ingest did not.

Which documents leak and what they say follows from (seed, the document's own key) through BLAKE2b, not
from the simulator's random generators: every other value of the data set is the same with or without the
leak. All the values are made up: example domains, `QQ` National Insurance numbers (never issued), Ofcom's
drama numbers (07700 900xxx), the card networks' published test numbers, and postcodes of well-known
buildings.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

NAME = "leak"
WINDOW = (timedelta(hours=-24), timedelta(0))  # from the anchor
SHARE = 0.05
KINDS = ("email", "phone", "nino", "utr", "card", "postcode")
SPAN_ATTRIBUTES = {
    "customer.email": "email",
    "customer.phone": "phone",
    "customer.nino": "nino",
    "customer.utr": "utr",
    "payment.card": "card",
    "customer.postcode": "postcode",
}
CARDS = ("4111 1111 1111 1111", "5555555555554444", "4000-0566-5566-5556", "3782 822463 10005")
POSTCODES = ("SW1A 1AA", "SW1A 2AA", "EC2R 8AH", "M1 1AE", "EH99 1SP", "CF10 1EP")
NAMES = ("jane.doe", "john.smith", "priya.shah", "tom.o-neill", "wei.chen", "ada.lovelace")


def _draw(seed: int, key: str) -> int:
    digest = hashlib.blake2b(f"{NAME}|{seed}|{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def window(anchor: datetime) -> tuple[datetime, datetime]:
    return anchor + WINDOW[0], anchor + WINDOW[1]


def leaked_values(seed: int, anchor: datetime, epoch_ms: int, key: str) -> dict[str, str] | None:
    """The personal data a log document (`key`: what identifies it within the data set) leaks, or None when
    it is outside the window or not among the `SHARE` that leak."""
    start, end = window(anchor)
    if not start.timestamp() * 1000 <= epoch_ms < end.timestamp() * 1000:
        return None
    draw = _draw(seed, key)
    if draw % 10_000 >= SHARE * 10_000:
        return None
    pick = draw // 10_000
    number = pick % 1000
    nino = f"QQ{number:06d}C"
    return {
        "email": f"{NAMES[pick % len(NAMES)]}{number}@customer.example",
        "phone": f"+44 7700 900{number:03d}" if pick % 2 else f"07700 900{number:03d}",
        "nino": f"{nino[:2]} {nino[2:4]} {nino[4:6]} {nino[6:8]} {nino[8]}" if pick % 3 else nino,
        "utr": f"{(pick % 9_000_000_000) + 1_000_000_000}",
        "card": CARDS[pick % len(CARDS)],
        "postcode": POSTCODES[pick % len(POSTCODES)],
    }


def message(text: str, values: dict[str, str]) -> str:
    """The log message as the leaking release wrote it: unmasked, with its debugging suffix."""
    return (
        f"{text} [debug customer={values['email']} phone={values['phone']} nino={values['nino']} "
        f"utr={values['utr']} card={values['card']} postcode={values['postcode']}]"
    )


def span_attributes(values: dict[str, str]) -> dict[str, str]:
    """The same values as attributes of the logged span."""
    return {attribute: values[kind] for attribute, kind in SPAN_ATTRIBUTES.items()}
