"""Shared helpers of the knowledge tests: a small desk with problem management, and the
stores to run it on (those of :mod:`desk_stores`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from desk_stores import STORES, StoreFactory, drop
from helpdesk_core import DeskConfig, Helpdesk, ManualClock, SequentialIds
from helpdesk_core.storage import Store

__all__ = ["STORES", "T0", "StoreFactory", "desk_config", "drop", "make_desk"]

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)


def desk_config(**knowledge: Any) -> DeskConfig:
    """Two teams on one tier; alice works the desk, bob the network team, root is admin."""
    doc: dict[str, Any] = {
        "tiers": [{"id": "L1", "teams": ["desk", "network"]}],
        "teams": [{"id": "desk"}, {"id": "network"}],
        "agents": [
            {"id": "alice", "tier": "L1", "teams": ["desk"]},
            {"id": "bob", "tier": "L1", "teams": ["network"]},
            {"id": "root", "role": "admin"},
            {"id": "gone", "teams": ["desk"], "active": False},
        ],
        "assignment": {"auto_assign": False},
    }
    if knowledge:
        doc["knowledge"] = knowledge
    return DeskConfig.from_dict(doc)


def make_desk(store: Store, **knowledge: Any) -> tuple[Helpdesk, ManualClock]:
    clock = ManualClock(T0)
    desk = Helpdesk(config=desk_config(**knowledge), store=store, clock=clock, ids=SequentialIds())
    return desk, clock
