"""A reference model for your own helpdesk: random commands, the library's answers, and
the invariants every helpdesk keeps.

:class:`ReferenceModel` is a Hypothesis ``RuleBasedStateMachine``. Each step draws a
*command* (data describing a facade call: :class:`Open`, :class:`Reply`,
:class:`ChangeStatus`, :class:`Solve`, :class:`Reopen`, :class:`Escalate`,
:class:`SetPriority`, :class:`Rate`, :class:`AdvanceTime`), runs it on a
:class:`~helpdesk_core.Helpdesk` (MemoryStore, ManualClock, SequentialIds) and checks:

* lifecycle: the status belongs to the ticket's lifecycle and its category; a closed
  ticket stays as it is (closed is terminal);
* SLA monotonicity: within a clock cycle, business time used never decreases and a
  breach stays as long as the target is unchanged;
* replay: replaying ``desk.history(id)`` gives ``desk.get(id)``;
* history: a ticket is rated at most once, takes no event but its rating after the
  command that closed it, and its first response is its first public agent reply (an
  internal note is none);
* access: a requester cannot change another requester's ticket.

Subclass it and implement :meth:`ReferenceModel.apply_to_system`: apply the same command
to *your* system and return what you saw as an :class:`Observed`; every field you fill in
is compared with the library's :class:`Outcome`, and a difference fails the run (then
Hypothesis shrinks it to a minimal sequence of commands).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from attrs import Attribute, evolve, field, frozen
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from helpdesk_core.clock import ManualClock
from helpdesk_core.config import DeskConfig
from helpdesk_core.errors import HelpdeskError, ValidationError
from helpdesk_core.ids import SequentialIds
from helpdesk_core.model import (
    CommentAdded,
    Event,
    Rated,
    Requester,
    StatusCategory,
    StatusChanged,
    Ticket,
    replay,
)
from helpdesk_core.service import Helpdesk
from helpdesk_core.storage import MemoryStore, Store

__all__ = [
    "AdvanceTime",
    "ChangeStatus",
    "Command",
    "CommandRunner",
    "Escalate",
    "Mismatch",
    "Observed",
    "Open",
    "Outcome",
    "Rate",
    "ReferenceModel",
    "Reopen",
    "Reply",
    "SetPriority",
    "Solve",
    "TicketCommand",
    "default_config",
]

#: Monday 2 March 2026, 09:00 in Berlin: where the model's clock starts by default.
DEFAULT_START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))


# ---------------------------------------------------------------------------- commands
def _check_name_text(instance: object, attribute: Attribute[Any], value: object) -> None:
    """A field the runner reads as text itself (who opens a ticket, who acts)."""
    if not isinstance(value, str):
        raise ValidationError(f"{attribute.name} is text, got {value!r}", field=attribute.name)


def _check_whole(instance: object, attribute: Attribute[Any], value: object) -> None:
    """A field the runner counts with itself (a ticket position, minutes)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"{attribute.name} is a whole number, got {value!r}", field=attribute.name
        )


@frozen(kw_only=True)
class Command:
    """A facade call described as data (the base of every command)."""


@frozen(kw_only=True)
class Open(Command):
    """``desk.open(...)`` by requester ``requester`` (an id; the requester is created)."""

    requester: str = field(validator=_check_name_text)
    subject: str = "Something is broken"
    impact: str = "medium"
    urgency: str = "medium"
    type: str = "incident"


@frozen(kw_only=True)
class TicketCommand(Command):
    """A command on a ticket: ``ticket`` is the position of the ticket among those
    opened so far (0 = the first); ``by`` is ``"agent:<id>"`` or ``"requester:<id>"``, or
    ``"requester:@own"`` (the ticket's requester) or ``"agent:@team"`` (its assignee, else
    an agent of its team, else the first active agent), which the runner resolves."""

    ticket: int = field(validator=_check_whole)
    by: str = field(validator=_check_name_text)


@frozen(kw_only=True)
class Reply(TicketCommand):
    """``desk.reply(...)``: a public reply or an internal note."""

    public: bool = True
    body: str = "Any news?"


@frozen(kw_only=True)
class ChangeStatus(TicketCommand):
    """``desk.transition(ticket, to, ...)`` with a transition name or a status name."""

    to: str
    first_contact: bool = False
    reason: str = "as discussed"
    resolution: str = "fixed"


@frozen(kw_only=True)
class Solve(TicketCommand):
    """``desk.solve(...)`` with a resolution note."""

    first_contact: bool = False
    resolution: str = "fixed"


@frozen(kw_only=True)
class Reopen(TicketCommand):
    """``desk.reopen(...)``."""

    reason: str = "still broken"


@frozen(kw_only=True)
class Escalate(TicketCommand):
    """``desk.escalate(...)`` to the next tier."""

    reason: str = "needs specialists"


@frozen(kw_only=True)
class SetPriority(TicketCommand):
    """``desk.set_priority(...)``."""

    priority: str


@frozen(kw_only=True)
class Rate(TicketCommand):
    """``desk.rate(...)`` with a score from 1 to 5."""

    score: int


@frozen(kw_only=True)
class AdvanceTime(Command):
    """Time passes (``clock.advance``), then ``desk.tick()`` records what fell due."""

    minutes: int = field(validator=_check_whole)


# ---------------------------------------------------------------------------- outcomes
@frozen(kw_only=True)
class Outcome:
    """What the library did with a command: ``error`` is the name of the
    :class:`~helpdesk_core.errors.HelpdeskError` class it raised (None: accepted);
    ``ticket`` the ticket afterwards (None for :class:`AdvanceTime` and a refused
    :class:`Open`); ``events`` the events recorded; ``now`` the clock's time."""

    command: Command
    now: datetime
    error: str | None = None
    message: str = ""
    ticket: Ticket | None = None
    events: tuple[Event, ...] = ()

    @property
    def accepted(self) -> bool:
        """True when the command went through."""
        return self.error is None

    @property
    def status(self) -> str | None:
        """The ticket's status afterwards."""
        return None if self.ticket is None else self.ticket.status

    @property
    def deadlines(self) -> dict[str, datetime | None]:
        """Deadline of each SLA clock of the ticket (None while paused or stopped)."""
        if self.ticket is None:
            return {}
        return {metric: clock.deadline for metric, clock in self.ticket.sla.items()}

    @property
    def breached(self) -> frozenset[str]:
        """The metrics whose clock is breached."""
        if self.ticket is None:
            return frozenset()
        return frozenset(m for m, c in self.ticket.sla.items() if c.breached_at is not None)

    @property
    def event_types(self) -> tuple[str, ...]:
        """The class names of the events recorded, in order."""
        return tuple(type(e).__name__ for e in self.events)


def _check_flag(instance: object, attribute: Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, bool):
        raise ValidationError(
            f"{attribute.name} is True, False or None, got {value!r}", field=attribute.name
        )


def _check_text(instance: object, attribute: Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise ValidationError(
            f"{attribute.name} is text or None, got {value!r}", field=attribute.name
        )


def _names(name: str, values: object) -> list[str]:
    """``values`` as a list of names (text), or a ValidationError naming ``name``."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValidationError(f"{name} is a collection of names, got {values!r}", field=name)
    items = list(values)
    for item in items:
        if not isinstance(item, str):
            raise ValidationError(f"{name} holds names (text), got {item!r}", field=name)
    return items


def _event_types(values: Iterable[str] | None) -> tuple[str, ...] | None:
    """Event class names in order (any sequence of them) as a tuple."""
    return None if values is None else tuple(_names("event_types", values))


def _breached(values: Iterable[str] | None) -> frozenset[str] | None:
    """Metric names (any collection of them) as a frozenset."""
    return None if values is None else frozenset(_names("breached", values))


def _check_deadlines(instance: object, attribute: Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"deadlines maps metric names to deadlines, got {value!r}", field="deadlines"
        )
    for metric, deadline in value.items():
        if not isinstance(metric, str):
            raise ValidationError(
                f"deadlines is keyed by metric names (text), got {metric!r}", field="deadlines"
            )
        if deadline is not None and (
            not isinstance(deadline, datetime) or deadline.utcoffset() is None
        ):
            raise ValidationError(
                f"deadlines[{metric!r}] is a timezone-aware datetime or None, got {deadline!r}",
                field="deadlines",
            )


@frozen(kw_only=True)
class Observed:
    """What the system under test did with a command. Fields left as None are not
    compared; ``accepted=False`` with ``error=None`` compares only the refusal.
    ``event_types`` may be any sequence of event class names and ``breached`` any
    collection of metric names (a list, a set); a field of the wrong kind raises
    ValidationError naming it."""

    accepted: bool | None = field(default=None, validator=_check_flag)
    error: str | None = field(default=None, validator=_check_text)
    status: str | None = field(default=None, validator=_check_text)
    priority: str | None = field(default=None, validator=_check_text)
    deadlines: Mapping[str, datetime | None] | None = field(
        default=None, hash=False, validator=_check_deadlines
    )
    breached: frozenset[str] | None = field(default=None, converter=_breached)
    event_types: tuple[str, ...] | None = field(default=None, converter=_event_types)


class Mismatch(AssertionError):
    """The system under test disagreed with the reference."""


def differences(expected: Outcome, observed: Observed) -> list[str]:
    """The fields of ``observed`` that differ from ``expected``, described."""
    out: list[str] = []

    def check(name: str, want: Any, got: Any) -> None:
        if got is not None and got != want:
            out.append(f"{name}: reference {want!r}, system {got!r}")

    check("accepted", expected.accepted, observed.accepted)
    check("error", expected.error, observed.error)
    check("status", expected.status, observed.status)
    ticket = expected.ticket
    check("priority", None if ticket is None else ticket.priority.value, observed.priority)
    if observed.deadlines is not None:
        check("deadlines", expected.deadlines, dict(observed.deadlines))
    check("breached", expected.breached, observed.breached)
    check("event_types", expected.event_types, observed.event_types)
    return out


#: Symbolic actors of a :class:`TicketCommand`: the ticket's own requester, and the agent
#: working it (else one of its team's).
OWN_REQUESTER = "requester:@own"
TEAM_AGENT = "agent:@team"


# ---------------------------------------------------------------------------- runner
class CommandRunner:
    """Runs commands on a desk, remembering the tickets opened (in order) so that
    :class:`TicketCommand` positions can be resolved. Use it with
    :func:`~helpdesk_core.testing.strategies.command_sequences` in a plain ``@given``."""

    def __init__(self, desk: Helpdesk) -> None:
        if not isinstance(desk, Helpdesk):
            raise ValidationError(
                f"desk must be a Helpdesk, got {type(desk).__name__}", field="desk"
            )
        self.desk = desk
        self.tickets: list[str] = []

    def resolve(self, command: Command) -> Command | None:
        """The command with its ticket position taken modulo the number of tickets
        opened; None when it names a ticket and there is none yet."""
        _check_command(command, Command)
        if isinstance(command, TicketCommand):
            if not self.tickets:
                return None
            position = command.ticket % len(self.tickets)
            by = command.by
            if by in (OWN_REQUESTER, TEAM_AGENT):
                by = self._actor_for(self.desk.get(self.tickets[position]), by)
            return evolve(command, ticket=position, by=by)
        return command

    def _actor_for(self, ticket: Ticket, by: str) -> str:
        if by == OWN_REQUESTER:
            return f"requester:{ticket.requester}"
        agents = [a for a in self.desk.config.agents if a.active]
        chosen = ticket.assignee or next(
            (a.id for a in agents if ticket.team is not None and ticket.team in a.teams),
            agents[0].id if agents else "agent",
        )
        return f"agent:{chosen}"

    def ticket_id(self, command: TicketCommand) -> str:
        """The id of the ticket a (resolved) command is about."""
        position = command.ticket
        if (
            isinstance(position, bool)
            or not isinstance(position, int)
            or not 0 <= position < len(self.tickets)
        ):
            raise ValidationError(
                f"{command!r} names ticket {position!r}, and {len(self.tickets)} ticket(s) "
                "are open: resolve the command first",
                field="command",
            )
        return self.tickets[position]

    def run(self, command: Command) -> Outcome:
        """Apply a resolved command; a HelpdeskError becomes a refused :class:`Outcome`.
        A command that is not resolved (a ticket position past the tickets opened, a
        symbolic actor) raises ValidationError."""
        _check_command(command, *_KINDS)
        desk = self.desk
        if isinstance(command, AdvanceTime):
            clock = desk.clock
            if not isinstance(clock, ManualClock):
                raise ValidationError(
                    f"{command!r} needs a desk with a ManualClock, got "
                    f"{type(clock).__name__}",
                    field="command",
                )
            clock.advance(timedelta(minutes=command.minutes))
            events = desk.tick()
            return Outcome(command=command, now=clock.now(), events=tuple(events))
        ticket_id = self.ticket_id(command) if isinstance(command, TicketCommand) else None
        if isinstance(command, TicketCommand) and command.by in (OWN_REQUESTER, TEAM_AGENT):
            raise ValidationError(
                f"{command!r} names its actor {command.by!r}: resolve the command first",
                field="command",
            )
        before = 0 if ticket_id is None else desk.get(ticket_id).version
        try:
            ticket = self._call(command, ticket_id)
        except HelpdeskError as error:
            current = None if ticket_id is None else desk.get(ticket_id)
            return Outcome(
                command=command,
                now=desk.clock.now(),
                error=type(error).__name__,
                message=str(error),
                ticket=current,
            )
        if isinstance(command, Open):
            self.tickets.append(ticket.id)
        events = desk.history(ticket.id)[before:]
        return Outcome(command=command, now=desk.clock.now(), ticket=ticket, events=tuple(events))

    def _call(self, command: Command, ticket_id: str | None) -> Ticket:
        desk = self.desk
        if isinstance(command, Open):
            return desk.open(
                requester=Requester(id=command.requester, name=command.requester.title()),
                subject=command.subject,
                impact=command.impact,
                urgency=command.urgency,
                type=command.type,
            )
        assert ticket_id is not None
        assert isinstance(command, TicketCommand)
        by = command.by
        if isinstance(command, Reply):
            return desk.reply(ticket_id, author=by, body=command.body, public=command.public)
        if isinstance(command, ChangeStatus):
            return desk.transition(
                ticket_id,
                command.to,
                by=by,
                reason=command.reason,
                resolution=command.resolution,
                first_contact=command.first_contact,
            )
        if isinstance(command, Solve):
            return desk.solve(
                ticket_id, by=by, resolution=command.resolution,
                first_contact=command.first_contact,
            )
        if isinstance(command, Reopen):
            return desk.reopen(ticket_id, by=by, reason=command.reason)
        if isinstance(command, Escalate):
            return desk.escalate(ticket_id, by=by, reason=command.reason)
        if isinstance(command, SetPriority):
            return desk.set_priority(ticket_id, command.priority, by=by)
        if isinstance(command, Rate):
            return desk.rate(ticket_id, score=command.score, by=by)
        raise TypeError(f"unknown command {type(command).__name__}")


_KINDS = (Open, Reply, ChangeStatus, Solve, Reopen, Escalate, SetPriority, Rate, AdvanceTime)


def _check_command(command: object, *kinds: type[Command]) -> None:
    """``command`` is one of ``kinds`` (a runner resolves any command, and runs those of
    :data:`_KINDS`)."""
    if not isinstance(command, kinds):
        raise ValidationError(
            f"command must be {' or '.join(k.__name__ for k in kinds)}, got "
            f"{type(command).__name__}",
            field="command",
        )


# ---------------------------------------------------------------------------- model
_DEFAULT_DOC: dict[str, Any] = {
    "desk": {"name": "Reference desk", "timezone": "Europe/Berlin"},
    "calendars": {
        "office": {
            "timezone": "Europe/Berlin",
            "hours": {"mon-fri": ["09:00-12:30", "13:30-17:00"]},
            "holidays": ["2026-04-03", "2026-04-06"],
        },
        "always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}},
    },
    "tiers": [{"id": "L1", "teams": ["desk"]}, {"id": "L2", "teams": ["experts"]}],
    "teams": [
        {"id": "desk", "calendar": "office", "contacts": ["alice"]},
        {"id": "experts", "calendar": "office", "contacts": ["bob"]},
    ],
    "agents": [
        {"id": "alice", "tier": "L1", "teams": ["desk"]},
        {"id": "bob", "tier": "L2", "teams": ["experts"]},
    ],
    "sla_policies": [
        {
            "name": "p1",
            "calendar": "always",
            "when": {"field": "priority", "op": "eq", "value": "critical"},
            "targets": {"critical": {"first_response": "30m", "resolution": "4h"}},
        },
        {
            "name": "standard",
            "calendar": "office",
            "warnings": [0.5, 0.75],
            "targets": {
                "high": {"first_response": "2h", "next_response": "4h", "resolution": "1d"},
                "medium": {"first_response": "4h", "resolution": "3d"},
                "low": {"first_response": "1d", "resolution": "5d"},
            },
        },
    ],
}


def default_config() -> DeskConfig:
    """The small desk :class:`ReferenceModel` uses unless told otherwise: a Berlin
    office calendar with a lunch break, two tiers with one agent each, a 24/7 policy for
    critical tickets and a business-hours one for the rest."""
    return DeskConfig.from_dict(_DEFAULT_DOC)


class ReferenceModel(RuleBasedStateMachine):
    """Random commands on a reference desk, with the invariants checked after each step.

    Class attributes to override: ``config`` (a :class:`DeskConfig`; or override
    :meth:`desk_config`), ``start`` (the clock's first instant; a Monday 09:00 in
    Berlin), ``requester_ids`` and ``max_advance`` (longest single time step). The
    machine keeps ``desk``, ``clock``, ``runner`` and ``steps`` (commands so far).
    Override :meth:`make_store` to run the reference desk on a store of your own.

    Override :meth:`apply_to_system` to compare your own system with the reference.
    Run it with ``TestMine = MyModel.TestCase`` or
    ``hypothesis.stateful.run_state_machine_as_test(MyModel)``.
    """

    config: ClassVar[DeskConfig | None] = None
    start: ClassVar[datetime] = DEFAULT_START
    requester_ids: ClassVar[tuple[str, ...]] = ("ada", "bea", "cy")
    max_advance: ClassVar[timedelta] = timedelta(days=3)

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(self.start)
        config = self.desk_config()
        store = self.make_store()
        if store is None:  # the desk would make a MemoryStore of its own
            raise ValidationError(
                "make_store returned None: return the store the reference desk runs on",
                field="make_store",
            )
        try:
            self.desk = Helpdesk(config=config, store=store, clock=self.clock,
                                 ids=SequentialIds())
        except BaseException:
            close = getattr(store, "close", None)
            if callable(close):  # teardown() never runs for a machine that was not made
                close()
            raise
        self.runner = CommandRunner(self.desk)
        self.steps: list[Command] = []
        self._commands = _command_strategy(self.desk.config, self)
        self._seen: dict[str, Ticket] = {}
        self._used: dict[tuple[str, str, int, str], timedelta] = {}
        self._breached: set[tuple[str, str, int, str, timedelta]] = set()
        self._closed: dict[str, int] = {}

    def desk_config(self) -> DeskConfig:
        """The desk configuration (default: the class's ``config``, else
        :func:`default_config`)."""
        return type(self).config or default_config()

    def make_store(self) -> Store:
        """The store the reference desk runs on: a new, empty one for each example
        (default: a :class:`~helpdesk_core.storage.MemoryStore`). Return your own store
        to run the model's commands and invariants over it (replay equals state, the
        lifecycle, SLA monotonicity...); :meth:`teardown` closes it."""
        return MemoryStore()

    def teardown(self) -> None:
        """Close the desk's store after the example (call it when you override this)."""
        self.desk.store.close()

    def apply_to_system(self, command: Command) -> Observed | None:
        """Apply ``command`` to the system under test and say what happened (None: do not
        compare). Ticket positions are already resolved: ``command.ticket == k`` is the
        k-th ticket your system opened. Create your system in ``__init__`` (a new machine
        runs each example)."""
        return None

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        drawn = data.draw(self._commands, label="command")
        command = self.runner.resolve(drawn)
        if command is None:
            return
        before = (
            self.desk.get(self.runner.ticket_id(command))
            if isinstance(command, TicketCommand)
            else None
        )
        outcome = self.runner.run(command)
        self.steps.append(command)
        if isinstance(command, TicketCommand) and before is not None:
            _check_access(command, before, outcome)
        observed = self.apply_to_system(command)
        if observed is not None and not isinstance(observed, Observed):
            raise ValidationError(
                f"apply_to_system must return an Observed (or None: nothing to compare), "
                f"got {type(observed).__name__} for {command!r}",
                field="apply_to_system",
            )
        if observed is not None:
            found = differences(outcome, observed)
            if found:
                raise Mismatch(
                    f"after {len(self.steps)} command(s), {command!r}:\n  " + "\n  ".join(found)
                )

    @invariant()
    def lifecycle_holds(self) -> None:
        """Each status belongs to its lifecycle and category; closed is terminal."""
        for ticket in self._tickets():
            lifecycle = self.desk.config.lifecycles[ticket.lifecycle]
            assert lifecycle.has_status(ticket.status), (ticket.id, ticket.status)
            assert lifecycle.category(ticket.status) is ticket.status_category, ticket.id
            old = self._seen.get(ticket.id)
            if old is not None and old.status_category is StatusCategory.CLOSED:
                assert ticket.status == old.status, f"{ticket.id} left closed {old.status!r}"
            self._seen[ticket.id] = ticket

    @invariant()
    def sla_is_monotonic(self) -> None:
        """Within a clock cycle under one policy, business time used never decreases,
        and a breach stays as long as the target is unchanged (a new priority or policy
        recomputes the clock: that may lift a breach, as it may cause one)."""
        for ticket in self._tickets():
            for metric, view in self.desk.sla(ticket.id).items():
                key = (ticket.id, metric, view.cycle, view.policy)
                used = self._used.get(key)
                assert used is None or view.used >= used, (key, used, view.used)
                self._used[key] = view.used
                target_key = (*key, view.target)
                if target_key in self._breached:
                    assert view.breached_at is not None, f"breach of {target_key} disappeared"
                if view.breached_at is not None:
                    self._breached.add(target_key)

    @invariant()
    def history_keeps_its_promises(self) -> None:
        """At most one rating; nothing but a rating after the command that closed the
        ticket; the first response is the first public agent reply, read from the history
        itself."""
        for ticket_id in self.runner.tickets:
            history = self.desk.history(ticket_id)
            assert sum(isinstance(e, Rated) for e in history) <= 1, f"{ticket_id} rated twice"
            closed = next(
                (
                    n
                    for n, e in enumerate(history)
                    if isinstance(e, StatusChanged) and e.category is StatusCategory.CLOSED
                ),
                None,
            )
            if closed is not None:
                # The closing command's own reactions share its instant and come before
                # the version the ticket had when it was first seen closed (after that
                # step); a later command's events come after it, at that instant or not.
                at = history[closed].at
                seen = self._closed.setdefault(ticket_id, len(history))
                late = [
                    type(e).__name__
                    for n, e in enumerate(history[closed + 1 :], start=closed + 1)
                    if not isinstance(e, Rated) and (e.at != at or n >= seen)
                ]
                assert not late, f"{ticket_id} took {late} after it closed"
            replies = [
                e.at
                for e in history
                if isinstance(e, CommentAdded) and e.public and e.by.is_agent
            ]
            first = replies[0] if replies else None
            assert self.desk.get(ticket_id).first_response_at == first, ticket_id

    @invariant()
    def replay_equals_state(self) -> None:
        """Replaying a ticket's history gives the stored ticket."""
        for ticket in self._tickets():
            history = self.desk.history(ticket.id)
            assert replay(history) == ticket, ticket.id
            assert ticket.version == len(history), ticket.id

    def _tickets(self) -> list[Ticket]:
        return [self.desk.get(ticket_id) for ticket_id in self.runner.tickets]


def _check_access(command: TicketCommand, before: Ticket, outcome: Outcome) -> None:
    kind, _, who = command.by.partition(":")
    if kind == "requester" and who != before.requester:
        assert not outcome.accepted, f"{command!r} changed another requester's ticket"
        assert outcome.ticket is not None
        assert outcome.ticket.version == before.version


def _command_strategy(config: DeskConfig, model: ReferenceModel) -> st.SearchStrategy[Command]:
    from helpdesk_core.testing.strategies import commands

    return commands(config, requesters=model.requester_ids, max_advance=model.max_advance)
