"""Input handling of the knowledge commands: problems given as any iterable are read once
and kept, bad problems and unknown search filters are ValidationErrors naming the input,
and the desk's text limits hold for known errors and articles before anything is stored."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from knowledge_fixtures import T0, desk_config

from helpdesk_core import (
    Helpdesk,
    ManualClock,
    MemoryStore,
    Requester,
    SequentialIds,
    ValidationError,
)
from helpdesk_core.config import Limits
from helpdesk_core.knowledge import Article, ArticleQuery, ArticleStatus, SimilarityIndex
from helpdesk_core.model import Actor

ADA = Requester(id="ada", name="Ada")


def _desk(**limits: int) -> tuple[Helpdesk, MemoryStore]:
    store = MemoryStore()
    config = attrs.evolve(desk_config(), limits=Limits(**limits))
    desk = Helpdesk(config=config, store=store, clock=ManualClock(T0), ids=SequentialIds())
    desk.upsert_requester(ADA)
    return desk, store


def _problem(desk: Helpdesk, subject: str = "Gateway drops VPN") -> str:
    return desk.open(requester=ADA, subject=subject, type="problem").id


# ---------------------------------------------------------------------------- problems


def test_problems_given_as_a_generator_are_kept_on_publish() -> None:
    desk, store = _desk()
    first, second = _problem(desk), _problem(desk, "Printer queue stuck")
    article = desk.publish_article(
        title="VPN drops", body="Use vpn2.", problems=(p for p in [second, first]), by="alice"
    )
    assert article.problems == tuple(sorted([first, second]))
    assert store.get_article(article.id).problems == article.problems
    found = desk.search_articles(problem=[first])
    assert [a.id for a in found.items] == [article.id]


def test_problems_given_as_a_generator_are_kept_on_update() -> None:
    desk, store = _desk()
    problem = _problem(desk)
    article = desk.publish_article(title="VPN drops", body="Use vpn2.", by="alice")
    updated = desk.update_article(article.id, problems=iter([problem]), by="root")
    assert updated.problems == (problem,)
    assert updated.version == 2
    assert store.get_article(article.id).problems == (problem,)


def test_a_single_problem_id_is_one_problem() -> None:
    desk, _ = _desk()
    problem = _problem(desk)
    article = desk.publish_article(title="VPN drops", body="", problems=problem, by="alice")
    assert article.problems == (problem,)


@pytest.mark.parametrize(
    "problems", [None, 7, b"T-1", [1], ["", "x"], [None], ["T-1\x00"], ["T 1"], ["T" * 201]]
)
def test_bad_problems_are_validation_errors(problems: Any) -> None:
    desk, store = _desk()
    with pytest.raises(ValidationError) as refused:
        desk.publish_article(title="VPN drops", body="", problems=problems, by="alice")
    assert refused.value.field == "problems"
    assert list(store.list_articles(ArticleQuery(status=None)).items) == []


@pytest.mark.parametrize("problems", [None, 7, [3], ["T-1\x00"]])
def test_bad_problems_on_update_are_validation_errors(problems: Any) -> None:
    desk, store = _desk()
    article = desk.publish_article(title="VPN drops", body="", by="alice")
    with pytest.raises(ValidationError) as refused:
        desk.update_article(article.id, problems=problems, by="bob")
    assert refused.value.field == "problems"
    assert store.get_article(article.id) == article


@pytest.mark.parametrize("problems", [None, 7, b"T-1", {"T-1": 1}])
def test_bad_problems_of_an_article_or_a_document_are_named(problems: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        Article(
            id="KB-1", title="VPN", problems=problems, author="alice", created_at=T0, updated_at=T0
        )
    assert refused.value.field == "problems"
    with pytest.raises(ValidationError) as refused:
        SimilarityIndex().add_document("KB-1", "VPN", "", problems=problems)
    assert refused.value.field == "problems"


def test_a_ticket_that_is_no_problem_is_refused_from_a_generator() -> None:
    desk, _ = _desk()
    incident = desk.open(requester=ADA, subject="VPN down").id
    with pytest.raises(ValidationError, match="not 'problem'") as refused:
        desk.publish_article(
            title="VPN drops", body="", problems=(p for p in [incident]), by="alice"
        )
    assert refused.value.field == "problems"


# ---------------------------------------------------------------------------- search filters


@pytest.mark.parametrize(
    ("call", "key"),
    [
        (lambda desk: desk.search_articles(tags=["vpn"]), "tags"),
        (lambda desk: desk.search_articles("vpn", bogus=1), "bogus"),
        (lambda desk: desk.search_articles(ArticleQuery(), sttaus=None), "sttaus"),
    ],
    ids=["keywords", "text", "query"],
)
def test_unknown_search_filters_are_named(call: Any, key: str) -> None:
    desk, _ = _desk()
    with pytest.raises(ValidationError) as refused:
        call(desk)
    assert refused.value.field == key
    assert f"unknown article filter {key}" in refused.value.message
    for allowed in ("tag", "status", "text", "problem", "limit"):
        assert allowed in refused.value.message.split("allowed: ")[1]


def test_unknown_filters_are_all_named_in_order() -> None:
    desk, _ = _desk()
    with pytest.raises(ValidationError, match="unknown article filter b, tags") as refused:
        desk.search_articles(tags="vpn", b=2, tag="vpn")
    assert refused.value.field == "b"


def test_the_search_text_given_twice_is_refused() -> None:
    desk, _ = _desk()
    with pytest.raises(ValidationError) as refused:
        desk.search_articles("vpn", text="printer")
    assert refused.value.field == "text"


def test_known_filters_still_work_every_way() -> None:
    desk, _ = _desk()
    vpn = desk.publish_article(title="VPN drops", body="Use vpn2.", tags=["vpn"], by="alice")
    desk.publish_article(title="Printer jams", body="Open tray 2.", tags=["printer"], by="alice")
    desk.retire_article(vpn.id, by="alice")
    assert [a.id for a in desk.search_articles(tag="vpn", status=None).items] == [vpn.id]
    assert [a.id for a in desk.search_articles("vpn", status=None).items] == [vpn.id]
    query = ArticleQuery(tag=("vpn",))
    assert desk.search_articles(query).items == ()
    assert [a.id for a in desk.search_articles(query, status=None).items] == [vpn.id]
    retired = desk.search_articles(status=ArticleStatus.RETIRED)
    assert [a.id for a in retired.items] == [vpn.id]


# ---------------------------------------------------------------------------- limits


@pytest.mark.parametrize("name", ["symptom", "workaround", "root_cause"])
def test_known_error_texts_are_held_to_the_body_limit(name: str) -> None:
    desk, store = _desk(max_body_length=50)
    problem = _problem(desk)
    before = store.load(problem)
    texts = {"symptom": "VPN drops", name: "x" * 51}
    with pytest.raises(ValidationError) as refused:
        desk.record_known_error(problem, by="alice", **texts)
    assert refused.value.field == name
    assert "limits.max_body_length" in refused.value.message
    assert store.load(problem) == before
    ok = {"symptom": "VPN drops", name: "x" * 50}
    recorded = desk.record_known_error(problem, by="alice", **ok)
    assert recorded.known_error is not None
    assert getattr(recorded.known_error, name) == "x" * 50


@pytest.mark.parametrize("name", ["symptom", "workaround", "root_cause"])
def test_known_error_updates_are_held_to_the_body_limit(name: str) -> None:
    desk, store = _desk(max_body_length=50)
    problem = _problem(desk)
    desk.record_known_error(problem, symptom="VPN drops", by="alice")
    before = store.load(problem)
    with pytest.raises(ValidationError) as refused:
        desk.update_known_error(problem, by="alice", **{name: "y" * 51})
    assert refused.value.field == name
    assert "limits.max_body_length" in refused.value.message
    assert store.load(problem) == before
    updated = desk.update_known_error(problem, by="alice", **{name: "y" * 50})
    assert updated.known_error is not None
    assert getattr(updated.known_error, name) == "y" * 50


def test_article_bodies_and_titles_are_held_to_the_desk_limits() -> None:
    desk, store = _desk(max_body_length=40, max_subject_length=20)
    with pytest.raises(ValidationError) as refused:
        desk.publish_article(title="VPN drops", body="b" * 41, by="alice")
    assert (refused.value.field, "limits.max_body_length" in refused.value.message) == (
        "body",
        True,
    )
    with pytest.raises(ValidationError) as refused:
        desk.publish_article(title="t" * 21, body="short", by="alice")
    assert (refused.value.field, "limits.max_subject_length" in refused.value.message) == (
        "title",
        True,
    )
    assert list(store.list_articles(ArticleQuery(status=None)).items) == []
    article = desk.publish_article(title="t" * 20, body="b" * 40, by="alice")
    for change in ({"body": "c" * 41}, {"title": "u" * 21}):
        with pytest.raises(ValidationError) as refused:
            desk.update_article(article.id, by="bob", **change)
        assert refused.value.field == next(iter(change))
    assert store.get_article(article.id) == article
    assert desk.update_article(article.id, body="c" * 40, by="bob").version == 2


# ---------------------------------------------------------------------------- decisions


def _decisions(desk: Helpdesk) -> dict[str, Any]:
    """Each known-error decision on tickets where it decides nothing (no record to update,
    resolve or bring back) and on one where it records, by name."""
    from helpdesk_core.knowledge import (
        record_known_error,
        reopen_known_error,
        resolve_known_error,
        update_known_error,
    )

    bare = desk.store.load(_problem(desk))
    recorded = desk.record_known_error(_problem(desk), symptom="VPN drops", by="alice")
    return {
        "record": lambda **kw: record_known_error(bare, symptom="VPN drops", **kw),
        "update (unchanged)": lambda **kw: update_known_error(recorded, symptom="VPN drops", **kw),
        "update": lambda **kw: update_known_error(recorded, workaround="vpn2", **kw),
        "resolve (no record)": lambda **kw: resolve_known_error(bare, **kw),
        "resolve": lambda **kw: resolve_known_error(recorded, **kw),
        "reopen (nothing to bring back)": lambda **kw: reopen_known_error(recorded, **kw),
    }


@pytest.mark.parametrize(
    ("by", "now", "name"),
    [
        ("alice", T0, "by"),
        (None, T0, "by"),
        (Actor.agent("alice"), T0.replace(tzinfo=None), "now"),
        (Actor.agent("alice"), "2026-05-04T09:00:00Z", "now"),
    ],
)
def test_the_known_error_decisions_refuse_a_bad_actor_or_instant(
    by: Any, now: Any, name: str
) -> None:
    desk, _ = _desk()
    for decision, call in _decisions(desk).items():
        with pytest.raises(ValidationError) as refused:
            call(by=by, now=now)
        assert refused.value.field == name, decision


def test_record_known_error_refuses_a_problem_type_that_is_no_type_name() -> None:
    from helpdesk_core.knowledge import record_known_error

    desk, store = _desk()
    problem = store.load(_problem(desk))
    for problem_type in (3, None, ""):
        with pytest.raises(ValidationError) as refused:
            record_known_error(
                problem,
                symptom="VPN drops",
                by=Actor.agent("alice"),
                now=T0,
                problem_type=problem_type,  # type: ignore[arg-type]
            )
        assert refused.value.field == "problem_type"


# ---------------------------------------------------------------------------- search text


@pytest.mark.parametrize("text", ["\ud800", "vpn \udfff", "\ud800\udc00"])
def test_a_search_text_holding_a_lone_surrogate_is_refused(text: str) -> None:
    desk, _ = _desk()
    with pytest.raises(ValidationError) as caught:
        ArticleQuery(text=text)
    assert caught.value.field == "text"
    with pytest.raises(ValidationError) as caught:
        desk.search_articles(text=text)
    assert caught.value.field == "text"
