"""Bad arguments to the public helper functions (workflow, model, e-mail, codec,
simulation): a ValidationError naming the argument, never a TypeError, AttributeError or
OverflowError from deep inside."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpdesk_core.demo import example_config
from helpdesk_core.errors import ValidationError

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_business_days_from_the_last_instants_are_refused() -> None:
    from helpdesk_core.workflow import add_business_days

    calendar = next(iter(example_config().calendars.values()))
    last = datetime.max.replace(tzinfo=UTC)
    for days in (0, 1):
        with pytest.raises(ValidationError) as caught:
            add_business_days(calendar, last, days)
        assert caught.value.field == "start"
    with pytest.raises(ValidationError) as caught:
        add_business_days(None, T0, 1)  # type: ignore[arg-type]
    assert caught.value.field == "calendar"
    assert add_business_days(calendar, T0, 1) > T0
