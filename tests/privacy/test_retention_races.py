"""Retention next to other workers: a ticket purged or changed after the scan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester
from helpdesk_core.errors import NotFound
from helpdesk_core.privacy import RetentionPolicy
from helpdesk_core.storage import Page, TicketQuery

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _config(action: str) -> DeskConfig:
    policy = RetentionPolicy(name="short", after="30d", action=action)
    return DeskConfig.from_dict(
        {
            "tiers": [{"id": "L1", "teams": ["desk"]}],
            "teams": [{"id": "desk"}],
            "agents": [{"id": "alice", "teams": ["desk"]}],
            "assignment": {"auto_assign": False},
            "privacy": {"retention": [policy.to_dict()]},
        }
    )


class _RacingStore(MemoryStore):
    """Runs ``meanwhile`` right after the first query of closed tickets, as another
    worker would between the retention scan and the purge."""

    def __init__(self) -> None:
        super().__init__()
        self.meanwhile: list[object] = []

    def query(self, query: TicketQuery) -> Page:  # type: ignore[type-arg]
        page = super().query(query)
        while self.meanwhile:
            self.meanwhile.pop(0)()  # type: ignore[operator]
        return page


def _desk(action: str) -> tuple[Helpdesk, _RacingStore, ManualClock, list[str]]:
    store = _RacingStore()
    clock = ManualClock(T0)
    desk = Helpdesk(_config(action), store, clock)
    desk.upsert_requester(Requester(id="ada", name="Ada"))
    ids = []
    for _ in range(3):
        ticket = desk.open(requester="ada", subject="printer")
        desk.reply(ticket.id, author="alice", body="fixed")
        desk.solve(ticket.id, by="alice", resolution="fixed")
        desk.close(ticket.id, by="alice")
        ids.append(ticket.id)
    clock.advance(timedelta(days=31))
    return desk, store, clock, ids


def test_a_ticket_purged_by_another_worker_does_not_stop_the_run() -> None:
    desk, store, _, ids = _desk("purge")
    store.meanwhile.append(lambda: store.purge(ids[0], expected_version=store.load(ids[0]).version))
    desk.apply_retention()
    for ticket_id in ids:
        try:
            desk.get(ticket_id)
        except NotFound:
            continue
        raise AssertionError(f"{ticket_id} survived the retention run")


def test_anonymising_skips_a_ticket_purged_meanwhile() -> None:
    desk, store, _, ids = _desk("anonymise")
    store.meanwhile.append(lambda: store.purge(ids[1], expected_version=store.load(ids[1]).version))
    events = desk.apply_retention()
    assert {e.ticket_id for e in events} == {ids[0], ids[2]}


def test_a_ticket_changed_after_the_scan_is_purged_only_if_still_due() -> None:
    desk, store, _, ids = _desk("purge")
    # after the scan, one ticket gets a new event (still closed, still due) ...
    store.meanwhile.append(lambda: desk.rate(ids[0], score=5, by="ada"))
    desk.apply_retention()
    for ticket_id in ids:
        try:
            desk.get(ticket_id)
        except NotFound:
            continue
        raise AssertionError(f"{ticket_id} survived although still due")


def test_a_ticket_another_worker_anonymised_meanwhile_is_anonymised_once() -> None:
    for action in ("anonymise", "delete"):
        desk, store, clock, ids = _desk(action)
        other = Helpdesk(desk.config, store, clock)  # a second worker on the same store
        store.meanwhile.append(other.apply_retention)
        assert desk.apply_retention() == []  # the other worker did them all
        for ticket_id in ids:
            kinds = [type(e).__name__ for e in store.events(ticket_id)]
            assert kinds.count("TicketAnonymised") == 1, (action, kinds)
