"""One-line plots of a report's result (needs the ``analysis`` extra: matplotlib).

Each helper returns a :class:`matplotlib.figure.Figure` drawn on the Agg canvas, without
pyplot, so it works on servers and in notebooks alike and never changes the caller's
backend: ``plot_volume_heatmap(result).savefig("volume.png")``.
"""

from __future__ import annotations

from typing import Any

from helpdesk_core.errors import ValidationError
from helpdesk_core.reporting.records import WEEKDAYS, ReportResult

__all__ = ["plot_backlog_age", "plot_sla_compliance", "plot_volume_heatmap"]


def _check(result: Any, title: Any) -> None:
    """Refuse what is not a report's result (e.g. one of its tables) or a title that is
    not text, before anything is drawn."""
    if not isinstance(result, ReportResult):
        raise ValidationError(
            f"expected a ReportResult (report.result()), got {type(result).__name__}",
            field="result",
        )
    if not isinstance(title, str):
        raise ValidationError(f"a title is text, got {type(title).__name__}", field="title")


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("plots need matplotlib: pip install 'helpdesk-core[analysis]'") from exc
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def plot_sla_compliance(result: ReportResult, *, title: str = "SLA compliance") -> Any:
    """Share of settled SLA clock cycles that met their target, per week of opening, one
    line per metric and one for all metrics."""
    _check(result, title)
    figure = _figure(8, 4)
    axes = figure.add_subplot()
    weeks: dict[str, dict[Any, float]] = {}
    overall: dict[Any, list[int]] = {}
    for row in result.sla.by_week:
        if row.week is None or row.metric is None or row.rate is None:
            continue
        weeks.setdefault(row.metric, {})[row.week] = row.rate
        cell = overall.setdefault(row.week, [0, 0])
        cell[0] += row.met
        cell[1] += row.total
    for metric, points in sorted(weeks.items()):
        days = sorted(points)
        axes.plot(days, [points[d] for d in days], marker="o", label=metric)
    if overall:
        days = sorted(overall)
        axes.plot(
            days,
            [overall[d][0] / overall[d][1] for d in days],
            color="black",
            linewidth=2,
            label="all metrics",
        )
        axes.legend(loc="lower left")
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("met / settled")
    axes.set_xlabel(f"week of opening ({result.timezone})")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    figure.autofmt_xdate()
    return figure


def plot_backlog_age(result: ReportResult, *, title: str = "Backlog by age") -> Any:
    """Active tickets at the report's ``as_of``, one bar per age bucket."""
    _check(result, title)
    figure = _figure(6, 4)
    axes = figure.add_subplot()
    rows = result.backlog.by_age.rows
    bars = axes.bar([row.label for row in rows], [row.count for row in rows], color="#4c72b0")
    axes.bar_label(bars)
    as_of = result.backlog.as_of.isoformat(timespec="minutes") if result.backlog.as_of else "-"
    axes.set_title(f"{title} (as of {as_of})")
    axes.set_xlabel("age")
    axes.set_ylabel("active tickets")
    return figure


def plot_volume_heatmap(result: ReportResult, *, title: str = "Tickets by hour of week") -> Any:
    """Tickets opened per weekday (rows, Monday first) and hour of day (columns)."""
    _check(result, title)
    figure = _figure(10, 3.6)
    axes = figure.add_subplot()
    volume = result.volume.by_hour_of_week
    image = axes.imshow(list(volume.grid()), aspect="auto", cmap="viridis", origin="upper")
    axes.set_yticks(range(7), [day.capitalize() for day in WEEKDAYS])
    axes.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    axes.set_xlabel(f"hour of day ({volume.timezone})")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, label="tickets")
    return figure
