"""SQLite keeps two structures of its own beside the rows: each ticket's chain of events
(``tickets.last_event`` → ``events.prev`` → …) and the word index of solved and closed
tickets, which the store updates itself (no triggers). Random histories of appends,
status changes, renames, anonymisations and purges leave both exact: FTS5's
``integrity-check`` passes, the word index holds exactly the solved and closed tickets,
and each chain walks a ticket's events in order."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import attrs
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpdesk_core.model import (
    Actor,
    Changes,
    CommentAdded,
    Event,
    StatusCategory,
    TicketOpened,
    TicketRouted,
    replay,
)
from helpdesk_core.storage import SqliteStore
from helpdesk_core.testing.conformance import T0, commented, moved, opened

IDS = ("T-1", "T-2", "T-3")
STATUSES = {
    "open": StatusCategory.OPEN,
    "solved": StatusCategory.SOLVED,
    "closed": StatusCategory.CLOSED,
    "pending": StatusCategory.PENDING,
}
WORDS = ("vpn", "printer", "kerberos", "outlook")
AGENT = Actor.agent("a-1")

_steps = st.lists(
    st.tuples(
        st.sampled_from(IDS),
        st.sampled_from(("status", "rename", "comment", "anonymise", "purge", "batch")),
        st.sampled_from(sorted(STATUSES)),
        st.sampled_from(WORDS),
    ),
    max_size=25,
)


def _scrub(events: list[Event]) -> list[Event]:
    out: list[Event] = []
    for event in events:
        if isinstance(event, TicketOpened):
            event = attrs.evolve(event, subject="redacted", description="")
        elif isinstance(event, CommentAdded):
            event = attrs.evolve(event, body="redacted")
        elif isinstance(event, TicketRouted) and event.changes.subject is not None:
            event = attrs.evolve(event, changes=Changes(subject="redacted"))
        out.append(event)
    return out


def _check(path: Path, store: SqliteStore, histories: dict[str, list[Event]]) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("INSERT INTO tickets_words (tickets_words) VALUES ('integrity-check')")
        # what the index itself answers (no join with the status: a stale entry shows)
        indexed = {
            word: {
                row[0]
                for row in conn.execute(
                    "SELECT t.id FROM tickets t WHERE t.seq IN "
                    "(SELECT rowid FROM tickets_words WHERE tickets_words MATCH ?)",
                    (word,),
                )
            }
            for word in (*WORDS, "redacted", "trouble")
        }
        chains = conn.execute(
            "SELECT t.id, t.last_event, max(e.position) FROM tickets t "
            "JOIN events e ON e.ticket_id = t.id GROUP BY t.id"
        ).fetchall()
        orphans = conn.execute(
            "SELECT count(*) FROM events WHERE ticket_id NOT IN (SELECT id FROM tickets)"
        ).fetchone()[0]
    finally:
        conn.close()
    solved = {
        ticket_id
        for ticket_id, events in histories.items()
        if replay(events).status_category in (StatusCategory.SOLVED, StatusCategory.CLOSED)
    }
    for word, found in indexed.items():
        assert found == {
            ticket_id
            for ticket_id in solved
            if word in replay(histories[ticket_id]).subject.casefold().split()
        }, word
    assert all(last == highest for _, last, highest in chains)
    assert orphans == 0
    for ticket_id, events in histories.items():
        assert store.events(ticket_id) == events
        assert (
            store.events(ticket_id, after_version=len(events) // 2) == (events[len(events) // 2 :])
        )
    for word in WORDS:
        assert {t.id for t in store.search_solved([word])} == indexed[word]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=_steps)
@example(  # solved, renamed while solved, reopened, solved again and anonymised
    steps=[
        ("T-1", "status", "open", "vpn"),
        ("T-1", "status", "solved", "vpn"),
        ("T-1", "rename", "open", "printer"),
        ("T-1", "status", "open", "vpn"),
        ("T-1", "batch", "closed", "kerberos"),
        ("T-1", "anonymise", "open", "vpn"),
        ("T-2", "batch", "solved", "outlook"),
        ("T-2", "purge", "open", "vpn"),
    ]
)
def test_chains_and_the_word_index_stay_exact(tmp_path_factory: object, steps: list) -> None:
    folder = tmp_path_factory.mktemp("chains")  # type: ignore[attr-defined]
    path = folder / "desk.sqlite"
    store = SqliteStore(path)
    histories: dict[str, list[Event]] = {}
    numbers = iter(range(1, 1000))
    at = T0
    try:
        for ticket_id, action, status, word in steps:
            at += timedelta(minutes=1)
            events = histories.get(ticket_id)
            if events is None:
                events = [opened(ticket_id, next(numbers), subject=f"{word} trouble", at=at)]
                store.append(ticket_id, expected_version=0, events=events, snapshot=replay(events))
                histories[ticket_id] = events
                continue
            version = len(events)
            if action == "purge":
                store.purge(ticket_id, expected_version=version)
                del histories[ticket_id]
                continue
            if action == "anonymise":
                scrubbed = [*_scrub(events), commented(ticket_id, "scrubbed", at=at)]
                store.anonymise(
                    ticket_id, expected_version=version, events=scrubbed, snapshot=replay(scrubbed)
                )
                histories[ticket_id] = scrubbed
                continue
            new: list[Event]
            if action == "status":
                new = [moved(ticket_id, status, STATUSES[status], at=at)]
            elif action == "rename":
                new = [
                    TicketRouted(
                        ticket_id=ticket_id,
                        at=at,
                        by=AGENT,
                        changes=Changes(subject=f"{word} again"),
                    )
                ]
            elif action == "comment":
                new = [commented(ticket_id, word, at=at)]
            else:  # several events in one append
                new = [
                    moved(ticket_id, status, STATUSES[status], at=at),
                    commented(ticket_id, word, at=at),
                    TicketRouted(
                        ticket_id=ticket_id, at=at, by=AGENT, changes=Changes(subject=word)
                    ),
                ]
            store.append(
                ticket_id,
                expected_version=version,
                events=new,
                snapshot=replay(events + new),
            )
            histories[ticket_id] = events + new
        _check(path, store, histories)
        # a second handle (no remembered rows) sees and continues the same chains
        other = SqliteStore(path)
        try:
            for ticket_id, events in histories.items():
                extra = [commented(ticket_id, "from elsewhere", at=at)]
                other.append(
                    ticket_id,
                    expected_version=len(events),
                    events=extra,
                    snapshot=replay(events + extra),
                )
                histories[ticket_id] = events + extra
        finally:
            other.close()
        _check(path, store, histories)
    finally:
        store.close()
