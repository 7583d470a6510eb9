"""Solving a problem ticket solves or notifies the active tickets linked ``caused_by`` to
it, as ``knowledge.on_problem_solved`` says, on every store; each ticket records why."""

from __future__ import annotations

import pytest
from knowledge_fixtures import StoreFactory, make_desk

from helpdesk_core import ConfigError, DeskConfig, Helpdesk, Requester, ValidationError
from helpdesk_core.knowledge import KNOWLEDGE_ACTOR, KnowledgeSettings, LinkedProblemSolved
from helpdesk_core.model import CsatRequested, Event, StatusChanged, replay

ADA = Requester(id="ada", name="Ada")


def _world(desk: Helpdesk) -> dict[str, str]:
    """A problem and its incidents in several states, plus an unrelated ticket."""
    problem = desk.open(requester=ADA, subject="Gateway drops VPN sessions", type="problem")
    ids = {"problem": problem.id}
    answered = desk.open(requester=ADA, subject="VPN drops at home")
    desk.reply(answered.id, author="alice", body="We are on it.")
    ids["answered"] = answered.id
    ids["untouched"] = desk.open(requester=ADA, subject="VPN is flaky").id
    waiting = desk.open(requester=ADA, subject="VPN and Teams")
    desk.reply(waiting.id, author="alice", body="Which client version?")
    desk.transition(waiting.id, "pend", by="alice")
    ids["pending"] = waiting.id
    done = desk.open(requester=ADA, subject="VPN slow")
    desk.reply(done.id, author="alice", body="Use vpn2.")
    desk.solve(done.id, by="alice", resolution="Workaround given")
    ids["solved"] = done.id
    ids["other"] = desk.open(requester=ADA, subject="Printer jam").id
    for name in ("answered", "untouched", "pending", "solved"):
        desk.link(ids[name], kind="caused_by", other=problem.id, by="alice")
    desk.reply(problem.id, author="alice", body="Vendor fix deployed.")
    return ids


def _solve_problem(desk: Helpdesk, ids: dict[str, str]) -> list[Event]:
    published: list[Event] = []
    desk.subscribe(published.append)
    desk.solve(ids["problem"], by="alice", resolution="Gateway firmware 2.1")
    return published


def _notices(desk: Helpdesk, ticket_id: str) -> list[LinkedProblemSolved]:
    return [e for e in desk.history(ticket_id) if isinstance(e, LinkedProblemSolved)]


def test_solve_mode_solves_what_the_lifecycle_allows_and_notifies_the_rest(
    make_store: StoreFactory,
) -> None:
    desk, clock = make_desk(make_store(), on_problem_solved="solve")
    ids = _world(desk)
    clock.advance(minutes=30)
    versions = {name: desk.get(i).version for name, i in ids.items()}
    published = _solve_problem(desk, ids)

    for name in ("answered", "pending"):
        ticket = desk.get(ids[name])
        assert ticket.status == "solved", name
        assert ticket.resolution == "Solved with problem #1: Gateway firmware 2.1"
        added = desk.history(ids[name])[versions[name] :]
        assert isinstance(added[0], LinkedProblemSolved)
        assert (added[0].problem, added[0].outcome, added[0].reason) == (
            ids["problem"],
            "solved",
            "",
        )
        assert added[0].by == KNOWLEDGE_ACTOR
        status = next(e for e in added if isinstance(e, StatusChanged))
        assert (status.transition, status.by) == ("solve", KNOWLEDGE_ACTOR)
        assert any(isinstance(e, CsatRequested) for e in added)
        assert replay(desk.history(ids[name])) == ticket

    # No public answer yet: the lifecycle's guard refuses, so the ticket is told, and why.
    untouched = desk.get(ids["untouched"])
    assert untouched.status == "new"
    [notice] = _notices(desk, ids["untouched"])
    assert notice.outcome == "notified"
    assert "public_response_or_first_contact" in notice.reason
    # Solved already, or not linked: nothing happens.
    assert desk.get(ids["solved"]).version == versions["solved"]
    assert desk.get(ids["other"]).version == versions["other"]
    # Subscribers saw every recorded event, the incidents' ones included.
    kinds = [(e.ticket_id, type(e).__name__) for e in published]
    assert (ids["untouched"], "LinkedProblemSolved") in kinds
    assert (ids["answered"], "StatusChanged") in kinds
    assert desk.incidents_of(ids["problem"]) == [desk.get(ids["untouched"])]


def test_notify_mode_only_tells_the_active_incidents(make_store: StoreFactory) -> None:
    desk, clock = make_desk(make_store())  # notify is the default
    ids = _world(desk)
    clock.advance(minutes=30)
    before = {name: desk.get(i) for name, i in ids.items()}
    _solve_problem(desk, ids)
    for name in ("answered", "untouched", "pending"):
        ticket = desk.get(ids[name])
        assert ticket.status == before[name].status
        assert ticket.version == before[name].version + 1
        [notice] = _notices(desk, ids[name])
        assert (notice.problem, notice.outcome, notice.reason) == (ids["problem"], "notified", "")
    assert desk.get(ids["solved"]) == before["solved"]
    assert desk.get(ids["other"]) == before["other"]


def test_none_mode_leaves_the_incidents_alone(make_store: StoreFactory) -> None:
    desk, _ = make_desk(make_store(), on_problem_solved="none")
    ids = _world(desk)
    before = {name: desk.get(i) for name, i in ids.items()}
    _solve_problem(desk, ids)
    assert all(desk.get(ids[n]) == before[n] for n in ids if n != "problem")


def test_only_solving_a_problem_ticket_propagates(make_store: StoreFactory) -> None:
    desk, _ = make_desk(make_store(), on_problem_solved="solve")
    cause = desk.open(requester=ADA, subject="Not a problem ticket")
    child = desk.open(requester=ADA, subject="Linked anyway")
    desk.reply(child.id, author="alice", body="ok")
    desk.link(child.id, kind="caused_by", other=cause.id, by="alice")
    desk.reply(cause.id, author="alice", body="done")
    desk.solve(cause.id, by="alice", resolution="done")
    assert desk.get(child.id).status == "open"
    problem = desk.open(requester=ADA, subject="A problem", type="problem")
    desk.link(child.id, kind="caused_by", other=problem.id, by="alice")
    desk.cancel(problem.id, by="alice", reason="duplicate problem")  # closed, not solved
    assert desk.get(child.id).status == "open"
    assert _notices(desk, child.id) == []


def test_knowledge_settings_are_configuration() -> None:
    config = DeskConfig.from_dict({"knowledge": {"on_problem_solved": "solve"}})
    assert config.knowledge == KnowledgeSettings(on_problem_solved="solve")
    assert DeskConfig.from_dict(config.to_dict()).knowledge == config.knowledge
    assert "knowledge" not in DeskConfig().to_dict()
    with pytest.raises(ConfigError, match=r"knowledge\.on_problem_solved"):
        DeskConfig.from_dict({"knowledge": {"on_problem_solved": "close"}})
    with pytest.raises(ConfigError, match="unknown key"):
        DeskConfig.from_dict({"knowledge": {"on_solved": "solve"}})
    with pytest.raises(ConfigError, match=r"knowledge\.problem_type"):
        DeskConfig.from_dict({"knowledge": {"problem_type": "defect"}})
    with pytest.raises(ConfigError, match=r"knowledge\.similar_candidates"):
        DeskConfig.from_dict({"knowledge": {"similar_candidates": 0}})
    custom = DeskConfig.from_dict(
        {
            "ticket_types": {"incident": {}, "defect": {}},
            "knowledge": {"problem_type": "defect"},
        }
    )
    assert custom.knowledge.problem_type == "defect"


def test_a_problem_solved_through_another_passes_it_on(make_store: StoreFactory) -> None:
    desk, _ = make_desk(make_store(), on_problem_solved="solve")
    root = desk.open(requester=ADA, subject="Core switch", type="problem")
    middle = desk.open(requester=ADA, subject="Gateway drops VPN", type="problem")
    desk.record_known_error(middle.id, symptom="drops", workaround="vpn2", by="alice",
                            status="known_error")
    incident = desk.open(requester=ADA, subject="VPN drops at home")
    for ticket in (middle, incident):
        desk.reply(ticket.id, author="alice", body="On it.")
    desk.link(middle.id, kind="caused_by", other=root.id, by="alice")
    desk.link(incident.id, kind="caused_by", other=middle.id, by="alice")
    with pytest.raises(ValidationError, match="cycle"):
        desk.link(root.id, kind="caused_by", other=middle.id, by="alice")
    desk.reply(root.id, author="alice", body="Replaced.")
    desk.solve(root.id, by="alice", resolution="New switch")
    solved_middle = desk.get(middle.id)
    assert solved_middle.status == "solved"
    assert solved_middle.known_error is not None
    assert solved_middle.known_error.status.value == "resolved"
    assert desk.get(incident.id).status == "solved"


def test_a_sub_problem_purged_as_it_is_solved_does_not_fail_the_solve(
    make_store: StoreFactory,
) -> None:
    """A problem solved through another is read again to pass the solve on; when another
    worker purged it meanwhile there is nothing to pass on, and the solve that set it off
    (committed already) does not fail with NotFound."""
    from helpdesk_core import NotFound

    desk, _ = make_desk(make_store(), on_problem_solved="solve")
    root = desk.open(requester=ADA, subject="Core switch", type="problem")
    middle = desk.open(requester=ADA, subject="Gateway drops VPN", type="problem")
    desk.reply(middle.id, author="alice", body="On it.")
    desk.link(middle.id, kind="caused_by", other=root.id, by="alice")
    desk.reply(root.id, author="alice", body="Replaced.")
    store = desk.store
    real_load = store.load
    solved_middle = []

    def load(ticket_id: str) -> object:
        if ticket_id == middle.id and real_load(ticket_id).status == "solved":
            solved_middle.append(ticket_id)
            raise NotFound("ticket", ticket_id)  # as if purged the moment it was solved
        return real_load(ticket_id)

    store.load = load  # type: ignore[method-assign]
    solved = desk.solve(root.id, by="alice", resolution="New switch")
    store.load = real_load  # type: ignore[method-assign]
    assert solved.status == "solved" and solved_middle


def test_a_solved_problems_known_error_can_only_be_resolved(make_store: StoreFactory) -> None:
    desk, _ = make_desk(make_store())
    problem = desk.open(requester=ADA, subject="Gateway", type="problem")
    desk.reply(problem.id, author="alice", body="Fixed.")
    desk.solve(problem.id, by="alice", resolution="Firmware")
    with pytest.raises(ValidationError, match="can only be resolved") as caught:
        desk.record_known_error(problem.id, symptom="drops", by="alice")
    assert caught.value.field == "status"
    recorded = desk.record_known_error(problem.id, symptom="drops", status="resolved", by="alice")
    assert recorded.known_error is not None
    with pytest.raises(ValidationError, match="can only be resolved"):
        desk.update_known_error(problem.id, status="investigating", by="alice")


def test_no_one_probes_tickets_through_articles_or_links(make_store: StoreFactory) -> None:
    from helpdesk_core.errors import AccessDenied

    desk, _ = make_desk(make_store())
    secret = desk.open(requester=Requester(id="bea", name="Bea"), subject="Salary question")
    desk.open(requester=ADA, subject="Mine")
    article = desk.publish_article(title="VPN", body="Use vpn2", by="alice")
    for problems in (["T-404"], [secret.id]):
        with pytest.raises(AccessDenied):
            desk.update_article(article.id, by="ada", problems=problems)
    with pytest.raises(AccessDenied):
        desk.link(secret.id, kind="caused_by", other="T-404", by="ada")
