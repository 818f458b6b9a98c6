"""Display names of ids (`slo_definitions/directory.yaml`): client firms and secrets in words.

`name(label, value)` is the one way an id of a label (`tenant`, `secret`) becomes the words on screen:
charts, tables and pickers all call it (or `names`, the same mapping at once). An id the file does not
list is shown as it is. URLs, queries and downloads keep the ids. The file is parsed once per change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from app.config import REPO_ROOT
from app.filecache import FileCache, UnreadableFile, read_yaml

DEFAULT_PATH = REPO_ROOT / "slo_definitions" / "directory.yaml"
API_VERSION = "sextant/v1"
KIND = "Directory"
LABELS = ("tenant", "secret")  # what the file may name


class DirectoryError(ValueError):
    """The file is unreadable or misshapen; the message names the file and the field."""


def _parse(path: Path) -> dict[str, dict[str, str]]:
    source = path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else str(path)
    try:
        doc = read_yaml(path)
    except UnreadableFile as exc:
        raise DirectoryError(str(exc)) from None
    if not isinstance(doc, Mapping) or doc.get("apiVersion") != API_VERSION or doc.get("kind") != KIND:
        raise DirectoryError(f"{source}: must be apiVersion {API_VERSION}, kind {KIND}")
    spec = doc.get("spec")
    if not isinstance(spec, Mapping):
        raise DirectoryError(f"{source}: spec: must be a mapping of labels ({', '.join(LABELS)})")
    out: dict[str, dict[str, str]] = {}
    for label, entries in spec.items():
        if label not in LABELS:
            expected = ", ".join(LABELS)
            raise DirectoryError(f"{source}: spec.{label}: unknown label (expected one of {expected})")
        if not isinstance(entries, Mapping):
            raise DirectoryError(f"{source}: spec.{label}: must map each id to its display name")
        blank = [str(k) for k, v in entries.items() if not isinstance(v, str) or not v.strip()]
        if blank:
            raise DirectoryError(f"{source}: spec.{label}: {', '.join(blank)} need a display name (text)")
        out[str(label)] = {str(k): v.strip() for k, v in entries.items()}
    return out


_cache: FileCache[dict[str, dict[str, str]]] = FileCache(_parse)


def names(label: str, path: Path = DEFAULT_PATH) -> Mapping[str, str]:
    """Every id of `label` the file names: id -> display name."""
    return _cache.get(path).get(label, {})


def name(label: str, value: str, path: Path = DEFAULT_PATH) -> str:
    """The display name of `value`, an id of `label`, or `value` itself when the file has none."""
    return names(label, path).get(value, value)


def choices(label: str, values: Iterable[str]) -> dict[str, str]:
    """`values` (ids) -> their display names, sorted by name, for a picker that keeps the ids in the URL."""
    named = {value: name(label, value) for value in dict.fromkeys(values)}
    return dict(sorted(named.items(), key=lambda item: item[1].casefold()))


def named_column(frame: pd.DataFrame, column: str, label: str | None = None) -> pd.DataFrame:
    """`frame` with the ids of `column` (of `label`, by default the column's name) shown by their names."""
    if column not in frame.columns:
        return frame
    table = names(label or column)
    return frame.assign(**{column: frame[column].map(lambda v: table.get(v, v) if isinstance(v, str) else v)})
