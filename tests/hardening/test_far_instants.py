"""Instants near the ends of what a datetime holds (the years 1 and 9999): a desk, its
domain functions and its reports give a clear HelpdeskError naming what was wrong, or an
answer, never an OverflowError; and a call that fails stores nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, Requester
from helpdesk_core._time import DESK_YEARS
from helpdesk_core.errors import ValidationError
from helpdesk_core.model import (
    Actor,
    StatusChanged,
    Ticket,
    TicketOpened,
    apply_event,
    replay,
)
from helpdesk_core.reporting import Report, build_report
from helpdesk_core.simulation import calibrate
from helpdesk_core.sla import BusinessCalendar
from helpdesk_core.workflow import (
    EscalationPolicy,
    Lifecycle,
    auto_close_due,
    due_escalations,
    next_escalation_at,
)

LAST = datetime.max.replace(tzinfo=UTC)
ADA = Requester(id="ada", name="Ada", email="ada@example.com")

#: Instants of the last days a datetime holds.
last_days = st.datetimes(
    min_value=datetime(9999, 12, 25), max_value=datetime(9999, 12, 31, 23, 59)
).map(lambda at: at.replace(tzinfo=UTC))

STUCK = {
    "name": "stuck",
    "triggers": [
        {"name": "stuck", "on": "time_in_tier", "after": "4h",
         "actions": [{"action": "raise_level"}]}
    ],
}


def _solved(at: datetime) -> Ticket:
    opened = TicketOpened(
        ticket_id="T-1", at=at, by=Actor.requester("ada"), number=1, requester="ada",
        subject="vpn",
    )
    solved = StatusChanged(
        ticket_id="T-1", at=at, by=Actor.agent("alice"), from_status="new",
        to_status="solved", transition="solve", category="solved", resolution="fixed",
        first_contact=True,
    )
    return apply_event(replay([opened]), solved)


@given(at=last_days)
def test_an_auto_close_after_the_year_9999_never_comes(at: datetime) -> None:
    ticket = _solved(at)
    due = auto_close_due(ticket, Lifecycle.default())
    expected = at + timedelta(days=3) if at < LAST - timedelta(days=3) else None
    assert due == expected


@given(at=last_days)
def test_a_time_in_tier_trigger_after_the_year_9999_never_fires(at: datetime) -> None:
    ticket = replay([
        TicketOpened(
            ticket_id="T-1", at=at, by=Actor.requester("ada"), number=1, requester="ada",
            subject="vpn",
        )
    ])
    policy = EscalationPolicy.from_dict(STUCK)
    fires = at + timedelta(hours=4) if at <= LAST - timedelta(hours=4) else None
    assert next_escalation_at(ticket, [policy]) == fires
    assert due_escalations(ticket, [policy], now=at) == []


@pytest.mark.parametrize(
    ("start", "check_every"),
    [
        (datetime(9997, 12, 31, 23, tzinfo=UTC), "800d"),
        (datetime(2026, 3, 2, tzinfo=UTC), "3000000d"),
    ],
)
def test_a_retention_pass_due_after_the_year_9999_is_no_wakeup(
    start: datetime, check_every: str
) -> None:
    config = DeskConfig.from_dict(
        {
            "privacy": {
                "retention": [{"name": "closed-90-days", "after": "90d", "action": "anonymise"}],
                "check_every": check_every,
            }
        }
    )
    desk = Helpdesk(config, clock=ManualClock(start))
    assert desk.next_wakeup() == start  # no pass yet: one is due now
    desk.tick()
    assert desk.next_wakeup() is None


#: Zones far from UTC on either side, and UTC.
far_zones = st.sampled_from(
    ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Tokyo", "America/Los_Angeles"]
)
#: Instants of the first and the last days a datetime holds.
end_days = st.one_of(
    last_days,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(1, 1, 7)).map(
        lambda at: at.replace(tzinfo=UTC)
    ),
)


def _opened(ticket_id: str, at: datetime) -> TicketOpened:
    return TicketOpened(
        ticket_id=ticket_id, at=at, by=Actor.requester("ada"), number=1, requester="ada",
        subject="vpn",
    )


@given(at=end_days, zone=far_zones)
def test_a_report_refuses_by_name_a_ticket_its_zone_cannot_date(at: datetime, zone: str) -> None:
    try:
        local = at.astimezone(ZoneInfo(zone))
    except OverflowError:
        local = None
    report = Report(timezone=zone)
    report.extend([_opened("T-0", datetime(2026, 3, 2, tzinfo=UTC))])
    if local is not None:
        report.extend([_opened("T-1", at)])
        hours = report.result().volume.by_hour_of_week.counts
        assert report.tickets == 2 and hours[local.weekday() * 24 + local.hour] >= 1
        return
    for _ in range(2):  # read again, it is refused again, and counts nothing
        with pytest.raises(ValidationError, match="'T-1'") as caught:
            report.extend([_opened("T-1", at)])
        assert caught.value.field == "timezone"
        assert (report.tickets, report.events) == (1, 1)
    bound = {"until": datetime(9000, 1, 1, tzinfo=UTC)} if at.year > 1 else {
        "since": datetime(2, 1, 1, tzinfo=UTC)
    }
    left_out = build_report([_opened("T-1", at)], timezone=zone, **bound)
    assert left_out.volume.total == 0


CALENDARS = [
    BusinessCalendar.always("UTC"),
    BusinessCalendar(timezone="Europe/Berlin", hours={"mon-fri": ["09:00-12:00", "13:00-17:00"]}),
    BusinessCalendar(timezone="Pacific/Kiritimati", hours={"mon-sun": "22:00-06:00"}),
    BusinessCalendar(timezone="Pacific/Pago_Pago", hours={"mon-fri": "09:00-17:00"}),
]
#: Instants of the first and last years a datetime holds, in zones far from UTC.
edge_instants = st.builds(
    lambda at, zone: at.replace(tzinfo=zone),
    st.one_of(
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(3, 1, 31)),
        st.datetimes(min_value=datetime(9997, 12, 1), max_value=datetime(9999, 12, 31, 23, 59)),
    ),
    st.sampled_from(
        [UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("Pacific/Kiritimati"),
         ZoneInfo("Pacific/Pago_Pago"), timezone(timedelta(hours=-23, minutes=59))]
    ),
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400))


@settings(max_examples=200)
@given(
    calendar=st.sampled_from(CALENDARS), at=edge_instants, duration=durations,
    span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
)
def test_a_calendar_names_the_argument_out_of_its_years(
    calendar: BusinessCalendar, at: datetime, duration: timedelta, span: timedelta
) -> None:
    lo, hi = (at, at + span) if at.year < 5000 else (at - span, at)
    calls: list[tuple[Callable[[], object], set[str]]] = [
        (lambda: calendar.add(at, duration), {"start", "duration"}),
        (lambda: calendar.subtract(at, duration), {"end", "duration"}),
        (lambda: calendar.elapsed(lo, hi), {"start", "end"}),
        (lambda: list(calendar.open_intervals(lo, hi)), {"start", "end"}),
        (lambda: calendar.is_open(at), {"at"}),
        (lambda: calendar.next_open(at), {"at"}),
        (lambda: calendar.next_close(at), {"at"}),
        (lambda: calendar.prev_close(at), {"at"}),
    ]
    failed: list[str | None] = []
    for call, fields in calls:
        try:
            call()
        except ValidationError as error:  # it names an argument of the call
            failed.append(error.field if error.field in fields else f"not {fields}")
    assert not [field for field in failed if field is None or field.startswith("not ")]
    if duration and "start" not in failed and "duration" not in failed:
        deadline = calendar.add(at, duration)
        assert deadline >= at
        assert calendar.elapsed(at, deadline) == duration


T0 = datetime(2026, 3, 2, tzinfo=UTC)
DESK_DOC = {
    "calendars": {
        "office": {"timezone": "Pacific/Kiritimati", "hours": {"mon-fri": "09:00-17:00"}}
    },
    "agents": [{"id": "alice", "teams": ["service-desk"], "calendar": "office"}],
    "sla_policies": [{"name": "standard", "calendar": "office",
                      "targets": {"medium": {"first_response": "4h", "resolution": "5d"}}}],
    "escalation_policies": [STUCK],
}


@settings(max_examples=25, deadline=None)
@given(
    at=st.datetimes(min_value=datetime(9997, 12, 20), max_value=datetime(9997, 12, 31, 23, 59)),
    zone=st.sampled_from(["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"]),
)
def test_a_desk_works_to_the_end_of_its_last_year(at: datetime, zone: str) -> None:
    start = at.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    clock = ManualClock(start)
    desk = Helpdesk(DeskConfig.from_dict(DESK_DOC), clock=clock)
    ticket = desk.open(requester=ADA, subject="VPN drops")
    desk.reply(ticket.id, author="alice", body="Restart the client, please")
    desk.solve(ticket.id, by="alice", resolution="Client restarted")
    desk.tick()
    assert desk.get(ticket.id).status == "solved"


@settings(max_examples=50, deadline=None)
@given(at=edge_instants)
def test_a_desk_refuses_by_name_an_instant_outside_its_years(at: datetime) -> None:
    inside = datetime(DESK_YEARS[0], 1, 1, tzinfo=UTC) <= at < datetime(
        DESK_YEARS[1] + 1, 1, 1, tzinfo=UTC
    )
    desk = Helpdesk(DeskConfig.from_dict(DESK_DOC), clock=ManualClock(T0))
    ticket = desk.open(requester=ADA, subject="VPN drops")
    before = desk.history(ticket.id)
    calls: list[tuple[Callable[[], object], str]] = [
        (lambda: desk.tick(at), "now"),
        (lambda: desk.apply_retention(at), "now"),
        (lambda: desk.sla(ticket.id, now=at), "now"),
    ]
    for call, field in calls:
        if inside:
            continue
        with pytest.raises(ValidationError, match="years 3 to 9997") as caught:
            call()
        assert caught.value.field == field
    assert desk.history(ticket.id) == before
    try:
        clock = ManualClock(at)
    except ValidationError:  # UTC cannot hold it: the clock refuses it already
        return
    late = Helpdesk(DeskConfig.from_dict(DESK_DOC), clock=clock)
    if inside:
        return
    for call in (
        lambda: late.open(requester=ADA, subject="VPN drops"),
        lambda: late.tick(),
        lambda: late.next_wakeup(),
    ):
        with pytest.raises(ValidationError, match="years 3 to 9997") as caught:
            call()
        assert caught.value.field == "clock"
    assert list(late.store.event_stream(after=0)) == []


@settings(max_examples=30, deadline=None)
@given(
    first=st.one_of(
        st.datetimes(min_value=datetime(9999, 12, 19), max_value=datetime(9999, 12, 20, 20)),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(1, 1, 1, 12)),
    ),
    zone=st.sampled_from(["UTC", "Pacific/Kiritimati", "America/Los_Angeles"]),
)
def test_calibrating_a_period_the_desks_zone_cannot_date_names_the_history(
    first: datetime, zone: str
) -> None:
    start = first.replace(tzinfo=UTC)
    history = [_opened(f"T-{n}", start + timedelta(hours=3 * n)) for n in range(90)]
    desk = DeskConfig.from_dict({"desk": {"timezone": zone}})

    def dated(at: datetime, step: timedelta = timedelta(0)) -> bool:
        try:
            (at + step).astimezone(ZoneInfo(zone))
        except OverflowError:
            return False
        return True

    hour = timedelta(hours=1)
    last = history[-1].at
    undated = not (dated(start) and dated(last))
    near = not (dated(start, -hour) and dated(last, hour))  # the local hours around them
    refused: ValidationError | None = None
    try:
        measured = calibrate(history, desk=desk)
    except ValidationError as error:
        refused = error
    if refused is None:
        assert not undated and measured.tickets == 90
    else:
        assert near and refused.field == "history" and zone in str(refused)
