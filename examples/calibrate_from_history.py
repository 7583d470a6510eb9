"""Plan from your own desk's history: measure a scenario from the events a desk stored,
then ask a what-if of it. Run: python examples/calibrate_from_history.py

The history here is six simulated weeks of the bundled IT desk, stored in SQLite the way
a live desk stores its events; point ``calibrate`` at your own store instead.
"""

from __future__ import annotations

import tempfile
import tomllib
from collections import defaultdict
from pathlib import Path

import attrs

import helpdesk_core
from helpdesk_core.model import Event, replay
from helpdesk_core.simulation import Scenario, calibrate, simulate
from helpdesk_core.storage import SqliteStore

DATA = Path(helpdesk_core.__file__).parent / "data"


def stored_history(path: Path) -> Scenario:
    """Six weeks of the example desk's events in an SQLite store at ``path``."""
    scenario = attrs.evolve(Scenario.from_toml(DATA / "it_desk_scenario.toml"), days=42.0)
    by_ticket: dict[str, list[Event]] = defaultdict(list)
    for event in simulate(scenario, seed=7).events:
        by_ticket[event.ticket_id].append(event)
    store = SqliteStore(path)
    store.import_tickets((events, replay(events)) for events in by_ticket.values())
    store.close()
    return scenario


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "desk.sqlite"
        desk = stored_history(database).desk
        store = SqliteStore(database)
        measured = calibrate(store, desk=desk, profile="weekdays_hours")
        store.close()

    figures = measured.document
    print(f"{measured.tickets} tickets from {measured.start:%Y-%m-%d} to {measured.end:%Y-%m-%d}")
    print(f"  {figures['arrivals']['rate_per_hour']:.2f} tickets an hour on average")
    for tier, shares in figures["tiers"].items():
        solve = f"solves {shares['solve']:.0%}, " if "solve" in shares else ""
        print(f"  {tier}: {solve}asks the requester first {shares['pending']:.0%} "
              f"({measured.counts[f'tiers.{tier}.pending']} decisions)")
    print(f"  requesters reply after {figures['requesters']['reply']['mean']} on average")

    # The measured figures in the scenario that says what a history cannot: the desk,
    # work times, routing of escalations.
    document = tomllib.loads((DATA / "it_desk_scenario.toml").read_text())
    document["desk"] = str(DATA / "it_desk.toml")
    planned = Scenario.from_dict(measured.merge(document))
    planned = attrs.evolve(planned, days=21.0, warmup_days=2.0)

    # What if the Monday peak doubles?
    weekdays = list(figures["arrivals"]["weekdays"])
    weekdays[0] *= 2
    busier = measured.merge(document)  # a copy: change it at will
    busier["arrivals"]["weekdays"] = weekdays
    busier_scenario = attrs.evolve(Scenario.from_dict(busier), days=21.0, warmup_days=2.0)
    for name, scenario in (("as measured", planned), ("Monday peak doubled", busier_scenario)):
        kpis = simulate(scenario, seed=1).kpis
        compliance = ", ".join(f"{m.replace('_', ' ')} {v:.0%}"
                               for m, v in kpis.sla_compliance.items())
        print(f"{name}: {kpis.tickets} tickets, SLA {compliance}")


if __name__ == "__main__":
    main()
