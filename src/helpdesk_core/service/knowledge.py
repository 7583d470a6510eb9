"""The knowledge commands of the :class:`~helpdesk_core.Helpdesk`: known errors on problem
tickets, what solving a problem does to its incidents, knowledge-base articles, similar
solved tickets, and what a purge leaves of a ticket in the links and articles that name it.

:class:`KnowledgeCommands` is a base class of ``Helpdesk``; it uses the desk's plumbing
(load → decide → save → publish in ``_command``, identities, access checks). The decisions
themselves are the pure functions of :mod:`helpdesk_core.knowledge`.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs
from attrs import evolve

from helpdesk_core.config import DeskConfig
from helpdesk_core.errors import (
    AccessDenied,
    ConflictError,
    HelpdeskError,
    InvalidTransition,
    NotFound,
    ValidationError,
)
from helpdesk_core.ids import IdFactory
from helpdesk_core.knowledge import (
    KNOWLEDGE_ACTOR,
    Article,
    ArticleQuery,
    ArticleStatus,
    KnownErrorEntry,
    KnownErrorStatus,
    LinkedProblemSolved,
    Match,
    SimilarityIndex,
    caused_by,
    check_article_access,
    known_error_entries,
    record_known_error,
    reopen_known_error,
    resolve_known_error,
    search_words,
    solving_transition,
    update_known_error,
)
from helpdesk_core.knowledge.articles import MAX_QUERY_WORDS
from helpdesk_core.knowledge.similar import ticket_text
from helpdesk_core.model import (
    Actor,
    ActorKind,
    Agent,
    Event,
    LinkKind,
    Requester,
    StatusCategory,
    StatusChanged,
    Ticket,
)
from helpdesk_core.model import _validate as v
from helpdesk_core.privacy.purge import links_to, unlink_purged
from helpdesk_core.storage import Page, SolvedTicketSearch, Store, TicketQuery
from helpdesk_core.storage.base import check_key, check_limit, every_match
from helpdesk_core.workflow import apply_transition

if TYPE_CHECKING:
    from helpdesk_core.privacy import Role
    from helpdesk_core.service.decide import Change, Decider

__all__ = ["KnowledgeCommands"]

log = logging.getLogger("helpdesk_core")

Identity = Actor | Agent | Requester | str
T = TypeVar("T")

_SOLVED: Final = (StatusCategory.SOLVED, StatusCategory.CLOSED)
_ARTICLE_CHANGES: Final = frozenset({"title", "body", "tags", "category", "problems", "status"})
#: The keywords ``search_articles`` takes as filters: the fields of an ArticleQuery.
_ARTICLE_FILTERS: Final = frozenset(a.name for a in attrs.fields(ArticleQuery))
#: The texts of a known-error record, held to the desk's ``max_body_length``.
_KNOWN_ERROR_TEXTS: Final = ("symptom", "workaround", "root_cause")
#: Most distinct words of a ticket handed to a store's full-text search.
#: The distinct words of a ticket a store is asked for candidates with: enough that the
#: telling words of a mail behind a long greeting are among them.
_QUERY_WORDS: Final = 64
_PAGE: Final = 1000
#: How many purged ticket ids one ``links_to`` query asks for.
_LINKS_CHUNK: Final = 500
_CHUNK: Final = 50


class _TailIndex:
    """A similarity index of every ticket a store without a full-text index of its own
    holds that ``offered`` says may be offered (solved, see
    :meth:`KnowledgeCommands._offered`), kept up to date by reading the store's event
    stream from where it stopped: each ticket with new events is indexed again (or
    dropped when it may not be offered any more), and so is each ticket :meth:`forget`
    named."""

    def __init__(self) -> None:
        self.index = SimilarityIndex()
        self.position = 0
        self.lock = threading.Lock()
        self._forgotten: dict[str, None] = {}
        self._forgotten_lock = threading.Lock()

    def forget(self, ticket_id: str) -> None:
        """The ticket was anonymised or purged: its words must not stay in the process.
        It leaves the index now, or when the catch-up that holds the index ends (the
        caller may be inside a unit of work that catch-up waits for: this never waits
        for it); the next catch-up reads it again from the store (as anonymised, or as
        it was if that unit of work was rolled back)."""
        with self._forgotten_lock:
            self._forgotten[ticket_id] = None
        if self.lock.acquire(blocking=False):
            try:
                if ticket_id in self.index:
                    self.index.remove(ticket_id)
            finally:
                self.lock.release()

    def catch_up(self, store: Store, offered: Callable[[Ticket], bool]) -> None:
        with self._forgotten_lock:
            touched, self._forgotten = self._forgotten, {}
        for ticket_id in touched:
            if ticket_id in self.index:
                self.index.remove(ticket_id)
        last = self.position
        try:
            for position, event in store.event_stream(after=self.position):
                touched[event.ticket_id] = None
                last = position
            ids = list(touched)
            for start in range(0, len(ids), _PAGE):
                for ticket in store.get_many(ids[start : start + _PAGE]):
                    if offered(ticket):
                        self.index.add(ticket)
                    elif ticket.id in self.index:
                        self.index.remove(ticket.id)
        except BaseException:
            with self._forgotten_lock:  # read them again next time
                self._forgotten.update(touched)
            raise
        self.position = last
        with self._forgotten_lock:  # named while this read: out of the index till read
            for ticket_id in self._forgotten:
                if ticket_id in self.index:
                    self.index.remove(ticket_id)


class KnowledgeCommands:
    """Known errors, problem → incident propagation, articles and similar tickets (a base
    of :class:`~helpdesk_core.Helpdesk`)."""

    config: DeskConfig
    store: Store
    ids: IdFactory
    _similar_tail: _TailIndex | None = None

    if TYPE_CHECKING:
        _decider: Decider

        def _now(self, now: datetime | None = None) -> datetime: ...

        def _actor(self, identity: Identity | None, *, field: str = "by") -> Actor: ...

        def _check_access(self, actor: Actor, ticket: Ticket, action: str) -> Role | None: ...

        def _check_view(self, actor: Actor, ticket: Ticket) -> Role | None: ...

        def _role_of(self, actor: Actor) -> Role | None: ...

        def _shown(
            self,
            actor: Actor,
            role: Role | None,
            ticket: Ticket,
            unseen: frozenset[str] | None = None,
        ) -> Ticket: ...

        def _unseen(
            self, actor: Actor, role: Role | None, ids: Iterable[str]
        ) -> frozenset[str]: ...

        def _command(
            self,
            ticket_id: str,
            decide: Callable[[Change], T],
            *,
            now: datetime | None = None,
            actor: Actor | None = None,
            action: str = "change",
            publish: bool = True,
        ) -> tuple[Ticket, T, list[Event]]: ...

        def _record(
            self,
            ticket_id: str,
            event_of: Callable[[Change], Event | None],
            *,
            actor: Actor | None,
            action: str,
        ) -> Ticket: ...

        def _after_status(self, change: Change) -> None: ...

        def _offer_queue(self, agent_id: str) -> list[Ticket]: ...

    # ------------------------------------------------------------------ known errors
    def record_known_error(
        self,
        problem_id: str,
        *,
        symptom: str,
        by: Identity,
        workaround: str = "",
        root_cause: str = "",
        status: KnownErrorStatus | str = KnownErrorStatus.INVESTIGATING,
    ) -> Ticket:
        """Give a problem ticket its known-error record (symptom required; the status
        ``known_error`` needs a workaround or a root cause). Needs the ``update`` right
        on the ticket. The texts are held to the desk's ``limits.max_body_length``."""
        problem_id = _problem_id(problem_id)
        actor = self._actor(by)
        self._check_known_error_texts(symptom, workaround, root_cause)
        problem_type = self.config.knowledge.problem_type

        def recorded(change: Change) -> Event:
            return record_known_error(
                change.ticket,
                symptom=symptom,
                workaround=workaround,
                root_cause=root_cause,
                status=status,
                by=actor,
                now=change.now,
                problem_type=problem_type,
            )

        return self._record(problem_id, recorded, actor=actor, action="update")

    def update_known_error(
        self,
        problem_id: str,
        *,
        by: Identity,
        symptom: str | None = None,
        workaround: str | None = None,
        root_cause: str | None = None,
        status: KnownErrorStatus | str | None = None,
    ) -> Ticket:
        """Change the known-error record of a problem ticket (None: unchanged); records
        nothing when nothing changes. The texts are held to the desk's
        ``limits.max_body_length``."""
        problem_id = _problem_id(problem_id)
        actor = self._actor(by)
        self._check_known_error_texts(symptom, workaround, root_cause)

        def updated(change: Change) -> Event | None:
            return update_known_error(
                change.ticket,
                by=actor,
                now=change.now,
                symptom=symptom,
                workaround=workaround,
                root_cause=root_cause,
                status=status,
            )

        return self._record(problem_id, updated, actor=actor, action="update")

    def _check_known_error_texts(self, *texts: object) -> None:
        """The desk's body limit on a known error's symptom, workaround and root cause
        (None and non-text values pass: the decision refuses those with its own
        message)."""
        for name, text in zip(_KNOWN_ERROR_TEXTS, texts, strict=True):
            self.config.limits.check_body(text, field=name)

    def _agent_reader(self, as_: Identity | None, listing: str) -> Actor | None:
        """The actor ``as_`` names (None without one) for a listing only agents read:
        AccessDenied for a requester, naming ``listing``."""
        actor = self._actor(as_, field="as_") if as_ is not None else None
        if actor is not None and actor.is_requester:
            raise AccessDenied(
                f"{actor} may not list {listing}: they are for agents",
                identity=str(actor),
                action="view",
            )
        return actor

    def known_errors(
        self, *, include_resolved: bool = False, as_: Identity | None = None
    ) -> list[KnownErrorEntry]:
        """The known errors of active problem tickets (resolved ones too with
        ``include_resolved``), by problem number, each with the number of active tickets
        linked ``caused_by`` to it. With ``as_``: an agent's view (requesters may not list
        known errors; agents see the problems they may view, each with the number of those
        tickets they may view, each ticket checked as :meth:`get` checks it). Reads the
        active tickets of the problem type (``knowledge.problem_type``), then the active
        tickets linking to those with a listed known error (``TicketQuery(links_to=...)``),
        not every active ticket."""
        if not isinstance(include_resolved, bool):
            raise ValidationError("include_resolved is true or false", field="include_resolved")
        actor = self._agent_reader(as_, "known errors")
        problems = {t.id: t for t in self._active_problems()}
        listed = [
            t.id
            for t in problems.values()
            if t.known_error is not None and (include_resolved or t.known_error.is_active)
        ]
        # The tickets linking to them, for their incident counts (each counted once: a
        # problem may link to another).
        tickets = dict(problems)
        for _, linking in self._linking(listed, active_only=True):
            for ticket in linking:
                tickets.setdefault(ticket.id, ticket)
        if actor is not None:
            # Neither the problems nor the incidents the identity may not view: an entry
            # counts only the tickets its reader sees.
            tickets = {k: t for k, t in tickets.items() if self._may_view(actor, t)}
        return [
            e
            for e in known_error_entries(tickets.values(), include_resolved=include_resolved)
            if e.problem in problems and e.problem in tickets
        ]

    def incidents_of(self, problem_id: str, *, as_: Identity | None = None) -> list[Ticket]:
        """The active tickets linked ``caused_by`` to the problem, by number (read with
        ``TicketQuery(links_to=...)``: the tickets linking to it in any way, of which those
        linked ``caused_by`` are kept). With ``as_``, only those that identity may view,
        checked and shown as :meth:`get` checks and shows them, and none for a problem
        that identity may not view (requesters may not list them: AccessDenied, as for
        :meth:`known_errors`)."""
        if not isinstance(problem_id, str) or not problem_id:
            raise ValidationError("a ticket id is non-empty text", field="problem_id")
        actor = self._agent_reader(as_, "the incidents of a problem")
        try:
            linking = TicketQuery(links_to=(problem_id,), active_only=True)
        except ValidationError:
            return []  # not an id a store can be asked for (a NUL): no ticket links to it
        found = caused_by(self._tickets(linking), problem_id)
        if actor is None or not found:
            return found
        kept = [t for t in found if self._may_view(actor, t)]
        # Shown as get shows them: without links to tickets the reader may not view (the
        # problem among them), checked in one read for the whole list.
        role = self._role_of(actor)
        unseen = self._unseen(actor, role, (link.other for t in kept for link in t.links))
        if problem_id in unseen:
            # A problem out of the reader's sight: no ticket links to it for them (the
            # list would tell which of their tickets it caused).
            return []
        return [self._shown(actor, role, t, unseen) for t in kept]

    def _active_problems(self) -> list[Ticket]:
        """The active tickets of the problem type, by number. Their type is checked again
        here, so a store that does not know the filter (one written before it existed,
        which returns every active ticket) still gives the right answer, only slower."""
        problem_type = self.config.knowledge.problem_type
        query = TicketQuery(type=problem_type, active_only=True)
        return [t for t in self._tickets(query) if t.type == problem_type]

    def _tickets(self, query: TicketQuery) -> list[Ticket]:
        """Every ticket ``query`` selects, by number, read a page of a thousand at a time
        (:func:`every_match`)."""
        return list(every_match(self.store, query, chunk=_PAGE))

    def _may_view(self, actor: Actor, ticket: Ticket) -> bool:
        """Whether ``actor`` may view ``ticket``, checked as :meth:`get` checks it (see
        :meth:`_check_view`): on the stored ticket and, when that refuses and the ticket
        has due work, on the ticket as a tick would leave it now, worked out in memory. A
        list never hides a ticket ``get`` shows its reader, nor shows one it refuses."""
        try:
            self._check_view(actor, ticket)
        except AccessDenied:
            return False
        return True

    # ------------------------------------------------------------------ problem solved
    def _after_problem_status(self, change: Change, by: Actor) -> None:
        """Inside a command that moved a ticket: resolve a problem's known error when the
        command solved the problem, and bring back the known error its solve resolved
        when the command reopened it (left the solved category for an active one)."""
        ticket = change.ticket
        if change.start.status_category is StatusCategory.SOLVED and ticket.is_active:
            event = reopen_known_error(ticket, by=by, now=change.now)
        elif ticket.type == self.config.knowledge.problem_type and change.entered(
            StatusCategory.SOLVED
        ):
            event = resolve_known_error(ticket, by=by, now=change.now)
        else:
            return
        if event is not None:
            change.emit(event)

    def _problem_solved(
        self, problem: Ticket, events: Sequence[Event], seen: set[str] | None = None
    ) -> list[Event]:
        """After a command solved a problem ticket: solve or notify the active tickets
        linked ``caused_by`` to it, as ``knowledge.on_problem_solved`` says. Each ticket is
        its own command; a failure is logged and the others go on. A problem solved this
        way passes it on to its own tickets (``seen`` ends link cycles). Returns the events
        recorded on them."""
        mode = self.config.knowledge.on_problem_solved
        if (
            mode == "none"
            or problem.type != self.config.knowledge.problem_type
            or not _solved_in(events)
        ):
            return []
        seen = {problem.id} if seen is None else seen | {problem.id}
        recorded: list[Event] = []
        for incident in self.incidents_of(problem.id):
            if incident.id in seen:
                continue
            try:
                produced = self._apply_problem_solved(incident, problem, mode)
            except HelpdeskError:
                log.exception("problem %s solved: ticket %s not updated", problem.id, incident.id)
                continue
            recorded.extend(produced)
            if incident.type == problem.type:
                try:
                    solved = self.store.load(incident.id)
                except NotFound:
                    continue  # purged meanwhile (by another worker): nothing to pass on
                recorded.extend(self._problem_solved(solved, produced, seen))
        return recorded

    def _apply_problem_solved(self, incident: Ticket, problem: Ticket, mode: str) -> list[Event]:
        resolution = f"Solved with problem {problem.display_number}"
        if problem.resolution:
            resolution += f": {problem.resolution}"

        def decide(change: Change) -> bool:
            ticket = change.ticket
            if not ticket.is_active or problem.id not in ticket.linked(LinkKind.CAUSED_BY):
                return False
            reason = ""
            if mode == "solve":
                lifecycle = change.decider.lifecycle(ticket)
                try:
                    name = solving_transition(lifecycle, ticket).name
                    apply_transition(
                        ticket,
                        lifecycle,
                        name,
                        by=KNOWLEDGE_ACTOR,
                        now=change.now,
                        resolution=resolution,
                    )
                except InvalidTransition as refused:
                    reason = str(refused)
                else:
                    change.emit(_notice(ticket, problem, change.now, "solved"))
                    change.transition(name, by=KNOWLEDGE_ACTOR, resolution=resolution)
                    self._after_status(change)
                    self._after_problem_status(change, KNOWLEDGE_ACTOR)  # its known error
                    return True
            change.emit(_notice(ticket, problem, change.now, "notified", reason))
            return False

        _, solved, events = self._command(incident.id, decide)
        if solved and incident.assignee:
            self._offer_queue(incident.assignee)
        return events

    # ------------------------------------------------------------------ articles
    def _article_actor(
        self, identity: Identity, action: str, article: Article | None, *, field: str = "by"
    ) -> Actor:
        actor = self._actor(identity, field=field)
        agent = self.config.agent(actor.id) if actor.kind is ActorKind.AGENT else None
        check_article_access(
            actor,
            action="write" if action == "write" else "read",
            article=article,
            agent=agent,
        )
        return actor

    def _problems(self, problems: Any, actor: Actor) -> tuple[str, ...]:
        """The problem ids of an article as one tuple (a single id or any iterable of
        them, read once), each checked to be a ticket of the problem type that ``actor``
        may view: a ticket out of their sight reads as one that does not exist
        (NotFound), as a link's target does, so ids cannot be probed."""
        try:
            items = v.to_id_tuple(problems)
        except ValidationError as exc:
            raise ValidationError(exc.message, field="problems") from exc
        problem_type = self.config.knowledge.problem_type
        for problem_id in items:
            if not isinstance(problem_id, str) or not v.is_identifier(problem_id):
                raise ValidationError(
                    f"a problem is a ticket id, got {problem_id!r}", field="problems"
                )
            ticket = self.store.load(problem_id)
            if actor.kind is not ActorKind.SYSTEM:
                try:
                    self._check_view(actor, ticket)
                except AccessDenied:
                    raise NotFound("ticket", problem_id) from None
            if ticket.type != problem_type:
                raise ValidationError(
                    f"ticket {problem_id} is of type {ticket.type!r}, not {problem_type!r}",
                    field="problems",
                )
        return items

    def _problems_still_there(self, article: Article) -> None:
        """Inside the unit of work that saved ``article``: its problems must all still be
        stored (NotFound names one that is gone, and undoes the save). They were checked
        before the save; a retention pass may have purged one since. The stores
        serialize this with purges (a purge that commits first is seen here; one that
        commits later reads the article and takes the problem out), so an article never
        names a ticket that is gone."""
        found = {t.id for t in self.store.get_many(article.problems)}
        for problem_id in article.problems:
            if problem_id not in found:
                raise NotFound("ticket", problem_id)

    def _check_article_texts(self, title: Any, body: Any) -> None:
        """The desk's limits on an article: its title is held to ``max_subject_length``,
        its body to ``max_body_length`` (None and non-text values pass: the article
        refuses those with its own message)."""
        limits = self.config.limits
        limits.check_subject(title, field="title")
        limits.check_body(body, field="body")

    def publish_article(
        self,
        *,
        title: str,
        body: str,
        by: Identity,
        tags: Iterable[str] = (),
        category: str | None = None,
        problems: Iterable[str] = (),
        id: str | None = None,
    ) -> Article:
        """Publish a new knowledge-base article written by an agent (``by``);
        ``problems`` are problem tickets it documents. The id comes from the desk's id
        factory unless given. The title is held to the desk's
        ``limits.max_subject_length``, the body to its ``limits.max_body_length``."""
        actor = self._article_actor(by, "write", None)
        self._check_article_texts(title, body)
        problem_ids = self._problems(problems, actor)
        now = self._now()
        article = Article(
            id=id if id is not None else self.ids.new_id("article"),
            title=title,
            body=body,
            tags=tags,
            category=category,
            problems=problem_ids,
            author=actor.id,
            created_at=now,
            updated_at=now,
        )
        try:
            with self.store.unit_of_work() if problem_ids else nullcontext():
                self.store.save_article(article, expected_version=0)
                if problem_ids:
                    self._problems_still_there(article)
        except ConflictError as exc:
            if exc.expected != 0 or exc.ticket_id != article.id:
                raise
            raise ConflictError(
                article.id,
                expected=0,
                actual=exc.actual,
                kind="article",
                message=f"article {article.id!r} exists already: publish under another id, "
                "or change it with update_article",
            ) from None
        return article

    def update_article(self, article_id: str, *, by: Identity, **changes: Any) -> Article:
        """Change an article's ``title``, ``body``, ``tags``, ``category``, ``problems``
        or ``status`` (agents only); a change that changes nothing saves nothing. Retried
        on a concurrent change. Returns the article as its writer reads it: without the
        problems they may not view (kept in what is stored, see :meth:`get_article`).
        ``problems`` sets the problems the writer may view: those they may not view stay
        on the article, since the writer reads it without them."""
        v.refuse_unknown(changes, _ARTICLE_CHANGES, what="cannot update")
        self._check_article_texts(changes.get("title"), changes.get("body"))
        if "tags" in changes:  # read once: a retry decides again with the same tags
            changes["tags"] = v.to_tag_tuple(changes["tags"])
        unchecked = "problems" in changes

        def edit(current: Article) -> Article:
            nonlocal unchecked
            writer = self._article_actor(by, "write", current)
            if unchecked:  # looked up once the writer may write
                changes["problems"] = self._problems(changes["problems"], writer)
                unchecked = False
            if "problems" in changes:
                kept = self._kept_problems(writer, current, changes["problems"])
                return evolve(current, **{**changes, "problems": kept})
            return evolve(current, **changes)

        confirm = self._problems_still_there if "problems" in changes else None
        article = self._change_article(_id(article_id), edit, confirm=confirm)
        [article] = self._articles_as_read(self._actor(by), (article,))
        return article

    def _kept_problems(
        self, writer: Actor, current: Article, given: tuple[str, ...]
    ) -> tuple[str, ...]:
        """The problems an article gets when ``writer`` sets them to ``given``: those and
        the ones it has that ``writer`` may not view (they read the article without
        them, so a list saved from what they read cannot drop them)."""
        hidden = self._unseen(writer, self._role_of(writer), current.problems)
        if not hidden:
            return given
        return given + tuple(p for p in current.problems if p in hidden and p not in given)

    def _change_article(
        self,
        article_id: str,
        edit: Callable[[Article], Article],
        *,
        now: datetime | None = None,
        confirm: Callable[[Article], object] | None = None,
    ) -> Article:
        """Save ``edit(current)`` as the article's next version (nothing when it changes
        nothing); on a concurrent change the article is read and edited again. Stamped
        with the clock, or with ``now``, but never before the article's last update
        (another process whose clock runs ahead may have saved it).
        ``confirm(saved)`` runs after the save in the same unit of work: what it raises
        undoes the save."""
        retries = self.config.settings.max_retries
        for attempt in range(retries + 1):
            current = self.store.get_article(article_id)
            candidate = edit(current)
            if candidate == current:
                return current
            at = max(self._now(now), current.updated_at)
            updated = evolve(candidate, updated_at=at, version=current.version + 1)
            try:
                with self.store.unit_of_work() if confirm is not None else nullcontext():
                    self.store.save_article(updated, expected_version=current.version)
                    if confirm is not None:
                        confirm(updated)
            except ConflictError:
                if attempt == retries:
                    raise
                continue
            return updated
        raise AssertionError("unreachable")

    def retire_article(self, article_id: str, *, by: Identity) -> Article:
        """Retire an article: kept for agents, no longer shown to requesters or offered
        as similar. Returns it as :meth:`update_article` does."""
        return self.update_article(article_id, by=by, status=ArticleStatus.RETIRED)

    def get_article(self, article_id: str, *, as_: Identity | None = None) -> Article:
        """The article; with ``as_``, only if that identity may read it (requesters:
        published articles only), and with only the ``problems`` that identity may view
        (see :meth:`_articles_as_read`)."""
        article = self.store.get_article(_id(article_id))
        if as_ is not None:
            actor = self._article_actor(as_, "read", article, field="as_")
            [article] = self._articles_as_read(actor, (article,))
        return article

    def _articles_as_read(
        self,
        actor: Actor,
        articles: Sequence[Article],
        checked: Mapping[str, bool] | None = None,
    ) -> tuple[Article, ...]:
        """``articles`` as ``actor`` reads them: without the ids of the problem tickets
        ``actor`` may not view (checked as :meth:`get` checks it, every problem of the
        articles in one read of the store; agents of the problem's team, admins and
        automation keep them all). ``checked`` holds the ids already checked (True for
        those ``actor`` may not view). Copies where anything is left out: what is stored
        does not change."""
        named = {p for a in articles for p in a.problems}
        unseen = {p for p, hidden in (checked or {}).items() if hidden and p in named}
        wanted = named.difference(checked or ())
        if wanted:
            unseen.update(self._unseen(actor, self._role_of(actor), wanted))
        if not unseen:
            return tuple(articles)
        return tuple(
            evolve(a, problems=tuple(p for p in a.problems if p not in unseen))
            if not unseen.isdisjoint(a.problems)
            else a
            for a in articles
        )

    def search_articles(
        self,
        query: ArticleQuery | str | None = None,
        *,
        as_: Identity | None = None,
        **filters: Any,
    ) -> Page[Article]:
        """A page of articles: pass an :class:`ArticleQuery`, a search text, or the
        query's fields as keywords. With a text the best matches come first (the store's
        full-text ranking), otherwise the most recently updated. Requesters (``as_``) only
        ever get published articles (none when the statuses asked for leave published
        out). An unknown keyword is a ValidationError naming it."""
        unknown = sorted(set(filters) - _ARTICLE_FILTERS)
        if unknown:
            raise ValidationError(
                f"unknown article filter {', '.join(unknown)} "
                f"(allowed: {', '.join(sorted(_ARTICLE_FILTERS))})",
                field=unknown[0],
            )
        if isinstance(query, str) and "text" in filters:
            raise ValidationError(
                "the search text is given twice: as the query and as text=", field="text"
            )
        if query is None:
            query = ArticleQuery(**filters)
        elif isinstance(query, str):
            query = ArticleQuery(text=query, **filters)
        elif isinstance(query, ArticleQuery):
            if filters:
                query = evolve(query, **filters)
        else:
            raise ValidationError(
                f"expected an ArticleQuery or a text, got {type(query).__name__}", field="query"
            )
        if as_ is None:
            return self._find_articles(query)
        actor = self._article_actor(as_, "read", None, field="as_")
        if actor.is_requester:
            # The statuses asked for that a requester may read: none, nothing found.
            if query.status is not None and ArticleStatus.PUBLISHED not in query.status:
                return Page(items=(), total=0)
            query = evolve(query, status=(ArticleStatus.PUBLISHED,))
        checked: dict[str, bool] = {}
        if query.problem is not None:
            # A problem the reader may not view is one no article documents for them:
            # the filter does not tell them which articles document it.
            ids = {p for p in query.problem if v.is_identifier(p)}
            unseen = self._unseen(actor, self._role_of(actor), ids)
            checked = {p: p in unseen for p in ids}
            if unseen:
                kept = tuple(p for p in query.problem if p not in unseen)
                if not kept:
                    return Page(items=(), total=0)
                query = evolve(query, problem=kept)
        page = self._find_articles(query)
        items = self._articles_as_read(actor, page.items, checked)
        return page if items == page.items else evolve(page, items=items)

    def _find_articles(self, query: ArticleQuery) -> Page[Article]:
        """The store's page of articles for ``query``: ranked by its text, if it has one."""
        if query.text is not None:
            return self.store.search_articles(query)
        return self.store.list_articles(query)

    # ------------------------------------------------------------------ purged tickets
    def _links_to(self, purging: Collection[str]) -> dict[str, list[str]]:
        """The tickets that link to each of ``purging`` (the tickets a retention pass has
        just purged, in the unit of work of the purge), by number: read with
        ``TicketQuery(links_to=...)``, for :data:`_LINKS_CHUNK` of the ids at a time. The
        links of what was read are checked again here, so a store that does not know the
        filter (one written before it existed, which returns every ticket) still gives
        the right answer, only slower."""
        found: dict[str, list[str]] = {}
        for chunk, linking in self._linking(list(dict.fromkeys(purging))):
            for other, ticket_ids in links_to(linking, chunk).items():
                found.setdefault(other, []).extend(ticket_ids)
        return found

    def _linking(
        self, ids: Sequence[str], *, active_only: bool = False
    ) -> Iterator[tuple[Sequence[str], list[Ticket]]]:
        """The tickets linking to any of ``ids`` (``TicketQuery(links_to=...)``, active
        ones only with ``active_only``), read for :data:`_LINKS_CHUNK` of the ids at a
        time: each chunk with what was read for it."""
        for start in range(0, len(ids), _LINKS_CHUNK):
            chunk = ids[start : start + _LINKS_CHUNK]
            yield chunk, self._tickets(TicketQuery(links_to=chunk, active_only=active_only))

    def _forget_purged(
        self, purged: Sequence[str], linkers: Mapping[str, Sequence[str]], *, now: datetime
    ) -> list[Event]:
        """Inside the unit of work that purged the tickets ``purged``: record a
        ``LinkedTicketPurged`` event on each ticket that links to one of them (``linkers``,
        from :meth:`_links_to`, read in that unit of work after the purges: read before,
        it would miss a link committed in between), which drops those links, and take
        them out of the problems of every article. Returns the events recorded; they are
        not published here (the caller does, once the unit of work is committed)."""
        if not purged:
            return []
        gone = frozenset(purged)
        recorded: list[Event] = []
        for ticket_id in dict.fromkeys(t for p in purged for t in linkers.get(p, ())):
            if ticket_id not in gone:
                recorded.extend(self._unlink_purged(ticket_id, gone, now=now))
        self._drop_article_problems(gone, now=now)
        return recorded

    def _unlink_purged(self, ticket_id: str, gone: frozenset[str], *, now: datetime) -> list[Event]:
        """Drop the ticket's links to the purged tickets ``gone``: a command like any other
        (what fell due on the ticket by ``now`` is recorded first, so its history stays in
        order; version-checked, read again on a concurrent change), not published here. A
        ticket purged itself meanwhile is left alone. Returns the events recorded."""

        def decide(change: Change) -> None:
            for event in unlink_purged(change.ticket, gone, now=change.now):
                change.emit(event)

        try:
            _, _, events = self._command(ticket_id, decide, now=now, publish=False)
        except NotFound:
            return []
        return events

    def _drop_article_problems(self, gone: frozenset[str], *, now: datetime) -> None:
        """Take the purged tickets ``gone`` out of the problems of every article (any
        status) that names one of them."""
        query = ArticleQuery(problem=tuple(sorted(gone)), status=None, limit=_PAGE)
        found: list[str] = []
        while True:
            page = self.store.list_articles(query)
            found.extend(a.id for a in page.items)
            if page.next_offset is None:
                break
            query = evolve(query, offset=page.next_offset)

        def edit(article: Article) -> Article:
            return evolve(article, problems=tuple(p for p in article.problems if p not in gone))

        for article_id in found:
            try:
                self._change_article(article_id, edit, now=now)
            except NotFound:
                continue  # deleted meanwhile

    # ------------------------------------------------------------------ similar
    def _forget_similar(self, ticket_id: str) -> None:
        """Drop an anonymised or purged ticket's words from the in-memory index of solved
        tickets, if this desk keeps one (see :class:`_TailIndex`)."""
        tail = self._similar_tail
        if tail is not None:
            tail.forget(ticket_id)

    def similar(
        self, ticket_id: str, limit: int = 5, *, as_: Identity | None = None
    ) -> list[Match]:
        """The solved tickets and published articles most like this ticket, best first,
        each with the reasons it was chosen (same category / asset / organization /
        problem, shared tags and words; Okapi BM25 over the words).

        Stores with a full-text index of their own (SQLite, PostgreSQL) hand over their
        best candidates, which are then ranked here; for other stores the desk keeps an
        in-memory index of every solved ticket. With ``as_``, only what that identity may
        see: requesters get articles only, agents the tickets they may view (checked as
        :meth:`get` checks them), and no reason names a problem ticket that identity may
        not view (the match stays, its reason reads ``same problem`` without that id)."""
        check_limit(limit)
        ticket = self.store.load(_id(ticket_id, field="ticket_id"))
        actor = self._actor(as_, field="as_") if as_ is not None else None
        unseen: frozenset[str] = frozenset()
        if actor is not None:
            role = self._check_view(actor, ticket)
            # The problems a reason may name: this ticket's own id, which the reader
            # views, and the problems it is linked ``caused_by`` to.
            unseen = self._unseen(actor, role, ticket.linked(LinkKind.CAUSED_BY))
        words = _query_words(ticket)
        articles = self._article_candidates(ticket, words)
        if isinstance(self.store, SolvedTicketSearch):
            index = SimilarityIndex()
            for candidate in self._ticket_candidates(ticket, words, self.store):
                index.add(candidate)
            ranked = self._rank(index, ticket, articles, unseen)
            matches, _ = self._visible_matches(ranked, actor, limit)
            return matches
        tail = self._similar_tail
        if tail is None:
            tail = self._similar_tail = _TailIndex()
        with tail.lock:
            tail.catch_up(self.store, self._offered)
            ranked = self._rank(tail.index, ticket, articles, unseen)
            matches, missing = self._visible_matches(ranked, actor, limit)
            for gone in missing:  # purged since it was indexed
                tail.index.remove(gone)
        return matches

    def _ticket_candidates(
        self, ticket: Ticket, words: list[str], store: SolvedTicketSearch
    ) -> list[Ticket]:
        size = self.config.knowledge.similar_candidates
        found: dict[str, Ticket] = {}
        if words:
            found.update((t.id, t) for t in store.search_solved(words, limit=size))
        facets: list[TicketQuery] = []
        if ticket.category is not None:
            facets.append(
                TicketQuery(
                    status_category=_SOLVED,
                    category=ticket.category,
                    order_by="-updated_at",
                    limit=size,
                )
            )
        if ticket.asset is not None:
            facets.append(
                TicketQuery(
                    status_category=_SOLVED, asset=ticket.asset, order_by="-updated_at", limit=size
                )
            )
        for query in facets:
            found.update((t.id, t) for t in self.store.query(query).items)
        # The same problem: the problems themselves, and the tickets linked to one of
        # them (or to this ticket) ``caused_by``, as the in-memory index finds them.
        problems = frozenset((*ticket.linked(LinkKind.CAUSED_BY), ticket.id))
        linking = TicketQuery(
            status_category=_SOLVED,
            links_to=tuple(sorted(problems)),
            order_by="-updated_at",
            limit=size,
        )
        found.update(
            (t.id, t)
            for t in self.store.query(linking).items
            if not problems.isdisjoint(t.linked(LinkKind.CAUSED_BY))
        )
        found.update((t.id, t) for t in self.store.get_many(sorted(problems - {ticket.id})))
        return [t for t in found.values() if self._offered(t)]

    def _offered(self, ticket: Ticket) -> bool:
        """Whether ``ticket`` is offered as a similar solved ticket: it is done and was
        solved on the way (also once closed after that). One its lifecycle closed while
        skipping the solved status it has (cancelled: a duplicate, a mistake) solved
        nothing, as its SLA clocks say (stopped ``cancelled``)."""
        if ticket.is_active:
            return False
        return ticket.solved_at is not None or not self._decider.has_solved_status(ticket)

    def _article_candidates(self, ticket: Ticket, words: list[str]) -> list[Article]:
        size = self.config.knowledge.similar_candidates
        queries = [ArticleQuery(problem=(*ticket.linked(LinkKind.CAUSED_BY), ticket.id))]
        # An article query searches for its first MAX_QUERY_WORDS words: ask for the
        # ticket's words that many at a time, so an article is found by any of them.
        for start in range(0, len(words), MAX_QUERY_WORDS):
            text = " ".join(words[start : start + MAX_QUERY_WORDS])
            queries.append(ArticleQuery(text=text, match="any", limit=size))
        if ticket.category is not None:
            queries.append(ArticleQuery(category=ticket.category, limit=size))
        found: dict[str, Article] = {}
        for query in queries:
            page = (
                self.store.search_articles(query)
                if query.text is not None
                else self.store.list_articles(query)
            )
            found.update((a.id, a) for a in page.items)
        return list(found.values())

    @staticmethod
    def _rank(
        index: SimilarityIndex,
        ticket: Ticket,
        articles: Sequence[Article],
        unseen: frozenset[str] = frozenset(),
    ) -> Iterator[Match]:
        """Every entry of ``index`` and of ``articles`` like ``ticket``, best first; each
        match is built when it is taken (see :meth:`SimilarityIndex._ranking`), its
        reasons without the ids of the problems ``unseen`` holds."""
        added: list[str] = []
        try:
            for article in articles:
                if article.id in index:
                    continue  # an article id equal to a ticket id: the ticket stays
                index.add_document(
                    article.id,
                    article.title,
                    article.body,
                    category=article.category,
                    tags=article.tags,
                    problems=article.problems,
                    kind="article",
                )
                added.append(article.id)
            return index._ranking(ticket, unnamed=unseen)
        finally:
            for article_id in added:
                index.remove(article_id)

    def _visible_matches(
        self, ranked: Iterable[Match], actor: Actor | None, limit: int
    ) -> tuple[list[Match], list[str]]:
        """The first ``limit`` matches that still exist and ``actor`` may see, and the ids
        of ticket matches the store no longer has (purged). ``ranked`` is read only as
        far as those need."""
        requester = actor is not None and actor.is_requester
        out: list[Match] = []
        missing: list[str] = []
        ranked = iter(ranked)
        while chunk := list(itertools.islice(ranked, _CHUNK)):
            ids = [m.id for m in chunk if m.kind == "ticket"]
            found = {t.id: t for t in self.store.get_many(ids)} if ids and not requester else {}
            for match in chunk:
                if match.kind == "ticket":
                    if requester:
                        continue
                    ticket = found.get(match.id)
                    if ticket is None:
                        missing.append(match.id)
                        continue
                    if actor is not None and not self._may_view(actor, ticket):
                        continue
                out.append(match)
                if len(out) == limit:
                    return out, missing
        return out, missing


def _solved_in(events: Sequence[Event]) -> bool:
    return any(isinstance(e, StatusChanged) and e.category is StatusCategory.SOLVED for e in events)


def _notice(
    ticket: Ticket, problem: Ticket, now: datetime, outcome: str, reason: str = ""
) -> LinkedProblemSolved:
    return LinkedProblemSolved(
        ticket_id=ticket.id,
        at=now,
        by=KNOWLEDGE_ACTOR,
        problem=problem.id,
        outcome=outcome,
        reason=reason,
    )


def _query_words(ticket: Ticket) -> list[str]:
    words = search_words(ticket_text(ticket))
    return list(dict.fromkeys(words))[:_QUERY_WORDS]


def _problem_id(value: Any) -> str:
    """The ``problem_id`` of a known-error command: a ticket id (ValidationError naming
    ``problem_id`` otherwise, before anything is read)."""
    problem_id = check_key(value, "problem_id")
    if not problem_id:
        raise ValidationError("a ticket id is non-empty text", field="problem_id")
    return problem_id


def _id(value: Any, *, field: str = "article_id") -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError("an id is non-empty text", field=field)
    return value
