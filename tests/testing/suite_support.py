"""Running one test of the storage conformance suite on a store made for the occasion
(shared by the tests that check what the suite catches and what it says)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from helpdesk_core.storage import Store
from helpdesk_core.testing import StoreConformance


def suite_failure(make_store: Callable[[], Store], test: str) -> str:
    """Run the suite's ``test`` on stores ``make_store`` makes: it must fail; the message
    of the AssertionError it fails with."""

    class Suite(StoreConformance):
        def make_store(self) -> Store:
            return make_store()

    suite = Suite()
    suite.setup_method()
    try:
        with pytest.raises(AssertionError) as info:  # the test must not pass
            getattr(suite, test)()
    finally:
        suite.teardown_method()
    return str(info.value)
