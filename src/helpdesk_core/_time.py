"""Time helpers shared by the whole library: validation of aware datetimes and durations.

Hot paths use plain :mod:`datetime`; pendulum is used here only to parse human durations
(``"4h"``, ``"1d 2h"``) and ISO 8601 periods at the edges.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from helpdesk_core._numbers import is_timedelta64, real_number
from helpdesk_core.errors import ValidationError

__all__ = [
    "DESK_YEARS",
    "desk_instant",
    "ensure_aware",
    "format_duration",
    "parse_datetime",
    "to_timedelta",
]

_UNIT_SECONDS = {
    "w": 604800,
    "d": 86400,
    "h": 3600,
    "m": 60,
    "min": 60,
    "s": 1,
}
#: Microseconds per unit of a NumPy ``timedelta64`` (units finer than a microsecond as
#: fractions; years and months have no fixed length).
_TIMEDELTA64_MICROSECONDS = {
    "W": Fraction(604_800_000_000),
    "D": Fraction(86_400_000_000),
    "h": Fraction(3_600_000_000),
    "m": Fraction(60_000_000),
    "s": Fraction(1_000_000),
    "ms": Fraction(1_000),
    "us": Fraction(1),
    "ns": Fraction(1, 1_000),
    "ps": Fraction(1, 1_000_000),
    "fs": Fraction(1, 1_000_000_000),
    "as": Fraction(1, 1_000_000_000_000),
}
_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(w|d|h|min|m|s)\s*", re.IGNORECASE)


def ensure_aware(value: Any, *, field: str = "datetime") -> datetime:
    """Return ``value`` if it is a timezone-aware datetime, else raise ValidationError."""
    if not isinstance(value, datetime):
        raise ValidationError(
            f"expected a timezone-aware datetime, got {type(value).__name__}", field=field
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            f"naive datetime {value.isoformat()} refused: give a timezone-aware datetime",
            field=field,
        )
    return value


#: The years (UTC) a desk works in: those business time is computed for, so that every
#: SLA deadline, shift and business-day count of a command can be worked out.
DESK_YEARS = (3, 9997)
_DESK_FIRST = datetime(DESK_YEARS[0], 1, 1, tzinfo=UTC)
_DESK_END = datetime(DESK_YEARS[1] + 1, 1, 1, tzinfo=UTC)


def desk_instant(value: Any, *, field: str) -> datetime:
    """``value`` if it is an aware datetime in the years a desk works in
    (:data:`DESK_YEARS`, in UTC); else a ValidationError naming ``field``."""
    at = ensure_aware(value, field=field)
    # (comparing aware datetimes works on their offsets: no conversion that may overflow)
    if not _DESK_FIRST <= at < _DESK_END:
        raise ValidationError(
            f"{at.isoformat()} is outside the years {DESK_YEARS[0]} to {DESK_YEARS[1]} "
            "(UTC) a desk works in",
            field=field,
        )
    return at


def parse_datetime(value: Any, *, field: str = "datetime") -> datetime:
    """Accept an aware datetime or an ISO 8601 string with an offset."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError(f"not an ISO 8601 datetime: {value!r}", field=field) from exc
        return ensure_aware(parsed, field=field)
    return ensure_aware(value, field=field)


def to_timedelta(value: Any, *, field: str = "duration", allow_negative: bool = False) -> timedelta:
    """Turn a timedelta (a pandas ``Timedelta`` or a NumPy ``timedelta64`` too), a number of
    seconds, ``"4h"`` / ``"1d 2h 30m"`` text or an ISO 8601 duration (``"PT4H"``) into a
    timedelta."""
    result: timedelta
    if isinstance(value, timedelta):
        result = value if type(value) is timedelta else _plain_timedelta(value, field=field)
    elif is_timedelta64(value):
        result = _from_timedelta64(value, field=field)
    elif isinstance(value, bool):
        raise ValidationError(f"expected a duration, got {value!r}", field=field)
    elif not isinstance(value, str) and (number := real_number(value)) is not None:
        value = number
        if value != value or value in (float("inf"), float("-inf")):
            raise ValidationError(f"expected a finite duration, got {value!r}", field=field)
        try:
            result = timedelta(seconds=value)
        except OverflowError as exc:
            raise ValidationError(f"duration out of range: {value!r}", field=field) from exc
    elif isinstance(value, str):
        try:
            result = _parse_duration_text(value, field=field)
        except OverflowError as exc:
            raise ValidationError(f"duration out of range: {value!r}", field=field) from exc
    else:
        raise ValidationError(
            f"expected a duration (timedelta, seconds, '4h' or ISO 8601), got "
            f"{type(value).__name__}",
            field=field,
        )
    if not allow_negative and result < timedelta(0):
        raise negative_duration(result, field=field)
    return result


def negative_duration(value: timedelta, *, field: str) -> ValidationError:
    """The error refusing a negative duration, written as it would be given ("-5s", not
    timedelta's "-1 day, 23:59:55")."""
    text = format_duration(value) if not value.microseconds else f"{value.total_seconds():g}s"
    return ValidationError(f"negative duration {text} refused", field=field)


def _plain_timedelta(value: timedelta, *, field: str) -> timedelta:
    """A timedelta of a subclass as a plain one; pandas' ``Timedelta`` counts nanoseconds
    too, rounded to the microsecond as its ``timedelta64`` would be."""
    exact = getattr(value, "asm8", None)
    if is_timedelta64(exact):
        return _from_timedelta64(exact, field=field)
    return timedelta(value.days, value.seconds, value.microseconds)


def _from_timedelta64(value: Any, *, field: str) -> timedelta:
    """A NumPy ``timedelta64`` as a timedelta, rounded to the microsecond (its integer
    counts its own units, not seconds)."""
    import numpy as np

    if np.isnat(value):
        raise ValidationError("expected a duration, got NaT (no duration)", field=field)
    unit, step = np.datetime_data(value.dtype)
    per_unit = _TIMEDELTA64_MICROSECONDS.get(unit)
    if per_unit is None:
        raise ValidationError(
            f"a timedelta64 in units of {unit!r} has no fixed length: give it in weeks, "
            "days, hours, minutes or seconds",
            field=field,
        )
    microseconds = round(int(value.astype(np.int64)) * step * per_unit)
    try:
        return timedelta(microseconds=microseconds)
    except OverflowError as exc:
        raise ValidationError(f"duration out of range: {value!r}", field=field) from exc


def _parse_duration_text(text: str, *, field: str) -> timedelta:
    stripped = text.strip()
    if not stripped:
        raise ValidationError("empty duration", field=field)
    if stripped[0] in "Pp":
        import pendulum

        try:
            parsed = pendulum.parse(stripped.upper())
        except Exception as exc:  # pendulum raises its own ParserError family
            raise ValidationError(f"not an ISO 8601 duration: {text!r}", field=field) from exc
        if not isinstance(parsed, pendulum.Duration):
            raise ValidationError(f"not an ISO 8601 duration: {text!r}", field=field)
        if parsed.years or parsed.months:
            raise ValidationError(
                f"duration {text!r} uses years or months, which have no fixed length",
                field=field,
            )
        return timedelta(seconds=parsed.total_seconds())
    pos = 0
    total = 0.0
    for match in _DURATION_PART.finditer(stripped):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
        pos = match.end()
    if pos != len(stripped) or pos == 0:
        raise ValidationError(
            f"cannot read duration {text!r}: use e.g. '4h', '1d 2h 30m', '90s' or 'PT4H'",
            field=field,
        )
    return timedelta(seconds=total)


def format_duration(delta: timedelta) -> str:
    """Short human text for a duration: ``'2d 3h 5m'``, ``'45s'``, ``'-1h'``."""
    sign = "-" if delta < timedelta(0) else ""
    seconds = int(abs(delta).total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "m")) if v]
    if secs or not parts:
        parts.append(f"{secs}s")
    return sign + " ".join(parts)
