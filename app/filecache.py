"""Read a YAML file (`read_yaml`: one error naming the file), and parse a file, or a directory of YAML
files, once; parse it again only when one of them changes.

Pages read the SLO definitions, the query catalogue and the dashboards on every run. Parsing YAML in pure
Python is slow (with 19 SLOs it was a third of the overview's Python time), so the parsed value is kept
under a stamp of the files' names, sizes and modification times: one `stat` per file tells whether an
edit needs a new parse. A lock makes threads that miss at once wait for one parse instead of each parsing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml

T = TypeVar("T")
# libyaml's loader, which the PyYAML wheel ships: the same documents, parsed about 8 times faster (a page's
# first run parses every query and definition file); the pure Python one where it is missing.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAML_SUFFIXES = (".yaml", ".yml")

Stamp = tuple[tuple[str, int, int], ...]


class UnreadableFile(ValueError):
    """A file that cannot be read or is not YAML; the message names the file and says which."""


def read_yaml(path: str | Path) -> Any:
    """The YAML document of `path`. Each definition reader turns `UnreadableFile` into its own typed error,
    so that every file's problem is worded the same way: "<file>: cannot read: …" or "<file>: not valid
    YAML: …"."""
    try:
        return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506 (safe)
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise UnreadableFile(f"{path}: not valid YAML: {exc}") from exc


def stamp(path: Path, suffixes: tuple[str, ...] = YAML_SUFFIXES) -> Stamp:
    """Name, size and mtime of `path`, or of each file of the directory `path` with one of `suffixes`;
    empty when `path` does not exist (so that creating it counts as a change)."""
    if path.is_dir():
        files = sorted(f for f in path.iterdir() if f.is_file() and f.suffix in suffixes)
    else:
        files = [path] if path.exists() else []
    out = []
    for f in files:
        st = f.stat()
        out.append((f.name, st.st_size, st.st_mtime_ns))
    return tuple(out)


class FileCache(Generic[T]):
    """`get(path)` is `load(path)`, re-run only when `stamp(path)` changed since the last call."""

    def __init__(self, load: Callable[[Path], T], suffixes: tuple[str, ...] = YAML_SUFFIXES) -> None:
        self._load = load
        self._suffixes = suffixes
        self._lock = threading.Lock()
        self._values: dict[Path, tuple[Stamp, T]] = {}

    def get(self, path: str | Path) -> T:
        path = Path(path)
        current = stamp(path, self._suffixes)
        with self._lock:
            cached = self._values.get(path)
            if cached is None or cached[0] != current:
                cached = self._values[path] = (current, self._load(path))
            return cached[1]
