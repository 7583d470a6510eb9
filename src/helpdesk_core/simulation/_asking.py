"""The move a simulated agent takes to ask the requester (private to the simulation).

The default lifecycle asks by ``pending`` (its move ``pend``, asked for by its target). A
lifecycle may call its waiting status otherwise (``waiting_on_customer``): the move is then
read from the lifecycle's data, by what it does. It goes into a status of category
``pending`` that the requester's public reply leaves by itself (an ``automatic:
requester_public_reply`` move), so that the asked ticket comes back to work when the
requester answers.
"""

from __future__ import annotations

from typing import Final

from helpdesk_core.model import StatusCategory
from helpdesk_core.workflow import Lifecycle, Transition

__all__ = ["ASK", "asking_move", "waiting_moves"]

#: The move the simulation asks by when the lifecycle has one of that name or target.
ASK: Final = "pending"

_REPLY: Final = "requester_public_reply"


def waiting_moves(lifecycle: Lifecycle, status: str) -> tuple[Transition, ...]:
    """The moves leaving ``status`` into a status of category pending that the
    requester's public reply leaves by itself, in declaration order."""
    return tuple(
        move
        for move in lifecycle.transitions_from(status)
        if lifecycle.category(move.to) is StatusCategory.PENDING
        and lifecycle.automatic_transition(_REPLY, move.to) is not None
    )


def asking_move(lifecycle: Lifecycle, status: str) -> str:
    """The move to ask for to put a ticket in ``status`` to the requester: ``pending``
    when a move of that name (or to a status of that name) leaves ``status``, else the
    name of the one waiting move (:func:`waiting_moves`). ``pending`` when there is none,
    or several (a scenario refuses such a lifecycle when built): the desk then refuses
    the move as usual."""
    if lifecycle.step(status, ASK) is not None:
        return ASK
    found = waiting_moves(lifecycle, status)
    return found[0].name if len(found) == 1 else ASK
