"""Field names with dots, blank categories and huge numbers in rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester
from helpdesk_core.errors import ConfigError

T0 = datetime(2026, 5, 4, 10, tzinfo=UTC)
BASE = {"tiers": [{"id": "L1", "teams": ["desk"]}], "teams": [{"id": "desk"}]}


def test_custom_fields_and_requester_attributes_with_dots_can_be_tested() -> None:
    rules = [
        {"name": "mac", "when": {"field": "fields.os.version", "op": "eq", "value": "14"},
         "actions": {"add_tags": ["mac14"]}},
        {"name": "cc", "when": {"field": "requester.cost.center", "op": "eq", "value": 42},
         "actions": {"add_tags": ["cc42"]}},
    ]  # fmt: skip
    desk = Helpdesk(DeskConfig.from_dict({**BASE, "routing": rules}), MemoryStore(),
                    ManualClock(T0))  # fmt: skip
    ada = Requester(id="ada", attributes={"cost.center": 42})
    ticket = desk.open(requester=ada, subject="Update", fields={"os.version": "14"})
    assert set(ticket.tags) == {"mac14", "cc42"}
    other = desk.open(requester=Requester(id="bo"), subject="x", fields={"os": "14"})
    assert other.tags == ()


def test_a_rule_may_not_set_a_blank_category() -> None:
    doc = {**BASE, "routing": [{"name": "blank", "actions": {"category": "  "}}]}
    with pytest.raises(ConfigError, match="non-blank") as caught:
        DeskConfig.from_dict(doc)
    assert caught.value.path == "routing[0].actions.category"


@pytest.mark.parametrize("field", ["number", "fields.count", "requester.size"])
def test_a_condition_takes_whole_numbers_a_desk_can_store(field: str) -> None:
    def doc(value: int) -> dict[str, object]:
        when = {"field": field, "op": "gt", "value": value}
        return {**BASE, "routing": [{"name": "r", "when": when, "actions": {}}]}

    config = DeskConfig.from_dict(doc(10**3999))
    MemoryStore().save_config_document(config.to_dict())  # storable as JSON
    with pytest.raises(ConfigError, match="4,000 digits") as caught:
        DeskConfig.from_dict(doc(10**5000))
    assert caught.value.path == "routing[0].when.value"
