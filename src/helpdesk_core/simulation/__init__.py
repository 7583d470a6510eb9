"""Helpdesk simulation and queueing analysis.

:func:`simulate` runs a :class:`Scenario` through the real :class:`~helpdesk_core.Helpdesk`
in simulated time; :func:`sweep` runs grids of variants on any executor;
:func:`simulate_queue` is the bare queueing fast path; :mod:`.erlang` is the analytic
companion (Erlang C); :func:`suggest_staffing` sizes a scenario's tiers by Erlang C and
:func:`check_staffing` checks the sizes by simulation; :func:`calibrate` measures a
scenario's figures from a desk's own history.
"""

from helpdesk_core.simulation import erlang
from helpdesk_core.simulation.calibrate import Calibration, calibrate
from helpdesk_core.simulation.distributions import (
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    LogNormal,
)
from helpdesk_core.simulation.engine import Progress, SimulationStalled, simulate
from helpdesk_core.simulation.queueing import QueueResult, TierStats, simulate_queue
from helpdesk_core.simulation.result import Kpis, SimulationResult, TicketRecord, WorkSession
from helpdesk_core.simulation.scenario import Absence, Arrivals, Burst, Scenario, TierBehaviour
from helpdesk_core.simulation.staffing import (
    StaffingCheck,
    StaffingPlan,
    TeamStaffing,
    TierStaffing,
    check_staffing,
    suggest_staffing,
)
from helpdesk_core.simulation.sweep import SweepRow, sweep

__all__ = [
    "Absence",
    "Arrivals",
    "Burst",
    "Calibration",
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
    "SimulationStalled",
    "StaffingCheck",
    "StaffingPlan",
    "SweepRow",
    "TeamStaffing",
    "TicketRecord",
    "TierBehaviour",
    "TierStaffing",
    "TierStats",
    "WorkSession",
    "calibrate",
    "check_staffing",
    "erlang",
    "simulate",
    "simulate_queue",
    "suggest_staffing",
    "sweep",
]
