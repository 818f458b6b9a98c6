"""Read a YAML file (`read_yaml`: one error naming the file), and parse a file, or a directory of YAML
files, once; parse it again only when one of them changes.

Pages read the SLO definitions, the query catalogue and the dashboards on every run. Parsing YAML in pure
Python is slow (with 19 SLOs it was a third of the overview's Python time), so the parsed value is kept
under a stamp of the files' names, sizes and modification times: one `stat` per file tells whether an
edit needs a new parse. A lock makes threads that miss at once wait for one parse instead of each parsing.

Across processes, `yaml_documents` keeps a file's parsed documents on disk as JSON (in `cache_dir("parsed")`),
under the SHA-256 of its text: 10,000 SLO definitions take 3 s to parse even with libyaml's parser (PyYAML
builds every value in Python), and their JSON 0.2 s, so a restarted server or a CLI run does not parse them
again. Only documents JSON gives back unchanged are kept (no dates, no keys other than strings); the cache is
never needed, never trusted for more than a file's own text, and any problem reading or writing it means
parsing as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
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
PARSE_CACHE_FILES = 1_000  # files' parsed documents kept at most (10,000 SLOs in 100 files: 7 MB)

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


def cache_dir(name: str) -> Path:
    """Sextant's own cache directory `name` (the snapshot's index, parsed files) in `$SEXTANT_CACHE`
    (default `~/.cache/sextant`, as for the stack's downloads): outside the checkout, kept between runs."""
    base = os.environ.get("SEXTANT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sextant"
    )
    return Path(base) / name


def yaml_documents(path: Path) -> list[Any]:
    """Every document of the YAML file `path` (None for an empty one), as `yaml.load_all` gives them;
    kept on disk for the next process (see the module's docstring). Raises `OSError`,
    `UnicodeDecodeError` or `yaml.YAMLError` as reading and parsing would."""
    text = path.read_text(encoding="utf-8")
    digest = hashlib.sha256(f"{yaml.__version__}\0{text}".encode()).hexdigest()
    kept = cache_dir("parsed") / f"{digest}.json"
    try:
        documents = json.loads(kept.read_text(encoding="utf-8"))
        if isinstance(documents, list):
            os.utime(kept)  # used: the last to be pruned
            return documents
    except (OSError, ValueError):
        pass  # not kept yet, or unreadable: parse
    documents = _parse_all(text)
    _keep(kept, documents)
    return documents


def _parse_all(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=SAFE_LOADER))  # noqa: S506 (a safe loader)


def _keep(kept: Path, documents: list[Any]) -> None:
    """Write `documents` as JSON to `kept` (atomically: a reader sees the whole file or none), when JSON
    gives them back unchanged."""
    try:
        written = json.dumps(documents, allow_nan=False)
    except (TypeError, ValueError):
        return  # a date, a key that is not a string's own type, NaN: not kept
    if json.loads(written) != documents:
        return  # e.g. an integer key, which JSON turns into text
    partial = kept.with_name(f"{kept.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        kept.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial.write_text(written, encoding="utf-8")
        os.replace(partial, kept)
        _prune(kept.parent)
    except OSError:  # a read-only or full disk: the next process parses again
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


def _prune(directory: Path) -> None:
    """Delete the least recently used kept files beyond `PARSE_CACHE_FILES` (each edit of a file keeps its
    new text's documents; the old ones would otherwise stay for ever)."""
    kept = [(f.stat().st_mtime_ns, f) for f in directory.glob("*.json")]
    for _, old in sorted(kept, reverse=True)[PARSE_CACHE_FILES:]:
        old.unlink(missing_ok=True)


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
