"""Two weeks of the bundled IT desk as an application runs it: requesters write in by
email (new requests, threaded replies, out-of-office answers, copies delivered twice),
agents answer, solve, escalate and link incidents to a problem they document in an
article, a scheduler ticks at ``next_wakeup()`` and delivers the outbox, the desk is
reconfigured (an agent on leave, a tighter target), retention anonymises and purges, and
one requester is erased. The same script on MemoryStore and SqliteStore must leave the
same tickets, events, mail and reports, and the global invariants must hold."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from service_fixtures import BERLIN

from helpdesk_core import (
    DeskConfig,
    Helpdesk,
    ManualClock,
    MemoryStore,
    SequentialIds,
    SqliteStore,
)
from helpdesk_core.channels.email import EmailChannel, EmailSettings
from helpdesk_core.demo import example_config
from helpdesk_core.errors import HelpdeskError
from helpdesk_core.model import (
    Requester,
    SlaBreached,
    SlaClockStopped,
    Ticket,
    replay,
)
from helpdesk_core.model.events import CANCELLED, NO_TARGET
from helpdesk_core.reporting import Report, build_report
from helpdesk_core.storage import Store, TicketQuery

DOMAIN = "desk.example.com"
START = datetime(2026, 3, 23, 7, 0, tzinfo=BERLIN)  # a Monday; summer time starts on day 6
DAYS = 14
PEOPLE = [
    ("ada", "Ada Lovelace", "emea"),
    ("grace", "Grace Hopper", "amer"),
    ("alan", "Alan Turing", "emea"),
    ("juergen", "Jürgen Müller", "emea"),
    ("zoe", "Zoë O'Brien, MSc", "amer"),
]
ERASED = "ada@example.org"
SUBJECTS = ["VPN drops every few minutes", "Printer on floor 3 jams", "Laptop fan is loud"]
TEAM_AGENT = {
    "service-desk-amer": "jamie",
    "network": "nora",
    "workplace": "wim",
    "engineering": "eva",
}


def _config(*, leave: bool = False, target: str = "4h") -> DeskConfig:
    doc: dict[str, Any] = example_config().to_dict()
    for agent in doc["agents"]:
        agent["email"] = f"{agent['id']}@{DOMAIN}"
        agent["away"] = leave and agent["id"] == "tom"
    doc["agents"].append({"id": "root", "role": "admin"})
    for policy in doc["sla_policies"]:
        if policy["name"] == "standard-emea":
            policy["targets"]["medium"]["first_response"] = target
    doc["privacy"] = {
        "retention": [
            {"name": "problems", "after": "2d", "action": "purge", "ticket_types": ["problem"]},
            {"name": "closed", "after": "3d", "action": "anonymise"},
        ],
        "check_every": "6h",
    }
    return DeskConfig.from_dict(doc)


@dataclass
class Month:
    store: Store
    seed: int
    unexpected: list[str] = field(default_factory=list)
    sent: list[EmailMessage] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)
    to_requester: dict[int, str] = field(default_factory=dict)
    problem: str | None = None
    messages: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.relay = random.Random(self.seed + 1)
        self.clock = ManualClock(START)
        self.desk = Helpdesk(_config(), self.store, self.clock, ids=SequentialIds())
        self.channel = EmailChannel(self.desk, EmailSettings(address=f"help@{DOMAIN}"))
        self.live = Report()
        self.desk.subscribe(self.live.add)
        self.desk.upsert_requester(Requester(id="ops", name="Operations"))
        for pid, name, region in PEOPLE:
            address = f"{pid}@example.org"
            self.desk.upsert_requester(
                Requester(id=address, name=name, email=address, attributes={"region": region})
            )

    def attempt(self, what: str, command: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except HelpdeskError as error:
            return error
        except Exception as error:  # anything else is what this test looks for
            self.unexpected.append(f"{what}: {error!r}")
            return None

    def send(self, message: EmailMessage) -> None:
        if self.relay.random() < 0.03:
            self.failed.add(str(message["X-Helpdesk-Event"]))
            raise OSError(f"550 relay refused {message['To']}")
        self.sent.append(message)
        if str(message["To"]).endswith("@example.org>"):
            self.to_requester[int(str(message["X-Helpdesk-Ticket"]))] = str(message["Message-ID"])

    def run_until(self, at: datetime) -> None:
        wake = self.desk.next_wakeup()
        while wake is not None and wake <= at:
            self.clock.set(max(wake, self.clock.now()))
            self.attempt("tick", self.desk.tick)
            self.attempt("deliver", self.channel.deliver, self.send)
            after = self.desk.next_wakeup()
            assert after is None or after > wake, f"next_wakeup stays at {wake}"
            wake = after
        self.clock.set(at)

    def mail(self, sender: Address | str, subject: str, body: str, **headers: str) -> EmailMessage:
        self.messages += 1
        message = EmailMessage()
        message["From"] = sender
        message["To"] = f"help@{DOMAIN}"
        message["Subject"] = subject
        message["Message-ID"] = f"<m{self.messages}@example.org>"
        for name, value in headers.items():
            message[name] = value
        message.set_content(body)
        return message

    def live_tickets(self) -> list[Ticket]:
        query = TicketQuery(status_category=("new", "open", "pending", "solved"), limit=500)
        return list(self.desk.search(query).items)

    def act(self, day: int) -> None:
        rng, desk = self.rng, self.desk
        roll = rng.random()
        tickets = self.live_tickets()
        if roll < 0.25 or not tickets:
            people = [p for p in PEOPLE if day < 10 or p[0] != "ada"]
            pid, name, _ = rng.choice(people)
            subject = rng.choice(SUBJECTS)
            message = self.mail(
                Address(name, addr_spec=f"{pid}@example.org"),
                subject,
                f"Hello,\n\n{subject}. Please help, {name}.\n\n-- \n{name}\n",
            )
            self.attempt("receive", self.channel.receive, message)
            if rng.random() < 0.2:
                again = self.attempt("receive again", self.channel.receive, message)
                assert again is None or again.action == "ignored"
            return
        ticket = rng.choice(tickets)
        agent = ticket.assignee or TEAM_AGENT.get(ticket.team or "", "lena")
        if roll < 0.45:
            if ticket.requester == "anonymised":
                return
            address = desk.get_requester(ticket.requester).email
            if address is None:
                return
            headers = {}
            if ticket.number in self.to_requester and rng.random() < 0.5:
                headers = {"In-Reply-To": self.to_requester[ticket.number]}
            subject = f"Re: [#{ticket.number}] {ticket.subject}"
            reply = self.mail(address, subject, "Still broken.\n\n> earlier text\n", **headers)
            self.attempt("receive reply", self.channel.receive, reply)
            auto = self.mail(
                address,
                f"Out of office: {subject}",
                "I am away.",
                **{"Auto-Submitted": "auto-replied"},
            )
            result = self.attempt("receive auto-reply", self.channel.receive, auto)
            assert result is None or result.action == "ignored"
        elif roll < 0.65:
            self.attempt("reply", desk.reply, ticket.id, author=agent, body="Please restart it.")
            if rng.random() < 0.3:
                self.attempt(
                    "wait",
                    desk.transition,
                    ticket.id,
                    "pending",
                    by=agent,
                    reason="waiting for the requester",
                )
        elif roll < 0.78:
            if ticket.status_category.value == "solved":
                self.attempt(
                    "rate", desk.rate, ticket.id, score=rng.randint(1, 5), by=ticket.requester
                )
                self.attempt("close", desk.close, ticket.id, by=agent)
            else:
                self.attempt(
                    "solve",
                    desk.solve,
                    ticket.id,
                    by=agent,
                    resolution="Restarted",
                    first_contact=rng.random() < 0.3,
                )
        elif roll < 0.85:
            self.attempt("escalate", desk.escalate, ticket.id, by=agent, reason="specialists")
        elif roll < 0.93:
            if self.problem is None:
                problem = desk.open(requester="ops", subject="VPN gateway unstable", type="problem")
                self.problem = problem.id
                self.attempt(
                    "move problem",
                    desk.escalate,
                    problem.id,
                    by="root",
                    reason="network",
                    team="network",
                )
                self.attempt(
                    "known error",
                    desk.record_known_error,
                    problem.id,
                    symptom="VPN drops",
                    workaround="Use vpn2",
                    status="known_error",
                    by="root",
                )
                self.attempt(
                    "article",
                    desk.publish_article,
                    title="VPN drops",
                    body="Use the vpn2 gateway.",
                    by="nora",
                    problems=[problem.id],
                )
            if ticket.id != self.problem:
                self.attempt(
                    "link", desk.link, ticket.id, kind="caused_by", other=self.problem, by="root"
                )
        elif self.problem is not None:
            self.attempt(
                "reply problem",
                desk.reply,
                self.problem,
                author="root",
                body="Firmware 2.1 is rolled out",
            )
            self.attempt(
                "solve problem",
                desk.solve,
                self.problem,
                by="root",
                resolution="Gateway firmware 2.1",
            )
            self.attempt("close problem", desk.close, self.problem, by="root")
            self.problem = None
        else:
            self.attempt(
                "priority",
                desk.set_priority,
                ticket.id,
                rng.choice(["low", "high", "critical"]),
                by=agent,
                reason="impact",
            )

    def run(self) -> Month:
        for day in range(DAYS):
            start = START + timedelta(days=day)
            weekend = start.weekday() >= 5
            for second in sorted(
                self.rng.uniform(0, 13 * 3600) for _ in range(2 if weekend else 15)
            ):
                self.run_until(start + timedelta(seconds=second))
                self.act(day)
                self.attempt("deliver", self.channel.deliver, self.send)
            if day in (3, 7):  # tom leaves; tom is back and the EMEA target is tighter
                config = _config(leave=day == 3, target="4h" if day == 3 else "2h")
                self.attempt("reconfigure", self.desk.reconfigure, config)
            if day == 10:
                self.attempt("erase", self.desk.erase_requester, ERASED, by="root")
            self.run_until(start + timedelta(days=1))
        self.attempt("deliver", self.channel.deliver, self.send)
        return self

    def outcome(self) -> tuple[Any, ...]:
        tickets = {t.id: t for t in self.desk.search(limit=500).items}
        events = list(self.store.event_stream())
        mail = [
            (str(m["Message-ID"]), str(m["To"]), str(m["Subject"]), m.get_content())
            for m in self.sent
        ]
        report = build_report(events, calendars=dict(self.desk.config.calendars))
        return tickets, [e for _, e in events], mail, report


def _check(month: Month) -> None:
    desk, store = month.desk, month.store
    assert month.unexpected == []
    tickets, events, _, report = month.outcome()
    assert report.tickets == len(tickets) > 20
    recorded = {type(e).__name__ for e in events}
    assert recorded >= {
        "Escalated",
        "Linked",
        "LinkedTicketPurged",
        "Rated",
        "SlaBreached",
        "SlaTargetChanged",
        "TicketAnonymised",
    }
    for ticket_id, ticket in tickets.items():
        assert replay(desk.history(ticket_id)) == ticket

    # A report read in one go, one fed item by item with retried batches, and shards
    # merged give the same figures.
    calendars = dict(desk.config.calendars)
    pairs = list(store.event_stream())
    streamed, odd, even = (Report(calendars=calendars) for _ in range(3))
    for n in range(0, len(pairs), 40):
        streamed.extend(pairs[max(0, n - 7) : n + 40])
    for position, event in pairs:
        (odd if int(event.ticket_id[2:]) % 2 else even).add((position, event))
    odd.merge(even)
    assert streamed.result() == report == odd.result()

    # Every message went out once; a message sent twice belongs to an event whose
    # delivery failed part-way and was retried.
    seen: dict[tuple[str, str], int] = {}
    for message in month.sent:
        key = (str(message["Message-ID"]), str(message["To"]))
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            assert str(message["X-Helpdesk-Event"]) in month.failed
    assert store.claim_outbox("email", now=month.clock.now() + timedelta(days=1)) == []

    # The erased requester is gone from snapshots, events, outbox, search and reports.
    audit = store.claim_outbox("audit", now=month.clock.now(), limit=1000)
    text = repr((list(tickets.values()), events, audit, report))
    for trace in ("Lovelace", ERASED, "Please help, Ada"):
        assert trace not in text
    assert desk.search(text="Lovelace").total == 0
    assert desk.find_requester(email=ERASED) is None

    # SLA compliance agrees with the clocks of tickets that ran one cycle per metric.
    for ticket_id, ticket in tickets.items():
        clocks = list(ticket.sla.values())
        if any(c.cycle != 1 for c in clocks):
            continue
        history = desk.history(ticket_id)
        breached = {e.clock.metric for e in history if isinstance(e, SlaBreached)}
        stops = {e.clock.metric: e.reason for e in history if isinstance(e, SlaClockStopped)}
        met = [
            c
            for c in clocks
            if c.is_stopped
            and c.metric not in breached
            and stops.get(c.metric) not in (NO_TARGET, CANCELLED)
        ]
        sla = build_report(history).sla.overall
        assert (sla.met, sla.breached) == (len(met), sum(c.metric in breached for c in clocks))


def test_a_month_in_the_life_is_the_same_on_every_store_and_every_run(tmp_path: Path) -> None:
    memory = Month(MemoryStore(), seed=7).run()
    _check(memory)
    sqlite = Month(SqliteStore(tmp_path / "desk.sqlite"), seed=7).run()
    _check(sqlite)
    assert memory.outcome() == sqlite.outcome()
    again = Month(MemoryStore(), seed=7).run()
    assert again.outcome() == memory.outcome()
