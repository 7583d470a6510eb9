"""The syntax tree of a condition: its nodes, how a dict becomes one (with validation that
names the bad part) and how one becomes a dict again (private)."""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import attrs
from attrs import frozen

from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.routing import _regex as _rx
from helpdesk_core.routing.fields import (
    OPS,
    ORDER_OPS,
    FieldKind,
    FieldSpec,
    field_spec,
    known_field_names,
)

# Outer bounds: a desk's limits (helpdesk_core.privacy.Limits) may lower them, never
# raise them.
#: Deepest nesting of ``all`` / ``any`` / ``not`` accepted.
MAX_DEPTH = 32
#: Longest regular expression accepted by ``matches``.
MAX_REGEX_LENGTH = 500
#: Highest estimated worst-case cost (steps) of a ``matches`` pattern.
MAX_REGEX_COST = 10**9
#: Most characters of a value a ``matches`` test reads.
MAX_REGEX_SCAN_LENGTH = 100_000

#: The estimated cost allowed when no desk limits say otherwise.
DEFAULT_REGEX_COST = 10**8
#: How many characters a ``matches`` test reads when no desk limits say otherwise (the
#: longest subject, so subjects are always read whole).
DEFAULT_REGEX_SCAN_LENGTH = 1_000


@frozen
class Bounds:
    """The limits conditions are parsed and compiled under: nesting depth, pattern
    length, estimated pattern cost, and how many characters a ``matches`` test reads."""

    max_depth: int = MAX_DEPTH
    max_regex_length: int = MAX_REGEX_LENGTH
    max_regex_cost: int = DEFAULT_REGEX_COST
    regex_scan_length: int = DEFAULT_REGEX_SCAN_LENGTH


DEFAULT_BOUNDS = Bounds()
_BOUNDS: ContextVar[Bounds] = ContextVar("helpdesk_core_condition_bounds", default=DEFAULT_BOUNDS)


def current_bounds() -> Bounds:
    """The bounds in force (the defaults unless :func:`using` set others)."""
    return _BOUNDS.get()


@contextmanager
def using(bounds: Bounds) -> Iterator[None]:
    """Parse and compile conditions under ``bounds`` inside the block."""
    token = _BOUNDS.set(bounds)
    try:
        yield
    finally:
        _BOUNDS.reset(token)


def regex_searcher(pattern: str) -> Callable[[str], bool]:
    """``text -> bool`` for a (validated) ``matches`` pattern, reading about
    ``regex_scan_length`` characters of the bounds in force when it is compiled (see
    ``_regex.searcher``)."""
    return _rx.searcher(pattern, current_bounds().regex_scan_length)


_COMBINATORS = ("all", "any", "not", "always")
_TEST_KEYS = frozenset({"field", "op", "value"})


def _typed(value: Any) -> Hashable:
    """A hashable key that tells ``True`` from ``1`` (Python's ``==`` does not)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, tuple):
        return tuple(_typed(item) for item in value)
    result: Hashable = value
    return result


@frozen
class Always:
    """Matches every ticket."""


@frozen
class Test:
    """One field test; ``value`` is canonical (enum values normalised, lists as tuples)."""

    field: str
    op: str
    value: Any = attrs.field(eq=False, hash=False)
    key: Hashable = attrs.field(repr=False)


def make_test(field_name: str, op: str, value: Any) -> Test:
    """A test node (value already canonical)."""
    return Test(field_name, op, value, _typed(value))


@frozen
class All:
    """True when every child is true (``all: []`` is true)."""

    children: tuple[Node, ...]


@frozen
class AnyOf:
    """True when some child is true (``any: []`` is false)."""

    children: tuple[Node, ...]


@frozen
class Not:
    """True when the child is false."""

    child: Node


Node = Always | Test | All | AnyOf | Not

ALWAYS = Always()


def depth(node: Node) -> int:
    """Nesting depth of combinators above the deepest test."""
    if isinstance(node, All | AnyOf):
        return 1 + max((depth(c) for c in node.children), default=0)
    if isinstance(node, Not):
        return 1 + depth(node.child)
    return 0


# --- dict -> tree -----------------------------------------------------------------------


def parse(doc: Any, path: str, level: int = 0) -> Node:
    """Build a node from its dict form, raising ConfigError naming the bad part (under
    the bounds in force, see :func:`using`)."""
    deepest = current_bounds().max_depth
    if level > deepest:
        raise ConfigError(
            f"condition nested deeper than {deepest} levels (limits.max_condition_depth)",
            path=path,
        )
    if doc is True:
        return ALWAYS
    if not isinstance(doc, Mapping):
        raise ConfigError(
            "expected a condition: a mapping such as {'field': ..., 'op': ..., 'value': ...}"
            f" or {{'all': [...]}}, got {_describe(doc)}",
            path=path,
        )
    if not doc:
        return ALWAYS
    for key in doc:
        if not isinstance(key, str) or (key not in _TEST_KEYS and key not in _COMBINATORS):
            raise ConfigError(
                f"unknown key {key!r} in condition (use 'all', 'any', 'not', 'always', or "
                "'field' / 'op' / 'value')",
                path=f"{path}.{key}",
            )
    if _TEST_KEYS.intersection(doc):
        extra = [k for k in doc if k in _COMBINATORS]
        if extra:
            raise ConfigError(
                f"key {extra[0]!r} cannot be mixed with a field test in one mapping",
                path=f"{path}.{extra[0]}",
            )
        return _parse_test(doc, path)
    if len(doc) > 1:
        names = ", ".join(repr(k) for k in doc)
        raise ConfigError(
            f"a condition has exactly one of 'all', 'any', 'not', 'always'; got {names}",
            path=path,
        )
    ((key, body),) = doc.items()
    sub = f"{path}.{key}"
    if key == "always":
        if body is not True:
            raise ConfigError(
                f"'always' must be true, got {body!r} (a condition that never matches is "
                "{'any': []})",
                path=sub,
            )
        return ALWAYS
    if key == "not":
        return Not(parse(body, sub, level + 1))
    if isinstance(body, str | bytes) or not isinstance(body, Sequence):
        raise ConfigError(f"{key!r} takes a list of conditions, got {_describe(body)}", path=sub)
    children = tuple(parse(item, f"{sub}[{i}]", level + 1) for i, item in enumerate(body))
    return All(children) if key == "all" else AnyOf(children)


_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel = 3


def _describe(value: Any) -> str:
    # A list or mapping is shown by its first levels and items: one nested thousands
    # deep has a repr only recursion could write.
    containers = (list, tuple, dict, set, frozenset)
    text = _SHORT_REPR.repr(value) if isinstance(value, containers) else repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _parse_test(doc: Mapping[str, Any], path: str) -> Test:
    name = doc.get("field")
    if "field" not in doc:
        raise ConfigError("a field test needs 'field'", path=f"{path}.field")
    if not isinstance(name, str):
        raise ConfigError(f"'field' must be text, got {_describe(name)}", path=f"{path}.field")
    spec = field_spec(name)
    if spec is None:
        raise ConfigError(
            f"unknown field {name!r} (known: {', '.join(known_field_names())})",
            path=f"{path}.field",
        )
    if "op" not in doc:
        raise ConfigError(f"the test of field {name!r} needs 'op'", path=f"{path}.op")
    op = doc["op"]
    if not isinstance(op, str) or op not in OPS:
        raise ConfigError(
            f"unknown operator {op!r} (use one of {', '.join(OPS)})", path=f"{path}.op"
        )
    check_op(spec, op, path=f"{path}.op")
    if "value" not in doc and op != "exists":
        raise ConfigError(
            f"operator {op!r} on field {name!r} needs a 'value'", path=f"{path}.value"
        )
    raw = doc.get("value", True)
    return make_test(name, op, canonical_value(spec, op, raw, path=f"{path}.value"))


def check_op(spec: FieldSpec, op: str, *, path: str) -> None:
    """Raise ConfigError when ``op`` does not fit the field."""
    if op not in spec.ops:
        fits = ", ".join(o for o in OPS if o in spec.ops)
        raise ConfigError(
            f"operator {op!r} does not fit {spec.kind.value} field {spec.name!r} (it takes {fits})",
            path=path,
        )


def canonical_value(spec: FieldSpec, op: str, raw: Any, *, path: str) -> Any:
    """Validate ``raw`` as the value of ``spec op raw`` and return its canonical form."""
    where = f"{op!r} on {spec.kind.value} field {spec.name!r}"
    if op == "exists":
        if not isinstance(raw, bool):
            raise ConfigError(f"{where} takes true or false, got {_describe(raw)}", path=path)
        return raw
    if op == "matches":
        return _regex(raw, where, path)
    if op in ("in", "not_in") or (op in ("eq", "ne") and spec.kind is FieldKind.TAGS):
        listed = isinstance(raw, Sequence | frozenset | set)
        if isinstance(raw, str | bytes | Mapping) or not listed:
            raise ConfigError(f"{where} takes a list, got {_describe(raw)}", path=path)
        items = tuple(_scalar(spec, op, item, where, f"{path}[{i}]") for i, item in enumerate(raw))
        if op in ("eq", "ne"):
            return tuple(sorted(set(items)))
        return items
    if op == "contains":
        if not isinstance(raw, str):
            raise ConfigError(f"{where} takes text, got {_describe(raw)}", path=path)
        return raw
    return _scalar(spec, op, raw, where, path)


#: The most digits of a whole number a condition compares with: what a desk stores in a
#: whole-number field (Python's JSON writes no integer of more than 4,300 digits).
_MAX_DIGITS = 4000


def _check_digits(value: int, where: str, path: str) -> None:
    digits = 1 + value.bit_length() * 30103 // 100000  # an upper bound of len(str(value))
    if digits > _MAX_DIGITS:
        raise ConfigError(
            f"{where} takes a whole number of at most {_MAX_DIGITS:,} digits, got one of "
            f"about {digits:,}",
            path=path,
        )


def _scalar(spec: FieldSpec, op: str, raw: Any, where: str, path: str) -> Any:
    kind = spec.kind
    if kind in (FieldKind.TEXT, FieldKind.TAGS):
        if not isinstance(raw, str):
            raise ConfigError(f"{where} takes text, got {_describe(raw)}", path=path)
        return raw
    if kind is FieldKind.ENUM:
        if isinstance(raw, str):
            key = raw.strip().lower().replace("-", "_").replace(" ", "_")
            if key in spec.choices:
                return key
            if key in spec.aliases:
                return spec.aliases[key]
        raise ConfigError(
            f"{raw!r} is not a valid {spec.name} (choose from {', '.join(spec.choices)})",
            path=path,
        )
    if isinstance(raw, int) and not isinstance(raw, bool):
        _check_digits(raw, where, path)
    if kind is FieldKind.INT:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ConfigError(f"{where} takes a whole number, got {_describe(raw)}", path=path)
        return raw
    if kind is FieldKind.BOOL:
        if not isinstance(raw, bool):
            raise ConfigError(f"{where} takes true or false, got {_describe(raw)}", path=path)
        return raw
    # FieldKind.ANY: custom fields and requester attributes hold str / int / float / bool.
    if isinstance(raw, float) and not math.isfinite(raw):
        raise ConfigError(f"{where} takes a finite number, got {raw!r}", path=path)
    if op in ORDER_OPS:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise ConfigError(
                f"{where} takes a number or text to compare with, got {_describe(raw)}",
                path=path,
            )
        return raw
    if not isinstance(raw, str | int | float | bool):
        raise ConfigError(
            f"{where} takes text, a number or true/false, got {_describe(raw)}", path=path
        )
    return raw


def _regex(raw: Any, where: str, path: str) -> str:
    if not isinstance(raw, str):
        raise ConfigError(
            f"{where} takes a regular expression (text), got {_describe(raw)}", path=path
        )
    bounds = current_bounds()
    if len(raw) > bounds.max_regex_length:
        raise ConfigError(
            f"regular expression is {len(raw)} characters long; at most "
            f"{bounds.max_regex_length} (limits.max_regex_length)",
            path=path,
        )
    try:
        re.compile(raw)
    except (re.error, OverflowError, RecursionError) as exc:
        raise ConfigError(f"bad regular expression {_shown(raw)}: {exc}", path=path) from exc
    why = _rx.problem(raw, bounds.regex_scan_length, bounds.max_regex_cost)
    if why is not None:
        raise ConfigError(f"regular expression {_shown(raw)} refused: {why}", path=path)
    return raw


def _shown(pattern: str) -> str:
    text = repr(pattern)
    return text if len(text) <= 80 else text[:77] + "..."


# --- tree -> dict -----------------------------------------------------------------------


def to_dict(node: Node) -> dict[str, Any]:
    """The plain-dict (JSON-ready) form of a node."""
    if isinstance(node, Test):
        if node.op == "exists" and node.value is True:
            return {"field": node.field, "op": "exists"}
        value = list(node.value) if isinstance(node.value, tuple) else node.value
        return {"field": node.field, "op": node.op, "value": value}
    if isinstance(node, All):
        return {"all": [to_dict(c) for c in node.children]}
    if isinstance(node, AnyOf):
        return {"any": [to_dict(c) for c in node.children]}
    if isinstance(node, Not):
        return {"not": to_dict(node.child)}
    return {"always": True}


def walk_tests(node: Node) -> list[Test]:
    """Every test in the tree, depth first."""
    if isinstance(node, Test):
        return [node]
    if isinstance(node, All | AnyOf):
        return [t for c in node.children for t in walk_tests(c)]
    if isinstance(node, Not):
        return walk_tests(node.child)
    return []


def spec_of(test: Test) -> FieldSpec:
    """The field spec of a (validated) test."""
    spec = field_spec(test.field)
    if spec is None:  # pragma: no cover - tests are validated when built
        raise ValidationError(f"unknown field {test.field!r}", field=test.field)
    return spec
