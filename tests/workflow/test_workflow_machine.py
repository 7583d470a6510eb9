"""Random command sequences over a ticket: transitions (by name and by target), replies,
escalation up and down, raised levels, priority changes, and escalation policies and
auto-close firing as time advances. After every step the invariants of the workflow hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from helpdesk_core.codec import ticket_to_dict
from helpdesk_core.errors import InvalidTransition, ValidationError
from helpdesk_core.model import (
    Actor,
    Assigned,
    CommentAdded,
    Event,
    PriorityChanged,
    StatusCategory,
    Ticket,
    TicketOpened,
    Tier,
    replay,
)
from helpdesk_core.workflow import (
    EscalateTier,
    EscalationPolicy,
    Lifecycle,
    Notify,
    RaiseLevel,
    SetPriority,
    TierLadder,
    Trigger,
    apply_automatic,
    apply_transition,
    auto_close,
    de_escalate,
    escalate,
    raise_level,
    run_escalations,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LC = Lifecycle.default()
LADDER = TierLadder(
    [
        Tier(id="L1", teams=("desk",)),
        Tier(id="L2", teams=("network", "apps")),
        Tier(id="L3", teams=("eng",)),
    ]
)
CONTACTS = {"desk": ["desk-lead", "desk-boss"], "network": ["net-lead"], "apps": []}
POLICIES = [
    EscalationPolicy(
        name="standard",
        triggers=(
            Trigger(
                name="stuck",
                on="time_in_tier",
                after=timedelta(hours=6),
                actions=(EscalateTier(), RaiseLevel()),
            ),
            Trigger(name="bounced", on="reopens", count=1, actions=(Notify(contact="team_lead"),)),
            Trigger(
                name="p1",
                on="priority",
                priorities=("critical",),
                actions=(EscalateTier(to_tier="L3", allow_skip=True), Notify(contact="manager")),
            ),
            Trigger(
                name="p4",
                on="priority",
                priorities=("low",),
                actions=(SetPriority(priority="medium"),),
            ),
        ),
    )
]
AGENT = Actor.agent("ann")
REQUESTER = Actor.requester("r-1")
# Every transition name and status name, unknown names, and more solves and reopens (so
# that sequences reach the solved and closed statuses often, not only cancellation).
NAMES = [
    *sorted({t.name for t in LC.transitions} | set(LC.status_names)),
    "escalate",
    "archive",
    *["solve", "solved", "reopen", "open", "resume"] * 3,
]
TEXT = st.none() | st.sampled_from(["", "  "]) | st.sampled_from(["done", "waiting on vendor"])
MINUTES = st.integers(min_value=0, max_value=3 * 24 * 60)


class WorkflowMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.events: list[Event] = [
            TicketOpened(
                ticket_id="T-1",
                at=T0,
                by=REQUESTER,
                number=1,
                requester="r-1",
                subject="Laptop will not boot",
            ),
            Assigned(ticket_id="T-1", at=T0, by=AGENT, assignee="ann", take_ownership=True),
        ]
        self.ticket: Ticket = replay(self.events)
        self.closed_status: str | None = None
        self.refusals = 0

    def _later(self, minutes: int) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now

    def _record(self, ticket: Ticket, events: list[Event]) -> None:
        self.ticket = ticket
        self.events.extend(events)
        if self.closed_status is None and ticket.status_category is StatusCategory.CLOSED:
            self.closed_status = ticket.status

    def _refused(self, before: Ticket, snapshot: dict[str, object]) -> None:
        assert self.ticket is before
        assert ticket_to_dict(self.ticket) == snapshot
        self.refusals += 1

    @rule(
        name=st.sampled_from(NAMES),
        minutes=MINUTES,
        reason=TEXT,
        resolution=TEXT,
        first_contact=st.booleans(),
        by_requester=st.booleans(),
    )
    def transition(
        self,
        name: str,
        minutes: int,
        reason: str | None,
        resolution: str | None,
        first_contact: bool,
        by_requester: bool,
    ) -> None:
        before, snapshot = self.ticket, ticket_to_dict(self.ticket)
        try:
            ticket, events = apply_transition(
                self.ticket,
                LC,
                name,
                by=REQUESTER if by_requester else AGENT,
                now=self._later(minutes),
                reason=reason,
                resolution=resolution,
                first_contact=first_contact,
            )
        except InvalidTransition as exc:
            refusal = (exc.ticket_id, exc.status, exc.transition)
            self._refused(before, snapshot)
            event("transition refused")
            assert refusal == ("T-1", before.status, name)
            return
        assert len(events) == 1
        event(f"transition to {ticket.status}")
        self._record(ticket, events)

    @rule(minutes=MINUTES, public=st.booleans(), by_agent=st.booleans())
    def reply(self, minutes: int, public: bool, by_agent: bool) -> None:
        if not self.ticket.is_active:
            return
        at = self._later(minutes)
        author = AGENT if by_agent else REQUESTER
        comment = CommentAdded(
            ticket_id="T-1",
            at=at,
            by=author,
            comment_id=f"c{len(self.events)}",
            body="…",
            public=public,
        )
        self._record(replay([*self.events, comment]), [comment])
        if public:
            trigger = "agent_public_reply" if by_agent else "requester_public_reply"
            self._record(*apply_automatic(self.ticket, LC, trigger, now=at))

    @rule(
        minutes=MINUTES,
        to_tier=st.none() | st.sampled_from(["L1", "L2", "L3", "L9"]),
        allow_skip=st.booleans(),
        up=st.booleans(),
    )
    def move_tier(self, minutes: int, to_tier: str | None, allow_skip: bool, up: bool) -> None:
        before, snapshot = self.ticket, ticket_to_dict(self.ticket)
        move = escalate if up else de_escalate
        try:
            ticket, events = move(
                self.ticket,
                LADDER,
                by=AGENT,
                now=self._later(minutes),
                reason="specialist",
                to_tier=to_tier,
                allow_skip=allow_skip,
            )
        except (InvalidTransition, ValidationError):
            self._refused(before, snapshot)
            event("tier move refused")
            return
        event("tier moved")
        assert ticket.owner == before.owner
        assert ticket.assignee is None
        assert ticket.tier == events[0].to_tier  # type: ignore[attr-defined]
        self._record(ticket, events)

    @rule(minutes=MINUTES)
    def raise_the_level(self, minutes: int) -> None:
        before, snapshot = self.ticket, ticket_to_dict(self.ticket)
        try:
            ticket, events = raise_level(
                self.ticket,
                contacts=CONTACTS.get(self.ticket.team or "desk", []),
                by=AGENT,
                now=self._later(minutes),
                reason="no progress",
            )
        except InvalidTransition:
            self._refused(before, snapshot)
            return
        assert ticket.escalation_level == before.escalation_level + 1
        assert (ticket.tier, ticket.team, ticket.status) == (
            before.tier,
            before.team,
            before.status,
        )
        self._record(ticket, events)

    @rule(minutes=MINUTES, priority=st.sampled_from(["critical", "high", "medium", "low"]))
    def change_priority(self, minutes: int, priority: str) -> None:
        if priority == self.ticket.priority.value:
            return
        change = PriorityChanged(
            ticket_id="T-1",
            at=self._later(minutes),
            by=AGENT,
            priority=priority,
            previous=self.ticket.priority,
        )
        self._record(replay([*self.events, change]), [change])

    @rule(minutes=st.integers(min_value=0, max_value=5 * 24 * 60))
    def tick(self, minutes: int) -> None:
        now = self._later(minutes)
        fired_before = set(self.ticket.fired_triggers)
        ticket, events = run_escalations(
            self.ticket, POLICIES, ladder=LADDER, contacts=CONTACTS, now=now
        )
        for produced in events:
            assert produced.at <= now
            assert produced.by == Actor.system("escalation")
        event(f"tick fired {min(len(events), 3)}+ events")
        assert fired_before <= set(ticket.fired_triggers)
        assert ticket.owner == self.ticket.owner
        self._record(ticket, events)
        self._record(*auto_close(self.ticket, LC, now=now))

    @invariant()
    def status_belongs_to_the_lifecycle(self) -> None:
        assert LC.has_status(self.ticket.status)
        assert self.ticket.status_category is LC.category(self.ticket.status)

    @invariant()
    def closed_is_terminal(self) -> None:
        if self.closed_status is not None:
            assert self.ticket.status == self.closed_status

    @invariant()
    def escalation_never_changes_the_owner(self) -> None:
        assert self.ticket.owner == "ann"

    @invariant()
    def tier_stays_on_the_ladder(self) -> None:
        assert self.ticket.tier is None or self.ticket.tier in LADDER

    @invariant()
    def replay_rebuilds_the_ticket(self) -> None:
        assert replay(self.events) == self.ticket
        assert self.ticket.version == len(self.events)

    @invariant()
    def every_event_names_who_caused_it(self) -> None:
        assert all(isinstance(e.by, Actor) and e.ticket_id == "T-1" for e in self.events)

    @invariant()
    def each_trigger_fired_at_most_once(self) -> None:
        keys = self.ticket.fired_triggers
        assert len(keys) == len(set(keys))


WorkflowMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=40)
TestWorkflowMachine = WorkflowMachine.TestCase
