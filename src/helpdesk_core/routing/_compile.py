"""Turn a condition tree into nested closures, once, when the condition is built
(private). A compiled condition is a function ``(ticket, env) -> bool``; regular
expressions, sets and enum ranks are prepared here and never again per ticket."""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable
from operator import attrgetter
from typing import Any

from helpdesk_core.model import Ticket
from helpdesk_core.routing._tree import (
    All,
    AnyOf,
    Node,
    Not,
    Test,
    regex_searcher,
    spec_of,
)
from helpdesk_core.routing.fields import EQUALITY_OPS, Env, FieldKind, FieldSpec

Fn = Callable[[Ticket, Env], bool]
Pred = Callable[[Any], bool]

_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


def _true(t: Ticket, e: Env) -> bool:
    return True


def _false(t: Ticket, e: Env) -> bool:
    return False


def compile_node(node: Node) -> Fn:
    """The closure that evaluates ``node``."""
    if isinstance(node, Test):
        return compile_test(node)
    if isinstance(node, All):
        return _all([compile_node(c) for c in node.children])
    if isinstance(node, AnyOf):
        return _any([compile_node(c) for c in node.children])
    if isinstance(node, Not):
        inner = compile_node(node.child)
        return lambda t, e: not inner(t, e)
    return _true


def _all(fns: list[Fn]) -> Fn:
    if not fns:
        return _true
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        a, b = fns
        return lambda t, e: a(t, e) and b(t, e)
    funcs = tuple(fns)

    def every(t: Ticket, e: Env) -> bool:
        for fn in funcs:  # noqa: SIM110 - a plain loop beats all(<generator>) here
            if not fn(t, e):
                return False
        return True

    return every


def _any(fns: list[Fn]) -> Fn:
    if not fns:
        return _false
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        a, b = fns
        return lambda t, e: a(t, e) or b(t, e)
    funcs = tuple(fns)

    def some(t: Ticket, e: Env) -> bool:
        for fn in funcs:  # noqa: SIM110 - a plain loop beats any(<generator>) here
            if fn(t, e):
                return True
        return False

    return some


def compile_test(test: Test) -> Fn:
    """The closure for one field test."""
    spec = spec_of(test)
    op, value = test.op, test.value
    if spec.attr is not None and spec.kind is not FieldKind.ANY:
        fast = _fast_attr(spec, attrgetter(spec.attr), op, value)
        if fast is not None:
            return fast
    pred = predicate(spec, op, value)
    get = spec.get
    return lambda t, e: pred(get(t, e))


def _fast_attr(spec: FieldSpec, get: Callable[[Ticket], Any], op: str, value: Any) -> Fn | None:
    """Direct closures for the common equality tests on ticket attributes."""
    if spec.kind is FieldKind.TAGS:
        if op == "contains":
            return lambda t, e: value in get(t)
        return None
    if op == "eq":
        return lambda t, e: get(t) == value
    if op == "ne":
        return lambda t, e: get(t) != value
    if op in ("in", "not_in"):
        members = frozenset(value)
        if op == "in":
            return lambda t, e: get(t) in members
        return lambda t, e: get(t) not in members
    return None


def _typed(x: Any) -> Hashable:
    key: Hashable = ("bool", x) if x.__class__ is bool else x
    return key


def predicate(spec: FieldSpec, op: str, value: Any) -> Pred:
    """A function of the field's value that says whether the test holds."""
    kind = spec.kind
    if op == "ne":
        eq = predicate(spec, "eq", value)
        return lambda x: not eq(x)
    if op == "not_in":
        member = predicate(spec, "in", value)
        return lambda x: not member(x)
    if op == "exists":
        wanted = bool(value)
        return lambda x: (x is not None and x != "" and x != ()) is wanted
    if op == "eq":
        if kind is FieldKind.ANY:
            is_bool = isinstance(value, bool)
            return lambda x: x == value and (x.__class__ is bool) is is_bool
        if kind is FieldKind.BOOL:
            return lambda x: x is value
        return lambda x: bool(x == value)
    if op == "in":
        if kind is FieldKind.TAGS:
            tags = frozenset(value)
            return lambda x: not tags.isdisjoint(x)
        if kind is FieldKind.ANY:
            keys = frozenset(_typed(v) for v in value)
            return lambda x: x is not None and _typed(x) in keys
        members = frozenset(value)
        return lambda x: x in members
    if op == "contains":
        if kind is FieldKind.TAGS:
            return lambda x: value in x
        needle = value.casefold()
        return lambda x: isinstance(x, str) and needle in x.casefold()
    if op == "matches":
        found = regex_searcher(value)  # reads a bounded prefix of the value
        if kind is FieldKind.TAGS:
            return lambda x: any(found(tag) for tag in x)
        return lambda x: isinstance(x, str) and found(x)
    return _order(spec, op, value)


def _order(spec: FieldSpec, op: str, value: Any) -> Pred:
    cmp = _CMP[op]
    if spec.kind is FieldKind.ENUM:
        ranks = dict(spec.order)
        pivot = ranks[value]
        return lambda x: x is not None and cmp(ranks[x], pivot)
    if spec.kind is FieldKind.INT:
        return lambda x: x is not None and cmp(x, value)
    if isinstance(value, str):
        return lambda x: isinstance(x, str) and cmp(x, value)
    return lambda x: (
        isinstance(x, int | float) and x.__class__ is not bool and cmp(x, value)
    )


def index_options(node: Node) -> list[tuple[FieldSpec, frozenset[Any]]]:
    """Equality tests the whole condition requires: for each (field, values) pair, a
    ticket can match only if the field's value (for tags: one of its tags) is in values."""
    tests: list[Node] = []
    if isinstance(node, Test):
        tests = [node]
    elif isinstance(node, All):
        tests = list(node.children)
    out: list[tuple[FieldSpec, frozenset[Any]]] = []
    for test in tests:
        if not isinstance(test, Test):
            continue
        spec = spec_of(test)
        if not spec.indexable:
            continue
        if spec.kind is FieldKind.TAGS:
            if test.op == "contains":
                out.append((spec, frozenset((test.value,))))
            elif test.op == "in":
                out.append((spec, frozenset(test.value)))
        elif test.op in EQUALITY_OPS:
            values = (test.value,) if test.op == "eq" else test.value
            out.append((spec, frozenset(values)))
    return out
