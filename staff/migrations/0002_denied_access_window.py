"""Refusals are counted, not each logged: the first refusal of a window stays
a row of the append-only access log; this counter table (not append-only)
holds how many followed (staff.models.DeniedAccessWindow)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="DeniedAccessWindow",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("requester", models.CharField(max_length=64)),
                ("route", models.CharField(max_length=200)),
                ("window_start", models.DateTimeField()),
                ("count", models.PositiveIntegerField(default=1)),
                ("last_at", models.DateTimeField()),
                (
                    "first",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="denials",
                        to="staff.accesslog",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("requester", "route", "window_start"), name="denied_window_once"
                    )
                ],
            },
        ),
    ]
