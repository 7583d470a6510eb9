"""Run every benchmark against its peers in one run and write docs/performance.md.

    python -m benchmarks                # full sizes
    python -m benchmarks --quick        # smaller sizes, a few minutes
    python -m benchmarks --report-only  # rewrite the page (and its charts) from
                                        # benchmarks/results.json without measuring again

The page starts with a summary of every target (helpdesk_core against its peers, and the
costs that must not grow) and, when matplotlib is installed, two charts written to
docs/img/performance-*.png. The same results.json always gives the same page and the same
charts: everything shown, including the date and the machine, is read from the file.
Each suite runs in a fresh interpreter, its peers beside it, so that what one suite
leaves behind (a heap grown and freed, the collector's state) does not move the next
one's figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from benchmarks._suites import bench_module, run_suite

ROOT = Path(__file__).resolve().parents[1]
SUITES = ("calendar", "workflow", "routing", "storage", "service", "reporting", "simulation")
RESULTS = ROOT / "benchmarks" / "results.json"
PAGE = ROOT / "docs" / "performance.md"
IMAGES = ROOT / "docs" / "img"
META = "_meta"
RATIOS_CHART = "performance-ratios.png"
SCALING_CHART = "performance-scaling.png"

# Targets that the benchmark modules only print (the others are their TARGETS tables).
SIMULATION_TARGETS = {"fast_path_vs_simpy": 1.5, "full_desk_vs_simpy": 0.25}
SERVICE_OVERHEAD_TARGET = 0.30


# ---------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Check:
    """One figure of the summary: where it is in a suite's figures, how to read it, and its
    target. ``peer`` checks are ratios "peer cost / our cost" (higher favours
    helpdesk_core) and are drawn in the ratios chart; the others are costs of our own that
    must stay below their target."""

    suite: str
    label: str
    path: tuple[str, ...]
    target: float | None = None
    peer: bool = True
    invert: bool = False
    percent: bool = False

    def value(self, figures: dict[str, Any]) -> float | None:
        """The figure, inverted when the suite records our cost over the peer's."""
        found: Any = figures
        for key in self.path:
            if not isinstance(found, dict) or found.get(key) is None:
                return None
            found = found[key]
        if isinstance(found, bool) or not isinstance(found, int | float):
            return None
        number = float(found)
        if self.invert:
            return None if number == 0 else 1.0 / number
        return number

    def met(self, value: float | None) -> bool | None:
        """Whether ``value`` meets the target (None: no target or no value)."""
        if self.target is None or value is None:
            return None
        return value >= self.target if self.peer else value <= self.target


def _bench(suite: str) -> Any:
    """The benchmark module of ``suite`` (the modules live beside this file)."""
    return bench_module(suite)


def _targets(suite: str) -> dict[str, float]:
    """The TARGETS table of a benchmark module (empty when it has none)."""
    module = _bench(suite)
    table = getattr(module, "TARGETS", {})
    return {str(k): float(v) for k, v in table.items()}


def _inverse(value: float | None) -> float | None:
    return None if value is None else 1.0 / value


def checks() -> list[Check]:
    """Every figure the summary shows, in page order."""
    calendar = _targets("calendar")
    workflow = _targets("workflow")
    routing = _targets("routing")
    storage = _targets("storage")
    reporting = _targets("reporting")
    memory_target = float(_bench("storage").MEMORY_TARGET)
    out = [
        Check(
            "calendar",
            "add 4 business hours vs pandas",
            ("ratios", "vs_pandas_add"),
            calendar.get("vs_pandas_add"),
        ),
        Check(
            "calendar",
            "add 4 business hours vs businesstimedelta",
            ("ratios", "vs_businesstimedelta_4h"),
            calendar.get("vs_businesstimedelta_4h"),
        ),
        Check(
            "calendar",
            "business time elapsed vs businesstimedelta",
            ("ratios", "vs_businesstimedelta_elapsed"),
        ),
        Check(
            "calendar",
            "business time elapsed vs businesstime",
            ("ratios", "vs_businesstime_elapsed"),
        ),
    ]
    for peer in ("transitions", "python-statemachine"):
        for kind, label in (
            ("transition", "transition"),
            ("setup", "set-up"),
            ("memory", "memory"),
        ):
            target = workflow.get(kind) if peer == "transitions" else None
            out.append(
                Check("workflow", f"{label} vs {peer}", ("ratios", f"{kind} vs {peer}"), target)
            )
    out += [
        Check(
            "routing",
            "100 rules vs business-rules",
            ("ratios", "vs_business_rules"),
            routing.get("vs_business_rules"),
        ),
        Check(
            "routing", "100 rules vs a naive loop", ("ratios", "vs_naive"), routing.get("vs_naive")
        ),
    ]
    for engine, driver in (("sqlite", "sqlite3"), ("postgres", "psycopg")):
        for kind in ("import", "command", "load"):
            out.append(
                Check(
                    "storage",
                    f"{kind} vs raw {driver}",
                    ("ratios", f"{engine}_{kind}"),
                    storage.get(kind),
                )
            )
    out.append(
        Check(
            "storage",
            "command vs raw sqlite3, sustained (checkpoints included)",
            ("ratios", "sqlite_command_sustained"),
        )
    )
    out += [
        Check(
            "reporting",
            "report time vs pandas",
            ("ratios", "time_ratio"),
            _inverse(reporting.get("time_ratio")),
            invert=True,
        ),
        Check(
            "reporting",
            "report peak memory vs pandas",
            ("ratios", "memory_ratio"),
            _inverse(reporting.get("memory_ratio")),
            invert=True,
        ),
        Check(
            "simulation",
            "queueing fast path vs simpy",
            ("fast_path_vs_simpy",),
            SIMULATION_TARGETS["fast_path_vs_simpy"],
        ),
        Check(
            "simulation",
            "whole desk vs simpy's bare queue",
            ("full_desk_vs_simpy",),
            SIMULATION_TARGETS["full_desk_vs_simpy"],
        ),
        # Costs of our own that must not grow.
        Check(
            "calendar",
            "cost of a 400 h add over a 4 h add",
            ("ratios", "ours_400h_over_4h"),
            calendar.get("ours_400h_over_4h"),
            peer=False,
        ),
        Check(
            "routing",
            "cost of 1,000 rules over 100",
            ("ratios", "cost_100_to_1000"),
            routing.get("cost_100_to_1000"),
            peer=False,
        ),
        Check(
            "service",
            "facade overhead over its parts (memory)",
            ("memory", "overhead"),
            SERVICE_OVERHEAD_TARGET,
            peer=False,
            percent=True,
        ),
        Check(
            "service",
            "facade overhead over its parts (SQLite)",
            ("sqlite", "overhead"),
            SERVICE_OVERHEAD_TARGET,
            peer=False,
            percent=True,
        ),
        Check(
            "storage",
            "MemoryStore bytes per ticket",
            ("memory", "bytes_per_ticket"),
            memory_target,
            peer=False,
        ),
    ]
    return out


# ---------------------------------------------------------------------------- formatting


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in (
        "helpdesk-core",
        "pandas",
        "businesstimedelta",
        "transitions",
        "python-statemachine",
        "business-rules",
        "simpy",
        "ciw",
        "psycopg",
    ):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_fmt(v)}" for k, v in value.items())
    return str(value)


def _times(value: float) -> str:
    """A ratio as text: 51x, 1.45x, 0.0091x."""
    return f"{value:,.0f}x" if value >= 100 else f"{value:.3g}x"


def _shown(check: Check, value: float | None) -> str:
    if value is None:
        return "n/a"
    if check.percent:
        return f"{100 * value:.0f} %"
    if check.peer or check.path[-1].startswith(("ours_", "cost_")):
        return _times(value)
    return _fmt(value)


def _target_text(check: Check) -> str:
    if check.target is None:
        return ""
    sign = "≥" if check.peer else "≤"
    return f"{sign} {_shown(check, check.target)}"


def _flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                out.extend(_flatten(value, name))
            elif isinstance(value, list):
                out.append((name, f"{len(value)} values"))
            else:
                out.append((name, value))
    return out


# ---------------------------------------------------------------------------- charts


def _pyplot() -> Any | None:
    """matplotlib's pyplot on the Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "helpdesk_core",
}
MET, MISSED, NO_TARGET = "#2e7d32", "#c62828", "#90a4ae"


def _save(plt: Any, fig: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # No timestamp or version in the file: the same results give the same bytes.
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def ratios_chart(plt: Any, rows: Sequence[tuple[Check, float]], path: Path) -> None:
    """Horizontal bars from parity (1x) to each peer ratio, on a log scale, with each
    target marked."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    with plt.rc_context(STYLE):
        height = 1.2 + 0.32 * len(rows)
        fig, ax = plt.subplots(figsize=(8.4, height))
        labels = [f"{check.suite}: {check.label}" for check, _ in rows]
        ys = list(range(len(rows)))[::-1]
        values = [value for _, value in rows]
        low = min([*values, *(c.target for c, _ in rows if c.target is not None), 1.0])
        high = max([*values, *(c.target for c, _ in rows if c.target is not None), 1.0])
        left, right = (
            10 ** math.floor(math.log10(low) - 0.3),
            10 ** math.ceil(math.log10(high) + 0.6),
        )
        previous = None
        for y, (check, value) in zip(ys, rows, strict=True):
            if previous is not None and check.suite != previous:
                ax.axhline(y + 0.5, color="#e0e0e0", linewidth=0.8)
            previous = check.suite
            met = check.met(value)
            color = NO_TARGET if met is None else MET if met else MISSED
            ax.barh(y, value - 1.0, left=1.0, height=0.62, color=color)
            if check.target is not None:
                ax.plot([check.target] * 2, [y - 0.4, y + 0.4], color="black", linewidth=2)
            # The label goes past the bar and past the target mark, whichever is further.
            right_side = value >= 1
            edge = (
                value
                if check.target is None
                else (max(value, check.target) if right_side else min(value, check.target))
            )
            ax.annotate(
                _times(value),
                (edge, y),
                xytext=(5 if right_side else -5, 0),
                textcoords="offset points",
                va="center",
                ha="left" if right_side else "right",
                fontsize=8,
            )
        ax.axvline(1.0, color="#424242", linewidth=0.8, linestyle="--")
        ax.set_xscale("log")
        ax.set_xlim(left, right)
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_yticks(ys, labels)
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel("peer's cost ÷ helpdesk_core's cost (log scale; above 1x ours is lower)")
        ax.set_title("helpdesk_core against its peers, same machine, same run", loc="left")
        ax.legend(
            handles=[
                Patch(color=MET, label="target met"),
                Patch(color=MISSED, label="target missed"),
                Patch(color=NO_TARGET, label="no target"),
                Line2D([], [], color="black", linewidth=2, label="target"),
            ],
            loc="lower right",
            fontsize=8,
            frameon=False,
        )
        fig.tight_layout()
        _save(plt, fig, path)


def scaling_chart(plt: Any, results: dict[str, Any], path: Path) -> bool:
    """Cost against size: a business-time addition by duration, routing by rule count.
    Returns False (and writes nothing) when the figures are missing."""
    calendar = results.get("calendar", {}).get("figures", {})
    routing = results.get("routing", {}).get("figures", {}).get("us_per_ticket", {})
    hours = [4, 40, 400]
    lines = {
        name: [calendar.get(name, {}).get(f"add_{h}h") for h in hours]
        for name in ("ours", "pandas", "businesstimedelta")
    }
    rules = [10, 100, 1000]
    ours_rules = [routing.get(f"ours_{n}") for n in rules]
    if None in lines["ours"] or None in ours_rules:
        return False
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    with plt.rc_context(STYLE):
        fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.2))
        names = {
            "ours": "helpdesk_core",
            "pandas": "pandas",
            "businesstimedelta": "businesstimedelta",
        }
        for (name, values), marker in zip(lines.items(), ("o", "s", "^"), strict=True):
            if None not in values:
                left.plot(hours, values, marker=marker, label=names[name])
        left.set_xscale("log")
        left.set_yscale("log")
        left.set_xticks(hours, [f"{h} h" for h in hours])
        left.set_xlabel("business hours added")
        left.set_ylabel("µs per addition (log)")
        left.set_title("Business calendar: cost by duration", loc="left")
        left.legend(fontsize=8, frameon=False)
        right.plot(rules, ours_rules, marker="o", label="helpdesk_core")
        for key, label, marker in (
            ("naive_100", "naive loop", "s"),
            ("business_rules_100", "business-rules", "^"),
        ):
            if routing.get(key) is not None:
                right.plot([100], [routing[key]], marker=marker, linestyle="none", label=label)
        right.set_xscale("log")
        right.set_yscale("log")
        right.set_xticks(rules, [f"{n:,}" for n in rules])
        right.set_xlabel("rules in the rule set")
        right.set_ylabel("µs per ticket routed (log)")
        right.set_title("Routing: cost by rule count", loc="left")
        right.legend(fontsize=8, frameon=False)
        for ax in (left, right):
            low, high = ax.get_ylim()
            subs = (1.0,) if math.log10(high / low) > 2.5 else (1.0, 2.0, 5.0)
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=subs))
            ax.yaxis.set_major_formatter(
                FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}")
            )
            ax.yaxis.set_minor_formatter(NullFormatter())
        fig.tight_layout()
        _save(plt, fig, path)
    return True


# ---------------------------------------------------------------------------- the page


def render(results: dict[str, Any], *, page: Path, images: Path) -> list[Path]:
    """Write the page (and, with matplotlib, its charts) from ``results``; return the
    charts written."""
    meta: dict[str, Any] = results.get(META, {})
    suites = {name: data for name, data in results.items() if name != META}
    summary = [(c, c.value(suites.get(c.suite, {}).get("figures", {}))) for c in checks()]

    if meta:
        header = (
            f"Generated by `{meta['command']}` on {meta['date']} ({meta['machine']}, "
            f"{meta['cores']} cores, Python {meta['python']}). "
        )
    else:
        header = "Generated by `python -m benchmarks` (machine details were not recorded). "
    lines = [
        "# Performance",
        "",
        header + "Each benchmark measures helpdesk_core and its peers in the same run; "
        "figures move with machine load, the ratios much less. Rewrite this page from "
        "`benchmarks/results.json` with `python -m benchmarks --report-only`.",
        "",
    ]
    if meta.get("versions"):
        lines += ["Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()), ""]

    charts: list[Path] = []
    plt = _pyplot()
    relative = os.path.relpath(images, page.parent).replace(os.sep, "/")
    lines += ["## Summary", ""]
    peers = [(c, v) for c, v in summary if c.peer and v is not None]
    if plt is not None and peers:
        ratios_chart(plt, peers, images / RATIOS_CHART)
        charts.append(images / RATIOS_CHART)
        lines += [
            f"![helpdesk_core against its peers: peer cost over our cost per benchmark, "
            f"with targets]({relative}/{RATIOS_CHART})",
            "",
        ]
    lines += [
        "Against peers, a ratio is the peer's cost over helpdesk_core's (time, or memory "
        "where it says so): above 1x helpdesk_core needs less. The other figures are costs "
        "of helpdesk_core's own that must stay below their target.",
        "",
        "| benchmark | figure | value | target | |",
        "|---|---|---|---|---|",
    ]
    for check, value in summary:
        met = check.met(value)
        verdict = "" if met is None else "met" if met else "**missed**"
        lines.append(
            f"| {check.suite} | {check.label} | {_shown(check, value)} | "
            f"{_target_text(check)} | {verdict} |"
        )
    lines.append("")
    if plt is not None and scaling_chart(plt, suites, images / SCALING_CHART):
        charts.append(images / SCALING_CHART)
        lines += [
            f"![Cost by size: business-time additions by duration, routing by rule "
            f"count]({relative}/{SCALING_CHART})",
            "",
        ]

    for suite, data in suites.items():
        lines.append(f"## {suite}")
        lines.append("")
        lines.append("| figure | value |")
        lines.append("|---|---|")
        for key, value in _flatten(data.get("figures", {})):
            lines.append(f"| {key} | {_fmt(value)} |")
        lines.append("")
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text("\n".join(lines), encoding="utf-8")
    return charts


def measure(quick: bool) -> dict[str, Any]:
    """Run every suite; return the results with the details of this run."""
    results: dict[str, Any] = {
        META: {
            "command": "python -m benchmarks" + (" --quick" if quick else ""),
            "date": f"{datetime.now(UTC):%Y-%m-%d}",
            "machine": platform.machine(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "versions": _versions(),
        }
    }
    for suite in SUITES:
        started = time.perf_counter()
        # Each suite in a fresh interpreter: what one suite leaves behind (a heap grown
        # to a million objects and freed, caches, collector state) does not weigh on the
        # next one's figures.
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            figures = pool.submit(run_suite, suite, quick).result()
        results[suite] = {"seconds": time.perf_counter() - started, "figures": figures}
        print(f"{suite}: done in {results[suite]['seconds']:.0f}s", flush=True)
    return results



def main(argv: Sequence[str] | None = None, *, out: Callable[[str], None] = print) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a few minutes")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite the page and charts from the results file; measure nothing",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results file (JSON)")
    parser.add_argument("--page", type=Path, default=PAGE, help="the page to write")
    parser.add_argument("--images", type=Path, default=IMAGES, help="folder for the charts")
    args = parser.parse_args(argv)
    if args.report_only:
        if not args.results.is_file():
            parser.error(f"{args.results} does not exist: run the benchmarks first")
        results = json.loads(args.results.read_text(encoding="utf-8"))
    else:
        results = measure(args.quick)
        args.results.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
        out(f"wrote {args.results}")
    charts = render(results, page=args.page, images=args.images)
    out(f"wrote {args.page}" + "".join(f", {chart}" for chart in charts))
    if not charts:
        out("no charts: install matplotlib (the 'analysis' extra) to draw them")


if __name__ == "__main__":
    main()
