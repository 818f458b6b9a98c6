"""FileCache parses once and again only after a change; threads missing together share one parse; parsed
YAML documents are kept on disk for the next process."""

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
import yaml

from app import filecache
from app.access.policy import AccessFileError
from app.access.policy import load as load_access
from app.config import REPO_ROOT
from app.controls.definition import ControlsError, load_controls
from app.filecache import FileCache, UnreadableFile, read_yaml, stamp, yaml_documents
from app.slo.loader import load_definitions
from app.sources import snapshot_index


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


# -- parsed documents kept across processes ---------------------------------------------------------------


@pytest.fixture
def parse_cache(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("SEXTANT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "parsed"


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """The texts parsed with YAML (not read back from the cache)."""
    calls: list[str] = []
    parse = filecache._parse_all

    def counted(text: str) -> list:
        calls.append(text)
        return parse(text)

    monkeypatch.setattr(filecache, "_parse_all", counted)
    return calls


def test_a_files_documents_are_parsed_once_for_every_process(
    tmp_path: Path, parse_cache: Path, parses: list[str]
) -> None:
    file = tmp_path / "slos.yaml"
    file.write_text("a: 1\nb: [x, 2.5, true, null]\n---\n---\n- c: {d: e}\n")
    expected = [{"a": 1, "b": ["x", 2.5, True, None]}, None, [{"c": {"d": "e"}}]]
    assert yaml_documents(file) == expected
    assert len(parses) == 1 and len(list(parse_cache.glob("*.json"))) == 1
    assert yaml_documents(file) == expected  # read back: another process would do the same
    assert len(parses) == 1
    file.write_text("a: 2\n")  # an edit is its text's own entry, whatever the file's times say
    assert yaml_documents(file) == [{"a": 2}]
    assert len(parses) == 2


@pytest.mark.parametrize(
    "text",
    [
        "when: 2026-12-07\n",  # a date: JSON has none
        "1: one\n",  # an integer key: JSON would give it back as text
        "x: .nan\n",
        "x: !!binary aGk=\n",
    ],
)
def test_documents_json_would_change_are_parsed_every_time(
    tmp_path: Path, parse_cache: Path, parses: list[str], text: str
) -> None:
    file = tmp_path / "odd.yaml"
    file.write_text(text)
    first, second = yaml_documents(file), yaml_documents(file)
    assert repr(first) == repr(second) == repr(list(yaml.safe_load_all(text)))
    assert len(parses) == 2
    assert not list(parse_cache.glob("*.json"))


def test_a_damaged_cache_file_is_parsed_again_and_replaced(
    tmp_path: Path, parse_cache: Path, parses: list[str]
) -> None:
    file = tmp_path / "slos.yaml"
    file.write_text("a: 1\n")
    yaml_documents(file)
    (kept,) = parse_cache.glob("*.json")
    for damage in ("{not json", '{"a": 1}'):  # unreadable; JSON but not a file's documents
        kept.write_text(damage)
        assert yaml_documents(file) == [{"a": 1}]
        assert json.loads(kept.read_text()) == [{"a": 1}]
    assert len(parses) == 3


def test_without_a_usable_cache_files_are_parsed_as_before(
    tmp_path: Path, monkeypatch, parses: list[str]
) -> None:
    file = tmp_path / "slos.yaml"
    file.write_text("a: 1\n")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("SEXTANT_CACHE", str(blocker / "cache"))  # cannot be created
    assert yaml_documents(file) == yaml_documents(file) == [{"a": 1}]
    assert len(parses) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "slos.yaml"]
    with pytest.raises(yaml.YAMLError):
        (tmp_path / "bad.yaml").write_text("a: [1\n")
        yaml_documents(tmp_path / "bad.yaml")


def test_a_cache_file_that_cannot_be_written_leaves_nothing_behind(
    tmp_path: Path, parse_cache: Path, monkeypatch
) -> None:
    file = tmp_path / "slos.yaml"
    file.write_text("a: 1\n")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(filecache.os, "replace", full_disk)
    assert yaml_documents(file) == [{"a": 1}]
    assert list(parse_cache.iterdir()) == []


def test_the_snapshot_index_and_parsed_files_share_sextants_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SEXTANT_CACHE", str(tmp_path))
    assert snapshot_index.cache_dir() == tmp_path / "snapshots"
    assert filecache.cache_dir("parsed") == tmp_path / "parsed"
    monkeypatch.delenv("SEXTANT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert filecache.cache_dir("parsed") == tmp_path / "xdg" / "sextant" / "parsed"


def test_the_cache_keeps_the_most_recently_used_files(tmp_path: Path, parse_cache: Path, monkeypatch) -> None:
    monkeypatch.setattr(filecache, "PARSE_CACHE_FILES", 2)
    files = []
    for n in range(3):
        files.append(tmp_path / f"{n}.yaml")
        files[-1].write_text(f"n: {n}\n")
        yaml_documents(files[-1])
        for kept in parse_cache.glob("*.json"):  # coarse clocks: the newest entry is certainly newer
            stat = kept.stat()
            os.utime(kept, ns=(stat.st_atime_ns, stat.st_mtime_ns - 10**9))
    assert sorted(json.loads(k.read_text())[0]["n"] for k in parse_cache.glob("*.json")) == [1, 2]


def test_slo_definitions_are_read_back_equal(tmp_path: Path, parse_cache: Path, parses: list[str]) -> None:
    directory = tmp_path / "slos"
    shutil.copytree(REPO_ROOT / "slo_definitions", directory)
    first = load_definitions(directory)
    assert len(parses) == len(list(directory.glob("*.y*ml")))
    parses.clear()
    again = load_definitions(directory)
    assert parses == [(directory / "controls.yaml").read_text()]  # the one file with dates
    assert again.definitions == first.definitions and again.errors == first.errors
    assert len(first.definitions) > 10
