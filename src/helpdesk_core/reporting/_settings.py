"""A report's settings, validated once when the report is made (private)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import field, frozen

from helpdesk_core._numbers import whole_number
from helpdesk_core._time import ensure_aware, format_duration, to_timedelta
from helpdesk_core.errors import ConfigError, ValidationError

__all__ = ["DEFAULT_AGE_BUCKETS", "Calendar", "Settings", "make_settings"]

#: Backlog age boundaries: under 1 day, 1-3 days, 3-7 days, 7-30 days, 30 days and more.
DEFAULT_AGE_BUCKETS = (
    timedelta(days=1),
    timedelta(days=3),
    timedelta(days=7),
    timedelta(days=30),
)


@runtime_checkable
class Calendar(Protocol):
    """What a report needs of a business calendar (a ``BusinessCalendar`` fits)."""

    @property
    def timezone(self) -> str:
        """IANA name of the calendar's zone."""
        ...

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Open time in ``[start, end)``."""
        ...


@frozen(kw_only=True)
class Settings:
    """Validated settings; equal settings make reports that can be merged."""

    calendar: Calendar | None
    calendars: Mapping[str, Calendar] = field(hash=False)
    since: datetime | None
    until: datetime | None
    as_of: datetime | None
    zone: ZoneInfo
    age_buckets: tuple[timedelta, ...]
    top_assets: int
    repeat_threshold: int

    def calendar_for(self, name: str | None) -> Calendar | None:
        """The calendar business time is measured on for a ticket whose SLA clocks use
        the calendar ``name``: the report's calendar, else that one (if given)."""
        if self.calendar is not None:
            return self.calendar
        if name is None:
            return None
        return self.calendars.get(name)

    def age_labels(self) -> list[str]:
        """``<1d``, ``1d-3d`` ... ``>=30d``."""
        bounds = [format_duration(b).replace(" ", "") for b in self.age_buckets]
        if not bounds:
            return ["all"]
        middle = [f"{a}-{b}" for a, b in pairwise(bounds)]
        return [f"<{bounds[0]}", *middle, f">={bounds[-1]}"]


def _calendars(value: Any) -> dict[str, Calendar]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"calendars maps names to calendars, got {type(value).__name__}", path="calendars"
        )
    for name, item in value.items():
        if not isinstance(item, Calendar):
            raise ConfigError(
                f"expected a BusinessCalendar, got {type(item).__name__}",
                path=f"calendars.{name}",
            )
    return dict(value)


def _calendar(value: Any, calendars: Mapping[str, Calendar]) -> Calendar | None:
    if value is None or isinstance(value, Calendar):
        return value
    if isinstance(value, str):
        try:
            return calendars[value]
        except KeyError:
            known = ", ".join(sorted(calendars)) or "none"
            raise ConfigError(
                f"unknown calendar {value!r} (calendars given: {known})", path="calendar"
            ) from None
    raise ConfigError(
        f"calendar is a BusinessCalendar or a name, got {type(value).__name__}", path="calendar"
    )


def _zone(value: Any, calendar: Calendar | None) -> ZoneInfo:
    if value is None:
        value = calendar.timezone if calendar is not None else "UTC"
    if isinstance(value, ZoneInfo):
        # ZoneInfo objects are equal only to themselves: a zone given as another object
        # than the cached one (pendulum's, ``ZoneInfo.no_cache``) is read by its name, so
        # reports in the same zone have equal settings and merge. A zone whose name the
        # time zone database lacks (``ZoneInfo.from_file(f, key="Acme/HQ")``) is kept.
        if value.key is None:
            return value
        try:
            return ZoneInfo(value.key)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            return value
    if value is UTC:  # datetime.UTC, the standard library's own UTC
        value = "UTC"
    if not isinstance(value, str):
        raise ValidationError(
            f"timezone is an IANA name, a ZoneInfo or datetime.UTC, got "
            f"{type(value).__name__}",
            field="timezone",
        )
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(f"unknown time zone {value!r:.80}", field="timezone") from None


def _buckets(value: Any) -> tuple[timedelta, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValidationError(
            "age_buckets is a list of durations (e.g. ['1d', '3d'])", field="age_buckets"
        )
    out: list[timedelta] = []
    for index, item in enumerate(value):
        where = f"age_buckets[{index}]"
        bound = to_timedelta(item, field=where)
        if bound <= timedelta(0):
            raise ValidationError(f"an age boundary must be positive, got {bound}", field=where)
        if bound % timedelta(seconds=1):
            raise ValidationError(
                f"an age boundary is a whole number of seconds, got {bound}", field=where
            )
        if out and bound <= out[-1]:
            raise ValidationError(
                f"age boundaries must increase: {bound} follows {out[-1]}", field=where
            )
        out.append(bound)
    return tuple(out)


def _count(value: Any, name: str, minimum: int) -> int:
    whole = whole_number(value)  # an int, or a NumPy integer from a notebook's grid
    if whole is None or whole < minimum:
        raise ValidationError(f"expected a whole number >= {minimum}, got {value!r}", field=name)
    return whole


def make_settings(
    *,
    calendar: Any,
    calendars: Any,
    since: Any,
    until: Any,
    as_of: Any,
    timezone: Any,
    age_buckets: Any,
    top_assets: Any,
    repeat_threshold: Any,
) -> Settings:
    """Validate a report's arguments; errors name the argument at fault."""
    table = _calendars(calendars)
    chosen = _calendar(calendar, table)
    if since is not None:
        ensure_aware(since, field="since")
    if until is not None:
        ensure_aware(until, field="until")
    if since is not None and until is not None and until <= since:
        raise ValidationError(f"until ({until}) must be after since ({since})", field="until")
    if as_of is not None:
        ensure_aware(as_of, field="as_of")
    return Settings(
        calendar=chosen,
        calendars=table,
        since=since,
        until=until,
        as_of=as_of,
        zone=_zone(timezone, chosen),
        age_buckets=_buckets(age_buckets),
        top_assets=_count(top_assets, "top_assets", 1),
        repeat_threshold=_count(repeat_threshold, "repeat_threshold", 2),
    )
