"""Live figures of SLA clocks at an instant: what ``ticket.sla[metric]`` users read.

A recorded :class:`~helpdesk_core.model.SlaClock` holds the business time used up to its
last change; :func:`clock_view` adds the business time accrued since then on the clock's
calendar and says whether the deadline has passed, even before the breach was recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from attrs import frozen

from helpdesk_core._time import ensure_aware
from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import ClockState, Metric, SlaClock, Ticket
from helpdesk_core.sla._transitions import state_of
from helpdesk_core.sla.calendar import BusinessCalendar

__all__ = ["SlaView", "clock_view", "sla_view"]

_ZERO = timedelta(0)


@frozen(kw_only=True)
class SlaView:
    """One SLA clock as of ``as_of``.

    ``state`` is running, paused, met or breached (a paused clock that was breached
    before its pause is paused, with ``breached_at`` set). ``used`` is the business time
    consumed (pauses excluded), ``remaining`` the business time left before the target
    (0 once exceeded) and ``overdue`` the business time beyond it (0 until then).
    ``deadline`` is None while paused or stopped. ``warned`` is True once a warning
    threshold was crossed in this cycle; ``warn_at`` is the next warning instant.
    """

    metric: Metric
    policy: str
    state: ClockState
    target: timedelta
    used: timedelta
    remaining: timedelta
    overdue: timedelta
    deadline: datetime | None
    breached_at: datetime | None
    warned: bool
    warn_at: datetime | None
    started_at: datetime
    stopped_at: datetime | None
    cycle: int
    paused_total: timedelta
    as_of: datetime

    @property
    def is_breached(self) -> bool:
        """True once the target was exceeded in this cycle."""
        return self.breached_at is not None

    @property
    def fraction_used(self) -> float:
        """``used / target`` (above 1 once breached)."""
        return self.used / self.target


def _check_calendars(calendars: object) -> None:
    if not isinstance(calendars, Mapping | BusinessCalendar):
        raise ValidationError(
            "calendars is a BusinessCalendar or a mapping of names to them, got "
            f"{type(calendars).__name__}",
            field="calendars",
        )


def _calendar(
    clock: SlaClock, calendars: Mapping[str, BusinessCalendar] | BusinessCalendar
) -> BusinessCalendar:
    if isinstance(calendars, BusinessCalendar):
        return calendars
    _check_calendars(calendars)
    try:
        found = calendars[clock.calendar]
    except KeyError:
        raise ConfigError(
            f"unknown calendar {clock.calendar!r} of the {clock.metric.value} clock",
            path=f"calendars.{clock.calendar}",
        ) from None
    if not isinstance(found, BusinessCalendar):
        raise ValidationError(
            f"calendars maps names to BusinessCalendar, got {type(found).__name__} under "
            f"{clock.calendar!r}",
            field=f"calendars.{clock.calendar}",
        )
    return found


def clock_view(
    clock: SlaClock,
    calendars: Mapping[str, BusinessCalendar] | BusinessCalendar,
    now: datetime,
) -> SlaView:
    """Live figures of ``clock`` at ``now``. ``calendars`` is the clock's calendar or a
    mapping in which its calendar name is looked up. A running clock needs ``now`` at or
    after its last recorded change."""
    if not isinstance(clock, SlaClock):
        raise ValidationError(f"expected an SlaClock, got {type(clock).__name__}", field="clock")
    ensure_aware(now, field="now")
    used = clock.used
    breached_at = clock.breached_at
    warned = clock.warnings_sent > 0
    state = state_of(clock)
    if clock.is_running:
        if now < clock.as_of:
            raise ValidationError(
                f"now {now.isoformat()} is before the {clock.metric.value} clock's last "
                f"change at {clock.as_of.isoformat()}",
                field="now",
            )
        used = used + _calendar(clock, calendars).elapsed(clock.as_of, now)
        deadline = clock.deadline
        if breached_at is None and deadline is not None and deadline <= now:
            breached_at = deadline
            state = ClockState.BREACHED
        if clock.warn_at is not None and clock.warn_at <= now:
            warned = True
    return SlaView(
        metric=clock.metric,
        policy=clock.policy,
        state=state,
        target=clock.target,
        used=used,
        remaining=max(clock.target - used, _ZERO),
        overdue=max(used - clock.target, _ZERO),
        deadline=clock.deadline,
        breached_at=breached_at,
        warned=warned,
        warn_at=clock.warn_at,
        started_at=clock.started_at,
        stopped_at=clock.stopped_at,
        cycle=clock.cycle,
        paused_total=clock.paused_total,
        as_of=now,
    )


def sla_view(
    ticket: Ticket, calendars: Mapping[str, BusinessCalendar], now: datetime
) -> dict[str, SlaView]:
    """Live figures of every clock of the ticket at ``now``, keyed by metric name (in
    :class:`~helpdesk_core.model.Metric` order)."""
    if not isinstance(ticket, Ticket):
        raise ValidationError(f"expected a Ticket, got {type(ticket).__name__}", field="ticket")
    ensure_aware(now, field="now")  # checked here too: a ticket may have no clock to check it
    _check_calendars(calendars)
    return {
        metric.value: clock_view(ticket.sla[metric.value], calendars, now)
        for metric in Metric
        if metric.value in ticket.sla
    }
