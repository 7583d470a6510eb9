"""The SQLite store: one file (or ``":memory:"``), standard-library :mod:`sqlite3`.

The database runs in WAL mode with ``synchronous=NORMAL`` (a commit survives a crash of
the process; a power cut may lose the last commits but never corrupts the file),
``secure_delete=ON`` (deleted or overwritten data is zeroed), and a busy timeout, so
several processes on one machine can share a file: every write is a ``BEGIN IMMEDIATE``
transaction, which takes SQLite's single write lock up front.

One store object holds one connection, opened with ``check_same_thread=False`` and guarded
by a re-entrant lock: threads may share the store and their calls are serialized; a
:meth:`SqliteStore.unit_of_work` holds the lock for its block. For parallel writers open
one store per process.

Snapshots and events are JSON text (through the codec); instants are integer microseconds
since the epoch (UTC). Text search matches ``tickets.search_text`` with ``instr`` (exact
substring of the case-folded text); with ``text_index=True`` an FTS5 trigram index narrows
queries of three characters or more first.
"""

from __future__ import annotations

import functools
import logging
import operator
import os
import sqlite3
import threading
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, NoReturn, Self

from helpdesk_core.errors import (
    ConflictError,
    HelpdeskError,
    NotFound,
    StorageError,
    StoreClosedError,
    ValidationError,
)
from helpdesk_core.knowledge.articles import (
    Article,
    ArticleQuery,
    article_words,
    rank_articles,
    search_words,
)
from helpdesk_core.model._validate import check_unicode
from helpdesk_core.model.enums import Priority
from helpdesk_core.model.events import Event
from helpdesk_core.model.people import Requester
from helpdesk_core.model.ticket import Ticket
from helpdesk_core.storage import _articles as kb
from helpdesk_core.storage import _sql as q
from helpdesk_core.storage import migrations
from helpdesk_core.storage.base import (
    LAST_NUMBER,
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
    dumps,
    encode_document,
    encode_event,
    encode_requester,
    encode_tags,
    encode_ticket,
    to_micros,
)

__all__ = ["SqliteStore"]

log = logging.getLogger("helpdesk_core.storage")

_COLUMNS = (
    "id, number, version, status, status_category, category, team, tier, assignee, owner, "
    "requester, organization, asset, priority, priority_rank, created_at, updated_at, "
    "wake_at, sla_deadline, tags, links, search_text, search_nul, closed_at, anonymised, "
    "queued_at, type, solved_words, snapshot"
)
# The position the next event gets: one past the highest in the table, or past the highest
# a purge removed (kept in ``sequences``), so a position is never reused.
_NEXT_POSITION = (
    "(max(coalesce((SELECT max(position) FROM events), 0), "
    "coalesce((SELECT value FROM sequences WHERE name = 'event_position'), 0)) + 1)"
)
# A ticket row records the position of its latest event (``last_event``); each event row
# the position of the ticket's previous one (``prev``): a ticket's events are read by
# walking that chain, so an event needs no index entry of its own.
_INSERT_TICKET = f"INSERT INTO tickets ({_COLUMNS}, last_event) VALUES ({q.placeholders(30)})"
_NAMES = tuple(name.strip() for name in _COLUMNS.split(","))
# CPython's sqlite3 runs its adaptation protocol for every parameter that is not an int,
# float, str or bytearray: binding None costs about a quarter of a microsecond, and a new
# ticket's row holds a dozen NULLs. A bulk import binds _NULL in their place, which its
# statement turns back into NULL (``nullif``): no column of a ticket row holds that integer
# otherwise (text columns hold text, an instant is at least -62135596800000000
# microseconds, year 1, and an event position is positive).
_NULL = -(2**62)
_NULLABLE = frozenset(
    {
        "category",
        "team",
        "tier",
        "assignee",
        "owner",
        "organization",
        "asset",
        "wake_at",
        "sla_deadline",
        "links",
        "closed_at",
        "queued_at",
        "solved_words",
        "last_event",
    }
)
_IMPORT_TICKET = (
    f"INSERT INTO tickets ({_COLUMNS}, last_event) VALUES ("
    + ", ".join(
        f"nullif(?, {_NULL})" if name in _NULLABLE else "?" for name in (*_NAMES, "last_event")
    )
    + ")"
)
# An UPDATE rewrites the index entries of every column it sets, even to the same value, so
# indexed columns are set only when they change.
_INDEXED = (
    "number",
    "status_category",
    "team",
    "assignee",
    "owner",
    "requester",
    "organization",
    "asset",
    "created_at",
    "updated_at",
    "wake_at",
    "sla_deadline",
    "search_nul",
    "closed_at",
    "anonymised",
    "queued_at",
    "type",
)
_ALWAYS = tuple(n for n in _NAMES if n not in _INDEXED and n != "id")
_SELECT_CURRENT = (
    f"SELECT version, tags, links, last_event, {', '.join(_INDEXED)} FROM tickets WHERE id = ?"
)
# Where _SELECT_CURRENT's row holds the tags, the links, the latest event and the first
# indexed column.
_CURRENT_TAGS, _CURRENT_LINKS, _CURRENT_LAST, _CURRENT_INDEXED = 1, 2, 3, 4


_indexed_of = operator.itemgetter(*(_NAMES.index(name) for name in _INDEXED))
_always_of = operator.itemgetter(*(_NAMES.index(name) for name in _ALWAYS))
_TAGS_AT = _NAMES.index("tags")
_LINKS_AT = _NAMES.index("links")
_STATUS_CATEGORY_AT = _NAMES.index("status_category")
_INDEXED_STATUS_AT = _INDEXED.index("status_category")


@functools.lru_cache(maxsize=256)
def _update_sql(changed: tuple[str, ...], guarded: bool = False) -> str:
    """The update of the always-set columns, the ``changed`` indexed ones and
    ``last_event``; with ``guarded``, it applies only while the row's tags, links, latest
    event and indexed columns still hold the values this store last wrote (``IS ?``
    each)."""
    sets = ", ".join(f"{name} = ?" for name in (*_ALWAYS, *changed))
    where = "id = ? AND version = ?"
    if guarded:
        where += "".join(f" AND {name} IS ?" for name in ("tags", "links", "last_event", *_INDEXED))
    return (
        f"UPDATE tickets SET {sets}, last_event = ?, lease_owner = NULL, lease_until = NULL "
        f"WHERE {where}"
    )


def _update_params(
    row: tuple[Any, ...], indexed: tuple[Any, ...], old: Sequence[Any]
) -> tuple[tuple[str, ...], list[Any]]:
    """The indexed columns whose values differ from ``old``, and the values an update
    sets (every always-set column, then those changed columns, in ``_update_sql``'s
    order)."""
    changed: list[str] = []
    params = list(_always_of(row))
    for name, new, was in zip(_INDEXED, indexed, old):
        if new != was:
            changed.append(name)
            params.append(new)
    return tuple(changed), params


# What a store remembers of the rows it wrote: (version, tags, links, last event, indexed
# values), per id.
_Written = tuple[int, str, str | None, int | None, tuple[Any, ...]]
_WRITTEN_MAX = 65_536


# The word index of solved and closed tickets is kept by the store, not by triggers: an
# INSERT or UPDATE trigger, even one whose condition is false, makes SQLite keep a
# statement journal for every row written. Its rows are added from the ticket row (its
# ``solved_words``, the library's words) after a write that leaves the ticket solved or
# closed, and removed (FTS5 needs the indexed text to remove it) from the row before a
# write to a ticket that was.
_WORDS_STATUSES = frozenset({"solved", "closed"})
_INSERT_WORDS = (
    "INSERT INTO tickets_words (rowid, solved_words) SELECT seq, solved_words FROM tickets "
    "WHERE id = ?"
)
_DELETE_WORDS = (
    "INSERT INTO tickets_words (tickets_words, rowid, solved_words) "
    "SELECT 'delete', seq, solved_words FROM tickets WHERE id = ?"
)


# A bulk import's tags, read from the ``tags`` column (a JSON list) of the ticket rows it
# inserted, those after ``seq`` ``?``: one statement for a batch, not a row bound from
# Python per tag. SQLite's JSON reader ends a string at ``\u0000``, so a row whose tags
# hold one (as the JSON escape) is left out; the import binds those tags itself.
_JSON_NUL = "\\u0000"
_IMPORT_TAGS = (
    "INSERT INTO ticket_tags (ticket_id, tag) SELECT t.id, j.value "
    f"FROM tickets t, json_each(t.tags) j WHERE t.seq > ? AND instr(t.tags, '{_JSON_NUL}') = 0"
)
_MAX_ROWID = 2**63 - 1
# The page cache of a bulk import's connection, in KiB (restored after the import). With
# SQLite's default of 2 MB, an import of more than a few hundred tickets fills the cache
# with pages it changed, which SQLite then writes to the WAL before the commit, the ones
# the import goes on changing (the last pages of each table and index) more than once.
# Only memory changes: what the transaction writes, and when it is durable, do not.
_IMPORT_CACHE_KIB = 65_536

_INSERT_EVENT = (
    "INSERT INTO events (position, ticket_id, version, prev, type, at, data) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# One event at the next position (the cursor's ``lastrowid`` tells which).
_APPEND_EVENT = (
    "INSERT INTO events (position, ticket_id, version, prev, type, at, data) "
    f"VALUES ({_NEXT_POSITION}, ?, ?, ?, ?, ?, ?)"
)


def _chain(data: bool = False) -> str:
    """A ticket's events (with ``data``, carrying each one's JSON), walked from its latest
    back through ``prev`` while their versions are above the parameter (``e.position <
    c.position`` bounds the walk on any data)."""
    carried, columns = (", e.data", ", data") if data else ("", "")
    return (
        f"WITH RECURSIVE chain (position, version, prev{columns}) AS ("
        f"SELECT e.position, e.version, e.prev{carried} FROM tickets t JOIN events e "
        "ON e.position = t.last_event WHERE t.id = ? AND e.version > ? "
        f"UNION ALL SELECT e.position, e.version, e.prev{carried} FROM chain c JOIN events e "
        "ON e.position = c.prev WHERE e.version > ? AND e.position < c.position) "
    )


_SELECT_EVENTS = _chain(data=True) + "SELECT data FROM chain ORDER BY version"
_SELECT_CHAIN = _chain() + "SELECT position, version FROM chain"
_SELECT_NEXT_POSITION = f"SELECT {_NEXT_POSITION}"
_CLAIM_DUE = (
    "SELECT id FROM tickets WHERE wake_at IS NOT NULL AND wake_at <= ? "
    "AND (lease_until IS NULL OR lease_until <= ?) ORDER BY wake_at, id LIMIT ?"
)
_CHUNK = 500

#: The stores on a database file that are open in this process: a child process forked
#: from it must not use their connections (see SqliteStore._ready).
_OPEN_STORES: weakref.WeakSet[SqliteStore] = weakref.WeakSet()


class _ForkedConnection:
    """Stands in, in a forked child, for the connection of a store that was inside a unit
    of work: the transaction is the other process's, and nothing of it may be done here
    (not even its commit or rollback)."""

    in_transaction = False

    def execute(self, *args: object) -> NoReturn:
        raise StoreClosedError(
            "the store was forked inside a unit of work; open a store in each process"
        )

    executemany = execute


def _after_fork() -> None:
    """In a forked child: every open store reconnects before its next call. A store the
    thread that forked is in a unit of work of is closed: that transaction is the
    parent's (its lock stays as it was: the thread goes on in the unit of work's block,
    and leaves it). A lock held by another thread of the parent, in a call or a unit of
    work, would never be released here, as that thread does not exist: the store gets a
    lock of its own (the call, or the transaction, stays the parent's)."""
    for store in list(_OPEN_STORES):
        store._forked = True
        lock = store._lock
        if lock.acquire(blocking=False):  # free, or held by the thread that forked
            lock.release()
            if store._depth:
                store._closed = True
                store._inherited.append(store._conn)
                store._conn = _ForkedConnection()  # type: ignore[assignment]
        else:
            store._lock = threading.RLock()
            store._depth = 0
            store._scrub_pending.clear()
            store._checkpoint_pending = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
# A command writes a handful of pages (ticket row, changed index entries, event row):
# checkpointing every 10,000 WAL pages (40 MB) rather than SQLite's 1,000 makes the
# checkpoint's fsyncs rarer and writes a hot page once per checkpoint, not once per 1,000.
_CHECKPOINT_PAGES = 10_000
# How long the checkpoint after a rewrite or removal waits for other connections (see
# SqliteStore._checkpoint_briefly), in milliseconds.
_CHECKPOINT_WAIT_MS = 1000
_WAL_LIMIT = 64 * 1024 * 1024
#: How many characters of a text query the FTS5 trigram index is asked for.
_FTS_PROBE = 64


class _Builder(q.QueryBuilder):
    def __init__(self) -> None:
        self.fts = False

    def instant(self, value: datetime) -> Any:
        return to_micros(value)

    def flag(self, value: bool) -> Any:
        return int(value)

    def any_of(self, column: str, values: Sequence[Any], params: list[Any]) -> str:
        if len(values) > q.LONG_LIST and not any(
            isinstance(value, str) and "\x00" in value for value in values
        ):
            # One JSON list, however many values (SQLite's JSON reader would end a text
            # at NUL: a list holding one is bound value by value).
            params.append(dumps(list(values)))
            return f"{column} IN (SELECT value FROM json_each(?))"
        return super().any_of(column, values, params)

    def tags(self, tags: tuple[str, ...], params: list[Any]) -> str:
        return f"id IN (SELECT ticket_id FROM ticket_tags WHERE {self.any_of('tag', tags, params)})"

    def links_to(self, ids: tuple[str, ...], params: list[Any]) -> str:
        return (
            "id IN (SELECT ticket_id FROM ticket_links "
            f"WHERE {self.any_of('other', ids, params)})"
        )

    def text(self, folded: str, params: list[Any]) -> str:
        if self.fts and len(folded) >= 3 and "\x00" not in folded:
            # The index narrows the rows by the query's start only (instr checks the
            # whole): FTS5 matches a phrase of trigrams at every place its first ones
            # occur, so a long query of a common word ("lorem " 100,000 characters
            # over) took seconds per hundred rows.
            probe = folded[:_FTS_PROBE]
            params.append('"' + probe.replace('"', '""') + '"')
            params.append(folded)
            # FTS5 stops reading a text at NUL: rows holding NUL are always checked.
            return (
                "seq IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ? "
                "UNION ALL SELECT seq FROM tickets WHERE search_nul = 1) "
                "AND instr(search_text, ?) > 0"
            )
        params.append(folded)
        return "instr(search_text, ?) > 0"


def _ticket_row(
    snapshot: Ticket, wake_at: datetime | None, tags: str, null: Any = None
) -> tuple[Any, ...]:
    """The values of ``_COLUMNS`` for ``snapshot``; a NULL of a nullable column is ``null``
    (``_NULL`` for the import's statement)."""
    deadline = sla_deadline(snapshot)
    text = search_text(snapshot.subject, snapshot.description)
    organization = ticket_organization(snapshot)
    words = kb.snapshot_words(snapshot, " ".join)
    return (
        snapshot.id,
        snapshot.number,
        snapshot.version,
        snapshot.status,
        snapshot.status_category.value,
        null if (category := snapshot.category) is None else category,
        null if (team := snapshot.team) is None else team,
        null if (tier := snapshot.tier) is None else tier,
        null if (assignee := snapshot.assignee) is None else assignee,
        null if (owner := snapshot.owner) is None else owner,
        snapshot.requester,
        null if organization is None else organization,
        null if (asset := snapshot.asset) is None else asset,
        snapshot.priority.value,
        snapshot.priority.rank,
        to_micros(snapshot.created_at),
        to_micros(snapshot.updated_at),
        null if wake_at is None else to_micros(wake_at),
        null if deadline is None else to_micros(deadline),
        tags,
        encode_tags(linked_ids(snapshot)) if snapshot.links else null,
        text,
        int("\x00" in text),
        null if (closed := closed_at(snapshot)) is None else to_micros(closed),
        int(snapshot.anonymised),
        null if (queued := snapshot.queued_at) is None else to_micros(queued),
        snapshot.type,
        null if words is None else words,
        encode_ticket(snapshot),
    )


def _refuse_taken_numbers(
    conn: sqlite3.Connection, batch: list[tuple[Sequence[Event], Ticket, datetime | None]]
) -> None:
    """Refuse (ValidationError, see :func:`taken_number`) an imported ticket whose number
    another of the batch, or a stored ticket (one imported by an earlier batch included),
    has."""
    numbers = batch_numbers(batch)
    held = conn.execute(
        f"SELECT number, id FROM tickets WHERE number IN ({q.placeholders(len(numbers))}) "
        "ORDER BY number, id LIMIT 1",
        list(numbers),
    ).fetchone()
    if held is not None:
        raise taken_number(numbers[held[0]], held[0], held[1])


def _widen_cache(conn: sqlite3.Connection) -> int | None:
    """Give the connection a page cache of ``_IMPORT_CACHE_KIB`` unless it has one as
    large; return the ``cache_size`` setting to restore (None: unchanged)."""
    cache = int(conn.execute("PRAGMA cache_size").fetchone()[0])
    if cache < 0:
        kib = -cache
    else:  # a number of pages
        kib = cache * int(conn.execute("PRAGMA page_size").fetchone()[0]) // 1024
    if kib >= _IMPORT_CACHE_KIB:
        return None
    conn.execute(f"PRAGMA cache_size = {-_IMPORT_CACHE_KIB}")
    return cache


def _erase_stored(
    conn: sqlite3.Connection, ticket_id: str, expected_version: int
) -> tuple[Any, ...]:
    """Before a ticket is rewritten or removed in place: turn ``secure_delete`` on (checked,
    so the old values are zeroed, not just unlinked); the ticket must exist (NotFound) at
    ``expected_version`` (ConflictError). Returns its row as ``_SELECT_CURRENT`` reads it."""
    if conn.execute("PRAGMA secure_delete = ON").fetchone()[0] != 1:
        raise StorageError("SQLite refused secure_delete: old values could survive")
    found: tuple[Any, ...] | None = conn.execute(_SELECT_CURRENT, (ticket_id,)).fetchone()
    if found is None:
        raise NotFound("ticket", ticket_id)
    if found[0] != expected_version:
        raise ConflictError(ticket_id, expected=expected_version, actual=found[0])
    return found


def _whole_chain(conn: sqlite3.Connection, ticket_id: str, version: int) -> dict[int, int]:
    """The log position of each of the ticket's events, by version; StorageError unless
    the chain holds exactly versions 1 to ``version`` (an anonymisation or a purge must
    reach every event, or personal data would stay behind)."""
    found = {v: position for position, v in conn.execute(_SELECT_CHAIN, (ticket_id, 0, 0))}
    if len(found) != version or min(found, default=1) != 1 or max(found, default=0) != version:
        raise StorageError(
            f"the event chain of ticket {ticket_id!r} holds {len(found)} of its {version} "
            "events: the database was changed outside this library"
        )
    return found


# An event as the store writes it, before its place in the log is known:
# (ticket id, type, instant, JSON).
_Encoded = tuple[str, str, int, str]


def _encode_events(events: Sequence[Event]) -> list[_Encoded]:
    return [(e.ticket_id, type(e).__name__, to_micros(e.at), encode_event(e)) for e in events]


class _Guard:
    """Holds a store's lock for a block, refuses a closed store, and turns driver errors
    into the library's (a class, not a generator: reads are hot)."""

    __slots__ = ("_store",)

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    def __enter__(self) -> sqlite3.Connection:
        store = self._store
        if store._closed:  # (without the lock: a store closed in a fork may hold it)
            raise StoreClosedError("the store is closed")
        store._lock.acquire()
        if store._closed or store._forked:
            try:
                store._ready()
            except BaseException:
                store._lock.release()
                raise
        return store._conn

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        self._store._lock.release()
        if exc is not None:
            _raise_mapped(self._store, exc)


class _Write:
    """A write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``) or, inside one, a savepoint;
    holds the store's lock and turns driver errors into the library's. An exception in the
    block rolls the transaction (or the savepoint) back. A class, not a generator: every
    command opens one."""

    __slots__ = ("_savepoint", "_store")

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._savepoint: str | None = None

    def __enter__(self) -> sqlite3.Connection:
        store = self._store
        if store._closed:  # (without the lock: a store closed in a fork may hold it)
            raise StoreClosedError("the store is closed")
        store._lock.acquire()
        try:
            if store._closed or store._forked:
                store._ready()
            conn = store._conn
            if store._depth == 0:
                conn.execute("BEGIN IMMEDIATE")
                store._depth = 1
            else:
                name = f"sp{store._depth}"
                conn.execute(f"SAVEPOINT {name}")
                store._depth += 1
                self._savepoint = name
        except BaseException as exc:
            store._lock.release()
            _raise_mapped(store, exc)
            raise
        return conn

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        store = self._store
        try:
            if self._savepoint is None:
                self._end(store, exc)
            else:
                self._release(store, self._savepoint, exc)
        except BaseException as failure:
            _raise_mapped(store, failure)
            raise
        finally:
            store._lock.release()
        if exc is not None:
            _raise_mapped(store, exc)

    @staticmethod
    def _end(store: SqliteStore, exc: BaseException | None) -> None:
        conn = store._conn
        try:
            if exc is None:
                for table in sorted(store._scrub_pending):
                    conn.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")
        except BaseException as failure:
            exc = failure
            raise
        finally:
            store._depth = 0
            store._scrub_pending.clear()
            checkpoint, store._checkpoint_pending = store._checkpoint_pending, False
            if exc is not None and conn.in_transaction:
                conn.execute("ROLLBACK")
        if exc is not None:
            return
        try:
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if checkpoint:
            # Old values a rewrite or removal replaced must not linger in the -wal file. The
            # work is committed: a checkpoint that fails is logged, not raised (a caller
            # would take the unit of work for failed); checkpoint() can be called again.
            store._checkpoint_briefly()

    @staticmethod
    def _release(store: SqliteStore, name: str, exc: BaseException | None) -> None:
        conn = store._conn
        store._depth -= 1
        if exc is not None:
            conn.execute(f"ROLLBACK TO {name}")
        conn.execute(f"RELEASE {name}")


def _raise_mapped(store: SqliteStore, exc: BaseException) -> None:
    """Raise the library's error for a driver error (nothing when it has none)."""
    if isinstance(exc, Exception):
        mapped = store._translate(exc)
        if mapped is not None:
            raise mapped from exc


def _milliseconds(seconds: Any, name: str) -> int:
    """A wait of ``seconds`` (a number from 0 to 86400, a day) in milliseconds."""
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not 0 <= seconds <= 86_400
    ):
        raise ValidationError(
            f"{name} is a number of seconds from 0 to 86400, got {seconds!r}", field=name
        )
    return int(seconds * 1000)


class SqliteStore:
    """A store in one SQLite file (see the module docstring).

    ``path`` is a file path or ``":memory:"``; ``timeout`` how many seconds a write waits
    for another process's write lock; ``text_index=True`` adds (once, for every process)
    the FTS5 trigram index for text queries.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, timeout: float = 30.0, text_index: bool = False
    ) -> None:
        if not isinstance(path, str | os.PathLike):
            raise ValidationError(
                f"path is a file path or ':memory:', got {type(path).__name__}", field="path"
            )
        self._path = os.fspath(path)
        if not isinstance(self._path, str) or not self._path or "\x00" in self._path:
            raise ValidationError(f"not a usable file path: {self._path!r}", field="path")
        check_unicode(self._path, "path")
        timeout_ms = _milliseconds(timeout, "timeout")
        if not isinstance(text_index, bool):
            raise ValidationError(
                f"text_index is true or false, got {text_index!r}", field="text_index"
            )
        self._timeout_ms = timeout_ms
        self._lock = threading.RLock()
        self._depth = 0
        # FTS5 tables to merge before the outermost transaction commits (see _scrub).
        self._scrub_pending: set[str] = set()
        # A rewrite or removal inside an enclosing unit of work: checkpoint after its commit.
        self._checkpoint_pending = False
        self._closed = False
        self._builder = _Builder()
        self._guard = _Guard(self)
        self._words = False
        # The rows this store wrote last (see _update_as_written): a hint, never trusted
        # without the guard in the UPDATE's WHERE clause.
        self._written: dict[str, _Written] = {}
        self._kept: q.Kept | None = None  # see query
        self._counted: tuple[tuple[Any, ...], Any, int] | None = None  # see _query_after
        # Set in a child process forked while the store was open (see _after_fork).
        self._forked = False
        # Connections inherited from the process this one was forked from: kept, never
        # used nor closed (SQLite's file locks belong to the process that took them).
        self._inherited: list[sqlite3.Connection] = []
        self._conn = self._connect()
        try:
            with self._errors():
                conn = self._conn
                migrations.migrate_sqlite(conn)
                if text_index:
                    migrations.enable_sqlite_text_index(conn)
                self._builder.fts = migrations.sqlite_has_text_index(conn)
                self._words = migrations.sqlite_has_word_index(conn)
        except BaseException:
            self._conn.close()
            raise

        if self._path != ":memory:":
            _OPEN_STORES.add(self)

    def _connect(self) -> sqlite3.Connection:
        """A connection to the database, set up as the store works with it."""
        try:
            conn = sqlite3.connect(
                self._path,
                timeout=self._timeout_ms / 1000,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=256,
            )
        except sqlite3.Error as exc:
            raise StoreClosedError(f"cannot open SQLite database {self._path!r}: {exc}") from exc
        try:
            with self._errors():
                conn.execute(f"PRAGMA busy_timeout = {self._timeout_ms}")
                if self._path != ":memory:":
                    # Another program's file is refused before anything in it changes.
                    migrations.check_sqlite_identity(conn)
                    conn.execute("PRAGMA journal_mode = WAL")
                    conn.execute(f"PRAGMA wal_autocheckpoint = {_CHECKPOINT_PAGES}")
                    conn.execute(f"PRAGMA journal_size_limit = {_WAL_LIMIT}")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("PRAGMA secure_delete = ON")
        except BaseException:
            conn.close()
            raise
        return conn

    def _ready(self) -> None:
        """Before a call on a store that is closed (StoreClosedError) or was forked: in a
        process forked from the one that opened the store (a web server's workers forked
        after start-up), SQLite's connection must not be used (its file locks belong to
        the other process, and using it there can corrupt the database): leave it alone
        and open this process's own. (A store forked inside a unit of work was closed by
        :func:`_after_fork`.)"""
        if self._closed:
            raise StoreClosedError("the store is closed")
        self._inherited.append(self._conn)
        self._forked = False
        self._written.clear()
        self._kept = None
        self._counted = None
        self._conn = self._connect()

    def __repr__(self) -> str:
        return f"SqliteStore({self._path!r}{', closed' if self._closed else ''})"

    @property
    def path(self) -> str:
        """The database file (or ``":memory:"``)."""
        return self._path

    @property
    def has_text_index(self) -> bool:
        """True when text queries use the FTS5 index."""
        return self._builder.fts

    # ------------------------------------------------------------------ plumbing

    def _translate(self, exc: BaseException) -> BaseException | None:
        """Our error for a driver error (None: leave ``exc`` as it is)."""
        if isinstance(exc, HelpdeskError):
            return None
        if isinstance(exc, sqlite3.ProgrammingError):
            if self._closed:
                return StoreClosedError("the store is closed")
            return StorageError(f"SQLite: {exc}")
        if isinstance(exc, sqlite3.OperationalError):
            text = str(exc)
            if "locked" in text or "busy" in text:
                return StorageError(
                    f"SQLite database {self._path!r} stayed locked by another writer: {text}"
                )
            if "unable to open" in text or "disk I/O" in text:
                return StoreClosedError(f"SQLite database {self._path!r}: {text}")
            if "readonly" in text:
                return StorageError(
                    f"SQLite database {self._path!r} cannot be written (the file, or its "
                    f"folder for the -wal and -shm files, is read-only): {text}"
                )
            return StorageError(f"SQLite: {text}")
        if isinstance(exc, sqlite3.Error):
            return StorageError(f"SQLite database {self._path!r}: {exc}")
        if isinstance(exc, OverflowError):
            return ValidationError(f"a number too large to store (64-bit at most): {exc}")
        if isinstance(exc, UnicodeEncodeError):
            return ValidationError(f"text that is not valid Unicode cannot be stored: {exc.reason}")
        return None

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            mapped = self._translate(exc)
            if mapped is None:
                raise
            raise mapped from exc

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError("the store is closed")

    def _write(self) -> _Write:
        """A write transaction (``BEGIN IMMEDIATE``), or a savepoint inside one."""
        return _Write(self)

    @contextmanager
    def _read(self, consistent: bool = False) -> Iterator[sqlite3.Connection]:
        """The connection for several reads in one read transaction."""
        with self._guard as conn:
            if not consistent or self._depth:
                yield conn
                return
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    @contextmanager
    def unit_of_work(self) -> Iterator[None]:
        """One transaction for the block (nested blocks are savepoints); an exception
        rolls the block back."""
        with self._write():
            yield

    # ------------------------------------------------------------------ tickets

    def allocate_number(self) -> int:
        """The next ticket number (a row in ``sequences``)."""
        with self._write() as conn:
            # (past the last 64-bit number, SQLite's value + 1 is a REAL that stays put)
            row = conn.execute(
                "UPDATE sequences SET value = value + 1 WHERE name = 'ticket_number' "
                f"AND value < {LAST_NUMBER} RETURNING value"
            ).fetchone()
            if row is None:
                raise numbers_used_up()
            return int(row[0])

    def load(self, ticket_id: str) -> Ticket:
        """The ticket's latest snapshot."""
        check_key(ticket_id, "ticket_id")
        with self._guard as conn:
            row = conn.execute(q.SELECT_SNAPSHOT, (ticket_id,)).fetchone()
        if row is None:
            raise NotFound("ticket", ticket_id)
        return decode_ticket(row[0])

    def get_many(self, ticket_ids: Sequence[str]) -> list[Ticket]:
        """The tickets with these ids, in order; unknown ids skipped."""
        ticket_ids = check_keys(ticket_ids, "ticket_ids")
        wanted = list(dict.fromkeys(ticket_ids))
        found: dict[str, Ticket] = {}
        with self._read(consistent=True) as conn:
            for part in q.chunks(wanted, _CHUNK):
                sql = f"SELECT id, snapshot FROM tickets WHERE id IN ({q.placeholders(len(part))})"
                for ticket_id, snapshot in conn.execute(sql, tuple(part)):
                    found[ticket_id] = decode_ticket(snapshot)
        return [found[i] for i in ticket_ids if i in found]

    def events(self, ticket_id: str, *, after_version: int = 0) -> list[Event]:
        """The ticket's events after ``after_version``."""
        check_key(ticket_id, "ticket_id")
        check_after(after_version, "after_version")
        with self._guard as conn:
            rows = conn.execute(
                _SELECT_EVENTS, (ticket_id, after_version, after_version)
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
        tags = encode_tags(snapshot.tags)
        row = _ticket_row(snapshot, wake_at, tags)
        indexed = _indexed_of(row)
        encoded = _encode_events(events)
        with self._write() as conn:
            written = self._written.get(ticket_id)
            last = None
            if (
                written is not None
                and written[0] == expected_version
                and not (self._words and written[4][_INDEXED_STATUS_AT] in _WORDS_STATUSES)
            ):
                last = self._update_as_written(
                    conn, row, indexed, snapshot, written, expected_version, encoded
                )
            if last is None:
                last = self._update_as_found(
                    conn, row, indexed, snapshot, expected_version, encoded
                )
            self._remember(ticket_id, (snapshot.version, tags, row[_LINKS_AT], last, indexed))

    @staticmethod
    def _insert_events(
        conn: sqlite3.Connection, encoded: Sequence[_Encoded], first_version: int, prev: int | None
    ) -> int:
        """Append events at the next positions, each chained to the one before (the
        first to ``prev``, the ticket's latest event so far; None: it has none); return
        the last position."""
        link = prev or 0
        if len(encoded) == 1:
            ticket_id, kind, at, data = encoded[0]
            cursor = conn.execute(_APPEND_EVENT, (ticket_id, first_version, link, kind, at, data))
            return int(cursor.lastrowid or 0)
        position = int(conn.execute(_SELECT_NEXT_POSITION).fetchone()[0])
        rows = []
        for version, (ticket_id, kind, at, data) in enumerate(encoded, start=first_version):
            rows.append((position, ticket_id, version, link, kind, at, data))
            link = position
            position += 1
        conn.executemany(_INSERT_EVENT, rows)
        return position - 1

    def _update_as_written(
        self,
        conn: sqlite3.Connection,
        row: tuple[Any, ...],
        indexed: tuple[Any, ...],
        snapshot: Ticket,
        written: _Written,
        expected_version: int,
        encoded: Sequence[_Encoded],
    ) -> int | None:
        """Append the events and update a row this store wrote at ``expected_version``,
        guarded by the values it wrote (no read first); return the ticket's new latest
        event position. None, with nothing written, when the row no longer holds those
        values (a rolled-back transaction, another process or an in-place rewrite
        changed it)."""
        _, old_tags, old_links, old_last, old = written
        last = self._insert_events(conn, encoded, expected_version + 1, old_last)
        changed, params = _update_params(row, indexed, old)
        params.append(last)
        params.append(row[0])
        params.append(expected_version)
        params.append(old_tags)
        params.append(old_links)
        params.append(old_last)
        params.extend(old)
        if conn.execute(_update_sql(changed, True), params).rowcount != 1:
            # chained to a stale latest event: take the rows back (nobody else can have
            # written since: this transaction holds the write lock)
            conn.execute("DELETE FROM events WHERE position > ?", (last - len(encoded),))
            return None
        if row[_TAGS_AT] != old_tags:
            self._write_tags(conn, row[0], snapshot.tags, replace=True)
        if row[_LINKS_AT] != old_links:
            self._write_links(conn, row[0], linked_ids(snapshot), replace=True)
        if self._words and row[_STATUS_CATEGORY_AT] in _WORDS_STATUSES:
            conn.execute(_INSERT_WORDS, (row[0],))
        return last

    def _update_as_found(
        self,
        conn: sqlite3.Connection,
        row: tuple[Any, ...],
        indexed: tuple[Any, ...],
        snapshot: Ticket,
        expected_version: int,
        encoded: Sequence[_Encoded],
    ) -> int:
        """Append the events and insert or update the ticket row after reading what the
        database holds (the version check: ConflictError when it is not
        ``expected_version``); return the ticket's new latest event position. A row that
        was solved or closed leaves the word index first (FTS5 removes an entry by its
        indexed text, which the update overwrites)."""
        ticket_id = row[0]
        found = conn.execute(_SELECT_CURRENT, (ticket_id,)).fetchone()
        actual = 0 if found is None else found[0]
        if actual != expected_version:
            raise ConflictError(ticket_id, expected=expected_version, actual=actual)
        last = self._insert_events(
            conn, encoded, expected_version + 1, None if found is None else found[_CURRENT_LAST]
        )
        if found is None:
            conn.execute(_INSERT_TICKET, (*row, last))
        else:
            if self._words and found[_CURRENT_INDEXED + _INDEXED_STATUS_AT] in _WORDS_STATUSES:
                conn.execute(_DELETE_WORDS, (ticket_id,))
            changed, params = _update_params(row, indexed, found[_CURRENT_INDEXED:])
            cursor = conn.execute(
                _update_sql(changed), (*params, last, ticket_id, expected_version)
            )
            if cursor.rowcount != 1:
                raise ConflictError(ticket_id, expected=expected_version, actual=actual)
        if self._words and row[_STATUS_CATEGORY_AT] in _WORDS_STATUSES:
            conn.execute(_INSERT_WORDS, (ticket_id,))
        if found is None or found[_CURRENT_TAGS] != row[_TAGS_AT]:
            self._write_tags(conn, ticket_id, snapshot.tags, replace=found is not None)
        if (None if found is None else found[_CURRENT_LINKS]) != row[_LINKS_AT]:
            self._write_links(conn, ticket_id, linked_ids(snapshot), replace=found is not None)
        return last

    def _remember(self, ticket_id: str, written: _Written | None) -> None:
        """Remember (or, with None, forget) what this store wrote to a ticket's row."""
        if written is None:
            self._written.pop(ticket_id, None)
            return
        if len(self._written) >= _WRITTEN_MAX and ticket_id not in self._written:
            self._written.clear()
        self._written[ticket_id] = written

    def anonymise(
        self,
        ticket_id: str,
        *,
        expected_version: int,
        events: Sequence[Event],
        snapshot: Ticket,
        wake_at: datetime | None = None,
    ) -> None:
        """Replace the ticket's history in place (see :meth:`Store.anonymise`).

        The event, ticket, tag and outbox delivery rows are rewritten in one transaction with
        ``secure_delete`` on (checked), so the old text is zeroed, not just unlinked; the
        FTS5 text index, if any, is optimized (merging away the old entries); and once the
        transaction commits (the outermost unit of work, if any), the WAL is checkpointed
        and truncated so the old pages do not linger in the ``-wal`` file either (when
        other connections' reads keep the checkpoint from finishing, call
        :meth:`checkpoint` again later)."""
        check_anonymise(ticket_id, expected_version, events, snapshot)
        tags = encode_tags(snapshot.tags)
        row = _ticket_row(snapshot, wake_at, tags)
        rewritten = _encode_events(events[:expected_version])
        added = _encode_events(events[expected_version:])
        with self._write() as conn:
            found = _erase_stored(conn, ticket_id, expected_version)
            self._remember(ticket_id, None)
            positions = _whole_chain(conn, ticket_id, expected_version)
            conn.executemany(
                "UPDATE events SET type = ?, at = ?, data = ? WHERE position = ?",
                [
                    (kind, at, data, positions[version])
                    for version, (_, kind, at, data) in enumerate(rewritten, start=1)
                ],
            )
            conn.executemany(
                "UPDATE outbox_deliveries SET last_error = NULL WHERE last_error IS NOT NULL "
                "AND position = ?",
                [(position,) for position in positions.values()],
            )
            last = found[_CURRENT_LAST]
            if added:
                last = self._insert_events(conn, added, expected_version + 1, last)
            if self._words and found[_CURRENT_INDEXED + _INDEXED_STATUS_AT] in _WORDS_STATUSES:
                conn.execute(_DELETE_WORDS, (ticket_id,))
            sets = ", ".join(f"{name} = ?" for name in _NAMES if name != "id")
            conn.execute(
                f"UPDATE tickets SET {sets}, last_event = ?, lease_owner = NULL, "
                "lease_until = NULL WHERE id = ?",
                (*row[1:], last, ticket_id),
            )
            if self._words and row[_STATUS_CATEGORY_AT] in _WORDS_STATUSES:
                conn.execute(_INSERT_WORDS, (ticket_id,))
            self._write_tags(conn, ticket_id, snapshot.tags, replace=True)
            if found[_CURRENT_LINKS] != row[_LINKS_AT]:
                self._write_links(conn, ticket_id, linked_ids(snapshot), replace=True)
            self._scrub_ticket_text()
        self._checkpoint_after_commit()

    def _scrub_ticket_text(self) -> None:
        """Have the ticket text indexes merged (so removed text leaves them) before the
        outermost transaction commits: once per transaction, however many tickets it
        rewrote, since a merge costs time in proportion to the whole index."""
        if self._builder.fts:
            self._scrub_pending.add("tickets_fts")
        if self._words:
            self._scrub_pending.add("tickets_words")

    def purge(self, ticket_id: str, *, expected_version: int) -> None:
        """Remove the ticket for good (see :meth:`Store.purge`): its ticket, tag, event
        and outbox delivery rows are deleted in one transaction with ``secure_delete`` on
        (checked), the text indexes drop its entries (triggers) and are merged, the
        highest event position is remembered so it is never handed out again, and once
        the transaction commits (the outermost unit of work, if any), the WAL is
        checkpointed and truncated."""
        check_purge(ticket_id, expected_version)
        with self._write() as conn:
            _erase_stored(conn, ticket_id, expected_version)
            self._remember(ticket_id, None)
            positions = [(p,) for p in _whole_chain(conn, ticket_id, expected_version).values()]
            conn.execute(
                "INSERT INTO sequences (name, value) "
                "SELECT 'event_position', coalesce(max(position), 0) FROM events "
                "WHERE true ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)"
            )
            conn.executemany("DELETE FROM outbox_deliveries WHERE position = ?", positions)
            conn.executemany("DELETE FROM events WHERE position = ?", positions)
            conn.execute("DELETE FROM ticket_tags WHERE ticket_id = ?", (ticket_id,))
            conn.execute("DELETE FROM ticket_links WHERE ticket_id = ?", (ticket_id,))
            conn.execute("DELETE FROM tickets WHERE id = ?", (ticket_id,))
            self._scrub_ticket_text()
        self._checkpoint_after_commit()

    def _checkpoint_after_commit(self) -> None:
        """Checkpoint now, or when the enclosing unit of work commits: the WAL holds the
        pages a rewrite or removal replaced until a checkpoint copies them over."""
        if self._depth == 0:
            with self._guard:
                self._checkpoint_briefly()
        else:
            self._checkpoint_pending = True

    def _checkpoint_briefly(self) -> None:
        """The checkpoint after a committed rewrite, waiting at most
        ``_CHECKPOINT_WAIT_MS`` milliseconds: while it waits for another connection's read to
        end, SQLite holds back every writer of the file, in every process, so waiting the
        whole busy timeout behind a long read (a backup, a report) would stall them all
        that long, once per purged ticket. A checkpoint that cannot finish is logged; the
        old pages stay in the ``-wal`` file until :meth:`checkpoint` succeeds."""
        if self._path == ":memory:":
            return
        try:
            finished = self._truncate_wal(min(self._timeout_ms, _CHECKPOINT_WAIT_MS))
        except sqlite3.Error as failure:
            log.warning("WAL checkpoint after a rewrite failed: %s", failure)
            return
        if not finished:
            log.warning(
                "WAL checkpoint after a rewrite of %r could not finish: another connection "
                "is reading; the replaced pages stay in the -wal file until "
                "SqliteStore.checkpoint() succeeds",
                self._path,
            )

    def _truncate_wal(self, wait_ms: int) -> bool:
        """``wal_checkpoint(TRUNCATE)`` waiting at most ``wait_ms`` for other connections;
        False when it could not finish. The caller holds the guard."""
        conn = self._conn
        if wait_ms == self._timeout_ms:
            return not conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        conn.execute(f"PRAGMA busy_timeout = {wait_ms}")
        try:
            return not conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            conn.execute(f"PRAGMA busy_timeout = {self._timeout_ms}")

    def checkpoint(self, *, wait: float | None = None) -> bool:
        """Copy the WAL into the database file and truncate the WAL; False when another
        connection's reads kept it from finishing (try again later). True for
        ``":memory:"``.

        ``wait`` is how many seconds (0 to 86400) it waits for those reads to end, by
        default the store's ``timeout``. While it waits, SQLite holds back every writer
        of the file, in every process: with a long read running (a backup, a report), a
        short ``wait`` and a retry later keep the writers going."""
        wait_ms = self._timeout_ms if wait is None else _milliseconds(wait, "wait")
        if self._path == ":memory:":
            return True
        with self._guard:
            return self._truncate_wal(wait_ms)

    @staticmethod
    def _write_tags(
        conn: sqlite3.Connection, ticket_id: str, tags: Sequence[str], *, replace: bool
    ) -> None:
        if replace:
            conn.execute("DELETE FROM ticket_tags WHERE ticket_id = ?", (ticket_id,))
        if tags:
            conn.executemany(
                "INSERT INTO ticket_tags (ticket_id, tag) VALUES (?, ?)",
                [(ticket_id, tag) for tag in tags],
            )

    @staticmethod
    def _write_links(
        conn: sqlite3.Connection, ticket_id: str, others: Sequence[str], *, replace: bool
    ) -> None:
        """Keep ``ticket_links`` (what ``links_to`` queries read): the ticket links to
        ``others``; with ``replace``, its earlier rows go first."""
        if replace:
            conn.execute("DELETE FROM ticket_links WHERE ticket_id = ?", (ticket_id,))
        if others:
            conn.executemany(
                "INSERT INTO ticket_links (ticket_id, other) VALUES (?, ?)",
                [(ticket_id, other) for other in others],
            )

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
        with self._guard as conn:
            cache = _widen_cache(conn)
            try:
                with self._write() as conn:
                    count = import_in_chunks(
                        items, lambda batch: self._import_batch(conn, batch), chunk=_CHUNK
                    )
            finally:
                if cache is not None:
                    conn.execute(f"PRAGMA cache_size = {cache}")
        return count

    def _import_batch(
        self, conn: sqlite3.Connection, batch: list[tuple[Sequence[Event], Ticket, datetime | None]]
    ) -> int:
        # allocate_number must not hand out the number of a ticket imported here.
        conn.execute(
            "UPDATE sequences SET value = max(value, ?) WHERE name = 'ticket_number'",
            (max(snapshot.number for _, snapshot, _ in batch),),
        )
        ids = [snapshot.id for _, snapshot, _ in batch]
        seen: set[str] = set()
        for ticket_id in ids:
            if ticket_id in seen:
                raise ConflictError(ticket_id, expected=0, actual=1)
            seen.add(ticket_id)
        existing = conn.execute(
            f"SELECT id, version FROM tickets WHERE id IN ({q.placeholders(len(ids))})", ids
        ).fetchone()
        if existing is not None:
            raise ConflictError(existing[0], expected=0, actual=existing[1])
        _refuse_taken_numbers(conn, batch)
        ticket_rows: list[tuple[Any, ...]] = []
        event_rows: list[tuple[Any, ...]] = []
        tag_rows: list[tuple[str, str]] = []
        link_rows: list[tuple[str, str]] = []
        position = int(conn.execute(_SELECT_NEXT_POSITION).fetchone()[0])
        # The new rows get the rowids after the highest (SQLite's rule while that is below
        # the largest rowid): their tags are read back from them in one statement.
        after = int(conn.execute("SELECT coalesce(max(seq), 0) FROM tickets").fetchone()[0])
        from_rows = after <= _MAX_ROWID - len(batch)
        tag_count = 0
        for events, snapshot, wake_at in batch:
            ticket_id = snapshot.id
            prev = 0
            for version, event in enumerate(events, start=1):
                event_rows.append(
                    (
                        position,
                        ticket_id,
                        version,
                        prev,
                        type(event).__name__,
                        to_micros(event.at),
                        encode_event(event),
                    )
                )
                prev = position
                position += 1
            tags = encode_tags(snapshot.tags)
            ticket_rows.append((*_ticket_row(snapshot, wake_at, tags, _NULL), prev or _NULL))
            if from_rows and _JSON_NUL not in tags:
                tag_count += len(snapshot.tags)
            else:
                tag_rows.extend((ticket_id, tag) for tag in snapshot.tags)
            if snapshot.links:
                link_rows.extend((ticket_id, other) for other in linked_ids(snapshot))
        conn.executemany(_IMPORT_TICKET, ticket_rows)
        if self._words:
            conn.executemany(
                _INSERT_WORDS,
                [(row[0],) for row in ticket_rows if row[_STATUS_CATEGORY_AT] in _WORDS_STATUSES],
            )
        conn.executemany(_INSERT_EVENT, event_rows)
        if tag_count and conn.execute(_IMPORT_TAGS, (after,)).rowcount != tag_count:
            raise StorageError("the imported tickets' tags could not be read back from their rows")
        if tag_rows:
            conn.executemany("INSERT INTO ticket_tags (ticket_id, tag) VALUES (?, ?)", tag_rows)
        if link_rows:
            conn.executemany(
                "INSERT INTO ticket_links (ticket_id, other) VALUES (?, ?)", link_rows
            )
        return len(batch)

    def query(self, query: TicketQuery) -> Page[Ticket]:
        """One page of the tickets matching ``query``."""
        if not isinstance(query, TicketQuery):
            raise ValidationError("expected a TicketQuery", field="query")
        where, params = self._builder.where(query)
        column = q.ORDER_KEYS[query.order_by][0]
        order = q.order_sql(query)
        # The page is read on its own (a count over the window would read and sort every
        # match for a page of 50); the total is counted apart, unless the first page
        # already holds every match. Outside a unit of work, the page that follows the
        # last one read, on a database nobody changed since (see _token), starts after
        # that page's last row and takes its total: reading every page of a long list
        # costs each row once, where an OFFSET walks every row before the page again.
        if query.after is not None:
            return self._query_after(query, where, params, column, order)
        with self._read(consistent=True) as conn:
            kept = self._kept if self._depth == 0 else None
            token = None
            if kept is not None and kept.continues(query):
                token = self._token(conn)
                if token != kept.token:
                    kept = None
            else:
                kept = None
            if kept is not None:
                after, after_params = q.after_sql(query, kept.last)
                rows = conn.execute(
                    f"SELECT snapshot, {column}, id FROM tickets WHERE ({where}) AND "
                    f"{after} ORDER BY {order} LIMIT ?",
                    (*params, *after_params, query.limit),
                ).fetchall()
                total = kept.total
            else:
                rows = conn.execute(
                    f"SELECT snapshot, {column}, id FROM tickets WHERE {where} "
                    f"ORDER BY {order} LIMIT ? OFFSET ?",
                    (*params, query.limit, query.offset),
                ).fetchall()
                if query.offset == 0 and len(rows) < query.limit:
                    total = len(rows)
                else:
                    row = conn.execute(
                        f"SELECT count(*) FROM tickets WHERE {where}", params
                    ).fetchone()
                    total = 0 if row is None else int(row[0])
            end = query.offset + len(rows)
            if rows and end < total and self._depth == 0:
                if token is None:
                    token = self._token(conn)
                last = rows[-1]
                self._kept = q.Kept(query.matches_key, token, end, (last[1], last[2]), total)
        items = tuple(decode_ticket(row[0]) for row in rows)
        if items:
            total = max(total, end)  # tickets closed between the two reads
        return query.offset_page(items, total)

    def _query_after(
        self, query: TicketQuery, where: str, params: list[Any], column: str, order: str
    ) -> Page[Ticket]:
        """The page of ``query`` after the ticket its ``after`` names (order values are
        stored as the token holds them): one row more than the page says whether another
        follows; the total is counted apart, or, outside a unit of work on a database
        nobody changed since the last page of the same walk (see _token), taken from it."""
        key = query.after_key
        assert key is not None
        after, after_params = q.after_sql(query, key)
        with self._read(consistent=True) as conn:
            rows = conn.execute(
                f"SELECT snapshot FROM tickets WHERE ({where}) AND {after} "
                f"ORDER BY {order} LIMIT ?",
                (*params, *after_params, query.limit + 1),
            ).fetchall()
            outside = self._depth == 0
            token = self._token(conn) if outside else None
            counted = self._counted
            if outside and counted is not None and counted[:2] == (query.matches_key, token):
                total = counted[2]
            else:
                row = conn.execute(
                    f"SELECT count(*) FROM tickets WHERE {where}", params
                ).fetchone()
                total = 0 if row is None else int(row[0])
            if outside and len(rows) > query.limit:
                self._counted = (query.matches_key, token, total)
        return query.after_page([decode_ticket(found[0]) for found in rows], total)

    def _token(self, conn: sqlite3.Connection) -> tuple[int, int]:
        """What changes whenever the database may have: this connection's row changes
        and SQLite's count of commits by other connections (read in the current read
        transaction, it describes the data that transaction sees)."""
        return conn.total_changes, int(conn.execute("PRAGMA data_version").fetchone()[0])

    def requester_history(self, requester_id: str, *, limit: int = 50) -> list[Ticket]:
        """The requester's tickets, newest first."""
        check_key(requester_id, "requester_id")
        check_limit(limit)
        with self._guard as conn:
            rows = conn.execute(q.SELECT_HISTORY, (requester_id, limit)).fetchall()
        return [decode_ticket(row[0]) for row in rows]

    def requester_ticket_ids(self, requester_id: str, *, limit: int = 50) -> list[str]:
        """The ids of the requester's tickets, newest first."""
        check_key(requester_id, "requester_id")
        check_limit(limit)
        with self._guard as conn:
            rows = conn.execute(q.SELECT_HISTORY_IDS, (requester_id, limit)).fetchall()
        return [row[0] for row in rows]

    def reschedule(
        self, ticket_id: str, *, expected_version: int, wake_at: datetime | None
    ) -> bool:
        """Set the ticket's wake-up if it is still at ``expected_version``."""
        check_reschedule(ticket_id, expected_version, wake_at)
        with self._write() as conn:
            # What this store remembers of the row no longer holds its wake-up.
            self._remember(ticket_id, None)
            done = conn.execute(
                "UPDATE tickets SET wake_at = ? WHERE id = ? AND version = ?",
                (None if wake_at is None else to_micros(wake_at), ticket_id, expected_version),
            ).rowcount
            if not done and conn.execute(
                "SELECT 1 FROM tickets WHERE id = ?", (ticket_id,)
            ).fetchone() is None:
                raise NotFound("ticket", ticket_id)
        return bool(done)

    def due(self, now: datetime, *, limit: int = 100) -> list[str]:
        """Ids of tickets to wake by ``now``, earliest first."""
        check_instant(now)
        check_limit(limit)
        with self._guard as conn:
            rows = conn.execute(q.SELECT_DUE, (to_micros(now), limit)).fetchall()
        return [row[0] for row in rows]

    def claim_due(
        self,
        now: datetime,
        *,
        worker: str,
        limit: int = 100,
        lease: timedelta = timedelta(seconds=60),
    ) -> list[str]:
        """Lease due tickets nobody else holds to ``worker`` (under the write lock)."""
        check_instant(now)
        check_name(worker, "worker")
        check_limit(limit)
        check_lease(lease)
        at = to_micros(now)
        until = to_micros(lease_end(now, lease))
        with self._write() as conn:
            ids = [row[0] for row in conn.execute(_CLAIM_DUE, (at, at, limit)).fetchall()]
            conn.executemany(
                "UPDATE tickets SET lease_owner = ?, lease_until = ? WHERE id = ?",
                [(worker, until, ticket_id) for ticket_id in ids],
            )
        return ids

    def event_stream(
        self, *, after: int = 0, limit: int | None = None
    ) -> Iterator[tuple[int, Event]]:
        """(position, event) in global order after ``after``, read in chunks."""
        check_after(after, "after")
        if limit is not None:
            check_limit(limit)
        self._check_open()
        return self._stream(after, limit)

    def _stream(self, after: int, limit: int | None) -> Iterator[tuple[int, Event]]:
        def fetch(position: int, size: int) -> list[tuple[int, Event]]:
            with self._guard as conn:
                rows = conn.execute(q.SELECT_STREAM, (position, size)).fetchall()
            return [(pos, decode_event(data)) for pos, data in rows]

        return read_in_chunks(fetch, after=after, limit=limit, chunk=_CHUNK)

    # ------------------------------------------------------------------ people

    def save_requester(self, requester: Requester) -> None:
        """Insert or replace a requester."""
        if not isinstance(requester, Requester):
            raise ValidationError("expected a Requester", field="requester")
        email = None if requester.email is None else requester.email.casefold()
        data = encode_requester(requester)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO requesters (id, email_key, data) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET email_key = excluded.email_key, "
                "data = excluded.data",
                (requester.id, email, data),
            )

    def get_requester(self, requester_id: str) -> Requester:
        """The requester, or NotFound."""
        check_key(requester_id, "requester_id")
        with self._guard as conn:
            row = conn.execute(q.SELECT_REQUESTER, (requester_id,)).fetchone()
        if row is None:
            raise NotFound("requester", requester_id)
        return decode_requester(row[0])

    def find_requester(self, *, email: str) -> Requester | None:
        """The requester with this email (case-insensitive), smallest id first."""
        if not isinstance(email, str):
            raise ValidationError("expected an email address", field="email")
        check_unicode(email, "email")
        with self._guard as conn:
            rows = conn.execute(q.SELECT_REQUESTER_BY_EMAIL, (email.casefold(),)).fetchall()
        return first_with_email((decode_requester(row[0]) for row in rows), email)

    def delete_requester(self, requester_id: str) -> None:
        """Remove the requester row (zeroed on disk: ``secure_delete``); the WAL is
        checkpointed once the transaction commits (the outermost unit of work, if any), so
        the old row does not stay in the ``-wal`` file."""
        check_key(requester_id, "requester_id")
        with self._write() as conn:
            conn.execute("DELETE FROM requesters WHERE id = ?", (requester_id,))
        self._checkpoint_after_commit()

    def lock_requester(self, requester_id: str) -> None:
        """Hold back the tickets of ``requester_id`` written elsewhere until the unit of
        work ends (see :class:`~helpdesk_core.storage.RequesterLock`): nothing to do, a
        unit of work is a ``BEGIN IMMEDIATE`` transaction, which holds the database's
        write lock from its start."""
        check_key(requester_id, "requester_id")
        with self._guard:
            pass

    # ------------------------------------------------------------------ routing state

    def get_cursor(self, key: str) -> int:
        """A persistent counter; 0 when unset."""
        check_name(key, "key")
        with self._guard as conn:
            row = conn.execute(q.SELECT_CURSOR, (key,)).fetchone()
        return 0 if row is None else int(row[0])

    def set_cursor(self, key: str, value: int) -> None:
        """Set a persistent counter."""
        check_name(key, "key")
        check_cursor(value)
        with self._write() as conn:
            conn.execute(q.UPSERT_CURSOR, (key, value))

    def claim_cursor(self, key: str, value: int) -> bool:
        """Set the cursor to ``value`` if it is unset (0); say whether this call set it
        (one write transaction: another connection's claim waits for it)."""
        check_name(key, "key")
        check_claim(value)
        with self._write() as conn:
            return bool(conn.execute(q.CLAIM_CURSOR, (key, value)).fetchall())

    def delete_cursors(self, prefix: str, *, values: Iterable[int]) -> int:
        """Delete the cursors whose key starts with ``prefix`` and whose value is one of
        ``values``; return how many (zeroed on disk: ``secure_delete``)."""
        check_name(prefix, "prefix")
        wanted = sorted(check_cursor_values(values))
        deleted = 0
        with self._write() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                deleted += conn.execute(
                    q.delete_cursors_sql(len(chunk)), (len(prefix), prefix, *chunk)
                ).rowcount
        return deleted

    def agent_loads(self) -> dict[str, dict[Priority, int]]:
        """Active tickets per assignee per priority."""
        with self._guard as conn:
            rows = conn.execute(q.SELECT_LOADS).fetchall()
        loads: dict[str, dict[Priority, int]] = {}
        for assignee, priority, count in rows:
            loads.setdefault(assignee, {})[Priority(priority)] = int(count)
        return loads

    # ------------------------------------------------------------------ configuration

    def load_config_document(self) -> dict[str, Any] | None:
        """The saved configuration document, or None."""
        with self._guard as conn:
            row = conn.execute(q.SELECT_CONFIG).fetchone()
        return None if row is None else decode_document(row[0])

    def save_config_document(self, document: Mapping[str, Any]) -> None:
        """Replace the configuration document."""
        text = encode_document(document)
        with self._write() as conn:
            conn.execute(q.UPSERT_CONFIG, (text,))

    # ------------------------------------------------------------------ outbox

    def claim_outbox(
        self,
        consumer: str,
        *,
        now: datetime,
        limit: int = 100,
        lease: timedelta = timedelta(seconds=60),
    ) -> list[OutboxItem]:
        """Lease the consumer's oldest undelivered items (under the write lock)."""
        check_name(consumer, "consumer")
        check_instant(now)
        check_limit(limit)
        check_lease(lease)
        until = to_micros(lease_end(now, lease))
        with self._write() as conn:
            hwm = self._hwm(conn, consumer)
            rows = conn.execute(
                q.SELECT_CLAIMABLE, (consumer, hwm, to_micros(now), limit)
            ).fetchall()
            items: list[OutboxItem] = []
            leases = []
            for position, ticket_id, version, data, state, attempts in rows:
                tries = 0 if state is None else attempts + (state == "leased")
                leases.append((consumer, position, until, tries))
                items.append(
                    OutboxItem(
                        id=item_id(ticket_id, version),
                        position=position,
                        event=decode_event(data),
                        attempts=tries,
                    )
                )
            conn.executemany(q.UPSERT_LEASE, leases)
        return items

    def ack_outbox(self, consumer: str, ids: Sequence[str]) -> None:
        """Mark items delivered; the consumer never gets them again."""
        check_name(consumer, "consumer")
        ids = check_keys(ids, "ids")
        with self._write() as conn:
            positions = self._positions(conn, ids)
            hwm = self._hwm(conn, consumer)
            conn.executemany(q.UPSERT_ACK, [(consumer, p) for p in positions if p > hwm])
            first, last = conn.execute(q.SELECT_ACK_FRONTIER, (hwm, consumer)).fetchone()
            new = q.acked_upto(hwm, first, last)
            if new > hwm:
                conn.execute(q.UPDATE_HWM, (new, consumer, new))
                conn.execute(q.DELETE_ACKED, (consumer, new))

    def release_outbox(
        self, consumer: str, ids: Sequence[str | OutboxItem], *, error: str | None = None
    ) -> None:
        """Give leased items back: pending again, attempts + 1 (an OutboxItem only while
        its claim's lease holds it)."""
        check_name(consumer, "consumer")
        targets = release_targets(ids)
        check_error_note(error)
        with self._write() as conn:
            positions = self._positions(conn, [item for item, _ in targets])
            by_id, by_lease = q.release_rows(
                error, consumer, positions, [attempts for _, attempts in targets]
            )
            conn.executemany(q.UPDATE_RELEASE, by_id)
            conn.executemany(q.UPDATE_RELEASE_LEASE, by_lease)

    @staticmethod
    def _hwm(conn: sqlite3.Connection, consumer: str) -> int:
        row = conn.execute(q.SELECT_HWM, (consumer,)).fetchone()
        if row is None:
            conn.execute(q.INSERT_CONSUMER, (consumer,))
            return 0
        return int(row[0])

    @staticmethod
    def _positions(conn: sqlite3.Connection, ids: Sequence[str]) -> list[int]:
        """The log positions of outbox items, in order: one walk down each ticket's chain
        of events, from its latest to the oldest version asked for."""
        if isinstance(ids, str):
            raise ValidationError("ids is a list of outbox item ids", field="ids")
        parsed = [parse_item_id(value) for value in ids]
        lowest: dict[str, int] = {}
        for ticket_id, version in parsed:
            lowest[ticket_id] = min(version, lowest.get(ticket_id, version))
        found: dict[tuple[str, int], int] = {}
        for ticket_id, low in lowest.items():
            for position, version in conn.execute(_SELECT_CHAIN, (ticket_id, low - 1, low - 1)):
                found[ticket_id, version] = position
        out = []
        for value, key in zip(ids, parsed):
            if key not in found:
                raise NotFound("outbox item", value)
            out.append(found[key])
        return out

    # ------------------------------------------------------------------ knowledge

    @property
    def has_word_index(self) -> bool:
        """True when article search and similar-ticket candidates use the FTS5 word
        indexes (schema version 3 made by a SQLite with FTS5); otherwise they scan."""
        return self._words

    def save_article(self, article: Article, *, expected_version: int) -> None:
        """Insert or replace an article if its stored version is ``expected_version``.
        Replacing the words of an article merges its FTS5 index, and replacing an article
        checkpoints the WAL once the transaction commits, so the old text does not linger
        in the file or its ``-wal``."""
        check_article(article, expected_version)
        words = " ".join(article_words(article))
        row = (
            article.version,
            article.status.value,
            article.category,
            article.author,
            to_micros(article.created_at),
            to_micros(article.updated_at),
            dumps(list(article.tags)),
            dumps(list(article.problems)),
            words,
            kb.encode_article(article),
            article.id,
        )
        with self._write() as conn:
            found = conn.execute(
                "SELECT version, words FROM articles WHERE id = ?", (article.id,)
            ).fetchone()
            actual = 0 if found is None else int(found[0])
            if actual != expected_version:
                raise ConflictError(
                    article.id, expected=expected_version, actual=actual, kind="article"
                )
            if found is None:
                conn.execute(
                    "INSERT INTO articles (version, status, category, author, created_at, "
                    "updated_at, tags, problems, words, data, id) "
                    f"VALUES ({q.placeholders(11)})",
                    row,
                )
            else:
                conn.execute(
                    "UPDATE articles SET version = ?, status = ?, category = ?, author = ?, "
                    "created_at = ?, updated_at = ?, tags = ?, problems = ?, words = ?, "
                    "data = ? WHERE id = ?",
                    row,
                )
                if self._words and found[1] != words:
                    self._scrub_pending.add("articles_fts")
                # The old version must not linger in the -wal file: checkpoint once the
                # transaction commits (the outermost unit of work, if any).
                self._checkpoint_pending = True

    def get_article(self, article_id: str) -> Article:
        """The article, or NotFound."""
        check_key(article_id, "article_id")
        with self._guard as conn:
            row = conn.execute("SELECT data FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            raise NotFound("article", article_id)
        return kb.decode_article(row[0])

    def _article_where(self, query: ArticleQuery, prefix: str = "") -> tuple[str, list[Any]]:
        if not isinstance(query, ArticleQuery):
            raise ValidationError("expected an ArticleQuery", field="query")
        where, params = kb.article_filters(query, postgres=False, prefix=prefix)
        if query.text is None or self._words:
            return where, params
        # No FTS5: match the words in the space-padded word list.
        joiner = " AND " if query.match == "all" else " OR "
        tests = [f"instr(' ' || {prefix}words || ' ', ?) > 0" for _ in query.words]
        params.extend(f" {word} " for word in query.words)
        return f"{where} AND ({joiner.join(tests)})", params

    def list_articles(self, query: ArticleQuery) -> Page[Article]:
        """One page of the matching articles, most recently updated first."""
        where, params = self._article_where(query)
        if query.text is not None and not query.words:
            return Page(items=(), total=0)
        if query.text is not None and self._words:
            where += " AND seq IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)"
            params.append(kb.fts5_query(query.words, query.match))
        sql = (
            f"SELECT data, count(*) OVER () FROM articles WHERE {where} "
            "ORDER BY updated_at DESC, id LIMIT ? OFFSET ?"
        )
        return self._article_page(query, sql, params)

    def search_articles(self, query: ArticleQuery) -> Page[Article]:
        """One page of the matching articles, best FTS5 ``bm25()`` rank first."""
        if not isinstance(query, ArticleQuery) or query.text is None:
            raise ValidationError("search_articles needs a query with text", field="query")
        if not query.words:
            return Page(items=(), total=0)
        if not self._words:
            return self._scan_articles(query)
        where, params = self._article_where(query, prefix="a.")
        sql = (
            "SELECT data, count(*) OVER () FROM (SELECT a.data AS data, a.id AS id, "
            "bm25(articles_fts) AS rank FROM articles_fts JOIN articles a "
            f"ON a.seq = articles_fts.rowid WHERE articles_fts MATCH ? AND {where}) "
            "ORDER BY rank, id LIMIT ? OFFSET ?"
        )
        return self._article_page(query, sql, [kb.fts5_query(query.words, query.match), *params])

    def _scan_articles(self, query: ArticleQuery) -> Page[Article]:
        where, params = self._article_where(query)
        with self._read(consistent=True) as conn:
            corpus = {
                article_id: Counter(words.split())
                for article_id, words in conn.execute("SELECT id, words FROM articles")
            }
            found = {
                article.id: article
                for article in (
                    kb.decode_article(row[0])
                    for row in conn.execute(f"SELECT data FROM articles WHERE {where}", params)
                )
            }
        order = rank_articles(query.words, corpus, found)
        items = tuple(found[i] for i in order[query.offset : query.offset + query.limit])
        end = query.offset + len(items)
        return Page(items=items, total=len(order), next_offset=end if end < len(order) else None)

    def _article_page(self, query: ArticleQuery, sql: str, params: list[Any]) -> Page[Article]:
        with self._read(consistent=True) as conn:
            rows = conn.execute(sql, (*params, query.limit, query.offset)).fetchall()
            if rows:
                total = int(rows[0][1])
            elif query.offset:
                counted = sql.replace("data, count(*) OVER ()", "count(*)", 1)
                counted = counted[: counted.rindex(" ORDER BY")]
                total = int(conn.execute(counted, params).fetchone()[0])
            else:
                total = 0
        items = tuple(kb.decode_article(row[0]) for row in rows)
        end = query.offset + len(items)
        return Page(items=items, total=total, next_offset=end if end < total else None)

    def search_solved(self, words: Sequence[str], *, limit: int = 50) -> list[Ticket]:
        """Solved or closed tickets sharing any of ``words`` (the library's words of their
        text, as :func:`~helpdesk_core.knowledge.search_words` splits it), best FTS5
        ``bm25()`` rank first (without FTS5: most shared words first, then newest)."""
        given = check_words(words, limit)
        # Split and fold as the index was written: "VPN" is "vpn", "o'brien" is "brien".
        wanted = list(dict.fromkeys(w for word in given for w in search_words(word)))
        if not wanted:
            return []
        if self._words:
            sql = (
                "SELECT t.snapshot FROM tickets_words JOIN tickets t "
                "ON t.seq = tickets_words.rowid WHERE tickets_words MATCH ? "
                f"AND t.status_category IN {kb.SOLVED_SQL} "
                "ORDER BY bm25(tickets_words), t.id LIMIT ?"
            )
            params: list[Any] = [kb.fts5_query(wanted, "any"), limit]
        else:
            # No FTS5: look each word up in the space-padded word list.
            hits = " + ".join("(instr(' ' || solved_words || ' ', ?) > 0)" for _ in wanted)
            sql = (
                f"SELECT snapshot FROM (SELECT snapshot, id, updated_at, {hits} AS hits "
                f"FROM tickets WHERE status_category IN {kb.SOLVED_SQL}) WHERE hits > 0 "
                "ORDER BY hits DESC, updated_at DESC, id LIMIT ?"
            )
            params = [*(f" {w} " for w in wanted), limit]
        with self._guard as conn:
            rows = conn.execute(sql, params).fetchall()
        return [decode_ticket(row[0]) for row in rows]

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Self:
        """The store itself: ``with`` closes it at the end of the block."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection; later calls raise StoreClosedError. (In a process forked
        from the one that opened the store, the connection it inherited is left open:
        it belongs to that process.)"""
        with self._lock:
            if not self._closed:
                self._closed = True
                _OPEN_STORES.discard(self)
                if not self._forked:
                    self._conn.close()
