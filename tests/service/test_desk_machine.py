"""The same random commands on a MemoryStore desk and a SqliteStore desk: same events,
same tickets, same refusals."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from service_fixtures import berlin, make_desk

from helpdesk_core import HelpdeskError, MemoryStore, Requester, SqliteStore
from helpdesk_core.model import replay

REQUESTERS = ("ada", "bea", "cy")
AGENTS = ("alice", "bob")


class DeskAgreement(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        start = berlin(2026, 3, 27, 15, 0)  # a Friday afternoon before Easter week
        self.memory = make_desk(MemoryStore(), start)
        self.sqlite = make_desk(SqliteStore(Path(self._tmp.name) / "desk.sqlite"), start)
        self.ids: list[str] = []

    def teardown(self) -> None:
        if hasattr(self, "sqlite"):
            self.sqlite.store.close()
            self._tmp.cleanup()

    def both(self, method: str, *args: Any, **kwargs: Any) -> Any:
        outcomes = []
        for desk in (self.memory, self.sqlite):
            try:
                outcomes.append(("ok", getattr(desk, method)(*args, **kwargs)))
            except HelpdeskError as error:
                outcomes.append(("error", type(error).__name__))
        assert outcomes[0] == outcomes[1], (method, args, kwargs, outcomes)
        return outcomes[0][1] if outcomes[0][0] == "ok" else None

    @rule(
        requester=st.sampled_from(REQUESTERS),
        subject=st.sampled_from(["vpn down", "printer", "new laptop", "SAP access"]),
        impact=st.sampled_from(["high", "medium", "low"]),
        urgency=st.sampled_from(["high", "medium", "low"]),
    )
    def open(self, requester: str, subject: str, impact: str, urgency: str) -> None:
        ticket = self.both(
            "open",
            requester=Requester(id=requester, name=requester.title()),
            subject=subject,
            impact=impact,
            urgency=urgency,
        )
        if ticket is not None:
            self.ids.append(ticket.id)

    @rule(data=st.data(), public=st.booleans(), agent=st.booleans())
    def reply(self, data: st.DataObject, public: bool, agent: bool) -> None:
        if not self.ids:
            return
        ticket_id = data.draw(st.sampled_from(self.ids))
        author = data.draw(st.sampled_from(AGENTS if agent else REQUESTERS))
        self.both("reply", ticket_id, author=author, body="message", public=public)

    @rule(
        data=st.data(),
        to=st.sampled_from(
            ["open", "pending", "on_hold", "resume", "solve", "reopen", "close", "cancel", "solved"]
        ),
    )
    def transition(self, data: st.DataObject, to: str) -> None:
        if not self.ids:
            return
        ticket_id = data.draw(st.sampled_from(self.ids))
        by = data.draw(st.sampled_from(AGENTS + REQUESTERS[:1]))
        self.both(
            "transition",
            ticket_id,
            to,
            by=by,
            reason="because",
            resolution="fixed",
            first_contact=data.draw(st.booleans()),
        )

    @rule(data=st.data(), up=st.booleans())
    def move_tier(self, data: st.DataObject, up: bool) -> None:
        if not self.ids:
            return
        ticket_id = data.draw(st.sampled_from(self.ids))
        self.both("escalate" if up else "de_escalate", ticket_id, by="alice", reason="tier")

    @rule(data=st.data(), priority=st.sampled_from(["critical", "high", "medium", "low"]))
    def set_priority(self, data: st.DataObject, priority: str) -> None:
        if not self.ids:
            return
        self.both("set_priority", data.draw(st.sampled_from(self.ids)), priority, by="bob")

    @rule(data=st.data(), score=st.integers(min_value=1, max_value=5))
    def rate(self, data: st.DataObject, score: int) -> None:
        if not self.ids:
            return
        self.both("rate", data.draw(st.sampled_from(self.ids)), score=score)

    @rule(minutes=st.integers(min_value=1, max_value=3 * 24 * 60))
    def time_passes(self, minutes: int) -> None:
        for desk in (self.memory, self.sqlite):
            desk.clock.advance(timedelta(minutes=minutes))  # type: ignore[attr-defined]
        a = self.memory.tick()
        b = self.sqlite.tick()
        assert a == b

    @invariant()
    def same_tickets_and_histories(self) -> None:
        if not hasattr(self, "memory"):
            return
        for ticket_id in self.ids:
            left = self.memory.get(ticket_id)
            right = self.sqlite.get(ticket_id)
            assert left == right
            history = self.memory.history(ticket_id)
            assert history == self.sqlite.history(ticket_id)
            assert replay(history) == left
            assert left.version == len(history)


TestDeskAgreement = DeskAgreement.TestCase
TestDeskAgreement.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
