"""A pytest plugin for helpdesk_core users: fixtures and Hypothesis profiles.

Registered through the ``pytest11`` entry point (or ``pytest_plugins =
["helpdesk_core.testing.plugin"]`` in a conftest). Fixtures:

* ``manual_clock``: a :class:`~helpdesk_core.ManualClock` at Monday 2 March 2026, 09:00
  Europe/Berlin;
* ``desk``: a :class:`~helpdesk_core.Helpdesk` on the example IT desk
  (:func:`helpdesk_core.demo.example_config`), a MemoryStore, ``manual_clock`` and
  :class:`~helpdesk_core.SequentialIds`;
* ``desk_factory``: ``desk_factory(config=..., store=..., clock=...)`` builds more desks
  (defaults: the example config, a new MemoryStore, ``manual_clock``).

:func:`register_profiles` registers a CI and a local Hypothesis profile and loads the one
named by ``$HYPOTHESIS_PROFILE``. Hypothesis is imported only when it is used, so the
plugin costs nothing in a project that does not use it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime
from importlib.util import find_spec
from zoneinfo import ZoneInfo

import pytest

from helpdesk_core.clock import Clock, ManualClock
from helpdesk_core.config import DeskConfig
from helpdesk_core.errors import ValidationError
from helpdesk_core.ids import IdFactory, SequentialIds
from helpdesk_core.service import Helpdesk
from helpdesk_core.storage import MemoryStore, Store

__all__ = [
    "MONDAY_MORNING",
    "DeskFactory",
    "desk",
    "desk_factory",
    "manual_clock",
    "register_profiles",
]

#: Where ``manual_clock`` starts: Monday 2 March 2026, 09:00 in Berlin.
MONDAY_MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))

DeskFactory = Callable[..., Helpdesk]


def register_profiles(
    *,
    ci_examples: int = 200,
    dev_examples: int = 50,
    ci_name: str = "ci",
    dev_name: str = "dev",
    env_var: str = "HYPOTHESIS_PROFILE",
    load: bool = True,
) -> str:
    """Register two Hypothesis profiles, ``ci_name`` (``ci_examples`` examples, no
    deadline, failing examples printed as reproducible blobs, derandomized so a CI run
    is repeatable) and ``dev_name`` (``dev_examples`` examples, no deadline), and load
    the one ``$env_var`` names (default: ``ci_name`` when ``$CI`` is set, else
    ``dev_name``); a profile registered before, the project's own or Hypothesis's
    ``default``, may be named too. Returns the name chosen; ``load=False`` only
    registers."""
    from hypothesis import HealthCheck, settings
    from hypothesis.errors import InvalidArgument

    for name, value in (("ci_examples", ci_examples), ("dev_examples", dev_examples)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationError(f"{name} must be a whole number >= 1, got {value!r}", field=name)
    for name, text in (("ci_name", ci_name), ("dev_name", dev_name), ("env_var", env_var)):
        if not isinstance(text, str) or not text:
            raise ValidationError(f"{name} is non-empty text, got {text!r}", field=name)
    if ci_name == dev_name:
        raise ValidationError("ci_name and dev_name must be two different names", field="ci_name")
    if not isinstance(load, bool):
        raise ValidationError(f"load is true or false, got {load!r}", field="load")
    settings.register_profile(
        ci_name,
        max_examples=ci_examples,
        deadline=None,
        print_blob=True,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile(dev_name, max_examples=dev_examples, deadline=None)
    default = ci_name if os.environ.get("CI") else dev_name
    chosen = os.environ.get(env_var) or default
    if chosen not in (ci_name, dev_name):
        try:  # a profile of the project's own (registered before), or Hypothesis's
            settings.get_profile(chosen)
        except InvalidArgument:
            raise ValidationError(
                f"${env_var} is {chosen!r}, which is no registered profile: use "
                f"{ci_name!r} or {dev_name!r}, or register {chosen!r} first",
                field=env_var,
            ) from None
    if load:
        settings.load_profile(chosen)
    return chosen


def pytest_configure(config: pytest.Config) -> None:
    """Make ``st.from_type`` know helpdesk_core's classes when Hypothesis is installed."""
    if find_spec("hypothesis") is not None:
        from helpdesk_core.testing.strategies import register_strategies

        register_strategies()


@pytest.fixture
def manual_clock() -> ManualClock:
    """A manual clock at Monday 2 March 2026, 09:00 Europe/Berlin."""
    return ManualClock(MONDAY_MORNING)


@pytest.fixture
def desk_factory(manual_clock: ManualClock) -> Iterator[DeskFactory]:
    """Build desks: ``desk_factory(config=None, store=None, clock=None, ids=None)``
    (defaults: the example IT desk, a new MemoryStore, the ``manual_clock``, new
    sequential ids). Stores
    the factory created are closed after the test."""
    created: list[Store] = []

    def make(
        *,
        config: DeskConfig | None = None,
        store: Store | None = None,
        clock: Clock | None = None,
        ids: IdFactory | None = None,
    ) -> Helpdesk:
        if config is None:
            from helpdesk_core.demo import example_config

            config = example_config()
        if store is None:
            store = MemoryStore()
            created.append(store)
        return Helpdesk(
            config=config,
            store=store,
            clock=clock if clock is not None else manual_clock,
            ids=ids if ids is not None else SequentialIds(),
        )

    yield make
    for store in created:
        store.close()


@pytest.fixture
def desk(desk_factory: DeskFactory) -> Helpdesk:
    """A desk on the example IT desk, a MemoryStore, ``manual_clock`` and sequential ids."""
    return desk_factory()
