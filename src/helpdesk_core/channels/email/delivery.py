"""The outbox consumer: claim events, build messages, hand them to ``send``, ack or release.

Delivery is at least once: an item is acknowledged only after every message it produced
was handed to ``send`` without an exception; otherwise it is released and comes back on a
later call (its ``attempts`` count grows). After ``max_attempts`` failures an item is
acknowledged and reported as dropped, so one broken address cannot block the outbox. An
item whose ticket was purged after it was claimed can be neither acknowledged nor
released (it is gone); it is reported as ``gone`` and the rest of the batch goes on. An
item is sent only while the batch's lease holds it (by the desk's clock): once the lease
has run out, another worker may have claimed the items not sent yet, so the call leaves
them (they come back on a later claim) and returns. The event's idempotency key travels
in the ``X-Helpdesk-Event`` header so a receiving side can drop duplicates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage

from attrs import frozen

from helpdesk_core.channels.email.outbound import compose
from helpdesk_core.channels.email.settings import EmailSettings, check_channel_arguments
from helpdesk_core.errors import NotFound, ValidationError
from helpdesk_core.service import Helpdesk
from helpdesk_core.storage import OutboxItem

__all__ = ["DeliveryReport", "deliver"]

log = logging.getLogger("helpdesk_core.email")

Send = Callable[[EmailMessage], object]


@frozen(kw_only=True)
class DeliveryReport:
    """What one :func:`deliver` call did: messages ``sent``, outbox ids ``acked``
    (delivered or needing no mail), ``released`` (failed, will come back) and ``dropped``
    (failed ``max_attempts`` times, acknowledged anyway), ``gone`` (their ticket was
    purged while they were claimed), and the ``errors`` by id."""

    sent: int = 0
    acked: tuple[str, ...] = ()
    released: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    errors: tuple[tuple[str, str], ...] = ()
    gone: tuple[str, ...] = ()


def deliver(
    desk: Helpdesk,
    *,
    send: Send,
    settings: EmailSettings,
    consumer: str = "email",
    limit: int = 100,
    lease: timedelta = timedelta(seconds=60),
    max_attempts: int = 10,
) -> DeliveryReport:
    """Deliver the outbox of ``consumer``: batches of ``limit`` items until none is left,
    a batch had a failure (failed items wait for a later call) or its ``lease`` ran out
    before every item was sent (the rest wait for a later claim)."""
    check_channel_arguments(desk, settings)
    if not callable(send):
        raise ValidationError("send must be callable", field="send")
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise ValidationError("max_attempts is a whole number >= 1", field="max_attempts")
    sent = 0
    acked: list[str] = []
    released: list[str] = []
    dropped: list[str] = []
    errors: list[tuple[str, str]] = []
    gone: list[str] = []
    store = desk.store

    def settle(settled: list[str], item: OutboxItem, *, error: str | None = None) -> None:
        """Ack (or, with an error, release: only while this claim's lease holds it) one
        item; a purged ticket took it along."""
        try:
            if error is None:
                store.ack_outbox(consumer, [item.id])
            else:
                try:
                    store.release_outbox(consumer, [item], error=error[:500])
                except ValidationError:  # a store that takes ids only (written before)
                    store.release_outbox(consumer, [item.id], error=error[:500])
        except NotFound:
            gone.append(item.id)
            return
        settled.append(item.id)

    while True:
        claimed_at = desk.clock.now()
        items = store.claim_outbox(consumer, now=claimed_at, limit=limit, lease=lease)
        until = claimed_at + lease  # (claim_outbox refused a lease that overflows)
        failed = expired = False
        for item in items:
            if desk.clock.now() >= until:
                # The lease ran out while earlier items were sent: another worker may
                # have claimed the rest and be sending them. They come back to a claim.
                expired = True
                break
            try:
                messages = compose(desk, item.event, key=item.id, settings=settings)
                for message in messages:
                    send(message)
                    sent += 1
            except Exception as exc:
                failed = True
                error = f"{type(exc).__name__}: {exc}"
                errors.append((item.id, error))
                if item.attempts + 1 >= max_attempts:
                    log.error("dropping outbox item %s after %d attempts: %s",
                              item.id, item.attempts + 1, error)  # fmt: skip
                    settle(dropped, item)
                else:
                    log.warning("delivery of outbox item %s failed: %s", item.id, error)
                    settle(released, item, error=error)
                continue
            settle(acked, item)
        if failed or expired or len(items) < limit:
            break
    return DeliveryReport(
        sent=sent,
        acked=tuple(acked),
        released=tuple(released),
        dropped=tuple(dropped),
        errors=tuple(errors),
        gone=tuple(gone),
    )
