"""A ticket closed without being solved (cancelled as a duplicate, say) neither met nor
missed its SLA targets: its clocks stop with the reason ``CANCELLED`` and compliance
leaves them out; a breach recorded before the cancellation still counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore
from helpdesk_core.model import Requester, SlaClockStopped
from helpdesk_core.reporting import build_report
from helpdesk_core.sla import CANCELLED

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
POLICY = {
    "name": "std",
    "calendar": "always",
    "targets": {"medium": {"first_response": "1h", "resolution": "1d"}},
}


def _desk(**extra: Any) -> tuple[Helpdesk, ManualClock]:
    config = DeskConfig.from_dict(
        {"agents": [{"id": "alice", "teams": ["service-desk"]}], "sla_policies": [POLICY], **extra}
    )
    clock = ManualClock(T0)
    desk = Helpdesk(config, MemoryStore(), clock)
    desk.upsert_requester(Requester(id="r1", name="R"))
    return desk, clock


def _stops(desk: Helpdesk, ticket_id: str) -> dict[str, str]:
    return {
        e.clock.metric.value: e.reason
        for e in desk.history(ticket_id)
        if isinstance(e, SlaClockStopped)
    }


def _compliance(desk: Helpdesk, *ticket_ids: str) -> dict[str, tuple[int, int]]:
    events = [e for t in ticket_ids for e in desk.history(t)]
    rows = build_report(events).sla.by_metric.rows
    return {row.metric: (row.met, row.breached) for row in rows if row.metric}


def test_a_cancelled_ticket_neither_meets_nor_misses_its_targets() -> None:
    desk, clock = _desk()
    duplicate = desk.open(requester="r1", subject="Printer (again)")
    clock.advance(timedelta(minutes=30))
    desk.transition(duplicate.id, "cancel", by="alice", reason="duplicate")
    assert _stops(desk, duplicate.id) == {"first_response": CANCELLED, "resolution": CANCELLED}
    worked = desk.open(requester="r1", subject="Printer")
    desk.reply(worked.id, author="alice", body="Looking")
    desk.solve(worked.id, by="alice", resolution="Cleaned")
    desk.close(worked.id, by="alice")
    assert _stops(desk, worked.id) == {"first_response": "", "resolution": ""}
    assert _compliance(desk, duplicate.id, worked.id) == {
        "first_response": (1, 0),
        "resolution": (1, 0),
    }


def test_a_breach_before_the_cancellation_still_counts() -> None:
    desk, clock = _desk()
    late = desk.open(requester="r1", subject="VPN down")
    clock.advance(timedelta(hours=2))
    desk.tick()  # first response breached at 10:00
    desk.transition(late.id, "cancel", by="alice", reason="requester gone")
    assert _compliance(desk, late.id) == {"first_response": (0, 1)}


def test_a_lifecycle_without_a_solved_status_closes_as_its_solve() -> None:
    lifecycle = {
        "initial": "open",
        "statuses": [{"name": "open", "category": "open"}, {"name": "done", "category": "closed"}],
        "transitions": [{"name": "finish", "from": "open", "to": "done"}],
    }
    desk, clock = _desk(lifecycles={"default": lifecycle})
    ticket = desk.open(requester="r1", subject="Badge")
    clock.advance(timedelta(minutes=20))
    desk.transition(ticket.id, "finish", by="alice")
    assert _stops(desk, ticket.id) == {"first_response": "", "resolution": ""}
    assert _compliance(desk, ticket.id) == {"first_response": (1, 0), "resolution": (1, 0)}
