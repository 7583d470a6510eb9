"""Unit tests of BusinessCalendar: definition, checks, and the business-time rules."""

from __future__ import annotations

import json
import pickle
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.sla.calendar import BusinessCalendar

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)


def berlin(*args: int, fold: int = 0) -> datetime:
    return datetime(*args).replace(tzinfo=BERLIN, fold=fold)  # type: ignore[arg-type]


def utc(*args: int) -> datetime:
    return datetime(*args).replace(tzinfo=UTC)  # type: ignore[arg-type]


def same_instant(a: datetime, b: datetime) -> bool:
    """Compare instants. (Aware datetimes in an ambiguous hour never compare equal to ones in
    another zone, so compare in UTC.)"""
    return a.astimezone(UTC) == b.astimezone(UTC)


def office(**kwargs: object) -> BusinessCalendar:
    """Mon-Fri 09:00-12:00 and 13:00-17:00 in Berlin."""
    return BusinessCalendar(
        timezone="Europe/Berlin",
        hours={"mon-fri": ["09:00-12:00", "13:00-17:00"]},
        **kwargs,  # type: ignore[arg-type]
    )


# -- definition ----------------------------------------------------------------------------


def test_hours_are_normalized_per_day() -> None:
    cal = BusinessCalendar(
        timezone="UTC",
        hours={
            "Monday-wed": "9:00-17:00",
            "thu": ["13:00-17:00", "08:00-12:00"],
            "sat": "22:00-00:00",
        },
    )
    assert cal.hours["mon"] == ("09:00-17:00",)
    assert cal.hours["wed"] == ("09:00-17:00",)
    assert cal.hours["thu"] == ("08:00-12:00", "13:00-17:00")
    assert cal.hours["fri"] == ()
    assert cal.hours["sat"] == ("22:00-24:00",)
    assert list(cal.hours) == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def test_day_ranges_wrap_around_the_week() -> None:
    cal = BusinessCalendar(timezone="UTC", hours={"sat-mon": "10:00-14:00"})
    assert [d for d, spans in cal.hours.items() if spans] == ["mon", "sat", "sun"]


def test_definition_is_exposed() -> None:
    cal = office(holidays=[date(2026, 12, 25)], special_days={date(2026, 12, 24): "09:00-12:00"})
    assert cal.timezone == "Europe/Berlin"
    assert cal.zone == BERLIN
    assert cal.holidays == frozenset({date(2026, 12, 25)})
    assert cal.special_days == {date(2026, 12, 24): ("09:00-12:00",)}
    assert cal.open_seconds_per_week == 5 * 7 * 3600


def test_timezone_may_be_a_zoneinfo() -> None:
    cal = BusinessCalendar(timezone=BERLIN, hours={"mon": "09:00-17:00"})
    assert cal.timezone == "Europe/Berlin"


def test_calendar_is_immutable() -> None:
    cal = office()
    with pytest.raises(AttributeError, match="immutable"):
        cal.timezone = "UTC"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        cal._zone = BERLIN


def test_equality_is_by_definition() -> None:
    a = office(holidays=[date(2026, 12, 25)])
    b = BusinessCalendar(
        timezone="Europe/Berlin",
        hours={"mon": ["13:00-17:00", "9:00-12:00"], "tue-fri": ["09:00-12:00", "13:00-17:00"]},
        holidays={date(2026, 12, 25)},
    )
    assert a == b
    assert hash(a) == hash(b)
    assert a != office()
    assert a != BusinessCalendar.always("Europe/Berlin")


def test_repr_is_readable() -> None:
    cal = BusinessCalendar(
        timezone="Europe/Berlin",
        hours={"mon-fri": ["09:00-12:00", "13:00-17:00"], "sat": "10:00-14:00"},
        holidays=[date(2026, 12, 25)],
        special_days={date(2026, 12, 24): "09:00-12:00", date(2026, 12, 31): []},
    )
    assert repr(cal) == (
        "BusinessCalendar(timezone='Europe/Berlin', "
        "hours={'mon-fri': '09:00-12:00, 13:00-17:00', 'sat': '10:00-14:00'}, "
        "holidays=['2026-12-25'], "
        "special_days={'2026-12-24': '09:00-12:00', '2026-12-31': []})"
    )


def test_pickle_round_trip() -> None:
    cal = office(holidays=[date(2026, 12, 25)], special_days={date(2026, 12, 24): "09:00-12:00"})
    cal.add(berlin(2026, 12, 23, 10), 10 * H)  # fill the cache first
    copy = pickle.loads(pickle.dumps(cal))
    assert copy == cal
    assert copy.add(berlin(2026, 12, 23, 10), 10 * H) == cal.add(berlin(2026, 12, 23, 10), 10 * H)


# -- configuration errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "path", "words"),
    [
        ({"mnday": "09:00-17:00"}, "hours.mnday", ["unknown day 'mnday'"]),
        ({"mon-fry": "09:00-17:00"}, "hours.mon-fry", ["unknown day 'mon-fry'"]),
        ({"mon": "9-17"}, "hours.mon", ["bad interval '9-17' on mon", "HH:MM-HH:MM"]),
        ({"mon": ["09:00-12:00", "25:00-26:00"]}, "hours.mon[1]", ["bad time '25:00'", "on mon"]),
        ({"tue": "09:60-17:00"}, "hours.tue", ["bad time '09:60'"]),
        ({"tue": "09:00-24:30"}, "hours.tue", ["bad time '24:30'"]),
        ({"wed": "24:00-02:00"}, "hours.wed", ["starts at 24:00"]),
        ({"thu": "09:00-09:00"}, "hours.thu", ["'09:00-09:00' on thu is empty", "00:00-24:00"]),
        ({"fri": 9}, "hours.fri", ["hours of fri", "got int"]),
        ({"fri": ["09:00-12:00", 13]}, "hours.fri[1]", ["bad interval 13 on fri"]),
        (
            {"mon": ["09:00-12:00", "11:00-13:00"]},
            "hours.mon[1]",
            ["mon 09:00-12:00 overlaps mon 11:00-13:00"],
        ),
        (
            {"mon-fri": ["09:00-17:00", "16:00-18:00"]},
            "hours.mon-fri[1]",
            ["mon 09:00-17:00 overlaps mon 16:00-18:00"],
        ),
        (
            {"mon": "22:00-06:00", "tue": "05:00-09:00"},
            "hours.tue",
            ["mon 22:00-06:00 overlaps tue 05:00-09:00"],
        ),
        (
            {"mon": "05:00-09:00", "sun": "22:00-06:00"},
            "hours.mon",
            ["sun 22:00-06:00 overlaps mon 05:00-09:00"],
        ),
        (
            {"mon-fri": "09:00-17:00", "fri": "10:00-12:00"},
            "hours.fri",
            ["fri is given twice", "'mon-fri'", "'fri'"],
        ),
        ({}, "hours", ["never open"]),
        ({"mon": [], "tue": []}, "hours", ["never open"]),
    ],
)
def test_bad_hours_are_config_errors_naming_the_day_and_interval(
    hours: dict[str, object], path: str, words: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        BusinessCalendar(timezone="UTC", hours=hours)  # type: ignore[arg-type]
    assert caught.value.path == path
    for word in words:
        assert word in str(caught.value)


def test_hours_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match="hours must map days") as caught:
        BusinessCalendar(timezone="UTC", hours=["09:00-17:00"])  # type: ignore[arg-type]
    assert caught.value.path == "hours"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", None, "../etc"])
def test_unknown_time_zone(zone: object) -> None:
    with pytest.raises(ConfigError) as caught:
        BusinessCalendar(timezone=zone, hours={"mon": "09:00-17:00"})  # type: ignore[arg-type]
    assert caught.value.path == "timezone"


@pytest.mark.parametrize(
    ("holidays", "words"),
    [
        ([date(2026, 1, 1), datetime(2026, 12, 25, 0, 0)], ["holiday must be a date", "datetime"]),
        ({datetime(2026, 12, 25, 0, 0)}, ["holidays must be dates", "datetime"]),
        ("2026-12-25", ["list of dates or a container"]),
        (20261225, ["list of dates or a container", "int"]),
    ],
)
def test_bad_holidays(holidays: object, words: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        office(holidays=holidays)
    assert caught.value.path is not None
    assert caught.value.path.startswith("holidays")
    for word in words:
        assert word in str(caught.value)


def test_bad_holiday_in_a_list_is_named_by_index() -> None:
    with pytest.raises(ConfigError) as caught:
        office(holidays=[date(2026, 1, 1), datetime(2026, 12, 25, 0, 0)])
    assert caught.value.path == "holidays[1]"


@pytest.mark.parametrize(
    ("special", "path", "words"),
    [
        ({date(2026, 12, 24): "9-12"}, "special_days.2026-12-24", ["bad interval '9-12'"]),
        (
            {date(2026, 12, 24): ["09:00-12:00", "11:00-13:00"]},
            "special_days.2026-12-24[1]",
            ["2026-12-24 09:00-12:00 overlaps 2026-12-24 11:00-13:00"],
        ),
        ({datetime(2026, 12, 24, 0, 0): "09:00-12:00"}, "special_days", ["must be dates"]),
        ({"2026-12-24": "09:00-12:00"}, "special_days", ["must be dates"]),
    ],
)
def test_bad_special_days(special: dict[object, object], path: str, words: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        office(special_days=special)
    assert caught.value.path == path
    for word in words:
        assert word in str(caught.value)


def test_special_day_must_not_overlap_the_night_shift_before_it() -> None:
    nights = {"mon-sun": "22:00-06:00"}
    with pytest.raises(ConfigError) as caught:
        BusinessCalendar(
            timezone="UTC", hours=nights, special_days={date(2026, 12, 24): "00:00-24:00"}
        )
    assert "2026-12-23 22:00-06:00 overlaps 2026-12-24 00:00-24:00" in str(caught.value)
    assert caught.value.path == "special_days.2026-12-24"
    with pytest.raises(ConfigError, match="2026-12-24 20:00-07:00 overlaps 2026-12-25 06:00-08:00"):
        BusinessCalendar(
            timezone="UTC",
            hours={"mon-sun": "06:00-08:00"},
            special_days={date(2026, 12, 24): "20:00-07:00"},
        )


def test_a_holiday_next_to_a_special_day_leaves_nothing_to_overlap() -> None:
    nights = {"mon-sun": "20:00-04:00"}
    eve, christmas = date(2026, 12, 24), date(2026, 12, 25)
    built = BusinessCalendar(
        timezone="UTC", hours=nights, holidays=[eve], special_days={christmas: "00:00-08:00"}
    )
    same = BusinessCalendar(
        timezone="UTC", hours=nights, special_days={eve: [], christmas: "00:00-08:00"}
    )
    window = (datetime(2026, 12, 24, tzinfo=UTC), datetime(2026, 12, 27, tzinfo=UTC))
    assert list(built.open_intervals(*window)) == list(same.open_intervals(*window))
    assert BusinessCalendar.from_dict(built.to_dict()) == built
    # The mirror case: a special night shift running into a holiday.
    mirror = BusinessCalendar.from_dict(
        {
            "timezone": "UTC",
            "hours": {"mon-fri": "02:00-10:00"},
            "holidays": ["2026-12-25"],
            "special_days": {"2026-12-24": "20:00-04:00"},
        }
    )
    assert mirror.is_open(datetime(2026, 12, 25, 3, tzinfo=UTC))
    assert not mirror.is_open(datetime(2026, 12, 25, 5, tzinfo=UTC))
    # A weekday shift still overlapping is still refused.
    with pytest.raises(ConfigError, match="overlaps"):
        BusinessCalendar(
            timezone="UTC",
            hours=nights,
            holidays=[eve],
            special_days={date(2026, 12, 26): "00:00-08:00"},
        )


# -- add, elapsed: the basic rules -------------------------------------------------------------


def test_add_zero_is_start_even_when_closed() -> None:
    cal = office()
    saturday = berlin(2026, 5, 9, 12, 33)
    assert cal.add(saturday, timedelta(0)) == saturday
    assert cal.add(berlin(2026, 5, 11, 17), timedelta(0)) == berlin(2026, 5, 11, 17)


def test_deadline_reached_at_closing_time_is_the_closing_time() -> None:
    cal = office()
    friday = berlin(2026, 5, 8, 9)
    assert cal.add(friday, 7 * H) == berlin(2026, 5, 8, 17)  # not Monday 09:00
    assert cal.add(friday, 3 * H) == berlin(2026, 5, 8, 12)  # not 13:00, after lunch


def test_add_skips_lunch_nights_and_weekends() -> None:
    cal = office()
    assert cal.add(berlin(2026, 5, 8, 11), 2 * H) == berlin(2026, 5, 8, 14)
    assert cal.add(berlin(2026, 5, 8, 16), 2 * H) == berlin(2026, 5, 11, 10)
    assert cal.add(berlin(2026, 5, 9, 8), timedelta(minutes=1)) == berlin(2026, 5, 11, 9, 1)


def test_a_clock_started_while_closed_accrues_from_the_next_opening() -> None:
    cal = office()
    assert cal.add(berlin(2026, 5, 8, 12, 30), 1 * H) == berlin(2026, 5, 8, 14)


def test_add_and_elapsed_are_exact_to_the_microsecond() -> None:
    cal = office()
    start = berlin(2026, 5, 8, 16, 59, 59, 999_999)
    due = cal.add(start, timedelta(microseconds=2))
    assert due == berlin(2026, 5, 11, 9, 0, 0, 1)
    assert cal.elapsed(start, due) == timedelta(microseconds=2)


def test_long_durations_count_weeks_of_open_time() -> None:
    cal = office()
    start = berlin(2026, 5, 4, 9)  # a Monday
    assert cal.add(start, 385 * H) == berlin(2026, 7, 17, 17)  # 11 weeks, ends at a close
    assert cal.add(start, 400 * H) == berlin(2026, 7, 22, 10)
    assert cal.elapsed(start, berlin(2026, 7, 22, 10)) == 400 * H


def test_elapsed_counts_only_open_time_of_a_half_open_range() -> None:
    cal = office()
    assert cal.elapsed(berlin(2026, 5, 8, 8), berlin(2026, 5, 8, 20)) == 7 * H
    assert cal.elapsed(berlin(2026, 5, 8, 12), berlin(2026, 5, 8, 13)) == timedelta(0)
    assert cal.elapsed(berlin(2026, 5, 8, 16), berlin(2026, 5, 11, 10)) == 2 * H
    assert cal.elapsed(berlin(2026, 5, 8, 10), berlin(2026, 5, 8, 10)) == timedelta(0)


def test_elapsed_accepts_instants_in_any_zone() -> None:
    cal = office()
    assert cal.elapsed(utc(2026, 5, 8, 7), berlin(2026, 5, 8, 11)) == 2 * H


def test_elapsed_over_years_and_in_the_past() -> None:
    cal = BusinessCalendar.always("UTC")
    assert cal.elapsed(utc(1991, 1, 1), utc(2031, 1, 1)) == utc(2031, 1, 1) - utc(1991, 1, 1)
    cal = office()
    assert cal.elapsed(berlin(2026, 1, 5, 9), berlin(2026, 1, 12, 9)) == 35 * H
    assert cal.elapsed(berlin(1995, 1, 2, 9), berlin(1995, 1, 9, 9)) == 35 * H  # far back
    assert cal.elapsed(berlin(2026, 1, 5, 9), berlin(2026, 1, 12, 9)) == 35 * H


def test_results_are_in_the_calendar_zone() -> None:
    cal = office()
    due = cal.add(utc(2026, 5, 8, 7), 1 * H)
    assert due.tzinfo == BERLIN
    assert type(due) is datetime
    assert due == berlin(2026, 5, 8, 10)


def test_durations_may_be_given_as_text() -> None:
    assert office().add(berlin(2026, 5, 8, 9), "1h 30m") == berlin(2026, 5, 8, 10, 30)  # type: ignore[arg-type]


# -- validation errors ------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    cal = office()
    naive = datetime(2026, 5, 8, 9, 0)
    with pytest.raises(ValidationError, match="naive") as caught:
        cal.add(naive, H)
    assert caught.value.field == "start"
    with pytest.raises(ValidationError, match="naive") as caught:
        cal.elapsed(berlin(2026, 5, 8, 9), naive)
    assert caught.value.field == "end"
    for method in (cal.is_open, cal.next_open, cal.next_close, cal.prev_close):
        with pytest.raises(ValidationError, match="naive"):
            method(naive)
    with pytest.raises(ValidationError, match="datetime"):
        cal.add(date(2026, 5, 8), H)  # type: ignore[arg-type]


def test_negative_durations_are_refused() -> None:
    with pytest.raises(ValidationError, match="negative") as caught:
        office().add(berlin(2026, 5, 8, 9), -H)
    assert caught.value.field == "duration"


def test_end_before_start_is_refused() -> None:
    with pytest.raises(ValidationError, match="before start") as caught:
        office().elapsed(berlin(2026, 5, 8, 10), berlin(2026, 5, 8, 9))
    assert caught.value.field == "end"
    with pytest.raises(ValidationError, match="before start"):
        office().open_intervals(berlin(2026, 5, 8, 10), berlin(2026, 5, 8, 9))


def test_instants_beyond_the_supported_years_are_refused() -> None:
    with pytest.raises(ValidationError, match="years"):
        office().add(datetime(9999, 1, 1, tzinfo=UTC), H)
    with pytest.raises(ValidationError, match="years"):
        office().add(datetime(9997, 12, 1, tzinfo=UTC), timedelta(days=10_000))


def test_a_calendar_closed_for_good_by_its_holidays_is_a_config_error() -> None:
    class Everything:
        def __contains__(self, day: object) -> bool:
            return True

    cal = office(holidays=Everything())
    with pytest.raises(ConfigError, match="no open hours in the ten years"):
        cal.add(berlin(2026, 5, 8, 9), H)
    with pytest.raises(ConfigError, match="no open hours"):
        cal.next_open(berlin(2026, 5, 8, 9))
    assert cal.elapsed(berlin(2026, 5, 8, 9), berlin(2027, 5, 8, 9)) == timedelta(0)


def test_a_calendar_closed_for_good_after_some_open_time_is_a_config_error() -> None:
    """Open time is left after the start, but not enough: the same error as with none."""

    class From2027:
        def __contains__(self, day: object) -> bool:
            return isinstance(day, date) and day >= date(2027, 1, 1)

    class Until2027:
        def __contains__(self, day: object) -> bool:
            return isinstance(day, date) and day < date(2027, 1, 1)

    with pytest.raises(ConfigError, match="no open hours in the ten years after 2026-12-31T17"):
        office(holidays=From2027()).add(berlin(2026, 12, 30, 9), 100 * H)
    with pytest.raises(ConfigError, match="no open hours in the ten years before 2027-01-01T09"):
        office(holidays=Until2027()).subtract(berlin(2027, 1, 5, 9), 100 * H)


# -- is_open, next_open, next_close, prev_close, open_intervals -------------------------------


def test_intervals_are_half_open() -> None:
    cal = office()
    assert cal.is_open(berlin(2026, 5, 8, 9))
    assert cal.is_open(berlin(2026, 5, 8, 16, 59, 59, 999_999))
    assert not cal.is_open(berlin(2026, 5, 8, 17))
    assert not cal.is_open(berlin(2026, 5, 8, 8, 59))
    assert not cal.is_open(berlin(2026, 5, 9, 10))


def test_next_open() -> None:
    cal = office()
    assert cal.next_open(berlin(2026, 5, 8, 10)) == berlin(2026, 5, 8, 10)
    assert cal.next_open(berlin(2026, 5, 8, 12)) == berlin(2026, 5, 8, 13)
    assert cal.next_open(berlin(2026, 5, 8, 17)) == berlin(2026, 5, 11, 9)
    assert cal.next_open(berlin(2026, 5, 10, 23)) == berlin(2026, 5, 11, 9)


def test_next_close() -> None:
    cal = office()
    assert cal.next_close(berlin(2026, 5, 8, 10)) == berlin(2026, 5, 8, 12)
    assert cal.next_close(berlin(2026, 5, 8, 12)) == berlin(2026, 5, 8, 17)  # closed: next one
    assert cal.next_close(berlin(2026, 5, 8, 17)) == berlin(2026, 5, 11, 12)


def test_next_close_treats_touching_intervals_as_one() -> None:
    cal = BusinessCalendar(timezone="UTC", hours={"mon": "22:00-24:00", "tue": "00:00-06:00"})
    assert cal.next_close(utc(2026, 5, 11, 23)) == utc(2026, 5, 12, 6)
    cal = BusinessCalendar(timezone="UTC", hours={"mon-wed": "00:00-24:00"})
    assert cal.next_close(utc(2026, 5, 11, 23)) == utc(2026, 5, 14, 0)


def test_next_close_of_an_always_open_calendar_is_an_error() -> None:
    with pytest.raises(ValidationError, match="never closes") as caught:
        BusinessCalendar.always("Europe/Berlin").next_close(berlin(2026, 5, 8, 10))
    assert caught.value.field == "at"


def test_an_always_open_calendar_closes_on_its_holidays() -> None:
    cal = BusinessCalendar(
        timezone="Europe/Berlin", hours={"mon-sun": "00:00-24:00"}, holidays=[date(2026, 12, 25)]
    )
    assert cal.next_close(berlin(2026, 5, 8, 10)) == berlin(2026, 12, 25)
    assert cal.next_open(berlin(2026, 12, 25, 10)) == berlin(2026, 12, 26)
    with pytest.raises(ValidationError, match="never closes"):
        cal.next_close(berlin(2026, 12, 27))


def test_prev_close_mirrors_next_open() -> None:
    cal = office()
    assert cal.prev_close(berlin(2026, 5, 8, 10)) == berlin(2026, 5, 8, 10)
    assert cal.prev_close(berlin(2026, 5, 8, 17)) == berlin(2026, 5, 8, 17)
    assert cal.prev_close(berlin(2026, 5, 8, 12, 30)) == berlin(2026, 5, 8, 12)
    assert cal.prev_close(berlin(2026, 5, 8, 13)) == berlin(2026, 5, 8, 12)
    assert cal.prev_close(berlin(2026, 5, 11, 9)) == berlin(2026, 5, 8, 17)


def test_subtract_is_the_mirror_of_add() -> None:
    cal = office()
    assert cal.subtract(berlin(2026, 5, 11, 10), 2 * H) == berlin(2026, 5, 8, 16)
    assert cal.subtract(berlin(2026, 5, 8, 14), 1 * H) == berlin(2026, 5, 8, 13)  # an opening
    assert cal.subtract(berlin(2026, 5, 9, 10), timedelta(0)) == berlin(2026, 5, 9, 10)


def test_open_intervals_are_clipped_and_merged() -> None:
    cal = office()
    got = list(cal.open_intervals(berlin(2026, 5, 8, 10), berlin(2026, 5, 11, 10)))
    assert got == [
        (berlin(2026, 5, 8, 10), berlin(2026, 5, 8, 12)),
        (berlin(2026, 5, 8, 13), berlin(2026, 5, 8, 17)),
        (berlin(2026, 5, 11, 9), berlin(2026, 5, 11, 10)),
    ]
    always = BusinessCalendar.always("UTC")
    assert list(always.open_intervals(utc(2026, 1, 1), utc(2026, 3, 1))) == [
        (utc(2026, 1, 1), utc(2026, 3, 1))
    ]


# -- daylight saving time ---------------------------------------------------------------------


def test_always_open_berlin_has_23_and_25_hour_days() -> None:
    cal = BusinessCalendar.always("Europe/Berlin")
    assert cal.elapsed(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 23 * H
    assert cal.elapsed(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 25 * H
    assert cal.add(berlin(2026, 3, 29), 23 * H) == berlin(2026, 3, 30)


def test_business_time_is_real_time_across_a_clock_change() -> None:
    cal = BusinessCalendar(timezone="Europe/Berlin", hours={"sun": "00:00-06:00"})
    assert cal.elapsed(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 5 * H
    assert cal.elapsed(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 7 * H


def test_a_boundary_in_the_spring_forward_gap_moves_forward_by_the_gap() -> None:
    # Clocks jump from 02:00 to 03:00 on 2026-03-29: 02:30 opens at 03:30.
    cal = BusinessCalendar(timezone="Europe/Berlin", hours={"sun": "02:30-05:00"})
    sunday = date(2026, 3, 29)
    assert cal.next_open(berlin(2026, 3, 29, 1)) == berlin(2026, 3, 29, 3, 30)
    assert same_instant(cal.next_open(berlin(2026, 3, 29, 1)), utc(2026, 3, 29, 1, 30))
    assert not cal.is_open(berlin(2026, 3, 29, 3, 15))
    assert cal.elapsed(berlin(2026, 3, 29), berlin(2026, 3, 30)) == timedelta(hours=1, minutes=30)
    assert cal.elapsed(berlin(2026, 3, 22), berlin(2026, 3, 23)) == timedelta(hours=2, minutes=30)
    assert sunday.weekday() == 6


def test_an_interval_inside_the_gap_keeps_its_length_and_one_past_it_is_empty() -> None:
    cal = BusinessCalendar(timezone="Europe/Berlin", hours={"sun": "02:15-02:45"})
    assert list(cal.open_intervals(berlin(2026, 3, 29), berlin(2026, 3, 30))) == [
        (berlin(2026, 3, 29, 3, 15), berlin(2026, 3, 29, 3, 45))
    ]
    cal = BusinessCalendar(timezone="Europe/Berlin", hours={"sun": "02:30-03:00"})
    assert cal.elapsed(berlin(2026, 3, 29), berlin(2026, 3, 30)) == timedelta(0)


def test_an_ambiguous_boundary_is_its_first_occurrence() -> None:
    # Clocks fall back from 03:00 to 02:00 on 2026-10-25: 02:30 happens twice.
    cal = BusinessCalendar(timezone="Europe/Berlin", hours={"sun": "02:30-04:00"})
    opens = cal.next_open(berlin(2026, 10, 25, 1))
    assert same_instant(opens, utc(2026, 10, 25, 0, 30))  # 02:30 summer time
    assert opens.fold == 0
    # 02:30 summer time (00:30Z) to 04:00 winter time (03:00Z)
    assert cal.elapsed(berlin(2026, 10, 25), berlin(2026, 10, 26)) == timedelta(hours=2, minutes=30)
    cal = BusinessCalendar(timezone="Europe/Berlin", hours={"sun": "00:00-02:30"})
    assert cal.elapsed(berlin(2026, 10, 25), berlin(2026, 10, 26)) == timedelta(hours=2, minutes=30)
    assert same_instant(cal.next_close(berlin(2026, 10, 25, 1)), utc(2026, 10, 25, 0, 30))


def test_results_in_the_repeated_hour_carry_the_right_fold() -> None:
    cal = BusinessCalendar.always("Europe/Berlin")
    second = cal.add(utc(2026, 10, 25, 1, 0), timedelta(minutes=30))
    assert (second.hour, second.minute, second.fold) == (2, 30, 1)
    assert same_instant(second, utc(2026, 10, 25, 1, 30))


# -- overnight shifts, holidays, special days ---------------------------------------------------


def night_shift(**kwargs: object) -> BusinessCalendar:
    return BusinessCalendar(timezone="UTC", hours={"mon-fri": "22:00-06:00"}, **kwargs)  # type: ignore[arg-type]


def test_an_overnight_interval_belongs_to_the_day_it_starts() -> None:
    cal = night_shift()
    assert cal.is_open(utc(2026, 5, 9, 5))  # Saturday morning: Friday's shift
    assert not cal.is_open(utc(2026, 5, 11, 5))  # Monday morning: Sunday has no shift
    assert cal.add(utc(2026, 5, 8, 23), 7 * H) == utc(2026, 5, 9, 6)  # Friday's shift ends
    assert cal.add(utc(2026, 5, 8, 23), 8 * H) == utc(2026, 5, 11, 23)


def test_a_holiday_removes_the_shift_starting_on_it() -> None:
    cal = night_shift(holidays=[date(2026, 5, 8)])  # Friday
    assert not cal.is_open(utc(2026, 5, 8, 23))
    assert not cal.is_open(utc(2026, 5, 9, 5))
    assert cal.is_open(utc(2026, 5, 8, 5))  # Thursday's shift runs into the holiday


def test_a_holiday_the_day_after_does_not_cut_the_shift_short() -> None:
    cal = night_shift(holidays=[date(2026, 5, 7)])  # Thursday
    assert cal.is_open(utc(2026, 5, 7, 5))  # Wednesday's shift still runs to 06:00
    assert cal.next_close(utc(2026, 5, 7, 5)) == utc(2026, 5, 7, 6)
    assert not cal.is_open(utc(2026, 5, 7, 23))


def test_special_days_replace_the_day_and_beat_holidays() -> None:
    cal = office(
        holidays=[date(2026, 12, 24), date(2026, 12, 25)],
        special_days={date(2026, 12, 24): "09:00-12:00", date(2026, 12, 23): []},
    )
    assert cal.elapsed(berlin(2026, 12, 21), berlin(2026, 12, 28)) == 7 * H * 2 + 3 * H
    assert not cal.is_open(berlin(2026, 12, 23, 10))
    assert cal.is_open(berlin(2026, 12, 24, 10))
    assert cal.add(berlin(2026, 12, 24, 11), 2 * H) == berlin(2026, 12, 28, 10)


def test_a_special_day_may_open_a_weekend_overnight() -> None:
    cal = office(special_days={date(2026, 5, 9): "20:00-02:00"})
    assert cal.is_open(berlin(2026, 5, 10, 1))
    assert cal.elapsed(berlin(2026, 5, 9), berlin(2026, 5, 11)) == 6 * H


def test_a_holidays_package_holiday_next_to_a_special_day_leaves_nothing_to_overlap(
) -> None:
    holidays = pytest.importorskip("holidays")
    nights = {"mon-sun": "22:00-06:00"}
    boxing_day = {date(2026, 12, 26): "05:00-08:00"}  # Christmas Day has no night shift
    fresh = holidays.country_holidays("DE")  # no year loaded yet: an empty dict
    built = BusinessCalendar(timezone="UTC", hours=nights, holidays=fresh, special_days=boxing_day)
    assert built.is_open(datetime(2026, 12, 26, 5, 30, tzinfo=UTC))
    assert not built.is_open(datetime(2026, 12, 26, 4, tzinfo=UTC))
    doc = {"timezone": "UTC", "hours": nights, "holidays": {"country": "DE"},
           "special_days": {"2026-12-26": ["05:00-08:00"]}}  # fmt: skip
    assert BusinessCalendar.from_dict(doc) == built


def test_holidays_from_the_holidays_package() -> None:
    holidays = pytest.importorskip("holidays")
    cal = office(holidays=holidays.country_holidays("DE", subdiv="BY"))
    assert not cal.is_open(berlin(2027, 1, 6, 10))  # Epiphany in Bavaria
    assert cal.is_open(berlin(2027, 1, 7, 10))
    assert cal.elapsed(berlin(2026, 12, 21), berlin(2026, 12, 28)) == 7 * H * 4  # Dec 25
    assert "holidays=holidays.country_holidays('DE', subdiv='BY')" in repr(cal)


def test_a_holiday_container_is_only_asked_never_iterated() -> None:
    class Fridays:
        def __contains__(self, day: object) -> bool:
            return isinstance(day, date) and day.weekday() == 4

        def __iter__(self) -> None:
            raise AssertionError("holidays must not be iterated")

    cal = office(holidays=Fridays())
    assert cal.elapsed(berlin(2026, 5, 4), berlin(2026, 5, 11)) == 7 * H * 4


# -- other inputs -------------------------------------------------------------------------------


def test_pendulum_datetimes_are_accepted_and_results_are_stdlib() -> None:
    pendulum = pytest.importorskip("pendulum")
    cal = office()
    start = pendulum.datetime(2026, 5, 8, 16, tz="Europe/Berlin")
    due = cal.add(start, 2 * H)
    assert type(due) is datetime
    assert due == berlin(2026, 5, 11, 10)
    assert type(cal.add(start, timedelta(0))) is datetime
    assert cal.elapsed(start, pendulum.datetime(2026, 5, 11, 10, tz="Europe/Berlin")) == 2 * H
    assert cal.add(start, pendulum.duration(hours=2)) == berlin(2026, 5, 11, 10)


# -- to_dict / from_dict ------------------------------------------------------------------------


def test_to_dict_from_dict_round_trip() -> None:
    cal = BusinessCalendar(
        timezone="Europe/Berlin",
        hours={"mon-fri": ["09:00-12:00", "13:00-17:00"], "sat": "22:00-06:00"},
        holidays=[date(2026, 12, 25), date(2026, 12, 26)],
        special_days={date(2026, 12, 24): "09:00-12:00", date(2026, 12, 31): []},
    )
    doc = cal.to_dict()
    assert doc == {
        "timezone": "Europe/Berlin",
        "hours": {
            "mon": ["09:00-12:00", "13:00-17:00"],
            "tue": ["09:00-12:00", "13:00-17:00"],
            "wed": ["09:00-12:00", "13:00-17:00"],
            "thu": ["09:00-12:00", "13:00-17:00"],
            "fri": ["09:00-12:00", "13:00-17:00"],
            "sat": ["22:00-06:00"],
        },
        "holidays": ["2026-12-25", "2026-12-26"],
        "special_days": {"2026-12-24": ["09:00-12:00"], "2026-12-31": []},
    }
    assert BusinessCalendar.from_dict(json.loads(json.dumps(doc))) == cal


def test_from_dict_accepts_the_constructor_shorthands() -> None:
    cal = BusinessCalendar.from_dict(
        {
            "timezone": "UTC",
            "hours": {"mon-fri": "09:00-17:00"},
            "special_days": {"2026-12-24": "09:00-12:00"},
        }
    )
    assert cal.hours["fri"] == ("09:00-17:00",)
    assert cal.special_days == {date(2026, 12, 24): ("09:00-12:00",)}


def test_holidays_package_objects_are_stored_by_country() -> None:
    holidays = pytest.importorskip("holidays")
    cal = office(holidays=holidays.country_holidays("DE", subdiv="BY"))
    doc = cal.to_dict()
    assert doc["holidays"] == {"country": "DE", "subdiv": "BY"}
    back = BusinessCalendar.from_dict(doc)
    assert back == cal
    assert not back.is_open(berlin(2027, 1, 6, 10))


def test_holidays_by_country_with_extra_dates() -> None:
    pytest.importorskip("holidays")
    doc = {
        "timezone": "Europe/Berlin",
        "hours": {"mon-fri": "09:00-17:00"},
        "holidays": {"country": "DE", "subdiv": "BY", "extra": ["2026-12-31"]},
    }
    cal = BusinessCalendar.from_dict(doc, path="calendars.emea")
    assert not cal.is_open(berlin(2026, 12, 31, 10))  # extra
    assert not cal.is_open(berlin(2027, 1, 6, 10))  # from the package
    assert cal.is_open(berlin(2026, 12, 30, 10))
    assert date(2026, 12, 31) in cal.holidays
    assert cal.to_dict()["holidays"] == doc["holidays"]
    assert BusinessCalendar.from_dict(cal.to_dict()) == cal


def test_other_holiday_containers_cannot_be_written_out() -> None:
    class Fridays:
        def __contains__(self, day: object) -> bool:
            return False

    with pytest.raises(ConfigError, match="cannot be written as data") as caught:
        office(holidays=Fridays()).to_dict()
    assert caught.value.path == "holidays"


@pytest.mark.parametrize(
    ("doc", "path", "words"),
    [
        (
            {"timezone": "UTC", "hours": {"mon": ["09:00-12:00", "9-13"]}},
            "calendars.emea.hours.mon[1]",
            ["bad interval '9-13' on mon"],
        ),
        (
            {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "holiday": []},
            "calendars.emea.holiday",
            ["unknown key 'holiday'"],
        ),
        ({"hours": {"mon": "09:00-17:00"}}, "calendars.emea.timezone", ["needs 'timezone'"]),
        ({"timezone": "UTC"}, "calendars.emea.hours", ["needs 'hours'"]),
        (
            {"timezone": "Nowhere/Town", "hours": {}},
            "calendars.emea.timezone",
            ["unknown time zone"],
        ),
        (
            {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "holidays": ["2026-13-01"]},
            "calendars.emea.holidays[0]",
            ["'2026-13-01' is not an ISO date"],
        ),
        (
            {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "holidays": "DE"},
            "calendars.emea.holidays",
            ["list of ISO dates"],
        ),
        (
            {
                "timezone": "UTC",
                "hours": {"mon": "09:00-17:00"},
                "holidays": {"country": "DE", "x": 1},
            },
            "calendars.emea.holidays.x",
            ["unknown key 'x'"],
        ),
        (
            {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "special_days": {"24.12.": []}},
            "calendars.emea.special_days",
            ["'24.12.' is not an ISO date"],
        ),
        ("not a mapping", "calendars.emea", ["a calendar is a mapping"]),
    ],
)
def test_from_dict_errors_name_the_path(doc: object, path: str, words: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        BusinessCalendar.from_dict(doc, path="calendars.emea")  # type: ignore[arg-type]
    assert caught.value.path == path
    assert str(caught.value).startswith(path + ": ")
    for word in words:
        assert word in str(caught.value)


def test_from_dict_unknown_country() -> None:
    pytest.importorskip("holidays")
    doc = {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "holidays": {"country": "XX"}}
    with pytest.raises(ConfigError, match="cannot make holidays for 'XX'") as caught:
        BusinessCalendar.from_dict(doc, path="calendars.emea")
    assert caught.value.path == "calendars.emea.holidays"


@pytest.mark.parametrize(
    ("options", "path", "words"),
    [
        ({"observed": "false"}, "calendars.emea.holidays.observed", "true or false"),
        ({"observed": 0}, "calendars.emea.holidays.observed", "true or false"),
        ({"subdiv": 9}, "calendars.emea.holidays.subdiv", "region code"),
        ({"subdiv": ""}, "calendars.emea.holidays.subdiv", "region code"),
        ({"categories": "public"}, "calendars.emea.holidays.categories", "list of holiday"),
        ({"categories": [1]}, "calendars.emea.holidays.categories", "list of holiday"),
    ],
)
def test_country_holiday_options_are_checked(
    options: dict[str, object], path: str, words: str
) -> None:
    pytest.importorskip("holidays")
    doc = {
        "timezone": "UTC",
        "hours": {"mon-fri": "09:00-17:00"},
        "holidays": {"country": "US", **options},
    }
    with pytest.raises(ConfigError, match=words) as caught:
        BusinessCalendar.from_dict(doc, path="calendars.emea")
    assert caught.value.path == path


def test_country_holidays_observed_false_keeps_the_observed_day_open() -> None:
    pytest.importorskip("holidays")
    friday = datetime(2026, 7, 3, 12, tzinfo=UTC)  # 4 July 2026 is a Saturday
    doc = {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}}
    observed = BusinessCalendar.from_dict({**doc, "holidays": {"country": "US"}})
    literal = BusinessCalendar.from_dict(
        {**doc, "holidays": {"country": "US", "observed": False, "categories": ["public"]}}
    )
    assert not observed.is_open(friday) and literal.is_open(friday)
    assert BusinessCalendar.from_dict(literal.to_dict()).is_open(friday)


def test_from_dict_country_holidays_need_the_holidays_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "holidays", None)  # import holidays -> ImportError
    doc = {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "holidays": {"country": "DE"}}
    with pytest.raises(ConfigError, match="install the `holidays` extra") as caught:
        BusinessCalendar.from_dict(doc)
    assert caught.value.path == "calendar.holidays"


def test_intervals_that_overlap_only_after_a_clock_change_count_once() -> None:
    # Sao Paulo skipped from 00:00 to 01:00 on Sunday 2016-10-16. Saturday's shift ends at
    # 00:30, which does not exist and is read as 01:30 (03:30Z); Sunday's opens at 01:00
    # (03:00Z). The half hour both cover is counted once.
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    cal = BusinessCalendar(
        timezone="America/Sao_Paulo", hours={"sat": "20:00-00:30", "sun": "01:00-05:00"}
    )
    saturday = datetime(2016, 10, 15, tzinfo=sao_paulo)
    assert cal.elapsed(saturday, saturday + timedelta(days=2)) == 8 * H
    assert same_instant(cal.next_close(saturday), utc(2016, 10, 16, 7))
    assert cal.add(saturday, 8 * H) == cal.next_close(saturday)


def test_a_night_shift_runs_across_new_year_whatever_was_computed_before() -> None:
    def nights() -> BusinessCalendar:
        return BusinessCalendar(timezone="Europe/Berlin", hours={"mon-sun": "22:00-06:00"})

    warm = nights()
    warm.add(berlin(2026, 6, 1), H)  # computed around mid-2026 first
    for cal in (warm, nights()):
        assert cal.is_open(berlin(2028, 1, 1, 5))
        assert cal.next_close(berlin(2027, 12, 31, 23)) == berlin(2028, 1, 1, 6)
        assert cal.elapsed(berlin(2027, 12, 30), berlin(2028, 1, 2)) == 8 * H * 2 + 6 * H + 2 * H
        assert cal.add(berlin(2027, 12, 31, 23), 8 * H) == berlin(2028, 1, 1, 23)


def test_instants_before_1970() -> None:
    cal = office()
    assert cal.add(berlin(1965, 3, 5, 16), 2 * H) == berlin(1965, 3, 8, 10)
    assert cal.elapsed(berlin(1965, 3, 5, 16), berlin(1965, 3, 8, 10)) == 2 * H
