"""The pytest plugin: fixtures, profile registration, and loading as a plugin."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester
from helpdesk_core.errors import ValidationError
from helpdesk_core.testing.plugin import MONDAY_MORNING, DeskFactory, register_profiles


def test_manual_clock_starts_on_a_monday_morning_in_berlin(manual_clock: ManualClock) -> None:
    now = manual_clock.now()
    assert now == datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert now.weekday() == 0
    assert now == MONDAY_MORNING


def test_desk_runs_the_example_config_on_the_manual_clock(
    desk: Helpdesk, manual_clock: ManualClock
) -> None:
    assert desk.config.settings.name == "Example IT desk"
    ticket = desk.open(requester=Requester(id="ada", name="Ada"), subject="VPN drops")
    assert ticket.id == "T-000001"
    assert ticket.created_at == manual_clock.now()
    manual_clock.advance(timedelta(days=5))
    desk.tick()
    assert desk.get(ticket.id).sla["first_response"].breached_at is not None


def test_desk_factory_takes_config_store_and_clock(
    desk_factory: DeskFactory, manual_clock: ManualClock
) -> None:
    store = MemoryStore()
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC")))
    plain = desk_factory(config=DeskConfig(), store=store, clock=clock)
    assert plain.store is store
    assert plain.clock is clock
    assert plain.config == DeskConfig()
    default = desk_factory()
    assert default.clock is manual_clock
    assert default.open(requester=Requester(id="bo"), subject="Printer").id == "T-000001"


def test_register_profiles_registers_and_selects_by_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("HELPDESK_PROFILE", raising=False)
    kwargs = {
        "ci_examples": 321,
        "dev_examples": 12,
        "ci_name": "hd-ci",
        "dev_name": "hd-dev",
        "env_var": "HELPDESK_PROFILE",
        "load": False,
    }
    assert register_profiles(**kwargs) == "hd-dev"  # type: ignore[arg-type]
    assert settings.get_profile("hd-ci").max_examples == 321
    assert settings.get_profile("hd-ci").derandomize
    assert settings.get_profile("hd-dev").max_examples == 12
    monkeypatch.setenv("CI", "true")
    assert register_profiles(**kwargs) == "hd-ci"  # type: ignore[arg-type]
    monkeypatch.setenv("HELPDESK_PROFILE", "hd-dev")
    assert register_profiles(**kwargs) == "hd-dev"  # type: ignore[arg-type]
    monkeypatch.setenv("HELPDESK_PROFILE", "hd-nightly")
    with pytest.raises(ValidationError, match="hd-nightly"):
        register_profiles(**kwargs)  # type: ignore[arg-type]
    # a profile the project registered itself (or Hypothesis's own) may be chosen
    settings.register_profile("hd-nightly", max_examples=5000)
    assert register_profiles(**kwargs) == "hd-nightly"  # type: ignore[arg-type]
    monkeypatch.setenv("HELPDESK_PROFILE", "default")
    assert register_profiles(**kwargs) == "default"  # type: ignore[arg-type]


def test_register_profiles_loads_the_chosen_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_PROFILE", "hd-dev2")
    try:
        chosen = register_profiles(
            dev_examples=7, ci_name="hd-ci2", dev_name="hd-dev2", env_var="HELPDESK_PROFILE"
        )
        assert chosen == "hd-dev2"
        assert settings.default.max_examples == 7
    finally:
        settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def test_register_profiles_validates_its_arguments() -> None:
    with pytest.raises(ValidationError):
        register_profiles(ci_examples=0, load=False)
    with pytest.raises(ValidationError):
        register_profiles(ci_name="same", dev_name="same", load=False)
    for name in ("ci_name", "dev_name", "env_var"):
        for bad in (None, "", 7):
            with pytest.raises(ValidationError, match=name):
                register_profiles(**{name: bad, "load": False})
    with pytest.raises(ValidationError, match="load"):
        register_profiles(load="yes")  # type: ignore[arg-type]


def test_the_plugin_loads_from_its_entry_point(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(
        "from hypothesis import given, strategies as st\n"
        "from helpdesk_core.model import Ticket\n"
        "def test_desk(desk, manual_clock):\n"
        "    assert desk.clock is manual_clock\n"
        "@given(st.from_type(Ticket))\n"
        "def test_from_type(ticket):\n"
        "    assert ticket.version >= 1\n",
        encoding="utf-8",
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


@pytest.mark.parametrize("how", ["conftest", "option"])
def test_the_plugin_may_also_be_named_explicitly(tmp_path: Path, how: str) -> None:
    """Installed, the plugin loads by itself; naming it as the docs show must not clash."""
    (tmp_path / "test_user.py").write_text(
        "def test_desk(desk, manual_clock):\n    assert desk.clock is manual_clock\n",
        encoding="utf-8",
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)]
    if how == "conftest":
        (tmp_path / "conftest.py").write_text(
            'pytest_plugins = ["helpdesk_core.testing.plugin"]\n', encoding="utf-8"
        )
    else:
        args[4:4] = ["-p", "helpdesk_core.testing.plugin"]
    result = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
