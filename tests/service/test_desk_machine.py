"""The same random commands on a MemoryStore desk and a SqliteStore desk: same events,
same tickets, same refusals.

The commands come from the testing kit (``commands``: open, reply, transition by name or
status, solve, reopen, escalate, set priority, rate, time passing), plus de-escalation,
which the kit does not draw."""

from __future__ import annotations

import tempfile
from pathlib import Path

from attrs import frozen
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from service_fixtures import DESK, berlin, make_desk

from helpdesk_core import DeskConfig, HelpdeskError, MemoryStore, SqliteStore
from helpdesk_core.model import replay
from helpdesk_core.testing import Command, CommandRunner, TicketCommand
from helpdesk_core.testing.strategies import commands

CONFIG = DeskConfig.from_dict(DESK)
REQUESTERS = ("ada", "bea", "cy")
MAX_TICKETS = 6


@frozen(kw_only=True)
class DeEscalate(TicketCommand):
    """``desk.de_escalate(...)`` back to the tier below."""

    reason: str = "back to the desk"


STEPS = st.one_of(
    commands(CONFIG, requesters=REQUESTERS, max_tickets=MAX_TICKETS),
    st.builds(
        DeEscalate,
        ticket=st.integers(0, MAX_TICKETS - 1),
        by=st.sampled_from(["agent:alice", "agent:bob"]),
    ),
)


class DeskAgreement(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        start = berlin(2026, 3, 27, 15, 0)  # a Friday afternoon before Easter week
        memory = make_desk(MemoryStore(), start, CONFIG)
        sqlite = make_desk(SqliteStore(Path(self._tmp.name) / "desk.sqlite"), start, CONFIG)
        self.runners = (CommandRunner(memory), CommandRunner(sqlite))

    def teardown(self) -> None:
        if hasattr(self, "runners"):
            self.runners[1].desk.store.close()
            self._tmp.cleanup()

    def _de_escalate(self, runner: CommandRunner, command: DeEscalate) -> tuple[str, object]:
        try:
            ticket_id = runner.ticket_id(command)
            return ("ok", runner.desk.de_escalate(ticket_id, by=command.by, reason=command.reason))
        except HelpdeskError as error:
            return ("error", type(error).__name__)

    @rule(command=STEPS)
    def step(self, command: Command) -> None:
        resolved = [runner.resolve(command) for runner in self.runners]
        assert resolved[0] == resolved[1]
        if resolved[0] is None:
            return  # names a ticket before any was opened
        outcomes: list[object] = []
        for runner, each in zip(self.runners, resolved):
            assert each is not None
            if isinstance(each, DeEscalate):
                outcomes.append(self._de_escalate(runner, each))
            else:
                outcomes.append(runner.run(each))
        assert outcomes[0] == outcomes[1], (command, outcomes)

    @invariant()
    def same_tickets_and_histories(self) -> None:
        if not hasattr(self, "runners"):
            return
        memory, sqlite = self.runners
        assert memory.tickets == sqlite.tickets
        for ticket_id in memory.tickets:
            left = memory.desk.get(ticket_id)
            right = sqlite.desk.get(ticket_id)
            assert left == right
            history = memory.desk.history(ticket_id)
            assert history == sqlite.desk.history(ticket_id)
            assert replay(history) == left
            assert left.version == len(history)


TestDeskAgreement = DeskAgreement.TestCase
TestDeskAgreement.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
