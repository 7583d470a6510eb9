"""Staffing a scenario: head counts per tier from Erlang C, checked by simulating the desk.

:func:`suggest_staffing` reads a :class:`~helpdesk_core.simulation.Scenario` the way
Erlang C sees a desk: tickets arrive at the first tier at the scenario's busiest hourly
rate (or its mean rate); each tier works a ticket once, once more when it asked the
requester first (``pending``, at most once per ticket and tier), and passes it on with
probability ``1 - solve``; solved tickets come back once to the tier that solved them with
probability ``reopen``, and go on from there as the simulator takes them: asked again
only by a tier that has not asked yet, escalated again with probability ``1 - solve``.
The handle time of a tier is its work-time mean over the category mix. A ticket waits
for the agents of its team only, so a tier whose work is shared out over its teams is
sized team by team, each team a pool of its own sized for the work it gets: the first
tier's teams as the desk's routing rules share out the arrivals (the tickets the
simulator opens, routed as the desk routes them), a higher tier's as the tier below
escalates (by category with ``escalate_to``, else every ticket to the tier's default
team). A tier of one team gets the smallest pool of agents that answers
``service_level`` of its work within ``target``.

Erlang C assumes one pool of agents, all on shift, facing a steady Poisson stream; a
desk has shifts, regional teams, routing rules and bursts. :func:`check_staffing` runs
the scenario with the suggested head counts through the real desk and measures, per
tier and team, the share of tickets an agent started working on within ``target``;
:func:`refine_staffing` adds agents to the tiers that miss it (in the team that misses it
most) until the simulation meets it.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from attrs import field, frozen

from helpdesk_core._numbers import real_number, whole_number
from helpdesk_core._time import to_timedelta
from helpdesk_core.config import DeskConfig
from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import (
    SYSTEM,
    Agent,
    Escalated,
    Impact,
    Requester,
    Ticket,
    TicketOpened,
    TicketRouted,
    Urgency,
    replay,
)
from helpdesk_core.service.desk import route_opening
from helpdesk_core.simulation import erlang
from helpdesk_core.simulation.engine import (
    Requesters,
    _answer,
    _draw,
    arrival_mixes,
    intake_answers,
    simulate,
)
from helpdesk_core.simulation.result import SimulationResult, WorkSession
from helpdesk_core.simulation.scenario import Scenario, TierBehaviour, apply_staffing
from helpdesk_core.simulation.sweep import _restaffable

__all__ = [
    "RATES",
    "ROUTING_SAMPLE",
    "StaffingCheck",
    "StaffingPlan",
    "TeamStaffing",
    "TierStaffing",
    "check_staffing",
    "refine_staffing",
    "suggest_staffing",
    "tier_waits",
]

#: Which arrival rate a plan is sized for: the busiest hour of the week, or the mean.
RATES = ("peak", "mean")


@frozen(kw_only=True)
class TeamStaffing:
    """Erlang C's answer for one team of a tier whose teams take work apart: the work the
    team gets per hour (work sessions, as :class:`TierStaffing` counts them), its mean
    handle time, the ``traffic`` in Erlangs, the ``agents`` the team needs on shift as a
    pool of its own, and the service level they give."""

    team: str
    arrivals_per_hour: float
    aht: timedelta
    traffic: float
    agents: int
    predicted_service_level: float


@frozen(kw_only=True)
class TierStaffing:
    """Erlang C's answer for one tier: the work reaching it per hour (``arrivals_per_hour``
    counts work sessions: first visits, answers to questions and reopenings), its mean
    handle time, the offered ``traffic`` in Erlangs, the ``agents`` needed on shift, the
    service level they give, and how they are spread over the tier's ``teams``.

    ``per_team`` holds the figures of each team when the tier is sized team by team (the
    first tier of several teams, whose work routing shares out, or a tier the tier below
    sends its work to by category with ``escalate_to``): then
    ``agents`` is the sum of the teams' and the service level is that of the tier's work
    over the teams. It is empty when the tier is sized as one pool."""

    tier: str
    arrivals_per_hour: float
    aht: timedelta
    traffic: float
    agents: int
    predicted_service_level: float
    teams: Mapping[str, int] = field(hash=False)
    per_team: Mapping[str, TeamStaffing] = field(factory=dict, hash=False)


@frozen(kw_only=True)
class StaffingPlan:
    """Head counts for every tier of a scenario, sized for ``target`` and
    ``service_level`` at the ``rate`` (``"peak"`` or ``"mean"``) of its arrivals."""

    target: timedelta
    service_level: float
    rate: str
    tiers: tuple[TierStaffing, ...]
    #: The tiers of each team's active agents when the plan was made (None: an agent of
    #: any tier), which decide how :attr:`staffing` writes the team's count.
    team_tiers: Mapping[str, frozenset[str | None]] = field(factory=dict, hash=False)

    @property
    def staffing(self) -> dict[str, int | dict[str, int]]:
        """Agents per team: the scenario's ``[staffing]`` table for this plan. A team of
        agents of one tier, or of agents without a tier (one pool: the counts of the tiers
        drawing on it add up), gets a count; any other team a table of agents per tier
        (``{"L1": 6, "L2": 2}``)."""
        per_team: dict[str, dict[str, int]] = {}
        for tier in self.tiers:
            for team, count in tier.teams.items():
                per_team.setdefault(team, {})[tier.tier] = count
        out: dict[str, int | dict[str, int]] = {}
        for team, counts in per_team.items():
            present = self.team_tiers.get(team, frozenset())
            if present == {None}:
                out[team] = sum(counts.values())
            elif len(counts) == 1 and present <= set(counts):
                out[team] = next(iter(counts.values()))
            else:
                out[team] = counts
        return out

    def apply(self, scenario: Scenario) -> Scenario:
        """``scenario`` with its desk staffed by this plan: each team of the plan gets
        exactly its count of agents, cloned from its active agents in turn, in their
        order (as ``[staffing]`` does, so the team keeps its mix of shifts); everything
        else is kept.

        The plan's counts join the scenario's own ``[staffing]`` and staff the desk as
        written, as a sweep's run does: the result is the scenario loaded with those
        counts in ``[staffing]``, whatever count the scenario gave a team. A desk
        changed since loading is staffed as a sweep staffs it: as it is now (with the
        agents ``[staffing]`` took off after its own when staffing that again gives
        it); only the plan's teams are staffed anew."""
        if not isinstance(scenario, Scenario):
            raise ValidationError("expected a Scenario", field="scenario")
        document = scenario.to_dict()
        staffing = {**dict(document.get("staffing") or {}), **self.staffing}
        current = scenario.desk.to_dict()
        source = _restaffable(scenario, {**document, "desk": current}, None)["desk"]
        # From the desk as written (or with the agents [staffing] took off), the
        # scenario's own counts staff it again; the desk as it is keeps its other teams.
        counts = staffing if source != current else self.staffing
        desk = DeskConfig.from_dict(apply_staffing(source, counts))
        present = {agent.id for agent in desk.agents}
        for index, absence in enumerate(scenario.absences):
            if absence.agent not in present:
                teams = next(
                    (a.teams for a in scenario.desk.agents if a.id == absence.agent), ()
                )
                clones = sorted(
                    a.id for a in desk.agents if a.active and any(t in a.teams for t in teams)
                )
                example = f" ({clones[0]}, whom every plan keeps)" if clones else ""
                raise ConfigError(
                    f"agent {absence.agent!r} is absent in the scenario but the plan replaces "
                    f"the agents of {', '.join(teams) or 'its team'} (with "
                    f"{', '.join(clones) or 'none'}): staff the team in the scenario's "
                    f"[staffing] and name one of the agents that gives it{example}",
                    path=f"absences[{index}].agent",
                )
        document["staffing"] = staffing
        written = scenario.unstaffed_desk
        if written is None and staffing:  # the desk as it was before this plan
            written = scenario.desk.to_dict()
        return attrs.evolve(scenario, desk=desk, document=document, unstaffed_desk=written)


@frozen(kw_only=True)
class StaffingCheck:
    """A plan run through the desk: the simulation, and per tier the share of measured
    tickets an agent started working on within the plan's target (None: no ticket
    reached the tier). ``within_target_by_team`` gives the same share per tier and team
    the tickets went to, and ``tickets_by_team`` how many measured tickets it counts
    (teams no measured ticket reached left out)."""

    plan: StaffingPlan
    result: SimulationResult
    within_target: Mapping[str, float | None] = field(hash=False)
    within_target_by_team: Mapping[str, Mapping[str, float]] = field(factory=dict, hash=False)
    tickets_by_team: Mapping[str, Mapping[str, int]] = field(factory=dict, hash=False)


def suggest_staffing(
    scenario: Scenario,
    *,
    target: Any,
    service_level: float = 0.8,
    rate: str = "peak",
) -> StaffingPlan:
    """Agents per tier (and team) that Erlang C says answer ``service_level`` of the work
    within ``target`` (a duration >= 0: ``timedelta``, ``"20m"`` or ISO 8601; 0 asks for
    work started without a wait), at the scenario's busiest hourly arrival rate
    (``rate="peak"``, bursts left out) or its mean rate (``rate="mean"``).

    The first tier of several teams is sized team by team, each team a pool of its own
    for the share of the arrivals the desk's routing puts in it (exact over the
    scenario's mixes when the rules that place a ticket read only what the mixes decide,
    else from a fixed sample of :data:`ROUTING_SAMPLE` simulated tickets), and so is a
    higher tier, each team for the work escalated to it (by category with the tier
    below's ``escalate_to``, else all of it to the default team;
    :attr:`TierStaffing.per_team`); a tier of one team as one pool. A
    :class:`~helpdesk_core.errors.ConfigError`
    names routing or an ``escalate_to`` that sends work to a team without an active
    agent of the tier."""
    if not isinstance(scenario, Scenario):
        raise ValidationError("expected a Scenario", field="scenario")
    wait = to_timedelta(target, field="target")  # refuses a negative duration
    level = real_number(service_level)
    if level is None:
        raise ValidationError("service_level is a fraction such as 0.8", field="service_level")
    service_level = float(level)
    if not 0.0 < service_level < 1.0:
        raise ValidationError(
            f"service_level is a fraction in (0, 1), got {service_level!r}",
            field="service_level",
        )
    if rate not in RATES:
        raise ValidationError(f"rate is one of {', '.join(RATES)}, got {rate!r}", field="rate")
    profile = scenario.arrivals.profile
    shape = max(profile) if rate == "peak" else sum(profile) / len(profile)
    arrivals = scenario.arrivals.rate_per_hour * shape
    mix = _normalised(scenario.arrivals.categories)
    members = _team_agents(scenario)
    counts = _head_counts(scenario, members)
    tiers = scenario.desk.tiers
    # Shares of the arrivals that visit the tier, as the simulator works them:
    reach = 1.0  # before any reopen
    again = 0.0  # after a reopen at a lower tier, escalated here again (not asked here yet)
    out: list[TierStaffing] = []
    for index, tier in enumerate(tiers):
        where = f"tiers.{tier.id}"
        behaviour = scenario.tiers.get(tier.id)
        if behaviour is None:
            raise ValidationError(f"the scenario says nothing of tier {tier.id!r}", field=where)
        present = _of_tier(counts, tier.id)
        staffed = [team for team in tier.teams if present.get(team, 0) > 0]
        if not staffed:
            raise ConfigError(
                f"tier {tier.id!r} has no active agent in any of its teams to staff it from",
                path=f"desk.tiers.{tier.id}",
            )
        top = index == len(tiers) - 1
        solve = 1.0 if top else behaviour.solve
        ask = behaviour.pending
        # Reopened tickets come back to the tier that solved them; the tier asks them only
        # if it did not ask the first time.
        back = reach * solve * scenario.reopen
        sessions = arrivals * (
            (reach + again) * (1.0 + ask) + back * (1.0 + ask * (1.0 - ask))
        )
        seconds = sum(
            weight * behaviour.work_for(category).mean_seconds for category, weight in mix
        )
        aht = timedelta(seconds=seconds)
        if not seconds > 0:
            raise ValidationError(
                f"tier {tier.id!r}: its work times average zero, so Erlang C has no "
                "handle time to size it by: give the tier's work (tiers."
                f"{tier.id}.work) a mean above zero",
                field=where,
            )
        # The teams of a tier take their work apart, each a pool of its own: the first
        # tier's as the desk's routing rules share the arrivals out, a higher tier's as
        # the tier below escalates (by category, else all to the default team). A tier
        # of one team is one pool.
        if index == 0:
            routed = _opened_mix(scenario, present, sessions) if len(tier.teams) > 1 else None
        else:
            routed = _routed_mix(scenario, index, mix)
            if routed is not None:
                _check_routed(scenario, index, routed, staffed, sessions)
        per_team: dict[str, TeamStaffing] = {}
        try:
            if routed is None:
                traffic, agents, predicted = _pool(sessions, aht, wait, service_level)
                teams = _spread(agents, staffed, present)
            else:
                traffic = erlang.traffic_intensity(sessions, aht)
                # (routing may put tickets in a staffed team outside the tier: sized too)
                extra = [t for t in routed if t not in staffed and present.get(t, 0) > 0]
                for team in [*staffed, *extra]:
                    per_team[team] = _team_pool(
                        team, routed.get(team, []), behaviour, sessions, aht, wait,
                        service_level,
                    )
                agents = sum(figures.agents for figures in per_team.values())
                predicted = _weighted_level(per_team.values())
                teams = {team: figures.agents for team, figures in per_team.items()}
        except ValidationError as exc:
            raise ValidationError(
                f"tier {tier.id!r}: {exc.message} ({exc.field})", field=where
            ) from exc
        out.append(
            TierStaffing(
                tier=tier.id,
                arrivals_per_hour=sessions,
                aht=aht,
                traffic=traffic,
                agents=agents,
                predicted_service_level=predicted,
                teams=teams,
                per_team=per_team,
            )
        )
        reach *= 1.0 - solve
        again = (again + back) * (1.0 - solve)
    team_tiers: dict[str, set[str | None]] = {}
    for team, agent in members:
        team_tiers.setdefault(team, set()).add(agent.tier)
    return StaffingPlan(
        target=wait,
        service_level=float(service_level),
        rate=rate,
        tiers=tuple(out),
        team_tiers={team: frozenset(tiers) for team, tiers in team_tiers.items()},
    )


def check_staffing(
    scenario: Scenario,
    plan: StaffingPlan,
    *,
    seed: int = 1,
) -> StaffingCheck:
    """Simulate ``scenario`` staffed by ``plan`` and measure, per tier and per team of the
    tier, the share of tickets an agent started working on within the plan's target of
    their arrival there (see :func:`tier_waits`; tickets opened after the warm-up)."""
    if not isinstance(plan, StaffingPlan):
        raise ValidationError("expected a StaffingPlan", field="plan")
    whole = whole_number(seed)
    if whole is None:
        raise ValidationError("seed must be a whole number", field="seed")
    seed = whole
    staffed = plan.apply(scenario)
    result = simulate(staffed, seed=seed)
    target = plan.target.total_seconds()
    per_tier: dict[str, list[float | None]] = {t.id: [] for t in staffed.desk.tiers}
    per_team: dict[str, dict[str, list[float | None]]] = {}
    for tier, team, waited in _visit_waits(result, staffed):
        per_tier.setdefault(tier, []).append(waited)
        if team is not None:
            per_team.setdefault(tier, {}).setdefault(team, []).append(waited)
    return StaffingCheck(
        plan=plan,
        result=result,
        within_target={tier: _within(waits, target) for tier, waits in per_tier.items()},
        within_target_by_team={
            tier: {
                team: share
                for team, waits in teams.items()
                if (share := _within(waits, target)) is not None
            }
            for tier, teams in per_team.items()
        },
        tickets_by_team={
            tier: {team: len(waits) for team, waits in teams.items() if waits}
            for tier, teams in per_team.items()
        },
    )


def _within(waits: Sequence[float | None], target: float) -> float | None:
    """The share of ``waits`` that ended within ``target`` seconds (None: no waits)."""
    if not waits:
        return None
    return sum(1 for w in waits if w is not None and w <= target) / len(waits)


def refine_staffing(
    scenario: Scenario,
    plan: StaffingPlan,
    *,
    seed: int = 1,
    max_rounds: int = 10,
) -> tuple[StaffingCheck, ...]:
    """Check ``plan`` by simulation and, while some tier misses the plan's service level,
    give each such tier one more agent and check again, at most ``max_rounds`` times. The
    agent goes to the team of the tier that misses the target most in the check: the one
    with the most tickets started late beyond what the service level allows it
    (``tickets x (service_level - share within target)``). Returns every check in order;
    the last one meets the service level in every tier unless the rounds ran out."""
    if not isinstance(scenario, Scenario):
        raise ValidationError("expected a Scenario", field="scenario")
    if not isinstance(plan, StaffingPlan):
        raise ValidationError("expected a StaffingPlan", field="plan")
    rounds = whole_number(max_rounds)
    if rounds is None or rounds < 0:
        raise ValidationError("max_rounds is a whole number >= 0", field="max_rounds")
    max_rounds = rounds
    checks = [check_staffing(scenario, plan, seed=seed)]
    for _ in range(max_rounds):
        check = checks[-1]
        short = {
            tier
            for tier, share in check.within_target.items()
            if share is not None and share < check.plan.service_level
        }
        if not short:
            break
        tiers = tuple(
            _grown(t, check.plan.target, _shortfalls(check, t.tier)) if t.tier in short else t
            for t in check.plan.tiers
        )
        checks.append(check_staffing(scenario, attrs.evolve(check.plan, tiers=tiers), seed=seed))
    return tuple(checks)


def _shortfalls(check: StaffingCheck, tier: str) -> dict[str, float]:
    """Per team of ``tier`` in ``check``, how many of its tickets were started late beyond
    what the plan's service level allows: ``tickets x (service_level - share)``."""
    level = check.plan.service_level
    shares = check.within_target_by_team.get(tier, {})
    tickets = check.tickets_by_team.get(tier, {})
    return {
        team: tickets.get(team, 0) * (level - share) for team, share in shares.items()
    }


def _grown(
    tier: TierStaffing, target: timedelta, shortfalls: Mapping[str, float]
) -> TierStaffing:
    """``tier`` with one agent more, in the team that misses the target most: the largest
    of ``shortfalls`` (see :func:`_shortfalls`; the first such team of the tier on a tie),
    else the team with the lowest predicted service level, else the tier's first team."""
    teams = list(tier.teams)
    if not teams:
        return attrs.evolve(tier, agents=tier.agents + 1)
    measured = [team for team in teams if team in shortfalls]
    if measured:
        team = max(measured, key=lambda t: shortfalls[t])
    elif tier.per_team:
        team = min(tier.per_team.values(), key=lambda t: t.predicted_service_level).team
    else:
        team = teams[0]
    counts = {**tier.teams, team: tier.teams[team] + 1}
    figures = tier.per_team.get(team)
    if figures is None:  # one pool
        agents = tier.agents + 1
        return attrs.evolve(
            tier,
            agents=agents,
            predicted_service_level=_level(tier.traffic, agents, tier.aht, target),
            teams=counts,
        )
    more = figures.agents + 1
    per_team = {
        **tier.per_team,
        team: attrs.evolve(
            figures,
            agents=more,
            predicted_service_level=_level(figures.traffic, more, figures.aht, target),
        ),
    }
    return attrs.evolve(
        tier,
        agents=tier.agents + 1,
        predicted_service_level=_weighted_level(per_team.values()),
        teams=counts,
        per_team=per_team,
    )


def _level(traffic: float, agents: int, aht: timedelta, target: timedelta) -> float:
    """Erlang C's service level of ``agents`` for ``traffic``; 0 when they cannot keep up
    (as many agents as Erlangs or fewer: the queue grows without end)."""
    if agents <= traffic:
        return 0.0
    return erlang.service_level(traffic, agents, aht=aht, target=target)


def tier_waits(result: SimulationResult, scenario: Scenario) -> dict[str, list[float | None]]:
    """Per tier, how long each ticket waited for an agent to start working on it, in
    seconds: from the opening (or the escalation into the tier) to the first work session
    there, counted in the working hours of the agent who started (its calendar; all
    hours without one), the time Erlang C speaks of. None when no agent started before
    the ticket left the tier or the run ended. First visits only: work after a question
    or a reopening is not a wait. Tickets opened during the warm-up are left out."""
    if not all(hasattr(result, name) for name in ("events", "work")):
        # (anything with the events and work sessions of a run will do)
        raise ValidationError(
            f"expected a SimulationResult, got {type(result).__name__}", field="result"
        )
    if not isinstance(scenario, Scenario):
        raise ValidationError("expected a Scenario", field="scenario")
    out: dict[str, list[float | None]] = {t.id: [] for t in scenario.desk.tiers}
    for tier, _, waited in _visit_waits(result, scenario):
        out.setdefault(tier, []).append(waited)
    return out


def _visit_waits(
    result: SimulationResult, scenario: Scenario
) -> list[tuple[str, str | None, float | None]]:
    """Every wait :func:`tier_waits` lists, as (tier, team, seconds): the team the ticket
    waited in (where routing put it at the opening, or the escalation sent it; None when
    the desk gave it none)."""
    desk = scenario.desk
    calendars = {
        a.id: desk.calendars[a.calendar] if a.calendar is not None else None
        for a in desk.agents
    }
    first = desk.tiers[0].id if desk.tiers else None
    visits: dict[str, list[tuple[datetime, str | None, str | None]]] = {}
    for event in result.events:
        if isinstance(event, TicketOpened):
            if event.at >= scenario.measured_from:
                visits[event.ticket_id] = [(event.at, None, None)]
        elif isinstance(event, TicketRouted) and event.ticket_id in visits:
            entered = visits[event.ticket_id]
            if len(entered) == 1 and event.changes.team is not None:
                entered[0] = (entered[0][0], None, event.changes.team)
        elif isinstance(event, Escalated) and event.ticket_id in visits:
            visits[event.ticket_id].append((event.at, event.to_tier, event.team))
    sessions: dict[str, list[WorkSession]] = {}
    for session in result.work:
        if session.ticket_id in visits:
            sessions.setdefault(session.ticket_id, []).append(session)
    out: list[tuple[str, str | None, float | None]] = []
    for ticket_id, entered in visits.items():
        worked = sessions.get(ticket_id, [])
        i = 0
        for k, (since, tier, team) in enumerate(entered):
            until = entered[k + 1][0] if k + 1 < len(entered) else None
            while i < len(worked) and worked[i].start < since:
                i += 1
            picked = (
                worked[i] if i < len(worked) and (until is None or worked[i].start < until)
                else None
            )
            # The opening's tier is where the first agent found it (routing may skip L1).
            where = tier or (picked.tier if picked is not None else first)
            if where is None:
                continue
            if picked is None:
                out.append((where, team, None))
                continue
            calendar = calendars.get(picked.agent)
            waited = (
                picked.start - since if calendar is None else calendar.elapsed(since, picked.start)
            )
            out.append((where, team, waited.total_seconds()))
    return out


def _normalised(weights: Mapping[str, float]) -> list[tuple[str | None, float]]:
    """The category mix as fractions; ``general`` is a ticket without a category, as the
    simulator opens it."""
    total = sum(weights.values())
    if total <= 0:
        return [(None, 1.0)]
    return [
        (None if name == "general" else name, weight / total) for name, weight in weights.items()
    ]


def _head_counts(
    scenario: Scenario, members: Sequence[tuple[str, Agent]]
) -> dict[tuple[str, str], int]:
    """Active agents per (team, tier) who may work that tier (their own, or any tier), of
    the teams' ``members`` (:func:`_team_agents`)."""
    counts: dict[tuple[str, str], int] = {}
    tiers = [t.id for t in scenario.desk.tiers]
    for team, agent in members:
        for tier in tiers if agent.tier is None else (agent.tier,):
            counts[(team, tier)] = counts.get((team, tier), 0) + 1
    return counts


def _team_agents(scenario: Scenario) -> list[tuple[str, Agent]]:
    """(team, agent) for each active agent of each team of the scenario's desk; a team
    with none because the scenario's ``[staffing]`` gave it 0 gets the active agents a
    plan clones for it, those of the desk :meth:`StaffingPlan.apply` staffs (the desk as
    written, whatever count the scenario gave the team)."""
    pairs = [(team, a) for a in scenario.desk.agents if a.active for team in a.teams]
    manned = {team for team, _ in pairs}
    unmanned = {team for tier in scenario.desk.tiers for team in tier.teams} - manned
    if not unmanned or scenario.unstaffed_desk is None:
        return pairs
    current = scenario.desk.to_dict()
    source = _restaffable(scenario, {**scenario.to_dict(), "desk": current}, None)["desk"]
    if source == current:
        return pairs
    written = DeskConfig.from_dict(source)
    return pairs + [
        (team, a) for a in written.agents if a.active for team in a.teams if team in unmanned
    ]


def _of_tier(counts: Mapping[tuple[str, str], int], tier: str) -> dict[str, int]:
    """The head counts of one tier, per team."""
    return {team: n for (team, of), n in counts.items() if of == tier}


def _routed_mix(
    scenario: Scenario, index: int, mix: Sequence[tuple[str | None, float]]
) -> dict[str, list[tuple[str | None, float]]] | None:
    """Per team of the tier at ``index``, the categories of the mix (with their shares)
    the tier below escalates to it: by category when it names teams (``escalate_to``),
    and a category it does not name, or every category when it names none, to the tier's
    default team, as the desk and the simulator escalate. None when the tier is the
    first (routing rules choose its teams), or has one team and the tier below names
    none: it is then one pool."""
    tiers = scenario.desk.tiers
    if index == 0:
        return None
    below = scenario.tiers.get(tiers[index - 1].id)
    if len(tiers[index].teams) < 2 and (below is None or not below.escalate_to):
        return None
    default = tiers[index].teams[0]
    out: dict[str, list[tuple[str | None, float]]] = {}
    for category, share in mix:
        team = (below.escalation_team(category) if below is not None else None) or default
        out.setdefault(team, []).append((category, share))
    return out


#: How many simulated tickets stand for the arrivals when the desk's routing rules read
#: what the scenario's mixes leave to chance (a requester's id, name, e-mail, VIP flag or
#: organization, the ticket number, intake answers, business hours).
ROUTING_SAMPLE = 4000

# Fields of a simulated ticket at its opening that the scenario's mixes (channel,
# category, impact and urgency, the requester's region) decide, or that are the same for
# every ticket.
_MIXED_FIELDS = frozenset(
    {
        "subject", "description", "channel", "category", "type", "priority", "impact",
        "urgency", "tags", "asset", "team", "tier", "status", "status_category", "assignee",
        "owner", "escalation_level", "reopen_count", "lifecycle", "requester.language",
    }
)
# Requester fields that differ between the simulator's requesters beyond their region.
_PERSONAL_FIELDS = frozenset(
    {"requester.id", "requester.name", "requester.email", "requester.vip",
     "requester.organization"}
)


def _mixed(name: str) -> bool:
    """Whether the scenario's mixes decide the routing field ``name`` of a simulated
    ticket at its opening (a requester attribute other than the fixed ones is its
    ``region`` or missing)."""
    if name in _MIXED_FIELDS:
        return True
    return name.startswith("requester.") and name not in _PERSONAL_FIELDS


def _opened_mix(
    scenario: Scenario, present: Mapping[str, int], sessions: float
) -> dict[str, list[tuple[str | None, float]]] | None:
    """Per team the desk's routing puts tickets in at the opening, in the first tier, the
    categories it gets (with their shares of the tickets kept in the first tier); None
    when routing keeps no ticket in the first tier. Work put in a team with no active
    agent of the tier is refused with a ConfigError: nobody could take it."""
    first = scenario.desk.tiers[0]
    kept = {
        team: categories
        for (tier, team), categories in _opening_places(scenario).items()
        if tier == first.id
    }
    total = sum(sum(categories.values()) for categories in kept.values())
    if total <= 0:
        return None
    out: dict[str, list[tuple[str | None, float]]] = {}
    for team, categories in kept.items():
        share = sum(categories.values()) / total
        if sessions > 0 and share > 0 and present.get(team, 0) <= 0:
            default = " (the tier's default team)" if team == first.default_team else ""
            raise ConfigError(
                f"routing puts {100 * share:.1f}% of the tickets opened in tier "
                f"{first.id!r} in team {team!r}{default}, which has no active agent of the "
                "tier to staff it from",
                path="desk.routing",
            )
        out[team] = [(category, weight / total) for category, weight in categories.items()]
    return out


def _opening_places(scenario: Scenario) -> dict[tuple[str, str], dict[str | None, float]]:
    """Per (tier, team) the desk's routing puts a simulated ticket in at its opening
    (:func:`~helpdesk_core.service.desk.route_opening`, as the desk does: no store), per
    category (None: ``general``), the share of the arrivals that goes there.

    Exact when the routing rules read only what the scenario's mixes decide: every
    combination of channel, category, impact, urgency and requester region, with its
    probability. Otherwise :data:`ROUTING_SAMPLE` tickets drawn as the simulator draws
    them (its requesters, intake answers) from a fixed seed, at instants of a week drawn
    from the arrival profile."""
    desk = scenario.desk
    arrivals = scenario.arrivals
    out: dict[tuple[str, str], dict[str | None, float]] = {}

    def put(
        name: str, ticket: Ticket, requester: Requester, at: datetime, weight: float
    ) -> None:
        changes, _, _ = route_opening(desk, ticket, requester, at)
        place = out.setdefault((changes.tier or "", changes.team or ""), {})
        category = None if name == "general" else name  # as the plan's category mix
        place[category] = place.get(category, 0.0) + weight

    if all(_mixed(name) for name in _placing_fields(desk)):
        regions: list[tuple[str | None, float]] = [
            (region, share) for region, share in _fractions(scenario.regions)
        ] or [(None, 1.0)]
        for (channel, p1), (name, p2), (impact, p3), (urgency, p4), (region, p5) in (
            itertools.product(
                _fractions(arrivals.channels),
                _fractions(arrivals.categories),
                _fractions(arrivals.impact),
                _fractions(arrivals.urgency),
                regions,
            )
        ):
            weight = p1 * p2 * p3 * p4 * p5
            if weight <= 0:
                continue
            requester = Requester(
                id="R-00001",
                name="Requester 1",
                email="requester1@example.com",
                organization="org-1",
                attributes={} if region is None else {"region": region},
            )
            ticket = _opening(scenario, requester, name, channel, impact, urgency, None, 1)
            put(name, ticket, requester, scenario.start, weight)
        return out
    rng = random.Random("staffing:routing")
    people = Requesters(scenario, "staffing:routing")
    mixes = arrival_mixes(scenario)

    def pick(name: str) -> str:
        keys, cumulative = mixes[name]
        return keys[_draw(rng, cumulative)]

    zone = ZoneInfo(desk.settings.timezone)  # the arrival profile's zone
    local = scenario.start.astimezone(zone)
    week = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    hours = range(len(arrivals.profile))
    profile = arrivals.profile if sum(arrivals.profile) > 0 else None
    for number in range(1, ROUTING_SAMPLE + 1):
        requester, _ = people.draw(rng)
        name = pick("category")
        answers = intake_answers(desk.categories.get(name), rng)
        channel, impact, urgency = pick("channel"), pick("impact"), pick("urgency")
        hour = rng.choices(hours, weights=profile)[0]
        at = week + timedelta(hours=hour, seconds=rng.uniform(0.0, 3600.0))
        ticket = _opening(scenario, requester, name, channel, impact, urgency, answers, number)
        put(name, ticket, requester, at, 1.0 / ROUTING_SAMPLE)
    return out


def _placing_fields(desk: DeskConfig) -> frozenset[str]:
    """The fields the routing rules that can place a ticket test: the rules that set its
    team or tier (or ask for assignment in a team), and the ``stop`` rules before them,
    which may end the evaluation first. Other rules leave the place alone: every rule sees
    the ticket as it came in."""
    rules = list(desk.routing)
    placing = [
        rule.actions.team is not None
        or rule.actions.tier is not None
        or (rule.actions.assign is not None and rule.actions.assign.team is not None)
        for rule in rules
    ]
    last = max((i for i, places in enumerate(placing) if places), default=-1)
    return frozenset().union(
        *(
            rule.when.fields()
            for rule, places in zip(rules[: last + 1], placing, strict=False)
            if places or rule.stop
        )
    )


def _fractions(weights: Mapping[str, float]) -> list[tuple[str, float]]:
    """``weights`` as fractions of their sum (none when they sum to nothing)."""
    total = sum(weights.values())
    if total <= 0:
        return []
    return [(name, weight / total) for name, weight in weights.items()]


def _opening(
    scenario: Scenario,
    requester: Requester,
    name: str,
    channel: str,
    impact: str,
    urgency: str,
    answers: Mapping[str, object] | None,
    number: int,
) -> Ticket:
    """The ticket the simulator opens for ``requester`` in category ``name`` (``general``:
    without a category unless the desk has one), as the desk holds it before routing,
    with the intake ``answers`` (None: every question answered)."""
    desk = scenario.desk
    intake = desk.categories.get(name)
    if answers is None:
        answers = {q.name: _answer(q) for q in intake.questions} if intake is not None else {}
    category = None if name == "general" and intake is None else name
    fields = dict(intake.check(answers).fields) if intake is not None else dict(answers)
    impact_v = Impact.parse(impact, field="impact")
    urgency_v = Urgency.parse(urgency, field="urgency")
    lifecycle = desk.lifecycle_for("incident")
    opened = TicketOpened(
        ticket_id="T-staffing",
        at=scenario.start,
        by=SYSTEM,
        number=number,
        requester=requester.id,
        subject=f"{name} issue",
        description="Simulated request",
        channel=channel,
        category=category,
        type="incident",
        impact=impact_v,
        urgency=urgency_v,
        priority=desk.priority_matrix(impact_v, urgency_v),
        fields=fields,
        organization=requester.organization,
        lifecycle=lifecycle.name,
        status=lifecycle.initial,
        status_category=lifecycle.category(lifecycle.initial),
    )
    return replay([opened])


def _check_routed(
    scenario: Scenario,
    index: int,
    routed: Mapping[str, Sequence[tuple[str | None, float]]],
    staffed: Sequence[str],
    sessions: float,
) -> None:
    """Refuse work escalated to a team of the tier at ``index`` that has no active agent of
    the tier: nobody could take its tickets, and a plan has nobody to clone for it."""
    if sessions <= 0:
        return
    tier = scenario.desk.tiers[index]
    below = scenario.desk.tiers[index - 1]
    behaviour = scenario.tiers[below.id]
    for team, categories in routed.items():
        sent = [category for category, share in categories if share > 0]
        if team in staffed or not sent:
            continue
        named = [category for category in sent if behaviour.escalation_team(category)]
        if named:
            category = named[0] or "general"
            raise ConfigError(
                f"tier {below.id!r} escalates {category} tickets to team {team!r}, which has "
                f"no active agent of tier {tier.id!r} to staff it from",
                path=f"tiers.{below.id}.escalate_to.{category}",
            )
        left_out = ", ".join(category or "general" for category in sent)
        raise ConfigError(
            f"tier {below.id!r} escalates the categories its escalate_to leaves out "
            f"({left_out}) to tier {tier.id!r}'s default team {team!r}, which has no active "
            "agent of the tier to staff it from",
            path=f"tiers.{below.id}.escalate_to",
        )


def _pool(
    arrivals_per_hour: float, aht: timedelta, wait: timedelta, service_level: float
) -> tuple[float, int, float]:
    """Erlang C for one pool of agents: the traffic, the agents it needs and the service
    level they give."""
    traffic = erlang.traffic_intensity(arrivals_per_hour, aht)
    agents = erlang.agents_required(traffic, aht=aht, target=wait, service_level=service_level)
    return traffic, agents, erlang.service_level(traffic, agents, aht=aht, target=wait)


def _team_pool(
    team: str,
    categories: Sequence[tuple[str | None, float]],
    behaviour: TierBehaviour,
    sessions: float,
    aht: timedelta,
    wait: timedelta,
    service_level: float,
) -> TeamStaffing:
    """One team as a pool of its own: it gets the shares of the tier's ``sessions`` of the
    ``categories`` escalated to it (every session of a ticket, its reopening and answers
    included, stays with its category), at the mean work time of those categories (the
    tier's ``aht`` when it gets nothing)."""
    share = sum(weight for _, weight in categories)
    arrivals = sessions * share
    if share > 0:
        seconds = sum(
            weight * behaviour.work_for(category).mean_seconds for category, weight in categories
        )
        aht = timedelta(seconds=seconds / share)
    traffic, agents, predicted = _pool(arrivals, aht, wait, service_level)
    return TeamStaffing(
        team=team,
        arrivals_per_hour=arrivals,
        aht=aht,
        traffic=traffic,
        agents=agents,
        predicted_service_level=predicted,
    )


def _weighted_level(teams: Iterable[TeamStaffing]) -> float:
    """The service level of a tier's work over its teams: each team's, weighted by the
    work it gets."""
    pools = list(teams)
    total = sum(team.arrivals_per_hour for team in pools)
    if total <= 0:
        return min((team.predicted_service_level for team in pools), default=1.0)
    return sum(team.arrivals_per_hour * team.predicted_service_level for team in pools) / total


def _spread(agents: int, teams: Sequence[str], counts: Mapping[str, float]) -> dict[str, int]:
    """``agents`` over ``teams`` in proportion to ``counts`` (largest remainders; equal
    shares when no team has any), at least one per team."""
    if not teams:
        return {}
    weights = [counts.get(team, 0.0) for team in teams]
    if sum(weights) == 0:
        weights = [1] * len(teams)
    total = sum(weights)
    exact = [agents * w / total for w in weights]
    shares = [int(x) for x in exact]
    order = sorted(range(len(teams)), key=lambda i: (shares[i] - exact[i], i))
    for i in order[: agents - sum(shares)]:
        shares[i] += 1
    return {team: max(1, share) for team, share in zip(teams, shares, strict=True)}
