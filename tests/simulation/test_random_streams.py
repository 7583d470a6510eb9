"""Common random numbers: what a variant leaves alone is drawn the same way.

Each source of chance has a stream of its own derived from the seed, so two runs with the
same seed that differ in one thing (the mix, the requester population, the intake
questions, a tier's work times) see the same arrival instants and differ only where the
change reaches.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import helpdesk_core
from helpdesk_core.model import TicketOpened
from helpdesk_core.simulation import Scenario, SimulationResult, simulate

DATA = Path(helpdesk_core.__file__).parent / "data"


def _it_desk(days: float = 3.0) -> dict[str, Any]:
    """The bundled IT desk's scenario as a document with the desk inline (so a test can
    change its intake questions), ``days`` long without a warm-up."""
    doc = tomllib.loads((DATA / "it_desk_scenario.toml").read_text())
    doc["desk"] = tomllib.loads((DATA / "it_desk.toml").read_text())
    doc["simulation"].update(days=days, warmup_days=0)
    return doc


def _openings(result: SimulationResult) -> list[TicketOpened]:
    return [e for e in result.events if isinstance(e, TicketOpened)]


def _instants(result: SimulationResult) -> list[Any]:
    return [e.at for e in _openings(result)]


def _mix(result: SimulationResult) -> list[tuple[str, str | None, str, str]]:
    return [
        (e.channel.value, e.category, e.impact.value, e.urgency.value) for e in _openings(result)
    ]


def _requesters(result: SimulationResult) -> list[str]:
    return [e.requester for e in _openings(result)]


def _answers(result: SimulationResult) -> list[dict[str, object]]:
    return [dict(e.fields) for e in _openings(result)]


def _run(doc: dict[str, Any], seed: int = 4) -> SimulationResult:
    return simulate(Scenario.from_dict(doc), seed=seed)


def test_a_different_mix_sees_the_same_arrivals_and_requesters() -> None:
    base_doc = _it_desk()
    base = _run(base_doc)
    assert len(_openings(base)) > 100
    doc = copy.deepcopy(base_doc)
    doc["arrivals"]["categories"] = {
        "general": 0.1, "network": 0.5, "hardware": 0.1, "access": 0.2, "software": 0.1,
    }  # fmt: skip
    doc["arrivals"]["channels"] = {"email": 0.1, "web": 0.1, "phone": 0.7, "chat": 0.1}
    variant = _run(doc)
    assert _instants(variant) == _instants(base)
    assert _requesters(variant) == _requesters(base)
    # impact and urgency, which the variant did not change, are drawn the same way
    assert [m[2:] for m in _mix(variant)] == [m[2:] for m in _mix(base)]
    assert [m[:2] for m in _mix(variant)] != [m[:2] for m in _mix(base)]


def test_a_different_requester_count_sees_the_same_arrivals_and_mix() -> None:
    base_doc = _it_desk()
    base = _run(base_doc)
    doc = copy.deepcopy(base_doc)
    doc["requesters"]["count"] = 37
    variant = _run(doc)
    assert _instants(variant) == _instants(base)
    assert _mix(variant) == _mix(base)
    assert _requesters(variant) != _requesters(base)
    assert all(int(r.removeprefix("R-")) <= 37 for r in _requesters(variant))


def test_different_intake_questions_see_the_same_arrivals_mix_and_requesters() -> None:
    base_doc = _it_desk()
    base = _run(base_doc)
    doc = copy.deepcopy(base_doc)
    # software gets two optional questions, network loses its choice
    doc["desk"]["categories"]["software"]["questions"] = [
        {"name": "application", "type": "text", "prompt": "Which application?"},
        {"name": "version", "type": "text", "prompt": "Which version?"},
    ]
    doc["desk"]["categories"]["network"]["questions"] = doc["desk"]["categories"]["network"][
        "questions"
    ][:1]
    variant = _run(doc)
    assert _instants(variant) == _instants(base)
    assert _mix(variant) == _mix(base)
    assert _requesters(variant) == _requesters(base)
    # hardware's questions did not change: its tickets answer them the same way
    def hardware(result: SimulationResult) -> list[dict[str, object]]:
        return [
            a for a, m in zip(_answers(result), _mix(result), strict=True) if m[1] == "hardware"
        ]

    assert hardware(variant) == hardware(base)
    assert any("application" in a for a in _answers(variant))


def test_a_different_work_distribution_leaves_arrivals_mix_and_requesters_alone() -> None:
    base_doc = _it_desk()
    base = _run(base_doc)
    doc = copy.deepcopy(base_doc)
    doc["tiers"]["L2"]["work"] = {"kind": "fixed", "value": "15m"}
    doc["tiers"]["L2"]["work_by_category"] = {}
    variant = _run(doc)
    assert _instants(variant) == _instants(base)
    assert _mix(variant) == _mix(base)
    assert _requesters(variant) == _requesters(base)
    assert _answers(variant) == _answers(base)
    assert [s.seconds for s in variant.work if s.tier == "L2"] != [
        s.seconds for s in base.work if s.tier == "L2"
    ]
    # and L1, which did not change, works every ticket it opens with the same draws
    def first_l1(result: SimulationResult) -> dict[str, float]:
        out: dict[str, float] = {}
        for session in result.work:
            if session.tier == "L1":
                out.setdefault(session.ticket_id, session.seconds)
        return out

    assert first_l1(variant) == first_l1(base)


def _small(categories: dict[str, float], requesters: int) -> dict[str, Any]:
    return {
        "desk": {
            "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
            "tiers": [{"id": "L1", "teams": ["q"]}],
            "teams": [{"id": "q"}],
            "agents": [{"id": "a", "tier": "L1", "teams": ["q"], "capacity": 1}],
            "categories": {
                "network": {
                    "on_missing": "ask",
                    "questions": [{"name": "where", "type": "text", "prompt": "Where?"}],
                },
            },
        },
        "simulation": {"start": "2026-01-05T00:00:00+00:00", "days": 1, "warmup_days": 0},
        "arrivals": {"rate_per_hour": 3, "categories": categories},
        "tiers": {"L1": {"work": "15m"}},
        "requesters": {"count": requesters},
    }


_weights = st.dictionaries(
    st.sampled_from(["general", "network", "printing"]),
    st.floats(min_value=0.01, max_value=1.0),
    min_size=1,
)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**40),
    categories=_weights,
    requesters=st.integers(min_value=1, max_value=10_000),
)
def test_arrival_instants_depend_on_the_seed_alone(
    seed: int, categories: dict[str, float], requesters: int
) -> None:
    """For any seed, any category mix and any requester count the tickets arrive at the
    same instants as the plain scenario's."""
    plain = _run(_small({"general": 1.0}, 50), seed=seed)
    variant = _run(_small(categories, requesters), seed=seed)
    assert _instants(variant) == _instants(plain)


def test_same_seed_same_run_different_seeds_differ() -> None:
    doc = _it_desk(days=2.0)
    one, two, other = _run(doc, seed=9), _run(doc, seed=9), _run(doc, seed=10)
    assert one.events == two.events and one.work == two.work
    assert _instants(one) != _instants(other)
    assert _mix(one) != _mix(other)
    assert _requesters(one) != _requesters(other)
