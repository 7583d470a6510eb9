"""TicketQuery(number=...) validates what it is given (the stores are checked by the
conformance suite's filter test)."""

from __future__ import annotations

import pytest

from helpdesk_core.errors import ValidationError
from helpdesk_core.storage import TicketQuery


@pytest.mark.parametrize("bad", [0, -1, True, "7", 1.0, [], [1, "x"], object()])
def test_bad_numbers_are_refused(bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        TicketQuery(number=bad)
    assert info.value.field == "number"


def test_one_number_or_several() -> None:
    assert TicketQuery(number=7).number == (7,)
    assert TicketQuery(number=[3, 1]).number == (3, 1)
    assert TicketQuery().number is None
