"""Fixtures of the knowledge tests: a store factory run on every store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from knowledge_fixtures import STORES, StoreFactory, drop

from helpdesk_core.storage import Store


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Makes fresh stores of one kind (memory, SQLite, PostgreSQL); all are dropped after
    the test."""
    made: list[Store] = []

    def make() -> Store:
        store: Store = request.param(tmp_path)
        made.append(store)
        return store

    yield make
    for store in made:
        drop(store)
