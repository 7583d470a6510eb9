"""Validation, access and concurrency of the Helpdesk commands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve
from service_fixtures import DESK, berlin, make_desk

from helpdesk_core import (
    AccessDenied,
    ConfigError,
    ConflictError,
    DeskConfig,
    Helpdesk,
    InvalidTransition,
    ManualClock,
    MemoryStore,
    NotFound,
    Requester,
    SequentialIds,
    SqliteStore,
    StorageError,
    TickError,
    ValidationError,
)
from helpdesk_core.model import (
    CommentAdded,
    Escalated,
    Event,
    QueuedForAssignment,
    SlaBreached,
    SlaTargetChanged,
    SlaWarning,
    Ticket,
    TicketOpened,
)
from helpdesk_core.storage import Store, TicketQuery

ADA = Requester(id="ada", name="Ada", email="ada@example.com")
EVE = Requester(id="eve", name="Eve", email="eve@example.com")


@pytest.fixture
def desk() -> Helpdesk:
    return make_desk(MemoryStore(), berlin(2026, 3, 2, 10, 0))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "x", "channel": "pigeon"}, "channel"),
        ({"subject": "x", "impact": "enormous"}, "impact"),
        ({"subject": "x", "priority": "P9"}, "priority"),
        ({"subject": "x", "type": "rumour"}, "type"),
        ({"subject": "x", "tags": ["ok", ""]}, "tags"),
        ({"subject": "x", "fields": {"bad key": 1}}, "fields"),
        ({"subject": "x", "description": "x" * 1_000_001}, "description"),
    ],
)
def test_bad_open_changes_nothing(desk: Helpdesk, kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        desk.open(requester=ADA, **kwargs)  # type: ignore[arg-type]
    assert field in str(info.value)
    assert desk.search().total == 0
    with pytest.raises(NotFound):
        desk.get_requester("ada")  # nothing was written, not even the requester


@pytest.mark.parametrize(
    ("filters", "field", "named"),
    [
        ({"status": "slved"}, "status", "'slved'"),
        ({"status": ("open", "Open")}, "status", "'Open'"),
        ({"tier": "L9"}, "tier", "L1, L2"),
        ({"team": ["desk", "netwrok"]}, "team", "'netwrok'"),
    ],
)
def test_search_refuses_names_the_desk_does_not_have(
    desk: Helpdesk, filters: dict[str, object], field: str, named: str
) -> None:
    desk.open(requester=ADA, subject="VPN down")
    with pytest.raises(ValidationError) as info:
        desk.search(**filters)
    assert info.value.field == field and named in str(info.value)
    with pytest.raises(ValidationError):
        desk.search(TicketQuery(**filters), as_="alice")  # type: ignore[arg-type]
    known = {"status": "new", "tier": "L1", "team": "desk"}[field]
    assert desk.search(**{field: known}).total == 1
    desk.store.query(TicketQuery(**filters))  # type: ignore[arg-type]  # the store does not judge names


def test_unknown_requester_id_is_not_found(desk: Helpdesk) -> None:
    with pytest.raises(NotFound):
        desk.open(requester="nobody", subject="x")


def test_intake_refuses_or_lists_missing_answers() -> None:
    doc = {
        **DESK,
        "categories": {
            "access": {"on_missing": "refuse", "questions": [{"name": "system", "required": True}]},
            "hardware": {
                "questions": [{"name": "model", "required": True}, {"name": "floor", "type": "int"}]
            },
        },
    }
    desk = make_desk(MemoryStore(), berlin(2026, 3, 2, 10, 0), DeskConfig.from_dict(doc))
    with pytest.raises(ValidationError, match="system"):
        desk.open(requester=ADA, subject="Need SAP", category="access")
    ticket = desk.open(
        requester=ADA, subject="Laptop broken", category="hardware", fields={"floor": "3"}
    )
    opened = desk.history(ticket.id)[0]
    assert isinstance(opened, TicketOpened)
    assert opened.missing_fields == ("model",)
    assert ticket.fields == {"floor": 3}
    with pytest.raises(ValidationError, match=r"fields\.floor"):
        desk.open(requester=ADA, subject="Laptop", category="hardware", fields={"floor": "x"})


def test_refused_transition_names_ticket_status_and_guard(desk: Helpdesk) -> None:
    ticket = desk.open(requester=ADA, subject="Printer")
    with pytest.raises(InvalidTransition) as info:
        desk.solve(ticket.id, by="alice", resolution="done")
    error = info.value
    assert error.ticket_id == ticket.id and error.status == "new"
    assert error.guard == "public_response_or_first_contact"
    assert desk.get(ticket.id) == ticket
    solved = desk.solve(ticket.id, by="alice", resolution="done", first_contact=True)
    assert solved.status == "solved" and solved.first_contact


def test_requesters_may_only_reply_rate_and_reopen_their_own(desk: Helpdesk) -> None:
    ticket = desk.open(requester=ADA, subject="Printer")
    desk.upsert_requester(EVE)
    with pytest.raises(AccessDenied) as info:
        desk.reply(ticket.id, author="eve", body="me too")
    assert info.value.ticket_id == ticket.id and info.value.action == "reply"
    with pytest.raises(AccessDenied):
        desk.escalate(ticket.id, by="ada", reason="faster please")
    with pytest.raises(AccessDenied):
        desk.get(ticket.id, as_="eve")
    with pytest.raises(ValidationError, match="internal"):
        desk.reply(ticket.id, author="ada", body="secret", public=False)
    desk.reply(ticket.id, author="alice", body="internal only", public=False)
    desk.reply(ticket.id, author="ada", body="any news?")
    seen = desk.history(ticket.id, as_="ada")
    assert not any(isinstance(e, CommentAdded) and not e.public for e in seen)
    assert any(isinstance(e, CommentAdded) and not e.public for e in desk.history(ticket.id))


def test_rate_once_and_only_when_solved(desk: Helpdesk) -> None:
    ticket = desk.open(requester=ADA, subject="Printer")
    with pytest.raises(InvalidTransition, match="not solved"):
        desk.rate(ticket.id, score=5)
    desk.solve(ticket.id, by="alice", resolution="ok", first_contact=True)
    with pytest.raises(ValidationError, match="score"):
        desk.rate(ticket.id, score=6)
    desk.rate(ticket.id, score=5, by="ada")
    with pytest.raises(InvalidTransition, match="rated already"):
        desk.rate(ticket.id, score=1, by="ada")


def test_closed_is_terminal_and_replies_are_refused(desk: Helpdesk) -> None:
    ticket = desk.open(requester=ADA, subject="Printer")
    desk.solve(ticket.id, by="alice", resolution="ok", first_contact=True)
    desk.close(ticket.id, by="alice")
    with pytest.raises(InvalidTransition):
        desk.reopen(ticket.id, by="ada", reason="again")
    with pytest.raises(InvalidTransition, match="follow-up"):
        desk.reply(ticket.id, author="ada", body="again")
    closed = desk.get(ticket.id)
    with pytest.raises(InvalidTransition, match="follow-up") as refused:
        desk.set_priority(ticket.id, "critical", by="alice")
    assert refused.value.transition == "set_priority"
    assert desk.get(ticket.id) == closed
    follow = desk.open(requester="ada", subject="Printer again")
    linked = desk.link(follow.id, kind="follow_up_of", other=ticket.id, by="alice")
    assert linked.linked("follow_up_of") == (ticket.id,)
    with pytest.raises(ValidationError, match="itself"):
        desk.link(follow.id, kind="duplicate_of", other=follow.id)
    with pytest.raises(NotFound):
        desk.link(follow.id, kind="duplicate_of", other="T-404")


@pytest.mark.parametrize("other", ["T-1\x00", "T 1", "T" * 300])
def test_a_link_to_what_cannot_be_a_ticket_id_names_other(desk: Helpdesk, other: str) -> None:
    ticket = desk.open(requester=ADA, subject="Printer")
    with pytest.raises(ValidationError) as refused:
        desk.link(ticket.id, kind="duplicate_of", other=other, by="alice")
    assert refused.value.field == "other"
    assert desk.get(ticket.id).links == ()


@pytest.mark.parametrize("problem_id", [7, None, "", "T-1\x00"])
@pytest.mark.parametrize("command", ["record_known_error", "update_known_error"])
def test_a_known_error_command_names_a_wrong_problem_id(
    desk: Helpdesk, command: str, problem_id: object
) -> None:
    problem = desk.open(requester=ADA, subject="Gateway drops VPN", type="problem")
    desk.record_known_error(problem.id, symptom="VPN drops", by="alice")
    before = desk.history(problem.id)
    with pytest.raises(ValidationError) as refused:
        getattr(desk, command)(problem_id, symptom="Mail stalls", by="alice")
    assert refused.value.field == "problem_id"
    assert desk.history(problem.id) == before


def test_agents_free_up_and_take_queued_tickets() -> None:
    doc = {
        **DESK,
        "agents": [{"id": "alice", "tier": "L1", "teams": ["desk"], "capacity": 1}],
        "teams": [{**team, "contacts": []} for team in DESK["teams"]],
    }
    desk = make_desk(MemoryStore(), berlin(2026, 3, 2, 10, 0), DeskConfig.from_dict(doc))
    seen: list[Event] = []
    desk.subscribe(seen.append)
    first = desk.open(requester=ADA, subject="one")
    second = desk.open(requester=ADA, subject="two")
    assert first.assignee == "alice" and second.assignee is None
    assert any(isinstance(e, QueuedForAssignment) for e in seen)
    desk.solve(first.id, by="alice", resolution="ok", first_contact=True)
    assert desk.get(second.id).assignee == "alice"


def test_commands_retry_on_concurrent_change(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    start = berlin(2026, 3, 2, 10, 0)
    one = Helpdesk(
        DeskConfig.from_dict(DESK),
        SqliteStore(path),
        ManualClock(start),
        ids=SequentialIds(prefixes={"ticket": "A", "comment": "A"}),
    )
    two = Helpdesk(
        DeskConfig.from_dict(DESK),
        SqliteStore(path),
        ManualClock(start),
        ids=SequentialIds(prefixes={"ticket": "B", "comment": "B"}),
    )
    ticket = one.open(requester=ADA, subject="shared")

    store = one.store
    real_load = store.load
    calls = {"n": 0}

    def racing_load(ticket_id: str):  # type: ignore[no-untyped-def]
        loaded = real_load(ticket_id)
        if calls["n"] == 0:
            calls["n"] += 1
            two.reply(ticket_id, author="alice", body="from the other process")
        return loaded

    store.load = racing_load  # type: ignore[method-assign]
    result = one.reply(ticket.id, author="alice", body="from this process")
    bodies = [e.body for e in one.history(ticket.id) if isinstance(e, CommentAdded)]
    assert bodies == ["from the other process", "from this process"]
    assert result.version == len(one.history(ticket.id))


def test_conflicts_beyond_the_retry_budget_surface(tmp_path: Path) -> None:
    doc = {**DESK, "desk": {"max_retries": 0}}
    desk = make_desk(MemoryStore(), berlin(2026, 3, 2, 10, 0), DeskConfig.from_dict(doc))
    ticket = desk.open(requester=ADA, subject="x")
    real = desk.store.append

    def always_conflict(ticket_id, *, expected_version, **kw):  # type: ignore[no-untyped-def]
        raise ConflictError(ticket_id, expected=expected_version, actual=expected_version + 1)

    desk.store.append = always_conflict  # type: ignore[method-assign]
    with pytest.raises(ConflictError):
        desk.reply(ticket.id, author="alice", body="hello")
    desk.store.append = real  # type: ignore[method-assign]
    assert desk.get(ticket.id) == ticket


def test_naive_datetimes_are_refused(desk: Helpdesk) -> None:
    with pytest.raises(ValidationError, match="naive"):
        desk.tick(datetime(2026, 3, 2, 12, 0))
    ticket = desk.open(requester=ADA, subject="x")
    with pytest.raises(ValidationError, match="naive"):
        desk.sla(ticket.id, now=datetime(2026, 3, 2, 12, 0))


@pytest.mark.parametrize(
    ("kwargs", "field", "named"),
    [
        ({"clock": datetime(2026, 3, 2, 9, tzinfo=UTC)}, "clock", "ManualClock(start)"),
        ({"clock": ManualClock}, "clock", "got ManualClock"),
        ({"clock": object()}, "clock", "must provide now"),
        ({"store": {}}, "store", "must provide load, append, unit_of_work"),
        ({"ids": "T-1"}, "ids", "must provide new_id"),
    ],
)
def test_the_desk_refuses_parts_that_are_not_what_it_needs(
    kwargs: dict[str, object], field: str, named: str
) -> None:
    with pytest.raises(ValidationError) as info:
        Helpdesk(DeskConfig(), **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field and named in str(info.value)


class _BadIds:
    def new_id(self, kind: str) -> str:
        return "not an id!" if kind == "ticket" else "C-1"


def test_an_id_factory_s_bad_ticket_id_is_refused_before_anything_is_written() -> None:
    store = MemoryStore()
    desk = Helpdesk(
        config=DeskConfig.from_dict(DESK),
        store=store,
        clock=ManualClock(berlin(2026, 3, 2, 10, 0)),
        ids=_BadIds(),
    )
    with pytest.raises(ValidationError, match="ticket_id"):
        desk.open(requester=ADA, subject="Printer jams")
    assert desk.search().total == 0
    with pytest.raises(NotFound):
        desk.get_requester("ada")
    assert store.allocate_number() == 1  # no number was taken either


def _policy_desk(start: datetime, when_daytime: dict[str, object]) -> Helpdesk:
    config = DeskConfig.from_dict({
        "calendars": {
            "office": {"timezone": "Europe/Berlin", "hours": {"mon-fri": "08:00-18:00"}},
            "always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}},
        },
        "tiers": [{"id": "L1", "teams": ["desk"]}],
        "teams": [{"id": "desk"}],
        "agents": [{"id": "a1", "tier": "L1", "teams": ["desk"]}],
        "sla_policies": [
            {"name": "first", "calendar": "always", "when": when_daytime,
             "targets": {"medium": {"first_response": "1h"}, "critical": {"first_response": "1h"}}},
            {"name": "other", "calendar": "always",
             "targets": {"medium": {"first_response": "8h"}, "critical": {"first_response": "8h"}}},
        ],
    })
    return Helpdesk(config=config, store=MemoryStore(), clock=ManualClock(start),
                    ids=SequentialIds())


def _policies(ticket: Ticket) -> set[str]:
    return {clock.policy for clock in ticket.sla.values()}


def test_a_policy_that_reads_the_time_is_chosen_afresh_at_every_open() -> None:
    desk = _policy_desk(
        berlin(2026, 3, 2, 7, 0),
        {"field": "business_hours.office", "op": "eq", "value": True},
    )
    early = desk.open(requester=ADA, subject="Before hours")
    desk.clock.advance(hours=3)  # type: ignore[attr-defined]
    daytime = desk.open(requester=ADA, subject="During hours")
    desk.clock.advance(hours=9)  # type: ignore[attr-defined]
    late = desk.open(requester=ADA, subject="After hours")
    assert (_policies(early), _policies(daytime), _policies(late)) == (
        {"other"}, {"first"}, {"other"}
    )


def test_a_policy_that_reads_the_time_reads_it_at_the_opening() -> None:
    """Opened after hours under ``other`` (8 h): a note in office hours, a tag in the
    evening change nothing; the policy depends on when the ticket arrived."""
    desk = _policy_desk(
        berlin(2026, 3, 2, 19, 0),
        {"field": "business_hours.office", "op": "eq", "value": True},
    )
    ticket = desk.open(requester=ADA, subject="After hours")
    desk.clock.set(berlin(2026, 3, 3, 9, 30))  # type: ignore[attr-defined]
    desk.reply(ticket.id, author="a1", body="looking", public=False)
    desk.clock.set(berlin(2026, 3, 3, 11, 0))  # type: ignore[attr-defined]
    desk.tick()
    desk.clock.set(berlin(2026, 3, 3, 18, 30))  # type: ignore[attr-defined]
    desk.update(ticket.id, by="a1", tags=["vpn"])
    assert _policies(desk.get(ticket.id)) == {"other"}
    history = desk.history(ticket.id)
    assert not [e for e in history if isinstance(e, SlaTargetChanged)]
    # Breached once, at its own 8 h deadline, not under the 1 h of the daytime policy.
    assert [e.at for e in history if isinstance(e, SlaBreached)] == [berlin(2026, 3, 3, 3, 0)]


def test_the_policy_follows_the_fields_its_condition_reads() -> None:
    desk = _policy_desk(
        berlin(2026, 3, 2, 10, 0), {"field": "priority", "op": "eq", "value": "critical"}
    )
    ticket = desk.open(requester=ADA, subject="Slow laptop")
    assert _policies(ticket) == {"other"}
    raised = desk.set_priority(ticket.id, "critical", by="a1", reason="whole floor")
    assert _policies(raised) == {"first"}
    lowered = desk.set_priority(ticket.id, "medium", by="a1", reason="only one laptop")
    assert _policies(lowered) == {"other"}
    assert _policies(desk.open(requester=ADA, subject="Another", priority="critical")) == {"first"}
    assert _policies(desk.open(requester=ADA, subject="And another")) == {"other"}


def test_a_command_after_a_due_instant_records_what_was_due_first() -> None:
    desk = _policy_desk(
        berlin(2026, 3, 2, 10, 0), {"field": "priority", "op": "eq", "value": "critical"}
    )
    ticket = desk.open(requester=ADA, subject="Server down", priority="critical")
    deadline = ticket.sla["first_response"].deadline
    desk.clock.advance(hours=2)  # type: ignore[attr-defined]
    desk.reply(ticket.id, author="a1", body="Looking now")
    kinds = [(type(e).__name__, e.at) for e in desk.history(ticket.id)]
    breached = [at for kind, at in kinds if kind == "SlaBreached"]
    assert breached == [deadline]
    assert kinds.index(("SlaBreached", deadline)) < [k for k, _ in kinds].index("CommentAdded")


def test_a_policy_that_reads_the_requester_still_applies_after_a_later_command() -> None:
    # A command loads the requester only when an SLA policy reads it; this one does, so
    # re-choosing the policy on a priority change must see that Ada is a VIP.
    always = {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}
    targets = {p: {"first_response": "8h"} for p in ("low", "medium", "high", "critical")}
    config = DeskConfig.from_dict({
        "calendars": {"always": always},
        "tiers": [{"id": "L1", "teams": ["desk"]}],
        "teams": [{"id": "desk"}],
        "agents": [{"id": "a1", "tier": "L1", "teams": ["desk"]}],
        "sla_policies": [
            {
                "name": "vip",
                "calendar": "always",
                "when": {"field": "requester.vip", "op": "eq", "value": True},
                "targets": {
                    "medium": {"first_response": "2h"},
                    "high": {"first_response": "1h"},
                },
            },
            {"name": "std", "calendar": "always", "targets": targets},
        ],
    })
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    desk = Helpdesk(config=config, store=MemoryStore(), clock=ManualClock(start),
                    ids=SequentialIds())
    desk.upsert_requester(Requester(id="ada", name="Ada", vip=True))
    desk.upsert_requester(Requester(id="bob", name="Bob"))
    vip = desk.open(requester="ada", subject="VPN down", urgency="medium", impact="medium")
    plain = desk.open(requester="bob", subject="VPN down", urgency="medium", impact="medium")
    assert vip.sla["first_response"].deadline == start + timedelta(hours=2)
    assert plain.sla["first_response"].deadline == start + timedelta(hours=8)
    vip = desk.set_priority(vip.id, "high", by="a1", reason="outage")
    plain = desk.set_priority(plain.id, "high", by="a1", reason="outage")
    assert vip.sla["first_response"].deadline == start + timedelta(hours=1)
    assert plain.sla["first_response"].deadline == start + timedelta(hours=8)


def _with_triggers(*triggers: dict[str, object]) -> DeskConfig:
    doc = {**DESK, "escalation_policies": [{"name": "watch", "triggers": list(triggers)}]}
    return DeskConfig.from_dict(doc)


def test_a_command_fires_the_escalations_it_makes_true_at_once() -> None:
    """Raising the priority or reopening makes a trigger true at that instant: it fires
    in the same command, not whenever something else wakes the ticket."""
    config = _with_triggers(
        {"name": "urgent", "on": "priority", "priorities": ["critical"],
         "actions": [{"action": "escalate_tier"}]},
        {"name": "bounced", "on": "reopens", "count": 1, "actions": [{"action": "raise_level"}]},
    )
    start = berlin(2026, 3, 2, 10, 0)
    desk = make_desk(MemoryStore(), start, config)
    ticket = desk.open(requester=ADA, subject="Printer")
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(hours=1))
    raised = desk.set_priority(ticket.id, "critical", by="alice")
    assert raised.tier == "L2"
    fired = [e for e in desk.history(ticket.id) if type(e).__name__ == "EscalationTriggered"]
    assert [e.at for e in fired] == [start + timedelta(hours=1)]
    clock.advance(timedelta(hours=1))
    desk.solve(ticket.id, by="bob", resolution="ok", first_contact=True)
    clock.advance(timedelta(hours=1))
    reopened = desk.reopen(ticket.id, by="ada", reason="again")
    assert reopened.escalation_level == 1
    assert "watch/bounced/reopens/1" in reopened.fired_triggers


def test_a_ticket_an_escalation_moves_as_it_opens_is_assigned_in_its_new_tier() -> None:
    """A trigger the opening makes true (a critical ticket, a priority trigger) fires in
    the opening: the ticket goes on to an agent of the tier it climbed to, as after any
    other command, not into that tier with nobody and in no queue."""
    config = _with_triggers(
        {"name": "urgent", "on": "priority", "priorities": ["critical"],
         "actions": [{"action": "escalate_tier"}]},
    )
    desk = make_desk(MemoryStore(), berlin(2026, 3, 2, 10, 0), config)
    ticket = desk.open(requester=ADA, subject="Printer on fire", priority="critical")
    assert (ticket.tier, ticket.team, ticket.assignee) == ("L2", "network", "bob")
    assert desk.get(ticket.id).assignee == "bob"


def test_a_policy_added_later_fires_at_the_latest_event_never_before() -> None:
    """A restarted desk with a new time-in-tier policy finds tickets long past it: the
    escalation is stamped at the ticket's latest event, so the history stays in order."""
    store = MemoryStore()
    start = berlin(2026, 3, 2, 10, 0)
    before = make_desk(store, start)
    ticket = before.open(requester=ADA, subject="Printer")
    assert isinstance(before.clock, ManualClock)
    before.clock.advance(timedelta(hours=5))
    before.reply(ticket.id, author="alice", body="Looking")
    config = _with_triggers(
        {"name": "stuck", "on": "time_in_tier", "after": "1h",
         "actions": [{"action": "escalate_tier"}]},
    )
    after = make_desk(store, start + timedelta(hours=6), config)
    moved = after.reply(ticket.id, author="alice", body="Still looking")
    assert moved.tier == "L2"
    instants = [e.at for e in after.history(ticket.id)]
    assert instants == sorted(instants)
    escalated = [e for e in after.history(ticket.id) if type(e).__name__ == "Escalated"]
    assert [e.at for e in escalated] == [start + timedelta(hours=5)]


def test_a_unit_of_work_publishes_only_what_it_kept() -> None:
    desk = Helpdesk(store=MemoryStore(), clock=ManualClock(berlin(2026, 3, 2, 10, 0)))
    heard: list[Event] = []
    desk.subscribe(heard.append)
    with desk.unit_of_work():
        kept = desk.open(requester=ADA, subject="kept")
        late: list[Event] = []
        desk.subscribe(late.append)  # a subscriber of the block hears what it kept
        try:
            with desk.unit_of_work():
                dropped = desk.open(requester=ADA, subject="rolled back")
                raise RuntimeError("the inner block fails")
        except RuntimeError:
            pass
        assert heard == []  # nothing before the outermost block ends
    assert {e.ticket_id for e in heard} == {kept.id} == {e.ticket_id for e in late}
    with pytest.raises(NotFound):
        desk.get(dropped.id)


def test_a_rolled_back_unit_of_work_leaves_no_wake_time_behind(tmp_path: Path) -> None:
    """Two desks share one database. Desk A replies inside a unit of work that rolls
    back; desk B then writes the same version numbers without a reply. When A replies on
    B's version after the first-response deadline, the breach is recorded first, at the
    deadline: A does not trust what it remembered of its own rolled-back version."""
    config = DeskConfig.from_dict(
        {
            "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
            "agents": [{"id": "alice", "teams": ["service-desk"]}],
            "sla_policies": [
                {
                    "name": "std",
                    "calendar": "always",
                    "targets": {"medium": {"first_response": "30m", "resolution": "4h"}},
                }
            ],
        }
    )
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    clock = ManualClock(start)
    path = tmp_path / "desk.sqlite"
    a = Helpdesk(config=config, store=SqliteStore(path), clock=clock)
    b = Helpdesk(config=config, store=SqliteStore(path), clock=clock)
    ticket = a.open(requester=ADA, subject="VPN drops")
    with pytest.raises(RuntimeError), a.unit_of_work():
        a.reply(ticket.id, author="alice", body="On it")  # 3 events, remembered by A
        raise RuntimeError("the mail gateway failed")
    for tag in ("a", "b", "c"):  # B writes the same three version numbers
        b.update(ticket.id, by="alice", tags=[tag])
    clock.advance(timedelta(hours=2))
    a.reply(ticket.id, author="alice", body="Fixed?")
    names = [type(e).__name__ for e in a.history(ticket.id)[ticket.version + 3 :]]
    assert names[:3] == ["SlaWarning", "SlaBreached", "CommentAdded"]


def test_round_robin_takes_turns_per_tier_in_a_team_of_two_tiers() -> None:
    """A team with L1 agents (ann, bob) and L2 agents (cy, dan); a rule sends hard tickets
    to L2. Each tier's agents take turns: one tier's tickets do not move the other's."""
    config = DeskConfig.from_dict(
        {
            "tiers": [{"id": "L1", "teams": ["desk"]}, {"id": "L2", "teams": ["spec"]}],
            "teams": [{"id": "desk"}, {"id": "spec"}],
            "agents": [
                {"id": name, "teams": ["desk"], "tier": tier, "capacity": 100}
                for name, tier in (("ann", "L1"), ("bob", "L1"), ("cy", "L2"), ("dan", "L2"))
            ],
            "routing": [
                {
                    "name": "hard",
                    "when": {"field": "subject", "op": "contains", "value": "hard"},
                    "actions": {"tier": "L2", "team": "desk"},
                }
            ],
            "assignment": {"strategy": "round_robin"},
        }
    )
    desk = Helpdesk(config, MemoryStore(), ManualClock(berlin(2026, 3, 2, 10, 0)))
    easy, hard = [], []
    for i in range(4):
        easy.append(desk.open(requester=ADA, subject=f"easy {i}").assignee)
        hard.append(desk.open(requester=ADA, subject=f"hard {i}").assignee)
    assert easy == ["ann", "bob", "ann", "bob"]
    assert hard == ["cy", "dan", "cy", "dan"]


def test_a_caused_by_chain_may_not_close_into_a_cycle() -> None:
    desk = make_desk(MemoryStore(), berlin(2026, 3, 2, 10, 0))
    a, b, c = (desk.open(requester=ADA, subject=s, type="problem") for s in "abc")
    desk.link(a.id, kind="caused_by", other=b.id, by="alice")
    desk.link(b.id, kind="caused_by", other=c.id, by="alice")
    with pytest.raises(ValidationError, match="cycle"):
        desk.link(c.id, kind="caused_by", other=a.id, by="alice")


def test_escalation_conditions_may_read_the_requester() -> None:
    config = _with_triggers(
        {"name": "vip", "on": "priority", "priorities": ["critical"],
         "when": {"field": "requester.vip", "op": "eq", "value": True},
         "actions": [{"action": "escalate_tier"}]},
    )
    desk = make_desk(MemoryStore(), berlin(2026, 3, 2, 10, 0), config)
    vip = desk.open(requester=Requester(id="vip", name="V", vip=True), subject="Down")
    plain = desk.open(requester=ADA, subject="Down")
    assert desk.set_priority(vip.id, "critical", by="alice").tier == "L2"
    assert desk.set_priority(plain.id, "critical", by="alice").tier == "L1"


def test_a_trigger_whose_condition_fails_does_not_keep_the_desk_awake() -> None:
    """Escalated to L2, the ticket passes the L1-only trigger's instant again: nothing
    fires, and the desk's next wake-up must not stay at that past instant (a loop that
    sleeps until ``next_wakeup()`` would spin there)."""
    config = _with_triggers(
        {"name": "stuck", "on": "time_in_tier", "after": "1h",
         "when": {"field": "tier", "op": "eq", "value": "L1"},
         "actions": [{"action": "escalate_tier"}]},
    )
    start = berlin(2026, 3, 2, 10, 0)
    desk = make_desk(MemoryStore(), start, config)
    ticket = desk.open(requester=ADA, subject="Printer")
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    assert desk.next_wakeup(queues=False) == start + timedelta(hours=1)
    clock.advance(timedelta(hours=3))
    desk.tick()
    assert desk.get(ticket.id).tier == "L2"
    wake = desk.next_wakeup(queues=False)
    assert wake is None or wake > clock.now()


def test_a_command_is_allowed_by_the_ticket_brought_up_to_date() -> None:
    """The first-response warning (13:00) escalates the VPN ticket into bob's team. At
    14:00 nobody has ticked: bob's reply is checked against the ticket as it stands by
    then, in his team, as it would be had the desk ticked at 13:00."""
    desk = make_desk(MemoryStore(), berlin(2026, 3, 2, 10, 0))
    ticket = desk.open(requester=ADA, subject="vpn down")
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(hours=4))
    replied = desk.reply(ticket.id, author="bob", body="Looking at the tunnel")
    assert (replied.team, replied.public_replies) == ("network", 1)
    escalated = [e for e in desk.history(ticket.id) if type(e).__name__ == "Escalated"]
    assert [e.at for e in escalated] == [berlin(2026, 3, 2, 13, 0)]


def test_a_tick_with_nothing_to_record_does_not_leave_the_ticket_due() -> None:
    """The trigger's condition reads the requester, who is no VIP any more when its
    instant comes: nothing fires, and the ticket, which no change of its own schedules
    again, must not stay due at that past instant (``next_wakeup()`` would stay there, and
    every tick would take the ticket up again)."""
    config = _with_triggers(
        {"name": "vip-stuck", "on": "time_in_tier", "after": "1h",
         "when": {"field": "requester.vip", "op": "eq", "value": True},
         "actions": [{"action": "escalate_tier"}]},
    )
    start = berlin(2026, 3, 2, 10, 0)
    desk = make_desk(MemoryStore(), start, config)
    vip = Requester(id="vip", name="V", vip=True)
    ticket = desk.open(requester=vip, subject="Printer")
    assert desk.next_wakeup(queues=False) == start + timedelta(hours=1)
    desk.upsert_requester(evolve(vip, vip=False))
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(minutes=90))
    assert desk.tick() == []
    assert desk.get(ticket.id).tier == "L1"
    # Next: the first-response warning, at three of its four office hours.
    assert desk.next_wakeup(queues=False) == start + timedelta(hours=3)
    assert desk.store.due(clock.now()) == []


def _vip_trigger_config() -> DeskConfig:
    return _with_triggers(
        {"name": "vip-stuck", "on": "time_in_tier", "after": "1h",
         "when": {"field": "requester.vip", "op": "eq", "value": True},
         "actions": [{"action": "escalate_tier"}]},
    )


def test_a_requester_made_a_vip_is_escalated_by_the_tick_at_the_triggers_instant(
    make_store: Callable[[], Store],
) -> None:
    """Ann becomes a VIP after her ticket was opened: the VIP trigger now holds, and a
    tick after its instant fires it (no command on the ticket needed), as a desk on the
    same store that never saw the ticket schedules it."""
    start = berlin(2026, 3, 2, 10, 0)
    store = make_store()
    desk = make_desk(store, start, _vip_trigger_config())
    ann = Requester(id="ann", name="Ann")
    ticket = desk.open(requester=ann, subject="Printer")
    assert desk.next_wakeup(queues=False) == start + timedelta(hours=3)  # the SLA warning
    desk.upsert_requester(evolve(ann, vip=True))
    assert desk.next_wakeup(queues=False) == start + timedelta(hours=1)
    other = make_desk(store, start, _vip_trigger_config())
    assert other.next_wakeup(queues=False) == start + timedelta(hours=1)
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(minutes=90))
    desk.tick()
    escalated = [e for e in desk.history(ticket.id) if isinstance(e, Escalated)]
    assert [e.at for e in escalated] == [start + timedelta(hours=1)]
    assert desk.get(ticket.id).tier == "L2"


def test_a_requester_no_longer_a_vip_leaves_the_next_wakeup_to_other_tickets(
    make_store: Callable[[], Store],
) -> None:
    """Vic's ticket waited for the VIP trigger at 11:00; Vic is no VIP any more. Another
    desk on the store (a worker process) must wake at Ben's first-response warning
    (11:30), not at Vic's next instant (13:00), an hour and a half after it."""
    start = berlin(2026, 3, 2, 10, 0)
    store = make_store()
    desk = make_desk(store, start, _vip_trigger_config())
    vic = Requester(id="vic", name="Vic", vip=True)
    desk.open(requester=vic, subject="Printer")
    desk.open(requester=Requester(id="ben", name="Ben"), subject="Printer", impact="high")
    desk.upsert_requester(evolve(vic, vip=False))
    other = make_desk(store, start, _vip_trigger_config())
    assert other.next_wakeup(queues=False) == start + timedelta(minutes=90)
    assert desk.next_wakeup(queues=False) == start + timedelta(minutes=90)


def test_an_erased_requesters_open_ticket_does_not_keep_the_desk_awake(
    make_store: Callable[[], Store],
) -> None:
    """Ann is erased while her ticket is open: its requester has no record any more, so
    the VIP trigger cannot fire (its fields are missing, as a tick finds them). The
    ticket must not be scheduled at the trigger's instant, where every tick would take
    it up and record nothing, and ``next_wakeup()`` would stay in the past."""
    start = berlin(2026, 3, 2, 10, 0)
    desk = make_desk(make_store(), start, _vip_trigger_config())
    ticket = desk.open(requester=Requester(id="ann", name="Ann"), subject="Printer")
    desk.erase_requester("ann", by="system:privacy")
    # Next: the first-response warning, at three of its four office hours.
    assert desk.next_wakeup(queues=False) == start + timedelta(hours=3)
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(minutes=90))
    assert desk.tick() == []
    assert desk.get(ticket.id).tier == "L1"
    assert desk.next_wakeup(queues=False) == start + timedelta(hours=3)
    assert desk.store.due(clock.now()) == []


def test_a_queued_ticket_no_free_agent_can_take_does_not_hold_up_the_queue() -> None:
    config = DeskConfig.from_dict({
        "tiers": [{"id": "L1", "teams": ["desk"]}],
        "teams": [{"id": "desk"}],
        "agents": [{"id": "a", "teams": ["desk"], "capacity": 1}],
        "categories": {"db": {"skills": ["sql"]}},
        "assignment": {"strategy": "round_robin", "queue_order": "oldest"},
    })  # fmt: skip
    clock = ManualClock(datetime(2026, 5, 4, 10, tzinfo=UTC))
    desk = Helpdesk(config=config, store=MemoryStore(), clock=clock)
    first = desk.open(requester=Requester(id="r"), subject="one")  # a takes it: 1 of 1
    clock.advance(minutes=1)
    needs_sql = desk.open(requester=Requester(id="r"), subject="db down", category="db")
    second_sql = desk.open(requester=Requester(id="r"), subject="db slow", category="db")
    plain = desk.open(requester=Requester(id="r"), subject="printer")
    assert first.assignee == "a"
    assert needs_sql.assignee is None and second_sql.assignee is None and plain.assignee is None
    clock.advance(minutes=1)
    desk.solve(first.id, by="a", resolution="done", first_contact=True)  # nobody has "sql"
    assert desk.get(plain.id).assignee == "a"
    assert desk.get(needs_sql.id).queued_at is not None
    assert desk.get(second_sql.id).queued_at is not None


class _RescheduleCounting(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.rescheduled = 0

    def reschedule(self, ticket_id: str, *, expected_version: int, wake_at: Any) -> bool:
        self.rescheduled += 1
        return super().reschedule(ticket_id, expected_version=expected_version, wake_at=wake_at)


def test_a_new_escalation_trigger_reaches_the_tickets_by_tick() -> None:
    base: dict[str, Any] = {
        "tiers": [{"id": "L1", "teams": ["desk"]}, {"id": "L2", "teams": ["net"]}],
        "teams": [{"id": "desk"}, {"id": "net"}],
        "agents": [{"id": "ann", "teams": ["desk"]}],
        "assignment": {"auto_assign": False},
    }
    store = _RescheduleCounting()
    clock = ManualClock(datetime(2026, 5, 4, 10, tzinfo=UTC))
    desk = Helpdesk(config=DeskConfig.from_dict(base), store=store, clock=clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="x")
    assert desk.next_wakeup() is None
    # An agent going away changes no rule of time: nothing is rescheduled.
    desk.reconfigure(desk.config.replace(agents=(evolve(desk.config.agent("ann"), away=True),)))
    assert store.rescheduled == 0
    trigger = {"name": "stuck", "on": "time_in_tier", "after": "1h",
               "actions": [{"action": "escalate_tier"}]}  # fmt: skip
    policies = [{"name": "e", "triggers": [trigger]}]
    desk.reconfigure(DeskConfig.from_dict({**base, "escalation_policies": policies}))
    assert store.rescheduled == 1
    assert desk.next_wakeup() == datetime(2026, 5, 4, 11, tzinfo=UTC)
    clock.set(datetime(2026, 5, 4, 13, tzinfo=UTC))
    escalated = [e for e in desk.tick() if type(e).__name__ == "Escalated"]
    assert [e.at for e in escalated] == [datetime(2026, 5, 4, 11, tzinfo=UTC)]
    assert desk.get(ticket.id).tier == "L2"


class _PoisonedStore(MemoryStore):
    """A store whose one ticket cannot be read back (a corrupt row, say)."""

    poisoned = ""

    def load(self, ticket_id: str) -> Ticket:
        if ticket_id == self.poisoned:
            raise StorageError(f"ticket {ticket_id!r}: the stored snapshot cannot be read")
        return super().load(ticket_id)


def test_a_ticket_a_tick_cannot_read_does_not_hold_up_the_others() -> None:
    store = _PoisonedStore()
    config = DeskConfig.from_dict({
        "tiers": [{"id": "L1", "teams": ["desk"]}], "teams": [{"id": "desk"}],
        "agents": [{"id": "ann", "teams": ["desk"]}],
        "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
        "sla_policies": [{"name": "std", "calendar": "always",
                          "targets": {"medium": {"first_response": "1h"}}}],
        "assignment": {"auto_assign": False},
    })  # fmt: skip
    clock = ManualClock(datetime(2026, 5, 4, 10, tzinfo=UTC))
    desk = Helpdesk(config=config, store=store, clock=clock)
    first = desk.open(requester=Requester(id="r"), subject="first")  # due first
    clock.advance(minutes=1)
    second = desk.open(requester=Requester(id="r"), subject="second")
    store.poisoned = first.id
    clock.advance(hours=2)
    with pytest.raises(TickError) as caught:
        desk.tick()
    assert list(caught.value.failures) == [first.id]
    assert isinstance(caught.value.__cause__, StorageError)
    breached = [e for e in caught.value.recorded if type(e).__name__ == "SlaBreached"]
    assert [e.ticket_id for e in breached] == [second.id]
    assert "SlaBreached" in {type(e).__name__ for e in desk.history(second.id)}


def test_a_queued_ticket_a_tick_cannot_assign_does_not_hold_up_other_queues() -> None:
    """Its retries run out (another process keeps changing it): the tick offers the other
    teams' queues, then raises TickError naming it, not the bare ConflictError."""
    doc = {
        "tiers": [{"id": "L1", "teams": ["a", "b"]}], "teams": [{"id": "a"}, {"id": "b"}],
        "agents": [{"id": "ann", "teams": ["a"], "away": True},
                   {"id": "bob", "teams": ["b"], "away": True}],
        "routing": [{"name": "to b", "when": {"field": "subject", "op": "contains",
                                              "value": "b"},
                     "actions": {"team": "b"}}],
    }  # fmt: skip
    clock = ManualClock(datetime(2026, 5, 4, 10, tzinfo=UTC))
    desk = Helpdesk(config=DeskConfig.from_dict(doc), store=MemoryStore(), clock=clock)
    stuck = desk.open(requester=Requester(id="r"), subject="for a")
    other = desk.open(requester=Requester(id="r"), subject="for b")
    assert (stuck.team, other.team) == ("a", "b")
    assert stuck.queued_at is not None and other.queued_at is not None
    agents = tuple(evolve(a, away=False) for a in desk.config.agents)
    desk.reconfigure(desk.config.replace(agents=agents))
    real = desk.store.append

    def conflict_on_stuck(ticket_id, *, expected_version, **kw):  # type: ignore[no-untyped-def]
        if ticket_id == stuck.id:
            raise ConflictError(ticket_id, expected=expected_version, actual=expected_version + 1)
        return real(ticket_id, expected_version=expected_version, **kw)

    desk.store.append = conflict_on_stuck  # type: ignore[method-assign]
    clock.advance(minutes=1)
    with pytest.raises(TickError) as caught:
        desk.tick()
    assert list(caught.value.failures) == [stuck.id]
    assert isinstance(caught.value.__cause__, ConflictError)
    assert desk.get(other.id).assignee == "bob"
    assert other.id in {e.ticket_id for e in caught.value.recorded}
    desk.store.append = real  # type: ignore[method-assign]
    desk.tick()
    assert desk.get(stuck.id).assignee == "ann"


def _policy_doc(policy: str, calendar: str = "office") -> dict[str, Any]:
    return {
        "calendars": {calendar: {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
        "agents": [{"id": "ann", "teams": ["service-desk"], "role": "admin"}],
        "sla_policies": [{"name": policy, "calendar": calendar, "targets": {
            "medium": {"first_response": "1h", "resolution": "1d"}}}],
    }  # fmt: skip


def test_a_retired_sla_policy_hands_its_clocks_to_the_one_that_applies_now() -> None:
    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    store = MemoryStore()
    old = Helpdesk(DeskConfig.from_dict(_policy_doc("standard")), store, clock)
    ticket = old.open(requester=Requester(id="ada"), subject="VPN down")
    clock.advance(minutes=30)
    # A worker started with the renamed policy: the old ticket still works.
    desk = Helpdesk(DeskConfig.from_dict(_policy_doc("standard-2026")), store, clock)
    fresh = desk.open(requester=Requester(id="bo"), subject="printer")
    clock.advance(hours=2)
    desk.tick()  # breaches of both are recorded; nothing fails
    assert desk.get(fresh.id).sla["first_response"].breached_at is not None
    assert desk.get(ticket.id).sla["first_response"].breached_at is not None
    desk.reply(ticket.id, author="ann", body="on it")
    resolution = desk.get(ticket.id).sla["resolution"]
    assert resolution.policy == "standard-2026"
    assert resolution.used == timedelta(hours=2, minutes=30)  # the time it had used


def test_a_retired_sla_policy_a_rule_named_hands_its_clocks_on_too() -> None:
    def doc(*policies: str) -> dict[str, Any]:
        targets = {"medium": {"first_response": "1h", "resolution": "1d"}}
        vip = {"name": "vip", "when": {"field": "subject", "op": "contains", "value": "vip"},
               "actions": {"sla_policy": "vip"}}  # fmt: skip
        return {
            **_policy_doc("standard"),
            "sla_policies": [
                {"name": name, "calendar": "office", "targets": targets} for name in policies
            ],
            "routing": [vip] if "vip" in policies else [],
        }

    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    desk = Helpdesk(DeskConfig.from_dict(doc("vip", "standard")), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="vip: VPN down")
    assert ticket.sla_policy == "vip"
    clock.advance(minutes=30)
    desk.reconfigure(DeskConfig.from_dict(doc("standard")))
    desk.reply(ticket.id, author="ann", body="on it")  # before: NotFound sla policy 'vip'
    desk.set_priority(ticket.id, "medium", by="ann", reason="checked")
    resolution = desk.get(ticket.id).sla["resolution"]
    assert resolution.policy == "standard"
    assert resolution.used == timedelta(minutes=30)
    desk.solve(ticket.id, by="ann", resolution="fixed")


@pytest.mark.parametrize(
    "policy",
    [
        {"name": "standard", "warnings": [0.5]},  # the 0.75 warning is gone
        {"name": "standard-2026", "warnings": [0.5, 0.75]},  # the policy is retired
    ],
    ids=["fewer-warnings", "retired"],
)
def test_a_warning_the_policy_no_longer_has_is_disarmed_and_not_waited_for(
    policy: dict[str, Any],
) -> None:
    def doc(name: str, warnings: list[float]) -> dict[str, Any]:
        base = _policy_doc(name)
        base["sla_policies"][0]["warnings"] = warnings
        return base

    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    clock = ManualClock(start)
    desk = Helpdesk(DeskConfig.from_dict(doc("standard", [0.5, 0.75])), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    desk.reply(ticket.id, author="ann", body="on it")
    clock.advance(hours=13)
    assert [type(e).__name__ for e in desk.tick()] == ["SlaWarning"]  # half of the day
    desk.reconfigure(DeskConfig.from_dict(doc(policy["name"], policy["warnings"])))
    # Due at once: the clock shows a warning instant (18:00) nothing will be recorded at.
    assert desk.next_wakeup(queues=False) == start
    disarmed = desk.tick()
    assert [(type(e).__name__, e.at - start) for e in disarmed] == [
        ("SlaTargetChanged", timedelta(hours=13))
    ]
    assert disarmed[0].reason == (  # type: ignore[attr-defined]
        "SLA policy 'standard': warning thresholds 0.5"
        if policy["name"] == "standard"
        else "SLA policy 'standard' is not configured any more: it warns no more"
    )
    resolution = desk.get(ticket.id).sla["resolution"]
    assert (resolution.warn_at, resolution.warned_threshold) == (None, 0.5)
    assert desk.sla(ticket.id)["resolution"].warn_at is None
    deadline = start + timedelta(days=1)
    assert desk.next_wakeup(queues=False) == deadline
    clock.advance(hours=6)  # past where the 0.75 warning was due
    assert desk.tick() == []
    assert desk.next_wakeup(queues=False) == deadline


def _warnings_doc(warnings: list[float]) -> dict[str, Any]:
    base = _policy_doc("standard")
    base["sla_policies"][0]["warnings"] = warnings
    return base


def _warnings_recorded(events: list[Event], start: datetime) -> list[tuple[timedelta, float]]:
    return [(e.at - start, e.threshold) for e in events if isinstance(e, SlaWarning)]


def test_a_lowered_warning_threshold_the_clock_has_passed_is_recorded_at_the_next_tick() -> None:
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    clock = ManualClock(start)
    desk = Helpdesk(DeskConfig.from_dict(_warnings_doc([0.75])), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    desk.reply(ticket.id, author="ann", body="on it")
    clock.advance(hours=14)  # past half of the day, not yet three quarters
    assert desk.tick() == []
    desk.reconfigure(DeskConfig.from_dict(_warnings_doc([0.5])))
    assert desk.next_wakeup(queues=False) == start  # due at once
    recorded = desk.tick()
    assert [type(e).__name__ for e in recorded] == ["SlaTargetChanged", "SlaWarning"]
    # Recorded when the desk learns of it, as a retarget records the thresholds it
    # puts behind the time used; not at 18:00 as the old threshold had it.
    assert _warnings_recorded(recorded, start) == [(timedelta(hours=14), 0.5)]
    assert "warning thresholds" in recorded[0].reason  # type: ignore[attr-defined]
    resolution = desk.get(ticket.id).sla["resolution"]
    assert (resolution.warnings_sent, resolution.warn_at) == (1, None)
    assert desk.next_wakeup(queues=False) == start + timedelta(days=1)  # the deadline
    clock.advance(hours=5)  # past where the 0.75 warning was due
    assert desk.tick() == []


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        # Lowered ahead of the clock: recorded at the new threshold's own instant.
        ([0.75], [0.5], [(timedelta(hours=12), 0.5)]),
        # Raised: not at the old instant (18:00) but at the new one.
        ([0.75], [0.9], [(timedelta(hours=21, minutes=36), 0.9)]),
        # 0.25 was recorded; 0.4 takes its place in the list but is another threshold,
        # above it: recorded at its own instant, and so is 0.9.
        (
            [0.25, 0.75],
            [0.4, 0.9],
            [
                (timedelta(hours=6), 0.25),
                (timedelta(hours=9, minutes=36), 0.4),
                (timedelta(hours=21, minutes=36), 0.9),
            ],
        ),
        # A threshold gained after the clock recorded the last one it had.
        ([0.25], [0.25, 0.9], [(timedelta(hours=6), 0.25), (timedelta(hours=21, minutes=36), 0.9)]),
    ],
    ids=["lowered", "raised", "one-already-recorded", "gained"],
)
def test_a_changed_warning_threshold_applies_to_running_clocks(
    before: list[float], after: list[float], expected: list[tuple[timedelta, float]]
) -> None:
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    clock = ManualClock(start)
    desk = Helpdesk(DeskConfig.from_dict(_warnings_doc(before)), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    desk.reply(ticket.id, author="ann", body="on it")
    recorded: list[Event] = []
    clock.advance(hours=8)
    recorded += desk.tick()
    desk.reconfigure(DeskConfig.from_dict(_warnings_doc(after)))
    # A scheduler that ticks whenever the desk says it has work.
    while (wake := desk.next_wakeup(queues=False)) is not None:
        clock.set(max(wake, clock.now()))
        recorded += desk.tick()
    assert _warnings_recorded(recorded, start) == expected
    assert [e.at - start for e in recorded if isinstance(e, SlaBreached)] == [timedelta(days=1)]
    history = desk.history(ticket.id)
    assert _warnings_recorded(history, start) == expected


def _office_doc(**resolution: str) -> dict[str, Any]:
    """Weekdays 09:00-17:00 in Berlin; medium tickets resolved within ``resolution``."""
    return {
        "calendars": {"office": {"timezone": "Europe/Berlin", "hours": {"mon-fri": "09:00-17:00"}}},
        "agents": [{"id": "ann", "teams": ["service-desk"], "role": "admin"}],
        "sla_policies": [{"name": "standard", "calendar": "office", "targets": {
            "medium": {"resolution": resolution.get("medium", "8h")}}}],
    }  # fmt: skip


def test_a_holiday_added_by_reconfigure_moves_running_deadlines() -> None:
    clock = ManualClock(berlin(2026, 3, 9, 13, 0))  # a Monday
    desk = Helpdesk(DeskConfig.from_dict(_office_doc()), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    untouched = desk.open(requester=Requester(id="bo"), subject="printer")
    assert ticket.sla["resolution"].deadline == berlin(2026, 3, 10, 13, 0)
    clock.set(berlin(2026, 3, 9, 14, 0))
    doc = _office_doc()
    doc["calendars"]["office"]["holidays"] = ["2026-03-10"]  # Tuesday closed
    desk.reconfigure(DeskConfig.from_dict(doc))
    assert desk.next_wakeup(queues=False) == berlin(2026, 3, 9, 13, 0)  # due at once
    desk.reply(ticket.id, author="ann", body="looking", public=False)
    retargeted = [e for e in desk.history(ticket.id) if isinstance(e, SlaTargetChanged)]
    assert [(e.at, e.reason) for e in retargeted] == [
        (berlin(2026, 3, 9, 14, 0), "SLA policy 'standard': calendar 'office' changed")
    ]
    clock.set(berlin(2026, 3, 10, 14, 0))
    recorded = desk.tick()
    # Nothing falls due on the holiday: the untouched ticket was retargeted by the tick,
    # no later than its warning armed on the old hours (Tuesday 11:00).
    assert [(type(e).__name__, e.ticket_id, e.at) for e in recorded] == [
        ("SlaTargetChanged", untouched.id, berlin(2026, 3, 10, 11, 0))
    ]
    for ticket_id in (ticket.id, untouched.id):
        resolution = desk.get(ticket_id).sla["resolution"]
        assert resolution.deadline == berlin(2026, 3, 11, 13, 0)
        view = desk.sla(ticket_id)["resolution"]
        assert (view.state.value, view.remaining) == ("running", timedelta(hours=4))


def test_a_target_changed_by_reconfigure_applies_at_the_next_tick() -> None:
    start = berlin(2026, 3, 9, 9, 0)
    clock = ManualClock(start)
    desk = Helpdesk(DeskConfig.from_dict(_office_doc()), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    clock.set(berlin(2026, 3, 9, 10, 0))
    desk.reconfigure(DeskConfig.from_dict(_office_doc(medium="40h")))
    assert desk.next_wakeup(queues=False) == start  # due at once
    clock.set(berlin(2026, 3, 9, 18, 0))  # past the old deadline (17:00)
    recorded = desk.tick()
    assert [(type(e).__name__, e.at) for e in recorded] == [
        ("SlaTargetChanged", berlin(2026, 3, 9, 15, 0))  # where the old warning was armed
    ]
    assert recorded[0].reason == "SLA policy 'standard': target 8h changed to 1d 16h"  # type: ignore[attr-defined]
    resolution = desk.get(ticket.id).sla["resolution"]
    assert (resolution.target, resolution.breached_at) == (timedelta(hours=40), None)
    assert resolution.deadline == berlin(2026, 3, 13, 17, 0)
    # Shortened again below the time used: breached at the catch-up.
    clock.set(berlin(2026, 3, 10, 10, 0))
    desk.reconfigure(DeskConfig.from_dict(_office_doc(medium="4h")))
    assert [(type(e).__name__, e.at) for e in desk.tick()] == [
        ("SlaTargetChanged", berlin(2026, 3, 10, 10, 0)),
        ("SlaWarning", berlin(2026, 3, 10, 10, 0)),
        ("SlaBreached", berlin(2026, 3, 10, 10, 0)),
    ]


def test_live_figures_read_a_reconfigured_clock_as_the_next_tick_leaves_it() -> None:
    clock = ManualClock(berlin(2026, 3, 9, 9, 0))
    desk = Helpdesk(DeskConfig.from_dict(_office_doc()), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    clock.set(berlin(2026, 3, 9, 10, 0))
    desk.reconfigure(DeskConfig.from_dict(_office_doc(medium="40h")))
    clock.set(berlin(2026, 3, 9, 18, 0))  # past the old deadline (17:00), untouched since
    before = desk.sla(ticket.id)["resolution"]
    later = desk.sla(ticket.id, now=berlin(2026, 3, 10, 9, 0))["resolution"]
    assert [type(e).__name__ for e in desk.tick()] == ["SlaTargetChanged"]
    after = desk.sla(ticket.id)["resolution"]
    assert before == after  # not breached at the old deadline: no tick records that
    assert (after.state.value, after.target, after.breached_at) == (
        "running", timedelta(hours=40), None
    )
    assert later.used == after.used == timedelta(hours=8)
    assert desk.sla(ticket.id, now=berlin(2026, 3, 10, 9, 0))["resolution"] == later


def test_pauses_changed_by_reconfigure_pause_and_resume_running_clocks() -> None:
    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    desk = Helpdesk(DeskConfig.from_dict(_policy_doc("standard")), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    desk.reply(ticket.id, author="ann", body="on it")
    desk.transition(ticket.id, "pend", by="ann")
    assert desk.get(ticket.id).sla["resolution"].state.value == "paused"
    clock.advance(hours=2)
    doc = _policy_doc("standard")
    doc["sla_policies"][0]["pauses"] = {"resolution": []}  # it runs while pending now
    desk.reconfigure(DeskConfig.from_dict(doc))
    assert [type(e).__name__ for e in desk.tick()] == ["SlaClockResumed"]
    clock.advance(hours=3)
    desk.reconfigure(DeskConfig.from_dict(_policy_doc("standard")))
    assert [type(e).__name__ for e in desk.tick()] == ["SlaClockPaused"]
    assert desk.get(ticket.id).sla["resolution"].used == timedelta(hours=3)


def test_dropping_a_calendar_open_clocks_count_on_is_refused() -> None:
    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    desk = Helpdesk(DeskConfig.from_dict(_policy_doc("standard")), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    with pytest.raises(ConfigError, match="calendar 'office'") as caught:
        desk.reconfigure(DeskConfig.from_dict(_policy_doc("standard", calendar="hq")))
    assert caught.value.path == "calendars.office" and ticket.id in caught.value.message
    assert desk.config.calendars.keys() == {"office"}  # unchanged
    desk.reply(ticket.id, author="ann", body="done")
    desk.solve(ticket.id, by="ann", resolution="fixed")
    desk.close(ticket.id, by="ann")
    desk.reconfigure(DeskConfig.from_dict(_policy_doc("standard", calendar="hq")))  # now fine


def test_dropping_a_lifecycle_status_or_tier_open_tickets_stand_on_is_refused() -> None:
    from helpdesk_core.workflow import Lifecycle

    default = Lifecycle.default().to_dict()
    default.pop("name")
    vendor = {**default, "statuses": [*default["statuses"], {"name": "vendor",
                                                              "category": "pending"}],
              "transitions": [*default["transitions"],
                              {"name": "to_vendor", "from": "open", "to": "vendor"},
                              {"name": "from_vendor", "from": "vendor", "to": "open"}]}  # fmt: skip
    base = {
        "tiers": [{"id": "L1", "teams": ["desk"]}, {"id": "L2", "teams": ["experts"]}],
        "teams": [{"id": "desk"}, {"id": "experts"}],
        "agents": [{"id": "ann", "tier": "L1", "teams": ["desk"]},
                   {"id": "max", "tier": "L2", "teams": ["experts"]}],
        "lifecycles": {"change": vendor},
        "ticket_types": {"incident": {"lifecycle": "default"},
                         "change": {"lifecycle": "change"}},
    }  # fmt: skip
    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    desk = Helpdesk(DeskConfig.from_dict(base), MemoryStore(), clock)
    change = desk.open(requester=Requester(id="ada"), subject="New laptop", type="change")
    desk.reply(change.id, author="ann", body="Ordered")
    desk.transition(change.id, "to_vendor", by="ann")
    incident = desk.open(requester=Requester(id="ada"), subject="VPN down")
    desk.escalate(incident.id, by="ann", reason="needs an expert")
    no_vendor = {**base, "lifecycles": {"change": default}}
    no_change = {**base, "lifecycles": {}, "ticket_types": {"incident": {"lifecycle": "default"},
                                                            "change": {"lifecycle": "default"}}}
    no_l2 = {**base, "tiers": [{"id": "L1", "teams": ["desk", "experts"]}],
             "agents": [{"id": "ann", "tier": "L1", "teams": ["desk"]}]}  # fmt: skip
    refusals = [
        (no_vendor, "status 'vendor' of lifecycle 'change'", "lifecycles.change.statuses"),
        (no_change, "lifecycle 'change'", "lifecycles.change"),
        (no_l2, "tier 'L2'", "tiers"),
    ]
    for doc, words, path in refusals:
        with pytest.raises(ConfigError, match=words) as caught:
            desk.reconfigure(DeskConfig.from_dict(doc))
        assert caught.value.path == path
        assert (change.id if "lifecycle" in words else incident.id) in caught.value.message
        assert desk.config.lifecycles.keys() == {"default", "change"}  # unchanged
        assert desk.config.ladder.ids == ("L1", "L2")
    # Once the tickets are out of what goes, it may go.
    desk.transition(change.id, "from_vendor", by="ann")
    desk.reconfigure(DeskConfig.from_dict(no_vendor))
    desk.solve(incident.id, by="max", resolution="Fixed", first_contact=True)
    desk.close(incident.id, by="max")
    desk.reconfigure(DeskConfig.from_dict({**no_l2, "lifecycles": {"change": default}}))


def test_taking_every_way_out_of_a_status_is_refused_before_tickets_are_stuck_in_it() -> None:
    # A configuration that keeps 'vendor' but drops the moves out of it would leave the
    # ticket there for good: no reply, solve, cancel or tick could move it again.
    from helpdesk_core.workflow import Lifecycle

    default = Lifecycle.default().to_dict()
    default.pop("name")
    into = {"name": "to_vendor", "from": "open", "to": "vendor"}
    out = {"name": "from_vendor", "from": "vendor", "to": "open",
           "automatic": "requester_public_reply"}  # fmt: skip

    def doc(*moves: dict[str, Any], cancel_from_any: bool = True) -> dict[str, Any]:
        transitions = [
            t if cancel_from_any or t["name"] != "cancel" else {**t, "from": ["new", "open"]}
            for t in default["transitions"]
        ]
        vendor = {**default,
                  "statuses": [*default["statuses"], {"name": "vendor", "category": "pending"}],
                  "transitions": [*transitions, *moves]}  # fmt: skip
        return {"agents": [{"id": "ann", "teams": ["service-desk"]}],
                "lifecycles": {"default": vendor}}  # fmt: skip

    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    desk = Helpdesk(DeskConfig.from_dict(doc(into, out)), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="New laptop")
    desk.reply(ticket.id, author="ann", body="Ordered")
    desk.transition(ticket.id, "to_vendor", by="ann")
    with pytest.raises(ConfigError, match="'vendor' cannot reach a status of the closed") as caught:
        desk.reconfigure(DeskConfig.from_dict(doc(into, cancel_from_any=False)))
    assert caught.value.path == "lifecycles.default.statuses[7]"
    assert desk.config.lifecycles["default"].allowed("vendor") == ("cancel", "from_vendor")
    # A cancel from any status is a way out: the ticket can still be closed.
    desk.reconfigure(DeskConfig.from_dict(doc(into)))
    assert desk.cancel(ticket.id, by="ann", reason="bought elsewhere").status == "cancelled"


def test_moving_a_status_open_tickets_are_in_to_another_category_is_refused() -> None:
    # The ticket keeps the category it entered the status with: a status moved from
    # on_hold to open would leave its SLA clocks paused until it moves again.
    from helpdesk_core.workflow import Lifecycle

    default = Lifecycle.default().to_dict()
    default.pop("name")

    def doc(category: str) -> dict[str, Any]:
        vendor = {
            **default,
            "statuses": [*default["statuses"], {"name": "vendor", "category": category}],
            "transitions": [
                *default["transitions"],
                {"name": "to_vendor", "from": "open", "to": "vendor"},
                {"name": "from_vendor", "from": "vendor", "to": "open"},
            ],
        }
        return {
            "agents": [{"id": "ann", "teams": ["service-desk"]}],
            "lifecycles": {"default": vendor},
            "sla_policies": [{"name": "std", "calendar": "always",
                              "targets": {"medium": {"resolution": "8h"}}}],
        }  # fmt: skip

    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    desk = Helpdesk(DeskConfig.from_dict(doc("on_hold")), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="New laptop")
    desk.reply(ticket.id, author="ann", body="Ordered")
    desk.transition(ticket.id, "to_vendor", by="ann")
    with pytest.raises(ConfigError, match="status 'vendor' of lifecycle 'default'") as caught:
        desk.reconfigure(DeskConfig.from_dict(doc("open")))
    assert caught.value.path == "lifecycles.default.statuses"
    assert ticket.id in caught.value.message and "on_hold" in caught.value.message
    assert desk.config.lifecycles["default"].category("vendor") == "on_hold"  # unchanged
    desk.transition(ticket.id, "from_vendor", by="ann")
    desk.reconfigure(DeskConfig.from_dict(doc("open")))  # no ticket is in it any more
    desk.transition(ticket.id, "to_vendor", by="ann")
    assert desk.get(ticket.id).status_category == "open"
    assert desk.get(ticket.id).sla["resolution"].state == "running"


def test_dropping_a_team_open_tickets_are_in_is_refused() -> None:
    base: dict[str, Any] = {
        "tiers": [{"id": "L1", "teams": ["desk", "net"]}],
        "teams": [{"id": "desk"}, {"id": "net", "contacts": ["nils"]}],
        "agents": [{"id": "ann", "teams": ["desk"]}, {"id": "nils", "teams": ["net"]}],
    }
    no_net = {**base, "tiers": [{"id": "L1", "teams": ["desk"]}], "teams": [{"id": "desk"}],
              "agents": [{"id": "ann", "teams": ["desk"]}]}  # fmt: skip
    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    desk = Helpdesk(DeskConfig.from_dict(base), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    desk.update(ticket.id, by="ann", team="net")
    with pytest.raises(ConfigError, match="drops team 'net'") as caught:
        desk.reconfigure(DeskConfig.from_dict(no_net))
    assert caught.value.path == "teams" and ticket.id in caught.value.message
    assert desk.config.has_agent("nils")  # unchanged
    desk.raise_level(ticket.id, by="ann", reason="stuck")  # the team's contacts still there
    desk.update(ticket.id, by="ann", team="desk")
    desk.reconfigure(DeskConfig.from_dict(no_net))  # no ticket is in it any more
    assert desk.search(team="desk").total == 1


def test_dropping_an_agent_open_tickets_are_assigned_to_is_refused() -> None:
    base: dict[str, Any] = {
        "agents": [{"id": "ann", "teams": ["service-desk"]},
                   {"id": "bea", "teams": ["service-desk"]}],
        "assignment": {"auto_assign": False},
    }  # fmt: skip
    without_bea = {**base, "agents": [{"id": "ann", "teams": ["service-desk"]}]}
    inactive_bea = {**base, "agents": [{"id": "ann", "teams": ["service-desk"]},
                                       {"id": "bea", "active": False}]}  # fmt: skip
    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    desk = Helpdesk(DeskConfig.from_dict(base), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    desk.assign(ticket.id, "bea", by="ann")
    with pytest.raises(ConfigError, match="drops agent 'bea'") as caught:
        desk.reconfigure(DeskConfig.from_dict(without_bea))
    assert caught.value.path == "agents" and ticket.id in caught.value.message
    assert desk.config.has_agent("bea")  # unchanged
    desk.reconfigure(DeskConfig.from_dict(inactive_bea))  # kept, inactive: allowed
    desk.assign(ticket.id, "ann", by="ann")
    desk.reconfigure(DeskConfig.from_dict(without_bea))  # nothing assigned to bea any more
    assert not desk.config.has_agent("bea")


class _OlderContractStore:
    """A store written to an earlier contract: no reschedule(), releases by id only."""

    def __init__(self) -> None:
        self.inner = MemoryStore()

    def __getattr__(self, name: str) -> Any:
        if name == "reschedule":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def release_outbox(self, consumer: str, ids: Any, *, error: str | None = None) -> None:
        if not all(isinstance(i, str) for i in ids):
            raise ValidationError("ids is text", field="ids")
        self.inner.release_outbox(consumer, ids, error=error)


def test_a_store_of_an_earlier_contract_still_reconfigures_and_delivers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from helpdesk_core.channels.email import EmailChannel, EmailSettings

    store = _OlderContractStore()
    base = _policy_doc("standard")
    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    desk = Helpdesk(DeskConfig.from_dict(base), store, clock)  # type: ignore[arg-type]
    desk.upsert_requester(Requester(id="ada", name="Ada", email="ada@example.org"))
    desk.open(requester="ada", subject="VPN down")
    trigger = {"name": "stuck", "on": "time_in_tier", "after": "1h",
               "actions": [{"action": "escalate_tier"}]}  # fmt: skip
    with caplog.at_level("WARNING", logger="helpdesk_core"):
        desk.reconfigure(DeskConfig.from_dict(
            {**base, "escalation_policies": [{"name": "e", "triggers": [trigger]}]}
        ))  # fmt: skip
    assert desk.config.escalation_policies and "no reschedule()" in caplog.text
    channel = EmailChannel(desk, EmailSettings(address="help@desk.example.com"))

    def refuse(message: Any) -> None:
        raise OSError("SMTP 451 try later")

    report = channel.deliver(refuse)
    assert len(report.released) == 1 and report.errors  # given back by id


def test_a_queue_no_free_agent_can_take_costs_one_load_reading() -> None:
    class Counting(MemoryStore):
        loads = 0

        def agent_loads(self) -> Any:
            Counting.loads += 1
            return super().agent_loads()

    config = DeskConfig.from_dict({
        "tiers": [{"id": "L1", "teams": ["desk"]}], "teams": [{"id": "desk"}],
        "agents": [{"id": "a", "teams": ["desk"], "capacity": 1}],
        "categories": {"db": {"skills": ["sql"]}},
    })  # fmt: skip
    store = Counting()
    clock = ManualClock(datetime(2026, 5, 4, 10, tzinfo=UTC))
    desk = Helpdesk(config=config, store=store, clock=clock)
    first = desk.open(requester=Requester(id="r"), subject="one")
    for n in range(40):
        desk.open(requester=Requester(id="r"), subject=f"db {n}", category="db")
    Counting.loads = 0
    desk.solve(first.id, by="a", resolution="done", first_contact=True)
    assert Counting.loads <= 4  # not one per queued ticket


def _limited_desk(**extra: Any) -> Helpdesk:
    config = DeskConfig.from_dict({
        "tiers": [{"id": "L1", "teams": ["desk"]}], "teams": [{"id": "desk"}],
        "agents": [{"id": "a", "teams": ["desk"]}],
        "limits": {"max_fields": 2},
        **extra,
    })  # fmt: skip
    return Helpdesk(config, MemoryStore(), ManualClock(datetime(2026, 5, 4, 10, tzinfo=UTC)))


def test_routing_may_not_put_a_ticket_over_the_limits() -> None:
    desk = _limited_desk(routing=[{"name": "r", "actions": {"fields": {"source": "web"}}}])
    desk.open(requester=Requester(id="r"), subject="one field", fields={"a": 1})
    with pytest.raises(ValidationError, match=r"'r'.*limits\.max_fields"):
        desk.open(requester=Requester(id="r"), subject="two", fields={"a": 1, "b": 2})
    assert desk.search().total == 1  # nothing stored for the refused one


def test_a_whole_number_field_is_bounded_like_text_on_every_store() -> None:
    desk = _limited_desk()
    with pytest.raises(ValidationError) as caught:
        desk.open(requester=Requester(id="r"), subject="huge", fields={"seats": 10**5000})
    assert caught.value.field == "fields.seats"
    ticket = desk.open(requester=Requester(id="r"), subject="fine", fields={"seats": 10**30})
    assert ticket.number == 1  # the refused one used up no number


def test_a_blank_category_is_refused() -> None:
    desk = _limited_desk()
    for blank in ("", "   "):
        with pytest.raises(ValidationError) as caught:
            desk.open(requester=Requester(id="r"), subject="x", category=blank)
        assert caught.value.field == "category"
    ticket = desk.open(requester=Requester(id="r"), subject="x")
    with pytest.raises(ValidationError):
        desk.update(ticket.id, by="a", category=" ")


def test_an_email_channel_on_a_category_that_refuses_is_refused() -> None:
    from helpdesk_core.channels.email import EmailChannel, EmailSettings

    desk = _limited_desk(categories={"network": {
        "on_missing": "refuse", "questions": [{"name": "site", "required": True}]}})  # fmt: skip
    with pytest.raises(ConfigError, match="every new mail would be refused"):
        EmailChannel(desk, EmailSettings(address="help@desk.example.com", category="network"))


def _intake_desk(**extra: Any) -> Helpdesk:
    config = DeskConfig.from_dict({
        "tiers": [{"id": "L1", "teams": ["desk"]}], "teams": [{"id": "desk"}],
        "agents": [{"id": "a", "teams": ["desk"]}],
        "categories": {"network": {"on_missing": "refuse", "questions": [
            {"name": "seats", "type": "int", "required": True},
            {"name": "site", "type": "choice", "choices": ["home", "office"], "required": True},
        ]}},
        **extra,
    })  # fmt: skip
    return Helpdesk(config, MemoryStore(), ManualClock(datetime(2026, 5, 4, 10, tzinfo=UTC)))


def test_an_update_checks_answers_as_the_opening_does() -> None:
    desk = _intake_desk()
    ticket = desk.open(requester=Requester(id="r"), subject="loose", fields={"seats": "abc"})
    # Moving into the category checks the answers the ticket already has.
    with pytest.raises(ValidationError) as caught:
        desk.update(ticket.id, by="a", category="network")
    assert caught.value.field == "fields.seats"
    moved = desk.update(
        ticket.id, by="a", category="network", fields={"seats": "7", "site": "home"}
    )
    assert moved.fields == {"seats": 7, "site": "home"}
    # A blank answer is no answer: it does not overwrite, and cannot satisfy a refusal.
    assert desk.update(ticket.id, by="a", fields={"seats": " "}).fields["seats"] == 7
    with pytest.raises(ValidationError) as refused:
        desk.update(ticket.id, by="a", fields={"site": "Mars"})
    assert refused.value.field == "fields.site"


def test_an_update_records_only_what_it_changes() -> None:
    desk = _intake_desk()
    ticket = desk.open(requester=Requester(id="r"), subject="vpn", category="network",
                       tags=["b", "a"], fields={"seats": "7", "site": "home", "n": 1})  # fmt: skip
    before = desk.history(ticket.id)
    # A form saved again with every value the ticket has changes nothing: no event.
    form = {"subject": "vpn", "category": "network", "tags": ["a", "b"], "impact": ticket.impact}
    same = desk.update(ticket.id, by="a", **form, fields={"seats": "7", "site": "home", "n": 1})
    assert same == desk.get(ticket.id)
    assert desk.history(ticket.id) == before
    # Only the values that differ are recorded; an answer of another type is a change.
    desk.update(ticket.id, by="a", subject="vpn", tags=["a", "c"], fields={"seats": 7, "n": True})
    (updated,) = desk.history(ticket.id)[len(before):]
    assert updated.changes.as_dict() == {"tags": ("a", "c"), "fields": {"n": True}}
    assert desk.get(ticket.id).fields == {"seats": 7, "site": "home", "n": True}


def test_a_category_set_by_a_rule_checks_the_answers_too() -> None:
    rule = {"name": "net", "when": {"field": "subject", "op": "contains", "value": "vpn"},
            "actions": {"category": "network"}}  # fmt: skip
    desk = _intake_desk(routing=[rule])
    ticket = desk.open(requester=Requester(id="r"), subject="vpn down",
                       fields={"seats": "7", "site": "home"})  # fmt: skip
    assert ticket.category == "network" and ticket.fields["seats"] == 7
    with pytest.raises(ValidationError, match="needs an answer"):
        desk.open(requester=Requester(id="r"), subject="vpn again")


def test_a_choice_is_picked_without_surrounding_blanks_and_in_any_unicode_form() -> None:
    import unicodedata

    desk = _intake_desk(categories={"office": {"questions": [
        {"name": "site", "type": "choice", "choices": ["Zürich", "Genève"]},
    ]}})  # fmt: skip
    decomposed = unicodedata.normalize("NFD", "Genève")
    for typed, picked in ((" Zürich\n", "Zürich"), (decomposed, "Genève")):
        ticket = desk.open(
            requester=Requester(id="r"), subject="desk", category="office", fields={"site": typed}
        )
        assert ticket.fields == {"site": picked}
    with pytest.raises(ValidationError) as refused:
        desk.open(requester=Requester(id="r"), subject="desk", category="office",
                  fields={"site": "zürich"})  # fmt: skip
    assert refused.value.field == "fields.site"


def test_a_category_set_by_a_rule_lists_its_missing_answers() -> None:
    rule = {"name": "net", "when": {"field": "subject", "op": "contains", "value": "vpn"},
            "actions": {"category": "network"}}  # fmt: skip
    desk = _intake_desk(
        routing=[rule],
        categories={"network": {"on_missing": "ask", "questions": [
            {"name": "seats", "type": "int", "required": True},
            {"name": "site", "type": "choice", "choices": ["home", "office"], "required": True},
        ]}},
    )  # fmt: skip
    ticket = desk.open(requester=Requester(id="r"), subject="vpn down", fields={"seats": "7"})
    assert (ticket.category, ticket.fields) == ("network", {"seats": 7})
    opened = desk.history(ticket.id)[0]
    assert isinstance(opened, TicketOpened)
    assert opened.missing_fields == ("site",)


def test_a_rule_that_routes_to_a_higher_tiers_team_puts_the_ticket_in_that_tier() -> None:
    doc = {
        "tiers": [{"id": "L1", "teams": ["desk"]}, {"id": "L2", "teams": ["network"]}],
        "teams": [{"id": "desk"}, {"id": "network"}],
        "agents": [{"id": "ann", "teams": ["desk"], "tier": "L1"},
                   {"id": "nick", "teams": ["network"], "tier": "L2"}],
        "routing": [{"name": "vpn", "when": {"field": "subject", "op": "contains",
                                             "value": "vpn"},
                     "actions": {"team": "network"}}],
    }  # fmt: skip
    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    desk = Helpdesk(DeskConfig.from_dict(doc), MemoryStore(), clock)
    routed = desk.open(requester=Requester(id="ada"), subject="vpn down")
    assert (routed.tier, routed.team, routed.assignee) == ("L2", "network", "nick")
    plain = desk.open(requester=Requester(id="ada"), subject="printer jam")
    assert (plain.tier, plain.team, plain.assignee) == ("L1", "desk", "ann")


def test_auto_assign_keeps_an_assignee_whose_load_is_this_ticket() -> None:
    doc = {
        "tiers": [{"id": "L1", "teams": ["desk"]}],
        "teams": [{"id": "desk"}],
        "agents": [{"id": "ann", "teams": ["desk"], "capacity": 1},
                   {"id": "bob", "teams": ["desk"], "capacity": 2}],
    }  # fmt: skip
    clock = ManualClock(datetime(2026, 5, 4, 10, tzinfo=UTC))
    desk = Helpdesk(DeskConfig.from_dict(doc), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="r"), subject="x")
    assert ticket.assignee == "ann"
    again = desk.auto_assign(ticket.id)
    assert again.assignee == "ann" and again.version == ticket.version  # nothing to do
    # Another ticket fills bob up to one: ann, holding only this one, still keeps it.
    desk.open(requester=Requester(id="r"), subject="y")
    assert desk.auto_assign(ticket.id, strategy="least_loaded").assignee == "ann"


def test_a_rule_that_sets_the_type_starts_the_ticket_in_that_types_lifecycle() -> None:
    change = {
        "initial": "requested",
        "statuses": [{"name": "requested", "category": "new"},
                     {"name": "approved", "category": "open"},
                     {"name": "done", "category": "closed"}],
        "transitions": [{"name": "approve", "from": "requested", "to": "approved"},
                        {"name": "finish", "from": "approved", "to": "done"}],
    }  # fmt: skip
    doc = {
        "tiers": [{"id": "L1", "teams": ["desk"]}],
        "teams": [{"id": "desk"}],
        "agents": [{"id": "ann", "teams": ["desk"]}],
        "lifecycles": {"change": change},
        "ticket_types": {"incident": {}, "change": {"lifecycle": "change"}},
        "routing": [{"name": "laptops", "when": {"field": "subject", "op": "contains",
                                                 "value": "laptop"},
                     "actions": {"type": "change"}}],
    }  # fmt: skip
    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    desk = Helpdesk(DeskConfig.from_dict(doc), MemoryStore(), clock)
    routed = desk.open(requester=Requester(id="ada"), subject="New laptop")
    asked = desk.open(requester=Requester(id="ada"), subject="Desk move", type="change")
    for ticket in (routed, asked):
        assert (ticket.type, ticket.lifecycle, ticket.status) == ("change", "change", "requested")
    assert desk.transition(routed.id, "approve", by="ann").status == "approved"
    plain = desk.open(requester=Requester(id="ada"), subject="Printer")
    assert (plain.type, plain.lifecycle, plain.status) == ("incident", "default", "new")


def test_a_de_escalation_goes_back_to_the_team_the_ticket_left() -> None:
    doc = {
        "tiers": [{"id": "L1", "teams": ["amer", "emea"]}, {"id": "L2", "teams": ["network"]}],
        "teams": [{"id": "amer"}, {"id": "emea"}, {"id": "network"}],
        "agents": [{"id": "ann", "tier": "L1", "teams": ["amer"]},
                   {"id": "eve", "tier": "L1", "teams": ["emea"]},
                   {"id": "nick", "tier": "L2", "teams": ["network"]}],
        "routing": [{"name": "emea", "when": {"field": "subject", "op": "contains",
                                              "value": "Berlin"},
                     "actions": {"team": "emea"}}],
    }  # fmt: skip
    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    desk = Helpdesk(DeskConfig.from_dict(doc), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="Berlin VPN down")
    assert (ticket.team, ticket.assignee) == ("emea", "eve")
    up = desk.escalate(ticket.id, by="eve", reason="needs the network team")
    assert (up.tier, up.team) == ("L2", "network")
    down = desk.de_escalate(ticket.id, by="nick", reason="fixed: tell the requester")
    assert (down.tier, down.team, down.assignee) == ("L1", "emea", "eve")  # not amer
    # A team given wins.
    desk.escalate(ticket.id, by="eve", reason="again")
    assert desk.de_escalate(ticket.id, by="nick", reason="x", team="amer").team == "amer"
    # A team that no longer works the tier: the tier's default team.
    desk.escalate(ticket.id, by="ann", reason="once more")
    moved = {**doc, "tiers": [{"id": "L1", "teams": ["emea"]},
                              {"id": "L2", "teams": ["network", "amer"]}]}  # fmt: skip
    desk.reconfigure(DeskConfig.from_dict(moved))
    assert desk.de_escalate(ticket.id, by="nick", reason="y").team == "emea"


def test_a_new_impact_or_urgency_derives_the_priority_again(desk: Helpdesk) -> None:
    from helpdesk_core.model import Priority, replay

    ticket = desk.open(requester=ADA, subject="printer", impact="low", urgency="low")
    assert ticket.priority is Priority.LOW
    assert ticket.sla["first_response"].target == timedelta(hours=8)
    ticket = desk.update(ticket.id, by="alice", impact="high", urgency="high")
    assert ticket.priority is Priority.CRITICAL
    assert not ticket.priority_explicit
    # the critical policy applies now, from the original start
    assert ticket.sla["first_response"].target == timedelta(minutes=30)
    ticket = desk.update(ticket.id, by="alice", urgency="medium")
    assert ticket.priority is Priority.HIGH
    assert replay(desk.history(ticket.id)) == ticket


def test_an_explicit_priority_stays_when_impact_or_urgency_change(desk: Helpdesk) -> None:
    from helpdesk_core.model import Priority

    ticket = desk.open(requester=ADA, subject="printer", impact="low", urgency="low",
                       priority="high")
    ticket = desk.update(ticket.id, by="alice", urgency="high", impact="high")
    assert ticket.priority is Priority.HIGH
    ticket = desk.open(requester=ADA, subject="scanner", impact="low", urgency="low")
    ticket = desk.set_priority(ticket.id, "medium", by="alice")
    ticket = desk.update(ticket.id, by="alice", urgency="high", impact="high")
    assert ticket.priority is Priority.MEDIUM


def test_a_priority_a_routing_rule_set_stays_when_urgency_changes() -> None:
    from helpdesk_core.model import Priority

    rules = [{"name": "vip", "when": {"field": "subject", "op": "contains", "value": "vip"},
              "actions": {"priority": "critical"}}]
    desk = make_desk(MemoryStore(), berlin(2026, 3, 2, 10, 0),
                     DeskConfig.from_dict({**DESK, "routing": rules}))
    ticket = desk.open(requester=ADA, subject="vip printer", impact="low", urgency="low")
    assert ticket.priority is Priority.CRITICAL
    ticket = desk.update(ticket.id, by="alice", urgency="medium")
    assert ticket.priority is Priority.CRITICAL


def test_a_de_escalation_may_skip_tiers_back_when_asked() -> None:
    doc = {
        "tiers": [{"id": "L1", "teams": ["amer", "emea"]}, {"id": "L2", "teams": ["network"]},
                  {"id": "L3", "teams": ["vendor"]}],
        "teams": [{"id": "amer"}, {"id": "emea"}, {"id": "network"}, {"id": "vendor"}],
        "agents": [{"id": "eve", "tier": "L1", "teams": ["emea"]},
                   {"id": "vic", "tier": "L3", "teams": ["vendor"]}],
        "routing": [{"name": "emea", "when": {"always": True}, "actions": {"team": "emea"}}],
    }  # fmt: skip
    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    desk = Helpdesk(DeskConfig.from_dict(doc), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="firmware bug")
    up = desk.escalate(ticket.id, by="eve", reason="vendor", to_tier="L3", allow_skip=True)
    assert up.tier == "L3"
    with pytest.raises(InvalidTransition, match="allow_skip"):
        desk.de_escalate(ticket.id, by="vic", reason="fixed", to_tier="L1")
    down = desk.de_escalate(ticket.id, by="vic", reason="fixed", to_tier="L1", allow_skip=True)
    assert (down.tier, down.team, down.assignee) == ("L1", "emea", "eve")


def test_round_robin_serves_nobody_twice_in_a_row_when_an_agent_joins() -> None:
    def config(names: str) -> DeskConfig:
        return DeskConfig.from_dict({
            "tiers": [{"id": "L1", "teams": ["desk"]}],
            "teams": [{"id": "desk"}],
            "agents": [{"id": n, "tier": "L1", "teams": ["desk"]} for n in names],
            "assignment": {"strategy": "round_robin"},
        })  # fmt: skip

    desk = Helpdesk(config("bc"), MemoryStore(), ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    assert [desk.open(requester=ADA, subject=s).assignee for s in "xy"] == ["b", "c"]
    desk.reconfigure(config("abc"))
    assert [desk.open(requester=ADA, subject=s).assignee for s in "xyzw"] == ["a", "b", "c", "a"]


def test_open_with_an_id_a_stored_ticket_has_says_so(tmp_path: Path) -> None:
    """A desk whose id factory hands out an id the store holds already (SequentialIds in
    a process started again on the same file) is told that, not that a ticket changed
    concurrently; nothing is written, the requester given by value included."""
    clock = ManualClock(datetime(2026, 3, 2, 10, tzinfo=UTC))
    path = tmp_path / "desk.sqlite"
    with SqliteStore(path) as store:
        first = Helpdesk(DeskConfig(), store, clock, ids=SequentialIds())
        taken = first.open(requester=ADA, subject="Printer jams")
    with SqliteStore(path) as store:
        again = Helpdesk(DeskConfig(), store, clock, ids=SequentialIds())  # a restart
        with pytest.raises(ConflictError) as clash:
            again.open(requester=EVE, subject="VPN drops")
        assert (clash.value.ticket_id, clash.value.expected) == (taken.id, 0)
        message = str(clash.value)
        assert f"ticket id {taken.id!r}" in message and "taken" in message
        assert "UuidIds" in message and "concurrently" not in message
        assert store.load(taken.id).subject == "Printer jams"
        with pytest.raises(NotFound):
            store.get_requester(EVE.id)
