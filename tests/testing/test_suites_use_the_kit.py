"""The package's own property tests draw domain objects from the shipped strategies.

A private strategy for a class the kit generates drifts from it: it stops covering what
the kit covers (DST zones, night shifts, replayed histories) and the kit loses the tests
that would show its gaps. So no test module outside the kit's own tests may build one
with ``st.builds``, and the property modules below must import the kit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
#: Classes the kit draws (``helpdesk_core.testing.strategies``).
KIT_CLASSES = {
    "Actor",
    "Agent",
    "BusinessCalendar",
    "Condition",
    "DeskConfig",
    "EscalationPolicy",
    "Lifecycle",
    "Requester",
    "Rule",
    "RuleSet",
    "SlaPolicy",
    "Team",
    "Ticket",
    "TicketOpened",
    "Tier",
}
#: Property tests whose domain objects come from the kit.
USERS = [
    "foundation/test_codec.py",
    "foundation/test_codec_generated.py",
    "foundation/test_copier.py",
    "routing/test_routing_properties.py",
    "service/test_desk_machine.py",
    "sla/test_calendar_oracle.py",
    "storage/test_sqlite_store.py",
    "workflow/test_lifecycle.py",
]


def _private_builds(tree: ast.AST) -> list[str]:
    """``st.builds(Ticket, ...)`` / ``builds(Ticket, ...)`` calls for a kit class."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func, target = node.func, node.args[0]
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "builds" and isinstance(target, ast.Name) and target.id in KIT_CLASSES:
            found.append(f"line {node.lineno}: builds({target.id}, ...)")
    return found


def test_no_test_module_builds_its_own_strategy_for_a_kit_class() -> None:
    offenders = {}
    for path in sorted(TESTS.rglob("*.py")):
        if path.parent == TESTS / "testing":
            continue  # the kit's own tests
        found = _private_builds(ast.parse(path.read_text(encoding="utf-8")))
        if found:
            offenders[str(path.relative_to(TESTS))] = found
    assert not offenders, f"use helpdesk_core.testing.strategies instead: {offenders}"


def test_the_checker_sees_a_private_strategy() -> None:
    code = "from hypothesis import strategies as st\nt = st.builds(Ticket, id=st.just('T-1'))\n"
    assert _private_builds(ast.parse(code)) == ["line 2: builds(Ticket, ...)"]


@pytest.mark.parametrize("module", USERS)
def test_property_modules_import_the_kit(module: str) -> None:
    tree = ast.parse((TESTS / module).read_text(encoding="utf-8"))
    imports = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module is not None
    }
    assert "helpdesk_core.testing.strategies" in imports
