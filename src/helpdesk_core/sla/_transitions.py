"""The transitions of one SLA clock (private): start, pause, resume, stop, retarget, and
the warnings and breach that fall due. Each returns the events it causes, each carrying the
clock's new state, and the final clock.

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
from datetime import datetime, timedelta
from typing import Any, Protocol

from attrs import evolve

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

__all__ = ["SLA_ACTOR", "Calendar", "Step"]

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


def state_of(clock: SlaClock) -> ClockState:
    """The recorded state that matches the clock's fields."""
    if clock.stopped_at is not None:
        return ClockState.BREACHED if clock.breached_at is not None else ClockState.MET
    if clock.deadline is None:
        return ClockState.PAUSED
    return ClockState.BREACHED if clock.breached_at is not None else ClockState.RUNNING


def _set(clock: SlaClock, **changes: Any) -> SlaClock:
    new = evolve(clock, **changes)
    state = state_of(new)
    return new if state is new.state else evolve(new, state=state)


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

    # -- arming ------------------------------------------------------------------------
    @staticmethod
    def next_warning(
        clock: SlaClock, calendar: Calendar, thresholds: Sequence[float]
    ) -> datetime | None:
        """The instant the next warning threshold is reached by a running clock."""
        k = clock.warnings_sent
        if k >= len(thresholds):
            return None
        left = clock.target * thresholds[k] - clock.used
        if left <= _ZERO:
            return clock.as_of
        return calendar.add(clock.as_of, left)

    def arm(self, clock: SlaClock, calendar: Calendar, thresholds: Sequence[float]) -> SlaClock:
        """Give a clock that runs from ``as_of`` its deadline and next warning instant."""
        left = clock.target - clock.used
        if left > _ZERO:
            deadline = calendar.add(clock.as_of, left)
        else:
            deadline = clock.breached_at or clock.as_of
        warn_at = self.next_warning(clock, calendar, thresholds)
        return _set(clock, deadline=deadline, warn_at=warn_at)

    # -- transitions -------------------------------------------------------------------
    def _emit(self, cls: type[Any], clock: SlaClock, at: datetime, **extra: Any) -> SlaClock:
        self.events.append(
            cls(ticket_id=self.ticket_id, at=at, by=SLA_ACTOR, clock=clock, **extra)
        )
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
    ) -> SlaClock:
        """A new cycle of a clock, running (or paused) from ``at``."""
        clock = SlaClock(
            metric=metric,
            policy=policy,
            calendar=calendar_name,
            target=target,
            state=ClockState.PAUSED,
            started_at=at,
            used=_ZERO,
            as_of=at,
            cycle=cycle,
        )
        if not paused:
            clock = self.arm(clock, calendar, thresholds)
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
        clock = evolve(clock, as_of=at, paused_total=clock.paused_total + paused)
        return self._emit(SlaClockResumed, self.arm(clock, calendar, thresholds), at)

    def reopen(
        self, clock: SlaClock, calendar: Calendar, thresholds: Sequence[float], at: datetime
    ) -> SlaClock:
        """A stopped clock continues from the business time it had used."""
        _not_before(clock, at)
        clock = evolve(clock, as_of=at, stopped_at=None)
        return self._emit(SlaClockResumed, self.arm(clock, calendar, thresholds), at)

    def stop(self, clock: SlaClock, calendar: Calendar, at: datetime) -> SlaClock:
        """End the cycle: met, or breached when its breach was recorded."""
        _not_before(clock, at)
        spent = calendar.elapsed(clock.as_of, at)
        if clock.is_running:
            clock = evolve(clock, used=clock.used + spent)
        else:
            clock = evolve(clock, paused_total=clock.paused_total + spent)
        clock = _set(clock, as_of=at, deadline=None, warn_at=None, stopped_at=at)
        return self._emit(SlaClockStopped, clock, at)

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
        if running:
            changes["as_of"] = at
        clock = evolve(clock, **changes)
        if running:
            clock = self.arm(clock, calendar, thresholds)
            self._emit(SlaTargetChanged, clock, at, reason=reason)
            return self.due(clock, calendar, thresholds, at)
        clock = self._emit(SlaTargetChanged, _set(clock), at, reason=reason)
        while clock.warnings_sent < len(thresholds) and (
            target * thresholds[clock.warnings_sent] <= used
        ):
            threshold = thresholds[clock.warnings_sent]
            clock = evolve(clock, warnings_sent=clock.warnings_sent + 1, warned_at=at)
            self._emit(SlaWarning, clock, at, threshold=threshold)
        if used >= target and clock.breached_at is None:
            clock = self._emit(SlaBreached, _set(clock, breached_at=at), at)
        return clock

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
                k = clock.warnings_sent
                if k >= len(thresholds):  # the policy lost thresholds since the clock armed
                    clock = evolve(clock, warn_at=None)
                    continue
                clock = evolve(clock, warnings_sent=k + 1, warned_at=warn_at)
                clock = evolve(clock, warn_at=self.next_warning(clock, calendar, thresholds))
                self._emit(SlaWarning, clock, warn_at, threshold=thresholds[k])
            elif breach_due:
                clock = self._emit(SlaBreached, _set(clock, breached_at=deadline), deadline)
            else:
                break
        return clock
