"""The tickets each ticket links to, filled in from the stored snapshots, with an index on
the linked id: a retention pass that purges a ticket reads the tickets linking to it, and
``incidents_of`` the active tickets linking to a problem, where they read every ticket."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

from helpdesk_core.storage.codecs import loads


def _fill(apps: Any, schema_editor: Any) -> None:
    tickets = apps.get_model("helpdesk", "TicketRecord")
    links = apps.get_model("helpdesk", "TicketLink")
    using = schema_editor.connection.alias
    rows = []
    for row in tickets.objects.using(using).filter(snapshot__contains='"other"').only(
        "pk", "snapshot"
    ):
        data = loads(row.snapshot)
        others = {
            link["other"]
            for link in data.get("links") or ()
            if isinstance(link, dict) and isinstance(link.get("other"), str)
        }
        rows.extend(links(ticket_id=row.pk, other=other) for other in sorted(others))
    links.objects.using(using).bulk_create(rows, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0004_owner_asset_indexes")]

    operations = [
        migrations.CreateModel(
            name="TicketLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("other", models.TextField()),
                (
                    "ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="link_rows",
                        to="helpdesk.ticketrecord",
                    ),
                ),
            ],
            options={
                "db_table": "helpdesk_ticket_link",
                "indexes": [models.Index(fields=["other"], name="helpdesk_ticket_link_other")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("ticket", "other"), name="helpdesk_ticket_link_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(_fill, migrations.RunPython.noop),
    ]
