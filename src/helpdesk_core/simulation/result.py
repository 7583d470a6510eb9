"""What a simulation returns: per-ticket records, the event stream and the KPIs."""

from __future__ import annotations

import os
import statistics
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from attrs import asdict, fields, frozen

from helpdesk_core.errors import ValidationError
from helpdesk_core.model import (
    Assigned,
    ClockState,
    Escalated,
    Event,
    Metric,
    SlaBreached,
    SlaClockStopped,
    StatusChanged,
    Ticket,
    TicketOpened,
)
from helpdesk_core.model.events import CANCELLED, NO_TARGET, SLA_EVENT_TYPES
from helpdesk_core.reporting._stats import duration_stats, percentile
from helpdesk_core.storage import Store

if TYPE_CHECKING:
    from helpdesk_core.service import Helpdesk
    from helpdesk_core.simulation.scenario import Scenario

__all__ = ["Kpis", "SimulationResult", "TicketRecord", "WorkSession", "build_result"]



@frozen(kw_only=True)
class TicketRecord:
    """One simulated ticket, flattened for tables. Durations are in seconds (None when the
    milestone was not reached); ``measured`` is false for warm-up tickets.
    ``escalations`` counts the ticket's ``Escalated`` events (a functional escalation,
    whatever tier it left), as the reports' escalation rate does.
    ``first_response_breached`` / ``resolution_breached`` say whether the ticket's latest
    clock of the metric was breached: None without a clock, while it runs, and when it
    stopped because no target applies any more (as the desk's reports, the SLA compliance
    KPI leaves those out). ``wait_for_agent`` lasts until an agent first started working
    on the ticket (being assigned to one who is busy or off shift does not end it).
    ``open_at_end`` says whether the ticket was open (opened, neither solved nor closed)
    when arrivals stopped (a change at that very instant counted, as the reports count
    it), which the backlog KPI counts (None: not known, for records made without the
    history; the KPI then reads it off ``resolution``)."""

    id: str
    number: int
    opened_at: datetime
    channel: str
    category: str | None
    priority: str
    tier: str | None
    team: str | None
    status: str
    active: bool
    measured: bool
    escalations: int
    reopens: int
    first_contact: bool
    wait_for_agent: float | None
    first_response: float | None
    resolution: float | None
    first_response_breached: bool | None
    resolution_breached: bool | None
    satisfaction: int | None
    open_at_end: bool | None = None


@frozen(kw_only=True)
class WorkSession:
    """An agent working on a ticket: from ``start`` for ``seconds`` (the drawn handle
    time), at ``tier``. A ticket gets one session per visit to a tier, and one more after
    each answer to a question and each reopening. An absence that starts mid-session cuts
    the session to the work done before it, and the next session on the ticket at that
    tier lasts only the rest."""

    ticket_id: str
    agent: str
    tier: str
    start: datetime
    seconds: float


@frozen(kw_only=True)
class Kpis:
    """Headline figures over the measured tickets; ``backlog`` counts every ticket open
    when arrivals stopped, warm-up ones included. ``solved`` counts the tickets solved at
    the end; ``first_contact_resolution`` and ``reopen_rate`` are shares of the tickets
    solved at least once, as the reports count them (a ticket reopened and not solved
    again counts as reopened)."""

    tickets: int
    solved: int
    first_contact_resolution: float
    escalation_rate: float
    reopen_rate: float
    mean_wait_for_agent: timedelta | None
    mean_first_response: timedelta | None
    p90_first_response: timedelta | None
    mean_resolution: timedelta | None
    p90_resolution: timedelta | None
    sla_compliance: dict[str, float]
    csat: float | None
    backlog: int
    #: Measured tickets no agent ever started on, and without a first response: the
    #: waits and response times above leave them out (they have none to count).
    never_worked: int = 0
    unanswered: int = 0

    def as_rows(self) -> list[tuple[str, str]]:
        """(name, text) pairs for a table."""
        rows: list[tuple[str, str]] = [
            ("tickets measured (after the warm-up)", str(self.tickets)),
            ("of those solved", str(self.solved)),
            # shares of the solved tickets, and of the measured ones: none, no share
            ("first contact resolution", _pct(self.first_contact_resolution, self.solved)),
            ("escalation rate", _pct(self.escalation_rate, self.tickets)),
            ("reopen rate", _pct(self.reopen_rate, self.solved)),
            ("mean wait for an agent", _td(self.mean_wait_for_agent)),
            ("never worked (not in the waits)", str(self.never_worked)),
            ("mean first response", _td(self.mean_first_response)),
            ("p90 first response", _td(self.p90_first_response)),
            ("unanswered (not in the responses)", str(self.unanswered)),
            ("mean resolution", _td(self.mean_resolution)),
            ("p90 resolution", _td(self.p90_resolution)),
        ]
        for metric, value in sorted(self.sla_compliance.items()):
            rows.append((f"SLA {metric.replace('_', ' ')}", _pct(value)))
        rows.append(("CSAT (1-5)", "-" if self.csat is None else f"{self.csat:.2f}"))
        rows.append(("open when arrivals stopped", str(self.backlog)))
        return rows


def _pct(value: float, of: int | None = None) -> str:
    """A share as a percentage; "-" when it is a share of nothing (``of`` is 0)."""
    return "-" if of == 0 else f"{100 * value:.1f}%"


def _td(value: timedelta | None) -> str:
    if value is None:
        return "-"
    seconds = round(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    if hours:
        return f"{hours}h{rest // 60:02d}m"
    return f"{rest // 60}m{rest % 60:02d}s"  # call-centre targets are seconds


@frozen(kw_only=True)
class SimulationResult:
    """Per-ticket records, the full event stream, the KPIs of one run, and the agents'
    work sessions in the order they started. ``end`` is when the run ended: the instant
    of the desk's last event (the drain of what was open when arrivals stopped), and
    never before the scenario's end."""

    scenario: Scenario
    records: tuple[TicketRecord, ...]
    events: tuple[Event, ...]
    kpis: Kpis
    end: datetime
    work: tuple[WorkSession, ...] = ()

    def __iter__(self) -> Iterator[TicketRecord]:
        return iter(self.records)

    def __repr__(self) -> str:
        # Counts, not contents: a run holds thousands of records and events, and a
        # notebook prints a cell's last value.
        return (
            f"SimulationResult(desk={self.scenario.desk.settings.name!r}, "
            f"days={self.scenario.days:g}, tickets={len(self.records)}, "
            f"events={len(self.events)}, work={len(self.work)}, "
            f"end={self.end.isoformat()!r}, kpis={self.kpis!r})"
        )

    def to_pandas(self) -> Any:
        """The records as a pandas DataFrame (needs the ``analysis`` extra), one column
        per :class:`TicketRecord` field. Each column has one dtype whatever the run held,
        so frames of several runs concatenate and their Parquet files share a schema:
        ``opened_at`` is a UTC datetime, counts are ``int64``, durations (seconds)
        ``float64`` with NaN for a milestone not reached, ``satisfaction`` a nullable
        ``Int64``, the breach flags and ``open_at_end`` nullable ``boolean``, and text
        (``category``, ``tier``, ``team`` ...) pandas' string dtype, missing where a
        ticket has none."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "to_pandas needs pandas: pip install 'helpdesk-core[analysis]'"
            ) from exc
        frame = pd.DataFrame([asdict(r) for r in self.records], columns=RECORD_COLUMNS)
        # pandas' own text dtype (``str`` since pandas 3, with NaN for missing text), or
        # the nullable "string" where it has none (object would be inferred as nothing
        # but nulls in a column without text, and given no type of text in Parquet).
        text = pd.Series(["text"]).dtype
        if pd.api.types.is_object_dtype(text):
            text = pd.StringDtype()
        frame = frame.astype({**_RECORD_DTYPES, **dict.fromkeys(_TEXT_COLUMNS, text)})
        # (microseconds as a datetime holds them, also for a run without a ticket)
        frame["opened_at"] = pd.to_datetime(frame["opened_at"], utc=True).dt.as_unit("us")
        return frame

    def to_parquet(self, path: str | os.PathLike[str]) -> None:
        """Write the records to a Parquet file (needs the ``analysis`` extra: pandas and
        pyarrow). Instants keep their time zone; missing durations are nulls. A path
        that is not text or a path, or names a folder, or a file in a folder that does not
        exist, raises ``ValidationError`` before anything is written."""
        if isinstance(path, bool) or not isinstance(path, str | os.PathLike):
            raise ValidationError(
                f"path is a file path, got {type(path).__name__}", field="path"
            )
        target = Path(path)
        if target.is_dir():
            raise ValidationError(
                f"path {str(target)!r} is a folder: name the Parquet file to write",
                field="path",
            )
        if not target.parent.is_dir():
            raise ValidationError(
                f"path {str(target)!r}: its folder does not exist", field="path"
            )
        try:
            frame = self.to_pandas()
        except ImportError as exc:
            raise ImportError(
                "to_parquet needs pandas and pyarrow: pip install 'helpdesk-core[analysis]'"
            ) from exc
        try:
            frame.to_parquet(target, index=False)
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "to_parquet needs pyarrow: pip install 'helpdesk-core[analysis]'"
            ) from exc

    def rows(self) -> list[dict[str, Any]]:
        """The records as plain dicts (for CSV)."""
        return [asdict(r) for r in self.records]


#: The columns of a ticket record (the CSV header and the DataFrame columns, also when a
#: run recorded no ticket).
RECORD_COLUMNS: tuple[str, ...] = tuple(a.name for a in fields(TicketRecord))
#: The pandas dtypes of the record columns that a run's values would not fix (a column
#: of None and True is ``object``; of None and 4, ``float64``).
_RECORD_DTYPES: Final = {
    **dict.fromkeys(("number", "escalations", "reopens"), "int64"),
    **dict.fromkeys(("active", "measured", "first_contact"), "bool"),
    **dict.fromkeys(("wait_for_agent", "first_response", "resolution"), "float64"),
    **dict.fromkeys(("first_response_breached", "resolution_breached", "open_at_end"),
                    "boolean"),
    "satisfaction": "Int64",
}
#: The record columns of text (or None: a ticket without a category, tier or team).
_TEXT_COLUMNS: Final = ("id", "channel", "category", "priority", "tier", "team", "status")


def _micros(seconds: Sequence[float]) -> list[int]:
    """Durations in seconds as whole microseconds: a record's seconds are a timedelta's
    total_seconds(), whose microseconds come back whole."""
    return [round(value * 1_000_000) for value in seconds]


def _mean(seconds: Sequence[float]) -> timedelta | None:
    """The mean of durations in seconds, summed on whole microseconds and rounded half
    up as the reports do (floating-point seconds could land a microsecond off), so it is
    the report's."""
    if not seconds:
        return None
    return duration_stats(_micros(seconds)).mean


def _p90(seconds: Sequence[float]) -> timedelta | None:
    """The 90th percentile of durations in seconds, interpolated between the two nearest
    ranks on whole microseconds as the reports (and numpy) do, so it is the report's."""
    if not seconds:
        return None
    return timedelta(microseconds=percentile(sorted(_micros(seconds)), 9, 10))


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return (b - a).total_seconds()


def _breached(ticket: Ticket, metric: Metric, events: Sequence[Event]) -> bool | None:
    """Whether the ticket's current clock of ``metric`` was breached: None while it runs,
    and when it stopped without a breach because no target applies any more (its target
    was withdrawn, not met: the desk's reports leave it out too)."""
    clock = ticket.sla.get(metric.value)
    if clock is None:
        return None
    if clock.breached_at is not None or clock.state is ClockState.BREACHED:
        return True
    # A breach recorded in the clock's cycle counts even when a relaxed target cleared it
    # from the clock since (the desk's reports read the history the same way).
    last: Event | None = None
    for event in reversed(events):
        if not isinstance(event, SLA_EVENT_TYPES) or event.clock.metric is not metric:
            continue
        if event.clock.cycle != clock.cycle:
            break
        if last is None:
            last = event  # the snapshot's clock is the one this latest event carries
        if isinstance(event, SlaBreached):
            return True
    if clock.stopped_at is not None:
        if isinstance(last, SlaClockStopped) and last.reason in (NO_TARGET, CANCELLED):
            return None
        return False
    return None


def build_result(
    scenario: Scenario,
    desk: Helpdesk,
    store: Store,
    *,
    end: datetime,
    work: Sequence[WorkSession] = (),
) -> SimulationResult:
    """Collect records, events and KPIs from a finished run."""
    events_by_ticket: dict[str, list[Event]] = {}
    stream: list[Event] = []
    for _, event in store.event_stream():
        stream.append(event)
        events_by_ticket.setdefault(event.ticket_id, []).append(event)
    records: list[TicketRecord] = []
    measured_from = scenario.measured_from
    first_work: dict[str, datetime] = {}
    for session in work:
        first_work.setdefault(session.ticket_id, session.start)
    for ticket_id, events in events_by_ticket.items():
        ticket = store.load(ticket_id)
        first_assigned = first_work.get(ticket_id) if work else next(
            (e.at for e in events if isinstance(e, Assigned) and e.assignee is not None), None
        )
        records.append(
            TicketRecord(
                id=ticket.id,
                number=ticket.number,
                opened_at=ticket.created_at,
                channel=ticket.channel.value,
                category=ticket.category,
                priority=ticket.priority.value,
                tier=ticket.tier,
                team=ticket.team,
                status=ticket.status,
                active=ticket.is_active,
                measured=ticket.created_at >= measured_from,
                escalations=sum(1 for e in events if isinstance(e, Escalated)),
                reopens=ticket.reopen_count,
                first_contact=ticket.first_contact,
                wait_for_agent=_seconds(ticket.created_at, first_assigned),
                first_response=_seconds(ticket.created_at, ticket.first_response_at),
                resolution=_seconds(ticket.created_at, ticket.solved_at),
                first_response_breached=_breached(ticket, Metric.FIRST_RESPONSE, events),
                resolution_breached=_breached(ticket, Metric.RESOLUTION, events),
                satisfaction=ticket.satisfaction.score if ticket.satisfaction else None,
                open_at_end=_open_at(events, scenario.end),
            )
        )
    records.sort(key=lambda r: r.number)
    return SimulationResult(
        scenario=scenario,
        records=tuple(records),
        events=tuple(stream),
        kpis=compute_kpis(records, end=scenario.end),
        end=end,
        work=tuple(work),
    )


def _open_at(events: Sequence[Event], end: datetime) -> bool:
    """Whether the ticket of ``events`` was open at ``end``: opened by then and, by its
    latest status change by then, neither solved nor closed (what happened at ``end``
    itself counts, as a report's ``as_of`` counts it: a ticket solved at that instant is
    no longer open)."""
    active = False
    for event in events:
        if event.at > end:
            continue
        if isinstance(event, TicketOpened):
            active = event.status_category.is_active
        elif isinstance(event, StatusChanged):
            active = event.category.is_active
    return active


def compute_kpis(records: Sequence[TicketRecord], *, end: datetime) -> Kpis:
    """Headline KPIs over the measured records; the backlog is counted at ``end`` (when
    arrivals stop)."""
    measured = [r for r in records if r.measured]
    solved = [r for r in measured if r.resolution is not None]
    # Solved at least once, as the reports count it: a ticket reopened (only a solved one
    # is) and not solved again since still counts, reopened and not solved on first contact.
    ever_solved = [r for r in measured if r.resolution is not None or r.reopens]
    n = len(measured)
    waits = [r.wait_for_agent for r in measured if r.wait_for_agent is not None]
    responses = [r.first_response for r in measured if r.first_response is not None]
    resolutions = [r.resolution for r in solved if r.resolution is not None]
    compliance: dict[str, float] = {}
    for name, attr in (
        ("first_response", "first_response_breached"),
        ("resolution", "resolution_breached"),
    ):
        outcomes = [getattr(r, attr) for r in measured if getattr(r, attr) is not None]
        if outcomes:
            compliance[name] = sum(1 for o in outcomes if not o) / len(outcomes)
    ratings = [r.satisfaction for r in measured if r.satisfaction is not None]

    return Kpis(
        tickets=n,
        solved=len(solved),
        first_contact_resolution=(
            sum(1 for r in ever_solved if r.first_contact and not r.reopens) / len(ever_solved)
        )
        if ever_solved
        else 0.0,
        escalation_rate=(sum(1 for r in measured if r.escalations) / n) if n else 0.0,
        reopen_rate=(sum(1 for r in ever_solved if r.reopens) / len(ever_solved))
        if ever_solved
        else 0.0,
        mean_wait_for_agent=_mean(waits),
        mean_first_response=_mean(responses),
        p90_first_response=_p90(responses),
        mean_resolution=_mean(resolutions),
        p90_resolution=_p90(resolutions),
        sla_compliance=compliance,
        csat=statistics.fmean(ratings) if ratings else None,
        backlog=sum(1 for r in records if _counts_open(r, end)),
        never_worked=n - len(waits),
        unanswered=n - len(responses),
    )


def _counts_open(record: TicketRecord, end: datetime) -> bool:
    if record.open_at_end is not None:
        return record.open_at_end
    return record.opened_at < end and (
        record.resolution is None or record.opened_at + timedelta(seconds=record.resolution) > end
    )
