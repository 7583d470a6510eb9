"""The round-robin cursors a Helpdesk keeps per team and tier: one per pair, whatever
the ids hold, and a desk that stored cursors under the earlier keys keeps its turns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester
from helpdesk_core.service._cursors import earlier_round_robin_key, round_robin_key
from helpdesk_core.storage import Store

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ADA = Requester(id="ada", name="Ada")


def _config(pairs: list[tuple[str, str, list[str]]]) -> DeskConfig:
    """A desk whose tickets go, by the first word of their subject, to a team and tier
    (``pairs``: team, tier, the agents of that team in that tier)."""
    teams = list(dict.fromkeys(team for team, _, _ in pairs))
    tiers = list(dict.fromkeys(tier for _, tier, _ in pairs))
    document: dict[str, Any] = {
        "tiers": [{"id": tier, "teams": [teams[0]]} for tier in tiers],
        "teams": [{"id": team} for team in teams],
        "agents": [
            {"id": agent, "teams": [team], "tier": tier, "capacity": 100}
            for team, tier, agents in pairs
            for agent in agents
        ],
        "routing": [
            {
                "name": f"to-{n}",
                "when": {"field": "subject", "op": "contains", "value": f"route-{n} "},
                "actions": {"team": team, "tier": tier},
            }
            for n, (team, tier, _) in enumerate(pairs)
        ],
        "assignment": {"strategy": "round_robin"},
    }
    return DeskConfig.from_dict(document)


def _assignees(desk: Helpdesk, routes: list[int]) -> list[str | None]:
    return [
        desk.open(requester=ADA, subject=f"route-{n} ticket {i}").assignee
        for i, n in enumerate(routes)
    ]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # "round_robin:a:b:c" both: team "a:b" in tier "c", team "a" in tier "b:c"
        (("a:b", "c"), ("a", "b:c")),
        (("a", "b:c"), ("a:b", "c")),
    ],
)
def test_teams_and_tiers_whose_ids_hold_colons_take_turns_apart(
    first: tuple[str, str], second: tuple[str, str]
) -> None:
    config = _config([(*first, ["x1", "x2"]), (*second, ["y1", "y2", "y3"])])
    desk = Helpdesk(config, MemoryStore(), ManualClock(T0))
    assert _assignees(desk, [0, 1, 0, 1, 0, 1]) == ["x1", "y1", "x2", "y2", "x1", "y3"]


def test_a_team_and_tier_of_the_longest_ids_take_turns() -> None:
    team, tier = "t" * 200, "L" * 200
    desk = Helpdesk(_config([(team, tier, ["x1", "x2"])]), MemoryStore(), ManualClock(T0))
    assert _assignees(desk, [0, 0, 0]) == ["x1", "x2", "x1"]


def _turn_after_x1(team: str, tier: str) -> int:
    """The cursor a desk keeps after giving x1 a ticket of ``team`` in ``tier``."""
    store = MemoryStore()
    desk = Helpdesk(_config([(team, tier, ["x1", "x2"])]), store, ManualClock(T0))
    assert _assignees(desk, [0]) == ["x1"]
    return store.get_cursor(round_robin_key(team, tier))


def test_a_turn_stored_under_the_earlier_key_goes_on_while_that_key_names_one_pair() -> None:
    # Before, team "a:b" in tier "c" kept its turn at "round_robin:a:b:c"; this desk has
    # no team "a" with a tier "b:c" (nor team "a:b:c"), so that key was its own.
    turn = _turn_after_x1("a:b", "c")
    store: Store = MemoryStore()
    store.set_cursor("round_robin:a:b:c", turn)
    desk = Helpdesk(_config([("a:b", "c", ["x1", "x2"])]), store, ManualClock(T0))
    assert _assignees(desk, [0, 0, 0]) == ["x2", "x1", "x2"]
    assert store.get_cursor(round_robin_key("a:b", "c")) != 0


def test_a_turn_stored_under_the_earlier_key_of_two_pairs_is_not_taken() -> None:
    turn = _turn_after_x1("a:b", "c")
    store: Store = MemoryStore()
    store.set_cursor("round_robin:a:b:c", turn)
    config = _config([("a:b", "c", ["x1", "x2"]), ("a", "b:c", ["y1", "y2"])])
    desk = Helpdesk(config, store, ManualClock(T0))
    # Whose turn it was cannot be told: both pairs start from the beginning.
    assert _assignees(desk, [0, 1, 0, 1]) == ["x1", "y1", "x2", "y2"]


def test_teams_and_tiers_without_colons_keep_their_keys() -> None:
    turn = _turn_after_x1("desk", "L1")
    assert round_robin_key("desk", "L1") == "round_robin:desk:L1"
    assert round_robin_key("desk", None) == "round_robin:desk"
    store: Store = MemoryStore()
    store.set_cursor("round_robin:desk:L1", turn)
    desk = Helpdesk(_config([("desk", "L1", ["x1", "x2"])]), store, ManualClock(T0))
    assert _assignees(desk, [0, 0]) == ["x2", "x1"]


ids = st.text(alphabet="aN:one", min_size=1, max_size=6)
pairs = st.tuples(st.none() | ids, st.none() | ids)


@given(first=pairs, second=pairs)
def test_every_team_and_tier_has_its_own_key(
    first: tuple[str | None, str | None], second: tuple[str | None, str | None]
) -> None:
    assume(first != second)
    assert round_robin_key(*first) != round_robin_key(*second)


@given(
    team=st.none() | st.text(alphabet="a:", min_size=1, max_size=200),
    tier=st.none() | st.text(alphabet="a:", min_size=1, max_size=200),
)
def test_every_key_is_one_a_store_keeps(team: str | None, tier: str | None) -> None:
    assert 0 < len(round_robin_key(team, tier)) <= 200


def test_an_earlier_key_is_read_only_when_it_named_the_pair_alone() -> None:
    teams, tiers = {"a", "a:b", "None"}, {"b", "c", "b:c"}
    assert earlier_round_robin_key("a:b", "c", teams=teams, tiers=tiers) is None  # a, b:c
    assert earlier_round_robin_key("a:b", None, teams=teams, tiers=tiers) is None  # a, b
    assert earlier_round_robin_key("a", "b:c", teams={"a"}, tiers=tiers) == "round_robin:a:b:c"
    assert earlier_round_robin_key("a", "b", teams=teams, tiers=tiers) is None  # unchanged key
    assert earlier_round_robin_key(None, "c", teams={"a"}, tiers=tiers) == "round_robin:None:c"
    assert earlier_round_robin_key(None, "c", teams={"None"}, tiers=tiers) is None
    assert earlier_round_robin_key("t" * 190, "L" * 20, teams=teams, tiers=tiers) is None
