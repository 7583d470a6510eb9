"""Every script in examples/ runs to completion."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("server", "problem"),
    [
        ("host:notaport", "the port is a number from 1 to 65535, got 'notaport'"),
        ("host:0", "the port is a number from 1 to 65535, got '0'"),
        (":25", "expected HOST[:PORT], got ':25'"),
        ("::1", "write an IPv6 address in brackets ([::1]:25), got '::1'"),
    ],
)
def test_the_email_gateway_refuses_a_bad_smtp_server_before_it_runs(
    server: str, problem: str, tmp_path: Path
) -> None:
    script = next(p for p in EXAMPLES if p.name == "email_gateway.py")
    result = subprocess.run(
        [sys.executable, str(script), "--send", server],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"email_gateway.py: error: argument --send: {problem}"
    )
    assert "Traceback" not in result.stderr
