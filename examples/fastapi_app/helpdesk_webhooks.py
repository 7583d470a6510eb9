"""Webhook delivery from the desk's outbox: at least once, with idempotency keys.

Every event the desk stores gets an outbox row in the same transaction. Each webhook is
its own outbox consumer (``webhook:<name>``), so a receiver that is down delays only its
own deliveries. A round claims the consumer's oldest undelivered items under a lease,
POSTs them one by one, in order, and acknowledges each on a 2xx answer. On the first
failure it gives that item and the rest of the batch back to the outbox (they count one
more attempt) and moves on to the next webhook; the next round starts again from the
failed item, which it claims alone until a delivery succeeds, so a receiver that stays
down charges no more attempts to the items waiting behind it. A process that dies
between sending and acknowledging sends again once the lease runs out: receivers
deduplicate with the ``Idempotency-Key`` header, which is the same on every retry
(``<ticket id>:<version>``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from helpdesk_core import Clock, Store, ValidationError
from helpdesk_core.codec import event_to_dict
from helpdesk_core.storage import OutboxItem

__all__ = [
    "HttpxSender",
    "Webhook",
    "WebhookDeliverer",
    "WebhookResult",
    "WebhookSender",
    "check_webhooks",
    "payload",
    "sign",
    "verify_signature",
]

log = logging.getLogger("helpdesk_api.webhooks")

_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")


@dataclass(frozen=True, kw_only=True)
class Webhook:
    """A receiver: ``name`` (letters, digits, ``_.-``), an http(s) ``url``, and an optional
    ``secret`` with which every body is signed (``X-Helpdesk-Signature: sha256=<hex>``)."""

    name: str
    url: str
    secret: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValidationError(
                f"a webhook name is 1-100 letters, digits or _.-, got {self.name!r}",
                field="webhooks.name",
            )
        where = f"webhooks.{self.name}"
        parts = urlsplit(self.url) if isinstance(self.url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError(
                f"a webhook url is an http(s) URL with a host, got {self.url!r}",
                field=f"{where}.url",
            )
        if self.secret is not None and (not isinstance(self.secret, str) or not self.secret):
            raise ValidationError("a webhook secret is non-empty text", field=f"{where}.secret")

    @property
    def consumer(self) -> str:
        """The outbox consumer name of this webhook."""
        return f"webhook:{self.name}"


class WebhookSender(Protocol):
    """Sends one POST and returns the HTTP status; raises when no answer came back."""

    def __call__(self, url: str, *, body: bytes, headers: Mapping[str, str]) -> int:
        """POST ``body`` with ``headers`` to ``url``; the response's status code."""
        ...


class HttpxSender:
    """The production sender: httpx, one pooled client, a timeout per request (keep it
    well below the deliverer's lease)."""

    def __init__(self, client: httpx.Client | None = None, *, timeout: float = 10.0) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ValidationError(f"timeout is a positive number, got {timeout!r}", field="timeout")
        self._client = client if client is not None else httpx.Client(timeout=timeout)
        self._owns_client = client is None

    def __call__(self, url: str, *, body: bytes, headers: Mapping[str, str]) -> int:
        """POST and return the status code (transport errors propagate)."""
        response = self._client.post(url, content=body, headers=dict(headers))
        return response.status_code

    def close(self) -> None:
        """Close the client if this sender created it."""
        if self._owns_client:
            self._client.close()


@dataclass(frozen=True, kw_only=True)
class WebhookResult:
    """What one round did for one webhook: items ``claimed``, ``delivered`` (acked),
    ``failed`` (0 or 1: a round stops at the first failure), ``dropped`` (acked after a
    failed delivery that reached ``max_attempts``), and the failure's ``error``."""

    webhook: str
    claimed: int
    delivered: int
    failed: int
    dropped: int
    error: str | None = None


def check_webhooks(webhooks: Sequence[Webhook]) -> tuple[Webhook, ...]:
    """The webhooks as a tuple, after checking that they are Webhooks with unique names."""
    if isinstance(webhooks, str | bytes) or not isinstance(webhooks, Sequence):
        raise ValidationError("webhooks is a list of Webhook values", field="webhooks")
    hooks = tuple(webhooks)
    for hook in hooks:
        if not isinstance(hook, Webhook):
            raise ValidationError(
                f"expected a Webhook, got {type(hook).__name__}", field="webhooks"
            )
    names = [hook.name for hook in hooks]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValidationError(
            f"webhook names must be unique: {', '.join(duplicates)}", field="webhooks"
        )
    return hooks


def payload(item: OutboxItem) -> bytes:
    """The JSON body sent for an outbox item: its idempotency key, its place in the global
    event order, this attempt's number, and the event in the library's plain-data form."""
    document: dict[str, Any] = {
        "id": item.id,
        "position": item.position,
        "attempt": item.attempts + 1,
        "event": event_to_dict(item.event),
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def sign(secret: str, body: bytes) -> str:
    """The ``X-Helpdesk-Signature`` value of ``body``: ``sha256=<hex HMAC>``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """True when ``header`` is the signature of ``body`` (constant-time comparison); what a
    receiver checks before trusting a delivery."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


class WebhookDeliverer:
    """Delivers the outbox to webhooks, one round per :meth:`deliver_once` call.

    ``store`` is the desk's store, ``sender`` sends one request (:class:`HttpxSender` in
    production, a recorder in tests; None only without webhooks), ``clock`` the desk's
    clock (leases are measured on it). ``batch`` bounds the items sent per webhook and
    round; ``lease`` is how long a claimed item stays reserved (a crashed round's items
    come back after it). ``request_timeout`` is the longest one request may take (the
    sender's timeout): a round claims at most ``lease / (2 * request_timeout)`` items at a
    time, so each claim is sent before its lease runs out and no other process sends the
    same items meanwhile;
    ``max_attempts`` (None: retry for ever) acknowledges an item once a delivery of it
    fails with that many attempts counted, so one poison event cannot block a receiver;
    an item is always sent before it is dropped, and the round goes on after it.
    """

    def __init__(
        self,
        store: Store,
        webhooks: Sequence[Webhook],
        *,
        sender: WebhookSender | None,
        clock: Clock,
        batch: int = 100,
        lease: timedelta = timedelta(minutes=5),
        request_timeout: timedelta = timedelta(seconds=10),
        max_attempts: int | None = None,
    ) -> None:
        hooks = check_webhooks(webhooks)
        if hooks and not callable(sender):
            raise ValidationError("webhooks need a callable sender", field="sender")
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= 1000:
            raise ValidationError(f"batch is 1 to 1000, got {batch!r}", field="batch")
        if not isinstance(lease, timedelta) or lease <= timedelta(0):
            raise ValidationError(f"lease is a positive timedelta, got {lease!r}", field="lease")
        if not isinstance(request_timeout, timedelta) or not (
            timedelta(0) < request_timeout * 2 <= lease
        ):
            raise ValidationError(
                f"request_timeout is a positive timedelta of at most half the lease, got "
                f"{request_timeout!r}",
                field="request_timeout",
            )
        if max_attempts is not None and (
            isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1
        ):
            raise ValidationError(
                f"max_attempts is a whole number >= 1 or None, got {max_attempts!r}",
                field="max_attempts",
            )
        self._store = store
        self._webhooks = hooks
        self._sender = sender
        self._clock = clock
        self._batch = batch
        self._lease = lease
        self._chunk = max(1, min(batch, lease // (2 * request_timeout)))
        self._max_attempts = max_attempts
        # Rounds in one process run one at a time, so a webhook sees its events in order.
        self._lock = threading.Lock()
        self._failing: set[str] = set()  # webhooks whose last round ended in a failure

    @property
    def webhooks(self) -> tuple[Webhook, ...]:
        """The registered webhooks."""
        return self._webhooks

    def deliver_once(self) -> list[WebhookResult]:
        """One delivery round over every webhook; returns what happened to each."""
        with self._lock:
            return [self._deliver(hook) for hook in self._webhooks]

    def _deliver(self, hook: Webhook) -> WebhookResult:
        store, consumer = self._store, hook.consumer
        claimed = delivered = dropped = 0
        while claimed < self._batch:
            # After a failed round, its failed item alone: while it keeps failing (the
            # receiver is down), the items behind it are not charged attempts they never had.
            alone = claimed == 0 and hook.name in self._failing
            items = store.claim_outbox(
                consumer,
                now=self._clock.now(),
                limit=1 if alone else min(self._chunk, self._batch - claimed),
                lease=self._lease,
            )
            if not items:
                break
            claimed += len(items)
            for index, item in enumerate(items):
                error = self._send(hook, item)
                if error is None:
                    store.ack_outbox(consumer, [item.id])
                    delivered += 1
                    continue
                if self._max_attempts is not None and item.attempts + 1 >= self._max_attempts:
                    # Dropped only after a delivery of its own failed: an item released
                    # behind a failed one counts attempts it was never sent.
                    log.warning(
                        "webhook %s: dropping %s (%s) after %d failed attempts: %s",
                        hook.name,
                        item.id,
                        type(item.event).__name__,
                        item.attempts + 1,
                        error,
                    )
                    store.ack_outbox(consumer, [item.id])
                    dropped += 1
                    continue
                log.info("webhook %s: %s not delivered: %s", hook.name, item.id, error)
                # Given back as claimed: a lease that ran out meanwhile (a slow receiver)
                # and went to another process is theirs, not ours to release.
                store.release_outbox(consumer, [item], error=error)
                rest = items[index + 1 :]
                if rest:
                    store.release_outbox(consumer, rest, error=f"not sent: {item.id} failed first")
                self._failing.add(hook.name)
                return WebhookResult(
                    webhook=hook.name,
                    claimed=claimed,
                    delivered=delivered,
                    failed=1,
                    dropped=dropped,
                    error=error,
                )
        self._failing.discard(hook.name)
        return WebhookResult(
            webhook=hook.name, claimed=claimed, delivered=delivered, failed=0, dropped=dropped
        )

    def _send(self, hook: Webhook, item: OutboxItem) -> str | None:
        """Send one item; None on a 2xx answer, else what went wrong."""
        body = payload(item)
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": item.id,
            "X-Helpdesk-Event": type(item.event).__name__,
            "X-Helpdesk-Delivery-Attempt": str(item.attempts + 1),
        }
        if hook.secret is not None:
            headers["X-Helpdesk-Signature"] = sign(hook.secret, body)
        sender = self._sender
        assert sender is not None  # checked in __init__: webhooks come with a sender
        try:
            status = sender(hook.url, body=body, headers=headers)
        except Exception as exc:  # any failure of the receiver or the network is a retry
            return f"{type(exc).__name__}: {exc}"
        if 200 <= status < 300:
            return None
        return f"HTTP {status}"
