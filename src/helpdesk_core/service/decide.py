"""Pure decisions of the desk: compose the domain packages into one change of one ticket.

A :class:`Change` starts from a ticket and accumulates the events a command causes: each
event is folded into the ticket at once, and the SLA engine reacts to it (clocks start,
pause, resume, stop, retarget). Automatic lifecycle moves and due escalations, SLA warnings,
breaches and auto-closes (``catch_up``) are applied here too, in instant order. Nothing
here reads a clock or touches storage; the :class:`~helpdesk_core.Helpdesk` does that.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from helpdesk_core.config import DeskConfig
from helpdesk_core.errors import InvalidTransition
from helpdesk_core.model import (
    Actor,
    Assigned,
    CommentAdded,
    DeEscalated,
    Escalated,
    Event,
    LevelRaised,
    OwnerChanged,
    PriorityChanged,
    QueuedForAssignment,
    Requester,
    SlaClockStopped,
    StatusCategory,
    StatusChanged,
    Ticket,
    TicketOpened,
    TicketRouted,
    TicketUpdated,
    apply_event,
)
from helpdesk_core.model.replay import fold_known_event
from helpdesk_core.routing.fields import Env, FieldKind, Getter, field_spec
from helpdesk_core.sla import (
    CANCELLED,
    BusinessCalendar,
    SlaEngine,
    SlaPolicy,
    select_policy,
)
from helpdesk_core.workflow import (
    DueTrigger,
    Lifecycle,
    apply_automatic,
    apply_transition,
    auto_close_due,
    due_escalations,
    fire,
    next_escalation_at,
)

__all__ = ["MAX_CATCH_UP_STEPS", "Assigner", "Change", "Decider"]

#: Upper bound on due items applied to one ticket in one catch-up (a safety net against
#: configurations that would otherwise loop, e.g. an escalation that re-triggers itself).
MAX_CATCH_UP_STEPS = 1_000


_UNKNOWN = object()
# Read on every command: module constants cost less than members read off their class.
_SOLVED = StatusCategory.SOLVED
_CLOSED = StatusCategory.CLOSED
#: Events after which the SLA engine may have something to do.
_SLA_RELEVANT = (
    TicketOpened,
    CommentAdded,
    StatusChanged,
    PriorityChanged,
    TicketRouted,
    TicketUpdated,
    Escalated,
    DeEscalated,
)
#: Events that change fields a policy condition may read.
_CHANGES_POLICY_INPUT = (
    TicketRouted,
    TicketUpdated,
    PriorityChanged,
    Escalated,
    DeEscalated,
    StatusChanged,
    LevelRaised,
    Assigned,
    QueuedForAssignment,
    OwnerChanged,
)
#: Of those, the ones the SLA engine has nothing to do with unless they change which
#: policy applies (an escalation level, an assignee or an owner a policy condition reads).
_POLICY_INPUT_ONLY = tuple(t for t in _CHANGES_POLICY_INPUT if t not in _SLA_RELEVANT)


def _off_policy(ticket: Ticket, policy: SlaPolicy | None) -> bool:
    """Whether a clock of the ticket that has not stopped runs under another policy than
    ``policy`` (a policy retired or no longer chosen since a reconfiguration: the
    ticket's own fields did not change which applies)."""
    name = None if policy is None else policy.name
    return any(c.stopped_at is None and c.policy != name for c in ticket.sla.values())


#: Called as ``assigner(change, at)`` to auto-assign the ticket of a change at ``at``.
Assigner = Callable[["Change", datetime], object]

_MAX_REMEMBERED_POLICIES = 4096


#: The values a ticket (and its requester) show the policies' conditions, as one hashable
#: key when they can be (see :func:`_policy_inputs`).
PolicyKey = Callable[[Ticket, "Requester | None"], tuple[Any, ...]]


def _policy_inputs(
    policies: Sequence[SlaPolicy], calendars: Mapping[str, BusinessCalendar]
) -> PolicyKey | None:
    """How to read every field the policies' conditions test (in a fixed order), or None
    when one is not known. Plain ticket attributes are read in one call; the time a
    condition reads (``business_hours.*``) is the ticket's opening, so the calendar's
    state then is a value like the others."""
    names = sorted({name for p in policies for name in p.condition.fields()})
    specs = []
    for name in names:
        spec = field_spec(name)
        if spec is None:
            return None
        specs.append(spec)
    attrs = [spec.attr for spec in specs if spec.attr]
    if len(attrs) == 1 == len(specs):
        read = operator.attrgetter(attrs[0])
        return lambda ticket, requester: (read(ticket),)
    if len(attrs) == len(specs) > 1:
        read = operator.attrgetter(*attrs)  # a tuple of the values
        return lambda ticket, requester: read(ticket)
    getters: list[Getter] = [
        _typed(spec.get) if spec.kind is FieldKind.ANY else spec.get for spec in specs
    ]

    def key(ticket: Ticket, requester: Requester | None) -> tuple[Any, ...]:
        env = Env(requester, ticket.created_at, calendars)
        return tuple([get(ticket, env) for get in getters])

    return key


def _typed(get: Getter) -> Getter:
    """``get`` for a field of any kind (a custom field, a requester attribute), reading
    ``true`` apart from ``1`` (and ``false`` from ``0``): Python's ``==``, and so a key
    of the remembered choices, takes them for equal, while a condition does not."""

    def typed(ticket: Ticket, env: Env) -> Any:
        value = get(ticket, env)
        return ("bool", value) if value.__class__ is bool else value

    return typed


class Decider:
    """The desk's configuration, ready for decisions (calendars, policies, lifecycles)."""

    def __init__(self, config: DeskConfig) -> None:
        self.config = config
        self.calendars: Mapping[str, BusinessCalendar] = config.calendars
        # A clock of a policy the configuration retired runs on and moves to the policy
        # that applies at its next change (not an error that stops its ticket).
        self.sla = SlaEngine(config.sla_policies, config.calendars, retired_policies="run_on")
        self.contacts: Mapping[str, Sequence[str]] = {t.id: t.contacts for t in config.teams}
        self._policy_inputs = _policy_inputs(config.sla_policies, config.calendars)
        #: Whether an SLA policy's or escalation trigger's condition reads the requester
        #: (``requester.*`` fields): only then does a change need the requester loaded.
        conditions = [policy.condition for policy in config.sla_policies] + [
            trigger.when
            for policy in config.escalation_policies
            for trigger in policy.triggers
            if trigger.when is not None
        ]
        self.reads_requester = any(
            name.startswith("requester.")
            for condition in conditions
            for name in condition.fields()
        )
        self._policies: dict[tuple[Any, ...], SlaPolicy | None] = {}
        self._named_policies = {policy.name: policy for policy in config.sla_policies}
        self._has_solved: dict[int, bool] = {}

    def lifecycle(self, ticket: Ticket) -> Lifecycle:
        """The lifecycle a ticket follows."""
        lifecycle = self.config.lifecycles.get(ticket.lifecycle)
        return lifecycle if lifecycle is not None else self.config.lifecycle_for(ticket.type)

    def has_solved_status(self, ticket: Ticket) -> bool:
        """Whether the lifecycle ``ticket`` follows has a status of the solved category
        (so a move into the closed category that skips it is no solve)."""
        lifecycle = self.lifecycle(ticket)  # one of the configuration's, which it holds
        found = self._has_solved.get(id(lifecycle))
        if found is None:
            found = any(s.category is StatusCategory.SOLVED for s in lifecycle.statuses)
            self._has_solved[id(lifecycle)] = found
        return found

    def policy_for(self, ticket: Ticket, *, requester: Requester | None) -> SlaPolicy | None:
        """The SLA policy that applies: the one a rule named, else the first that matches
        (also when the policy a rule named is one the configuration retired: its clocks
        move to the policy that applies now, as those of any retired policy do). A
        condition reads the time (``business_hours.*``) at the ticket's opening: the policy
        a ticket gets depends on when it arrived, not on when it last changed."""
        if ticket.sla_policy is not None:
            named = self._named_policies.get(ticket.sla_policy)
            if named is not None:
                return named
        # The values the policies' conditions read, which decide alone which policy
        # applies (no key: a value is not hashable).
        key = None
        key_of = self._policy_inputs
        if key_of is not None:
            try:
                key = key_of(ticket, requester)
                hash(key)
            except TypeError:
                key = None
        if key is not None:
            found = self._policies.get(key, _UNKNOWN)
            if found is not _UNKNOWN:
                return found  # type: ignore[return-value]
        policy = select_policy(
            self.config.sla_policies,
            ticket,
            requester=requester,
            now=ticket.created_at,
            calendars=self.calendars,
        )
        if key is not None:
            if len(self._policies) >= _MAX_REMEMBERED_POLICIES:
                self._policies.clear()
            self._policies[key] = policy
        return policy

    def wake_at(
        self, ticket: Ticket, requester: Requester | None = None, *, rearm: bool = False
    ) -> datetime | None:
        """The next instant this ticket needs a tick (SLA threshold, escalation, auto-close).
        ``requester`` feeds escalation conditions on ``requester.*`` fields (None, when
        they read any: the ticket's requester has no record, as when a trigger fires). With
        ``rearm``, an SLA clock armed for a warning otherwise than its policy's thresholds
        say now is due at once (for a ticket saved under an earlier configuration: one
        this desk caught up is armed as the policies say)."""
        best = self.sla.next_wakeup(ticket, rearm=True) if rearm else self.sla.next_wakeup(ticket)
        escalations = self.config.escalation_policies
        if escalations:
            at = next_escalation_at(
                ticket,
                escalations,
                calendars=self.calendars,
                requester=requester,
                requester_known=self.reads_requester,
            )
            if at is not None and (best is None or at < best):
                best = at
        if ticket.status_category is _SOLVED:  # only solved tickets auto-close
            at = self.closes_at(ticket)
            if at is not None and (best is None or at < best):
                best = at
        return best

    def closes_at(self, ticket: Ticket) -> datetime | None:
        """When the solved ticket closes by itself: None also when a guard of the
        automatic transition refuses it then (the ticket stays, as an automatic move
        refused is no error; a later change of the ticket asks again)."""
        lifecycle = self.lifecycle(ticket)
        at = auto_close_due(ticket, lifecycle, self.calendars)
        if at is None:
            return None
        transition = lifecycle.automatic_transition("solved_timeout", ticket.status)
        step = lifecycle.step(ticket.status, transition.name) if transition else None
        if step is None or not step.guards:
            return at
        _, events = apply_automatic(ticket, lifecycle, "solved_timeout", now=at)
        return at if events else None

    def begin(
        self,
        ticket: Ticket,
        *,
        now: datetime,
        requester: Requester | None = None,
        assigner: Assigner | None = None,
    ) -> Change:
        """Start a change of ``ticket`` decided at ``now``. ``assigner`` is called when an
        escalation leaves the ticket without an assignee in its new tier."""
        return Change(self, ticket, now=now, requester=requester, assigner=assigner)


class Change:
    """The events one command causes on one ticket, folded as they come."""

    def __init__(
        self,
        decider: Decider,
        ticket: Ticket,
        *,
        now: datetime,
        requester: Requester | None = None,
        assigner: Assigner | None = None,
    ) -> None:
        self.decider = decider
        self.assigner = assigner
        self.ticket = ticket
        #: The ticket as the change began.
        self.start = ticket
        self.start_version = ticket.version
        self.now = now
        self.requester = requester
        self.events: list[Event] = []
        #: Round-robin positions this change moved (cursor key -> value), saved with it.
        self.cursors: dict[str, int] = {}
        self._policy: object = _UNKNOWN

    # -- emitting ---------------------------------------------------------------------
    def record(self, event: Event) -> None:
        """Fold one event without any reaction."""
        self.ticket = apply_event(self.ticket, event)
        self.events.append(event)

    def emit(self, event: Event, *, sla: bool = True) -> None:
        """Fold ``event`` and the SLA events it causes."""
        if sla and isinstance(event, _POLICY_INPUT_ONLY):
            # The SLA engine reacts only if the event changes the policy: then the clocks
            # are retargeted (or start, or stop) at the event, not at the next change.
            before = self.policy()
            self.record(event)
            self._policy = _UNKNOWN
            after = self.policy()
            if (after is not before and after != before) or _off_policy(self.ticket, after):
                self.react_sla(event, folded=True)
            return
        self.record(event)
        self._folded(event, sla=sla)

    def _folded(self, event: Event, *, sla: bool = True) -> None:
        """React to ``event``, already folded into :attr:`ticket` and recorded."""
        if isinstance(event, _CHANGES_POLICY_INPUT):
            self._policy = _UNKNOWN
        if sla and isinstance(event, _SLA_RELEVANT):
            self.react_sla(event, folded=True)

    def policy(self) -> SlaPolicy | None:
        """The SLA policy of the ticket as it stands (cached until a field changes)."""
        if self._policy is _UNKNOWN:
            self._policy = self.decider.policy_for(self.ticket, requester=self.requester)
        return self._policy  # type: ignore[return-value]

    def react_sla(self, event: Event, *, folded: bool = False) -> None:
        """Let the SLA engine react to an event already folded. A clock a move into the
        closed category stops, on a ticket whose lifecycle has a solved status (so the
        move skipped it: a cancellation), stops with the reason ``CANCELLED``: it
        neither met nor missed its target. ``folded`` says that ``event`` is one this
        change recorded (so it is folded into :attr:`ticket`): the engine then does not
        check it again, nor the policy the decider chose."""
        policy = self.policy()
        cancelled = (
            isinstance(event, StatusChanged)
            and event.category is _CLOSED
            and self.decider.has_solved_status(self.ticket)
        )
        sla = self.decider.sla
        react = sla.react_folded if folded else sla.react
        for sla_event in react(self.ticket, event, policy=policy):
            if cancelled and isinstance(sla_event, SlaClockStopped) and not sla_event.reason:
                sla_event = attrs.evolve(sla_event, reason=CANCELLED)
            # The engine's events are of this ticket and follow it: folded unchecked.
            self.ticket = fold_known_event(self.ticket, sla_event)
            self.events.append(sla_event)

    def extend(self, events: Sequence[Event]) -> None:
        """Emit several events in order."""
        for event in events:
            self.emit(event)

    def entered(self, category: StatusCategory) -> bool:
        """True when the change moved the ticket into ``category`` from another one (a
        move between two statuses of one category enters nothing)."""
        return (
            self.start.status_category is not category
            and self.ticket.status_category is category
        )

    # -- lifecycle --------------------------------------------------------------------
    def transition(
        self,
        name: str,
        *,
        by: Actor,
        at: datetime | None = None,
        reason: str | None = None,
        resolution: str | None = None,
        first_contact: bool = False,
        automatic: bool = False,
    ) -> None:
        """Apply a lifecycle transition (name or target status); InvalidTransition if refused."""
        ticket, (event,) = apply_transition(
            self.ticket,
            self.decider.lifecycle(self.ticket),
            name,
            by=by,
            now=at or self.now,
            reason=reason,
            resolution=resolution,
            first_contact=first_contact,
            automatic=automatic,
        )
        # the ticket comes back with its one event folded: react without folding again
        self.ticket = ticket
        self.events.append(event)
        self._folded(event)

    def auto_move(self, trigger: str, *, by: Actor, at: datetime | None = None) -> bool:
        """Apply the lifecycle's automatic transition for ``trigger`` if there is one."""
        lifecycle = self.decider.lifecycle(self.ticket)
        transition = lifecycle.automatic_transition(trigger, self.ticket.status)
        if transition is None:
            return False
        try:
            self.transition(transition.name, by=by, at=at, automatic=True)
        except InvalidTransition:  # refused by a guard: the ticket stays, no error
            return False
        return True

    # -- due work -----------------------------------------------------------------------
    def catch_up(self, until: datetime) -> None:
        """Apply everything due up to ``until`` in instant order: SLA warnings and breaches
        (stamped with their exact instants), escalation triggers, auto-close."""
        decider = self.decider
        for _ in range(MAX_CATCH_UP_STEPS):
            ticket = self.ticket
            best: datetime | None = None
            action: str | None = None
            sla_due = decider.sla.due_events(ticket, now=until)
            if sla_due:
                best, action = sla_due[0].at, "sla"
            first = self._next_escalation(until)
            if first is not None and (best is None or first.at < best):
                best, action = first.at, "escalation"
            close_at = decider.closes_at(ticket)
            if close_at is not None and close_at <= until and (best is None or close_at < best):
                best, action = close_at, "close"
            if action is None:
                return
            if action == "sla":
                self.record(sla_due[0])
            elif action == "escalation":
                assert first is not None
                self._fire(first)
            else:
                assert best is not None
                # A history only grows: a close found only after later events (the
                # timeout shortened by a reconfigure) is stamped at the latest event.
                at = max(best, ticket.updated_at)
                self.auto_move("solved_timeout", by=Actor.system("lifecycle"), at=at)
                if self.ticket is ticket:
                    return
        raise RuntimeError(
            f"ticket {self.ticket.id}: more than {MAX_CATCH_UP_STEPS} due items at once"
        )

    def fire_escalations(self) -> None:
        """Fire the escalation triggers the change's own events made true (a priority
        raised, a ticket reopened, a breach at a retarget), at the change's instant: the
        ticket's wake-up time schedules only what becomes due later."""
        config = self.decider.config
        if not config.escalation_policies or not self.events:
            return
        for _ in range(MAX_CATCH_UP_STEPS):
            first = self._next_escalation(self.now)
            if first is None:
                return
            self._fire(first)
        raise RuntimeError(
            f"ticket {self.ticket.id}: more than {MAX_CATCH_UP_STEPS} escalations at once"
        )

    def _next_escalation(self, until: datetime) -> DueTrigger | None:
        """The earliest trigger due by ``until``. A history only grows: one found only
        after later events (a policy added for tickets already past it) fires at the
        latest event, not before it."""
        policies = self.decider.config.escalation_policies
        if not policies:
            return None
        if not self.start.is_active and not self.ticket.is_active:
            # Solved or closed before this change: the change that ended it fired every
            # trigger true while it was active. One due now is new (a policy added by a
            # reconfiguration, or a requester made a VIP since) and was not true then:
            # firing it here would skip its actions and spend it. A reopen weighs it.
            return None
        due = due_escalations(
            self.ticket,
            policies,
            now=until,
            calendars=self.decider.calendars,
            requester=self.requester,
        )
        if not due:
            return None
        first, latest = due[0], self.ticket.updated_at
        return attrs.evolve(first, at=latest) if first.at < latest else first

    def _fire(self, due: DueTrigger) -> None:
        config = self.decider.config
        policy = next(p for p in config.escalation_policies if p.name == due.policy)
        tier_before = self.ticket.tier
        _, events = fire(
            self.ticket,
            due,
            policy,
            ladder=config.ladder,
            contacts=self.decider.contacts,
            now=self.now,
        )
        self.extend(events)
        moved = self.ticket.tier != tier_before and self.ticket.assignee is None
        if moved and self.assigner is not None:
            self.assigner(self, due.at)
