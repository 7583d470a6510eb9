"""The ticket snapshot and the small values it holds (links, satisfaction, SLA clocks).

A :class:`Ticket` is the fold of its events (see :mod:`helpdesk_core.model.replay`); its
``version`` is its event count. It is immutable: every change makes a new value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from attrs import field, frozen

from helpdesk_core.errors import ValidationError
from helpdesk_core.model import _validate as v
from helpdesk_core.model.enums import (
    Channel,
    ClockState,
    Impact,
    LinkKind,
    Metric,
    Priority,
    StatusCategory,
    Urgency,
    to_channel,
    to_clock_state,
    to_impact,
    to_link_kind,
    to_metric,
    to_priority,
    to_ticket_status_category,
    to_urgency,
)
from helpdesk_core.model.known_error import KnownError

__all__ = ["Link", "Satisfaction", "SlaClock", "Ticket"]

MAX_SUBJECT_LENGTH = 1_000


def check_subject(instance: Any, attribute: Any, value: Any) -> None:
    """A subject: text with more than blanks, at most :data:`MAX_SUBJECT_LENGTH`
    characters (events that carry one check it as the ticket does, so their fold gives
    a ticket that can be built again)."""
    v.non_empty_text(instance, attribute, value)
    if len(value) > MAX_SUBJECT_LENGTH:
        raise ValidationError(
            f"subject is {len(value)} characters long; at most {MAX_SUBJECT_LENGTH}",
            field="subject",
        )


def check_optional_subject(instance: Any, attribute: Any, value: Any) -> None:
    """None or a subject (see :func:`check_subject`)."""
    if value is not None:
        check_subject(instance, attribute, value)


@frozen(kw_only=True)
class Link:
    """A link from one ticket to another (``duplicate_of``, ``caused_by``, ``follow_up_of``)."""

    kind: LinkKind = field(converter=to_link_kind)
    other: str = field(validator=v.identifier)


def _score(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationError(f"a satisfaction score is 1 to 5, got {value!r}", field="score")


@frozen(kw_only=True)
class Satisfaction:
    """The requester's rating of the service on a solved ticket (CSAT)."""

    score: int = field(validator=_score)
    comment: str = field(default="", validator=v.text)
    at: datetime = field(converter=v.to_utc, validator=v.aware)


def _timedelta(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, timedelta):
        raise ValidationError(
            f"expected a duration, got {type(value).__name__}", field=attribute.name
        )


def _optional_timedelta(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        _timedelta(instance, attribute, value)


def _to_optional_fraction(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _warned_threshold(instance: Any, attribute: Any, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, float) or not 0 < value <= 1:
        raise ValidationError(
            f"a warning threshold is a fraction of the target (0 to 1), got {value!r}",
            field=attribute.name,
        )
    if instance.warnings_sent == 0:
        raise ValidationError(
            "a clock that recorded no warning (warnings_sent 0) has no warned threshold",
            field=attribute.name,
        )


@frozen(kw_only=True, weakref_slot=False)
class SlaClock:
    """The recorded state of one SLA clock of a ticket.

    ``warned_threshold`` is the highest warning threshold (a fraction of the target)
    recorded in this cycle, at ``warned_at``; the next warning due is the first threshold
    of the clock's policy above it, whatever thresholds the policy had before.
    ``warnings_sent`` counts the warnings recorded in this cycle (a clock stored before
    ``warned_threshold`` existed has only the count: its highest threshold warned of is
    read as the count-th of its policy's thresholds). ``used`` is the business time
    consumed up to ``as_of`` (pauses excluded); while the clock runs, time keeps accruing
    from ``as_of`` on the ``calendar``. ``deadline`` is the instant the target is
    reached if nothing pauses the clock (None while paused or stopped); ``warn_at`` the
    next warning instant. Live figures (used and remaining now) come from
    :func:`helpdesk_core.sla.clock_view`.
    """

    metric: Metric = field(converter=to_metric)
    policy: str = field(validator=v.identifier)
    calendar: str = field(validator=v.identifier)
    target: timedelta = field(validator=_timedelta)
    state: ClockState = field(converter=to_clock_state)
    started_at: datetime = field(converter=v.to_utc, validator=v.aware)
    used: timedelta = field(validator=_timedelta)
    as_of: datetime = field(converter=v.to_utc, validator=v.aware)
    deadline: datetime | None = field(
        default=None, converter=v.to_optional_utc, validator=v.optional_aware
    )
    warn_at: datetime | None = field(
        default=None, converter=v.to_optional_utc, validator=v.optional_aware
    )
    warnings_sent: int = field(default=0, validator=v.non_negative_int)
    warned_threshold: float | None = field(
        default=None, converter=_to_optional_fraction, validator=_warned_threshold
    )
    warned_at: datetime | None = field(
        default=None, converter=v.to_optional_utc, validator=v.optional_aware
    )
    breached_at: datetime | None = field(
        default=None, converter=v.to_optional_utc, validator=v.optional_aware
    )
    stopped_at: datetime | None = field(
        default=None, converter=v.to_optional_utc, validator=v.optional_aware
    )
    cycle: int = field(default=1, validator=v.non_negative_int)
    paused_total: timedelta = field(default=timedelta(0), validator=_timedelta)

    @property
    def is_running(self) -> bool:
        """True while the clock accrues time (running, or breached and still running)."""
        return self.stopped_at is None and self.deadline is not None

    @property
    def is_stopped(self) -> bool:
        """True once the clock was stopped (met, or breached and then stopped)."""
        return self.stopped_at is not None

    @property
    def is_breached(self) -> bool:
        """True once the target was exceeded in this cycle."""
        return self.breached_at is not None


def _to_links(value: Any) -> tuple[Link, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError(
            f"links is a list of links, got {type(value).__name__}", field="links"
        )
    return tuple(_to_link(item) for item in value)


def _to_link(item: Any) -> Any:
    if not isinstance(item, Mapping):
        return item  # the validator refuses anything but a Link
    if set(item) != {"kind", "other"}:
        raise ValidationError("a link is a mapping of 'kind' and 'other'", field="links")
    return Link(kind=item["kind"], other=item["other"])


def _links(instance: Any, attribute: Any, value: Any) -> None:
    for item in value:
        if not isinstance(item, Link):
            raise ValidationError(f"expected a Link, got {type(item).__name__}", field="links")


def _satisfaction(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and not isinstance(value, Satisfaction):
        raise ValidationError(
            f"expected a Satisfaction or None, got {type(value).__name__}", field="satisfaction"
        )


def _to_sla(value: Any) -> dict[str, SlaClock]:
    if not isinstance(value, Mapping):
        raise ValidationError("sla must be a mapping of metric to clock", field="sla")
    return {Metric.parse(k, field="sla").value: c for k, c in value.items()}


def _sla(instance: Any, attribute: Any, value: Any) -> None:
    for key, clock in value.items():
        if not isinstance(clock, SlaClock) or clock.metric.value != key:
            raise ValidationError(f"bad SLA clock for {key!r}", field=f"sla.{key}")


def _to_spans(value: Any) -> tuple[tuple[datetime, datetime], ...]:
    items = v.as_tuple(value, field="tier_inactive", what="a list of (start, end) pairs")
    spans: list[tuple[datetime, datetime]] = []
    for index, pair in enumerate(items):
        where = f"tier_inactive[{index}]"
        two = v.as_tuple(pair, field=where, what="a (start, end) pair")
        if len(two) != 2 or not all(isinstance(x, datetime) for x in two):
            raise ValidationError("expected a (start, end) pair of datetimes", field=where)
        start, end = (v.to_utc(x) for x in two)
        if start.tzinfo is None or end.tzinfo is None:
            raise ValidationError("naive datetime refused: give timezone-aware ones", field=where)
        if end < start:
            raise ValidationError("a span ends before it starts", field=where)
        spans.append((start, end))
    return tuple(spans)


def _to_queued_skills(value: Any) -> tuple[str, ...]:
    return v.to_name_tuple(value, field="queued_skills")


def _to_fired_triggers(value: Any) -> tuple[str, ...]:
    return v.to_str_tuple(value, field="fired_triggers")


@frozen(kw_only=True, weakref_slot=False)
class Ticket:
    """A helpdesk ticket as of its latest event.

    Identity: ``id`` (opaque, unique) and ``number`` (the human ticket number shown to the
    requester). ``owner`` is accountable for the outcome; ``assignee`` works it now.
    ``status`` is a status of the ticket's ``lifecycle`` and ``status_category`` its
    category. ``sla`` maps metric names to :class:`SlaClock` values. ``known_error`` is the
    known-error record of a problem ticket (None until one is recorded). ``version`` counts
    the ticket's events.

    While the ticket waits in its team's queue (since ``queued_at``), ``queued_strategy``
    and ``queued_skills`` hold the assignment asked for it (a routing rule's ``assign``, or
    a strategy given to ``auto_assign``), which every attempt to assign it follows;
    ``queued_strategy`` None means the desk's own assignment settings. All three are
    cleared when the ticket is assigned.

    Time in tier counts from ``tier_since`` (entering the tier) and leaves out
    ``tier_inactive``: the spans the ticket spent solved since then, oldest first.
    Snapshots written before these spans were recorded hold none.
    """

    id: str = field(validator=v.identifier)
    number: int = field(validator=v.non_negative_int)
    requester: str = field(validator=v.identifier)
    subject: str = field(validator=check_subject)
    description: str = field(default="", validator=v.text)
    channel: Channel = field(default=Channel.WEB, converter=to_channel)
    category: str | None = field(default=None, validator=v.optional_text)
    type: str = field(default="incident", validator=v.identifier)
    impact: Impact = field(default=Impact.MEDIUM, converter=to_impact)
    urgency: Urgency = field(default=Urgency.MEDIUM, converter=to_urgency)
    priority: Priority = field(default=Priority.MEDIUM, converter=to_priority)
    priority_explicit: bool = field(default=False, validator=v.boolean)
    tags: tuple[str, ...] = field(default=(), converter=v.to_tag_tuple, validator=v.tag_tuple)
    fields: Mapping[str, v.FieldValue] = field(
        factory=dict, converter=v.to_field_dict, validator=v.field_dict, hash=False
    )
    asset: str | None = field(default=None, validator=v.optional_text)
    organization: str | None = field(default=None, validator=v.optional_text)
    team: str | None = field(default=None, validator=v.optional_identifier)
    tier: str | None = field(default=None, validator=v.optional_identifier)
    owner: str | None = field(default=None, validator=v.optional_identifier)
    assignee: str | None = field(default=None, validator=v.optional_identifier)
    lifecycle: str = field(default="default", validator=v.identifier)
    status: str = field(default="new", validator=v.identifier)
    status_category: StatusCategory = field(
        default=StatusCategory.NEW, converter=to_ticket_status_category
    )
    escalation_level: int = field(default=0, validator=v.non_negative_int)
    sla_policy: str | None = field(default=None, validator=v.optional_identifier)
    links: tuple[Link, ...] = field(default=(), converter=_to_links, validator=_links)
    satisfaction: Satisfaction | None = field(default=None, validator=_satisfaction)
    known_error: KnownError | None = field(
        default=None, validator=v.optional_instance(KnownError, "a KnownError")
    )
    resolution: str | None = field(default=None, validator=v.optional_text)
    first_contact: bool = field(default=False, validator=v.boolean)
    created_at: datetime = field(converter=v.to_utc, validator=v.aware)
    updated_at: datetime = field(converter=v.to_utc, validator=v.aware)
    solved_at: datetime | None = field(
        default=None, converter=v.to_optional_utc, validator=v.optional_aware
    )
    closed_at: datetime | None = field(
        default=None, converter=v.to_optional_utc, validator=v.optional_aware
    )
    queued_at: datetime | None = field(
        default=None, converter=v.to_optional_utc, validator=v.optional_aware
    )
    queued_strategy: str | None = field(default=None, validator=v.optional_identifier)
    queued_skills: tuple[str, ...] = field(
        default=(), converter=_to_queued_skills, validator=v.name_tuple
    )
    tier_since: datetime | None = field(
        default=None, converter=v.to_optional_utc, validator=v.optional_aware
    )
    tier_inactive: tuple[tuple[datetime, datetime], ...] = field(default=(), converter=_to_spans)
    first_response_at: datetime | None = field(
        default=None, converter=v.to_optional_utc, validator=v.optional_aware
    )
    last_agent_reply_at: datetime | None = field(
        default=None, converter=v.to_optional_utc, validator=v.optional_aware
    )
    awaiting_reply_since: datetime | None = field(
        default=None, converter=v.to_optional_utc, validator=v.optional_aware
    )
    public_replies: int = field(default=0, validator=v.non_negative_int)
    reopen_count: int = field(default=0, validator=v.non_negative_int)
    reopened_at: datetime | None = field(
        default=None, converter=v.to_optional_utc, validator=v.optional_aware
    )
    fired_triggers: tuple[str, ...] = field(
        default=(), converter=_to_fired_triggers, validator=v.text_tuple
    )
    sla: Mapping[str, SlaClock] = field(factory=dict, converter=_to_sla, validator=_sla, hash=False)
    anonymised: bool = field(default=False, validator=v.boolean)
    version: int = field(default=0, validator=v.non_negative_int)

    @property
    def is_active(self) -> bool:
        """True until the ticket is solved or closed."""
        return self.status_category.is_active

    @property
    def display_number(self) -> str:
        """The number as shown to people, e.g. ``#1234``."""
        return f"#{self.number}"

    def linked(self, kind: LinkKind | str) -> tuple[str, ...]:
        """Ids of the tickets linked with this kind."""
        wanted = LinkKind.parse(kind)
        return tuple(link.other for link in self.links if link.kind is wanted)
