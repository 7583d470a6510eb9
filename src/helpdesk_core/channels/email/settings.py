"""The email channel's configuration: one immutable value, checked when built."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import evolve, field, fields, frozen

from helpdesk_core._time import to_timedelta
from helpdesk_core.channels.email.templates import Templates
from helpdesk_core.channels.email.threads import SubjectToken, check_domain
from helpdesk_core.errors import ConfigError, HelpdeskError, ValidationError

__all__ = ["EmailSettings"]

_FOREIGN = ("reject", "new_ticket")


def _address(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str):
        raise ConfigError(f"email.address must be text, got {type(value).__name__}")
    local, sep, host = value.partition("@")
    if not sep or not local or "@" in host or any(ch.isspace() for ch in value):
        raise ConfigError(f"email.address {value!r} is not an email address")


def _positive_int(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"email.{attribute.name} must be a whole number >= 1, got {value!r}")


def _window(value: Any) -> timedelta:
    try:
        window = to_timedelta(value, field="email.rate_window")
    except HelpdeskError as exc:
        raise ConfigError(str(exc)) from None
    if window <= timedelta(0):
        raise ConfigError("email.rate_window must be positive")
    return window


def _foreign(instance: Any, attribute: Any, value: Any) -> None:
    if value not in _FOREIGN:
        raise ConfigError(f"email.foreign_sender must be one of {_FOREIGN}, got {value!r}")


def _flag(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"email.{attribute.name} must be true or false, got {value!r}")


def _optional_text(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"email.{attribute.name} must be text, got {type(value).__name__}")


def _text(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str):
        raise ConfigError(f"email.{attribute.name} must be text, got {type(value).__name__}")


def _instance(cls: type, name: str) -> Any:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if not isinstance(value, cls):
            raise ConfigError(f"email.{name} must be a {cls.__name__}, got {type(value).__name__}")

    return check


def _timezone(instance: Any, attribute: Any, value: Any) -> None:
    if value is None:
        return
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise ConfigError(f"email.timezone {value!r:.80} is not an IANA time zone") from None


@frozen(kw_only=True)
class EmailSettings:
    """How the desk's mailbox behaves.

    - ``address``: the desk's mailbox (``From`` of what it sends; mail from it is ignored).
    - ``domain``: right-hand side of the Message-IDs it makes (default: the address's).
    - ``desk_name``: shown as sender name and in templates (default: the desk's name).
    - ``subject_token``: how the ticket number is written in and found in subjects.
    - ``max_bytes``: larger messages are refused (ValidationError).
    - ``rate_limit`` messages per ``rate_window`` per sender; more are rejected.
    - ``category``: category of tickets opened by mail (None: none).
    - ``ticket_type``: the type of tickets opened by mail (one of the desk's ticket types).
    - ``foreign_sender``: a threaded message from someone who is neither the ticket's
      requester nor an agent is ``"reject"``-ed (default) or opens a ``"new_ticket"``.
    - ``csat_url``: the rating link of the solve notice, with ``{ticket_id}``, ``{number}``
      and ``{domain}`` fields.
    - ``reply_marker``: a line put on top of messages people answer; text below it in a
      reply is history.
    - ``timezone``: zone for times shown to people (default: the desk's).
    - ``acknowledge``: send an acknowledgement when a ticket is opened (any channel, when
      the requester has an address).
    - ``problem_notice``: tell a ticket's requester when the problem it is linked to
      (``caused_by``) was solved and the ticket was only notified (``LinkedProblemSolved``
      with outcome ``notified``).
    - ``templates``: the message texts (:class:`Templates`).
    """

    address: str = field(validator=_address)
    domain: str | None = field(default=None, validator=_optional_text)
    desk_name: str | None = field(default=None, validator=_optional_text)
    subject_token: SubjectToken = field(
        factory=SubjectToken, validator=_instance(SubjectToken, "subject_token")
    )
    max_bytes: int = field(default=10 * 1024 * 1024, validator=_positive_int)
    rate_limit: int = field(default=10, validator=_positive_int)
    rate_window: timedelta = field(default=timedelta(minutes=10), converter=_window)
    category: str | None = field(default=None, validator=_optional_text)
    ticket_type: str = field(default="incident", validator=_text)
    foreign_sender: Literal["reject", "new_ticket"] = field(default="reject", validator=_foreign)
    csat_url: str = field(default="https://{domain}/csat/{ticket_id}", validator=_text)
    reply_marker: str = field(
        default="##- Please type your reply above this line -##", validator=_text
    )
    timezone: str | None = field(default=None, validator=_timezone)
    acknowledge: bool = field(default=True, validator=_flag)
    problem_notice: bool = field(default=True, validator=_flag)
    templates: Templates = field(factory=Templates, validator=_instance(Templates, "templates"))

    def __attrs_post_init__(self) -> None:
        domain = self.domain if self.domain is not None else self.address.rpartition("@")[2]
        try:
            object.__setattr__(self, "domain", check_domain(domain, field="email.domain"))
        except HelpdeskError:
            raise ConfigError(f"email.domain {domain!r} is not a host name") from None
        try:
            self.csat_url.format(ticket_id="T-1", number=1, domain="example.com")
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise ConfigError(
                f"email.csat_url {self.csat_url!r} may use {{ticket_id}}, {{number}} and "
                f"{{domain}} only ({exc!r})"
            ) from None
        if not isinstance(self.reply_marker, str) or not self.reply_marker.strip():
            raise ConfigError("email.reply_marker must be non-empty text")
        if not isinstance(self.templates, Templates):
            raise ConfigError("email.templates must be a Templates value")
        if not isinstance(self.subject_token, SubjectToken):
            raise ConfigError("email.subject_token must be a SubjectToken value")

    @property
    def message_domain(self) -> str:
        """The Message-ID domain (always set after construction)."""
        return self.domain or self.address.rpartition("@")[2]

    def replace(self, **changes: Any) -> EmailSettings:
        """A copy with ``changes`` applied (and checked)."""
        unknown = sorted(set(changes) - {a.alias for a in fields(EmailSettings) if a.init})
        if unknown:
            raise ConfigError("no such e-mail setting", path=f"email.{unknown[0]}")
        return evolve(self, **changes)


def check_channel_arguments(desk: object, settings: object) -> None:
    """Refuse, by name, a ``desk`` that is no ``Helpdesk`` or ``settings`` that are no
    ``EmailSettings``, before any message is read or any outbox item claimed."""
    from helpdesk_core.service import Helpdesk

    if not isinstance(desk, Helpdesk):
        raise ValidationError(f"desk must be a Helpdesk, got {type(desk).__name__}", field="desk")
    if not isinstance(settings, EmailSettings):
        raise ValidationError(
            f"settings must be EmailSettings, got {type(settings).__name__}", field="settings"
        )
