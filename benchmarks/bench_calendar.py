"""Benchmark: BusinessCalendar.add / elapsed side by side with other business-time libraries.

Schedule: Mon-Fri 09:00-17:00 in Europe/Berlin with the German public holidays of 2026-2028
(from the ``holidays`` package). Every library gets the same random start instants in 2026.

    python benchmarks/bench_calendar.py            # full run
    python benchmarks/bench_calendar.py --quick    # fewer starts and repeats

Peers (each optional, reported as "not installed" when missing): pandas ``CustomBusinessHour``
(add), ``businesstimedelta`` (add and elapsed), ``businesstime`` (elapsed). Timings are the
best of several interleaved rounds, in microseconds per operation; the calendar's lazily built
year cache is warmed first, and the cost of that first build is reported on its own.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from helpdesk_core.sla.calendar import BusinessCalendar

ZONE = "Europe/Berlin"
HOURS = (4, 40, 400)
TARGETS = {"vs_pandas_add": 20.0, "vs_businesstimedelta_4h": 20.0, "ours_400h_over_4h": 1.5}


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _german_holidays() -> Any:
    import holidays

    return holidays.country_holidays("DE", years=range(2026, 2029))


def _starts(count: int, seed: int = 20260501) -> list[datetime]:
    rng = random.Random(seed)
    zone = ZoneInfo(ZONE)
    first = datetime(2026, 1, 1, tzinfo=zone)
    return [
        (
            first.astimezone(ZoneInfo("UTC")) + timedelta(minutes=rng.randrange(365 * 1440))
        ).astimezone(zone)
        for _ in range(count)
    ]


def _best_us(
    jobs: dict[str, tuple[Callable[[Any], object], Sequence[Any]]], rounds: int
) -> dict[str, float]:
    """Best time per call (µs) of each job over interleaved rounds."""
    best = dict.fromkeys(jobs, float("inf"))
    for _ in range(rounds):
        for name, (call, args) in jobs.items():
            began = time.perf_counter()
            for arg in args:
                call(arg)
            spent = time.perf_counter() - began
            best[name] = min(best[name], spent / len(args) * 1e6)
    return best


def run(quick: bool = False) -> dict[str, Any]:
    """Measure every library on the same starts; return the figures (µs per operation)."""
    count, rounds = (300, 3) if quick else (2000, 7)
    peer_count = max(30, count // 10)  # the peers are slower: time them on fewer starts
    starts = _starts(count)
    rng = random.Random(7)
    ends = [s + timedelta(minutes=rng.randrange(30 * 1440)) for s in starts]
    pairs = list(zip(starts, ends))
    holiday_source = _german_holidays() if _installed("holidays") else []
    holiday_list: list[date] = sorted(holiday_source)

    results: dict[str, Any] = {"starts": count, "peer_starts": peer_count}

    # -- ours --
    began = time.perf_counter()
    cal = BusinessCalendar(timezone=ZONE, hours={"mon-fri": "09:00-17:00"}, holidays=holiday_source)
    cal.add(starts[0], timedelta(hours=4))
    results["ours_first_call_ms"] = (time.perf_counter() - began) * 1e3
    durations = {h: timedelta(hours=h) for h in HOURS}
    for s in starts:  # warm the year cache for every duration
        cal.add(s, durations[HOURS[-1]])
    jobs: dict[str, tuple[Callable[[Any], object], Sequence[Any]]] = {
        f"add_{h}h": (lambda s, d=durations[h]: cal.add(s, d), starts) for h in HOURS
    }
    jobs["elapsed"] = (lambda p: cal.elapsed(p[0], p[1]), pairs)
    results["ours"] = _best_us(jobs, rounds)

    # -- pandas CustomBusinessHour --
    if _installed("pandas"):
        import pandas as pd

        offsets = {
            h: pd.offsets.CustomBusinessHour(n=h, start="09:00", end="17:00", holidays=holiday_list)
            for h in HOURS
        }
        stamps = [pd.Timestamp(s) for s in starts[:peer_count]]
        results["pandas"] = _best_us(
            {f"add_{h}h": (lambda t, o=offsets[h]: t + o, stamps) for h in HOURS},
            rounds,
        )
        # pandas moves a deadline that falls at closing time to the next opening: the same
        # instant as ours up to closed time.
        results["pandas_agrees"] = all(
            cal.elapsed(
                *sorted((cal.add(s, durations[h]), (pd.Timestamp(s) + offsets[h]).to_pydatetime()))
            )
            == timedelta(0)
            for s in starts[:20]
            for h in HOURS
        )
    else:
        results["pandas"] = None

    # -- businesstimedelta --
    if _installed("businesstimedelta") and _installed("pytz"):
        import businesstimedelta as btd
        import pytz

        tz = pytz.timezone(ZONE)
        rules = btd.Rules(
            [
                btd.WorkDayRule(
                    start_time=datetime.min.time().replace(hour=9),
                    end_time=datetime.min.time().replace(hour=17),
                    working_days=[0, 1, 2, 3, 4],
                    tz=tz,
                ),
                btd.HolidayRule(holiday_source, tz=tz),
            ]
        )
        deltas = {h: btd.BusinessTimeDelta(rules, hours=h) for h in HOURS}
        local_starts = [s.astimezone(tz) for s in starts[:peer_count]]
        local_pairs = [(s.astimezone(tz), e.astimezone(tz)) for s, e in pairs[:peer_count]]
        # Its cost grows with the duration: time the longest on fewer starts.
        bjobs: dict[str, tuple[Callable[[Any], object], Sequence[Any]]] = {
            f"add_{h}h": (
                lambda s, d=deltas[h]: s + d,
                local_starts if h < 400 else local_starts[: max(10, peer_count // 5)],
            )
            for h in HOURS
        }
        bjobs["elapsed"] = (lambda p: rules.difference(p[0], p[1]), local_pairs)
        results["businesstimedelta"] = _best_us(bjobs, rounds)
        results["businesstimedelta_agrees"] = all(
            cal.add(s, durations[h]) == s.astimezone(tz) + deltas[h]
            for s in starts[:20]
            for h in HOURS
        )
    else:
        results["businesstimedelta"] = None

    # -- businesstime (naive wall-clock times, elapsed only) --
    if _installed("businesstime"):
        from businesstime import BusinessTime

        bt = BusinessTime(holidays=holiday_list)
        naive_pairs = [
            (s.replace(tzinfo=None), e.astimezone(s.tzinfo).replace(tzinfo=None))
            for s, e in pairs[:peer_count]
        ]
        results["businesstime"] = _best_us(
            {"elapsed": (lambda p: bt.businesstimedelta(p[0], p[1]), naive_pairs)}, rounds
        )
    else:
        results["businesstime"] = None

    ours = results["ours"]
    ratios: dict[str, float | None] = {
        "ours_400h_over_4h": ours["add_400h"] / ours["add_4h"],
        "vs_pandas_add": None,
        "vs_businesstimedelta_4h": None,
        "vs_businesstimedelta_elapsed": None,
        "vs_businesstime_elapsed": None,
    }
    if results["pandas"]:
        ratios["vs_pandas_add"] = results["pandas"]["add_4h"] / ours["add_4h"]
    if results["businesstimedelta"]:
        ratios["vs_businesstimedelta_4h"] = results["businesstimedelta"]["add_4h"] / ours["add_4h"]
        ratios["vs_businesstimedelta_elapsed"] = (
            results["businesstimedelta"]["elapsed"] / ours["elapsed"]
        )
    if results["businesstime"]:
        ratios["vs_businesstime_elapsed"] = results["businesstime"]["elapsed"] / ours["elapsed"]
    results["ratios"] = ratios
    results["targets_met"] = {
        name: None
        if ratios[name] is None
        else (ratios[name] <= goal if name == "ours_400h_over_4h" else ratios[name] >= goal)  # type: ignore[operator]
        for name, goal in TARGETS.items()
    }
    return results


def _print(results: dict[str, Any]) -> None:
    columns = [f"add_{h}h" for h in HOURS] + ["elapsed"]
    print(f"µs per operation ({results['starts']} starts; peers on {results['peer_starts']})")
    print(f"{'library':<22}" + "".join(f"{c:>12}" for c in columns))
    for name in ("ours", "pandas", "businesstimedelta", "businesstime"):
        row = results[name]
        if row is None:
            print(f"{name:<22}{'not installed':>12}")
            continue
        cells = "".join(f"{row[c]:>12.1f}" if c in row else f"{'-':>12}" for c in columns)
        print(f"{name:<22}{cells}")
    print(f"first call (builds the year cache): {results['ours_first_call_ms']:.1f} ms")
    for key in ("pandas_agrees", "businesstimedelta_agrees"):
        if key in results:
            print(f"{key}: {results[key]}")
    print("ratios:")
    for name, value in results["ratios"].items():
        goal = TARGETS.get(name)
        met = results["targets_met"].get(name)
        shown = "n/a" if value is None else f"{value:.2f}"
        note = ""
        if goal is not None and met is not None:
            sign = "≤" if name == "ours_400h_over_4h" else "≥"
            note = f"  (target {sign} {goal:g}: {'met' if met else 'NOT met'})"
        print(f"  {name:<30}{shown:>10}{note}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer starts and rounds")
    args = parser.parse_args(argv)
    _print(run(quick=args.quick))


if __name__ == "__main__":
    main()
