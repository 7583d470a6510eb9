"""Warning thresholds that change while a clock runs (``Helpdesk.reconfigure``).

A clock remembers the highest threshold value it warned of in its cycle; the next
warning due is the first threshold of its policy (as configured now) above that value,
when the time used reaches it. So a threshold is warned of at most once per cycle
whatever the reconfigurations, a threshold below one already warned of is not warned of
late, and one that a reconfiguration adds above it is not skipped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester
from helpdesk_core.model import SlaBreached, SlaWarning, replay

T0 = datetime(2026, 3, 9, 8, tzinfo=UTC)
H = timedelta(hours=1)


def config(warnings: list[float], resolution: str = "10h") -> DeskConfig:
    return DeskConfig.from_dict(
        {
            "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
            "agents": [{"id": "ann", "teams": ["service-desk"], "role": "admin"}],
            "sla_policies": [
                {
                    "name": "standard",
                    "calendar": "always",
                    "warnings": warnings,
                    "targets": {"medium": {"resolution": resolution}},
                }
            ],
        }
    )


def desk_with(warnings: list[float]) -> tuple[Helpdesk, ManualClock, str]:
    clock = ManualClock(T0)
    desk = Helpdesk(config(warnings), MemoryStore(), clock)
    ticket_id = desk.open(requester=Requester(id="ada"), subject="VPN down").id
    return desk, clock, ticket_id


def tick_at(desk: Helpdesk, clock: ManualClock, at: datetime) -> None:
    """Tick at every wake-up of the desk up to ``at``, then at ``at``."""
    while (wake := desk.next_wakeup(queues=False, retention=False)) is not None and wake < at:
        clock.set(max(wake, clock.now()))
        desk.tick()
    clock.set(at)
    desk.tick()


def warnings_of(desk: Helpdesk, ticket_id: str) -> list[tuple[timedelta, float]]:
    return [
        (e.at - T0, e.threshold) for e in desk.history(ticket_id) if isinstance(e, SlaWarning)
    ]


def test_a_lower_threshold_added_after_a_higher_one_was_warned_of_is_not_warned_of() -> None:
    desk, clock, ticket_id = desk_with([0.75])
    tick_at(desk, clock, T0 + 8 * H)
    assert warnings_of(desk, ticket_id) == [(7.5 * H, 0.75)]
    desk.reconfigure(config([0.5, 0.75]))
    for hours in (8.5, 9, 12):
        tick_at(desk, clock, T0 + hours * H)
    # 0.75 was warned of already, and 0.5 lies below it.
    assert warnings_of(desk, ticket_id) == [(7.5 * H, 0.75)]
    clock_now = desk.get(ticket_id).sla["resolution"]
    assert clock_now.warnings_sent == 1
    assert clock_now.warned_threshold == 0.75


def test_a_higher_threshold_replacing_those_warned_of_is_warned_of_at_its_instant() -> None:
    desk, clock, ticket_id = desk_with([0.5, 0.75])
    tick_at(desk, clock, T0 + 6 * H)
    assert warnings_of(desk, ticket_id) == [(5 * H, 0.5)]
    desk.reconfigure(config([0.9]))
    tick_at(desk, clock, T0 + 6.5 * H)
    # The live figures show the warning to come, not the instant of the 0.75 it lost.
    assert desk.sla(ticket_id, now=T0 + 8 * H)["resolution"].warn_at == T0 + 9 * H
    tick_at(desk, clock, T0 + 12 * H)
    assert warnings_of(desk, ticket_id) == [(5 * H, 0.5), (9 * H, 0.9)]


def test_a_threshold_inserted_above_the_last_warned_of_is_not_skipped() -> None:
    desk, clock, ticket_id = desk_with([0.5, 0.75])
    tick_at(desk, clock, T0 + 5.5 * H)
    desk.reconfigure(config([0.6, 0.75]))
    tick_at(desk, clock, T0 + 12 * H)
    assert warnings_of(desk, ticket_id) == [(5 * H, 0.5), (6 * H, 0.6), (7.5 * H, 0.75)]


def test_thresholds_a_reconfiguration_puts_behind_are_warned_of_once_at_the_catch_up() -> None:
    desk, clock, ticket_id = desk_with([0.25, 0.9])
    tick_at(desk, clock, T0 + 7 * H)
    # 0.4 and 0.6 were passed at 4 h and 6 h: recorded at the next tick, at once.
    desk.reconfigure(config([0.25, 0.4, 0.6, 0.9]))
    assert desk.next_wakeup(queues=False, retention=False) == T0  # due at once
    tick_at(desk, clock, T0 + 12 * H)
    assert warnings_of(desk, ticket_id) == [
        (2.5 * H, 0.25), (7 * H, 0.4), (7 * H, 0.6), (9 * H, 0.9)
    ]  # fmt: skip
    assert replay(desk.history(ticket_id)) == desk.get(ticket_id)


def test_a_new_target_keeps_the_thresholds_already_warned_of() -> None:
    desk, clock, ticket_id = desk_with([0.5, 0.75])
    tick_at(desk, clock, T0 + 6 * H)  # 0.5 warned of at 5 h
    # A longer target puts the time used (6 h of 20 h) below 0.5 again; 0.5 is not
    # warned of a second time in the cycle, 0.75 is, at 15 h.
    desk.reconfigure(config([0.25, 0.5, 0.75], resolution="20h"))
    tick_at(desk, clock, T0 + 24 * H)
    assert warnings_of(desk, ticket_id) == [(5 * H, 0.5), (15 * H, 0.75)]


CHOICES = [[], [0.5], [0.75], [0.9], [0.5, 0.75], [0.25, 0.75], [0.6, 0.9], [0.25, 0.5, 0.75, 0.9]]


@settings(max_examples=60, deadline=None)
@given(
    plan=st.lists(
        st.tuples(st.integers(1, 240), st.sampled_from(CHOICES), st.sampled_from(["10h", "16h"])),
        min_size=1,
        max_size=6,
    ),
    first=st.sampled_from(CHOICES),
)
def test_each_threshold_is_warned_of_at_most_once_per_cycle_in_increasing_order(
    plan: list[tuple[int, list[float], str]], first: list[float]
) -> None:
    desk, clock, ticket_id = desk_with(first)
    at = T0
    for minutes, warnings, target in plan:
        at += timedelta(minutes=minutes)
        tick_at(desk, clock, at)
        desk.reconfigure(config(warnings, resolution=target))
    tick_at(desk, clock, at + 48 * H)
    history = desk.history(ticket_id)
    warned = warnings_of(desk, ticket_id)
    thresholds = [threshold for _, threshold in warned]
    # Strictly increasing, in instant order: none twice, none below one warned of.
    assert thresholds == sorted(set(thresholds))
    assert [instant for instant, _ in warned] == sorted(instant for instant, _ in warned)
    # Under the last configuration, every threshold above the highest one warned of
    # before it is warned of (the clock runs past its deadline), unless the clock was
    # breached already.
    before = [threshold for instant, threshold in warned if T0 + instant <= at]
    after = [threshold for instant, threshold in warned if T0 + instant > at]
    if not any(isinstance(e, SlaBreached) and e.at <= at for e in history):
        assert after == [t for t in plan[-1][1] if not before or t > before[-1]]
    assert replay(history) == desk.get(ticket_id)
