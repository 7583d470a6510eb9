"""The ``helpdesk-core`` command: simulate a desk, suggest staffing, measure a scenario
from a desk's history, run a demo, compute SLA deadlines.

``helpdesk-core simulate`` runs the bundled example scenario (an IT desk over 30 days) on
the embedded defaults; pass a scenario TOML to run your own.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib.util
import math
import os
import sys
import time
from collections.abc import Container, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpdesk_core import _toml
from helpdesk_core._time import format_duration, parse_datetime, to_timedelta
from helpdesk_core.errors import ConfigError, HelpdeskError, ValidationError

if TYPE_CHECKING:
    from helpdesk_core.simulation.staffing import StaffingCheck, TierStaffing

__all__ = ["main"]


def _data_path(name: str) -> Path:
    return Path(str(resources.files("helpdesk_core") / "data" / name))


def _table(title: str, rows: Sequence[tuple[str, str]]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(title)
        width = max((len(k) for k, _ in rows), default=0)
        for key, value in rows:
            print(f"  {key:<{width}}  {value}")
        return
    table = Table(title=title)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in rows:
        table.add_row(key, value)
    Console().print(table)


class _Progress:
    """A rich progress bar on standard error when rich is installed and standard error is
    a terminal (standard output keeps the table alone, whatever it is redirected to).
    The bar shows only on a long run: from the first report after :attr:`after` seconds
    (a run that ends sooner leaves no bar behind)."""

    #: Seconds of running before the bar shows.
    after = 1.0

    def __init__(self, enabled: bool) -> None:
        self._bar: Any = None
        self._task: Any = None
        self._since: float | None = None
        if not enabled or importlib.util.find_spec("rich") is None:
            return
        self._since = time.monotonic()

    def __call__(self, done: float, total: float) -> None:
        if self._since is None or total <= 0:
            return
        if self._bar is None:
            if time.monotonic() - self._since < self.after:
                return
            from rich.console import Console
            from rich.progress import Progress

            self._bar = Progress(console=Console(stderr=True))
            self._bar.start()
            self._task = self._bar.add_task("simulating", total=100.0)
        self._bar.update(self._task, completed=100.0 * done / total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _cmd_simulate(args: argparse.Namespace) -> int:
    from helpdesk_core.simulation import simulate

    if args.format == "parquet":
        if not args.out:
            raise ValidationError("--format parquet writes into --out: give a folder",
                                  field="--format")
        if any(importlib.util.find_spec(name) is None for name in ("pandas", "pyarrow")):
            print(
                "helpdesk-core: --format parquet needs pandas and pyarrow: "
                "pip install 'helpdesk-core[analysis]'",
                file=sys.stderr,
            )
            return 2
    path = Path(args.scenario) if args.scenario else _data_path("it_desk_scenario.toml")
    scenario = _with_days(_load_scenario(path), args.days)
    if args.out:  # before the run, which may take minutes
        problem = _folder_problem(Path(args.out))
        if problem:
            print(f"helpdesk-core: cannot write to {args.out}: {problem}", file=sys.stderr)
            return 2
    progress = _Progress(sys.stderr.isatty() and not args.quiet)
    try:
        result = simulate(scenario, seed=args.seed, progress=progress)
    finally:
        progress.close()
    title = f"{scenario.desk.settings.name}, {_days(scenario.days)} (seed {args.seed})"
    rows = [
        ("tickets simulated", str(len(result.records))),
        ("events recorded", str(len(result.events))),
        *result.kpis.as_rows(),
    ]
    _table(title, rows)
    if args.out:
        try:
            return _write_out(result, Path(args.out), args.format)
        except OSError as exc:
            print(f"helpdesk-core: cannot write to {args.out}: {exc}", file=sys.stderr)
            return 2
    return 0


def _days(days: float) -> str:
    """``days`` for a title: "1 day", "30 days", "2.5 days"."""
    return f"{days:g} day" if days == 1 else f"{days:g} days"


def _folder_problem(out: Path) -> str | None:
    """Why ``out`` cannot take the files of ``--out`` (None: it can; the folder is made)."""
    if out.exists() and not out.is_dir():
        return "it is a file, not a folder"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return str(exc)
    if not os.access(out, os.W_OK | os.X_OK):
        return "permission denied"
    return None


def _write_out(result: Any, out: Path, form: str) -> int:
    """The records (CSV or Parquet) and, when matplotlib is there, the charts."""
    from helpdesk_core.simulation.plots import save_charts
    from helpdesk_core.simulation.result import RECORD_COLUMNS

    out.mkdir(parents=True, exist_ok=True)
    if form == "parquet":
        try:
            result.to_parquet(out / "tickets.parquet")
        except ImportError as exc:
            print(f"helpdesk-core: {exc}", file=sys.stderr)
            return 2
        written = ["tickets.parquet"]
    else:
        with (out / "tickets.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(RECORD_COLUMNS))
            writer.writeheader()
            writer.writerows(result.rows())
        written = ["tickets.csv"]
    try:
        written += save_charts(result, out)
    except ImportError as exc:  # matplotlib is in the analysis extra
        print(f"helpdesk-core: no charts: {exc}", file=sys.stderr)
    print(f"wrote {', '.join(written)} to {out}")
    return 0


def _cmd_staff(args: argparse.Namespace) -> int:
    flags = args.arrivals is not None or args.aht is not None
    if args.scenario is not None and flags:
        raise ValidationError(
            "give a scenario or --arrivals and --aht, not both", field="scenario"
        )
    if flags:
        for name, value in (
            ("--rate", args.rate), ("--days", args.days), ("--refine", args.refine or None)
        ):
            if value is not None:
                raise ValidationError(f"{name} applies to a scenario, not to one queue",
                                      field=name)
        return _staff_queue(args)
    return _staff_scenario(args)


#: How long ``staff --arrivals`` simulates a queue to check Erlang C: the arrivals of
#: 10,000 settling times of the queue (see :func:`_settling_time`), and a hundredth of that
#: before them as warm-up. The simulated service level then has a standard error under
#: one point and sits within :data:`_CHECK_TOLERANCE` of Erlang C's.
_CHECK_SETTLING_TIMES = 10_000
#: The shortest check, in measured tickets (a small queue settles within a handle time).
_MIN_CHECK_TICKETS = 50_000
#: The longest check, warm-up included (about two seconds through the queueing fast
#: path); a queue that needs more is not checked.
_MAX_CHECK_TICKETS = 1_000_000
#: How far from Erlang C's the checked service level sits (docs/simulation.md says so).
_CHECK_TOLERANCE = 0.03


def _settling_time(traffic: float, agents: int) -> float:
    """How many handle times an M/M/c queue of ``agents`` serving ``traffic`` Erlangs takes
    to forget where it was (its relaxation time): about ``traffic / (agents - traffic)**2``,
    which grows without bound as the occupancy nears 100%."""
    return traffic / (agents - traffic) ** 2


def _check_length(traffic: float, agents: int) -> float:
    """The tickets the queue check measures: the arrivals of ``_CHECK_SETTLING_TIMES``
    settling times, at least ``_MIN_CHECK_TICKETS`` (a float: for a queue near full
    occupancy the count is astronomical)."""
    per_settling = traffic * _settling_time(traffic, agents)  # arrivals per settling time
    return max(float(_MIN_CHECK_TICKETS), per_settling * _CHECK_SETTLING_TIMES)


def _staff_queue(args: argparse.Namespace) -> int:
    from helpdesk_core.simulation import erlang

    if args.arrivals is None or args.aht is None:
        raise ValidationError("--arrivals and --aht go together", field="arrivals")
    if not math.isfinite(args.arrivals) or args.arrivals < 0:
        raise ValidationError(
            f"tickets per hour, finite and >= 0, got {args.arrivals!r}", field="--arrivals"
        )
    aht = to_timedelta(args.aht, field="--aht")
    target = to_timedelta(args.target, field="--target")
    traffic = erlang.traffic_intensity(args.arrivals, aht)
    agents = erlang.agents_required(
        traffic, aht=aht, target=target, service_level=args.service_level
    )
    predicted = erlang.service_level(traffic, agents, aht=aht, target=target)
    rows = [
        ("traffic", f"{traffic:.2f} Erlangs"),
        (
            "agents required (Erlang C)",
            f"{agents} (no tickets arrive: Erlang C's smallest pool)" if traffic == 0
            else str(agents),
        ),
        ("predicted service level", f"{100 * predicted:.1f}% within {format_duration(target)}"),
        *_queue_check(args, traffic, agents, aht, target),
        ("occupancy", f"{100 * erlang.occupancy(traffic, agents):.1f}%"),
    ]
    _table("Staffing", rows)
    return 0


def _queue_check(
    args: argparse.Namespace, traffic: float, agents: int, aht: timedelta, target: timedelta
) -> list[tuple[str, str]]:
    """The rows of the simulated check of one queue, or the row saying why there is none."""
    from helpdesk_core.simulation import erlang
    from helpdesk_core.simulation.queueing import simulate_queue

    if traffic == 0:
        return [("simulated service level", "not checked: no tickets arrive")]
    needed = _check_length(traffic, agents)
    measured = math.ceil(needed) if needed <= _MAX_CHECK_TICKETS else 0
    warmup = measured // 100
    tickets = measured + warmup
    if not measured or tickets > _MAX_CHECK_TICKETS:
        occupancy = 100 * erlang.occupancy(traffic, agents)
        return [(
            "simulated service level",
            f"not checked: at {occupancy:.1f}% occupancy the queue settles in "
            f"{_settling_time(traffic, agents):,.3g} handle times, too slowly for a check "
            f"of at most {_MAX_CHECK_TICKETS:,} tickets (it needs {1.01 * needed:,.3g})",
        )]  # fmt: skip
    # The simulated clock counts seconds in a float: past 2**52 it cannot tell them apart.
    if tickets * 3600.0 / args.arrivals > 2.0**52:
        return [(
            "simulated service level",
            f"not checked: at this rate {tickets:,} tickets take longer than the "
            "simulated clock counts (2**52 seconds, 143 million years)",
        )]  # fmt: skip
    check = simulate_queue(
        arrivals_per_hour=args.arrivals, agents=[agents], work=[aht], tickets=tickets,
        warmup=warmup, seed=args.seed,
    )
    return [
        ("simulated service level", f"{100 * check[0].service_level(target):.1f}%"),
        ("simulated P(wait > 0)", f"{100 * check[0].wait_probability:.1f}%"),
        (
            "simulated tickets",
            f"{measured:,} after {warmup:,} of warm-up "
            f"({measured / traffic:,.0f} handle times)",
        ),
    ]


def _staff_scenario(args: argparse.Namespace) -> int:
    from helpdesk_core.simulation.staffing import refine_staffing, suggest_staffing

    if args.refine < 0:  # before the scenario is read and sized
        raise ValidationError("--refine is a whole number >= 0", field="--refine")
    path = Path(args.scenario) if args.scenario else _data_path("it_desk_scenario.toml")
    scenario = _with_days(_load_scenario(path), args.days)
    with _naming(path, vars(args)):  # what the scenario's desk cannot staff
        plan = suggest_staffing(
            scenario, target=args.target, service_level=args.service_level,
            rate=args.rate or "peak",
        )
        checks = refine_staffing(scenario, plan, seed=args.seed, max_rounds=args.refine)
    check = checks[-1]
    plan = check.plan
    target = format_duration(plan.target)
    rows: list[tuple[str, str]] = []
    if args.refine:
        rows.append(("rounds of one more agent per short tier", str(len(checks) - 1)))
    erlang_agents = {tier.tier: tier.agents for tier in checks[0].plan.tiers}
    erlang_teams = {tier.tier: tier.teams for tier in checks[0].plan.tiers}
    for tier in plan.tiers:
        within = check.within_target.get(tier.tier)
        agents = str(tier.agents)
        if tier.agents != erlang_agents[tier.tier]:
            agents += f" (Erlang C: {erlang_agents[tier.tier]})"
        rows += [
            (f"{tier.tier} work per hour ({plan.rate})", f"{tier.arrivals_per_hour:.2f}"),
            (f"{tier.tier} mean handle time", format_duration(tier.aht)),
            (f"{tier.tier} traffic", f"{tier.traffic:.2f} Erlangs"),
            (f"{tier.tier} agents", agents),
            (
                f"{tier.tier} predicted within {target}",
                f"{100 * tier.predicted_service_level:.1f}%",
            ),
            (
                f"{tier.tier} simulated within {target}",
                "no work" if within is None else f"{100 * within:.1f}%",
            ),
        ]
        if len(tier.teams) > 1:
            rows += _team_rows(tier, erlang_teams[tier.tier], check, target)
    for metric, value in check.result.kpis.sla_compliance.items():
        rows.append((f"SLA {metric.replace('_', ' ')} (simulated)", f"{100 * value:.1f}%"))
    title = (
        f"Staffing {scenario.desk.settings.name} for {100 * plan.service_level:g}% within "
        f"{target} ({_days(scenario.days)}, seed {args.seed})"
    )
    _table(title, rows)
    short = [
        tier for tier, share in check.within_target.items()
        if share is not None and share < plan.service_level
    ]
    if short:
        hint = "" if args.refine else " (--refine N adds agents until it does)"
        print(f"simulated below {100 * plan.service_level:g}% in {', '.join(short)}{hint}")
    print("[staffing]")
    for team, count in plan.staffing.items():
        if isinstance(count, dict):
            cells = ", ".join(f"{_toml.key(tier)} = {n}" for tier, n in count.items())
            print(f"{_toml.key(team)} = {{ {cells} }}")
        else:
            print(f"{_toml.key(team)} = {count}")
    return 0


def _team_rows(
    tier: TierStaffing, erlang_teams: Mapping[str, int], check: StaffingCheck, target: str
) -> list[tuple[str, str]]:
    """The rows of each team of a tier: its traffic and predicted service level when the
    tier is sized team by team, its agents, and its simulated share within the target."""
    shares = check.within_target_by_team.get(tier.tier, {})
    rows: list[tuple[str, str]] = []
    for team, count in tier.teams.items():
        name = f"{tier.tier} {team}"
        figures = tier.per_team.get(team)
        agents = str(count)
        if count != erlang_teams.get(team, count):
            agents += f" (Erlang C: {erlang_teams[team]})"
        if figures is not None:
            rows.append((f"{name} traffic", f"{figures.traffic:.2f} Erlangs"))
        rows.append((f"{name} agents", agents))
        if figures is not None:
            rows.append(
                (
                    f"{name} predicted within {target}",
                    f"{100 * figures.predicted_service_level:.1f}%",
                )
            )
        share = shares.get(team)
        rows.append(
            (
                f"{name} simulated within {target}",
                "no work" if share is None else f"{100 * share:.1f}%",
            )
        )
    return rows


def _load_scenario(path: Path) -> Any:
    """The scenario of the file ``path``; an error in it names the file."""
    from helpdesk_core.simulation import Scenario

    with _naming(path):
        return Scenario.from_toml(path)


def _load_desk(path: Path) -> Any:
    """The desk configuration of the file ``path``; an error in it names the file."""
    from helpdesk_core.config import DeskConfig

    with _naming(path):
        return DeskConfig.from_toml(path)


@contextlib.contextmanager
def _naming(path: Path, options: Container[str] = ()) -> Iterator[None]:
    """A ConfigError raised inside names the scenario (or desk) file ``path`` first (its own path,
    such as ``tiers.L1.solve``, is a place in that file), unless it names the file
    already (TOML that does not parse, a file that cannot be read). So does a
    ValidationError of a place in the file (what staffing cannot size, ``tiers.L1``);
    one of the command's ``options`` (``service_level``) is left to name the option."""
    try:
        yield
    except ValidationError as exc:
        if isinstance(exc, ConfigError):
            if exc.path in (str(path), str(path)[:80]):
                raise
        elif exc.field is None or exc.field in options:
            raise
        message = f"{exc.field}: {exc.message}" if exc.field else exc.message
        raise ConfigError(message, path=str(path)) from exc


def _with_days(scenario: Any, days: float | None) -> Any:
    """``scenario`` run for ``days`` (its warm-up dropped when the run gets shorter)."""
    import attrs

    if days is None:
        return scenario
    try:
        if days <= scenario.warmup_days:
            shorter = attrs.evolve(scenario, days=days, warmup_days=0.0)
            print(
                f"helpdesk-core: --days {days:g} is not longer than the scenario's "
                f"{scenario.warmup_days:g}-day warm-up: no warm-up, every ticket is measured",
                file=sys.stderr,
            )
            return shorter
        return attrs.evolve(scenario, days=days)
    except ConfigError as exc:
        if exc.path != "simulation.days":
            raise
        raise ValidationError(exc.message, field="days") from exc


def _cmd_demo(args: argparse.Namespace) -> int:
    from helpdesk_core.demo import run_demo

    gone: list[bool] = []

    def out(line: str) -> None:
        # The events are printed by a subscriber, whose errors the desk logs and goes on
        # from: a reader that went away (``| head``) ends the printing here, once.
        if gone:
            return
        try:
            print(line)
        except BrokenPipeError:
            gone.append(True)
            _stdout_to_devnull()

    run_demo(out)
    return 1 if gone else 0


def _stdout_to_devnull() -> None:
    """Send what is left for standard output nowhere (its reader went away), so that
    flushing it at exit raises no second error."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from helpdesk_core.simulation import calibrate

    base: dict[str, Any] | None = None
    bursts = 0
    note = ""
    if args.scenario is None:
        if args.desk is None:
            raise ValidationError("name the desk (--desk), or a scenario (--scenario)",
                                  field="desk")
        desk = _load_desk(Path(args.desk))
    else:
        base = _read_toml(Path(args.scenario))
        desk = _load_scenario(Path(args.scenario)).desk  # a bad scenario is named now
        # The figures must be measured on the desk they are written for.
        if args.desk is not None and _calibrated_by(
            _load_desk(Path(args.desk))
        ) != _calibrated_by(desk):
            raise ValidationError(
                "the desk's time zone and tiers differ from those of the scenario's desk: "
                "leave --desk out to measure with the scenario's",
                field="desk",
            )
    start = _instant(args.start, desk.settings.timezone, "start")
    end = _instant(args.end, desk.settings.timezone, "end")
    with _history(args.store, args.schema) as store:
        measured = calibrate(
            store, desk=desk, start=start, end=end, delays=args.delays, profile=args.profile
        )
    # The desk file is named from where the scenario is written, which reads it.
    folder = Path.cwd() if args.out is None else Path(args.out).parent
    if base is None:
        document = {"desk": _path_from(folder, Path(args.desk)), **measured.document}
    else:
        document = measured.merge(base, keep_bursts=args.keep_bursts)
        bursts = _bursts(base) if not args.keep_bursts else 0
        if bursts:
            note = (
                f"{bursts} burst{'s are' if bursts > 1 else ' is'} left out: "
                "the measured rate and profile hold the tickets the history's bursts "
                "brought (--keep-bursts keeps them)"
            )
            print(f"the scenario's {note}", file=sys.stderr)
        if isinstance(document.get("desk"), str):
            desk_path = Path(args.scenario).parent / document["desk"]
            document["desk"] = _path_from(folder, desk_path)
    header = (
        f"# Measured from the {measured.tickets} tickets opened from "
        f"{measured.start.isoformat()} to {measured.end.isoformat()}.\n"
        "# A history does not tell how long agents work: [tiers.<id>] work (30m if not "
        "given).\n"
    )
    if bursts:
        header += f"# The scenario's {note}.\n"
    text = header + _toml.dumps(document)
    if args.out is None:
        sys.stdout.write(text)
    else:
        out = Path(args.out)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ValidationError(f"cannot write {out}: {exc.strerror}", field="out") from exc
        print(f"wrote {out}", file=sys.stderr)
    rows = [(path, str(count)) for path, count in sorted(measured.counts.items())]
    with contextlib.redirect_stdout(sys.stderr):
        _table("Observations behind each figure", rows)
    return 0


def _bursts(document: dict[str, Any]) -> int:
    """How many bursts a scenario document's arrivals name."""
    arrivals = document.get("arrivals")
    bursts = arrivals.get("bursts") if isinstance(arrivals, dict) else None
    return len(bursts) if isinstance(bursts, list) else 0


def _calibrated_by(desk: Any) -> tuple[str, tuple[str, ...]]:
    """What calibrate reads of a desk: its time zone and its tiers."""
    return desk.settings.timezone, tuple(tier.id for tier in desk.tiers)


def _instant(text: str | None, zone: str, name: str) -> datetime | None:
    """An ISO date or date-time; without an offset, in the desk's time zone ``zone``."""
    if text is None:
        return None
    from zoneinfo import ZoneInfo

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return parse_datetime(text, field=name)  # says what it wants
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(zone))


def _path_from(folder: Path, path: Path) -> str:
    """``path`` as a file in ``folder`` names it: relative when it is near (in the
    folder, or beside it), else absolute."""
    try:
        relative = Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()
    except ValueError:  # another drive
        return str(path.resolve())
    return str(path.resolve()) if relative.startswith("../..") else relative


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read it: {exc}", path=str(path)) from exc


@contextlib.contextmanager
def _history(where: str, schema: str) -> Iterator[Any]:
    """The store at ``where``: a PostgreSQL URL whose ``schema`` must exist, or an SQLite
    file that must exist (a mistyped path or schema must not leave an empty database or
    schema behind)."""
    store: Any
    if where.startswith(("postgresql://", "postgres://")):
        from helpdesk_core.storage.postgres import PostgresStore

        _check_schema(where, schema)
        store = PostgresStore(where, schema=schema)
    else:
        if not Path(where).is_file():
            raise ValidationError(f"no such database file: {where}", field="store")
        _check_sqlite_history(where)
        from helpdesk_core.storage import SqliteStore

        store = SqliteStore(where)
    try:
        yield store
    finally:
        store.close()


def _check_sqlite_history(path: str) -> None:
    """ValidationError unless the SQLite file at ``path`` already holds a helpdesk_core
    schema, read without writing (opening a store on an empty file would create the
    tables in it, and on another program's file would change its journal mode): a schema
    version, the tables of an event stream, and no other program's application id."""
    import sqlite3

    from helpdesk_core.errors import StorageError
    from helpdesk_core.storage.migrations import check_sqlite_identity

    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            version = check_sqlite_identity(conn)
        finally:
            conn.close()
    except sqlite3.Error:
        return  # the store says what is wrong with the file
    except StorageError:
        version = 0
    if version == 0:
        raise ValidationError(
            f"not a helpdesk_core database (no helpdesk_core schema): {path}", field="store"
        )


def _check_schema(dsn: str, schema: str) -> None:
    """ValidationError unless the database at ``dsn`` has the schema ``schema`` (opening a
    store on one that is missing would create it, tables and all)."""
    try:
        import psycopg
    except ImportError:
        return  # the store says which extra to install
    from helpdesk_core.errors import StoreClosedError

    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            found = conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)
            ).fetchone()
    except psycopg.Error as exc:
        raise StoreClosedError(f"cannot reach PostgreSQL: {exc}") from exc
    if found is None:
        raise ValidationError(f"the database has no schema {schema!r}", field="schema")


def _cmd_sla(args: argparse.Namespace) -> int:
    from helpdesk_core.sla import BusinessCalendar

    start = parse_datetime(args.start, field="start")
    duration = to_timedelta(args.duration, field="duration")
    try:
        calendar = BusinessCalendar(timezone=args.timezone, hours={"mon-fri": args.hours})
    except ConfigError as exc:
        if exc.path != "hours.mon-fri":
            raise
        # The one interval --hours gave, named as the option rather than the calendar's
        # definition the command builds from it.
        raise ValidationError(exc.message, field="hours") from exc
    deadline = calendar.add(start, duration)
    print(deadline.isoformat())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``helpdesk-core``."""
    parser = argparse.ArgumentParser(prog="helpdesk-core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("simulate", help="simulate a helpdesk scenario")
    sim.add_argument("scenario", nargs="?", help="scenario TOML (default: the bundled IT desk)")
    sim.add_argument("--days", type=float, help="override the simulated days")
    sim.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    sim.add_argument("--out", help="folder for the ticket records and charts")
    sim.add_argument(
        "--format", choices=("csv", "parquet"), default="csv",
        help="the records as tickets.csv (default) or tickets.parquet (analysis extra)",
    )
    sim.add_argument("--quiet", action="store_true", help="no progress bar")
    sim.set_defaults(run=_cmd_simulate)

    staff = sub.add_parser(
        "staff",
        help="agents needed for a service level (Erlang C), checked by simulation",
        description=(
            "Suggest head counts from Erlang C and check them by simulation: per tier of "
            "a scenario (default: the bundled IT desk), or for one queue given by "
            "--arrivals and --aht."
        ),
    )
    staff.add_argument("scenario", nargs="?", help="scenario TOML (default: the bundled IT desk)")
    staff.add_argument("--target", required=True, help="answer within, e.g. 1h")
    staff.add_argument("--service-level", type=float, default=0.8, help="e.g. 0.8 (default)")
    staff.add_argument(
        "--rate", choices=("peak", "mean"),
        help="size for the busiest hour of the week (default) or the mean rate",
    )
    staff.add_argument(
        "--refine", type=int, default=0, metavar="N",
        help="up to N rounds giving each tier that misses the target one more agent",
    )
    staff.add_argument("--days", type=float, help="override the simulated days")
    staff.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    staff.add_argument("--arrivals", type=float, help="one queue: tickets per hour")
    staff.add_argument("--aht", help="one queue: average handle time, e.g. 20m")
    staff.set_defaults(run=_cmd_staff)

    cal = sub.add_parser(
        "calibrate",
        help="a scenario's figures measured from a desk's history",
        description=(
            "Measure the arrival rate and profile, the mixes, the tiers' solve and "
            "ask-first shares and the requesters' delays, reopens and ratings from the "
            "events of a desk's store, and write them as a scenario TOML that names the "
            "desk (to standard output, or --out). With --scenario, the figures go into "
            "that scenario and everything else it says (work times, period) is kept."
        ),
    )
    cal.add_argument("store", help="the desk's SQLite file, or a postgresql:// URL")
    cal.add_argument(
        "--desk", help="the desk's configuration TOML (default: the --scenario's desk)"
    )
    cal.add_argument("--scenario", help="a scenario TOML to put the figures in")
    cal.add_argument(
        "--start", help="read tickets opened from this ISO date(-time); naive: the desk's zone"
    )
    cal.add_argument("--end", help="read tickets opened before this ISO date(-time)")
    cal.add_argument(
        "--delays", choices=("lognormal", "exponential", "empirical"), default="lognormal",
        help="how reply and reopen delays are given (default lognormal)",
    )
    cal.add_argument(
        "--profile", choices=("week", "weekdays_hours"), default="week",
        help="arrivals by hour of the week (168 figures, default) or by weekday and hour",
    )
    cal.add_argument(
        "--keep-bursts", action="store_true",
        help="keep the --scenario's bursts (left out by default: the measured rate holds "
        "the tickets they brought)",
    )
    cal.add_argument("--schema", default="helpdesk", help="PostgreSQL schema (default helpdesk)")
    cal.add_argument("--out", help="write the TOML to this file")
    cal.set_defaults(run=_cmd_calibrate)

    demo = sub.add_parser("demo", help="walk a ticket through the example desk")
    demo.set_defaults(run=_cmd_demo)

    sla = sub.add_parser("sla", help="an SLA deadline on a weekday calendar")
    sla.add_argument("start", help="ISO datetime with offset")
    sla.add_argument("duration", help="e.g. 8h")
    sla.add_argument(
        "--timezone", default="UTC", help="IANA zone of the business hours (default UTC)"
    )
    sla.add_argument(
        "--hours", default="09:00-17:00",
        help="Monday to Friday hours, e.g. 08:00-18:00 (default 09:00-17:00)",
    )
    sla.set_defaults(run=_cmd_sla)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``helpdesk-core`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except HelpdeskError as exc:
        print(f"helpdesk-core: {_as_option(exc, args)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (``helpdesk-core simulate | head``): stop quietly.
        _stdout_to_devnull()
        return 1
    return code


#: The positional arguments of each subcommand (the others are ``--`` options).
_POSITIONALS = {
    "simulate": {"scenario"},
    "staff": {"scenario"},
    "sla": {"start", "duration"},
    "calibrate": {"store"},
}


def _as_option(exc: HelpdeskError, args: argparse.Namespace) -> str:
    """The error as the command line says it: a bad argument named by its option
    (``--service-level``), not by the Python argument it was passed as."""
    field = getattr(exc, "field", None)
    if isinstance(exc, ValidationError) and field and field in vars(args):
        positional = field in _POSITIONALS.get(args.command, ())
        name = field if positional else "--" + field.replace("_", "-")
        return f"{name}: {exc.message}"
    return str(exc)



if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
