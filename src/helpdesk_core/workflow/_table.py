"""Checking a lifecycle and indexing its transitions (private).

:func:`build_table` validates the statuses and transitions of a lifecycle and returns the
lookup tables the hot path uses: transitions by ``(status, name)``, by ``(status, target)``
and by ``(trigger, status)``. Every problem raises ConfigError whose ``path`` names the bad
part (``lifecycle.transitions[2].to``) and whose message names the status or transition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from attrs import frozen

from helpdesk_core.errors import ConfigError
from helpdesk_core.model import StatusCategory
from helpdesk_core.workflow.guards import Guard, guard_names, lookup_guard

if TYPE_CHECKING:
    from helpdesk_core.workflow.lifecycle import Status, Transition

__all__ = ["AUTOMATIC_TRIGGERS", "Step", "Table", "build_table"]

#: Triggers an automatic transition may name, and what fires them.
AUTOMATIC_TRIGGERS: Mapping[str, str] = {
    "requester_public_reply": "a public reply by the requester",
    "agent_public_reply": "a public reply by an agent (each one)",
    "solved_timeout": "auto_close_after business days after solving",
}


@frozen
class Step:
    """A transition as seen from one source status, ready to apply: the target's category
    and the guard functions, resolved when the lifecycle is built."""

    transition: Transition
    category: StatusCategory
    guards: tuple[tuple[str, Guard], ...]


@frozen
class Table:
    """The lookup tables of a valid lifecycle. ``steps`` maps ``(status, name)`` and
    ``(status, target status)`` to the step (a name that is a status's is that of a move
    to it, so the two never disagree)."""

    statuses: Mapping[str, Status]
    steps: Mapping[tuple[str, str], Step]
    by_name: Mapping[tuple[str, str], Transition]
    by_target: Mapping[tuple[str, str], Transition]
    by_trigger: Mapping[tuple[str, str], Transition]
    outgoing: Mapping[str, tuple[Transition, ...]]
    sources: tuple[tuple[str, ...], ...]


def _quote(names: Sequence[str] | set[str]) -> str:
    return ", ".join(repr(n) for n in sorted(names)) or "none"


def _check_statuses(statuses: Sequence[Status], initial: str, root: str) -> dict[str, Status]:
    if not statuses:
        raise ConfigError("a lifecycle needs at least one status", path=f"{root}.statuses")
    by_name: dict[str, Status] = {}
    for i, status in enumerate(statuses):
        if status.name in by_name:
            raise ConfigError(
                f"duplicate status {status.name!r}", path=f"{root}.statuses[{i}].name"
            )
        by_name[status.name] = status
    if initial not in by_name:
        raise ConfigError(
            f"initial status {initial!r} is not one of the statuses ({_quote(set(by_name))})",
            path=f"{root}.initial",
        )
    category = by_name[initial].category
    if not category.is_active:
        # A ticket opened there would be born solved or closed, with no solved_at or
        # closed_at: never auto-closed, never due for retention, never worked.
        raise ConfigError(
            f"initial status {initial!r} is of the {category.value} category: a new ticket "
            "starts in a status of the new, open, pending or on_hold category",
            path=f"{root}.initial",
        )
    if not any(s.category is StatusCategory.CLOSED for s in statuses):
        raise ConfigError(
            "no status of the closed category: a lifecycle needs a terminal status",
            path=f"{root}.statuses",
        )
    return by_name


def _sources(t: Transition, statuses: Mapping[str, Status], path: str) -> tuple[str, ...]:
    if t.from_any:
        return tuple(
            name
            for name, s in statuses.items()
            if s.category is not StatusCategory.CLOSED and name != t.to
        )
    for j, name in enumerate(t.from_):
        status = statuses.get(name)
        if status is None:
            raise ConfigError(
                f"transition {t.name!r} starts from unknown status {name!r} "
                f"(statuses: {_quote(set(statuses))})",
                path=f"{path}.from[{j}]",
            )
        if status.category is StatusCategory.CLOSED:
            raise ConfigError(
                f"transition {t.name!r} leaves {name!r}, a closed status: closed is terminal",
                path=f"{path}.from[{j}]",
            )
    return t.from_


def _check_transition(
    t: Transition,
    statuses: Mapping[str, Status],
    guards: Mapping[str, Guard],
    path: str,
) -> tuple[str, ...]:
    if t.to not in statuses:
        raise ConfigError(
            f"transition {t.name!r} goes to unknown status {t.to!r} "
            f"(statuses: {_quote(set(statuses))})",
            path=f"{path}.to",
        )
    for j, guard in enumerate(t.guards):
        if lookup_guard(guard, guards) is None:
            raise ConfigError(
                f"transition {t.name!r} names unknown guard {guard!r} "
                f"(known: {', '.join(guard_names(guards))})",
                path=f"{path}.guards[{j}]",
            )
    if t.automatic is not None and t.automatic not in AUTOMATIC_TRIGGERS:
        raise ConfigError(
            f"transition {t.name!r} names unknown automatic trigger {t.automatic!r} "
            f"(known: {', '.join(AUTOMATIC_TRIGGERS)})",
            path=f"{path}.automatic",
        )
    return _sources(t, statuses, path)


def _unreachable(
    initial: str, statuses: Mapping[str, Status], outgoing: Mapping[str, tuple[Transition, ...]]
) -> list[str]:
    seen = {initial}
    todo = [initial]
    while todo:
        for t in outgoing.get(todo.pop(), ()):
            if t.to not in seen:
                seen.add(t.to)
                todo.append(t.to)
    return [name for name in statuses if name not in seen]


def _dead_ends(
    statuses: Mapping[str, Status], outgoing: Mapping[str, tuple[Transition, ...]]
) -> list[str]:
    """The statuses from which no sequence of transitions reaches a closed status: a
    ticket there could never be closed (guards are not weighed: a guarded move is a way
    out)."""
    into: dict[str, list[str]] = {name: [] for name in statuses}
    for source, moves in outgoing.items():
        for t in moves:
            into[t.to].append(source)
    done = [name for name, s in statuses.items() if s.category is StatusCategory.CLOSED]
    seen = set(done)
    while done:
        for source in into[done.pop()]:
            if source not in seen:
                seen.add(source)
                done.append(source)
    return [name for name in statuses if name not in seen]


def _steps(
    statuses: Mapping[str, Status],
    by_name: Mapping[tuple[str, str], Transition],
    by_target: Mapping[tuple[str, str], Transition],
    guards: Mapping[str, Guard],
) -> dict[tuple[str, str], Step]:
    made: dict[int, Step] = {}

    def step(t: Transition) -> Step:
        found = made.get(id(t))
        if found is None:
            resolved = []
            for name in t.guards:
                fn = lookup_guard(name, guards)
                assert fn is not None  # checked by _check_transition
                resolved.append((name, fn))
            found = made[id(t)] = Step(t, statuses[t.to].category, tuple(resolved))
        return found

    out = {key: step(t) for key, t in by_target.items()}
    out.update({key: step(t) for key, t in by_name.items()})
    return out


def build_table(
    *,
    statuses: Sequence[Status],
    initial: str,
    transitions: Sequence[Transition],
    guards: Mapping[str, Guard],
    root: str = "lifecycle",
) -> Table:
    """Validate a lifecycle's parts and index them; ConfigError names the first problem."""
    by_status = _check_statuses(statuses, initial, root)
    by_name: dict[tuple[str, str], Transition] = {}
    by_target: dict[tuple[str, str], Transition] = {}
    by_trigger: dict[tuple[str, str], Transition] = {}
    outgoing: dict[str, list[Transition]] = {name: [] for name in by_status}
    sources: list[tuple[str, ...]] = []
    target_of_name: dict[str, str] = {}
    for i, t in enumerate(transitions):
        path = f"{root}.transitions[{i}]"
        froms = _check_transition(t, by_status, guards, path)
        if t.name != t.to and t.name in by_status:
            raise ConfigError(
                f"transition {t.name!r} goes to {t.to!r} but is named after status "
                f"{t.name!r}: a move is asked for by its name or by its target status, so "
                f"asking for {t.name!r} would not go there; name it otherwise",
                path=f"{path}.name",
            )
        sources.append(froms)
        earlier = target_of_name.setdefault(t.name, t.to)
        if earlier != t.to:
            raise ConfigError(
                f"duplicate transition name {t.name!r}: it goes to {earlier!r} and to "
                f"{t.to!r}; a name may repeat only with the same target",
                path=f"{path}.name",
            )
        for source in froms:
            if (source, t.name) in by_name:
                raise ConfigError(
                    f"duplicate transition {t.name!r} from status {source!r}",
                    path=f"{path}.name",
                )
            by_name[source, t.name] = t
            by_target.setdefault((source, t.to), t)
            outgoing[source].append(t)
            if t.automatic is not None:
                if t.automatic == "solved_timeout" and (
                    by_status[source].category is not StatusCategory.SOLVED
                ):
                    raise ConfigError(
                        f"transition {t.name!r} moves status {source!r} on 'solved_timeout', "
                        "which only solved tickets reach: it would never fire",
                        path=f"{path}.automatic",
                    )
                if (t.automatic, source) in by_trigger:
                    other = by_trigger[t.automatic, source].name
                    raise ConfigError(
                        f"transitions {other!r} and {t.name!r} both move status {source!r} "
                        f"automatically on {t.automatic!r}",
                        path=f"{path}.automatic",
                    )
                by_trigger[t.automatic, source] = t
    steps = _steps(by_status, by_name, by_target, guards)
    frozen_outgoing = {name: tuple(ts) for name, ts in outgoing.items()}
    unreachable = _unreachable(initial, by_status, frozen_outgoing)
    if unreachable:
        raise ConfigError(
            f"status(es) {_quote(set(unreachable))} cannot be reached from the initial "
            f"status {initial!r}",
            path=f"{root}.statuses",
        )
    stuck = _dead_ends(by_status, frozen_outgoing)
    if stuck:
        raise ConfigError(
            f"status(es) {', '.join(repr(n) for n in stuck)} cannot reach a status of the "
            "closed category: a ticket there could never be closed (it would stay "
            "open or solved for ever, its SLA clocks with it); give "
            f"{'it' if len(stuck) == 1 else 'them'} a transition out",
            path=f"{root}.statuses[{list(by_status).index(stuck[0])}]",
        )
    return Table(
        by_status, steps, by_name, by_target, by_trigger, frozen_outgoing, tuple(sources)
    )
