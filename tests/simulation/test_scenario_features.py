"""What the simulator promises for what analysts configure beyond the plain queue: the
arrival profile and bursts, shifts and absences, work times, decisions, requesters'
replies, reopens and ratings, the warm-up, and KPIs that are the reports' figures.

The statistical checks compare counts, shares and means with their configured values
within four standard errors of the sampling (a chance of about 6 in 100,000 per check
that a correct simulator fails it), each for a couple of seeds; the rest are exact.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from helpdesk_core import ConfigError
from helpdesk_core.model import (
    Assigned,
    CommentAdded,
    Escalated,
    QueuedForAssignment,
    Rated,
    SlaClockPaused,
    SlaClockStopped,
    StatusCategory,
    StatusChanged,
    TicketOpened,
)
from helpdesk_core.reporting import build_report
from helpdesk_core.simulation import Scenario, SimulationResult, simulate

ALWAYS = {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}
LEVELS = ("critical", "high", "medium", "low")


def _desk(l1: int = 3, l2: int = 0, **extra: Any) -> dict[str, Any]:
    """One team per tier (q, r), agents of capacity one and no calendar (always on
    shift) unless ``extra`` says otherwise."""
    tiers = [{"id": "L1", "teams": ["q"]}]
    teams = [{"id": "q"}]
    agents = [{"id": f"a{i}", "tier": "L1", "teams": ["q"], "capacity": 1} for i in range(l1)]
    if l2:
        tiers.append({"id": "L2", "teams": ["r"]})
        teams.append({"id": "r"})
        agents += [
            {"id": f"b{i}", "tier": "L2", "teams": ["r"], "capacity": 1} for i in range(l2)
        ]
    return {
        "calendars": {"always": ALWAYS},
        "tiers": tiers,
        "teams": teams,
        "agents": agents,
        "assignment": {"strategy": "least_loaded", "queue_order": "oldest"},
        **extra,
    }


def _scenario(desk: dict[str, Any], *, days: float, rate: float, **extra: Any) -> dict[str, Any]:
    return {
        "desk": desk,
        "simulation": {"start": "2026-01-05T00:00:00+00:00", "days": days},
        "arrivals": {"rate_per_hour": rate},
        "tiers": {"L1": {"work": "30m"}},
        "requesters": {"count": 50},
        **extra,
    }


def _within(observed: float, expected: float, standard_error: float) -> bool:
    """``observed`` lies within four standard errors of ``expected``."""
    return abs(observed - expected) <= 4 * standard_error


def _share_ok(hits: int, trials: int, p: float) -> bool:
    """``hits`` of ``trials`` is a plausible binomial count of probability ``p``."""
    assert trials > 0
    return _within(hits / trials, p, math.sqrt(p * (1 - p) / trials))


def _poisson_ok(count: int, mean: float) -> bool:
    """``count`` is a plausible Poisson count of ``mean`` (> 0; about 30 or more, where the
    normal approximation holds)."""
    return _within(count, mean, math.sqrt(mean))


# -- (a) the arrival profile and bursts ---------------------------------------------------
#: Multipliers by the hour of the day in the desk's zone (Europe/Berlin), and per weekday.
HOURS = [0.0] * 7 + [1.0, 3.0, 3.0, 2.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0, 0.5] + [0.25] * 6
WEEKDAYS = [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0]


@pytest.mark.parametrize("seed", [1, 2])
def test_arrivals_per_hour_follow_the_profile_and_the_bursts(seed: int) -> None:
    """Every hour of the run brings a Poisson count of rate x weekday x hour x bursts
    tickets (hours read in the desk's zone, bursts counted from the start): hours of
    multiplier 0 bring none, and the hours of each multiplier bring their expected total
    within Poisson error."""
    desk = _desk(l1=30, desk={"timezone": "Europe/Berlin"})
    bursts = [
        {"start": "1d 9h", "duration": "4h", "multiplier": 4.0},
        {"start": "1d 11h", "duration": "3h", "multiplier": 0.5},  # overlaps: 2.0 together
        {"start": "3d", "duration": "1d", "multiplier": 0.0},  # a lull: nobody comes
    ]
    doc = _scenario(desk, days=7, rate=2.5)
    doc["simulation"]["start"] = "2026-01-05T00:00:00+01:00"  # Monday midnight in Berlin
    doc["arrivals"].update(weekdays=WEEKDAYS, hours=HOURS, bursts=bursts)
    doc["tiers"]["L1"]["work"] = {"kind": "fixed", "value": "1m"}
    scenario = Scenario.from_dict(doc)
    result = simulate(scenario, seed=seed)
    counts = Counter(
        (e.at - scenario.start) // timedelta(hours=1)
        for e in result.events
        if isinstance(e, TicketOpened)
    )
    assert all(0 <= hour < 7 * 24 for hour in counts)

    def burst(hour: int) -> float:
        at = timedelta(hours=hour)
        factor = 1.0
        for b, (start, end) in zip(bursts, [(33, 37), (35, 38), (72, 96)], strict=True):
            if timedelta(hours=start) <= at < timedelta(hours=end):
                factor *= b["multiplier"]
        return factor

    # January: Berlin keeps +01:00, so the run's n-th hour is the week's n-th hour there
    expected = {
        hour: 2.5 * WEEKDAYS[hour // 24] * HOURS[hour % 24] * burst(hour)
        for hour in range(7 * 24)
    }
    assert {hour for hour in counts if expected[hour] == 0} == set()
    by_mean: dict[float, list[int]] = {}
    for hour, mean in expected.items():
        if mean:
            by_mean.setdefault(mean, []).append(hour)
    checked = 0
    for mean, hours in by_mean.items():
        total = mean * len(hours)
        if total >= 30:
            checked += 1
            observed = sum(counts[hour] for hour in hours)
            assert _poisson_ok(observed, total), (mean, len(hours), observed, total)
    assert checked >= 4
    # the bursts' hours on their own: x4, x2 (the two together), x0.5 and the lull
    in_burst = [33, 34, 35, 36, 37]
    observed = sum(counts[hour] for hour in in_burst)
    assert _poisson_ok(observed, sum(expected[hour] for hour in in_burst))
    assert sum(counts[hour] for hour in range(72, 96)) == 0
    assert len(result.records) == sum(counts.values())
    assert _poisson_ok(len(result.records), sum(expected.values()))


# -- (b) rosters: shifts and absences -----------------------------------------------------
ROSTER_CALENDARS = {
    "always": ALWAYS,
    # a lunch break, a holiday (Wednesday) and a zone of its own
    "office": {
        "timezone": "Europe/Berlin",
        "hours": {"mon-fri": ["08:00-12:00", "13:00-17:00"]},
        "holidays": ["2026-01-07"],
    },
    "late": {"timezone": "UTC", "hours": {"mon-sat": "14:00-22:00"}},
}
ROSTER = {"a": "office", "b": "office", "c": "late", "d": "late"}
ABSENCES = [
    {"agent": "a", "start": "1d", "end": "3d"},
    {"agent": "c", "start": "2d 18h", "end": "4d"},  # from the middle of a shift
    {"agent": "d", "start": "4d 15h30m", "end": "4d 20h"},
]


def _roster_run(seed: int) -> tuple[Scenario, SimulationResult]:
    desk = _desk(l1=0, calendars=ROSTER_CALENDARS)
    desk["agents"] = [
        {"id": name, "tier": "L1", "teams": ["q"], "capacity": 3, "calendar": calendar}
        for name, calendar in ROSTER.items()
    ]
    doc = _scenario(desk, days=6, rate=1.0, absences=ABSENCES)
    doc["tiers"]["L1"] = {"work": {"kind": "lognormal", "mean": "1h30m", "sigma": 0.8},
                          "pending": 0.3}
    doc["requesters"].update(reply="3h", reopen=0.2, reopen_delay="5h")
    scenario = Scenario.from_dict(doc)
    return scenario, simulate(scenario, seed=seed)


@pytest.mark.parametrize("seed", [1, 2])
def test_agents_start_work_only_on_shift_and_never_while_away(seed: int) -> None:
    """No session starts off shift (lunch, nights, the holiday, the weekend) or during an
    absence; an agent works one ticket at a time, counting work in their shift's time;
    work left at the end of a shift goes on at the next one, and none is done during an
    absence (the session is cut there)."""
    scenario, result = _roster_run(seed)
    calendars = scenario.desk.calendars
    away = {
        (a.agent, scenario.after(a.start), scenario.after(a.end)) for a in scenario.absences
    }
    sessions: dict[str, list[Any]] = {}
    crossed = 0
    for session in result.work:
        calendar = calendars[ROSTER[session.agent]]
        assert calendar.is_open(session.start), session
        end = calendar.add(session.start, timedelta(seconds=session.seconds))
        # (the end of a shift is closed: a session ending there ended in the shift)
        crossed += calendar.elapsed(session.start, end) < end - session.start
        for agent, start, stop in away:
            if agent == session.agent:
                assert not start <= session.start < stop, session
                assert end <= start or session.start >= stop, session
        sessions.setdefault(session.agent, []).append((session.start, end))
    assert crossed  # some work went on over a lunch break, a night or a holiday
    assert set(sessions) == set(ROSTER)
    for agent, spans in sessions.items():
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start, agent


def _assignees_at(events: Sequence[Any], at: datetime) -> dict[str, tuple[str | None, Any]]:
    """Each ticket's assignee and status category after every event up to ``at``."""
    state: dict[str, tuple[str | None, Any]] = {}
    for event in events:
        if event.at > at:
            break
        assignee, category = state.get(event.ticket_id, (None, StatusCategory.NEW))
        if isinstance(event, Assigned):
            assignee = event.assignee
        elif isinstance(event, QueuedForAssignment):
            assignee = None
        elif isinstance(event, StatusChanged):
            category = event.category
        state[event.ticket_id] = (assignee, category)
    return state


@pytest.mark.parametrize("seed", [1, 2])
def test_at_the_end_of_a_shift_agents_keep_only_the_ticket_they_are_working_on(
    seed: int,
) -> None:
    """At every shift end (and absence start), the tickets assigned to the agents leaving
    and waiting for work go back to assignment: what they still hold to be worked is the
    ticket in progress, which they finish at their next shift."""
    scenario, result = _roster_run(seed)
    calendars = scenario.desk.calendars
    ends: set[tuple[datetime, str]] = set()
    for agent, name in ROSTER.items():
        calendar = calendars[name]
        at = scenario.start
        while at < scenario.end:
            at = calendar.next_close(calendar.next_open(at))
            ends.add((at, agent))
    for absence in scenario.absences:
        ends.add((scenario.after(absence.start), absence.agent))
    handed = 0
    for at, agent in sorted(ends):
        if at >= scenario.end:
            continue
        in_progress = {
            s.ticket_id
            for s in result.work
            if s.agent == agent
            # (a session an absence cut later ends here, where the work stopped)
            and s.start < at
            <= calendars[ROSTER[agent]].add(s.start, timedelta(seconds=s.seconds))
        }
        held = {
            ticket
            for ticket, (assignee, category) in _assignees_at(result.events, at).items()
            if assignee == agent and category in (StatusCategory.NEW, StatusCategory.OPEN)
        }
        assert held <= in_progress, (at, agent, held - in_progress)
        handed += len(in_progress)
    assert handed  # some shifts ended with work in progress


def test_an_absent_agent_is_given_no_tickets() -> None:
    scenario, result = _roster_run(1)
    for absence in scenario.absences:
        start, end = scenario.after(absence.start), scenario.after(absence.end)
        assert not [
            e for e in result.events
            if isinstance(e, Assigned) and e.assignee == absence.agent and start <= e.at < end
        ]


# -- (c) work times per tier and category -------------------------------------------------
def _lognormal_sd(mean: float, sigma: float) -> float:
    return mean * math.sqrt(math.exp(sigma**2) - 1)


@pytest.mark.parametrize("seed", [1, 2])
def test_work_times_follow_their_distribution_per_tier_and_category(seed: int) -> None:
    """Each session's work time is drawn from its tier's distribution for the ticket's
    category: the means agree within their standard errors, half the draws lie below
    the median, and an empirical distribution draws only its samples, each about as
    often."""
    doc = _scenario(_desk(l1=12, l2=6), days=5, rate=6.0)
    doc["arrivals"]["categories"] = {"network": 0.4, "hardware": 0.3, "general": 0.3}
    doc["tiers"] = {
        "L1": {
            "work": "10m",  # exponential: tickets without a category
            "work_by_category": {
                "network": {"kind": "lognormal", "mean": "15m", "sigma": 0.8},
                "hardware": {"kind": "empirical", "samples": ["1m", "5m", "30m"]},
            },
            "solve": 0.6,
        },
        "L2": {
            "work": {"kind": "lognormal", "mean": "40m", "sigma": 0.5},
            "work_by_category": {"general": {"kind": "fixed", "value": "7m"}},
        },
    }
    result = simulate(Scenario.from_dict(doc), seed=seed)
    category = {r.id: r.category for r in result.records}
    drawn: dict[tuple[str, str | None], list[float]] = {}
    for session in result.work:
        drawn.setdefault((session.tier, category[session.ticket_id]), []).append(
            session.seconds
        )
    # (mean, standard deviation, median) in seconds
    expected = {
        ("L1", None): (600.0, 600.0, 600.0 * math.log(2)),
        ("L1", "network"): (900.0, _lognormal_sd(900.0, 0.8), 900.0 * math.exp(-0.32)),
        ("L2", "network"): (2400.0, _lognormal_sd(2400.0, 0.5), 2400.0 * math.exp(-0.125)),
        ("L2", "hardware"): (2400.0, _lognormal_sd(2400.0, 0.5), 2400.0 * math.exp(-0.125)),
    }
    for key, (mean, sd, median) in expected.items():
        values = drawn[key]
        assert len(values) >= 50, key
        assert _within(statistics.fmean(values), mean, sd / math.sqrt(len(values))), key
        assert _share_ok(sum(v < median for v in values), len(values), 0.5), key
    samples = drawn[("L1", "hardware")]
    assert set(samples) == {60.0, 300.0, 1800.0}
    for value in (60.0, 300.0, 1800.0):
        assert _share_ok(samples.count(value), len(samples), 1 / 3), value
    assert set(drawn[("L2", None)]) == {420.0}


# -- (d) decisions, reopens and ratings ---------------------------------------------------
@pytest.mark.parametrize("seed", [1, 2])
def test_solves_escalations_reopens_and_ratings_follow_their_probabilities(seed: int) -> None:
    """L1 solves 60 % of the tickets it decides and escalates the rest; a solved ticket
    is reopened with probability 0.25 (once at most); a solved ticket is rated with
    probability 0.7, and the scores follow their weights."""
    doc = _scenario(_desk(l1=6, l2=4), days=6, rate=3.0)
    doc["tiers"] = {"L1": {"work": "15m", "solve": 0.6}, "L2": {"work": "30m"}}
    doc["requesters"] = {
        "count": 200,
        "reopen": 0.25,
        "reopen_delay": {"kind": "fixed", "value": "2h"},  # long before the auto-close
        "csat_response": 0.7,
        "csat": {"5": 0.5, "4": 0.3, "2": 0.2},
    }
    result = simulate(Scenario.from_dict(doc), seed=seed)
    solved_by = Counter(
        e.by.id[0]
        for e in result.events
        if isinstance(e, StatusChanged) and e.category is StatusCategory.SOLVED
    )
    escalated = [e for e in result.events if isinstance(e, Escalated)]
    assert {e.by.id[0] for e in escalated} == {"a"}
    assert _share_ok(solved_by["a"], solved_by["a"] + len(escalated), 0.6)
    solved = [r for r in result.records if r.resolution is not None]
    assert len(solved) == len(result.records)  # all solved, in the drain at the latest
    assert max(r.reopens for r in solved) == 1
    assert _share_ok(sum(r.reopens for r in solved), len(solved), 0.25)
    scores = [r.satisfaction for r in solved if r.satisfaction is not None]
    assert _share_ok(len(scores), len(solved), 0.7)
    for score, weight in ((5, 0.5), (4, 0.3), (2, 0.2)):
        assert _share_ok(scores.count(score), len(scores), weight), score
    assert set(scores) == {5, 4, 2}
    # each rating half an hour to two days after the ticket's last solve
    last_solve: dict[str, datetime] = {}
    rated = 0
    for event in result.events:
        if isinstance(event, StatusChanged) and event.category is StatusCategory.SOLVED:
            last_solve[event.ticket_id] = event.at
        elif isinstance(event, Rated):
            rated += 1
            delay = event.at - last_solve[event.ticket_id]
            assert timedelta(minutes=30) <= delay <= timedelta(days=2), event
    assert rated == len(scores)


# -- (e) questions to the requester, their replies and the SLA clock ----------------------
def _pending_run(seed: int, pauses: dict[str, list[str]] | None) -> SimulationResult:
    policy: dict[str, Any] = {
        "name": "all",
        "calendar": "always",
        "targets": {level: {"first_response": "8h", "resolution": "30d"} for level in LEVELS},
    }
    if pauses is not None:
        policy["pauses"] = pauses
    doc = _scenario(_desk(l1=5, sla_policies=[policy]), days=5, rate=2.5)
    doc["tiers"]["L1"] = {"work": "20m", "pending": 0.35}
    doc["requesters"] = {"count": 100, "reply": {"kind": "lognormal", "mean": "2h",
                                                "sigma": 1.0}}
    return simulate(Scenario.from_dict(doc), seed=seed)


def _pending_spans(result: SimulationResult) -> dict[str, tuple[datetime, datetime]]:
    """Each asked ticket's move into pending and the requester's reply."""
    asked: dict[str, datetime] = {}
    spans: dict[str, tuple[datetime, datetime]] = {}
    for event in result.events:
        if isinstance(event, StatusChanged) and event.category is StatusCategory.PENDING:
            assert event.ticket_id not in asked  # a tier asks once
            asked[event.ticket_id] = event.at
        elif (
            isinstance(event, CommentAdded)
            and event.by.kind.value == "requester"
            and event.ticket_id in asked
        ):
            spans[event.ticket_id] = (asked[event.ticket_id], event.at)
    assert set(spans) == set(asked)  # every question answered
    return spans


@pytest.mark.parametrize("seed", [1, 2])
def test_requesters_reply_after_their_delay_and_the_clock_pauses_meanwhile(seed: int) -> None:
    """A tier asks 35 % of its tickets; the requester answers after a lognormal delay
    (mean 2 h, sigma 1), and the resolution clock, which the policy pauses in pending,
    counts the ticket's time less that wait, to the microsecond."""
    result = _pending_run(seed, None)
    spans = _pending_spans(result)
    assert _share_ok(len(spans), len(result.records), 0.35)
    delays = [(answer - asked).total_seconds() for asked, answer in spans.values()]
    assert _within(
        statistics.fmean(delays), 7200.0, _lognormal_sd(7200.0, 1.0) / math.sqrt(len(delays))
    )
    assert _share_ok(sum(d < 7200.0 * math.exp(-0.5) for d in delays), len(delays), 0.5)
    stopped = {
        e.ticket_id: e
        for e in result.events
        if isinstance(e, SlaClockStopped) and e.clock.metric.value == "resolution"
    }
    assert len(stopped) == len(result.records)
    for record in result.records:
        clock = stopped[record.id].clock
        paused = spans[record.id][1] - spans[record.id][0] if record.id in spans else timedelta(0)
        assert record.resolution is not None
        assert clock.used == timedelta(seconds=record.resolution) - paused, record.id


def test_a_policy_that_does_not_pause_in_pending_counts_the_wait() -> None:
    result = _pending_run(1, {"resolution": []})
    assert _pending_spans(result)
    assert not [e for e in result.events if isinstance(e, SlaClockPaused)]
    stopped = {
        e.ticket_id: e.clock.used
        for e in result.events
        if isinstance(e, SlaClockStopped) and e.clock.metric.value == "resolution"
    }
    for record in result.records:
        assert record.resolution is not None
        assert stopped[record.id] == timedelta(seconds=record.resolution)


# -- (f) the warm-up ----------------------------------------------------------------------
def test_the_warm_up_is_left_out_of_every_kpi_but_the_backlog() -> None:
    """One slow agent: tickets of the warm-up day are still open when arrivals stop.
    The KPIs are those of the tickets opened after the warm-up alone, but the backlog
    counts every ticket open at the end."""
    doc = _scenario(_desk(l1=1), days=2, rate=1.0)
    doc["simulation"]["warmup_days"] = 1
    doc["tiers"]["L1"]["work"] = {"kind": "fixed", "value": "3h"}
    doc["requesters"].update(csat_response=1.0, csat={"5": 1, "1": 1})
    scenario = Scenario.from_dict(doc)
    result = simulate(scenario, seed=1)
    measured = [r for r in result.records if r.opened_at >= scenario.measured_from]
    assert [r.measured for r in result.records] == [
        r.opened_at >= scenario.measured_from for r in result.records
    ]
    kpis = result.kpis
    assert 0 < kpis.tickets == len(measured) < len(result.records)
    assert kpis.solved == sum(r.resolution is not None for r in measured)
    ratings = [r.satisfaction for r in measured if r.satisfaction is not None]
    assert kpis.csat == statistics.fmean(ratings)
    waits = [r.wait_for_agent for r in measured if r.wait_for_agent is not None]
    total = sum(round(w * 1_000_000) for w in waits)  # microseconds, rounded half up
    assert kpis.mean_wait_for_agent == timedelta(
        microseconds=(2 * total + len(waits)) // (2 * len(waits))
    )
    assert build_report(result.events, since=scenario.measured_from).tickets == kpis.tickets
    warm_and_open = [r for r in result.records if not r.measured and r.open_at_end]
    assert warm_and_open
    assert kpis.backlog == sum(bool(r.open_at_end) for r in result.records)


# -- (g) the KPIs are the reports' figures -------------------------------------------------
def _report_mismatches(scenario: Scenario, result: SimulationResult) -> list[str]:
    """The KPIs that differ from what the reports compute from the run's events."""
    report = build_report(result.events, since=scenario.measured_from)
    kpis = result.kpis
    sla = {
        row.metric: row.met / (row.met + row.breached)
        for row in report.sla.by_metric
        if row.met + row.breached and row.metric in ("first_response", "resolution")
    }
    pairs = {
        "tickets": (kpis.tickets, report.tickets),
        "solved": (kpis.solved, report.times.resolution.count),
        "first_contact_resolution": (
            kpis.first_contact_resolution, report.first_contact_resolution.value
        ),
        "reopen_rate": (kpis.reopen_rate, report.reopen.value),
        "escalation_rate": (kpis.escalation_rate, report.escalation.value),
        "mean_first_response": (kpis.mean_first_response, report.times.first_response.mean),
        "p90_first_response": (kpis.p90_first_response, report.times.first_response.p90),
        "mean_resolution": (kpis.mean_resolution, report.times.resolution.mean),
        "p90_resolution": (kpis.p90_resolution, report.times.resolution.p90),
        "unanswered": (kpis.unanswered, kpis.tickets - report.times.first_response.count),
        "csat": (kpis.csat, report.csat.average),
        "sla_compliance": (kpis.sla_compliance, sla),
        "backlog": (kpis.backlog, build_report(result.events, as_of=scenario.end).backlog.total),
    }
    return [f"{name}: {a!r} != {b!r}" for name, (a, b) in pairs.items() if a != b]


def _rich_scenario(days: float = 5.0) -> Scenario:
    """Two tiers on office hours and a late shift, SLA targets on business hours that
    are missed and met, questions, reopens, ratings, an absence and a warm-up."""
    policy = {
        "name": "all",
        "calendar": "office",
        "targets": {level: {"first_response": "1h", "resolution": "6h"} for level in LEVELS},
    }
    desk = _desk(l1=0, calendars=ROSTER_CALENDARS, sla_policies=[policy])
    desk["tiers"].append({"id": "L2", "teams": ["r"]})
    desk["teams"].append({"id": "r"})
    desk["agents"] = [
        {"id": name, "tier": "L1", "teams": ["q"], "capacity": 2, "calendar": calendar}
        for name, calendar in ROSTER.items()
    ] + [
        {"id": "e", "tier": "L2", "teams": ["r"], "capacity": 2, "calendar": "office"},
        {"id": "f", "tier": "L2", "teams": ["r"], "capacity": 2},
    ]
    doc = _scenario(desk, days=days, rate=0.8, absences=ABSENCES[:2])
    doc["simulation"]["warmup_days"] = 1
    doc["tiers"] = {
        "L1": {"work": {"kind": "lognormal", "mean": "40m", "sigma": 0.7}, "solve": 0.7,
               "pending": 0.2},
        "L2": {"work": {"kind": "empirical", "samples": ["20m", "1h", "3h"]}, "pending": 0.1},
    }
    doc["requesters"] = {"count": 60, "reply": "2h", "reopen": 0.2, "reopen_delay": "8h",
                         "csat_response": 0.5, "csat": {"5": 0.6, "3": 0.3, "1": 0.1}}
    return Scenario.from_dict(doc)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_kpis_are_what_the_reports_compute_from_the_events(seed: int) -> None:
    scenario = _rich_scenario()
    result = simulate(scenario, seed=seed)
    kpis = result.kpis
    assert kpis.escalation_rate and kpis.reopen_rate and kpis.csat is not None
    assert 0 < kpis.sla_compliance["first_response"] < 1  # some met, some missed
    assert _report_mismatches(scenario, result) == []


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
@example(seed=34722909)  # a ticket solved at the very instant arrivals stop
def test_any_run_s_kpis_are_the_reports_figures(seed: int) -> None:
    scenario = _rich_scenario(days=2.0)
    assert _report_mismatches(scenario, simulate(scenario, seed=seed)) == []



# -- validation of these sections -----------------------------------------------------------
def _set(path: str, value: Any) -> Any:
    """A change of the document that sets ``path`` (dotted) to ``value``."""

    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            doc = doc.setdefault(key, {})
        doc[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (_set("tiers.L1.pending", 1.2), "tiers.L1.pending"),
        (_set("tiers.L1.pending", -0.1), "tiers.L1.pending"),
        (_set("tiers.L1.solve", "0.5"), "tiers.L1.solve"),
        (_set("requesters.reopen", 1.01), "requesters.reopen"),
        (_set("requesters.csat_response", -1), "requesters.csat_response"),
        (_set("requesters.csat", {}), "requesters.csat"),
        (_set("requesters.csat", {"6": 1}), "requesters.csat.6"),
        (_set("requesters.csat", {"5": -1}), "requesters.csat.5"),
        (_set("requesters.reply", "-1h"), "requesters.reply"),
        (_set("requesters.reply", {"kind": "empirical", "samples": []}),
         "requesters.reply.samples"),
        (_set("requesters.reopen_delay", {"kind": "lognormal", "mean": "1h", "sigma": 0}),
         "requesters.reopen_delay.sigma"),
        (_set("tiers.L1.work", {"kind": "exponential", "mean": "0s"}), "tiers.L1.work.mean"),
        (_set("tiers.L1.work", {"kind": "empirical", "samples": ["5m", "-1m"]}),
         "tiers.L1.work.samples[1]"),
        (_set("tiers.L1.work", [1, 2]), "tiers.L1.work"),
        (_set("tiers.L1.work_by_category", {"printer": "5m"}),
         "tiers.L1.work_by_category.printer"),
        (_set("arrivals.profile", [1.0] * 167 + [-1.0]), "arrivals.profile[167]"),
        (_set("arrivals.profile", [0.0] * 168), "arrivals"),
        (_set("arrivals.weekdays", [1.0] * 6), "arrivals.weekdays"),
        (_set("arrivals.bursts", [{"start": "1d", "duration": "1h", "multiplier": -2}]),
         "arrivals.bursts[0].multiplier"),
        (_set("arrivals.bursts", [{"start": "-1d", "duration": "1h", "multiplier": 2}]),
         "arrivals.bursts[0].start"),
        (_set("arrivals.bursts", [{"duration": "1h", "multiplier": 2}]),
         "arrivals.bursts[0].start"),
        (_set("absences", [{"agent": "a0", "start": "2d", "end": "1d"}]), "absences[0].end"),
        (_set("absences", [{"agent": "zz", "start": "0h", "end": "1d"}]), "absences[0].agent"),
        (_set("absences", {"agent": "a0"}), "absences"),
        (_set("staffing", {"q": -1}), "staffing.q"),
        (_set("staffing", {"q": 1.5}), "staffing.q"),
        (_set("staffing", {"q": {"L1": -1}}), "staffing.q.L1"),
        # a shift calendar that is never open
        (_set("desk.calendars.never", {"timezone": "UTC", "hours": {}}),
         "desk.calendars.never.hours"),
    ],
)
def test_bad_scenario_sections_are_refused_naming_the_path(change: Any, path: str) -> None:
    doc = _scenario(_desk(l1=2), days=2, rate=1.0)
    change(doc)
    with pytest.raises(ConfigError) as caught:
        Scenario.from_dict(doc)
    assert caught.value.path == path


def test_a_scenario_in_toml_names_the_path_of_a_bad_value() -> None:
    text = """
desk = { tiers = [{ id = "L1", teams = ["q"] }], teams = [{ id = "q" }] }
[arrivals]
rate_per_hour = 2
[tiers.L1]
work = { kind = "lognormal", mean = "20m", sigma = -0.5 }
"""
    with pytest.raises(ConfigError) as caught:
        Scenario.from_toml(text)
    assert caught.value.path == "tiers.L1.work.sigma"


def test_empty_rosters_and_shifts_that_never_come_leave_tickets_waiting() -> None:
    """A team staffed with nobody, or whose agents' calendar has no hours in the run and
    the 60 days of drain after it (holidays every day), works nothing: the run ends, and
    the tickets are counted as never worked and unanswered."""
    first = date(2026, 1, 1)
    holidays = [(first + timedelta(days=n)).isoformat() for n in range(120)]
    closed = {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}, "holidays": holidays}
    desk = _desk(l1=2, calendars={"always": ALWAYS, "closed": closed})
    for agent in desk["agents"]:
        agent["calendar"] = "closed"
    for extra in ({}, {"staffing": {"q": 0}}):
        result = simulate(
            Scenario.from_dict(_scenario(desk, days=2, rate=1.0, **extra)), seed=1
        )
        kpis = result.kpis
        assert not result.work
        assert kpis.tickets == kpis.never_worked == kpis.unanswered == kpis.backlog > 0
