"""Benchmark: the stores against the raw drivers doing the equivalent row work.

    python benchmarks/bench_storage.py            # 5,000 tickets; memory test with 1,000,000
    python benchmarks/bench_storage.py --quick    # 1,000 tickets; memory test with 100,000
    HELPDESK_TEST_POSTGRES_DSN=postgresql://... python benchmarks/bench_storage.py

Every ticket is real: a ``TicketOpened`` folded into a snapshot whose JSON is about 1 KB.
The raw baselines use a table with the ticket id as key, five indexed columns (status,
team, assignee, requester, created_at) and the same JSON documents, WAL and
``synchronous=NORMAL`` for SQLite:

- bulk import: ``SqliteStore.import_tickets`` (ticket rows, tag rows, the ``TicketOpened``
  event and its outbox row, one transaction) against ``executemany`` of the ticket rows
  with their JSON documents (``json.dumps`` of the same plain data, timed) in one
  transaction; a second figure adds the event and outbox rows to the raw side;
- one command: ``append`` of one ``CommentAdded`` with the new snapshot (version check,
  snapshot row, event row, outbox row, one commit) against a single-row version-checked
  ``UPDATE ... WHERE id = ? AND version = ?`` of the JSON document with a commit each;
- load by id: ``load`` (row → Ticket) against ``SELECT doc ... WHERE id = ?`` followed by
  ``json.loads`` (row → plain data); the select alone is printed too;
- the command again, sustained: 5,000 (quick) or 20,000 commands on a fresh database of
  each side timed as one block, so WAL growth and checkpoints are paid inside the
  measure (printed beside the target figure, which is the best of short rounds).

PostgreSQL gets the same three comparisons against raw psycopg when a server is reachable.
Memory: a ``MemoryStore`` holding small tickets (one event each), measured with tracemalloc.
Figures are the best of seven interleaved rounds (the order flips each round, so a busy
moment on the machine hits both sides alike); ratios are ours / raw throughput.
"""

from __future__ import annotations

import argparse
import functools
import gc
import itertools
import json
import os
import random
import shutil
import sqlite3
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from helpdesk_core.codec import event_to_dict, ticket_to_dict
from helpdesk_core.model import Actor, CommentAdded, Priority, Ticket, TicketOpened, apply_event
from helpdesk_core.model import replay as fold
from helpdesk_core.storage import MemoryStore, SqliteStore

TARGETS = {"import": 0.5, "command": 0.4, "load": 0.5}
MEMORY_TARGET = 2048
ROUNDS = 7
LOAD_ROUNDS = 4  # per database of the PostgreSQL comparison (two databases: 8 in all)
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
AGENT = Actor.agent("a-1")
WORDS = [
    "printer",
    "vpn",
    "laptop",
    "password",
    "email",
    "screen",
    "broken",
    "slow",
    "login",
    "reset",
    "cannot",
]
RAW_SCHEMA = [
    "CREATE TABLE docs (id TEXT PRIMARY KEY, version INTEGER NOT NULL, status TEXT, "
    "team TEXT, assignee TEXT, requester TEXT, created_at INTEGER, doc TEXT NOT NULL)",
    "CREATE INDEX docs_status ON docs (status)",
    "CREATE INDEX docs_team ON docs (team)",
    "CREATE INDEX docs_assignee ON docs (assignee)",
    "CREATE INDEX docs_requester ON docs (requester)",
    "CREATE INDEX docs_created ON docs (created_at)",
    "CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, ticket_id TEXT, "
    "version INTEGER, data TEXT, UNIQUE (ticket_id, version))",
    "CREATE TABLE outbox (position INTEGER PRIMARY KEY, ticket_id TEXT, version INTEGER)",
]


# --- data ----------------------------------------------------------------------------


def make_tickets(count: int, seed: int = 1) -> list[tuple[TicketOpened, Ticket]]:
    """``count`` opened tickets whose snapshot JSON is about 1 KB."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        words = " ".join(rng.choice(WORDS) for _ in range(40))
        event = TicketOpened(
            ticket_id=f"T-{i:07d}",
            at=T0 + timedelta(seconds=i),
            by=Actor.requester("r"),
            number=i + 1,
            requester=f"r-{rng.randrange(count // 3 + 1)}",
            subject=f"{rng.choice(WORDS)} {rng.choice(WORDS)} issue #{i}",
            description=words[:150],
            category=rng.choice(WORDS),
            tags=(rng.choice(WORDS), "bench"),
            priority=rng.choice(list(Priority)),
            fields={"floor": rng.randrange(9), "site": "hq"},
        )
        out.append((event, fold([event])))
    return out


def _doc(ticket: Ticket) -> dict[str, Any]:
    return ticket_to_dict(ticket)


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _comment(ticket: Ticket, n: int) -> tuple[CommentAdded, Ticket]:
    event = CommentAdded(
        ticket_id=ticket.id,
        at=ticket.updated_at + timedelta(seconds=1),
        by=AGENT,
        comment_id=f"c-{n}",
        body="We are looking into it.",
    )
    return event, apply_event(ticket, event)


def _comments(
    current: dict[int, Ticket], picks: list[int], numbers: Iterator[int]
) -> list[tuple[CommentAdded, Ticket]]:
    """One reply per pick on the ticket's latest snapshot (``current`` moves on): the
    domain work of the commands, done before the store is timed."""
    work = []
    for i in picks:
        event, snapshot = _comment(current[i], next(numbers))
        work.append((event, snapshot))
        current[i] = snapshot
    return work


def _append_each(store: Any, work: list[tuple[CommentAdded, Ticket]]) -> float:
    """µs per command: each reply appended with its snapshot, one commit each."""
    start = time.perf_counter()
    for event, snapshot in work:
        store.append(
            snapshot.id, expected_version=snapshot.version - 1, events=[event], snapshot=snapshot
        )
    return (time.perf_counter() - start) / len(work) * 1e6


def _each(call: Callable[[str], object], ids: list[str]) -> float:
    """µs per call of ``call`` on each id."""
    start = time.perf_counter()
    for ticket_id in ids:
        call(ticket_id)
    return (time.perf_counter() - start) / len(ids) * 1e6


def _best(fn: Callable[[], float], rounds: int) -> float:
    return min(fn() for _ in range(rounds))


# --- SQLite --------------------------------------------------------------------------


def _raw_sqlite(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    for statement in RAW_SCHEMA:
        conn.execute(statement)
    return conn


def _raw_row(ticket: Ticket, doc: dict[str, Any]) -> tuple[Any, ...]:
    return (
        ticket.id,
        ticket.version,
        ticket.status,
        ticket.team,
        ticket.assignee,
        ticket.requester,
        int(ticket.created_at.timestamp() * 1e6),
        _dumps(doc),
    )


def sqlite_import(folder: Path, tickets: list[tuple[TicketOpened, Ticket]]) -> dict[str, float]:
    """µs per ticket: ours, raw ticket rows, raw ticket + event + outbox rows."""
    docs = [(_doc(t), event_to_dict(e)) for e, t in tickets]

    def ours() -> float:
        shutil.rmtree(folder / "ours", ignore_errors=True)
        (folder / "ours").mkdir()
        store = SqliteStore(folder / "ours" / "desk.sqlite")
        start = time.perf_counter()
        store.import_tickets(([event], ticket) for event, ticket in tickets)
        took = time.perf_counter() - start
        store.close()
        return took / len(tickets) * 1e6

    def raw(with_events: bool) -> float:
        shutil.rmtree(folder / "raw", ignore_errors=True)
        (folder / "raw").mkdir()
        conn = _raw_sqlite(folder / "raw" / "raw.sqlite")
        start = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [_raw_row(t, doc) for (_, t), (doc, _) in zip(tickets, docs)],
        )
        if with_events:
            conn.executemany(
                "INSERT INTO events (ticket_id, version, data) VALUES (?, 1, ?)",
                [(t.id, _dumps(data)) for (_, t), (_, data) in zip(tickets, docs)],
            )
            conn.execute("INSERT INTO outbox SELECT position, ticket_id, version FROM events")
        conn.execute("COMMIT")
        took = time.perf_counter() - start
        conn.close()
        return took / len(tickets) * 1e6

    result = {"ours": float("inf"), "raw": float("inf"), "raw_with_events": float("inf")}
    measures: list[tuple[str, Callable[[], float]]] = [
        ("ours", ours),
        ("raw", lambda: raw(False)),
        ("raw_with_events", lambda: raw(True)),
    ]
    for round_ in range(ROUNDS):  # interleaved, order flipped each round
        for key, measure in measures if round_ % 2 == 0 else measures[::-1]:
            result[key] = min(result[key], measure())
    return result


def sqlite_command_and_load(
    folder: Path, tickets: list[tuple[TicketOpened, Ticket]], commands: int
) -> dict[str, float]:
    """µs per command and per load: ours and raw."""
    store = SqliteStore(folder / "cmd.sqlite")
    store.import_tickets(([e], t) for e, t in tickets)
    conn = _raw_sqlite(folder / "cmd-raw.sqlite")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [_raw_row(t, _doc(t)) for _, t in tickets],
    )
    conn.execute("COMMIT")
    rng = random.Random(3)
    picks = [rng.randrange(len(tickets)) for _ in range(commands)]
    current = {i: tickets[i][1] for i in set(picks)}
    raw_versions = dict.fromkeys(set(picks), 1)
    counter = itertools.count()

    def ours_command() -> float:
        return _append_each(store, _comments(current, picks, counter))

    def raw_command() -> float:
        work = []
        for i in picks:
            _, snapshot = _comment(tickets[i][1], 0)
            work.append((tickets[i][1].id, i, _doc(snapshot)))
        start = time.perf_counter()
        for ticket_id, i, doc in work:
            version = raw_versions[i]
            conn.execute("BEGIN IMMEDIATE")
            updated = conn.execute(
                "UPDATE docs SET version = ?, doc = ? WHERE id = ? AND version = ?",
                (version + 1, _dumps(doc), ticket_id, version),
            ).rowcount
            conn.execute("COMMIT")
            assert updated == 1
            raw_versions[i] = version + 1
        return (time.perf_counter() - start) / len(work) * 1e6

    ids = [tickets[i][1].id for i in picks]

    def ours_load() -> float:
        start = time.perf_counter()
        for ticket_id in ids:
            store.load(ticket_id)
        return (time.perf_counter() - start) / len(ids) * 1e6

    def raw_load(parse: bool) -> float:
        start = time.perf_counter()
        for ticket_id in ids:
            row = conn.execute("SELECT doc FROM docs WHERE id = ?", (ticket_id,)).fetchone()
            if parse:
                json.loads(row[0])
        return (time.perf_counter() - start) / len(ids) * 1e6

    out = {
        k: float("inf") for k in ("command", "raw_command", "load", "raw_load", "raw_select_only")
    }
    measures: list[tuple[str, Callable[[], float]]] = [
        ("command", ours_command),
        ("raw_command", raw_command),
        ("load", ours_load),
        ("raw_load", lambda: raw_load(True)),
        ("raw_select_only", lambda: raw_load(False)),
    ]
    for round_ in range(ROUNDS):  # interleaved, order flipped each round
        for key, measure in measures if round_ % 2 == 0 else measures[::-1]:
            out[key] = min(out[key], measure())
    store.close()
    conn.close()
    return out


def sqlite_sustained(
    folder: Path, tickets: list[tuple[TicketOpened, Ticket]], commands: int, rounds: int = 2
) -> dict[str, float]:
    """µs per command over a long run on a fresh database of each side: ``commands``
    commands timed as one block, so the WAL's growth and its checkpoints (SQLite's
    default every 1,000 pages on the raw side, ``SqliteStore``'s every 10,000) are paid
    inside the measure instead of falling between short rounds."""
    rng = random.Random(5)
    picks = [rng.randrange(len(tickets)) for _ in range(commands)]

    def ours() -> float:
        shutil.rmtree(folder / "sustained", ignore_errors=True)
        (folder / "sustained").mkdir()
        store = SqliteStore(folder / "sustained" / "ours.sqlite")
        store.import_tickets(([e], t) for e, t in tickets)
        current = {i: tickets[i][1] for i in set(picks)}
        took = _append_each(store, _comments(current, picks, itertools.count()))
        store.close()
        return took

    def raw() -> float:
        shutil.rmtree(folder / "sustained", ignore_errors=True)
        (folder / "sustained").mkdir()
        conn = _raw_sqlite(folder / "sustained" / "raw.sqlite")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [_raw_row(t, _doc(t)) for _, t in tickets],
        )
        conn.execute("COMMIT")
        versions = dict.fromkeys(set(picks), 1)
        work = [(tickets[i][1].id, i, _doc(_comment(tickets[i][1], 0)[1])) for i in picks]
        start = time.perf_counter()
        for ticket_id, i, doc in work:
            version = versions[i]
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "UPDATE docs SET version = ?, doc = ? WHERE id = ? AND version = ?",
                (version + 1, _dumps(doc), ticket_id, version),
            )
            conn.execute("COMMIT")
            versions[i] = version + 1
        took = time.perf_counter() - start
        conn.close()
        return took / commands * 1e6

    out = {"command_sustained": float("inf"), "raw_command_sustained": float("inf")}
    for round_ in range(rounds):
        order = [("command_sustained", ours), ("raw_command_sustained", raw)]
        for key, measure in order if round_ % 2 == 0 else order[::-1]:
            out[key] = min(out[key], measure())
    return out


# --- PostgreSQL ----------------------------------------------------------------------


def postgres(dsn: str, tickets: list[tuple[TicketOpened, Ticket]], commands: int) -> dict[str, Any]:
    """The same three comparisons against raw psycopg (schemas created and dropped)."""
    import psycopg

    from helpdesk_core.storage import PostgresStore

    ours_schema, raw_schema = f"bench_ours_{os.getpid()}", f"bench_raw_{os.getpid()}"
    admin = psycopg.connect(dsn, autocommit=True)

    def reset() -> psycopg.Connection[Any]:
        for schema in (ours_schema, raw_schema):
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.execute(f"CREATE SCHEMA {raw_schema}")
        conn = psycopg.connect(dsn, autocommit=True)
        conn.execute(f"SET search_path TO {raw_schema}")
        conn.execute(
            "CREATE TABLE docs (id text PRIMARY KEY, version integer NOT NULL, status text, "
            "team text, assignee text, requester text, created_at timestamptz, doc json NOT NULL)"
        )
        for column in ("status", "team", "assignee", "requester", "created_at"):
            conn.execute(f"CREATE INDEX ON docs ({column})")
        return conn

    def raw_rows() -> list[tuple[Any, ...]]:
        return [
            (t.id, 1, t.status, t.team, t.assignee, t.requester, t.created_at, _dumps(_doc(t)))
            for _, t in tickets
        ]

    result: dict[str, Any] = {}
    best = {
        k: float("inf")
        for k in ("import", "raw_import", "command", "raw_command", "load", "raw_load")
    }
    rng = random.Random(3)
    picks = [rng.randrange(len(tickets)) for _ in range(commands)]
    for _ in range(2):
        conn = reset()
        store = PostgresStore(dsn, schema=ours_schema)
        start = time.perf_counter()
        store.import_tickets(([e], t) for e, t in tickets)
        best["import"] = min(best["import"], (time.perf_counter() - start) / len(tickets) * 1e6)
        start = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany("INSERT INTO docs VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", raw_rows())
        best["raw_import"] = min(
            best["raw_import"], (time.perf_counter() - start) / len(tickets) * 1e6
        )
        current = {i: tickets[i][1] for i in set(picks)}
        command = _append_each(store, _comments(current, picks, itertools.count()))
        best["command"] = min(best["command"], command)
        versions = dict.fromkeys(set(picks), 1)
        raw_work = [(i, tickets[i][1].id, _doc(_comment(tickets[i][1], 0)[1])) for i in picks]
        start = time.perf_counter()
        for i, ticket_id, doc in raw_work:
            with conn.transaction():
                cur = conn.execute(
                    "UPDATE docs SET version = %s, doc = %s WHERE id = %s AND version = %s",
                    (versions[i] + 1, _dumps(doc), ticket_id, versions[i]),
                )
                assert cur.rowcount == 1
            versions[i] += 1
        best["raw_command"] = min(
            best["raw_command"], (time.perf_counter() - start) / len(raw_work) * 1e6
        )
        ids = [tickets[i][1].id for i in picks]

        # Reads change nothing: several interleaved rounds a database (order flipped each
        # round), as for SQLite, where one round each was at the mercy of a busy moment.
        loads: list[tuple[str, Callable[[], float]]] = [
            ("load", functools.partial(_each, store.load, ids)),
            ("raw_load", functools.partial(_each, functools.partial(_raw_pg_load, conn), ids)),
        ]
        for round_ in range(LOAD_ROUNDS):
            for key, measure in loads if round_ % 2 == 0 else loads[::-1]:
                best[key] = min(best[key], measure())
        store.close()
        conn.close()
    for schema in (ours_schema, raw_schema):
        admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    admin.close()
    result["us"] = best
    result["ratios"] = {
        "import": best["raw_import"] / best["import"],
        "command": best["raw_command"] / best["command"],
        "load": best["raw_load"] / best["load"],
    }
    return result


def _raw_pg_load(conn: Any, ticket_id: str) -> Any:
    return conn.execute("SELECT doc FROM docs WHERE id = %s", (ticket_id,)).fetchone()


def _reachable(dsn: str) -> bool:
    try:
        import psycopg

        psycopg.connect(dsn, connect_timeout=3).close()
        return True
    except Exception:
        return False


# --- memory --------------------------------------------------------------------------


def memory_per_ticket(count: int) -> dict[str, float]:
    """Bytes per small ticket held by a MemoryStore (tracemalloc), one event each."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    store = MemoryStore()
    start = time.perf_counter()
    for i in range(count):
        event = TicketOpened(
            ticket_id=f"T-{i:07d}",
            at=T0 + timedelta(seconds=i),
            by=Actor.requester("r"),
            number=i + 1,
            requester=f"r-{i % 5000}",
            subject=f"Printer {i} jammed",
            description="Paper jam on floor 3",
            tags=("printer",),
        )
        store.append(
            event.ticket_id,
            expected_version=0,
            events=[event],
            snapshot=fold([event]),
            wake_at=event.at if i % 2 else None,
        )
    took = time.perf_counter() - start
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    store.close()
    return {"tickets": count, "bytes_per_ticket": used / count, "seconds": took}


# --- main ----------------------------------------------------------------------------


def run(quick: bool = False, dsn: str | None = None) -> dict[str, Any]:
    """Run every comparison; return the figures (µs per operation) and ratios."""
    count = 1000 if quick else 5000
    commands = 300 if quick else 2000
    tickets = make_tickets(count)
    size = sum(len(_dumps(_doc(t))) for _, t in tickets) / count
    folder = Path(tempfile.mkdtemp(prefix="bench-storage-"))
    try:
        imported = sqlite_import(folder, tickets)
        ops = sqlite_command_and_load(folder, tickets, commands)
        ops.update(sqlite_sustained(folder, tickets, 5_000 if quick else 20_000))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result: dict[str, Any] = {
        "tickets": count,
        "commands": commands,
        "document_bytes": size,
        "sqlite_us": {**{f"import_{k}": v for k, v in imported.items()}, **ops},
        "ratios": {
            "sqlite_import": imported["raw"] / imported["ours"],
            "sqlite_import_vs_same_rows": imported["raw_with_events"] / imported["ours"],
            "sqlite_command": ops["raw_command"] / ops["command"],
            "sqlite_command_sustained": ops["raw_command_sustained"] / ops["command_sustained"],
            "sqlite_load": ops["raw_load"] / ops["load"],
            "sqlite_load_vs_select_only": ops["raw_select_only"] / ops["load"],
        },
    }
    dsn = dsn if dsn is not None else os.environ.get("HELPDESK_TEST_POSTGRES_DSN", "")
    if dsn and _reachable(dsn):
        pg = postgres(dsn, tickets[: count // 2], commands // 2)
        result["postgres_us"] = pg["us"]
        result["ratios"].update({f"postgres_{k}": v for k, v in pg["ratios"].items()})
    result["memory"] = memory_per_ticket(100_000 if quick else 1_000_000)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer tickets")
    parser.add_argument("--dsn", default=None, help="PostgreSQL DSN (default: env)")
    args = parser.parse_args()
    result = run(quick=args.quick, dsn=args.dsn)
    print(
        f"{result['tickets']:,} tickets, {result['commands']:,} commands, "
        f"snapshot JSON {result['document_bytes']:.0f} bytes"
    )
    print(f"{'operation':<44}{'ours µs':>10}{'raw µs':>10}{'ratio':>8}  target")
    us = result["sqlite_us"]
    ratios = result["ratios"]
    rows = [
        (
            "SQLite bulk import (per ticket)",
            us["import_ours"],
            us["import_raw"],
            ratios["sqlite_import"],
            TARGETS["import"],
        ),
        (
            "  raw also writing event + outbox rows",
            us["import_ours"],
            us["import_raw_with_events"],
            ratios["sqlite_import_vs_same_rows"],
            None,
        ),
        (
            "SQLite one command (append + commit)",
            us["command"],
            us["raw_command"],
            ratios["sqlite_command"],
            TARGETS["command"],
        ),
        (
            "  sustained: checkpoints included",
            us["command_sustained"],
            us["raw_command_sustained"],
            ratios["sqlite_command_sustained"],
            None,
        ),
        (
            "SQLite load by id (row -> value)",
            us["load"],
            us["raw_load"],
            ratios["sqlite_load"],
            TARGETS["load"],
        ),
        (
            "  raw select without json.loads",
            us["load"],
            us["raw_select_only"],
            ratios["sqlite_load_vs_select_only"],
            None,
        ),
    ]
    if "postgres_us" in result:
        pg = result["postgres_us"]
        rows += [
            (
                "PostgreSQL bulk import (per ticket)",
                pg["import"],
                pg["raw_import"],
                ratios["postgres_import"],
                TARGETS["import"],
            ),
            (
                "PostgreSQL one command",
                pg["command"],
                pg["raw_command"],
                ratios["postgres_command"],
                TARGETS["command"],
            ),
            (
                "PostgreSQL load by id",
                pg["load"],
                pg["raw_load"],
                ratios["postgres_load"],
                TARGETS["load"],
            ),
        ]
    else:
        print("(PostgreSQL not reachable: set HELPDESK_TEST_POSTGRES_DSN or --dsn)")
    for name, ours, raw, ratio, target in rows:
        verdict = (
            "" if target is None else (f">= {target:.0%}: {'met' if ratio >= target else 'MISSED'}")
        )
        print(f"{name:<44}{ours:>10.1f}{raw:>10.1f}{ratio:>8.0%}  {verdict}")
    memory = result["memory"]
    ok = "met" if memory["bytes_per_ticket"] < MEMORY_TARGET else "MISSED"
    print(
        f"MemoryStore: {memory['tickets']:,} small tickets, "
        f"{memory['bytes_per_ticket']:.0f} bytes per ticket "
        f"(< {MEMORY_TARGET} target: {ok}; built in {memory['seconds']:.1f} s)"
    )


if __name__ == "__main__":
    main()
