"""``DjangoStore``: a helpdesk_core ``Store`` on the Django ORM.

The store keeps no connection of its own: every call runs on Django's connection for the
database alias it was given, in the calling thread, and every write is a
``transaction.atomic`` block. Called inside the project's own ``transaction.atomic()`` (or
with ``ATOMIC_REQUESTS``), a write becomes a savepoint of that transaction: the desk's
changes, their outbox items and the project's own model changes commit together or not at
all. ``store.unit_of_work()`` is ``transaction.atomic`` too.

Concurrency follows the SQL stores of helpdesk_core:

* appends are version-checked (``UPDATE ... WHERE id = %s AND version = %s``);
* on PostgreSQL, appends and number allocation first take
  ``LOCK TABLE helpdesk_event IN EXCLUSIVE MODE`` until the transaction ends, so event
  positions become visible in commit order (the outbox and incremental readers rely on
  it); ``claim_due`` uses ``SELECT ... FOR UPDATE SKIP LOCKED``; the outbox work of one
  consumer locks that consumer's row;
* on SQLite every transaction must start with ``BEGIN IMMEDIATE`` (the database option
  ``"transaction_mode": "IMMEDIATE"``, Django 5.1 or later), which serializes writers.

Text search follows ``TicketQuery`` and ``ArticleQuery`` exactly: tickets by substring of
the case-folded text, articles by whole words through a word table, ranked with the same
Okapi BM25 as ``MemoryStore``.

Supported databases: SQLite and PostgreSQL, with ``USE_TZ = True``.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, NoReturn

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db import utils as db
from django.db.models import Avg, BooleanField, Count, F, Q, QuerySet, Subquery
from django.db.models.expressions import OrderBy, RawSQL, Window
from django.db.models.functions import Collate

from helpdesk_core.codec import structure, unstructure
from helpdesk_core.errors import (
    ConfigError,
    ConflictError,
    HelpdeskError,
    NotFound,
    StorageError,
    StoreClosedError,
    ValidationError,
)
from helpdesk_core.knowledge import Article, ArticleQuery, article_words
from helpdesk_core.model import Event, Priority, Requester, Ticket
from helpdesk_core.storage import OutboxItem, Page, TicketQuery
from helpdesk_core.storage.base import (
    ACTIVE_CATEGORIES,
    check_after,
    check_anonymise,
    check_append,
    check_article,
    check_claim,
    check_cursor,
    check_cursor_values,
    check_instant,
    check_lease,
    check_limit,
    check_name,
    check_purge,
    check_reschedule,
    closed_at,
    first_with_email,
    item_id,
    parse_item_id,
    read_in_chunks,
    release_targets,
    search_text,
    sla_deadline,
    ticket_organization,
)
from helpdesk_core.storage.codecs import (
    decode_document,
    decode_event,
    decode_requester,
    decode_ticket,
    dumps,
    encode_document,
    encode_event,
    encode_requester,
    encode_ticket,
    escape_nul,
    loads,
)
from helpdesk_django.models import (
    ArticleProblem,
    ArticleRecord,
    ArticleTag,
    ArticleWord,
    ConfigDocument,
    Cursor,
    EventRecord,
    NamedCounter,
    OutboxConsumer,
    OutboxDelivery,
    RequesterRecord,
    TicketLink,
    TicketRecord,
    TicketTag,
)

__all__ = ["DjangoStore"]

_CHUNK = 500
_ESC = "\ue000"
_ACTIVE = [c.value for c in ACTIVE_CATEGORIES]
#: The active tickets, written out as the ``helpdesk_ticket_active`` index's condition is:
#: SQLite uses a partial index only for a query whose WHERE has the index's own terms, and
#: ``status_category__in`` sends the list as parameters, which it cannot match.
_IS_ACTIVE = RawSQL(
    "status_category IN (" + ", ".join(f"'{c}'" for c in _ACTIVE) + ")",
    (),
    output_field=BooleanField(),
)
_ORDERS = {
    "created_at": ("created_at", False),
    "-created_at": ("created_at", True),
    "updated_at": ("updated_at", False),
    "-updated_at": ("updated_at", True),
    "priority": ("priority_rank", False),
    "number": ("number", False),
    "-number": ("number", True),
    "queued_at": ("queued_at", False),
    "-queued_at": ("queued_at", True),
}
#: The orders on a column that may be NULL: its NULLs come last in either direction.
_NULLS_LAST = frozenset({"queued_at", "-queued_at"})
_TICKET_NUMBER = "ticket_number"


def _ticket_fields(snapshot: Ticket, wake_at: datetime | None) -> dict[str, Any]:
    """The ticket row's columns (all but ``id`` and the lease)."""
    return {
        "number": snapshot.number,
        "version": snapshot.version,
        "status": snapshot.status,
        "status_category": snapshot.status_category.value,
        "category": None if snapshot.category is None else escape_nul(snapshot.category),
        "type": snapshot.type,
        "team": snapshot.team,
        "tier": snapshot.tier,
        "assignee": snapshot.assignee,
        "owner": snapshot.owner,
        "requester": snapshot.requester,
        "organization": None
        if (organization := ticket_organization(snapshot)) is None
        else escape_nul(organization),
        "asset": None if snapshot.asset is None else escape_nul(snapshot.asset),
        "priority": snapshot.priority.value,
        "priority_rank": snapshot.priority.rank,
        "created_at": snapshot.created_at,
        "updated_at": snapshot.updated_at,
        "wake_at": wake_at,
        "sla_deadline": sla_deadline(snapshot),
        "closed_at": closed_at(snapshot),
        "anonymised": snapshot.anonymised,
        "queued_at": snapshot.queued_at,
        "search_text": escape_nul(search_text(snapshot.subject, snapshot.description)),
        "snapshot": encode_ticket(snapshot),
    }


def _regex(text: str) -> str:
    """``text`` as a regular expression read the same by Python (SQLite) and PostgreSQL."""
    return "".join("\\" + c if c.isascii() and not c.isalnum() else c for c in text)


def _decode_article(text: str) -> Article:
    """A stored article back (validated)."""
    try:
        return structure(loads(text), Article)
    except (ValueError, ValidationError) as exc:
        raise StorageError(f"a stored article cannot be read: {exc}") from exc


class DjangoStore:
    """A store in the tables of the ``helpdesk`` app, on the Django database ``using``.

    Store objects are cheap and hold no connection: make one per desk, share it between
    threads (each thread uses its own Django connection). :meth:`close` only makes later
    calls raise :class:`~helpdesk_core.errors.StoreClosedError`; Django keeps managing
    its connections.
    """

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        if not isinstance(using, str) or using not in settings.DATABASES:
            known = ", ".join(sorted(settings.DATABASES))
            raise ConfigError(f"no database {using!r} in settings.DATABASES (known: {known})")
        if not settings.USE_TZ:
            raise ConfigError("DjangoStore needs USE_TZ = True: every instant it stores is aware")
        vendor = connections[using].vendor
        if vendor not in ("sqlite", "postgresql"):
            raise ConfigError(f"DjangoStore supports SQLite and PostgreSQL, not {vendor!r}")
        if vendor == "sqlite":
            mode = settings.DATABASES[using].get("OPTIONS", {}).get("transaction_mode")
            if str(mode).upper() != "IMMEDIATE":
                raise ConfigError(
                    f"DATABASES[{using!r}]['OPTIONS']['transaction_mode'] must be 'IMMEDIATE' "
                    "on SQLite, so that concurrent writers wait for each other instead of "
                    "failing with 'database is locked'"
                )
        self._using = using
        self._postgres = vendor == "postgresql"
        self._closed = False

    def __repr__(self) -> str:
        return f"DjangoStore(using={self._using!r}{', closed' if self._closed else ''})"

    @property
    def using(self) -> str:
        """The Django database alias the store works on."""
        return self._using

    # ------------------------------------------------------------------ plumbing

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError("the store is closed")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Django's database errors as helpdesk_core's (``raise ... from``)."""
        try:
            yield
        except HelpdeskError:
            raise
        except db.InterfaceError as exc:
            raise StoreClosedError(f"database {self._using!r} is unreachable: {exc}") from exc
        except db.DataError as exc:
            raise ValidationError(f"the database refused a value: {exc}") from exc
        except db.OperationalError as exc:
            # PostgreSQL: connection exceptions (class 08) and server shutdown (57P0x);
            # SQLite: a file that cannot be opened.
            state = getattr(exc.__cause__, "sqlstate", None) or ""
            if state.startswith(("08", "57P0")) or "unable to open" in str(exc):
                raise StoreClosedError(f"database {self._using!r} is unreachable: {exc}") from exc
            raise StorageError(f"database {self._using!r}: {exc}") from exc
        except db.Error as exc:
            raise StorageError(f"database {self._using!r}: {exc}") from exc
        except UnicodeEncodeError as exc:
            raise ValidationError(
                f"text that is not valid Unicode cannot be stored: {exc.reason}"
            ) from exc

    @contextmanager
    def _read(self) -> Iterator[None]:
        self._check_open()
        with self._errors():
            yield

    @contextmanager
    def _write(self) -> Iterator[None]:
        """A transaction, or a savepoint inside the caller's transaction."""
        self._check_open()
        with self._errors(), transaction.atomic(using=self._using):
            yield

    def _serialize_appends(self) -> None:
        """PostgreSQL: hold the events table's write lock until the transaction ends, so
        positions become visible in commit order. (SQLite writers are serialized by
        ``BEGIN IMMEDIATE`` already.)"""
        if self._postgres:
            connection = connections[self._using]
            table = connection.ops.quote_name(EventRecord._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")

    def _by_id(self, *fields: str | OrderBy) -> list[Any]:
        """Order by ``fields`` and then by id in code-point order (Python's ``str``
        order; on PostgreSQL independent of the database's collation)."""
        ticket_id = Collate(F("id"), "C") if self._postgres else F("id")
        return [*fields, ticket_id.asc()]

    def _tickets(self) -> QuerySet[TicketRecord]:
        return TicketRecord.objects.using(self._using)

    def _events(self) -> QuerySet[EventRecord]:
        return EventRecord.objects.using(self._using)

    def _deliveries(self) -> QuerySet[OutboxDelivery]:
        return OutboxDelivery.objects.using(self._using)

    @contextmanager
    def unit_of_work(self) -> Iterator[None]:
        """``transaction.atomic`` on the store's database: all changes of the block are
        kept, or (on an exception) none; nested blocks are savepoints. Exceptions raised
        by the block itself pass through unchanged."""
        self._check_open()
        block = transaction.atomic(using=self._using)
        with self._errors():
            block.__enter__()
        try:
            yield
        except BaseException:
            block.__exit__(*sys.exc_info())
            raise
        with self._errors():
            block.__exit__(None, None, None)

    # ------------------------------------------------------------------ tickets

    def allocate_number(self) -> int:
        """The next human ticket number (a row in ``helpdesk_counter``)."""
        counters = NamedCounter.objects.using(self._using).filter(name=_TICKET_NUMBER)
        with self._write():
            self._serialize_appends()  # the same lock order as appends: no deadlock
            if not counters.update(value=F("value") + 1):
                NamedCounter.objects.using(self._using).bulk_create(
                    [NamedCounter(name=_TICKET_NUMBER, value=0)], ignore_conflicts=True
                )
                counters.update(value=F("value") + 1)
            return int(counters.values_list("value", flat=True).get())

    def load(self, ticket_id: str) -> Ticket:
        """The ticket's latest snapshot."""
        with self._read():
            row = self._tickets().filter(id=ticket_id).values_list("snapshot", flat=True).first()
        if row is None:
            raise NotFound("ticket", ticket_id)
        return decode_ticket(row)

    def get_many(self, ticket_ids: Sequence[str]) -> list[Ticket]:
        """The tickets with these ids, in the order asked; unknown ids skipped."""
        wanted = list(dict.fromkeys(ticket_ids))
        found: dict[str, Ticket] = {}
        with self._read():
            for start in range(0, len(wanted), _CHUNK):
                part = wanted[start : start + _CHUNK]
                rows = self._tickets().filter(id__in=part).values_list("id", "snapshot")
                found.update((ticket_id, decode_ticket(data)) for ticket_id, data in rows)
        return [found[i] for i in ticket_ids if i in found]

    def events(self, ticket_id: str, *, after_version: int = 0) -> list[Event]:
        """The ticket's events after ``after_version``, oldest first."""
        check_after(after_version, "after_version")
        with self._read():
            rows = list(
                self._events()
                .filter(ticket_id=ticket_id, version__gt=after_version)
                .order_by("version")
                .values_list("data", flat=True)
            )
        return [decode_event(data) for data in rows]

    def append(
        self,
        ticket_id: str,
        *,
        expected_version: int,
        events: Sequence[Event],
        snapshot: Ticket,
        wake_at: datetime | None = None,
    ) -> None:
        """Append events and replace the snapshot if the stored version is still
        ``expected_version`` (else ConflictError); clears the due-lease."""
        check_append(ticket_id, expected_version, events, snapshot, wake_at)
        fields = _ticket_fields(snapshot, wake_at)
        with self._write():
            self._serialize_appends()
            tickets = self._tickets()
            found = tickets.filter(id=ticket_id).values_list("version", flat=True).first()
            actual = 0 if found is None else found
            if actual != expected_version:
                raise ConflictError(ticket_id, expected=expected_version, actual=actual)
            if found is None:
                tickets.create(id=ticket_id, **fields)
                self._write_tags(ticket_id, snapshot.tags, replace=False)
                self._write_links(ticket_id, snapshot, replace=False)
            else:
                updated = tickets.filter(id=ticket_id, version=expected_version).update(
                    **fields, lease_owner=None, lease_until=None
                )
                if updated != 1:
                    raise ConflictError(ticket_id, expected=expected_version, actual=actual)
                self._write_tags(ticket_id, snapshot.tags, replace=True)
                self._write_links(ticket_id, snapshot, replace=True)
            self._write_events(events, expected_version + 1)

    def anonymise(
        self,
        ticket_id: str,
        *,
        expected_version: int,
        events: Sequence[Event],
        snapshot: Ticket,
        wake_at: datetime | None = None,
    ) -> None:
        """Replace the ticket's history in place (see ``Store.anonymise``): event rows keep
        their positions, so outbox consumers read the new text. On SQLite the rows are
        rewritten with ``secure_delete`` on, and the WAL is checkpointed outside an
        enclosing transaction; on PostgreSQL old row versions stay as dead tuples until
        ``VACUUM`` reclaims them."""
        check_anonymise(ticket_id, expected_version, events, snapshot)
        fields = _ticket_fields(snapshot, wake_at)
        with self._write():
            self._serialize_appends()
            self._secure_delete()
            tickets = self._tickets()
            found = tickets.filter(id=ticket_id).values_list("version", flat=True).first()
            if found is None:
                raise NotFound("ticket", ticket_id)
            if found != expected_version:
                raise ConflictError(ticket_id, expected=expected_version, actual=found)
            stored = self._events().filter(ticket_id=ticket_id)
            for version, event in enumerate(events[:expected_version], start=1):
                stored.filter(version=version).update(
                    type=type(event).__name__, at=event.at, data=encode_event(event)
                )
            self._deliveries().filter(
                position__in=stored.values("position"), last_error__isnull=False
            ).update(last_error=None)
            tickets.filter(id=ticket_id).update(**fields, lease_owner=None, lease_until=None)
            self._write_tags(ticket_id, snapshot.tags, replace=True)
            self._write_links(ticket_id, snapshot, replace=True)
            if len(events) > expected_version:
                self._write_events(events[expected_version:], expected_version + 1)
        self._checkpoint()

    def purge(self, ticket_id: str, *, expected_version: int) -> None:
        """Remove the ticket for good if its stored version is ``expected_version``: its
        row, tags, events and their outbox deliveries. Its number and the positions of its
        events are never handed out again (counters and auto-increment keys only grow).
        On SQLite the rows are deleted with ``secure_delete`` on, and the WAL is
        checkpointed outside an enclosing transaction."""
        check_purge(ticket_id, expected_version)
        with self._write():
            self._serialize_appends()
            self._secure_delete()
            tickets = self._tickets()
            found = tickets.filter(id=ticket_id).values_list("version", flat=True).first()
            if found is None:
                raise NotFound("ticket", ticket_id)
            if found != expected_version:
                raise ConflictError(ticket_id, expected=expected_version, actual=found)
            stored = self._events().filter(ticket_id=ticket_id)
            self._deliveries().filter(position__in=stored.values("position")).delete()
            stored.delete()
            TicketTag.objects.using(self._using).filter(ticket_id=ticket_id).delete()
            TicketLink.objects.using(self._using).filter(ticket_id=ticket_id).delete()
            tickets.filter(id=ticket_id).delete()
        self._checkpoint()

    def _secure_delete(self) -> None:
        """SQLite: overwrite deleted and replaced content (checked)."""
        if not self._postgres:
            with connections[self._using].cursor() as cursor:
                cursor.execute("PRAGMA secure_delete = ON")
                if cursor.fetchone()[0] != 1:
                    raise StorageError("SQLite refused secure_delete: old values could survive")

    def _checkpoint(self) -> None:
        """SQLite, outside an enclosing transaction: copy the WAL into the database file
        and truncate it, so removed values do not linger in the ``-wal`` file."""
        connection = connections[self._using]
        if not self._postgres and not connection.in_atomic_block:
            with self._errors(), connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _write_tags(self, ticket_id: str, tags: Sequence[str], *, replace: bool) -> None:
        wanted = {escape_nul(tag) for tag in tags}
        rows = TicketTag.objects.using(self._using).filter(ticket_id=ticket_id)
        if replace:
            if set(rows.values_list("tag", flat=True)) == wanted:
                return
            rows.delete()
        TicketTag.objects.using(self._using).bulk_create(
            [TicketTag(ticket_id=ticket_id, tag=tag) for tag in sorted(wanted)]
        )

    def _write_links(self, ticket_id: str, snapshot: Ticket, *, replace: bool) -> None:
        """Keep ``helpdesk_ticket_link``: one row for each ticket ``snapshot`` links to
        (ids hold no NUL: stored as they are); rows are rewritten only when they change."""
        wanted = {link.other for link in snapshot.links}
        rows = TicketLink.objects.using(self._using).filter(ticket_id=ticket_id)
        if replace:
            if set(rows.values_list("other", flat=True)) == wanted:
                return
            rows.delete()
        if wanted:
            TicketLink.objects.using(self._using).bulk_create(
                [TicketLink(ticket_id=ticket_id, other=other) for other in sorted(wanted)]
            )

    def _write_events(self, events: Sequence[Event], first_version: int) -> None:
        self._events().bulk_create(
            [
                EventRecord(
                    ticket_id=event.ticket_id,
                    version=first_version + index,
                    type=type(event).__name__,
                    at=event.at,
                    data=encode_event(event),
                )
                for index, event in enumerate(events)
            ]
        )

    def _matching(self, query: TicketQuery) -> QuerySet[TicketRecord]:
        """The tickets ``query`` selects: the filters of ``TicketQuery.matches`` in SQL."""
        rows = self._tickets()
        exact = {
            "number": query.number,
            "status": query.status,
            "status_category": None
            if query.status_category is None
            else [c.value for c in query.status_category],
            "category": None if query.category is None else [escape_nul(c) for c in query.category],
            "type": query.type,
            "team": query.team,
            "tier": query.tier,
            "assignee": query.assignee,
            "owner": query.owner,
            "requester": query.requester,
            "organization": None
            if query.organization is None
            else [escape_nul(o) for o in query.organization],
            "asset": None if query.asset is None else [escape_nul(a) for a in query.asset],
            "priority": None if query.priority is None else [p.value for p in query.priority],
        }
        for column, values in exact.items():
            if values is not None:
                rows = rows.filter(**{f"{column}__in": list(values)})
        if query.tag is not None:
            tagged = TicketTag.objects.using(self._using).filter(
                tag__in=[escape_nul(tag) for tag in query.tag]
            )
            rows = rows.filter(id__in=tagged.values("ticket_id"))
        if query.links_to is not None:
            linking = TicketLink.objects.using(self._using).filter(other__in=query.links_to)
            rows = rows.filter(id__in=linking.values("ticket_id"))
        if query.unassigned:
            rows = rows.filter(assignee__isnull=True)
        if query.queued:
            rows = rows.filter(queued_at__isnull=False)
        if query.active_only:
            rows = rows.filter(_IS_ACTIVE)
        if query.updated_since is not None:
            rows = rows.filter(updated_at__gte=query.updated_since)
        if query.sla_deadline_before is not None:
            rows = rows.filter(sla_deadline__lt=query.sla_deadline_before)
        if query.closed_before is not None:
            rows = rows.filter(status_category="closed", closed_at__lt=query.closed_before)
        if query.anonymised is not None:
            rows = rows.filter(anonymised=query.anonymised)
        if query.scope is not None:
            scope = query.scope
            anywhere = Q(pk__in=[])  # no condition: matches nothing
            if scope.teams:
                anywhere |= Q(team__in=list(scope.teams))
            if scope.unrouted:
                anywhere |= Q(team__isnull=True)
            if scope.agent is not None:
                anywhere |= Q(assignee=scope.agent) | Q(owner=scope.agent)
            if scope.requester is not None:
                anywhere |= Q(requester=scope.requester)
            if scope.organization is not None:
                anywhere |= Q(organization=escape_nul(scope.organization))
            rows = rows.filter(anywhere)
        if query.text is not None:
            escaped = escape_nul(query.text.casefold())
            rows = rows.filter(search_text__contains=escaped)
            if escaped[0] in "01":
                # An escape code is U+E000 followed by 0 or 1: a match that starts with 0
                # or 1 must not start inside one.
                rows = rows.filter(search_text__regex=f"(^|[^{_ESC}]){_regex(escaped)}")
        return rows

    def query(self, query: TicketQuery) -> Page[Ticket]:
        """One page of the tickets matching ``query``, with the total count."""
        if not isinstance(query, TicketQuery):
            raise ValidationError("expected a TicketQuery", field="query")
        column, descending = _ORDERS[query.order_by]
        # A queue drain's query (``queued=True``) matches no NULL: its order is written
        # plain, as the index of waiting tickets has it.
        nulls_last = True if query.order_by in _NULLS_LAST and not query.queued else None
        first = (
            F(column).desc(nulls_last=nulls_last)
            if descending
            else F(column).asc(nulls_last=nulls_last)
        )
        matching = self._matching(query)
        if query.after is not None:
            return self._query_after(query, matching, column, descending, first)
        with self._read():
            rows = list(
                matching.annotate(matches=Window(Count("pk")))
                .order_by(*self._by_id(first))
                .values_list("snapshot", "matches")[query.offset : query.offset + query.limit]
            )
            if rows:
                total = int(rows[0][1])
            elif query.offset:
                total = matching.count()
            else:
                total = 0
        return query.offset_page(tuple(decode_ticket(snapshot) for snapshot, _ in rows), total)

    def _query_after(
        self,
        query: TicketQuery,
        matching: QuerySet[TicketRecord],
        column: str,
        descending: bool,
        first: OrderBy,
    ) -> Page[Ticket]:
        """The page of ``query`` after the ticket its ``after`` names (one row more than
        the page says whether another follows); the total counted apart."""
        bound = query.after_bound
        assert bound is not None
        last, last_id = bound
        ticket_id = Collate(F("id"), "C") if self._postgres else F("id")
        if last is None:  # NULLs come last: the NULLs with a greater id follow
            after = Q(**{f"{column}__isnull": True}, order_id__gt=last_id)
        else:
            after = Q(**{f"{column}__{'lt' if descending else 'gt'}": last}) | Q(
                **{column: last}, order_id__gt=last_id
            )
            if query.order_by in _NULLS_LAST and not query.queued:
                after |= Q(**{f"{column}__isnull": True})
        with self._read():
            rows = list(
                matching.alias(order_id=ticket_id)
                .filter(after)
                .order_by(*self._by_id(first))
                .values_list("snapshot", flat=True)[: query.limit + 1]
            )
            total = matching.count()
        return query.after_page([decode_ticket(snapshot) for snapshot in rows], total)

    def requester_history(self, requester_id: str, *, limit: int = 50) -> list[Ticket]:
        """The requester's tickets, newest first."""
        check_limit(limit)
        with self._read():
            rows = list(self._history(requester_id).values_list("snapshot", flat=True)[:limit])
        return [decode_ticket(data) for data in rows]

    def requester_ticket_ids(self, requester_id: str, *, limit: int = 50) -> list[str]:
        """The ids of the requester's tickets, newest first."""
        check_limit(limit)
        with self._read():
            return list(self._history(requester_id).values_list("id", flat=True)[:limit])

    def _history(self, requester_id: str) -> Any:
        """The requester's tickets in history order (newest first, ties by id)."""
        return (
            self._tickets()
            .filter(requester=requester_id)
            .order_by(*self._by_id(F("created_at").desc()))
        )

    def reschedule(
        self, ticket_id: str, *, expected_version: int, wake_at: datetime | None
    ) -> bool:
        """Set the ticket's wake-up if it is still at ``expected_version``."""
        check_reschedule(ticket_id, expected_version, wake_at)
        with self._write():
            done = (
                self._tickets()
                .filter(id=ticket_id, version=expected_version)
                .update(wake_at=wake_at)
            )
            if not done and not self._tickets().filter(id=ticket_id).exists():
                raise NotFound("ticket", ticket_id)
        return bool(done)

    def due(self, now: datetime, *, limit: int = 100) -> list[str]:
        """Ids of tickets whose ``wake_at`` has come, earliest first (ties by id)."""
        check_instant(now)
        check_limit(limit)
        with self._read():
            return list(
                self._tickets()
                .filter(wake_at__lte=now)
                .order_by(*self._by_id(F("wake_at").asc()))
                .values_list("id", flat=True)[:limit]
            )

    def claim_due(
        self,
        now: datetime,
        *,
        worker: str,
        limit: int = 100,
        lease: timedelta = timedelta(seconds=60),
    ) -> list[str]:
        """Lease due tickets that no live lease holds to ``worker`` until ``now + lease``
        (or their next append). PostgreSQL workers skip each other's rows."""
        check_instant(now)
        check_name(worker, "worker")
        check_limit(limit)
        check_lease(lease)
        with self._write():
            free = (
                self._tickets()
                .filter(wake_at__lte=now)
                .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
                .order_by(*self._by_id(F("wake_at").asc()))
            )
            if self._postgres:
                free = free.select_for_update(skip_locked=True)
            ids = list(free.values_list("id", flat=True)[:limit])
            self._tickets().filter(id__in=ids).update(lease_owner=worker, lease_until=now + lease)
        return ids

    def event_stream(
        self, *, after: int = 0, limit: int | None = None
    ) -> Iterator[tuple[int, Event]]:
        """(position, event) in global order after position ``after``, read in chunks."""
        check_after(after, "after")
        if limit is not None:
            check_limit(limit)
        self._check_open()
        return self._stream(after, limit)

    def _stream(self, after: int, limit: int | None) -> Iterator[tuple[int, Event]]:
        def fetch(position: int, size: int) -> list[tuple[int, Event]]:
            with self._read():
                rows = list(
                    self._events()
                    .filter(position__gt=position)
                    .order_by("position")
                    .values_list("position", "data")[:size]
                )
            return [(pos, decode_event(data)) for pos, data in rows]

        return read_in_chunks(fetch, after=after, limit=limit, chunk=_CHUNK)

    # ------------------------------------------------------------------ people

    def save_requester(self, requester: Requester) -> None:
        """Insert or replace a requester."""
        if not isinstance(requester, Requester):
            raise ValidationError("expected a Requester", field="requester")
        email = None if requester.email is None else escape_nul(requester.email.casefold())
        row = RequesterRecord(id=requester.id, email_key=email, data=encode_requester(requester))
        with self._write():
            RequesterRecord.objects.using(self._using).bulk_create(
                [row],
                update_conflicts=True,
                unique_fields=["id"],
                update_fields=["email_key", "data"],
            )

    def get_requester(self, requester_id: str) -> Requester:
        """The requester, or NotFound."""
        with self._read():
            data = (
                RequesterRecord.objects.using(self._using)
                .filter(id=requester_id)
                .values_list("data", flat=True)
                .first()
            )
        if data is None:
            raise NotFound("requester", requester_id)
        return decode_requester(data)

    def find_requester(self, *, email: str) -> Requester | None:
        """The requester with this email, compared in lower case (smallest id if
        several): the case-folded key finds the candidates."""
        if not isinstance(email, str):
            raise ValidationError("expected an email address", field="email")
        with self._read():
            rows = list(
                RequesterRecord.objects.using(self._using)
                .filter(email_key=escape_nul(email.casefold()))
                .order_by(*self._by_id())
                .values_list("data", flat=True)
            )
        return first_with_email((decode_requester(data) for data in rows), email)

    def delete_requester(self, requester_id: str) -> None:
        """Remove the requester record; unknown ids are ignored."""
        if not isinstance(requester_id, str):
            raise ValidationError("expected a requester id", field="requester_id")
        with self._write():
            RequesterRecord.objects.using(self._using).filter(id=requester_id).delete()

    # ------------------------------------------------------------------ routing state

    def get_cursor(self, key: str) -> int:
        """A persistent counter; 0 when unset."""
        check_name(key, "key")
        with self._read():
            value = (
                Cursor.objects.using(self._using)
                .filter(key=key)
                .values_list("value", flat=True)
                .first()
            )
        return 0 if value is None else int(value)

    def set_cursor(self, key: str, value: int) -> None:
        """Set a persistent counter."""
        check_name(key, "key")
        check_cursor(value)
        with self._write():
            Cursor.objects.using(self._using).bulk_create(
                [Cursor(key=key, value=value)],
                update_conflicts=True,
                unique_fields=["key"],
                update_fields=["value"],
            )

    def claim_cursor(self, key: str, value: int) -> bool:
        """Set the cursor to ``value`` if it is unset (0); say whether this call set it.
        A concurrent insert of the same key waits on the primary key until the other
        transaction ends (SQLite: writers are serialized already)."""
        check_name(key, "key")
        check_claim(value)
        cursors = Cursor.objects.using(self._using)
        with self._write():
            if cursors.filter(key=key, value=0).update(value=value):
                return True
            try:
                with transaction.atomic(using=self._using):
                    cursors.create(key=key, value=value)
            except db.IntegrityError:  # set, or released meanwhile by its claimer
                return bool(cursors.filter(key=key, value=0).update(value=value))
            return True

    def delete_cursors(self, prefix: str, *, values: Iterable[int]) -> int:
        """Delete the cursors whose key starts with ``prefix`` and whose value is one of
        ``values``; return how many. (Django's ``startswith`` ignores the case of ASCII
        letters on SQLite: the keys it finds are checked again here.)"""
        check_name(prefix, "prefix")
        wanted = sorted(check_cursor_values(values))
        cursors = Cursor.objects.using(self._using)
        deleted = 0
        with self._write():
            for start in range(0, len(wanted), 500):
                found = cursors.filter(
                    key__startswith=prefix, value__in=wanted[start : start + 500]
                ).values_list("key", flat=True)
                keys = [key for key in found if key.startswith(prefix)]
                for first in range(0, len(keys), 500):
                    deleted += cursors.filter(key__in=keys[first : first + 500]).delete()[0]
        return deleted

    def agent_loads(self) -> dict[str, dict[Priority, int]]:
        """Active tickets per assignee per priority (non-zero counts only)."""
        with self._read():
            rows = list(
                self._tickets()
                .filter(assignee__isnull=False, status_category__in=_ACTIVE)
                .order_by()
                .values_list("assignee", "priority")
                .annotate(count=Count("pk"))
            )
        loads: dict[str, dict[Priority, int]] = {}
        for assignee, priority, count in rows:
            loads.setdefault(assignee, {})[Priority(priority)] = int(count)
        return loads

    # ------------------------------------------------------------------ configuration

    def load_config_document(self) -> dict[str, Any] | None:
        """The saved configuration document (a fresh dict), or None."""
        with self._read():
            text = (
                ConfigDocument.objects.using(self._using)
                .filter(id=1)
                .values_list("document", flat=True)
                .first()
            )
        return None if text is None else decode_document(text)

    def save_config_document(self, document: Mapping[str, Any]) -> None:
        """Replace the configuration document (a JSON-serializable mapping)."""
        text = encode_document(document)
        with self._write():
            ConfigDocument.objects.using(self._using).bulk_create(
                [ConfigDocument(id=1, document=text)],
                update_conflicts=True,
                unique_fields=["id"],
                update_fields=["document"],
            )

    # ------------------------------------------------------------------ outbox

    def claim_outbox(
        self,
        consumer: str,
        *,
        now: datetime,
        limit: int = 100,
        lease: timedelta = timedelta(seconds=60),
    ) -> list[OutboxItem]:
        """Lease up to ``limit`` of the consumer's oldest undelivered events."""
        check_name(consumer, "consumer")
        check_instant(now)
        check_limit(limit)
        check_lease(lease)
        until = now + lease
        with self._write():
            hwm = self._high_water_mark(consumer)
            mine = self._deliveries().filter(consumer=consumer, position__gt=hwm)
            busy = mine.filter(Q(state="acked") | Q(state="leased", lease_until__gt=now))
            rows = list(
                self._events()
                .filter(position__gt=hwm)
                .exclude(position__in=busy.values("position"))
                .order_by("position")
                .values_list("position", "ticket_id", "version", "data")[:limit]
            )
            known = {
                position: (state, attempts)
                for position, state, attempts in mine.filter(
                    position__in=[row[0] for row in rows]
                ).values_list("position", "state", "attempts")
            }
            items: list[OutboxItem] = []
            leases: list[OutboxDelivery] = []
            for position, ticket_id, version, data in rows:
                state, attempts = known.get(position, (None, 0))
                # An expired lease counts as one more attempt.
                tries = 0 if state is None else attempts + (state == "leased")
                leases.append(
                    OutboxDelivery(
                        consumer=consumer,
                        position=position,
                        state="leased",
                        lease_until=until,
                        attempts=tries,
                    )
                )
                items.append(
                    OutboxItem(
                        id=item_id(ticket_id, version),
                        position=position,
                        event=decode_event(data),
                        attempts=tries,
                    )
                )
            if leases:
                self._deliveries().bulk_create(
                    leases,
                    update_conflicts=True,
                    unique_fields=["consumer", "position"],
                    update_fields=["state", "lease_until", "attempts"],
                )
        return items

    def ack_outbox(self, consumer: str, ids: Sequence[str]) -> None:
        """Mark items delivered to ``consumer``; they never come back."""
        check_name(consumer, "consumer")
        with self._write():
            positions = self._positions(ids)
            hwm = self._high_water_mark(consumer)
            fresh = [p for p in positions if p > hwm]
            if fresh:
                self._deliveries().bulk_create(
                    [
                        OutboxDelivery(consumer=consumer, position=p, state="acked")
                        for p in dict.fromkeys(fresh)
                    ],
                    update_conflicts=True,
                    unique_fields=["consumer", "position"],
                    update_fields=["state", "lease_until"],
                )
            acked = self._deliveries().filter(consumer=consumer, state="acked")
            unacked = (
                self._events()
                .filter(position__gt=hwm)
                .exclude(position__in=acked.values("position"))
                .order_by("position")
                .values("position")[:1]
            )
            newest = self._events().order_by("-position").values("position")[:1]
            # The first unacknowledged position and the newest one, read by one statement:
            # in PostgreSQL's READ COMMITTED each statement sees its own snapshot, and an
            # event committed between two reads would count as acknowledged unclaimed.
            first, last = (
                OutboxConsumer.objects.using(self._using)
                .filter(name=consumer)
                .annotate(first=Subquery(unacked), last=Subquery(newest))
                .values_list("first", "last")
                .get()
            )
            # Up to the first unacknowledged event; everything acknowledged: the newest.
            mark = int(first) - 1 if first is not None else hwm if last is None else int(last)
            if mark > hwm:
                OutboxConsumer.objects.using(self._using).filter(
                    name=consumer, acked_upto__lt=mark
                ).update(acked_upto=mark)
                self._deliveries().filter(consumer=consumer, position__lte=mark).delete()

    def release_outbox(
        self, consumer: str, ids: Sequence[str | OutboxItem], *, error: str | None = None
    ) -> None:
        """Give leased items back after a failure: pending again, ``attempts + 1`` (an
        OutboxItem only while its claim's lease holds it)."""
        check_name(consumer, "consumer")
        if error is not None and not isinstance(error, str):
            raise ValidationError("error is text or None", field="error")
        targets = release_targets(ids)
        note = None if error is None else escape_nul(error)
        with self._write():
            positions = self._positions([item for item, _ in targets])
            self._high_water_mark(consumer)
            released = {"state": "pending", "lease_until": None, "last_error": note}
            leased = self._deliveries().filter(consumer=consumer, state="leased")
            by_id = [p for p, (_, a) in zip(positions, targets, strict=True) if a is None]
            if by_id:
                leased.filter(position__in=by_id).update(
                    attempts=F("attempts") + 1, **released
                )
            for position, (_, attempts) in zip(positions, targets, strict=True):
                if attempts is not None:
                    leased.filter(position=position, attempts=attempts).update(
                        attempts=attempts + 1, **released
                    )

    def _high_water_mark(self, consumer: str) -> int:
        """The consumer's high-water mark; its row stays locked (PostgreSQL) until the
        transaction ends, so the outbox work of one consumer is serialized."""
        consumers = OutboxConsumer.objects.using(self._using)
        consumers.bulk_create([OutboxConsumer(name=consumer)], ignore_conflicts=True)
        row = consumers.filter(name=consumer)
        if self._postgres:
            row = row.select_for_update()
        return int(row.values_list("acked_upto", flat=True).get())

    def _positions(self, ids: Sequence[str]) -> list[int]:
        if isinstance(ids, str):
            raise ValidationError("ids is a list of outbox item ids", field="ids")
        out = []
        for value, (ticket_id, version) in zip(ids, [parse_item_id(value) for value in ids]):
            position = (
                self._events()
                .filter(ticket_id=ticket_id, version=version)
                .values_list("position", flat=True)
                .first()
            )
            if position is None:
                raise NotFound("outbox item", value)
            out.append(int(position))
        return out

    # ------------------------------------------------------------------ articles

    def _articles(self) -> QuerySet[ArticleRecord]:
        return ArticleRecord.objects.using(self._using)

    def save_article(self, article: Article, *, expected_version: int) -> None:
        """Insert or replace an article if its stored version is ``expected_version`` (0:
        it must not exist yet), else ConflictError (``kind="article"``)."""
        check_article(article, expected_version)
        words = Counter(article_words(article))
        fields = {
            "version": article.version,
            "status": article.status.value,
            "category": None if article.category is None else escape_nul(article.category),
            "author": article.author,
            "updated_at": article.updated_at,
            "word_count": sum(words.values()),
            "data": dumps(unstructure(article)),
        }
        with self._write():
            if article.problems:
                self._serialize_appends()  # with purges, as PostgresStore does
            articles = self._articles()
            if expected_version == 0:
                try:
                    with transaction.atomic(using=self._using):
                        articles.create(id=article.id, **fields)
                except db.IntegrityError:
                    self._article_conflict(article.id, expected_version)
            else:
                if not articles.filter(id=article.id, version=expected_version).update(**fields):
                    self._article_conflict(article.id, expected_version)
                for rows in (ArticleTag, ArticleProblem, ArticleWord):
                    rows.objects.using(self._using).filter(article_id=article.id).delete()
            ArticleTag.objects.using(self._using).bulk_create(
                ArticleTag(article_id=article.id, tag=tag)
                for tag in dict.fromkeys(escape_nul(t) for t in article.tags)
            )
            ArticleProblem.objects.using(self._using).bulk_create(
                ArticleProblem(article_id=article.id, problem=problem)
                for problem in dict.fromkeys(article.problems)
            )
            ArticleWord.objects.using(self._using).bulk_create(
                ArticleWord(article_id=article.id, word=word, count=count)
                for word, count in words.items()
            )

    def _article_conflict(self, article_id: str, expected: int) -> NoReturn:
        actual = self._articles().filter(id=article_id).values_list("version", flat=True).first()
        raise ConflictError(article_id, expected=expected, actual=actual or 0, kind="article")

    def get_article(self, article_id: str) -> Article:
        """The article, or NotFound."""
        with self._read():
            data = self._articles().filter(id=article_id).values_list("data", flat=True).first()
        if data is None:
            raise NotFound("article", article_id)
        return _decode_article(data)

    def _matching_articles(self, query: ArticleQuery) -> QuerySet[ArticleRecord] | None:
        """The articles ``query`` selects (``ArticleQuery.matches`` in SQL); None when its
        text has no searchable words (nothing matches)."""
        rows = self._articles()
        if query.status is not None:
            rows = rows.filter(status__in=[s.value for s in query.status])
        if query.category is not None:
            rows = rows.filter(category__in=[escape_nul(c) for c in query.category])
        if query.author is not None:
            rows = rows.filter(author__in=query.author)
        if query.tag is not None:
            tagged = ArticleTag.objects.using(self._using).filter(
                tag__in=[escape_nul(t) for t in query.tag]
            )
            rows = rows.filter(id__in=tagged.values("article_id"))
        if query.problem is not None:
            linked = ArticleProblem.objects.using(self._using).filter(problem__in=query.problem)
            rows = rows.filter(id__in=linked.values("article_id"))
        if query.text is not None:
            words = query.words
            if not words:
                return None
            having = ArticleWord.objects.using(self._using).filter(word__in=words)
            if query.match == "all":
                having = (
                    having.values("article_id")
                    .annotate(found=Count("word"))
                    .filter(found=len(words))
                )
            rows = rows.filter(id__in=having.values("article_id"))
        return rows

    def list_articles(self, query: ArticleQuery) -> Page[Article]:
        """One page of the matching articles, most recently updated first (ties by id)."""
        if not isinstance(query, ArticleQuery):
            raise ValidationError("expected an ArticleQuery", field="query")
        with self._read():
            matching = self._matching_articles(query)
            if matching is None:
                return Page(items=(), total=0)
            rows = list(
                matching.annotate(matches=Window(Count("pk")))
                .order_by(*self._by_id(F("updated_at").desc()))
                .values_list("data", "matches")[query.offset : query.offset + query.limit]
            )
            total = int(rows[0][1]) if rows else matching.count() if query.offset else 0
        items = tuple(_decode_article(data) for data, _ in rows)
        end = query.offset + len(items)
        return Page(items=items, total=total, next_offset=end if end < total else None)

    def search_articles(self, query: ArticleQuery) -> Page[Article]:
        """One page of the matching articles, best Okapi BM25 score first (ties by id):
        the ranking of ``MemoryStore``, computed from the word table."""
        if not isinstance(query, ArticleQuery):
            raise ValidationError("expected an ArticleQuery", field="query")
        if query.text is None:
            raise ValidationError("search_articles needs a query with text", field="query")
        words = query.words
        with self._read():
            matching = self._matching_articles(query)
            if matching is None:
                return Page(items=(), total=0)
            lengths = dict(matching.values_list("id", "word_count"))
            order = self._rank(words, matching, lengths)
            page = order[query.offset : query.offset + query.limit]
            data = dict(self._articles().filter(id__in=page).values_list("id", "data"))
        items = tuple(_decode_article(data[article_id]) for article_id in page)
        end = query.offset + len(items)
        total = len(order)
        return Page(items=items, total=total, next_offset=end if end < total else None)

    def _rank(
        self, words: Sequence[str], matching: QuerySet[ArticleRecord], lengths: dict[str, int]
    ) -> list[str]:
        """Okapi BM25 (k1 = 1.2, b = 0.75) of the matching articles over the whole corpus,
        as ``helpdesk_core.knowledge.rank_articles`` computes it."""
        corpus = self._articles().aggregate(count=Count("pk"), average=Avg("word_count"))
        count = corpus["count"]
        average = float(corpus["average"] or 0) or 1.0
        index = ArticleWord.objects.using(self._using).filter(word__in=words)
        frequency = dict(index.values("word").annotate(n=Count("pk")).values_list("word", "n"))
        scores = dict.fromkeys(lengths, 0.0)
        k1, b = 1.2, 0.75
        rows = index.filter(article__in=matching.values("id")).values_list(
            "article_id", "word", "count"
        )
        for article_id, word, tf in rows:
            df = frequency[word]
            idf = math.log(1 + (count - df + 0.5) / (df + 0.5))
            norm = k1 * (1 - b + b * lengths[article_id] / average)
            scores[article_id] += idf * tf * (k1 + 1) / (tf + norm)
        return sorted(scores, key=lambda article_id: (-scores[article_id], article_id))

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Refuse every later call (StoreClosedError). Django keeps its connections."""
        self._closed = True
