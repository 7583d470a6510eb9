"""An email gateway in a few lines: inbound mail becomes tickets and replies, desk events
become outbound mail.

Run it as is to feed a few messages through an in-memory desk on a manual clock and print
what the desk would send. With ``--send HOST[:PORT]`` the outbound messages go to that SMTP
server instead (smtplib, STARTTLS when offered); the test suite never uses that flag.
"""

from __future__ import annotations

import argparse
import smtplib
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from attrs import evolve

from helpdesk_core import Helpdesk, ManualClock, MemoryStore, SequentialIds
from helpdesk_core.channels.email import EmailChannel, EmailSettings
from helpdesk_core.demo import example_config
from helpdesk_core.model import CommentAdded

DESK_ADDRESS = "help@desk.example.com"


def smtp_sender(host: str, port: int = 25) -> Callable[[EmailMessage], None]:
    """A ``send`` callable for ``deliver``: one SMTP connection per message (simple and
    robust; batch them if your volume needs it)."""

    def send(message: EmailMessage) -> None:
        with smtplib.SMTP(host, port, timeout=30) as client:
            client.ehlo()
            if client.has_extn("starttls"):
                client.starttls()
                client.ehlo()
            client.send_message(message)

    return send


def printer(message: EmailMessage) -> None:
    """A ``send`` callable that prints instead of sending."""
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    print(f"--- To: {message['To']}")
    print(f"    Subject: {message['Subject']}")
    print(f"    Message-ID: {message['Message-ID']}  In-Reply-To: {message['In-Reply-To']}")
    print(f"    Auto-Submitted: {message['Auto-Submitted']}")
    for line in text.strip().splitlines():
        print(f"    | {line}")


def inbound(sender: str, subject: str, body: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = DESK_ADDRESS
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def smtp_server(text: str) -> tuple[str, int]:
    """``HOST[:PORT]`` as (host, port); the port is 25 when left out, and an IPv6 address
    is written in brackets (``[::1]:2525``)."""
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise argparse.ArgumentTypeError(f"expected [IPv6 address][:PORT], got {text!r}")
        port = rest[1:] if rest else ""
    else:
        host, _, port = text.partition(":")
        if ":" in port:
            raise argparse.ArgumentTypeError(
                f"write an IPv6 address in brackets ([::1]:25), got {text!r}"
            )
    if not host:
        raise argparse.ArgumentTypeError(f"expected HOST[:PORT], got {text!r}")
    if not port:
        return host, 25
    if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise argparse.ArgumentTypeError(f"the port is a number from 1 to 65535, got {port!r}")
    return host, int(port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--send", metavar="HOST[:PORT]", type=smtp_server,
        help="send through this SMTP server (port 25 unless given)",
    )
    args = parser.parse_args(argv)
    send = smtp_sender(*args.send) if args.send else printer

    config = example_config()
    agents = tuple(evolve(a, email=f"{a.id}@desk.example.com") for a in config.agents)
    zone = ZoneInfo("Europe/Berlin")
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=zone))
    desk = Helpdesk(
        config=config.replace(agents=agents), store=MemoryStore(), clock=clock, ids=SequentialIds()
    )
    channel = EmailChannel(desk, EmailSettings(address=DESK_ADDRESS, category="network"))

    print("1. Ada writes to the desk")
    first = inbound(
        "Ada Lovelace <ada@example.org>",
        "VPN drops every few minutes",
        "Since this morning the VPN disconnects every 5 minutes.\n\n-- \nAda\n+49 30 1234567",
        Message_ID="<ada-1@example.org>",
    )
    result = channel.receive(first)
    print(f"   {result.action} {result.ticket_id}")
    channel.deliver(send)

    print("\n2. Her out-of-office answers the acknowledgement (ignored, nothing sent)")
    ooo = inbound(
        "Ada Lovelace <ada@example.org>",
        "Out of office: [#1] VPN drops every few minutes",
        "I am out of the office until Monday.",
        Auto_Submitted="auto-replied",
    )
    ignored = channel.receive(ooo)
    print(f"   {ignored.action}: {ignored.reason}")

    print("\n3. Lena answers; the answer goes out, the internal note does not")
    clock.advance(timedelta(minutes=40))
    desk.reply("T-000001", author="lena", body="Checked the gateway logs.", public=False)
    desk.reply("T-000001", author="lena", body="Which VPN client version do you use?")
    channel.deliver(send)

    print("\n4. Ada replies from Gmail, quoting the whole thread")
    clock.advance(timedelta(minutes=20))
    reply = inbound(
        "Ada Lovelace <ada@example.org>",
        "Re: [#1] VPN drops every few minutes",
        "AnyConnect 4.10, from home.\n\n"
        "On Mon, 2 Mar 2026 at 09:40, Lena Fischer <help@desk.example.com> wrote:\n"
        "> Which VPN client version do you use?\n",
        In_Reply_To="<ticket-T-000001-8@desk.example.com>",
    )
    result = channel.receive(reply)
    comment = next(e for e in reversed(desk.history("T-000001")) if isinstance(e, CommentAdded))
    print(f"   {result.action} on {result.ticket_id}, stored as: {comment.body!r}")

    print("\n5. Lena solves it; the solve notice carries the rating link")
    desk.solve("T-000001", by="lena", resolution="Updated the VPN profile.")
    report = channel.deliver(send)
    print(f"\n{report.sent} message(s) in the last delivery; {len(report.acked)} event(s) acked")


if __name__ == "__main__":
    main()
