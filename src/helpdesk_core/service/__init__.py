"""The application service: :class:`Helpdesk` and the pure decisions it composes."""

from helpdesk_core.service.decide import Change, Decider
from helpdesk_core.service.desk import EventHandler, Helpdesk

__all__ = ["Change", "Decider", "EventHandler", "Helpdesk"]
