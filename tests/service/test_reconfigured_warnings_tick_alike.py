"""Warning thresholds reconfigured while clocks run: desks that tick at the
reconfiguration and then every quarter of an hour, every six hours or only at their
wake-ups record the same events at the same instants, and the live figures show no
warning a policy no longer has."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester
from helpdesk_core.model import SlaTargetChanged, SlaWarning, replay

T0 = datetime(2026, 3, 9, 8, tzinfo=UTC)
H = timedelta(hours=1)


def config(warnings: list[float]) -> DeskConfig:
    return DeskConfig.from_dict(
        {
            "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
            "agents": [{"id": "ann", "teams": ["service-desk"], "role": "admin"}],
            "sla_policies": [
                {
                    "name": "standard",
                    "calendar": "always",
                    "warnings": warnings,
                    "targets": {"medium": {"first_response": "4h", "resolution": "10h"}},
                }
            ],
        }
    )


def run(
    first: list[float], then: list[float], change: timedelta, every: timedelta | None
) -> list[tuple[str, str, timedelta, float | None]]:
    """Open a ticket at T0 under ``first``; at ``change`` (no tick since the opening),
    reconfigure to ``then`` and tick; then tick every ``every`` (None: at each wake-up)
    for a day."""
    clock = ManualClock(T0)
    desk = Helpdesk(config(first), MemoryStore(), clock)
    ticket_id = desk.open(requester=Requester(id="ada"), subject="VPN down").id
    clock.set(T0 + change)
    desk.reconfigure(config(then))
    desk.tick()
    end = T0 + 24 * H
    if every is None:
        while (wake := desk.next_wakeup(queues=False, retention=False)) is not None:
            if wake > end:
                break
            clock.set(max(wake, clock.now()))
            desk.tick()
    else:
        at = T0 + change + every
        while at < end:
            clock.set(at)
            desk.tick()
            at += every
    clock.set(end)
    desk.tick()
    history = desk.history(ticket_id)
    assert replay(history) == desk.get(ticket_id)
    return [
        (type(e).__name__, e.clock.metric.value, e.at - T0, getattr(e, "threshold", None))
        for e in history
        if isinstance(e, SlaWarning | SlaTargetChanged)
    ]


def test_a_changed_threshold_is_re_armed_at_the_reconfiguration_however_often_one_ticks() -> None:
    expected = [
        ("SlaTargetChanged", "first_response", H, None),
        ("SlaTargetChanged", "resolution", H, None),
        ("SlaWarning", "first_response", 2 * H, 0.5),
        ("SlaWarning", "resolution", 5 * H, 0.5),
    ]
    for every in (timedelta(minutes=15), 6 * H, None):
        assert run([0.75], [0.5], H, every) == expected, every


def test_a_lost_threshold_is_disarmed_at_the_reconfiguration() -> None:
    clock = ManualClock(T0)
    desk = Helpdesk(config([0.75]), MemoryStore(), clock)
    ticket_id = desk.open(requester=Requester(id="ada"), subject="VPN down").id
    clock.set(T0 + H)
    desk.reconfigure(config([]))
    desk.tick()
    # No warning was recorded, and none will be: the live figures say so.
    view = desk.sla(ticket_id, now=T0 + 8 * H)["resolution"]
    assert (view.warned, view.warn_at) == (False, None)
    stored = desk.get(ticket_id).sla["resolution"]
    assert stored.warn_at is None
    changed = [e for e in desk.history(ticket_id) if isinstance(e, SlaTargetChanged)]
    assert [(e.at, e.reason) for e in changed if e.clock.metric.value == "resolution"] == [
        (T0 + H, "SLA policy 'standard': no warning thresholds")
    ]


THRESHOLDS = st.sampled_from([[], [0.5], [0.75], [0.9], [0.25, 0.75], [0.5, 0.9]])


@settings(max_examples=25, deadline=None)
@given(first=THRESHOLDS, then=THRESHOLDS, change=st.integers(0, 12 * 60))
def test_reconfigured_thresholds_record_the_same_events_however_often_one_ticks(
    first: list[float], then: list[float], change: int
) -> None:
    at = timedelta(minutes=change)
    expected = run(first, then, at, timedelta(minutes=15))
    for every in (H, 6 * H, None):
        assert run(first, then, at, every) == expected, every
