"""The condition language: builder, dict form, semantics of each operator, and errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import Requester, Ticket
from helpdesk_core.routing import Condition, F
from helpdesk_core.routing.conditions import MAX_DEPTH, MAX_REGEX_LENGTH

NOW = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)


def ticket(**kw: Any) -> Ticket:
    base: dict[str, Any] = {
        "id": "T-1",
        "number": 1,
        "requester": "r1",
        "subject": "VPN down",
        "created_at": NOW,
        "updated_at": NOW,
    }
    base.update(kw)
    return Ticket(**base)


class NineToFive:
    """A stand-in calendar: open 09:00-17:00 UTC."""

    def is_open(self, at: datetime) -> bool:
        return 9 <= at.astimezone(UTC).hour < 17


# --- builder == dict form -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("built", "doc"),
    [
        (F.category == "network", {"field": "category", "op": "eq", "value": "network"}),
        (F.team != "apps", {"field": "team", "op": "ne", "value": "apps"}),
        (
            F.priority.in_(["critical", "high"]),
            {"field": "priority", "op": "in", "value": ["critical", "high"]},
        ),
        (F.channel.not_in(["email"]), {"field": "channel", "op": "not_in", "value": ["email"]}),
        (F.fields.os == "mac", {"field": "fields.os", "op": "eq", "value": "mac"}),
        (F.tags.contains("vip"), {"field": "tags", "op": "contains", "value": "vip"}),
        (F.subject.matches(r"^urgent"), {"field": "subject", "op": "matches", "value": "^urgent"}),
        (F.escalation_level >= 1, {"field": "escalation_level", "op": "ge", "value": 1}),
        (F.reopen_count > 2, {"field": "reopen_count", "op": "gt", "value": 2}),
        (F.number < 10, {"field": "number", "op": "lt", "value": 10}),
        (F.impact <= "medium", {"field": "impact", "op": "le", "value": "medium"}),
        (F.asset.exists(), {"field": "asset", "op": "exists"}),
        (F.asset.exists(False), {"field": "asset", "op": "exists", "value": False}),
        (
            F.business_hours.emea,
            {"field": "business_hours.emea", "op": "eq", "value": True},
        ),
        (F.requester.vip, {"field": "requester.vip", "op": "eq", "value": True}),
        (
            F.requester.department == "sales",
            {"field": "requester.department", "op": "eq", "value": "sales"},
        ),
        (F("fields.os-version") == 14, {"field": "fields.os-version", "op": "eq", "value": 14}),
        (
            F.subject.contains("vpn") & ~F.requester.vip,
            {
                "all": [
                    {"field": "subject", "op": "contains", "value": "vpn"},
                    {"not": {"field": "requester.vip", "op": "eq", "value": True}},
                ]
            },
        ),
        (
            (F.category == "a") | (F.category == "b") | (F.team == "c"),
            {
                "any": [
                    {"field": "category", "op": "eq", "value": "a"},
                    {"field": "category", "op": "eq", "value": "b"},
                    {"field": "team", "op": "eq", "value": "c"},
                ]
            },
        ),
    ],
)
def test_builder_equals_dict_form(built: Condition, doc: dict[str, Any]) -> None:
    parsed = Condition.from_dict(doc)
    assert built == parsed
    assert hash(built) == hash(parsed)
    assert built.to_dict() == doc
    assert Condition.from_dict(json.loads(json.dumps(built.to_dict()))) == built


def test_and_flattens_nested_all() -> None:
    a, b, c = F.category == "a", F.team == "b", F.tier == "c"
    assert (a & b & c).to_dict() == {"all": [a.to_dict(), b.to_dict(), c.to_dict()]}
    # from_dict keeps the tree as written
    nested = Condition.from_dict({"all": [{"all": [a.to_dict(), b.to_dict()]}, c.to_dict()]})
    assert nested != a & b & c


def test_always_forms() -> None:
    always = Condition.always()
    assert always.to_dict() == {"always": True}
    assert Condition.from_dict(True) == always
    assert Condition.from_dict({}) == always
    assert Condition.from_dict({"always": True}) == always
    assert always.matches(ticket())


def test_empty_all_is_true_and_empty_any_is_false() -> None:
    assert Condition.from_dict({"all": []}).matches(ticket())
    assert not Condition.from_dict({"any": []}).matches(ticket())
    assert Condition.from_dict({"not": {"any": []}}).matches(ticket())


def test_condition_has_no_truth_value() -> None:
    with pytest.raises(TypeError, match="combine conditions with &"):
        bool(F.category == "network")


def test_equal_values_of_different_types_are_different_conditions() -> None:
    assert (F.fields.flag == True) != (F.fields.flag == 1)  # noqa: E712
    assert (F.fields.n == 1) == (F.fields.n == 1)


def test_enum_values_are_normalised() -> None:
    assert (F.priority == "P1") == (F.priority == "critical")
    assert (F.priority == "High") == (F.priority == "high")
    assert (F.channel == "self-service").to_dict()["value"] == "self_service"


def test_fields_and_calendar_names() -> None:
    hours = F.business_hours.emea | F.business_hours.apac
    cond = (F.category == "x") & hours & F.fields.os.exists()
    assert cond.fields() == {"category", "business_hours.emea", "business_hours.apac", "fields.os"}
    assert cond.calendar_names() == {"emea", "apac"}


def test_required_values() -> None:
    cond = (F.category == "net") & F.channel.in_(["email", "web"]) & F.subject.contains("x")
    assert dict(cond.required_values()) == {
        "category": frozenset({"net"}),
        "channel": frozenset({"email", "web"}),
    }
    assert (F.category == "a").required_values() == (("category", frozenset({"a"})),)
    assert ((F.category == "a") | (F.team == "b")).required_values() == ()
    assert F.business_hours.emea.required_values() == ()


# --- semantics --------------------------------------------------------------------------


def test_text_operators() -> None:
    t = ticket(subject="VPN down again", category="network")
    assert (F.category == "network").matches(t)
    assert not (F.category == "Network").matches(t)  # eq is exact
    assert (F.category != "apps").matches(t)
    assert F.category.in_(["apps", "network"]).matches(t)
    assert F.category.not_in(["apps"]).matches(t)
    assert F.subject.contains("vpn").matches(t)  # contains ignores case
    assert not F.subject.contains("printer").matches(t)
    assert F.subject.matches(r"down\b").matches(t)
    assert not F.subject.matches(r"^down").matches(t)  # re.search, anchors respected
    assert F.subject.matches(r"(?i)^vpn").matches(t)


def test_missing_text_value() -> None:
    t = ticket(category=None, description="")
    assert not (F.category == "network").matches(t)
    assert (F.category != "network").matches(t)
    assert not F.category.in_(["network"]).matches(t)
    assert F.category.not_in(["network"]).matches(t)
    assert not F.category.contains("net").matches(t)
    assert not F.category.matches(".*").matches(t)
    assert not F.category.exists().matches(t)
    assert F.category.exists(False).matches(t)
    assert not F.description.exists().matches(t)  # empty text counts as missing


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        (F.priority >= "high", {"critical", "high"}),
        (F.priority > "high", {"critical"}),
        (F.priority <= "medium", {"medium", "low"}),
        (F.priority < "medium", {"low"}),
        (F.priority == "medium", {"medium"}),
        (F.priority.in_(["P1", "low"]), {"critical", "low"}),
    ],
)
def test_priority_orders_by_urgency(cond: Condition, expected: set[str]) -> None:
    matched = {p for p in ("critical", "high", "medium", "low") if cond.matches(ticket(priority=p))}
    assert matched == expected


def test_impact_and_urgency_order() -> None:
    assert (F.impact > "medium").matches(ticket(impact="high"))
    assert not (F.impact > "medium").matches(ticket(impact="medium"))
    assert (F.urgency <= "medium").matches(ticket(urgency="low"))


def test_int_operators() -> None:
    t = ticket(escalation_level=2, reopen_count=0, number=42)
    assert (F.escalation_level >= 2).matches(t)
    assert not (F.escalation_level > 2).matches(t)
    assert (F.reopen_count == 0).matches(t)
    assert F.number.in_([41, 42]).matches(t)
    assert (F.number != 41).matches(t)


def test_tag_operators() -> None:
    t = ticket(tags=["vip", "vpn"])
    assert F.tags.contains("vip").matches(t)
    assert not F.tags.contains("VIP").matches(t)  # tags are exact
    assert F.tags.in_(["mac", "vpn"]).matches(t)  # any of
    assert F.tags.not_in(["mac", "win"]).matches(t)  # none of
    assert (F.tags == ["vpn", "vip"]).matches(t)  # the exact set, any order
    assert not (F.tags == ["vpn"]).matches(t)
    assert (F.tags != ["vpn"]).matches(t)
    assert F.tags.matches("^vp").matches(t)
    assert F.tags.exists().matches(t)
    assert not F.tags.exists().matches(ticket())


def test_custom_field_operators() -> None:
    t = ticket(fields={"os": "macOS 14", "seats": 12, "remote": True, "ratio": 0.5})
    assert (F.fields.os == "macOS 14").matches(t)
    assert F.fields.os.contains("MACOS").matches(t)
    assert F.fields.os.matches(r"\d+$").matches(t)
    assert (F.fields.seats > 10).matches(t)
    assert (F.fields.seats == 12.0).matches(t)
    assert not (F.fields.seats > "a").matches(t)  # text vs number: false, not an error
    assert (F.fields.ratio < 1).matches(t)
    assert (F.fields.os > "mac").matches(t)  # text compares as text
    assert (F.fields.remote == True).matches(t)  # noqa: E712
    assert not (F.fields.remote == 1).matches(t)  # true is not 1
    assert not F.fields.seats.in_([True]).matches(ticket(fields={"seats": 1}))
    assert F.fields.seats.in_([1]).matches(ticket(fields={"seats": 1}))
    assert not F.fields.remote.contains("t").matches(t)
    assert not (F.fields.remote > 0).matches(t)  # booleans do not order
    assert not F.fields.missing.exists().matches(t)
    assert (F.fields.missing != "x").matches(t)


def test_requester_fields() -> None:
    t = ticket()
    vip = Requester(id="r1", vip=True, organization="acme", attributes={"department": "sales"})
    plain = Requester(id="r1", email="a@example.com")
    assert F.requester.vip.matches(t, requester=vip)
    assert not F.requester.vip.matches(t, requester=plain)
    assert not F.requester.vip.matches(t)  # no requester given: the field is missing
    assert (~F.requester.vip).matches(t)
    assert (F.requester.organization == "acme").matches(t, requester=vip)
    assert (F.requester.department == "sales").matches(t, requester=vip)
    assert F.requester.email.contains("example").matches(t, requester=plain)
    assert (F.requester.language == "en").matches(t, requester=plain)
    assert not F.requester.department.exists().matches(t, requester=plain)


def test_business_hours() -> None:
    cals = {"emea": NineToFive()}
    t = ticket()
    assert F.business_hours.emea.matches(t, now=NOW, calendars=cals)
    night = NOW + timedelta(hours=10)
    assert not F.business_hours.emea.matches(t, now=night, calendars=cals)
    assert (~F.business_hours.emea).matches(t, now=night, calendars=cals)


def test_business_hours_needs_now_and_a_known_calendar() -> None:
    t = ticket()
    with pytest.raises(ValidationError, match="needs `now`") as info:
        F.business_hours.emea.matches(t, calendars={"emea": NineToFive()})
    assert info.value.field == "business_hours.emea"
    with pytest.raises(ValidationError, match="unknown calendar 'emea'"):
        F.business_hours.emea.matches(t, now=NOW, calendars={"apac": NineToFive()})
    with pytest.raises(ValidationError, match="unknown calendar 'emea'"):
        F.business_hours.emea.matches(t, now=NOW)


@pytest.mark.parametrize("calendar", [{"mon-fri": "09:00-17:00"}, "09:00-17:00", None])
def test_business_hours_refuses_what_is_no_calendar(calendar: Any) -> None:
    # A calendar's definition where a calendar belongs (as assign() refuses it too).
    t = ticket()
    with pytest.raises(ValidationError, match="calendars map names to calendars") as info:
        F.business_hours.emea.matches(t, now=NOW, calendars={"emea": calendar})
    assert info.value.field == "calendars.emea"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValidationError, match="naive"):
        Condition.always().matches(ticket(), now=datetime(2024, 1, 1))


def test_combinators_evaluate() -> None:
    t = ticket(category="network", channel="email")
    a, b = F.category == "network", F.channel == "phone"
    assert (a | b).matches(t)
    assert not (a & b).matches(t)
    assert (a & ~b).matches(t)
    assert not (~a).matches(t)


# --- errors: each names the path and the part ---------------------------------------------


def error(doc: Any, path: str = "rules[0].when") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        Condition.from_dict(doc, path=path)
    return info.value


def test_unknown_field() -> None:
    err = error({"all": [{"field": "categroy", "op": "eq", "value": "x"}]})
    assert err.path == "rules[0].when.all[0].field"
    assert "unknown field 'categroy'" in str(err)
    assert "category" in err.message  # lists the known fields
    assert str(err).startswith("rules[0].when.all[0].field: ")


def test_unknown_prefixed_field() -> None:
    assert error({"field": "fields.", "op": "exists"}).path == "rules[0].when.field"
    assert "unknown field 'ticket.x'" in error({"field": "ticket.x", "op": "exists"}).message


def test_bad_regex() -> None:
    err = error({"any": [{"field": "subject", "op": "matches", "value": "(unclosed"}]})
    assert err.path == "rules[0].when.any[0].value"
    assert "bad regular expression '(unclosed'" in err.message


def test_regex_too_long() -> None:
    err = error({"field": "subject", "op": "matches", "value": "a" * (MAX_REGEX_LENGTH + 1)})
    assert err.path == "rules[0].when.value"
    assert f"at most {MAX_REGEX_LENGTH}" in err.message


def test_enum_value_names_the_allowed_values() -> None:
    err = error({"field": "priority", "op": "eq", "value": "urgentest"})
    assert err.path == "rules[0].when.value"
    assert "'urgentest' is not a valid priority" in err.message
    assert "critical, high, medium, low" in err.message


def test_enum_value_in_a_list() -> None:
    err = error({"field": "channel", "op": "in", "value": ["email", "fax"]})
    assert err.path == "rules[0].when.value[1]"
    assert "'fax' is not a valid channel" in err.message


def test_wrong_value_type() -> None:
    err = error({"field": "escalation_level", "op": "ge", "value": "1"})
    assert err.path == "rules[0].when.value"
    assert "takes a whole number" in err.message
    err = error({"field": "category", "op": "eq", "value": 3})
    assert "'eq' on text field 'category' takes text, got int 3" in err.message
    err = error({"field": "requester.vip", "op": "eq", "value": "yes"})
    assert "takes true or false" in err.message
    err = error({"field": "category", "op": "in", "value": "network"})
    assert "takes a list, got str" in err.message
    err = error({"field": "fields.x", "op": "eq", "value": [1]})
    assert "takes text, a number or true/false" in err.message
    err = error({"field": "fields.x", "op": "gt", "value": True})
    assert "a number or text to compare with" in err.message
    err = error({"field": "fields.x", "op": "eq", "value": float("nan")})
    assert "finite number" in err.message
    err = error({"field": "asset", "op": "exists", "value": "yes"})
    assert "takes true or false" in err.message


def test_operator_that_does_not_fit_the_field() -> None:
    err = error({"field": "subject", "op": "gt", "value": "a"})
    assert err.path == "rules[0].when.op"
    assert "operator 'gt' does not fit text field 'subject'" in err.message
    assert "contains" in err.message  # says which operators fit
    assert "does not fit enum field 'channel'" in error(
        {"field": "channel", "op": "lt", "value": "email"}
    ).message
    assert "does not fit bool field 'requester.vip'" in error(
        {"field": "requester.vip", "op": "contains", "value": "x"}
    ).message


def test_unknown_operator() -> None:
    err = error({"field": "subject", "op": "like", "value": "a"})
    assert err.path == "rules[0].when.op"
    assert "unknown operator 'like'" in err.message


def test_missing_op_and_value() -> None:
    assert error({"field": "subject", "value": "a"}).path == "rules[0].when.op"
    err = error({"field": "subject", "op": "eq"})
    assert err.path == "rules[0].when.value"
    assert "needs a 'value'" in err.message
    assert error({"op": "eq", "value": 1}).path == "rules[0].when.field"


def test_unknown_key() -> None:
    err = error({"field": "subject", "op": "eq", "value": "a", "vaule": "b"})
    assert err.path == "rules[0].when.vaule"
    assert "unknown key 'vaule'" in err.message
    err = error({"all": [{"allof": []}]})
    assert err.path == "rules[0].when.all[0].allof"


def test_mixed_and_several_combinators() -> None:
    err = error({"field": "subject", "op": "eq", "value": "a", "all": []})
    assert err.path == "rules[0].when.all"
    assert "cannot be mixed" in err.message
    err = error({"all": [], "any": []})
    assert err.path == "rules[0].when"
    assert "exactly one of" in err.message


def test_bad_shapes() -> None:
    assert "takes a list of conditions" in error({"all": {"field": "x"}}).message
    assert "expected a condition" in error(None).message
    assert "expected a condition" in error(["field"]).message
    assert error({"not": 3}).path == "rules[0].when.not"
    err = error({"always": False})
    assert err.path == "rules[0].when.always"
    assert "{'any': []}" in err.message


def test_depth_limit() -> None:
    doc: dict[str, Any] = {"field": "subject", "op": "exists"}
    for _ in range(MAX_DEPTH):
        doc = {"not": doc}
    Condition.from_dict(doc)  # exactly at the limit
    err = error({"not": doc})
    assert f"deeper than {MAX_DEPTH} levels" in err.message
    deep = F.subject.exists()
    for _ in range(MAX_DEPTH):
        deep = ~deep
    with pytest.raises(ConfigError, match="deeper than"):
        ~deep


def test_builder_errors() -> None:
    with pytest.raises(ConfigError, match="unknown field 'categroy'") as info:
        F.categroy
    assert info.value.path == "F.categroy"
    with pytest.raises(ConfigError, match="bad regular expression") as info:
        F.subject.matches("(")
    assert info.value.path == "F.subject.value"
    with pytest.raises(ConfigError, match="wrap it in a list"):
        F.category.in_("network")
    with pytest.raises(ConfigError, match="not a valid priority"):
        F.priority >= "urgentest"


@pytest.mark.parametrize("values", [5, None, 2.5, {"network": 1}])
def test_builder_lists_refuse_what_is_no_list(values: Any) -> None:
    # The dict form refuses these with a ConfigError; the builder did too little (a
    # mapping's keys were read as the list) or too much (a TypeError from list()).
    for build in (F.category.in_, F.category.not_in):
        with pytest.raises(ConfigError, match="takes a list") as info:
            build(values)
        assert info.value.path == "F.category.value"
