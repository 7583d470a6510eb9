"""Indexes on owner, asset and the active tickets: an agent's view of the desk (team,
unrouted, assignee or owner) is an OR the database serves from indexes only when every
part has one, the asset facet of similar tickets reads by asset, and a list of active
tickets reads them in the default order without walking every ticket."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0003_organization")]

    operations = [
        migrations.AddIndex(
            model_name="ticketrecord",
            index=models.Index(
                fields=["owner", "status_category"],
                name="helpdesk_ticket_owner",
                condition=models.Q(owner__isnull=False),
            ),
        ),
        migrations.AddIndex(
            model_name="ticketrecord",
            index=models.Index(
                condition=models.Q(asset__isnull=False),
                fields=["asset"],
                name="helpdesk_ticket_asset",
            ),
        ),
        migrations.AddIndex(
            model_name="ticketrecord",
            index=models.Index(
                condition=models.Q(status_category__in=["new", "open", "pending", "on_hold"]),
                fields=["created_at", "id"],
                name="helpdesk_ticket_active",
            ),
        ),
    ]
