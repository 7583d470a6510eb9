"""Properties of reports over random interleaved histories.

- every rate lies in [0, 1];
- every breakdown sums to its total;
- feeding the events in pieces (asking for results in between) equals feeding them at
  once, also when stream pieces are read again (a retried batch), and merging reports
  over distinct tickets equals one report over all of them;
- the figures agree with the tickets rebuilt by the model's own fold (``replay``);
- anonymised tickets count in the volumes but belong to no requester, and a report that
  read a ``TicketAnonymised`` live equals one read from the rewritten history.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core.model import (
    Actor,
    Assigned,
    Changes,
    CommentAdded,
    DeEscalated,
    Escalated,
    Event,
    Metric,
    QueuedForAssignment,
    Rated,
    SlaBreached,
    SlaClock,
    SlaClockPaused,
    SlaClockStarted,
    SlaClockStopped,
    StatusChanged,
    TicketAnonymised,
    TicketOpened,
    TicketRouted,
    TicketUpdated,
    replay,
)
from helpdesk_core.model.people import ANONYMOUS_REQUESTER
from helpdesk_core.privacy import anonymise_event
from helpdesk_core.reporting import Report, ReportResult
from helpdesk_core.reporting._stats import duration_stats, to_micros
from helpdesk_core.sla.calendar import BusinessCalendar

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
OFFICE = BusinessCalendar(
    timezone="Europe/Berlin", hours={"mon-fri": "09:00-17:00"}, holidays=[date(2026, 4, 6)]
)
TIERS = ("L1", "L2", "L3")
#: Requesters of the random tickets; some tickets were anonymised before they were read.
REQUESTERS = ("r0", "r1", "r2", "r3", ANONYMOUS_REQUESTER)
STATUSES = {
    "open": "open",
    "pending": "pending",
    "on_hold": "on_hold",
    "solved": "solved",
    "closed": "closed",
}


def _clock(rng: random.Random, metric: str, start: datetime, now: datetime, cycle: int) -> SlaClock:
    outcome = rng.choice(("running", "met", "breached", "breached_running"))
    breached = now if outcome.startswith("breached") else None
    stopped = now if outcome in ("met", "breached") else None
    return SlaClock(
        metric=metric,
        policy=rng.choice(("gold", "silver")),
        calendar="office",
        target=timedelta(hours=4),
        state="breached" if breached else ("met" if stopped else "running"),
        started_at=start,
        used=timedelta(0),
        as_of=now,
        deadline=None if stopped else now + timedelta(hours=1),
        breached_at=breached,
        stopped_at=stopped,
        cycle=cycle,
    )


def ticket_history(rng: random.Random, tid: str, opened_at: datetime) -> list[Event]:
    """One ticket's random but well-formed history (times never go backwards)."""
    requester = rng.choice(REQUESTERS)
    now = opened_at
    events: list[Event] = [
        TicketOpened(
            ticket_id=tid,
            at=now,
            by=Actor.requester(requester),
            number=int(tid[1:]),
            requester=requester,
            subject="printer jam",
            channel=rng.choice(("email", "phone", "web")),
            category=rng.choice((None, "network", "printer", "access")),
            asset=rng.choice((None, "A1", "A2", "A3")),
        )
    ]
    status = "new"
    tier: str | None = None
    cycles: dict[str, int] = {}
    for _ in range(rng.randrange(12)):
        now += timedelta(minutes=rng.randrange(1, 3000))
        agent = Actor.agent(f"a{rng.randrange(3)}")
        kind = rng.randrange(10)
        if kind == 0:
            change = Changes(
                team=rng.choice((None, "desk", "net")),
                tier=rng.choice((None, *TIERS)),
                category=rng.choice((None, "network", "printer")),
                asset=rng.choice((None, "A1", "A4")),
            )
            tier = change.tier or tier
            cls = rng.choice((TicketRouted, TicketUpdated))
            events.append(cls(ticket_id=tid, at=now, by=agent, changes=change))
        elif kind == 1:
            by = rng.choice((agent, Actor.requester(requester), Actor.system()))
            events.append(
                CommentAdded(
                    ticket_id=tid,
                    at=now,
                    by=by,
                    comment_id=f"c{len(events)}",
                    body="x",
                    public=rng.random() < 0.7,
                )
            )
        elif kind in (2, 3):
            new = rng.choice(list(STATUSES))
            events.append(
                StatusChanged(
                    ticket_id=tid,
                    at=now,
                    by=agent,
                    transition="go",
                    from_status=status,
                    to_status=new,
                    category=STATUSES[new],
                    first_contact=rng.random() < 0.4,
                )
            )
            status = new
        elif kind == 4:
            if rng.random() < 0.2:
                events.append(QueuedForAssignment(ticket_id=tid, at=now, by=Actor.system()))
            else:
                events.append(Assigned(ticket_id=tid, at=now, by=agent, assignee=agent.id))
        elif kind == 5:
            to = rng.choice(TIERS)
            cls2 = rng.choice((Escalated, DeEscalated))
            events.append(
                cls2(
                    ticket_id=tid,
                    at=now,
                    by=agent,
                    from_tier=tier,
                    to_tier=to,
                    team=rng.choice((None, "net")),
                    assignee=rng.choice((None, agent.id)),
                )
            )
            tier = to
        elif kind == 6:
            events.append(
                Rated(ticket_id=tid, at=now, by=Actor.requester(requester), score=rng.randint(1, 5))
            )
        else:
            metric = rng.choice(("first_response", "resolution", "next_response"))
            cycle = cycles.get(metric, 1) + (rng.random() < 0.3)
            cycles[metric] = cycle
            sla_cls = rng.choice((SlaClockStarted, SlaClockPaused, SlaClockStopped, SlaBreached))
            events.append(
                sla_cls(
                    ticket_id=tid,
                    at=now,
                    by=Actor.system("sla"),
                    clock=_clock(rng, metric, opened_at, now, cycle),
                )
            )
    return events


def random_history(seed: int, tickets: int) -> list[Event]:
    """Tickets opened over six weeks, their events interleaved in time order."""
    rng = random.Random(seed)
    events: list[Event] = []
    for number in range(1, tickets + 1):
        opened_at = T0 + timedelta(minutes=rng.randrange(6 * 7 * 1440))
        events.extend(ticket_history(rng, f"T{number}", opened_at))
    events.sort(key=lambda e: e.at)
    return events


SETTINGS: dict[str, Any] = {
    "calendar": OFFICE,
    "since": T0 + timedelta(days=3),
    "until": T0 + timedelta(days=40),
}

seeds = st.integers(0, 2**32)
sizes = st.integers(0, 25)


def rates(result: ReportResult) -> list[float | None]:
    out = [
        result.first_contact_resolution.value,
        result.reopen.value,
        result.escalation.value,
        result.csat.satisfied.value,
    ]
    sla = result.sla
    for table in (
        sla.by_metric, sla.by_policy, sla.by_policy_metric, sla.by_week, sla.by_team, sla.by_tier
    ):
        out.extend(row.rate for row in table)
    out.append(sla.overall.rate)
    out.extend(row.escalation_rate for row in result.tiers)
    return out


@settings(max_examples=60)
@given(seeds, sizes)
def test_rates_lie_between_zero_and_one(seed: int, size: int) -> None:
    events = random_history(seed, size)
    result = Report(**SETTINGS)
    result.extend(events)
    for value in rates(result.result()):
        assert value is None or 0.0 <= value <= 1.0


@settings(max_examples=60)
@given(seeds, sizes)
def test_totals_equal_the_sum_of_their_groups(seed: int, size: int) -> None:
    events = random_history(seed, size)
    report = Report(**SETTINGS)
    report.extend(events)
    result = report.result()
    volume = result.volume
    for table in (
        volume.by_channel,
        volume.by_category,
        volume.by_type,
        volume.by_team,
        volume.by_asset,
        volume.by_requester,
    ):
        assert table.total == volume.total == result.tickets
    assert volume.by_hour_of_week.total == result.tickets
    backlog = result.backlog
    assert sum(r.count for r in backlog.by_age) == backlog.total
    assert backlog.by_status.total == backlog.by_category.total == backlog.total
    sla = result.sla
    for table in (
        sla.by_metric, sla.by_policy, sla.by_policy_metric, sla.by_week, sla.by_team, sla.by_tier
    ):
        assert sum(r.met for r in table) == sla.overall.met
        assert sum(r.breached for r in table) == sla.overall.breached
    assert sum(result.csat.distribution) == result.csat.count
    assert sum(r.solved for r in result.tiers) <= result.first_contact_resolution.total
    assert result.top_assets.total <= result.tickets


@settings(max_examples=60)
@given(seeds, sizes, st.lists(st.floats(0, 1), max_size=5))
def test_incremental_equals_from_scratch(seed: int, size: int, cuts: list[float]) -> None:
    events = random_history(seed, size)
    scratch = Report(**SETTINGS)
    scratch.extend(events)
    points = sorted(int(c * len(events)) for c in cuts)
    incremental = Report(**SETTINGS)
    start = 0
    for point in [*points, len(events)]:
        incremental.extend(events[start:point])
        incremental.result()  # results in between must not disturb the state
        start = point
    assert incremental.result() == scratch.result()


@settings(max_examples=60)
@given(seeds, sizes, st.data())
def test_stream_pieces_read_again_equal_the_stream_read_once(
    seed: int, size: int, data: st.DataObject
) -> None:
    events = random_history(seed, size)
    pairs = list(enumerate(events, start=1))
    options = {**SETTINGS, "as_of": data.draw(st.sampled_from((None, T0 + timedelta(days=20))))}
    once = Report(**options)
    once.extend(pairs)
    following = Report(**options)
    done = 0
    while done < len(pairs):
        end = data.draw(st.integers(done + 1, len(pairs)))
        start = data.draw(st.integers(0, done))  # from before what was read: a retry
        following.extend(pairs[start:end])
        assert following.position == end
        done = end
    following.extend(pairs)  # everything again
    assert following.result() == once.result()
    assert (following.events, following.position) == (len(events), len(events))


@settings(max_examples=40)
@given(seeds, sizes, st.integers(2, 4))
def test_merged_shards_equal_one_report(seed: int, size: int, shards: int) -> None:
    events = random_history(seed, size)
    whole = Report(**SETTINGS)
    whole.extend(events)
    parts = [Report(**SETTINGS) for _ in range(shards)]
    for event in events:
        parts[int(event.ticket_id[1:]) % shards].add(event)
    merged = parts[0]
    for part in parts[1:]:
        merged.merge(part)
    assert merged.result() == whole.result()


@settings(max_examples=40)
@given(seeds, sizes)
def test_figures_agree_with_the_models_fold(seed: int, size: int) -> None:
    events = random_history(seed, size)
    report = Report(**SETTINGS)
    report.extend(events)
    result = report.result()
    by_ticket: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_ticket[event.ticket_id].append(event)
    since, until = SETTINGS["since"], SETTINGS["until"]
    tickets = [replay(h) for h in by_ticket.values() if since <= h[0].at < until]
    assert result.tickets == len(tickets)
    first = [to_micros(t.first_response_at - t.created_at) for t in tickets if t.first_response_at]
    solved = [to_micros(t.solved_at - t.created_at) for t in tickets if t.solved_at]
    assert result.times.first_response == duration_stats(first)
    assert result.times.resolution == duration_stats(solved)
    assert result.first_contact_resolution.count == sum(
        t.first_contact and not t.reopen_count for t in tickets
    )
    assert result.backlog.total == sum(t.is_active for t in tickets)
    categories: dict[str | None, int] = defaultdict(int)
    requesters: dict[str | None, int] = defaultdict(int)
    for t in tickets:
        categories[t.category] += 1
        requesters[None if t.requester == ANONYMOUS_REQUESTER else t.requester] += 1
    assert result.volume.by_category.as_dict() == categories
    assert result.volume.by_requester.as_dict() == requesters
    rated = [t.satisfaction.score for t in tickets if t.satisfaction]
    assert result.csat.count == len(rated)
    held_now = {r.agent: r.open for r in result.agents}
    for agent, held in held_now.items():
        assert held == sum(t.assignee == agent and t.is_active for t in tickets)


@settings(max_examples=60)
@given(seeds, sizes, st.integers(2, 3))
def test_anonymised_tickets_belong_to_no_requester(seed: int, size: int, threshold: int) -> None:
    events = random_history(seed, size)
    report = Report(**SETTINGS, repeat_threshold=threshold)
    report.extend(events)
    result = report.result()
    anonymised = sum(
        e.requester == ANONYMOUS_REQUESTER and SETTINGS["since"] <= e.at < SETTINGS["until"]
        for e in events
        if isinstance(e, TicketOpened)
    )
    assert ANONYMOUS_REQUESTER not in result.volume.by_requester.as_dict()
    assert result.volume.by_requester.as_dict().get(None, 0) == anonymised
    assert result.volume.by_requester.total == result.tickets
    assert all(row.requester != ANONYMOUS_REQUESTER for row in result.repeat_requesters)


def anonymised_live_and_rewritten(
    events: list[Event], chosen: set[str], when: dict[str, int]
) -> tuple[list[Event], list[Event]]:
    """``events`` with a ``TicketAnonymised`` for each ``chosen`` ticket after its
    ``when[ticket]``-th event: as published live, and as the store holds it afterwards
    (every event up to the marker rewritten, the later ones as recorded)."""
    seen: dict[str, int] = defaultdict(int)
    live: list[Event] = []
    rewritten: list[Event] = []
    for event in events:
        tid = event.ticket_id
        seen[tid] += 1
        done = tid in chosen and seen[tid] > when[tid] + 1
        live.append(event)
        rewritten.append(
            event
            if tid not in chosen or done
            else anonymise_event(event, personal_fields=frozenset(), mode="anonymise")
        )
        if tid in chosen and seen[tid] == when[tid] + 1:
            marker = TicketAnonymised(
                ticket_id=tid, at=event.at, by=Actor.system("retention"), reason="erasure"
            )
            live.append(marker)
            rewritten.append(marker)
    return live, rewritten


@settings(max_examples=60)
@given(seeds, sizes, st.data())
def test_a_live_anonymisation_equals_the_rewritten_history(
    seed: int, size: int, data: st.DataObject
) -> None:
    events = random_history(seed, size)
    lengths: dict[str, int] = defaultdict(int)
    for event in events:
        lengths[event.ticket_id] += 1
    tickets = sorted(lengths)
    chosen = set(data.draw(st.lists(st.sampled_from(tickets), unique=True))) if tickets else set()
    when = {tid: data.draw(st.integers(0, lengths[tid] - 1)) for tid in sorted(chosen)}
    live, rewritten = anonymised_live_and_rewritten(events, chosen, when)
    as_of = data.draw(st.sampled_from((None, T0 + timedelta(days=20))))
    following = Report(**SETTINGS, as_of=as_of, repeat_threshold=2)
    following.extend(live)
    again = Report(**SETTINGS, as_of=as_of, repeat_threshold=2)
    again.extend(rewritten)
    result = following.result()
    assert result == again.result()
    since, until = SETTINGS["since"], SETTINGS["until"]
    cohort = {
        e.ticket_id: e.requester
        for e in events
        if isinstance(e, TicketOpened)
        and since <= e.at < until
        and (as_of is None or e.at <= as_of)
    }
    nobodys = sum(tid in chosen or r == ANONYMOUS_REQUESTER for tid, r in cohort.items())
    assert result.volume.by_requester.as_dict().get(None, 0) == nobodys


@settings(max_examples=60)
@given(seeds, sizes)
def test_tickets_without_a_tier_are_in_no_tier_row(seed: int, size: int) -> None:
    events = random_history(seed, size)
    report = Report(**SETTINGS)
    report.extend(events)
    result = report.result()
    since, until = SETTINGS["since"], SETTINGS["until"]
    cohort = {e.ticket_id for e in events if isinstance(e, TicketOpened) and since <= e.at < until}
    # Every Escalated is an escalation (as a simulation record counts them), one out of
    # no tier too; only one out of a named tier is in that tier's row.
    escalated = {e.ticket_id for e in events if isinstance(e, Escalated) and e.ticket_id in cohort}
    out_of_a_tier = {
        e.ticket_id
        for e in events
        if isinstance(e, Escalated) and e.from_tier is not None and e.ticket_id in cohort
    }
    assert all(row.tier is not None for row in result.tiers)
    assert result.escalation.count == len(escalated)
    assert sum(row.escalated for row in result.tiers) >= len(out_of_a_tier)


def test_the_history_generator_covers_every_kind_of_event() -> None:
    events = random_history(1, 200)
    kinds = {type(e) for e in events}
    assert {
        TicketOpened,
        TicketRouted,
        TicketUpdated,
        CommentAdded,
        StatusChanged,
        Assigned,
        QueuedForAssignment,
        Escalated,
        DeEscalated,
        Rated,
        SlaClockStarted,
        SlaClockPaused,
        SlaClockStopped,
        SlaBreached,
    } <= kinds
    result = Report(**SETTINGS)
    result.extend(events)
    figures = result.result()
    assert figures.reopen.count > 0
    assert figures.sla.overall.total > 0
    assert figures.times.resolution_business.count > 0
    assert Metric.NEXT_RESPONSE.value in {r.metric for r in figures.sla.by_metric}
