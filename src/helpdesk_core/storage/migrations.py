"""Versioned schemas of the SQL stores and the steps that migrate one version to the next.

A database records its schema version (SQLite: ``PRAGMA user_version``; PostgreSQL: the
``schema_version`` table of the store's schema). Opening a store runs, in one transaction,
every step from the recorded version to :data:`SCHEMA_VERSION`; a fresh database runs
them all from 0. A database newer than this library raises
:class:`~helpdesk_core.errors.SchemaVersionError` naming both versions.

Versions:

1. tickets (indexed columns + JSON snapshot), ticket tags, events, outbox, requesters,
   cursors, configuration document, ticket-number sequence.
2. ``tickets.search_text``: the case-folded subject and description that text queries
   match, back-filled from the stored snapshots (SQLite also flags texts holding NUL in
   ``search_nul``: FTS5 tokenizers stop at NUL, so those rows are always checked).
3. Knowledge: the ``articles`` table with its word index (SQLite: an FTS5 table,
   ``ascii`` tokenizer over the words the library splits; PostgreSQL: a ``tsvector``
   column with a GIN index), and a word index of solved and closed tickets for similar-
   ticket search (SQLite: an FTS5 table kept by triggers; PostgreSQL: a generated
   ``tsvector`` column over the first 100,000 characters, which keeps it well under
   PostgreSQL's 1 MB limit on a ``tsvector``, with a partial GIN index). Snapshots get
   the ``known_error`` key. A SQLite without FTS5 gets the table only; its searches then scan.
4. The ``outbox`` table is dropped: it repeated each event's position, ticket and
   version, and every event is an outbox item, so consumers now read the ``events`` log
   from their high-water mark (``outbox_consumers``, ``outbox_deliveries`` stay). One
   row fewer per event written.
5. SQLite: the word index of solved and closed tickets loses its ``INSERT`` trigger; the
   store adds the rows of tickets written already solved or closed itself. A trigger runs
   for every new ticket even when its condition is false, which cost about a sixth of a
   bulk import. PostgreSQL: no change (its word index is a generated column).
6. SQLite: a ticket's events are chained instead of indexed. ``events`` loses its
   ``UNIQUE (ticket_id, version)`` index and gains ``prev``, the position of the ticket's
   previous event (0 for its first; ``NOT NULL``, so a process still running an older
   version of the library fails on its first event instead of writing one off the
   chain); ``tickets.last_event`` holds the position of its latest one. A command then
   writes one page fewer (the index's leaf was a random page of its own), and a ticket's
   version check already keeps its versions unique. The word index of solved and
   closed tickets loses its ``UPDATE`` trigger too: the store updates it when a ticket
   enters, leaves or changes while solved or closed, so an update of an open ticket runs
   no trigger (and keeps no statement journal). PostgreSQL: no change.
7. ``tickets_active_load``: a partial index of active assigned tickets on ``(assignee,
   priority)``, which ``agent_loads`` reads; without it, the count walked every ticket
   ever assigned (closed ones included), tens of milliseconds a year on, on the path of
   every auto-assignment and tick.
8. ``closed_at`` (set while a ticket is closed) and ``anonymised`` columns on tickets,
   backfilled from the snapshots, and ``tickets_retention``, a partial index of closed
   tickets on them: a retention pass reads the closed tickets that may be due, where it
   read every closed ticket every hour (a minute a pass at 100,000 tickets).

The optional text index (SQLite FTS5 trigram table, PostgreSQL ``pg_trgm`` GIN index) is
not a schema version: :func:`enable_sqlite_text_index` / :func:`enable_postgres_text_index`
add it to a database on request, and every process then keeps it up to date.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from helpdesk_core.errors import SchemaVersionError, StorageError
from helpdesk_core.storage._sql import ACTIVE_SQL
from helpdesk_core.storage.base import search_text
from helpdesk_core.storage.codecs import dumps, escape_nul, loads, to_micros

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "enable_postgres_text_index",
    "enable_sqlite_text_index",
    "migrate_postgres",
    "migrate_sqlite",
    "sqlite_has_text_index",
    "sqlite_has_word_index",
]

#: The schema version this library writes.
SCHEMA_VERSION = 8
#: ``PRAGMA application_id`` of helpdesk_core SQLite files ("HDSK").
APPLICATION_ID = 0x4844534B

# ---------------------------------------------------------------------------- SQLite

SQLITE_V1 = """
CREATE TABLE tickets (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    number INTEGER NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    status_category TEXT NOT NULL,
    category TEXT,
    team TEXT,
    tier TEXT,
    assignee TEXT,
    owner TEXT,
    requester TEXT NOT NULL,
    asset TEXT,
    priority TEXT NOT NULL,
    priority_rank INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    wake_at INTEGER,
    sla_deadline INTEGER,
    lease_owner TEXT,
    lease_until INTEGER,
    tags TEXT NOT NULL,
    snapshot TEXT NOT NULL
);
CREATE INDEX tickets_number ON tickets (number);
CREATE INDEX tickets_requester ON tickets (requester, created_at);
CREATE INDEX tickets_assignee ON tickets (assignee, status_category);
CREATE INDEX tickets_team ON tickets (team, status_category);
CREATE INDEX tickets_created ON tickets (created_at);
CREATE INDEX tickets_updated ON tickets (updated_at);
CREATE INDEX tickets_wake ON tickets (wake_at) WHERE wake_at IS NOT NULL;
CREATE INDEX tickets_deadline ON tickets (sla_deadline) WHERE sla_deadline IS NOT NULL;
CREATE TABLE ticket_tags (
    ticket_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    PRIMARY KEY (ticket_id, tag)
) WITHOUT ROWID;
CREATE INDEX ticket_tags_tag ON ticket_tags (tag);
CREATE TABLE events (
    position INTEGER PRIMARY KEY,
    ticket_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    at INTEGER NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (ticket_id, version)
);
CREATE TABLE outbox (
    position INTEGER PRIMARY KEY,
    ticket_id TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE outbox_consumers (
    name TEXT PRIMARY KEY,
    acked_upto INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE outbox_deliveries (
    consumer TEXT NOT NULL,
    position INTEGER NOT NULL,
    state TEXT NOT NULL,
    lease_until INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (consumer, position)
) WITHOUT ROWID;
CREATE TABLE requesters (
    id TEXT PRIMARY KEY,
    email_key TEXT,
    data TEXT NOT NULL
);
CREATE INDEX requesters_email ON requesters (email_key);
CREATE TABLE cursors (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE config (id INTEGER PRIMARY KEY CHECK (id = 1), document TEXT NOT NULL);
CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO sequences (name, value) VALUES ('ticket_number', 0);
"""

SQLITE_V2 = """
ALTER TABLE tickets ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN search_nul INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tickets_search_nul ON tickets (seq) WHERE search_nul = 1
"""

SQLITE_TEXT_INDEX = """
CREATE VIRTUAL TABLE tickets_fts USING fts5(
    search_text, content='tickets', content_rowid='seq', tokenize='trigram case_sensitive 1'
);
CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_fts (rowid, search_text) VALUES (new.seq, new.search_text);
END;
CREATE TRIGGER tickets_fts_update AFTER UPDATE OF search_text ON tickets
WHEN old.search_text IS NOT new.search_text BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, search_text)
        VALUES ('delete', old.seq, old.search_text);
    INSERT INTO tickets_fts (rowid, search_text) VALUES (new.seq, new.search_text);
END;
CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, search_text)
        VALUES ('delete', old.seq, old.search_text);
END;
INSERT INTO tickets_fts (tickets_fts) VALUES ('rebuild');
"""


SQLITE_V3 = """
CREATE TABLE articles (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    category TEXT,
    author TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    tags TEXT NOT NULL,
    problems TEXT NOT NULL,
    words TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX articles_updated ON articles (updated_at)
"""

# The word indexes of version 3 (when this SQLite has FTS5). Articles: the words the
# library split, joined by spaces; the ascii tokenizer keeps each one whole (it splits on
# ASCII punctuation and spaces only, and the words have neither). Tickets: the case-folded
# search text of solved and closed tickets, split by unicode61, used to find candidates.
SQLITE_V3_WORDS = """
CREATE VIRTUAL TABLE articles_fts USING fts5(
    words, content='articles', content_rowid='seq', tokenize='ascii'
);
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, words) VALUES (new.seq, new.words);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF words ON articles
WHEN old.words IS NOT new.words BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, words) VALUES ('delete', old.seq, old.words);
    INSERT INTO articles_fts (rowid, words) VALUES (new.seq, new.words);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, words) VALUES ('delete', old.seq, old.words);
END;
CREATE VIRTUAL TABLE tickets_words USING fts5(
    search_text, content='tickets', content_rowid='seq',
    tokenize='unicode61 remove_diacritics 0'
);
CREATE TRIGGER tickets_words_insert AFTER INSERT ON tickets
WHEN new.status_category IN ('solved', 'closed') BEGIN
    INSERT INTO tickets_words (rowid, search_text) VALUES (new.seq, new.search_text);
END;
CREATE TRIGGER tickets_words_update AFTER UPDATE OF search_text, status_category ON tickets
WHEN (old.status_category IN ('solved', 'closed')) != (new.status_category IN ('solved', 'closed'))
OR (new.status_category IN ('solved', 'closed') AND old.search_text IS NOT new.search_text)
BEGIN
    INSERT INTO tickets_words (tickets_words, rowid, search_text)
        SELECT 'delete', old.seq, old.search_text
        WHERE old.status_category IN ('solved', 'closed');
    INSERT INTO tickets_words (rowid, search_text)
        SELECT new.seq, new.search_text WHERE new.status_category IN ('solved', 'closed');
END;
CREATE TRIGGER tickets_words_delete AFTER DELETE ON tickets
WHEN old.status_category IN ('solved', 'closed') BEGIN
    INSERT INTO tickets_words (tickets_words, rowid, search_text)
        VALUES ('delete', old.seq, old.search_text);
END;
INSERT INTO tickets_words (rowid, search_text)
    SELECT seq, search_text FROM tickets WHERE status_category IN ('solved', 'closed')
"""


def _script(conn: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT first; run statement by statement inside our transaction.
    pending = ""
    for part in script.split(";\n"):
        pending += part + ";\n"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                conn.execute(pending)
            pending = ""


def _sqlite_backfill_search(conn: sqlite3.Connection) -> None:
    rows = conn.execute("SELECT seq, snapshot FROM tickets").fetchall()
    updates = []
    for seq, snapshot in rows:
        data = loads(snapshot)
        text = search_text(data["subject"], data.get("description", ""))
        updates.append((text, int("\x00" in text), seq))
    conn.executemany("UPDATE tickets SET search_text = ?, search_nul = ? WHERE seq = ?", updates)


def _sqlite_v1(conn: sqlite3.Connection) -> None:
    _script(conn, SQLITE_V1)


def _sqlite_v2(conn: sqlite3.Connection) -> None:
    _script(conn, SQLITE_V2)
    _sqlite_backfill_search(conn)


def _add_known_error_key(snapshot: str | bytes) -> str | None:
    """The snapshot JSON with ``"known_error": null`` added (None: it has the key)."""
    data = loads(snapshot if isinstance(snapshot, str) else snapshot.decode("utf-8"))
    if "known_error" in data:
        return None
    data["known_error"] = None
    return dumps(data)


def _sqlite_v3(conn: sqlite3.Connection) -> None:
    _script(conn, SQLITE_V3)
    updates = []
    for seq, snapshot in conn.execute("SELECT seq, snapshot FROM tickets").fetchall():
        text = _add_known_error_key(snapshot)
        if text is not None:
            updates.append((text, seq))
    conn.executemany("UPDATE tickets SET snapshot = ? WHERE seq = ?", updates)
    conn.execute("SAVEPOINT words")
    try:
        _script(conn, SQLITE_V3_WORDS)
    except sqlite3.OperationalError as exc:
        conn.execute("ROLLBACK TO words")
        conn.execute("RELEASE words")
        if "fts5" not in str(exc) and "tokenizer" not in str(exc):
            raise
        return  # no FTS5 in this SQLite: searches scan
    conn.execute("RELEASE words")


def _sqlite_v4(conn: sqlite3.Connection) -> None:
    conn.execute("DROP TABLE outbox")


def _sqlite_v5(conn: sqlite3.Connection) -> None:
    conn.execute("DROP TRIGGER IF EXISTS tickets_words_insert")


SQLITE_V6 = """
ALTER TABLE tickets ADD COLUMN last_event INTEGER;
UPDATE tickets SET last_event = (
    SELECT max(position) FROM events WHERE events.ticket_id = tickets.id
);
CREATE TABLE events_v6 (
    position INTEGER PRIMARY KEY,
    ticket_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    prev INTEGER NOT NULL,
    type TEXT NOT NULL,
    at INTEGER NOT NULL,
    data TEXT NOT NULL
);
INSERT INTO events_v6 (position, ticket_id, version, prev, type, at, data)
    SELECT position, ticket_id, version,
        lag(position, 1, 0) OVER (PARTITION BY ticket_id ORDER BY version), type, at, data
    FROM events;
DROP TABLE events;
ALTER TABLE events_v6 RENAME TO events;
DROP TRIGGER IF EXISTS tickets_words_update
"""


def _sqlite_v6(conn: sqlite3.Connection) -> None:
    _script(conn, SQLITE_V6)


#: Version 7, both databases: the index ``agent_loads`` counts active tickets with.
ACTIVE_LOAD_INDEX = (
    "CREATE INDEX IF NOT EXISTS tickets_active_load ON {table} (assignee, priority) "
    f"WHERE assignee IS NOT NULL AND status_category IN {ACTIVE_SQL}"
)


def _sqlite_v7(conn: sqlite3.Connection) -> None:
    conn.execute(ACTIVE_LOAD_INDEX.format(table="tickets"))


#: Version 8, both databases: what a retention pass asks for, closed tickets by when
#: they closed (``closed_at`` is set for closed tickets only) and whether a ticket was
#: anonymised, so a pass reads the tickets that may be due, not every closed ticket.
RETENTION_INDEX = (
    "CREATE INDEX IF NOT EXISTS tickets_retention ON {table} (closed_at, anonymised) "
    "WHERE status_category = 'closed'"
)


def _retention_columns(snapshot: str | bytes) -> tuple[str | None, bool]:
    """``(closed_at as stored in the snapshot, anonymised)`` of a snapshot's JSON: the
    closing instant only while the ticket is closed."""
    data = loads(snapshot if isinstance(snapshot, str) else snapshot.decode("utf-8"))
    closed = data.get("closed_at") if data.get("status_category") == "closed" else None
    return closed, data.get("anonymised") is True


def _instant(text: str) -> datetime:
    """A stored instant (an ISO text; one written without an offset is UTC)."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _sqlite_v8(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE tickets ADD COLUMN closed_at INTEGER")
    conn.execute("ALTER TABLE tickets ADD COLUMN anonymised INTEGER NOT NULL DEFAULT 0")
    updates = []
    for seq, snapshot in conn.execute("SELECT seq, snapshot FROM tickets").fetchall():
        closed, anonymised = _retention_columns(snapshot)
        if closed is not None or anonymised:
            micros = None if closed is None else to_micros(_instant(closed))
            updates.append((micros, int(anonymised), seq))
    conn.executemany("UPDATE tickets SET closed_at = ?, anonymised = ? WHERE seq = ?", updates)
    conn.execute(RETENTION_INDEX.format(table="tickets"))


_SQLITE_STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _sqlite_v1,
    2: _sqlite_v2,
    3: _sqlite_v3,
    4: _sqlite_v4,
    5: _sqlite_v5,
    6: _sqlite_v6,
    7: _sqlite_v7,
    8: _sqlite_v8,
}


def migrate_sqlite(conn: sqlite3.Connection) -> int:
    """Bring the database of ``conn`` (autocommit mode) to :data:`SCHEMA_VERSION` in one
    ``BEGIN IMMEDIATE`` transaction; return the version it had."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = conn.execute("PRAGMA user_version").fetchone()[0]
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        if app not in (0, APPLICATION_ID):
            raise StorageError(f"not a helpdesk_core database (SQLite application_id {app:#x})")
        if found == 0:
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables:
                raise StorageError(
                    "not a helpdesk_core database: it has tables but no helpdesk_core "
                    "schema version"
                )
        _check_version(found)
        for version in range(found + 1, SCHEMA_VERSION + 1):
            _SQLITE_STEPS[version](conn)
        if found != SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return int(found)


def _check_version(found: int) -> None:
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"the database has schema version {found}, newer than this version of "
            f"helpdesk_core supports ({SCHEMA_VERSION}); upgrade helpdesk_core",
            found=found,
            supported=SCHEMA_VERSION,
        )
    if found < 0:
        raise SchemaVersionError(
            f"the database has an invalid schema version {found}",
            found=found,
            supported=SCHEMA_VERSION,
        )


def sqlite_has_text_index(conn: sqlite3.Connection) -> bool:
    """True when the database keeps the FTS5 text index."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tickets_fts'"
    ).fetchone()
    return row is not None


def sqlite_has_word_index(conn: sqlite3.Connection) -> bool:
    """True when the database keeps the FTS5 word indexes of articles and solved tickets
    (schema version 3 made by a SQLite with FTS5)."""
    row = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
        "AND name IN ('articles_fts', 'tickets_words')"
    ).fetchone()
    return bool(row[0] == 2)


def enable_sqlite_text_index(conn: sqlite3.Connection) -> bool:
    """Add the FTS5 trigram text index (built from existing rows) unless present; return
    False when this SQLite has no FTS5 trigram tokenizer (text queries then scan)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not sqlite_has_text_index(conn):
            _script(conn, SQLITE_TEXT_INDEX)
    except sqlite3.OperationalError as exc:
        conn.execute("ROLLBACK")
        if "fts5" in str(exc) or "tokenizer" in str(exc):
            return False
        raise
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return True


# ---------------------------------------------------------------------------- PostgreSQL

POSTGRES_V1 = """
CREATE TABLE {s}.tickets (
    id text COLLATE "C" PRIMARY KEY,
    number bigint NOT NULL,
    version integer NOT NULL,
    status text NOT NULL,
    status_category text NOT NULL,
    category text,
    team text,
    tier text,
    assignee text,
    owner text,
    requester text NOT NULL,
    asset text,
    priority text NOT NULL,
    priority_rank smallint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    wake_at timestamptz,
    sla_deadline timestamptz,
    lease_owner text,
    lease_until timestamptz,
    tags text[] NOT NULL,
    snapshot json NOT NULL
);
CREATE INDEX tickets_number ON {s}.tickets (number);
CREATE INDEX tickets_requester ON {s}.tickets (requester, created_at);
CREATE INDEX tickets_assignee ON {s}.tickets (assignee, status_category);
CREATE INDEX tickets_team ON {s}.tickets (team, status_category);
CREATE INDEX tickets_created ON {s}.tickets (created_at);
CREATE INDEX tickets_updated ON {s}.tickets (updated_at);
CREATE INDEX tickets_wake ON {s}.tickets (wake_at) WHERE wake_at IS NOT NULL;
CREATE INDEX tickets_deadline ON {s}.tickets (sla_deadline) WHERE sla_deadline IS NOT NULL;
CREATE INDEX tickets_tags ON {s}.tickets USING gin (tags);
CREATE TABLE {s}.events (
    position bigserial PRIMARY KEY,
    ticket_id text COLLATE "C" NOT NULL,
    version integer NOT NULL,
    type text NOT NULL,
    at timestamptz NOT NULL,
    data json NOT NULL,
    UNIQUE (ticket_id, version)
);
CREATE TABLE {s}.outbox (
    position bigint PRIMARY KEY,
    ticket_id text COLLATE "C" NOT NULL,
    version integer NOT NULL
);
CREATE TABLE {s}.outbox_consumers (
    name text PRIMARY KEY,
    acked_upto bigint NOT NULL DEFAULT 0
);
CREATE TABLE {s}.outbox_deliveries (
    consumer text NOT NULL,
    position bigint NOT NULL,
    state text NOT NULL,
    lease_until timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    PRIMARY KEY (consumer, position)
);
CREATE TABLE {s}.requesters (
    id text COLLATE "C" PRIMARY KEY,
    email_key text,
    data json NOT NULL
);
CREATE INDEX requesters_email ON {s}.requesters (email_key);
CREATE TABLE {s}.cursors (key text PRIMARY KEY, value bigint NOT NULL);
CREATE TABLE {s}.config (id integer PRIMARY KEY CHECK (id = 1), document json NOT NULL);
CREATE SEQUENCE {s}.ticket_number;
CREATE TABLE {s}.schema_version (version integer NOT NULL);
INSERT INTO {s}.schema_version (version) VALUES (0)
"""

POSTGRES_V2 = "ALTER TABLE {s}.tickets ADD COLUMN search_text text NOT NULL DEFAULT ''"

# Articles keep the words the library split as a tsvector literal (no parser involved);
# solved and closed tickets get a generated tsvector of their search text ('simple'
# configuration: no stemming, no stopwords), used to find candidates for similar tickets.
POSTGRES_V3 = """
CREATE TABLE {s}.articles (
    id text COLLATE "C" PRIMARY KEY,
    version integer NOT NULL,
    status text NOT NULL,
    category text,
    author text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    tags text[] NOT NULL,
    problems text[] NOT NULL,
    words tsvector NOT NULL,
    data json NOT NULL
);
CREATE INDEX articles_words ON {s}.articles USING gin (words);
CREATE INDEX articles_updated ON {s}.articles (updated_at);
ALTER TABLE {s}.tickets ADD COLUMN solved_words tsvector GENERATED ALWAYS AS (
    CASE WHEN status_category IN ('solved', 'closed')
    THEN to_tsvector('simple'::regconfig, left(search_text, 100000)) END
) STORED;
CREATE INDEX tickets_solved_words ON {s}.tickets USING gin (solved_words)
    WHERE solved_words IS NOT NULL
"""


def _pg_script(cur: Any, script: str, schema: str) -> None:
    for statement in script.format(s=schema).split(";\n"):
        if statement.strip():
            cur.execute(statement)


def _pg_backfill_search(cur: Any, schema: str) -> None:
    cur.execute(f"SELECT id, snapshot::text FROM {schema}.tickets")
    updates = []
    for ticket_id, snapshot in cur.fetchall():
        data = loads(snapshot)
        text = search_text(data["subject"], data.get("description", ""))
        updates.append((escape_nul(text), ticket_id))
    if updates:
        cur.executemany(f"UPDATE {schema}.tickets SET search_text = %s WHERE id = %s", updates)


def _pg_v1(cur: Any, schema: str) -> None:
    _pg_script(cur, POSTGRES_V1, schema)


def _pg_v2(cur: Any, schema: str) -> None:
    cur.execute(POSTGRES_V2.format(s=schema))
    _pg_backfill_search(cur, schema)


def _pg_v3(cur: Any, schema: str) -> None:
    cur.execute(f"SELECT id, snapshot::text FROM {schema}.tickets")
    updates = []
    for ticket_id, snapshot in cur.fetchall():
        text = _add_known_error_key(snapshot)
        if text is not None:
            updates.append((text, ticket_id))
    if updates:
        cur.executemany(f"UPDATE {schema}.tickets SET snapshot = %s::json WHERE id = %s", updates)
    _pg_script(cur, POSTGRES_V3, schema)


def _pg_v4(cur: Any, schema: str) -> None:
    cur.execute(f"DROP TABLE {schema}.outbox")


def _pg_sqlite_only(cur: Any, schema: str) -> None:
    """Versions 5 and 6 change SQLite only; PostgreSQL records the number."""


def _pg_v7(cur: Any, schema: str) -> None:
    cur.execute(ACTIVE_LOAD_INDEX.format(table=f"{schema}.tickets"))


def _pg_v8(cur: Any, schema: str) -> None:
    cur.execute(f"ALTER TABLE {schema}.tickets ADD COLUMN closed_at timestamptz")
    cur.execute(
        f"ALTER TABLE {schema}.tickets ADD COLUMN anonymised boolean NOT NULL DEFAULT false"
    )
    cur.execute(f"SELECT id, snapshot::text FROM {schema}.tickets")
    updates = []
    for ticket_id, snapshot in cur.fetchall():
        closed, anonymised = _retention_columns(snapshot)
        if closed is not None or anonymised:
            at = None if closed is None else _instant(closed)
            updates.append((at, anonymised, ticket_id))
    if updates:
        cur.executemany(
            f"UPDATE {schema}.tickets SET closed_at = %s, anonymised = %s WHERE id = %s",
            updates,
        )
    cur.execute(RETENTION_INDEX.format(table=f"{schema}.tickets"))


_POSTGRES_STEPS: dict[int, Callable[[Any, str], None]] = {
    1: _pg_v1,
    2: _pg_v2,
    3: _pg_v3,
    4: _pg_v4,
    5: _pg_sqlite_only,
    6: _pg_sqlite_only,
    7: _pg_v7,
    8: _pg_v8,
}


def migrate_postgres(conn: Any, schema: str) -> int:
    """Bring ``schema`` (a quoted identifier) to :data:`SCHEMA_VERSION` in one transaction,
    serialized with other processes by an advisory lock; return the version it had."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"helpdesk_core:{schema}",))
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        cur.execute("SELECT to_regclass(%s)", (f"{schema}.schema_version",))
        if cur.fetchone()[0] is None:
            cur.execute("SELECT to_regclass(%s)", (f"{schema}.tickets",))
            if cur.fetchone()[0] is not None:
                raise StorageError(
                    f"schema {schema} has a tickets table but no helpdesk_core schema version"
                )
            found = 0
        else:
            cur.execute(f"SELECT version FROM {schema}.schema_version")
            row = cur.fetchone()
            found = int(row[0]) if row else 0
        _check_version(found)
        for version in range(found + 1, SCHEMA_VERSION + 1):
            _POSTGRES_STEPS[version](cur, schema)
        if found != SCHEMA_VERSION:
            cur.execute(f"UPDATE {schema}.schema_version SET version = %s", (SCHEMA_VERSION,))
    return found


def enable_postgres_text_index(conn: Any, schema: str) -> None:
    """Add a ``pg_trgm`` GIN index on ``tickets.search_text`` unless present. The
    extension must be installed in the database (``CREATE EXTENSION pg_trgm``). Takes
    the schema's migration lock: ``IF NOT EXISTS`` alone does not keep two processes
    opening the store at once from both creating the index (one would fail)."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"helpdesk_core:{schema}",))
        cur.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
            "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
        )
        row = cur.fetchone()
        if row is None:
            raise StorageError(
                "text_index=True needs the pg_trgm extension in this database: "
                "run CREATE EXTENSION pg_trgm (as a user allowed to)"
            )
        ops = f'"{row[0]}".gin_trgm_ops'
        cur.execute(
            f"CREATE INDEX IF NOT EXISTS tickets_search ON {schema}.tickets "
            f"USING gin (search_text {ops})"
        )
