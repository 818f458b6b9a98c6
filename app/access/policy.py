"""Who has which role, and what each role may see and do: the access file (`SEXTANT_ACCESS_FILE`).

The file names, per role, the people who have it (groups and e-mail addresses) and its grants:

- `pages`: the pages it may open, by their `app.links` key (`"*"` for every page);
- `data`: what those pages may show beyond charts and figures (`DATA`): log lines, traces, the audit trail,
  the access log (`"*"` for all of it);
- `actions`: what it may do (`ACTIONS`): download reports and exports, reveal one masked value.

A role of `DEFAULTS` that leaves `pages`, `data` or `actions` out gets its default grants; a role of
another name must list them. A visitor with several roles gets the union of their grants. The repository
ships `access.example.yaml`, which documents every field; `load` refuses anything else with one
`AccessFileError` naming the file, the entry and the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import links
from app.filecache import FileCache, UnreadableFile, read_yaml

EVERYTHING = "*"
DATA = {
    "log_lines": "log lines (the Logs page and a trace's lines)",
    "traces": "traces (spans and their attributes)",
    "audit_trail": "the platform's audit events",
    "access_log": "Sextant's own access log",
}
ACTIONS = {
    "download": "download reports and exports",
    "reveal": "reveal one masked value (each reveal is audited)",
}
_DASHBOARDS = ("ingestion", "extraction", "tax", "assistant")
DEFAULTS: dict[str, dict[str, tuple[str, ...]]] = {
    "executive": {
        "pages": ("overview", "slos", *_DASHBOARDS, "readiness", "security", "scorecard", "weekly_review"),
        "data": (),
        "actions": ("download",),
    },
    "oncall": {
        "pages": (
            "overview",
            "service_health",
            "slos",
            *_DASHBOARDS,
            "readiness",
            "security",
            "scorecard",
            "weekly_review",
            "alerts",
            "coverage",
            "traces",
            "logs",
        ),
        "data": ("log_lines", "traces"),
        "actions": ("download",),
    },
    "auditor": {
        "pages": ("overview", "readiness", "security", "scorecard", "weekly_review", "logs"),
        "data": ("audit_trail",),
        "actions": ("download",),
    },
    "support": {
        "pages": ("overview", "service_health", "traces", "logs"),
        "data": ("log_lines", "traces"),
        "actions": (),
    },
    "admin": {"pages": (EVERYTHING,), "data": (EVERYTHING,), "actions": ("download",)},
}
_ROLE_KEYS = {"description", "groups", "emails", "pages", "data", "actions"}
_TOP_KEYS = {"roles"}


class AccessFileError(ValueError):
    """The access file cannot be used; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class Grants:
    """What a visitor may see and do: pages by `app.links` key, data and actions (`"*"`: all)."""

    pages: frozenset[str] = frozenset()
    data: frozenset[str] = frozenset()
    actions: frozenset[str] = frozenset()

    def page(self, key: str) -> bool:
        return EVERYTHING in self.pages or key in self.pages

    def sees(self, data: str) -> bool:
        return EVERYTHING in self.data or data in self.data

    def may(self, action: str) -> bool:
        return action in self.actions

    def __or__(self, other: Grants) -> Grants:
        return Grants(self.pages | other.pages, self.data | other.data, self.actions | other.actions)


@dataclass(frozen=True)
class Role:
    name: str
    grants: Grants
    description: str = ""
    groups: frozenset[str] = frozenset()
    emails: tuple[str, ...] = ()  # exact addresses, or "@example.com" for a whole domain

    def held_by(self, email: str | None, groups: Iterable[str]) -> bool:
        return any(address_matches(email, entry) for entry in self.emails) or bool(self.groups & set(groups))


@dataclass(frozen=True)
class AccessRules:
    roles: Mapping[str, Role] = field(default_factory=dict)
    source: str = "the built-in defaults"

    def roles_of(self, email: str | None, groups: Iterable[str]) -> tuple[str, ...]:
        """The roles a visitor holds, in the file's order."""
        held = {g.strip().lower() for g in groups}
        return tuple(name for name, role in self.roles.items() if role.held_by(email, held))

    def grants(self, role_names: Iterable[str]) -> Grants:
        """The union of the roles' grants."""
        total = Grants()
        for name in role_names:
            if name in self.roles:
                total = total | self.roles[name].grants
        return total

    def roles_for(self, key: str, data: str | None = None) -> tuple[str, ...]:
        """The roles that may open page `key` (and see `data` there, if given): what a denial names."""
        return tuple(
            name
            for name, role in self.roles.items()
            if role.grants.page(key) and (data is None or role.grants.sees(data))
        )


def default_rules() -> AccessRules:
    """The matrix without a file: the five roles with their default grants, held by nobody."""
    return AccessRules({name: Role(name, _grants(spec)) for name, spec in DEFAULTS.items()})


def address_matches(email: str | None, entry: str) -> bool:
    """Whether `email` is `entry` (compared without case or surrounding spaces) or, for an entry
    `@example.com`, an address with exactly one `@`, something before it and exactly that domain after it
    (so neither `evil@attacker.org@example.com` nor a bare `@example.com` passes)."""
    address = (email or "").strip().lower()
    wanted = entry.strip().lower()
    if not address or not wanted:
        return False
    if not wanted.startswith("@"):
        return address == wanted
    local, at, domain = address.partition("@")
    return bool(local) and bool(at) and "@" not in domain and "@" + domain == wanted


def load(path: Path) -> AccessRules:
    """Read and check an access file; `AccessFileError` names the file, the entry and the field."""
    try:
        document = read_yaml(path)
    except UnreadableFile as exc:
        raise AccessFileError(str(exc)) from None
    if not isinstance(document, dict) or not isinstance(document.get("roles"), dict):
        raise AccessFileError(f"{path}: expected a mapping with a `roles:` mapping of role names")
    extra = set(document) - _TOP_KEYS
    if extra:
        raise AccessFileError(f"{path}: unknown key(s) {sorted(extra)}: only `roles` is read")
    if not document["roles"]:
        raise AccessFileError(f"{path}: roles: names no role")
    roles = {str(name): _role(path, str(name), spec) for name, spec in document["roles"].items()}
    return AccessRules(roles, source=str(path))


_files: FileCache[AccessRules] = FileCache(load)


def rules(path: Path | None) -> AccessRules:
    """The access file's rules, parsed again only when it changes; the defaults without a file."""
    if path is None:
        return default_rules()
    if not path.is_file():
        raise AccessFileError(f"{path}: no such file (SEXTANT_ACCESS_FILE)")
    return _files.get(path)


def _role(path: Path, name: str, spec: Any) -> Role:
    where = f"{path}: roles.{name}"
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise AccessFileError(f"{where}: expected a mapping of {', '.join(sorted(_ROLE_KEYS))}")
    extra = set(spec) - _ROLE_KEYS
    if extra:
        raise AccessFileError(
            f"{where}: unknown field(s) {sorted(extra)} (fields: {', '.join(sorted(_ROLE_KEYS))})"
        )
    defaults = DEFAULTS.get(name)
    values: dict[str, tuple[str, ...]] = {}
    for grant, known in (("pages", set(links.PAGES)), ("data", set(DATA)), ("actions", set(ACTIONS))):
        if grant not in spec and defaults is not None:
            values[grant] = defaults[grant]
            continue
        if grant not in spec:
            raise AccessFileError(
                f"{where}.{grant}: missing (a role not among {', '.join(DEFAULTS)} lists it)"
            )
        everything_allowed = grant != "actions"
        values[grant] = _names(f"{where}.{grant}", spec[grant], known, everything_allowed)
    emails = _names(f"{where}.emails", spec.get("emails") or [], None, False)
    for index, entry in enumerate(emails):
        if (
            entry.count("@") != 1
            or entry.endswith("@")
            or (not entry.startswith("@") and entry.startswith("."))
        ):
            raise AccessFileError(f"{where}.emails[{index}]: {entry!r} is neither an address nor @domain")
    description = spec.get("description") or ""
    if not isinstance(description, str):
        raise AccessFileError(f"{where}.description: expected text")
    return Role(
        name,
        _grants(values),
        description=description,
        groups=frozenset(g.lower() for g in _names(f"{where}.groups", spec.get("groups") or [], None, False)),
        emails=tuple(e.lower() for e in emails),
    )


def _names(where: str, value: Any, known: set[str] | None, everything_allowed: bool) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise AccessFileError(f"{where}: expected a list")
    names = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise AccessFileError(f"{where}[{index}]: expected a non-empty name, got {item!r}")
        item = item.strip()
        if known is not None and item not in known and not (everything_allowed and item == EVERYTHING):
            choices = ", ".join(sorted(known) + ([f'"{EVERYTHING}"'] if everything_allowed else []))
            raise AccessFileError(f"{where}[{index}]: no such name {item!r} (known: {choices})")
        names.append(item)
    return tuple(names)


def _grants(spec: Mapping[str, Iterable[str]]) -> Grants:
    return Grants(frozenset(spec["pages"]), frozenset(spec["data"]), frozenset(spec["actions"]))
