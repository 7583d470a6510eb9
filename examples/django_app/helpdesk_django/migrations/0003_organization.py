"""The organization a ticket was opened for, filled in from the stored snapshots, with an
index: a requester who sees their organization's tickets is answered by one query."""

from typing import Any

from django.db import migrations, models

from helpdesk_core.model.people import ANONYMOUS_REQUESTER
from helpdesk_core.storage.codecs import escape_nul, loads


def _fill(apps: Any, schema_editor: Any) -> None:
    tickets = apps.get_model("helpdesk", "TicketRecord")
    using = schema_editor.connection.alias
    for row in tickets.objects.using(using).only("pk", "snapshot"):
        data = loads(row.snapshot)
        organization = data.get("organization")
        # An anonymised ticket belongs to no one (``ticket_organization``).
        if isinstance(organization, str) and data.get("requester") != ANONYMOUS_REQUESTER:
            tickets.objects.using(using).filter(pk=row.pk).update(
                organization=escape_nul(organization)
            )


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0002_retention_columns")]

    operations = [
        migrations.AddField(
            model_name="ticketrecord",
            name="organization",
            field=models.TextField(null=True),
        ),
        migrations.RunPython(_fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="ticketrecord",
            index=models.Index(
                condition=models.Q(organization__isnull=False),
                fields=["organization", "created_at"],
                name="helpdesk_ticket_organization",
            ),
        ),
    ]
