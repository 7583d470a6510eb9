"""calibrate: a scenario's figures measured from a desk's history."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import attrs
import pytest
from attrs import evolve
from hypothesis import given, settings
from hypothesis import strategies as st

import helpdesk_core
from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester, SqliteStore
from helpdesk_core.errors import ValidationError
from helpdesk_core.ids import SequentialIds
from helpdesk_core.model import Actor, TicketOpened
from helpdesk_core.simulation import (
    Calibration,
    Scenario,
    SimulationResult,
    calibrate,
    simulate,
)
from helpdesk_core.simulation.calibrate import MAX_SAMPLES

DATA = Path(helpdesk_core.__file__).parent / "data"
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)


def _desk(**settings: Any) -> DeskConfig:
    return DeskConfig.from_dict({
        "desk": {"timezone": "UTC", **settings},
        "tiers": [{"id": "L1", "teams": ["desk"]}, {"id": "L2", "teams": ["experts"]}],
        "teams": [{"id": "desk"}, {"id": "experts"}],
        "agents": [{"id": "ann", "tier": "L1", "teams": ["desk"]},
                   {"id": "eve", "tier": "L2", "teams": ["experts"]}],
    })


Simulated = tuple[dict[str, Any], Scenario, Calibration, SimulationResult]


@pytest.fixture(scope="module")
def simulated() -> Simulated:
    """Ninety days of the bundled IT desk, what its events calibrate, and the run."""
    doc = tomllib.loads((DATA / "it_desk_scenario.toml").read_text())
    scenario = attrs.evolve(Scenario.from_toml(DATA / "it_desk_scenario.toml"), days=90.0)
    result = simulate(scenario, seed=11)
    return doc, scenario, calibrate(result, desk=scenario.desk), result


def test_a_simulated_desk_calibrates_the_figures_it_was_run_with(
    simulated: Simulated,
) -> None:
    doc, scenario, measured, history = simulated
    openers = {e.requester for e in history.events if isinstance(e, TicketOpened)}
    got = measured.document
    arrivals = scenario.arrivals
    # the rate over the week, and each hour of it (busy hours have the tickets to tell)
    expected_rate = arrivals.rate_per_hour * sum(arrivals.profile) / len(arrivals.profile)
    assert got["arrivals"]["rate_per_hour"] == pytest.approx(expected_rate, rel=0.05)
    # Each hour of the week the period held: how many times, and how many tickets the
    # scenario sends in them (the burst's hours included).
    zone = ZoneInfo(scenario.desk.settings.timezone)
    held = [0] * 168
    tickets = [0.0] * 168
    for step in range(int(scenario.days * 24)):
        offset = timedelta(hours=step)
        local = (scenario.start + offset).astimezone(zone)
        hour = local.weekday() * 24 + local.hour
        rate = arrivals.rate_per_hour * arrivals.profile[hour]
        for burst in arrivals.bursts:
            if burst.start <= offset < burst.start + burst.duration:
                rate *= burst.multiplier
        held[hour] += 1
        tickets[hour] += rate
    for hour, ours in enumerate(got["arrivals"]["profile"]):
        expected = tickets[hour] / held[hour] / got["arrivals"]["rate_per_hour"]
        if expected > 1.5:
            # an hour's count is Poisson: four of its standard errors
            assert ours == pytest.approx(expected, rel=4 / tickets[hour] ** 0.5), hour
    for name in ("channels", "categories", "impact", "urgency"):
        for key, weight in doc["arrivals"][name].items():
            assert got["arrivals"][name][key] == pytest.approx(weight, abs=0.02), (name, key)
    for tier in ("L1", "L2"):
        assert got["tiers"][tier]["solve"] == pytest.approx(doc["tiers"][tier]["solve"],
                                                            abs=0.03)
        assert got["tiers"][tier]["pending"] == pytest.approx(doc["tiers"][tier]["pending"],
                                                              abs=0.03)
    # the scenario's weekdays and hours, each over its mean (the burst's day a little up)
    split = calibrate(history, desk=scenario.desk, profile="weekdays_hours").document
    for name in ("weekdays", "hours"):
        theirs = doc["arrivals"][name]
        mean = sum(theirs) / len(theirs)
        for ours, their in zip(split["arrivals"][name], theirs, strict=True):
            assert ours == pytest.approx(their / mean, rel=0.15, abs=0.1), name
    assert "solve" not in got["tiers"]["L3"]  # the top tier solves everything
    assert got["tiers"]["L3"]["pending"] == 0.0
    requesters = got["requesters"]
    # nearly all of the 400 opened in 90 days: the draw needs about 400 to reach them
    assert len(openers) > 390
    assert requesters["count"] == pytest.approx(doc["requesters"]["count"], rel=0.03)
    assert requesters["reply"]["kind"] == "lognormal"
    assert requesters["reply"]["sigma"] == pytest.approx(1.0, abs=0.15)
    assert requesters["csat_response"] == pytest.approx(0.4, abs=0.04)
    for score, weight in doc["requesters"]["csat"].items():
        assert requesters["csat"][score] == pytest.approx(weight, abs=0.04)
    # A reopen that comes after the auto-close is not made: fewer reopens, sooner.
    assert 0.02 < requesters["reopen"] <= 0.055
    assert measured.counts["tiers.L1.solve"] > 2000
    assert measured.tickets == measured.counts["arrivals.rate_per_hour"]


def test_the_calibrated_document_runs_as_a_scenario(simulated: Simulated) -> None:
    doc, _, measured, _ = simulated
    doc["desk"] = str(DATA / "it_desk.toml")
    merged = measured.merge(doc)
    assert "weekdays" not in merged["arrivals"] and "hours" not in merged["arrivals"]
    assert "bursts" not in merged["arrivals"]  # the measured rate holds what they brought
    assert measured.merge(doc, keep_bursts=True)["arrivals"]["bursts"] == doc["arrivals"]["bursts"]
    assert merged["tiers"]["L1"]["work"] == doc["tiers"]["L1"]["work"]
    assert merged["tiers"]["L1"]["escalate_to"] == doc["tiers"]["L1"]["escalate_to"]
    assert merged["tiers"]["L1"]["solve"] == measured.document["tiers"]["L1"]["solve"]
    assert merged["requesters"]["regions"] == doc["requesters"]["regions"]
    assert doc["arrivals"]["weekdays"]  # the scenario given is left alone
    split = calibrate(simulated[3], desk=simulated[1].desk, profile="weekdays_hours")
    doc["arrivals"]["profile"] = [1.0] * 168
    merged = split.merge(doc)
    assert "profile" not in merged["arrivals"]
    assert merged["arrivals"]["hours"] == split.document["arrivals"]["hours"]
    Scenario.from_dict(merged)
    del doc["arrivals"]["profile"]
    scenario = Scenario.from_dict(merged)
    assert scenario.tiers["L1"].solve == measured.document["tiers"]["L1"]["solve"]
    assert simulate(attrs.evolve(scenario, days=3.0), seed=1).records


def test_each_figure_is_counted_from_the_events_as_the_simulator_draws_it() -> None:
    """One ticket of each story, told through the real desk: the counts are exact."""
    clock = ManualClock(MONDAY)
    desk = Helpdesk(_desk(), MemoryStore(), clock, ids=SequentialIds())
    for name in ("ada", "bea"):
        desk.upsert_requester(Requester(id=name, name=name.title()))
    ada, bea = Actor.requester("ada"), Actor.requester("bea")

    # 1: L1 asks, the requester answers after 2 hours, L1 solves, the requester rates 4
    one = desk.open(requester="ada", subject="one", channel="email", category="network")
    desk.reply(one.id, author="ann", body="which one?")
    desk.transition(one.id, "pending", by="ann")
    clock.advance(hours=2)
    desk.reply(one.id, author=ada, body="here")
    desk.solve(one.id, by="ann", resolution="done")
    desk.rate(one.id, score=4, by=ada)
    # 2: L1 escalates; L2 solves; reopened 3 hours later, L2 solves again
    clock.advance(hours=1)
    two = desk.open(requester="bea", subject="two", channel="web")
    desk.escalate(two.id, by="ann", reason="hard")
    desk.reply(two.id, author="eve", body="on it")
    desk.solve(two.id, by="eve", resolution="done")
    clock.advance(hours=3)
    desk.reopen(two.id, by=bea, reason="again")
    desk.solve(two.id, by="eve", resolution="done")
    # 3: opened, nothing done yet
    clock.advance(days=8)
    three = desk.open(requester="ada", subject="three", channel="email", category="network")

    measured = calibrate(desk.store, desk=desk.config, delays="exponential")
    got = measured.document
    assert measured.tickets == 3
    assert got["arrivals"]["channels"] == {"email": pytest.approx(2 / 3),
                                           "web": pytest.approx(1 / 3)}
    assert got["arrivals"]["categories"] == {"general": pytest.approx(1 / 3),
                                             "network": pytest.approx(2 / 3)}
    # L1: two decisions (one solve, one escalation), the first of each ticket's an ask
    # draw: ticket one asked (then its solve draws no more), ticket two did not
    assert got["tiers"]["L1"] == {"solve": 0.5, "pending": 0.5}
    assert measured.counts["tiers.L1.solve"] == 2
    assert got["tiers"]["L2"] == {"pending": 0.0}  # the top tier: no solve figure
    assert measured.counts["tiers.L2.pending"] == 2  # two solves, neither asked first
    requesters = got["requesters"]
    assert requesters["count"] == 3  # 2 people in 3 tickets: a draw from 2.6 reaches 2
    assert requesters["reply"] == "2h"
    assert requesters["reopen"] == 0.5 and requesters["reopen_delay"] == "3h"
    assert requesters["csat_response"] == 0.5 and requesters["csat"] == {"4": 1.0}
    # the same through SQLite, and from (position, event) pairs or events
    sqlite = SqliteStore(":memory:")
    sqlite.import_tickets(
        (desk.store.events(t), desk.store.load(t)) for t in (one.id, two.id, three.id)
    )
    for source in (sqlite, list(desk.store.event_stream()),
                   [e for _, e in desk.store.event_stream()]):
        again = calibrate(source, desk=desk.config, delays="exponential")
        assert again.document == got and again.counts == measured.counts


def test_the_period_picks_the_tickets_by_their_opening() -> None:
    clock = ManualClock(MONDAY)
    desk = Helpdesk(_desk(timezone="Europe/Berlin"), MemoryStore(), clock, ids=SequentialIds())
    desk.upsert_requester(Requester(id="ada", name="Ada"))
    for day in range(21):
        clock.set(MONDAY + timedelta(days=day, hours=8))  # 09:00 in Berlin
        desk.open(requester="ada", subject=f"day {day}")
    week = calibrate(desk.store, desk=desk.config, start=MONDAY + timedelta(days=7),
                     end=MONDAY + timedelta(days=14))
    assert week.tickets == 7 and week.start == MONDAY + timedelta(days=7)
    profile = week.document["arrivals"]["profile"]
    rate = week.document["arrivals"]["rate_per_hour"]
    assert rate == pytest.approx(7 / 168, abs=1e-6)  # six decimals
    # every ticket in the 09:00 hour of its day, in the desk's zone
    assert [hour for hour, value in enumerate(profile) if value] == [
        day * 24 + 9 for day in range(7)
    ]
    assert profile[9] == pytest.approx(168 / 7, rel=1e-4)
    assert sum(profile) / len(profile) == pytest.approx(1.0, rel=1e-4)
    split = calibrate(desk.store, desk=desk.config, start=MONDAY + timedelta(days=7),
                      end=MONDAY + timedelta(days=14), profile="weekdays_hours")
    assert "profile" not in split.document["arrivals"]
    assert split.document["arrivals"]["weekdays"] == [1.0] * 7
    assert split.document["arrivals"]["hours"] == [24.0 if h == 9 else 0.0 for h in range(24)]
    whole = calibrate(desk.store, desk=desk.config)
    assert whole.tickets == 21
    assert whole.end == MONDAY + timedelta(days=20, hours=8, seconds=1)


def test_bad_input_is_named() -> None:
    clock = ManualClock(MONDAY)
    desk = Helpdesk(_desk(), MemoryStore(), clock, ids=SequentialIds())
    desk.upsert_requester(Requester(id="ada", name="Ada"))
    desk.open(requester="ada", subject="one")
    clock.advance(days=3)
    desk.open(requester="ada", subject="two")
    with pytest.raises(ValidationError, match="at least 7 days") as caught:
        calibrate(desk.store, desk=desk.config)
    assert caught.value.field == "history"
    with pytest.raises(ValidationError, match="no ticket") as caught:
        calibrate([], desk=desk.config)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"history": 5}, "history"),
        ({"history": "events"}, "history"),
        ({"history": [1, 2]}, "history"),
        ({"desk": {"tiers": []}}, "desk"),
        ({"delays": "gamma"}, "delays"),
        ({"profile": "day"}, "profile"),
        ({"start": datetime(2026, 3, 2)}, "start"),
        ({"start": MONDAY, "end": MONDAY}, "end"),
        # instants UTC cannot show: the first hour of year 1 east of Greenwich, the
        # last of year 9999 west of it
        ({"start": datetime(1, 1, 1, tzinfo=ZoneInfo("Europe/Berlin"))}, "start"),
        ({"end": datetime(9999, 12, 31, 23, tzinfo=ZoneInfo("America/New_York"))}, "end"),
    ]
    for change, name in cases:
        kwargs: dict[str, Any] = {"history": desk.store, "desk": desk.config, **change}
        with pytest.raises(ValidationError) as caught:
            calibrate(**kwargs)
        assert caught.value.field == name, change
    measured = calibrate(desk.store, desk=desk.config, end=MONDAY + timedelta(days=8))
    with pytest.raises(ValidationError) as caught:
        measured.merge(cast(Any, ["not", "a", "document"]))
    assert caught.value.field == "scenario"


@settings(max_examples=40, deadline=None)
@given(
    delays=st.lists(st.floats(min_value=0, max_value=1e7), min_size=1, max_size=3000),
    kind=st.sampled_from(["lognormal", "exponential", "empirical"]),
)
def test_delays_become_distributions_a_scenario_reads(delays: list[float], kind: str) -> None:
    from helpdesk_core.simulation.calibrate import _delay
    from helpdesk_core.simulation.distributions import distribution_from

    given_as = _delay(delays, kind)
    built = distribution_from(given_as, path="requesters.reply")
    mean = sum(delays) / len(delays)
    if kind == "empirical":
        assert len(given_as["samples"]) == min(len(delays), MAX_SAMPLES)
        assert min(given_as["samples"]) == pytest.approx(min(delays), abs=1e-3)
        assert max(given_as["samples"]) == pytest.approx(max(delays), abs=1e-3)
    else:  # a mean to the second from a minute up, to the millisecond below
        assert built.mean_seconds == pytest.approx(mean, abs=0.5 if mean >= 60 else 1e-3)


def test_anonymised_tickets_count_but_their_requesters_do_not() -> None:
    clock = ManualClock(MONDAY)
    desk = Helpdesk(_desk(), MemoryStore(), clock, ids=SequentialIds())
    for name in ("ada", "bea"):
        desk.upsert_requester(Requester(id=name, name=name.title()))
    for day in range(8):
        clock.set(MONDAY + timedelta(days=day))
        desk.open(requester="ada" if day % 2 else "bea", subject=f"day {day}")
    assert calibrate(desk.store, desk=desk.config).document["requesters"]["count"] == 2
    desk.erase_requester("bea", by="system:privacy")
    measured = calibrate(desk.store, desk=desk.config)
    assert measured.tickets == 8
    assert measured.document["requesters"]["count"] == 1
    desk.erase_requester("ada", by="system:privacy")
    assert "count" not in calibrate(desk.store, desk=desk.config).document["requesters"]


def test_ratings_of_tickets_never_solved_are_not_the_simulators_ratings() -> None:
    """The simulator rates only solved tickets: a cancelled ticket's rating counts in
    neither the response share (which must stay a probability) nor the scores."""
    clock = ManualClock(MONDAY)
    desk = Helpdesk(_desk(), MemoryStore(), clock, ids=SequentialIds())
    desk.upsert_requester(Requester(id="ada", name="Ada"))
    ada = Actor.requester("ada")
    solved = desk.open(requester="ada", subject="solved")
    desk.reply(solved.id, author="ann", body="done")
    desk.solve(solved.id, by="ann", resolution="done")
    desk.rate(solved.id, score=5, by=ada)
    for day in range(3):
        clock.advance(days=3)
        cancelled = desk.open(requester="ada", subject=f"cancelled {day}")
        desk.transition(cancelled.id, "cancel", by="ann", reason="a duplicate")
        desk.rate(cancelled.id, score=1, by=ada)
    measured = calibrate(desk.store, desk=desk.config)
    requesters = measured.document["requesters"]
    assert requesters["csat_response"] == 1.0
    assert requesters["csat"] == {"5": 1.0}
    assert measured.counts["requesters.csat"] == 1
    document = tomllib.loads((DATA / "it_desk_scenario.toml").read_text())
    document["desk"] = str(DATA / "it_desk.toml")
    document["tiers"] = {}
    Scenario.from_dict(measured.merge(document))


def test_a_category_the_history_never_saw_stays_in_the_mix_with_weight_zero() -> None:
    """Work times and escalations of a category nobody opened in the history still name a
    category the merged scenario knows: it stays in the mix, never drawn."""
    clock = ManualClock(MONDAY)
    desk = Helpdesk(_desk(), MemoryStore(), clock, ids=SequentialIds())
    desk.upsert_requester(Requester(id="ada", name="Ada"))
    for day in range(8):
        desk.open(requester="ada", subject=f"network {day}", category="network")
        clock.advance(days=1)
    measured = calibrate(desk.store, desk=desk.config)
    assert measured.document["arrivals"]["categories"] == {"network": 1.0}
    document: dict[str, Any] = {
        "desk": desk.config.to_dict(),
        "arrivals": {"rate_per_hour": 1, "categories": {"network": 1, "printing": 3}},
        "tiers": {"L1": {"work": "10m", "work_by_category": {"printing": "20m"},
                         "escalate_to": {"printing": "experts"}}},
    }
    merged = measured.merge(document)
    assert merged["arrivals"]["categories"] == {"network": 1.0, "printing": 0.0}
    scenario = Scenario.from_dict(merged)
    assert scenario.arrivals.categories == {"network": 1.0, "printing": 0.0}
    categories = {r.category for r in simulate(attrs.evolve(scenario, days=2.0)).records}
    assert categories == {"network"}


def test_a_mix_entry_spelled_otherwise_in_the_scenario_is_replaced_not_kept() -> None:
    """A scenario may spell an entry of a mix as the loader reads it ("Email", a CSAT
    score as a number): the measured entry replaces it, rather than sitting beside it
    with weight 0 as a second name of the same entry, which the scenario refuses."""
    clock = ManualClock(MONDAY)
    desk = Helpdesk(_desk(), MemoryStore(), clock, ids=SequentialIds())
    desk.upsert_requester(Requester(id="ada", name="Ada"))
    for day in range(8):
        ticket = desk.open(requester="ada", subject=f"mail {day}", channel="email",
                           impact="high")
        desk.reply(ticket.id, author="ann", body="done")
        desk.solve(ticket.id, by="ann", resolution="done")
        desk.rate(ticket.id, score=5, by=Actor.requester("ada"))
        clock.advance(days=1)
    measured = calibrate(desk.store, desk=desk.config)
    document: dict[str, Any] = {
        "desk": desk.config.to_dict(),
        "arrivals": {"rate_per_hour": 1, "channels": {"Email": 3, "Chat": 1},
                     "impact": {"HIGH": 1, "low": 1}},
        "requesters": {"csat": {5: 0.5, 1: 0.5}},
    }
    merged = measured.merge(document)
    assert merged["arrivals"]["channels"] == {"Chat": 0.0, "email": 1.0}
    assert merged["arrivals"]["impact"] == {"low": 0.0, "high": 1.0}
    assert merged["requesters"]["csat"] == {1: 0.0, "5": 1.0}
    scenario = Scenario.from_dict(merged)
    assert scenario.arrivals.channels == {"chat": 0.0, "email": 1.0}
    assert scenario.csat == {1: 0.0, 5: 1.0}


def _uniform_openings(timezone: str, first: datetime, every: timedelta, count: int) -> Helpdesk:
    clock = ManualClock(first)
    desk = Helpdesk(_desk(timezone=timezone), MemoryStore(), clock, ids=SequentialIds())
    desk.upsert_requester(Requester(id="ada", name="Ada"))
    for n in range(count):
        clock.set(first + n * every)
        desk.open(requester="ada", subject=f"ticket {n}")
    return desk


def test_every_hour_of_the_week_gets_its_own_rate_across_a_spring_forward() -> None:
    """A week whose Sunday loses its 02:00 hour (Berlin, 29 March 2026) never holds that
    hour of the week: it is not measured as "no arrivals" but from its weekday's and its
    hour's rates."""
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 3, 23, tzinfo=berlin).astimezone(UTC)
    end = datetime(2026, 3, 31, tzinfo=berlin).astimezone(UTC)  # Monday to Tuesday
    hours = int((end - start).total_seconds() // 3600)
    assert hours == 8 * 24 - 1
    desk = _uniform_openings("Europe/Berlin", start + timedelta(minutes=30), timedelta(hours=1),
                             hours)
    measured = calibrate(desk.store, desk=desk.config, start=start, end=end)
    profile = measured.document["arrivals"]["profile"]
    assert profile[6 * 24 + 2] == pytest.approx(1.0)
    assert profile == pytest.approx([1.0] * 168)
    assert measured.counts["arrivals.profile"] == hours


def test_the_hours_of_a_zone_off_the_hour_are_its_own() -> None:
    """In a zone half an hour off UTC (India), the period's first and last hours count
    for the local hours they are part of."""
    from zoneinfo import ZoneInfo

    kolkata = ZoneInfo("Asia/Kolkata")
    first = datetime(2026, 3, 2, 9, 15, tzinfo=kolkata).astimezone(UTC)
    desk = _uniform_openings("Asia/Kolkata", first, timedelta(minutes=15), 4 * 24 * 8)
    end = first + timedelta(days=7, hours=5, minutes=15)  # from 09:15 to 14:30, local
    measured = calibrate(desk.store, desk=desk.config, start=first, end=end)
    profile = measured.document["arrivals"]["profile"]
    assert profile == pytest.approx([1.0] * 168, rel=1e-3)


def test_moves_automation_made_are_no_decisions_and_a_week_may_lose_an_hour() -> None:
    """An automatic solve (or one by a system actor) is no decision of the tier's, though
    the ticket counts as solved; an escalation naming no tier it left is the first
    tier's. A local week holding a spring-forward (167 hours) is history enough."""
    from helpdesk_core.model import Escalated, StatusChanged

    clock = ManualClock(MONDAY)
    desk = Helpdesk(_desk(), MemoryStore(), clock, ids=SequentialIds())
    desk.upsert_requester(Requester(id="ada", name="Ada"))
    opened = [desk.open(requester="ada", subject=f"t{i}") for i in range(3)]
    events = [e for _, e in desk.store.event_stream()]
    at = MONDAY + timedelta(hours=1)
    solved = {"transition": "solve", "from_status": "new", "to_status": "solved",
              "category": "solved", "at": at}
    events += [
        StatusChanged(ticket_id=opened[0].id, by=Actor.agent("ann"), automatic=True, **solved),
        StatusChanged(ticket_id=opened[1].id, by=Actor.system("rules"), **solved),
        Escalated(ticket_id=opened[2].id, at=at, by=Actor.agent("ann"), from_tier=None,
                  to_tier="L2"),
    ]
    measured = calibrate(events, desk=desk.config, end=MONDAY + timedelta(days=7))
    assert measured.document["tiers"]["L1"] == {"solve": 0.0, "pending": 0.0}
    assert measured.counts["tiers.L1.solve"] == 1
    assert measured.document["requesters"]["reopen"] == 0.0
    assert measured.counts["requesters.reopen"] == 2  # both solved tickets
    spring = datetime(2026, 3, 23, tzinfo=ZoneInfo("Europe/Berlin"))  # the week of the 29th
    berlin = _desk(timezone="Europe/Berlin")
    shifted = [evolve(e, at=spring) if isinstance(e, TicketOpened) else e for e in events]
    week = calibrate(shifted, desk=berlin, start=spring, end=spring + timedelta(days=7))
    assert week.end - week.start == timedelta(days=7) - timedelta(hours=1)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=5000), st.integers(min_value=1, max_value=50_000))
def test_the_requester_count_is_the_population_a_uniform_draw_needs(
    distinct: int, openings: int
) -> None:
    from helpdesk_core.simulation.calibrate import _population
    from helpdesk_core.simulation.scenario import MAX_REQUESTERS

    distinct = min(distinct, openings)
    n = _population(distinct, openings)
    assert distinct <= n <= MAX_REQUESTERS
    if distinct == openings:  # nobody twice: half a repeat expected
        assert n == max(distinct, min(openings * (openings - 1), MAX_REQUESTERS))
        return

    def reached(people: int) -> float:
        return people * (1 - (1 - 1 / people) ** openings)

    # the expected number reached is the number seen, to the rounding of n
    assert n == distinct or reached(n - 1) - 1e-6 <= distinct
    assert reached(n + 1) + 1e-6 >= distinct


def test_a_short_history_is_not_taken_for_a_small_population() -> None:
    """Ten days of a desk of 400 requesters reach fewer than 400 of them; the count
    calibrated is that of the desk, not of those seen."""
    scenario = attrs.evolve(Scenario.from_toml(DATA / "it_desk_scenario.toml"), days=10.0)
    result = simulate(scenario, seed=2)
    seen = {e.requester for e in result.events if isinstance(e, TicketOpened)}
    assert len(seen) < 370
    count = calibrate(result, desk=scenario.desk).document["requesters"]["count"]
    assert count == pytest.approx(400, rel=0.1)


@pytest.mark.parametrize(
    ("given", "measured"),
    [
        ({"kind": "lognormal", "mean": "3h", "sigma": 1.0},
         {"kind": "empirical", "samples": [60.0, 120.0, 7200.0]}),
        ({"kind": "lognormal", "mean": "3h", "sigma": 1.0}, {"kind": "fixed", "value": "2h"}),
        ({"kind": "empirical", "samples": ["1h", "2h"]},
         {"kind": "lognormal", "mean": "2h", "sigma": 0.5}),
        ({"kind": "fixed", "value": "1d"}, {"kind": "lognormal", "mean": "20h", "sigma": 0.3}),
    ],
)
def test_a_measured_delay_replaces_the_scenarios_whole(
    given: dict[str, Any], measured: dict[str, Any]
) -> None:
    """A delay is one distribution: the measured one replaces the scenario's, whatever
    kind either is, rather than having its keys mixed into the other's (a lognormal's
    mean and sigma beside an empirical's samples, which the scenario refuses)."""
    calibration = Calibration(
        document={"requesters": {"reply": measured, "reopen_delay": measured}},
        counts={"requesters.reply": 3, "requesters.reopen_delay": 3},
        start=MONDAY,
        end=MONDAY + timedelta(days=7),
        tickets=3,
    )
    document: dict[str, Any] = {
        "desk": _desk().to_dict(),
        "arrivals": {"rate_per_hour": 1},
        "requesters": {"count": 20, "reply": given, "reopen_delay": given},
    }
    merged = calibration.merge(document)
    assert merged["requesters"] == {"count": 20, "reply": measured, "reopen_delay": measured}
    scenario = Scenario.from_dict(merged)
    assert scenario.requester_reply == scenario.reopen_delay
    assert document["requesters"]["reply"] == given  # the scenario document is not changed


def _bursty_document() -> dict[str, Any]:
    """Two weeks at 2 tickets an hour, ten times as many on the fourth day."""
    return {
        "desk": {
            "desk": {"timezone": "UTC"},
            "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
            "tiers": [{"id": "L1", "teams": ["desk"]}], "teams": [{"id": "desk"}],
            "agents": [{"id": f"a{i}", "tier": "L1", "teams": ["desk"], "capacity": 5}
                       for i in range(4)],
        },
        "simulation": {"start": "2026-03-02T00:00:00+00:00", "days": 14},
        "arrivals": {
            "rate_per_hour": 2.0,
            "bursts": [{"start": "3d", "duration": "1d", "multiplier": 10.0}],
        },
        "tiers": {"L1": {"work": "5m"}},
    }


def _expected_arrivals(scenario: Scenario) -> float:
    """The tickets a scenario sends over its period: rate x profile x bursts, hour by hour."""
    arrivals = scenario.arrivals
    zone = ZoneInfo(scenario.desk.settings.timezone)
    total = 0.0
    for step in range(int(scenario.days * 24)):
        offset = timedelta(hours=step)
        local = (scenario.start + offset).astimezone(zone)
        rate = arrivals.rate_per_hour * arrivals.profile[local.weekday() * 24 + local.hour]
        for burst in arrivals.bursts:
            if burst.start <= offset < burst.start + burst.duration:
                rate *= burst.multiplier
        total += rate
    return total


def test_the_calibrated_scenario_does_not_count_the_histories_bursts_twice() -> None:
    """The measured rate and profile hold the tickets the scenario's bursts brought: the
    calibrated scenario sends as many tickets as the history holds, not those plus the
    bursts again."""
    document = _bursty_document()
    history = simulate(Scenario.from_dict(document), seed=5)
    opened = sum(1 for e in history.events if isinstance(e, TicketOpened))
    assert opened > 1000  # 672 without the burst, 432 more in it
    measured = calibrate(history, desk=Scenario.from_dict(document).desk)
    merged = measured.merge(document)
    assert "bursts" not in merged["arrivals"]
    assert document["arrivals"]["bursts"]  # the scenario given is left alone
    expected = _expected_arrivals(Scenario.from_dict(merged))
    # a Poisson count: within four of its standard errors
    assert expected == pytest.approx(opened, abs=4 * opened**0.5)
    # told to, the merge keeps them (a burst the history has not seen yet, say)
    kept = measured.merge(document, keep_bursts=True)
    assert kept["arrivals"]["bursts"] == document["arrivals"]["bursts"]
    with pytest.raises(ValidationError, match="keep_bursts"):
        measured.merge(document, keep_bursts=cast(Any, "yes"))
