"""A solved ticket with a very long text stays writable on PostgreSQL: the solved-ticket
word index covers the first 100,000 characters (a tsvector holds at most 1 MB)."""

from __future__ import annotations

import itertools
import os
import random

import pytest

from helpdesk_core.model import StatusCategory
from helpdesk_core.testing.conformance import MINUTE, T0, change, moved, open_ticket

DSN = os.environ.get("HELPDESK_TEST_POSTGRES_DSN", "")
_names = itertools.count()


@pytest.mark.postgres
@pytest.mark.skipif(not DSN, reason="set HELPDESK_TEST_POSTGRES_DSN to run PostgreSQL tests")
def test_a_long_solved_ticket_is_stored_on_postgres() -> None:
    import psycopg

    from helpdesk_core.storage import PostgresStore

    schema = f"hd_bigtext_{os.getpid()}_{next(_names)}"
    rng = random.Random(1)
    letters = "абвгдежзийклмнопрстуфхцчшщэюя"
    text = " ".join("".join(rng.choice(letters) for _ in range(12)) for _ in range(90_000))
    store = PostgresStore(DSN, schema=schema)
    try:
        ticket = open_ticket(store, "T-big", subject="big", description=text)
        solved = change(
            store, ticket, moved("T-big", "solved", StatusCategory.SOLVED, at=T0 + MINUTE)
        )
        assert store.load("T-big") == solved
    finally:
        store.close()
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
