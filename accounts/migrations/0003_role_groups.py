"""Create the role groups ("Privacy admins", "Support agents") with the
permission sets of accounts/roles.py."""

from django.db import migrations

from accounts.roles import groups_remove, groups_sync


def forwards(apps, schema_editor):
    groups_sync(apps)


def backwards(apps, schema_editor):
    groups_remove(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_consent_ledger_append_only"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("retention", "0002_append_only_and_policy_data"),
        ("support", "0003_accesslog_console_permission"),
        ("ingest", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
