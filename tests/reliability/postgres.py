"""A connection of its own to the test database, as another process would
have: to lock rows, watch pg_stat_activity or terminate a backend."""

import psycopg
from django.db import connection


def other_connection(*, autocommit: bool = True) -> psycopg.Connection:
    """Autocommit by default: pg_stat_activity is read once per transaction,
    so a watcher inside one would never see a change. Never a prepared
    statement (a watcher repeats its query): behind PgBouncer in transaction
    mode the next run may land on a server session that never prepared it."""
    s = connection.settings_dict
    return psycopg.connect(
        dbname=s["NAME"],
        user=s["USER"],
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        password=s["PASSWORD"] or None,
        autocommit=autocommit,
        prepare_threshold=None,
    )
