"""The simulator: validation against Erlang C, determinism, scenarios, sweeps, the CLI."""

from __future__ import annotations

import copy
import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

import helpdesk_core
from helpdesk_core import ConfigError, ValidationError
from helpdesk_core.cli import main
from helpdesk_core.model import Escalated, StatusCategory, StatusChanged
from helpdesk_core.simulation import (
    Empirical,
    Exponential,
    Fixed,
    Kpis,
    LogNormal,
    Scenario,
    TierBehaviour,
    WorkSession,
    erlang,
    simulate,
    simulate_queue,
    sweep,
)

DATA = Path(helpdesk_core.__file__).parent / "data"


def mmc(agents: int = 3, rate: float = 4.0, days: float = 60) -> dict[str, Any]:
    """M/M/c on the full desk: Poisson arrivals, exponential work, one tier, agents always
    on shift holding one ticket at a time, a 24/7 calendar, no escalation."""
    return {
        "desk": {
            "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
            "tiers": [{"id": "L1", "teams": ["q"]}],
            "teams": [{"id": "q"}],
            "agents": [
                {"id": f"a{i}", "tier": "L1", "teams": ["q"], "capacity": 1} for i in range(agents)
            ],
            "assignment": {"strategy": "least_loaded", "queue_order": "oldest"},
        },
        "simulation": {"start": "2026-01-05T00:00:00+00:00", "days": days, "warmup_days": 2},
        "arrivals": {"rate_per_hour": rate},
        "tiers": {"L1": {"work": "30m", "solve": 1.0}},
        "requesters": {"count": 50},
    }


def test_full_desk_matches_erlang_c() -> None:
    # Six independent runs pooled: one 60-day run's share of waiting tickets wanders by
    # about 4 % around the true value (its tickets are correlated), more than the 3 %
    # tolerance below; six of them pooled wander by under 2 %.
    scenario = Scenario.from_dict(mmc())
    waits = [
        r.wait_for_agent
        for seed in range(1, 7)
        for r in simulate(scenario, seed=seed).records
        if r.measured
    ]
    assert all(w is not None for w in waits)
    n = len(waits)
    assert n > 30000
    traffic, aht = 2.0, timedelta(minutes=30)
    waited = sum(1 for w in waits if w and w > 0) / n
    within = sum(1 for w in waits if w is not None and w <= 600) / n
    assert waited == pytest.approx(erlang.wait_probability(traffic, 3), rel=0.03)
    target = timedelta(minutes=10)
    assert within == pytest.approx(
        erlang.service_level(traffic, 3, aht=aht, target=target), rel=0.03
    )
    # The mean wait converges slowly (its variance is large): a looser check here, the
    # tight one on the fast path below.
    mean = sum(w for w in waits if w is not None) / n
    asa = erlang.average_speed_of_answer(traffic, 3, aht=aht).total_seconds()
    assert mean == pytest.approx(asa, rel=0.2)


def test_fast_path_matches_erlang_c_within_three_percent() -> None:
    result = simulate_queue(
        arrivals_per_hour=10, agents=[6], work=["30m"], tickets=400_000, warmup=5_000, seed=11
    )
    tier = result[0]
    traffic, aht = 5.0, timedelta(minutes=30)
    assert tier.wait_probability == pytest.approx(erlang.wait_probability(traffic, 6), rel=0.03)
    assert tier.mean_wait.total_seconds() == pytest.approx(
        erlang.average_speed_of_answer(traffic, 6, aht=aht).total_seconds(), rel=0.03
    )
    target = timedelta(minutes=5)
    assert tier.service_level(target) == pytest.approx(
        erlang.service_level(traffic, 6, aht=aht, target=target), rel=0.03
    )


def test_two_tiers_match_erlang_c_per_tier() -> None:
    # 30 % of tier one's tickets go on to a second pool; by Burke's theorem its arrivals
    # are Poisson again, at 30 % of the rate (3.6 an hour of one-hour work: 3.6 Erlangs).
    result = simulate_queue(
        arrivals_per_hour=12,
        agents=[5, 5],
        work=["20m", "1h"],
        escalate=[0.3, 0.0],
        tickets=300_000,
        warmup=5_000,
        seed=5,
    )
    first, second = result[0], result[1]
    assert first.wait_probability == pytest.approx(erlang.wait_probability(4.0, 5), rel=0.03)
    assert second.wait_probability == pytest.approx(erlang.wait_probability(3.6, 5), rel=0.03)
    assert second.served == pytest.approx(0.3 * first.served, rel=0.03)


def test_same_seed_same_result_different_seed_differs() -> None:
    scenario = Scenario.from_toml(DATA / "it_desk_scenario.toml")
    import attrs

    short = attrs.evolve(scenario, days=4.0, warmup_days=0.0)
    one = simulate(short, seed=7)
    two = simulate(short, seed=7)
    other = simulate(short, seed=8)
    assert one.records == two.records
    assert one.events == two.events
    assert one.kpis == two.kpis
    assert one.records != other.records


def test_a_run_ends_at_its_last_event_not_at_the_last_shift_start() -> None:
    """The desk with shifts goes on being ticked at shift starts up to 60 days after the
    arrivals stop; the run ended when it recorded its last event (the drain)."""
    scenario = Scenario.from_toml(DATA / "it_desk_scenario.toml")
    result = simulate(attrs.evolve(scenario, days=2.0, warmup_days=0.0), seed=3)
    last = max(e.at for e in result.events)
    assert last > scenario.start + timedelta(days=2)  # something was drained
    assert result.end == last
    quiet = simulate(Scenario.from_dict(mmc(days=3, rate=1e-300)), seed=1)
    assert quiet.events == () and quiet.end == quiet.scenario.end


def test_example_scenario_runs_the_real_desk() -> None:
    import attrs

    scenario = Scenario.from_toml(DATA / "it_desk_scenario.toml")
    result = simulate(attrs.evolve(scenario, days=6.0, warmup_days=1.0), seed=1)
    kinds = {type(e).__name__ for e in result.events}
    assert {
        "TicketOpened",
        "TicketRouted",
        "Assigned",
        "SlaClockStarted",
        "SlaClockPaused",
        "Escalated",
        "StatusChanged",
        "Rated",
        "CsatRequested",
    } <= kinds
    assert result.kpis.tickets > 100
    assert 0 < result.kpis.first_contact_resolution < 1
    frame = result.to_pandas()
    assert len(frame) == len(result.records)
    # The service desk escalates network trouble to the network team, the rest to
    # workplace and devices (not everything to L2's first team).
    category = {r.id: r.category for r in result.records}
    to_l2 = {
        (category[e.ticket_id], e.team)
        for e in result.events
        if isinstance(e, Escalated) and e.to_tier == "L2"
    }
    assert {team for _, team in to_l2} == {"network", "workplace"}
    assert all((team == "network") == (c == "network") for c, team in to_l2)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["arrivals"].update(rate_per_hour=-1), "arrivals.rate_per_hour"),
        (lambda d: d["tiers"]["L1"].update(solve=1.5), "tiers.L1.solve"),
        (lambda d: d["tiers"].update(L9={"work": "1h"}), "tiers.L9"),
        (lambda d: d["tiers"]["L1"].update(work={"kind": "weibull"}), "tiers.L1.work.kind"),
        (lambda d: d["simulation"].update(warmup_days=90), "simulation.warmup_days"),
        (lambda d: d["desk"]["agents"][0].update(calendar="nope"), "desk.agents[0].calendar"),
        (lambda d: d.update(surprise=1), "$"),
        (lambda d: d["arrivals"].update(hours=[1.0] * 23), "arrivals.hours"),
        (lambda d: d["arrivals"].update(rate_per_hour=1e300), "arrivals"),
        (lambda d: d["requesters"].update(count=10**12), "requesters.count"),
        (lambda d: d["tiers"]["L1"].update(work="3000000d"), "tiers.L1.work"),
        (lambda d: d["tiers"]["L1"].update(work={"kind": ["lognormal"]}), "tiers.L1.work.kind"),
        (
            lambda d: d["tiers"]["L1"].update(
                work={"kind": "lognormal", "mean": "20m", "sigma": 10**400}
            ),
            "tiers.L1.work.sigma",
        ),
        (
            lambda d: d["tiers"]["L1"].update(
                work_by_category={"general": {"kind": "empirical", "samples": ["1h", "12"]}}
            ),
            "tiers.L1.work_by_category.general.samples[1]",
        ),
        (lambda d: d.update(absences=[{"agent": "a0", "start": "1d", "end": "3000000d"}]),
         "absences[0].end"),
        (lambda d: d["requesters"].update(csat={None: 1}), "requesters.csat"),
        (lambda d: d["requesters"].update(csat={4.7: 1}), "requesters.csat.4.7"),
        (lambda d: d["requesters"].update(csat={True: 1}), "requesters.csat.True"),
        # two spellings of one entry: the second weight would replace the first
        (lambda d: d["requesters"].update(csat={"5": 0.5, "05": 0.5}), "requesters.csat.05"),
        (lambda d: d["arrivals"].update(channels={"email": 1, "Email": 1}),
         "arrivals.channels.Email"),
        (lambda d: d["simulation"].update(start="0001-01-01T00:00:00+05:00"),
         "simulation.start"),
        (lambda d: d["simulation"].update(start="9998-06-01T00:00:00+00:00"),
         "simulation.start"),
        (lambda d: (d.update(staffing={"q": 2}), d["desk"]["agents"][0].update(teams=5)),
         "desk.agents[0].teams"),
        (lambda d: d["tiers"]["L1"].update(escalate_to={"general": "q"}),
         "tiers.L1.escalate_to.general"),  # the top tier escalates nowhere
        (lambda d: d["tiers"]["L1"].update(escalate_to=["q"]), "tiers.L1.escalate_to"),
        # the top tier solves everything: a solve below 1 would be ignored
        (lambda d: d["tiers"]["L1"].update(solve=0.7), "tiers.L1.solve"),
        # a profile would silently replace the weekdays and hours given with it
        (lambda d: d["arrivals"].update(profile=[1.0] * 168, weekdays=[2.0] + [1.0] * 6),
         "arrivals.profile"),
        (lambda d: d["arrivals"].update(profile=[1.0] * 168, hours=[1.0] * 24),
         "arrivals.profile"),
    ],
)
def test_bad_scenarios_name_the_path(change: Any, path: str) -> None:
    doc = copy.deepcopy(mmc())
    change(doc)
    with pytest.raises(ConfigError) as info:
        Scenario.from_dict(doc)
    assert str(info.value).startswith(path)


def test_an_absence_of_an_agent_staffing_replaced_says_so() -> None:
    doc = copy.deepcopy(mmc(days=3))
    doc["staffing"] = {"q": 2}
    doc["absences"] = [{"agent": "a0", "start": "1d", "end": "2d"}]
    with pytest.raises(ConfigError) as info:
        Scenario.from_dict(doc)
    assert info.value.path == "absences[0].agent"
    assert "[staffing] replaced the agents of q (now: q-1, q-2)" in info.value.message
    doc["absences"][0]["agent"] = "q-2"
    assert Scenario.from_dict(doc).absences[0].agent == "q-2"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["desk"]["teams"][0].update(contacts=5), "desk.teams[0].contacts"),
        (lambda d: d["desk"]["teams"][0].update(contacts=[["a0"]]), "desk.teams[0].contacts"),
        (lambda d: d["desk"]["teams"][0].update(id=["q"]), "desk.teams[0].id"),
        (lambda d: d["desk"]["agents"][0].update(id=["a0"]), "desk.agents[0].id"),
        (lambda d: d["desk"]["tiers"][0].update(id=["L1"]), "desk.tiers[0].id"),
        (lambda d: d["desk"].update(teams={"q": {}}), "desk.teams"),
        # the agent of the desk as written, not the place staffing moved it to
        (lambda d: d["desk"]["agents"][1].update(active="no"), "desk.agents[1].active"),
        (lambda d: d["desk"]["agents"].insert(1, 5), "desk.agents[1]"),
    ],
)
@pytest.mark.parametrize("staffing", [2, {"L1": 2}], ids=["count", "per-tier"])
def test_a_bad_desk_that_is_staffed_names_its_own_path(
    change: Any, path: str, staffing: Any
) -> None:
    doc = copy.deepcopy(mmc(days=3))
    change(doc)
    with pytest.raises(ConfigError) as plain:
        Scenario.from_dict(doc)
    doc["staffing"] = {"q": staffing}
    with pytest.raises(ConfigError) as staffed:
        Scenario.from_dict(doc)
    assert plain.value.path == staffed.value.path == path


def test_a_value_a_document_cannot_hold_is_named() -> None:
    doc = copy.deepcopy(mmc(days=3))
    doc["tiers"]["L1"]["work"] = {"kind": "empirical", "samples": (s for s in (60.0, 120.0))}
    with pytest.raises(ConfigError) as info:
        Scenario.from_dict(doc)
    assert info.value.path == "tiers.L1.work.samples"
    assert "not a generator" in info.value.message


def test_numpy_numbers_are_numbers() -> None:
    # A notebook hands over NumPy's numbers (np.int64 from an array, list(np.arange(...)))
    # where Python's are expected: they count as the same numbers, bools never do.
    np = pytest.importorskip("numpy")
    doc = copy.deepcopy(mmc(days=3))
    doc["simulation"]["days"] = np.int64(3)
    doc["arrivals"]["rate_per_hour"] = np.int64(4)
    doc["requesters"]["count"] = np.int64(50)
    doc["tiers"]["L1"]["work"] = {"kind": "lognormal", "mean": np.int64(1800),
                                  "sigma": np.float32(0.5)}
    plain = copy.deepcopy(mmc(days=3))
    plain["tiers"]["L1"]["work"] = {"kind": "lognormal", "mean": "30m", "sigma": 0.5}
    scenario, expected = Scenario.from_dict(doc), Scenario.from_dict(plain)
    assert simulate(scenario, seed=np.int64(1)).records == simulate(expected, seed=1).records
    with ThreadPoolExecutor(max_workers=1) as pool:
        rows = sweep(expected, vary={"arrivals.rate_per_hour": list(np.arange(2, 4))},
                     seeds=[np.int64(1)], executor=pool)
    assert [(r.values["arrivals.rate_per_hour"], r.seed) for r in rows] == [(2, 1), (3, 1)]
    with ThreadPoolExecutor(max_workers=1) as pool:  # an array as it is, numbers made plain
        arrayed = sweep(expected, vary={"arrivals.rate_per_hour": np.arange(2, 4)},
                        seeds=[1], executor=pool)
    assert [r.values for r in arrayed] == [r.values for r in rows]
    assert [type(r.values["arrivals.rate_per_hour"]) for r in arrayed] == [int, int]
    assert [r.flat() for r in arrayed] == [r.flat() for r in rows]
    for unordered in ({2, 3}, {"a": 2}, "23", 2):
        with pytest.raises(ValidationError, match="ordered collection"):
            sweep(expected, vary={"arrivals.rate_per_hour": unordered})
    assert Empirical(np.array([60, 120])).samples == (60.0, 120.0)
    queue = simulate_queue(arrivals_per_hour=np.int64(4), agents=[np.int64(3)],
                           work=[np.int64(1800)], tickets=np.int64(500), seed=np.int64(2))
    assert queue == simulate_queue(arrivals_per_hour=4, agents=[3], work=["30m"],
                                   tickets=500, seed=2)
    for bad in (np.bool_(True), True):
        doc["requesters"]["count"] = bad
        with pytest.raises(ConfigError, match="count"):
            Scenario.from_dict(doc)
    with pytest.raises(ValidationError, match="seed"):
        simulate(expected, seed=np.float64(1.0))


def test_notebook_values_where_a_scenario_wants_other_ones_are_named() -> None:
    # What a notebook has at hand (an array or a Series of head counts, a start read off
    # an empty column) is refused with the path it was given at, never with the error
    # NumPy or pandas raise when asked whether it is true or what its offset is.
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    for staffing in (np.array([2, 3]), np.array([]), pd.Series({"q": 2}), pd.NA):
        doc = copy.deepcopy(mmc(days=3))
        doc["staffing"] = staffing
        with pytest.raises(ConfigError) as caught:
            Scenario.from_dict(doc)
        assert caught.value.path == "staffing"
    doc = copy.deepcopy(mmc(days=3))
    doc["simulation"]["start"] = pd.NaT
    with pytest.raises(ConfigError) as caught:
        Scenario.from_dict(doc)
    assert caught.value.path == "simulation.start"
    scenario = Scenario.from_dict(mmc(days=3))
    with pytest.raises(ConfigError) as caught:
        attrs.evolve(scenario, start=pd.NaT)
    assert caught.value.path == "simulation.start"


def test_a_desk_path_no_file_can_have_is_named() -> None:
    doc = copy.deepcopy(mmc(days=3))
    doc["desk"] = "desk\x00.toml"
    with pytest.raises(ConfigError) as caught:
        Scenario.from_dict(doc)
    assert caught.value.path == "desk"
    assert "cannot load desk configuration" in caught.value.message


def test_a_scenario_changed_in_code_takes_any_number_of_days() -> None:
    # attrs.evolve (or Scenario(...)) with NumPy's numbers or a Fraction, which the
    # scenario's checks accept, runs as the same run with Python's floats.
    np = pytest.importorskip("numpy")
    from fractions import Fraction

    scenario = Scenario.from_dict(mmc(days=3))
    expected = simulate(scenario, seed=1)
    for days, warmup in [(np.int64(3), np.int64(2)), (Fraction(3), Fraction(2)),
                         (np.float32(3), np.float64(2))]:
        changed = attrs.evolve(scenario, days=days, warmup_days=warmup)
        assert (changed.days, changed.warmup_days) == (3.0, 2.0)
        assert type(changed.days) is type(changed.warmup_days) is float
        result = simulate(changed, seed=1)
        assert result.records == expected.records and result.kpis == expected.kpis
        assert "days=3," in repr(result)


def test_csat_scores_given_as_numpy_numbers_are_rated() -> None:
    # The scenario's checks take a NumPy score (a key from an array) as the whole number
    # it is: the requesters rate with it instead of stopping the run half-way.
    np = pytest.importorskip("numpy")
    doc = mmc(days=3)
    doc["requesters"].update(csat_response=1.0, csat={"4": 1.0})
    expected = simulate(Scenario.from_dict(doc), seed=1)
    changed = attrs.evolve(Scenario.from_dict(doc), csat={np.int64(4): np.float64(1.0)})
    result = simulate(changed, seed=1)
    assert result.kpis.csat == expected.kpis.csat == 4.0
    assert result.records == expected.records


def test_numpy_durations_are_durations() -> None:
    # A pandas column of durations hands over NumPy's timedelta64, which NumPy registers
    # as an integer counting its own units: 5 minutes is 5, 3 minutes in nanoseconds
    # 180_000_000_000. It is read as the duration it is, never as that many seconds.
    np = pytest.importorskip("numpy")
    handle = np.array([180, 600], dtype="timedelta64[s]").astype("timedelta64[ns]")
    assert Empirical(list(handle)).samples == (180.0, 600.0)
    doc = copy.deepcopy(mmc(days=3))
    doc["tiers"]["L1"]["work"] = {"kind": "empirical", "samples": list(handle)}
    assert Scenario.from_dict(doc).tiers["L1"].work == Empirical([180, 600])
    # an array or a Series of them, as Empirical itself takes them
    pd = pytest.importorskip("pandas")
    for samples in (handle, pd.Series(handle), np.array([180.0, 600.0])):
        doc["tiers"]["L1"]["work"] = {"kind": "empirical", "samples": samples}
        assert Scenario.from_dict(doc).tiers["L1"].work == Empirical([180, 600])
    for bad in ("180", {"a": 180}, 180.0):
        doc["tiers"]["L1"]["work"] = {"kind": "empirical", "samples": bad}
        with pytest.raises(ConfigError) as refused:
            Scenario.from_dict(doc)
        assert refused.value.path == "tiers.L1.work.samples"
    doc["tiers"]["L1"]["work"] = {"kind": "fixed", "value": np.timedelta64(5, "m")}
    assert Scenario.from_dict(doc).tiers["L1"].work == Fixed(timedelta(minutes=5))
    assert erlang.service_level(5.0, 8, aht=np.timedelta64(3, "m"),
                                target=np.timedelta64(20_000, "ms")) == erlang.service_level(
        5.0, 8, aht="3m", target="20s")
    assert erlang.traffic_intensity(100, np.timedelta64(180_000_000_000, "ns")) == 5.0
    assert simulate_queue(arrivals_per_hour=4, agents=[3], work=[np.timedelta64(30, "m")],
                          tickets=200, seed=2) == simulate_queue(
        arrivals_per_hour=4, agents=[3], work=["30m"], tickets=200, seed=2)
    # A duration is no number, and a duration without a fixed length is refused.
    for call, field in [
        (lambda: erlang.wait_probability(2.0, np.timedelta64(3, "s")), "agents"),
        (lambda: erlang.wait_probability(np.timedelta64(2, "s"), 3), "traffic"),
        (lambda: simulate_queue(arrivals_per_hour=4, agents=[np.timedelta64(3, "s")],
                                work=["30m"]), "agents[0]"),
        (lambda: erlang.service_level(1.0, 2, aht=np.timedelta64(1, "M"), target=0), "aht"),
        (lambda: erlang.service_level(1.0, 2, aht=np.timedelta64("NaT"), target=0), "aht"),
    ]:
        with pytest.raises(ValidationError) as info:
            call()
        assert info.value.field == field


def test_a_bare_duration_is_an_exponential_mean() -> None:
    # "30m" and 1800 (seconds) give an exponential's mean; so does a duration given as
    # one: a timedelta, a pandas Timedelta or a NumPy timedelta64 (in its own unit).
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    three = Exponential(timedelta(minutes=3))
    doc = copy.deepcopy(mmc(days=3))
    for given in (timedelta(minutes=3), np.timedelta64(3, "m"), pd.Timedelta(minutes=3),
                  np.timedelta64(180_000_000_000, "ns")):
        doc["tiers"]["L1"]["work"] = given
        doc["tiers"]["L1"]["work_by_category"] = {"general": given}
        doc["requesters"] = {"reply": given, "reopen_delay": given}
        scenario = Scenario.from_dict(doc)
        assert scenario.tiers["L1"].work == three
        assert scenario.tiers["L1"].work_by_category["general"] == three
        assert scenario.requester_reply == scenario.reopen_delay == three
    for bad, message in ((timedelta(0), "positive"), (timedelta(days=36_526), "at most"),
                         (np.timedelta64(1, "M"), "no fixed length")):
        doc["tiers"]["L1"]["work"] = bad
        with pytest.raises(ConfigError, match=message) as refused:
            Scenario.from_dict(doc)
        assert refused.value.path.startswith("tiers.L1.work")


def test_an_entry_of_weight_zero_is_never_drawn() -> None:
    # The shares of 0.1 and 0.3 add up to just under 1.0 (0.9999999999999999): the
    # sliver above them must not go to a weight-0 entry after the last positive one.
    from helpdesk_core.simulation.engine import _cumulative, _draw

    edges = _cumulative([0.1, 0.3, 0.0, 0.0])
    assert edges == [0.25, 1.0, 1.0, 1.0]

    class Top:  # the largest value random() returns
        def random(self) -> float:
            return 1.0 - 2.0**-53

    assert _draw(Top(), edges) == 1  # type: ignore[arg-type]
    assert _draw(Top(), _cumulative([1.0, 0.0])) == 0  # type: ignore[arg-type]


def test_a_rate_too_small_to_bring_anyone_brings_no_one() -> None:
    """The first gap of a vanishing arrival rate lies beyond any date: no arrivals."""
    doc = copy.deepcopy(mmc(days=3, rate=1e-300))
    assert simulate(Scenario.from_dict(doc), seed=1).records == ()


def test_sweep_runs_a_grid_on_any_executor() -> None:
    scenario = Scenario.from_dict(mmc(days=5))
    with ThreadPoolExecutor(max_workers=2) as pool:
        rows = sweep(
            scenario, vary={"arrivals.rate_per_hour": [2.0, 5.0]}, seeds=[1, 2], executor=pool
        )
    assert [(r.values["arrivals.rate_per_hour"], r.seed) for r in rows] == [
        (2.0, 1),
        (2.0, 2),
        (5.0, 1),
        (5.0, 2),
    ]
    busy = [r.kpis.mean_wait_for_agent for r in rows if r.values["arrivals.rate_per_hour"] == 5.0]
    calm = [r.kpis.mean_wait_for_agent for r in rows if r.values["arrivals.rate_per_hour"] == 2.0]
    assert min(b for b in busy if b) > max(c for c in calm if c)
    assert "sla_first_response" not in rows[0].flat()  # no SLA policy in this desk
    with pytest.raises(ConfigError):
        sweep(scenario, vary={"tiers.L1.solve": [2.0]}, executor=pool)
    with pytest.raises(ValidationError):
        sweep(scenario, vary={})


def test_a_sweep_varies_an_item_of_a_list() -> None:
    doc = mmc(days=3)
    doc["simulation"]["warmup_days"] = 0
    doc["arrivals"]["bursts"] = [{"start": "1d", "duration": "1d", "multiplier": 1}]
    scenario = Scenario.from_dict(doc)
    with ThreadPoolExecutor(max_workers=1) as pool:
        rows = sweep(scenario, vary={"arrivals.bursts.0.multiplier": [1, 4]}, executor=pool)
        assert rows[1].kpis.tickets > rows[0].kpis.tickets * 1.5  # the second day brings 4x
        for path, named in [
            ("arrivals.bursts.1.multiplier", "'arrivals.bursts' is a list (its indices: from 0"),
            ("tiers.L1.work.mean", "'tiers.L1.work' holds str '30m', not a table"),
        ]:
            with pytest.raises(ConfigError) as info:
                sweep(scenario, vary={path: [2]}, executor=pool)
            assert named in info.value.message and info.value.path == path


def test_a_sweep_row_flattens_every_kpi() -> None:
    """flat() is the table row of a run: every KPI is in it, durations in hours."""
    scenario = Scenario.from_dict(mmc(days=3))
    with ThreadPoolExecutor(max_workers=1) as pool:
        (row,) = sweep(scenario, vary={"staffing.q": [2]}, executor=pool)
    flat = row.flat()
    for kpi in attrs.fields(Kpis):
        value = getattr(row.kpis, kpi.name)
        if isinstance(value, timedelta):
            assert flat[f"{kpi.name}_hours"] == value.total_seconds() / 3600, kpi.name
        elif kpi.name != "sla_compliance":
            assert flat[kpi.name] == value, kpi.name
    assert flat["p90_resolution_hours"] >= flat["mean_resolution_hours"] > 0
    assert flat["never_worked"] == flat["unanswered"] == 0


def test_overlapping_bursts_multiply() -> None:
    doc = mmc(days=3)
    doc["arrivals"]["bursts"] = [
        {"start": "0h", "duration": "3d", "multiplier": 2},
        {"start": "0h", "duration": "3d", "multiplier": 2},
    ]
    scenario = Scenario.from_dict(doc)
    assert scenario.arrivals.peak_burst == 4.0
    quadrupled = len(simulate(scenario, seed=1).records)
    single = len(simulate(Scenario.from_dict(mmc(days=3)), seed=1).records)
    assert quadrupled > 3 * single  # about 4x; a bound at 2x would cap it near 2x


def test_peak_burst_is_the_largest_product_in_force() -> None:
    doc = mmc(days=3)
    doc["arrivals"]["bursts"] = [
        {"start": "0h", "duration": "10h", "multiplier": 3},
        {"start": "2h", "duration": "2h", "multiplier": 0.5},
        {"start": "20h", "duration": "1h", "multiplier": 2},
        {"start": "20h", "duration": "2h", "multiplier": 1.2},
    ]
    assert Scenario.from_dict(doc).arrivals.peak_burst == 3.0


def test_a_changed_scenario_is_checked_and_swept_as_it_is() -> None:
    scenario = Scenario.from_dict(mmc(days=5))
    for days in (0.0, -3.0, float("nan"), float("inf"), 1e9):
        with pytest.raises(ConfigError, match=r"simulation\.days"):
            attrs.evolve(scenario, days=days)
    short = attrs.evolve(scenario, days=1.0, warmup_days=0.0)
    direct = simulate(short, seed=3)
    with ThreadPoolExecutor(max_workers=1) as pool:
        (row,) = sweep(short, vary={"requesters.count": [50]}, seeds=[3], executor=pool)
    assert row.kpis == direct.kpis
    changed = attrs.evolve(scenario, arrivals=attrs.evolve(scenario.arrivals, rate_per_hour=9.0))
    with pytest.raises(ValidationError) as caught:
        sweep(changed, vary={"requesters.count": [50]})
    assert caught.value.field == "scenario.arrivals"


def test_a_sweep_of_a_scenario_built_in_code_asks_for_a_document() -> None:
    loaded = Scenario.from_dict(mmc(days=3))
    built = Scenario(
        desk=loaded.desk, start=loaded.start, days=2.0, arrivals=loaded.arrivals,
        tiers=loaded.tiers,
    )
    assert simulate(built, seed=1).records  # it runs: only a sweep needs the document
    with pytest.raises(ValidationError) as caught:
        sweep(built, vary={"requesters.count": [50]})
    assert caught.value.field == "scenario"
    assert "Scenario.from_dict" in str(caught.value)


def test_a_sweep_keeps_a_start_in_the_desk_zone_across_daylight_saving() -> None:
    doc = mmc(days=4)
    doc["desk"]["desk"] = {"timezone": "Europe/Berlin"}
    doc["simulation"]["start"] = "2026-03-27T00:00:00"  # Berlin; clocks go forward on the 29th
    scenario = Scenario.from_dict(doc)
    with ThreadPoolExecutor(max_workers=1) as pool:
        (row,) = sweep(scenario, vary={"requesters.count": [50]}, seeds=[2], executor=pool)
    assert row.kpis == simulate(scenario, seed=2).kpis


@pytest.mark.parametrize(
    "nobody", [{"r": 0}, {"r": {"L2": 0}}], ids=["count", "count per tier"]
)
def test_a_sweep_staffs_again_a_team_the_scenario_gives_no_agent(nobody: Any) -> None:
    """A team ``[staffing]`` empties keeps nobody to clone on the staffed desk: the sweep
    clones the agents the desk document gave it, as loading the document does."""
    doc = _two_tiers()
    doc["simulation"]["days"] = 3
    doc["staffing"] = nobody
    scenario = Scenario.from_dict(doc)
    assert not [a for a in scenario.desk.agents if "r" in a.teams]
    with ThreadPoolExecutor(max_workers=1) as pool:
        rows = sweep(scenario, vary={"tiers.L1.solve": [0.5]}, seeds=[2], executor=pool)
        assert rows[0].kpis == simulate(scenario, seed=2).kpis
        staffed = [0, 2] if isinstance(nobody["r"], int) else [{"L2": 0}, {"L2": 2}]
        rows = sweep(scenario, vary={"staffing.r": staffed}, seeds=[2], executor=pool)
    for row, count in zip(rows, staffed, strict=True):
        again = copy.deepcopy(doc)
        again["staffing"] = {"r": count}
        assert row.kpis == simulate(Scenario.from_dict(again), seed=2).kpis
    assert rows[1].kpis.backlog < rows[0].kpis.backlog  # L2 works with two agents


def test_queue_fast_path_occupancy_counts_only_the_measured_window() -> None:
    agents, rate, work = 8, 10.0, "30m"  # 5 Erlangs on 8 agents: occupancy 0.625
    for warmup in (0, 20_000):
        result = simulate_queue(
            arrivals_per_hour=rate, agents=[agents], work=[work], tickets=40_000,
            warmup=warmup, seed=5,
        )
        assert result.tiers[0].occupancy == pytest.approx(0.625, rel=0.05)


def test_queue_fast_path_occupancy_of_a_tier_ignores_a_later_tier_draining() -> None:
    # L1: 5 Erlangs on 6 agents (occupancy 5/6). L2 gets 4 Erlangs on one agent: it cannot
    # keep up and works for a long time after the arrivals stop, while L1 is idle.
    result = simulate_queue(
        arrivals_per_hour=10, agents=[6, 1], work=["30m", "1h"], escalate=[0.4, 0.0],
        tickets=20_000, warmup=1_000, seed=2,
    )
    assert result.tiers[0].occupancy == pytest.approx(5 / 6, rel=0.05)
    assert result.tiers[1].occupancy == pytest.approx(1.0, rel=0.01)


def test_results_print_short_whatever_the_length_of_the_run() -> None:
    # A notebook shows a cell's last value: a result must not print every event it holds.
    scenario = Scenario.from_dict(mmc(agents=3, rate=4.0, days=4))
    result = simulate(scenario, seed=1)
    text = repr(result)
    assert len(text) < 2000
    assert f"tickets={len(result.records)}" in text
    assert f"events={len(result.events)}" in text
    assert repr(result.kpis) in text
    queue = simulate_queue(arrivals_per_hour=10, agents=[6], work=["30m"], tickets=20_000,
                           seed=1)
    assert len(repr(queue)) < 1000
    assert "served=" in repr(queue[0])


def test_queue_fast_path_validates() -> None:
    with pytest.raises(ValidationError) as caught:
        simulate_queue(arrivals_per_hour=10**400, agents=[1], work=["1h"])
    assert caught.value.field == "arrivals_per_hour"
    with pytest.raises(ValidationError, match="agents"):
        simulate_queue(arrivals_per_hour=1, agents=[0], work=["1h"])
    with pytest.raises(ValidationError, match="escalate"):
        simulate_queue(arrivals_per_hour=1, agents=[1], work=["1h"], escalate=[2.0])
    with pytest.raises(ValidationError) as caught:  # it would be ignored: no tier above
        simulate_queue(arrivals_per_hour=1, agents=[1, 1], work=["1h", "1h"],
                       escalate=[0.5, 0.3])
    assert caught.value.field == "escalate[1]"
    with pytest.raises(ValidationError) as caught:
        simulate_queue(arrivals_per_hour=1, agents=[1], work=[0])
    assert caught.value.field == "work[0]"
    with pytest.raises(ValidationError, match="whole number") as caught:
        simulate_queue(arrivals_per_hour=1, agents=[1.5], work=["1h"])  # type: ignore[list-item]
    assert caught.value.field == "agents[0]"


def test_cli_refuses_bad_days_and_writes_what_it_can(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for days in ("nan", "inf", "1e9", "-3", "0"):
        assert main(["simulate", "--days", days, "--quiet"]) == 2
        assert capsys.readouterr().err.startswith("helpdesk-core: --days: ")
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert main(["simulate", "--days", "0.5", "--quiet", "--out", str(blocker)]) == 2
    assert "cannot write" in capsys.readouterr().err
    import helpdesk_core.simulation.plots as plots

    def no_matplotlib(width: float, height: float) -> Any:
        raise ImportError("charts need matplotlib")

    monkeypatch.setattr(plots, "_figure", no_matplotlib)
    out = tmp_path / "out"
    assert main(["simulate", "--days", "0.01", "--quiet", "--out", str(out)]) == 0
    assert "no charts" in capsys.readouterr().err
    header = (out / "tickets.csv").read_text().splitlines()[0]  # a header, even with no ticket
    assert header.startswith("id,")


def test_charts_leave_the_callers_matplotlib_backend_alone() -> None:
    # In a notebook the backend is the notebook's (inline, widget ...): drawing a chart of
    # a run must not switch it to Agg, which stops the notebook showing figures.
    matplotlib = pytest.importorskip("matplotlib")
    from helpdesk_core.simulation.plots import plot_first_response, plot_volume_by_day

    result = simulate(Scenario.from_dict(mmc(days=3)), seed=1)
    before = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        for chart in (plot_volume_by_day, plot_first_response):
            figure = chart(result)
            assert figure.axes
            assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)


def test_result_helpers_check_their_arguments(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from helpdesk_core.simulation.plots import plot_volume_by_day, save_charts
    from helpdesk_core.simulation.staffing import tier_waits

    scenario = Scenario.from_dict(mmc(days=3))
    with pytest.raises(ValidationError) as info:  # refused before the run, not during it
        simulate(scenario, seed=1, progress=5)  # type: ignore[arg-type]
    assert info.value.field == "progress"
    result = simulate(scenario, seed=1)
    for call, field in [
        (lambda: tier_waits("result", scenario), "result"),  # type: ignore[arg-type]
        (lambda: tier_waits(result, "scenario"), "scenario"),  # type: ignore[arg-type]
        (lambda: plot_volume_by_day("result"), "result"),  # type: ignore[arg-type]
        (lambda: save_charts(result, 5), "folder"),  # type: ignore[arg-type]
        (lambda: save_charts(result, tmp_path / "missing"), "folder"),
    ]:
        with pytest.raises(ValidationError) as info:
            call()
        assert info.value.field == field
    # A folder given as text, as a notebook does.
    assert save_charts(result, str(tmp_path)) == ["volume_by_day.png", "first_response.png"]
    assert (tmp_path / "volume_by_day.png").stat().st_size > 0


def test_cli_simulate_staff_demo_and_sla(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "--days", "2", "--quiet", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "first contact resolution" in out
    assert (tmp_path / "tickets.csv").read_text().startswith("id,")
    assert (
        main(
            [
                "staff",
                "--arrivals",
                "100",
                "--aht",
                "3m",
                "--target",
                "20s",
                "--service-level",
                "0.8",
            ]
        )
        == 0
    )
    assert "8" in capsys.readouterr().out
    assert main(["demo"]) == 0
    assert "closed" in capsys.readouterr().out
    assert main(["sla", "2026-03-06T16:00:00+01:00", "4h", "--timezone", "Europe/Berlin"]) == 0
    assert capsys.readouterr().out.strip() == "2026-03-09T12:00:00+01:00"
    assert main(["sla", "2026-03-06T16:00:00", "4h"]) == 2
    assert "naive" in capsys.readouterr().err


def test_cli_writes_the_records_as_parquet(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    csv_dir, parquet_dir = tmp_path / "csv", tmp_path / "parquet"
    assert main(["simulate", "--days", "2", "--quiet", "--out", str(csv_dir)]) == 0
    args = ["simulate", "--days", "2", "--quiet", "--out", str(parquet_dir)]
    assert main([*args, "--format", "parquet"]) == 0
    assert not (parquet_dir / "tickets.csv").exists()
    table = pd.read_parquet(parquet_dir / "tickets.parquet")
    scenario = Scenario.from_toml(DATA / "it_desk_scenario.toml")
    result = simulate(attrs.evolve(scenario, days=2.0, warmup_days=0.0), seed=1)
    assert list(table["id"]) == [r.id for r in result.records]
    assert list(table.columns) == list(result.rows()[0])
    assert table["opened_at"].iloc[0] == pd.Timestamp(result.records[0].opened_at)
    assert len(table) == len(pd.read_csv(csv_dir / "tickets.csv"))


def test_agents_on_an_around_the_clock_calendar() -> None:
    doc = mmc(days=3)
    for agent in doc["desk"]["agents"]:
        agent["calendar"] = "always"
    doc["simulation"]["warmup_days"] = 0
    result = simulate(Scenario.from_dict(doc), seed=5)
    assert result.records
    assert all(r.wait_for_agent is not None for r in result.records if r.measured)


def test_simulated_time_runs_exactly_across_a_dst_change() -> None:
    """Work that spans the spring-forward gap in Berlin ends exactly its length later: time
    runs in absolute instants, not on the local wall clock."""
    doc = mmc(agents=2, rate=6.0, days=2)
    doc["desk"]["desk"] = {"timezone": "Europe/Berlin"}
    doc["desk"]["calendars"]["always"]["timezone"] = "Europe/Berlin"
    doc["simulation"] = {"start": "2026-03-28T12:00:00", "days": 2}  # local time
    result = simulate(Scenario.from_dict(doc), seed=5)
    solved = {
        e.ticket_id: e.at
        for e in result.events
        if type(e).__name__ == "StatusChanged" and e.category.value == "solved"  # type: ignore[attr-defined]
    }
    change = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 02:00 CET becomes 03:00 CEST
    spanning = [
        w for w in result.work
        if w.start < change < w.start + timedelta(seconds=w.seconds)
    ]
    assert spanning, "no work session spans the change: pick another seed"
    for session in result.work:
        ended = session.start + timedelta(seconds=session.seconds)
        assert solved[session.ticket_id] == ended


def test_offsets_from_a_start_in_the_desk_zone_count_absolute_time() -> None:
    """Two days from midnight before the spring-forward change in Berlin are 48 hours, and
    an absence 30 hours in starts where a burst 30 hours in does: offsets from the start
    count absolute time, not the local clock (whose day of the change has 23 hours)."""
    doc = mmc(agents=1, rate=6.0, days=2)
    doc["desk"]["desk"] = {"timezone": "Europe/Berlin"}
    doc["simulation"] = {"start": "2026-03-28T00:00:00", "days": 2, "warmup_days": 1.5}
    doc["arrivals"]["bursts"] = [{"start": "30h", "duration": "2h", "multiplier": 0.0}]
    doc["absences"] = [{"agent": "a0", "start": "30h", "end": "32h"}]
    doc["tiers"]["L1"]["work"] = {"kind": "fixed", "value": "20m"}
    scenario = Scenario.from_dict(doc)
    start = scenario.start.astimezone(UTC)
    assert scenario.end.astimezone(UTC) == start + timedelta(hours=48)
    assert scenario.measured_from.astimezone(UTC) == start + timedelta(hours=36)
    result = simulate(scenario, seed=1)
    away, back = start + timedelta(hours=30), start + timedelta(hours=32)
    assert not [r for r in result.records if away <= r.opened_at < back]  # the burst
    assert all(
        s.start + timedelta(seconds=s.seconds) <= away or s.start >= back for s in result.work
    )
    assert any(s.start == back for s in result.work)  # the queue waited for a0
    assert max(r.opened_at for r in result.records) > start + timedelta(hours=47)


def test_the_arrival_profile_follows_the_desk_time_zone() -> None:
    """A start given with a UTC offset does not move the profile out of the desk's zone."""
    doc = mmc(agents=2, rate=6.0, days=7)
    doc["desk"]["desk"] = {"timezone": "America/New_York"}
    doc["simulation"] = {"start": "2026-01-05T00:00:00+00:00", "days": 7}
    doc["arrivals"]["hours"] = [1.0 if h == 12 else 0.0 for h in range(24)]
    result = simulate(Scenario.from_dict(doc), seed=2)
    zone = ZoneInfo("America/New_York")
    opened = [e.at for e in result.events if type(e).__name__ == "TicketOpened"]
    assert len(opened) > 20
    assert {at.astimezone(zone).hour for at in opened} == {12}


def _office(agents: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A desk whose agents work 09:00-17:00 UTC on weekdays; fixed two-hour work."""
    return {
        "desk": {
            "calendars": {
                "office": {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}},
                "always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}},
            },
            "tiers": [{"id": "L1", "teams": ["q"]}],
            "teams": [{"id": "q"}],
            "agents": agents,
            "assignment": {"strategy": "least_loaded", "queue_order": "oldest"},
        },
        "simulation": {"start": "2026-01-05T00:00:00+00:00", "days": 5},
        "arrivals": {"rate_per_hour": 0.5},
        "tiers": {"L1": {"work": {"kind": "fixed", "value": "2h"}}},
        "requesters": {"count": 20},
        **extra,
    }


def _agent(name: str, calendar: str = "office", capacity: int = 3) -> dict[str, Any]:
    return {"id": name, "tier": "L1", "teams": ["q"], "capacity": capacity,
            "calendar": calendar}


def test_agents_work_only_on_shift_and_hand_over_what_they_did_not_start() -> None:
    doc = _office([_agent("a"), _agent("b", "always", capacity=20)])
    doc["arrivals"]["rate_per_hour"] = 2.0
    result = simulate(Scenario.from_dict(doc), seed=4)
    office = Scenario.from_dict(_office([_agent("a")])).desk.calendars["office"]
    last = {s.ticket_id: s for s in result.work}
    solved_by_a = 0
    for record in result.records:
        session = last.get(record.id)
        if session is None or session.agent != "a" or record.resolution is None:
            continue
        solved_by_a += 1
        solved = record.opened_at + timedelta(seconds=record.resolution)
        assert office.is_open(session.start)
        # a's two hours of work end in office hours (at 17:00 at the latest), however
        # late in the day they started
        assert office.is_open(solved - timedelta(microseconds=1))
        assert office.elapsed(session.start, solved) == timedelta(hours=2)
    assert solved_by_a
    started_by = {(s.ticket_id, s.agent) for s in result.work}
    assigned_to_a = {
        e.ticket_id for e in result.events if type(e).__name__ == "Assigned"
        and e.assignee == "a"  # type: ignore[attr-defined]
    }
    handed_over = {t for t in assigned_to_a if (t, "a") not in started_by}
    assert handed_over  # a left some at 17:00 ...
    assert all((t, "b") in started_by for t in handed_over)  # ... and b took them


def test_an_absent_agent_gets_no_tickets() -> None:
    doc = _office([_agent("a", "always"), _agent("b", "always")],
                  absences=[{"agent": "a", "start": "0h", "end": "3d"}])
    result = simulate(Scenario.from_dict(doc), seed=2)
    early = datetime(2026, 1, 8, tzinfo=UTC)
    assert all(s.agent == "b" for s in result.work if s.start < early)
    assert any(s.agent == "a" for s in result.work if s.start >= early)


def test_absences_overlap_and_leave_agents_the_desk_keeps_away_away() -> None:
    doc = _office(
        [_agent("a", "always"), _agent("b", "always"), {**_agent("c", "always"), "away": True}],
        absences=[
            {"agent": "a", "start": "0h", "end": "2d"},
            {"agent": "a", "start": "1d", "end": "3d"},  # overlaps the first
        ],
    )
    result = simulate(Scenario.from_dict(doc), seed=2)
    assert not any(s.agent == "c" for s in result.work)
    back = datetime(2026, 1, 8, tzinfo=UTC)
    assert all(s.agent != "a" for s in result.work if s.start < back)


@pytest.mark.parametrize("others", [["b"], []], ids=["taken-over", "nobody-else"])
def test_an_absence_interrupts_the_work_in_progress(others: list[str]) -> None:
    """An agent who leaves mid-session stops working: the session ends when the absence
    starts, and the ticket is finished by someone else (or by the agent once back) with
    only the work that was left."""
    agents = [_agent(name, "always", capacity=1) for name in ["a", *others]]
    start = datetime(2026, 1, 5, tzinfo=UTC)
    plain = simulate(Scenario.from_dict(_office(agents)), seed=3)
    first = next(s for s in plain.work if s.agent == "a")
    # Everything before the absence runs as in the plain run: a is half an hour into
    # the two hours of ``first`` when the absence starts.
    away = first.start + timedelta(minutes=30)
    back = away + timedelta(days=1)
    doc = _office(agents, absences=[
        {"agent": "a", "start": f"{(away - start).total_seconds()}s",
         "end": f"{(back - start).total_seconds()}s"},
    ])
    result = simulate(Scenario.from_dict(doc), seed=3)
    again = simulate(Scenario.from_dict(doc), seed=3)
    assert again.records == result.records and again.work == result.work

    def end(session: WorkSession) -> datetime:
        return session.start + timedelta(seconds=session.seconds)

    for session in result.work:
        if session.agent == "a":
            assert end(session) <= away or session.start >= back, session
    sessions = [s for s in result.work if s.ticket_id == first.ticket_id]
    assert [(s.agent, s.start, s.seconds) for s in sessions[:1]] == [
        ("a", first.start, 1800.0)
    ]
    assert len(sessions) == 2
    resumed = sessions[1]
    assert resumed.seconds == pytest.approx(5400.0)  # the rest, not a fresh draw
    if others:
        assert resumed.agent == "b" and away <= resumed.start < back
    else:
        assert resumed.agent == "a" and resumed.start == back
    solved = [
        e for e in result.events
        if e.ticket_id == first.ticket_id and isinstance(e, StatusChanged)
        and e.category is StatusCategory.SOLVED
    ]
    assert [(e.by.id, e.at) for e in solved] == [(resumed.agent, end(resumed))]


def test_a_what_if_with_the_same_seed_sees_the_same_arrivals() -> None:
    one = simulate(Scenario.from_dict(_office([_agent("a", "always")])), seed=7)
    two = simulate(Scenario.from_dict(_office([_agent("a", "always"), _agent("b", "always")])),
                   seed=7)
    assert [r.opened_at for r in one.records] == [r.opened_at for r in two.records]
    assert [r.category for r in one.records] == [r.category for r in two.records]


def test_the_same_seed_gives_the_same_run_whatever_the_hash_seed(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = tmp_path / "run.py"
    script.write_text(
        "from helpdesk_core.simulation import Scenario, simulate\n"
        "import helpdesk_core, pathlib\n"
        "p = pathlib.Path(helpdesk_core.__file__).parent / 'data' / 'it_desk_scenario.toml'\n"
        "import attrs\n"
        "s = attrs.evolve(Scenario.from_toml(p), days=3.0, warmup_days=0.0)\n"
        "r = simulate(s, seed=5)\n"
        "print([(w.ticket_id, w.agent, w.start.isoformat(), w.seconds) for w in r.work])\n",
        encoding="utf-8",
    )
    outputs = {
        subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": str(hash_seed)},
        ).stdout
        for hash_seed in (1, 2, 3)
    }
    assert len(outputs) == 1


def test_sla_compliance_leaves_out_clocks_whose_target_was_withdrawn() -> None:
    """Only first-line tickets have SLA targets: an escalated ticket's clocks stop for want
    of a target. The run's compliance, like the desk's report on its events, counts
    neither met nor breached for them."""
    from helpdesk_core.model import SlaClockStopped
    from helpdesk_core.reporting import build_report
    from helpdesk_core.sla import NO_TARGET

    always = {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}
    targets = {"first_response": "8h", "resolution": "3d"}
    doc = {
        "desk": {
            "calendars": {"always": always},
            "tiers": [{"id": "L1", "teams": ["q"]}, {"id": "L2", "teams": ["r"]}],
            "teams": [{"id": "q"}, {"id": "r"}],
            "agents": [
                {"id": "a", "tier": "L1", "teams": ["q"], "capacity": 5, "calendar": "always"},
                {"id": "b", "tier": "L2", "teams": ["r"], "capacity": 5, "calendar": "always"},
            ],
            "sla_policies": [
                {
                    "name": "first-line",
                    "calendar": "always",
                    "when": {"field": "tier", "op": "eq", "value": "L1"},
                    "targets": dict.fromkeys(("critical", "high", "medium", "low"), targets),
                }
            ],
        },
        "simulation": {"start": "2026-01-05T00:00:00+00:00", "days": 3},
        "arrivals": {"rate_per_hour": 0.5},
        "tiers": {
            "L1": {"work": {"kind": "fixed", "value": "1h"}, "solve": 0.5},
            "L2": {"work": {"kind": "fixed", "value": "1h"}},
        },
        "requesters": {"count": 20},
    }
    result = simulate(Scenario.from_dict(doc), seed=1)
    withdrawn = {
        e.ticket_id
        for e in result.events
        if isinstance(e, SlaClockStopped) and e.reason == NO_TARGET
    }
    assert withdrawn
    for record in result.records:
        if record.id in withdrawn:
            assert record.resolution_breached is None, record
    counted = [r for r in result.records if r.resolution_breached is not None]
    by_metric = {row.metric: row for row in build_report(result.events).sla.by_metric}
    assert by_metric["resolution"].breached == 0
    assert len(counted) == by_metric["resolution"].total
    assert len(counted) < len([r for r in result.records if r.resolution is not None])


def test_a_breach_counts_after_an_escalation_relaxed_the_target() -> None:
    """First line must resolve within 1 h and works 2 h: every ticket breaches there. An
    escalated ticket takes the second line's 3-day target, which puts its deadline ahead
    again; the breach recorded in that cycle still counts, in the run's records as in the
    desk's report."""
    from helpdesk_core.reporting import build_report

    always = {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}
    levels = ("critical", "high", "medium", "low")
    doc = _two_tiers(
        sla_policies=[
            {
                "name": f"line-{tier}",
                "calendar": "always",
                "when": {"field": "tier", "op": "eq", "value": tier},
                "targets": {level: {"resolution": target} for level in levels},
            }
            for tier, target in (("L1", "1h"), ("L2", "3d"))
        ]
    )
    doc["desk"]["calendars"] = {"always": always}
    result = simulate(Scenario.from_dict(doc), seed=3)
    escalated = [r for r in result.records if r.resolution is not None and r.escalations]
    assert escalated
    for record in escalated:
        assert record.resolution_breached is True, record
    counted = [r for r in result.records if r.resolution_breached is not None]
    by_metric = {row.metric: row for row in build_report(result.events).sla.by_metric}
    assert by_metric["resolution"].total == len(counted)
    assert by_metric["resolution"].breached == sum(r.resolution_breached for r in counted)


@pytest.mark.parametrize("action", ["anonymise", "delete", "purge"])
def test_the_desks_retention_policies_do_not_run_in_simulated_time(action: str) -> None:
    """A desk's retention policy would anonymise or purge the run's tickets half-way: a
    purged ticket would drop out of the records and KPIs (or stop the run when its
    requester came back), an anonymised one could no longer be rated. The run keeps
    every ticket, as the same desk without the policy does."""
    doc = mmc(days=8)
    doc["requesters"].update(csat_response=1.0, reopen=0.3, reopen_delay="3d")
    plain = simulate(Scenario.from_dict(doc), seed=1)
    doc["desk"]["privacy"] = {"retention": [{"name": "soon", "after": "1d", "action": action}]}
    result = simulate(Scenario.from_dict(doc), seed=1)
    assert result.records == plain.records and result.events == plain.events
    assert result.kpis == plain.kpis and result.kpis.csat is not None


def test_the_backlog_counts_tickets_open_when_arrivals_stopped() -> None:
    """Every ticket is solved within minutes and reopened 20 hours later: at the end of a
    one-day run, tickets solved before it (reopened and solved again after it) are not
    open; those reopened before it and not yet solved are."""
    from helpdesk_core.model import StatusChanged

    doc = _two_tiers()
    doc["desk"]["tiers"] = [{"id": "L1", "teams": ["q"]}]
    doc["desk"]["teams"] = [{"id": "q"}]
    doc["desk"]["agents"] = doc["desk"]["agents"][:1]
    doc["simulation"]["days"] = 1.5
    doc["arrivals"]["rate_per_hour"] = 1
    doc["tiers"] = {"L1": {"work": {"kind": "fixed", "value": "5m"}, "solve": 1.0}}
    doc["staffing"] = {"q": 5}
    doc["requesters"] = {"count": 20, "reopen": 1.0,
                         "reopen_delay": {"kind": "fixed", "value": "20h"}}
    scenario = Scenario.from_dict(doc)
    result = simulate(scenario, seed=1)
    end = scenario.end
    active: dict[str, bool] = {}
    for event in result.events:
        if event.at < end:
            if isinstance(event, StatusChanged):
                active[event.ticket_id] = event.category.is_active
            else:
                active.setdefault(event.ticket_id, True)
    assert result.kpis.backlog == sum(active.values())
    # Many were solved again after the end: their latest solve says nothing of the end.
    solved_late = [
        r for r in result.records
        if r.resolution is not None and r.opened_at + timedelta(seconds=r.resolution) > end
    ]
    assert len(solved_late) > result.kpis.backlog
    assert {r.id for r in result.records if r.open_at_end} == {
        t for t, is_open in active.items() if is_open
    }


def test_general_work_applies_to_tickets_without_a_category() -> None:
    doc = _two_tiers()
    doc["arrivals"]["categories"] = {"general": 1.0, "network": 1.0}
    doc["tiers"]["L1"] = {
        "work": {"kind": "fixed", "value": "1m"},
        "work_by_category": {"general": {"kind": "fixed", "value": "1h"},
                             "network": {"kind": "fixed", "value": "2h"}},
        "solve": 1.0,
    }
    result = simulate(Scenario.from_dict(doc), seed=1)
    category = {r.id: r.category for r in result.records}
    drawn = {(category[w.ticket_id], w.seconds) for w in result.work if w.seconds > 0}
    assert {c for c, _ in drawn} == {None, "network"}
    assert {s for c, s in drawn if c is None} <= {3600.0}
    assert {s for c, s in drawn if c == "network"} <= {7200.0}


def test_a_desk_category_named_general_is_kept() -> None:
    doc = _two_tiers(categories={"general": {"questions": [{"name": "asset"}]}})
    doc["arrivals"]["categories"] = {"general": 1.0}
    result = simulate(Scenario.from_dict(doc), seed=1)
    assert result.records and {r.category for r in result.records} == {"general"}


def _two_tiers(**desk: Any) -> dict[str, Any]:
    always = {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}
    return {
        "desk": {
            "calendars": {"always": always},
            "tiers": [{"id": "L1", "teams": ["q"]}, {"id": "L2", "teams": ["r"]}],
            "teams": [{"id": "q"}, {"id": "r"}],
            "agents": [
                {"id": "a", "tier": "L1", "teams": ["q"], "capacity": 1, "calendar": "always"},
                {"id": "b", "tier": "L2", "teams": ["r"], "capacity": 1, "calendar": "always"},
            ],
            **desk,
        },
        "simulation": {"start": "2026-01-05T00:00:00+00:00", "days": 2},
        "arrivals": {"rate_per_hour": 2},
        "tiers": {
            "L1": {"work": {"kind": "fixed", "value": "2h"}, "solve": 0.5},
            "L2": {"work": {"kind": "fixed", "value": "2h"}},
        },
        "requesters": {"count": 20},
    }


def _two_teams_above() -> dict[str, Any]:
    """Two tiers; L2 has two teams, ``r`` (its default) and ``s``."""
    doc = _two_tiers()
    doc["desk"]["tiers"][1]["teams"].append("s")
    doc["desk"]["teams"].append({"id": "s"})
    doc["desk"]["agents"].append(
        {"id": "c", "tier": "L2", "teams": ["s"], "capacity": 1, "calendar": "always"}
    )
    doc["arrivals"]["categories"] = {"general": 1.0, "network": 1.0, "hardware": 1.0}
    return doc


def test_a_tier_escalates_each_category_to_the_team_it_names() -> None:
    doc = _two_teams_above()
    doc["simulation"]["days"] = 4
    doc["tiers"]["L1"]["escalate_to"] = {"network": "s", "general": "s"}
    scenario = Scenario.from_dict(doc)
    assert scenario.tiers["L1"].escalation_team(None) == "s"  # general: no category
    assert scenario.tiers["L1"].escalation_team("hardware") is None
    result = simulate(scenario, seed=2)
    category = {r.id: r.category for r in result.records}
    moves = [(category[e.ticket_id], e.team) for e in result.events if isinstance(e, Escalated)]
    assert {c for c, _ in moves} == {None, "network", "hardware"}
    # Hardware is not named: it goes to L2's default team.
    assert all(team == ("r" if c == "hardware" else "s") for c, team in moves)
    worked = {(category[w.ticket_id], w.agent) for w in result.work if w.tier == "L2"}
    assert all(agent == ("b" if c == "hardware" else "c") for c, agent in worked)


@pytest.mark.parametrize(
    ("escalate_to", "path", "message"),
    [
        ({"netwrok": "s"}, "tiers.L1.escalate_to.netwrok", "unknown category 'netwrok'"),
        ({"network": "q"}, "tiers.L1.escalate_to.network",
         "'q' is not a team of tier 'L2', the next one up (its teams: r, s)"),
        ({"network": 3}, "tiers.L1.escalate_to.network", "3 is not a team of tier 'L2'"),
    ],
)
def test_escalate_to_names_a_team_of_the_next_tier(
    escalate_to: dict[str, Any], path: str, message: str
) -> None:
    doc = _two_teams_above()
    doc["tiers"]["L1"]["escalate_to"] = escalate_to
    with pytest.raises(ConfigError) as caught:
        Scenario.from_dict(doc)
    assert caught.value.path == path
    assert message in str(caught.value)
    scenario = Scenario.from_dict(_two_teams_above())
    with pytest.raises(ConfigError) as built:  # a scenario built in code, checked alike
        attrs.evolve(
            scenario,
            tiers={**scenario.tiers, "L1": attrs.evolve(scenario.tiers["L1"],
                                                        escalate_to=escalate_to)},
        )
    assert built.value.path == path


def test_an_escalation_trigger_for_one_tier_does_not_stall_the_run() -> None:
    """A time-in-tier trigger that applies only in L1 passes its instant again in L2,
    where its condition fails: the run goes on (it used to go round at that instant)."""
    policy = {
        "name": "watch",
        "triggers": [
            {"name": "stuck", "on": "time_in_tier", "after": "1h",
             "when": {"field": "tier", "op": "eq", "value": "L1"},
             "actions": [{"action": "escalate_tier"}]},
        ],
    }
    result = simulate(Scenario.from_dict(_two_tiers(escalation_policies=[policy])), seed=1)
    assert any(r.escalations for r in result.records)
    assert len(result.records) > 60


def test_a_wake_up_no_tick_can_satisfy_stops_the_run_with_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from helpdesk_core.service import Helpdesk
    from helpdesk_core.simulation import SimulationStalled

    scenario = Scenario.from_dict(_two_tiers())
    monkeypatch.setattr(
        Helpdesk, "next_wakeup", lambda self, queues=True, retention=True: scenario.start
    )
    with pytest.raises(SimulationStalled, match="woken at 2026-01-05T00:00:00"):
        simulate(scenario, seed=1)


def _l1_l2(l2: int, *, policy: bool = False) -> dict[str, Any]:
    desk: dict[str, Any] = {
        "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
        "tiers": [{"id": "L1", "teams": ["t1"]}, {"id": "L2", "teams": ["t2"]}],
        "teams": [{"id": "t1"}, {"id": "t2"}],
        "agents": [
            {"id": "a", "tier": "L1", "teams": ["t1"], "capacity": 1},
            {"id": "b", "tier": "L2", "teams": ["t2"], "capacity": 1},
        ],
    }
    if policy:
        desk["escalation_policies"] = [{"name": "stuck", "triggers": [{
            "name": "stuck", "on": "time_in_tier", "after": "1h",
            "actions": [{"action": "escalate_tier"}],
        }]}]  # fmt: skip
    return {
        "desk": desk,
        "simulation": {"start": "2026-01-05T00:00:00+00:00", "days": 6},
        "arrivals": {"rate_per_hour": 1 if policy else 4},
        "tiers": (
            {"L1": {"work": {"kind": "fixed", "value": "90m"}}, "L2": {"work": "10m"}}
            if policy
            else {"L1": {"work": "20m", "solve": 0.7, "pending": 0.2}, "L2": {"work": "1h"}}
        ),
        "requesters": {"reopen": 0.1, "csat_response": 0.5},
        "staffing": {} if policy else {"t1": 2, "t2": l2},
    }


def test_a_what_if_with_the_same_seed_decides_each_ticket_the_same_way() -> None:
    # Only L2's head count differs: every ticket's L1 work, its L1 outcome and its
    # requester's behaviour are the same draws, however the staffing reorders the work.
    two = simulate(Scenario.from_dict(_l1_l2(2)), seed=7)
    three = simulate(Scenario.from_dict(_l1_l2(3)), seed=7)
    assert len(two.records) == len(three.records) > 300

    def first_l1(result: Any) -> dict[str, float]:
        out: dict[str, float] = {}
        for session in result.work:
            if session.tier == "L1":
                out.setdefault(session.ticket_id, session.seconds)
        return out

    assert first_l1(two) == first_l1(three)
    assert [r.escalations > 0 for r in two.records] == [r.escalations > 0 for r in three.records]
    assert [r.reopens for r in two.records] == [r.reopens for r in three.records]
    assert two.kpis.escalation_rate == three.kpis.escalation_rate
    other = simulate(Scenario.from_dict(_l1_l2(2)), seed=8)
    assert first_l1(other) != first_l1(two)


def test_work_taken_away_by_an_escalation_policy_ends_the_session() -> None:
    scenario = Scenario.from_dict(_l1_l2(1, policy=True))
    result = simulate(scenario, seed=1)
    l1 = [w for w in result.work if w.agent == "a"]
    assert len(l1) > 50 and all(w.seconds <= 3600 for w in l1)  # moved on after 1h
    for before, after in itertools.pairwise(l1):
        assert after.start >= before.start + timedelta(seconds=before.seconds)


def test_an_answer_to_an_absent_agent_goes_to_a_colleague() -> None:
    doc = _office([_agent("a", "always"), _agent("b", "always")])
    doc["simulation"]["days"] = 2
    doc["arrivals"]["rate_per_hour"] = 2.0
    doc["tiers"] = {"L1": {"work": {"kind": "fixed", "value": "10m"}, "pending": 1.0}}
    doc["requesters"] = {"reply": {"kind": "fixed", "value": "6h"}, "reopen": 0.3}
    doc["absences"] = [{"agent": "a", "start": "1d", "end": "15d"}]
    scenario = Scenario.from_dict(doc)
    result = simulate(scenario, seed=2)
    away, back = scenario.start + timedelta(days=1), scenario.start + timedelta(days=15)
    assert not [w for w in result.work if w.agent == "a" and away <= w.start < back]
    sessions: dict[str, list[WorkSession]] = {}
    for session in result.work:
        sessions.setdefault(session.ticket_id, []).append(session)
    handed = [
        ws for ws in sessions.values()
        if ws[0].agent == "a" and ws[0].start < away and len(ws) > 1 and ws[1].start >= away
    ]
    assert handed
    assert all(ws[1].agent == "b" and ws[1].start < back for ws in handed)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda s: attrs.evolve(s, requesters=0), "requesters.count"),
        (lambda s: attrs.evolve(s, requesters=2.5), "requesters.count"),
        (lambda s: attrs.evolve(s, reopen=2.0), "requesters.reopen"),
        (lambda s: attrs.evolve(s, csat_response=-0.1), "requesters.csat_response"),
        (lambda s: attrs.evolve(s, csat={9: 1.0}), "requesters.csat"),
        (lambda s: attrs.evolve(s, csat={5: 0.0}), "requesters.csat"),
        (lambda s: attrs.evolve(s, requester_reply="4h"), "requesters.reply"),
        (
            lambda s: attrs.evolve(s, arrivals=attrs.evolve(s.arrivals, rate_per_hour=1e12)),
            "arrivals",
        ),
        (
            lambda s: attrs.evolve(s, arrivals=attrs.evolve(s.arrivals, profile=(1.0,) * 24)),
            "arrivals.profile",
        ),
        (
            lambda s: attrs.evolve(s, arrivals=attrs.evolve(s.arrivals, channels={"fax": 1.0})),
            "arrivals.channels.fax",
        ),
        (
            lambda s: attrs.evolve(
                s, tiers={"L1": attrs.evolve(s.tiers["L1"], solve=1.5)}
            ),
            "tiers.L1.solve",
        ),
        (lambda s: attrs.evolve(s, tiers={**s.tiers, "L9": s.tiers["L1"]}), "tiers.L9"),
        (lambda s: attrs.evolve(s, tiers={}), "tiers"),
        # a value of the wrong type is named too, not a TypeError of the checks after it
        (lambda s: attrs.evolve(s, reopen="0.1"), "requesters.reopen"),
        (lambda s: attrs.evolve(s, absences=5), "absences"),
        (lambda s: attrs.evolve(s, regions=None), "requesters.regions"),
        (lambda s: attrs.evolve(s, regions=[]), "requesters.regions"),
        (
            lambda s: attrs.evolve(s, arrivals=attrs.evolve(s.arrivals, bursts=5)),
            "arrivals.bursts",
        ),
        # durations of at most a century, as the loader reads them
        (
            lambda s: attrs.evolve(s, requester_reply=Fixed(timedelta(days=40_000))),
            "requesters.reply",
        ),
        (
            lambda s: attrs.evolve(s, reopen_delay=Exponential(timedelta(days=40_000))),
            "requesters.reopen_delay",
        ),
        (
            lambda s: attrs.evolve(
                s,
                tiers={"L1": attrs.evolve(s.tiers["L1"], work=LogNormal(timedelta(days=40_000)))},
            ),
            "tiers.L1.work",
        ),
    ],
)
def test_a_scenario_built_in_code_is_checked_like_a_document(change: Any, path: str) -> None:
    scenario = Scenario.from_dict(mmc(days=5))
    with pytest.raises(ConfigError) as caught:
        change(scenario)
    assert caught.value.path == path


@pytest.mark.parametrize("offset", ["1d", 3600, None])
def test_an_offset_from_the_start_is_a_timedelta(offset: Any) -> None:
    scenario = Scenario.from_dict(mmc(days=5))
    with pytest.raises(ValidationError) as caught:
        scenario.after(offset)
    assert caught.value.field == "offset"
    assert scenario.after(timedelta(hours=1)) == scenario.start + timedelta(hours=1)


def test_an_offset_past_the_last_instant_is_named() -> None:
    scenario = Scenario.from_dict(mmc(days=5))
    with pytest.raises(ValidationError) as caught:
        scenario.after(timedelta(days=10**8))
    assert caught.value.field == "offset"


@pytest.mark.parametrize("category", [["network"], 5, b"network"])
def test_a_tier_s_work_and_escalation_are_looked_up_by_a_category_name(category: Any) -> None:
    behaviour = TierBehaviour(
        work=Exponential(timedelta(minutes=30)),
        work_by_category={"network": Exponential(timedelta(hours=1))},
        escalate_to={"network": "net"},
    )
    for lookup in (behaviour.work_for, behaviour.escalation_team):
        with pytest.raises(ValidationError) as caught:
            lookup(category)
        assert caught.value.field == "category"
    assert behaviour.work_for("network").mean == timedelta(hours=1)
    assert behaviour.work_for(None).mean == timedelta(minutes=30)
    assert behaviour.escalation_team("network") == "net"


def test_work_by_category_names_categories_that_arrive() -> None:
    doc = mmc(days=5)
    doc["arrivals"]["categories"] = {"network": 1.0, "general": 1.0}
    doc["tiers"]["L1"]["work_by_category"] = {"netwrok": "2h"}
    with pytest.raises(ConfigError, match="netwrok") as caught:
        Scenario.from_dict(doc)
    assert caught.value.path == "tiers.L1.work_by_category.netwrok"
    doc["tiers"]["L1"]["work_by_category"] = {"network": "2h", "general": "1h"}
    assert Scenario.from_dict(doc).tiers["L1"].work_for("network").mean == timedelta(hours=2)


def test_tickets_no_one_works_are_counted_beside_the_waits() -> None:
    doc = mmc(days=5)
    doc["desk"]["teams"].append({"id": "nobody"})
    doc["desk"]["tiers"][0]["teams"].append("nobody")
    doc["desk"]["categories"] = {"network": {}}
    doc["desk"]["routing"] = [{
        "name": "net", "when": {"field": "category", "op": "eq", "value": "network"},
        "actions": {"team": "nobody"},
    }]  # fmt: skip
    doc["arrivals"]["categories"] = {"general": 1, "network": 1}
    result = simulate(Scenario.from_dict(doc), seed=1)
    kpis = result.kpis
    never = [r for r in result.records if r.measured and r.wait_for_agent is None]
    assert {r.team for r in never} == {"nobody"}
    assert kpis.never_worked == len(never) > 10
    assert kpis.unanswered >= kpis.never_worked
    rows = dict(kpis.as_rows())
    assert rows["never worked (not in the waits)"] == str(len(never))
    assert rows["mean wait for an agent"].endswith("s")  # under an hour: with seconds


def test_a_scenario_file_that_is_not_toml_is_named_as_desk_files_are(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[simulation]\ndays = 3\ndays = 4\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        Scenario.from_toml(bad)
    assert caught.value.path == str(bad)[:80]
    assert str(caught.value).endswith("(at line 3, column 9): key days in [simulation]")
    with pytest.raises(ConfigError) as caught:
        Scenario.from_toml("x = [\n")
    assert caught.value.path == "$"


def test_the_base_folder_of_a_desk_path_may_be_given_as_text(tmp_path: Path) -> None:
    tomli_w = pytest.importorskip("tomli_w")
    (tmp_path / "desk.toml").write_text(tomli_w.dumps(mmc()["desk"]), encoding="utf-8")
    doc = {**mmc(), "desk": "desk.toml"}
    from_text = Scenario.from_dict(doc, base=str(tmp_path))
    assert from_text.desk == Scenario.from_dict(doc, base=tmp_path).desk
    with pytest.raises(ValidationError) as caught:
        Scenario.from_dict(doc, base=3)  # type: ignore[arg-type]
    assert caught.value.field == "base"
    scenario = attrs.evolve(from_text, days=1.0, warmup_days=0.0)
    rows = sweep(scenario, vary={"staffing.q": [2]}, executor=ThreadPoolExecutor(1),
                 base=str(tmp_path))
    assert rows[0].kpis.tickets > 0
    with pytest.raises(ValidationError) as caught:
        sweep(scenario, vary={"staffing.q": [2]}, base=3)  # type: ignore[arg-type]
    assert caught.value.field == "base"


def test_a_bad_value_in_a_desk_file_names_the_desk_file(tmp_path: Path) -> None:
    desk = copy.deepcopy(mmc()["desk"])
    desk["agents"][0]["capacity"] = -1
    tomli_w = pytest.importorskip("tomli_w")
    (tmp_path / "desk.toml").write_text(tomli_w.dumps(desk), encoding="utf-8")
    scenario = tmp_path / "scenario.toml"
    scenario.write_text('desk = "desk.toml"\n[arrivals]\nrate_per_hour = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        Scenario.from_toml(scenario)
    assert caught.value.path == "desk.agents[0].capacity"
    assert caught.value.message.endswith(f"(in the desk file {str(tmp_path / 'desk.toml')!r})")


def test_p90s_are_the_reports_p90s() -> None:
    from helpdesk_core.reporting import build_report

    scenario = Scenario.from_dict(mmc(days=6))
    result = simulate(scenario, seed=2)
    report = build_report(result.events, since=scenario.measured_from)
    kpis = result.kpis
    assert report.times.first_response.p90 is not None
    assert kpis.p90_first_response == report.times.first_response.p90
    assert report.times.resolution.p90 is not None
    assert kpis.p90_resolution == report.times.resolution.p90


def test_p90s_are_the_reports_p90s_to_the_microsecond() -> None:
    from helpdesk_core.reporting import build_report

    scenario = attrs.evolve(
        Scenario.from_toml(DATA / "it_desk_scenario.toml"), days=5.0, warmup_days=1.0
    )
    result = simulate(scenario, seed=1)
    report = build_report(result.events, since=scenario.measured_from)
    assert result.kpis.p90_first_response == report.times.first_response.p90
    assert result.kpis.p90_resolution == report.times.resolution.p90


def test_means_are_the_reports_means_to_the_microsecond() -> None:
    """The mean first response and resolution are averaged on whole microseconds and
    rounded as the reports round them, not through floating-point seconds (which put a
    mean one microsecond off the report's now and then)."""
    from helpdesk_core.reporting import build_report

    doc = mmc(days=0.25)
    doc["simulation"]["warmup_days"] = 0
    scenario = Scenario.from_dict(doc)
    for seed in range(1, 41):
        result = simulate(scenario, seed=seed)
        times = build_report(result.events, since=scenario.measured_from).times
        assert result.kpis.mean_first_response == times.first_response.mean, seed
        assert result.kpis.mean_resolution == times.resolution.mean, seed


def test_reopen_and_first_contact_rates_count_tickets_reopened_and_not_solved_again() -> None:
    """Half the solved tickets are reopened twelve hours later, when nobody is left to
    solve them again: they were solved, and reopened, as the report counts them."""
    from helpdesk_core.reporting import build_report

    doc = mmc(agents=2, rate=2.0, days=3)
    doc["requesters"] = {
        "count": 50, "reopen": 0.5, "reopen_delay": {"kind": "fixed", "value": "12h"}
    }
    doc["absences"] = [{"agent": f"a{i}", "start": "2d12h", "end": "100d"} for i in range(2)]
    scenario = Scenario.from_dict(doc)
    result = simulate(scenario, seed=1)
    stuck = [r for r in result.records if r.measured and r.reopens and r.resolution is None]
    assert stuck  # reopened, never solved again
    report = build_report(result.events, since=scenario.measured_from)
    kpis = result.kpis
    assert kpis.reopen_rate == report.reopen.value
    assert kpis.first_contact_resolution == report.first_contact_resolution.value


def test_a_reopen_past_the_reopen_window_does_not_happen_and_the_requester_still_rates() -> None:
    """Every solved ticket is to be reopened two hours later, but the lifecycle's reopen
    window closes after one: the requester lets it go and rates it, as after a close."""
    from helpdesk_core.workflow import Lifecycle

    doc = mmc(agents=2, rate=1.0, days=3)
    doc["desk"]["lifecycles"] = {
        "default": {**Lifecycle.default().to_dict(), "reopen_window": 3600}
    }
    doc["requesters"] = {
        "count": 50, "reopen": 1.0, "reopen_delay": {"kind": "fixed", "value": "2h"},
        "csat_response": 1.0,
    }
    result = simulate(Scenario.from_dict(doc), seed=1)
    solved = [r for r in result.records if r.resolution is not None]
    assert solved
    assert not any(r.reopens for r in result.records)
    assert all(r.satisfaction is not None for r in solved)


def test_a_bare_toml_date_starts_at_midnight_in_the_desk_zone() -> None:
    doc = mmc(days=5)
    doc["desk"]["desk"] = {"timezone": "Europe/Berlin"}
    doc["simulation"]["start"] = datetime(2026, 3, 2).date()
    start = Scenario.from_dict(doc).start
    assert start == datetime(2026, 3, 2, tzinfo=ZoneInfo("Europe/Berlin"))


def test_an_unknown_desk_section_is_named_under_desk() -> None:
    doc = mmc(days=5)
    doc["desk"]["bogus"] = {}
    with pytest.raises(ConfigError) as caught:
        Scenario.from_dict(doc)
    assert caught.value.path == "desk"
    assert "bogus" in caught.value.message


def test_to_parquet_without_pandas_names_itself_and_both_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = simulate(Scenario.from_dict(mmc(days=3)), seed=3)
    monkeypatch.setitem(__import__("sys").modules, "pandas", None)  # import pandas fails
    with pytest.raises(ImportError) as missing:
        result.to_parquet(tmp_path / "records.parquet")
    assert str(missing.value) == (
        "to_parquet needs pandas and pyarrow: pip install 'helpdesk-core[analysis]'"
    )
    assert list(tmp_path.iterdir()) == []


def test_record_frames_have_one_dtype_per_column_whatever_the_run_held(
    tmp_path: Path,
) -> None:
    """Runs differ in what is missing (no rating yet, no clock): each column keeps its
    dtype, so frames concatenate and Parquet files of several runs share a schema."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    doc = mmc(days=3)
    doc["requesters"] = {"csat_response": 0.5}
    result = simulate(Scenario.from_dict(doc), seed=3)
    records = result.records
    assert any(r.satisfaction is None for r in records)
    assert any(r.satisfaction is not None for r in records)
    full = result.to_pandas()
    first = attrs.evolve(result, records=records[:1])
    empty = attrs.evolve(result, records=())
    expected = {
        "number": "int64", "escalations": "int64", "reopens": "int64",
        "active": "bool", "measured": "bool", "first_contact": "bool",
        "wait_for_agent": "float64", "first_response": "float64", "resolution": "float64",
        "first_response_breached": "boolean", "resolution_breached": "boolean",
        "open_at_end": "boolean", "satisfaction": "Int64",
    }
    for frame in (full, first.to_pandas(), empty.to_pandas()):
        assert {name: str(frame[name].dtype) for name in expected} == expected
        assert str(frame["opened_at"].dtype).endswith(", UTC]")
    assert list(full["satisfaction"].dropna()) == [
        r.satisfaction for r in records if r.satisfaction is not None
    ]
    assert full["resolution_breached"].isna().sum() == sum(
        r.resolution_breached is None for r in records
    )
    assert list(full["opened_at"]) == [r.opened_at for r in records]
    first.to_parquet(tmp_path / "one.parquet")
    result.to_parquet(tmp_path / "all.parquet")
    one, every = (pd.read_parquet(tmp_path / f"{n}.parquet") for n in ("one", "all"))
    assert dict(one.dtypes) == dict(every.dtypes)
    assert len(pd.concat([one, every])) == len(records) + 1
    # Text too: a run whose tickets have no category (or no ticket at all) and a run
    # whose tickets have one give the columns of one dtype, and files of one schema.
    assert all(r.category is None for r in records)
    doc["arrivals"]["categories"] = {"network": 1.0}
    named = simulate(Scenario.from_dict(doc), seed=3)
    assert all(r.category == "network" for r in named.records)
    frames = [full, empty.to_pandas(), named.to_pandas()]
    assert all(dict(frame.dtypes) == dict(full.dtypes) for frame in frames)
    assert full["category"].isna().all()
    assert list(frames[2]["category"]) == ["network"] * len(named.records)
    empty.to_parquet(tmp_path / "none.parquet")
    named.to_parquet(tmp_path / "named.parquet")
    pq = pytest.importorskip("pyarrow.parquet")
    schemas = [pq.read_schema(tmp_path / f"{n}.parquet") for n in ("all", "none", "named")]
    assert all(schema.equals(schemas[0]) for schema in schemas)


def test_records_written_to_parquet_read_back(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    result = simulate(Scenario.from_dict(mmc(days=3)), seed=3)
    target = tmp_path / "records.parquet"
    result.to_parquet(str(target))
    back = pd.read_parquet(target)
    assert list(back.columns) == list(result.to_pandas().columns)
    assert list(back["id"]) == [r.id for r in result.records]
    for bad, message in (
        (tmp_path, "is a folder"),
        (tmp_path / "missing" / "records.parquet", "folder does not exist"),
        (7, "file path"),
    ):
        with pytest.raises(ValidationError, match=message):
            result.to_parquet(bad)  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records.parquet"]


def test_requesters_are_made_when_first_drawn_and_the_same_whatever_the_order() -> None:
    """A run makes (and stores) only the people who open tickets: ten million requesters
    cost nothing up front. Requester n is the same person whichever draws came before."""
    from helpdesk_core.model import TicketOpened
    from helpdesk_core.simulation.engine import Requesters

    doc = mmc(days=3)
    doc["requesters"] = {"count": 10_000_000, "regions": {"emea": 2, "amer": 1}}
    scenario = Scenario.from_dict(doc)
    result = simulate(scenario, seed=3)
    opened = [e for e in result.events if isinstance(e, TicketOpened)]
    assert len({e.requester for e in opened}) > 0.99 * len(opened)
    assert max(int(e.requester[2:]) for e in opened) > 1_000_000

    forward, backward = Requesters(scenario, "3"), Requesters(scenario, "3")
    numbers = list(range(1, 2001))
    made = [forward.make(n) for n in numbers]
    assert made == [backward.make(n) for n in reversed(numbers)][::-1]
    assert 0.01 < sum(r.vip for r in made) / len(made) < 0.05
    regions = [r.attributes["region"] for r in made]
    assert 0.6 < regions.count("emea") / len(regions) < 0.73
    assert made != [Requesters(scenario, "4").make(n) for n in numbers]


@pytest.mark.parametrize(
    "change",
    [
        # a long tail's draw lands centuries after a late start
        lambda doc: (
            doc["simulation"].update(start="8999-01-04T00:00:00+00:00"),
            doc["tiers"]["L1"].update(pending=1.0),
            doc["requesters"].update(reply={"kind": "lognormal", "mean": "36525d", "sigma": 3}),
        ),
        # a century of work an hour a week takes millennia of shifts
        lambda doc: (
            doc["desk"]["calendars"].update(
                rare={"timezone": "UTC", "hours": {"mon": "09:00-10:00"}}
            ),
            doc["desk"]["agents"][0].update(calendar="rare"),
            doc["tiers"]["L1"].update(work={"kind": "fixed", "value": "36525d"}),
        ),
    ],
)
def test_what_would_happen_beyond_the_last_date_does_not_happen(change: Any) -> None:
    """A work time or delay a scenario allows may end past the last date a datetime holds
    (long after the run has drained): the run goes on without it."""
    doc = mmc(agents=1, rate=4.0, days=1)
    doc["simulation"]["warmup_days"] = 0
    doc["desk"]["agents"][0]["capacity"] = 1000
    change(doc)
    result = simulate(Scenario.from_dict(doc), seed=1)
    assert result.kpis.tickets > 50


def test_a_desk_whose_incidents_cannot_make_the_simulated_moves_is_refused_up_front() -> None:
    """The simulation solves, asks (pending) and reopens by the default lifecycle's
    names; an incident lifecycle without one is refused before the run, naming it."""
    from helpdesk_core.workflow import Lifecycle

    plain = Lifecycle.default().to_dict()
    no_pending = {
        **plain,
        "name": "terse",
        "transitions": [
            {**t, "from": [f for f in t["from"] if f != "pending"]}
            if isinstance(t["from"], list) else t
            for t in plain["transitions"]
            if "pending" not in (t["to"], *t["from"]) or t["name"] == "solve"
        ],
        "statuses": [st for st in plain["statuses"] if st["name"] != "pending"],
    }
    doc = mmc(days=3)
    doc["desk"]["lifecycles"] = {"terse": no_pending}
    doc["desk"]["ticket_types"] = {"incident": {"lifecycle": "terse"}}
    Scenario.from_dict(doc)  # nobody is asked: the desk needs no pending move
    doc["tiers"]["L1"]["pending"] = 0.2
    with pytest.raises(ConfigError) as refused:
        Scenario.from_dict(doc)
    assert refused.value.path == "desk.lifecycles.terse.transitions"
    assert "'pending'" in str(refused.value)
    deaf = {**plain, "name": "deaf", "transitions": [
        {k: v for k, v in t.items() if k != "automatic"} for t in plain["transitions"]
    ]}
    doc["desk"]["lifecycles"] = {"deaf": deaf}
    doc["desk"]["ticket_types"] = {"incident": {"lifecycle": "deaf"}}
    with pytest.raises(ConfigError, match="wait for ever"):
        Scenario.from_dict(doc)
    doc["desk"]["ticket_types"] = {"question": {"lifecycle": "deaf"}}
    with pytest.raises(ConfigError, match="opens incidents"):
        Scenario.from_dict(doc)


@pytest.mark.parametrize(
    ("allowed", "change", "named"),
    [
        (["view", "reopen", "rate"], lambda doc: doc["tiers"]["L1"].update(pending=0.2), "reply"),
        (["view", "reply", "rate"], lambda doc: doc["requesters"].update(reopen=0.1), "reopen"),
        (["view", "reply"], lambda doc: doc["requesters"].update(csat_response=0.5), "rate"),
    ],
)
def test_a_desk_whose_requesters_may_not_do_what_the_simulated_ones_do_is_refused_up_front(
    allowed: list[str], change: Any, named: str
) -> None:
    """Simulated requesters answer when asked, reopen and rate as the scenario says; a desk
    whose privacy settings refuse them that is refused before the run, not half-way."""
    doc = mmc(days=3)
    doc["desk"]["privacy"] = {"requester_actions": allowed}
    doc.setdefault("requesters", {})
    Scenario.from_dict(doc)  # the scenario has them do none of it
    change(doc)
    with pytest.raises(ConfigError) as refused:
        Scenario.from_dict(doc)
    assert refused.value.path == "desk.privacy.requester_actions"
    assert f"not {named}" in str(refused.value)


def test_shares_of_nothing_are_shown_as_none_not_as_zero() -> None:
    """A run that solved nothing has no first-contact or reopen rate: the table says "-",
    not "0.0%" (a desk failing every ticket on first contact)."""
    kpis = Kpis(
        tickets=4, solved=0, first_contact_resolution=0.0, escalation_rate=0.25,
        reopen_rate=0.0, mean_wait_for_agent=None, mean_first_response=None,
        p90_first_response=None, mean_resolution=None, p90_resolution=None,
        sla_compliance={}, csat=None, backlog=4,
    )  # fmt: skip
    rows = dict(kpis.as_rows())
    assert rows["first contact resolution"] == rows["reopen rate"] == "-"
    assert rows["escalation rate"] == "25.0%"
    empty = dict(attrs.evolve(kpis, tickets=0, escalation_rate=0.0).as_rows())
    assert empty["escalation rate"] == "-"
    solved = dict(attrs.evolve(kpis, solved=2, first_contact_resolution=0.5).as_rows())
    assert (solved["first contact resolution"], solved["reopen rate"]) == ("50.0%", "0.0%")
