"""The facade's overhead: tickets per second through open → reply → solve → close with
routing over 50 rules and two SLA policies, against the sum of the parts measured alone
(routing, SLA clocks, workflow, store) on the same work.

Run ``python benchmarks/bench_service.py [--quick]``.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester, SqliteStore
from helpdesk_core.ids import SequentialIds
from helpdesk_core.model import (
    Actor,
    Assigned,
    CommentAdded,
    CsatRequested,
    Event,
    TicketOpened,
    TicketRouted,
    apply_event,
    replay,
)
from helpdesk_core.routing import AgentLoad, AssignSpec, assign
from helpdesk_core.sla import next_wakeup, react, select_policy
from helpdesk_core.storage import Store
from helpdesk_core.workflow import apply_transition, auto_close_due

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CATEGORIES = [f"cat{i}" for i in range(25)]
_FILES = itertools.count()  # a fresh database file per measured run


def config() -> DeskConfig:
    rules = []
    for i in range(50):
        if i % 2:
            when: dict[str, Any] = {"field": "category", "op": "eq", "value": CATEGORIES[i % 25]}
        else:
            when = {"field": "channel", "op": "eq", "value": ["email", "web", "phone"][i % 3]}
        rules.append({"name": f"rule-{i}", "when": when, "actions": {"add_tags": [f"t{i}"]}})
    return DeskConfig.from_dict({
        "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}},
                      "office": {"timezone": "Europe/Berlin", "hours": {"mon-fri": "08:00-18:00"}}},
        "tiers": [{"id": "L1", "teams": ["desk"]}],
        "teams": [{"id": "desk"}],
        "agents": [{"id": f"a{i}", "tier": "L1", "teams": ["desk"], "capacity": 10_000}
                   for i in range(5)],
        "sla_policies": [
            {"name": "p1", "calendar": "always",
             "when": {"field": "priority", "op": "eq", "value": "critical"},
             "targets": {"critical": {"first_response": "30m", "resolution": "4h"}}},
            {"name": "std", "calendar": "office",
             "targets": {"medium": {"first_response": "4h", "resolution": "3d"},
                         "high": {"first_response": "1h", "resolution": "1d"}}},
        ],
        "routing": rules,
    })


def run_facade(store: Store, n: int) -> float:
    clock = ManualClock(START)
    desk = Helpdesk(config=config(), store=store, clock=clock, ids=SequentialIds())
    requester = Requester(id="ada", name="Ada")
    desk.upsert_requester(requester)
    begin = time.perf_counter()
    for i in range(n):
        ticket = desk.open(requester="ada", subject="VPN issue", category=CATEGORIES[i % 25],
                           channel=["email", "web", "phone"][i % 3])
        agent = ticket.assignee or "a0"
        desk.reply(ticket.id, author=agent, body="On it")
        desk.solve(ticket.id, by=agent, resolution="Fixed")
        desk.close(ticket.id, by=agent)
        clock.advance(seconds=30)
    return time.perf_counter() - begin


def run_parts(store: Store, n: int) -> dict[str, float]:
    """The same work done by the parts directly, each timed on its own: the facade's
    events (the CSAT request on solve included), its SLA policy choice, the wake-up
    instant it stores with each snapshot, and the store reads an opening makes (ticket
    number, the requester and their earlier tickets)."""
    cfg = config()
    lifecycle = cfg.lifecycle_for("incident")
    policies = cfg.sla_policies
    calendars = cfg.calendars
    times = {"routing": 0.0, "sla": 0.0, "workflow": 0.0, "store": 0.0}
    # routing includes picking the assignee (rules + assignment strategy)
    at = START
    agent = Actor.agent("a0")
    spec = AssignSpec(strategy="least_loaded")
    store.save_requester(Requester(id="ada", name="Ada"))
    for i in range(n):
        ticket_id = f"P-{i}"
        t0 = time.perf_counter()
        requester = store.get_requester("ada")
        history = tuple(store.requester_ticket_ids("ada", limit=20))
        number = store.allocate_number()
        # Building the events the desk records is part of the work (timed as workflow).
        t1 = time.perf_counter()
        opened = TicketOpened(ticket_id=ticket_id, at=at, by=requester.actor, number=number,
                              requester="ada", subject="VPN issue", history=history,
                              category=CATEGORIES[i % 25], channel=["email", "web", "phone"][i % 3])
        t2 = time.perf_counter()
        times["store"] += t1 - t0
        times["workflow"] += t2 - t1
        t0 = time.perf_counter()
        ticket = replay([opened])
        decision = cfg.routing.evaluate(ticket, requester=requester, now=at, calendars=calendars)
        routed = TicketRouted(ticket_id=ticket_id, at=at, by=Actor.system("routing"),
                              changes=decision.changes, rules=decision.rules)
        ticket = apply_event(ticket, routed)
        loads = {
            agent_id: AgentLoad(active=sum(counts.values()), weighted=sum(counts.values()))
            for agent_id, counts in store.agent_loads().items()
        }
        choice = assign(ticket, candidates=cfg.agents, spec=spec, loads=loads, now=at,
                        calendars=calendars)
        assigned = Assigned(ticket_id=ticket_id, at=at, by=Actor.system("assignment"),
                            assignee=choice.agent)
        ticket = apply_event(ticket, assigned)
        t1 = time.perf_counter()
        policy = select_policy(policies, ticket, requester=requester, now=at, calendars=calendars)
        sla_events = react(ticket, opened, policy=policy, policies=policies, calendars=calendars)
        for e in sla_events:
            ticket = apply_event(ticket, e)
        wake_at = next_wakeup(ticket)
        t2 = time.perf_counter()
        store.append(ticket_id, expected_version=0,
                     events=[opened, routed, assigned, *sla_events], snapshot=ticket,
                     wake_at=wake_at)
        t3 = time.perf_counter()
        times["routing"] += t1 - t0
        times["sla"] += t2 - t1
        times["store"] += t3 - t2
        version = ticket.version
        for step in ("reply", "open", "solve", "close"):
            t0 = time.perf_counter()
            loaded = store.load(ticket_id)
            t1 = time.perf_counter()
            events: list[Event]
            if step == "reply":
                reply = CommentAdded(ticket_id=ticket_id, at=at, by=agent, comment_id=f"C-{i}",
                                     body="On it")
                ticket = apply_event(loaded, reply)
                events = [reply]
            else:
                ticket, events = apply_transition(loaded, lifecycle, step, by=agent, now=at,
                                                  resolution="Fixed")
            t2 = time.perf_counter()
            more: list[Event] = []
            for event in events:
                more += react(ticket, event, policy=policy, policies=policies,
                              calendars=calendars)
            for e in more:
                ticket = apply_event(ticket, e)
            wake_at = next_wakeup(ticket)
            t3 = time.perf_counter()
            if step == "solve":
                csat = CsatRequested(ticket_id=ticket_id, at=at, by=Actor.system("csat"))
                ticket = apply_event(ticket, csat)
                more.append(csat)
                closes = auto_close_due(ticket, lifecycle, calendars)
                if closes is not None and (wake_at is None or closes < wake_at):
                    wake_at = closes
            t4 = time.perf_counter()
            store.append(ticket_id, expected_version=version, events=[*events, *more],
                         snapshot=ticket, wake_at=wake_at)
            version = ticket.version
            t5 = time.perf_counter()
            times["store"] += (t1 - t0) + (t5 - t4)
            times["workflow"] += (t2 - t1) + (t4 - t3)
            times["sla"] += t3 - t2
        at += timedelta(seconds=30)
    return times


def run(quick: bool = False, rounds: int | None = None) -> dict[str, Any]:
    """Facade and parts on each store, after an untimed warm-up of each, in interleaved
    rounds (the order flips each round, so a busy moment on the machine hits both sides
    alike); the best round of each."""
    n = 300 if quick else 2_000
    rounds = rounds if rounds is not None else (3 if quick else 5)
    out: dict[str, Any] = {"tickets": n, "rounds": rounds}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("memory", "sqlite"):

            def make(kind: str = name) -> Store:
                if kind == "memory":
                    return MemoryStore()
                return SqliteStore(Path(tmp) / f"{kind}-{next(_FILES)}.db")

            facade = float("inf")
            parts: dict[str, float] | None = None
            # one untimed warm-up of each side: first calls fill lazy caches on both
            run_facade(make(), 50)
            run_parts(make(), 50)
            for round_ in range(rounds):
                order = ("facade", "parts") if round_ % 2 == 0 else ("parts", "facade")
                for side in order:
                    if side == "facade":
                        facade = min(facade, run_facade(make(), n))
                    else:
                        measured = run_parts(make(), n)
                        if parts is None or sum(measured.values()) < sum(parts.values()):
                            parts = measured
            assert parts is not None
            total = sum(parts.values())
            out[name] = {
                "facade_tickets_per_s": n / facade,
                "parts_tickets_per_s": n / total,
                "parts_seconds": parts,
                "overhead": facade / total - 1.0,
            }
    return out


def main() -> None:
    figures = run(quick="--quick" in sys.argv)
    print(f"{figures['tickets']} tickets: open → reply → solve → close, 50 rules, 2 SLA policies")
    for name in ("memory", "sqlite"):
        f = figures[name]
        parts = ", ".join(f"{k} {v:.2f}s" for k, v in f["parts_seconds"].items())
        print(f"  {name:<7} facade {f['facade_tickets_per_s']:8.0f}/s   parts alone "
              f"{f['parts_tickets_per_s']:8.0f}/s   overhead {100 * f['overhead']:5.1f}% "
              f"(target <= 30%)   [{parts}]")


if __name__ == "__main__":
    main()
