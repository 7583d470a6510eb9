"""What a move into solved brings (a CSAT request, a problem's known error resolved, its
tickets told) comes once, whichever command made the move, and a move between two
solved statuses keeps the solution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester
from helpdesk_core.knowledge.problems import LinkedProblemSolved
from helpdesk_core.model import CsatRequested, KnownErrorStatus, replay
from helpdesk_core.workflow import Lifecycle

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
ADA = Requester(id="ada", name="Ada")
AGENTS = [{"id": "alice", "teams": ["service-desk"]}]


def _desk(doc: dict[str, Any]) -> Helpdesk:
    return Helpdesk(DeskConfig.from_dict(doc), MemoryStore(), ManualClock(T0))


def _two_solved_statuses() -> dict[str, Any]:
    lifecycle = Lifecycle.default().to_dict()
    lifecycle.pop("name")
    lifecycle["statuses"].append({"name": "verified", "category": "solved"})
    lifecycle["transitions"] += [
        {"name": "verify", "from": "solved", "to": "verified"},
        {"name": "close_verified", "from": "verified", "to": "closed"},
    ]
    return lifecycle


def test_a_move_between_solved_statuses_keeps_the_solution() -> None:
    desk = _desk(
        {
            "agents": AGENTS,
            "lifecycles": {"verified": _two_solved_statuses()},
            "ticket_types": {"incident": {"lifecycle": "verified"}},
        }
    )
    ticket = desk.open(requester=ADA, subject="Disk failing")
    solved = desk.solve(ticket.id, by="alice", resolution="Replaced the disk", first_contact=True)
    desk.clock.advance(timedelta(days=2))
    verified = desk.transition(ticket.id, "verify", by="alice")
    assert verified.status == "verified"
    assert (verified.resolution, verified.first_contact, verified.solved_at) == (
        "Replaced the disk",
        True,
        solved.solved_at,
    )
    history = desk.history(ticket.id)
    assert sum(isinstance(e, CsatRequested) for e in history) == 1
    assert replay(history) == desk.get(ticket.id)


def test_a_ticket_rated_already_is_not_asked_for_a_rating_again() -> None:
    desk = _desk({"agents": AGENTS})
    ticket = desk.open(requester=ADA, subject="Printer jams")
    desk.solve(ticket.id, by="alice", resolution="Cleaned", first_contact=True)
    desk.rate(ticket.id, score=2, comment="jammed again", by="ada")
    desk.reopen(ticket.id, by="ada", reason="it jams again")
    desk.solve(ticket.id, by="alice", resolution="Replaced the roller", first_contact=True)
    history = desk.history(ticket.id)
    # One rating per ticket: a second request would ask for one the desk refuses.
    assert sum(isinstance(e, CsatRequested) for e in history) == 1
    assert desk.get(ticket.id).satisfaction is not None
    assert replay(history) == desk.get(ticket.id)
    # An unrated ticket solved again is asked again.
    other = desk.open(requester=ADA, subject="Scanner")
    desk.solve(other.id, by="alice", resolution="Rebooted", first_contact=True)
    desk.reopen(other.id, by="ada", reason="not fixed")
    desk.solve(other.id, by="alice", resolution="Driver updated", first_contact=True)
    assert sum(isinstance(e, CsatRequested) for e in desk.history(other.id)) == 2


def _question_desk() -> Helpdesk:
    questions = {
        "initial": "asked",
        "statuses": [
            {"name": "asked", "category": "new"},
            {"name": "answered", "category": "solved"},
            {"name": "done", "category": "closed"},
        ],
        "transitions": [
            {"name": "answer", "from": "asked", "to": "answered",
             "automatic": "agent_public_reply"},
            {"name": "close", "from": "answered", "to": "done", "automatic": "solved_timeout"},
        ],
    }
    return _desk(
        {
            "agents": AGENTS,
            "lifecycles": {"questions": questions},
            "ticket_types": {"incident": {"lifecycle": "default"},
                             "problem": {"lifecycle": "questions"}},
            "knowledge": {"on_problem_solved": "notify"},
        }
    )


def test_a_reply_that_solves_does_what_a_solve_does() -> None:
    desk = _question_desk()
    problem = desk.open(requester=ADA, subject="VPN gateway", type="problem")
    desk.record_known_error(problem.id, symptom="VPN drops", by="alice")
    incident = desk.open(requester=ADA, subject="VPN drops")
    desk.link(incident.id, kind="caused_by", other=problem.id, by="alice")
    answered = desk.reply(problem.id, author="alice", body="Gateway replaced")
    assert answered.status == "answered"
    assert answered.known_error is not None
    assert answered.known_error.status is KnownErrorStatus.RESOLVED
    assert sum(isinstance(e, CsatRequested) for e in desk.history(problem.id)) == 1
    told = [e for e in desk.history(incident.id) if isinstance(e, LinkedProblemSolved)]
    assert [e.outcome for e in told] == ["notified"]
    # A second reply moves nothing and asks for nothing more.
    desk.reply(problem.id, author="alice", body="Monitoring")
    assert sum(isinstance(e, CsatRequested) for e in desk.history(problem.id)) == 1
    assert len([e for e in desk.history(incident.id) if isinstance(e, LinkedProblemSolved)]) == 1


def test_an_auto_close_found_late_is_stamped_after_the_latest_event() -> None:
    lifecycle = Lifecycle.default().to_dict()
    lifecycle.pop("name")

    def config(days: int) -> DeskConfig:
        return DeskConfig.from_dict(
            {
                "agents": AGENTS,
                "lifecycles": {"short": {**lifecycle, "auto_close_after": days}},
                "ticket_types": {"incident": {"lifecycle": "short"}},
            }
        )

    desk = Helpdesk(config(3), MemoryStore(), ManualClock(T0))
    ticket = desk.open(requester=ADA, subject="Printer")
    desk.solve(ticket.id, by="alice", resolution="Cleaned", first_contact=True)
    desk.clock.advance(timedelta(days=2))
    desk.reply(ticket.id, author="alice", body="Note for later", public=False)
    desk.reconfigure(config(1))  # the close was due a day before the note
    desk.tick()
    history = desk.history(ticket.id)
    assert desk.get(ticket.id).status == "closed"
    assert [e.at for e in history] == sorted(e.at for e in history)
    assert history[-1].at == T0 + timedelta(days=2)
