"""Regular-expression cost control: patterns that can backtrack catastrophically are refused
with a reason and the path of the rule, ordinary patterns pass, the polynomial cost left
is bounded by the estimate and by how much text a test reads."""

from __future__ import annotations

import os
import re
import time
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk_core import DeskConfig
from helpdesk_core.config import Limits
from helpdesk_core.errors import ConfigError
from helpdesk_core.routing import Condition
from helpdesk_core.routing import _regex as rx

# Classic ReDoS patterns (OWASP, the regexploit and safe-regex corpora) and the shape that
# makes each one dangerous.
EVIL = {
    r"(a+)+": "nested",
    r"^(a+)+$": "nested",
    r"(a*)*": "nested",
    r"(a*)+b": "nested",
    r"([a-zA-Z]+)*": "nested",
    r"(\w+\s?)+$": "nested",
    r"(x+x+)+y": "nested",
    r"(a|b?)+": "nested",
    r"(?:a{1,5}){2,}": "nested",
    r"^(([a-z])+.)+[A-Z]([a-z])+$": "nested",
    r"^([a-zA-Z0-9])(([\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$": "nested",  # noqa: E501
    r"(a|aa)+": "alternatives",
    r"(a|a)*": "alternatives",
    r"(ab|a)*c": "alternatives",
    r"(\d|\d\d)+x": "alternatives",
    r"(|x)+": "alternatives",
    # The engine takes these as one under IGNORECASE (i, dotless i, dotted capital I;
    # the two st ligatures; K and the Kelvin sign), though lower() or upper() do not.
    "(?i)(\u0131a|ia)+$": "alternatives",
    "(?i)(\u0130a|ia)+$": "alternatives",
    "(?i)(\ufb05a|\ufb06a)+$": "alternatives",
    "(?i)(\u212aa|ka)+$": "alternatives",
    r"(a)\1": "backreferences",
    r"(?P<q>['\"]).*(?P=q)": "backreferences",
    r"(a)?(?(1)b|c)": "backreferences",
    r".*a.*b.*c": "estimated",
    r"\s*.*\s*.*x": "estimated",
    r"(.*a){12}": "estimated",
}
SAFE = [
    r"printer",
    r"(?i)^vpn\b",
    r"error.*disk",
    r".*timeout",
    r"\w+@\w+\.\w+",
    r"(a|b)+c",
    r"(ab|ac)+",
    r"(\w|\d)+",
    r"(\d{1,3}\.){3}\d{1,3}",
    r"^P[1-4]$",
    r"(?i)urgent|asap",
    r"[A-Z]{2,4}-\d+",
    r"\bfoo(bar)?\b",
    r"colou?r",
    r"(?=.*x)y",
    r"^\s*$",
    r"https?://\S+",
    r"^(?:re|fwd?):\s*",
    r"(?i)(a|A)+",
    r"\[#\d+\]",
    r"^[^@\s]+@example\.(org|com)$",
    r"a++b",
    # repeated parts whose inner repeat cannot give characters back to the next pass
    r"^(re:\s*)+",
    r"^((re|fw):\s*)+",
    r"(ab+)+c",
    r"^\w+(\s\w+)*$",
    r"(x\d*)+y",
]


def _test(pattern: str) -> dict[str, Any]:
    return {"field": "subject", "op": "matches", "value": pattern}


@pytest.mark.parametrize(("pattern", "why"), sorted(EVIL.items()))
def test_catastrophic_patterns_are_refused_with_a_reason(pattern: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Condition.from_dict({"all": [_test("ok"), _test(pattern)]}, path="rule")
    error = caught.value
    assert error.path == "rule.all[1].value"
    assert "refused" in error.message
    words = {
        "nested": "nested quantifiers",
        "alternatives": "alternatives that can start with the same character",
        "backreferences": "backreferences",
        "estimated": "limits.max_regex_cost",
    }
    assert words[why] in error.message, error.message


@pytest.mark.parametrize("pattern", SAFE)
def test_ordinary_patterns_pass(pattern: str) -> None:
    condition = Condition.from_dict(_test(pattern))
    assert condition.to_dict()["value"] == pattern


def test_a_rule_in_a_desk_document_is_named_in_the_error() -> None:
    doc = {"routing": [{"name": "vpn", "when": _test(r"(vpn\w*)+"), "actions": {"tier": "L1"}}]}
    with pytest.raises(ConfigError, match="rule 'vpn'") as caught:
        DeskConfig.from_dict(doc)
    assert caught.value.path == "routing[0].when.value"


def test_the_estimate_follows_the_scan_length_and_the_allowed_cost() -> None:
    two = _test(".*a.*b")  # two repeats that give characters back: N^3 steps
    with pytest.raises(ConfigError, match=r"estimated at 1\.0e\+09"):
        Condition.from_dict(two)  # 1,000 characters, 10^8 allowed by default
    with Limits(max_regex_cost=10**9).active():
        assert Condition.from_dict(two).to_dict() == two
    with Limits(regex_scan_length=400).active():
        assert Condition.from_dict(two).to_dict() == two
    with Limits(regex_scan_length=100_000).active():
        Condition.from_dict(_test("timeout"))  # linear: fine on any length
        with pytest.raises(ConfigError, match="max_regex_cost"):
            Condition.from_dict(_test(".*timeout"))  # N^2 = 10^10
    config = DeskConfig.from_dict(
        {
            "limits": {"max_regex_cost": 10**9},
            "routing": [{"name": "r", "when": two, "actions": {"tier": "L1"}}],
        }
    )
    assert config.limits.max_regex_cost == 10**9


def test_nested_quantifiers_are_refused_whatever_the_limits() -> None:
    for limits in (Limits(max_regex_cost=10**9), Limits(regex_scan_length=1)):
        with limits.active(), pytest.raises(ConfigError, match="nested"):
            Condition.from_dict(_test("(a+)+"))


def test_accepted_patterns_stay_fast_on_adversarial_text() -> None:
    inputs = [
        "a" * 5_000,
        "1" * 5_000,
        " " * 5_000,
        "ab" * 2_500,
        "aaa@" * 1_250,
        "x" * 5_000,
        "re: " * 1_250,
        "abbb" * 1_250,
        "word " * 1_000 + "!",
        "x1" * 2_500,
    ]
    for pattern in SAFE:
        found = rx.searcher(pattern, 1_000)
        started = time.perf_counter()
        for text in inputs:
            found(text)
        assert time.perf_counter() - started < 1.0, pattern


def test_the_searcher_reads_a_prefix_only() -> None:
    found = rx.searcher("needle$", 10)
    assert not found("xxxxneedle and more")  # '$' does not match where reading stops
    assert found("xxxxxxxxxxneedle")  # end-anchored: the end of the value is read too
    assert rx.searcher("needle", 100)("x" * 90 + "needle")
    assert not rx.searcher("needle", 100)("x" * 95 + "needle" + "x" * 100)


def test_without_the_standard_parser_repeated_groups_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rx.problem.cache_clear()
    monkeypatch.setattr(rx, "_P", None)
    try:
        assert rx.problem("printer.*jam", 1_000, 10**8) is None
        for pattern in ("(ab)+", "(a)\\1", "(?P<x>a)(?P=x)"):
            assert rx.problem(pattern, 1_000, 10**8) is not None, pattern
    finally:
        rx.problem.cache_clear()


def test_the_parser_is_the_one_of_this_python() -> None:
    # re._parser (3.11+) or sre_parse: the analysis sees what the engine compiles.
    assert rx._P is not None
    assert rx._P.parse("a|b").data == rx._P.parse("[ab]").data
    assert re.compile("(a|b)+c").search("ab" * 10 + "c")


FUZZ = settings(
    max_examples=int(os.environ.get("HELPDESK_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
_PIECES = [*"ab()|*+?{}[]^$\\.,019-:", "\\w", "\\s", "\\d", "\\b", "\\1", "(?:", "(?=", "(?!",
           "(?<=a)", "(?i)", "(?P<n>", "(?P=n)", "(?(1)", "(?>", "++", "*?", "{2,}", "{0,4}",
           "{9999999999}", "[^", "\\p", "\\N{DIGIT ONE}", "é", "\x00"]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(_PIECES), max_size=24).map("".join), st.integers(1, 100_000))
def test_any_pattern_is_analysed_or_refused_never_crashes(pattern: str, scan: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "possible set union" in odd patterns
        _analysed_or_refused(pattern, scan)


def _analysed_or_refused(pattern: str, scan: int) -> None:
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError):
        with pytest.raises(ConfigError, match="bad regular expression"):
            Condition.from_dict(_test(pattern))
        return
    why = rx.problem(pattern, scan, 10**8)
    assert why is None or isinstance(why, str)
    with Limits(regex_scan_length=scan).active():
        if why is None:
            assert Condition.from_dict(_test(pattern)).to_dict()["value"] == pattern
        else:
            with pytest.raises(ConfigError) as refused:
                Condition.from_dict(_test(pattern))
            assert refused.value.path == "condition.value"


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?:[^\x00-\u4e2d]\w*)+$",  # the negated range overlaps \w just above its end
        r"(?:[^\x00-\u4e2d]a|\wa)+b",
        r"(?:[^\u0100-\uffff]\w*)+$",  # ... and just below its start
    ],
)
def test_a_negated_range_next_to_a_class_is_probed_on_both_sides(pattern: str) -> None:
    from helpdesk_core.routing import F

    with pytest.raises(ConfigError, match="exponential"):
        F.subject.matches(pattern)


_CASED = st.characters(max_codepoint=0x1EFFF, categories=("Lu", "Ll", "Lt", "Lm", "Lo", "Nd"))


@settings(max_examples=300, deadline=None)
@given(_CASED, _CASED)
def test_case_insensitive_variants_are_what_the_engine_takes_as_one(a: str, b: str) -> None:
    # b is also tried as each of a's case relatives, so matches are not left to chance.
    for other in (b, a.lower()[:1] or b, a.upper()[:1] or b, a.casefold()[:1] or b):
        engine = re.fullmatch(re.escape(a), other, re.IGNORECASE) is not None
        assert engine == (other in rx.icase_variants(a)), (a, other)
