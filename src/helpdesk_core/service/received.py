"""Records of received messages: which inbound message was applied to which ticket.

A channel that must apply each message once (the email channel: a mail server may deliver
a message twice, two workers may be handed copies of one) keeps a store cursor per
message, keyed by a digest of its sender and ``Message-ID``, whose value is the number of
the ticket the message was applied to. The digest is derived from the sender's address,
so the record is personal data of the ticket: the desk deletes a ticket's records when it
anonymises or purges the ticket (on a store with
:class:`~helpdesk_core.storage.CursorDeletion`; the bundled stores have it).

:meth:`Helpdesk.open <helpdesk_core.service.Helpdesk.open>` keeps the same kind of record
for a ``request_id`` (and :meth:`Helpdesk.reply <helpdesk_core.service.Helpdesk.reply>`):
a cursor keyed by a digest of the request's scope (the requester's id; the author and the
ticket) and the request id, whose value is the number of the ticket, so a retried request
returns that ticket instead of doing it again. A reply's request also records which
comment it added (the scope followed by the comment's id, the same value), so a retry that
asks for another comment is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from helpdesk_core.storage import CursorClaims, CursorDeletion, Store

__all__ = [
    "APPLYING",
    "RECEIVED_PREFIX",
    "REQUEST_PREFIX",
    "claim_record",
    "forget_received",
    "received_key",
    "request_key",
]

#: The key prefix of the cursors that record received messages.
RECEIVED_PREFIX = "email-seen:"
#: The key prefix of the cursors that record requests that opened a ticket.
REQUEST_PREFIX = "request-seen:"
#: The value of a record being applied (the ticket's number replaces it).
APPLYING = -1


def received_key(sender: str, message_id: str) -> str:
    """The cursor key that records the message ``message_id`` from ``sender``."""
    key = f"{sender}\n{message_id}".encode("utf-8", "surrogatepass")
    return f"{RECEIVED_PREFIX}{hashlib.sha256(key).hexdigest()[:40]}"


def request_key(scope: str, request_id: str) -> str:
    """The cursor key that records the request ``request_id`` made in ``scope`` (a ticket
    opened for a requester: the requester's id; a reply: the author and the ticket)."""
    key = f"{scope}\n{request_id}".encode("utf-8", "surrogatepass")
    return f"{REQUEST_PREFIX}{hashlib.sha256(key).hexdigest()[:40]}"


def claim_record(store: Store, key: str) -> bool:
    """Claim the record ``key`` for this worker (set it to :data:`APPLYING`) unless it is
    set: atomically on a store with :class:`~helpdesk_core.storage.CursorClaims`, else by
    a read then a write. Inside a unit of work, what the claimer does next is undone with
    the claim when it fails."""
    if isinstance(store, CursorClaims):
        return store.claim_cursor(key, APPLYING)
    if store.get_cursor(key):
        return False
    store.set_cursor(key, APPLYING)
    return True


def forget_received(store: Store, numbers: Iterable[int]) -> int:
    """Delete the records of the messages applied to, and the requests that opened, the
    tickets numbered ``numbers``; return how many were deleted (0 on a store without
    :class:`~helpdesk_core.storage.CursorDeletion`)."""
    wanted = list(numbers)
    if not wanted or not isinstance(store, CursorDeletion):
        return 0
    return sum(
        store.delete_cursors(prefix, values=wanted) for prefix in (RECEIVED_PREFIX, REQUEST_PREFIX)
    )
