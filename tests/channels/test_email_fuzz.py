"""Whatever bytes arrive, inbound processing raises nothing but HelpdeskError."""

from __future__ import annotations

from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_email_support import corpus, make_channel

from helpdesk_core.channels.email import EmailChannel, InboundResult
from helpdesk_core.errors import HelpdeskError

HEADER_NAMES = [
    "From", "Reply-To", "Sender", "Subject", "Message-ID", "In-Reply-To", "References",
    "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted",
    "Precedence", "List-Id", "Return-Path", "Content-Language", "MIME-Version",
]  # fmt: skip

header_values = st.one_of(
    st.binary(max_size=120),
    st.sampled_from(
        [
            b"Ada <ada@example.org>",
            b"=?utf-8?b?!!!?= <x@y.z>",
            b"=?x-unknown?q?abc?= <x@y.z>",
            b'multipart/mixed; boundary="b"',
            b"multipart/report; report-type=delivery-status",
            b'text/plain; charset="bogus-8"',
            b"text/html; charset=utf-16",
            b"base64",
            b"quoted-printable",
            b"attachment; filename*=utf-8''%FF%FE",
            b"<ticket-T-000001-1@desk.example.com>",
            b"[#1] Re: x",
            b"<>",
            b"no",
        ]
    ),
)
headers = st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_values), max_size=12)
bodies = st.one_of(
    st.binary(max_size=600),
    st.sampled_from(
        [
            b"--b\nContent-Type: text/plain\n\nhi\n--b--\n",
            b"--b\nContent-Type: text/html\n\n<p>hi</p><blockquote>x\n--b",
            b"PGh0bWw+",
            b"=E2=80=93 =ZZ =\n",
        ]
    ),
)


_CHANNEL: list[EmailChannel] = []


def _channel() -> EmailChannel:
    """One desk for all examples (building the example desk is the slow part); each
    example's outcome does not depend on what earlier examples left behind."""
    if not _CHANNEL:
        channel = make_channel(category=None, rate_limit=1_000_000)
        channel.receive(corpus("new_ticket.eml"))
        _CHANNEL.append(channel)
    return _CHANNEL[0]


def _check(channel: EmailChannel, raw: bytes) -> None:
    try:
        result = channel.receive(raw)
    except HelpdeskError:
        return
    assert isinstance(result, InboundResult)
    assert result.action in ("opened", "replied", "ignored", "rejected")


@settings(max_examples=250, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(headers=headers, body=bodies)
def test_arbitrary_headers_and_bodies_raise_only_helpdesk_errors(
    headers: list[tuple[str, bytes]], body: bytes
) -> None:
    raw = b"".join(name.encode() + b": " + value + b"\r\n" for name, value in headers)
    _check(_channel(), raw + b"\r\n" + body)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=2_000))
def test_arbitrary_bytes_raise_only_helpdesk_errors(raw: bytes) -> None:
    _check(_channel(), raw)


@settings(max_examples=100, deadline=None)
@given(subject=st.text(max_size=300), body=st.text(max_size=2_000), name=st.text(max_size=40))
def test_arbitrary_text_through_a_built_message(subject: str, body: str, name: str) -> None:
    message = EmailMessage()
    try:
        message["From"] = f'"{name}" <ada@example.org>'
        message["Subject"] = subject
        message.set_content(body)
    except (ValueError, TypeError):
        return  # the email package refuses to build it; nothing to feed
    try:
        result = _channel().receive(message)
    except HelpdeskError:
        return
    assert result.action in ("opened", "replied", "ignored", "rejected")
