"""A filter given a long list of values (more than a database takes parameters in one
statement: 65,535 for PostgreSQL, 32,766 for a SQLite built with its defaults) finds the
same tickets in every store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from desk_stores import STORES, drop
from helpdesk_core.model import Actor, Assigned, replay
from helpdesk_core.storage import Store, TicketQuery, TicketScope
from helpdesk_core.testing.conformance import T0, opened

MANY = 70_000


@pytest.mark.parametrize("make_store", STORES)
def test_a_filter_of_many_values_finds_what_a_short_one_finds(
    make_store: Callable[[Path], Store], tmp_path: Path
) -> None:
    store = make_store(tmp_path)
    try:
        for n, team in ((7, "desk"), (MANY + 5, "net")):
            ticket_id = f"T-{n}"
            events = [
                opened(ticket_id, n, requester=f"r-{n}", category=f"c-{n}", tags=[f"t-{n}"]),
                Assigned(ticket_id=ticket_id, at=T0, by=Actor.agent("a-1"), assignee=f"a-{n}"),
            ]
            snapshot = replay(events)
            store.append(ticket_id, expected_version=0, events=events, snapshot=snapshot)
        names = [f"x-{i}" for i in range(MANY)]
        queries = [
            TicketQuery(number=[*range(1, MANY), 7]),
            TicketQuery(requester=[*names, "r-7"]),
            TicketQuery(assignee=[*names, "a-7"]),
            TicketQuery(status=[*names, "new"], number=7),
            TicketQuery(category=[*names, "c-7"]),
            TicketQuery(tag=[*names, "t-7"]),
            TicketQuery(links_to=names, number=7),
            TicketQuery(scope=TicketScope(teams=names, requester="r-7")),
        ]
        for query in queries:
            found = [t.id for t in store.query(query).items]
            assert found == (["T-7"] if query.links_to is None else []), query
    finally:
        drop(store)


def test_sqlite_built_with_the_default_parameter_limit_takes_a_long_list(tmp_path: Path) -> None:
    import sqlite3

    from helpdesk_core.storage import SqliteStore

    with SqliteStore(tmp_path / "desk.sqlite") as store:
        store._conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766)
        event = opened("T-7", 7, tags=["vip"])
        store.append("T-7", expected_version=0, events=[event], snapshot=replay([event]))
        names = [f"x-{i}" for i in range(40_000)]
        assert [t.id for t in store.query(TicketQuery(number=range(1, 40_000))).items] == ["T-7"]
        assert [t.id for t in store.query(TicketQuery(tag=[*names, "vip"])).items] == ["T-7"]
        assert store.query(TicketQuery(team=names)).items == ()
