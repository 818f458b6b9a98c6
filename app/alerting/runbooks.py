"""Runbooks: where an alert's `runbook_url` leads, and the Markdown of the repository's `runbooks/*.md`.

An alert names its runbook with a `runbook_url` annotation: a path in this repository (`runbooks/x.md`),
the same path under a published base (`SEXTANT_RUNBOOK_BASE_URL`, e.g. a Git host's blob URL), or some
other address. Whenever the repository holds the file, Sextant opens it inside the app; another address
is a plain link; no annotation, or a path to a file that does not exist, is an alert without a runbook.

The Markdown is shown with Streamlit's Markdown, which never renders HTML (no `unsafe_allow_html`): a tag
in a runbook shows as text.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from app import links
from app.config import REPO_ROOT

DIRECTORY = REPO_ROOT / "runbooks"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
_REPO_PATH = re.compile(r"(?:^|/)runbooks/([a-z0-9][a-z0-9-]*)\.md\Z")


@dataclass(frozen=True)
class Runbook:
    """An alert's runbook: `name` when it is `runbooks/<name>.md` of this repository, else `url`."""

    name: str | None = None
    url: str | None = None

    @property
    def in_app(self) -> bool:
        return self.name is not None


def link(path: str, base_url: str | None = None) -> str:
    """The `runbook_url` to write into a rule: the repository path, under `base_url` (or
    `SEXTANT_RUNBOOK_BASE_URL`) when one is set."""
    base = base_url if base_url is not None else os.environ.get("SEXTANT_RUNBOOK_BASE_URL", "")
    return f"{base.rstrip('/')}/{path.lstrip('/')}" if base else path


def runbook_link(runbook: Runbook | None) -> str | None:
    """Where a runbook opens: the Alerts page with `?runbook=` for the repository's, else its address."""
    if runbook is None:
        return None
    return links.url("alerts", runbook=runbook.name) if runbook.name else runbook.url


def names(directory: Path | None = None) -> list[str]:
    """Every runbook of the repository (`directory`, by default DIRECTORY), by name (`runbooks/<name>.md`)."""
    directory = directory or DIRECTORY
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.glob("*.md") if _NAME.match(p.stem))


def resolve(url: str | None, directory: Path | None = None) -> Runbook | None:
    """The runbook an annotation names, or None when there is none to open: no annotation, or a
    repository path whose file does not exist."""
    text = (url or "").strip()
    if not text:
        return None
    found = _REPO_PATH.search(text.split("?", 1)[0].split("#", 1)[0])
    if found and ((directory or DIRECTORY) / f"{found.group(1)}.md").is_file():
        return Runbook(name=found.group(1))
    if "://" in text:
        return Runbook(url=text)  # published elsewhere: a link out
    return None  # a repository path to a runbook nobody wrote


def markdown(name: str, directory: Path | None = None) -> str | None:
    """The Markdown of `runbooks/<name>.md`, or None when there is no such runbook (`name` comes from
    the URL: only a plain file name of that folder is ever read)."""
    if not _NAME.match(name) or name not in names(directory):
        return None
    return ((directory or DIRECTORY) / f"{name}.md").read_text(encoding="utf-8")
