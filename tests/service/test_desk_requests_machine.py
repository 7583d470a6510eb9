"""Random retried requests, field edits, tier moves, erasures and retention on a
MemoryStore desk and a SqliteStore desk, with what the desk promises of them:

* ``open`` / ``reply`` with a ``request_id`` already used (by that requester; by that
  author on that ticket) and the same arguments return the same ticket and record
  nothing; with other arguments they are refused (ValidationError) and record nothing;
  until the ticket is anonymised or purged: then the request id is free again;
* a ticket's priority is the matrix's for its impact and urgency unless set explicitly,
  whatever ``update`` changed, and its running SLA clocks have the priority's targets;
* ``de_escalate`` / ``escalate`` more than one tier at once need ``allow_skip``;
* round robin serves no agent twice in a row while another of its tier is on the
  roster, as agents join and leave;
* a walk by ``after`` in ``number`` order shows each ticket once, a requester's own
  walk their own tickets only;
* a report's SLA compliance by team and by tier adds up to its overall and per-metric
  counts;

and both desks agree on every answer, ticket and history."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from service_fixtures import berlin, make_desk

from desk_stores import DSN, drop
from helpdesk_core import DeskConfig, Helpdesk, HelpdeskError, MemoryStore, SqliteStore
from helpdesk_core.model import Assigned, CommentAdded, Requester, StatusCategory, Ticket, replay
from helpdesk_core.reporting import build_report
from helpdesk_core.storage import Store, TicketQuery

REQUESTERS = ("ada", "bea", "cy")
L1_AGENTS = ("al", "bo", "cat")
TIERS = ("L1", "L2", "L3")
REQUEST_IDS = ("r1", "r2")
IMPACTS = ("low", "medium", "high")

_OFFICE = {"timezone": "Europe/Berlin", "hours": {"mon-fri": "09:00-17:00"}}


def _config(absent: frozenset[str] = frozenset()) -> DeskConfig:
    """The desk, with the L1 agents ``absent`` left out of the roster."""
    return DeskConfig.from_dict(
        {
            "desk": {"name": "Requests desk", "timezone": "Europe/Berlin"},
            "calendars": {"office": _OFFICE},
            "tiers": [
                {"id": "L1", "teams": ["desk"]},
                {"id": "L2", "teams": ["network"]},
                {"id": "L3", "teams": ["experts"]},
            ],
            "teams": [
                {"id": "desk", "calendar": "office"},
                {"id": "network", "calendar": "office"},
                {"id": "experts", "calendar": "office"},
            ],
            "agents": [
                *(
                    {"id": name, "tier": "L1", "teams": ["desk"], "capacity": 100}
                    for name in L1_AGENTS
                    if name not in absent
                ),
                {"id": "nia", "tier": "L2", "teams": ["network"], "capacity": 100},
                {"id": "ed", "tier": "L3", "teams": ["experts"], "capacity": 100},
            ],
            "sla_policies": [
                {
                    "name": "p1",
                    "calendar": "office",
                    "when": {"field": "priority", "op": "eq", "value": "critical"},
                    "targets": {"critical": {"first_response": "30m", "resolution": "4h"}},
                },
                {
                    "name": "standard",
                    "calendar": "office",
                    "targets": {
                        "high": {"first_response": "2h", "resolution": "16h"},
                        "medium": {"first_response": "4h", "resolution": "24h"},
                        "low": {"first_response": "8h", "resolution": "40h"},
                    },
                },
            ],
            "assignment": {"strategy": "round_robin"},
            "privacy": {
                "retention": [
                    {"name": "purge", "after": "2d", "action": "purge", "teams": ["experts"]},
                    {"name": "anonymise", "after": "2d"},
                ]
            },
        }
    )


#: An agent, mostly the one working the ticket (``@team``: its assignee, else an active
#: agent of its team).
AGENT = st.sampled_from(["agent:@team", "agent:@team", "agent:@team", "agent:al", "agent:nia"])


class DeskRequests(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        start = berlin(2026, 3, 2, 10, 0)  # a Monday morning
        self.absent = frozenset({"al"})  # joins later: before the others in id order
        config = _config(self.absent)
        self.desks = (
            make_desk(MemoryStore(), start, config),
            make_desk(self.other_store(Path(self._tmp.name)), start, config),
        )
        self.tickets: list[str] = []  # ids of the tickets not purged, in opening order
        # (requester, request id) -> the ticket and the subject, impact and urgency asked
        self.opened: dict[tuple[str, str], tuple[str, tuple[str, str, str]]] = {}
        # (author, ticket, request id) -> whether the reply was public
        self.replied: dict[tuple[str, str, str], bool] = {}
        self.asked: set[tuple[str, str]] = set()  # every (requester, request id) opened
        self.last_l1: str | None = None  # the L1 agent round robin chose last
        self.position = 0  # event stream read so far (the memory desk's)
        for requester in REQUESTERS[:2]:  # tickets to work on from the first step
            self.open(requester, "r1", "medium", "high", "VPN down")

    def other_store(self, tmp: Path) -> Store:
        """The store the second desk runs on (compared with the MemoryStore desk's)."""
        return SqliteStore(tmp / "desk.sqlite")

    def teardown(self) -> None:
        if hasattr(self, "desks"):
            drop(self.desks[1].store)
            self._tmp.cleanup()

    # ------------------------------------------------------------------ helpers
    def _both(self, call: Any) -> Any:
        """``call(desk)`` on both desks: the same answer (a ticket or an error name)."""
        outcomes = []
        for desk in self.desks:
            try:
                outcomes.append(("ok", call(desk)))
            except HelpdeskError as error:
                outcomes.append(("error", type(error).__name__))
        assert outcomes[0] == outcomes[1], outcomes
        # one caller at a time: a request is never still being applied elsewhere
        assert outcomes[0] != ("error", "ConflictError"), outcomes
        return outcomes[0]

    def _ticket(self, index: int) -> str | None:
        return self.tickets[index % len(self.tickets)] if self.tickets else None

    def _actor(self, ticket_id: str, by: str) -> str:
        """``by`` with ``agent:@team`` and ``requester:@own`` resolved for the ticket."""
        ticket = self.desks[0].get(ticket_id)
        if by == "requester:@own":
            return f"requester:{ticket.requester}"
        if by != "agent:@team":
            return by
        config = self.desks[0].config
        team = [a.id for a in config.agents if a.active and ticket.team in a.teams]
        return f"agent:{ticket.assignee or (team[0] if team else 'ed')}"

    def _events(self) -> int:
        return sum(1 for _ in self.desks[0].store.event_stream())

    def _forget(self, ticket_ids: set[str]) -> None:
        """The records of the requests made on these tickets are deleted."""
        self.opened = {k: v for k, v in self.opened.items() if v[0] not in ticket_ids}
        self.replied = {k: v for k, v in self.replied.items() if k[1] not in ticket_ids}

    def _check_round_robin(self) -> None:
        memory = self.desks[0]
        for _, event in memory.store.event_stream(after=self.position):
            if isinstance(event, Assigned) and event.strategy and event.assignee in L1_AGENTS:
                if len(set(L1_AGENTS) - self.absent) > 1:
                    assert event.assignee != self.last_l1, (event.assignee, self.absent)
                self.last_l1 = event.assignee
        self.position = max((p for p, _ in memory.store.event_stream()), default=0)

    # ------------------------------------------------------------------ rules
    @rule(
        requester=st.sampled_from(REQUESTERS),
        request_id=st.one_of(st.none(), st.sampled_from(REQUEST_IDS)),
        impact=st.sampled_from(IMPACTS),
        urgency=st.sampled_from(IMPACTS),
        subject=st.sampled_from(["VPN down", "Printer jam"]),
    )
    def open(
        self, requester: str, request_id: str | None, impact: str, urgency: str, subject: str
    ) -> None:
        events, count = self._events(), len(self.tickets)
        kind, ticket = self._both(
            lambda desk: desk.open(
                requester=Requester(id=requester, name=requester.title()),
                subject=subject,
                impact=impact,
                urgency=urgency,
                request_id=request_id,
            ).id
        )
        before = self.opened.get((requester, request_id)) if request_id else None
        if before is not None:
            # a retry: the ticket it opened; another request: refused; nothing recorded
            if before[1] == (subject, impact, urgency):
                assert (kind, ticket) == ("ok", before[0])
            else:
                assert (kind, ticket) == ("error", "ValidationError")
            assert self._events() == events
            assert self.desks[0].search(limit=1).total == count
            return
        assert kind == "ok", ticket
        assert ticket not in self.tickets
        self.tickets.append(ticket)
        if request_id is not None:
            self.opened[(requester, request_id)] = (ticket, (subject, impact, urgency))
            self.asked.add((requester, request_id))
        self._check_round_robin()

    @rule(
        index=st.integers(0, 7),
        author=st.one_of(AGENT, st.sampled_from(["requester:@own", "requester:ada"])),
        request_id=st.one_of(st.none(), st.sampled_from(REQUEST_IDS)),
        public=st.booleans(),
    )
    def reply(self, index: int, author: str, request_id: str | None, public: bool) -> None:
        ticket_id = self._ticket(index)
        if ticket_id is None:
            return
        author = self._actor(ticket_id, author)
        public = public or author.startswith("agent:")  # a requester writes no note
        memory = self.desks[0]
        comments = sum(isinstance(e, CommentAdded) for e in memory.history(ticket_id))
        events = self._events()
        kind, answer = self._both(
            lambda desk: desk.reply(
                ticket_id, author=author, body="Any news?", public=public, request_id=request_id
            ).id
        )
        key = (author, ticket_id, request_id or "")
        if request_id is not None and key in self.replied:
            # a retry adds nothing, whatever the ticket went through since
            assert self._events() == events
            assert comments == sum(isinstance(e, CommentAdded) for e in memory.history(ticket_id))
            if kind == "ok":
                assert answer == ticket_id and self.replied[key] == public
            elif answer == "ValidationError":  # another request: not the reply it added
                assert self.replied[key] != public
            else:
                assert answer in ("AccessDenied", "NotFound"), answer
            return
        if kind == "ok":
            assert answer == ticket_id
            after = sum(isinstance(e, CommentAdded) for e in memory.history(ticket_id))
            assert after == comments + 1
            if request_id is not None:
                self.replied[key] = public
        else:
            assert self._events() == events
        self._check_round_robin()

    @rule(
        index=st.integers(0, 7),
        impact=st.one_of(st.none(), st.sampled_from(IMPACTS)),
        urgency=st.one_of(st.none(), st.sampled_from(IMPACTS)),
        by=AGENT,
    )
    def update(self, index: int, impact: str | None, urgency: str | None, by: str) -> None:
        ticket_id = self._ticket(index)
        if ticket_id is None:
            return
        by = self._actor(ticket_id, by)
        changes = {k: v for k, v in (("impact", impact), ("urgency", urgency)) if v}
        before = self.desks[0].get(ticket_id)
        kind, _ = self._both(lambda desk: desk.update(ticket_id, by=by, **changes).id)
        if kind == "ok":
            after = self.desks[0].get(ticket_id)
            if before.priority_explicit:
                assert after.priority is before.priority

    @rule(
        index=st.integers(0, 7),
        priority=st.sampled_from(["low", "medium", "high", "critical"]),
        by=AGENT,
    )
    def set_priority(self, index: int, priority: str, by: str) -> None:
        ticket_id = self._ticket(index)
        if ticket_id is not None:
            by = self._actor(ticket_id, by)
            self._both(lambda desk: desk.set_priority(ticket_id, priority, by=by).id)

    @rule(
        index=st.integers(0, 7),
        up=st.booleans(),
        to_tier=st.one_of(st.none(), st.sampled_from(TIERS)),
        allow_skip=st.booleans(),
        by=AGENT,
    )
    def move_tier(
        self, index: int, up: bool, to_tier: str | None, allow_skip: bool, by: str
    ) -> None:
        ticket_id = self._ticket(index)
        if ticket_id is None:
            return
        by = self._actor(ticket_id, by)
        before = self.desks[0].get(ticket_id)
        move = Helpdesk.escalate if up else Helpdesk.de_escalate
        kind, _ = self._both(
            lambda desk: move(
                desk, ticket_id, by=by, reason="moving", to_tier=to_tier, allow_skip=allow_skip
            ).tier
        )
        if kind != "ok":
            return
        after = self.desks[0].get(ticket_id)
        assert before.tier is not None and after.tier is not None
        gone = TIERS.index(after.tier) - TIERS.index(before.tier)
        assert gone > 0 if up else gone < 0, (before.tier, after.tier)
        if to_tier is not None:
            assert after.tier == to_tier
        if not allow_skip:
            assert abs(gone) == 1, (before.tier, after.tier)
        self._check_round_robin()

    @rule(pick=st.integers(0, 15), body=st.booleans())
    def retry(self, pick: int, body: bool) -> None:
        """A request made before comes again (with another subject or visibility: refused,
        unless the ticket's records were forgotten: then it is a new request)."""
        made = [("open", *key) for key in sorted(self.asked)]
        made += [("reply", *key) for key in sorted(self.replied)]
        if not made:
            return
        kind, who, *rest = made[pick % len(made)]
        if kind == "open":
            subject = "Printer jam" if body else "VPN down"
            self.open(who, rest[0], "low", "low", subject)
        else:
            ticket_id, request_id = rest
            self.reply(self.tickets.index(ticket_id), who, request_id, body)

    @rule(index=st.integers(0, 7), by=AGENT, close=st.booleans(), first_contact=st.booleans())
    def solve(self, index: int, by: str, close: bool, first_contact: bool) -> None:
        ticket_id = self._ticket(index)
        if ticket_id is None:
            return
        by = self._actor(ticket_id, by)
        self._both(
            lambda desk: desk.solve(
                ticket_id, by=by, resolution="fixed", first_contact=first_contact
            ).id
        )
        if close:
            self._both(lambda desk: desk.close(ticket_id, by=by).id)

    @rule(requester=st.sampled_from(REQUESTERS))
    def erase(self, requester: str) -> None:
        theirs = {t for t in self.tickets if self.desks[0].get(t).requester == requester}
        kind, _ = self._both(lambda desk: len(desk.erase_requester(requester, by="system:gdpr")))
        if kind == "ok":
            self._forget(theirs)

    @rule(minutes=st.sampled_from([30, 8 * 60, 3 * 24 * 60]))
    def advance(self, minutes: int) -> None:
        for desk in self.desks:
            desk.clock.advance(minutes=minutes)  # type: ignore[attr-defined]
        self._both(lambda desk: len(desk.tick()))
        left = {t.id for t in _all(self.desks[0].store)}
        gone = set(self.tickets) - left
        self.tickets = [t for t in self.tickets if t in left]
        self._forget(gone)
        anonymised = {t for t in self.tickets if self.desks[0].get(t).anonymised}
        self._forget(anonymised)
        self._check_round_robin()

    @precondition(lambda self: hasattr(self, "desks"))
    @rule(agent=st.sampled_from(L1_AGENTS))
    def join_or_leave(self, agent: str) -> None:
        """An L1 agent leaves the roster, or joins it again (the round-robin turn must
        not shift), and a ticket comes in. A leaver still assigned open tickets is
        refused by both desks."""
        absent = self.absent ^ {agent}
        config = _config(absent)
        kind, _ = self._both(lambda desk: desk.reconfigure(config))
        if kind == "ok":
            self.absent = absent
        self._check_round_robin()
        self.open("cy", None, "medium", "medium", "Printer jam")

    # ------------------------------------------------------------------ invariants
    @invariant()
    def same_tickets_and_histories(self) -> None:
        if not hasattr(self, "desks"):
            return
        memory, sqlite = self.desks
        assert [t.id for t in _all(memory.store)] == [t.id for t in _all(sqlite.store)]
        for ticket_id in self.tickets:
            ticket = memory.get(ticket_id)
            assert ticket == sqlite.get(ticket_id)
            history = memory.history(ticket_id)
            assert history == sqlite.history(ticket_id)
            assert replay(history) == ticket

    @invariant()
    def priority_follows_the_matrix_unless_set(self) -> None:
        if not hasattr(self, "desks"):
            return
        desk = self.desks[0]
        config = desk.config
        for ticket in _all(desk.store):
            if not ticket.priority_explicit:
                want = config.priority_matrix(ticket.impact, ticket.urgency)
                assert ticket.priority is want, (ticket.id, ticket.priority, want)
            if ticket.status_category is StatusCategory.CLOSED:
                continue
            for metric, view in desk.sla(ticket.id).items():
                if view.state.value in ("running", "paused"):
                    target = config.sla_policy(view.policy).target(ticket.priority, metric)
                    assert view.target == target, (ticket.id, metric, view.target, target)

    @invariant()
    def after_walks_show_each_ticket_once(self) -> None:
        if not hasattr(self, "desks"):
            return
        everything = _all(self.desks[0].store)
        for order in ("number", "-number"):
            for desk in self.desks:
                walked = [t.id for t in _walk(desk.store, TicketQuery(order_by=order, limit=2))]
                want = [t.id for t in TicketQuery(order_by=order, limit=1).ordered(everything)]
                assert walked == want, (order, walked, want)
        for requester in REQUESTERS:
            own = [
                t.id for t in everything if t.requester == requester and not t.anonymised
            ]
            for desk in self.desks:
                seen = _walk_search(desk, f"requester:{requester}")
                assert seen == own, (requester, seen, own)

    @invariant()
    def sla_compliance_adds_up(self) -> None:
        if not hasattr(self, "desks"):
            return
        results = [
            build_report(desk.store.event_stream(), as_of=desk.clock.now()).sla
            for desk in self.desks
        ]
        assert results[0] == results[1]
        sla = results[0]
        for table in (sla.by_team, sla.by_tier):
            assert sum(r.met for r in table) == sla.overall.met
            assert sum(r.breached for r in table) == sla.overall.breached
            for row in sla.by_metric:
                mine = [r for r in table if r.metric == row.metric]
                assert sum(r.met for r in mine) == row.met
                assert sum(r.breached for r in mine) == row.breached


def _all(store: Store) -> list[Ticket]:
    return list(store.query(TicketQuery(order_by="number", limit=1000)).items)


def _walk(store: Store, query: TicketQuery) -> Iterator[Ticket]:
    while True:
        page = store.query(query)
        yield from page.items
        if page.next_after is None:
            return
        query = TicketQuery(order_by=query.order_by, limit=query.limit, after=page.next_after)


def _walk_search(desk: Helpdesk, who: str) -> list[str]:
    seen: list[str] = []
    after: str | None = None
    while True:
        page = desk.search(order_by="number", limit=2, after=after, as_=who)
        seen.extend(t.id for t in page.items)
        if page.next_after is None:
            return seen
        after = page.next_after


TestDeskRequests = DeskRequests.TestCase
TestDeskRequests.settings = settings(max_examples=75, stateful_step_count=30, deadline=None)


class DeskRequestsOnPostgres(DeskRequests):
    def other_store(self, tmp: Path) -> Store:
        from helpdesk_core.storage import PostgresStore

        return PostgresStore(DSN, schema=f"hd_requests_{os.getpid()}_{next(_schemas)}")


_schemas = itertools.count()
TestDeskRequestsOnPostgres = pytest.mark.postgres(
    pytest.mark.skipif(not DSN, reason="set HELPDESK_TEST_POSTGRES_DSN to run PostgreSQL")(
        DeskRequestsOnPostgres.TestCase
    )
)
TestDeskRequestsOnPostgres.settings = settings(
    max_examples=20, stateful_step_count=25, deadline=None
)
