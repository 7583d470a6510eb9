"""A JSON API over the project's desk.

======  ==================================  ==========================================
method  path                                what
======  ==================================  ==========================================
POST    ``/api/tickets/``                   open a ticket (anyone: a web form)
GET     ``/api/tickets/?status=new&...``    list tickets an agent may see
GET     ``/api/tickets/<id>/``              one ticket with its history
POST    ``/api/tickets/<id>/replies/``      public reply or internal note
POST    ``/api/tickets/<id>/transitions/``  lifecycle transition (``solve``, ``pend`` ...)
======  ==================================  ==========================================

Agents are Django users whose username is an agent id of the desk configuration, logged
in with ``django.contrib.auth``; their requests carry Django's CSRF token as usual. A
requester opens a ticket with a name and an email address, without an account; the desk
finds the requester by address or records a new one.

Each command runs in ``transaction.atomic`` on the desk's database: the several writes of
``desk.open`` (requester, ticket number, events, outbox items) commit together, and so
would the view's own model changes. Errors come back as JSON,
``{"error": "InvalidTransition", "message": ..., "field": ...}``, with a matching status.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from helpdesk_core import (
    AccessDenied,
    ConflictError,
    HelpdeskError,
    InvalidTransition,
    NotFound,
    Requester,
    StorageError,
    Ticket,
    TicketQuery,
    ValidationError,
)
from helpdesk_core.channels.email import free_requester_id
from helpdesk_core.model import CommentAdded, Event
from helpdesk_django.desk import desk_database, get_desk

__all__ = ["reply", "ticket", "tickets", "transition"]

log = logging.getLogger(__name__)

View = Callable[..., HttpResponse]

_STATUS: tuple[tuple[type[HelpdeskError], int], ...] = (
    (NotFound, 404),
    (AccessDenied, 403),
    (InvalidTransition, 409),
    (ConflictError, 409),
    (ValidationError, 400),
    (StorageError, 503),
)
_LISTS = ("status", "status_category", "category", "team", "tier", "assignee", "owner",
          "requester", "asset", "tag", "priority")  # fmt: skip
_FLAGS = ("unassigned", "active_only")


class _LoginRequired(Exception):
    """The request has no logged-in user."""


def api(view: View) -> View:
    """Turn helpdesk errors into JSON error responses."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except _LoginRequired:
            return JsonResponse({"error": "LoginRequired", "message": "log in first"}, status=401)
        except RequestDataTooBig as exc:
            body = {"error": "RequestDataTooBig", "message": str(exc), "field": None}
            return JsonResponse(body, status=413)
        except HelpdeskError as exc:
            status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
            if status == 503:
                log.exception("the helpdesk store failed")
            body = {
                "error": type(exc).__name__,
                "message": str(exc),
                "field": getattr(exc, "field", None),
            }
            return JsonResponse(body, status=status)

    return wrapper


def _agent(request: HttpRequest) -> str:
    """The agent id of the logged-in user (AccessDenied if the user is no agent)."""
    if not request.user.is_authenticated:
        raise _LoginRequired
    username = str(request.user.get_username())
    if not get_desk().config.has_agent(username):
        raise AccessDenied(f"user {username!r} is not an agent of this desk", identity=username)
    return username


def _body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object."""
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, beyond the limits
        raise ValidationError(f"the request body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError("the request body must be a JSON object")
    return data


def _text(data: dict[str, Any], name: str, *, default: str | None = None) -> str:
    value = data.get(name, default)
    if not isinstance(value, str):
        raise ValidationError("expected text", field=name)
    return value


def _ticket_json(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "number": ticket.number,
        "version": ticket.version,
        "subject": ticket.subject,
        "status": ticket.status,
        "status_category": ticket.status_category.value,
        "priority": ticket.priority.value,
        "category": ticket.category,
        "team": ticket.team,
        "tier": ticket.tier,
        "assignee": ticket.assignee,
        "owner": ticket.owner,
        "requester": ticket.requester,
        "tags": list(ticket.tags),
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "sla": {
            metric: {
                "state": clock.state.value,
                "deadline": None if clock.deadline is None else clock.deadline.isoformat(),
            }
            for metric, clock in ticket.sla.items()
        },
    }


def _event_json(event: Event) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": type(event).__name__,
        "at": event.at.isoformat(),
        "by": str(event.by),
    }
    if isinstance(event, CommentAdded):
        out.update(body=event.body, public=event.public)
    return out


@csrf_exempt  # opening acts with nobody's authority: the session is not used
@require_http_methods(["GET", "POST"])
@api
def tickets(request: HttpRequest) -> HttpResponse:
    """GET: a page of the tickets the agent may see (query parameters are
    ``TicketQuery`` fields; list filters may repeat). POST: open a ticket (no login,
    no CSRF token: it is a public form)."""
    if request.method == "POST":
        return _open(request)
    agent = _agent(request)
    filters: dict[str, Any] = {}
    for name in _LISTS:
        values = request.GET.getlist(name)
        if values:
            filters[name] = values
    for name in _FLAGS:
        if name in request.GET:
            filters[name] = request.GET[name].lower() in ("1", "true", "yes")
    for name in ("text", "order_by"):
        if name in request.GET:
            filters[name] = request.GET[name]
    for name in ("limit", "offset"):
        if name in request.GET:
            try:
                filters[name] = int(request.GET[name])
            except ValueError:
                raise ValidationError("expected a whole number", field=name) from None
    page = get_desk().search(TicketQuery(**filters), as_=agent)
    return JsonResponse(
        {
            "total": page.total,
            "next_offset": page.next_offset,
            "items": [_ticket_json(t) for t in page.items],
        }
    )


def _open(request: HttpRequest) -> HttpResponse:
    data = _body(request)
    email = _text(data, "email").strip()
    if not email:
        raise ValidationError("say where to answer", field="email")
    fields = data.get("fields", {})
    tags = data.get("tags", [])
    if not isinstance(fields, dict):
        raise ValidationError("expected an object", field="fields")
    if not isinstance(tags, list):
        raise ValidationError("expected a list", field="tags")
    desk = get_desk()
    with transaction.atomic(using=desk_database()):
        requester = desk.find_requester(email=email) or Requester(
            id=free_requester_id(desk, email), name=_text(data, "name", default=""), email=email
        )
        ticket = desk.open(
            requester=requester,
            subject=_text(data, "subject"),
            description=_text(data, "description", default=""),
            category=data.get("category"),
            urgency=_text(data, "urgency", default="medium"),
            impact=_text(data, "impact", default="medium"),
            fields=fields,
            tags=tags,
        )
    response = JsonResponse(_ticket_json(ticket), status=201)
    response["Location"] = reverse("helpdesk:ticket", args=[ticket.id])
    return response


@require_http_methods(["GET"])
@api
def ticket(request: HttpRequest, ticket_id: str) -> HttpResponse:
    """One ticket and its history, as the agent may see it."""
    agent = _agent(request)
    desk = get_desk()
    found = desk.get(ticket_id, as_=agent)
    history = desk.history(ticket_id, as_=agent)
    return JsonResponse({**_ticket_json(found), "history": [_event_json(e) for e in history]})


@require_http_methods(["POST"])
@api
def reply(request: HttpRequest, ticket_id: str) -> HttpResponse:
    """``{"body": ..., "public": true}``: a public reply (default) or an internal note."""
    agent = _agent(request)
    data = _body(request)
    public = data.get("public", True)
    with transaction.atomic(using=desk_database()):
        changed = get_desk().reply(ticket_id, author=agent, body=_text(data, "body"), public=public)
    return JsonResponse(_ticket_json(changed))


@require_http_methods(["POST"])
@api
def transition(request: HttpRequest, ticket_id: str) -> HttpResponse:
    """``{"to": "solve", "resolution": ..., "reason": ...}``: a lifecycle transition by
    name or target status."""
    agent = _agent(request)
    data = _body(request)
    resolution = data.get("resolution")
    reason = data.get("reason")
    first_contact = data.get("first_contact", False)
    if not isinstance(first_contact, bool):
        raise ValidationError("expected true or false", field="first_contact")
    with transaction.atomic(using=desk_database()):
        changed = get_desk().transition(
            ticket_id,
            _text(data, "to"),
            by=agent,
            resolution=None if resolution is None else _text(data, "resolution"),
            reason=None if reason is None else _text(data, "reason"),
            first_contact=first_contact,
        )
    return JsonResponse(_ticket_json(changed))
