"""Storage: the :class:`Store` port and its adapters.

:class:`MemoryStore` (the default) and :class:`SqliteStore` need only the standard library;
:class:`PostgresStore` needs the ``postgres`` extra (psycopg 3) and is imported only when
first used, so ``import helpdesk_core.storage`` never imports psycopg.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpdesk_core.storage.base import (
    CursorClaims,
    CursorDeletion,
    ImportItem,
    OutboxItem,
    Page,
    RequesterLock,
    SolvedTicketSearch,
    Store,
    TicketQuery,
    TicketScope,
    UnitOfWork,
)
from helpdesk_core.storage.memory import MemoryStore
from helpdesk_core.storage.sqlite import SqliteStore

if TYPE_CHECKING:
    from helpdesk_core.storage.postgres import PostgresStore

__all__ = [
    "CursorClaims",
    "CursorDeletion",
    "ImportItem",
    "MemoryStore",
    "OutboxItem",
    "Page",
    "PostgresStore",
    "RequesterLock",
    "SolvedTicketSearch",
    "SqliteStore",
    "Store",
    "TicketQuery",
    "TicketScope",
    "UnitOfWork",
]


def __getattr__(name: str) -> Any:
    if name == "PostgresStore":
        from helpdesk_core.storage.postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
