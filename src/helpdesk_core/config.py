"""Desk configuration as data: one document (dict / TOML / JSON) ⇄ validated objects.

:class:`DeskConfig` holds calendars, tiers, teams, agents, lifecycles, ticket types, intake
categories, SLA policies, routing rules, escalation policies, the priority matrix and the
assignment settings. It validates each part when built and every cross-reference between
parts (an agent's team exists, a rule's team exists, a policy's calendar exists ...), and
names the path of any bad part, e.g. ``agents[2].calendar: unknown calendar 'emea'``.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import evolve, field, fields, frozen

from helpdesk_core.codec import structure, unstructure
from helpdesk_core.errors import ConfigError, NotFound, ValidationError
from helpdesk_core.intake import Category
from helpdesk_core.knowledge.settings import KnowledgeSettings
from helpdesk_core.model import Agent, Priority, PriorityMatrix, Team, Tier
from helpdesk_core.model import _validate as v
from helpdesk_core.model.people import identity_clash
from helpdesk_core.privacy.limits import Limits
from helpdesk_core.privacy.retention import PrivacySettings
from helpdesk_core.routing.conditions import Condition
from helpdesk_core.routing.rules import RuleSet
from helpdesk_core.sla.calendar import BusinessCalendar
from helpdesk_core.sla.policy import SlaPolicy
from helpdesk_core.workflow.escalation import EscalationPolicy
from helpdesk_core.workflow.lifecycle import Lifecycle
from helpdesk_core.workflow.tiers import TierLadder

__all__ = ["AssignmentSettings", "DeskConfig", "DeskSettings", "Limits", "TicketType"]

T = TypeVar("T")

_QUEUE_ORDERS = ("oldest", "most_urgent")
_STRATEGIES = ("round_robin", "least_loaded", "skills_based")


def _choice(allowed: Sequence[str], name: str) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value not in allowed:
            raise ConfigError(f"{value!r} is not one of {', '.join(allowed)}", path=f"{name}")

    return check


def _to_weights(value: Any) -> dict[Priority, float]:
    if not isinstance(value, Mapping):
        raise ConfigError("weights must map priorities to numbers", path="weights")
    out: dict[Priority, float] = {}
    for key, weight in value.items():
        try:
            priority = Priority.parse(key)
        except ValidationError as exc:
            raise ConfigError(exc.message, path=f"weights.{key}") from exc
        if priority in out:
            raise ConfigError(
                f"the weight of {priority.value!r} is given twice (as {key!r} too)",
                path=f"weights.{key}",
            )
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
            or weight < 0
        ):
            raise ConfigError(
                f"a weight is a finite number >= 0, got {weight!r}", path=f"weights.{key}"
            )
        out[priority] = float(weight)
    for priority in Priority:
        out.setdefault(priority, _DEFAULT_WEIGHTS[priority])
    return out


_DEFAULT_WEIGHTS = {
    Priority.CRITICAL: 4.0,
    Priority.HIGH: 2.0,
    Priority.MEDIUM: 1.0,
    Priority.LOW: 1.0,
}


@frozen(kw_only=True)
class AssignmentSettings:
    """How tickets are assigned when no routing rule names a strategy: ``strategy``
    (round_robin, least_loaded, skills_based), ``queue_order`` when an agent frees up
    (oldest, most_urgent), and the priority ``weights`` of least-loaded assignment.
    With ``auto_assign`` off the desk assigns only the tickets an assignment was asked
    for (a routing rule's ``assign``, :meth:`Helpdesk.auto_assign`); the others wait for
    a person."""

    # Paths are relative to the section: loading a document puts "assignment." before them.
    strategy: str = field(default="least_loaded", validator=_choice(_STRATEGIES, "strategy"))
    queue_order: Literal["oldest", "most_urgent"] = field(
        default="oldest", validator=_choice(_QUEUE_ORDERS, "queue_order")
    )
    weights: Mapping[Priority, float] = field(
        factory=lambda: dict(_DEFAULT_WEIGHTS), converter=_to_weights, hash=False
    )
    auto_assign: bool = field(default=True, validator=v.boolean)


def _zone(instance: Any, attribute: Any, value: Any) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError) as exc:
        # (relative: the loader puts the section in front)
        raise ConfigError(f"unknown time zone {value!r}", path="timezone") from exc


@frozen(kw_only=True)
class DeskSettings:
    """Desk-wide switches: ``csat_on_solve`` asks for a rating when a ticket is solved;
    ``max_retries`` bounds the retries of a command that met a concurrent change;
    ``timezone`` is the zone used to show instants to people."""

    name: str = field(default="helpdesk", validator=v.text)
    timezone: str = field(default="UTC", validator=[v.non_empty_text, _zone])
    csat_on_solve: bool = field(default=True, validator=v.boolean)
    max_retries: int = field(default=5, validator=v.non_negative_int)


@frozen(kw_only=True)
class TicketType:
    """A ticket type (incident, service_request, problem ...) and its lifecycle."""

    name: str = field(validator=v.identifier)
    lifecycle: str = field(default="default", validator=v.identifier)


def _items(value: Any, cls: type[T], path: str) -> tuple[T, ...]:
    """A list of ``cls`` values as a tuple (ConfigError naming the bad item)."""
    try:
        items = v.as_tuple(value, what=f"a list of {cls.__name__}")
    except ValidationError as exc:
        raise ConfigError(exc.message, path=path) from None
    for i, item in enumerate(items):
        if not isinstance(item, cls):
            raise ConfigError(
                f"expected {v.a_name(cls.__name__)}, got {type(item).__name__}", path=f"{path}[{i}]"
            )
    return items


def _by_name(value: Any, cls: type[T], path: str, what: str | None = None) -> dict[str, T]:
    """A mapping of names to ``cls`` values (ConfigError naming the bad entry). A part
    with a name of its own (``what`` says what it is) is kept under that name: the
    document keys it by its name, so one under another key would load back renamed."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"expected a mapping, got {type(value).__name__}", path=path)
    for name, item in value.items():
        if not isinstance(name, str) or not isinstance(item, cls):
            raise ConfigError(
                f"expected {v.a_name(cls.__name__)} by name, got {type(item).__name__}",
                path=f"{path}.{name}",
            )
        named = getattr(item, "name", name) if what is not None else name
        if named != name:
            raise ConfigError(
                f"the {what} under {name!r} is named {named!r}", path=f"{path}.{name}.name"
            )
    return dict(value)


def _calendars(value: Any) -> dict[str, BusinessCalendar]:
    return _by_name(value, BusinessCalendar, "calendars")


def _lifecycles(value: Any) -> dict[str, Lifecycle]:
    # ``default`` is built in, as in a document: a desk built without it would load back
    # from its own document with it.
    return {**_default_lifecycles(), **_by_name(value, Lifecycle, "lifecycles", "lifecycle")}


def _ticket_types(value: Any) -> dict[str, TicketType]:
    return _by_name(value, TicketType, "ticket_types", "ticket type")


def _categories(value: Any) -> dict[str, Category]:
    return _by_name(value, Category, "categories", "category")


def _tiers(value: Any) -> tuple[Tier, ...]:
    return _items(value, Tier, "tiers")


def _teams(value: Any) -> tuple[Team, ...]:
    return _items(value, Team, "teams")


def _agents(value: Any) -> tuple[Agent, ...]:
    return _items(value, Agent, "agents")


def _sla_policies(value: Any) -> tuple[SlaPolicy, ...]:
    return _items(value, SlaPolicy, "sla_policies")


def _escalation_policies(value: Any) -> tuple[EscalationPolicy, ...]:
    return _items(value, EscalationPolicy, "escalation_policies")


def _a(cls: type, path: str) -> Callable[[Any, Any, Any], None]:
    """A validator: the part is a ``cls``."""

    def check(instance: Any, attribute: Any, value: Any) -> None:
        if not isinstance(value, cls):
            raise ConfigError(
                f"expected {v.a_name(cls.__name__)}, got {type(value).__name__}", path=path
            )

    return check


def _default_lifecycles() -> dict[str, Lifecycle]:
    return {"default": Lifecycle.default()}


def _default_types() -> dict[str, TicketType]:
    return {
        name: TicketType(name=name)
        for name in ("incident", "service_request", "problem", "question")
    }


@frozen(kw_only=True, slots=False)
class DeskConfig:
    """Everything a desk is configured with. Build it in Python or with
    :meth:`from_dict`, :meth:`from_toml`, :meth:`from_json`; :meth:`to_dict` gives the
    document back. Construction validates every cross-reference."""

    calendars: Mapping[str, BusinessCalendar] = field(
        factory=lambda: {"always": BusinessCalendar.always(timezone="UTC")},
        converter=_calendars,
        hash=False,
    )
    tiers: tuple[Tier, ...] = field(
        default=(Tier(id="L1", name="Service desk", teams=("service-desk",)),),
        converter=_tiers,
    )
    teams: tuple[Team, ...] = field(
        default=(Team(id="service-desk", name="Service desk"),), converter=_teams
    )
    agents: tuple[Agent, ...] = field(default=(), converter=_agents)
    lifecycles: Mapping[str, Lifecycle] = field(
        factory=_default_lifecycles, converter=_lifecycles, hash=False
    )
    ticket_types: Mapping[str, TicketType] = field(
        factory=_default_types, converter=_ticket_types, hash=False
    )
    categories: Mapping[str, Category] = field(factory=dict, converter=_categories, hash=False)
    sla_policies: tuple[SlaPolicy, ...] = field(default=(), converter=_sla_policies)
    routing: RuleSet = field(factory=lambda: RuleSet(()), validator=_a(RuleSet, "routing"))
    escalation_policies: tuple[EscalationPolicy, ...] = field(
        default=(), converter=_escalation_policies
    )
    priority_matrix: PriorityMatrix = field(
        factory=PriorityMatrix, validator=_a(PriorityMatrix, "priority_matrix")
    )
    assignment: AssignmentSettings = field(
        factory=AssignmentSettings, validator=_a(AssignmentSettings, "assignment")
    )
    settings: DeskSettings = field(factory=DeskSettings, validator=_a(DeskSettings, "desk"))
    privacy: PrivacySettings = field(factory=PrivacySettings)
    knowledge: KnowledgeSettings = field(factory=KnowledgeSettings)
    limits: Limits = field(factory=Limits)

    def __attrs_post_init__(self) -> None:
        _check_references(self)
        ladder = TierLadder(self.tiers)
        object.__setattr__(self, "_ladder", ladder)
        object.__setattr__(self, "_agents", {a.id: a for a in self.agents})
        object.__setattr__(self, "_teams", {t.id: t for t in self.teams})
        object.__setattr__(self, "_policies", {p.name: p for p in self.sla_policies})

    # -- lookups -------------------------------------------------------------------------
    @property
    def ladder(self) -> TierLadder:
        """The tiers as an ordered ladder (lowest first)."""
        ladder: TierLadder = self.__dict__.get("_ladder") or TierLadder(self.tiers)
        return ladder

    def agent(self, agent_id: str) -> Agent:
        """The agent with this id (NotFound otherwise)."""
        agents: dict[str, Agent] = self.__dict__["_agents"]
        v.require(agent_id, str, "an agent id (text)", field="agent_id")
        try:
            return agents[agent_id]
        except KeyError:
            raise NotFound("agent", agent_id) from None

    def has_agent(self, agent_id: str) -> bool:
        """True when an agent with this id is configured."""
        v.require(agent_id, str, "an agent id (text)", field="agent_id")
        return agent_id in self.__dict__["_agents"]

    def team(self, team_id: str) -> Team:
        """The team with this id."""
        teams: dict[str, Team] = self.__dict__["_teams"]
        if not isinstance(team_id, str):
            raise ValidationError(f"a team id is text, got {type(team_id).__name__}", field="team")
        try:
            return teams[team_id]
        except KeyError:
            raise NotFound("team", team_id) from None

    def sla_policy(self, name: str) -> SlaPolicy:
        """The SLA policy with this name."""
        policies: dict[str, SlaPolicy] = self.__dict__["_policies"]
        v.require(name, str, "a policy name (text)", field="name")
        try:
            return policies[name]
        except KeyError:
            raise NotFound("sla policy", name) from None

    def lifecycle_for(self, ticket_type: str) -> Lifecycle:
        """The lifecycle tickets of this type follow."""
        v.require(ticket_type, str, "a ticket type (text)", field="ticket_type")
        kind = self.ticket_types.get(ticket_type)
        name = kind.lifecycle if kind is not None else "default"
        return self.lifecycles[name] if name in self.lifecycles else Lifecycle.default()

    def agents_of(self, team: str | None = None, tier: str | None = None) -> list[Agent]:
        """Agents in a team and/or tier, in configuration order."""
        if team is not None:
            v.require(team, str, "a team id (text)", field="team")
        if tier is not None:
            v.require(tier, str, "a tier id (text)", field="tier")
        return [
            a
            for a in self.agents
            if (team is None or team in a.teams) and (tier is None or a.tier == tier)
        ]

    # -- documents -----------------------------------------------------------------------
    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> DeskConfig:
        """Build from a plain document; every error names the path of the bad part. The
        conditions of the document are built under its ``limits`` section."""
        if not isinstance(doc, Mapping):
            raise ConfigError("a desk configuration is a mapping", path="$")
        _check_text(doc, "$")
        limits = Limits.from_dict(doc["limits"], path="limits") if "limits" in doc else Limits()
        with limits.active():
            return cls._from_document(doc, limits)

    @classmethod
    def _from_document(cls, doc: Mapping[str, Any], limits: Limits) -> DeskConfig:
        known = {
            "limits",
            "desk",
            "calendars",
            "tiers",
            "teams",
            "agents",
            "lifecycles",
            "ticket_types",
            "categories",
            "sla_policies",
            "routing",
            "escalation_policies",
            "priority_matrix",
            "assignment",
            "privacy",
            "knowledge",
        }
        unknown = sorted(map(str, set(doc) - known))
        if unknown:
            raise ConfigError(
                f"unknown section(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})",
                path="$",
            )
        kwargs: dict[str, Any] = {}
        if "desk" in doc:
            kwargs["settings"] = _structure(doc["desk"], DeskSettings, "desk")
        if "calendars" in doc:
            kwargs["calendars"] = {
                name: BusinessCalendar.from_dict(body, path=f"calendars.{name}")
                for name, body in _mapping(doc["calendars"], "calendars").items()
            }
        if "tiers" in doc:
            kwargs["tiers"] = [
                _structure(item, Tier, f"tiers[{i}]")
                for i, item in enumerate(_list(doc["tiers"], "tiers"))
            ]
        if "teams" in doc:
            kwargs["teams"] = [
                _structure(item, Team, f"teams[{i}]")
                for i, item in enumerate(_list(doc["teams"], "teams"))
            ]
        if "agents" in doc:
            kwargs["agents"] = [
                _structure(item, Agent, f"agents[{i}]")
                for i, item in enumerate(_list(doc["agents"], "agents"))
            ]
        if "lifecycles" in doc:
            lifecycles = _default_lifecycles()
            for name, body in _mapping(doc["lifecycles"], "lifecycles").items():
                where = f"lifecycles.{name}"
                if isinstance(body, Mapping) and "name" not in body:
                    body = {**body, "name": name}  # a lifecycle's name defaults to its key
                lifecycles[name] = Lifecycle.from_dict(body, path=where)
            kwargs["lifecycles"] = lifecycles
        if "ticket_types" in doc:
            types: dict[str, TicketType] = {}
            for name, body in _mapping(doc["ticket_types"], "ticket_types").items():
                body = {} if body is None else body  # (JSON's null: the defaults)
                if not isinstance(body, Mapping):
                    raise ConfigError(
                        f"a ticket type is a mapping, got {type(body).__name__}",
                        path=f"ticket_types.{name}",
                    )
                if "name" in body and body["name"] != name:
                    raise ConfigError(
                        f"the ticket type under {name!r} is named {body['name']!r}",
                        path=f"ticket_types.{name}.name",
                    )
                types[name] = _structure({"name": name, **body}, TicketType, f"ticket_types.{name}")
            kwargs["ticket_types"] = types
        if "categories" in doc:
            kwargs["categories"] = {
                name: Category.from_dict(name, body, path="categories")
                for name, body in _mapping(doc["categories"], "categories").items()
            }
        if "sla_policies" in doc:
            kwargs["sla_policies"] = [
                SlaPolicy.from_dict(item, path=f"sla_policies[{i}]")
                for i, item in enumerate(_list(doc["sla_policies"], "sla_policies"))
            ]
        if "routing" in doc:
            kwargs["routing"] = RuleSet.from_dict(_list(doc["routing"], "routing"), path="routing")
        if "escalation_policies" in doc:
            kwargs["escalation_policies"] = [
                EscalationPolicy.from_dict(item, path=f"escalation_policies[{i}]")
                for i, item in enumerate(_list(doc["escalation_policies"], "escalation_policies"))
            ]
        if "priority_matrix" in doc:
            kwargs["priority_matrix"] = PriorityMatrix(doc["priority_matrix"])
        if "assignment" in doc:
            kwargs["assignment"] = _structure(doc["assignment"], AssignmentSettings, "assignment")
        if "privacy" in doc:
            kwargs["privacy"] = PrivacySettings.from_dict(doc["privacy"], path="privacy")
        if "knowledge" in doc:
            kwargs["knowledge"] = KnowledgeSettings.from_dict(doc["knowledge"], path="knowledge")
        return cls(**kwargs, limits=limits)

    @classmethod
    def from_toml(cls, source: str | Path) -> DeskConfig:
        """Load from a TOML file path, or TOML text (``source`` holds a newline, or is one
        line of TOML that names no file)."""
        text, path = read_source(source, what="configuration file")
        return cls.from_dict(load_toml(text, path))

    @classmethod
    def from_json(cls, source: str | Path) -> DeskConfig:
        """Load from a JSON file path (or JSON text when ``source`` holds a newline or
        starts with ``{`` or ``[``)."""
        text = _read(source, json_text=True)
        twice: list[tuple[dict[str, Any], str]] = []
        try:
            doc = json.loads(text, object_pairs_hook=_pairs_noting_duplicates(twice))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"not valid JSON: {exc}", path="$") from exc
        except (RecursionError, ValueError) as exc:  # nesting or numbers beyond the limits
            raise ConfigError(f"JSON beyond the reader's limits: {exc}", path="$") from exc
        if twice:
            paths = _object_paths(doc)
            # The first noted object that the document kept (a later value of its own key
            # may have replaced it).
            holder, key = next((h, k) for h, k in twice if id(h) in paths)
            raise ConfigError(
                f"the key {key!r} is given twice in one object",
                path=_join(paths[id(holder)], key),
            )
        return cls.from_dict(doc)

    def to_toml(self) -> str:
        """The configuration as TOML text, what :meth:`to_dict` gives:
        ``DeskConfig.from_toml(config.to_toml()) == config`` (an admin screen may keep
        the desk it edits in a file people read). A value TOML has no syntax for (a
        custom field a routing rule sets to None, a whole number beyond 64 bits) is a
        ConfigError naming its path; such a desk is kept as JSON (:meth:`to_dict`)."""
        from helpdesk_core._toml import dumps

        try:
            return dumps(self.to_dict())
        except ValidationError as exc:
            raise ConfigError(
                f"{exc.message}: keep this desk as JSON (to_dict), not TOML", path=exc.field
            ) from exc

    def to_dict(self) -> dict[str, Any]:
        """The configuration as a plain document (round-trips through :meth:`from_dict`)."""
        doc: dict[str, Any] = {
            "desk": unstructure(self.settings),
            "calendars": {name: cal.to_dict() for name, cal in self.calendars.items()},
            "tiers": [_drop_defaults(unstructure(t)) for t in self.tiers],
            "teams": [_drop_defaults(unstructure(t)) for t in self.teams],
            "agents": [_drop_defaults(unstructure(a)) for a in self.agents],
            "lifecycles": {
                name: lc.to_dict()
                for name, lc in self.lifecycles.items()
                if not (name == "default" and lc == Lifecycle.default())
            },
            "ticket_types": {
                name: {"lifecycle": t.lifecycle} for name, t in self.ticket_types.items()
            },
            "categories": {name: c.to_dict() for name, c in self.categories.items()},
            "sla_policies": [p.to_dict() for p in self.sla_policies],
            "routing": self.routing.to_dict(),
            "escalation_policies": [p.to_dict() for p in self.escalation_policies],
            "priority_matrix": self.priority_matrix.to_dict(),
            "assignment": {
                "strategy": self.assignment.strategy,
                "queue_order": self.assignment.queue_order,
                "weights": {p.value: w for p, w in self.assignment.weights.items()},
                "auto_assign": self.assignment.auto_assign,
            },
        }
        privacy = self.privacy.to_dict()
        if privacy:
            doc["privacy"] = privacy
        knowledge = self.knowledge.to_dict()
        if knowledge:
            doc["knowledge"] = knowledge
        limits = self.limits.to_dict()
        if limits:
            doc["limits"] = limits
        return doc

    def replace(self, **changes: Any) -> DeskConfig:
        """A copy with some parts replaced (validated again)."""
        unknown = sorted(set(changes) - {a.alias for a in fields(DeskConfig) if a.init})
        if unknown:
            raise ConfigError(f"no configuration part named {unknown[0]!r}", path=unknown[0])
        return evolve(self, **changes)


def read_source(source: Any, *, what: str, json_text: bool = False) -> tuple[str, Path | None]:
    """The text of a configuration ``source`` (text itself when it holds a newline, or
    JSON text starting with a bracket when ``json_text``, or one line of TOML that names
    no file, such as ``'desk.name = "x"'``; else a file path), and the file path it came
    from (None for text). ConfigError for anything else or an unreadable file."""
    if isinstance(source, str) and ("\n" in source or (json_text and source.lstrip()[:1] in "{[")):
        return source, None
    if isinstance(source, str) and "=" in source and not json_text and _toml_line(source):
        return source, None
    if not isinstance(source, str | os.PathLike) or (isinstance(source, str) and not source):
        kind = "an empty string" if source == "" else type(source).__name__
        raise ConfigError(f"{what} is a file path or text, got {kind}", path="$")
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8"), path
    except OSError as exc:
        hint = ""
        if isinstance(source, str):
            told = "starts with { or [" if json_text else "is a line of TOML"
            hint = f" (text is read as a document when it holds a newline or {told})"
        raise ConfigError(f"cannot read {what}: {exc.strerror}{hint}", path=str(path)) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{what} is not UTF-8 text: {exc}", path=str(path)) from exc


def load_toml(text: str, path: Path | None) -> dict[str, Any]:
    """The TOML document ``text`` read from ``path`` (None: given as text). ConfigError
    when it is not valid TOML, whose path is the file (``$`` for text) and whose message
    names the key or table on the line at fault (TOML's own message names only the line,
    even of a key given twice)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = str(path)[:80] if path is not None else "$"
        message = f"{exc}{_toml_key_at_fault(str(exc), text)}"
        raise ConfigError(f"not valid TOML: {message}", path=where) from exc
    except RecursionError:  # arrays or inline tables nested a few hundred deep
        where = str(path)[:80] if path is not None else "$"
        raise ConfigError(
            "TOML beyond the reader's limits: arrays or tables nested too deep", path=where
        ) from None


_TOML_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_TOML_KEYS = rf"{_TOML_KEY}(?:[ \t]*\.[ \t]*{_TOML_KEY})*"
_TOML_TABLE_LINE = re.compile(rf"[ \t]*(\[\[?[ \t]*{_TOML_KEYS}[ \t]*\]\]?)")
_TOML_KEY_LINE = re.compile(rf"[ \t]*({_TOML_KEYS})[ \t]*=")


def _toml_key_at_fault(message: str, text: str) -> str:
    """``": key name in [desk]"`` (or ``": [desk]"``) for the line a TOML error names,
    its last line when the error is at the end; the value is never shown."""
    lines = text.split("\n")
    at = re.search(r"\(at line (\d+), column \d+\)$", message)
    if at:
        number = int(at.group(1))
    elif message.endswith("(at end of document)"):
        number = next((n for n in range(len(lines), 0, -1) if lines[n - 1].strip()), 0)
    else:
        return ""
    if not 0 < number <= len(lines):
        return ""
    line = lines[number - 1]
    table = _TOML_TABLE_LINE.match(line)
    if table:
        return f": {table.group(1)[:80]}"
    key = _TOML_KEY_LINE.match(line)
    if key is None:
        return ""
    header = next(
        (m.group(1) for m in map(_TOML_TABLE_LINE.match, reversed(lines[: number - 1])) if m),
        None,
    )
    return f": key {key.group(1)[:80]}" + (f" in {header[:80]}" if header else "")


def _toml_line(source: str) -> bool:
    """Whether one line of text is TOML rather than the path of a file."""
    try:
        if Path(source).exists():
            return False
    except (OSError, ValueError):
        pass
    try:
        tomllib.loads(source)
    except tomllib.TOMLDecodeError:
        return False
    except RecursionError:
        return True  # TOML, nested too deep: load_toml says so
    return True


def _read(source: str | Path, *, json_text: bool = False) -> str:
    return read_source(source, what="configuration file", json_text=json_text)[0]


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"expected a mapping, got {type(value).__name__}", path=path)
    return value


def _list(value: Any, path: str) -> list[Any]:
    if (
        isinstance(value, str | bytes)
        or not isinstance(value, Iterable)
        or isinstance(value, Mapping)
    ):
        raise ConfigError(f"expected a list, got {type(value).__name__}", path=path)
    return list(value)


def _structure(value: Any, cls: type[T], path: str) -> T:
    try:
        return structure(value, cls, path=path)
    except ConfigError:
        raise
    except ValidationError as exc:
        raise ConfigError(exc.message, path=exc.field or path) from exc


def _drop_defaults(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if v not in (None, [], {}, "")}
    return data


def _check_action_limits(limits: Limits, actions: Any, where: str) -> None:
    """A rule's actions within the desk's limits: what a rule sets is stored as if a
    request had set it (a rule that adds more tags than a ticket may hold would put
    tickets above the limits, and refuse every later edit of theirs)."""
    try:
        if actions.category is not None:
            limits.check_subject(actions.category, field="category")
        if actions.add_tags:
            limits.check_tags(actions.add_tags, field="add_tags")
        if actions.fields:
            limits.check_fields(actions.fields, field="fields")
    except ValidationError as exc:
        raise ConfigError(exc.message, path=f"{where}.{exc.field or ''}".rstrip(".")) from exc


def _pairs_noting_duplicates(
    twice: list[tuple[dict[str, Any], str]],
) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """An ``object_pairs_hook`` that notes in ``twice`` each JSON object holding a key
    given twice, with the key (JSON would keep the last silently; TOML refuses it). The
    reader builds objects innermost first, so where they sit is known only once the
    document is whole (:func:`_object_paths`)."""

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                twice.append((out, key))
            out[key] = value
        return out

    return hook


def _object_paths(doc: Any) -> dict[int, str]:
    """The path of every object in a JSON document, by ``id``: ``"$"`` for the document
    itself, then ``desk``, ``agents[2]``, ``calendars.office.hours``. Walked without
    recursion (a document may nest as deep as the reader allows)."""
    paths: dict[int, str] = {}
    stack: list[tuple[Any, str]] = [(doc, "$")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            paths[id(value)] = path
            stack.extend((item, _join(path, str(key))) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{index}]") for index, item in enumerate(value))
    return paths


def _join(path: str, key: str) -> str:
    return key if path == "$" else f"{path}.{key}"


#: How deep a configuration document may nest. A condition as deep as conditions go
#: (``limits.max_condition_depth``'s bound, 32), written ``{"all": [...]}`` at each
#: level, nests about 70 deep within its routing rule.
MAX_DOCUMENT_DEPTH = 100


def _check_text(value: Any, path: str) -> None:
    """Refuse text that is not valid Unicode (a lone surrogate: half an emoji a frontend
    cut) anywhere in a document, naming where: no store could keep it. A document that
    nests deeper than :data:`MAX_DOCUMENT_DEPTH` is refused where it does (what reads it
    would run out of stack). Walked without recursion, in document order."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ConfigError(
                    "text holds a lone surrogate (not valid Unicode)", path=path
                ) from None
            continue
        if not isinstance(value, Mapping | list | tuple):
            continue
        if depth >= MAX_DOCUMENT_DEPTH:
            raise ConfigError(
                f"the document nests deeper than {MAX_DOCUMENT_DEPTH} levels", path=path
            )
        if isinstance(value, Mapping):
            for key, item in reversed(list(value.items())):
                stack.append((item, f"{path}.{key}" if path != "$" else str(key), depth + 1))
                stack.append((key, path, depth + 1))
        else:
            stack.extend(
                (item, f"{path}[{index}]", depth + 1)
                for index, item in reversed(list(enumerate(value)))
            )


def _check_team_in_tier(config: DeskConfig, team: str, tier: str, path: str) -> None:
    """Refuse a rule that puts tickets in ``team`` and ``tier`` at once when the team is
    not one of the tier's and no agent is of both: the desk assigns such a ticket to an
    agent of the tier in the team, and it would wait for one forever."""
    tier_obj = next(t for t in config.tiers if t.id == tier)
    if team in tier_obj.teams or any(
        (a.tier is None or a.tier == tier) and team in a.teams for a in config.agents
    ):
        return
    raise ConfigError(
        f"team {team!r} is not among the teams of tier {tier!r} "
        f"({', '.join(tier_obj.teams) or 'none'}), and no agent of that tier is in it: a "
        "ticket routed there could never be assigned (name one of the tier's teams, or "
        "leave the team or the tier to follow from the other)",
        path=path,
    )


def _check_references(config: DeskConfig) -> None:
    if not isinstance(config.limits, Limits):  # read by the routing checks below
        raise ConfigError("expected Limits", path="limits")
    calendars = set(config.calendars)
    team_ids = [t.id for t in config.teams]
    teams = set(team_ids)
    _unique(team_ids, "teams", "team")
    tier_ids = [t.id for t in config.tiers]
    _unique(tier_ids, "tiers", "tier")
    tiers = set(tier_ids)
    _unique([a.id for a in config.agents], "agents", "agent")
    for i, tier in enumerate(config.tiers):
        for team in tier.teams:
            if team not in teams:
                raise ConfigError(f"unknown team {team!r}", path=f"tiers[{i}].teams")
    for i, team_obj in enumerate(config.teams):
        if team_obj.calendar is not None and team_obj.calendar not in calendars:
            raise ConfigError(
                f"unknown calendar {team_obj.calendar!r}", path=f"teams[{i}].calendar"
            )
    for i, agent in enumerate(config.agents):
        clash = identity_clash(agent.id, "agent")
        if clash is not None:
            raise ConfigError(clash, path=f"agents[{i}].id")
        if agent.calendar is not None and agent.calendar not in calendars:
            raise ConfigError(f"unknown calendar {agent.calendar!r}", path=f"agents[{i}].calendar")
        if agent.tier is not None and agent.tier not in tiers:
            raise ConfigError(f"unknown tier {agent.tier!r}", path=f"agents[{i}].tier")
        for team in agent.teams:
            if team not in teams:
                raise ConfigError(f"unknown team {team!r}", path=f"agents[{i}].teams")
    agent_ids = {a.id for a in config.agents}
    for i, team_obj in enumerate(config.teams):
        for contact in team_obj.contacts:
            if contact not in agent_ids:
                raise ConfigError(
                    f"unknown agent {contact!r} (a team's contacts are agent ids)",
                    path=f"teams[{i}].contacts",
                )
    if not config.ticket_types:
        raise ConfigError(
            "a desk needs at least one ticket type (every ticket has one: with none, no "
            "ticket could be opened)",
            path="ticket_types",
        )
    for name, kind in config.ticket_types.items():
        if kind.lifecycle not in config.lifecycles:
            raise ConfigError(
                f"unknown lifecycle {kind.lifecycle!r}", path=f"ticket_types.{name}.lifecycle"
            )
    for name, lifecycle in config.lifecycles.items():
        lc_calendar = getattr(lifecycle, "calendar", None)
        if lc_calendar is not None and lc_calendar not in calendars:
            raise ConfigError(
                f"unknown calendar {lc_calendar!r}", path=f"lifecycles.{name}.calendar"
            )
    policy_names = [p.name for p in config.sla_policies]
    _unique(policy_names, "sla_policies", "SLA policy")
    for i, policy in enumerate(config.sla_policies):
        if policy.calendar not in calendars:
            raise ConfigError(
                f"unknown calendar {policy.calendar!r}", path=f"sla_policies[{i}].calendar"
            )
        _check_condition(policy.condition, calendars, f"sla_policies[{i}].when")
    for i, rule in enumerate(config.routing.rules):
        where = f"routing[{i}]"
        actions = rule.actions
        _check_action_limits(config.limits, actions, f"{where}.actions")
        if actions.team is not None and actions.team not in teams:
            raise ConfigError(f"unknown team {actions.team!r}", path=f"{where}.actions.team")
        if actions.tier is not None and actions.tier not in tiers:
            raise ConfigError(f"unknown tier {actions.tier!r}", path=f"{where}.actions.tier")
        if actions.team is not None and actions.tier is not None:
            _check_team_in_tier(config, actions.team, actions.tier, f"{where}.actions.team")
        if actions.sla_policy is not None and actions.sla_policy not in policy_names:
            raise ConfigError(
                f"unknown SLA policy {actions.sla_policy!r}", path=f"{where}.actions.sla_policy"
            )
        if actions.type is not None and actions.type not in config.ticket_types:
            raise ConfigError(f"unknown ticket type {actions.type!r}", path=f"{where}.actions.type")
        assign_team = getattr(actions.assign, "team", None) if actions.assign else None
        if assign_team is not None and assign_team not in teams:
            raise ConfigError(f"unknown team {assign_team!r}", path=f"{where}.actions.assign.team")
        _check_condition(rule.when, calendars, f"{where}.when")
    _unique(
        [p.name for p in config.escalation_policies], "escalation_policies", "escalation policy"
    )
    for i, escalation in enumerate(config.escalation_policies):
        for j, trigger in enumerate(escalation.triggers):
            where = f"escalation_policies[{i}].triggers[{j}]"
            calendar = getattr(trigger, "calendar", None)
            if calendar is not None and calendar not in calendars:
                raise ConfigError(f"unknown calendar {calendar!r}", path=f"{where}.calendar")
            when = getattr(trigger, "when", None)
            if when is not None:
                _check_condition(when, calendars, f"{where}.when")
            for k, action in enumerate(getattr(trigger, "actions", ())):
                to_tier = getattr(action, "to_tier", None)
                if to_tier is not None and to_tier not in tiers:
                    raise ConfigError(
                        f"unknown tier {to_tier!r}", path=f"{where}.actions[{k}].to_tier"
                    )
    _check_privacy(config, teams)
    _check_knowledge(config)
    _check_limits(config)


def _check_limits(config: DeskConfig) -> None:
    """Every condition within the desk's limits (depth, pattern length and cost), however
    it was built."""
    limits = config.limits
    if not isinstance(limits, Limits):
        raise ConfigError("expected Limits", path="limits")
    for i, policy in enumerate(config.sla_policies):
        limits.check_condition(policy.condition.to_dict(), path=f"sla_policies[{i}].when")
    for i, rule in enumerate(config.routing.rules):
        limits.check_condition(rule.when.to_dict(), path=f"routing[{i}].when")
    _unique(
        [p.name for p in config.escalation_policies], "escalation_policies", "escalation policy"
    )
    for i, escalation in enumerate(config.escalation_policies):
        for j, trigger in enumerate(escalation.triggers):
            when = getattr(trigger, "when", None)
            if isinstance(when, Condition):
                limits.check_condition(
                    when.to_dict(), path=f"escalation_policies[{i}].triggers[{j}].when"
                )


def _check_knowledge(config: DeskConfig) -> None:
    if not isinstance(config.knowledge, KnowledgeSettings):
        raise ConfigError("expected KnowledgeSettings", path="knowledge")
    problem_type = config.knowledge.problem_type
    # The default may be absent (a desk without problem management); a type named on
    # purpose must exist.
    if problem_type != "problem" and problem_type not in config.ticket_types:
        raise ConfigError(
            f"unknown ticket type {config.knowledge.problem_type!r}", path="knowledge.problem_type"
        )


def _check_privacy(config: DeskConfig, teams: set[str]) -> None:
    if not isinstance(config.privacy, PrivacySettings):
        raise ConfigError("expected PrivacySettings", path="privacy")
    roles = config.privacy.access.roles
    for i, agent in enumerate(config.agents):
        if agent.role not in roles:
            raise ConfigError(
                f"unknown role {agent.role!r} (known: {', '.join(sorted(roles))})",
                path=f"agents[{i}].role",
            )
    for i, policy in enumerate(config.privacy.retention):
        where = f"privacy.retention[{i}]"
        for team in sorted(policy.teams or ()):
            if team not in teams:
                raise ConfigError(f"unknown team {team!r}", path=f"{where}.teams")
        for name in sorted(policy.ticket_types or ()):
            if name not in config.ticket_types:
                raise ConfigError(f"unknown ticket type {name!r}", path=f"{where}.ticket_types")


def _check_condition(condition: Condition, calendars: set[str], path: str) -> None:
    for name in condition.calendar_names():
        if name not in calendars:
            raise ConfigError(f"unknown calendar {name!r} in business_hours", path=path)


def _unique(ids: list[str], path: str, what: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(ids):
        if item in seen:
            raise ConfigError(f"{what} {item!r} is defined twice", path=f"{path}[{i}]")
        seen.add(item)
