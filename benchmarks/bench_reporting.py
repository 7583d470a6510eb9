"""Benchmark: the streaming Report against the same aggregations written in pandas.

A generator below writes realistic interleaved ticket histories (arrivals peaking in office
hours, hot assets and frequent requesters, routing, assignment, internal notes, replies,
pending periods, escalations to L2 and L3, SLA clocks that are met or breached, solves with
first contact resolution, CSAT ratings, reopens and closes), cut at a "now" so recent
tickets are still open. The same events are then

- read by ``Report.extend`` and summarised by ``Report.result()``;
- flattened into a pandas DataFrame (one row per event) and summarised with pandas
  (groupby, value_counts, quantile ...), business time through the same calendar.

Both compute the same figures, and the benchmark checks that they agree. Timings are the
best of a few rounds; peak memory is measured with tracemalloc in a separate round (numpy
reports its buffers to tracemalloc). The event list itself exists before either starts and
is counted for neither.

    python benchmarks/bench_reporting.py            # 1,000,000 events
    python benchmarks/bench_reporting.py --quick    # 100,000 events

Targets: the Report within 2x of pandas' time (DataFrame build + aggregations), with less
than half of pandas' peak memory.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from helpdesk_core.model import (
    Actor,
    Assigned,
    Changes,
    CommentAdded,
    CsatRequested,
    DeEscalated,
    Escalated,
    Event,
    QueuedForAssignment,
    Rated,
    SlaBreached,
    SlaClock,
    SlaClockPaused,
    SlaClockResumed,
    SlaClockStarted,
    SlaClockStopped,
    StatusChanged,
    TicketOpened,
    TicketRouted,
)
from helpdesk_core.reporting import Report, ReportResult
from helpdesk_core.sla.calendar import BusinessCalendar

ZONE = "Europe/Berlin"
START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
HOLIDAYS = [
    date(2025, 1, 1),
    date(2025, 4, 18),
    date(2025, 4, 21),
    date(2025, 5, 1),
    date(2025, 5, 29),
    date(2025, 6, 9),
    date(2025, 10, 3),
    date(2025, 12, 25),
    date(2025, 12, 26),
    date(2026, 1, 1),
]
CALENDAR = BusinessCalendar(timezone=ZONE, hours={"mon-fri": "09:00-17:00"}, holidays=HOLIDAYS)
SINCE = START + timedelta(days=14)
TARGETS = {"time_ratio": 2.0, "memory_ratio": 0.5}

CATEGORIES = (
    "network",
    "printer",
    "email",
    "access",
    "hardware",
    "software",
    "vpn",
    "phone",
    "storage",
    "other",
)
CHANNELS = ("email", "web", "phone", "chat", "self_service", "walk_in", "api")
CHANNEL_WEIGHTS = (35, 25, 15, 12, 8, 3, 2)
TEAMS = {"L1": ("service-desk",), "L2": ("network-team", "workplace-team"), "L3": ("vendor",)}
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 10, 16, 18, 17, 15, 12, 15, 16, 14, 11, 7, 4, 3, 2, 2, 1, 1]
M, H, D = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
SYSTEM, SLA, ROUTING = Actor.system(), Actor.system("sla"), Actor.system("routing")


# -- the generator ------------------------------------------------------------------------


class _Ticket:
    """Writes one ticket's events; ``now`` moves forward as the story goes on."""

    def __init__(self, tid: str, opened: datetime, policy: str) -> None:
        self.tid, self.opened, self.now, self.policy = tid, opened, opened, policy
        self.targets = {
            "first_response": H if policy == "gold" else 4 * H,
            "resolution": 8 * H if policy == "gold" else 40 * H,
        }
        self.events: list[Event] = []
        self.status = "new"

    def add(self, cls: type[Event], by: Actor, **fields: Any) -> None:
        self.events.append(cls(ticket_id=self.tid, at=self.now, by=by, **fields))

    def say(self, by: Actor, body: str, *, public: bool = True) -> None:
        self.add(
            CommentAdded, by, comment_id=f"{self.tid}-{len(self.events)}", body=body, public=public
        )

    def move(self, by: Actor, to: str, category: str, **fields: Any) -> None:
        self.add(
            StatusChanged,
            by,
            transition=to,
            from_status=self.status,
            to_status=to,
            category=category,
            **fields,
        )
        self.status = to

    def clock(
        self, metric: str, *, stopped: bool = False, breached: datetime | None = None
    ) -> SlaClock:
        target = self.targets[metric]
        return SlaClock(
            metric=metric,
            policy=self.policy,
            calendar="office",
            target=target,
            state="breached" if breached else ("met" if stopped else "running"),
            started_at=self.opened,
            used=timedelta(0),
            as_of=self.now,
            deadline=None if stopped else self.opened + target,
            breached_at=breached,
            stopped_at=self.now if stopped else None,
        )

    def sla(self, cls: type[Event], metric: str) -> None:
        self.add(cls, SLA, clock=self.clock(metric))

    def stop(self, metric: str) -> None:
        """Stop a clock: breached at its deadline (recorded then) if that has passed."""
        deadline = self.opened + self.targets[metric]
        breached = deadline if self.now > deadline else None
        if breached is not None:
            clock = self.clock(metric, breached=breached)
            self.events.append(SlaBreached(ticket_id=self.tid, at=breached, by=SLA, clock=clock))
        self.add(SlaClockStopped, SLA, clock=self.clock(metric, stopped=True, breached=breached))


class _Histories:
    """Ticket histories drawn from one seeded random.Random."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.requesters = [f"u{i:05d}" for i in range(6000)]
        self.assets = [f"PC-{i:05d}" for i in range(2500)]
        self.agents = {
            tier: [Actor.agent(f"{tier.lower()}-{i:02d}") for i in range(n)]
            for tier, n in (("L1", 30), ("L2", 12), ("L3", 4))
        }
        self.people: dict[str, Actor] = {}

    def _zipf(self, items: list[str], skew: float) -> str:
        """Skewed choice: the first items (hot assets, frequent requesters) come up most."""
        return items[min(len(items) - 1, int(len(items) * self.rng.random() ** skew))]

    def _opened_at(self) -> datetime:
        rng = self.rng
        while True:
            day = START + D * rng.randrange(365)
            if day.weekday() < 5 or rng.random() < 0.15:
                hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
                return day + H * hour + timedelta(seconds=rng.randrange(3600))

    def _hours(self, mean: float) -> timedelta:
        return timedelta(hours=self.rng.expovariate(1 / mean))

    def ticket(self, number: int) -> list[Event]:
        rng = self.rng
        requester = self._zipf(self.requesters, 2.2)
        who = self.people.setdefault(requester, Actor.requester(requester))
        category = CATEGORIES[min(9, int(rng.expovariate(0.45)))]
        priority = rng.choices(("critical", "high", "medium", "low"), (3, 15, 60, 22))[0]
        t = _Ticket(
            f"T{number:07d}",
            self._opened_at(),
            "gold" if priority in ("critical", "high") else "standard",
        )
        t.add(
            TicketOpened,
            who,
            number=number,
            requester=requester,
            subject=f"{category} problem",
            channel=rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0],
            category=category,
            type="incident" if rng.random() < 0.8 else "service_request",
            priority=priority,
            asset=self._zipf(self.assets, 3.0) if rng.random() < 0.7 else None,
        )
        t.sla(SlaClockStarted, "first_response")
        t.sla(SlaClockStarted, "resolution")
        t.add(
            TicketRouted,
            ROUTING,
            rules=("default",),
            changes=Changes(team="service-desk", tier="L1"),
        )
        agent = rng.choice(self.agents["L1"])
        if rng.random() < 0.1:  # nobody free: queued for a while
            t.add(QueuedForAssignment, SYSTEM, team="service-desk")
            t.now += M * rng.randrange(5, 240)
        t.add(Assigned, ROUTING, assignee=agent.id, strategy="least_loaded")
        if rng.random() < 0.3:
            t.now += M * rng.randrange(1, 60)
            t.say(agent, "checked the logs", public=False)
        t.now += self._hours(2.5)
        t.say(agent, "on it")
        t.stop("first_response")
        first_contact = rng.random() < 0.25
        if not first_contact:
            t.move(agent, "open", "open", automatic=True)
            for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
                t.now += self._hours(5)
                t.say(who, "any news?")
                t.now += self._hours(2)
                t.say(agent, "working on it")
            if rng.random() < 0.2:
                t.move(agent, "waiting", "pending")
                t.sla(SlaClockPaused, "resolution")
                t.now += self._hours(20)
                t.move(who, "open", "open", automatic=True)
                t.sla(SlaClockResumed, "resolution")
            if rng.random() < 0.03:  # stalled: waits for a part, a vendor, the requester ...
                t.move(agent, "on_hold", "on_hold")
                return t.events
            tier = "L1"
            for higher, chance in (("L2", 0.18), ("L3", 0.25)):
                if rng.random() >= chance:
                    break
                t.now += self._hours(6)
                agent = rng.choice(self.agents[higher])
                t.add(
                    Escalated,
                    SYSTEM,
                    from_tier=tier,
                    to_tier=higher,
                    team=rng.choice(TEAMS[higher]),
                    assignee=agent.id,
                    reason="needs specialist",
                )
                tier = higher
            if tier != "L1" and rng.random() < 0.3:
                t.now += self._hours(4)
                agent = rng.choice(self.agents["L1"])
                t.add(
                    DeEscalated,
                    SYSTEM,
                    from_tier=tier,
                    to_tier="L1",
                    team="service-desk",
                    assignee=agent.id,
                )
            t.now += self._hours(18)
        t.move(agent, "solved", "solved", resolution="fixed", first_contact=first_contact)
        t.stop("resolution")
        t.add(CsatRequested, SYSTEM)
        if rng.random() < 0.35:
            score = rng.choices((1, 2, 3, 4, 5), (5, 7, 12, 30, 46))[0]
            t.events.append(
                Rated(ticket_id=t.tid, at=t.now + H * rng.uniform(0.1, 30), by=who, score=score)
            )
        if rng.random() < 0.07:  # not fixed after all
            t.now += H * rng.uniform(2, 96)
            t.move(who, "open", "open")
            t.sla(SlaClockResumed, "resolution")
            t.now += self._hours(10)
            t.move(agent, "solved", "solved", resolution="fixed again")
            t.stop("resolution")
        t.now += D * 3
        t.move(SYSTEM, "closed", "closed", automatic=True)
        return t.events


def generate(count: int, seed: int = 2025) -> list[Event]:
    """About ``count`` events of interleaved histories, in time order, cut at a "now"."""
    source = _Histories(seed)
    events: list[Event] = []
    number = 0
    while len(events) < count * 1.02:
        number += 1
        events.extend(source.ticket(number))
    events.sort(key=lambda e: e.at)
    return events[:count]


# -- the pandas peer ----------------------------------------------------------------------

_COLUMNS = (
    "tid",
    "kind",
    "at",
    "by_kind",
    "by_id",
    "channel",
    "category",
    "type",
    "requester",
    "asset",
    "team",
    "tier",
    "public",
    "to_status",
    "status_cat",
    "first_contact",
    "assignee",
    "sets_assignee",
    "from_tier",
    "score",
    "metric",
    "policy",
    "cycle",
    "outcome",
)


def _row(e: Event) -> tuple[Any, ...]:
    """One event as a row of the flat table (None where a column does not apply)."""
    kind = type(e).__name__
    team = tier = channel = category = type_ = requester = asset = None
    public = to_status = status_cat = first_contact = assignee = from_tier = None
    score = metric = policy = cycle = outcome = None
    sets_assignee = False
    if isinstance(e, TicketOpened):
        channel, category, type_ = e.channel.value, e.category, e.type
        requester, asset, to_status, status_cat = (
            e.requester,
            e.asset,
            e.status,
            e.status_category.value,
        )
    elif isinstance(e, TicketRouted):
        c = e.changes
        team, tier, category, type_, asset = c.team, c.tier, c.category, c.type, c.asset
    elif isinstance(e, CommentAdded):
        public = e.public
    elif isinstance(e, StatusChanged):
        to_status, status_cat, first_contact = e.to_status, e.category.value, e.first_contact
    elif isinstance(e, Assigned | QueuedForAssignment):
        assignee = e.assignee if isinstance(e, Assigned) else None
        sets_assignee = True
    elif isinstance(e, Escalated | DeEscalated):
        from_tier, tier, team, assignee, sets_assignee = (
            e.from_tier,
            e.to_tier,
            e.team,
            e.assignee,
            True,
        )
    elif isinstance(e, Rated):
        score = e.score
    elif isinstance(
        e, SlaClockStarted | SlaClockPaused | SlaClockResumed | SlaClockStopped | SlaBreached
    ):
        clock = e.clock
        metric, policy, cycle = clock.metric.value, clock.policy, clock.cycle
        outcome = "breached" if clock.breached_at else ("met" if clock.stopped_at else "running")
    return (
        e.ticket_id,
        kind,
        e.at,
        e.by.kind.value,
        e.by.id,
        channel,
        category,
        type_,
        requester,
        asset,
        team,
        tier,
        public,
        to_status,
        status_cat,
        first_contact,
        assignee,
        sets_assignee,
        from_tier,
        score,
        metric,
        policy,
        cycle,
        outcome,
    )


def to_frame(events: list[Event]) -> Any:
    """The events as one DataFrame, a row per event."""
    import pandas as pd

    columns = list(zip(*map(_row, events)))
    data = dict(zip(_COLUMNS, columns))
    data["at"] = pd.to_datetime(list(data["at"]), utc=True)
    frame = pd.DataFrame(data)
    for name in (
        "kind",
        "by_kind",
        "channel",
        "category",
        "type",
        "status_cat",
        "metric",
        "policy",
        "outcome",
        "tier",
        "from_tier",
        "team",
    ):
        frame[name] = frame[name].astype("category")
    return frame


def _keyed(counts: Any) -> dict[Any, int]:
    """value_counts as a dict, with the missing-value key as None."""
    return {(None if k is None or k != k else k): int(n) for k, n in counts.items()}


def _stats(values: Any) -> dict[str, Any]:
    if len(values) == 0:
        return {"count": 0, "mean": None, "median": None, "p90": None}
    q = values.quantile([0.5, 0.9])
    return {"count": len(values), "mean": values.mean(), "median": q.iloc[0], "p90": q.iloc[1]}


def pandas_report(df: Any, calendar: BusinessCalendar, since: datetime) -> dict[str, Any]:
    """The Report's figures, computed with pandas from the flat event table."""
    import pandas as pd

    out: dict[str, Any] = {}
    opened = df[df["kind"] == "TicketOpened"]
    opened = opened[opened["at"] >= since].set_index("tid")
    df = df[df["tid"].isin(opened.index)]
    as_of = df["at"].max()
    kind = df["kind"]

    changes = df[kind.isin(["TicketOpened", "TicketRouted", "TicketUpdated"])]
    latest = {
        name: changes.dropna(subset=[name]).groupby("tid", observed=True)[name].last()
        for name in ("category", "type", "asset")
    }
    teams = df[kind.isin(["TicketRouted", "TicketUpdated", "Escalated", "DeEscalated"])]
    latest["team"] = teams.dropna(subset=["team"]).groupby("tid", observed=True)["team"].last()
    tickets = pd.DataFrame(index=opened.index)
    tickets["opened"] = opened["at"]
    tickets["requester"] = opened["requester"]
    tickets["channel"] = opened["channel"].astype(str)
    for name, series in latest.items():
        tickets[name] = series.astype(object).reindex(tickets.index)
    out["tickets"] = len(tickets)
    out["volume"] = {
        name: _keyed(tickets[name].value_counts(dropna=False))
        for name in ("channel", "category", "type", "team", "asset", "requester")
    }
    local = tickets["opened"].dt.tz_convert(ZONE)
    how = (local.dt.day_of_week * 24 + local.dt.hour).value_counts()
    out["hour_of_week"] = tuple(int(how.get(h, 0)) for h in range(168))

    # statuses: reopen, solve, first contact
    st = df[kind == "StatusChanged"][["tid", "at", "status_cat", "first_contact", "to_status"]]
    cat = st["status_cat"].astype(str)
    done = cat.isin(["solved", "closed"])
    prev_done = done.groupby(st["tid"]).shift(1, fill_value=False)  # opened: category new
    reopen = prev_done & ~done
    solves = st[cat == "solved"]
    last_solve = solves.groupby("tid").tail(1).set_index("tid")
    last_reopen_pos = st[reopen].reset_index().groupby("tid")["index"].max()
    solve_pos = solves.reset_index().groupby("tid")["index"].max()
    still_solved = solve_pos.index[
        solve_pos.to_numpy() > last_reopen_pos.reindex(solve_pos.index).fillna(-1).to_numpy()
    ]
    solved_at = last_solve.loc[still_solved, "at"]
    ever_solved = solve_pos.index
    fcr = int(last_solve.loc[still_solved, "first_contact"].astype(bool).sum())
    reopened = st[reopen]["tid"].unique()
    out["fcr"] = (fcr, len(ever_solved))
    out["reopen"] = (int(pd.Index(reopened).isin(ever_solved).sum()), len(ever_solved))
    esc = df[kind == "Escalated"]
    out["escalation"] = (int(esc["tid"].nunique()), len(tickets))

    # times
    comments = df[(kind == "CommentAdded") & (df["public"] == True) & (df["by_kind"] == "agent")]  # noqa: E712
    first = comments.groupby("tid")["at"].first()
    opened_first = tickets["opened"].reindex(first.index)
    opened_solved = tickets["opened"].reindex(solved_at.index)
    zero = pd.Timedelta(0)
    out["first_response"] = _stats((first - opened_first).clip(lower=zero))
    out["resolution"] = _stats((solved_at - opened_solved).clip(lower=zero))

    def business(starts: Any, ends: Any) -> Any:
        pairs = zip(starts.dt.to_pydatetime(), ends.dt.to_pydatetime())
        values = [calendar.elapsed(a, b) if b > a else timedelta(0) for a, b in pairs]
        return pd.Series(pd.to_timedelta(values), dtype="timedelta64[us]")

    out["first_response_business"] = _stats(business(opened_first, first))
    out["resolution_business"] = _stats(business(opened_solved, solved_at))

    # SLA: the last state of each clock cycle
    sla = df[df["metric"].notna()][["tid", "metric", "cycle", "policy", "outcome"]]
    cycles = sla.groupby(["tid", "metric", "cycle"], observed=True).tail(1)
    settled = cycles[cycles["outcome"] != "running"]
    out["sla_by_metric"] = {
        (m, o): n
        for (m, o), n in settled.groupby(["metric", "outcome"], observed=True).size().items()
    }
    out["sla_by_policy"] = {
        (p, o): n
        for (p, o), n in settled.groupby(["policy", "outcome"], observed=True).size().items()
    }
    week = (local.dt.normalize() - pd.to_timedelta(local.dt.day_of_week, unit="D")).dt.date
    weeks = settled.assign(week=settled["tid"].map(week))
    out["sla_by_week"] = (
        weeks.groupby(["week", "metric", "outcome"], observed=True).size().to_dict()
    )

    # backlog at as_of
    last_status = st.groupby("tid").tail(1).set_index("tid")
    status_now = opened["to_status"].copy()
    status_now.loc[last_status.index] = last_status["to_status"]
    cat_now = opened["status_cat"].astype(str).copy()
    cat_now.loc[last_status.index] = last_status["status_cat"].astype(str)
    active = ~cat_now.isin(["solved", "closed"])
    ages = as_of - tickets.loc[active, "opened"]
    bins = [
        pd.Timedelta(0),
        pd.Timedelta(days=1),
        pd.Timedelta(days=3),
        pd.Timedelta(days=7),
        pd.Timedelta(days=30),
        pd.Timedelta.max,
    ]
    out["backlog_age"] = tuple(
        int(n) for n in pd.cut(ages, bins, right=False).value_counts(sort=False)
    )
    out["backlog_status"] = status_now[active].value_counts().to_dict()

    # CSAT
    rated = df[kind == "Rated"].groupby("tid")["score"].last()
    out["csat"] = (
        len(rated),
        float(rated.mean()) if len(rated) else None,
        tuple(int((rated == s).sum()) for s in range(1, 6)),
    )

    # workload: assignee and tier as of each row, carried forward within each ticket
    moves = df[df["sets_assignee"] | (kind == "StatusChanged") | df["tier"].notna()]
    holder = moves["assignee"].where(moves["sets_assignee"])
    holder = holder.where(~(moves["sets_assignee"] & holder.isna()), "")
    holder = holder.groupby(moves["tid"]).ffill().replace("", None)
    tier_now = moves["tier"].astype(object).groupby(moves["tid"]).ffill()
    solve_rows = moves[(moves["kind"] == "StatusChanged") & (moves["status_cat"] == "solved")]
    solve_rows = solve_rows.assign(
        holder=holder.loc[solve_rows.index], tier_now=tier_now.loc[solve_rows.index]
    )
    final_solve = solve_rows.groupby("tid").tail(1).set_index("tid").loc[still_solved]
    solver = final_solve["holder"].where(
        final_solve["holder"].notna(),
        final_solve["by_id"].where(final_solve["by_kind"] == "agent"),
    )
    assigned = df[df["sets_assignee"] & df["assignee"].notna()][
        ["tid", "assignee"]
    ].drop_duplicates()
    agents = pd.DataFrame({"assigned": assigned["assignee"].value_counts()})
    agents["solved"] = solver.value_counts()
    last_holder = holder.groupby(moves["tid"]).last()
    agents["open"] = last_holder[last_holder.index.isin(active[active].index)].value_counts()
    out["agents"] = {
        a: tuple(int(x) for x in row) for a, row in agents.fillna(0).astype(int).iterrows()
    }

    visits = pd.concat(
        [
            df[kind.isin(["TicketRouted", "TicketUpdated", "Escalated", "DeEscalated"])][
                ["tid", "tier"]
            ].dropna(subset=["tier"]),
            df[kind.isin(["Escalated", "DeEscalated"])][["tid", "from_tier"]].rename(
                columns={"from_tier": "tier"}
            ),
            solve_rows[["tid", "tier_now"]].rename(columns={"tier_now": "tier"}),
        ]
    )
    visits["tier"] = visits["tier"].astype(object)
    tiers = pd.DataFrame({"tickets": visits.drop_duplicates()["tier"].value_counts(dropna=False)})
    tiers["solved"] = final_solve["tier_now"].value_counts(dropna=False)
    escalated_from = esc[["tid", "from_tier"]].astype({"from_tier": object}).drop_duplicates()
    tiers["escalated"] = escalated_from["from_tier"].value_counts(dropna=False)
    out["tiers"] = {
        (None if t != t else t): tuple(int(x) for x in row)
        for t, row in tiers.fillna(0).astype(int).iterrows()
    }

    assets = tickets["asset"].value_counts()
    assets = assets.reset_index().sort_values(["count", "asset"], ascending=[False, True])
    out["top_assets"] = dict(zip(assets["asset"][:10], assets["count"][:10].astype(int)))
    repeats = tickets.dropna(subset=["category"]).groupby(["requester", "category"]).size()
    out["repeat_requesters"] = int((repeats >= 3).sum())
    return out


# -- comparison ---------------------------------------------------------------------------


def _ours(result: ReportResult) -> dict[str, Any]:
    """The Report's figures in the shape pandas_report returns."""

    def stats(s: Any) -> dict[str, Any]:
        return {"count": s.count, "mean": s.mean, "median": s.median, "p90": s.p90}

    sla_metric = {}
    for row in result.sla.by_metric:
        sla_metric[(row.metric, "met")] = row.met
        sla_metric[(row.metric, "breached")] = row.breached
    sla_policy = {}
    for row in result.sla.by_policy:
        sla_policy[(row.policy, "met")] = row.met
        sla_policy[(row.policy, "breached")] = row.breached
    sla_week = {}
    for row in result.sla.by_week:
        sla_week[(row.week, row.metric, "met")] = row.met
        sla_week[(row.week, row.metric, "breached")] = row.breached
    v = result.volume
    return {
        "tickets": result.tickets,
        "volume": {
            t.dimension: t.as_dict()
            for t in (v.by_channel, v.by_category, v.by_type, v.by_team, v.by_asset, v.by_requester)
        },
        "hour_of_week": v.by_hour_of_week.counts,
        "fcr": (result.first_contact_resolution.count, result.first_contact_resolution.total),
        "reopen": (result.reopen.count, result.reopen.total),
        "escalation": (result.escalation.count, result.escalation.total),
        "first_response": stats(result.times.first_response),
        "resolution": stats(result.times.resolution),
        "first_response_business": stats(result.times.first_response_business),
        "resolution_business": stats(result.times.resolution_business),
        "sla_by_metric": sla_metric,
        "sla_by_policy": sla_policy,
        "sla_by_week": sla_week,
        "backlog_age": tuple(r.count for r in result.backlog.by_age),
        "backlog_status": result.backlog.by_status.as_dict(),
        "csat": (result.csat.count, result.csat.average, result.csat.distribution),
        "agents": {r.agent: (r.assigned, r.solved, r.open) for r in result.agents},
        "tiers": {r.tier: (r.tickets, r.solved, r.escalated) for r in result.tiers},
        "top_assets": result.top_assets.as_dict(),
        "repeat_requesters": len(result.repeat_requesters),
    }


def _same(a: Any, b: Any) -> bool:
    """Equal, with durations and floats compared to the microsecond / 1e-9."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = {k for k in a.keys() | b.keys() if a.get(k, 0) != 0 or b.get(k, 0) != 0}
        return all(_same(a.get(k, 0), b.get(k, 0)) for k in keys)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, timedelta) or hasattr(b, "total_seconds"):
        return abs(a.total_seconds() - b.total_seconds()) < 1.5e-6
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9)
    return bool(a == b)


def compare(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """Names of the figures on which the two disagree."""
    return [name for name in ours if not _same(ours[name], theirs[name])]


# -- measurement --------------------------------------------------------------------------


def _best(fn: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    best, value = math.inf, None
    for _ in range(rounds):
        gc.collect()
        began = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - began)
    return best, value


def _peak(fn: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        value = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del value
    return peak


def _measure(events: list[Event], rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {"events": len(events)}

    def ours() -> ReportResult:
        report = Report(calendar=CALENDAR, since=SINCE)
        report.extend(events)
        return report.result()

    results["ours_s"], result = _best(ours, rounds)
    results["tickets"] = result.tickets
    results["ours_peak_mb"] = _peak(ours) / 2**20
    try:
        import pandas  # noqa: F401
    except ImportError:
        results["pandas_s"] = None
        return results
    results["pandas_build_s"], frame = _best(lambda: to_frame(events), rounds)
    results["pandas_frame_mb"] = frame.memory_usage(deep=False).sum() / 2**20
    results["pandas_aggregate_s"], theirs = _best(
        partial(pandas_report, frame, CALENDAR, SINCE), rounds
    )
    results["pandas_aggregate_peak_mb"] = (
        _peak(partial(pandas_report, frame, CALENDAR, SINCE)) / 2**20
    )
    frame = None
    results["pandas_s"] = results["pandas_build_s"] + results["pandas_aggregate_s"]
    results["pandas_peak_mb"] = (
        _peak(lambda: pandas_report(to_frame(events), CALENDAR, SINCE)) / 2**20
    )
    results["disagreements"] = compare(_ours(result), theirs)
    results["ratios"] = {
        "time_ratio": results["ours_s"] / results["pandas_s"],
        "time_ratio_vs_aggregate_only": results["ours_s"] / results["pandas_aggregate_s"],
        "memory_ratio": results["ours_peak_mb"] / results["pandas_peak_mb"],
    }
    results["targets_met"] = {
        name: results["ratios"][name] <= goal for name, goal in TARGETS.items()
    }
    return results


def run(quick: bool = False) -> dict[str, Any]:
    """Time and measure the Report and the pandas peer on the same events."""
    count, rounds = (100_000, 3) if quick else (1_000_000, 2)
    began = time.perf_counter()
    events = generate(count)
    generated = time.perf_counter() - began
    # The events outlive both measurements: keep the collector from rescanning them.
    gc.collect()
    gc.freeze()
    try:
        results = _measure(events, rounds)
    finally:
        gc.unfreeze()
    results["generate_s"] = generated
    return results


def _print(results: dict[str, Any]) -> None:
    print(
        f"events: {results['events']:,}  tickets in the report: {results['tickets']:,}  "
        f"(generated in {results['generate_s']:.1f} s)"
    )
    print()
    print(f"{'':32}{'time (s)':>10}{'peak (MiB)':>12}")
    print(f"{'Report (streaming)':32}{results['ours_s']:>10.2f}{results['ours_peak_mb']:>12.1f}")
    if results["pandas_s"] is None:
        print("pandas: not installed")
        return
    print(f"{'pandas: build DataFrame':32}{results['pandas_build_s']:>10.2f}{'':>12}")
    print(
        f"{'pandas: aggregations':32}{results['pandas_aggregate_s']:>10.2f}"
        f"{results['pandas_aggregate_peak_mb']:>12.1f}"
    )
    print(f"{'pandas: total':32}{results['pandas_s']:>10.2f}{results['pandas_peak_mb']:>12.1f}")
    print(f"{'  (DataFrame alone)':32}{'':>10}{results['pandas_frame_mb']:>12.1f}")
    print()
    ratios = results["ratios"]
    verdict = {k: "met" if ok else "MISSED" for k, ok in results["targets_met"].items()}
    print(
        f"time   Report / pandas total:          {ratios['time_ratio']:.2f}x "
        f"(target <= {TARGETS['time_ratio']}x: {verdict['time_ratio']})"
    )
    print(f"time   Report / pandas aggregations:   {ratios['time_ratio_vs_aggregate_only']:.2f}x")
    print(
        f"memory Report / pandas peak:           {ratios['memory_ratio']:.2f}x "
        f"(target < {TARGETS['memory_ratio']}x: {verdict['memory_ratio']})"
    )
    agree = results["disagreements"]
    print(f"figures agree: {'yes' if not agree else 'NO: ' + ', '.join(agree)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 events instead of 1,000,000")
    _print(run(quick=parser.parse_args().quick))
