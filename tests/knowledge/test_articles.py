"""Knowledge-base articles through the facade on every store: agents write, requesters read
published ones, updates are versioned and retried on a concurrent change, search ranks
by the store's full text."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest
from knowledge_fixtures import T0, StoreFactory, desk_config, make_desk

from helpdesk_core import (
    AccessDenied,
    ConflictError,
    Helpdesk,
    ManualClock,
    NotFound,
    Requester,
    ValidationError,
)
from helpdesk_core.knowledge import Article, ArticleQuery, ArticleStatus, article_words
from helpdesk_core.storage import MemoryStore

ADA = Requester(id="ada", name="Ada")


def test_agents_publish_update_and_retire_articles(make_store: StoreFactory) -> None:
    desk, clock = make_desk(make_store())
    desk.upsert_requester(ADA)
    problem = desk.open(requester=ADA, subject="Gateway drops VPN", type="problem").id
    article = desk.publish_article(
        title="VPN drops: use the backup gateway",
        body="Until the firmware is fixed, connect to vpn2.example.org.",
        tags=["vpn", "workaround"],
        category="network",
        problems=[problem],
        by="alice",
    )
    assert article == Article(
        id="A-000001",
        title="VPN drops: use the backup gateway",
        body="Until the firmware is fixed, connect to vpn2.example.org.",
        tags=("vpn", "workaround"),
        category="network",
        problems=(problem,),
        author="alice",
        created_at=T0,
        updated_at=T0,
    )
    assert desk.get_article(article.id) == article
    assert desk.get_article(article.id, as_="ada") == article
    clock.advance(hours=1)
    updated = desk.update_article(article.id, body="Fixed: vpn1 works again.", by="bob")
    assert (updated.version, updated.updated_at, updated.author) == (
        2,
        T0 + timedelta(hours=1),
        "alice",
    )
    assert desk.update_article(article.id, body="Fixed: vpn1 works again.", by="bob") == updated
    cleared = desk.update_article(article.id, category=None, by="alice")
    assert (cleared.category, cleared.version) == (None, 3)
    retired = desk.retire_article(article.id, by="alice")
    assert retired.status is ArticleStatus.RETIRED
    # Bob, of the network team, reads it without the problem he may not view.
    assert desk.get_article(article.id, as_="bob") == attrs.evolve(retired, problems=())
    with pytest.raises(AccessDenied, match="retired"):
        desk.get_article(article.id, as_="ada")
    assert desk.search_articles("vpn1").total == 0
    assert desk.search_articles("vpn1", status=None).items == (retired,)
    assert desk.search_articles("vpn1", status=None, as_="ada").total == 0
    restored = desk.update_article(article.id, status="published", by="alice")
    assert desk.search_articles("vpn1", as_="ada").items == (restored,)


def test_who_may_write_and_what_is_checked(make_store: StoreFactory) -> None:
    desk, _ = make_desk(make_store())
    desk.upsert_requester(ADA)
    incident = desk.open(requester=ADA, subject="VPN drops").id
    with pytest.raises(AccessDenied, match="only agents write"):
        desk.publish_article(title="t", body="b", by="ada")
    with pytest.raises(AccessDenied, match="inactive"):
        desk.publish_article(title="t", body="b", by="gone")
    with pytest.raises(ValidationError, match="not 'problem'") as error:
        desk.publish_article(title="t", body="b", problems=[incident], by="alice")
    assert error.value.field == "problems"
    with pytest.raises(NotFound):
        desk.publish_article(title="t", body="b", problems=["T-999999"], by="alice")
    with pytest.raises(ValidationError) as error:
        desk.publish_article(title=" ", body="b", by="alice")
    assert error.value.field == "title"
    with pytest.raises(ValidationError) as error:
        desk.publish_article(title="t", body="b" * 100_001, by="alice")
    assert error.value.field == "body"
    article = desk.publish_article(title="t", body="b", by="system:import", id="KB-7")
    assert article.author == "import"
    with pytest.raises(ConflictError, match="article 'KB-7' exists already") as conflict:
        desk.publish_article(title="again", body="b", by="alice", id="KB-7")
    assert (conflict.value.kind, conflict.value.expected, conflict.value.actual) == (
        "article", 0, 1,
    )
    assert desk.get_article("KB-7").title == "t"
    with pytest.raises(ValidationError) as error:
        desk.update_article("KB-7", author="bob", by="alice")
    assert error.value.field == "author"
    with pytest.raises(AccessDenied):
        desk.update_article("KB-7", title="mine", by="ada")
    with pytest.raises(NotFound):
        desk.update_article("KB-8", title="x", by="alice")
    with pytest.raises(ValidationError):
        desk.search_articles(42)  # type: ignore[arg-type]
    assert desk.get_article("KB-7") == article


class _Racing(MemoryStore):
    """A store where another desk saves a change just before our first save."""

    raced = False

    def save_article(self, article: Article, *, expected_version: int) -> None:
        if not self.raced and expected_version > 0:
            self.raced = True
            other = attrs.evolve(self.get_article(article.id), tags=("theirs",), version=2)
            super().save_article(other, expected_version=1)
        super().save_article(article, expected_version=expected_version)


def test_an_update_that_met_a_concurrent_change_is_decided_again() -> None:
    store = _Racing()
    desk, _ = make_desk(store)
    article = desk.publish_article(title="VPN", body="use vpn2", by="alice")
    updated = desk.update_article(article.id, body="use vpn1", by="alice")
    assert (updated.body, updated.tags, updated.version) == ("use vpn1", ("theirs",), 3)
    assert store.get_article(article.id) == updated


def test_tags_given_as_an_iterator_survive_a_concurrent_change() -> None:
    # The update is decided again after the concurrent change: the tags are read once.
    store = _Racing()
    desk, _ = make_desk(store)
    article = desk.publish_article(title="VPN", body="use vpn2", by="alice")
    updated = desk.update_article(article.id, tags=iter(["vpn", "gateway"]), by="alice")
    assert (updated.tags, updated.version) == (("gateway", "vpn"), 3)
    assert store.get_article(article.id) == updated


def test_search_through_the_desk_ranks_and_filters(make_store: StoreFactory) -> None:
    desk, clock = make_desk(make_store())
    desk.upsert_requester(ADA)
    texts = {
        "KB-1": ("Printer jams on floor 2", "Open tray 2 and remove the paper.", "hardware"),
        "KB-2": (
            "VPN timeout",
            "The VPN client times out; a timeout means the gateway.",
            "network",
        ),
        "KB-3": ("Reset your password", "Use the self-service portal.", "access"),
        "KB-4": ("Slow VPN", "VPN is slow over hotel wifi.", "network"),
    }
    for article_id, (title, body, category) in texts.items():
        clock.advance(minutes=1)
        desk.publish_article(title=title, body=body, category=category, by="alice", id=article_id)
    desk.retire_article("KB-4", by="alice")
    assert [a.id for a in desk.search_articles("vpn timeout").items] == ["KB-2"]
    ranked = desk.search_articles("VPN timeout", match="any", status=None)
    assert ranked.items[0].id == "KB-2"  # both words, "timeout" twice
    assert {a.id for a in ranked.items} == {"KB-2", "KB-4"}
    assert [a.id for a in desk.search_articles(category="network", status=None).items] == [
        "KB-4",
        "KB-2",
    ]
    assert [a.id for a in desk.search_articles().items] == ["KB-3", "KB-2", "KB-1"]
    query = ArticleQuery(text="paper portal", match="any")
    assert {a.id for a in desk.search_articles(query).items} == {"KB-1", "KB-3"}
    assert [a.id for a in desk.search_articles(query, category="access").items] == ["KB-3"]
    assert [a.id for a in desk.search_articles(query, as_="ada").items] != []
    with pytest.raises(AccessDenied):
        desk.search_articles("vpn", as_="gone")


def test_a_requester_asking_for_retired_articles_gets_none(make_store: StoreFactory) -> None:
    # A requester's search keeps the statuses asked for that a requester may read: the
    # published articles are not handed over instead of the retired ones asked for.
    desk, _ = make_desk(make_store())
    desk.upsert_requester(ADA)
    live = desk.publish_article(title="VPN timeout", body="Use vpn2.", by="alice").id
    old = desk.publish_article(title="VPN timeout (old)", body="Use vpn1.", by="alice").id
    desk.retire_article(old, by="alice")
    for query in (ArticleQuery(status="retired"), ArticleQuery(text="vpn", status="retired")):
        assert desk.search_articles(query, as_="ada").total == 0
        assert [a.id for a in desk.search_articles(query, as_="alice").items] == [old]
    for status in (None, ("retired", "published")):
        found = desk.search_articles("vpn", status=status, as_="ada")
        assert [a.id for a in found.items] == [live]


def test_article_words_are_the_searchable_words() -> None:
    article = Article(
        id="KB-1",
        title="Straße: the VPN-Client",
        body="Times out: see x" + " y" * 3 + " " + "z" * 65,
        tags=("Wi-Fi",),
        author="a",
        created_at=T0,
        updated_at=T0,
    )
    assert article_words(article) == ["strasse", "vpn", "client", "times", "see", "wi", "fi"]
    with pytest.raises(ValidationError) as error:
        ArticleQuery(limit=0)
    assert error.value.field == "limit"
    with pytest.raises(ValidationError) as error:
        ArticleQuery(match="some")  # type: ignore[arg-type]
    assert error.value.field == "match"
    with pytest.raises(ValidationError) as error:
        ArticleQuery(status="draft")
    assert error.value.field == "status"
    assert ArticleQuery(text="The VPN, the vpn and TIMEOUT").words == ("vpn", "timeout")


def test_an_update_from_a_desk_whose_clock_runs_behind_is_stamped_at_the_last_update(
    make_store: StoreFactory,
) -> None:
    # Two processes share the store; the second one's clock runs a second behind. Its
    # update is stamped at the article's last update, as a ticket command is, rather
    # than refused or stamped before it.
    store = make_store()
    ahead, clock = make_desk(store)
    article = ahead.publish_article(title="VPN", body="use vpn2", by="alice")
    clock.advance(minutes=1)
    article = ahead.update_article(article.id, body="use vpn1", by="alice")
    lagging = ManualClock(T0 - timedelta(seconds=1))
    behind = Helpdesk(config=desk_config(), store=store, clock=lagging)
    updated = behind.update_article(article.id, tags=["vpn"], by="alice")
    assert (updated.updated_at, updated.version) == (T0 + timedelta(minutes=1), 3)
    assert store.get_article(article.id) == updated
    first = behind.publish_article(title="Printer", body="tray 2", by="alice", id="KB-9")
    ahead.update_article(first.id, body="tray 3", by="alice")
    assert behind.update_article(first.id, body="tray 4", by="alice").updated_at == (
        T0 + timedelta(minutes=1)
    )


def test_an_article_names_only_problems_its_writer_may_view(make_store: StoreFactory) -> None:
    """A ticket an agent may not view reads as one that does not exist when they name it
    among an article's problems (as a link's target does), whatever its type: the answer
    does not tell whether the id is taken, nor by a problem. Nothing is saved."""
    desk, _ = make_desk(make_store())
    desk.upsert_requester(ADA)
    problem = desk.open(requester=ADA, subject="Gateway drops VPN", type="problem")
    incident = desk.open(requester=ADA, subject="VPN drops at home")
    assert problem.team == incident.team == "desk"  # alice's team, not bob's
    article = desk.publish_article(title="VPN", body="Use vpn2", by="bob")
    refusals = []
    for ticket_id in (problem.id, incident.id, "T-999999"):
        with pytest.raises(NotFound) as caught:
            desk.publish_article(title="VPN", body="Use vpn2", problems=[ticket_id], by="bob")
        refusals.append(str(caught.value).replace(ticket_id, "<id>"))
        with pytest.raises(NotFound) as caught:
            desk.update_article(article.id, problems=[ticket_id], by="bob")
        refusals.append(str(caught.value).replace(ticket_id, "<id>"))
    assert len(set(refusals)) == 1
    assert desk.search_articles(status=None).total == 1
    assert desk.get_article(article.id) == article
    # Who may view the problem names it; an incident is still no problem for them.
    assert desk.update_article(article.id, problems=[problem.id], by="alice").problems == (
        problem.id,
    )
    with pytest.raises(ValidationError):
        desk.update_article(article.id, problems=[incident.id], by="root")
