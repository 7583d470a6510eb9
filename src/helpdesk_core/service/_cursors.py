"""The store cursors a Helpdesk keeps its round-robin turns in: one per team and tier.

Ids hold letters, digits and ``_.:@+-``. A pair whose ids hold no ``:`` keeps the key it
always had, ``round_robin:{team}`` (no tier) or ``round_robin:{team}:{tier}``. That form
is ambiguous once an id holds ``:`` (team ``a:b`` without a tier and team ``a`` in tier
``b`` both made ``round_robin:a:b``), and the text ``None`` stood for no team: such a pair
is keyed ``round_robin/{team}/{tier}`` (an empty part for none; ``/`` is in no id). A key
longer than a store keeps (200 characters) is a digest, ``round_robin#`` and the SHA-256
of the ``/`` form.

A pair whose key changed reads the cursor stored under its earlier key while its own is
unset, when that earlier key names no other pair of the desk's teams and tiers (and no
team), so a desk keeps its turns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection

__all__ = ["earlier_round_robin_key", "round_robin_key"]

#: The longest cursor key a store keeps.
_MAX_KEY = 200


def _earlier(team: str | None, tier: str | None) -> str:
    """The key the pair's cursor was stored under before (it could not tell some apart)."""
    return f"round_robin:{team}" if tier is None else f"round_robin:{team}:{tier}"


def round_robin_key(team: str | None, tier: str | None) -> str:
    """The cursor key of the round-robin turns in ``team`` (None: no team) and ``tier``
    (None: no tier): a different key for every pair."""
    if team is not None and ":" not in team and (tier is None or ":" not in tier):
        key = _earlier(team, tier)
        if len(key) <= _MAX_KEY:
            return key
    key = f"round_robin/{team or ''}/{tier or ''}"
    if len(key) <= _MAX_KEY:
        return key
    return "round_robin#" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def earlier_round_robin_key(
    team: str | None, tier: str | None, *, teams: Collection[str], tiers: Collection[str]
) -> str | None:
    """The key the pair's cursor was stored under before, when it differs from
    :func:`round_robin_key` and names this pair only: no other pair of one of ``teams``
    (or no team) and one of ``tiers`` (or no tier) had that key. None otherwise (also for
    a key too long to have been stored)."""
    key = _earlier(team, tier)
    if key == round_robin_key(team, tier) or len(key) > _MAX_KEY:
        return None
    rest = key[len("round_robin:") :]
    # Every way of reading the key back: the whole of it a team, or a team and a tier
    # split at one of its colons ("None" is also no team).
    readings: list[tuple[str, str | None]] = [(rest, None)]
    readings += [(rest[:i], rest[i + 1 :]) for i, c in enumerate(rest) if c == ":"]
    pairs = {
        (read_team, read_tier)
        for text, read_tier in readings
        if read_tier is None or read_tier in tiers
        for read_team in (text, None)
        if (read_team is None and text == "None") or (read_team is not None and read_team in teams)
    }
    return key if pairs <= {(team, tier)} else None
