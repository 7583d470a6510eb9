"""``SimilarityIndex.query(hidden_tickets=...)``: no match names a ticket its reader may
not view. A hidden ticket is not offered, and a reason never names a hidden problem (the
match it explains stays, scored as before, its reason reads ``same problem`` without
that id), as ``desk.similar(as_=...)`` does."""

from __future__ import annotations

import re
from typing import Any

import pytest
from attrs import evolve
from hypothesis import given, settings
from hypothesis import strategies as st
from test_similar import ticket

from helpdesk_core.errors import ValidationError
from helpdesk_core.knowledge import Match, SimilarityIndex
from helpdesk_core.model import Link, LinkKind, Ticket
from helpdesk_core.privacy import visible_events


def _caused_by(t: Ticket, *problems: str) -> Ticket:
    return evolve(t, links=tuple(Link(kind=LinkKind.CAUSED_BY, other=p) for p in problems))


def _index() -> SimilarityIndex:
    """Problems P-1 and P-2 (solved), a solved incident of both, an article about P-1."""
    index = SimilarityIndex()
    index.add(ticket("P-1", "VPN gateway drops sessions"))
    index.add(ticket("P-2", "Firewall drops VPN"))
    index.add(_caused_by(ticket("T-1", "VPN drops at home"), "P-1", "P-2"))
    index.add_document("KB-1", "VPN drops", "Use vpn2", problems=["P-1"], kind="article")
    return index


def _names(value: Any, ticket_id: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(ticket_id)}(?![\w-])", repr(value)) is not None


def test_the_reasons_name_only_the_problems_not_hidden() -> None:
    index = _index()
    asked = _caused_by(ticket("Q", "VPN drops again", solved=False), "P-1", "P-2")
    every = {m.id: m for m in index.query(asked, limit=10)}
    assert "same problem 'P-1', 'P-2'" in every["T-1"].reasons

    seen = {m.id: m for m in index.query(asked, limit=10, hidden_tickets=["P-1"])}
    assert set(seen) == {"P-2", "T-1", "KB-1"}  # P-1 itself is not offered
    assert "same problem 'P-2'" in seen["T-1"].reasons
    assert "same problem" in seen["KB-1"].reasons  # about P-1 only: without the id
    for match_id, match in seen.items():
        assert match.score == every[match_id].score  # scored as before
        assert not _names(match, "P-1")

    hidden = {m.id: m for m in index.query(asked, limit=10, hidden_tickets={"P-1", "P-2"})}
    assert set(hidden) == {"T-1", "KB-1"}
    assert "same problem" in hidden["T-1"].reasons
    assert not any(_names(hidden, p) for p in ("P-1", "P-2"))


def test_the_limit_counts_the_matches_offered() -> None:
    index = SimilarityIndex()
    for i in range(5):
        index.add(ticket(f"T-{i}", "printer jam"))
    asked = ticket("Q", "printer jam", solved=False)
    assert [m.id for m in index.query(asked, limit=2, hidden_tickets=("T-0", "T-1"))] == [
        "T-2",
        "T-3",
    ]


def test_a_document_with_a_hidden_tickets_id_is_offered() -> None:
    """Hidden tickets are tickets: a document whose id is one of theirs stays."""
    index = SimilarityIndex()
    index.add(ticket("X-1", "printer jam"))
    index.add_document("X-2", "Printer jam", "Open tray 2")
    asked = ticket("Q", "printer jam", solved=False)
    assert [m.id for m in index.query(asked, hidden_tickets=["X-1", "X-2"])] == ["X-2"]


@pytest.mark.parametrize(
    "bad",
    ["P-1", b"P-1", {"P-1": True}, 3, None, ["P-1", ""], ["P-1", 7], [None]],
)
def test_hidden_tickets_are_validated_as_visible_events_validates_them(bad: Any) -> None:
    """A list of non-empty ids (one id alone is refused: it would be read as its
    characters), refused with the same message as ``visible_events`` gives."""
    asked = ticket("Q", "printer jam", solved=False)
    with pytest.raises(ValidationError) as error:
        _index().query(asked, hidden_tickets=bad)
    with pytest.raises(ValidationError) as same:
        visible_events([], role=None, hidden_tickets=bad)
    assert error.value.field == "hidden_tickets"
    assert str(error.value) == str(same.value)


_IDS = [f"T-{i}" for i in range(6)]


@settings(max_examples=50, deadline=None)
@given(
    links=st.lists(st.sets(st.sampled_from(_IDS), max_size=3), min_size=6, max_size=6),
    asked_links=st.sets(st.sampled_from(_IDS), max_size=3),
    hidden=st.sets(st.sampled_from([*_IDS, "KB-1", "nowhere"]), max_size=6),
    limit=st.integers(1, 8),
)
def test_hiding_leaves_out_the_hidden_tickets_and_their_names_only(
    links: list[set[str]], asked_links: set[str], hidden: set[str], limit: int
) -> None:
    """The matches with ``hidden_tickets`` are those without, less the hidden tickets, in
    the same order with the same scores; their reasons differ only by the hidden ids
    left out of ``same problem``; none names a hidden ticket."""
    index = SimilarityIndex()
    for i, (ticket_id, problems) in enumerate(zip(_IDS, links, strict=True)):
        index.add(_caused_by(ticket(ticket_id, f"vpn drops {i}", category="net"), *problems))
    index.add_document("KB-1", "vpn", "drops", problems=sorted(asked_links), kind="article")
    asked = _caused_by(ticket("Q", "vpn drops", category="net", solved=False), *asked_links)
    every = index.query(asked, limit=len(index))
    kept = [m for m in every if not (m.kind == "ticket" and m.id in hidden)][:limit]
    found = index.query(asked, limit=limit, hidden_tickets=hidden)
    assert [(m.id, m.kind, m.score) for m in found] == [(m.id, m.kind, m.score) for m in kept]
    for match, before in zip(found, kept, strict=True):
        assert match.reasons == tuple(_unnamed(r, hidden) for r in before.reasons)
        assert not any(_names(match.reasons, h) for h in hidden)


def _unnamed(reason: str, hidden: set[str]) -> str:
    if not reason.startswith("same problem "):
        return reason
    named = [p for p in re.findall(r"'([^']*)'", reason) if p not in hidden]
    return f"same problem {', '.join(repr(p) for p in named)}" if named else "same problem"


def test_without_hidden_tickets_every_match_is_as_before() -> None:
    index = _index()
    asked = _caused_by(ticket("Q", "VPN drops again", solved=False), "P-1")
    assert index.query(asked, limit=10) == index.query(asked, limit=10, hidden_tickets=())
    assert all(isinstance(m, Match) for m in index.query(asked))
