"""What a retention pass asks for: when a closed ticket closed, and whether it was
anonymised, filled in from the stored snapshots, with an index of closed tickets."""

from datetime import UTC, datetime
from typing import Any

from django.db import migrations, models

from helpdesk_core.storage.codecs import loads


def _fill(apps: Any, schema_editor: Any) -> None:
    tickets = apps.get_model("helpdesk", "TicketRecord")
    using = schema_editor.connection.alias
    for row in tickets.objects.using(using).only("pk", "snapshot", "status_category"):
        data = loads(row.snapshot)
        closed = data.get("closed_at") if row.status_category == "closed" else None
        anonymised = data.get("anonymised") is True
        if closed is None and not anonymised:
            continue
        at = None
        if closed is not None:
            at = datetime.fromisoformat(closed)
            at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        tickets.objects.using(using).filter(pk=row.pk).update(closed_at=at, anonymised=anonymised)


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="ticketrecord",
            name="closed_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="ticketrecord",
            name="anonymised",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(_fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="ticketrecord",
            index=models.Index(
                condition=models.Q(status_category="closed"),
                fields=["closed_at", "anonymised"],
                name="helpdesk_ticket_retention",
            ),
        ),
    ]
