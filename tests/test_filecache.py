"""FileCache parses once and again only after a change; threads missing together share one parse."""

import os
import threading
import time
from pathlib import Path

import pytest

from app.access.policy import AccessFileError
from app.access.policy import load as load_access
from app.controls.definition import ControlsError, load_controls
from app.filecache import FileCache, UnreadableFile, read_yaml, stamp


def counting_loader(calls: list[Path]):
    def load(path: Path) -> str:
        calls.append(path)
        time.sleep(0.05)  # long enough for the other threads to arrive while this one parses
        if path.is_dir():
            return ",".join(sorted(f.read_text() for f in path.glob("*.yaml")))
        return path.read_text()

    return load


def touch_later(path: Path, text: str) -> None:
    """Rewrite `path` with a modification time that certainly differs (coarse file system clocks)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_a_file_is_parsed_once_until_it_changes(tmp_path: Path) -> None:
    calls: list[Path] = []
    cache = FileCache(counting_loader(calls))
    file = tmp_path / "a.yaml"
    file.write_text("one")
    assert [cache.get(file) for _ in range(3)] == ["one"] * 3
    assert len(calls) == 1
    touch_later(file, "two")
    assert cache.get(file) == "two"
    assert len(calls) == 2


def test_a_directory_is_parsed_again_when_a_file_is_added_changed_or_removed(tmp_path: Path) -> None:
    calls: list[Path] = []
    cache = FileCache(counting_loader(calls))
    (tmp_path / "a.yaml").write_text("a")
    (tmp_path / "notes.txt").write_text("ignored")
    assert cache.get(tmp_path) == "a"
    touch_later(tmp_path / "notes.txt", "still ignored")
    assert cache.get(tmp_path) == "a"
    assert len(calls) == 1
    (tmp_path / "b.yaml").write_text("b")
    assert cache.get(tmp_path) == "a,b"
    touch_later(tmp_path / "b.yaml", "c")
    assert cache.get(tmp_path) == "a,c"
    (tmp_path / "a.yaml").unlink()
    assert cache.get(tmp_path) == "c"
    assert len(calls) == 4


def test_threads_that_miss_together_share_one_parse(tmp_path: Path) -> None:
    calls: list[Path] = []
    cache = FileCache(counting_loader(calls))
    file = tmp_path / "a.yaml"
    file.write_text("x")
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(file))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["x"] * 8
    assert len(calls) == 1


def test_a_load_that_fails_is_not_kept(tmp_path: Path) -> None:
    attempts = []

    def load(path: Path) -> str:
        attempts.append(path)
        if len(attempts) == 1:
            raise ValueError("bad file")
        return "fixed"

    cache = FileCache(load)
    file = tmp_path / "a.yaml"
    file.write_text("x")
    with pytest.raises(ValueError):
        cache.get(file)
    assert cache.get(file) == "fixed"


def test_the_stamp_of_a_missing_path_is_empty(tmp_path: Path) -> None:
    assert stamp(tmp_path / "missing.yaml") == ()


def test_every_definition_reader_names_an_unreadable_file_the_same_way(tmp_path):
    """read_yaml words both failures once, and each reader keeps its own typed error around that text."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("roles: [", encoding="utf-8")
    missing = tmp_path / "missing.yaml"
    with pytest.raises(UnreadableFile, match=r"missing\.yaml: cannot read: No such file"):
        read_yaml(missing)
    with pytest.raises(UnreadableFile, match=r"broken\.yaml: not valid YAML"):
        read_yaml(broken)
    with pytest.raises(AccessFileError, match=r"missing\.yaml: cannot read: No such file"):
        load_access(missing)
    with pytest.raises(ControlsError) as found:
        load_controls(broken)
    assert found.value.problems[0].startswith(f"{broken}: not valid YAML")
