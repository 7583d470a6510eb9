from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import (
    SYSTEM,
    Actor,
    Agent,
    Assigned,
    Changes,
    Channel,
    CommentAdded,
    Escalated,
    Impact,
    Link,
    Linked,
    LinkKind,
    Priority,
    PriorityChanged,
    PriorityMatrix,
    QueuedForAssignment,
    Rated,
    Requester,
    StatusCategory,
    StatusChanged,
    Team,
    Ticket,
    TicketOpened,
    TicketRouted,
    Tier,
    Urgency,
    apply_event,
    priority_for,
    replay,
)

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


def opened(**changes: object) -> TicketOpened:
    values: dict[str, object] = {
        "ticket_id": "T-1",
        "at": AT,
        "by": Actor.requester("r1"),
        "number": 1001,
        "requester": "r1",
        "subject": "Printer jams",
    }
    values.update(changes)
    return TicketOpened(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [
        ("high", "high", Priority.CRITICAL),
        ("high", "medium", Priority.HIGH),
        ("medium", "high", Priority.HIGH),
        ("high", "low", Priority.MEDIUM),
        ("medium", "medium", Priority.MEDIUM),
        ("low", "high", Priority.MEDIUM),
        ("medium", "low", Priority.LOW),
        ("low", "medium", Priority.LOW),
        ("low", "low", Priority.LOW),
    ],
)
def test_itil_priority_matrix(impact: str, urgency: str, priority: Priority) -> None:
    assert priority_for(impact, urgency) is priority
    assert priority_for(Impact(impact), Urgency(urgency)) is priority


def test_priority_matrix_is_replaceable_and_validated() -> None:
    table = {
        f"{i}/{u}": "low" for i in ("high", "medium", "low") for u in ("high", "medium", "low")
    }
    table["high/high"] = "p1"
    matrix = PriorityMatrix(table)
    assert priority_for("high", "high", matrix=matrix) is Priority.CRITICAL
    assert priority_for("high", "medium", matrix=matrix) is Priority.LOW
    assert PriorityMatrix(matrix.to_dict()) == matrix
    del table["low/low"]
    with pytest.raises(ConfigError, match="low/low"):
        PriorityMatrix(table)
    with pytest.raises(ConfigError, match=r"priority_matrix\[high/high\]"):
        PriorityMatrix({**matrix.to_dict(), "high/high": "urgentest"})


def test_priority_parsing_and_order() -> None:
    assert Priority.parse("P1") is Priority.CRITICAL
    assert Priority.parse("High") is Priority.HIGH
    assert sorted(Priority, key=lambda p: p.rank)[0] is Priority.CRITICAL
    assert Priority.LOW.label == "P4"
    with pytest.raises(ValidationError, match="not a valid Priority"):
        Priority.parse("urgentest")


def test_ticket_from_opened_event() -> None:
    ticket = replay([opened(channel="email", impact="high", urgency="high", priority="critical")])
    assert ticket.version == 1
    assert ticket.channel is Channel.EMAIL
    assert ticket.priority is Priority.CRITICAL
    assert ticket.status == "new" and ticket.status_category is StatusCategory.NEW
    assert ticket.display_number == "#1001"


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("subject", "", "subject"),
        ("subject", "   ", "subject"),
        ("subject", 7, "subject"),
        ("requester", "has space", "requester"),
        ("number", -1, "number"),
        ("at", datetime(2026, 1, 1), "naive"),
        ("channel", "carrier-pigeon", "channel"),
        ("impact", "huge", "impact"),
        ("tags", ["ok", 3], "tags"),
        ("tags", [" padded"], "tags"),
        ("fields", {"bad key": 1}, "fields"),
        ("fields", {"os": object()}, "fields.os"),
        ("fields", {"n": float("nan")}, "fields.n"),
        ("by", "r1", "by"),
    ],
)
def test_bad_values_raise_validation_error_naming_the_field(
    field: str, value: object, fragment: str
) -> None:
    with pytest.raises(ValidationError) as info:
        opened(**{field: value})
    assert fragment in str(info.value)


def _ticket(**changes: object) -> Ticket:
    return Ticket(
        **{"id": "T-1", "number": 1, "requester": "r1", "subject": "s", "created_at": AT,
           "updated_at": AT, **changes}  # type: ignore[arg-type]
    )


def _priority_changed(**changes: object) -> PriorityChanged:
    values: dict[str, object] = {"ticket_id": "T-1", "at": AT, "by": SYSTEM,
                                 "priority": "high", "previous": "low", **changes}
    return PriorityChanged(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "field", "value"),
    [
        (opened, "status_category", "halfway"),
        (_ticket, "status_category", "halfway"),
        (_priority_changed, "previous", "P9"),
        (_ticket, "sla", {"speed": None}),
    ],
)
def test_a_bad_value_is_refused_naming_its_own_field_not_another(
    build: Any, field: str, value: object
) -> None:
    # (Ticket and TicketOpened have a category too, PriorityChanged a priority.)
    with pytest.raises(ValidationError) as info:
        build(**{field: value})
    assert info.value.field == field


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (_ticket, "fired_triggers"),
        (_ticket, "queued_skills"),
        (opened, "missing_fields"),
        (opened, "history"),
        (lambda **kw: TicketRouted(ticket_id="T-1", at=AT, by=SYSTEM, changes=Changes(), **kw),
         "rules"),
        (lambda **kw: QueuedForAssignment(ticket_id="T-1", at=AT, by=SYSTEM, **kw), "skills"),
        (lambda **kw: Agent(id="a1", **kw), "teams"),
        (lambda **kw: Agent(id="a1", **kw), "skills"),
        (lambda **kw: Team(id="t1", **kw), "contacts"),
        (lambda **kw: Tier(id="L1", **kw), "teams"),
    ],
)
@pytest.mark.parametrize("value", [None, 7, {"a": "b"}, ["ok", 3]])
def test_a_bad_list_is_refused_naming_its_field(build: Any, field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        build(**{field: value})
    assert info.value.field == field


def test_people_validate() -> None:
    with pytest.raises(ValidationError, match="email"):
        Requester(id="r1", email="not-an-address")
    with pytest.raises(ValidationError, match="capacity"):
        Agent(id="a1", capacity=-1)
    with pytest.raises(ValidationError, match="active"):
        Agent(id="a1", active="yes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="skills"):
        Agent(id="a1", skills={""})
    assert Agent(id="a1", teams="desk").teams == ("desk",)
    assert Tier(id="L1", teams=["desk", "desk", "field"]).teams == ("desk", "field")
    assert Tier(id="L1", teams=["desk"]).default_team == "desk"
    assert Team(id="desk", contacts=["lead", "mgr"]).contacts == ("lead", "mgr")
    assert str(Actor.agent("a1")) == "agent:a1"


@pytest.mark.parametrize("cls", [Requester, Agent, Team])
@pytest.mark.parametrize(
    "address",
    ["nope", "a@b@c", "@example.com", "ada@", 5, "victim\x00@example.org",
     "ada@example.org\r\nBcc: x@y.z", "ada lovelace@example.org", "ada@exa\tmple.org"],
)
def test_every_email_is_an_address(cls: type, address: object) -> None:
    with pytest.raises(ValidationError) as bad:
        cls(id="x1", email=address)
    assert bad.value.field == "email"
    assert cls(id="x1", email="ada@example.com").email == "ada@example.com"


def test_requester_attributes_errors_name_attributes() -> None:
    with pytest.raises(ValidationError) as bad:
        Requester(id="r1", attributes=["x"])  # type: ignore[arg-type]
    assert bad.value.field == "attributes"
    with pytest.raises(ValidationError) as bad:
        Requester(id="r1", attributes={"bad key": 1})
    assert bad.value.field == "attributes"


def test_values_are_frozen() -> None:
    ticket = replay([opened()])
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ticket.subject = "x"  # type: ignore[misc]


def test_replay_folds_events() -> None:
    events = [
        opened(),
        CommentAdded(
            ticket_id="T-1",
            at=AT + timedelta(minutes=5),
            by=Actor.agent("a1"),
            comment_id="C-1",
            body="Internal",
            public=False,
        ),
        CommentAdded(
            ticket_id="T-1",
            at=AT + timedelta(minutes=10),
            by=Actor.agent("a1"),
            comment_id="C-2",
            body="On it",
        ),
        Assigned(ticket_id="T-1", at=AT + timedelta(minutes=11), by=SYSTEM, assignee="a1"),
        Escalated(
            ticket_id="T-1",
            at=AT + timedelta(hours=1),
            by=Actor.agent("a1"),
            from_tier="L1",
            to_tier="L2",
            team="network",
            reason="needs network",
        ),
        StatusChanged(
            ticket_id="T-1",
            at=AT + timedelta(hours=2),
            by=Actor.agent("a2"),
            transition="solve",
            from_status="new",
            to_status="solved",
            category="solved",
            resolution="replaced toner",
        ),
        Rated(ticket_id="T-1", at=AT + timedelta(hours=3), by=Actor.requester("r1"), score=5),
        Linked(
            ticket_id="T-1", at=AT + timedelta(hours=3), by=SYSTEM, kind="caused_by", other="T-9"
        ),
        StatusChanged(
            ticket_id="T-1",
            at=AT + timedelta(hours=4),
            by=Actor.requester("r1"),
            transition="reopen",
            from_status="solved",
            to_status="open",
            category="open",
            reason="again",
        ),
    ]
    ticket = replay(events)
    assert ticket.version == len(events)
    assert ticket.first_response_at == AT + timedelta(minutes=10)  # internal note ignored
    assert ticket.public_replies == 1
    assert ticket.owner == "a1"  # first assignee becomes owner
    assert ticket.assignee is None and ticket.tier == "L2" and ticket.team == "network"
    assert ticket.satisfaction is not None and ticket.satisfaction.score == 5
    assert ticket.links == (Link(kind=LinkKind.CAUSED_BY, other="T-9"),)
    assert ticket.reopen_count == 1 and ticket.reopened_at == AT + timedelta(hours=4)
    assert ticket.solved_at is None and ticket.resolution is None
    assert ticket.status == "open"


def test_replay_refuses_inconsistent_histories() -> None:
    ticket = replay([opened()])
    with pytest.raises(ValidationError, match="already open"):
        apply_event(ticket, opened())
    with pytest.raises(ValidationError, match="starts with TicketOpened"):
        replay([Rated(ticket_id="T-1", at=AT, by=Actor.requester("r1"), score=3)])
    with pytest.raises(ValidationError, match="applied to ticket"):
        apply_event(ticket, Rated(ticket_id="T-2", at=AT, by=Actor.requester("r1"), score=3))
    with pytest.raises(ValidationError, match="empty"):
        replay([])
    with pytest.raises(ValidationError, match="score"):
        Rated(ticket_id="T-1", at=AT, by=Actor.requester("r1"), score=6)


def test_ticket_direct_construction_validates() -> None:
    with pytest.raises(ValidationError, match="subject"):
        Ticket(id="T-1", number=1, requester="r1", subject="x" * 1001, created_at=AT, updated_at=AT)


@pytest.mark.parametrize("subject", ["", "   ", "x" * 1001])
def test_events_refuse_a_subject_no_ticket_may_have(subject: str) -> None:
    # Folded into the ticket without another check: a replayed history would give a
    # snapshot that no store could read back.
    with pytest.raises(ValidationError, match="subject") as opening:
        opened(subject=subject)
    assert opening.value.field == "subject"
    with pytest.raises(ValidationError, match="subject") as change:
        Changes(subject=subject)
    assert change.value.field == "subject"


def test_named_actor_constructors_share_one_value_per_kind_and_id() -> None:
    assert Actor.agent("a-1") is Actor.agent("a-1")
    assert Actor.system("sla") is Actor.system("sla")
    assert Actor.requester("a-1") is not Actor.agent("a-1")
    assert Actor.agent("a-1") == Actor(kind="agent", id="a-1")
    for bad in ("", "has space", None, ["a"], 7):
        with pytest.raises(ValidationError):
            Actor.agent(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["ada\n", "T-1\n", "\nada"])
def test_an_id_with_a_line_break_at_either_end_is_refused(bad: str) -> None:
    # Otherwise "ada\n" would be a requester of its own, printed like "ada".
    with pytest.raises(ValidationError, match="invalid id"):
        Requester(id=bad, name="Ada")
    with pytest.raises(ValidationError, match="invalid id"):
        Actor.agent(bad)
    with pytest.raises(ValidationError):
        Requester(id="ada", name="Ada", attributes={bad: "x"})
    from helpdesk_core import DeskConfig

    with pytest.raises(ConfigError):
        DeskConfig.from_dict({"agents": [{"id": bad, "teams": ["service-desk"]}]})


def test_only_solved_and_closed_categories_are_inactive() -> None:
    from helpdesk_core.model import StatusCategory

    inactive = {StatusCategory.SOLVED, StatusCategory.CLOSED}
    for category in StatusCategory:
        assert category.is_active is (category not in inactive)
