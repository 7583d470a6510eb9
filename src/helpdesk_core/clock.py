"""Clocks: the only place helpdesk_core reads the wall clock.

Domain code takes ``now`` as an argument; the :class:`~helpdesk_core.Helpdesk` service gets it
from a :class:`Clock`. Apps use :class:`SystemClock`; tests and the simulator use
:class:`ManualClock`, which they advance explicitly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from helpdesk_core._numbers import real_number
from helpdesk_core._time import ensure_aware, to_timedelta
from helpdesk_core.errors import ValidationError

__all__ = ["Clock", "ManualClock", "SystemClock"]

_ZERO = timedelta(0)


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the current instant as a timezone-aware datetime."""

    def now(self) -> datetime:
        """Return the current instant (timezone-aware)."""
        ...


class SystemClock:
    """The real wall clock, in UTC."""

    def now(self) -> datetime:
        """Return the current instant in UTC."""
        return datetime.now(UTC)  # noqa: TID251 - the one wall-clock reader

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that moves only when told to; it never goes backwards.

    >>> from datetime import datetime, timedelta, UTC
    >>> clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    >>> clock.advance(hours=2).isoformat()
    '2026-03-02T11:00:00+00:00'
    """

    __slots__ = ("_now", "_utc")

    def __init__(self, start: datetime) -> None:
        self._now = ensure_aware(start, field="start")
        self._utc = _utc(self._now, field="start")

    def now(self) -> datetime:
        """Return the clock's current instant."""
        return self._now

    def advance(
        self,
        delta: timedelta | str | None = None,
        *,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
        seconds: float = 0,
    ) -> datetime:
        """Move the clock forward by ``delta`` (a timedelta or ``"4h"``-style text) and/or
        the keyword amounts; return the new instant. Negative amounts are refused.

        The step is elapsed time: across a daylight-saving change the wall clock of the
        start's zone shows one hour more or less than the step (2026-03-29 01:30 in
        Berlin, advanced by one hour, is 03:30)."""
        step = _ZERO
        try:
            for name, amount in (
                ("days", days),
                ("hours", hours),
                ("minutes", minutes),
                ("seconds", seconds),
            ):
                if amount.__class__ is not int or amount:  # the default 0 adds nothing
                    step += _amount(name, amount)
            if delta is not None:
                step += to_timedelta(delta, field="delta")
        except OverflowError:
            raise ValidationError("the step is out of range", field="delta") from None
        if step < timedelta(0):
            raise ValidationError(f"cannot move a clock backwards (by {step})", field="delta")
        try:
            utc = self._utc + step
            now = utc.astimezone(self._now.tzinfo)
        except OverflowError:
            raise ValidationError(
                f"advancing by {step} passes the last representable instant", field="delta"
            ) from None
        self._utc, self._now = utc, now
        return self._now

    def set(self, at: datetime) -> datetime:
        """Move the clock to ``at``, which must not be earlier than the current instant."""
        at = ensure_aware(at, field="at")
        utc = _utc(at, field="at")
        if utc < self._utc:
            raise ValidationError(
                f"cannot move a clock backwards from {self._now.isoformat()} to "
                f"{at.isoformat()}",
                field="at",
            )
        self._now = at
        self._utc = utc
        return self._now

    def __repr__(self) -> str:
        return f"ManualClock({self._now.isoformat()!r})"


def _amount(name: str, value: Any) -> timedelta:
    """One keyword amount of :meth:`ManualClock.advance` (``hours=2``) as a timedelta:
    a finite real number (not a bool, not text), or a ValidationError naming it."""
    number = real_number(value)
    if number is None or number != number or number in (float("inf"), float("-inf")):
        raise ValidationError(f"{name} is a finite number, got {value!r}", field=name)
    try:
        return timedelta(**{name: number})
    except OverflowError:
        raise ValidationError(f"{name}={value!r} is out of range", field=name) from None


def _utc(at: datetime, *, field: str) -> datetime:
    """``at`` in UTC, where adding and comparing count elapsed time (in a zone with
    daylight saving, Python adds and compares wall times of the same zone); a
    ValidationError naming ``field`` when UTC cannot hold it (year 1 or 9999 in its zone,
    out of them in UTC)."""
    if at.tzinfo is UTC:
        return at
    try:
        return at.astimezone(UTC)
    except OverflowError:
        raise ValidationError(
            f"instant {at.isoformat()} is out of range: in UTC it falls before year 1 "
            "or after year 9999",
            field=field,
        ) from None
