"""Message-IDs, subject tokens, settings and the rate limiter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk_core.channels.email import (
    EmailSettings,
    RateLimiter,
    SubjectToken,
    Templates,
    message_id_for,
    parse_message_id,
    requester_id_for,
)
from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import Requester

ids = st.from_regex(r"\A[A-Za-z0-9_.:@+\-]{1,60}\Z")


@given(ticket_id=ids, version=st.integers(1, 10**9), n=st.integers(0, 999), internal=st.booleans())
def test_message_ids_round_trip(ticket_id: str, version: int, n: int, internal: bool) -> None:
    mid = message_id_for(ticket_id, version, domain="Desk.Example.com", n=n, internal=internal)
    assert mid.startswith("<") and mid.endswith("@desk.example.com>")
    local = mid[1:].split("@")[0]
    assert ".." not in local and not local.endswith(".")
    ref = parse_message_id(mid, domain="desk.example.com")
    assert ref is not None
    assert (ref.ticket_id, ref.version, ref.internal) == (ticket_id, version, internal)


@pytest.mark.parametrize(
    "value",
    [
        "<ticket-T-1-1@other.example.com>",
        "<something@desk.example.com>",
        "<ticket-T-1-x@desk.example.com>",
        "<ticket-=ZZ-1@desk.example.com>",
        "garbage",
        "",
    ],
)
def test_foreign_or_broken_message_ids_are_not_ours(value: str) -> None:
    assert parse_message_id(value, domain="desk.example.com") is None


def test_subject_token_default_and_custom() -> None:
    token = SubjectToken()
    assert token.render(42) == "[#42]"
    assert token.find("Re: AW: [#42] Printer") == 42
    assert token.strip("Re: AW: [#42] Printer") == "Printer"
    assert token.strip("Fwd: RE: Printer [#42]") == "Printer"
    custom = SubjectToken(format="[Ticket#{number}]", pattern=r"\[Ticket#(?P<number>\d+)\]")
    assert custom.find("Re: [Ticket#7] x") == 7
    assert custom.find("Re: [#7] x") is None


@pytest.mark.parametrize(
    "prefix",
    [
        "RES:", "ENC:", "RV:", "Odp:", "PD:", "V\u00c1:", "Tov:", "YNT:", "\u0130LT:", "VL:",
        "Doorst:", "\u56de\u590d\uff1a", "\u7b54\u590d:", "\u8f6c\u53d1:", "\u56de\u8986:",
        "\u8f49\u5bc4:", "\u0391\u03a0:", "\u03a0\u03a1\u0398:",
    ],
)
def test_reply_and_forward_prefixes_of_localised_mail_clients_are_stripped(prefix: str) -> None:
    """Outlook writes "Re:" and "Fw:" in its users' language (Portuguese "RES:", Polish
    "Odp:", Chinese "\u56de\u590d:" ...): a new ticket's subject, and a follow-up's that
    answers one of the desk's own subjects, start with the requester's words."""
    token = SubjectToken()
    prefixes = Templates().subject_prefixes()
    assert token.strip(f"{prefix} VPN drops") == "VPN drops"
    assert token.strip(f"{prefix} Solved: [#1] VPN drops", desk_prefixes=prefixes) == "VPN drops"


@pytest.mark.parametrize("subject", ["I: drive not mapped", "R: drive full", "FS: /var full"])
def test_a_drive_or_a_file_system_named_first_is_no_prefix(subject: str) -> None:
    assert SubjectToken().strip(subject) == subject


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"format": "[#]"}, "must contain"),
        ({"pattern": "(["}, "not a valid regex"),
        ({"pattern": r"\[#(\d+)\]"}, "named group"),
        ({"format": "{number}", "pattern": r"#(?P<number>\d+)"}, "does not find"),
    ],
)
def test_bad_subject_tokens_fail_when_built(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SubjectToken(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"address": "nope"}, "not an email address"),
        ({"address": "a@b.c", "domain": "bad domain"}, "not a host name"),
        ({"address": "a@b.c", "max_bytes": 0}, "max_bytes"),
        ({"address": "a@b.c", "rate_window": "-5m"}, "rate_window"),
        ({"address": "a@b.c", "foreign_sender": "ask"}, "foreign_sender"),
        ({"address": "a@b.c", "csat_url": "https://x/{user}"}, "csat_url"),
        ({"address": "a@b.c", "timezone": "Mars/Base"}, "timezone"),
    ],
)
def test_bad_settings_fail_when_built(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        EmailSettings(**kwargs)  # type: ignore[arg-type]


def test_settings_defaults() -> None:
    settings = EmailSettings(address="Help@Desk.Example.com")
    assert settings.message_domain == "desk.example.com"
    assert settings.rate_window == timedelta(minutes=10)
    assert settings.replace(rate_limit=3).rate_limit == 3


def test_rate_limiter_uses_a_sliding_window() -> None:
    limiter = RateLimiter(max_messages=2, per="10m")
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert limiter.allow("A@x.org", t0)
    assert limiter.allow("a@x.org", t0 + timedelta(minutes=1))
    assert not limiter.allow("a@x.org", t0 + timedelta(minutes=2))
    assert limiter.allow("b@x.org", t0 + timedelta(minutes=2))
    assert limiter.allow("a@x.org", t0 + timedelta(minutes=10))
    with pytest.raises(ValidationError):
        limiter.allow("a@x.org", datetime(2026, 3, 2, 9))
    with pytest.raises(ValidationError, match="max_messages"):
        RateLimiter(max_messages=0)


@given(st.emails())
def test_requester_ids_from_addresses_are_valid_and_distinct(address: str) -> None:
    rid = requester_id_for(address)
    Requester(id=rid, email=address)
    other = requester_id_for("x" + address)
    assert other != rid


def test_requester_ids_of_odd_addresses_get_a_hash() -> None:
    assert requester_id_for("Ada@Example.org") == "ada@example.org"
    odd = requester_id_for("o'brien@example.org")
    assert odd.startswith("o_brien@example.org-") and odd != requester_id_for("o_brien@example.org")


def test_a_message_domain_with_a_line_break_is_refused_when_configured() -> None:
    # Not only once the first message is built: every header would refuse it.
    with pytest.raises(ConfigError, match="host name"):
        EmailSettings(address="help@desk.example.com", domain="desk.example.com\n")
    with pytest.raises(ValidationError, match="host name"):
        message_id_for("T-1", 1, domain="desk.example.com\n")
