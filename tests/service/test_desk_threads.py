"""One desk shared by the threads of a web app: what the desk remembers between commands
(permissions granted, the agents of a team, whether queues are drained) belongs to the
configuration it was worked out from, even when another thread reconfigures the desk in
the middle of working it out. Each test holds one thread at the point where it has read
the old configuration, reconfigures from another, then lets it go on."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import pytest
from attrs import evolve

from helpdesk_core import AccessDenied, DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester
from helpdesk_core.demo import example_config

T0 = datetime(2026, 5, 4, 10, tzinfo=UTC)
ADA = Requester(id="ada", attributes={"region": "emea"})


def _with_agents(config: DeskConfig, **changes: dict[str, Any]) -> DeskConfig:
    agents = tuple(evolve(a, **changes[a.id]) if a.id in changes else a for a in config.agents)
    return config.replace(agents=agents)


def _held_while(
    target: Callable[[], object],
    pause: Callable[[FrameType, str], bool],
    meanwhile: Callable[[], None],
) -> None:
    """Run ``target`` in a thread, hold the thread where ``pause(frame, event)`` says, run
    ``meanwhile`` here, then let the thread finish."""
    reached, go = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        if not reached.is_set() and pause(frame, event):
            reached.set()
            go.wait(10)
        return tracer

    def run() -> None:
        sys.settrace(tracer)
        try:
            target()
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            sys.settrace(None)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert reached.wait(10), "the thread never reached the pause"
        meanwhile()
    finally:
        go.set()
        thread.join(10)
    assert not failures, failures


def test_a_permission_worked_out_under_the_old_configuration_is_not_kept_for_the_new() -> None:
    config = example_config()
    desk = Helpdesk(config, MemoryStore(), ManualClock(T0))
    ticket = desk.open(requester=ADA, subject="VPN drops")
    revoked = _with_agents(config, lena={"active": False})

    def after_the_policy_decided(frame: FrameType, event: str) -> bool:
        return event == "return" and frame.f_code.co_name == "_decide_access"

    def revoke() -> None:
        desk.reconfigure(revoked)
        desk.get(ticket.id, as_="marc")  # another request under the new configuration

    _held_while(lambda: desk.get(ticket.id, as_="lena"), after_the_policy_decided, revoke)
    with pytest.raises(AccessDenied):
        desk.get(ticket.id, as_="lena")  # before: granted, remembered from the old rules


def test_the_agents_of_a_team_read_under_the_old_configuration_are_not_kept_for_the_new() -> None:
    base = example_config()
    base = base.replace(agents=tuple(evolve(a, calendar=None) for a in base.agents))
    others = {a.id: {"away": True} for a in base.agents_of(team="service-desk-emea")}
    only_lena = _with_agents(base, **{k: v for k, v in others.items() if k != "lena"})
    nobody = _with_agents(base, **others)
    desk = Helpdesk(only_lena, MemoryStore(), ManualClock(T0))

    def after_reading_the_team(frame: FrameType, event: str) -> bool:
        return event == "return" and frame.f_code.co_name == "agents_of"

    def lena_goes_away() -> None:
        desk.reconfigure(nobody)
        desk.open(requester=ADA, subject="Printer jams")  # another request

    _held_while(
        lambda: desk.open(requester=ADA, subject="VPN drops"),
        after_reading_the_team,
        lena_goes_away,
    )
    ticket = desk.open(requester=ADA, subject="Mail is slow")
    assert ticket.assignee is None  # before: lena, who is away
    assert ticket.queued_at is not None


def test_a_tick_while_another_thread_first_works_out_whether_queues_drain() -> None:
    doc: dict[str, Any] = {
        "tiers": [{"id": "L1", "teams": ["desk"]}],
        "teams": [{"id": "desk"}],
        "agents": [{"id": "ann", "teams": ["desk"], "skills": ["vpn"], "away": True}],
        "routing": [{
            "name": "vpn",
            "when": {"field": "subject", "op": "contains", "value": "vpn"},
            "actions": {"assign": {"strategy": "skills_based", "skills": ["vpn"]}},
        }],
        "assignment": {"auto_assign": False},
    }  # fmt: skip
    desk = Helpdesk(DeskConfig.from_dict(doc), MemoryStore(), ManualClock(T0))
    ticket = desk.open(requester=ADA, subject="vpn down")
    assert ticket.queued_at is not None
    desk.reconfigure(_with_agents(desk.config, ann={"away": False}))

    def while_reading_the_rules(frame: FrameType, event: str) -> bool:
        caller = frame.f_back
        return (
            event == "call"
            and frame.f_code.co_name == "<genexpr>"
            and caller is not None
            and caller.f_code.co_name == "_drains"
        )

    def another_tick() -> None:
        desk.tick()
        assert desk.get(ticket.id).assignee == "ann"  # before: not offered, left queued

    _held_while(desk.tick, while_reading_the_rules, another_tick)


def test_a_unit_of_work_forgets_wake_times_before_the_store_takes_its_writes_back() -> None:
    """Another thread may run as soon as the store has rolled back: by then the wake times
    remembered for the versions taken back are forgotten."""
    from collections.abc import Iterator
    from contextlib import contextmanager

    desk = Helpdesk(example_config(), MemoryStore(), ManualClock(T0))
    ticket = desk.open(requester=ADA, subject="printer jam")
    seen_at_rollback: list[int] = []
    inner = desk.store.unit_of_work

    @contextmanager
    def watched() -> Iterator[None]:
        with inner():
            try:
                yield
            except BaseException:
                seen_at_rollback.append(len(desk._wakes))
                raise

    desk.store.unit_of_work = watched  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="undo"), desk.unit_of_work():
        desk.reply(ticket.id, author="ada", body="still jammed")
        assert desk._wakes  # the reply's version is remembered
        raise RuntimeError("undo")
    assert seen_at_rollback == [0]
    assert desk.get(ticket.id).version == ticket.version
