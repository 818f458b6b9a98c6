"""A snapshot whose checksum is valid but whose content is malformed is refused with the file and the field:
at load, by `python -m app.sources.snapshot verify`, and in the Sources bundle the pages use."""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from app.config import load_config
from app.sources import build_sources
from app.sources import snapshot as snap
from app.sources.errors import BackendUnavailable, SnapshotMiss

VALID: dict[str, Any] = {
    "format": 2,
    "frames": {},
    "recorded_at": "2026-11-28T05:09:00Z",
    "anchor": None,
    "time_range": {"start": "2026-10-29T05:09:00Z", "end": "2026-11-28T05:09:00Z"},
    "entries": [
        {
            "backend": "prometheus",
            "method": "buildinfo",
            "args": {},
            "query_text": "buildinfo",
            "result": {"version": "2.42.0"},
        },
        {
            "backend": "jaeger",
            "method": "services",
            "args": {},
            "query_text": "services",
            "result": {
                "__error__": {
                    "class": "BackendUnavailable",
                    "backend": "jaeger",
                    "message": "no answer within 10 s",
                    "status": None,
                    "error_type": "timeout",
                }
            },
        },
    ],
}


def write(path: Path, document: Any) -> Path:
    """`document` as a snapshot file with a checksum that matches it, however malformed it is."""
    if isinstance(document, dict):
        body = {k: v for k, v in document.items() if k != "sha256"}
        document = {**body, "sha256": hashlib.sha256(snap.canonical_json(body)).hexdigest()}
    path.write_bytes(gzip.compress(json.dumps(document).encode("utf-8")))
    return path


def changed(change) -> dict[str, Any]:
    document = copy.deepcopy(VALID)
    change(document)
    return document


def error_of(document: dict[str, Any]) -> dict[str, Any]:
    return document["entries"][1]["result"]["__error__"]


MALFORMED = {
    "recorded_at not a time": (
        lambda d: d.update(recorded_at="yesterday"),
        "recorded_at: 'yesterday' is not a time",
    ),
    "recorded_at before 1970": (
        lambda d: d.update(recorded_at="0001-01-01T00:00+14:00"),
        "recorded_at: '0001-01-01T00:00+14:00' is before 1970",
    ),
    "recorded_at near 9999": (
        lambda d: d.update(recorded_at="9999-12-31T23:59:00Z"),
        "recorded_at: '9999-12-31",
    ),
    "recorded_at missing": (lambda d: d.pop("recorded_at"), "recorded_at is not a time: None"),
    "recorded_at a number": (
        lambda d: d.update(recorded_at=1764306540),
        "recorded_at is not a time: 1764306540",
    ),
    "anchor not a time": (lambda d: d.update(anchor="soon"), "anchor: 'soon' is not a time"),
    "time_range not an object": (lambda d: d.update(time_range="30d"), "time_range is not an object"),
    "time_range without end": (lambda d: d["time_range"].pop("end"), "time_range.end is not a time: None"),
    "entries missing": (lambda d: d.pop("entries"), "entries is not a list"),
    "entry not an object": (lambda d: d["entries"].insert(0, "buildinfo"), "entries[0] is not an object"),
    "unknown backend": (
        lambda d: d["entries"][0].update(backend="graphite"),
        "entries[0].backend is not one of",
    ),
    "unknown method": (
        lambda d: d["entries"][0].update(method="delete"),
        "entries[0].method is not a recorded prometheus method: 'delete'",
    ),
    "args missing": (lambda d: d["entries"][0].pop("args"), "entries[0].args is not an object"),
    "result missing": (lambda d: d["entries"][0].pop("result"), "entries[0] has no result"),
    "error without its class": (
        lambda d: error_of(d).pop("class"),
        "entries[1].result.__error__ has no class",
    ),
    "error without its type": (
        lambda d: error_of(d).pop("error_type"),
        "entries[1].result.__error__ has no error_type",
    ),
    "error status as text": (
        lambda d: error_of(d).update(status="503"),
        "entries[1].result.__error__.status has the wrong type: '503'",
    ),
}


def test_the_valid_document_loads(tmp_path):
    """The baseline every malformed case differs from by one field."""
    snapshot = snap.load(write(tmp_path / "ok.json.gz", VALID))
    assert snapshot.problem is None and len(snapshot.entries) == 2


@pytest.mark.parametrize(("change", "reason"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_content_is_refused_naming_the_file_and_the_field(tmp_path, change, reason):
    path = write(tmp_path / "demo.json.gz", changed(change))
    assert snap.verify(path)  # the checksum is fine: only the content is wrong
    with pytest.raises(snap.SnapshotFormatError) as refused:
        snap.load(path)
    assert refused.value.path == path and reason in refused.value.reason
    assert str(refused.value).startswith(f"{path}: ")


@pytest.mark.parametrize(("change", "reason"), MALFORMED.values(), ids=MALFORMED.keys())
def test_verify_prints_one_clear_line_and_exits_1(tmp_path, capsys, change, reason):
    path = write(tmp_path / "demo.json.gz", changed(change))
    assert snap.main(["verify", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"{path}: unreadable snapshot: ") and reason in captured.err


def test_a_document_that_is_not_an_object_is_refused(tmp_path):
    path = write(tmp_path / "list.json.gz", [VALID])
    with pytest.raises(snap.SnapshotFormatError, match="unsupported snapshot format 'list'"):
        snap.load(path)
    assert snap.main(["verify", str(path)]) == 1


def test_pages_get_one_sentence_that_names_the_file_not_a_backend(tmp_path):
    path = write(tmp_path / "demo.json.gz", changed(MALFORMED["error without its type"][0]))
    sources = build_sources(load_config({"SEXTANT_SNAPSHOT": str(path)}))
    expected = f"The demo snapshot {path} is unreadable: entries[1].result.__error__ has no error_type"
    assert sources.mode == "snapshot" and sources.snapshot_problem == expected
    with pytest.raises(SnapshotMiss) as miss:
        sources.prometheus.buildinfo()
    assert miss.value.message == expected
    assert [health.error for health in sources.health()] == [expected] * 4


def test_a_readable_snapshot_has_no_problem_and_replays_its_errors(tmp_path):
    sources = build_sources(load_config({"SEXTANT_SNAPSHOT": str(write(tmp_path / "ok.json.gz", VALID))}))
    assert sources.snapshot_problem is None
    assert sources.prometheus.buildinfo() == {"version": "2.42.0"}
    with pytest.raises(BackendUnavailable, match="no answer within 10 s"):
        sources.jaeger.services()


@pytest.mark.parametrize(
    "result",
    [
        {"__frame__": {"columns": ["a"], "data": [[1]], "dtypes": {"a": "no-such-dtype"}}},
        {"__frame__": {"columns": ["a"], "data": [[]], "dtypes": {"a": "float64"}}},
        {"__datetime__": "yesterday"},
        {"__type__": "QueryResult", "no_such_field": 1},
    ],
)
def test_an_answer_that_does_not_decode_is_a_miss_naming_the_file(tmp_path, capsys, result):
    """Answers are decoded when a page asks (decoding them all at load would cost a page a second), so
    a malformed one is a miss for that panel; `verify` decodes them all and refuses the file."""
    path = write(tmp_path / "demo.json.gz", changed(lambda d: d["entries"][0].update(result=result)))
    sources = build_sources(load_config({"SEXTANT_SNAPSHOT": str(path)}))
    assert sources.snapshot_problem is None
    with pytest.raises(
        SnapshotMiss, match="the snapshot demo.json.gz holds an unreadable answer to buildinfo"
    ):
        sources.prometheus.buildinfo()
    assert snap.main(["verify", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}: unreadable snapshot: 1 recorded answer(s) do not decode")


def test_a_path_the_file_system_refuses_is_unreadable_not_an_os_error(tmp_path):
    sources = build_sources(load_config({"SEXTANT_SNAPSHOT": str(tmp_path / ("x" * 300))}))
    assert "is unreadable: it cannot be opened (File name too long)" in sources.snapshot_problem
