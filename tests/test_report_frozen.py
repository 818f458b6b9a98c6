"""Frozen weeks: signed, checked, refused when edited, and `python -m app.report verify` (no backend)."""

from __future__ import annotations

import gzip
import io
import json

import pytest

from app.config import load_config
from app.report import cli, frozen
from app.sources import snapshot as snapshots
from tests.report_support import TEST_KEY, WEEK, frozen_document, write_frozen

KEY_TEXT = TEST_KEY.secret.decode()


def edited(document: dict, value: float) -> dict:
    """The document with its one recorded figure changed and its SHA-256 recomputed, as a careful forger
    would (everything but the HMAC, which needs the key)."""
    changed = json.loads(json.dumps(document))
    reference = changed["entries"][0]["result"]["frame"]["__frame_ref__"]  # frames are stored once
    changed["frames"][reference]["data"] = [[value]]
    return snapshots.seal(changed)


def test_a_frozen_week_reads_back_with_its_key_and_replays_its_answers(tmp_path):
    path = write_frozen(tmp_path, frozen_document(value=42.0))
    week = frozen.read(path, (TEST_KEY,))
    assert (week.week, week.at, week.frozen_by, week.key) == (WEEK, WEEK.end, "cron@host", TEST_KEY)
    assert [a.text for a in week.actions] == ["Rotate the HMRC secret"]
    sources = week.sources()
    assert sources.now() == WEEK.end and sources.mode == "snapshot"
    assert sources.prometheus.instant("up", WEEK.end).frame["value"].tolist() == [42.0]
    assert "SEXTANT_REPORT_KEY" in week.signature_note


def test_one_figure_changed_with_its_sha256_recomputed_is_refused_as_tampered(tmp_path):
    original = frozen_document(value=42.0)
    forged = edited(original, 41.0)
    assert snapshots.checksum(forged) == forged["sha256"]  # the plain checksum is fooled …
    path = write_frozen(tmp_path, forged)
    assert snapshots.verify(path)  # … and so is the snapshot check
    with pytest.raises(frozen.FrozenWeekError, match="tampered: its HMAC signature does not match") as caught:
        frozen.read(path, (TEST_KEY,))
    assert caught.value.tampered


def test_an_edit_without_a_new_checksum_is_caught_by_the_sha256(tmp_path):
    document = frozen_document()
    document["report"]["frozen_by"] = "someone else"
    path = write_frozen(tmp_path, document)
    with pytest.raises(frozen.FrozenWeekError, match="SHA-256 does not match"):
        frozen.read(path, (TEST_KEY,))


def test_another_key_an_unsigned_file_and_a_plain_snapshot_are_refused(tmp_path):
    other = frozen.SigningKey(b"another key, sixteen characters or more", "SEXTANT_REPORT_KEY")
    path = write_frozen(tmp_path, frozen_document(key=other))
    with pytest.raises(frozen.FrozenWeekError, match="names another signing key"):
        frozen.read(path, (TEST_KEY,))
    unsigned = frozen_document()
    del unsigned["hmac"]
    path = write_frozen(tmp_path, snapshots.seal(unsigned))
    with pytest.raises(frozen.FrozenWeekError, match="it is not signed"):
        frozen.read(path, (TEST_KEY,))
    plain = snapshots.seal(
        {k: v for k, v in frozen_document().items() if k not in ("report", "hmac", "sha256")}
    )
    path = write_frozen(tmp_path, plain)
    with pytest.raises(frozen.FrozenWeekError, match="not a frozen week"):
        frozen.read(path, (TEST_KEY,))
    (tmp_path / "junk.json.gz").write_bytes(b"not gzip")
    with pytest.raises(frozen.FrozenWeekError, match="unreadable"):
        frozen.read(tmp_path / "junk.json.gz", (TEST_KEY,))


def test_the_demo_key_is_accepted_on_the_demo_only_and_said_to_prove_nothing(tmp_path, monkeypatch):
    path = write_frozen(tmp_path, frozen_document(key=frozen.DEMO_KEY))
    demo = load_config({})
    assert frozen.DEMO_KEY in frozen.accepted_keys(demo)
    week = frozen.read(path, frozen.accepted_keys(demo))
    assert week.key.demo and "proves nothing" in week.signature_note
    live = load_config({"SEXTANT_PROMETHEUS_URL": "http://127.0.0.1:1", "SEXTANT_REPORT_KEY": KEY_TEXT})
    assert frozen.accepted_keys(live) == (TEST_KEY,)
    with pytest.raises(frozen.FrozenWeekError, match="published demo key, which proves nothing"):
        frozen.read(path, frozen.accepted_keys(live))


def test_the_key_fingerprint_does_not_reveal_the_key():
    assert len(TEST_KEY.id) == 16 and TEST_KEY.id not in KEY_TEXT and KEY_TEXT not in repr(TEST_KEY)
    document = frozen_document()
    assert KEY_TEXT not in gzip.compress(json.dumps(document).encode()).decode("latin-1")
    assert document["report"]["key"] == {"label": "SEXTANT_REPORT_KEY", "id": TEST_KEY.id}


def test_frozen_weeks_are_listed_newest_first_and_other_files_ignored(tmp_path):
    write_frozen(tmp_path, frozen_document())
    write_frozen(tmp_path, frozen_document(WEEK.previous()), WEEK.previous())
    (tmp_path / "2026-W48.superseded-20261130T061500Z.json.gz").write_bytes(b"")
    (tmp_path / "actions.json").write_text("{}")
    assert frozen.frozen_weeks(tmp_path) == [WEEK, WEEK.previous()]


# -- verify ------------------------------------------------------------------------------------------------


def run_verify(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["verify", *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_verify_says_good_with_exit_0(tmp_path, monkeypatch):
    monkeypatch.setenv("SEXTANT_REPORT_KEY", KEY_TEXT)
    path = write_frozen(tmp_path, frozen_document())
    code, out, err = run_verify(str(path))
    assert code == 0 and err == ""
    assert out.startswith(f"{path}: good: 2026-W48 frozen on 2026-11-30 06:00 UTC by cron@host")


def test_verify_refuses_a_tampered_file_with_exit_1_and_the_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("SEXTANT_REPORT_KEY", KEY_TEXT)
    path = write_frozen(tmp_path, edited(frozen_document(), 41.0))
    code, out, err = run_verify(str(path))
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and err.startswith(f"{path}: refused: tampered: its HMAC signature")
    code, _, err = run_verify(str(tmp_path / "missing.json.gz"))
    assert code == 1 and "there is no such file" in err


def test_verify_without_a_key_is_a_configuration_error_unless_asked_for_the_demo(tmp_path, monkeypatch):
    monkeypatch.delenv("SEXTANT_REPORT_KEY", raising=False)
    path = write_frozen(tmp_path, frozen_document(key=frozen.DEMO_KEY))
    code, _, err = run_verify(str(path))
    assert code == 2 and "SEXTANT_REPORT_KEY is not set" in err
    code, out, _ = run_verify(str(path), "--demo")
    assert code == 0 and "signed with the published demo key" in out
