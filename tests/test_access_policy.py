"""The access file: roles held by groups and addresses, grants with defaults, the union of several roles,
and one clear error (file, entry, field) for anything else; parsed again only when it changes."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from app.access import policy
from app.access.policy import AccessFileError, address_matches
from tests.access_support import EXAMPLE


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "access.yaml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize(
    ("email", "entry", "matches"),
    [
        ("alice@example.com", "alice@example.com", True),
        (" ALICE@Example.COM ", "alice@example.com", True),
        ("bob@example.com", "@example.com", True),
        ("bob@EXAMPLE.com", "@example.com", True),
        ("evil@attacker.org@example.com", "@example.com", False),  # two @: not an address of the domain
        ("@example.com", "@example.com", False),  # nobody before the @
        ("bob@sub.example.com", "@example.com", False),  # a domain is matched whole
        ("bob@notexample.com", "@example.com", False),
        ("bob@example.com.evil.org", "@example.com", False),
        (None, "@example.com", False),
        ("", "alice@example.com", False),
    ],
)
def test_an_address_matches_an_entry_or_exactly_one_domain(email, entry, matches):
    assert address_matches(email, entry) is matches


def test_roles_come_from_groups_and_addresses_and_several_roles_add_up(tmp_path):
    path = write(
        tmp_path,
        """
        roles:
          executive: {groups: [Leadership]}
          support: {emails: ["@help.example.com"]}
          admin: {emails: [alice@example.com]}
        """,
    )
    rules = policy.load(path)
    assert rules.roles_of("x@y.example", ["leadership"]) == ("executive",)
    assert rules.roles_of("carol@help.example.com", ["LEADERSHIP"]) == ("executive", "support")
    assert rules.roles_of("alice@example.com", []) == ("admin",)
    assert rules.roles_of("evil@attacker.org@help.example.com", []) == ()
    both = rules.grants(("executive", "support"))
    assert both.page("slos") and both.page("traces") and both.sees("log_lines") and both.may("download")
    assert not both.page("data_sources") and not both.sees("audit_trail")
    assert rules.grants(("admin",)).page("anything") and not rules.grants(("admin",)).may("reveal")


def test_a_default_role_may_change_its_grants_and_a_new_role_lists_them(tmp_path):
    rules = policy.load(
        write(
            tmp_path,
            """
            roles:
              admin: {actions: [download, reveal]}
              analyst: {pages: [overview, logs], data: [log_lines], actions: [], groups: [analysts]}
            """,
        )
    )
    assert rules.grants(("admin",)).may("reveal")
    analyst = rules.grants(("analyst",))
    assert analyst.page("logs") and analyst.sees("log_lines") and not analyst.page("traces")
    assert rules.roles_for("logs") == ("admin", "analyst") and rules.roles_for("logs", "audit_trail") == (
        "admin",
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("roles: {executive: {pages: [overveiw]}}", "roles.executive.pages[0]: no such name 'overveiw'"),
        ("roles: {executive: {data: [logs]}}", "roles.executive.data[0]: no such name 'logs'"),
        ("roles: {admin: {actions: ['*']}}", "roles.admin.actions[0]: no such name '*'"),
        ("roles: {executive: {page: [overview]}}", "roles.executive: unknown field(s) ['page']"),
        ("roles: {executive: {pages: overview}}", "roles.executive.pages: expected a list"),
        ("roles: {analyst: {pages: [overview]}}", "roles.analyst.data: missing"),
        ("roles: {support: {emails: ['bob@@x.org']}}", "roles.support.emails[0]: 'bob@@x.org' is neither"),
        ("roles: {support: {groups: [1]}}", "roles.support.groups[0]: expected a non-empty name, got 1"),
        ("roles: {support: [overview]}", "roles.support: expected a mapping"),
        ("role: {}", "expected a mapping with a `roles:` mapping"),
        ("roles: {}\nmembers: []", "unknown key(s) ['members']"),
        ("roles: {}", "roles: names no role"),
        ("roles: [", "not valid YAML"),
    ],
)
def test_a_bad_file_is_one_error_naming_the_file_the_entry_and_the_field(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(AccessFileError) as caught:
        policy.load(path)
    assert str(caught.value).startswith(f"{path}: ") and words in str(caught.value)


def test_the_file_is_parsed_again_only_when_it_changes(tmp_path, monkeypatch):
    path = write(tmp_path, "roles: {executive: {groups: [board]}}")
    calls = []
    real = policy.load
    monkeypatch.setattr(policy, "_files", policy.FileCache(lambda p: calls.append(p) or real(p)))
    assert policy.rules(path).roles_of(None, ["board"]) == ("executive",)
    assert policy.rules(path) is policy.rules(path) and len(calls) == 1
    path.write_text("roles: {support: {groups: [board]}}")
    os.utime(path, ns=(1, 1))  # another modification time, whatever the file system's clock resolution
    assert policy.rules(path).roles_of(None, ["board"]) == ("support",) and len(calls) == 2
    with pytest.raises(AccessFileError, match="no such file"):
        policy.rules(tmp_path / "gone.yaml")


def test_without_a_file_the_defaults_hold_and_nobody_holds_a_role():
    rules = policy.rules(None)
    assert set(rules.roles) == set(policy.DEFAULTS)
    assert rules.roles_of("alice@example.com", ["sre"]) == ()
    assert policy.load(EXAMPLE).roles["auditor"].grants == rules.roles["auditor"].grants
