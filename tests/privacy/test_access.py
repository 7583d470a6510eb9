"""The access policy: a matrix over every role x action x ticket relation, and the facade
enforcing it (refusals name identity, ticket and action, and change nothing; views filter
what an identity may see)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from attrs import evolve
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Page
from helpdesk_core.config import AssignmentSettings
from helpdesk_core.errors import AccessDenied, ConfigError, NotFound, ValidationError
from helpdesk_core.intake import Category, Question
from helpdesk_core.model import (
    Actor,
    Agent,
    CommentAdded,
    Event,
    Rated,
    Requester,
    StatusCategory,
    Team,
    Ticket,
    TicketOpened,
    TicketRouted,
    TicketUpdated,
    Tier,
    replay,
)
from helpdesk_core.privacy import (
    ACTIONS,
    ADMIN_ACTIONS,
    ANONYMOUS_REQUESTER,
    REQUESTER_ACTIONS,
    AccessPolicy,
    PrivacySettings,
    Role,
    visible_events,
)
from helpdesk_core.storage import Store, TicketQuery, TicketScope

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
TEAMS = (
    Team(id="desk"),
    Team(id="network", contacts=("lead",)),
    Team(id="apps"),
)
AGENTS = {
    "agent": Agent(id="alice", teams=("desk",)),
    "team_lead": Agent(id="lead", teams=("desk",), role="team_lead"),
    "admin": Agent(id="root", role="admin"),
    "manager": Agent(id="boss", role="manager"),
    "inactive": Agent(id="gone", teams=("desk", "network", "apps"), active=False),
}


def _ticket(*, team: str | None, assignee: str | None = None, requester: str = "r1") -> Ticket:
    opened = TicketOpened(
        ticket_id="T-1",
        at=T0,
        by=Actor.requester(requester),
        number=1,
        requester=requester,
        subject="Printer",
        organization="acme",
    )
    return evolve(replay([opened]), team=team, assignee=assignee)


# relation name -> ticket
RELATIONS = {
    "own_team": _ticket(team="desk"),
    "led_team": _ticket(team="network"),
    "other_team": _ticket(team="apps"),
    "assigned": _ticket(team="apps", assignee="alice"),
    "unrouted": _ticket(team=None),
}
ADMIN_ONLY = {"anonymise", "erase"}


def _expected_agent(who: str, relation: str, action: str) -> bool:
    if who in ("admin", "manager"):
        return True
    if who == "inactive" or action in ADMIN_ONLY:
        return False
    if relation in ("own_team", "unrouted"):
        return True
    if relation == "assigned":
        return who == "agent"
    if relation == "led_team":
        return who == "team_lead"
    return False


@pytest.mark.parametrize(
    ("who", "relation", "action"),
    list(itertools.product(AGENTS, RELATIONS, sorted(ACTIONS))),
)
def test_agent_matrix(who: str, relation: str, action: str) -> None:
    policy = AccessPolicy()
    agent = AGENTS[who]
    decision = policy.decide(
        actor=agent.actor, ticket=RELATIONS[relation], action=action, agent=agent, teams=TEAMS
    )
    assert decision.allowed is _expected_agent(who, relation, action), decision.reason


@pytest.mark.parametrize(
    ("relation", "organization", "action"),
    list(itertools.product(("own", "other", "same_org"), (False, True), sorted(ACTIONS))),
)
def test_requester_matrix(relation: str, organization: bool, action: str) -> None:
    policy = AccessPolicy(requesters_see_organization=organization)
    me = Requester(id="r1", organization="acme")
    owner = {"own": "r1", "other": "r2", "same_org": "r3"}[relation]
    ticket = _ticket(team="desk", requester=owner)
    if relation == "other":
        ticket = evolve(ticket, organization="globex")
    decision = policy.decide(actor=me.actor, ticket=ticket, action=action, requester=me)
    if relation == "own":
        expected = action in REQUESTER_ACTIONS
    elif relation == "same_org":
        expected = organization and action == "view"
    else:
        expected = False
    assert decision.allowed is expected, decision.reason


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_automation_may_do_everything(action: str) -> None:
    decision = AccessPolicy().decide(
        actor=Actor.system("sla"), ticket=_ticket(team="apps"), action=action
    )
    assert decision.allowed


@pytest.mark.parametrize(
    ("action", "words"),
    [
        ("reply", "may not reply to ticket 'T-1'"),
        ("set_priority", "may not set the priority of ticket 'T-1'"),
        ("transition", "may not change the status of ticket 'T-1'"),
        ("update", "may not edit ticket 'T-1'"),
        ("view", "may not view ticket 'T-1'"),
    ],
)
def test_a_refusal_names_the_action_in_words(action: str, words: str) -> None:
    with pytest.raises(AccessDenied) as caught:
        AccessPolicy().check(
            actor=Actor.requester("r2"), ticket=_ticket(team="apps"), action=action
        )
    assert words in str(caught.value)
    assert caught.value.action == action
    own = AccessPolicy().decide(
        actor=Actor.requester("r1"), ticket=_ticket(team="apps"), action="set_priority"
    )
    assert own.reason == "requesters may not set the priority of tickets"


def test_check_raises_access_denied_naming_identity_ticket_and_action() -> None:
    with pytest.raises(AccessDenied, match="agent:alice may not reply") as caught:
        AccessPolicy().check(
            actor=Actor.agent("alice"),
            ticket=_ticket(team="apps"),
            action="reply",
            agent=AGENTS["agent"],
        )
    assert (caught.value.identity, caught.value.ticket_id, caught.value.action) == (
        "agent:alice",
        "T-1",
        "reply",
    )


def test_unknown_actions_and_roles_are_refused() -> None:
    assert (
        not AccessPolicy()
        .decide(actor=Actor.system(), ticket=_ticket(team=None), action="fly")
        .allowed
    )
    with pytest.raises(ConfigError, match="unknown role 'boss'"):
        AccessPolicy(roles={"chief": "boss"})
    with pytest.raises(ConfigError, match=r"privacy\.requester_actions"):
        AccessPolicy(requester_actions=("view", "dance"))
    for reserved in sorted(ADMIN_ACTIONS):
        with pytest.raises(ConfigError, match=f"'{reserved}' may be done by admins only"):
            AccessPolicy(requester_actions=("view", reserved))
        with pytest.raises(ConfigError, match=r"privacy\.requester_actions"):
            DeskConfig.from_dict({"privacy": {"requester_actions": ["view", reserved]}})
        # A policy built around the check (a copy, say) still refuses requesters.
        loose = AccessPolicy()
        object.__setattr__(loose, "requester_actions", frozenset({"view", reserved}))
        decision = loose.decide(
            actor=Actor.requester("r1"), ticket=_ticket(team=None), action=reserved
        )
        assert not decision.allowed
    with pytest.raises(ConfigError, match=r"agents\[0\]\.role"):
        DeskConfig(agents=(Agent(id="x", role="wizard"),))
    config = DeskConfig(
        agents=(Agent(id="x", role="wizard"),),
        privacy=PrivacySettings(access=AccessPolicy(roles={"wizard": "admin"})),
    )
    assert config.privacy.access.role_of(config.agent("x")) is Role.ADMIN
    again = DeskConfig.from_dict(config.to_dict())
    assert again.privacy == config.privacy


# ---------------------------------------------------------------------------- the facade


@pytest.fixture
def desk() -> Helpdesk:
    config = DeskConfig(
        tiers=(Tier(id="L1", teams=("desk", "network", "apps")),),
        teams=TEAMS,
        agents=(*AGENTS.values(), Agent(id="bob", teams=("network",))),
        assignment=AssignmentSettings(auto_assign=False),
        privacy=PrivacySettings(access=AccessPolicy(requesters_see_organization=True)),
    )
    desk = Helpdesk(config, MemoryStore(), ManualClock(T0))
    desk.upsert_requester(Requester(id="r1", name="Ada", organization="acme"))
    desk.upsert_requester(Requester(id="r2", name="Bea"))
    desk.upsert_requester(Requester(id="r3", name="Cy", organization="acme"))
    return desk


def test_refusals_name_the_parts_and_change_nothing(desk: Helpdesk) -> None:
    ticket = desk.open(requester="r1", subject="VPN down")
    assert ticket.team == "desk"
    calls = [
        ("agent:bob", "reply", lambda: desk.reply(ticket.id, author="bob", body="hi")),
        ("agent:bob", "note", lambda: desk.reply(ticket.id, author="bob", body="x", public=False)),
        ("agent:bob", "assign", lambda: desk.assign(ticket.id, "bob", by="bob")),
        ("agent:bob", "set_priority", lambda: desk.set_priority(ticket.id, "high", by="bob")),
        ("requester:r2", "reply", lambda: desk.reply(ticket.id, author="r2", body="me too")),
        ("requester:r3", "reply", lambda: desk.reply(ticket.id, author="r3", body="me too")),
        ("requester:r1", "set_priority", lambda: desk.set_priority(ticket.id, "high", by="r1")),
        ("requester:r1", "assign", lambda: desk.assign(ticket.id, "alice", by="r1")),
        ("agent:gone", "reply", lambda: desk.reply(ticket.id, author="gone", body="x")),
        ("requester:r2", "view", lambda: desk.get(ticket.id, as_="r2")),
        ("agent:bob", "view", lambda: desk.history(ticket.id, as_="bob")),
    ]
    for identity, action, call in calls:
        with pytest.raises(AccessDenied) as caught:
            call()
        assert (caught.value.identity, caught.value.ticket_id, caught.value.action) == (
            identity,
            ticket.id,
            action,
        )
    assert desk.get(ticket.id).version == ticket.version


def test_an_agent_added_with_a_stored_requesters_id_lends_them_nothing(desk: Helpdesk) -> None:
    ticket = desk.open(requester="r1", subject="VPN down")
    desk.reply(ticket.id, author="alice", body="the admin password is in the vault", public=False)
    desk.upsert_requester(Requester(id="kim", name="Kim"))
    # Later an admin called kim joins the desk: the requester's id names them both.
    desk.reconfigure(
        desk.config.replace(agents=(*desk.config.agents, Agent(id="kim", role="admin")))
    )
    for call in (
        lambda: desk.get(ticket.id, as_="kim"),
        lambda: desk.history(ticket.id, as_="kim"),
        lambda: desk.search(as_="kim"),
        lambda: desk.reply(ticket.id, author="kim", body="me too"),
        lambda: desk.set_priority(ticket.id, "critical", by="kim"),
    ):
        with pytest.raises(ValidationError, match="agent and of a stored requester"):
            call()
    with pytest.raises(AccessDenied):
        desk.get(ticket.id, as_="requester:kim")
    assert desk.get(ticket.id, as_="agent:kim").id == ticket.id
    assert desk.get(ticket.id).version == ticket.version + 1


def test_opening_for_someone_else_takes_an_active_agent(desk: Helpdesk) -> None:
    before = desk.store.allocate_number()
    refused = [
        ("requester:r2", lambda: desk.open(requester="r1", subject="x", by="r2")),
        ("requester:r2", lambda: desk.open(requester="r1", subject="x", by=Actor.requester("r2"))),
        ("requester:r2", lambda: desk.open(requester="r1", subject="x", by=Requester(id="r2"))),
        ("agent:gone", lambda: desk.open(requester="r1", subject="x", by="gone")),
        ("agent:gone", lambda: desk.open(requester="r1", subject="x", by=Actor.agent("gone"))),
    ]
    for identity, call in refused:
        with pytest.raises(AccessDenied) as caught:
            call()
        assert (caught.value.identity, caught.value.action) == (identity, "open")
    assert desk.search().total == 0  # nothing was written
    assert desk.store.allocate_number() == before + 1
    on_behalf = desk.open(requester="r1", subject="Phoned in", by="bob")
    assert (on_behalf.requester, desk.history(on_behalf.id)[0].by) == ("r1", Actor.agent("bob"))
    own = desk.open(requester="r2", subject="Mine", by="requester:r2")
    assert desk.history(own.id)[0].by == Actor.requester("r2")


def test_opening_for_someone_else_does_not_tell_whether_they_are_stored(
    desk: Helpdesk,
) -> None:
    """A requester opening a ticket for another requester id is refused the same way
    whether that id is stored or not (with or without a request id): the refusal comes
    before the id is looked up, so people's ids cannot be probed."""
    before = desk.store.allocate_number()
    messages = []
    for target in ("r1", "nobody-here"):
        for request_id in (None, "form-1"):
            with pytest.raises(AccessDenied) as caught:
                desk.open(requester=target, subject="x", by="r2", request_id=request_id)
            assert (caught.value.identity, caught.value.action) == ("requester:r2", "open")
            messages.append(str(caught.value).replace(repr(target), "<id>"))
    assert len(set(messages)) == 1
    assert desk.search().total == 0  # nothing was written
    assert desk.store.allocate_number() == before + 1
    # An agent opening for an id nobody has still learns it is not stored.
    with pytest.raises(NotFound):
        desk.open(requester="nobody-here", subject="x", by="alice")


def test_a_link_to_a_ticket_out_of_sight_reads_as_not_found(desk: Helpdesk) -> None:
    hidden = desk.open(requester="r1", subject="VPN down")  # team desk: bob cannot see it
    mine = desk.open(requester="r2", subject="Switch", by="bob")
    mine = desk.update(mine.id, by="root", team="network")
    for kind in ("caused_by", "duplicate_of", "follow_up_of"):
        with pytest.raises(NotFound) as missing:
            desk.link(mine.id, kind=kind, other="no-such-ticket", by="bob")
        with pytest.raises(NotFound) as out_of_sight:
            desk.link(mine.id, kind=kind, other=hidden.id, by="bob")
        assert type(out_of_sight.value) is type(missing.value)
    assert desk.get(mine.id).links == ()
    # Someone who sees both may link them; so may automation.
    assert desk.link(mine.id, kind="caused_by", other=hidden.id, by="root").links
    assert desk.link(mine.id, kind="follow_up_of", other=hidden.id).links[-1].other == hidden.id


def test_allowed_people_act(desk: Helpdesk) -> None:
    ticket = desk.open(requester="r1", subject="VPN down")
    desk.reply(ticket.id, author="alice", body="Looking")
    desk.update(ticket.id, by="root", team="network")
    desk.reply(ticket.id, author="bob", body="Network here")
    desk.reply(ticket.id, author="lead", body="Lead here", public=False)
    with pytest.raises(AccessDenied):
        desk.reply(ticket.id, author="alice", body="not my team any more")
    desk.assign(ticket.id, "alice", by="lead")
    after = desk.reply(ticket.id, author="alice", body="assigned to me now")
    assert after.assignee == "alice"
    assert desk.get(ticket.id, as_="r3").id == ticket.id  # same organization may view


def test_requesters_never_see_internal_notes(desk: Helpdesk) -> None:
    ticket = desk.open(requester="r1", subject="VPN down")
    desk.reply(ticket.id, author="alice", body="Public answer")
    desk.reply(ticket.id, author="alice", body="Secret note", public=False)
    bodies = [e.body for e in desk.history(ticket.id, as_="r1") if isinstance(e, CommentAdded)]
    assert bodies == ["Public answer"]
    agent_view = [e for e in desk.history(ticket.id, as_="alice") if isinstance(e, CommentAdded)]
    assert len(agent_view) == 2
    assert len(desk.history(ticket.id)) == len(desk.history(ticket.id, as_="root"))


def test_search_returns_only_what_the_identity_may_see(desk: Helpdesk) -> None:
    mine = [desk.open(requester="r1", subject=f"Mine {i}") for i in range(3)]
    theirs = [desk.open(requester="r2", subject=f"Theirs {i}") for i in range(2)]
    moved = desk.update(theirs[0].id, by="root", team="network")
    assigned = desk.update(theirs[1].id, by="root", team="apps")
    desk.assign(assigned.id, "bob", by="root")

    def ids(page: object) -> set[str]:
        return {t.id for t in page.items}  # type: ignore[attr-defined]

    assert ids(desk.search(as_="r1")) == {t.id for t in mine}
    assert ids(desk.search(as_="r2", limit=10)) == {t.id for t in theirs}
    assert ids(desk.search(as_="r3")) == {t.id for t in mine}  # organization acme
    assert ids(desk.search(as_="bob")) == {moved.id, assigned.id}
    assert ids(desk.search(as_="alice")) == {t.id for t in mine}
    assert ids(desk.search(as_="lead")) == {t.id for t in mine} | {moved.id}
    assert desk.search(as_="root").total == 5
    assert desk.search(as_="r1", requester="r2").total == 0
    page = desk.search(as_="lead", limit=2, order_by="number")
    assert (len(page.items), page.total, page.next_offset) == (2, 4, 2)
    rest = desk.search(as_="lead", limit=2, offset=2, order_by="number")
    assert ids(page) | ids(rest) == ids(desk.search(as_="lead"))
    assert rest.next_offset is None
    # Pages by the token of where the last ended: through the store's scope (an agent's
    # view) and through the desk's own filter (an explicit scope read as an agent).
    for asked in ({}, {"scope": TicketScope(teams=("desk", "network"))}):
        before = desk.search(as_="lead", order_by="-number", limit=100, **asked)
        shown = desk.search(as_="lead", order_by="-number", limit=3, **asked)
        walked = [t.id for t in shown.items]
        assert shown.next_after is not None
        desk.open(requester="r1", subject="Arrives between the pages")
        while shown.next_after is not None:
            shown = desk.search(
                as_="lead", order_by="-number", limit=3, after=shown.next_after, **asked
            )
            assert shown.next_offset is None
            walked.extend(t.id for t in shown.items)
        assert walked == [t.id for t in before.items], asked
        assert len(walked) >= 4


def test_requesters_may_reopen_but_not_move_by_a_reopens_name(desk: Helpdesk) -> None:
    ticket = desk.open(requester="r1", subject="VPN down")
    # new -> open is the agent's move, even when asked for by the name "open"
    with pytest.raises(AccessDenied) as caught:
        desk.transition(ticket.id, "open", by="r1")
    assert caught.value.action == "transition"
    desk.reply(ticket.id, author="alice", body="Looking")
    desk.transition(ticket.id, "hold", by="alice", reason="vendor")
    for name in ("open", "resume"):  # on_hold -> open resumes; it reopens nothing
        with pytest.raises(AccessDenied):
            desk.transition(ticket.id, name, by="r1")
    assert desk.get(ticket.id).status == "on_hold"
    desk.transition(ticket.id, "resume", by="alice")
    desk.solve(ticket.id, by="alice", resolution="fixed")
    reopened = desk.transition(ticket.id, "open", by="r1", reason="still down")
    assert reopened.status == "open" and reopened.reopen_count == 1


def test_anonymised_tickets_belong_to_no_requester(desk: Helpdesk) -> None:
    ticket = desk.open(requester="r2", subject="Laptop broken")
    desk.erase_requester("r2", by="root")
    anonymised = desk.get(ticket.id)
    assert anonymised.anonymised and anonymised.requester == ANONYMOUS_REQUESTER
    with pytest.raises(ValidationError, match="anonymised tickets") as caught:
        desk.upsert_requester(Requester(id=ANONYMOUS_REQUESTER, name="Mallory"))
    assert caught.value.field == "requester.id"
    with pytest.raises(ValidationError):
        desk.open(requester=Requester(id=ANONYMOUS_REQUESTER), subject="me")
    who = Actor.requester(ANONYMOUS_REQUESTER)
    assert desk.search(as_=who).total == 0
    with pytest.raises(AccessDenied, match="anonymised"):
        desk.get(ticket.id, as_=who)
    with pytest.raises(AccessDenied):
        desk.reply(ticket.id, author=who, body="I am the requester now")
    assert desk.get(ticket.id).version == anonymised.version


def test_known_errors_stay_with_the_agents(desk: Helpdesk) -> None:
    problem = desk.open(requester="r1", subject="Gateway drops VPN", type="problem")
    desk.record_known_error(
        problem.id, symptom="drops", root_cause="rule 17", workaround="vpn2", by="alice"
    )
    assert desk.get(problem.id, as_="alice").known_error is not None
    assert desk.get(problem.id, as_="r1").known_error is None
    assert desk.search(as_="r1").items[0].known_error is None
    assert desk.search(as_="r3").items[0].known_error is None  # same organization
    kinds = {type(e).__name__ for e in desk.history(problem.id, as_="r1")}
    assert "KnownErrorRecorded" not in kinds
    assert "KnownErrorRecorded" in {type(e).__name__ for e in desk.history(problem.id)}
    assert desk.get(problem.id).known_error is not None  # stored as it was
    # The public helper a frontend filters a history with agrees with the desk.
    desk.update_known_error(problem.id, workaround="vpn3", by="alice")
    everything = desk.history(problem.id)
    seen = visible_events(everything, role="requester")
    assert [type(e) for e in seen] == [type(e) for e in desk.history(problem.id, as_="r1")]
    assert not any(e.agents_only for e in seen)
    assert visible_events(everything, role="agent") == everything


#: Intake questions: ``phone`` and ``home`` are personal answers, ``floor`` and ``os`` not.
CATEGORIES = {
    "network": Category(
        name="network",
        questions=(Question(name="phone", personal=True), Question(name="floor", type="int")),
    ),
    "laptop": Category(
        name="laptop",
        questions=(Question(name="home", personal=True), Question(name="os")),
    ),
}
PERSONAL = frozenset({"phone", "home"})


def _answers(event: Event) -> dict[str, object] | None:
    """The custom fields an event carries (None: it carries none)."""
    if isinstance(event, TicketOpened):
        return dict(event.fields)
    if isinstance(event, TicketRouted | TicketUpdated) and event.changes.fields is not None:
        return dict(event.changes.fields)
    return None


def test_colleagues_do_not_see_personal_answers(desk: Helpdesk) -> None:
    """With ``requesters_see_organization``, a colleague reads a ticket without the
    answers its requester gave to personal questions; the requester and the agents read
    them all, and no read changes what is stored."""
    desk.reconfigure(desk.config.replace(categories=CATEGORIES))
    ticket = desk.open(
        requester="r1",
        subject="Wifi drops at home",
        category="network",
        fields={"phone": "+44 20 7946 0000", "floor": 3},
    )
    desk.update(ticket.id, by="alice", fields={"phone": "+44 20 7946 0001", "floor": 4})
    desk.update(ticket.id, by="alice", fields={"phone": "+44 20 7946 0002"}, reason="new number")
    desk.reply(ticket.id, author="alice", body="Calling you now")
    stored = desk.get(ticket.id)
    stored_history = desk.history(ticket.id)
    assert stored.fields == {"phone": "+44 20 7946 0002", "floor": 4}

    # The requester and the agents see every answer.
    for who in ("r1", "alice", "root", "system:mail"):
        assert desk.get(ticket.id, as_=who) == stored, who
        assert desk.history(ticket.id, as_=who) == stored_history, who
    assert desk.search(as_="r1").items == (stored,)
    assert desk.requester_history("r1", as_="r1") == [stored]

    # A colleague of the same organization: the ticket without the personal answers.
    seen = desk.get(ticket.id, as_="r3")
    assert seen == evolve(stored, fields={"floor": 4})
    events = desk.history(ticket.id, as_="r3")
    assert "+44" not in repr(events)
    assert [type(e) for e in events] == [type(e) for e in stored_history]
    assert [_answers(e) for e in events if _answers(e) is not None] == [
        {"floor": 3},
        {"floor": 4},
    ]
    updates = [e for e in events if isinstance(e, TicketUpdated)]
    assert updates[1].changes.fields is None and updates[1].reason == "new number"
    assert desk.search(as_="r3").items == (seen,)
    assert desk.requester_history("r1", as_="r3") == [seen]
    # The public filter a frontend uses agrees with the desk.
    assert visible_events(stored_history, role="requester", hidden_fields=PERSONAL) == events
    assert visible_events(stored_history, role="requester") == stored_history

    # A question is personal in any category (as for retention): the answer stays hidden
    # once the ticket moves to a category that does not ask it.
    moved = desk.update(ticket.id, by="alice", category="laptop", fields={"os": "linux"})
    assert moved.fields == {"phone": "+44 20 7946 0002", "floor": 4, "os": "linux"}
    assert desk.get(ticket.id, as_="r3").fields == {"floor": 4, "os": "linux"}

    # Reading changed nothing that is stored.
    assert desk.history(ticket.id)[: len(stored_history)] == stored_history
    assert desk.store.load(ticket.id) == desk.get(ticket.id) == moved


def test_colleagues_do_not_see_the_requesters_earlier_tickets_or_rating_comment(
    desk: Helpdesk,
) -> None:
    """With ``requesters_see_organization``, a colleague reads a ticket without the ids
    of its requester's earlier tickets (the opening's ``history``) and without the
    comment of the requester's rating (the score stays); the requester and the agents
    read them, and no read changes what is stored."""
    earlier = desk.open(requester="r1", subject="Password expired")
    ticket = desk.open(requester="r1", subject="Badge does not open the lab")
    desk.reply(ticket.id, author="alice", body="New badge at reception")
    desk.solve(ticket.id, by="alice", resolution="New badge")
    desk.rate(ticket.id, score=2, comment="Slow, and Bob at reception was rude", by="r1")
    stored = desk.get(ticket.id)
    stored_history = desk.history(ticket.id)
    assert stored_history[0].history == (earlier.id,)  # type: ignore[attr-defined]
    assert stored.satisfaction is not None and stored.satisfaction.comment

    for who in ("r1", "alice", "root", "system:mail"):
        assert desk.get(ticket.id, as_=who) == stored, who
        assert desk.history(ticket.id, as_=who) == stored_history, who
    assert stored in desk.search(as_="r1").items
    assert stored in desk.requester_history("r1", as_="r1")

    # A colleague of the same organization.
    seen = desk.get(ticket.id, as_="r3")
    assert seen == evolve(stored, satisfaction=evolve(stored.satisfaction, comment=""))
    assert seen.satisfaction is not None and seen.satisfaction.score == 2
    events = desk.history(ticket.id, as_="r3")
    assert earlier.id not in repr(events) and "rude" not in repr(events)
    assert [type(e) for e in events] == [type(e) for e in stored_history]
    opened = events[0]
    assert isinstance(opened, TicketOpened) and opened.history == ()
    (rated,) = [e for e in events if isinstance(e, Rated)]
    assert (rated.score, rated.comment) == (2, "")
    assert seen in desk.search(as_="r3").items
    assert stored not in desk.search(as_="r3").items
    assert seen in desk.requester_history("r1", as_="r3")
    # The public filter a frontend uses agrees with the desk.
    assert visible_events(stored_history, role="requester", colleague=True) == events
    with pytest.raises(ValidationError) as caught:
        visible_events(stored_history, role="requester", colleague="yes")  # type: ignore[arg-type]
    assert caught.value.field == "colleague"

    # Reading changed nothing that is stored.
    assert desk.history(ticket.id) == stored_history
    assert desk.store.load(ticket.id) == stored


def test_a_requesters_command_returns_the_ticket_without_its_known_error(
    desk: Helpdesk,
) -> None:
    """What reply, reopen or rate return to a requester is their view of the ticket, as
    get(as_=...) gives it: the agents' known error is not in it."""
    problem = desk.open(requester="r1", subject="Gateway drops VPN", type="problem")
    desk.record_known_error(problem.id, symptom="drops", root_cause="rule 17", by="alice")
    replied = desk.reply(problem.id, author="r1", body="Still dropping")
    assert replied.known_error is None
    desk.reply(problem.id, author="alice", body="Looking")
    desk.solve(problem.id, by="alice", resolution="rule 17 removed")
    assert desk.rate(problem.id, score=4, by="r1").known_error is None
    reopened = desk.transition(problem.id, "open", by="r1", reason="back again")
    assert reopened.status == "open" and reopened.known_error is None
    stored = desk.get(problem.id)
    assert stored.known_error is not None and stored.known_error.root_cause == "rule 17"
    assert desk.reply(problem.id, author="alice", body="Again").known_error is not None


def test_limits_bound_category_asset_and_requesters(desk: Helpdesk) -> None:
    huge = "x" * 1_001
    for name in ("category", "asset"):
        with pytest.raises(ValidationError, match="max_subject_length") as caught:
            desk.open(requester="r1", subject="s", **{name: huge})
        assert caught.value.field == name
    ticket = desk.open(requester="r1", subject="s")
    for name in ("category", "asset"):
        with pytest.raises(ValidationError, match="max_subject_length"):
            desk.update(ticket.id, by="root", **{name: huge})
    for name in ("name", "organization", "language"):
        with pytest.raises(ValidationError) as caught:
            desk.upsert_requester(Requester(id="r9", **{name: huge}))
        assert caught.value.field == f"requester.{name}"
    with pytest.raises(ValidationError, match="max_fields"):
        desk.upsert_requester(Requester(id="r9", attributes={f"a{i}": 1 for i in range(101)}))
    with pytest.raises(NotFound):
        desk.get_requester("r9")


_PLANS = st.lists(
    st.tuples(
        st.sampled_from([None, "desk", "network", "apps"]),
        st.lists(st.sampled_from(["alice", "bob", "lead"]), max_size=2),
    ),
    max_size=8,
)


@settings(max_examples=40, deadline=None)
@given(
    plans=_PLANS,
    order_by=st.sampled_from(["number", "-created_at", "priority"]),
    limit=st.integers(min_value=1, max_value=4),
    offset=st.integers(min_value=0, max_value=5),
)
def test_an_agents_search_pages_exactly_what_the_policy_lets_them_view(
    plans: list[tuple[str | None, list[str]]], order_by: str, limit: int, offset: int
) -> None:
    desk = _search_desk()
    for i, (team, assignees) in enumerate(plans):
        ticket = desk.open(requester="r1", subject=f"Ticket {i}")
        if team is not None:
            desk.update(ticket.id, by="root", team=team)
        for agent in assignees:  # the first assignee stays the owner
            desk.assign(ticket.id, agent, by="root")
    tickets = desk.search(limit=100).items
    policy = desk.config.privacy.access
    for who in ("alice", "bob", "lead", "root", "boss", "gone"):
        allowed = [
            t
            for t in tickets
            if policy.decide(
                actor=Actor.agent(who),
                ticket=t,
                action="view",
                agent=desk.config.agent(who),
                teams=desk.config.teams,
            ).allowed
        ]
        expected = TicketQuery(order_by=order_by, limit=limit, offset=offset).page(allowed)
        page = desk.search(as_=who, order_by=order_by, limit=limit, offset=offset)
        assert page == expected, who


def _search_desk() -> Helpdesk:
    config = DeskConfig(
        tiers=(Tier(id="L1", teams=("desk", "network", "apps")),),
        teams=TEAMS,
        agents=(*AGENTS.values(), Agent(id="bob", teams=("network",))),
        assignment=AssignmentSettings(auto_assign=False),
    )
    desk = Helpdesk(config, MemoryStore(), ManualClock(T0))
    desk.upsert_requester(Requester(id="r1", name="Ada"))
    return desk


class _CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.queries: list[TicketQuery] = []

    def query(self, query: TicketQuery) -> Page[Ticket]:
        self.queries.append(query)
        return super().query(query)


def test_an_agents_search_is_one_store_query_whatever_the_desk_holds() -> None:
    store = _CountingStore()
    desk = Helpdesk(_search_desk().config, store, ManualClock(T0))
    desk.upsert_requester(Requester(id="r1", name="Ada"))
    for i in range(30):
        ticket = desk.open(requester="r1", subject=f"Ticket {i}")
        desk.update(ticket.id, by="root", team=("network", "apps", "desk")[i % 3])
    store.queries.clear()
    page = desk.search(as_="bob", limit=5, order_by="number")
    assert page.total == 10 and len(page.items) == 5
    # The store filters and pages the agent's view: it is not read a thousand at a time.
    assert len(store.queries) == 1
    assert store.queries[0].limit == 5
    assert store.queries[0].scope == TicketScope(teams=("network",), unrouted=True, agent="bob")
    lead = desk.search(as_="lead", limit=50)
    assert lead.total == 20  # desk, and network which they lead
    assert store.queries[-1].scope == TicketScope(
        teams=("desk", "network"), unrouted=True, agent="lead"
    )
    store.queries.clear()
    assert desk.search(as_="gone").total == 0  # inactive: nothing, and no query
    assert store.queries == []


def _organization_desk(store: MemoryStore, *, see_organization: bool = True) -> Helpdesk:
    config = evolve(
        _search_desk().config,
        privacy=PrivacySettings(
            access=AccessPolicy(requesters_see_organization=see_organization)
        ),
    )
    desk = Helpdesk(config, store, ManualClock(T0))
    desk.upsert_requester(Requester(id="r1", name="Ada", organization="acme"))
    desk.upsert_requester(Requester(id="r2", name="Bea", organization="acme"))
    desk.upsert_requester(Requester(id="r3", name="Cy", organization="globex"))
    desk.upsert_requester(Requester(id="r4", name="Di"))
    return desk


def test_a_requesters_search_is_one_store_query_with_their_organization() -> None:
    store = _CountingStore()
    desk = _organization_desk(store)
    for i in range(12):
        desk.open(requester=("r1", "r2", "r3", "r4")[i % 4], subject=f"Ticket {i}")
    # r1 moves to globex: their own acme tickets stay theirs, globex's become visible.
    desk.upsert_requester(Requester(id="r1", name="Ada", organization="globex"))
    store.queries.clear()
    page = desk.search(as_="r1", limit=4, order_by="number")
    assert len(store.queries) == 1 and store.queries[0].limit == 4
    assert store.queries[0].scope == TicketScope(requester="r1", organization="globex")
    everything = desk.search(as_="r1", limit=100, order_by="number")
    assert {t.requester for t in everything.items} == {"r1", "r3"}
    assert everything.total == 6 and page.items == everything.items[:4]
    r2 = desk.search(as_="r2", limit=100)
    assert {t.requester for t in r2.items} == {"r1", "r2"}  # r1's acme tickets stay acme's
    assert desk.search(as_="r2", requester="r3").total == 0
    assert desk.search(as_="r4").total == 3  # no organization: their own
    # Anonymised tickets belong to nobody, whatever organization they were opened for.
    r2s = [t.id for t in desk.search(requester="r2").items]
    desk.erase_requester("r2", by="root")
    # ... also once work goes on (the ticket is no longer "anonymised and untouched").
    desk.reply(r2s[0], author="root", body="Closing this off")
    desk.upsert_requester(Requester(id="r5", name="Ed", organization="acme"))
    assert {t.requester for t in desk.search(as_="r5", limit=100).items} == {"r1"}
    with pytest.raises(AccessDenied):
        desk.get(r2s[0], as_="r5")
    assert {t.requester for t in desk.search(as_="r1", limit=100).items} == {"r1", "r3"}
    assert desk.search(as_="r1", anonymised=True).total == 0
    # r1's tickets were opened for acme: globex's r3 does not see them.
    assert {t.requester for t in desk.search(as_="r3", limit=100).items} == {"r3"}


@pytest.mark.parametrize("blank", ["", "  "])
def test_a_blank_organization_shares_no_tickets(blank: str) -> None:
    """An organization left blank (a form's empty field) is no organization: the
    requesters who left it blank see their own tickets only, and may search them."""
    desk = _organization_desk(MemoryStore())
    desk.upsert_requester(Requester(id="r5", name="Ed", organization=blank))
    desk.upsert_requester(Requester(id="r6", name="Flo", organization=blank))
    private = desk.open(requester="r5", subject="My salary is wrong")
    mine = desk.open(requester="r6", subject="Printer jams")
    with pytest.raises(AccessDenied):
        desk.get(private.id, as_="r6")
    with pytest.raises(AccessDenied):
        desk.history(private.id, as_="r6")
    assert desk.requester_history("r5", as_="r6") == []
    assert [t.id for t in desk.search(as_="r6").items] == [mine.id]
    assert [t.id for t in desk.search(as_="r5").items] == [private.id]
    decision = desk.config.privacy.access.decide(
        actor=Actor.requester("r6"),
        ticket=desk.get(private.id),
        action="view",
        requester=desk.get_requester("r6"),
    )
    assert not decision.allowed


def test_a_requester_who_may_not_view_finds_nothing() -> None:
    desk = _organization_desk(MemoryStore(), see_organization=False)
    mine = desk.open(requester="r1", subject="Mine")
    desk.open(requester="r2", subject="A colleague's")
    assert [t.id for t in desk.search(as_="r1").items] == [mine.id]
    blind = evolve(
        desk.config,
        privacy=PrivacySettings(access=AccessPolicy(requester_actions=("reply",))),
    )
    desk.reconfigure(blind)
    with pytest.raises(AccessDenied):
        desk.get(mine.id, as_="r1")
    assert desk.search(as_="r1").total == 0  # as get: no view, no search


@settings(max_examples=40, deadline=None)
@given(
    opened=st.lists(st.sampled_from(["r1", "r2", "r3", "r4"]), max_size=8),
    moves=st.lists(
        st.tuples(st.sampled_from(["r1", "r2", "r3"]), st.sampled_from([None, "acme", "globex"])),
        max_size=3,
    ),
    order_by=st.sampled_from(["number", "-created_at", "priority"]),
    limit=st.integers(min_value=1, max_value=4),
    offset=st.integers(min_value=0, max_value=5),
)
def test_a_requesters_search_pages_exactly_what_the_policy_lets_them_view(
    opened: list[str],
    moves: list[tuple[str, str | None]],
    order_by: str,
    limit: int,
    offset: int,
) -> None:
    desk = _organization_desk(MemoryStore())
    for i, requester in enumerate(opened):
        desk.open(requester=requester, subject=f"Ticket {i}")
    for requester, organization in moves:
        desk.upsert_requester(Requester(id=requester, organization=organization))
    tickets = desk.search(limit=100).items
    policy = desk.config.privacy.access
    for who in ("r1", "r2", "r3", "r4"):
        allowed = [
            t
            for t in tickets
            if policy.decide(
                actor=Actor.requester(who),
                ticket=t,
                action="view",
                requester=desk.get_requester(who),
                teams=desk.config.teams,
            ).allowed
        ]
        expected = TicketQuery(order_by=order_by, limit=limit, offset=offset).page(allowed)
        page = desk.search(as_=who, order_by=order_by, limit=limit, offset=offset)
        assert [t.id for t in page.items] == [t.id for t in expected.items], who
        assert (page.total, page.next_offset) == (expected.total, expected.next_offset), who


_ANSWERS = st.fixed_dictionaries(
    {},
    optional={
        "phone": st.sampled_from(["+44 1", "+44 2"]),
        "home": st.sampled_from(["12 Elm Row", "3 Oak Lane"]),
        "floor": st.integers(min_value=0, max_value=9),
        "os": st.sampled_from(["linux", "mac"]),
    },
)


@settings(max_examples=40, deadline=None)
@given(
    opened=st.lists(
        st.tuples(
            st.sampled_from(["r1", "r2", "r3", "r4"]),
            st.sampled_from([None, "network", "laptop"]),
            _ANSWERS,
        ),
        max_size=6,
    ),
    edits=st.lists(st.tuples(st.integers(min_value=0, max_value=5), _ANSWERS), max_size=4),
    moves=st.lists(
        st.tuples(st.sampled_from(["r1", "r2", "r3"]), st.sampled_from([None, "acme", "globex"])),
        max_size=2,
    ),
    ratings=st.lists(
        st.tuples(st.integers(min_value=0, max_value=5), st.sampled_from(["", "Too slow"])),
        max_size=3,
    ),
)
def test_a_requester_sees_personal_answers_of_their_own_tickets_only(
    opened: list[tuple[str, str | None, dict[str, object]]],
    edits: list[tuple[int, dict[str, object]]],
    moves: list[tuple[str, str | None]],
    ratings: list[tuple[int, str]],
) -> None:
    """Whatever was answered, edited and rated, and whoever moved organization: every
    ticket a requester reads (get, history, search, requester_history) holds the personal
    answers, the earlier tickets and the rating comment of their own tickets as stored,
    none of those of their colleagues' tickets, and everything else as stored; and
    reading leaves the store as it was."""
    desk = _organization_desk(MemoryStore())
    desk.reconfigure(desk.config.replace(categories=CATEGORIES))
    ids = [
        desk.open(requester=who, subject=f"Ticket {i}", category=category, fields=answers).id
        for i, (who, category, answers) in enumerate(opened)
    ]
    for index, answers in edits:
        if ids and answers:
            desk.update(ids[index % len(ids)], by="root", fields=answers)
    for index, comment in ratings:
        if ids and desk.get(ids[index % len(ids)]).satisfaction is None:
            rated = desk.get(ids[index % len(ids)])
            if rated.status_category is not StatusCategory.SOLVED:
                desk.solve(rated.id, by="root", resolution="Fixed", first_contact=True)
            desk.rate(rated.id, score=3, comment=comment, by=rated.requester)
    for requester, organization in moves:
        desk.upsert_requester(Requester(id=requester, organization=organization))
    stored = {t.id: t for t in desk.search(limit=100).items}
    histories = {ticket_id: desk.history(ticket_id) for ticket_id in stored}

    def expected(ticket: Ticket, who: str) -> Ticket:
        if ticket.requester == who:
            return ticket
        rating = ticket.satisfaction
        return evolve(
            ticket,
            fields={k: v for k, v in ticket.fields.items() if k not in PERSONAL},
            satisfaction=None if rating is None else evolve(rating, comment=""),
        )

    for who in ("r1", "r2", "r3", "r4"):
        page = desk.search(as_=who, limit=100)
        for ticket in page.items:
            original = stored[ticket.id]
            assert ticket == expected(original, who)
            assert desk.get(ticket.id, as_=who) == ticket
            history = desk.history(ticket.id, as_=who)
            assert len(history) == len(histories[ticket.id])
            for seen, event in zip(history, histories[ticket.id], strict=True):
                if ticket.requester == who:
                    assert seen == event
                    continue
                if isinstance(event, Rated):
                    assert seen == evolve(event, comment="")
                    continue
                answers = _answers(event)
                kept = {k: v for k, v in (answers or {}).items() if k not in PERSONAL}
                if isinstance(event, TicketOpened):
                    assert seen == evolve(event, fields=kept, history=())
                elif answers is None:
                    assert seen == event
                else:
                    assert isinstance(event, TicketRouted | TicketUpdated)
                    assert seen == evolve(event, changes=evolve(event.changes, fields=kept or None))
        for requester in ("r1", "r2", "r3", "r4"):
            for ticket in desk.requester_history(requester, as_=who):
                assert ticket == expected(stored[ticket.id], who)
    assert {t.id: t for t in desk.search(limit=100).items} == stored
    assert {ticket_id: desk.history(ticket_id) for ticket_id in stored} == histories


def test_a_search_scope_names_known_teams(desk: Helpdesk) -> None:
    with pytest.raises(ValidationError) as caught:
        desk.search(scope=TicketScope(teams=("netwrok",)))
    assert caught.value.field == "scope.teams"
    with pytest.raises(ValidationError, match="TicketScope"):
        desk.search(scope={"teams": ["desk"]})
    with pytest.raises(ValidationError, match="list of team ids"):
        TicketScope(teams="desk")
    with pytest.raises(ValidationError, match="team id"):
        TicketScope(teams=[["desk"]])
    with pytest.raises(ValidationError):
        TicketScope(unrouted="yes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        TicketScope(agent="")
    assert TicketScope(teams=["desk", "desk"]).teams == ("desk",)


def test_sla_and_requester_reads_take_an_identity(desk: Helpdesk) -> None:
    """``sla``, ``requester_history``, ``get_requester`` and ``find_requester`` answer an
    identity only what it may see, as ``get`` does."""
    desk.upsert_requester(Requester(id="r4", name="Di", email="di@example.org"))
    ours = desk.open(requester="r1", subject="VPN down")
    desk.reply(ours.id, author="alice", body="On it")
    desk.clock.advance(minutes=5)  # type: ignore[attr-defined]
    elsewhere = desk.open(requester="r1", subject="Router")
    elsewhere = desk.update(elsewhere.id, by="root", team="network")
    # sla: as get
    assert desk.sla(ours.id, as_="r1") == desk.sla(ours.id)
    assert desk.sla(ours.id, as_="alice") == desk.sla(ours.id)
    for who, denied in (("r2", "requester:r2"), ("bob", "agent:bob"), ("gone", "agent:gone")):
        with pytest.raises(AccessDenied) as caught:
            desk.sla(ours.id, as_=who)
        assert (caught.value.identity, caught.value.action) == (denied, "view")
    # requester_history: only the tickets the identity may see, as it sees them
    assert [t.id for t in desk.requester_history("r1")] == [elsewhere.id, ours.id]
    assert [t.id for t in desk.requester_history("r1", as_="r1")] == [elsewhere.id, ours.id]
    assert [t.id for t in desk.requester_history("r1", as_="bob")] == [elsewhere.id]
    assert [t.id for t in desk.requester_history("r1", as_="alice")] == [ours.id]
    assert [t.id for t in desk.requester_history("r1", as_="root")] == [elsewhere.id, ours.id]
    assert desk.requester_history("r1", as_="r2") == []
    assert len(desk.requester_history("r1", as_="r3")) == 2  # same organization
    assert desk.requester_history("r1", as_="gone") == []
    problem = desk.open(requester="r1", subject="Gateway drops VPN", type="problem")
    desk.record_known_error(
        problem.id, symptom="drops", root_cause="rule 17", workaround="vpn2", by="alice"
    )
    assert desk.requester_history("r1", as_="alice")[0].known_error is not None
    assert desk.requester_history("r1", as_="r1")[0].known_error is None
    # get_requester: a requester reads only their own record, whether the other exists
    assert desk.get_requester("r2", as_="r2") == desk.get_requester("r2")
    assert desk.get_requester("r2", as_="alice") == desk.get_requester("r2")
    assert desk.get_requester("r2", as_="system:mail").id == "r2"
    for other in ("r1", "nobody"):
        with pytest.raises(AccessDenied) as caught:
            desk.get_requester(other, as_="r2")
        assert caught.value.identity == "requester:r2"
        assert other in str(caught.value)
    with pytest.raises(AccessDenied, match="inactive"):
        desk.get_requester("r2", as_="gone")
    # find_requester: a requester finds only themselves; no address can be probed
    assert desk.find_requester(email="di@example.org", as_="r4") == desk.get_requester("r4")
    assert desk.find_requester(email="di@example.org", as_="r2") is None
    assert desk.find_requester(email="nobody@example.org", as_="r2") is None
    assert desk.find_requester(email="di@example.org", as_="alice") == desk.get_requester("r4")
    with pytest.raises(AccessDenied, match="inactive"):
        desk.find_requester(email="di@example.org", as_="gone")
    with pytest.raises(NotFound):
        desk.sla(ours.id, as_="stranger")


def test_an_agent_id_acts_only_while_the_configuration_names_the_agent(desk: Helpdesk) -> None:
    ticket = desk.open(requester="r1", subject="VPN down")
    desk.reply(ticket.id, author="alice", body="looking")
    desk.reply(ticket.id, author="alice", body="still looking")  # the same id, again
    assert [e.by for e in desk.history(ticket.id) if isinstance(e, CommentAdded)] == [
        Actor.agent("alice"),
        Actor.agent("alice"),
    ]
    # alice leaves; a requester later stored as alice is who the bare id names now
    desk.reconfigure(
        desk.config.replace(agents=tuple(a for a in desk.config.agents if a.id != "alice"))
    )
    with pytest.raises(NotFound):
        desk.reply(ticket.id, author="alice", body="back?")
    desk.upsert_requester(Requester(id="alice", name="Alice"))
    with pytest.raises(AccessDenied):  # a requester, not the agent: not her ticket
        desk.reply(ticket.id, author="alice", body="back?")
    # alice rejoins: her id names an agent and a stored requester, which is refused
    desk.reconfigure(desk.config.replace(agents=(*desk.config.agents, Agent(id="alice"))))
    with pytest.raises(ValidationError, match="agent and of a stored requester"):
        desk.reply(ticket.id, author="alice", body="back")


# --------------------------------------------------------- reads of a ticket due to move


def _escalating_desk(store: Store | None = None) -> Helpdesk:
    """A desk whose tickets move from team desk (L1) to team network (L2) after an hour
    in L1; no auto-assignment, so the team alone decides who sees the ticket."""
    config = DeskConfig.from_dict(
        {
            "tiers": [{"id": "L1", "teams": ["desk"]}, {"id": "L2", "teams": ["network"]}],
            "teams": [{"id": "desk"}, {"id": "network"}, {"id": "apps"}],
            "agents": [
                {"id": "alice", "teams": ["desk"]},
                {"id": "bob", "teams": ["network"]},
                {"id": "carl", "teams": ["apps"]},
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
    return Helpdesk(config, store or MemoryStore(), ManualClock(T0))


@pytest.mark.parametrize("fresh_desk", [False, True], ids=["same-desk", "fresh-desk"])
def test_reads_check_access_on_the_ticket_as_a_tick_would_have_left_it(fresh_desk: bool) -> None:
    """An escalation due but not yet run by a tick: the new team's agent reads the ticket
    as they may act on it (a command catches up first), and the read writes nothing: it
    shows what is stored, as the role the caught-up ticket gives."""
    desk = _escalating_desk()
    desk.upsert_requester(Requester(id="r1", name="Ada"))
    desk.upsert_requester(Requester(id="r2", name="Bea"))
    ticket = desk.open(requester="r1", subject="VPN down")
    other = desk.open(requester="r1", subject="Mail down")
    desk.reply(ticket.id, author="alice", body="the VPN key is in the vault", public=False)
    stored = desk.get(ticket.id)
    assert (stored.team, stored.tier) == ("desk", "L1")
    desk.clock.advance(minutes=30)  # type: ignore[attr-defined]
    for read in (desk.get, desk.history, desk.sla):
        with pytest.raises(AccessDenied):  # not due yet: still desk's
            read(ticket.id, as_="bob")
    desk.clock.advance(hours=1)  # type: ignore[attr-defined]  # due at 10:00, no tick
    if fresh_desk:  # a desk that has not seen the ticket (another process, a restart)
        desk = Helpdesk(desk.config, desk.store, desk.clock)
    events = desk.history(ticket.id)

    # The new team's agent reads it, as an agent (internal notes included) ...
    assert desk.get(ticket.id, as_="bob") == stored
    assert desk.history(ticket.id, as_="bob") == events
    assert any(isinstance(e, CommentAdded) and not e.public for e in events)
    assert desk.sla(ticket.id, as_="bob") == desk.sla(ticket.id)
    assert desk.similar(ticket.id, as_="bob") == desk.similar(ticket.id)
    # ... the old team's still does (the stored ticket is theirs), the owner too ...
    assert desk.get(ticket.id, as_="alice") == stored
    assert desk.get(ticket.id, as_="r1") == stored
    # ... and nobody else: another team's agent, another requester.
    for who, identity in (("carl", "agent:carl"), ("r2", "requester:r2")):
        for any_read in (desk.get, desk.history, desk.sla, desk.similar):
            with pytest.raises(AccessDenied) as caught:
                any_read(ticket.id, as_=who)
            assert (caught.value.identity, caught.value.action) == (identity, "view")
    # A read writes nothing: the escalation is still the next tick's (or command's).
    assert desk.get(ticket.id) == stored
    assert desk.history(ticket.id) == events
    assert desk.store.load(ticket.id).version == stored.version

    # The command the reads stand for: bob may reply, which records the escalation first.
    replied = desk.reply(ticket.id, author="bob", body="On it")
    assert (replied.team, replied.tier) == ("network", "L2")
    assert desk.get(ticket.id, as_="bob") == replied
    with pytest.raises(AccessDenied):
        desk.get(ticket.id, as_="alice")  # moved on for good: no longer desk's
    # A link's target is in sight the same way, and is not written either.
    linked = desk.link(ticket.id, kind="follow_up_of", other=other.id, by="bob")
    assert other.id in linked.linked("follow_up_of")
    assert desk.store.load(other.id).version == other.version
    assert desk.get(other.id, as_="bob") == desk.get(other.id)


def test_a_read_allowed_or_not_due_does_no_catch_up_work() -> None:
    """The catch-up of a read is for an identity refused on a due ticket only: a read
    allowed on the stored ticket, or refused on one with nothing due, begins no change."""
    desk = _escalating_desk()
    desk.upsert_requester(Requester(id="r1", name="Ada"))
    ticket = desk.open(requester="r1", subject="VPN down")
    begun: list[str] = []
    begin = desk._decider.begin

    def counted(ticket: Ticket, **kwargs: object) -> object:
        begun.append(ticket.id)
        return begin(ticket, **kwargs)  # type: ignore[arg-type]

    desk._decider.begin = counted  # type: ignore[method-assign,assignment]
    desk.clock.advance(minutes=30)  # type: ignore[attr-defined]
    assert desk.get(ticket.id, as_="alice").team == "desk"
    desk.history(ticket.id, as_="r1")
    with pytest.raises(AccessDenied):
        desk.get(ticket.id, as_="bob")  # refused, nothing due: the desk knows its wake-up
    assert begun == []
    desk.clock.advance(hours=1)  # type: ignore[attr-defined]
    desk.get(ticket.id, as_="alice")  # still allowed on the stored ticket
    assert begun == []
    desk.get(ticket.id, as_="bob")  # refused on the stored ticket, due: worked out
    assert begun == [ticket.id]
