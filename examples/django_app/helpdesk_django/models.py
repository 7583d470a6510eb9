"""The helpdesk tables as Django models.

They hold what :class:`~helpdesk_django.store.DjangoStore` stores; the desk itself only
talks to the store. Django owns the schema: ``manage.py migrate`` creates and changes these
tables like any other app's, and they can live in the same database (and the same
transactions) as the rest of the project.

Every ticket row keeps the columns queries filter and sort on, plus the ticket's snapshot;
its tags and the tickets it links to have tables of their own; every event row keeps one
event. Knowledge-base articles keep their filter columns, tags,
problem links, and a word index (``helpdesk_article_word``) for text search and ranking.

Snapshots, events, requesters, articles and the configuration document are JSON *text*
written by helpdesk_core's codec (``helpdesk_core.storage.codecs``), not ``JSONField``:
PostgreSQL's ``jsonb`` refuses ``\\u0000``, and the codec's text reads back exactly as
written on every database. Free-text columns used by queries (category, asset, tags,
search text, email) hold text with NUL escaped (``helpdesk_core.storage.codecs.escape_nul``),
because PostgreSQL ``text`` cannot hold NUL.
"""

from __future__ import annotations

from django.db import models


class TicketRecord(models.Model):
    """One ticket: indexed columns, the SLA wake-up and lease, and the JSON snapshot."""

    id = models.TextField(primary_key=True)
    number = models.BigIntegerField()
    version = models.IntegerField()
    status = models.TextField()
    status_category = models.TextField()
    category = models.TextField(null=True)
    #: The ticket's type (``Ticket.type``): what a type-limited retention policy and the
    #: known-error view ask for.
    type = models.TextField(default="incident")
    team = models.TextField(null=True)
    tier = models.TextField(null=True)
    assignee = models.TextField(null=True)
    owner = models.TextField(null=True)
    requester = models.TextField()
    #: The organization the ticket was opened for (its requester's when it opened).
    organization = models.TextField(null=True)
    asset = models.TextField(null=True)
    priority = models.TextField()
    priority_rank = models.SmallIntegerField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    #: When the desk next needs to look at the ticket (SLA warning or breach, auto-close).
    wake_at = models.DateTimeField(null=True)
    #: The earliest deadline of the ticket's running SLA clocks.
    sla_deadline = models.DateTimeField(null=True)
    #: Which SLA sweep worker holds the ticket, and until when (``claim_due``).
    lease_owner = models.TextField(null=True)
    lease_until = models.DateTimeField(null=True)
    #: When a closed ticket closed (None unless closed), and whether its personal data
    #: was anonymised: what a retention pass asks for.
    closed_at = models.DateTimeField(null=True)
    anonymised = models.BooleanField(default=False)
    #: Since when the ticket waits in its team's queue for an assignment (None: it does
    #: not wait): what a queue drain asks for.
    queued_at = models.DateTimeField(null=True)
    #: Case-folded subject and description (``helpdesk_core.storage.search_text``).
    search_text = models.TextField()
    snapshot = models.TextField()

    class Meta:
        db_table = "helpdesk_ticket"
        verbose_name = "ticket"
        indexes = [
            models.Index(fields=["number"], name="helpdesk_ticket_number"),
            models.Index(fields=["requester", "created_at"], name="helpdesk_ticket_requester"),
            models.Index(fields=["assignee", "status_category"], name="helpdesk_ticket_assignee"),
            models.Index(
                fields=["owner", "status_category"],
                name="helpdesk_ticket_owner",
                condition=models.Q(owner__isnull=False),
            ),
            models.Index(
                fields=["asset"],
                name="helpdesk_ticket_asset",
                condition=models.Q(asset__isnull=False),
            ),
            models.Index(
                fields=["created_at", "id"],
                name="helpdesk_ticket_active",
                condition=models.Q(status_category__in=["new", "open", "pending", "on_hold"]),
            ),
            models.Index(fields=["team", "status_category"], name="helpdesk_ticket_team"),
            models.Index(fields=["created_at"], name="helpdesk_ticket_created"),
            models.Index(fields=["updated_at"], name="helpdesk_ticket_updated"),
            models.Index(
                fields=["wake_at"],
                name="helpdesk_ticket_wake",
                condition=models.Q(wake_at__isnull=False),
            ),
            models.Index(
                fields=["sla_deadline"],
                name="helpdesk_ticket_deadline",
                condition=models.Q(sla_deadline__isnull=False),
            ),
            models.Index(
                fields=["closed_at", "anonymised"],
                name="helpdesk_ticket_retention",
                condition=models.Q(status_category="closed"),
            ),
            models.Index(
                fields=["organization", "created_at"],
                name="helpdesk_ticket_organization",
                condition=models.Q(organization__isnull=False),
            ),
            models.Index(
                fields=["type", "status_category", "closed_at"], name="helpdesk_ticket_type"
            ),
            models.Index(
                fields=["team", "queued_at"],
                name="helpdesk_ticket_queued",
                condition=models.Q(
                    queued_at__isnull=False,
                    assignee__isnull=True,
                    status_category__in=["new", "open", "pending", "on_hold"],
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} ({self.id})"


class TicketTag(models.Model):
    """One tag of a ticket (tag filters look here)."""

    ticket = models.ForeignKey(TicketRecord, on_delete=models.CASCADE, related_name="tag_rows")
    tag = models.TextField()

    class Meta:
        db_table = "helpdesk_ticket_tag"
        constraints = [
            models.UniqueConstraint(fields=["ticket", "tag"], name="helpdesk_ticket_tag_unique")
        ]
        indexes = [models.Index(fields=["tag"], name="helpdesk_ticket_tag_tag")]


class TicketLink(models.Model):
    """A ticket that a ticket links to, in any way (``links_to`` filters look here: a
    retention pass that purges a ticket finds the tickets linking to it)."""

    ticket = models.ForeignKey(TicketRecord, on_delete=models.CASCADE, related_name="link_rows")
    other = models.TextField()

    class Meta:
        db_table = "helpdesk_ticket_link"
        constraints = [
            models.UniqueConstraint(fields=["ticket", "other"], name="helpdesk_ticket_link_unique")
        ]
        indexes = [models.Index(fields=["other"], name="helpdesk_ticket_link_other")]


class EventRecord(models.Model):
    """One event of a ticket. ``position`` is its place in the global event order, and
    every event is an outbox item: consumers read this table from their high-water mark."""

    position = models.BigAutoField(primary_key=True)
    ticket = models.ForeignKey(
        TicketRecord, on_delete=models.CASCADE, related_name="event_rows", db_index=False
    )
    version = models.IntegerField()
    type = models.TextField()
    at = models.DateTimeField()
    data = models.TextField()

    class Meta:
        db_table = "helpdesk_event"
        verbose_name = "event"
        constraints = [
            models.UniqueConstraint(fields=["ticket", "version"], name="helpdesk_event_version")
        ]

    def __str__(self) -> str:
        return f"{self.type} ({self.ticket_id}:{self.version})"


class RequesterRecord(models.Model):
    """A requester; ``email_key`` is the case-folded address for lookups."""

    id = models.TextField(primary_key=True)
    email_key = models.TextField(null=True)
    data = models.TextField()

    class Meta:
        db_table = "helpdesk_requester"
        verbose_name = "requester"
        indexes = [models.Index(fields=["email_key"], name="helpdesk_requester_email")]

    def __str__(self) -> str:
        return str(self.id)


class Cursor(models.Model):
    """A persistent counter (round-robin positions)."""

    key = models.TextField(primary_key=True)
    value = models.BigIntegerField()

    class Meta:
        db_table = "helpdesk_cursor"


class ConfigDocument(models.Model):
    """The desk's saved configuration document (one row, ``id = 1``)."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    document = models.TextField()

    class Meta:
        db_table = "helpdesk_config"


class NamedCounter(models.Model):
    """A named counter; ``ticket_number`` hands out the human ticket numbers."""

    name = models.TextField(primary_key=True)
    value = models.BigIntegerField()

    class Meta:
        db_table = "helpdesk_counter"


class OutboxConsumer(models.Model):
    """A named outbox consumer and its high-water mark: every event at or below
    ``acked_upto`` is delivered to it."""

    name = models.TextField(primary_key=True)
    acked_upto = models.BigIntegerField(default=0)

    class Meta:
        db_table = "helpdesk_outbox_consumer"


class OutboxDelivery(models.Model):
    """The state of one event for one consumer above its high-water mark: ``leased``
    (until ``lease_until``), ``pending`` (released after a failure) or ``acked``."""

    consumer = models.TextField()
    position = models.BigIntegerField()
    state = models.TextField()
    lease_until = models.DateTimeField(null=True)
    attempts = models.IntegerField(default=0)
    last_error = models.TextField(null=True)

    class Meta:
        db_table = "helpdesk_outbox_delivery"
        constraints = [
            models.UniqueConstraint(
                fields=["consumer", "position"], name="helpdesk_outbox_delivery_unique"
            )
        ]


class ArticleRecord(models.Model):
    """A knowledge-base article: the columns queries filter on, the number of its
    searchable words (for ranking), and the article as JSON text."""

    id = models.TextField(primary_key=True)
    version = models.IntegerField()
    status = models.TextField()
    category = models.TextField(null=True)
    author = models.TextField()
    updated_at = models.DateTimeField()
    word_count = models.IntegerField()
    data = models.TextField()

    class Meta:
        db_table = "helpdesk_article"
        verbose_name = "article"
        indexes = [models.Index(fields=["updated_at"], name="helpdesk_article_updated")]

    def __str__(self) -> str:
        return str(self.id)


class ArticleTag(models.Model):
    """One tag of an article."""

    article = models.ForeignKey(ArticleRecord, on_delete=models.CASCADE, related_name="tag_rows")
    tag = models.TextField()

    class Meta:
        db_table = "helpdesk_article_tag"
        constraints = [
            models.UniqueConstraint(fields=["article", "tag"], name="helpdesk_article_tag_unique")
        ]
        indexes = [models.Index(fields=["tag"], name="helpdesk_article_tag_tag")]


class ArticleProblem(models.Model):
    """A problem ticket an article documents."""

    article = models.ForeignKey(
        ArticleRecord, on_delete=models.CASCADE, related_name="problem_rows"
    )
    problem = models.TextField()

    class Meta:
        db_table = "helpdesk_article_problem"
        constraints = [
            models.UniqueConstraint(
                fields=["article", "problem"], name="helpdesk_article_problem_unique"
            )
        ]
        indexes = [models.Index(fields=["problem"], name="helpdesk_article_problem_key")]


class ArticleWord(models.Model):
    """How often a searchable word (``helpdesk_core.knowledge.article_words``) occurs in
    an article: the word index that text queries and the ranking read."""

    article = models.ForeignKey(ArticleRecord, on_delete=models.CASCADE, related_name="word_rows")
    word = models.TextField()
    count = models.IntegerField()

    class Meta:
        db_table = "helpdesk_article_word"
        constraints = [
            models.UniqueConstraint(fields=["article", "word"], name="helpdesk_article_word_unique")
        ]
        indexes = [models.Index(fields=["word"], name="helpdesk_article_word_word")]
