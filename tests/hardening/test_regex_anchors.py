"""A ``matches`` test on a long value keeps the meaning of anchors and lookaheads: only
matches that hold in the whole value count, ``$``/``\\Z`` do not match where reading stops,
and patterns that test the end of the value are also tried on its last characters."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester
from helpdesk_core.routing import _regex as rx

SCAN = 1_000


def test_end_anchors_do_not_match_where_reading_stops() -> None:
    text = "x" * 995 + "error" + " more text"
    for pattern in (r"error$", r"error\Z", r"error\s*$", r"(?i)ERROR$", r"(?m)error$"):
        assert not rx.searcher(pattern, SCAN)(text), pattern
    assert rx.searcher(r"error", SCAN)(text)
    assert rx.searcher(r"error\b", SCAN)(text)


def test_a_final_newline_at_the_cut_is_not_the_end() -> None:
    text = "x" * 994 + "error\n" + "more"
    assert not rx.searcher(r"error$", SCAN)(text)
    assert rx.searcher(r"(?m)error$", SCAN)(text)  # a line does end there
    assert not rx.searcher(r"error\n\Z", SCAN)(text)


def test_end_anchored_patterns_find_the_end_of_a_long_value() -> None:
    text = "x" * 5_000 + "disk error"
    assert rx.searcher(r"error$", SCAN)(text)
    assert rx.searcher(r"error\Z", SCAN)(text + "")
    assert rx.searcher(r"error$", SCAN)(text + "\n")  # '$' before a final newline
    assert not rx.searcher(r"error\Z", SCAN)(text + "\n")
    assert rx.searcher(r"\berror$", SCAN)(text)
    assert not rx.searcher(r"\brror$", SCAN)(text)
    # '^' and '\A' keep meaning the start of the whole value in its last part.
    assert not rx.searcher(r"^x*disk error$", SCAN)(text)
    assert not rx.searcher(r"\Adisk error$", SCAN)(text)
    assert not rx.searcher(r"^P[1-4]$", SCAN)("P1" + " " * 5_000)
    assert rx.searcher(r"(?m)^disk error$", SCAN)("x" * 5_000 + "\ndisk error")


def test_short_values_are_searched_whole() -> None:
    for pattern, text, expected in [
        (r"error$", "disk error", True),
        (r"error$", "error in disk", False),
        (r"^P[1-4]$", "P3", True),
        (r"^P[1-4]$", "P3 ", False),
        (r"\bvpn\b", "the vpn is down", True),
        (r"\bvpn\b", "vpnx", False),
        (r"x(?!.*y)", "x then y", False),
        (r"x(?!.*y)", "y then x", True),
        (r"error", "x" * 990 + "error", True),
    ]:
        assert rx.searcher(pattern, SCAN)(text) is expected, (pattern, text)


def test_unanchored_patterns_read_the_beginning_only() -> None:
    assert rx.searcher(r"needle", 100)("x" * 94 + "needle" + "y" * 100)
    assert not rx.searcher(r"needle", 100)("x" * 95 + "needle" + "y" * 100)
    assert not rx.searcher(r"needle", 100)("x" * 500 + "needle")  # not end-anchored
    assert rx.searcher(r"error.*disk", 100)("error " + "." * 80 + "disk" + "z" * 200)


def test_word_boundaries_see_the_character_after_the_cut() -> None:
    found = rx.searcher(r"\bvpn\b", 100)
    assert found("x" * 96 + " vpn" + "ish" + "." * 100) is False
    assert found("x" * 96 + " vpn" + " " + "." * 100) is True
    assert rx.searcher(r"vpn\B", 100)("x" * 97 + "vpn" + "ish" + "." * 100)
    assert not rx.searcher(r"vpn\B", 100)("x" * 97 + "vpn" + " " + "." * 100)


def test_lookaheads_see_past_the_cut_or_read_the_end() -> None:
    # A bounded negative lookahead sees the characters after the cut.
    assert not rx.searcher(r"vpn(?!ish)", 100)("x" * 97 + "vpnish" + "." * 100)
    assert rx.searcher(r"vpn(?!ish)", 100)("x" * 97 + "vpn is" + "." * 100)
    # An unbounded one cannot be decided from the beginning: the end is read instead.
    found = rx.searcher(r"x(?!.*y)", 10)
    assert not found("x" + "." * 30 + "y")
    assert found("y" + "." * 30 + "x..")
    # A positive lookahead that only reads characters still works on the beginning.
    assert rx.searcher(r"(?=.*urgent)printer", 100)("printer urgent" + "." * 500)


def test_atomic_groups_and_possessive_repeats_keep_their_choice() -> None:
    # Real text: the atomic group takes 'ab' and the 'b' after it fails.
    assert not rx.searcher(r"(?>ab|a)b", 10)("x" * 9 + "ab" + "y" * 20)
    assert rx.searcher(r"(?>ab|a)b", 10)("x" * 7 + "abb" + "y" * 20)
    assert rx.searcher(r"a++b", 10)("a" * 9 + "b" + "c" * 20)
    assert not rx.searcher(r"a++b", 10)("a" * 10 + "b" + "c" * 20)


def test_the_window_rule() -> None:
    assert rx._window(r"printer") == (0, False)
    assert rx._window(r"(?=.*x)y") == (0, False)
    assert rx._window(r"a++b") == (0, False)
    assert rx._window(r"^P[1-4]$") == (2, True)
    assert rx._window(r"\bvpn\b") == (2, False)
    assert rx._window(r"vpn(?!ish)") == (5, False)
    assert rx._window(r"(?>ab|a)b") == (4, False)
    assert rx._window(r"x(?!.*y)") == (None, True)
    assert rx._window(r"(?!" + "a" * 100 + ")") == (None, True)


def test_without_the_standard_parser_the_end_is_read_for_lookaround_patterns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rx, "_P", None)
    assert rx._window(r"printer") == (0, False)
    assert rx._window(r"error$") == (None, True)
    found = rx.searcher(r"error$", 10)
    assert not found("x" * 5 + "error" + " more text")
    assert found("x" * 50 + "error")
    assert rx.searcher(r"printer", 10)("printer" + "x" * 50)


def test_a_desk_routes_with_the_rule() -> None:
    config = DeskConfig.from_dict(
        {
            "limits": {"regex_scan_length": 50},
            "routing": [
                {
                    "name": "ends-with-error",
                    "when": {"field": "description", "op": "matches", "value": "error$"},
                    "actions": {"add_tags": ["ends-with-error"]},
                }
            ],
        }
    )
    desk = Helpdesk(config, MemoryStore(), ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    ada = Requester(id="ada")
    cut = desk.open(requester=ada, subject="Log", description="x" * 45 + "error and more")
    assert "ends-with-error" not in cut.tags
    long = desk.open(requester=ada, subject="Log", description="x" * 500 + "disk error")
    assert "ends-with-error" in long.tags
    short = desk.open(requester=ada, subject="Log", description="disk error")
    assert "ends-with-error" in short.tags


# -- the rule against the whole text ------------------------------------------------------

PATTERNS = [
    r"a$",
    r"a\Z",
    r"(?m)a$",
    r"ab$|ba",
    r"\ba\b",
    r"a\B",
    r"b\b",
    r"a(?!b)",
    r"a(?=b?$)",
    r"a(?=[^b]*$)",
    r"a(?!.*b)",
    r"(?=.*b)a",
    r"(?>ab|a)b",
    r"(?>a|ab)\b",
    r"a++b",
    r"(?:ab|a)++b",
    r"^a",
    r"^a.*b$",
    r"(?<=b)a$",
    r"(?<!a)b\b",
    r"(?i)A$",
    r"(?x) a \s* $  # trailing spaces",
    r"(?s)a.*\Z",
    r"a\n$",
    r"(a)(?(1)b|$)",
    r"ab*",
]


def _expected(pattern: str, text: str, scan: int) -> bool:
    """A match of the whole text lying within its first ``scan`` characters, or, where
    the rule reads the end, one starting in its last ``scan`` characters (computed on the
    whole text, with the match's end placed by a lookahead counting what follows it)."""
    compiled = re.compile(pattern)
    margin, tests_end = rx._window(pattern)
    if len(text) <= scan + (margin or 0):
        return compiled.search(text) is not None
    head = False
    if margin == 0 and "(?=" in pattern:
        # A lookahead that only reads characters reads the first ``scan`` of them: it
        # may miss what lies after (never finding what is not there).
        head = compiled.search(text, 0, scan) is not None
    elif margin is not None:
        flags = compiled.flags & ~re.UNICODE
        body = re.sub(r"^(\(\?[aiLmsux]+\))+", "", pattern)
        rest = len(text) - scan
        # A verbose pattern may end in a comment: close the group on a new line.
        end = "\n" if compiled.flags & re.VERBOSE else ""
        within = re.compile(rf"(?:{body}{end})(?=[\s\S]{{{rest}}})", flags)
        head = within.search(text) is not None
    tail = tests_end and compiled.search(text, len(text) - scan) is not None
    return head or tail


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(PATTERNS),
    st.text(alphabet="ab \n", max_size=40),
    st.integers(1, 20),
)
def test_the_searcher_follows_the_whole_text(pattern: str, text: str, scan: int) -> None:
    found = rx.searcher(pattern, scan)(text)
    assert found is _expected(pattern, text, scan)
    if found:  # never a match the whole text does not have
        assert re.search(pattern, text) is not None
