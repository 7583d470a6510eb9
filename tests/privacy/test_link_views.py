"""Views never name a ticket their reader may not view: a link to one (a follow-up of a
colleague's earlier ticket, a problem of another team), the ids of the requester's
earlier tickets and a linked problem's notice are left out of what that reader gets,
in every read, while what is stored stays as it is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from attrs import evolve
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore
from helpdesk_core.config import AssignmentSettings
from helpdesk_core.errors import AccessDenied, ValidationError
from helpdesk_core.knowledge import KnowledgeSettings, LinkedProblemSolved
from helpdesk_core.model import (
    Agent,
    Event,
    Linked,
    LinkKind,
    Requester,
    Team,
    Ticket,
    TicketOpened,
    Tier,
)
from helpdesk_core.privacy import AccessPolicy, PrivacySettings, visible_events

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
def desk() -> Helpdesk:
    return _desk()


def _desk() -> Helpdesk:
    config = DeskConfig(
        tiers=(Tier(id="L1", teams=("desk", "network", "apps")),),
        teams=(Team(id="desk"), Team(id="network"), Team(id="apps")),
        agents=(
            Agent(id="alice", teams=("desk",)),
            Agent(id="bob", teams=("network",)),
            Agent(id="root", role="admin"),
        ),
        assignment=AssignmentSettings(auto_assign=False),
        knowledge=KnowledgeSettings(on_problem_solved="notify"),
        privacy=PrivacySettings(access=AccessPolicy(requesters_see_organization=True)),
    )
    desk = Helpdesk(config, MemoryStore(), ManualClock(T0))
    desk.upsert_requester(Requester(id="r1", name="Ada"))
    desk.upsert_requester(Requester(id="r2", name="Bea"))
    desk.upsert_requester(Requester(id="r3", name="Cy", organization="acme"))
    return desk


def _names(events: list[Event], ticket_id: str) -> bool:
    """Whether any of ``events`` names the ticket ``ticket_id`` (beyond its own)."""
    return any(ticket_id in repr(evolve(e, ticket_id="X")) for e in events)


def _follow_up(desk: Helpdesk) -> tuple[Ticket, Ticket]:
    """Ada's earlier ticket, opened before she joined acme (closed), and the follow-up a
    reply to it opened, now acme's, linked to it as the email channel links it."""
    earlier = desk.open(requester="r1", subject="Password expired")
    desk.solve(earlier.id, by="alice", resolution="Reset", first_contact=True)
    desk.transition(earlier.id, "close", by="alice")
    desk.upsert_requester(Requester(id="r1", name="Ada", organization="acme"))
    follow_up = desk.open(requester="r1", subject="Re: Password expired", channel="email")
    desk.link(follow_up.id, kind=LinkKind.FOLLOW_UP_OF, other=earlier.id)
    return earlier, desk.get(follow_up.id)


def test_a_colleague_does_not_see_the_link_to_an_earlier_ticket_they_may_not_view(
    desk: Helpdesk,
) -> None:
    earlier, ticket = _follow_up(desk)
    stored_history = desk.history(ticket.id)
    assert ticket.linked(LinkKind.FOLLOW_UP_OF) == (earlier.id,)
    assert ticket.organization == "acme" and earlier.organization is None

    # Ada, the agents and the admin read the link.
    for who in ("r1", "alice", "root", "system:mail"):
        assert desk.get(ticket.id, as_=who) == ticket, who
        assert desk.history(ticket.id, as_=who) == stored_history, who
    assert ticket in desk.search(as_="r1").items
    assert ticket in desk.requester_history("r1", as_="r1")

    # Cy, of acme, reads the follow-up but may not view Ada's earlier ticket: the link is
    # left out of every read, and no event names that ticket.
    with pytest.raises(AccessDenied):
        desk.get(earlier.id, as_="r3")
    seen = desk.get(ticket.id, as_="r3")
    assert seen == evolve(ticket, links=())
    events = desk.history(ticket.id, as_="r3")
    assert not _names(events, earlier.id)
    assert not any(isinstance(e, Linked) for e in events)
    assert desk.search(as_="r3").items == (seen,)
    assert desk.requester_history("r1", as_="r3") == [seen]
    # The public filter a frontend uses agrees with the desk.
    assert (
        visible_events(
            stored_history, role="requester", colleague=True, hidden_tickets=[earlier.id]
        )
        == events
    )

    # Reading changed nothing that is stored.
    assert desk.history(ticket.id) == stored_history
    assert desk.store.load(ticket.id) == ticket


def test_a_colleague_sees_the_link_to_a_ticket_they_may_view(desk: Helpdesk) -> None:
    desk.upsert_requester(Requester(id="r1", name="Ada", organization="acme"))
    earlier = desk.open(requester="r1", subject="Password expired")
    ticket = desk.open(requester="r1", subject="Re: Password expired")
    linked = desk.link(ticket.id, kind="follow_up_of", other=earlier.id)
    assert desk.get(earlier.id, as_="r3").id == earlier.id
    assert desk.get(ticket.id, as_="r3").links == linked.links
    assert any(isinstance(e, Linked) for e in desk.history(ticket.id, as_="r3"))


def test_an_agent_does_not_see_links_to_tickets_of_teams_they_do_not_work(
    desk: Helpdesk,
) -> None:
    """Alice works the incident (team desk), not the problem (team apps): she reads the
    incident without its caused_by link, without the notice naming the solved problem,
    and Bob reads an opening without the requester's earlier tickets he may not view."""
    problem = desk.open(requester="r2", subject="Gateway drops VPN", type="problem")
    desk.update(problem.id, by="root", team="apps")
    incident = desk.open(requester="r1", subject="VPN drops")
    desk.link(incident.id, kind="caused_by", other=problem.id)
    desk.reply(problem.id, author="root", body="Rule removed")
    desk.solve(problem.id, by="root", resolution="Rule 17 removed")
    stored = desk.get(incident.id)
    stored_history = desk.history(incident.id)
    assert any(isinstance(e, LinkedProblemSolved) for e in stored_history)

    assert desk.get(incident.id, as_="root") == stored
    assert desk.history(incident.id, as_="root") == stored_history
    seen = desk.get(incident.id, as_="alice")
    assert seen == evolve(stored, links=())
    events = desk.history(incident.id, as_="alice")
    assert not _names(events, problem.id)
    assert len(events) == len(stored_history) - 2  # the Linked and LinkedProblemSolved
    assert desk.search(as_="alice", requester="r1").items == (seen,)
    assert desk.requester_history("r1", as_="alice") == [seen]
    # The requester of the incident may not view the problem either.
    assert desk.get(incident.id, as_="r1").links == ()
    assert not _names(desk.history(incident.id, as_="r1"), problem.id)
    assert visible_events(
        stored_history, role="agent", hidden_tickets=[problem.id]
    ) == events
    # What her commands return is her view too.
    assert desk.reply(incident.id, author="alice", body="Fixed upstream").links == ()
    assert desk.get(incident.id).links == stored.links

    # Bob works network tickets: an opening there lists Ada's earlier tickets, of which
    # he reads only those he may view.
    mine = desk.open(requester="r1", subject="Switch port dead")
    desk.update(mine.id, by="root", team="network")
    opened = desk.history(mine.id)[0]
    assert isinstance(opened, TicketOpened) and incident.id in opened.history
    seen_opened = desk.history(mine.id, as_="bob")[0]
    assert isinstance(seen_opened, TicketOpened) and seen_opened.history == ()
    assert desk.history(mine.id, as_="root")[0] == opened
    assert desk.history(mine.id, as_="r1")[0] == opened


def test_visible_events_checks_the_hidden_tickets() -> None:
    for bad in ("T-1", 3, [3]):
        with pytest.raises(ValidationError) as caught:
            visible_events([], role="agent", hidden_tickets=bad)  # type: ignore[arg-type]
        assert caught.value.field == "hidden_tickets"


_GRAPHS = st.lists(
    st.tuples(
        st.sampled_from(["desk", "network", "apps"]),
        st.sampled_from([None, "acme"]),
        st.lists(st.tuples(st.integers(0, 5), st.sampled_from(list(LinkKind))), max_size=3),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=25, deadline=None)
@given(graph=_GRAPHS)
def test_no_view_names_a_ticket_its_reader_may_not_view(graph: list[Any]) -> None:
    """Tickets in random teams (some of Ada's opened for acme) linked at random: each
    reader gets every ticket they may view with exactly the links to the tickets they
    may view, in get, search and history; automation gets what is stored."""
    desk = _desk()
    tickets = []
    for i, (team, organization, _) in enumerate(graph):
        desk.upsert_requester(Requester(id="r1", name="Ada", organization=organization))
        ticket = desk.open(requester="r1", subject=f"T{i}")
        tickets.append(desk.update(ticket.id, by="root", team=team))
    for ticket, (_, _, links) in zip(tickets, graph, strict=True):
        for index, kind in links:
            if index < len(tickets) and tickets[index].id != ticket.id:
                if kind is LinkKind.CAUSED_BY and _would_cycle(desk, ticket.id, tickets[index].id):
                    continue
                desk.link(ticket.id, kind=kind, other=tickets[index].id)
    stored = {t.id: desk.get(t.id) for t in tickets}
    for who in ("alice", "bob", "r1", "r3"):
        viewable = set()
        for ticket_id in stored:
            try:
                desk.get(ticket_id, as_=who)
            except AccessDenied:
                continue
            viewable.add(ticket_id)
        found = {t.id: t for t in desk.search(as_=who, limit=100).items}
        assert set(found) == viewable
        for ticket_id in viewable:
            want = tuple(link for link in stored[ticket_id].links if link.other in viewable)
            assert desk.get(ticket_id, as_=who).links == want
            assert found[ticket_id].links == want
            named = {e.other for e in desk.history(ticket_id, as_=who) if isinstance(e, Linked)}
            assert named == {link.other for link in want}
    for ticket_id, ticket in stored.items():
        assert desk.get(ticket_id, as_="system:x") == ticket


def _would_cycle(desk: Helpdesk, start: str, target: str) -> bool:
    """Whether ``target`` is caused by ``start``, down its ``caused_by`` links."""
    seen, frontier = {target}, [target]
    while frontier:
        for cause in desk.get(frontier.pop()).linked(LinkKind.CAUSED_BY):
            if cause == start:
                return True
            if cause not in seen:
                seen.add(cause)
                frontier.append(cause)
    return False


def _problem_and_incidents(desk: Helpdesk, count: int = 3) -> tuple[str, list[str]]:
    """A problem of team apps and ``count`` incidents of Ada's (team desk) caused by it."""
    problem = desk.open(requester="r2", subject="Gateway drops VPN sessions", type="problem")
    desk.update(problem.id, by="root", team="apps")
    incidents = []
    for n in range(count):
        incident = desk.open(requester="r1", subject=f"VPN timeout {n}")
        desk.update(incident.id, by="root", team="desk")
        desk.link(incident.id, kind="caused_by", other=problem.id, by="root")
        incidents.append(incident.id)
    return problem.id, incidents


def test_incidents_of_a_problem_the_reader_may_not_view_name_nothing(desk: Helpdesk) -> None:
    problem, incidents = _problem_and_incidents(desk)
    with pytest.raises(AccessDenied):
        desk.get(problem, as_="alice")
    # Alice views the incidents, not the problem: the list of its incidents would tell
    # her which of her tickets it caused, and each ticket's link would name it.
    assert desk.incidents_of(problem, as_="alice") == []
    assert all(desk.get(i, as_="alice").links == () for i in incidents)
    # Who may view the problem lists them, links and all.
    assert [t.id for t in desk.incidents_of(problem, as_="root")] == incidents
    assert all(t.links for t in desk.incidents_of(problem, as_="root"))


def test_incidents_of_leave_out_links_to_other_tickets_the_reader_may_not_view(
    desk: Helpdesk,
) -> None:
    problem, [incident, *_] = _problem_and_incidents(desk)
    desk.update(problem, by="root", team="desk")  # Alice may view the problem now
    other = desk.open(requester="r2", subject="Router reboots")
    desk.update(other.id, by="root", team="network")
    desk.link(incident, kind="duplicate_of", other=other.id, by="root")
    [listed, *_] = desk.incidents_of(problem, as_="alice")
    assert listed.id == incident
    assert listed == desk.get(incident, as_="alice")
    assert other.id not in {link.other for link in listed.links}


def test_requester_history_reads_the_linked_tickets_once(desk: Helpdesk) -> None:
    _, incidents = _problem_and_incidents(desk, count=5)
    reads: list[int] = []
    get_many = desk.store.get_many

    def counting(ids: Any) -> Any:
        reads.append(1)
        return get_many(ids)

    desk.store.get_many = counting  # type: ignore[method-assign]
    history = desk.requester_history("r1", as_="alice")
    assert sorted(t.id for t in history) == sorted(incidents)
    assert all(t.links == () for t in history)
    assert len(reads) <= 1


def test_search_by_a_link_to_a_ticket_the_reader_may_not_view_finds_nothing(
    desk: Helpdesk,
) -> None:
    problem, incidents = _problem_and_incidents(desk)
    # The filter would tell Alice which of her tickets link to a problem she may not view.
    assert desk.search(links_to=(problem,), as_="alice").items == ()
    assert desk.search(links_to=(problem,), as_="alice").total == 0
    mine = desk.open(requester="r1", subject="Printer").id
    desk.update(mine, by="root", team="desk")
    dup = desk.open(requester="r1", subject="Printer again").id
    desk.update(dup, by="root", team="desk")
    desk.link(dup, kind="duplicate_of", other=mine, by="root")
    # The ids she may view still filter.
    assert [t.id for t in desk.search(links_to=(problem, mine), as_="alice").items] == [dup]
    assert sorted(t.id for t in desk.search(links_to=(problem,), as_="root").items) == sorted(
        incidents
    )
