"""The KPIs, computed from the per-ticket states a :class:`Report` keeps.

Definitions (the population is the tickets opened in the report's period):

- volume: tickets by their latest channel, category, type, team, asset and requester, and
  by the hour of the week they were opened (Monday 00:00 first, in the report's zone); an
  anonymised ticket belongs to no requester and counts under None;
- first contact resolution: tickets whose solve was marked ``first_contact`` and that were
  never reopened, out of the tickets solved at least once;
- reopen rate: tickets reopened (from solved or closed back to an active status) at least
  once, out of the tickets solved at least once;
- escalation rate: tickets functionally escalated (an ``Escalated`` event, whatever tier
  it names as left) at least once, out of all tickets; per tier: tickets escalated out of
  the tier, out of the tickets that were in it. A ticket without a tier is in no tier's
  row: its escalation (``from_tier=None``) counts in the rate, in no tier's row;
- time to first response (first public agent reply) and to resolution (the latest solve of
  tickets solved now), in calendar time and in business time (``calendar.elapsed``); a
  milestone stamped before the opening counts as zero;
- SLA compliance: each clock cycle counts once its outcome is settled: stopped without a
  breach is met, breached (even if still running) is not; a running cycle is not counted,
  nor is one stopped without a breach because no target applies any more (or because the
  ticket was closed unsolved); by team and by tier, a cycle counts where the ticket was
  when its outcome was recorded (the breach, or the stop that met the target);
- backlog: tickets active at ``as_of``, by age, status and status category;
- CSAT: the latest rating of each rated ticket;
- workload: per agent, tickets ever assigned, solved while assigned (or solved by the agent
  when nobody was assigned) and active tickets held now; per tier, tickets that were in it,
  solved in it and escalated out of it;
- top assets: tickets per asset, most first; repeat requesters: requesters with at least
  ``repeat_threshold`` tickets of one category (anonymised tickets are nobody's).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import date, datetime, timedelta

from helpdesk_core.reporting._settings import Settings
from helpdesk_core.reporting._state import TicketState
from helpdesk_core.reporting._stats import duration_stats
from helpdesk_core.reporting._tally import SlaKey, Tally
from helpdesk_core.reporting.records import (
    AgentRow,
    AgeRow,
    Backlog,
    CountRow,
    CountTable,
    Csat,
    HourOfWeek,
    Rate,
    RepeatRow,
    ReportResult,
    ResponseTimes,
    SlaCompliance,
    SlaRow,
    SlaTeamRow,
    SlaTierRow,
    Table,
    TierRow,
    Volume,
)

__all__ = ["compute", "count_table"]


def _order(item: tuple[str | None, int]) -> tuple[int, bool, str]:
    key, count = item
    return (-count, key is None, key or "")


def count_table(dimension: str, counts: Counter[str | None]) -> CountTable:
    """Counts largest first, ties by key, None last."""
    rows = tuple(CountRow(key=k, count=c) for k, c in sorted(counts.items(), key=_order))
    return CountTable(dimension=dimension, rows=rows)


_Group = tuple[tuple[str | None, str | None, date | None], list[int]]


def _grouped(cells: dict[SlaKey, list[int]], keep: tuple[bool, bool, bool]) -> list[_Group]:
    """Met / breached summed over the parts of the key not kept, sorted by key."""
    out: dict[tuple[str | None, str | None, date | None], list[int]] = {}
    for (policy, metric, week), (met, breached) in cells.items():
        key = (
            policy if keep[0] else None,
            metric if keep[1] else None,
            week if keep[2] else None,
        )
        cell = out.setdefault(key, [0, 0])
        cell[0] += met
        cell[1] += breached
    return sorted(out.items(), key=_sla_order)


def _sla_order(item: _Group) -> tuple[date, str, str]:
    policy, metric, week = item[0]
    return (week or date.min, policy or "", metric or "")


def _sla_table(
    name: str, cells: dict[SlaKey, list[int]], keep: tuple[bool, bool, bool]
) -> Table[SlaRow]:
    rows = [
        SlaRow(policy=p, metric=m, week=w, met=c[0], breached=c[1])
        for (p, m, w), c in _grouped(cells, keep)
    ]
    return Table.of(name, SlaRow, rows)


def _group_order(item: tuple[tuple[str | None, str], list[int]]) -> tuple[bool, str, str]:
    (group, metric), _ = item
    return (group is None, group or "", metric)


def _sla(tally: Tally) -> SlaCompliance:
    cells = tally.sla
    met = sum(c[0] for c in cells.values())
    breached = sum(c[1] for c in cells.values())
    teams = sorted(tally.sla_teams.items(), key=_group_order)
    tiers = sorted(tally.sla_tiers.items(), key=_group_order)
    return SlaCompliance(
        overall=SlaRow(policy=None, metric=None, week=None, met=met, breached=breached),
        by_metric=_sla_table("sla_by_metric", cells, (False, True, False)),
        by_policy=_sla_table("sla_by_policy", cells, (True, False, False)),
        by_policy_metric=_sla_table("sla_by_policy_metric", cells, (True, True, False)),
        by_week=_sla_table("sla_by_week", cells, (False, True, True)),
        by_team=Table.of(
            "sla_by_team",
            SlaTeamRow,
            [SlaTeamRow(team=g, metric=m, met=c[0], breached=c[1]) for (g, m), c in teams],
        ),
        by_tier=Table.of(
            "sla_by_tier",
            SlaTierRow,
            [SlaTierRow(tier=g, metric=m, met=c[0], breached=c[1]) for (g, m), c in tiers],
        ),
    )


def _backlog(tally: Tally, settings: Settings) -> Backlog:
    labels = settings.age_labels()
    lowers = [timedelta(0), *settings.age_buckets]
    uppers: list[timedelta | None] = [*settings.age_buckets, None]
    rows = [
        AgeRow(label=label, lower=low, upper=high, count=count)
        for label, low, high, count in zip(labels, lowers, uppers, tally.backlog_ages)
    ]
    return Backlog(
        as_of=tally.as_of,
        total=sum(tally.backlog_ages),
        by_age=Table.of("backlog_by_age", AgeRow, rows),
        by_status=count_table("status", tally.statuses),
        by_category=count_table("status_category", tally.status_categories),
    )


def _csat(ratings: list[int]) -> Csat:
    count = sum(ratings)
    points = sum(score * n for score, n in enumerate(ratings, start=1))
    return Csat(
        count=count,
        average=points / count if count else None,
        satisfied=Rate(count=ratings[3] + ratings[4], total=count),
        distribution=(ratings[0], ratings[1], ratings[2], ratings[3], ratings[4]),
    )


def _volume(tally: Tally, total: int, settings: Settings) -> Volume:
    dims = tally.dims
    return Volume(
        total=total,
        by_channel=count_table("channel", dims["channel"]),
        by_category=count_table("category", dims["category"]),
        by_type=count_table("type", dims["type"]),
        by_priority=count_table("priority", dims["priority"]),
        by_team=count_table("team", dims["team"]),
        by_asset=count_table("asset", dims["asset"]),
        by_requester=count_table("requester", dims["requester"]),
        by_hour_of_week=HourOfWeek(timezone=settings.zone.key, counts=tuple(tally.hours)),
    )


def _tier_key(item: tuple[str | None, list[int]]) -> tuple[bool, str]:
    return (item[0] is None, item[0] or "")


def compute(
    settings: Settings,
    states: Collection[TicketState],
    *,
    events: int,
    ignored: int,
    latest: datetime | None,
) -> ReportResult:
    """Every KPI of the report, from its ticket states."""
    as_of = settings.as_of or latest
    tally = Tally(settings, as_of)
    tally.run(states)
    total = tally.total
    assets = Counter({k: c for k, c in tally.dims["asset"].items() if k is not None})
    top = sorted(assets.items(), key=_order)[: settings.top_assets]
    repeats = sorted(
        (
            RepeatRow(requester=r, category=c, tickets=n)
            for (r, c), n in tally.repeats.items()
            if n >= settings.repeat_threshold
        ),
        key=lambda row: (-row.tickets, row.requester, row.category),
    )
    return ReportResult(
        since=settings.since,
        until=settings.until,
        as_of=as_of,
        timezone=settings.zone.key,
        tickets=total,
        events=events,
        ignored_events=ignored,
        volume=_volume(tally, total, settings),
        first_contact_resolution=Rate(count=tally.first_contact, total=tally.solved),
        reopen=Rate(count=tally.reopened, total=tally.solved),
        escalation=Rate(count=tally.escalated, total=total),
        times=ResponseTimes(
            first_response=duration_stats(tally.first),
            resolution=duration_stats(tally.resolution),
            first_response_business=duration_stats(tally.first_business),
            resolution_business=duration_stats(tally.resolution_business),
        ),
        sla=_sla(tally),
        backlog=_backlog(tally, settings),
        csat=_csat(tally.ratings),
        agents=Table.of(
            "agents",
            AgentRow,
            [
                AgentRow(agent=a, assigned=c[0], solved=c[1], open=c[2])
                for a, c in sorted(tally.agents.items())
            ],
        ),
        tiers=Table.of(
            "tiers",
            TierRow,
            [
                TierRow(tier=t, tickets=c[0], solved=c[1], escalated=c[2])
                for t, c in sorted(tally.tiers.items(), key=_tier_key)
            ],
        ),
        top_assets=CountTable(
            dimension="asset", rows=tuple(CountRow(key=k, count=c) for k, c in top)
        ),
        repeat_requesters=Table.of("repeat_requesters", RepeatRow, repeats),
    )
