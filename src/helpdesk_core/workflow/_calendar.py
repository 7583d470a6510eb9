"""What the workflow needs of a business calendar, and counting business days (private).

The workflow takes calendars by name from a mapping (``calendars={"support": cal}``); any
object with the methods of :class:`WorkCalendar` fits, ``BusinessCalendar`` among them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol

from helpdesk_core._time import ensure_aware
from helpdesk_core.errors import ConfigError, ValidationError

__all__ = [
    "WorkCalendar",
    "add_business_days",
    "calendar_named",
    "check_calendars",
    "next_open_day",
]


class WorkCalendar(Protocol):
    """The calendar operations the workflow uses (``BusinessCalendar`` has them)."""

    @property
    def zone(self) -> tzinfo:
        """The calendar's time zone."""
        ...

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant ``duration`` of open time after ``start``."""
        ...

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """The open time of [start, end)."""
        ...

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` lies in open hours."""
        ...

    def next_open(self, at: datetime) -> datetime:
        """``at`` when open, else the next opening instant."""
        ...


def check_calendars(calendars: object) -> None:
    """``calendars`` is None or a mapping of names to calendars (ValidationError naming
    it otherwise)."""
    if calendars is not None and not isinstance(calendars, Mapping):
        raise ValidationError(
            f"calendars map names to calendars, got {type(calendars).__name__}",
            field="calendars",
        )


def calendar_named(
    calendars: Mapping[str, WorkCalendar] | None, name: str, *, path: str
) -> WorkCalendar:
    """The calendar called ``name``; ConfigError naming it (and ``path``) when missing,
    ValidationError when ``calendars`` is no mapping of calendars."""
    check_calendars(calendars)
    found = None if calendars is None else calendars.get(name)
    if found is None:
        known = ", ".join(sorted(calendars or {})) or "none given"
        raise ConfigError(f"calendar {name!r} is not defined (calendars: {known})", path=path)
    if not all(callable(getattr(found, m, None)) for m in ("add", "elapsed", "next_open")):
        raise ValidationError(
            f"calendars map names to calendars, got {type(found).__name__} under {name!r}",
            field=f"calendars.{name}",
        )
    return found


def next_open_day(calendar: WorkCalendar, day: date) -> date:
    """The first business day on or after ``day``: a local date on which an open interval
    of ``calendar`` starts (an interval belongs to the day it starts on, so neither a
    holiday nor the morning a night shift runs into is one). A calendar without
    ``opens_on`` counts every local date during which it is open at some instant."""
    opens_on = getattr(calendar, "opens_on", None)
    for _ in range(MAX_BUSINESS_DAYS + 1):
        midnight = datetime.combine(day, time(0), tzinfo=calendar.zone)
        # No interval starts between midnight and the next open instant.
        found = calendar.next_open(midnight).astimezone(calendar.zone).date()
        if opens_on is None or opens_on(found):
            return found
        day = found + timedelta(days=1)
    raise ConfigError(
        f"the calendar has no business day in the {MAX_BUSINESS_DAYS} days after {day}: "
        "check its holidays",
        path="calendar",
    )


#: The most business days a count (auto-close, business-day offsets) may span: ten years.
MAX_BUSINESS_DAYS = 3650


def add_business_days(calendar: WorkCalendar, start: datetime, days: int) -> datetime:
    """The same local wall-clock time as ``start`` on the ``days``-th business day after
    the local date of ``start`` (a *business day* is a local date on which an open interval
    starts: see :func:`next_open_day`). A wall time that does not exist that day (spring
    forward) moves forward by the gap; an ambiguous one (fall back) is its first
    occurrence."""
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_BUSINESS_DAYS:
        raise ValidationError(
            f"days is a whole number from 0 to {MAX_BUSINESS_DAYS}, got {days!r}", field="days"
        )
    start = ensure_aware(start, field="start")
    zone = getattr(calendar, "zone", None)
    if not isinstance(zone, tzinfo) or not callable(getattr(calendar, "next_open", None)):
        raise ValidationError(
            f"calendar is a business calendar, got {type(calendar).__name__}", field="calendar"
        )
    try:
        local = start.astimezone(zone)
        day = local.date()
        for _ in range(days):
            day = next_open_day(calendar, day + timedelta(days=1))
        wall = datetime.combine(day, local.time().replace(fold=0), tzinfo=zone)
        return wall.astimezone(UTC).astimezone(zone)
    except OverflowError as exc:
        raise ValidationError(
            f"cannot count {days} business days from {start.isoformat()}: "
            "that runs past the year 9999",
            field="start",
        ) from exc
