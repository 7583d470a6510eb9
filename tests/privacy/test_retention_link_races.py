"""A link made while its target is purged, by another thread or process: the link is
refused (``NotFound``) or dropped with the purge, and no ticket is left holding a link to
a ticket that is gone. The same holds for an article naming a problem ticket that is
being purged: refused, or its problem dropped with the purge. Each test runs two handles
on one database: the same ``MemoryStore`` for threads, two ``SqliteStore`` objects on one
file, two ``PostgresStore`` connections to one schema (as two processes would)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from desk_stores import STORE_PAIRS, HookedStore, store_pair
from helpdesk_core import DeskConfig, Helpdesk, ManualClock, SequentialIds
from helpdesk_core.errors import NotFound
from helpdesk_core.knowledge import Article, ArticleQuery
from helpdesk_core.model import Requester
from helpdesk_core.storage import Store, TicketQuery

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
ADA = Requester(id="ada", name="Ada Lovelace")
#: How long a test waits for the other thread to finish a link that no lock holds up.
UNBLOCKED = 0.5
#: How long a thread may take at most (a test failing on a deadlock, not hanging).
JOIN = 60.0


@pytest.fixture(params=STORE_PAIRS)
def handles(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two handles on one database: the linking desk's and the purging desk's."""
    yield from store_pair(request, tmp_path)


def _config() -> DeskConfig:
    return DeskConfig.from_dict(
        {
            "tiers": [{"id": "L1", "teams": ["desk"]}],
            "teams": [{"id": "desk"}],
            "agents": [{"id": "alice", "teams": ["desk"]}],
            "assignment": {"auto_assign": False},
            "privacy": {
                "retention": [
                    {
                        "name": "problems",
                        "after": "30d",
                        "action": "purge",
                        "ticket_types": ["problem"],
                    }
                ]
            },
        }
    )


def _desks(
    linking: Any, purging: Any, problems: int = 1
) -> tuple[Helpdesk, Helpdesk, list[str], list[str]]:
    """The desk that links and the desk that purges (one clock, 31 days after the first
    of ``problems`` problems closed, a minute apart); the problems and as many open
    incidents."""
    clock = ManualClock(T0)
    desk = Helpdesk(_config(), linking, clock, ids=SequentialIds())
    desk.upsert_requester(ADA)
    closed = []
    for n in range(problems):
        clock.set(T0 + timedelta(minutes=n))
        problem = desk.open(requester=ADA, subject=f"Gateway {n}", type="problem").id
        desk.solve(problem, by="alice", resolution="Firmware 2.1", first_contact=True)
        desk.close(problem, by="alice")
        closed.append(problem)
    clock.set(T0 + timedelta(days=31))
    incidents = [desk.open(requester=ADA, subject=f"VPN drops {n}").id for n in closed]
    other = Helpdesk(_config(), purging, clock, ids=SequentialIds(prefixes={"ticket": "X"}))
    return desk, other, closed, incidents


def _meanwhile(
    hooked: HookedStore, method: str, when: Callable[..., bool], act: Callable[[], object]
) -> tuple[list[object], threading.Thread]:
    """Once ``hooked`` has run ``method`` as ``when`` accepts, ``act()`` runs in another
    thread; the list gets what it returns, or the ``NotFound`` it raises. The hooked side
    waits for it a while (it may be held up until the hooked side's unit of work commits,
    which is fine: that side goes on after ``UNBLOCKED`` seconds); join the thread."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(act())
        except NotFound as refused:
            outcome.append(refused)

    thread = threading.Thread(target=run, daemon=True)

    def meanwhile() -> None:
        thread.start()
        thread.join(UNBLOCKED)

    hooked.hook(method, when, meanwhile)
    return outcome, thread


def _while_purging(
    purging: Helpdesk, problems: list[str], each: Callable[[int, str], None]
) -> None:
    """Real concurrency, no forced order: ``each(n, problem)`` for every problem in one
    thread while ``purging`` purges the problems in another, one more each pass; then a
    last pass purges any left."""
    start = threading.Barrier(2)

    def work() -> None:
        start.wait()
        for n, problem in enumerate(problems):
            each(n, problem)

    def purge() -> None:
        start.wait()
        for n in range(len(problems)):
            purging.apply_retention(T0 + timedelta(days=30, minutes=n, seconds=30))

    threads = [threading.Thread(target=work), threading.Thread(target=purge)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN)
    assert not any(thread.is_alive() for thread in threads)
    purging.apply_retention()


def _links_recorded(desk: Helpdesk, ticket_id: str) -> list[str]:
    """The kinds of the ticket's events that make or drop links, in order."""
    kinds = (type(e).__name__ for e in desk.history(ticket_id))
    return [k for k in kinds if k in ("Linked", "LinkedTicketPurged")]


def _dangling(store: Store) -> list[tuple[str, str]]:
    """(ticket, other) of every link to a ticket that is not in the store."""
    tickets = store.query(TicketQuery(limit=1000)).items
    present = {t.id for t in tickets}
    return [(t.id, link.other) for t in tickets for link in t.links if link.other not in present]


def test_a_link_whose_target_is_purged_before_it_commits_is_refused(
    handles: tuple[Store, Store],
) -> None:
    # The link has read its target (it exists) when another worker purges the target and
    # commits; then the link commits. It must not record a link to a ticket that is gone.
    first, second = handles
    linking = HookedStore(first)
    desk, other, (problem,), (incident,) = _desks(linking, second)
    purged: list[Any] = []
    linking.hook(
        "load", lambda ticket_id: ticket_id == problem, lambda: purged.extend(other.tick())
    )
    with pytest.raises(NotFound, match=problem):
        desk.link(incident, kind="caused_by", other=problem, by="alice")

    assert purged == []  # the target was purged, nothing linked to it yet
    with pytest.raises(NotFound):
        desk.get(problem)
    assert desk.get(incident).links == ()
    assert _links_recorded(desk, incident) == []
    assert _dangling(first) == []
    # the incident goes on as usual
    replied = desk.reply(incident, author="alice", body="Looking into it")
    assert replied.version == len(desk.history(incident)) > 1


def test_a_link_made_after_a_purge_read_the_linking_tickets_is_dropped_or_refused(
    handles: tuple[Store, Store],
) -> None:
    # The purging worker has read the tickets linking to the problem (none) when another
    # worker links a ticket to it. Whether the link gets in before the purge (and is
    # dropped with it) or after (and is refused), none is left dangling.
    first, second = handles
    purging = HookedStore(second)
    desk, other, (problem,), (incident,) = _desks(first, purging)
    outcome, thread = _meanwhile(
        purging,
        "query",
        lambda query: query.links_to is not None and problem in query.links_to,
        lambda: desk.link(incident, kind="caused_by", other=problem, by="alice"),
    )
    recorded = other.tick()
    thread.join(JOIN)
    assert not thread.is_alive()

    with pytest.raises(NotFound):
        desk.get(problem)
    assert _dangling(first) == []
    assert desk.get(incident).links == ()
    [result] = outcome
    if isinstance(result, NotFound):  # refused: the incident recorded nothing
        assert _links_recorded(desk, incident) == []
        assert recorded == []
    else:  # linked, then dropped by the purge
        assert _links_recorded(desk, incident) == ["Linked", "LinkedTicketPurged"]
        assert [e.ticket_id for e in recorded] == [incident]


def test_links_racing_purges_never_dangle(handles: tuple[Store, Store]) -> None:
    # Real concurrency, no forced order: one worker links each incident to its problem
    # while another purges the problems.
    first, second = handles
    desk, other, problems, incidents = _desks(first, second, problems=12)
    refused: list[str] = []

    def link(n: int, problem: str) -> None:
        try:
            desk.link(incidents[n], kind="caused_by", other=problem, by="alice")
        except NotFound:
            refused.append(incidents[n])

    _while_purging(other, problems, link)
    assert _dangling(first) == []
    for incident in incidents:
        expected = [] if incident in refused else ["Linked", "LinkedTicketPurged"]
        assert _links_recorded(desk, incident) == expected


# --- articles naming a problem ---------------------------------------------------------


def _named_but_gone(store: Store) -> list[tuple[str, str]]:
    """(article, problem) of every article naming a problem ticket that is not stored."""
    articles = store.list_articles(ArticleQuery(status=None, limit=1000)).items
    present = {t.id for t in store.query(TicketQuery(limit=1000)).items}
    return [(a.id, p) for a in articles for p in a.problems if p not in present]


def _publish(desk: Helpdesk, problem: str, n: int = 0) -> Article:
    return desk.publish_article(
        title=f"Gateway drops VPN {n}", body="Update the firmware.", by="alice", problems=[problem]
    )


def test_an_article_whose_problem_is_purged_before_it_commits_is_refused(
    handles: tuple[Store, Store],
) -> None:
    # The article has checked its problem (a problem ticket, there) when another worker
    # purges that problem and commits; then the article is saved. It must not name a
    # ticket that is gone.
    first, second = handles
    writing = HookedStore(first)
    desk, other, (problem,), _ = _desks(writing, second)
    writing.hook(
        "load", lambda ticket_id: ticket_id == problem, lambda: other.apply_retention()
    )
    with pytest.raises(NotFound, match=problem):
        _publish(desk, problem)

    with pytest.raises(NotFound):
        desk.get(problem)
    assert first.list_articles(ArticleQuery(status=None)).items == ()
    assert _named_but_gone(first) == []


def test_an_article_update_naming_a_problem_purged_before_it_commits_is_refused(
    handles: tuple[Store, Store],
) -> None:
    first, second = handles
    writing = HookedStore(first)
    desk, other, (problem,), _ = _desks(writing, second)
    article = desk.publish_article(title="Gateway drops VPN", body="Reboot it.", by="alice")
    writing.hook(
        "load", lambda ticket_id: ticket_id == problem, lambda: other.apply_retention()
    )
    with pytest.raises(NotFound, match=problem):
        desk.update_article(article.id, by="alice", problems=[problem], body="Update it.")

    assert desk.get_article(article.id) == article  # unchanged
    assert _named_but_gone(first) == []


def test_an_article_saved_after_a_purge_read_the_articles_is_dropped_or_refused(
    handles: tuple[Store, Store],
) -> None:
    # The purging worker has read the articles naming the problem (none) when another
    # worker publishes one naming it. Whether the article gets in before the purge (and
    # loses the problem with it) or after (and is refused), none names a ticket gone.
    first, second = handles
    purging = HookedStore(second)
    desk, other, (problem,), _ = _desks(first, purging)
    outcome, thread = _meanwhile(
        purging,
        "list_articles",
        lambda query: query.problem is not None and problem in query.problem,
        lambda: _publish(desk, problem),
    )
    other.apply_retention()
    thread.join(JOIN)
    assert not thread.is_alive()

    with pytest.raises(NotFound):
        desk.get(problem)
    assert _named_but_gone(first) == []
    [result] = outcome
    if isinstance(result, Article):  # published, then the purge took its problem out
        assert desk.get_article(result.id).problems == ()
    else:
        assert isinstance(result, NotFound)
        assert first.list_articles(ArticleQuery(status=None)).items == ()


def test_articles_racing_purges_never_name_a_ticket_gone(handles: tuple[Store, Store]) -> None:
    # Real concurrency, no forced order: one worker publishes an article on each problem
    # while another purges the problems.
    first, second = handles
    desk, other, problems, _ = _desks(first, second, problems=12)
    refused: list[str] = []

    def publish(n: int, problem: str) -> None:
        try:
            _publish(desk, problem, n)
        except NotFound:
            refused.append(problem)

    _while_purging(other, problems, publish)
    assert _named_but_gone(first) == []
    articles = first.list_articles(ArticleQuery(status=None, limit=100)).items
    assert len(articles) + len(refused) == len(problems)
