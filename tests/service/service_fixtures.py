"""Shared helpers for the service tests: a Berlin desk configuration and desk factory."""

from __future__ import annotations

import itertools
import os
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, SequentialIds
from helpdesk_core.storage import Store

BERLIN = ZoneInfo("Europe/Berlin")
DSN = os.environ.get("HELPDESK_TEST_POSTGRES_DSN", "")
_schemas = itertools.count()


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


DESK: dict[str, Any] = {
    "desk": {"name": "Test desk", "timezone": "Europe/Berlin"},
    "calendars": {
        "office": {
            "timezone": "Europe/Berlin",
            "hours": {"mon-fri": "09:00-17:00"},
            # Good Friday and Easter Monday 2026
            "holidays": ["2026-04-03", "2026-04-06"],
        },
        "always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}},
    },
    "tiers": [{"id": "L1", "teams": ["desk"]}, {"id": "L2", "teams": ["network"]}],
    "teams": [
        {"id": "desk", "calendar": "office", "contacts": ["lead", "boss"]},
        {"id": "network", "calendar": "office", "contacts": ["lead", "boss"]},
    ],
    "agents": [
        {"id": "alice", "tier": "L1", "teams": ["desk"], "calendar": "office"},
        {"id": "bob", "tier": "L2", "teams": ["network"], "calendar": "office"},
        {"id": "lead", "tier": "L2", "teams": ["network"], "calendar": "office", "capacity": 0},
        {"id": "boss", "tier": "L2", "teams": [], "capacity": 0},
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
            "targets": {
                "high": {"first_response": "2h", "resolution": "16h"},
                "medium": {"first_response": "4h", "resolution": "24h"},
                "low": {"first_response": "8h", "resolution": "40h"},
            },
        },
    ],
    "routing": [
        {
            "name": "vpn",
            "when": {"field": "subject", "op": "contains", "value": "vpn"},
            "actions": {"add_tags": ["vpn"]},
        }
    ],
    "escalation_policies": [
        {
            "name": "response",
            "triggers": [
                {
                    "name": "fr-warning",
                    "on": "sla_warning",
                    "metric": "first_response",
                    "when": {"field": "tags", "op": "contains", "value": "vpn"},
                    "actions": [{"action": "escalate_tier"}],
                }
            ],
        }
    ],
}


def make_desk(store: Store, start: datetime, config: DeskConfig | None = None) -> Helpdesk:
    return Helpdesk(
        config=config or DeskConfig.from_dict(DESK),
        store=store,
        clock=ManualClock(start),
        ids=SequentialIds(),
    )
