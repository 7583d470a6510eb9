"""Sums over the ticket states, everything the KPIs need (private).

Counts by a single field are taken with ``Counter(map(attrgetter(...)))``, which runs in C;
the rest is one Python pass over the tickets that have something to add.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Collection
from datetime import date, datetime
from operator import attrgetter

from helpdesk_core.model import StatusCategory
from helpdesk_core.reporting._settings import Calendar, Settings
from helpdesk_core.reporting._state import BREACHED, MET, TicketState
from helpdesk_core.reporting._stats import to_micros

__all__ = ["DIMENSIONS", "SlaKey", "Tally"]

#: (policy, metric, Monday of the opening week).
SlaKey = tuple[str, str, date]

#: Fields volumes are counted by.
DIMENSIONS = ("channel", "category", "type", "priority", "team", "asset", "requester")

_DONE = frozenset((StatusCategory.SOLVED, StatusCategory.CLOSED))
_SETTLED = (MET, BREACHED)


def _micros(start: datetime, end: datetime) -> int:
    return max(0, to_micros(end - start))


class Tally:
    """The sums of one result."""

    def __init__(self, settings: Settings, as_of: datetime | None) -> None:
        self.settings = settings
        self.as_of = as_of
        self.total = 0
        self.dims: dict[str, Counter[str | None]] = {}
        self.hours = [0] * 168
        self.repeats: Counter[tuple[str, str]] = Counter()
        self.first: list[int] = []
        self.resolution: list[int] = []
        self.first_business: list[int] = []
        self.resolution_business: list[int] = []
        self.solved = self.first_contact = self.reopened = self.escalated = 0
        self.sla: dict[SlaKey, list[int]] = {}
        #: Met / breached by (team, metric) and by (tier, metric).
        self.sla_teams: dict[tuple[str | None, str], list[int]] = {}
        self.sla_tiers: dict[tuple[str | None, str], list[int]] = {}
        self.backlog_ages = [0] * (len(settings.age_buckets) + 1)
        self.statuses: Counter[str | None] = Counter()
        self.status_categories: Counter[str | None] = Counter()
        self.ratings = [0, 0, 0, 0, 0]
        self.agents: dict[str, list[int]] = {}
        self.tiers: dict[str | None, list[int]] = {}
        self._bounds = [to_micros(b) for b in settings.age_buckets]

    def run(self, states: Collection[TicketState]) -> None:
        """Add up ``states`` (iterated several times)."""
        self.total = len(states)
        for name in DIMENSIONS:
            self.dims[name] = Counter(map(attrgetter(name), states))
        for hour, count in Counter(map(attrgetter("hour_of_week"), states)).items():
            self.hours[hour] = count
        pairs = Counter(
            zip(map(attrgetter("requester"), states), map(attrgetter("category"), states))
        )
        # A ticket of no requester (anonymised) or of no category makes no repeat.
        self.repeats = Counter(
            {(r, c): n for (r, c), n in pairs.items() if r is not None and c is not None}
        )
        for state in states:
            self._add(state)

    def _add(self, state: TicketState) -> None:
        if state.first_response_at is not None or state.solved_at is not None:
            self._times(state)
        if state.ever_solved:
            self.solved += 1
            # Resolved at the first contact: so solved, and never reopened (a solve after
            # a reopen that says so took a second contact all the same).
            self.first_contact += state.first_contact and not state.reopens
            self.reopened += state.reopens > 0
        if state.escalated:
            self.escalated += 1
        if state.sla is not None:
            self._sla(state)
        if state.status_category not in _DONE:
            self._backlog(state)
        if state.rating is not None:
            self.ratings[state.rating - 1] += 1
        if state.tiers or state.assignees or state.solver is not None:
            self._workload(state)

    def _times(self, state: TicketState) -> None:
        opened, first, solved = state.opened_at, state.first_response_at, state.solved_at
        if first is not None:
            self.first.append(_micros(opened, first))
        if solved is not None:
            self.resolution.append(_micros(opened, solved))
        calendar = self.settings.calendar_for(state.calendar)
        if calendar is None:
            return
        cached = state.business
        if cached is not None and cached[0] is calendar and cached[1:3] == (first, solved):
            first_us, solved_us = cached[3], cached[4]
        else:
            first_us = None if first is None else self._business(calendar, opened, first)
            solved_us = None if solved is None else self._business(calendar, opened, solved)
            state.business = (calendar, first, solved, first_us, solved_us)
        if first_us is not None:
            self.first_business.append(first_us)
        if solved_us is not None:
            self.resolution_business.append(solved_us)

    @staticmethod
    def _business(calendar: Calendar, start: datetime, end: datetime) -> int:
        if end <= start:
            return 0
        return to_micros(calendar.elapsed(start, end))

    def _sla(self, state: TicketState) -> None:
        week = state.week
        cells, teams, tiers = self.sla, self.sla_teams, self.sla_tiers
        settled = [(metric, *cycle[1:]) for metric, cycle in (state.sla or {}).items()]
        settled.extend(state.sla_done or ())
        for metric, policy, outcome, team, tier in settled:
            if outcome in _SETTLED:
                breached = outcome == BREACHED
                cells.setdefault((policy, metric, week), [0, 0])[breached] += 1
                teams.setdefault((team, metric), [0, 0])[breached] += 1
                tiers.setdefault((tier, metric), [0, 0])[breached] += 1

    def _backlog(self, state: TicketState) -> None:
        as_of = self.as_of
        age = 0 if as_of is None else _micros(state.opened_at, as_of)
        self.backlog_ages[bisect_right(self._bounds, age)] += 1
        self.statuses[state.status] += 1
        self.status_categories[state.status_category.value] += 1

    def _workload(self, state: TicketState) -> None:
        agents = self.agents
        for agent in state.assignees:
            agents.setdefault(agent, [0, 0, 0])[0] += 1
        resolved = state.solved_at is not None
        if resolved and state.solver is not None:
            agents.setdefault(state.solver, [0, 0, 0])[1] += 1
        if state.assignee is not None and state.status_category not in _DONE:
            agents.setdefault(state.assignee, [0, 0, 0])[2] += 1
        tiers = self.tiers
        for tier in state.tiers:
            tiers.setdefault(tier, [0, 0, 0])[0] += 1
        if resolved and state.solved_tier in state.tiers:
            tiers[state.solved_tier][1] += 1
        for tier in state.escalated_from:
            tiers[tier][2] += 1
