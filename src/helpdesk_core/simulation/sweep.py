"""Sweeps: run a grid of scenario variants and seeds on any ``concurrent.futures.Executor``.

``vary`` maps dotted paths in the scenario document (``"staffing.service-desk-emea"``,
``"arrivals.rate_per_hour"``, ``"tiers.L1.solve"``, a list item by its index:
``"arrivals.bursts.0.multiplier"``) to the values to try; every
combination runs with every seed. The runs of one seed share their random numbers: variants
that leave the arrival rate, profile and bursts alone see the tickets arrive at the same
instants (see :mod:`helpdesk_core.simulation.engine`). A process pool is the default; a
Dask cluster (``client.get_executor()``) or Ray's executor spread the same sweep over
machines.
"""

from __future__ import annotations

import copy
import itertools
import os
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from attrs import fields, frozen

from helpdesk_core._numbers import whole_number
from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.simulation.engine import simulate
from helpdesk_core.simulation.result import Kpis
from helpdesk_core.simulation.scenario import Scenario, folder

__all__ = ["SweepRow", "sweep"]


@frozen
class SweepRow:
    """One run of a sweep: the values varied, the seed, and the KPIs."""

    values: Mapping[str, Any]
    seed: int
    kpis: Kpis

    def flat(self) -> dict[str, Any]:
        """Values, seed and every KPI as one flat dict (a table row): durations (means and
        p90s) as ``<name>_hours``, SLA compliance as ``sla_<metric>``."""
        row: dict[str, Any] = dict(self.values)
        row["seed"] = self.seed
        for kpi in fields(Kpis):
            value = getattr(self.kpis, kpi.name)
            if kpi.name == "sla_compliance":
                for metric, share in value.items():
                    row[f"sla_{metric}"] = share
            elif kpi.name in _DURATION_KPIS:
                row[f"{kpi.name}_hours"] = None if value is None else value.total_seconds() / 3600
            else:
                row[kpi.name] = value
        return row


#: The KPIs that are durations (None when no ticket has one): hours in a flat row.
_DURATION_KPIS = frozenset(
    {"mean_wait_for_agent", "mean_first_response", "p90_first_response", "mean_resolution",
     "p90_resolution"}
)


def _set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at the dotted ``path`` of ``doc``: a table's key (made if missing),
    or a whole number indexing a list (``arrivals.bursts.0.multiplier``)."""
    parts = path.split(".")
    target: Any = doc
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(target, list):
            index = int(part) if part.isdigit() else None
            if index is None or index >= len(target):
                where = ".".join(parts[:depth])
                indices = f"from 0 to {len(target) - 1}" if target else "none: it is empty"
                raise ConfigError(
                    f"cannot set {path!r}: {where!r} is a list (its indices: {indices})",
                    path=path,
                )
            if last:
                target[index] = value
            else:
                target = target[index]
            continue
        if not isinstance(target, dict):
            raise ConfigError(
                f"cannot set {path!r}: {'.'.join(parts[:depth])!r} holds "
                f"{type(target).__name__} {target!r:.60}, not a table",
                path=path,
            )
        if last:
            target[part] = value
        else:
            target = target.setdefault(part, {})


def _run_one(document: dict[str, Any], base: str | None, values: dict[str, Any],
             seed: int) -> SweepRow:
    scenario = Scenario.from_dict(document, base=Path(base) if base else None)
    return SweepRow(values=values, seed=seed, kpis=simulate(scenario, seed=seed).kpis)


#: Scenario fields a sweep rebuilds from the document as they are.
_FROM_DOCUMENT = (
    "arrivals",
    "tiers",
    "requester_reply",
    "reopen_delay",
    "csat",
    "absences",
    "regions",
)


def _document_of(scenario: Scenario, base: Path | None) -> dict[str, Any]:
    """The document every run of a sweep starts from: the scenario's own document, with
    the fields an app may have changed since loading (``attrs.evolve(scenario,
    days=...)``) written back; a change the document cannot hold is refused."""
    doc = scenario.to_dict()
    if not doc:
        raise ValidationError(
            "the scenario was built in code, not loaded from a document; a sweep rebuilds "
            "every run from the scenario's document: load it with Scenario.from_dict or "
            "Scenario.from_toml",
            field="scenario",
        )
    doc["desk"] = scenario.desk.to_dict()  # the desk as it is now, staffing applied
    simulation = dict(doc.get("simulation") or {})
    simulation.update(days=scenario.days, warmup_days=scenario.warmup_days)
    start = scenario.start
    if isinstance(start.tzinfo, ZoneInfo) and start.tzinfo.key == scenario.desk.settings.timezone:
        # a naive start is read in the desk's zone: the same zone, not a fixed offset
        simulation["start"] = start.replace(tzinfo=None).isoformat()
    else:
        simulation["start"] = start.isoformat()
    doc["simulation"] = simulation
    requesters = dict(doc.get("requesters") or {})
    requesters.update(
        count=scenario.requesters, reopen=scenario.reopen, csat_response=scenario.csat_response
    )
    doc["requesters"] = requesters
    doc = _restaffable(scenario, doc, base)
    rebuilt = Scenario.from_dict(doc, base=base)
    if (rebuilt.start, rebuilt.start.utcoffset()) != (start, start.utcoffset()):
        # a wall time the zone repeats (the hour clocks go back): the offset says which
        simulation["start"] = start.isoformat()
        rebuilt = Scenario.from_dict(doc, base=base)
    for name in _FROM_DOCUMENT:
        if getattr(rebuilt, name) != getattr(scenario, name):
            raise ValidationError(
                f"the scenario's {name} were changed after it was loaded; a sweep rebuilds "
                "every run from the scenario's document: change the document and load it "
                "again",
                field=f"scenario.{name}",
            )
    return doc


def _restaffable(scenario: Scenario, doc: dict[str, Any], base: Path | None) -> dict[str, Any]:
    """``doc`` with the desk as written (before ``[staffing]``) when staffing it again
    gives the scenario's desk: a run that varies ``staffing.<team>`` then clones the team
    from its agents as written, in turn, as loading the document with that count does.

    When the desk was changed since loading, ``doc`` whose desk also holds, at the end,
    the agents ``[staffing]`` took off the desk as written: staffing the document again
    clones a team from them when the staffed desk has none left of it (``team = 0``),
    and takes them off again. ``doc`` as it is when there are none, or when they would
    make another desk. :meth:`StaffingPlan.apply
    <helpdesk_core.simulation.staffing.StaffingPlan.apply>` staffs a plan from it too."""
    written = scenario.unstaffed_desk
    agents = written.get("agents") if isinstance(written, Mapping) else None
    if not isinstance(written, Mapping) or not isinstance(agents, list | tuple):
        return doc
    as_written = {**doc, "desk": copy.deepcopy(dict(written))}
    if _same_desk(as_written, scenario, base):
        return as_written
    taken = [
        copy.deepcopy(dict(agent))
        for agent in agents
        if isinstance(agent, Mapping)
        and isinstance(agent.get("id"), str)
        and not scenario.desk.has_agent(agent["id"])
    ]
    if not taken:
        return doc
    again = {**doc, "desk": {**doc["desk"], "agents": [*doc["desk"].get("agents", ()), *taken]}}
    return again if _same_desk(again, scenario, base) else doc


def _same_desk(doc: dict[str, Any], scenario: Scenario, base: Path | None) -> bool:
    """Whether loading ``doc`` gives the scenario's desk."""
    try:
        return Scenario.from_dict(doc, base=base).desk == scenario.desk
    except ConfigError:
        return False


def _plain(value: Any) -> Any:
    """A NumPy number as the Python number it holds (``np.arange`` gives them), so that
    the scenario document and the table hold plain values."""
    if type(value).__module__ == "numpy" and callable(getattr(value, "item", None)):
        return value.item()
    return value


def sweep(
    scenario: Scenario,
    *,
    vary: Mapping[str, Iterable[Any]],
    seeds: Iterable[int] = (1,),
    executor: Executor | None = None,
    base: str | os.PathLike[str] | None = None,
) -> list[SweepRow]:
    """Run every combination of ``vary`` with every seed; return one row per run, in grid
    order. Each variant is validated before any run starts."""
    if not isinstance(scenario, Scenario):
        raise ValidationError("expected a Scenario", field="scenario")
    if not isinstance(vary, Mapping) or not vary:
        raise ValidationError("vary maps at least one path to its values", field="vary")
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Iterable):
        raise ValidationError("seeds is a list of whole numbers", field="seeds")
    wholes = [whole_number(s) for s in seeds]
    seed_list = [s for s in wholes if s is not None]
    if not seed_list or len(seed_list) != len(wholes):
        raise ValidationError("seeds are whole numbers (at least one)", field="seeds")
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise ValidationError(
            f"executor is a concurrent.futures.Executor, got {type(executor).__name__}",
            field="executor",
        )
    base = folder(base)
    names = list(vary)
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValidationError(f"a varied path is dotted text, got {name!r}", field="vary")
        tried = vary[name]
        if isinstance(tried, str | bytes | Mapping | AbstractSet) or not isinstance(
            tried, Iterable
        ):
            raise ValidationError(
                f"the values of {name!r} are a list (or another ordered collection: a "
                f"tuple, a range, a NumPy array), got {type(tried).__name__}",
                field=f"vary.{name}",
            )
    grids = [[_plain(value) for value in vary[name]] for name in names]
    if any(not values for values in grids):
        raise ValidationError("every varied path needs at least one value", field="vary")
    base_doc = _document_of(scenario, base)
    jobs: list[tuple[dict[str, Any], dict[str, Any], int]] = []
    for combo in itertools.product(*grids):
        values = dict(zip(names, combo, strict=True))
        doc = copy.deepcopy(base_doc)
        for path, value in values.items():
            _set_path(doc, path, value)
        Scenario.from_dict(doc, base=base)  # fail fast, before any run
        for seed in seed_list:
            jobs.append((doc, values, seed))
    base_text = str(base) if base else None
    own = executor is None
    pool = executor if executor is not None else ProcessPoolExecutor()
    try:
        futures = [pool.submit(_run_one, doc, base_text, values, seed)
                   for doc, values, seed in jobs]
        return [f.result() for f in futures]
    finally:
        if own:
            pool.shutdown()
