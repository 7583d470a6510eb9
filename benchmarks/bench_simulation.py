"""Simulation throughput: the same M/M/6 model (10 arrivals an hour, 30 minutes of mean
work) in simpy, ciw, our bare queueing fast path and our full desk, in one run.

Run ``python benchmarks/bench_simulation.py [--quick]``. Figures are customers (tickets)
per second of wall time; the ratios compare with simpy.
"""

from __future__ import annotations

import random
import sys
import time
from typing import Any

RATE_PER_HOUR = 10.0
MEAN_WORK_MIN = 30.0
AGENTS = 6


def bench_simpy(customers: int, seed: int = 1) -> float | None:
    try:
        import simpy
    except ImportError:
        return None
    rng = random.Random(seed)
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=AGENTS)
    lam = RATE_PER_HOUR / 60.0
    mu = 1.0 / MEAN_WORK_MIN
    done = [0]

    def customer(env: Any) -> Any:
        with agents.request() as request:
            yield request
            yield env.timeout(rng.expovariate(mu))
        done[0] += 1

    def source(env: Any) -> Any:
        for _ in range(customers):
            env.process(customer(env))
            yield env.timeout(rng.expovariate(lam))

    env.process(source(env))
    start = time.perf_counter()
    env.run()
    elapsed = time.perf_counter() - start
    assert done[0] == customers
    return customers / elapsed


def bench_ciw(customers: int, seed: int = 1) -> float | None:
    try:
        import ciw
    except ImportError:
        return None
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=RATE_PER_HOUR / 60.0)],
        service_distributions=[ciw.dists.Exponential(rate=1.0 / MEAN_WORK_MIN)],
        number_of_servers=[AGENTS],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    horizon = customers / (RATE_PER_HOUR / 60.0)
    start = time.perf_counter()
    sim.simulate_until_max_time(horizon)
    elapsed = time.perf_counter() - start
    served = len(sim.get_all_records())
    return served / elapsed


def bench_fast_path(customers: int, seed: int = 1) -> float:
    from helpdesk_core.simulation import simulate_queue

    start = time.perf_counter()
    simulate_queue(arrivals_per_hour=RATE_PER_HOUR, agents=[AGENTS],
                   work=[f"{MEAN_WORK_MIN:g}m"], tickets=customers, seed=seed)
    return customers / (time.perf_counter() - start)


def bench_full_desk(days: float, seed: int = 1) -> tuple[float, int]:
    """Tickets a second through the whole desk, and how many tickets that was."""
    rate, tickets, _ = _full_desk(days, seed)
    return rate, tickets


def _full_desk(days: float, seed: int = 1) -> tuple[float, int, dict[str, float]]:
    from helpdesk_core.simulation import Scenario, simulate

    doc = {
        "desk": {
            "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
            "tiers": [{"id": "L1", "teams": ["q"]}],
            "teams": [{"id": "q"}],
            "agents": [{"id": f"a{i}", "tier": "L1", "teams": ["q"], "capacity": 1}
                       for i in range(AGENTS)],
            "sla_policies": [{"name": "std", "calendar": "always",
                              "targets": {"medium": {"first_response": "1h",
                                                     "resolution": "8h"}}}],
            "routing": [{"name": f"rule{i}", "when": {"field": "category", "op": "eq",
                                                      "value": f"c{i}"},
                         "actions": {"add_tags": [f"t{i}"]}} for i in range(20)],
            "assignment": {"strategy": "least_loaded", "queue_order": "oldest"},
        },
        "simulation": {"start": "2026-01-05T00:00:00+00:00", "days": days},
        "arrivals": {"rate_per_hour": RATE_PER_HOUR},
        "tiers": {"L1": {"work": f"{MEAN_WORK_MIN:g}m"}},
        "requesters": {"count": 200},
    }
    scenario = Scenario.from_dict(doc)
    start = time.perf_counter()
    result = simulate(scenario, seed=seed)
    elapsed = time.perf_counter() - start
    tickets = len(result.records)
    # What a ticket costs: the desk records every event through validation, the fold,
    # the SLA engine and the store (the queueing models above record none).
    events = len(result.events)
    detail = {
        "events_per_ticket": events / tickets,
        "us_per_event": elapsed / events * 1e6,
        "us_per_ticket": elapsed / tickets * 1e6,
        "events_floor_us_per_ticket": _events_floor(result.events) / tickets * 1e6,
    }
    return tickets / elapsed, tickets, detail


def _events_floor(events: list[Any], rounds: int = 3) -> float:
    """Seconds to build the run's events again (each through its validating constructor)
    and fold each ticket's into its snapshot: a floor under any whole-desk run that
    records these events, before routing, SLA clocks, assignment and storage."""
    import attrs

    from helpdesk_core.model import apply_event

    by_ticket: dict[str, list[Any]] = {}
    for event in events:
        by_ticket.setdefault(event.ticket_id, []).append(event)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for history in by_ticket.values():
            ticket = None
            for event in history:
                ticket = apply_event(ticket, attrs.evolve(event))
        best = min(best, time.perf_counter() - start)
    return best


def run(quick: bool = False) -> dict[str, Any]:
    customers = 20_000 if quick else 100_000
    days = 10.0 if quick else 40.0
    simpy_rate = bench_simpy(customers)
    ciw_rate = bench_ciw(customers // (4 if quick else 2))
    fast = bench_fast_path(customers)
    full, full_tickets, detail = _full_desk(days)
    figures: dict[str, Any] = {
        "customers": customers,
        "simpy_per_s": simpy_rate,
        "ciw_per_s": ciw_rate,
        "fast_path_per_s": fast,
        "full_desk_per_s": full,
        "full_desk_tickets": full_tickets,
        **{f"full_desk_{name}": value for name, value in detail.items()},
    }
    if simpy_rate:
        figures["fast_path_vs_simpy"] = fast / simpy_rate
        figures["full_desk_vs_simpy"] = full / simpy_rate
        # What a ticket may cost at the whole-desk target, against the floor above.
        figures["full_desk_target_us_per_ticket"] = 1e6 / (0.25 * simpy_rate)
    return figures


def main() -> None:
    figures = run(quick="--quick" in sys.argv)
    print(f"M/M/{AGENTS}, {RATE_PER_HOUR:g}/h, {MEAN_WORK_MIN:g} min mean work")
    for name in ("simpy_per_s", "ciw_per_s", "fast_path_per_s", "full_desk_per_s"):
        value = figures[name]
        print(f"  {name:<18} {'not installed' if value is None else f'{value:>12,.0f}'}")
    if "fast_path_vs_simpy" in figures:
        print(f"  fast path / simpy  {figures['fast_path_vs_simpy']:.2f}x  (target >= 1.5)")
        print(f"  full desk / simpy  {figures['full_desk_vs_simpy']:.3f}x (target >= 0.25)")


if __name__ == "__main__":
    main()
