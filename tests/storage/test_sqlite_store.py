"""SqliteStore passes the conformance suite (file, text index, in-memory), and keeps data
across reopening, shares a file between handles, and reports driver errors as ours."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import attrs
import pytest
from fork_support import exit_code_in_fork
from hypothesis import given, settings

from helpdesk_core.codec import event_from_dict, structure, ticket_from_dict
from helpdesk_core.errors import ConflictError, StorageError, StoreClosedError, ValidationError
from helpdesk_core.model import (
    Changes,
    Event,
    Linked,
    Rated,
    Requester,
    SlaClockStarted,
    SlaWarning,
    StatusCategory,
    Ticket,
    TicketRouted,
    replay,
)
from helpdesk_core.storage import SqliteStore, Store, TicketQuery, codecs, migrations
from helpdesk_core.testing import StoreConformance
from helpdesk_core.testing.conformance import (
    AGENT,
    MINUTE,
    T0,
    change,
    commented,
    linked,
    moved,
    open_ticket,
    opened,
    sla_clock,
)
from helpdesk_core.testing.strategies import opened_events, requesters, tickets


class TestSqliteStore(StoreConformance):
    def make_store(self) -> Store:
        self.folder = Path(tempfile.mkdtemp(prefix="helpdesk-sqlite-"))
        self.path = self.folder / "desk.sqlite"
        return SqliteStore(self.path)

    def teardown_store(self, store: Store) -> None:
        store.close()
        shutil.rmtree(self.folder)

    def open_peer(self, store: Store) -> Store:
        return SqliteStore(self.path)


class TestSqliteStoreWithTextIndex(TestSqliteStore):
    def make_store(self) -> Store:
        super().make_store().close()
        store = SqliteStore(self.path, text_index=True)
        assert store.has_text_index
        return store


class TestSqliteMemoryDatabase(StoreConformance):
    def make_store(self) -> Store:
        return SqliteStore(":memory:")


def test_data_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite"
    store = SqliteStore(path)
    ticket = open_ticket(store, "T-1", wake_at=T0, tags=("vip",))
    latest = change(store, ticket, commented("T-1", "hello", at=T0 + MINUTE), wake_at=T0)
    store.set_cursor("rr", 4)
    store.close()
    again = SqliteStore(path)
    assert again.load("T-1") == latest
    assert again.get_cursor("rr") == 4
    assert again.due(T0) == ["T-1"]
    assert [t.id for t in again.query(TicketQuery(tag="vip")).items] == ["T-1"]
    assert again.allocate_number() == 2
    again.close()


def test_bundled_stores_close_at_the_end_of_a_with_block(tmp_path: Path) -> None:
    from helpdesk_core.storage import MemoryStore

    for make in (MemoryStore, lambda: SqliteStore(tmp_path / "with.sqlite")):
        with make() as store:
            open_ticket(store, "T-1")
            assert store.load("T-1").id == "T-1"
        with pytest.raises(StoreClosedError):
            store.load("T-1")
        with pytest.raises(RuntimeError, match="boom"), make() as store:
            raise RuntimeError("boom")
        with pytest.raises(StoreClosedError):
            store.allocate_number()
    with SqliteStore(tmp_path / "with.sqlite") as again:
        assert again.load("T-1").id == "T-1"  # what the block wrote was kept


def test_database_settings(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "desk.sqlite")
    store.close()
    conn = sqlite3.connect(tmp_path / "desk.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION == 15
    conn.close()
    store = SqliteStore(tmp_path / "desk.sqlite")
    pragmas = {
        name: store._conn.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("synchronous", "secure_delete", "busy_timeout")
    }
    assert pragmas == {"synchronous": 1, "secure_delete": 1, "busy_timeout": 30000}
    store.close()


def test_text_index_can_be_added_later_and_is_kept_by_every_handle(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite"
    plain = SqliteStore(path)
    open_ticket(plain, "T-1", subject="Printer on fire")
    indexed = SqliteStore(path, text_index=True)
    open_ticket(plain, "T-2", subject="Another printer")
    assert [t.id for t in indexed.query(TicketQuery(text="printer")).items] == ["T-1", "T-2"]
    assert [t.id for t in plain.query(TicketQuery(text="printer")).items] == ["T-1", "T-2"]
    count = indexed._conn.execute(
        "SELECT count(*) FROM tickets_fts WHERE tickets_fts MATCH '\"printer\"'"
    ).fetchone()[0]
    assert count == 2
    plain.close()
    indexed.close()


def test_a_long_text_query_costs_the_index_little(tmp_path: Path) -> None:
    """A text query of one common word repeated (a hostile search box): the trigram
    index is asked for the query's start only, instr checks the rest (the whole query
    as a phrase took about 7 s over a hundred tickets)."""
    store = SqliteStore(tmp_path / "desk.sqlite", text_index=True)
    for n in range(100):
        open_ticket(store, f"T-{n}", subject="Lorem", description="lorem ipsum " * 50)
    open_ticket(store, "T-hit", subject="Long", description="lorem " * 300 + "needle")
    started = time.perf_counter()
    assert store.query(TicketQuery(text="lorem " * 1_666)).total == 0  # the longest allowed
    assert time.perf_counter() - started < 2.0
    found = store.query(TicketQuery(text="LOREM " * 200 + "needle")).items
    assert [t.id for t in found] == ["T-hit"]
    store.close()


def test_driver_errors_become_storage_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreClosedError, match=r"cannot open|unable to open"):
        SqliteStore(tmp_path / "missing-dir" / "desk.sqlite")
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match="not a database"):
        SqliteStore(garbage)
    foreign = tmp_path / "foreign.sqlite"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="not a helpdesk_core database"):
        SqliteStore(foreign)


@pytest.mark.parametrize(
    "script",
    [
        "CREATE TABLE notes (x)",
        "CREATE TABLE notes (x); PRAGMA user_version = 3",
        "CREATE TABLE events (x); PRAGMA user_version = 3",
        "CREATE TABLE tickets (x); CREATE TABLE events (x); PRAGMA application_id = 7",
        "CREATE TABLE tickets (id, title); CREATE TABLE events (id, what); "
        "PRAGMA user_version = 5",
    ],
    ids=[
        "unversioned",
        "versioned",
        "versioned-with-an-events-table",
        "named",
        "versioned-with-tables-of-our-names",
    ],
)
def test_another_programs_file_is_refused_and_left_as_it_is(
    tmp_path: Path, script: str
) -> None:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StorageError, match="not a helpdesk_core database"):
        SqliteStore(path)
    # Not even its journal mode was switched (to WAL, as the store's own files are).
    assert path.read_bytes() == before
    assert not (tmp_path / "other.sqlite-wal").exists()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()


def test_a_held_write_lock_times_out_as_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite"
    store = SqliteStore(path, timeout=0.2)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageError, match="locked"):
            store.set_cursor("k", 1)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    store.set_cursor("k", 1)
    assert store.get_cursor("k") == 1
    store.close()


class _FailingCommit:
    """A connection whose COMMIT fails once as a disk error would."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.failures = 1

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql == "COMMIT" and self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("disk I/O error")
        return self.conn.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self.conn, name)


def test_a_failed_commit_rolls_back_and_leaves_the_store_usable(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "desk.sqlite")
    ticket = open_ticket(store, "T-1")
    real = store._conn
    store._conn = _FailingCommit(real)  # type: ignore[assignment]
    with pytest.raises(StoreClosedError, match="disk I/O"):
        change(store, ticket, commented("T-1", "lost", at=T0 + MINUTE))
    assert not real.in_transaction
    assert store._depth == 0
    free: list[bool] = []

    def probe() -> None:  # another thread can take the store's lock: it was released
        taken = store._lock.acquire(blocking=False)
        free.append(taken)
        if taken:
            store._lock.release()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    assert free == [True]
    store._conn = real
    assert store.load("T-1") == ticket
    assert len(store.events("T-1")) == 1
    again = change(store, ticket, commented("T-1", "kept", at=T0 + MINUTE))
    assert store.load("T-1") == again
    with store.unit_of_work():
        store.set_cursor("k", 1)
    peer = SqliteStore(tmp_path / "desk.sqlite")
    assert peer.load("T-1") == again
    assert peer.get_cursor("k") == 1
    peer.close()
    store.close()


def test_lone_surrogates_are_refused_cleanly(tmp_path: Path) -> None:
    from helpdesk_core.errors import ValidationError

    store = SqliteStore(tmp_path / "desk.sqlite")
    with pytest.raises(ValidationError, match="Unicode"):
        open_ticket(store, "T-1", subject="bad \ud800 text")
    assert store.get_many(["T-1"]) == []
    store.close()


# -- the codecs' trusted read path ---------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(ticket=tickets(max_comments=3))
def test_trusted_ticket_reads_equal_validated_reads(ticket: Ticket) -> None:
    text = codecs.encode_ticket(ticket)
    fast = codecs.decode_ticket(text)
    slow = ticket_from_dict(json.loads(text))
    assert fast == slow == ticket
    for name in attrs.fields_dict(Ticket):
        assert type(getattr(fast, name)) is type(getattr(slow, name)), name


@settings(max_examples=100, deadline=None)
@given(event=opened_events())
def test_trusted_event_reads_equal_validated_reads(event: Event) -> None:
    text = codecs.encode_event(event)
    assert codecs.decode_event(text) == event_from_dict(json.loads(text)) == event


@settings(max_examples=100, deadline=None)
@given(requester=requesters())
def test_trusted_requester_reads_equal_validated_reads(requester: Requester) -> None:
    text = codecs.encode_requester(requester)
    fast = codecs.decode_requester(text)
    assert fast == structure(json.loads(text), Requester) == requester
    for name in attrs.fields_dict(Requester):
        assert type(getattr(fast, name)) is type(getattr(requester, name)), name


def test_a_requester_row_with_other_keys_is_validated() -> None:
    text = codecs.encode_requester(Requester(id="r-1", name="Ada"))
    data = json.loads(text)
    data["email"] = "not an address"
    data["nickname"] = "x"
    with pytest.raises(StorageError):
        codecs.decode_requester(json.dumps(data))


def test_every_event_type_reads_back_through_the_fast_path() -> None:
    clock = sla_clock(T0 + MINUTE, at=T0)
    events: list[Event] = [
        commented("T-1", "x", at=T0),
        SlaClockStarted(ticket_id="T-1", at=T0, by=AGENT, clock=clock),
        SlaWarning(ticket_id="T-1", at=T0, by=AGENT, clock=clock, threshold=1),
        TicketRouted(ticket_id="T-1", at=T0, by=AGENT, changes=Changes(tags=("a",), fields={})),
        Rated(ticket_id="T-1", at=T0, by=AGENT, score=4),
        Linked(ticket_id="T-1", at=T0, by=AGENT, kind="caused_by", other="T-2"),
    ]
    for event in events:
        back = codecs.decode_event(codecs.encode_event(event))
        assert back == event
        assert type(back) is type(event)
    warning = codecs.decode_event(codecs.encode_event(events[2]))
    assert isinstance(warning, SlaWarning)
    assert type(warning.threshold) is float


def test_rows_a_reader_cannot_trust_take_the_validating_path() -> None:
    ticket = replay([opened("T-1", 1)])
    data = json.loads(codecs.encode_ticket(ticket))
    data["future_field"] = 1
    with pytest.raises(StorageError, match="future_field"):
        codecs.decode_ticket(json.dumps(data))
    del data["future_field"]
    data["subject"] = ""
    del data["anonymised"]  # an older row: the converter fills the default, then validates
    with pytest.raises(StorageError, match="subject"):
        codecs.decode_ticket(json.dumps(data))
    data["subject"] = "fine"
    assert codecs.decode_ticket(json.dumps(data)).subject == "fine"


def test_a_corrupt_row_is_a_storage_error(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "desk.sqlite")
    open_ticket(store, "T-1")
    open_ticket(store, "T-2")
    raw = sqlite3.connect(tmp_path / "desk.sqlite")
    raw.execute("UPDATE tickets SET snapshot = '' WHERE id = 'T-1'")
    raw.execute("UPDATE tickets SET snapshot = '{\"id\": 3}' WHERE id = 'T-2'")
    raw.execute("UPDATE events SET data = 'not json' WHERE ticket_id = 'T-2'")
    raw.commit()
    raw.close()
    with pytest.raises(StorageError, match="not valid JSON"):
        store.load("T-1")
    with pytest.raises(StorageError, match="cannot be read"):
        store.load("T-2")
    with pytest.raises(StorageError, match="not valid JSON"):
        store.events("T-2")
    store.close()


def _routed(ticket: Ticket, minutes: int, **changes: object) -> TicketRouted:
    return TicketRouted(
        ticket_id=ticket.id, at=T0 + minutes * MINUTE, by=AGENT, changes=Changes(**changes)
    )


def _indexed_columns_match(path: Path, ticket: Ticket) -> None:
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT version, team, requester, tags FROM tickets WHERE id = ?", (ticket.id,)
        ).fetchone()
        found = conn.execute("SELECT tag FROM ticket_tags WHERE ticket_id = ?", (ticket.id,))
        tags = {tag for (tag,) in found}
    conn.close()
    expected_tags = json.dumps(list(ticket.tags), separators=(",", ":"))
    assert row == (ticket.version, ticket.team, ticket.requester, expected_tags)
    assert tags == set(ticket.tags)


def test_a_row_rewritten_behind_a_stores_back_is_read_again_before_updating(
    tmp_path: Path,
) -> None:
    # A store remembers the row it last wrote to skip reading it before the next update;
    # that memory is only a hint, checked by the update itself.
    path = tmp_path / "desk.sqlite"
    a, b = SqliteStore(path), SqliteStore(path)
    ticket = open_ticket(a, "T-1")
    ticket = change(a, ticket, _routed(ticket, 1, team="net", tags=("vpn",)))
    # a writes version 3 in a unit of work that rolls back: what it remembers is now wrong
    with pytest.raises(RuntimeError), a.unit_of_work():
        ours = change(a, ticket, _routed(ticket, 2, team="apps", tags=("mail",)))
        raise RuntimeError("rolled back")
    # b writes another version 3
    their_event = _routed(ticket, 3, team="hr", tags=("hr",))
    theirs = change(b, b.load("T-1"), their_event)
    assert a.load("T-1") == theirs
    # a writes version 4 on its rolled-back snapshot, with the values it remembers: the
    # row must end up as that snapshot says, not keep b's indexed team and tags
    last_event = commented("T-1", "still there", at=T0 + 4 * MINUTE)
    final = change(a, ours, last_event)
    _indexed_columns_match(path, final)
    # the event a chained to its stale memory was taken back: the log holds each
    # version once, b's version 3 before a's version 4
    assert a.events("T-1")[2:] == b.events("T-1")[2:] == [their_event, last_event]
    log = a.claim_outbox("audit", now=T0, limit=100)
    assert [item.id for item in log] == ["T-1:1", "T-1:2", "T-1:3", "T-1:4"]
    assert [t.id for t in a.query(TicketQuery(team=("apps",))).items] == ["T-1"]
    assert a.query(TicketQuery(team=("hr",))).items == ()
    assert [t.id for t in a.query(TicketQuery(tag=("mail",))).items] == ["T-1"]
    assert a.query(TicketQuery(tag=("hr",))).items == ()
    # a stale version is still a conflict, for the store that remembers the row and not
    with pytest.raises(ConflictError):
        change(b, theirs, commented("T-1", "late", at=T0 + 5 * MINUTE))
    with pytest.raises(ConflictError):
        change(a, ours, commented("T-1", "late", at=T0 + 5 * MINUTE))
    _indexed_columns_match(path, final)
    a.close()
    b.close()


def test_a_text_rewritten_behind_a_stores_back_is_written_again(tmp_path: Path) -> None:
    # Another handle changed only the text of a row this store remembers writing: the
    # next update must not keep that text.
    path = tmp_path / "desk.sqlite"
    a, b = SqliteStore(path), SqliteStore(path)
    ticket = open_ticket(a, "T-1", subject="Printer jam")
    with pytest.raises(RuntimeError), a.unit_of_work():
        ours = change(a, ticket, commented("T-1", "on it", at=T0 + MINUTE))
        raise RuntimeError("rolled back")
    change(b, b.load("T-1"), _routed(ticket, 2, subject="Printer fire"))
    final = change(a, ours, commented("T-1", "done", at=T0 + 3 * MINUTE))
    assert a.load("T-1") == final
    assert [t.id for t in a.query(TicketQuery(text="printer jam")).items] == ["T-1"]
    assert a.query(TicketQuery(text="printer fire")).items == ()
    a.close()
    b.close()


def test_anonymise_and_purge_refuse_a_broken_event_chain(tmp_path: Path) -> None:
    # an event row removed by hand: rewriting or removing the ticket's history would
    # miss events (and their personal data), so both refuse and leave the file as it was
    path = tmp_path / "desk.sqlite"
    store = SqliteStore(path)
    ticket = open_ticket(store, "T-1", subject="Zorblax")
    events = [*store.events("T-1"), commented("T-1", "hi Zorblax", at=T0 + MINUTE)]
    ticket = change(store, ticket, events[-1])
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE events SET prev = 0 WHERE version = 2")
    conn.close()
    with pytest.raises(StorageError, match="holds 1 of its 2 events"):
        store.purge("T-1", expected_version=2)
    with pytest.raises(StorageError, match="holds 1 of its 2 events"):
        store.anonymise("T-1", expected_version=2, events=events, snapshot=ticket)
    assert store.load("T-1") == ticket
    store.close()


def test_links_rewritten_behind_a_stores_back_are_written_again(tmp_path: Path) -> None:
    # Another handle wrote a version this store remembers writing, with the same indexed
    # values and latest event position but other links: the next update must bring
    # ticket_links in line with its snapshot.
    from helpdesk_core.testing.conformance import linked

    path = tmp_path / "desk.sqlite"
    a, b = SqliteStore(path), SqliteStore(path)
    ticket = open_ticket(a, "T-1")
    with pytest.raises(RuntimeError), a.unit_of_work():
        ours = change(a, ticket, linked("T-1", "P-1", at=T0 + MINUTE))
        raise RuntimeError("rolled back")
    change(b, b.load("T-1"), commented("T-1", "no link", at=T0 + MINUTE))
    final = change(a, ours, commented("T-1", "done", at=T0 + 2 * MINUTE))
    assert a.load("T-1") == final
    assert [t.id for t in a.query(TicketQuery(links_to="P-1")).items] == ["T-1"]
    assert [t.id for t in b.query(TicketQuery(links_to="P-1")).items] == ["T-1"]
    a.close()
    b.close()


def test_the_next_page_of_unchanged_data_starts_after_the_last_row(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "desk.sqlite")
    peer = SqliteStore(tmp_path / "desk.sqlite")
    for i in range(8):
        open_ticket(store, f"T-{i}", at=T0 + (i % 3) * MINUTE)
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)

    def read(offset: int) -> list[str]:
        statements.clear()
        page = store.query(TicketQuery(order_by="-created_at", limit=3, offset=offset))
        return [t.id for t in page.items]

    def offset_walked() -> bool:
        return any("OFFSET" in s or "count(*)" in s for s in statements)

    assert read(0) == ["T-2", "T-5", "T-1"]
    assert offset_walked()  # the first page counts the matches
    assert read(3) == ["T-4", "T-7", "T-0"]
    assert not offset_walked()  # after the last row, with the first page's total
    open_ticket(peer, "T-9", at=T0 + 5 * MINUTE)  # another connection's commit
    assert read(6) == ["T-0", "T-3", "T-6"]
    assert offset_walked()
    assert read(0) == ["T-9", "T-2", "T-5"]
    assert read(3) == ["T-1", "T-4", "T-7"]
    assert not offset_walked()
    with store.unit_of_work():  # inside a unit of work: by offset
        assert read(6) == ["T-0", "T-3", "T-6"]
        assert offset_walked()
    peer.close()
    store.close()


def test_pages_asked_for_by_after_on_unchanged_data_take_the_total_of_the_page_before(
    tmp_path: Path,
) -> None:
    """Each page of a walk by ``after`` counted every match again; while nobody writes,
    it now takes the total of the page before, as a walk by offset does."""
    store = SqliteStore(tmp_path / "desk.sqlite")
    peer = SqliteStore(tmp_path / "desk.sqlite")
    for i in range(8):
        open_ticket(store, f"T-{i}", at=T0 + (i % 3) * MINUTE)
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    query = TicketQuery(order_by="-created_at", limit=2)
    pages = [store.query(query)]

    def read() -> list[str]:
        statements.clear()
        token = pages[-1].next_after
        assert token is not None
        pages.append(store.query(attrs.evolve(query, after=token)))
        return [t.id for t in pages[-1].items]

    def counted() -> bool:
        return any("count(*)" in s for s in statements)

    assert (read(), counted()) == (["T-1", "T-4"], True)  # the first page by after counts
    assert (read(), counted()) == (["T-7", "T-0"], False)
    open_ticket(peer, "T-9", at=T0 - MINUTE)  # another connection's commit
    assert (read(), counted(), pages[-1].total) == (["T-3", "T-6"], True, 9)
    with store.unit_of_work():  # inside a unit of work: counted
        assert (read(), counted()) == (["T-9"], True)
    peer.close()
    store.close()


def test_a_long_read_elsewhere_holds_up_a_purge_and_other_writers_briefly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The checkpoint after a purge cannot finish while another connection reads; while
    it waits SQLite holds back every writer of the file, so it gives up after a moment
    (and says so) rather than after the whole busy timeout."""
    import time

    path = tmp_path / "desk.sqlite"
    store = SqliteStore(path, timeout=8)
    other = SqliteStore(path, timeout=8)
    ticket = open_ticket(store, "T-1")
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM tickets").fetchone()
    took: list[float] = []

    def write() -> None:
        threading.Event().wait(0.3)  # the purge has begun
        started = time.monotonic()
        open_ticket(other, "T-2")
        took.append(time.monotonic() - started)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        started = time.monotonic()
        with caplog.at_level("WARNING", logger="helpdesk_core.storage"):
            store.purge("T-1", expected_version=ticket.version)
        purged = time.monotonic() - started
        writer.join()
    finally:
        reader.execute("COMMIT")
        reader.close()
    assert purged < 4 and took[0] < 4, (purged, took)
    assert "could not finish" in caplog.text
    assert store.checkpoint()  # the read ended: the old pages go now
    assert other.load("T-2").id == "T-2"
    store.close()
    other.close()


def test_checkpoint_waits_as_long_as_it_is_told(tmp_path: Path) -> None:
    import time

    path = tmp_path / "desk.sqlite"
    store = SqliteStore(path, timeout=8)
    open_ticket(store, "T-1")
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM tickets").fetchone()
    try:
        started = time.monotonic()
        assert not store.checkpoint(wait=0.2)  # the read keeps it from finishing
        assert time.monotonic() - started < 4
    finally:
        reader.execute("COMMIT")
        reader.close()
    assert store.checkpoint(wait=0)
    for bad in (-1, 86_401, float("nan"), True, "1s"):
        with pytest.raises(ValidationError, match="wait is a number of seconds") as caught:
            store.checkpoint(wait=bad)  # type: ignore[arg-type]
        assert caught.value.field == "wait"
    # The store's own timeout is back in force for the writes after it.
    busy = store._conn.execute("PRAGMA busy_timeout").fetchone()[0]
    assert busy == 8000
    store.close()


_FORKED: list[SqliteStore] = []


def _write_in_child(ticket_id: str) -> tuple[str, bool]:
    store = _FORKED[0]
    open_ticket(store, ticket_id)
    assert store.load(ticket_id).id == ticket_id
    own = bool(store._inherited) and all(store._conn is not c for c in store._inherited)
    return ticket_id, own


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_process_opens_a_connection_of_its_own(tmp_path: Path) -> None:
    """A web server that opens the store before forking its workers: SQLite's connection
    (its file locks belong to the process that took them) is never used in a worker, which
    opens its own; what the workers write lands whole, and the first process's connection
    stays usable."""
    import multiprocessing

    store = SqliteStore(tmp_path / "forked.sqlite")
    _FORKED.append(store)
    try:
        open_ticket(store, "T-parent")
        parent = store._conn
        with multiprocessing.get_context("fork").Pool(2) as pool:
            got = pool.map_async(_write_in_child, [f"T-{n}" for n in range(6)]).get(60)
        assert got == [(f"T-{n}", True) for n in range(6)]
        assert store._conn is parent and not store._inherited
        assert [t.id for t in store.get_many([f"T-{n}" for n in range(6)])] == [
            f"T-{n}" for n in range(6)
        ]
        assert parent.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        _FORKED.clear()
        store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_store_forked_inside_a_unit_of_work_is_closed_in_the_child(tmp_path: Path) -> None:
    """The transaction is the parent's: in the child every call fails, and leaving the
    block commits nothing there; the parent's unit of work goes on and commits."""
    store = SqliteStore(tmp_path / "forked.sqlite")
    pid = -1
    try:
        try:
            with store.unit_of_work():
                open_ticket(store, "T-1")
                pid = os.fork()
                if pid == 0:
                    try:
                        open_ticket(store, "T-child")
                    except StoreClosedError:
                        pass
                    else:
                        os._exit(1)
                else:
                    _, status = os.waitpid(pid, 0)
                    open_ticket(store, "T-2")
        except StoreClosedError:
            if pid == 0:
                os._exit(0)  # the child: its commit was refused
            raise
        if pid == 0:
            os._exit(2)  # the child committed the parent's transaction
        assert os.waitstatus_to_exitcode(status) == 0
        assert [t.id for t in store.get_many(["T-1", "T-2", "T-child"])] == ["T-1", "T-2"]
    finally:
        if pid != 0:
            store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_store_another_thread_writes_with_as_a_process_forks_opens_its_own_there(
    tmp_path: Path,
) -> None:
    """A thread of the parent is in a unit of work (a web server's background ticker,
    say) when another thread forks a worker: the transaction is the parent's, and the
    worker's store opens a connection of its own. Before, the worker's store was closed
    for good, every call refused."""
    store = SqliteStore(tmp_path / "forked.sqlite")
    inside, leave = threading.Event(), threading.Event()

    def in_unit_of_work() -> None:
        with store.unit_of_work():
            open_ticket(store, "T-parent")
            inside.set()
            leave.wait(30)

    worker = threading.Thread(target=in_unit_of_work)
    worker.start()
    try:
        inside.wait(30)
        # the worker's store reads its own connection: the parent's row is not there
        assert exit_code_in_fork(lambda: store.get_many(["T-parent"]) == []) == 0
    finally:
        leave.set()
        worker.join()
        store.close()


def test_a_read_only_database_is_named_with_its_path(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "desk.sqlite")
    try:
        refused = sqlite3.OperationalError("attempt to write a readonly database")
        mapped = store._translate(refused)
        assert isinstance(mapped, StorageError)
        assert str(tmp_path / "desk.sqlite") in str(mapped) and "read-only" in str(mapped)
    finally:
        store.close()


def _import_items() -> list[tuple[list[Event], Ticket, datetime | None]]:
    """New tickets whose rows hold a value, or NULL, in each nullable column, with tags
    (one holding NUL, which SQLite's JSON functions cannot read) and links."""
    items: list[tuple[list[Event], Ticket, datetime | None]] = []
    plain = opened("T-1", 1)
    items.append(([plain], replay([plain]), None))
    tagged = opened(
        "T-2",
        2,
        category="network",
        tags=("vip", "a\x00b", "z"),
        organization="acme",
        asset="laptop-7",
        fields={"floor": 3},
    )
    items.append(([tagged], replay([tagged]), T0 + MINUTE))
    routed = opened("T-3", 3, tags=("vpn",))
    snapshot = attrs.evolve(
        replay([routed]),
        team="desk",
        tier="l1",
        assignee="a-1",
        owner="a-2",
        queued_at=T0,
        sla={"resolution": sla_clock(T0 + 60 * MINUTE, at=T0)},
    )
    items.append(([routed], snapshot, T0))
    for number, (status, category) in enumerate(
        (("solved", StatusCategory.SOLVED), ("closed", StatusCategory.CLOSED)), start=4
    ):
        events: list[Event] = [
            opened(f"T-{number}", number, subject="VPN drops", tags=("vpn",)),
            moved(f"T-{number}", status, category, at=T0 + MINUTE),
        ]
        items.append((events, replay(events), None))
    events = [opened("T-6", 6), linked("T-6", "T-1"), linked("T-6", "T-3", "duplicate_of")]
    items.append((events, replay(events), None))
    return items


def test_an_import_writes_the_rows_an_append_writes(tmp_path: Path) -> None:
    """import_tickets binds a stand-in for NULL (which its statement turns back into NULL)
    and reads the tags back from the ticket rows it inserted: every row it writes is the
    one append writes for the same ticket, NULLs and tags included."""
    items = _import_items()
    imported = SqliteStore(tmp_path / "imported.sqlite")
    assert imported.import_tickets(items) == len(items)
    imported.close()
    appended = SqliteStore(tmp_path / "appended.sqlite")
    for events, snapshot, wake_at in items:
        appended.append(
            snapshot.id, expected_version=0, events=events, snapshot=snapshot, wake_at=wake_at
        )
    appended.close()

    def rows(name: str) -> dict[str, list[tuple[object, ...]]]:
        conn = sqlite3.connect(tmp_path / name)
        try:
            return {
                table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
                for table in ("tickets", "ticket_tags", "ticket_links", "events")
            }
        finally:
            conn.close()

    found = rows("imported.sqlite")
    assert found == rows("appended.sqlite")
    nulls = {row[1]: row.count(None) for row in found["tickets"]}
    assert nulls["T-1"] > nulls["T-3"] > 0  # columns left NULL, and others set
    assert ("T-2", "a\x00b") in found["ticket_tags"] and len(found["ticket_tags"]) == 6
    assert sorted(found["ticket_links"]) == [("T-6", "T-1"), ("T-6", "T-3")]


def test_an_import_gives_back_the_page_cache_it_widened(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "desk.sqlite")
    try:
        store._conn.execute("PRAGMA cache_size = -1234")
        store.import_tickets(_import_items())
        assert store._conn.execute("PRAGMA cache_size").fetchone()[0] == -1234
        with pytest.raises(ConflictError):
            store.import_tickets(_import_items()[:1])
        assert store._conn.execute("PRAGMA cache_size").fetchone()[0] == -1234
    finally:
        store.close()
