"""``desk.similar()`` on every store: the stores' full-text search hands candidates to the
BM25 ranking (an in-memory index for stores without one); a planted near-duplicate is
found among generated noise on each store, with the same answer everywhere."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from knowledge_fixtures import STORES, StoreFactory, drop, make_desk

from helpdesk_core import AccessDenied, Helpdesk, Requester, ValidationError
from helpdesk_core.knowledge.articles import MAX_WORD_LENGTH
from helpdesk_core.model import StatusCategory, replay
from helpdesk_core.storage import SolvedTicketSearch, SqliteStore, Store, migrations
from helpdesk_core.testing.conformance import MINUTE, T0, moved, opened

NOISE = (  # noqa: SIM905
    "printer toner paper jam email outlook calendar invite password reset account locked "
    "monitor flicker keyboard mouse laptop battery charger teams meeting audio camera excel "
    "macro sharepoint permission folder license install software update boot screen error "
    "disk backup restore phone voicemail badge door wifi network slow crash freeze driver"
).split()
TOPIC = ("kerberos", "renewal", "expired", "domain", "controller", "skew", "überlast", "kühlung")
ADA = Requester(id="ada", name="Ada")


def _solved(store: Store, ticket_id: str, words: list[str], category: str | None) -> None:
    """A solved ticket whose subject is its first three words, its description the rest."""
    number = store.allocate_number()
    events = [
        opened(
            ticket_id,
            number,
            subject=" ".join(words[:3]),
            description=" ".join(words[3:]),
            category=category,
        ),
        moved(ticket_id, "solved", StatusCategory.SOLVED, at=T0 + MINUTE),
    ]
    store.append(ticket_id, expected_version=0, events=events, snapshot=replay(events))


@st.composite
def planted_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """Noise tickets of seven distinct words sharing at most one topic word each; a
    near-duplicate of seven words holding every topic word; a query in the topic words.
    Every text has the same length, so the duplicate shares strictly more."""
    topic = draw(st.lists(st.sampled_from(TOPIC), min_size=4, max_size=6, unique=True))
    noise: list[tuple[list[str], str]] = []
    for _ in range(draw(st.integers(min_value=3, max_value=20))):
        words = draw(st.lists(st.sampled_from(NOISE), min_size=7, max_size=7, unique=True))
        shared = draw(st.none() | st.sampled_from(topic))
        if shared is not None:
            words[draw(st.integers(min_value=0, max_value=6))] = shared
        noise.append((words, draw(st.sampled_from(["identity", "hardware", "software"]))))
    filler = draw(
        st.lists(
            st.sampled_from(NOISE), min_size=7 - len(topic), max_size=7 - len(topic), unique=True
        )
    )
    return {
        "noise": noise,
        "duplicate": draw(st.permutations([*topic, *filler])),
        "query": draw(st.permutations(topic)),
        "case": draw(st.sampled_from([str.lower, str.upper, str.title])),
        "where": draw(st.integers(min_value=0, max_value=len(noise))),
        "topic": topic,
    }


def _plant(store: Store, scenario: dict[str, Any]) -> tuple[Helpdesk, str]:
    tickets = [(f"N-{i}", words, category) for i, (words, category) in enumerate(scenario["noise"])]
    tickets.insert(scenario["where"], ("DUP", scenario["duplicate"], "identity"))
    for ticket_id, words, category in tickets:
        _solved(store, ticket_id, words, category)
    desk, _ = make_desk(store)
    words = [scenario["case"](w) for w in scenario["query"]]
    query = desk.open(
        requester=ADA,
        subject=" ".join(words[:2]),
        description=" ".join(words[2:]),
        category="identity",
    )
    return desk, query.id


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=planted_scenarios())
def test_the_planted_near_duplicate_is_found_on_every_store(
    make_store: StoreFactory, scenario: dict[str, Any]
) -> None:
    desk, query = _plant(make_store(), scenario)
    matches = desk.similar(query, limit=3)
    best = matches[0]
    assert (best.id, best.kind) == ("DUP", "ticket")
    assert best.reasons[0] == "same category 'identity'"
    shared = best.reasons[-1].removeprefix("shared words: ").split(", ")
    assert set(shared) <= set(scenario["topic"])
    assert len(shared) == min(5, len(scenario["topic"]))
    assert all(m.score < best.score for m in matches[1:])
    assert query not in {m.id for m in matches}


def _fixed_scenario(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    topic = rng.sample(TOPIC, 5)
    noise = []
    for i in range(40):
        words = rng.sample(NOISE, 7)
        if i % 3 == 0:
            words[rng.randrange(7)] = rng.choice(topic)
        noise.append((words, rng.choice(["identity", "hardware"])))
    duplicate = [*topic, *rng.sample(NOISE, 2)]
    rng.shuffle(duplicate)
    return {
        "noise": noise,
        "duplicate": duplicate,
        "query": topic,
        "case": str.title,
        "where": 17,
        "topic": topic,
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_store_gives_the_same_best_match(tmp_path: Path, seed: int) -> None:
    answers: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
    for param in STORES:
        if param.marks and any(m.name == "skipif" and m.args[0] for m in param.marks):
            continue
        factory: Callable[[Path], Store] = param.values[0]  # type: ignore[assignment]
        store = factory(tmp_path)
        try:
            desk, query = _plant(store, _fixed_scenario(seed))
            answers[str(param.id)] = [(m.id, m.kind, m.reasons) for m in desk.similar(query, 1)]
        finally:
            drop(store)
    assert len(answers) >= 2
    first = next(iter(answers.values()))
    assert first[0][0] == "DUP"
    assert all(answer == first for answer in answers.values()), answers


def test_similar_follows_reopening_anonymising_and_articles(make_store: StoreFactory) -> None:
    desk, clock = make_desk(make_store())
    desk.upsert_requester(ADA)
    problem = desk.open(requester=ADA, subject="Gateway drops VPN sessions", type="problem").id
    old = desk.open(requester=ADA, subject="VPN timeout at home", category="network").id
    desk.reply(old, author="alice", body="Use vpn2 for now.")
    desk.link(old, kind="caused_by", other=problem, by="alice")
    desk.solve(old, by="alice", resolution="vpn2")
    new = desk.open(requester=ADA, subject="VPN timeout again", category="network").id
    desk.link(new, kind="caused_by", other=problem, by="alice")
    article = desk.publish_article(
        title="Backup gateway",
        body="Connect to vpn2 while the gateway is repaired.",
        problems=[problem],
        by="alice",
    )
    matches = desk.similar(new)
    assert [(m.id, m.kind) for m in matches] == [(old, "ticket"), (article.id, "article")]
    assert matches[0].reasons == (
        "same category 'network'",
        f"same problem '{problem}'",
        "shared words: timeout, vpn",
    )
    assert matches[1].reasons == (f"same problem '{problem}'",)
    # A requester sees the articles only; an agent of another team may not look.
    assert [m.id for m in desk.similar(new, as_="ada")] == [article.id]
    with pytest.raises(AccessDenied):
        desk.similar(new, as_="bob")
    assert [m.id for m in desk.similar(new, as_="alice")] == [old, article.id]
    # Reopened tickets are not offered; retired articles neither.
    clock.advance(minutes=10)
    desk.reopen(old, by="ada", reason="It is back")
    desk.retire_article(article.id, by="alice")
    assert desk.similar(new) == []
    desk.solve(old, by="alice", resolution="vpn2 again")
    assert [m.id for m in desk.similar(new)] == [old]
    # An erased requester's tickets keep their facets, not their words.
    desk.erase_requester("ada", by="root")
    [match] = desk.similar(new)
    assert match.id == old
    assert not any(r.startswith("shared words") for r in match.reasons)
    with pytest.raises(ValidationError):
        desk.similar(new, limit=0)


def test_an_article_sharing_a_word_behind_a_long_greeting_is_offered(
    make_store: StoreFactory,
) -> None:
    # The ticket's telling word comes after forty other words: its first 64 distinct
    # words are asked for solved tickets and for articles alike.
    desk, _ = make_desk(make_store())
    desk.upsert_requester(ADA)
    article = desk.publish_article(title="Kerberos renewal", body="Renew the ticket.", by="alice")
    old = desk.open(requester=ADA, subject="Kerberos expired").id
    desk.reply(old, author="alice", body="Renewed.")
    desk.solve(old, by="alice", resolution="renewed")
    greeting = " ".join(f"greeting{i}" for i in range(40))
    new = desk.open(requester=ADA, subject="Hello", description=f"{greeting} kerberos").id
    matches = desk.similar(new)
    assert {(m.id, m.kind) for m in matches} == {(old, "ticket"), (article.id, "article")}
    assert all(m.reasons == ("shared words: kerberos",) for m in matches)


def test_a_ticket_cancelled_without_a_solve_is_not_offered(make_store: StoreFactory) -> None:
    """A duplicate cancelled unsolved is closed, but no solution: it is not offered as a
    similar solved ticket (it would come first, with nothing to say); one that was solved
    before it closed is."""
    desk, clock = make_desk(make_store())
    desk.upsert_requester(ADA)
    old = desk.open(requester=ADA, subject="VPN timeout at home", category="network").id
    desk.reply(old, author="alice", body="Use vpn2 for now.")
    desk.solve(old, by="alice", resolution="vpn2")
    duplicate = desk.open(requester=ADA, subject="VPN timeout at home", category="network").id
    desk.cancel(duplicate, by="alice", reason="a duplicate")
    new = desk.open(requester=ADA, subject="VPN timeout at home", category="network").id
    assert [m.id for m in desk.similar(new)] == [old]
    clock.advance(days=30)
    desk.tick()  # the solved ticket closes by itself: still a solution
    assert desk.get(old).status == "closed"
    assert [m.id for m in desk.similar(new)] == [old]


def test_similar_finds_words_with_marks_and_across_normal_forms(make_store: StoreFactory) -> None:
    # A solved Hindi ticket is found by its words (whole: their vowel signs are marks),
    # a ticket written decomposed (NFD) by the composed (NFC) words and the other way
    # round, with the same shared words on every store.
    desk, _ = make_desk(make_store())
    desk.upsert_requester(ADA)
    solved = {
        "hindi": "प्रिंटर काम नहीं कर रहा",
        "nfd": "Cafe\u0301 kiosk: cre\u0300me bru\u0302le\u0301e",
        "nfc": "Résumé portal: Zürich",
    }
    ids = {}
    for name, subject in solved.items():
        ticket = desk.open(requester=ADA, subject=subject)
        desk.reply(ticket.id, author="alice", body="ok")
        desk.solve(ticket.id, by="alice", resolution="done")
        ids[name] = ticket.id
    queries = {
        "hindi": ("मेरा प्रिंटर", "shared words: प्रिंटर"),
        "nfd": ("Café crème", "shared words: café, crème"),
        "nfc": ("Re\u0301sume\u0301 zu\u0308rich", "shared words: résumé, zürich"),
    }
    for name, (subject, reason) in queries.items():
        new = desk.open(requester=ADA, subject=subject).id
        matches = desk.similar(new)
        assert [m.id for m in matches] == [ids[name]], name
        assert matches[0].reasons == (reason,)
    fragment = desk.open(requester=ADA, subject="प्र").id  # not a word of any ticket
    assert desk.similar(fragment) == []


def _without_fts5(monkeypatch: pytest.MonkeyPatch, path: Path) -> SqliteStore:
    monkeypatch.setattr(migrations, "SQLITE_V3_WORDS", "CREATE VIRTUAL TABLE x USING nofts5(a)")
    store = SqliteStore(path)
    monkeypatch.undo()
    return store


def test_a_sqlite_without_fts5_scans_with_the_same_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = _without_fts5(monkeypatch, tmp_path / "plain.sqlite")
    indexed = SqliteStore(tmp_path / "indexed.sqlite")
    assert (plain.has_word_index, indexed.has_word_index) == (False, True)
    answers = []
    for store in (plain, indexed):
        assert isinstance(store, SolvedTicketSearch)
        desk, query = _plant(store, _fixed_scenario(4))
        desk.publish_article(title="Kerberos renewal", body="Renew the domain ticket.", by="alice")
        desk.publish_article(title="Printer", body="Toner.", by="alice", id="KB-2")
        hits = [a.id for a in desk.search_articles("kerberos domain").items]
        any_hits = {a.id for a in desk.search_articles("kerberos toner", match="any").items}
        solved = {t.id for t in store.search_solved(["kerberos", "renewal"], limit=100)}
        answers.append((hits, any_hits, "DUP" in solved, desk.similar(query, 1)[0].id))
        store.close()
    assert answers[0] == answers[1] == (["A-000001"], {"A-000001", "KB-2"}, True, "DUP")


def test_sqlite_word_indexes_keep_no_old_words(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite"
    store = SqliteStore(path)
    desk, _ = make_desk(store)
    desk.upsert_requester(ADA)
    ticket = desk.open(requester=ADA, subject="qqzorblax wifi").id
    desk.reply(ticket, author="alice", body="ok")
    desk.solve(ticket, by="alice", resolution="done")
    article = desk.publish_article(title="Wifi", body="qqfrobisher said hi", by="alice")

    def raw() -> bytes:
        assert store.checkpoint()
        data = path.read_bytes()
        wal = Path(f"{path}-wal")
        return data + (wal.read_bytes() if wal.exists() else b"")

    assert b"qqzorblax" in raw() and b"qqfrobisher" in raw()
    desk.update_article(article.id, body="somebody said hi", by="alice")
    desk.erase_requester("ada", by="root")
    data = raw()
    assert b"qqzorblax" not in data
    assert b"qqfrobisher" not in data
    assert desk.search_articles("somebody").total == 1
    store.close()


@pytest.mark.parametrize("text_index", [False, True])
def test_an_article_edited_clean_leaves_no_old_text_in_the_wal(
    tmp_path: Path, text_index: bool
) -> None:
    """``update_article`` rewrites the row in place: once it commits the WAL is
    checkpointed, so the text edited away does not stay in the ``-wal`` file until some
    later checkpoint (nobody calls ``checkpoint()`` here)."""
    path = tmp_path / "desk.sqlite"
    store = SqliteStore(path, text_index=text_index)
    desk, _ = make_desk(store)
    article = desk.publish_article(
        title="Wifi", body="Call qqzorblax on 0170-5550199 for the key", by="alice"
    )
    desk.update_article(article.id, body="Call the service desk for the key", by="alice")
    wal = Path(f"{path}-wal")
    data = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert b"qqzorblax" not in data
    assert b"0170-5550199" not in data
    assert desk.search_articles("service desk").total == 1
    store.close()


def test_similar_checks_its_arguments(make_store: StoreFactory) -> None:
    desk, _ = make_desk(make_store())
    with pytest.raises(ValidationError):
        desk.similar("")
    with pytest.raises(ValidationError):
        desk.similar("T-1", limit=True)  # type: ignore[arg-type]
    ticket = desk.open(requester=ADA, subject="Nothing alike anywhere")
    assert desk.similar(ticket.id) == []


def test_purged_tickets_are_not_offered_and_leave_the_index(make_store: StoreFactory) -> None:
    store = make_store()
    desk, _ = make_desk(store)
    old = desk.open(requester=ADA, subject="Kerberos renewal fails")
    desk.reply(old.id, author="alice", body="Resync the clock.")
    solved = desk.solve(old.id, by="alice", resolution="NTP fixed")
    new = desk.open(requester=ADA, subject="Kerberos renewal fails again")
    assert [m.id for m in desk.similar(new.id)] == [old.id]
    store.purge(old.id, expected_version=solved.version)
    assert desk.similar(new.id) == []
    tail = desk._similar_tail  # the in-memory index of stores without a word index
    assert tail is None or old.id not in tail.index


def test_incidents_of_the_same_problem_find_each_other_on_every_store(
    make_store: StoreFactory,
) -> None:
    # Two incidents of one problem need not share a word: the solved one is offered for
    # the same problem, to the other incident and to the problem, on every store.
    desk, _ = make_desk(make_store())
    desk.upsert_requester(ADA)
    problem = desk.open(requester=ADA, subject="Mail relay disk full", type="problem").id
    solved = desk.open(requester=ADA, subject="Outlook shows an error").id
    desk.link(solved, kind="caused_by", other=problem, by="alice")
    desk.reply(solved, author="alice", body="The relay is being fixed.")
    desk.solve(solved, by="alice", resolution="Relay fixed")
    related = desk.open(requester=ADA, subject="Colleague sent a duplicate").id
    desk.link(related, kind="duplicate_of", other=problem, by="alice")
    desk.reply(related, author="alice", body="ok")
    desk.solve(related, by="alice", resolution="done")
    new = desk.open(requester=ADA, subject="My messages are late").id
    desk.link(new, kind="caused_by", other=problem, by="alice")
    [match] = desk.similar(new)
    assert (match.id, match.reasons) == (solved, (f"same problem '{problem}'",))
    [match] = desk.similar(problem)
    assert (match.id, match.reasons) == (solved, (f"same problem '{problem}'",))


def test_a_word_too_long_to_search_for_offers_nothing_on_any_store(
    make_store: StoreFactory,
) -> None:
    # Words longer than MAX_WORD_LENGTH are not searchable in any store's word index: the
    # in-memory index of solved tickets leaves them out too, so every store offers the
    # same tickets, with the same shared words.
    desk, _ = make_desk(make_store())
    desk.upsert_requester(ADA)
    digest = "f" * (MAX_WORD_LENGTH + 1)
    solved = desk.open(requester=ADA, subject=f"Checksum {digest} refused").id
    desk.reply(solved, author="alice", body="ok")
    desk.solve(solved, by="alice", resolution="done")
    assert desk.similar(desk.open(requester=ADA, subject=f"Upload {digest}").id) == []
    [match] = desk.similar(desk.open(requester=ADA, subject=f"Checksum {digest}").id)
    assert (match.id, match.reasons) == (solved, ("shared words: checksum",))
