"""The desk's shortcuts (solve, reopen, close, cancel) find the move that does what the
default lifecycle's move of that name does, on lifecycles that name their moves
otherwise; the default name wins when a move of that name leaves the status, and several
moves that qualify are refused, not guessed between."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from attrs import evolve
from hypothesis import given
from hypothesis import strategies as st

from helpdesk_core.errors import InvalidTransition, ValidationError
from helpdesk_core.model import Actor, Ticket, TicketOpened, replay
from helpdesk_core.workflow import (
    ANY,
    SHORTCUTS,
    Lifecycle,
    Status,
    Transition,
    shortcut_move,
    shortcut_moves,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def renamed() -> Lifecycle:
    """The default lifecycle's shape with every move and status named otherwise."""
    active = ("fresh", "working", "waiting")
    return Lifecycle(
        name="renamed",
        statuses=(
            Status(name="fresh", category="new"),
            Status(name="working", category="open"),
            Status(name="waiting", category="pending"),
            Status(name="resolved", category="solved"),
            Status(name="archived", category="closed"),
            Status(name="withdrawn", category="closed"),
        ),
        initial="fresh",
        transitions=(
            Transition(name="take", from_="fresh", to="working", automatic="agent_public_reply"),
            Transition(name="ask", from_="working", to="waiting"),
            Transition(
                name="answer", from_="waiting", to="working", automatic="requester_public_reply"
            ),
            Transition(
                name="resolve",
                from_=active,
                to="resolved",
                guards=("resolution_note", "public_response_or_first_contact"),
            ),
            Transition(
                name="reopen_ticket",
                from_="resolved",
                to="working",
                guards=("within_reopen_window",),
            ),
            Transition(name="archive", from_="resolved", to="archived", automatic="solved_timeout"),
            Transition(name="withdraw", from_=ANY, to="withdrawn", guards=("reason_given",)),
        ),
    )


def _ticket(lifecycle: Lifecycle, status: str) -> Ticket:
    """A ticket of ``lifecycle`` in ``status``."""
    opened = replay([
        TicketOpened(ticket_id="T-1", at=T0, by=Actor.requester("ada"), number=1,
                     requester="ada", subject="VPN drops", lifecycle=lifecycle.name,
                     status=lifecycle.initial,
                     status_category=lifecycle.category(lifecycle.initial))
    ])  # fmt: skip
    return evolve(opened, status=status, status_category=lifecycle.category(status))


@pytest.mark.parametrize(
    ("status", "shortcut", "move"),
    [
        ("fresh", "solve", "resolve"),
        ("working", "solve", "resolve"),
        ("waiting", "solve", "resolve"),
        ("resolved", "reopen", "reopen_ticket"),
        ("resolved", "close", "archive"),
        ("resolved", "cancel", "withdraw"),
        ("working", "cancel", "withdraw"),
        ("fresh", "cancel", "withdraw"),
    ],
)
def test_each_shortcut_finds_the_move_that_does_what_it_says(
    status: str, shortcut: str, move: str
) -> None:
    lifecycle = renamed()
    assert shortcut_move(lifecycle, _ticket(lifecycle, status), shortcut) == move


@pytest.mark.parametrize(
    ("status", "shortcut"),
    [("working", "reopen"), ("working", "close"), ("resolved", "solve"), ("fresh", "reopen")],
)
def test_a_shortcut_no_move_does_keeps_its_name_for_the_lifecycle_to_refuse(
    status: str, shortcut: str
) -> None:
    lifecycle = renamed()
    assert shortcut_moves(lifecycle, status, shortcut) == ()
    assert shortcut_move(lifecycle, _ticket(lifecycle, status), shortcut) == shortcut


def test_the_default_lifecycle_keeps_its_names() -> None:
    lifecycle = Lifecycle.default()
    for status in lifecycle.status_names:
        if lifecycle.is_terminal(status):
            continue
        ticket = _ticket(lifecycle, status)
        for shortcut in SHORTCUTS:
            assert shortcut_move(lifecycle, ticket, shortcut) == shortcut


def _two_ways_to_close() -> Lifecycle:
    return Lifecycle(
        name="two_ways",
        statuses=(
            Status(name="open", category="open"),
            Status(name="done", category="solved"),
            Status(name="archived", category="closed"),
            Status(name="shredded", category="closed"),
        ),
        initial="open",
        transitions=(
            Transition(name="finish", from_="open", to="done"),
            Transition(name="archive", from_="done", to="archived"),
            Transition(name="shred", from_="done", to="shredded"),
            Transition(name="drop", from_="open", to="shredded"),
        ),
    )


def test_several_moves_that_qualify_are_refused_with_the_candidates() -> None:
    lifecycle = _two_ways_to_close()
    with pytest.raises(InvalidTransition) as refused:
        shortcut_move(lifecycle, _ticket(lifecycle, "done"), "close")
    message = str(refused.value)
    assert "'archive'" in message and "'shred'" in message and "T-1" in message
    assert refused.value.transition == "close" and refused.value.status == "done"


def test_the_default_name_wins_over_other_moves_that_qualify() -> None:
    base = _two_ways_to_close()
    lifecycle = Lifecycle(
        name="two_ways",
        statuses=base.statuses,
        initial="open",
        transitions=(*base.transitions, Transition(name="close", from_="done", to="archived")),
    )
    assert shortcut_move(lifecycle, _ticket(lifecycle, "done"), "close") == "close"


def test_bad_arguments_are_named() -> None:
    lifecycle = renamed()
    with pytest.raises(ValidationError, match="shortcut"):
        shortcut_moves(lifecycle, "working", "escalate")
    with pytest.raises(ValidationError, match="lifecycle"):
        shortcut_moves("renamed", "working", "solve")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="ticket"):
        shortcut_move(lifecycle, "T-1", "solve")  # type: ignore[arg-type]


# -- property: renaming a lifecycle's moves and statuses renames what the shortcuts pick ---


@given(st.data())
def test_renaming_moves_and_statuses_renames_what_every_shortcut_picks(
    data: st.DataObject,
) -> None:
    base = Lifecycle.default()
    words = st.text(alphabet="abcdefghij", min_size=1, max_size=6)
    move_names = sorted({t.name for t in base.transitions})
    moves = dict(
        zip(
            move_names,
            (f"m_{w}" for w in data.draw(st.lists(words, min_size=len(move_names),
                                                  max_size=len(move_names), unique=True))),
            strict=True,
        )
    )  # fmt: skip
    statuses = dict(
        zip(
            base.status_names,
            (f"s_{w}" for w in data.draw(st.lists(words, min_size=len(base.statuses),
                                                  max_size=len(base.statuses), unique=True))),
            strict=True,
        )
    )  # fmt: skip
    lifecycle = Lifecycle(
        name="renamed",
        statuses=[Status(name=statuses[s.name], category=s.category) for s in base.statuses],
        initial=statuses[base.initial],
        transitions=[
            Transition(
                name=moves[t.name],
                from_=ANY if t.from_any else tuple(statuses[s] for s in t.from_),
                to=statuses[t.to],
                guards=t.guards,
                automatic=t.automatic,
            )
            for t in base.transitions
        ],
    )
    for status in base.status_names:
        if base.is_terminal(status):
            continue
        before = _ticket(base, status)
        after = _ticket(lifecycle, statuses[status])
        for shortcut in SHORTCUTS:
            picked = shortcut_move(base, before, shortcut)
            expected = moves.get(picked, shortcut) if base.step(status, picked) else shortcut
            assert shortcut_move(lifecycle, after, shortcut) == expected, (status, shortcut)


def test_the_move_a_solved_problem_solves_its_incidents_by_is_the_shortcut_s() -> None:
    from helpdesk_core.knowledge import solving_transition

    lifecycle = renamed()
    assert solving_transition(lifecycle, _ticket(lifecycle, "working")).name == "resolve"
    two = Lifecycle(
        name="two",
        statuses=(
            Status(name="open", category="open"),
            Status(name="fixed", category="solved"),
            Status(name="answered", category="solved"),
            Status(name="closed", category="closed"),
        ),
        initial="open",
        transitions=(
            Transition(name="fix", from_="open", to="fixed"),
            Transition(name="answer", from_="open", to="answered"),
            Transition(name="close", from_=("fixed", "answered"), to="closed"),
        ),
    )
    with pytest.raises(InvalidTransition, match="'fix', 'answer'"):
        solving_transition(two, _ticket(two, "open"))
