"""The ``helpdesk-core`` command: what it checks before it runs, and what it says."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

import pytest

import helpdesk_core
import helpdesk_core.cli as cli
from desk_stores import DSN, POSTGRES_MARKS, drop
from helpdesk_core.cli import main


def staff_rows(monkeypatch: pytest.MonkeyPatch, args: Sequence[str]) -> dict[str, str]:
    """The figures ``staff`` prints, as a dict (the command must succeed)."""
    tables: list[dict[str, str]] = []
    monkeypatch.setattr(cli, "_table", lambda title, rows: tables.append(dict(rows)))
    assert main(["staff", *args]) == 0
    (rows,) = tables
    return rows


def test_staff_takes_a_target_of_zero_in_both_modes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = staff_rows(monkeypatch, ["--arrivals", "100", "--aht", "3m", "--target", "0s"])
    assert rows["agents required (Erlang C)"] == "8"
    assert rows["predicted service level"].endswith("within 0s")
    rows = staff_rows(monkeypatch, ["--target", "0s", "--days", "2"])
    assert "L1 predicted within 0s" in rows
    assert "[staffing]" in capsys.readouterr().out


def test_staff_without_arrivals_needs_erlang_c_s_smallest_pool_and_checks_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = staff_rows(monkeypatch, ["--arrivals", "0", "--aht", "3m", "--target", "20s"])
    assert rows["traffic"] == "0.00 Erlangs"
    assert rows["agents required (Erlang C)"] == "1 (no tickets arrive: Erlang C's smallest pool)"
    assert rows["predicted service level"] == "100.0% within 20s"
    assert rows["simulated service level"] == "not checked: no tickets arrive"
    assert "simulated P(wait > 0)" not in rows
    assert rows["occupancy"] == "0.0%"


@pytest.mark.parametrize("arrivals", ["-5", "nan", "inf"])
def test_staff_refuses_arrivals_that_are_not_a_rate(
    arrivals: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["staff", "--arrivals", arrivals, "--aht", "3m", "--target", "20s"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("helpdesk-core: --arrivals: tickets per hour, finite and >= 0, got ")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "start"),
    [
        (["--service-level", "80"], "helpdesk-core: --service-level: must be strictly between"),
        (["--service-level", "0"], "helpdesk-core: --service-level: must be strictly between"),
    ],
)
def test_staff_names_a_bad_option_as_the_command_line_does(
    argv: list[str], start: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["staff", "--arrivals", "100", "--aht", "3m", "--target", "20s"]
    assert main([*base, *argv]) == 2
    assert capsys.readouterr().err.startswith(start)


def percent(text: str) -> float:
    return float(text.split("%")[0]) / 100


@pytest.mark.parametrize(
    ("arrivals", "aht", "target", "tickets"),
    [
        # 54.5 Erlangs on 60 agents (91% busy), about the longest check there is.
        ("1090", "3m", "20s", "981,901 after 9,819 of warm-up (18,017 handle times)"),
        # 7 Erlangs on 8 agents: settles in 7 handle times.
        ("21", "20m", "1h", "490,000 after 4,900 of warm-up (70,000 handle times)"),
        # 5 Erlangs on 8 agents: the shortest check.
        ("100", "3m", "20s", "50,000 after 500 of warm-up (10,000 handle times)"),
    ],
)
def test_a_checked_queue_sits_within_the_stated_tolerance_of_erlang_c(
    monkeypatch: pytest.MonkeyPatch, arrivals: str, aht: str, target: str, tickets: str
) -> None:
    for seed in ("1", "2", "3"):
        args = ["--arrivals", arrivals, "--aht", aht, "--target", target, "--seed", seed]
        rows = staff_rows(monkeypatch, args)
        assert rows["simulated tickets"] == tickets
        predicted = percent(rows["predicted service level"])
        simulated = percent(rows["simulated service level"])
        assert abs(simulated - predicted) <= cli._CHECK_TOLERANCE, (seed, simulated, predicted)


@pytest.mark.parametrize(
    ("arrivals", "seed"),
    [("200000", "3"), ("100000", "1"), ("100000", "2"), ("100000", "3"), ("1100000", "1")],
)
def test_a_queue_too_slow_to_settle_is_not_checked_and_the_table_says_why(
    monkeypatch: pytest.MonkeyPatch, arrivals: str, seed: str
) -> None:
    def no_simulation(**kwargs: object) -> None:
        raise AssertionError("the queue was simulated")

    monkeypatch.setattr("helpdesk_core.simulation.queueing.simulate_queue", no_simulation)
    args = ["--arrivals", arrivals, "--aht", "3m", "--target", "20s", "--seed", seed]
    rows = staff_rows(monkeypatch, args)
    check = rows["simulated service level"]
    assert check.startswith("not checked: at ")
    assert "% occupancy the queue settles in " in check
    assert "too slowly for a check of at most 1,000,000 tickets (it needs " in check
    assert "simulated P(wait > 0)" not in rows and "simulated tickets" not in rows


def test_a_queue_whose_tickets_outlast_the_simulated_clock_is_not_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = staff_rows(monkeypatch, ["--arrivals", "1e-300", "--aht", "3m", "--target", "20s"])
    assert rows["simulated service level"].startswith(
        "not checked: at this rate 50,500 tickets take longer than the simulated clock counts"
    )
    rows = staff_rows(monkeypatch, ["--arrivals", "1e-6", "--aht", "3m", "--target", "20s"])
    assert rows["simulated service level"] == "100.0%"


def test_the_staff_table_prints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staff", "--arrivals", "100000", "--aht", "3m", "--target", "20s"]) == 0
    out = capsys.readouterr().out
    assert "not checked" in out and "occupancy" in out


@pytest.mark.parametrize(
    ("out", "problem"),
    [("a_file", "it is a file, not a folder"), ("a_file/below", "Not a directory")],
)
def test_simulate_checks_out_before_it_runs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    out: str,
    problem: str,
) -> None:
    (tmp_path / "a_file").write_text("")

    def no_simulation(*args: object, **kwargs: object) -> None:
        raise AssertionError("the desk was simulated")

    monkeypatch.setattr("helpdesk_core.simulation.simulate", no_simulation)
    assert main(["simulate", "--days", "3", "--quiet", "--out", str(tmp_path / out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"helpdesk-core: cannot write to {tmp_path / out}: ")
    assert problem in captured.err and captured.err.count("\n") == 1


def test_simulate_makes_the_out_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "runs" / "first"
    assert main(["simulate", "--days", "0.1", "--quiet", "--out", str(out)]) == 0
    assert (out / "tickets.csv").read_text().startswith("id,")
    # The bundled scenario warms up for 2 days: a shorter run has none, and says so.
    assert capsys.readouterr().err == (
        "helpdesk-core: --days 0.1 is not longer than the scenario's 2-day warm-up: "
        "no warm-up, every ticket is measured\n"
    )


@pytest.mark.parametrize("command", [["simulate"], ["staff", "--target", "1h"]])
def test_a_scenario_that_is_not_toml_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("x = [\n", encoding="utf-8")
    assert main([command[0], str(bad), *command[1:]]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"helpdesk-core: {str(bad)[:80]}: not valid TOML: Invalid value (at end of document): "
        "key x\n"
    )


@pytest.mark.parametrize("command", [["simulate"], ["staff", "--target", "1h"]])
def test_a_bad_value_in_a_scenario_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    bundled = Path(helpdesk_core.__file__).parent / "data"
    text = (bundled / "it_desk_scenario.toml").read_text(encoding="utf-8")
    (tmp_path / "it_desk.toml").write_text(
        (bundled / "it_desk.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    bad = tmp_path / "scenario.toml"
    bad.write_text(text.replace("solve = 0.8", "solve = 1.8"), encoding="utf-8")
    assert main([command[0], str(bad), *command[1:]]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"helpdesk-core: {bad}: tiers.L1.solve: a probability is between 0 and 1, got 1.8\n"
    )


def test_a_tier_staff_cannot_size_names_the_scenario_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the scenario says that Erlang C cannot size (work that takes no time) is a
    place in the scenario file, named after it as its other errors are; a bad option is
    still named as the option."""
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(
        '[desk.desk]\nname = "z"\n\n[[desk.agents]]\nid = "a"\nteams = ["service-desk"]\n\n'
        "[simulation]\ndays = 1\n\n[arrivals]\nrate_per_hour = 2\n\n"
        '[tiers.L1]\nwork = { kind = "fixed", value = "0s" }\n',
        encoding="utf-8",
    )
    assert main(["staff", str(scenario), "--target", "1h"]) == 2
    assert capsys.readouterr().err.startswith(
        f"helpdesk-core: {scenario}: tiers.L1: tier 'L1': its work times average zero"
    )
    assert main(["staff", str(scenario), "--target", "1h", "--service-level", "2"]) == 2
    assert capsys.readouterr().err.startswith("helpdesk-core: --service-level: ")


@pytest.mark.parametrize("days", ["0", "-1", "40000"])
def test_a_bad_days_option_is_named_as_the_option(
    capsys: pytest.CaptureFixture[str], days: str
) -> None:
    assert main(["simulate", "--days", days, "--quiet"]) == 2
    assert capsys.readouterr().err.startswith("helpdesk-core: --days: ")


@pytest.mark.parametrize(
    ("hours", "problem"),
    [
        ("9-17", "bad interval '9-17' on mon-fri: write 'HH:MM-HH:MM', e.g. '09:00-17:00'"),
        ("09:00-09:00", "interval '09:00-09:00' on mon-fri is empty"),
    ],
)
def test_sla_names_bad_hours_as_the_option(
    capsys: pytest.CaptureFixture[str], hours: str, problem: str
) -> None:
    assert main(["sla", "2026-03-06T16:00+01:00", "4h", "--hours", hours]) == 2
    assert capsys.readouterr().err.startswith(f"helpdesk-core: --hours: {problem}")


def test_the_demo_tells_what_its_events_show() -> None:
    """Each heading of ``helpdesk-core demo`` names what the events under it record."""
    from helpdesk_core.demo import run_demo

    lines: list[str] = []
    run_demo(lines.append)
    text = "\n".join(lines)
    answer = text.split("Ada answers;")[1].split("\n\n")[0]
    assert answer.startswith(" the ticket resumes") and "transition=resume" in answer
    closing = text.split("a tick closes the solved ticket")[0].rsplit("\n", 1)[1]
    assert closing == "Friday 20 March - "
    closed = text.split("a tick closes the solved ticket")[1].split("\n\n")[0]
    assert "three business days after the solve" in closed
    assert "Thu 12 Mar 15:00  StatusChanged" in closed and "transition=close" in closed


def test_simulate_titles_one_day_in_the_singular(monkeypatch: pytest.MonkeyPatch) -> None:
    titles: list[str] = []
    monkeypatch.setattr(cli, "_table", lambda title, rows: titles.append(title))
    assert main(["simulate", "--days", "1", "--quiet"]) == 0
    assert main(["simulate", "--days", "2.5", "--quiet"]) == 0
    assert titles == ["Example IT desk, 1 day (seed 1)", "Example IT desk, 2.5 days (seed 1)"]


def test_a_reader_that_goes_away_ends_the_output_quietly() -> None:
    """``helpdesk-core demo | head -1``: no traceback per event the desk printed after the
    reader left, nor one at exit."""
    import subprocess

    process = subprocess.Popen(
        [sys.executable, "-c", "from helpdesk_core.cli import main; raise SystemExit(main())",
         "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # the reader goes away after one line
    err = process.stderr.read().decode()
    process.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def _history_database(path: Path | None = None, *, schema: str | None = None) -> None:
    """Ten days of the bundled IT desk, simulated, in an SQLite file (``path``) or a
    PostgreSQL schema."""
    import attrs

    from helpdesk_core.model import Event, replay
    from helpdesk_core.simulation import Scenario, simulate
    from helpdesk_core.storage import PostgresStore, SqliteStore, Store

    data = Path(helpdesk_core.__file__).parent / "data"
    scenario = attrs.evolve(Scenario.from_toml(data / "it_desk_scenario.toml"), days=10.0)
    by_ticket: dict[str, list[Event]] = {}
    for event in simulate(scenario, seed=4).events:
        by_ticket.setdefault(event.ticket_id, []).append(event)
    store: Store = SqliteStore(path) if schema is None else PostgresStore(DSN, schema=schema)
    store.import_tickets((events, replay(events)) for events in by_ticket.values())
    store.close()


def test_calibrate_writes_a_scenario_that_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tomllib

    from helpdesk_core.simulation import Scenario

    data = Path(helpdesk_core.__file__).parent / "data"
    database = tmp_path / "desk.sqlite"
    _history_database(database)
    # alone: the measured figures and the desk, a scenario of its own
    out = tmp_path / "out" / "measured.toml"
    argv = ["calibrate", str(database), "--desk", str(data / "it_desk.toml"), "--out", str(out)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "tiers.L1.solve" in err and f"wrote {out}" in err
    text = out.read_text()
    assert text.startswith("# Measured from the ")
    measured = Scenario.from_toml(out)
    assert len(measured.arrivals.profile) == 168
    assert 0.6 < measured.tiers["L1"].solve < 0.95
    assert tomllib.loads(text)["desk"] == str((data / "it_desk.toml").resolve())
    # into a scenario: its work times and routing of escalations stay; to standard output
    monkeypatch.chdir(data)
    argv = ["calibrate", str(database), "--desk", "it_desk.toml",
            "--scenario", "it_desk_scenario.toml", "--profile", "weekdays_hours"]
    assert main(argv) == 0
    document = tomllib.loads(capsys.readouterr().out)
    assert document["desk"] == "it_desk.toml"
    assert document["tiers"]["L1"]["work"] == {"kind": "lognormal", "mean": "20m", "sigma": 0.6}
    assert len(document["arrivals"]["hours"]) == 24 and "profile" not in document["arrivals"]
    assert Scenario.from_dict(document).tiers["L1"].escalate_to


def test_calibrate_refuses_what_it_cannot_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    desk = str(Path(helpdesk_core.__file__).parent / "data" / "it_desk.toml")
    missing = tmp_path / "nope.sqlite"
    assert main(["calibrate", str(missing), "--desk", desk]) == 2
    assert capsys.readouterr().err == f"helpdesk-core: store: no such database file: {missing}\n"
    assert not missing.exists()  # no empty database left behind
    # another program's files: one that numbers its own schema versions, as helpdesk_core
    # does, and one that names itself in the SQLite header as well
    for name, make in (
        ("empty.sqlite", ""),
        ("other.sqlite", "CREATE TABLE notes (a)"),
        ("versioned.sqlite", "CREATE TABLE notes (a); PRAGMA user_version = 3"),
        ("named.sqlite", "CREATE TABLE events (a); PRAGMA user_version = 3; "
                         "PRAGMA application_id = 7"),
    ):
        other = tmp_path / name
        other.touch()
        if make:
            with contextlib.closing(sqlite3.connect(other)) as conn:
                conn.executescript(make)
        before = other.read_bytes()
        assert main(["calibrate", str(other), "--desk", desk]) == 2
        assert capsys.readouterr().err == (
            f"helpdesk-core: store: not a helpdesk_core database (no helpdesk_core schema): "
            f"{other}\n"
        )
        assert other.read_bytes() == before  # read, never written
    database = tmp_path / "desk.sqlite"
    _history_database(database)
    assert main(["calibrate", str(database), "--desk", desk, "--start", "2026-03-08"]) == 2
    assert "at least 7 days" in capsys.readouterr().err
    assert main(["calibrate", str(database), "--desk", desk, "--start", "soon"]) == 2
    assert capsys.readouterr().err.startswith("helpdesk-core: --start: ")
    # Midnight of year 1 in the desk's zone (Europe/Berlin) is before year 1 in UTC.
    assert main(["calibrate", str(database), "--desk", desk, "--start", "0001-01-01"]) == 2
    assert capsys.readouterr().err.startswith("helpdesk-core: --start: instant 0001-01-01")
    assert main(["calibrate", str(database), "--desk", desk,
                 "--end", "9999-12-31T23:00-05:00"]) == 2
    assert "out of range" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["calibrate", str(database), "--desk", desk,
                 "--out", str(blocker / "x.toml")]) == 2
    assert capsys.readouterr().err.startswith("helpdesk-core: --out: cannot write ")


@pytest.mark.parametrize("_", [pytest.param(None, marks=POSTGRES_MARKS)])
def test_calibrate_reads_a_postgresql_store(
    _: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from helpdesk_core.storage import PostgresStore

    desk = str(Path(helpdesk_core.__file__).parent / "data" / "it_desk.toml")
    schema = f"hd_calibrate_{os.getpid()}"
    _history_database(schema=schema)
    try:
        assert main(["calibrate", DSN, "--schema", schema, "--desk", desk]) == 0
        from_postgres = capsys.readouterr().out
    finally:
        drop(PostgresStore(DSN, schema=schema))
    _history_database(tmp_path / "desk.sqlite")
    assert main(["calibrate", str(tmp_path / "desk.sqlite"), "--desk", desk]) == 0
    assert capsys.readouterr().out == from_postgres


@pytest.mark.parametrize("_", [pytest.param(None, marks=POSTGRES_MARKS)])
def test_calibrate_refuses_a_postgresql_schema_that_does_not_exist(
    _: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped --schema is named, and leaves no empty schema behind (as a mistyped
    SQLite path leaves no empty file)."""
    import psycopg

    desk = str(Path(helpdesk_core.__file__).parent / "data" / "it_desk.toml")
    schema = f"hd_no_such_{os.getpid()}"
    try:
        assert main(["calibrate", DSN, "--schema", schema, "--desk", desk]) == 2
        assert capsys.readouterr().err == (
            f"helpdesk-core: --schema: the database has no schema {schema!r}\n"
        )
    finally:
        with psycopg.connect(DSN, autocommit=True) as conn:
            found = conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)
            ).fetchone()
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    assert found is None


def test_calibrate_measures_on_the_scenarios_desk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = Path(helpdesk_core.__file__).parent / "data"
    database = tmp_path / "desk.sqlite"
    _history_database(database)
    scenario = str(data / "it_desk_scenario.toml")
    assert main(["calibrate", str(database), "--scenario", scenario]) == 0
    assert "[tiers.L1]" in capsys.readouterr().out
    other = tmp_path / "other.toml"
    other.write_text('[desk]\ntimezone = "UTC"\n')
    assert main(["calibrate", str(database), "--scenario", scenario, "--desk", str(other)]) == 2
    assert capsys.readouterr().err.startswith(
        "helpdesk-core: --desk: the desk's time zone and tiers differ"
    )
    assert main(["calibrate", str(database)]) == 2
    assert capsys.readouterr().err == (
        "helpdesk-core: --desk: name the desk (--desk), or a scenario (--scenario)\n"
    )


def test_the_progress_bar_goes_to_standard_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A terminal on standard error shows the bar there: standard output, redirected to a
    file (``simulate > kpis.txt``), gets the table alone."""
    pytest.importorskip("rich")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setattr(cli._Progress, "after", 0.0)
    assert main(["simulate", "--days", "0.5"]) == 0
    captured = capsys.readouterr()
    assert "simulating" not in captured.out
    assert "Example IT desk" in captured.out
    assert "simulating" in captured.err


def test_a_short_run_shows_no_progress_bar(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bar is for long runs: one that ends within a second leaves none behind."""
    pytest.importorskip("rich")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setattr(cli._Progress, "after", 3600.0)
    assert main(["simulate", "--days", "0.5"]) == 0
    captured = capsys.readouterr()
    assert "Example IT desk" in captured.out
    assert "simulating" not in captured.err


def test_a_bad_value_in_calibrate_s_desk_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundled = Path(helpdesk_core.__file__).parent / "data"
    text = (bundled / "it_desk.toml").read_text(encoding="utf-8")
    desk = tmp_path / "desk.toml"
    desk.write_text(text.replace('"Europe/Berlin"', '"Mars/Base"'), encoding="utf-8")
    database = tmp_path / "desk.sqlite"
    database.write_bytes(b"")
    scenario = str(bundled / "it_desk_scenario.toml")
    for extra in ([], ["--scenario", scenario]):
        assert main(["calibrate", str(database), "--desk", str(desk), *extra]) == 2
        assert capsys.readouterr().err == (
            f"helpdesk-core: {desk}: desk.timezone: unknown time zone 'Mars/Base'\n"
        )


def test_python_dash_m_helpdesk_core_is_the_command() -> None:
    """``python -m helpdesk_core`` runs the ``helpdesk-core`` command, as where the
    console script is not on the PATH (a virtual environment not activated)."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "helpdesk_core", "sla", "2026-03-06T16:00:00+01:00", "4h"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert (done.returncode, done.stdout) == (0, "2026-03-09T11:00:00+00:00\n"), done.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "helpdesk_core", "sla", "2026-03-06T16:00:00+01:00", "4x"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("helpdesk-core: "), bad.stderr


def test_calibrate_leaves_the_scenarios_bursts_out_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = Path(helpdesk_core.__file__).parent / "data"
    database = tmp_path / "desk.sqlite"
    _history_database(database)
    scenario = str(data / "it_desk_scenario.toml")
    assert main(["calibrate", str(database), "--scenario", scenario]) == 0
    captured = capsys.readouterr()
    assert "bursts" not in tomllib.loads(captured.out)["arrivals"]
    assert "# The scenario's 1 burst is left out" in captured.out
    assert "the scenario's 1 burst is left out" in captured.err
    assert "--keep-bursts" in captured.err
    assert main(["calibrate", str(database), "--scenario", scenario, "--keep-bursts"]) == 0
    captured = capsys.readouterr()
    assert tomllib.loads(captured.out)["arrivals"]["bursts"] == [
        {"start": "8d 9h", "duration": "3h", "multiplier": 3.0}
    ]
    assert "left out" not in captured.out + captured.err
