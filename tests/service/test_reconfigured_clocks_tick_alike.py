"""A reconfiguration between commands (new targets, calendar hours or holidays, pauses,
warning thresholds): desks ticked every quarter of an hour, every hour, every six hours or
only at their wake-ups record the same events at the same instants, as long as each ticks
once its rules changed (what fell due before the change the reconfiguration records
itself); and every ticket's history folds to the ticket stored."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester
from helpdesk_core.errors import InvalidTransition
from helpdesk_core.model import replay

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 3, 9, 8, 17, tzinfo=BERLIN)  # a Monday, before the office opens
METRICS = ("first_response", "next_response", "resolution", "periodic_update")
TARGETS = st.sampled_from([None, "30m", "1h", "2h", "4h", "8h", "16h"])


@st.composite
def desk_docs(draw: st.DrawFn) -> dict[str, Any]:
    targets = {}
    for priority in ("low", "medium", "high"):
        chosen = {m: t for m in METRICS if (t := draw(TARGETS)) is not None}
        if chosen:
            targets[priority] = chosen
    policy: dict[str, Any] = {
        "name": "standard",
        "calendar": draw(st.sampled_from(["office", "always"])),
        "warnings": draw(st.sampled_from([[], [0.5], [0.75], [0.5, 0.9]])),
        "targets": targets,
    }
    pauses = draw(st.sampled_from([None, {"resolution": []}, {"next_response": ["pending"]}]))
    if pauses is not None:
        policy["pauses"] = pauses
    hours = draw(
        st.sampled_from(["09:00-17:00", "08:00-18:00", ["09:00-12:00", "13:00-17:00"]])
    )
    holidays = draw(st.sampled_from([[], ["2026-03-09"], ["2026-03-10"], ["2026-03-02"]]))
    return {
        "calendars": {
            "office": {"timezone": "Europe/Berlin", "hours": {"mon-fri": hours},
                       "holidays": holidays},
            "always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}},
        },
        "agents": [{"id": "ann", "teams": ["service-desk"], "role": "admin"}],
        "sla_policies": [policy],
    }  # fmt: skip


OPS = st.sampled_from(
    ["reply", "message", "note", "pend", "open", "solve", "reopen", "priority", "reconfigure"]
)
STEPS = st.lists(
    st.tuples(st.sampled_from([7, 45, 90, 200, 600]), OPS, st.integers(0, 2)),
    min_size=1,
    max_size=8,
)


def _run(docs: list[dict[str, Any]], steps: list[tuple[int, str, int]], every: str) -> Any:
    clock = ManualClock(START)
    desk = Helpdesk(DeskConfig.from_dict(docs[0]), MemoryStore(), clock)
    ticket_id = desk.open(requester=Requester(id="ada"), subject="VPN down").id

    def tick_until(until: datetime) -> None:
        if every == "wakeup":
            while (wake := desk.next_wakeup(queues=False, retention=False)) is not None:
                if wake > until:
                    return
                clock.set(max(wake, clock.now()))
                desk.tick()
            return
        step = timedelta(minutes={"15m": 15, "1h": 60, "6h": 360}[every])
        at = START + step * ((clock.now() - START) // step + 1)
        while at < until:
            clock.set(at)
            desk.tick()
            at += step

    at = START
    for minutes, op, n in steps:
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
            elif op in ("pend", "open", "reopen"):
                desk.transition(ticket_id, op, by="ann", reason="r" if op == "reopen" else None)
            elif op == "solve":
                desk.solve(ticket_id, by="ann", resolution="done")
            elif op == "priority":
                desk.set_priority(ticket_id, ("low", "medium", "high")[n], by="ann")
            else:
                desk.reconfigure(DeskConfig.from_dict(docs[n]))
                desk.tick()
        except InvalidTransition:
            pass
    tick_until(at + timedelta(days=2))
    clock.set(at + timedelta(days=2))
    desk.tick()
    history = desk.history(ticket_id)
    assert replay(history) == desk.get(ticket_id)
    return [(type(e).__name__, e.at, getattr(e, "reason", None), getattr(e, "clock", None))
            for e in history]  # fmt: skip


@settings(max_examples=30)
@given(docs=st.lists(desk_docs(), min_size=3, max_size=3), steps=STEPS)
def test_reconfigured_clocks_record_the_same_events_however_often_the_desk_ticks(
    docs: list[dict[str, Any]], steps: list[tuple[int, str, int]]
) -> None:
    expected = _run(docs, steps, "15m")
    for every in ("1h", "6h", "wakeup"):
        assert _run(docs, steps, every) == expected, every


def _relaxed_after_its_deadline(tick_on_time: bool) -> list[tuple[str, str, datetime]]:
    """A 4 h resolution target due Monday 13:00, relaxed to 16 h at 15:00: by a desk that
    ticked at 13:00, or by one that did not tick since the opening."""
    doc: dict[str, Any] = {
        "calendars": {"office": {"timezone": "Europe/Berlin", "hours": {"mon-fri": "09:00-17:00"}}},
        "agents": [{"id": "ann", "teams": ["service-desk"]}],
        "sla_policies": [{"name": "standard", "calendar": "office", "warnings": [],
                          "targets": {"medium": {"resolution": "4h"}}}],
    }  # fmt: skip
    clock = ManualClock(datetime(2026, 3, 9, 9, tzinfo=BERLIN))  # Monday 09:00
    desk = Helpdesk(DeskConfig.from_dict(doc), MemoryStore(), clock)
    ticket_id = desk.open(requester=Requester(id="ada"), subject="VPN down").id
    if tick_on_time:
        clock.set(datetime(2026, 3, 9, 13, tzinfo=BERLIN))
        desk.tick()
    clock.set(datetime(2026, 3, 9, 15, tzinfo=BERLIN))
    doc["sla_policies"][0]["targets"]["medium"]["resolution"] = "16h"
    desk.reconfigure(DeskConfig.from_dict(doc))
    desk.tick()
    return [
        (type(e).__name__, e.clock.metric.value, e.at.astimezone(BERLIN))
        for e in desk.history(ticket_id)
        if type(e).__name__ in ("SlaBreached", "SlaTargetChanged")
    ]


def test_what_fell_due_before_a_reconfiguration_is_recorded_under_the_rules_then() -> None:
    # The breach at 13:00 happened under the 4 h target, whether or not anyone ticked
    # then: the reconfiguration records it before the new rules apply.
    expected = [
        ("SlaBreached", "resolution", datetime(2026, 3, 9, 13, tzinfo=BERLIN)),
        ("SlaTargetChanged", "resolution", datetime(2026, 3, 9, 15, tzinfo=BERLIN)),
    ]
    assert _relaxed_after_its_deadline(tick_on_time=True) == expected
    assert _relaxed_after_its_deadline(tick_on_time=False) == expected


class _OneBroken(MemoryStore):
    """A store that cannot load one ticket."""

    broken = ""

    def load(self, ticket_id: str) -> Any:
        if ticket_id == self.broken:
            raise RuntimeError("disk on fire")
        return super().load(ticket_id)


def test_a_reconfiguration_records_what_fell_due_on_every_ticket_and_skips_a_broken_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """More tickets than one sweep reads, one of which cannot be read: each of the others
    gets its breach, and the broken one is logged and left to the new rules."""
    doc: dict[str, Any] = {
        "agents": [{"id": "ann", "teams": ["service-desk"]}],
        "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
        "sla_policies": [{"name": "standard", "calendar": "always", "warnings": [],
                          "targets": {"medium": {"resolution": "1h"}}}],
    }  # fmt: skip
    clock = ManualClock(datetime(2026, 3, 9, 9, tzinfo=BERLIN))
    store = _OneBroken()
    desk = Helpdesk(DeskConfig.from_dict(doc), store, clock)
    ids = [desk.open(requester=Requester(id="ada"), subject=f"VPN {n}").id for n in range(260)]
    store.broken = ids[7]
    clock.advance(hours=2)
    doc["sla_policies"][0]["targets"]["medium"]["resolution"] = "8h"
    with caplog.at_level(logging.ERROR):
        desk.reconfigure(DeskConfig.from_dict(doc))
    breached = [
        ticket_id
        for ticket_id in ids
        if ticket_id != ids[7]
        and any(type(e).__name__ == "SlaBreached" for e in store.events(ticket_id))
    ]
    assert len(breached) == len(ids) - 1
    assert not any(type(e).__name__ == "SlaBreached" for e in store.events(ids[7]))
    assert ids[7] in caplog.text
