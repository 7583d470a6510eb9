"""The knowledge views never name a ticket their reader may not view either: the
"same problem" reason of a similar match and the problems of an article leave out the
problem tickets of teams the reader does not work (and, for requesters, every problem
they may not view), while agents who may view them, automation and admins read them all
and what is stored stays as it is."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve
from hypothesis import given, settings
from hypothesis import strategies as st

from desk_stores import STORES, store_factory
from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore
from helpdesk_core.config import AssignmentSettings
from helpdesk_core.errors import AccessDenied
from helpdesk_core.knowledge import Article, ArticleQuery
from helpdesk_core.model import Agent, Requester, Team, Tier
from helpdesk_core.privacy import AccessPolicy, PrivacySettings
from helpdesk_core.storage import Store

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
READERS = ("r1", "r3", "alice", "bob", "carol", "root")


def _config() -> DeskConfig:
    return DeskConfig(
        tiers=(Tier(id="L1", teams=("desk", "network", "apps")),),
        teams=(Team(id="desk"), Team(id="network"), Team(id="apps")),
        agents=(
            Agent(id="alice", teams=("desk",)),
            Agent(id="bob", teams=("network",)),
            Agent(id="carol", teams=("desk", "apps")),
            Agent(id="root", role="admin"),
        ),
        assignment=AssignmentSettings(auto_assign=False),
        privacy=PrivacySettings(access=AccessPolicy(requesters_see_organization=True)),
    )


def _desk(store: Store | None = None) -> Helpdesk:
    desk = Helpdesk(_config(), store if store is not None else MemoryStore(), ManualClock(T0))
    desk.upsert_requester(Requester(id="r1", name="Ada"))
    desk.upsert_requester(Requester(id="r2", name="Bea"))
    desk.upsert_requester(Requester(id="r3", name="Cy", organization="acme"))
    return desk


@pytest.fixture(params=STORES)
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Helpdesk]:
    """A desk on a fresh store of each kind (the in-memory similarity index, the
    stores' own full-text search)."""
    for make in store_factory(request, tmp_path):
        yield _desk(make())


def _names(value: Any, ticket_id: str) -> bool:
    """Whether the repr of ``value`` names ``ticket_id`` as a whole id."""
    return re.search(rf"(?<![\w-]){re.escape(ticket_id)}(?![\w-])", repr(value)) is not None


def _scene(desk: Helpdesk) -> tuple[str, str, str, Article]:
    """A problem of team apps (Bea's), an incident of Ada's (team desk) caused by it, a
    solved ticket of Ada's caused by it, and a published article documenting it."""
    problem = desk.open(requester="r2", subject="Gateway drops VPN sessions", type="problem")
    desk.update(problem.id, by="root", team="apps")
    old = desk.open(requester="r1", subject="VPN timeout at home", category="network").id
    desk.reply(old, author="alice", body="Use vpn2 for now.")
    desk.link(old, kind="caused_by", other=problem.id, by="root")
    desk.solve(old, by="alice", resolution="vpn2")
    new = desk.open(requester="r1", subject="Cannot print", category="hardware").id
    desk.link(new, kind="caused_by", other=problem.id, by="root")
    article = desk.publish_article(
        title="Backup gateway",
        body="Connect to the backup while the gateway is repaired.",
        problems=[problem.id],
        by="carol",
    )
    return problem.id, old, new, article


def test_similar_names_the_problem_only_to_readers_who_may_view_it(desk: Helpdesk) -> None:
    problem, old, new, article = _scene(desk)
    named = f"same problem '{problem}'"
    stored = desk.similar(new)
    assert sorted((m.id, m.reasons) for m in stored) == sorted(
        [(old, (named,)), (article.id, (named,))]
    )
    [about] = [m for m in stored if m.kind == "article"]

    # Carol works the problem's team, root is an admin, automation reads everything.
    for who in ("carol", "root", "system:x"):
        assert desk.similar(new, as_=who) == stored, who

    # Alice works the incident, not the problem: the matches and their scores stay, the
    # reason no longer names the problem.
    with pytest.raises(AccessDenied):
        desk.get(problem, as_="alice")
    seen = desk.similar(new, as_="alice")
    assert [(m.id, m.score, m.kind) for m in seen] == [(m.id, m.score, m.kind) for m in stored]
    assert [m.reasons for m in seen] == [("same problem",), ("same problem",)]
    assert not _names(seen, problem)

    # Ada, the incident's requester, gets the article, without the problem's id.
    with pytest.raises(AccessDenied):
        desk.get(problem, as_="r1")
    assert desk.similar(new, as_="r1") == [evolve(about, reasons=("same problem",))]

    # Reading changed nothing: without an identity the reasons name it still.
    assert desk.similar(new) == stored


def test_similar_keeps_the_problems_its_reader_may_view(desk: Helpdesk) -> None:
    """An incident caused by two problems, one of which the reader may view: the reason
    names that one only."""
    problem, _, new, _ = _scene(desk)
    mine = desk.open(requester="r1", subject="Desk printer queue stuck", type="problem").id
    desk.link(new, kind="caused_by", other=mine, by="root")
    both = desk.publish_article(
        title="Printing and the gateway",
        body="Both at once.",
        problems=[problem, mine],
        by="carol",
    )
    [match] = [m for m in desk.similar(new) if m.id == both.id]
    both_named = "same problem " + ", ".join(repr(p) for p in sorted((problem, mine)))
    assert both_named in match.reasons
    for who in ("alice", "r1"):
        [seen] = [m for m in desk.similar(new, as_=who) if m.id == both.id]
        assert f"same problem '{mine}'" in seen.reasons, who
        assert not _names(seen, problem), who


def test_articles_name_the_problems_their_reader_may_view(desk: Helpdesk) -> None:
    problem, _, _, article = _scene(desk)
    assert article.problems == (problem,)
    hidden = evolve(article, problems=())

    for who in ("carol", "root", "system:x"):
        assert desk.get_article(article.id, as_=who) == article, who
        assert desk.search_articles("gateway", as_=who).items == (article,), who
        assert desk.search_articles(as_=who).items == (article,), who
        assert desk.search_articles(problem=problem, as_=who).items == (article,), who
    for who in ("r1", "alice", "bob"):
        assert desk.get_article(article.id, as_=who) == hidden, who
        assert desk.search_articles("gateway", as_=who).items == (hidden,), who
        assert desk.search_articles(ArticleQuery(), as_=who).items == (hidden,), who
        # Nor does a filter by the problem tell them the article documents it.
        found = desk.search_articles(problem=problem, as_=who)
        assert (found.items, found.total) == ((), 0), who

    # What an update returns is its writer's view; what is stored keeps the problem.
    updated = desk.update_article(article.id, title="Backup gateway (vpn2)", by="alice")
    assert updated.problems == ()
    assert desk.get_article(article.id) == evolve(updated, problems=(problem,))
    assert desk.retire_article(article.id, by="bob").problems == ()
    assert desk.get_article(article.id).problems == (problem,)
    assert desk.get_article(article.id, as_="carol").problems == (problem,)


def test_a_requester_reads_the_problems_of_their_organization(desk: Helpdesk) -> None:
    """Cy, of acme, may view a problem opened for acme: the article names it for him,
    and not for Ada, who may not."""
    problem = desk.open(requester="r3", subject="Acme VPN concentrator", type="problem").id
    article = desk.publish_article(
        title="Acme VPN", body="Use vpn2.", problems=[problem], by="root"
    )
    assert desk.get_article(article.id, as_="r3").problems == (problem,)
    assert desk.get_article(article.id, as_="r1").problems == ()


def _counting(desk: Helpdesk, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """The ids of each ``get_many`` call the desk's store gets from now on."""
    calls: list[tuple[str, ...]] = []
    original = desk.store.get_many

    def counted(ids: Any) -> Any:
        ids = tuple(ids)
        calls.append(ids)
        return original(ids)

    monkeypatch.setattr(desk.store, "get_many", counted)
    return calls


def test_similar_reads_the_problems_in_one_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    desk = _desk()
    problem, _, new, _ = _scene(desk)
    desk.similar(new)  # the in-memory index of solved tickets is built
    calls = _counting(desk, monkeypatch)
    desk.similar(new, as_="r1")
    assert calls == [(problem,)]  # requesters get no tickets: no other read
    calls.clear()
    desk.similar(new, as_="root")
    assert (problem,) not in calls  # an admin views every ticket: nothing to check


def test_articles_read_their_problems_in_one_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page of articles checks the problems it names with one read of the store."""
    desk = _desk()
    problem, _, _, _ = _scene(desk)
    other = desk.open(requester="r2", subject="Mail relay", type="problem").id
    for n in range(3):
        desk.publish_article(
            title=f"Gateway note {n}", body="x", problems=[problem, other], by="root"
        )
    calls = _counting(desk, monkeypatch)
    found = desk.search_articles(as_="alice").items
    assert len(found) == 4 and {a.problems for a in found} == {(), (other,)}
    assert calls == [tuple(sorted((problem, other)))]
    calls.clear()
    desk.search_articles(as_="root")
    desk.search_articles()
    assert calls == []


_TEAMS = st.sampled_from(["desk", "network", "apps"])
_PROBLEMS = st.lists(st.tuples(_TEAMS, st.sampled_from([None, "acme"])), min_size=1, max_size=4)
_CHOSEN = st.sets(st.integers(0, 3), max_size=3)


def _problems(desk: Helpdesk, problems: list[tuple[str, str | None]]) -> list[str]:
    """Problem tickets in the teams given, opened for acme (Cy's) or for Bea."""
    ids = []
    for team, organization in problems:
        requester = "r3" if organization else "r2"
        ticket = desk.open(requester=requester, subject="Gateway drops", type="problem")
        ids.append(desk.update(ticket.id, by="root", team=team).id)
    return ids


def _viewable(desk: Helpdesk, who: str, ids: list[str]) -> set[str]:
    return {i for i in ids if _may_view(desk, who, i)}


def _may_view(desk: Helpdesk, who: str, ticket_id: str) -> bool:
    try:
        desk.get(ticket_id, as_=who)
    except AccessDenied:
        return False
    return True


@settings(max_examples=20, deadline=None)
@given(problems=_PROBLEMS, articles=st.lists(_CHOSEN, max_size=2), team=_TEAMS, causes=_CHOSEN)
def test_no_similar_match_names_a_problem_its_reader_may_not_view(
    problems: list[tuple[str, str | None]], articles: list[set[int]], team: str, causes: set[int]
) -> None:
    """Problems in random teams (some opened for acme), a solved ticket and an incident
    caused by random ones, articles documenting random ones: no match a reader gets names
    a problem they may not view, and each is scored as stored."""
    desk = _desk()
    ids = _problems(desk, problems)
    for chosen in articles:
        linked = [ids[i] for i in chosen if i < len(ids)]
        desk.publish_article(title="Gateway", body="Backup", problems=linked, by="root")
    solved = desk.open(requester="r1", subject="Gateway drops at home")
    new = desk.open(requester="r1", subject="Gateway drops again")
    for ticket in (solved, new):
        desk.update(ticket.id, by="root", team=team)
        for i in sorted(causes):
            if i < len(ids):
                desk.link(ticket.id, kind="caused_by", other=ids[i], by="root")
    desk.solve(solved.id, by="root", resolution="Backup", first_contact=True)
    stored = {(m.id, m.score) for m in desk.similar(new.id, 20)}
    for who in READERS:
        if not _may_view(desk, who, new.id):
            continue
        matches = desk.similar(new.id, 20, as_=who)
        for hidden in set(ids) - _viewable(desk, who, ids):
            assert not _names(matches, hidden), (who, hidden)
        assert {(m.id, m.score) for m in matches} <= stored


@settings(max_examples=20, deadline=None)
@given(problems=_PROBLEMS, articles=st.lists(_CHOSEN, min_size=1, max_size=3))
def test_every_article_names_exactly_the_problems_its_reader_may_view(
    problems: list[tuple[str, str | None]], articles: list[set[int]]
) -> None:
    """Problems in random teams (some opened for acme), articles documenting random ones:
    each reader gets every article with exactly the problems they may view, read one by
    one or in a search, and what is stored does not change."""
    desk = _desk()
    ids = _problems(desk, problems)
    stored = [
        desk.publish_article(
            title="Gateway",
            body="Backup gateway",
            problems=[ids[i] for i in chosen if i < len(ids)],
            by="root",
        )
        for chosen in articles
    ]
    for who in READERS:
        viewable = _viewable(desk, who, ids)
        want = {a.id: tuple(p for p in a.problems if p in viewable) for a in stored}
        assert {a.id: desk.get_article(a.id, as_=who).problems for a in stored} == want
        found = desk.search_articles(as_=who, limit=100).items
        assert {a.id: a.problems for a in found} == want
        found = desk.search_articles("gateway", as_=who, limit=100).items
        assert {a.id: a.problems for a in found} == want
    assert [desk.get_article(a.id) for a in stored] == stored


def test_a_writer_saving_problems_keeps_those_they_may_not_view(desk: Helpdesk) -> None:
    """An agent who does not see another team's problem on an article cannot drop it
    by saving the list they read: they never saw it, so it stays, and what they get back
    still leaves it out."""
    problem, _old, _new, article = _scene(desk)
    mine = desk.open(requester="r1", subject="Printer queue stuck", type="problem")
    desk.update(mine.id, by="root", team="desk")
    read = desk.get_article(article.id, as_="alice")
    assert read.problems == ()
    saved = desk.update_article(article.id, by="alice", problems=[*read.problems, mine.id])
    assert saved.problems == (mine.id,)
    assert sorted(desk.get_article(article.id).problems) == sorted((mine.id, problem))
    # Saving an empty list drops only what the writer sees.
    desk.update_article(article.id, by="alice", problems=[])
    assert desk.get_article(article.id).problems == (problem,)
    # Who sees the problem may drop it.
    desk.update_article(article.id, by="carol", problems=[])
    assert desk.get_article(article.id).problems == ()
