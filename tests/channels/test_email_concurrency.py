"""Two workers given copies of one message apply it once: the message is claimed in the
store before it is applied, and a claim another worker holds makes the second one wait."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from test_email_inbound import mail
from test_email_support import ADDRESS, make_desk

from desk_stores import STORE_PAIRS, HookedStore, store_pair
from helpdesk_core import ManualClock, MemoryStore, Requester, SqliteStore
from helpdesk_core.channels.email import (
    EmailChannel,
    EmailSettings,
    InboundResult,
    RateLimiter,
    receive,
)
from helpdesk_core.ids import UuidIds
from helpdesk_core.storage import Store, TicketQuery


@pytest.fixture(params=STORE_PAIRS)
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    yield from store_pair(request, tmp_path)


class _Gate(RateLimiter):
    """A limiter that holds the first worker inside its unit of work (after the claim)
    until the test lets it go on."""

    def __init__(self) -> None:
        super().__init__(max_messages=100, per="1h")
        self.inside = threading.Event()
        self.go_on = threading.Event()

    def allow(self, sender: str, now: datetime) -> bool:
        self.inside.set()
        assert self.go_on.wait(10)
        return super().allow(sender, now)


def _channel(store: Store) -> EmailChannel:
    desk = make_desk(store=store)
    desk.ids = UuidIds()  # two workers must not hand out the same ticket id
    return EmailChannel(desk, EmailSettings(address=ADDRESS, category=None))


def test_a_copy_taken_while_another_worker_applies_it_is_ignored(
    pair: tuple[Store, Store],
) -> None:
    first, second = _channel(pair[0]), _channel(pair[1])
    message = mail("The VPN drops every hour.", subject="VPN")
    gate = _Gate()
    results: dict[str, InboundResult] = {}

    def work(name: str, channel: EmailChannel, limiter: RateLimiter | None) -> None:
        results[name] = receive(channel.desk, message, settings=channel.settings, limiter=limiter)

    one = threading.Thread(target=work, args=("first", first, gate))
    one.start()
    assert gate.inside.wait(10)  # the first worker has claimed the message
    two = threading.Thread(target=work, args=("second", second, None))
    two.start()
    two.join(0.3)
    assert two.is_alive()  # the second waits for the first's claim
    gate.go_on.set()
    one.join(10)
    two.join(10)
    assert results["first"].action == "opened"
    assert results["second"].action == "ignored"
    assert results["second"].ticket_id == results["first"].ticket_id
    assert first.desk.search(TicketQuery()).total == 1


def test_a_copy_of_a_message_that_failed_is_applied(pair: tuple[Store, Store]) -> None:
    first, second = _channel(pair[0]), _channel(pair[1])
    message = mail("The printer jams.", subject="Printer")

    class _Broken(RateLimiter):
        def allow(self, sender: str, now: datetime) -> bool:
            raise RuntimeError("the worker died")

    with pytest.raises(RuntimeError):
        receive(first.desk, message, settings=first.settings, limiter=_Broken())
    assert second.receive(message).action == "opened"
    assert first.receive(message).action == "ignored"


def test_a_rejected_message_is_released_and_may_come_again() -> None:
    store = MemoryStore()
    desk = make_desk(store=store)
    channel = EmailChannel(desk, EmailSettings(address=ADDRESS, category=None))
    limiter = RateLimiter(max_messages=1, per="1h")

    def limited(message: EmailMessage) -> str:
        return receive(desk, message, settings=channel.settings, limiter=limiter).action

    assert limited(mail("One", subject="A")) == "opened"
    late = mail("Two", subject="B")
    assert limited(late) == "rejected"
    assert sorted(store._cursors.values()) == [1]  # the rejected one left nothing behind
    assert channel.receive(late).action == "opened"  # delivered again, the limit lifted
    assert channel.receive(late).action == "ignored"


def test_automatic_mail_leaves_nothing_in_the_store() -> None:
    store = MemoryStore()
    channel = EmailChannel(make_desk(store=store), EmailSettings(address=ADDRESS))
    result = channel.receive(mail("Out of office", subject="Away", Auto_Submitted="auto-replied"))
    assert result.action == "ignored"
    assert not any(key.startswith("email-seen:") for key in store._cursors)


def test_two_workers_batching_seen_mail_do_not_deadlock(
    pair: tuple[Store, Store],
) -> None:
    """Two workers each take the same two messages, seen before, in opposite orders, each
    inside a unit of work of its own: learning that a message was seen locks nothing."""
    if isinstance(pair[0], MemoryStore | SqliteStore):
        pytest.skip("a unit of work holds the whole store: workers take turns")
    first, second = _channel(pair[0]), _channel(pair[1])
    messages = [mail("One", subject="First"), mail("Two", subject="Second")]
    assert [first.receive(m).action for m in messages] == ["opened", "opened"]
    both_inside = threading.Barrier(2, timeout=10)
    results: list[str] = []
    errors: list[BaseException] = []

    def work(channel: EmailChannel, order: list[EmailMessage]) -> None:
        try:
            with channel.desk.unit_of_work():
                results.append(channel.receive(order[0]).action)
                both_inside.wait()
                results.append(channel.receive(order[1]).action)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(first, messages)),
        threading.Thread(target=work, args=(second, messages[::-1])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert results == ["ignored"] * 4


def test_a_worker_whose_lease_ran_out_leaves_the_rest_of_its_batch(
    pair: tuple[Store, Store],
) -> None:
    """Worker A's relay takes 40 s a message, so its 60 s lease on the batch runs out
    after the second; worker B then claims what A has not sent and sends it. Before, A
    went on through its batch and sent those messages a second time; now it stops when
    its lease has run out, and every message goes out once."""
    hooked = HookedStore(pair[0])
    a, b = _channel(hooked), _channel(pair[1])  # type: ignore[arg-type]
    clock = a.desk.clock
    assert isinstance(clock, ManualClock)
    b.desk.clock = clock
    start = clock.now()
    for n in range(3):
        a.desk.open(requester=Requester(id=f"r{n}", email=f"r{n}@example.org"), subject=f"VPN {n}")
    sent_by_a: list[EmailMessage] = []
    sent_by_b: list[EmailMessage] = []

    def slow(message: EmailMessage) -> None:
        sent_by_a.append(message)
        clock.advance(timedelta(seconds=40))

    hooked.hook(
        "ack_outbox",
        lambda *args, **kwargs: clock.now() >= start + timedelta(seconds=60),
        lambda: b.deliver(sent_by_b.append),
    )
    a.deliver(slow, lease=timedelta(seconds=60))
    assert sent_by_a and sent_by_b
    ids = [m["Message-ID"] for m in sent_by_a + sent_by_b]
    assert len(ids) == len(set(ids))
    b.deliver(sent_by_b.append)  # nothing was left behind
    assert len(sent_by_a) + len(sent_by_b) == len(ids)
