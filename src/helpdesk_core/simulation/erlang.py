"""Erlang B and Erlang C: the analytic queueing companion of the simulator.

The Erlang C model (the M/M/c queue) describes a helpdesk where requests arrive at random
(a Poisson process), each takes an exponentially distributed handle time with mean ``aht``,
``agents`` identical agents serve them first come first served, and nobody abandons. Its
input is the offered *traffic* ``A`` in Erlangs: arrival rate x mean handle time, i.e. the
average number of agents kept busy (:func:`traffic_intensity`).

From ``A`` and the number of agents ``c`` it gives:

* :func:`wait_probability` - Erlang C, the probability that an arrival has to wait;
* :func:`service_level` - the probability of being answered within a target wait,
  ``1 - C * exp(-(c - A) * target / aht)``, and its complement
  :func:`probability_wait_longer`;
* :func:`average_speed_of_answer` - the mean wait over all arrivals, ``C * aht / (c - A)``;
* :func:`occupancy` - the fraction of time agents are busy, ``A / c``;
* :func:`agents_required` - the smallest ``c`` meeting a service-level goal.

:func:`erlang_b` is the companion loss model (M/M/c/c: an arrival finding every agent busy is
turned away rather than queued).

**Stability.** A queue with ``c <= A`` agents never empties: its wait grows without bound.
:func:`wait_probability` then returns ``1.0`` (every arrival waits, the limit of Erlang C as
``c - A`` shrinks to zero) and :func:`occupancy` returns ``1.0`` (agents are always busy), but
:func:`service_level`, :func:`probability_wait_longer` and :func:`average_speed_of_answer`
have no steady state to report and raise :class:`~helpdesk_core.errors.ValidationError`.

**Numerics.** Erlang B is computed with the recurrence ``B(0) = 1``,
``B(k) = A * B(k-1) / (k + A * B(k-1))`` and Erlang C from it as
``C = c * B / (c - A * (1 - B))``: no factorials or large powers, every intermediate value
lies in ``[0, 1]``, and the result is accurate to about ``1e-12`` relative for thousands of
agents. The cost is one step per agent, but the recurrence stops once ``B`` drops below
``1e-300`` (it is then treated as zero): after about ``A + 40 * sqrt(A)`` steps for large
loads and a few hundred for small ones. A thousand Erlangs take about a millisecond, the
:data:`MAX_TRAFFIC` of a million a fraction of a second; agents are limited to
:data:`MAX_AGENTS`.

Durations (``aht``, ``target``) accept a :class:`~datetime.timedelta`, a number of seconds or
text such as ``"3m"`` / ``"20s"``.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import TypeAlias

from helpdesk_core._numbers import real_number, whole_number
from helpdesk_core._time import to_timedelta
from helpdesk_core.errors import ValidationError

__all__ = [
    "MAX_AGENTS",
    "MAX_TRAFFIC",
    "DurationLike",
    "agents_required",
    "average_speed_of_answer",
    "erlang_b",
    "occupancy",
    "probability_wait_longer",
    "service_level",
    "traffic_intensity",
    "wait_probability",
]

DurationLike: TypeAlias = timedelta | float | str
"""A duration: a timedelta, a number of seconds, or text such as ``"3m"`` or ``"1h 30m"``."""

MAX_TRAFFIC = 1_000_000.0
"""Largest offered traffic (Erlangs) accepted: a million simultaneously busy agents."""

MAX_AGENTS = 10_000_000
"""Largest number of agents accepted."""


# --- validation -------------------------------------------------------------------------


def _as_float(value: float) -> float:
    """``float(value)``; an integer too large for a float reads as infinity."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _check_traffic(value: object, *, field: str = "traffic") -> float:
    number = real_number(value)
    if number is None:
        raise ValidationError(
            f"expected a number of Erlangs, got {type(value).__name__}", field=field
        )
    traffic = _as_float(number)
    if not math.isfinite(traffic):
        raise ValidationError(f"must be finite, got {traffic!r}", field=field)
    if traffic < 0:
        raise ValidationError(f"must be >= 0, got {traffic!r}", field=field)
    if traffic > MAX_TRAFFIC:
        raise ValidationError(
            f"{traffic!r} Erlangs is beyond the supported maximum of {MAX_TRAFFIC:,.0f}",
            field=field,
        )
    return traffic


def _check_agents(value: object, *, field: str = "agents") -> int:
    agents = whole_number(value)
    if agents is None:
        raise ValidationError(
            f"expected a whole number of agents, got {type(value).__name__}", field=field
        )
    if agents < 1:
        raise ValidationError(f"must be >= 1, got {agents}", field=field)
    if agents > MAX_AGENTS:
        raise ValidationError(
            f"{agents} agents is beyond the supported maximum of {MAX_AGENTS:,}", field=field
        )
    return agents


def _check_rate(value: object, *, field: str) -> float:
    number = real_number(value)
    if number is None:
        raise ValidationError(f"expected a number, got {type(value).__name__}", field=field)
    rate = _as_float(number)
    if not math.isfinite(rate) or rate < 0:
        raise ValidationError(f"must be finite and >= 0, got {rate!r}", field=field)
    return rate


def _check_probability(value: object, *, field: str) -> float:
    number = real_number(value)
    if number is None:
        raise ValidationError(
            f"expected a fraction between 0 and 1, got {type(value).__name__}", field=field
        )
    fraction = _as_float(number)
    if not 0.0 < fraction < 1.0:
        raise ValidationError(
            f"must be strictly between 0 and 1 (e.g. 0.8 for 80%), got {fraction!r}",
            field=field,
        )
    return fraction


def _seconds(value: object, *, field: str, positive: bool) -> float:
    seconds = to_timedelta(value, field=field).total_seconds()
    if positive and seconds <= 0:
        raise ValidationError(f"must be a positive duration, got {seconds!r} s", field=field)
    return seconds


def _format_number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _require_stable(traffic: float, agents: int) -> None:
    if agents <= traffic:
        noun = "agent" if agents == 1 else "agents"
        raise ValidationError(
            f"unstable: {agents} {noun} cannot serve {traffic!r} Erlangs; need more than "
            f"{_format_number(traffic)} (at least {math.floor(traffic) + 1})",
            field="agents",
        )


# --- core arithmetic (validated inputs only) --------------------------------------------


_NEGLIGIBLE = 1e-300
"""Erlang B values below this are flushed to zero, ending the recurrence early (left alone,
subnormal values would linger at the smallest float until ``k > 2 * traffic``)."""


def _erlang_b_step(traffic: float, k: int, previous: float) -> float:
    load = traffic * previous
    blocking = load / (k + load)
    return blocking if blocking >= _NEGLIGIBLE else 0.0


def _erlang_b(traffic: float, agents: int) -> float:
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = _erlang_b_step(traffic, k, blocking)
        if blocking == 0.0:  # negligible: stays zero for every larger k
            break
    return blocking


def _erlang_c(traffic: float, agents: int, blocking: float) -> float:
    if agents <= traffic:
        return 1.0
    # (agents - traffic) first: exact when they are close, so no cancellation.
    return agents * blocking / ((agents - traffic) + traffic * blocking)


def _late_fraction(
    traffic: float, agents: int, waiting: float, aht_s: float, target_s: float
) -> float:
    return waiting * math.exp(-(agents - traffic) * target_s / aht_s)


# --- public API -------------------------------------------------------------------------


def traffic_intensity(arrivals_per_hour: float, aht: DurationLike) -> float:
    """Offered traffic in Erlangs: ``arrivals_per_hour`` x ``aht`` (in hours).

    It is the average number of agents the workload keeps busy.

    >>> traffic_intensity(100, "3m")
    5.0
    """
    rate = _check_rate(arrivals_per_hour, field="arrivals_per_hour")
    aht_s = _seconds(aht, field="aht", positive=True)
    traffic = rate * aht_s / 3600.0
    if not math.isfinite(traffic):
        raise ValidationError(
            f"{rate!r} arrivals an hour of {aht_s!r} s each is beyond any finite traffic",
            field="arrivals_per_hour",
        )
    return traffic


def erlang_b(traffic: float, agents: int) -> float:
    """Erlang B: the probability that an arrival finds all ``agents`` busy in a *loss* system
    (no queue; such arrivals are turned away). Defined for any traffic, stable or not.

    >>> round(erlang_b(1.0, 1), 6)
    0.5
    """
    a = _check_traffic(traffic)
    c = _check_agents(agents)
    return _erlang_b(a, c)


def wait_probability(traffic: float, agents: int) -> float:
    """Erlang C: the probability that an arrival has to wait for an agent.

    ``traffic`` is the offered load in Erlangs, ``agents`` the number of agents. With
    ``agents <= traffic`` the queue is unstable and every arrival waits: the
    result is ``1.0``.

    >>> round(wait_probability(2.0, 3), 6)
    0.444444
    """
    a = _check_traffic(traffic)
    c = _check_agents(agents)
    if c <= a:
        return 1.0
    return _erlang_c(a, c, _erlang_b(a, c))


def occupancy(traffic: float, agents: int) -> float:
    """The fraction of time agents are busy, ``traffic / agents``, capped at ``1.0`` for an
    unstable queue (``agents <= traffic``), whose agents never go idle.

    >>> occupancy(5.0, 8)
    0.625
    """
    a = _check_traffic(traffic)
    c = _check_agents(agents)
    return min(a / c, 1.0)


def service_level(traffic: float, agents: int, *, aht: DurationLike, target: DurationLike) -> float:
    """The probability that an arrival is answered within ``target``:
    ``1 - C * exp(-(agents - traffic) * target / aht)``, C being :func:`wait_probability`.

    ``aht`` is the mean handle time (> 0) the traffic was computed with; ``target`` the
    answer-time goal (>= 0; with 0 the result is the probability of not waiting at all).
    Raises :class:`~helpdesk_core.errors.ValidationError` if ``agents <= traffic``.

    >>> round(service_level(5.0, 8, aht="3m", target="20s"), 4)
    0.8801
    """
    return 1.0 - probability_wait_longer(traffic, agents, aht=aht, target=target)


def probability_wait_longer(
    traffic: float, agents: int, *, aht: DurationLike, target: DurationLike
) -> float:
    """The probability that an arrival waits *longer* than ``target``:
    ``C * exp(-(agents - traffic) * target / aht)``, the complement of :func:`service_level`.

    Computed directly, so it keeps its precision when it is tiny. Raises
    :class:`~helpdesk_core.errors.ValidationError` if ``agents <= traffic``.
    """
    a = _check_traffic(traffic)
    c = _check_agents(agents)
    aht_s = _seconds(aht, field="aht", positive=True)
    target_s = _seconds(target, field="target", positive=False)
    _require_stable(a, c)
    return _late_fraction(a, c, _erlang_c(a, c, _erlang_b(a, c)), aht_s, target_s)


def average_speed_of_answer(traffic: float, agents: int, *, aht: DurationLike) -> timedelta:
    """The mean wait before an agent answers, over all arrivals (those answered at once
    count as zero): ``C * aht / (agents - traffic)``.

    Raises :class:`~helpdesk_core.errors.ValidationError` if ``agents <= traffic``, or if the
    queue is so close to saturation that the wait does not fit in a timedelta.

    >>> average_speed_of_answer(2.0, 3, aht=60)
    datetime.timedelta(seconds=26, microseconds=666667)
    """
    a = _check_traffic(traffic)
    c = _check_agents(agents)
    aht_s = _seconds(aht, field="aht", positive=True)
    _require_stable(a, c)
    waiting = _erlang_c(a, c, _erlang_b(a, c))
    seconds = waiting * aht_s / (c - a)
    try:
        return timedelta(seconds=seconds)
    except OverflowError as exc:
        raise ValidationError(
            f"{c} agents are so close to saturation by {a!r} Erlangs that the average "
            f"speed of answer ({seconds:.3g} s) exceeds the largest timedelta",
            field="agents",
        ) from exc


def agents_required(
    traffic: float, *, aht: DurationLike, target: DurationLike, service_level: float
) -> int:
    """The smallest number of agents ``c > traffic`` whose :func:`service_level` for
    ``target`` is at least ``service_level`` (a fraction in (0, 1), e.g. ``0.8``).

    Zero traffic needs one agent (there is no smaller valid answer). The search starts at
    ``floor(traffic) + 1`` and steps up, extending the Erlang B recurrence by one term per
    step, so it costs about as much as a single :func:`wait_probability` call.

    >>> agents_required(5.0, aht="3m", target="20s", service_level=0.8)
    8
    """
    a = _check_traffic(traffic)
    aht_s = _seconds(aht, field="aht", positive=True)
    target_s = _seconds(target, field="target", positive=False)
    goal = _check_probability(service_level, field="service_level")
    start = math.floor(a) + 1
    blocking = _erlang_b(a, start)
    agents = start
    while True:
        waiting = _erlang_c(a, agents, blocking)
        if 1.0 - _late_fraction(a, agents, waiting, aht_s, target_s) >= goal:
            return agents
        agents += 1
        blocking = _erlang_b_step(a, agents, blocking)
