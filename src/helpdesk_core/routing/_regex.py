"""Cost control for the ``matches`` operator (private).

Python's ``re`` is a backtracking engine: some patterns take time exponential in the
length of the text (``(a+)+``, ``(a|aa)+``, backreferences) and others a high power of it
(``.*a.*b.*c``). A ``matches`` test runs on every ticket a rule sees, on text requesters
type, so a pattern is checked when the condition is built:

* patterns that can backtrack exponentially are refused: a variably repeated part that
  holds a repeat which can give characters back to what follows it (nested quantifiers:
  ``(a+)+``, ``(\\w+\\s?)*``; ``(re:\\s?)+`` is fine, a space cannot start ``re:``), a
  variably repeated part holding an alternation whose branches can start with the same
  character or match nothing, and backreferences;
* the remaining cost is estimated from the parsed pattern: every variable repeat that can
  give characters back to what follows it (its characters and the next ones overlap, and
  what follows can fail) multiplies the work by up to ``N``, the number of characters a
  test reads; a pattern whose estimate, ``N`` search starts times those factors, exceeds
  the allowed cost is refused;
* at run time a test reads about ``N`` characters of a value, ``2N`` for patterns that
  test the end of the text (:func:`searcher`).

The analysis reads the tree of the standard library's own parser (``re._parser``, the
former ``sre_parse``), so it sees the pattern exactly as the engine does (the parser has
already turned ``a|b`` into ``[ab]`` and moved common prefixes out of alternations).
Where that parser is not available the check falls back to refusing every repeated group
and every backreference, which is stricter but safe.
"""

from __future__ import annotations

import functools
import importlib
import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["problem", "searcher"]

#: Cap of intermediate cost figures (any figure above every allowed cost will do).
_CAP = 10**30


def _stdlib_module(*names: str) -> Any:
    """The first of ``names`` that imports (the standard library renamed its regular
    expression internals in Python 3.11, keeping the old names deprecated), or None."""
    for name in names:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                return importlib.import_module(name)
        except ImportError:  # pragma: no cover - every supported Python has one
            continue
    return None  # pragma: no cover


#: The standard library's parser of patterns (``re._parser``), whose tree the analysis reads.
_P = _stdlib_module("re._parser", "sre_parse")
#: The standard library's compiler of parsed patterns (``re._compiler``), used to add the
#: end-of-window guard of :func:`searcher` to a parsed pattern.
_C = _stdlib_module("re._compiler", "sre_compile")


def _op(name: str) -> Any:
    return getattr(_P, name, None) if _P is not None else None


#: The characters the regular expression engine takes as one under IGNORECASE beyond
#: simple lower-casing (``i`` and dotless i U+0131, ``s`` and long s U+017F...), by code
#: point.
_EXTRA_CASES: dict[int, tuple[int, ...]] = getattr(
    _stdlib_module("re._casefix"), "_EXTRA_CASES", {}
)
#: Cased characters lie below this code point (Adlam, the last cased script, ends at
#: U+1E95F).
_CASED_END = 0x1F000


def _tolower(code: int) -> int:
    """The engine's simple lower-case mapping of a code point (one code point, unlike
    ``str.lower``: U+0130, dotted capital I, gives ``i``)."""
    return int(_SRE.unicode_tolower(code))


_SRE = _stdlib_module("_sre")


@functools.cache
def _lowered() -> dict[int, tuple[str, ...]]:
    """Every cased character, by the code point it lower-cases to (built once)."""
    out: dict[int, list[str]] = {}
    for code in range(_CASED_END):
        lower = _tolower(code)
        if lower != code or chr(code).upper() != chr(code):
            out.setdefault(lower, []).append(chr(code))
    return {lower: tuple(chars) for lower, chars in out.items()}


@functools.lru_cache(maxsize=4096)
def icase_variants(char: str) -> frozenset[str]:
    """The characters a pattern matching ``char`` under IGNORECASE also matches: those
    with its lower case, and the engine's extra equivalents of it (dotted capital I
    U+0130 and dotless i U+0131 for ``i``)."""
    lowered = _lowered()
    lower = _tolower(ord(char))
    out = {char, chr(lower)}
    for code in (lower, *_EXTRA_CASES.get(lower, ())):
        out.add(chr(code))
        out.update(lowered.get(code, ()))
    return frozenset(out)


_REPEATS = tuple(
    op for op in (_op("MAX_REPEAT"), _op("MIN_REPEAT"), _op("POSSESSIVE_REPEAT")) if op
)
_GROUPS = tuple(op for op in (_op("SUBPATTERN"), _op("ATOMIC_GROUP")) if op)
_ASSERTS = tuple(op for op in (_op("ASSERT"), _op("ASSERT_NOT")) if op)
_BACKREFS = tuple(op for op in (_op("GROUPREF"), _op("GROUPREF_EXISTS")) if op)
_MAXREPEAT = _op("MAXREPEAT")
_AT = _op("AT")
_ASSERT_NOT = _op("ASSERT_NOT")
_ATOMIC = _op("ATOMIC_GROUP")
_POSSESSIVE = _op("POSSESSIVE_REPEAT")
_CHILDREN_OPS = tuple(
    op
    for op in (_op("SUBPATTERN"), _op("BRANCH"), _op("GROUPREF_EXISTS"), *_REPEATS)
    if op is not None and op != _POSSESSIVE
)
_ONE_CHAR = tuple(
    op
    for op in (_op("LITERAL"), _op("NOT_LITERAL"), _op("ANY"), _op("IN"), _op("CATEGORY"))
    if op is not None
)
#: Assertions that look at the character after their position, or at the end of the text.
_AT_FORWARD = frozenset(
    code
    for code in (
        _op(name)
        for name in (
            "AT_END",
            "AT_END_LINE",
            "AT_END_STRING",
            "AT_BOUNDARY",
            "AT_NON_BOUNDARY",
            "AT_LOC_BOUNDARY",
            "AT_LOC_NON_BOUNDARY",
            "AT_UNI_BOUNDARY",
            "AT_UNI_NON_BOUNDARY",
        )
    )
    if code is not None
)
#: Assertions that can hold because the text ends (``$``, ``\\Z``).
_AT_END = frozenset(
    code for code in (_op("AT_END"), _op("AT_END_LINE"), _op("AT_END_STRING")) if code is not None
)
#: Characters after a position that decide the assertions at it (``$`` asks whether the
#: next character is a final newline).
_AT_MARGIN = 2
#: Most characters a match of the first part of a long text may depend on past its end
#: (see :func:`searcher`).
MAX_MARGIN = 64
#: What textual checks look for where the standard parser is missing.
_FALLBACK_FORWARD = ("$", "\\Z", "\\b", "\\B", "(?=", "(?!", "(?>", "*+", "++", "?+", "}+")

_CATEGORIES = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
    "CATEGORY_LINEBREAK": r"\n",
    "CATEGORY_NOT_LINEBREAK": r"[^\n]",
}
# Characters every first-character set is probed with, besides ASCII and the characters
# the pattern itself names: letters that change under case folding, non-ASCII digits,
# letters and spaces, an astral character.
_EXTRA_PROBES = (
    "\u00e9\u00df\u017f\u212a\u03a3\u03c3\u03c2\u0131\u0130"  # folding letters
    "\u00a0\u2003\u2028\u0663\u4e2d\U0001f4a5\uffff"
)


class Unsafe(Exception):
    """A pattern refused by the analysis (private; carries the reason)."""


def searcher(pattern: str, scan: int) -> Callable[[str], bool]:
    """``text -> bool``: whether ``pattern`` is found in ``text``, reading about ``scan``
    characters of it (``2 * scan`` for patterns that test the end of the text).

    A text of at most ``scan`` characters is searched whole. In a longer one, a match
    counts only if it is a match of the whole text, with every assertion meaning what it
    means there (the engine itself would take the point where reading stops for the end
    of the text, where ``$``, ``\\Z``, ``\\b`` and ``(?!...)`` could hold):

    * the first ``scan`` characters are searched for a match lying within them. Where the
      pattern has assertions that look past their position (``$``, ``\\Z``, ``\\b``,
      ``\\B``, lookaheads that can hold because the text ends or that are negative) or
      atomic groups and possessive repeats that may choose differently when the text is
      cut, the engine reads a few characters more (2, plus the most such parts can read)
      and the match must end by character ``scan``: ``error$`` does not match where
      reading stops, and ``vpn\\b`` there sees the character after ``vpn``;
    * patterns that test the end of the text (``$``, ``\\Z``) are also searched in the
      last ``scan`` characters, which the engine reads as the end of the whole text, so
      ``error$`` finds a long text ending in ``error`` and ``^P1$`` never matches one;
    * a pattern whose match may depend on more than :data:`MAX_MARGIN` characters past
      its end (``x(?!.*y)``, ``(?>a.*|b)c``) cannot be decided from the first characters:
      it is searched in the last ``scan`` characters only.
    """
    compiled = re.compile(pattern)
    search = compiled.search
    margin, tests_end = _window(pattern)
    head: Callable[..., re.Match[str] | None] | None = search
    if margin is not None and margin > 0:
        head = _guarded(pattern, margin)
        if head is None:  # pragma: no cover - every supported Python has the compiler
            margin = None
    if margin is None:
        head, tests_end = None, True
    whole = scan + (margin or 0)

    def found(text: str) -> bool:
        size = len(text)
        if size <= whole:
            return search(text) is not None
        if head is not None and head(text, 0, whole) is not None:
            return True
        # From ``size - scan`` on: lookbehinds, ``^`` and ``\\b`` still see what is before.
        return tests_end and search(text, size - scan) is not None

    return found


def _window(pattern: str) -> tuple[int | None, bool]:
    """How :func:`searcher` reads a long text for ``pattern``: the characters the first
    part is read past its end (0: none, None: the first part cannot be searched), and
    whether the last part is searched too (the pattern tests the end of the text)."""
    if _P is None:
        if any(piece in pattern for piece in _FALLBACK_FORWARD):
            return None, True
        return 0, False
    try:
        forward, width, tests_end = _looks(_P.parse(pattern))
    except RecursionError:
        return None, True
    if not forward:
        return 0, tests_end
    margin = _AT_MARGIN + width
    return (margin, tests_end) if margin <= MAX_MARGIN else (None, True)


def _looks(items: Any) -> tuple[bool, int, bool]:
    """Of a parsed sequence: whether it has a part whose outcome can change when the text
    is cut (an assertion looking forward, a negative or such a lookahead, an atomic
    group or possessive repeat with choices), the most characters those parts read past
    their position (summed, :data:`_CAP`: unbounded), and whether it tests the end of the
    text."""
    forward, width, tests_end = False, 0, False
    for op, av in items:
        if op == _AT:
            forward = forward or av in _AT_FORWARD
            tests_end = tests_end or av in _AT_END
            continue
        if op in _ASSERTS:
            inner_forward, inner_width, inner_end = _looks(av[1])
            tests_end = tests_end or inner_end
            width = min(width + inner_width, _CAP)
            if int(av[0]) > 0 and (op == _ASSERT_NOT or inner_forward):
                forward = True
                width = min(width + _max_width(av[1]), _CAP)
            else:
                forward = forward or inner_forward
            continue
        if op in (_ATOMIC, _POSSESSIVE):
            body = av if op == _ATOMIC else av[2]
            inner_forward, inner_width, inner_end = _looks(body)
            tests_end = tests_end or inner_end
            width = min(width + inner_width, _CAP)
            if _one_char_run(op, av):
                forward = forward or inner_forward
            else:
                forward = True
                width = min(width + _node_width(op, av), _CAP)
            continue
        if op in _CHILDREN_OPS:
            for child in _children(op, av):
                inner_forward, inner_width, inner_end = _looks(child)
                forward = forward or inner_forward
                width = min(width + inner_width, _CAP)
                tests_end = tests_end or inner_end
    return forward, width, tests_end


def _children(op: Any, av: Any) -> list[Any]:
    if op == _op("SUBPATTERN"):
        return [av[3]]
    if op == _op("BRANCH"):
        return list(av[1])
    if op == _op("GROUPREF_EXISTS"):
        return [branch for branch in (av[1], av[2]) if branch is not None]
    return [av[2]]  # a repeat


def _one_char_run(op: Any, av: Any) -> bool:
    """An atomic group or possessive repeat that only takes the longest run of single
    characters (``a++``, ``(?>\\w+)``): cutting the text can only shorten the run to the
    cut, so a match through it ends there and is not counted."""
    if op == _POSSESSIVE:
        body = list(av[2])
        return len(body) == 1 and body[0][0] in _ONE_CHAR
    items = list(av)
    if len(items) != 1:
        return False
    inner_op, inner_av = items[0]
    if inner_op in _ONE_CHAR:
        return True
    if inner_op in _REPEATS:
        body = list(inner_av[2])
        return len(body) == 1 and body[0][0] in _ONE_CHAR and inner_op != _op("MIN_REPEAT")
    return False


def _max_width(sub: Any) -> int:
    high = int(sub.getwidth()[1])
    return _CAP if _MAXREPEAT is not None and high >= int(_MAXREPEAT) else high


def _node_width(op: Any, av: Any) -> int:
    if op == _ATOMIC:
        return _max_width(av)
    high = int(av[1])
    if _MAXREPEAT is not None and high >= int(_MAXREPEAT):
        return _CAP
    return min(_mul(_max_width(av[2]), high), _CAP)


def _guarded(pattern: str, margin: int) -> Callable[..., re.Match[str] | None] | None:
    """The search of ``pattern`` followed by ``(?=[\\s\\S]{margin})``: searched up to
    ``scan + margin``, its matches end by ``scan`` and every assertion in them is decided
    by characters the engine reads. Built from the parsed pattern, since global flags
    (``(?i)``) keep the text from being wrapped."""
    if _P is None or _C is None:
        return None  # pragma: no cover
    try:
        parsed = _P.parse(pattern)
        guard = _P.parse(rf"(?=[\s\S]{{{margin}}})")
        parsed.append(guard[0])
        compiled: re.Pattern[str] = _C.compile(parsed, 0)
    except (AttributeError, TypeError, ValueError, IndexError, RecursionError, re.error):
        return None  # pragma: no cover - the standard compiler takes its own trees
    return compiled.search


@functools.lru_cache(maxsize=1024)
def problem(pattern: str, scan: int, max_cost: int) -> str | None:
    """Why ``pattern`` is refused (None: it is accepted) when a test reads ``scan``
    characters and the estimated worst-case cost may be at most ``max_cost`` steps. The
    pattern must compile."""
    if _P is None:
        return _fallback(pattern)
    try:
        parsed = _P.parse(pattern)
        analysis = _Analysis(parsed, scan)
        cost = analysis.cost()
    except Unsafe as exc:
        return str(exc)
    except RecursionError:
        return "the pattern is nested too deeply to be checked"
    if cost > max_cost:
        shown = f"{cost:.1e}" if cost < _CAP else "more than 1e30"
        return (
            f"its worst case on {scan} characters is estimated at {shown} steps, above the "
            f"limit of {max_cost:.1e} (limits.max_regex_cost); it has too many repeats "
            "that can give characters back to what follows them (e.g. '.*a.*b.*c'): "
            "anchor the pattern or drop a leading '.*'"
        )
    return None


def _fallback(pattern: str) -> str | None:
    if re.search(r"\)[*+?{]|\\[1-9]|\(\?P=|\(\?\(", pattern):
        return "repeated groups and backreferences cannot be checked on this Python"
    return None


def _may_fail(op: Any) -> bool:
    return op == _op("AT") or op in _ASSERTS


def _mul(a: int, b: int) -> int:
    return min(a * b, _CAP)


def _pow(base: int, exp: int) -> int:
    if base <= 1 or exp <= 0:
        return 1
    if exp > 100:
        return _CAP
    power: int = base**exp
    return min(power, _CAP)


class _Result:
    __slots__ = ("ambiguous", "consume", "factor", "gives_back")

    def __init__(self) -> None:
        self.factor = 1  # choices backtracking may try, per start position
        self.consume = 1  # longest run consumed without a choice
        self.gives_back = False  # holds a variable repeat that can give characters back
        self.ambiguous = False  # holds an alternation whose branches overlap

    def absorb(self, other: _Result) -> None:
        self.factor = _mul(self.factor, other.factor)
        self.consume = max(self.consume, other.consume)
        self.gives_back = self.gives_back or other.gives_back
        self.ambiguous = self.ambiguous or other.ambiguous


class _Analysis:
    """The cost analysis of one parsed pattern."""

    def __init__(self, parsed: Any, scan: int) -> None:
        self.scan = max(1, scan)
        flags = int(parsed.state.flags)
        self.icase = bool(flags & re.IGNORECASE) or self._scoped_icase(parsed)
        self.probes = self._probes(parsed)
        self._tests: dict[str, re.Pattern[str]] = {}
        self._atoms: dict[str, frozenset[str]] = {}
        self.root = parsed

    def cost(self) -> int:
        result = self.sequence(list(self.root), frozenset(), nullable_follow=True)
        return _mul(_mul(self.scan, result.factor), result.consume)

    # -- probes and first characters -----------------------------------------------------

    def _walk(self, items: Sequence[Any]) -> list[tuple[Any, Any]]:
        out: list[tuple[Any, Any]] = []
        stack = [list(items)]
        while stack:
            for op, av in stack.pop():
                out.append((op, av))
                for sub in self._children(op, av):
                    stack.append(list(sub))
        return out

    @staticmethod
    def _children(op: Any, av: Any) -> list[Any]:
        if op in _REPEATS:
            return [av[2]]
        if op == _op("SUBPATTERN"):
            return [av[3]]
        if op == _op("ATOMIC_GROUP"):
            return [av]
        if op in _ASSERTS:
            return [av[1]]
        if op == _op("BRANCH"):
            return list(av[1])
        if op == _op("GROUPREF_EXISTS"):
            return [p for p in av[1:] if p is not None]
        return []

    def _scoped_icase(self, parsed: Any) -> bool:
        for op, av in self._walk(list(parsed)):
            if op == _op("SUBPATTERN") and int(av[1]) & re.IGNORECASE:
                return True
        return False

    def _probes(self, parsed: Any) -> tuple[str, ...]:
        codes: set[int] = set(range(128))
        codes.update(ord(c) for c in _EXTRA_PROBES)
        for op, av in self._walk(list(parsed)):
            if op in (_op("LITERAL"), _op("NOT_LITERAL")):
                codes.add(int(av))
            elif op == _op("IN"):
                for item_op, item_av in av:
                    if item_op == _op("LITERAL"):
                        codes.add(int(item_av))
                    elif item_op == _op("RANGE"):
                        lo, hi = int(item_av[0]), int(item_av[1])
                        # Both sides of each bound: a negated range matches just outside.
                        codes.update((lo - 1, lo, lo + 1, hi - 1, hi, hi + 1))
        chars = (chr(c) for c in sorted(codes) if 0 <= c <= 0x10FFFF)
        return tuple(c for c in chars if not 0xD800 <= ord(c) <= 0xDFFF)

    def _category(self, name: str, char: str) -> bool:
        test = self._tests.get(name)
        if test is None:
            test = re.compile(_CATEGORIES.get(name, r"[\s\S]"))
            self._tests[name] = test
        return test.fullmatch(char) is not None

    def _atom_matches(self, op: Any, av: Any, char: str) -> bool:
        if op == _op("LITERAL"):
            return chr(int(av)) == char
        if op == _op("NOT_LITERAL"):
            return chr(int(av)) != char
        if op == _op("IN"):
            negate = False
            hit = False
            for item_op, item_av in av:
                if item_op == _op("NEGATE"):
                    negate = True
                elif item_op == _op("LITERAL"):
                    hit = hit or chr(int(item_av)) == char
                elif item_op == _op("RANGE"):
                    hit = hit or int(item_av[0]) <= ord(char) <= int(item_av[1])
                elif item_op == _op("CATEGORY"):
                    hit = hit or self._category(str(item_av), char)
                else:  # an item this analysis does not know: assume it matches
                    hit = True
            return hit != negate
        return True  # ANY and anything unknown: every character

    def atom_first(self, op: Any, av: Any) -> frozenset[str]:
        """The probe characters a one-character item can match first."""
        key = f"{op} {av!r}"
        cached = self._atoms.get(key)
        if cached is not None:
            return cached
        out = set()
        for char in self.probes:
            variants = icase_variants(char) if self.icase else {char}
            if any(self._atom_matches(op, av, v) for v in variants):
                out.add(char)
        found = frozenset(out)
        self._atoms[key] = found
        return found

    def first(self, items: Sequence[Any]) -> tuple[frozenset[str], bool]:
        """The probe characters ``items`` can start with, and whether they can match
        nothing at all."""
        chars: set[str] = set()
        for op, av in items:
            found, nullable = self.item_first(op, av)
            chars |= found
            if not nullable:
                return frozenset(chars), False
        return frozenset(chars), True

    def item_first(self, op: Any, av: Any) -> tuple[frozenset[str], bool]:
        if op in _REPEATS:
            found, nullable = self.first(list(av[2]))
            return found, nullable or int(av[0]) == 0
        if op == _op("SUBPATTERN"):
            return self.first(list(av[3]))
        if op == _op("ATOMIC_GROUP"):
            return self.first(list(av))
        if op == _op("BRANCH"):
            chars: set[str] = set()
            nullable = False
            for branch in av[1]:
                found, empty = self.first(list(branch))
                chars |= found
                nullable = nullable or empty
            return frozenset(chars), nullable
        if op in _ASSERTS or op == _op("AT"):
            return frozenset(), True
        return self.atom_first(op, av), False

    # -- cost -------------------------------------------------------------------------

    def sequence(
        self, items: list[Any], follow: frozenset[str], *, nullable_follow: bool
    ) -> _Result:
        """Analyse a sequence followed by characters in ``follow`` (``nullable_follow``:
        what follows may also be nothing, e.g. the end of the pattern)."""
        result = _Result()
        # The first characters of what follows each item, from the back.
        follows: list[tuple[frozenset[str], bool]] = [(follow, nullable_follow)] * len(items)
        after, after_nullable = follow, nullable_follow
        for index in range(len(items) - 1, -1, -1):
            follows[index] = (after, after_nullable)
            op = items[index][0]
            found, nullable = self.item_first(*items[index])
            after = found | after if nullable else found
            # An anchor or a lookaround matches nothing but may fail.
            after_nullable = nullable and after_nullable and not _may_fail(op)
        for (op, av), (fol, fol_nullable) in zip(items, follows):
            result.absorb(self.item(op, av, fol, fol_nullable))
        return result

    def item(self, op: Any, av: Any, follow: frozenset[str], nullable_follow: bool) -> _Result:
        if op in _BACKREFS:
            raise Unsafe(
                "backreferences (\\1, (?P=name), (?(1)...)) can make matching take "
                "exponential time and are not allowed"
            )
        if op in _REPEATS:
            return self.repeat(int(av[0]), int(av[1]), list(av[2]), follow, nullable_follow)
        if op == _op("SUBPATTERN"):
            return self.sequence(list(av[3]), follow, nullable_follow=nullable_follow)
        if op == _op("ATOMIC_GROUP"):
            return self.sequence(list(av), follow, nullable_follow=nullable_follow)
        if op in _ASSERTS:
            inner = self.sequence(list(av[1]), frozenset(), nullable_follow=True)
            out = _Result()
            out.factor = _mul(inner.factor, inner.consume)
            out.gives_back, out.ambiguous = inner.gives_back, inner.ambiguous
            return out
        if op == _op("BRANCH"):
            return self.branch(list(av[1]), follow, nullable_follow)
        return _Result()

    def branch(self, branches: list[Any], follow: frozenset[str], nullable_follow: bool) -> _Result:
        out = _Result()
        out.factor = 0
        firsts: list[tuple[frozenset[str], bool]] = []
        for branch in branches:
            inner = self.sequence(list(branch), follow, nullable_follow=nullable_follow)
            out.factor = min(out.factor + inner.factor, _CAP)
            out.consume = max(out.consume, inner.consume)
            out.gives_back = out.gives_back or inner.gives_back
            out.ambiguous = out.ambiguous or inner.ambiguous
            firsts.append(self.first(list(branch)))
        out.factor = max(out.factor, 1)
        for i, (a, a_empty) in enumerate(firsts):
            for b, b_empty in firsts[i + 1 :]:
                if a_empty or b_empty or a & b:
                    out.ambiguous = True
        return out

    def repeat(
        self,
        low: int,
        high: int,
        body: list[Any],
        follow: frozenset[str],
        nullable_follow: bool,
    ) -> _Result:
        unbounded = _MAXREPEAT is not None and high == int(_MAXREPEAT)
        variable = unbounded or high != low
        repeated = variable and high > 1
        body_first, _ = self.first(body)
        # After one pass of the body comes another pass or what follows the repeat. Inside
        # a repeated part, count every repeat that could give characters back, even where
        # the match could end (the next pass may fail).
        inner = self.sequence(
            body, body_first | follow, nullable_follow=nullable_follow and not repeated
        )
        out = _Result()
        out.ambiguous = inner.ambiguous
        if repeated:
            if inner.gives_back:
                raise Unsafe(
                    "a repeated part holds a repeat that can give characters back to "
                    "what follows it (nested quantifiers such as '(a+)+' or '(\\w+\\s?)*'), "
                    "which can make matching take exponential time: repeat the inner "
                    "part once, e.g. '\\w+(\\s\\w+)*', or end it with a character it "
                    "cannot match"
                )
            if inner.ambiguous:
                raise Unsafe(
                    "a repeated part holds alternatives that can start with the same "
                    "character or match nothing (such as '(a|ab)+'), which can make "
                    "matching take exponential time: make the alternatives start "
                    "differently"
                )
        out.gives_back = inner.gives_back
        if not variable:
            out.factor = _pow(inner.factor, low)
            out.consume = inner.consume
            return out
        choices = self.scan if unbounded else min(high - low + 1, self.scan)
        if body_first & follow and not nullable_follow:
            # Each count the repeat backs off to lets what follows try again.
            out.gives_back = True
            out.factor = _mul(choices, inner.factor)
            out.consume = inner.consume
        else:
            # What follows cannot start inside the repeat's run: one run, read once.
            out.factor = inner.factor
            out.consume = max(inner.consume, choices)
        return out
