"""The bare queueing fast path: tickets through tiers of identical agents, no domain.

This is the skeleton of the full simulator with every domain rule stripped away: Poisson
arrivals, one FIFO queue per tier, ``c`` agents per tier, handle times from a distribution,
and a probability that a tier escalates to the next. It is what Erlang C describes, so it
checks the analytic module (and vice versa), answers quick staffing questions in
milliseconds, and shows what the event loop costs on its own.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Sequence
from datetime import timedelta

from attrs import field, frozen

from helpdesk_core._numbers import is_timedelta64, real_number, whole_number
from helpdesk_core._time import to_timedelta
from helpdesk_core.errors import ValidationError
from helpdesk_core.simulation.distributions import Distribution, Exponential

__all__ = ["QueueResult", "TierStats", "simulate_queue"]


@frozen
class TierStats:
    """What one tier's arrivals experienced (after the warm-up). ``horizon`` is the
    tier's measured time, from the first measured arrival to the tier's last finished
    ticket, which ``occupancy`` shares ``busy_time`` over."""

    tier: int
    served: int
    waited: int
    total_wait: float
    waits: tuple[float, ...] = field(repr=False)  # one per arrival: too many to print
    busy_time: float
    agents: int
    horizon: float

    @property
    def wait_probability(self) -> float:
        """Share of arrivals that had to wait (P(wait > 0))."""
        return self.waited / self.served if self.served else 0.0

    @property
    def mean_wait(self) -> timedelta:
        """Mean wait in queue over all arrivals."""
        return timedelta(seconds=self.total_wait / self.served if self.served else 0.0)

    def service_level(self, target: timedelta | str | float) -> float:
        """Share of arrivals that waited at most ``target``."""
        limit = to_timedelta(target, field="target").total_seconds()
        if not self.served:
            return 1.0
        return sum(1 for w in self.waits if w <= limit) / self.served

    @property
    def occupancy(self) -> float:
        """Share of agent time spent working."""
        return self.busy_time / (self.agents * self.horizon) if self.horizon else 0.0


@frozen
class QueueResult:
    """Per-tier statistics and the number of tickets simulated."""

    tiers: tuple[TierStats, ...]
    tickets: int

    def __getitem__(self, tier: int) -> TierStats:
        return self.tiers[tier]


#: The most tickets one :func:`simulate_queue` run simulates.
MAX_TICKETS = 10_000_000


def simulate_queue(
    *,
    arrivals_per_hour: float,
    agents: Sequence[int],
    work: Sequence[Distribution | timedelta | str | float],
    escalate: Sequence[float] | None = None,
    tickets: int = 100_000,
    warmup: int = 0,
    seed: int = 0,
) -> QueueResult:
    """Simulate ``tickets`` Poisson arrivals through tiers of ``agents[i]`` servers each.

    ``work[i]`` is the handle time at tier i (a distribution, or a mean for exponential
    times); ``escalate[i]`` the probability that tier i passes the ticket to tier i+1 after
    working it (0 for the last tier, which has none above it). The first ``warmup``
    arrivals are left out of the statistics. ``tickets`` is at most :data:`MAX_TICKETS`
    (every wait is kept for the statistics).
    """
    given_rate = real_number(arrivals_per_hour)
    if given_rate is None:
        raise ValidationError("arrivals_per_hour must be a number", field="arrivals_per_hour")
    try:
        rate = float(given_rate)
    except OverflowError:  # an int too large for a float
        rate = math.inf
    if not math.isfinite(rate) or rate <= 0:
        raise ValidationError(
            "arrivals_per_hour must be a finite number > 0", field="arrivals_per_hour"
        )
    if isinstance(agents, str | bytes) or not isinstance(agents, Sequence) or not agents:
        raise ValidationError("agents is a list of head counts, one per tier", field="agents")
    if isinstance(work, str | bytes) or not isinstance(work, Sequence):
        raise ValidationError("work is a list of handle times, one per tier", field="work")
    counts: list[int] = []
    for i, head_count in enumerate(agents):
        count = whole_number(head_count)
        if count is None:
            raise ValidationError(
                f"a head count is a whole number, got {type(head_count).__name__}",
                field=f"agents[{i}]",
            )
        if count < 1:
            raise ValidationError("each tier needs at least one agent", field=f"agents[{i}]")
        counts.append(count)
    agents = counts
    if len(work) != len(agents):
        raise ValidationError("one work distribution per tier", field="work")
    dists: list[Distribution] = []
    for i, item in enumerate(work):
        if (
            isinstance(item, timedelta | str)
            or real_number(item) is not None
            or is_timedelta64(item)
        ):
            try:
                dists.append(Exponential(to_timedelta(item, field=f"work[{i}]")))
            except ValidationError as exc:
                raise ValidationError(exc.message, field=f"work[{i}]") from exc
        elif callable(getattr(item, "sample", None)):
            dists.append(item)  # type: ignore[arg-type]
        else:
            raise ValidationError(
                f"a handle time is a distribution or a duration, got {type(item).__name__}",
                field=f"work[{i}]",
            )
    if escalate is not None and (
        isinstance(escalate, str | bytes) or not isinstance(escalate, Sequence)
    ):
        raise ValidationError("escalate is a list of probabilities, one per tier", field="escalate")
    esc = list(escalate) if escalate is not None else [0.0] * len(agents)
    if len(esc) != len(agents):
        raise ValidationError("one escalation probability per tier", field="escalate")
    for i, given in enumerate(esc):
        p = real_number(given)
        if p is None or not 0.0 <= p <= 1.0:
            raise ValidationError("a probability is between 0 and 1", field=f"escalate[{i}]")
        esc[i] = float(p)
    if esc[-1]:
        raise ValidationError(
            f"the last tier has no tier to escalate to: its probability is 0, got {esc[-1]:g}",
            field=f"escalate[{len(esc) - 1}]",
        )
    given_tickets, given_warmup = whole_number(tickets), whole_number(warmup)
    if given_tickets is None or not 1 <= given_tickets <= MAX_TICKETS:
        raise ValidationError(
            f"tickets must be a whole number from 1 to {MAX_TICKETS:,}", field="tickets"
        )
    if given_warmup is None or not 0 <= given_warmup < given_tickets:
        raise ValidationError("warmup must be >= 0 and below tickets", field="warmup")
    tickets, warmup = given_tickets, given_warmup

    given_seed = whole_number(seed)
    if given_seed is None:
        raise ValidationError("seed must be a whole number", field="seed")
    rng = random.Random(given_seed)
    expo = rng.expovariate
    rate = rate / 3600.0
    n_tiers = len(agents)
    free = list(agents)
    queues: list[deque[tuple[float, int]]] = [deque() for _ in range(n_tiers)]
    served = [0] * n_tiers
    waited = [0] * n_tiers
    total_wait = [0.0] * n_tiers
    waits: list[list[float]] = [[] for _ in range(n_tiers)]
    busy = [0.0] * n_tiers
    last_done = [0.0] * n_tiers  # when each tier finished its last ticket
    samplers = [d.sample for d in dists]
    heap: list[tuple[float, int, int, int]] = []  # (time, seq, tier (-1 = arrival), ticket)
    push = heapq.heappush
    pop = heapq.heappop
    seq = 0
    now = 0.0
    measured_from = math.inf  # set when the first measured ticket arrives
    push(heap, (expo(rate), 0, -1, 0))
    arrived = 0
    random_ = rng.random

    def start(tier: int, ticket: int, at: float, since: float) -> None:
        nonlocal seq
        wait = at - since
        if ticket >= warmup:
            served[tier] += 1
            if wait > 0.0:
                waited[tier] += 1
                total_wait[tier] += wait
            waits[tier].append(wait)
        duration = samplers[tier](rng)
        if at >= measured_from:
            busy[tier] += duration
        seq += 1
        push(heap, (at + duration, seq, tier, ticket))

    while heap:
        now, _, tier, ticket = pop(heap)
        if tier < 0:
            if ticket == warmup:
                measured_from = now
            arrived += 1
            if arrived < tickets:
                seq += 1
                push(heap, (now + expo(rate), seq, -1, arrived))
            if free[0]:
                free[0] -= 1
                start(0, ticket, now, now)
            else:
                queues[0].append((now, ticket))
            continue
        # a ticket finished at `tier`
        last_done[tier] = now
        if esc[tier] and random_() < esc[tier]:
            nxt = tier + 1
            if free[nxt]:
                free[nxt] -= 1
                start(nxt, ticket, now, now)
            else:
                queues[nxt].append((now, ticket))
        queue = queues[tier]
        if queue:
            since, waiting = queue.popleft()
            start(tier, waiting, now, since)
        else:
            free[tier] += 1
    # Each tier's occupancy is over its own measured time: a later tier that drains
    # for long after the arrivals stop (it cannot keep up) is no idle time of the others.
    stats = tuple(
        TierStats(
            tier=i,
            served=served[i],
            waited=waited[i],
            total_wait=total_wait[i],
            waits=tuple(waits[i]),
            busy_time=busy[i],
            agents=agents[i],
            horizon=max(last_done[i] - measured_from, 0.0),
        )
        for i in range(n_tiers)
    )
    return QueueResult(tiers=stats, tickets=tickets)
