"""Reopening a problem ticket undoes what its solve did to its known error: the record the
solve resolved is live again, in the status it had before (an event, recorded with the
reopen), and is listed in the known-error view again. A record resolved otherwise (by
hand while the problem was worked, or recorded as resolved on the solved problem) stays
resolved."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from attrs import evolve
from hypothesis import given, settings
from hypothesis import strategies as st
from knowledge_fixtures import StoreFactory, make_desk

from helpdesk_core import (
    DeskConfig,
    Helpdesk,
    ManualClock,
    MemoryStore,
    Requester,
    ValidationError,
)
from helpdesk_core.knowledge import (
    KnownError,
    KnownErrorStatus,
    KnownErrorUpdated,
    reopen_known_error,
)
from helpdesk_core.model import Actor, StatusChanged, replay
from helpdesk_core.storage.codecs import decode_ticket, encode_ticket
from helpdesk_core.workflow import Lifecycle

ADA = Requester(id="ada", name="Ada Lovelace", organization="acme")
LIVE = (KnownErrorStatus.INVESTIGATING, KnownErrorStatus.KNOWN_ERROR)


def _problem(desk: Helpdesk) -> str:
    problem = desk.open(requester=ADA, subject="VPN gateway drops sessions", type="problem")
    desk.reply(problem.id, author="alice", body="We are on it.")
    return problem.id


def _status(desk: Helpdesk, problem: str) -> KnownErrorStatus:
    record = desk.get(problem).known_error
    assert record is not None
    return record.status


@pytest.mark.parametrize("before", LIVE)
def test_reopening_the_problem_brings_its_known_error_back(
    make_store: StoreFactory, before: KnownErrorStatus
) -> None:
    desk, clock = make_desk(make_store())
    problem = _problem(desk)
    # investigating with a workaround already: the reopen restores the status, not a guess
    desk.record_known_error(
        problem, symptom="VPN drops", workaround="vpn2", status=before, by="alice"
    )
    desk.solve(problem, by="alice", resolution="Firmware 2.1")
    assert _status(desk, problem) is KnownErrorStatus.RESOLVED
    assert desk.known_errors() == []
    clock.advance(hours=3)

    reopened = desk.reopen(problem, by="root", reason="Drops again since the upgrade")
    assert reopened.known_error is not None
    assert reopened.known_error.status is before
    assert reopened.known_error.workaround == "vpn2"
    moved, restored = desk.history(problem)[-2:]
    assert isinstance(moved, StatusChanged) and moved.to_status == "open"
    assert isinstance(restored, KnownErrorUpdated)
    assert (restored.status, restored.by, restored.at) == (before, Actor.agent("root"), moved.at)
    assert (restored.symptom, restored.workaround, restored.root_cause) == (None, None, None)
    assert [(e.problem, e.status) for e in desk.known_errors()] == [(problem, before)]
    assert replay(desk.history(problem)) == desk.get(problem) == reopened
    assert desk.store.load(problem) == reopened

    # Solved and reopened again: the same once more.
    desk.solve(problem, by="alice", resolution="Firmware 2.2")
    assert _status(desk, problem) is KnownErrorStatus.RESOLVED
    desk.reopen(problem, by="alice", reason="Still dropping")
    assert _status(desk, problem) is before


def test_a_known_error_resolved_by_hand_stays_resolved(make_store: StoreFactory) -> None:
    desk, _ = make_desk(make_store())
    problem = _problem(desk)
    desk.record_known_error(problem, symptom="drops", root_cause="rule 17", by="alice")
    desk.update_known_error(problem, status="resolved", by="alice")  # fixed for good
    desk.solve(problem, by="alice", resolution="Rule 17 removed")
    version = desk.get(problem).version
    desk.reopen(problem, by="alice", reason="A new question came up")
    assert _status(desk, problem) is KnownErrorStatus.RESOLVED
    assert not any(isinstance(e, KnownErrorUpdated) for e in desk.history(problem)[version:])

    # Recorded as resolved on the solved problem: nothing to bring back either.
    other = _problem(desk)
    desk.solve(other, by="alice", resolution="Patched")
    desk.record_known_error(other, symptom="drops", status="resolved", by="alice")
    desk.reopen(other, by="alice", reason="Again")
    assert _status(desk, other) is KnownErrorStatus.RESOLVED


def test_a_known_error_whose_documentation_went_comes_back_investigating(
    make_store: StoreFactory,
) -> None:
    """The status known_error needs a root cause or a workaround: one emptied while the
    problem was solved brings the record back as investigating."""
    desk, _ = make_desk(make_store())
    problem = _problem(desk)
    desk.record_known_error(
        problem, symptom="drops", workaround="vpn2", status="known_error", by="alice"
    )
    desk.solve(problem, by="alice", resolution="Gateway replaced")
    desk.update_known_error(problem, workaround="", by="alice")  # no longer needed
    desk.reopen(problem, by="alice", reason="Drops again")
    assert _status(desk, problem) is KnownErrorStatus.INVESTIGATING


def test_a_requesters_reopen_brings_it_back_out_of_their_sight(make_store: StoreFactory) -> None:
    desk, _ = make_desk(make_store())
    problem = _problem(desk)
    desk.record_known_error(problem, symptom="drops", workaround="vpn2", by="alice")
    desk.solve(problem, by="alice", resolution="Firmware 2.1")
    seen = desk.reopen(problem, by="ada", reason="Still dropping")
    assert seen.status == "open" and seen.known_error is None  # theirs is the agents' view
    assert _status(desk, problem) is KnownErrorStatus.INVESTIGATING
    last = desk.history(problem)[-1]
    assert isinstance(last, KnownErrorUpdated) and last.by == Actor.requester("ada")
    assert not any(isinstance(e, KnownErrorUpdated) for e in desk.history(problem, as_="ada"))


def test_a_reopen_on_the_requesters_reply_brings_it_back_too() -> None:
    lifecycle = Lifecycle.default().to_dict()
    lifecycle.pop("name")
    for transition in lifecycle["transitions"]:
        if transition["name"] == "reopen":
            transition["automatic"] = "requester_public_reply"
    config = DeskConfig.from_dict(
        {
            "agents": [{"id": "alice", "teams": ["service-desk"]}],
            "lifecycles": {"reopen_on_reply": lifecycle},
            "ticket_types": {"problem": {"lifecycle": "reopen_on_reply"}},
        }
    )
    desk = Helpdesk(config, MemoryStore(), ManualClock(datetime(2026, 5, 4, 9, tzinfo=UTC)))
    problem = _problem(desk)
    desk.record_known_error(problem, symptom="drops", root_cause="rule 17", by="alice",
                            status="known_error")  # fmt: skip
    desk.solve(problem, by="alice", resolution="Rule 17 removed")
    replied = desk.reply(problem, author="ada", body="It drops again")
    assert replied.status == "open"
    assert _status(desk, problem) is KnownErrorStatus.KNOWN_ERROR


_STEPS = st.lists(
    st.sampled_from(["solve", "reopen", "resolve", "investigate", "document", "forget"]),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(start=st.sampled_from(list(KnownErrorStatus)), steps=_STEPS)
def test_a_reopen_undoes_exactly_what_the_solve_did(
    start: KnownErrorStatus, steps: list[str]
) -> None:
    """Over any run of solves, reopens and edits of the record: a reopen leaves the
    record as it was before the solve (the texts as edited since), unless the status
    known_error lost its documentation meanwhile (then investigating); the snapshot is
    always the replay of the history."""
    desk, _ = make_desk(MemoryStore())
    problem = _problem(desk)
    desk.record_known_error(problem, symptom="drops", workaround="vpn2", status=start,
                            by="alice")  # fmt: skip
    before_solve: KnownErrorStatus | None = None
    for step in steps:
        ticket = desk.get(problem)
        record = ticket.known_error
        assert record is not None
        if step == "solve" and ticket.is_active:
            before_solve = record.status
            desk.solve(problem, by="alice", resolution="fixed")
            assert _status(desk, problem) is KnownErrorStatus.RESOLVED
        elif step == "reopen" and not ticket.is_active:
            desk.reopen(problem, by="alice", reason="back")
            expected = before_solve
            if expected is KnownErrorStatus.KNOWN_ERROR and not (
                record.workaround or record.root_cause
            ):
                expected = KnownErrorStatus.INVESTIGATING
            assert _status(desk, problem) is expected
        elif step == "resolve" and ticket.is_active:
            desk.update_known_error(problem, status="resolved", by="alice")
        elif step == "investigate" and ticket.is_active:
            desk.update_known_error(problem, status="investigating", by="alice")
        elif step == "document":
            desk.update_known_error(problem, workaround="vpn2", by="alice")
        elif step == "forget" and record.status is not KnownErrorStatus.KNOWN_ERROR:
            desk.update_known_error(problem, workaround="", by="alice")
        assert replay(desk.history(problem)) == desk.get(problem)


def test_resolved_from_belongs_to_a_resolved_record_only() -> None:
    at = datetime(2026, 5, 4, 9, tzinfo=UTC)
    parts: dict[str, Any] = {"symptom": "drops", "recorded_at": at, "updated_at": at}
    record = KnownError(status="resolved", resolved_from="known_error", **parts)
    assert record.resolved_from is KnownErrorStatus.KNOWN_ERROR
    with pytest.raises(ValidationError) as caught:
        KnownError(status="investigating", resolved_from="known_error", **parts)
    assert caught.value.field == "resolved_from"
    with pytest.raises(ValidationError) as caught:
        KnownError(status="resolved", resolved_from="resolved", **parts)
    assert caught.value.field == "resolved_from"
    with pytest.raises(ValidationError):
        KnownError(status="resolved", resolved_from="fixed", **parts)


def test_a_snapshot_written_before_resolved_from_reads_as_none() -> None:
    desk, _ = make_desk(MemoryStore())
    problem = _problem(desk)
    desk.record_known_error(problem, symptom="drops", workaround="vpn2", by="alice")
    solved = desk.solve(problem, by="alice", resolution="Firmware 2.1")
    assert solved.known_error is not None
    assert solved.known_error.resolved_from is KnownErrorStatus.INVESTIGATING
    assert decode_ticket(encode_ticket(solved)) == solved
    older = json.loads(encode_ticket(solved))
    del older["known_error"]["resolved_from"]
    read = decode_ticket(json.dumps(older))
    assert read.known_error == evolve(solved.known_error, resolved_from=None)
    # Nothing tells what the solve resolved it from: the reopen leaves it resolved.
    assert reopen_known_error(evolve(read, status="open", status_category="open"),
                              by=Actor.agent("alice"), now=read.updated_at) is None  # fmt: skip
