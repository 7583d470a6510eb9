"""Escalation policies: triggers (SLA warning, SLA breach, time in tier, reopens, priority)
and their actions (escalate tier, raise level, set priority, notify), evaluated purely.

:func:`due_escalations` lists the triggers that became true at or before ``now`` and have
not fired yet, each with the instant it became true and its once-only ``key``:

=================  ==========================================  =============================
trigger            instant                                     key
=================  ==========================================  =============================
``sla_warning``    the clock's ``warned_at``                   ``policy/trigger/metric/cycle``
``sla_breach``     the clock's ``breached_at``                 ``policy/trigger/metric/cycle``
``time_in_tier``   ``tier_since + after`` of active time       ``policy/trigger/tier/<tier>/
                   (business time on ``calendar`` when given)  <tier_since>``
``reopens``        ``reopened_at`` once ``reopen_count >=      ``policy/trigger/reopens/
                   count``                                     <count>``
``priority``       the ticket's ``updated_at``                 ``policy/trigger/priority/
                                                               <priority>``
=================  ==========================================  =============================

So an SLA trigger fires once per clock cycle, a time-in-tier trigger once per stay in a
tier, the others once per ticket. Time in tier counts from ``tier_since`` (``created_at``
for a ticket that never had a tier) and only while the ticket is active: the spans it
spent solved before a reopen (``tier_inactive``) are left out. A trigger's ``when``
condition is evaluated on the ticket as it is when evaluated.

:func:`fire` records :class:`~helpdesk_core.model.EscalationTriggered` and the actions'
events, all stamped with the due instant and caused by ``Actor.system("escalation")``.
:func:`run_escalations` fires everything due, earliest first. Run it before applying a
command at ``now`` and on every tick: how often it runs does not change the outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from attrs import field, frozen

from helpdesk_core._time import ensure_aware
from helpdesk_core.errors import ConfigError, InvalidTransition, ValidationError
from helpdesk_core.model import (
    Actor,
    EscalationNotified,
    EscalationTriggered,
    Event,
    PriorityChanged,
    Requester,
    Ticket,
    apply_event,
)
from helpdesk_core.model import _validate as v
from helpdesk_core.workflow._calendar import WorkCalendar, calendar_named, check_calendars
from helpdesk_core.workflow._policy import (
    Action,
    EscalateTier,
    EscalationPolicy,
    Notify,
    RaiseLevel,
    SetPriority,
    Trigger,
    TriggerKind,
    action_from_dict,
)
from helpdesk_core.workflow.tiers import TierLadder, escalate, raise_level

__all__ = [
    "ESCALATION_ACTOR",
    "Action",
    "Contacts",
    "DueTrigger",
    "EscalateTier",
    "EscalationPolicy",
    "Notify",
    "RaiseLevel",
    "SetPriority",
    "Trigger",
    "TriggerKind",
    "action_from_dict",
    "due_escalations",
    "fire",
    "next_escalation_at",
    "run_escalations",
]

#: Who escalation policies act as.
ESCALATION_ACTOR = Actor.system("escalation")

#: Escalation contacts: one list for the ticket's team, or a mapping team id -> list
#: (looked up by the ticket's team when each action runs).
Contacts = Sequence[str] | Mapping[str, Sequence[str]]

_NOTIFY_ALIASES = {"team_lead": 0, "manager": 1}
_MAX_FIRES = 10_000


@frozen(kw_only=True)
class DueTrigger:
    """A trigger that became true at ``at`` and has not fired (``key`` is its once-only
    identity, recorded in ``Ticket.fired_triggers`` when it fires)."""

    at: datetime = field(validator=v.aware)
    policy: str = field(validator=v.text)
    trigger: str = field(validator=v.text)
    key: str = field(validator=v.text)


def _check_names(policies: Sequence[EscalationPolicy]) -> None:
    if isinstance(policies, str | bytes | Mapping) or not isinstance(policies, Iterable):
        raise ValidationError(
            f"policies is a list of EscalationPolicy, got {type(policies).__name__}",
            field="policies",
        )
    seen: set[str] = set()
    for i, policy in enumerate(policies):
        if not isinstance(policy, EscalationPolicy):
            raise ValidationError(
                f"expected an EscalationPolicy, got {type(policy).__name__}",
                field=f"policies[{i}]",
            )
        if policy.name in seen:
            raise ConfigError(f"two escalation policies named {policy.name!r}", path="policies")
        seen.add(policy.name)


def _tier_instant(
    ticket: Ticket,
    policy: EscalationPolicy,
    trigger: Trigger,
    calendars: Mapping[str, WorkCalendar] | None,
) -> tuple[datetime, str] | None:
    after = trigger.after
    if after is None:
        return None
    since = ticket.tier_since or ticket.created_at
    calendar = None
    if trigger.calendar is not None:
        path = f"policies.{policy.name}.triggers.{trigger.name}.calendar"
        calendar = calendar_named(calendars, trigger.calendar, path=path)
    at = _active_time_reached(since, after, ticket.tier_inactive, calendar)
    if at is None:  # after the year 9999: never, as far as a desk can tell
        return None
    if not ticket.is_active:
        ended = ticket.solved_at or ticket.closed_at
        if ended is None or at > ended:
            return None
    key = f"{policy.name}/{trigger.name}/tier/{ticket.tier or '-'}/{since.isoformat()}"
    return at, key


def _active_time_reached(
    since: datetime,
    after: timedelta,
    inactive: Sequence[tuple[datetime, datetime]],
    calendar: WorkCalendar | None,
) -> datetime | None:
    """The instant ``after`` of time (open time of ``calendar`` when given) has passed
    since ``since``, leaving out the ``inactive`` spans (in order, after ``since``), in UTC:
    instants are compared and sorted with one another, and two in one zone compare by
    wall clock, which puts the repeated hour of a fall-back night out of order. None when
    that instant (of plain time) falls after the year 9999."""
    start, remaining = since.astimezone(UTC), after
    for begin, end in inactive:
        at = _plus(start, remaining) if calendar is None else calendar.add(start, remaining)
        if at is None:
            return None
        at = at.astimezone(UTC)
        if at <= begin:
            return at
        used = begin - start if calendar is None else calendar.elapsed(start, begin)
        remaining -= used
        start = max(start, end.astimezone(UTC))
    at = _plus(start, remaining) if calendar is None else calendar.add(start, remaining)
    return None if at is None else at.astimezone(UTC)


def _plus(start: datetime, duration: timedelta) -> datetime | None:
    """``start + duration``, or None past the last instant a datetime holds."""
    try:
        return start + duration
    except OverflowError:
        return None


def _instant(
    ticket: Ticket,
    policy: EscalationPolicy,
    trigger: Trigger,
    calendars: Mapping[str, WorkCalendar] | None,
) -> tuple[datetime, str] | None:
    """When ``trigger`` became true for ``ticket`` and its key; None if it is not true."""
    prefix = f"{policy.name}/{trigger.name}"
    on = trigger.on
    if on is TriggerKind.SLA_WARNING or on is TriggerKind.SLA_BREACH:
        metric = trigger.metric
        clock = None if metric is None else ticket.sla.get(metric.value)
        if metric is None or clock is None:
            return None
        at = clock.warned_at if on is TriggerKind.SLA_WARNING else clock.breached_at
        return None if at is None else (at, f"{prefix}/{metric.value}/{clock.cycle}")
    if on is TriggerKind.TIME_IN_TIER:
        return _tier_instant(ticket, policy, trigger, calendars)
    if on is TriggerKind.REOPENS:
        count = trigger.count or 1
        if ticket.reopen_count < count or ticket.reopened_at is None:
            return None
        return ticket.reopened_at, f"{prefix}/reopens/{count}"
    if ticket.priority not in trigger.priorities:
        return None
    return ticket.updated_at, f"{prefix}/priority/{ticket.priority.value}"


def due_escalations(
    ticket: Ticket,
    policies: Sequence[EscalationPolicy],
    *,
    now: datetime,
    calendars: Mapping[str, WorkCalendar] | None = None,
    requester: Requester | None = None,
) -> list[DueTrigger]:
    """Triggers of ``policies`` that became true at or before ``now`` and whose key is not
    in ``ticket.fired_triggers``, earliest first (ties: policy order, then trigger order).
    ``calendars`` serve business-time triggers and ``business_hours`` conditions;
    ``requester`` feeds ``requester.*`` fields of conditions."""
    v.require(ticket, Ticket, "a Ticket", field="ticket")
    now = ensure_aware(now, field="now")
    _check_names(policies)
    check_calendars(calendars)
    found: list[tuple[datetime, int, DueTrigger]] = []
    ended = None if ticket.is_active else ticket.solved_at or ticket.closed_at
    order = 0
    for policy in policies:
        for trigger in policy.triggers:
            order += 1
            hit = _instant(ticket, policy, trigger, calendars)
            if hit is None:
                continue
            at, key = hit
            if at > now or key in ticket.fired_triggers:
                continue
            when = trigger.when
            if ended is not None and (
                at > ended or (when is not None and ticket.updated_at > ended)
            ):
                # Solved or closed: only a trigger that became true while the ticket was
                # active is due (a priority set since, or a condition read on fields
                # changed since, says nothing of it then). A reopen weighs it again.
                continue
            if when is not None and when.calendar_names():
                # True at some instants only: the trigger fires at the first one from its
                # own instant on (ticking at any other moment gives the same history),
                # while the ticket is active.
                holds = _when_holds(ticket, trigger, at, calendars, requester, guess=False)
                if holds is None or holds > now or (ended is not None and holds > ended):
                    continue
                at = holds
            elif when is not None and not when.matches(
                ticket, requester=requester, now=now, calendars=calendars
            ):
                continue
            due = DueTrigger(at=at, policy=policy.name, trigger=trigger.name, key=key)
            found.append((at, order, due))
    found.sort(key=lambda item: (item[0], item[1]))
    return [due for _, _, due in found]


def next_escalation_at(
    ticket: Ticket,
    policies: Sequence[EscalationPolicy],
    calendars: Mapping[str, WorkCalendar] | None = None,
    *,
    requester: Requester | None = None,
    requester_known: bool = False,
) -> datetime | None:
    """The earliest instant a time-in-tier trigger that has not fired becomes true (it may
    already have passed: then it is due now), for scheduling the next evaluation; None if
    no such trigger applies. SLA triggers follow the SLA clocks' own warning and breach
    instants, unless their condition reads business hours: then they are scheduled like
    a time-in-tier trigger, at the first instant from theirs on at which it holds.

    A trigger's ``when`` condition is evaluated as the ticket stands (from its last
    update on): one that is false then, and reads no business hours, can only become true
    by a change of the ticket, which schedules again, so it is left out; one that reads
    business hours is due at the first opening or closing of its calendars at which it
    holds (searched over the next :data:`MAX_CONDITION_STEPS` of them). A condition on
    ``requester.*`` fields is evaluated only with the ``requester`` given (without it, the
    trigger's own instant is returned), or with ``requester_known``: then a ``requester``
    of None is one without a record (erased, say), whose fields are missing, as they are
    when the trigger fires."""
    v.require(ticket, Ticket, "a Ticket", field="ticket")
    v.require(requester_known, bool, "True or False", field="requester_known")
    _check_names(policies)
    check_calendars(calendars)
    best: datetime | None = None
    if not ticket.is_active:
        return None
    for policy in policies:
        for trigger in policy.triggers:
            if trigger.on is not TriggerKind.TIME_IN_TIER and not (
                # an SLA, reopen or priority trigger whose condition holds only in (or out
                # of) business hours is due at the first instant it holds
                trigger.when is not None and trigger.when.calendar_names()
            ):
                continue
            hit = _instant(ticket, policy, trigger, calendars)
            if hit is None or hit[1] in ticket.fired_triggers:
                continue
            at = _when_holds(
                ticket, trigger, hit[0], calendars, requester,
                guess=True, requester_known=requester_known,
            )
            if at is not None and (best is None or at < best):
                best = at
    return best


#: How many openings and closings of its calendars :func:`next_escalation_at` looks at
#: for the first instant a business-hours condition holds.
MAX_CONDITION_STEPS = 64


def _when_holds(
    ticket: Ticket,
    trigger: Trigger,
    at: datetime,
    calendars: Mapping[str, WorkCalendar] | None,
    requester: Requester | None,
    *,
    guess: bool,
    requester_known: bool = False,
) -> datetime | None:
    """``at`` if the trigger's condition holds there, else the first later instant it
    holds without a change of the ticket; None if there is none. With ``guess`` (to
    schedule), a condition that cannot be told without the requester or the calendars is
    taken to hold at ``at``; without it (to fire), it is evaluated as given: a missing
    requester's fields are missing, and a calendar not given is a ValidationError. With
    ``requester_known``, a missing requester is not guessed at when scheduling either."""
    when = trigger.when
    if when is None:
        return at
    names = when.calendar_names()
    if (
        guess
        and requester is None
        and not requester_known
        and any(f.startswith("requester.") for f in when.fields())
    ):
        return at  # the desk evaluates it when the trigger is due
    if guess and names and calendars is None:
        return at
    watched = [calendars[name] for name in sorted(names) if calendars and name in calendars]
    instant = max(at, ticket.updated_at)
    for step in range(MAX_CONDITION_STEPS):
        if when.matches(ticket, requester=requester, now=instant, calendars=calendars):
            return at if step == 0 else instant
        later = [t for c in watched if (t := _next_change(c, instant)) is not None]
        if not later:
            return None
        instant = min(later)
    return None


def _next_change(calendar: WorkCalendar, at: datetime) -> datetime | None:
    """The next instant after ``at`` at which ``calendar`` opens or closes (None: never,
    or the calendar cannot say)."""
    try:
        if calendar.is_open(at):
            close = getattr(calendar, "next_close", None)
            found = close(at) if close is not None else None
        else:
            found = calendar.next_open(at)
    except ValidationError:
        return None
    return found if isinstance(found, datetime) and found > at else None


def _team_contacts(contacts: Contacts, team: str | None) -> Sequence[str]:
    if isinstance(contacts, str):
        raise ValidationError("contacts is a list of ids, not one string", field="contacts")
    if isinstance(contacts, Mapping):
        found = contacts.get(team) if team is not None else None
        if isinstance(found, str):
            raise ValidationError(
                f"the contacts of team {team!r} are a list of ids, not one string",
                field=f"contacts.{team}",
            )
        return () if found is None else found
    return contacts


def _act(
    ticket: Ticket,
    action: Action,
    *,
    policy: str,
    reason: str,
    at: datetime,
    ladder: TierLadder,
    contacts: Contacts,
) -> tuple[Ticket, list[Event]]:
    if isinstance(action, EscalateTier):
        return escalate(
            ticket,
            ladder,
            by=ESCALATION_ACTOR,
            now=at,
            reason=reason,
            to_tier=action.to_tier,
            allow_skip=action.allow_skip,
            policy=policy,
        )
    team_contacts = _team_contacts(contacts, ticket.team)
    if isinstance(action, RaiseLevel):
        return raise_level(
            ticket, contacts=team_contacts, by=ESCALATION_ACTOR, now=at, reason=reason,
            policy=policy,
        )
    event: Event
    if isinstance(action, SetPriority):
        if action.priority is ticket.priority:
            return ticket, []
        event = PriorityChanged(
            ticket_id=ticket.id,
            at=at,
            by=ESCALATION_ACTOR,
            priority=action.priority,
            previous=ticket.priority,
            reason=reason,
        )
        return apply_event(ticket, event), [event]
    assert isinstance(action, Notify)
    contact: str | None = action.contact
    if action.contact in _NOTIFY_ALIASES:
        index = _NOTIFY_ALIASES[action.contact]
        contact = team_contacts[index] if index < len(team_contacts) else None
    if contact is None:
        return ticket, []
    event = EscalationNotified(
        ticket_id=ticket.id, at=at, by=ESCALATION_ACTOR, contact=contact, reason=reason,
        policy=policy,
    )
    return apply_event(ticket, event), [event]


def fire(
    ticket: Ticket,
    due: DueTrigger,
    policy: EscalationPolicy,
    *,
    ladder: TierLadder,
    contacts: Contacts,
    now: datetime,
) -> tuple[Ticket, list[Event]]:
    """Record ``due`` (:class:`~helpdesk_core.model.EscalationTriggered`) and run its
    trigger's actions, every event stamped ``due.at``. An action that cannot apply (top
    tier reached, ticket solved, no contact for the level) is skipped; the trigger still
    counts as fired. A trigger that already fired returns the ticket unchanged.

    ``contacts`` are the escalation contacts of the ticket's team (``team_lead`` is the
    first, ``manager`` the second), or a mapping of team id to contacts."""
    now = ensure_aware(now, field="now")
    _check_fire_inputs(ticket, due, policy, ladder, contacts)
    if due.at > now:
        raise ValidationError(f"trigger {due.key!r} is due at {due.at.isoformat()}, not yet")
    if due.policy != policy.name:
        raise ValidationError(
            f"trigger {due.key!r} belongs to policy {due.policy!r}, not {policy.name!r}",
            field="policy",
        )
    trigger = policy.trigger(due.trigger)
    if due.key in ticket.fired_triggers:
        return ticket, []
    marker = EscalationTriggered(
        ticket_id=ticket.id,
        at=due.at,
        by=ESCALATION_ACTOR,
        policy=policy.name,
        trigger=trigger.name,
        key=due.key,
    )
    current = apply_event(ticket, marker)
    events: list[Event] = [marker]
    reason = f"escalation policy {policy.name!r}, trigger {trigger.name!r}"
    for i, action in enumerate(trigger.actions):
        if not current.is_active:
            break
        try:
            current, produced = _act(
                current, action, policy=policy.name, reason=reason, at=due.at, ladder=ladder,
                contacts=contacts,
            )
        except InvalidTransition:
            continue
        except ValidationError as exc:
            raise ConfigError(
                f"policy {policy.name!r}, trigger {trigger.name!r}: {exc.message}",
                path=f"policies.{policy.name}.triggers.{trigger.name}.actions[{i}]",
            ) from exc
        events.extend(produced)
    return current, events


def _check_fire_inputs(
    ticket: object, due: object, policy: object, ladder: object, contacts: object
) -> None:
    for value, cls, name in (
        (ticket, Ticket, "ticket"),
        (due, DueTrigger, "due"),
        (policy, EscalationPolicy, "policy"),
        (ladder, TierLadder, "ladder"),
    ):
        if not isinstance(value, cls):
            raise ValidationError(
                f"expected {v.a_name(cls.__name__)}, got {type(value).__name__}", field=name
            )
    _check_contacts(contacts)


def _check_contacts(contacts: object) -> None:
    """Contacts are a list of ids, or a mapping of team ids to such lists."""
    lists = contacts.values() if isinstance(contacts, Mapping) else (contacts,)
    for ids in lists:
        if isinstance(ids, str | bytes | Mapping) or not isinstance(ids, Sequence):
            raise ValidationError(
                "contacts is a list of ids, or a mapping of team ids to such lists, got "
                f"{type(ids).__name__}",
                field="contacts",
            )
        for item in ids:
            if not isinstance(item, str):
                raise ValidationError(
                    f"a contact is an id, got {type(item).__name__}", field="contacts"
                )


def run_escalations(
    ticket: Ticket,
    policies: Sequence[EscalationPolicy],
    *,
    ladder: TierLadder,
    contacts: Contacts,
    now: datetime,
    calendars: Mapping[str, WorkCalendar] | None = None,
    requester: Requester | None = None,
) -> tuple[Ticket, list[Event]]:
    """Fire every trigger due at ``now``, earliest first, re-evaluating after each (an
    escalation starts a new stay in a tier). Returns the ticket and all the events."""
    _check_names(policies)
    _check_contacts(contacts)
    by_name = {p.name: p for p in policies}
    events: list[Event] = []
    for _ in range(_MAX_FIRES):
        due = due_escalations(
            ticket, policies, now=now, calendars=calendars, requester=requester
        )
        if not due:
            return ticket, events
        ticket, produced = fire(
            ticket, due[0], by_name[due[0].policy], ladder=ladder, contacts=contacts, now=now
        )
        events.extend(produced)
    raise ConfigError(
        f"escalation policies fired more than {_MAX_FIRES} times on ticket {ticket.id} "
        "at once",
        path="policies",
    )
