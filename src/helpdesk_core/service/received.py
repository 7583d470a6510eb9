"""Records of received messages: which inbound message was applied to which ticket.

A channel that must apply each message once (the email channel: a mail server may deliver
a message twice, two workers may be handed copies of one) keeps a store cursor per
message, keyed by a digest of its sender and ``Message-ID``, whose value is the number of
the ticket the message was applied to. The digest is derived from the sender's address,
so the record is personal data of the ticket: the desk deletes a ticket's records when it
anonymises or purges the ticket (on a store with
:class:`~helpdesk_core.storage.CursorDeletion`; the bundled stores have it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from helpdesk_core.storage import CursorDeletion, Store

__all__ = ["RECEIVED_PREFIX", "forget_received", "received_key"]

#: The key prefix of the cursors that record received messages.
RECEIVED_PREFIX = "email-seen:"


def received_key(sender: str, message_id: str) -> str:
    """The cursor key that records the message ``message_id`` from ``sender``."""
    key = f"{sender}\n{message_id}".encode("utf-8", "surrogatepass")
    return f"{RECEIVED_PREFIX}{hashlib.sha256(key).hexdigest()[:40]}"


def forget_received(store: Store, numbers: Iterable[int]) -> int:
    """Delete the records of the messages applied to the tickets numbered ``numbers``;
    return how many were deleted (0 on a store without
    :class:`~helpdesk_core.storage.CursorDeletion`)."""
    wanted = list(numbers)
    if not wanted or not isinstance(store, CursorDeletion):
        return 0
    return store.delete_cursors(RECEIVED_PREFIX, values=wanted)
