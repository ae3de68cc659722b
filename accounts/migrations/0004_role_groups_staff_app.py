"""The role groups again, now that the access log (and the console's
permission) belongs to the staff app: accounts 0003 left out what it could
not see yet."""

from django.db import migrations

from accounts.roles import groups_sync


def forwards(apps, schema_editor):
    groups_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_role_groups"),
        ("staff", "0001_initial"),
        ("support", "0004_move_accesslog_to_staff"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
