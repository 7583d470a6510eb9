"""The SLA clock engine: pure functions of a ticket, its latest event and ``now``.

- :func:`react` returns the SLA events a domain event causes (clocks start, pause, resume,
  stop, retarget), after recording any warning or breach that fell due before it;
- :func:`due_events` returns the warnings and breaches due by ``now``, each stamped with the
  exact instant its threshold was crossed, so ticking every second or once a day records
  the same events;
- :func:`next_wakeup` tells a scheduler when a ticket next needs :func:`due_events`.

The caller folds the returned events into the ticket with
:func:`~helpdesk_core.model.apply_event`; nothing here reads the wall clock.

Metrics (see ``docs/sla-clocks.md``): ``first_response`` runs from the opening to the first
public agent reply and never restarts; ``next_response`` runs from the oldest unanswered
public requester message (after the first response) to the next public agent reply, one
cycle per burst of messages; ``resolution`` runs to solved, and on reopen continues or
restarts (:class:`~helpdesk_core.sla.policy.ReopenMode`); ``periodic_update`` runs from each
public agent reply to the next one while the ticket is active. Solving or closing a ticket
stops every clock. Internal notes never stop a response clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from enum import Enum

from helpdesk_core._time import ensure_aware, format_duration
from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import (
    CommentAdded,
    Event,
    Metric,
    SlaClock,
    Ticket,
)
from helpdesk_core.model._validate import require
from helpdesk_core.model.events import CANCELLED, NO_TARGET, SLA_EVENT_TYPES
from helpdesk_core.sla._transitions import (
    SLA_ACTOR,
    Calendar,
    Step,
    disarmed_warning,
    next_threshold,
    rearmed_warning,
    warned_threshold,
)
from helpdesk_core.sla.calendar import BusinessCalendar
from helpdesk_core.sla.policy import ReopenMode, SlaPolicy

__all__ = [
    "CANCELLED",
    "NO_TARGET",
    "SLA_ACTOR",
    "Policies",
    "SlaEngine",
    "due_events",
    "next_wakeup",
    "next_wakeup_many",
    "react",
]

#: The policies clocks may run under, by name or as a sequence (the desk's list).
Policies = Mapping[str, SlaPolicy] | Iterable[SlaPolicy]


_NO_TARGETS: Mapping[Metric, timedelta] = {}
_METRICS = tuple((metric, metric.value) for metric in Metric)


class _Do(Enum):
    START = "start"
    STOP = "stop"
    RESTART = "restart"
    CONTINUE = "continue"  # a reopened ticket: the policy's reopen mode says how
    CARRY_ON = "carry_on"  # a target came back: the stopped clock goes on where it was


class _Env:
    """Calendars and policies looked up by name, with errors that name what is missing."""

    __slots__ = ("calendars", "policies", "run_on")

    def __init__(
        self,
        policies: Policies,
        calendars: Mapping[str, BusinessCalendar],
        current: SlaPolicy | None = None,
    ) -> None:
        if not isinstance(calendars, Mapping):
            raise ValidationError(
                f"calendars maps names to BusinessCalendar, got {type(calendars).__name__}",
                field="calendars",
            )
        for name, calendar in calendars.items():
            if not (callable(getattr(calendar, "add", None)) and callable(
                getattr(calendar, "elapsed", None)
            )):
                raise ValidationError(
                    f"calendars maps names to BusinessCalendar, got {type(calendar).__name__} "
                    f"under {name!r} (build it with BusinessCalendar.from_dict)",
                    field=f"calendars.{name}",
                )
        table: dict[str, SlaPolicy] = {}
        if isinstance(policies, str | bytes) or not isinstance(policies, Mapping | Iterable):
            raise ValidationError("policies is a list or mapping of SlaPolicy", field="policies")
        items = policies.values() if isinstance(policies, Mapping) else policies
        for item in items:
            if not isinstance(item, SlaPolicy):
                raise ValidationError(
                    f"expected SlaPolicy values, got {type(item).__name__}", field="policies"
                )
            if item.name in table and table[item.name] != item:
                raise ValidationError(
                    f"two different SLA policies are named {item.name!r}: clocks find their "
                    "policy by name",
                    field="policies",
                )
            table[item.name] = item
        if current is not None:
            table[current.name] = current
        self.policies = table
        self.calendars = calendars
        self.run_on = False

    def with_current(self, policy: SlaPolicy | None) -> _Env:
        """This environment, knowing ``policy`` too (itself when it already does)."""
        if policy is None or self.policies.get(policy.name) is policy:
            return self
        env = _Env.__new__(_Env)
        env.policies = {**self.policies, policy.name: policy}
        env.calendars = self.calendars
        env.run_on = self.run_on
        return env

    def calendar(self, name: str) -> Calendar:
        try:
            return self.calendars[name]
        except KeyError:
            known = ", ".join(sorted(self.calendars)) or "none"
            raise ConfigError(
                f"unknown calendar {name!r} (calendars given: {known})", path=f"calendars.{name}"
            ) from None

    def thresholds(self, clock: SlaClock) -> tuple[float, ...]:
        """The warning thresholds of the clock's policy. A policy that is not given is
        an error, unless the engine runs clocks of retired policies on (see
        :class:`SlaEngine`): then it warns no more."""
        policy = self.policies.get(clock.policy)
        if policy is None:
            if self.run_on:
                return ()
            raise ConfigError(
                f"the {clock.metric.value} clock runs under SLA policy {clock.policy!r}, "
                "which is not among the policies given",
                path=f"policies.{clock.policy}",
            )
        return policy.warnings


def _check_ticket(ticket: Ticket) -> None:
    if not isinstance(ticket, Ticket):
        raise ValidationError(f"expected a Ticket, got {type(ticket).__name__}", field="ticket")


def _due(
    ticket: Ticket, env: _Env, now: datetime, *, rearm: bool = False
) -> tuple[list[Event], dict[Metric, SlaClock]]:
    """The warnings and breaches due by ``now``, and the clocks after them. A clock whose
    armed warning falls due is first checked against its policy's thresholds (re-armed
    if they say otherwise now, see :meth:`Step.rearm`); with ``rearm``, every active
    clock is, and against its policy's target, calendar and pauses too (brought in line
    if they changed, see :func:`_follow`): a catch-up, a calendar step or two per clock,
    which a reaction to each event does without."""
    clocks: dict[Metric, SlaClock] = {}
    events: list[Event] = []
    sla = ticket.sla
    for metric, key in _METRICS:
        clock = sla.get(key)
        if clock is None:
            continue
        clocks[metric] = clock
        if clock.stopped_at is not None:
            continue
        if rearm:
            change = _drift(ticket, clock, env)
            if change is not None:
                step = Step(ticket.id)
                clock = _follow(step, clock, env, now, change)
                events.extend(step.events)
                clocks[metric] = clock
                if clock.stopped_at is not None:
                    continue
        deadline = clock.deadline
        if deadline is None:
            continue  # paused
        calendar = env.calendar(clock.calendar)
        thresholds = env.thresholds(clock)
        warn_at = clock.warn_at
        if (warn_at is not None and warn_at <= now) or (
            clock.breached_at is None and deadline <= now
        ):
            step = Step(ticket.id)
            if rearm or (warn_at is not None and warn_at <= now):
                clock = step.rearm(clock, calendar, thresholds, now, _rearm_reason(clock, env))
            clocks[metric] = step.due(clock, calendar, thresholds, now)
            events.extend(step.events)
        elif rearm and _misarmed(clock, env, now):
            step = Step(ticket.id)
            clock = step.rearm(clock, calendar, thresholds, now, _rearm_reason(clock, env))
            clocks[metric] = step.due(clock, calendar, thresholds, now)
            events.extend(step.events)
    if len(events) > 1:
        events.sort(key=_instant)  # stable: metric order among equal instants
    return events, clocks


#: What a clock's policy, as now given, asks of it: the policy, the metric's target (None:
#: no target any more), the reason of a retarget ("" for none) and whether it pauses.
_Drift = tuple[SlaPolicy, "timedelta | None", str, bool]
_ZERO = timedelta(0)


def _drift(ticket: Ticket, clock: SlaClock, env: _Env) -> _Drift | None:
    """How the active clock's policy, as given now, differs from what the clock runs
    under (a reconfiguration changed its target, its calendar's name or hours, or the
    status categories it pauses in); None when it does not, or when the policy is not
    given (a retired policy's clocks run on). A running clock's calendar is compared by
    what it gives: the deadline the clock is armed for is not the one it gives now."""
    policy = env.policies.get(clock.policy)
    if policy is None:
        return None
    metric = clock.metric
    target = policy.targets.get(ticket.priority, _NO_TARGETS).get(metric)
    pausing = ticket.status_category in policy.pauses[metric]
    running = clock.deadline is not None
    if target is None:
        return policy, None, "", pausing
    parts = []
    if target != clock.target:
        parts.append(
            f"target {format_duration(clock.target)} changed to {format_duration(target)}"
        )
    if policy.calendar != clock.calendar:
        parts.append(f"calendar {clock.calendar!r} replaced by {policy.calendar!r}")
    elif running and clock.breached_at is None:
        rest = clock.target - clock.used
        # In UTC, as the clock's: ``!=`` never finds a datetime in the calendar's zone that
        # falls in a repeated (fall-back) hour equal to the same instant in another zone.
        if rest > _ZERO and (
            env.calendar(clock.calendar).add(clock.as_of, rest).astimezone(UTC) != clock.deadline
        ):
            parts.append(f"calendar {clock.calendar!r} changed")
    if parts:
        return policy, target, f"SLA policy {policy.name!r}: " + ", ".join(parts), pausing
    if running is pausing:  # running where it pauses now, or paused where it runs
        return policy, target, "", pausing
    return None


def _follow(
    step: Step, clock: SlaClock, env: _Env, now: datetime, drift: _Drift
) -> SlaClock:
    """Bring the active clock in line with its policy as given now (see :func:`_drift`),
    as a change of the ticket would: retargeted keeping the business time used and the
    pauses taken (the time since its last change counted on its calendar as given now),
    stopped when its metric has no target any more, paused or resumed as the status
    categories it pauses in say. At ``now``, or at the instant a running clock is armed
    for (its next warning, else its deadline) if that came first: nothing falls due under
    the old rules once they changed. A clock whose last change is after ``now`` is left."""
    policy, target, reason, pausing = drift
    if now < clock.as_of:
        return clock
    at = now
    if clock.deadline is not None:
        for armed in (clock.warn_at, None if clock.breached_at else clock.deadline):
            if armed is not None and armed < at:
                at = armed
    for recorded in (clock.as_of, clock.warned_at, clock.breached_at):
        if recorded is not None and recorded > at:
            at = recorded
    calendar = env.calendar(clock.calendar)
    if target is None:
        return step.stop(clock, calendar, at, NO_TARGET)
    if reason:
        clock = _retarget(step, clock, policy, target, env, at, reason)
        calendar = env.calendar(policy.calendar)
    if clock.is_running and pausing:
        clock = step.pause(clock, calendar, at)
    elif not clock.is_running and not pausing:
        clock = step.resume(clock, calendar, policy.warnings, at)
    return clock


def _check_order(ticket: Ticket, at: datetime) -> None:
    """SLA clocks move forward only: an event may not predate what a clock recorded."""
    for clock in ticket.sla.values():
        if clock.stopped_at is not None:
            continue
        latest = clock.as_of
        for instant in (clock.warned_at, clock.breached_at):
            if instant is not None and instant > latest:
                latest = instant
        if at < latest:
            raise ValidationError(
                f"event at {at.isoformat()} predates the {clock.metric.value} clock's record "
                f"at {latest.isoformat()}: SLA clocks move forward only",
                field="event.at",
            )


def _instant(event: Event) -> datetime:
    return event.at


def due_events(
    ticket: Ticket,
    *,
    policies: Policies,
    calendars: Mapping[str, BusinessCalendar],
    now: datetime,
) -> list[Event]:
    """The SLA warnings and breaches of the ticket's running clocks whose instants are at
    or before ``now`` and not yet recorded, in instant order.

    Each event is stamped with the exact instant its threshold was crossed (a warning
    when the business time used reaches ``target * threshold``, the breach at the
    deadline), computed from the recorded clock, not from ``now``: calling this at any
    ``now`` -- every second or once a day -- records the same events with the same
    instants. ``policies`` supplies each clock's warning thresholds (looked up by the
    clock's policy name); ``calendars`` its calendar. The next warning of a clock is the
    first of its policy's thresholds above the highest it warned of in its cycle
    (:attr:`~helpdesk_core.model.SlaClock.warned_threshold`): a threshold is warned of at
    most once per cycle, and never after a higher one.

    A running clock armed for its next warning otherwise than its policy's thresholds
    say now (a threshold's value changed, or the policy gained or lost one, since it was
    armed) is first re-armed, as a retarget that keeps the target: an
    :class:`~helpdesk_core.model.SlaTargetChanged` at ``now``, or at the instant the
    clock was armed for if that came first. Warnings already recorded stay recorded;
    thresholds above the highest of them that the time used has passed are recorded at
    the re-arming; the next falls due at its own instant.

    An active clock whose policy, as given now, has another target for its metric, another
    calendar, a calendar of the same name that gives another deadline (its hours or
    holidays changed), or pauses it in other status categories, is first brought in
    line, at the same instant, as a change of the ticket would: retargeted keeping the
    business time used and the pauses taken (the time since the clock's last change
    counted on its calendar as given now; a breach at once is recorded there), stopped
    when the metric has no target any more, paused or resumed. Nothing falls due under
    the old rules.
    """
    return SlaEngine(policies, calendars).due_events(ticket, now=now)


def next_wakeup(ticket: Ticket) -> datetime | None:
    """The next instant a running clock of the ticket crosses a threshold (a warning, or
    its deadline when not yet breached); None when no clock will."""
    _check_ticket(ticket)
    return _next_wakeup(ticket, None)


def _next_wakeup(ticket: Ticket, env: _Env | None) -> datetime | None:
    """:func:`next_wakeup`; with ``env``, a warning the clock's policy no longer has is
    left out (:meth:`Step.due` records none: waiting for it would wake for nothing)."""
    best: datetime | None = None
    for clock in ticket.sla.values():
        if not clock.is_running:
            continue
        warn_at = clock.warn_at
        if warn_at is not None and env is not None:
            thresholds = env.thresholds(clock)
            if next_threshold(warned_threshold(clock, thresholds), thresholds) is None:
                warn_at = None
        for instant in (warn_at, None if clock.breached_at else clock.deadline):
            if instant is not None and (best is None or instant < best):
                best = instant
    return best


def _rearmed_wakeup(ticket: Ticket, env: _Env) -> datetime | None:
    """:func:`_next_wakeup` with ``env``, where a clock whose policy changed under it
    (see :func:`_drift`), or that is armed for its next warning otherwise than its
    policy's thresholds say now (or for one they no longer have), is due at once: its
    last change's instant. The catch-up that follows a reconfiguration then brings it in
    line at that instant, whenever the next one would have come (re-armed only at a
    later catch-up, the instant would depend on how often the desk ticks)."""
    best = _next_wakeup(ticket, env)
    for clock in ticket.sla.values():
        if best is not None and best <= clock.as_of:
            continue
        if (clock.stopped_at is None and _drift(ticket, clock, env) is not None) or (
            clock.is_running and _misarmed(clock, env)
        ):
            best = clock.as_of
    return best


def _rearm_reason(clock: SlaClock, env: _Env) -> str:
    """The reason a re-arming gives when it is not its policy's thresholds ("": they)."""
    if clock.policy in env.policies:
        return ""
    return f"SLA policy {clock.policy!r} is not configured any more: it warns no more"


def _misarmed(clock: SlaClock, env: _Env, now: datetime | None = None) -> bool:
    """Whether the running clock's next warning is armed otherwise than its policy's
    thresholds say now, or for a warning they no longer have (see :meth:`Step.rearm`)."""
    thresholds = env.thresholds(clock)
    if disarmed_warning(clock, thresholds, now):
        return True
    return rearmed_warning(clock, env.calendar(clock.calendar), thresholds, now) is not None


def next_wakeup_many(tickets: Iterable[Ticket]) -> datetime | None:
    """The earliest :func:`next_wakeup` of several tickets (None when none has one)."""
    if isinstance(tickets, str | bytes | Mapping) or not isinstance(tickets, Iterable):
        raise ValidationError(
            f"tickets is a list of Ticket, got {type(tickets).__name__}", field="tickets"
        )
    best: datetime | None = None
    for ticket in tickets:
        instant = next_wakeup(ticket)
        if instant is not None and (best is None or instant < best):
            best = instant
    return best


def react(
    ticket: Ticket,
    event: Event,
    *,
    policy: SlaPolicy | None,
    policies: Policies,
    calendars: Mapping[str, BusinessCalendar],
) -> list[Event]:
    """The SLA events that ``event`` causes on ``ticket`` (the ticket AFTER the event).

    ``policy`` is the policy that applies now (None: no SLA; see
    :func:`~helpdesk_core.sla.policy.select_policy`); ``policies`` are all policies clocks
    may still run under (for their warning thresholds). First the warnings and breaches
    that fell due up to ``event.at`` are recorded with their exact instants (as
    :func:`due_events` would, re-arming only a clock whose armed warning fell due: a
    reaction does no calendar arithmetic for the others), so the history does not depend
    on how often anyone ticked.
    Then, metric by metric: a clock whose target, policy or calendar changed is retargeted
    (or stopped when no target applies any more); clocks start, stop, restart or continue
    as the metric's rules say; and clocks pause or resume with the status category. A
    metric that gains a target only now (a priority raised, a policy that applies since)
    starts counting from its original start (the opening, the oldest unanswered message,
    the latest update) unless its policy pauses it in some status category. These events
    are stamped ``event.at`` and caused by ``Actor.system("sla")``.
    """
    return SlaEngine(policies, calendars).react(ticket, event, policy=policy)


class SlaEngine:
    """:func:`react` and :func:`due_events` with the policies and calendars checked once.

    A desk asks the SLA engine about every event it records, always with the same
    policies and calendars; building their lookup table once keeps that cost out of each
    call. The results are those of the functions (which build one engine per call).

    With ``retired_policies="run_on"`` (a desk's choice), a clock whose policy is not among
    the engine's (a configuration retired or renamed it) is no error: it warns no more,
    runs on to its deadline (a breach is still recorded), and moves to the policy that
    applies at the ticket's next change, keeping the time it used. The default,
    ``"error"``, is the functions' behaviour: a ``ConfigError`` naming the policy.
    """

    __slots__ = ("_env",)

    def __init__(
        self,
        policies: Policies,
        calendars: Mapping[str, BusinessCalendar],
        *,
        retired_policies: str = "error",
    ) -> None:
        if retired_policies not in ("error", "run_on"):
            raise ValidationError(
                f"retired_policies is 'error' or 'run_on', got {retired_policies!r}",
                field="retired_policies",
            )
        self._env = _Env(policies, calendars)
        self._env.run_on = retired_policies == "run_on"

    def due_events(self, ticket: Ticket, *, now: datetime) -> list[Event]:
        """See :func:`due_events`."""
        _check_ticket(ticket)
        ensure_aware(now, field="now")
        events, _ = _due(ticket, self._env, now, rearm=True)
        return events

    def next_wakeup(self, ticket: Ticket, *, rearm: bool = False) -> datetime | None:
        """See :func:`next_wakeup`, with the warnings the clocks' policies have now: one a
        policy no longer has (it has fewer thresholds since the clock was armed, or it is
        retired and its clocks run on) is not waited for, as none will be recorded.

        With ``rearm``, a clock armed for its next warning otherwise than its policy's
        thresholds say now (see :func:`due_events`), or for a warning they no longer
        have, and one whose policy's target, calendar or pauses changed under it, is due
        at once (its last change's instant), worked out on the calendar for every
        running clock (a desk asks so when it reschedules its tickets after a
        reconfiguration, not after every command): a catch-up right after the change
        brings them in line there, not at whichever catch-up comes next."""
        _check_ticket(ticket)
        if rearm is False:
            return _next_wakeup(ticket, self._env)
        require(rearm, bool, "True or False", field="rearm")
        return _rearmed_wakeup(ticket, self._env) if rearm else _next_wakeup(ticket, self._env)

    def react(self, ticket: Ticket, event: Event, *, policy: SlaPolicy | None) -> list[Event]:
        """See :func:`react`; ``policy`` need not be among the engine's policies."""
        _check_ticket(ticket)
        if not isinstance(event, Event):
            raise ValidationError(f"expected an Event, got {type(event).__name__}", field="event")
        if event.ticket_id != ticket.id:
            raise ValidationError(
                f"event for ticket {event.ticket_id!r} given with ticket {ticket.id!r}",
                field="event.ticket_id",
            )
        if ticket.updated_at < event.at:
            raise ValidationError(
                "react takes the ticket after the event was applied (its updated_at is "
                "before the event)",
                field="ticket",
            )
        if policy is not None and not isinstance(policy, SlaPolicy):
            raise ValidationError(
                f"expected an SlaPolicy, got {type(policy).__name__}", field="policy"
            )
        return self.react_folded(ticket, event, policy=policy)

    def react_folded(
        self, ticket: Ticket, event: Event, *, policy: SlaPolicy | None
    ) -> list[Event]:
        """:meth:`react` for arguments known to be valid: ``event`` folded into ``ticket``
        (a desk's change, which folded it itself) and ``policy`` None or an SlaPolicy.
        Nothing is checked."""
        if isinstance(event, SLA_EVENT_TYPES):
            return []
        if not ticket.is_active and all(c.stopped_at is not None for c in ticket.sla.values()):
            return []  # solved or closed with every clock stopped: nothing starts or runs
        env = self._env.with_current(policy)
        _check_order(ticket, event.at)
        events, clocks = _due(ticket, env, event.at)
        step = Step(ticket.id)
        targets = policy.targets.get(ticket.priority, _NO_TARGETS) if policy else _NO_TARGETS
        for metric, _ in _METRICS:
            clock = clocks.get(metric)
            if clock is None and metric not in targets:
                continue  # no clock runs, and no target would start one
            _react_metric(step, ticket, event, metric, clock, policy, env)
        events.extend(step.events)
        return events


def _is_agent_reply(event: Event) -> bool:
    return isinstance(event, CommentAdded) and event.public and event.by.is_agent


def _stopped_for_want_of_target(ticket: Ticket, clock: SlaClock) -> bool:
    """Whether a stopped clock of an active ticket was stopped because no target applied
    (it stopped after the latest reopen), not by the ticket being solved."""
    stopped = clock.stopped_at
    reopened = ticket.reopened_at
    return stopped is not None and (reopened is None or stopped > reopened)


def _decide(
    metric: Metric, ticket: Ticket, event: Event, clock: SlaClock | None, has_target: bool
) -> _Do | None:
    active = clock is not None and clock.stopped_at is None
    if metric is Metric.FIRST_RESPONSE:
        if active:
            done = not ticket.is_active or ticket.first_response_at is not None
            return _Do.STOP if done else None
        wanted = has_target and ticket.is_active and ticket.first_response_at is None
        if not wanted:
            return None
        if clock is None:
            return _Do.START
        return _Do.CARRY_ON if _stopped_for_want_of_target(ticket, clock) else None
    if metric is Metric.RESOLUTION:
        if active:
            return None if ticket.is_active else _Do.STOP
        if not (has_target and ticket.is_active):
            return None
        if clock is None:
            return _Do.START
        return _Do.CARRY_ON if _stopped_for_want_of_target(ticket, clock) else _Do.CONTINUE
    if metric is Metric.NEXT_RESPONSE:
        waiting = ticket.awaiting_reply_since
        wanted = ticket.is_active and ticket.first_response_at is not None and waiting is not None
        # The same wait goes on (the requester's message came before the clock stopped,
        # and no answer since): the clock stopped for want of a target.
        same_wait = waiting is not None and clock is not None and (
            clock.stopped_at is not None and waiting < clock.stopped_at
        )
    else:  # periodic_update
        wanted = ticket.is_active and ticket.first_response_at is not None
        if active and wanted and _is_agent_reply(event):
            return _Do.RESTART
        # No update since the clock stopped: it stopped for want of a target.
        replied = ticket.last_agent_reply_at
        same_wait = clock is not None and (
            clock.stopped_at is not None and (replied is None or replied < clock.stopped_at)
        )
    if active:
        return None if wanted else _Do.STOP
    if not (wanted and has_target):
        return None
    if clock is not None and same_wait and _stopped_for_want_of_target(ticket, clock):
        return _Do.CARRY_ON  # its target applies again: it goes on, in the same cycle
    return _Do.START


def _origin(metric: Metric, ticket: Ticket, clock: SlaClock | None) -> datetime | None:
    """The instant the metric's wait began, for a clock that starts: the opening
    (``first_response``, ``resolution``), the oldest unanswered requester message
    (``next_response``), the latest public agent reply (``periodic_update``); never
    before the latest reopen nor the previous cycle's end. A clock that starts with its
    wait (at the opening, the message or the reply) starts there anyway; one whose target
    came later (a priority raised, a policy that applies since) counts from it."""
    if metric is Metric.FIRST_RESPONSE or metric is Metric.RESOLUTION:
        origin: datetime | None = ticket.created_at
    elif metric is Metric.NEXT_RESPONSE:
        origin = ticket.awaiting_reply_since
    else:
        origin = ticket.last_agent_reply_at
    if origin is None:
        return None
    for bound in (ticket.reopened_at, clock.stopped_at if clock is not None else None):
        if bound is not None and bound > origin:
            origin = bound
    return origin


def _react_metric(
    step: Step,
    ticket: Ticket,
    event: Event,
    metric: Metric,
    clock: SlaClock | None,
    policy: SlaPolicy | None,
    env: _Env,
) -> None:
    at = event.at
    target = policy.targets.get(ticket.priority, _NO_TARGETS).get(metric) if policy else None
    if clock is not None and clock.stopped_at is None:
        if policy is None or target is None:
            clock = step.stop(clock, env.calendar(clock.calendar), at, NO_TARGET)
        else:
            clock = _align(step, clock, policy, target, env, ticket, at)
    do = _decide(metric, ticket, event, clock, target is not None)
    if do is _Do.STOP or do is _Do.RESTART:
        assert clock is not None
        clock = step.stop(clock, env.calendar(clock.calendar), at)
    if policy is None or target is None:
        return
    calendar = env.calendar(policy.calendar)
    pausing = ticket.status_category in policy.pauses[metric]
    if do is _Do.CARRY_ON or (do is _Do.CONTINUE and policy.reopen is ReopenMode.CONTINUE):
        assert clock is not None
        clock = step.reopen(clock, env.calendar(clock.calendar), policy.warnings, at)
        clock = _align(step, clock, policy, target, env, ticket, at)
    elif do in (_Do.START, _Do.RESTART, _Do.CONTINUE):
        clock = step.start(
            metric=metric,
            policy=policy.name,
            calendar_name=policy.calendar,
            calendar=calendar,
            thresholds=policy.warnings,
            target=target,
            at=at,
            cycle=clock.cycle + 1 if clock is not None else 1,
            paused=pausing,
            # Backdated only where the ticket cannot have paused it: a ticket does not
            # record how long it spent in each status category.
            since=(
                _origin(metric, ticket, clock)
                if do is _Do.START and not policy.pauses[metric]
                else None
            ),
        )
        return
    if clock is None or clock.stopped_at is not None:
        return
    if clock.is_running and pausing:
        step.pause(clock, calendar, at)
    elif not clock.is_running and not pausing:
        step.resume(clock, calendar, policy.warnings, at)


def _align(
    step: Step,
    clock: SlaClock,
    policy: SlaPolicy,
    target: timedelta,
    env: _Env,
    ticket: Ticket,
    at: datetime,
) -> SlaClock:
    """Retarget an active clock whose policy, target or calendar no longer match."""
    if (clock.policy, clock.target, clock.calendar) == (policy.name, target, policy.calendar):
        return clock
    if clock.policy != policy.name:
        reason = f"SLA policy {clock.policy!r} replaced by {policy.name!r}"
    elif clock.target != target:
        reason = (
            f"priority {ticket.priority.value}: target {format_duration(clock.target)} "
            f"changed to {format_duration(target)}"
        )
    else:
        reason = f"calendar {clock.calendar!r} replaced by {policy.calendar!r}"
    return _retarget(step, clock, policy, target, env, at, reason)


def _retarget(
    step: Step,
    clock: SlaClock,
    policy: SlaPolicy,
    target: timedelta,
    env: _Env,
    at: datetime,
    reason: str,
) -> SlaClock:
    """The active clock retargeted at ``at`` to ``policy``'s calendar, thresholds and
    ``target``, keeping the business time used (counted on its own calendar up to ``at``)."""
    return step.retarget(
        clock,
        old_calendar=env.calendar(clock.calendar),
        policy=policy.name,
        calendar_name=policy.calendar,
        calendar=env.calendar(policy.calendar),
        thresholds=policy.warnings,
        target=target,
        at=at,
        reason=reason,
    )
