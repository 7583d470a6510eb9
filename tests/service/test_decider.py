"""The desk's decider remembers which SLA policy a ticket gets by the values its
conditions read: whatever those conditions read, the remembered choice is the one
``select_policy`` makes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core import DeskConfig
from helpdesk_core.model import Requester, Ticket
from helpdesk_core.service.decide import Decider
from helpdesk_core.sla import select_policy
from helpdesk_core.testing.strategies import requesters, tickets

_ALWAYS = {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}
_TARGETS = {p: {"first_response": "1h"} for p in ("low", "medium", "high", "critical")}


def _policy(name: str, when: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": name, "calendar": "always", "targets": _TARGETS}
    if when is not None:
        doc["when"] = when
    return doc


#: Policy sets whose conditions read one ticket attribute, several, a requester's field,
#: a custom field, and nothing at all.
POLICY_SETS: dict[str, list[dict[str, Any]]] = {
    "one attribute": [
        _policy("p1", {"field": "priority", "op": "eq", "value": "critical"}),
        _policy("std"),
    ],
    "several attributes": [
        _policy(
            "network",
            {
                "all": [
                    {"field": "priority", "op": "in", "value": ["high", "critical"]},
                    {"field": "category", "op": "eq", "value": "network"},
                ]
            },
        ),
        _policy("vip", {"field": "tags", "op": "contains", "value": "vip"}),
    ],
    "requester": [
        _policy("acme", {"field": "requester.organization", "op": "eq", "value": "acme"}),
        _policy("std", {"field": "priority", "op": "ne", "value": "low"}),
    ],
    "custom field": [_policy("floor", {"field": "fields.floor", "op": "eq", "value": 3})],
    "nothing read": [_policy("std")],
}
_CONFIGS = {
    name: DeskConfig.from_dict(
        {
            "calendars": {"always": _ALWAYS},
            "tiers": [{"id": "L1", "teams": ["desk"]}],
            "teams": [{"id": "desk"}],
            "sla_policies": policies,
        }
    )
    for name, policies in POLICY_SETS.items()
}


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(POLICY_SETS)),
    cases=st.lists(
        st.tuples(
            tickets(categories=("network", "hardware"), tags=("vip", "vpn")),
            st.none() | requesters(),
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_a_remembered_policy_choice_is_the_one_select_policy_makes(
    name: str, cases: list[tuple[Ticket, Requester | None]]
) -> None:
    config = _CONFIGS[name]
    decider = Decider(config)
    for _ in range(2):  # the second pass answers from what the first remembered
        for ticket, requester in cases:
            expected = select_policy(
                config.sla_policies,
                ticket,
                requester=requester,
                now=ticket.updated_at,
                calendars=config.calendars,
            )
            found = decider.policy_for(ticket, requester=requester, now=ticket.updated_at)
            assert found == expected
