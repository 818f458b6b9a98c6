"""A checked snapshot kept ready in the cache directory, so that a new process neither checks nor parses
the whole file again.

Loading the 46 MB demo snapshot cost every fresh process about 3.7 s before its first page could draw: 2.1 s
to parse all of its JSON and 1.5 s to recompute its SHA-256, though a page asks for a few dozen of its
thousands of answers. The first process to load a file checks it in full, as before (`snapshot.load`: its
checksum, then its shape), and writes an index here: every answer and every shared frame as JSON text of
its own, and where each lies. A later process reads the index instead, but only when it was made from this
very file: the same path, device, inode, size, modification and change time (any write to the file moves
its change time, which no tool sets back), so the integrity check still holds for the bytes being served.
It then parses an answer only when a page asks for it, and holds the text (a fraction of the memory of the
parsed objects).

The index lives in `$SEXTANT_CACHE/snapshots/` (default `~/.cache/sextant`), one per snapshot path; an index
that cannot be read or written is simply not used: the file is then checked and parsed in full.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app import filecache

MAGIC = b"sextant snapshot index 1\n"
KEEP_UNUSED_S = 7 * 86400  # an index nobody read for a week (a test's temporary snapshot) is removed


def cache_dir() -> Path:
    return filecache.cache_dir("snapshots")


def identity(path: Path) -> str:
    """What makes a file this very file: a write, a replacement or a copy changes it."""
    stat = path.stat()
    parts = (path.resolve(), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    return "|".join(str(p) for p in parts)


def index_path(path: Path) -> Path:
    return cache_dir() / (hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32] + ".index")


class _Texts(Mapping[str, Any]):
    """key -> the JSON value whose text lies at (start, length) in `blob`, parsed on each access."""

    def __init__(self, blob: bytes, spans: Mapping[str, list[int]]) -> None:
        self._blob = blob
        self._spans = spans

    def __getitem__(self, key: str) -> Any:
        start, length = self._spans[key]
        return json.loads(self._blob[start : start + length])

    def __iter__(self) -> Iterator[str]:
        return iter(self._spans)

    def __len__(self) -> int:
        return len(self._spans)


class _Entries(Mapping[str, Mapping[str, Any]]):
    """call key -> the recorded entry (backend, method, args, query_text, result), its result parsed when
    the entry is asked for."""

    def __init__(self, blob: bytes, entries: Mapping[str, list[Any]]) -> None:
        self._entries = entries
        self._results = _Texts(blob, {k: e[4:6] for k, e in entries.items()})

    def __getitem__(self, key: str) -> Mapping[str, Any]:
        backend, method, args, query_text = self._entries[key][:4]
        return {
            "backend": backend,
            "method": method,
            "args": args,
            "query_text": query_text,
            "result": self._results[key],
        }

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class Indexed:
    header: Mapping[str, Any]  # recorded_at, anchor, time_range as the file holds them
    entries: Mapping[str, Mapping[str, Any]]
    frames: Mapping[str, Any]


def read(path: Path) -> Indexed | None:
    """The index of the snapshot at `path` when one was written for this very file, else None."""
    try:
        with open(index_path(path), "rb") as handle:
            data = handle.read()
        now = identity(path)
    except OSError:
        return None
    if not data.startswith(MAGIC):
        return None
    end = data.find(b"\n", len(MAGIC))
    try:
        header = json.loads(data[len(MAGIC) : end])
    except ValueError:
        return None
    if not isinstance(header, dict) or header.get("identity") != now:
        return None
    blob = data[end + 1 :]
    entries, frames = header.get("entries"), header.get("frames")
    if not isinstance(entries, dict) or not isinstance(frames, dict):
        return None
    return Indexed(header, _Entries(blob, entries), _Texts(blob, frames))


_writing = threading.Lock()


def write(path: Path, document: Mapping[str, Any], checked_identity: str) -> None:
    """Write the index of the snapshot at `path`, whose `document` was just checked in full while the file
    was `checked_identity`. Best effort: a cache that cannot be written costs only the next load's time."""
    parts: list[bytes] = []
    offset = 0

    def add(value: Any) -> list[int]:
        nonlocal offset
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        parts.append(text)
        offset += len(text)
        return [offset - len(text), len(text)]

    from app.sources.snapshot import call_key  # here: snapshot imports this module

    entries = {
        call_key(e["backend"], e["method"], e["args"]): [
            e["backend"], e["method"], e["args"], e["query_text"], *add(e["result"])
        ]
        for e in document["entries"]
    }  # fmt: skip
    frames = {digest: add(frame) for digest, frame in document["frames"].items()}
    header = {
        "identity": checked_identity,
        **{k: document.get(k) for k in ("recorded_at", "anchor", "time_range")},
        "entries": entries,
        "frames": frames,
    }
    target = index_path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _writing, open(temporary, "wb") as handle:
            handle.write(MAGIC)
            handle.write(json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
            handle.write(b"\n")
            handle.writelines(parts)
        os.replace(temporary, target)
        _prune(target.parent)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def _prune(directory: Path) -> None:
    cutoff = time.time() - KEEP_UNUSED_S
    for old in directory.glob("*.index"):
        try:
            if old.stat().st_atime < cutoff and old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
