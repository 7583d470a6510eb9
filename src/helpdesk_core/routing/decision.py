"""The outcome of routing a ticket through a rule set, and its explanation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from attrs import frozen

from helpdesk_core.model import Actor, Changes, Priority, Ticket, TicketRouted
from helpdesk_core.routing.actions import SCALAR_ACTIONS, Actions
from helpdesk_core.routing.assignment import AssignSpec

__all__ = ["Plan", "RoutingDecision", "RuleMatch", "decide"]


@frozen(kw_only=True)
class RuleMatch:
    """One rule that matched: its name, its position in the rule set, what it does, and
    whether it stopped the evaluation."""

    name: str
    position: int
    actions: Actions
    stopped: bool = False

    @property
    def changes(self) -> Changes:
        """The field changes this rule sets (tags are in ``actions``)."""
        return self.actions.as_changes()


@frozen(kw_only=True)
class RoutingDecision:
    """What routing decided for one ticket.

    ``changes`` combines the field changes of every matched rule (a later rule's value
    wins; ``tags`` is the complete new tag tuple); values the ticket already has are left
    out, so ``changes.is_empty`` means nothing to record. ``matched`` lists the rules that
    matched, in order; ``assign`` and ``sla_policy`` are the last ones set;
    ``stopped_by`` names the ``stop`` rule that ended the evaluation, if any.
    """

    ticket_id: str
    changes: Changes
    matched: tuple[RuleMatch, ...]
    assign: AssignSpec | None = None
    sla_policy: str | None = None
    stopped_by: str | None = None
    rule_count: int = 0

    @property
    def rules(self) -> tuple[str, ...]:
        """Names of the rules that matched, in order."""
        return tuple(m.name for m in self.matched)

    def event(self, *, at: datetime, by: Actor | None = None) -> TicketRouted | None:
        """The ``TicketRouted`` event recording this decision (None when no rule
        matched)."""
        if not self.matched:
            return None
        return TicketRouted(
            ticket_id=self.ticket_id,
            at=at,
            by=by or Actor.system("routing"),
            changes=self.changes,
            rules=self.rules,
        )

    def explain(self) -> str:
        """Human-readable lines: which rules matched, in order, what each changed, and
        the combined result."""
        if not self.matched:
            return (
                f"ticket {self.ticket_id}: no rule matched "
                f"({self.rule_count} rules); nothing changes"
            )
        count = len(self.matched)
        lines = [
            f"ticket {self.ticket_id}: {count} rule{'s' if count != 1 else ''} matched "
            f"({self.rule_count} rules)"
        ]
        setter: dict[str, str] = {}
        for number, match in enumerate(self.matched, start=1):
            parts = []
            for part in match.actions.describe():
                target = part.split(" ")[0]
                earlier = setter.get(target)
                if earlier is not None and target not in ("tags", "assign"):
                    part += f" (overrides {earlier})"
                if target not in ("tags",):
                    setter[target] = match.name
                parts.append(part)
            stop = " [stop]" if match.stopped else ""
            lines.append(f"  {number}. {match.name}{stop}: {'; '.join(parts) or 'no actions'}")
        lines.append("result: " + _result(self))
        return "\n".join(lines)


def _result(decision: RoutingDecision) -> str:
    parts = []
    for name, value in decision.changes.as_dict().items():
        if name == "tags":
            parts.append("tags = " + (", ".join(value) or "(none)"))
        elif name == "fields":
            parts.extend(f"fields.{k} = {val!r}" for k, val in value.items())
        else:
            shown = value.value if isinstance(value, Priority) else value
            parts.append(f"{name} = {shown}")
    if decision.assign is not None:
        parts.append("assign " + decision.assign.describe())
    return "; ".join(parts) if parts else "no field changes"


_EMPTY = Changes()


def _same(a: Any, b: Any) -> bool:
    return a.__class__ is b.__class__ and bool(a == b)


class Plan:
    """A rule's actions prepared once for fast combining (private to routing)."""

    __slots__ = ("add", "assign", "fields", "remove", "scalars")

    def __init__(self, actions: Actions) -> None:
        self.scalars = tuple(
            (name, getattr(actions, name))
            for name in SCALAR_ACTIONS
            if getattr(actions, name) is not None
        )
        self.fields = dict(actions.fields)
        self.add = actions.add_tags
        self.remove = actions.remove_tags
        self.assign = actions.assign


MEMO_SIZE = 4096


def _changes(changes: dict[str, Any], memo: dict[Any, Changes] | None) -> Changes:
    if not changes:
        return _EMPTY
    if memo is None:
        return Changes(**changes)
    key = tuple(
        (k, tuple((f, v.__class__, v) for f, v in val.items()) if k == "fields" else val)
        for k, val in changes.items()
    )
    found = memo.get(key)
    if found is None:
        found = Changes(**changes)
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        memo[key] = found
    return found


def decide(
    ticket: Ticket,
    matched: Sequence[RuleMatch],
    plans: Sequence[Plan],
    *,
    rule_count: int,
    memo: dict[Any, Changes] | None = None,
) -> RoutingDecision:
    """Combine the matched rules' actions (``plans``, one per match) into one decision.

    ``memo`` (owned by the caller) reuses equal ``Changes`` values: building and
    validating one costs more than routing a ticket, and most tickets share a few."""
    if not matched:
        return RoutingDecision(
            ticket_id=ticket.id, changes=_EMPTY, matched=(), rule_count=rule_count
        )
    values: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    tags: set[str] | None = None
    assign: AssignSpec | None = None
    for plan in plans:
        if plan.scalars:
            values.update(plan.scalars)
        if plan.fields:
            fields.update(plan.fields)
        if plan.add or plan.remove:
            if tags is None:
                tags = set(ticket.tags)
            tags.update(plan.add)
            tags.difference_update(plan.remove)
        if plan.assign is not None:
            assign = plan.assign
    sla_policy = values.get("sla_policy")
    changes = {k: val for k, val in values.items() if getattr(ticket, k) != val}
    if fields:
        current = ticket.fields
        new_fields = {
            k: val for k, val in fields.items() if k not in current or not _same(current[k], val)
        }
        if new_fields:
            changes["fields"] = new_fields
    if tags is not None:
        new_tags = tuple(sorted(tags))
        if new_tags != ticket.tags:
            changes["tags"] = new_tags
    last = matched[-1]
    return RoutingDecision(
        ticket_id=ticket.id,
        changes=_changes(changes, memo),
        matched=tuple(matched),
        assign=assign,
        sla_policy=sla_policy,
        stopped_by=last.name if last.stopped else None,
        rule_count=rule_count,
    )
