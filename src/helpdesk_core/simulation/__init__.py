"""Helpdesk simulation and queueing analysis.

:func:`simulate` runs a :class:`Scenario` through the real :class:`~helpdesk_core.Helpdesk`
in simulated time; :func:`sweep` runs grids of variants on any executor;
:func:`simulate_queue` is the bare queueing fast path; :mod:`.erlang` is the analytic
companion (Erlang C).
"""

from helpdesk_core.simulation import erlang
from helpdesk_core.simulation.distributions import (
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    LogNormal,
)
from helpdesk_core.simulation.engine import Progress, simulate
from helpdesk_core.simulation.queueing import QueueResult, TierStats, simulate_queue
from helpdesk_core.simulation.result import Kpis, SimulationResult, TicketRecord
from helpdesk_core.simulation.scenario import Absence, Arrivals, Burst, Scenario, TierBehaviour
from helpdesk_core.simulation.sweep import SweepRow, sweep

__all__ = [
    "Absence",
    "Arrivals",
    "Burst",
    "Distribution",
    "Empirical",
    "Exponential",
    "Fixed",
    "Kpis",
    "LogNormal",
    "Progress",
    "QueueResult",
    "Scenario",
    "SimulationResult",
    "SweepRow",
    "TicketRecord",
    "TierBehaviour",
    "TierStats",
    "erlang",
    "simulate",
    "simulate_queue",
    "sweep",
]
