"""Assignment: which agent works a ticket, and why. Pure functions, no store access.

Three strategies (:data:`STRATEGIES`): ``round_robin`` (fair over time; the caller
persists the cursor), ``least_loaded`` (fewest active tickets weighted by priority) and
``skills_based`` (agents with every required skill; lowest qualifying tier first, then
least loaded). Only agents who are active, not away, on shift and under capacity are
eligible; ties break by agent id, so runs are reproducible.
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

from attrs import field, frozen

from helpdesk_core._time import ensure_aware
from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import (
    Actor,
    Agent,
    Assigned,
    Priority,
    QueuedForAssignment,
    Ticket,
)
from helpdesk_core.model import _validate as v
from helpdesk_core.routing.fields import OpenHours

__all__ = [
    "DEFAULT_PRIORITY_WEIGHTS",
    "STRATEGIES",
    "AgentLoad",
    "AssignSpec",
    "AssignmentDecision",
    "agent_loads",
    "assign",
    "queue_order",
]

#: The assignment strategies.
STRATEGIES = ("round_robin", "least_loaded", "skills_based")

#: How much one active ticket of each priority weighs in an agent's load.
DEFAULT_PRIORITY_WEIGHTS: Mapping[Priority, float] = MappingProxyType(
    {Priority.CRITICAL: 4.0, Priority.HIGH: 2.0, Priority.MEDIUM: 1.0, Priority.LOW: 1.0}
)


def _strategy(instance: Any, attribute: Any, value: Any) -> None:
    if value not in STRATEGIES:
        raise ConfigError(
            f"unknown assignment strategy {value!r} (use one of {', '.join(STRATEGIES)})",
            path="strategy",
        )


def _skills(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        value = (value,)
    if isinstance(value, bytes | Mapping) or not isinstance(value, Iterable):
        raise ConfigError(f"skills must be a list of text, got {value!r:.80}", path="skills")
    items = tuple(value)
    for skill in items:
        if not isinstance(skill, str) or not skill.strip():
            raise ConfigError(f"invalid skill {skill!r}", path="skills")
    return frozenset(items)


@frozen(kw_only=True)
class AssignSpec:
    """How a routing rule asks for the ticket to be assigned.

    ``skills`` are required of the agent (whatever the strategy); ``team`` limits the
    candidates to that team's members (None: the ticket's team, if any). A ``Helpdesk``
    routes a ticket whose rule asks for a team to that team, and a ticket that has to wait
    keeps the strategy and skills for every later attempt (``Ticket.queued_strategy``,
    ``Ticket.queued_skills``).
    """

    strategy: str = field(default="round_robin", validator=_strategy)
    skills: frozenset[str] = field(factory=frozenset, converter=_skills)
    team: str | None = field(default=None, validator=v.optional_identifier)

    @classmethod
    def from_dict(cls, doc: Any, *, path: str = "assign") -> AssignSpec:
        """From ``{"strategy": ..., "skills": [...], "team": ...}`` or a strategy name."""
        if isinstance(doc, str):
            doc = {"strategy": doc}
        if not isinstance(doc, Mapping):
            raise ConfigError(
                f"expected a strategy name or a mapping, got {type(doc).__name__}", path=path
            )
        for key in doc:
            if key not in ("strategy", "skills", "team"):
                raise ConfigError(
                    f"unknown key {key!r} (use strategy, skills, team)", path=f"{path}.{key}"
                )
        try:
            return cls(**doc)
        except ValidationError as exc:
            raise ConfigError(exc.message, path=f"{path}.{exc.field or ''}".rstrip(".")) from exc

    def to_dict(self) -> dict[str, Any]:
        """The plain-dict form (defaults left out, skills sorted)."""
        out: dict[str, Any] = {"strategy": self.strategy}
        if self.skills:
            out["skills"] = sorted(self.skills)
        if self.team is not None:
            out["team"] = self.team
        return out

    def describe(self) -> str:
        """Short text: ``skills_based (skills: network, vpn; team: net)``."""
        extra = []
        if self.skills:
            extra.append("skills: " + ", ".join(sorted(self.skills)))
        if self.team:
            extra.append(f"team: {self.team}")
        return self.strategy + (f" ({'; '.join(extra)})" if extra else "")


def _weighted(instance: Any, attribute: Any, value: Any) -> None:
    """A sum of priority weights: a number >= 0 that a float holds (it is shown as one)."""
    v.finite_number(instance, attribute, value)
    if not 0 <= value <= sys.float_info.max:
        raise ValidationError(
            f"a weighted load is a finite number >= 0, got {value!r:.40}", field="weighted"
        )


@frozen(kw_only=True)
class AgentLoad:
    """An agent's current load: active tickets, and their sum of priority weights."""

    active: int = field(default=0, validator=v.non_negative_int)
    weighted: float = field(default=0.0, validator=_weighted)


def agent_loads(
    tickets: Iterable[Ticket], *, weights: Mapping[Priority, float] | None = None
) -> dict[str, AgentLoad]:
    """Loads per assignee from tickets: active (not solved or closed) ones count."""
    table = DEFAULT_PRIORITY_WEIGHTS if weights is None else _weight_table(weights)
    if isinstance(tickets, str | bytes) or not isinstance(tickets, Iterable):
        raise ValidationError("tickets is a list of tickets", field="tickets")
    counts: dict[str, tuple[int, float]] = {}
    for ticket in tickets:
        if not isinstance(ticket, Ticket):
            raise ValidationError(
                f"expected a Ticket, got {type(ticket).__name__}", field="tickets"
            )
        if ticket.assignee is None or not ticket.is_active:
            continue
        active, weighted = counts.get(ticket.assignee, (0, 0.0))
        counts[ticket.assignee] = (active + 1, weighted + table.get(ticket.priority, 1.0))
    return {a: AgentLoad(active=n, weighted=w) for a, (n, w) in counts.items()}


@frozen(kw_only=True)
class AssignmentDecision:
    """The outcome of :func:`assign`.

    ``agent`` is None when nobody was eligible (the ticket waits in its team queue);
    ``eligible`` lists the eligible agents in the strategy's preference order;
    ``ineligible`` maps every other candidate to the reason; ``cursor`` is the round-robin
    cursor to persist (unchanged by the other strategies): an opaque whole number that
    names the agent chosen and their place among the candidates.
    """

    agent: str | None
    strategy: str
    eligible: tuple[str, ...]
    ineligible: Mapping[str, str] = field(hash=False)
    cursor: int
    team: str | None
    explanation: str

    def event(
        self, ticket: Ticket, *, at: datetime, by: Actor | None = None
    ) -> Assigned | QueuedForAssignment:
        """``Assigned`` to the chosen agent, or ``QueuedForAssignment`` when nobody was."""
        v.require(ticket, Ticket, "a Ticket", field="ticket")
        actor = by or Actor.system("routing")
        if self.agent is None:
            return QueuedForAssignment(
                ticket_id=ticket.id, at=at, by=actor, team=self.team, reason=self.explanation
            )
        return Assigned(
            ticket_id=ticket.id,
            at=at,
            by=actor,
            assignee=self.agent,
            previous=ticket.assignee,
            strategy=self.strategy,
            explanation=self.explanation,
        )


def _why_not(
    agent: Agent,
    *,
    team: str | None,
    skills: frozenset[str],
    load: AgentLoad,
    now: datetime,
    calendars: Mapping[str, OpenHours] | None,
) -> str | None:
    if not agent.active:
        return "inactive"
    if team is not None and team not in agent.teams:
        return f"not in team {team}"
    if agent.away:
        return "away"
    if agent.calendar is not None:
        calendar = None if calendars is None else calendars.get(agent.calendar)
        if calendar is not None and not callable(getattr(calendar, "is_open", None)):
            raise ValidationError(
                f"calendars map names to calendars, got {type(calendar).__name__} under "
                f"{agent.calendar!r}",
                field=f"calendars.{agent.calendar}",
            )
        if calendar is None:
            raise ValidationError(
                f"agent {agent.id!r} works calendar {agent.calendar!r}, which is not among "
                "the calendars given",
                field=f"agents.{agent.id}.calendar",
            )
        if not calendar.is_open(now):
            return "off shift"
    if load.active >= agent.capacity:
        return f"at capacity {load.active}/{agent.capacity}"
    missing = skills - agent.skills
    if missing:
        return "missing skills " + ", ".join(sorted(missing))
    return None


def assign(
    ticket: Ticket,
    *,
    candidates: Sequence[Agent],
    spec: AssignSpec,
    loads: Mapping[str, AgentLoad],
    now: datetime,
    calendars: Mapping[str, OpenHours] | None = None,
    cursor: int = 0,
    tier_order: Sequence[str] = (),
    weights: Mapping[Priority, float] | None = None,
) -> AssignmentDecision:
    """Choose an agent for ``ticket`` among ``candidates`` following ``spec``.

    ``loads`` maps agent ids to their current load (missing: no load; build them with
    :func:`agent_loads`); ``now`` decides who is on shift by ``calendars`` (agents without
    a calendar are always on shift); ``cursor`` is the round-robin cursor persisted by
    the caller (per team; 0 to start, then the last decision's); ``tier_order`` lists
    tier ids lowest first for ``skills_based``; ``weights`` are the priority weights the
    loads were computed with (validated and named in the explanation; default
    :data:`DEFAULT_PRIORITY_WEIGHTS`).
    """
    candidates = _check_assign_inputs(ticket, candidates, spec, loads, calendars, tier_order)
    ensure_aware(now, field="now")
    table = _check_weights(DEFAULT_PRIORITY_WEIGHTS if weights is None else weights)
    return decide_assignment(
        ticket,
        agents=sorted_candidates(candidates),
        spec=spec,
        loads=loads,
        now=now,
        calendars=calendars,
        cursor=cursor,
        tier_order=tier_order,
        weights_text=table,
    )


def sorted_candidates(candidates: Iterable[Agent]) -> list[Agent]:
    """Agents as :func:`decide_assignment` takes them: one per id, in id order."""
    return sorted({a.id: a for a in candidates}.values(), key=lambda a: a.id)


def weights_text(weights: Mapping[Priority, float]) -> str:
    """Validated priority weights as the explanation of :func:`assign` names them."""
    return _check_weights(weights)


_EMPTY_LOAD = AgentLoad()


def decide_assignment(
    ticket: Ticket,
    *,
    agents: Sequence[Agent],
    spec: AssignSpec,
    loads: Mapping[str, AgentLoad],
    now: datetime,
    calendars: Mapping[str, OpenHours] | None,
    cursor: int,
    tier_order: Sequence[str],
    weights_text: str,
) -> AssignmentDecision:
    """:func:`assign` for arguments that are known to be valid (a desk's own: its ticket,
    configured agents one per id in id order (:func:`sorted_candidates`), loads it built,
    an aware ``now``, its calendars and tiers, and its weights as :func:`weights_text`
    shows them): the same decision, without checking them again. The cursor, which a
    store hands back, is checked."""
    if isinstance(cursor, bool) or not isinstance(cursor, int) or cursor < 0:
        raise ValidationError(f"cursor must be a whole number >= 0, got {cursor!r}", field="cursor")
    table = weights_text
    team = spec.team or ticket.team
    empty = _EMPTY_LOAD
    eligible: list[Agent] = []
    ineligible: dict[str, str] = {}
    for agent in agents:
        reason = _why_not(
            agent,
            team=team,
            skills=spec.skills,
            load=loads.get(agent.id, empty),
            now=now,
            calendars=calendars,
        )
        if reason is None:
            eligible.append(agent)
        else:
            ineligible[agent.id] = reason

    new_cursor = cursor
    if spec.strategy == "round_robin":
        ordered, new_cursor, how = _round_robin(agents, eligible, cursor)
    elif spec.strategy == "least_loaded":
        ordered = sorted(eligible, key=lambda a: _load_key(a, loads, empty))
        how = f"least loaded (active tickets weighted {table}, then count, then id)"
    else:
        rank = {tier: i for i, tier in enumerate(tier_order)}
        ordered = sorted(
            eligible,
            key=lambda a: (rank.get(a.tier or "", len(rank)), *_load_key(a, loads, empty)),
        )
        how = f"skills based (lowest qualifying tier, then least loaded {table}, then id)"

    chosen = ordered[0].id if ordered else None
    explanation = _explain(chosen, spec, team, how, ordered, ineligible, loads, empty)
    return AssignmentDecision(
        agent=chosen,
        strategy=spec.strategy,
        eligible=tuple(a.id for a in ordered),
        ineligible=MappingProxyType(ineligible),
        cursor=new_cursor,
        team=team,
        explanation=explanation,
    )


def _check_assign_inputs(
    ticket: object,
    candidates: object,
    spec: object,
    loads: object,
    calendars: object,
    tier_order: object,
) -> tuple[Agent, ...]:
    """The arguments of :func:`assign` (ValidationError naming the wrong one); returns
    the candidates as a tuple (an iterator is read once)."""
    v.require(ticket, Ticket, "a Ticket", field="ticket")
    v.require(spec, AssignSpec, "an AssignSpec", field="spec")
    agents = v.as_tuple(candidates, field="candidates", what="a list of agents")
    for index, agent in enumerate(agents):
        v.require(agent, Agent, "an Agent", field=f"candidates[{index}]")
    if not isinstance(loads, Mapping):
        raise ValidationError("loads map agent ids to AgentLoad values", field="loads")
    for agent_id, load in loads.items():
        v.require(load, AgentLoad, "an AgentLoad", field=f"loads[{agent_id!r}]")
    if calendars is not None and not isinstance(calendars, Mapping):
        raise ValidationError("calendars map names to calendars", field="calendars")
    if (
        isinstance(tier_order, str)
        or not isinstance(tier_order, Sequence)
        or not all(isinstance(tier, str) for tier in tier_order)
    ):
        raise ValidationError("tier_order is a list of tier ids", field="tier_order")
    return agents


_WEIGHTS_TEXT: dict[tuple[tuple[Any, Any], ...], str] = {}


def _check_weights(weights: Mapping[Priority, float]) -> str:
    """Validate priority weights; return them as short text (``critical 4, high 2 ...``).
    A desk passes the same weights on every assignment: each distinct set is checked once."""
    if not isinstance(weights, Mapping):
        raise ValidationError("weights map priorities to numbers", field="weights")
    try:
        key = tuple(weights.items())
        known = _WEIGHTS_TEXT.get(key)
    except TypeError:  # unhashable keys or values: checked below, never remembered
        key, known = (), None
    if known is not None and all(type(value) in (int, float) for _, value in key):
        return known
    text = _weights_text(weights)
    if key:
        if len(_WEIGHTS_TEXT) >= 256:
            _WEIGHTS_TEXT.clear()
        _WEIGHTS_TEXT[key] = text
    return text


def _weight_table(weights: Mapping[Priority, float]) -> dict[Priority, float]:
    """The weight of every priority: those given (any spelling :meth:`Priority.parse`
    takes), the defaults for the others."""
    if not isinstance(weights, Mapping):
        raise ValidationError("weights map priorities to numbers", field="weights")
    table = dict(DEFAULT_PRIORITY_WEIGHTS)
    for key, value in weights.items():
        priority = Priority.parse(key, field="weights")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise ValidationError(
                f"weight of {priority.value} must be a finite number >= 0, got {value!r}",
                field=f"weights.{priority.value}",
            )
        table[priority] = float(value)
    return table


def _weights_text(weights: Mapping[Priority, float]) -> str:
    return ", ".join(f"{p.value} {w:g}" for p, w in _weight_table(weights).items())


def _load_key(agent: Agent, loads: Mapping[str, AgentLoad], empty: AgentLoad) -> tuple[Any, ...]:
    load = loads.get(agent.id, empty)
    return (load.weighted, load.active, agent.id)


#: A round-robin cursor packs the last chosen agent: ``(fingerprint << 20) | position``,
#: the fingerprint a 40-bit digest of the agent's id (never 0), the position one past the
#: agent's place in the id-sorted candidates. A cursor below ``1 << 20`` is a bare
#: position (as the cursors kept before the fingerprint was added).
_POSITION_BITS = 20
_POSITION_MASK = (1 << _POSITION_BITS) - 1
_FINGERPRINT_SPAN = (1 << 40) - 1


def _fingerprint(agent_id: str) -> int:
    digest = hashlib.blake2b(agent_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % _FINGERPRINT_SPAN + 1


def _round_robin(
    agents: Sequence[Agent], eligible: list[Agent], cursor: int
) -> tuple[list[Agent], int, str]:
    """The next eligible agent after the last one chosen, in id order among the
    candidates (wrapping round), and the new cursor naming the chosen agent.

    The cursor names the agent it was left at, not only a place in the list, so a roster
    change does not shift the turn: an agent added before the last chosen one waits for
    their turn in id order instead of handing the last chosen agent a second ticket in a
    row. When the last chosen agent is no longer a candidate, the turn goes on from the
    place they held (their successor, if nobody else joined or left before them)."""
    fingerprint, position = cursor >> _POSITION_BITS, cursor & _POSITION_MASK
    n = len(agents)
    start = cursor % n if n else 0
    how = f"round robin (next eligible agent from position {start})"
    if fingerprint:
        last = next((i for i, a in enumerate(agents) if _fingerprint(a.id) == fingerprint), None)
        if last is not None:
            start = (last + 1) % n
            how = f"round robin (next eligible agent after {agents[last].id})"
        else:
            start = (position - 1) % n if n else 0
            how = (
                f"round robin (next eligible agent from position {start}, where the last "
                "one chosen, no longer a candidate, stood)"
            )
    if not agents or not eligible:
        return [], cursor, how
    ok = {a.id for a in eligible}
    ordered: list[Agent] = []
    new_cursor = cursor
    for step in range(n):
        index = (start + step) % n
        agent = agents[index]
        if agent.id in ok:
            if not ordered:
                position = min(index + 1, _POSITION_MASK)
                new_cursor = (_fingerprint(agent.id) << _POSITION_BITS) | position
            ordered.append(agent)
    return ordered, new_cursor, how


def _explain(
    chosen: str | None,
    spec: AssignSpec,
    team: str | None,
    how: str,
    ordered: list[Agent],
    ineligible: Mapping[str, str],
    loads: Mapping[str, AgentLoad],
    empty: AgentLoad,
) -> str:
    scope = f" in team {team}" if team else ""
    skipped = _group_reasons(ineligible)
    if chosen is None:
        why = skipped or "no candidates"
        return f"nobody eligible{scope} ({why}); the ticket waits in the queue"
    load = loads.get(chosen, empty)
    text = (
        f"assigned {chosen} by {how}{scope}; {len(ordered)} eligible; "
        f"{chosen} holds {load.active} active (weighted {load.weighted:g})"
    )
    if spec.skills:
        text += f"; required skills {', '.join(sorted(spec.skills))}"
    if skipped:
        text += f"; not eligible: {skipped}"
    return text


def _group_reasons(ineligible: Mapping[str, str]) -> str:
    groups: dict[str, list[str]] = {}
    for agent, reason in ineligible.items():
        groups.setdefault(reason, []).append(agent)
    parts = []
    for reason, agents in groups.items():
        who = ", ".join(agents) if len(agents) <= 5 else f"{len(agents)} agents"
        parts.append(f"{reason}: {who}")
    return "; ".join(parts)


def queue_order(
    tickets: Iterable[Ticket], order: Literal["oldest", "most_urgent"] = "oldest"
) -> list[Ticket]:
    """Waiting tickets in the order an agent who frees up should take them.

    ``oldest``: by ``queued_at`` (``created_at`` when never queued), then number.
    ``most_urgent``: by priority (critical first), then as ``oldest``.
    """
    if isinstance(tickets, str | bytes | Mapping) or not isinstance(tickets, Iterable):
        raise ValidationError(
            f"tickets is a list of Ticket, got {type(tickets).__name__}", field="tickets"
        )
    items = list(tickets)
    for item in items:
        if not isinstance(item, Ticket):
            raise ValidationError(
                f"expected a Ticket, got {type(item).__name__}", field="tickets"
            )
    if order == "oldest":
        return sorted(items, key=lambda t: (t.queued_at or t.created_at, t.number))
    if order == "most_urgent":
        return sorted(
            items, key=lambda t: (t.priority.rank, t.queued_at or t.created_at, t.number)
        )
    raise ValidationError(
        f"unknown queue order {order!r} (use 'oldest' or 'most_urgent')", field="order"
    )
