"""SLA clocks stored before a clock recorded the highest threshold it warned of
(``SlaClock.warned_threshold``): snapshots and events written then have only the count,
``warnings_sent``. They decode with no threshold recorded, and a desk reads the count as
the count-th threshold of the clock's policy, then records the value from its next
warning on."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, Requester, SqliteStore
from helpdesk_core.model import SlaWarning, apply_event
from helpdesk_core.storage.codecs import decode_event, decode_ticket, encode_event, encode_ticket

T0 = datetime(2026, 3, 9, 8, tzinfo=UTC)
H = timedelta(hours=1)
CONFIG = {
    "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
    "agents": [{"id": "ann", "teams": ["service-desk"], "role": "admin"}],
    "sla_policies": [
        {
            "name": "standard",
            "calendar": "always",
            "warnings": [0.5, 0.75],
            "targets": {"medium": {"resolution": "10h"}},
        }
    ],
}


def _warned_desk(path: Path) -> tuple[Helpdesk, ManualClock, str]:
    clock = ManualClock(T0)
    desk = Helpdesk(DeskConfig.from_dict(CONFIG), SqliteStore(path), clock)
    ticket_id = desk.open(requester=Requester(id="ada"), subject="VPN down").id
    clock.set(T0 + 6 * H)
    desk.tick()  # 0.5 warned of at 5 h
    return desk, clock, ticket_id


def test_a_snapshot_and_an_event_without_the_warned_threshold_decode_without_it(
    tmp_path: Path,
) -> None:
    desk, _, ticket_id = _warned_desk(tmp_path / "desk.sqlite")
    ticket = desk.get(ticket_id)
    warning = next(e for e in desk.history(ticket_id) if isinstance(e, SlaWarning))
    assert ticket.sla["resolution"].warned_threshold == 0.5
    assert warning.clock.warned_threshold == 0.5
    data = json.loads(encode_ticket(ticket))
    assert data["sla"]["resolution"].pop("warned_threshold") == 0.5
    old_clock = attrs.evolve(ticket.sla["resolution"], warned_threshold=None)
    assert decode_ticket(json.dumps(data)) == attrs.evolve(
        ticket, sla={"resolution": old_clock}
    )
    data = json.loads(encode_event(warning))
    assert data["clock"].pop("warned_threshold") == 0.5
    old = decode_event(json.dumps(data))
    assert old == attrs.evolve(warning, clock=attrs.evolve(warning.clock, warned_threshold=None))
    # Folded, such an event gives the clock it carries.
    assert apply_event(ticket, old).sla["resolution"].warned_threshold is None


def test_a_desk_goes_on_from_a_clock_stored_with_only_its_count(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite"
    _, clock, ticket_id = _warned_desk(path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "UPDATE tickets SET snapshot = json_remove(snapshot, "
            "'$.sla.resolution.warned_threshold')"
        )
    conn.close()
    again = Helpdesk(DeskConfig.from_dict(CONFIG), SqliteStore(path), clock)
    stored = again.get(ticket_id).sla["resolution"]
    assert (stored.warnings_sent, stored.warned_threshold) == (1, None)
    clock.set(T0 + 12 * H)
    again.tick()
    warned = [(e.at - T0, e.threshold) for e in again.history(ticket_id)
              if isinstance(e, SlaWarning)]  # fmt: skip
    assert warned == [(5 * H, 0.5), (7.5 * H, 0.75)]  # the count meant 0.5: 0.75 is next
    assert again.get(ticket_id).sla["resolution"].warned_threshold == 0.75
