"""A failing conformance test says what went wrong without the suite's source open: its
message names the store method, what was asked, what was expected (and, under pytest's
assertion rewriting, what came back)."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from suite_support import suite_failure

from helpdesk_core.errors import NotFound, ValidationError
from helpdesk_core.storage import MemoryStore, Store
from helpdesk_core.testing import StoreConformance, make_differential_machine


class _VersionBlind(MemoryStore):
    """``reschedule`` sets the wake-up whatever version it names."""

    def reschedule(self, ticket_id: str, *, expected_version: int, wake_at: Any) -> bool:
        current = self.load(ticket_id).version
        return super().reschedule(ticket_id, expected_version=current, wake_at=wake_at)


class _WallClock(MemoryStore):
    """Keeps a wake-up's wall-clock time and drops its zone (read back as UTC)."""

    def append(self, ticket_id: str, *, wake_at: datetime | None = None, **rest: Any) -> None:
        if wake_at is not None:
            wake_at = wake_at.replace(tzinfo=UTC)
        super().append(ticket_id, wake_at=wake_at, **rest)


class _AckAnything(MemoryStore):
    """Acks unknown outbox items without a word."""

    def ack_outbox(self, consumer: str, ids: Any) -> None:
        with contextlib.suppress(NotFound):
            super().ack_outbox(consumer, ids)


class _AckElsewhere(MemoryStore):
    """Records every ack for another consumer."""

    def ack_outbox(self, consumer: str, ids: Any) -> None:
        super().ack_outbox(f"{consumer}-elsewhere", ids)


def _failure(store: type[MemoryStore], test: str) -> str:
    """The message of the AssertionError the suite's ``test`` fails with on ``store``."""
    return suite_failure(store, test)


@pytest.mark.parametrize(
    ("store", "test", "says"),
    [
        (
            _VersionBlind,
            "test_reschedule_sets_the_wake_up_of_the_version_it_names",
            r"reschedule\('T-1', expected_version=1, wake_at=T0\) of T-1, now at version 2, "
            r"must return False and change nothing",
        ),
        (
            _WallClock,
            "test_due_lists_earliest_first",
            r"due\(T0\) must list no ticket: every wake-up is later \(T-6's, given in New York "
            r"time, is T0 \+ 2 minutes as an instant, not as wall-clock time\)",
        ),
        (
            _AckAnything,
            "test_outbox_refuses_unknown_items",
            r"NotFound not raised: in test_outbox_refuses_unknown_items, "
            r"self\.store\.ack_outbox\(\"mail\", \[\"T-1:1\", \"T-404:1\"\]\)",
        ),
        (
            _AckElsewhere,
            "test_outbox_delivers_every_event_once_acked",
            r"claim_outbox\('mail'\) a day later after ack_outbox\('mail', every id\) must hand "
            r"out nothing: acked items never come back",
        ),
    ],
)
def test_a_failure_names_the_method_what_was_asked_and_what_was_expected(
    store: type[MemoryStore], test: str, says: str
) -> None:
    message = _failure(store, test)
    assert re.search(says, message), message


def test_the_bundled_memory_store_passes_the_tests_used_here() -> None:
    class Suite(StoreConformance):
        def make_store(self) -> Store:
            return MemoryStore()

    suite = Suite()
    for test in (
        "test_reschedule_sets_the_wake_up_of_the_version_it_names",
        "test_due_lists_earliest_first",
        "test_outbox_delivers_every_event_once_acked",
        "test_outbox_refuses_unknown_items",
    ):
        suite.setup_method()
        try:
            getattr(suite, test)()
        finally:
            suite.teardown_method()


@pytest.mark.parametrize(
    ("arguments", "argument"),
    [
        ({"make_store": MemoryStore()}, "make_store"),  # a store, not what makes one
        ({"make_store": "memory"}, "make_store"),
        ({"make_store": MemoryStore, "teardown": "close"}, "teardown"),
    ],
    ids=["a-store", "text", "teardown"],
)
def test_the_differential_machine_refuses_what_cannot_make_a_store(
    arguments: dict[str, Any], argument: str
) -> None:
    # when it is made, not as a TypeError in every example it runs
    with pytest.raises(ValidationError) as caught:
        make_differential_machine(**arguments)
    assert caught.value.field == argument


def _made_and_not_returned() -> Any:
    MemoryStore().close()  # made, and the return forgotten


def test_a_suite_whose_make_store_returns_nothing_says_so() -> None:
    # one ValidationError naming make_store, not an AttributeError on None in every test
    # of the suite and again in its teardown
    class Forgot(StoreConformance):
        def make_store(self) -> Store:
            return _made_and_not_returned()

    suite = Forgot()
    with pytest.raises(ValidationError, match="make_store returned None") as caught:
        suite.setup_method()
    assert caught.value.field == "make_store"
    suite.teardown_method()  # nothing was made: nothing to tear down
