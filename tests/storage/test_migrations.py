"""Schema versions: a version-1 database made by hand is migrated on open, in one
transaction; a newer one is refused with both versions named."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import sqlite3
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from helpdesk_core.codec import event_to_dict, ticket_to_dict
from helpdesk_core.errors import SchemaVersionError
from helpdesk_core.knowledge import STOPWORDS, Article, ArticleQuery
from helpdesk_core.knowledge.articles import MAX_WORD_LENGTH
from helpdesk_core.model import StatusCategory, replay
from helpdesk_core.storage import SqliteStore, Store, TicketQuery, TicketScope, migrations
from helpdesk_core.storage._articles import tsvector
from helpdesk_core.storage.base import search_text
from helpdesk_core.storage.codecs import to_micros
from helpdesk_core.testing.conformance import AGENT, T0, change, commented, moved, opened

DSN = os.environ.get("HELPDESK_TEST_POSTGRES_DSN", "")

EVENT = opened("T-1", 1, subject="Printer on FIRE", description="smoke\x00 rising", tags=("hw",))
TICKET = replay([EVENT])


def _v1_sqlite(path: Path) -> None:
    """What version 1 of the library left on disk: its schema and one ticket."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    for statement in migrations.SQLITE_V1.split(";\n"):
        if statement.strip():
            conn.execute(statement)
    conn.execute(
        "INSERT INTO tickets (id, number, version, status, status_category, requester, "
        "priority, priority_rank, created_at, updated_at, tags, snapshot) "
        "VALUES (?, 1, 1, 'new', 'new', 'r-1', 'medium', 2, ?, ?, ?, ?)",
        (
            "T-1",
            to_micros(T0),
            to_micros(T0),
            json.dumps(["hw"]),
            json.dumps(ticket_to_dict(TICKET)),
        ),
    )
    conn.execute("INSERT INTO ticket_tags (ticket_id, tag) VALUES ('T-1', 'hw')")
    conn.execute(
        "INSERT INTO events (ticket_id, version, type, at, data) VALUES ('T-1', 1, ?, ?, ?)",
        ("TicketOpened", to_micros(T0), json.dumps(event_to_dict(EVENT))),
    )
    conn.execute("INSERT INTO outbox (position, ticket_id, version) VALUES (1, 'T-1', 1)")
    conn.execute("UPDATE sequences SET value = 1")
    conn.execute("PRAGMA user_version = 1")
    conn.execute("COMMIT")
    conn.close()


def _version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def test_a_version_1_sqlite_database_is_migrated_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    _v1_sqlite(path)
    store = SqliteStore(path)
    assert _version(path) == migrations.SCHEMA_VERSION == 15
    assert store.load("T-1") == TICKET
    assert store.events("T-1") == [EVENT]
    assert [t.id for t in store.query(TicketQuery(text="printer on fire")).items] == ["T-1"]
    assert [t.id for t in store.query(TicketQuery(text="\x00 ris")).items] == ["T-1"]
    assert store.allocate_number() == 2
    assert [i.id for i in store.claim_outbox("mail", now=T0)] == ["T-1:1"]
    store.close()
    conn = sqlite3.connect(path)
    flags = conn.execute("SELECT search_text, search_nul FROM tickets").fetchall()
    conn.close()
    assert flags == [("printer on fire\nsmoke\x00 rising", 1)]


def test_a_failed_migration_leaves_the_database_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite"
    _v1_sqlite(path)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE tickets ADD COLUMN search_text TEXT NOT NULL DEFAULT ''")
        raise RuntimeError("disk full, say")

    monkeypatch.setitem(migrations._SQLITE_STEPS, 2, broken)
    with pytest.raises(RuntimeError, match="disk full"):
        SqliteStore(path)
    assert _version(path) == 1
    conn = sqlite3.connect(path)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(tickets)")]
    conn.close()
    assert "search_text" not in columns
    monkeypatch.undo()
    SqliteStore(path).close()
    assert _version(path) == migrations.SCHEMA_VERSION


def _stepped_sqlite(path: Path, version: int, histories: list[list[Any]]) -> None:
    """A file as version ``version`` of the library left it (its migration steps run by
    hand) holding tickets with these histories, their events interleaved in the log
    (round-robin: the positions of one ticket's events are not consecutive)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    for step in range(1, version + 1):
        migrations._SQLITE_STEPS[step](conn)
    for number, events in enumerate(histories, start=1):
        ticket = replay(events)
        text = search_text(ticket.subject, ticket.description)
        conn.execute(
            "INSERT INTO tickets (id, number, version, status, status_category, requester, "
            "priority, priority_rank, created_at, updated_at, tags, snapshot, search_text, "
            "search_nul) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ticket.id,
                number,
                ticket.version,
                ticket.status,
                ticket.status_category.value,
                ticket.requester,
                ticket.priority.value,
                ticket.priority.rank,
                to_micros(ticket.created_at),
                to_micros(ticket.updated_at),
                json.dumps(list(ticket.tags)),
                json.dumps(ticket_to_dict(ticket)),
                text,
                int("\x00" in text),
            ),
        )
    for round_ in range(max(len(events) for events in histories)):
        for events in histories:
            if round_ < len(events):
                event = events[round_]
                conn.execute(
                    "INSERT INTO events (ticket_id, version, type, at, data) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        event.ticket_id,
                        round_ + 1,
                        type(event).__name__,
                        to_micros(event.at),
                        json.dumps(event_to_dict(event)),
                    ),
                )
    if version >= 3:  # the word index was kept by triggers then; fill it as they would
        conn.execute(
            "INSERT INTO tickets_words (rowid, search_text) SELECT seq, search_text "
            "FROM tickets WHERE status_category IN ('solved', 'closed')"
        )
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("COMMIT")
    conn.close()


def _triggers(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
    finally:
        conn.close()


def test_a_version_4_sqlite_database_loses_the_word_index_triggers(tmp_path: Path) -> None:
    # version 4 kept the word index of solved tickets with INSERT and UPDATE triggers;
    # versions 5 and 6 drop them (the store keeps the index itself) and keep the rows
    # already indexed
    path = tmp_path / "v4.sqlite"
    solved = [EVENT, moved("T-1", "solved", StatusCategory.SOLVED, at=T0)]
    _stepped_sqlite(path, 4, [solved])
    assert {"tickets_words_insert", "tickets_words_update"} <= _triggers(path)
    store = SqliteStore(path)
    assert _version(path) == migrations.SCHEMA_VERSION == 15
    triggers = _triggers(path)
    assert not {"tickets_words_insert", "tickets_words_update"} & triggers
    assert "tickets_words_delete" in triggers
    assert [t.id for t in store.search_solved(["fire"])] == ["T-1"]
    # reopened, the ticket leaves the word index; solved again, it is back
    ticket = store.load("T-1")
    reopened = moved("T-1", "open", StatusCategory.OPEN, at=T0)
    ticket = change(store, ticket, reopened)
    assert store.search_solved(["fire"]) == []
    change(store, ticket, moved("T-1", "solved", StatusCategory.SOLVED, at=T0))
    assert [t.id for t in store.search_solved(["fire"])] == ["T-1"]
    store.close()


def test_a_version_5_sqlite_database_gets_its_event_chains(tmp_path: Path) -> None:
    # version 6 replaces the (ticket, version) index of events by a chain: each event
    # row points at the ticket's previous event, each ticket row at its latest
    path = tmp_path / "v5.sqlite"
    histories = [
        [opened(f"T-{n}", n, subject=f"case {n}")]
        + [commented(f"T-{n}", f"note {k}", at=T0) for k in range(n)]
        for n in (1, 2, 3)
    ]
    _stepped_sqlite(path, 5, histories)
    store = SqliteStore(path)
    assert _version(path) == migrations.SCHEMA_VERSION == 15
    for events in histories:
        ticket_id = events[0].ticket_id
        assert store.events(ticket_id) == events
        assert store.events(ticket_id, after_version=1) == events[1:]
        assert store.load(ticket_id) == replay(events)
    conn = sqlite3.connect(path)
    indexes = {row[1] for row in conn.execute("PRAGMA index_list(events)")}
    last = dict(conn.execute("SELECT id, last_event FROM tickets").fetchall())
    chain = conn.execute("SELECT position, ticket_id, version, prev FROM events").fetchall()
    conn.close()
    assert indexes == set()
    by_ticket: dict[str, list[tuple[int, int, int | None]]] = {}
    for position, ticket_id, version, prev in chain:
        by_ticket.setdefault(ticket_id, []).append((version, position, prev))
    for ticket_id, rows in by_ticket.items():
        rows.sort()
        assert [prev for _, _, prev in rows] == [0] + [p for _, p, _ in rows[:-1]]
        assert last[ticket_id] == rows[-1][1]
    # the log goes on after the highest position; items are found by their ids
    ticket = change(store, store.load("T-2"), commented("T-2", "after", at=T0))
    assert store.events("T-2")[-1] == commented("T-2", "after", at=T0)
    assert ticket.version == 4
    items = store.claim_outbox("mail", now=T0, limit=100)
    assert [i.position for i in items] == list(range(1, 11))
    assert items[-1].id == "T-2:4"
    store.ack_outbox("mail", [i.id for i in items])
    assert store.claim_outbox("mail", now=T0) == []
    store.purge("T-3", expected_version=4)
    assert store.events("T-3") == []
    assert store.events("T-1") == histories[0]
    store.close()


def test_a_process_on_the_older_schema_cannot_write_an_event_off_the_chain(
    tmp_path: Path,
) -> None:
    # a process still running version 5 of the library after another one migrated the
    # file writes events without ``prev``: the NOT NULL column refuses them, so its whole
    # command rolls back instead of leaving an event no chain reaches
    path = tmp_path / "desk.sqlite"
    _stepped_sqlite(path, 5, [[EVENT]])
    SqliteStore(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        with pytest.raises(sqlite3.IntegrityError, match=r"NOT NULL.*prev"):
            conn.execute(
                "INSERT INTO events (position, ticket_id, version, type, at, data) "
                "VALUES (2, 'T-1', 2, 'CommentAdded', 0, '{}')"
            )
    finally:
        conn.close()


def test_agent_loads_read_the_index_of_active_assigned_tickets(tmp_path: Path) -> None:
    from helpdesk_core.storage import _sql

    path = tmp_path / "loads.sqlite"
    SqliteStore(path).close()
    _as_version(path, 6, "DROP INDEX tickets_active_load")  # as a version 6 file has it
    SqliteStore(path).close()  # migrates to 15
    conn = sqlite3.connect(path)
    try:
        plan = conn.execute("EXPLAIN QUERY PLAN " + _sql.SELECT_LOADS).fetchall()
        assert "tickets_active_load" in str(plan)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 15
    finally:
        conn.close()


def test_a_newer_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    SqliteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 16")
    conn.close()
    with pytest.raises(SchemaVersionError, match=r"schema version 16.*supports \(15\)") as info:
        SqliteStore(path)
    assert (info.value.found, info.value.supported) == (16, 15)


def _open(path: str, out: Any) -> None:
    store = SqliteStore(path)
    out.put(store.allocate_number())
    store.close()


def test_processes_opening_a_fresh_file_together_agree(tmp_path: Path) -> None:
    path = str(tmp_path / "fresh.sqlite")
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    workers = [context.Process(target=_open, args=(path, out)) for _ in range(4)]
    for worker in workers:
        worker.start()
    numbers = sorted(out.get(timeout=60) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert numbers == [1, 2, 3, 4]
    assert _version(Path(path)) == migrations.SCHEMA_VERSION


@pytest.mark.postgres
@pytest.mark.skipif(not DSN, reason="set HELPDESK_TEST_POSTGRES_DSN to run PostgreSQL tests")
def test_a_version_1_postgres_schema_is_migrated_and_a_newer_one_refused() -> None:
    import psycopg

    from helpdesk_core.storage import PostgresStore

    schema = f"hd_mig_{os.getpid()}"
    quoted = f'"{schema}"'
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")
        conn.execute(f"CREATE SCHEMA {quoted}")
        with conn.transaction():
            for statement in migrations.POSTGRES_V1.format(s=quoted).split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(
                f"INSERT INTO {quoted}.tickets (id, number, version, status, status_category, "
                "requester, priority, priority_rank, created_at, updated_at, tags, snapshot) "
                "VALUES ('T-1', 1, 1, 'new', 'new', 'r-1', 'medium', 2, %s, %s, %s, %s)",
                (T0, T0, ["hw"], json.dumps(ticket_to_dict(TICKET))),
            )
            conn.execute(
                f"INSERT INTO {quoted}.events (ticket_id, version, type, at, data) "
                "VALUES ('T-1', 1, 'TicketOpened', %s, %s)",
                (T0, json.dumps(event_to_dict(EVENT))),
            )
            conn.execute(f"INSERT INTO {quoted}.outbox VALUES (1, 'T-1', 1)")
            conn.execute(f"UPDATE {quoted}.schema_version SET version = 1")
    try:
        store = PostgresStore(DSN, schema=schema)
        assert store.load("T-1") == TICKET
        assert [t.id for t in store.query(TicketQuery(text="FIRE\nsmoke\x00")).items] == ["T-1"]
        store.close()
        with psycopg.connect(DSN, autocommit=True) as conn:
            row = conn.execute(f"SELECT version FROM {quoted}.schema_version").fetchone()
            assert row == (migrations.SCHEMA_VERSION,)
            indexes = conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = %s", (schema,)
            ).fetchall()
            assert ("tickets_active_load",) in indexes
            assert ("tickets_retention",) in indexes
            assert ("tickets_organization",) in indexes
            assert ("tickets_owner",) in indexes
            assert ("tickets_asset",) in indexes
            assert ("tickets_links",) in indexes
            assert ("tickets_queued",) in indexes
            assert ("tickets_type",) in indexes
            conn.execute(f"UPDATE {quoted}.schema_version SET version = 16")
        with pytest.raises(SchemaVersionError, match="16") as info:
            PostgresStore(DSN, schema=schema)
        assert (info.value.found, info.value.supported) == (16, migrations.SCHEMA_VERSION)
    finally:
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")


def test_a_snapshot_stored_before_a_ticket_field_existed_decodes_as_that_field_says() -> None:
    from helpdesk_core.storage.codecs import decode_ticket, encode_ticket

    ticket = replay([opened("T-1", 1), commented("T-1", "x", at=T0)])
    data = json.loads(encode_ticket(ticket))
    assert data.pop("tier_inactive") == []
    assert decode_ticket(json.dumps(data)) == ticket


def _as_version(path: Path, version: int, *statements: str | tuple[str, str]) -> None:
    """Take a current SQLite file back to ``version`` (7 or later) as far as these tests
    need: run ``statements`` (text, or text and one parameter), drop the columns of the
    versions after it."""
    conn = sqlite3.connect(path)
    try:
        for statement in statements:
            if isinstance(statement, tuple):
                conn.execute(statement[0], (statement[1],))
            else:
                conn.execute(statement)
        if version < 15:
            _drop_solved_words(conn)
        if version < 14:
            _drop_type(conn)
        if version < 13:
            _drop_queued(conn)
        if version < 12:
            _drop_links(conn)
            conn.execute("DROP TABLE ticket_links")
        if version < 10:
            _drop_organization_column(conn)
        if version < 8:
            _drop_retention_columns(conn)
        conn.execute(f"PRAGMA user_version = {version}")
        conn.commit()
    finally:
        conn.close()


#: Version 14's word index of solved tickets: unicode61 over the case-folded search text.
_V14_TICKET_WORDS = """
CREATE VIRTUAL TABLE tickets_words USING fts5(
    search_text, content='tickets', content_rowid='seq',
    tokenize='unicode61 remove_diacritics 0'
);
CREATE TRIGGER tickets_words_delete AFTER DELETE ON tickets
WHEN old.status_category IN ('solved', 'closed') BEGIN
    INSERT INTO tickets_words (tickets_words, rowid, search_text)
        VALUES ('delete', old.seq, old.search_text);
END;
INSERT INTO tickets_words (rowid, search_text)
    SELECT seq, search_text FROM tickets WHERE status_category IN ('solved', 'closed')
"""


def _drop_solved_words(conn: Any) -> None:
    """Take a version 15 SQLite file back to version 14's word index of solved tickets
    (the articles' words stay as the current library splits them)."""
    indexed = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'tickets_words'"
    ).fetchone()
    if indexed:
        conn.execute("DROP TRIGGER tickets_words_delete")
        conn.execute("DROP TABLE tickets_words")
    conn.execute("ALTER TABLE tickets DROP COLUMN solved_words")
    if indexed:
        migrations._script(conn, _V14_TICKET_WORDS)


def _drop_type(conn: Any, table: str = "tickets") -> None:
    """Take a version 14 tickets table back to version 13's columns."""
    conn.execute("DROP INDEX IF EXISTS tickets_type")
    conn.execute(f"ALTER TABLE {table} DROP COLUMN type")


def _drop_queued(conn: Any, table: str = "tickets") -> None:
    """Take a version 13 tickets table back to version 12's columns."""
    conn.execute("DROP INDEX IF EXISTS tickets_queued")
    conn.execute(f"ALTER TABLE {table} DROP COLUMN queued_at")


def _drop_links(conn: Any, table: str = "tickets") -> None:
    """Take a version 12 tickets table back to version 11's columns (a SQLite file also
    has the ``ticket_links`` table to drop)."""
    conn.execute(f"ALTER TABLE {table} DROP COLUMN links")


def _drop_organization_column(conn: Any, table: str = "tickets") -> None:
    """Take a version 10 tickets table back to version 9's columns."""
    conn.execute("DROP INDEX IF EXISTS tickets_organization")
    conn.execute(f"ALTER TABLE {table} DROP COLUMN organization")


def _drop_retention_columns(conn: Any) -> None:
    """Take a version 8 tickets table back to version 7's columns."""
    conn.execute("DROP INDEX IF EXISTS tickets_retention")
    conn.execute("ALTER TABLE tickets DROP COLUMN closed_at")
    conn.execute("ALTER TABLE tickets DROP COLUMN anonymised")


def _retention_histories() -> dict[str, list[Any]]:
    """T-1 closed, T-2 closed then anonymised, T-3 solved (not closed), T-4 open but
    anonymised (an erasure)."""
    from helpdesk_core.model import Actor, TicketAnonymised

    def anonymised(ticket_id: str) -> TicketAnonymised:
        return TicketAnonymised(ticket_id=ticket_id, at=T0, by=Actor.system("retention"))

    closed = [moved(f"T-{n}", "closed", StatusCategory.CLOSED, at=T0) for n in (1, 2)]
    return {
        "T-1": [opened("T-1", 1), closed[0]],
        "T-2": [opened("T-2", 2), closed[1], anonymised("T-2")],
        "T-3": [opened("T-3", 3), moved("T-3", "solved", StatusCategory.SOLVED, at=T0)],
        "T-4": [opened("T-4", 4), anonymised("T-4")],
    }


def _retention_rows(rows: list[tuple[Any, ...]]) -> dict[str, tuple[Any, bool]]:
    return {ticket_id: (closed, bool(flag)) for ticket_id, closed, flag in rows}


def test_version_8_fills_the_retention_columns_of_stored_tickets(tmp_path: Path) -> None:
    path = tmp_path / "v7.sqlite"
    store = SqliteStore(path)
    for ticket_id, events in _retention_histories().items():
        store.append(ticket_id, expected_version=0, events=events, snapshot=replay(events))
    store.close()
    read = "SELECT id, closed_at, anonymised FROM tickets ORDER BY id"
    conn = sqlite3.connect(path)
    try:
        written = _retention_rows(conn.execute(read).fetchall())
    finally:
        conn.close()
    _as_version(path, 7)
    assert written == {
        "T-1": (to_micros(T0), False),
        "T-2": (to_micros(T0), True),
        "T-3": (None, False),
        "T-4": (None, True),
    }
    store = SqliteStore(path)  # migrates to 15
    conn = sqlite3.connect(path)
    try:
        assert _retention_rows(conn.execute(read).fetchall()) == written
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM tickets WHERE status_category = 'closed' "
            "AND closed_at < ? AND anonymised = 0",
            (to_micros(T0) + 1,),
        ).fetchall()
        assert "tickets_retention" in str(plan)
    finally:
        conn.close()
    query = TicketQuery(closed_before=T0 + timedelta(microseconds=1), anonymised=False)
    assert [t.id for t in store.query(query).items] == ["T-1"]
    store.close()


@pytest.mark.postgres
@pytest.mark.skipif(not DSN, reason="set HELPDESK_TEST_POSTGRES_DSN to run PostgreSQL tests")
def test_version_8_fills_the_retention_columns_in_postgres() -> None:
    import psycopg

    from helpdesk_core.storage import PostgresStore

    schema = f"hd_v8_{os.getpid()}"
    quoted = f'"{schema}"'
    store = PostgresStore(DSN, schema=schema)
    try:
        for ticket_id, events in _retention_histories().items():
            store.append(ticket_id, expected_version=0, events=events, snapshot=replay(events))
        store.close()
        read = f"SELECT id, closed_at, anonymised FROM {quoted}.tickets ORDER BY id"
        with psycopg.connect(DSN, autocommit=True) as conn:
            written = _retention_rows(conn.execute(read).fetchall())
            _drop_type(conn, f"{quoted}.tickets")
            _drop_queued(conn, f"{quoted}.tickets")
            _drop_links(conn, f"{quoted}.tickets")
            _drop_organization_column(conn, f"{quoted}.tickets")
            conn.execute(f"ALTER TABLE {quoted}.tickets DROP COLUMN closed_at")
            conn.execute(f"ALTER TABLE {quoted}.tickets DROP COLUMN anonymised")
            conn.execute(f"UPDATE {quoted}.schema_version SET version = 7")
        assert written == {
            "T-1": (T0, False), "T-2": (T0, True), "T-3": (None, False), "T-4": (None, True)
        }
        store = PostgresStore(DSN, schema=schema)  # migrates to 15
        with psycopg.connect(DSN, autocommit=True) as conn:
            assert _retention_rows(conn.execute(read).fetchall()) == written
        query = TicketQuery(closed_before=T0 + timedelta(microseconds=1), anonymised=True)
        assert [t.id for t in store.query(query).items] == ["T-2"]
        store.close()
    finally:
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")


def test_version_8_reads_an_instant_stored_without_an_offset_as_utc(tmp_path: Path) -> None:
    path = tmp_path / "naive.sqlite"
    store = SqliteStore(path)
    events = _retention_histories()["T-1"]
    store.append("T-1", expected_version=0, events=events, snapshot=replay(events))
    store.close()
    conn = sqlite3.connect(path)
    try:
        snapshot = json.loads(conn.execute("SELECT snapshot FROM tickets").fetchone()[0])
    finally:
        conn.close()
    snapshot["closed_at"] = T0.replace(tzinfo=None).isoformat()  # an old writer's
    snapshot["anonymised"] = "false"  # hand-edited: not true
    _as_version(path, 7, ("UPDATE tickets SET snapshot = ?", json.dumps(snapshot)))
    SqliteStore(path).close()  # migrates to 15
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT closed_at, anonymised FROM tickets").fetchone()
    finally:
        conn.close()
    assert row == (to_micros(T0), 0)


@pytest.mark.postgres
@pytest.mark.skipif(not DSN, reason="set HELPDESK_TEST_POSTGRES_DSN to run PostgreSQL tests")
def test_version_9_gives_postgres_the_librarys_solved_words() -> None:
    import psycopg

    from helpdesk_core.storage import PostgresStore

    schema = f"hd_v9_{os.getpid()}"
    quoted = f'"{schema}"'
    store = PostgresStore(DSN, schema=schema)
    try:
        events = [
            opened("T-1", 1, subject="vpn2.example.org unreachable"),
            moved("T-1", "solved", StatusCategory.SOLVED, at=T0),
        ]
        store.append("T-1", expected_version=0, events=events, snapshot=replay(events))
        store.close()
        with psycopg.connect(DSN, autocommit=True) as conn:  # as version 8 left it
            _drop_type(conn, f"{quoted}.tickets")
            _drop_queued(conn, f"{quoted}.tickets")
            _drop_links(conn, f"{quoted}.tickets")
            _drop_organization_column(conn, f"{quoted}.tickets")
            conn.execute(f"ALTER TABLE {quoted}.tickets DROP COLUMN solved_words")
            conn.execute(
                f"ALTER TABLE {quoted}.tickets ADD COLUMN solved_words tsvector GENERATED "
                "ALWAYS AS (CASE WHEN status_category IN ('solved', 'closed') "
                "THEN to_tsvector('simple'::regconfig, left(search_text, 100000)) END) STORED"
            )
            conn.execute(f"UPDATE {quoted}.schema_version SET version = 8")
        store = PostgresStore(DSN, schema=schema)  # migrates to 15
        assert [t.id for t in store.search_solved(["example"])] == ["T-1"]
        more = [
            opened("T-2", 2, subject="mail to bob@example.com bounces"),
            moved("T-2", "solved", StatusCategory.SOLVED, at=T0),
        ]
        store.append("T-2", expected_version=0, events=more, snapshot=replay(more))
        assert [t.id for t in store.search_solved(["bob", "bounces"])] == ["T-2"]
        store.close()
    finally:
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")


def _organization_histories() -> dict[str, list[Any]]:
    """T-1 and T-3 opened for Acme (T-3's name holds a NUL), T-2 for no organization."""
    return {
        "T-1": [opened("T-1", 1, organization="Acme")],
        "T-2": [opened("T-2", 2, requester="r-2")],
        "T-3": [opened("T-3", 3, requester="r-3", organization="Ac\x00me")],
    }


def test_version_10_fills_the_organization_of_stored_tickets(tmp_path: Path) -> None:
    path = tmp_path / "v9.sqlite"
    store = SqliteStore(path)
    for ticket_id, events in _organization_histories().items():
        store.append(ticket_id, expected_version=0, events=events, snapshot=replay(events))
    store.close()
    _as_version(path, 9)
    store = SqliteStore(path)  # migrates to 15
    read = "SELECT id, organization FROM tickets ORDER BY id"
    conn = sqlite3.connect(path)
    try:
        assert conn.execute(read).fetchall() == [
            ("T-1", "Acme"), ("T-2", None), ("T-3", "Ac\x00me")
        ]
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM tickets WHERE organization = ? "
            "ORDER BY created_at",
            ("Acme",),
        ).fetchall()
        assert "tickets_organization" in str(plan)
    finally:
        conn.close()
    assert [t.id for t in store.query(TicketQuery(organization="Acme")).items] == ["T-1"]
    assert [t.id for t in store.query(TicketQuery(organization="Ac\x00me")).items] == ["T-3"]
    store.close()


@pytest.mark.postgres
@pytest.mark.skipif(not DSN, reason="set HELPDESK_TEST_POSTGRES_DSN to run PostgreSQL tests")
def test_version_10_fills_the_organization_in_postgres() -> None:
    import psycopg

    from helpdesk_core.storage import PostgresStore, TicketScope

    schema = f"hd_v10_{os.getpid()}"
    quoted = f'"{schema}"'
    store = PostgresStore(DSN, schema=schema)
    try:
        for ticket_id, events in _organization_histories().items():
            store.append(ticket_id, expected_version=0, events=events, snapshot=replay(events))
        store.close()
        read = f"SELECT id, organization FROM {quoted}.tickets ORDER BY id"
        with psycopg.connect(DSN, autocommit=True) as conn:
            written = conn.execute(read).fetchall()
            _drop_type(conn, f"{quoted}.tickets")
            _drop_queued(conn, f"{quoted}.tickets")
            _drop_links(conn, f"{quoted}.tickets")
            _drop_organization_column(conn, f"{quoted}.tickets")
            conn.execute(f"UPDATE {quoted}.schema_version SET version = 9")
        store = PostgresStore(DSN, schema=schema)  # migrates to 15
        with psycopg.connect(DSN, autocommit=True) as conn:
            assert conn.execute(read).fetchall() == written
            assert [row[0] for row in written] == ["T-1", "T-2", "T-3"]
            assert written[1][1] is None
        scope = TicketScope(requester="r-2", organization="Ac\x00me")
        assert [t.id for t in store.query(TicketQuery(scope=scope)).items] == ["T-2", "T-3"]
        store.close()
    finally:
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")


_AGENT_VIEW = TicketQuery(
    scope=TicketScope(teams=("network",), unrouted=True, agent="a-1"), order_by="-updated_at"
)
_VERSION_11_INDEXES = ("tickets_owner", "tickets_asset", "tickets_active")


def _sqlite_plan(store: SqliteStore, query: TicketQuery, *, page: bool = False) -> str:
    """The plan of the count (or, with ``page``, of the page) ``store.query`` reads."""
    where, params = store._builder.where(query)
    sql = f"SELECT count(*) FROM tickets WHERE {where}"
    if page:
        sql = f"SELECT snapshot FROM tickets WHERE {where} ORDER BY created_at, id LIMIT 50"
    return str(store._conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall())


def test_version_11_indexes_serve_agent_views_active_lists_and_assets(tmp_path: Path) -> None:
    path = tmp_path / "v10.sqlite"
    store = SqliteStore(path)
    events = [opened("T-1", 1, asset="laptop-7")]
    store.append("T-1", expected_version=0, events=events, snapshot=replay(events))
    store.close()
    _as_version(path, 10, *(f"DROP INDEX {name}" for name in _VERSION_11_INDEXES))
    store = SqliteStore(path)  # migrates to 15
    try:
        assert _version(path) == 15
        # each part of the agent's OR has an index (owner had none: every ticket was read)
        assert "MULTI-INDEX OR" in _sqlite_plan(store, _AGENT_VIEW)
        assert "tickets_owner" in _sqlite_plan(store, _AGENT_VIEW)
        assert "tickets_active" in _sqlite_plan(store, TicketQuery(active_only=True), page=True)
        facet = TicketQuery(status_category=("solved", "closed"), asset="laptop-7")
        assert "tickets_asset" in _sqlite_plan(store, facet)
        assert [t.id for t in store.query(TicketQuery(asset="laptop-7")).items] == ["T-1"]
        assert [t.id for t in store.query(TicketQuery(active_only=True)).items] == ["T-1"]
    finally:
        store.close()


def test_a_list_of_active_categories_reads_the_active_index(tmp_path: Path) -> None:
    """``status_category=("new", "open")`` asks for active tickets as ``active_only`` does:
    it reads the partial index of active tickets, not every ticket of the desk."""
    store = SqliteStore(tmp_path / "desk.sqlite")
    try:
        for n in (1, 2, 3):
            events = [opened(f"T-{n}", n)]
            store.append(f"T-{n}", expected_version=0, events=events, snapshot=replay(events))
        ticket = store.load("T-2")
        change(store, ticket, moved("T-2", "solved", StatusCategory.SOLVED, at=T0))
        for categories in (("open",), ("new", "open", "pending")):
            query = TicketQuery(status_category=categories)
            assert "tickets_active" in _sqlite_plan(store, query, page=True), categories
        assert [t.id for t in store.query(TicketQuery(status_category="new")).items] == [
            "T-1", "T-3"
        ]
        # a category that is not active keeps its own plan and finds its tickets
        solved = TicketQuery(status_category=("new", "solved"))
        assert "tickets_active" not in _sqlite_plan(store, solved, page=True)
        assert [t.id for t in store.query(solved).items] == ["T-1", "T-2", "T-3"]
    finally:
        store.close()


@pytest.mark.postgres
@pytest.mark.skipif(not DSN, reason="set HELPDESK_TEST_POSTGRES_DSN to run PostgreSQL tests")
def test_version_11_adds_the_owner_asset_and_active_indexes_in_postgres() -> None:
    import psycopg

    from helpdesk_core.storage import PostgresStore

    schema = f"hd_v11_{os.getpid()}"
    quoted = f'"{schema}"'
    store = PostgresStore(DSN, schema=schema)
    try:
        store.close()
        with psycopg.connect(DSN, autocommit=True) as conn:
            for name in _VERSION_11_INDEXES:
                conn.execute(f"DROP INDEX {quoted}.{name}")
            _drop_type(conn, f"{quoted}.tickets")
            _drop_queued(conn, f"{quoted}.tickets")
            _drop_links(conn, f"{quoted}.tickets")
            conn.execute(f"UPDATE {quoted}.schema_version SET version = 10")
        store = PostgresStore(DSN, schema=schema)  # migrates to 15
        store.close()
        with psycopg.connect(DSN, autocommit=True) as conn:
            found = conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = %s "
                "AND indexname = ANY(%s) ORDER BY indexname",
                (schema, list(_VERSION_11_INDEXES)),
            ).fetchall()
            assert found == [("tickets_active",), ("tickets_asset",), ("tickets_owner",)]
            version = conn.execute(f"SELECT version FROM {quoted}.schema_version").fetchone()
            assert version == (15,)
    finally:
        store.close()
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")


def _linking_histories() -> dict[str, list[Any]]:
    """P-1 links to nothing (its subject names "other"); T-2 links to P-1 and, twice in
    two ways, to P-3; T-3 to P-1; T-4 to P-9, which is not stored."""
    from helpdesk_core.testing.conformance import linked

    return {
        "P-1": [opened("P-1", 1, subject='The "other" gateway')],
        "T-2": [
            opened("T-2", 2),
            linked("T-2", "P-1"),
            linked("T-2", "P-3", "duplicate_of"),
            linked("T-2", "P-3", "follow_up_of"),
        ],
        "T-3": [opened("T-3", 3), linked("T-3", "P-1", "follow_up_of")],
        "T-4": [opened("T-4", 4), linked("T-4", "P-9")],
    }


def _check_links_to(store: Any) -> None:
    """What a version 12 store answers of :func:`_linking_histories`, also after T-2's
    link to P-1 is dropped (the rows the migration wrote are rewritten)."""
    from helpdesk_core.privacy import LinkedTicketPurged

    def linking(*ids: str) -> list[str]:
        return [t.id for t in store.query(TicketQuery(links_to=ids, order_by="number")).items]

    assert linking("P-1") == ["T-2", "T-3"]
    assert linking("P-3", "P-9") == ["T-2", "T-4"]
    assert linking("T-2") == []
    dropped = LinkedTicketPurged(ticket_id="T-2", at=T0, by=AGENT, other="P-1")
    change(store, store.load("T-2"), dropped)
    assert linking("P-1") == ["T-3"]
    assert linking("P-3") == ["T-2"]


def test_version_12_fills_the_links_of_stored_tickets(tmp_path: Path) -> None:
    path = tmp_path / "v11.sqlite"
    store = SqliteStore(path)
    for ticket_id, events in _linking_histories().items():
        store.append(ticket_id, expected_version=0, events=events, snapshot=replay(events))
    store.close()
    read_rows = "SELECT ticket_id, other FROM ticket_links ORDER BY ticket_id, other"
    read_column = "SELECT id, links FROM tickets ORDER BY id"
    conn = sqlite3.connect(path)
    try:
        rows, column = conn.execute(read_rows).fetchall(), conn.execute(read_column).fetchall()
    finally:
        conn.close()
    assert rows == [("T-2", "P-1"), ("T-2", "P-3"), ("T-3", "P-1"), ("T-4", "P-9")]
    assert column == [
        ("P-1", None), ("T-2", '["P-1","P-3"]'), ("T-3", '["P-1"]'), ("T-4", '["P-9"]')
    ]
    _as_version(path, 11)
    store = SqliteStore(path)  # migrates to 15
    conn = sqlite3.connect(path)
    try:
        assert conn.execute(read_rows).fetchall() == rows
        assert conn.execute(read_column).fetchall() == column
    finally:
        conn.close()
    try:
        assert _version(path) == 15
        plan = _sqlite_plan(store, TicketQuery(links_to=("P-1", "P-3")), page=True)
        assert "ticket_links_other" in plan
        _check_links_to(store)
    finally:
        store.close()


@pytest.mark.postgres
@pytest.mark.skipif(not DSN, reason="set HELPDESK_TEST_POSTGRES_DSN to run PostgreSQL tests")
def test_version_12_fills_the_links_in_postgres() -> None:
    import psycopg

    from helpdesk_core.storage import PostgresStore

    schema = f"hd_v12_{os.getpid()}"
    quoted = f'"{schema}"'
    store = PostgresStore(DSN, schema=schema)
    try:
        for ticket_id, events in _linking_histories().items():
            store.append(ticket_id, expected_version=0, events=events, snapshot=replay(events))
        store.close()
        read = f"SELECT id, links FROM {quoted}.tickets ORDER BY id"
        with psycopg.connect(DSN, autocommit=True) as conn:
            written = conn.execute(read).fetchall()
            _drop_type(conn, f"{quoted}.tickets")
            _drop_queued(conn, f"{quoted}.tickets")
            _drop_links(conn, f"{quoted}.tickets")  # and its index
            conn.execute(f"UPDATE {quoted}.schema_version SET version = 11")
        assert written == [
            ("P-1", []), ("T-2", ["P-1", "P-3"]), ("T-3", ["P-1"]), ("T-4", ["P-9"])
        ]
        store = PostgresStore(DSN, schema=schema)  # migrates to 15
        with psycopg.connect(DSN, autocommit=True) as conn:
            assert conn.execute(read).fetchall() == written
            index = conn.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = %s",
                (schema, "tickets_links"),
            ).fetchone()
            assert index is not None
            assert "gin (links)" in index[0] and "WHERE (links <> '{}'::text[])" in index[0]
            version = conn.execute(f"SELECT version FROM {quoted}.schema_version").fetchone()
            assert version == (15,)
        _check_links_to(store)
        store.close()
    finally:
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")


_DRAIN = TicketQuery(team="desk", unassigned=True, active_only=True, queued=True, limit=1000)


def _queueing_histories() -> dict[str, list[Any]]:
    """In team desk: T-1 waits in the queue (since T0 + 1 minute, queued twice), T-2 waited
    and was assigned, T-3 never waited (its subject names the snapshot key), T-4 waits but
    was closed; T-5 waits in team ops."""
    from helpdesk_core.model import Assigned, Changes, TicketRouted
    from helpdesk_core.testing.conformance import queued

    def in_team(ticket_id: str, number: int, team: str, **fields: Any) -> list[Any]:
        changes = Changes(team=team)
        routed = TicketRouted(ticket_id=ticket_id, at=T0, by=AGENT, changes=changes)
        return [opened(ticket_id, number, **fields), routed]

    minute = timedelta(minutes=1)
    return {
        "T-1": [
            *in_team("T-1", 1, "desk"),
            queued("T-1", at=T0 + minute),
            queued("T-1", at=T0 + 2 * minute, strategy="skills_based"),
        ],
        "T-2": [
            *in_team("T-2", 2, "desk"),
            queued("T-2", at=T0 + minute),
            Assigned(ticket_id="T-2", at=T0 + 2 * minute, by=AGENT, assignee="a-1"),
        ],
        "T-3": in_team("T-3", 3, "desk", subject='"queued_at": "2026-01-01T00:00:00+00:00"'),
        "T-4": [
            *in_team("T-4", 4, "desk"),
            queued("T-4", at=T0 + minute),
            moved("T-4", "closed", StatusCategory.CLOSED, at=T0 + 2 * minute),
        ],
        "T-5": [*in_team("T-5", 5, "ops"), queued("T-5", at=T0 + 3 * minute)],
    }


def _check_queued(store: Any) -> None:
    """What a version 13 store answers of :func:`_queueing_histories`, also after T-1 is
    assigned (the column the migration wrote is rewritten)."""
    from helpdesk_core.model import Assigned

    def waiting(**filters: Any) -> list[str]:
        query = TicketQuery(queued=True, order_by="number", **filters)
        return [t.id for t in store.query(query).items]

    assert waiting() == ["T-1", "T-4", "T-5"]
    assert [t.id for t in store.query(_DRAIN).items] == ["T-1"]
    assigned = Assigned(ticket_id="T-1", at=T0 + timedelta(hours=1), by=AGENT, assignee="a-2")
    change(store, store.load("T-1"), assigned)
    assert waiting() == ["T-4", "T-5"]
    assert store.query(_DRAIN).items == ()


def test_version_13_fills_the_queued_at_of_stored_tickets(tmp_path: Path) -> None:
    path = tmp_path / "v12.sqlite"
    store = SqliteStore(path)
    for ticket_id, events in _queueing_histories().items():
        store.append(ticket_id, expected_version=0, events=events, snapshot=replay(events))
    store.close()
    read = "SELECT id, queued_at FROM tickets ORDER BY id"
    conn = sqlite3.connect(path)
    try:
        written = conn.execute(read).fetchall()
    finally:
        conn.close()
    minute = 60_000_000
    assert written == [
        ("T-1", to_micros(T0) + minute),
        ("T-2", None),
        ("T-3", None),
        ("T-4", to_micros(T0) + minute),
        ("T-5", to_micros(T0) + 3 * minute),
    ]
    _as_version(path, 12)
    conn = sqlite3.connect(path)
    try:
        assert "queued_at" not in {row[1] for row in conn.execute("PRAGMA table_info(tickets)")}
    finally:
        conn.close()
    store = SqliteStore(path)  # migrates to 15
    conn = sqlite3.connect(path)
    try:
        assert conn.execute(read).fetchall() == written
    finally:
        conn.close()
    try:
        assert _version(path) == 15
        # a drain's page and count read the index of waiting tickets
        assert "tickets_queued (team=? AND queued_at>?)" in _sqlite_plan(store, _DRAIN, page=True)
        assert "tickets_queued (team=? AND queued_at>?)" in _sqlite_plan(store, _DRAIN)
        most_urgent = attrs.evolve(_DRAIN, priority="critical")
        assert "tickets_queued" in _sqlite_plan(store, most_urgent, page=True)
        _check_queued(store)
    finally:
        store.close()


@pytest.mark.postgres
@pytest.mark.skipif(not DSN, reason="set HELPDESK_TEST_POSTGRES_DSN to run PostgreSQL tests")
def test_version_13_fills_the_queued_at_in_postgres() -> None:
    import psycopg

    from helpdesk_core.storage import PostgresStore

    schema = f"hd_v13_{os.getpid()}"
    quoted = f'"{schema}"'
    store = PostgresStore(DSN, schema=schema)
    try:
        for ticket_id, events in _queueing_histories().items():
            store.append(ticket_id, expected_version=0, events=events, snapshot=replay(events))
        store.close()
        read = f"SELECT id, queued_at FROM {quoted}.tickets ORDER BY id"
        with psycopg.connect(DSN, autocommit=True) as conn:
            written = conn.execute(read).fetchall()
            _drop_type(conn, f"{quoted}.tickets")
            _drop_queued(conn, f"{quoted}.tickets")  # and its index
            conn.execute(f"UPDATE {quoted}.schema_version SET version = 12")
        minute = timedelta(minutes=1)
        assert written == [
            ("T-1", T0 + minute), ("T-2", None), ("T-3", None), ("T-4", T0 + minute),
            ("T-5", T0 + 3 * minute),
        ]  # fmt: skip
        store = PostgresStore(DSN, schema=schema)  # migrates to 15
        with psycopg.connect(DSN, autocommit=True) as conn:
            assert conn.execute(read).fetchall() == written
            index = conn.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = %s",
                (schema, "tickets_queued"),
            ).fetchone()
            assert index is not None
            assert "(team, queued_at)" in index[0]
            assert "queued_at IS NOT NULL" in index[0] and "assignee IS NULL" in index[0]
            version = conn.execute(f"SELECT version FROM {quoted}.schema_version").fetchone()
            assert version == (15,)
            # a drain's query reads the index (PostgreSQL picks it on any data once a
            # sequential scan is ruled out: the plan proves the index serves it)
            where, params = store._builder.where(_DRAIN)  # type: ignore[attr-defined]
            conn.execute(f"SET search_path = {quoted}")
            conn.execute("SET enable_seqscan = off")
            sql = f"SELECT id FROM tickets WHERE {where} ORDER BY created_at, id LIMIT 1000"
            plan = _explain_with_only(conn, schema, {"tickets_queued"}, sql, params)
            assert "tickets_queued" in plan, plan
        _check_queued(store)
        store.close()
    finally:
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")


def _drain_statements(store: Any, query: TicketQuery, at: Any) -> list[tuple[str, tuple[Any, ...]]]:
    """The statements (qmark) a store reads ``query``'s page with: from the start, and
    after a row queued at ``at`` (the next page of a long list)."""
    from helpdesk_core.storage import _sql as q

    where, params = store._builder.where(query)
    order = q.order_sql(query)
    after, after_params = q.after_sql(query, (at, "T-1"))
    first = f"SELECT snapshot FROM tickets WHERE {where} ORDER BY {order} LIMIT 1000"
    more = f"SELECT snapshot FROM tickets WHERE ({where}) AND {after} ORDER BY {order} LIMIT 1000"
    return [(first, tuple(params)), (more, (*params, *after_params))]


_DRAINS_BY_QUEUED_AT = [
    attrs.evolve(_DRAIN, order_by=order, priority=priority)
    for order in ("queued_at", "-queued_at")
    for priority in (None, "critical")
]


def test_a_drain_in_queued_at_order_reads_the_index_of_waiting_tickets_in_order(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "desk.sqlite")
    try:
        for query in _DRAINS_BY_QUEUED_AT:
            for sql, params in _drain_statements(store, query, to_micros(T0)):
                plan = str(store._conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall())
                assert "tickets_queued (team=? AND queued_at>?" in plan, (query, plan)
                # only the tickets queued at the same instant are sorted (by id)
                assert "USE TEMP B-TREE FOR RIGHT PART OF ORDER BY" in plan, (query, plan)
    finally:
        store.close()


@pytest.mark.postgres
@pytest.mark.skipif(not DSN, reason="set HELPDESK_TEST_POSTGRES_DSN to run PostgreSQL tests")
def test_a_drain_in_queued_at_order_reads_the_index_of_waiting_tickets_in_order_in_postgres() -> (
    None
):
    import psycopg

    from helpdesk_core.storage import PostgresStore
    from helpdesk_core.storage import _sql as q

    schema = f"hd_drain_order_{os.getpid()}"
    store = PostgresStore(DSN, schema=schema)
    try:
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f'SET search_path = "{schema}"')
            # On a few rows PostgreSQL sorts what the index finds; ruling a full sort out
            # shows the index gives the order (it reads it so for a long queue: with
            # 20,000 waiting, a page of 1,000 in 1.5 ms, where a sort took 31 ms).
            conn.execute("SET enable_seqscan = off")
            conn.execute("SET enable_bitmapscan = off")
            conn.execute("SET enable_sort = off")
            for query in _DRAINS_BY_QUEUED_AT:
                for sql, params in _drain_statements(store, query, T0):
                    rows = conn.execute("EXPLAIN " + q.to_pyformat(sql), params).fetchall()
                    plan = "\n".join(row[0] for row in rows)
                    assert "using tickets_queued" in plan, (query, plan)
                    assert "Presorted Key: queued_at" in plan, (query, plan)
        store.close()
    finally:
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _typed_histories() -> dict[str, list[Any]]:
    """T-1 an incident (the default type); T-2 a problem, active; T-3 an access request,
    closed; T-4 opened an incident, changed to a problem; T-5 an incident whose subject
    names the snapshot key; T-6 a problem, closed."""
    from helpdesk_core.model import Changes, TicketRouted

    minute = timedelta(minutes=1)
    to_problem = Changes(type="problem")
    retyped = TicketRouted(ticket_id="T-4", at=T0 + minute, by=AGENT, changes=to_problem)
    return {
        "T-1": [opened("T-1", 1)],
        "T-2": [opened("T-2", 2, type="problem")],
        "T-3": [
            opened("T-3", 3, type="access_request"),
            moved("T-3", "closed", StatusCategory.CLOSED, at=T0 + minute),
        ],
        "T-4": [opened("T-4", 4), retyped],
        "T-5": [opened("T-5", 5, subject='"type": "problem"')],
        "T-6": [
            opened("T-6", 6, type="problem"),
            moved("T-6", "closed", StatusCategory.CLOSED, at=T0 + minute),
        ],
    }


_TYPED_ROWS = [
    ("T-1", "incident"),
    ("T-2", "problem"),
    ("T-3", "access_request"),
    ("T-4", "problem"),
    ("T-5", "incident"),
    ("T-6", "problem"),
]
# A retention scan of a policy limited to access requests, and the known-error view's read.
_TYPED_RETENTION = TicketQuery(
    type="access_request", closed_before=T0 + timedelta(days=1), order_by="number", limit=1000
)
_KNOWN_ERRORS = TicketQuery(type="problem", active_only=True, order_by="number", limit=1000)


def _check_types(store: Any) -> None:
    """What a version 14 store answers of :func:`_typed_histories`, also after T-1 becomes
    a problem (the column the migration wrote is rewritten)."""
    from helpdesk_core.model import Changes, TicketUpdated

    def typed(query: TicketQuery) -> list[str]:
        return [t.id for t in store.query(query).items]

    assert typed(_TYPED_RETENTION) == ["T-3"]
    assert typed(_KNOWN_ERRORS) == ["T-2", "T-4"]
    assert typed(TicketQuery(type=("incident", "access_request"), order_by="number")) == [
        "T-1", "T-3", "T-5"
    ]  # fmt: skip
    retyped = TicketUpdated(
        ticket_id="T-1", at=T0 + timedelta(hours=1), by=AGENT, changes=Changes(type="problem")
    )
    change(store, store.load("T-1"), retyped)
    assert typed(_KNOWN_ERRORS) == ["T-1", "T-2", "T-4"]
    assert typed(TicketQuery(type="incident", order_by="number")) == ["T-5"]


def test_version_14_fills_the_type_of_stored_tickets(tmp_path: Path) -> None:
    path = tmp_path / "v13.sqlite"
    store = SqliteStore(path)
    for ticket_id, events in _typed_histories().items():
        store.append(ticket_id, expected_version=0, events=events, snapshot=replay(events))
    store.close()
    read = "SELECT id, type FROM tickets ORDER BY id"
    conn = sqlite3.connect(path)
    try:
        assert conn.execute(read).fetchall() == _TYPED_ROWS
        # a snapshot written before the model had types names none: an incident
        snapshot = json.loads(
            conn.execute("SELECT snapshot FROM tickets WHERE id = 'T-1'").fetchone()[0]
        )
    finally:
        conn.close()
    del snapshot["type"]
    untyped = ("UPDATE tickets SET snapshot = ? WHERE id = 'T-1'", json.dumps(snapshot))
    _as_version(path, 13, untyped)
    conn = sqlite3.connect(path)
    try:
        assert "type" not in {row[1] for row in conn.execute("PRAGMA table_info(tickets)")}
    finally:
        conn.close()
    store = SqliteStore(path)  # migrates to 15
    conn = sqlite3.connect(path)
    try:
        assert conn.execute(read).fetchall() == _TYPED_ROWS
        notnull = {row[1]: row[3] for row in conn.execute("PRAGMA table_info(tickets)")}
        assert notnull["type"] == 1
    finally:
        conn.close()
    try:
        assert _version(path) == 15
        # a type-limited retention scan reads the closed tickets of its types old enough,
        # and the known-error view the active tickets of the problem type
        plan = _sqlite_plan(store, _TYPED_RETENTION)
        assert "tickets_type (type=? AND status_category=? AND closed_at<?)" in plan, plan
        assert "tickets_type (type=? AND status_category=?)" in _sqlite_plan(store, _KNOWN_ERRORS)
        _check_types(store)
    finally:
        store.close()


@pytest.mark.postgres
@pytest.mark.skipif(not DSN, reason="set HELPDESK_TEST_POSTGRES_DSN to run PostgreSQL tests")
def test_version_14_fills_the_type_in_postgres() -> None:
    import psycopg

    from helpdesk_core.storage import PostgresStore

    schema = f"hd_v14_{os.getpid()}"
    quoted = f'"{schema}"'
    store = PostgresStore(DSN, schema=schema)
    try:
        for ticket_id, events in _typed_histories().items():
            store.append(ticket_id, expected_version=0, events=events, snapshot=replay(events))
        store.close()
        read = f"SELECT id, type FROM {quoted}.tickets ORDER BY id"
        with psycopg.connect(DSN, autocommit=True) as conn:
            assert conn.execute(read).fetchall() == _TYPED_ROWS
            _drop_type(conn, f"{quoted}.tickets")  # and its index
            conn.execute(
                f"UPDATE {quoted}.tickets SET snapshot = (snapshot::jsonb - 'type')::json "
                "WHERE id = 'T-1'"
            )
            conn.execute(f"UPDATE {quoted}.schema_version SET version = 13")
        store = PostgresStore(DSN, schema=schema)  # migrates to 15
        with psycopg.connect(DSN, autocommit=True) as conn:
            assert conn.execute(read).fetchall() == _TYPED_ROWS
            index = conn.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = %s",
                (schema, "tickets_type"),
            ).fetchone()
            assert index is not None
            assert "(type, status_category, closed_at)" in index[0]
            version = conn.execute(f"SELECT version FROM {quoted}.schema_version").fetchone()
            assert version == (15,)
            # the known-error view reads the index (PostgreSQL picks it on any data once a
            # sequential scan is ruled out); a retention scan reads an index of closed
            # tickets (on six rows, tickets_retention costs the same: at scale PostgreSQL
            # takes tickets_type for a policy limited to few types, see docs/storage.md)
            conn.execute(f"SET search_path = {quoted}")
            conn.execute("SET enable_seqscan = off")
            plans = {}
            for query, kept in (
                (_TYPED_RETENTION, {"tickets_type", "tickets_retention"}),
                (_KNOWN_ERRORS, {"tickets_type"}),
            ):
                where, params = store._builder.where(query)  # type: ignore[attr-defined]
                sql = f"SELECT id FROM tickets WHERE {where} ORDER BY number, id LIMIT 1000"
                plans[query] = _explain_with_only(conn, schema, kept, sql, params)
            assert "tickets_type" in plans[_KNOWN_ERRORS], plans
            retention = plans[_TYPED_RETENTION]
            assert "tickets_type" in retention or "tickets_retention" in retention, plans
        _check_types(store)
        store.close()
    finally:
        store.close()
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")


# ---------------------------------------------------------------- version 15: words

#: How versions 14 and before split words: case-folded runs of letters and digits, cut at
#: every combining mark, decomposed text left decomposed.
_OLD_WORD = re.compile(r"[^\W_]+")


def _old_words(text: str) -> list[str]:
    return [
        w
        for w in _OLD_WORD.findall(text.casefold())
        if 1 < len(w) <= MAX_WORD_LENGTH and w not in STOPWORDS
    ]


def _word_histories() -> dict[str, list[Any]]:
    """T-hi solved in Hindi, T-nfd solved written decomposed, T-nfc closed written
    composed, T-open open (never in the word index)."""
    later = T0 + timedelta(minutes=1)
    texts = {
        "T-hi": ("नमस्ते, मेरा लैपटॉप", "वीपीएन से कनेक्ट नहीं हो रहा", StatusCategory.SOLVED),
        "T-nfd": ("Cafe\u0301 printer", "Zu\u0308rich office", StatusCategory.SOLVED),
        "T-nfc": ("Résumé upload", "crème brûlée", StatusCategory.CLOSED),
        "T-open": ("Café printer", "नमस्ते", StatusCategory.OPEN),
    }
    out = {}
    for number, (ticket_id, (subject, description, category)) in enumerate(texts.items(), 1):
        events = [opened(ticket_id, number, subject=subject, description=description)]
        if category is not StatusCategory.OPEN:
            events.append(moved(ticket_id, category.value, category, at=later))
        out[ticket_id] = events
    return out


def _word_article() -> Article:
    return Article(
        id="KB-1",
        title="नमस्ते: printer guide",
        body="Cafe\u0301 kiosk and the Zürich office.",
        tags=("लैपटॉप",),
        author="a-1",
        created_at=T0,
        updated_at=T0,
    )


def _v14_with_words(path: Path) -> None:
    """A version 14 file holding the word histories and the article, their words split
    and indexed as version 14 did (written by the current store, then taken back)."""
    store = SqliteStore(path)
    for ticket_id, events in _word_histories().items():
        store.append(ticket_id, expected_version=0, events=events, snapshot=replay(events))
    article = _word_article()
    store.save_article(article, expected_version=0)
    store.close()
    text = f"{article.title}\n{article.body}\n{' '.join(article.tags)}"
    _as_version(path, 14, ("UPDATE articles SET words = ?", " ".join(_old_words(text))))


def _check_words_found(store: Any) -> None:
    """What a version 15 store answers of the word histories and the article."""

    def solved(*words: str) -> list[str]:
        return [t.id for t in store.search_solved(list(words))]

    def articles(text: str) -> list[str]:
        return [a.id for a in store.search_articles(ArticleQuery(text=text)).items]

    assert solved("नमस्ते") == solved("लैपटॉप") == solved("वीपीएन") == ["T-hi"]
    assert store.search_solved(["नमस"]) == []  # a fragment of the old splitting
    assert solved("café") == solved("CAFE\u0301") == solved("zürich") == ["T-nfd"]
    assert store.search_solved(["cafe"]) == []
    assert solved("re\u0301sume\u0301") == solved("crème") == ["T-nfc"]
    assert articles("नमस्ते") == articles("लैपटॉप") == ["KB-1"]
    assert articles("café zu\u0308rich") == ["KB-1"]
    assert articles("नमस") == articles("cafe") == []


def _solved_word_column(path: Path) -> dict[str, str | None]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT id, solved_words FROM tickets").fetchall())
    finally:
        conn.close()


def _fresh_sqlite(path: Path) -> dict[str, str | None]:
    """The ``solved_words`` a version 15 store writes for the word histories."""
    store = SqliteStore(path)
    for ticket_id, events in _word_histories().items():
        store.append(ticket_id, expected_version=0, events=events, snapshot=replay(events))
    store.close()
    return _solved_word_column(path)


def test_version_15_writes_the_word_indexes_of_sqlite_again(tmp_path: Path) -> None:
    path = tmp_path / "v14.sqlite"
    _v14_with_words(path)
    conn = sqlite3.connect(path)
    try:  # version 14 found the Hindi words' fragments, not the words
        match = "SELECT rowid FROM tickets_words WHERE tickets_words MATCH ?"
        assert conn.execute(match, ('"नमस"',)).fetchall() != []
        assert conn.execute(match, ('"café"',)).fetchall() == []
    finally:
        conn.close()
    store = SqliteStore(path)  # migrates to 15
    try:
        assert _version(path) == 15
        assert store.has_word_index
        _check_words_found(store)
        written = _solved_word_column(path)
        assert written == _fresh_sqlite(tmp_path / "fresh.sqlite")
        assert written["T-open"] is None
        assert written["T-hi"] is not None and "नमस्ते" in written["T-hi"].split()
        conn = sqlite3.connect(path)
        try:  # the FTS5 tables agree with the columns they index
            for table in ("tickets_words", "articles_fts"):
                conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
            words = conn.execute("SELECT words FROM articles").fetchone()[0]
        finally:
            conn.close()
        assert "नमस्ते" in words.split() and "café" in words.split()
        # the store goes on keeping the new index: reopened, solved again, purged
        ticket = store.load("T-hi")
        ticket = change(store, ticket, moved("T-hi", "open", StatusCategory.OPEN, at=T0))
        assert store.search_solved(["नमस्ते"]) == []
        later = T0 + timedelta(minutes=5)
        change(store, ticket, moved("T-hi", "solved", StatusCategory.SOLVED, at=later))
        assert [t.id for t in store.search_solved(["नमस्ते"])] == ["T-hi"]
        store.purge("T-nfd", expected_version=2)
        assert store.search_solved(["café"]) == []
        conn = sqlite3.connect(path)
        try:
            conn.execute("INSERT INTO tickets_words (tickets_words) VALUES ('integrity-check')")
        finally:
            conn.close()
    finally:
        store.close()


def test_version_15_gives_a_sqlite_without_fts5_the_solved_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v14.sqlite"
    monkeypatch.setattr(migrations, "SQLITE_V3_WORDS", "CREATE VIRTUAL TABLE x USING nofts5(a)")
    _v14_with_words(path)  # no FTS5: version 3 left the word indexes out
    monkeypatch.undo()
    conn = sqlite3.connect(path)
    try:
        assert not migrations.sqlite_has_word_index(conn)
    finally:
        conn.close()
    store = SqliteStore(path)  # migrates to 15, still without word indexes
    try:
        assert _version(path) == 15
        assert not store.has_word_index
        _check_words_found(store)
        assert _solved_word_column(path) == _fresh_sqlite(tmp_path / "fresh.sqlite")
        ticket = store.load("T-nfc")
        change(store, ticket, moved("T-nfc", "open", StatusCategory.OPEN, at=T0))
        assert store.search_solved(["résumé"]) == []
    finally:
        store.close()


@pytest.mark.postgres
@pytest.mark.skipif(not DSN, reason="set HELPDESK_TEST_POSTGRES_DSN to run PostgreSQL tests")
def test_version_15_writes_the_word_columns_of_postgres_again() -> None:
    import psycopg

    from helpdesk_core.storage import PostgresStore

    schema = f"hd_v15_{os.getpid()}"
    quoted = f'"{schema}"'
    store: Store = PostgresStore(DSN, schema=schema)
    read = f"SELECT id, solved_words::text FROM {quoted}.tickets ORDER BY id"
    try:
        for ticket_id, events in _word_histories().items():
            store.append(ticket_id, expected_version=0, events=events, snapshot=replay(events))
        article = _word_article()
        store.save_article(article, expected_version=0)
        store.close()
        with psycopg.connect(DSN, autocommit=True) as conn:  # as version 14 wrote them
            fresh = conn.execute(read).fetchall()
            for ticket_id, events in _word_histories().items():
                ticket = replay(events)
                if ticket.is_active:
                    continue
                old = _old_words(f"{ticket.subject}\n{ticket.description}")
                conn.execute(
                    f"UPDATE {quoted}.tickets SET solved_words = %s::tsvector WHERE id = %s",
                    (tsvector(old), ticket_id),
                )
            text = f"{article.title}\n{article.body}\n{' '.join(article.tags)}"
            conn.execute(
                f"UPDATE {quoted}.articles SET words = %s::tsvector",
                (tsvector(_old_words(text)),),
            )
            conn.execute(f"UPDATE {quoted}.schema_version SET version = 14")
            found = conn.execute(
                f"SELECT count(*) FROM {quoted}.tickets WHERE solved_words @@ %s::tsquery",
                ("'नमस्ते'",),
            ).fetchone()
            assert found == (0,)
        store = PostgresStore(DSN, schema=schema)  # migrates to 15
        with psycopg.connect(DSN, autocommit=True) as conn:
            assert conn.execute(read).fetchall() == fresh
            version = conn.execute(f"SELECT version FROM {quoted}.schema_version").fetchone()
            assert version == (15,)
        _check_words_found(store)
        store.close()
    finally:
        store.close()
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")


def _explain_with_only(
    conn: Any, schema: str, kept: set[str], sql: str, params: Sequence[Any]
) -> str:
    """The plan of ``sql`` with the tickets table's indexes other than ``kept`` (and those
    of its constraints) dropped in a transaction rolled back again: whether the planner can serve
    the query from the index under test, whatever another index would cost on the few
    rows here (which index wins a tie moves with the table's statistics)."""
    with conn.transaction(force_rollback=True):
        names = conn.execute(
            "SELECT i.indexname FROM pg_indexes i WHERE i.schemaname = %s"
            " AND i.tablename = 'tickets' AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
            " JOIN pg_namespace n ON n.oid = c.connamespace"
            " WHERE n.nspname = i.schemaname AND c.conname = i.indexname)",
            (schema,),
        ).fetchall()
        for (name,) in names:
            if name not in kept:
                conn.execute(f'DROP INDEX "{schema}"."{name}"')
        rows = conn.execute("EXPLAIN " + sql.replace("?", "%s"), params).fetchall()
    return "\n".join(row[0] for row in rows)
