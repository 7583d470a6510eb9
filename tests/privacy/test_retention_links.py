"""Purging a ticket drops what other records hold of it, on every store: the links other
tickets have to it (``caused_by``, ``duplicate_of``, ``follow_up_of``) and its place in
the problems of knowledge-base articles; all in the unit of work of the purge."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from desk_stores import STORES, StoreFactory, store_factory
from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, SequentialIds
from helpdesk_core import privacy as privacy_module
from helpdesk_core.errors import NotFound, StorageError, TickError, ValidationError
from helpdesk_core.model import (
    Actor,
    Event,
    LinkKind,
    Requester,
    TicketAnonymised,
    apply_events,
    replay,
)
from helpdesk_core.reporting import build_report
from helpdesk_core.storage import Store, TicketQuery

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
ADA = Requester(id="ada", name="Ada Lovelace")
RETENTION = Actor.system("retention")


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    yield from store_factory(request, tmp_path)


def _config() -> DeskConfig:
    """Problems are purged 30 days after they close; other tickets are anonymised after
    10 days."""
    return DeskConfig.from_dict(
        {
            "tiers": [{"id": "L1", "teams": ["desk"]}],
            "teams": [{"id": "desk"}],
            "agents": [{"id": "alice", "teams": ["desk"]}, {"id": "root", "role": "admin"}],
            "assignment": {"auto_assign": False},
            "knowledge": {"on_problem_solved": "solve"},
            "privacy": {
                "retention": [
                    {
                        "name": "problems",
                        "after": "30d",
                        "action": "purge",
                        "ticket_types": ["problem"],
                    },
                    {"name": "rest", "after": "10d"},
                ]
            },
        }
    )


def _desk(store: Store) -> tuple[Helpdesk, ManualClock]:
    clock = ManualClock(T0)
    desk = Helpdesk(_config(), store, clock, ids=SequentialIds())
    desk.upsert_requester(ADA)
    return desk, clock


def _world(desk: Helpdesk) -> dict[str, str]:
    """A closed problem with a known error; an open incident it caused, a duplicate and a
    follow-up of it, a closed incident it caused; another (open) problem; an article on
    both problems."""
    problem = desk.open(requester=ADA, subject="Gateway drops VPN sessions", type="problem").id
    desk.record_known_error(
        problem, symptom="VPN drops", workaround="Use vpn2", status="known_error", by="alice"
    )
    ids = {"problem": problem}
    ids["incident"] = desk.open(requester=ADA, subject="VPN drops at home").id
    ids["duplicate"] = desk.open(requester=ADA, subject="VPN drops again").id
    closed = desk.open(requester=ADA, subject="VPN drops in the office").id
    desk.reply(closed, author="alice", body="Use vpn2 meanwhile")
    desk.solve(closed, by="alice", resolution="Workaround given")
    desk.close(closed, by="alice")
    ids["closed"] = closed
    ids["other"] = desk.open(requester=ADA, subject="Printer firmware", type="problem").id
    desk.link(ids["incident"], kind="caused_by", other=problem, by="alice")
    desk.link(ids["duplicate"], kind="duplicate_of", other=problem, by="alice")
    desk.link(closed, kind="caused_by", other=problem, by="alice")
    desk.reply(problem, author="alice", body="Vendor firmware deployed")
    desk.solve(problem, by="alice", resolution="Gateway firmware 2.1")
    desk.close(problem, by="alice")
    ids["follow_up"] = desk.open(requester=ADA, subject="VPN drops after the fix").id
    desk.link(ids["follow_up"], kind="follow_up_of", other=problem, by="alice")
    ids["article"] = desk.publish_article(
        title="VPN drops",
        body="Connect to vpn2 until the firmware is fixed",
        problems=[problem, ids["other"]],
        by="alice",
    ).id
    return ids


def _purge(desk: Helpdesk, clock: ManualClock, published: list[Event] | None = None) -> list[Event]:
    """Day 11 anonymises the closed incident, day 31 purges the problem (what it records
    is also put in ``published`` as subscribers hear it)."""
    clock.advance(timedelta(days=11))
    assert [type(e) for e in desk.tick()] == [TicketAnonymised]
    if published is not None:
        desk.subscribe(published.append)
    clock.advance(timedelta(days=20))
    return desk.tick()


def _every_ticket(desk: Helpdesk) -> list[Any]:
    return list(desk.store.query(TicketQuery(limit=1000)).items)


def test_purging_a_problem_drops_the_links_other_tickets_hold_to_it(
    make_store: StoreFactory,
) -> None:
    desk, clock = _desk(make_store())
    ids = _world(desk)
    published: list[Event] = []
    recorded = _purge(desk, clock, published)
    with pytest.raises(NotFound):
        desk.get(ids["problem"])

    # Nothing points at the purged ticket any more: every link can be followed.
    for ticket in _every_ticket(desk):
        for link in ticket.links:
            desk.get(link.other)
    incident = desk.get(ids["incident"])
    assert incident.linked(LinkKind.CAUSED_BY) == ()
    assert desk.get(ids["duplicate"]).linked(LinkKind.DUPLICATE_OF) == ()
    assert desk.get(ids["follow_up"]).linked(LinkKind.FOLLOW_UP_OF) == ()
    assert desk.get(ids["closed"]).links == ()
    assert desk.incidents_of(ids["problem"]) == []

    # Each of them records why, as the system's retention, and replays to its snapshot.
    linkers = [ids[name] for name in ("incident", "duplicate", "closed", "follow_up")]
    assert [e.ticket_id for e in recorded] == linkers
    assert recorded == published
    for event in recorded:
        assert isinstance(event, privacy_module.LinkedTicketPurged)
        assert (event.other, event.by, event.at) == (ids["problem"], RETENTION, clock.now())
    for ticket_id in linkers:
        assert desk.history(ticket_id)[-1] in recorded
        assert replay(desk.history(ticket_id)) == desk.get(ticket_id)
    assert desk.history(ids["incident"], as_="ada")[-1] == recorded[0]
    assert build_report(desk.store.event_stream()).tickets == 5  # all but the purged one

    # The anonymised closed incident stays anonymised: the event carries nothing
    # personal, so retention has nothing to redo.
    assert desk.get(ids["closed"]).anonymised
    clock.advance(timedelta(days=1))
    assert desk.apply_retention() == []


def test_an_incident_of_a_purged_problem_is_solved_with_its_next_problem(
    make_store: StoreFactory,
) -> None:
    desk, clock = _desk(make_store())
    ids = _world(desk)
    _purge(desk, clock)
    incident = ids["incident"]
    desk.reply(incident, author="alice", body="We are looking into it")
    desk.link(incident, kind="caused_by", other=ids["other"], by="alice")
    assert desk.get(incident).linked(LinkKind.CAUSED_BY) == (ids["other"],)
    assert [t.id for t in desk.incidents_of(ids["other"])] == [incident]

    desk.reply(ids["other"], author="alice", body="Firmware rolled back")
    desk.solve(ids["other"], by="alice", resolution="Printer firmware 3.0")
    solved = desk.get(incident)
    assert solved.status == "solved"
    assert solved.resolution == (
        f"Solved with problem {desk.get(ids['other']).display_number}: Printer firmware 3.0"
    )
    assert solved.linked(LinkKind.CAUSED_BY) == (ids["other"],)


def test_articles_forget_a_purged_problem(make_store: StoreFactory) -> None:
    desk, clock = _desk(make_store())
    ids = _world(desk)
    before = desk.get_article(ids["article"])
    _purge(desk, clock)

    article = desk.get_article(ids["article"])
    assert article.problems == (ids["other"],)
    assert (article.version, article.updated_at) == (before.version + 1, clock.now())
    assert (article.title, article.body, article.author) == (
        before.title,
        before.body,
        before.author,
    )
    assert desk.search_articles(problem=ids["problem"], status=None).total == 0
    assert [a.id for a in desk.search_articles(problem=ids["other"]).items] == [article.id]
    # The writer can work on the article's problems again.
    newer = desk.open(requester=ADA, subject="Gateway drops again", type="problem").id
    updated = desk.update_article(article.id, problems=[*article.problems, newer], by="alice")
    assert updated.problems == (ids["other"], newer)
    for match in desk.similar(ids["incident"]):
        assert all(ids["problem"] not in reason for reason in match.reasons)


def test_a_failure_while_dropping_links_undoes_the_whole_purge(
    make_store: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store()
    desk, clock = _desk(store)
    ids = _world(desk)
    clock.advance(timedelta(days=11))
    desk.tick()
    original = store.append
    article = desk.get_article(ids["article"])

    def failing(ticket_id: str, **kwargs: Any) -> None:
        if ticket_id == ids["duplicate"]:
            raise StorageError("disk full")
        original(ticket_id, **kwargs)

    monkeypatch.setattr(store, "append", failing)
    clock.advance(timedelta(days=20))
    with pytest.raises(TickError) as failed:
        desk.tick()
    assert isinstance(failed.value.failures["retention pass"], StorageError)
    assert "disk full" in str(failed.value.failures["retention pass"])
    # Nothing of the purge happened: the problem, every link and the article are intact.
    assert desk.get(ids["problem"]).status == "closed"
    assert desk.get(ids["incident"]).linked(LinkKind.CAUSED_BY) == (ids["problem"],)
    assert desk.get(ids["duplicate"]).linked(LinkKind.DUPLICATE_OF) == (ids["problem"],)
    assert desk.get_article(ids["article"]) == article

    monkeypatch.setattr(store, "append", original)
    assert len(desk.apply_retention()) == 4
    with pytest.raises(NotFound):
        desk.get(ids["problem"])
    assert desk.get(ids["incident"]).links == ()
    assert desk.get_article(ids["article"]).problems == (ids["other"],)


def test_a_ticket_changed_while_its_link_is_dropped_is_read_again(
    make_store: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store()
    desk, clock = _desk(store)
    ids = _world(desk)
    original = store.append
    raced: list[str] = []

    def racing(ticket_id: str, **kwargs: Any) -> None:
        # Another agent replies on the incident between retention's read and its write.
        purged = [e for e in kwargs["events"] if type(e).__name__ == "LinkedTicketPurged"]
        if ticket_id == ids["incident"] and purged and not raced:
            raced.append(ticket_id)
            desk.reply(ticket_id, author="alice", body="Still looking", public=False)
        original(ticket_id, **kwargs)

    monkeypatch.setattr(store, "append", racing)
    _purge(desk, clock)
    assert raced
    history = desk.history(ids["incident"])
    assert [type(e).__name__ for e in history[-2:]] == ["CommentAdded", "LinkedTicketPurged"]
    assert desk.get(ids["incident"]).links == ()
    assert replay(history) == desk.get(ids["incident"])


def test_tickets_purged_together_leave_no_link_between_them(make_store: StoreFactory) -> None:
    desk, clock = _desk(make_store())
    first = desk.open(requester=ADA, subject="Disk fills up", type="problem").id
    second = desk.open(requester=ADA, subject="Log rotation broken", type="problem").id
    watcher = desk.open(requester=ADA, subject="Server slow").id
    desk.link(second, kind="caused_by", other=first, by="alice")
    desk.link(watcher, kind="caused_by", other=first, by="alice")
    desk.link(watcher, kind="caused_by", other=second, by="alice")
    for problem in (first, second):
        desk.solve(problem, by="alice", resolution="Rotation fixed", first_contact=True)
        desk.close(problem, by="alice")
    clock.advance(timedelta(days=31))
    recorded = desk.tick()
    for problem in (first, second):
        with pytest.raises(NotFound):
            desk.get(problem)
    assert desk.get(watcher).links == ()
    assert [(e.ticket_id, getattr(e, "other", None)) for e in recorded] == [
        (watcher, first),
        (watcher, second),
    ]


def test_a_purge_with_nothing_linked_records_nothing(make_store: StoreFactory) -> None:
    desk, clock = _desk(make_store())
    problem = desk.open(requester=ADA, subject="Badge reader", type="problem").id
    desk.solve(problem, by="alice", resolution="Replaced", first_contact=True)
    desk.close(problem, by="alice")
    clock.advance(timedelta(days=31))
    assert desk.tick() == []
    with pytest.raises(NotFound):
        desk.get(problem)


def test_the_decision_drops_each_purged_link_once_and_refuses_misread_input() -> None:
    desk, _ = _desk(MemoryStore())
    problem = desk.open(requester=ADA, subject="Gateway drops VPN", type="problem").id
    earlier = desk.open(requester=ADA, subject="VPN drops").id
    ticket_id = desk.open(requester=ADA, subject="VPN drops again").id
    desk.link(ticket_id, kind="caused_by", other=problem, by="alice")
    desk.link(ticket_id, kind="duplicate_of", other=problem, by="alice")
    desk.link(ticket_id, kind="follow_up_of", other=earlier, by="alice")
    ticket = desk.get(ticket_id)

    events = privacy_module.unlink_purged(ticket, {problem}, now=T0)
    assert [(e.ticket_id, e.other, e.by, e.at) for e in events] == [
        (ticket_id, problem, RETENTION, T0)
    ]
    after = apply_events(ticket, events)
    assert after is not None
    assert [(link.kind, link.other) for link in after.links] == [(LinkKind.FOLLOW_UP_OF, earlier)]
    assert privacy_module.unlink_purged(ticket, [], now=T0) == []
    tickets = [desk.get(i) for i in (problem, earlier, ticket_id)]
    assert privacy_module.links_to(tickets, [problem, earlier]) == {
        problem: [ticket_id],
        earlier: [ticket_id],
    }
    with pytest.raises(ValidationError, match="list of ticket ids"):
        privacy_module.unlink_purged(ticket, problem, now=T0)  # one id, not its letters
    with pytest.raises(ValidationError, match="timezone"):
        privacy_module.unlink_purged(ticket, [problem], now=datetime(2026, 3, 2, 9))
    with pytest.raises(ValidationError, match="Ticket"):
        privacy_module.links_to([ticket, ticket_id], [problem])
    with pytest.raises(ValidationError, match="ticket ids"):
        privacy_module.links_to(tickets, [problem, ""])


def test_a_linked_ticket_due_in_a_later_unit_of_work_is_still_purged() -> None:
    # Retention works in units of a hundred tickets: the problem goes in the first, the
    # problem it caused in the second, after its link to the first was dropped.
    desk, clock = _desk(MemoryStore())
    tickets = [
        desk.open(requester=ADA, subject=f"Problem {n}", type="problem").id for n in range(101)
    ]
    desk.link(tickets[-1], kind="caused_by", other=tickets[0], by="alice")
    for ticket_id in tickets:
        desk.solve(ticket_id, by="alice", resolution="Fixed", first_contact=True)
        desk.close(ticket_id, by="alice")
    clock.advance(timedelta(days=31))
    recorded = desk.tick()
    assert [(e.ticket_id, getattr(e, "other", None)) for e in recorded] == [
        (tickets[-1], tickets[0])
    ]
    assert desk.search(as_="root").total == 0


def _watched_desk(store: Store) -> tuple[Helpdesk, ManualClock]:
    """SLA clocks around the clock, an escalation when the resolution target is missed,
    problems purged 30 days after they close."""
    doc = {
        "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
        "tiers": [{"id": "L1", "teams": ["desk"]}],
        "teams": [{"id": "desk", "contacts": ["alice"]}],
        "agents": [{"id": "alice", "teams": ["desk"]}],
        "assignment": {"auto_assign": False},
        "sla_policies": [
            {
                "name": "standard",
                "calendar": "always",
                "targets": {"medium": {"first_response": "4h", "resolution": "24h"}},
            }
        ],
        "escalation_policies": [
            {
                "name": "watch",
                "triggers": [
                    {
                        "name": "late",
                        "on": "sla_breach",
                        "metric": "resolution",
                        "actions": [{"action": "raise_level"}],
                    }
                ],
            }
        ],
        "privacy": {
            "retention": [
                {"name": "problems", "after": "30d", "action": "purge", "ticket_types": ["problem"]}
            ]
        },
    }
    clock = ManualClock(T0)
    desk = Helpdesk(DeskConfig.from_dict(doc), store, clock, ids=SequentialIds())
    desk.upsert_requester(ADA)
    return desk, clock


@pytest.mark.parametrize("retention_first", [False, True], ids=["tick", "apply_retention"])
def test_dropping_a_link_first_records_what_fell_due_on_the_ticket(
    make_store: StoreFactory, retention_first: bool
) -> None:
    # The incident's SLA targets were missed (and an escalation fell due) while nothing
    # ticked; retention then drops its link to the purged problem. Whether retention
    # runs alone or within a tick, the history is the same, in order, and the escalation
    # fires at the breach, not at the purge.
    desk, clock = _watched_desk(make_store())
    problem = desk.open(requester=ADA, subject="Gateway drops VPN", type="problem").id
    desk.solve(problem, by="alice", resolution="Firmware 2.1", first_contact=True)
    desk.close(problem, by="alice")
    clock.advance(timedelta(days=29))
    incident = desk.open(requester=ADA, subject="VPN drops").id
    desk.link(incident, kind="caused_by", other=problem, by="alice")
    at = T0 + timedelta(days=31)
    if retention_first:
        recorded = desk.apply_retention(at)
        assert [type(e).__name__ for e in recorded][-1] == "LinkedTicketPurged"
    desk.tick(at)

    history = desk.history(incident)
    instants = [e.at for e in history]
    assert instants == sorted(instants)
    named = [(type(e).__name__, e.at - T0) for e in history]
    assert ("LevelRaised", timedelta(days=30)) in named
    assert named[-1] == ("LinkedTicketPurged", timedelta(days=31))
    assert replay(history) == desk.get(incident)
    assert desk.get(incident).links == ()


def test_a_pass_does_not_take_its_own_changes_for_concurrent_ones() -> None:
    # Without retries, a linked ticket purged in a later unit of work than the ticket it
    # links to is purged all the same: the pass itself dropped its link meanwhile.
    desk, clock = _desk(MemoryStore())
    doc = desk.config.to_dict()
    doc.setdefault("desk", {})["max_retries"] = 0
    desk.reconfigure(DeskConfig.from_dict(doc))
    assert desk.config.settings.max_retries == 0
    tickets = [
        desk.open(requester=ADA, subject=f"Problem {n}", type="problem").id for n in range(101)
    ]
    desk.link(tickets[-1], kind="caused_by", other=tickets[0], by="alice")
    for ticket_id in tickets:
        desk.solve(ticket_id, by="alice", resolution="Fixed", first_contact=True)
        desk.close(ticket_id, by="alice")
    clock.advance(timedelta(days=31))
    recorded = desk.tick()
    assert [(e.ticket_id, getattr(e, "other", None)) for e in recorded] == [
        (tickets[-1], tickets[0])
    ]
    assert desk.search(as_="root").total == 0


class _Watching(MemoryStore):
    """A MemoryStore that keeps every ticket query it is asked."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[TicketQuery] = []

    def query(self, query: TicketQuery) -> Any:
        self.queries.append(query)
        return super().query(query)


class _Unaware(MemoryStore):
    """A store written before ``TicketQuery.links_to`` existed: it translates the filters
    it knows and lists every ticket for the others."""

    def query(self, query: TicketQuery) -> Any:
        return super().query(attrs.evolve(query, links_to=None))


def test_a_purge_reads_the_tickets_linking_to_it_not_every_ticket() -> None:
    store = _Watching()
    desk, clock = _desk(store)
    ids = _world(desk)
    clock.advance(timedelta(days=11))
    desk.tick()
    clock.advance(timedelta(days=20))
    store.queries.clear()
    assert [e.ticket_id for e in desk.tick()] == [
        ids[name] for name in ("incident", "duplicate", "closed", "follow_up")
    ]
    # the retention scans ask for closed tickets; the links, for those linking to the
    # purged problem; the openings to rewrite, for the requester's later tickets; nothing
    # reads the whole store
    assert store.queries
    for query in store.queries:
        assert (
            query.closed_before is not None
            or query.links_to == (ids["problem"],)
            or (query.requester == (ADA.id,) and query.after is not None)
        ), query


def test_incidents_of_reads_the_active_tickets_linking_to_the_problem() -> None:
    store = _Watching()
    desk, _ = _desk(store)
    problem = desk.open(requester=ADA, subject="Gateway drops VPN", type="problem").id
    caused = desk.open(requester=ADA, subject="VPN drops").id
    duplicate = desk.open(requester=ADA, subject="VPN drops again").id
    desk.link(caused, kind="caused_by", other=problem, by="alice")
    desk.link(duplicate, kind="duplicate_of", other=problem, by="alice")
    store.queries.clear()
    # a ticket linking another way is read, and left out
    assert [t.id for t in desk.incidents_of(problem)] == [caused]
    assert store.queries == [
        TicketQuery(links_to=problem, active_only=True, order_by="number", limit=1000)
    ]
    assert desk.incidents_of("T-\x00") == []  # no ticket can link to it


@pytest.mark.parametrize("chunk", [1, 2, 500])
def test_links_to_many_purged_tickets_are_dropped_whatever_the_store_knows(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    # The ids are asked for a chunk at a time; a store that ignores the filter (it lists
    # every ticket) gives the same links to drop, only slower.
    monkeypatch.setattr("helpdesk_core.service.knowledge._LINKS_CHUNK", chunk)
    outcomes = []
    for store in (MemoryStore(), _Unaware()):
        desk, clock = _desk(store)
        problems = [
            desk.open(requester=ADA, subject=f"Problem {n}", type="problem").id for n in range(5)
        ]
        incident = desk.open(requester=ADA, subject="VPN drops").id
        follow_up = desk.open(requester=ADA, subject="VPN drops again").id
        for problem in (problems[4], problems[0], problems[3]):
            desk.link(incident, kind="caused_by", other=problem, by="alice")
        desk.link(follow_up, kind="follow_up_of", other=problems[3], by="alice")
        desk.link(follow_up, kind="duplicate_of", other=incident, by="alice")
        assert [t.id for t in desk.incidents_of(problems[0])] == [incident]
        assert desk.incidents_of(problems[1]) == []
        for problem in problems:
            desk.solve(problem, by="alice", resolution="Fixed", first_contact=True)
            desk.close(problem, by="alice")
        clock.advance(timedelta(days=31))
        recorded = desk.tick()
        # each ticket drops its links to the purged tickets in the order of its links
        assert [(e.ticket_id, getattr(e, "other", None)) for e in recorded] == [
            (incident, problems[4]),
            (incident, problems[0]),
            (incident, problems[3]),
            (follow_up, problems[3]),
        ]
        assert desk.get(incident).links == ()
        assert [link.other for link in desk.get(follow_up).links] == [incident]
        outcomes.append(recorded)
    assert outcomes[0] == outcomes[1]
