"""BusinessCalendar against a brute-force oracle, on random schedules in zones with odd DST.

The oracle is written from the rules alone: each local date's intervals are turned into UTC
with ``datetime(..., fold=0).astimezone(UTC)``; open time is found by a sweep over every
interval's opening and closing (an instant is open when it lies inside at least one), or,
for short windows, by walking the UTC line minute by minute. It shares no code with the
calendar.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from helpdesk_core.errors import ConfigError
from helpdesk_core.sla.calendar import BusinessCalendar

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTE = timedelta(minutes=1)
WEEK_MINUTES = 7 * 1440
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


def text(start: int, end: int) -> str:
    """Local spans in minutes -> 'HH:MM-HH:MM' (end past 24:00 wraps; 24:00 stays)."""
    if end > 1440:
        end -= 1440
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


@dataclass
class Definition:
    zone: str
    week: dict[int, Spans]
    holidays: set[date] = field(default_factory=set)
    special: dict[date, Spans] = field(default_factory=dict)

    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(
            timezone=self.zone,
            hours={DAY_NAMES[d]: [text(s, e) for s, e in spans] for d, spans in self.week.items()},
            holidays=sorted(self.holidays),
            special_days={d: [text(s, e) for s, e in spans] for d, spans in self.special.items()},
        )


class Oracle:
    """Open time by brute force from the definition."""

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
        return any(s <= t < e for s, e in self.segments(t - MINUTE, t + MINUTE))

    def elapsed(self, a: datetime, b: datetime) -> timedelta:
        return sum((e - s for s, e in self.segments(a, b)), timedelta(0))

    def elapsed_by_minutes(self, a: datetime, b: datetime) -> timedelta:
        """Walk [a, b) minute by minute (boundaries are whole UTC minutes in these zones)."""
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
        span = timedelta(days=30)
        while True:
            left = duration
            for s, e in reversed(self.segments(b - span, b)):
                if e - s >= left:
                    return e - left
                left -= e - s
            span *= 2

    def next_open(self, a: datetime) -> datetime:
        span = timedelta(days=30)
        while True:
            segments = self.segments(a, a + span)
            if segments:
                return segments[0][0]
            span *= 2


# -- strategies ---------------------------------------------------------------------------------


@st.composite
def weeks(draw: st.DrawFn) -> dict[int, Spans]:
    """Random weekly hours: disjoint intervals round the week (so a Sunday night may run
    into Monday), each at most a day long, on a 15-minute grid or any minute."""
    grid = draw(st.sampled_from([15, 15, 30, 60, 1]))
    points = draw(
        st.lists(
            st.integers(0, WEEK_MINUTES // grid - 1).map(lambda k: k * grid),
            min_size=2,
            max_size=12,
            unique=True,
        )
    )
    points.sort()
    shift = draw(st.integers(0, WEEK_MINUTES - 1))
    week: dict[int, Spans] = {}
    for start, end in zip(points[::2], points[1::2]):
        length = end - start
        start = (start + shift) % WEEK_MINUTES
        day, minute = divmod(start, 1440)
        if length > 1440 or (length == 1440 and minute):
            length = draw(st.integers(1, 1439 - minute)) if minute < 1439 else 1
        week.setdefault(day, []).append((minute, minute + length))
    return week


def day_spans(draw: st.DrawFn) -> Spans:
    """A special day's hours: up to two intervals, the last one maybe past midnight."""
    points = sorted(draw(st.lists(st.integers(0, 95), max_size=4, unique=True)))
    spans = [(s * 15, e * 15) for s, e in zip(points[::2], points[1::2])]
    overnight = draw(st.booleans())
    if spans and overnight:
        start, _ = spans[-1]
        spans[-1] = (start, start + draw(st.integers(1, 1439)))
    return spans


@st.composite
def cases(draw: st.DrawFn) -> tuple[Definition, datetime]:
    """A calendar definition and an instant to start from (often near a clock change)."""
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
    week = draw(weeks())
    today = base.date()
    holidays = {today + timedelta(days=k) for k in draw(st.lists(st.integers(-3, 20), max_size=3))}
    special = {
        today + timedelta(days=k): day_spans(draw)
        for k in draw(st.lists(st.integers(-3, 20), max_size=2))
    }
    return Definition(zone, week, holidays, special), base


def build(definition: Definition) -> BusinessCalendar:
    try:
        return definition.calendar()
    except ConfigError:
        # e.g. a special day overlapping its neighbours' hours: not a calendar to test.
        assume(False)
        raise


def same(a: datetime, b: datetime) -> bool:
    return a.astimezone(UTC) == b.astimezone(UTC)


# -- properties ---------------------------------------------------------------------------------

SHORT = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SHORT
@given(case=cases(), window=st.integers(0, 3 * 1440), data=st.data())
def test_short_windows_agree_with_the_minute_by_minute_oracle(
    case: tuple[Definition, datetime], window: int, data: st.DataObject
) -> None:
    definition, a = case
    calendar = build(definition)
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
    case: tuple[Definition, datetime], hours: int, minutes: int, split: float
) -> None:
    definition, a = case
    calendar = build(definition)
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
    case: tuple[Definition, datetime], data: st.DataObject
) -> None:
    definition, a = case
    calendar = build(definition)
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
