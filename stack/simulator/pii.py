"""PII masking of every log message and audit detail before ingest (playbook: "Mask PII before ingest").

Masked, in this order (each replaced by a fixed token):
- e-mail addresses -> ``[EMAIL]``
- UK phone numbers: ``+44`` (or ``+44 (0)``) or a leading ``0``, then 10 digits with single spaces or
  dashes between them, or a bracketed area code (``+44 7700 900123``, ``07700 900123``, ``(020) 7946 0958``,
  ``+44 (0)20 7946 0958``) -> ``[PHONE]``
- National Insurance numbers: two letters, six digits, a suffix A-D, optional spaces (``QQ 12 34 56 C``);
  the prefix rules are deliberately not checked, so test numbers such as ``QQ123456C`` are masked too
  -> ``[NINO]``
- Unique Taxpayer References: 10 digits not part of a longer number, optionally ``12345 67890`` and an
  optional trailing ``K`` -> ``[UTR]``
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"(?:\+44[ ]?(?:\(0\)[ ]?)?|0)\d(?:[ -]?\d){9}"  # +44 / +44 (0) / 0, then 10 digits
    r"|\(0\d{2,4}\)[ ]?\d{3,4}[ -]?\d{3,4}"  # (020) 7946 0958, (01632) 960 001
    r")(?![\d])"
)
NINO = re.compile(r"\b[A-Za-z]{2}[ ]?\d{2}[ ]?\d{2}[ ]?\d{2}[ ]?[A-Da-d]\b")
UTR = re.compile(r"(?<![\d\w])\d{5}[ ]?\d{5}(?:K\b|(?![\d\w]))")

TOKENS = {"email": "[EMAIL]", "phone": "[PHONE]", "nino": "[NINO]", "utr": "[UTR]"}
_TWO_DIGITS = re.compile(r"\d\d")  # phone numbers, NI numbers and UTRs all contain two digits in a row


def mask(text: str) -> str:
    """The text with e-mail addresses, UK phone numbers, NI numbers and UTRs replaced by tokens."""
    if not text:
        return text
    if "@" in text:
        text = EMAIL.sub(TOKENS["email"], text)
    if _TWO_DIGITS.search(text):
        text = PHONE.sub(TOKENS["phone"], text)
        text = NINO.sub(TOKENS["nino"], text)
        text = UTR.sub(TOKENS["utr"], text)
    return text


def contains_pii(text: str) -> bool:
    return any(p.search(text) for p in (EMAIL, PHONE, NINO, UTR))
