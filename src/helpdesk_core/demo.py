"""A guided walk through the example IT desk, printed as it happens.

Used by ``helpdesk-core demo``; it runs on the in-memory defaults and a manual clock, so it
shows in a few seconds what a desk does over a week: acknowledgement with a deadline,
routing, assignment, SLA clocks pausing and breaching, escalation, solving and rating.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from helpdesk_core._time import format_duration
from helpdesk_core.clock import ManualClock
from helpdesk_core.config import DeskConfig
from helpdesk_core.ids import SequentialIds
from helpdesk_core.model import Event, Requester, SlaClock, TicketOpened
from helpdesk_core.service import Helpdesk
from helpdesk_core.storage import MemoryStore

__all__ = ["example_config", "run_demo"]


def example_config() -> DeskConfig:
    """The bundled example IT desk configuration."""
    path = Path(str(resources.files("helpdesk_core") / "data" / "it_desk.toml"))
    return DeskConfig.from_toml(path)


def _describe(event: Event, zone: ZoneInfo) -> str:
    name = type(event).__name__
    when = event.at.astimezone(zone).strftime("%a %d %b %H:%M")
    details = {
        k: v
        for k, v in _fields(event).items()
        if k not in ("ticket_id", "at", "by") and v not in (None, "", (), {}, False)
    }
    clock = details.pop("clock", None)
    if isinstance(clock, SlaClock):
        details["metric"] = clock.metric.value
        details["state"] = clock.state.value
        if clock.deadline is not None:
            details["deadline"] = clock.deadline.astimezone(zone).strftime("%a %H:%M")
    text = ", ".join(f"{k}={v}" for k, v in list(details.items())[:5])
    return f"  {when}  {name:<22} by {event.by}  {text}"


def _fields(event: Event) -> dict[str, object]:
    import attrs

    return {a.name: getattr(event, a.name) for a in attrs.fields(type(event))}


def run_demo(out: Callable[[str], object] = print) -> Helpdesk:
    """Walk one VPN ticket through the example desk, printing every event."""
    config = example_config()
    zone = ZoneInfo(config.settings.timezone)
    clock = ManualClock(datetime(2026, 3, 6, 17, 40, tzinfo=zone))  # a Friday evening
    desk = Helpdesk(config=config, store=MemoryStore(), clock=clock, ids=SequentialIds())
    def show(event: Event) -> None:
        out(_describe(event, zone))

    desk.subscribe(show)

    out(f"{config.settings.name}: {len(config.agents)} agents in {len(config.tiers)} tiers")
    ada = Requester(id="ada", name="Ada Lovelace", email="ada@example.com",
                    organization="analytics", attributes={"region": "emea"})
    out("\nFriday 17:40 - Ada reports that the VPN drops every few minutes:")
    ticket = desk.open(
        requester=ada, subject="VPN drops every few minutes", channel="email",
        category="network", impact="medium", urgency="high",
        description="Since this morning the VPN disconnects every 5 minutes.",
        fields={"location": "home office"},
    )
    opened = desk.history(ticket.id)[0]
    assert isinstance(opened, TicketOpened)
    due = opened.first_response_due
    out(
        f"  -> acknowledgement: ticket #{ticket.number}, priority {ticket.priority.label}, "
        f"first response due {due.astimezone(zone):%a %H:%M}" if due else "  -> no SLA"
    )

    clock.set(datetime(2026, 3, 9, 8, 30, tzinfo=zone))
    out("\nMonday 08:30 - the weekend did not count against the SLA; the agent answers:")
    desk.tick()
    ticket = desk.get(ticket.id)
    agent = ticket.assignee or "lena"
    desk.reply(ticket.id, author=agent, body="Which VPN client do you use?")
    desk.transition(ticket.id, "pending", by=agent, reason="waiting for the client name")

    clock.set(datetime(2026, 3, 9, 11, 0, tzinfo=zone))
    out("\nMonday 11:00 - Ada answers; the ticket resumes and goes to the network team:")
    desk.reply(ticket.id, author="ada", body="AnyConnect 5.1")
    desk.escalate(ticket.id, by=agent, reason="needs the network team")

    clock.set(datetime(2026, 3, 9, 15, 0, tzinfo=zone))
    out("\nMonday 15:00 - the specialist answers and solves it:")
    ticket = desk.get(ticket.id)
    specialist = ticket.assignee or "nora"
    desk.reply(ticket.id, author=specialist, body="A new profile is pushed; please reconnect.")
    desk.solve(ticket.id, by=specialist, resolution="Pushed a new VPN profile (MTU 1380).")
    desk.rate(ticket.id, score=5, comment="Quick and clear", by="ada")

    clock.set(datetime(2026, 3, 20, 9, 0, tzinfo=zone))
    out("\nFriday 20 March - a tick closes the solved ticket, stamped three business days "
        "after the solve:")
    desk.tick()
    ticket = desk.get(ticket.id)
    views = desk.sla(ticket.id)
    out(f"\nTicket #{ticket.number} is {ticket.status}; owner {ticket.owner}, "
        f"tier {ticket.tier}, {ticket.version} events.")
    for metric, view in views.items():
        out(f"  SLA {metric}: {view.state.value}, used {format_duration(view.used)} "
            f"of {format_duration(view.target)}")
    return desk
