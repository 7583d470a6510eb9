"""The transitions of one SLA clock (private): start, pause, resume, stop, retarget, and
the warnings and breach that fall due. Each returns the clock's final state and appends the
events it causes, each carrying the clock's state after it, to :attr:`Step.events`.

Bookkeeping: ``used`` is the business time consumed up to ``as_of``. A running clock keeps
accruing on its calendar from ``as_of``; its ``deadline`` is ``add(as_of, target - used)``
and ``warn_at`` the instant the next warning threshold is reached. Pausing folds the
business time since ``as_of`` into ``used`` and clears ``deadline``; resuming sets
``as_of`` to the resume instant, so the paused span never counts (a pause is intersected
with the calendar simply by not accruing). A running clock that is already over its
target has ``deadline == breached_at``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import attrs

from helpdesk_core.errors import ValidationError
from helpdesk_core.model import (
    Actor,
    ClockState,
    Event,
    Metric,
    SlaBreached,
    SlaClock,
    SlaClockPaused,
    SlaClockResumed,
    SlaClockStarted,
    SlaClockStopped,
    SlaTargetChanged,
    SlaWarning,
)
from helpdesk_core.model import _validate as v
from helpdesk_core.model._copy import copier
from helpdesk_core.model.events import SLA_EVENT_TYPES

__all__ = [
    "SLA_ACTOR",
    "Calendar",
    "Step",
    "disarmed_warning",
    "next_threshold",
    "rearmed_warning",
    "state_of",
    "warned_threshold",
]

#: Who SLA events are recorded as caused by.
SLA_ACTOR = Actor.system("sla")
_ZERO = timedelta(0)


class Calendar(Protocol):
    """What the clocks need of a business calendar."""

    def add(self, start: datetime, duration: timedelta, /) -> datetime:
        """The earliest instant t >= start with elapsed(start, t) == duration."""
        ...

    def elapsed(self, start: datetime, end: datetime, /) -> timedelta:
        """The open time of [start, end)."""
        ...


def _state(
    stopped_at: datetime | None, deadline: datetime | None, breached_at: datetime | None
) -> ClockState:
    if stopped_at is not None:
        return ClockState.BREACHED if breached_at is not None else ClockState.MET
    if deadline is None:
        return ClockState.PAUSED
    return ClockState.BREACHED if breached_at is not None else ClockState.RUNNING


def state_of(clock: SlaClock) -> ClockState:
    """The recorded state that matches the clock's fields."""
    return _state(clock.stopped_at, clock.deadline, clock.breached_at)


def _get(clock: SlaClock, changes: dict[str, Any], name: str) -> Any:
    return changes[name] if name in changes else getattr(clock, name)


_INSTANTS = frozenset(
    {"started_at", "as_of", "deadline", "warn_at", "warned_at", "breached_at", "stopped_at"}
)


def evolve(clock: SlaClock, **changes: Any) -> SlaClock:
    """``clock`` with ``changes``: instants are normalised to UTC as the class's converters
    do; the values themselves come from validated events and calendar arithmetic, so the
    validators are not run again (the same policy as the ticket fold's copies)."""
    for name, value in changes.items():
        # (an instant in UTC already, or None, is what the converter leaves as it is)
        if value is not None and name in _INSTANTS and (
            value.__class__ is not datetime or value.tzinfo is not UTC
        ):
            changes[name] = v.to_utc(value)
    new: SlaClock = copier(SlaClock, tuple(changes))(clock, changes)
    return new


def _set(clock: SlaClock, **changes: Any) -> SlaClock:
    """:func:`evolve` with the state that matches the new fields."""
    changes["state"] = _state(
        changes.get("stopped_at", clock.stopped_at),
        changes.get("deadline", clock.deadline),
        changes.get("breached_at", clock.breached_at),
    )
    return evolve(clock, **changes)


def _builder(cls: type[Any]) -> tuple[Any, dict[str, Any]]:
    """How to build an SLA event of ``cls`` from the values of all its fields (a copy
    that reads nothing of its template), and the defaults of those that have one."""
    fields = attrs.fields(cls)
    names = ("ticket_id", "at", "by", "clock")
    names += tuple(a.name for a in fields if a.name not in names)
    assert {a.name for a in fields} == set(names)
    defaults = {a.name: a.default for a in fields if a.default is not attrs.NOTHING}
    assert not any(isinstance(d, attrs.Factory) for d in defaults.values())  # type: ignore[arg-type]
    return copier(cls, names), defaults


_BUILDERS = {cls: _builder(cls) for cls in SLA_EVENT_TYPES}


#: A clock with the defaults of every field a start does not set.
_BLANK = SlaClock(
    metric=Metric.RESOLUTION,
    policy="blank",
    calendar="blank",
    target=_ZERO,
    state=ClockState.RUNNING,
    started_at=datetime(2000, 1, 1, tzinfo=UTC),
    used=_ZERO,
    as_of=datetime(2000, 1, 1, tzinfo=UTC),
)

#: How :meth:`Step.start` copies :data:`_BLANK` into a new clock (the fields it sets).
_START = copier(
    SlaClock,
    (
        "metric",
        "policy",
        "calendar",
        "target",
        "state",
        "started_at",
        "used",
        "as_of",
        "deadline",
        "warn_at",
        "cycle",
    ),
)


def warned_threshold(clock: SlaClock, thresholds: Sequence[float]) -> float | None:
    """The highest threshold the clock warned of in its cycle (None: none yet). A clock
    stored before it recorded the value has only its count of warnings: the highest is
    then read as the count-th of ``thresholds`` (its policy's), as that count meant."""
    warned = clock.warned_threshold
    if warned is not None or clock.warnings_sent == 0 or not thresholds:
        return warned
    return thresholds[min(clock.warnings_sent, len(thresholds)) - 1]


def next_threshold(warned: float | None, thresholds: Sequence[float]) -> float | None:
    """The first of ``thresholds`` (increasing) above ``warned``; None when none is."""
    for threshold in thresholds:
        if warned is None or threshold > warned:
            return threshold
    return None


def _next_warning(
    *,
    as_of: datetime,
    used: timedelta,
    target: timedelta,
    warned: float | None,
    calendar: Calendar,
    thresholds: Sequence[float],
) -> datetime | None:
    """The instant a clock running from ``as_of`` reaches its next warning threshold, the
    first of ``thresholds`` above ``warned``."""
    threshold = next_threshold(warned, thresholds)
    if threshold is None:
        return None
    left = target * threshold - used
    if left <= _ZERO:
        return as_of
    return calendar.add(as_of, left)


def _armed(
    clock: SlaClock, changes: dict[str, Any], calendar: Calendar, thresholds: Sequence[float]
) -> dict[str, Any]:
    """Add the deadline and the next warning instant of a clock that runs from ``as_of``
    (with ``changes`` applied) to ``changes``."""
    as_of: datetime = _get(clock, changes, "as_of")
    used: timedelta = _get(clock, changes, "used")
    target: timedelta = _get(clock, changes, "target")
    left = target - used
    if left > _ZERO:
        changes["deadline"] = calendar.add(as_of, left)
    else:
        changes["deadline"] = _get(clock, changes, "breached_at") or as_of
    changes["warn_at"] = _next_warning(
        as_of=as_of,
        used=used,
        target=target,
        warned=warned_threshold(clock, thresholds),
        calendar=calendar,
        thresholds=thresholds,
    )
    return changes


def rearmed_warning(
    clock: SlaClock,
    calendar: Calendar,
    thresholds: Sequence[float],
    now: datetime | None = None,
) -> datetime | None:
    """The instant the running clock's next warning falls due under ``thresholds`` when
    it is armed for another instant, or for none (its policy's thresholds changed value,
    or it gained one, since the clock was armed); None when the clock is armed as
    ``thresholds`` say, or has no warning ahead (paused, stopped, breached, past its last
    threshold), or (given ``now``) changed last after ``now``. Costs a calendar step or
    two: the engine asks when it catches a ticket up, or when the armed warning falls
    due, not on every event. A clock whose deadline the calendar no longer gives (its
    opening hours changed) is left as it is: its warning instant says nothing of its
    threshold then (a catch-up retargets such a clock first)."""
    deadline = clock.deadline
    if deadline is None or clock.breached_at is not None or clock.stopped_at is not None:
        return None
    threshold = next_threshold(warned_threshold(clock, thresholds), thresholds)
    if threshold is None:
        return None
    as_of = clock.as_of
    if now is not None and now < as_of:
        return None
    used = clock.used
    left = clock.target * threshold - used
    armed = clock.warn_at
    if armed is not None and (
        armed <= as_of if left <= _ZERO else armed < as_of or calendar.elapsed(as_of, armed) == left
    ):
        # Armed where the threshold is reached (a timedelta to compare), or before the
        # clock's last change, which the engine never arms: left as it is.
        return None
    rest = clock.target - used
    if rest > _ZERO and calendar.elapsed(as_of, deadline) != rest:
        return None
    return as_of if left <= _ZERO else calendar.add(as_of, left)


def disarmed_warning(
    clock: SlaClock, thresholds: Sequence[float], now: datetime | None = None
) -> bool:
    """Whether the running clock is armed for a warning that ``thresholds`` no longer
    have (none above the highest it warned of: its policy lost thresholds, or is retired
    and warns no more), so that it would show a warning instant nothing will be recorded
    at; False too (given ``now``) when it changed last after ``now``."""
    if clock.warn_at is None or clock.deadline is None:
        return False
    if clock.breached_at is not None or clock.stopped_at is not None:
        return False
    if now is not None and now < clock.as_of:
        return False
    return next_threshold(warned_threshold(clock, thresholds), thresholds) is None


def _shown(policy: str, thresholds: Sequence[float]) -> str:
    if not thresholds:
        return f"SLA policy {policy!r}: no warning thresholds"
    return f"SLA policy {policy!r}: warning thresholds " + ", ".join(
        f"{threshold:g}" for threshold in thresholds
    )


def _not_before(clock: SlaClock, at: datetime) -> None:
    if at < clock.as_of:
        raise ValidationError(
            f"{at.isoformat()} is before the {clock.metric.value} clock's last change "
            f"at {clock.as_of.isoformat()}: SLA clocks move forward only",
            field="at",
        )


class Step:
    """Transitions of the clocks of one ticket, collecting the events they cause."""

    __slots__ = ("events", "ticket_id")

    def __init__(self, ticket_id: str) -> None:
        self.ticket_id = ticket_id
        self.events: list[Event] = []

    # -- transitions -------------------------------------------------------------------
    def _emit(self, cls: type[Any], clock: SlaClock, at: datetime, **extra: Any) -> SlaClock:
        """Record the event ``cls`` of ``clock`` at ``at``. Its every value is the engine's
        own (the ticket's id, an instant of a validated event or clock, the clock it
        built, a policy's threshold, a reason of its own): the event is built as its
        class builds it, with ``at`` in UTC, without the validators run again."""
        build, defaults = _BUILDERS[cls]
        values = {**defaults, "ticket_id": self.ticket_id, "at": v.to_utc(at), "by": SLA_ACTOR}
        values["clock"] = clock
        values.update(extra)
        self.events.append(build(None, values))
        return clock

    def start(
        self,
        *,
        metric: Metric,
        policy: str,
        calendar_name: str,
        calendar: Calendar,
        thresholds: Sequence[float],
        target: timedelta,
        at: datetime,
        cycle: int,
        paused: bool,
        since: datetime | None = None,
    ) -> SlaClock:
        """A new cycle of a clock, running (or paused) from ``at``. With ``since`` (before
        ``at``; a running clock), the cycle started then: the business time since counts
        as used, thresholds it puts behind are recorded at ``at``, and so is a breach
        (the target was exceeded at or before ``at``, so ``at`` is the later instant)."""
        if since is not None and not paused and since < at:
            clock = evolve(
                _BLANK,
                metric=metric,
                policy=policy,
                calendar=calendar_name,
                target=target,
                started_at=since,
                used=calendar.elapsed(since, at),
                as_of=at,
                cycle=cycle,
            )
            clock = _set(clock, **_armed(clock, {}, calendar, thresholds))
            self._emit(SlaClockStarted, clock, at)
            return self.due(clock, calendar, thresholds, at)
        deadline = warn_at = None
        if not paused:
            deadline = calendar.add(at, target)
            warn_at = _next_warning(
                as_of=at,
                used=_ZERO,
                target=target,
                warned=None,
                calendar=calendar,
                thresholds=thresholds,
            )
        # Every value comes from a validated policy, event or calendar: the new clock is
        # a copy of a blank one (instants normalised, validators not run again).
        at = v.to_utc(at)
        clock = _START(
            _BLANK,
            {
                "metric": metric,
                "policy": policy,
                "calendar": calendar_name,
                "target": target,
                "state": ClockState.PAUSED if paused else ClockState.RUNNING,
                "started_at": at,
                "used": _ZERO,
                "as_of": at,
                "deadline": v.to_optional_utc(deadline),
                "warn_at": v.to_optional_utc(warn_at),
                "cycle": cycle,
            },
        )
        return self._emit(SlaClockStarted, clock, at)

    def pause(self, clock: SlaClock, calendar: Calendar, at: datetime) -> SlaClock:
        """Stop accruing: fold the business time since ``as_of`` into ``used``."""
        _not_before(clock, at)
        used = clock.used + calendar.elapsed(clock.as_of, at)
        clock = _set(clock, used=used, as_of=at, deadline=None, warn_at=None)
        return self._emit(SlaClockPaused, clock, at)

    def resume(
        self, clock: SlaClock, calendar: Calendar, thresholds: Sequence[float], at: datetime
    ) -> SlaClock:
        """Accrue again from ``at`` with the business time already used."""
        _not_before(clock, at)
        paused = calendar.elapsed(clock.as_of, at)
        changes = {"as_of": at, "paused_total": clock.paused_total + paused}
        clock = _set(clock, **_armed(clock, changes, calendar, thresholds))
        return self._emit(SlaClockResumed, clock, at)

    def reopen(
        self, clock: SlaClock, calendar: Calendar, thresholds: Sequence[float], at: datetime
    ) -> SlaClock:
        """A stopped clock continues from the business time it had used."""
        _not_before(clock, at)
        changes: dict[str, Any] = {"as_of": at, "stopped_at": None}
        clock = _set(clock, **_armed(clock, changes, calendar, thresholds))
        return self._emit(SlaClockResumed, clock, at)

    def stop(self, clock: SlaClock, calendar: Calendar, at: datetime, reason: str = "") -> SlaClock:
        """End the cycle: met, or breached when its breach was recorded. ``reason`` is
        :data:`~helpdesk_core.model.events.NO_TARGET` when no target applies any more."""
        _not_before(clock, at)
        spent = calendar.elapsed(clock.as_of, at)
        changes: dict[str, Any] = {"as_of": at, "deadline": None, "warn_at": None, "stopped_at": at}
        if clock.is_running:
            changes["used"] = clock.used + spent
        else:
            changes["paused_total"] = clock.paused_total + spent
        return self._emit(SlaClockStopped, _set(clock, **changes), at, reason=reason)

    def retarget(
        self,
        clock: SlaClock,
        *,
        old_calendar: Calendar,
        policy: str,
        calendar_name: str,
        calendar: Calendar,
        thresholds: Sequence[float],
        target: timedelta,
        at: datetime,
        reason: str,
    ) -> SlaClock:
        """Change the target (and policy, calendar) of an active clock, keeping the business
        time used and the pauses taken. Thresholds the new target puts behind the time used
        are recorded at ``at``; so is a breach (the new target was exceeded at or before
        ``at``, so ``at`` is the later of the two instants). A clock whose new deadline lies
        ahead is no longer breached."""
        _not_before(clock, at)
        running = clock.is_running
        used = clock.used + old_calendar.elapsed(clock.as_of, at) if running else clock.used
        changes: dict[str, Any] = {
            "policy": policy,
            "calendar": calendar_name,
            "target": target,
            "used": used,
        }
        if used < target:
            changes["breached_at"] = None
        if not running:  # the pause so far is measured on the calendar it ran on
            changes["paused_total"] = clock.paused_total + old_calendar.elapsed(clock.as_of, at)
            changes["as_of"] = at
        if running:
            changes["as_of"] = at
            clock = _set(clock, **_armed(clock, changes, calendar, thresholds))
            self._emit(SlaTargetChanged, clock, at, reason=reason)
            return self.due(clock, calendar, thresholds, at)
        clock = self._emit(SlaTargetChanged, _set(clock, **changes), at, reason=reason)
        threshold = next_threshold(warned_threshold(clock, thresholds), thresholds)
        while threshold is not None and target * threshold <= used:
            clock = self._warned(clock, threshold, at)
            threshold = next_threshold(threshold, thresholds)
        if used >= target and clock.breached_at is None:
            clock = self._emit(SlaBreached, _set(clock, breached_at=at), at)
        return clock

    def rearm(
        self,
        clock: SlaClock,
        calendar: Calendar,
        thresholds: Sequence[float],
        now: datetime,
        reason: str = "",
    ) -> SlaClock:
        """Re-arm a running clock whose next warning is armed otherwise than its policy's
        thresholds say (see :func:`rearmed_warning`), or armed for a warning they no
        longer have (see :func:`disarmed_warning`), as a retarget that keeps the policy,
        target and calendar: at ``now``, or at the instant the clock is armed for (its
        warning, else its deadline) if that came first, since the clock ran to it as
        armed. The warnings already recorded stay recorded, each threshold once per
        cycle; one whose new value the time used has passed is recorded at the
        re-arming; the next one is armed at its own instant. A clock armed as its
        thresholds say is returned as it is, and so is one whose last change is after
        ``now``. ``reason`` replaces the one that names the thresholds."""
        if rearmed_warning(clock, calendar, thresholds, now) is None and not disarmed_warning(
            clock, thresholds, now
        ):
            return clock
        armed = clock.warn_at if clock.warn_at is not None else clock.deadline
        assert armed is not None  # a running clock
        return self.retarget(
            clock,
            old_calendar=calendar,
            policy=clock.policy,
            calendar_name=clock.calendar,
            calendar=calendar,
            thresholds=thresholds,
            target=clock.target,
            at=min(now, armed),
            reason=reason or _shown(clock.policy, thresholds),
        )

    def _warned(
        self, clock: SlaClock, threshold: float, at: datetime, **changes: Any
    ) -> SlaClock:
        """Record the warning of ``threshold`` at ``at`` (the highest warned of so far)."""
        clock = evolve(
            clock,
            warnings_sent=clock.warnings_sent + 1,
            warned_threshold=threshold,
            warned_at=at,
            **changes,
        )
        return self._emit(SlaWarning, clock, at, threshold=threshold)

    def due(
        self, clock: SlaClock, calendar: Calendar, thresholds: Sequence[float], now: datetime
    ) -> SlaClock:
        """Record the warnings and the breach of a running clock whose instants are at or
        before ``now``, each stamped with its exact instant, in instant order."""
        while clock.is_running:
            warn_at = clock.warn_at
            deadline = clock.deadline
            assert deadline is not None
            breach_due = clock.breached_at is None and deadline <= now
            if warn_at is not None and warn_at <= now and not (breach_due and deadline < warn_at):
                threshold = next_threshold(warned_threshold(clock, thresholds), thresholds)
                if threshold is None:  # the policy lost thresholds since the clock armed
                    clock = evolve(clock, warn_at=None)
                    continue
                following = _next_warning(
                    as_of=clock.as_of,
                    used=clock.used,
                    target=clock.target,
                    warned=threshold,
                    calendar=calendar,
                    thresholds=thresholds,
                )
                clock = self._warned(clock, threshold, warn_at, warn_at=following)
            elif breach_due:
                clock = self._emit(SlaBreached, _set(clock, breached_at=deadline), deadline)
            else:
                break
        return clock
