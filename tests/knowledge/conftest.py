"""Fixtures of the knowledge tests: a store factory run on every store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desk_stores import STORES, StoreFactory, store_factory


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Makes fresh stores of one kind (memory, SQLite, PostgreSQL); all are dropped after
    the test."""
    yield from store_factory(request, tmp_path)
