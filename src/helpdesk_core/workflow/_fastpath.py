"""The hot path of a status change (private).

A status change copies a ticket whose fields were all validated when it was built and sets
the few fields the ``StatusChanged`` fold derives from a validated event. This module makes
that as cheap as it can be while giving exactly what ``apply_event`` gives:

* the :class:`StatusChanged` event is built with its fields' converters (``at`` becomes
  UTC) but without its validators, after :func:`check_request` checked what those
  validators would check of the caller's values (``by``, the texts and the flags); ``now``
  is checked by the caller, and the ticket id and status names come from a valid ticket and
  a valid lifecycle;
* the event is folded with the fold registered for ``StatusChanged`` in
  :mod:`helpdesk_core.model.replay` (the one definition of what the event means), and the
  ticket is copied by a function generated for the set of fields that fold changes, so no
  field is looked up by name at run time.

The result equals ``apply_event(ticket, event)`` field for field; the tests check it on
random sequences. The generated functions are made from the classes' attrs fields, the way
attrs makes ``__init__``.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from functools import cache
from typing import Any

import attrs

from helpdesk_core.errors import ValidationError
from helpdesk_core.model import Actor, StatusChanged, Ticket, apply_event
from helpdesk_core.model._copy import _twin, compile_function, copier, setter_lines
from helpdesk_core.model._validate import check_unicode
from helpdesk_core.model.replay import fold_changes

__all__ = ["check_request", "fold_status_change", "make_status_changed"]

@cache
def _maker(cls: type) -> Callable[..., Any]:
    """``make(**fields)``: a new ``cls`` that runs the fields' converters but not their
    validators; attrs defaults (plain and factory) fill the fields not given. A class whose
    converters need more than the value gets its own validating constructor instead."""
    namespace: dict[str, Any] = {"_missing": attrs.NOTHING}
    setters = setter_lines(cls, namespace)
    twin = _twin(cls)
    if twin is not None:  # plain stores into a twin, then the class (see model._copy)
        namespace["_twin"] = twin
        setters = [(name, f"n.{name} = (") for name, _ in setters]
    params: list[str] = []
    body = ["    n = _new(_cls)" if twin is None else "    n = _new(_twin)"]
    for i, (a, (name, prefix)) in enumerate(zip(attrs.fields(cls), setters, strict=True)):
        default = a.default
        if default is attrs.NOTHING:
            params.append(name)
        elif isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            namespace[f"_f{i}"] = default.factory
            params.append(f"{name}=_missing")
            body.append(f"    if {name} is _missing: {name} = _f{i}()")
        else:
            namespace[f"_d{i}"] = default
            params.append(f"{name}=_d{i}")
        value = name
        if a.converter is not None:
            if not isinstance(a.converter, types.FunctionType | types.BuiltinFunctionType):
                return cls
            namespace[f"_c{i}"] = a.converter
            value = f"_c{i}({name})"
        body.append(f"    {prefix}{value})")
    if twin is not None:
        body.append("    n.__class__ = _cls")
    lines = [f"def make(*, {', '.join(params)}):", *body, "    return n"]
    return compile_function(lines, "make", namespace)  # type: ignore[no-any-return]


def check_request(
    *,
    by: Any,
    reason: Any,
    resolution: Any,
    first_contact: Any,
    automatic: Any,
) -> None:
    """The checks StatusChanged's validators make on the caller's values."""
    if not isinstance(by, Actor):
        raise ValidationError(
            f"every event names who caused it: expected an Actor, got {type(by).__name__}",
            field="by",
        )
    if reason is not None and not isinstance(reason, str):
        raise ValidationError(f"expected text, got {type(reason).__name__}", field="reason")
    if resolution is not None and not isinstance(resolution, str):
        raise ValidationError(f"expected text, got {type(resolution).__name__}", field="resolution")
    for name, value in (("reason", reason), ("resolution", resolution)):
        if value is not None:
            check_unicode(value, name)
    if first_contact is not True and first_contact is not False:
        raise ValidationError(
            f"expected true or false, got {first_contact!r}", field="first_contact"
        )
    if automatic is not True and automatic is not False:
        raise ValidationError(f"expected true or false, got {automatic!r}", field="automatic")


#: ``make_status_changed(**fields)``: a StatusChanged from values already checked.
make_status_changed: Callable[..., StatusChanged] = _maker(StatusChanged)


def fold_status_change(ticket: Ticket, event: StatusChanged) -> Ticket:
    """``apply_event(ticket, event)`` without re-validating the unchanged fields."""
    if event.ticket_id != ticket.id:
        return apply_event(ticket, event)
    changes = fold_changes(ticket, event)
    at = event.at
    changes["updated_at"] = ticket.updated_at if ticket.updated_at > at else at
    changes["version"] = ticket.version + 1
    new: Ticket = copier(Ticket, tuple(changes))(ticket, changes)
    return new
