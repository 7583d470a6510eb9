"""The hot path of a status change (private).

``attrs.evolve`` re-runs every converter and validator of the ticket's ~45 fields, which
costs far more than the status change itself. A status change only copies fields that were
validated when the ticket was built and sets fields that come from a validated event, so
this module:

* builds the :class:`StatusChanged` event after checking exactly what its validators check
  for the values that did not come from already-validated objects (``now``, ``by``, the
  texts and flags of the request); the ticket id and the status names come from a valid
  ticket and a valid lifecycle;
* folds it with the fold registered for ``StatusChanged`` in
  :mod:`helpdesk_core.model.replay` (the one definition of what the event means), then
  copies the ticket with those changes without re-validating the unchanged fields.

The result equals ``apply_event(ticket, event)``; the tests check that on random inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

import attrs

from helpdesk_core.errors import ValidationError
from helpdesk_core.model import Actor, StatusCategory, StatusChanged, Ticket, apply_event
from helpdesk_core.model.replay import _FOLDS

__all__ = ["check_request", "fold_status_change", "status_changed"]

_Copier = Callable[[Any, dict[str, Any]], Any]
_Maker = Callable[..., Any]


def _run(source: str, name: str, namespace: dict[str, Any]) -> Any:
    exec(compile(source, f"<workflow fast path: {name}>", "exec"), namespace)
    return namespace[name]


_MAX_COPIERS = 64
_COPIERS: dict[tuple[type, tuple[str, ...]], _Copier] = {}


def _copier(cls: type, changed: tuple[str, ...]) -> _Copier:
    """``copy(instance, changes) -> cls``: a copy of an attrs instance with ``changes``
    (whose keys are ``changed``), setting every field without converters or validators.
    Generated once per class and set of changed fields (a status change has a handful),
    like attrs' own ``__init__``."""
    key = (cls, changed)
    found = _COPIERS.get(key)
    if found is not None:
        return found
    names = [a.name for a in attrs.fields(cls)]
    unknown = set(changed) - set(names)
    if unknown:
        raise ValidationError(
            f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}", field="changes"
        )
    lines = ["def copy(t, c):", "    n = _new(_cls)", "    s = _set.__get__(n)"]
    for name in names:
        value = f"c[{name!r}]" if name in changed else f"t.{name}"
        lines.append(f"    s({name!r}, {value})")
    lines.append("    return n")
    namespace = {"_new": object.__new__, "_set": object.__setattr__, "_cls": cls}
    copy: _Copier = _run("\n".join(lines), "copy", namespace)
    if len(_COPIERS) < _MAX_COPIERS:
        _COPIERS[key] = copy
    return copy


@cache
def _maker(cls: type) -> _Maker:
    """``make(**fields) -> cls`` without converters or validators; attrs defaults apply."""
    params: list[str] = []
    body = ["    n = _new(_cls)", "    s = _set.__get__(n)"]
    namespace: dict[str, Any] = {"_new": object.__new__, "_set": object.__setattr__, "_cls": cls}
    for i, a in enumerate(attrs.fields(cls)):
        default = a.default
        if default is attrs.NOTHING:
            params.append(a.name)
        elif hasattr(default, "factory"):
            namespace[f"_f{i}"] = default.factory
            namespace["_missing"] = attrs.NOTHING
            params.append(f"{a.name}=_missing")
            body.append(f"    if {a.name} is _missing: {a.name} = _f{i}()")
        else:
            namespace[f"_d{i}"] = default
            params.append(f"{a.name}=_d{i}")
        body.append(f"    s({a.name!r}, {a.name})")
    source = "\n".join([f"def make(*, {', '.join(params)}):", *body, "    return n"])
    make: _Maker = _run(source, "make", namespace)
    return make


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
        raise ValidationError(
            f"expected text, got {type(resolution).__name__}", field="resolution"
        )
    if first_contact is not True and first_contact is not False:
        raise ValidationError(
            f"expected true or false, got {first_contact!r}", field="first_contact"
        )
    if automatic is not True and automatic is not False:
        raise ValidationError(f"expected true or false, got {automatic!r}", field="automatic")


def status_changed(
    *,
    ticket: Ticket,
    at: datetime,
    by: Actor,
    transition: str,
    to_status: str,
    category: StatusCategory,
    reason: str | None,
    resolution: str | None,
    first_contact: bool,
    automatic: bool,
) -> StatusChanged:
    """A StatusChanged from values already checked (see :func:`check_request`)."""
    event: StatusChanged = _make_status_changed(
        ticket_id=ticket.id,
        at=at,
        by=by,
        transition=transition,
        from_status=ticket.status,
        to_status=to_status,
        category=category,
        reason=reason,
        resolution=resolution,
        first_contact=first_contact,
        automatic=automatic,
    )
    return event


def fold_status_change(ticket: Ticket, event: StatusChanged) -> Ticket:
    """``apply_event(ticket, event)`` without re-validating the unchanged fields."""
    fold = _FOLDS.get(StatusChanged)
    if fold is None or event.ticket_id != ticket.id:
        return apply_event(ticket, event)
    changes = fold(ticket, event)
    changes["updated_at"] = max(event.at, ticket.updated_at)
    changes["version"] = ticket.version + 1
    new: Ticket = _copier(Ticket, tuple(changes))(ticket, changes)
    return new


_make_status_changed = _maker(StatusChanged)
