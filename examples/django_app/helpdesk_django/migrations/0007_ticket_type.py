"""The ticket's type, filled in from the stored snapshots, with an index on (type, status
category, closed_at): a retention pass with a policy limited to some ticket types reads
the closed tickets of those types, where it read every closed ticket old enough, and the
known-error view reads the active problems, where it read every active ticket."""

from typing import Any

from django.db import migrations, models

from helpdesk_core.storage.codecs import loads

#: What a snapshot written without a type holds (the model's default).
_DEFAULT = "incident"


def _fill(apps: Any, schema_editor: Any) -> None:
    tickets = apps.get_model("helpdesk", "TicketRecord")
    using = schema_editor.connection.alias
    for row in tickets.objects.using(using).only("pk", "snapshot").iterator():
        kind = loads(row.snapshot).get("type", _DEFAULT)
        if kind != _DEFAULT:
            tickets.objects.using(using).filter(pk=row.pk).update(type=kind)


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0006_queued_at")]

    operations = [
        migrations.AddField(
            model_name="ticketrecord",
            name="type",
            field=models.TextField(default=_DEFAULT),
        ),
        migrations.RunPython(_fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="ticketrecord",
            index=models.Index(
                fields=["type", "status_category", "closed_at"], name="helpdesk_ticket_type"
            ),
        ),
    ]
