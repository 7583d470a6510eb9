"""Applying transitions: events, folding, guards, refusals, automatic moves, auto-close."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk_core.codec import event_to_dict, ticket_to_dict
from helpdesk_core.errors import ConfigError, InvalidTransition, ValidationError
from helpdesk_core.model import (
    Actor,
    CommentAdded,
    StatusCategory,
    StatusChanged,
    Ticket,
    TicketOpened,
    apply_event,
    replay,
)
from helpdesk_core.sla import BusinessCalendar
from helpdesk_core.workflow import (
    LIFECYCLE_ACTOR,
    GuardContext,
    Lifecycle,
    Status,
    Transition,
    apply_automatic,
    apply_transition,
    auto_close,
    auto_close_due,
)

T0 = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)  # a Friday
AGENT = Actor.agent("a-1")
REQUESTER = Actor.requester("r-1")
LC = Lifecycle.default()


def _ticket(lifecycle: str = "default", at: datetime = T0) -> Ticket:
    return replay(
        [
            TicketOpened(
                ticket_id="T-1",
                at=at,
                by=REQUESTER,
                number=1,
                requester="r-1",
                subject="VPN drops every hour",
                lifecycle=lifecycle,
            )
        ]
    )


def _reply(ticket: Ticket, by: Actor, at: datetime, public: bool = True) -> Ticket:
    return apply_event(
        ticket,
        CommentAdded(
            ticket_id=ticket.id,
            at=at,
            by=by,
            comment_id=f"c-{ticket.version}",
            body="hi",
            public=public,
        ),
    )


def _move(ticket: Ticket, name: str, hours: float = 1, **kwargs: Any) -> Ticket:
    moved, _ = apply_transition(
        ticket, LC, name, by=AGENT, now=ticket.updated_at + timedelta(hours=hours), **kwargs
    )
    return moved


def _solved(at_hours: float = 2) -> Ticket:
    ticket = _move(_ticket(), "open")
    return _move(ticket, "solve", hours=at_hours, resolution="reset the token", first_contact=True)


# -- applying -----------------------------------------------------------------------------------


def test_apply_transition_emits_status_changed_and_folds_it() -> None:
    ticket = _ticket()
    now = T0 + timedelta(minutes=5)
    moved, events = apply_transition(ticket, LC, "open", by=AGENT, now=now)
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, StatusChanged)
    assert event == StatusChanged(
        ticket_id="T-1",
        at=now,
        by=AGENT,
        transition="open",
        from_status="new",
        to_status="open",
        category=StatusCategory.OPEN,
    )
    assert moved == apply_event(ticket, event)
    assert moved.status == "open"
    assert moved.status_category is StatusCategory.OPEN
    assert moved.version == ticket.version + 1
    assert moved.updated_at == now
    assert ticket.status == "new"  # the input is untouched


def test_a_target_status_works_like_the_transition_name() -> None:
    ticket = _move(_ticket(), "open")
    by_target, events = apply_transition(
        ticket, LC, "pending", by=AGENT, now=ticket.updated_at, reason="waiting for logs"
    )
    assert by_target.status == "pending"
    event = events[0]
    assert isinstance(event, StatusChanged)
    assert event.transition == "pend"
    assert event.reason == "waiting for logs"
    back, events = apply_transition(by_target, LC, "open", by=REQUESTER, now=by_target.updated_at)
    assert back.status == "open"
    event = events[0]
    assert isinstance(event, StatusChanged)
    assert event.transition == "resume"


def test_solve_records_resolution_and_first_contact() -> None:
    ticket = _solved()
    assert ticket.status == "solved"
    assert ticket.resolution == "reset the token"
    assert ticket.first_contact is True
    assert ticket.solved_at == T0 + timedelta(hours=3)


def test_reopen_and_close_and_cancel() -> None:
    reopened = _move(_solved(), "reopen")
    assert reopened.status == "open"
    assert reopened.reopen_count == 1
    assert reopened.solved_at is None
    closed = _move(_solved(), "close")
    assert closed.status == "closed"
    assert closed.closed_at is not None
    cancelled = _move(_ticket(), "cancel", reason="duplicate of T-0")
    assert cancelled.status == "cancelled"
    assert cancelled.status_category is StatusCategory.CLOSED


def test_fast_path_matches_apply_event_field_for_field() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    ticket = _ticket()
    steps: list[tuple[str, dict[str, Any]]] = [
        ("open", {}),
        ("hold", {"reason": "vendor"}),
        ("resume", {}),
        ("solve", {"resolution": "patched", "first_contact": True}),
        ("reopen", {}),
        ("cancel", {"reason": "gone"}),
    ]
    for name, kwargs in steps:
        now = ticket.updated_at.astimezone(berlin)  # same instant, other zone
        moved, events = apply_transition(ticket, LC, name, by=AGENT, now=now, **kwargs)
        event = events[0]
        assert isinstance(event, StatusChanged)
        validated = StatusChanged(
            ticket_id=ticket.id,
            at=now,
            by=AGENT,
            transition=event.transition,
            from_status=ticket.status,
            to_status=moved.status,
            category=LC.category(moved.status),
            reason=kwargs.get("reason"),
            resolution=kwargs.get("resolution"),
            first_contact=kwargs.get("first_contact", False),
        )
        assert event_to_dict(event) == event_to_dict(validated)
        assert event.at.tzinfo is validated.at.tzinfo
        slow = apply_event(ticket, validated)
        assert moved == slow
        assert ticket_to_dict(moved) == ticket_to_dict(slow)
        ticket = moved


# -- refusals -----------------------------------------------------------------------------------


def _refusal(ticket: Ticket, name: str, **kwargs: Any) -> InvalidTransition:
    kwargs.setdefault("now", ticket.updated_at + timedelta(hours=1))
    with pytest.raises(InvalidTransition) as info:
        apply_transition(ticket, LC, name, by=AGENT, **kwargs)
    return info.value


def test_guard_refusal_names_ticket_status_transition_and_guard() -> None:
    ticket = _move(_ticket(), "open")
    err = _refusal(ticket, "solve", first_contact=True)
    assert str(err) == (
        "ticket T-1 in status 'open': transition 'solve' refused by guard "
        "'resolution_note': a resolution note is required"
    )
    assert (err.ticket_id, err.status, err.transition, err.guard) == (
        "T-1",
        "open",
        "solve",
        "resolution_note",
    )


def test_refusal_keeps_the_name_asked_for() -> None:
    err = _refusal(_move(_ticket(), "open"), "solved", resolution="x")
    assert err.transition == "solved"
    assert err.guard == "public_response_or_first_contact"
    assert "transition 'solve' refused" in str(err)


def test_unknown_transition_lists_the_allowed_ones() -> None:
    err = _refusal(_ticket(), "escalate")
    assert str(err) == (
        "ticket T-1 in status 'new': no transition 'escalate' (allowed: open, solve, cancel)"
    )
    assert err.guard is None
    err = _refusal(_ticket(), "pending")
    assert "no transition 'pending'" in str(err)


def test_closed_is_terminal() -> None:
    closed = _move(_solved(), "close")
    for name in ("reopen", "open", "cancel", "close"):
        err = _refusal(closed, name)
        assert "closed, which is terminal" in str(err)
        assert err.status == "closed"


def test_bad_arguments_are_validation_errors() -> None:
    ticket = _ticket()
    with pytest.raises(ValidationError, match="naive datetime"):
        apply_transition(ticket, LC, "open", by=AGENT, now=datetime(2026, 3, 6, 10))
    with pytest.raises(ValidationError, match="expected an Actor"):
        apply_transition(ticket, LC, "open", by="a-1", now=T0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="transition or status name"):
        apply_transition(ticket, LC, 3, by=AGENT, now=T0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as info:
        apply_transition(ticket, LC, "open", by=AGENT, now=T0, first_contact=1)  # type: ignore[arg-type]
    assert info.value.field == "first_contact"
    with pytest.raises(ValidationError) as info:
        apply_transition(ticket, LC, "cancel", by=AGENT, now=T0, reason=5)  # type: ignore[arg-type]
    assert info.value.field == "reason"
    with pytest.raises(ValidationError, match="follows lifecycle 'itil'"):
        apply_transition(_ticket(lifecycle="itil"), LC, "open", by=AGENT, now=T0)


def test_a_status_the_lifecycle_lacks_is_refused() -> None:
    ticket = replay(
        [
            TicketOpened(
                ticket_id="T-9",
                at=T0,
                by=REQUESTER,
                number=9,
                requester="r-1",
                subject="imported",
                status="triage",
            )
        ]
    )
    with pytest.raises(InvalidTransition, match="has no such status"):
        apply_transition(ticket, LC, "open", by=AGENT, now=T0)


# -- each guard ---------------------------------------------------------------------------------


def test_guard_resolution_note() -> None:
    ticket = _move(_ticket(), "open")
    for resolution in (None, "", "   "):
        err = _refusal(ticket, "solve", resolution=resolution, first_contact=True)
        assert err.guard == "resolution_note"
    assert _move(ticket, "solve", resolution="ok", first_contact=True).status == "solved"


def test_guard_public_response_or_first_contact() -> None:
    ticket = _move(_ticket(), "open")
    err = _refusal(ticket, "solve", resolution="ok")
    assert err.guard == "public_response_or_first_contact"
    assert "no public agent response" in str(err)
    noted = _reply(ticket, AGENT, ticket.updated_at, public=False)
    assert _refusal(noted, "solve", resolution="ok").guard == "public_response_or_first_contact"
    by_requester = _reply(ticket, REQUESTER, ticket.updated_at)
    assert (
        _refusal(by_requester, "solve", resolution="ok").guard == "public_response_or_first_contact"
    )
    replied = _reply(ticket, AGENT, ticket.updated_at)
    assert _move(replied, "solve", resolution="ok").status == "solved"
    assert _move(ticket, "solve", resolution="ok", first_contact=True).status == "solved"


def test_guard_within_reopen_window() -> None:
    solved = _solved()
    assert solved.solved_at is not None
    edge = solved.solved_at + timedelta(days=7)
    reopened, _ = apply_transition(solved, LC, "reopen", by=REQUESTER, now=edge)
    assert reopened.status == "open"
    err = _refusal(solved, "reopen", now=edge + timedelta(seconds=1))
    assert err.guard == "within_reopen_window"
    assert "reopen window of 7d" in str(err)
    assert "follow-up ticket" in str(err)
    forever = Lifecycle.from_dict({**LC.to_dict(), "reopen_window": None})
    late = solved.solved_at + timedelta(days=400)
    moved, _ = apply_transition(solved, forever, "reopen", by=REQUESTER, now=late)
    assert moved.status == "open"


def test_guard_reason_given() -> None:
    ticket = _ticket()
    for reason in (None, "", "  "):
        err = _refusal(ticket, "cancel", reason=reason)
        assert err.guard == "reason_given"
        assert "a reason is required" in str(err)
    assert _move(ticket, "cancel", reason="spam").status == "cancelled"


def test_custom_guard_sees_the_whole_context() -> None:
    seen: list[GuardContext] = []

    def office_hours_only(ctx: GuardContext) -> str | None:
        seen.append(ctx)
        return None if 8 <= ctx.now.hour < 18 else "only during office hours"

    lc = Lifecycle(
        name="default",
        statuses=[Status(name="new", category="new"), Status(name="done", category="closed")],
        initial="new",
        transitions=[Transition(name="finish", from_="new", to="done", guards=("office",))],
        guards={"office": office_hours_only},
    )
    ticket = _ticket()
    late = T0.replace(hour=20)
    with pytest.raises(InvalidTransition, match="refused by guard 'office': only during"):
        apply_transition(ticket, lc, "finish", by=AGENT, now=late, reason="r", resolution="s")
    ctx = seen[-1]
    assert (ctx.ticket, ctx.lifecycle, ctx.actor, ctx.now) == (ticket, lc, AGENT, late)
    assert ctx.transition.name == "finish"
    assert (ctx.reason, ctx.resolution, ctx.first_contact, ctx.automatic) == (
        "r",
        "s",
        False,
        False,
    )
    done, _ = apply_transition(ticket, lc, "done", by=AGENT, now=T0)
    assert done.status == "done"


# -- automatic moves ----------------------------------------------------------------------------


def test_agent_public_reply_opens_a_new_ticket() -> None:
    ticket = _ticket()
    moved, events = apply_automatic(ticket, LC, "agent_public_reply", now=T0, by=AGENT)
    assert moved.status == "open"
    event = events[0]
    assert isinstance(event, StatusChanged)
    assert event.automatic is True
    assert event.by == AGENT
    again, events = apply_automatic(moved, LC, "agent_public_reply", now=T0)
    assert again is moved
    assert events == []


def test_requester_reply_resumes_pending_but_not_on_hold() -> None:
    pending = _move(_move(_ticket(), "open"), "pend")
    moved, events = apply_automatic(pending, LC, "requester_public_reply", now=T0)
    assert moved.status == "open"
    assert events[0].by == LIFECYCLE_ACTOR
    held = _move(_move(_ticket(), "open"), "hold")
    same, events = apply_automatic(held, LC, "requester_public_reply", now=T0)
    assert same is held
    assert events == []


def test_automatic_move_refused_by_a_guard_is_no_move() -> None:
    lc = Lifecycle.from_dict(
        {
            "initial": "new",
            "statuses": [
                {"name": "new", "category": "new"},
                {"name": "gone", "category": "closed"},
            ],
            "transitions": [
                {
                    "name": "drop",
                    "from": "new",
                    "to": "gone",
                    "guards": ["reason_given"],
                    "automatic": "agent_public_reply",
                }
            ],
        }
    )
    ticket = _ticket()
    assert apply_automatic(ticket, lc, "agent_public_reply", now=T0) == (ticket, [])
    moved, _ = apply_automatic(ticket, lc, "agent_public_reply", now=T0, reason="auto")
    assert moved.status == "gone"


# -- auto-close ---------------------------------------------------------------------------------


def _weekdays(**kwargs: Any) -> BusinessCalendar:
    return BusinessCalendar(timezone="Europe/Berlin", hours={"mon-fri": "09:00-17:00"}, **kwargs)


def _solved_at(at: datetime, lifecycle: Lifecycle = LC) -> Ticket:
    ticket = _ticket(lifecycle=lifecycle.name, at=at - timedelta(hours=1))
    moved, _ = apply_transition(
        ticket, lifecycle, "solve", by=AGENT, now=at, resolution="ok", first_contact=True
    )
    return moved


def test_auto_close_refuses_calendars_that_are_no_mapping_of_calendars() -> None:
    office = Lifecycle.from_dict({**LC.to_dict(), "calendar": "office"})
    later = T0 + timedelta(days=10)
    cases: list[tuple[Lifecycle, Any, str]] = [
        (office, "office", "calendars"),
        (office, ["office"], "calendars"),
        (office, {"office": "09:00-17:00"}, "calendars.office"),
        (LC, "office", "calendars"),
    ]
    for lifecycle, calendars, field in cases:
        ticket = _solved_at(T0, lifecycle)
        with pytest.raises(ValidationError) as info:
            auto_close_due(ticket, lifecycle, calendars)
        assert info.value.field == field
        with pytest.raises(ValidationError) as info:
            auto_close(ticket, lifecycle, now=later, calendars=calendars)
        assert info.value.field == field
    closed, _ = auto_close(
        _solved_at(T0, office), office, now=later, calendars={"office": _weekdays()}
    )
    assert closed.status == "closed"


def test_auto_close_due_in_business_days() -> None:
    lc = Lifecycle.from_dict({**LC.to_dict(), "calendar": "office"})
    berlin = ZoneInfo("Europe/Berlin")
    friday = datetime(2026, 3, 6, 16, 0, tzinfo=berlin)
    calendars = {"office": _weekdays()}
    due = auto_close_due(_solved_at(friday, lc), lc, calendars)
    assert due == datetime(2026, 3, 11, 16, 0, tzinfo=berlin)  # Mon, Tue, Wed
    saturday = datetime(2026, 3, 7, 23, 30, tzinfo=berlin)
    assert auto_close_due(_solved_at(saturday, lc), lc, calendars) == datetime(
        2026, 3, 11, 23, 30, tzinfo=berlin
    )
    with_holiday = {"office": _weekdays(holidays=[date(2026, 3, 10)])}
    assert auto_close_due(_solved_at(friday, lc), lc, with_holiday) == datetime(
        2026, 3, 12, 16, 0, tzinfo=berlin
    )


def test_auto_close_counts_the_days_night_shifts_start_on_not_holidays_they_run_into() -> None:
    """A night shift belongs to the day it starts on: the morning it spills into is no
    business day of its own, and a holiday is none even though the shift of the evening
    before still runs into it."""
    lc = Lifecycle.from_dict({**LC.to_dict(), "calendar": "night", "auto_close_after": 1})
    berlin = ZoneInfo("Europe/Berlin")
    night = BusinessCalendar(
        timezone="Europe/Berlin",
        hours={"mon-fri": "22:00-06:00"},
        holidays=[date(2026, 3, 11)],  # a Wednesday
    )
    calendars = {"night": night}
    tuesday = datetime(2026, 3, 10, 23, 0, tzinfo=berlin)
    assert auto_close_due(_solved_at(tuesday, lc), lc, calendars) == datetime(
        2026, 3, 12, 23, 0, tzinfo=berlin
    )  # Thursday: Wednesday is a holiday
    friday = datetime(2026, 3, 13, 23, 0, tzinfo=berlin)
    assert auto_close_due(_solved_at(friday, lc), lc, calendars) == datetime(
        2026, 3, 16, 23, 0, tzinfo=berlin
    )  # Monday: Saturday 00:00-06:00 is Friday's shift
    assert night.opens_on(date(2026, 3, 13)) and not night.opens_on(date(2026, 3, 14))
    assert not night.opens_on(date(2026, 3, 11))


def test_opens_on_wants_a_date() -> None:
    with pytest.raises(ValidationError, match="day must be a date"):
        _weekdays().opens_on(cast(Any, datetime(2026, 3, 2, 9, tzinfo=UTC)))


def test_auto_close_due_across_a_dst_gap_keeps_the_wall_time_or_moves_forward() -> None:
    lc = Lifecycle.from_dict({**LC.to_dict(), "calendar": "always", "auto_close_after": 1})
    berlin = ZoneInfo("Europe/Berlin")
    calendars = {"always": BusinessCalendar.always("Europe/Berlin")}
    solved = datetime(2026, 3, 28, 2, 30, tzinfo=berlin)  # the next day has no 02:30
    due = auto_close_due(_solved_at(solved, lc), lc, calendars)
    assert due == datetime(2026, 3, 29, 3, 30, tzinfo=berlin)
    assert due is not None
    assert due.astimezone(UTC) - solved.astimezone(UTC) == timedelta(hours=24)


def test_auto_close_after_zero_days_is_the_solve_itself_in_a_fall_back_hour() -> None:
    """Solved in the repeated hour of a fall-back night (its second 02:30), with
    auto_close_after 0 on a calendar: due at the solve, not at the first 02:30, an hour
    before it."""
    lc = Lifecycle.from_dict({**LC.to_dict(), "calendar": "always", "auto_close_after": 0})
    berlin = ZoneInfo("Europe/Berlin")
    calendars = {"always": BusinessCalendar.always("Europe/Berlin")}
    for fold in (0, 1):
        # In UTC: an ambiguous local time never equals an instant of another zone.
        solved = datetime(2026, 10, 25, 2, 30, fold=fold, tzinfo=berlin).astimezone(UTC)
        ticket = _solved_at(solved, lc)
        due = auto_close_due(ticket, lc, calendars)
        assert due is not None and due.astimezone(UTC) == solved


def test_auto_close_needs_the_named_calendar() -> None:
    lc = Lifecycle.from_dict({**LC.to_dict(), "calendar": "office"})
    ticket = _solved_at(T0, lc)
    with pytest.raises(ConfigError, match="calendar 'office' is not defined") as info:
        auto_close_due(ticket, lc, {})
    assert info.value.path == "lifecycle.calendar"


def test_auto_close_closes_once_due_stamped_with_the_due_instant() -> None:
    ticket = _solved_at(T0)
    due = T0 + timedelta(days=3)
    assert auto_close(ticket, LC, now=due - timedelta(seconds=1)) == (ticket, [])
    closed, events = auto_close(ticket, LC, now=due + timedelta(days=5))
    assert closed.status == "closed"
    event = events[0]
    assert isinstance(event, StatusChanged)
    assert (event.at, event.by, event.automatic, event.transition) == (
        due,
        LIFECYCLE_ACTOR,
        True,
        "close",
    )
    assert closed.closed_at == due
    assert auto_close(closed, LC, now=due + timedelta(days=6)) == (closed, [])


# -- properties ---------------------------------------------------------------------------------

_NAMES = sorted({t.name for t in LC.transitions} | set(LC.status_names) | {"bogus"})


@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(_NAMES),
            st.integers(min_value=0, max_value=10 * 24 * 60),
            st.none() | st.sampled_from(["", "done", "because"]),
            st.booleans(),
        ),
        max_size=25,
    )
)
def test_random_requests_fold_like_apply_event_or_leave_the_ticket_alone(
    steps: list[tuple[str, int, str | None, bool]],
) -> None:
    ticket = _ticket()
    history = [ticket]
    for name, minutes, text, first in steps:
        now = ticket.updated_at + timedelta(minutes=minutes)
        before = ticket
        try:
            ticket, events = apply_transition(
                ticket,
                LC,
                name,
                by=AGENT,
                now=now,
                reason=text,
                resolution=text,
                first_contact=first,
            )
        except InvalidTransition:
            assert ticket is before
            continue
        assert ticket == apply_event(before, events[0])
        assert ticket_to_dict(ticket) == ticket_to_dict(apply_event(before, events[0]))
        assert LC.has_status(ticket.status)
        assert ticket.status_category is LC.category(ticket.status)
        history.append(ticket)
    closed = [t for t in history if t.status_category is StatusCategory.CLOSED]
    if closed:
        assert ticket.status == closed[0].status


_CATEGORIES = [c.value for c in StatusCategory]


@st.composite
def _random_lifecycle_docs(draw: st.DrawFn) -> dict[str, Any]:
    """Lifecycle documents of any shape: each status reachable from the first (a tree of
    moves), then any further moves, which may or may not leave a way to a closed status."""
    count = draw(st.integers(2, 7))
    names = [f"s{i}" for i in range(count)]
    categories = [
        draw(st.sampled_from(["new", "open", "pending", "on_hold"])),
        *(draw(st.sampled_from(_CATEGORIES)) for _ in names[1:-1]),
        "closed",
    ]
    live = [n for n, c in zip(names, categories, strict=True) if c != "closed"]
    transitions: list[dict[str, Any]] = []
    for i in range(1, count):
        parents = [n for n in live if int(n[1:]) < i] or [names[0]]
        transitions.append({"name": f"to_{names[i]}", "from": draw(st.sampled_from(parents)),
                            "to": names[i]})
    for j in range(draw(st.integers(0, 6))):
        target = draw(st.sampled_from(names))
        transitions.append({
            "name": f"move_{j}",
            "from": draw(st.just("*") | st.lists(st.sampled_from(live), min_size=1, unique=True)),
            "to": target,
            "guards": draw(st.lists(st.sampled_from(["resolution_note", "reason_given"]),
                                    unique=True)),
        })
    return {
        "name": "custom",
        "initial": names[0],
        "statuses": [{"name": n, "category": c} for n, c in zip(names, categories, strict=True)],
        "transitions": transitions,
        "auto_close_after": None,
    }


def _ways_to_closed(lifecycle: Lifecycle, status: str) -> bool:
    seen, todo = {status}, [status]
    while todo:
        here = todo.pop()
        if lifecycle.is_terminal(here):
            return True
        for move in lifecycle.transitions_from(here):
            if move.to not in seen:
                seen.add(move.to)
                todo.append(move.to)
    return False


def _stuck_in(doc: dict[str, Any]) -> list[str]:
    """The statuses of a lifecycle document with no way to a closed status."""
    category = {s["name"]: s["category"] for s in doc["statuses"]}
    moves = {
        (source, t["to"])
        for t in doc["transitions"]
        for source in (
            [n for n, c in category.items() if c != "closed" and n != t["to"]]
            if t["from"] == "*"
            else [t["from"]] if isinstance(t["from"], str) else t["from"]
        )
    }
    free = {n for n, c in category.items() if c == "closed"}
    while True:
        more = {source for source, target in moves if target in free} - free
        if not more:
            return [n for n in category if n not in free]
        free |= more


@given(doc=_random_lifecycle_docs(), data=st.data())
def test_any_valid_lifecycle_keeps_tickets_in_its_statuses_with_a_way_to_close(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    stuck = _stuck_in(doc)
    if stuck:  # refused, naming the first status a ticket could never close from
        with pytest.raises(ConfigError, match="cannot reach a status of the closed") as info:
            Lifecycle.from_dict(doc)
        assert info.value.path == f"lifecycle.statuses[{int(stuck[0][1:])}]"
        return
    lifecycle = Lifecycle.from_dict(doc)
    opened = TicketOpened(ticket_id="T-1", at=T0, by=REQUESTER, number=1, requester="r-1",
                          subject="VPN drops", lifecycle="custom", status=lifecycle.initial,
                          status_category=lifecycle.category(lifecycle.initial))
    ticket, events = replay([opened]), [opened]
    for _ in range(data.draw(st.integers(0, 12), label="moves")):
        assert lifecycle.has_status(ticket.status)
        assert ticket.status_category is lifecycle.category(ticket.status)
        assert _ways_to_closed(lifecycle, ticket.status), ticket.status
        allowed = lifecycle.allowed(ticket.status)
        if not allowed:
            assert lifecycle.is_terminal(ticket.status)
            break
        asked = data.draw(st.sampled_from(allowed), label="transition")
        hours = data.draw(st.integers(0, 200), label="hours")
        ticket, new = apply_transition(
            ticket, lifecycle, asked, by=AGENT, now=ticket.updated_at + timedelta(hours=hours),
            reason="as agreed", resolution="fixed", first_contact=True,
        )
        events += new
        assert replay(events) == ticket


@pytest.mark.parametrize("answer", [True, False, 0, "", "  ", ["why"]])
def test_a_guard_answering_neither_none_nor_a_reason_is_an_error(answer: object) -> None:
    # A guard written as a yes/no check would otherwise refuse every move as "True".
    lc = Lifecycle(
        name="default",
        statuses=[Status(name="new", category="new"), Status(name="done", category="closed")],
        initial="new",
        transitions=[Transition(name="finish", from_="new", to="done", guards=("yes_no",))],
        guards={"yes_no": lambda ctx: answer},  # type: ignore[arg-type,return-value]
    )
    ticket = _ticket()
    with pytest.raises(ValidationError, match=r"guard 'yes_no' returned .*returns None to allow"):
        apply_transition(ticket, lc, "finish", by=AGENT, now=T0)
