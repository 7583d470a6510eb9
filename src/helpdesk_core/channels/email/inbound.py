"""Inbound mail → ``desk.open`` / ``desk.reply``.

:func:`read_mail` turns a raw message into a :class:`ReadMail` (nothing touches the desk
yet, and any defect is a ``ValidationError``); :func:`receive` decides what it means: an
automatic message to ignore, a sender over the rate limit, a reply to thread onto a
ticket (by the subject token, then by ``In-Reply-To`` / ``References``), or a new ticket.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
from datetime import datetime
from email.message import Message
from typing import Literal

from attrs import frozen

from helpdesk_core.channels.email.domains import ascii_domain, unicode_domain
from helpdesk_core.channels.email.mime import (
    Attachment,
    MailText,
    body_text,
    header,
    load_message,
    raw_header,
    sender_of,
)
from helpdesk_core.channels.email.safety import RateLimiter, automatic_reason
from helpdesk_core.channels.email.settings import EmailSettings, check_channel_arguments
from helpdesk_core.channels.email.templates import normalize_language
from helpdesk_core.channels.email.text import clean_reply, strip_signature
from helpdesk_core.channels.email.threads import (
    ThreadRef,
    check_domain,
    message_ids_in,
    parse_message_id,
)
from helpdesk_core.errors import (
    AccessDenied,
    HelpdeskError,
    InvalidTransition,
    NotFound,
    ValidationError,
)
from helpdesk_core.model import Actor, LinkKind, Requester, StatusCategory, Ticket
from helpdesk_core.service import Helpdesk
from helpdesk_core.service.received import claim_record, received_key
from helpdesk_core.storage import TicketQuery

__all__ = [
    "InboundResult",
    "ReadMail",
    "free_requester_id",
    "read_mail",
    "receive",
    "requester_id_for",
]

log = logging.getLogger("helpdesk_core.email")

Action = Literal["opened", "replied", "ignored", "rejected"]

_MAX_SUBJECT = 250
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.@+\-]")


@frozen(kw_only=True)
class InboundResult:
    """What became of one inbound message: ``action`` (opened, replied, ignored,
    rejected), the ``ticket_id`` it landed on, the ``reason`` (for ignored, rejected and
    follow-ups), its ``attachments`` for the application to store, the raw ``message_id``
    to keep a reference to the original, and the ``sender`` address."""

    action: Action
    ticket_id: str | None = None
    reason: str = ""
    attachments: tuple[Attachment, ...] = ()
    message_id: str | None = None
    sender: str | None = None


@frozen(kw_only=True)
class ReadMail:
    """A message as the channel needs it; built by :func:`read_mail`."""

    message_id: str | None
    sender: str
    sender_name: str
    subject: str
    references: tuple[str, ...]
    body: MailText
    attachments: tuple[Attachment, ...]
    language: str | None
    automatic: str | None
    #: For a message without a ``Message-ID``: a digest of its ``Date``, subject and body
    #: text, the same for every delivery of the message (None when it has a
    #: ``Message-ID``, or no ``Date`` either).
    fingerprint: str | None = None


def read_mail(
    message: bytes | Message, *, max_bytes: int, domain: str | None = None
) -> ReadMail:
    """Parse and read ``message``; a message that is too big, unparseable or has no sender
    raises ``ValidationError`` (field ``message`` or ``From``). With the desk's Message-ID
    ``domain``, only the desk's own messages count as looping back (see
    :func:`~helpdesk_core.channels.email.automatic_reason`)."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise ValidationError(
            f"max_bytes is a whole number >= 1, got {max_bytes!r}", field="max_bytes"
        )
    if domain is not None:
        domain = check_domain(domain)
    msg = load_message(message, max_bytes=max_bytes)
    try:
        return _read(msg, domain)
    except HelpdeskError:
        raise
    except Exception as exc:  # the email package has many ways to fail on broken input
        raise ValidationError(f"malformed message: {exc!r}", field="message") from None


def _read(msg: Message, domain: str | None) -> ReadMail:
    ids = message_ids_in([raw_header(msg, "Message-ID")])
    automatic = automatic_reason(msg, lambda name: header(msg, name), domain=domain)
    try:
        sender, name = sender_of(msg)
    except ValidationError:
        if automatic is None:
            raise
        sender, name = "", ""
    # Newest first: In-Reply-To, then References from the end.
    in_reply_to = message_ids_in([raw_header(msg, "In-Reply-To")])
    references = message_ids_in([raw_header(msg, "References")])
    body, attachments = body_text(msg)
    language = header(msg, "Content-Language") or header(msg, "Accept-Language")
    subject = header(msg, "Subject") or ""
    fingerprint = None
    date = raw_header(msg, "Date")
    if not ids and date:
        # A message without a Message-ID is told apart from another by when it was
        # written and what it says: a second delivery of it is the same, a second
        # message of the same text written later is not.
        parts = "\n\x00".join((date, subject, body.text))
        fingerprint = hashlib.sha256(parts.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return ReadMail(
        message_id=ids[0] if ids else None,
        sender=sender,
        sender_name=name,
        subject=subject,
        references=tuple(dict.fromkeys([*in_reply_to, *reversed(references)])),
        body=body,
        attachments=tuple(attachments),
        language=normalize_language(language.split(",")[0]) if language else None,
        automatic=automatic,
        fingerprint=fingerprint,
    )


def requester_id_for(address: str) -> str:
    """A requester id derived from an email address: the lower-cased address when it is
    made of id characters only, else a cleaned form with a short hash (so two addresses
    never share an id)."""
    if not isinstance(address, str) or not address.strip():
        raise ValidationError("an email address is non-empty text", field="address")
    lowered = address.strip().lower()
    cleaned = _ID_UNSAFE.sub("_", lowered)
    if cleaned == lowered and len(cleaned) <= 180:
        return cleaned
    digest = hashlib.sha256(lowered.encode("utf-8", "replace")).hexdigest()[:12]
    return f"{cleaned[:180]}-{digest}"


def free_requester_id(desk: Helpdesk, address: str) -> str:
    """An id for a new requester with this email address that no stored requester (and
    no agent) has:
    :func:`requester_id_for` the address, else that id with ``-2``, ``-3`` ... (a stored
    requester keeps their id when their address changes, so the plain id may be taken by
    someone else). Opening a ticket with a requester saves it, so a taken id would
    overwrite that person's record."""
    if not isinstance(desk, Helpdesk):
        raise ValidationError(f"desk must be a Helpdesk, got {type(desk).__name__}", field="desk")
    if not isinstance(address, str) or not address.strip():
        raise ValidationError("an email address is non-empty text", field="address")
    base = requester_id_for(address)
    candidates = itertools.chain(
        (base,),
        (f"{base}-{n}" for n in range(2, 100)),
        (f"{base[:160]}-{_digest(address, n)}" for n in itertools.count(1)),
    )
    for candidate in itertools.islice(candidates, 10_000):
        if desk.config.has_agent(candidate):
            continue  # an agent's id names the agent wherever an identity is text
        try:
            desk.get_requester(candidate)
        except NotFound:
            return candidate
    raise ValidationError(
        f"no free requester id for {address!r} after 10,000 tries", field="address"
    )


def _digest(address: str, n: int) -> str:
    return hashlib.sha256(f"{address}\n{n}".encode("utf-8", "replace")).hexdigest()[:12]


def receive(
    desk: Helpdesk,
    message: bytes | Message,
    *,
    settings: EmailSettings,
    limiter: RateLimiter | None = None,
) -> InboundResult:
    """Apply one inbound message to ``desk``.

    Automatic messages (auto-replies, bounces, list mail, our own mail) are ignored;
    senders over the ``limiter`` are rejected; replies thread onto their ticket (a solved
    ticket is reopened by its requester's reply, or stays solved with the reply when the
    desk's requesters may not reopen; a closed one, or one past its reopen window, gets a
    linked follow-up); anything else opens a ticket. Oversized or malformed
    messages raise ``ValidationError`` before anything is written.

    A message is applied whole or not at all (one :meth:`Helpdesk.unit_of_work`), and
    once: a message whose sender and ``Message-ID`` opened a ticket or were added to one
    before is ignored (the desk's store remembers them, as a cursor named ``email-seen:``
    and a digest of both, until the ticket is anonymised or purged). The message is
    claimed before it is applied: on a store with
    :class:`~helpdesk_core.storage.CursorClaims` (the bundled ones), a worker given a copy
    of a message another worker is applying waits for that one and then ignores it. A
    message that is rejected or ignored (or fails) changes nothing and is released, so it
    can come again."""
    check_channel_arguments(desk, settings)
    if limiter is not None and not isinstance(limiter, RateLimiter):
        raise ValidationError(
            f"limiter must be a RateLimiter or None, got {type(limiter).__name__}",
            field="limiter",
        )
    try:
        mail = read_mail(message, max_bytes=settings.max_bytes, domain=settings.message_domain)
    except ValidationError as exc:
        log.warning("inbound message refused: %s", exc)
        raise
    receiver = _Receiver(desk, settings, mail)
    seen = _seen_key(mail.message_id or _fingerprint_id(mail.fingerprint), mail.sender)
    result = receiver.skipped()
    if result is None:
        try:
            result = _apply(desk, receiver, seen, limiter)
        except _NotApplied as refused:  # its claim, and anything it did, rolled back
            result = refused.result
    # The sender's address is personal data: at DEBUG only, so a desk that keeps INFO
    # logs keeps no addresses.
    log.info(
        "inbound %s: %s %s", mail.message_id, result.action, result.ticket_id or result.reason
    )
    log.debug("inbound %s was sent by %s", mail.message_id, mail.sender or "?")
    return result


class _NotApplied(Exception):
    """A claimed message that was rejected or ignored: its unit of work is rolled back, so
    the claim is released (and nothing else it did stays)."""

    def __init__(self, result: InboundResult) -> None:
        super().__init__(result.reason)
        self.result = result


#: Ticket numbers are 64-bit whole numbers from 1.
_MAX_NUMBER = 2**63


def _apply(
    desk: Helpdesk, receiver: _Receiver, seen: str | None, limiter: RateLimiter | None
) -> InboundResult:
    """Claim the message (when it has a Message-ID) and apply it, in one unit of work. A
    message that is not applied in the end is not counted by the rate limit either."""
    try:
        with desk.unit_of_work():
            if seen is not None and not claim_record(desk.store, seen):
                number = desk.store.get_cursor(seen)
                return receiver.result(
                    "ignored",
                    receiver.ticket_id_of(number) if number > 0 else None,
                    "this message was received before",
                )
            result = receiver.run(limiter)
            if result.action not in ("opened", "replied") or not result.ticket_id:
                raise _NotApplied(result)
            if seen is not None:
                desk.store.set_cursor(seen, desk.get(result.ticket_id).number)
            return result
    except BaseException:
        if limiter is not None and receiver.counted_at is not None:
            limiter.take_back(receiver.mail.sender, receiver.counted_at)
        raise


def _fingerprint_id(fingerprint: str | None) -> str | None:
    """What stands for the ``Message-ID`` of a message without one (None: nothing)."""
    return None if fingerprint is None else f"<fingerprint:{fingerprint}>"


def _seen_key(message_id: str | None, sender: str) -> str | None:
    """The store cursor that remembers a received message, by its sender and Message-ID
    (None: the mail has no Message-ID)."""
    if not message_id:
        return None
    return received_key(sender, message_id)


class _Receiver:
    def __init__(self, desk: Helpdesk, settings: EmailSettings, mail: ReadMail) -> None:
        self.counted_at: datetime | None = None
        self.desk = desk
        self.settings = settings
        self.mail = mail

    def result(
        self, action: Action, ticket_id: str | None = None, reason: str = ""
    ) -> InboundResult:
        return InboundResult(
            action=action,
            ticket_id=ticket_id,
            reason=reason,
            attachments=self.mail.attachments,
            message_id=self.mail.message_id,
            sender=self.mail.sender or None,
        )

    def skipped(self) -> InboundResult | None:
        """The result for a message that is never applied, however often it comes
        (automatic mail, our own mail); None for any other."""
        mail = self.mail
        if mail.automatic is not None:
            return self.result("ignored", reason=mail.automatic)
        if mail.sender in self._own_addresses():
            return self.result("ignored", reason="sent from the helpdesk's own address")
        return None

    def run(self, limiter: RateLimiter | None) -> InboundResult:
        mail = self.mail
        if limiter is not None:
            now = self.desk.clock.now()
            if not limiter.allow(mail.sender, now):
                return self.result(
                    "rejected",
                    reason=f"rate limit: more than {limiter.max_messages} messages from "
                    f"{mail.sender} within {limiter.per}",
                )
            self.counted_at = now  # taken back if the message is not applied
        found = self._thread()
        if found is None:
            return self._open()
        ticket, ref = found
        return self._reply(ticket, ref)

    def _own_addresses(self) -> set[str]:
        own = {self.settings.address.lower()}
        own.update(t.email.lower() for t in self.desk.config.teams if t.email)
        return own

    # -------------------------------------------------------------- threading
    def _thread(self) -> tuple[Ticket, ThreadRef | None] | None:
        refs = [
            ref
            for mid in self.mail.references
            if (ref := parse_message_id(mid, domain=self.settings.message_domain)) is not None
        ]
        number = self.settings.subject_token.find(self.mail.subject)
        if number is not None:
            ticket = self._by_number(number)
            if ticket is not None:
                same = [r for r in refs if r.ticket_id == ticket.id]
                if same:
                    return ticket, same[0]
                if not refs or self._author(ticket) is not None:
                    return ticket, None
                # The token names a ticket the sender may not write on (another system's
                # [#12]), while In-Reply-To / References name a message of the desk's
                # about another ticket: the mail answers that one.
        for ref in refs:
            try:
                return self.desk.get(ref.ticket_id), ref
            except (NotFound, ValidationError):
                continue
        earlier = self._answered_ticket()
        return None if earlier is None else (earlier, None)

    def _answered_ticket(self) -> Ticket | None:
        """The ticket that an earlier message of the sender's, which this one answers (its
        ``In-Reply-To`` / ``References``, newest first), was applied to: a second mail
        sent in answer to one's first, before the desk's answer came, continues the same
        ticket. Only the sender's own messages count (the records are kept by sender)."""
        domain = self.settings.message_domain
        for mid in self.mail.references:
            if parse_message_id(mid, domain=domain) is not None:
                continue  # the desk's own: threaded by its ticket id
            number = self.desk.store.get_cursor(received_key(self.mail.sender, mid))
            if number > 0:
                ticket = self._by_number(number)
                if ticket is not None:
                    return ticket
        return None

    def _by_number(self, number: int) -> Ticket | None:
        if not 1 <= number < _MAX_NUMBER:
            # ``[#0]``, or a custom pattern's longer run of digits: no ticket of the desk's
            # (ticket numbers start at 1 and are 64-bit), so the subject is a new request.
            return None
        page = self.desk.search(TicketQuery(number=number, limit=1))
        return page.items[0] if page.items else None

    def ticket_id_of(self, number: int) -> str | None:
        """The id of the ticket with this number (None: there is none any more)."""
        ticket = self._by_number(number)
        return ticket.id if ticket is not None else None

    # -------------------------------------------------------------- replies
    def _author(self, ticket: Ticket) -> Actor | None:
        sender = self.mail.sender
        try:
            requester = self.desk.get_requester(ticket.requester)
        except NotFound:
            requester = None
        if requester is not None and _same_mailbox(requester.email or "", sender):
            return requester.actor
        for agent in self.desk.config.agents:
            if agent.email and _same_mailbox(agent.email, sender):
                return agent.actor
        return None

    def _reply(self, ticket: Ticket, ref: ThreadRef | None) -> InboundResult:
        author = self._author(ticket)
        if author is None:
            if ref is None:  # only a [#n] in the subject, maybe another system's: a new request
                return self._open()
            if self.settings.foreign_sender == "reject":
                return self.result(
                    "rejected",
                    ticket.id,
                    f"{self.mail.sender} is neither the requester of ticket {ticket.number} "
                    "nor an agent",
                )
            return self._open()
        body = clean_reply(self.mail.body.reply, marker=self.settings.reply_marker)
        if not body:
            if not self.mail.attachments:
                return self.result("ignored", ticket.id, "empty reply (only quoted text)")
            body = "(attachments: " + ", ".join(a.name for a in self.mail.attachments) + ")"
        body = _fit(body, self.desk.config.limits.max_body_length)
        if ticket.status_category is StatusCategory.CLOSED:
            if author.is_agent:
                return self.result("rejected", ticket.id, f"ticket {ticket.number} is closed")
            # A second mail in the closed ticket's thread that answers the sender's first
            # (which opened a follow-up) continues that follow-up.
            later = self._answered_ticket()
            later_author = None if later is None else self._author(later)
            if (
                later is None
                or later_author is None
                or later.status_category is StatusCategory.CLOSED
            ):
                return self._open(follow_up_of=ticket, description=body)
            ticket, author = later, later_author
        if ticket.status_category is StatusCategory.SOLVED and author.is_requester:
            self.desk.config.limits.check_body(body, field="body")  # before reopening
            try:
                self.desk.reopen(ticket.id, by=author, reason="the requester replied by email")
            except InvalidTransition:  # e.g. the reopen window has passed
                return self._open(follow_up_of=ticket, description=body)
            except AccessDenied:
                # The desk's requesters may not reopen: the mail is kept on the solved
                # ticket, which stays solved, as a reply through the desk would leave it.
                pass
        # An agent's mail is public only when it answers a message the requester got:
        # one that names no such message (a notification, or the subject token alone)
        # stays an internal note.
        public = author.is_requester or (ref is not None and not ref.internal)
        try:
            self.desk.reply(ticket.id, author=author, body=body, public=public, channel="email")
        except AccessDenied as exc:
            return self.result("rejected", ticket.id, str(exc))
        return self.result("replied", ticket.id, "" if public else "internal note")

    # -------------------------------------------------------------- new tickets
    def _requester(self, follow_up_of: Ticket | None = None) -> Requester:
        if follow_up_of is not None:
            # The sender was taken as this ticket's requester (several records may share
            # an address): the follow-up is theirs.
            return self.desk.get_requester(follow_up_of.requester)
        for spelling in _spellings(self.mail.sender):
            found = self.desk.find_requester(email=spelling)
            if found is not None:
                return found
        candidate = free_requester_id(self.desk, self.mail.sender)
        language = self.mail.language
        if language is None or not self.settings.templates.supports(language):
            language = self.settings.templates.fallback
        name = self.mail.sender_name or self.mail.sender.partition("@")[0]
        name = name[: self.desk.config.limits.max_subject_length]  # a display name is free text
        return Requester(id=candidate, name=name, email=self.mail.sender, language=language)

    def _open(
        self, *, follow_up_of: Ticket | None = None, description: str | None = None
    ) -> InboundResult:
        limits = self.desk.config.limits
        longest = min(_MAX_SUBJECT, limits.max_subject_length)
        subject = self.settings.subject_token.strip(
            self.mail.subject, desk_prefixes=self.settings.templates.subject_prefixes()
        )[:longest].strip()
        if description is None:
            description = strip_signature(self.mail.body.text)
            if not description and self.mail.attachments:
                names = ", ".join(a.name for a in self.mail.attachments)
                description = f"(attachments: {names})"
        description = _fit(description, limits.max_body_length)
        ticket = self.desk.open(
            requester=self._requester(follow_up_of),
            subject=subject or "(no subject)",
            description=description,
            channel="email",
            category=self.settings.category,
            type=self.settings.ticket_type,
        )
        if follow_up_of is None:
            return self.result("opened", ticket.id)
        self.desk.link(ticket.id, kind=LinkKind.FOLLOW_UP_OF, other=follow_up_of.id)
        return self.result(
            "opened",
            ticket.id,
            f"follow-up of ticket {follow_up_of.number} ({follow_up_of.status})",
        )


def _spellings(address: str) -> tuple[str, ...]:
    """``address`` in lower case, then, for an internationalised domain, with the domain
    in its other form: ``jo@müller.de`` and ``jo@xn--mller-kva.de`` name one mailbox (the
    desk writes the first as the second, and mailers send from either)."""
    address = address.strip().lower()
    local, _, domain = address.rpartition("@")
    other = ascii_domain(domain) if not domain.isascii() else unicode_domain(domain)
    if not local or not other or other == domain:
        return (address,)
    return address, f"{local}@{other}"


def _same_mailbox(stored: str, sender: str) -> bool:
    """Whether a stored address and a sender's are one mailbox (see :func:`_spellings`)."""
    return not set(_spellings(stored)).isdisjoint(_spellings(sender))


def _fit(text: str, limit: int) -> str:
    """``text`` within the desk's ``limit`` of characters: a longer mail (a pasted log) is
    cut, saying so at the end, rather than refused."""
    if len(text) <= limit:
        return text
    note = f"\n[... cut: the message had {len(text):,} characters]"
    if limit <= len(note):
        return text[:limit]
    return text[: limit - len(note)] + note
