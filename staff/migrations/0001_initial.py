"""The staff access log moves here from the support app: state only, the
table (support_accesslog), its rows, indexes and append-only triggers stay
as they are. Its content type moves with it, so the permissions granted on it
(the console's `use_console` among them) keep their rows and their holders."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="staff", model="accesslog").exists():
        content_type.objects.filter(app_label="support", model="accesslog").update(
            app_label="staff"
        )


def restore_content_type(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="support", model="accesslog").exists():
        content_type.objects.filter(app_label="staff", model="accesslog").update(
            app_label="support"
        )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("support", "0003_accesslog_console_permission"),
        ("accounts", "0003_role_groups"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AccessLog",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "role",
                            models.CharField(
                                choices=[
                                    ("support_agent", "Support agent"),
                                    ("privacy_admin", "Privacy admin"),
                                    ("end_user", "End user"),
                                    ("anonymous", "Anonymous"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("reason", models.CharField(blank=True, max_length=500)),
                        (
                            "data_kind",
                            models.CharField(
                                choices=[
                                    ("metadata", "Account and conversation metadata"),
                                    ("titles", "Conversation titles"),
                                    ("content", "Conversation content"),
                                    ("none", "Nothing (denied)"),
                                ],
                                max_length=16,
                            ),
                        ),
                        (
                            "outcome",
                            models.CharField(
                                choices=[("granted", "Granted"), ("denied", "Denied")],
                                default="granted",
                                max_length=8,
                            ),
                        ),
                        ("path", models.CharField(blank=True, max_length=500)),
                        ("method", models.CharField(blank=True, max_length=8)),
                        (
                            "account",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="staff_accesses",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "staff",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "support_accesslog",
                        "ordering": ["-at", "-id"],
                        "permissions": [
                            (
                                "use_console",
                                "Can use the support console (read-only account lookups)",
                            )
                        ],
                        "indexes": [
                            models.Index(fields=["account", "-at"], name="access_account_at_idx"),
                            models.Index(fields=["-at"], name="access_at_idx"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
