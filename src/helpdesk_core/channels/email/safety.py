"""Loop safety: which messages were sent by machines, and a per-sender rate limit.

A helpdesk that answers an out-of-office reply with an acknowledgement, which the other
side answers again, fills both mailboxes in minutes. :func:`automatic_reason` recognises
auto-replies, bounces and list traffic by their headers (RFC 3834 ``Auto-Submitted``,
``Precedence``, ``X-Autoreply``, RFC 2369/2919 list headers, RFC 3464 delivery reports,
the null return path); :class:`RateLimiter` stops whatever slips through.

Microsoft's ``X-Auto-Response-Suppress`` is not among them: it asks the receiver not to
answer automatically, and Exchange and Outlook write it on mail people send too. An
Exchange out-of-office reply carries ``Auto-Submitted`` as well.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import Message
from email.utils import getaddresses

from helpdesk_core._time import ensure_aware, to_timedelta
from helpdesk_core.channels.email.threads import (
    check_domain,
    message_ids_in,
    parse_message_id,
)
from helpdesk_core.errors import ValidationError

__all__ = ["LOOP_HEADER", "RateLimiter", "automatic_reason"]

#: Header stamped on every message the desk sends; seeing it inbound means a loop.
LOOP_HEADER = "X-Helpdesk-Event"

_COMMENT = re.compile(r"\([^()]*\)")
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})
_BOUNCE_SENDERS = frozenset({"mailer-daemon", "postmaster"})
_REPORT_TYPES = frozenset(
    {"multipart/report", "message/delivery-status", "message/disposition-notification"}
)


def automatic_reason(
    message: Message, header: Callable[[str], str | None], *, domain: str | None = None
) -> str | None:
    """Why ``message`` must not open a ticket or get an answer (None: a person wrote it).

    ``header(name)`` returns a header's text (None when absent); the caller decides how
    tolerant header decoding is. With the desk's Message-ID ``domain``, the loop header
    counts on a message the desk made (its ``Message-ID`` is one of the desk's) only:
    another desk of this library writes the header too, on its agents' replies, which
    people wrote (its automatic mail carries ``Auto-Submitted``)."""
    if not isinstance(message, Message):
        raise ValidationError(
            f"expected an email.message.Message, got {type(message).__name__}", field="message"
        )
    if not callable(header):
        raise ValidationError("header must be callable: name -> text or None", field="header")
    if domain is not None:
        domain = check_domain(domain)
    auto = header("Auto-Submitted")
    # RFC 3834: a keyword, then optional parameters (after ";") and comments ("(...)").
    if auto is not None and _COMMENT.sub(" ", auto).split(";")[0].strip().lower() not in ("", "no"):
        return f"automatic message (Auto-Submitted: {auto.strip()[:60]})"
    precedence = header("Precedence")
    if precedence is not None and precedence.strip().lower() in _BULK_PRECEDENCE:
        return f"bulk or automatic message (Precedence: {precedence.strip()})"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if header(name) is not None:
            return f"automatic reply ({name})"
    for name in ("List-Id", "List-Unsubscribe"):
        if header(name) is not None:
            return f"mailing-list message ({name})"
    if header(LOOP_HEADER) is not None and (domain is None or _made_here(header, domain)):
        return f"a message sent by the helpdesk itself ({LOOP_HEADER})"
    if _is_delivery_report(message):
        return "delivery status report (bounce)"
    return_path = header("Return-Path")
    if return_path is not None and return_path.strip() in ("", "<>"):
        return "null return path (bounce or automatic message)"
    if _from_mailer_daemon(header("From") or ""):
        return "delivery status report from a mailer daemon"
    return None


def _from_mailer_daemon(sender: str) -> bool:
    """Whether ``From`` is a mailer daemon's mailbox (``MAILER-DAEMON@``, ``postmaster@``):
    the address itself, not a display name that quotes one or an address ending in one
    (``jo.postmaster@``), which are people's."""
    try:
        pairs = getaddresses([sender])
    except Exception:  # a From no parser reads is no evidence of a bounce
        return False
    return any(
        address.strip().strip("<>").rpartition("@")[0].strip().lower() in _BOUNCE_SENDERS
        for _, address in pairs
    )


def _made_here(header: Callable[[str], str | None], domain: str) -> bool:
    """Whether the message's ``Message-ID`` is one the desk made for ``domain``."""
    return any(
        parse_message_id(mid, domain=domain) is not None
        for mid in message_ids_in([header("Message-ID")])
    )


def _is_delivery_report(message: Message) -> bool:
    """True when the message itself is a delivery or read report. Only its own parts
    count: a report inside an attached message (a bounce a person forwards as an
    attachment) is that message's, and the person's mail is no bounce."""
    try:
        parts = [message]
        while parts:
            part = parts.pop()
            content_type = part.get_content_type()
            if content_type in _REPORT_TYPES:
                return True
            payload = part.get_payload()
            if part.get_content_maintype() == "multipart" and isinstance(payload, list):
                parts.extend(p for p in payload if isinstance(p, Message))
        return False
    except Exception:  # a broken MIME tree is not evidence of a bounce
        return False


class RateLimiter:
    """At most ``max_messages`` accepted per sender within a sliding ``per`` window.

    In memory, per process, safe to share between threads; time comes in as an argument,
    so tests and simulations drive it. ``allow(sender, now)`` records the message when it
    is let through."""

    def __init__(self, *, max_messages: int = 10, per: timedelta | str | int = "10m") -> None:
        if isinstance(max_messages, bool) or not isinstance(max_messages, int) or max_messages < 1:
            raise ValidationError(
                f"max_messages is a whole number >= 1, got {max_messages!r}", field="max_messages"
            )
        window = to_timedelta(per, field="per")
        if window <= timedelta(0):
            raise ValidationError("per must be a positive duration", field="per")
        self.max_messages = max_messages
        self.per = window
        self._seen: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def allow(self, sender: str, now: datetime) -> bool:
        """True (and counted) if ``sender`` is under the limit at ``now``."""
        now = ensure_aware(now, field="now")
        key = _sender_key(sender)
        cutoff = self._cutoff(now)
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and cutoff is not None and seen[0] <= cutoff:
                seen.popleft()
            if len(seen) >= self.max_messages:
                return False
            seen.append(now)
            if len(self._seen) > 10_000:
                self._forget(now)
            return True

    def take_back(self, sender: str, at: datetime) -> None:
        """Uncount a message :meth:`allow` let through at ``at`` that was not accepted in
        the end (ignored, rejected, or failed): the limit counts accepted messages."""
        key = _sender_key(sender)
        with self._lock:
            seen = self._seen.get(key)
            if not seen:
                return
            for index in range(len(seen) - 1, -1, -1):
                if seen[index] == at:
                    del seen[index]
                    return

    def _forget(self, now: datetime) -> None:
        cutoff = self._cutoff(now)
        for key in [
            k for k, v in self._seen.items() if not v or (cutoff is not None and v[-1] <= cutoff)
        ]:
            del self._seen[key]

    def _cutoff(self, now: datetime) -> datetime | None:
        """The last instant out of the window at ``now``; None before the first instant."""
        try:
            return now - self.per
        except OverflowError:
            return None

    def __repr__(self) -> str:
        return f"RateLimiter(max_messages={self.max_messages}, per={self.per!r})"


def _sender_key(sender: object) -> str:
    if not isinstance(sender, str):
        raise ValidationError(
            f"sender is an e-mail address, got {type(sender).__name__}", field="sender"
        )
    return sender.strip().lower()
