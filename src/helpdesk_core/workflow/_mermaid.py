"""Drawing a lifecycle as a Mermaid state diagram (private; see ``Lifecycle.to_mermaid``).

One arrow per (source status, transition), labelled with the transition's name, its guards
in brackets and, for automatic transitions, ``(auto: trigger)``. ``[*]`` points at the
initial status and closed-category statuses point at ``[*]``. Each status is styled by its
category through a ``classDef`` named ``cat_<category>``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from helpdesk_core.model import StatusCategory

if TYPE_CHECKING:
    from helpdesk_core.workflow.lifecycle import Lifecycle, Transition

__all__ = ["CATEGORY_STYLES", "mermaid"]

#: The fill and stroke of each category's ``classDef``.
CATEGORY_STYLES = {
    StatusCategory.NEW: "fill:#e3f2fd,stroke:#1565c0",
    StatusCategory.OPEN: "fill:#e8f5e9,stroke:#2e7d32",
    StatusCategory.PENDING: "fill:#fff8e1,stroke:#f9a825",
    StatusCategory.ON_HOLD: "fill:#fff3e0,stroke:#ef6c00",
    StatusCategory.SOLVED: "fill:#f3e5f5,stroke:#6a1b9a",
    StatusCategory.CLOSED: "fill:#eceff1,stroke:#455a64",
}

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = frozenset({"state", "note", "class", "classDef", "direction", "end", "style"})


def _ids(lifecycle: Lifecycle) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, status in enumerate(lifecycle.statuses):
        plain = _PLAIN.match(status.name) and status.name not in _RESERVED
        out[status.name] = status.name if plain else f"s{i}"
    return out


def _label(t: Transition) -> str:
    label = t.name
    if t.guards:
        label += f" [{', '.join(t.guards)}]"
    if t.automatic:
        label += f" (auto: {t.automatic})"
    return label


def mermaid(lifecycle: Lifecycle) -> str:
    """The ``stateDiagram-v2`` text of ``lifecycle``, ending with a newline."""
    ids = _ids(lifecycle)
    lines = ["stateDiagram-v2"]
    for status in lifecycle.statuses:
        if ids[status.name] != status.name:
            lines.append(f'    state "{status.name}" as {ids[status.name]}')
    lines.append(f"    [*] --> {ids[lifecycle.initial]}")
    for t in lifecycle.transitions:
        for source in lifecycle.sources(t):
            lines.append(f"    {ids[source]} --> {ids[t.to]} : {_label(t)}")
    for status in lifecycle.statuses:
        if status.category is StatusCategory.CLOSED:
            lines.append(f"    {ids[status.name]} --> [*]")
    used = [c for c in StatusCategory if any(s.category is c for s in lifecycle.statuses)]
    for category in used:
        lines.append(f"    classDef cat_{category.value} {CATEGORY_STYLES[category]}")
    for category in used:
        members = [ids[s.name] for s in lifecycle.statuses if s.category is category]
        lines.append(f"    class {', '.join(members)} cat_{category.value}")
    return "\n".join(lines) + "\n"
