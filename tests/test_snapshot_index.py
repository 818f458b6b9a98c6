"""A snapshot checked once is not checked nor parsed in full again while it is the very same file
(app.sources.snapshot_index): a new process serves the demo at once, and a file changed since is refused
as before."""

from __future__ import annotations

import gzip
import json
import os
import shutil

import pytest

from app.config import REPO_ROOT
from app.sources import snapshot as snap
from app.sources import snapshot_index
from tests.test_snapshot_malformed import VALID, write

DEMO = REPO_ROOT / "snapshots" / "demo.json.gz"


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEXTANT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _no_checksum(monkeypatch):
    def refuse(document):
        raise AssertionError("the whole file was checked again")

    monkeypatch.setattr(snap, "checksum", refuse)


def test_a_second_load_reads_the_index_and_answers_the_same(tmp_path, monkeypatch):
    path = tmp_path / "demo.json.gz"
    shutil.copy(DEMO, path)
    full = snap.load(path)
    assert snapshot_index.index_path(path).exists()
    _no_checksum(monkeypatch)
    indexed = snap.load(path)
    assert (indexed.recorded_at, indexed.anchor, indexed.time_range) == (
        full.recorded_at,
        full.anchor,
        full.time_range,
    )
    assert set(indexed.entries) == set(full.entries)
    for key in list(full.entries)[::7]:  # every answer kind: frames, traces, hits, recorded errors
        backend, method, args = json.loads(key)
        try:
            want = snap.encode(full.lookup(backend, method, args))
        except Exception as exc:  # noqa: BLE001  (a recorded error is replayed as the same error)
            want = repr(exc)
        try:
            got = snap.encode(indexed.lookup(backend, method, args))
        except Exception as exc:  # noqa: BLE001
            got = repr(exc)
        assert got == want, key


def test_a_file_changed_after_its_index_was_written_is_checked_again_and_refused(tmp_path, monkeypatch):
    path = write(tmp_path / "s.json.gz", VALID)
    assert snap.load(path).problem is None
    stat = path.stat()
    document = json.loads(gzip.decompress(path.read_bytes()))
    document["entries"][0]["result"] = {"version": "9.9.9"}  # an edit that keeps the old checksum
    path.write_bytes(gzip.compress(json.dumps(document).encode("utf-8")))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # its modification time put back
    with pytest.raises(snap.SnapshotFormatError, match="SHA-256 does not match"):
        snap.load(path)


def test_an_unusable_cache_costs_only_time(tmp_path, monkeypatch, cache):
    cache.parent.mkdir(exist_ok=True)
    cache.write_text("a file where the cache directory should be")
    path = write(tmp_path / "s.json.gz", VALID)
    for _ in range(2):
        assert snap.load(path).lookup("prometheus", "buildinfo", {}) == {"version": "2.42.0"}


def test_a_damaged_index_is_not_used(tmp_path, monkeypatch):
    path = write(tmp_path / "s.json.gz", VALID)
    snap.load(path)
    snapshot_index.index_path(path).write_bytes(b"sextant snapshot index 1\nnot json\n")
    assert snap.load(path).lookup("prometheus", "buildinfo", {}) == {"version": "2.42.0"}
