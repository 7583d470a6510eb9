"""Bad arguments to the public helper functions (workflow, model, e-mail, codec,
simulation): a ValidationError naming the argument, never a TypeError, AttributeError or
OverflowError from deep inside."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from desk_stores import STORES, drop
from helpdesk_core.demo import example_config
from helpdesk_core.errors import ValidationError
from helpdesk_core.storage import Store

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_business_days_from_the_last_instants_are_refused() -> None:
    from helpdesk_core.workflow import add_business_days

    calendar = next(iter(example_config().calendars.values()))
    last = datetime.max.replace(tzinfo=UTC)
    for days in (0, 1):
        with pytest.raises(ValidationError) as caught:
            add_business_days(calendar, last, days)
        assert caught.value.field == "start"
    with pytest.raises(ValidationError) as caught:
        add_business_days(None, T0, 1)  # type: ignore[arg-type]
    assert caught.value.field == "calendar"
    assert add_business_days(calendar, T0, 1) > T0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        ("replay(None)", "events"),
        ("replay(5)", "events"),
        ("replay('abc')", "events"),
        ("apply_events(None, {'a': 1})", "events"),
        ("apply_event(True, opened)", "ticket"),
        ("apply_event(ticket, None)", "event"),
        ("apply_event(ticket, 'x')", "event"),
    ],
)
def test_folding_names_what_is_not_a_ticket_or_events(call: str, field: str) -> None:
    from helpdesk_core.model import Actor, TicketOpened, apply_event, apply_events, replay

    opened = TicketOpened(
        ticket_id="T", at=T0, by=Actor.requester("r"), number=1, requester="r", subject="s"
    )
    ticket = replay([opened])
    scope = {"replay": replay, "apply_event": apply_event, "apply_events": apply_events,
             "opened": opened, "ticket": ticket}
    with pytest.raises(ValidationError) as caught:
        eval(call, scope)
    assert caught.value.field == field
    assert replay(iter([opened])) == ticket


def test_workflow_lookups_name_a_wrong_argument() -> None:
    from helpdesk_core.model import priority_for
    from helpdesk_core.workflow import (
        due_escalations,
        guard_names,
        level_contact,
        lifecycle_for,
        lookup_guard,
        next_escalation_at,
    )

    calls: dict[str, tuple[Any, str]] = {
        "level none": (lambda: level_contact(["a"], None), "level"),
        "level text": (lambda: level_contact(["a"], "1"), "level"),
        "type list": (lambda: lifecycle_for([], {}, "d"), "ticket_type"),
        "mapping none": (lambda: lifecycle_for("x", None, "d"), "mapping"),
        "default none": (lambda: lifecycle_for("x", {}, None), "default"),
        "guard list": (lambda: lookup_guard([]), "name"),
        "guard extra": (lambda: lookup_guard("x", True), "extra"),
        "names extra": (lambda: guard_names(True), "extra"),
        "names keys": (lambda: guard_names({1: len}), "extra"),
        "due ticket": (lambda: due_escalations(None, [], now=T0), "ticket"),
        "next ticket": (lambda: next_escalation_at(None, []), "ticket"),
        "matrix": (lambda: priority_for("high", "high", matrix=True), "matrix"),
    }
    for name, (call, field) in calls.items():
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == field, name
    assert level_contact(["a", "b"], 3) == "b"
    assert lifecycle_for("problem", {"problem": "p"}, "d") == "p"
    assert lookup_guard("nope", {}) is None
    assert priority_for("high", "high").value == "critical"


def test_due_descriptions_name_a_wrong_language_team_or_instant() -> None:
    from zoneinfo import ZoneInfo

    from helpdesk_core.channels.email import EmailSettings, describe_due

    settings = EmailSettings(domain="example.com", address="help@example.com")
    berlin, tokyo = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Tokyo")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"language": True}, "language"),
        ({"language": b"de"}, "language"),
        ({"team": []}, "team"),
        ({"due": datetime.max.replace(tzinfo=UTC), "zone": tokyo}, "due"),
    ]
    for given, field in cases:
        kwargs: dict[str, Any] = {"due": T0, "at": T0, "zone": berlin, "settings": settings}
        kwargs.update(given)
        with pytest.raises(ValidationError) as caught:
            describe_due(kwargs.pop("due"), **kwargs)
        assert caught.value.field == field, given
    with pytest.raises(ValidationError) as caught:
        settings.templates.weekday(7, language=None, team=None)
    assert caught.value.field == "index"
    assert describe_due(T0, at=T0, zone=berlin, settings=settings, language="de").startswith("bis")


def test_the_codec_names_what_is_not_a_ticket_or_an_event() -> None:
    from helpdesk_core.codec import event_to_dict, ticket_to_dict
    from helpdesk_core.model import Actor, TicketOpened, replay

    opened = TicketOpened(
        ticket_id="T", at=T0, by=Actor.requester("r"), number=1, requester="r", subject="s"
    )
    ticket = replay([opened])
    for call, field in (
        (lambda: event_to_dict(None), "event"),  # type: ignore[arg-type]
        (lambda: event_to_dict(ticket), "event"),  # type: ignore[arg-type]
        (lambda: ticket_to_dict(None), "ticket"),  # type: ignore[arg-type]
        (lambda: ticket_to_dict(opened), "ticket"),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == field
    assert event_to_dict(opened)["event"] == "TicketOpened"
    assert ticket_to_dict(ticket)["id"] == "T"


def test_a_queue_simulation_of_endless_tickets_is_refused() -> None:
    from helpdesk_core.simulation import simulate_queue
    from helpdesk_core.simulation.queueing import MAX_TICKETS

    for tickets in (2**70, MAX_TICKETS + 1):
        with pytest.raises(ValidationError) as caught:
            simulate_queue(arrivals_per_hour=10, agents=[2], work=["10m"], tickets=tickets)
        assert caught.value.field == "tickets"
    result = simulate_queue(arrivals_per_hour=10, agents=[2], work=["10m"], tickets=100)
    assert result.tickets == 100


def test_the_rate_limiter_names_a_wrong_sender_and_counts_from_the_first_instant() -> None:
    from datetime import timedelta

    from helpdesk_core.channels.email import RateLimiter

    limiter = RateLimiter(max_messages=2, per="10m")
    first = datetime.min.replace(tzinfo=UTC)
    assert limiter.allow("a@example.com", first)
    assert limiter.allow("a@example.com", first + timedelta(minutes=1))
    assert not limiter.allow("a@example.com", first + timedelta(minutes=2))
    assert limiter.allow("a@example.com", first + timedelta(minutes=20))
    for call in (
        lambda: limiter.allow(None, T0),  # type: ignore[arg-type]
        lambda: limiter.take_back(b"a@example.com", T0),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == "sender"


def test_the_similarity_index_names_a_wrong_limit_or_id() -> None:
    from helpdesk_core.knowledge import SimilarityIndex
    from helpdesk_core.model import Actor, TicketOpened, replay

    opened = TicketOpened(
        ticket_id="T", at=T0, by=Actor.requester("r"), number=1, requester="r", subject="vpn"
    )
    index = SimilarityIndex()
    index.add_document("D-1", "vpn down", "restart the client")
    for call, field in (
        (lambda: index.query(replay([opened]), 2**70), "limit"),
        (lambda: index.remove(["D-1"]), "id"),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == field
    assert [m.id for m in index.query(replay([opened]), 2**62)] == ["D-1"]


def test_lifecycle_and_configuration_lookups_name_a_name_that_is_not_text() -> None:
    from helpdesk_core.workflow import Lifecycle

    lifecycle, config = Lifecycle.default(), example_config()
    calls: dict[str, tuple[Any, str]] = {
        "has_status": (lambda: lifecycle.has_status([]), "status"),
        "status": (lambda: lifecycle.status([]), "status"),
        "category": (lambda: lifecycle.category([]), "status"),
        "is_terminal": (lambda: lifecycle.is_terminal([]), "status"),
        "find": (lambda: lifecycle.find("new", []), "name_or_target"),
        "step": (lambda: lifecycle.step([], "open"), "status"),
        "automatic": (lambda: lifecycle.automatic_transition([], "new"), "trigger"),
        "sources": (lambda: lifecycle.sources(None), "transition"),
        "has_agent": (lambda: config.has_agent([]), "agent_id"),
        "sla_policy": (lambda: config.sla_policy([]), "name"),
        "lifecycle_for": (lambda: config.lifecycle_for([]), "ticket_type"),
        "agents_of team": (lambda: config.agents_of(team=["network", "workplace"]), "team"),
        "agents_of tier": (lambda: config.agents_of(tier=2), "tier"),
    }
    for name, (call, field) in calls.items():
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == field, name
    assert lifecycle.has_status("new") and not config.has_agent("nobody")
    assert config.lifecycle_for("incident").has_status("new")
    assert [a.id for a in config.agents_of(team="network", tier="L2")] == ["nora", "piet"]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_an_article_offset_beyond_64_bits_is_refused_by_every_store(
    kind: str, tmp_path: Path
) -> None:
    from helpdesk_core import Helpdesk, ManualClock, MemoryStore, SequentialIds, SqliteStore
    from helpdesk_core.knowledge import ArticleQuery

    store = MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "desk.sqlite")
    desk = Helpdesk(config=example_config(), store=store, clock=ManualClock(T0),
                    ids=SequentialIds())
    desk.publish_article(title="VPN", body="restart the client", by="agent:lena")
    with pytest.raises(ValidationError) as caught:
        desk.search_articles(offset=2**63)
    assert caught.value.field == "offset"
    assert not desk.search_articles(ArticleQuery(offset=2**63 - 1)).items
    assert len(desk.search_articles().items) == 1
    store.close()


def _token(order_by: str, value: int | None, ticket_id: str) -> str:
    import base64
    import json

    raw = json.dumps([1, order_by, value, ticket_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("order_by", "value", "ticket_id"),
    [
        ("updated_at", 10**18, "T-1"),  # past the year 9999
        ("-created_at", -(10**17), "T-1"),  # before the year 1
        ("queued_at", 2**63 - 1, "T-1"),
        ("updated_at", 0, "\ud800"),
        ("number", 1, "T\x00"),
    ],
)
def test_an_after_token_no_page_could_end_with_is_refused_alike(
    order_by: str, value: int, ticket_id: str
) -> None:
    from helpdesk_core.storage import TicketQuery

    with pytest.raises(ValidationError) as caught:
        TicketQuery(order_by=order_by, after=_token(order_by, value, ticket_id))
    assert caught.value.field == "after"


def test_after_tokens_at_the_first_and_last_instants_are_taken() -> None:
    from helpdesk_core.storage import MemoryStore, TicketQuery

    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for instant in (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)):
        micros = (instant - epoch) // (datetime.min.resolution)
        query = TicketQuery(order_by="-updated_at", after=_token("-updated_at", micros, "T-1"))
        assert not MemoryStore().query(query).items


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = request.param(tmp_path)
    yield made
    drop(made)


def test_an_email_that_is_not_valid_text_is_named_by_every_store(store: Store) -> None:
    with pytest.raises(ValidationError) as caught:
        store.find_requester(email="ada\ud800@example.com")
    assert caught.value.field == "email"
    assert store.find_requester(email="ada@example.com") is None


@pytest.mark.parametrize("ticket_id", ["T\x00", "T\ud800"])
def test_purge_names_a_ticket_id_no_ticket_can_have(store: Store, ticket_id: str) -> None:
    with pytest.raises(ValidationError) as caught:
        store.purge(ticket_id, expected_version=1)
    assert caught.value.field == "ticket_id"


def test_an_expected_version_beyond_64_bits_is_refused_by_every_store(store: Store) -> None:
    for call in (
        lambda: store.reschedule("T-1", expected_version=2**63, wake_at=None),
        lambda: store.purge("T-1", expected_version=2**70),
    ):
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == "expected_version"


def test_a_transition_reason_or_resolution_with_a_lone_surrogate_is_refused(
    store: Store,
) -> None:
    from helpdesk_core import Helpdesk, ManualClock, Requester, SequentialIds

    desk = Helpdesk(config=example_config(), store=store, clock=ManualClock(T0),
                    ids=SequentialIds())
    desk.upsert_requester(Requester(id="ada"))
    ticket = desk.open(requester="ada", subject="vpn")
    desk.reply(ticket.id, author="agent:lena", body="on it")
    before = (desk.get(ticket.id), desk.history(ticket.id), list(store.event_stream()))
    calls: dict[str, tuple[Any, str]] = {
        "transition": (lambda: desk.transition(ticket.id, "pend", by="agent:lena",
                                               reason="\ud800"), "reason"),
        "solve": (lambda: desk.solve(ticket.id, by="agent:lena", resolution="ok \udfff"),
                  "resolution"),
        "cancel": (lambda: desk.cancel(ticket.id, by="agent:lena", reason="\ud800"), "reason"),
    }
    for name, (call, field) in calls.items():
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == field, name
    assert (desk.get(ticket.id), desk.history(ticket.id), list(store.event_stream())) == before
    assert desk.solve(ticket.id, by="agent:lena", resolution="Grüße").status == "solved"


def test_access_decisions_name_a_wrong_agent_or_teams() -> None:
    from helpdesk_core.model import Actor, Agent, Team, TicketOpened, replay
    from helpdesk_core.privacy import AccessPolicy

    policy, lead = AccessPolicy(), Agent(id="a", role="team_lead", teams=("desk",))
    opened = TicketOpened(
        ticket_id="T", at=T0, by=Actor.requester("r"), number=1, requester="r", subject="s"
    )
    ticket = replay([opened])
    calls: dict[str, tuple[Any, str]] = {
        "role_of": (lambda: policy.role_of(None), "agent"),
        "agent_teams agent": (lambda: policy.agent_teams("a", ()), "agent"),
        "agent_teams none": (lambda: policy.agent_teams(lead, None), "teams"),
        "agent_teams item": (lambda: policy.agent_teams(lead, ["net"]), "teams[0]"),
        "decide": (lambda: policy.decide(actor=Actor.agent("a"), ticket=ticket, action="view",
                                         agent=lead, teams=5), "teams"),
    }
    for name, (call, field) in calls.items():
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == field, name
    net = Team(id="net", contacts=("a",))
    assert policy.agent_teams(lead, (net,)) == ("desk", "net")


@pytest.mark.parametrize("limits", [None, 5, "strict"])
def test_limits_that_are_not_limits_are_named_on_a_desk_with_routing_rules(limits: Any) -> None:
    from helpdesk_core import DeskConfig
    from helpdesk_core.errors import ConfigError

    config = example_config()
    assert config.routing.rules
    with pytest.raises(ConfigError) as caught:
        config.replace(limits=limits)
    assert caught.value.path == "limits"
    with pytest.raises(ConfigError):
        DeskConfig(limits=limits)


def test_replacing_a_configuration_part_that_does_not_exist_is_named() -> None:
    from helpdesk_core.errors import ConfigError

    config = example_config()
    with pytest.raises(ConfigError) as caught:
        config.replace(teamz=())
    assert caught.value.path == "teamz"
    assert config.replace(agents=config.agents).agents == config.agents


def test_replacing_an_email_setting_that_does_not_exist_is_named() -> None:
    from helpdesk_core.channels.email import EmailSettings
    from helpdesk_core.errors import ConfigError

    settings = EmailSettings(domain="example.com", address="help@example.com")
    with pytest.raises(ConfigError) as caught:
        settings.replace(adress="desk@example.com")
    assert caught.value.path == "email.adress"
    assert settings.replace(address="desk@example.com").address == "desk@example.com"
