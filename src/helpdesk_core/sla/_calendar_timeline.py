"""The open intervals of a business calendar on the UTC line, in integer microseconds.

:class:`Rules` turns a calendar's definition into the UTC intervals of each local date, one
local year at a time (cached): a boundary is a local wall-clock time read with ``fold=0``, so
a time in a spring-forward gap is shifted forward by the gap and an ambiguous time is its
first occurrence. An interval whose shifted start is not before its end is empty that day.

A :class:`Timeline` is an immutable snapshot over a run of years: the intervals merged
(overlapping or touching ones become one), with the open time accrued before each start and
before each end. The open time between two instants is then a difference of two look-ups,
whatever the distance between them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Container
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from helpdesk_core.errors import ValidationError
from helpdesk_core.sla._calendar_config import Span, Week

__all__ = [
    "DAY_US",
    "EPOCH_ORDINAL",
    "FIRST_INSTANT",
    "FIRST_YEAR",
    "LAST_INSTANT",
    "LAST_YEAR",
    "SECOND_US",
    "Rules",
    "Timeline",
    "cover",
    "year_of",
]

SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US
DAY_US = 86_400 * SECOND_US
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_ONE_US = timedelta(microseconds=1)

# Local years a timeline may be built for (a night shift on the last day runs into the next
# year, and the margins below need a day or two on either side).
FIRST_YEAR = 2
LAST_YEAR = 9998
# Local midnight is within a day of UTC midnight (offsets stay well below 24 h), so the
# intervals of dates outside the built years cannot reach more than a day into them.
_MARGIN_US = 2 * DAY_US
# The instants (UTC microseconds since 1970) business time can be computed around:
# ``cover`` needs three days on either side inside the years above.
FIRST_INSTANT = (date(FIRST_YEAR, 1, 1).toordinal() - EPOCH_ORDINAL + 3) * DAY_US
LAST_INSTANT = (date(LAST_YEAR + 1, 1, 1).toordinal() - EPOCH_ORDINAL - 3) * DAY_US
# Two look-ups far apart do not make one timeline spanning every year between them.
_FAR_YEARS = 10


class Rules:
    """Which local-time spans a calendar has on each date, and their UTC instants."""

    __slots__ = ("_years", "explicit", "source", "special", "week", "zone")

    def __init__(
        self,
        zone: ZoneInfo,
        week: Week,
        special: dict[date, tuple[Span, ...]],
        explicit: frozenset[date],
        source: Container[date] | None,
    ) -> None:
        self.zone = zone
        self.week = week
        self.special = special
        self.explicit = explicit
        self.source = source
        self._years: dict[int, list[tuple[int, int]]] = {}

    def spans_on(self, day: date) -> tuple[Span, ...]:
        """The spans that start on a local date: a special day's, none on a holiday, or the
        weekday's."""
        special = self.special.get(day)
        if special is not None:
            return special
        if day in self.explicit or (self.source is not None and day in self.source):
            return ()
        return self.week[day.weekday()]

    def instant(self, ordinal: int, minute: int) -> int:
        """UTC microseconds of local ``minute`` after the midnight of date ``ordinal``."""
        extra_days, minute = divmod(minute, 1440)
        ordinal += extra_days
        day = date.fromordinal(ordinal)
        local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=self.zone)
        offset = local.utcoffset()
        assert offset is not None  # a ZoneInfo always has an offset
        return (ordinal - EPOCH_ORDINAL) * DAY_US + minute * MINUTE_US - offset // _ONE_US

    def year(self, year: int) -> list[tuple[int, int]]:
        """The UTC intervals of every span starting on a local date of ``year``, by start."""
        cached = self._years.get(year)
        if cached is not None:
            return cached
        intervals: list[tuple[int, int]] = []
        instant = self.instant
        for ordinal in range(date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal()):
            for start, end in self.spans_on(date.fromordinal(ordinal)):
                opens, closes = instant(ordinal, start), instant(ordinal, end)
                if opens < closes:
                    intervals.append((opens, closes))
        intervals.sort()
        self._years[year] = intervals
        return intervals


class Timeline:
    """Merged open intervals of local years ``[first_year, end_year)`` with accrued open time.

    Instants in ``[lo_safe, hi_safe)`` see exactly the calendar's intervals; outside it the
    intervals of years not built yet may be missing.
    """

    __slots__ = (
        "cum_end",
        "cum_start",
        "end_year",
        "ends",
        "first_year",
        "hi_safe",
        "lo_safe",
        "starts",
    )

    def __init__(self, rules: Rules, first_year: int, end_year: int) -> None:
        raw: list[tuple[int, int]] = []
        for year in range(first_year, end_year):
            raw.extend(rules.year(year))
        raw.sort()
        starts: list[int] = []
        ends: list[int] = []
        cum_start: list[int] = []
        cum_end: list[int] = []
        total = 0
        for opens, closes in raw:
            if ends and opens <= ends[-1]:
                if closes > ends[-1]:
                    total += closes - ends[-1]
                    ends[-1] = closes
                    cum_end[-1] = total
                continue
            starts.append(opens)
            ends.append(closes)
            cum_start.append(total)
            total += closes - opens
            cum_end.append(total)
        self.first_year = first_year
        self.end_year = end_year
        self.lo_safe = (date(first_year, 1, 1).toordinal() - EPOCH_ORDINAL) * DAY_US + _MARGIN_US
        self.hi_safe = (date(end_year, 1, 1).toordinal() - EPOCH_ORDINAL) * DAY_US - _MARGIN_US
        self.starts = starts
        self.ends = ends
        self.cum_start = cum_start
        self.cum_end = cum_end

    def covers(self, lo: int, hi: int) -> bool:
        """Whether both instants are inside the exact part of this timeline."""
        return self.lo_safe <= lo and hi < self.hi_safe

    def cum_at(self, at: int) -> int:
        """Open time accrued before ``at`` (relative to this timeline's first interval)."""
        i = bisect_right(self.starts, at) - 1
        if i < 0:
            return 0
        if at >= self.ends[i]:
            return self.cum_end[i]
        return self.cum_start[i] + at - self.starts[i]


def year_of(instant: int) -> int:
    """The UTC year of an instant given in microseconds."""
    ordinal = EPOCH_ORDINAL + instant // DAY_US
    if ordinal < 1:
        raise ValidationError(_range_message("an instant before the year 1"))
    if ordinal > date.max.toordinal():
        raise ValidationError(_range_message("an instant beyond the year 9999"))
    return date.fromordinal(ordinal).year


def _range_message(needs: str) -> str:
    return (
        f"business time is computed for the years {FIRST_YEAR + 1} to {LAST_YEAR - 1} only; "
        f"this needs {needs}"
    )


def cover(current: Timeline | None, rules: Rules, lo: int, hi: int) -> Timeline:
    """A timeline whose exact part holds ``lo`` and ``hi``, grown from ``current``."""
    first = year_of(lo - 3 * DAY_US)
    end = year_of(hi + 3 * DAY_US) + 1
    if first < FIRST_YEAR or end > LAST_YEAR + 1:
        years = f"the year {first}" if first == end - 1 else f"the years {first} to {end - 1}"
        raise ValidationError(_range_message(years))
    if current is not None and not (
        first > current.end_year + _FAR_YEARS or end < current.first_year - _FAR_YEARS
    ):
        grow = max(1, (current.end_year - current.first_year) // 2)
        if first < current.first_year:
            first = max(FIRST_YEAR, min(first, current.first_year - grow))
        else:
            first = current.first_year
        if end > current.end_year:
            end = min(LAST_YEAR + 1, max(end, current.end_year + grow))
        else:
            end = current.end_year
    elif end - first < 2:
        # A first look-up builds the year around it and the next.
        end = min(LAST_YEAR + 1, end + 1)
    return Timeline(rules, first, end)
