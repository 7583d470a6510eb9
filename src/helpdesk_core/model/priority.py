"""The ITIL impact x urgency matrix that derives a ticket's priority."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from helpdesk_core.errors import ConfigError
from helpdesk_core.model._validate import require
from helpdesk_core.model.enums import Impact, Priority, Urgency

__all__ = ["DEFAULT_PRIORITY_MATRIX", "PriorityMatrix", "priority_for"]


def _default_table() -> dict[tuple[Impact, Urgency], Priority]:
    h, m, lo = Impact.HIGH, Impact.MEDIUM, Impact.LOW
    uh, um, ul = Urgency.HIGH, Urgency.MEDIUM, Urgency.LOW
    return {
        (h, uh): Priority.CRITICAL,
        (h, um): Priority.HIGH,
        (m, uh): Priority.HIGH,
        (h, ul): Priority.MEDIUM,
        (m, um): Priority.MEDIUM,
        (lo, uh): Priority.MEDIUM,
        (m, ul): Priority.LOW,
        (lo, um): Priority.LOW,
        (lo, ul): Priority.LOW,
    }


def _to_table(value: Any) -> dict[tuple[Impact, Urgency], Priority]:
    if not isinstance(value, Mapping):
        raise ConfigError("the priority matrix must be a mapping", path="priority_matrix")
    table: dict[tuple[Impact, Urgency], Priority] = {}
    for key, prio in value.items():
        if isinstance(key, str):
            impact_text, sep, urgency_text = key.partition("/")
            if not sep:
                raise ConfigError(
                    f"matrix key {key!r} must read 'impact/urgency', e.g. 'high/medium'",
                    path="priority_matrix",
                )
            key = (impact_text, urgency_text)
        elif not isinstance(key, tuple) or len(key) != 2:
            raise ConfigError(
                f"matrix key {key!r} must read 'impact/urgency', e.g. 'high/medium', or be "
                "an (impact, urgency) pair",
                path="priority_matrix",
            )
        impact_raw, urgency_raw = key
        path = f"priority_matrix[{impact_raw}/{urgency_raw}]"
        try:
            impact = Impact.parse(impact_raw)
            urgency = Urgency.parse(urgency_raw)
            if (impact, urgency) in table:
                raise ConfigError(
                    f"{impact.value}/{urgency.value} is given twice (as {key!r} too)",
                    path=path,
                )
            table[(impact, urgency)] = Priority.parse(prio)
        except ConfigError:
            raise
        except ValueError as exc:
            raise ConfigError(str(exc), path=path) from exc
    missing = [
        f"{i.value}/{u.value}" for i in Impact for u in Urgency if (i, u) not in table
    ]
    if missing:
        raise ConfigError(
            f"the priority matrix has no entry for {', '.join(missing)}", path="priority_matrix"
        )
    return table


@frozen
class PriorityMatrix:
    """Maps every (impact, urgency) pair to a priority. Build from a dict keyed by
    ``"impact/urgency"`` text or by ``(Impact, Urgency)`` pairs; every pair must be given."""

    table: Mapping[tuple[Impact, Urgency], Priority] = field(
        factory=_default_table, converter=_to_table, hash=False
    )

    def __call__(self, impact: Impact | str, urgency: Impact | str) -> Priority:
        """The priority for this impact and urgency."""
        return self.table[(Impact.parse(impact), Urgency.parse(urgency))]

    def to_dict(self) -> dict[str, str]:
        """The matrix as ``{"impact/urgency": priority}`` text."""
        return {f"{i.value}/{u.value}": p.value for (i, u), p in self.table.items()}


DEFAULT_PRIORITY_MATRIX = PriorityMatrix()


def priority_for(
    impact: Impact | str, urgency: Urgency | str, *, matrix: PriorityMatrix | None = None
) -> Priority:
    """Priority from the ITIL matrix: high/high → critical; high/medium and medium/high →
    high; high/low, medium/medium, low/high → medium; the rest low.

    >>> priority_for("high", "medium")
    <Priority.HIGH: 'high'>
    """
    if matrix is not None:
        require(matrix, PriorityMatrix, "a PriorityMatrix", field="matrix")
    return (matrix or DEFAULT_PRIORITY_MATRIX)(impact, urgency)
