"""Charts of a simulation run (needs the ``analysis`` extra: matplotlib).

Each chart is a :class:`matplotlib.figure.Figure` drawn on the Agg canvas, without pyplot,
so it works on servers and in notebooks alike and never changes the caller's backend."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from helpdesk_core.errors import ValidationError
from helpdesk_core.simulation.result import SimulationResult

__all__ = ["plot_first_response", "plot_volume_by_day", "save_charts"]


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("charts need matplotlib: pip install 'helpdesk-core[analysis]'") from exc
    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure


def _check_result(result: Any) -> None:
    if not isinstance(result, SimulationResult):
        raise ValidationError(
            f"expected a SimulationResult, got {type(result).__name__}", field="result"
        )


def plot_volume_by_day(result: SimulationResult) -> Any:
    """Tickets opened per day, as a bar chart; returns the Figure."""
    _check_result(result)
    zone = ZoneInfo(result.scenario.desk.settings.timezone)  # days as the desk counts them
    counts = Counter(r.opened_at.astimezone(zone).date() for r in result.records)
    days = sorted(counts)
    fig = _figure(8, 3)
    ax = fig.add_subplot()
    ax.bar(days, [counts[d] for d in days])
    ax.set_title("Tickets opened per day")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def plot_first_response(result: SimulationResult) -> Any:
    """Distribution of first-response times (hours) of measured tickets; returns the Figure."""
    _check_result(result)
    hours = [r.first_response / 3600 for r in result.records
             if r.measured and r.first_response is not None]
    fig = _figure(6, 3)
    ax = fig.add_subplot()
    ax.hist(hours, bins=40)
    ax.set_xlabel("hours to first response (calendar time)")
    ax.set_ylabel("tickets")
    fig.tight_layout()
    return fig


def save_charts(result: SimulationResult, folder: str | os.PathLike[str]) -> list[str]:
    """Write the standard charts as PNG files into ``folder`` (an existing folder, as a
    path or text); returns their names."""
    _check_result(result)
    if not isinstance(folder, str | os.PathLike):
        raise ValidationError(
            f"expected a folder path, got {type(folder).__name__}", field="folder"
        )
    folder = Path(folder)
    if not folder.is_dir():
        raise ValidationError(f"{str(folder)!r} is not a folder", field="folder")
    written = []
    for name, make in (("volume_by_day.png", plot_volume_by_day),
                       ("first_response.png", plot_first_response)):
        fig = make(result)
        fig.savefig(folder / name, dpi=100)
        written.append(name)
    return written
