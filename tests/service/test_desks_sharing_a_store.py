"""Several desks (processes) on one store: a command never stamps its events before the
ticket's latest event, and a queue drain leaves alone a ticket another desk took meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from service_fixtures import BERLIN

from helpdesk_core import (
    DeskConfig,
    Helpdesk,
    ManualClock,
    MemoryStore,
    Requester,
    ValidationError,
)
from helpdesk_core.demo import example_config
from helpdesk_core.model import Assigned
from helpdesk_core.storage import TicketQuery


def _in_order(desk: Helpdesk, ticket_id: str) -> bool:
    instants = [e.at for e in desk.history(ticket_id)]
    return instants == sorted(instants)


def test_a_desk_whose_clock_is_behind_stamps_at_the_tickets_latest_event() -> None:
    """Desk B's clock runs two minutes behind A's. Before, B's reply raised
    ``ValidationError`` (an event before the SLA clock's record); now it is stamped at
    the ticket's latest event and the history stays in order."""
    store = MemoryStore()
    start = datetime(2026, 3, 2, 10, 0, tzinfo=BERLIN)
    a = Helpdesk(example_config(), store, ManualClock(start))
    b = Helpdesk(example_config(), store, ManualClock(start - timedelta(minutes=2)))
    ticket = a.open(requester=Requester(id="ada", email="ada@example.com"), subject="VPN")
    replied = b.reply(ticket.id, author="lena", body="Looking into it")
    assert replied.updated_at == ticket.updated_at
    b.set_priority(ticket.id, "high", by="lena")
    b.solve(ticket.id, by="lena", resolution="Restarted")
    assert _in_order(a, ticket.id)


def test_live_sla_figures_read_by_a_desk_whose_clock_is_behind() -> None:
    """Desk B's clock runs two seconds ahead of A's, and B resumed the resolution clock.
    A's ``sla()`` without ``now`` reads at the ticket's latest event, as A's commands
    would stamp; an explicit ``now`` before it is still refused."""
    store = MemoryStore()
    start = datetime(2026, 3, 2, 10, 0, tzinfo=BERLIN)
    a = Helpdesk(example_config(), store, ManualClock(start))
    b = Helpdesk(example_config(), store, ManualClock(start + timedelta(seconds=2)))
    ticket = a.open(requester=Requester(id="ada", email="ada@example.com"), subject="VPN")
    b.reply(ticket.id, author="lena", body="Which client?")
    b.transition(ticket.id, "pend", by="lena")
    b.reply(ticket.id, author="requester:ada", body="The new one")  # resumes the clock
    resolution = a.sla(ticket.id)["resolution"]
    assert (resolution.state.value, resolution.as_of) == ("running", a.get(ticket.id).updated_at)
    with pytest.raises(ValidationError, match="clock's last change"):
        a.sla(ticket.id, now=start)


class _Interleaved(MemoryStore):
    """A store that runs ``hook`` once, right after a queue is read."""

    hook: Any = None

    def query(self, query: TicketQuery) -> Any:
        page = super().query(query)
        if self.hook is not None and query.unassigned:
            hook, self.hook = self.hook, None
            hook()
        return page


def test_a_queue_drain_leaves_a_ticket_another_desk_assigned_meanwhile() -> None:
    """B's tick reads the team queue; before it offers the ticket, A's tick assigns it.
    B records nothing on it (before: a second assignment, stamped before A's)."""
    store = _Interleaved()
    six = datetime(2026, 3, 2, 6, 0, tzinfo=BERLIN)  # the EMEA desk is off shift
    config: DeskConfig = example_config()
    clock_a, clock_b = ManualClock(six), ManualClock(six)
    a, b = Helpdesk(config, store, clock_a), Helpdesk(config, store, clock_b)
    ticket = a.open(requester=Requester(id="ada", email="ada@example.com"), subject="Slow")
    assert ticket.assignee is None and ticket.queued_at is not None
    clock_b.set(six + timedelta(hours=2, minutes=30))
    clock_a.set(six + timedelta(hours=2, minutes=30, seconds=5))
    store.hook = a.tick
    b.tick()
    assigned = [e for e in a.history(ticket.id) if isinstance(e, Assigned)]
    assert len(assigned) == 1
    assert _in_order(a, ticket.id)


def test_an_erasure_by_a_desk_whose_clock_is_behind_comes_after_the_latest_event() -> None:
    store = MemoryStore()
    start = datetime(2026, 3, 2, 10, 0, tzinfo=BERLIN)
    a = Helpdesk(example_config(), store, ManualClock(start))
    b = Helpdesk(example_config(), store, ManualClock(start - timedelta(minutes=2)))
    ticket = a.open(requester=Requester(id="ada", email="ada@example.com"), subject="VPN")
    [erased] = b.erase_requester("ada", by="marc")
    assert erased.at == ticket.updated_at
    assert _in_order(a, ticket.id)


def _rolled_back(store: MemoryStore, command: Any) -> None:
    """Run ``command`` in a unit of work of the store (not of the desk) that fails."""
    try:
        with store.unit_of_work():
            command()
            raise RuntimeError("the caller's transaction fails")
    except RuntimeError:
        pass


def test_a_wake_time_remembered_for_a_rolled_back_version_is_not_trusted() -> None:
    """Desk A lowers a ticket's priority inside the caller's own transaction (the store's
    unit of work, as a web framework's request transaction), which then rolls back: A
    remembers a wake time for a version the store no longer has. Desk B then raises the
    priority to high, writing that same version number. A's next command must still
    catch up and record the breach due before it; before, A trusted the wake time of the
    rolled-back low-priority version and recorded its note ahead of the breach."""
    store = MemoryStore()
    start = datetime(2026, 3, 2, 10, 0, tzinfo=BERLIN)
    clock = ManualClock(start)
    a = Helpdesk(example_config(), store, clock)
    b = Helpdesk(example_config(), store, clock)
    ada = Requester(id="ada", email="ada@example.com")
    ticket = a.open(requester=ada, subject="Printer")
    _rolled_back(store, lambda: a.set_priority(ticket.id, "low", by="lena", reason="can wait"))
    raised = b.set_priority(ticket.id, "high", by="lena", reason="whole floor")
    assert (ticket.id, raised.version) in a._wakes  # the same version number
    clock.set(start + timedelta(hours=6))
    a.reply(ticket.id, author="lena", body="Looking", public=False)
    kinds = [type(e).__name__ for e in a.history(ticket.id)]
    assert "SlaBreached" in kinds
    assert kinds[-1] != "SlaBreached" and kinds.index("SlaBreached") < len(kinds) - 1
    assert _in_order(a, ticket.id)


class _ClosingBetweenPages(MemoryStore):
    """A store that runs ``hook`` once, right after the first page of a query that has
    more pages was read."""

    hook: Any = None

    def query(self, query: TicketQuery) -> Any:
        page = super().query(query)
        first = query.offset == 0 and query.after is None
        if self.hook is not None and first and page.next_offset is not None:
            hook, self.hook = self.hook, None
            hook()
        return page


def _always(first_response: str) -> DeskConfig:
    return DeskConfig.from_dict(
        {
            "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
            "tiers": [{"id": "L1", "teams": ["desk"]}],
            "teams": [{"id": "desk", "calendar": "always"}],
            "sla_policies": [
                {
                    "name": "standard",
                    "calendar": "always",
                    "targets": {"medium": {"first_response": first_response}},
                }
            ],
        }
    )


def test_a_reschedule_skips_no_ticket_when_another_desk_closes_one_meanwhile() -> None:
    """Desk A reschedules its 1,001 open tickets (read a thousand at a time) after a
    shorter first-response target came in; between its pages desk B cancels the first
    ticket. The pages went by offset, so the second started one ticket late: the ticket
    at the boundary kept its old wake-up, and its breach would be recorded seven hours
    late. Every other ticket now gets the new one."""
    store = _ClosingBetweenPages()
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    a = Helpdesk(_always("8h"), store, ManualClock(start))
    b = Helpdesk(_always("8h"), store, ManualClock(start))
    ids = [a.open(requester=Requester(id="ada"), subject=f"VPN {n}").id for n in range(1001)]
    store.hook = lambda: b.cancel(ids[0], by="system:cleanup", reason="duplicate")
    a.reconfigure(_always("1h"))
    assert store.hook is None  # B cancelled between A's pages
    due = store.due(start + timedelta(hours=1), limit=2000)
    assert sorted(due) == sorted(ids[1:])
