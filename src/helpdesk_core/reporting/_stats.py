"""Exact duration statistics on whole microseconds (private).

Durations are summed and interpolated as integers, so the figures do not depend on the
order the tickets were seen in (a merged report equals one computed in a single pass).
"""

from __future__ import annotations

from datetime import timedelta

from helpdesk_core.reporting.records import DurationStats

__all__ = ["duration_stats", "percentile", "to_micros"]

_DAY_US = 86_400_000_000
_SECOND_US = 1_000_000


def to_micros(delta: timedelta) -> int:
    """Whole microseconds of a duration."""
    return delta.days * _DAY_US + delta.seconds * _SECOND_US + delta.microseconds


def _div_round(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up, in integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def percentile(ordered: list[int], numerator: int, denominator: int) -> int:
    """The ``numerator/denominator`` quantile of sorted values, interpolated linearly
    between the two nearest ranks (the default of numpy and pandas)."""
    position = numerator * (len(ordered) - 1)
    low, rest = divmod(position, denominator)
    if rest == 0:
        return ordered[low]
    gap = ordered[low + 1] - ordered[low]
    return ordered[low] + _div_round(gap * rest, denominator)


def duration_stats(values: list[int]) -> DurationStats:
    """Mean, median and p90 of microsecond durations (``values`` is sorted in place)."""
    if not values:
        return DurationStats(count=0, mean=None, median=None, p90=None)
    values.sort()
    return DurationStats(
        count=len(values),
        mean=timedelta(microseconds=_div_round(sum(values), len(values))),
        median=timedelta(microseconds=percentile(values, 1, 2)),
        p90=timedelta(microseconds=percentile(values, 9, 10)),
    )
