"""Id factories: where ticket, comment and event ids come from.

Injected into :class:`~helpdesk_core.Helpdesk` so tests and simulations get deterministic,
readable ids and apps get globally unique ones.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from helpdesk_core.errors import ValidationError

__all__ = ["IdFactory", "SequentialIds", "UuidIds"]


@runtime_checkable
class IdFactory(Protocol):
    """Makes new unique ids; ``kind`` is e.g. ``"ticket"`` or ``"comment"``."""

    def new_id(self, kind: str) -> str:
        """Return a new id for an object of this kind."""
        ...


class SequentialIds:
    """Deterministic ids ``T-000001``, ``C-000001`` ... one counter per kind.

    The prefix of each kind is its first letter in upper case unless given in ``prefixes``.
    """

    def __init__(self, *, prefixes: dict[str, str] | None = None, width: int = 6) -> None:
        if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= 64:
            raise ValidationError("width is a whole number from 1 to 64", field="width")
        if prefixes is not None and not (
            isinstance(prefixes, Mapping)
            and all(isinstance(k, str) and isinstance(p, str) for k, p in prefixes.items())
        ):
            raise ValidationError("prefixes map id kinds to prefixes (text)", field="prefixes")
        self._prefixes = dict(prefixes) if prefixes is not None else {}
        self._counters: dict[str, itertools.count[int]] = {}
        self._width = width

    def new_id(self, kind: str) -> str:
        """Return the next id of ``kind`` (text; a ValidationError names anything else)."""
        counter = self._counters.get(kind) if kind.__class__ is str else None
        if counter is None:
            if not isinstance(kind, str):
                raise ValidationError(
                    f"an id kind is text such as 'ticket', got {type(kind).__name__}",
                    field="kind",
                )
            # Threads that ask for a kind's first id at once all count on one counter.
            counter = self._counters.setdefault(kind, itertools.count(1))
        prefix = self._prefixes.get(kind) or (kind[:1].upper() or "X")
        # (zfill pads as the format "0{width}d" does, without a format spec built per id)
        return prefix + "-" + str(next(counter)).zfill(self._width)

    def __repr__(self) -> str:
        return f"SequentialIds(prefixes={self._prefixes!r}, width={self._width})"


class UuidIds:
    """Random, globally unique ids (UUID4 hex), safe across processes and hosts."""

    def new_id(self, kind: str) -> str:
        """Return a new random id."""
        return uuid.uuid4().hex  # noqa: TID251 - the random id factory

    def __repr__(self) -> str:
        return "UuidIds()"
