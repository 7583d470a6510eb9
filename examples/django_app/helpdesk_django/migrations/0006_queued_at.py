"""Since when a ticket waits in its team's queue for an assignment, filled in from the
stored snapshots, with an index of the waiting tickets: a queue drain reads those, where
it read a team's oldest 1,000 unassigned tickets (with ``auto_assign`` off, mostly
tickets waiting for a person to pick them) and kept the waiting ones."""

from datetime import UTC, datetime
from typing import Any

from django.db import migrations, models

from helpdesk_core.storage.codecs import loads


def _fill(apps: Any, schema_editor: Any) -> None:
    tickets = apps.get_model("helpdesk", "TicketRecord")
    using = schema_editor.connection.alias
    # Snapshots are compact JSON: a waiting ticket's holds '"queued_at":"<instant>"'.
    waiting = tickets.objects.using(using).filter(snapshot__contains='"queued_at":"')
    for row in waiting.only("pk", "snapshot").iterator():
        queued = loads(row.snapshot).get("queued_at")
        if not isinstance(queued, str):
            continue
        at = datetime.fromisoformat(queued)
        at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        tickets.objects.using(using).filter(pk=row.pk).update(queued_at=at)


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0005_ticket_links")]

    operations = [
        migrations.AddField(
            model_name="ticketrecord",
            name="queued_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(_fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="ticketrecord",
            index=models.Index(
                condition=models.Q(
                    queued_at__isnull=False,
                    assignee__isnull=True,
                    status_category__in=["new", "open", "pending", "on_hold"],
                ),
                fields=["team", "queued_at"],
                name="helpdesk_ticket_queued",
            ),
        ),
    ]
