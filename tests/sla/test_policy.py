"""SLA policies: construction, validation with paths, dict round trip, selection."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import (
    Actor,
    Metric,
    Priority,
    Requester,
    StatusCategory,
    TicketOpened,
    replay,
)
from helpdesk_core.routing.conditions import Condition
from helpdesk_core.sla.calendar import BusinessCalendar
from helpdesk_core.sla.policy import (
    DEFAULT_PAUSES,
    ReopenMode,
    SlaPolicy,
    select_policy,
)

H = timedelta(hours=1)
AT = datetime(2026, 3, 30, 9, tzinfo=UTC)


def doc(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "standard",
        "when": {"field": "type", "op": "eq", "value": "incident"},
        "calendar": "office",
        "targets": {
            "high": {"first_response": "1h", "resolution": "PT8H"},
            "P3": {"first_response": 4 * 3600, "resolution": "2d 4h"},
        },
    }
    base.update(overrides)
    return base


def ticket(**fields: Any) -> Any:
    return replay(
        [
            TicketOpened(
                ticket_id="T1",
                at=AT,
                by=Actor.requester("ada"),
                number=7,
                requester="ada",
                subject="VPN down",
                **fields,
            )
        ]
    )


def test_from_dict_reads_durations_and_priority_aliases() -> None:
    policy = SlaPolicy.from_dict(doc())
    assert policy.name == "standard"
    assert policy.calendar == "office"
    assert policy.target(Priority.HIGH, Metric.RESOLUTION) == 8 * H
    assert policy.target("medium", "resolution") == timedelta(days=2, hours=4)
    assert policy.target("medium", "first_response") == 4 * H
    assert policy.target("low", "resolution") is None  # no clock at low priority
    assert policy.target("high", "next_response") is None
    assert policy.metrics("high") == (Metric.FIRST_RESPONSE, Metric.RESOLUTION)
    assert policy.warnings == (0.75,)
    assert policy.reopen is ReopenMode.CONTINUE
    assert policy.condition == Condition.from_dict(doc()["when"])


def test_default_pauses_pause_only_resolution() -> None:
    policy = SlaPolicy.from_dict(doc())
    assert policy.pauses_in("resolution") == {StatusCategory.PENDING, StatusCategory.ON_HOLD}
    for metric in ("first_response", "next_response", "periodic_update"):
        assert policy.pauses_in(metric) == frozenset()
    assert dict(policy.pauses) == dict(DEFAULT_PAUSES)


def test_pauses_given_for_a_metric_replace_its_default_only() -> None:
    policy = SlaPolicy.from_dict(
        doc(pauses={"periodic_update": ["pending", "on_hold"], "resolution": "on_hold"})
    )
    assert policy.pauses_in("periodic_update") == {StatusCategory.PENDING, StatusCategory.ON_HOLD}
    assert policy.pauses_in("resolution") == {StatusCategory.ON_HOLD}
    assert policy.pauses_in("first_response") == frozenset()


def test_round_trip_through_json() -> None:
    policy = SlaPolicy.from_dict(
        doc(warnings=[0.5, 0.9], pauses={"resolution": []}, reopen="restart")
    )
    data = json.loads(json.dumps(policy.to_dict()))
    assert SlaPolicy.from_dict(data) == policy
    assert data["targets"] == {
        "high": {"first_response": "1h", "resolution": "8h"},
        "medium": {"first_response": "4h", "resolution": "2d 4h"},
    }
    assert data["reopen"] == "restart"
    assert data["pauses"]["resolution"] == []


def test_sub_second_targets_round_trip_as_seconds() -> None:
    policy = SlaPolicy(
        name="p",
        calendar="c",
        targets={"low": {"resolution": timedelta(seconds=1.5)}},
    )
    assert policy.to_dict()["targets"] == {"low": {"resolution": 1.5}}
    assert SlaPolicy.from_dict(policy.to_dict()) == policy


def test_python_construction_matches_the_dict_form() -> None:
    built = SlaPolicy(
        name="standard",
        condition=Condition.where("type", "eq", "incident"),
        calendar="office",
        targets={
            Priority.HIGH: {Metric.FIRST_RESPONSE: H, Metric.RESOLUTION: 8 * H},
            Priority.MEDIUM: {
                Metric.FIRST_RESPONSE: 4 * H,
                Metric.RESOLUTION: timedelta(days=2, hours=4),
            },
        },
    )
    assert built == SlaPolicy.from_dict(doc())


def test_the_longest_target_is_a_year_of_business_time() -> None:
    from helpdesk_core.sla.policy import MAX_TARGET

    longest = SlaPolicy.from_dict(
        {"name": "slow", "calendar": "c", "targets": {"low": {"resolution": "366d"}}}
    )
    assert longest.target("low", "resolution") == MAX_TARGET == timedelta(days=366)


def test_a_missing_condition_matches_every_ticket() -> None:
    policy = SlaPolicy.from_dict({"name": "all", "calendar": "c", "targets": {}})
    assert policy.condition == Condition.always()
    assert select_policy([policy], ticket()) is policy


@pytest.mark.parametrize(
    ("overrides", "path", "words"),
    [
        (
            {"targets": {"high": {"first_response": "0s"}}},
            "sla_policies[1].targets.high.first_response",
            "longer than zero",
        ),
        (
            {"targets": {"low": {"resolution": "99999d"}}},
            "sla_policies[1].targets.low.resolution",
            "at most 366 days of business time",
        ),
        (
            {"targets": {"high": {"first_response": "soon"}}},
            "sla_policies[1].targets.high.first_response",
            "cannot read duration",
        ),
        (
            {"targets": {"high": {"first_reply": "1h"}}},
            "sla_policies[1].targets.high.first_reply",
            "not a valid Metric",
        ),
        (
            {"targets": {"urgent": {"first_response": "1h"}}},
            "sla_policies[1].targets.urgent",
            "not a valid Priority",
        ),
        (
            {"targets": {"high": {}, "P2": {}}},
            "sla_policies[1].targets.P2",
            "given twice",
        ),
        ({"targets": ["1h"]}, "sla_policies[1].targets", "targets map priorities"),
        ({"targets": {"high": "1h"}}, "sla_policies[1].targets.high", "mapping of metric"),
        ({"warnings": [0.75, 0.5]}, "sla_policies[1].warnings[1]", "strictly increasing"),
        ({"warnings": [0.5, 0.5]}, "sla_policies[1].warnings[1]", "strictly increasing"),
        ({"warnings": [1.0]}, "sla_policies[1].warnings[0]", "between 0 and 1"),
        ({"warnings": [0]}, "sla_policies[1].warnings[0]", "between 0 and 1"),
        ({"warnings": [True]}, "sla_policies[1].warnings[0]", "is a number"),
        ({"warnings": 0.5}, "sla_policies[1].warnings", "list of fractions"),
        ({"pauses": {"resolution": ["solved"]}}, "sla_policies[1].pauses.resolution[0]", "stops"),
        ({"pauses": {"resolution": ["later"]}}, "sla_policies[1].pauses.resolution[0]", "valid"),
        ({"pauses": {"reply": []}}, "sla_policies[1].pauses.reply", "not a valid Metric"),
        ({"reopen": "again"}, "sla_policies[1].reopen", "'continue' or 'restart'"),
        ({"name": "no spaces"}, "sla_policies[1].name", "invalid name"),
        ({"calendar": 3}, "sla_policies[1].calendar", "expected a name"),
        ({"when": {"field": "nope", "op": "eq", "value": 1}}, "sla_policies[1].when", ""),
        ({"colour": "red"}, "sla_policies[1]", "unknown key(s) colour"),
    ],
)
def test_bad_documents_name_the_bad_part(overrides: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        SlaPolicy.from_dict(doc(**overrides), path="sla_policies[1]")
    assert caught.value.path is not None
    assert caught.value.path.startswith(path)
    assert words in caught.value.message


@pytest.mark.parametrize("key", ["name", "calendar", "targets"])
def test_required_keys(key: str) -> None:
    data = doc()
    del data[key]
    with pytest.raises(ConfigError, match=f"sla_policy.{key}: required key missing"):
        SlaPolicy.from_dict(data)


def test_not_a_mapping() -> None:
    with pytest.raises(ConfigError, match="sla_policies\\[0\\]: an SLA policy is a mapping"):
        SlaPolicy.from_dict(["standard"], path="sla_policies[0]")


def test_python_construction_validates_too() -> None:
    with pytest.raises(ConfigError, match="warnings\\[0\\]"):
        SlaPolicy(name="p", calendar="c", targets={}, warnings=(1.5,))
    with pytest.raises(ConfigError, match=r"targets\.low\.resolution"):
        SlaPolicy(name="p", calendar="c", targets={"low": {"resolution": timedelta(hours=-1)}})
    with pytest.raises(ValidationError, match="expected a Condition"):
        SlaPolicy(name="p", calendar="c", targets={}, condition={"always": True})  # type: ignore[arg-type]


def test_warning_thresholds_take_any_real_number() -> None:
    np = pytest.importorskip("numpy")
    from fractions import Fraction

    given_ = [np.float32(0.5), Fraction(3, 4), np.float64(0.9)]
    policy = SlaPolicy(name="p", calendar="c", targets={}, warnings=given_)
    assert policy.warnings == (0.5, 0.75, 0.9)
    assert all(type(threshold) is float for threshold in policy.warnings)
    assert json.loads(json.dumps(policy.to_dict()))["warnings"] == [0.5, 0.75, 0.9]
    with pytest.raises(ConfigError, match="is a number") as refused:
        SlaPolicy(name="p", calendar="c", targets={}, warnings=["0.5"])
    assert refused.value.path == "warnings[0]"


def test_policies_are_immutable_values() -> None:
    policy = SlaPolicy.from_dict(doc())
    with pytest.raises(AttributeError):
        policy.name = "other"  # type: ignore[misc]
    assert policy == SlaPolicy.from_dict(doc())
    assert policy != SlaPolicy.from_dict(doc(warnings=[0.5]))


def test_select_policy_takes_the_first_match_in_order() -> None:
    vip = SlaPolicy.from_dict(
        {
            "name": "vip",
            "when": {"field": "requester.vip", "op": "eq", "value": True},
            "calendar": "always",
            "targets": {"high": {"first_response": "15m"}},
        }
    )
    incidents = SlaPolicy.from_dict(doc())
    fallback = SlaPolicy.from_dict({"name": "fallback", "calendar": "office", "targets": {}})
    policies = [vip, incidents, fallback]
    vip_requester = Requester(id="ada", vip=True)
    assert select_policy(policies, ticket(), requester=vip_requester) is vip
    assert select_policy(policies, ticket()) is incidents  # requester unknown: not VIP
    assert select_policy(policies, ticket(type="service_request")) is fallback
    assert select_policy([vip, incidents], ticket(type="service_request")) is None
    assert select_policy([], ticket()) is None


def test_select_policy_passes_time_and_calendars_to_conditions() -> None:
    office_hours = SlaPolicy.from_dict(
        {
            "name": "daytime",
            "when": {"field": "business_hours.office", "op": "eq", "value": True},
            "calendar": "office",
            "targets": {},
        }
    )
    calendars = {"office": BusinessCalendar(timezone="UTC", hours={"mon-fri": "09:00-17:00"})}
    monday_ten = datetime(2026, 3, 30, 10, tzinfo=UTC)
    sunday = datetime(2026, 3, 29, 10, tzinfo=UTC)
    assert select_policy([office_hours], ticket(), now=monday_ten, calendars=calendars)
    assert select_policy([office_hours], ticket(), now=sunday, calendars=calendars) is None
    with pytest.raises(ValidationError):
        select_policy([office_hours], ticket(), now=datetime(2026, 3, 30, 10))


def test_select_policy_refuses_other_values() -> None:
    with pytest.raises(ValidationError, match="policies"):
        select_policy([{"name": "x"}], ticket())  # type: ignore[list-item]
