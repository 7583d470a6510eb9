"""The knowledge lists check each ticket as ``get`` checks it: a ticket an escalation due
(not yet recorded by a tick) moves into the reader's team is in ``incidents_of``, counted
in ``known_errors`` and offered by ``similar`` exactly when ``get(as_=...)`` shows it, and
a list never shows what ``get`` refuses (nor the incidents of a problem it refuses)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk_stores import STORES, store_factory
from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester
from helpdesk_core.errors import AccessDenied
from helpdesk_core.storage import Store

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
READERS = ("alice", "bob", "carl", "root")


def _config() -> DeskConfig:
    """Tickets move from team desk (L1) to team network (L2) after an hour in L1; no
    auto-assignment, so the team alone decides who sees a ticket."""
    return DeskConfig.from_dict(
        {
            "tiers": [{"id": "L1", "teams": ["desk"]}, {"id": "L2", "teams": ["network"]}],
            "teams": [{"id": "desk"}, {"id": "network"}, {"id": "apps"}],
            "agents": [
                {"id": "alice", "teams": ["desk"]},
                {"id": "bob", "teams": ["network"]},
                {"id": "carl", "teams": ["apps"]},
                {"id": "root", "role": "admin"},
            ],
            "assignment": {"auto_assign": False},
            "escalation_policies": [
                {
                    "name": "stuck",
                    "triggers": [
                        {
                            "name": "an-hour-in-l1",
                            "on": "time_in_tier",
                            "after": "1h",
                            "when": {"field": "tier", "op": "eq", "value": "L1"},
                            "actions": [{"action": "escalate_tier"}],
                        }
                    ],
                }
            ],
        }
    )


def _desk(store: Store | None = None) -> Helpdesk:
    desk = Helpdesk(_config(), store if store is not None else MemoryStore(), ManualClock(T0))
    desk.upsert_requester(Requester(id="ada", name="Ada"))
    return desk


@pytest.fixture(params=STORES)
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Helpdesk]:
    for make in store_factory(request, tmp_path):
        yield _desk(make())


def _advance(desk: Helpdesk, **delta: Any) -> None:
    desk.clock.advance(**delta)  # type: ignore[attr-defined]


def _shown(desk: Helpdesk, who: str, ticket_id: str) -> bool:
    try:
        desk.get(ticket_id, as_=who)
    except AccessDenied:
        return False
    return True


def _scene(desk: Helpdesk) -> tuple[str, str, str]:
    """A problem with a known error opened at 9:00, an incident of it opened at 9:00 and
    one opened at 9:50, all in team desk (L1); each moves to network an hour after it
    was opened."""
    problem = desk.open(requester="ada", subject="VPN gateway drops", type="problem").id
    desk.record_known_error(problem, symptom="The VPN drops", by="alice")
    early = desk.open(requester="ada", subject="VPN drops at home").id
    desk.link(early, kind="caused_by", other=problem, by="alice")
    _advance(desk, minutes=50)
    late = desk.open(requester="ada", subject="VPN drops again").id
    desk.link(late, kind="caused_by", other=problem, by="alice")
    return problem, early, late


def _check_lists(desk: Helpdesk, problem: str, incidents: list[str]) -> None:
    """For every reader: ``incidents_of`` lists, and ``known_errors`` lists and counts,
    exactly the tickets ``get`` shows them (none for a problem ``get`` refuses them)."""
    for who in READERS:
        shown = [i for i in incidents if _shown(desk, who, i)]
        listed = shown if _shown(desk, who, problem) else []
        assert [t.id for t in desk.incidents_of(problem, as_=who)] == listed, who
        entries = desk.known_errors(as_=who)
        if _shown(desk, who, problem):
            assert [(e.problem, e.incidents) for e in entries] == [(problem, len(shown))], who
        else:
            assert entries == [], who


@pytest.mark.parametrize("fresh_desk", [False, True], ids=["same-desk", "fresh-desk"])
def test_the_lists_show_a_ticket_due_to_move_into_the_readers_team(
    desk: Helpdesk, fresh_desk: bool
) -> None:
    problem, early, late = _scene(desk)
    _advance(desk, minutes=40)  # 10:30: the problem and the early incident are due to move
    if fresh_desk:  # a desk that did not save the tickets (another process, a restart)
        desk = Helpdesk(desk.config, desk.store, desk.clock)
    assert [t.id for t in desk.incidents_of(problem, as_="bob")] == [early]
    [entry] = desk.known_errors(as_="bob")
    assert (entry.problem, entry.incidents) == (problem, 1)
    assert [t.id for t in desk.incidents_of(problem, as_="alice")] == [early, late]
    assert desk.incidents_of(problem, as_="carl") == []
    assert desk.known_errors(as_="carl") == []
    _check_lists(desk, problem, [early, late])
    stored = {t: desk.store.load(t).version for t in (problem, early, late)}

    _advance(desk, minutes=30)  # 11:00: the late one is due too
    _check_lists(desk, problem, [early, late])
    assert {t: desk.store.load(t).version for t in stored} == stored  # nothing written
    desk.tick()  # the moves are recorded: the old team no longer sees them
    _check_lists(desk, problem, [early, late])
    assert desk.incidents_of(problem, as_="alice") == []
    assert len(desk.incidents_of(problem, as_="bob")) == 2


def test_similar_offers_the_tickets_get_shows(desk: Helpdesk) -> None:
    """The tickets ``similar`` offers a reader are those of its unfiltered matches that
    ``get`` shows them, the ticket at hand being one due to move into their team."""
    problem, early, _ = _scene(desk)
    solved = []
    for subject in ("VPN drops at the office", "VPN gateway timeout"):
        old = desk.open(requester="ada", subject=subject).id
        desk.link(old, kind="caused_by", other=problem, by="alice")
        desk.reply(old, author="alice", body="Use vpn2")
        desk.solve(old, by="alice", resolution="vpn2")
        solved.append(old)
    desk.update(solved[1], by="root", team="network")
    _advance(desk, minutes=40)  # the early incident is due to move to network
    everything = [m.id for m in desk.similar(early, limit=50) if m.kind == "ticket"]
    assert set(solved) <= set(everything)
    for who in ("alice", "bob", "root"):
        offered = [m.id for m in desk.similar(early, limit=50, as_=who) if m.kind == "ticket"]
        assert offered == [t for t in everything if _shown(desk, who, t)], who
    with pytest.raises(AccessDenied):
        desk.similar(early, as_="carl")


def test_the_lists_read_no_ticket_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checking the tickets of a list as ``get`` does works out the due ones in memory:
    no ticket is read again from the store; the tickets they link to (the problem) are
    read in one batch, to leave out links to those the reader may not view."""
    desk = _desk()
    problem, early, _ = _scene(desk)
    _advance(desk, minutes=40)
    reads: list[str] = []
    load, get_many = desk.store.load, desk.store.get_many

    def loaded(ticket_id: str) -> Any:
        reads.append(ticket_id)
        return load(ticket_id)

    batches: list[list[str]] = []

    def got(ids: Any) -> Any:
        ids = list(ids)
        batches.append(ids)
        return get_many(ids)

    monkeypatch.setattr(desk.store, "load", loaded)
    monkeypatch.setattr(desk.store, "get_many", got)
    assert [t.id for t in desk.incidents_of(problem, as_="bob")] == [early]
    assert batches == [[problem]]
    assert [e.incidents for e in desk.known_errors(as_="bob")] == [1]
    assert reads == []
    assert batches == [[problem]]


@settings(max_examples=25, deadline=None)
@given(
    opened=st.lists(st.integers(0, 150), min_size=1, max_size=5),
    problem_at=st.integers(0, 150),
    ticks=st.lists(st.integers(0, 200), max_size=2),
    read_at=st.integers(0, 240),
    fresh_desk=st.booleans(),
)
def test_every_list_shows_exactly_what_get_shows(
    opened: list[int], problem_at: int, ticks: list[int], read_at: int, fresh_desk: bool
) -> None:
    """Incidents opened at random minutes, a problem opened at another, ticks run at
    random minutes, the lists read at another (on the desk that saved the tickets or on
    a fresh one): for every reader, ``incidents_of`` and ``known_errors`` show exactly
    what ``get`` shows."""
    desk = _desk()
    times = sorted({*opened, problem_at, *ticks, read_at})
    problem = ""
    incidents: list[str] = []
    now = 0
    for minute in times:
        _advance(desk, minutes=minute - now)
        now = minute
        if minute == problem_at:
            problem = desk.open(requester="ada", subject="Gateway", type="problem").id
            desk.record_known_error(problem, symptom="drops", by="root")
            for incident in incidents:
                desk.link(incident, kind="caused_by", other=problem, by="root")
        for _ in range(opened.count(minute)):
            incident = desk.open(requester="ada", subject="VPN drops").id
            if problem:
                desk.link(incident, kind="caused_by", other=problem, by="root")
            incidents.append(incident)
        if minute in ticks and minute != read_at:
            desk.tick()
        if minute == read_at:
            break
    if not problem:
        problem = desk.open(requester="ada", subject="Gateway", type="problem").id
        desk.record_known_error(problem, symptom="drops", by="root")
    if fresh_desk:
        desk = Helpdesk(desk.config, desk.store, desk.clock)
    _check_lists(desk, problem, [i for i in incidents if _linked(desk, i, problem)])


def _linked(desk: Helpdesk, ticket_id: str, problem: str) -> bool:
    return problem in desk.store.load(ticket_id).linked("caused_by")


def _check_history(desk: Helpdesk, requester: str) -> None:
    """For every reader: ``requester_history`` lists exactly the tickets of the unfiltered
    history that ``get`` shows them, in its order."""
    everything = [t.id for t in desk.requester_history(requester)]
    for who in READERS:
        listed = [t.id for t in desk.requester_history(requester, as_=who)]
        assert listed == [t for t in everything if _shown(desk, who, t)], who


@pytest.mark.parametrize("fresh_desk", [False, True], ids=["same-desk", "fresh-desk"])
def test_requester_history_shows_a_ticket_due_to_move_into_the_readers_team(
    desk: Helpdesk, fresh_desk: bool
) -> None:
    problem, early, late = _scene(desk)
    _advance(desk, minutes=40)  # 10:30: the problem and the early incident are due to move
    if fresh_desk:
        desk = Helpdesk(desk.config, desk.store, desk.clock)
    assert {t.id for t in desk.requester_history("ada", as_="bob")} == {problem, early}
    assert {t.id for t in desk.requester_history("ada", as_="alice")} == {
        problem, early, late
    }
    assert desk.requester_history("ada", as_="carl") == []
    _check_history(desk, "ada")
    stored = {t: desk.store.load(t).version for t in (problem, early, late)}
    _advance(desk, minutes=30)  # 11:00: the late one is due too
    _check_history(desk, "ada")
    assert {t: desk.store.load(t).version for t in stored} == stored  # nothing written
    desk.tick()  # the moves are recorded: the old team no longer sees them
    _check_history(desk, "ada")
    assert desk.requester_history("ada", as_="alice") == []
    # the requester sees their own, as get shows them to them
    assert {t.id for t in desk.requester_history("ada", as_="ada")} == {problem, early, late}


@settings(max_examples=25, deadline=None)
@given(
    opened=st.lists(st.integers(0, 150), min_size=1, max_size=5),
    ticks=st.lists(st.integers(0, 200), max_size=2),
    read_at=st.integers(0, 240),
    fresh_desk=st.booleans(),
)
def test_requester_history_shows_exactly_what_get_shows(
    opened: list[int], ticks: list[int], read_at: int, fresh_desk: bool
) -> None:
    """Tickets opened at random minutes, ticks run at random minutes, the history read at
    another (on the desk that saved the tickets or on a fresh one): for every reader,
    ``requester_history`` shows exactly what ``get`` shows."""
    desk = _desk()
    now = 0
    for minute in sorted({*opened, *ticks, read_at}):
        _advance(desk, minutes=minute - now)
        now = minute
        for _ in range(opened.count(minute)):
            desk.open(requester="ada", subject="VPN drops")
        if minute in ticks and minute != read_at:
            desk.tick()
        if minute == read_at:
            break
    if fresh_desk:
        desk = Helpdesk(desk.config, desk.store, desk.clock)
    _check_history(desk, "ada")
