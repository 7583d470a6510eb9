"""A desk whose incidents follow a lifecycle that names its moves and statuses otherwise
("resolve" into "resolved", "reopen_ticket", "archive", "withdraw"): the desk's shortcuts
solve, reopen, close and cancel its tickets, a requester's email reply reopens a solved
one, a solved problem solves its incidents, and a simulation runs on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from helpdesk_core import (
    DeskConfig,
    Helpdesk,
    ManualClock,
    MemoryStore,
    Requester,
    SequentialIds,
)
from helpdesk_core.channels.email import EmailChannel, EmailSettings
from helpdesk_core.demo import example_config
from helpdesk_core.errors import AccessDenied, ConfigError, InvalidTransition
from helpdesk_core.model import StatusChanged
from helpdesk_core.simulation import Scenario, simulate

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
ADA = Requester(id="ada", name="Ada", email="ada@example.org")

RENAMED: dict[str, Any] = {
    "initial": "fresh",
    "statuses": [
        {"name": "fresh", "category": "new"},
        {"name": "working", "category": "open"},
        {"name": "pending", "category": "pending"},
        {"name": "resolved", "category": "solved"},
        {"name": "archived", "category": "closed"},
        {"name": "withdrawn", "category": "closed"},
    ],
    "transitions": [
        {"name": "take", "from": "fresh", "to": "working", "automatic": "agent_public_reply"},
        {"name": "ask", "from": "working", "to": "pending"},
        {"name": "answer", "from": "pending", "to": "working",
         "automatic": "requester_public_reply"},
        {"name": "resolve", "from": ["fresh", "working", "pending"], "to": "resolved",
         "guards": ["resolution_note", "public_response_or_first_contact"]},
        {"name": "reopen_ticket", "from": "resolved", "to": "working",
         "guards": ["within_reopen_window"]},
        {"name": "archive", "from": "resolved", "to": "archived", "automatic": "solved_timeout"},
        {"name": "withdraw", "from": "*", "to": "withdrawn", "guards": ["reason_given"]},
    ],
    "reopen_window": "7d",
    "auto_close_after": 3,
}  # fmt: skip

TYPES = ("incident", "service_request", "problem", "question")


def renamed_config(base: dict[str, Any] | None = None, **extra: Any) -> DeskConfig:
    doc: dict[str, Any] = dict(base) if base is not None else {
        "agents": [{"id": "ann", "teams": ["service-desk"]}],
    }
    doc["lifecycles"] = {**doc.get("lifecycles", {}), "renamed": RENAMED}
    doc["ticket_types"] = {name: {"lifecycle": "renamed"} for name in TYPES}
    doc.update(extra)
    return DeskConfig.from_dict(doc)


def make_desk(**extra: Any) -> Helpdesk:
    return Helpdesk(renamed_config(**extra), MemoryStore(), ManualClock(T0), ids=SequentialIds())


def _opened(desk: Helpdesk) -> str:
    ticket = desk.open(requester=ADA, subject="VPN drops")
    desk.reply(ticket.id, author="ann", body="Try the new client")
    return ticket.id


def _moves(desk: Helpdesk, ticket_id: str) -> list[str]:
    return [e.transition for e in desk.history(ticket_id) if isinstance(e, StatusChanged)]


def test_the_shortcuts_solve_reopen_close_and_cancel_on_a_renamed_lifecycle() -> None:
    desk = make_desk()
    first = _opened(desk)
    assert desk.solve(first, by="ann", resolution="New client").status == "resolved"
    assert desk.reopen(first, by="ada", reason="Drops again").status == "working"
    desk.solve(first, by="ann", resolution="Gateway fixed")
    assert desk.close(first, by="ann").status == "archived"
    assert _moves(desk, first) == ["take", "resolve", "reopen_ticket", "resolve", "archive"]

    second = _opened(desk)
    assert desk.cancel(second, by="ann", reason="Sent twice").status == "withdrawn"
    third = _opened(desk)
    desk.solve(third, by="ann", resolution="Done")
    assert desk.cancel(third, by="ann", reason="Not ours").status == "withdrawn"
    assert _moves(desk, third)[-1] == "withdraw"


def test_the_shortcuts_keep_their_guards_and_access_checks() -> None:
    desk = make_desk(lifecycles={"renamed": {**RENAMED, "reopen_window": "1d"}})
    ticket_id = _opened(desk)
    with pytest.raises(InvalidTransition, match="resolution_note"):
        desk.solve(ticket_id, by="ann", resolution=" ")
    with pytest.raises(InvalidTransition, match="reason_given"):
        desk.cancel(ticket_id, by="ann", reason=" ")
    with pytest.raises(InvalidTransition, match="no transition 'reopen'"):
        desk.reopen(ticket_id, by="ann", reason="Not solved yet")
    with pytest.raises(AccessDenied):  # a requester may reopen, not solve
        desk.solve(ticket_id, by="ada", resolution="Fixed it myself")
    desk.solve(ticket_id, by="ann", resolution="New client")
    desk.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    with pytest.raises(InvalidTransition, match="within_reopen_window"):
        desk.reopen(ticket_id, by="ada", reason="Too late")


def test_a_requester_who_may_not_reopen_cannot_by_the_renamed_move() -> None:
    desk = make_desk(privacy={"requester_actions": ["view", "reply", "rate"]})
    ticket_id = _opened(desk)
    desk.solve(ticket_id, by="ann", resolution="New client")
    with pytest.raises(AccessDenied):
        desk.reopen(ticket_id, by="ada", reason="Drops again")


def test_two_moves_that_close_a_solved_ticket_are_refused_by_name() -> None:
    lifecycle = {
        **RENAMED,
        "statuses": [*RENAMED["statuses"], {"name": "shredded", "category": "closed"}],
        "transitions": [*RENAMED["transitions"],
                        {"name": "shred", "from": "resolved", "to": "shredded"}],
    }  # fmt: skip
    config = renamed_config(lifecycles={"renamed": lifecycle})
    desk = Helpdesk(config, MemoryStore(), ManualClock(T0), ids=SequentialIds())
    ticket_id = _opened(desk)
    desk.solve(ticket_id, by="ann", resolution="New client")
    with pytest.raises(InvalidTransition, match=r"'archive'.*'shred'"):
        desk.close(ticket_id, by="ann")
    assert desk.get(ticket_id).status == "resolved"
    assert desk.transition(ticket_id, "shred", by="ann").status == "shredded"


def test_an_email_reply_reopens_a_solved_ticket_of_a_renamed_lifecycle() -> None:
    config = renamed_config(example_config().to_dict())
    desk = Helpdesk(config, MemoryStore(), ManualClock(T0), ids=SequentialIds())
    channel = EmailChannel(desk, EmailSettings(address="help@desk.example.com"))

    def mail(body: str, subject: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = "Ada <ada@example.org>"
        message["To"] = "help@desk.example.com"
        message["Subject"] = subject
        message["Message-ID"] = f"<{abs(hash((body, subject)))}@example.org>"
        message.set_content(body)
        return message

    opened = channel.receive(mail("VPN drops", "VPN"))
    ticket_id = opened.ticket_id or ""
    ticket = desk.get(ticket_id)
    agent = config.agents_of(team=ticket.team)[0].id if ticket.team else config.agents[0].id
    desk.reply(ticket_id, author=agent, body="Fixed")
    desk.solve(ticket_id, by=agent, resolution="Gateway updated")
    result = channel.receive(mail("Not fixed", f"Re: [#{ticket.number}] VPN"))
    assert result.action == "replied", result.reason
    assert result.ticket_id == ticket_id
    assert desk.get(ticket_id).status == "working"
    assert _moves(desk, ticket_id)[-1] == "reopen_ticket"


def test_a_solved_problem_solves_its_incidents_on_a_renamed_lifecycle() -> None:
    desk = make_desk(knowledge={"on_problem_solved": "solve"})
    problem = _opened(desk)
    desk.update(problem, by="ann", type="problem")
    incident = _opened(desk)
    desk.link(incident, kind="caused_by", other=problem, by="ann")
    desk.solve(problem, by="ann", resolution="Firmware 2.1")
    assert desk.get(incident).status == "resolved"
    assert _moves(desk, incident)[-1] == "resolve"


def _scenario(reopen: float) -> Scenario:
    desk = {
        "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
        "tiers": [{"id": "L1", "teams": ["q"]}],
        "teams": [{"id": "q"}],
        "agents": [{"id": f"a{i}", "tier": "L1", "teams": ["q"]} for i in range(3)],
        "lifecycles": {"renamed": RENAMED},
        "ticket_types": {name: {"lifecycle": "renamed"} for name in TYPES},
    }
    return Scenario.from_dict({
        "desk": desk,
        "simulation": {"start": "2026-01-05T00:00:00+00:00", "days": 3},
        "arrivals": {"rate_per_hour": 2},
        "tiers": {"L1": {"work": "30m", "pending": 0.2}},
        "requesters": {"count": 20, "reopen": reopen, "reopen_delay": "2h"},
    })  # fmt: skip


def test_a_simulation_runs_on_a_renamed_lifecycle() -> None:
    result = simulate(_scenario(reopen=0.3), seed=1)
    moves = [e.transition for e in result.events if isinstance(e, StatusChanged)]
    assert "resolve" in moves and "reopen_ticket" in moves and "archive" in moves
    assert not {"solve", "reopen", "close"} & set(moves)


def test_a_simulation_refuses_a_lifecycle_whose_solve_is_ambiguous() -> None:
    lifecycle = {
        **RENAMED,
        "statuses": [*RENAMED["statuses"], {"name": "fixed", "category": "solved"}],
        "transitions": [*RENAMED["transitions"],
                        {"name": "fix", "from": "working", "to": "fixed"},
                        {"name": "close_fixed", "from": "fixed", "to": "archived"}],
    }  # fmt: skip
    desk = {
        "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
        "tiers": [{"id": "L1", "teams": ["q"]}],
        "teams": [{"id": "q"}],
        "agents": [{"id": "a0", "tier": "L1", "teams": ["q"]}],
        "lifecycles": {"renamed": lifecycle},
        "ticket_types": {name: {"lifecycle": "renamed"} for name in TYPES},
    }
    with pytest.raises(ConfigError, match=r"'fix'.*'resolve'|'resolve'.*'fix'"):
        Scenario.from_dict({
            "desk": desk,
            "simulation": {"start": "2026-01-05T00:00:00+00:00", "days": 1},
            "arrivals": {"rate_per_hour": 1},
            "tiers": {"L1": {"work": "30m"}},
            "requesters": {"count": 5},
        })  # fmt: skip
