"""End to end through a real SMTP server on loopback: acknowledgement, a threaded reply,
and an out-of-office answer that does not loop."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from test_email_support import ADDRESS, body_of, corpus, make_channel

from helpdesk_core.model import CommentAdded

aiosmtpd_controller = pytest.importorskip(
    "aiosmtpd.controller", reason="aiosmtpd is not installed (pip install aiosmtpd)"
)


class Mailboxes:
    """An SMTP handler that files every message under each envelope recipient."""

    def __init__(self) -> None:
        self.boxes: dict[str, list[EmailMessage]] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        for recipient in envelope.rcpt_tos:
            self.boxes.setdefault(recipient.lower(), []).append(message)
        return "250 Message accepted for delivery"

    def take(self, address: str) -> list[EmailMessage]:
        return self.boxes.pop(address, [])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Mailboxes, Callable[[EmailMessage], None]]]:
    mailboxes = Mailboxes()
    controller = aiosmtpd_controller.Controller(mailboxes, hostname="127.0.0.1", port=_free_port())
    controller.start()

    def send(message: EmailMessage) -> None:
        with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as client:
            client.send_message(message)

    try:
        yield mailboxes, send
    finally:
        controller.stop()


def test_ack_reply_threading_and_no_loop_over_smtp(
    smtp: tuple[Mailboxes, Callable[[EmailMessage], None]],
) -> None:
    mailboxes, send = smtp
    channel = make_channel()
    desk = channel.desk

    # Ada writes to the desk.
    first = message_from_bytes(corpus("new_ticket.eml"), policy=policy.default)
    assert isinstance(first, EmailMessage)
    send(first)
    [inbound] = mailboxes.take(ADDRESS)
    opened = channel.receive(inbound)
    assert opened.action == "opened"
    ticket_id = opened.ticket_id or ""

    # The desk acknowledges through SMTP.
    report = channel.deliver(send)
    assert report.sent == 1 and not report.released
    [ack] = mailboxes.take("ada@example.org")
    assert ack["Subject"] == "[#1] VPN drops every few minutes"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert "by Mon 13:45 (in 4h 45m)" in body_of(ack)

    # Ada answers the acknowledgement from her mail client.
    answer = EmailMessage()
    answer["From"] = "Ada Lovelace <ada@example.org>"
    answer["To"] = ack["Reply-To"]
    answer["Subject"] = "Re: " + str(ack["Subject"])
    answer["Message-ID"] = "<ada-answer-1@example.org>"
    answer["In-Reply-To"] = ack["Message-ID"]
    answer["References"] = ack["Message-ID"]
    answer.set_content(
        "I work from home, AnyConnect.\n\n"
        f"On Mon, 2 Mar 2026 at 09:00, Example IT desk <{ADDRESS}> wrote:\n"
        + "".join(f"> {line}\n" for line in body_of(ack).splitlines())
    )
    send(answer)
    [inbound] = mailboxes.take(ADDRESS)
    replied = channel.receive(inbound)
    assert (replied.action, replied.ticket_id) == ("replied", ticket_id)
    comments = [e for e in desk.history(ticket_id) if isinstance(e, CommentAdded)]
    assert comments[-1].body == "I work from home, AnyConnect."
    assert channel.deliver(send).sent == 0  # the requester's own reply is not echoed

    # An agent answers; Ada's out-of-office replies to that answer.
    desk.reply(ticket_id, author="lena", body="Thanks, we are checking the gateway.")
    assert channel.deliver(send).sent == 1
    [agent_reply] = mailboxes.take("ada@example.org")
    assert "Thanks, we are checking the gateway." in body_of(agent_reply)
    out_of_office = EmailMessage()
    out_of_office["From"] = "Ada Lovelace <ada@example.org>"
    out_of_office["To"] = agent_reply["Reply-To"]
    out_of_office["Subject"] = "Out of office: " + str(agent_reply["Subject"])
    out_of_office["Message-ID"] = "<ada-ooo-1@example.org>"
    out_of_office["In-Reply-To"] = agent_reply["Message-ID"]
    out_of_office["Auto-Submitted"] = "auto-replied"
    out_of_office.set_content("I am out of the office until Monday.")
    version = desk.get(ticket_id).version
    for _ in range(3):
        send(out_of_office)
        [inbound] = mailboxes.take(ADDRESS)
        assert channel.receive(inbound).action == "ignored"
    assert desk.get(ticket_id).version == version
    assert channel.deliver(send).sent == 0
    assert mailboxes.boxes == {}
