"""A scenario's figures measured from a desk's own history.

:func:`calibrate` reads the events a desk recorded (a store's event stream, a simulation's
events, or any iterable of events) and measures what a :class:`Scenario` asks for and a
history can tell: the arrival rate and its hour-of-week profile, the channel, category,
impact and urgency mixes, how often each tier solves rather than escalates and asks the
requester first, how long requesters take to answer, how often and how soon they reopen,
and how often and how they rate. It returns those as scenario sections
(:attr:`Calibration.document`), with the number of observations behind each figure, to
merge into a scenario that adds what a history cannot tell: the desk, the work times, the
period to simulate.

Each figure is measured the way the simulator draws it, so a simulated desk's events
calibrate a scenario that gives back its own figures (within sampling error).
"""

from __future__ import annotations

import copy
import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from attrs import field, frozen

from helpdesk_core._time import ensure_aware, format_duration
from helpdesk_core.config import DeskConfig
from helpdesk_core.errors import ValidationError
from helpdesk_core.model import (
    ActorKind,
    Channel,
    CommentAdded,
    DeEscalated,
    Escalated,
    Event,
    Impact,
    Rated,
    StatusCategory,
    StatusChanged,
    TicketOpened,
    TicketRouted,
    TicketUpdated,
    Urgency,
)
from helpdesk_core.model._validate import require, to_utc
from helpdesk_core.model.people import ANONYMOUS_REQUESTER
from helpdesk_core.simulation.scenario import HOURS_PER_WEEK, MAX_REQUESTERS, _csat_key

__all__ = ["Calibration", "calibrate"]

#: The shortest history :func:`calibrate` reads: every hour of the week must be seen once.
MIN_SPAN = timedelta(days=7)
#: Delays are given as ``"lognormal"`` (mean and sigma fitted), ``"exponential"`` (the
#: mean) or ``"empirical"`` (the observed delays, at most :data:`MAX_SAMPLES` quantiles).
DELAY_KINDS = ("lognormal", "exponential", "empirical")
MAX_SAMPLES = 1000
#: The arrivals' shape is given as a 168-hour ``"week"`` profile, or as 7 weekday and 24
#: hour multipliers (``"weekdays_hours"``).
PROFILE_KINDS = ("week", "weekdays_hours")
#: A fitted lognormal's sigma is kept within these (a scenario takes 0 < sigma < 10);
#: below the first the delays are all alike and given as fixed.
_SIGMA = (1e-4, 9.99)


@frozen(kw_only=True)
class Calibration:
    """What :func:`calibrate` measured.

    ``document`` holds scenario sections (``arrivals``, ``tiers``, ``requesters``) with
    the figures the history gave; a figure with nothing to measure it by (no ticket was
    ever rated, say) is left out, so a scenario it is merged into keeps its own.
    ``counts`` says how many observations each figure rests on, by its path in the
    document (``"tiers.L1.solve"``: the tier's decisions). ``start`` and ``end`` bound
    the tickets read (opened in ``[start, end)``), ``tickets`` counts them."""

    document: Mapping[str, Any] = field(hash=False)
    counts: Mapping[str, int] = field(hash=False)
    start: datetime
    end: datetime
    tickets: int

    def merge(self, scenario: Mapping[str, Any], *, keep_bursts: bool = False) -> dict[str, Any]:
        """A copy of the scenario document ``scenario`` with the measured figures in it:
        each measured key replaces the scenario's own, everything else is kept (the desk,
        the work times, the simulated period ...). The measured arrival shape (``profile``,
        or ``weekdays`` and ``hours``) replaces the scenario's.

        The scenario's ``arrivals.bursts`` are left out: the measured ``rate_per_hour``
        and shape already hold every ticket the history got, those its bursts brought
        among them, so keeping them would send those tickets twice. ``keep_bursts=True``
        keeps them, for bursts the history has not seen (a launch still to come)."""
        if not isinstance(scenario, Mapping):
            raise ValidationError(
                f"scenario is a scenario document (a mapping), got {type(scenario).__name__}",
                field="scenario",
            )
        if not isinstance(keep_bursts, bool):
            raise ValidationError(
                f"keep_bursts is True or False, got {type(keep_bursts).__name__}",
                field="keep_bursts",
            )
        merged = copy.deepcopy(dict(scenario))
        arrivals = merged.get("arrivals")
        measured = self.document.get("arrivals", {})
        if isinstance(arrivals, Mapping):
            dropped: set[str] = set()
            if "profile" in measured or "hours" in measured:
                dropped |= {"profile", "weekdays", "hours"}  # one shape replaces the other
            if not keep_bursts and "rate_per_hour" in measured:
                dropped.add("bursts")  # the measured rate holds what they brought
            merged["arrivals"] = {k: v for k, v in arrivals.items() if k not in dropped}
        _merge_into(merged, self.document)
        return merged


def _merge_into(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    for key, value in source.items():
        present = target.get(key)
        if isinstance(value, Mapping) and isinstance(present, Mapping) and not _delay_key(key):
            if _mix(key):
                # A key the history never saw is never drawn, but stays named with weight
                # 0: work times or an escalation of that category still load. A key the
                # history saw under another spelling ("Email", a score given as 5) is
                # that entry: the measured one replaces it.
                seen = {_entry(key, name) for name in value}
                unseen = [name for name in present if _entry(key, name) not in seen]
                target[key] = {**dict.fromkeys(unseen, 0.0), **copy.deepcopy(dict(value))}
                continue
            inner = dict(present)
            _merge_into(inner, value)
            target[key] = inner
        else:
            target[key] = copy.deepcopy(value)


def _delay_key(key: str) -> bool:
    """A delay is one distribution, replaced as a whole (its keys depend on its kind: a
    lognormal's mean and sigma do not go with an empirical's samples)."""
    return key in ("reply", "reopen_delay")


def _mix(key: str) -> bool:
    """A mix of weights is replaced as a whole, by the measured weights."""
    return key in _ENTRY_NAMES


#: How a scenario names the entries of each mix, whatever their spelling.
_ENTRY_NAMES: dict[str, Callable[[Any], str]] = {
    "channels": lambda key: Channel.parse(key).value,
    "categories": str,
    "impact": lambda key: Impact.parse(key).value,
    "urgency": lambda key: Urgency.parse(key).value,
    "csat": _csat_key,
}


def _entry(mix: str, key: Any) -> Any:
    """The entry ``key`` names in ``mix``, as the scenario reads it (a key it refuses is
    left as it is, for the scenario to name)."""
    try:
        return _ENTRY_NAMES[mix](key)
    except (TypeError, ValueError):
        return key


class _Ticket:
    """What calibration follows of one ticket."""

    __slots__ = ("asked", "category", "pending_since", "rated", "reopened", "solved_at",
                 "solves", "tier")

    def __init__(self, category: StatusCategory) -> None:
        self.tier: str | None = None  # until routing or an escalation names one
        self.category = category
        self.asked: set[str] = set()  # tiers that asked the requester
        self.pending_since: datetime | None = None
        self.solved_at: datetime | None = None
        self.solves = 0
        self.reopened = False
        self.rated = False


class _Tally:
    """Counts and samples, filled event by event."""

    def __init__(self, first_tier: str | None) -> None:
        self.first_tier = first_tier
        self.tickets: dict[str, _Ticket] = {}
        self.openings: list[datetime] = []
        self.mixes: dict[str, Counter[str]] = {
            name: Counter() for name in ("channels", "categories", "impact", "urgency")
        }
        self.requesters: set[str] = set()
        self.named = 0  # openings by a requester not erased
        self.solves: Counter[str] = Counter()
        self.escalations: Counter[str] = Counter()
        self.asks: Counter[str] = Counter()
        self.ask_draws: Counter[str] = Counter()
        self.replies: list[float] = []
        self.reopen_delays: list[float] = []
        self.scores: Counter[int] = Counter()

    def opened(self, event: TicketOpened) -> None:
        self.tickets[event.ticket_id] = _Ticket(event.status_category)
        self.openings.append(event.at)
        self.mixes["channels"][event.channel.value] += 1
        self.mixes["categories"][event.category or "general"] += 1
        self.mixes["impact"][event.impact.value] += 1
        self.mixes["urgency"][event.urgency.value] += 1
        if event.requester != ANONYMOUS_REQUESTER:  # an erased person is no one
            self.requesters.add(event.requester)
            self.named += 1

    def decision(self, ticket: _Ticket, tier: str) -> None:
        """A tier solved or escalated: a draw of whether to ask first, if it had not."""
        if tier not in ticket.asked:
            self.ask_draws[tier] += 1

    def event(self, ticket: _Ticket, event: Event) -> None:
        tier = ticket.tier or self.first_tier
        if isinstance(event, TicketRouted | TicketUpdated):
            if event.changes.tier is not None:
                ticket.tier = event.changes.tier
        elif isinstance(event, Escalated):
            source = event.from_tier or self.first_tier  # none: worked at the first tier
            if event.by.kind is not ActorKind.SYSTEM and source is not None:
                self.escalations[source] += 1
                self.decision(ticket, source)
            ticket.tier = event.to_tier
        elif isinstance(event, DeEscalated):
            ticket.tier = event.to_tier
        elif isinstance(event, StatusChanged):
            self.status(ticket, event, tier)
        elif isinstance(event, CommentAdded):
            if ticket.pending_since is not None and event.public and event.by.is_requester:
                self.replies.append((event.at - ticket.pending_since).total_seconds())
                ticket.pending_since = None
        elif isinstance(event, Rated) and not ticket.rated and ticket.solves:
            # The simulator rates solved tickets only: a ticket closed unsolved (cancelled)
            # and rated is not one of its ratings (and would push the share past 1).
            ticket.rated = True
            self.scores[event.score] += 1

    def status(self, ticket: _Ticket, event: StatusChanged, tier: str | None) -> None:
        before, after = ticket.category, event.category
        ticket.category = after
        if after is not StatusCategory.PENDING:
            ticket.pending_since = None
        if after is before:
            return
        # A move the lifecycle or automation made is no decision of the tier's.
        if event.automatic or event.by.kind is ActorKind.SYSTEM:
            tier = None
        if after is StatusCategory.PENDING and before.is_active:
            ticket.pending_since = event.at
            if tier is not None and tier not in ticket.asked:
                self.asks[tier] += 1
                self.ask_draws[tier] += 1
                ticket.asked.add(tier)
        elif after is StatusCategory.SOLVED and before.is_active:
            ticket.solves += 1
            ticket.solved_at = event.at
            if tier is not None:
                self.solves[tier] += 1
                self.decision(ticket, tier)
        elif (
            before is StatusCategory.SOLVED
            and after.is_active
            and not ticket.reopened
            and ticket.solved_at is not None
        ):
            ticket.reopened = True
            self.reopen_delays.append((event.at - ticket.solved_at).total_seconds())


def _in_utc(value: Any, name: str) -> datetime:
    """The aware datetime ``value`` in UTC; ValidationError naming ``name`` when it is
    naive, or an instant of year 1 or 9999 in its zone that UTC cannot show."""
    try:
        utc: datetime = to_utc(ensure_aware(value, field=name))
    except ValidationError as exc:
        raise ValidationError(exc.message, field=name) from None
    return utc


def calibrate(
    history: Any,
    *,
    desk: DeskConfig,
    start: datetime | None = None,
    end: datetime | None = None,
    delays: str = "lognormal",
    profile: str = "week",
) -> Calibration:
    """Measure a scenario's figures from the events a desk recorded.

    ``history`` is a store (its :meth:`~helpdesk_core.storage.Store.event_stream` is read),
    a :class:`~helpdesk_core.simulation.SimulationResult` (its events), or an iterable of
    events or of ``(position, event)`` pairs, in the order they were recorded. ``desk``
    is the desk's configuration: its time zone places the hour-of-week profile, its tiers
    say which is the first (where a ticket without one is worked) and the top (which
    solves everything, so it gets no ``solve``). The tickets read are those opened in
    ``[start, end)`` (by default from the first opening to just after the last); their
    later events count wherever they fall. At least seven days of openings are needed, so
    that every hour of the week is seen. ``delays`` says how the requesters' reply and
    reopen delays are given (one of :data:`DELAY_KINDS`; a lognormal whose delays are
    all alike is given as fixed, and one with a delay of nothing as exponential).
    ``profile`` says how the arrivals' hour-of-week shape is given: ``"week"``, 168
    multipliers, or ``"weekdays_hours"``, 7 weekday and 24 hour multipliers whose
    products make the week: fewer figures, each from more tickets, for a short history.

    What is measured, as the simulator draws it:

    - ``arrivals``: ``rate_per_hour`` (openings over the hours of the period), a 168-hour
      ``profile`` (each hour of the week's rate over that mean, in the desk's zone; an
      hour the period never held, skipped by a spring-forward, gets its weekday's
      multiplier times its hour's), or ``weekdays`` and ``hours`` (each weekday's and
      each hour of the day's), and the ``channels``, ``categories`` (``general``:
      none), ``impact`` and ``urgency`` shares of the openings;
    - ``tiers.<id>.solve``: of the tier's decisions (a move into a solved status, or an
      escalation), the share that solved; ``tiers.<id>.pending``: of the tier's
      decisions until it first asked on a ticket, the share that asked the requester (a
      move into a pending status). Moves the lifecycle or automation made
      (``automatic``, or by a system actor) are no decisions; an escalation that names
      no tier it left counts for the first tier;
    - ``requesters``: ``count`` (how many people the simulator's uniform draw needs to
      reach as many different ones as opened the tickets, in as many tickets; the
      people a retention policy or an erasure anonymised are left out), ``reply`` (from
      the move into pending to the requester's next public comment), ``reopen`` (the
      share of solved tickets reopened) and ``reopen_delay`` (from the solve to the
      reopen), ``csat_response`` (the share of solved tickets rated) and ``csat`` (the
      scores' shares; a ticket closed without being solved, cancelled, is not a
      rating).
    """
    require(desk, DeskConfig, "a DeskConfig", field="desk")
    if profile not in PROFILE_KINDS:
        raise ValidationError(
            f"profile is one of {', '.join(PROFILE_KINDS)}, got {profile!r}", field="profile"
        )
    if delays not in DELAY_KINDS:
        raise ValidationError(
            f"delays is one of {', '.join(DELAY_KINDS)}, got {delays!r}", field="delays"
        )
    start = None if start is None else _in_utc(start, "start")
    end = None if end is None else _in_utc(end, "end")
    if start is not None and end is not None and end <= start:
        raise ValidationError("end must come after start", field="end")
    tiers = [tier.id for tier in desk.tiers]
    tally = _Tally(tiers[0] if tiers else None)
    for event in _events(history):
        if isinstance(event, TicketOpened):
            # a ticket opened outside the period is not followed: its later events pass
            if (start is None or event.at >= start) and (end is None or event.at < end):
                tally.opened(event)
            continue
        ticket = tally.tickets.get(event.ticket_id)
        if ticket is not None:
            tally.event(ticket, event)
    if not tally.openings:
        raise ValidationError("the history holds no ticket opened in the period", field="history")
    first = start if start is not None else min(tally.openings)
    try:
        last = end if end is not None else max(tally.openings) + timedelta(seconds=1)
    except OverflowError:  # an opening in the last second a datetime holds
        last = datetime.max.replace(tzinfo=UTC)
    # (a local week that holds a spring-forward lasts an hour less)
    if last - first < MIN_SPAN - timedelta(hours=1):
        raise ValidationError(
            f"calibrating takes at least {MIN_SPAN.days} days of openings (every hour of the "
            f"week), got {format_duration(last - first)}",
            field="history",
        )
    return _calibration(tally, desk, tiers, first, last, delays, profile)


def _events(history: Any) -> Iterable[Event]:
    """The events of ``history`` (see :func:`calibrate`), checked one by one."""
    from helpdesk_core.simulation.result import SimulationResult

    source: Any
    if isinstance(history, SimulationResult):
        source = history.events
    elif callable(getattr(history, "event_stream", None)):
        source = history.event_stream()
    elif isinstance(history, str | bytes | Mapping) or not isinstance(history, Iterable):
        raise ValidationError(
            "history is a store, a SimulationResult or an iterable of events, got "
            f"{type(history).__name__}",
            field="history",
        )
    else:
        source = history
    for index, item in enumerate(source):
        event = item[1] if isinstance(item, tuple) and len(item) == 2 else item
        if not isinstance(event, Event):
            raise ValidationError(
                f"history[{index}] is not an event: {type(event).__name__}", field="history"
            )
        yield event


def _calibration(
    tally: _Tally, desk: DeskConfig, tiers: list[str], first: datetime, last: datetime,
    delays: str, shape: str,
) -> Calibration:
    counts: dict[str, int] = {}
    zone = ZoneInfo(desk.settings.timezone)
    hours = (last - first).total_seconds() / 3600
    tickets = len(tally.openings)
    mean = tickets / hours
    try:
        seen, held = _by_hour_of_week(tally.openings, first, last, zone)
    except OverflowError:  # late on 9999-12-31 UTC is the year 10000 at +14:00
        raise ValidationError(
            f"the period {first.isoformat()} to {last.isoformat()} runs out of the dates the "
            f"desk's time zone {zone.key} can show (the years 1 to 9999): calibrate a "
            "period further from them, with start and end",
            field="history",
        ) from None
    arrivals: dict[str, Any] = {"rate_per_hour": round(mean, 6)}
    days = [slice(day * 24, day * 24 + 24) for day in range(7)]
    weekdays = _multipliers([sum(seen[d]) for d in days], [sum(held[d]) for d in days], mean)
    by_hour = _multipliers(
        [sum(seen[h::24]) for h in range(24)], [sum(held[h::24]) for h in range(24)], mean
    )
    if shape == "week":
        week = _multipliers(seen, held, mean)
        for slot, hours in enumerate(held):
            if hours <= 0:
                # An hour of the week the period never held (the hour a spring-forward
                # skips, in a history of one such week): no sign of no arrivals, so its
                # weekday's and its hour's rates tell it, as weekdays_hours would.
                week[slot] = round(weekdays[slot // 24] * by_hour[slot % 24], 6)
        arrivals["profile"] = week
    else:
        arrivals["weekdays"] = weekdays
        arrivals["hours"] = by_hour
    for name in ("rate_per_hour", "profile", "weekdays", "hours"):
        if name in arrivals:
            counts[f"arrivals.{name}"] = tickets
    for name, counter in tally.mixes.items():
        arrivals[name] = _shares(counter)
        counts[f"arrivals.{name}"] = tickets
    document: dict[str, Any] = {"arrivals": arrivals}
    tier_doc: dict[str, Any] = {}
    top = tiers[-1] if tiers else None
    for tier in tiers:
        measured: dict[str, Any] = {}
        decisions = tally.solves[tier] + tally.escalations[tier]
        if tier != top and decisions:
            measured["solve"] = tally.solves[tier] / decisions
            counts[f"tiers.{tier}.solve"] = decisions
        if tally.ask_draws[tier]:
            measured["pending"] = tally.asks[tier] / tally.ask_draws[tier]
            counts[f"tiers.{tier}.pending"] = tally.ask_draws[tier]
        if measured:
            tier_doc[tier] = measured
    if tier_doc:
        document["tiers"] = tier_doc
    requesters: dict[str, Any] = {}
    if tally.requesters:
        requesters["count"] = _population(len(tally.requesters), tally.named)
        counts["requesters.count"] = tally.named
    if tally.replies:
        requesters["reply"] = _delay(tally.replies, delays)
        counts["requesters.reply"] = len(tally.replies)
    solved = sum(1 for t in tally.tickets.values() if t.solves)
    if solved:
        reopened = sum(1 for t in tally.tickets.values() if t.reopened)
        requesters["reopen"] = reopened / solved
        requesters["csat_response"] = sum(tally.scores.values()) / solved
        counts["requesters.reopen"] = counts["requesters.csat_response"] = solved
    if tally.reopen_delays:
        requesters["reopen_delay"] = _delay(tally.reopen_delays, delays)
        counts["requesters.reopen_delay"] = len(tally.reopen_delays)
    if tally.scores:
        requesters["csat"] = _shares(Counter({str(k): v for k, v in tally.scores.items()}))
        counts["requesters.csat"] = sum(tally.scores.values())
    document["requesters"] = requesters
    return Calibration(document=document, counts=counts, start=first, end=last, tickets=tickets)


def _by_hour_of_week(
    openings: list[datetime], first: datetime, last: datetime, zone: ZoneInfo
) -> tuple[list[int], list[float]]:
    """Per hour of the week (in the desk's zone, Monday 00:00 first): the openings in it,
    and the hours of it the period holds (the first and last in part)."""
    held = [0.0] * HOURS_PER_WEEK
    # The hours stepped through are the zone's: from the start of the local hour ``first``
    # falls in (in a zone off the hour, India's, a UTC hour would be half of one local
    # hour and half of the next).
    local = first.astimezone(zone)
    hour = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    while hour < last:
        following = hour + timedelta(hours=1)
        covered = (min(following, last) - max(hour, first)).total_seconds() / 3600
        local = hour.astimezone(zone)
        held[local.weekday() * 24 + local.hour] += covered
        hour = following
    seen = [0] * HOURS_PER_WEEK
    for at in openings:
        local = at.astimezone(zone)
        seen[local.weekday() * 24 + local.hour] += 1
    return seen, held


def _multipliers(seen: list[int], held: list[float], mean: float) -> list[float]:
    """Each slot's rate (openings over hours held) over the ``mean`` rate."""
    return [
        round(count / hours / mean, 6) if hours > 0 else 0.0
        for count, hours in zip(seen, held, strict=True)
    ]


def _population(distinct: int, openings: int) -> int:
    """How many people a uniform draw (the simulator's) picks ``openings`` times from to
    reach ``distinct`` different ones, as expected: the N with
    ``N * (1 - (1 - 1/N) ** openings) == distinct``. When nobody opened twice no finite N
    fits best; then the N whose draws would expect half a repeat, ``openings *
    (openings - 1)``. At most :data:`MAX_REQUESTERS`."""
    if distinct >= openings:
        return max(distinct, min(openings * (openings - 1), MAX_REQUESTERS))

    def reached(n: float) -> float:
        return n * -math.expm1(openings * math.log1p(-1 / n)) if n > 1 else 1.0

    low, high = float(distinct), float(MAX_REQUESTERS)
    if reached(high) <= distinct:
        return MAX_REQUESTERS
    for _ in range(200):  # bisection: reached() grows with n
        middle = (low + high) / 2
        if reached(middle) < distinct:
            low = middle
        else:
            high = middle
        if high - low < 0.01:
            break
    return max(distinct, round((low + high) / 2))


def _shares(counter: Counter[str]) -> dict[str, float]:
    total = sum(counter.values())
    return {key: round(count / total, 6) for key, count in sorted(counter.items())}


def _delay(seconds: list[float], kind: str) -> Any:
    """Observed delays as a scenario's duration distribution of ``kind``."""
    mean = statistics.fmean(seconds)
    if kind != "empirical" and mean <= 0:
        return {"kind": "fixed", "value": 0}
    if kind == "lognormal" and min(seconds) > 0:
        sigma = statistics.pstdev([math.log(s) for s in seconds])
        if sigma < _SIGMA[0]:  # all alike
            return {"kind": "fixed", "value": _duration(mean)}
        sigma = round(min(sigma, _SIGMA[1]), 4)
        return {"kind": "lognormal", "mean": _duration(mean), "sigma": sigma}
    if kind != "empirical":  # exponential, or lognormal with a delay of nothing
        return _duration(mean)
    ordered = sorted(seconds)
    if len(ordered) > MAX_SAMPLES:
        step = (len(ordered) - 1) / (MAX_SAMPLES - 1)
        ordered = [ordered[round(i * step)] for i in range(MAX_SAMPLES)]
    return {"kind": "empirical", "samples": [round(s, 3) for s in ordered]}


def _duration(seconds: float) -> str | float:
    """A positive duration as short text from a minute up (``"4h 12m 5s"``), else in
    seconds (a millisecond at least)."""
    if seconds >= 60:
        return format_duration(timedelta(seconds=round(seconds)))
    return max(round(seconds, 3), 0.001)
