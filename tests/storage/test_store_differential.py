"""The SQL stores agree with MemoryStore on random operation sequences (Hypothesis)."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from helpdesk_core.storage import SqliteStore, Store
from helpdesk_core.testing import make_differential_machine

DSN = os.environ.get("HELPDESK_TEST_POSTGRES_DSN", "")
RUNS = settings(
    max_examples=int(os.environ.get("HELPDESK_DIFFERENTIAL_EXAMPLES", "60")),
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TestSqliteInMemoryAgrees = make_differential_machine(lambda: SqliteStore(":memory:")).TestCase
TestSqliteInMemoryAgrees.settings = RUNS


def _indexed_file() -> Store:
    folder = Path(tempfile.mkdtemp(prefix="helpdesk-diff-"))
    return SqliteStore(folder / "desk.sqlite", text_index=True)


def _remove_file(store: Store) -> None:
    assert isinstance(store, SqliteStore)
    store.close()
    shutil.rmtree(Path(store.path).parent)


TestSqliteFileWithTextIndexAgrees = make_differential_machine(
    _indexed_file, teardown=_remove_file
).TestCase
TestSqliteFileWithTextIndexAgrees.settings = settings(
    RUNS, max_examples=max(RUNS.max_examples // 2, 1)
)

_schemas = itertools.count()


def _postgres() -> Store:
    from helpdesk_core.storage import PostgresStore

    return PostgresStore(DSN, schema=f"hd_diff_{os.getpid()}_{next(_schemas)}")


def _drop(store: Store) -> None:
    import psycopg

    from helpdesk_core.storage import PostgresStore

    assert isinstance(store, PostgresStore)
    store.close()
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')


TestPostgresAgrees = pytest.mark.postgres(
    pytest.mark.skipif(not DSN, reason="set HELPDESK_TEST_POSTGRES_DSN to run PostgreSQL tests")(
        make_differential_machine(_postgres, teardown=_drop).TestCase
    )
)
TestPostgresAgrees.settings = settings(RUNS, max_examples=max(RUNS.max_examples // 3, 1))
