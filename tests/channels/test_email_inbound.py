"""Inbound decisions: who may write, loops, limits, closed tickets, refused messages."""

from __future__ import annotations

import base64
import email
import time
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from attrs import evolve
from test_email_support import ADDRESS, MONDAY_9, corpus, make_channel, make_desk, outbound

from helpdesk_core import Helpdesk, ManualClock, MemoryStore, SequentialIds
from helpdesk_core.channels.email import EmailChannel, SubjectToken, free_requester_id, receive
from helpdesk_core.channels.email.mime import decode_text
from helpdesk_core.demo import example_config
from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import CommentAdded, Requester


def mail(
    body: str = "Hello",
    *,
    sender: str = "Ada Lovelace <ada@example.org>",
    subject: str = "Help",
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ADDRESS
    message["Subject"] = subject
    message["Message-ID"] = f"<{abs(hash((body, subject, sender)))}@example.org>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


@pytest.fixture
def channel() -> EmailChannel:
    channel = make_channel(category=None)
    assert channel.receive(corpus("new_ticket.eml")).ticket_id == "T-000001"
    outbound(channel)
    return channel


def comments(channel: EmailChannel) -> list[CommentAdded]:
    return [e for e in channel.desk.history("T-000001") if isinstance(e, CommentAdded)]


def _acknowledgement_id(channel: EmailChannel) -> str:
    """The Message-ID of the desk's public acknowledgement of ticket 1 (sent again)."""
    [ack] = channel.compose(channel.desk.history("T-000001")[0], key="T-000001:1")
    return str(ack["Message-ID"])


def test_an_agent_answering_a_public_message_writes_a_public_reply(
    channel: EmailChannel,
) -> None:
    result = channel.receive(
        mail(
            "We are on it.",
            sender="Lena <LENA@desk.example.com>",
            subject="Re: [#1] VPN",
            In_Reply_To=_acknowledgement_id(channel),
        )
    )
    assert (result.action, result.reason) == ("replied", "")
    [comment] = comments(channel)
    assert comment.by.is_agent and comment.by.id == "lena" and comment.public
    [reply] = outbound(channel)
    assert reply["To"].addresses[0].addr_spec == "ada@example.org"


def test_an_agent_mail_that_answers_no_public_message_is_an_internal_note(
    channel: EmailChannel,
) -> None:
    """Only the subject's [#1] links it (an alert answered from a client that dropped
    In-Reply-To, say): it must not reach the requester."""
    result = channel.receive(
        mail("Known complainer.", sender="Lena <lena@desk.example.com>", subject="Re: [#1] VPN")
    )
    assert (result.action, result.reason) == ("replied", "internal note")
    [comment] = comments(channel)
    assert not comment.public
    assert outbound(channel) == []


def test_a_stranger_cannot_write_on_someone_elses_ticket(channel: EmailChannel) -> None:
    result = channel.receive(
        mail(
            "Me too",
            sender="eve@example.net",
            subject="Re: [#1] VPN",
            In_Reply_To=_acknowledgement_id(channel),
        )
    )
    assert result.action == "rejected"
    assert "neither the requester" in result.reason
    assert comments(channel) == []


@pytest.mark.parametrize(
    ("sender", "extra"),
    [
        # A From with no usable address: Reply-To or Sender, which no mail server checks,
        # must not stand in for it.
        ("Helpdesk <eve@localhost>", {"Reply_To": "lena@desk.example.com"}),
        ("Helpdesk <eve@localhost>", {"Sender": "ada@example.org"}),
        ("undisclosed-recipients:;", {"Reply_To": "ada@example.org"}),
        # Two addresses in From (or two From headers): DMARC checks one of them at most.
        ("eve@localhost, lena@desk.example.com", {}),
    ],
)
def test_only_the_from_address_names_the_sender(
    channel: EmailChannel, sender: str, extra: dict[str, str]
) -> None:
    message = mail(
        "Send your password to eve@example.net",
        sender=sender,
        subject="Re: [#1] VPN",
        In_Reply_To=_acknowledgement_id(channel),
        **extra,
    )
    with pytest.raises(ValidationError, match="no usable sender"):
        channel.receive(message)
    assert comments(channel) == []
    assert outbound(channel) == []


@pytest.mark.parametrize(
    ("sender", "address", "name"),
    [
        ("Doe, John <john@example.com>", "john@example.com", "Doe, John"),
        ("M\u00fcller, J\u00f6rg <jm@example.de>", "jm@example.de", "M\u00fcller, J\u00f6rg"),
        ("john@example.com <John@Example.com>", "john@example.com", "john@example.com"),
    ],
)
def test_a_from_whose_name_is_not_quoted_names_its_one_mailbox(
    sender: str, address: str, name: str
) -> None:
    """Mailers that do not quote a display name write a comma or the address itself into
    it: the header still names one mailbox (one domain for DMARC to check), and the
    message is its sender's, with the name as written."""
    channel = make_channel(category=None)
    raw = f"From: {sender}\nSubject: VPN\nMessage-ID: <unquoted@example.org>\n\nHi\n"
    opened = channel.receive(raw.encode())
    assert (opened.action, opened.sender) == ("opened", address)
    ticket = channel.desk.get(opened.ticket_id or "")
    assert channel.desk.get_requester(ticket.requester).name == name


@pytest.mark.parametrize(
    "sender", ["eve@example.net <ada@example.org>", "Eve, eve@localhost <ada@example.org>"]
)
def test_a_from_naming_two_mailboxes_is_still_refused(sender: str) -> None:
    channel = make_channel(category=None)
    raw = f"From: {sender}\nSubject: VPN\nMessage-ID: <two@example.org>\n\nHi\n"
    with pytest.raises(ValidationError, match="no usable sender"):
        channel.receive(raw.encode())


def test_two_from_headers_name_no_sender(channel: EmailChannel) -> None:
    raw = (
        b"From: eve@localhost\r\nFrom: ada@example.org\r\nSubject: Re: [#1] VPN\r\n"
        b"Message-ID: <two-from@example.net>\r\nIn-Reply-To: "
        + _acknowledgement_id(channel).encode()
        + b"\r\n\r\nReopen it, please.\r\n"
    )
    with pytest.raises(ValidationError, match="no usable sender"):
        channel.receive(raw)
    assert comments(channel) == []


def test_a_strangers_subject_token_alone_opens_a_new_request(channel: EmailChannel) -> None:
    """Another system's [#1] in a forwarded subject is no reply to our ticket 1."""
    result = channel.receive(
        mail("Vendor needs a ticket.", sender="carl@example.com", subject="Fwd: [#1] Your RMA")
    )
    assert result.action == "opened" and result.ticket_id == "T-000002"
    assert comments(channel) == []


def test_a_reply_naming_its_ticket_is_not_taken_away_by_anothers_subject_token(
    channel: EmailChannel,
) -> None:
    """Carl answers the desk's acknowledgement of his own ticket 2 (In-Reply-To names it)
    under a subject that carries another system's ``[#1]``, the number of Ada's ticket:
    the reply belongs on ticket 2, not on a new ticket, and not on Ada's."""
    opened = channel.receive(mail("RMA for the dock.", sender="carl@example.com", subject="RMA"))
    assert opened.ticket_id == "T-000002"
    [ack] = outbound(channel)
    result = channel.receive(
        mail(
            "The vendor answered.",
            sender="carl@example.com",
            subject="Re: [#1] vendor case",
            In_Reply_To=str(ack["Message-ID"]),
        )
    )
    assert (result.action, result.ticket_id) == ("replied", "T-000002")
    assert comments(channel) == []
    [reply] = [e for e in channel.desk.history("T-000002") if isinstance(e, CommentAdded)]
    assert reply.body == "The vendor answered."


@pytest.mark.parametrize("subject", ["[#0] Your order", "Re: [#000] Invoice"])
def test_a_subject_token_numbering_no_ticket_opens_a_new_request(
    channel: EmailChannel, subject: str
) -> None:
    """Ticket numbers start at 1: another system's ``[#0]`` is no reply, and no error."""
    result = channel.receive(mail("Please help.", sender="carl@example.com", subject=subject))
    assert (result.action, result.ticket_id) == ("opened", "T-000002")


def test_a_custom_token_with_a_number_beyond_64_bits_opens_a_new_request() -> None:
    channel = make_channel(
        category=None,
        subject_token=SubjectToken(format="[#{number}]", pattern=r"\[#(?P<number>\d+)\]"),
    )
    result = channel.receive(mail("Hi", subject="Re: [#99999999999999999999999] Order"))
    assert (result.action, result.ticket_id) == ("opened", "T-000001")


def test_a_message_is_applied_once(channel: EmailChannel) -> None:
    again = corpus("new_ticket.eml")  # the fixture's message, delivered a second time
    result = channel.receive(again)
    assert (result.action, result.ticket_id) == ("ignored", "T-000001")
    assert "received before" in result.reason
    reply = mail("Still broken.", subject="Re: [#1] VPN")
    assert channel.receive(reply).action == "replied"
    assert channel.receive(reply).action == "ignored"
    assert [c.body for c in comments(channel)] == ["Still broken."]


def test_the_same_message_id_from_another_sender_is_another_message(
    channel: EmailChannel,
) -> None:
    first = mail("Printer", sender="ada@example.org", subject="One")
    second = mail("Scanner", sender="bob@example.org", subject="Two")
    for message in (first, second):
        del message["Message-ID"]
        message["Message-ID"] = "<same@x>"
    assert channel.receive(first).action == "opened"
    assert channel.receive(second).action == "opened"


def test_a_message_without_a_message_id_is_applied_once_by_its_date_and_text(
    channel: EmailChannel,
) -> None:
    def without_id(body: str, date: str | None) -> EmailMessage:
        message = mail(body, subject="Printer")
        del message["Message-ID"]
        if date is not None:
            message["Date"] = date
        return message

    monday = "Mon, 02 Mar 2026 09:00:00 +0100"
    first = channel.receive(without_id("It jams.", monday))
    assert first.action == "opened" and first.message_id is None
    again = channel.receive(without_id("It jams.", monday))  # delivered a second time
    assert (again.action, again.ticket_id) == ("ignored", first.ticket_id)
    # Written again later, or saying something else: another message.
    later = channel.receive(without_id("It jams.", "Mon, 02 Mar 2026 09:05:00 +0100"))
    other = channel.receive(without_id("It smokes.", monday))
    assert later.action == other.action == "opened"
    # Without a Date either, nothing tells two deliveries apart: each is applied.
    assert channel.receive(without_id("Paper?", None)).action == "opened"
    assert channel.receive(without_id("Paper?", None)).action == "opened"


def test_mail_beyond_the_desks_limits_is_cut_not_refused() -> None:
    """A pasted log or a long subject fits the desk's ``[limits]``: the text is cut, with
    a note saying how long it was, and the mail is applied (a refusal would come back on
    every retry)."""
    channel = make_channel(category=None)
    ticket_id = channel.receive(corpus("new_ticket.eml")).ticket_id or ""
    desk = channel.desk
    limit = desk.config.limits.max_body_length
    desk.solve(ticket_id, by="lena", resolution="restarted", first_contact=True)
    result = channel.receive(mail("x" * (limit + 1), subject="Re: [#1] VPN"))
    assert result.action == "replied"
    body = comments(channel)[-1].body
    assert len(body) == limit and body.endswith(f"cut: the message had {limit + 1:,} characters]")
    assert desk.get(ticket_id).status_category.is_active  # reopened
    opened = channel.receive(
        mail("log " * limit, subject="S" * 5_000, sender="Bo <bo@example.org>")
    )
    assert opened.action == "opened" and opened.ticket_id is not None
    ticket = desk.get(opened.ticket_id)
    assert len(ticket.subject) <= desk.config.limits.max_subject_length
    assert len(ticket.description) == limit


def test_a_stranger_opens_a_new_ticket_when_configured() -> None:
    channel = make_channel(category=None, foreign_sender="new_ticket")
    channel.receive(corpus("new_ticket.eml"))
    result = channel.receive(mail("Me too", sender="eve@example.net", subject="Re: [#1] VPN"))
    assert result.action == "opened" and result.ticket_id == "T-000002"
    assert channel.desk.get("T-000002").subject == "VPN"


def test_an_unknown_ticket_number_opens_a_new_ticket(channel: EmailChannel) -> None:
    result = channel.receive(mail("New issue", subject="Re: [#999] Old thing"))
    assert result.action == "opened"
    assert channel.desk.get(result.ticket_id or "").subject == "Old thing"


def test_mail_from_our_own_address_is_ignored(channel: EmailChannel) -> None:
    result = channel.receive(mail("loop", sender=ADDRESS, subject="[#1] VPN"))
    assert result.action == "ignored" and "own address" in result.reason


def test_our_own_outbound_message_coming_back_is_ignored(channel: EmailChannel) -> None:
    channel.desk.reply("T-000001", author="lena", body="Try again")
    [reply] = outbound(channel)
    del reply["From"]
    reply["From"] = "ada@example.org"
    result = channel.receive(reply)
    assert result.action == "ignored" and "X-Helpdesk-Event" in result.reason


def test_a_reply_from_another_desk_of_this_library_is_a_persons_mail(
    channel: EmailChannel,
) -> None:
    """Another desk stamps X-Helpdesk-Event on its agents' replies too: those are not our
    messages coming back (its automatic mail carries Auto-Submitted)."""
    vendor = make_channel(make_desk(), address="support@vendor.example", category=None)
    vendor.desk.open(
        requester=Requester(id="acme", name="ACME IT", email=ADDRESS),
        subject="Licence renewal",
        channel="web",
    )
    vendor.desk.reply("T-000001", author="lena", body="Your licence is renewed.")
    ack, reply = outbound(vendor)
    assert channel.receive(ack).action == "ignored"
    result = channel.receive(reply)
    assert result.action == "opened", result.reason
    assert "Your licence is renewed." in channel.desk.get(result.ticket_id or "").description


def test_auto_submitted_no_is_a_person(channel: EmailChannel) -> None:
    result = channel.receive(mail("Still broken", subject="Re: [#1] VPN", Auto_Submitted="no"))
    assert result.action == "replied"


def test_empty_return_path_is_ignored(channel: EmailChannel) -> None:
    result = channel.receive(mail("x", Return_Path="<>"))
    assert result.action == "ignored"


def test_a_bounce_forwarded_as_an_attachment_is_a_persons_mail(channel: EmailChannel) -> None:
    """The delivery report is the attached message's: the mail around it is someone
    asking why their mail bounced."""
    bounce = email.message_from_bytes(corpus("bounce.eml"), policy=policy.default)
    forward = mail("My mail to our supplier bounced, see the attached report.", subject="Bounce")
    forward.add_attachment(bounce)
    result = channel.receive(forward)
    assert result.action == "opened", result.reason
    assert [a.name for a in result.attachments] == ["Undelivered Mail Returned to Sender.eml"]
    assert channel.receive(corpus("bounce.eml")).action == "ignored"


@pytest.mark.parametrize("suppress", ["All", "DR, RN, NRN, OOF, AutoReply", "OOF"])
def test_a_person_asking_for_no_auto_replies_is_heard(
    channel: EmailChannel, suppress: str
) -> None:
    """Exchange and Outlook write X-Auto-Response-Suppress on mail people send (a request
    that no automatic answer comes back), not only on their own automatic replies."""
    opened = channel.receive(
        mail("The printer is jammed", subject="Printer", X_Auto_Response_Suppress=suppress)
    )
    assert opened.action == "opened", opened.reason
    replied = channel.receive(
        mail("Still broken", subject="Re: [#1] VPN", X_Auto_Response_Suppress=suppress)
    )
    assert replied.action == "replied", replied.reason


def test_the_rate_limit_stops_a_loop() -> None:
    desk = make_desk()
    channel = make_channel(desk, category=None, rate_limit=3, rate_window="10m")
    actions = [channel.receive(mail(f"m{i}", subject=f"S{i}")).action for i in range(5)]
    assert actions == ["opened", "opened", "opened", "rejected", "rejected"]
    desk.clock.advance(timedelta(minutes=11))  # type: ignore[attr-defined]
    assert channel.receive(mail("later", subject="Later")).action == "opened"


def test_the_rate_limit_counts_accepted_messages_only() -> None:
    """Ignored (quoted text only) and rejected messages do not use up the sender's
    allowance; accepted ones do."""
    desk = make_desk()
    channel = make_channel(desk, category=None, rate_limit=2, rate_window="10m")
    assert channel.receive(mail("m0", subject="S0")).action == "opened"
    quoted = "> what you wrote\n"
    for i in range(3):
        result = channel.receive(mail(quoted, subject=f"Re: [#1] S{i}"))
        assert result.action == "ignored"
    assert channel.receive(mail("m1", subject="S1")).action == "opened"
    assert channel.receive(mail("m2", subject="S2")).action == "rejected"


_VENDOR = (
    "From: Vendor Support <support@vendor.example>\nSubject: Case 4711\n\nFirmware 2.1 fixes it."
)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"---------- Forwarded message ---------\n{_VENDOR}", ""),
        (f"What the vendor says:\n\n---------- Forwarded message ---------\n{_VENDOR}",
         "What the vendor says:"),
        (f"See below.\n\nBegin forwarded message:\n\n{_VENDOR}", "See below."),
    ],
)
def test_a_message_forwarded_onto_a_ticket_is_kept(
    channel: EmailChannel, text: str, kept: str
) -> None:
    """A forward is what the requester passes on, not history of the ticket: the mail
    that only forwards one is no empty reply."""
    result = channel.receive(mail(text, subject="Fwd: [#1] VPN drops every few minutes"))
    assert result.action == "replied", result.reason
    body = comments(channel)[-1].body
    assert body.startswith(kept)
    assert "\n\n\n" not in body
    assert body.endswith("Subject: Case 4711\n\nFirmware 2.1 fixes it.")


def test_a_reply_with_only_quoted_text_is_ignored(channel: EmailChannel) -> None:
    result = channel.receive(
        mail("On Mon, Desk wrote:\n> old text", subject="Re: [#1] VPN drops every few minutes")
    )
    assert result.action == "ignored" and "empty reply" in result.reason
    assert comments(channel) == []


def test_a_reply_written_below_the_quote_is_kept(channel: EmailChannel) -> None:
    """Thunderbird (set to reply below the quote) and mutt put the attribution on top and
    the answer below the quoted history, or between its lines: that answer is the reply,
    not an empty one."""
    text = (
        "On 02.03.26 10:15, Example IT desk wrote:\n"
        "> ##- Please type your reply above this line -##\n"
        ">\n"
        "> Which VPN client do you use?\n"
        "AnyConnect 4.10\n"
        "> Since when?\n"
        "Since Monday.\n"
        "\n"
        "-- \n"
        "Ada Lovelace\n"
    )
    result = channel.receive(mail(text, subject="Re: [#1] VPN drops every few minutes"))
    assert result.action == "replied", result.reason
    assert comments(channel)[-1].body == "AnyConnect 4.10\nSince Monday."


def test_a_reply_on_a_closed_ticket_opens_a_linked_follow_up(channel: EmailChannel) -> None:
    desk = channel.desk
    desk.reply("T-000001", author="lena", body="Fixed")
    desk.solve("T-000001", by="lena", resolution="Gateway updated")
    desk.close("T-000001", by="lena")
    result = channel.receive(mail("It is back!", subject="Re: [#1] VPN drops every few minutes"))
    assert result.action == "opened" and result.ticket_id == "T-000002"
    assert "follow-up of ticket 1 (closed)" in result.reason
    follow_up = desk.get("T-000002")
    assert follow_up.description == "It is back!"
    assert "T-000001" in follow_up.linked("follow_up_of")  # type: ignore[arg-type]


def test_a_second_mail_in_a_closed_tickets_thread_joins_its_follow_up(
    channel: EmailChannel,
) -> None:
    """Ada writes twice in the thread of her closed ticket, the second time in answer to
    her first mail (which opened the follow-up): one follow-up, not two."""
    desk = channel.desk
    desk.reply("T-000001", author="lena", body="Fixed")
    desk.solve("T-000001", by="lena", resolution="Gateway updated")
    desk.close("T-000001", by="lena")
    subject = "Re: [#1] VPN drops every few minutes"
    first = mail("It is back!", subject=subject)
    assert channel.receive(first).ticket_id == "T-000002"
    second = mail(
        "Screenshot attached.",
        subject=subject,
        In_Reply_To=str(first["Message-ID"]),
        References=f"{_acknowledgement_id(channel)} {first['Message-ID']}",
    )
    result = channel.receive(second)
    assert (result.action, result.ticket_id) == ("replied", "T-000002")
    [comment] = [e for e in desk.history("T-000002") if isinstance(e, CommentAdded)]
    assert comment.body == "Screenshot attached."


def test_a_mail_answering_the_senders_own_earlier_mail_joins_its_ticket(
    channel: EmailChannel,
) -> None:
    """A second mail in answer to one's own first (sent before the acknowledgement came:
    "forgot the attachment") carries no ticket number and names no message of the
    desk's; its References name the first mail, which opened ticket 1."""
    result = channel.receive(
        mail(
            "Forgot to say: only on Wi-Fi.",
            subject="Re: VPN drops every few minutes",
            In_Reply_To="<CAF0001-new@mail.example.org>",
        )
    )
    assert (result.action, result.ticket_id) == ("replied", "T-000001")
    # Someone else answering Ada's mail is not thereby on her ticket.
    other = channel.receive(
        mail(
            "Same here.",
            sender="eve@example.net",
            subject="Re: VPN drops every few minutes",
            In_Reply_To="<CAF0001-new@mail.example.org>",
        )
    )
    assert other.action == "opened" and other.ticket_id == "T-000002"
    assert [c.body for c in comments(channel)] == ["Forgot to say: only on Wi-Fi."]


def test_a_follow_up_belongs_to_the_closed_tickets_requester() -> None:
    """Two records may share an address (a shared mailbox, or an address that moved):
    the reply was taken as the closed ticket's requester's, so is the follow-up."""
    channel = make_channel(category=None)
    desk = channel.desk
    desk.upsert_requester(Requester(id="office-anna", name="Anna", email="office@example.org"))
    desk.open(
        requester=Requester(id="office-ben", name="Ben", email="office@example.org"),
        subject="VPN",
        channel="web",
    )
    desk.reply("T-000001", author="lena", body="Fixed")
    desk.solve("T-000001", by="lena", resolution="Gateway updated")
    desk.close("T-000001", by="lena")
    result = channel.receive(
        mail("It is back!", sender="office@example.org", subject="Re: [#1] VPN")
    )
    assert result.action == "opened" and "follow-up" in result.reason
    assert desk.get(result.ticket_id or "").requester == "office-ben"


def test_a_reply_on_a_solved_ticket_reopens_it(channel: EmailChannel) -> None:
    desk = channel.desk
    desk.reply("T-000001", author="lena", body="Fixed")
    desk.solve("T-000001", by="lena", resolution="Gateway updated")
    result = channel.receive(mail("Not fixed", subject="Re: [#1] VPN"))
    assert result.action == "replied"
    ticket = desk.get("T-000001")
    assert ticket.is_active and ticket.status == "open"
    assert comments(channel)[-1].body == "Not fixed"


def test_a_reply_after_the_reopen_window_opens_a_follow_up(channel: EmailChannel) -> None:
    desk = channel.desk
    desk.reply("T-000001", author="lena", body="Fixed")
    desk.solve("T-000001", by="lena", resolution="Gateway updated")
    desk.clock.advance(timedelta(days=8))  # type: ignore[attr-defined]
    result = channel.receive(mail("Not fixed", subject="Re: [#1] VPN"))
    assert result.action == "opened", result.reason
    assert "follow-up of ticket 1" in result.reason


def test_an_existing_requester_is_found_by_address_case_insensitively() -> None:
    desk = make_desk()
    desk.upsert_requester(Requester(id="ada", name="Ada L.", email="Ada@Example.org"))
    channel = make_channel(desk, category=None)
    result = channel.receive(mail("Hi", sender="ADA@example.org"))
    assert desk.get(result.ticket_id or "").requester == "ada"


def test_a_derived_id_taken_by_someone_else_is_not_overwritten() -> None:
    desk = make_desk()
    desk.upsert_requester(Requester(id="ada@example.org", name="Other", email="x@example.org"))
    channel = make_channel(desk, category=None)
    result = channel.receive(mail("Hi"))
    requester = desk.get(result.ticket_id or "").requester
    assert requester == "ada@example.org-2"
    assert desk.get_requester("ada@example.org").name == "Other"


def test_a_free_requester_id_skips_every_taken_one() -> None:
    desk = make_desk()
    assert free_requester_id(desk, "Ada@Example.org") == "ada@example.org"
    taken = ["ada@example.org", *(f"ada@example.org-{n}" for n in range(2, 100))]
    for requester_id in taken:
        desk.upsert_requester(Requester(id=requester_id, email="x@example.org"))
    found = free_requester_id(desk, "ada@example.org")
    assert found not in taken and found.startswith("ada@example.org-")
    desk.upsert_requester(Requester(id=found, email="y@example.org"))
    assert free_requester_id(desk, "ada@example.org") not in {*taken, found}
    for bad in ("", "  ", None):
        with pytest.raises(ValidationError):
            free_requester_id(desk, bad)  # type: ignore[arg-type]


def test_a_new_requester_never_gets_an_agents_id() -> None:
    """An agent whose id is an address: a stranger writing from it (or the agent, from
    a mailbox the desk does not know as theirs) becomes a requester of another id."""
    config = example_config()
    ops = evolve(config.agents[0], id="ops@example.org", email=None)
    desk = Helpdesk(
        config=config.replace(agents=(*config.agents, ops)),
        store=MemoryStore(),
        clock=ManualClock(MONDAY_9),
        ids=SequentialIds(),
    )
    assert free_requester_id(desk, "ops@example.org") == "ops@example.org-2"
    result = make_channel(desk, category=None).receive(mail("Hi", sender="ops@example.org"))
    assert result.action == "opened"
    assert desk.get(result.ticket_id or "").requester == "ops@example.org-2"


def test_oversized_messages_are_refused_before_anything_is_written() -> None:
    channel = make_channel(category=None, max_bytes=2_000)
    with pytest.raises(ValidationError, match="larger than the limit of 2000 bytes"):
        channel.receive(mail("x" * 5_000))
    assert channel.desk.search().total == 0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"Subject: no sender\n\nbody", "no usable sender"),
        (b"From: not an address\nSubject: x\n\nbody", "no usable sender"),
        (b"From: ada\x7f@example.org\nSubject: x\n\nbody", "no usable sender"),  # DEL
        ("text", "expected the message as bytes"),
    ],
)
def test_malformed_messages_raise_a_clear_validation_error(raw: object, message: str) -> None:
    channel = make_channel(category=None)
    with pytest.raises(ValidationError, match=message):
        channel.receive(raw)  # type: ignore[arg-type]
    assert channel.desk.search().total == 0


def test_the_function_form_works_without_a_limiter() -> None:
    desk = make_desk()
    settings = make_channel(desk).settings
    results = [receive(desk, mail(f"m{i}", subject=f"S{i}"), settings=settings) for i in range(12)]
    assert {r.action for r in results} == {"opened"}


def test_an_address_that_only_folds_alike_is_another_mailbox() -> None:
    desk = make_desk()
    desk.upsert_requester(Requester(id="sabine", name="Sabine", email="strasse@example.de"))
    channel = make_channel(desk, category=None)
    raw = (
        "From: J\u00f6rg Stra\u00dfe <stra\u00dfe@example.de>\nSubject: Mein Gehaltszettel\n"
        "Message-ID: <g1@example.de>\nContent-Type: text/plain; charset=utf-8\n\n"
        "Bitte pr\u00fcfen\n"
    ).encode()
    opened = channel.receive(raw)
    ticket = desk.get(opened.ticket_id or "")
    assert ticket.requester != "sabine"  # "ß" and "ss" fold alike but are two mailboxes
    [ack] = outbound(channel)
    assert "stra\u00dfe@example.de" in str(ack["To"])
    reply = channel.receive(
        b"From: stra\xc3\x9fe@example.de\nSubject: Re: [#1] Mein Gehaltszettel\n"
        b"Message-ID: <g2@example.de>\nContent-Type: text/plain; charset=utf-8\n\nNachtrag\n"
    )
    assert (reply.action, reply.ticket_id) == ("replied", ticket.id)


@pytest.mark.parametrize(
    ("charset", "text"),
    [
        ("iso-8859-8-i", "\u05e9\u05dc\u05d5\u05dd, \u05d4\u05de\u05d3\u05e4\u05e1\u05ea"),
        ("windows-874", "\u0e40\u0e04\u0e23\u0e37\u0e48\u0e2d\u0e07"),
        ("x-sjis", "\u30d7\u30ea\u30f3\u30bf\u30fc"),
        ("x-mac-roman", "Gr\u00fc\u00dfe, caf\u00e9"),
    ],
)
def test_charset_labels_python_does_not_know_by_name_are_read(charset: str, text: str) -> None:
    codec = {"iso-8859-8-i": "iso-8859-8", "windows-874": "cp874", "x-sjis": "shift_jis"}
    body = text.encode(codec.get(charset, "mac_roman"))
    channel = make_channel(category=None)
    raw = (
        b"From: ada@example.org\nSubject: Help\nMessage-ID: <cs@example.org>\n"
        b"Content-Type: text/plain; charset=" + charset.encode() + b"\n\n" + body + b"\n"
    )
    opened = channel.receive(raw)
    assert channel.desk.get(opened.ticket_id or "").description == text


@pytest.mark.parametrize(
    "charset", ["iso-8859-1", "ISO8859-1", "iso_8859-1", "l1", "cp819", "ansi_x3.4-1968", "us"]
)
def test_every_latin_1_and_ascii_label_is_read_as_windows_1252(charset: str) -> None:
    """Mailers write Word's quotes, dashes and the euro sign (bytes 0x80-0x9f) in text
    they label Latin-1 or ASCII, under any of the labels' spellings: they are read as
    Windows-1252, in the body and in RFC 2047 words, not as invisible control
    characters or replacement characters."""
    channel = make_channel(category=None)
    raw = (
        b"From: ada@example.org\nSubject: =?" + charset.encode()
        + b"?q?Don=92t_work_=80?=\nMessage-ID: <l1-" + charset.encode() + b"@example.org>\n"
        b"Content-Type: text/plain; charset=" + charset.encode() + b"\n\n"
        b"\x93Gr\xfc\xdfe\x94 \x96 10 \x80\n"
    )
    ticket = channel.desk.get(channel.receive(raw).ticket_id or "")
    assert ticket.subject == "Don\u2019t work \u20ac"
    assert ticket.description == "\u201cGr\u00fc\u00dfe\u201d \u2013 10 \u20ac"


@pytest.mark.parametrize(
    ("charset", "codec", "text"),
    [
        ("shift_jis", "cp932", "\u2460\u2461 \u9ad9\u6a4b \u3231 \uff5e"),
        ("x-sjis", "cp932", "\u2460 \u9ad9\u6a4b"),
        ("windows-31j", "cp932", "\u2460 \u9ad9\u6a4b"),
        ("euc-kr", "cp949", "\ub620\ubc29\uac01\ud558"),
        ("ks_c_5601-1987", "cp949", "\ub620\ubc29\uac01\ud558"),
        ("windows-949", "cp949", "\ub620\ubc29\uac01\ud558"),
        ("big5", "cp950", "\u7881\u92b9"),
        ("x-x-big5", "cp950", "\u7881\u92b9"),
    ],
)
def test_east_asian_labels_are_read_as_the_encodings_mailers_write(
    charset: str, codec: str, text: str
) -> None:
    """Windows writes Shift_JIS, EUC-KR and Big5 text as its code pages (circled digits,
    the IBM kanji of names such as \u9ad9\u6a4b, the Hangul beyond KS X 1001) under the
    standard labels; mail clients read them as such, and so does the desk, in the body
    and in RFC 2047 words."""
    channel = make_channel(category=None)
    data = text.encode(codec)
    word = base64.b64encode(data)
    raw = (
        b"From: ada@example.org\nSubject: =?" + charset.encode() + b"?b?" + word + b"?=\n"
        b"Message-ID: <cjk@example.org>\n"
        b"Content-Type: text/plain; charset=" + charset.encode() + b"\n"
        b"Content-Transfer-Encoding: 8bit\n\n" + data + b"\n"
    )
    ticket = channel.desk.get(channel.receive(raw).ticket_id or "")
    assert (ticket.subject, ticket.description) == (text, text)


def test_iso_2022_jp_is_read_with_the_rows_windows_adds() -> None:
    """Outlook writes ISO-2022-JP with the NEC and IBM rows of JIS X 0208 (circled digits,
    the kanji of names such as \u9ad9\u6a4b), as mail clients read it: they are kept, in
    the body and in RFC 2047 words, not replaced."""
    channel = make_channel(category=None)
    # \u2460 is row 13 (NEC), \u9ad9 row 92 (IBM); the rest is plain JIS X 0208.
    data = b"\x1b$B-!|b\x1b(B" + "\u6a4b\u3067\u3059 (\u30d7\u30ea\u30f3\u30bf)".encode(
        "iso2022_jp"
    )
    text = "\u2460\u9ad9\u6a4b\u3067\u3059 (\u30d7\u30ea\u30f3\u30bf)"
    raw = (
        b"From: taro@example.jp\nSubject: =?ISO-2022-JP?B?" + base64.b64encode(data) + b"?=\n"
        b"Message-ID: <jis@example.jp>\nContent-Type: text/plain; charset=ISO-2022-JP\n"
        b"Content-Transfer-Encoding: 7bit\n\n" + data + b"\n"
    )
    ticket = channel.desk.get(channel.receive(raw).ticket_id or "")
    assert (ticket.subject, ticket.description) == (text, text)
    # Megabytes of such text are read in one pass, not pair by pair.
    started = time.perf_counter()
    assert decode_text(b"\x1b$B" + b"-!|b" * 1_000_000 + b"\x1b(B", "iso-2022-jp") == (
        "\u2460\u9ad9" * 1_000_000
    )
    assert time.perf_counter() - started < 5


def test_mislabelled_and_unlabelled_8bit_text_keeps_its_letters() -> None:
    channel = make_channel(category=None)
    desk = channel.desk

    def description(charset: bytes, body: bytes, n: int) -> str:
        raw = (
            b"From: ada@example.org\nSubject: Help\nMessage-ID: <m%d@example.org>\n" % n
            + b"Content-Type: text/plain; charset=" + charset + b"\n\n" + body + b"\n"
        )
        return desk.get(channel.receive(raw).ticket_id or "").description

    latin = "Gr\u00fc\u00dfe aus K\u00f6ln".encode("latin-1")
    assert description(b"utf-8", latin, 1) == "Gr\u00fc\u00dfe aus K\u00f6ln"
    assert description(b"unknown-8bit", latin, 2) == "Gr\u00fc\u00dfe aus K\u00f6ln"
    # UTF-8 with one broken byte stays UTF-8: only that byte is lost.
    broken = "Gr\u00fc\u00dfe".encode() + b" \xff K\xc3\xb6ln"
    assert description(b"utf-8", broken, 3) == "Gr\u00fc\u00dfe \ufffd K\u00f6ln"
    subject = channel.receive(
        b"From: ada@example.org\nSubject: =?iso-8859-8-i?b?+ezl7Q==?=\n"
        b"Message-ID: <m4@example.org>\n\nx\n"
    )
    assert desk.get(subject.ticket_id or "").subject == "\u05e9\u05dc\u05d5\u05dd"


def test_raw_8bit_text_beside_an_encoded_word_keeps_every_letter() -> None:
    """A header written partly as raw UTF-8 and partly as RFC 2047 words (a gateway that
    encodes only what it adds) reads as text, whatever the script: no letter becomes an
    escape sequence such as ``\\u65e5``."""
    channel = make_channel(category=None)
    raw = (
        "From: \u65e5\u672c =?utf-8?q?Taro?= <taro@example.jp>\n"
        "Subject: \u65e5\u672c\u8a9e =?utf-8?q?caf=C3=A9?= \u30d7\u30ea\u30f3\u30bf\u30fc\n"
        "Message-ID: <jp-mixed@example.jp>\n\nbody\n"
    ).encode()
    opened = channel.receive(raw)
    ticket = channel.desk.get(opened.ticket_id or "")
    assert ticket.subject == "\u65e5\u672c\u8a9e caf\u00e9 \u30d7\u30ea\u30f3\u30bf\u30fc"
    assert channel.desk.get_requester(ticket.requester).name == "\u65e5\u672c Taro"


def test_a_message_parsed_with_the_default_policy_keeps_its_raw_8bit_subject() -> None:
    channel = make_channel(category=None)
    raw = "From: ada@example.org\nSubject: Drucker Gr\u00fc\u00dfe\nMessage-ID: <p@x.org>\n\nbody\n"
    message = BytesParser(policy=policy.default).parsebytes(raw.encode("latin-1"))
    opened = channel.receive(message)
    assert channel.desk.get(opened.ticket_id or "").subject == "Drucker Gr\u00fc\u00dfe"


@pytest.mark.parametrize(
    "address", ["jörg@example.org", "jo@müller.de", "\u674e@\u4f8b\u3048.jp"]
)
def test_a_message_built_in_code_keeps_a_non_ascii_sender_address(address: str) -> None:
    """An EmailMessage the application builds (from a mail provider's webhook, say) with
    an internationalised address names the same sender as the raw message would."""
    channel = make_channel(category=None)
    built = mail("Hallo", sender=f"Jörg <{address}>", subject="Drucker")
    from_bytes = channel.receive(built.as_bytes(policy=policy.SMTPUTF8))
    assert from_bytes.sender == address
    del built["Message-ID"]
    built["Message-ID"] = "<built@example.org>"
    from_object = channel.receive(built)
    assert from_object.sender == address
    ticket = channel.desk.get(from_object.ticket_id or "")
    assert channel.desk.get_requester(ticket.requester).email == address
    assert ticket.requester == channel.desk.get(from_bytes.ticket_id or "").requester


@pytest.mark.parametrize("parse_policy", [policy.compat32, policy.default])
def test_a_message_parsed_from_text_with_8bit_content_is_read(
    parse_policy: policy.Policy,
) -> None:
    """A mail sent as 8-bit UTF-8 (Thunderbird's habit) that the application decoded and
    parsed from text (``email.message_from_string``) has characters but no bytes."""
    channel = make_channel(category=None)
    text = (
        "From: Jörg Müller <jörg@example.org>\nTo: help@desk.example.com\n"
        "Subject: Drucker im 3. Stock\nMessage-ID: <tb-1@example.org>\n"
        "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n"
        "Grüße, der Drucker zeigt „Papierstau“.\n"
    )
    message = email.message_from_string(text, policy=parse_policy)
    opened = channel.receive(message)
    assert (opened.action, opened.sender) == ("opened", "jörg@example.org")
    ticket = channel.desk.get(opened.ticket_id or "")
    assert ticket.description == "Grüße, der Drucker zeigt „Papierstau“."
    assert channel.desk.get_requester(ticket.requester).name == "Jörg Müller"


def test_message_ids_without_angle_brackets_are_read() -> None:
    channel = make_channel(category=None)
    raw = (
        b"From: ada@example.org\nSubject: Printer jam\n"
        b"Message-ID: 20260302.abc123@mailer.example.org\n\nPaper stuck\n"
    )
    first, again = channel.receive(raw), channel.receive(raw)
    assert first.message_id == "<20260302.abc123@mailer.example.org>"
    assert (first.action, again.action, again.ticket_id) == ("opened", "ignored", first.ticket_id)
    reply = channel.receive(
        b"From: ada@example.org\nSubject: Re: Printer jam\nMessage-ID: <r2@example.org>\n"
        b"In-Reply-To: ticket-T-000001-1@desk.example.com\n\nStill stuck\n"
    )
    assert (reply.action, reply.ticket_id) == ("replied", first.ticket_id)


@pytest.mark.parametrize(("language", "prefix"), [("en", "Re"), ("de", "AW")])
def test_a_follow_up_leaves_the_desks_own_subject_prefix_behind(language: str, prefix: str) -> None:
    channel = make_channel(category=None)
    desk = channel.desk
    opened = channel.receive(
        f"From: jo@example.org\nSubject: VPN drops\nMessage-ID: <{language}1@example.org>\n"
        f"Content-Language: {language}\n\nVPN drops every 5 minutes\n".encode()
    )
    ticket_id = opened.ticket_id or ""
    desk.reply(ticket_id, author="lena", body="Update the client.")
    desk.solve(ticket_id, by="lena", resolution="Client updated")
    notice = outbound(channel)[-1]
    assert not str(notice["Subject"]).startswith("[#")  # "Solved: [#1] ..." / "Gelöst: ..."
    desk.close(ticket_id, by="lena")
    follow_up = channel.receive(
        f"From: jo@example.org\nSubject: {prefix}: {notice['Subject']}\n"
        f"Message-ID: <{language}2@example.org>\nIn-Reply-To: {notice['Message-ID']}\n\n"
        "It is back.\n".encode()
    )
    assert desk.get(follow_up.ticket_id or "").subject == "VPN drops"
    # Without a ticket token the same words are the requester's own.
    own = channel.receive(mail("How do I?", sender="jo@example.org", subject="Solved: how to VPN"))
    assert desk.get(own.ticket_id or "").subject == "Solved: how to VPN"


def test_auto_submitted_no_with_a_comment_is_a_person() -> None:
    channel = make_channel(category=None)
    result = channel.receive(mail("Hi", Auto_Submitted="no (sent by a person)"))
    assert result.action == "opened", result.reason
    assert channel.receive(mail("Away", Auto_Submitted="auto-replied (vacation)")).action == (
        "ignored"
    )


@pytest.mark.parametrize(
    ("subject", "kept"),
    [
        ("Re: [#1] SLA report for March: totals wrong", "SLA report for March: totals wrong"),
        ("Re: [#1] Escalation level of my ticket: low?", "Escalation level of my ticket: low?"),
        ("Re: [#1] Solved: not at all", "Solved: not at all"),  # after the token: theirs
    ],
)  # fmt: skip
def test_only_the_desks_literal_prefixes_before_the_token_are_left_behind(
    subject: str, kept: str
) -> None:
    channel = make_channel(category=None)
    desk = channel.desk
    first = channel.receive(mail("Hi", sender="jo@example.org", subject="Printer"))
    desk.reply(first.ticket_id or "", author="lena", body="On it")
    desk.solve(first.ticket_id or "", by="lena", resolution="done")
    desk.close(first.ticket_id or "", by="lena")
    follow_up = channel.receive(mail("Again", sender="jo@example.org", subject=subject))
    assert follow_up.ticket_id != first.ticket_id
    assert desk.get(follow_up.ticket_id or "").subject == kept


def test_a_template_field_before_the_token_strips_nothing() -> None:
    from helpdesk_core.channels.email import SubjectToken, Templates

    templates = Templates(languages={"en": {"solved.subject": "{desk_name}: {token} {subject}"}})
    patterns = [p.pattern for p in templates.subject_prefixes()]
    assert not any(".{" in p for p in patterns)
    token = SubjectToken()
    assert (
        token.strip("Re: [#42] Printer: error: code 5", desk_prefixes=templates.subject_prefixes())
        == "Printer: error: code 5"
    )


def test_a_charset_label_that_is_no_name_falls_back() -> None:
    channel = make_channel(category=None)
    raw = (
        b"From: jane@example.org\r\nSubject: Printer\r\nMessage-ID: <nul@example.org>\r\n"
        b'Content-Type: text/plain; charset="utf-8\x00"\r\n\r\nGr\xc3\xbc\xc3\x9fe, broken.\r\n'
    )
    opened = channel.receive(raw)
    assert channel.desk.get(opened.ticket_id or "").description == "Gr\u00fc\u00dfe, broken."


def test_a_message_of_too_many_parts_is_refused() -> None:
    channel = make_channel(category=None)
    part = (
        b"--b\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename=a\r\n\r\nx\r\n"
    )
    head = (
        b"From: jane@example.org\r\nSubject: Files\r\nMessage-ID: <parts@example.org>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    )
    # The message and its 999 attachments: a thousand parts, the most there may be.
    fine = channel.receive(head + part * 999 + b"--b--\r\n")
    assert fine.action == "opened" and len(fine.attachments) == 999
    with pytest.raises(ValidationError, match="more than 1,000 MIME parts") as refused:
        channel.receive(head.replace(b"<parts@", b"<more-parts@") + part * 1000 + b"--b--\r\n")
    assert refused.value.field == "message"
    assert channel.desk.search().total == 1


def test_the_senders_address_is_logged_only_at_debug(
    channel: EmailChannel, caplog: pytest.LogCaptureFixture
) -> None:
    message = mail("Still broken.", subject="Re: [#1] VPN")
    with caplog.at_level("INFO", logger="helpdesk_core"):
        assert channel.receive(message).action == "replied"
    assert caplog.records and str(message["Message-ID"]) in caplog.text
    assert "ada@example.org" not in caplog.text
    caplog.clear()
    with caplog.at_level("DEBUG", logger="helpdesk_core"):
        channel.receive(mail("And again.", subject="Re: [#1] VPN"))
    assert "ada@example.org" in caplog.text


def test_mail_opens_tickets_of_the_type_the_settings_name() -> None:
    """A desk whose types leave out ``incident`` names the type mail opens, and a type
    the desk does not have is refused when the channel is made, not at every mail."""
    config = example_config()
    requests_only = config.replace(
        ticket_types={"service_request": config.ticket_types["service_request"]}
    )
    desk = Helpdesk(config=requests_only, store=MemoryStore(),
                    clock=ManualClock(MONDAY_9), ids=SequentialIds())
    with pytest.raises(ConfigError) as refused:
        make_channel(desk, category=None)
    assert refused.value.path == "ticket_type"
    assert "'incident'" in str(refused.value) and "service_request" in str(refused.value)
    channel = make_channel(desk, category=None, ticket_type="service_request")
    result = channel.receive(mail("Please set up a laptop for Ada."))
    assert result.ticket_id is not None
    assert desk.get(result.ticket_id).type == "service_request"


def test_a_reply_on_a_solved_ticket_by_a_requester_who_may_not_reopen_is_kept() -> None:
    """Without the reopen right the mail is recorded on the solved ticket, which stays
    solved (as a reply through the desk is), not refused with nothing written."""
    desk = make_desk()
    access = evolve(desk.config.privacy.access, requester_actions={"view", "reply", "rate"})
    desk.reconfigure(
        evolve(desk.config, privacy=evolve(desk.config.privacy, access=access))
    )
    channel = make_channel(desk, category=None)
    assert channel.receive(corpus("new_ticket.eml")).ticket_id == "T-000001"
    desk.reply("T-000001", author="lena", body="Fixed")
    desk.solve("T-000001", by="lena", resolution="Gateway updated")
    result = channel.receive(mail("Not fixed", subject="Re: [#1] VPN"))
    assert result.action == "replied", result.reason
    assert desk.get("T-000001").status_category.name == "SOLVED"
    assert comments(channel)[-1].body == "Not fixed"


def test_an_internationalised_domain_names_one_mailbox_in_either_form() -> None:
    """The desk writes ``jo@müller.de`` as ``jo@xn--mller-kva.de``, and a mailer may send
    from either form: both are the same mailbox, so the reply lands on Jo's ticket and a
    new mail is Jo's, not a stranger's."""
    channel = make_channel(category=None)
    raw = "From: Jo <jo@m\u00fcller.de>\nSubject: Drucker\nMessage-ID: <j1@example.org>\n"
    raw += "Content-Type: text/plain; charset=utf-8\n\nDer Drucker druckt nicht.\n"
    opened = channel.receive(raw.encode())
    [ack] = outbound(channel)
    assert str(ack["To"]) == "Jo <jo@xn--mller-kva.de>"
    reply = channel.receive(
        f"From: Jo <jo@xn--mller-kva.de>\nSubject: Re: {ack['Subject']}\n"
        f"Message-ID: <j2@example.org>\nIn-Reply-To: {ack['Message-ID']}\n\nImmer noch.\n".encode()
    )
    assert (reply.action, reply.ticket_id) == ("replied", opened.ticket_id)
    again = channel.receive(
        b"From: Jo <JO@XN--MLLER-KVA.DE>\nSubject: Scanner\nMessage-ID: <j3@example.org>\n\nx\n"
    )
    desk = channel.desk
    first, second = (desk.get(r.ticket_id or "") for r in (opened, again))
    assert again.action == "opened" and second.requester == first.requester


def test_a_requester_stored_with_an_ascii_domain_is_found_by_its_unicode_form() -> None:
    channel = make_channel(category=None)
    desk = channel.desk
    jo = Requester(id="jo", name="Jo", email="jo@xn--mller-kva.de")
    desk.open(requester=jo, subject="Drucker", channel="web")
    raw = "From: Jo <jo@m\u00fcller.de>\nSubject: Re: [#1] Drucker\n"
    raw += "Message-ID: <j4@example.org>\nContent-Type: text/plain; charset=utf-8\n\nNoch da.\n"
    result = channel.receive(raw.encode())
    assert (result.action, result.ticket_id) == ("replied", "T-000001")
    raw = raw.replace("Re: [#1] Drucker", "Scanner").replace("<j4@", "<j5@")
    opened = channel.receive(raw.encode())
    assert opened.action == "opened" and desk.get(opened.ticket_id or "").requester == "jo"


@pytest.mark.parametrize(
    "sender",
    [
        "jo@stra\u00dfe.de",  # straße.de is another domain than strasse.de
        "jo@exam\u00adple.org",  # a soft hyphen is no letter to drop
        "jo@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.org",  # full-width letters
    ],
)
def test_a_domain_that_only_resembles_a_stored_one_is_another_mailbox(sender: str) -> None:
    """The two spellings of a domain are its labels and their Punycode, nothing looser:
    a look-alike domain, owned by someone else, reaches neither the requester's ticket
    nor the agent's voice."""
    channel = make_channel(category=None)
    desk = channel.desk
    stored = "jo@strasse.de" if "stra" in sender else "jo@example.org"
    desk.open(requester=Requester(id="jo", name="Jo", email=stored), subject="VPN", channel="web")
    raw = f"From: {sender}\nSubject: Re: [#1] VPN\nMessage-ID: <x1@example.net>\n"
    raw += "Content-Type: text/plain; charset=utf-8\n\nLet me in.\n"
    result = channel.receive(raw.encode())
    assert result.ticket_id != "T-000001"
    assert len(desk.history("T-000001")) == len([e for e in desk.history("T-000001")
                                                  if type(e).__name__ != "CommentAdded"])
    if result.ticket_id is not None:
        assert desk.get(result.ticket_id).requester != "jo"


def test_an_agent_is_not_heard_through_a_look_alike_domain() -> None:
    channel = make_channel(category=None)
    desk = channel.desk
    lena = desk.config.agent("lena")
    assert lena.email is not None
    local, _, domain = lena.email.partition("@")
    desk.open(requester=Requester(id="ada", name="Ada", email="ada@example.org"),
              subject="VPN", channel="web")
    look_alike = f"{local}@{domain[:2]}\u00ad{domain[2:]}"
    raw = f"From: {look_alike}\nSubject: Re: [#1] VPN\nMessage-ID: <x2@example.net>\n"
    raw += "Content-Type: text/plain; charset=utf-8\n\nClosing this.\n"
    channel.receive(raw.encode())
    assert not [e for e in desk.history("T-000001") if e.by.is_agent]


@pytest.mark.parametrize(
    "sender",
    [
        "Jo Postmaster <jo.postmaster@example.org>",
        "webpostmaster@example.org",
        '"Forwarded by MAILER-DAEMON@mx.example.org" <ada@example.org>',
    ],
)
def test_a_person_whose_from_mentions_a_mailer_daemon_is_no_bounce(sender: str) -> None:
    """A mailer daemon is the mailbox ``mailer-daemon@`` or ``postmaster@`` itself: an
    address that merely ends in those words, or a display name that quotes one, is a
    person's, and their mail is no bounce to drop."""
    channel = make_channel(category=None)
    result = channel.receive(mail("The printer is offline.", sender=sender, subject="Printer"))
    assert (result.action, result.reason) == ("opened", "")


@pytest.mark.parametrize(
    "sender",
    [
        "Mail Delivery System <MAILER-DAEMON@mx.example.net>",
        "postmaster@example.org",
        "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
    ],
)
def test_mail_from_a_mailer_daemon_is_ignored(sender: str) -> None:
    channel = make_channel(category=None)
    result = channel.receive(mail("Undeliverable", sender=sender, subject="Delivery failure"))
    assert (result.action, result.reason) == (
        "ignored",
        "delivery status report from a mailer daemon",
    )
