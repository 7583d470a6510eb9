"""Every KPI of a report against figures worked out by hand on a small scripted history.

Office hours: Mon-Fri 09:00-17:00 Europe/Berlin; Thursday 14 May 2026 (Ascension Day) is
a holiday. May 2026 in Berlin is UTC+2.

- T1 Mon 11 May 10:00, email, network, LAP-1 (r1): first reply 11:30, solved 12:00 with
  first contact; rated 5. SLA "standard": both clocks met.
- T2 Wed 13 May 16:00, phone, network, LAP-1 (r1): internal note and a requester reply
  (neither is a response), first reply Fri 15 10:00 (calendar 42 h; business 1 h Wed +
  0 Thu + 1 h Fri = 2 h), escalated L1 -> L2 Fri 11:00 to a2, solved Mon 18 11:00,
  reopened Tue 19 09:00, solved again Tue 19 12:00 (calendar 140 h; business 1 + 8 + 8 + 3
  = 20 h); rated 2. SLA "standard": first response breached, resolution met.
- T3 Sat 16 May 10:00, web, printer, PRN-7 (r2): queued, never answered; first response
  breached while running, resolution running. Still new at as_of.
- T4 Mon 18 May 09:30, email, network, LAP-1 (r1): first reply 09:45, pending at 10:00.
  SLA "premium": first response met, resolution running. Solved on 21 May, after as_of.
- T5 opened 1 May, before the period: ignored with its events.
- T6 Tue 19 May 14:00, chat, no category (r3): cancelled (closed) at 14:10.

Report: since Mon 4 May, until Mon 25 May, as_of Wed 20 May 09:00 Berlin.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import (
    Actor,
    Assigned,
    Changes,
    CommentAdded,
    DeEscalated,
    Escalated,
    Event,
    QueuedForAssignment,
    Rated,
    SlaBreached,
    SlaClock,
    SlaClockResumed,
    SlaClockStarted,
    SlaClockStopped,
    StatusChanged,
    TicketOpened,
    TicketRouted,
)
from helpdesk_core.reporting import Report, ReportResult, build_report
from helpdesk_core.sla.calendar import BusinessCalendar

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar(
    timezone="Europe/Berlin",
    hours={"mon-fri": "09:00-17:00"},
    holidays=[date(2026, 5, 14)],
)
H = 3600


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 5, day, hour, minute, tzinfo=BERLIN)


def clock(
    metric: str,
    policy: str,
    start: datetime,
    *,
    stopped: datetime | None = None,
    breached: datetime | None = None,
    cycle: int = 1,
) -> SlaClock:
    state = "breached" if breached else ("met" if stopped else "running")
    return SlaClock(
        metric=metric,
        policy=policy,
        calendar="office",
        target=timedelta(hours=4),
        state=state,
        started_at=start,
        used=timedelta(0),
        as_of=stopped or breached or start,
        deadline=None if stopped else start + timedelta(hours=4),
        breached_at=breached,
        stopped_at=stopped,
        cycle=cycle,
    )


def opened(tid: str, when: datetime, channel: str, requester: str, **kw: Any) -> TicketOpened:
    return TicketOpened(
        ticket_id=tid,
        at=when,
        by=Actor.requester(requester),
        number=int(tid[1:]),
        requester=requester,
        subject=f"ticket {tid}",
        channel=channel,
        **kw,
    )


def routed(tid: str, when: datetime, **changes: Any) -> TicketRouted:
    return TicketRouted(
        ticket_id=tid, at=when, by=Actor.system("routing"), changes=Changes(**changes)
    )


def reply(tid: str, when: datetime, who: Actor, *, public: bool = True) -> CommentAdded:
    return CommentAdded(
        ticket_id=tid, at=when, by=who, comment_id=f"{tid}-{when:%d%H%M}", body="...", public=public
    )


def status(
    tid: str, when: datetime, who: Actor, old: str, new: str, category: str, **kw: Any
) -> StatusChanged:
    return StatusChanged(
        ticket_id=tid,
        at=when,
        by=who,
        transition=f"{old}-{new}",
        from_status=old,
        to_status=new,
        category=category,
        **kw,
    )


def sla(kind: type[Event], tid: str, when: datetime, c: SlaClock) -> Event:
    return kind(ticket_id=tid, at=when, by=Actor.system("sla"), clock=c)  # type: ignore[call-arg]


A1, A2 = Actor.agent("a1"), Actor.agent("a2")
R1 = Actor.requester("r1")


def history() -> list[Event]:
    fr, res = "first_response", "resolution"
    t1, t2, t3, t4, t5, t6 = (
        at(11, 10),
        at(13, 16),
        at(16, 10),
        at(18, 9, 30),
        at(1, 10),
        at(19, 14),
    )
    events: list[Event] = [
        # T1
        opened("T1", t1, "email", "r1", category="network", asset="LAP-1", organization="acme"),
        sla(SlaClockStarted, "T1", t1, clock(fr, "standard", t1)),
        sla(SlaClockStarted, "T1", t1, clock(res, "standard", t1)),
        routed("T1", t1, team="service-desk", tier="L1"),
        Assigned(ticket_id="T1", at=at(11, 10, 5), by=Actor.system("routing"), assignee="a1"),
        reply("T1", at(11, 11, 30), A1),
        sla(
            SlaClockStopped, "T1", at(11, 11, 30), clock(fr, "standard", t1, stopped=at(11, 11, 30))
        ),
        status("T1", at(11, 12), A1, "open", "solved", "solved", first_contact=True),
        sla(SlaClockStopped, "T1", at(11, 12), clock(res, "standard", t1, stopped=at(11, 12))),
        Rated(ticket_id="T1", at=at(11, 15), by=R1, score=5),
        # T2
        opened("T2", t2, "phone", "r1", category="network", asset="LAP-1"),
        sla(SlaClockStarted, "T2", t2, clock(fr, "standard", t2)),
        sla(SlaClockStarted, "T2", t2, clock(res, "standard", t2)),
        routed("T2", t2, team="service-desk", tier="L1"),
        Assigned(ticket_id="T2", at=t2, by=Actor.system("routing"), assignee="a1"),
        reply("T2", at(13, 16, 30), A1, public=False),
        reply("T2", at(13, 16, 40), R1),
        sla(SlaBreached, "T2", at(13, 17), clock(fr, "standard", t2, breached=at(13, 17))),
        reply("T2", at(15, 10), A1),
        sla(
            SlaClockStopped,
            "T2",
            at(15, 10),
            clock(fr, "standard", t2, stopped=at(15, 10), breached=at(13, 17)),
        ),
        Escalated(
            ticket_id="T2",
            at=at(15, 11),
            by=A1,
            from_tier="L1",
            to_tier="L2",
            team="network-team",
            assignee="a2",
        ),
        status("T2", at(18, 11), A2, "open", "solved", "solved"),
        sla(SlaClockStopped, "T2", at(18, 11), clock(res, "standard", t2, stopped=at(18, 11))),
        status("T2", at(19, 9), R1, "solved", "open", "open"),
        sla(SlaClockResumed, "T2", at(19, 9), clock(res, "standard", t2)),
        status("T2", at(19, 12), A2, "open", "solved", "solved"),
        sla(SlaClockStopped, "T2", at(19, 12), clock(res, "standard", t2, stopped=at(19, 12))),
        Rated(ticket_id="T2", at=at(19, 13), by=R1, score=2),
        # T3
        opened("T3", t3, "web", "r2", category="printer", asset="PRN-7"),
        sla(SlaClockStarted, "T3", t3, clock(fr, "standard", t3)),
        sla(SlaClockStarted, "T3", t3, clock(res, "standard", t3)),
        routed("T3", t3, team="service-desk", tier="L1"),
        QueuedForAssignment(ticket_id="T3", at=t3, by=Actor.system("routing"), team="service-desk"),
        sla(SlaBreached, "T3", at(18, 13), clock(fr, "standard", t3, breached=at(18, 13))),
        # T4
        opened("T4", t4, "email", "r1", category="network", asset="LAP-1"),
        sla(SlaClockStarted, "T4", t4, clock(fr, "premium", t4)),
        sla(SlaClockStarted, "T4", t4, clock(res, "premium", t4)),
        routed("T4", t4, team="service-desk", tier="L1"),
        Assigned(ticket_id="T4", at=t4, by=Actor.system("routing"), assignee="a1"),
        reply("T4", at(18, 9, 45), A1),
        sla(SlaClockStopped, "T4", at(18, 9, 45), clock(fr, "premium", t4, stopped=at(18, 9, 45))),
        status("T4", at(18, 10), A1, "open", "waiting", "pending"),
        status("T4", at(21, 10), A1, "waiting", "solved", "solved"),  # after as_of
        # T5, before the period
        opened("T5", t5, "email", "r1", category="network", asset="LAP-1"),
        reply("T5", at(4, 10), A1),
        status("T5", at(4, 11), A1, "open", "solved", "solved"),
        # T6
        opened("T6", t6, "chat", "r3"),
        status("T6", at(19, 14, 10), A1, "new", "cancelled", "closed", reason="duplicate"),
    ]
    events.sort(key=lambda e: e.at)
    return events


def report(**overrides: Any) -> ReportResult:
    settings: dict[str, Any] = {
        "calendar": "office",
        "calendars": {"office": OFFICE},
        "since": at(4, 0),
        "until": at(25, 0),
        "as_of": at(20, 9),
        "repeat_threshold": 3,
    }
    settings.update(overrides)
    return build_report(history(), **settings)


def seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


@pytest.fixture(scope="module")
def result() -> ReportResult:
    return report()


def test_population_and_event_counts(result: ReportResult) -> None:
    assert result.tickets == 5
    assert result.events == len(history())
    # T5's three events and T4's solve after as_of
    assert result.ignored_events == 4
    assert result.as_of == at(20, 9)
    assert result.timezone == "Europe/Berlin"


def test_volume_by_each_dimension(result: ReportResult) -> None:
    volume = result.volume
    assert volume.total == 5
    assert volume.by_channel.as_dict() == {"email": 2, "chat": 1, "phone": 1, "web": 1}
    assert volume.by_category.as_dict() == {"network": 3, "printer": 1, None: 1}
    assert list(volume.by_category.as_dict())[-1] is None  # None sorts last among equals
    assert volume.by_type.as_dict() == {"incident": 5}
    assert volume.by_team.as_dict() == {"service-desk": 3, "network-team": 1, None: 1}
    assert volume.by_asset.as_dict() == {"LAP-1": 3, "PRN-7": 1, None: 1}
    assert volume.by_requester.as_dict() == {"r1": 3, "r2": 1, "r3": 1}


def test_volume_by_hour_of_week_in_the_calendars_zone(result: ReportResult) -> None:
    hours = result.volume.by_hour_of_week
    assert hours.timezone == "Europe/Berlin"
    expected = {10: 1, 2 * 24 + 16: 1, 5 * 24 + 10: 1, 9: 1, 24 + 14: 1}
    assert {h: c for h, c in enumerate(hours.counts) if c} == expected
    assert hours.grid()[5][10] == 1  # Saturday 10:00


def test_hour_of_week_in_another_zone() -> None:
    hours = report(timezone="UTC").volume.by_hour_of_week
    # Berlin is UTC+2 in May: Monday 10:00 Berlin is Monday 08:00 UTC.
    assert {h for h, c in enumerate(hours.counts) if c} == {8, 64 - 2, 130 - 2, 9 - 2, 38 - 2}


def test_first_contact_resolution_and_reopen_rates(result: ReportResult) -> None:
    assert (result.first_contact_resolution.count, result.first_contact_resolution.total) == (1, 2)
    assert result.first_contact_resolution.value == 0.5
    assert (result.reopen.count, result.reopen.total) == (1, 2)
    assert (result.escalation.count, result.escalation.total) == (1, 5)


def test_time_to_first_response_calendar_and_business(result: ReportResult) -> None:
    first = result.times.first_response
    assert first.count == 3
    assert seconds(first.mean) == (900 + 5400 + 151200) / 3
    assert seconds(first.median) == 5400
    assert seconds(first.p90) == 5400 + 0.8 * (151200 - 5400)
    business = result.times.first_response_business
    assert business.count == 3
    assert seconds(business.mean) == 4500  # (900 + 5400 + 7200) / 3
    assert seconds(business.median) == 5400
    assert seconds(business.p90) == 6840


def test_time_to_resolution_calendar_and_business(result: ReportResult) -> None:
    resolution = result.times.resolution
    assert resolution.count == 2  # T1, and T2 by its latest solve; T4 solved after as_of
    assert seconds(resolution.mean) == (2 * H + 140 * H) / 2
    assert seconds(resolution.median) == (2 * H + 140 * H) / 2
    assert seconds(resolution.p90) == 2 * H + 0.9 * 138 * H
    business = result.times.resolution_business
    assert [seconds(business.mean), seconds(business.median)] == [11 * H, 11 * H]
    assert seconds(business.p90) == 2 * H + 0.9 * 18 * H


def test_business_time_on_each_tickets_sla_calendar_without_a_report_calendar() -> None:
    result = report(calendar=None)
    assert seconds(result.times.resolution_business.median) == 11 * H
    assert result.timezone == "UTC"
    none = report(calendar=None, calendars=None)
    assert none.times.resolution_business.count == 0
    assert none.times.resolution_business.mean is None


def test_sla_compliance_per_metric_and_policy(result: ReportResult) -> None:
    sla = result.sla
    assert (sla.overall.met, sla.overall.breached) == (4, 2)
    by_metric = {r.metric: (r.met, r.breached, r.rate) for r in sla.by_metric}
    assert by_metric == {"first_response": (2, 2, 0.5), "resolution": (2, 0, 1.0)}
    by_policy = {r.policy: (r.met, r.breached) for r in sla.by_policy}
    assert by_policy == {"premium": (1, 0), "standard": (3, 2)}
    pairs = {(r.policy, r.metric): (r.met, r.breached) for r in sla.by_policy_metric}
    assert pairs == {
        ("premium", "first_response"): (1, 0),
        ("standard", "first_response"): (1, 2),
        ("standard", "resolution"): (2, 0),
    }
    weeks = {(r.week, r.metric): (r.met, r.breached) for r in sla.by_week}
    assert weeks == {
        (date(2026, 5, 11), "first_response"): (1, 2),
        (date(2026, 5, 11), "resolution"): (2, 0),
        (date(2026, 5, 18), "first_response"): (1, 0),
    }


def test_sla_compliance_per_team_and_tier_where_the_outcome_was_recorded(
    result: ReportResult,
) -> None:
    # T2's first response was breached in L1 (service-desk); its resolution was met after
    # the escalation to L2 (network-team).
    sla = result.sla
    tiers = [(r.tier, r.metric, r.met, r.breached) for r in sla.by_tier]
    assert tiers == [
        ("L1", "first_response", 2, 2),
        ("L1", "resolution", 1, 0),
        ("L2", "resolution", 1, 0),
    ]
    teams = [(r.team, r.metric, r.met, r.breached) for r in sla.by_team]
    assert teams == [
        ("network-team", "resolution", 1, 0),
        ("service-desk", "first_response", 2, 2),
        ("service-desk", "resolution", 1, 0),
    ]
    assert [r.rate for r in sla.by_tier] == [0.5, 1.0, 1.0]
    frame = sla.by_tier.to_pandas()
    assert list(frame.columns) == ["tier", "metric", "met", "breached", "total", "rate"]


def test_sla_by_team_keeps_where_a_stopped_cycle_was_met() -> None:
    t0 = at(11, 10)
    met = clock("first_response", "standard", t0, stopped=at(11, 11))
    events: list[Event] = [
        opened("T1", t0, "email", "r1"),
        sla(SlaClockStarted, "T1", t0, clock("first_response", "standard", t0)),
        routed("T1", t0, team="service-desk", tier="L1"),
        sla(SlaClockStopped, "T1", at(11, 11), met),
        Escalated(ticket_id="T1", at=at(11, 12), by=A1, from_tier="L1", to_tier="L2",
                  team="network-team"),
        # A later event of the stopped cycle does not move its outcome to L2.
        sla(SlaClockStopped, "T1", at(11, 13), met),
        # A ticket in no team or tier counts under None, after the named ones.
        opened("T7", t0, "email", "r2"),
        sla(SlaBreached, "T7", at(11, 15), clock("resolution", "standard", t0,
                                                 breached=at(11, 15))),
    ]
    sla_result = build_report(events).sla
    assert [(r.team, r.metric, r.met, r.breached) for r in sla_result.by_team] == [
        ("service-desk", "first_response", 1, 0),
        (None, "resolution", 0, 1),
    ]
    assert [(r.tier, r.metric) for r in sla_result.by_tier] == [
        ("L1", "first_response"), (None, "resolution")]


def test_a_resumed_cycle_is_not_counted_until_it_stops_again() -> None:
    cut = [e for e in history() if e.at <= at(19, 10)]
    result = build_report(cut, calendar=OFFICE, since=at(4, 0))
    pairs = {(r.policy, r.metric): (r.met, r.breached) for r in result.sla.by_policy_metric}
    assert pairs[("standard", "resolution")] == (1, 0)  # T2's resolution runs again


def test_backlog_by_age_and_status_at_as_of(result: ReportResult) -> None:
    backlog = result.backlog
    assert backlog.as_of == at(20, 9)
    assert backlog.total == 2
    ages = {row.label: row.count for row in backlog.by_age}
    assert ages == {"<1d": 0, "1d-3d": 1, "3d-7d": 1, "7d-30d": 0, ">=30d": 0}
    assert backlog.by_status.as_dict() == {"new": 1, "waiting": 1}
    assert backlog.by_category.as_dict() == {"new": 1, "pending": 1}


def test_backlog_without_as_of_is_taken_at_the_latest_event() -> None:
    result = report(as_of=None)
    assert result.as_of == at(21, 10)
    assert result.backlog.total == 1  # T4 was solved on the 21st
    assert result.ignored_events == 3
    assert result.times.resolution.count == 3


def test_custom_age_buckets() -> None:
    backlog = report(age_buckets=["2d", "4d"]).backlog
    assert [(r.label, r.count) for r in backlog.by_age] == [("<2d", 1), ("2d-4d", 1), (">=4d", 0)]


def test_csat(result: ReportResult) -> None:
    csat = result.csat
    assert csat.count == 2
    assert csat.average == 3.5
    assert csat.distribution == (0, 1, 0, 0, 1)
    assert (csat.satisfied.count, csat.satisfied.total) == (1, 2)


def test_workload_per_agent_and_tier(result: ReportResult) -> None:
    agents = {r.agent: (r.assigned, r.solved, r.open) for r in result.agents}
    assert agents == {"a1": (3, 1, 1), "a2": (1, 1, 0)}
    tiers = {r.tier: (r.tickets, r.solved, r.escalated, r.escalation_rate) for r in result.tiers}
    assert tiers == {"L1": (4, 1, 1, 0.25), "L2": (1, 1, 0, 0.0)}


def test_a_ticket_without_a_tier_is_in_no_tier_row_and_its_escalation_counts() -> None:
    """T1, imported without a tier (the lowest, L1, as far as the ladder is concerned),
    escalated to L2: an escalation, as the simulation's records count it, in no tier's
    row (the report does not know which tier the ticket was in)."""
    t1, t2 = at(11, 10), at(11, 11)
    events: list[Event] = [
        opened("T1", t1, "email", "r1"),
        Escalated(ticket_id="T1", at=t1, by=A1, from_tier=None, to_tier="L2"),
        opened("T2", t2, "email", "r1"),
        status("T2", at(11, 12), A1, "open", "solved", "solved"),  # solved without a tier
        status("T2", at(11, 13), R1, "solved", "open", "open"),
        DeEscalated(ticket_id="T2", at=at(11, 14), by=A1, from_tier=None, to_tier="L1"),
        Escalated(ticket_id="T2", at=at(11, 15), by=A1, from_tier="L1", to_tier="L2"),
    ]
    result = build_report(events)
    tiers = {r.tier: (r.tickets, r.solved, r.escalated) for r in result.tiers}
    assert tiers == {"L1": (1, 0, 1), "L2": (2, 0, 0)}
    assert (result.escalation.count, result.escalation.total) == (2, 2)


def test_an_imported_ticket_escalated_by_the_desk_counts_in_the_report_as_in_the_simulation(
) -> None:
    """``escalate`` of a ticket without a tier records ``Escalated(from_tier=None)``: the
    report's escalation rate and a simulation record (``escalations``, the ticket's
    ``Escalated`` events) agree that it was escalated."""
    from helpdesk_core.model import Tier, replay
    from helpdesk_core.workflow import TierLadder, escalate

    ladder = TierLadder([Tier(id="L1", teams=("desk",)), Tier(id="L2", teams=("net",))])
    imported = opened("T1", at(11, 10), "email", "r1")
    ticket = replay([imported])
    assert ticket.tier is None
    _, moved = escalate(ticket, ladder, by=A1, now=at(11, 11), reason="needs the network team")
    assert [(e.from_tier, e.to_tier) for e in moved if isinstance(e, Escalated)] == [
        (None, "L2")
    ]
    result = build_report([imported, *moved])
    record_escalations = sum(1 for e in moved if isinstance(e, Escalated))  # as result.py
    assert result.escalation.count == (record_escalations > 0) == 1
    assert {r.tier: r.escalated for r in result.tiers} == {"L2": 0}


def test_top_failing_assets_and_repeat_requesters(result: ReportResult) -> None:
    assert result.top_assets.as_dict() == {"LAP-1": 3, "PRN-7": 1}
    assert report(top_assets=1).top_assets.as_dict() == {"LAP-1": 3}
    assert [(r.requester, r.category, r.tickets) for r in result.repeat_requesters] == [
        ("r1", "network", 3)
    ]
    assert len(report(repeat_threshold=4).repeat_requesters) == 0


def test_period_bounds_are_half_open() -> None:
    result = report(since=at(13, 16), until=at(18, 9, 30))
    assert result.tickets == 2  # T2 (opened at since) and T3; T4 opened at until is out
    assert result.volume.by_requester.as_dict() == {"r1": 1, "r2": 1}


def test_a_category_changed_by_routing_moves_the_ticket() -> None:
    events = [*history(), routed("T3", at(20, 8), category="network")]
    result = build_report(events, since=at(4, 0), as_of=at(20, 9))
    assert result.volume.by_category.as_dict() == {"network": 4, None: 1}
    assert result.top_assets.as_dict() == {"LAP-1": 3, "PRN-7": 1}


def test_position_pairs_are_read_like_plain_events() -> None:
    events = history()
    plain = Report(since=at(4, 0))
    plain.extend(events)
    paired = Report(since=at(4, 0))
    paired.extend(list(enumerate(events, start=1)))
    assert paired.result() == plain.result()
    assert paired.position == len(events)
    assert plain.position == 0  # no pair read


def test_settings_are_validated_with_the_name_of_the_bad_one() -> None:
    with pytest.raises(ConfigError) as error:
        Report(calendar="nowhere", calendars={"office": OFFICE})
    assert error.value.path == "calendar"
    with pytest.raises(ConfigError) as error:
        Report(calendars={"office": "9-5"})  # type: ignore[dict-item]
    assert error.value.path == "calendars.office"
    with pytest.raises(ValidationError) as verror:
        Report(since=datetime(2026, 5, 1))
    assert verror.value.field == "since"
    with pytest.raises(ValidationError) as verror:
        Report(since=at(5, 0), until=at(4, 0))
    assert verror.value.field == "until"
    with pytest.raises(ValidationError) as verror:
        Report(age_buckets=["3d", "1d"])
    assert verror.value.field == "age_buckets[1]"
    with pytest.raises(ValidationError) as verror:
        Report(age_buckets=["1d", 1.5])  # labels are whole seconds: "1s-1s" misleads
    assert verror.value.field == "age_buckets[1]"
    labels = [row.label for row in report(age_buckets=["90s", "2h"]).backlog.by_age]
    assert labels == ["<1m30s", "1m30s-2h", ">=2h"]
    with pytest.raises(ValidationError) as verror:
        build_report(history(), as_off=at(6, 0))
    assert verror.value.field == "as_off" and "as_of" in str(verror.value)
    with pytest.raises(ValidationError) as verror:
        Report(timezone="Mars/Olympus")
    assert verror.value.field == "timezone"
    with pytest.raises(ValidationError) as verror:
        Report(repeat_threshold=1)
    assert verror.value.field == "repeat_threshold"


def test_settings_take_the_standard_utc_and_numpy_counts() -> None:
    """A notebook's ``datetime.UTC`` and NumPy integers are what they say."""
    np = pytest.importorskip("numpy")
    assert report(timezone=UTC) == report(timezone="UTC")
    assert report(top_assets=np.int64(2), repeat_threshold=np.int32(3)) == report(
        top_assets=2, repeat_threshold=3
    )
    with pytest.raises(ValidationError):
        Report(top_assets=np.float64(2.0))


def test_bad_input_is_refused() -> None:
    report = Report()
    with pytest.raises(ValidationError, match="domain event"):
        report.add("TicketOpened")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="position"):
        report.add(("1", history()[0]))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="position"):
        report.add((-5, history()[0]))
    assert report.position == 0
    first = history()[0]
    report.add(first)
    with pytest.raises(ValidationError, match="opened twice"):
        report.add(first)


def test_volume_by_priority_counts_the_current_priority() -> None:
    from datetime import UTC

    from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore
    from helpdesk_core.model import Requester

    config = DeskConfig.from_dict({"agents": [{"id": "alice", "teams": ["service-desk"]}]})
    desk = Helpdesk(config, MemoryStore(), ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    desk.upsert_requester(Requester(id="r1", name="R"))
    tickets = [desk.open(requester="r1", subject=f"Ticket {i}") for i in range(4)]
    desk.set_priority(tickets[0].id, "critical", by="alice", reason="outage")
    desk.set_priority(tickets[1].id, "low", by="alice")
    desk.set_priority(tickets[1].id, "high", by="alice")
    events = [e for t in tickets for e in desk.history(t.id)]
    volume = build_report(events).volume
    assert volume.by_priority.as_dict() == {"medium": 2, "critical": 1, "high": 1}
    assert volume.by_priority.total == volume.total == 4
    live = Report()
    for event in events:  # an incremental report agrees, event by event
        live.extend([event])
    assert live.result().volume.by_priority == volume.by_priority


def test_a_reopened_ticket_is_never_a_first_contact_resolution() -> None:
    """A solve after a reopen that says ``first_contact`` does not make the ticket one
    resolved at the first contact: it took a second."""
    agent = Actor.agent("olga")
    events = [
        opened("T9", at(11, 10), "phone", "ada"),
        reply("T9", at(11, 10, 5), agent),
        status("T9", at(11, 10, 10), agent, "open", "solved", "solved", first_contact=True),
        status("T9", at(11, 12), Actor.requester("ada"), "solved", "open", "open"),
        status("T9", at(11, 13), agent, "open", "solved", "solved", first_contact=True),
        opened("T8", at(11, 10), "phone", "bo"),
        reply("T8", at(11, 10, 5), agent),
        status("T8", at(11, 10, 10), agent, "open", "solved", "solved", first_contact=True),
    ]
    result = build_report(events)
    assert (result.first_contact_resolution.count, result.first_contact_resolution.total) == (1, 2)
    assert (result.reopen.count, result.reopen.total) == (1, 2)
