"""Personal data masked before anything is drawn or downloaded: the one step every backend value takes.

The platform masks personal data at ingest, but what slips through (a new log line, a span attribute, a
field nobody thought of) must still never reach a screen. So every value read from OpenSearch or Jaeger
goes through `Masker` in the loaders, before a frame is built for a table, a chart's tooltips or a
download: every field, nested fields (span attributes are dictionaries) and free text.

Masked, in one scan of the text (so a token is never masked again):

- e-mail addresses;
- payment card numbers: 13 to 19 digits, single spaces or dashes allowed between them, Luhn-valid (a
  number that fails the check is looked at again for the kinds below);
- National Insurance numbers: two letters, six digits, a letter A-D, spaces allowed (`QQ 12 34 56 C`,
  `QQ123456C`); the prefix rules are deliberately not checked, so test numbers are caught too;
- UK phone numbers: `+44` (optionally `(0)`) or `0`, then 9 or 10 digits with single spaces or dashes
  between them, or a bracketed area code (`(020) 7946 0958`);
- Unique Taxpayer References: 10 digits (`12345 67890` too, an optional trailing `K`);
- UK postcodes (`SW1A 1AA`, `m1 1ae`).

A number or a word counts only standing alone (letters and digits around it make it part of something
else, like a trace id). Integers are masked too when their digits are a UTR or a card number.

A masked value becomes a stable token, `email:3f9a1c`: the kind, then a keyed hash (HMAC-SHA256) of the
value written one canonical way, so that equal values (`QQ 12 34 56 C` and `qq123456c`) give the same
token across rows and pages and can be correlated without being shown. The key comes from
`SEXTANT_MASKING_KEY` (`app.config`); without it the public demo key is used, which anyone can use to test
guesses against a token, so live deployments set their own.
"""

from __future__ import annotations

import hashlib
import hmac
import numbers
import re
from collections.abc import Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas only when a frame is masked: `python -m app.slo` must start fast
    import pandas as pd

DEMO_KEY = "sextant-demo-masking-key"  # the demo's: not a secret, so not for live data
KINDS = ("email", "card", "nino", "phone", "utr", "postcode")
TOKEN_HEX = 6

Found = MutableMapping[str, str]  # token -> the value it stands for (kept server-side, for an audited reveal)

_ALONE_BEFORE = r"(?<![0-9A-Za-z_])"
_ALONE_AFTER = r"(?![0-9A-Za-z_])"
_PATTERNS = {
    "email": r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
    "card": _ALONE_BEFORE + r"\d(?:[ \-]?\d){12,18}" + _ALONE_AFTER,
    "nino": _ALONE_BEFORE + r"[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d]" + _ALONE_AFTER,
    "phone": r"(?<![0-9A-Za-z_+])(?:(?:\+44[ \-]?(?:\(0\)[ \-]?)?|0)\d(?:[ \-]?\d){8,9}"
    r"|\(0\d{2,4}\)[ \-]?\d(?:[ \-]?\d){5,7})" + _ALONE_AFTER,
    "utr": _ALONE_BEFORE + r"\d{5} ?\d{5}[Kk]?" + _ALONE_AFTER,
    # not after a colon: "email:ab1c2d", a token, has the shape of a postcode
    "postcode": r"(?<![0-9A-Za-z_:])[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}" + _ALONE_AFTER,
}


def _combined(kinds: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?P<{kind}>{_PATTERNS[kind]})" for kind in kinds))


_ALL = _combined(KINDS)
_WITHOUT_CARD = _combined(k for k in KINDS if k != "card")
_MAYBE = re.compile(r"[@0-9]")  # every kind holds an @ or a digit: most text is passed over at once
_DIGITS = re.compile(r"\D")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a card number (digits only)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def canonical(kind: str, value: str) -> str:
    """The one way a value is written before it is hashed, so that its spellings share a token."""
    if kind == "email":
        return value.lower()
    if kind == "phone":
        digits = _DIGITS.sub("", value.replace("(0)", ""))
        return "0" + digits[2:] if value.lstrip().startswith("+44") else digits
    if kind in ("card", "utr"):
        return _DIGITS.sub("", value)
    return re.sub(r"\s", "", value).upper()  # nino, postcode


def _phone_digits_ok(value: str) -> bool:
    """A UK number has 10 or 11 digits written nationally (0 then 9 or 10)."""
    return len(canonical("phone", value)) in (10, 11)


class Masker:
    """Masks personal data with tokens keyed by `key`."""

    def __init__(self, key: str = DEMO_KEY) -> None:
        self._key = key.encode("utf-8")
        self.demo_key = key == DEMO_KEY

    def token(self, kind: str, value: str) -> str:
        """`kind:3f9a1c`: the first hex digits of the keyed hash of the value's canonical form."""
        digest = hmac.new(self._key, f"{kind}\0{canonical(kind, value)}".encode(), hashlib.sha256)
        return f"{kind}:{digest.hexdigest()[:TOKEN_HEX]}"

    def text(self, text: str, found: Found | None = None) -> str:
        """`text` with every personal value replaced by its token; `found` collects token -> value."""
        if not _MAYBE.search(text):
            return text
        return _ALL.sub(lambda match: self._replace(match, found), text)

    def _replace(self, match: re.Match[str], found: Found | None) -> str:
        kind = match.lastgroup or ""
        value = match.group()
        if kind == "card" and not luhn_valid(_DIGITS.sub("", value)):
            return _WITHOUT_CARD.sub(lambda inner: self._replace(inner, found), value)
        if kind == "phone" and not _phone_digits_ok(value):
            return value
        token = self.token(kind, value)
        if found is not None:
            found.setdefault(token, value)
        return token

    def value(self, value: Any, found: Found | None = None) -> Any:
        """Any value from a backend: text masked, integers whose digits are a UTR or a card number
        replaced by a token, mappings (keys too), lists and tuples masked item by item, the rest kept."""
        if isinstance(value, str):
            return self.text(value, found)
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, numbers.Integral):  # numpy's integers too
            digits = str(abs(int(value)))
            masked = self.text(digits, found)
            return value if masked == digits else masked
        if isinstance(value, Mapping):
            return {self.value(k, found): self.value(v, found) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.value(v, found) for v in value)
        return value

    def strings(self, values: Iterable[str], found: Found | None = None) -> list[str]:
        """A list of names (pickers, facets), each masked."""
        return [self.text(str(v), found) for v in values]

    def frame(
        self, frame: pd.DataFrame, found: Found | None = None, keep: Iterable[str] = ()
    ) -> pd.DataFrame:
        """A copy of `frame` with every value and column name masked, except the columns in `keep`
        (shown as they are on purpose, e.g. the staff actor of an audit event). Times, floats and
        booleans hold no personal data and are left alone."""
        from pandas.api import types

        kept = set(keep)
        out = frame.copy()
        for column in frame.columns:
            if column in kept:
                continue
            series = frame[column]
            if series.dtype == object or types.is_string_dtype(series.dtype):
                out[column] = series.map(lambda v: self.value(v, found), na_action="ignore")
            elif types.is_integer_dtype(series.dtype) and not types.is_bool_dtype(series.dtype):
                masked = series.map(lambda v: self.value(v, found), na_action="ignore")
                if not masked.equals(series):
                    out[column] = masked.astype(object)
        renamed = {c: self.text(c, found) for c in frame.columns if isinstance(c, str) and c not in kept}
        return out.rename(columns={k: v for k, v in renamed.items() if k != v})


def holds_personal_data(value: Any) -> bool:
    """Whether masking would change anything in `value` (a document, a text): the leak detector of the
    Observability coverage page, with the same patterns as the masking itself."""
    found: dict[str, str] = {}
    Masker().value(value, found)
    return bool(found)
