"""attrs validators and converters shared by the model (private)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from helpdesk_core.errors import ValidationError

_T = TypeVar("_T")

# Outer bounds. Model values enforce the first four whatever a desk is configured with;
# a desk's limits (helpdesk_core.privacy.Limits) may lower every one of them, never raise it.
#: Longest id (ticket, requester, agent, team, tier, custom field name ...).
MAX_ID_LENGTH = 200
#: Most tags one ticket (or one change of its tags) may carry.
MAX_TAGS = 1_000
#: Most custom fields (or requester attributes) one value may carry.
MAX_FIELDS = 1_000
#: Longest text a custom field (or requester attribute) may hold.
MAX_FIELD_TEXT_LENGTH = 100_000
#: Longest free text (description, reply body, resolution, reason) the facade accepts.
#: Model values do not check it, so a store round-trips any history it is given.
MAX_BODY_LENGTH = 1_000_000

_INT64 = 2**63
_ID_RE = re.compile(r"^[A-Za-z0-9_.:@+\-]+\Z")  # \Z: "$" also matches before a final "\n"

FieldValue = str | int | float | bool | None


def _name(attribute: Any) -> str:
    return str(getattr(attribute, "alias", None) or attribute.name).lstrip("_")


def is_identifier(value: str) -> bool:
    """Whether ``value`` is a valid id (see :func:`identifier`)."""
    return bool(value) and len(value) <= MAX_ID_LENGTH and _ID_RE.match(value) is not None


def identifier(instance: Any, attribute: Any, value: Any) -> None:
    """A non-empty id of letters, digits and ``_.:@+-``."""
    if not isinstance(value, str):
        raise ValidationError(
            f"expected an id (text), got {type(value).__name__}", field=_name(attribute)
        )
    if not is_identifier(value):
        raise ValidationError(
            f"invalid id {value!r}: use 1-{MAX_ID_LENGTH} letters, digits or _.:@+-",
            field=_name(attribute),
        )


def optional_identifier(instance: Any, attribute: Any, value: Any) -> None:
    """None or a valid id."""
    if value is not None:
        identifier(instance, attribute, value)


_SURROGATE = re.compile("[\ud800-\udfff]")


def check_unicode(value: str, field: str | None) -> None:
    """Refuse a str holding a lone surrogate (no encoding can store it, so a store would
    fail on it, or a memory store keep what no other store can)."""
    if not value.isascii() and _SURROGATE.search(value) is not None:
        raise ValidationError(
            "text holds a lone surrogate (not valid Unicode text)", field=field
        )


def text(instance: Any, attribute: Any, value: Any) -> None:
    """Any str (may be empty) that is valid Unicode text."""
    if not isinstance(value, str):
        raise ValidationError(f"expected text, got {type(value).__name__}", field=_name(attribute))
    if not value.isascii():
        check_unicode(value, _name(attribute))


def non_empty_text(instance: Any, attribute: Any, value: Any) -> None:
    """A str with at least one non-blank character."""
    text(instance, attribute, value)
    if not value.strip():
        raise ValidationError("must not be empty", field=_name(attribute))


def optional_text(instance: Any, attribute: Any, value: Any) -> None:
    """None or a str."""
    if value is not None:
        text(instance, attribute, value)


def aware(instance: Any, attribute: Any, value: Any) -> None:
    """A timezone-aware datetime."""
    if not isinstance(value, datetime):
        raise ValidationError(
            f"expected a timezone-aware datetime, got {type(value).__name__}",
            field=_name(attribute),
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            f"naive datetime {value.isoformat()} refused: give a timezone-aware datetime",
            field=_name(attribute),
        )


def optional_aware(instance: Any, attribute: Any, value: Any) -> None:
    """None or a timezone-aware datetime."""
    if value is not None:
        aware(instance, attribute, value)


def non_negative_int(instance: Any, attribute: Any, value: Any) -> None:
    """An int >= 0 that fits 64 bits (bools refused): versions, numbers and counts are
    stored as 64-bit integers."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _INT64:
        raise ValidationError(
            f"expected a whole number >= 0 (64-bit), got {value!r}", field=_name(attribute)
        )


def boolean(instance: Any, attribute: Any, value: Any) -> None:
    """A bool."""
    if not isinstance(value, bool):
        raise ValidationError(f"expected true or false, got {value!r}", field=_name(attribute))


def to_id_tuple(value: Any, *, field: str | None = None) -> tuple[str, ...]:
    """A str or iterable of str → tuple, order kept, duplicates dropped (``field`` names
    them in errors)."""
    if isinstance(value, str):
        value = (value,)
    elif not isinstance(value, tuple | list) and (
        isinstance(value, bytes | Mapping) or not isinstance(value, Iterable)
    ):
        raise ValidationError(f"expected a list of ids, got {type(value).__name__}", field=field)
    out: list[str] = []
    for item in value:
        if item not in out:
            out.append(item)
    return tuple(out)


def to_tag_tuple(value: Any) -> tuple[str, ...]:
    """Tags: a str or iterable of str → sorted tuple without duplicates."""
    if isinstance(value, str):
        value = (value,)
    elif not isinstance(value, tuple | list) and (
        isinstance(value, bytes | Mapping) or not isinstance(value, Iterable)
    ):
        # (a mapping's keys are no list of tags the caller meant: its values would be lost)
        raise ValidationError(f"expected a list of tags, got {type(value).__name__}", field="tags")
    items: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            raise ValidationError(f"tag {item!r} is not text", field="tags")
        check_unicode(item, "tags")
        items.add(item)
        if len(items) > MAX_TAGS:
            raise ValidationError(f"more than {MAX_TAGS} tags", field="tags")
    return tuple(sorted(items))


def id_tuple(instance: Any, attribute: Any, value: Any) -> None:
    """Every item is a valid id."""
    for item in value:
        identifier(instance, attribute, item)


def tag_tuple(instance: Any, attribute: Any, value: Any) -> None:
    """Every tag is non-empty text without surrounding blanks."""
    for item in value:
        if not item or item != item.strip() or len(item) > MAX_ID_LENGTH:
            raise ValidationError(f"invalid tag {item!r}", field=_name(attribute))


def to_field_dict(value: Any, *, field: str = "fields") -> dict[str, FieldValue]:
    """Custom fields: a mapping of name → scalar, copied (``field`` names them in
    errors)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"expected a mapping of custom fields, got {type(value).__name__}", field=field
        )
    return dict(value)


def field_dict(instance: Any, attribute: Any, value: Any) -> None:
    """Custom field names are ids; values are str (at most :data:`MAX_FIELD_TEXT_LENGTH`
    characters), int, float (finite), bool or None; at most :data:`MAX_FIELDS` of them."""
    if len(value) > MAX_FIELDS:
        raise ValidationError(
            f"{len(value)} custom fields; at most {MAX_FIELDS}", field=_name(attribute)
        )
    for key, item in value.items():
        if not isinstance(key, str) or not key or len(key) > MAX_ID_LENGTH or not _ID_RE.match(key):
            raise ValidationError(f"invalid custom field name {key!r}", field=_name(attribute))
        if isinstance(item, str):
            if len(item) > MAX_FIELD_TEXT_LENGTH:
                raise ValidationError(
                    f"custom field {key!r} is {len(item)} characters long; "
                    f"at most {MAX_FIELD_TEXT_LENGTH}",
                    field=f"{_name(attribute)}.{key}",
                )
            check_unicode(item, f"{_name(attribute)}.{key}")
        if item is None or isinstance(item, str | bool | int):
            continue
        if isinstance(item, float) and math.isfinite(item):
            continue
        raise ValidationError(
            f"custom field {key!r} must be text, a number, true/false or null, "
            f"got {type(item).__name__}",
            field=f"{_name(attribute)}.{key}",
        )


def _parse(enum_cls: Any, value: Any) -> Any:
    return enum_cls.parse(value)


def _parse_optional(enum_cls: Any, value: Any) -> Any:
    return None if value is None else enum_cls.parse(value)


def to_optional_tag_tuple(value: Any) -> tuple[str, ...] | None:
    """None or a tag tuple."""
    return None if value is None else to_tag_tuple(value)


def optional_tag_tuple(instance: Any, attribute: Any, value: Any) -> None:
    """None or valid tags."""
    if value is not None:
        tag_tuple(instance, attribute, value)


def to_optional_field_dict(value: Any) -> dict[str, FieldValue] | None:
    """None or a custom-field mapping."""
    return None if value is None else to_field_dict(value)


def optional_field_dict(instance: Any, attribute: Any, value: Any) -> None:
    """None or valid custom fields."""
    if value is not None:
        field_dict(instance, attribute, value)


def to_utc(value: Any) -> Any:
    """Normalise an aware datetime to a plain ``datetime`` in UTC (same instant).

    Storing instants in UTC keeps equality exact: Python never considers two aware
    datetimes in different zones equal when one falls in a repeated (fall-back) hour.
    Anything else passes through unchanged for the validator to refuse with its field.
    """
    if type(value) is datetime:
        if value.tzinfo is UTC:
            return value
        if value.tzinfo is None or value.utcoffset() is None:
            return value
        return _astimezone_utc(value)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return value
        u = _astimezone_utc(value)
        return datetime(
            u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond, tzinfo=UTC
        )
    return value


def _astimezone_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 in its zone, and out of them in UTC
        raise ValidationError(
            f"instant {value.isoformat()} is out of range: in UTC it falls before year 1 "
            "or after year 9999"
        ) from None


def to_optional_utc(value: Any) -> Any:
    """None, or :func:`to_utc`."""
    return None if value is None else to_utc(value)


def to_str_tuple(value: Any, *, field: str | None = None) -> tuple[str, ...]:
    """Any iterable of text as a tuple (a str counts as one item); anything else is a
    ValidationError (naming ``field``)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError(f"expected a list of text, got {type(value).__name__}", field=field)
    out = tuple(value)
    for item in out:
        if not isinstance(item, str):
            raise ValidationError(f"expected a list of text, got an item {item!r}", field=field)
    return out


def text_tuple(instance: Any, attribute: Any, value: Any) -> None:
    """Every item is valid Unicode text (see :func:`check_unicode`)."""
    for item in value:
        if not item.isascii():
            check_unicode(item, _name(attribute))


def to_text_set(value: Any, *, field: str | None = None) -> frozenset[str]:
    """Names (skills ...): a str or an iterable of str → frozenset; a str is one name
    (``field`` names them in errors)."""
    if isinstance(value, str):
        return frozenset((value,))
    if isinstance(value, bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError(f"expected a list of names, got {type(value).__name__}", field=field)
    items = tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise ValidationError(f"expected a list of names, got an item {item!r}", field=field)
    return frozenset(items)


def to_name_tuple(value: Any, *, field: str | None = None) -> tuple[str, ...]:
    """Names (skills ...) as a sorted tuple without duplicates; a str is one name."""
    return tuple(sorted(to_text_set(value, field=field)))


def name_tuple(instance: Any, attribute: Any, value: Any) -> None:
    """Every name is text with more than blanks in it."""
    for item in value:
        if not item.strip():
            raise ValidationError(f"invalid name {item!r}", field=_name(attribute))
        check_unicode(item, _name(attribute))


def as_tuple(value: Any, *, field: str | None = None, what: str = "a list") -> tuple[Any, ...]:
    """A list, tuple or other iterable (not text, bytes or a mapping) as a tuple; anything
    else is a ValidationError naming ``field``. Converters use it before their validators
    look at the items."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError(f"expected {what}, got {type(value).__name__}", field=field)
    return tuple(value)


def field_names(value: Any, *, field: str) -> frozenset[str]:
    """Names of custom fields: a list of text (one name alone is refused, as it would be
    read as its characters); anything else is a ValidationError naming ``field``."""
    names = as_tuple(value, field=field, what="a list of field names")
    if not all(isinstance(name, str) for name in names):
        raise ValidationError("expected a list of field names (text)", field=field)
    return frozenset(names)


def ticket_id_set(value: Any, *, field: str) -> frozenset[str]:
    """Ids of tickets (the ones a reader may not view): a list of non-empty text (one id
    alone is refused: it would be read as its characters); anything else is a
    ValidationError naming ``field``."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError(
            f"{field} is a list of ticket ids, got {type(value).__name__}", field=field
        )
    items = tuple(value)
    for item in items:
        if not isinstance(item, str) or not item:
            raise ValidationError(
                f"{field} holds ticket ids (non-empty text), got {item!r}", field=field
            )
    return frozenset(items)


def as_dict(value: Any, *, field: str | None = None, what: str = "a mapping") -> dict[Any, Any]:
    """A mapping (None: empty) as a dict; anything else is a ValidationError naming
    ``field``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(f"expected {what}, got {type(value).__name__}", field=field)
    return dict(value)


def a_name(name: str) -> str:
    """``name`` with its indefinite article, for messages: "a Ticket", "an Escalated"."""
    return f"{'an' if name[:1] in 'AEIOUaeiou' else 'a'} {name}"


def require(value: Any, cls: type[_T], what: str, *, field: str | None) -> _T:
    """``value`` when it is a ``cls``; else a ValidationError naming ``field`` (``what``
    names the expected kind in the message: ``"a Ticket"``)."""
    if not isinstance(value, cls):
        raise ValidationError(f"expected {what}, got {type(value).__name__}", field=field)
    return value


def instance_of(cls: type, what: str) -> Any:
    """A validator: the value is a ``cls`` (``what`` names it in the message)."""

    def check(instance: Any, attribute: Any, value: Any) -> None:
        require(value, cls, what, field=_name(attribute))

    return check


def finite_number(instance: Any, attribute: Any, value: Any) -> None:
    """An int or a finite float (bools refused)."""
    bad = isinstance(value, bool) or not isinstance(value, int | float)
    if bad or (isinstance(value, float) and not math.isfinite(value)):
        raise ValidationError(f"expected a finite number, got {value!r}", field=_name(attribute))


def optional_instance(cls: type, what: str) -> Any:
    """A validator: None or a ``cls`` (``what`` names it in the message)."""
    check = instance_of(cls, what)

    def optional(instance: Any, attribute: Any, value: Any) -> None:
        if value is not None:
            check(instance, attribute, value)

    return optional


def refuse_unknown(given: Iterable[Any], allowed: Iterable[str], *, what: str) -> None:
    """ValidationError naming the first of ``given`` not in ``allowed``: ``what`` says
    what they are (``"cannot update"``, ``"unknown search filter(s)"``)."""
    known = set(allowed)
    unknown = sorted(str(name) for name in set(given) - known)
    if unknown:
        raise ValidationError(
            f"{what} {', '.join(unknown)} (allowed: {', '.join(sorted(known))})",
            field=unknown[0],
        )
