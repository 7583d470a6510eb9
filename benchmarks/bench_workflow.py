"""Benchmark: ticket lifecycles in helpdesk_core vs ``transitions`` and ``python-statemachine``.

The same lifecycle in all three: statuses new, open, pending, on_hold, solved, closed,
cancelled and the default transitions (open, pend, hold, resume, solve, reopen, close,
cancel) with the same guards (solve needs a resolution note and a public reply or first
contact; reopen must come within 7 days; cancel needs a reason). Each ticket walks
new -> open -> pending -> open -> solved -> open -> solved -> closed: 7 transitions.

    python benchmarks/bench_workflow.py            # 100,000 tickets
    python benchmarks/bench_workflow.py --quick    # 10,000 tickets

What is measured, per library, on the same tickets in one run:

* **transition** - microseconds per transition over the 7-step walk of every ticket. Ours
  is ``apply_transition`` returning the new immutable ticket *and* its ``StatusChanged``
  event (collected in a list, as a service would); theirs is a trigger call on one machine
  per ticket (``transitions``: ``Machine(model=..., auto_transitions=False)``, the cheaper
  setting; ``python-statemachine``: one ``StateMachine`` instance per ticket). Tickets are
  processed in chunks of 1,000; each library walks the chunk in turn, in an order that
  rotates from chunk to chunk, so load changes on the machine and caches left cold by the
  previous library hit all of them alike. Each library starts a chunk from objects made
  just before (our tickets are created per chunk, as their models and machines are). The
  cyclic garbage collector is paused while timing (as ``timeit`` does) and runs between
  chunks. The table shows the mean over all tickets; each ratio is the median over chunks
  of the two libraries' times on that chunk.
* **set-up** - microseconds per ticket to make it ready for its first transition. Theirs:
  building the per-ticket machine. Ours: the lifecycle is one shared table, so set-up is
  finding the ticket's lifecycle (``Lifecycles.for_ticket``) and checking its status. The
  cost of creating a whole ticket (``replay([TicketOpened(...)])``, every field validated)
  is reported beside it as ``ticket creation``, for context.
* **memory** - bytes per ticket of state-machine overhead, by ``tracemalloc`` over the
  set-up of 2,000 tickets. Theirs: the machine objects (the model objects are created
  before tracing starts). Ours: what binding a ticket to its shared lifecycle allocates
  (nothing), plus the three slots a ticket spends on lifecycle state (``lifecycle``,
  ``status``, ``status_category``: references to shared strings and an enum member, 8
  bytes each). The whole ticket's allocation is reported beside it for context.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from helpdesk_core.model import Actor, Event, Ticket, TicketOpened, replay
from helpdesk_core.workflow import Lifecycle, Lifecycles, apply_transition

TARGETS = {"transition": 2.0, "setup": 50.0, "memory": 20.0}
STATUSES = ["new", "open", "pending", "on_hold", "solved", "closed", "cancelled"]
ACTIVE = ["new", "open", "pending", "on_hold"]
WALK = ("open", "pend", "resume", "solve", "reopen", "solve", "close")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
WINDOW = timedelta(days=7)
AGENT = Actor.agent("a-1")
CHUNK = 1_000
MEMORY_SAMPLE = 2_000
SLOT_BYTES = 8
LIFECYCLE_SLOTS = ("lifecycle", "status", "status_category")


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _kwargs(step: str) -> dict[str, Any]:
    if step == "solve":
        return {"resolution": "restarted the service", "first_contact": True}
    return {}


_KWARGS = {step: _kwargs(step) for step in WALK}


# -- helpdesk_core ------------------------------------------------------------------------


def _open_ticket(i: int) -> Ticket:
    return replay(
        [
            TicketOpened(
                ticket_id=f"T-{i}",
                at=T0,
                by=Actor.requester("r-1"),
                number=i,
                requester="r-1",
                subject="printer on fire",
            )
        ]
    )


def _open_tickets(lo: int, hi: int) -> list[Ticket]:
    return [_open_ticket(i) for i in range(lo, hi)]


def _ours_walk(ticket: Ticket, lifecycle: Lifecycle, events: list[Event]) -> None:
    for step in WALK:
        ticket, produced = apply_transition(
            ticket, lifecycle, step, by=AGENT, now=NOW, **_KWARGS[step]
        )
        events.extend(produced)
    assert ticket.status == "closed"


def _ours_walks(tickets: list[Ticket], lifecycle: Lifecycle, events: list[Event]) -> None:
    for ticket in tickets:
        _ours_walk(ticket, lifecycle, events)


def _each(walk: Callable[[Any], None], items: list[Any]) -> None:
    for item in items:
        walk(item)


def _ours_setup(tickets: list[Ticket], registry: Lifecycles) -> None:
    for ticket in tickets:
        lifecycle = registry.for_ticket(ticket)
        assert lifecycle.has_status(ticket.status)


# -- transitions --------------------------------------------------------------------------


class _TrModel:
    """A ticket as ``transitions`` users write it: the machine decorates this object."""

    def __init__(self) -> None:
        self.public_replies = 0
        self.solved_at: datetime | None = None

    def can_solve(self, resolution: str | None = None, first_contact: bool = False) -> bool:
        return bool(resolution and resolution.strip()) and (
            self.public_replies > 0 or first_contact
        )

    def in_window(self, **_: Any) -> bool:
        return self.solved_at is None or NOW - self.solved_at <= WINDOW

    def has_reason(self, reason: str | None = None, **_: Any) -> bool:
        return bool(reason and reason.strip())

    def mark_solved(self, **_: Any) -> None:
        self.solved_at = NOW


_TR_TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "open", "source": "new", "dest": "open"},
    {"trigger": "pend", "source": "open", "dest": "pending"},
    {"trigger": "hold", "source": "open", "dest": "on_hold"},
    {"trigger": "resume", "source": ["pending", "on_hold"], "dest": "open"},
    {
        "trigger": "solve",
        "source": ACTIVE,
        "dest": "solved",
        "conditions": "can_solve",
        "after": "mark_solved",
    },
    {"trigger": "reopen", "source": "solved", "dest": "open", "conditions": "in_window"},
    {"trigger": "close", "source": "solved", "dest": "closed"},
    {
        "trigger": "cancel",
        "source": [*ACTIVE, "solved"],
        "dest": "cancelled",
        "conditions": "has_reason",
    },
]


def _tr_setup(models: list[_TrModel]) -> list[Any]:
    from transitions import Machine

    return [
        Machine(
            model=m,
            states=STATUSES,
            transitions=_TR_TRANSITIONS,
            initial="new",
            auto_transitions=False,
        )
        for m in models
    ]


def _tr_walk(model: _TrModel) -> None:
    for step in WALK:
        if not getattr(model, step)(**_KWARGS[step]):
            raise AssertionError(f"transitions refused {step}")
    assert model.state == "closed"  # type: ignore[attr-defined]


# -- python-statemachine ------------------------------------------------------------------


def _psm_class() -> type:
    from statemachine import State, StateMachine

    class TicketMachine(StateMachine):  # type: ignore[misc]
        new = State(initial=True)
        open_ = State(value="open")
        pending = State()
        on_hold = State()
        solved = State()
        closed = State(final=True)
        cancelled = State(final=True)

        open = new.to(open_)
        pend = open_.to(pending)
        hold = open_.to(on_hold)
        resume = pending.to(open_) | on_hold.to(open_)
        solve = (
            new.to(solved, cond="can_solve")
            | open_.to(solved, cond="can_solve")
            | pending.to(solved, cond="can_solve")
            | on_hold.to(solved, cond="can_solve")
        )
        reopen = solved.to(open_, cond="in_window")
        close = solved.to(closed)
        cancel = (
            new.to(cancelled, cond="has_reason")
            | open_.to(cancelled, cond="has_reason")
            | pending.to(cancelled, cond="has_reason")
            | on_hold.to(cancelled, cond="has_reason")
            | solved.to(cancelled, cond="has_reason")
        )

        def __init__(self) -> None:
            self.public_replies = 0
            self.solved_at: datetime | None = None
            super().__init__()

        def can_solve(self, resolution: str | None = None, first_contact: bool = False) -> bool:
            return bool(resolution and resolution.strip()) and (
                self.public_replies > 0 or first_contact
            )

        def in_window(self) -> bool:
            return self.solved_at is None or NOW - self.solved_at <= WINDOW

        def has_reason(self, reason: str | None = None) -> bool:
            return bool(reason and reason.strip())

        def on_enter_solved(self) -> None:
            self.solved_at = NOW

    return TicketMachine


def _psm_setup(cls: type, count: int) -> list[Any]:
    return [cls() for _ in range(count)]


def _psm_walk(machine: Any) -> None:
    for step in WALK:
        getattr(machine, step)(**_KWARGS[step])
    assert machine.closed.is_active


# -- measuring ----------------------------------------------------------------------------


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """Seconds ``fn`` takes with the cyclic garbage collector paused (as ``timeit`` does):
    otherwise a collection triggered by one library's allocations walks every object the
    others keep alive, and the figures measure the heap instead of the library."""
    gc.disable()
    try:
        start = time.perf_counter()
        result = fn(*args)
        return time.perf_counter() - start, result
    finally:
        gc.enable()


def _traced_bytes(fn: Callable[[], Any]) -> tuple[int, Any]:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = fn()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return after - before, result


def _memory(peers: dict[str, bool], registry: Lifecycles) -> dict[str, float]:
    n = MEMORY_SAMPLE
    out: dict[str, float] = {}
    whole, tickets = _traced_bytes(lambda: [_open_ticket(i) for i in range(n)])
    bound, _ = _traced_bytes(lambda: _ours_setup(tickets, registry))
    out["helpdesk_core"] = bound / n + SLOT_BYTES * len(LIFECYCLE_SLOTS)
    out["helpdesk_core ticket (whole)"] = whole / n
    if peers["transitions"]:
        models = [_TrModel() for _ in range(n)]
        used, _ = _traced_bytes(lambda: _tr_setup(models))
        out["transitions"] = used / n
    if peers["python-statemachine"]:
        cls = _psm_class()
        used, _ = _traced_bytes(lambda: _psm_setup(cls, n))
        out["python-statemachine"] = used / n
    return out


def run(quick: bool = False) -> dict[str, Any]:
    """Run the benchmark; returns per-library figures (µs, bytes) and the ratios."""
    n = 10_000 if quick else 100_000
    peers = {
        "transitions": _installed("transitions"),
        "python-statemachine": _installed("statemachine"),
    }
    lifecycle = Lifecycle.default()
    registry = Lifecycles(lifecycles=[lifecycle])
    psm_cls = _psm_class() if peers["python-statemachine"] else None

    create_s = 0.0
    libs = ["helpdesk_core", *(peer for peer, ok in peers.items() if ok)]
    setup: dict[str, list[float]] = {lib: [] for lib in libs}
    walk: dict[str, list[float]] = {lib: [] for lib in libs}
    events: list[Event] = []
    for lo in range(0, n, CHUNK):
        gc.collect()
        seconds, chunk = _timed(_open_tickets, lo, min(lo + CHUNK, n))
        create_s += seconds
        seconds, _ = _timed(_ours_setup, chunk, registry)
        setup["helpdesk_core"].append(seconds)
        models: list[_TrModel] = []
        machines: list[Any] = []
        if peers["transitions"]:
            models = [_TrModel() for _ in chunk]
            seconds, _ = _timed(_tr_setup, models)
            setup["transitions"].append(seconds)
        if psm_cls is not None:
            seconds, machines = _timed(_psm_setup, psm_cls, len(chunk))
            setup["python-statemachine"].append(seconds)
        # Each library walks the whole chunk in turn; the order rotates from chunk to chunk
        # so that none always runs first, after the previous chunk's work left the caches.
        jobs: dict[str, tuple[Callable[..., None], tuple[Any, ...]]] = {
            "helpdesk_core": (_ours_walks, (chunk, lifecycle, events)),
            "transitions": (_each, (_tr_walk, models)),
            "python-statemachine": (_each, (_psm_walk, machines)),
        }
        spent: dict[str, float] = {}
        turn = (lo // CHUNK) % len(libs)
        for lib in libs[turn:] + libs[:turn]:
            fn, args = jobs[lib]
            spent[lib], _ = _timed(fn, *args)
        for lib in libs:
            walk[lib].append(spent[lib])
        assert len(events) == len(chunk) * len(WALK)
        events.clear()

    count = n * len(WALK)
    memory = _memory(peers, registry)
    result: dict[str, Any] = {
        "tickets": n,
        "transitions": count,
        "peers": peers,
        "transition_us": {lib: sum(walk[lib]) / count * 1e6 for lib in libs},
        "setup_us": {lib: sum(setup[lib]) / n * 1e6 for lib in libs},
        "ticket_creation_us": create_s / n * 1e6,
        "memory_bytes": memory,
    }
    ratios: dict[str, float] = {}
    for peer in libs[1:]:
        ratios[f"transition vs {peer}"] = _paired(walk[peer], walk["helpdesk_core"])
        ratios[f"setup vs {peer}"] = _paired(setup[peer], setup["helpdesk_core"])
        ratios[f"memory vs {peer}"] = memory[peer] / memory["helpdesk_core"]
    result["ratios"] = ratios
    return result


def _paired(theirs: list[float], ours: list[float]) -> float:
    """The median over chunks of their time / our time on the same chunk (measured back to
    back, so a busy moment on the machine weighs on both sides of a ratio)."""
    return statistics.median(t / o for t, o in zip(theirs, ours))


def _print(result: dict[str, Any]) -> None:
    print(
        f"{result['tickets']:,} tickets, {result['transitions']:,} transitions "
        "(new>open>pending>open>solved>open>solved>closed)\n"
    )
    header = f"{'library':<22}{'µs/transition':>15}{'µs/set-up':>12}{'bytes/ticket':>15}"
    print(header)
    print("-" * len(header))
    for lib in ("helpdesk_core", "transitions", "python-statemachine"):
        if lib not in result["transition_us"]:
            print(f"{lib:<22}{'not installed':>15}")
            continue
        print(
            f"{lib:<22}{result['transition_us'][lib]:>15.2f}{result['setup_us'][lib]:>12.2f}"
            f"{result['memory_bytes'][lib]:>15,.0f}"
        )
    print(
        f"\nfor context: whole ticket creation {result['ticket_creation_us']:.1f} µs, "
        f"{result['memory_bytes']['helpdesk_core ticket (whole)']:,.0f} bytes per ticket"
    )
    print("\nratios (peer / helpdesk_core, median over chunks; higher favours helpdesk_core):")
    for name, value in result["ratios"].items():
        kind = name.split()[0]
        target = TARGETS[kind] if name.endswith("vs transitions") else None
        verdict = "" if target is None else (" ok" if value >= target else " BELOW TARGET")
        goal = "" if target is None else f"  (target >= {target:g}x)"
        print(f"  {name:<36}{value:>10.1f}x{goal}{verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 tickets instead of 100,000")
    _print(run(quick=parser.parse_args().quick))
