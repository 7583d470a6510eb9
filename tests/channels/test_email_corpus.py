"""Real-shaped messages from common clients land where they should."""

from __future__ import annotations

import pytest
from test_email_support import corpus, make_channel, outbound

from helpdesk_core.channels.email import EmailChannel
from helpdesk_core.model import CommentAdded, TicketOpened


@pytest.fixture
def channel() -> EmailChannel:
    """A desk with Ada's VPN ticket T-000001 (#1), answered once by Lena."""
    channel = make_channel()
    opened = channel.receive(corpus("new_ticket.eml"))
    assert (opened.action, opened.ticket_id) == ("opened", "T-000001")
    channel.desk.reply(
        "T-000001", author="lena", body="Please restart the VPN client and tell us if it helps."
    )
    outbound(channel)
    return channel


def last_comment(channel: EmailChannel, ticket_id: str = "T-000001") -> CommentAdded:
    comments = [e for e in channel.desk.history(ticket_id) if isinstance(e, CommentAdded)]
    return comments[-1]


def test_a_new_message_opens_a_ticket_without_its_signature(channel: EmailChannel) -> None:
    opened = channel.desk.history("T-000001")[0]
    assert isinstance(opened, TicketOpened)
    assert opened.subject == "VPN drops every few minutes"
    assert opened.channel.value == "email"
    assert "disconnects every five minutes" in opened.description
    assert "+49 30" not in opened.description
    requester = channel.desk.get_requester(opened.requester)
    assert (requester.id, requester.name, requester.email) == (
        "ada@example.org",
        "Ada Lovelace",
        "ada@example.org",
    )


@pytest.mark.parametrize(
    ("name", "kept", "dropped"),
    [
        ("gmail_reply.eml", "I restarted the client, it still drops.", "Please restart"),
        ("outlook_reply.eml", "It happens on the office Wi-Fi as well.", "Please restart"),
        ("outlook_original_message.eml", "The log says “authentication timeout”.", "Sent:"),
        ("apple_mail_reply.eml", "Now it works from home \u2013 thanks!", "Sent from my iPhone"),
        ("thunderbird_reply.eml", "Grüße aus Köln: seit dem Update läuft alles.", "Ada Lovelace"),
    ],
)
def test_client_replies_thread_onto_the_ticket_without_history(
    channel: EmailChannel, name: str, kept: str, dropped: str
) -> None:
    result = channel.receive(corpus(name))
    assert result.action == "replied", result.reason
    assert result.ticket_id == "T-000001"
    assert result.message_id is not None and result.message_id.startswith("<")
    comment = last_comment(channel)
    assert comment.by.is_requester and comment.public
    assert comment.body.startswith(kept)
    assert dropped not in comment.body
    assert "wrote:" not in comment.body and "schrieb" not in comment.body
    assert ">" not in comment.body


def test_outlook_reply_keeps_two_lines_and_drops_the_header_block(channel: EmailChannel) -> None:
    channel.receive(corpus("outlook_reply.eml"))
    assert last_comment(channel).body == (
        "It happens on the office Wi-Fi as well.\n\nBest regards\nAda"
    )


def test_replies_thread_by_subject_token_alone(channel: EmailChannel) -> None:
    raw = corpus("gmail_reply.eml").replace(b"In-Reply-To:", b"X-Old-In-Reply-To:")
    raw = raw.replace(b"References:", b"X-Old-References:")
    assert channel.receive(raw).ticket_id == "T-000001"


def test_replies_thread_by_references_alone(channel: EmailChannel) -> None:
    raw = corpus("apple_mail_reply.eml")
    assert b"[#1]" not in raw
    assert channel.receive(raw).ticket_id == "T-000001"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("out_of_office.eml", "Auto-Submitted"),
        ("exchange_auto_reply.eml", "Auto-Submitted: auto-generated"),
        ("x_autoreply.eml", "X-Autoreply"),
        ("bounce.eml", "bounce"),
        ("mailing_list.eml", "List-Id"),
        ("precedence_bulk.eml", "Precedence"),
    ],
)
def test_automatic_mail_is_ignored_and_sends_nothing(
    channel: EmailChannel, name: str, reason: str
) -> None:
    version = channel.desk.get("T-000001").version
    tickets = channel.desk.search().total
    result = channel.receive(corpus(name))
    assert result.action == "ignored"
    assert reason in result.reason
    assert channel.desk.get("T-000001").version == version
    assert channel.desk.search().total == tickets
    assert outbound(channel) == []


def test_html_only_mail_becomes_readable_text() -> None:
    channel = make_channel(category=None)
    result = channel.receive(corpus("html_only.eml"))
    assert result.action == "opened"
    ticket = channel.desk.get(result.ticket_id or "")
    assert ticket.subject == "Printer on floor 3 prints blank pages"
    assert ticket.description == (
        "Hello,\n\n"
        "the printer PRN-3F prints blank pages since Friday.\n\n"
        "- toner replaced\n"
        "- restarted\n\n"
        "See the wiki (https://wiki.example.org/printers).\n\n"
        "Grace Hopper\n"
        "Compilers"
    )
    assert "alert(1)" not in ticket.description and "color" not in ticket.description


def test_attachments_are_listed_for_the_application() -> None:
    channel = make_channel(category=None)
    result = channel.receive(corpus("attachments.eml"))
    assert result.action == "opened"
    names = [(a.name, a.content_type) for a in result.attachments]
    assert names == [("screenshot.png", "image/png"), ("Fehlerbericht März.pdf", "application/pdf")]
    png = result.attachments[0]
    assert png.size == len(png.content) == 72
    assert png.content.startswith(b"\x89PNG")
    import hashlib

    assert png.sha256 == hashlib.sha256(png.content).hexdigest()
    ticket = channel.desk.get(result.ticket_id or "")
    assert ticket.description == "The SAP client shows this error, screenshot and report attached."


def test_windows_1252_and_encoded_words() -> None:
    channel = make_channel(category=None)
    result = channel.receive(corpus("windows1252.eml"))
    ticket = channel.desk.get(result.ticket_id or "")
    assert ticket.subject == "Rechnung über 100 € \u2013 falscher Betrag"
    assert ticket.description == "Die Rechnung „Q1“ zeigt 100 € statt 80 €."
    requester = channel.desk.get_requester(ticket.requester)
    assert requester.name == "Renée Müller"


def test_flowed_text_is_read_as_the_paragraphs_it_was_written_in() -> None:
    """Thunderbird and Apple Mail send ``format=flowed`` text (RFC 3676): a line ending
    in a space goes on in the next one, a leading space is stuffing, and with
    ``delsp=yes`` the space before the break was added by the wrapping. The paragraphs
    are read back as written, not cut into 72-character lines, and the signature line
    ``-- `` still ends the text."""
    channel = make_channel(category=None)
    raw = (
        b"From: ada@example.org\nSubject: VPN\nMessage-ID: <flowed@example.org>\n"
        b"Content-Type: text/plain; charset=utf-8; format=flowed\n\n"
        b"Since this morning the VPN disconnects every five minutes, also on the \n"
        b"office network. \n"
        b" From the logs:\n"
        b"\n"
        b"timeout\n"
        b"-- \n"
        b"Ada\n"
    )
    opened = channel.receive(raw)
    assert channel.desk.get(opened.ticket_id or "").description == (
        "Since this morning the VPN disconnects every five minutes, also on the "
        "office network. From the logs:\n\ntimeout"
    )
    text = "\u65e5\u672c\u8a9e\u306e\u9577\u3044\u6587\u7ae0\u3067\u3059\u3002"
    apple = (
        b"From: taro@example.jp\nSubject: VPN\nMessage-ID: <delsp@example.jp>\n"
        b"Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\n\n"
        + text[:6].encode() + b" \n" + text[6:].encode() + b"\n"
    )
    opened = channel.receive(apple)
    assert channel.desk.get(opened.ticket_id or "").description == text


def test_mixed_encoded_words_and_8bit_latin1() -> None:
    channel = make_channel(category=None)
    result = channel.receive(corpus("latin1_encoded_subject.eml"))
    ticket = channel.desk.get(result.ticket_id or "")
    assert ticket.subject == "プリンターが動きません (Drücker)"
    assert ticket.description == "Der Drucker im 2. Stock druckt nicht. Grüße"
    requester = channel.desk.get_requester(ticket.requester)
    assert (requester.id, requester.name) == ("yamada@example.jp", "山田")


def test_thunderbird_content_language_sets_a_new_requesters_language() -> None:
    channel = make_channel(category=None)
    raw = corpus("thunderbird_reply.eml").replace(b"In-Reply-To", b"X-Was")
    raw = raw.replace(b"[#1] ", b"")
    result = channel.receive(raw)
    assert result.action == "opened"
    ticket = channel.desk.get(result.ticket_id or "")
    assert channel.desk.get_requester(ticket.requester).language == "de"


def test_every_text_part_counts_and_attached_files_and_messages_are_attachments() -> None:
    from email.mime.image import MIMEImage
    from email.mime.message import MIMEMessage
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    channel = make_channel(category=None)
    split = MIMEMultipart("mixed")  # Apple Mail: text, an inline image, more text
    split["From"], split["Subject"] = "Cy <cy@example.org>", "Screen flickers"
    split.attach(MIMEText("My screen flickers, screenshot:\n", "plain"))
    image = MIMEImage(b"\x89PNG\r\n\x1a\n" + b"0" * 20, "png")
    image.add_header("Content-Disposition", "inline", filename="s.png")
    split.attach(image)
    log = MIMEText("FATAL 0xdeadbeef\n", "plain")
    log.add_header("Content-Disposition", "inline", filename="crash.log")
    split.attach(log)
    split.attach(MIMEText("\nIt started after driver 551.23.\n", "plain"))
    result = channel.receive(split.as_bytes())
    assert channel.desk.get(result.ticket_id or "").description == (
        "My screen flickers, screenshot:\n\nIt started after driver 551.23."
    )
    assert [a.name for a in result.attachments] == ["s.png", "crash.log"]

    forwarded = MIMEMultipart("mixed")  # "forward as attachment", with an HTML body
    forwarded["From"], forwarded["Subject"] = "Ed <ed@example.org>", "Phishing?"
    forwarded.attach(MIMEText("<p>Is the attached mail phishing?</p>", "html"))
    inner = MIMEText("Verify your password at http://evil.example\n", "plain")
    inner["Subject"] = "Verify"
    forwarded.attach(MIMEMessage(inner))
    result = channel.receive(forwarded.as_bytes())
    assert channel.desk.get(result.ticket_id or "").description == (
        "Is the attached mail phishing?"
    )
    [eml] = result.attachments
    assert (eml.name, eml.content_type) == ("Verify.eml", "message/rfc822")
    assert b"evil.example" in eml.content


def test_raw_8bit_headers_and_a_lost_boundary_keep_their_text() -> None:
    channel = make_channel(category=None)
    raw = (
        b"From: J\xfcrgen M\xfcller <jm@example.de>\r\nSubject: Drucker im B\xfcro\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nGr\xfc\xdfe\r\n"
    )
    ticket = channel.desk.get(channel.receive(raw).ticket_id or "")
    assert ticket.subject == "Drucker im Büro"
    assert channel.desk.get_requester(ticket.requester).name == "Jürgen Müller"
    broken = (
        b"From: ada@example.org\r\nSubject: printer\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="----=_Part_1"\r\n\r\n'
        b"The printer on floor 3 shows error 50.4.\r\n"
    )
    ticket = channel.desk.get(channel.receive(broken).ticket_id or "")
    assert ticket.description == "The printer on floor 3 shows error 50.4."


def test_odd_single_parts_and_headers() -> None:
    from email.mime.text import MIMEText

    channel = make_channel(category=None)
    named = MIMEText("Body of a one-part mail with a file name.\n", "plain")
    named["From"], named["Subject"] = "Fay <fay@example.org>", "Named part"
    named.add_header("Content-Disposition", "inline", filename="message.txt")
    result = channel.receive(named.as_bytes())
    assert channel.desk.get(result.ticket_id or "").description == (
        "Body of a one-part mail with a file name."
    )
    assert result.attachments == ()
    parts_inside = (
        b"From: gus@example.org\r\nSubject: lost boundary\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="gone"\r\n\r\n'
        b"--other\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n"
    )
    result = channel.receive(parts_inside)
    assert channel.desk.get(result.ticket_id or "").description == ""  # no raw MIME as text
    mixed = (
        b"From: =?utf-8?q?J=C3=BCrgen?= M\xfcller <jm@example.de>\r\n"
        b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= und M\xe4rz\r\n\r\nHallo\r\n"
    )
    ticket = channel.desk.get(channel.receive(mixed).ticket_id or "")
    assert ticket.subject == "Grüße und März"
    assert channel.desk.get_requester(ticket.requester).name == "Jürgen Müller"


def test_an_invitation_is_kept_as_a_file_and_other_text_as_the_body() -> None:
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Laptop hand-over\r\nEND:VEVENT\r\n"
    channel = make_channel(category=None)
    invitation = MIMEMultipart("alternative")  # Outlook: text, HTML, the invitation
    invitation["From"], invitation["Subject"] = "Gus <gus@example.org>", "Hand-over"
    invitation.attach(MIMEText("Can we meet on Friday to hand over the laptop?\n", "plain"))
    invitation.attach(MIMEText("<p>Can we meet on Friday?</p>", "html"))
    invitation.attach(MIMEText(ics, "calendar"))
    result = channel.receive(invitation.as_bytes())
    ticket = channel.desk.get(result.ticket_id or "")
    assert ticket.description == "Can we meet on Friday to hand over the laptop?"
    [invite] = result.attachments
    assert (invite.name, invite.content_type) == ("part-3.ics", "text/calendar")
    assert b"Laptop hand-over" in invite.content

    alone = MIMEText(ics, "calendar")  # an invitation and nothing else
    alone["From"], alone["Subject"] = "Gus <gus@example.org>", "Hand-over (2)"
    result = channel.receive(alone.as_bytes())
    assert result.action == "opened"
    assert [a.name for a in result.attachments] == ["part-0.ics"]

    markdown = MIMEText("Printer **jams** on floor 3.\n", "markdown")
    markdown["From"], markdown["Subject"] = "Gus <gus@example.org>", "Printer"
    result = channel.receive(markdown.as_bytes())
    assert channel.desk.get(result.ticket_id or "").description == "Printer **jams** on floor 3."
    assert result.attachments == ()


@pytest.mark.parametrize("kind", ["enriched", "richtext", "watch-html", "x-amp-html"])
def test_another_rendering_of_the_body_is_not_a_file(kind: str) -> None:
    """A multipart/alternative offers one text in several forms: besides plain and HTML,
    enriched text (older Apple Mail, Eudora), an Apple Watch or an AMP rendering. They are
    not files; an invitation among the alternatives still is."""
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    channel = make_channel(category=None)
    message = MIMEMultipart("alternative")
    message["From"], message["Subject"] = "Gus <gus@example.org>", "Printer"
    message.attach(MIMEText("The printer jams on floor 3.\n", "plain"))
    message.attach(MIMEText("<bold>The printer</bold> jams on floor 3.\n", kind))
    message.attach(MIMEText("<p>The printer jams on floor 3.</p>", "html"))
    message.attach(MIMEText("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "calendar"))
    result = channel.receive(message.as_bytes())
    assert channel.desk.get(result.ticket_id or "").description == "The printer jams on floor 3."
    assert [(a.name, a.content_type) for a in result.attachments] == [
        ("part-4.ics", "text/calendar")
    ]


def test_a_text_part_with_a_malformed_content_type_is_still_the_body() -> None:
    """``text/plain charset=utf-8`` (no semicolon) is plain text with a broken parameter,
    not a file of type "text/plain charset=utf-8"."""
    channel = make_channel(category=None)
    raw = (
        b"From: Gus <gus@example.org>\r\nSubject: Printer\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain charset=utf-8\r\n\r\nThe printer jams.\r\n"
        b"--XX\r\nContent-Type: text/csv\r\n\r\npage,count\r\n1,2\r\n--XX--\r\n"
    )
    result = channel.receive(raw)
    assert channel.desk.get(result.ticket_id or "").description == "The printer jams."
    assert [(a.name, a.content_type) for a in result.attachments] == [("part-2.csv", "text/csv")]


def _with_file(
    disposition: bytes, content_type: bytes = b"Content-Type: application/octet-stream"
) -> bytes:
    return (
        b"From: ada@example.org\nSubject: Log attached\n"
        b"Content-Type: multipart/mixed; boundary=zz\n\n"
        b"--zz\nContent-Type: text/plain\n\nThe log is attached.\n"
        b"--zz\n" + content_type + b"\n" + disposition + b"\n"
        b"Content-Transfer-Encoding: base64\n\naGVsbG8=\n--zz--\n"
    )


@pytest.mark.parametrize(
    ("disposition", "name"),
    [
        (b'Content-Disposition: attachment; filename=".."', "part-2"),
        (b'Content-Disposition: attachment; filename="."', "part-2"),
        (b'Content-Disposition: attachment; filename=" .. "', "part-2"),
        (b'Content-Disposition: attachment; filename="../../etc/passwd"', ".._.._etc_passwd"),
        (b"Content-Disposition: attachment; filename=\"a\x07b\x1b[31m.log\"", "a b [31m.log"),
        (
            b"Content-Disposition: attachment; filename*=utf-8''invoice%E2%80%AEfdp.exe",
            "invoicefdp.exe",
        ),
        (
            b'Content-Disposition: attachment; filename="' + b"x" * 5000 + b'.log"',
            "x" * 96 + ".log",
        ),
        (b'Content-Disposition: attachment; filename="' + b"y" * 5000 + b'"', "y" * 100),
        # RFC 2047 words in a file name (not allowed there, written anyway) are decoded
        # where they stand: no blank before the extension, none between two words.
        (b'Content-Disposition: attachment; filename="=?utf-8?B?5pel5pys6Kqe?=.pdf"', "日本語.pdf"),
        (
            b'Content-Disposition: attachment; filename="=?utf-8?q?R=C3=A4chnung?= '
            b'=?iso-8859-1?q?_M=E4rz.pdf?="',
            "Rächnung März.pdf",
        ),
        (
            b'Content-Disposition: attachment; filename="=?x-unknown?q?Rechnung.pdf?="',
            "Rechnung.pdf",
        ),
    ],
)
def test_an_attachment_name_is_one_plain_path_component(disposition: bytes, name: str) -> None:
    channel = make_channel(category=None)
    result = channel.receive(_with_file(disposition))
    assert result.action == "opened"
    assert [a.name for a in result.attachments] == [name]


@pytest.mark.parametrize(
    ("subject", "name"),
    [
        ("Verify", "Verify.eml"),
        ("Fwd: " + "quarterly report " * 10, "Fwd: " + ("quarterly report " * 6)[:91] + ".eml"),
        ("Invoice 2026.03 " + "z" * 200, "Invoice 2026.03 " + "z" * 80 + ".eml"),
        ("../../etc/passwd", ".._.._etc_passwd.eml"),
        ("", "message-2.eml"),
    ],
)
def test_an_attached_message_is_named_within_the_limit_of_file_names(
    subject: str, name: str
) -> None:
    """``<subject>.eml`` obeys the rules of every attachment name: at most 100
    characters, the extension kept."""
    from email.mime.message import MIMEMessage
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    outer = MIMEMultipart("mixed")
    outer["From"], outer["Subject"] = "Ed <ed@example.org>", "Phishing?"
    outer.attach(MIMEText("Is the attached mail phishing?", "plain"))
    inner = MIMEText("Verify your password\n", "plain")
    inner["Subject"] = subject
    outer.attach(MIMEMessage(inner))
    result = make_channel(category=None).receive(outer.as_bytes())
    [eml] = result.attachments
    assert eml.name == name
    assert len(eml.name) <= 100


@pytest.mark.parametrize(
    ("subject", "name"),
    [
        (b"Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln", "Grüße aus Köln.eml"),
        (b"Gr\xfc\xdfe aus K\xf6ln", "Grüße aus Köln.eml"),
        (b"=?x-unknown?q?Rechnung?=", "Rechnung.eml"),
        (b"Re: =?utf-8?q?M=C3=A4rz?= \xc3\xbcbersicht", "Re: März übersicht.eml"),
    ],
    ids=["raw-utf-8", "raw-windows-1252", "unknown-charset", "encoded-beside-raw"],
)
def test_an_attached_message_subject_is_read_like_the_headers(subject: bytes, name: str) -> None:
    raw = (
        b"From: ed@example.org\nSubject: Phishing?\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/mixed; boundary=zz\n\n"
        b"--zz\nContent-Type: text/plain\n\nIs the attached mail phishing?\n"
        b"--zz\nContent-Type: message/rfc822\n\n"
        b"From: bank@example.net\nSubject: " + subject + b"\n\nVerify your password\n--zz--\n"
    )
    [eml] = make_channel(category=None).receive(raw).attachments
    assert eml.name == name


@pytest.mark.parametrize(
    "disposition",
    [
        b'Content-Disposition: attachment; filename="R\xc3\xa9sum\xc3\xa9 M\xc3\xa4rz.pdf"',
        b'Content-Disposition: attachment; filename="R\xe9sum\xe9 M\xe4rz.pdf"',
        b"Content-Disposition: attachment",
    ],
    ids=["utf-8", "windows-1252", "content-type-name"],
)
def test_a_file_name_written_as_raw_8bit_text_is_read_like_the_headers(
    disposition: bytes,
) -> None:
    channel = make_channel(category=None)
    content_type = b"Content-Type: application/pdf"
    if b"filename" not in disposition:  # only Content-Type names the file
        content_type += b'; name="R\xc3\xa9sum\xc3\xa9 M\xc3\xa4rz.pdf"'
    result = channel.receive(_with_file(disposition, content_type))
    assert [a.name for a in result.attachments] == ["Résumé März.pdf"]
