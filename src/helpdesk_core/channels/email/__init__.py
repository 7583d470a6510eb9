"""The email channel: inbound mail becomes tickets and replies, desk events become mail.

>>> from helpdesk_core.channels.email import EmailChannel, EmailSettings
>>> EmailSettings(address="support@example.com").message_domain
'example.com'

See ``docs/email.md``. Only the standard library's ``email`` package is used; sending
(SMTP, an API) stays with the application: pass a ``send`` callable to :func:`deliver`.
"""

from helpdesk_core.channels.email.channel import EmailChannel
from helpdesk_core.channels.email.delivery import DeliveryReport, deliver
from helpdesk_core.channels.email.inbound import (
    InboundResult,
    ReadMail,
    free_requester_id,
    read_mail,
    receive,
    requester_id_for,
)
from helpdesk_core.channels.email.mime import Attachment
from helpdesk_core.channels.email.outbound import compose, describe_due
from helpdesk_core.channels.email.safety import LOOP_HEADER, RateLimiter, automatic_reason
from helpdesk_core.channels.email.settings import EmailSettings
from helpdesk_core.channels.email.templates import DEFAULT_TEMPLATES, Templates
from helpdesk_core.channels.email.text import (
    clean_reply,
    html_to_text,
    strip_quotes,
    strip_signature,
)
from helpdesk_core.channels.email.threads import (
    SubjectToken,
    ThreadRef,
    message_id_for,
    parse_message_id,
    root_message_id,
)

__all__ = [
    "DEFAULT_TEMPLATES",
    "LOOP_HEADER",
    "Attachment",
    "DeliveryReport",
    "EmailChannel",
    "EmailSettings",
    "InboundResult",
    "RateLimiter",
    "ReadMail",
    "SubjectToken",
    "Templates",
    "ThreadRef",
    "automatic_reason",
    "clean_reply",
    "compose",
    "deliver",
    "describe_due",
    "free_requester_id",
    "html_to_text",
    "message_id_for",
    "parse_message_id",
    "read_mail",
    "receive",
    "requester_id_for",
    "root_message_id",
    "strip_quotes",
    "strip_signature",
]
