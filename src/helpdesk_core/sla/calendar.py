"""Business calendars: when a helpdesk is open, and how much open time lies between instants.

A :class:`BusinessCalendar` has an IANA time zone, weekly opening hours (several intervals a
day; ``"22:00-06:00"`` crosses midnight and belongs to the day it starts on), holidays and
special days with their own hours. Business time is real (UTC) elapsed time inside the open
intervals ``[open, close)``:

- ``elapsed(a, b)`` is the open time of ``[a, b)``;
- ``add(start, d)`` is the earliest instant ``t >= start`` with ``elapsed(start, t) == d``, so
  ``add(start, 0) == start`` and a deadline reached exactly at closing time is that closing
  time.

Both cost a couple of look-ups whatever the duration: the calendar keeps, per run of local
years, its merged UTC intervals with the open time accrued before each of them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Container, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from helpdesk_core._time import ensure_aware, negative_duration, to_timedelta
from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.sla._calendar_config import (
    DAY_NAMES,
    Span,
    Week,
    format_span,
    join,
    parse_holiday_dates,
    parse_holidays,
    parse_hours,
    parse_special_days,
    parse_timezone,
)
from helpdesk_core.sla._calendar_timeline import (
    DAY_US,
    EPOCH_ORDINAL,
    FIRST_INSTANT,
    FIRST_YEAR,
    LAST_INSTANT,
    LAST_YEAR,
    SECOND_US,
    Rules,
    Timeline,
    cover,
)

__all__ = ["BusinessCalendar"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_WEEK_US = 7 * DAY_US
_YEAR_US = 366 * DAY_US
# How far to look for open (or, for an around-the-clock week, closed) time before giving up.
_SEARCH_US = 10 * _YEAR_US
_DOC_KEYS = ("timezone", "hours", "holidays", "special_days")
_COUNTRY_KEYS = ("country", "subdiv", "observed", "categories", "extra")
_sub = datetime.__sub__
_fromtimestamp = datetime.fromtimestamp
_timedelta_floordiv = timedelta.__floordiv__

HoursSpec = Mapping[str, str | Sequence[str]]
SpecialDaysSpec = Mapping[date, str | Sequence[str]]


def _to_us(value: datetime, field: str) -> int:
    """UTC microseconds since 1970 of an aware datetime (ValidationError otherwise)."""
    try:
        delta = _sub(value, _EPOCH)
    except TypeError:
        ensure_aware(value, field=field)
        raise
    return delta.days * DAY_US + delta.seconds * SECOND_US + delta.microseconds


def _in_range(instant: int, value: datetime, field: str) -> int:
    """``instant`` (``value`` in microseconds) when business time can be computed around
    it; else a ValidationError naming ``field``."""
    if FIRST_INSTANT <= instant < LAST_INSTANT:
        return instant
    raise ValidationError(
        f"{field} {value.isoformat()} is outside the years {FIRST_YEAR + 1} to "
        f"{LAST_YEAR - 1} that business time is computed for",
        field=field,
    )


def _duration_us(duration: timedelta) -> int:
    if type(duration) is timedelta:
        micros = duration.days * DAY_US + duration.seconds * SECOND_US + duration.microseconds
    else:
        micros = _timedelta_floordiv(to_timedelta(duration, field="duration"), _ONE_US)
    if micros < 0:
        raise negative_duration(timedelta(microseconds=micros), field="duration")
    return micros


class _HolidaysWithExtra(Container[date]):
    """A holidays-package object plus explicit extra dates (from ``from_dict``)."""

    __slots__ = ("extra", "source")

    def __init__(self, source: Container[date], extra: frozenset[date]) -> None:
        self.source = source
        self.extra = extra

    def __contains__(self, day: object) -> bool:
        return day in self.extra or day in self.source

    def __repr__(self) -> str:
        return f"{_holidays_repr(self.source)} + {sorted(d.isoformat() for d in self.extra)}"


def _holidays_repr(source: Container[date]) -> str:
    """A holidays-package object by what made it (its repr lists every date it has loaded)."""
    if isinstance(source, _HolidaysWithExtra):
        return repr(source)
    country = getattr(source, "country", None)
    if not isinstance(country, str):
        return repr(source)
    subdiv = getattr(source, "subdiv", None)
    return f"holidays.country_holidays({country!r}" + (f", subdiv={subdiv!r})" if subdiv else ")")


def _restore(
    zone: str,
    week: Week,
    explicit: frozenset[date],
    source: Container[date] | None,
    special: dict[date, tuple[Span, ...]],
) -> BusinessCalendar:
    return BusinessCalendar._from_parts(ZoneInfo(zone), week, explicit, source, special)


class BusinessCalendar:
    """Opening hours in a time zone, with holidays and special days.

    >>> from datetime import date
    >>> cal = BusinessCalendar(
    ...     timezone="Europe/Berlin",
    ...     hours={"mon-fri": ["09:00-12:00", "13:00-17:00"], "sat": "10:00-14:00"},
    ...     holidays=[date(2026, 12, 25)],
    ...     special_days={date(2026, 12, 24): "09:00-12:00"},
    ... )

    ``hours`` maps days (``mon`` ... ``sun``, or ranges such as ``mon-fri`` or ``sat-mon``) to
    an interval ``"HH:MM-HH:MM"`` or a list of them. ``"00:00-24:00"`` is a whole day; an
    interval whose end is not after its start crosses midnight and belongs to the day it
    starts on. ``holidays`` is a list or set of dates, or any container answering
    ``day in holidays`` (such as ``holidays.country_holidays("DE", subdiv="BY")``, which is
    only ever asked, never iterated). A holiday removes the intervals that start on it.
    ``special_days`` replaces a date's intervals (``[]`` closes it) and wins over a holiday.

    A calendar is immutable; it compares equal to another with the same definition.
    Results are aware datetimes in the calendar's zone.
    """

    __slots__ = (
        "_explicit",
        "_full_week",
        "_rules",
        "_source",
        "_special",
        "_timeline",
        "_week",
        "_week_open_us",
        "_zone",
    )

    _zone: ZoneInfo
    _week: Week
    _explicit: frozenset[date]
    _source: Container[date] | None
    _special: dict[date, tuple[Span, ...]]
    _rules: Rules
    _timeline: Timeline | None
    _week_open_us: int
    _full_week: bool

    def __init__(
        self,
        *,
        timezone: str | ZoneInfo,
        hours: HoursSpec,
        holidays: Container[date] | None = None,
        special_days: SpecialDaysSpec | None = None,
    ) -> None:
        zone = parse_timezone(timezone, path="")
        week = parse_hours(hours, path="")
        explicit, source = parse_holidays(holidays, path="")
        special = parse_special_days(
            special_days,
            week,
            path="",
            holidays=_HolidaysWithExtra(() if source is None else source, explicit),
        )
        self._init_parts(zone, week, explicit, source, special)

    @classmethod
    def always(cls, timezone: str | ZoneInfo = "UTC") -> BusinessCalendar:
        """A calendar open around the clock, every day (its days are local days)."""
        return cls(timezone=timezone, hours={"mon-sun": "00:00-24:00"})

    @classmethod
    def _from_parts(
        cls,
        zone: ZoneInfo,
        week: Week,
        explicit: frozenset[date],
        source: Container[date] | None,
        special: dict[date, tuple[Span, ...]],
    ) -> BusinessCalendar:
        calendar = cls.__new__(cls)
        calendar._init_parts(zone, week, explicit, source, special)
        return calendar

    def _init_parts(
        self,
        zone: ZoneInfo,
        week: Week,
        explicit: frozenset[date],
        source: Container[date] | None,
        special: dict[date, tuple[Span, ...]],
    ) -> None:
        week_open = sum(end - start for spans in week for start, end in spans)
        lookup: Container[date] | None = source
        if source is not None and explicit:
            lookup = _HolidaysWithExtra(source, explicit)
            explicit = frozenset()
        set_ = object.__setattr__
        set_(self, "_zone", zone)
        set_(self, "_week", week)
        set_(self, "_explicit", explicit)
        set_(self, "_source", lookup)
        set_(self, "_special", special)
        set_(self, "_rules", Rules(zone, week, special, explicit, lookup))
        set_(self, "_timeline", None)
        set_(self, "_week_open_us", week_open * 60 * SECOND_US)
        # Spans never overlap, so they fill the week exactly when their lengths add up to it.
        set_(self, "_full_week", week_open == 7 * 1440)

    # -- definition -------------------------------------------------------------------------

    @property
    def timezone(self) -> str:
        """The IANA name of the calendar's time zone."""
        return self._zone.key

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return self._zone

    @property
    def hours(self) -> Mapping[str, tuple[str, ...]]:
        """Weekly hours, normalized: every day ``mon`` ... ``sun`` to its sorted intervals."""
        return MappingProxyType(
            {
                name: tuple(format_span(s) for s in spans)
                for name, spans in zip(DAY_NAMES, self._week)
            }
        )

    @property
    def holidays(self) -> Container[date]:
        """The holidays: a frozenset of dates, or the container that was given."""
        return self._source if self._source is not None else self._explicit

    @property
    def special_days(self) -> Mapping[date, tuple[str, ...]]:
        """Special days, by date, to their replacement intervals (``()`` = closed)."""
        return MappingProxyType(
            {day: tuple(format_span(s) for s in spans) for day, spans in self._special.items()}
        )

    @property
    def open_seconds_per_week(self) -> int:
        """Nominal open seconds of a week (wall-clock hours, before DST and holidays)."""
        return self._week_open_us // SECOND_US

    # -- queries ----------------------------------------------------------------------------

    def _timeline_for(self, lo: int, hi: int, field: str) -> Timeline:
        """A timeline covering ``lo`` to ``hi``; a ValidationError naming ``field`` when
        that runs out of the years business time is computed for."""
        timeline = self._timeline
        if timeline is None or not timeline.covers(lo, hi):
            try:
                timeline = cover(timeline, self._rules, lo, hi)
            except ValidationError as exc:
                raise ValidationError(exc.message, field=field) from None
            object.__setattr__(self, "_timeline", timeline)
        return timeline

    def _out(self, instant: int, field: str) -> datetime:
        seconds, micros = divmod(instant, SECOND_US)
        try:
            result = _fromtimestamp(seconds, self._zone)
        except (OSError, OverflowError, ValueError):  # platforms without negative timestamps
            try:
                return (_EPOCH + timedelta(0, seconds, micros)).astimezone(self._zone)
            except OverflowError:
                where = "before the year 1" if instant < 0 else "after the year 9999"
                raise ValidationError(
                    f"the instant falls {where} (in UTC or in the calendar's time zone "
                    f"{self.timezone}): a datetime holds the years 1 to 9999",
                    field=field,
                ) from None
        return result.replace(microsecond=micros) if micros else result

    def _no_open_time(self, at: int, after: bool) -> ConfigError:
        when = "after" if after else "before"
        return ConfigError(
            f"the calendar has no open hours in the ten years {when} "
            f"{self._out(at, 'at').isoformat()}: "
            "check its holidays",
            path="holidays",
        )

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant ``t >= start`` with ``elapsed(start, t) == duration``.

        ``add(start, timedelta(0))`` is ``start`` itself, open or not; a duration that runs
        out exactly at a closing time gives that closing time.
        """
        at = _to_us(start, "start")
        micros = _duration_us(duration)
        if micros == 0:
            return self._out(at, "start")
        timeline = self._timeline
        if timeline is None or not timeline.lo_safe <= at < timeline.hi_safe:
            timeline = self._timeline_for(_in_range(at, start, "start"), at, "start")
        while True:
            target = timeline.cum_at(at) + micros
            cum_end = timeline.cum_end
            i = bisect_left(cum_end, target)
            if i < len(cum_end):
                instant = timeline.starts[i] + target - timeline.cum_start[i]
                if instant < timeline.hi_safe:
                    return self._out(instant, "duration")
                need = instant
            else:
                ends = timeline.ends
                last = max(at, ends[-1]) if ends else at
                if timeline.hi_safe - last > _SEARCH_US:
                    raise self._no_open_time(last, after=True)
                missing = target - (cum_end[-1] if cum_end else 0)
                need = timeline.hi_safe + missing * _WEEK_US // self._week_open_us
            timeline = self._timeline_for(at, need, "duration")

    def subtract(self, end: datetime, duration: timedelta) -> datetime:
        """The latest instant ``t <= end`` with ``elapsed(t, end) == duration`` (the mirror of
        :meth:`add`: a duration that runs out exactly at an opening time gives that opening
        time)."""
        at = _to_us(end, "end")
        micros = _duration_us(duration)
        if micros == 0:
            return self._out(at, "end")
        timeline = self._timeline_for(_in_range(at, end, "end"), at, "end")
        while True:
            target = timeline.cum_at(at) - micros
            i = bisect_right(timeline.cum_start, target) - 1
            if i >= 0:
                instant = timeline.starts[i] + target - timeline.cum_start[i]
                if instant >= timeline.lo_safe:
                    return self._out(instant, "duration")
                need = instant
            else:
                starts = timeline.starts
                first = min(at, starts[0]) if starts else at
                if first - timeline.lo_safe > _SEARCH_US:
                    raise self._no_open_time(first, after=False)
                need = timeline.lo_safe + target * _WEEK_US // self._week_open_us
            timeline = self._timeline_for(need, at, "duration")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """The real time of ``[start, end)`` that falls inside open hours."""
        lo = _to_us(start, "start")
        hi = _to_us(end, "end")
        if hi < lo:
            raise ValidationError(
                f"end {end.isoformat()} is before start {start.isoformat()}", field="end"
            )
        timeline = self._timeline
        if timeline is None or not (timeline.lo_safe <= lo and hi < timeline.hi_safe):
            _in_range(lo, start, "start")
            timeline = self._timeline_for(lo, _in_range(hi, end, "end"), "end")
        return _ONE_US * (timeline.cum_at(hi) - timeline.cum_at(lo))

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` lies in an open interval ``[open, close)``."""
        instant = _in_range(_to_us(at, "at"), at, "at")
        timeline = self._timeline_for(instant, instant, "at")
        i = bisect_right(timeline.starts, instant) - 1
        return i >= 0 and instant < timeline.ends[i]

    def opens_on(self, day: date) -> bool:
        """Whether an open interval starts on the local date ``day`` (a business day): a
        holiday has none, even when the night shift of the day before runs into it, and
        the morning a night shift spills into is not a business day of its own."""
        if isinstance(day, datetime) or not isinstance(day, date):
            raise ValidationError(
                f"day must be a date, got {type(day).__name__} {day!r}", field="day"
            )
        rules = self._rules
        ordinal = day.toordinal()
        try:
            return any(
                rules.instant(ordinal, start) < rules.instant(ordinal, end)
                for start, end in rules.spans_on(day)
            )
        except (OverflowError, ValueError):  # the last representable date's night shift
            return bool(rules.spans_on(day))

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself when open, else the next opening instant."""
        instant = _in_range(_to_us(at, "at"), at, "at")
        timeline = self._timeline_for(instant, instant, "at")
        while True:
            starts = timeline.starts
            i = bisect_right(starts, instant) - 1
            if i >= 0 and instant < timeline.ends[i]:
                return self._out(instant, "at")
            if i + 1 < len(starts) and starts[i + 1] < timeline.hi_safe:
                return self._out(starts[i + 1], "at")
            if timeline.hi_safe - instant > _SEARCH_US:
                raise self._no_open_time(instant, after=True)
            timeline = self._timeline_for(instant, timeline.hi_safe + _YEAR_US, "at")

    def next_close(self, at: datetime) -> datetime:
        """When open, the end of the current open stretch (touching intervals, such as
        ``00:00-24:00`` on consecutive days, count as one); when closed, the end of the next
        one. A calendar that never closes after ``at`` raises ValidationError."""
        instant = _in_range(_to_us(at, "at"), at, "at")
        timeline = self._timeline_for(instant, instant, "at")
        while True:
            starts = timeline.starts
            i = bisect_right(starts, instant) - 1
            if i < 0 or instant >= timeline.ends[i]:
                i += 1
            if i < len(starts) and timeline.ends[i] < timeline.hi_safe:
                return self._out(timeline.ends[i], "at")
            if i >= len(starts) and timeline.hi_safe - instant > _SEARCH_US:
                raise self._no_open_time(instant, after=True)
            if i < len(starts) and timeline.hi_safe > self._closure_limit(instant):
                raise ValidationError(
                    f"the calendar never closes after {at.isoformat()}: it is open around "
                    "the clock and no holiday or special day closes it",
                    field="at",
                )
            timeline = self._timeline_for(instant, timeline.hi_safe + _YEAR_US, "at")

    def _closure_limit(self, instant: int) -> float:
        """Past this instant an around-the-clock week can no longer close."""
        if not self._full_week:
            return float("inf")
        if self._source is not None:
            return instant + _SEARCH_US
        days = self._explicit | self._special.keys()
        if not days:
            return float("-inf")
        return (max(days).toordinal() + 3 - EPOCH_ORDINAL) * DAY_US

    def prev_close(self, at: datetime) -> datetime:
        """The mirror of :meth:`next_open`: ``at`` itself when open time ends at or runs up
        to it (``at`` in ``(open, close]``), else the last closing instant before it."""
        instant = _in_range(_to_us(at, "at"), at, "at")
        timeline = self._timeline_for(instant, instant, "at")
        while True:
            ends = timeline.ends
            i = bisect_left(ends, instant)
            if i < len(ends) and timeline.starts[i] < instant:
                return self._out(instant, "at")
            if i > 0 and ends[i - 1] >= timeline.lo_safe:
                return self._out(ends[i - 1], "at")
            if instant - timeline.lo_safe > _SEARCH_US:
                raise self._no_open_time(instant, after=False)
            timeline = self._timeline_for(timeline.lo_safe - _YEAR_US, instant, "at")

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open stretches within ``[start, end)``, clipped to it, in order (touching
        intervals count as one)."""
        lo = _to_us(start, "start")
        hi = _to_us(end, "end")
        if hi < lo:
            raise ValidationError(
                f"end {end.isoformat()} is before start {start.isoformat()}", field="end"
            )
        _in_range(lo, start, "start")
        timeline = self._timeline_for(lo, _in_range(hi, end, "end"), "end")
        return self._iter_intervals(timeline, lo, hi)

    def _iter_intervals(
        self, timeline: Timeline, lo: int, hi: int
    ) -> Iterator[tuple[datetime, datetime]]:
        starts, ends = timeline.starts, timeline.ends
        i = max(bisect_right(starts, lo) - 1, 0)
        while i < len(starts) and starts[i] < hi:
            opens, closes = max(starts[i], lo), min(ends[i], hi)
            if opens < closes:
                yield self._out(opens, "end"), self._out(closes, "end")
            i += 1

    # -- data -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-ready description; :meth:`from_dict` reads it back.

        Holidays are a list of ISO dates, or ``{"country": "DE", "subdiv": "BY"}`` for a
        ``holidays``-package object (with ``"extra"`` dates when there are some). Another
        kind of holiday container cannot be written out (ConfigError).
        """
        return {
            "timezone": self.timezone,
            "hours": {
                name: [format_span(s) for s in spans]
                for name, spans in zip(DAY_NAMES, self._week)
                if spans
            },
            "holidays": self._holidays_doc(),
            "special_days": {
                day.isoformat(): [format_span(s) for s in spans]
                for day, spans in self._special.items()
            },
        }

    def _holidays_doc(self) -> list[str] | dict[str, Any]:
        source, extra = self._source, self._explicit
        if isinstance(self._source, _HolidaysWithExtra):
            source, extra = self._source.source, self._source.extra
        if source is None:
            return sorted(day.isoformat() for day in extra)
        country = getattr(source, "country", None)
        if not isinstance(country, str):
            raise ConfigError(
                f"holidays given as {type(source).__name__} cannot be written as data: use a "
                "list of dates or a holidays-package object such as "
                "holidays.country_holidays('DE', subdiv='BY')",
                path="holidays",
            )
        doc: dict[str, Any] = {"country": country}
        if getattr(source, "subdiv", None):
            doc["subdiv"] = source.subdiv  # type: ignore[attr-defined]
        if getattr(source, "observed", True) is False:
            doc["observed"] = False
        categories = getattr(source, "categories", None)
        default = getattr(source, "default_category", None)
        if categories and default and set(categories) != {default}:
            doc["categories"] = sorted(categories)
        if extra:
            doc["extra"] = sorted(day.isoformat() for day in extra)
        return doc

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], path: str = "calendar") -> BusinessCalendar:
        """Build a calendar from :meth:`to_dict`'s form; errors are ConfigErrors naming the
        bad part under ``path`` (e.g. ``calendars.emea.hours.mon[1]``)."""
        if not isinstance(doc, Mapping):
            raise ConfigError(
                f"a calendar is a mapping with {', '.join(_DOC_KEYS)}, got {type(doc).__name__}",
                path=path,
            )
        for key in doc:
            if key not in _DOC_KEYS:
                raise ConfigError(
                    f"unknown key {key!r}: a calendar has {', '.join(_DOC_KEYS)}",
                    path=join(path, str(key)),
                )
        for key in ("timezone", "hours"):
            if key not in doc:
                raise ConfigError(f"a calendar needs {key!r}", path=join(path, key))
        zone = parse_timezone(doc["timezone"], path=path)
        week = parse_hours(doc["hours"], path=path)
        explicit, source = _holidays_from_doc(doc.get("holidays"), path=join(path, "holidays"))
        special = parse_special_days(
            doc.get("special_days"),
            week,
            path=path,
            text_dates=True,
            holidays=_HolidaysWithExtra(() if source is None else source, explicit),
        )
        return cls._from_parts(zone, week, explicit, source, special)

    # -- object protocol --------------------------------------------------------------------

    def _key(self) -> tuple[object, ...]:
        source = self._source
        source_key: object = source
        if isinstance(source, _HolidaysWithExtra):
            source_key = (_holidays_key(source.source), source.extra)
        elif source is not None:
            source_key = _holidays_key(source)
        return (
            self._zone.key,
            self._week,
            tuple(self._special.items()),
            self._explicit,
            source_key,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BusinessCalendar):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((self._zone.key, self._week, tuple(self._special.items()), self._explicit))

    def __repr__(self) -> str:
        parts = [f"timezone={self.timezone!r}", f"hours={{{_group_days(self._week)}}}"]
        if self._source is not None:
            parts.append(f"holidays={_holidays_repr(self._source)}")
        elif self._explicit:
            days = sorted(day.isoformat() for day in self._explicit)
            shown = ", ".join(repr(d) for d in days[:5])
            more = f", ... {len(days) - 5} more" if len(days) > 5 else ""
            parts.append(f"holidays=[{shown}{more}]")
        if self._special:
            specials = ", ".join(
                f"{day.isoformat()!r}: {_spans_text(spans)}" for day, spans in self._special.items()
            )
            parts.append(f"special_days={{{specials}}}")
        return f"BusinessCalendar({', '.join(parts)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (self._zone.key, self._week, self._explicit, self._source, self._special))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"BusinessCalendar is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"BusinessCalendar is immutable: cannot delete {name!r}")


def _spans_text(spans: tuple[Span, ...]) -> str:
    return repr(", ".join(format_span(s) for s in spans)) if spans else "[]"


def _group_days(week: Week) -> str:
    """``'mon-fri': '09:00-17:00', 'sat': '10:00-14:00'`` (closed days left out)."""
    groups: list[str] = []
    day = 0
    while day < 7:
        last = day
        while last + 1 < 7 and week[last + 1] == week[day]:
            last += 1
        if week[day]:
            name = DAY_NAMES[day] if last == day else f"{DAY_NAMES[day]}-{DAY_NAMES[last]}"
            groups.append(f"{name!r}: {_spans_text(week[day])}")
        day = last + 1
    return ", ".join(groups)


def _holidays_key(source: Container[date]) -> object:
    """What makes two holiday containers the same: country, subdivision and options for a
    holidays-package object (which fill years lazily, so compare unequal as dicts)."""
    country = getattr(source, "country", None)
    if country is None:
        return source
    return (
        type(source),
        country,
        getattr(source, "subdiv", None),
        getattr(source, "observed", None),
        frozenset(getattr(source, "categories", None) or ()),
    )


def _holidays_from_doc(
    value: object, *, path: str
) -> tuple[frozenset[date], Container[date] | None]:
    if value is None:
        return frozenset(), None
    if isinstance(value, list | tuple):
        return parse_holiday_dates(value, path=path), None
    if not isinstance(value, Mapping):
        raise ConfigError(
            "holidays are a list of ISO dates or "
            f"{{'country': 'DE', 'subdiv': 'BY', 'extra': [...]}}, got {type(value).__name__}",
            path=path,
        )
    for key in value:
        if key not in _COUNTRY_KEYS:
            raise ConfigError(
                f"unknown key {key!r}: holidays by country take {', '.join(_COUNTRY_KEYS)}",
                path=join(path, str(key)),
            )
    country = value.get("country")
    if not isinstance(country, str) or not country:
        raise ConfigError(
            f"holidays need a country code such as 'DE', got {country!r}",
            path=join(path, "country"),
        )
    extra = value.get("extra", [])
    if not isinstance(extra, list | tuple):
        raise ConfigError("extra holidays are a list of ISO dates", path=join(path, "extra"))
    explicit = parse_holiday_dates(extra, path=join(path, "extra"))
    try:
        import holidays as holidays_package
    except ImportError:
        raise ConfigError(
            "holidays by country need the `holidays` package: install the `holidays` extra "
            "(pip install 'helpdesk-core[holidays]')",
            path=path,
        ) from None
    options: dict[str, Any] = {"subdiv": value.get("subdiv")}
    if options["subdiv"] is not None and (
        not isinstance(options["subdiv"], str) or not options["subdiv"]
    ):
        raise ConfigError(
            f"subdiv is a region code such as 'BY', got {options['subdiv']!r}",
            path=join(path, "subdiv"),
        )
    if "observed" in value:
        if not isinstance(value["observed"], bool):
            raise ConfigError(
                f"observed is true or false, got {value['observed']!r}",
                path=join(path, "observed"),
            )
        options["observed"] = value["observed"]
    if "categories" in value:
        categories = value["categories"]
        if (
            not isinstance(categories, list | tuple)
            or not categories
            or not all(isinstance(c, str) and c for c in categories)
        ):
            raise ConfigError(
                f"categories is a list of holiday categories such as ['public'], got "
                f"{categories!r}",
                path=join(path, "categories"),
            )
        options["categories"] = tuple(categories)
    try:
        source = holidays_package.country_holidays(country, **options)
    except (NotImplementedError, ValueError, TypeError, KeyError) as exc:
        raise ConfigError(f"cannot make holidays for {country!r}: {exc}", path=path) from None
    return explicit, source
