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
#: Words Mermaid's state diagrams read as keywords, in any case: a status named so is
#: drawn under a generated id.
_RESERVED = frozenset(
    {
        "accdescr",
        "acctitle",
        "choice",
        "class",
        "classdef",
        "click",
        "default",
        "direction",
        "end",
        "fork",
        "hide",
        "join",
        "linkstyle",
        "note",
        "scale",
        "state",
        "statediagram",
        "style",
    }
)


def _ids(lifecycle: Lifecycle) -> dict[str, str]:
    """Each status's id in the diagram: its name when Mermaid reads that as a plain id,
    else ``s<n>``, a generated id that is no status's name and no other's id."""
    names = {status.name for status in lifecycle.statuses}
    out: dict[str, str] = {}
    taken = set(names)
    n = 0
    for status in lifecycle.statuses:
        name = status.name
        if _PLAIN.match(name) and name.casefold() not in _RESERVED:
            out[name] = name
            continue
        while f"s{n}" in taken:
            n += 1
        out[name] = f"s{n}"
        taken.add(out[name])
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
