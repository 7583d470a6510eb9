"""Applying lifecycle transitions: pure functions of (ticket, lifecycle, request, now).

:func:`apply_transition` moves a ticket along one transition (asked for by its name or by
the target status), checks the guards, and returns the new ticket with the
:class:`~helpdesk_core.model.StatusChanged` event that made it. :func:`apply_automatic`
applies the transition a trigger names, if any; :func:`auto_close_due` says when a solved
ticket closes by itself and :func:`auto_close` closes it once that instant has passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from helpdesk_core._time import ensure_aware
from helpdesk_core.errors import InvalidTransition, ValidationError
from helpdesk_core.model import Actor, Event, StatusCategory, Ticket
from helpdesk_core.workflow._calendar import (
    WorkCalendar,
    add_business_days,
    calendar_named,
    check_calendars,
)
from helpdesk_core.workflow._fastpath import (
    check_request,
    fold_status_change,
    make_status_changed,
)
from helpdesk_core.workflow.guards import GuardContext
from helpdesk_core.workflow.lifecycle import Lifecycle

__all__ = [
    "LIFECYCLE_ACTOR",
    "apply_automatic",
    "apply_transition",
    "auto_close",
    "auto_close_due",
]

#: Who automatic lifecycle moves are recorded as.
LIFECYCLE_ACTOR = Actor.system("lifecycle")


def _refuse(
    ticket: Ticket, asked: str, message: str, *, guard: str | None = None
) -> InvalidTransition:
    return InvalidTransition(
        f"ticket {ticket.id} in status {ticket.status!r}: {message}",
        ticket_id=ticket.id,
        status=ticket.status,
        transition=asked,
        guard=guard,
    )


def _bad_guard_answer(name: str, answer: object) -> ValidationError:
    """A guard answered neither None (allow) nor a text saying why it refuses: a guard
    written as a yes/no check (``return ctx.reason is not None``) would refuse every move,
    or allow none of the ones it meant to, under a message of ``True`` or ``False``."""
    return ValidationError(
        f"guard {name!r} returned {answer!r}: a guard returns None to allow the transition "
        "or a non-blank text saying why it refuses"
    )


def _check_subject(ticket: object, lifecycle: object) -> None:
    """The ticket and lifecycle a transition function is given (ValidationError naming
    the wrong one)."""
    if not isinstance(ticket, Ticket):
        raise ValidationError(f"expected a Ticket, got {type(ticket).__name__}", field="ticket")
    if not isinstance(lifecycle, Lifecycle):
        raise ValidationError(
            f"expected a Lifecycle, got {type(lifecycle).__name__}", field="lifecycle"
        )


def _not_found(ticket: Ticket, lifecycle: Lifecycle, asked: str) -> Exception:
    if ticket.lifecycle != lifecycle.name:
        return ValidationError(
            f"ticket {ticket.id} follows lifecycle {ticket.lifecycle!r}, "
            f"not {lifecycle.name!r}",
            field="lifecycle",
        )
    if not lifecycle.has_status(ticket.status):
        return _refuse(ticket, asked, f"lifecycle {lifecycle.name!r} has no such status")
    if lifecycle.is_terminal(ticket.status):
        return _refuse(
            ticket,
            asked,
            f"no transition {asked!r}: the status is closed, which is terminal "
            "(open a follow-up ticket instead)",
        )
    allowed = ", ".join(lifecycle.allowed(ticket.status)) or "none"
    return _refuse(ticket, asked, f"no transition {asked!r} (allowed: {allowed})")


def apply_transition(
    ticket: Ticket,
    lifecycle: Lifecycle,
    transition: str,
    *,
    by: Actor,
    now: datetime,
    reason: str | None = None,
    resolution: str | None = None,
    first_contact: bool = False,
    automatic: bool = False,
) -> tuple[Ticket, list[Event]]:
    """Move ``ticket`` along ``transition`` (a transition name such as ``"solve"``, or a
    target status such as ``"solved"``) at ``now``.

    Returns the new ticket and ``[StatusChanged]``. A refusal raises
    :class:`~helpdesk_core.errors.InvalidTransition` naming the ticket, its status, the
    transition asked for and, when a guard refused, the guard and its reason; an unknown
    transition lists the ones allowed from the current status. Bad arguments (naive
    ``now``, a ticket of another lifecycle) raise
    :class:`~helpdesk_core.errors.ValidationError`.
    """
    if (  # the usual arguments pass one test; anything else is checked field by field
        type(ticket) is not Ticket
        or type(lifecycle) is not Lifecycle
        or type(transition) is not str
        or type(by) is not Actor
        or (reason is not None and (type(reason) is not str or not reason.isascii()))
        or (resolution is not None and (type(resolution) is not str or not resolution.isascii()))
        or (first_contact is not True and first_contact is not False)
        or (automatic is not True and automatic is not False)
    ):
        _check_subject(ticket, lifecycle)
        ensure_aware(now, field="now")
        if not isinstance(transition, str):
            raise ValidationError(
                f"expected a transition or status name, got {type(transition).__name__}",
                field="transition",
            )
        check_request(
            by=by,
            reason=reason,
            resolution=resolution,
            first_contact=first_contact,
            automatic=automatic,
        )
    if type(now) is not datetime or now.utcoffset() is None:
        now = ensure_aware(now, field="now")
    # The arguments are checked by now: the step table is read directly (Lifecycle.step
    # would check them again).
    step = (
        lifecycle._table.steps.get((ticket.status, transition))
        if ticket.lifecycle == lifecycle.name
        else None
    )
    if step is None:
        raise _not_found(ticket, lifecycle, transition)
    found = step.transition
    if step.guards:
        ctx = GuardContext(  # positionally: the fields' order, cheaper than by keyword
            ticket, lifecycle, found, by, now, reason, resolution, first_contact, automatic
        )
        for name, guard in step.guards:
            why = guard(ctx)
            if why is not None:
                if type(why) is not str or not why.strip():
                    raise _bad_guard_answer(name, why)
                raise _refuse(
                    ticket,
                    transition,
                    f"transition {found.name!r} refused by guard {name!r}: {why}",
                    guard=name,
                )
    event = make_status_changed(
        ticket_id=ticket.id,
        at=now,
        by=by,
        transition=found.name,
        from_status=ticket.status,
        to_status=found.to,
        category=step.category,
        reason=reason,
        resolution=resolution,
        first_contact=first_contact,
        automatic=automatic,
    )
    return fold_status_change(ticket, event), [event]


def apply_automatic(
    ticket: Ticket,
    lifecycle: Lifecycle,
    trigger: str,
    *,
    now: datetime,
    by: Actor = LIFECYCLE_ACTOR,
    reason: str | None = None,
) -> tuple[Ticket, list[Event]]:
    """Apply the transition ``trigger`` names for the ticket's status, if there is one and
    its guards allow it; else return the ticket unchanged and no events. The event is
    marked ``automatic``."""
    _check_subject(ticket, lifecycle)
    now = ensure_aware(now, field="now")
    if not isinstance(trigger, str):
        raise ValidationError(
            f"expected a trigger name, got {type(trigger).__name__}", field="trigger"
        )
    found = lifecycle.automatic_transition(trigger, ticket.status)
    if found is None:
        return ticket, []
    try:
        return apply_transition(
            ticket, lifecycle, found.name, by=by, now=now, reason=reason, automatic=True
        )
    except InvalidTransition:
        return ticket, []


def auto_close_due(
    ticket: Ticket,
    lifecycle: Lifecycle,
    calendars: Mapping[str, WorkCalendar] | None = None,
) -> datetime | None:
    """The instant a solved ticket closes by itself, or None (not solved, no
    ``solved_timeout`` transition from its status, ``auto_close_after`` is None, or the
    instant would fall after the year 9999, which no datetime holds).

    With a lifecycle ``calendar``: the same local time as ``solved_at`` on the N-th
    business day after the day it was solved (N = ``auto_close_after``; a business day is
    a local date on which an open interval starts), e.g. solved Friday 16:00 with N = 3 on a
    Monday-Friday calendar closes Wednesday 16:00. Without a calendar: ``solved_at`` plus
    N x 24 hours. N = 0: ``solved_at`` itself.
    """
    _check_subject(ticket, lifecycle)
    check_calendars(calendars)
    days = lifecycle.auto_close_after
    solved_at = ticket.solved_at
    if days is None or solved_at is None or ticket.status_category is not StatusCategory.SOLVED:
        return None
    if lifecycle.automatic_transition("solved_timeout", ticket.status) is None:
        return None
    if lifecycle.calendar is None:
        try:
            return solved_at.astimezone(UTC) + timedelta(days=days)
        except OverflowError:  # after the year 9999: never, as far as a desk can tell
            return None
    calendar = calendar_named(calendars, lifecycle.calendar, path="lifecycle.calendar")
    if days == 0:
        # The solve's instant itself: its wall time on its own day may be the other
        # occurrence of a fall-back hour, an hour before it.
        return solved_at
    return add_business_days(calendar, solved_at, days)


def auto_close(
    ticket: Ticket,
    lifecycle: Lifecycle,
    *,
    now: datetime,
    calendars: Mapping[str, WorkCalendar] | None = None,
) -> tuple[Ticket, list[Event]]:
    """Close a solved ticket whose :func:`auto_close_due` instant is at or before ``now``;
    the event is stamped with that instant (not ``now``; the ticket's last update if that
    is later, so the history stays in order), so how often this runs does not change the
    outcome. Otherwise the ticket is returned unchanged with no events."""
    now = ensure_aware(now, field="now")
    due = auto_close_due(ticket, lifecycle, calendars)
    if due is None or due > now:
        return ticket, []
    return apply_automatic(ticket, lifecycle, "solved_timeout", now=max(due, ticket.updated_at))
