"""Fixtures for the service tests: a Berlin desk on each store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from service_fixtures import DESK

from desk_stores import STORES, StoreFactory, store_factory
from helpdesk_core import DeskConfig


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    yield from store_factory(request, tmp_path)


@pytest.fixture
def config() -> DeskConfig:
    return DeskConfig.from_dict(DESK)
