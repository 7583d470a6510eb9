"""The plotting helpers draw figures from a result (skipped without matplotlib)."""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from helpdesk_core.errors import ValidationError
from helpdesk_core.model import Actor, Event, SlaClock, SlaClockStopped, TicketOpened
from helpdesk_core.reporting import ReportResult, build_report
from helpdesk_core.reporting.plots import (
    plot_backlog_age,
    plot_sla_compliance,
    plot_volume_heatmap,
)

T0 = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


def history() -> list[Event]:
    rng = random.Random(3)
    events: list[Event] = []
    for i in range(60):
        opened = T0 + timedelta(hours=rng.randrange(24 * 28))
        events.append(
            TicketOpened(
                ticket_id=f"T{i}",
                at=opened,
                by=Actor.requester("r"),
                number=i,
                requester="r",
                subject="s",
            )
        )
        stopped = opened + timedelta(hours=1)
        breached = stopped if rng.random() < 0.3 else None
        clock = SlaClock(
            metric=rng.choice(("first_response", "resolution")),
            policy="p",
            calendar="c",
            target=timedelta(hours=1),
            state="breached" if breached else "met",
            started_at=opened,
            used=timedelta(hours=1),
            as_of=stopped,
            stopped_at=stopped,
            breached_at=breached,
        )
        events.append(
            SlaClockStopped(ticket_id=f"T{i}", at=stopped, by=Actor.system(), clock=clock)
        )
    events.sort(key=lambda e: e.at)
    return events


@pytest.fixture(scope="module")
def result() -> ReportResult:
    return build_report(history(), timezone="UTC")


def test_each_plot_is_a_figure_that_saves(result: ReportResult, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    for name, plot in (
        ("sla", plot_sla_compliance),
        ("backlog", plot_backlog_age),
        ("heatmap", plot_volume_heatmap),
    ):
        figure = plot(result)
        assert isinstance(figure, Figure)
        path = tmp_path / f"{name}.png"
        figure.savefig(path)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_sla_plot_has_one_line_per_metric_and_one_for_all(result: ReportResult) -> None:
    pytest.importorskip("matplotlib")
    axes = plot_sla_compliance(result).axes[0]
    labels = [line.get_label() for line in axes.get_lines()]
    assert labels == ["first_response", "resolution", "all metrics"]
    overall = axes.get_lines()[-1].get_ydata()
    assert len(overall) == 4  # four weeks of openings
    assert all(0 <= y <= 1 for y in overall)


def test_the_heatmap_holds_the_hour_of_week_grid(result: ReportResult) -> None:
    pytest.importorskip("matplotlib")
    image = plot_volume_heatmap(result).axes[0].get_images()[0]
    assert image.get_array().sum() == result.tickets
    assert image.get_array().shape == (7, 24)


def test_plots_without_matplotlib_name_the_extra(
    result: ReportResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match="analysis"):
        plot_backlog_age(result)


@pytest.mark.parametrize("plot", [plot_sla_compliance, plot_backlog_age, plot_volume_heatmap])
def test_plots_refuse_what_is_not_a_result_before_drawing(
    plot: Any, result: ReportResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # checked before drawing
    for wrong in (None, result.sla, {"sla": 1}):
        with pytest.raises(ValidationError, match="ReportResult") as caught:
            plot(wrong)
        assert caught.value.field == "result"
    with pytest.raises(ValidationError, match="title is text"):
        plot(result, title=5)
