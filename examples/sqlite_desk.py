"""A desk on SQLite: open, answer, escalate and solve tickets, then read the outbox the way
an email sender would. Run: python examples/sqlite_desk.py"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from helpdesk_core import Helpdesk, ManualClock, Requester, SqliteStore, TicketQuery
from helpdesk_core.demo import example_config


def main() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    clock = ManualClock(datetime(2026, 3, 3, 9, 0, tzinfo=berlin))
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(Path(folder) / "desk.sqlite")
        desk = Helpdesk(config=example_config(), store=store, clock=clock)
        ada = Requester(id="ada", name="Ada", email="ada@example.com",
                        attributes={"region": "emea"})
        printer = desk.open(requester=ada, subject="Printer on floor 2 jams",
                            category="hardware", fields={"device_model": "HP 4250"})
        vpn = desk.open(requester=ada, subject="VPN drops", category="network",
                        fields={"location": "home"}, urgency="high")
        clock.advance(timedelta(minutes=25))
        desk.reply(printer.id, author=printer.assignee or "lena", body="Tray 2 cleared.")
        desk.solve(printer.id, by=printer.assignee or "lena", resolution="Cleared the paper path")
        desk.reply(vpn.id, author=vpn.assignee or "tom", body="Escalating to network.")
        desk.escalate(vpn.id, by=vpn.assignee or "tom", reason="VPN concentrator")
        clock.advance(timedelta(hours=3))
        desk.tick()

        for ticket in desk.search(TicketQuery(order_by="number")).items:
            print(f"#{ticket.number} {ticket.subject!r}: {ticket.status}, tier {ticket.tier}, "
                  f"assignee {ticket.assignee}")
        # An email sender claims events from the outbox, sends, and acknowledges them.
        batch = store.claim_outbox("mailer", now=clock.now(), limit=1000)
        kinds = sorted({type(item.event).__name__ for item in batch})
        print(f"{len(batch)} events to deliver: {', '.join(kinds)}")
        store.ack_outbox("mailer", [item.id for item in batch])
        assert not store.claim_outbox("mailer", now=clock.now())
        store.close()


if __name__ == "__main__":
    main()
