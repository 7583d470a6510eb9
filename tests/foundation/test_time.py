from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk_core._time import ensure_aware, format_duration, parse_datetime, to_timedelta
from helpdesk_core.errors import ValidationError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4h", timedelta(hours=4)),
        ("1d 2h 30m", timedelta(days=1, hours=2, minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("15min", timedelta(minutes=15)),
        ("1w", timedelta(weeks=1)),
        ("1.5h", timedelta(hours=1, minutes=30)),
        ("PT4H", timedelta(hours=4)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        (3600, timedelta(hours=1)),
        (timedelta(minutes=5), timedelta(minutes=5)),
    ],
)
def test_durations_parse(text: object, expected: timedelta) -> None:
    assert to_timedelta(text) == expected


@pytest.mark.parametrize("bad", ["", "4 hours", "h4", "P1M", "-1h", True, None, [1], float("nan")])
def test_bad_durations_are_refused_with_the_field_named(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        to_timedelta(bad, field="targets.high")
    assert info.value.field == "targets.high"


def test_negative_durations_refused_unless_allowed() -> None:
    with pytest.raises(ValidationError, match="negative"):
        to_timedelta(-5)
    assert to_timedelta(-5, allow_negative=True) == timedelta(seconds=-5)


@pytest.mark.parametrize(
    ("bad", "shown"),
    [(-5, "-5s"), (timedelta(hours=-2, minutes=-30), "-2h 30m"), (-0.25, "-0.25s")],
)
def test_a_negative_duration_is_shown_as_it_was_given(bad: object, shown: str) -> None:
    """Not as timedelta prints it ("-1 day, 23:59:55" for five seconds back)."""
    with pytest.raises(ValidationError) as info:
        to_timedelta(bad, field="delta")
    assert str(info.value) == f"delta: negative duration {shown} refused"


def test_a_calendar_refuses_a_negative_duration_as_it_was_given() -> None:
    from helpdesk_core.sla import BusinessCalendar

    calendar = BusinessCalendar.from_dict({"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}})
    with pytest.raises(ValidationError, match=r"negative duration -1h refused"):
        calendar.add(datetime(2026, 3, 2, 9, tzinfo=UTC), timedelta(hours=-1))


def test_a_pandas_timedelta_is_read_to_the_microsecond_as_a_timedelta64_is() -> None:
    pd = pytest.importorskip("pandas")
    from helpdesk_core.errors import ConfigError
    from helpdesk_core.sla import BusinessCalendar, SlaPolicy

    for given_, expected in [
        (pd.Timedelta("4h"), timedelta(hours=4)),
        (pd.Timedelta("4h 1ns"), timedelta(hours=4)),
        (pd.Timedelta("1h 1600ns"), timedelta(hours=1, microseconds=2)),
    ]:
        result = to_timedelta(given_)
        assert type(result) is timedelta and result == expected
        assert result == to_timedelta(given_.to_timedelta64())
    # A policy reads back from its dict form as itself; a few nanoseconds are no target.
    policy = SlaPolicy(name="p", calendar="c", targets={"high": {"resolution": pd.Timedelta(
        "4h 1ns")}})  # fmt: skip
    assert SlaPolicy.from_dict(policy.to_dict()) == policy
    with pytest.raises(ConfigError, match="longer than zero"):
        SlaPolicy(name="p", calendar="c", targets={"high": {"resolution": pd.Timedelta(
            nanoseconds=400)}})  # fmt: skip
    # A calendar adds what it counts.
    calendar = BusinessCalendar.always()
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    duration = pd.Timedelta("1h 1600ns")
    assert calendar.elapsed(start, calendar.add(start, duration)) == to_timedelta(duration)


def test_naive_datetimes_refused() -> None:
    with pytest.raises(ValidationError, match="naive"):
        ensure_aware(datetime(2026, 1, 1), field="at")
    with pytest.raises(ValidationError):
        ensure_aware("2026-01-01", field="at")
    with pytest.raises(ValidationError, match="naive"):
        parse_datetime("2026-01-01T10:00")
    assert parse_datetime("2026-01-01T10:00+01:00") == datetime(2026, 1, 1, 9, tzinfo=UTC)


def test_pendulum_datetimes_are_accepted() -> None:
    value = pendulum.datetime(2026, 3, 29, 1, 30, tz="Europe/Berlin")
    assert ensure_aware(value) is value


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_format_duration_is_readable(delta: timedelta) -> None:
    text = format_duration(delta)
    assert text
    assert to_timedelta(text) == timedelta(seconds=int(delta.total_seconds()))
