"""PostgresStore passes the conformance suite (needs HELPDESK_TEST_POSTGRES_DSN); every
test runs in a fresh schema that is dropped afterwards."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime

import pytest
from fork_support import exit_code_in_fork

from helpdesk_core.errors import StoreClosedError, ValidationError
from helpdesk_core.storage import Store, TicketQuery
from helpdesk_core.testing import StoreConformance
from helpdesk_core.testing.conformance import MINUTE, T0, change, commented, open_ticket

DSN = os.environ.get("HELPDESK_TEST_POSTGRES_DSN", "")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not DSN, reason="set HELPDESK_TEST_POSTGRES_DSN to run PostgreSQL tests"),
]
_names = itertools.count()


def fresh_schema() -> str:
    return f"hd_test_{os.getpid()}_{next(_names)}"


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _has_trgm() -> bool:
    import psycopg

    try:
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        return True
    except psycopg.Error:
        return False


class TestPostgresStore(StoreConformance):
    text_index = False

    def make_store(self) -> Store:
        from helpdesk_core.storage import PostgresStore

        self.schema = fresh_schema()
        return PostgresStore(DSN, schema=self.schema, text_index=self.text_index)

    def teardown_store(self, store: Store) -> None:
        store.close()
        drop_schema(self.schema)

    def open_peer(self, store: Store) -> Store:
        from helpdesk_core.storage import PostgresStore

        return PostgresStore(DSN, schema=self.schema)


class TestPostgresStoreWithTextIndex(TestPostgresStore):
    text_index = True

    def setup_method(self, method: object = None) -> None:
        if not _has_trgm():
            pytest.skip("the pg_trgm extension is not available")
        super().setup_method(method)


@pytest.fixture
def schema() -> object:
    name = fresh_schema()
    yield name
    drop_schema(name)


def test_importing_the_package_does_not_import_psycopg() -> None:
    code = (
        "import sys, helpdesk_core.storage as s; assert 'psycopg' not in sys.modules; "
        "s.PostgresStore; assert 'psycopg' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_data_survives_reopening_and_schemas_are_separate(schema: str) -> None:
    from helpdesk_core.storage import PostgresStore

    store = PostgresStore(DSN, schema=schema)
    ticket = open_ticket(store, "T-1", wake_at=T0, tags=("vip",))
    latest = change(store, ticket, commented("T-1", "hello", at=T0 + MINUTE), wake_at=T0)
    store.close()
    again = PostgresStore(DSN, schema=schema)
    assert again.load("T-1") == latest
    assert [t.id for t in again.query(TicketQuery(tag="vip")).items] == ["T-1"]
    other_name = fresh_schema()
    other = PostgresStore(DSN, schema=other_name)
    try:
        assert other.get_many(["T-1"]) == []
    finally:
        other.close()
        drop_schema(other_name)
    again.close()


def test_bad_schema_names_are_refused() -> None:
    from helpdesk_core.storage import PostgresStore

    for bad in ("Helpdesk", "a-b", 'x"; DROP', "", "helpdesk\n"):
        with pytest.raises(ValidationError, match="schema"):
            PostgresStore(DSN, schema=bad)


def test_system_schemas_are_refused_before_anything_is_created() -> None:
    """information_schema exists already, so a superuser's store would put its tables
    there; pg_temp is the session's own schema, and pg_* names are the server's."""
    import psycopg

    from helpdesk_core.storage import PostgresStore

    for system in ("pg_temp", "pg_catalog", "pg_toast", "pg_helpdesk", "information_schema"):
        with pytest.raises(ValidationError, match="system schema"):
            PostgresStore(DSN, schema=system)
    with psycopg.connect(DSN, autocommit=True) as conn:
        row = conn.execute("SELECT to_regclass('information_schema.schema_version')").fetchone()
    assert row is not None and row[0] is None


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"dsn": 5}, "dsn"),
        ({"dsn": b"postgresql://postgres@127.0.0.1:9/test"}, "dsn"),
        ({"dsn": "postgresql://postgres@127.0.0.1:9/test\x00other"}, "dsn"),
        ({"connect_timeout": "10"}, "connect_timeout"),
        ({"connect_timeout": float("nan")}, "connect_timeout"),
        ({"connect_timeout": float("inf")}, "connect_timeout"),
        ({"connect_timeout": -1}, "connect_timeout"),
        ({"connect_timeout": True}, "connect_timeout"),
        ({"text_index": "yes"}, "text_index"),
        ({"text_index": 1}, "text_index"),
    ],
)
def test_bad_arguments_are_refused_before_connecting(
    arguments: dict[str, object], field: str
) -> None:
    """As SqliteStore refuses a bad path, timeout or text_index: a ValidationError naming
    the argument, not a TypeError or ValueError from the driver (and not a connection to
    the database a DSN cut at its NUL names)."""
    from helpdesk_core.storage import PostgresStore

    given: dict[str, object] = {"dsn": "postgresql://postgres@127.0.0.1:9/test", **arguments}
    with pytest.raises(ValidationError) as refused:
        PostgresStore(**given)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_unreachable_server_says_so() -> None:
    from helpdesk_core.storage import PostgresStore

    with pytest.raises(StoreClosedError, match="cannot reach PostgreSQL"):
        PostgresStore("postgresql://postgres@127.0.0.1:9/test", connect_timeout=2)


def test_a_lost_connection_is_reported_then_reopened(schema: str) -> None:
    import psycopg

    from helpdesk_core.storage import PostgresStore

    store = PostgresStore(DSN, schema=schema)
    open_ticket(store, "T-1")
    pid = store._conn.info.backend_pid
    with psycopg.connect(DSN, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(StoreClosedError, match="connection"):
        store.load("T-1")
    assert store.load("T-1").id == "T-1"
    store.close()
    with pytest.raises(StoreClosedError, match="closed"):
        store.load("T-1")


def test_a_claim_that_loses_leaves_the_cursor_unlocked(schema: str) -> None:
    """A claim of a key that is set already answers False without locking the row: a
    worker that merely learns a message was seen before holds nothing another waits on."""
    import threading

    from helpdesk_core.storage import PostgresStore

    first, second = PostgresStore(DSN, schema=schema), PostgresStore(DSN, schema=schema)
    try:
        first.set_cursor("seen:m", 7)
        done = threading.Event()

        def set_it() -> None:
            with first.unit_of_work():
                first.set_cursor("seen:m", 8)
            done.set()

        with second.unit_of_work():
            assert not second.claim_cursor("seen:m", -1)
            writer = threading.Thread(target=set_it)
            writer.start()
            finished = done.wait(5)
        writer.join(10)
        assert finished  # the writer did not wait for the loser's transaction
        assert first.get_cursor("seen:m") == 8
        # a claim that wins still makes a concurrent claim of the key wait, then lose
        with second.unit_of_work():
            assert second.claim_cursor("seen:n", -1)
            outcome: list[bool] = []
            rival = threading.Thread(target=lambda: outcome.append(first.claim_cursor("seen:n", 5)))
            rival.start()
            rival.join(0.3)
            assert rival.is_alive()
            second.set_cursor("seen:n", 3)
        rival.join(10)
        assert outcome == [False]
        assert first.get_cursor("seen:n") == 3
    finally:
        first.close()
        second.close()


def test_an_ack_never_passes_an_event_committed_while_it_runs(schema: str) -> None:
    """An ack moves the consumer's high-water mark to the last position when everything
    after the old mark is acked. An append another process commits while the ack runs
    must stay claimable: the first unacked position and the last position are read in
    one snapshot."""
    from helpdesk_core.storage import PostgresStore

    worker, writer = PostgresStore(DSN, schema=schema), PostgresStore(DSN, schema=schema)
    try:
        open_ticket(writer, "T-1")
        (item,) = worker.claim_outbox("mail", now=T0)
        conn = worker._conn  # type: ignore[attr-defined]
        real_execute = conn.execute

        def execute(sql: object, *args: object, **kwargs: object) -> object:
            cursor = real_execute(sql, *args, **kwargs)
            if isinstance(sql, str) and "(SELECT max(position) FROM events)" in sql:
                open_ticket(writer, "T-2")  # committed right after the frontier is read
            return cursor

        conn.execute = execute
        try:
            worker.ack_outbox("mail", [item.id])
        finally:
            conn.execute = real_execute
        assert [i.id for i in worker.claim_outbox("mail", now=T0 + MINUTE)] == ["T-2:1"]
    finally:
        worker.close()
        writer.close()


def test_stores_opened_at_once_with_a_text_index_all_open() -> None:
    """Workers started together (a deploy) open one fresh schema with ``text_index=True``
    at the same time: each waits for the others' set-up instead of failing."""
    import threading

    from helpdesk_core.storage import PostgresStore

    if not _has_trgm():
        pytest.skip("the pg_trgm extension is not available")
    for _ in range(4):
        schema = fresh_schema()
        barrier = threading.Barrier(6)
        failures: list[BaseException] = []

        def open_store(name: str = schema) -> None:
            barrier.wait()
            try:
                PostgresStore(DSN, schema=name, text_index=True).close()
            except BaseException as failure:
                failures.append(failure)

        workers = [threading.Thread(target=open_store) for _ in range(6)]
        try:
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(60)
        finally:
            drop_schema(schema)
        assert failures == []


def test_claim_due_takes_wake_times_at_the_end_of_the_calendar(schema: str) -> None:
    """A wake time of 9999-12-31 23:00 at UTC-5 is a valid instant (10000-01-01 04:00 UTC)
    that ``append`` stores; ``claim_due`` leases it like ``due`` lists it."""
    from datetime import timedelta, timezone

    from helpdesk_core.storage import PostgresStore

    store = PostgresStore(DSN, schema=schema)
    try:
        far = datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5)))
        open_ticket(store, "T-1", wake_at=far)
        open_ticket(store, "T-2", wake_at=T0)
        assert store.due(far) == ["T-2", "T-1"]
        assert store.claim_due(far, worker="w") == ["T-2", "T-1"]
    finally:
        store.close()


def _refuse_comments_saying(schema: str, words: str) -> None:
    """A trigger on the schema's events that refuses an event whose data holds ``words``."""
    import psycopg

    with psycopg.connect(DSN, autocommit=True) as admin:
        admin.execute(
            f'CREATE FUNCTION "{schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS '
            f"$$ BEGIN IF NEW.data::text LIKE '%%{words}%%' THEN "
            "RAISE EXCEPTION 'refused by trigger'; END IF; RETURN NEW; END $$"
        )
        admin.execute(
            f'CREATE TRIGGER refuse BEFORE INSERT ON "{schema}".events '
            f'FOR EACH ROW EXECUTE FUNCTION "{schema}".refuse()'
        )


@pytest.mark.parametrize("pipelines", [True, False], ids=["pipeline", "no-pipeline"])
def test_an_append_the_server_refuses_writes_nothing_and_leaves_the_store_usable(
    schema: str, pipelines: bool
) -> None:
    """An append outside a unit of work is its own transaction (BEGIN, lock, write and
    COMMIT in one pipeline, or one after the other where libpq has no pipelines): a write
    the server refuses is rolled back whole, and the next append goes through."""
    import psycopg

    from helpdesk_core.errors import StorageError
    from helpdesk_core.storage import PostgresStore

    store = PostgresStore(DSN, schema=schema)
    store._pipelines = pipelines
    try:
        ticket = open_ticket(store, "T-1")
        _refuse_comments_saying(schema, "refuse me")
        with pytest.raises(StorageError, match="refused by trigger"):
            change(store, ticket, commented("T-1", "refuse me", at=T0 + MINUTE))
        assert store._conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert store.load("T-1") == ticket
        assert len(store.events("T-1")) == 1
        latest = change(store, ticket, commented("T-1", "fine", at=T0 + MINUTE))
        assert store.load("T-1") == latest
        assert [type(e).__name__ for e in store.events("T-1")] == [
            "TicketOpened", "CommentAdded"
        ]
    finally:
        store.close()


@pytest.mark.parametrize("pipelines", [True, False], ids=["pipeline", "no-pipeline"])
def test_an_append_refused_inside_a_unit_of_work_leaves_the_rest_of_it(
    schema: str, pipelines: bool
) -> None:
    """Inside a unit of work an append runs under a savepoint of its own (savepoint, lock,
    write and release in one pipeline, or one after the other): a write the server
    refuses is undone alone, the unit of work goes on and commits what else it did, and
    the event-log lock is still held until it ends."""
    import psycopg

    from helpdesk_core.errors import StorageError
    from helpdesk_core.storage import PostgresStore

    store = PostgresStore(DSN, schema=schema)
    store._pipelines = pipelines
    try:
        first = open_ticket(store, "T-1")
        second = open_ticket(store, "T-2")
        _refuse_comments_saying(schema, "refuse me")
        with store.unit_of_work():
            kept = change(store, first, commented("T-1", "fine", at=T0 + MINUTE))
            with pytest.raises(StorageError, match="refused by trigger"):
                change(store, second, commented("T-2", "refuse me", at=T0 + MINUTE))
            status = store._conn.info.transaction_status
            assert status == psycopg.pq.TransactionStatus.INTRANS
            also = change(store, second, commented("T-2", "also fine", at=T0 + MINUTE))
            with psycopg.connect(DSN, autocommit=True) as peer:
                held = peer.execute(
                    "SELECT mode FROM pg_locks WHERE pid = %s AND relation = %s::regclass",
                    (store._conn.info.backend_pid, f'"{schema}".events'),
                ).fetchall()
            assert ("ExclusiveLock",) in held
        assert store._conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert (store.load("T-1"), store.load("T-2")) == (kept, also)
        assert [type(e).__name__ for e in store.events("T-2")] == [
            "TicketOpened", "CommentAdded"
        ]
    finally:
        store.close()


def test_a_unit_of_work_that_goes_on_after_a_failed_statement_keeps_nothing_silently(
    schema: str,
) -> None:
    """A statement the server refuses inside a unit of work (here a lock timeout) aborts
    the transaction; a block that catches the error and ends well must not look
    committed, as PostgreSQL answers the COMMIT of an aborted transaction with a rollback
    and no error. The block raises StorageError, keeps nothing and leaves the store
    usable; a nested block that does so is undone alone, and the outer one commits."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    from helpdesk_core.errors import StorageError
    from helpdesk_core.storage import PostgresStore

    store = PostgresStore(make_conninfo(DSN, options="-c lock_timeout=100"), schema=schema)
    store.set_cursor("held", 1)
    try:
        with psycopg.connect(DSN) as peer:  # holds the cursor's row until it ends
            peer.execute(f'UPDATE "{schema}".cursors SET value = 2 WHERE key = %s', ("held",))
            with pytest.raises(StorageError, match="rolled back"), store.unit_of_work():
                open_ticket(store, "T-1")
                with pytest.raises(StorageError, match="lock timeout"):
                    store.set_cursor("held", 3)
            with store.unit_of_work():
                open_ticket(store, "T-2")
                with pytest.raises(StorageError, match="rolled back"), store.unit_of_work():
                    open_ticket(store, "T-3")
                    with pytest.raises(StorageError, match="lock timeout"):
                        store.set_cursor("held", 3)
                store.set_cursor("other", 1)
            peer.rollback()
        assert store._conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        found = store.get_many(["T-1", "T-2", "T-3"])
        assert [t.id for t in found] == ["T-2"]
        assert (store.get_cursor("held"), store.get_cursor("other")) == (1, 1)
    finally:
        store.close()


def test_a_transaction_left_open_on_the_connection_is_undone_first(schema: str) -> None:
    """A transaction an interruption left open on the store's connection is rolled back
    before the next call, never joined by it."""
    import psycopg

    from helpdesk_core.storage import PostgresStore

    store = PostgresStore(DSN, schema=schema)
    try:
        ticket = open_ticket(store, "T-1")
        store._conn.execute("BEGIN")
        store._conn.execute("DELETE FROM events")
        latest = change(store, ticket, commented("T-1", "hello", at=T0 + MINUTE))
        assert store._conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with PostgresStore(DSN, schema=schema) as peer:
            assert peer.load("T-1") == latest
            assert len(peer.events("T-1")) == 2
        with pytest.raises(StoreClosedError):
            peer.load("T-1")
        # A connection that cannot even roll back is replaced.
        store._conn.execute("BEGIN")
        store._conn.pgconn.send_query(b"SELECT pg_sleep(0.2)")
        assert store.load("T-1") == latest
        assert store._conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    finally:
        store.close()


def test_a_role_that_may_not_create_schemas_opens_a_migrated_store(schema: str) -> None:
    """Production runs as a role that reads and writes the tables the owner migrated,
    without the right to create schemas (or indexes): opening its store creates nothing."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    from helpdesk_core.storage import PostgresStore

    trgm = _has_trgm()
    PostgresStore(DSN, schema=schema, text_index=trgm).close()
    role = f"hd_app_{os.getpid()}"
    with psycopg.connect(DSN, autocommit=True) as admin:
        try:
            admin.execute(f"CREATE ROLE {role} NOLOGIN")
        except psycopg.Error:
            pytest.skip("the test's user may not create roles")
        try:
            database = admin.info.dbname
            admin.execute(f'REVOKE CREATE ON DATABASE "{database}" FROM {role}')
            admin.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
            admin.execute(
                f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" '
                f"TO {role}"
            )
            admin.execute(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO {role}')
            created = admin.execute(
                "SELECT has_database_privilege(%s, %s, 'CREATE')", (role, database)
            ).fetchone()
            if created is None or created[0]:
                pytest.skip("every role may create schemas in this database")
            as_role = make_conninfo(DSN, options=f"-c role={role}")
            with PostgresStore(as_role, schema=schema, text_index=trgm) as store:
                open_ticket(store, "T-1")
                assert store.load("T-1").id == "T-1"
        finally:
            admin.execute(f'DROP OWNED BY {role}')
            admin.execute(f"DROP ROLE {role}")


def test_a_session_ended_during_any_call_is_reported_as_a_lost_connection(schema: str) -> None:
    """However the server's end of the session meets a call (an append's pipeline busy,
    a statement running, the connection being opened), the call raises
    StoreClosedError, and a later call works on a new connection."""
    import random
    import threading

    import psycopg
    from psycopg.conninfo import make_conninfo

    from helpdesk_core.errors import StorageError
    from helpdesk_core.storage import PostgresStore

    name = f"hd_ended_{os.getpid()}"
    store = PostgresStore(make_conninfo(DSN, application_name=name), schema=schema)
    ticket = open_ticket(store, "T-1")
    stop = threading.Event()
    pauses = random.Random(7)

    def end_sessions() -> None:
        with psycopg.connect(DSN, autocommit=True) as admin:
            while not stop.wait(pauses.uniform(0.002, 0.03)):
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s",
                    (name,),
                )

    ender = threading.Thread(target=end_sessions)
    ender.start()
    failures: list[StorageError] = []
    deadline = time.monotonic() + 60
    try:
        while len(failures) < 150 and time.monotonic() < deadline:
            try:
                ticket = store.load("T-1")
                change(store, ticket, commented("T-1", "x", at=ticket.updated_at + MINUTE))
            except StorageError as exc:
                failures.append(exc)
    finally:
        stop.set()
        ender.join()
    try:
        wrong = [f"{type(e).__name__}: {e}" for e in failures if type(e) is not StoreClosedError]
        assert wrong == []
        latest = store.load("T-1")
        change(store, latest, commented("T-1", "y", at=latest.updated_at + MINUTE))
        assert store.load("T-1").version == latest.version + 1
    finally:
        store.close()


def test_a_forked_process_gets_a_connection_of_its_own(schema: str) -> None:
    """A web server that opens the store before forking its workers: each worker talks to
    the server over a session of its own (over the shared one they would read each
    other's results, or wait forever), and the first process's session stays usable."""
    import multiprocessing

    from helpdesk_core.storage import PostgresStore

    store = PostgresStore(DSN, schema=schema)
    _FORKED.append(store)  # what the forked workers find
    try:
        for n in range(4):
            open_ticket(store, f"T-{n}")
        parent_pid = store._conn.info.backend_pid
        with multiprocessing.get_context("fork").Pool(2) as pool:
            got = pool.map_async(_load_in_child, [f"T-{n % 4}" for n in range(8)]).get(60)
        assert [ticket_id for ticket_id, _ in got] == [f"T-{n % 4}" for n in range(8)]
        assert parent_pid not in {backend for _, backend in got}
        assert store.load("T-1").id == "T-1"
        assert store._conn.info.backend_pid == parent_pid
    finally:
        _FORKED.clear()
        store.close()


def _refused(call: Callable[[], object]) -> bool:
    try:
        call()
    except StoreClosedError:
        return True
    return False


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_process_forked_while_another_thread_uses_the_store_does_not_wait_for_it(
    schema: str,
) -> None:
    """A thread of the parent is in a call of the store (a read waiting for a table lock)
    or in a unit of work when another thread forks: that thread does not exist in the
    child, so the store's lock it held would never be released there. The child's calls
    run on a connection of their own; before, the child waited for that lock forever.
    A store the forking thread itself is in a unit of work of is closed in the child."""
    import psycopg

    from helpdesk_core.storage import PostgresStore

    store = PostgresStore(DSN, schema=schema)
    open_ticket(store, "T-1")
    blocker = psycopg.connect(DSN)
    blocker.execute(f'LOCK TABLE "{schema}".tickets IN ACCESS EXCLUSIVE MODE')
    reader = threading.Thread(target=store.load, args=("T-1",))
    inside, leave = threading.Event(), threading.Event()

    def in_unit_of_work() -> None:
        with store.unit_of_work():
            inside.set()
            leave.wait(30)

    try:
        reader.start()
        while store._lock.acquire(blocking=False):  # until the reader holds it
            store._lock.release()
            threading.Event().wait(0.01)
        assert exit_code_in_fork(lambda: store.allocate_number() > 0) == 0
        blocker.rollback()
        reader.join()
        worker = threading.Thread(target=in_unit_of_work)
        worker.start()
        inside.wait(30)
        assert exit_code_in_fork(lambda: store.get_cursor("k") == 0) == 0
        leave.set()
        worker.join()
        with store.unit_of_work():
            store.set_cursor("k", 1)
            assert exit_code_in_fork(lambda: _refused(lambda: store.get_cursor("k"))) == 0
        assert store.get_cursor("k") == 1
    finally:
        leave.set()
        blocker.close()
        store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("ending", ["leaves", "raises"])
def test_a_store_forked_inside_a_unit_of_work_ends_nothing_of_it_in_the_child(
    schema: str, ending: str
) -> None:
    """The transaction is the parent's: in the child every call fails, and leaving the
    block, as usual or by an exception, neither commits nor rolls back the parent's
    transaction over the session the two processes share; the parent's unit of work
    goes on and commits."""
    import warnings

    from helpdesk_core.storage import PostgresStore

    store = PostgresStore(DSN, schema=schema)
    pid = -1
    try:
        try:
            with store.unit_of_work():
                open_ticket(store, "T-1")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)  # threads running
                    pid = os.fork()
                if pid == 0:
                    try:
                        open_ticket(store, "T-child")
                    except StoreClosedError:
                        if ending == "raises":
                            raise
                    else:
                        os._exit(1)
                else:
                    _, status = os.waitpid(pid, 0)
                    assert os.waitstatus_to_exitcode(status) == 0
                    open_ticket(store, "T-2")  # the transaction is still the parent's
        except StoreClosedError:
            if pid == 0:
                os._exit(0)  # the child: its commit, or rollback, was refused
            raise
        except BaseException:
            if pid == 0:
                os._exit(3)
            raise
        if pid == 0:
            os._exit(2)  # the child committed the parent's transaction
        assert [t.id for t in store.get_many(["T-1", "T-2", "T-child"])] == ["T-1", "T-2"]
        assert store.load("T-2").version == 1
    finally:
        if pid != 0:
            store.close()


_FORKED: list[Store] = []


def _load_in_child(ticket_id: str) -> tuple[str, int]:
    store = _FORKED[0]
    for _ in range(100):
        assert store.load(ticket_id).id == ticket_id
    return ticket_id, store._conn.info.backend_pid  # type: ignore[attr-defined]
