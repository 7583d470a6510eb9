"""Reports computed from domain events: volumes, first contact resolution, response and
resolution times (calendar and business), SLA compliance, backlog, reopens, escalations,
CSAT, workload, failing assets and requesters who keep having the same problem.

``Report`` reads events (or the ``(position, event)`` pairs of ``store.event_stream()``)
and keeps a few fields per ticket; ``Report.result()`` returns a :class:`ReportResult` of
frozen records, each table with ``to_pandas()``. Plots live in
:mod:`helpdesk_core.reporting.plots` (needs the ``analysis`` extra).
"""

from helpdesk_core.reporting.accumulator import Report, build_report
from helpdesk_core.reporting.records import (
    AgentRow,
    AgeRow,
    Backlog,
    CountRow,
    CountTable,
    Csat,
    DurationStats,
    HourOfWeek,
    Rate,
    RepeatRow,
    ReportResult,
    ResponseTimes,
    SlaCompliance,
    SlaRow,
    SlaTeamRow,
    SlaTierRow,
    Table,
    TierRow,
    Volume,
)

__all__ = [
    "AgeRow",
    "AgentRow",
    "Backlog",
    "CountRow",
    "CountTable",
    "Csat",
    "DurationStats",
    "HourOfWeek",
    "Rate",
    "RepeatRow",
    "Report",
    "ReportResult",
    "ResponseTimes",
    "SlaCompliance",
    "SlaRow",
    "SlaTeamRow",
    "SlaTierRow",
    "Table",
    "TierRow",
    "Volume",
    "build_report",
]
