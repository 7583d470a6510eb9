"""Fixtures for the service tests: a Berlin desk on each store."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from service_fixtures import DESK

from helpdesk_core import DeskConfig, MemoryStore, SqliteStore
from helpdesk_core.storage import Store

DSN = os.environ.get("HELPDESK_TEST_POSTGRES_DSN", "")
_schemas = itertools.count()


def _memory(tmp_path: Path) -> Store:
    return MemoryStore()


def _sqlite(tmp_path: Path) -> Store:
    return SqliteStore(tmp_path / f"desk-{next(_schemas)}.sqlite")


def _postgres(tmp_path: Path) -> Store:
    from helpdesk_core.storage import PostgresStore

    return PostgresStore(DSN, schema=f"hd_service_{os.getpid()}_{next(_schemas)}")


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


def _drop(store: Store) -> None:
    schema = getattr(store, "_schema", None)
    store.close()
    if schema and DSN:
        import psycopg

        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    made: list[Store] = []

    def make() -> Store:
        store: Store = request.param(tmp_path)
        made.append(store)
        return store

    yield make
    for store in made:
        _drop(store)


@pytest.fixture
def config() -> DeskConfig:
    return DeskConfig.from_dict(DESK)
