"""BusinessCalendar against a brute-force oracle, on random schedules in zones with odd DST.

The schedules come from the testing kit's ``business_calendars`` (any intervals round the
week on a 1-, 15-, 30- or 60-minute grid, and now and then the office layout), with
holidays and special days around the instant the properties start from. The oracle reads
the calendar's definition (its hours, holidays and special days as text) and is written
from the rules alone: each local date's intervals are turned into UTC with
``datetime(..., fold=0).astimezone(UTC)``; open time is found by a sweep over every
interval's opening and closing (an instant is open when it lies inside at least one), or,
for short windows, by walking the UTC line minute by minute. It shares no code with the
calendar.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from helpdesk_core.sla.calendar import BusinessCalendar
from helpdesk_core.testing.strategies import business_calendars

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTE = timedelta(minutes=1)
# Zones and the years to test them in (Sao Paulo had DST until 2019; Lord Howe shifts by
# 30 minutes; Kolkata is +05:30 without DST).
ZONES = {
    "Europe/Berlin": (2019, 2030),
    "America/New_York": (2019, 2030),
    "America/Sao_Paulo": (2015, 2018),
    "Australia/Lord_Howe": (2019, 2030),
    "Asia/Kolkata": (2019, 2030),
    "UTC": (2019, 2030),
}

Spans = list[tuple[int, int]]


@cache
def transitions(zone_name: str) -> tuple[datetime, ...]:
    """UTC instants (to the hour) where the zone's offset changes within its test years."""
    zone = ZoneInfo(zone_name)
    first, last = ZONES[zone_name]
    t = datetime(first, 1, 1, tzinfo=UTC)
    end = datetime(last + 1, 1, 1, tzinfo=UTC)
    found = []
    offset = t.astimezone(zone).utcoffset()
    while t < end:
        t += timedelta(hours=1)
        now = t.astimezone(zone).utcoffset()
        if now != offset:
            found.append(t)
            offset = now
    return tuple(found)


def span(text: str) -> tuple[int, int]:
    """'HH:MM-HH:MM' -> local minutes from the day's midnight; an end at or before the
    start is on the next day (the interval crosses midnight), and '24:00' is midnight."""
    start, end = ((int(t[:2]) * 60 + int(t[3:])) for t in text.split("-"))
    return start, end + 1440 if end <= start else end


def spans(texts: Iterable[str]) -> Spans:
    return [span(text) for text in texts]


@dataclass
class Definition:
    zone: str
    week: dict[int, Spans]
    holidays: set[date] = field(default_factory=set)
    special: dict[date, Spans] = field(default_factory=dict)

    @classmethod
    def of(cls, calendar: BusinessCalendar) -> Definition:
        """The calendar's definition, read from its documented data form."""
        doc = calendar.to_dict()
        return cls(
            zone=doc["timezone"],
            week={DAY_NAMES.index(day): spans(texts) for day, texts in doc["hours"].items()},
            holidays={date.fromisoformat(day) for day in doc["holidays"]},
            special={date.fromisoformat(d): spans(t) for d, t in doc["special_days"].items()},
        )


class Oracle:
    """Open time by brute force from the definition. It works on the UTC line: every
    instant it is given is turned into UTC first (adding to a local time would be
    wall-clock arithmetic, wrong across a clock change)."""

    def __init__(self, definition: Definition) -> None:
        self.d = definition
        self.zone = ZoneInfo(definition.zone)

    def local(self, day: date, minute: int) -> datetime:
        day = day + timedelta(days=minute // 1440)
        minute %= 1440
        wall = datetime(day.year, day.month, day.day, minute // 60, minute % 60, fold=0)
        return wall.replace(tzinfo=self.zone).astimezone(UTC)

    def day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.d.special:
            spans = self.d.special[day]
        elif day in self.d.holidays:
            spans = []
        else:
            spans = self.d.week.get(day.weekday(), [])
        result = []
        for start, end in spans:
            opens, closes = self.local(day, start), self.local(day, end)
            if opens < closes:
                result.append((opens, closes))
        return result

    def segments(self, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
        """Open stretches within [lo, hi), by a sweep over every interval near it."""
        lo, hi = lo.astimezone(UTC), hi.astimezone(UTC)
        day = (lo - timedelta(days=2)).date()
        last = (hi + timedelta(days=2)).date()
        events: list[tuple[datetime, int]] = []
        while day <= last:
            for opens, closes in self.day_intervals(day):
                events += [(opens, 1), (closes, -1)]
            day += timedelta(days=1)
        events.sort()
        result = []
        depth = 0
        previous: datetime | None = None
        for when, delta in events:
            if depth > 0 and previous is not None and when > previous:
                s, e = max(previous, lo), min(when, hi)
                if s < e:
                    result.append((s, e))
            depth += delta
            previous = when
        return result

    def is_open(self, t: datetime) -> bool:
        t = t.astimezone(UTC)
        return any(s <= t < e for s, e in self.segments(t - MINUTE, t + MINUTE))

    def elapsed(self, a: datetime, b: datetime) -> timedelta:
        return sum((e - s for s, e in self.segments(a, b)), timedelta(0))

    def elapsed_by_minutes(self, a: datetime, b: datetime) -> timedelta:
        """Walk [a, b) minute by minute (boundaries are whole UTC minutes in these zones)."""
        a, b = a.astimezone(UTC), b.astimezone(UTC)
        segments = self.segments(a, b)
        starts = [s for s, _ in segments]
        total = timedelta(0)
        t = a
        while t < b:
            following = min(b, t.replace(second=0, microsecond=0) + MINUTE)
            i = bisect_right(starts, t) - 1
            if i >= 0 and t < segments[i][1]:
                total += following - t
            t = following
        return total

    def add(self, a: datetime, duration: timedelta) -> datetime:
        if duration == timedelta(0):
            return a
        a = a.astimezone(UTC)
        span = timedelta(days=30)
        while True:
            left = duration
            for s, e in self.segments(a, a + span):
                if e - s >= left:
                    return s + left
                left -= e - s
            span *= 2

    def subtract(self, b: datetime, duration: timedelta) -> datetime:
        if duration == timedelta(0):
            return b
        b = b.astimezone(UTC)
        span = timedelta(days=30)
        while True:
            left = duration
            for s, e in reversed(self.segments(b - span, b)):
                if e - s >= left:
                    return e - left
                left -= e - s
            span *= 2

    def next_open(self, a: datetime) -> datetime:
        a = a.astimezone(UTC)
        span = timedelta(days=30)
        while True:
            segments = self.segments(a, a + span)
            if segments:
                return segments[0][0]
            span *= 2


# -- strategies ---------------------------------------------------------------------------------


GRIDS = (15, 15, 30, 60, 1)  # minutes; quarter hours most often


@st.composite
def cases(draw: st.DrawFn) -> tuple[BusinessCalendar, datetime]:
    """A calendar and an instant to start from (often near a clock change); its holidays
    and special days fall between three days before and twenty days after that instant."""
    zone = draw(st.sampled_from(sorted(ZONES)))
    first, last = ZONES[zone]
    changes = transitions(zone)
    near_a_change = draw(st.booleans())
    if changes and near_a_change:
        base = draw(st.sampled_from(changes)) + timedelta(
            minutes=draw(st.integers(-3 * 1440, 3 * 1440))
        )
    else:
        base = datetime(first, 1, 1, tzinfo=UTC) + timedelta(
            minutes=draw(st.integers(0, (last - first + 1) * 365 * 1440 - 1))
        )
    if draw(st.integers(0, 4)) == 0:
        base += timedelta(seconds=draw(st.integers(1, 59)), microseconds=draw(st.integers(0, 9)))
    today = base.date()
    calendar = draw(
        business_calendars(
            timezones=[zone],
            layout=draw(st.sampled_from(["any", "any", "any", "office"])),
            grid=GRIDS,
            min_date=today - timedelta(days=3),
            max_date=today + timedelta(days=20),
        )
    )
    return calendar, base


def same(a: datetime, b: datetime) -> bool:
    return a.astimezone(UTC) == b.astimezone(UTC)


# -- properties ---------------------------------------------------------------------------------

SHORT = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SHORT
@given(case=cases(), window=st.integers(0, 3 * 1440), data=st.data())
def test_short_windows_agree_with_the_minute_by_minute_oracle(
    case: tuple[BusinessCalendar, datetime], window: int, data: st.DataObject
) -> None:
    calendar, a = case
    definition = Definition.of(calendar)
    oracle = Oracle(definition)
    b = a + timedelta(minutes=window, seconds=data.draw(st.sampled_from([0, 0, 0, 17])))

    expected = oracle.elapsed_by_minutes(a, b)
    assert oracle.elapsed(a, b) == expected  # the two oracles agree
    assert calendar.elapsed(a, b) == expected

    for t in (a, b, *(a + timedelta(minutes=data.draw(st.integers(0, window))) for _ in range(3))):
        assert calendar.is_open(t) == oracle.is_open(t), t
        assert same(calendar.next_open(t), t if oracle.is_open(t) else oracle.next_open(t))

    # Durations ending at interval boundaries exercise the closing-time rule.
    boundaries = [edge for segment in oracle.segments(a, b) for edge in segment]
    targets = [oracle.elapsed(a, edge) for edge in boundaries] + [expected]
    for duration in targets:
        assert same(calendar.add(a, duration), oracle.add(a, duration)), duration
        assert same(calendar.subtract(b, duration), oracle.subtract(b, duration)), duration


@LONG
@given(
    case=cases(),
    hours=st.integers(0, 2000),
    minutes=st.integers(0, 59),
    split=st.floats(0, 1),
)
def test_long_durations_agree_with_the_oracle(
    case: tuple[BusinessCalendar, datetime], hours: int, minutes: int, split: float
) -> None:
    calendar, a = case
    definition = Definition.of(calendar)
    oracle = Oracle(definition)
    per_week = timedelta(minutes=sum(e - s for spans in definition.week.values() for s, e in spans))
    duration = min(timedelta(hours=hours, minutes=minutes), per_week * 104)  # at most ~2 years

    due = calendar.add(a, duration)
    assert same(due, oracle.add(a, duration))
    assert calendar.elapsed(a, due) == duration
    assert oracle.elapsed(a, due) == duration

    # add is monotone in the duration, and elapsed is additive.
    part = timedelta(seconds=int(duration.total_seconds() * split))
    middle = calendar.add(a, part)
    assert middle.astimezone(UTC) <= due.astimezone(UTC)
    assert calendar.elapsed(a, middle) + calendar.elapsed(middle, due) == calendar.elapsed(a, due)
    later = due.astimezone(UTC) + timedelta(hours=hours)  # real time, not wall-clock time
    assert calendar.elapsed(a, due) + calendar.elapsed(due, later) == calendar.elapsed(a, later)
    assert calendar.elapsed(a, later) == oracle.elapsed(a, later)

    # subtract mirrors add.
    back = calendar.subtract(due, duration)
    assert back.astimezone(UTC) >= a.astimezone(UTC)
    assert same(back, oracle.subtract(due, duration))
    assert calendar.elapsed(back, due) == duration


@SHORT
@given(case=cases(), data=st.data())
def test_next_close_and_prev_close_agree_with_the_oracle(
    case: tuple[BusinessCalendar, datetime], data: st.DataObject
) -> None:
    calendar, a = case
    definition = Definition.of(calendar)
    oracle = Oracle(definition)
    segments = oracle.segments(a - timedelta(days=30), a + timedelta(days=30))
    # Touching segments are one open stretch.
    stretches: list[list[datetime]] = []
    for s, e in segments:
        if stretches and stretches[-1][1] == s:
            stretches[-1][1] = e
        else:
            stretches.append([s, e])
    inner = [(s, e) for s, e in stretches[1:-1]]
    assume(inner)
    s, e = data.draw(st.sampled_from(inner))
    t = data.draw(st.sampled_from([s, e, s + (e - s) / 2, e + MINUTE]))
    following = [x for x in stretches if x[1] > t]
    if following and following[0] != stretches[-1]:
        assert same(calendar.next_close(t), following[0][1])
    before = [x for x in stretches if x[0] < t]
    if before and before[-1] != stretches[0]:
        last_end = before[-1][1]
        assert same(calendar.prev_close(t), t if t <= last_end else last_end)
    assert calendar.is_open(t) == any(x[0] <= t < x[1] for x in stretches)
