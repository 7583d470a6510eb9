"""The desk's outbox delivered through Django's email backend.

helpdesk_core composes the messages (acknowledgement, agents' public replies, solve
notices, SLA alerts) as standard-library ``EmailMessage`` objects; :func:`django_message`
turns one into Django's, keeping the desk's ``Message-ID``, threading headers and the
``X-Helpdesk-Event`` idempotency key, and :func:`deliver_outbox` runs
``helpdesk_core.channels.email.deliver`` with ``EMAIL_BACKEND`` as the sender.
"""

from __future__ import annotations

from email.message import EmailMessage

from django.core import mail

from helpdesk_core import Helpdesk
from helpdesk_core.channels.email import DeliveryReport, EmailSettings, deliver
from helpdesk_django.desk import helpdesk_settings

__all__ = ["deliver_outbox", "django_message", "email_settings"]

# Headers Django writes itself from the message's fields.
_OWN = {"from", "to", "cc", "bcc", "reply-to", "subject", "content-type",
        "content-transfer-encoding", "mime-version"}  # fmt: skip


def email_settings() -> EmailSettings:
    """The desk's mailbox settings (``HELPDESK["EMAIL_ADDRESS"]``)."""
    return EmailSettings(address=helpdesk_settings()["EMAIL_ADDRESS"])


def django_message(message: EmailMessage) -> mail.EmailMessage:
    """A Django email with the same sender, recipients, subject, text and headers."""
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    return mail.EmailMessage(
        subject=str(message["Subject"] or ""),
        body=text,
        from_email=str(message["From"]),
        to=[str(address) for address in message.get_all("To", [])],
        cc=[str(address) for address in message.get_all("Cc", [])],
        reply_to=[str(address) for address in message.get_all("Reply-To", [])],
        headers={name: str(value) for name, value in message.items() if name.lower() not in _OWN},
    )


def _send(message: EmailMessage) -> None:
    # One backend connection per message: a failure is that item's, and is retried.
    if mail.get_connection().send_messages([django_message(message)]) == 0:
        raise OSError(f"the email backend did not send {message['Message-ID']}")


def deliver_outbox(desk: Helpdesk, *, consumer: str = "email", limit: int = 100) -> DeliveryReport:
    """Send the messages for every undelivered event of ``consumer``, at least once;
    failed items are released and come back on a later call."""
    return deliver(desk, send=_send, settings=email_settings(), consumer=consumer, limit=limit)
