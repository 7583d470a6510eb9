"""Requesters, agents, teams, support tiers, and the actor reference events carry."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from helpdesk_core.errors import ValidationError
from helpdesk_core.model import _validate as v
from helpdesk_core.model.enums import ActorKind, to_actor_kind

__all__ = [
    "ANONYMOUS_REQUESTER",
    "MAX_EMAIL_LENGTH",
    "SYSTEM",
    "Actor",
    "Agent",
    "Requester",
    "Team",
    "Tier",
    "identity_clash",
]

#: The requester id an anonymised ticket refers to: it belongs to no requester.
ANONYMOUS_REQUESTER = "anonymised"

#: The longest email address a requester may have (RFC 5321's path limit, less the
#: angle brackets).
MAX_EMAIL_LENGTH = 254

# Enum members as module constants: on Python 3.11 reading one off its class goes through
# EnumType's __getattr__ hook, several times the cost of a global.
_AGENT = ActorKind.AGENT
_REQUESTER = ActorKind.REQUESTER
_SYSTEM = ActorKind.SYSTEM


@frozen(kw_only=True)
class Actor:
    """Who caused an event: an agent, a requester, or the system (automation, SLA ticks)."""

    kind: ActorKind = field(converter=to_actor_kind)
    id: str = field(validator=v.identifier)

    @classmethod
    def agent(cls, id: str) -> Actor:
        """An agent acting."""
        return _shared(cls, _AGENT, id)

    @classmethod
    def requester(cls, id: str) -> Actor:
        """A requester acting."""
        return _shared(cls, _REQUESTER, id)

    @classmethod
    def system(cls, id: str = "system") -> Actor:
        """Automation acting (``id`` names the component: ``sla``, ``routing`` ...)."""
        return _shared(cls, _SYSTEM, id)

    @property
    def is_agent(self) -> bool:
        """True when an agent acts."""
        return self.kind is _AGENT

    @property
    def is_requester(self) -> bool:
        """True when a requester acts."""
        return self.kind is _REQUESTER

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"


SYSTEM = Actor(kind=ActorKind.SYSTEM, id="system")

#: Actors are immutable values, so the named constructors share one per (kind, id): the
#: commands of a desk name the same few agents and components over and over. Bounded.
_ACTORS: dict[tuple[ActorKind, str], Actor] = {}
_MAX_SHARED_ACTORS = 65_536


def _shared(cls: type[Actor], kind: ActorKind, id: str) -> Actor:
    if cls is not Actor:
        return cls(kind=kind, id=id)
    key = (kind, id)
    try:
        found = _ACTORS.get(key)
    except TypeError:  # an unhashable id: let the validator name it
        return cls(kind=kind, id=id)
    if found is None:
        found = cls(kind=kind, id=id)
        if len(_ACTORS) >= _MAX_SHARED_ACTORS:
            _ACTORS.clear()
        _ACTORS[key] = found
    return found


_ACTOR_KINDS = frozenset(kind.value for kind in ActorKind)


def identity_clash(ident: str, what: str) -> str | None:
    """Why ``ident`` cannot be the id of ``what`` (``"agent"``, ``"requester"``): it
    starts with ``agent:``, ``requester:`` or ``system:``, which names another identity
    wherever one is given as text (``by="system:cron"`` is automation, which may do
    everything); None when it can."""
    kind, sep, _ = ident.partition(":")
    if not sep or kind not in _ACTOR_KINDS:
        return None
    article = "an" if kind == "agent" else "a"
    return (
        f"{what} id {ident!r} starts with {kind + ':'!r}, which names {article} {kind} "
        "where an identity is given as text; choose another id"
    )


def _attributes(value: Any) -> dict[str, Any]:
    return v.to_field_dict(value, field="attributes")


#: Characters no address holds: blanks and control characters (a NUL or a line break
#: in an address would reach mail headers).
_NOT_IN_ADDRESSES = re.compile(r"[\s\x00-\x1f\x7f]")


def _email_address(instance: Any, attribute: Any, value: str | None) -> None:
    """None, or text of the shape ``local@domain`` within :data:`MAX_EMAIL_LENGTH`."""
    v.optional_text(instance, attribute, value)
    if value is None:
        return
    local, _, domain = value.partition("@")
    if not local or not domain or "@" in domain or _NOT_IN_ADDRESSES.search(value):
        raise ValidationError(f"{value!r} is not an email address", field="email")
    if len(value) > MAX_EMAIL_LENGTH:
        raise ValidationError(
            f"an email address has at most {MAX_EMAIL_LENGTH} characters, got "
            f"{len(value):,}",
            field="email",
        )


def _to_teams(value: Any) -> tuple[str, ...]:
    return v.to_id_tuple(value, field="teams")


def _to_skills(value: Any) -> frozenset[str]:
    return v.to_text_set(value, field="skills")


def _to_contacts(value: Any) -> tuple[str, ...]:
    return v.to_id_tuple(value, field="contacts")


def _no_blank(value: Any) -> Any:
    """An empty address is no address (so a configuration round-trips)."""
    return None if value == "" else value


@frozen(kw_only=True)
class Requester:
    """A person who asks for help. ``vip`` and ``organization`` feed routing and SLA
    conditions; ``attributes`` holds anything else an app wants rules to see."""

    id: str = field(validator=v.identifier)
    name: str = field(default="", validator=v.text)
    email: str | None = field(default=None, validator=_email_address)
    organization: str | None = field(default=None, validator=v.optional_text)
    vip: bool = field(default=False, validator=v.boolean)
    language: str = field(default="en", validator=v.non_empty_text)
    attributes: Mapping[str, v.FieldValue] = field(
        factory=dict, converter=_attributes, validator=v.field_dict, hash=False
    )

    @property
    def actor(self) -> Actor:
        """This requester as the actor of an event."""
        return Actor.requester(self.id)


@frozen(kw_only=True)
class Agent:
    """A person who works tickets.

    ``tier`` is the id of the support tier the agent works in; ``teams`` the teams (queues)
    they belong to; ``skills`` what they can handle; ``capacity`` how many active tickets
    they may hold at once; ``calendar`` the name of their shift calendar (None: always on
    shift); ``active`` false for people who left; ``away`` for a temporary absence.
    """

    id: str = field(validator=v.identifier)
    name: str = field(default="", validator=v.text)
    email: str | None = field(default=None, converter=_no_blank, validator=_email_address)
    tier: str | None = field(default=None, validator=v.optional_identifier)
    teams: tuple[str, ...] = field(default=(), converter=_to_teams, validator=v.id_tuple)
    skills: frozenset[str] = field(factory=frozenset, converter=_to_skills)
    capacity: int = field(default=10, validator=v.non_negative_int)
    calendar: str | None = field(default=None, validator=v.optional_identifier)
    active: bool = field(default=True, validator=v.boolean)
    away: bool = field(default=False, validator=v.boolean)
    role: str = field(default="agent", validator=v.identifier)

    @skills.validator
    def _check_skills(self, attribute: Any, value: frozenset[str]) -> None:
        for skill in value:
            if not isinstance(skill, str) or not skill.strip():
                raise ValidationError(f"invalid skill {skill!r}", field="skills")

    @property
    def actor(self) -> Actor:
        """This agent as the actor of an event."""
        return Actor.agent(self.id)


@frozen(kw_only=True)
class Team:
    """A team (queue) of agents. ``contacts`` are the escalation contacts per
    hierarchical level (index 0 = level 1, e.g. team lead, then manager). ``calendar``
    names the team's hours for frontends to show; the desk's rules read others: who is
    on shift comes from each agent's ``calendar``, SLA time from the policy's."""

    id: str = field(validator=v.identifier)
    name: str = field(default="", validator=v.text)
    calendar: str | None = field(default=None, validator=v.optional_identifier)
    contacts: tuple[str, ...] = field(default=(), converter=_to_contacts, validator=v.id_tuple)
    email: str | None = field(default=None, converter=_no_blank, validator=_email_address)


@frozen(kw_only=True)
class Tier:
    """A support tier (L1 service desk, L2 specialists, L3 engineering ...) and its teams.
    The desk orders tiers from lowest to highest; the first team is the tier's default."""

    id: str = field(validator=v.identifier)
    name: str = field(default="", validator=v.text)
    teams: tuple[str, ...] = field(default=(), converter=_to_teams, validator=v.id_tuple)

    @property
    def default_team(self) -> str | None:
        """The team tickets entering this tier go to unless told otherwise."""
        return self.teams[0] if self.teams else None
