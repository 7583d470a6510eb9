"""A stopped clock whose target applies again (a priority changed back): it goes on in the
same cycle from the time it had used; a new wait after an answer starts afresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore
from helpdesk_core.model import Requester


def _toggle_desk() -> tuple[Helpdesk, ManualClock]:
    config = DeskConfig.from_dict({
        "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
        "sla_policies": [{"name": "p", "calendar": "always", "warnings": [0.75], "targets": {
            "high": {"first_response": "1h", "next_response": "2h",
                     "periodic_update": "2h", "resolution": "8h"},
            "low": {"first_response": "1h", "resolution": "40h"},
        }}],
        "agents": [{"id": "bob", "teams": ["desk"]}],
        "tiers": [{"id": "L1", "teams": ["desk"]}], "teams": [{"id": "desk"}],
        "assignment": {"auto_assign": False},
    })  # fmt: skip
    clock = ManualClock(datetime(2026, 5, 4, 9, tzinfo=UTC))
    return Helpdesk(config=config, store=MemoryStore(), clock=clock), clock


@pytest.mark.parametrize("metric", ["next_response", "periodic_update"])
def test_a_clock_whose_target_comes_back_goes_on_in_the_same_cycle(metric: str) -> None:
    desk, clock = _toggle_desk()
    t0 = clock.now()
    ticket_id = desk.open(requester=Requester(id="ada"), subject="VPN", priority="high").id
    desk.reply(ticket_id, author="bob", body="looking")  # first response at 09:00
    clock.set(t0 + timedelta(hours=1))
    desk.reply(ticket_id, author="requester:ada", body="still down")  # waiting from 10:00
    clock.set(t0 + timedelta(hours=1, minutes=30))
    before = desk.sla(ticket_id)[metric]
    desk.set_priority(ticket_id, "low", by="bob")  # no target: the clock stops
    clock.set(t0 + timedelta(hours=1, minutes=40))
    desk.set_priority(ticket_id, "high", by="bob")  # the target applies again
    after = desk.sla(ticket_id)[metric]
    assert after.cycle == before.cycle
    assert after.used == before.used  # the ten minutes without a target do not count
    assert after.deadline == before.deadline + timedelta(minutes=10)


def test_an_answer_while_no_target_applied_starts_the_next_wait_afresh() -> None:
    desk, clock = _toggle_desk()
    t0 = clock.now()
    ticket_id = desk.open(requester=Requester(id="ada"), subject="VPN", priority="high").id
    desk.reply(ticket_id, author="bob", body="looking")
    clock.set(t0 + timedelta(hours=1))
    desk.reply(ticket_id, author="requester:ada", body="still down")
    clock.set(t0 + timedelta(hours=1, minutes=30))
    desk.set_priority(ticket_id, "low", by="bob")
    desk.reply(ticket_id, author="bob", body="on it")  # answered while no target applied
    clock.set(t0 + timedelta(hours=2))
    desk.reply(ticket_id, author="requester:ada", body="and now?")  # a new wait
    desk.set_priority(ticket_id, "high", by="bob")
    views = desk.sla(ticket_id)
    assert views["next_response"].cycle == 2 and views["next_response"].used == timedelta(0)
    # Bob's answer was an update: a new cycle, counted from it (its target came later).
    update = views["periodic_update"]
    assert (update.cycle, update.used) == (2, timedelta(minutes=30))
    assert update.started_at == t0 + timedelta(hours=1, minutes=30)
