"""Desks whose incidents follow a lifecycle of any valid shape: extra statuses in any
category, moves with guards, automatic moves on replies and on the solved timeout. The
same commands on a MemoryStore and a SqliteStore give the same answers and the same
tickets; every ticket stays in a status of its lifecycle, in that status's category, with
a way to a closed status, and replays to what the store holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester, SqliteStore
from helpdesk_core.errors import ConfigError, HelpdeskError
from helpdesk_core.ids import SequentialIds
from helpdesk_core.model import replay
from helpdesk_core.workflow import Lifecycle

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
_ACTIVE = ["new", "open", "pending", "on_hold"]
_CATEGORIES = [*_ACTIVE, "solved", "closed"]
_TRIGGERS = [None, "requester_public_reply", "agent_public_reply", "solved_timeout"]


@st.composite
def lifecycle_docs(draw: st.DrawFn) -> dict[str, Any]:
    """A lifecycle document: every status reachable from the first by a tree of moves,
    then further moves of any kind (the document may be refused: see the test)."""
    count = draw(st.integers(2, 6))
    names = [f"s{i}" for i in range(count)]
    categories = [
        draw(st.sampled_from(_ACTIVE)),
        *(draw(st.sampled_from(_CATEGORIES)) for _ in names[1:-1]),
        "closed",
    ]
    live = [n for n, c in zip(names, categories, strict=True) if c != "closed"]
    moves: list[dict[str, Any]] = [
        {"name": f"to_{name}", "from": draw(st.sampled_from(live[: max(1, i)])), "to": name}
        for i, name in enumerate(names[1:], start=1)
        if live[: max(1, i)]
    ]
    for j in range(draw(st.integers(0, 6))):
        move: dict[str, Any] = {
            "name": f"move_{j}",
            "from": draw(st.just("*") | st.lists(st.sampled_from(live), min_size=1, unique=True)),
            "to": draw(st.sampled_from(names)),
            "guards": draw(st.lists(st.sampled_from(["resolution_note", "reason_given"]),
                                    unique=True)),
        }  # fmt: skip
        trigger = draw(st.sampled_from(_TRIGGERS))
        if trigger is not None:
            move["automatic"] = trigger
        moves.append(move)
    return {
        "initial": names[0],
        "statuses": [{"name": n, "category": c} for n, c in zip(names, categories, strict=True)],
        "transitions": moves,
        "reopen_window": draw(st.sampled_from(["unlimited", 3600, 7 * 86400])),
        "auto_close_after": draw(st.sampled_from(["never", 0, 1, 3])),
    }


def _config(doc: dict[str, Any]) -> DeskConfig | None:
    try:
        return DeskConfig.from_dict({
            "agents": [{"id": "ann", "teams": ["service-desk"]}],
            "lifecycles": {"custom": doc},
            "ticket_types": {"incident": {"lifecycle": "custom"},
                             "question": {"lifecycle": "default"}},
            "sla_policies": [{"name": "std", "calendar": "always",
                              "targets": {"medium": {"first_response": "4h",
                                                     "resolution": "1d"}}}],
        })  # fmt: skip
    except ConfigError:
        return None  # a shape no lifecycle may have (an automatic move that never fires...)


def _closes(lifecycle: Lifecycle, status: str) -> bool:
    seen, todo = {status}, [status]
    while todo:
        here = todo.pop()
        if lifecycle.is_terminal(here):
            return True
        for move in lifecycle.transitions_from(here):
            if move.to not in seen:
                seen.add(move.to)
                todo.append(move.to)
    return False


_COMMANDS = ["open", "reply", "requester_reply", "move", "solve", "reopen", "tick", "wait"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(doc=lifecycle_docs(), data=st.data())
def test_custom_lifecycle_desks_agree_across_stores_and_keep_their_tickets_in_it(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    config = _config(doc)
    assume(config is not None)
    assert config is not None
    clock = ManualClock(T0)
    desks = [
        Helpdesk(config, store, clock, ids=SequentialIds())
        for store in (MemoryStore(), SqliteStore(":memory:"))
    ]
    tickets: list[str] = []
    try:
        for _ in range(data.draw(st.integers(1, 20), label="commands")):
            kind = data.draw(st.sampled_from(_COMMANDS), label="command")
            if kind == "wait":
                clock.advance(timedelta(minutes=data.draw(st.integers(1, 4 * 24 * 60))))
                continue
            if kind == "open" or not tickets:
                kind = "open"
                ticket_type = data.draw(st.sampled_from(["incident", "question"]))
            else:
                ticket_id = data.draw(st.sampled_from(tickets), label="ticket")
                ticket = desks[0].get(ticket_id)
                lifecycle = config.lifecycles[ticket.lifecycle]
                # Mostly a move the status has, at times any name (refused alike).
                names = sorted({*lifecycle.status_names, *(t.name for t in lifecycle.transitions)})
                allowed = lifecycle.allowed(ticket.status)
                asked = data.draw(
                    st.sampled_from(allowed or names) | st.sampled_from(names), label="move"
                )
            answers = []
            for desk in desks:
                try:
                    if kind == "open":
                        opened = desk.open(requester=Requester(id="ada"), subject="VPN drops",
                                           type=ticket_type)  # fmt: skip
                        answers.append(opened.id)
                        continue
                    if kind == "reply":
                        desk.reply(ticket_id, author="ann", body="Try this")
                    elif kind == "requester_reply":
                        desk.reply(ticket_id, author="ada", body="It still drops")
                    elif kind == "move":
                        desk.transition(ticket_id, asked, by="ann", reason="as agreed",
                                        resolution="fixed", first_contact=True)  # fmt: skip
                    elif kind == "solve":
                        desk.solve(ticket_id, by="ann", resolution="fixed", first_contact=True)
                    elif kind == "reopen":
                        desk.reopen(ticket_id, by="ada", reason="It drops again")
                    else:
                        desk.tick()
                    answers.append("done")
                except HelpdeskError as refused:
                    answers.append(f"{type(refused).__name__}: {refused}")
            assert answers[0] == answers[1], (kind, answers)
            if kind == "open":
                tickets.append(answers[0])
            for each in tickets:
                kept = desks[0].get(each)
                assert desks[1].get(each) == kept
                assert replay(desks[0].history(each)) == kept
                lifecycle = config.lifecycles[kept.lifecycle]
                assert lifecycle.category(kept.status) is kept.status_category
                assert _closes(lifecycle, kept.status), kept.status
            assert desks[0].next_wakeup() == desks[1].next_wakeup()
    finally:
        for desk in desks:
            desk.store.close()
