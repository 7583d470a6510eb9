"""The desk's decider remembers which SLA policy a ticket gets by the values its
conditions read: whatever those conditions read, the remembered choice is the one
``select_policy`` makes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from attrs import evolve
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
                now=ticket.created_at,
                calendars=config.calendars,
            )
            found = decider.policy_for(ticket, requester=requester)
            assert found == expected



def test_a_remembered_choice_tells_true_from_one() -> None:
    """``true`` is not ``1`` to a condition, though Python's ``==`` (and so a dict key)
    says they are equal: a ticket whose custom field or requester attribute holds one
    gets the policy its own value selects, whichever the decider saw first."""
    config = DeskConfig.from_dict(
        {
            "calendars": {"always": _ALWAYS},
            "sla_policies": [
                _policy("vip", {"field": "fields.vip", "op": "eq", "value": True}),
                _policy("gold", {"field": "requester.gold", "op": "eq", "value": 1}),
                _policy("std"),
            ],
        }
    )
    t0 = datetime(2026, 5, 4, 9, tzinfo=UTC)
    ticket = Ticket(id="T-1", number=1, requester="ada", subject="s", created_at=t0, updated_at=t0)
    ada = Requester(id="ada")
    cases = [(evolve(ticket, fields={"vip": value}), ada) for value in (1, True, 0, False)]
    cases += [
        (ticket, Requester(id="ada", attributes={"gold": value})) for value in (True, 1, False, 0)
    ]
    for order in (cases, cases[::-1]):
        decider = Decider(config)
        for case, requester in order:
            expected = select_policy(
                config.sla_policies, case, requester=requester, now=t0, calendars=config.calendars
            )
            assert decider.policy_for(case, requester=requester) == expected
