"""Conditions: serializable tests on a ticket (and its requester, and the time of day).

A :class:`Condition` is a tree of ``all`` / ``any`` / ``not`` over field tests::

    {"all": [{"field": "category", "op": "eq", "value": "network"},
             {"not": {"field": "requester.vip", "op": "eq", "value": true}}]}

It is validated and compiled to closures once, when built; evaluating it never looks at
the dict again. Routing rules, SLA policies and escalation triggers share this language.
See ``docs/routing.md`` for the fields and operators.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import field, frozen

from helpdesk_core.errors import ConfigError
from helpdesk_core.model import Requester, Ticket
from helpdesk_core.routing import _tree
from helpdesk_core.routing._compile import Fn, compile_node, index_options
from helpdesk_core.routing.fields import Env, FieldSpec, OpenHours, check_inputs

__all__ = ["MAX_DEPTH", "MAX_REGEX_LENGTH", "Condition"]

MAX_DEPTH = _tree.MAX_DEPTH
MAX_REGEX_LENGTH = _tree.MAX_REGEX_LENGTH


@frozen(repr=False, eq=False)
class Condition:
    """An immutable, compiled condition. Equal conditions have equal trees.

    Build one with :meth:`from_dict`, :meth:`always`, the builder ``F``
    (``helpdesk_core.routing.F``) or the combinators ``&``, ``|`` and ``~``. ``a & b``
    and ``a | b`` flatten nested ``all`` / ``any`` of the same kind, so
    ``a & b & c`` is ``{"all": [a, b, c]}``.
    """

    _node: _tree.Node
    _fn: Fn = field(eq=False, hash=False)

    @classmethod
    def _of(cls, node: _tree.Node, *, path: str = "condition") -> Condition:
        if _tree.depth(node) > MAX_DEPTH:
            raise ConfigError(f"condition nested deeper than {MAX_DEPTH} levels", path=path)
        return cls(node, compile_node(node))

    @classmethod
    def from_dict(cls, doc: Any, *, path: str = "condition") -> Condition:
        """Build from the dict / JSON form. ``True`` and ``{}`` mean :meth:`always`.

        Raises :class:`~helpdesk_core.errors.ConfigError` whose ``path`` names the bad part
        (e.g. ``rules[0].when.all[1].value``) and whose message says what is wrong.
        """
        if isinstance(doc, Condition):
            return doc
        return cls._of(_tree.parse(doc, path), path=path)

    @classmethod
    def always(cls) -> Condition:
        """The condition that matches every ticket (``{"always": True}``)."""
        return _ALWAYS

    @classmethod
    def where(cls, field_name: str, op: str, value: Any = True) -> Condition:
        """One field test, validated like its dict form."""
        doc: dict[str, Any] = {"field": field_name, "op": op}
        if op != "exists" or value is not True:
            doc["value"] = value
        return cls.from_dict(doc)

    def to_dict(self) -> dict[str, Any]:
        """The plain-dict form; ``Condition.from_dict(c.to_dict()) == c``."""
        return _tree.to_dict(self._node)

    def matches(
        self,
        ticket: Ticket,
        *,
        requester: Requester | None = None,
        now: datetime | None = None,
        calendars: Mapping[str, OpenHours] | None = None,
    ) -> bool:
        """Whether the ticket satisfies the condition.

        ``requester`` feeds ``requester.*`` fields (without it they are missing);
        ``now`` and ``calendars`` feed ``business_hours.<calendar>`` tests, which raise
        :class:`~helpdesk_core.errors.ValidationError` when either is missing.
        """
        check_inputs(ticket, requester, now, calendars)
        return self._fn(ticket, Env(requester, now, calendars))

    def fields(self) -> frozenset[str]:
        """Names of the fields the condition tests."""
        return frozenset(t.field for t in _tree.walk_tests(self._node))

    def calendar_names(self) -> frozenset[str]:
        """Names of the calendars its ``business_hours.<name>`` tests need."""
        prefix = "business_hours."
        return frozenset(f[len(prefix) :] for f in self.fields() if f.startswith(prefix))

    def required_values(self) -> tuple[tuple[str, frozenset[Any]], ...]:
        """Equality tests the whole condition depends on, as ``(field, values)`` pairs: a
        ticket can match only if, for every pair, the field's value (for ``tags``: one of
        the ticket's tags) is among ``values``. Rule sets index rules by them."""
        return tuple((spec.name, values) for spec, values in index_options(self._node))

    def __and__(self, other: object) -> Condition:
        if not isinstance(other, Condition):
            return NotImplemented
        return Condition._of(_tree.All(_flat(self._node, other._node, _tree.All)))

    def __or__(self, other: object) -> Condition:
        if not isinstance(other, Condition):
            return NotImplemented
        return Condition._of(_tree.AnyOf(_flat(self._node, other._node, _tree.AnyOf)))

    def __invert__(self) -> Condition:
        return Condition._of(_tree.Not(self._node))

    def __bool__(self) -> bool:
        raise TypeError(
            "a Condition has no truth value: combine conditions with &, | and ~ "
            "(not `and`, `or`, `not`), and evaluate one with .matches(ticket)"
        )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, bool | int | float | str):
            # F.requester.vip is already the test "vip is true": comparing it with a
            # value would give Python's answer (a bool, read as always/never).
            raise ConfigError(
                f"a condition compared with the value {other!r:.40}: a true/false field "
                "is a condition already; write the condition itself (F.requester.vip) or "
                "its negation (~F.requester.vip)",
                path="F",
            )
        if other.__class__ is not Condition:
            return NotImplemented
        return bool(self._node == other._node)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self._node)

    def __repr__(self) -> str:
        return f"Condition({self.to_dict()!r})"


def _flat(
    left: _tree.Node, right: _tree.Node, kind: type[_tree.All] | type[_tree.AnyOf]
) -> tuple[_tree.Node, ...]:
    out: list[_tree.Node] = []
    for node in (left, right):
        if isinstance(node, kind):
            out.extend(node.children)
        else:
            out.append(node)
    return tuple(out)


def compiled(condition: Condition) -> Fn:
    """The compiled closure ``(ticket, env) -> bool`` of a condition (for rule sets)."""
    return condition._fn


def index_specs(condition: Condition) -> list[tuple[FieldSpec, frozenset[Any]]]:
    """:meth:`Condition.required_values` with field specs (for rule sets)."""
    return index_options(condition._node)


_ALWAYS = Condition(_tree.ALWAYS, compile_node(_tree.ALWAYS))
