"""Django signals of the helpdesk app."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent once per desk event (keyword ``event``), after the transaction that stored it
#: committed; never for changes that were rolled back. Receivers run in the web process
#: and a failing one is only logged: keep them quick, and use the outbox
#: (``manage.py helpdesk_tick``) for delivery that must not be lost.
ticket_event = Signal()
