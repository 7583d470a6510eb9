"""The JSON shapes of the helpdesk API: Pydantic request and response models.

Requests are validated twice, on purpose: Pydantic checks the shape (types, lengths, id
patterns) so that the OpenAPI schema tells clients what to send, and the library checks
the rules of the domain (known ticket types, a category's required answers, lifecycle
guards), answering with its own errors. Responses are built from the library's values by
the ``*_out`` functions at the bottom; the library's values never leak as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
)

from helpdesk_core import (
    Channel,
    ClockState,
    Event,
    Impact,
    Page,
    Priority,
    Requester,
    SlaView,
    StatusCategory,
    Ticket,
    Urgency,
)
from helpdesk_core.codec import event_to_dict
from helpdesk_core.model import LinkKind, Metric

__all__ = [
    "ID_PATTERN",
    "PATH_ID_PATTERN",
    "DeliveryReportOut",
    "ErrorOut",
    "EscalationIn",
    "EventOut",
    "FieldProblem",
    "OpenTicketIn",
    "OrderBy",
    "ReplyIn",
    "RequesterIn",
    "RequesterOut",
    "RequesterProfileIn",
    "SlaClockOut",
    "SlaOut",
    "TicketOut",
    "TicketPageOut",
    "TransitionIn",
    "WebhookResultOut",
    "event_out",
    "requester_out",
    "sla_out",
    "ticket_out",
    "ticket_page_out",
]

#: What the library accepts as an id (tickets, requesters, agents, teams, tiers).
ID_PATTERN = r"^[A-Za-z0-9_.:@+\-]{1,200}$"
#: Ids in URL paths: ids the desk issues never start with a dot, and a path segment of
#: dots would be read as ``.`` or ``..`` by URL normalisation.
PATH_ID_PATTERN = r"^[A-Za-z0-9_:@+\-][A-Za-z0-9_.:@+\-]{0,199}$"
MAX_TEXT = 1_000_000

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
FieldValue = str | int | float | bool | None
FieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:@+\-]+$")]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")]
OrderBy = Literal[
    "created_at", "-created_at", "updated_at", "-updated_at", "priority", "number", "-number"
]


def _not_blank(value: str, name: str) -> str:
    # The library's test for "empty": str.strip() (it also strips \x1c-\x1f).
    if not value.strip():
        raise ValueError(f"{name} must contain more than blanks")
    return value


class _In(BaseModel):
    # Unknown keys are refused, and so are 0/1 or "yes" for true/false (StrictBool).
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------- requests


Email = Annotated[str, StringConstraints(max_length=320, pattern=r"^[^@]+@[^@]+$")]
Language = Annotated[str, StringConstraints(min_length=1, max_length=35, pattern=r"\S")]


class RequesterProfileIn(_In):
    """A requester record without its id (the id is in the URL)."""

    name: ShortText = ""
    email: Email | None = None
    organization: ShortText | None = None
    vip: StrictBool = False
    language: Language = "en"
    attributes: dict[FieldName, FieldValue] = Field(default_factory=dict)

    def to_requester(self, requester_id: str) -> Requester:
        """The library value with this id (its own validation may still refuse it)."""
        return Requester(
            id=requester_id,
            name=self.name,
            email=self.email,
            organization=self.organization,
            vip=self.vip,
            language=self.language,
            attributes=self.attributes,
        )


class RequesterIn(RequesterProfileIn):
    """A requester record, created or replaced."""

    id: Id


class OpenTicketIn(_In):
    """A new ticket. A requester opens tickets for themselves and leaves ``requester``
    out; an agent names the requester (an id, or a full record to create or update)."""

    subject: Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=r"\S")]
    description: Annotated[str, StringConstraints(max_length=MAX_TEXT)] = ""
    requester: Id | RequesterIn | None = None
    channel: Channel = Channel.WEB
    category: ShortText | None = None
    type: Id = "incident"
    impact: Impact = Impact.MEDIUM
    urgency: Urgency = Urgency.MEDIUM
    priority: Priority | None = Field(
        default=None, description="Leave out to derive it from impact and urgency."
    )
    asset: ShortText | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=100)
    fields: dict[FieldName, FieldValue] = Field(default_factory=dict)

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        return _not_blank(value, "subject")


class ReplyIn(_In):
    """A public reply (seen by the requester) or an internal note (``public: false``)."""

    body: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT, pattern=r"\S")]
    public: StrictBool = True
    channel: Channel | None = None

    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        return _not_blank(value, "body")


class TransitionIn(_In):
    """A lifecycle transition by name (``"pend"``) or by target status (``"pending"``)."""

    to: Id = Field(examples=["pend", "pending", "resume", "solve", "reopen", "cancel"])
    reason: Annotated[str, StringConstraints(max_length=MAX_TEXT)] | None = None
    resolution: Annotated[str, StringConstraints(max_length=MAX_TEXT)] | None = None
    first_contact: StrictBool = False


class EscalationIn(_In):
    """A functional escalation to the next higher tier (or ``to_tier``, or ``team``)."""

    reason: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT, pattern=r"\S")]
    to_tier: Id | None = None
    team: Id | None = None
    allow_skip: StrictBool = False

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        return _not_blank(value, "reason")


# ---------------------------------------------------------------------------- responses


class FieldProblem(BaseModel):
    """One invalid part of a request."""

    field: str
    message: str


class ErrorOut(BaseModel):
    """Every error answer: a machine-readable ``error`` code, a sentence, and the ids the
    error concerns (which of them are present depends on the error)."""

    error: str = Field(description="not_found, validation_error, access_denied, ...")
    message: str
    field: str | None = None
    kind: str | None = None
    id: str | None = None
    ticket_id: str | None = None
    status: str | None = None
    transition: str | None = None
    guard: str | None = None
    identity: str | None = None
    action: str | None = None
    expected_version: int | None = None
    actual_version: int | None = None
    problems: list[FieldProblem] | None = None


class LinkOut(BaseModel):
    """A link to another ticket."""

    kind: LinkKind
    other: str


class SatisfactionOut(BaseModel):
    """The requester's rating."""

    score: int
    comment: str
    at: datetime


class TicketOut(BaseModel):
    """A ticket as of its latest event (``version`` counts its events)."""

    id: str
    number: int
    requester: str
    subject: str
    description: str
    channel: Channel
    category: str | None
    type: str
    impact: Impact
    urgency: Urgency
    priority: Priority
    tags: list[str]
    fields: dict[str, FieldValue]
    asset: str | None
    organization: str | None
    team: str | None
    tier: str | None
    owner: str | None
    assignee: str | None
    lifecycle: str
    status: str
    status_category: StatusCategory
    escalation_level: int
    sla_policy: str | None
    links: list[LinkOut]
    satisfaction: SatisfactionOut | None
    resolution: str | None
    first_contact: bool
    reopen_count: int
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None
    version: int


class TicketPageOut(BaseModel):
    """One page of search results; ``next_offset`` and ``next_after`` are None on the last
    page (a page asked for by ``after`` has no ``next_offset``)."""

    items: list[TicketOut]
    total: int
    next_offset: int | None
    next_after: str | None = None


class RequesterOut(BaseModel):
    """A requester record."""

    id: str
    name: str
    email: str | None
    organization: str | None
    vip: bool
    language: str
    attributes: dict[str, FieldValue]


class EventOut(BaseModel):
    """One event of a ticket's history; ``data`` holds the event's own fields."""

    version: int
    type: str
    at: datetime
    by: str
    data: dict[str, Any]


class SlaClockOut(BaseModel):
    """Live figures of one SLA clock; durations are business seconds."""

    metric: Metric
    policy: str
    state: ClockState
    target_seconds: float
    used_seconds: float
    remaining_seconds: float
    overdue_seconds: float
    deadline: datetime | None
    breached_at: datetime | None
    warned: bool
    warn_at: datetime | None
    started_at: datetime
    stopped_at: datetime | None
    cycle: int
    paused_seconds: float


class SlaOut(BaseModel):
    """The ticket's SLA clocks as of ``as_of``."""

    ticket_id: str
    as_of: datetime
    clocks: list[SlaClockOut]


class WebhookResultOut(BaseModel):
    """What one delivery round did for one webhook."""

    webhook: str
    claimed: int
    delivered: int
    failed: int
    dropped: int
    error: str | None


class DeliveryReportOut(BaseModel):
    """What one delivery round did, per webhook."""

    webhooks: list[WebhookResultOut]


# ---------------------------------------------------------------------------- conversions


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _seconds(value: timedelta) -> float:
    return value.total_seconds()


def ticket_out(ticket: Ticket) -> TicketOut:
    """The response shape of a ticket."""
    satisfaction = ticket.satisfaction
    return TicketOut(
        id=ticket.id,
        number=ticket.number,
        requester=ticket.requester,
        subject=ticket.subject,
        description=ticket.description,
        channel=ticket.channel,
        category=ticket.category,
        type=ticket.type,
        impact=ticket.impact,
        urgency=ticket.urgency,
        priority=ticket.priority,
        tags=list(ticket.tags),
        fields=dict(ticket.fields),
        asset=ticket.asset,
        organization=ticket.organization,
        team=ticket.team,
        tier=ticket.tier,
        owner=ticket.owner,
        assignee=ticket.assignee,
        lifecycle=ticket.lifecycle,
        status=ticket.status,
        status_category=ticket.status_category,
        escalation_level=ticket.escalation_level,
        sla_policy=ticket.sla_policy,
        links=[LinkOut(kind=link.kind, other=link.other) for link in ticket.links],
        satisfaction=None
        if satisfaction is None
        else SatisfactionOut(
            score=satisfaction.score, comment=satisfaction.comment, at=satisfaction.at
        ),
        resolution=ticket.resolution,
        first_contact=ticket.first_contact,
        reopen_count=ticket.reopen_count,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        first_response_at=ticket.first_response_at,
        solved_at=ticket.solved_at,
        closed_at=ticket.closed_at,
        version=ticket.version,
    )


def ticket_page_out(page: Page[Ticket]) -> TicketPageOut:
    """The response shape of a page of tickets."""
    return TicketPageOut(
        items=[ticket_out(t) for t in page.items],
        total=page.total,
        next_offset=page.next_offset,
        next_after=page.next_after,
    )


def requester_out(requester: Requester) -> RequesterOut:
    """The response shape of a requester."""
    return RequesterOut(
        id=requester.id,
        name=requester.name,
        email=requester.email,
        organization=requester.organization,
        vip=requester.vip,
        language=requester.language,
        attributes=dict(requester.attributes),
    )


def event_out(event: Event, version: int) -> EventOut:
    """The response shape of an event (its plain-data form from the library's codec)."""
    data = event_to_dict(event)
    for key in ("event", "ticket_id", "at", "by"):
        data.pop(key, None)
    return EventOut(
        version=version, type=type(event).__name__, at=event.at, by=str(event.by), data=data
    )


def sla_out(ticket_id: str, views: Mapping[str, SlaView], as_of: datetime) -> SlaOut:
    """The response shape of a ticket's SLA clocks."""
    clocks = [
        SlaClockOut(
            metric=view.metric,
            policy=view.policy,
            state=view.state,
            target_seconds=_seconds(view.target),
            used_seconds=_seconds(view.used),
            remaining_seconds=_seconds(view.remaining),
            overdue_seconds=_seconds(view.overdue),
            deadline=_utc(view.deadline),
            breached_at=_utc(view.breached_at),
            warned=view.warned,
            warn_at=_utc(view.warn_at),
            started_at=view.started_at.astimezone(UTC),
            stopped_at=_utc(view.stopped_at),
            cycle=view.cycle,
            paused_seconds=_seconds(view.paused_total),
        )
        for view in views.values()
    ]
    return SlaOut(ticket_id=ticket_id, as_of=as_of.astimezone(UTC), clocks=clocks)
