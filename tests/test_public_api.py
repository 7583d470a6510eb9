"""The package facade: ``__all__`` lists exactly the public names, all importable."""

from __future__ import annotations

import subprocess
import sys

import helpdesk_core


def test_all_matches_the_public_names() -> None:
    public = {
        name
        for name in vars(helpdesk_core)
        if not name.startswith("_") and name not in {"TYPE_CHECKING", "Any", "annotations"}
    }
    modules = {name for name in public if type(getattr(helpdesk_core, name)).__name__ == "module"}
    assert set(helpdesk_core.__all__) - {"PostgresStore", "__version__"} == public - modules
    for name in helpdesk_core.__all__:
        assert getattr(helpdesk_core, name) is not None


def test_every_public_name_has_a_docstring() -> None:
    for name in helpdesk_core.__all__:
        value = getattr(helpdesk_core, name)
        if callable(value):
            assert value.__doc__, f"{name} has no docstring"


def test_importing_the_package_needs_only_the_core_dependencies() -> None:
    code = (
        "import sys, helpdesk_core; "
        "bad = [m for m in ('psycopg', 'pandas', 'matplotlib', 'rich', 'holidays') "
        "if m in sys.modules]; print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
