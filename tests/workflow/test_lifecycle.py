"""Lifecycle tables: the default lifecycle, lookups, validation, dict round trips, Mermaid."""

from __future__ import annotations

import itertools
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from helpdesk_core.config import DeskConfig
from helpdesk_core.errors import ConfigError, NotFound, ValidationError
from helpdesk_core.model import StatusCategory
from helpdesk_core.testing.strategies import lifecycles
from helpdesk_core.workflow import (
    ANY,
    GuardContext,
    Lifecycle,
    Lifecycles,
    Status,
    Transition,
    guard_names,
    lifecycle_for,
    lookup_guard,
    register_guard,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "workflow.md"


def _doc() -> dict[str, Any]:
    """A small valid lifecycle document to break in the tests."""
    return {
        "name": "incident",
        "initial": "new",
        "statuses": [
            {"name": "new", "category": "new"},
            {"name": "work", "category": "open"},
            {"name": "done", "category": "solved"},
            {"name": "closed", "category": "closed"},
        ],
        "transitions": [
            {"name": "start", "from": "new", "to": "work"},
            {"name": "finish", "from": ["new", "work"], "to": "done"},
            {"name": "reopen", "from": "done", "to": "work"},
            {"name": "close", "from": "done", "to": "closed"},
        ],
    }


def _config_error(doc: dict[str, Any], **kwargs: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        Lifecycle.from_dict(doc, **kwargs)
    return info.value


# -- the default lifecycle ---------------------------------------------------------------------


def test_default_lifecycle_statuses_and_categories() -> None:
    lc = Lifecycle.default()
    assert lc.name == "default"
    assert lc.initial == "new"
    assert {s.name: s.category.value for s in lc.statuses} == {
        "new": "new",
        "open": "open",
        "pending": "pending",
        "on_hold": "on_hold",
        "solved": "solved",
        "closed": "closed",
        "cancelled": "closed",
    }
    assert lc.reopen_window == timedelta(days=7)
    assert lc.auto_close_after == 3
    assert lc.calendar is None
    assert Lifecycle.default() is lc


def test_default_lifecycle_transitions() -> None:
    lc = Lifecycle.default()
    moves = {(s, t.name, t.to) for t in lc.transitions for s in lc.sources(t)}
    assert ("new", "open", "open") in moves
    assert ("open", "pend", "pending") in moves
    assert ("open", "hold", "on_hold") in moves
    assert {("pending", "resume", "open"), ("on_hold", "resume", "open")} <= moves
    assert {(s, "solve", "solved") for s in ("new", "open", "pending", "on_hold")} <= moves
    assert ("solved", "reopen", "open") in moves
    assert ("solved", "close", "closed") in moves
    cancel = {s for s, name, _ in moves if name == "cancel"}
    assert cancel == {"new", "open", "pending", "on_hold", "solved"}
    assert lc.find("solved", "solve") is None
    solve = lc.find("open", "solve")
    assert solve is not None
    assert solve.guards == ("resolution_note", "public_response_or_first_contact")
    reopen = lc.find("solved", "reopen")
    assert reopen is not None
    assert reopen.guards == ("within_reopen_window",)
    cancel_t = lc.find("open", "cancel")
    assert cancel_t is not None
    assert cancel_t.guards == ("reason_given",)
    assert cancel_t.from_any


def test_closed_statuses_are_terminal() -> None:
    lc = Lifecycle.default()
    for name in ("closed", "cancelled"):
        assert lc.is_terminal(name)
        assert lc.transitions_from(name) == ()
        assert lc.allowed(name) == ()
    assert not lc.is_terminal("solved")


def test_find_by_name_or_by_target_status() -> None:
    lc = Lifecycle.default()
    by_name = lc.find("open", "solve")
    by_target = lc.find("open", "solved")
    assert by_name is not None
    assert by_name is by_target
    resume = lc.find("pending", "open")
    assert resume is not None
    assert resume.name == "resume"
    opened = lc.find("new", "open")
    assert opened is not None
    assert opened.name == "open"
    assert lc.find("new", "pending") is None
    assert lc.find("nowhere", "open") is None


def test_a_transition_named_after_a_status_it_does_not_go_to_is_refused() -> None:
    # A move is asked for by its name or by its target status: asked for "b", this one
    # would go to "z", not to the status "b".
    with pytest.raises(ConfigError) as info:
        Lifecycle(
            name="tricky",
            statuses=[
                Status(name="a", category="new"),
                Status(name="b", category="open"),
                Status(name="z", category="closed"),
            ],
            initial="a",
            transitions=[
                Transition(name="go", from_="a", to="b"),
                Transition(name="b", from_="a", to="z"),
                Transition(name="end", from_="b", to="z"),
            ],
        )
    assert info.value.path == "lifecycle.transitions[1].name"
    assert "transition 'b' goes to 'z'" in info.value.message
    assert "status 'b'" in info.value.message
    doc = _doc()
    doc["transitions"][0]["name"] = "done"  # new -> work, named after the status done
    err = _config_error(doc, path="lifecycles.incident")
    assert err.path == "lifecycles.incident.transitions[0].name"
    doc["transitions"][0]["name"] = "work"  # named after its own target: fine
    assert Lifecycle.from_dict(doc).find("new", "work") is not None


def test_allowed_lists_transition_names_in_order() -> None:
    lc = Lifecycle.default()
    assert lc.allowed("new") == ("open", "solve", "cancel")
    assert lc.allowed("open") == ("pend", "hold", "solve", "cancel")
    assert lc.allowed("solved") == ("reopen", "close", "cancel")


def test_the_moves_of_a_status_the_lifecycle_lacks_are_not_found_not_none() -> None:
    # A misspelt status (or one of another lifecycle) is no status without moves: a
    # frontend listing the buttons of "pendng" would offer none and say nothing.
    lc = Lifecycle.default()
    for ask in (lc.allowed, lc.transitions_from):
        with pytest.raises(NotFound, match="lifecycle 'default' has no status 'pendng'"):
            ask("pendng")
    assert lc.allowed("closed") == ()  # a closed status has none, and says so
    with pytest.raises(ValidationError, match="a status is a name"):
        lc.allowed(3)  # type: ignore[arg-type]


def test_automatic_transitions() -> None:
    lc = Lifecycle.default()
    agent = lc.automatic_transition("agent_public_reply", "new")
    assert agent is not None
    assert agent.to == "open"
    requester = lc.automatic_transition("requester_public_reply", "pending")
    assert requester is not None
    assert requester.to == "open"
    assert lc.automatic_transition("requester_public_reply", "on_hold") is None
    timeout = lc.automatic_transition("solved_timeout", "solved")
    assert timeout is not None
    assert timeout.to == "closed"
    assert lc.automatic_transition("agent_public_reply", "open") is None
    assert lc.automatic_transition("no_such_trigger", "new") is None


def test_status_lookup_errors() -> None:
    lc = Lifecycle.default()
    assert lc.status("pending").category is StatusCategory.PENDING
    assert lc.category("cancelled") is StatusCategory.CLOSED
    assert lc.has_status("on_hold")
    assert not lc.has_status("archived")
    with pytest.raises(NotFound, match="archived"):
        lc.status("archived")


def test_sources_expand_the_any_marker() -> None:
    lc = Lifecycle.default()
    cancel = lc.find("new", "cancel")
    assert cancel is not None
    assert cancel.from_ == (ANY,)
    assert lc.sources(cancel) == ("new", "open", "pending", "on_hold", "solved")


# -- validation --------------------------------------------------------------------------------


def test_valid_document_builds() -> None:
    lc = Lifecycle.from_dict(_doc())
    assert lc.name == "incident"
    assert lc.status_names == ("new", "work", "done", "closed")


def test_no_status_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least one status") as info:
        Lifecycle(name="x", statuses=[], initial="new", transitions=[])
    assert info.value.path == "lifecycle.statuses"


def test_duplicate_status_is_refused() -> None:
    doc = _doc()
    doc["statuses"].append({"name": "work", "category": "pending"})
    err = _config_error(doc)
    assert "duplicate status 'work'" in str(err)
    assert err.path == "lifecycle.statuses[4].name"


def test_unknown_initial_status_is_refused() -> None:
    doc = _doc()
    doc["initial"] = "draft"
    err = _config_error(doc)
    assert "initial status 'draft'" in err.message
    assert err.path == "lifecycle.initial"


@pytest.mark.parametrize("initial", ["done", "closed"])
def test_an_initial_status_of_the_solved_or_closed_category_is_refused(initial: str) -> None:
    # A ticket would be born solved or closed, without solved_at / closed_at: never
    # auto-closed, never due for retention.
    doc = _doc()
    doc["initial"] = initial
    doc["transitions"].append({"name": "restart", "from": "done", "to": "new"})
    err = _config_error(doc)
    assert f"initial status {initial!r} is of the " in err.message
    assert err.path == "lifecycle.initial"
    with pytest.raises(ConfigError) as in_desk:
        DeskConfig.from_dict({"lifecycles": {"default": {**doc, "name": "default"}}})
    assert in_desk.value.path == "lifecycles.default.initial"


def test_missing_closed_status_is_refused() -> None:
    doc = _doc()
    doc["statuses"] = [s for s in doc["statuses"] if s["name"] != "closed"]
    doc["transitions"] = [t for t in doc["transitions"] if t["name"] != "close"]
    err = _config_error(doc)
    assert "no status of the closed category" in err.message
    assert err.path == "lifecycle.statuses"


def test_transition_to_unknown_status_is_refused() -> None:
    doc = _doc()
    doc["transitions"][1]["to"] = "finished"
    err = _config_error(doc)
    assert "transition 'finish' goes to unknown status 'finished'" in err.message
    assert err.path == "lifecycle.transitions[1].to"


def test_transition_from_unknown_status_is_refused() -> None:
    doc = _doc()
    doc["transitions"][1]["from"] = ["new", "wrok"]
    err = _config_error(doc)
    assert "transition 'finish' starts from unknown status 'wrok'" in err.message
    assert err.path == "lifecycle.transitions[1].from[1]"


def test_transition_out_of_a_closed_status_is_refused() -> None:
    doc = _doc()
    doc["transitions"].append({"name": "revive", "from": "closed", "to": "work"})
    err = _config_error(doc)
    assert "transition 'revive' leaves 'closed', a closed status" in err.message
    assert err.path == "lifecycle.transitions[4].from[0]"


def test_unreachable_status_is_refused() -> None:
    doc = _doc()
    doc["statuses"].append({"name": "limbo", "category": "on_hold"})
    err = _config_error(doc)
    assert "'limbo' cannot be reached from the initial status 'new'" in err.message
    assert err.path == "lifecycle.statuses"


def test_status_with_no_way_to_a_closed_status_is_refused() -> None:
    # A ticket moved into 'vendor' could never leave it: never solved, never closed,
    # its resolution clock paused for good.
    doc = _doc()
    doc["statuses"].insert(2, {"name": "vendor", "category": "pending"})
    doc["transitions"].append({"name": "wait", "from": "work", "to": "vendor"})
    err = _config_error(doc)
    assert "'vendor' cannot reach a status of the closed category" in err.message
    assert err.path == "lifecycle.statuses[2]"


def test_a_cycle_with_no_way_out_to_a_closed_status_is_refused() -> None:
    doc = _doc()
    doc["statuses"][3:3] = [
        {"name": "review", "category": "open"},
        {"name": "rework", "category": "open"},
    ]
    doc["transitions"] += [
        {"name": "send_to_review", "from": "work", "to": "review"},
        {"name": "send_to_rework", "from": "review", "to": "rework"},
        {"name": "send_back", "from": "rework", "to": "review"},
    ]
    err = _config_error(doc, path="lifecycles.change")
    assert "'review', 'rework' cannot reach a status of the closed category" in err.message
    assert err.path == "lifecycles.change.statuses[3]"
    # A way out through a guarded move (or a '*' one) is a way out.
    doc["transitions"].append(
        {"name": "drop", "from": "*", "to": "closed", "guards": ["reason_given"]}
    )
    assert Lifecycle.from_dict(doc).allowed("rework") == ("send_back", "drop")


def test_a_solved_status_with_no_way_to_a_closed_status_is_refused() -> None:
    # A solved ticket that can neither close nor be reopened is never closed: never
    # due for retention, kept solved for ever.
    doc = _doc()
    doc["transitions"] = [t for t in doc["transitions"] if t["name"] != "close"]
    doc["transitions"].append({"name": "close", "from": "work", "to": "closed"})
    doc["transitions"] = [t for t in doc["transitions"] if t["name"] != "reopen"]
    err = _config_error(doc)
    assert "'done' cannot reach a status of the closed category" in err.message


def test_duplicate_transition_name_with_another_target_is_refused() -> None:
    doc = _doc()
    doc["transitions"].append({"name": "start", "from": "done", "to": "closed"})
    err = _config_error(doc)
    assert "duplicate transition name 'start'" in err.message
    assert "'work'" in err.message
    assert "'closed'" in err.message
    assert err.path == "lifecycle.transitions[4].name"


def test_duplicate_transition_from_the_same_status_is_refused() -> None:
    doc = _doc()
    doc["transitions"].append({"name": "start", "from": "new", "to": "work"})
    err = _config_error(doc)
    assert "duplicate transition 'start' from status 'new'" in err.message
    assert err.path == "lifecycle.transitions[4].name"


def test_a_name_may_repeat_with_the_same_target_from_other_statuses() -> None:
    doc = _doc()
    doc["statuses"].insert(2, {"name": "waiting", "category": "pending"})
    doc["transitions"] += [
        {"name": "wait", "from": "work", "to": "waiting"},
        {"name": "start", "from": "waiting", "to": "work"},
    ]
    lc = Lifecycle.from_dict(doc)
    assert lc.find("waiting", "start") is not None
    assert lc.find("new", "start") is not None


def test_unknown_guard_is_refused() -> None:
    doc = _doc()
    doc["transitions"][1]["guards"] = ["resolution_note", "manager_approval"]
    err = _config_error(doc)
    assert "unknown guard 'manager_approval'" in err.message
    assert "resolution_note" in err.message  # lists the known ones
    assert err.path == "lifecycle.transitions[1].guards[1]"


def test_unknown_automatic_trigger_is_refused() -> None:
    doc = _doc()
    doc["transitions"][0]["automatic"] = "on_full_moon"
    err = _config_error(doc)
    assert "unknown automatic trigger 'on_full_moon'" in err.message
    assert err.path == "lifecycle.transitions[0].automatic"


def test_two_automatic_moves_on_one_trigger_are_refused() -> None:
    doc = _doc()
    doc["transitions"][0]["automatic"] = "agent_public_reply"
    doc["transitions"][1]["automatic"] = "agent_public_reply"
    err = _config_error(doc)
    assert "'start' and 'finish' both move status 'new'" in err.message
    assert err.path == "lifecycle.transitions[1].automatic"


def test_bad_reopen_window_and_auto_close_are_refused() -> None:
    doc = _doc()
    doc["reopen_window"] = -3600
    err = _config_error(doc)
    assert "negative" in err.message
    assert err.path == "lifecycle.reopen_window"
    doc = _doc()
    doc["auto_close_after"] = -2
    err = _config_error(doc)
    assert "auto_close_after" in err.message
    assert err.path == "lifecycle.auto_close_after"
    doc["auto_close_after"] = True
    assert _config_error(doc).path == "lifecycle.auto_close_after"


def test_any_marker_stands_alone() -> None:
    doc = _doc()
    doc["transitions"][1]["from"] = ["*", "new"]
    err = _config_error(doc)
    assert "'*'" in err.message
    assert err.path == "lifecycle.transitions[1].from"


def test_bad_category_names_the_status() -> None:
    doc = _doc()
    doc["statuses"][1]["category"] = "working"
    err = _config_error(doc)
    assert "'working' is not a valid StatusCategory" in err.message
    assert err.path == "lifecycle.statuses[1].category"


def test_document_shape_errors_name_the_key() -> None:
    doc = _doc()
    doc["colour"] = "blue"
    err = _config_error(doc)
    assert "unknown key(s) colour" in err.message
    assert err.path == "lifecycle"
    doc = _doc()
    del doc["transitions"][2]["to"]
    err = _config_error(doc)
    assert err.message == "required key missing"
    assert err.path == "lifecycle.transitions[2].to"
    assert "required key missing" in str(_config_error({"statuses": []}))
    assert _config_error([]).path == "lifecycle"  # type: ignore[arg-type]


def test_from_dict_path_prefixes_every_error() -> None:
    doc = _doc()
    doc["transitions"][1]["to"] = "finished"
    err = _config_error(doc, path="lifecycles.incident")
    assert err.path == "lifecycles.incident.transitions[1].to"
    assert str(err).startswith("lifecycles.incident.transitions[1].to: transition 'finish'")
    doc = _doc()
    doc["statuses"][0]["name"] = "bad name"
    err = _config_error(doc, path="lifecycles.incident")
    assert err.path == "lifecycles.incident.statuses[0].name"


def test_python_construction_errors_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown status 'nowhere'"):
        Lifecycle(
            statuses=[Status(name="a", category="new"), Status(name="z", category="closed")],
            initial="a",
            transitions=[Transition(name="go", from_="a", to="nowhere")],
        )
    with pytest.raises(ConfigError, match="expected a Transition"):
        Lifecycle(
            statuses=[Status(name="a", category="new"), Status(name="z", category="closed")],
            initial="a",
            transitions=[{"name": "go", "from": "a", "to": "z"}],  # type: ignore[list-item]
        )
    with pytest.raises(ValidationError, match="at least one source status"):
        Transition(name="go", from_=(), to="z")


# -- dict round trips ---------------------------------------------------------------------------


def test_default_round_trips_through_json() -> None:
    lc = Lifecycle.default()
    data = json.loads(json.dumps(lc.to_dict()))
    assert Lifecycle.from_dict(data) == lc
    assert Lifecycle.from_dict(data).to_dict() == lc.to_dict()


def test_custom_lifecycle_round_trips() -> None:
    doc = _doc()
    doc.update(reopen_window="2d 12h", auto_close_after=None, calendar="support")
    doc["transitions"][3]["automatic"] = "solved_timeout"
    lc = Lifecycle.from_dict(doc)
    assert lc.reopen_window == timedelta(days=2, hours=12)
    assert lc.to_dict()["reopen_window"] == 216000
    assert Lifecycle.from_dict(lc.to_dict()) == lc
    no_window = Lifecycle.from_dict({**_doc(), "reopen_window": None})
    assert no_window.reopen_window is None
    assert Lifecycle.from_dict(no_window.to_dict()) == no_window


@given(
    lifecycles(
        name="incident",
        calendars=[None, "support", "eu-office"],
        max_reopen_window=timedelta(seconds=10**7),
        max_auto_close_after=60,
    )
)
def test_round_trip_keeps_every_setting(lc: Lifecycle) -> None:
    data = json.loads(json.dumps(lc.to_dict()))
    assert Lifecycle.from_dict(data) == lc
    window = lc.reopen_window
    assert data["reopen_window"] == (
        "unlimited" if window is None else window.total_seconds()
    )
    closes = "never" if lc.auto_close_after is None else lc.auto_close_after
    assert (data["auto_close_after"], data.get("calendar")) == (closes, lc.calendar)
    assert None not in data.values()  # no null: TOML cannot hold one
    assert all(value is not None for t in data["transitions"] for value in t.values())


# -- guards registry and lifecycle-local guards ------------------------------------------------


def test_lifecycle_local_guard_is_known_and_not_serialised() -> None:
    def needs_category(ctx: GuardContext) -> str | None:
        return None if ctx.ticket.category else "set a category first"

    doc = _doc()
    doc["transitions"][1]["guards"] = ["needs_category"]
    with pytest.raises(ConfigError, match="unknown guard 'needs_category'"):
        Lifecycle.from_dict(doc)
    lc = Lifecycle.from_dict(doc, guards={"needs_category": needs_category})
    assert lc.guard("needs_category") is needs_category
    assert lc.to_dict()["transitions"][1]["guards"] == ["needs_category"]
    assert "needs_category" not in guard_names()
    assert "needs_category" in guard_names(lc.guards)


def test_lifecycle_local_guard_must_be_callable() -> None:
    """A lifecycle's own guard that is no function is refused when the lifecycle is built,
    as register_guard refuses one, not with a TypeError at the first transition."""
    doc = _doc()
    doc["transitions"][1]["guards"] = ["needs_category"]
    with pytest.raises(ConfigError, match="guard 'needs_category' is not callable") as err:
        Lifecycle.from_dict(doc, path="lifecycles.support", guards={"needs_category": "yes"})
    assert err.value.path == "lifecycles.support.guards.needs_category"
    with pytest.raises(ConfigError, match="a guard needs a name"):
        Lifecycle.from_dict(doc, guards={1: lambda ctx: None})


def test_register_guard_rules() -> None:
    def first(ctx: GuardContext) -> str | None:
        return None

    def second(ctx: GuardContext) -> str | None:
        return "no"

    assert register_guard("test_lifecycle_registered", first) is first
    assert register_guard("test_lifecycle_registered", first) is first  # same fn: fine
    with pytest.raises(ValidationError, match="registered already"):
        register_guard("test_lifecycle_registered", second)
    register_guard("test_lifecycle_registered", second, replace=True)
    assert lookup_guard("test_lifecycle_registered") is second
    with pytest.raises(ValidationError, match="cannot be replaced"):
        register_guard("reason_given", second, replace=True)
    with pytest.raises(ValidationError, match="needs a name"):
        register_guard(" ", first)
    with pytest.raises(ValidationError, match="not callable"):
        register_guard("test_lifecycle_not_callable", "nope")  # type: ignore[arg-type]
    doc = _doc()
    doc["transitions"][1]["guards"] = ["test_lifecycle_registered"]
    assert Lifecycle.from_dict(doc).guard("test_lifecycle_registered") is second


# -- several lifecycles ------------------------------------------------------------------------


def test_lifecycles_by_ticket_type() -> None:
    incident = Lifecycle.from_dict(_doc())
    lcs = Lifecycles(lifecycles=[Lifecycle.default(), incident], by_type={"incident": "incident"})
    assert lcs.for_type("incident") is incident
    assert lcs.for_type("service_request") is Lifecycle.default()
    assert lcs.name_for_type("problem") == "default"
    assert lcs.get("incident") is incident
    with pytest.raises(NotFound):
        lcs.get("nope")
    assert Lifecycles().for_type("anything") is Lifecycle.default()
    assert lifecycle_for("incident", {"incident": "itil"}, "default") == "itil"
    assert lifecycle_for("problem", {"incident": "itil"}, "default") == "default"


def test_lifecycles_round_trip_and_errors() -> None:
    doc = {
        "lifecycles": {"default": Lifecycle.default().to_dict(), "incident": _doc()},
        "by_type": {"incident": "incident"},
        "default": "default",
    }
    lcs = Lifecycles.from_dict(doc)
    assert Lifecycles.from_dict(json.loads(json.dumps(lcs.to_dict()))) == lcs
    bad = {**doc, "by_type": {"incident": "itil"}}
    with pytest.raises(ConfigError, match="undefined lifecycle 'itil'") as info:
        Lifecycles.from_dict(bad)
    assert info.value.path == "lifecycles.by_type.incident"
    broken = {"lifecycles": {"incident": {**_doc(), "initial": "draft"}}, "default": "incident"}
    with pytest.raises(ConfigError) as info:
        Lifecycles.from_dict(broken)
    assert info.value.path == "lifecycles.lifecycles.incident.initial"
    with pytest.raises(ConfigError, match="default lifecycle 'nope'"):
        Lifecycles(default="nope")
    with pytest.raises(ConfigError, match="two lifecycles named 'default'"):
        Lifecycles(lifecycles=[Lifecycle.default(), Lifecycle.default()])


# -- Mermaid ------------------------------------------------------------------------------------


def test_mermaid_of_the_default_lifecycle() -> None:
    text = Lifecycle.default().to_mermaid()
    lines = text.splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert "    [*] --> new" in lines
    assert "    new --> open : open (auto: agent_public_reply)" in lines
    assert "    pending --> open : resume (auto: requester_public_reply)" in lines
    assert "    on_hold --> open : resume" in lines
    assert (
        "    open --> solved : solve [resolution_note, public_response_or_first_contact]" in lines
    )
    assert "    solved --> open : reopen [within_reopen_window]" in lines
    assert "    solved --> closed : close (auto: solved_timeout)" in lines
    assert "    solved --> cancelled : cancel [reason_given]" in lines
    assert "    closed --> [*]" in lines
    assert "    cancelled --> [*]" in lines
    assert "    class closed, cancelled cat_closed" in lines
    assert "    classDef cat_pending fill:#fff8e1,stroke:#f9a825" in lines
    arrows = [line for line in lines if " --> " in line and "[*]" not in line]
    lc = Lifecycle.default()
    assert len(arrows) == sum(len(lc.sources(t)) for t in lc.transitions)
    assert not any(line.startswith("    closed -->") and "[*]" not in line for line in lines)


def test_mermaid_aliases_names_mermaid_cannot_take() -> None:
    lc = Lifecycle(
        name="odd",
        statuses=[
            Status(name="in-review", category="new"),
            Status(name="end", category="open"),
            Status(name="done.ok", category="closed"),
        ],
        initial="in-review",
        transitions=[
            Transition(name="go", from_="in-review", to="end"),
            Transition(name="finish", from_="end", to="done.ok"),
        ],
    )
    text = lc.to_mermaid()
    assert 'state "in-review" as s0' in text
    assert 'state "end" as s1' in text
    assert 'state "done.ok" as s2' in text
    assert "s0 --> s1 : go" in text
    assert "s2 --> [*]" in text
    assert "cat_pending" not in text  # only categories in use get a classDef


def test_mermaid_ids_never_clash_with_status_names_or_keywords() -> None:
    names = ["s1", "in-progress", "Default", "CLASS", "click", "State", "scale", "s0"]
    lc = Lifecycle(
        name="clash",
        statuses=[Status(name=n, category="closed" if n == "s0" else "open") for n in names],
        initial="s1",
        transitions=[
            Transition(name=f"t{i}", from_=a, to=b)
            for i, (a, b) in enumerate(itertools.pairwise(names))
        ],
    )
    text = lc.to_mermaid()
    aliases = dict(re.findall(r'^    state "([^"]+)" as (\S+)$', text, re.MULTILINE))
    ids = {n: aliases.get(n, n) for n in names}
    assert len(set(ids.values())) == len(names)  # one state per status
    assert set(aliases) == {"in-progress", "Default", "CLASS", "click", "State", "scale"}
    keywords = {"default", "class", "click", "state", "scale"}
    assert not any(i.casefold() in keywords for i in ids.values())
    for i, (a, b) in enumerate(itertools.pairwise(names)):
        assert f"    {ids[a]} --> {ids[b]} : t{i}" in text


def test_docs_show_the_generated_default_diagram() -> None:
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"^```mermaid\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert blocks, "docs/workflow.md has no mermaid block"
    assert blocks[0] == Lifecycle.default().to_mermaid()


def test_workflow_all_lists_exactly_the_public_names() -> None:
    import helpdesk_core.workflow as workflow

    public = {
        name
        for name, value in vars(workflow).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("helpdesk_core")
    }
    assert set(workflow.__all__) >= public
    assert all(hasattr(workflow, name) for name in workflow.__all__)
    assert list(workflow.__all__) == sorted(workflow.__all__, key=lambda n: (not n.isupper(), n))


def test_toml_says_no_reopen_limit_and_no_auto_close_in_words() -> None:
    """TOML has no None: "unlimited" and "never" stand for it, and read back as None."""
    doc = _doc()
    doc["reopen_window"] = "unlimited"
    doc["auto_close_after"] = "never"
    lifecycle = Lifecycle.from_dict(doc)
    assert lifecycle.reopen_window is None and lifecycle.auto_close_after is None
    assert Lifecycle.from_dict(lifecycle.to_dict()) == lifecycle
    desk = DeskConfig.from_toml(
        '[lifecycles.calm]\ninitial = "new"\nreopen_window = "unlimited"\n'
        'auto_close_after = "never"\n'
        + "".join(
            f'[[lifecycles.calm.statuses]]\nname = "{name}"\ncategory = "{name}"\n'
            for name in ("new", "open", "solved", "closed")
        )
        + "".join(
            f'[[lifecycles.calm.transitions]]\nname = "{name}"\nfrom = "{a}"\nto = "{b}"\n'
            for name, a, b in (("open", "new", "open"), ("solve", "open", "solved"),
                               ("close", "solved", "closed"))
        )
    )
    calm = desk.lifecycles["calm"]
    assert calm.reopen_window is None and calm.auto_close_after is None
    for words in ({"reopen_window": "never"}, {"auto_close_after": "unlimited"}):
        with pytest.raises(ConfigError):
            Lifecycle.from_dict({**_doc(), **words})
