"""An automatic move that a guard refuses leaves the ticket where it is: the command that
triggered it (a reply) is kept, and an auto-close refused at its instant is neither an
error for ``tick`` nor a wake-up that comes back for ever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday

STRICT = {
    "initial": "new",
    "statuses": [
        {"name": "new", "category": "new"},
        {"name": "open", "category": "open"},
        {"name": "solved", "category": "solved"},
        {"name": "closed", "category": "closed"},
    ],
    "transitions": [
        {"name": "open", "from": "new", "to": "open", "automatic": "agent_public_reply",
         "guards": ["reason_given"]},
        {"name": "solve", "from": ["new", "open"], "to": "solved"},
        {"name": "reopen", "from": "solved", "to": "open"},
        {"name": "close", "from": "solved", "to": "closed", "automatic": "solved_timeout",
         "guards": ["reason_given"]},
    ],
    "auto_close_after": 1,
}


def make_desk() -> tuple[Helpdesk, ManualClock]:
    config = DeskConfig.from_dict(
        {
            "tiers": [{"id": "L1", "teams": ["desk"]}],
            "teams": [{"id": "desk"}],
            "agents": [{"id": "ann", "teams": ["desk"]}],
            "lifecycles": {"strict": STRICT},
            "ticket_types": {"incident": {"lifecycle": "strict"}},
        }
    )
    clock = ManualClock(T0)
    return Helpdesk(config, MemoryStore(), clock), clock


def test_a_reply_is_kept_when_its_automatic_move_is_refused() -> None:
    desk, _ = make_desk()
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    replied = desk.reply(ticket.id, author="ann", body="We are on it")
    assert (replied.status, replied.public_replies) == ("new", 1)


def test_a_refused_auto_close_is_no_error_and_no_endless_wake_up() -> None:
    desk, clock = make_desk()
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    desk.solve(ticket.id, by="ann", resolution="Restarted")
    assert desk.next_wakeup() is None  # the close would be refused: nothing to wake for
    clock.advance(timedelta(days=2))
    assert desk.tick() == []
    noted = desk.reply(ticket.id, author="ann", body="Checked again", public=False)
    assert noted.status == "solved"
    assert desk.next_wakeup() is None
