from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from helpdesk_core.clock import Clock, ManualClock, SystemClock
from helpdesk_core.errors import (
    AccessDenied,
    ConfigError,
    ConflictError,
    HelpdeskError,
    InvalidTransition,
    NotFound,
    StorageError,
    ValidationError,
)
from helpdesk_core.ids import SequentialIds, UuidIds

START = datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_errors_mix_in_the_builtin_a_caller_expects() -> None:
    assert issubclass(ValidationError, ValueError)
    assert issubclass(ConfigError, ValidationError)
    assert issubclass(NotFound, LookupError)
    assert issubclass(AccessDenied, PermissionError)
    for cls in (
        ValidationError,
        InvalidTransition,
        NotFound,
        ConflictError,
        AccessDenied,
        StorageError,
    ):
        assert issubclass(cls, HelpdeskError)


def test_errors_carry_the_ids_they_concern() -> None:
    err = ConflictError("T-1", expected=3, actual=4)
    assert (err.ticket_id, err.expected, err.actual) == ("T-1", 3, 4)
    assert "T-1" in str(err) and "3" in str(err) and "4" in str(err)
    nf = NotFound("ticket", "T-9")
    assert nf.kind == "ticket" and nf.id == "T-9" and "T-9" in str(nf)
    ad = AccessDenied("no", identity="requester:r1", ticket_id="T-1", action="reply")
    assert (ad.identity, ad.ticket_id, ad.action) == ("requester:r1", "T-1", "reply")
    it = InvalidTransition("refused", ticket_id="T-1", status="new", transition="solve", guard="g")
    assert (it.ticket_id, it.status, it.transition, it.guard) == ("T-1", "new", "solve", "g")
    ce = ConfigError("unknown calendar 'emea'", path="agents[2].calendar")
    assert str(ce) == "agents[2].calendar: unknown calendar 'emea'"
    assert ce.path == "agents[2].calendar"


def test_manual_clock_moves_forward_only() -> None:
    clock = ManualClock(START)
    assert isinstance(clock, Clock)
    assert clock.now() == START
    assert clock.advance(hours=2) == START + timedelta(hours=2)
    assert clock.advance("30m") == START + timedelta(hours=2, minutes=30)
    assert clock.set(START + timedelta(days=1)) == START + timedelta(days=1)
    with pytest.raises(ValidationError, match="backwards"):
        clock.set(START)
    with pytest.raises(ValidationError, match="backwards"):
        clock.advance(hours=-1)
    assert clock.now() == START + timedelta(days=1)


@pytest.mark.parametrize(
    ("amounts", "field"),
    [
        ({"hours": "2"}, "hours"),  # text typed into a form, not a number
        ({"minutes": None}, "minutes"),
        ({"days": True}, "days"),
        ({"seconds": float("nan")}, "seconds"),
        ({"hours": float("inf")}, "hours"),
        ({"days": 10**10}, "days"),  # beyond what a timedelta holds
    ],
)
def test_manual_clock_refuses_bad_keyword_amounts_naming_them(
    amounts: dict[str, Any], field: str
) -> None:
    clock = ManualClock(START)
    with pytest.raises(ValidationError) as refused:
        clock.advance(**amounts)
    assert refused.value.field == field
    assert repr(amounts[field]) in str(refused.value)
    assert clock.now() == START


def test_manual_clock_counts_elapsed_time_across_daylight_saving() -> None:
    """Berlin springs forward on 2026-03-29 (02:00 becomes 03:00) and falls back on
    2026-10-25 (03:00 becomes 02:00): advancing moves the instant by the step, and the
    wall clock shows the zone's time then."""
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    clock = ManualClock(datetime(2026, 3, 28, 23, 0, tzinfo=berlin))
    start = clock.now().astimezone(UTC)  # (same-zone datetimes subtract as wall times)
    clock.advance(minutes=221)
    assert clock.now().astimezone(UTC) - start == timedelta(minutes=221)
    assert clock.now().isoformat() == "2026-03-29T03:41:00+02:00"
    clock.advance(minutes=19)
    assert clock.now().astimezone(UTC) - start == timedelta(hours=4)
    assert clock.now().isoformat() == "2026-03-29T04:00:00+02:00"
    autumn = ManualClock(datetime(2026, 10, 25, 1, 30, tzinfo=berlin))
    autumn.advance(hours=2)
    assert autumn.now().isoformat() == "2026-10-25T02:30:00+01:00"
    # set() compares instants: 02:30+01:00 is after 02:30+02:00 (the earlier fold)
    earlier = ManualClock(datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=berlin))
    later = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=berlin)
    assert earlier.set(later) == later
    with pytest.raises(ValidationError):
        autumn.set(datetime(2026, 10, 25, 2, 45, fold=0, tzinfo=berlin))  # 00:45 UTC
    with pytest.raises(ValidationError):
        ManualClock(datetime(9999, 12, 31, tzinfo=UTC)).advance(days=2)


def test_manual_clock_refuses_naive_start() -> None:
    with pytest.raises(ValidationError, match="naive"):
        ManualClock(datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="naive"):
        ManualClock(START).set(datetime(2027, 1, 1))


def test_manual_clock_refuses_an_instant_utc_cannot_hold() -> None:
    # 9999-12-31 23:00 in Honolulu is in year 10000 in UTC, 0001-01-01 00:00 at +14:00
    # in year 0.
    late = datetime(9999, 12, 31, 23, tzinfo=ZoneInfo("Pacific/Honolulu"))
    early = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))
    for start in (late, early):
        with pytest.raises(ValidationError, match="year") as error:
            ManualClock(start)
        assert error.value.field == "start"
    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    with pytest.raises(ValidationError, match="year") as error:
        clock.set(late)
    assert error.value.field == "at"
    assert clock.now() == datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_system_clock_is_aware() -> None:
    now = SystemClock().now()
    assert now.tzinfo is not None


def test_sequential_ids_are_deterministic_per_kind() -> None:
    ids = SequentialIds()
    assert [ids.new_id("ticket"), ids.new_id("ticket"), ids.new_id("comment")] == [
        "T-000001",
        "T-000002",
        "C-000001",
    ]
    other = SequentialIds(prefixes={"ticket": "INC"}, width=3)
    assert other.new_id("ticket") == "INC-001"
    with pytest.raises(ValidationError):
        SequentialIds(width=0)


@pytest.mark.parametrize("kind", [None, 5, b"ticket", ["ticket"], {"ticket": 1}])
def test_sequential_ids_refuse_a_kind_that_is_not_text(kind: Any) -> None:
    ids = SequentialIds()
    with pytest.raises(ValidationError) as raised:
        ids.new_id(kind)
    assert raised.value.field == "kind"
    assert ids.new_id("ticket") == "T-000001"


def test_sequential_ids_asked_for_a_new_kind_by_two_threads_at_once_differ() -> None:
    """Both threads find no counter for the kind yet (each waits in the lookup until the
    other got there too); they still count on one counter."""
    import threading

    both_looked = threading.Barrier(2, timeout=5)

    class Counters(dict[str, Any]):
        def get(self, key: str, default: Any = None) -> Any:
            found = super().get(key, default)
            if threading.current_thread() is not threading.main_thread():
                both_looked.wait()
            return found

    ids = SequentialIds()
    ids._counters = Counters()
    got: list[str] = []
    threads = [threading.Thread(target=lambda: got.append(ids.new_id("ticket"))) for _ in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(got) == ["T-000001", "T-000002"]  # before: T-000001 twice


def test_uuid_ids_are_unique() -> None:
    ids = UuidIds()
    assert len({ids.new_id("ticket") for _ in range(1000)}) == 1000
