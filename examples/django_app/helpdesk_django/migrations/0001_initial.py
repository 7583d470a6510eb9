"""The helpdesk tables (written by ``manage.py makemigrations``)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="ConfigDocument",
            fields=[
                ("id", models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ("document", models.TextField()),
            ],
            options={
                "db_table": "helpdesk_config",
            },
        ),
        migrations.CreateModel(
            name="Cursor",
            fields=[
                ("key", models.TextField(primary_key=True, serialize=False)),
                ("value", models.BigIntegerField()),
            ],
            options={
                "db_table": "helpdesk_cursor",
            },
        ),
        migrations.CreateModel(
            name="NamedCounter",
            fields=[
                ("name", models.TextField(primary_key=True, serialize=False)),
                ("value", models.BigIntegerField()),
            ],
            options={
                "db_table": "helpdesk_counter",
            },
        ),
        migrations.CreateModel(
            name="OutboxConsumer",
            fields=[
                ("name", models.TextField(primary_key=True, serialize=False)),
                ("acked_upto", models.BigIntegerField(default=0)),
            ],
            options={
                "db_table": "helpdesk_outbox_consumer",
            },
        ),
        migrations.CreateModel(
            name="ArticleRecord",
            fields=[
                ("id", models.TextField(primary_key=True, serialize=False)),
                ("version", models.IntegerField()),
                ("status", models.TextField()),
                ("category", models.TextField(null=True)),
                ("author", models.TextField()),
                ("updated_at", models.DateTimeField()),
                ("word_count", models.IntegerField()),
                ("data", models.TextField()),
            ],
            options={
                "verbose_name": "article",
                "db_table": "helpdesk_article",
                "indexes": [models.Index(fields=["updated_at"], name="helpdesk_article_updated")],
            },
        ),
        migrations.CreateModel(
            name="OutboxDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("consumer", models.TextField()),
                ("position", models.BigIntegerField()),
                ("state", models.TextField()),
                ("lease_until", models.DateTimeField(null=True)),
                ("attempts", models.IntegerField(default=0)),
                ("last_error", models.TextField(null=True)),
            ],
            options={
                "db_table": "helpdesk_outbox_delivery",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("consumer", "position"), name="helpdesk_outbox_delivery_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="RequesterRecord",
            fields=[
                ("id", models.TextField(primary_key=True, serialize=False)),
                ("email_key", models.TextField(null=True)),
                ("data", models.TextField()),
            ],
            options={
                "verbose_name": "requester",
                "db_table": "helpdesk_requester",
                "indexes": [models.Index(fields=["email_key"], name="helpdesk_requester_email")],
            },
        ),
        migrations.CreateModel(
            name="TicketRecord",
            fields=[
                ("id", models.TextField(primary_key=True, serialize=False)),
                ("number", models.BigIntegerField()),
                ("version", models.IntegerField()),
                ("status", models.TextField()),
                ("status_category", models.TextField()),
                ("category", models.TextField(null=True)),
                ("team", models.TextField(null=True)),
                ("tier", models.TextField(null=True)),
                ("assignee", models.TextField(null=True)),
                ("owner", models.TextField(null=True)),
                ("requester", models.TextField()),
                ("asset", models.TextField(null=True)),
                ("priority", models.TextField()),
                ("priority_rank", models.SmallIntegerField()),
                ("created_at", models.DateTimeField()),
                ("updated_at", models.DateTimeField()),
                ("wake_at", models.DateTimeField(null=True)),
                ("sla_deadline", models.DateTimeField(null=True)),
                ("lease_owner", models.TextField(null=True)),
                ("lease_until", models.DateTimeField(null=True)),
                ("search_text", models.TextField()),
                ("snapshot", models.TextField()),
            ],
            options={
                "verbose_name": "ticket",
                "db_table": "helpdesk_ticket",
                "indexes": [
                    models.Index(fields=["number"], name="helpdesk_ticket_number"),
                    models.Index(
                        fields=["requester", "created_at"], name="helpdesk_ticket_requester"
                    ),
                    models.Index(
                        fields=["assignee", "status_category"], name="helpdesk_ticket_assignee"
                    ),
                    models.Index(fields=["team", "status_category"], name="helpdesk_ticket_team"),
                    models.Index(fields=["created_at"], name="helpdesk_ticket_created"),
                    models.Index(fields=["updated_at"], name="helpdesk_ticket_updated"),
                    models.Index(
                        condition=models.Q(("wake_at__isnull", False)),
                        fields=["wake_at"],
                        name="helpdesk_ticket_wake",
                    ),
                    models.Index(
                        condition=models.Q(("sla_deadline__isnull", False)),
                        fields=["sla_deadline"],
                        name="helpdesk_ticket_deadline",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="ArticleProblem",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("problem", models.TextField()),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="problem_rows",
                        to="helpdesk.articlerecord",
                    ),
                ),
            ],
            options={
                "db_table": "helpdesk_article_problem",
                "indexes": [models.Index(fields=["problem"], name="helpdesk_article_problem_key")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("article", "problem"), name="helpdesk_article_problem_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ArticleTag",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("tag", models.TextField()),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tag_rows",
                        to="helpdesk.articlerecord",
                    ),
                ),
            ],
            options={
                "db_table": "helpdesk_article_tag",
                "indexes": [models.Index(fields=["tag"], name="helpdesk_article_tag_tag")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("article", "tag"), name="helpdesk_article_tag_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ArticleWord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("word", models.TextField()),
                ("count", models.IntegerField()),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="word_rows",
                        to="helpdesk.articlerecord",
                    ),
                ),
            ],
            options={
                "db_table": "helpdesk_article_word",
                "indexes": [models.Index(fields=["word"], name="helpdesk_article_word_word")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("article", "word"), name="helpdesk_article_word_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="EventRecord",
            fields=[
                ("position", models.BigAutoField(primary_key=True, serialize=False)),
                ("version", models.IntegerField()),
                ("type", models.TextField()),
                ("at", models.DateTimeField()),
                ("data", models.TextField()),
                (
                    "ticket",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="event_rows",
                        to="helpdesk.ticketrecord",
                    ),
                ),
            ],
            options={
                "verbose_name": "event",
                "db_table": "helpdesk_event",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("ticket", "version"), name="helpdesk_event_version"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="TicketTag",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("tag", models.TextField()),
                (
                    "ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tag_rows",
                        to="helpdesk.ticketrecord",
                    ),
                ),
            ],
            options={
                "db_table": "helpdesk_ticket_tag",
                "indexes": [models.Index(fields=["tag"], name="helpdesk_ticket_tag_tag")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("ticket", "tag"), name="helpdesk_ticket_tag_unique"
                    )
                ],
            },
        ),
    ]
