"""Documents nested far deeper than any configuration needs are refused with a
ConfigError naming where, not a RecursionError."""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk_core import DeskConfig
from helpdesk_core.config import MAX_DOCUMENT_DEPTH
from helpdesk_core.errors import ConfigError
from helpdesk_core.routing import Condition
from helpdesk_core.simulation.scenario import Scenario


def _deep(levels: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(levels):
        value = {"x": value}
    return value


def _conditions(levels: int, key: str = "all") -> dict[str, Any]:
    condition: dict[str, Any] = {"field": "subject", "op": "contains", "value": "vpn"}
    for _ in range(levels):
        condition = {key: condition if key == "not" else [condition]}
    return condition


@pytest.mark.parametrize("levels", [MAX_DOCUMENT_DEPTH + 1, 5_000])
def test_a_deep_document_is_refused_where_it_nests_too_deep(levels: int) -> None:
    with pytest.raises(ConfigError) as refused:
        DeskConfig.from_dict({"desk": _deep(levels)})
    assert "nests deeper than" in refused.value.message
    assert refused.value.path is not None and refused.value.path.startswith("desk.x.x")


def test_deep_conditions_and_lists_are_refused() -> None:
    rule = {"name": "deep", "when": _conditions(5_000), "actions": {"priority": "low"}}
    with pytest.raises(ConfigError, match="nests deeper than"):
        DeskConfig.from_dict({"routing": [rule]})
    nested: list[Any] = []
    for _ in range(5_000):
        nested = [nested]
    with pytest.raises(ConfigError, match="nests deeper than"):
        DeskConfig.from_dict({"teams": nested})


def test_deep_toml_is_refused() -> None:
    with pytest.raises(ConfigError, match="nested too deep") as refused:
        DeskConfig.from_toml("x = " + "[" * 2_000 + "1" + "]" * 2_000 + "\n")
    assert refused.value.path == "$"
    with pytest.raises(ConfigError, match="nested too deep"):
        DeskConfig.from_toml("x = " + "{a=" * 2_000 + "1" + "}" * 2_000)


def test_a_deep_scenario_is_refused() -> None:
    with pytest.raises(ConfigError, match="nests deeper than") as refused:
        Scenario.from_dict({"desk": _deep(5_000)})
    assert refused.value.path is not None and refused.value.path.startswith("desk.x")


def test_a_deep_condition_value_is_described_briefly() -> None:
    with pytest.raises(ConfigError, match="takes a list, got dict") as refused:
        Condition.from_dict({"field": "subject", "op": "in", "value": _deep(5_000)})
    assert len(refused.value.message) < 200


def test_a_condition_as_deep_as_allowed_still_loads() -> None:
    rule = {"name": "deep", "when": _conditions(31), "actions": {"priority": "low"}}
    config = DeskConfig.from_dict({"routing": [rule]})
    assert config.routing.rules[0].name == "deep"
    rule["when"] = _conditions(31, "not")
    assert DeskConfig.from_dict({"routing": [rule]}).routing.rules[0].name == "deep"
