"""Frozen weeks: one signed file per ISO week holding everything the review and every page need.

A frozen week is a snapshot (`app.sources.snapshot`, format 1: the backend calls the pages make at the
week's end, with their answers) with two more fields:

- `report`: `{"kind": "sextant/frozen-week", "week", "start", "end", "at", "frozen_at", "frozen_by",
  "actions": [...], "key": {"label", "id"}}` — `at` is when the figures were taken (the week's end), the
  action items are those of the week's review as they were when it was frozen, and `key` names the key
  that signed it (`id` is a fingerprint of the key, never the key);
- `hmac`: HMAC-SHA256 (hex) of the canonical JSON of everything but `sha256` and `hmac`, keyed by
  `SEXTANT_REPORT_KEY`.

`sha256` covers everything else, the signature included, as in every snapshot. The SHA-256 alone catches
corruption, not an edit: whoever edits a figure can recompute it. The HMAC cannot be recomputed without the
key, so a file whose figures changed after the freeze is refused as tampered.

The demo's frozen week ships in the repository, so it cannot be signed with a secret: it is signed with
the published `DEMO_KEY`, which proves nothing (anyone can sign with it) and is said so on screen. Only the
demo snapshot accepts it; live, Sextant accepts `SEXTANT_REPORT_KEY` alone.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from app.config import Config
from app.report.actions import ActionError, ActionItem
from app.report.weeks import IsoWeek, parse_week
from app.sources import Sources
from app.sources import snapshot as snapshots
from app.times import parse_time, rfc3339

KIND = "sextant/frozen-week"
SUFFIX = ".json.gz"
DEMO_WEEKS = "weeks"  # the demo snapshot's frozen weeks: this folder beside the snapshot file


@dataclass(frozen=True)
class SigningKey:
    secret: bytes = field(repr=False)
    label: str  # how a page names it
    demo: bool = False

    @property
    def id(self) -> str:
        """A fingerprint that names the key in a file without revealing it."""
        return hashlib.sha256(b"sextant frozen-week key\0" + self.secret).hexdigest()[:16]


DEMO_KEY = SigningKey(
    b"sextant published demo key: a signature made with it proves nothing",
    "the published demo key",
    demo=True,
)


def configured_key(config: Config) -> SigningKey | None:
    """The key that signs new frozen weeks: SEXTANT_REPORT_KEY, or None when it is not set."""
    if not config.report_key:
        return None
    return SigningKey(config.report_key.encode("utf-8"), "SEXTANT_REPORT_KEY")


def accepted_keys(config: Config) -> tuple[SigningKey, ...]:
    """The keys a frozen week may be signed with: SEXTANT_REPORT_KEY, and on the demo snapshot the
    published demo key."""
    own = configured_key(config)
    keys = (own,) if own else ()
    return keys + ((DEMO_KEY,) if config.mode == "snapshot" else ())


def weeks_dir(config: Config) -> Path:
    """Where frozen weeks are kept: SEXTANT_REPORTS_DIR live; beside the snapshot on the demo."""
    return config.reports_dir if config.mode == "live" else config.snapshot_path.parent / DEMO_WEEKS


def week_path(directory: Path, week: IsoWeek) -> Path:
    return Path(directory) / f"{week}{SUFFIX}"


def frozen_weeks(directory: Path) -> list[IsoWeek]:
    """The weeks with a file in `directory`, newest first (not verified: `read` does that)."""
    found = set()
    for path in Path(directory).glob(f"*{SUFFIX}"):
        try:
            found.add(parse_week(path.name.removesuffix(SUFFIX)))
        except ValueError:
            continue  # a superseded copy or another file
    return sorted(found, reverse=True)


class FrozenWeekError(ValueError):
    """A frozen week that cannot be trusted: `reason` says why in words, `tampered` when its content was
    changed after it was signed (or it was signed with another key)."""

    def __init__(self, path: Path, reason: str, *, tampered: bool = False) -> None:
        self.path = path
        self.reason = reason
        self.tampered = tampered
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class FrozenWeek:
    path: Path
    week: IsoWeek
    at: datetime  # when the figures were taken
    frozen_at: datetime
    frozen_by: str
    actions: tuple[ActionItem, ...]
    key: SigningKey
    sha256: str
    snapshot: snapshots.Snapshot = field(repr=False)

    def sources(self) -> Sources:
        """Replay clients answering from this file: read-only, `now()` is the week's end."""
        return replay(self.snapshot, self.at, self.frozen_at)

    @property
    def signature_note(self) -> str:
        """How far the signature can be trusted, in a sentence."""
        if self.key.demo:
            return (
                "Signed with the published demo key: the signature shows the check at work but proves "
                "nothing, since anyone can sign with that key."
            )
        return f"Signature checked with {self.key.label} (key {self.key.id})."


def replay(snapshot: snapshots.Snapshot, at: datetime, frozen_at: datetime) -> Sources:
    """Replay clients answering from a frozen week's `snapshot`: `now()` is `at` (the week's end), and the
    backends' present (`Sources.present`) is `frozen_at`, when the recording was made: the answers about
    the present it holds (Prometheus's alerts) are those of the freeze, not of the week's end, unless the
    week was frozen as it ended."""
    return Sources(
        prometheus=snapshots.SnapshotPrometheusClient(snapshot),
        opensearch=snapshots.SnapshotOpenSearchClient(snapshot),
        jaeger=snapshots.SnapshotJaegerClient(snapshot),
        mode="snapshot",
        snapshot_recorded_at=at,
        present_at=frozen_at,
    )


def signature(document: dict[str, Any], key: SigningKey) -> str:
    body = {k: v for k, v in document.items() if k not in ("sha256", "hmac")}
    return hmac.new(key.secret, snapshots.canonical_json(body), hashlib.sha256).hexdigest()


def sign(document: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    """`document` (a snapshot document with its `report`) with its HMAC, then its SHA-256 over both."""
    return snapshots.seal({**document, "hmac": signature(document, key)})


def read(path: Path, keys: tuple[SigningKey, ...]) -> FrozenWeek:
    """Read and check a frozen week; FrozenWeekError says why it is refused, FileNotFoundError when absent."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no frozen week at {path}")
    try:
        document = snapshots.read_document(path)
    except snapshots.SnapshotFormatError as exc:
        raise FrozenWeekError(path, f"unreadable: {exc.reason}") from None
    if snapshots.checksum(document) != document.get("sha256"):
        raise FrozenWeekError(
            path, "its SHA-256 does not match its content: corrupted, or edited after it was written"
        )
    report = document.get("report")
    if not isinstance(report, dict) or report.get("kind") != KIND:
        raise FrozenWeekError(path, "not a frozen week (no report section)")
    found = document.get("hmac")
    if not isinstance(found, str):
        raise FrozenWeekError(path, "it is not signed", tampered=True)
    key = next((k for k in keys if hmac.compare_digest(signature(document, k), found)), None)
    if key is None:
        raise FrozenWeekError(path, _refusal(report, keys), tampered=True)
    snapshot = snapshots.from_document(path, document)
    try:
        return FrozenWeek(
            path=path,
            week=parse_week(str(report.get("week"))),
            at=parse_time(str(report.get("at"))),
            frozen_at=parse_time(str(report.get("frozen_at"))),
            frozen_by=str(report.get("frozen_by") or "unknown"),
            actions=tuple(ActionItem.from_json(a) for a in report.get("actions") or []),
            key=key,
            sha256=str(document["sha256"]),
            snapshot=snapshot,
        )
    except (ValueError, ActionError) as exc:  # signed, yet malformed: written by another version?
        raise FrozenWeekError(path, f"its report section is malformed: {exc}") from None


def _refusal(report: dict[str, Any], keys: tuple[SigningKey, ...]) -> str:
    if not keys:
        return "its signature cannot be checked: SEXTANT_REPORT_KEY is not set"
    signed_with = (report.get("key") or {}).get("id") if isinstance(report.get("key"), dict) else None
    if signed_with is not None and signed_with not in {k.id for k in keys}:
        if signed_with == DEMO_KEY.id:
            return (
                "tampered or foreign: it is signed with the published demo key, which proves nothing and is "
                "accepted on the demo only"
            )
        return (
            f"tampered or foreign: it names another signing key ({str(signed_with)[:16]}) than "
            f"{' or '.join(k.label for k in keys)}"
        )
    return (
        "tampered: its HMAC signature does not match its content, so it was changed after it was frozen "
        "(a recomputed SHA-256 does not hide that)"
    )


def open_week(config: Config, week: IsoWeek) -> FrozenWeek | None:
    """The frozen `week` of this configuration, checked; None when it is not frozen."""
    try:
        return read(week_path(weeks_dir(config), week), accepted_keys(config))
    except FileNotFoundError:
        return None


def report_section(
    week: IsoWeek, at: datetime, frozen_at: datetime, by: str, actions: list[ActionItem], key: SigningKey
) -> dict[str, Any]:
    return {
        "kind": KIND,
        "week": str(week),
        "start": rfc3339(week.start),
        "end": rfc3339(week.end),
        "at": rfc3339(at),
        "frozen_at": rfc3339(frozen_at),
        "frozen_by": by,
        "actions": [a.to_json() for a in actions],
        "key": {"label": key.label, "id": key.id},
    }
