"""Two desks (threads or processes) on one store assigning automatically at once: an
agent never ends up past their capacity because each desk read their load before the
other's assignment was saved."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from desk_stores import STORE_PAIRS, HookedStore, store_pair
from helpdesk_core import DeskConfig, Helpdesk, ManualClock, Requester
from helpdesk_core.storage import Store, TicketQuery

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture(params=STORE_PAIRS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    yield from store_pair(request, tmp_path)


def _config(auto_assign: bool = True) -> DeskConfig:
    return DeskConfig.from_dict(
        {
            "tiers": [{"id": "L1", "teams": ["desk"]}],
            "teams": [{"id": "desk"}],
            "agents": [{"id": "alice", "tier": "L1", "teams": ["desk"], "capacity": 1}],
            "assignment": {"auto_assign": auto_assign, "strategy": "least_loaded"},
        }
    )


def _assignees(store: Store) -> dict[str, str | None]:
    return {t.subject: t.assignee for t in store.query(TicketQuery(limit=10)).items}


def test_two_desks_opening_at_once_do_not_fill_an_agent_past_capacity(
    stores: tuple[Store, Store],
) -> None:
    """A reads alice's load (0 of 1); meanwhile B opens a ticket and gives it to her.
    Before, A's ticket went to her too (2 of 1); now A assigns again and queues it."""
    first, second = stores
    hooked = HookedStore(first)
    a = Helpdesk(_config(), hooked, ManualClock(T0))  # type: ignore[arg-type]
    b = Helpdesk(_config(), second, ManualClock(T0))
    b.upsert_requester(Requester(id="ada", email="ada@example.com"))
    hooked.hook(
        "agent_loads", lambda: True, lambda: b.open(requester="ada", subject="second")
    )
    ticket = a.open(requester="ada", subject="first")
    assert ticket.assignee is None and ticket.queued_at is not None
    assert _assignees(first) == {"first": None, "second": "alice"}
    assert sum(first.agent_loads()["alice"].values()) == 1
    numbers = [t.number for t in first.query(TicketQuery(limit=10)).items]
    assert len(set(numbers)) == 2


def test_two_desks_auto_assigning_at_once_do_not_fill_an_agent_past_capacity(
    stores: tuple[Store, Store],
) -> None:
    """Two queued tickets; A's auto_assign of one reads alice's load, and meanwhile B's
    auto_assign gives her the other. A's ticket stays in the queue."""
    first, second = stores
    hooked = HookedStore(first)
    a = Helpdesk(_config(auto_assign=False), hooked, ManualClock(T0))  # type: ignore[arg-type]
    b = Helpdesk(_config(auto_assign=False), second, ManualClock(T0))
    b.upsert_requester(Requester(id="ada", email="ada@example.com"))
    one = b.open(requester="ada", subject="one")
    two = b.open(requester="ada", subject="two")
    hooked.hook("agent_loads", lambda: True, lambda: b.auto_assign(two.id))
    assert a.auto_assign(one.id).assignee is None
    assert _assignees(first) == {"one": None, "two": "alice"}
