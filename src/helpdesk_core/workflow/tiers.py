"""Support tiers and escalation: functional (move up or down the tier ladder) and
hierarchical (raise the escalation level and notify the level's contact).

Functional escalation changes the ticket's tier, team and assignee (cleared, so the caller
assigns someone of the new team) but never its owner. Skipping a tier needs
``allow_skip=True`` (escalation policies grant it). Hierarchical escalation does not move the
ticket. A ticket without a tier counts as being in the lowest tier.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from attrs import field, frozen

from helpdesk_core._time import ensure_aware
from helpdesk_core.errors import ConfigError, InvalidTransition, NotFound, ValidationError
from helpdesk_core.model import (
    Actor,
    DeEscalated,
    Escalated,
    Event,
    LevelRaised,
    Ticket,
    Tier,
    apply_event,
)
from helpdesk_core.model import _validate as v
from helpdesk_core.workflow import _config as cfg

__all__ = ["TierLadder", "de_escalate", "escalate", "level_contact", "raise_level"]


def _to_tiers(value: Iterable[Tier]) -> tuple[Tier, ...]:
    try:
        return v.as_tuple(value, what="a list of tiers")
    except ValidationError as exc:
        raise ConfigError(exc.message, path="tiers") from None


@frozen
class TierLadder:
    """Support tiers ordered from lowest (L1) to highest. Needs at least one tier; tier ids
    are unique and every tier has at least one team (its first team is its default)."""

    tiers: tuple[Tier, ...] = field(converter=_to_tiers)

    def __attrs_post_init__(self) -> None:
        if not self.tiers:
            raise ConfigError("a tier ladder needs at least one tier", path="tiers")
        seen: set[str] = set()
        for i, tier in enumerate(self.tiers):
            if not isinstance(tier, Tier):
                raise ConfigError(f"expected a Tier, got {type(tier).__name__}", path=f"tiers[{i}]")
            if tier.id in seen:
                raise ConfigError(f"duplicate tier {tier.id!r}", path=f"tiers[{i}].id")
            seen.add(tier.id)
            if not tier.teams:
                raise ConfigError(
                    f"tier {tier.id!r} has no team: a ticket escalated to it would have "
                    "no queue",
                    path=f"tiers[{i}].teams",
                )

    def __len__(self) -> int:
        return len(self.tiers)

    def __iter__(self) -> Iterator[Tier]:
        return iter(self.tiers)

    def __contains__(self, tier_id: object) -> bool:
        return any(t.id == tier_id for t in self.tiers)

    @property
    def ids(self) -> tuple[str, ...]:
        """Tier ids, lowest first."""
        return tuple(t.id for t in self.tiers)

    @property
    def lowest(self) -> Tier:
        """The first tier (where new tickets enter unless routed elsewhere)."""
        return self.tiers[0]

    @property
    def highest(self) -> Tier:
        """The last tier."""
        return self.tiers[-1]

    def index(self, tier_id: str) -> int:
        """Position of ``tier_id`` (0 = lowest); NotFound for an unknown tier."""
        for i, tier in enumerate(self.tiers):
            if tier.id == tier_id:
                return i
        raise NotFound("tier", tier_id, f"tier {tier_id!r} is not on the ladder ({self._list()})")

    def get(self, tier_id: str) -> Tier:
        """The tier called ``tier_id``; NotFound for an unknown tier."""
        return self.tiers[self.index(tier_id)]

    def next_above(self, tier_id: str) -> Tier | None:
        """The tier right above ``tier_id`` (None at the top)."""
        i = self.index(tier_id) + 1
        return self.tiers[i] if i < len(self.tiers) else None

    def next_below(self, tier_id: str) -> Tier | None:
        """The tier right below ``tier_id`` (None at the bottom)."""
        i = self.index(tier_id) - 1
        return self.tiers[i] if i >= 0 else None

    def _list(self) -> str:
        return ", ".join(self.ids)

    def to_dict(self) -> list[dict[str, Any]]:
        """Plain data: a list of ``{"id", "name", "teams"}``, lowest first."""
        return [{"id": t.id, "name": t.name, "teams": list(t.teams)} for t in self.tiers]

    @classmethod
    def from_dict(cls, doc: Any, *, path: str = "tiers") -> TierLadder:
        """Build from :meth:`to_dict` data; ConfigError with the path of the bad part."""
        items = cfg.sequence(doc, path, "tiers")
        tiers: list[Tier] = []
        for i, item in enumerate(items):
            where = f"{path}[{i}]"
            data = cfg.mapping(item, where, "a tier")
            cfg.check_keys(data, where, required=("id",), optional=("name", "teams"))
            teams = cfg.text_list(data.get("teams", ()), f"{where}.teams", "team ids")
            with cfg.at(where):
                tiers.append(Tier(id=data["id"], name=data.get("name", ""), teams=teams))
        try:
            return cls(tiers)
        except ConfigError as exc:
            raise cfg.rebased(exc, "tiers", path) from exc


def _check_common(
    ticket: Ticket, *, now: datetime, reason: Any, by: Any, action: str, verb: str
) -> datetime:
    if not isinstance(ticket, Ticket):
        raise ValidationError(f"expected a Ticket, got {type(ticket).__name__}", field="ticket")
    now = ensure_aware(now, field="now")
    if not isinstance(by, Actor):
        raise ValidationError(f"expected an Actor, got {type(by).__name__}", field="by")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError(f"{action} needs a reason", field="reason")
    if not ticket.is_active:
        raise InvalidTransition(
            f"ticket {ticket.id} in status {ticket.status!r}: cannot {verb} a "
            f"{ticket.status_category.value} ticket",
            ticket_id=ticket.id,
            status=ticket.status,
            transition=action,
        )
    return now


def _current(ticket: Ticket, ladder: TierLadder) -> int:
    if ticket.tier is None:
        return 0
    if ticket.tier not in ladder:
        raise ValidationError(
            f"ticket {ticket.id} is in tier {ticket.tier!r}, which is not on the ladder "
            f"({', '.join(ladder.ids)})",
            field="tier",
        )
    return ladder.index(ticket.tier)


def _target(
    ticket: Ticket, ladder: TierLadder, to_tier: str | None, *, up: bool, allow_skip: bool
) -> Tier:
    if not isinstance(ladder, TierLadder):
        raise ValidationError(
            f"expected a TierLadder, got {type(ladder).__name__}", field="ladder"
        )
    action = "escalate" if up else "de-escalate"
    here = _current(ticket, ladder)
    step = 1 if up else -1

    def refuse(message: str) -> InvalidTransition:
        return InvalidTransition(
            f"ticket {ticket.id} in tier {ladder.tiers[here].id!r}: cannot {action}: {message}",
            ticket_id=ticket.id,
            status=ticket.status,
            transition=action,
        )

    if to_tier is None:
        there = here + step
        if not 0 <= there < len(ladder):
            raise refuse("it is in the " + ("top" if up else "lowest") + " tier already")
        return ladder.tiers[there]
    if to_tier not in ladder:
        raise ValidationError(
            f"tier {to_tier!r} is not on the ladder ({', '.join(ladder.ids)})", field="to_tier"
        )
    there = ladder.index(to_tier)
    if (there - here) * step <= 0:
        raise refuse(f"tier {to_tier!r} is not " + ("above" if up else "below") + " it")
    if abs(there - here) > 1 and not allow_skip:
        between = ladder.tiers[min(here, there) + 1 : max(here, there)]
        skipped = ", ".join(repr(t.id) for t in between)
        raise refuse(f"going to {to_tier!r} skips {skipped}; skipping needs allow_skip")
    return ladder.tiers[there]


def _team(tier: Tier, team: str | None) -> str | None:
    if team is None:
        return tier.default_team
    if team not in tier.teams:
        raise ValidationError(
            f"team {team!r} is not a team of tier {tier.id!r} ({', '.join(tier.teams)})",
            field="team",
        )
    return team


def escalate(
    ticket: Ticket,
    ladder: TierLadder,
    *,
    by: Actor,
    now: datetime,
    reason: str,
    to_tier: str | None = None,
    allow_skip: bool = False,
    team: str | None = None,
    policy: str | None = None,
) -> tuple[Ticket, list[Event]]:
    """Functional escalation to the next tier up (or ``to_tier``, which must be higher;
    more than one step needs ``allow_skip``). The team becomes ``team`` (a team of the new
    tier) or the tier's default team; the assignee is cleared; the owner stays. Emits
    :class:`~helpdesk_core.model.Escalated`. Refused with
    :class:`~helpdesk_core.errors.InvalidTransition` at the top tier, for a skip without
    ``allow_skip``, and for a solved or closed ticket; a blank reason is a
    :class:`~helpdesk_core.errors.ValidationError`."""
    _check_allow_skip(allow_skip)
    now = _check_common(ticket, now=now, reason=reason, by=by, action="escalate", verb="escalate")
    tier = _target(ticket, ladder, to_tier, up=True, allow_skip=allow_skip)
    event = Escalated(
        ticket_id=ticket.id,
        at=now,
        by=by,
        from_tier=ticket.tier,
        to_tier=tier.id,
        team=_team(tier, team),
        assignee=None,
        reason=reason,
        policy=policy,
    )
    return apply_event(ticket, event), [event]


def _check_allow_skip(allow_skip: object) -> None:
    if not isinstance(allow_skip, bool):
        raise ValidationError(
            f"allow_skip is true or false, got {allow_skip!r}", field="allow_skip"
        )


def de_escalate(
    ticket: Ticket,
    ladder: TierLadder,
    *,
    by: Actor,
    now: datetime,
    reason: str,
    to_tier: str | None = None,
    allow_skip: bool = False,
    team: str | None = None,
) -> tuple[Ticket, list[Event]]:
    """Functional de-escalation to the next tier down (or ``to_tier``, which must be
    lower); otherwise like :func:`escalate`. Emits :class:`~helpdesk_core.model.DeEscalated`."""
    _check_allow_skip(allow_skip)
    now = _check_common(
        ticket, now=now, reason=reason, by=by, action="de-escalate", verb="de-escalate"
    )
    tier = _target(ticket, ladder, to_tier, up=False, allow_skip=allow_skip)
    event = DeEscalated(
        ticket_id=ticket.id,
        at=now,
        by=by,
        from_tier=ticket.tier,
        to_tier=tier.id,
        team=_team(tier, team),
        assignee=None,
        reason=reason,
    )
    return apply_event(ticket, event), [event]


def level_contact(contacts: Sequence[str], level: int) -> str | None:
    """The contact for escalation ``level`` (1 = first contact): ``contacts[level - 1]``,
    else the last contact, else None."""
    if isinstance(contacts, str):
        raise ValidationError("contacts is a list of ids, not one string", field="contacts")
    if isinstance(contacts, bytes | Mapping) or not isinstance(contacts, Sequence):
        raise ValidationError(
            f"contacts is a list of ids, got {type(contacts).__name__}", field="contacts"
        )
    if isinstance(level, bool) or not isinstance(level, int):
        raise ValidationError(
            f"level is a whole number (1 = first contact), got {type(level).__name__}",
            field="level",
        )
    if level < 1 or not contacts:
        return None
    return contacts[level - 1] if level <= len(contacts) else contacts[-1]


def raise_level(
    ticket: Ticket,
    *,
    contacts: Sequence[str],
    by: Actor,
    now: datetime,
    reason: str,
    policy: str | None = None,
) -> tuple[Ticket, list[Event]]:
    """Hierarchical escalation: the escalation level goes up by one and the level's contact
    (``contacts``, typically the team's ``Team.contacts``; see :func:`level_contact`) is
    named in the :class:`~helpdesk_core.model.LevelRaised` event. The ticket does not move.
    Refused for a solved or closed ticket."""
    now = _check_common(
        ticket,
        now=now,
        reason=reason,
        by=by,
        action="raise_level",
        verb="raise the escalation level of",
    )
    level = ticket.escalation_level + 1
    event = LevelRaised(
        ticket_id=ticket.id,
        at=now,
        by=by,
        level=level,
        contact=level_contact(contacts, level),
        reason=reason,
        policy=policy,
    )
    return apply_event(ticket, event), [event]
