"""Numbers given by callers: Python's own, and the other real numbers that register with
:mod:`numbers` (NumPy's integers and floats, ``fractions.Fraction``, ``decimal.Decimal``
is not one), as a notebook hands them over (``np.int64(4)``, ``list(np.arange(3, 8))``).
A bool is never a number here (``True`` is not one agent)."""

from __future__ import annotations

import numbers
from typing import Any

__all__ = ["real_number", "whole_number"]


def whole_number(value: Any) -> int | None:
    """``value`` as a Python int if it is a whole number (an ``int`` or any
    ``numbers.Integral`` but a bool), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, numbers.Integral):
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
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return None
