"""Testing helpers for users of helpdesk_core.

:class:`StoreConformance` is the test suite every store passes (subclass it for your own
adapter); :func:`make_differential_machine` builds a Hypothesis state machine that checks a
store against :class:`~helpdesk_core.storage.MemoryStore`. Both load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from helpdesk_core.testing.conformance import StoreConformance, make_differential_machine

__all__ = ["StoreConformance", "make_differential_machine"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from helpdesk_core.testing import conformance

        return getattr(conformance, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
