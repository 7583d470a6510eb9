"""BusinessCalendar against the business-time vectors taken from other libraries' test suites.

The vectors live in ``tests/sla/data/business_time_vectors.json``. Each records a peer's
schedule, inputs and the output its own tests assert. Where the peer's convention
differs from ours (see the file's ``meta``), the check says how the two relate.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from helpdesk_core.sla.calendar import BusinessCalendar

VECTORS_FILE = Path(__file__).resolve().parent / "data" / "business_time_vectors.json"


def _load() -> list[Any]:
    doc = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
    return [pytest.param(vector, id=vector["id"]) for vector in doc["vectors"]]


def calendar_of(vector: dict[str, Any]) -> BusinessCalendar:
    """The vector's schedule as a calendar; a null zone means naive wall-clock times (UTC)."""
    hours = {
        day: [f"{start}-{end}" for start, end in intervals]
        for day, intervals in vector["schedule"].items()
    }
    special = {
        date.fromisoformat(day): [f"{start}-{end}" for start, end in intervals]
        for day, intervals in (vector.get("overrides") or {}).items()
    }
    return BusinessCalendar(
        timezone=vector["timezone"] or "UTC",
        hours=hours,
        holidays=[date.fromisoformat(day) for day in vector["holidays"]],
        special_days=special,
    )


def instant(text: str, calendar: BusinessCalendar) -> datetime:
    """An ISO timestamp; a naive one is wall-clock time in the schedule's zone."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=calendar.zone)
    return value


def same_instant(a: datetime, b: datetime) -> bool:
    return a.astimezone(UTC) == b.astimezone(UTC)


@pytest.mark.parametrize("vector", _load())
def test_vector(vector: dict[str, Any]) -> None:
    calendar = calendar_of(vector)
    operation = vector["operation"]
    given = vector["input"]
    expected = vector["expected"]
    peer = vector["peer"]

    if operation in ("add", "subtract"):
        start = instant(given["start"], calendar)
        duration = timedelta(seconds=given["duration_seconds"])
        theirs = instant(expected, calendar)
        ours = (
            calendar.add(start, duration)
            if operation == "add"
            else calendar.subtract(start, duration)
        )
        if duration == timedelta(0) and peer.startswith("bokmann/business_time"):
            # business_time rolls a zero duration to the next opening; we keep the start.
            # The two differ only by closed time.
            assert same_instant(ours, start)
            low, high = sorted((ours, theirs), key=lambda d: d.astimezone(UTC))
            assert calendar.elapsed(low, high) == timedelta(0)
        else:
            assert same_instant(ours, theirs), (ours.isoformat(), theirs.isoformat())
        if operation == "add":
            assert calendar.elapsed(start, ours) == duration

    elif operation == "elapsed":
        start = instant(given["start"], calendar)
        end = instant(given["end"], calendar)
        open_time = calendar.elapsed(start, end)
        if "real_elapsed_alternative_seconds" in vector:
            # The peer counts wall-clock hours of a 25-hour day; we count real time.
            assert open_time == timedelta(seconds=vector["real_elapsed_alternative_seconds"])
        elif "sub_second_inputs" in vector["tags"]:
            # The peer drops fractions of a second from its answer; we are exact.
            assert int(open_time.total_seconds()) == expected["seconds"]
            assert abs(open_time - timedelta(seconds=expected["seconds"])) < timedelta(seconds=1)
        else:
            assert open_time == timedelta(seconds=expected["seconds"])

    elif operation == "next_open":
        start = instant(given["start"], calendar)
        ours = calendar.next_open(start)
        assert same_instant(ours, instant(expected, calendar)), ours.isoformat()

    elif operation == "prev_close":
        start = instant(given["start"], calendar)
        ours = calendar.prev_close(start)
        assert same_instant(ours, instant(expected, calendar)), ours.isoformat()

    elif operation == "is_open":
        assert calendar.is_open(instant(given["at"], calendar)) is expected

    else:
        pytest.skip(f"operation {operation!r} has no counterpart in BusinessCalendar")
