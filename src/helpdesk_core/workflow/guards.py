"""Guards: named checks a lifecycle transition must pass.

A guard is a function ``(ctx: GuardContext) -> str | None``: ``None`` allows the transition,
a text refuses it and says why (any other answer, such as ``True`` or ``False``, is a
``ValidationError`` naming the guard). Transitions name their guards (``guards=("reason_given",)``);
the names resolve first in the lifecycle's own ``guards`` mapping, then in the registry this
module keeps (:func:`register_guard`). Built-in guards:

``resolution_note``
    the transition needs a non-empty resolution text.
``public_response_or_first_contact``
    the ticket has had a public agent reply, or the caller says it was solved at first
    contact (``first_contact=True``).
``within_reopen_window``
    ``now - solved_at`` is at most the lifecycle's ``reopen_window`` (no window: always).
``reason_given``
    the caller gives a non-empty reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, TypeAlias

from helpdesk_core._time import format_duration
from helpdesk_core.errors import ValidationError
from helpdesk_core.model import Actor, Ticket

if TYPE_CHECKING:
    from helpdesk_core.workflow.lifecycle import Lifecycle, Transition

__all__ = [
    "BUILTIN_GUARDS",
    "Guard",
    "GuardContext",
    "guard_names",
    "lookup_guard",
    "register_guard",
]


class GuardContext(NamedTuple):
    """What a guard sees: the ticket before the move, the lifecycle and transition, who asks,
    when, and the arguments of the request. (A named tuple: it is made on every guarded
    transition, so it is kept as cheap as an immutable value gets.)"""

    ticket: Ticket
    lifecycle: Lifecycle
    transition: Transition
    actor: Actor
    now: datetime
    reason: str | None = None
    resolution: str | None = None
    first_contact: bool = False
    automatic: bool = False


Guard: TypeAlias = Callable[[GuardContext], "str | None"]
"""A guard: ``None`` allows, a text refuses (the text says why)."""


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def resolution_note(ctx: GuardContext) -> str | None:
    """Refuse without a resolution note."""
    return "a resolution note is required" if _blank(ctx.resolution) else None


def public_response_or_first_contact(ctx: GuardContext) -> str | None:
    """Refuse while no agent has replied publicly, unless solved at first contact."""
    if ctx.ticket.public_replies > 0 or ctx.first_contact:
        return None
    return (
        "the ticket has no public agent response yet: reply to the requester first, "
        "or mark it solved at first contact"
    )


def within_reopen_window(ctx: GuardContext) -> str | None:
    """Refuse a reopen after the lifecycle's reopen window."""
    window = ctx.lifecycle.reopen_window
    solved_at = ctx.ticket.solved_at
    if window is None or solved_at is None:
        return None
    if ctx.now - solved_at <= window:
        return None
    return (
        f"the reopen window of {format_duration(window)} after solving at "
        f"{solved_at.isoformat()} has passed: open a follow-up ticket instead"
    )


def reason_given(ctx: GuardContext) -> str | None:
    """Refuse without a reason."""
    return "a reason is required" if _blank(ctx.reason) else None


#: The guards every lifecycle can name.
BUILTIN_GUARDS: Mapping[str, Guard] = {
    "resolution_note": resolution_note,
    "public_response_or_first_contact": public_response_or_first_contact,
    "within_reopen_window": within_reopen_window,
    "reason_given": reason_given,
}

_REGISTRY: dict[str, Guard] = dict(BUILTIN_GUARDS)


def register_guard(name: str, fn: Guard, *, replace: bool = False) -> Guard:
    """Make ``fn`` available to every lifecycle under ``name``; returns ``fn``.

    Registering another function under a taken name needs ``replace=True`` (built-in
    guards cannot be replaced). Lifecycles check their guard names when built, so register
    guards before building the lifecycles that use them, or pass them in the lifecycle's
    own ``guards`` mapping instead.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(f"a guard needs a name, got {name!r}", field="name")
    if not callable(fn):
        raise ValidationError(f"guard {name!r} is not callable: {fn!r}", field="fn")
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not fn:
        if name in BUILTIN_GUARDS:
            raise ValidationError(f"built-in guard {name!r} cannot be replaced", field="name")
        if not replace:
            raise ValidationError(
                f"a guard named {name!r} is registered already (pass replace=True)",
                field="name",
            )
    _REGISTRY[name] = fn
    return fn


def lookup_guard(name: str, extra: Mapping[str, Guard] | None = None) -> Guard | None:
    """The guard called ``name``: from ``extra`` first, then the registry; None if unknown."""
    if not isinstance(name, str):
        raise ValidationError(f"a guard name is a text, got {type(name).__name__}", field="name")
    _check_extra(extra)
    if extra is not None:
        found = extra.get(name)
        if found is not None:
            return found
    return _REGISTRY.get(name)


def guard_names(extra: Mapping[str, Guard] | None = None) -> tuple[str, ...]:
    """Every known guard name (registry plus ``extra``), sorted."""
    _check_extra(extra)
    return tuple(sorted({*_REGISTRY, *(extra or {})}))


def _check_extra(extra: object) -> None:
    if extra is not None and not isinstance(extra, Mapping):
        raise ValidationError(
            f"extra maps guard names to guards, got {type(extra).__name__}", field="extra"
        )
    for key in extra or {}:
        if not isinstance(key, str):
            raise ValidationError(
                f"a guard name is a text, got {type(key).__name__}", field="extra"
            )
