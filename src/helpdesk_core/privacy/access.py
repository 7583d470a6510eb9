"""Who may see and do what: roles and the access policy (pure).

Four roles: ``requester``, ``agent``, ``team_lead`` and ``admin``. An agent's role comes
from :attr:`Agent.role` through :attr:`AccessPolicy.roles` (``"agent"``, ``"team_lead"``,
``"admin"``, ``"manager"`` by default; a desk may map its own names). The rules:

* a requester sees only their own tickets (and their organization's when
  ``requesters_see_organization`` is on; a blank organization is none), never internal
  notes, nor on a colleague's ticket the answers to questions marked ``personal``, and
  may only do the requester actions (reply, rate, reopen, view);
* an agent sees and works the tickets of their teams, tickets not routed to any team, and
  the tickets assigned to or owned by them;
* a team lead, in addition, the tickets of the teams whose escalation contact they are;
* an admin sees and does everything; only admins erase requesters;
* inactive agents may do nothing; automation (system actors) may do everything.

:meth:`AccessPolicy.decide` returns a :class:`Decision` with the reason; :meth:`check`
raises :class:`~helpdesk_core.errors.AccessDenied` naming the identity, ticket and action.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from attrs import evolve, field, frozen

from helpdesk_core.errors import AccessDenied, ConfigError, ValidationError
from helpdesk_core.model import (
    Actor,
    ActorKind,
    Agent,
    CommentAdded,
    Event,
    Rated,
    Requester,
    Team,
    Ticket,
    TicketOpened,
    TicketRouted,
    TicketUpdated,
)
from helpdesk_core.model._validate import field_names, require, ticket_id_set
from helpdesk_core.model.people import ANONYMOUS_REQUESTER

__all__ = [
    "ACTIONS",
    "ANONYMOUS_REQUESTER",
    "REQUESTER_ACTIONS",
    "AccessPolicy",
    "Decision",
    "Role",
    "visible_events",
]

#: Every action the facade checks (``change`` covers automation-like edits).
ACTIONS = frozenset(
    {
        "view",
        "reply",
        "note",
        "rate",
        "reopen",
        "transition",
        "assign",
        "escalate",
        "set_priority",
        "update",
        "link",
        "change",
        "anonymise",
        "erase",
    }
)
#: How a refusal names each action, before "ticket 'T-1'" (``set_priority``: "set the
#: priority of").
_PHRASES = {
    "reply": "reply to",
    "note": "add a note to",
    "transition": "change the status of",
    "set_priority": "set the priority of",
    "update": "edit",
    "erase": "erase the requester of",
}


def _phrase(action: str) -> str:
    return _PHRASES.get(action, action)


#: What a requester may do on their own tickets by default.
REQUESTER_ACTIONS = frozenset({"view", "reply", "rate", "reopen"})
#: Actions reserved to admins.
ADMIN_ACTIONS = frozenset({"anonymise", "erase"})


class Role(StrEnum):
    """The access roles."""

    REQUESTER = "requester"
    AGENT = "agent"
    TEAM_LEAD = "team_lead"
    ADMIN = "admin"

    @classmethod
    def parse(cls, value: Any, *, path: str = "role") -> Role:
        """A Role from itself or its name; ConfigError naming ``path`` otherwise."""
        if isinstance(value, Role):
            return value
        try:
            return cls(value)
        except ValueError:
            raise ConfigError(
                f"unknown role {value!r} (known: {', '.join(r.value for r in cls)})", path=path
            ) from None


_DEFAULT_ROLES: dict[str, Role] = {
    "agent": Role.AGENT,
    "team_lead": Role.TEAM_LEAD,
    "admin": Role.ADMIN,
    "manager": Role.ADMIN,
}


def _to_roles(value: Any) -> dict[str, Role]:
    if not isinstance(value, Mapping):
        raise ConfigError("roles map agent role names to roles", path="privacy.roles")
    out = dict(_DEFAULT_ROLES)
    for name, role in value.items():
        if not isinstance(name, str) or not name:
            raise ConfigError(f"a role name is text, got {name!r}", path="privacy.roles")
        parsed = Role.parse(role, path=f"privacy.roles.{name}")
        if parsed is Role.REQUESTER:
            raise ConfigError("agents cannot have the requester role", path=f"privacy.roles.{name}")
        out[name] = parsed
    return out


def _to_actions(value: Any) -> frozenset[str]:
    items = (value,) if isinstance(value, str) else value
    if isinstance(items, bytes | Mapping) or not isinstance(items, Iterable):
        raise ConfigError(
            "requester_actions is a list of actions", path="privacy.requester_actions"
        )
    items = tuple(items)
    unknown = sorted(repr(a) for a in items if not isinstance(a, str) or a not in ACTIONS)
    if unknown:
        raise ConfigError(
            f"unknown action(s) {', '.join(unknown)} (known: {', '.join(sorted(ACTIONS))})",
            path="privacy.requester_actions",
        )
    reserved = sorted(repr(a) for a in items if a in ADMIN_ACTIONS)
    if reserved:
        raise ConfigError(
            f"{', '.join(reserved)} may be done by admins only, never by requesters",
            path="privacy.requester_actions",
        )
    return frozenset(items)


def _bool(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(
            f"expected true or false, got {value!r}", path=f"privacy.{attribute.name}"
        )


@frozen(kw_only=True)
class Decision:
    """An access decision: ``allowed`` and why (``reason`` reads as a sentence)."""

    allowed: bool
    reason: str
    role: Role | None = None


@frozen(kw_only=True)
class AccessPolicy:
    """The access rules of a desk (see the module docstring).

    ``roles`` maps :attr:`Agent.role` names to roles (merged over the defaults);
    ``requester_actions`` what requesters may do on tickets they see;
    ``requesters_see_organization`` lets requesters see their organization's tickets.
    """

    roles: Mapping[str, Role] = field(
        factory=lambda: dict(_DEFAULT_ROLES), converter=_to_roles, hash=False
    )
    requester_actions: frozenset[str] = field(default=REQUESTER_ACTIONS, converter=_to_actions)
    requesters_see_organization: bool = field(default=False, validator=_bool)

    def role_of(self, agent: Agent) -> Role:
        """The role of an agent (ConfigError when its role name is unknown)."""
        require(agent, Agent, "an Agent", field="agent")
        role = self.roles.get(agent.role)
        if role is None:
            raise ConfigError(
                f"agent {agent.id!r} has unknown role {agent.role!r} "
                f"(known: {', '.join(sorted(self.roles))})",
                path="agents.role",
            )
        return role

    def decide(
        self,
        *,
        actor: Actor,
        ticket: Ticket,
        action: str,
        agent: Agent | None = None,
        requester: Requester | None = None,
        teams: Sequence[Team] = (),
    ) -> Decision:
        """May ``actor`` do ``action`` on ``ticket``? ``agent`` is the acting agent's
        record (required for agents), ``requester`` the acting requester's record (for the
        organization rule), ``teams`` the desk's teams (for team leads' contacts)."""
        if not isinstance(actor, Actor):
            raise ValidationError(f"expected an Actor, got {type(actor).__name__}", field="actor")
        if not isinstance(ticket, Ticket):
            raise ValidationError(
                f"expected a Ticket, got {type(ticket).__name__}", field="ticket"
            )
        if agent is not None and not isinstance(agent, Agent):
            raise ValidationError(f"expected an Agent, got {type(agent).__name__}", field="agent")
        if requester is not None and not isinstance(requester, Requester):
            raise ValidationError(
                f"expected a Requester, got {type(requester).__name__}", field="requester"
            )
        if not isinstance(action, str):
            raise ValidationError(f"action is text, got {type(action).__name__}", field="action")
        _check_teams(teams)
        if action not in ACTIONS:
            return Decision(allowed=False, reason=f"{action!r} is not a known action")
        if actor.kind is ActorKind.SYSTEM:
            return Decision(allowed=True, reason="automation acts on every ticket")
        if actor.kind is ActorKind.REQUESTER:
            return self._requester(actor, ticket, action, requester)
        if agent is None or agent.id != actor.id:
            return Decision(allowed=False, reason=f"agent {actor.id!r} is not known")
        role = self.role_of(agent)
        if not agent.active:
            return Decision(allowed=False, reason=f"agent {agent.id!r} is inactive", role=role)
        if role is Role.ADMIN:
            return Decision(allowed=True, reason="admins may do everything", role=role)
        if action in ADMIN_ACTIONS:
            return Decision(allowed=False, reason=f"only admins may {action}", role=role)
        why = self._agent_relation(agent, ticket, teams)
        if why is None:
            return Decision(
                allowed=False,
                reason=f"ticket {ticket.id!r} is neither in a team of {agent.id!r} "
                "nor assigned to or owned by them",
                role=role,
            )
        return Decision(allowed=True, reason=why, role=role)

    def _requester(
        self, actor: Actor, ticket: Ticket, action: str, requester: Requester | None
    ) -> Decision:
        if ticket.anonymised or ticket.requester == ANONYMOUS_REQUESTER:
            return Decision(
                allowed=False,
                reason=f"ticket {ticket.id!r} was anonymised: it belongs to no requester",
                role=Role.REQUESTER,
            )
        own = ticket.requester == actor.id
        organization = (
            self.requesters_see_organization
            and requester is not None
            and requester.id == actor.id
            and shared_organization(requester.organization) is not None
            and requester.organization == ticket.organization
        )
        if not own and not organization:
            return Decision(
                allowed=False,
                reason=f"ticket {ticket.id!r} belongs to another requester",
                role=Role.REQUESTER,
            )
        if action not in self.requester_actions or action in ADMIN_ACTIONS:
            return Decision(
                allowed=False,
                reason=f"requesters may not {_phrase(action)} tickets",
                role=Role.REQUESTER,
            )
        if not own and action != "view":
            return Decision(
                allowed=False,
                reason=(
                    f"requesters may only view their organization's tickets, not "
                    f"{_phrase(action)} them"
                ),
                role=Role.REQUESTER,
            )
        why = "their own ticket" if own else "a ticket of their organization"
        return Decision(allowed=True, reason=why, role=Role.REQUESTER)

    def agent_teams(self, agent: Agent, teams: Sequence[Team]) -> tuple[str, ...]:
        """The teams whose tickets ``agent`` works, besides unrouted tickets and those
        assigned to or owned by them: their own teams, and for a team lead the teams whose
        escalation contact they are (``teams`` are the desk's)."""
        require(agent, Agent, "an Agent", field="agent")
        _check_teams(teams)
        own = tuple(agent.teams)
        if self.role_of(agent) is not Role.TEAM_LEAD:
            return own
        led = tuple(t.id for t in teams if agent.id in t.contacts and t.id not in own)
        return own + led

    def _agent_relation(self, agent: Agent, ticket: Ticket, teams: Sequence[Team]) -> str | None:
        if ticket.assignee == agent.id:
            return "assigned to them"
        if ticket.owner == agent.id:
            return "owned by them"
        if ticket.team is None:
            return "not routed to any team yet"
        if ticket.team in agent.teams:
            return f"in their team {ticket.team!r}"
        if ticket.team in self.agent_teams(agent, teams):
            return f"they lead team {ticket.team!r}"
        return None

    def check(
        self,
        *,
        actor: Actor,
        ticket: Ticket,
        action: str,
        agent: Agent | None = None,
        requester: Requester | None = None,
        teams: Sequence[Team] = (),
    ) -> Decision:
        """Like :meth:`decide`, but raise AccessDenied (naming the identity, ticket and
        action) when refused."""
        decision = self.decide(
            actor=actor,
            ticket=ticket,
            action=action,
            agent=agent,
            requester=requester,
            teams=teams,
        )
        if not decision.allowed:
            raise AccessDenied(
                f"{actor} may not {_phrase(action)} ticket {ticket.id!r}: {decision.reason}",
                identity=str(actor),
                ticket_id=ticket.id,
                action=action,
            )
        return decision

    def to_dict(self) -> dict[str, Any]:
        """The non-default parts as a plain document."""
        doc: dict[str, Any] = {}
        extra = {k: r.value for k, r in self.roles.items() if _DEFAULT_ROLES.get(k) is not r}
        if extra:
            doc["roles"] = extra
        if self.requester_actions != REQUESTER_ACTIONS:
            doc["requester_actions"] = sorted(self.requester_actions)
        if self.requesters_see_organization:
            doc["requesters_see_organization"] = True
        return doc


def visible_events(
    events: Iterable[Event],
    *,
    role: Role | None,
    hidden_fields: Iterable[str] = (),
    colleague: bool = False,
    hidden_tickets: Iterable[str] = (),
) -> list[Event]:
    """The events ``role`` may see: internal notes and the events marked
    ``agents_only`` (the known error of a problem) never leave the agent side. ``role``
    is a :class:`Role`, its name, or None (the system: everything).

    ``hidden_fields`` names custom fields whose answers are left out of the events that
    carry answers: the opening's ``fields`` and the ``changes.fields`` of a routing or an
    edit (None when no answer is left; the event itself stays). A requester reading a
    colleague's ticket gets its history without the answers to questions marked
    ``personal``.

    ``colleague`` (true for a requester reading another person's ticket, their
    organization's) leaves out what is the ticket's requester's own business: the ids
    of their earlier tickets the opening lists (``history`` empty) and the comment of
    their rating (``comment`` empty; the score stays).

    ``hidden_tickets`` are the ids of the tickets the reader may not view: no event
    names them. The events naming another ticket (a ``Linked`` to it, a
    ``LinkedProblemSolved`` of that problem, a ``LinkedTicketPurged``: those whose class
    sets :attr:`~helpdesk_core.model.Event.names_ticket`) are left out, and the opening's
    ``history`` keeps only the other earlier tickets.

    The events given are not changed: those that lose anything are copies."""
    if not isinstance(colleague, bool):
        raise ValidationError(
            f"colleague is true or false, got {type(colleague).__name__}", field="colleague"
        )
    if role is not None:
        role = Role.parse(role)
    if isinstance(events, str | bytes | Mapping) or not isinstance(events, Iterable):
        raise ValidationError(
            f"events is a list of events, got {type(events).__name__}", field="events"
        )
    hidden = field_names(hidden_fields, field="hidden_fields")
    unseen = _ticket_ids(hidden_tickets)
    items = list(events)
    for index, event in enumerate(items):
        if not isinstance(event, Event):
            raise ValidationError(
                f"expected an Event, got {type(event).__name__}", field=f"events[{index}]"
            )
    if role is Role.REQUESTER:
        items = [
            e
            for e in items
            if not (e.agents_only or (isinstance(e, CommentAdded) and not e.public))
        ]
    if hidden:
        items = [_without_answers(e, hidden) for e in items]
    if colleague:
        items = [_without_requesters_own(e) for e in items]
    if unseen:
        items = [_without_tickets(e, unseen) for e in items if not _names_any(e, unseen)]
    return items


def _ticket_ids(value: object) -> frozenset[str]:
    """``hidden_tickets`` as a set of ticket ids (one id alone is refused: it would be
    read as its characters)."""
    return ticket_id_set(value, field="hidden_tickets")


def _names_any(event: Event, tickets: frozenset[str]) -> bool:
    """Whether ``event`` names one of ``tickets`` (see ``Event.names_ticket``)."""
    name = event.names_ticket
    return name is not None and getattr(event, name) in tickets


def _without_tickets(event: Event, tickets: frozenset[str]) -> Event:
    """``event`` without the ids of ``tickets`` among the earlier tickets an opening
    lists (the event itself when it lists none of them)."""
    if isinstance(event, TicketOpened) and not tickets.isdisjoint(event.history):
        return evolve(event, history=tuple(i for i in event.history if i not in tickets))
    return event


def _without_requesters_own(event: Event) -> Event:
    """``event`` as a colleague of the ticket's requester reads it: without the ids of
    the requester's earlier tickets an opening lists and without a rating's comment
    (the event itself when it carries neither)."""
    if isinstance(event, TicketOpened) and event.history:
        return evolve(event, history=())
    if isinstance(event, Rated) and event.comment:
        return evolve(event, comment="")
    return event


def _without_answers(event: Event, hidden: frozenset[str]) -> Event:
    """``event`` without the answers to the custom fields ``hidden`` names (the event
    itself when it carries none of them)."""
    if isinstance(event, TicketOpened):
        if hidden.isdisjoint(event.fields):
            return event
        return evolve(event, fields={k: v for k, v in event.fields.items() if k not in hidden})
    if isinstance(event, TicketRouted | TicketUpdated):
        fields = event.changes.fields
        if fields is None or hidden.isdisjoint(fields):
            return event
        kept = {k: v for k, v in fields.items() if k not in hidden}
        return evolve(event, changes=evolve(event.changes, fields=kept or None))
    return event


def shared_organization(value: str | None) -> str | None:
    """An organization as the organization rule reads it: a blank one (a form's empty
    field) is none, so the requesters who left it blank share no tickets."""
    return value if value is not None and value.strip() else None


def _check_teams(teams: object) -> None:
    if isinstance(teams, str | bytes | Mapping) or not isinstance(teams, Iterable):
        raise ValidationError(
            f"teams is a list of the desk's teams, got {type(teams).__name__}", field="teams"
        )
    for i, team in enumerate(teams):
        if not isinstance(team, Team):
            raise ValidationError(
                f"expected a Team, got {type(team).__name__}", field=f"teams[{i}]"
            )
