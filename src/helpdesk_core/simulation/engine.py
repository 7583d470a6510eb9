"""The discrete-event simulator: the real Helpdesk, driven in simulated time.

A heap of timed events drives :class:`~helpdesk_core.Helpdesk` on a
:class:`~helpdesk_core.storage.MemoryStore` with a :class:`~helpdesk_core.ManualClock`:
tickets arrive, are routed and assigned by the desk's own rules and strategies, are worked
by agents on their shifts, answered, escalated, paused while the requester answers,
solved, reopened and rated. SLA clocks, escalations and auto-close run through
``desk.tick`` at the instants ``desk.next_wakeup`` names — never by polling. All
randomness comes from streams derived from the seed, one per source of chance (arrival
instants, requesters, each mix, intake answers, and each ticket's work and decisions): the
same seed gives the same result, and a variant run with the same seed draws what it did
not change the same way (common random numbers).
"""

from __future__ import annotations

import heapq
import random
import sys
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from helpdesk_core._numbers import whole_number
from helpdesk_core.clock import ManualClock
from helpdesk_core.errors import HelpdeskError, ValidationError
from helpdesk_core.ids import SequentialIds
from helpdesk_core.intake import Category, Question
from helpdesk_core.model import (
    Actor,
    Assigned,
    Escalated,
    Event,
    QueuedForAssignment,
    Requester,
    StatusCategory,
    Ticket,
)
from helpdesk_core.service import Helpdesk
from helpdesk_core.simulation._asking import asking_move
from helpdesk_core.simulation.result import SimulationResult, WorkSession, build_result
from helpdesk_core.simulation.scenario import Scenario
from helpdesk_core.storage import MemoryStore

__all__ = ["Progress", "SimulationStalled", "simulate"]


class SimulationStalled(HelpdeskError):
    """The desk asks to be woken at an instant it has already been ticked at, with nothing
    recorded since: the run would go round at that instant for ever. It names the ticket
    the desk would wake (a desk configuration whose wake-ups no tick can satisfy)."""

#: Called with (simulated seconds done, simulated seconds in all) now and then.
Progress = Callable[[float, float], None]

#: The arrival mixes, each drawn from a stream of its own.
_MIXES = ("channel", "category", "impact", "urgency")

_ARRIVAL, _DONE, _REPLY, _REOPEN, _RATE, _WAKE, _TICK, _SHIFT, _OFF, _AWAY, _BACK = range(11)


class _Agent:
    __slots__ = ("backlog", "busy", "calendar", "id", "session", "tier")

    def __init__(self, agent_id: str, tier: str | None, calendar: str | None) -> None:
        self.id = agent_id
        self.tier = tier
        self.calendar = calendar
        self.busy: str | None = None
        self.session = 0
        self.backlog: deque[str] = deque()


class _Run:
    def __init__(self, scenario: Scenario, seed: int, progress: Progress | None) -> None:
        whole = whole_number(seed)
        if whole is None:
            raise ValidationError("seed must be a whole number", field="seed")
        seed = whole
        self.scenario = scenario
        # One stream per source of chance, each seeded by the seed and its name (common
        # random numbers): a what-if run with the same seed sees the same arrival
        # instants whatever else it changes (the mixes, the requesters, the intake, the
        # staffing, the work), and the n-th ticket to arrive gets the same requester and
        # the same pick of each mix unless the variant changes that very draw. A mix
        # draws one number a ticket from its own stream, the requester a number of its
        # own, and the intake answers come from dice of the arrival's own (see
        # intake_dice), so a draw that takes more or fewer numbers shifts nothing else.
        # What happens to a ticket (its work times, whether a tier solves it, the
        # requester's delays, reopen and rating) is drawn from dice of its own, numbered
        # per ticket, purpose and tier (see dice): the variant sees the same ticket worked
        # and decided the same way, however the staffing reorders the work.
        self.seed = seed
        self._dice = random.Random()
        self._throws: dict[tuple[str, str], int] = {}
        self.arrival_rng = random.Random(f"{seed}:arrivals")
        self.requester_rng = random.Random(f"{seed}:requester")
        self.mix_rngs = {name: random.Random(f"{seed}:mix:{name}") for name in _MIXES}
        self.arrivals = 0  # tickets arrived so far
        self.clock = ManualClock(scenario.start.astimezone(UTC))  # see push
        self.store = MemoryStore()
        # The desk without its retention policies: they would anonymise or purge the run's
        # tickets half-way, which its records, KPIs and requesters (who come back to reopen
        # and rate) still read.
        config = scenario.desk
        if config.privacy.retention:
            config = attrs.evolve(config, privacy=attrs.evolve(config.privacy, retention=()))
        self.config = config
        self.desk = Helpdesk(config=config, store=self.store, clock=self.clock, ids=SequentialIds())
        self.progress = progress
        # (instant in UTC, sequence, kind, key): see push.
        self.heap: list[tuple[datetime, int, int, str]] = []
        self.work: list[WorkSession] = []
        self.seq = 0
        self.agents = {
            a.id: _Agent(a.id, a.tier, a.calendar) for a in scenario.desk.agents if a.active
        }
        self.absent: dict[str, list[tuple[datetime, datetime]]] = {}
        for absence in scenario.absences:
            self.absent.setdefault(absence.agent, []).append(
                (scenario.after(absence.start), scenario.after(absence.end))
            )
        self.absences_now: dict[str, int] = {}  # agent id -> absences in force
        self.working: dict[str, str] = {}  # ticket id -> the agent working on it
        # ticket id -> (tier, seconds of work left) when an absence interrupted its work:
        # whoever takes it on at that tier does only the rest. Only absences fill it.
        self.left: dict[str, tuple[str, float]] = {}
        self.asked: set[tuple[str, str | None]] = set()
        # Agents to start work, in the order they became free (a dict keeps it; a set's
        # order would follow the hash seed).
        self.pending_starts: dict[str, None] = {}
        self.touched: set[str] = set()
        self.escalated: set[str] = set()
        self.tick_at: datetime | None = None
        self.recorded = 0  # events the desk recorded so far
        self.last_at: datetime | None = None  # when it recorded the latest
        # (instant, events recorded) after a tick that recorded nothing
        self.idle: tuple[datetime, int] | None = None
        self.tiers = [t.id for t in scenario.desk.tiers]
        # The run stops at the first event past this, having drained what it could.
        self.horizon = scenario.end + timedelta(days=60)
        self.peak_rate = scenario.arrivals.peak_rate  # a max over the week: read once
        self.zone = ZoneInfo(scenario.desk.settings.timezone)  # the arrival profile's zone
        self.requesters = Requesters(scenario, str(seed))
        self.mix = arrival_mixes(scenario)
        # (scores as Python ints: the desk takes no NumPy score, which a scenario may hold)
        self.csat = (
            [int(score) for score in scenario.csat], _cumulative(list(scenario.csat.values()))
        )
        self.desk.subscribe(self._on_event)

    # ------------------------------------------------------------------ chance
    def dice(self, ticket_id: str, purpose: str) -> random.Random:
        """A generator for the next draw of ``purpose`` on ticket ``ticket_id``: seeded by
        the run's seed, the ticket, the purpose and how many such draws the ticket had,
        so the draw does not depend on what other tickets drew before it. Use it for one
        draw (one sample) before asking again."""
        key = (ticket_id, sys.intern(purpose))
        throw = self._throws.get(key, 0)
        self._throws[key] = throw + 1
        self._dice.seed(f"{self.seed}:{ticket_id}:{purpose}:{throw}")
        return self._dice

    def intake_dice(self) -> random.Random:
        """A generator for the intake answers of the ticket arriving now: seeded by the
        run's seed and the arrival's number, so the answers one ticket gives take no
        numbers from another's."""
        self._dice.seed(f"{self.seed}:intake:{self.arrivals}")
        return self._dice

    # ------------------------------------------------------------------ scheduling
    def later(self, at: datetime, seconds: float) -> datetime | None:
        """``seconds`` after ``at``; None past the horizon, where the run never gets (a
        draw from a long tail may even lie past the last date a datetime holds)."""
        if seconds > (self.horizon - at).total_seconds():
            return None
        return at + timedelta(seconds=seconds)

    def push(self, at: datetime, kind: int, key: str) -> None:
        self.seq += 1
        # Simulated time runs in UTC: a duration added to a zoned instant would be added to
        # its wall clock (an hour off across a DST change, or a time that does not exist),
        # and instants of one zone compare faster than instants of several.
        if at.tzinfo is not UTC:
            at = at.astimezone(UTC)
        heapq.heappush(self.heap, (at, self.seq, kind, key))

    def pick(self, name: str) -> str:
        keys, cumulative = self.mix[name]
        return keys[_draw(self.mix_rngs[name], cumulative)]

    def schedule_tick(self) -> None:
        # (the run's desk has no retention policies: see __init__)
        wake = self.desk.next_wakeup(queues=False, retention=False)
        if wake is None:
            return
        now = self.clock.now()
        if wake <= now and self.idle == (now, self.recorded):
            due = self.store.due(wake, limit=1)
            raise SimulationStalled(
                f"the desk asks to be woken at {wake.isoformat()} again after a tick at "
                f"{now.isoformat()} recorded nothing (ticket {due[0] if due else '?'}); "
                "a tick cannot do what it is woken for"
            )
        wake = max(wake, now)
        if self.tick_at is None or wake < self.tick_at or self.tick_at < now:
            self.tick_at = wake
            self.push(wake, _TICK, "")

    # ------------------------------------------------------------------ arrivals
    def next_arrival(self, after: datetime) -> datetime | None:
        """Thinning: a Poisson process at the peak rate, kept with probability
        rate(t) / peak."""
        arrivals = self.scenario.arrivals
        peak_rate = self.peak_rate
        peak = peak_rate / 3600.0
        if peak <= 0:
            return None
        at = after.astimezone(UTC)  # durations add exactly in UTC (see push)
        end = self.scenario.end
        zone = self.zone
        while True:
            gap = self.arrival_rng.expovariate(peak)
            if gap >= (end - at).total_seconds():  # (a tiny rate's gap may overflow a date)
                return None
            at = at + timedelta(seconds=gap)
            local = at.astimezone(zone)
            rate = arrivals.rate_per_hour * arrivals.profile[local.weekday() * 24 + local.hour]
            offset = at - self.scenario.start
            for burst in arrivals.bursts:
                if burst.start <= offset < burst.start + burst.duration:
                    rate *= burst.multiplier
            if self.arrival_rng.random() * peak_rate < rate:
                return at

    def arrive(self) -> None:
        self.arrivals += 1
        requester, new = self.requesters.draw(self.requester_rng)
        if new:
            self.store.save_requester(requester)
        category = self.pick("category")
        intake = self.scenario.desk.categories.get(category)
        answers = (
            intake_answers(intake, self.intake_dice())
            if intake is not None and intake.questions
            else {}
        )
        ticket = self.desk.open(
            requester=requester.id,
            subject=f"{category} issue",
            description="Simulated request",
            channel=self.pick("channel"),
            # the mix's "general" is a ticket without a category, unless the desk has one
            category=None if category == "general" and intake is None else category,
            impact=self.pick("impact"),
            urgency=self.pick("urgency"),
            fields=answers,
        )
        self.touched.add(ticket.id)
        nxt = self.next_arrival(self.clock.now())
        if nxt is not None:
            self.push(nxt, _ARRIVAL, "")

    # ------------------------------------------------------------------ agents
    def on_shift(self, agent: _Agent, at: datetime) -> bool:
        for start, end in self.absent.get(agent.id, ()):
            if start <= at < end:
                return False
        if agent.calendar is None:
            return True
        return self.scenario.desk.calendars[agent.calendar].is_open(at)

    def next_on_shift(self, agent: _Agent, at: datetime) -> datetime | None:
        candidate = at
        for _ in range(50):
            for start, end in self.absent.get(agent.id, ()):
                if start <= candidate < end:
                    candidate = end
            if agent.calendar is not None:
                calendar = self.scenario.desk.calendars[agent.calendar]
                opened = calendar.next_open(candidate)
                if opened != candidate:
                    candidate = opened
                    continue
            if self.on_shift(agent, candidate):
                return candidate
        return None

    def try_start(self, agent: _Agent) -> None:
        if agent.busy is not None:
            return
        now = self.clock.now()
        if not self.on_shift(agent, now):
            if agent.backlog:
                wake = self.next_on_shift(agent, now)
                if wake is not None and wake <= self.horizon:
                    self.push(wake, _WAKE, agent.id)
            return
        while agent.backlog:
            ticket_id = agent.backlog.popleft()
            ticket = self.desk.get(ticket_id)
            if ticket.assignee != agent.id or ticket.status_category not in (
                StatusCategory.NEW,
                StatusCategory.OPEN,
            ):
                continue
            agent.busy = ticket_id
            self.working[ticket_id] = agent.id
            if ticket.public_replies == 0 or ticket.awaiting_reply_since is not None:
                self.desk.reply(ticket_id, author=agent.id, body="We are looking into it.")
            tier = ticket.tier or self.tiers[0]
            left = self.left.pop(ticket_id, None) if self.left else None
            if left is not None and left[0] == tier:
                seconds = left[1]
            else:  # a ticket escalated since its work was interrupted starts afresh
                seconds = self.scenario.tiers[tier].work_for(ticket.category).sample(
                    self.dice(ticket_id, f"work:{tier}")
                )
            self.work.append(
                WorkSession(
                    ticket_id=ticket_id, agent=agent.id, tier=tier, start=now, seconds=seconds
                )
            )
            agent.session += 1  # a "done" of an earlier session of theirs is stale
            finished = self.finish(agent, now, seconds)
            if finished is not None:
                self.push(finished, _DONE, f"{agent.id}|{ticket_id}|{agent.session}")
            return

    def finish(self, agent: _Agent, start: datetime, seconds: float) -> datetime | None:
        """When work of ``seconds`` started at ``start`` ends: the agent works it on shift,
        so work left at the end of a shift goes on at the next one. None past the
        horizon (see :meth:`later`)."""
        end = self.later(start, seconds)
        if agent.calendar is None or end is None:
            return end
        try:
            end = self.scenario.desk.calendars[agent.calendar].add(
                start, timedelta(seconds=seconds)
            )
        except ValidationError:  # so few hours on shift that it ends past the year 9997
            return None
        return end if end <= self.horizon else None

    def interrupt(self, agent: _Agent) -> None:
        """The agent leaves in the middle of a session (an absence starts): the work done
        so far counts (their session ends now), the rest stays with the ticket for
        whoever works it next, and the session's pending "done" is stale. The ticket goes
        to the front of their backlog, for :meth:`hand_over`."""
        ticket_id = agent.busy
        if ticket_id is None:
            return
        cut = self.cut_session(agent, ticket_id)
        if cut is None:
            return  # it ends at this very instant: its "done" comes next
        tier, rest = cut
        self.left[ticket_id] = (tier, rest)
        agent.busy = None
        agent.session += 1
        del self.working[ticket_id]
        agent.backlog.appendleft(ticket_id)

    def cut_session(self, agent: _Agent, ticket_id: str) -> tuple[str, float] | None:
        """End the agent's session on the ticket now: the work done so far is what it
        records. Returns its tier and the seconds of work left (None: it ends now
        anyway)."""
        work = self.work
        index = len(work) - 1  # their session on the ticket is the last one
        while work[index].ticket_id != ticket_id or work[index].agent != agent.id:
            index -= 1
        session = work[index]
        now = self.clock.now()
        finished = self.finish(agent, session.start, session.seconds)
        if finished is not None and finished <= now:
            return None
        if agent.calendar is None:
            done = (now - session.start).total_seconds()
        else:
            calendar = self.scenario.desk.calendars[agent.calendar]
            done = calendar.elapsed(session.start, now).total_seconds()
        work[index] = attrs.evolve(session, seconds=done)
        return session.tier, session.seconds - done

    def hand_over(self, agent: _Agent) -> None:
        """The agent leaves (shift end, absence): tickets assigned to them and not started
        (or interrupted by an absence) go back to assignment, which gives them to an agent
        on shift or queues them."""
        waiting, agent.backlog = list(agent.backlog), deque()
        for ticket_id in dict.fromkeys(waiting):
            ticket = self.desk.get(ticket_id)
            if ticket.assignee != agent.id or not ticket.is_active or ticket_id == agent.busy:
                continue
            self.desk.auto_assign(ticket_id)
            if self.desk.get(ticket_id).assignee == agent.id:
                agent.backlog.append(ticket_id)  # nobody else could take it: it stays

    def done(self, key: str) -> None:
        agent_id, ticket_id, session = key.split("|", 2)
        agent = self.agents[agent_id]
        if agent.busy != ticket_id or str(agent.session) != session:
            return  # taken away (an escalation policy moved it), or its agent left
        agent.busy = None
        self.working.pop(ticket_id, None)
        ticket = self.desk.get(ticket_id)
        if ticket.assignee == agent_id and ticket.is_active:
            tier = ticket.tier or self.tiers[0]
            behaviour = self.scenario.tiers[tier]
            top = tier == self.tiers[-1]
            asked_key = (ticket_id, tier)
            ask = behaviour.pending and asked_key not in self.asked
            if ask and self.dice(ticket_id, f"ask:{tier}").random() < behaviour.pending:
                self.asked.add(asked_key)
                asking = self.desk.reply(
                    ticket_id, author=agent_id, body="Could you tell us more?"
                )
                move = asking_move(self.config.lifecycles[asking.lifecycle], asking.status)
                self.desk.transition(ticket_id, move, by=agent_id, reason="question")
                delay = self.scenario.requester_reply.sample(self.dice(ticket_id, "reply"))
                answered = self.later(self.clock.now(), delay)
                if answered is not None:
                    self.push(answered, _REPLY, ticket_id)
            elif top or self.dice(ticket_id, f"solve:{tier}").random() < behaviour.solve:
                first_contact = (
                    tier == self.tiers[0]
                    and ticket_id not in self.escalated
                    and (ticket_id, tier) not in self.asked
                    and ticket.reopen_count == 0
                )
                self.desk.solve(
                    ticket_id, by=agent_id, resolution="Resolved", first_contact=first_contact
                )
                self.after_solve(ticket_id)
            else:
                self.escalated.add(ticket_id)
                self.desk.escalate(
                    ticket_id,
                    by=agent_id,
                    reason="needs the next tier",
                    team=behaviour.escalation_team(ticket.category),
                )
        self.try_start(agent)

    def after_solve(self, ticket_id: str) -> None:
        now = self.clock.now()
        ticket = self.desk.get(ticket_id)
        if ticket.reopen_count == 0 and self.dice(ticket_id, "reopen").random() < (
            self.scenario.reopen
        ):
            delay = self.scenario.reopen_delay.sample(self.dice(ticket_id, "reopen_delay"))
            reopened = self.later(now, delay)
            if reopened is not None:
                self.push(reopened, _REOPEN, ticket_id)
        else:
            self.maybe_rate(ticket_id, now)

    def maybe_rate(self, ticket_id: str, now: datetime) -> None:
        """The requester answers the satisfaction survey (``csat_response``), within two
        days."""
        dice = self.dice(ticket_id, "rate")
        if dice.random() < self.scenario.csat_response:
            self.push(now + timedelta(hours=dice.uniform(0.5, 48)), _RATE, ticket_id)

    def requester_reply(self, ticket_id: str) -> None:
        ticket = self.desk.get(ticket_id)
        if not ticket.is_active:
            return
        self.desk.reply(ticket_id, author=Actor.requester(ticket.requester), body="Here you go.")
        ticket = self.desk.get(ticket_id)
        if ticket.status_category is StatusCategory.OPEN:
            self.back_to_work(ticket)

    def back_to_work(self, ticket: Ticket) -> None:
        """A ticket comes back (the requester answered, or reopened it): its assignee
        takes it up; an assignee who is away (absent) hands it back to assignment, as
        they did their other tickets when they left."""
        agent = self.agents.get(ticket.assignee) if ticket.assignee is not None else None
        if agent is not None and self.absences_now.get(agent.id, 0) > 0:
            self.desk.auto_assign(ticket.id)
            if self.desk.get(ticket.id).assignee != agent.id:
                return  # another agent has it (the Assigned event queued it with them)
        if agent is not None:
            agent.backlog.append(ticket.id)
            self.try_start(agent)
        elif ticket.assignee is None:
            self.desk.auto_assign(ticket.id)

    def reopen(self, ticket_id: str) -> None:
        ticket = self.desk.get(ticket_id)
        if ticket.status_category is not StatusCategory.SOLVED:
            # Closed before the requester came back: they let it go, and may still rate.
            if ticket.status_category is StatusCategory.CLOSED:
                self.maybe_rate(ticket_id, self.clock.now())
            return
        try:
            self.desk.reopen(ticket_id, by=Actor.requester(ticket.requester), reason="still broken")
        except HelpdeskError:
            # Too late (the lifecycle's reopen window has passed): they let it go, as
            # after a close, and may still rate.
            self.maybe_rate(ticket_id, self.clock.now())
            return
        self.back_to_work(self.desk.get(ticket_id))

    def rate(self, ticket_id: str) -> None:
        ticket = self.desk.get(ticket_id)
        if ticket.is_active or ticket.satisfaction is not None:
            return
        keys, cumulative = self.csat
        self.desk.rate(
            ticket_id,
            score=keys[_draw(self.dice(ticket_id, "score"), cumulative)],
            by=Actor.requester(ticket.requester),
        )

    def _on_event(self, event: Event) -> None:
        self.recorded += 1
        self.last_at = event.at
        worker = self.working.get(event.ticket_id)
        if worker is not None and (
            isinstance(event, Escalated | QueuedForAssignment)
            or (isinstance(event, Assigned) and event.assignee != worker)
        ):
            # Moved away from the agent working it (an escalation policy fired): they
            # stop, their session ends here, and they are free for other work.
            del self.working[event.ticket_id]
            agent = self.agents[worker]
            self.cut_session(agent, event.ticket_id)
            agent.busy = None
            agent.session += 1  # its pending "done" is stale
            self.pending_starts[worker] = None
        if isinstance(event, Assigned) and event.assignee in self.agents:
            agent = self.agents[event.assignee]
            agent.backlog.append(event.ticket_id)
            if agent.busy is None:
                self.pending_starts[agent.id] = None


    def schedule_shifts(self) -> None:
        """A tick at every shift start (queued tickets go to agents who come on shift), a
        hand-over at every shift end, and the starts and ends of absences."""
        scenario = self.scenario
        horizon = self.horizon
        starts: set[datetime] = set()
        ends: set[tuple[datetime, str]] = set()
        for name in sorted({a.calendar for a in self.agents.values() if a.calendar}):
            calendar = scenario.desk.calendars[name]
            at = scenario.start
            while at < horizon:
                at = calendar.next_open(at)
                if at >= horizon:
                    break
                starts.add(at)
                try:
                    at = calendar.next_close(at)
                except ValidationError:
                    break  # open around the clock from here on: no later shift starts
                if at < horizon:
                    ends.add((at, name))
        for at in sorted(starts):
            self.push(at, _SHIFT, "")
        for at, name in sorted(ends):
            self.push(at, _OFF, name)
        for absence in scenario.absences:
            if absence.agent in self.agents:
                self.push(scenario.after(absence.start), _AWAY, absence.agent)
                self.push(scenario.after(absence.end), _BACK, absence.agent)

    # ------------------------------------------------------------------ loop
    def run(self) -> SimulationResult:
        scenario = self.scenario
        self.schedule_shifts()
        first = self.next_arrival(scenario.start)
        if first is not None:
            self.push(first, _ARRIVAL, "")
        total = timedelta(days=scenario.days).total_seconds()
        drain_until = self.horizon
        report_every = max(total / 100.0, 1.0)
        next_report = 0.0
        handlers: Mapping[int, Callable[[str], None]] = {
            _ARRIVAL: lambda _key: self.arrive(),
            _DONE: self.done,
            _REPLY: self.requester_reply,
            _REOPEN: self.reopen,
            _RATE: self.rate,
            _WAKE: self._wake,
            _TICK: self._tick,
            _SHIFT: self._shift,
            _OFF: self._off,
            _AWAY: lambda key: self._set_away(key, True),
            _BACK: lambda key: self._set_away(key, False),
        }
        while self.heap:
            at, _, kind, key = heapq.heappop(self.heap)
            if at > drain_until:
                break
            if at > self.clock.now():
                self.clock.set(at)
            handlers[kind](key)
            while self.pending_starts:
                agent_id = next(iter(self.pending_starts))
                del self.pending_starts[agent_id]
                self.try_start(self.agents[agent_id])
            self.schedule_tick()
            if self.progress is not None:
                done = min((at - scenario.start).total_seconds(), total)
                if done >= next_report:
                    self.progress(done, total)
                    next_report = done + report_every
        if self.progress is not None:
            self.progress(total, total)
        # The run's end: when the desk recorded its last event (the drain after the
        # arrivals stop), not the shift starts it went on ticking at with nothing to do.
        end = max(scenario.end, self.last_at) if self.last_at is not None else scenario.end
        return build_result(scenario, self.desk, self.store, end=end, work=self.work)

    def _wake(self, agent_id: str) -> None:
        self.desk.tick()
        self.try_start(self.agents[agent_id])

    def _shift(self, _key: str) -> None:
        self.desk.tick()
        for agent in self.agents.values():
            if agent.busy is None and agent.backlog:
                self.try_start(agent)

    def _off(self, calendar: str) -> None:
        """A shift of ``calendar`` ends: its agents hand over what they have not started."""
        for agent in self.agents.values():
            if agent.calendar == calendar:
                self.hand_over(agent)

    def _set_away(self, agent_id: str, away: bool) -> None:
        """An absence starts or ends: the desk's assignment learns it (the agent is
        ``away``), and an agent who leaves stops the ticket they are working on and hands
        it over with what they have not started."""
        count = self.absences_now.get(agent_id, 0) + (1 if away else -1)
        self.absences_now[agent_id] = count
        if count > (1 if away else 0):
            return  # another absence of theirs starts before this one ends, or goes on
        config = self.config
        agents = tuple(
            attrs.evolve(a, away=True) if self.absences_now.get(a.id, 0) > 0 else a
            for a in config.agents
        )
        self.desk.reconfigure(attrs.evolve(config, agents=agents))
        agent = self.agents[agent_id]
        if away:
            self.interrupt(agent)
            self.hand_over(agent)
        else:
            self.desk.tick()  # queued tickets may go to them now
            self.try_start(agent)

    def _tick(self, _key: str) -> None:
        now = self.clock.now()
        if self.tick_at is not None and self.tick_at <= now:
            self.tick_at = None
        before = self.recorded
        self.desk.tick()
        self.idle = (now, before) if self.recorded == before else None


def arrival_mixes(scenario: Scenario) -> dict[str, tuple[list[str], list[float]]]:
    """The scenario's arrival mixes (``channel``, ``category``, ``impact``, ``urgency``)
    as their keys and the edges :func:`_draw` picks one of them by."""
    arrivals = scenario.arrivals
    weights_of = {
        "channel": arrivals.channels,
        "category": arrivals.categories,
        "impact": arrivals.impact,
        "urgency": arrivals.urgency,
    }
    return {
        name: (list(weights_of[name]), _cumulative(list(weights_of[name].values())))
        for name in _MIXES
    }


class Requesters:
    """The scenario's requesters, each made when first drawn: requester ``n`` is the same
    person however many were drawn before it, so a run holds (and stores) only the people
    who open tickets, not every one of the scenario's ``count``. About 3 % are VIPs, seven
    organizations, and a region drawn from the scenario's ``regions`` (the ``region``
    attribute; none without regions). ``label`` names the family of people (a run's seed):
    two pools of one label make the same people."""

    def __init__(self, scenario: Scenario, label: str) -> None:
        self.count = scenario.requesters
        self._label = label
        self._regions = (list(scenario.regions), _cumulative(list(scenario.regions.values())))
        self._made: dict[int, Requester] = {}

    def draw(self, rng: random.Random) -> tuple[Requester, bool]:
        """One of the requesters, picked uniformly with ``rng``, and whether it is new
        (drawn for the first time)."""
        n = rng.randrange(self.count) + 1
        known = self._made.get(n)
        if known is not None:
            return known, False
        made = self._made[n] = self.make(n)
        return made, True

    def make(self, n: int) -> Requester:
        """Requester number ``n`` (from 1), drawn from a stream of its own."""
        rng = random.Random(f"{self._label}:requester:{n}")
        names, edges = self._regions
        return Requester(
            id=f"R-{n:05d}",
            name=f"Requester {n}",
            email=f"requester{n}@example.com",
            organization=f"org-{n % 7}",
            vip=rng.random() < 0.03,
            attributes=({"region": names[_draw(rng, edges)]} if names else {}),
        )


def intake_answers(intake: Category | None, rng: random.Random) -> dict[str, object]:
    """The answers a simulated requester gives the intake questions of a category: every
    one when the category refuses a ticket with answers missing, else each with
    probability 0.8 (drawn from ``rng``)."""
    answers: dict[str, object] = {}
    if intake is not None:
        for question in intake.questions:
            refuse = intake.on_missing.value == "refuse"
            if refuse or rng.random() < 0.8:
                answers[question.name] = _answer(question)
    return answers


def _answer(question: Question) -> object:
    """A plausible answer to an intake question."""
    if question.choices:
        return question.choices[0]
    return {"bool": True, "int": 1, "float": 1.0}.get(question.type.value, "simulated")


def _cumulative(weights: list[float]) -> list[float]:
    """The upper edges of ``weights``' shares of [0, 1) for :func:`_draw`. The edges from
    the last positive weight on are exactly 1.0, so rounding never leaves a sliver of
    [0, 1) to an entry of weight 0 after it."""
    total = sum(weights)
    out: list[float] = []
    running = 0.0
    for weight in weights:
        running += weight / total
        out.append(running)
    last = max((i for i, weight in enumerate(weights) if weight > 0), default=len(out) - 1)
    for index in range(max(last, 0), len(out)):
        out[index] = 1.0
    return out


def _draw(rng: random.Random, cumulative: list[float]) -> int:
    value = rng.random()
    for index, edge in enumerate(cumulative):
        if value < edge:
            return index
    return len(cumulative) - 1


def simulate(
    scenario: Scenario,
    *,
    seed: int = 0,
    progress: Progress | None = None,
) -> SimulationResult:
    """Run the scenario through the real desk in simulated time; same seed, same result."""
    if not isinstance(scenario, Scenario):
        raise ValidationError("expected a Scenario", field="scenario")
    if progress is not None and not callable(progress):
        raise ValidationError(
            f"progress is called with (seconds done, seconds in all), got "
            f"{type(progress).__name__}",
            field="progress",
        )
    return _Run(scenario, seed, progress).run()
