"""The email channel as one object: settings, a rate limiter, and the three verbs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage, Message

from helpdesk_core.channels.email.delivery import DeliveryReport, deliver
from helpdesk_core.channels.email.inbound import InboundResult, receive
from helpdesk_core.channels.email.outbound import compose
from helpdesk_core.channels.email.safety import RateLimiter
from helpdesk_core.channels.email.settings import EmailSettings
from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import Event
from helpdesk_core.service import Helpdesk

__all__ = ["EmailChannel"]


class EmailChannel:
    """A desk's mailbox: :meth:`receive` inbound mail, :meth:`compose` messages for an
    event, :meth:`deliver` the outbox through a ``send`` callable.

    The rate limiter lives as long as the channel object (in memory, per process)."""

    def __init__(
        self,
        desk: Helpdesk,
        settings: EmailSettings,
        *,
        limiter: RateLimiter | None = None,
    ) -> None:
        if not isinstance(desk, Helpdesk):
            raise ValidationError("desk must be a Helpdesk", field="desk")
        if not isinstance(settings, EmailSettings):
            raise ValidationError("settings must be EmailSettings", field="settings")
        if limiter is not None and not isinstance(limiter, RateLimiter):
            raise ValidationError(
                f"limiter must be a RateLimiter or None, got {type(limiter).__name__}",
                field="limiter",
            )
        category = desk.config.categories.get(settings.category or "")
        if (
            category is not None
            and category.on_missing.value == "refuse"
            and any(q.required for q in category.questions)
        ):
            raise ConfigError(
                f"category {category.name!r} refuses tickets without answers to its "
                "required questions, which a mail cannot give: every new mail would be "
                "refused (use a category that asks, or none)",
                path="category",
            )
        if settings.ticket_type not in desk.config.ticket_types:
            raise ConfigError(
                f"the desk has no ticket type {settings.ticket_type!r} (its types: "
                f"{', '.join(sorted(desk.config.ticket_types))}): every new mail would be "
                "refused",
                path="ticket_type",
            )
        self.desk = desk
        self.settings = settings
        self.limiter = limiter or RateLimiter(
            max_messages=settings.rate_limit, per=settings.rate_window
        )

    def receive(self, message: bytes | Message) -> InboundResult:
        """Apply one inbound message (see :func:`~helpdesk_core.channels.email.receive`)."""
        return receive(self.desk, message, settings=self.settings, limiter=self.limiter)

    def compose(self, event: Event, *, key: str) -> list[EmailMessage]:
        """The messages for one event with outbox id ``key``."""
        return compose(self.desk, event, key=key, settings=self.settings)

    def deliver(
        self,
        send: Callable[[EmailMessage], object],
        *,
        consumer: str = "email",
        limit: int = 100,
        lease: timedelta = timedelta(seconds=60),
        max_attempts: int = 10,
    ) -> DeliveryReport:
        """Deliver the outbox (see :func:`~helpdesk_core.channels.email.deliver`)."""
        return deliver(
            self.desk,
            send=send,
            settings=self.settings,
            consumer=consumer,
            limit=limit,
            lease=lease,
            max_attempts=max_attempts,
        )

    def __repr__(self) -> str:
        return f"EmailChannel(address={self.settings.address!r}, limiter={self.limiter!r})"
