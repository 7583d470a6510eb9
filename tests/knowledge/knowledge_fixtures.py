"""Shared helpers of the knowledge tests: a small desk with problem management, and the
stores to run it on."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, SequentialIds, SqliteStore
from helpdesk_core.storage import Store

DSN = os.environ.get("HELPDESK_TEST_POSTGRES_DSN", "")
T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)
_names = itertools.count()


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


def _memory(tmp_path: Path) -> Store:
    return MemoryStore()


def _sqlite(tmp_path: Path) -> Store:
    return SqliteStore(tmp_path / f"knowledge-{next(_names)}.sqlite")


def _postgres(tmp_path: Path) -> Store:
    from helpdesk_core.storage import PostgresStore

    return PostgresStore(DSN, schema=f"hd_knowledge_{os.getpid()}_{next(_names)}")


STORES = [
    pytest.param(_memory, id="memory"),
    pytest.param(_sqlite, id="sqlite"),
    pytest.param(
        _postgres,
        id="postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not DSN, reason="set HELPDESK_TEST_POSTGRES_DSN to run PostgreSQL"),
        ],
    ),
]


def drop(store: Store) -> None:
    """Close a store made here; a PostgreSQL store's schema is dropped."""
    schema = getattr(store, "schema", None)
    store.close()
    if schema and DSN and not isinstance(store, MemoryStore | SqliteStore):
        import psycopg

        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


StoreFactory = Callable[[], Store]
