"""A view of content points at the grant it was shown under. The access log
stays append-only: its triggers are dropped around the column's addition
(SQLite rebuilds tables) and created again."""

import django.db.models.deletion
from django.db import migrations, models

from accounts.append_only import append_only, lift_append_only


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0002_denied_access_window"),
    ]

    operations = [
        lift_append_only("support_accesslog"),
        migrations.AddField(
            model_name="accesslog",
            name="grant",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="views",
                to="staff.accesslog",
            ),
        ),
        append_only("support_accesslog"),
    ]
