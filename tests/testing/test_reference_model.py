"""The reference model: its invariants hold on the library, and it catches a wrong
implementation of a user's own helpdesk and shrinks the failure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, SequentialIds, SqliteStore
from helpdesk_core.demo import example_config
from helpdesk_core.errors import StoreClosedError, ValidationError
from helpdesk_core.model import Actor, CommentAdded, StatusCategory, apply_event
from helpdesk_core.testing import (
    AdvanceTime,
    ChangeStatus,
    Command,
    CommandRunner,
    Mismatch,
    Observed,
    Open,
    Outcome,
    ReferenceModel,
    Reply,
    TicketCommand,
    default_config,
)
from helpdesk_core.testing.reference import differences

BERLIN = ZoneInfo("Europe/Berlin")
QUICK = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    # No explain phase: on a failing desk it re-runs the whole machine per step.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)


class ExampleDeskModel(ReferenceModel):
    config = example_config()


class SpringForwardModel(ReferenceModel):
    """Runs across Berlin's change to summer time (2026-03-29, 02:00 becomes 03:00)."""

    start = datetime(2026, 3, 28, 23, 0, tzinfo=BERLIN)
    max_advance = timedelta(hours=5)


TestDefaultDesk = ReferenceModel.TestCase
TestDefaultDesk.settings = QUICK
TestExampleDesk = ExampleDeskModel.TestCase
TestExampleDesk.settings = QUICK
TestSpringForward = SpringForwardModel.TestCase
TestSpringForward.settings = settings(QUICK, max_examples=60)


# ---------------------------------------------------------------- the toy SLA calculator
OFFICE = DeskConfig.from_dict(
    {
        "calendars": {
            "office": {"timezone": "Europe/Berlin", "hours": {"mon-fri": "09:00-17:00"}}
        },
        "sla_policies": [
            {
                "name": "standard",
                "calendar": "office",
                "targets": {
                    p: {"first_response": "8h"} for p in ("critical", "high", "medium", "low")
                },
            }
        ],
    }
)


def toy_deadline(start: datetime, hours: int, *, count_weekends: bool) -> datetime:
    """8 business hours, 09:00-17:00 Berlin; the buggy variant forgets weekends."""
    t = start.astimezone(BERLIN)
    left = timedelta(hours=hours)
    while left > timedelta(0):
        opens = t.replace(hour=9, minute=0, second=0, microsecond=0)
        closes = t.replace(hour=17, minute=0, second=0, microsecond=0)
        if (t.weekday() >= 5 and not count_weekends) or t >= closes:
            t = opens + timedelta(days=1)
            continue
        t = max(t, opens)
        chunk = min(left, closes - t)
        t, left = t + chunk, left - chunk
    return t


class ToySlaModel(ReferenceModel):
    config = OFFICE
    start = datetime(2026, 3, 5, 9, 0, tzinfo=BERLIN)  # a Thursday morning
    count_weekends = False

    def __init__(self) -> None:
        super().__init__()
        self.toy_clock = self.start

    def apply_to_system(self, command: Command) -> Observed | None:
        if isinstance(command, AdvanceTime):
            self.toy_clock += timedelta(minutes=command.minutes)
            return None
        if isinstance(command, Open):
            due = toy_deadline(self.toy_clock, 8, count_weekends=self.count_weekends)
            return Observed(accepted=True, deadlines={"first_response": due})
        return None


class WrongToySlaModel(ToySlaModel):
    count_weekends = True


def test_a_correct_system_passes() -> None:
    run_state_machine_as_test(ToySlaModel, settings=QUICK)


def test_a_wrong_system_is_caught_and_shrunk() -> None:
    with pytest.raises(Mismatch) as caught:
        run_state_machine_as_test(
            WrongToySlaModel,
            # Few steps and no "explain" phase keep shrinking to a few seconds.
            settings=settings(
                QUICK,
                max_examples=200,
                stateful_step_count=6,
                print_blob=False,
                database=None,
                derandomize=True,
                phases=[Phase.generate, Phase.shrink],
            ),
        )
    message = str(caught.value)
    assert "deadlines" in message
    assert "first_response" in message
    # Shrunk: time passes into the weekend, then a ticket opens.
    count = int(message.split(" command(s)")[0].split()[-1])
    assert count <= 3


def test_the_toy_calculator_agrees_with_the_calendar_on_weekdays() -> None:
    monday = datetime(2026, 3, 2, 10, 0, tzinfo=BERLIN)
    assert toy_deadline(monday, 8, count_weekends=False) == datetime(
        2026, 3, 3, 10, 0, tzinfo=BERLIN
    )
    friday = datetime(2026, 3, 6, 16, 0, tzinfo=BERLIN)
    assert toy_deadline(friday, 8, count_weekends=False) == datetime(
        2026, 3, 9, 16, 0, tzinfo=BERLIN
    )
    assert toy_deadline(friday, 8, count_weekends=True) == datetime(
        2026, 3, 7, 16, 0, tzinfo=BERLIN
    )


# ---------------------------------------------------------------- runner and outcomes
def make_desk(config: DeskConfig | None = None) -> Helpdesk:
    return Helpdesk(
        config=config or default_config(),
        store=MemoryStore(),
        clock=ManualClock(datetime(2026, 3, 2, 9, tzinfo=BERLIN)),
        ids=SequentialIds(),
    )


def test_runner_resolves_positions_and_refuses_other_requesters() -> None:
    runner = CommandRunner(make_desk())
    assert runner.resolve(Reply(ticket=0, by="requester:ada")) is None
    opened = runner.run(Open(requester="ada"))
    assert opened.accepted
    assert opened.ticket is not None
    assert opened.event_types[0] == "TicketOpened"
    assert "first_response" in opened.deadlines
    command = runner.resolve(Reply(ticket=5, by="requester:bea"))
    assert command == Reply(ticket=0, by="requester:bea")
    refused = runner.run(command)
    assert refused.error == "AccessDenied"
    assert refused.ticket is not None
    assert refused.ticket.version == opened.ticket.version
    time = runner.run(AdvanceTime(minutes=60 * 24 * 3))
    assert time.accepted
    assert "SlaBreached" in time.event_types


def test_runner_refuses_what_is_no_desk() -> None:
    with pytest.raises(ValidationError, match="Helpdesk") as caught:
        CommandRunner(cast(Any, "desk"))
    assert caught.value.field == "desk"


@pytest.mark.parametrize(
    "command",
    [
        "open",
        Command(),
        Reply(ticket=1, by="agent:alice"),  # one ticket is open: position 1 is none
        Reply(ticket=-1, by="agent:alice"),
        Reply(ticket=0, by="requester:@own"),  # its actor not resolved
        Reply(ticket=0, by="agent:@team"),
    ],
    ids=["text", "bare-command", "past-the-tickets", "negative", "own", "team"],
)
def test_runner_refuses_commands_it_cannot_run(command: Any) -> None:
    # not an IndexError or AssertionError, nor a command silently refused by the desk
    runner = CommandRunner(make_desk())
    assert runner.run(Open(requester="ada")).accepted
    version = runner.desk.get("T-000001").version
    with pytest.raises(ValidationError) as caught:
        runner.run(command)
    assert caught.value.field == "command"
    assert runner.desk.get("T-000001").version == version



@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda: Open(requester=cast(Any, 5)), "requester"),
        (lambda: Reply(ticket=cast(Any, "0"), by="agent:alice"), "ticket"),
        (lambda: Reply(ticket=True, by="agent:alice"), "ticket"),
        (lambda: Reply(ticket=0, by=cast(Any, 5)), "by"),
        (lambda: AdvanceTime(minutes=cast(Any, "5")), "minutes"),
        (lambda: AdvanceTime(minutes=2.5), "minutes"),
    ],
    ids=["requester", "ticket-text", "ticket-bool", "by", "minutes-text", "minutes-float"],
)
def test_a_command_the_runner_cannot_read_is_refused_under_its_name(
    build: Callable[[], Command], argument: str
) -> None:
    # the fields the runner reads itself (who opens, which ticket, who acts, how long):
    # a ValidationError when the command is made, not a TypeError or AttributeError (or
    # True taken for the second ticket) while it runs
    with pytest.raises(ValidationError) as caught:
        build()
    assert caught.value.field == argument


def test_runner_refuses_to_resolve_what_is_no_command() -> None:
    with pytest.raises(ValidationError) as caught:
        CommandRunner(make_desk()).resolve(cast(Any, "open"))
    assert caught.value.field == "command"


def test_runner_resolves_commands_of_your_own() -> None:
    @attrs.frozen(kw_only=True)
    class Ping(TicketCommand):
        pass

    runner = CommandRunner(make_desk())
    assert runner.run(Open(requester="ada")).accepted
    resolved = runner.resolve(Ping(ticket=3, by="requester:@own"))
    assert resolved == Ping(ticket=0, by="requester:ada")
    assert isinstance(resolved, Ping)
    assert runner.ticket_id(resolved) == "T-000001"


def test_runner_refuses_time_passing_on_a_desk_without_a_manual_clock() -> None:
    from helpdesk_core.clock import SystemClock

    desk = Helpdesk(
        config=default_config(), store=MemoryStore(), clock=SystemClock(), ids=SequentialIds()
    )
    with pytest.raises(ValidationError, match="ManualClock") as caught:
        CommandRunner(desk).run(AdvanceTime(minutes=5))
    assert caught.value.field == "command"


def test_differences_compare_only_what_was_observed() -> None:
    runner = CommandRunner(make_desk())
    outcome: Outcome = runner.run(Open(requester="ada", impact="high", urgency="high"))
    assert differences(outcome, Observed()) == []
    assert differences(outcome, Observed(accepted=True, status="new", priority="critical")) == []
    found = differences(outcome, Observed(status="open", error="InvalidTransition"))
    assert [d.split(":")[0] for d in found] == ["error", "status"]



def test_an_observation_as_a_list_or_a_set_agrees_with_the_same_outcome() -> None:
    # a system reports what it saw as it has it: its event names in a list, its breached
    # metrics in a set; equal to the reference's, they are no mismatch
    runner = CommandRunner(make_desk())
    outcome = runner.run(Open(requester="ada", impact="high", urgency="high"))
    seen = Observed(event_types=list(outcome.event_types), breached=set(outcome.breached))
    assert seen.event_types == outcome.event_types
    assert differences(outcome, seen) == []
    assert differences(outcome, Observed(event_types=[*outcome.event_types, "Rated"])) != []


@pytest.mark.parametrize(
    ("fields", "argument"),
    [
        ({"accepted": "yes"}, "accepted"),
        ({"error": ValidationError}, "error"),
        ({"status": 5}, "status"),
        ({"priority": 1}, "priority"),
        ({"deadlines": ["first_response"]}, "deadlines"),
        ({"deadlines": {"first_response": "2026-03-02T13:00:00Z"}}, "deadlines"),
        ({"deadlines": {"first_response": datetime(2026, 3, 2, 13)}}, "deadlines"),
        ({"deadlines": {1: None}}, "deadlines"),
        ({"breached": "resolution"}, "breached"),
        ({"breached": {1}}, "breached"),
        ({"event_types": "TicketOpened"}, "event_types"),
        ({"event_types": [CommentAdded]}, "event_types"),
    ],
)
def test_an_observation_of_the_wrong_kind_is_refused_under_its_name(
    fields: dict[str, Any], argument: str
) -> None:
    # not compared later, to report a mismatch the system never made
    with pytest.raises(ValidationError) as caught:
        Observed(**fields)
    assert caught.value.field == argument



@pytest.mark.parametrize("seen", [{"accepted": True}, "accepted", True])
def test_a_system_that_reports_no_observation_is_refused(seen: object) -> None:
    # what apply_to_system returns is compared field by field: anything but an Observed
    # (or None) is a ValidationError naming it, not an AttributeError from the comparison
    class Reports(ReferenceModel):
        def apply_to_system(self, command: Command) -> Observed | None:
            return cast(Any, seen)

    with pytest.raises(ValidationError, match="Observed") as caught:
        run_state_machine_as_test(Reports, settings=settings(QUICK, max_examples=5))
    assert caught.value.field == "apply_to_system"


# ---------------------------------------------------------------- the model on your store
class _Forgetful(MemoryStore):
    """Reads a ticket's history without its latest event once it has four."""

    def events(self, ticket_id: str, *, after_version: int = 0) -> Any:
        found = super().events(ticket_id, after_version=after_version)
        return found[:-1] if after_version == 0 and len(found) >= 4 else found


def test_the_model_runs_on_a_store_of_your_own(tmp_path: Path) -> None:
    made: list[SqliteStore] = []

    class OnSqlite(ReferenceModel):
        def make_store(self) -> SqliteStore:
            store = SqliteStore(tmp_path / f"model-{len(made)}.sqlite")
            made.append(store)
            return store

    run_state_machine_as_test(OnSqlite, settings=settings(QUICK, max_examples=10))
    assert made
    for store in made:  # each example's store is closed after it
        with pytest.raises(StoreClosedError):
            store.load("T-1")


def test_a_store_made_for_a_desk_that_cannot_be_made_is_closed(tmp_path: Path) -> None:
    made: list[SqliteStore] = []

    class Refused(ReferenceModel):
        def make_store(self) -> SqliteStore:
            made.append(SqliteStore(tmp_path / "model.sqlite"))
            return made[-1]

        def desk_config(self) -> DeskConfig:
            return cast(Any, "not a configuration")

    with pytest.raises(ValidationError):
        Refused()
    with pytest.raises(StoreClosedError):
        made[0].load("T-1")


def test_a_make_store_that_returns_nothing_is_refused() -> None:
    # a forgotten return: the model ran on a MemoryStore, and never on the store
    class Forgot(ReferenceModel):
        def make_store(self) -> Any:
            SqliteStore(":memory:").close()  # made, and not returned

    with pytest.raises(ValidationError, match="make_store") as caught:
        Forgot()
    assert caught.value.field == "make_store"


def test_a_make_store_that_returns_no_store_is_refused_by_the_desk() -> None:
    # the desk's ValidationError, not an AttributeError from closing what is no store
    class NoStore(ReferenceModel):
        def make_store(self) -> Any:
            return "sqlite://"

    with pytest.raises(ValidationError) as caught:
        NoStore()
    assert caught.value.field == "store"


def test_the_model_on_a_broken_store_fails() -> None:
    class OnForgetful(ReferenceModel):
        def make_store(self) -> MemoryStore:
            return _Forgetful()

    with pytest.raises(AssertionError):
        run_state_machine_as_test(OnForgetful, settings=settings(QUICK, max_examples=50))


# ---------------------------------------------------------------- the invariants catch
class _TakesRepliesWhenClosed(Helpdesk):
    """Records a reply on a closed ticket instead of refusing it."""

    def reply(self, ticket_id: str, *, author: Any, body: str, **rest: Any) -> Any:
        ticket = self.get(ticket_id)
        if ticket.status_category is not StatusCategory.CLOSED:
            return super().reply(ticket_id, author=author, body=body, **rest)
        event = CommentAdded(
            ticket_id=ticket_id,
            at=self.clock.now(),
            by=Actor.agent(author.partition(":")[2]),
            comment_id=f"C-{ticket.version + 1}",
            body=body,
            public=True,
        )
        snapshot = apply_event(ticket, event)
        self.store.append(
            ticket_id, expected_version=ticket.version, events=[event], snapshot=snapshot
        )
        return snapshot


def test_a_command_on_a_closed_ticket_fails_the_history_even_with_no_time_passing() -> None:
    model = ReferenceModel()
    model.desk = _TakesRepliesWhenClosed(
        config=model.desk.config, store=MemoryStore(), clock=model.clock, ids=SequentialIds()
    )
    model.runner = CommandRunner(model.desk)
    assert model.runner.run(Open(requester="ada")).accepted
    model.history_keeps_its_promises()
    cancelled = model.runner.run(ChangeStatus(ticket=0, by="agent:alice", to="cancelled"))
    assert cancelled.status == "cancelled"
    model.history_keeps_its_promises()
    # the same instant as the cancellation: no AdvanceTime in between
    assert model.runner.run(Reply(ticket=0, by="agent:alice", body="Any news?")).accepted
    with pytest.raises(AssertionError, match=r"T-000001 took \['CommentAdded'\] after it closed"):
        model.history_keeps_its_promises()
