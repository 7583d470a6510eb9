"""Desk configuration documents: errors name the path of the bad part, and what loads
round-trips through ``to_dict``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpdesk_core import ConfigError, DeskConfig


def test_a_bad_desk_time_zone_names_its_path() -> None:
    with pytest.raises(ConfigError) as caught:
        DeskConfig.from_dict({"desk": {"timezone": "Mars/Base"}})
    assert caught.value.path == "desk.timezone"
    assert str(caught.value).startswith("desk.timezone: ")


def test_durations_with_fractions_of_a_second_round_trip() -> None:
    config = DeskConfig.from_dict(
        {
            "privacy": {
                "check_every": 1.5,
                "retention": [{"name": "short", "after": 90.75}],
            }
        }
    )
    assert config.privacy.check_every == timedelta(seconds=1.5)
    assert config.privacy.retention[0].after == timedelta(seconds=90.75)
    assert DeskConfig.from_dict(config.to_dict()) == config
    whole = DeskConfig.from_dict({"privacy": {"retention": [{"name": "y", "after": "30d"}]}})
    assert whole.to_dict()["privacy"]["retention"][0]["after"] == 30 * 86_400


def test_an_empty_address_is_no_address() -> None:
    config = DeskConfig.from_dict(
        {
            "teams": [{"id": "service-desk", "email": ""}],
            "agents": [{"id": "alice", "teams": ["service-desk"], "email": ""}],
        }
    )
    assert config.agent("alice").email is None
    assert DeskConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"assignment": {"weights": [1]}},
            "assignment.weights: expected a table (mapping), got list",
        ),
        ({"desk": None}, "desk: expected a table (mapping), got nothing"),
        ({"agents": [None]}, "agents[0]: expected a table (mapping), got nothing"),
        ({"tiers": ["L1"]}, "tiers[0]: expected a table (mapping), got str"),
    ],
)
def test_a_value_where_a_table_belongs_says_so(document: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        DeskConfig.from_dict(document)
    assert str(caught.value) == message
