"""Action items of the weekly review: added, edited and closed on the page, carried until closed.

One JSON file, `actions.json`, beside the frozen weeks (`SEXTANT_REPORTS_DIR`). Every change reads the
file, changes one item and writes the whole file again atomically (a temporary file renamed over it),
under an exclusive lock, so two people editing at once never lose each other's change.

An item belongs to the review of every week from the one it was added in until the one it was closed in:
the review of week W lists the items added in W or before and not closed before W (those closed in W show
as closed). A frozen week keeps a copy of its items as they were when it was frozen.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from app.report.weeks import IsoWeek, parse_week
from app.times import parse_time, rfc3339, utc_now

FILE_NAME = "actions.json"
MAX_TEXT = 500
MAX_OWNER = 80


class ActionError(ValueError):
    """An item that cannot be added or changed (empty text, unknown item, unreadable file); in words."""


@dataclass(frozen=True)
class ActionItem:
    id: str
    text: str
    owner: str
    added_week: str  # an ISO week, "2026-W48"
    added_at: str  # RFC 3339
    added_by: str
    closed_week: str | None = None
    closed_at: str | None = None
    closed_by: str | None = None
    edited_at: str | None = None
    edited_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_week is None

    def belongs_to(self, week: IsoWeek) -> bool:
        """Listed in the review of `week`: added by then, and not closed before it."""
        added = parse_week(self.added_week)
        closed = parse_week(self.closed_week) if self.closed_week else None
        return added <= week and (closed is None or closed >= week)

    def carried(self, week: IsoWeek) -> bool:
        """Added in an earlier week and still open in `week`'s review."""
        return parse_week(self.added_week) < week and (
            self.closed_week is None or parse_week(self.closed_week) >= week
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: Any) -> ActionItem:
        """An item as the file holds it; ActionError (or ValueError for a bad week or time) otherwise."""
        if not isinstance(raw, dict):
            raise ActionError(f"an action item is not an object: {str(raw)[:60]!r}")
        values: dict[str, Any] = {name: raw.get(name) for name in cls.__dataclass_fields__}
        for name, value in values.items():
            required = name in _REQUIRED
            if (required or value is not None) and not isinstance(value, str):
                raise ActionError(f"action item {str(raw.get('id'))[:20]!r} has no {name} (text)")
        item = cls(**values)
        parse_week(item.added_week)
        if item.closed_week is not None:
            parse_week(item.closed_week)
        parse_time(item.added_at)
        return item


_REQUIRED = ("id", "text", "owner", "added_week", "added_at", "added_by")


def for_week(items: list[ActionItem], week: IsoWeek) -> list[ActionItem]:
    """The items of `week`'s review: open ones first, then those closed in the week; oldest first (in the
    order they were added)."""
    mine = [i for i in items if i.belongs_to(week)]
    return sorted(mine, key=lambda i: (not i.is_open, i.added_week))  # a stable sort keeps the file's order


def _clean(text: str, limit: int, what: str) -> str:
    cleaned = " ".join(str(text).split())
    if not cleaned:
        raise ActionError(f"the {what} is empty")
    if len(cleaned) > limit:
        raise ActionError(f"the {what} is longer than {limit} characters")
    return cleaned


class ActionStore:
    """The action items file of one reports directory."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / FILE_NAME

    def items(self) -> list[ActionItem]:
        """Every item; none when the file does not exist yet. ActionError when it cannot be read."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ActionError(f"{self.path} cannot be read: {exc.strerror or exc}") from None
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise ActionError(f"{self.path} is not JSON: {exc}") from None
        raw = document.get("items") if isinstance(document, dict) else None
        if not isinstance(raw, list):
            raise ActionError(f"{self.path} holds no list of items")
        try:
            return [ActionItem.from_json(r) for r in raw]
        except ValueError as exc:  # a bad week or time in one item
            raise ActionError(f"{self.path}: {exc}") from None

    def for_week(self, week: IsoWeek) -> list[ActionItem]:
        return for_week(self.items(), week)

    def add(self, text: str, owner: str, week: IsoWeek, by: str, at: datetime | None = None) -> ActionItem:
        item = ActionItem(
            id=secrets.token_hex(4),
            text=_clean(text, MAX_TEXT, "action"),
            owner=_clean(owner, MAX_OWNER, "owner"),
            added_week=str(week),
            added_at=rfc3339(at or utc_now()),
            added_by=by,
        )
        with self._changing() as items:
            items.append(item)
        return item

    def edit(self, item_id: str, text: str, owner: str, by: str, at: datetime | None = None) -> ActionItem:
        changes = {
            "text": _clean(text, MAX_TEXT, "action"),
            "owner": _clean(owner, MAX_OWNER, "owner"),
            "edited_at": rfc3339(at or utc_now()),
            "edited_by": by,
        }
        return self._change(item_id, changes)

    def close(self, item_id: str, week: IsoWeek, by: str, at: datetime | None = None) -> ActionItem:
        return self._change(
            item_id, {"closed_week": str(week), "closed_at": rfc3339(at or utc_now()), "closed_by": by}
        )

    def reopen(self, item_id: str, by: str, at: datetime | None = None) -> ActionItem:
        return self._change(
            item_id,
            {
                "closed_week": None,
                "closed_at": None,
                "closed_by": None,
                "edited_at": rfc3339(at or utc_now()),
                "edited_by": by,
            },
        )

    def _change(self, item_id: str, changes: dict[str, Any]) -> ActionItem:
        with self._changing() as items:
            for n, item in enumerate(items):
                if item.id == item_id:
                    items[n] = replace(item, **changes)
                    return items[n]
        raise ActionError(f"no action item {item_id!r}")

    @contextmanager
    def _changing(self) -> Iterator[list[ActionItem]]:
        """The items, to change in place; written back atomically under an exclusive lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(f".{FILE_NAME}.lock")
        with open(lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            items = self.items()
            yield items
            payload = json.dumps({"items": [i.to_json() for i in items]}, indent=1, ensure_ascii=False)
            temporary = self.path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
            try:
                temporary.write_text(payload + "\n", encoding="utf-8")
                os.replace(temporary, self.path)
            finally:
                temporary.unlink(missing_ok=True)
