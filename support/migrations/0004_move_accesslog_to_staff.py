"""The staff access log now belongs to the staff app (staff 0001): drop it
from this app's state only; the table and its rows stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0003_accesslog_console_permission"),
        ("staff", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AccessLog")],
            database_operations=[],
        ),
    ]
