"""The storage conformance suite fails stores that break their contract: a suite that
passes a broken store protects nobody."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from helpdesk_core.errors import HelpdeskError
from helpdesk_core.storage import MemoryStore, Store
from helpdesk_core.testing import StoreConformance
from helpdesk_core.testing.conformance import make_differential_machine


class _Lossy(MemoryStore):
    """Keeps only the first two events of every append."""

    def append(self, ticket_id: str, *, events: Any, **kwargs: Any) -> Any:
        return super().append(ticket_id, events=list(events)[:2], **kwargs)


class _LossySuite(StoreConformance):
    def make_store(self) -> Store:
        return _Lossy()


def test_the_suite_fails_a_store_that_drops_events() -> None:
    suite = _LossySuite()
    suite.setup_method()
    try:
        with pytest.raises((AssertionError, HelpdeskError)):  # the test must not pass
            suite.test_many_events_appended_at_once_are_all_kept()
    finally:
        suite.teardown_method()


def test_the_differential_machine_fails_a_store_that_drops_events() -> None:
    machine = make_differential_machine(_Lossy)
    machine.TestCase.settings = settings(
        max_examples=200, deadline=None, suppress_health_check=list(HealthCheck)
    )
    with pytest.raises(AssertionError):
        machine.TestCase().runTest()
