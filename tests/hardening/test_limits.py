"""The ``[limits]`` section: validated and documented defaults, outer bounds a configuration
cannot pass, the facade refusing oversized input before anything is stored, and condition
limits applied to every rule of a configuration."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from helpdesk_core import (
    DeskConfig,
    Helpdesk,
    ManualClock,
    MemoryStore,
    Requester,
    RuleSet,
    SequentialIds,
    TicketQuery,
)
from helpdesk_core.config import Limits
from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model._validate import (
    MAX_BODY_LENGTH,
    MAX_FIELD_TEXT_LENGTH,
    MAX_FIELDS,
    MAX_TAGS,
)
from helpdesk_core.model.ticket import MAX_SUBJECT_LENGTH
from helpdesk_core.routing import Condition
from helpdesk_core.routing.conditions import MAX_DEPTH, MAX_REGEX_LENGTH

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
SMALL = {
    "max_subject_length": 20,
    "max_body_length": 50,
    "max_tags": 2,
    "max_fields": 2,
    "max_field_length": 10,
    "max_condition_depth": 2,
    "max_regex_length": 12,
}


def _desk(limits: dict[str, Any] | None = None) -> tuple[Helpdesk, MemoryStore]:
    doc: dict[str, Any] = {"agents": [{"id": "alice", "teams": ["service-desk"]}]}
    if limits is not None:
        doc["limits"] = limits
    store = MemoryStore()
    desk = Helpdesk(DeskConfig.from_dict(doc), store, ManualClock(T0), ids=SequentialIds())
    return desk, store


# ---------------------------------------------------------------------------- the record


def test_defaults_are_documented_and_within_the_outer_bounds() -> None:
    limits = Limits()
    assert limits.max_subject_length == MAX_SUBJECT_LENGTH == 1_000
    assert limits.max_body_length == 100_000 < MAX_BODY_LENGTH
    assert (limits.max_tags, limits.max_fields) == (100, 100)
    assert limits.max_field_length == 10_000 < MAX_FIELD_TEXT_LENGTH
    assert (limits.max_condition_depth, limits.max_regex_length) == (MAX_DEPTH, MAX_REGEX_LENGTH)
    assert (limits.max_regex_cost, limits.regex_scan_length) == (10**8, 1_000)
    assert limits.to_dict() == {}
    assert DeskConfig().limits == limits
    assert "limits" not in DeskConfig().to_dict()


@pytest.mark.parametrize(
    ("name", "bound"),
    [
        ("max_subject_length", MAX_SUBJECT_LENGTH),
        ("max_body_length", MAX_BODY_LENGTH),
        ("max_tags", MAX_TAGS),
        ("max_fields", MAX_FIELDS),
        ("max_field_length", MAX_FIELD_TEXT_LENGTH),
        ("max_condition_depth", MAX_DEPTH),
        ("max_regex_length", MAX_REGEX_LENGTH),
        ("max_regex_cost", 10**9),
        ("regex_scan_length", 100_000),
    ],
)
def test_a_configuration_may_lower_a_limit_but_not_pass_its_bound(name: str, bound: int) -> None:
    assert getattr(Limits(**{name: bound}), name) == bound
    assert getattr(Limits(**{name: 1}), name) == 1
    with pytest.raises(ConfigError, match="outer bound") as caught:
        Limits(**{name: bound + 1})
    assert caught.value.path == f"limits.{name}"
    with pytest.raises(ConfigError, match="whole number"):
        Limits(**{name: True})
    with pytest.raises(ConfigError):
        Limits(**{name: -1})


def test_the_section_round_trips_and_names_bad_keys() -> None:
    config = DeskConfig.from_dict({"limits": SMALL})
    assert config.limits.to_dict() == SMALL
    assert config.to_dict()["limits"] == SMALL
    assert DeskConfig.from_dict(config.to_dict()).limits == config.limits
    toml = "[limits]\nmax_tags = 5\nregex_scan_length = 200\n"
    assert DeskConfig.from_toml(toml).limits == Limits(max_tags=5, regex_scan_length=200)
    with pytest.raises(ConfigError, match="unknown limit") as caught:
        DeskConfig.from_dict({"limits": {"max_tag": 5}})
    assert caught.value.path == "limits"
    with pytest.raises(ConfigError) as caught:
        DeskConfig.from_dict({"limits": {"max_tags": "5"}})
    assert caught.value.path == "limits.max_tags"
    with pytest.raises(ConfigError, match="mapping"):
        DeskConfig.from_dict({"limits": [1]})


# ---------------------------------------------------------------------------- the facade


def _refused(call: Callable[[], Any], field: str, size: str, limit: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        call()
    error = caught.value
    assert error.field == field
    assert size in error.message and limit in error.message, error.message
    return error


def test_open_refuses_oversized_input_before_anything_is_stored() -> None:
    desk, store = _desk(SMALL)
    ada = Requester(id="ada", name="Ada")
    cases: list[tuple[dict[str, Any], str, str, str]] = [
        ({"subject": "s" * 21}, "subject", "21 characters", "limits.max_subject_length"),
        ({"description": "d" * 51}, "description", "51 characters", "limits.max_body_length"),
        ({"tags": ["a", "b", "c", "a"]}, "tags", "3 tags", "limits.max_tags"),
        ({"fields": {"a": 1, "b": 2, "c": 3}}, "fields", "3 custom fields", "limits.max_fields"),
        ({"fields": {"note": "n" * 11}}, "fields.note", "11 characters", "max_field_length"),
    ]
    for changes, field, size, limit in cases:
        kwargs: dict[str, Any] = {"requester": ada, "subject": "Printer jams", **changes}
        _refused(lambda: desk.open(**kwargs), field, size, limit)
    # Nothing was written: no ticket, no number, not even the requester.
    assert store.query(TicketQuery()).total == 0
    assert store.allocate_number() == 1
    with pytest.raises(LookupError):
        store.get_requester("ada")
    # At the limit everything passes.
    ticket = desk.open(
        requester=ada,
        subject="s" * 20,
        description="d" * 50,
        tags=["a", "b"],
        fields={"a": "x" * 10, "b": None},
    )
    assert ticket.tags == ("a", "b")


def test_commands_refuse_oversized_text_and_change_nothing() -> None:
    desk, _ = _desk(SMALL)
    desk.upsert_requester(Requester(id="ada"))
    ticket = desk.open(requester="ada", subject="Printer jams", fields={"a": 1})
    long = "x" * 51
    calls: list[tuple[Callable[[], Any], str]] = [
        (lambda: desk.reply(ticket.id, author="alice", body=long), "body"),
        (lambda: desk.reply(ticket.id, author="ada", body=long), "body"),
        (
            lambda: desk.solve(ticket.id, by="alice", resolution=long, first_contact=True),
            "resolution",
        ),
        (lambda: desk.transition(ticket.id, "cancel", by="alice", reason=long), "reason"),
        (lambda: desk.set_priority(ticket.id, "high", by="alice", reason=long), "reason"),
        (lambda: desk.escalate(ticket.id, by="alice", reason=long), "reason"),
        (lambda: desk.raise_level(ticket.id, by="alice", reason=long), "reason"),
        (lambda: desk.update(ticket.id, by="alice", subject="s" * 21), "subject"),
        (lambda: desk.update(ticket.id, by="alice", tags=["a", "b", "c"]), "tags"),
        (lambda: desk.update(ticket.id, by="alice", reason=long, category="x"), "reason"),
        # the fields the ticket would have after the change count, not only the new ones
        (lambda: desk.update(ticket.id, by="alice", fields={"b": 1, "c": 2}), "fields"),
        (lambda: desk.update(ticket.id, by="alice", fields={"b": "y" * 11}), "fields.b"),
    ]
    for call, field in calls:
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == field, (field, caught.value)
        assert "limits." in caught.value.message
    assert desk.get(ticket.id) == ticket
    assert desk.update(ticket.id, by="alice", fields={"b": 1}).fields == {"a": 1, "b": 1}


def test_rating_comments_are_bodies() -> None:
    desk, _ = _desk(SMALL)
    desk.upsert_requester(Requester(id="ada"))
    ticket = desk.open(requester="ada", subject="Printer jams")
    desk.solve(ticket.id, by="alice", resolution="fixed", first_contact=True)
    _refused(
        lambda: desk.rate(ticket.id, score=5, comment="c" * 51),
        "comment",
        "51 characters",
        "limits.max_body_length",
    )
    assert desk.rate(ticket.id, score=5, comment="c" * 50).satisfaction is not None


def test_default_limits_let_large_but_sane_input_through() -> None:
    desk, _ = _desk()
    desk.upsert_requester(Requester(id="ada"))
    ticket = desk.open(
        requester="ada",
        subject="s" * 1_000,
        description="d" * 100_000,
        tags=[f"t{i}" for i in range(100)],
        fields={f"f{i}": "v" * 10_000 for i in range(100)},
    )
    assert len(ticket.tags) == 100
    _refused(
        lambda: desk.reply(ticket.id, author="alice", body="b" * 100_001),
        "body",
        "100,001 characters",
        "the limit is 100,000",
    )


# ---------------------------------------------------------------------------- conditions


def _rule(when: Any) -> dict[str, Any]:
    return {"name": "r", "when": when, "actions": {"priority": "high"}}


def _nested(depth: int) -> dict[str, Any]:
    doc: dict[str, Any] = {"field": "subject", "op": "eq", "value": "x"}
    for _ in range(depth):
        doc = {"not": doc}
    return doc


def test_configuration_loading_applies_condition_limits_to_every_rule() -> None:
    limits = {"max_condition_depth": 2, "max_regex_length": 12}
    assert DeskConfig.from_dict({"limits": limits, "routing": [_rule(_nested(2))]})
    with pytest.raises(ConfigError, match=r"limits\.max_condition_depth") as caught:
        DeskConfig.from_dict({"limits": limits, "routing": [_rule(_nested(3))]})
    assert caught.value.path == "routing[0].when.not.not.not"
    regex = {"field": "subject", "op": "matches", "value": "^(printer|scanner)"}
    with pytest.raises(ConfigError, match=r"limits\.max_regex_length") as caught:
        DeskConfig.from_dict({"limits": limits, "routing": [_rule(regex)]})
    assert caught.value.path == "routing[0].when.value"
    policy = {
        "name": "std",
        "calendar": "always",
        "when": _nested(3),
        "targets": {"medium": {"resolution": "8h"}},
    }
    with pytest.raises(ConfigError, match="nested deeper") as caught:
        DeskConfig.from_dict({"limits": limits, "sla_policies": [policy]})
    assert caught.value.path is not None and caught.value.path.startswith("sla_policies[0].when")


def test_conditions_built_in_python_are_checked_against_the_desk_limits() -> None:
    rules = RuleSet.from_dict([_rule(_nested(3))])
    DeskConfig(routing=rules)
    with pytest.raises(ConfigError) as caught:
        DeskConfig(routing=rules, limits=Limits(max_condition_depth=2))
    assert caught.value.path == "routing[0].when.not.not.not"
    with pytest.raises(ConfigError, match="max_condition_depth"):
        DeskConfig().replace(routing=rules, limits=Limits(max_condition_depth=1))


def test_regex_scan_length_bounds_what_a_matches_test_reads() -> None:
    doc = {"field": "description", "op": "matches", "value": "needle"}
    near = "x" * 900 + "needle"
    far = "x" * 5_000 + "needle"
    default = Condition.from_dict(doc)
    with Limits(regex_scan_length=10_000).active():
        wide = Condition.from_dict(doc)
    desk, _ = _desk()
    desk.upsert_requester(Requester(id="ada"))
    close = desk.open(requester="ada", subject="s", description=near)
    away = desk.open(requester="ada", subject="s", description=far)
    assert default.matches(close) and not default.matches(away)
    assert wide.matches(close) and wide.matches(away)
    assert default == wide  # the bound is how a test reads, not what it tests
    # A desk document's conditions are built under its own limits.
    config = DeskConfig.from_dict(
        {"limits": {"regex_scan_length": 10_000}, "routing": [_rule(doc)]}
    )
    assert [m.name for m in config.routing.evaluate(away).matched] == ["r"]
    assert DeskConfig.from_dict({"routing": [_rule(doc)]}).routing.evaluate(away).matched == ()


def test_the_scan_bound_keeps_a_polynomial_pattern_cheap_on_huge_text() -> None:
    import time

    condition = Condition.from_dict({"field": "description", "op": "matches", "value": ".*z"})
    desk, _ = _desk()
    desk.upsert_requester(Requester(id="ada"))
    ticket = desk.open(requester="ada", subject="s", description="a" * 100_000)
    started = time.perf_counter()
    assert not condition.matches(ticket)
    # Unbounded, '.*z' on 100,000 characters takes seconds (quadratic); bounded to
    # 1,000 characters it takes about a millisecond.
    assert time.perf_counter() - started < 0.5


def test_a_text_query_is_at_most_ten_thousand_characters() -> None:
    from helpdesk_core.errors import ValidationError
    from helpdesk_core.storage import MemoryStore, TicketQuery
    from helpdesk_core.storage.base import MAX_TEXT_QUERY_LENGTH

    assert MAX_TEXT_QUERY_LENGTH == 10_000
    assert TicketQuery(text="x" * MAX_TEXT_QUERY_LENGTH).text == "x" * MAX_TEXT_QUERY_LENGTH
    with pytest.raises(ValidationError, match="10001 characters long; at most 10000") as caught:
        TicketQuery(text="1" * (MAX_TEXT_QUERY_LENGTH + 1))
    assert caught.value.field == "text"
    assert MemoryStore().query(TicketQuery(text="1" * MAX_TEXT_QUERY_LENGTH)).total == 0
