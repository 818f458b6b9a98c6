"""What an executive reads on the demo (issue 9, section 3): no file paths on screen, words instead of ids,
no "None" cells. Each page is run once per backend setting and read back as it shows."""

from __future__ import annotations

import re

import pytest

from app import links
from app.overview import READINESS_SOURCE, SLO_SOURCE
from tests.conftest import run_page, texts

EXECUTIVE = (
    "overview",
    "slos",
    "weekly_review",
    "ingestion",
    "extraction",
    "tax",
    "assistant",
    "readiness",
    "security",
    "scorecard",
)  # fmt: skip  (access.example.yaml's executive role)
PATH = re.compile(r"\b(slo_definitions|queries|runbooks)/|\b[\w-]+\.ya?ml\b")


@pytest.mark.parametrize("key", EXECUTIVE)
def test_no_file_path_is_on_screen(snapshot_mode, key):
    """Where a figure comes from is said in words; the definition file's path is only in a tooltip."""
    at = run_page(links.page(key).file)
    drawn = texts(at) + "\n" + "\n".join(m.label for m in at.metric)
    assert not PATH.findall(drawn), [line for line in drawn.splitlines() if PATH.search(line)]


def test_the_headlines_name_their_definition_files_in_a_tooltip(snapshot_mode):
    at = run_page("Overview.py")
    tips = [p.proto.popover.help for p in at.get("popover")]
    assert f"Declared in the repository: {READINESS_SOURCE}" in tips
    assert f"Declared in the repository: {SLO_SOURCE}" in tips
    assert READINESS_SOURCE == "slo_definitions/readiness.yaml"
