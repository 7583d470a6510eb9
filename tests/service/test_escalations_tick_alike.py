"""SLA policies chosen by priority, VIP and business hours at the opening, escalation
triggers on SLA state, time in tier (in business hours or not), reopens and priority,
with conditions on office hours or the status, and auto-close on a lunch-break calendar
across a DST change: desks ticked at every wake-up, every hour, every seven minutes or
never between commands record the same events at the same instants, and a ticket's live
SLA figures read before a tick are those it shows after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester, SequentialIds
from helpdesk_core.errors import HelpdeskError
from helpdesk_core.model import Event, replay
from helpdesk_core.workflow import Lifecycle

START = datetime(2026, 3, 26, 7, 17, tzinfo=UTC)  # Thursday; Berlin springs forward Sunday
TARGETS = st.sampled_from([None, "15m", "1h", "2h", "8h"])
METRICS = ("first_response", "next_response", "resolution", "periodic_update")
CONDITIONS = {
    None: None,
    "office": {"field": "business_hours.office", "op": "eq", "value": True},
    "worked": {"field": "status_category", "op": "not_in", "value": ["pending", "on_hold"]},
}
ACTIONS = st.sampled_from(
    [
        {"action": "escalate_tier"},
        {"action": "raise_level"},
        {"action": "set_priority", "priority": "critical"},
        {"action": "set_priority", "priority": "low"},
        {"action": "notify", "contact": "team_lead"},
    ]
)


@st.composite
def targets(draw: st.DrawFn) -> dict[str, dict[str, str]]:
    found = {}
    for priority in ("low", "medium", "high", "critical"):
        chosen = {m: t for m in METRICS if (t := draw(TARGETS)) is not None}
        if chosen:
            found[priority] = chosen
    return found


@st.composite
def triggers(draw: st.DrawFn) -> list[dict[str, Any]]:
    found = []
    for i in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["sla_warning", "sla_breach", "time_in_tier", "reopens",
                                     "priority"]))  # fmt: skip
        trigger: dict[str, Any] = {"name": f"t{i}", "on": kind}
        if kind in ("sla_warning", "sla_breach"):
            trigger["metric"] = draw(st.sampled_from(METRICS))
        elif kind == "time_in_tier":
            trigger["after"] = draw(st.sampled_from(["30m", "2h", "5h"]))
            if draw(st.booleans()):
                trigger["calendar"] = "office"
        elif kind == "reopens":
            trigger["count"] = 1
        else:
            trigger["priorities"] = ["critical"]
        when = CONDITIONS[draw(st.sampled_from(sorted(CONDITIONS, key=str)))]
        if when is not None:
            trigger["when"] = when
        trigger["actions"] = draw(st.lists(ACTIONS, min_size=1, max_size=2))
        found.append(trigger)
    return found


@st.composite
def desk_docs(draw: st.DrawFn) -> dict[str, Any]:
    policies: list[dict[str, Any]] = []
    if draw(st.booleans()):
        policies.append({"name": "vip", "calendar": "always", "warnings": [0.5],
                         "when": {"field": "requester.vip", "op": "eq", "value": True},
                         "targets": draw(targets())})  # fmt: skip
    if draw(st.booleans()):
        policies.append({"name": "night", "calendar": "office",
                         "when": {"field": "business_hours.office", "op": "eq", "value": False},
                         "pauses": {"next_response": ["pending"]},
                         "targets": draw(targets())})  # fmt: skip
    policies.append({"name": "standard", "calendar": draw(st.sampled_from(["office", "always"])),
                     "warnings": draw(st.sampled_from([[], [0.75], [0.5, 0.9]])),
                     "reopen": draw(st.sampled_from(["continue", "restart"])),
                     "targets": draw(targets())})  # fmt: skip
    lifecycle = Lifecycle.default().to_dict()
    lifecycle["calendar"] = "office"
    lifecycle["auto_close_after"] = draw(st.sampled_from([0, 1, None]))
    lifecycle["reopen_window"] = draw(st.sampled_from([3600, 604800]))
    hours = draw(st.sampled_from(["09:00-17:00", ["09:00-12:00", "13:00-17:00"], "22:00-06:00"]))
    return {
        "calendars": {
            "office": {"timezone": "Europe/Berlin", "hours": {"mon-fri": hours},
                       "holidays": draw(st.sampled_from([[], ["2026-03-27"], ["2026-03-30"]]))},
            "always": {"timezone": "Europe/Berlin", "hours": {"mon-sun": "00:00-24:00"}},
        },
        "tiers": [{"id": "L1", "teams": ["desk"]}, {"id": "L2", "teams": ["network"]},
                  {"id": "L3", "teams": ["eng"]}],
        "teams": [{"id": "desk", "contacts": ["lead"]}, {"id": "network", "contacts": ["lead"]},
                  {"id": "eng"}],
        "agents": [{"id": "ann", "teams": ["desk", "network", "eng"], "role": "admin"},
                   {"id": "lead", "teams": ["desk"], "capacity": 0}],
        "sla_policies": policies,
        "escalation_policies": [{"name": "e", "triggers": draw(triggers())}],
        "lifecycles": {"default": lifecycle},
        "assignment": {"auto_assign": False},
    }  # fmt: skip


OPS = st.sampled_from(["reply", "message", "note", "pending", "on_hold", "resume", "solve",
                       "reopen", "priority", "escalate", "level", "cancel"])  # fmt: skip
STEPS = st.lists(
    st.tuples(st.sampled_from([3, 29, 61, 150, 400, 1500]), OPS, st.integers(0, 3),
              st.integers(0, 1)),
    min_size=1,
    max_size=8,
)  # fmt: skip


def _run(
    doc: dict[str, Any], steps: list[tuple[int, str, int, int]], every: Any, vip: bool
) -> list[Event]:
    clock = ManualClock(START)
    desk = Helpdesk(DeskConfig.from_dict(doc), MemoryStore(), clock, ids=SequentialIds())
    desk.upsert_requester(Requester(id="ada", vip=vip))
    ids = [desk.open(requester="ada", subject="VPN down").id]
    clock.advance(timedelta(minutes=45))
    ids.append(desk.open(requester="ada", subject="Printer jams", priority="high").id)

    def tick() -> None:
        before = [desk.sla(i) for i in ids]
        desk.tick()
        assert [desk.sla(i) for i in ids] == before  # live figures read what a tick records

    def tick_until(until: datetime) -> None:
        if every == "wakeup":
            while (wake := desk.next_wakeup(queues=False, retention=False)) is not None:
                if wake > until:
                    return
                clock.set(max(wake, clock.now()))
                tick()
        elif every is not None:
            step = timedelta(minutes=every)
            at = START + step * ((clock.now() - START) // step + 1)
            while at < until:
                clock.set(at)
                tick()
                at += step

    at = clock.now()
    for minutes, op, n, which in steps:
        ticket_id = ids[which]
        at += timedelta(minutes=minutes)
        tick_until(at)
        clock.set(at)
        try:
            if op == "reply":
                desk.reply(ticket_id, author="ann", body="looking")
            elif op == "message":
                desk.reply(ticket_id, author="requester:ada", body="still down")
            elif op == "note":
                desk.reply(ticket_id, author="ann", body="hm", public=False)
            elif op in ("pending", "on_hold", "resume", "reopen", "cancel"):
                desk.transition(ticket_id, op, by="ann", reason="r")
            elif op == "solve":
                desk.solve(ticket_id, by="ann", resolution="done", first_contact=True)
            elif op == "priority":
                desk.set_priority(ticket_id, ("low", "medium", "high", "critical")[n], by="ann")
            elif op == "escalate":
                desk.escalate(ticket_id, by="ann", reason="needs a specialist")
            else:
                desk.raise_level(ticket_id, by="ann", reason="no progress")
        except HelpdeskError:
            pass
    end = at + timedelta(days=5)
    tick_until(end)
    clock.set(end)
    desk.tick()
    recorded = []
    for ticket_id in ids:
        history = desk.history(ticket_id)
        assert replay(history) == desk.get(ticket_id)
        recorded.extend(history)
    return recorded


@settings(max_examples=40, deadline=None)
@given(doc=desk_docs(), steps=STEPS, vip=st.booleans())
def test_escalations_and_auto_close_record_the_same_events_however_often_the_desk_ticks(
    doc: dict[str, Any], steps: list[tuple[int, str, int, int]], vip: bool
) -> None:
    expected = _run(doc, steps, "wakeup", vip)
    for every in (60, None, 7):
        assert _run(doc, steps, every, vip) == expected, every
