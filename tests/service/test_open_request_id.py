"""``Helpdesk.open(request_id=...)``: a retried request returns the ticket it opened the
first time, on every store, also when the retries race; the record goes with the ticket's
personal data."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from attrs import evolve
from service_fixtures import BERLIN

from desk_stores import STORE_PAIRS, STORES, drop, store_pair
from helpdesk_core import Helpdesk, ManualClock, Requester
from helpdesk_core.demo import example_config
from helpdesk_core.errors import AccessDenied, ConflictError, ValidationError
from helpdesk_core.model import Actor, Event
from helpdesk_core.privacy import RetentionPolicy
from helpdesk_core.service.received import REQUEST_PREFIX, request_key
from helpdesk_core.storage import MemoryStore, Store, TicketQuery

START = datetime(2026, 3, 2, 10, 0, tzinfo=BERLIN)
ADA = Requester(id="ada", email="ada@example.com")


def _desk(store: Store, *policies: RetentionPolicy) -> Helpdesk:
    config = example_config()
    if policies:
        config = config.replace(privacy=evolve(config.privacy, retention=policies))
    return Helpdesk(config, store, ManualClock(START))


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = request.param(tmp_path)
    yield made
    drop(made)


@pytest.fixture(params=STORE_PAIRS)
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    yield from store_pair(request, tmp_path)


def test_a_retried_request_returns_the_ticket_it_opened(store: Store) -> None:
    desk = _desk(store)
    published: list[Event] = []
    desk.subscribe(published.append)
    first = desk.open(requester=ADA, subject="VPN down", request_id="req-1")
    seen = len(published)
    desk.clock.advance(seconds=5)  # type: ignore[attr-defined]
    again = desk.open(requester="ada", subject="VPN down", request_id="req-1")
    assert again.id == first.id and again.subject == "VPN down"
    assert len(published) == seen  # nothing recorded, nothing published
    # The request id of another request is refused (see test_request_id_reuse.py).
    with pytest.raises(ValidationError) as caught:
        desk.open(requester="ada", subject="VPN down (sent again)", request_id="req-1")
    assert caught.value.field == "subject" and len(published) == seen
    assert store.query(TicketQuery()).total == 1
    assert store.get_cursor(request_key("ada", "req-1")) == first.number
    # Another request id, or the same one of another requester, is another request.
    other = desk.open(requester="ada", subject="Printer", request_id="req-2")
    bob = desk.open(requester=Requester(id="bob"), subject="VPN", request_id="req-1")
    assert len({first.id, other.id, bob.id}) == 3
    assert store.query(TicketQuery()).total == 3


def test_a_request_that_fails_leaves_no_record(store: Store) -> None:
    desk = _desk(store)
    with pytest.raises(ValidationError) as caught:
        desk.open(requester=ADA, subject="", request_id="req-1")
    assert caught.value.field == "subject"
    assert store.get_cursor(request_key("ada", "req-1")) == 0
    ticket = desk.open(requester=ADA, subject="VPN down", request_id="req-1")
    assert store.query(TicketQuery()).total == 1 and ticket.subject == "VPN down"


@pytest.mark.parametrize("bad", ["", "   ", "x" * 201, "a\x00b", "\ud800", 7, b"req"])
def test_a_bad_request_id_is_refused_and_nothing_is_stored(bad: object) -> None:
    store = MemoryStore()
    desk = _desk(store)
    with pytest.raises(ValidationError) as caught:
        desk.open(requester=ADA, subject="VPN down", request_id=bad)  # type: ignore[arg-type]
    assert caught.value.field == "request_id"
    assert store.query(TicketQuery()).total == 0
    assert not any(key.startswith(REQUEST_PREFIX) for key in store._cursors)


def test_a_retry_is_answered_only_to_who_may_open_for_the_requester() -> None:
    store = MemoryStore()
    desk = _desk(store)
    desk.open(requester=ADA, subject="VPN down", request_id="req-1")
    desk.upsert_requester(Requester(id="mallory"))
    with pytest.raises(AccessDenied):
        desk.open(requester="ada", subject="x", request_id="req-1", by="requester:mallory")
    agent = desk.open(requester="ada", subject="VPN down", request_id="req-1", by="lena")
    assert agent.requester == "ada" and store.query(TicketQuery()).total == 1


def test_a_retry_by_an_agent_shows_only_a_ticket_in_their_view() -> None:
    store = MemoryStore()
    desk = _desk(store)
    ticket = desk.open(requester=ADA, subject="VPN down", request_id="req-1")
    assert ticket.team == "service-desk-emea"
    # jamie (service desk Americas) may open tickets for ada, but not see this one.
    with pytest.raises(AccessDenied) as refused:
        desk.open(requester="ada", subject="x", request_id="req-1", by="jamie")
    assert ticket.id not in str(refused.value) and refused.value.ticket_id is None
    assert store.query(TicketQuery()).total == 1
    seen = desk.open(requester="ada", subject="VPN down", request_id="req-1", by="marc")  # admin
    assert seen.id == ticket.id


def test_racing_retries_open_one_ticket(pair: tuple[Store, Store]) -> None:
    """Two desks (processes) on one database get the same request at once: one opens the
    ticket, the other waits for it and returns that ticket."""
    first, second = pair
    desks = [_desk(first), _desk(second)]
    desks[0].upsert_requester(ADA)
    barrier = threading.Barrier(2)
    opened: list[str] = []
    failed: list[BaseException] = []

    def call(desk: Helpdesk) -> None:
        barrier.wait()
        try:
            opened.append(desk.open(requester="ada", subject="VPN", request_id="r").id)
        except BaseException as exc:  # pragma: no cover - reported below
            failed.append(exc)

    threads = [threading.Thread(target=call, args=(desk,)) for desk in desks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failed, failed
    assert len(opened) == 2 and opened[0] == opened[1]
    assert first.query(TicketQuery()).total == 1


@pytest.mark.parametrize("action", ["purge", "anonymise"])
def test_retention_forgets_the_requests_of_the_tickets_it_clears(
    store: Store, action: str
) -> None:
    desk = _desk(store, RetentionPolicy(name="month", after="30d", action=action))
    ticket = desk.open(requester=ADA, subject="VPN down", request_id="req-1")
    kept = desk.open(requester=ADA, subject="Printer", request_id="req-2")
    desk.reply(ticket.id, author="lena", body="Restart it")
    desk.solve(ticket.id, by="lena", resolution="Restarted")
    desk.close(ticket.id, by="lena")
    desk.clock.advance(timedelta(days=31))  # type: ignore[attr-defined]
    desk.apply_retention()
    assert store.get_cursor(request_key("ada", "req-1")) == 0
    assert store.get_cursor(request_key("ada", "req-2")) == kept.number  # still open
    again = desk.open(requester="ada", subject="VPN down", request_id="req-1")
    assert again.id != ticket.id


def test_erasing_the_requester_forgets_their_requests(store: Store) -> None:
    desk = _desk(store)
    desk.open(requester=ADA, subject="VPN down", request_id="req-1")
    desk.erase_requester("ada", by=Actor.system("privacy"))
    assert store.get_cursor(request_key("ada", "req-1")) == 0


def test_a_record_whose_ticket_is_gone_opens_anew() -> None:
    store = MemoryStore()
    desk = _desk(store)
    ticket = desk.open(requester=ADA, subject="VPN down", request_id="req-1")
    store.purge(ticket.id, expected_version=desk.get(ticket.id).version)
    again = desk.open(requester="ada", subject="VPN down", request_id="req-1")
    assert again.id != ticket.id
    assert store.get_cursor(request_key("ada", "req-1")) == again.number


def test_a_request_being_applied_elsewhere_is_a_conflict() -> None:
    """A store without atomic claims shows another worker's claim as its mark."""
    store = MemoryStore()
    desk = _desk(store)
    store.set_cursor(request_key("ada", "req-1"), -1)
    blind: Callable[..., bool] = lambda key, value: False  # noqa: E731
    store.claim_cursor = blind  # type: ignore[method-assign]
    with pytest.raises(ConflictError, match="being applied elsewhere") as caught:
        desk.open(requester=ADA, subject="VPN down", request_id="req-1")
    assert caught.value.kind == "request"
    assert store.query(TicketQuery()).total == 0


def test_a_retried_reply_adds_one_comment(store: Store) -> None:
    desk = _desk(store)
    ticket = desk.open(requester=ADA, subject="VPN down")
    published: list[Event] = []
    desk.subscribe(published.append)
    first = desk.reply(ticket.id, author="lena", body="Restart it", request_id="r-1")
    count = len(published)
    again = desk.reply(ticket.id, author="lena", body="Restart it", request_id="r-1")
    assert again.version == first.version and len(published) == count
    comments = [e for e in desk.history(ticket.id) if type(e).__name__ == "CommentAdded"]
    assert len(comments) == 1
    # The same request id of another author, or on another ticket, is another request.
    desk.reply(ticket.id, author="ada", body="Did that", request_id="r-1")
    other = desk.open(requester="ada", subject="Printer")
    desk.reply(other.id, author="lena", body="Which one?", request_id="r-1")
    assert [type(e).__name__ for e in desk.history(ticket.id)].count("CommentAdded") == 2
    with pytest.raises(ValidationError) as caught:
        desk.reply(ticket.id, author="lena", body="x", request_id="")
    assert caught.value.field == "request_id"


def test_a_retried_reply_is_answered_as_its_author_may_see_the_ticket() -> None:
    store = MemoryStore()
    desk = _desk(store)
    ticket = desk.open(requester=ADA, subject="VPN down")
    desk.reply(ticket.id, author="ada", body="Any news?", request_id="r-1")
    desk.upsert_requester(Requester(id="mallory"))
    with pytest.raises(AccessDenied):
        desk.reply(ticket.id, author="requester:mallory", body="x", request_id="r-1")


def test_an_erasure_cut_short_changes_nothing() -> None:
    """Erasure is one unit of work: cut short, no ticket is anonymised (a second run would
    no longer find it by the requester), no record forgotten, the person kept."""
    store = MemoryStore()
    desk = _desk(store)
    ticket = desk.open(requester=ADA, subject="VPN down", request_id="req-1")
    published: list[Event] = []
    desk.subscribe(published.append)

    def broken(requester_id: str) -> None:
        raise RuntimeError("disk full")

    store.delete_requester = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="disk full"):
        desk.erase_requester("ada", by=Actor.system("privacy"))
    assert not desk.get(ticket.id).anonymised
    assert store.get_cursor(request_key("ada", "req-1")) == ticket.number
    assert desk.get_requester("ada") == ADA
    assert published == []
    del store.delete_requester  # the store's own method again
    desk.erase_requester("ada", by=Actor.system("privacy"))
    assert desk.get(ticket.id).anonymised
    assert store.get_cursor(request_key("ada", "req-1")) == 0
