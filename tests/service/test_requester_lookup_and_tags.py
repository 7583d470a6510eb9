"""Lookups, lists and labels as an app's forms hand them over."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from desk_stores import StoreFactory
from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, ValidationError
from helpdesk_core.model import Actor, Requester


def _desk() -> Helpdesk:
    config = DeskConfig.from_dict({"agents": [{"id": "alice", "teams": ["service-desk"]}]})
    return Helpdesk(config, MemoryStore(), ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))


def test_find_requester_ignores_blanks_around_the_address() -> None:
    desk = _desk()
    ada = desk.upsert_requester(Requester(id="ada", name="Ada", email="ada@example.com"))
    assert desk.find_requester(email=" ADA@example.com\t") == ada
    with pytest.raises(ValidationError, match="email"):
        desk.find_requester(email="   ")


def test_tags_given_as_a_mapping_are_refused() -> None:
    desk = _desk()
    desk.upsert_requester(Requester(id="r1", name="R"))
    with pytest.raises(ValidationError, match="list of tags, got dict"):
        desk.open(requester="r1", subject="Printer", tags={"printer": 1})
    ticket = desk.open(requester="r1", subject="Printer", tags="printer")
    assert ticket.tags == ("printer",)
    with pytest.raises(ValidationError, match="list of tags"):
        desk.update(ticket.id, by=Actor.system("import"), tags={"printer": True})
    assert desk.get(ticket.id).tags == ("printer",)


@pytest.mark.parametrize("category", ["\x00", "net\nwork", "printer\t", "a\x7fb"])
def test_a_category_with_a_control_character_is_refused(category: str) -> None:
    desk = _desk()
    desk.upsert_requester(Requester(id="r1", name="R"))
    with pytest.raises(ValidationError, match="one line of printable text"):
        desk.open(requester="r1", subject="Printer", category=category)
    ticket = desk.open(requester="r1", subject="Printer", category="Drucker (3. OG)")
    with pytest.raises(ValidationError, match="one line of printable text"):
        desk.update(ticket.id, by=Actor.system("import"), category=category)
    assert desk.get(ticket.id).category == "Drucker (3. OG)"


@pytest.mark.parametrize("category", ["Drucker\u00a0OG", "a\u200bb", "net\u2028work"])
def test_a_category_with_other_unprintable_characters_is_kept(category: str) -> None:
    # Not printable by str.isprintable, but no control character (Cc): accepted as before.
    desk = _desk()
    desk.upsert_requester(Requester(id="r1", name="R"))
    assert desk.open(requester="r1", subject="Printer", category=category).category == category


def test_finding_a_requester_by_an_address_that_is_not_unicode_says_so(
    make_store: StoreFactory,
) -> None:
    # A lookup stores nothing: every store names the field, not a failed write.
    desk = Helpdesk(
        DeskConfig.from_dict({}), make_store(), ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    )
    with pytest.raises(ValidationError) as caught:
        desk.find_requester(email="ada\ud800@example.com")
    assert caught.value.field == "email"
    assert "cannot be stored" not in str(caught.value)
