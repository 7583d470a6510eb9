"""The ``helpdesk-core`` command: what it checks before it runs, and what it says."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

import helpdesk_core.cli as cli
from helpdesk_core.cli import main


def staff_rows(monkeypatch: pytest.MonkeyPatch, args: Sequence[str]) -> dict[str, str]:
    """The figures ``staff`` prints, as a dict (the command must succeed)."""
    tables: list[dict[str, str]] = []
    monkeypatch.setattr(cli, "_table", lambda title, rows: tables.append(dict(rows)))
    assert main(["staff", *args]) == 0
    (rows,) = tables
    return rows


def test_staff_takes_a_target_of_zero_in_both_modes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = staff_rows(monkeypatch, ["--arrivals", "100", "--aht", "3m", "--target", "0s"])
    assert rows["agents required (Erlang C)"] == "8"
    assert rows["predicted service level"].endswith("within 0s")
    rows = staff_rows(monkeypatch, ["--target", "0s", "--days", "2"])
    assert "L1 predicted within 0s" in rows
    assert "[staffing]" in capsys.readouterr().out


def test_staff_without_arrivals_needs_erlang_c_s_smallest_pool_and_checks_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = staff_rows(monkeypatch, ["--arrivals", "0", "--aht", "3m", "--target", "20s"])
    assert rows["traffic"] == "0.00 Erlangs"
    assert rows["agents required (Erlang C)"] == "1 (no tickets arrive: Erlang C's smallest pool)"
    assert rows["predicted service level"] == "100.0% within 20s"
    assert rows["simulated service level"] == "not checked: no tickets arrive"
    assert "simulated P(wait > 0)" not in rows
    assert rows["occupancy"] == "0.0%"


@pytest.mark.parametrize("arrivals", ["-5", "nan", "inf"])
def test_staff_refuses_arrivals_that_are_not_a_rate(
    arrivals: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["staff", "--arrivals", arrivals, "--aht", "3m", "--target", "20s"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("helpdesk-core: --arrivals: tickets per hour, finite and >= 0, got ")
    assert err.count("\n") == 1
