"""The indexes a delivery claim reads through (connected/models.py): the
pending deliveries in order, and the dead and the claimed ones per account.
The (system, account, seq) index over pending and dead rows together helped
no query (the claim read the whole table to find the blocked accounts) and
is dropped.

Plain CREATE INDEX, as every migration here: it blocks writes to the table
while it builds; on a large production table, build the three indexes
first with CREATE INDEX CONCURRENTLY under these names (the migration then
fails on "already exists": mark it applied with migrate --fake).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("connected", "0002_delivery_schedule"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="delivery",
            name="connected_delivery_blocking",
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("state", "pending")),
                fields=["system", "seq"],
                name="connected_delivery_pending",
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("claimed_until__isnull", False), ("state", "pending")),
                fields=["system", "account", "seq"],
                name="connected_delivery_claimed",
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("state", "dead")),
                fields=["system", "account", "seq"],
                name="connected_delivery_dead",
            ),
        ),
    ]
