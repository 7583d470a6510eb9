"""The records a report returns: small frozen values and tables of rows.

Every table (:class:`CountTable`, :class:`Table`, :class:`HourOfWeek`, :class:`Csat`,
:class:`ResponseTimes`) has ``to_pandas()``, which needs the ``analysis`` extra; nothing
here imports pandas until it is called. Count, rate and duration columns have their dtypes
(whole numbers, floats, ``timedelta64``) also when a table has no rows.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Generic, TypeVar

from attrs import asdict, fields, frozen

__all__ = [
    "AgeRow",
    "AgentRow",
    "Backlog",
    "CountRow",
    "CountTable",
    "Csat",
    "DurationStats",
    "HourOfWeek",
    "Rate",
    "RepeatRow",
    "ReportResult",
    "ResponseTimes",
    "SlaCompliance",
    "SlaRow",
    "SlaTeamRow",
    "SlaTierRow",
    "Table",
    "TierRow",
    "Volume",
]

R = TypeVar("R")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:
        raise ImportError("to_pandas needs pandas: pip install 'helpdesk-core[analysis]'") from exc
    return pandas


def _frame(rows: Sequence[Any], columns: Sequence[str], row_type: type | None) -> Any:
    """A DataFrame with one row per record (attrs fields, then derived properties); the
    number and duration columns of ``row_type`` have their dtype even without rows."""
    pandas = _pandas()
    data = []
    for row in rows:
        item = asdict(row, recurse=False)
        for name in getattr(row, "_derived", ()):
            item[name] = getattr(row, name)
        data.append(item)
    frame = pandas.DataFrame(data, columns=list(columns))
    return frame if row_type is None else frame.astype(_dtypes(pandas, row_type))


def _columns(row_type: type) -> tuple[str, ...]:
    return (*(f.name for f in fields(row_type)), *getattr(row_type, "_derived", ()))


#: A value of each column type whose pandas dtype does not depend on the values (whole
#: numbers, ratios, durations): a column of that type gets the dtype pandas infers from it,
#: also when the frame is empty or every value is None.
_SAMPLES: dict[Any, object] = {int: 0, float: 0.5, timedelta: timedelta(0)}


@cache
def _typed_columns(row_type: type) -> tuple[tuple[str, Any], ...]:
    """``(column, type)`` of the columns of ``row_type`` whose type is in ``_SAMPLES``
    (``X | None`` counts as ``X``)."""
    hints = typing.get_type_hints(row_type)
    for name in getattr(row_type, "_derived", ()):
        hints[name] = typing.get_type_hints(getattr(row_type, name).fget)["return"]
    out = []
    for name in _columns(row_type):
        kind = hints[name]
        kind = next((a for a in typing.get_args(kind) if a is not type(None)), kind)
        if kind in _SAMPLES:
            out.append((name, kind))
    return tuple(out)


def _dtypes(pandas: Any, row_type: type) -> dict[str, Any]:
    """The dtype of each number and duration column of ``row_type``."""
    return {name: pandas.Series([_SAMPLES[kind]]).dtype for name, kind in _typed_columns(row_type)}


@frozen(kw_only=True)
class Rate:
    """``count`` out of ``total``; ``value`` is the ratio (None when ``total`` is 0)."""

    count: int
    total: int

    @property
    def value(self) -> float | None:
        """``count / total``, or None for an empty population."""
        return self.count / self.total if self.total else None


@frozen(kw_only=True)
class CountRow:
    """How many tickets have ``key`` (None: the field was not set)."""

    key: str | None
    count: int


@frozen(kw_only=True)
class CountTable:
    """Ticket counts by one dimension, largest first (ties by key, None last)."""

    dimension: str
    rows: tuple[CountRow, ...]

    def __iter__(self) -> Iterator[CountRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def total(self) -> int:
        """The sum of the counts."""
        return sum(row.count for row in self.rows)

    def as_dict(self) -> dict[str | None, int]:
        """``{key: count}`` in the table's order."""
        return {row.key: row.count for row in self.rows}

    def to_pandas(self) -> Any:
        """Columns ``key`` (named after the dimension) and ``count``."""
        frame = _frame(self.rows, _columns(CountRow), CountRow)
        return frame.rename(columns={"key": self.dimension})


@frozen(kw_only=True)
class Table(Generic[R]):
    """Rows of one record type; ``columns`` are the names ``to_pandas`` uses."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[R, ...]

    @classmethod
    def of(cls, name: str, row_type: type[R], rows: Sequence[R]) -> Table[R]:
        """A table of ``rows`` whose columns are ``row_type``'s fields."""
        return cls(name=name, columns=_columns(row_type), rows=tuple(rows))

    def __iter__(self) -> Iterator[R]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def to_pandas(self) -> Any:
        """One DataFrame row per record; the columns of counts, rates and durations of the
        report's row types have the same dtypes when the table is empty."""
        return _frame(self.rows, self.columns, _ROW_TYPES.get(self.columns))


@frozen(kw_only=True)
class HourOfWeek:
    """Tickets opened per hour of the week in ``timezone``: ``counts[0]`` is Monday
    00:00-01:00, ``counts[167]`` Sunday 23:00-24:00."""

    timezone: str
    counts: tuple[int, ...]

    def grid(self) -> tuple[tuple[int, ...], ...]:
        """Seven rows (Monday first) of 24 hourly counts."""
        return tuple(self.counts[day * 24 : day * 24 + 24] for day in range(7))

    @property
    def total(self) -> int:
        """All tickets counted."""
        return sum(self.counts)

    def to_pandas(self) -> Any:
        """A 7 x 24 DataFrame: weekdays (``mon`` ...) by hour of day (0 ... 23)."""
        return _pandas().DataFrame(list(self.grid()), index=list(WEEKDAYS), columns=range(24))


@frozen(kw_only=True)
class Volume:
    """How many tickets were opened, by each dimension. ``total`` is the cohort size;
    every table sums to it (tickets without a value count under the key None; so do
    anonymised tickets in ``by_requester``: they belong to no requester). ``by_priority``
    counts by the current priority (``"critical"`` ... ``"low"``)."""

    total: int
    by_channel: CountTable
    by_category: CountTable
    by_type: CountTable
    by_priority: CountTable
    by_team: CountTable
    by_asset: CountTable
    by_requester: CountTable
    by_hour_of_week: HourOfWeek


@frozen(kw_only=True)
class DurationStats:
    """Mean, median and 90th percentile (linear interpolation) of ``count`` durations;
    None when there are none."""

    count: int
    mean: timedelta | None
    median: timedelta | None
    p90: timedelta | None


@frozen(kw_only=True)
class ResponseTimes:
    """Time from opening to the first public agent reply and to resolution (the latest
    solve of tickets that are solved now), in calendar time and in business time."""

    first_response: DurationStats
    resolution: DurationStats
    first_response_business: DurationStats
    resolution_business: DurationStats

    def to_pandas(self) -> Any:
        """Rows ``(metric, basis, count, mean, median, p90)``."""
        items = (
            ("first_response", "calendar", self.first_response),
            ("first_response", "business", self.first_response_business),
            ("resolution", "calendar", self.resolution),
            ("resolution", "business", self.resolution_business),
        )
        data = [{"metric": m, "basis": b, **asdict(stats, recurse=False)} for m, b, stats in items]
        pandas = _pandas()
        # Durations stay durations (NaT) when there are none to measure.
        return pandas.DataFrame(data).astype(_dtypes(pandas, DurationStats))


class _Settled:
    """``total`` and ``rate`` of a row of ``met`` and ``breached`` clock cycles."""

    met: int
    breached: int

    _derived = ("total", "rate")

    @property
    def total(self) -> int:
        """Settled cycles."""
        return self.met + self.breached

    @property
    def rate(self) -> float | None:
        """Share of settled cycles that met their target (None when nothing settled)."""
        return self.met / self.total if self.total else None


@frozen(kw_only=True)
class SlaRow(_Settled):
    """Settled SLA clock cycles: ``met`` (stopped without breach) and ``breached``.
    A None ``policy``, ``metric`` or ``week`` means "all"."""

    policy: str | None
    metric: str | None
    week: date | None
    met: int
    breached: int


@frozen(kw_only=True)
class SlaTeamRow(_Settled):
    """Settled cycles of one metric whose outcome was recorded while the ticket was in
    ``team`` (None: in no team)."""

    team: str | None
    metric: str
    met: int
    breached: int


@frozen(kw_only=True)
class SlaTierRow(_Settled):
    """Settled cycles of one metric whose outcome was recorded while the ticket was in
    ``tier`` (None: in no tier)."""

    tier: str | None
    metric: str
    met: int
    breached: int


@frozen(kw_only=True)
class SlaCompliance:
    """SLA compliance overall, per metric, per policy, per policy and metric, per week of
    opening (Monday dates in the report's zone) and metric, and per team and per tier
    (where the ticket was when each cycle's outcome was recorded) and metric."""

    overall: SlaRow
    by_metric: Table[SlaRow]
    by_policy: Table[SlaRow]
    by_policy_metric: Table[SlaRow]
    by_week: Table[SlaRow]
    by_team: Table[SlaTeamRow]
    by_tier: Table[SlaTierRow]


@frozen(kw_only=True)
class AgeRow:
    """Active tickets whose age is in ``[lower, upper)`` (``upper`` None: no bound)."""

    label: str
    lower: timedelta
    upper: timedelta | None
    count: int


@frozen(kw_only=True)
class Backlog:
    """Tickets still active at ``as_of``, by age, by status and by status category."""

    as_of: datetime | None
    total: int
    by_age: Table[AgeRow]
    by_status: CountTable
    by_category: CountTable


@frozen(kw_only=True)
class Csat:
    """Satisfaction ratings (the latest per ticket): their mean, the share of 4s and 5s,
    and ``distribution[score - 1]`` tickets per score."""

    count: int
    average: float | None
    satisfied: Rate
    distribution: tuple[int, int, int, int, int]

    def to_pandas(self) -> Any:
        """Rows ``(score, count)`` for scores 1 to 5."""
        return _pandas().DataFrame({"score": [1, 2, 3, 4, 5], "count": list(self.distribution)})


@frozen(kw_only=True)
class AgentRow:
    """One agent's workload: tickets ever assigned to them, tickets solved while they held
    them, and active tickets they hold now."""

    agent: str
    assigned: int
    solved: int
    open: int


@frozen(kw_only=True)
class TierRow:
    """One tier's workload: tickets that were in it, tickets solved in it, and tickets
    escalated out of it (``escalation_rate`` = escalated / tickets)."""

    tier: str | None
    tickets: int
    solved: int
    escalated: int

    _derived = ("escalation_rate",)

    @property
    def escalation_rate(self) -> float | None:
        """Share of the tier's tickets escalated from it."""
        return self.escalated / self.tickets if self.tickets else None


@frozen(kw_only=True)
class RepeatRow:
    """A requester with ``tickets`` tickets of the same ``category`` (training candidate);
    anonymised tickets belong to no requester and make no row."""

    requester: str
    category: str
    tickets: int


@frozen(kw_only=True)
class ReportResult:
    """Everything a :class:`~helpdesk_core.reporting.Report` computed, for the tickets
    opened in ``[since, until)`` as of ``as_of``.

    ``events`` counts the events read, ``ignored_events`` those that did not concern a
    ticket of the report (opened outside the period or before the stream began) or came
    after ``as_of``.
    """

    since: datetime | None
    until: datetime | None
    as_of: datetime | None
    timezone: str
    tickets: int
    events: int
    ignored_events: int
    volume: Volume
    first_contact_resolution: Rate
    reopen: Rate
    escalation: Rate
    times: ResponseTimes
    sla: SlaCompliance
    backlog: Backlog
    csat: Csat
    agents: Table[AgentRow]
    tiers: Table[TierRow]
    top_assets: CountTable
    repeat_requesters: Table[RepeatRow]


#: The row types of the report's tables, by their columns.
_ROW_TYPES: dict[tuple[str, ...], type] = {
    _columns(row_type): row_type
    for row_type in (SlaRow, SlaTeamRow, SlaTierRow, AgeRow, AgentRow, TierRow, RepeatRow)
}
