"""A JSON API over helpdesk_core: FastAPI in front of one ``Helpdesk`` on a ``SqliteStore``.

The design, in short:

* **One desk per process.** The app, when it starts, builds one
  :class:`~helpdesk_core.Helpdesk` (configuration, store, clock) and every request uses it
  (through the lifespan state); the desk holds no per-request state, and concurrent
  commands on one ticket are settled by the store's version check.
* **One store per database path.** The app opens the SQLite file once at startup; the
  store's single connection is shared by FastAPI's worker threads (it serializes their
  calls) and closed at shutdown. Several processes may share the file; many hosts need
  PostgreSQL.
* **The clock is injected.** Production uses the system clock, tests a ``ManualClock``.
* **Identity comes from the ``X-Actor`` header** (an agent or requester id, optionally
  ``agent:`` or ``requester:`` prefixed). Put your authentication in front of it (a
  gateway or a dependency that maps a session or token to the id); the API passes the
  identity to the desk, whose access policy decides what it may see and do.
* **Errors are the library's**, mapped once to HTTP statuses with a JSON body naming what
  was wrong (see :func:`error_response`).
* **Events leave through the outbox**: webhooks are delivered at least once by
  :class:`~helpdesk_webhooks.WebhookDeliverer`, from a background task
  (``worker_every``) or the ``POST /webhooks/deliveries`` endpoint.

Run it with uvicorn (``pip install uvicorn``)::

    HELPDESK_DB=desk.sqlite uvicorn --factory helpdesk_api:app_from_env \\
        --app-dir examples/fastapi_app
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response, Security
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from helpdesk_api_models import (
    PATH_ID_PATTERN,
    DeliveryReportOut,
    ErrorOut,
    EscalationIn,
    EventOut,
    FieldProblem,
    OpenTicketIn,
    OrderBy,
    ReplyIn,
    RequesterOut,
    RequesterProfileIn,
    SlaOut,
    TicketOut,
    TicketPageOut,
    TransitionIn,
    WebhookResultOut,
    event_out,
    requester_out,
    sla_out,
    ticket_out,
    ticket_page_out,
)
from helpdesk_webhooks import (
    HttpxSender,
    Webhook,
    WebhookDeliverer,
    WebhookResult,
    WebhookSender,
    check_webhooks,
)
from pydantic import StringConstraints
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

import helpdesk_core
from helpdesk_core import (
    AccessDenied,
    Actor,
    Clock,
    ConflictError,
    DeskConfig,
    Helpdesk,
    HelpdeskError,
    IdFactory,
    InvalidTransition,
    NotFound,
    Priority,
    Requester,
    SqliteStore,
    StatusCategory,
    StorageError,
    StoreClosedError,
    SystemClock,
    TicketQuery,
    ValidationError,
)
from helpdesk_core.demo import example_config
from helpdesk_core.privacy import Role, visible_events

__all__ = [
    "Unauthenticated",
    "app_from_env",
    "create_app",
    "error_response",
    "resolve_actor",
    "run_worker",
    "work_once",
]

log = logging.getLogger("helpdesk_api")


class Unauthenticated(HelpdeskError, PermissionError):
    """The request names no identity the desk knows (HTTP 401)."""

    def __init__(self, message: str, *, identity: str | None = None) -> None:
        self.identity = identity
        super().__init__(message)


@dataclass(frozen=True)
class Services:
    """What the routes use: the process's desk and its webhook deliverer."""

    desk: Helpdesk
    deliverer: WebhookDeliverer


# ---------------------------------------------------------------------------- identity


def resolve_actor(desk: Helpdesk, header: str | None) -> Actor:
    """The acting identity named by an ``X-Actor`` value: ``agent:<id>``,
    ``requester:<id>``, or a bare id (a configured agent first, then a stored requester).
    Automation identities (``system:``) cannot act through the API."""
    if header is None or not header.strip():
        raise Unauthenticated("say who acts: send an X-Actor header with an agent or requester id")
    kind, sep, ident = header.partition(":")
    if sep and kind == "system":
        raise AccessDenied(
            "automation identities cannot act through the API", identity=header, action="act"
        )
    candidates = [(kind, ident)] if sep and kind in ("agent", "requester") else []
    candidates = candidates or [("agent", header), ("requester", header)]
    for kind, ident in candidates:
        if kind == "agent" and desk.config.has_agent(ident):
            return Actor.agent(ident)
        if kind == "requester":
            try:
                return desk.get_requester(ident).actor
            except NotFound:
                continue
    raise Unauthenticated(f"unknown identity {header!r}", identity=header)


_actor_header = APIKeyHeader(
    name="X-Actor",
    scheme_name="actor",
    description="The acting agent or requester id (agent:<id>, requester:<id> or <id>).",
    auto_error=False,
)


def _services(request: Request) -> Services:
    services = getattr(request.state, "services", None)
    if not isinstance(services, Services):
        raise StoreClosedError("the app has not started: serve it, or use `with TestClient(app)`")
    return services


def _desk(request: Request) -> Helpdesk:
    return _services(request).desk


def _actor(request: Request, header: Annotated[str | None, Security(_actor_header)]) -> Actor:
    return resolve_actor(_desk(request), header)


Desk = Annotated[Helpdesk, Depends(_desk)]
Acting = Annotated[Actor, Depends(_actor)]
TicketId = Annotated[
    str, PathParam(pattern=PATH_ID_PATTERN, description="The ticket's id (not its number).")
]
RequesterId = Annotated[str, PathParam(pattern=PATH_ID_PATTERN)]
Texts = Annotated[tuple[Annotated[str, StringConstraints(max_length=200)], ...], Query()]


def _active_agent(desk: Helpdesk, actor: Actor, action: str) -> None:
    """AccessDenied unless ``actor`` is an active agent."""
    if not actor.is_agent or not desk.config.agent(actor.id).active:
        raise AccessDenied(
            f"{actor} may not {action}: only active agents may", identity=str(actor), action=action
        )


def _admin(desk: Helpdesk, actor: Actor, action: str) -> None:
    """AccessDenied unless ``actor`` is an active admin agent."""
    _active_agent(desk, actor, action)
    agent = desk.config.agent(actor.id)
    if desk.config.privacy.access.role_of(agent) is not Role.ADMIN:
        raise AccessDenied(
            f"{actor} may not {action}: only admins may", identity=str(actor), action=action
        )


# ---------------------------------------------------------------------------- errors


def _body(status: int, error: ErrorOut, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content=error.model_dump(mode="json", exclude_none=True),
        headers=headers,
    )


def error_response(exc: HelpdeskError) -> JSONResponse:
    """The HTTP answer to a library error: the status its class stands for, and a JSON
    body with a machine-readable ``error`` code, the message, and the ids it carries."""
    message = str(exc)
    if isinstance(exc, Unauthenticated):
        return _body(401, ErrorOut(error="unauthenticated", message=message, identity=exc.identity))
    if isinstance(exc, AccessDenied):
        return _body(
            403,
            ErrorOut(
                error="access_denied",
                message=message,
                identity=exc.identity,
                ticket_id=exc.ticket_id,
                action=exc.action,
            ),
        )
    if isinstance(exc, NotFound):
        return _body(
            404, ErrorOut(error="not_found", message=message, kind=exc.kind, id=str(exc.id))
        )
    if isinstance(exc, ConflictError):
        return _body(
            409,
            ErrorOut(
                error="conflict",
                message=message,
                ticket_id=exc.ticket_id,
                expected_version=exc.expected,
                actual_version=exc.actual,
            ),
        )
    if isinstance(exc, InvalidTransition):
        return _body(
            409,
            ErrorOut(
                error="invalid_transition",
                message=message,
                ticket_id=exc.ticket_id,
                status=exc.status,
                transition=exc.transition,
                guard=exc.guard,
            ),
        )
    if isinstance(exc, ValidationError):
        return _body(422, ErrorOut(error="validation_error", message=exc.message, field=exc.field))
    if isinstance(exc, StorageError):
        log.error("storage failed: %s", exc)
        return _body(
            503, ErrorOut(error="storage_unavailable", message="the desk's storage is unavailable")
        )
    return _body(400, ErrorOut(error="bad_request", message=message))


async def _on_helpdesk_error(request: Request, exc: Exception) -> JSONResponse:
    return error_response(cast(HelpdeskError, exc))


async def _on_request_validation(request: Request, exc: Exception) -> JSONResponse:
    errors = cast(RequestValidationError, exc).errors()
    problems = [
        FieldProblem(
            field=".".join(str(part) for part in error.get("loc", ())),
            message=str(error.get("msg", "invalid")),
        )
        for error in errors
    ]
    first = problems[0] if problems else FieldProblem(field="request", message="invalid")
    if any(error.get("type") == "json_invalid" for error in errors):
        # The body is no JSON at all: nothing in it could be checked.
        message = f"the body is not JSON: {first.message}"
        return _body(400, ErrorOut(error="bad_request", message=message, field="body"))
    return _body(
        422,
        ErrorOut(
            error="validation_error",
            message=f"{first.field}: {first.message}",
            field=first.field,
            problems=problems,
        ),
    )


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at the request's path (Starlette's own 405 names
    only the first route that matched the path). The API's routes are included without
    a prefix, so they match the request's path as they are."""
    methods: set[str] = set()
    for route in (*request.app.router.routes, *router.routes):
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    http = cast(StarletteHTTPException, exc)
    code = {404: "not_found", 405: "method_not_allowed"}.get(http.status_code, "bad_request")
    headers = dict(http.headers or {})
    if http.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return _body(http.status_code, ErrorOut(error=code, message=str(http.detail)), headers=headers)


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body could not be read (not JSON, not UTF-8)."},
    401: {"model": ErrorOut, "description": "No X-Actor header, or an unknown identity."},
    403: {"model": ErrorOut, "description": "The identity may not do this."},
    404: {"model": ErrorOut, "description": "The ticket (or another named thing) is unknown."},
    409: {"model": ErrorOut, "description": "Refused by the lifecycle, or a concurrent change."},
    422: {"model": ErrorOut, "description": "The request breaks a rule; `field` says where."},
    503: {"model": ErrorOut, "description": "The desk's storage cannot be reached."},
}

router = APIRouter(responses=_ERRORS)


# ---------------------------------------------------------------------------- requesters


@router.put("/requesters/{requester_id}", tags=["requesters"])
def put_requester(
    requester_id: RequesterId, body: RequesterProfileIn, actor: Acting, desk: Desk
) -> RequesterOut:
    """Create or replace a requester record (agents only)."""
    _active_agent(desk, actor, "edit requesters")
    return requester_out(desk.upsert_requester(body.to_requester(requester_id)))


@router.get("/requesters/{requester_id}", tags=["requesters"])
def get_requester(requester_id: RequesterId, actor: Acting, desk: Desk) -> RequesterOut:
    """A requester record: for agents, and for the requester themselves."""
    return requester_out(desk.get_requester(requester_id, as_=actor))


# ---------------------------------------------------------------------------- tickets


def _requester_for(desk: Helpdesk, actor: Actor, body: OpenTicketIn) -> Requester | str:
    named = body.requester
    if actor.is_requester:
        if named is not None and named != actor.id:
            raise AccessDenied(
                f"{actor} may open tickets only for themselves, by leaving out 'requester'",
                identity=str(actor),
                action="open",
            )
        return actor.id
    _active_agent(desk, actor, "open tickets")
    if named is None:
        raise ValidationError("say whom the ticket is for", field="requester")
    return named if isinstance(named, str) else named.to_requester(named.id)


@router.post("/tickets", status_code=201, tags=["tickets"])
def open_ticket(
    body: OpenTicketIn,
    actor: Acting,
    desk: Desk,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> TicketOut:
    """Open a ticket: the desk routes it, starts its SLA clocks and assigns it. With an
    ``Idempotency-Key`` header, a retried request returns the ticket the first one
    opened (for the same requester) instead of opening another."""
    ticket = desk.open(
        request_id=idempotency_key,
        requester=_requester_for(desk, actor, body),
        subject=body.subject,
        description=body.description,
        channel=body.channel,
        category=body.category,
        type=body.type,
        impact=body.impact,
        urgency=body.urgency,
        priority=body.priority,
        asset=body.asset,
        tags=body.tags,
        fields=body.fields,
        by=actor,
    )
    response.headers["Location"] = f"/tickets/{ticket.id}"
    return ticket_out(ticket)


@router.get("/tickets", tags=["tickets"])
def search_tickets(
    actor: Acting,
    desk: Desk,
    status: Texts = (),
    status_category: Annotated[tuple[StatusCategory, ...], Query()] = (),
    team: Texts = (),
    tier: Texts = (),
    assignee: Texts = (),
    requester: Texts = (),
    tag: Texts = (),
    priority: Annotated[tuple[Priority, ...], Query()] = (),
    text: Annotated[str, Query(max_length=200)] = "",
    unassigned: bool = False,
    active_only: bool = False,
    order_by: OrderBy = "created_at",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    after: Annotated[str, Query(max_length=2048)] = "",
) -> TicketPageOut:
    """Tickets the identity may see, filtered (a list matches any of its values), ordered
    and paged; follow ``next_offset`` for the next page, or pass ``next_after`` as
    ``after`` to go on from where the page ended while tickets come and go."""
    query = TicketQuery(  # a filter left out (empty) matches everything
        status=status or None,
        status_category=status_category or None,
        team=team or None,
        tier=tier or None,
        assignee=assignee or None,
        requester=requester or None,
        tag=tag or None,
        priority=priority or None,
        text=text or None,
        unassigned=unassigned,
        active_only=active_only,
        order_by=order_by,
        limit=limit,
        offset=offset,
        after=after or None,
    )
    return ticket_page_out(desk.search(query, as_=actor))


@router.get("/tickets/{ticket_id}", tags=["tickets"])
def get_ticket(ticket_id: TicketId, actor: Acting, desk: Desk) -> TicketOut:
    """The ticket as of its latest event."""
    return ticket_out(desk.get(ticket_id, as_=actor))


@router.get("/tickets/{ticket_id}/history", tags=["tickets"])
def ticket_history(ticket_id: TicketId, actor: Acting, desk: Desk) -> list[EventOut]:
    """The ticket's events, oldest first, each with the version it made; requesters do
    not see internal notes, nor on a colleague's ticket the answers to personal
    questions."""
    ticket = desk.get(ticket_id, as_=actor)
    events = desk.history(ticket_id)  # every event, to number them
    role = Role.REQUESTER if actor.is_requester else None
    hidden = (
        _personal_fields(desk)
        if actor.is_requester and ticket.requester != actor.id
        else frozenset()
    )
    return [
        event_out(shown, version)
        for version, event in enumerate(events, start=1)
        for shown in visible_events([event], role=role, hidden_fields=hidden)
    ]


def _personal_fields(desk: Helpdesk) -> frozenset[str]:
    """The custom fields of the questions marked personal, in any category."""
    categories = desk.config.categories.values()
    return frozenset(q.name for c in categories for q in c.questions if q.personal)


@router.get("/tickets/{ticket_id}/sla", tags=["tickets"])
def ticket_sla(ticket_id: TicketId, actor: Acting, desk: Desk) -> SlaOut:
    """Live figures of the ticket's SLA clocks now: state, target, used and remaining
    business time, deadline, breach."""
    now = desk.clock.now()
    return sla_out(ticket_id, desk.sla(ticket_id, now=now, as_=actor), now)


@router.post("/tickets/{ticket_id}/replies", tags=["tickets"])
def reply(
    ticket_id: TicketId,
    body: ReplyIn,
    actor: Acting,
    desk: Desk,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> TicketOut:
    """Add a public reply or (agents only) an internal note; with an ``Idempotency-Key``
    header, a retried request adds nothing more."""
    ticket = desk.reply(
        ticket_id,
        author=actor,
        body=body.body,
        public=body.public,
        channel=body.channel,
        request_id=idempotency_key,
    )
    return ticket_out(ticket)


@router.post("/tickets/{ticket_id}/transitions", tags=["tickets"])
def transition(ticket_id: TicketId, body: TransitionIn, actor: Acting, desk: Desk) -> TicketOut:
    """Move the ticket along its lifecycle (``solve`` needs a ``resolution``)."""
    ticket = desk.transition(
        ticket_id,
        body.to,
        by=actor,
        reason=body.reason,
        resolution=body.resolution,
        first_contact=body.first_contact,
    )
    return ticket_out(ticket)


@router.post("/tickets/{ticket_id}/escalations", tags=["tickets"])
def escalate(ticket_id: TicketId, body: EscalationIn, actor: Acting, desk: Desk) -> TicketOut:
    """Escalate to the next higher tier (or the one named): team and assignee change, the
    owner stays."""
    ticket = desk.escalate(
        ticket_id,
        by=actor,
        reason=body.reason,
        to_tier=body.to_tier,
        team=body.team,
        allow_skip=body.allow_skip,
    )
    return ticket_out(ticket)


# ---------------------------------------------------------------------------- webhooks


def _report(results: Sequence[WebhookResult]) -> DeliveryReportOut:
    return DeliveryReportOut(
        webhooks=[
            WebhookResultOut(
                webhook=r.webhook,
                claimed=r.claimed,
                delivered=r.delivered,
                failed=r.failed,
                dropped=r.dropped,
                error=r.error,
            )
            for r in results
        ]
    )


@router.post("/webhooks/deliveries", tags=["webhooks"])
def deliver_webhooks(request: Request, actor: Acting, desk: Desk) -> DeliveryReportOut:
    """Run one delivery round now (admins only); the background worker does the same on
    its schedule."""
    _admin(desk, actor, "deliver webhooks")
    return _report(_services(request).deliverer.deliver_once())


# ---------------------------------------------------------------------------- worker


def work_once(desk: Helpdesk, deliverer: WebhookDeliverer) -> list[WebhookResult]:
    """One round of background work: record what is due (SLA warnings and breaches,
    escalations, auto-closes), then deliver the outbox to the webhooks."""
    desk.tick()
    return deliverer.deliver_once()


async def run_worker(
    desk: Helpdesk, deliverer: WebhookDeliverer, *, every: float, stop: asyncio.Event
) -> None:
    """Call :func:`work_once` in a worker thread every ``every`` seconds until ``stop``
    is set; a failed round is logged and the next one runs on time."""
    while not stop.is_set():
        try:
            await run_in_threadpool(work_once, desk, deliverer)
        except Exception:
            log.exception("background round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


# ---------------------------------------------------------------------------- the app


def create_app(
    db_path: str | os.PathLike[str],
    config: DeskConfig | None = None,
    clock: Clock | None = None,
    *,
    webhooks: Sequence[Webhook] = (),
    sender: WebhookSender | None = None,
    ids: IdFactory | None = None,
    worker_every: float | None = None,
    max_attempts: int | None = None,
) -> FastAPI:
    """The API over one desk stored in the SQLite file ``db_path`` (``":memory:"``: a
    throwaway desk that lives from the app's startup to its shutdown). The store is
    opened when the app starts and closed when it stops; run the app under a server or
    ``with TestClient(app)``.

    ``config`` defaults to the bundled example IT desk, ``clock`` to the system clock.
    ``webhooks`` receive every event through ``sender`` (default: :class:`HttpxSender`);
    ``max_attempts`` drops an event a webhook refused that many times (None: never).
    With ``worker_every`` (seconds) a background task ticks the desk and delivers
    webhooks while the app runs; without it, call ``POST /webhooks/deliveries`` or
    :func:`work_once` yourself.
    """
    if worker_every is not None and (
        isinstance(worker_every, bool)
        or not isinstance(worker_every, int | float)
        or not worker_every > 0
    ):
        raise ValidationError(
            f"worker_every is a positive number of seconds or None, got {worker_every!r}",
            field="worker_every",
        )
    config = config if config is not None else example_config()
    clock = clock if clock is not None else SystemClock()
    hooks = check_webhooks(webhooks)
    if sender is not None and not callable(sender):
        raise ValidationError("sender must be callable", field="sender")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        # Everything with a resource in it lives from startup to shutdown, and requests
        # reach it through the lifespan state; a restarted app opens the database again.
        store = SqliteStore(db_path)
        own_sender = HttpxSender() if sender is None and hooks else None
        stop = asyncio.Event()
        task = None
        try:
            desk = Helpdesk(config=config, store=store, clock=clock, ids=ids)
            deliverer = WebhookDeliverer(
                store,
                hooks,
                sender=sender if sender is not None else own_sender,
                clock=clock,
                max_attempts=max_attempts,
            )
            if worker_every is not None:
                task = asyncio.create_task(
                    run_worker(desk, deliverer, every=worker_every, stop=stop)
                )
            yield {"services": Services(desk=desk, deliverer=deliverer)}
        finally:
            stop.set()
            if task is not None:
                await task
            if own_sender is not None:
                own_sender.close()
            store.close()

    app = FastAPI(
        title="Helpdesk API",
        version=helpdesk_core.__version__,
        description="Tickets, replies, lifecycle, escalation, search, SLA and webhooks.",
        lifespan=lifespan,
    )
    app.add_exception_handler(HelpdeskError, _on_helpdesk_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.include_router(router)
    return app


def app_from_env() -> FastAPI:
    """The app as configured by the environment: ``HELPDESK_DB`` (the SQLite file,
    default ``helpdesk.sqlite``), ``HELPDESK_CONFIG`` (a desk TOML file; default the
    bundled example), ``HELPDESK_WEBHOOKS`` (a JSON list of ``{"name", "url", "secret"}``)
    and ``HELPDESK_WORKER_EVERY`` (seconds between background rounds, default 5)."""
    path = os.environ.get("HELPDESK_DB", "helpdesk.sqlite")
    config_file = os.environ.get("HELPDESK_CONFIG")
    config = DeskConfig.from_toml(Path(config_file)) if config_file else None
    try:
        raw = json.loads(os.environ.get("HELPDESK_WEBHOOKS", "[]"))
    except json.JSONDecodeError as exc:
        raise ValidationError(f"not JSON: {exc}", field="HELPDESK_WEBHOOKS") from exc
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ValidationError("a JSON list of objects", field="HELPDESK_WEBHOOKS")
    webhooks = [
        Webhook(name=item.get("name"), url=item.get("url"), secret=item.get("secret"))
        for item in raw
    ]
    try:
        every = float(os.environ.get("HELPDESK_WORKER_EVERY", "5"))
    except ValueError as exc:
        raise ValidationError(f"not a number: {exc}", field="HELPDESK_WORKER_EVERY") from exc
    return create_app(path, config, webhooks=webhooks, worker_every=every)
