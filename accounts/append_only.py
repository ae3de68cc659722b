"""Database triggers that make a table append-only: UPDATE and DELETE fail.

On PostgreSQL (production) both are refused. On SQLite, the development
default, only UPDATE is refused: Django's test runner empties tables with
DELETE there, and SQLite has no TRUNCATE to tell apart.
"""

from django.db import migrations


def _create(table: str):
    def create(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(
                f"""
                CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
                BEGIN
                    RAISE EXCEPTION USING
                        MESSAGE = '{table} is append-only: ' || TG_OP || ' refused',
                        ERRCODE = 'insufficient_privilege';
                END;
                $$ LANGUAGE plpgsql;
                """
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only();"
            )
        elif vendor == "sqlite":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END;"
            )

    return create


def _drop(table: str):
    def drop(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table};")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_append_only();")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update;")

    return drop


def append_only(table: str) -> migrations.RunPython:
    return migrations.RunPython(_create(table), _drop(table))


def lift_append_only(table: str) -> migrations.RunPython:
    """Drop the triggers for the schema changes that follow, which must end
    with append_only(table) again. SQLite rebuilds a table to alter it and
    loses its triggers on the way; dropping first makes both databases take
    the same path."""
    return migrations.RunPython(_drop(table), _create(table))
