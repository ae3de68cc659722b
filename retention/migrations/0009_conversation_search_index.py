"""Trigram indexes for the conversation search (titles and message content).

The dashboard searches with Django's `icontains`, which PostgreSQL runs as
`UPPER(col::text) LIKE UPPER('%term%')`; a GIN index over `UPPER(col)` with
`gin_trgm_ops` answers exactly that expression, for any substring of three
characters or more. Only PostgreSQL gets the indexes (and the pg_trgm
extension); SQLite scans, which is fine at its scale.
"""

from django.db import migrations

INDEXES = (
    ("conv_title_trgm_idx", "retention_conversation", "title"),
    ("msg_content_trgm_idx", "retention_message", "content"),
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0008_policy_versions"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
