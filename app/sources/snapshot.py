"""Record backend calls to a file and replay them, so the app runs with no backend at all.

A snapshot maps each call — (backend, method, arguments normalised against the live client's signature)
— to its result or its `BackendError`. `Recorder.wrap(client)` records through a live client;
`SnapshotPrometheusClient`, `SnapshotOpenSearchClient`, `SnapshotJaegerClient` and
`SnapshotAlertmanagerClient` have the live clients' methods and answer from the file, raising `SnapshotMiss`
for anything not recorded. Pages compute their time ranges from `Sources.now()`, which in snapshot mode is
the recording time, so they ask exactly the recorded questions.

File: gzip JSON `{"format": 1, "recorded_at", "anchor", "time_range", "entries": [{"backend", "method",
"args", "query_text", "result"}], "sha256"}`, where `sha256` is the hex digest of the canonical JSON (sorted
keys, no spaces, UTF-8) of everything else. Frames are stored as `{"columns", "data", "dtypes"}` (pandas
orient="split" without the index) with datetimes as integer microseconds, which keeps a whole app's
snapshot to a few MB.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gzip
import hashlib
import inspect
import json
import os
import sys
import threading
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.sources import errors, snapshot_index
from app.sources.alertmanager import AlertmanagerClient
from app.sources.errors import BackendError, SnapshotMiss
from app.sources.jaeger import JaegerClient, Trace, TraceList, TraceSummary
from app.sources.opensearch import OpenSearchClient, SearchResult
from app.sources.prometheus import PrometheusClient, QueryResult
from app.sources.stats import BackendHealth, CallStats, tracked
from app.times import parse_time, rfc3339, to_utc

FORMAT = 2  # 2: frames are stored once, in "frames", and answers point at them
NOT_RECORDED = "this view is not in the demo snapshot"

LIVE_CLIENTS: dict[str, type] = {
    "prometheus": PrometheusClient,
    "opensearch": OpenSearchClient,
    "jaeger": JaegerClient,
    "alertmanager": AlertmanagerClient,
}
RECORDED_METHODS: dict[str, frozenset[str]] = {
    "prometheus": frozenset(
        {
            "instant",
            "range",
            "series",
            "format_query",
            "rules",
            "alerts",
            "targets",
            "buildinfo",
            "runtimeinfo",
        }
    ),
    "opensearch": frozenset(
        {"search", "search_all", "open_point_in_time", "search_point_in_time", "count", "indices", "info"}
    ),
    "jaeger": frozenset({"services", "operations", "search", "trace"}),
    "alertmanager": frozenset({"alerts", "silences", "status"}),
}
_RESULT_TYPES: dict[str, type] = {
    cls.__name__: cls for cls in (QueryResult, SearchResult, TraceSummary, Trace)
}


class SnapshotFormatError(ValueError):
    """The file is not a snapshot this version can read: not gzip JSON, a checksum that does not match,
    or content that does not have the snapshot's shape. `reason` says which, in words for a page."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


# -- JSON encoding ---------------------------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def normalize_args(value: Any) -> Any:
    """Arguments as plain JSON, equal for equal calls: datetimes in UTC ISO form, durations in seconds."""
    if isinstance(value, datetime):
        return to_utc(value).isoformat()
    if isinstance(value, timedelta):
        return {"seconds": value.total_seconds()}
    if isinstance(value, Mapping):
        return {str(k): normalize_args(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [normalize_args(v) for v in value]
    return value


def bound_args(backend: str, method: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter of the live method by name, defaults filled in, so `f(q)` and `f(query=q)` match."""
    signature = inspect.signature(getattr(LIVE_CLIENTS[backend], method))
    bound = signature.bind(None, *args, **kwargs)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    arguments.pop("self")
    return normalize_args(arguments)


def call_key(backend: str, method: str, args: Mapping[str, Any]) -> str:
    return canonical_json([backend, method, args]).decode("utf-8")


def _encode_frame(frame: pd.DataFrame) -> dict[str, Any]:
    data: dict[str, list[Any]] = {}
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(column):
            utc = column.dt.tz_convert("UTC") if column.dt.tz is not None else column
            data[name] = [None if pd.isna(v) else int(v.value // 1000) for v in utc]
        else:
            data[name] = [_plain(v) for v in column.tolist()]
    return {
        "columns": [str(c) for c in frame.columns],
        "data": [list(row) for row in zip(*data.values(), strict=True)] if data else [],
        "dtypes": {str(c): str(frame[c].dtype) for c in frame.columns},
    }


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN: JSON has no NaN, None reads back as NaN
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _decode_frame(encoded: Mapping[str, Any]) -> pd.DataFrame:
    columns = encoded["columns"]
    rows = encoded["data"]
    series = {}
    for i, name in enumerate(columns):
        values = [row[i] for row in rows]
        dtype = encoded["dtypes"][name]
        if dtype.startswith("datetime64"):
            parsed = pd.to_datetime(pd.Series(values, dtype="float64"), unit="us", utc=True)
            naive = "UTC" not in dtype
            series[name] = (parsed.dt.tz_localize(None) if naive else parsed).astype(dtype)
        elif dtype == "object":
            series[name] = pd.Series(values, dtype="object")
        else:
            series[name] = pd.Series(values, dtype="float64" if dtype == "float64" else None).astype(dtype)
    return pd.DataFrame(series, columns=columns)


def encode(value: Any) -> Any:
    """A result (frames, result dataclasses, lists, dicts) as tagged JSON."""
    if isinstance(value, pd.DataFrame):
        return {"__frame__": _encode_frame(value)}
    if isinstance(value, TraceList):
        traces = [encode(t) for t in value]
        return {"__type__": "TraceList", "traces": traces, "warnings": list(value.warnings)}
    if isinstance(value, QueryResult):  # not a dataclass: its frame is built when first read
        return {"__type__": "QueryResult", "frame": encode(value.frame), "warnings": list(value.warnings)}
    if dataclasses.is_dataclass(value) and type(value).__name__ in _RESULT_TYPES:
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__type__": type(value).__name__, **fields}
    if isinstance(value, datetime):
        return {"__datetime__": to_utc(value).isoformat()}
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return _plain(value)


@functools.cache
def _tuple_fields(cls: type) -> frozenset[str]:
    hints = typing.get_type_hints(cls)
    return frozenset(name for name, hint in hints.items() if typing.get_origin(hint) is tuple)


# What decoding a malformed recorded answer can raise: a missing key, a wrong type, a bad dtype or date…
_DECODE_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError, RecursionError)


def decode(value: Any, frames: Mapping[str, Any] | None = None) -> Any:
    """The result `encode` wrote; `frames` holds the frames a saved snapshot shares between answers."""
    if isinstance(value, list):
        return [decode(v, frames) for v in value]
    if not isinstance(value, dict):
        return value
    if "__frame__" in value:
        return _decode_frame(value["__frame__"])
    if "__frame_ref__" in value:
        return _decode_frame((frames or {})[value["__frame_ref__"]])
    if "__datetime__" in value:
        return datetime.fromisoformat(value["__datetime__"])
    kind = value.get("__type__")
    if kind == "TraceList":
        return TraceList((decode(t, frames) for t in value["traces"]), tuple(value["warnings"]))
    if kind in _RESULT_TYPES:
        cls = _RESULT_TYPES[kind]
        fields = {k: decode(v, frames) for k, v in value.items() if k != "__type__"}
        for name in _tuple_fields(cls) & fields.keys():
            fields[name] = tuple(fields[name])
        return cls(**fields)
    return {k: decode(v, frames) for k, v in value.items()}


def _encode_error(error: BackendError) -> dict[str, Any]:
    return {
        "__error__": {
            "class": type(error).__name__,
            "backend": error.backend,
            "message": error.message,
            "status": error.status,
            "error_type": error.error_type,
        }
    }


def _decode_error(encoded: Mapping[str, Any]) -> BackendError:
    cls = getattr(errors, encoded["class"], BackendError)
    if not (isinstance(cls, type) and issubclass(cls, BackendError)):
        cls = BackendError
    return cls(encoded["backend"], encoded["message"], encoded["status"], encoded["error_type"])


def _query_text(backend: str, method: str, args: Mapping[str, Any]) -> str:
    """A human-readable line for whoever reads the file or a SnapshotMiss."""
    if backend == "prometheus" and "query" in args:
        return str(args["query"])
    if backend == "opensearch" and "body" in args:
        return f"{args.get('index')} {json.dumps(args['body'], sort_keys=True)}"
    if backend == "jaeger" and args:
        return " ".join(f"{k}={v}" for k, v in args.items() if v not in (None, {}, []))
    return method


# -- recording -------------------------------------------------------------------------------------------


class Recorder:
    """Collects calls made through wrapped live clients; thread-safe."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def wrap(self, client: Any) -> Any:
        """A stand-in for `client` that records each call of a recorded method (results and errors)."""
        return _RecordingClient(client, self)

    def add(self, backend: str, method: str, args: Mapping[str, Any], result: Any) -> None:
        encoded = _encode_error(result) if isinstance(result, BackendError) else encode(result)
        entry = {
            "backend": backend,
            "method": method,
            "args": dict(args),
            "query_text": _query_text(backend, method, args),
            "result": encoded,
        }
        with self._lock:
            self._entries[call_key(backend, method, args)] = entry

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def save(
        self,
        path: str | Path,
        *,
        recorded_at: datetime,
        anchor: datetime | None = None,
        time_range: tuple[datetime, datetime] | None = None,
    ) -> Path:
        return write_document(path, seal(self.document(recorded_at, anchor, time_range)))

    def document(
        self,
        recorded_at: datetime,
        anchor: datetime | None = None,
        time_range: tuple[datetime, datetime] | None = None,
    ) -> dict[str, Any]:
        """What `save` writes, before its checksum: a caller may add fields of its own (a frozen week)."""
        with self._lock:
            entries = sorted(self._entries.values(), key=_entry_order)
        frames: dict[str, Any] = {}
        entries = [{**entry, "result": _shared(entry["result"], frames)} for entry in entries]
        return {
            "format": FORMAT,
            "frames": frames,
            "recorded_at": rfc3339(recorded_at),
            "anchor": rfc3339(anchor) if anchor else None,
            "time_range": {"start": rfc3339(time_range[0]), "end": rfc3339(time_range[1])}
            if time_range
            else None,
            "entries": entries,
        }


def checksum(document: Mapping[str, Any]) -> str:
    """The hex SHA-256 of the canonical JSON of everything in `document` but its `sha256`."""
    return hashlib.sha256(canonical_json({k: v for k, v in document.items() if k != "sha256"})).hexdigest()


def seal(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with its `sha256`."""
    return {**document, "sha256": checksum(document)}


def write_document(path: str | Path, document: Mapping[str, Any]) -> Path:
    """Write gzip JSON atomically: a reader (a page, a replay) sees the old file or the new one, never half
    of one. The gzip header holds no time, so equal documents give equal bytes."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(temporary, "wb") as raw:
            with gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz:
                gz.write(payload)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def _shared(encoded: Any, frames: dict[str, Any]) -> Any:
    """`encoded` with each frame moved into `frames` under its content's hash: a frame that several
    answers hold (the same series asked at several ranges, the same empty answer) is stored once."""
    if isinstance(encoded, list):
        return [_shared(v, frames) for v in encoded]
    if not isinstance(encoded, dict):
        return encoded
    if "__frame__" in encoded:
        digest = hashlib.sha256(canonical_json(encoded["__frame__"])).hexdigest()[:20]
        frames.setdefault(digest, encoded["__frame__"])
        return {"__frame_ref__": digest}
    return {k: _shared(v, frames) for k, v in encoded.items()}


def _entry_order(entry: Mapping[str, Any]) -> tuple[str, str, str]:
    return (entry["backend"], entry["method"], entry["query_text"])


class _RecordingClient:
    def __init__(self, client: Any, recorder: Recorder) -> None:
        self._client = client
        self._recorder = recorder

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name not in RECORDED_METHODS.get(self._client.name, ()):
            return attribute

        @functools.wraps(attribute)
        def record(*args: Any, **kwargs: Any) -> Any:
            arguments = bound_args(self._client.name, name, args, kwargs)
            try:
                result = attribute(*args, **kwargs)
            except BackendError as exc:
                self._recorder.add(self._client.name, name, arguments, exc)
                raise
            self._recorder.add(self._client.name, name, arguments, result)
            return result

        return record


# -- replay ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    path: Path
    recorded_at: datetime | None
    anchor: datetime | None
    time_range: tuple[datetime, datetime] | None
    entries: Mapping[str, Mapping[str, Any]]
    problem: str | None = None  # why there is nothing to replay (missing file…)
    frames: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # shared by the answers

    @classmethod
    def empty(cls, path: Path, problem: str) -> Snapshot:
        return cls(Path(path), None, None, None, {}, problem)

    def lookup(self, backend: str, method: str, args: Mapping[str, Any]) -> Any:
        """The recorded result; raises the recorded `BackendError`, or `SnapshotMiss`."""
        entry = self.entries.get(call_key(backend, method, args))
        if entry is None:
            query = _query_text(backend, method, args)
            raise SnapshotMiss(backend, self.problem or NOT_RECORDED, f"{backend} {method} {query}")
        result = entry["result"]
        if isinstance(result, dict) and "__error__" in result:
            raise _decode_error(result["__error__"])
        try:
            return decode(result, self.frames)
        except _DECODE_ERRORS as exc:  # load() checks the file's shape, not every answer (too slow)
            query = _query_text(backend, method, args)
            raise SnapshotMiss(
                backend,
                f"the snapshot {self.path.name} holds an unreadable answer to {method} {query}: {exc!r}",
            ) from exc


def read_document(path: Path) -> dict[str, Any]:
    """The file's JSON document, its format checked (not its checksum); SnapshotFormatError otherwise."""
    try:
        with gzip.open(path, "rb") as gz:
            document = json.loads(gz.read().decode("utf-8"))
    except (OSError, EOFError, ValueError, RecursionError) as exc:
        raise SnapshotFormatError(path, f"not a gzip JSON snapshot ({exc})") from exc
    found = document.get("format") if isinstance(document, dict) else type(document).__name__
    if found != FORMAT:
        raise SnapshotFormatError(path, f"unsupported snapshot format {found!r}")
    return document


def _checksum_ok(document: Mapping[str, Any]) -> bool:
    return checksum(document) == document.get("sha256")


def verify(path: str | Path) -> bool:
    """True when the file is a snapshot whose SHA-256 matches its content."""
    try:
        return _checksum_ok(read_document(Path(path)))
    except (SnapshotFormatError, FileNotFoundError):
        return False


def load(path: str | Path) -> Snapshot:
    """Read and verify a snapshot; raises `FileNotFoundError` or `SnapshotFormatError`.

    A matching checksum proves only that nobody edited the file since it was written, so the shape is
    checked too (times, entries, recorded errors): a malformed file is refused here, with the reason,
    instead of failing later in every page. Recorded answers are decoded when asked for (`lookup`)."""
    target = Path(path)
    try:
        found = target.exists()
    except OSError as exc:  # a name too long for the file system, say
        raise SnapshotFormatError(target, f"it cannot be opened ({exc.strerror or exc})") from None
    if not found:
        raise FileNotFoundError(f"no snapshot at {target}")
    indexed = snapshot_index.read(target)  # this very file, checked in full by an earlier load
    if indexed is not None:
        return _snapshot_of(target, {**indexed.header, "entries": [], "frames": {}}, indexed)
    checked = snapshot_index.identity(target)  # before reading: a later write makes the index unused
    document = read_document(target)
    if not _checksum_ok(document):
        raise SnapshotFormatError(target, "SHA-256 does not match the content (edited or truncated?)")
    snapshot = from_document(target, document)
    snapshot_index.write(target, document, checked)
    return snapshot


def from_document(path: Path, document: Mapping[str, Any]) -> Snapshot:
    """The snapshot a read document holds, its shape checked; SnapshotFormatError naming the bad field."""
    try:
        return _snapshot_of(path, document)
    except _ShapeError as exc:
        raise SnapshotFormatError(path, str(exc)) from None


def load_or_empty(path: str | Path) -> Snapshot:
    """The snapshot at `path`, or an empty one whose `problem` says, in a sentence for the pages, why it
    cannot be read; every call then raises `SnapshotMiss` with that sentence."""
    try:
        return load(path)
    except FileNotFoundError:
        reason = "there is no such file"
    except SnapshotFormatError as exc:
        reason = exc.reason
    return Snapshot.empty(Path(path), f"The demo snapshot {path} is unreadable: {reason}")


class _ShapeError(ValueError):
    """A field of the document is missing or has the wrong type; the message names the field."""


def _snapshot_of(
    path: Path, document: Mapping[str, Any], indexed: snapshot_index.Indexed | None = None
) -> Snapshot:
    """The snapshot of a read document, its shape checked; or, given the `indexed` answers of a file
    checked before, of its header alone (its entries were checked when the index was written)."""
    span = document.get("time_range")
    if span is not None and not isinstance(span, dict):
        raise _ShapeError(f"time_range is not an object with start and end: {_cut(span)}")
    entries = document.get("entries")
    if not isinstance(entries, list):
        raise _ShapeError("entries is not a list")
    frames = document.get("frames")
    if not isinstance(frames, dict):
        raise _ShapeError("frames is not an object")
    checked: dict[str, Mapping[str, Any]] = {}
    for number, entry in enumerate(entries):
        _check_entry(entry, f"entries[{number}]")
        checked[call_key(entry["backend"], entry["method"], entry["args"])] = entry
    by_key: Mapping[str, Mapping[str, Any]] = checked if indexed is None else indexed.entries
    return Snapshot(
        path=path,
        recorded_at=_time(document.get("recorded_at"), "recorded_at"),
        anchor=_time(document.get("anchor"), "anchor", optional=True),
        time_range=(
            _required_time(span.get("start"), "time_range.start"),
            _required_time(span.get("end"), "time_range.end"),
        )
        if span is not None
        else None,
        entries=by_key,
        frames=frames if indexed is None else indexed.frames,
    )


def _time(value: Any, field: str, *, optional: bool = False) -> datetime | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _ShapeError(f"{field} is not a time: {_cut(value)}")
    try:
        return parse_time(value)
    except ValueError as exc:
        raise _ShapeError(f"{field}: {exc}") from None


def _required_time(value: Any, field: str) -> datetime:
    at = _time(value, field)
    assert at is not None  # _time refuses a missing time unless told it is optional
    return at


_ERROR_FIELDS: dict[str, tuple[type, ...]] = {
    "class": (str,),
    "backend": (str,),
    "message": (str,),
    "status": (int, type(None)),
    "error_type": (str, type(None)),
}


def _check_entry(entry: Any, where: str) -> None:
    if not isinstance(entry, dict):
        raise _ShapeError(f"{where} is not an object")
    backend, method = entry.get("backend"), entry.get("method")
    if backend not in RECORDED_METHODS:
        raise _ShapeError(f"{where}.backend is not one of {', '.join(RECORDED_METHODS)}: {_cut(backend)}")
    if method not in RECORDED_METHODS[backend]:
        raise _ShapeError(f"{where}.method is not a recorded {backend} method: {_cut(method)}")
    if not isinstance(entry.get("args"), dict):
        raise _ShapeError(f"{where}.args is not an object")
    if "result" not in entry:
        raise _ShapeError(f"{where} has no result")
    result = entry["result"]
    if isinstance(result, dict) and "__error__" in result:
        error = result["__error__"]
        if not isinstance(error, dict):
            raise _ShapeError(f"{where}.result.__error__ is not an object")
        for name, types in _ERROR_FIELDS.items():
            if name not in error:
                raise _ShapeError(f"{where}.result.__error__ has no {name}")
            if not isinstance(error[name], types) or isinstance(error[name], bool):
                raise _ShapeError(f"{where}.result.__error__.{name} has the wrong type: {_cut(error[name])}")


def _cut(value: Any) -> str:
    """A value as a message quotes it: its repr, at most 60 characters."""
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:59] + "…"


class _ReplayClient:
    """Shared by the replay clients: look the call up, count it like a live call."""

    backend: str

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self.name = self.backend
        self.url = f"replayed from the snapshot {snapshot.path.name}"  # what the Data sources page names
        self.stats = CallStats()

    def _replay(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self._snapshot.lookup(self.backend, method, bound_args(self.backend, method, args, kwargs))

    def _recorded_version(self, method: str, version_of: Callable[[Any], str | None]) -> str | None:
        try:
            return version_of(self._replay(method))
        except BackendError:
            return None

    def _health(self, version: str | None) -> BackendHealth:
        return BackendHealth(
            self.name, self.url, self._snapshot.problem is None, version, 0.0, self._snapshot.problem
        )

    def close(self) -> None:
        """Nothing to release; present so callers can treat live and replay clients alike."""


class SnapshotPrometheusClient(_ReplayClient):
    backend = "prometheus"

    @tracked
    def instant(self, query: str, at: datetime | None = None) -> QueryResult:
        return self._replay("instant", query, at)

    @tracked
    def range(self, query: str, start: datetime, end: datetime, step: float | None = None) -> QueryResult:
        return self._replay("range", query, start, end, step)

    @tracked
    def series(self, match: str | Sequence[str], start: datetime, end: datetime) -> list[dict[str, str]]:
        return self._replay("series", match, start, end)

    @tracked
    def format_query(self, query: str) -> str:
        return self._replay("format_query", query)

    @tracked
    def rules(self) -> list[dict[str, Any]]:
        return self._replay("rules")

    @tracked
    def alerts(self) -> list[dict[str, Any]]:
        return self._replay("alerts")

    @tracked
    def targets(self) -> list[dict[str, Any]]:
        return self._replay("targets")

    @tracked
    def buildinfo(self) -> dict[str, Any]:
        return self._replay("buildinfo")

    @tracked
    def runtimeinfo(self) -> dict[str, Any]:
        return self._replay("runtimeinfo")

    def health(self) -> BackendHealth:
        return self._health(self._recorded_version("buildinfo", lambda info: info.get("version")))


class SnapshotOpenSearchClient(_ReplayClient):
    backend = "opensearch"

    @tracked
    def search(self, index: str, body: Mapping[str, Any]) -> SearchResult:
        return self._replay("search", index, body)

    @tracked
    def search_all(
        self,
        index: str,
        body: Mapping[str, Any],
        *,
        page_size: int = 1000,
        max_docs: int = 50_000,
        tiebreaker: str = "_id",
        pit_keep_alive: str | None = None,
    ) -> SearchResult:
        return self._replay(
            "search_all",
            index,
            body,
            page_size=page_size,
            max_docs=max_docs,
            tiebreaker=tiebreaker,
            pit_keep_alive=pit_keep_alive,
        )

    @tracked
    def open_point_in_time(self, index: str, keep_alive: str) -> str:
        return self._replay("open_point_in_time", index, keep_alive)

    @tracked
    def search_point_in_time(self, pit_id: str, body: Mapping[str, Any], keep_alive: str) -> SearchResult:
        return self._replay("search_point_in_time", pit_id, body, keep_alive)

    @tracked
    def count(self, index: str, body: Mapping[str, Any] | None = None) -> int:
        return self._replay("count", index, body)

    @tracked
    def indices(self, pattern: str = "*") -> list[dict[str, Any]]:
        return self._replay("indices", pattern)

    @tracked
    def info(self) -> dict[str, Any]:
        return self._replay("info")

    def health(self) -> BackendHealth:
        version = self._recorded_version("info", lambda info: info.get("version", {}).get("number"))
        return self._health(version)


class SnapshotJaegerClient(_ReplayClient):
    backend = "jaeger"

    @tracked
    def services(self) -> list[str]:
        return self._replay("services")

    @tracked
    def operations(self, service: str) -> list[str]:
        return self._replay("operations", service)

    @tracked
    def search(
        self,
        service: str,
        *,
        operation: str | None = None,
        tags: Mapping[str, str] | None = None,
        start: datetime,
        end: datetime,
        min_duration: timedelta | str | None = None,
        max_duration: timedelta | str | None = None,
        limit: int = 20,
    ) -> TraceList:
        return self._replay(
            "search",
            service,
            operation=operation,
            tags=tags,
            start=start,
            end=end,
            min_duration=min_duration,
            max_duration=max_duration,
            limit=limit,
        )

    @tracked
    def trace(self, trace_id: str) -> Trace:
        return self._replay("trace", trace_id)

    def health(self) -> BackendHealth:
        return self._health(None)


class SnapshotAlertmanagerClient(_ReplayClient):
    backend = "alertmanager"

    @tracked
    def alerts(self) -> list[dict[str, Any]]:
        return self._replay("alerts")

    @tracked
    def silences(self) -> list[dict[str, Any]]:
        return self._replay("silences")

    @tracked
    def status(self) -> dict[str, Any]:
        return self._replay("status")

    def health(self) -> BackendHealth:
        return self._health(
            self._recorded_version("status", lambda s: (s.get("versionInfo") or {}).get("version"))
        )


# -- command line ----------------------------------------------------------------------------------------


def unreadable_answers(snapshot: Snapshot) -> list[str]:
    """Every recorded answer that does not decode, as `backend method query: error` (slow: it decodes
    them all, which pages never do at once)."""
    problems = []
    for entry in snapshot.entries.values():
        result = entry["result"]
        if isinstance(result, dict) and "__error__" in result:
            continue
        try:
            decode(result, snapshot.frames)
        except _DECODE_ERRORS as exc:
            query = _query_text(entry["backend"], entry["method"], entry["args"])
            problems.append(f"{entry['backend']} {entry['method']} {query}: {exc!r}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m app.sources.snapshot verify|info PATH`: exit status 1, with one line on stderr saying
    why, when the file cannot be trusted (missing, not a snapshot, checksum, malformed content)."""
    parser = argparse.ArgumentParser(prog="python -m app.sources.snapshot", description=main.__doc__)
    parser.add_argument("command", choices=["verify", "info"])
    parser.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    try:
        recorded = load(args.path)
    except FileNotFoundError as exc:
        print(f"{args.path}: {exc}", file=sys.stderr)
        return 1
    except SnapshotFormatError as exc:
        print(f"{args.path}: unreadable snapshot: {exc.reason}", file=sys.stderr)
        return 1
    unreadable = unreadable_answers(recorded)
    if unreadable:
        print(
            f"{args.path}: unreadable snapshot: {len(unreadable)} recorded answer(s) do not decode, "
            f"the first: {unreadable[0]}",
            file=sys.stderr,
        )
        return 1
    size_mb = args.path.stat().st_size / 1e6
    calls = len(recorded.entries)
    print(f"{args.path}: SHA-256 ok, {calls} calls recorded at {recorded.recorded_at}, {size_mb:.2f} MB")
    if args.command == "info":
        counts: dict[tuple[str, str], int] = {}
        for entry in recorded.entries.values():
            key = (entry["backend"], entry["method"])
            counts[key] = counts.get(key, 0) + 1
        for (backend, method), count in sorted(counts.items()):
            print(f"  {backend:<11} {method:<13} {count}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
