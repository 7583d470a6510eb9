"""The desk's shortcut moves (``solve``, ``reopen``, ``close``, ``cancel``) on any lifecycle.

A shortcut is named after a move of the default lifecycle. A lifecycle may name its moves
otherwise (``resolve`` into ``resolved``, ``archive``, ``withdraw``); the shortcut then
takes the move that does what the default move of its name does, read from the lifecycle's
data (the categories of the statuses a move leaves and enters):

``solve``
    from an active status (new, open, pending, on_hold category) into a solved status.
``reopen``
    from a solved status into an active status.
``close``
    into a closed status, by a move that leaves solved statuses only: closing is what
    follows solving (the default ``close`` leaves ``solved``).
``cancel``
    into a closed status, by a move that also leaves an active status: a ticket that ends
    without being solved is cancelled (withdrawn, rejected, a duplicate), and the move that
    ends it may be taken from a solved status too (the default ``cancel`` leaves every
    status that is not closed).

Every move into a closed status is thus either a closing or a cancelling move, never both.
A move of the shortcut's own name, when one leaves the ticket's status, is taken as it is
(as :meth:`~helpdesk_core.service.Helpdesk.transition` would take it). Otherwise the one
move that qualifies is taken; several are refused with an
:class:`~helpdesk_core.errors.InvalidTransition` that names them (the shortcut does not
guess), and none leaves the shortcut's name for the lifecycle to refuse as usual.
Guards are not weighed here: they are checked when the move is applied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from helpdesk_core.errors import InvalidTransition, ValidationError
from helpdesk_core.model import StatusCategory, Ticket
from helpdesk_core.workflow.lifecycle import Lifecycle, Transition

__all__ = ["SHORTCUTS", "shortcut_move", "shortcut_moves"]

#: The shortcut names, each that of a move of the default lifecycle.
SHORTCUTS: Final = ("solve", "reopen", "close", "cancel")

_SOLVED = StatusCategory.SOLVED
_CLOSED = StatusCategory.CLOSED


def _ends_unsolved(lifecycle: Lifecycle, move: Transition) -> bool:
    """Whether ``move`` leaves an active status (so it may end a ticket never solved)."""
    return any(lifecycle.category(s).is_active for s in lifecycle.sources(move))


def _solves(lifecycle: Lifecycle, here: StatusCategory, move: Transition) -> bool:
    return here.is_active and lifecycle.category(move.to) is _SOLVED


def _reopens(lifecycle: Lifecycle, here: StatusCategory, move: Transition) -> bool:
    return here is _SOLVED and lifecycle.category(move.to).is_active


def _closes(lifecycle: Lifecycle, here: StatusCategory, move: Transition) -> bool:
    return lifecycle.category(move.to) is _CLOSED and not _ends_unsolved(lifecycle, move)


def _cancels(lifecycle: Lifecycle, here: StatusCategory, move: Transition) -> bool:
    return lifecycle.category(move.to) is _CLOSED and _ends_unsolved(lifecycle, move)


_DOES: Final[dict[str, Callable[[Lifecycle, StatusCategory, Transition], bool]]] = {
    "solve": _solves,
    "reopen": _reopens,
    "close": _closes,
    "cancel": _cancels,
}


def _check(lifecycle: object, shortcut: object) -> None:
    if not isinstance(lifecycle, Lifecycle):
        raise ValidationError(
            f"expected a Lifecycle, got {type(lifecycle).__name__}", field="lifecycle"
        )
    if shortcut not in _DOES:
        raise ValidationError(
            f"unknown shortcut {shortcut!r} (known: {', '.join(SHORTCUTS)})", field="shortcut"
        )


def shortcut_moves(lifecycle: Lifecycle, status: str, shortcut: str) -> tuple[Transition, ...]:
    """The moves leaving ``status`` that do what ``shortcut`` does (see the module docs),
    whatever they are called, in declaration order; none from a closed status. NotFound
    for a status the lifecycle lacks."""
    _check(lifecycle, shortcut)
    moves = lifecycle.transitions_from(status)  # checks the status
    here = lifecycle.category(status)
    does = _DOES[shortcut]
    return tuple(move for move in moves if does(lifecycle, here, move))


def shortcut_move(lifecycle: Lifecycle, ticket: Ticket, shortcut: str) -> str:
    """The move to ask ``lifecycle`` for when ``shortcut`` is applied to ``ticket``: the
    shortcut's own name when a move of that name (or to a status of that name) leaves the
    ticket's status, else the name of the one move that does what the shortcut does. The
    shortcut's name when no move does (or the ticket is not in one of the lifecycle's
    statuses): applying it then refuses as usual. InvalidTransition naming the ticket, its
    status and the candidates when several moves do."""
    if type(lifecycle) is not Lifecycle or shortcut not in _DOES:
        _check(lifecycle, shortcut)
    if not isinstance(ticket, Ticket):
        raise ValidationError(f"expected a Ticket, got {type(ticket).__name__}", field="ticket")
    status = ticket.status
    # The arguments are checked: the step table is read directly (as a transition reads
    # it), the shortcut's own name first.
    table = lifecycle._table
    if (
        ticket.lifecycle != lifecycle.name
        or (status, shortcut) in table.steps
        or status not in table.statuses
    ):
        return shortcut
    found = shortcut_moves(lifecycle, status, shortcut)
    if len(found) == 1:
        return found[0].name
    if not found:
        return shortcut
    names = ", ".join(repr(move.name) for move in found)
    raise InvalidTransition(
        f"ticket {ticket.id} in status {status!r}: no transition {shortcut!r}, and several "
        f"moves of lifecycle {lifecycle.name!r} {shortcut} it ({names}): ask for one "
        "by name",
        ticket_id=ticket.id,
        status=status,
        transition=shortcut,
    )

