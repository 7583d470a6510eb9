"""The TOML writer: what it writes reads back as the document it was given."""

from __future__ import annotations

import math
import tomllib
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk_core._toml import dumps, key
from helpdesk_core.errors import ValidationError

_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_scalars = (
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | _text
    | st.datetimes(timezones=st.just(UTC))
    | st.dates()
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)
_documents = st.recursive(
    st.dictionaries(_text, _values, max_size=5),
    lambda inner: st.dictionaries(_text, inner | _values, max_size=4),
    max_leaves=20,
)


@given(_documents)
def test_what_is_written_reads_back(document: dict[str, Any]) -> None:
    assert tomllib.loads(dumps(document)) == document


def test_tables_come_after_the_values_and_odd_keys_are_quoted() -> None:
    text = dumps({"b": {"x": 1}, "a": 1.5, "odd key": "é\n\x7f", "mix": [{"k": [1, 2]}]})
    assert text.splitlines()[:4] == [
        "a = 1.5",
        '"odd key" = "é\\n\\u007f"',
        "mix = [{ k = [1, 2] }]",
        "",
    ]
    assert "[b]" in text
    assert key("L1") == "L1" and key("service-desk") == "service-desk"
    assert key("") == '""' and key("a.b") == '"a.b"'
    loaded = tomllib.loads(dumps({"n": math.inf, "m": -math.inf, "z": math.nan}))
    assert loaded["n"] == math.inf and loaded["m"] == -math.inf and math.isnan(loaded["z"])
    assert tomllib.loads(dumps({"d": date(2026, 3, 2), "t": datetime(2026, 3, 2, 9)})) == {
        "d": date(2026, 3, 2), "t": datetime(2026, 3, 2, 9),
    }


def test_values_toml_cannot_hold_are_named() -> None:
    for document, field in (
        ({"a": {"b": object()}}, "a.b"),
        ({"a": {1: 2}}, "a"),
        ({"a": [{"x": {3}}]}, "a[0].x"),
        ({"a": [1, [2, None]]}, "a[1][1]"),
        ({"a": {"b": [{"c": 1}, {"c": 2**64}]}}, "a.b[1].c"),
    ):
        with pytest.raises(ValidationError) as caught:
            dumps(document)
        assert caught.value.field == field
    with pytest.raises(ValidationError, match="surrogate"):
        dumps({"a": "\ud800"})


def test_long_lists_are_wrapped_and_tables_of_tables_need_no_header() -> None:
    profile = [round(i / 7, 6) for i in range(168)]
    document = {"arrivals": {"profile": profile, "rate": 2.5}, "tiers": {"L1": {"solve": 0.8}},
                "empty": {}}
    text = dumps(document)
    assert tomllib.loads(text) == document
    assert max(len(line) for line in text.splitlines()) <= 88
    assert "[tiers]" not in text and "[tiers.L1]" in text and "[empty]" in text
    assert text.count("\n    ") > 10


def test_values_toml_has_no_syntax_for_are_refused_not_written() -> None:
    """TOML's integers are 64-bit, its offsets whole minutes, and its times have no
    offset: such values are refused rather than written as text that is not TOML."""
    from datetime import time, timedelta, timezone

    odd_offset = timezone(timedelta(minutes=17, seconds=30))
    for document in (
        {"n": 2**63},
        {"n": -(2**63) - 1},
        {"t": time(9, tzinfo=UTC)},
        {"d": datetime(1890, 1, 1, tzinfo=odd_offset)},
    ):
        with pytest.raises(ValidationError) as caught:
            dumps(document)
        assert caught.value.field == next(iter(document))
    for document in ({"n": 2**63 - 1}, {"n": -(2**63)}, {"t": time(9, 30)}):
        assert tomllib.loads(dumps(document)) == document
