"""The desk forgets which messages it received for a ticket when it anonymises or purges
the ticket: the records are keyed by a digest of the sender's address."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from attrs import evolve
from test_email_support import ADDRESS, make_channel, make_desk

from desk_stores import STORES, drop
from helpdesk_core import Helpdesk
from helpdesk_core.channels.email import EmailChannel
from helpdesk_core.ids import SequentialIds
from helpdesk_core.model import Actor
from helpdesk_core.privacy import RetentionPolicy
from helpdesk_core.service.received import RECEIVED_PREFIX, forget_received, received_key
from helpdesk_core.storage import CursorDeletion, MemoryStore, Store


def _mail(sender: str, message_id: str, subject: str = "Help") -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ADDRESS
    message["Subject"] = subject
    message["Message-ID"] = f"<{message_id}>"
    message.set_content("My printer is on fire")
    return message


def _channel(store: Store, *policies: RetentionPolicy) -> EmailChannel:
    desk = make_desk(store=store)
    privacy = evolve(desk.config.privacy, retention=policies)
    config = desk.config.replace(privacy=privacy)
    return make_channel(Helpdesk(config, store, desk.clock, ids=SequentialIds()))


def _seen(store: Store, sender: str, message_id: str) -> int:
    return store.get_cursor(received_key(sender, f"<{message_id}>"))


def _close(channel: EmailChannel, ticket_id: str) -> None:
    desk = channel.desk
    desk.reply(ticket_id, author="lena", body="Unplug it")
    desk.solve(ticket_id, by="lena", resolution="Unplugged it")
    desk.close(ticket_id, by="lena")


@pytest.mark.parametrize("make_store", STORES)
@pytest.mark.parametrize("action", ["purge", "anonymise", "delete"])
def test_retention_forgets_the_messages_of_the_tickets_it_clears(
    make_store: Callable[[Path], Store], action: str, tmp_path: Path
) -> None:
    store = make_store(tmp_path)
    try:
        channel = _channel(store, RetentionPolicy(name="month", after="30d", action=action))
        first = channel.receive(_mail("ada@example.org", "m1@example.org"))
        reply = channel.receive(
            _mail("ada@example.org", "m2@example.org", subject=f"Re: [#{1}] Help")
        )
        other = channel.receive(_mail("bob@example.org", "m3@example.org"))
        assert (first.action, reply.action, other.action) == ("opened", "replied", "opened")
        assert first.ticket_id is not None and other.ticket_id is not None
        store.set_cursor("rr:desk", 1)  # not a message record, though its value is 1
        _close(channel, first.ticket_id)
        assert _seen(store, "ada@example.org", "m1@example.org") == 1
        assert _seen(store, "ada@example.org", "m2@example.org") == 1
        channel.desk.clock.advance(timedelta(days=31))  # type: ignore[attr-defined]
        channel.desk.apply_retention()
        assert _seen(store, "ada@example.org", "m1@example.org") == 0
        assert _seen(store, "ada@example.org", "m2@example.org") == 0
        assert _seen(store, "bob@example.org", "m3@example.org") == 2  # still open
        assert store.get_cursor("rr:desk") == 1
        # a copy delivered again now is news to the desk
        again = channel.receive(_mail("ada@example.org", "m1@example.org"))
        assert again.action == "opened" and again.ticket_id != first.ticket_id
    finally:
        drop(store)


@pytest.mark.parametrize("make_store", STORES)
def test_erasing_a_requester_forgets_the_messages_of_their_tickets(
    make_store: Callable[[Path], Store], tmp_path: Path
) -> None:
    store = make_store(tmp_path)
    try:
        channel = _channel(store)
        opened = channel.receive(_mail("ada@example.org", "m1@example.org"))
        other = channel.receive(_mail("bob@example.org", "m2@example.org"))
        assert opened.ticket_id is not None and other.ticket_id is not None
        requester = channel.desk.get(opened.ticket_id).requester
        channel.desk.erase_requester(requester, by=Actor.system("privacy"))
        assert _seen(store, "ada@example.org", "m1@example.org") == 0
        assert _seen(store, "bob@example.org", "m2@example.org") == 2
        assert channel.receive(_mail("bob@example.org", "m2@example.org")).action == "ignored"
    finally:
        drop(store)


def test_a_retention_run_that_fails_keeps_the_records() -> None:
    """The records go in the unit of work of the tickets they belong to."""
    store = MemoryStore()
    channel = _channel(store, RetentionPolicy(name="month", after="30d", action="purge"))
    opened = channel.receive(_mail("ada@example.org", "m1@example.org"))
    assert opened.ticket_id is not None
    _close(channel, opened.ticket_id)
    channel.desk.clock.advance(timedelta(days=31))  # type: ignore[attr-defined]

    def broken(prefix: str, *, values: object) -> int:
        raise RuntimeError("disk full")

    store.delete_cursors = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="disk full"):
        channel.desk.apply_retention()
    assert channel.desk.get(opened.ticket_id).closed_at is not None  # not purged
    assert _seen(store, "ada@example.org", "m1@example.org") == 1


def test_forget_received_on_a_store_without_cursor_deletion() -> None:
    class Plain:
        pass

    assert not isinstance(Plain(), CursorDeletion)
    assert forget_received(Plain(), [1, 2]) == 0  # type: ignore[arg-type]
    store = MemoryStore()
    store.set_cursor(received_key("ada@example.org", "m1"), 4)
    assert received_key("ada@example.org", "m1").startswith(RECEIVED_PREFIX)
    assert forget_received(store, []) == 0
    assert forget_received(store, iter([4])) == 1
