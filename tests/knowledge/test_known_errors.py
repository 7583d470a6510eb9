"""Known errors on problem tickets through the facade: recorded and updated as events,
folded by replay, listed in the known-error view, resolved with the problem, anonymised
with the ticket, and stored by every store."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs
import pytest
from knowledge_fixtures import StoreFactory, make_desk

from helpdesk_core import AccessDenied, Helpdesk, Requester, ValidationError
from helpdesk_core.codec import event_from_dict, event_to_dict
from helpdesk_core.knowledge import (
    KnownError,
    KnownErrorRecorded,
    KnownErrorStatus,
    KnownErrorUpdated,
    known_error_entries,
)
from helpdesk_core.model import ANONYMISED, Actor, replay
from helpdesk_core.privacy import anonymise_event
from helpdesk_core.storage import TicketQuery
from helpdesk_core.storage.codecs import decode_event, encode_event

ADA = Requester(id="ada", name="Ada Lovelace", organization="acme")


def _problem(desk: Helpdesk, subject: str = "VPN gateway drops sessions") -> str:
    return desk.open(requester=ADA, subject=subject, type="problem", by="alice").id


def test_the_known_error_lifecycle_is_events_folded_into_the_problem(
    make_store: StoreFactory,
) -> None:
    desk, clock = make_desk(make_store())
    problem = _problem(desk)
    recorded = desk.record_known_error(problem, symptom="VPN drops every 10 minutes", by="alice")
    record = recorded.known_error
    assert record == KnownError(
        status=KnownErrorStatus.INVESTIGATING,
        symptom="VPN drops every 10 minutes",
        recorded_at=clock.now(),
        updated_at=clock.now(),
    )
    clock.advance(hours=2)
    updated = desk.update_known_error(
        problem,
        by="root",
        workaround="Connect to the backup gateway vpn2",
        status="known_error",
        symptom="VPN drops every 10 minutes",  # unchanged: not recorded again
    )
    assert updated.known_error == KnownError(
        status=KnownErrorStatus.KNOWN_ERROR,
        symptom="VPN drops every 10 minutes",
        workaround="Connect to the backup gateway vpn2",
        recorded_at=record.recorded_at,
        updated_at=clock.now(),
    )
    history = desk.history(problem)
    assert isinstance(history[-1], KnownErrorUpdated)
    assert history[-1].symptom is None  # only what changed
    assert history[-1].by == Actor.agent("root")
    assert isinstance(history[-2], KnownErrorRecorded)
    assert replay(history) == desk.get(problem) == updated
    # Nothing changes: nothing is recorded.
    same = desk.update_known_error(problem, by="alice", status="known_error")
    assert same.version == updated.version
    # A second store handle reads the same record back.
    assert desk.store.load(problem).known_error == updated.known_error


def test_bad_known_errors_are_refused_with_the_part_named(make_store: StoreFactory) -> None:
    desk, _ = make_desk(make_store())
    problem = _problem(desk)
    incident = desk.open(requester=ADA, subject="VPN drops")
    with pytest.raises(ValidationError, match="'problem' tickets") as error:
        desk.record_known_error(incident.id, symptom="drops", by="alice")
    assert error.value.field == "ticket_id"
    with pytest.raises(ValidationError) as error:
        desk.record_known_error(problem, symptom="  ", by="alice")
    assert error.value.field == "symptom"
    with pytest.raises(ValidationError, match="root cause or a workaround"):
        desk.record_known_error(problem, symptom="drops", status="known_error", by="alice")
    with pytest.raises(ValidationError) as error:
        desk.record_known_error(problem, symptom="drops", status="fixed", by="alice")
    assert error.value.field == "status"
    with pytest.raises(ValidationError, match="no known-error record"):
        desk.update_known_error(problem, workaround="reboot", by="alice")
    with pytest.raises(ValidationError) as error:
        desk.record_known_error(problem, symptom="x" * 100_001, by="alice")
    assert error.value.field == "symptom"
    desk.record_known_error(problem, symptom="drops", root_cause="firmware bug", by="alice")
    with pytest.raises(ValidationError, match="already"):
        desk.record_known_error(problem, symptom="again", by="alice")
    with pytest.raises(ValidationError, match="root cause or a workaround"):
        desk.update_known_error(problem, root_cause="", status="known_error", by="alice")
    with pytest.raises(AccessDenied):
        desk.update_known_error(problem, workaround="reboot", by="ada")
    assert len(desk.history(problem)) == desk.get(problem).version


def test_the_known_error_view_lists_active_known_errors_with_their_incidents(
    make_store: StoreFactory,
) -> None:
    desk, clock = make_desk(make_store())
    vpn = _problem(desk)
    mail = _problem(desk, "Mail queue stalls")
    plain = _problem(desk, "No record yet")
    desk.record_known_error(vpn, symptom="VPN drops", workaround="vpn2", by="alice")
    desk.record_known_error(mail, symptom="Mail is late", by="alice")
    for subject in ("VPN drops at home", "VPN drops again"):
        ticket = desk.open(requester=ADA, subject=subject)
        desk.link(ticket.id, kind="caused_by", other=vpn, by="alice")
    entries = desk.known_errors()
    assert [(e.problem, e.status, e.incidents) for e in entries] == [
        (vpn, KnownErrorStatus.INVESTIGATING, 2),
        (mail, KnownErrorStatus.INVESTIGATING, 0),
    ]
    assert entries[0].workaround == "vpn2"
    assert entries[0].subject == "VPN gateway drops sessions"
    assert plain not in {e.problem for e in entries}
    assert [t.subject for t in desk.incidents_of(vpn)] == ["VPN drops at home", "VPN drops again"]
    desk.update_known_error(mail, status="resolved", by="alice")
    assert [e.problem for e in desk.known_errors()] == [vpn]
    assert [e.problem for e in desk.known_errors(include_resolved=True)] == [vpn, mail]
    with pytest.raises(AccessDenied, match="for agents"):
        desk.known_errors(as_="ada")
    # bob works another team: tickets of the desk team are not his to see.
    assert desk.known_errors(as_="bob") == []
    assert [e.problem for e in desk.known_errors(as_="alice")] == [vpn]
    # Solving the problem resolves its known error: it leaves the view.
    desk.reply(vpn, author="alice", body="Firmware upgraded tonight.")
    clock.advance(minutes=5)
    solved = desk.solve(vpn, by="alice", resolution="Firmware 2.1 on the gateway")
    assert solved.known_error is not None
    assert solved.known_error.status is KnownErrorStatus.RESOLVED
    assert solved.known_error.workaround == "vpn2"
    last = desk.history(vpn)[-1]
    assert isinstance(last, KnownErrorUpdated)
    assert (last.status, last.by) == (KnownErrorStatus.RESOLVED, Actor.agent("alice"))
    assert desk.known_errors() == []


def test_the_view_and_the_incidents_count_only_tickets_the_identity_may_view(
    make_store: StoreFactory,
) -> None:
    """With as_, the known-error view counts, and incidents_of lists, only the incidents
    that identity may view: an agent does not learn how many tickets of other teams a
    problem causes, nor which of theirs a problem they may not view causes. Without an
    identity, and for admins, every incident counts."""
    desk, _ = make_desk(make_store())
    vpn = _problem(desk)
    desk.update(vpn, by="root", team="network")  # bob's team; alice's is the desk
    desk.record_known_error(vpn, symptom="VPN drops", by="root")
    ids = {}
    for name, team in (("desk-1", "desk"), ("desk-2", "desk"), ("network-1", "network")):
        ticket = desk.open(requester=ADA, subject=f"VPN drops ({name})")
        desk.update(ticket.id, by="root", team=team)
        desk.link(ticket.id, kind="caused_by", other=vpn, by="root")
        ids[name] = ticket.id
    assert [(e.problem, e.incidents) for e in desk.known_errors()] == [(vpn, 3)]
    assert [(e.problem, e.incidents) for e in desk.known_errors(as_="root")] == [(vpn, 3)]
    assert [(e.problem, e.incidents) for e in desk.known_errors(as_="bob")] == [(vpn, 1)]
    assert desk.known_errors(as_="alice") == []  # the problem is not hers to see
    assert [t.id for t in desk.incidents_of(vpn)] == list(ids.values())
    assert [t.id for t in desk.incidents_of(vpn, as_="root")] == list(ids.values())
    assert [t.id for t in desk.incidents_of(vpn, as_="bob")] == [ids["network-1"]]
    # The problem is not hers to see: which of her tickets it caused is not hers to learn.
    assert desk.incidents_of(vpn, as_="alice") == []
    assert desk.incidents_of(vpn, as_="gone") == []  # an inactive agent sees nothing
    with pytest.raises(AccessDenied, match="for agents"):
        desk.incidents_of(vpn, as_="ada")


def _close(desk: Helpdesk, ticket_id: str) -> None:
    desk.reply(ticket_id, author="root", body="Fixed on our side.")
    desk.solve(ticket_id, by="root", resolution="fixed")
    desk.close(ticket_id, by="root")


def _active_tickets(desk: Helpdesk) -> list[Any]:
    """Every active ticket, as the view read them before it read by type."""
    return list(desk.store.query(TicketQuery(active_only=True, limit=1000)).items)


def test_the_view_reads_the_problems_and_the_tickets_linking_to_them(
    make_store: StoreFactory,
) -> None:
    """Its result is what the view function gives over every active ticket (as the view
    read them before), but it reads the active problems and the active tickets linking to
    those with a listed known error only."""
    desk, clock = make_desk(make_store())
    vpn, mail, plain, solved, lab, chained = (
        _problem(desk, subject)
        for subject in ("VPN drops", "Mail stalls", "No record", "Printer", "Lab", "Chained")
    )
    for problem in (vpn, mail, solved, lab, chained):
        desk.record_known_error(problem, symptom=f"symptom of {problem}", by="root")
    desk.update_known_error(mail, status="resolved", by="root")
    desk.update(lab, by="root", team="network")
    _close(desk, solved)
    incidents = [desk.open(requester=ADA, subject=f"incident {n}").id for n in range(12)]
    for incident in incidents[:3]:
        desk.link(incident, kind="caused_by", other=vpn, by="root")
    desk.link(incidents[3], kind="follow_up_of", other=vpn, by="root")  # not an incident
    desk.link(incidents[4], kind="caused_by", other=mail, by="root")
    desk.link(incidents[5], kind="caused_by", other=lab, by="root")
    desk.link(chained, kind="caused_by", other=vpn, by="root")  # a problem behind a problem
    desk.link(incidents[6], kind="caused_by", other=solved, by="root")
    _close(desk, incidents[2])  # no longer counted
    clock.advance(minutes=5)

    read: list[str] = []
    query = desk.store.query

    def counted(q: TicketQuery) -> Any:
        page = query(q)
        read.extend(t.id for t in page.items)
        return page

    for include_resolved in (False, True):
        before = known_error_entries(_active_tickets(desk), include_resolved=include_resolved)
        desk.store.query = counted  # type: ignore[method-assign]
        try:
            read.clear()
            entries = desk.known_errors(include_resolved=include_resolved)
            assert entries == before
            # the five active problems, then the tickets linking to those listed
            linking = [*incidents[:2], incidents[3], incidents[5], chained]
            if include_resolved:
                linking.append(incidents[4])
            assert sorted(read) == sorted([vpn, mail, plain, lab, chained, *linking])
            assert set(incidents[7:]).isdisjoint(read)
            # alice works the desk team, bob the network team, where the lab problem is
            alice = desk.known_errors(include_resolved=include_resolved, as_="alice")
            assert alice == [e for e in before if e.problem != lab]
            bob = desk.known_errors(include_resolved=include_resolved, as_="bob")
            # the lab problem's one incident is the desk team's: bob counts none
            assert bob == [attrs.evolve(e, incidents=0) for e in before if e.problem == lab]
        finally:
            del desk.store.query
    assert [(e.problem, e.incidents) for e in desk.known_errors()] == [
        (vpn, 3), (lab, 1), (chained, 0)
    ]  # fmt: skip


def test_a_problem_changed_to_another_type_leaves_the_view(make_store: StoreFactory) -> None:
    # The view lists the known errors of problem tickets (the type that carries them,
    # which it reads by); a ticket changed to another type keeps its record but leaves the
    # view (the view read every active ticket, and listed it, before it read by type).
    desk, _ = make_desk(make_store())
    kept, retyped = _problem(desk), _problem(desk, "Mail stalls")
    for problem in (kept, retyped):
        desk.record_known_error(problem, symptom="drops", by="root")
    desk.update(retyped, by="root", type="incident")
    assert desk.get(retyped).known_error is not None
    assert [e.problem for e in desk.known_errors()] == [kept]
    desk.update(retyped, by="root", type="problem")
    assert [e.problem for e in desk.known_errors()] == [kept, retyped]


def test_the_view_function_counts_only_active_linked_tickets() -> None:
    from helpdesk_core.testing.conformance import T0, opened

    problem = replay([opened("P-1", 1, subject="Problem", type="problem")])
    record = KnownErrorRecorded(
        ticket_id="P-1",
        at=T0,
        by=Actor.agent("a"),
        status="known_error",
        symptom="s",
        workaround="w",
    )
    from helpdesk_core.model import apply_event

    problem = apply_event(problem, record)
    assert known_error_entries([problem])[0].incidents == 0
    assert known_error_entries([]) == []


def test_new_events_round_trip_through_the_codecs() -> None:
    from helpdesk_core.knowledge import LinkedProblemSolved
    from helpdesk_core.testing.conformance import T0

    events = [
        KnownErrorRecorded(
            ticket_id="P-1",
            at=T0,
            by=Actor.agent("a"),
            status="investigating",
            symptom="Straße \x00 'quotes'",
        ),
        KnownErrorUpdated(ticket_id="P-1", at=T0, by=Actor.agent("a"), workaround="w"),
        LinkedProblemSolved(
            ticket_id="T-1", at=T0, by=Actor.system("knowledge"), problem="P-1", outcome="solved"
        ),
    ]
    for event in events:
        data = event_to_dict(event)
        assert data["event"] == type(event).__name__
        assert event_from_dict(data) == event
        assert decode_event(encode_event(event)) == event
    assert event_to_dict(events[0])["status"] == "investigating"
    with pytest.raises(ValidationError):
        LinkedProblemSolved(
            ticket_id="T-1", at=T0, by=Actor.system(), problem="P-1", outcome="ignored"
        )


def test_anonymising_a_problem_rewrites_its_known_error(make_store: StoreFactory) -> None:
    desk, clock = make_desk(make_store())
    desk.upsert_requester(ADA)
    problem = _problem(desk, "Ada's VPN")
    desk.record_known_error(
        problem, symptom="Ada Lovelace cannot connect", workaround="call Ada", by="alice"
    )
    desk.update_known_error(problem, root_cause="Ada's router", by="alice")
    clock.advance(timedelta(days=1))
    desk.erase_requester("ada", by="root")
    ticket = desk.get(problem)
    assert ticket.known_error is not None
    assert (ticket.known_error.symptom, ticket.known_error.workaround) == (ANONYMISED,) * 2
    assert ticket.known_error.root_cause == ANONYMISED
    assert "lovelace" not in repr(desk.history(problem)).casefold()
    assert replay(desk.history(problem)) == ticket
    # Deleting instead of anonymising removes the text; unset fields stay unset.
    update = KnownErrorUpdated(ticket_id="P", at=clock.now(), by=Actor.agent("a"), symptom="s")
    deleted = anonymise_event(update, personal_fields=frozenset(), mode="delete")
    assert isinstance(deleted, KnownErrorUpdated)
    assert (deleted.symptom, deleted.workaround) == ("", None)
