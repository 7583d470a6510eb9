"""``F``: a Python builder for conditions.

``F.category == "network"`` is the same :class:`Condition` as
``Condition.from_dict({"field": "category", "op": "eq", "value": "network"})``. Boolean
fields (``F.requester.vip``, ``F.business_hours.<calendar>``) are conditions themselves
(``eq true``), so ``~F.requester.vip`` reads naturally. ``F("fields.my-field")`` reaches
fields whose names are not Python identifiers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from helpdesk_core.errors import ConfigError
from helpdesk_core.routing.conditions import Condition
from helpdesk_core.routing.fields import FieldKind, field_spec, known_field_names

__all__ = ["F", "FieldRef"]

_NAMESPACES = ("fields", "requester", "business_hours")


class FieldRef:
    """A field to build tests on: comparison operators and methods return Conditions."""

    __slots__ = ("name",)
    __hash__ = None  # type: ignore[assignment]  # == builds a Condition

    def __init__(self, name: str) -> None:
        if field_spec(name) is None:
            raise ConfigError(
                f"unknown field {name!r} (known: {', '.join(known_field_names())})",
                path=f"F.{name}",
            )
        self.name = name

    def _test(self, op: str, value: Any = True) -> Condition:
        doc: dict[str, Any] = {"field": self.name, "op": op}
        if op != "exists" or value is not True:
            doc["value"] = value
        return Condition.from_dict(doc, path=f"F.{self.name}")

    def __eq__(self, value: object) -> Condition:  # type: ignore[override]
        return self._test("eq", value)

    def __ne__(self, value: object) -> Condition:  # type: ignore[override]
        return self._test("ne", value)

    def __gt__(self, value: object) -> Condition:
        return self._test("gt", value)

    def __ge__(self, value: object) -> Condition:
        return self._test("ge", value)

    def __lt__(self, value: object) -> Condition:
        return self._test("lt", value)

    def __le__(self, value: object) -> Condition:
        return self._test("le", value)

    def in_(self, values: Iterable[Any]) -> Condition:
        """The value is one of ``values`` (for tags: some tag is)."""
        return self._test("in", _listed(values, self.name))

    def not_in(self, values: Iterable[Any]) -> Condition:
        """The value is none of ``values``."""
        return self._test("not_in", _listed(values, self.name))

    def contains(self, value: str) -> Condition:
        """Text: case-insensitive substring. Tags: has this tag."""
        return self._test("contains", value)

    def matches(self, pattern: str) -> Condition:
        """A regular expression found in the text (``re.search``); of a text longer than
        ``limits.regex_scan_length``, in its beginning (and its end, for ``$``)."""
        return self._test("matches", pattern)

    def exists(self, present: bool = True) -> Condition:
        """The field has a value (not missing, not empty text, not an empty tag set)."""
        return self._test("exists", present)

    def __repr__(self) -> str:
        return f"F.{self.name}"


def _listed(values: Iterable[Any], name: str) -> Any:
    """``values`` as a list; anything else that is no list of values (a number, None, a
    mapping) as it is, for the test to refuse as the dict form does."""
    if isinstance(values, str | bytes):
        raise ConfigError(
            f"expected a list of values, got text {values!r} (wrap it in a list)",
            path=f"F.{name}.value",
        )
    if isinstance(values, Mapping) or not isinstance(values, Iterable):
        return values
    return list(values)


class _Namespace:
    """``F.fields`` / ``F.requester`` / ``F.business_hours``: attribute access names a
    field under the prefix."""

    __slots__ = ("_prefix",)

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _resolve(f"{self._prefix}.{name}")

    def __repr__(self) -> str:
        return f"F.{self._prefix}"


def _resolve(name: str) -> FieldRef | Condition:
    ref = FieldRef(name)
    spec = field_spec(name)
    if spec is not None and spec.kind is FieldKind.BOOL:
        return ref == True  # noqa: E712 - builds the condition `name eq true`
    return ref


class _Builder:
    """The ``F`` object: ``F.<field>`` for ticket fields, ``F.fields.<name>``,
    ``F.requester.<attribute>``, ``F.business_hours.<calendar>``; ``F("<field name>")``
    for any name."""

    __slots__ = ()

    def __call__(self, name: str) -> FieldRef:
        return FieldRef(name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in _NAMESPACES:
            return _Namespace(name)
        return _resolve(name)

    def __repr__(self) -> str:
        return "F"


F: Any = _Builder()
"""The condition builder: ``F.category == "network"``, ``~F.requester.vip``,
``F("fields.my-field").exists()`` build :class:`Condition` objects."""
