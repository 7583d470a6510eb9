"""Desk events → ``EmailMessage``s: acknowledgements, agents' public replies, solve
notices, notices that the problem behind a ticket was solved, SLA alerts and escalation
notices.

:func:`compose` is pure apart from reading the desk's current state (ticket, requester,
configuration): the same event and key always give the same messages, with the same
deterministic Message-IDs, so an at-least-once sender can resend safely.
"""

from __future__ import annotations

import contextlib
import math
from datetime import datetime, timedelta, tzinfo
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from helpdesk_core._time import ensure_aware, format_duration
from helpdesk_core.channels.email.domains import ascii_domain
from helpdesk_core.channels.email.safety import LOOP_HEADER
from helpdesk_core.channels.email.settings import EmailSettings, check_channel_arguments
from helpdesk_core.channels.email.text import one_line
from helpdesk_core.channels.email.threads import message_id_for, root_message_id
from helpdesk_core.errors import NotFound, ValidationError
from helpdesk_core.knowledge import LinkedProblemSolved
from helpdesk_core.model import (
    CommentAdded,
    EscalationNotified,
    Event,
    LevelRaised,
    Requester,
    SlaBreached,
    SlaWarning,
    StatusCategory,
    StatusChanged,
    Ticket,
    TicketOpened,
)
from helpdesk_core.service import Helpdesk
from helpdesk_core.storage.base import parse_item_id

__all__ = ["compose", "describe_due"]

#: The policy of a message to a mailbox whose name is not ASCII (SMTPUTF8).
_UTF8 = policy.default.clone(utf8=True)


def compose(
    desk: Helpdesk, event: Event, *, key: str, settings: EmailSettings
) -> list[EmailMessage]:
    """The messages ``event`` calls for (often none). ``key`` is the event's outbox id
    (``"<ticket id>:<version>"``); it makes the Message-IDs and the ``X-Helpdesk-Event``
    header."""
    check_channel_arguments(desk, settings)
    if not isinstance(event, Event):
        raise ValidationError(
            f"event must be a desk Event, got {type(event).__name__}", field="event"
        )
    ticket_id, version = parse_item_id(key)
    if ticket_id != event.ticket_id:
        raise ValidationError(
            f"outbox id {key!r} does not belong to ticket {event.ticket_id!r}", field="key"
        )
    kind = _kind(event)
    if kind is None:
        return []
    return _Composer(desk, settings, event, key=key, version=version).build(kind)


def _kind(event: Event) -> str | None:
    if isinstance(event, TicketOpened):
        return "ack"
    if isinstance(event, CommentAdded) and event.public and event.by.is_agent:
        return "reply"
    if isinstance(event, StatusChanged) and event.category is StatusCategory.SOLVED:
        return "solved"
    if isinstance(event, LinkedProblemSolved) and event.outcome == "notified":
        # ``solved``: the ticket's own StatusChanged follows and sends the solve notice.
        return "problem"
    if isinstance(event, SlaWarning | SlaBreached):
        return "alert"
    if isinstance(event, LevelRaised | EscalationNotified) and event.contact:
        return "escalation"
    return None


def describe_due(
    due: datetime,
    *,
    at: datetime,
    zone: ZoneInfo,
    settings: EmailSettings,
    language: str | None = None,
    team: str | None = None,
) -> str:
    """``'by Mon 09:40 (in 2h 10m)'``: the deadline in local time and as a duration from
    ``at`` (the event's instant, not the wall clock), in the requester's language."""
    due = ensure_aware(due, field="due")
    at = ensure_aware(at, field="at")
    if not isinstance(zone, tzinfo):
        raise ValidationError(f"zone is a ZoneInfo, got {type(zone).__name__}", field="zone")
    if not isinstance(settings, EmailSettings):
        raise ValidationError("settings must be EmailSettings", field="settings")
    templates = settings.templates
    left = max(due - at, timedelta(0))
    left = timedelta(minutes=math.ceil(left.total_seconds() / 60))
    try:
        local = due.astimezone(zone)
    except OverflowError as exc:
        raise ValidationError(f"{due.isoformat()} has no date in {zone}", field="due") from exc
    values = {
        "weekday": templates.weekday(local.weekday(), language=language, team=team),
        "date": local.strftime("%Y-%m-%d"),
        "time": local.strftime("%H:%M"),
        "duration": format_duration(left),
    }
    key = "due" if left < timedelta(days=6) else "due.far"
    return templates.render(key, values, language=language, team=team)


class _Composer:
    def __init__(
        self, desk: Helpdesk, settings: EmailSettings, event: Event, *, key: str, version: int
    ) -> None:
        self.desk = desk
        self.settings = settings
        self.event = event
        self.key = key
        self.version = version
        self.domain = settings.message_domain
        self.zone = ZoneInfo(settings.timezone or desk.config.settings.timezone)
        self.desk_name = settings.desk_name or desk.config.settings.name

    def build(self, kind: str) -> list[EmailMessage]:
        try:
            ticket = self.desk.get(self.event.ticket_id)
        except NotFound:
            return []
        if kind in ("alert", "escalation"):
            return self._to_agents(kind, ticket)
        requester = self._requester(ticket)
        if requester is None or not requester.email:
            return []
        if kind == "ack" and not self.settings.acknowledge:
            return []
        if kind == "problem" and not self.settings.problem_notice:
            return []
        values = self._common(ticket, requester)
        language = requester.language
        team = ticket.team
        if kind == "ack":
            values.update(self._ack_values(ticket, language, team))
        elif kind == "reply":
            assert isinstance(self.event, CommentAdded)
            values["author"] = self._author_name(self.event.by.id)
            values["body"] = self.event.body
        elif kind == "problem":
            values.update(self._problem_values(language, team))
        else:
            assert isinstance(self.event, StatusChanged)
            values["resolution"] = self.event.resolution or ""
            values["csat_url"] = self.settings.csat_url.format(
                ticket_id=ticket.id, number=ticket.number, domain=self.domain
            )
        templates = self.settings.templates
        subject = templates.render(f"{kind}.subject", values, language=language, team=team)
        body = templates.render(f"{kind}.body", values, language=language, team=team)
        sender = self.desk_name
        if kind == "reply":
            sender = f"{values['author']} ({self.desk_name})"
        message = self._message(
            ticket,
            to=_address(requester.name, requester.email, field="requester.email"),
            sender_name=sender,
            subject=subject,
            body=body,
            automatic=kind != "reply",
        )
        return [message]

    # -------------------------------------------------------------- values
    def _requester(self, ticket: Ticket) -> Requester | None:
        try:
            return self.desk.get_requester(ticket.requester)
        except NotFound:
            return None

    def _common(self, ticket: Ticket, requester: Requester | None) -> dict[str, object]:
        return {
            "desk_name": self.desk_name,
            "number": ticket.number,
            "token": self.settings.subject_token.render(ticket.number),
            "subject": ticket.subject,
            "ticket_id": ticket.id,
            "requester_name": (requester.name if requester and requester.name else "")
            or (requester.id if requester else ""),
            "marker": self.settings.reply_marker,
        }

    def _ack_values(self, ticket: Ticket, language: str, team: str | None) -> dict[str, object]:
        event = self.event
        assert isinstance(event, TicketOpened)
        templates = self.settings.templates
        if event.first_response_due is not None:
            due_text = describe_due(
                event.first_response_due,
                at=event.at,
                zone=self.zone,
                settings=self.settings,
                language=language,
                team=team,
            )
        else:
            due_text = templates.render("ack.no_due", {}, language=language, team=team)
        prompts: list[str] = []
        # The questions of the category the ticket is in (a routing rule may have set it),
        # that its answers leave open.
        name = ticket.category
        category = self.desk.config.categories.get(name) if name else None
        if category is not None:
            for question in category.questions:
                answer = ticket.fields.get(question.name)
                if answer is None or (isinstance(answer, str) and not answer.strip()):
                    prompts.append(question.prompt or question.name)
        questions = ""
        if prompts:
            items = "\n".join(f"- {prompt}" for prompt in prompts)
            questions = templates.render(
                "ack.questions", {"items": items}, language=language, team=team
            )
        return {"due_text": due_text, "questions": questions}

    def _problem_values(self, language: str, team: str | None) -> dict[str, object]:
        """The problem's number and the resolution it was solved with. Only what the desk
        already hands requesters when it solves incidents with their problem: never the
        known error's workaround or root cause (agents' side), nor the event's reason."""
        event = self.event
        assert isinstance(event, LinkedProblemSolved)
        try:
            problem = self.desk.get(event.problem)
            history = self.desk.history(event.problem)
        except NotFound:
            return {"problem_number": "", "resolution": ""}
        resolution = ""
        for earlier in reversed(history):
            if (
                isinstance(earlier, StatusChanged)
                and earlier.category is StatusCategory.SOLVED
                and earlier.at <= event.at
            ):
                resolution = (earlier.resolution or "").strip()
                break
        text = ""
        if resolution:
            text = self.settings.templates.render(
                "problem.resolution", {"resolution": resolution}, language=language, team=team
            )
        return {"problem_number": problem.display_number, "resolution": text}

    def _author_name(self, agent_id: str) -> str:
        if self.desk.config.has_agent(agent_id):
            agent = self.desk.config.agent(agent_id)
            return agent.name or agent.id
        return agent_id

    # -------------------------------------------------------------- agents
    def _to_agents(self, kind: str, ticket: Ticket) -> list[EmailMessage]:
        event = self.event
        config = self.desk.config
        if isinstance(event, LevelRaised | EscalationNotified):
            recipients = [event.contact] if event.contact else []
        else:
            # A team gone from this worker's configuration (another process's desk, or
            # one reconfigured since) has no contacts: the assignee is still told.
            contacts: tuple[str, ...] = ()
            if ticket.team:
                with contextlib.suppress(NotFound):
                    contacts = config.team(ticket.team).contacts
            recipients = [*contacts, *([ticket.assignee] if ticket.assignee else [])]
        values = self._common(ticket, self._requester(ticket))
        values["team"] = ticket.team or ""
        values["priority"] = ticket.priority.value
        fallback = self.settings.templates.fallback
        if isinstance(event, SlaWarning | SlaBreached):
            alert_key = "alert.breached" if isinstance(event, SlaBreached) else "alert.warning"
            values["alert"] = self.settings.templates.render(
                alert_key, {}, language=fallback, team=ticket.team
            )
            values["metric"] = event.clock.metric.value.replace("_", " ")
            deadline = event.clock.deadline or event.clock.breached_at or event.at
            values["deadline"] = deadline.astimezone(self.zone).strftime("%Y-%m-%d %H:%M %Z")
        elif isinstance(event, LevelRaised | EscalationNotified):
            values["level"] = (
                event.level if isinstance(event, LevelRaised) else ticket.escalation_level
            )
            values["reason"] = event.reason
        messages: list[EmailMessage] = []
        seen: set[str] = set()
        for agent_id in recipients:
            if agent_id in seen or not config.has_agent(agent_id):
                continue
            seen.add(agent_id)
            agent = config.agent(agent_id)
            if not agent.email or not agent.active:
                continue
            values["agent_name"] = agent.name or agent.id
            render = self.settings.templates.render
            subject = render(f"{kind}.subject", values, language=fallback, team=ticket.team)
            body = render(f"{kind}.body", values, language=fallback, team=ticket.team)
            messages.append(
                self._message(
                    ticket,
                    to=_address(agent.name, agent.email, field=f"agents.{agent.id}.email"),
                    sender_name=self.desk_name,
                    subject=subject,
                    body=body,
                    automatic=True,
                    n=len(messages) + 1,
                )
            )
        return messages

    # -------------------------------------------------------------- the message
    def _from_address(self, ticket: Ticket) -> str:
        if ticket.team:
            try:
                team = self.desk.config.team(ticket.team)
            except NotFound:
                team = None
            if team is not None and team.email:
                return team.email
        return self.settings.address

    def _message(
        self,
        ticket: Ticket,
        *,
        to: Address,
        sender_name: str,
        subject: str,
        body: str,
        automatic: bool,
        n: int = 0,
    ) -> EmailMessage:
        internal = n > 0
        # A mailbox whose name is not ASCII (jörg@) is reached only over SMTPUTF8, with
        # the headers written as UTF-8: smtplib asks for it when an address needs it.
        message = EmailMessage(
            policy=policy.default if to.username.isascii() else _UTF8
        )
        message["From"] = _address(sender_name, self._from_address(ticket), field="email.address")
        message["To"] = to
        message["Subject"] = _header_text(subject)
        message["Date"] = format_datetime(self.event.at)
        message["Message-ID"] = message_id_for(
            ticket.id, self.version, domain=self.domain, n=n, internal=internal
        )
        root = root_message_id(ticket.id, domain=self.domain)
        if self.version > 1 and not internal:
            message["In-Reply-To"] = root
            message["References"] = root
        if not internal:
            message["Reply-To"] = _address(
                self.desk_name, self._from_address(ticket), field="email.address"
            )
        if automatic:
            message["Auto-Submitted"] = "auto-replied"
            message["X-Auto-Response-Suppress"] = "All"
        message[LOOP_HEADER] = self.key
        message["X-Helpdesk-Ticket"] = str(ticket.number)
        body = body.replace("\x00", "")  # kept by the store, refused by mail servers
        if body.isascii():
            message.set_content(body)
        else:
            message.set_content(body, cte="quoted-printable")
        return message


def _header_text(text: str) -> str:
    """``text`` for a header, on one line (a NUL the store kept: servers refuse it), and
    with ``=?`` written ``=\u2060?``: the ``email`` package decodes RFC 2047 words it
    finds in a header's text when it writes the message, so a subject or a name holding
    ``=?utf-8?q?=0D=0ABcc:_...?=`` would come out as a line break and a header of the
    sender's choosing. The invisible word joiner keeps the text as it reads."""
    return one_line(text).replace("=?", "=\u2060?")


def _address(name: str, address: str, *, field: str) -> Address:
    """``name <address>`` for a header. An internationalised domain (müller.de) is
    written in its ASCII form (xn--mller-kva.de), which every mail server takes: the
    ``email`` package would write it as an RFC 2047 word, which names no mailbox."""
    local, _, domain = address.rpartition("@")
    if not domain.isascii():
        domain = ascii_domain(domain) or domain
    try:
        return Address(display_name=_header_text(name), username=local, domain=domain)
    except (ValueError, TypeError, IndexError) as exc:
        raise ValidationError(
            f"{address!r} cannot be used as an address: {exc}", field=field
        ) from None
