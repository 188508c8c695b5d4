"""Who gets a lead: round-robin that skips away and full users, and routing
rules (a TOML file) that pick the users by the lead's country, region,
industry and source.

:class:`Dealer` is the one round-robin: `assign --round-robin`, `assign
--rules`, `import --assign round-robin` and `sweep`'s hand-off to
``escalate_to`` all deal through it (``claims.assign_round_robin`` for leads
that exist). It deals each group of users in turn, continuing after whoever
that group's last deal ended on (the pointer, kept in the database), skipping
users away at the clock's now and users whose open leads reached their
capacity, counting the leads it deals as it goes.

The rules file (see docs/routing.md, examples/routing.toml)::

    [[rule]]
    name = "DACH"                 # optional: said by --simulate
    country = ["DE", "AT", "CH"]  # conditions: country, region, industry, source
    to = ["ana", "ben"]           # users (round-robin), or "territory" / "industries"

    [default]
    to = ["dan"]

Rules are tried in order: the first that matches the lead (every condition
given holds; a condition's list matches any of its values, case-insensitively)
and has someone available takes it; then ``[default]``. The file is checked
whole before anything is routed: a bad one is exit 1 naming the line.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from leadctl import settings
from leadctl.availability import USERS, Roster
from leadctl.errors import InvalidInput, NotFound

POINTER_KEY = "round_robin_last"  # internal state, not a `config` setting
ANY_GROUP = ""  # the pointer's entry for the last deal of any group (a group never seen)
MAX_GROUPS = 100  # pointers kept; the oldest go first
OWNER_ROLES = ("rep", "manager")  # whom `import --assign round-robin` deals to
ROUND_ROBIN = "round-robin"
CONDITIONS = ("country", "region", "industry", "source")
BY_ATTRIBUTE = {"territory": ("country", "region"), "industries": ("industry",)}
RULE_KEYS = ("name", *CONDITIONS, "to")
MAX_RULES = 1000


class Dealer:
    """Round-robin over groups of users, skipping away and full ones (``roster``,
    whose loads it counts up as it deals). ``lock``: hold the pointer's row until
    the transaction ends (PostgreSQL), so two deals in parallel take turns."""

    def __init__(self, conn: Connection, roster: Roster, *, lock: bool = True) -> None:
        self.roster = roster
        self.pointers = _read_pointers(settings.stored(conn, POINTER_KEY, lock=lock))
        self.moved = False
        self.asked: dict[str, None] = {}  # every user a deal considered, in order
        self.dealt: dict[str, int] = {}  # open leads dealt, by user

    def next(self, group: Sequence[str], *, counts: bool = True) -> str | None:
        """The next available user of ``group`` after its pointer, or None when
        nobody is; ``counts``: the lead is open (it adds to their load)."""
        if not group:
            return None
        self.asked.update(dict.fromkeys(group))
        key = ",".join(group)
        last = self.pointers.get(key, self.pointers.get(ANY_GROUP))
        start = group.index(last) + 1 if last in group else 0
        for step in range(len(group)):
            name = group[(start + step) % len(group)]
            if self.roster.available(name):
                self._point(key, name)
                if counts:
                    self.roster.take(name)
                    self.dealt[name] = self.dealt.get(name, 0) + 1
                return name
        return None

    def _point(self, key: str, name: str) -> None:
        for entry in (key, ANY_GROUP):
            self.pointers.pop(entry, None)  # re-inserted last: the newest
            self.pointers[entry] = name
        while len(self.pointers) > MAX_GROUPS:
            del self.pointers[next(iter(self.pointers))]
        self.moved = True

    def save(self, conn: Connection) -> None:
        """Keep where each group stopped, for the next command."""
        if self.moved:
            settings.store(conn, POINTER_KEY, json.dumps(self.pointers, ensure_ascii=False))


def _read_pointers(stored: str | None) -> dict[str, str]:
    """The pointers: JSON ``{group: last}``; a plain name (before issue 15) is
    the last deal of any group."""
    if not stored:
        return {}
    try:
        data = json.loads(stored)
    except ValueError:
        return {ANY_GROUP: stored}
    if not isinstance(data, dict):
        return {ANY_GROUP: stored}
    return {str(k): str(v) for k, v in data.items()}


@dataclass(frozen=True)
class Routed:
    """Where a lead goes: ``owner`` None when nobody the rule names is available."""

    owner: str | None
    rule: str | None = None  # the rule that took it (--rules)


def is_round_robin(assign: str) -> bool:
    """``--assign round-robin`` (the word no user may take as a name)."""
    return assign.strip().lower() == ROUND_ROBIN


def batch_dealer(session: Session) -> BatchDealer:
    """The dealer of `import --assign round-robin`; exit 1 when nobody can take leads."""
    from leadctl import users

    if users.is_solo(session):
        raise InvalidInput(
            "--assign round-robin deals among users: there are none (`leadctl user add`)"
        )
    roles = session.connection().execute(select(USERS.c.role).where(USERS.c.role.in_(OWNER_ROLES)))
    if roles.first() is None:
        raise InvalidInput(
            "--assign round-robin deals among reps and managers: there are none "
            "(`leadctl user add NAME --role rep`)"
        )
    return BatchDealer()


class BatchDealer:
    """`import --assign round-robin`: each batch reads availability and loads
    once (:meth:`start`), then each new lead costs one call (:meth:`next`).
    A dry run saves nothing, so what it dealt is carried from batch to batch."""

    def __init__(self, roles: Collection[str] = OWNER_ROLES) -> None:
        self.roles = roles
        self.dealer: Dealer | None = None
        self.group: list[str] = []
        self.carried: tuple[dict[str, str], dict[str, int]] | None = None  # a dry run's

    def start(self, conn: Connection) -> None:
        roster = Roster.load(conn, roles=self.roles)
        self.group = roster.names()
        self.dealer = Dealer(conn, roster)
        if self.carried is not None:
            self.dealer.pointers, dealt = self.carried
            for name, count in dealt.items():
                if name in roster.members:
                    roster.members[name].load += count

    def next(self) -> str | None:
        assert self.dealer is not None, "start() each batch first"
        return self.dealer.next(self.group)

    def why_nobody(self) -> str:
        if not self.group:
            return "no user is a " + " or ".join(self.roles)
        assert self.dealer is not None
        return self.dealer.roster.why_nobody(self.group)

    def finish(self, conn: Connection, *, save: bool) -> None:
        dealer = self.dealer
        self.dealer = None
        if dealer is None:
            return
        if save:
            dealer.save(conn)
            return
        dealt = dict(self.carried[1]) if self.carried is not None else {}
        for name, count in dealer.dealt.items():
            dealt[name] = dealt.get(name, 0) + count
        self.carried = (dealer.pointers, dealt)


# --- routing rules --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    label: str  # its name, else "rule N", or "default"
    conditions: tuple[tuple[str, frozenset[str]], ...]  # (lead field, values casefolded)
    to: tuple[str, ...]  # user names; empty when ``by`` is set
    by: str | None = None  # "territory" or "industries": users whose lists match the lead

    def matches(self, lead: Any) -> bool:
        for name, values in self.conditions:
            value = getattr(lead, name, None)
            if value is None or str(value).strip().casefold() not in values:
                return False
        return True

    def group(self, lead: Any, roster: Roster) -> list[str]:
        """The users this rule deals the lead to."""
        if self.by is None:
            return list(self.to)
        wanted = {
            str(value).strip().casefold()
            for name in BY_ATTRIBUTE[self.by]
            if (value := getattr(lead, name, None))
        }
        return [
            member.name
            for member in roster.members.values()
            if member.role not in (None, "viewer")
            and wanted & {v.casefold() for v in getattr(member, self.by)}
        ]


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    default: Rule | None

    def route(self, lead: Any, dealer: Dealer, *, counts: bool) -> Routed | None:
        """The first rule that matches and has someone available, dealt round-robin;
        Routed(None) when rules match but nobody they name is available; None when
        no rule matches (and there is no default)."""
        matched: Rule | None = None
        for rule in (*self.rules, *((self.default,) if self.default else ())):
            if not rule.matches(lead):
                continue
            group = rule.group(lead, dealer.roster)
            if not group:
                continue  # `to = "territory"`: nobody covers the lead's country
            matched = matched or rule
            owner = dealer.next(group, counts=counts)
            if owner is not None:
                return Routed(owner, rule.label)
        return Routed(None, matched.label) if matched else None

    def names(self) -> set[str]:
        return {name for rule in (*self.rules, self.default) if rule for name in rule.to}


def rules_for(session: Session, path: Path) -> Rules:
    """The rules file, checked whole against the users and the source list."""
    from leadctl import lists, users

    known = None
    if not users.is_solo(session):
        known = {row.name: row.role for row in session.connection().execute(select(USERS))}
    sources = [entry.name for entry in lists.entries(session, "source")]
    return load_rules(path.expanduser(), users=known, sources=sources)


def load_rules(
    path: Path,
    *,
    users: dict[str, str] | None,
    sources: Sequence[str],
) -> Rules:
    """Read and check a rules file whole (exit 1 naming the line and the fault).

    ``users``: name → role of every user (None in solo mode: any name owns leads);
    ``sources``: the source list, which ``source`` conditions must come from."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise NotFound(f"no rules file {str(path)!r}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"cannot read rules file {str(path)!r}: {error}") from None
    return parse_rules(text, str(path), users=users, sources=sources)


def parse_rules(
    text: str, origin: str, *, users: dict[str, str] | None, sources: Sequence[str]
) -> Rules:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(f"invalid rules file {origin}: {error}") from None
    where = _Locator(text)

    def fail(section: tuple[str, int], key: str | None, what: str) -> InvalidInput:
        line = where.line(section, key)
        return InvalidInput(f"invalid rules file {origin}, line {line}: {what}")

    top = ("top", 0)
    for key in data:
        if key not in ("rule", "default"):
            raise fail(top, key, f"unknown key {key!r}: expected [[rule]] tables and [default]")
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list) or not all(isinstance(r, dict) for r in raw_rules):
        raise fail(top, "rule", "rule must be [[rule]] tables")
    if len(raw_rules) > MAX_RULES:
        raise fail(top, "rule", f"at most {MAX_RULES:,} rules")
    raw_default = data.get("default")
    if raw_default is not None and not isinstance(raw_default, dict):
        raise fail(top, "default", "default must be a [default] table with `to`")
    if not raw_rules and raw_default is None:
        raise InvalidInput(
            f"invalid rules file {origin}: no [[rule]] and no [default]; nothing would be routed"
        )
    check = _Checker(users, sources, fail)
    rules = tuple(check.rule(raw, ("rule", n)) for n, raw in enumerate(raw_rules, start=1))
    default = check.rule(raw_default, ("default", 0)) if raw_default is not None else None
    return Rules(rules, default)


class _Checker:
    def __init__(
        self,
        users: dict[str, str] | None,
        sources: Sequence[str],
        fail: Callable[[tuple[str, int], str | None, str], InvalidInput],
    ) -> None:
        self.users = users
        self.sources = {s.casefold(): s for s in sources}
        self.fail = fail

    def rule(self, raw: dict[str, Any], section: tuple[str, int]) -> Rule:
        fail = self.fail
        kind, number = section
        allowed = RULE_KEYS if kind == "rule" else ("to",)
        for key in raw:
            if key not in allowed:
                raise fail(
                    section,
                    key,
                    f"unknown key {key!r} in {_title(section)}: expected " + ", ".join(allowed),
                )
        label = f"rule {number}" if kind == "rule" else "default"
        if "name" in raw:
            name = raw["name"]
            if not isinstance(name, str) or not name.strip() or not name.isprintable():
                raise fail(section, "name", "name must be text on one line")
            label = name.strip()
        conditions = []
        for key in CONDITIONS:
            if key in raw:
                values = self._texts(raw[key], section, key)
                if key == "source":
                    values = [self._source(v, section) for v in values]
                conditions.append((key, frozenset(v.casefold() for v in values)))
        if "to" not in raw:
            raise fail(section, None, f"{_title(section)} has no `to`: whom it routes leads to")
        to, by = self._to(raw["to"], section)
        return Rule(label, tuple(conditions), to, by)

    def _texts(self, value: Any, section: tuple[str, int], key: str) -> list[str]:
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) and v.strip() for v in values):
            raise self.fail(section, key, f"{key} must be text or a list of text, not empty")
        return [v.strip() for v in values]

    def _source(self, value: str, section: tuple[str, int]) -> str:
        found = self.sources.get(value.casefold())
        if found is None:
            allowed = ", ".join(self.sources.values())
            what = f"unknown source {value!r}: expected one of {allowed}"
            raise self.fail(section, "source", what)
        return found

    def _to(self, value: Any, section: tuple[str, int]) -> tuple[tuple[str, ...], str | None]:
        if isinstance(value, str) and value.strip().lower() in BY_ATTRIBUTE:
            return (), value.strip().lower()
        names = self._texts(value, section, "to")
        for name in names:
            self._user(name, section)
        return tuple(dict.fromkeys(names)), None

    def _user(self, name: str, section: tuple[str, int]) -> None:
        if self.users is None:
            return
        role = self.users.get(name)
        if role is None:
            known = ", ".join(n for n, r in sorted(self.users.items()) if r != "viewer")
            raise self.fail(section, "to", f"unknown user {name!r}: expected one of {known}")
        if role == "viewer":
            raise self.fail(section, "to", f"user {name!r} is a viewer and cannot own leads")


def _title(section: tuple[str, int]) -> str:
    kind, number = section
    return f"[[rule]] {number}" if kind == "rule" else "[default]"


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]*?)\s*\]\]?")
_KEY = re.compile(r"""^\s*["']?([A-Za-z0-9_-]+)["']?\s*=""")


class _Locator:
    """The line of a key in a section of the TOML text, for error messages
    (tomllib gives values, not positions)."""

    def __init__(self, text: str) -> None:
        self.sections: dict[tuple[str, int], int] = {("top", 0): 1}
        self.keys: dict[tuple[tuple[str, int], str], int] = {}
        self.headers: dict[str, int] = {}  # a table's name: its first header line
        section: tuple[str, int] = ("top", 0)
        rules = 0
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header:
                name = header.group(1).strip()
                self.headers.setdefault(name, number)
                if line.lstrip().startswith("[[") and name == "rule":
                    rules += 1
                    section = ("rule", rules)
                elif name == "default":
                    section = ("default", 0)
                else:
                    section = ("other", number)
                self.sections.setdefault(section, number)
                continue
            key = _KEY.match(line)
            if key:
                self.keys.setdefault((section, key.group(1)), number)

    def line(self, section: tuple[str, int], key: str | None) -> int:
        if key is not None and (section, key) in self.keys:
            return self.keys[(section, key)]
        if key is not None and section == ("top", 0) and key in self.headers:
            return self.headers[key]
        return self.sections.get(section, 1)
