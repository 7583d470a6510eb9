"""Numbers given by callers: Python's own, and the other real numbers that register with
:mod:`numbers` (NumPy's integers and floats, ``fractions.Fraction``, ``decimal.Decimal``
is not one), as a notebook hands them over (``np.int64(4)``, ``list(np.arange(3, 8))``).
A bool is never a number here (``True`` is not one agent), nor is a NumPy ``timedelta64``
(NumPy registers it as an integer, but it is a duration in units of its own: see
:func:`is_timedelta64`)."""

from __future__ import annotations

import numbers
from typing import Any

__all__ = ["is_timedelta64", "real_number", "whole_number"]


def is_timedelta64(value: Any) -> bool:
    """Whether ``value`` is a NumPy ``timedelta64`` (what a pandas column of durations
    holds as NumPy data). NumPy registers it as an integer, but its integer counts units
    of its own (nanoseconds, minutes ...): read as a number of seconds, it would be
    wrong."""
    return getattr(getattr(value, "dtype", None), "kind", None) == "m"


def whole_number(value: Any) -> int | None:
    """``value`` as a Python int if it is a whole number (an ``int`` or any
    ``numbers.Integral`` but a bool), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, numbers.Integral) and not is_timedelta64(value):
        return int(value)
    return None


def real_number(value: Any) -> int | float | None:
    """``value`` as a Python int or float if it is a real number (an ``int``, a
    ``float`` or any ``numbers.Real`` but a bool), else None. Integers stay integers (an
    int too large for a float is the caller's to refuse)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, numbers.Integral):
        return None if is_timedelta64(value) else int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return None
