"""Desk configuration documents: errors name the path of the bad part, and what loads
round-trips through ``to_dict``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from helpdesk_core import ConfigError, DeskConfig, _toml
from helpdesk_core.config import TicketType
from helpdesk_core.intake import Category
from helpdesk_core.routing import RuleSet
from helpdesk_core.testing.strategies import (
    custom_fields,
    desk_configs,
    lifecycles,
    routing_rules,
)
from helpdesk_core.workflow import Lifecycle


def test_a_bad_desk_time_zone_names_its_path() -> None:
    with pytest.raises(ConfigError) as caught:
        DeskConfig.from_dict({"desk": {"timezone": "Mars/Base"}})
    assert caught.value.path == "desk.timezone"
    assert str(caught.value).startswith("desk.timezone: ")


def test_durations_with_fractions_of_a_second_round_trip() -> None:
    config = DeskConfig.from_dict(
        {
            "privacy": {
                "check_every": 1.5,
                "retention": [{"name": "short", "after": 90.75}],
            }
        }
    )
    assert config.privacy.check_every == timedelta(seconds=1.5)
    assert config.privacy.retention[0].after == timedelta(seconds=90.75)
    assert DeskConfig.from_dict(config.to_dict()) == config
    whole = DeskConfig.from_dict({"privacy": {"retention": [{"name": "y", "after": "30d"}]}})
    assert whole.to_dict()["privacy"]["retention"][0]["after"] == 30 * 86_400


def test_an_empty_address_is_no_address() -> None:
    config = DeskConfig.from_dict(
        {
            "teams": [{"id": "service-desk", "email": ""}],
            "agents": [{"id": "alice", "teams": ["service-desk"], "email": ""}],
        }
    )
    assert config.agent("alice").email is None
    assert DeskConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"assignment": {"weights": [1]}},
            "assignment.weights: expected a table (mapping), got list",
        ),
        ({"desk": None}, "desk: expected a table (mapping), got nothing"),
        ({"agents": [None]}, "agents[0]: expected a table (mapping), got nothing"),
        ({"tiers": ["L1"]}, "tiers[0]: expected a table (mapping), got str"),
    ],
)
def test_a_value_where_a_table_belongs_says_so(document: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        DeskConfig.from_dict(document)
    assert str(caught.value) == message


# -- what an admin writes by mistake -------------------------------------------------------


def _desk(**extra: Any) -> dict[str, Any]:
    return {
        "tiers": [{"id": "L1", "teams": ["desk"]}],
        "teams": [{"id": "desk", "contacts": ["lena"]}],
        "agents": [{"id": "lena", "teams": ["desk"]}],
        **extra,
    }


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["teams"][0].update(contacts=["lena.f"]), "teams[0].contacts"),
        (lambda d: d.update(routing=[{"name": "VIP \ud83d", "actions": {"team": "desk"}}]),
         "routing[0].name"),
        (lambda d: d.update(limits={"max_tags": 2}, routing=[
            {"name": "tags", "actions": {"add_tags": ["a", "b", "c"]}}]),
         "routing[0].actions.add_tags"),
        (lambda d: d.update(assignment={"weights": {"critical": 4, "P1": 0.5}}),
         "assignment.weights.P1"),
        (lambda d: d.update(ticket_types={"change": {"name": "chnage"}}),
         "ticket_types.change.name"),
        (lambda d: d.update(ticket_types={"change": ""}), "ticket_types.change"),
        (lambda d: d.update(ticket_types={"change": False}), "ticket_types.change"),
        (lambda d: d.update(ticket_types={"change": []}), "ticket_types.change"),
        (lambda d: d.update(sla_policies=[{"name": "p", "calendar": "c", "warnings": [10**400],
                                           "targets": {}}],
                            calendars={"c": {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}}}),
         "sla_policies[0].warnings[0]"),
        (lambda d: d.update(escalation_policies=[{"name": "e", "triggers": [
            {"name": "stuck", "on": "time_in_tier", "after": "3000000d",
             "actions": [{"action": "escalate_tier"}]}]}]),
         "escalation_policies[0].triggers[0].after"),
        (lambda d: d.update(categories={"hw": {"questions": [
            {"name": "model", "type": "choice", "choices": ["T14", ""]}]}}),
         "categories.hw.questions[0].choices"),
        (lambda d: d.update(categories={"hw": {"questions": [
            {"name": "model", "type": "choice", "choices": ["T14", "X1", "T14"]}]}}),
         "categories.hw.questions[0].choices"),
        (lambda d: d.update(categories={"hw": {"questions": [
            {"name": "site", "type": "choice", "choices": ["Genève", "Gene\u0300ve "]}]}}),
         "categories.hw.questions[0].choices"),
    ],
)  # fmt: skip
def test_what_an_admin_writes_by_mistake_is_named(change: Any, path: str) -> None:
    doc = _desk()
    change(doc)
    with pytest.raises(ConfigError) as caught:
        DeskConfig.from_dict(doc)
    assert caught.value.path == path


@pytest.mark.parametrize("key", [1, None, 2.5, ("a",)])
def test_an_unknown_key_that_is_not_text_is_named(key: object) -> None:
    # A document built in code (or read from a format with other keys than text) may
    # hold a key of any kind; it is refused as an unknown key, never with a TypeError.
    for doc, path in (
        ({"desk": {"name": "d", key: "x"}}, "desk"),
        ({"teams": [{"id": "q", key: "x"}]}, "teams[0]"),
        ({"teams": [{"id": "q", "colour": "red", key: "x"}]}, "teams[0]"),
        ({"categories": {"hw": {key: "x"}}}, "categories.hw"),
        ({"categories": {"hw": {"questions": [{"name": "m", key: "x"}]}}},
         "categories.hw.questions[0]"),
        ({"priority_matrix": {key: "high"}}, "priority_matrix"),
    ):
        with pytest.raises(ConfigError) as caught:
            DeskConfig.from_dict(doc)
        assert caught.value.path == path
        assert repr(key) in caught.value.message or str(key) in caught.value.message


def test_a_json_key_given_twice_is_refused() -> None:
    text = '{"teams": [{"id": "desk"}], "teams": [{"id": "ops"}]}'
    with pytest.raises(ConfigError, match="'teams' is given twice"):
        DeskConfig.from_json(text)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('{"desk": {"name": "a", "name": "b"}}', "desk.name"),
        ('{"teams": [{"id": "desk"}], "teams": []}', "teams"),
        ('{"agents": [{"id": "a"}, {"id": "b", "teams": ["x"], "id": "c"}]}', "agents[1].id"),
        ('{"calendars": {"c": {"hours": {"mon": "1", "mon": "2"}}}}', "calendars.c.hours.mon"),
        # The inner object was replaced by the second "desk": the outer key is at fault.
        ('{"desk": {"name": "a", "name": "b"}, "desk": {}}', "desk"),
        ('[{"a": 1, "a": 2}]', "$[0].a"),
    ],
)
def test_a_json_key_given_twice_is_named_by_its_full_path(text: str, path: str) -> None:
    with pytest.raises(ConfigError) as caught:
        DeskConfig.from_json(text)
    assert caught.value.path == path
    key = path.rsplit(".", 1)[-1]
    assert str(caught.value) == f"{path}: the key {key!r} is given twice in one object"


def test_a_toml_key_given_twice_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "desk.toml"
    path.write_text('[desk]\nname = "a"\nname = "b"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        DeskConfig.from_toml(path)
    assert caught.value.path == str(path)[:80]
    assert str(caught.value) == (
        f"{str(path)[:80]}: not valid TOML: Cannot overwrite a value (at line 3, column 11): "
        "key name in [desk]"
    )
    text = '[[agents]]\nid = "a"\n"id" = "b"\n[desk]\n[desk]\n'
    with pytest.raises(ConfigError, match=r'\(at line 3, column 11\): key "id" in \[\[agents\]\]$'):
        DeskConfig.from_toml(text)
    with pytest.raises(ConfigError, match=r"^\$: .*twice \(at line 2, column 6\): \[desk\]$"):
        DeskConfig.from_toml("[desk]\n[desk]\n")
    with pytest.raises(ConfigError, match=r"\(at end of document\): key a\.b$"):
        DeskConfig.from_toml("a.b = 1\na.b = 2")
    with pytest.raises(ConfigError) as caught:
        DeskConfig.from_toml('x = "a secret\n')
    assert "secret" not in str(caught.value)  # the key is named, never the value


def test_a_priority_pair_given_twice_is_refused() -> None:
    matrix = {f"{i}/{u}": "medium" for i in ("low", "medium", "high")
              for u in ("low", "medium", "high")}  # fmt: skip
    matrix["HIGH/HIGH"] = "critical"
    with pytest.raises(ConfigError, match="given twice"):
        DeskConfig.from_dict(_desk(priority_matrix=matrix))


def test_an_automatic_close_from_a_status_never_solved_is_refused() -> None:
    lifecycle = {
        "initial": "new",
        "statuses": [
            {"name": "new", "category": "new"},
            {"name": "waiting", "category": "pending"},
            {"name": "solved", "category": "solved"},
            {"name": "closed", "category": "closed"},
        ],
        "transitions": [
            {"name": "wait", "from": "new", "to": "waiting"},
            {"name": "solve", "from": ["new", "waiting"], "to": "solved"},
            {"name": "expire", "from": "waiting", "to": "closed", "automatic": "solved_timeout"},
        ],
    }
    with pytest.raises(ConfigError, match="never fire") as caught:
        DeskConfig.from_dict(_desk(lifecycles={"custom": lifecycle}))
    assert caught.value.path.endswith("transitions[2].automatic")


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        ({"categories": {"net": {"on_missing": "reject"}}}, "categories.net.on_missing"),
        ({"categories": {"net": {"questions": [{"name": "q", "type": "string"}]}}},
         "categories.net.questions[0].type"),
        ({"categories": {"net": {"questions": [{"type": "text"}]}}},
         "categories.net.questions[0].name"),
        ({"privacy": {"retention": [{"name": "r", "after": "1d", "action": "shred"}]}},
         "privacy.retention[0].action"),
        ({"privacy": {"retention": [{"name": "r", "after": "a year"}]}},
         "privacy.retention[0].after"),
        ({"privacy": {"retention": [{"name": "r", "after": "1d"}, {"name": "r", "after": "2d"}]}},
         "privacy.retention[1].name"),
    ],
)  # fmt: skip
def test_an_error_names_the_key_itself(doc: dict[str, Any], path: str) -> None:
    with pytest.raises(ConfigError) as caught:
        DeskConfig.from_dict(doc)
    assert caught.value.path == path
    assert "__init__" not in caught.value.message


@pytest.mark.parametrize("agent_id", ["system:cron", "requester:ada", "agent:lena"])
def test_an_agent_id_that_reads_as_another_identity_is_refused(agent_id: str) -> None:
    """``by="system:cron"`` names automation (which may do everything), not the agent."""
    doc = {"agents": [{"id": "lena"}, {"id": agent_id}]}
    with pytest.raises(ConfigError, match="choose another id") as caught:
        DeskConfig.from_dict(doc)
    assert caught.value.path == "agents[1].id"
    assert DeskConfig.from_dict({"agents": [{"id": "mailto:lena"}]}).agents[0].id == "mailto:lena"


@pytest.mark.parametrize(
    ("section", "part", "what"),
    [
        ("ticket_types", TicketType(name="change"), "ticket type"),
        ("categories", Category(name="network"), "category"),
        ("lifecycles", Lifecycle.default(), "lifecycle"),
    ],
)
def test_a_part_kept_under_another_name_is_refused(section: str, part: Any, what: str) -> None:
    # The document keys a part by its name: one under another key would come back from
    # to_dict under the key's name, another part than the one configured.
    parts = {"ticket_types": dict(DeskConfig().ticket_types), "categories": {},
             "lifecycles": dict(DeskConfig().lifecycles)}  # fmt: skip
    parts[section]["other"] = part
    with pytest.raises(ConfigError, match=f"the {what} under 'other' is named") as caught:
        DeskConfig(**{section: parts[section]})
    assert caught.value.path == f"{section}.other.name"


def test_a_document_read_from_toml_is_written_back_as_toml() -> None:
    # to_dict leaves out what is not set (TOML has no null) rather than writing None.
    text = """
[calendars.office]
timezone = "Europe/Berlin"
hours = { "mon-fri" = "09:00-17:00" }

[[tiers]]
id = "L1"
teams = ["desk"]

[[tiers]]
id = "L2"
teams = ["net"]

[[teams]]
id = "desk"

[[teams]]
id = "net"

[lifecycles.change]
initial = "requested"
statuses = [
  { name = "requested", category = "new" },
  { name = "done", category = "solved" },
  { name = "closed", category = "closed" },
]
transitions = [
  { name = "finish", from = "requested", to = "done" },
  { name = "close", from = "done", to = "closed", automatic = "solved_timeout" },
]

[ticket_types.incident]
[ticket_types.change]
lifecycle = "change"

[[escalation_policies]]
name = "standard"
triggers = [
  { name = "stuck", on = "time_in_tier", after = "4h", actions = [{ action = "escalate_tier" }] },
]
"""
    config = DeskConfig.from_toml(text)
    written = _toml.dumps(config.to_dict())
    assert DeskConfig.from_toml(written) == config
    assert DeskConfig.from_toml(written).to_dict() == config.to_dict()


def test_a_desk_without_ticket_types_is_refused() -> None:
    # Every ticket has a type the desk knows: with none, desk.open refused every ticket.
    with pytest.raises(ConfigError, match="at least one ticket type") as caught:
        DeskConfig.from_dict({"ticket_types": {}})
    assert caught.value.path == "ticket_types"
    with pytest.raises(ConfigError, match="at least one ticket type"):
        DeskConfig(ticket_types={})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(desk_configs())
def test_any_configuration_round_trips_through_toml(config: DeskConfig) -> None:
    """``to_toml`` writes what ``from_toml`` reads back as the same desk (no null, which
    TOML has not, anywhere in the document)."""
    assert DeskConfig.from_toml(config.to_toml()) == config


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(routing_rules(fields=custom_fields()))
def test_rules_setting_custom_fields_round_trip_through_toml_or_name_the_null(
    rules: RuleSet,
) -> None:
    # TOML has no null: a rule that sets a custom field to None cannot be written, and
    # is named by its path, not by a ValidationError at the path of no rule.
    config = DeskConfig(routing=rules)
    nulls = [
        f"routing[{i}].actions.fields.{name}"
        for i, rule in enumerate(rules.rules)
        for name, value in rule.actions.fields.items()
        if value is None
    ]
    if not nulls:
        assert DeskConfig.from_toml(config.to_toml()) == config
        return
    with pytest.raises(ConfigError, match="TOML has no null") as caught:
        config.to_toml()
    assert caught.value.path == nulls[0]


def test_a_number_toml_cannot_hold_is_named_by_its_path() -> None:
    config = DeskConfig.from_dict({"routing": [
        {"name": "ok", "actions": {"add_tags": ["x"]}},
        {"name": "big", "when": {"field": "fields.n", "op": "eq", "value": 2**64},
         "actions": {"fields": {"n": 1}}},
    ]})  # fmt: skip
    assert DeskConfig.from_json(json.dumps(config.to_dict())) == config
    with pytest.raises(ConfigError, match="64-bit") as caught:
        config.to_toml()
    assert caught.value.path == "routing[1].when.value"


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lifecycles(name="custom"))
def test_a_desk_built_without_the_default_lifecycle_round_trips(lifecycle: Lifecycle) -> None:
    # ``default`` is built in: a document always has it, so a desk built in Python has it
    # too, else it would load back from its own document as another desk.
    incident = TicketType(name="incident", lifecycle="custom")
    config = DeskConfig(lifecycles={"custom": lifecycle}, ticket_types={"incident": incident})
    assert config.lifecycles == {"default": Lifecycle.default(), "custom": lifecycle}
    assert DeskConfig.from_dict(config.to_dict()) == config
    assert DeskConfig.from_toml(config.to_toml()) == config
    assert DeskConfig(lifecycles={}).lifecycles == {"default": Lifecycle.default()}


def test_the_bundled_desk_written_as_toml_reads_back_and_says_never_in_words() -> None:
    from helpdesk_core.demo import example_config

    config = example_config()
    assert DeskConfig.from_toml(config.to_toml()) == config
    calm = Lifecycle.from_dict(
        {**Lifecycle.default().to_dict(), "name": "calm", "reopen_window": None,
         "auto_close_after": None}
    )
    desk = config.replace(lifecycles={**config.lifecycles, "calm": calm})
    text = desk.to_toml()
    assert 'reopen_window = "unlimited"' in text and 'auto_close_after = "never"' in text
    assert DeskConfig.from_toml(text) == desk
