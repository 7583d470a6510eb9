"""Routing rules: actions, rule sets, evaluation order, explanations and config errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from helpdesk_core.config import DeskConfig
from helpdesk_core.errors import ConfigError, NotFound, ValidationError
from helpdesk_core.model import Actor, Changes, Priority, Ticket, TicketRouted, apply_event
from helpdesk_core.routing import Actions, AssignSpec, Condition, F, Rule, RuleSet

NOW = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)


def ticket(**kw: Any) -> Ticket:
    base: dict[str, Any] = {
        "id": "T-1",
        "number": 7,
        "requester": "r1",
        "subject": "VPN down",
        "created_at": NOW,
        "updated_at": NOW,
    }
    base.update(kw)
    return Ticket(**base)


RULES = [
    {
        "name": "network",
        "when": {"field": "category", "op": "eq", "value": "network"},
        "actions": {"team": "net", "tier": "L2", "add_tags": ["network"], "priority": "high"},
    },
    {
        "name": "email",
        "when": {"field": "channel", "op": "in", "value": ["email", "web"]},
        "actions": {"priority": "critical", "remove_tags": ["new"], "fields": {"src": "mail"}},
    },
    {
        "name": "vpn",
        "when": {"field": "subject", "op": "contains", "value": "vpn"},
        "actions": {"assign": {"strategy": "skills_based", "skills": ["vpn"]}},
        "stop": True,
    },
    {
        "name": "after-stop",
        "when": True,
        "actions": {"team": "never"},
    },
]


def test_actions_round_trip() -> None:
    actions = Actions.from_dict(
        {
            "team": "net",
            "priority": "P2",
            "add_tags": ["b", "a", "a"],
            "fields": {"os": "mac", "n": 2},
            "sla_policy": "gold",
            "assign": {"strategy": "least_loaded", "team": "net"},
        }
    )
    assert actions.priority is Priority.HIGH
    assert actions.add_tags == ("a", "b")
    assert actions.assign == AssignSpec(strategy="least_loaded", team="net")
    assert Actions.from_dict(json.loads(json.dumps(actions.to_dict()))) == actions
    assert Actions.from_dict(None) == Actions()
    assert Actions().is_empty
    assert actions.to_dict()["priority"] == "high"


def test_assign_spec_forms() -> None:
    assert AssignSpec.from_dict("least_loaded") == AssignSpec(strategy="least_loaded")
    spec = AssignSpec(strategy="skills_based", skills=["vpn", "mac"], team="net")
    assert spec.skills == frozenset({"vpn", "mac"})
    assert AssignSpec.from_dict(spec.to_dict()) == spec
    assert spec.to_dict() == {"strategy": "skills_based", "skills": ["mac", "vpn"], "team": "net"}


def test_rule_set_round_trip_through_json() -> None:
    rules = RuleSet.from_dict(RULES)
    again = RuleSet.from_dict(json.loads(json.dumps(rules.to_dict())))
    assert again == rules
    assert again.to_dict() == rules.to_dict()
    assert len(rules) == 4
    assert [r.name for r in rules] == ["network", "email", "vpn", "after-stop"]
    assert rules.rule("vpn").stop
    with pytest.raises(NotFound):
        rules.rule("nope")


def test_rules_built_in_python_equal_the_dict_form() -> None:
    built = RuleSet(
        [
            Rule(
                name="network",
                when=F.category == "network",
                actions=Actions(team="net", tier="L2", add_tags=["network"], priority="high"),
            ),
            Rule(
                name="email",
                when=F.channel.in_(["email", "web"]),
                actions=Actions(
                    priority=Priority.CRITICAL, remove_tags=["new"], fields={"src": "mail"}
                ),
            ),
            Rule(
                name="vpn",
                when=F.subject.contains("vpn"),
                actions=Actions(assign=AssignSpec(strategy="skills_based", skills={"vpn"})),
                stop=True,
            ),
            Rule(name="after-stop", actions=Actions(team="never")),
        ]
    )
    assert built == RuleSet.from_dict(RULES)


def test_evaluate_combines_in_order_and_stops() -> None:
    rules = RuleSet.from_dict(RULES)
    t = ticket(category="network", channel="email", tags=["new", "x"])
    decision = rules.evaluate(t)
    assert decision.rules == ("network", "email", "vpn")
    assert decision.stopped_by == "vpn"
    assert decision.changes == Changes(
        team="net",
        tier="L2",
        priority=Priority.CRITICAL,  # the later rule wins
        tags=("network", "x"),  # the complete new tag tuple
        fields={"src": "mail"},
    )
    assert decision.assign == AssignSpec(strategy="skills_based", skills={"vpn"})
    assert [m.position for m in decision.matched] == [0, 1, 2]
    assert decision.matched[0].changes == Changes(team="net", tier="L2", priority="high")
    assert decision.matched[2].stopped


def test_rules_see_the_ticket_as_it_came_in() -> None:
    rules = RuleSet.from_dict(
        [
            {"name": "set-cat", "when": True, "actions": {"category": "network"}},
            {"name": "on-cat", "when": {"field": "category", "op": "eq", "value": "network"},
             "actions": {"team": "net"}},
        ]
    )
    decision = rules.evaluate(ticket(category=None))
    assert decision.rules == ("set-cat",)
    assert decision.changes == Changes(category="network")


def test_values_the_ticket_already_has_are_not_changes() -> None:
    rules = RuleSet.from_dict(
        [{"name": "r", "when": True,
          "actions": {"team": "net", "add_tags": ["a"], "fields": {"n": 1, "m": True}}}]
    )
    decision = rules.evaluate(ticket(team="net", tags=["a"], fields={"n": 1, "m": 1}))
    assert decision.rules == ("r",)
    assert decision.changes == Changes(fields={"m": True})  # 1 is not True


def test_no_match() -> None:
    decision = RuleSet.from_dict(RULES[:3]).evaluate(ticket(channel="phone", subject="printer"))
    assert decision.matched == ()
    assert decision.changes.is_empty
    assert decision.assign is None
    assert decision.event(at=NOW) is None
    assert decision.explain() == "ticket T-1: no rule matched (3 rules); nothing changes"


def test_explain_lists_the_matched_rules_and_what_each_changed() -> None:
    t = ticket(category="network", channel="email", tags=["new"])
    text = RuleSet.from_dict(RULES).evaluate(t).explain()
    assert text.splitlines() == [
        "ticket T-1: 3 rules matched (4 rules)",
        "  1. network: team = net; tier = L2; priority = high; tags + network",
        "  2. email: priority = critical (overrides network); fields.src = 'mail'; tags - new",
        "  3. vpn [stop]: assign skills_based (skills: vpn)",
        "result: team = net; tier = L2; priority = critical; tags = network; "
        "fields.src = 'mail'; assign skills_based (skills: vpn)",
    ]


def test_decision_event_folds_into_the_ticket() -> None:
    t = ticket(category="network", channel="email", tags=["new"])
    decision = RuleSet.from_dict(RULES).evaluate(t)
    event = decision.event(at=NOW)
    assert isinstance(event, TicketRouted)
    assert event.rules == ("network", "email", "vpn")
    assert event.by == Actor.system("routing")
    routed = apply_event(t, event)
    assert (routed.team, routed.tier, routed.priority) == ("net", "L2", Priority.CRITICAL)
    assert routed.tags == ("network",)
    assert routed.fields == {"src": "mail"}
    assert routed.version == t.version + 1


def test_sla_policy_is_reported_even_when_unchanged() -> None:
    rules = RuleSet.from_dict([{"name": "g", "when": True, "actions": {"sla_policy": "gold"}}])
    decision = rules.evaluate(ticket(sla_policy="gold"))
    assert decision.sla_policy == "gold"
    assert decision.changes.is_empty


def test_index_by_tags_and_in_lists_keeps_rule_order() -> None:
    rules = RuleSet(
        [
            Rule(name="a", when=F.tags.contains("vip"), actions=Actions(team="t1")),
            Rule(name="b", when=F.tags.in_(["vip", "vpn"]), actions=Actions(tier="L2")),
            Rule(name="c", when=F.subject.matches("(?i)vpn"), actions=Actions(type="problem")),
            Rule(name="d", when=F.channel.in_(["email", "chat"]) & (F.team == "x"),
                 actions=Actions(category="z")),
            Rule(name="e", when=F.priority >= "high", actions=Actions(sla_policy="p")),
        ]
    )
    t = ticket(tags=["vip", "vpn"], channel="chat", team="x", priority="critical")
    assert rules.evaluate(t).rules == ("a", "b", "c", "d", "e")
    assert rules.evaluate(ticket(tags=["vpn"], subject="mail")).rules == ("b",)


def test_business_hours_rules_are_not_read_up_front() -> None:
    rules = RuleSet(
        [
            Rule(name="stop", when=Condition.always(), stop=True),
            Rule(name="hours", when=F.business_hours.emea, actions=Actions(team="x")),
        ]
    )
    # the business-hours rule is never reached, so a missing calendar is no error
    assert rules.evaluate(ticket()).rules == ("stop",)


def test_rule_set_fields_and_calendars() -> None:
    rules = RuleSet(
        [
            Rule(name="a", when=F.business_hours.emea & (F.category == "x")),
            Rule(name="b", when=F.requester.vip),
        ]
    )
    assert rules.fields() == {"business_hours.emea", "category", "requester.vip"}
    assert rules.calendar_names() == {"emea"}


def test_naive_now_refused() -> None:
    with pytest.raises(ValidationError, match="naive"):
        RuleSet([]).evaluate(ticket(), now=datetime(2024, 1, 1))


# --- configuration errors name the rule, the path and the part ----------------------------


def rules_error(doc: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        RuleSet.from_dict(doc, path="routing")
    return info.value


def test_error_in_condition_names_rule_and_part() -> None:
    err = rules_error(
        [
            {"name": "ok", "when": True},
            {"name": "vpn", "when": {"all": [{"field": "subject", "op": "matches",
                                              "value": "[vpn"}]}},
        ]
    )
    assert err.path == "routing[1].when.all[0].value"
    assert err.message.startswith("rule 'vpn': bad regular expression '[vpn'")


def test_a_rule_built_in_python_names_itself_in_an_error_of_its_condition() -> None:
    with pytest.raises(ConfigError) as info:
        Rule(name="vpn", when={"all": [{"field": "subject", "op": "matches", "value": "[vpn"}]})
    assert info.value.path == "when.all[0].value"
    assert info.value.message.startswith("rule 'vpn': bad regular expression '[vpn'")
    with pytest.raises(ConfigError, match=r"^when\.field: rule 'vpn': unknown field 'categroy'"):
        Rule(name="vpn", when={"field": "categroy", "op": "eq", "value": "network"})
    # a Condition or nothing is taken as it is
    assert Rule(name="vpn", when=F.category == "x").when == (F.category == "x")
    assert Rule(name="vpn").when == Condition.always()


def test_duplicate_rule_names() -> None:
    err = rules_error([{"name": "a"}, {"name": "b"}, {"name": "a"}])
    assert err.path == "routing[2].name"
    assert "duplicate rule name 'a' (also routing[0])" in err.message


def test_unknown_rule_key() -> None:
    err = rules_error([{"name": "a", "whenn": True}])
    assert err.path == "routing[0].whenn"
    assert "rule 'a': unknown key 'whenn'" in err.message


def test_missing_name() -> None:
    err = rules_error([{"when": True}])
    assert err.path == "routing[0].name"
    assert "needs a 'name'" in err.message
    err = rules_error([{"name": ""}])
    assert err.path == "routing[0].name"
    assert "a rule name is" in err.message


def test_bad_actions() -> None:
    err = rules_error([{"name": "a", "actions": {"teem": "x"}}])
    assert err.path == "routing[0].actions.teem"
    assert "rule 'a': unknown action 'teem'" in err.message
    err = rules_error([{"name": "a", "actions": {"team": "not an id"}}])
    assert err.path == "routing[0].actions.team"
    assert "invalid id 'not an id'" in err.message
    err = rules_error([{"name": "a", "actions": {"priority": "urgentest"}}])
    assert err.path == "routing[0].actions.priority"
    assert "not a valid Priority" in err.message
    err = rules_error([{"name": "a", "actions": {"add_tags": ["x"], "remove_tags": ["x"]}}])
    assert err.path == "routing[0].actions.remove_tags"
    assert "both added and removed" in err.message
    err = rules_error([{"name": "a", "actions": {"fields": {"os": [1]}}}])
    assert err.path == "routing[0].actions.fields.os"
    err = rules_error([{"name": "a", "actions": ["team"]}])
    assert err.path == "routing[0].actions"


def test_bad_tag_actions_name_the_action() -> None:
    """A tag list that is no list of text is named by its action, as an invalid tag is
    (``actions.add_tags``, not ``actions.tags``, a key a rule does not have)."""
    for key, value, message in (
        ("add_tags", 5, "expected a list of tags, got int"),
        ("remove_tags", ["vpn", 5], "tag 5 is not text"),
        ("add_tags", [" vpn"], "invalid tag ' vpn'"),
    ):
        err = rules_error([{"name": "a", "actions": {key: value}}])
        assert (err.path, err.message) == (f"routing[0].actions.{key}", f"rule 'a': {message}")
    with pytest.raises(ValidationError) as info:
        Actions(remove_tags=5)  # type: ignore[arg-type]
    assert info.value.field == "remove_tags"


def test_bad_assign_spec() -> None:
    err = rules_error([{"name": "a", "actions": {"assign": {"strategy": "random"}}}])
    assert err.path == "routing[0].actions.assign.strategy"
    assert "unknown assignment strategy 'random'" in err.message
    err = rules_error([{"name": "a", "actions": {"assign": {"strategy": "round_robin",
                                                           "skill": ["x"]}}}])
    assert err.path == "routing[0].actions.assign.skill"
    err = rules_error([{"name": "a", "actions": {"assign": {"skills": [""]}}}])
    assert err.path == "routing[0].actions.assign.skills"


def test_bad_stop_and_shapes() -> None:
    err = rules_error([{"name": "a", "stop": "yes"}])
    assert err.path == "routing[0].stop"
    assert rules_error({"name": "a"}).path == "routing"
    assert rules_error(["a"]).path == "routing[0]"
    with pytest.raises(ConfigError, match="expected a Rule"):
        RuleSet(["a"])  # type: ignore[list-item]


def test_a_field_name_ending_in_a_line_break_is_unknown() -> None:
    from helpdesk_core import DeskConfig

    rule = {"name": "r", "when": {"field": "fields.location\n", "op": "eq", "value": "x"},
            "actions": {"add_tags": ["t"]}}  # fmt: skip
    with pytest.raises(ConfigError, match="unknown field"):
        DeskConfig.from_dict({"routing": [rule]})


def test_a_rule_naming_a_team_outside_its_tier_is_refused_at_load() -> None:
    """A ticket in a tier and a team no agent of that tier is in could never be
    assigned; the team alone (or the tier alone) brings the other."""
    desk: dict[str, Any] = {
        "tiers": [{"id": "L1", "teams": ["desk"]}, {"id": "L2", "teams": ["experts"]}],
        "teams": [{"id": "desk"}, {"id": "experts"}, {"id": "spare"}],
        "agents": [{"id": "alice", "tier": "L1", "teams": ["desk"]},
                   {"id": "bob", "tier": "L2", "teams": ["experts", "spare"]}],
    }

    def load(actions: dict[str, Any]) -> DeskConfig:
        return DeskConfig.from_dict({**desk, "routing": [{"name": "net", "actions": actions}]})

    with pytest.raises(ConfigError) as caught:
        load({"team": "experts", "tier": "L1"})
    assert caught.value.path == "routing[0].actions.team"
    assert "team 'experts' is not among the teams of tier 'L1' (desk)" in caught.value.message
    load({"team": "experts", "tier": "L2"})
    load({"team": "experts"})
    load({"tier": "L1"})
    load({"team": "spare", "tier": "L2"})  # not the tier's, but an agent of L2 works in it
