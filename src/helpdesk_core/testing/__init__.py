"""Testing helpers for users of helpdesk_core.

* :mod:`~helpdesk_core.testing.strategies`: Hypothesis strategies for tickets, people,
  calendars, SLA policies, lifecycles, routing rules, whole desk configurations and
  command sequences;
* :class:`ReferenceModel`: a Hypothesis state machine that drives a reference desk with
  random commands, checks its invariants and compares your own system with it;
* :class:`StoreConformance`: the test suite every store passes (subclass it for your own
  adapter); :func:`make_differential_machine` checks a store against
  :class:`~helpdesk_core.storage.MemoryStore`;
* :mod:`~helpdesk_core.testing.plugin`: pytest fixtures (``manual_clock``, ``desk``,
  ``desk_factory``) and :func:`register_profiles`.

Everything loads on first use: ``import helpdesk_core.testing`` imports neither
Hypothesis nor pytest.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from helpdesk_core.testing.conformance import StoreConformance, make_differential_machine
    from helpdesk_core.testing.plugin import register_profiles
    from helpdesk_core.testing.reference import (
        AdvanceTime,
        ChangeStatus,
        Command,
        CommandRunner,
        Escalate,
        Mismatch,
        Observed,
        Open,
        Outcome,
        Rate,
        ReferenceModel,
        Reopen,
        Reply,
        SetPriority,
        Solve,
        TicketCommand,
        default_config,
    )
    from helpdesk_core.testing.strategies import register_strategies

_WHERE = {
    "StoreConformance": "conformance",
    "make_differential_machine": "conformance",
    "register_profiles": "plugin",
    "register_strategies": "strategies",
    "AdvanceTime": "reference",
    "ChangeStatus": "reference",
    "Command": "reference",
    "CommandRunner": "reference",
    "Escalate": "reference",
    "Mismatch": "reference",
    "Observed": "reference",
    "Open": "reference",
    "Outcome": "reference",
    "Rate": "reference",
    "ReferenceModel": "reference",
    "Reopen": "reference",
    "Reply": "reference",
    "SetPriority": "reference",
    "Solve": "reference",
    "TicketCommand": "reference",
    "default_config": "reference",
}
_SUBMODULES = ("strategies", "reference", "conformance", "plugin")

__all__ = [
    "AdvanceTime",
    "ChangeStatus",
    "Command",
    "CommandRunner",
    "Escalate",
    "Mismatch",
    "Observed",
    "Open",
    "Outcome",
    "Rate",
    "ReferenceModel",
    "Reopen",
    "Reply",
    "SetPriority",
    "Solve",
    "StoreConformance",
    "TicketCommand",
    "default_config",
    "make_differential_machine",
    "register_profiles",
    "register_strategies",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    if name in _SUBMODULES:
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
