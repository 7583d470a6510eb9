"""The stores the desk-level tests run on (memory, SQLite, PostgreSQL), shared by the
fixtures of several test folders (``tests/`` is on the import path through its conftest)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from helpdesk_core import MemoryStore, SqliteStore
from helpdesk_core.storage import Store

DSN = os.environ.get("HELPDESK_TEST_POSTGRES_DSN", "")
_names = itertools.count()

StoreFactory = Callable[[], Store]


def _memory(tmp_path: Path) -> Store:
    return MemoryStore()


def _sqlite(tmp_path: Path) -> Store:
    return SqliteStore(tmp_path / f"desk-{next(_names)}.sqlite")


def _postgres(tmp_path: Path) -> Store:
    from helpdesk_core.storage import PostgresStore

    return PostgresStore(DSN, schema=f"hd_desk_{os.getpid()}_{next(_names)}")


#: The marks of a test that needs PostgreSQL (skipped without a DSN).
POSTGRES_MARKS = [
    pytest.mark.postgres,
    pytest.mark.skipif(not DSN, reason="set HELPDESK_TEST_POSTGRES_DSN to run PostgreSQL"),
]

#: ``pytest.param``s of functions ``tmp_path -> Store``, one per kind of store.
STORES = [
    pytest.param(_memory, id="memory"),
    pytest.param(_sqlite, id="sqlite"),
    pytest.param(_postgres, id="postgres", marks=POSTGRES_MARKS),
]


def _memory_twice(tmp_path: Path) -> tuple[Store, Store]:
    store = MemoryStore()
    return store, store


def _sqlite_twice(tmp_path: Path) -> tuple[Store, Store]:
    path = tmp_path / f"shared-{next(_names)}.sqlite"
    first = SqliteStore(path)
    return first, SqliteStore(path)


def _postgres_twice(tmp_path: Path) -> tuple[Store, Store]:
    from helpdesk_core.storage import PostgresStore

    schema = f"hd_pair_{os.getpid()}_{next(_names)}"
    first = PostgresStore(DSN, schema=schema)
    return first, PostgresStore(DSN, schema=schema)


#: ``pytest.param``s of functions ``tmp_path -> (Store, Store)``: two handles on one
#: database, as two threads or processes have (the same MemoryStore twice, two
#: SqliteStores on one file, two PostgresStore connections to one schema).
STORE_PAIRS = [
    pytest.param(_memory_twice, id="memory"),
    pytest.param(_sqlite_twice, id="sqlite"),
    pytest.param(_postgres_twice, id="postgres", marks=POSTGRES_MARKS),
]


def drop(store: Store) -> None:
    """Close a store made here; a PostgreSQL store's schema is dropped."""
    schema = getattr(store, "schema", None)
    store.close()
    if schema and DSN and not isinstance(store, MemoryStore | SqliteStore):
        import psycopg

        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """The body of a ``make_store`` fixture parametrized with :data:`STORES`: yields a
    function making fresh stores of the requested kind, and drops them all afterwards."""
    made: list[Store] = []

    def make() -> Store:
        store: Store = request.param(tmp_path)
        made.append(store)
        return store

    yield make
    for store in made:
        drop(store)


def store_pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """The body of a fixture parametrized with :data:`STORE_PAIRS`: yields two handles on
    one database, and closes and drops them afterwards."""
    first, second = request.param(tmp_path)
    yield first, second
    if second is not first:
        second.close()
    drop(first)


class HookedStore:
    """A store handle that runs each hook once, right after the first call of its
    ``method`` whose arguments its ``when`` accepts; every other call passes straight
    through (a race test's "meanwhile, on another handle ...")."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._hooks: list[tuple[str, Callable[..., bool], Callable[[], None]]] = []

    def hook(self, method: str, when: Callable[..., bool], hook: Callable[[], None]) -> None:
        self._hooks.append((method, when, hook))

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._store, name)
        if not any(method == name for method, _, _ in self._hooks):
            return found

        def hooked(*args: Any, **kwargs: Any) -> Any:
            result = found(*args, **kwargs)
            for entry in self._hooks:
                method, when, hook = entry
                if method == name and when(*args, **kwargs):
                    self._hooks.remove(entry)
                    hook()
                    break
            return result

        return hooked
