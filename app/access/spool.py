"""A local file of access events not yet stored in OpenSearch: written atomically, bounded, shared safely.

Every access event is written here first and removed once OpenSearch has it (`app.access.log`), so an
event survives OpenSearch being down and Sextant restarting. The file holds one JSON document per line
and is only ever replaced whole: written to a temporary file beside it, flushed to disk, then renamed over
it, so a crash leaves the old file or the new one, never half of one. An exclusive `flock` on a lock file
beside it makes each read-modify-write whole between threads and processes (several Streamlit servers may
share one spool).

It is bounded: at `capacity` events `add` raises `SpoolFull` (the caller refuses what it cannot record:
nothing is viewed unaudited), and `near_full` says when it is 80% there, so that people hear of it first.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

NEAR_FULL = 0.8
_log = logging.getLogger(__name__)


class SpoolFull(RuntimeError):
    """The spool holds `capacity` events: nothing more can be recorded until OpenSearch takes them."""


class Spool:
    def __init__(self, path: Path, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a spool holds at least one event")
        self.path = path
        self.capacity = capacity
        self._lock_path = path.with_name(path.name + ".lock")

    def add(self, document: dict[str, Any]) -> int:
        """Append one event (a JSON-ready mapping with an `id`); the number now waiting."""
        with self._locked():
            held = self._read()
            if len(held) >= self.capacity:
                raise SpoolFull(f"the access spool {self.path} holds {len(held)} events, its limit")
            held.append(document)
            self._write(held)
            return len(held)

    def pending(self) -> list[dict[str, Any]]:
        """Every waiting event, oldest first."""
        with self._locked():
            return self._read()

    def remove(self, ids: Iterable[str]) -> int:
        """Drop the events with these ids (OpenSearch has them); the number still waiting."""
        gone = set(ids)
        with self._locked():
            held = self._read()
            kept = [doc for doc in held if doc.get("id") not in gone]
            if len(kept) != len(held):
                self._write(kept)
            return len(kept)

    def count(self) -> int:
        return len(self.pending())

    def near_full(self, count: int | None = None) -> bool:
        return (self.count() if count is None else count) >= NEAR_FULL * self.capacity

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> list[dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        held = []
        for number, line in enumerate(text.splitlines(), 1):
            try:
                document = json.loads(line)
            except ValueError:
                _log.warning("%s line %d is not JSON: left out", self.path, number)
                continue
            if isinstance(document, dict):
                held.append(document)
        return held

    def _write(self, documents: list[dict[str, Any]]) -> None:
        """Replace the file whole (temporary file, fsync, rename), then make the rename durable."""
        handle, temporary = tempfile.mkstemp(prefix=self.path.name + ".", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.writelines(json.dumps(d, sort_keys=True) + "\n" for d in documents)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
