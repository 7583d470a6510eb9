"""The Helpdesk: the application service every frontend talks to.

Each command loads the ticket, brings it up to date (due SLA warnings and breaches,
escalations, auto-close), lets the pure domain decide, saves the events and the new
snapshot with a version check, and then publishes the events to subscribers. A command
that met a concurrent change is retried on fresh state a bounded number of times; a
command that fails validation changes nothing.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import attrs
from attrs import evolve

from helpdesk_core._time import desk_instant
from helpdesk_core.clock import Clock, SystemClock
from helpdesk_core.config import DeskConfig
from helpdesk_core.errors import (
    AccessDenied,
    ConfigError,
    ConflictError,
    InvalidTransition,
    NotFound,
    StorageError,
    StoreClosedError,
    TickError,
    ValidationError,
)
from helpdesk_core.ids import IdFactory, UuidIds
from helpdesk_core.model import (
    ANONYMISED,
    SYSTEM,
    Actor,
    ActorKind,
    Agent,
    Assigned,
    Changes,
    Channel,
    CommentAdded,
    CsatRequested,
    Event,
    Impact,
    LevelRaised,
    Linked,
    LinkKind,
    Metric,
    Priority,
    PriorityChanged,
    QueuedForAssignment,
    Rated,
    Requester,
    StatusCategory,
    Ticket,
    TicketOpened,
    TicketRouted,
    TicketUpdated,
    Urgency,
    apply_event,
    replay,
)
from helpdesk_core.model._copy import copier
from helpdesk_core.model._validate import (
    identifier,
    is_identifier,
    refuse_unknown,
    require,
    to_utc,
)
from helpdesk_core.model.enums import to_optional_channel
from helpdesk_core.model.people import identity_clash
from helpdesk_core.privacy import (
    ANONYMOUS_REQUESTER,
    Limits,
    RetentionPolicy,
    Role,
    due_for_retention,
    plan_anonymisation,
    visible_events,
)
from helpdesk_core.privacy.access import shared_organization
from helpdesk_core.routing import AgentLoad, AssignSpec, queue_order
from helpdesk_core.routing.assignment import decide_assignment, sorted_candidates, weights_text
from helpdesk_core.service._cursors import earlier_round_robin_key, round_robin_key
from helpdesk_core.service.decide import Change, Decider
from helpdesk_core.service.knowledge import KnowledgeCommands
from helpdesk_core.service.received import claim_record, forget_received, request_key
from helpdesk_core.sla import SlaView, sla_view
from helpdesk_core.storage import (
    CursorDeletion,
    ImportItem,
    MemoryStore,
    Page,
    RequesterLock,
    Store,
    TicketQuery,
    TicketScope,
)
from helpdesk_core.storage.base import check_import, check_name, every_match, taken_number
from helpdesk_core.workflow import de_escalate, escalate, raise_level, shortcut_move

__all__ = ["EventHandler", "Helpdesk"]

log = logging.getLogger("helpdesk_core")

EventHandler = Callable[[Event], None]
Identity = Actor | Agent | Requester | str
T = TypeVar("T")

_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
_UNSEEN: Any = object()
_MAX_REMEMBERED_LOADS = 4096
_ACTOR_KINDS = frozenset(kind.value for kind in ActorKind)
# Enum members read on every command, as module constants (on Python 3.11 a member read
# off its class goes through EnumType's __getattr__ hook, several times a global's cost).
_AGENT = ActorKind.AGENT
_REQUESTER = ActorKind.REQUESTER
_SOLVED = StatusCategory.SOLVED
_FIRST_RESPONSE = Metric.FIRST_RESPONSE.value
_MAX_REMEMBERED_WAKES = 10_000
#: How many tickets a caused_by cycle check reads at most.
_MAX_LINK_WALK = 1_000
# How many of a team's waiting tickets a queue drain reads at most (see ``_queued``).
_QUEUE_WINDOW = 1_000
_MAX_REMEMBERED_GRANTS = 4_096
#: How many of the requester's earlier tickets an opening lists (``TicketOpened.history``).
_EARLIER_TICKETS = 20
_NO_FIELDS: frozenset[str] = frozenset()
_NO_IDS: frozenset[str] = frozenset()
_OPENED_FIELDS = attrs.fields(TicketOpened)
_complete_opening = copier(
    TicketOpened, ("ticket_id", "number", "requester", "by", "organization", "history")
)
_with_due = copier(TicketOpened, ("first_response_due",))
_with_lifecycle = copier(TicketOpened, ("lifecycle", "status", "status_category"))
_with_missing = copier(TicketOpened, ("missing_fields",))
_with_tier_team = copier(Changes, ("tier", "team"))


class _Held(threading.local):
    """The events of a thread's open :meth:`Helpdesk.unit_of_work` (None outside one):
    a class attribute gives a thread that never opened one None at the cost of an
    attribute read (a missing attribute of a plain ``threading.local`` raises, and every
    command asks)."""

    events: list[Event] | None = None


class Helpdesk(KnowledgeCommands):
    """A helpdesk: configuration + store + clock (+ id factory), and the commands.

    >>> from datetime import datetime, UTC
    >>> from helpdesk_core import Helpdesk, DeskConfig, ManualClock, MemoryStore, Requester
    >>> desk = Helpdesk(config=DeskConfig(), store=MemoryStore(),
    ...                 clock=ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    >>> ticket = desk.open(requester=Requester(id="r1", name="Ada"), subject="Printer jams")
    >>> ticket.status
    'new'
    """

    def __init__(
        self,
        config: DeskConfig | None = None,
        store: Store | None = None,
        clock: Clock | None = None,
        *,
        ids: IdFactory | None = None,
    ) -> None:
        self.config = config if config is not None else DeskConfig()
        if not isinstance(self.config, DeskConfig):
            raise ValidationError("config must be a DeskConfig", field="config")
        self.store: Store = store if store is not None else MemoryStore()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.ids: IdFactory = ids if ids is not None else UuidIds()
        if isinstance(self.clock, datetime | type):
            given = self.clock.__name__ if isinstance(self.clock, type) else repr(self.clock)
            raise ValidationError(
                "clock must be a clock object such as ManualClock(start) or SystemClock(), "
                f"got {given}",
                field="clock",
            )
        for name, value, needs in (
            ("store", self.store, ("load", "append", "unit_of_work")),
            ("clock", self.clock, ("now",)),
            ("ids", self.ids, ("new_id",)),
        ):
            if not all(callable(getattr(value, method, None)) for method in needs):
                raise ValidationError(
                    f"{name} must provide {', '.join(needs)}, got {type(value).__name__}",
                    field=name,
                )
        self._decider = Decider(self.config)
        self._handlers: list[EventHandler] = []
        self._held = _Held()  # events of an open unit_of_work, per thread
        self._worker = self.ids.new_id("worker")
        self._retention_checked_at: datetime | None = None
        # Whether a tick of this desk has offered the queues since the desk was made or
        # last reconfigured: until then an agent on shift may be free for a queued ticket
        # (the process started, or the agent came back, after their shift began).
        self._queues_offered = False
        # Whether this desk has said that its store keeps the records of received
        # messages and requests (no delete_cursors()): once is enough.
        self._warned_records_kept = False
        self._queue_queries: dict[str, list[TicketQuery]] = {}
        # Wake times of the versions this desk saved, with the snapshot they follow from.
        self._wakes: dict[tuple[str, int], tuple[Ticket, datetime | None]] = {}
        # Memos of what follows from one configuration, kept with it: a thread that
        # worked an answer out from a configuration another thread has since replaced
        # leaves it with the old one.
        self._granted: tuple[DeskConfig | None, dict[tuple[Any, ...], Role | None]] = (None, {})
        self._agent_names: tuple[DeskConfig | None, dict[str, bool]] = (None, {})
        # The custom fields of the questions marked personal, in any category.
        self._personal: tuple[DeskConfig | None, frozenset[str]] = (None, frozenset())
        # The actors bare agent ids name (checked as _actor checks them), per configuration.
        self._agent_actors: tuple[DeskConfig | None, dict[str, Actor]] = (None, {})
        self._default_spec = AssignSpec(strategy=self.config.assignment.strategy)
        self._load_values: dict[tuple[int, float], AgentLoad] = {}
        self._requests: dict[tuple[str, tuple[str, ...]], AssignSpec] = {}
        self._rules_assign: tuple[DeskConfig | None, bool] = (None, False)
        self._candidates_by: tuple[
            DeskConfig | None, dict[tuple[str | None, str | None], list[Agent]]
        ] = (None, {})
        # The weights (as an assignment explains them) and the tier order, per configuration.
        self._assignment_terms: tuple[DeskConfig | None, str, tuple[str, ...]] = (None, "", ())
        # The clock's last instant and that instant checked (a clock tells the same one
        # until it moves: a ManualClock between steps).
        self._clock_seen: tuple[object, datetime] = (object(), _FAR_FUTURE)

    # ------------------------------------------------------------------ plumbing
    def _now(self, now: datetime | None = None) -> datetime:
        return desk_instant(now, field="now") if now is not None else self._clock_now()

    def _clock_now(self) -> datetime:
        """The clock's instant; a clock of the application's that tells a naive datetime
        (``datetime.now()``), no datetime at all or an instant outside the years a desk
        works in (a ``ManualClock`` set to a mistyped year) is refused by name."""
        now = self.clock.now()
        seen = self._clock_seen
        if seen[0] is now:  # the instant checked last (a datetime is immutable)
            return seen[1]
        if not isinstance(now, datetime) or now.utcoffset() is None:
            shown = now.isoformat() if isinstance(now, datetime) else type(now).__name__
            raise ValidationError(
                f"{type(self.clock).__name__}.now() must return a timezone-aware datetime, "
                f"got {shown}",
                field="clock",
            )
        at = desk_instant(now, field="clock")
        self._clock_seen = (now, at)
        return at

    def subscribe(self, handler: EventHandler) -> Callable[[], None]:
        """Call ``handler(event)`` for every event after it is committed; returns a function
        that unsubscribes. A failing handler is logged and does not undo the command (use
        the store's outbox for delivery that must not be lost)."""
        if not callable(handler):
            raise ValidationError("handler must be callable", field="handler")
        self._handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    def reconfigure(self, config: DeskConfig) -> None:
        """Work with ``config`` from now on (an agent away or back, a new policy): the
        tickets stay as they are and follow the new rules from their next command or
        tick. When the rules that say when a ticket needs a tick changed (escalation
        policies, calendars, lifecycles and their auto-close, ticket types, the targets,
        calendar, warning thresholds or pauses of SLA policies), what fell due under the
        rules in force until now (SLA warnings and breaches, escalations, auto-closes) is
        first recorded at its own instant, as a tick now would record it (a ticket that
        cannot be brought up to date is logged and left to the new rules), so what
        happened before the change does not depend on how often the desk ticked; then
        every open or solved ticket's stored wake-up is recomputed (:meth:`reschedule`),
        so a tick finds a new escalation trigger's tickets at its instant. A running SLA
        clock armed for a warning otherwise than its policy's thresholds say now (or for
        one they no longer have) is due at once: the next tick, or the ticket's next
        command, re-arms it, and its warnings fall due at their new instants. So is a
        clock whose policy's target, calendar (its name, or the hours a calendar of that
        name defines now) or pauses changed: the next tick, or the ticket's next command,
        retargets it (pauses or resumes it) as a change of the ticket would, so no tick
        records a warning or breach under the old rules. A new escalation trigger whose
        instant has passed fires on an active ticket at its latest event; a solved ticket
        never met it while active, so it fires there only once the ticket is reopened, at
        the reopen."""
        if not isinstance(config, DeskConfig):
            raise ValidationError("config must be a DeskConfig", field="config")
        self._check_open_tickets(config)
        before = _wake_rules(self.config)
        if _wake_rules(config) != before and self._record_due(self._clock_now()):
            self._check_open_tickets(config)  # what was recorded may have moved tickets
        # Everything that follows from the configuration is built first and switched in
        # a few steps: a command running in another thread meanwhile sees one or the
        # other for nearly all of its decisions.
        decider = Decider(config)
        spec = AssignSpec(strategy=config.assignment.strategy)
        self._decider, self._default_spec, self.config = decider, spec, config
        self._wakes.clear()  # wake times follow the rules: every ticket is checked again
        self._queue_queries.clear()
        self._queues_offered = False  # an agent back may take a queued ticket now
        if _wake_rules(config) != before:
            if callable(getattr(self.store, "reschedule", None)):
                self.reschedule()
            else:  # a store written before Store.reschedule existed
                log.warning(
                    "the store has no reschedule(): tickets keep their wake-ups until their "
                    "next command or tick"
                )

    def _record_due(self, at: datetime) -> bool:
        """Bring every ticket with work due by ``at`` up to date under the rules in force
        (SLA warnings and breaches, escalations, auto-closes: a tick without its queue
        offers and retention pass); whether anything was recorded. A ticket that cannot
        be is logged and skipped. Tickets are not leased (a tick right after takes them
        as usual)."""
        recorded = False
        seen: set[str] = set()
        while True:
            # Asking for more than were seen keeps the sweep going past tickets that stay
            # due with nothing to record (or that fail); twice as many, so that a sweep
            # past many such tickets reads each a few times, not once per round.
            due = [t for t in self.store.due(at, limit=2 * len(seen) + 100) if t not in seen]
            if not due:
                return recorded
            for ticket_id in due:
                seen.add(ticket_id)
                try:
                    ticket, _, events = self._command(ticket_id, lambda change: None, now=at)
                    if events:
                        recorded = True
                    else:
                        self._wake_again(ticket)
                except StoreClosedError:
                    raise
                except Exception:
                    log.exception(
                        "reconfigure: ticket %s could not be brought up to date under the "
                        "rules in force until now",
                        ticket_id,
                    )

    def _check_open_tickets(self, config: DeskConfig) -> None:
        """Refuse a configuration that drops what open or solved tickets stand on, so
        their every command and tick would fail: a calendar their SLA clocks count time
        on, the lifecycle they follow or the status they are in (or that status's category:
        a ticket keeps the one it entered with), the tier or the team
        they are in (a team that is gone has no agents to take its queue, no contacts to
        raise a level to, and no name a search may give), the agent they are assigned to
        (their work would wait in nobody's queue; an inactive agent keeps them visible).
        (A policy that is gone is no such trouble: its clocks move to the policy that
        applies at their next change.)"""
        calendars = config.calendars != self.config.calendars
        lifecycles = config.lifecycles != self.config.lifecycles
        tiers = config.ladder.ids != self.config.ladder.ids
        team_ids = {team.id for team in config.teams}
        teams = team_ids != {team.id for team in self.config.teams}
        agent_ids = {agent.id for agent in config.agents}
        agents = agent_ids != {agent.id for agent in self.config.agents}
        if not (calendars or lifecycles or tiers or teams or agents):
            return
        checked = {
            kind
            for kinds, changed in (
                (("calendar",), calendars),
                (("lifecycle", "status", "category"), lifecycles),
                (("tier",), tiers),
                (("team",), teams),
                (("agent",), agents),
            )
            if changed
            for kind in kinds
        }
        gone: dict[tuple[str, str, str], list[str]] = {}
        was: dict[tuple[str, str, str], str] = {}  # a moved status's category before
        for ticket in self._open_or_solved():
            for kind, name, status in _missing_parts(config, ticket, team_ids, agent_ids):
                if kind not in checked:
                    continue
                key = (kind, name, "" if kind == "calendar" else status)
                gone.setdefault(key, []).append(ticket.id)
                if kind == "category":
                    was.setdefault(key, ticket.status_category.value)
        if not gone:
            return
        (kind, name, status), ids = next(iter(gone.items()))
        ids = list(dict.fromkeys(ids))
        shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        if kind == "calendar":
            raise ConfigError(
                f"the new configuration drops calendar {name!r}, which SLA clocks of open "
                f"or solved tickets count their time on ({shown}): keep it until they are "
                "done (no policy need name it; their clocks move to the policy that applies "
                "at their next change)",
                path=f"calendars.{name}",
            )
        if kind == "lifecycle":
            raise ConfigError(
                f"the new configuration drops lifecycle {name!r}, which open or solved "
                f"tickets follow ({shown}): keep it until they are closed (no ticket type "
                "need name it)",
                path=f"lifecycles.{name}",
            )
        if kind == "status":
            raise ConfigError(
                f"the new configuration drops status {status!r} of lifecycle {name!r}, "
                f"which open or solved tickets are in ({shown}): move them out of it "
                "first, or keep it",
                path=f"lifecycles.{name}.statuses",
            )
        if kind == "category":
            before = was[kind, name, status]
            after = config.lifecycles[name].category(status).value
            raise ConfigError(
                f"the new configuration moves status {status!r} of lifecycle {name!r} from "
                f"the {before} to the {after} category, while open or solved tickets are in "
                f"it ({shown}): they would keep the {before} category until they move, "
                "their SLA clocks pausing as it says; move them out of it first, or keep "
                "its category",
                path=f"lifecycles.{name}.statuses",
            )
        if kind == "agent":
            raise ConfigError(
                f"the new configuration drops agent {name!r}, to whom open or solved tickets "
                f"are assigned ({shown}): they would wait in nobody's queue; assign them to "
                "another agent first (desk.assign), or keep the agent with active = false",
                path="agents",
            )
        if kind == "team":
            raise ConfigError(
                f"the new configuration drops team {name!r}, which open or solved tickets "
                f"are in ({shown}): move them to another team first "
                "(desk.update(ticket_id, by=..., team=...)), or keep it",
                path="teams",
            )
        raise ConfigError(
            f"the new configuration drops tier {name!r}, which open or solved tickets are "
            f"in ({shown}): move them to another tier first, or keep it",
            path="tiers",
        )

    def import_tickets(self, items: Iterable[ImportItem]) -> int:
        """Add tickets brought from elsewhere (a legacy system's), each
        ``(events, snapshot)`` or ``(events, snapshot, wake_at)``, through the store's
        ``import_tickets`` (all or none; the numbers they carry are kept, and one a stored
        ticket has is refused, a ValidationError on ``number``; one another item carries,
        on ``items[i].number``).
        Returns the count.

        Every item is checked before the store is given any: besides what the store checks,
        an open or solved ticket must follow a lifecycle of the desk's configuration, be in
        one of its statuses and have that status's category, count its SLA clocks on the
        configuration's calendars and be in its tiers and teams, assigned to one of its
        agents (ValidationError naming the ticket, its place in ``items`` and what is
        missing), as :meth:`reconfigure` keeps them: the desk could not work such a ticket,
        and every tick or command would fail on it. A
        closed ticket may keep a lifecycle the configuration lacks (no command or tick
        moves it). The items are read into a list first. StorageError when the store has
        no ``import_tickets``."""
        if isinstance(items, str | bytes) or not isinstance(items, Iterable):
            raise ValidationError(
                f"items is a list of (events, snapshot), got {type(items).__name__}",
                field="items",
            )
        checked = []
        numbers: dict[int, str] = {}  # (a number two items carry is named here, by item)
        for index, item in enumerate(items):
            try:
                events, snapshot, wake_at = check_import(item)
            except ValidationError as exc:
                where = f"items[{index}]" + (f".{exc.field}" if exc.field else "")
                raise ValidationError(exc.message, field=where) from exc
            self._check_imported(snapshot, f"items[{index}]")
            holder = numbers.setdefault(snapshot.number, snapshot.id)
            if holder != snapshot.id:
                taken = taken_number(snapshot.id, snapshot.number, holder)
                raise ValidationError(taken.message, field=f"items[{index}].number")
            checked.append((events, snapshot, wake_at))
        importer = getattr(self.store, "import_tickets", None)
        if not callable(importer):
            raise StorageError(
                f"the store ({type(self.store).__name__}) has no import_tickets: import "
                "the tickets into a store of this library, or open them one by one"
            )
        count = importer(checked)
        self._queues_offered = False  # an imported ticket may wait in a team's queue
        return int(count)

    def _check_imported(self, ticket: Ticket, where: str) -> None:
        """Refuse an imported open or solved ticket the configuration cannot work (see
        :meth:`import_tickets`): what :meth:`reconfigure` refuses to drop under open
        tickets, an import does not bring in."""
        if ticket.status_category is StatusCategory.CLOSED:
            return
        config = self.config
        agent_ids = {agent.id for agent in config.agents}
        team_ids = {team.id for team in config.teams}
        trouble = next(iter(_missing_parts(config, ticket, team_ids, agent_ids)), None)
        if trouble is None:
            return
        kind, name, status = trouble
        if kind == "calendar":
            message = (
                f"ticket {ticket.id}: its {status} SLA clock counts time on calendar "
                f"{name!r}, which the desk's configuration does not have (it has "
                f"{', '.join(map(repr, config.calendars))}): every command on it would "
                "fail; add the calendar, or import the ticket without its clocks"
            )
            field = f"{where}.sla"
        elif kind == "lifecycle":
            known = ", ".join(repr(n) for n in config.lifecycles)
            message = (
                f"ticket {ticket.id} follows lifecycle {name!r}, which the desk's "
                f"configuration does not have (it has {known}): the desk could not move "
                "it and every tick would fail on it; add the lifecycle to the "
                "configuration, or import the ticket closed"
            )
            field = f"{where}.lifecycle"
        elif kind == "status":
            message = (
                f"ticket {ticket.id} is in status {status!r}, which lifecycle {name!r} "
                f"does not have (statuses: {', '.join(config.lifecycles[name].status_names)})"
            )
            field = f"{where}.status"
        elif kind == "category":
            category = config.lifecycles[name].category(status).value
            message = (
                f"ticket {ticket.id} is in status {status!r} of the "
                f"{ticket.status_category.value} category, which lifecycle {name!r} puts in "
                f"the {category} category"
            )
            field = f"{where}.status_category"
        else:
            part = "assignee" if kind == "agent" else kind
            message = (
                f"ticket {ticket.id}: its {part} {name!r} is not in the desk's "
                "configuration: the desk could not work it (add it, or import the "
                f"ticket with another {part})"
            )
            field = f"{where}.{part}"
        raise ValidationError(message, field=field)

    def reschedule(self) -> int:
        """Store the next wake-up of every open or solved ticket as the current rules
        have it, recording no event (see :meth:`Store.reschedule`); returns how many
        tickets were rescheduled. :meth:`reconfigure` calls it when the rules changed;
        call it after changing the configuration of a desk that shares the store from
        another process. A ticket that changes meanwhile keeps the wake-up its change set."""
        # Every wake-up is worked out before the first is written: the scan then reads
        # pages of unchanged data, which the stores serve from where the last one ended.
        decider = self._decider
        wakes = [
            (
                ticket.id,
                ticket.version,
                decider.wake_at(ticket, self._requester_of(ticket), rearm=True),
            )
            for ticket in self._open_or_solved()
        ]
        done = 0
        for ticket_id, version, wake in wakes:
            if self.store.reschedule(ticket_id, expected_version=version, wake_at=wake):
                done += 1
        return done

    def _open_or_solved(self) -> Iterator[Ticket]:
        """Every ticket that may still need a tick (not closed), in number order, read a
        thousand at a time (:func:`every_match`: one closed by another process meanwhile
        makes the scan skip no other)."""
        return every_match(self.store, TicketQuery(status_category=_WAKING))

    @contextmanager
    def unit_of_work(self) -> Iterator[None]:
        """Run several commands as one: the store keeps all their changes, or (on an
        exception) none, and subscribers get their events only once the outermost block
        has ended well."""
        held = self._held.events
        outer = held is None
        if held is None:
            held = self._held.events = []
        mark = len(held)  # a failing inner block takes back only its own events
        try:
            with self.store.unit_of_work():
                try:
                    yield
                except BaseException:
                    # Wake times remembered for versions the store is about to take back
                    # would be trusted when another thread or process writes those version
                    # numbers: forget them all, before the store lets anyone else in.
                    self._wakes.clear()
                    raise
        except BaseException:
            del held[mark:]
            self._wakes.clear()  # and after a commit that failed
            if outer:
                self._held.events = None
            raise
        if outer:
            self._held.events = None
            self._publish(held)

    def _publish(self, events: Iterable[Event]) -> None:
        held = self._held.events
        if held is not None:
            held.extend(events)
            return
        if not self._handlers:
            return
        for event in events:
            for handler in tuple(self._handlers):
                try:
                    handler(event)
                except Exception:
                    log.exception("event handler %r failed on %s", handler, type(event).__name__)

    def _actor(self, identity: Identity | None, *, field: str = "by") -> Actor:
        if identity is None:
            raise ValidationError("say who acts", field=field)
        if identity.__class__ is str:  # an agent's id, as a command gives it again and again
            known_by, known = self._agent_actors
            if known_by is self.config:
                found = known.get(identity)
                if found is not None:
                    return found
        if isinstance(identity, Actor):
            return identity
        if isinstance(identity, Agent | Requester):
            return identity.actor
        if isinstance(identity, str):
            kind, sep, ident = identity.partition(":")
            if sep and kind in _ACTOR_KINDS:
                actor = Actor(kind=kind, id=ident)
                if actor.is_agent and not self.config.has_agent(ident):
                    raise NotFound("agent", ident)
                return actor
            config = self.config
            if config.has_agent(identity):
                self._check_agent_name(identity, field=field)
                actor = Actor.agent(identity)
                if identity.__class__ is str:
                    known_by, known = self._agent_actors
                    if known_by is not config:
                        known = {}
                        self._agent_actors = (config, known)
                    if len(known) >= _MAX_REMEMBERED_GRANTS:
                        known.clear()
                    known[identity] = actor
                return actor
            try:
                self.store.get_requester(identity)
            except NotFound:
                raise NotFound("identity", identity) from None
            return Actor.requester(identity)
        raise ValidationError(
            f"expected an Agent, Requester, Actor or id, got {type(identity).__name__}",
            field=field,
        )

    def _check_agent_name(self, agent_id: str, *, field: str) -> None:
        """Refuse a bare id that names an agent and a stored requester both: an agent
        added to the configuration after a requester was saved with that id would
        otherwise lend that requester their rights (and internal notes) wherever the
        application passes the requester's id. Looked up once per agent and configuration."""
        config = self.config
        checked_by, checked = self._agent_names
        if checked_by is not config:
            checked = {}
            self._agent_names = (config, checked)
        clash = checked.get(agent_id)
        if clash is None:
            try:
                self.store.get_requester(agent_id)
            except NotFound:
                clash = False
            else:
                clash = True
            checked[agent_id] = clash
        if clash:
            raise ValidationError(
                f"{agent_id!r} is the id of an agent and of a stored requester: say which "
                f"with 'agent:{agent_id}' or 'requester:{agent_id}' (or give the agent "
                "another id)",
                field=field,
            )

    def _opening_actor(self, by: Identity | None, requester: Requester | str) -> Actor:
        """Who opens a ticket: ``by``, or the requester (given by value or id; checked
        before the requester is looked up, so a refusal does not tell whether a requester
        with that id is stored). An agent opens tickets for anyone while active; a
        requester opens only their own."""
        if isinstance(requester, Requester):
            requester_id = requester.id
        elif isinstance(requester, str):
            requester_id = _ticket_id(requester, field="requester")
        else:
            raise ValidationError(
                f"requester must be a Requester or its id, got {type(requester).__name__}",
                field="requester",
            )
        if by is None or (isinstance(by, Requester) and by.id == requester_id):
            return Actor.requester(requester_id)
        if isinstance(by, str) and by in (requester_id, f"requester:{requester_id}"):
            return Actor.requester(requester_id)
        actor = self._actor(by)
        if actor.is_requester and actor.id != requester_id:
            raise AccessDenied(
                f"{actor} may not open a ticket for requester {requester_id!r}: "
                "requesters open their own tickets",
                identity=str(actor),
                action="open",
            )
        if actor.is_agent and not self.config.agent(actor.id).active:
            raise AccessDenied(
                f"{actor} may not open a ticket: agent {actor.id!r} is inactive",
                identity=str(actor),
                action="open",
            )
        return actor

    def _requester_of(self, ticket: Ticket) -> Requester | None:
        """The ticket's requester, when a decision may read it (SLA policy conditions on
        ``requester.*`` fields); None otherwise, or when it is not stored."""
        if not self._decider.reads_requester:
            return None
        try:
            return self.store.get_requester(ticket.requester)
        except NotFound:
            return None

    def _check_access(self, actor: Actor, ticket: Ticket, action: str) -> Role | None:
        """Raise AccessDenied unless ``actor`` may do ``action`` on ``ticket`` (the desk's
        access policy); return the actor's role."""
        # An agent's or the system's permission depends only on the configuration and the
        # ticket's assignee, owner and team: permissions granted are remembered by those.
        config = self.config
        key = None
        granted = None
        if actor.kind is not _REQUESTER:
            granted_by, granted = self._granted
            if granted_by is not config:
                granted = {}
                self._granted = (config, granted)
            # The actor by its class, kind (agent or system) and id: hashing the Actor
            # itself costs two Python calls (its attrs __hash__, the kind's Enum.__hash__).
            key = (
                actor.__class__,
                actor.kind is _AGENT,
                actor.id,
                action,
                ticket.assignee,
                ticket.owner,
                ticket.team,
            )
            role = granted.get(key, _UNSEEN)
            if role is not _UNSEEN:
                return role  # type: ignore[no-any-return]
        role = self._decide_access(actor, ticket, action, config)
        if granted is not None and key is not None:
            if len(granted) >= _MAX_REMEMBERED_GRANTS:
                granted.clear()
            granted[key] = role
        return role

    def _check_view(self, actor: Actor, ticket: Ticket) -> Role | None:
        """Raise AccessDenied unless ``actor`` may view the stored ``ticket``, or the
        ticket as a tick would leave it now (see :meth:`_caught_up`): a read lets in whom a
        command on the ticket would let in. Return the role the check that allowed gave.
        Allowed on the stored ticket, or refused on one with nothing due, it costs what
        :meth:`_check_access` does: the catch-up is for a refusal on a due ticket only."""
        try:
            return self._check_access(actor, ticket, "view")
        except AccessDenied as refused:
            current = self._caught_up(ticket)
            if current is None:
                raise
            try:
                return self._check_access(actor, current, "view")
            except AccessDenied:
                raise refused from None

    def _stamp(self, ticket: Ticket) -> datetime:
        """The instant a command now would stamp on ``ticket``: the clock's, or the
        ticket's latest event if another process recorded later (its clock runs ahead)."""
        at = self._clock_now()
        return ticket.updated_at if ticket.updated_at > at else at

    def _caught_up(self, ticket: Ticket, at: datetime | None = None) -> Ticket | None:
        """``ticket`` (as loaded) as a command now (or at ``at``) would find it once caught
        up, worked out in memory and never saved: the due work a tick would record (an
        escalation that moves it into another team, say). None when nothing is due, which
        the desk knows without work for a snapshot it saved itself, as :meth:`_command`
        does."""
        if at is None:
            at = self._stamp(ticket)
        if not self._due(ticket, at):
            return None
        change = self._begin(ticket, at)
        change.catch_up(at)
        return change.ticket if change.events else None

    def _due(self, ticket: Ticket, at: datetime) -> bool:
        """Whether ``ticket`` (as loaded) may have work due by ``at``: its wake-up, as this
        desk remembers it for the snapshot it saved, has come, or the desk did not save
        that snapshot (another desk or process did) and does not know."""
        woken = self._woken(ticket)
        return woken is _UNSEEN or (woken is not None and woken <= at)

    def _begin(self, ticket: Ticket, at: datetime) -> Change:
        """A change of ``ticket`` (as loaded) at ``at``, not caught up."""
        requester = self._requester_of(ticket) if self._decider.reads_requester else None
        return self._decider.begin(ticket, now=at, requester=requester, assigner=self._assigner)

    def _decide_access(
        self, actor: Actor, ticket: Ticket, action: str, config: DeskConfig
    ) -> Role | None:
        policy = config.privacy.access
        agent = config.agent(actor.id) if actor.kind is _AGENT else None
        requester = None
        if actor.is_requester and policy.requesters_see_organization:
            try:
                requester = self.store.get_requester(actor.id)
            except NotFound:
                requester = None
        decision = policy.check(
            actor=actor,
            ticket=ticket,
            action=action,
            agent=agent,
            requester=requester,
            teams=config.teams,
        )
        return decision.role

    def _command(
        self,
        ticket_id: str,
        decide: Callable[[Change], T],
        *,
        now: datetime | None = None,
        actor: Actor | None = None,
        action: str | Callable[[Ticket], str] = "change",
        publish: bool = True,
        confirm: Callable[[], object] | None = None,
    ) -> tuple[Ticket, T, list[Event]]:
        """Load → catch up → decide → save (version-checked) → publish; retried on conflict.
        ``action`` is what ``actor`` must be allowed to do, or a function of the loaded
        ticket that says it. ``confirm`` (when there is something to save) runs in the
        unit of work of the save, after the append: what it raises undoes the save (see
        :meth:`_save`). Returns the new ticket (as a requester ``actor`` may see it),
        what ``decide`` returned and the events
        recorded (not published with ``publish=False``: the caller publishes them once
        its unit of work is committed)."""
        ticket_id = _ticket_id(ticket_id)
        retries = self.config.settings.max_retries
        for attempt in range(retries + 1):
            at = self._clock_now() if now is None else desk_instant(now, field="now")
            ticket = self.store.load(ticket_id)
            if ticket.updated_at > at:
                # Another process recorded later (its clock runs ahead, or it wrote after
                # this one read its clock): a history only grows, so stamp at its latest.
                at = ticket.updated_at
            change = self._begin(ticket, at)
            if self._due(ticket, at):
                change.catch_up(at)
            if actor is not None:
                # Checked on the ticket as it stands at ``at``, as a tick would have left
                # it: an escalation due meanwhile may have moved it into another team.
                current = change.ticket
                wanted = action if isinstance(action, str) else action(current)
                self._check_access(actor, current, wanted)
            result = decide(change)
            change.fire_escalations()
            try:
                self._save(change, confirm=confirm)
            except ConflictError:
                if attempt == retries:
                    raise
                continue
            if publish:
                self._publish(change.events)
            ticket = change.ticket
            if actor is not None and actor.is_requester:
                # What the command returns, the requester sees: not the known error (nor
                # the personal answers of someone else's ticket, nor links to tickets
                # they may not view).
                ticket = self._shown(actor, Role.REQUESTER, ticket)
            elif ticket.links and actor is not None and actor.is_agent:
                ticket = self._shown(actor, self._role_of(actor), ticket)
            return ticket, result, change.events
        raise AssertionError("unreachable")

    def _record(
        self,
        ticket_id: str,
        event_of: Callable[[Change], Event | None],
        *,
        actor: Actor | None,
        action: str,
        confirm: Callable[[], object] | None = None,
    ) -> Ticket:
        """A :meth:`_command` that records at most one event: ``event_of`` builds it from
        the change (None: nothing to record). Returns the new ticket."""

        def decide(change: Change) -> None:
            event = event_of(change)
            if event is not None:
                change.emit(event)

        ticket, _, _ = self._command(ticket_id, decide, actor=actor, action=action, confirm=confirm)
        return ticket

    def _save(self, change: Change, *, confirm: Callable[[], object] | None = None) -> None:
        """Append the change's events (nothing when it has none), with the cursors it
        moved, in one unit of work when there are cursors or a ``confirm``: that runs
        after the append, in the same unit of work, and what it raises undoes the save.
        (A check there sees what every unit of work that wrote before committed, and
        none that writes can commit until this one ends: the stores serialize writers.)"""
        if not change.events:
            return
        ticket = change.ticket
        wake_at = self._decider.wake_at(ticket, change.requester)
        chosen = self._chosen_agent(change)
        if not change.cursors and confirm is None and chosen is None:
            self._append(change, wake_at)  # one append: no unit of work around it
        else:
            with self.store.unit_of_work():
                self._append(change, wake_at)
                self._save_cursors(change)
                if chosen is not None:
                    self._check_capacity(chosen)
                if confirm is not None:
                    confirm()
        self._remember_wake(ticket, wake_at, previous=change.start_version)

    def _chosen_agent(self, change: Change) -> Agent | None:
        """The agent an automatic assignment of ``change`` gave its (active) ticket to,
        if any: their load was read before the change was saved, so it is checked again
        once it is (:meth:`_check_capacity`)."""
        ticket = change.ticket
        agent_id = ticket.assignee
        if agent_id is None or not ticket.is_active:
            return None
        start = change.start
        if start.assignee == agent_id and start.is_active:
            return None  # they hold it already: it counted in their load
        if not any(
            isinstance(e, Assigned) and e.strategy is not None and e.assignee == agent_id
            for e in change.events
        ):
            return None  # assigned by hand: a person may go past an agent's capacity
        return self.config.agent(agent_id) if self.config.has_agent(agent_id) else None

    def _check_capacity(self, agent: Agent) -> None:
        """After the append of a ticket an automatic assignment gave ``agent``, in its unit
        of work: refuse (ConflictError, so the command is decided again) when the agent
        is now past their capacity, as another thread or process assigned them a ticket
        after this one read their load. The stores serialize writers, so of two such
        assignments the one that saves second sees the first."""
        active = sum(self.store.agent_loads().get(agent.id, {}).values())
        if active > agent.capacity:
            raise ConflictError(
                agent.id,
                expected=agent.capacity,
                actual=active,
                kind="agent",
                message=f"agent {agent.id!r} would hold {active} active tickets, past their "
                f"capacity of {agent.capacity}: another assignment took their last place "
                "meanwhile",
            )

    def _append(self, change: Change, wake_at: datetime | None) -> None:
        """The change's events and new snapshot, version-checked, into the store."""
        self.store.append(
            change.ticket.id,
            expected_version=change.start_version,
            events=change.events,
            snapshot=change.ticket,
            wake_at=wake_at,
        )

    def _save_cursors(self, change: Change) -> None:
        """The round-robin positions a change moved, written with its events (a command
        that fails or is retried moves none)."""
        for key, value in change.cursors.items():
            self.store.set_cursor(key, value)

    def _remember_wake(
        self, ticket: Ticket, wake_at: datetime | None, *, previous: int | None = None
    ) -> None:
        """Remember when the ticket as saved next has due work: a later command on this
        same version skips the catch-up while nothing is due (any other version, e.g. one
        another process wrote, is caught up as usual). Bounded."""
        wakes = self._wakes
        if previous is not None:
            wakes.pop((ticket.id, previous), None)
        if len(wakes) >= _MAX_REMEMBERED_WAKES:
            wakes.clear()
        wakes[(ticket.id, ticket.version)] = (ticket, wake_at)

    def _forget_cleared(self, ticket_id: str, version: int) -> None:
        """Once a ticket was anonymised or purged, forget what the desk keeps of it as it
        was: the snapshot :meth:`_remember_wake` kept of ``version``, and its words in
        the index of solved tickets for :meth:`similar`; either would keep its personal
        data in the process."""
        self._wakes.pop((ticket_id, version), None)
        self._forget_similar(ticket_id)

    def _wake_again(self, ticket: Ticket) -> None:
        """Store when ``ticket``, just brought up to date with nothing to record, next has
        due work. It was due by the wake-up stored with it, which no longer holds (what
        it was worked out from changed without a change of the ticket: its requester, say):
        kept, it would leave the ticket due, and :meth:`next_wakeup` in the past, until
        the ticket next changes."""
        if not callable(getattr(self.store, "reschedule", None)):
            return  # a store written before Store.reschedule existed
        wake_at = self._decider.wake_at(ticket, self._requester_of(ticket))
        if self.store.reschedule(ticket.id, expected_version=ticket.version, wake_at=wake_at):
            self._remember_wake(ticket, wake_at)

    def _woken(self, ticket: Ticket) -> Any:
        """The wake time remembered for ``ticket`` as loaded (``_UNSEEN``: none). Only
        for the very snapshot this desk saved: a version number alone is not enough, as
        a version a caller's transaction took back may be written again, differently, by
        another desk."""
        entry = self._wakes.get((ticket.id, ticket.version))
        if entry is None:
            return _UNSEEN
        saved, wake_at = entry
        if saved is not ticket and saved != ticket:
            return _UNSEEN
        return wake_at

    # ------------------------------------------------------------------ requesters
    def upsert_requester(self, requester: Requester) -> Requester:
        """Save a requester (new or changed). When an escalation trigger's condition reads
        the requester (``requester.*`` fields), the stored wake-ups of their open and
        solved tickets follow the change: a tick then finds a trigger the change made
        true at its instant, and no longer wakes for one it made false."""
        if not isinstance(requester, Requester):
            raise ValidationError("expected a Requester", field="requester")
        self._check_requester(requester)
        reads = self._decider.reads_requester
        before = self._stored_requester(requester.id) if reads else None
        self.store.save_requester(requester)
        if reads and before != requester:
            self._reschedule_tickets_of(before, requester)
        return requester

    def _stored_requester(self, requester_id: str) -> Requester | None:
        try:
            return self.store.get_requester(requester_id)
        except NotFound:
            return None

    def _reschedule_tickets_of(self, before: Requester | None, requester: Requester) -> None:
        """Store the wake-up of each open or solved ticket of ``requester`` that their
        change moves (worked out with the record as it was, ``before``, and as it is
        now), recording no event; a ticket that changes meanwhile keeps the wake-up its
        change set."""
        if not callable(getattr(self.store, "reschedule", None)):
            return  # a store written before Store.reschedule existed
        decider = self._decider
        scan = TicketQuery(requester=requester.id, status_category=_WAKING)
        moved: list[tuple[Ticket, datetime | None]] = []
        for ticket in every_match(self.store, scan):
            wake_at = decider.wake_at(ticket, requester)
            if wake_at != decider.wake_at(ticket, before):
                moved.append((ticket, wake_at))
        for ticket, wake_at in moved:
            if self.store.reschedule(ticket.id, expected_version=ticket.version, wake_at=wake_at):
                self._remember_wake(ticket, wake_at)

    def _check_requester(self, requester: Requester) -> None:
        """A requester the desk may store: not the id anonymised tickets name, nor an id
        that reads as another identity (an agent's id, an ``agent:`` prefix ...), and
        within the desk's limits."""
        if requester.id == ANONYMOUS_REQUESTER:
            raise ValidationError(
                f"{ANONYMOUS_REQUESTER!r} is the requester of anonymised tickets; "
                "choose another id",
                field="requester.id",
            )
        clash = identity_clash(requester.id, "requester")
        if clash is not None:
            raise ValidationError(clash, field="requester.id")
        if self.config.has_agent(requester.id):
            # A bare id given as an identity (``author="alice"``, ``as_="alice"``) names the
            # agent first: the requester would act, and see internal notes, as them.
            raise ValidationError(
                f"requester id {requester.id!r} is the id of an agent, which an identity "
                "given as text names; choose another id",
                field="requester.id",
            )
        limits = self.config.limits
        limits.check_subject(requester.id, field="requester.id")
        for name in ("name", "email", "organization", "language"):
            limits.check_subject(getattr(requester, name), field=f"requester.{name}")
        limits.check_fields(requester.attributes, field="requester.attributes")

    def get_requester(self, requester_id: str, *, as_: Identity | None = None) -> Requester:
        """The requester with this id (NotFound otherwise). With ``as_``, only if that
        identity may read people's records: a requester only their own (AccessDenied for
        any other id, stored or not, before anything is read), an agent only while active."""
        if as_ is not None:
            actor = self._actor(as_, field="as_")
            if actor.is_requester:
                if actor.id != requester_id:
                    raise AccessDenied(
                        f"{actor} may not read requester {requester_id!r}: requesters "
                        "read only their own record",
                        identity=str(actor),
                        action="view",
                    )
            else:
                self._check_reads_people(actor)
        return self.store.get_requester(requester_id)

    def find_requester(
        self, *, email: str, as_: Identity | None = None
    ) -> Requester | None:
        """The requester with this email address, if any (case-insensitive; blanks around
        the address, as a form field may bring them, are ignored: no stored address has
        any). With ``as_``, a requester finds only themselves (None for anyone else's
        address, so an address cannot be probed), an agent anyone while active."""
        if not isinstance(email, str) or not email.strip():
            raise ValidationError("email must be non-empty text", field="email")
        actor = None if as_ is None else self._actor(as_, field="as_")
        if actor is not None and not actor.is_requester:
            self._check_reads_people(actor)
        found = self.store.find_requester(email=email.strip())
        if actor is not None and actor.is_requester and (found is None or found.id != actor.id):
            return None
        return found

    def _check_reads_people(self, actor: Actor) -> None:
        """AccessDenied unless ``actor`` (an agent or the system) may read requesters'
        records: automation always, an agent while active."""
        if actor.is_agent:
            agent = self.config.agent(actor.id)
            if not agent.active:
                raise AccessDenied(
                    f"{actor} may not read requesters' records: agent {agent.id!r} is inactive",
                    identity=str(actor),
                    action="view",
                )

    def _resolve_requester(self, requester: Requester | str) -> Requester:
        """The requester of a new ticket: a value (saved with the ticket) or a stored id."""
        if isinstance(requester, Requester):
            self._check_requester(requester)
            return requester
        if isinstance(requester, str):
            return self.store.get_requester(_ticket_id(requester, field="requester"))
        raise ValidationError(
            f"requester must be a Requester or its id, got {type(requester).__name__}",
            field="requester",
        )

    def _check_stored_requester(self, requester: Requester) -> None:
        """Refuse a requester given by value whose id is stored with other details:
        saving it with the ticket would replace the stored record (its email,
        organization, VIP flag ...) with whatever the caller happened to pass."""
        try:
            stored = self.store.get_requester(requester.id)
        except NotFound:
            return
        if stored == requester:
            return
        differ = [
            a.name
            for a in attrs.fields(Requester)
            if getattr(stored, a.name) != getattr(requester, a.name)
        ]
        raise ValidationError(
            f"requester {requester.id!r} is stored with other details ({', '.join(differ)}): "
            "open the ticket with their id, or change the record with upsert_requester first",
            field="requester",
        )

    def requester_history(
        self, requester_id: str, *, limit: int = 50, as_: Identity | None = None
    ) -> list[Ticket]:
        """The requester's earlier tickets, newest first, with their outcomes. With
        ``as_``, only those of the latest ``limit`` that identity may see, each checked
        and shown as :meth:`get` checks and shows it: a ticket an escalation due (not yet
        recorded) moves into the identity's team is listed, as stored, and nothing is
        written."""
        if not isinstance(requester_id, str):
            raise ValidationError("requester_id must be text", field="requester_id")
        actor = None if as_ is None else self._actor(as_, field="as_")
        tickets = self.store.requester_history(requester_id, limit=limit)
        if actor is None:
            return tickets
        allowed: list[tuple[Ticket, Role | None]] = []
        for ticket in tickets:
            try:
                allowed.append((ticket, self._check_view(actor, ticket)))
            except AccessDenied:
                continue
        # The tickets they link to, checked in one read for the whole list.
        unseen = self._unseen(
            actor, self._role_of(actor), (link.other for t, _ in allowed for link in t.links)
        )
        return [self._shown(actor, role, ticket, unseen) for ticket, role in allowed]

    # ------------------------------------------------------------------ open
    def open(
        self,
        *,
        requester: Requester | str,
        subject: str,
        description: str = "",
        channel: Channel | str = Channel.WEB,
        category: str | None = None,
        impact: Impact | str = Impact.MEDIUM,
        urgency: Urgency | str = Urgency.MEDIUM,
        priority: Priority | str | None = None,
        type: str = "incident",
        asset: str | None = None,
        tags: Iterable[str] = (),
        fields: Mapping[str, Any] | None = None,
        by: Identity | None = None,
        request_id: str | None = None,
    ) -> Ticket:
        """Open a ticket: validate intake, derive priority, route, start SLA clocks and
        auto-assign (lowest tier first). The ``TicketOpened`` event carries the human
        number, the first-response deadline, missing intake answers and the requester's
        earlier tickets. A ``requester`` given by value is saved with the ticket when
        it is new; one stored already must be given as it is stored (else pass the id, or
        change the record with :meth:`upsert_requester` first).

        ``request_id`` (text of at most 200 characters, e.g. a client's idempotency key)
        makes the call safe to retry: the first call with a requester and request id
        opens the ticket, and a later one with the same arguments returns that ticket as it
        is now, opening nothing (an agent's ``by`` gets it only when they may view it:
        AccessDenied otherwise, naming no ticket). A later call with the request id whose
        arguments ask for another ticket (a subject, description, channel, category, type,
        impact, urgency, priority, tags, custom fields or asset other than the opening
        recorded, as the desk normalises them) is refused with a ValidationError naming
        the request id and, as ``field``, the first argument that differs; it stores
        nothing. The record is kept in the store (see
        :mod:`helpdesk_core.service.received`) until the ticket is anonymised or purged."""
        request: dict[str, Any] = {
            "subject": subject,
            "description": description,
            "channel": channel,
            "category": category,
            "impact": impact,
            "urgency": urgency,
            "priority": priority,
            "type": type,
            "asset": asset,
            "tags": tags,
            "fields": fields,
        }
        if request_id is not None:
            check_name(request_id, "request_id")
        probe = self._opening_probe(**request)
        if request_id is not None:
            # The first call opens by the same path without the id (an iterator of tags
            # is read once: the probe's tags stand for it).
            request["tags"] = probe.tags
            return self._open_once(
                requester,
                request_id,
                by,
                probe,
                lambda: self.open(requester=requester, by=by, **request),
            )
        now = probe.at
        config = self.config
        # An id factory is pluggable: its ids are checked like any other event field, and
        # before anything is written.
        ticket_id = self.ids.new_id("ticket")
        identifier(None, _OPENED_FIELDS.ticket_id, ticket_id)
        actor = self._opening_actor(by, requester)
        req = self._resolve_requester(requester)
        if isinstance(requester, Requester):
            self._check_stored_requester(req)
        history = tuple(self.store.requester_ticket_ids(req.id, limit=_EARLIER_TICKETS))
        number = self.store.allocate_number()
        # The rest comes validated (the probe, the requester, the store's number and ids),
        # so the real event is a copy of the probe, not a second validation.
        provisional: TicketOpened = _complete_opening(
            probe,
            {
                "ticket_id": ticket_id,
                "number": number,
                "requester": req.id,
                "by": actor,
                "organization": req.organization,
                "history": history,
            },
        )
        ticket = replay([provisional])
        routed_changes, rules, spec = self._route(ticket, req, now)
        if routed_changes.type is not None:
            # A type a rule set brings its lifecycle: the ticket starts in it.
            routed_lifecycle = config.lifecycle_for(routed_changes.type)
            if routed_lifecycle.name != provisional.lifecycle:
                initial = routed_lifecycle.initial
                provisional = _with_lifecycle(
                    provisional,
                    {
                        "lifecycle": routed_lifecycle.name,
                        "status": initial,
                        "status_category": routed_lifecycle.category(initial),
                    },
                )
                ticket = replay([provisional])
        # A category (or answers) a rule set is checked as the request's were.
        routed_changes = _intake_changes(config, ticket, routed_changes)
        if routed_changes.category is not None or routed_changes.fields:
            # The acknowledgement asks for what the category the ticket is in lacks.
            missing = _missing_answers(config, ticket, routed_changes)
            if missing != provisional.missing_fields:
                provisional = _with_missing(provisional, {"missing_fields": missing})
        retries = config.settings.max_retries
        for attempt in range(retries + 1):
            change = self._decider.begin(ticket, now=now, requester=req, assigner=self._assigner)
            change.events.append(provisional)
            if not routed_changes.is_empty or rules:
                routed = TicketRouted(
                    ticket_id=ticket_id,
                    at=now,
                    by=Actor.system("routing"),
                    changes=routed_changes,
                    rules=rules,
                )
                _check_routed(config, ticket, routed_changes, rules)
                change.emit(routed, sla=False)
            change.react_sla(provisional, folded=True)
            if config.assignment.auto_assign or spec is not None:
                self._auto_assign_in(change, spec)
            change.fire_escalations()
            # After assignment and escalation, which may choose another policy at once: the
            # acknowledgement promises the deadline the clock runs to.
            due = self._first_response_due(change, now)
            if due is not None:
                opened = _with_due(provisional, {"first_response_due": to_utc(due)})
                change.events[0] = opened  # the snapshot does not hold the acknowledgement
            wake_at = self._decider.wake_at(change.ticket, req)
            # A requester given by value is saved with the ticket, or not at all.
            by_value = isinstance(requester, Requester)
            chosen = self._chosen_agent(change)
            try:
                with (
                    self.store.unit_of_work()
                    if by_value or change.cursors or chosen is not None
                    else nullcontext()
                ):
                    if by_value and self._stored_requester(req.id) is None:
                        # Saved only when new: a record stored already was found as given,
                        # and saved again it would undo a change another desk made since.
                        self.store.save_requester(req)
                    try:
                        self.store.append(
                            ticket_id,
                            expected_version=0,
                            events=change.events,
                            snapshot=change.ticket,
                            wake_at=wake_at,
                        )
                    except ConflictError as clash:
                        # A new ticket's id is the id factory's: a stored one with that id is
                        # no concurrent change, and trying again would not help.
                        raise ConflictError(
                            ticket_id,
                            expected=0,
                            actual=clash.actual,
                            message=f"ticket id {ticket_id!r} is taken: the store holds a "
                            f"ticket with that id (version {clash.actual}), and the desk's id "
                            f"factory gave it for a new one. Ids must be unique in the store: "
                            f"SequentialIds counts from 1 again in every process, so use "
                            f"UuidIds (the default) with a store that outlives the process",
                        ) from clash
                    self._save_cursors(change)
                    if chosen is not None:
                        self._check_capacity(chosen)
            except ConflictError as clash:
                # The agent chosen took another ticket meanwhile: assign again, with the
                # loads as they are now (the number and id were not used).
                if clash.kind != "agent" or attempt == retries:
                    raise
                continue
            break
        self._remember_wake(change.ticket, wake_at)
        self._publish(change.events)
        return change.ticket

    def _opening_probe(
        self,
        *,
        subject: str,
        description: str,
        channel: Channel | str,
        category: str | None,
        impact: Impact | str,
        urgency: Urgency | str,
        priority: Priority | str | None,
        type: str,
        asset: str | None,
        tags: Iterable[str],
        fields: Mapping[str, Any] | None,
    ) -> TicketOpened:
        """The requester-independent part of the opening :meth:`open` records for these
        arguments (checked, with intake answers and priority worked out), before anything
        is written."""
        now = self._now()
        config = self.config
        if not isinstance(type, str) or type not in config.ticket_types:
            raise ValidationError(
                f"unknown ticket type {type!r} (known: {', '.join(sorted(config.ticket_types))})",
                field="type",
            )
        if category is not None and not isinstance(category, str):
            raise ValidationError("category must be text", field="category")
        answers = dict(fields or {}) if isinstance(fields, Mapping) or fields is None else fields
        if not isinstance(answers, Mapping):
            raise ValidationError("fields must be a mapping", field="fields")
        missing: tuple[str, ...] = ()
        intake = config.categories.get(category) if category else None
        if intake is not None:
            result = intake.check(answers)
            answers = dict(result.fields)
            missing = tuple(q.name for q in result.missing)
        impact_v = Impact.parse(impact, field="impact")
        urgency_v = Urgency.parse(urgency, field="urgency")
        explicit = priority is not None
        priority_v = (
            Priority.parse(priority, field="priority")
            if priority is not None
            else config.priority_matrix(impact_v, urgency_v)
        )
        lifecycle = config.lifecycle_for(type)
        config.limits.check_subject(subject)  # (named by the limit before the model's)
        # Validate the requester-independent parts before anything is written.
        probe = TicketOpened(
            ticket_id="probe",
            at=now,
            by=SYSTEM,
            number=0,
            requester="probe",
            subject=subject,
            description=description,
            channel=channel,
            category=category,
            type=type,
            impact=impact_v,
            urgency=urgency_v,
            priority=priority_v,
            priority_explicit=explicit,
            tags=tags,
            fields=answers,
            asset=asset,
            lifecycle=lifecycle.name,
            status=lifecycle.initial,
            status_category=lifecycle.category(lifecycle.initial),
            missing_fields=missing,
        )
        _check_opening(config.limits, probe)
        return probe

    def _open_once(
        self,
        requester: Requester | str,
        request_id: Any,
        by: Identity | None,
        asked: TicketOpened,
        open_ticket: Callable[[], Ticket],
    ) -> Ticket:
        """:meth:`open` with a ``request_id`` (see :meth:`_once`); a ticket purged by hand
        leaves a stale record, and the request opens anew. ``asked`` is the opening the
        call asks for (see :meth:`_opening_probe`): a retry must ask for the one recorded."""
        actor = self._opening_actor(by, requester)
        req = self._resolve_requester(requester)

        def opened_before(number: int) -> Ticket | None:
            found = self.store.query(TicketQuery(number=number, limit=1)).items
            if not found:
                return None
            if actor.is_requester:  # the request's own requester: their ticket
                _check_same_opening(request_id, self.store.events(found[0].id)[:1], asked)
                return self._shown(actor, Role.REQUESTER, found[0])
            # An agent opens tickets for anyone, but sees only those in their view: a
            # request id another agent (or the requester) used is no way into a ticket,
            # nor to its id.
            try:
                role = self._check_view(actor, found[0])
            except AccessDenied:
                raise AccessDenied(
                    f"{actor} may not view the ticket request {request_id!r} of requester "
                    f"{req.id!r} opened",
                    identity=str(actor),
                    action="view",
                ) from None
            _check_same_opening(request_id, self.store.events(found[0].id)[:1], asked)
            return self._shown(actor, role, found[0])

        return self._once(request_key(req.id, request_id), request_id, open_ticket, opened_before)

    def _once(
        self,
        key: str,
        request_id: str,
        first: Callable[[], Ticket],
        again: Callable[[int], Ticket | None],
    ) -> Ticket:
        """``first()`` and a record of the request ``key`` (the ticket's number), in one
        unit of work; for a request recorded before, ``again(number)`` (None: ``first()``
        after all). A concurrent call with the same request waits for this one on the
        bundled stores (an atomic claim), then finds it recorded."""
        with self.unit_of_work():
            if not claim_record(self.store, key):
                number = self.store.get_cursor(key)
                if number <= 0:
                    raise ConflictError(
                        request_id,
                        expected=0,
                        actual=1,
                        kind="request",
                        message=f"request {request_id!r} is being applied elsewhere: retry",
                    )
                before = again(number)
                if before is not None:
                    return before
            ticket = first()
            self.store.set_cursor(key, ticket.number)
            return ticket

    def _route(
        self, ticket: Ticket, requester: Requester, now: datetime
    ) -> tuple[Changes, tuple[str, ...], AssignSpec | None]:
        return route_opening(self.config, ticket, requester, now)

    def _first_response_due(self, change: Change, now: datetime) -> datetime | None:
        """When the first response is due on a ticket opened ``now``: the deadline of the
        first-response clock the opening started, else worked out from the policy."""
        clock = change.ticket.sla.get(_FIRST_RESPONSE)
        if (
            clock is not None
            and clock.is_running
            and clock.started_at == now
            and not clock.used
            and clock.deadline is not None
        ):
            return clock.deadline
        policy = change.policy()
        if policy is None:
            return None
        target = policy.target(change.ticket.priority, Metric.FIRST_RESPONSE)
        if target is None:
            return None
        return self.config.calendars[policy.calendar].add(now, target)

    # ------------------------------------------------------------------ assignment
    def _loads(self, agents: Iterable[Agent]) -> dict[str, AgentLoad]:
        """The loads of ``agents`` (those without active tickets are left out)."""
        weights = self.config.assignment.weights
        per_agent = self.store.agent_loads()
        known = self._load_values
        out: dict[str, AgentLoad] = {}
        for agent in agents:
            per_priority = per_agent.get(agent.id)
            if not per_priority:
                continue
            active = sum(per_priority.values())
            weighted = sum([weights[p] * n for p, n in per_priority.items()])
            load = known.get((active, weighted))
            if load is None:  # loads repeat: each distinct one is built (and checked) once
                if len(known) >= _MAX_REMEMBERED_LOADS:
                    known.clear()
                load = known[(active, weighted)] = AgentLoad(active=active, weighted=weighted)
            out[agent.id] = load
        return out

    def _candidates(self, team: str | None, tier: str | None) -> list[Agent]:
        """The agents of ``team`` who may work a ticket in ``tier``, one per id in id order
        as an assignment weighs them (remembered per configuration: agents change only
        with it)."""
        config = self.config
        known_by, known = self._candidates_by
        if known_by is not config:
            known = {}
            self._candidates_by = (config, known)
        key = (team, tier)
        found = known.get(key)
        if found is None:
            found = known[key] = sorted_candidates(
                a
                for a in config.agents_of(team=team)
                if tier is None or a.tier is None or a.tier == tier
            )
        return found

    def _terms(self, config: DeskConfig) -> tuple[str, tuple[str, ...]]:
        """The configuration's priority weights, as an assignment explains them, and its
        tier ids lowest first (remembered per configuration)."""
        known_by, text, tiers = self._assignment_terms
        if known_by is not config:
            text = weights_text(config.assignment.weights)
            tiers = tuple(t.id for t in config.tiers)
            self._assignment_terms = (config, text, tiers)
        return text, tiers

    def _waiting_for(self, ticket: Ticket) -> AssignSpec | None:
        """The assignment asked for ``ticket`` that it waits in its queue for (None: it
        waits for the desk's own, or does not wait)."""
        if ticket.queued_strategy is None:
            return None
        key = (ticket.queued_strategy, ticket.queued_skills)
        spec = self._requests.get(key)
        if spec is None:
            if len(self._requests) >= _MAX_REMEMBERED_LOADS:
                self._requests.clear()
            spec = self._requests[key] = AssignSpec(strategy=key[0], skills=key[1])
        return spec

    def _assigns(self, ticket: Ticket) -> bool:
        """Whether the desk assigns ``ticket`` without being asked again: always with
        ``auto_assign``, else only a ticket waiting for an assignment asked for it."""
        return self.config.assignment.auto_assign or ticket.queued_strategy is not None

    def _auto_assign_in(
        self,
        change: Change,
        spec: AssignSpec | None,
        *,
        at: datetime | None = None,
        asked: bool = False,
    ) -> bool:
        """Assign the change's ticket by ``spec`` (a routing rule's or a caller's); by
        default, by the assignment the ticket waits for, else the desk's. A spec given
        keeps the skills the ticket waits for. When nobody is eligible the ticket is
        queued, remembering the assignment asked for it (``spec``; with ``asked``, also the
        desk's, which a caller asked for by name)."""
        ticket = change.ticket
        at = at or change.now
        if not ticket.is_active:
            return False
        waiting = self._waiting_for(ticket)
        if spec is None:
            spec = waiting or self._default_spec
            request = spec if waiting is not None or asked else None
        else:
            if waiting is not None and not waiting.skills <= spec.skills:
                spec = evolve(spec, skills=spec.skills | waiting.skills)
            request = spec
        team = spec.team or ticket.team
        candidates = self._candidates(team, ticket.tier)
        # One cursor per team and tier: the candidates are the team's agents who may work
        # the ticket's tier, and a position in one tier's list means nothing in another's.
        cursor_key = round_robin_key(team, ticket.tier)
        cursor = 0
        carried = False  # the cursor is read from the pair's earlier key
        if spec.strategy == "round_robin":
            pending = change.cursors.get(cursor_key)
            cursor = self.store.get_cursor(cursor_key) if pending is None else pending
            if pending is None and cursor == 0:
                earlier = earlier_round_robin_key(
                    team,
                    ticket.tier,
                    teams={t.id for t in self.config.teams},
                    tiers={t.id for t in self.config.tiers},
                )
                if earlier is not None:
                    cursor = self.store.get_cursor(earlier)
                    carried = cursor != 0
        required = spec.skills | _category_skills(self.config, ticket)
        if required != spec.skills:
            spec = evolve(spec, skills=frozenset(required))
        loads = self._loads(candidates)
        stored = change.start
        if stored.assignee is not None and stored.is_active and stored.assignee in loads:
            # The stored ticket counts in its assignee's load: weigh whether they keep it
            # against their load without it.
            held = loads[stored.assignee]
            weight = self.config.assignment.weights[stored.priority]
            loads[stored.assignee] = AgentLoad(
                active=max(held.active - 1, 0), weighted=max(held.weighted - weight, 0.0)
            )
        # Every argument is the desk's own (its configuration, the loads it read, the
        # change's ticket and instant): the decision does not check them again.
        config = self.config
        weights, tier_order = self._terms(config)
        decision = decide_assignment(
            ticket,
            agents=candidates,
            spec=spec,
            loads=loads,
            now=at,
            calendars=config.calendars,
            cursor=cursor,
            tier_order=tier_order,
            weights_text=weights,
        )
        if decision.agent is not None:
            if decision.agent != ticket.assignee:
                change.emit(
                    Assigned(
                        ticket_id=ticket.id,
                        at=at,
                        by=Actor.system("assignment"),
                        assignee=decision.agent,
                        previous=ticket.assignee,
                        strategy=spec.strategy,
                        explanation=decision.explanation,
                    )
                )
            if spec.strategy == "round_robin" and (decision.cursor != cursor or carried):
                change.cursors[cursor_key] = decision.cursor  # saved with the ticket
            return True
        if ticket.queued_at is None or ticket.assignee is not None:
            change.emit(
                QueuedForAssignment(
                    ticket_id=ticket.id,
                    at=at,
                    by=Actor.system("assignment"),
                    team=team,
                    reason=decision.explanation,
                    strategy=None if request is None else request.strategy,
                    skills=() if request is None else request.skills,
                )
            )
        return False

    def _assigner(self, change: Change, at: datetime) -> bool:
        if not self._assigns(change.ticket):
            return False
        return self._auto_assign_in(change, None, at=at)

    def assign(self, ticket_id: str, agent_id: str, *, by: Identity) -> Ticket:
        """Assign the ticket to an agent (who must be configured and active)."""
        actor = self._actor(by)
        agent = self.config.agent(agent_id)
        if not agent.active:
            raise ValidationError(f"agent {agent_id!r} is inactive", field="agent_id")

        def assigned(change: Change) -> Assigned | None:
            if change.ticket.assignee == agent_id:
                return None
            return Assigned(
                ticket_id=change.ticket.id,
                at=change.now,
                by=actor,
                assignee=agent_id,
                previous=change.ticket.assignee,
                explanation=f"assigned by {actor}",
            )

        previous = self.store.load(_ticket_id(ticket_id)).assignee
        ticket = self._record(ticket_id, assigned, actor=actor, action="assign")
        if previous and previous != agent_id:
            self._offer_queue(previous)
        return ticket

    def auto_assign(self, ticket_id: str, *, strategy: str | None = None) -> Ticket:
        """Assign by ``strategy``, else by the assignment the ticket waits for, else by the
        desk's strategy (the skills a waiting ticket needs apply in every case); queues the
        ticket when nobody is available. A ticket queued so waits for that assignment,
        offered to agents who free up when the desk drains its queues (``auto_assign`` on,
        or a routing rule asking for assignment); a strategy given for a ticket already
        waiting applies to that attempt only."""
        spec = AssignSpec(strategy=strategy) if strategy is not None else None
        ticket, _, _ = self._command(
            ticket_id, lambda change: self._auto_assign_in(change, spec, asked=True)
        )
        return ticket

    def _drains(self) -> bool:
        """Whether the desk offers its queues to agents who free up: with ``auto_assign``,
        or when a routing rule asks for assignment. (With neither, the queues hold every
        ticket not yet assigned by hand, and reading them would find nothing to offer.)"""
        config = self.config
        if config.assignment.auto_assign:
            return True
        rules_of, rules_assign = self._rules_assign
        if rules_of is not config:
            rules_assign = any(r.actions.assign is not None for r in config.routing.rules)
            self._rules_assign = (config, rules_assign)
        return rules_assign

    def _offer_queue(self, agent_id: str) -> list[Ticket]:
        """An agent freed up: offer them queued tickets of their teams, in queue order
        (see :meth:`_drains`)."""
        if not self.config.has_agent(agent_id) or not self._drains():
            return []
        agent = self.config.agent(agent_id)
        assigned: list[Ticket] = []
        for team in agent.teams:
            assigned.extend(ticket for ticket, ok, _ in self._offer_team(team) if ok)
        return assigned

    def _offer_team(
        self, team: str, now: datetime | None = None
    ) -> Iterator[tuple[Ticket, bool, list[Event]]]:
        """Offer the team's queued tickets in queue order, each in its own command, while an
        agent of the team could take one; yields each command's ticket, whether it was
        assigned and its events. With ``auto_assign`` off, only tickets waiting for an
        assignment asked for them are offered. A refused ticket (it needs a skill or tier
        no free agent has) does not hold up the tickets behind it; those that need the same
        are not offered again in this pass (nothing changed that could take them)."""
        free_at = self._now(now)
        if not self._anyone_free(team, free_at):
            return
        queued = [t for t in self._queued(team) if t.queued_at is not None and self._assigns(t)]
        if not queued:
            return
        refused: set[tuple[str | None, frozenset[str], tuple[str, ...], Priority]] = set()
        assigned = False  # since the team was last found to have someone free
        for ticket in queue_order(queued, order=self.config.assignment.queue_order):
            needs = (
                ticket.tier,
                _category_skills(self.config, ticket),
                ticket.queued_skills,
                ticket.priority,
            )
            if needs in refused:
                continue
            if assigned:
                if not self._anyone_free(team, free_at):
                    return
                assigned = False
            result = self._command(ticket.id, self._take_from_queue, now=now)
            if result[1] is None:
                continue  # no longer waiting: another process assigned or closed it
            yield result[0], result[1], result[2]
            if result[1]:
                assigned = True
            else:
                refused.add(needs)

    def _take_from_queue(self, change: Change) -> bool | None:
        """Auto-assign a ticket offered from its team's queue; None when the ticket, as
        loaded, no longer waits there (the queue was read before another process took
        it): nothing is recorded then."""
        ticket = change.ticket
        if (
            ticket.assignee is not None
            or ticket.queued_at is None
            or not ticket.is_active
            or not self._assigns(ticket)
        ):
            return None
        return self._auto_assign_in(change, None)

    def _anyone_free(self, team: str, now: datetime) -> bool:
        """Whether an agent of ``team`` could take a ticket at ``now`` (active, not away,
        on shift, below capacity). When nobody could, every queued ticket of the team would
        be refused, so offering them is skipped."""
        loads = self.store.agent_loads()
        calendars = self.config.calendars
        for agent in self._candidates(team, None):
            if not agent.active or agent.away:
                continue
            if sum(loads.get(agent.id, {}).values()) >= agent.capacity:
                continue
            calendar = calendars.get(agent.calendar) if agent.calendar is not None else None
            if calendar is None or calendar.is_open(now):
                return True
        return False

    def _queued(self, team: str) -> list[Ticket]:
        """The team's waiting tickets a drain looks at: the :data:`_QUEUE_WINDOW` that have
        waited longest (by ``queued_at``) the desk may assign; with ``most_urgent`` order
        and a longer queue, the longest-waiting of each priority, most urgent first, up to
        that many in all (a long queue of routine tickets never hides a critical one).
        Only tickets waiting for an assignment (``queued``) are read: unassigned tickets
        nobody asked to assign, which agents pick by hand when ``auto_assign`` is off,
        neither fill the window nor cost a read (the store serves the query from its
        index of waiting tickets, in its order)."""
        window = _QUEUE_WINDOW
        queries = self._queue_queries.get(team)
        if queries is None or queries[0].limit != window:
            queries = [
                _queue_query(team, priority=level, limit=window)
                for level in [None, *((p,) for p in sorted(Priority, key=lambda p: p.rank))]
            ]
            self._queue_queries[team] = queries
        first, more = self._assignable(queries[0], window)
        if not more or self.config.assignment.queue_order != "most_urgent":
            return first
        found: list[Ticket] = []
        for query in queries[1:]:
            wanted = window - len(found)
            if wanted <= 0:
                break
            found.extend(self._assignable(query, wanted)[0])
        return found

    def _assignable(self, query: TicketQuery, wanted: int) -> tuple[list[Ticket], bool]:
        """The first ``wanted`` tickets of the queue ``query`` selects that the desk may
        assign (:meth:`_assigns`), and whether more of the queue lies beyond them. With
        ``auto_assign`` on, that is every waiting ticket; off, the pages are read on past
        tickets that wait without an assignment asked for them (queued while it was on,
        now left to be picked by hand), so they never hide one a rule asked for."""
        if query.limit != wanted:
            query = evolve(query, limit=wanted)
        if self.config.assignment.auto_assign:
            page = self.store.query(query)
            return list(page.items), page.next_offset is not None
        found: list[Ticket] = []
        while True:
            page = self.store.query(query)
            found.extend(t for t in page.items if self._assigns(t))
            if len(found) >= wanted or page.next_offset is None:
                return found[:wanted], len(found) > wanted or page.next_offset is not None
            query = evolve(query, offset=page.next_offset)

    # ------------------------------------------------------------------ conversation
    def reply(
        self,
        ticket_id: str,
        *,
        author: Identity,
        body: str,
        public: bool = True,
        channel: Channel | str | None = None,
        request_id: str | None = None,
    ) -> Ticket:
        """Add a public reply or an internal note. A requester's public reply resumes a
        pending ticket; an agent's first public reply opens a new one (lifecycle data). An
        automatic move that would reopen a solved ticket is the author's reopen: without
        the ``reopen`` right it is left out and only the reply is recorded.

        ``request_id`` makes the call safe to retry, as :meth:`open`'s does: a later call
        by the same author on the same ticket with that request id and the same ``body``,
        ``public`` and ``channel`` adds nothing and returns the ticket as the author may
        see it now; one with another body, visibility or channel than the comment the
        request added is refused with a ValidationError naming the request id and, as
        ``field``, the argument that differs, and adds nothing."""
        actor = self._actor(author, field="author")
        if request_id is None:
            return self._reply(ticket_id, actor, body, public, channel)[0]
        check_name(request_id, "request_id")
        self._check_reply(actor, body, public)
        asked = to_optional_channel(channel)
        scope = f"{actor}\n{_ticket_id(ticket_id)}"

        def first() -> Ticket:
            ticket, comment_id = self._reply(ticket_id, actor, body, public, asked)
            # Which comment the request added, for a retry to compare with.
            self.store.set_cursor(
                request_key(f"{scope}\n{comment_id}", request_id), ticket.number
            )
            return ticket

        def again(number: int) -> Ticket:
            ticket = self.get(ticket_id, as_=actor)
            self._check_same_reply(request_id, scope, ticket.id, actor, (body, public, asked))
            return ticket

        return self._once(request_key(scope, request_id), request_id, first, again)

    def _check_reply(self, actor: Actor, body: Any, public: Any) -> None:
        if not isinstance(body, str):
            raise ValidationError("body must be text", field="body")
        if not body.strip():
            raise ValidationError("a reply needs a body", field="body")
        self.config.limits.check_body(body, field="body")
        if not isinstance(public, bool):
            raise ValidationError("public must be true or false", field="public")
        if actor.is_requester and not public:
            raise ValidationError("requesters cannot write internal notes", field="public")

    def _check_same_reply(
        self,
        request_id: str,
        scope: str,
        ticket_id: str,
        actor: Actor,
        asked: tuple[str, bool, Channel | None],
    ) -> None:
        """Refuse (ValidationError, ``field`` the argument) a retry of the reply request
        ``request_id`` by ``actor`` that asks for another comment than the one the request
        added. A request recorded without its comment (by an earlier version of the
        library) is taken for a retry when one of the author's comments is the one asked
        for."""
        mine = [
            event
            for event in self.store.events(ticket_id)
            if isinstance(event, CommentAdded) and event.by == actor
        ]
        added = next(
            (
                event
                for event in reversed(mine)
                if self.store.get_cursor(request_key(f"{scope}\n{event.comment_id}", request_id))
            ),
            None,
        )
        if added is None:
            if not mine or any((e.body, e.public, e.channel) == asked for e in mine):
                return
            added = mine[-1]
        recorded = (added.body, added.public, added.channel)
        for name, value, was in zip(("body", "public", "channel"), asked, recorded, strict=True):
            if value != was:
                raise _refuse_reused(request_id, name, "the comment the request added")

    def _reply(
        self,
        ticket_id: str,
        actor: Actor,
        body: Any,
        public: Any,
        channel: Channel | str | None,
    ) -> tuple[Ticket, str]:
        """:meth:`reply` without a request id: the ticket and the new comment's id."""
        self._check_reply(actor, body, public)
        comment_id = self.ids.new_id("comment")

        def decide(change: Change) -> None:
            _refuse_closed(change.ticket, "reply")
            previous.append(_working_on(change.ticket))
            change.emit(
                CommentAdded(
                    ticket_id=change.ticket.id,
                    at=change.now,
                    by=actor,
                    comment_id=comment_id,
                    body=body,
                    public=public,
                    channel=channel,
                )
            )
            moved = False
            if public and actor.is_requester:
                moved = self._auto_move(change, "requester_public_reply", actor)
            elif public and actor.is_agent:
                moved = self._auto_move(change, "agent_public_reply", actor)
            if moved:  # as a transition by name would: CSAT, the problem's known error
                self._after_moves(change, actor)
            solved.append(change.entered(_SOLVED))

        previous: list[str | None] = []
        solved: list[bool] = []
        action = "reply" if public else "note"
        ticket, _, events = self._command(ticket_id, decide, actor=actor, action=action)
        self._after_moved(ticket, events, previous[-1], solved[-1])
        return ticket, comment_id

    def _auto_move(self, change: Change, trigger: str, actor: Actor) -> bool:
        """Apply the automatic move that ``actor``'s reply sets off (``trigger``), if any.
        A move that reopens the ticket is ``actor``'s reopen: without the right to reopen
        it, the ticket stays where it is, as when a guard refuses the move (the reply is
        kept)."""
        ticket = change.ticket
        if ticket.status_category is _SOLVED:
            lifecycle = self._decider.lifecycle(ticket)
            transition = lifecycle.automatic_transition(trigger, ticket.status)
            if transition is None:
                return False
            if self._transition_action(ticket, transition.name) == "reopen":
                try:
                    self._check_access(actor, ticket, "reopen")
                except AccessDenied:
                    return False
        return change.auto_move(trigger, by=actor)

    # ------------------------------------------------------------------ lifecycle
    def transition(
        self,
        ticket_id: str,
        to: str,
        *,
        by: Identity,
        reason: str | None = None,
        resolution: str | None = None,
        first_contact: bool = False,
    ) -> Ticket:
        """Apply a lifecycle transition by name (``"pend"``) or target status
        (``"pending"``); ``InvalidTransition`` names the ticket, status and guard."""
        return self._move(
            ticket_id, to, shortcut=False, by=by, reason=reason, resolution=resolution,
            first_contact=first_contact,
        )

    def _move(
        self,
        ticket_id: str,
        to: str,
        *,
        shortcut: bool,
        by: Identity,
        reason: str | None = None,
        resolution: str | None = None,
        first_contact: bool = False,
    ) -> Ticket:
        """:meth:`transition`, or with ``shortcut`` one of the shortcuts (``to`` is
        ``"solve"``, ``"reopen"``, ``"close"`` or ``"cancel"``), which takes the move of
        the ticket's lifecycle that does what the default move of that name does
        (:func:`~helpdesk_core.workflow.shortcut_move`), checked for access and guarded as
        that move asked for by name."""
        actor = self._actor(by)
        if not isinstance(to, str) or not to:
            raise ValidationError("say which transition or status", field="to")
        self.config.limits.check_body(reason, field="reason")
        self.config.limits.check_body(resolution, field="resolution")
        previous: list[str | None] = []
        solved: list[bool] = []
        # The ticket a shortcut's move was last found for, and the move (the access check
        # finds it, and the decision takes it for the same ticket).
        found: tuple[Ticket | None, str] = (None, to)

        def move_of(ticket: Ticket) -> str:
            nonlocal found
            if not shortcut:
                return to
            if found[0] is not ticket:
                found = (ticket, shortcut_move(self._decider.lifecycle(ticket), ticket, to))
            return found[1]

        def action(ticket: Ticket) -> str:
            try:
                name = move_of(ticket)
            except InvalidTransition:  # several moves qualify: refused once access allows
                name = to
            return self._transition_action(ticket, name)

        def decide(change: Change) -> None:
            previous.append(_working_on(change.ticket))
            change.transition(
                move_of(change.ticket),
                by=actor,
                reason=reason,
                resolution=resolution,
                first_contact=first_contact,
            )
            self._after_moves(change, actor)
            solved.append(change.entered(_SOLVED))

        ticket, _, events = self._command(ticket_id, decide, actor=actor, action=action)
        self._after_moved(ticket, events, previous[-1], solved[-1])
        return ticket

    def _after_moves(self, change: Change, actor: Actor) -> None:
        """Inside a command that moved the ticket: what a move into solved asks for (a
        CSAT request, the resolution of a problem's known error)."""
        self._after_status(change)
        self._after_problem_status(change, actor)

    def _after_moved(
        self, ticket: Ticket, events: Sequence[Event], worker: str | None, solved: bool
    ) -> None:
        """After a command that may have moved the ticket: offer the queue to the agent it
        no longer keeps busy, and pass a problem's solution on to its tickets when the
        command solved it."""
        if not ticket.is_active and worker:
            self._offer_queue(worker)
        if solved:
            self._problem_solved(ticket, events)

    def _transition_action(self, ticket: Ticket, to: str) -> str:
        """The access action of moving ``ticket`` by ``to``: ``"reopen"`` when the move
        it names leaves a solved status for an active one (requesters may do that), else
        ``"transition"``, whatever the move is called. When no move leaves the status by
        that name, the name says it (nothing moves: the lifecycle refuses)."""
        step = self._decider.lifecycle(ticket).step(ticket.status, to)
        if step is None:
            return "reopen" if to in ("reopen", "open") else "transition"
        reopens = ticket.status_category is _SOLVED and step.category.is_active
        return "reopen" if reopens else "transition"

    def _after_status(self, change: Change) -> None:
        """A move into solved asks for a rating (when the desk asks for them), unless the
        ticket was rated already: a ticket is rated once, so a second request (a ticket
        reopened after its rating and solved again) would ask for one that is refused."""
        ticket = change.ticket
        last = change.events[-1] if change.events else None
        if (
            change.entered(_SOLVED)
            and self.config.settings.csat_on_solve
            and ticket.satisfaction is None
            and not any(isinstance(e, CsatRequested) for e in change.events)
            and last is not None
        ):
            change.emit(CsatRequested(ticket_id=ticket.id, at=change.now, by=Actor.system("csat")))

    def solve(
        self,
        ticket_id: str,
        *,
        by: Identity,
        resolution: str,
        first_contact: bool = False,
    ) -> Ticket:
        """Solve the ticket with a resolution note (guards: a public response first, unless
        ``first_contact``). Emits a CSAT request when the desk asks for ratings.

        The move named ``solve``; on a lifecycle that has none from the ticket's status,
        the one move from an active status into a solved one (the same for
        :meth:`reopen`, :meth:`close` and :meth:`cancel`: see
        :mod:`helpdesk_core.workflow.shortcuts`; several such moves are refused with an
        ``InvalidTransition`` naming them)."""
        return self._move(
            ticket_id, "solve", shortcut=True, by=by, resolution=resolution,
            first_contact=first_contact,
        )

    def reopen(self, ticket_id: str, *, by: Identity, reason: str) -> Ticket:
        """Reopen a solved ticket within the lifecycle's reopen window: the move named
        ``reopen``, else the one move from a solved status into an active one."""
        return self._move(ticket_id, "reopen", shortcut=True, by=by, reason=reason)

    def close(self, ticket_id: str, *, by: Identity, reason: str | None = None) -> Ticket:
        """Close a solved ticket (closed is terminal): the move named ``close``, else the
        one move into a closed status that leaves solved statuses only."""
        return self._move(ticket_id, "close", shortcut=True, by=by, reason=reason)

    def cancel(self, ticket_id: str, *, by: Identity, reason: str) -> Ticket:
        """Cancel a ticket that is not closed, with a reason: the move named ``cancel``,
        else the one move into a closed status that also leaves an active status (it
        ends a ticket that was not solved)."""
        return self._move(ticket_id, "cancel", shortcut=True, by=by, reason=reason)

    # ------------------------------------------------------------------ escalation
    def escalate(
        self,
        ticket_id: str,
        *,
        by: Identity,
        reason: str,
        to_tier: str | None = None,
        team: str | None = None,
        allow_skip: bool = False,
    ) -> Ticket:
        """Functional escalation to the next (or the given) higher tier; the team and the
        assignee change, the owner stays; the ticket is then auto-assigned in the new tier."""
        return self._move_tier(
            ticket_id, up=True, by=by, reason=reason, to_tier=to_tier, team=team,
            allow_skip=allow_skip,
        )

    def de_escalate(
        self,
        ticket_id: str,
        *,
        by: Identity,
        reason: str,
        to_tier: str | None = None,
        team: str | None = None,
        allow_skip: bool = False,
    ) -> Ticket:
        """Functional de-escalation to the next lower (or the given) tier; going down more
        than one tier (back to the service desk from a tier a policy skipped to) needs
        ``allow_skip``, as escalating does."""
        return self._move_tier(
            ticket_id, up=False, by=by, reason=reason, to_tier=to_tier, team=team,
            allow_skip=allow_skip,
        )

    def _team_left(self, ticket: Ticket, to_tier: str | None) -> str | None:
        """The team ``ticket`` last had in the tier it goes down to (``to_tier``, else the
        next one below), when that team still works the tier: where a de-escalation takes
        it back to. None (the tier's default team) when it was never there, or when the
        move will be refused anyway."""
        ladder = self.config.ladder
        if to_tier is None:
            here = ticket.tier
            below = ladder.next_below(here) if here is not None and here in ladder else None
            to_tier = below.id if below is not None else None
        if to_tier is None or to_tier not in ladder:
            return None
        last: str | None = None
        state: Ticket | None = None
        for event in self.store.events(ticket.id):  # a de-escalation is rare: read it all
            state = replay([event]) if state is None else apply_event(state, event)
            if state.tier == to_tier and state.team is not None:
                last = state.team
        return last if last in ladder.get(to_tier).teams else None

    def _move_tier(
        self,
        ticket_id: str,
        *,
        up: bool,
        by: Identity,
        reason: str,
        to_tier: str | None,
        team: str | None,
        allow_skip: bool = False,
    ) -> Ticket:
        actor = self._actor(by)
        self._check_team(team)
        self.config.limits.check_body(reason, field="reason")
        previous: list[str | None] = []

        def decide(change: Change) -> None:
            previous.append(_working_on(change.ticket))
            ladder = self.config.ladder
            if up:
                _, events = escalate(
                    change.ticket, ladder, by=actor, now=change.now, reason=reason,
                    to_tier=to_tier, team=team, allow_skip=allow_skip,
                )
            else:
                back = team if team is not None else self._team_left(change.ticket, to_tier)
                _, events = de_escalate(
                    change.ticket, ladder, by=actor, now=change.now, reason=reason,
                    to_tier=to_tier, team=back, allow_skip=allow_skip,
                )
            change.extend(events)
            if self._assigns(change.ticket):
                self._auto_assign_in(change, None)

        ticket, _, _ = self._command(ticket_id, decide, actor=actor, action="escalate")
        if previous and previous[-1] and previous[-1] != ticket.assignee:
            self._offer_queue(previous[-1])
        return ticket

    def raise_level(self, ticket_id: str, *, by: Identity, reason: str) -> Ticket:
        """Hierarchical escalation: raise the level and notify its contact; the ticket
        does not move."""
        actor = self._actor(by)
        self.config.limits.check_body(reason, field="reason")

        def decide(change: Change) -> LevelRaised | None:
            team = change.ticket.team
            contacts = self.config.team(team).contacts if team else ()
            _, events = raise_level(
                change.ticket, contacts=contacts, by=actor, now=change.now, reason=reason
            )
            change.extend(events)
            return None

        ticket, _, _ = self._command(ticket_id, decide, actor=actor, action="escalate")
        return ticket

    def _check_team(self, team: str | None) -> None:
        if team is not None:
            self.config.team(team)

    # ------------------------------------------------------------------ fields
    def set_priority(
        self, ticket_id: str, priority: Priority | str, *, by: Identity, reason: str = ""
    ) -> Ticket:
        """Change the priority; running SLA clocks are retargeted from their original
        start, keeping the time used and the pauses taken."""
        actor = self._actor(by)
        new = Priority.parse(priority, field="priority")
        if not isinstance(reason, str):
            raise ValidationError("reason must be text", field="reason")
        self.config.limits.check_body(reason, field="reason")

        def priority_changed(change: Change) -> PriorityChanged | None:
            _refuse_closed(change.ticket, "set_priority")
            if change.ticket.priority is new:
                return None
            return PriorityChanged(
                ticket_id=change.ticket.id,
                at=change.now,
                by=actor,
                priority=new,
                previous=change.ticket.priority,
                reason=reason,
            )

        return self._record(ticket_id, priority_changed, actor=actor, action="set_priority")

    def update(
        self,
        ticket_id: str,
        *,
        by: Identity,
        reason: str | None = None,
        **changes: Any,
    ) -> Ticket:
        """Edit ticket fields (category, type, impact, urgency, subject, asset, tags,
        fields, team, tier, sla_policy). A new impact or urgency derives the priority
        again from the matrix, unless the priority was set explicitly (or by a routing
        rule to another value than the matrix's); running SLA clocks are retargeted as
        for :meth:`set_priority`."""
        actor = self._actor(by)
        allowed = {
            "category",
            "type",
            "impact",
            "urgency",
            "subject",
            "asset",
            "tags",
            "fields",
            "team",
            "tier",
            "sla_policy",
        }
        refuse_unknown(changes, allowed, what="cannot update")
        limits = self.config.limits
        limits.check_subject(changes.get("subject"))  # (named by the limit before the model's)
        change_value = Changes(**changes)  # tags: sorted, without duplicates
        limits.check_subject(change_value.category, field="category")
        _check_category(change_value.category)
        limits.check_subject(change_value.asset, field="asset")
        limits.check_tags(change_value.tags)
        limits.check_fields(change_value.fields)
        limits.check_body(reason, field="reason")
        if change_value.subject is not None and not change_value.subject.strip():
            raise ValidationError("must not be empty", field="subject")
        if change_value.team is not None:
            self.config.team(change_value.team)
        if change_value.tier is not None and all(
            tier.id != change_value.tier for tier in self.config.tiers
        ):
            known = ", ".join(tier.id for tier in self.config.tiers) or "none"
            raise ValidationError(
                f"unknown tier {change_value.tier!r} (the ladder: {known})", field="tier"
            )
        if change_value.sla_policy is not None:
            self.config.sla_policy(change_value.sla_policy)
        if change_value.type is not None and change_value.type not in self.config.ticket_types:
            raise ValidationError(f"unknown ticket type {change_value.type!r}", field="type")

        def updated(change: Change) -> TicketUpdated | None:
            if change_value.is_empty:
                return None
            changes = _intake_changes(self.config, change.ticket, change_value)
            changes = _unchanged_dropped(change.ticket, changes)
            changes = _derived_priority(self.config, change.ticket, changes)
            if changes.is_empty:
                return None  # only blank answers or the values it has: nothing to record
            if changes.fields:
                limits.check_fields({**change.ticket.fields, **changes.fields})
            return TicketUpdated(
                ticket_id=change.ticket.id,
                at=change.now,
                by=actor,
                changes=changes,
                reason=reason,
            )

        return self._record(ticket_id, updated, actor=actor, action="update")

    def link(
        self,
        ticket_id: str,
        *,
        kind: LinkKind | str,
        other: str,
        by: Identity | None = None,
    ) -> Ticket:
        """Link the ticket to another: ``duplicate_of``, ``caused_by``, ``follow_up_of``.
        ValidationError naming ``other`` when it cannot be a ticket id; NotFound when it
        does not exist, or is purged before the link commits (the link is then undone: no
        link is left to a ticket that is gone)."""
        actor = self._actor(by) if by is not None else SYSTEM
        link_kind = LinkKind.parse(kind, field="kind")
        other = _ticket_id(other, field="other")
        if not is_identifier(other):  # no ticket has it: refused before any store is asked
            raise ValidationError(f"{other!r} cannot be a ticket id", field="other")
        if other == ticket_id:
            raise ValidationError("a ticket cannot link to itself", field="other")

        def linked(change: Change) -> Linked | None:
            target = self.store.load(other)  # after the access check: no probing
            if actor.kind is not ActorKind.SYSTEM:
                try:
                    self._check_view(actor, target)
                except AccessDenied:
                    # A ticket the actor may not see reads as one that does not exist.
                    raise NotFound("ticket", other) from None
            if link_kind is LinkKind.CAUSED_BY and self._causes(change.ticket.id, target):
                raise ValidationError(
                    f"ticket {other} is caused by ticket {change.ticket.id}: the link would "
                    "make a cycle",
                    field="other",
                )
            if other in change.ticket.linked(link_kind):
                return None
            return Linked(
                ticket_id=change.ticket.id, at=change.now, by=actor, kind=link_kind, other=other
            )

        # The target is read again once the link is written, in its unit of work: a
        # retention pass that purged it meanwhile has committed by then (NotFound, and
        # the link is undone), or reads the tickets linking to it only after this link
        # is committed, and drops it with the purge. Either way no link is left to a
        # ticket that is gone.
        return self._record(
            ticket_id,
            linked,
            actor=actor,
            action="link",
            confirm=partial(self.store.load, other),
        )

    def _causes(self, ticket_id: str, start: Ticket) -> bool:
        """Whether ``start`` is caused by ``ticket_id``, directly or down its chain of
        ``caused_by`` links."""
        seen = {start.id}
        frontier = [start]
        while frontier:
            current = frontier.pop()
            for cause in current.linked(LinkKind.CAUSED_BY):
                if cause == ticket_id:
                    return True
                if cause not in seen and len(seen) < _MAX_LINK_WALK:
                    seen.add(cause)
                    try:
                        frontier.append(self.store.load(cause))
                    except NotFound:  # purged
                        continue
        return False

    def rate(
        self,
        ticket_id: str,
        *,
        score: int,
        comment: str = "",
        by: Identity | None = None,
    ) -> Ticket:
        """Record the requester's satisfaction rating (1-5) once, on a solved or closed
        ticket."""
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise ValidationError(
                f"a score is a whole number from 1 to 5, got {score!r}", field="score"
            )
        if not isinstance(comment, str):
            raise ValidationError("comment must be text", field="comment")
        self.config.limits.check_body(comment, field="comment")

        def rated(change: Change) -> Rated:
            ticket = change.ticket
            if ticket.is_active:
                raise InvalidTransition(
                    f"ticket {ticket.id} is not solved yet: it cannot be rated",
                    ticket_id=ticket.id,
                    status=ticket.status,
                    transition="rate",
                )
            if ticket.satisfaction is not None:
                raise InvalidTransition(
                    f"ticket {ticket.id} was rated already",
                    ticket_id=ticket.id,
                    status=ticket.status,
                    transition="rate",
                )
            return Rated(
                ticket_id=ticket.id,
                at=change.now,
                by=actor or Actor.requester(ticket.requester),
                score=score,
                comment=comment,
            )

        actor = self._actor(by) if by is not None else None
        return self._record(ticket_id, rated, actor=actor, action="rate")

    # ------------------------------------------------------------------ time
    def tick(self, now: datetime | None = None) -> list[Event]:
        """Record everything due up to ``now`` (default: the clock): SLA warnings and
        breaches stamped with their exact instants, escalations, auto-closes; then offer
        queued tickets to agents who came on shift. Idempotent; the events it records
        and their instants do not depend on how often it is called, except the offers of
        queued tickets, which go to the agents on shift at ``now`` (a tick at every
        :meth:`next_wakeup` meets every shift start). A ticket that cannot be brought up to
        date, or assigned from its queue, does not hold up the others: the tick does the
        rest, then raises :class:`~helpdesk_core.errors.TickError` naming it (and holding
        what was recorded); so does a retention pass that fails (named ``retention
        pass``)."""
        at = self._now(now)
        recorded: list[Event] = []
        failures: dict[str, Exception] = {}
        seen: set[str] = set()
        while True:
            # Claiming leases each ticket to this desk, so several workers sweeping the
            # same store never take the same ticket, and a ticket with nothing to record
            # (it stays leased) does not come back in this sweep.
            claimed = [
                t for t in self.store.claim_due(at, worker=self._worker, limit=100)
                if t not in seen
            ]
            if not claimed:
                break
            for ticket_id in claimed:
                seen.add(ticket_id)
                try:
                    ticket, _, events = self._command(ticket_id, lambda change: None, now=at)
                    if not events:
                        self._wake_again(ticket)
                except StoreClosedError:
                    raise
                except Exception as exc:
                    # One ticket that cannot be brought up to date must not hold up the
                    # others (it would come first in every sweep): go on, raise at the end.
                    log.exception("tick: ticket %s could not be brought up to date", ticket_id)
                    failures.setdefault(ticket_id, exc)
                    continue
                recorded.extend(events)
        recorded.extend(self._drain_queues(at, failures))
        settings = self.config.privacy
        last = self._retention_checked_at
        if settings.retention and (last is None or at - last >= settings.check_every):
            try:
                recorded.extend(self.apply_retention(at))
            except StoreClosedError:
                raise
            except Exception as exc:
                # As a ticket's failure: the events recorded so far are not lost to the
                # caller, and the pass is tried again after ``check_every``.
                log.exception("tick: the retention pass failed")
                failures.setdefault("retention pass", exc)
        if failures:
            raise TickError(failures, recorded) from next(iter(failures.values()))
        return recorded

    def _drain_queues(self, now: datetime, failures: dict[str, Exception]) -> list[Event]:
        """Offer every team's queue; a ticket that cannot be assigned (its retries ran
        out, say) ends its team's offer this tick, not the other teams' nor the tick:
        it goes into ``failures``, by its id."""
        events: list[Event] = []
        if not self._drains():
            return events
        for team in self.config.teams:
            try:
                for _, _, recorded in self._offer_team(team.id, now):
                    events.extend(recorded)
            except StoreClosedError:
                raise
            except Exception as exc:
                ticket_id = getattr(exc, "ticket_id", None)
                log.exception("tick: the queue of team %s could not be offered", team.id)
                failures.setdefault(
                    ticket_id if isinstance(ticket_id, str) else f"queue of team {team.id}",
                    exc,
                )
        self._queues_offered = True
        return events

    def next_wakeup(self, *, queues: bool = True, retention: bool = True) -> datetime | None:
        """The next instant at which :meth:`tick` has work (None: nothing scheduled): the
        earliest SLA threshold, escalation or auto-close; (unless ``queues`` is false) the
        next shift start of an agent who could take a queued ticket, or now, when a ticket
        waits in the queue of a team with an agent free now and no tick of this desk has
        offered the queues since it was made or reconfigured (an agent came back, the
        process started during a shift); and (unless ``retention`` is false, and when the
        desk has retention policies) the next retention pass: ``privacy.check_every``
        after this desk's last one, or now when it has run none yet, so a desk ticked
        only at its wake-ups still forgets what its policies say it must."""
        require(queues, bool, "True or False", field="queues")
        require(retention, bool, "True or False", field="retention")
        best = self._next_ticket_wakeup()
        if retention:
            best = _earliest(best, self._next_retention_pass())
        if queues:
            best = _earliest(best, self._next_shift_start_for_queues())
        return best

    def _next_retention_pass(self) -> datetime | None:
        settings = self.config.privacy
        if not settings.retention:
            return None
        last = self._retention_checked_at
        if last is None:
            return self._clock_now()
        try:
            return last + settings.check_every
        except OverflowError:  # after the year 9999: never, as far as a desk can tell
            return None

    def _next_ticket_wakeup(self) -> datetime | None:
        ids = self.store.due(_FAR_FUTURE, limit=1)
        best: datetime | None = None
        if ids:
            ticket = self.store.load(ids[0])
            known = self._woken(ticket)
            best = (
                self._decider.wake_at(ticket, self._requester_of(ticket), rearm=True)
                if known is _UNSEEN
                else known
            )
        return best

    def _next_shift_start_for_queues(self) -> datetime | None:
        if not self._drains():  # a tick offers no queue: a shift start is no work for it
            return None
        now = self._clock_now()
        best: datetime | None = None
        if not self._queues_offered and any(
            self._anyone_free(team.id, now) and self._has_queued(team.id)
            for team in self.config.teams
        ):
            return now
        for team in self.config.teams:
            earliest: datetime | None = None
            for agent in self.config.agents_of(team=team.id):
                if not agent.active or agent.away or agent.calendar is None:
                    continue
                calendar = self.config.calendars[agent.calendar]
                if calendar.is_open(now):
                    continue
                start = calendar.next_open(now)
                if earliest is None or start < earliest:
                    earliest = start
            # The store is asked only when the team's shift start would be the answer.
            if (
                earliest is not None
                and (best is None or earliest < best)
                and self._has_queued(team.id)
            ):
                best = earliest
        return best

    def _has_queued(self, team: str) -> bool:
        """Whether a ticket waits in the team's queue for the desk to assign it (read a
        few at a time: the first waiting ticket nearly always is one)."""
        query = _queue_query(team, limit=20)
        while True:
            page = self.store.query(query)
            if any(t.queued_at is not None and self._assigns(t) for t in page.items):
                return True
            if page.next_offset is None:
                return False
            # past the first few: the rest of the queue in long pages
            query = evolve(query, offset=page.next_offset, limit=_QUEUE_WINDOW)

    # ------------------------------------------------------------------ reading
    def get(self, ticket_id: str, *, as_: Identity | None = None) -> Ticket:
        """The ticket as of its latest event; with ``as_``, only if that identity may see
        it (AccessDenied otherwise), and without its known error for a requester (nor,
        on a colleague's ticket, the answers to questions marked ``personal``), nor its
        links to tickets that identity may not view.

        Access is checked as a command's is: an identity refused on the stored ticket
        reads it when the ticket as a tick would leave it now lets them in (an escalation
        due, not yet recorded, that moves it into their team). The read writes nothing
        and returns the stored ticket, as the role that check gave."""
        ticket = self.store.load(_ticket_id(ticket_id))
        if as_ is not None:
            actor = self._actor(as_, field="as_")
            role = self._check_view(actor, ticket)
            return self._shown(actor, role, ticket)
        return ticket

    def history(self, ticket_id: str, *, as_: Identity | None = None) -> list[Event]:
        """The ticket's events, oldest first; with ``as_``, only if that identity may see
        the ticket (checked as :meth:`get` checks it: the stored events, never those of
        due work not yet recorded), and without internal notes or the known error for
        requesters (nor, on a colleague's ticket, the answers to questions marked
        ``personal``), and without naming the tickets that identity may not view (see
        :func:`~helpdesk_core.privacy.visible_events`' ``hidden_tickets``)."""
        ticket_id = _ticket_id(ticket_id)
        events = self.store.events(ticket_id)
        if not events:
            raise NotFound("ticket", ticket_id)
        if as_ is not None:
            actor = self._actor(as_, field="as_")
            ticket = self.store.load(ticket_id)
            role = self._check_view(actor, ticket)
            colleague = _colleague(actor, ticket)
            events = visible_events(
                events,
                role=role,
                hidden_fields=self._hidden_fields(actor, ticket),
                colleague=colleague,
                hidden_tickets=self._unseen(
                    actor, role, _named_tickets(events, earlier=not colleague)
                ),
            )
        return events

    def sla(
        self, ticket_id: str, *, now: datetime | None = None, as_: Identity | None = None
    ) -> dict[str, SlaView]:
        """Live SLA figures of the ticket's clocks (state, target, used, remaining,
        deadline, breached_at) at ``now`` (default: the clock, or the ticket's latest
        event if that is later, as a command would stamp: another process whose clock
        runs a little ahead may have changed it), read on the ticket as a tick at ``now``
        would leave it (worked out in memory, never saved): a clock that a reconfiguration
        retargets at its next tick shows its new target, not a breach at its old deadline.
        With ``as_``, only if that identity may see the ticket (AccessDenied otherwise;
        checked as :meth:`get` checks it, at the clock's instant whatever ``now`` says).
        An explicit ``now`` before a running clock's last change is refused
        (``ValidationError``)."""
        ticket = self.store.load(_ticket_id(ticket_id))
        if as_ is not None:
            self._check_view(self._actor(as_, field="as_"), ticket)
        at = self._stamp(ticket) if now is None else desk_instant(now, field="now")
        if at >= ticket.updated_at:
            current = self._caught_up(ticket, at)
            if current is not None:
                ticket = current
        return sla_view(ticket, self.config.calendars, at)

    def search(
        self,
        query: TicketQuery | None = None,
        *,
        as_: Identity | None = None,
        **filters: Any,
    ) -> Page[Ticket]:
        """A page of tickets: pass a :class:`TicketQuery` or its fields as keywords. With
        ``as_``, only the tickets that identity may see (a requester: their own; an
        agent: their teams', unrouted ones and those assigned to or owned by them), as
        :meth:`get` shows them to it."""
        if query is not None and not isinstance(query, TicketQuery):
            raise ValidationError(
                f"query is a TicketQuery, got {type(query).__name__}", field="query"
            )
        refuse_unknown(
            filters, (a.name for a in attrs.fields(TicketQuery)), what="unknown search filter(s)"
        )
        if query is None:
            query = TicketQuery(**filters)
        elif filters:
            query = evolve(query, **filters)
        _check_search_names(self.config, query)
        if as_ is None:
            return self.store.query(query)
        actor = self._actor(as_, field="as_")
        if actor.kind is ActorKind.SYSTEM:
            return self.store.query(query)
        if actor.is_agent:
            agent = self.config.agent(actor.id)
            if agent.active and self.config.privacy.access.role_of(agent) is Role.ADMIN:
                return self.store.query(query)
        if actor.is_requester and actor.id == ANONYMOUS_REQUESTER:
            return Page(items=(), total=0)  # anonymised tickets belong to nobody
        if query.links_to:
            # A ticket the reader may not view is one nothing links to for them: the
            # filter does not tell which of their tickets link to it.
            hidden = self._unseen(actor, self._role_of(actor), query.links_to)
            if hidden:
                kept = tuple(i for i in query.links_to if i not in hidden)
                if not kept:
                    return Page(items=(), total=0)
                query = evolve(query, links_to=kept)
        if actor.is_requester and query.scope is None:
            # The requester's view as a query: the store filters and pages it.
            scope = self._requester_scope(actor.id)
            if scope is None or query.anonymised is True:
                return Page(items=(), total=0)
            page = self.store.query(evolve(query, scope=scope, anonymised=False))
        elif actor.is_agent and query.scope is None:
            # The agent's view as a query: the store filters and pages it.
            scope = self._agent_scope(actor.id)
            if scope is None:
                return Page(items=(), total=0)
            page = self.store.query(evolve(query, scope=scope))
        else:
            page = self._filtered_search(query, actor)
        role = self._role_of(actor)
        unseen = self._unseen(actor, role, (link.other for t in page.items for link in t.links))
        if actor.is_requester or unseen:
            shown = tuple(self._shown(actor, role, t, unseen) for t in page.items)
            page = evolve(page, items=shown)
        return page

    def _agent_scope(self, agent_id: str) -> TicketScope | None:
        """What a (non-admin) agent may view, as a scope (None: nothing, they are
        inactive): the same rule as :meth:`AccessPolicy.decide`'s for agents."""
        agent = self.config.agent(agent_id)
        teams = self.config.privacy.access.agent_teams(agent, self.config.teams)
        if not agent.active:
            return None
        return TicketScope(teams=teams, unrouted=True, agent=agent.id)

    def _requester_scope(self, requester_id: str) -> TicketScope | None:
        """What a requester may view, as a scope (None: nothing): the same rule as
        :meth:`AccessPolicy.decide`'s for requesters; anonymised tickets, which belong to
        nobody, are left out by the caller."""
        policy = self.config.privacy.access
        if "view" not in policy.requester_actions:
            return None
        organization = None
        if policy.requesters_see_organization:
            try:
                organization = self.store.get_requester(requester_id).organization
            except NotFound:
                organization = None
        return TicketScope(requester=requester_id, organization=shared_organization(organization))

    def _filtered_search(self, query: TicketQuery, actor: Actor) -> Page[Ticket]:
        """Run ``query`` over every match, keep what ``actor`` may view, then cut the
        page asked for (cost: one pass over the unfiltered matches, read in number order
        so that one written meanwhile is read once: see :func:`every_match`)."""
        visible: list[Ticket] = []
        for ticket in every_match(self.store, query):
            try:
                self._check_access(actor, ticket, "view")
            except AccessDenied:
                continue
            visible.append(ticket)
        visible.sort(key=query.sort_key)
        return query.cut(visible)  # in order: the page asked for, by offset or by after

    # ------------------------------------------------------------------ privacy
    def _personal_fields(self) -> frozenset[str]:
        """The custom fields of the questions marked ``personal``, in any category."""
        config = self.config
        known_for, names = self._personal
        if known_for is not config:
            names = frozenset(
                q.name for c in config.categories.values() for q in c.questions if q.personal
            )
            self._personal = (config, names)
        return names

    def _shown(
        self,
        actor: Actor,
        role: Role | None,
        ticket: Ticket,
        unseen: frozenset[str] | None = None,
    ) -> Ticket:
        """``ticket`` as ``actor``, allowed in as ``role``, reads it (see
        :func:`_as_seen_by`, :meth:`_hidden_fields` and :meth:`_unseen`; ``unseen``, when
        the caller worked it out for several tickets, holds at least the ids of the
        tickets this one links to that ``actor`` may not view)."""
        if unseen is None:
            unseen = self._unseen(actor, role, (link.other for link in ticket.links))
        return _as_seen_by(
            role,
            ticket,
            self._hidden_fields(actor, ticket),
            colleague=_colleague(actor, ticket),
            unseen=unseen,
        )

    def _role_of(self, actor: Actor) -> Role | None:
        """The role ``actor`` reads as: a requester's, an agent's by the access policy,
        None for automation."""
        if actor.is_requester:
            return Role.REQUESTER
        if actor.is_agent:
            return self.config.privacy.access.role_of(self.config.agent(actor.id))
        return None

    def _unseen(self, actor: Actor, role: Role | None, ids: Iterable[str]) -> frozenset[str]:
        """Of the tickets ``ids`` names (those a view names: links, earlier tickets),
        the ones ``actor``, allowed in as ``role``, may not view (checked as :meth:`get`
        checks it). None for automation and admins, who view every ticket; the tickets
        are read only when there are any to check. A ticket no longer stored (purged)
        holds nothing to hide: the events that say its links were dropped stay in view."""
        if role is None or role is Role.ADMIN:
            return _NO_IDS
        wanted = sorted(set(ids))
        if not wanted:
            return _NO_IDS
        return frozenset(
            ticket.id for ticket in self.store.get_many(wanted) if not self._may_view(actor, ticket)
        )

    def _hidden_fields(self, actor: Actor, ticket: Ticket) -> frozenset[str]:
        """The custom fields whose answers ``actor`` does not read on ``ticket``: for a
        requester reading another person's ticket (their organization's, with
        ``requesters_see_organization``), the answers to questions marked ``personal`` in
        any category, as retention anonymises them; none otherwise (the requester of the
        ticket, agents and automation read every answer)."""
        if _colleague(actor, ticket):
            return self._personal_fields()
        return _NO_FIELDS

    def _anonymise(
        self,
        ticket_id: str,
        *,
        now: datetime,
        by: Actor,
        reason: str,
        mode: str,
        publish: bool = True,
        still_due: Callable[[Ticket], bool] | None = None,
    ) -> list[Event]:
        """Rewrite one ticket's stored history without its personal data; retried on a
        concurrent change. Returns the events appended (the TicketAnonymised), published
        to subscribers unless the caller publishes them after its unit of work. With
        ``still_due``, the ticket as stored is anonymised only if it says so (another
        worker's pass may have anonymised it since it was found due)."""
        retries = self.config.settings.max_retries
        for attempt in range(retries + 1):
            events = self.store.events(ticket_id)
            if not events:
                raise NotFound("ticket", ticket_id)
            if still_due is not None and not still_due(replay(events)):
                return []
            latest = max(e.at for e in events)
            plan = plan_anonymisation(
                events,
                now=latest if latest > now else now,  # a history only grows (see _command)
                by=by,
                reason=reason,
                personal_fields=self._personal_fields(),
                mode="delete" if mode == "delete" else "anonymise",
            )
            try:
                self.store.anonymise(
                    ticket_id,
                    expected_version=plan.expected_version,
                    events=plan.events,
                    snapshot=plan.snapshot,
                    wake_at=self._decider.wake_at(
                        plan.snapshot, self._requester_of(plan.snapshot)
                    ),
                )
            except ConflictError:
                if attempt == retries:
                    raise
                continue
            self._forget_cleared(ticket_id, plan.expected_version)
            added = list(plan.added)
            if publish:
                self._publish(added)
            return added
        raise AssertionError("unreachable")

    def _purge(self, ticket: Ticket, *, now: datetime, reason: str) -> bool:
        """Remove one ticket from the store, checked against the version the retention scan
        saw. A ticket changed since is read again and purged only if it is still due (a
        reopened ticket is not); a ticket already gone (another worker purged it) is
        left alone. Returns whether the ticket is gone."""
        retries = self.config.settings.max_retries
        for attempt in range(retries + 1):
            try:
                self.store.purge(ticket.id, expected_version=ticket.version)
            except NotFound:
                return True
            except ConflictError:
                if attempt == retries:
                    raise
                try:
                    ticket = self.store.load(ticket.id)
                except NotFound:
                    return True
                if not self._still_due(ticket, action="purge", at=now):
                    return False
                continue
            self._forget_cleared(ticket.id, ticket.version)
            log.info("purged ticket %s: %s", ticket.id, reason)
            return True
        raise AssertionError("unreachable")

    def apply_retention(self, now: datetime | None = None) -> list[Event]:
        """Anonymise, delete the content of, or purge every closed ticket whose retention
        period ended by ``now`` (default: the clock), per the desk's retention policies.
        Returns the ``TicketAnonymised`` events recorded (a purged ticket leaves none: it
        is gone from the store, and the purge is logged), and the events recorded on the
        tickets that link to a purged one: what fell due on them by ``now``, then the
        ``LinkedTicketPurged`` that drops their links."""
        at = self._now(now)
        settings = self.config.privacy
        self._retention_checked_at = at
        if not settings.retention:
            return []
        recorded: list[Event] = []
        found: dict[str, Ticket] = {}
        for scan in _retention_scans(settings.retention, at):
            for ticket in every_match(self.store, scan):
                found.setdefault(ticket.id, ticket)
        due: list[tuple[Ticket, Any]] = due_for_retention(
            sorted(found.values(), key=lambda t: t.number), settings, now=at
        )
        # In units of work of a hundred tickets: a store that must rewrite a text index
        # to forget removed text (SQLite's FTS5) does it once per unit, not per ticket.
        # Each unit drops the links to the tickets it purged (and their place in
        # articles) with the purge. Subscribers hear of each unit's events once it is
        # committed.
        changed: set[str] = set()  # tickets this pass recorded events on
        for start in range(0, len(due), 100):
            with self.store.unit_of_work():
                added = self._retain(due[start : start + 100], at, changed)
            self._publish(added)
            recorded.extend(added)
            changed.update(e.ticket_id for e in added)
        return recorded

    def _retain(
        self, due: list[tuple[Ticket, Any]], at: datetime, changed: Collection[str] = ()
    ) -> list[Event]:
        recorded: list[Event] = []
        purged: list[str] = []
        cleared: list[Ticket] = []  # the tickets purged or anonymised, as found due
        for ticket, policy in due:
            if policy.action == "purge":
                if ticket.id in changed:
                    # An earlier unit of this pass dropped its link to a purged ticket:
                    # that is no concurrent change, so purge the version now stored.
                    try:
                        ticket = self.store.load(ticket.id)
                    except NotFound:
                        continue
                    if not self._still_due(ticket, action="purge", at=at):
                        continue
                if self._purge(ticket, now=at, reason=f"retention policy {policy.name!r}"):
                    purged.append(ticket.id)
                    cleared.append(ticket)
                continue
            try:
                added = self._anonymise(
                    ticket.id,
                    now=at,
                    by=Actor.system("retention"),
                    reason=f"retention policy {policy.name!r}",
                    mode=policy.action,
                    publish=False,
                    still_due=partial(self._still_due, action=policy.action, at=at),
                )
            except NotFound:
                continue  # purged meanwhile by another worker
            if added:
                cleared.append(ticket)
            recorded.extend(added)
        # What channels recorded of the messages applied to those tickets goes with them,
        # and so does their place in the openings of their requesters' later tickets.
        self._forget_received([ticket.number for ticket in cleared])
        self._forget_earlier(cleared)
        # The tickets linking to those purged are read now, after the purges, in their
        # unit of work: a link committed before it is read here and dropped; one that
        # commits later finds its target gone (Helpdesk.link reads it again in the unit
        # of work of the link) and is refused. Read before the purges, a link made in
        # between would be missed and left to a ticket that is gone.
        recorded.extend(self._forget_purged(purged, self._links_to(purged), now=at))
        return recorded

    def _forget_received(self, numbers: list[int]) -> None:
        """Delete the records of the messages and requests applied to the tickets
        numbered ``numbers`` (see :func:`forget_received`). A store without
        ``delete_cursors`` (:class:`~helpdesk_core.storage.CursorDeletion`) keeps them:
        the first time that happens the desk logs a warning."""
        if numbers and not isinstance(self.store, CursorDeletion):
            if not self._warned_records_kept:
                self._warned_records_kept = True
                log.warning(
                    "the store has no delete_cursors(): retention and erasure leave behind "
                    "the records of the email messages and requests applied to the tickets "
                    "they clear (keyed by digests of the sender's address and the "
                    "requester's id)"
                )
            return
        forget_received(self.store, numbers)

    def _forget_earlier(self, cleared: Sequence[Ticket]) -> None:
        """Drop the ids of ``cleared`` (tickets just anonymised or purged, as read before)
        from the openings of their requesters' later tickets, which list the requester's
        earlier tickets (``TicketOpened.history``): kept, they would tie an anonymised
        ticket back to the person. Only a requester's next :data:`_EARLIER_TICKETS`
        tickets (by number) can list one: a ticket opened after those found as many
        newer ones to list."""
        gone: dict[str, set[str]] = {}  # per requester
        later: dict[str, dict[str, None]] = {}
        for ticket in cleared:
            if ticket.requester == ANONYMOUS_REQUESTER:
                continue  # anonymised before: its requester's tickets no longer list it
            gone.setdefault(ticket.requester, set()).add(ticket.id)
            query = TicketQuery(
                requester=ticket.requester, order_by="number", limit=_EARLIER_TICKETS
            )
            page = self.store.query(evolve(query, after=query.after_token(ticket)))
            later.setdefault(ticket.requester, {}).update(dict.fromkeys(t.id for t in page.items))
        for requester, ticket_ids in later.items():
            for ticket_id in ticket_ids:
                self._drop_earlier(ticket_id, frozenset(gone[requester]))

    def _drop_earlier(self, ticket_id: str, gone: frozenset[str]) -> None:
        """Rewrite the opening of ``ticket_id`` without the ``gone`` tickets among the
        earlier tickets it lists (in place, as an anonymisation rewrites a history: the
        ticket keeps its version and snapshot); retried on a concurrent change."""
        retries = self.config.settings.max_retries
        for attempt in range(retries + 1):
            events = self.store.events(ticket_id)
            opened = events[0] if events else None
            if not isinstance(opened, TicketOpened) or gone.isdisjoint(opened.history):
                return
            history = tuple(i for i in opened.history if i not in gone)
            rewritten = [evolve(opened, history=history), *events[1:]]
            snapshot = replay(rewritten)
            try:
                self.store.anonymise(
                    ticket_id,
                    expected_version=len(rewritten),
                    events=rewritten,
                    snapshot=snapshot,
                    wake_at=self._decider.wake_at(snapshot, self._requester_of(snapshot)),
                )
            except ConflictError:
                if attempt == retries:
                    raise
                continue
            return

    def _still_due(self, ticket: Ticket, *, action: str, at: datetime) -> bool:
        """Whether ``ticket`` as now stored is still due at ``at`` for ``action`` (another
        worker may have changed it since a retention scan found it due)."""
        still = due_for_retention([ticket], self.config.privacy, now=at)
        return bool(still) and still[0][1].action == action

    def erase_requester(self, requester_id: str, *, by: Identity) -> list[Event]:
        """Right to erasure: anonymise every ticket of the requester now (open ones too)
        and delete the requester record, in one unit of work (all or nothing). Only admins
        (or automation) may do it. Returns the ``TicketAnonymised`` events recorded."""
        if not isinstance(requester_id, str) or not requester_id:
            raise ValidationError("a requester id is non-empty text", field="requester_id")
        if not is_identifier(requester_id):
            # No requester has such an id: erasing "nobody" would pass for done.
            raise ValidationError(
                f"invalid requester id {requester_id!r}: an id is letters, digits or _.:@+-",
                field="requester_id",
            )
        if requester_id == ANONYMOUS_REQUESTER:
            # every anonymised ticket names it: erasing it would wipe their later work
            raise ValidationError(
                f"{ANONYMOUS_REQUESTER!r} is the requester of anonymised tickets, not a "
                "person to erase",
                field="requester_id",
            )
        actor = self._actor(by)
        at = self._now()
        # Who may erase at all is decided first: a requester or a plain agent is told
        # that only admins erase, not which of the person's tickets they may not touch.
        if actor.kind is ActorKind.AGENT:
            agent = self.config.agent(actor.id)
            if not agent.active or self.config.privacy.access.role_of(agent) is not Role.ADMIN:
                raise AccessDenied(
                    f"{actor} may not erase requester {requester_id!r}: only admins may erase",
                    identity=str(actor),
                    action="erase",
                )
        elif actor.kind is not ActorKind.SYSTEM:
            raise AccessDenied(
                f"{actor} may not erase requester {requester_id!r}: only admins may erase",
                identity=str(actor),
                action="erase",
            )
        recorded: list[Event] = []
        # All or nothing: a run cut short would leave tickets anonymised (which the next
        # run no longer finds by the requester) with their records and the person kept.
        # The person's tickets are read inside it too, after the store has locked the
        # requester (a store with RequesterLock; the bundled ones): a ticket opened for
        # them by another thread or process either committed before, and is read here,
        # or waits for the erasure to commit and comes after it (where the next erasure
        # finds it); one purged meanwhile is not looked for in vain.
        with self.unit_of_work():
            if isinstance(self.store, RequesterLock):
                self.store.lock_requester(requester_id)
            tickets = list(every_match(self.store, TicketQuery(requester=requester_id)))
            for ticket in tickets:
                self._check_access(actor, ticket, "erase")
            if (
                identity_clash(requester_id, "requester") is not None
                and not tickets
                and self._stored_requester(requester_id) is None
            ):
                # An identity ("requester:ada"), not the person's id: nothing would be
                # erased while the caller takes the person for erased. (A requester stored
                # under such an id by other means is erased as usual.)
                kind, _, bare = requester_id.partition(":")
                raise ValidationError(
                    f"{requester_id!r} names an identity ({kind + ':'!r} prefix), not a "
                    f"requester: erase the requester by their own id ({bare!r})",
                    field="requester_id",
                )
            for ticket in tickets:
                recorded.extend(
                    self._anonymise(
                        ticket.id, now=at, by=actor, reason="erasure requested", mode="anonymise"
                    )
                )
            self._forget_received([ticket.number for ticket in tickets])
            self.store.delete_requester(requester_id)
        return recorded


def route_opening(
    config: DeskConfig, ticket: Ticket, requester: Requester, now: datetime
) -> tuple[Changes, tuple[str, ...], AssignSpec | None]:
    """Route a ticket being opened as :meth:`Helpdesk.open` does: the desk's routing rules'
    changes with the tier and team the ticket goes to (a team a rule or an assignment
    names; else the tier's default team; the tier a rule names, else the lowest tier the
    team works, else the lowest tier), the names of the matched rules and the assignment
    a rule asked for. Reads the configuration only: no store, no event."""
    decision = config.routing.evaluate(
        ticket, requester=requester, now=now, calendars=config.calendars
    )
    changes = decision.changes
    ladder = config.ladder
    # An assignment asked in a team puts the ticket in that team: it is worked from
    # there, and waits in that team's queue when nobody can take it yet.
    asked_team = decision.assign.team if decision.assign is not None else None
    team = asked_team or changes.team or ticket.team
    tier = changes.tier or ticket.tier
    if tier is None:
        # The lowest tier, unless the team the ticket goes to works a higher one only.
        tier = next(
            (t.id for t in ladder if team is not None and team in t.teams),
            ladder.lowest.id,
        )
    if team is None:
        tier_obj = next(t for t in config.tiers if t.id == tier)
        team = tier_obj.default_team
    # tier and team are configured ids (validated with the configuration)
    changes = _with_tier_team(changes, {"tier": tier, "team": team})
    rules = tuple([m.name for m in decision.matched])
    return changes, rules, decision.assign


#: The arguments of :meth:`Helpdesk.open` that make its request, in the order a refused
#: retry names the first that differs (``priority``: an explicit one, or none).
_REQUEST_FIELDS = (
    "subject",
    "description",
    "channel",
    "category",
    "type",
    "impact",
    "urgency",
    "priority",
    "tags",
    "fields",
    "asset",
)


def _refuse_reused(request_id: str, name: str, what: str) -> ValidationError:
    return ValidationError(
        f"request_id {request_id!r} was used for another request: its {name} differs from "
        f"{what}. A retry repeats the request as it was; another request needs another "
        f"request_id",
        field=name,
    )


def _check_same_opening(request_id: str, recorded: Sequence[Event], asked: TicketOpened) -> None:
    """Refuse (ValidationError, ``field`` the argument) a retry of the request
    ``request_id`` that asks for another opening than ``recorded`` (the ticket's first
    event: a ticket that did not begin with an opening is not checked)."""
    if not recorded or not isinstance(recorded[0], TicketOpened):
        return
    opened = recorded[0]
    for name in _REQUEST_FIELDS:
        if name == "priority":
            # A priority worked out from impact and urgency follows the matrix of the
            # day: the request is whether one was given, and which.
            same = opened.priority_explicit == asked.priority_explicit and (
                not asked.priority_explicit or opened.priority == asked.priority
            )
        else:
            same = getattr(opened, name) == getattr(asked, name)
        if not same:
            raise _refuse_reused(request_id, name, "the ticket's opening")


def _check_opening(limits: Limits, opened: TicketOpened) -> None:
    """The desk's limits on a new ticket (its validated opening event)."""
    limits.check_subject(opened.subject)
    limits.check_subject(opened.category, field="category")
    _check_category(opened.category)
    limits.check_subject(opened.asset, field="asset")
    limits.check_body(opened.description, field="description")
    limits.check_tags(opened.tags)
    limits.check_fields(opened.fields)


def _named_tickets(events: Iterable[Event], *, earlier: bool = True) -> set[str]:
    """The ids of the other tickets ``events`` name (see ``Event.names_ticket``), with
    the requester's earlier tickets an opening lists when ``earlier``."""
    named: set[str] = set()
    for event in events:
        name = event.names_ticket
        if name is not None:
            named.add(getattr(event, name))
        elif earlier and isinstance(event, TicketOpened):
            named.update(event.history)
    return named


def _colleague(actor: Actor, ticket: Ticket) -> bool:
    """True when ``actor`` is a requester reading another person's ticket (their
    organization's, with ``requesters_see_organization``)."""
    return actor.is_requester and ticket.requester != actor.id


def _as_seen_by(
    role: Role | None,
    ticket: Ticket,
    hidden_fields: frozenset[str] = frozenset(),
    *,
    colleague: bool = False,
    unseen: frozenset[str] = frozenset(),
) -> Ticket:
    """``ticket`` as ``role`` may read it: a requester does not see its known error, and
    the custom fields ``hidden_fields`` names are left out (see
    :meth:`Helpdesk._hidden_fields`); a ``colleague`` of its requester does not read the
    comment of their rating (the score stays); the links to the tickets ``unseen`` names
    (which the reader may not view) are left out. A copy when anything is left out: the
    ticket given is not changed."""
    hidden: dict[str, Any] = {}
    if unseen and any(link.other in unseen for link in ticket.links):
        hidden["links"] = tuple(link for link in ticket.links if link.other not in unseen)
    if role is Role.REQUESTER and ticket.known_error is not None:
        hidden["known_error"] = None
    if hidden_fields and not hidden_fields.isdisjoint(ticket.fields):
        hidden["fields"] = {k: v for k, v in ticket.fields.items() if k not in hidden_fields}
    rating = ticket.satisfaction
    if colleague and rating is not None and rating.comment:
        hidden["satisfaction"] = evolve(rating, comment="")
    return evolve(ticket, **hidden) if hidden else ticket


def _working_on(ticket: Ticket) -> str | None:
    """The agent working on the ticket (None: it is not active or has nobody), whose work
    a command that ends the ticket's activity frees."""
    return ticket.assignee if ticket.is_active else None


def _queue_query(
    team: str, *, priority: tuple[Priority, ...] | None = None, limit: int
) -> TicketQuery:
    """The tickets of ``team``'s queue waiting for an assignment, those that have waited
    longest first (by ``queued_at``, the order the desk offers them in, and that of the
    stores' index of waiting tickets): active, unassigned and ``queued`` (its filters).
    A ticket opened long ago and queued lately (reopened, escalated into the team) takes
    its place by when it was queued, not ahead of tickets that have waited longer."""
    return TicketQuery(
        team=team,
        unassigned=True,
        active_only=True,
        queued=True,
        priority=priority,
        order_by="queued_at",
        limit=limit,
    )


def _refuse_closed(ticket: Ticket, action: str) -> None:
    """A closed ticket takes no more conversation or priority (closed is terminal): they go
    to a follow-up ticket. (Its fields may still be edited: a team reorganised, say.)"""
    if ticket.status_category is StatusCategory.CLOSED:
        raise InvalidTransition(
            f"ticket {ticket.id} is closed: open a follow-up ticket instead",
            ticket_id=ticket.id,
            status=ticket.status,
            transition=action,
        )


#: The status categories of tickets that may need a tick (closed ones never do).
_WAKING = tuple(c for c in StatusCategory if c is not StatusCategory.CLOSED)


def _wake_rules(config: DeskConfig) -> tuple[Any, ...]:
    """The parts of a configuration a ticket's wake-up depends on (of the SLA policies,
    what running clocks are armed by: their targets, calendar, warning thresholds and
    the status categories they pause in). Calendars compare by what they define."""
    return (
        config.escalation_policies,
        config.calendars,
        config.lifecycles,
        config.ticket_types,
        {
            policy.name: (policy.targets, policy.calendar, policy.warnings, policy.pauses)
            for policy in config.sla_policies
        },
    )


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    """The earlier of two instants, either of which may be None (nothing)."""
    if a is None:
        return b
    return a if b is None or a <= b else b


def _retention_scans(
    policies: Sequence[RetentionPolicy], now: datetime
) -> list[TicketQuery]:
    """What a retention pass at ``now`` reads: for each policy, the tickets it covers (by
    team and ticket type) closed long enough ago, and for an anonymise policy only those
    not anonymised yet (it never has work on an anonymised ticket). Every ticket due under
    the policy that governs it is among them, and a pass reads what is due or nearly so,
    not every ticket a policy ever handled: with "purge the lab's tickets after seven
    years, anonymise the rest after one", the tickets anonymised are not read again every
    pass, and with
    "purge access requests after 90 days", the tickets of other types closed 90 days ago
    are not read at all."""
    scans: list[TicketQuery] = []
    for policy in policies:
        try:
            # In UTC: a zoned instant minus a duration would be counted on its wall clock
            # (an hour off across a daylight-saving change).
            cutoff = now.astimezone(UTC) - policy.after + timedelta(microseconds=1)
        except OverflowError:
            continue  # the period reaches back before the first instant: never due
        scans.append(
            TicketQuery(
                closed_before=cutoff,
                team=None if policy.teams is None else tuple(sorted(policy.teams)),
                type=None if policy.ticket_types is None else tuple(sorted(policy.ticket_types)),
                anonymised=False if policy.action == "anonymise" else None,
                order_by="number",
                limit=1000,
            )
        )
    return scans


def _intake_changes(config: DeskConfig, ticket: Ticket, changes: Changes) -> Changes:
    """``changes`` with the answers of the ticket's category (the new one when the changes
    move it) checked and converted as at opening: the ticket's answers and the changed
    ones together, since a new category may ask what the old did not; a blank answer is
    no answer (it changes nothing); a category that refuses tickets without answers
    refuses the change. Only
    the answers that differ from the ticket's are kept in the changes."""
    category = changes.category if changes.category is not None else ticket.category
    intake = config.categories.get(category) if category else None
    if intake is None or (not changes.fields and changes.category is None):
        return changes
    asked = {q.name for q in intake.questions}
    given = {  # a blank answer is no answer: it leaves the ticket's answer as it is
        name: value
        for name, value in (changes.fields or {}).items()
        if name not in asked or not _blank(value)
    }
    # An answer anonymised (an erasure, say) stands for the answer it replaced: it is
    # kept as it is, not checked against its question's type again.
    cleared = {
        name
        for name, value in ticket.fields.items()
        if value == ANONYMISED and name in asked and name not in given
    }
    if cleared:
        intake = evolve(intake, questions=[q for q in intake.questions if q.name not in cleared])
    result = intake.check({**ticket.fields, **given})
    fields = {
        name: value
        for name, value in result.fields.items()
        if name in given or ticket.fields.get(name, _UNSEEN) != value
    }
    return evolve(changes, fields=fields or None)


def _missing_answers(config: DeskConfig, ticket: Ticket, changes: Changes) -> tuple[str, ...]:
    """The required questions of the category ``changes`` leave ``ticket`` in that its
    answers and those of the changes (checked by :func:`_intake_changes`) leave open."""
    category = changes.category if changes.category is not None else ticket.category
    intake = config.categories.get(category) if category else None
    if intake is None:
        return ()
    answers = {**ticket.fields, **(changes.fields or {})}
    return tuple(q.name for q in intake.questions if q.required and _blank(answers.get(q.name)))


def _unchanged_dropped(ticket: Ticket, changes: Changes) -> Changes:
    """``changes`` without the values the ticket already has (a form saved again with
    every field records only what the agent changed); an answer of another type than the
    ticket's (``1`` for ``True``, ``1.0`` for ``1``) is a change."""
    same: dict[str, Any] = {}
    for name, value in changes.as_dict().items():
        if name == "fields":
            fields = {
                key: answer
                for key, answer in value.items()
                if not _same_value(ticket.fields.get(key, _UNSEEN), answer)
            }
            if len(fields) != len(value):
                same["fields"] = fields or None
        elif _same_value(getattr(ticket, name), value):
            same[name] = None
    return evolve(changes, **same) if same else changes


def _same_value(old: Any, new: Any) -> bool:
    return type(old) is type(new) and old == new


def _derived_priority(config: DeskConfig, ticket: Ticket, changes: Changes) -> Changes:
    """``changes`` with the priority the matrix derives from the new impact and urgency,
    when they change and the ticket's priority is still the one derived from its old ones
    (never set explicitly, nor by a routing rule to another value)."""
    if changes.impact is None and changes.urgency is None:
        return changes
    if ticket.priority_explicit:
        return changes
    if config.priority_matrix(ticket.impact, ticket.urgency) is not ticket.priority:
        return changes
    derived = config.priority_matrix(
        changes.impact or ticket.impact, changes.urgency or ticket.urgency
    )
    return changes if derived is ticket.priority else evolve(changes, priority=derived)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_routed(
    config: DeskConfig, ticket: Ticket, changes: Changes, rules: tuple[str, ...]
) -> None:
    """The ticket as routing leaves it stays within the desk's limits: a rule's tags or
    fields added to the request's own must not put it where every later edit of the
    ticket is refused (``changes.tags`` is the whole new tag set, fields merge)."""
    try:
        if changes.tags is not None:
            config.limits.check_tags(changes.tags)
        if changes.fields:
            config.limits.check_fields({**ticket.fields, **changes.fields})
    except ValidationError as exc:
        named = ", ".join(repr(r) for r in rules) or "routing"
        raise ValidationError(
            f"with what routing rule(s) {named} add: {exc.message}", field=exc.field
        ) from exc


def _check_category(category: str | None) -> None:
    """A category is None (no category) or text that is not blank: a blank one would be
    counted in reports as a category of its own. It is a label, one line of printable
    text: a control character (a NUL, a line break) in one is a mistake of the caller's,
    which reports, routing rules and CSV exports would carry on."""
    if isinstance(category, str) and not category.strip():
        raise ValidationError(
            "a category is non-blank text (leave it out for no category)", field="category"
        )
    if (
        isinstance(category, str)
        and not category.isprintable()  # printable text has no control character
        and any(unicodedata.category(c) == "Cc" for c in category)
    ):
        raise ValidationError(
            f"a category is one line of printable text, got {category!r}", field="category"
        )


def _check_search_names(config: DeskConfig, query: TicketQuery) -> None:
    """Refuse a status, tier or team the desk's configuration does not have: such a
    filter matches nothing, and is most likely a typo (``status="slved"``)."""
    checks: tuple[tuple[str, tuple[str, ...] | None, Callable[[], set[str]]], ...] = (
        ("status", query.status, lambda: _status_names(config)),
        ("tier", query.tier, lambda: {t.id for t in config.tiers}),
        ("team", query.team, lambda: {t.id for t in config.teams}),
        (
            "scope.teams",
            query.scope.teams if query.scope is not None else None,
            lambda: {t.id for t in config.teams},
        ),
    )
    for name, wanted, known_names in checks:
        if wanted is None:
            continue
        known = known_names()
        unknown = [value for value in wanted if value not in known]
        if unknown:
            raise ValidationError(
                f"unknown {name} {unknown[0]!r} (the desk's: {', '.join(sorted(known)) or 'none'})",
                field=name,
            )


def _status_names(config: DeskConfig) -> set[str]:
    lifecycles = [*config.lifecycles.values()]
    lifecycles.extend(config.lifecycle_for(name) for name in config.ticket_types)
    return {name for lifecycle in lifecycles for name in lifecycle.status_names}


def _ticket_id(value: Any, *, field: str = "ticket_id") -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError("a ticket id is non-empty text", field=field)
    return value


def _category_skills(config: DeskConfig, ticket: Ticket) -> frozenset[str]:
    if ticket.category is None:
        return frozenset()
    category = config.categories.get(ticket.category)
    return category.skills if category is not None else frozenset()


def _missing_parts(
    config: DeskConfig, ticket: Ticket, team_ids: Collection[str], agent_ids: Collection[str]
) -> Iterator[tuple[str, str, str]]:
    """What ``ticket`` stands on that ``config`` (with these team and agent ids) lacks, in
    this order: ``("calendar", calendar, metric)`` for each SLA clock counting on a
    calendar it lacks, the lifecycle trouble (:func:`_lifecycle_trouble`), then
    ``("tier", tier, "")``, ``("team", team, "")``, ``("agent", assignee, "")``."""
    for metric, clock in ticket.sla.items():
        if clock.calendar not in config.calendars:
            yield ("calendar", clock.calendar, metric)
    trouble = _lifecycle_trouble(config, ticket)
    if trouble is not None:
        yield trouble
    if ticket.tier is not None and ticket.tier not in config.ladder:
        yield ("tier", ticket.tier, "")
    if ticket.team is not None and ticket.team not in team_ids:
        yield ("team", ticket.team, "")
    if ticket.assignee is not None and ticket.assignee not in agent_ids:
        yield ("agent", ticket.assignee, "")


def _lifecycle_trouble(config: DeskConfig, ticket: Ticket) -> tuple[str, str, str] | None:
    """What in ``config`` a ticket's lifecycle data stands on and ``config`` lacks:
    ``("lifecycle", name, "")``, ``("status", lifecycle, status)`` or ``("category",
    lifecycle, status)`` (the status is in another category now); None when nothing."""
    lifecycle = config.lifecycles.get(ticket.lifecycle)
    if lifecycle is None:
        return ("lifecycle", ticket.lifecycle, "")
    if not lifecycle.has_status(ticket.status):
        return ("status", ticket.lifecycle, ticket.status)
    if lifecycle.category(ticket.status) is not ticket.status_category:
        return ("category", ticket.lifecycle, ticket.status)
    return None
