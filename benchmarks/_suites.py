"""Loading and running one benchmark suite (a module of its own, so that a fresh
interpreter started for a suite can import it)."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent


def bench_module(suite: str) -> Any:
    """The benchmark module of ``suite`` (the modules live beside this file)."""
    folder = str(FOLDER)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module(f"bench_{suite}")


def run_suite(suite: str, quick: bool) -> dict[str, Any]:
    """The figures of one suite, measured in this process (PostgreSQL figures of the
    storage suite when ``HELPDESK_TEST_POSTGRES_DSN`` is set)."""
    module = bench_module(suite)
    if suite == "storage":
        dsn = os.environ.get("HELPDESK_TEST_POSTGRES_DSN")
        figures: dict[str, Any] = module.run(quick, dsn=dsn)
    else:
        figures = module.run(quick)
    return figures
