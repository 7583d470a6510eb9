"""Bad arguments to the desk and the stores: a clear HelpdeskError naming the argument,
the same on every store, and nothing written by a call that fails."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import attrs
import pytest

from desk_stores import STORES, drop
from helpdesk_core import (
    DeskConfig,
    Helpdesk,
    ManualClock,
    MemoryStore,
    Requester,
    SequentialIds,
)
from helpdesk_core.demo import example_config
from helpdesk_core.errors import ConflictError, HelpdeskError, NotFound, ValidationError
from helpdesk_core.storage import SqliteStore, Store, TicketQuery

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
ADA = Requester(id="ada", name="Ada", email="ada@example.com")
HUGE = 2**70


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(
        tmp_path / "desk.sqlite"
    )
    yield made
    made.close()


def _desk(store: Store) -> Helpdesk:
    return Helpdesk(
        config=example_config(), store=store, clock=ManualClock(T0), ids=SequentialIds()
    )


def _contents(store: Store) -> tuple[Any, ...]:
    tickets = store.query(_all()).items
    events = [store.events(t.id) for t in tickets]
    requester = store.find_requester(email="ada@example.com")
    return tickets, events, requester


def _all() -> Any:
    from helpdesk_core.storage import TicketQuery

    return TicketQuery(limit=1000)


def test_a_failed_open_leaves_the_requester_as_it_was(store: Store) -> None:
    desk = _desk(store)
    desk.open(requester=ADA, subject="Printer jams")
    before = _contents(store)
    evil = Requester(id="ada", name="EVIL", email="evil@example.org")
    with pytest.raises(NotFound):
        desk.open(requester=evil, subject="x", by="ghost")
    with pytest.raises(ValidationError):
        desk.open(requester=evil, subject="x", by="system:")
    assert _contents(store) == before
    assert store.get_requester("ada") == ADA
    newcomer = Requester(id="bob", name="Bob", email="bob@example.com")
    with pytest.raises(NotFound):
        desk.open(requester=newcomer, subject="x", by="agent:ghost")
    with pytest.raises(NotFound):
        store.get_requester("bob")


def test_a_requester_given_by_value_is_saved_with_the_ticket(store: Store) -> None:
    class Repeating(SequentialIds):
        def new_id(self, kind: str) -> str:
            return "T-1" if kind == "ticket" else super().new_id(kind)

    desk = Helpdesk(config=example_config(), store=store, clock=ManualClock(T0), ids=Repeating())
    desk.open(requester=ADA, subject="first")
    newcomer = Requester(id="bob", name="Bob", email="bob@example.com")
    with pytest.raises(ConflictError):
        desk.open(requester=newcomer, subject="second", by="bob")
    with pytest.raises(NotFound):
        store.get_requester("bob")
    # The requester's own retry, once the id factory behaves, saves both.
    desk.ids = SequentialIds()
    assert desk.open(requester=newcomer, subject="second", by="bob").requester == "bob"
    assert store.get_requester("bob") == newcomer


def test_the_new_requester_may_open_their_own_ticket(store: Store) -> None:
    desk = _desk(store)
    newcomer = Requester(id="bob", name="Bob", email="bob@example.com")
    ticket = desk.open(requester=newcomer, subject="mine", by="bob")
    assert store.get_requester("bob") == newcomer
    assert desk.history(ticket.id)[0].by.id == "bob"
    other = Requester(id="cy", name="Cy", email="cy@example.com")
    assert desk.open(requester=other, subject="mine too", by="requester:cy").requester == "cy"


def test_update_checks_what_open_checks(store: Store) -> None:
    desk = _desk(store)
    ticket = desk.open(requester=ADA, subject="Laptop", category="hardware",
                       fields={"device_model": "X1"})
    before = _contents(store)
    with pytest.raises(ValidationError) as tier:
        desk.update(ticket.id, by="lena", tier="L9")
    assert tier.value.field == "tier"
    with pytest.raises(ValidationError) as subject:
        desk.update(ticket.id, by="lena", subject="  ")
    assert subject.value.field == "subject"
    with pytest.raises(ValidationError) as answer:
        desk.update(ticket.id, by="lena", fields={"device_model": 5})
    assert answer.value.field == "fields.device_model"
    assert _contents(store) == before
    updated = desk.update(ticket.id, by="lena", fields={"device_model": "X2"}, tier="L2")
    assert (updated.fields["device_model"], updated.tier) == ("X2", "L2")


def test_numbers_beyond_64_bits_are_refused_alike(store: Store) -> None:
    desk = _desk(store)
    ticket = desk.open(requester=ADA, subject="x")
    calls = [
        lambda: desk.search(offset=HUGE),
        lambda: desk.search(number=HUGE),
        lambda: desk.requester_history("ada", limit=HUGE),
        lambda: store.events(ticket.id, after_version=HUGE),
        lambda: store.due(T0, limit=HUGE),
        lambda: store.claim_due(T0, worker="w", limit=HUGE),
        lambda: store.claim_outbox("mail", now=T0, limit=HUGE),
        lambda: list(store.event_stream(after=HUGE)),
        lambda: store.ack_outbox("mail", [f"{ticket.id}:{'9' * 30}"]),
    ]
    for call in calls:
        with pytest.raises(ValidationError):
            call()


def test_a_lease_past_the_last_instant_is_refused(store: Store) -> None:
    end = datetime.max.replace(tzinfo=UTC)
    for call in (
        lambda: store.claim_due(end, worker="w"),
        lambda: store.claim_due(T0, worker="w", lease=timedelta.max),
        lambda: store.claim_outbox("mail", now=end),
    ):
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == "lease"


@pytest.mark.parametrize("bad", [["x"], {"x": 1}, 5, None, b"T-1"])
def test_ids_that_are_not_text_are_refused_alike(store: Store, bad: Any) -> None:
    for call in (
        store.load,
        store.events,
        store.get_requester,
        store.requester_history,
        store.requester_ticket_ids,
        store.get_article,
    ):
        with pytest.raises(ValidationError):
            call(bad)
    with pytest.raises(ValidationError):
        store.get_many([bad])


def test_lists_of_ids_must_be_lists(store: Store) -> None:
    for call in (
        lambda: store.get_many(cast(Any, None)),
        lambda: store.get_many("T-1"),
        lambda: store.ack_outbox("mail", cast(Any, None)),
        lambda: store.ack_outbox("mail", cast(Any, 5)),
        lambda: store.release_outbox("mail", cast(Any, None)),
        lambda: store.import_tickets(cast(Any, None)),
        lambda: store.import_tickets(cast(Any, 5)),
    ):
        with pytest.raises(ValidationError):
            call()


def test_lone_surrogates_are_refused_before_any_store(store: Store) -> None:
    desk = _desk(store)
    before = _contents(store)
    for call in (
        lambda: desk.open(requester=ADA, subject="bad \ud800"),
        lambda: desk.open(requester=ADA, subject="x", tags=["\udfff"]),
        lambda: desk.open(requester=ADA, subject="x", fields={"note": "\ud800"}),
        lambda: desk.open(requester=Requester(id="r2", name="\ud800"), subject="x"),
        lambda: store.set_cursor("\ud800", 1),
        lambda: store.load("T-\ud800"),
        lambda: store.load("T-\x00"),
        lambda: store.events("T-\x00"),
        lambda: store.query(TicketQuery(text="\ud800")),
        lambda: store.query(TicketQuery(category="\ud800")),
        lambda: store.query(TicketQuery(team="\udfff")),
        lambda: store.query(TicketQuery(status="new\x00")),
        lambda: store.query(TicketQuery(requester=["ada", "x\x00"])),
        lambda: store.find_requester(email="ada\ud800@example.com"),
        lambda: store.save_config_document({"name": "\ud800"}),
        lambda: store.release_outbox("worker", [], error="\ud800"),
    ):
        with pytest.raises(ValidationError):
            call()
    assert _contents(store) == before
    assert store.load_config_document() is None


def test_wrongly_typed_arguments_to_desk_commands(store: Store) -> None:
    desk = _desk(store)
    ticket = desk.open(requester=ADA, subject="x")
    for call in (
        lambda: desk.assign(ticket.id, cast(Any, ["tom"]), by="lena"),
        lambda: desk.escalate(ticket.id, by="lena", reason="r", team=cast(Any, ["network"])),
        lambda: desk.open(requester=ADA, subject="s", type=cast(Any, ["incident"])),
        lambda: desk.get_requester(cast(Any, ["ada"])),
        lambda: desk.search(bogus=1),
        lambda: desk.search(cast(Any, "open")),
        lambda: desk.next_wakeup(queues=cast(Any, "no")),
    ):
        with pytest.raises(ValidationError):
            call()


def test_an_unknown_agent_cannot_act() -> None:
    desk = _desk(MemoryStore())
    with pytest.raises(NotFound):
        desk.open(requester=ADA, subject="x", by="agent:ghost")


def test_the_desk_and_the_sqlite_store_check_their_parts(tmp_path: Path) -> None:
    for kwargs in ({"ids": 5}, {"store": 5}, {"clock": 5}):
        with pytest.raises(ValidationError) as caught:
            Helpdesk(config=example_config(), **cast(Any, kwargs))
        assert caught.value.field == next(iter(kwargs))
    for path in (None, 5, "with\x00nul", "bad\ud800"):
        with pytest.raises(ValidationError) as caught:
            SqliteStore(cast(Any, path))
        assert caught.value.field == "path"
    for timeout in ("x", None, float("nan"), float("inf"), -1):
        with pytest.raises(ValidationError) as caught:
            SqliteStore(tmp_path / "t.sqlite", timeout=cast(Any, timeout))
        assert caught.value.field == "timeout"
    with pytest.raises(ValidationError):
        SqliteStore(tmp_path / "t.sqlite", text_index=cast(Any, "no"))
    assert not (tmp_path / "t.sqlite").exists()


def test_an_integer_sqlite_cannot_bind_is_a_validation_error(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "desk.sqlite")
    with pytest.raises(OverflowError) as raw:
        store._conn.execute("SELECT ?", (HUGE,))
    assert isinstance(store._translate(raw.value), ValidationError)
    store.close()


# ---------------------------------------------------------------------------- domain


def test_configuration_values_are_taken_as_they_are() -> None:
    from helpdesk_core import DeskConfig
    from helpdesk_core.errors import ConfigError

    cases = [
        ({"agents": [{"id": "a", "active": "false"}]}, "agents[0].active"),
        ({"agents": [{"id": "a", "capacity": 1.5}]}, "agents[0].capacity"),
        ({"agents": [{"id": None}]}, "agents[0].id"),
        ({"assignment": {"auto_assign": "no"}}, "assignment.auto_assign"),
    ]
    for doc, path in cases:
        with pytest.raises(ConfigError) as caught:
            DeskConfig.from_dict(doc)
        assert caught.value.path == path
    assert DeskConfig.from_dict({"agents": [{"id": "a", "capacity": 2}]}).agent("a").capacity == 2


def test_privacy_helpers_refuse_what_they_would_misread() -> None:
    from helpdesk_core.model import Actor, CommentAdded
    from helpdesk_core.privacy import anonymise_event, plan_anonymisation, visible_events

    note = CommentAdded(
        ticket_id="T-1", at=T0, by=Actor.agent("a"), comment_id="c1", body="internal",
        public=False,
    )
    assert visible_events([note], role=cast(Any, "requester")) == []
    assert visible_events([note], role=cast(Any, "agent")) == [note]
    with pytest.raises(HelpdeskError):
        visible_events([note], role=cast(Any, "guest"))
    for events, field in ((None, "events"), (5, "events"), ("note", "events"),
                          ([note, "note"], "events[1]")):
        with pytest.raises(ValidationError) as bad:
            visible_events(cast(Any, events), role=cast(Any, "agent"))
        assert bad.value.field == field
    assert visible_events(iter([note]), role=None) == [note]
    # One field name alone would be read as its characters: refused, as other non-lists.
    for hidden in ("phone", b"phone", 5, {"phone": True}, ["phone", 5]):
        with pytest.raises(ValidationError) as bad:
            visible_events([note], role=None, hidden_fields=cast(Any, hidden))
        assert bad.value.field == "hidden_fields"
    assert visible_events([note], role=None, hidden_fields=iter(["phone"])) == [note]
    with pytest.raises(ValidationError) as fields:
        plan_anonymisation(
            [note], now=T0, by=Actor.system(), reason="r", personal_fields="phone"
        )
    assert fields.value.field == "personal_fields"
    with pytest.raises(ValidationError) as mode:
        anonymise_event(note, personal_fields=frozenset(), mode=cast(Any, "zz"))
    assert mode.value.field == "mode"


@pytest.mark.parametrize("action", ["Write", "delete", None, "WRITE"])
def test_article_access_knows_only_read_and_write(action: Any) -> None:
    from helpdesk_core.knowledge import check_article_access
    from helpdesk_core.model import Actor

    with pytest.raises(ValidationError) as caught:
        check_article_access(Actor.requester("r"), action=action, article=None, agent=None)
    assert caught.value.field == "action"


def test_business_day_counts_are_bounded() -> None:
    from helpdesk_core import BusinessCalendar
    from helpdesk_core.errors import ConfigError
    from helpdesk_core.workflow import add_business_days

    calendar = BusinessCalendar(timezone="UTC", hours={"mon-fri": "09:00-17:00"})
    for days in (10**8, -1, 1.5, True):
        with pytest.raises(ValidationError) as caught:
            add_business_days(calendar, T0, cast(Any, days))
        assert caught.value.field == "days"
    with pytest.raises(ValidationError):
        add_business_days(calendar, datetime(2026, 3, 2, 9), 1)
    assert add_business_days(calendar, T0, 5) == datetime(2026, 3, 9, 9, tzinfo=UTC)
    lifecycle = example_config().lifecycle_for("incident")
    with pytest.raises(ConfigError, match="auto_close_after"):
        attrs.evolve(lifecycle, auto_close_after=10**12)
    assert attrs.evolve(lifecycle, auto_close_after=3650).auto_close_after == 3650


def test_durations_beyond_range_are_validation_errors() -> None:
    from helpdesk_core import BusinessCalendar

    calendar = BusinessCalendar(timezone="UTC", hours={"mon-fri": "09:00-17:00"})
    for text in ("99999999999999999d", "1" + "0" * 400 + "s"):
        with pytest.raises(ValidationError):
            calendar.add(T0, text)


@pytest.mark.parametrize("source", [None, 5, b"x", "", "/bin/ls"])
def test_configuration_sources_must_be_paths_or_text(source: Any) -> None:
    from helpdesk_core import DeskConfig
    from helpdesk_core.errors import ConfigError
    from helpdesk_core.simulation import Scenario

    for load in (DeskConfig.from_toml, DeskConfig.from_json, Scenario.from_toml):
        with pytest.raises(ConfigError):
            load(source)


def test_one_line_of_toml_is_text_and_a_missing_file_says_how_text_is_told(
    tmp_path: Path,
) -> None:
    from helpdesk_core import DeskConfig
    from helpdesk_core.errors import ConfigError

    assert DeskConfig.from_toml('desk.name = "One line"').settings.name == "One line"
    with pytest.raises(ConfigError) as bad:
        DeskConfig.from_toml("not = valid = toml\n")
    assert bad.value.path == "$" and "not valid TOML" in str(bad.value)
    for missing_file in (str(tmp_path / "desk.toml"), str(tmp_path / "run=3" / "desk.toml")):
        with pytest.raises(ConfigError) as missing:
            DeskConfig.from_toml(missing_file)
        assert missing.value.path == missing_file
        assert "holds a newline or is a line of TOML" in str(missing.value)
    odd = tmp_path / "a=b.toml"  # a file whose name holds '=' is still read as a file
    odd.write_text('desk.name = "From the file"\n', encoding="utf-8")
    assert DeskConfig.from_toml(str(odd)).settings.name == "From the file"


def test_a_missing_json_file_says_how_json_text_is_told(tmp_path: Path) -> None:
    from helpdesk_core import DeskConfig
    from helpdesk_core.errors import ConfigError

    missing_file = str(tmp_path / "desk.json")
    with pytest.raises(ConfigError) as missing:
        DeskConfig.from_json(missing_file)
    assert missing.value.path == missing_file
    assert "holds a newline or starts with { or [" in str(missing.value)
    assert "TOML" not in str(missing.value)


def test_configuration_documents_with_odd_keys_or_depth() -> None:
    from helpdesk_core import DeskConfig
    from helpdesk_core.errors import ConfigError
    from helpdesk_core.privacy import RetentionPolicy
    from helpdesk_core.simulation import Scenario

    for load, doc in (
        (DeskConfig.from_dict, {1: 2, "x": 3}),
        (Scenario.from_dict, {1: 2, "arrivals": 3}),
        (RetentionPolicy.from_dict, {1: 2, "x": 1}),
    ):
        with pytest.raises(ConfigError, match="unknown"):
            load(cast(Any, doc))
    with pytest.raises(ConfigError, match="limits"):
        DeskConfig.from_json("[" * 100_000 + "]" * 100_000)


def test_scenarios_and_distributions_stay_in_range() -> None:
    from helpdesk_core.errors import ConfigError
    from helpdesk_core.simulation import Fixed, Scenario, erlang

    desk = {
        "tiers": [{"id": "L1", "teams": ["q"]}],
        "teams": [{"id": "q"}],
        "agents": [{"id": "a", "tier": "L1", "teams": ["q"]}],
    }
    for simulation, path in (
        ({"days": 1e9}, "simulation.days"),
        ({"days": 10**400}, "simulation.days"),
        ({"start": "9999-12-31T00:00:00+00:00", "days": 5}, "simulation.start"),
    ):
        doc = {"desk": desk, "arrivals": {"rate_per_hour": 1}, "simulation": simulation}
        with pytest.raises(ConfigError) as caught:
            Scenario.from_dict(doc)
        assert caught.value.path == path
    with pytest.raises(ConfigError):
        Fixed(timedelta(minutes=-5))
    with pytest.raises(ValidationError):
        erlang.traffic_intensity(1e308, "100h")


def test_escalation_flags_and_contacts_are_checked() -> None:
    from helpdesk_core.model import Actor
    from helpdesk_core.workflow import escalate
    from helpdesk_core.workflow.escalation import _team_contacts

    config = example_config()
    desk = _desk(MemoryStore())
    ticket = desk.open(requester=ADA, subject="x")
    with pytest.raises(ValidationError) as caught:
        escalate(ticket, config.ladder, by=Actor.agent("lena"), now=T0, reason="r",
                 allow_skip=cast(Any, "no"))
    assert caught.value.field == "allow_skip"
    with pytest.raises(ValidationError):
        _team_contacts({"desk": cast(Any, "alice")}, "desk")


def test_a_wrong_part_is_named_with_its_article() -> None:
    with pytest.raises(HelpdeskError) as wrong:
        DeskConfig(assignment=cast(Any, 5))
    assert "expected an AssignmentSettings, got int" in str(wrong.value)
    with pytest.raises(HelpdeskError) as wrong:
        DeskConfig(teams=cast(Any, [5]))
    assert "expected a Team, got int" in str(wrong.value)


def test_configuration_cross_checks() -> None:
    from helpdesk_core import DeskConfig
    from helpdesk_core.errors import ConfigError
    from helpdesk_core.workflow._policy import action_from_dict

    doc = example_config().to_dict()
    twice = dict(doc, escalation_policies=[*doc["escalation_policies"],
                                           doc["escalation_policies"][0]])
    with pytest.raises(ConfigError, match="defined twice"):
        DeskConfig.from_dict(twice)
    lifecycle = example_config().lifecycle_for("incident").to_dict()
    with pytest.raises(ConfigError) as renamed:
        DeskConfig.from_dict(dict(doc, lifecycles={"change": lifecycle}))
    assert renamed.value.path == "lifecycles.change.name"
    with pytest.raises(ConfigError) as missing:
        action_from_dict({"action": "set_priority"})
    assert missing.value.path == "action.priority"


def test_simulation_and_sla_entry_points_check_their_arguments() -> None:
    from helpdesk_core.model import replay
    from helpdesk_core.privacy import PrivacySettings, due_for_retention
    from helpdesk_core.simulation import Scenario, simulate_queue, sweep
    from helpdesk_core.simulation.staffing import refine_staffing
    from helpdesk_core.sla import react, select_policy

    for kwargs, field in (
        ({"agents": 5, "work": ["1h"]}, "agents"),
        ({"agents": [1], "work": None}, "work"),
        ({"agents": [1], "work": [None]}, "work[0]"),
        ({"agents": [1], "work": [{"mean": 1}]}, "work[0]"),
        ({"agents": [1, 1], "work": ["1h", "1h"], "escalate": ["0.5", 0]}, "escalate[0]"),
        ({"agents": [1], "work": ["1h"], "escalate": 5}, "escalate"),
        ({"agents": [1], "work": ["1h"], "seed": [1]}, "seed"),
    ):
        with pytest.raises(ValidationError) as caught:
            simulate_queue(arrivals_per_hour=1, **cast(Any, kwargs))
        assert caught.value.field == field
    import helpdesk_core

    scenario = Scenario.from_toml(
        Path(helpdesk_core.__file__).parent / "data" / "it_desk_scenario.toml"
    )
    for kwargs, field in (
        ({"vary": {"arrivals.rate_per_hour": 5}}, "vary.arrivals.rate_per_hour"),
        ({"vary": {5: [1]}}, "vary"),
        ({"vary": {"a": [1]}, "seeds": None}, "seeds"),
        ({"vary": {"a": [1]}, "executor": 5}, "executor"),
    ):
        with pytest.raises(ValidationError) as caught:
            sweep(scenario, **cast(Any, kwargs))
        assert caught.value.field == field
    with pytest.raises(ValidationError):
        refine_staffing(cast(Any, None), cast(Any, None))
    ticket = _desk(MemoryStore()).open(requester=ADA, subject="x")
    with pytest.raises(ValidationError):
        select_policy(cast(Any, None), ticket)
    with pytest.raises(ValidationError):
        select_policy([], cast(Any, None))
    opened = replay([_opened("T-9", T0)])
    with pytest.raises(ValidationError):
        react(opened, _opened("T-9", T0), policy=None, policies=cast(Any, None), calendars={})
    for now in (None, datetime(2026, 1, 1), "2026-01-01"):
        with pytest.raises(ValidationError):
            due_for_retention([], PrivacySettings(), now=cast(Any, now))


def _opened(ticket_id: str, at: datetime) -> Any:
    from helpdesk_core.model import Actor, TicketOpened

    return TicketOpened(
        ticket_id=ticket_id, at=at, by=Actor.requester("r"), number=1, requester="r",
        subject="s",
    )


def test_holidays_by_name_are_dates() -> None:
    from helpdesk_core import BusinessCalendar
    from helpdesk_core.errors import ConfigError

    calendar = BusinessCalendar(
        timezone="UTC", hours={"mon-fri": "09:00-17:00"}, holidays={"2026-12-25": "Xmas"}
    )
    assert not calendar.is_open(datetime(2026, 12, 25, 10, tzinfo=UTC))
    assert calendar.is_open(datetime(2026, 12, 24, 10, tzinfo=UTC))
    with pytest.raises(ConfigError):
        BusinessCalendar(timezone="UTC", hours={"mon-fri": "09:00-17:00"},
                         holidays={"not a date": "x"})


def test_a_boolean_field_compared_with_a_boolean_is_refused() -> None:
    from helpdesk_core.errors import ConfigError
    from helpdesk_core.routing import F, Rule

    with pytest.raises(ConfigError, match="negation"):
        Rule(name="non-vip", when=F.requester.vip != True, actions={"team": "x"})  # noqa: E712
    with pytest.raises(ConfigError):
        _ = F.requester.vip == False  # noqa: E712
    for value in ("yes", "true", 1, 0.0):
        with pytest.raises(ConfigError, match="true/false field is a condition already"):
            _ = F.requester.vip == value
        with pytest.raises(ConfigError):
            _ = F.requester.vip != value
    assert F.requester.vip != None  # noqa: E711  # other objects compare as Python's do
    assert F.requester.vip == F.requester.vip
    assert F.requester.vip != ~F.requester.vip
    assert len({F.requester.vip, F.requester.vip}) == 1


def test_articles_loads_and_calendar_range_messages() -> None:
    from helpdesk_core import BusinessCalendar
    from helpdesk_core.knowledge import Article
    from helpdesk_core.routing import agent_loads

    with pytest.raises(ValidationError) as caught:
        Article(id="kb-1", title="t", author="a", created_at=T0,
                updated_at=T0 - timedelta(seconds=1))
    assert caught.value.field == "updated_at"
    with pytest.raises(ValidationError) as weights:
        agent_loads([], weights=cast(Any, {"medium": -5}))
    assert weights.value.field == "weights.medium"
    for bad in (None, [None]):
        with pytest.raises(ValidationError):
            agent_loads(cast(Any, bad))
    calendar = BusinessCalendar(timezone="UTC", hours={"mon-fri": "09:00-17:00"})
    with pytest.raises(ValidationError, match=r"0001-01-01.* outside the years 3 to 9997") as out:
        calendar.is_open(datetime(1, 1, 1, tzinfo=UTC))
    assert out.value.field == "at"


def test_domain_entry_points_name_a_missing_ticket() -> None:
    from helpdesk_core.model import Actor
    from helpdesk_core.privacy import AccessPolicy
    from helpdesk_core.reporting import build_report
    from helpdesk_core.routing import F, RuleSet
    from helpdesk_core.workflow import escalate

    ticket = _desk(MemoryStore()).open(requester=ADA, subject="x")
    condition = F.subject.contains("x")
    with pytest.raises(ValidationError) as caught:
        condition.matches(cast(Any, None))
    assert caught.value.field == "ticket"
    with pytest.raises(ValidationError) as requester:
        condition.matches(ticket, requester=cast(Any, "ada"))
    assert requester.value.field == "requester"
    with pytest.raises(ValidationError):
        RuleSet([]).evaluate(cast(Any, None))
    with pytest.raises(ValidationError) as calendars:
        RuleSet([]).evaluate(ticket, calendars=cast(Any, ["office"]))
    assert calendars.value.field == "calendars"
    with pytest.raises(ValidationError):
        escalate(cast(Any, None), example_config().ladder, by=Actor.agent("lena"), now=T0,
                 reason="r")
    for kwargs, field in (
        ({"actor": None, "ticket": ticket, "action": "view"}, "actor"),
        ({"actor": Actor.agent("lena"), "ticket": None, "action": "view"}, "ticket"),
        ({"actor": Actor.agent("lena"), "ticket": ticket, "action": ["view"]}, "action"),
    ):
        with pytest.raises(ValidationError) as access:
            AccessPolicy().decide(**cast(Any, kwargs))
        assert access.value.field == field
    with pytest.raises(ValidationError):
        build_report(cast(Any, None))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ticket": None}, "ticket"),
        ({"spec": "least_loaded"}, "spec"),
        ({"candidates": None}, "candidates"),
        ({"candidates": "lena"}, "candidates"),
        ({"candidates": [None]}, "candidates[0]"),
        ({"loads": None}, "loads"),
        ({"loads": {"lena": 3}}, "loads['lena']"),
        ({"calendars": ["office"]}, "calendars"),
        ({"tier_order": "L1"}, "tier_order"),
    ],
)
def test_assign_names_a_wrong_argument(change: dict[str, Any], field: str) -> None:
    from helpdesk_core.routing import AssignSpec, assign

    config = example_config()
    ticket = _desk(MemoryStore()).open(requester=ADA, subject="x")
    arguments: dict[str, Any] = {
        "ticket": ticket,
        "candidates": list(config.agents),
        "spec": AssignSpec(strategy="least_loaded"),
        "loads": {},
        "now": T0,
        "calendars": config.calendars,
    }
    assert assign(**arguments).strategy == "least_loaded"
    assert assign(**{**arguments, "candidates": iter(arguments["candidates"])}).eligible == (
        assign(**arguments).eligible
    )
    with pytest.raises(ValidationError) as caught:
        assign(**{**arguments, **change})
    assert caught.value.field == field


def test_knowledge_helpers_name_a_wrong_argument() -> None:
    from helpdesk_core import knowledge as kb
    from helpdesk_core.model import Actor

    lena = Actor.agent("lena")
    ticket = _desk(MemoryStore()).open(requester=ADA, subject="x")
    calls: list[tuple[Any, str]] = [
        (lambda: kb.search_words(cast(Any, None)), "text"),
        (lambda: kb.tokenize(cast(Any, b"vpn")), "text"),
        (lambda: kb.article_words(cast(Any, "an article")), "article"),
        (lambda: kb.record_known_error(cast(Any, None), symptom="s", by=lena, now=T0), "ticket"),
        (lambda: kb.update_known_error(cast(Any, None), by=lena, now=T0), "ticket"),
        (lambda: kb.resolve_known_error(cast(Any, None), by=lena, now=T0), "ticket"),
        (lambda: kb.solving_transition(cast(Any, None), ticket), "lifecycle"),
        (lambda: kb.caused_by(cast(Any, None), "P-1"), "tickets"),
        (lambda: kb.caused_by([ticket, cast(Any, None)], "P-1"), "tickets[1]"),
        (lambda: kb.caused_by([ticket], cast(Any, None)), "problem_id"),
        (lambda: kb.known_error_entries(cast(Any, "T-1")), "tickets"),
        (lambda: kb.known_error_entries([cast(Any, 1)]), "tickets[0]"),
        (lambda: kb.known_error_entries([], include_resolved=cast(Any, "yes")), "include_resolved"),
    ]
    for call, field in calls:
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == field
    # the checked forms still answer
    assert kb.search_words("VPN drops") == ["vpn", "drops"]
    assert kb.caused_by(iter([ticket]), "P-1") == []
    assert kb.known_error_entries(iter([ticket])) == []


def test_lifecycle_functions_name_a_wrong_ticket_or_lifecycle() -> None:
    from helpdesk_core.model import Actor
    from helpdesk_core.workflow import (
        Lifecycle,
        apply_automatic,
        apply_transition,
        auto_close,
        auto_close_due,
    )

    ticket = _desk(MemoryStore()).open(requester=ADA, subject="x")
    lifecycle = Lifecycle.default()
    by = Actor.agent("lena")
    calls: list[tuple[Any, str]] = [
        (lambda t, lc: apply_transition(t, lc, "solve", by=by, now=T0), "transition"),
        (lambda t, lc: apply_automatic(t, lc, "agent_public_reply", now=T0), "automatic"),
        (lambda t, lc: auto_close_due(t, lc), "auto_close_due"),
        (lambda t, lc: auto_close(t, lc, now=T0), "auto_close"),
    ]
    for call, name in calls:
        for args, field in (((None, lifecycle), "ticket"), ((ticket, "default"), "lifecycle")):
            with pytest.raises(ValidationError) as caught:
                call(*args)
            assert caught.value.field == field, name
    with pytest.raises(ValidationError) as trigger:
        apply_automatic(ticket, lifecycle, cast(Any, None), now=T0)
    assert trigger.value.field == "trigger"


def test_sla_entry_points_name_a_wrong_calendar_or_policy_set() -> None:
    from helpdesk_core.model import Actor, TicketOpened, apply_event, replay
    from helpdesk_core.sla import (
        BusinessCalendar,
        SlaEngine,
        SlaPolicy,
        next_wakeup_many,
        sla_view,
    )

    sla = SlaPolicy(name="p", calendar="office", targets={"medium": {"resolution": "8h"}})
    opened = TicketOpened(
        ticket_id="T", at=T0, by=Actor.requester("ada"), number=1, requester="ada", subject="s"
    )
    office = BusinessCalendar.always("UTC")
    ticket = replay([opened])
    with pytest.raises(ValidationError) as caught:
        SlaEngine([sla], {"office": {"timezone": "UTC"}}).react(ticket, opened, policy=sla)  # type: ignore[dict-item]
    assert caught.value.field == "calendars.office"
    started = SlaEngine([sla], {"office": office}).react(ticket, opened, policy=sla)
    clocked = ticket
    for event in started:
        clocked = apply_event(clocked, event)
    with pytest.raises(ValidationError) as caught:
        sla_view(clocked, {"office": "24/7"}, T0)  # type: ignore[dict-item]
    assert caught.value.field == "calendars.office"
    other = SlaPolicy(name="p", calendar="office", targets={"medium": {"resolution": "1h"}})
    with pytest.raises(ValidationError, match="named 'p'"):
        SlaEngine([sla, other], {"office": office})
    SlaEngine([sla, sla], {"office": office})  # the same policy twice is the same policy
    with pytest.raises(ValidationError) as caught:
        next_wakeup_many(None)  # type: ignore[arg-type]
    assert caught.value.field == "tickets"
    late = datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5)))
    for call in (office.add, office.subtract):
        with pytest.raises(ValidationError, match="years"):
            call(late, timedelta(0))


def test_a_command_that_fails_to_save_moves_no_round_robin_cursor() -> None:
    from helpdesk_core import DeskConfig
    from helpdesk_core.errors import StorageError

    class Flaky(MemoryStore):
        fail = True

        def append(self, *args: Any, **kwargs: Any) -> Any:
            if self.fail:
                self.fail = False
                raise StorageError("disk full")
            return super().append(*args, **kwargs)

    config = DeskConfig.from_dict(
        {
            "tiers": [{"id": "L1", "teams": ["desk"]}],
            "teams": [{"id": "desk"}],
            "agents": [{"id": name, "tier": "L1", "teams": ["desk"]} for name in "abc"],
            "assignment": {"strategy": "round_robin"},
        }
    )
    store = Flaky()
    desk = Helpdesk(config=config, store=store, clock=ManualClock(T0), ids=SequentialIds())
    with pytest.raises(StorageError):
        desk.open(requester=ADA, subject="first try")
    assert store.get_cursor("round_robin:desk:L1") == 0
    assert [desk.open(requester=ADA, subject=s).assignee for s in "xyz"] == ["a", "b", "c"]
    assert store.get_cursor("round_robin:desk:L1") != 0
    assert desk.open(requester=ADA, subject="again").assignee == "a"


def test_configuration_documents_say_what_is_wrong_where() -> None:
    from helpdesk_core import DeskConfig
    from helpdesk_core.errors import ConfigError

    base: dict[str, Any] = {"tiers": [{"id": "L1", "teams": ["desk"]}], "teams": [{"id": "desk"}]}
    one = DeskConfig.from_dict(  # a single name written as text is that one name
        {
            "tiers": [{"id": "L1", "teams": "desk"}],
            "teams": [{"id": "desk", "contacts": "lena"}],
            "agents": [{"id": "lena", "teams": "desk", "skills": "vpn"}],
        }
    )
    assert one.team("desk").contacts == ("lena",)
    assert one.agent("lena").skills == frozenset({"vpn"}) and one.agent("lena").teams == ("desk",)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"assignment": {"strategy": "random"}}, "assignment.strategy", "not one of"),
        ({"assignment": {"queue_order": "newest"}}, "assignment.queue_order", "not one of"),
        ({"assignment": {"weights": {"urgent": 3}}}, "assignment.weights.urgent", "Priority"),
        ({"assignment": {"weights": {"critical": float("nan")}}}, "assignment.weights.critical",
         "finite"),
        ({"assignment": {"weights": {"high": float("inf")}}}, "assignment.weights.high", "finite"),
        ({"routing": [{"name": "a"}, {"name": "a"}]}, "routing[1].name", "also routing[0]"),
        ({"categories": {"network": {"skills": None}}}, "categories.network.skills", "names"),
        ({"categories": {"network": {"skills": 5}}}, "categories.network.skills", "names"),
        ({"agents": [{"id": "a", "skills": [1]}]}, "agents[0].skills", "names"),
    ]
    for extra, path, words in cases:
        with pytest.raises(ConfigError) as caught:
            DeskConfig.from_dict({**base, **extra})
        assert caught.value.path == path, extra
        assert words in caught.value.message, extra
    statuses = [{"name": "a", "category": "new"}, {"name": "b", "category": "closed"}]
    change = {"initial": "a", "statuses": statuses,
              "transitions": [{"name": "x", "from": "a", "to": "b"}]}
    loaded = DeskConfig.from_dict({**base, "lifecycles": {"change": change}})
    assert loaded.lifecycles["change"].name == "change"  # named by its key


def test_intake_answers_must_be_a_mapping() -> None:
    from helpdesk_core import Category

    category = Category.from_dict("network", {"questions": [{"name": "site", "type": "text"}]})
    for bad in (None, ["site"], "site=1"):
        with pytest.raises(ValidationError) as caught:
            category.check(bad)  # type: ignore[arg-type]
        assert caught.value.field == "fields"


def test_priority_weights_take_any_spelling_and_default_the_rest() -> None:
    from helpdesk_core.model import Actor, Ticket, TicketOpened, replay
    from helpdesk_core.routing import agent_loads

    opened = TicketOpened(
        ticket_id="T", at=T0, by=Actor.requester("r"), number=1, requester="r", subject="s",
        priority="critical",
    )
    ticket: Ticket = attrs.evolve(replay([opened]), assignee="ann")
    for weights in ({"critical": 10}, {"P1": 10}, {"Critical": 10}):
        assert agent_loads([ticket], weights=weights)["ann"].weighted == 10.0
    assert agent_loads([ticket], weights={"low": 3})["ann"].weighted == 4.0  # the default
    for bad in ({"critical": float("nan")}, {"critical": float("inf")}, {"critical": -1}):
        with pytest.raises(ValidationError) as caught:
            agent_loads([ticket], weights=bad)
        assert caught.value.field == "weights.critical"


def test_workflow_and_routing_functions_name_a_wrong_argument() -> None:
    from helpdesk_core.model import Actor, Agent, Escalated, TicketOpened, Tier, apply_event
    from helpdesk_core.model import replay as fold
    from helpdesk_core.routing import AssignSpec, assign, queue_order
    from helpdesk_core.workflow import (
        EscalationPolicy,
        Lifecycle,
        TierLadder,
        de_escalate,
        due_escalations,
        escalate,
        fire,
        raise_level,
        run_escalations,
    )

    ticket = fold(
        [TicketOpened(ticket_id="T", at=T0, by=Actor.requester("r"), number=1, requester="r",
                      subject="s")]
    )
    ladder = TierLadder(
        [Tier(id="L1", teams=("desk",)), Tier(id="L2", teams=("net",)), Tier(id="L3", teams=("e",))]
    )
    policy = EscalationPolicy.from_dict(
        {"name": "p", "triggers": [{"name": "s", "on": "time_in_tier", "after": "1h",
                                    "actions": [{"action": "notify", "contact": "team_lead"}]}]}
    )
    agent, later, lead = Agent(id="a"), T0 + timedelta(hours=2), Actor.agent("a")
    top = apply_event(
        ticket, Escalated(ticket_id="T", at=T0, by=lead, from_tier=None, to_tier="L3", team="e")
    )
    calls: dict[str, tuple[Any, str]] = {
        "weights": (lambda: assign(ticket, candidates=[agent], spec=AssignSpec(), loads={},
                                   now=T0, weights=[1]), "weights"),
        "tier_order": (lambda: assign(ticket, candidates=[agent],
                                      spec=AssignSpec(strategy="skills_based"), loads={}, now=T0,
                                      tier_order=[["L1"]]), "tier_order"),
        "calendars": (lambda: assign(ticket, candidates=[Agent(id="a", calendar="c")],
                                     spec=AssignSpec(), loads={}, now=T0, calendars={"c": 5}),
                      "calendars.c"),
        "queue text": (lambda: queue_order("abc"), "tickets"),
        "queue none": (lambda: queue_order(None), "tickets"),
        "allowed": (lambda: Lifecycle.default().allowed(["new"]), "status"),
        "ladder": (lambda: escalate(ticket, [Tier(id="L1", teams=("d",))], by=lead, now=T0,
                                    reason="r"), "ladder"),
        "contacts": (lambda: raise_level(ticket, contacts=5, by=lead, now=T0, reason="r"),
                     "contacts"),
        "policies": (lambda: due_escalations(ticket, None, now=T0), "policies"),
        "policy items": (lambda: run_escalations(ticket, [None], ladder=ladder, contacts=[],
                                                 now=later), "policies[0]"),
        "no contacts": (lambda: run_escalations(ticket, [policy], ladder=ladder, contacts=None,
                                                now=later), "contacts"),
        "due": (lambda: fire(ticket, "x", policy, ladder=ladder, contacts=[], now=later), "due"),
        "allow_skip": (lambda: de_escalate(top, ladder, by=lead, now=T0, reason="r",
                                           to_tier="L1", allow_skip="no"), "allow_skip"),
    }
    for name, (call, field) in calls.items():
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == field, name


class _NaiveClock:
    """An application's clock that forgot the time zone (``datetime.now()``)."""

    def __init__(self, value: object) -> None:
        self.value = value

    def now(self) -> object:
        return self.value


@pytest.mark.parametrize("told", [datetime(2026, 3, 2, 10), "2026-03-02T10:00:00+00:00"])
def test_a_clock_that_tells_no_aware_datetime_is_named(store: Store, told: object) -> None:
    desk = _desk(store)
    ticket = desk.open(requester=ADA, subject="Printer jams")
    before = _contents(store)
    broken = Helpdesk(config=example_config(), store=store, clock=cast(Any, _NaiveClock(told)))
    commands = [
        lambda: broken.reply(ticket.id, author="lena", body="Tried again?"),
        lambda: broken.open(requester=ADA, subject="Second"),
        lambda: broken.solve(ticket.id, by="lena", resolution="Fixed"),
        broken.tick,
        broken.next_wakeup,
    ]
    for command in commands:
        with pytest.raises(ValidationError, match="clock") as refused:
            command()
        assert refused.value.field == "clock"
        assert "timezone-aware" in str(refused.value)
    assert _contents(store) == before


def test_a_clock_that_turns_naive_is_named_after_good_instants(store: Store) -> None:
    """The desk remembers the last instant it checked; a clock that tells another value
    (naive, or nothing) is checked again."""
    clock = _NaiveClock(datetime(2026, 3, 2, 10, tzinfo=UTC))
    desk = Helpdesk(config=example_config(), store=store, clock=cast(Any, clock))
    ticket = desk.open(requester=ADA, subject="Printer jams")
    desk.reply(ticket.id, author="lena", body="Tried again?")
    before = _contents(store)
    for told in (datetime(2026, 3, 2, 11), None):
        clock.value = told
        with pytest.raises(ValidationError, match="timezone-aware") as refused:
            desk.reply(ticket.id, author="lena", body="And now?")
        assert refused.value.field == "clock"
    assert _contents(store) == before


def test_a_requester_given_by_value_never_replaces_the_stored_record(store: Store) -> None:
    """An id with other details (a form that only knows the name, a requester making
    themselves a VIP of another organization) would replace the stored record."""
    desk = _desk(store)
    stored = Requester(id="cy", name="Cy", email="cy@example.com", organization="Acme", vip=True)
    desk.upsert_requester(stored)
    before = _contents(store)
    for value, differ in [
        (Requester(id="cy"), "name, email, organization, vip"),
        (attrs.evolve(stored, organization="Initech"), "organization"),
    ]:
        for by in (None, "lena"):
            with pytest.raises(ValidationError, match="stored with other details") as caught:
                desk.open(requester=value, subject="Printer", by=by)
            assert caught.value.field == "requester"
            assert f"({differ})" in caught.value.message
    assert _contents(store) == before and store.get_requester("cy") == stored
    assert desk.open(requester=stored, subject="Printer").requester == "cy"  # as stored
    assert desk.open(requester="cy", subject="Scanner").requester == "cy"
    assert store.get_requester("cy") == stored


@pytest.mark.parametrize("make", STORES)
@pytest.mark.parametrize(
    ("order_by", "value", "ticket_id"),
    [
        ("created_at", 2**62, "T-1"),  # no instant a ticket can have
        ("-updated_at", -(2**62), "T-1"),
        ("queued_at", 2**63 - 1, "T-1"),
        ("number", 1, "T-\ud800"),  # no id a ticket can have
        ("-number", 1, "T-\x001"),
        ("priority", 1, "T 1"),
    ],
)
def test_an_after_token_no_page_could_give_is_refused_on_every_store(
    make: Any, tmp_path: Path, order_by: str, value: int, ticket_id: str
) -> None:
    # As an API hands the token over from a query string: a ValidationError naming it.
    store = make(tmp_path)
    try:
        desk = _desk(store)
        desk.open(requester=ADA, subject="Printer")
        raw = json.dumps([1, order_by, value, ticket_id]).encode("ascii")  # \ud800 escaped
        token = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
        with pytest.raises(ValidationError, match="next_after token") as caught:
            desk.search(order_by=order_by, after=token)
        assert caught.value.field == "after"
    finally:
        drop(store)


def test_acking_the_claimed_items_themselves_says_to_give_their_ids(store: Store) -> None:
    """release_outbox takes the claimed items, ack_outbox their ids: an ack given the
    items is refused, and the message says which id to give, without acking anything."""
    desk = _desk(store)
    desk.open(requester=Requester(id="ada", name="Ada"), subject="Printer jams")
    items = store.claim_outbox("chat", now=T0, limit=1)
    with pytest.raises(ValidationError) as refused:
        store.ack_outbox("chat", cast(Any, items))
    assert refused.value.field == "ids"
    assert "OutboxItem" in str(refused.value) and f"{items[0].id!r}" in str(refused.value)
    later = T0 + timedelta(hours=1)  # past the lease: the item is pending again
    assert [i.id for i in store.claim_outbox("chat", now=later, limit=1)] == [items[0].id]
