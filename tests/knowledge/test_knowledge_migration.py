"""Schema version 3: a version-2 database (SQLite file, PostgreSQL schema) is migrated on
open: snapshots gain the ``known_error`` key (and read on the fast path again), solved
tickets enter the word index, and articles can be stored."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from helpdesk_core import Helpdesk, ManualClock, SequentialIds, StorageError
from helpdesk_core.codec import event_to_dict, ticket_to_dict
from helpdesk_core.knowledge import Article, ArticleQuery
from helpdesk_core.model import StatusCategory, replay
from helpdesk_core.storage import SqliteStore, TicketQuery, migrations
from helpdesk_core.storage.codecs import to_micros
from helpdesk_core.testing.conformance import MINUTE, T0, moved, opened

DSN = os.environ.get("HELPDESK_TEST_POSTGRES_DSN", "")

OPENED = opened("T-1", 1, subject="VPN timeout at home", description="Drops\x00 hourly")
SOLVED = moved("T-1", "solved", StatusCategory.SOLVED, at=T0 + MINUTE)
EVENTS = [OPENED, SOLVED]
TICKET = replay(EVENTS)


def _v2_snapshot() -> str:
    """The snapshot as version 2 of the library wrote it: without ``known_error``."""
    data = ticket_to_dict(TICKET)
    del data["known_error"]
    return json.dumps(data)


def _v2_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    for script in (migrations.SQLITE_V1, migrations.SQLITE_V2):
        for statement in script.split(";\n"):
            if statement.strip():
                conn.execute(statement)
    conn.execute(
        "INSERT INTO tickets (id, number, version, status, status_category, requester, "
        "priority, priority_rank, created_at, updated_at, tags, snapshot, search_text, "
        "search_nul) VALUES ('T-1', 1, 2, 'solved', 'solved', 'r-1', 'medium', 2, ?, ?, '[]', "
        "?, ?, 1)",
        (
            to_micros(T0),
            to_micros(T0 + MINUTE),
            _v2_snapshot(),
            "vpn timeout at home\ndrops\x00 hourly",
        ),
    )
    for version, event in enumerate(EVENTS, start=1):
        conn.execute(
            "INSERT INTO events (ticket_id, version, type, at, data) VALUES ('T-1', ?, ?, ?, ?)",
            (version, type(event).__name__, to_micros(event.at), json.dumps(event_to_dict(event))),
        )
    conn.execute("UPDATE sequences SET value = 1")
    conn.execute("PRAGMA user_version = 2")
    conn.execute("COMMIT")
    conn.close()


def test_a_version_2_sqlite_file_is_migrated_to_version_3(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite"
    _v2_sqlite(path)
    store = SqliteStore(path)
    assert store.has_word_index
    assert store.load("T-1") == TICKET
    assert store.events("T-1") == EVENTS
    assert [t.id for t in store.search_solved(["timeout"])] == ["T-1"]
    assert [t.id for t in store.query(TicketQuery(text="\x00 hourly")).items] == ["T-1"]
    desk = Helpdesk(store=store, clock=ManualClock(T0), ids=SequentialIds())
    article = desk.publish_article(title="VPN timeout", body="Use vpn2.", by="system:kb")
    assert store.list_articles(ArticleQuery()).items == (article,)
    store.close()
    conn = sqlite3.connect(path)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    snapshot = json.loads(conn.execute("SELECT snapshot FROM tickets").fetchone()[0])
    conn.close()
    assert version == migrations.SCHEMA_VERSION
    assert snapshot["known_error"] is None
    assert len(snapshot) == len(ticket_to_dict(TICKET))  # the trusted read path applies again


def test_a_failed_version_3_step_leaves_version_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v2.sqlite"
    _v2_sqlite(path)
    monkeypatch.setattr(migrations, "SQLITE_V3_WORDS", "CREATE TABLE articles (a)")
    with pytest.raises(StorageError, match="already exists"):
        SqliteStore(path)
    monkeypatch.undo()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert "articles" not in tables
    SqliteStore(path).close()


@pytest.mark.postgres
@pytest.mark.skipif(not DSN, reason="set HELPDESK_TEST_POSTGRES_DSN to run PostgreSQL tests")
def test_a_version_2_postgres_schema_is_migrated_to_the_current_version() -> None:
    import psycopg

    from helpdesk_core.storage import PostgresStore

    schema = f"hd_kmig_{os.getpid()}"
    quoted = f'"{schema}"'
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")
        conn.execute(f"CREATE SCHEMA {quoted}")
        with conn.transaction():
            for script in (migrations.POSTGRES_V1, migrations.POSTGRES_V2):
                for statement in script.format(s=quoted).split(";\n"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute(
                f"INSERT INTO {quoted}.tickets (id, number, version, status, status_category, "
                "requester, priority, priority_rank, created_at, updated_at, tags, snapshot, "
                "search_text) VALUES ('T-1', 1, 2, 'solved', 'solved', 'r-1', 'medium', 2, "
                "%s, %s, %s, %s, %s)",
                (T0, T0 + MINUTE, [], _v2_snapshot(), "vpn timeout at home\ndrops\ue0000 hourly"),
            )
            for version, event in enumerate(EVENTS, start=1):
                conn.execute(
                    f"INSERT INTO {quoted}.events (ticket_id, version, type, at, data) "
                    "VALUES ('T-1', %s, %s, %s, %s)",
                    (version, type(event).__name__, event.at, json.dumps(event_to_dict(event))),
                )
            conn.execute(f"UPDATE {quoted}.schema_version SET version = 2")
    try:
        store = PostgresStore(DSN, schema=schema)
        assert store.load("T-1") == TICKET
        assert [t.id for t in store.search_solved(["hourly", "nothing"])] == ["T-1"]
        article = Article(id="KB-1", title="VPN", author="a", created_at=T0, updated_at=T0)
        store.save_article(article, expected_version=0)
        assert store.get_article("KB-1") == article
        store.close()
        with psycopg.connect(DSN, autocommit=True) as conn:
            row = conn.execute(f"SELECT version FROM {quoted}.schema_version").fetchone()
            assert row == (migrations.SCHEMA_VERSION,)
            snapshot = conn.execute(f"SELECT snapshot::text FROM {quoted}.tickets").fetchone()
            assert snapshot is not None
            assert json.loads(snapshot[0])["known_error"] is None
    finally:
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")
