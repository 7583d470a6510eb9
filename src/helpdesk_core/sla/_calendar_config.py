"""Reading and checking the parts of a business calendar: days, intervals, holidays, zone.

Opening hours are kept as *spans*: ``(start, end)`` in minutes from the local midnight of the
day the interval belongs to. ``end`` may pass 1440 (an interval crossing midnight, which
belongs to the day it starts on) but a span is never longer than a day.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from helpdesk_core.errors import ConfigError

__all__ = [
    "DAY_NAMES",
    "Span",
    "Week",
    "find_overlap",
    "format_span",
    "join",
    "parse_day_key",
    "parse_holiday_dates",
    "parse_holidays",
    "parse_hours",
    "parse_special_days",
    "parse_timezone",
]

Span = tuple[int, int]
Week = tuple[tuple[Span, ...], ...]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_INDEX = {name: i for i, name in enumerate(DAY_NAMES)} | {
    name: i
    for i, name in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}
_DAY = 1440
_WEEK = 7 * _DAY
_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_MIN_ORDINAL = date.min.toordinal()
_MAX_ORDINAL = date.max.toordinal()
_DAY_HINT = "use mon, tue, wed, thu, fri, sat, sun or a range such as 'mon-fri'"


def join(path: str, part: str) -> str:
    """``path.part``, or ``part`` alone at the top level."""
    return f"{path}.{part}" if path else part


def format_span(span: Span) -> str:
    """``(1320, 1800)`` -> ``'22:00-06:00'``; an end at midnight is written ``24:00``."""
    start, end = span
    if end > _DAY:
        end -= _DAY
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def parse_day_key(key: object, *, path: str) -> tuple[int, ...]:
    """``'mon'`` -> ``(0,)``; ``'mon-fri'`` -> ``(0, 1, 2, 3, 4)``; ``'sat-mon'`` wraps."""
    if not isinstance(key, str):
        raise ConfigError(f"day names are text, got {key!r}: {_DAY_HINT}", path=path)
    parts = [p.strip().lower() for p in key.split("-")]
    if len(parts) > 2 or any(p not in _DAY_INDEX for p in parts):
        raise ConfigError(f"unknown day {key!r}: {_DAY_HINT}", path=path)
    first, last = _DAY_INDEX[parts[0]], _DAY_INDEX[parts[-1]]
    return tuple((first + k) % 7 for k in range((last - first) % 7 + 1))


def _parse_interval(text: object, *, where: str, path: str) -> Span:
    if not isinstance(text, str):
        raise ConfigError(
            f"bad interval {text!r} on {where}: write 'HH:MM-HH:MM', e.g. '09:00-17:00'",
            path=path,
        )
    match = _INTERVAL.match(text)
    if match is None:
        raise ConfigError(
            f"bad interval {text!r} on {where}: write 'HH:MM-HH:MM', e.g. '09:00-17:00'",
            path=path,
        )
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    for hour, minute in ((h1, m1), (h2, m2)):
        if hour > 24 or minute > 59 or (hour == 24 and minute):
            raise ConfigError(
                f"bad time '{hour:02d}:{minute:02d}' in interval {text!r} on {where}: "
                "times go from 00:00 to 24:00",
                path=path,
            )
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == _DAY:
        raise ConfigError(
            f"interval {text!r} on {where} starts at 24:00: start it at 00:00 of the next day",
            path=path,
        )
    if start == end:
        raise ConfigError(
            f"interval {text!r} on {where} is empty: for a whole day write '00:00-24:00'",
            path=path,
        )
    if end == 0:
        end = _DAY
    elif end < start:
        end += _DAY  # crosses midnight: belongs to the day it starts on
    return (start, end)


def _parse_value(value: object, *, where: str, path: str) -> list[tuple[Span, str]]:
    """A day's intervals: ``'09:00-17:00'`` or a list of them (``[]`` = closed)."""
    if isinstance(value, str):
        return [(_parse_interval(value, where=where, path=path), path)]
    if isinstance(value, list | tuple):
        return [
            (_parse_interval(item, where=where, path=f"{path}[{k}]"), f"{path}[{k}]")
            for k, item in enumerate(value)
        ]
    raise ConfigError(
        f"hours of {where} must be an interval such as '09:00-17:00' or a list of them, "
        f"got {type(value).__name__}",
        path=path,
    )


def find_overlap(
    items: Iterable[tuple[int, int, str, str]],
) -> tuple[tuple[int, int, str, str], tuple[int, int, str, str]] | None:
    """The first overlapping pair of ``(start, end, label, path)`` intervals on a line."""
    widest: tuple[int, int, str, str] | None = None
    for item in sorted(items):
        if widest is not None and item[0] < widest[1]:
            return widest, item
        if widest is None or item[1] > widest[1]:
            widest = item
    return None


def _overlap_error(
    pair: tuple[tuple[int, int, str, str], tuple[int, int, str, str]],
) -> ConfigError:
    first, second = pair
    return ConfigError(f"{first[2]} overlaps {second[2]}", path=second[3])


def parse_hours(hours: object, *, path: str) -> Week:
    """Weekly opening hours -> seven tuples of sorted spans, Monday first."""
    hours_path = join(path, "hours")
    if not isinstance(hours, Mapping):
        raise ConfigError(
            "hours must map days ('mon', 'mon-fri' ...) to intervals such as '09:00-17:00', "
            f"got {type(hours).__name__}",
            path=hours_path,
        )
    week: list[list[tuple[Span, str]]] = [[] for _ in range(7)]
    given: dict[int, str] = {}
    for key, value in hours.items():
        key_path = f"{hours_path}.{key}"
        days = parse_day_key(key, path=key_path)
        spans = _parse_value(value, where=str(key), path=key_path)
        for day in days:
            if day in given:
                raise ConfigError(
                    f"{DAY_NAMES[day]} is given twice: in {given[day]!r} and in {key!r}",
                    path=key_path,
                )
            given[day] = str(key)
            week[day] = spans
    items = [
        (
            day * _DAY + s + shift,
            day * _DAY + e + shift,
            f"{DAY_NAMES[day]} {format_span((s, e))}",
            p,
        )
        for shift in (0, _WEEK)  # a Sunday night shift runs into Monday
        for day, spans in enumerate(week)
        for (s, e), p in spans
    ]
    overlap = find_overlap(items)
    if overlap is not None:
        raise _overlap_error(overlap)
    if not any(week):
        raise ConfigError(
            "the calendar is never open: give opening hours for at least one day",
            path=hours_path,
        )
    return tuple(tuple(sorted(span for span, _ in spans)) for spans in week)


def _parse_date(value: object, *, path: str, what: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date | str):
        raise ConfigError(
            f"{what} must be a date (e.g. 2026-12-25), got {type(value).__name__} {value!r}",
            path=path,
        )
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ConfigError(
                f"{what} {value!r} is not an ISO date (YYYY-MM-DD)", path=path
            ) from None
    return value


def parse_special_days(
    special: object,
    week: Week,
    *,
    path: str,
    text_dates: bool = False,
    holidays: Container[date] = frozenset(),
) -> dict[date, tuple[Span, ...]]:
    """Special days (date -> replacement intervals), checked against the days around them
    (a neighbouring holiday has no intervals to overlap)."""
    special_path = join(path, "special_days")
    if special is None:
        return {}
    if not isinstance(special, Mapping):
        raise ConfigError(
            f"special_days must map dates to intervals, got {type(special).__name__}",
            path=special_path,
        )
    parsed: dict[date, list[tuple[Span, str]]] = {}
    for key, value in special.items():
        if text_dates and not isinstance(key, str):
            raise ConfigError(f"special day {key!r} is not an ISO date text", path=special_path)
        if not text_dates and (isinstance(key, datetime) or not isinstance(key, date)):
            raise ConfigError(
                f"special day keys must be dates, got {type(key).__name__} {key!r}",
                path=special_path,
            )
        day = _parse_date(key, path=special_path, what="special day")
        if day in parsed:
            raise ConfigError(f"special day {day} is given twice", path=special_path)
        key_path = f"{special_path}.{day.isoformat()}"
        parsed[day] = _parse_value(value, where=day.isoformat(), path=key_path)

    def spans_of(day: date) -> list[tuple[Span, str]]:
        if day in parsed:
            return parsed[day]
        if day in holidays:
            return []
        return [(span, "") for span in week[day.weekday()]]

    for day in parsed:
        day_path = f"{special_path}.{day.isoformat()}"
        items = [
            (s + shift, e + shift, f"{other.isoformat()} {format_span((s, e))}", p or day_path)
            for shift in (-_DAY, 0, _DAY)
            if _MIN_ORDINAL <= day.toordinal() + shift // _DAY <= _MAX_ORDINAL
            for other in (date.fromordinal(day.toordinal() + shift // _DAY),)
            for (s, e), p in spans_of(other)
        ]
        overlap = find_overlap(items)
        if overlap is not None:
            raise _overlap_error(overlap)
    return {day: tuple(sorted(span for span, _ in spans)) for day, spans in sorted(parsed.items())}


def parse_holiday_dates(values: Iterable[object], *, path: str) -> frozenset[date]:
    """A list of holiday dates (``date`` objects or ISO text)."""
    return frozenset(
        _parse_date(item, path=f"{path}[{k}]", what="holiday") for k, item in enumerate(values)
    )


def parse_holidays(
    holidays: object, *, path: str
) -> tuple[frozenset[date], Container[date] | None]:
    """Split holidays into explicit dates and a container looked up with ``in``."""
    holidays_path = join(path, "holidays")
    if holidays is None:
        return frozenset(), None
    if isinstance(holidays, list | tuple):
        return parse_holiday_dates(holidays, path=holidays_path), None
    if type(holidays) is dict:  # {date: name}; the holidays package's objects subclass dict
        return parse_holiday_dates(list(holidays), path=holidays_path), None
    if isinstance(holidays, set | frozenset):
        for item in holidays:
            if isinstance(item, datetime) or not isinstance(item, date):
                raise ConfigError(
                    f"holidays must be dates, got {type(item).__name__} {item!r}",
                    path=holidays_path,
                )
        return frozenset(holidays), None
    if isinstance(holidays, str | bytes) or not isinstance(holidays, Container):
        raise ConfigError(
            "holidays must be a list of dates or a container of dates (e.g. "
            f"holidays.country_holidays('DE')), got {type(holidays).__name__}",
            path=holidays_path,
        )
    return frozenset(), holidays


def parse_timezone(value: object, *, path: str) -> ZoneInfo:
    """An IANA zone name (or a ZoneInfo) -> ZoneInfo."""
    tz_path = join(path, "timezone")
    if isinstance(value, ZoneInfo):
        value = value.key
    elif value is UTC:
        value = "UTC"
    elif isinstance(value, tzinfo):
        raise ConfigError(
            f"give the time zone as an IANA name such as 'Europe/Berlin', not {value!r}",
            path=tz_path,
        )
    if not isinstance(value, str) or not value:
        raise ConfigError(
            f"timezone must be an IANA name such as 'Europe/Berlin', got {value!r}", path=tz_path
        )
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"unknown time zone {value!r}", path=tz_path) from None
