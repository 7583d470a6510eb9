"""The PostgreSQL store (psycopg 3; install the ``postgres`` extra).

All tables live in one schema (``schema="helpdesk"`` by default; the store creates it and
sets it as the connection's ``search_path``), so several desks, or test runs, can share a
database. One store object holds one connection in autocommit mode, guarded by a
re-entrant lock: threads may share a store and their calls are serialized; each process
or host opens its own store. A broken connection is reopened on the next call made outside
a transaction; an unreachable server raises :class:`~helpdesk_core.errors.StoreClosedError`.

Concurrency across processes:

* appends are version-checked (``UPDATE ... WHERE id = ? AND version = ?`` in the same
  statement that inserts the events only when the update matched) and take
  ``LOCK TABLE events IN EXCLUSIVE MODE`` first, so event positions become visible in
  commit order: a reader that has seen position *n* has seen every position below it,
  which the outbox and incremental reports rely on (appends are serialized per database);
* :meth:`PostgresStore.lock_requester` (an erasure, before it reads the person's
  tickets) locks the requester's row and takes that same lock until its unit of work
  ends, so no ticket is given to the person between that read and the erasure's commit;
* :meth:`PostgresStore.claim_due` leases with ``FOR UPDATE SKIP LOCKED``;
* the outbox work of one consumer (claim, ack, release) locks that consumer's row
  (``SELECT ... FOR UPDATE``) for its short transaction, so two workers of one consumer
  never lease the same item, and an ack's clean-up can never race a claim; different
  consumers do not wait for each other. (``SKIP LOCKED`` on shared outbox rows would make
  one consumer skip items another consumer is busy with.)

Types: instants are ``timestamptz``, positions ``bigserial``, tags ``text[]`` (GIN
indexed), the ids a ticket links to ``text[]`` (a GIN index of the tickets with links),
snapshots and events ``json``. ``json`` rather than ``jsonb`` keeps the
document text exactly as written, and it can hold ``\\u0000``, which ``jsonb`` refuses.
PostgreSQL ``text`` cannot hold NUL at all, so the free-text columns used by queries
(category, asset, tags, search text, email) store text escaped by
:func:`~helpdesk_core.storage.codecs.escape_nul`; query values are escaped the same way.
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from typing import Any, Self

import psycopg
from psycopg.pq import ConnStatus, TransactionStatus
from psycopg.types.json import set_json_loads

from helpdesk_core.errors import (
    ConflictError,
    HelpdeskError,
    NotFound,
    StorageError,
    StoreClosedError,
    ValidationError,
)
from helpdesk_core.knowledge.articles import Article, ArticleQuery, article_words, search_words
from helpdesk_core.model._validate import check_unicode
from helpdesk_core.model.enums import Priority
from helpdesk_core.model.events import Event
from helpdesk_core.model.people import Requester
from helpdesk_core.model.ticket import Ticket
from helpdesk_core.storage import _articles as kb
from helpdesk_core.storage import _sql as q
from helpdesk_core.storage import migrations
from helpdesk_core.storage.base import (
    ImportItem,
    OutboxItem,
    Page,
    TicketQuery,
    batch_numbers,
    check_after,
    check_anonymise,
    check_append,
    check_article,
    check_claim,
    check_cursor,
    check_cursor_values,
    check_error_note,
    check_instant,
    check_key,
    check_keys,
    check_lease,
    check_limit,
    check_name,
    check_purge,
    check_reschedule,
    check_words,
    closed_at,
    first_with_email,
    import_in_chunks,
    item_id,
    lease_end,
    linked_ids,
    numbers_used_up,
    parse_item_id,
    read_in_chunks,
    release_targets,
    search_text,
    sla_deadline,
    taken_number,
    ticket_organization,
)
from helpdesk_core.storage.codecs import (
    decode_document,
    decode_event,
    decode_requester,
    decode_ticket,
    encode_document,
    encode_event,
    encode_requester,
    encode_ticket,
    escape_nul,
)

__all__ = ["PostgresStore"]

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}\Z")
_CHUNK = 500
_ESC = "\ue000"

_COLUMNS = (
    "id, number, version, status, status_category, category, team, tier, assignee, owner, "
    "requester, organization, asset, priority, priority_rank, created_at, updated_at, "
    "wake_at, sla_deadline, tags, links, search_text, closed_at, anonymised, queued_at, "
    "type, solved_words, snapshot"
)
_INSERT_TICKET = (
    f"INSERT INTO tickets ({_COLUMNS}) VALUES ({', '.join(['%s'] * 26)}, %s::tsvector, %s) "
    "ON CONFLICT (id) DO NOTHING"
)
_UPDATE_TICKET = (
    "UPDATE tickets SET id = %s, number = %s, version = %s, status = %s, "
    "status_category = %s, category = %s, team = %s, tier = %s, assignee = %s, owner = %s, "
    "requester = %s, organization = %s, asset = %s, priority = %s, priority_rank = %s, "
    "created_at = %s, updated_at = %s, wake_at = %s, sla_deadline = %s, tags = %s, "
    "links = %s, search_text = %s, closed_at = %s, anonymised = %s, queued_at = %s, type = %s, "
    "solved_words = %s::tsvector, snapshot = %s, lease_owner = NULL, lease_until = NULL "
    "WHERE id = %s AND version = %s"
)
# One statement writes the snapshot and, only if that worked, the events (each event is
# an outbox item): a version clash writes nothing and reports 0 rows.
_WRITE_EVENTS = (
    "INSERT INTO events (ticket_id, version, type, at, data) "
    "SELECT * FROM unnest(%s::text[], %s::int[], %s::text[], %s::timestamptz[], %s::json[]) "
    "WHERE EXISTS (SELECT 1 FROM t)"
)
_APPEND_NEW = f"WITH t AS ({_INSERT_TICKET} RETURNING id) {_WRITE_EVENTS}"
_APPEND = f"WITH t AS ({_UPDATE_TICKET} RETURNING id) {_WRITE_EVENTS}"
# Sorted in SQL: a wake time near the end of the calendar, read back in the session's
# time zone, could lie beyond what Python's datetime holds.
_CLAIM_DUE = (
    "WITH claimed AS (UPDATE tickets SET lease_owner = %s, lease_until = %s WHERE id IN ("
    "SELECT id FROM tickets WHERE wake_at IS NOT NULL AND wake_at <= %s "
    "AND (lease_until IS NULL OR lease_until <= %s) ORDER BY wake_at, id LIMIT %s "
    "FOR UPDATE SKIP LOCKED) RETURNING id, wake_at) "
    "SELECT id FROM claimed ORDER BY wake_at, id"
)


#: A word in more than this share of the rows tells little about a row: ranking counts
#: the other words first (``ts_rank`` knows no document frequency; SQLite's bm25 does).
_COMMON_SHARE = 0.25


def _telling(conn: psycopg.Connection[Any], table: str, column: str, words: list[str]) -> str:
    """A tsquery literal of the ``words`` that few rows of ``table`` have (at most
    :data:`_COMMON_SHARE` of those with words), or of all of them when every one is
    common: what the ranking weighs first, so one rare shared word beats many words
    every row has."""
    row = conn.execute(
        f"SELECT (SELECT count(*) FROM {table} WHERE {column} IS NOT NULL), "
        f"array(SELECT (SELECT count(*) FROM {table} WHERE {column} @@ CAST(lit AS tsquery)) "
        "FROM unnest(%s::text[]) WITH ORDINALITY AS u(lit, i) ORDER BY i)",
        ([kb.tsquery([word], "any") for word in words],),
    ).fetchone()
    assert row is not None
    total, counts = int(row[0]), list(row[1])
    rare = [w for w, n in zip(words, counts, strict=True) if 0 < n <= total * _COMMON_SHARE]
    return kb.tsquery(rare or words, "any")


def _raw_json(data: Any) -> Any:
    """JSON columns are read as raw bytes; the codecs parse them."""
    return data


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _regex(text: str) -> str:
    return "".join("\\" + c if c.isascii() and not c.isalnum() else c for c in text)


class _Builder(q.QueryBuilder):
    def value(self, text: str) -> str:
        return escape_nul(text)

    def any_of(self, column: str, values: Sequence[Any], params: list[Any]) -> str:
        if len(values) > q.LONG_LIST:  # one array, however many values
            params.append(list(values))
            return f"{column} = ANY(?::{'bigint' if column == 'number' else 'text'}[])"
        return super().any_of(column, values, params)

    def tags(self, tags: tuple[str, ...], params: list[Any]) -> str:
        params.append(list(tags))
        return "tags && ?::text[]"

    def links_to(self, ids: tuple[str, ...], params: list[Any]) -> str:
        params.append([escape_nul(other) for other in ids])
        # ``links <> '{}'`` lets the planner use the partial index of tickets with links.
        return "(links <> '{}' AND links && ?::text[])"

    def text(self, folded: str, params: list[Any]) -> str:
        escaped = escape_nul(folded)
        params.append(_like(escaped))
        if escaped[0] not in "01":
            return "search_text LIKE ?"
        # An escape code is U+E000 followed by 0 or 1: a match starting with 0 or 1 must not
        # start inside a code, i.e. must not follow U+E000.
        params.append(f"(^|[^{_ESC}]){_regex(escaped)}")
        return "(search_text LIKE ? AND search_text ~ ?)"


def _ticket_row(snapshot: Ticket, wake_at: datetime | None) -> tuple[Any, ...]:
    text = search_text(snapshot.subject, snapshot.description)
    return (
        snapshot.id,
        snapshot.number,
        snapshot.version,
        snapshot.status,
        snapshot.status_category.value,
        None if snapshot.category is None else escape_nul(snapshot.category),
        snapshot.team,
        snapshot.tier,
        snapshot.assignee,
        snapshot.owner,
        snapshot.requester,
        None if (organization := ticket_organization(snapshot)) is None
        else escape_nul(organization),
        None if snapshot.asset is None else escape_nul(snapshot.asset),
        snapshot.priority.value,
        snapshot.priority.rank,
        snapshot.created_at,
        snapshot.updated_at,
        wake_at,
        sla_deadline(snapshot),
        [escape_nul(tag) for tag in snapshot.tags],
        [escape_nul(other) for other in linked_ids(snapshot)],
        escape_nul(text),
        closed_at(snapshot),
        snapshot.anonymised,
        snapshot.queued_at,
        snapshot.type,
        kb.snapshot_words(snapshot, kb.tsvector),
        encode_ticket(snapshot),
    )


def _lock_stored(conn: psycopg.Connection[Any], ticket_id: str, expected_version: int) -> None:
    """Before a ticket is rewritten or removed in place: take the event-log lock every
    writer takes, and lock the ticket's row, which must exist (NotFound) at
    ``expected_version`` (ConflictError)."""
    conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")
    found = conn.execute(
        "SELECT version FROM tickets WHERE id = %s FOR UPDATE", (ticket_id,)
    ).fetchone()
    if found is None:
        raise NotFound("ticket", ticket_id)
    if int(found[0]) != expected_version:
        raise ConflictError(ticket_id, expected=expected_version, actual=int(found[0]))


#: SQLSTATEs of a server that ended the session: administrator or crash shutdown, the
#: server starting or stopping, an idle session or transaction timing out (class ``08``,
#: connection exceptions, is recognised by its prefix).
_SESSION_ENDED = frozenset({"57P01", "57P02", "57P03", "57P05", "25P03"})


def _lost(conn: psycopg.Connection[Any], exc: BaseException) -> bool:
    """Whether ``exc`` means that the connection is gone. The error raised may not say it
    by itself: a session ended while a pipeline was busy fails as "cannot exit pipeline
    mode while busy", its cause (the server's shutdown message) chained to it, before
    the connection notices the socket is closed."""
    if conn.closed or conn.broken or conn.pgconn.status == ConnStatus.BAD:
        return True
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, psycopg.InterfaceError):
            return True
        state = getattr(error, "sqlstate", None)
        if isinstance(state, str) and (state.startswith("08") or state in _SESSION_ENDED):
            return True
        error = error.__cause__ or error.__context__
    return False


def _idle(conn: psycopg.Connection[Any]) -> bool:
    return conn.info.transaction_status == TransactionStatus.IDLE


def _aborted(conn: psycopg.Connection[Any]) -> bool:
    """Whether the connection's transaction failed (a statement raised in it): it can
    only be rolled back, and a COMMIT would roll it back without an error."""
    return conn.info.transaction_status == TransactionStatus.INERROR


def _roll_back(conn: psycopg.Connection[Any]) -> None:
    """End a failed transaction the store began itself; the error that failed it is
    what the caller reports, so a connection too broken to roll back is left as it is
    (it is reopened on the next call)."""
    try:
        if not (conn.closed or _idle(conn)):
            conn.rollback()
    except psycopg.Error:
        pass


def _event_columns(events: Sequence[Event], first_version: int) -> tuple[list[Any], ...]:
    return (
        [e.ticket_id for e in events],
        [first_version + i for i in range(len(events))],
        [type(e).__name__ for e in events],
        [e.at for e in events],
        [encode_event(e) for e in events],
    )


def _snapshot_token(conn: psycopg.Connection[Any]) -> str:
    """SQL giving one value per statement that differs whenever the data the statement
    sees may differ: a digest of the snapshot it reads from (a commit, or a transaction
    taking an id, changes the snapshot of every later statement on the server). NULL on
    a standby, whose snapshots leave out the transactions in progress, so that equal
    snapshots there may see different data."""
    if conn.info.server_version >= 130000:
        snapshot = "pg_current_snapshot()"
    else:  # before PostgreSQL 13
        snapshot = "txid_current_snapshot()"
    return (
        f"(SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE md5({snapshot}::text) END)"
    )


_FORKED_INSIDE = "the store was forked inside a unit of work; open a store in each process"

#: The stores open in this process: a child process forked from it must not wait for
#: their locks (see _after_fork).
_OPEN_STORES: weakref.WeakSet[PostgresStore] = weakref.WeakSet()


def _after_fork() -> None:
    """In a forked child: a store's lock held by a thread of the parent that was in a call
    (or a unit of work) would never be released here, as that thread does not exist:
    the store gets a lock of its own, and its next call opens this process's connection
    (the call, or the transaction, stays the parent's). A store the thread that forked
    is in a unit of work of is closed: that transaction is the parent's, and the thread
    goes on in its block, with the lock it holds; leaving the block there neither
    commits nor rolls back the parent's transaction over the session the two processes
    share (see PostgresStore._tx, which tells by the store's process id)."""
    for store in list(_OPEN_STORES):
        lock = store._lock
        if lock.acquire(blocking=False):  # free, or held by the thread that forked
            lock.release()
            if store._depth:
                store._closed = True
        else:
            store._lock = threading.RLock()
            store._depth = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


class PostgresStore:
    """A store in one PostgreSQL schema (see the module docstring).

    ``dsn`` is a libpq connection string or URL; ``schema`` a lower-case identifier;
    ``connect_timeout`` in seconds (0 to 86400; libpq waits whole seconds, at least one);
    ``text_index=True`` adds a ``pg_trgm`` GIN index for text queries (the extension must
    be installed in the database). A bad argument is a ValidationError naming it, raised
    before connecting.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "helpdesk",
        connect_timeout: float = 10.0,
        text_index: bool = False,
    ) -> None:
        if not isinstance(schema, str) or not _SCHEMA_RE.match(schema):
            raise ValidationError(
                f"schema must be a lower-case SQL identifier, got {schema!r}", field="schema"
            )
        if schema.startswith("pg_") or schema == "information_schema":
            # The server's own schemas: pg_temp is the session's (dropped on disconnect),
            # and a superuser could create the store's tables in information_schema.
            raise ValidationError(
                f"schema {schema!r} is one of PostgreSQL's system schemas (pg_*, "
                "information_schema): choose a name of your own",
                field="schema",
            )
        if not isinstance(dsn, str) or "\x00" in dsn:
            # libpq would read a DSN up to its NUL, and connect to what that part names
            raise ValidationError(
                f"dsn is a libpq connection string or URL without NUL, got {dsn!r}", field="dsn"
            )
        check_unicode(dsn, "dsn")
        if (
            isinstance(connect_timeout, bool)
            or not isinstance(connect_timeout, int | float)
            or not 0 <= connect_timeout <= 86_400
        ):
            raise ValidationError(
                f"connect_timeout is a number of seconds from 0 to 86400, got {connect_timeout!r}",
                field="connect_timeout",
            )
        if not isinstance(text_index, bool):
            raise ValidationError(
                f"text_index is true or false, got {text_index!r}", field="text_index"
            )
        self._dsn = dsn
        self._schema = schema
        self._quoted = f'"{schema}"'
        self._timeout = connect_timeout
        self._lock = threading.RLock()
        self._depth = 0
        self._closed = False
        self._builder = _Builder()
        self._kept: q.Kept | None = None  # see query
        self._counted: tuple[tuple[Any, ...], str | None, int] | None = None  # _query_after
        # Pipelines need libpq 14 or newer (psycopg[binary] bundles one).
        self._pipelines = psycopg.Pipeline.is_supported()
        # Connections inherited from the process this one was forked from: kept, never
        # used nor closed (closing would end the session that process still uses).
        self._inherited: list[psycopg.Connection[Any]] = []
        self._pid = os.getpid()
        self._conn = self._connect()
        try:
            with self._errors():
                migrations.migrate_postgres(self._conn, self._quoted)
                if text_index:
                    migrations.enable_postgres_text_index(self._conn, self._quoted)
        except BaseException:
            self._conn.close()
            raise
        _OPEN_STORES.add(self)

    def __repr__(self) -> str:
        return f"PostgresStore(schema={self._schema!r}{', closed' if self._closed else ''})"

    @property
    def schema(self) -> str:
        """The schema holding this store's tables."""
        return self._schema

    # ------------------------------------------------------------------ plumbing

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(
                self._dsn, autocommit=True, connect_timeout=max(1, int(self._timeout))
            )
        except psycopg.Error as exc:
            raise StoreClosedError(f"cannot reach PostgreSQL: {exc}") from exc
        try:
            set_json_loads(_raw_json, conn)
            conn.execute(f"SET search_path TO {self._quoted}")
        except psycopg.Error as exc:
            lost = _lost(conn, exc)
            conn.close()
            if lost:
                raise StoreClosedError(f"PostgreSQL connection failed: {exc}") from exc
            raise StorageError(f"PostgreSQL: cannot use schema {self._schema}: {exc}") from exc
        return conn

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except HelpdeskError:
            raise
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            if self._closed:
                raise StoreClosedError("the store is closed") from exc
            if isinstance(exc, psycopg.errors.ProgramLimitExceeded):
                raise ValidationError(f"PostgreSQL refused a value: {exc}") from exc
            if _lost(self._conn, exc):
                raise StoreClosedError(f"PostgreSQL connection failed: {exc}") from exc
            # The connection is fine: a timeout, a lock, a deadlock, a full disk...
            raise StorageError(f"PostgreSQL: {exc}") from exc
        except psycopg.DataError as exc:
            raise ValidationError(f"PostgreSQL refused a value: {exc}") from exc
        except psycopg.Error as exc:
            raise StorageError(f"PostgreSQL: {exc}") from exc
        except UnicodeEncodeError as exc:
            raise ValidationError(
                f"text that is not valid Unicode cannot be stored: {exc.reason}"
            ) from exc

    def _ready(self) -> psycopg.Connection[Any]:
        if self._closed:
            raise StoreClosedError("the store is closed")
        if self._pid != os.getpid():
            self._leave_inherited()
        if self._depth == 0:
            conn = self._conn
            if not (conn.closed or conn.broken):
                if _idle(conn):
                    return conn
                # Outside every transaction of ours, so a transaction an interruption
                # left open: undo it, or start afresh.
                _roll_back(conn)
                if _idle(conn):
                    return conn
                conn.close()
            self._conn = self._connect()
        return self._conn

    def _leave_inherited(self) -> None:
        """In a process forked from the one that opened the store (a web server's workers
        forked after start-up): the connection's socket is shared with that process, and
        two processes talking over one session read each other's results or wait
        forever. Leave it alone and open this process's own."""
        if not any(conn is self._conn for conn in self._inherited):
            self._inherited.append(self._conn)
        if self._depth:
            self._pid = os.getpid()
            self._closed = True
            raise StoreClosedError(_FORKED_INSIDE)
        self._conn = self._connect()  # until it succeeds, every call tries again
        self._pid = os.getpid()

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Connection[Any]]:
        """A transaction (a savepoint when nested). In a process forked inside it (see
        :func:`_after_fork`) leaving the block ends nothing, neither commit nor rollback:
        the transaction, and the session, are the other process's. The block's exception
        goes on as it was; a block that ended well raises StoreClosedError (its work is
        not committed here)."""
        if self._closed:  # (without the lock: a store closed in a fork may hold it)
            raise StoreClosedError("the store is closed")
        with self._lock, self._errors():
            conn = self._ready()
            self._depth += 1
            try:
                # The Transaction itself, entered and left by hand: conn.transaction() is a
                # generator, which would roll back when collected, in a forked process too.
                transaction = psycopg.Transaction(conn)
                transaction.__enter__()
                try:
                    yield conn
                    if self._pid == os.getpid() and _aborted(conn):
                        # A statement of the block failed and the block went on (it
                        # caught the error): PostgreSQL would answer the COMMIT with a
                        # rollback and no error, so the block's work would vanish
                        # unreported. Undo the block instead, as for any exception.
                        raise StorageError(
                            "PostgreSQL: a statement of this unit of work failed and the "
                            "block went on; the server had aborted its transaction, so "
                            "nothing of the block was kept (it was rolled back)"
                        )
                except BaseException as exc:
                    if self._pid == os.getpid():
                        transaction.__exit__(type(exc), exc, exc.__traceback__)
                    raise
                if self._pid != os.getpid():
                    raise StoreClosedError(_FORKED_INSIDE)
                transaction.__exit__(None, None, None)
            finally:
                self._depth -= 1

    @contextmanager
    def _read(self) -> Iterator[psycopg.Connection[Any]]:
        if self._closed:  # (without the lock: a store closed in a fork may hold it)
            raise StoreClosedError("the store is closed")
        with self._lock, self._errors():
            yield self._ready()

    @contextmanager
    def unit_of_work(self) -> Iterator[None]:
        """One transaction for the block (nested blocks are savepoints); an exception
        rolls the block back."""
        with self._tx():
            yield

    # ------------------------------------------------------------------ tickets

    def allocate_number(self) -> int:
        """The next ticket number (a sequence: never handed out twice)."""
        with self._read() as conn:
            try:
                row = conn.execute("SELECT nextval('ticket_number')").fetchone()
            except psycopg.errors.SequenceGeneratorLimitExceeded as exc:
                raise numbers_used_up() from exc
        assert row is not None
        return int(row[0])

    def load(self, ticket_id: str) -> Ticket:
        """The ticket's latest snapshot."""
        check_key(ticket_id, "ticket_id")
        with self._read() as conn:
            row = conn.execute(q.to_pyformat(q.SELECT_SNAPSHOT), (ticket_id,)).fetchone()
        if row is None:
            raise NotFound("ticket", ticket_id)
        return decode_ticket(row[0])

    def get_many(self, ticket_ids: Sequence[str]) -> list[Ticket]:
        """The tickets with these ids, in order; unknown ids skipped."""
        ticket_ids = check_keys(ticket_ids, "ticket_ids")
        wanted = list(dict.fromkeys(ticket_ids))
        found: dict[str, Ticket] = {}
        with self._read() as conn:
            for part in q.chunks(wanted, _CHUNK):
                rows = conn.execute(
                    "SELECT id, snapshot FROM tickets WHERE id = ANY(%s)", (list(part),)
                ).fetchall()
                for ticket_id, snapshot in rows:
                    found[ticket_id] = decode_ticket(snapshot)
        return [found[i] for i in ticket_ids if i in found]

    def events(self, ticket_id: str, *, after_version: int = 0) -> list[Event]:
        """The ticket's events after ``after_version``."""
        check_key(ticket_id, "ticket_id")
        check_after(after_version, "after_version")
        with self._read() as conn:
            rows = conn.execute(
                q.to_pyformat(q.SELECT_EVENTS), (ticket_id, after_version)
            ).fetchall()
        return [decode_event(row[0]) for row in rows]

    def append(
        self,
        ticket_id: str,
        *,
        expected_version: int,
        events: Sequence[Event],
        snapshot: Ticket,
        wake_at: datetime | None = None,
    ) -> None:
        """Append events and replace the snapshot if the version still matches."""
        check_append(ticket_id, expected_version, events, snapshot, wake_at)
        row = _ticket_row(snapshot, wake_at)
        columns = _event_columns(events, expected_version + 1)
        if expected_version == 0:
            sql, params = _APPEND_NEW, (*row, *columns)
        else:
            sql, params = _APPEND, (*row, ticket_id, expected_version, *columns)
        if self._closed:  # (without the lock: a store closed in a fork may hold it)
            raise StoreClosedError("the store is closed")
        with self._lock, self._errors():
            conn = self._ready()
            if self._depth:  # inside a unit of work: a savepoint
                written = self._write_within(conn, sql, params)
            else:
                written = self._write_alone(conn, sql, params)
            if written == len(events):
                return
            # The version did not match, so the statement wrote nothing.
            found = conn.execute(
                "SELECT version FROM tickets WHERE id = %s", (ticket_id,)
            ).fetchone()
        actual = 0 if found is None else int(found[0])
        raise ConflictError(ticket_id, expected=expected_version, actual=actual)

    def _write_within(
        self, conn: psycopg.Connection[Any], sql: str, params: Sequence[Any]
    ) -> int:
        """One append inside a unit of work, under a savepoint of its own so that a write
        the server refuses leaves the enclosing transaction as it was: the savepoint, the
        event-log lock, the write and the release travel in one pipeline (one round trip;
        four with a libpq too old for pipelines). Returns the rows the write inserted."""
        if not self._pipelines:
            with self._tx():
                conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")
                return conn.execute(sql, params).rowcount
        try:
            with conn.pipeline():
                conn.execute("SAVEPOINT helpdesk_append")
                conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")
                cursor = conn.execute(sql, params)
                conn.execute("RELEASE SAVEPOINT helpdesk_append")
        except BaseException:
            # Back to where the append began; the enclosing transaction goes on.
            with suppress(psycopg.Error):
                conn.execute(
                    "ROLLBACK TO SAVEPOINT helpdesk_append; RELEASE SAVEPOINT helpdesk_append"
                )
            raise
        return cursor.rowcount

    def _write_alone(
        self, conn: psycopg.Connection[Any], sql: str, params: Sequence[Any]
    ) -> int:
        """One append as its own transaction, in one round trip: the BEGIN, the event-log
        lock, the write and the COMMIT travel in one pipeline (three round trips with a
        libpq too old for pipelines). The write matches nothing on a version conflict, so
        committing it is harmless; any error rolls the transaction back. Returns the rows
        the write inserted."""
        self._depth += 1
        try:
            if self._pipelines:
                with conn.pipeline():
                    conn.execute("BEGIN")
                    conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")
                    cursor = conn.execute(sql, params)
                    conn.execute("COMMIT")
            else:
                conn.execute("BEGIN; LOCK TABLE events IN EXCLUSIVE MODE")
                cursor = conn.execute(sql, params)
                conn.execute("COMMIT")
        except BaseException:
            _roll_back(conn)
            raise
        finally:
            self._depth -= 1
        return cursor.rowcount

    def anonymise(
        self,
        ticket_id: str,
        *,
        expected_version: int,
        events: Sequence[Event],
        snapshot: Ticket,
        wake_at: datetime | None = None,
    ) -> None:
        """Replace the ticket's history in place (see :meth:`Store.anonymise`): event,
        ticket and outbox delivery rows are rewritten in one transaction. PostgreSQL keeps the old
        row versions as dead tuples until ``VACUUM`` reclaims them (and in the WAL and
        backups until they expire); see the privacy docs for the operational side."""
        check_anonymise(ticket_id, expected_version, events, snapshot)
        row = _ticket_row(snapshot, wake_at)
        rewritten = [
            (type(e).__name__, e.at, encode_event(e), ticket_id, version)
            for version, e in enumerate(events[:expected_version], start=1)
        ]
        added = events[expected_version:]
        with self._tx() as conn:
            _lock_stored(conn, ticket_id, expected_version)
            with conn.cursor() as cur:
                cur.executemany(
                    "UPDATE events SET type = %s, at = %s, data = %s::json "
                    "WHERE ticket_id = %s AND version = %s",
                    rewritten,
                )
            conn.execute(
                "UPDATE outbox_deliveries SET last_error = NULL WHERE last_error IS NOT NULL "
                "AND position IN (SELECT position FROM events WHERE ticket_id = %s)",
                (ticket_id,),
            )
            conn.execute(_UPDATE_TICKET, (*row, ticket_id, expected_version))
            if added:
                columns = _event_columns(added, expected_version + 1)
                conn.execute(f"WITH t AS (SELECT 1 AS id) {_WRITE_EVENTS}", columns)

    def purge(self, ticket_id: str, *, expected_version: int) -> None:
        """Remove the ticket for good (see :meth:`Store.purge`): its ticket, event and outbox
        delivery rows are deleted in one transaction (positions come from a sequence
        and are never reused). PostgreSQL keeps the deleted row versions as dead tuples
        until ``VACUUM`` reclaims them (and in the WAL and backups until they expire); see
        the privacy docs for the operational side."""
        check_purge(ticket_id, expected_version)
        with self._tx() as conn:
            _lock_stored(conn, ticket_id, expected_version)
            conn.execute(
                "DELETE FROM outbox_deliveries "
                "WHERE position IN (SELECT position FROM events WHERE ticket_id = %s)",
                (ticket_id,),
            )
            conn.execute("DELETE FROM events WHERE ticket_id = %s", (ticket_id,))
            conn.execute("DELETE FROM tickets WHERE id = %s", (ticket_id,))

    def import_tickets(self, items: Iterable[ImportItem]) -> int:
        """Add many new tickets in one transaction (all or none); each item is
        ``(events, snapshot)`` or ``(events, snapshot, wake_at)``. Returns the count.
        Later :meth:`allocate_number` calls give numbers above every imported ticket's. A
        ticket carrying the number of a stored ticket or of another imported one is refused
        (ValidationError on ``number``)."""
        if isinstance(items, str | bytes) or not isinstance(items, Iterable):
            raise ValidationError(
                f"items is a list of (events, snapshot), got {type(items).__name__}",
                field="items",
            )
        with self._tx() as conn:
            conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")
            return import_in_chunks(
                items, lambda batch: self._import_batch(conn, batch), chunk=_CHUNK
            )

    def _import_batch(
        self,
        conn: psycopg.Connection[Any],
        batch: list[tuple[Sequence[Event], Ticket, datetime | None]],
    ) -> int:
        ids = [snapshot.id for _, snapshot, _ in batch]
        seen: set[str] = set()
        for ticket_id in ids:
            if ticket_id in seen:
                raise ConflictError(ticket_id, expected=0, actual=1)
            seen.add(ticket_id)
        existing = conn.execute(
            "SELECT id, version FROM tickets WHERE id = ANY(%s) LIMIT 1", (ids,)
        ).fetchone()
        if existing is not None:
            raise ConflictError(existing[0], expected=0, actual=int(existing[1]))
        numbers = batch_numbers(batch)
        held = conn.execute(
            "SELECT number, id FROM tickets WHERE number = ANY(%s) ORDER BY number, id LIMIT 1",
            (list(numbers),),
        ).fetchone()
        if held is not None:
            raise taken_number(numbers[int(held[0])], int(held[0]), held[1])
        # allocate_number must not hand out the number of a ticket imported here: the
        # sequence moves past the batch's numbers (never back: the nextval is ours). One
        # that handed out a number as high already stays: nextval would fail on one that
        # handed out the last number, which an imported ticket can carry.
        top = max(snapshot.number for _, snapshot, _ in batch)
        conn.execute(
            "SELECT setval('ticket_number', greatest(nextval('ticket_number'), %s)) "
            "FROM ticket_number WHERE NOT (is_called AND last_value >= %s)",
            (top, top),
        )
        # COPY is the bulk path; ids were checked above, under the events lock that every
        # writer of tickets takes.
        with conn.cursor() as cur:
            with cur.copy(f"COPY tickets ({_COLUMNS}) FROM STDIN") as copy:
                for _, snapshot, wake_at in batch:
                    copy.write_row(_ticket_row(snapshot, wake_at))
            with cur.copy("COPY events (ticket_id, version, type, at, data) FROM STDIN") as copy:
                for group, _, _ in batch:
                    for version, event in enumerate(group, start=1):
                        copy.write_row(
                            (
                                event.ticket_id,
                                version,
                                type(event).__name__,
                                event.at,
                                encode_event(event),
                            )
                        )
        return len(batch)

    def query(self, query: TicketQuery) -> Page[Ticket]:
        """One page of the tickets matching ``query``."""
        if not isinstance(query, TicketQuery):
            raise ValidationError("expected a TicketQuery", field="query")
        where, params = self._builder.where(query)
        where = q.to_pyformat(where)
        column = q.ORDER_KEYS[query.order_by][0]
        order = q.order_sql(query)
        # The page is read on its own (a count over the window would read and sort every
        # match for a page of 50); the total is counted apart, unless the first page
        # already holds every match. Each page carries a token of the snapshot its
        # statement read from (see _snapshot_token). Outside a unit of work, the page
        # that follows the last one read, asked for on the same snapshot, starts after
        # that page's last row and takes its total: reading every page of a long list
        # costs each row once, where an OFFSET walks every row before the page again.
        if query.after is not None:
            return self._query_after(query, where, params, column, order)
        with self._read() as conn:
            token = _snapshot_token(conn)
            select = f"SELECT snapshot, {column}, id, {token} FROM tickets"
            kept = self._kept
            rows: list[Any] = []
            if self._depth == 0 and kept is not None and kept.continues(query):
                after, after_params = q.after_sql(query, kept.last)
                # No rows when the snapshot moved on: nothing is read then.
                rows = conn.execute(
                    f"{select} WHERE ({where}) AND {q.to_pyformat(after)} AND {token} = %s "
                    f"ORDER BY {order} LIMIT %s",
                    (*params, *after_params, kept.token, query.limit),
                ).fetchall()
                total = kept.total
            if not rows:
                rows = conn.execute(
                    f"{select} WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s",
                    (*params, query.limit, query.offset),
                ).fetchall()
                if query.offset == 0 and len(rows) < query.limit:
                    total = len(rows)
                else:
                    counted = f"SELECT count(*) FROM tickets WHERE {where}"
                    row = conn.execute(counted, params).fetchone()
                    total = 0 if row is None else int(row[0])
            end = query.offset + len(rows)
            if rows and end < total and self._depth == 0 and rows[-1][3] is not None:
                last = rows[-1]
                self._kept = q.Kept(query.matches_key, last[3], end, (last[1], last[2]), total)
        items = tuple(decode_ticket(row[0]) for row in rows)
        if items:
            total = max(total, end)  # tickets closed between the two reads
        return query.offset_page(items, total)

    def _query_after(
        self, query: TicketQuery, where: str, params: list[Any], column: str, order: str
    ) -> Page[Ticket]:
        """The page of ``query`` after the ticket its ``after`` names: one row more than
        the page says whether another follows; the total is counted apart, in the same
        statement (one snapshot), unless that statement reads the snapshot the last page
        of the same walk was read from (see _snapshot_token): then it is that page's."""
        last = query.after_bound
        assert last is not None
        after, after_params = q.after_sql(query, last)
        counted = self._counted if self._depth == 0 else None
        if counted is None or counted[0] != query.matches_key:
            counted = (query.matches_key, None, 0)
        with self._read() as conn:
            token = _snapshot_token(conn)
            # NULL (never equal) when the snapshot moved on: then the count is taken.
            total_sql = (
                f"CASE WHEN {token} = %s THEN NULL "
                f"ELSE (SELECT count(*) FROM tickets WHERE {where}) END"
            )
            rows = conn.execute(
                f"SELECT snapshot, {total_sql}, {token} FROM tickets "
                f"WHERE ({where}) AND {q.to_pyformat(after)} ORDER BY {order} LIMIT %s",
                (counted[1], *params, *params, *after_params, query.limit + 1),
            ).fetchall()
            if rows:
                total = counted[2] if rows[0][1] is None else int(rows[0][1])
            else:
                found = conn.execute(
                    f"SELECT count(*) FROM tickets WHERE {where}", params
                ).fetchone()
                total = 0 if found is None else int(found[0])
        if self._depth == 0 and len(rows) > query.limit and rows[0][2] is not None:
            self._counted = (query.matches_key, rows[0][2], total)
        return query.after_page([decode_ticket(row[0]) for row in rows], total)

    def requester_history(self, requester_id: str, *, limit: int = 50) -> list[Ticket]:
        """The requester's tickets, newest first."""
        check_key(requester_id, "requester_id")
        check_limit(limit)
        with self._read() as conn:
            rows = conn.execute(q.to_pyformat(q.SELECT_HISTORY), (requester_id, limit)).fetchall()
        return [decode_ticket(row[0]) for row in rows]

    def requester_ticket_ids(self, requester_id: str, *, limit: int = 50) -> list[str]:
        """The ids of the requester's tickets, newest first."""
        check_key(requester_id, "requester_id")
        check_limit(limit)
        with self._read() as conn:
            sql = q.to_pyformat(q.SELECT_HISTORY_IDS)
            rows = conn.execute(sql, (requester_id, limit)).fetchall()
        return [row[0] for row in rows]

    def reschedule(
        self, ticket_id: str, *, expected_version: int, wake_at: datetime | None
    ) -> bool:
        """Set the ticket's wake-up if it is still at ``expected_version``."""
        check_reschedule(ticket_id, expected_version, wake_at)
        with self._read() as conn:
            row = conn.execute(
                "WITH done AS (UPDATE tickets SET wake_at = %s WHERE id = %s AND version = %s "
                "RETURNING id) SELECT (SELECT count(*) FROM done), "
                "EXISTS (SELECT 1 FROM tickets WHERE id = %s)",
                (wake_at, ticket_id, expected_version, ticket_id),
            ).fetchone()
        assert row is not None
        if not row[1]:
            raise NotFound("ticket", ticket_id)
        return bool(row[0])

    def due(self, now: datetime, *, limit: int = 100) -> list[str]:
        """Ids of tickets to wake by ``now``, earliest first."""
        check_instant(now)
        check_limit(limit)
        with self._read() as conn:
            rows = conn.execute(q.to_pyformat(q.SELECT_DUE), (now, limit)).fetchall()
        return [row[0] for row in rows]

    def claim_due(
        self,
        now: datetime,
        *,
        worker: str,
        limit: int = 100,
        lease: timedelta = timedelta(seconds=60),
    ) -> list[str]:
        """Lease due tickets nobody else holds to ``worker`` (``FOR UPDATE SKIP LOCKED``)."""
        check_instant(now)
        check_name(worker, "worker")
        check_limit(limit)
        check_lease(lease)
        with self._tx() as conn:
            until = lease_end(now, lease)
            rows = conn.execute(_CLAIM_DUE, (worker, until, now, now, limit)).fetchall()
        return [row[0] for row in rows]

    def event_stream(
        self, *, after: int = 0, limit: int | None = None
    ) -> Iterator[tuple[int, Event]]:
        """(position, event) in global order after ``after``, read in chunks."""
        check_after(after, "after")
        if limit is not None:
            check_limit(limit)
        if self._closed:
            raise StoreClosedError("the store is closed")
        return self._stream(after, limit)

    def _stream(self, after: int, limit: int | None) -> Iterator[tuple[int, Event]]:
        def fetch(position: int, size: int) -> list[tuple[int, Event]]:
            with self._read() as conn:
                rows = conn.execute(q.to_pyformat(q.SELECT_STREAM), (position, size)).fetchall()
            return [(int(pos), decode_event(data)) for pos, data in rows]

        return read_in_chunks(fetch, after=after, limit=limit, chunk=_CHUNK)

    # ------------------------------------------------------------------ people

    def save_requester(self, requester: Requester) -> None:
        """Insert or replace a requester."""
        if not isinstance(requester, Requester):
            raise ValidationError("expected a Requester", field="requester")
        email = None if requester.email is None else escape_nul(requester.email.casefold())
        data = encode_requester(requester)
        with self._read() as conn:
            conn.execute(
                "INSERT INTO requesters (id, email_key, data) VALUES (%s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET email_key = excluded.email_key, "
                "data = excluded.data",
                (requester.id, email, data),
            )

    def get_requester(self, requester_id: str) -> Requester:
        """The requester, or NotFound."""
        check_key(requester_id, "requester_id")
        with self._read() as conn:
            row = conn.execute(q.to_pyformat(q.SELECT_REQUESTER), (requester_id,)).fetchone()
        if row is None:
            raise NotFound("requester", requester_id)
        return decode_requester(row[0])

    def find_requester(self, *, email: str) -> Requester | None:
        """The requester with this email (case-insensitive), smallest id first."""
        if not isinstance(email, str):
            raise ValidationError("expected an email address", field="email")
        check_unicode(email, "email")
        with self._read() as conn:
            rows = conn.execute(
                q.to_pyformat(q.SELECT_REQUESTER_BY_EMAIL), (escape_nul(email.casefold()),)
            ).fetchall()
        return first_with_email((decode_requester(row[0]) for row in rows), email)

    def delete_requester(self, requester_id: str) -> None:
        """Delete the requester row (dead tuples stay until ``VACUUM``)."""
        check_key(requester_id, "requester_id")
        with self._read() as conn:
            conn.execute("DELETE FROM requesters WHERE id = %s", (requester_id,))

    def lock_requester(self, requester_id: str) -> None:
        """Hold back the tickets of ``requester_id`` written elsewhere until the unit of
        work ends (see :class:`~helpdesk_core.storage.RequesterLock`): lock the
        requester's row, then take the event-log lock every ticket write takes, both held
        until the transaction ends. Every append, anonymisation, purge and import of
        another transaction waits for it, as from the unit of work's first ticket write;
        reads do not. The row comes first, as in a unit of work that saves a requester and
        then appends their ticket (:meth:`Helpdesk.open` with a requester given by value),
        so that the two wait for each other in one order only. Outside a unit of work
        nothing is locked."""
        check_key(requester_id, "requester_id")
        with self._read():
            if self._depth == 0:
                return
            with self._tx() as conn:
                conn.execute("SELECT 1 FROM requesters WHERE id = %s FOR UPDATE", (requester_id,))
                conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")

    # ------------------------------------------------------------------ routing state

    def get_cursor(self, key: str) -> int:
        """A persistent counter; 0 when unset."""
        check_name(key, "key")
        with self._read() as conn:
            row = conn.execute(q.to_pyformat(q.SELECT_CURSOR), (key,)).fetchone()
        return 0 if row is None else int(row[0])

    def set_cursor(self, key: str, value: int) -> None:
        """Set a persistent counter."""
        check_name(key, "key")
        check_cursor(value)
        with self._read() as conn:
            conn.execute(q.to_pyformat(q.UPSERT_CURSOR), (key, value))

    def claim_cursor(self, key: str, value: int) -> bool:
        """Set the cursor to ``value`` if it is unset (0); say whether this call set it.
        A claim that wins locks the row until the transaction ends: a concurrent claim
        waits, then loses unless this one rolled back or set the cursor back to 0. A
        claim that loses locks nothing (so workers that only learn that keys are taken,
        inside longer transactions, never wait for each other)."""
        check_name(key, "key")
        check_claim(value)
        with self._read() as conn:
            # Waits for a concurrent insert of the key; leaves a stored row unlocked.
            inserted = conn.execute(
                q.to_pyformat(q.INSERT_CURSOR_IF_ABSENT), (key, value)
            ).fetchone()
            if inserted is not None:
                return True
            # Locks the row only when it is released (0), after a concurrent claimer ended.
            row = conn.execute(q.to_pyformat(q.CLAIM_RELEASED_CURSOR), (value, key)).fetchone()
        return row is not None

    def delete_cursors(self, prefix: str, *, values: Iterable[int]) -> int:
        """Delete the cursors whose key starts with ``prefix`` and whose value is one of
        ``values``; return how many."""
        check_name(prefix, "prefix")
        wanted = sorted(check_cursor_values(values))
        if not wanted:
            return 0
        with self._read() as conn:
            cursor = conn.execute(
                "DELETE FROM cursors WHERE left(key, %s) = %s AND value = ANY(%s)",
                (len(prefix), prefix, wanted),
            )
            return cursor.rowcount

    def agent_loads(self) -> dict[str, dict[Priority, int]]:
        """Active tickets per assignee per priority."""
        with self._read() as conn:
            rows = conn.execute(q.SELECT_LOADS).fetchall()
        loads: dict[str, dict[Priority, int]] = {}
        for assignee, priority, count in rows:
            loads.setdefault(assignee, {})[Priority(priority)] = int(count)
        return loads

    # ------------------------------------------------------------------ configuration

    def load_config_document(self) -> dict[str, Any] | None:
        """The saved configuration document, or None."""
        with self._read() as conn:
            row = conn.execute(q.SELECT_CONFIG).fetchone()
        return None if row is None else decode_document(row[0])

    def save_config_document(self, document: Mapping[str, Any]) -> None:
        """Replace the configuration document."""
        text = encode_document(document)
        with self._read() as conn:
            conn.execute(q.to_pyformat(q.UPSERT_CONFIG), (text,))

    # ------------------------------------------------------------------ outbox

    def claim_outbox(
        self,
        consumer: str,
        *,
        now: datetime,
        limit: int = 100,
        lease: timedelta = timedelta(seconds=60),
    ) -> list[OutboxItem]:
        """Lease the consumer's oldest undelivered items. Claims, acks and releases of one
        consumer lock its row, so concurrent workers never get the same item."""
        check_name(consumer, "consumer")
        check_instant(now)
        check_limit(limit)
        check_lease(lease)
        until = lease_end(now, lease)
        with self._tx() as conn:
            hwm = self._hwm(conn, consumer)
            rows = conn.execute(
                q.to_pyformat(q.SELECT_CLAIMABLE), (consumer, hwm, now, limit)
            ).fetchall()
            items: list[OutboxItem] = []
            leases = []
            for position, ticket_id, version, data, state, attempts in rows:
                tries = 0 if state is None else int(attempts) + (state == "leased")
                leases.append((consumer, int(position), until, tries))
                items.append(
                    OutboxItem(
                        id=item_id(ticket_id, int(version)),
                        position=int(position),
                        event=decode_event(data),
                        attempts=tries,
                    )
                )
            if leases:
                with conn.cursor() as cur:
                    cur.executemany(q.to_pyformat(q.UPSERT_LEASE), leases)
        return items

    def ack_outbox(self, consumer: str, ids: Sequence[str]) -> None:
        """Mark items delivered; the consumer never gets them again."""
        check_name(consumer, "consumer")
        ids = check_keys(ids, "ids")
        with self._tx() as conn:
            positions = self._positions(conn, ids)
            hwm = self._hwm(conn, consumer)
            fresh = [(consumer, p) for p in positions if p > hwm]
            if fresh:
                with conn.cursor() as cur:
                    cur.executemany(q.to_pyformat(q.UPSERT_ACK), fresh)
            frontier = conn.execute(
                q.to_pyformat(q.SELECT_ACK_FRONTIER), (hwm, consumer)
            ).fetchone()
            first, last = (None, None) if frontier is None else frontier
            new = q.acked_upto(hwm, first, last)
            if new > hwm:
                conn.execute(q.to_pyformat(q.UPDATE_HWM), (new, consumer, new))
                conn.execute(q.to_pyformat(q.DELETE_ACKED), (consumer, new))

    def release_outbox(
        self, consumer: str, ids: Sequence[str | OutboxItem], *, error: str | None = None
    ) -> None:
        """Give leased items back: pending again, attempts + 1 (an OutboxItem only while
        its claim's lease holds it)."""
        check_name(consumer, "consumer")
        targets = release_targets(ids)
        check_error_note(error)
        note = None if error is None else escape_nul(error)
        with self._tx() as conn:
            positions = self._positions(conn, [item for item, _ in targets])
            self._hwm(conn, consumer)
            by_id, by_lease = q.release_rows(
                note, consumer, positions, [attempts for _, attempts in targets]
            )
            with conn.cursor() as cur:
                if by_id:
                    cur.executemany(q.to_pyformat(q.UPDATE_RELEASE), by_id)
                if by_lease:
                    cur.executemany(q.to_pyformat(q.UPDATE_RELEASE_LEASE), by_lease)

    @staticmethod
    def _hwm(conn: psycopg.Connection[Any], consumer: str) -> int:
        """The consumer's high-water mark, its row locked until the transaction ends: the
        outbox work of one consumer is serialized (other consumers are not held up)."""
        conn.execute(q.to_pyformat(q.INSERT_CONSUMER), (consumer,))
        row = conn.execute(q.to_pyformat(q.SELECT_HWM) + " FOR UPDATE", (consumer,)).fetchone()
        return 0 if row is None else int(row[0])

    @staticmethod
    def _positions(conn: psycopg.Connection[Any], ids: Sequence[str]) -> list[int]:
        if isinstance(ids, str):
            raise ValidationError("ids is a list of outbox item ids", field="ids")
        keys = [parse_item_id(value) for value in ids]
        if not keys:
            return []
        # One round trip for the whole list (an ack of 100 items was 100 statements).
        rows = conn.execute(
            "SELECT e.ticket_id, e.version, e.position FROM events e JOIN "
            "unnest(%s::text[], %s::bigint[]) AS k(ticket_id, version) "
            "ON e.ticket_id = k.ticket_id AND e.version = k.version",
            ([t for t, _ in keys], [v for _, v in keys]),
        ).fetchall()
        found = {(row[0], int(row[1])): int(row[2]) for row in rows}
        out = []
        for value, key in zip(ids, keys):
            position = found.get(key)
            if position is None:
                raise NotFound("outbox item", value)
            out.append(position)
        return out

    # ------------------------------------------------------------------ knowledge

    def save_article(self, article: Article, *, expected_version: int) -> None:
        """Insert or replace an article if its stored version is ``expected_version``."""
        check_article(article, expected_version)
        row = (
            article.version,
            article.status.value,
            None if article.category is None else escape_nul(article.category),
            article.author,
            article.created_at,
            article.updated_at,
            [escape_nul(tag) for tag in article.tags],
            list(article.problems),
            kb.tsvector(article_words(article)),
            kb.encode_article(article),
            article.id,
        )
        if expected_version == 0:
            sql = (
                "INSERT INTO articles (version, status, category, author, created_at, "
                "updated_at, tags, problems, words, data, id) VALUES (%s, %s, %s, %s, %s, %s, "
                "%s, %s, %s::tsvector, %s, %s) ON CONFLICT (id) DO NOTHING"
            )
            params: tuple[Any, ...] = row
        else:
            sql = (
                "UPDATE articles SET version = %s, status = %s, category = %s, author = %s, "
                "created_at = %s, updated_at = %s, tags = %s, problems = %s, "
                "words = %s::tsvector, data = %s WHERE id = %s AND version = %s"
            )
            params = (*row, expected_version)
        with self._tx() as conn:
            if article.problems:
                # Serialized with purges, which take this lock too: a purge committed
                # before is seen by what the caller reads after this save in its unit
                # of work; one committing after reads this article (see Store.purge).
                conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")
            if conn.execute(sql, params).rowcount == 1:
                return
            found = conn.execute(
                "SELECT version FROM articles WHERE id = %s", (article.id,)
            ).fetchone()
            actual = 0 if found is None else int(found[0])
            raise ConflictError(
                article.id, expected=expected_version, actual=actual, kind="article"
            )

    def get_article(self, article_id: str) -> Article:
        """The article, or NotFound."""
        check_key(article_id, "article_id")
        with self._read() as conn:
            row = conn.execute("SELECT data FROM articles WHERE id = %s", (article_id,)).fetchone()
        if row is None:
            raise NotFound("article", article_id)
        return kb.decode_article(row[0])

    @staticmethod
    def _article_where(query: ArticleQuery) -> tuple[str, list[Any]]:
        if not isinstance(query, ArticleQuery):
            raise ValidationError("expected an ArticleQuery", field="query")
        where, params = kb.article_filters(query, postgres=True)
        return q.to_pyformat(where), params

    def list_articles(self, query: ArticleQuery) -> Page[Article]:
        """One page of the matching articles, most recently updated first."""
        where, params = self._article_where(query)
        if query.text is not None:
            if not query.words:
                return Page(items=(), total=0)
            where += " AND words @@ %s::tsquery"
            params.append(kb.tsquery(query.words, query.match))
        sql = (
            f"SELECT data, count(*) OVER () FROM articles WHERE {where} "
            "ORDER BY updated_at DESC, id LIMIT %s OFFSET %s"
        )
        count_sql = f"SELECT count(*) FROM articles WHERE {where}"
        return self._article_page(query, sql, params, count_sql)

    def search_articles(self, query: ArticleQuery) -> Page[Article]:
        """One page of the matching articles, the best first: by ``ts_rank`` of the query
        words few articles have (see :func:`_telling`), then of all of them, so one rare
        shared word beats a common one as in the other stores' rankings."""
        if not isinstance(query, ArticleQuery) or query.text is None:
            raise ValidationError("search_articles needs a query with text", field="query")
        if not query.words:
            return Page(items=(), total=0)
        where, params = self._article_where(query)
        wanted = kb.tsquery(query.words, query.match)
        with self._read() as conn:
            telling = _telling(conn, "articles", "words", list(query.words))
        sql = (
            f"SELECT data, count(*) OVER () FROM articles WHERE {where} "
            "AND words @@ CAST(%s AS tsquery) "
            "ORDER BY ts_rank(words, CAST(%s AS tsquery)) DESC, "
            "ts_rank(words, CAST(%s AS tsquery)) DESC, id LIMIT %s OFFSET %s"
        )
        count_sql = (
            f"SELECT count(*) FROM articles WHERE {where} AND words @@ CAST(%s AS tsquery) "
            "AND CAST(%s AS tsquery) IS NOT NULL AND CAST(%s AS tsquery) IS NOT NULL"
        )
        params = [*params, wanted, telling, wanted]
        return self._article_page(query, sql, params, count_sql)

    def _article_page(
        self, query: ArticleQuery, sql: str, params: list[Any], count_sql: str
    ) -> Page[Article]:
        with self._read() as conn:
            rows = conn.execute(sql, (*params, query.limit, query.offset)).fetchall()
            if rows:
                total = int(rows[0][1])
            elif query.offset:
                row = conn.execute(count_sql, params).fetchone()
                total = 0 if row is None else int(row[0])
            else:
                total = 0
        items = tuple(kb.decode_article(row[0]) for row in rows)
        end = query.offset + len(items)
        return Page(items=items, total=total, next_offset=end if end < total else None)

    def search_solved(self, words: Sequence[str], *, limit: int = 50) -> list[Ticket]:
        """Solved or closed tickets sharing any of ``words`` (the library's words of their
        text, as :func:`~helpdesk_core.knowledge.search_words` splits it), the best first:
        by ``ts_rank`` of the words few solved tickets have (see :func:`_telling`), then
        of all of them, so a few telling words beat many words every mail has."""
        given = check_words(words, limit)
        # Split and fold as the index was written: "VPN" is "vpn", "o'brien" is "brien".
        wanted = list(dict.fromkeys(w for word in given for w in search_words(word)))
        if not wanted:
            return []
        every = kb.tsquery(wanted, "any")
        sql = (
            "SELECT snapshot FROM tickets WHERE solved_words @@ CAST(%s AS tsquery) "
            "ORDER BY ts_rank(solved_words, CAST(%s AS tsquery)) DESC, "
            "ts_rank(solved_words, CAST(%s AS tsquery)) DESC, id LIMIT %s"
        )
        with self._read() as conn:
            telling = _telling(conn, "tickets", "solved_words", wanted)
            rows = conn.execute(sql, (every, telling, every, limit)).fetchall()
        return [decode_ticket(row[0]) for row in rows]

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Self:
        """The store itself: ``with`` closes it at the end of the block."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection; later calls raise StoreClosedError."""
        if self._closed:  # (without the lock: a store closed in a fork may hold it)
            return
        with self._lock:
            if not self._closed:
                self._closed = True
                _OPEN_STORES.discard(self)
                if self._pid == os.getpid():  # not a connection another process uses
                    self._conn.close()
