"""Tests for helpdesk_core.simulation.erlang: published tables, an exact rational
cross-check, validation, stability rules and properties."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core.errors import ValidationError
from helpdesk_core.simulation import erlang
from helpdesk_core.simulation.erlang import (
    MAX_AGENTS,
    MAX_TRAFFIC,
    DurationLike,
    agents_required,
    average_speed_of_answer,
    erlang_b,
    occupancy,
    probability_wait_longer,
    service_level,
    traffic_intensity,
    wait_probability,
)

# --- an independent implementation: the closed formulas in exact rational arithmetic ----


def _poisson_terms(traffic: Fraction, agents: int) -> list[Fraction]:
    """A^k / k! for k = 0..agents, exactly."""
    terms = [Fraction(1)]
    for k in range(1, agents + 1):
        terms.append(terms[-1] * traffic / k)
    return terms


def exact_erlang_b(traffic: float, agents: int) -> Fraction:
    terms = _poisson_terms(Fraction(traffic), agents)
    return terms[agents] / sum(terms)


def exact_erlang_c(traffic: float, agents: int) -> Fraction:
    """C = (A^c/c! * c/(c-A)) / (sum_{k<c} A^k/k! + A^c/c! * c/(c-A))."""
    a = Fraction(traffic)
    assert agents > a
    terms = _poisson_terms(a, agents)
    top = terms[agents] * agents / (agents - a)
    return top / (sum(terms[:agents]) + top)


# --- published values ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("agents", "published"),
    [(11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741)],
)
def test_erlang_c_table_for_ten_erlangs(agents: int, published: float) -> None:
    value = wait_probability(10.0, agents)
    assert round(value, 4) == published
    assert value == pytest.approx(float(exact_erlang_c(10.0, agents)), rel=1e-12)


def test_textbook_two_erlangs_three_agents() -> None:
    # A = 2, c = 3: C = 4/9.
    assert wait_probability(2.0, 3) == pytest.approx(4 / 9, rel=1e-14)
    assert wait_probability(2, 3) == pytest.approx(4 / 9, rel=1e-14)
    # ASA = C * aht / (c - A) = 4/9 * 60 s.
    asa = average_speed_of_answer(2.0, 3, aht=60)
    assert asa.total_seconds() == pytest.approx(4 / 9 * 60, abs=1e-6)


@pytest.mark.parametrize(
    ("traffic", "agents", "published"),
    # Erlang B table: offered traffic giving 1% / 2% blocking.
    [(4.461, 10, 0.01), (12.031, 20, 0.01), (5.084, 10, 0.02), (1.0, 1, 0.5)],
)
def test_erlang_b_table(traffic: float, agents: int, published: float) -> None:
    assert erlang_b(traffic, agents) == pytest.approx(published, abs=5e-6)


@pytest.mark.parametrize("traffic", [0.1, 0.5, 0.9, 0.999])
def test_single_agent_is_mm1(traffic: float) -> None:
    # M/M/1: P(wait) = rho, Wq = rho * aht / (1 - rho), blocking of M/M/1/1 = A / (1 + A).
    assert wait_probability(traffic, 1) == pytest.approx(traffic, rel=1e-14)
    assert erlang_b(traffic, 1) == pytest.approx(traffic / (1 + traffic), rel=1e-14)
    asa = average_speed_of_answer(traffic, 1, aht=timedelta(minutes=5))
    assert asa.total_seconds() == pytest.approx(traffic * 300 / (1 - traffic), rel=1e-6)


def test_staffing_example_ten_erlangs_80_in_20() -> None:
    # 100 calls per half hour at 3 minutes each: 10 Erlangs. 80% within 20 s needs 14
    # agents: 13 give 79.56%, 14 give 88.84%.
    traffic = traffic_intensity(200, "3m")
    assert traffic == pytest.approx(10.0)
    assert service_level(traffic, 13, aht="3m", target="20s") == pytest.approx(0.7956, abs=1e-4)
    assert service_level(traffic, 14, aht="3m", target="20s") == pytest.approx(0.8884, abs=1e-4)
    assert agents_required(traffic, aht="3m", target="20s", service_level=0.8) == 14


def test_staffing_example_of_the_docs() -> None:
    traffic = traffic_intensity(100, timedelta(minutes=3))
    assert traffic == 5.0
    needed = agents_required(traffic, aht=180, target=20, service_level=0.8)
    assert needed == 8
    assert service_level(traffic, 7, aht=180, target=20) < 0.8
    assert service_level(traffic, 8, aht=180, target=20) == pytest.approx(0.8801, abs=1e-4)
    assert occupancy(traffic, 8) == 0.625


# --- formulas ---------------------------------------------------------------------------


def test_service_level_formula_and_complement() -> None:
    c = wait_probability(10.0, 12)
    expected = 1 - c * math.exp(-(12 - 10.0) * 20 / 180)
    assert service_level(10.0, 12, aht=180, target=20) == pytest.approx(expected, rel=1e-15)
    late = probability_wait_longer(10.0, 12, aht=180, target=20)
    assert late + service_level(10.0, 12, aht=180, target=20) == pytest.approx(1.0, rel=1e-15)


def test_target_zero_is_probability_of_not_waiting() -> None:
    assert service_level(10.0, 12, aht=180, target=0) == pytest.approx(
        1 - wait_probability(10.0, 12), rel=1e-15
    )


def test_duration_forms_agree() -> None:
    forms: list[DurationLike] = [timedelta(minutes=3), 180, 180.0, "3m", "180s", "PT3M"]
    values = {service_level(10.0, 12, aht=f, target=timedelta(seconds=20)) for f in forms}
    assert len(values) == 1
    targets: list[DurationLike] = [timedelta(seconds=20), 20, "20s"]
    values = {service_level(10.0, 12, aht=180, target=t) for t in targets}
    assert len(values) == 1


def test_average_speed_of_answer_formula() -> None:
    asa = average_speed_of_answer(10.0, 12, aht="3m")
    assert isinstance(asa, timedelta)
    expected = wait_probability(10.0, 12) * 180 / 2
    assert asa.total_seconds() == pytest.approx(expected, abs=1e-6)


def test_traffic_intensity() -> None:
    with pytest.raises(ValidationError) as caught:
        traffic_intensity(10**400, "3m")  # an int beyond any float
    assert caught.value.field == "arrivals_per_hour"
    assert traffic_intensity(100, "3m") == 5.0
    assert traffic_intensity(0, "3m") == 0.0
    assert traffic_intensity(30, timedelta(hours=1)) == 30.0
    assert traffic_intensity(7.5, 240) == pytest.approx(0.5)


def test_zero_traffic() -> None:
    assert wait_probability(0.0, 1) == 0.0
    assert erlang_b(0, 5) == 0.0
    assert occupancy(0.0, 3) == 0.0
    assert service_level(0.0, 1, aht=60, target=0) == 1.0
    assert average_speed_of_answer(0.0, 1, aht=60) == timedelta(0)
    assert agents_required(0.0, aht=60, target=0, service_level=0.99) == 1


def test_erlang_b_defined_for_overload() -> None:
    # The loss system is always stable: with 5 agents and 10 Erlangs most calls are lost.
    assert erlang_b(10.0, 5) == pytest.approx(float(exact_erlang_b(10.0, 5)), rel=1e-13)
    assert 0.5 < erlang_b(10.0, 5) < 1.0


# --- stability --------------------------------------------------------------------------


@pytest.mark.parametrize(("traffic", "agents"), [(12.0, 10), (12.0, 12), (1.5, 1), (7, 7)])
def test_unstable_queue_waits_always(traffic: float, agents: int) -> None:
    assert wait_probability(traffic, agents) == 1.0
    assert occupancy(traffic, agents) == 1.0


def test_unstable_queue_message() -> None:
    with pytest.raises(ValidationError) as info:
        service_level(12.0, 10, aht="3m", target="20s")
    assert info.value.field == "agents"
    assert "unstable: 10 agents cannot serve 12.0 Erlangs; need more than 12" in str(info.value)
    assert "at least 13" in str(info.value)


def test_unstable_queue_message_fractional_and_singular() -> None:
    with pytest.raises(
        ValidationError,
        match=r"1 agent cannot serve 1\.5 Erlangs; need more "
        r"than 1\.5 \(at least 2\)",
    ):
        average_speed_of_answer(1.5, 1, aht=60)


@pytest.mark.parametrize("agents", [10, 12])
def test_unstable_queue_refused_by_steady_state_measures(agents: int) -> None:
    with pytest.raises(ValidationError, match="unstable"):
        service_level(12.0, agents, aht=180, target=20)
    with pytest.raises(ValidationError, match="unstable"):
        probability_wait_longer(12.0, agents, aht=180, target=20)
    with pytest.raises(ValidationError, match="unstable"):
        average_speed_of_answer(12.0, agents, aht=180)


def test_near_saturation_asa_too_long() -> None:
    # M/M/1 at rho = 1 - 1e-15: the mean wait is ~1e15 s, beyond any timedelta.
    with pytest.raises(ValidationError, match="saturation") as info:
        average_speed_of_answer(1 - 1e-15, 1, aht=1)
    assert info.value.field == "agents"


def test_just_above_saturation_is_accurate() -> None:
    # c - A computed exactly: no cancellation near the stability boundary.
    traffic = 13 - 2**-30
    assert wait_probability(traffic, 13) == pytest.approx(
        float(exact_erlang_c(traffic, 13)), rel=1e-12
    )


# --- validation -------------------------------------------------------------------------

BAD_TRAFFIC = [
    -1, -0.001, math.nan, math.inf, -math.inf, True, "5", None, MAX_TRAFFIC * 2, 10**400
]
BAD_AGENTS = [0, -3, True, False, 2.0, "3", None, MAX_AGENTS + 1]


@pytest.mark.parametrize("bad", BAD_TRAFFIC)
def test_bad_traffic(bad: object) -> None:
    calls: list[Callable[[], object]] = [
        lambda: wait_probability(bad, 3),  # type: ignore[arg-type]
        lambda: erlang_b(bad, 3),  # type: ignore[arg-type]
        lambda: occupancy(bad, 3),  # type: ignore[arg-type]
        lambda: service_level(bad, 3, aht=60, target=20),  # type: ignore[arg-type]
        lambda: average_speed_of_answer(bad, 3, aht=60),  # type: ignore[arg-type]
        lambda: agents_required(bad, aht=60, target=20, service_level=0.8),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(ValidationError) as info:
            call()
        assert info.value.field == "traffic"


@pytest.mark.parametrize("bad", BAD_AGENTS)
def test_bad_agents(bad: object) -> None:
    calls: list[Callable[[], object]] = [
        lambda: wait_probability(1.0, bad),  # type: ignore[arg-type]
        lambda: erlang_b(1.0, bad),  # type: ignore[arg-type]
        lambda: occupancy(1.0, bad),  # type: ignore[arg-type]
        lambda: service_level(1.0, bad, aht=60, target=20),  # type: ignore[arg-type]
        lambda: probability_wait_longer(1.0, bad, aht=60, target=20),  # type: ignore[arg-type]
        lambda: average_speed_of_answer(1.0, bad, aht=60),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(ValidationError) as info:
            call()
        assert info.value.field == "agents"


@pytest.mark.parametrize("bad", [0, timedelta(0), "0s", -5, "soon", None, math.nan])
def test_bad_aht(bad: object) -> None:
    calls: list[Callable[[], object]] = [
        lambda: service_level(1.0, 3, aht=bad, target=20),  # type: ignore[arg-type]
        lambda: average_speed_of_answer(1.0, 3, aht=bad),  # type: ignore[arg-type]
        lambda: agents_required(1.0, aht=bad, target=20, service_level=0.8),  # type: ignore[arg-type]
        lambda: traffic_intensity(10, bad),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(ValidationError) as info:
            call()
        assert info.value.field == "aht"


@pytest.mark.parametrize("bad", [-1, timedelta(seconds=-1), "later", None, math.inf])
def test_bad_target(bad: object) -> None:
    calls: list[Callable[[], object]] = [
        lambda: service_level(1.0, 3, aht=60, target=bad),  # type: ignore[arg-type]
        lambda: probability_wait_longer(1.0, 3, aht=60, target=bad),  # type: ignore[arg-type]
        lambda: agents_required(1.0, aht=60, target=bad, service_level=0.8),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(ValidationError) as info:
            call()
        assert info.value.field == "target"


@pytest.mark.parametrize("bad", [0, 0.0, 1, 1.0, 1.5, -0.2, math.nan, True, "0.8", None])
def test_bad_service_level(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        agents_required(5.0, aht=60, target=20, service_level=bad)  # type: ignore[arg-type]
    assert info.value.field == "service_level"


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf, True, "100", None])
def test_bad_arrival_rate(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        traffic_intensity(bad, 60)  # type: ignore[arg-type]
    assert info.value.field == "arrivals_per_hour"


def test_validation_error_is_value_error() -> None:
    with pytest.raises(ValueError, match="traffic"):
        wait_probability(-1, 2)


def test_fraction_and_integer_like_inputs_accepted() -> None:
    # Any real number is accepted at run time (numbers.Real / numbers.Integral).
    assert wait_probability(Fraction(2), 3) == pytest.approx(4 / 9)  # type: ignore[arg-type]
    needed = agents_required(
        Fraction(5),  # type: ignore[arg-type]
        aht=180,
        target=20,
        service_level=Fraction(4, 5),  # type: ignore[arg-type]
    )
    assert needed == 8


def test_limits() -> None:
    assert erlang_b(MAX_TRAFFIC, MAX_AGENTS) == 0.0
    assert wait_probability(5.0, MAX_AGENTS) == 0.0
    assert occupancy(MAX_TRAFFIC, MAX_AGENTS) == pytest.approx(0.1)


# --- properties -------------------------------------------------------------------------

# Exact rationals of tiny floats have huge denominators: keep the cross-check quick.
small_traffic = st.just(0.0) | st.floats(min_value=1e-6, max_value=60.0)
traffic_values = st.floats(min_value=0.0, max_value=5000.0, allow_nan=False)
aht_seconds = st.floats(min_value=1.0, max_value=3600.0)
target_seconds = st.floats(min_value=0.0, max_value=600.0)
goals = st.floats(min_value=0.01, max_value=0.999)


@given(traffic=small_traffic, extra=st.integers(min_value=1, max_value=25))
def test_matches_exact_rational_erlang_c(traffic: float, extra: int) -> None:
    agents = math.floor(traffic) + extra
    exact = float(exact_erlang_c(traffic, agents))
    assert wait_probability(traffic, agents) == pytest.approx(exact, rel=1e-12, abs=1e-300)


@given(traffic=small_traffic, agents=st.integers(min_value=1, max_value=90))
def test_matches_exact_rational_erlang_b(traffic: float, agents: int) -> None:
    exact = float(exact_erlang_b(traffic, agents))
    assert erlang_b(traffic, agents) == pytest.approx(exact, rel=1e-12, abs=1e-299)


@given(traffic=traffic_values, agents=st.integers(min_value=1, max_value=8000))
def test_probabilities_in_unit_interval(traffic: float, agents: int) -> None:
    c = wait_probability(traffic, agents)
    b = erlang_b(traffic, agents)
    assert 0.0 <= b <= c <= 1.0
    assert 0.0 <= occupancy(traffic, agents) <= 1.0


@given(traffic=traffic_values, agents=st.integers(min_value=1, max_value=8000))
def test_wait_probability_decreases_with_agents(traffic: float, agents: int) -> None:
    assert wait_probability(traffic, agents + 1) <= wait_probability(traffic, agents)


@given(
    traffic=traffic_values,
    more=st.floats(min_value=0.0, max_value=50.0),
    agents=st.integers(min_value=1, max_value=8000),
)
def test_wait_probability_increases_with_traffic(traffic: float, more: float, agents: int) -> None:
    low = wait_probability(traffic, agents)
    high = wait_probability(traffic + more, agents)
    assert high >= low * (1 - 1e-9)


@given(
    traffic=traffic_values,
    extra=st.integers(min_value=1, max_value=200),
    aht=aht_seconds,
    target=target_seconds,
    later=st.floats(min_value=0.0, max_value=600.0),
)
def test_service_level_increases_with_target_and_agents(
    traffic: float, extra: int, aht: float, target: float, later: float
) -> None:
    agents = math.floor(traffic) + extra
    base = service_level(traffic, agents, aht=aht, target=target)
    assert 0.0 <= base <= 1.0
    assert service_level(traffic, agents, aht=aht, target=target + later) >= base
    assert service_level(traffic, agents + 1, aht=aht, target=target) >= base


@settings(max_examples=200)
@given(traffic=traffic_values, aht=aht_seconds, target=target_seconds, goal=goals)
def test_agents_required_is_minimal(traffic: float, aht: float, target: float, goal: float) -> None:
    needed = agents_required(traffic, aht=aht, target=target, service_level=goal)
    assert needed > traffic
    assert needed >= 1
    assert service_level(traffic, needed, aht=aht, target=target) >= goal
    if needed - 1 > traffic:
        assert service_level(traffic, needed - 1, aht=aht, target=target) < goal


@given(traffic=traffic_values, extra=st.integers(min_value=1, max_value=200), aht=aht_seconds)
def test_average_speed_of_answer_consistent(traffic: float, extra: int, aht: float) -> None:
    agents = math.floor(traffic) + extra
    asa = average_speed_of_answer(traffic, agents, aht=aht)
    aht_s = timedelta(seconds=aht).total_seconds()  # durations are microsecond-precise
    expected = wait_probability(traffic, agents) * aht_s / (agents - traffic)
    assert asa >= timedelta(0)
    assert asa.total_seconds() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("traffic", "agents"), [(500.0, 510), (1000.5, 1030), (2000.0, 2100)])
def test_matches_exact_rational_for_large_pools(traffic: float, agents: int) -> None:
    exact = float(exact_erlang_c(traffic, agents))
    assert wait_probability(traffic, agents) == pytest.approx(exact, rel=1e-12)
    exact_b = float(exact_erlang_b(traffic, agents))
    assert erlang_b(traffic, agents) == pytest.approx(exact_b, rel=1e-12)


def test_stable_for_thousands_of_agents() -> None:
    for traffic in (1000.0, 2500.5, 5000.0):
        needed = agents_required(traffic, aht="4m", target="30s", service_level=0.9)
        # Large pools are efficient: only a small safety margin above the load.
        assert traffic < needed < traffic + 4 * math.sqrt(traffic)
        for agents in (needed - 1, needed, needed + 50):
            value = wait_probability(traffic, agents)
            assert math.isfinite(value)
            assert 0.0 < value < 1.0
        asa = average_speed_of_answer(traffic, needed, aht="4m")
        assert timedelta(0) < asa < timedelta(minutes=1)


def test_negligible_blocking_flushes_to_zero() -> None:
    # Far above the load the recurrence stops once Erlang B is negligible.
    assert erlang_b(1e-300, 1) == pytest.approx(1e-300)
    assert erlang_b(1e-300, 2) == 0.0
    assert wait_probability(5e-324, 1) == 0.0
    assert erlang_b(5000.0, 20000) == 0.0
    assert erlang_b(1.0, 200) == 0.0
    assert erlang_b(1.0, 150) > 0.0
    assert erlang._NEGLIGIBLE <= 1e-300
