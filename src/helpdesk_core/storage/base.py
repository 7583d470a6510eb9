"""The storage port: the :class:`Store` protocol and the values it speaks in.

Every adapter (:class:`~helpdesk_core.storage.MemoryStore`,
:class:`~helpdesk_core.storage.SqliteStore`, :class:`~helpdesk_core.storage.PostgresStore`
and third-party ones) implements :class:`Store` and passes
:class:`helpdesk_core.testing.StoreConformance`. :class:`TicketQuery` defines, in
:meth:`TicketQuery.matches` and :meth:`TicketQuery.sort_key`, exactly which tickets a query
selects and in which order; the SQL adapters translate the same rules.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from attrs import evolve, field, fields, frozen

from helpdesk_core._time import ensure_aware
from helpdesk_core.errors import StorageError, ValidationError
from helpdesk_core.knowledge.articles import Article, ArticleQuery
from helpdesk_core.knowledge.articles import text_filter as _text_tuple
from helpdesk_core.model._validate import a_name, check_unicode, is_identifier
from helpdesk_core.model.enums import Priority, StatusCategory
from helpdesk_core.model.events import EVENT_TYPES, Event, TicketOpened
from helpdesk_core.model.people import ANONYMOUS_REQUESTER, Requester
from helpdesk_core.model.ticket import Ticket

__all__ = [
    "ACTIVE_CATEGORIES",
    "LAST_NUMBER",
    "ORDERINGS",
    "ORDER_DESCENDING",
    "CursorClaims",
    "CursorDeletion",
    "ImportItem",
    "OutboxItem",
    "Page",
    "RequesterLock",
    "SolvedTicketSearch",
    "Store",
    "TicketQuery",
    "TicketScope",
    "UnitOfWork",
    "batch_numbers",
    "check_after",
    "check_anonymise",
    "check_append",
    "check_article",
    "check_claim",
    "check_cursor",
    "check_cursor_values",
    "check_error_note",
    "check_import",
    "check_instant",
    "check_key",
    "check_keys",
    "check_lease",
    "check_limit",
    "check_name",
    "check_purge",
    "check_reschedule",
    "check_words",
    "closed_at",
    "decode_after",
    "encode_after",
    "first_with_email",
    "import_in_chunks",
    "item_id",
    "lease_end",
    "linked_ids",
    "numbers_used_up",
    "order_instant",
    "order_value",
    "parse_item_id",
    "read_in_chunks",
    "release_targets",
    "search_text",
    "sla_deadline",
    "taken_number",
    "ticket_organization",
]

T = TypeVar("T")

#: Status categories whose tickets count as active (work still due).
ACTIVE_CATEGORIES: tuple[StatusCategory, ...] = tuple(c for c in StatusCategory if c.is_active)

#: The orders :class:`TicketQuery` accepts; ties are always broken by ticket id, ascending.
#: ``queued_at`` and ``-queued_at`` put the tickets with no ``queued_at`` last.
ORDERINGS = frozenset(
    {
        "created_at",
        "-created_at",
        "updated_at",
        "-updated_at",
        "priority",
        "number",
        "-number",
        "queued_at",
        "-queued_at",
    }
)
MAX_LIMIT = 1000
#: The longest ``TicketQuery.text``, in characters (a pasted error message fits; a
#: megabyte of text asked for as a substring of every ticket does not).
MAX_TEXT_QUERY_LENGTH = 10_000


def item_id(ticket_id: str, version: int) -> str:
    """The outbox idempotency key of the event that made ``version`` of a ticket."""
    return f"{ticket_id}:{version}"


def parse_item_id(value: str) -> tuple[str, int]:
    """``"T-1:3"`` → ``("T-1", 3)``; ticket ids may contain ``:``, versions may not."""
    if not isinstance(value, str):
        raise ValidationError(f"an outbox item id is text, got {type(value).__name__}", field="ids")
    ticket_id, sep, version = value.rpartition(":")
    if (
        not sep
        or not ticket_id
        or not version.isdigit()
        or not version.isascii()
        or len(version) > 18
    ):
        raise ValidationError(
            f"{value!r} is not an outbox item id ('<ticket id>:<version>')", field="ids"
        )
    return ticket_id, int(version)


def search_text(subject: str, description: str) -> str:
    """What ``TicketQuery.text`` is matched against: case-folded subject, a newline, and
    the case-folded description. ``str.casefold`` maps each character on its own, so a
    folded query is a substring of the folded text exactly when it matches."""
    return f"{subject.casefold()}\n{description.casefold()}"


# ---------------------------------------------------------------------------- argument checks
# Every adapter validates its arguments with these, so all raise the same errors.

_INT64 = 2**63


#: The last ticket number a store hands out (numbers are 64-bit).
LAST_NUMBER = _INT64 - 1


def numbers_used_up() -> StorageError:
    """What :meth:`Store.allocate_number` raises once :data:`LAST_NUMBER` was handed out
    (an import may bring a legacy ticket numbered near it): never a number handed out
    twice, nor one no ticket can carry."""
    return StorageError(
        f"ticket numbers are used up: the last one, {LAST_NUMBER}, was handed out"
    )


def _check_expected_version(expected_version: Any, *, existing: bool) -> None:
    """An ``expected_version`` argument: a whole number, >= 1 for an ``existing`` record
    (a ticket to rewrite or remove), else >= 0 (0: the record must not exist yet); every
    store counts versions in 64 bits."""
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise ValidationError(
            f"expected_version is a whole number, got {expected_version!r}",
            field="expected_version",
        )
    if expected_version >= _INT64:
        raise ValidationError(
            f"expected_version is a 64-bit whole number, got {expected_version}",
            field="expected_version",
        )
    if existing and expected_version < 1:
        raise ValidationError(
            f"expected_version is >= 1 (an existing ticket), got {expected_version}",
            field="expected_version",
        )
    if expected_version < 0:
        raise ValidationError(
            f"expected_version is >= 0, got {expected_version}", field="expected_version"
        )


def release_targets(values: Any) -> list[tuple[str, int | None]]:
    """The items of :meth:`Store.release_outbox`: ``(id, attempts)`` for each, attempts
    None when given as an id (ValidationError naming ``ids`` otherwise)."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError(
            f"ids is a list of outbox item ids or items, got {type(values).__name__}",
            field="ids",
        )
    out: list[tuple[str, int | None]] = []
    for value in values:
        if isinstance(value, OutboxItem):
            out.append((check_key(value.id, "ids"), value.attempts))
        else:
            out.append((check_key(value, "ids"), None))
    return out


def check_reschedule(ticket_id: Any, expected_version: Any, wake_at: Any) -> None:
    """Validate the arguments of :meth:`Store.reschedule` (ValidationError naming the
    part)."""
    check_key(ticket_id, "ticket_id")
    _check_expected_version(expected_version, existing=True)
    if wake_at is not None:
        check_instant(wake_at, "wake_at")


def check_append(
    ticket_id: str,
    expected_version: int,
    events: Sequence[Event],
    snapshot: Ticket,
    wake_at: datetime | None,
) -> None:
    """Validate the arguments of :meth:`Store.append` (ValidationError naming the part)."""
    if not isinstance(ticket_id, str) or not ticket_id:
        raise ValidationError(f"expected a ticket id, got {ticket_id!r}", field="ticket_id")
    _check_expected_version(expected_version, existing=False)
    if isinstance(events, str | bytes) or not isinstance(events, Sequence) or not events:
        raise ValidationError("append needs a non-empty list of events", field="events")
    for index, event in enumerate(events):
        if not isinstance(event, Event):
            raise ValidationError(
                f"expected an Event, got {type(event).__name__}", field=f"events[{index}]"
            )
        if EVENT_TYPES.get(type(event).__name__) is not type(event):
            raise ValidationError(
                f"{type(event).__name__} is not a registered event type (a store could not "
                "read it back): register it with register_event_type",
                field=f"events[{index}]",
            )
        if event.ticket_id != ticket_id:
            raise ValidationError(
                f"event for ticket {event.ticket_id!r} appended to ticket {ticket_id!r}",
                field=f"events[{index}].ticket_id",
            )
        opening = expected_version == 0 and index == 0
        if isinstance(event, TicketOpened) != opening:
            message = (
                f"a new ticket's history starts with TicketOpened, not {type(event).__name__}"
                if opening
                else "TicketOpened can only be a ticket's first event"
            )
            raise ValidationError(message, field=f"events[{index}]")
    if not isinstance(snapshot, Ticket):
        raise ValidationError(
            f"expected a Ticket snapshot, got {type(snapshot).__name__}", field="snapshot"
        )
    if snapshot.id != ticket_id:
        raise ValidationError(
            f"snapshot of ticket {snapshot.id!r} given for ticket {ticket_id!r}",
            field="snapshot.id",
        )
    if snapshot.version != expected_version + len(events):
        raise ValidationError(
            f"snapshot version {snapshot.version} != expected_version {expected_version} + "
            f"{len(events)} event(s)",
            field="snapshot.version",
        )
    if wake_at is not None:
        ensure_aware(wake_at, field="wake_at")


def check_anonymise(
    ticket_id: str, expected_version: int, events: Sequence[Event], snapshot: Ticket
) -> None:
    """Validate the arguments of :meth:`Store.anonymise`: ``events`` is the ticket's whole
    new history (at least ``expected_version`` events, the first a TicketOpened) and
    ``snapshot`` its fold (version = number of events)."""
    _check_expected_version(expected_version, existing=True)
    check_append(ticket_id, 0, events, snapshot, None)
    if len(events) < expected_version:
        raise ValidationError(
            f"the new history has {len(events)} event(s), fewer than the stored {expected_version}",
            field="events",
        )


def check_article(article: Any, expected_version: Any) -> Article:
    """Validate the arguments of :meth:`Store.save_article` (ValidationError naming the
    part)."""
    if not isinstance(article, Article):
        raise ValidationError(f"expected an Article, got {type(article).__name__}", field="article")
    _check_expected_version(expected_version, existing=False)
    if article.version != expected_version + 1:
        raise ValidationError(
            f"article version {article.version} != expected_version {expected_version} + 1",
            field="article.version",
        )
    return article


def check_words(words: Any, limit: Any) -> list[str]:
    """Validate the arguments of :meth:`SolvedTicketSearch.search_solved`: a list of at
    most 1000 words (text without NUL or a lone surrogate) and a positive limit; returns the
    distinct non-blank words."""
    check_limit(limit)
    if isinstance(words, str) or not isinstance(words, Sequence):
        raise ValidationError("words is a list of words", field="words")
    out: dict[str, None] = {}
    for word in words:
        if not isinstance(word, str) or "\x00" in word:
            raise ValidationError(f"a word is text without NUL, got {word!r}", field="words")
        check_unicode(word, "words")
        if word.strip():
            out[word] = None
    if len(out) > MAX_LIMIT:
        raise ValidationError(f"at most {MAX_LIMIT} distinct words", field="words")
    return list(out)


def check_purge(ticket_id: Any, expected_version: Any) -> None:
    """Validate the arguments of :meth:`Store.purge` (ValidationError naming the part)."""
    if not isinstance(ticket_id, str) or not ticket_id:
        raise ValidationError(f"expected a ticket id, got {ticket_id!r}", field="ticket_id")
    check_key(ticket_id, "ticket_id")
    _check_expected_version(expected_version, existing=True)


def check_after(value: Any, name: str) -> int:
    """A position or version to read after: a whole number >= 0."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _INT64:
        raise ValidationError(
            f"{name} is a whole number >= 0 (64-bit), got {value!r}", field=name
        )
    return value


def check_instant(value: Any, name: str = "now") -> datetime:
    """An aware datetime argument."""
    return ensure_aware(value, field=name)


def check_limit(value: Any, name: str = "limit") -> int:
    """A positive whole-number limit."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < _INT64:
        raise ValidationError(
            f"{name} is a whole number >= 1 (64-bit), got {value!r}", field=name
        )
    return value


def read_in_chunks(
    fetch: Callable[[int, int], Sequence[tuple[int, T]]],
    *,
    after: int,
    limit: int | None,
    chunk: int = 500,
) -> Iterator[tuple[int, T]]:
    """Rows ``(position, value)`` after ``after`` in position order, at most ``limit``,
    read ``chunk`` at a time: ``fetch(position, size)`` returns up to ``size`` rows after
    ``position`` (fewer only at the end). The event streams of the SQL stores read this
    way, so a long stream never holds the database for long; an adapter may use it too."""
    position = after
    remaining = limit
    while remaining is None or remaining > 0:
        size = chunk if remaining is None else min(chunk, remaining)
        rows = fetch(position, size)
        if not rows:
            return
        if rows[0][0] <= position or rows[-1][0] < rows[0][0]:
            # read on, it would give the same rows again for ever
            raise StorageError(
                f"rows read after position {position} start at {rows[0][0]} and end at "
                f"{rows[-1][0]}: a fetch gives the rows after its position (>, not >=), "
                "in position order"
            )
        yield from rows
        position = rows[-1][0]
        if remaining is not None:
            remaining -= len(rows)


def check_lease(value: Any) -> timedelta:
    """A positive lease length."""
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError(f"lease is a positive timedelta, got {value!r}", field="lease")
    return value


def check_key(value: Any, name: str) -> str:
    """An id to look up: text (ValidationError otherwise; an unknown id is NotFound later)."""
    if not isinstance(value, str):
        own = getattr(value, "id", None)  # an OutboxItem, a Ticket ... given for its id
        hint = f": give its id, {own!r}" if isinstance(own, str) else ""
        raise ValidationError(f"{name} is text, got {type(value).__name__}{hint}", field=name)
    check_unicode(value, name)
    if "\x00" in value:  # no id holds one; PostgreSQL text cannot even be asked for it
        raise ValidationError(f"{name} holds a NUL character", field=name)
    return value


def first_with_email(candidates: Iterable[Requester], email: str) -> Requester | None:
    """The first of ``candidates`` (read in id order by the email index, a case fold)
    whose address is ``email`` in lower case. The fold only finds candidates: it also
    makes ``ß`` and ``ss`` alike, and those are different mailboxes."""
    wanted = email.lower()
    for requester in candidates:
        if requester.email is not None and requester.email.lower() == wanted:
            return requester
    return None


def check_error_note(error: Any) -> None:
    """The note a consumer leaves on items it gives back: None or valid Unicode text."""
    if error is None:
        return
    if not isinstance(error, str):
        raise ValidationError("error is text or None", field="error")
    check_unicode(error, "error")


def check_keys(values: Any, name: str) -> list[str]:
    """A list of ids to look up (a single str is refused: it is not a list of ids)."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError(
            f"{name} is a list of ids, got {type(values).__name__}", field=name
        )
    return [check_key(value, name) for value in values]


def lease_end(now: datetime, lease: timedelta) -> datetime:
    """``now + lease``, or ValidationError when that instant is past ``datetime.max``."""
    try:
        return now + lease
    except OverflowError:
        raise ValidationError(
            f"a lease of {lease} from {now.isoformat()} ends after the last representable "
            "instant",
            field="lease",
        ) from None


def check_name(value: Any, name: str) -> str:
    """A worker, consumer or cursor name: non-empty text of at most 200 characters."""
    if not isinstance(value, str) or not value.strip() or len(value) > 200 or "\x00" in value:
        raise ValidationError(
            f"{name} is non-empty text of at most 200 characters without NUL, got {value!r}",
            field=name,
        )
    check_unicode(value, name)
    return value


def check_cursor(value: Any) -> int:
    """A cursor value: a 64-bit signed whole number."""
    if isinstance(value, bool) or not isinstance(value, int) or not -_INT64 <= value < _INT64:
        raise ValidationError(f"a cursor is a 64-bit whole number, got {value!r}", field="value")
    return value


def check_cursor_values(values: Any) -> frozenset[int]:
    """The ``values`` of :meth:`CursorDeletion.delete_cursors`: cursor values, as a set."""
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise ValidationError(
            f"values is a collection of cursor values, got {type(values).__name__}",
            field="values",
        )
    found: set[int] = set()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not -_INT64 <= value < _INT64:
            raise ValidationError(
                f"a cursor value is a 64-bit whole number, got {value!r}", field="values"
            )
        found.add(value)
    return frozenset(found)


def check_claim(value: Any) -> int:
    """The value of :meth:`CursorClaims.claim_cursor`: a cursor value other than 0 (which
    reads as unset)."""
    claimed = check_cursor(value)
    if claimed == 0:
        raise ValidationError(
            "a claim needs a value other than 0 (0 reads as unset)", field="value"
        )
    return claimed


#: One ticket for ``import_tickets``: ``(events, snapshot)`` or ``(events, snapshot, wake_at)``.
ImportItem = tuple[Sequence[Event], Ticket] | tuple[Sequence[Event], Ticket, datetime | None]


def check_import(item: Any) -> tuple[Sequence[Event], Ticket, datetime | None]:
    """Validate one item of ``import_tickets`` (a new ticket) and unpack it."""
    if not isinstance(item, tuple) or len(item) not in (2, 3):
        raise ValidationError(
            "each imported item is (events, snapshot) or (events, snapshot, wake_at)",
            field="items",
        )
    events, snapshot = item[0], item[1]
    wake_at = item[2] if len(item) == 3 else None
    if not isinstance(snapshot, Ticket):
        raise ValidationError(
            f"expected a Ticket snapshot, got {type(snapshot).__name__}", field="snapshot"
        )
    check_append(snapshot.id, 0, events, snapshot, wake_at)
    return events, snapshot, wake_at


def taken_number(ticket_id: str, number: int, holder: str) -> ValidationError:
    """The error that refuses to import ``ticket_id`` with ``number``, the number
    ``holder`` (a stored ticket, or another ticket of the import) has: a number finds one
    ticket (an inbound mail's ``[#n]``, a retried request), never two."""
    return ValidationError(
        f"ticket {ticket_id!r} carries number {number}, which ticket {holder!r} has: "
        "ticket numbers are unique (import it with another number)",
        field="number",
    )


def batch_numbers(batch: Sequence[tuple[Any, Ticket, Any]]) -> dict[int, str]:
    """Each number an import batch's tickets carry, and the ticket carrying it; the
    :func:`taken_number` error for a number two tickets of the batch carry."""
    numbers: dict[int, str] = {}
    for _, snapshot, _ in batch:
        holder = numbers.setdefault(snapshot.number, snapshot.id)
        if holder != snapshot.id:
            raise taken_number(snapshot.id, snapshot.number, holder)
    return numbers


def import_in_chunks(
    items: Iterable[Any],
    import_batch: Callable[[list[tuple[Sequence[Event], Ticket, datetime | None]]], int],
    *,
    chunk: int = 500,
) -> int:
    """Check each item of ``import_tickets`` (:func:`check_import`) and hand them to
    ``import_batch`` ``chunk`` at a time (the last batch may be shorter); the sum of what
    it returns, the count of tickets imported."""
    count = 0
    batch: list[tuple[Sequence[Event], Ticket, datetime | None]] = []
    for item in items:
        batch.append(check_import(item))
        if len(batch) == chunk:
            count += import_batch(batch)
            batch = []
    if batch:
        count += import_batch(batch)
    return count


# ---------------------------------------------------------------------------- values


@frozen(kw_only=True)
class Page(Generic[T]):
    """One page of a query: ``items``, the ``total`` number of matches, the offset of the
    next page (None on the last page) and, for a page of tickets, ``next_after``: the
    token that asks for the next page by where this one ended
    (``TicketQuery(after=page.next_after)``; None on the last page). A page asked for by
    ``after`` has no ``next_offset``: its place among the matches is not counted."""

    items: tuple[T, ...]
    total: int
    next_offset: int | None = None
    next_after: str | None = None


@frozen(kw_only=True)
class OutboxItem:
    """An event waiting for delivery to one consumer.

    ``id`` is the idempotency key (``"<ticket id>:<version>"``, stable across retries and
    stores); ``position`` the event's place in the global event order; ``attempts`` how
    many earlier deliveries of this item to this consumer ended without an ack (released,
    or the lease ran out)."""

    id: str
    position: int
    event: Event
    attempts: int = 0


def _enum_tuple(value: Any, enum: Any, name: str) -> tuple[Any, ...] | None:
    if value is None:
        return None
    items = (value,) if isinstance(value, str) else value
    try:
        raw = tuple(items)
    except TypeError:
        raise ValidationError(
            f"expected {a_name(enum.__name__)} or a list of them, got {type(value).__name__}",
            field=name,
        ) from None
    if not raw:
        raise ValidationError("an empty list matches nothing; use None for any", field=name)
    return tuple(enum.parse(item, field=name) for item in raw)


def _number(value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    items = (value,) if isinstance(value, int) else value
    try:
        raw = tuple(items)
    except TypeError:
        raise ValidationError(
            f"expected a ticket number or a list of them, got {type(value).__name__}",
            field="number",
        ) from None
    if not raw:
        raise ValidationError("an empty list matches nothing; use None for any", field="number")
    for item in raw:
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item < _INT64:
            raise ValidationError(
                f"a ticket number is a whole number >= 1 (64-bit), got {item!r}", field="number"
            )
    return raw


def _status(value: Any) -> tuple[str, ...] | None:
    return _ids(value, "status")


def _category(value: Any) -> tuple[str, ...] | None:
    return _text_tuple(value, "category")


def _type(value: Any) -> tuple[str, ...] | None:
    return _ids(value, "type")


def _team(value: Any) -> tuple[str, ...] | None:
    return _ids(value, "team")


def _tier(value: Any) -> tuple[str, ...] | None:
    return _ids(value, "tier")


def _assignee(value: Any) -> tuple[str, ...] | None:
    return _ids(value, "assignee")


def _owner(value: Any) -> tuple[str, ...] | None:
    return _ids(value, "owner")


def _requester(value: Any) -> tuple[str, ...] | None:
    return _ids(value, "requester")


def _asset(value: Any) -> tuple[str, ...] | None:
    return _text_tuple(value, "asset")


def _organization(value: Any) -> tuple[str, ...] | None:
    return _text_tuple(value, "organization")


def _tag(value: Any) -> tuple[str, ...] | None:
    return _text_tuple(value, "tag")


def _links_to(value: Any) -> tuple[str, ...] | None:
    return _ids(value, "links_to")


def _ids(value: Any, name: str) -> tuple[str, ...] | None:
    """A filter on ids (statuses, teams, people): text that is valid Unicode without NUL."""
    out = _text_tuple(value, name)
    for item in out or ():
        check_key(item, name)
    return out


def _status_category(value: Any) -> tuple[StatusCategory, ...] | None:
    return _enum_tuple(value, StatusCategory, "status_category")


def _priority(value: Any) -> tuple[Priority, ...] | None:
    return _enum_tuple(value, Priority, "priority")


def _opt_aware(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        ensure_aware(value, field=attribute.name)


def _order(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or value not in ORDERINGS:
        raise ValidationError(
            f"cannot order by {value!r}; choose from {', '.join(sorted(ORDERINGS))}",
            field="order_by",
        )


def _limit(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise ValidationError(f"limit is 1 to {MAX_LIMIT}, got {value!r}", field="limit")


def _offset(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _INT64:
        raise ValidationError(
            f"offset is a whole number >= 0 (64-bit), got {value!r}", field="offset"
        )


def _after(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        decode_after(value)


def _opt_flag(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        raise ValidationError(
            f"expected true, false or None, got {value!r}", field=attribute.name
        )


def _flag(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValidationError(f"expected true or false, got {value!r}", field=attribute.name)


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError(f"expected text, got {type(value).__name__}", field="text")
    if len(value) > MAX_TEXT_QUERY_LENGTH:
        raise ValidationError(
            f"text is {len(value)} characters long; at most {MAX_TEXT_QUERY_LENGTH}",
            field="text",
        )
    check_unicode(value, "text")
    return value


def _scope_teams(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError(
            f"scope teams is a list of team ids, got {type(value).__name__}", field="scope.teams"
        )
    items = tuple(value)
    for item in items:
        if not isinstance(item, str) or not item:
            raise ValidationError(f"expected a team id, got {item!r}", field="scope.teams")
        check_key(item, "scope.teams")
    return tuple(dict.fromkeys(items))


def _scope_flag(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValidationError(f"expected true or false, got {value!r}", field="scope.unrouted")


def _scope_text(what: str, *, key: bool) -> Callable[[Any, Any, Any], None]:
    """The validator of a scope's text condition: None, or non-empty text (an id when
    ``key``: valid Unicode without NUL)."""

    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is None:
            return
        where = f"scope.{attribute.name}"
        if not isinstance(value, str) or not value:
            raise ValidationError(f"expected {what}, got {value!r}", field=where)
        if key:
            check_key(value, where)
        else:
            check_unicode(value, where)

    return check


@frozen(kw_only=True)
class TicketScope:
    """Where tickets may be, any one condition sufficing: routed to one of ``teams``, not
    routed to any team (``unrouted``), assigned to or owned by ``agent``, opened by
    ``requester``, or opened for ``organization``.

    :class:`TicketQuery`'s filters must all match; a scope is the one filter whose parts
    are alternatives. It writes an agent's view of the desk as a query, so a store
    filters and pages it itself::

        TicketScope(teams=agent.teams, unrouted=True, agent=agent.id)

    and a requester's view, when requesters see their organization's tickets::

        TicketScope(requester=requester.id, organization=requester.organization)

    A scope with no condition matches nothing.
    """

    teams: tuple[str, ...] = field(default=(), converter=_scope_teams)
    unrouted: bool = field(default=False, validator=_scope_flag)
    agent: str | None = field(default=None, validator=_scope_text("an agent id", key=True))
    requester: str | None = field(
        default=None, validator=_scope_text("a requester id", key=True)
    )
    organization: str | None = field(
        default=None, validator=_scope_text("an organization", key=False)
    )

    def matches(self, ticket: Ticket) -> bool:
        """True when ``ticket`` meets any of the conditions (the reference semantics)."""
        team = ticket.team
        if team is None:
            if self.unrouted:
                return True
        elif team in self.teams:
            return True
        agent = self.agent
        if agent is not None and (ticket.assignee == agent or ticket.owner == agent):
            return True
        if self.requester is not None and ticket.requester == self.requester:
            return True
        organization = self.organization
        return organization is not None and ticket_organization(ticket) == organization


def _scope(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and not isinstance(value, TicketScope):
        raise ValidationError(f"scope is a TicketScope, got {type(value).__name__}", field="scope")


@frozen(kw_only=True)
class TicketQuery:
    """Which tickets to list, in which order, and which page.

    Every filter left at None matches everything. Filters given as a list match any of
    the values (``status=("new", "open")``); different filters must all match. ``number``
    picks tickets by their display number (``number=42``); ``type`` by their ticket type
    (``type=("incident", "problem")``, what ``Ticket.type`` holds now: the opening's, or
    the last change's). ``organization`` matches the organization a ticket was opened
    for (its requester's when it opened; none once it was anonymised, see
    :func:`ticket_organization`). ``tag`` matches tickets that carry
    any of the tags; ``links_to`` keeps tickets holding a link (of any kind) to any of
    these ticket ids (links go one way: ticket A's ``Link(kind, other="B")`` links A to
    B, so ``links_to="B"`` finds A); ``unassigned`` keeps tickets without an assignee;
    ``queued`` (True) keeps tickets waiting in a queue for an assignment (their
    ``queued_at`` is set: a ``QueuedForAssignment`` put them there and no ``Assigned``
    took them out; a closed ticket keeps it, so add ``active_only`` for the live queue);
    ``sla_deadline_before`` keeps tickets with a running SLA clock whose deadline is
    before the instant; ``updated_since`` keeps tickets updated at or after it; ``text``
    is a case-insensitive substring of the subject or description (see :func:`search_text`);
    ``active_only`` keeps tickets in an active status category; ``closed_before`` keeps
    closed tickets that closed before the instant; ``anonymised`` keeps tickets whose
    personal data was (True) or was not (False) anonymised; ``scope`` (a
    :class:`TicketScope`) keeps tickets meeting any of its conditions (in its teams,
    unrouted, its agent's, its requester's or its organization's).

    Ordering (``order_by``) breaks ties by ticket id, ascending, so pages are stable.
    ``priority`` orders most urgent first. ``queued_at`` orders the tickets that wait in a
    queue by how long they have waited, longest first (``-queued_at``: most recently
    queued first); in either order, tickets with no ``queued_at`` come after all of them.
    It is a queue drain's order (``queued=True``, which keeps no ticket without one).
    """

    number: tuple[int, ...] | None = field(default=None, converter=_number)
    status: tuple[str, ...] | None = field(default=None, converter=_status)
    status_category: tuple[StatusCategory, ...] | None = field(
        default=None, converter=_status_category
    )
    category: tuple[str, ...] | None = field(default=None, converter=_category)
    type: tuple[str, ...] | None = field(default=None, converter=_type)
    team: tuple[str, ...] | None = field(default=None, converter=_team)
    tier: tuple[str, ...] | None = field(default=None, converter=_tier)
    assignee: tuple[str, ...] | None = field(default=None, converter=_assignee)
    owner: tuple[str, ...] | None = field(default=None, converter=_owner)
    requester: tuple[str, ...] | None = field(default=None, converter=_requester)
    organization: tuple[str, ...] | None = field(default=None, converter=_organization)
    asset: tuple[str, ...] | None = field(default=None, converter=_asset)
    tag: tuple[str, ...] | None = field(default=None, converter=_tag)
    links_to: tuple[str, ...] | None = field(default=None, converter=_links_to)
    priority: tuple[Priority, ...] | None = field(default=None, converter=_priority)
    unassigned: bool = field(default=False, validator=_flag)
    queued: bool = field(default=False, validator=_flag)
    sla_deadline_before: datetime | None = field(default=None, validator=_opt_aware)
    updated_since: datetime | None = field(default=None, validator=_opt_aware)
    text: str | None = field(default=None, converter=_text)
    active_only: bool = field(default=False, validator=_flag)
    closed_before: datetime | None = field(default=None, validator=_opt_aware)
    anonymised: bool | None = field(default=None, validator=_opt_flag)
    scope: TicketScope | None = field(default=None, validator=_scope)
    order_by: str = field(default="created_at", validator=_order)
    limit: int = field(default=50, validator=_limit)
    offset: int = field(default=0, validator=_offset)
    after: str | None = field(default=None, validator=_after)

    def __attrs_post_init__(self) -> None:
        if self.unassigned and self.assignee is not None:
            raise ValidationError(
                "unassigned=True and an assignee filter together match nothing",
                field="unassigned",
            )
        if self.after is not None:
            if self.offset:
                raise ValidationError(
                    "after continues from where a page ended: it takes no offset",
                    field="after",
                )
            order_by = decode_after(self.after)[0]
            if order_by != self.order_by:
                raise ValidationError(
                    f"after is a token of a page ordered by {order_by!r}, not by "
                    f"{self.order_by!r}",
                    field="after",
                )

    @property
    def after_key(self) -> tuple[int | None, str] | None:
        """The order value and id of the ticket that ``after`` names (None without it):
        the page holds the matches that come after that ticket in this query's order."""
        if self.after is None:
            return None
        _, value, ticket_id = decode_after(self.after)
        return value, ticket_id

    @property
    def after_bound(self) -> tuple[datetime | int | None, str] | None:
        """:attr:`after_key` with an instant as its UTC datetime, as a database that keeps
        instants as timestamps compares them (None without ``after``)."""
        key = self.after_key
        if key is None or key[0] is None or self.order_by.lstrip("-") not in _INSTANT_ORDERS:
            return key
        return order_instant(key[0]), key[1]

    def after_token(self, ticket: Ticket) -> str:
        """The ``after`` token that asks for the matches following ``ticket`` in this
        query's order (what a page ending with ``ticket`` gives as ``next_after``)."""
        return encode_after(self.order_by, order_value(self.order_by, ticket), ticket.id)

    def follows(self, ticket: Ticket) -> bool:
        """Whether ``ticket`` comes after the ticket ``after`` names, in this query's
        order (True without ``after``). The ticket named need not exist any more."""
        return self._follower()(ticket)

    def _follower(self) -> Callable[[Ticket], bool]:
        """:meth:`follows` with the token read once."""
        key = self.after_key
        if key is None:
            return lambda ticket: True
        last, last_id = key
        value_of = _ORDER_VALUES[self.order_by]
        descending = ORDER_DESCENDING[self.order_by]

        def follows(ticket: Ticket) -> bool:
            value = value_of(ticket)
            if last is None:  # NULLs come last: the NULLs with a greater id follow
                return value is None and ticket.id > last_id
            if value is None:
                return True
            if value == last:
                return ticket.id > last_id
            return value < last if descending else value > last

        return follows

    def matches(self, ticket: Ticket) -> bool:
        """True when ``ticket`` passes every filter (the reference semantics)."""
        checks: tuple[tuple[tuple[Any, ...] | None, Any], ...] = (
            (self.number, ticket.number),
            (self.status, ticket.status),
            (self.status_category, ticket.status_category),
            (self.category, ticket.category),
            (self.type, ticket.type),
            (self.team, ticket.team),
            (self.tier, ticket.tier),
            (self.assignee, ticket.assignee),
            (self.owner, ticket.owner),
            (self.requester, ticket.requester),
            (self.organization, ticket_organization(ticket)),
            (self.asset, ticket.asset),
            (self.priority, ticket.priority),
        )
        for wanted, value in checks:
            if wanted is not None and value not in wanted:
                return False
        if self.tag is not None and not any(tag in ticket.tags for tag in self.tag):
            return False
        if self.links_to is not None and not any(
            link.other in self.links_to for link in ticket.links
        ):
            return False
        if self.unassigned and ticket.assignee is not None:
            return False
        if self.queued and ticket.queued_at is None:
            return False
        if self.active_only and not ticket.status_category.is_active:
            return False
        if self.updated_since is not None and ticket.updated_at < self.updated_since:
            return False
        if self.closed_before is not None:
            closed = closed_at(ticket)
            if closed is None or not closed < self.closed_before:
                return False
        if self.anonymised is not None and ticket.anonymised is not self.anonymised:
            return False
        if self.sla_deadline_before is not None:
            deadline = sla_deadline(ticket)
            if deadline is None or not deadline < self.sla_deadline_before:
                return False
        if self.text is not None:
            folded = self.text.casefold()
            if folded not in search_text(ticket.subject, ticket.description):
                return False
        return self.scope is None or self.scope.matches(ticket)

    def sort_key(self, ticket: Ticket) -> tuple[Any, ...]:
        """The ordering key of ``ticket`` under :attr:`order_by` (ascending)."""
        key: tuple[Any, ...] = _SORT_KEYS[self.order_by](ticket)
        return key

    def page(self, tickets: Sequence[Ticket]) -> Page[Ticket]:
        """Filter, order and cut ``tickets`` into this query's page (reference semantics)."""
        return self.cut(self.ordered(tickets))

    def ordered(self, tickets: Iterable[Ticket]) -> list[Ticket]:
        """Every ticket of ``tickets`` that matches, in this query's order."""
        return sorted((t for t in tickets if self.matches(t)), key=self.sort_key)

    def cut(self, found: Sequence[Ticket]) -> Page[Ticket]:
        """This query's page of ``found``, every match already in order."""
        if self.after is not None:
            # The matches that follow the token's place are the tail of ``found`` (it is
            # in this query's order, the one ``follows`` compares in): found by bisection,
            # so a walk through a long list costs each match once, not once per page.
            start = bisect.bisect_left(found, True, key=self._follower())
            return self.after_page(found[start : start + self.limit + 1], len(found))
        return self.offset_page(tuple(found[self.offset : self.offset + self.limit]), len(found))

    def offset_page(self, items: tuple[Ticket, ...], total: int) -> Page[Ticket]:
        """The page of ``items``, read at this query's ``offset``, of ``total`` matches:
        with the offset and the ``after`` token of the next page while more follow."""
        end = self.offset + len(items)
        more = end < total
        return Page(
            items=items,
            total=total,
            next_offset=end if more else None,
            next_after=self.after_token(items[-1]) if more and items else None,
        )

    def after_page(self, following: Sequence[Ticket], total: int) -> Page[Ticket]:
        """The page of an ``after`` query, from the matches that follow its place (the
        page, and one more when another page follows), of ``total`` matches."""
        items = tuple(following[: self.limit])
        more = len(following) > self.limit
        return Page(
            items=items,
            total=total,
            next_after=self.after_token(items[-1]) if more else None,
        )

    @property
    def matches_key(self) -> tuple[Any, ...]:
        """Every field but ``limit`` and ``offset``: two queries with the same key match
        the same tickets in the same order (a store that keeps the matches of one page
        to serve the next looks them up by it)."""
        return tuple(getattr(self, name) for name in _MATCH_FIELDS)


_MATCH_FIELDS = tuple(
    f.name for f in fields(TicketQuery) if f.name not in ("limit", "offset", "after")
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def _micros(value: datetime | None) -> int | None:
    return None if value is None else (value - _EPOCH) // _MICRO


#: What each ordering sorts on, as a number (an instant in microseconds since the epoch,
#: as the SQL stores hold it; a priority by its rank), None where a ticket has none.
_ORDER_VALUES: dict[str, Callable[[Ticket], int | None]] = {
    "created_at": lambda t: _micros(t.created_at),
    "-created_at": lambda t: _micros(t.created_at),
    "updated_at": lambda t: _micros(t.updated_at),
    "-updated_at": lambda t: _micros(t.updated_at),
    "priority": lambda t: t.priority.rank,
    "number": lambda t: t.number,
    "-number": lambda t: t.number,
    "queued_at": lambda t: _micros(t.queued_at),
    "-queued_at": lambda t: _micros(t.queued_at),
}

#: The orderings (without their ``-``) whose values are instants.
_INSTANT_ORDERS = frozenset({"created_at", "updated_at", "queued_at"})

#: Whether each ordering sorts its value descending (ties by id, always ascending).
ORDER_DESCENDING: dict[str, bool] = {
    name: name.startswith("-") for name in _ORDER_VALUES
}


def order_value(order_by: str, ticket: Ticket) -> int | None:
    """The number ``ticket`` sorts on under ``order_by`` (see :attr:`TicketQuery.after`):
    an instant in microseconds since the epoch, a priority's rank, a ticket number; None
    for a ticket with no ``queued_at`` under a ``queued_at`` order."""
    return _ORDER_VALUES[order_by](ticket)


def order_instant(value: int) -> datetime:
    """The instant (UTC) of an order value in microseconds since the epoch."""
    return _EPOCH + value * _MICRO


def encode_after(order_by: str, value: int | None, ticket_id: str) -> str:
    """The ``after`` token of the ticket ``ticket_id`` whose order value is ``value``."""
    raw = json.dumps([1, order_by, value, ticket_id], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


#: The order values of the first and the last representable instant (microseconds).
_FIRST_INSTANT = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // _MICRO
_LAST_INSTANT = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // _MICRO


def _token_value(order_by: str, value: Any) -> bool:
    if value is None:
        return order_by in ("queued_at", "-queued_at")
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    if order_by.lstrip("-") in _INSTANT_ORDERS:
        # An instant a ticket can have: a store comparing datetimes could build no other.
        return _FIRST_INSTANT <= value <= _LAST_INSTANT
    return -_INT64 <= value < _INT64


def decode_after(token: Any) -> tuple[str, int | None, str]:
    """The ordering, order value and ticket id an ``after`` token holds; ValidationError
    for anything that is no such token."""
    if not isinstance(token, str) or not 0 < len(token) <= 2048:
        raise ValidationError(
            f"after is the next_after token of a page, got {token!r}", field="after"
        )
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        found = json.loads(raw.decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        found = None
    if isinstance(found, list) and len(found) == 4 and found[0] == 1:
        _, order_by, value, ticket_id = found
        if (
            isinstance(order_by, str)
            and order_by in _ORDER_VALUES
            and _token_value(order_by, value)
            and isinstance(ticket_id, str)
            and is_identifier(ticket_id)  # a ticket's id, which a store can look up
        ):
            return order_by, value, ticket_id
    raise ValidationError(
        f"after is the next_after token of a page, got {token!r}", field="after"
    )

def ticket_organization(ticket: Ticket) -> str | None:
    """The organization whose ticket this is: the one it was opened for, None once it was
    anonymised (it belongs to no one). What :attr:`TicketQuery.organization` and
    :attr:`TicketScope.organization` read."""
    if ticket.requester == ANONYMOUS_REQUESTER:
        return None
    return ticket.organization


def closed_at(ticket: Ticket) -> datetime | None:
    """When the ticket closed, while it is closed (None otherwise): what a retention
    period counts from, and what :attr:`TicketQuery.closed_before` reads."""
    if ticket.status_category is StatusCategory.CLOSED:
        return ticket.closed_at
    return None


def linked_ids(ticket: Ticket) -> tuple[str, ...]:
    """The ids of the tickets ``ticket`` links to, each once, in the order of its links:
    what :attr:`TicketQuery.links_to` reads."""
    return tuple(dict.fromkeys(link.other for link in ticket.links))


def sla_deadline(ticket: Ticket) -> datetime | None:
    """The earliest deadline among the ticket's running SLA clocks (None: none running)."""
    best: datetime | None = None
    for clock in ticket.sla.values():
        deadline = clock.deadline
        if clock.is_running and deadline is not None and (best is None or deadline < best):
            best = deadline
    return best


class _Reversed:
    """Wraps a value so that sorting ascending orders it descending."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and bool(self.value == other.value)

    __hash__ = None  # type: ignore[assignment]


_SORT_KEYS: dict[str, Any] = {
    "created_at": lambda t: (t.created_at, t.id),
    "-created_at": lambda t: (_Reversed(t.created_at), t.id),
    "updated_at": lambda t: (t.updated_at, t.id),
    "-updated_at": lambda t: (_Reversed(t.updated_at), t.id),
    "priority": lambda t: (t.priority.rank, t.id),
    "number": lambda t: (t.number, t.id),
    "-number": lambda t: (-t.number, t.id),
    # Tickets with no queued_at last, either way (two Nones compare equal, so ids decide).
    "queued_at": lambda t: (t.queued_at is None, t.queued_at, t.id),
    "-queued_at": lambda t: (t.queued_at is None, _Reversed(t.queued_at), t.id),
}


# ---------------------------------------------------------------------------- protocol


@runtime_checkable
class UnitOfWork(Protocol):
    """Something that can group several changes into one transaction."""

    def unit_of_work(self) -> AbstractContextManager[None]:
        """Group the changes made inside the block: all are kept, or (on an exception)
        none. Nested blocks join the outer one. Blocks that write tickets (``append``,
        ``anonymise``, ``purge``) or an article naming ``problems`` do not interleave:
        from its first such write (or earlier) to its end a block keeps the others from
        writing tickets, and what it reads after that write includes everything they
        committed before it."""
        ...


@runtime_checkable
class Store(UnitOfWork, Protocol):
    """Where tickets, their events, requesters, routing state, the configuration document,
    the outbox and the knowledge-base articles live. Every method raises
    :class:`~helpdesk_core.errors.StoreClosedError` after :meth:`close`."""

    # tickets
    def allocate_number(self) -> int:
        """The next human ticket number; unique among the tickets of the store (numbers
        may have gaps; a number allocated in a unit of work that was rolled back may be
        handed out again, as no ticket holds it). Numbers are 64-bit: past
        :data:`LAST_NUMBER`, StorageError (:func:`numbers_used_up`)."""
        ...

    def load(self, ticket_id: str) -> Ticket:
        """The ticket's latest snapshot (it carries ``version``); NotFound("ticket", id)."""
        ...

    def get_many(self, ticket_ids: Sequence[str]) -> list[Ticket]:
        """The tickets with these ids, in the order asked; unknown ids are skipped."""
        ...

    def events(self, ticket_id: str, *, after_version: int = 0) -> list[Event]:
        """The ticket's events after ``after_version``, oldest first ([] if unknown)."""
        ...

    def append(
        self,
        ticket_id: str,
        *,
        expected_version: int,
        events: Sequence[Event],
        snapshot: Ticket,
        wake_at: datetime | None = None,
    ) -> None:
        """Atomically append ``events`` and replace the snapshot, only if the stored version
        is ``expected_version`` (0: the ticket must not exist), else ConflictError. Stores
        ``wake_at``, ends a due-lease, makes each event an outbox item."""
        ...

    def anonymise(
        self,
        ticket_id: str,
        *,
        expected_version: int,
        events: Sequence[Event],
        snapshot: Ticket,
        wake_at: datetime | None = None,
    ) -> None:
        """Replace the ticket's history in place, in one transaction, only if the stored
        version is ``expected_version`` (else ConflictError; NotFound if unknown).
        ``events`` is the whole new history: its first ``expected_version`` events replace
        the stored ones at the same versions and positions (so outbox items deliver the
        new text), the rest are appended like :meth:`append`. Snapshot, search text and
        outbox error notes of the ticket are rewritten too; durable stores make sure the
        old values do not survive in their files."""
        ...

    def purge(self, ticket_id: str, *, expected_version: int) -> None:
        """Remove the ticket for good, in one transaction, only if the stored version is
        ``expected_version`` (else ConflictError; NotFound if unknown): its snapshot, its
        events, its outbox items and their deliveries, its tags and search-index entries,
        its due-lease. Its number stays allocated and the positions of its events are
        never handed out again; other tickets and the requester record are untouched.
        Durable stores make sure the removed values do not survive in their files."""
        ...

    def query(self, query: TicketQuery) -> Page[Ticket]:
        """One page of the tickets matching ``query``."""
        ...

    def requester_history(self, requester_id: str, *, limit: int = 50) -> list[Ticket]:
        """The requester's tickets, newest first."""
        ...

    def requester_ticket_ids(self, requester_id: str, *, limit: int = 50) -> list[str]:
        """The ids of :meth:`requester_history`, in its order, without reading the tickets."""
        ...

    def due(self, now: datetime, *, limit: int = 100) -> list[str]:
        """Ids of tickets whose ``wake_at`` <= now, earliest first (ties by id)."""
        ...

    def reschedule(
        self, ticket_id: str, *, expected_version: int, wake_at: datetime | None
    ) -> bool:
        """Set the ticket's ``wake_at`` (None: no wake-up) if it is still at
        ``expected_version``, recording no event: its rules changed, not the ticket.
        Returns whether it was set (False: the ticket changed meanwhile, and whoever
        changed it set its wake-up); NotFound("ticket", id) when there is no such ticket."""
        ...

    def claim_due(
        self,
        now: datetime,
        *,
        worker: str,
        limit: int = 100,
        lease: timedelta = timedelta(seconds=60),
    ) -> list[str]:
        """Like :meth:`due` but skips tickets under a live lease (``worker``'s own
        included: a worker that runs again before its leases end takes nothing twice) and
        leases the ones returned to ``worker`` until ``now + lease`` or their next
        append."""
        ...

    def event_stream(
        self, *, after: int = 0, limit: int | None = None
    ) -> Iterator[tuple[int, Event]]:
        """(position, event) in global order after position ``after``, streamed: at most
        ``limit`` events (positions a purge left empty do not count, so a shorter read
        means the stream's end)."""
        ...

    # people
    def save_requester(self, requester: Requester) -> None:
        """Insert or replace a requester."""
        ...

    def get_requester(self, requester_id: str) -> Requester:
        """The requester; NotFound("requester", id)."""
        ...

    def find_requester(self, *, email: str) -> Requester | None:
        """The requester with this email, compared in lower case (smallest id if several);
        ``straße@`` and ``strasse@`` are different addresses."""
        ...

    def delete_requester(self, requester_id: str) -> None:
        """Remove the requester record (and its email index entry) for good; unknown ids
        are ignored."""
        ...

    # routing state
    def get_cursor(self, key: str) -> int:
        """A persistent counter (round-robin position); 0 when unset."""
        ...

    def set_cursor(self, key: str, value: int) -> None:
        """Set a persistent counter."""
        ...

    def agent_loads(self) -> dict[str, dict[Priority, int]]:
        """Active tickets per assignee per priority (only non-zero counts appear)."""
        ...

    # configuration document
    def load_config_document(self) -> dict[str, Any] | None:
        """The saved configuration document (a fresh copy), or None."""
        ...

    def save_config_document(self, document: Mapping[str, Any]) -> None:
        """Replace the configuration document (must be JSON-serializable, with text keys
        at every depth; else :class:`ValidationError` naming the path)."""
        ...

    # outbox
    def claim_outbox(
        self,
        consumer: str,
        *,
        now: datetime,
        limit: int = 100,
        lease: timedelta = timedelta(seconds=60),
    ) -> list[OutboxItem]:
        """Lease up to ``limit`` undelivered items of ``consumer``, oldest first."""
        ...

    def ack_outbox(self, consumer: str, ids: Sequence[str]) -> None:
        """Mark items delivered to ``consumer``; they never come back."""
        ...

    def release_outbox(
        self, consumer: str, ids: Sequence[str | OutboxItem], *, error: str | None = None
    ) -> None:
        """Give leased items back (delivery failed): pending again, attempts + 1. Given
        as the :class:`OutboxItem` a claim returned, an item is given back only while that
        claim's lease holds it (its ``attempts`` still match): a worker whose lease ran
        out, and whose item another worker claimed since, cannot give the other's lease
        away. Given as an id, it is given back whatever lease holds it."""
        ...

    # knowledge-base articles
    def save_article(self, article: Article, *, expected_version: int) -> None:
        """Insert or replace an article, only if its stored version is ``expected_version``
        (0: it must not exist yet), else ConflictError (``kind="article"``);
        ``article.version`` is ``expected_version + 1``. An article that names
        ``problems`` is a write that never interleaves with a purge, like an append
        (see :meth:`unit_of_work`)."""
        ...

    def get_article(self, article_id: str) -> Article:
        """The article; NotFound("article", id)."""
        ...

    def list_articles(self, query: ArticleQuery) -> Page[Article]:
        """One page of the articles matching ``query`` (:meth:`ArticleQuery.matches`),
        most recently updated first (ties by id)."""
        ...

    def search_articles(self, query: ArticleQuery) -> Page[Article]:
        """One page of the articles matching ``query``, whose ``text`` is required, most
        relevant first by the store's full-text ranking (ties by id)."""
        ...

    # lifecycle
    def close(self) -> None:
        """Release resources; later calls raise StoreClosedError. Idempotent."""
        ...


@runtime_checkable
class CursorClaims(Protocol):
    """A store that sets a cursor only if it is unset, as one atomic step (optional: the
    three bundled stores have it). The email channel claims each message this way, so two
    workers given copies of one message apply it once."""

    def claim_cursor(self, key: str, value: int) -> bool:
        """Set the cursor ``key`` to ``value`` (not 0) if it is unset (absent or 0), and
        say whether this call set it. Of concurrent claims of one key exactly one wins;
        inside a :meth:`~UnitOfWork.unit_of_work`, a claim of a key another unit of work
        claimed waits until that one ends, and wins if it was rolled back or set the
        cursor back to 0. A claim that loses should hold no lock (a store with row locks
        leaves the row unlocked), so that workers which only learn that keys are taken
        never wait for each other."""
        ...


@runtime_checkable
class CursorDeletion(Protocol):
    """A store that deletes cursors by key prefix and value (optional: the three bundled
    stores have it). Cursors that record which ticket a received message was applied to
    (their value is the ticket's number) are deleted with the ticket's personal data:
    when the ticket is anonymised or purged."""

    def delete_cursors(self, prefix: str, *, values: Iterable[int]) -> int:
        """Delete every cursor whose key starts with ``prefix`` and whose value is one of
        ``values``; return how many were deleted. Inside a
        :meth:`~UnitOfWork.unit_of_work`, the deletion is part of it (a rollback restores
        them)."""
        ...


@runtime_checkable
class RequesterLock(Protocol):
    """A store whose unit of work can hold back the tickets of one requester written
    elsewhere (optional: the three bundled stores have it). An erasure takes it before
    it reads the person's tickets, so that none is opened for them, or moved to them, by
    another thread or process between that read and the erasure's commit."""

    def lock_requester(self, requester_id: str) -> None:
        """Inside a :meth:`~UnitOfWork.unit_of_work`: until the block ends, a write in
        another block that gives a ticket to ``requester_id`` (an append of a new ticket
        whose snapshot names them, or of a snapshot that names them where the stored one
        named someone else) waits for it, and what this block reads from now on includes
        every such write committed before. A store may hold back more than that (the
        bundled ones hold back every ticket write). Outside a unit of work it holds
        nothing."""
        ...


@runtime_checkable
class SolvedTicketSearch(Protocol):
    """A store that ranks solved tickets with a full-text index of its own (optional: the
    SQLite and PostgreSQL stores have it). :meth:`Helpdesk.similar` asks it for candidates
    and keeps an in-memory index for stores without it."""

    def search_solved(self, words: Sequence[str], *, limit: int = 50) -> list[Ticket]:
        """Up to ``limit`` solved or closed tickets whose subject or description contains
        at least one of ``words`` (whole words, case-insensitively, as the store's index
        splits text), most relevant first by the store's ranking (ties by id)."""
        ...


def every_match(store: Store, query: TicketQuery, *, chunk: int = 1000) -> Iterator[Ticket]:
    """Every ticket ``query`` selects (its ``limit``, ``offset`` and ``after`` aside), in
    number order, read ``chunk`` at a time, each page asked for by the ``after`` token of
    the one before: a ticket that matches from the first page to the last is read once,
    whatever is written meanwhile. (Pages by offset shift under writes: a ticket before
    the page boundary that stops matching, closed or anonymised by another process, moves
    the next unread one onto the page read already.) The desk's passes over every match
    read this way. A store that hands back a page that does not go on from the one
    before (it ignores ``after``) is refused with ``StorageError``, not read for ever."""
    scan = evolve(query, order_by="number", limit=chunk, offset=0, after=None)
    last: Ticket | None = None
    before: set[str] = set()  # the ids of the page before
    while True:
        page = store.query(scan)
        for ticket in page.items:
            if last is not None and (ticket.number < last.number or ticket.id in before):
                raise StorageError(
                    f"the store's page after ticket {last.id!r} (number {last.number}) "
                    f"holds ticket {ticket.id!r} (number {ticket.number}): a page asked "
                    "for by after goes on from where the page before ended, in the "
                    "query's order"
                )
        before = {ticket.id for ticket in page.items}
        yield from page.items
        if page.next_after is None or not page.items:
            return
        last = page.items[-1]
        scan = evolve(scan, after=page.next_after)
