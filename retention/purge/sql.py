"""The SQL that decides what is due, shared by the purge, its dry run and the
deletion-health check so the three can never disagree, and the helpers their
raw SQL needs.

Each predicate repeats the safety rule on its own (defence in depth): the
stored deadline must have passed, the owner must not be commercial, and no
active legal hold may cover the account or the item (both exemptions defined
once, in retention.selectors.exemptions).
"""

from collections.abc import Sequence
from datetime import datetime

from django.db import connection
from django.utils import timezone

from accounts.models import User
from retention.models import Conversation, Feedback, Flag, Message
from retention.selectors.exemptions import hold_covers_sql, owner_is_commercial_sql

CONVERSATION = Conversation._meta.db_table
MESSAGE = Message._meta.db_table
FLAG = Flag._meta.db_table
FEEDBACK = Feedback._meta.db_table
USER = User._meta.db_table

# c = conversation, u = its owner. One parameter: the cutoff.
CONVERSATION_DUE = f"""
    c.retain_until IS NOT NULL AND c.retain_until <= %s
    AND c.rule NOT IN ('commercial', 'legal_hold')
    AND NOT {owner_is_commercial_sql(owner_alias="u")}
    AND NOT {hold_covers_sql(user_column="c.user_id", conversation_column="c.external_id")}
"""

# f = flag, u = its owner. Scores go only once the content is gone.
SCORES_DUE = f"""
    f.conversation_id IS NULL
    AND f.scores_retain_until IS NOT NULL AND f.scores_retain_until <= %s
    AND NOT {owner_is_commercial_sql(owner_alias="u")}
    AND NOT {hold_covers_sql(user_column="f.user_id", conversation_column="f.conversation_external_id")}
"""

# fb = feedback, u = its owner.
FEEDBACK_DUE = f"""
    fb.retain_until IS NOT NULL AND fb.retain_until <= %s
    AND NOT {owner_is_commercial_sql(owner_alias="u")}
    AND NOT {hold_covers_sql(user_column="fb.user_id", conversation_column="fb.conversation_external_id")}
"""


def as_aware(value: datetime | str | None) -> datetime | None:
    """A datetime read by raw SQL: SQLite returns naive UTC datetimes (or
    text), PostgreSQL aware ones."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, timezone.UTC)


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def array_cursor():
    """A cursor for statements carrying id arrays. On PostgreSQL it binds
    parameters on the server (Django's cursor quotes every array element into
    the SQL text, which costs more than the DELETE); same connection, so same
    transaction. Elsewhere Django's own cursor."""
    if not is_postgresql():
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def skip_locked(table_alias: str) -> str:
    """Row locks for a claim. SQLite has none: its write lock, taken at BEGIN
    IMMEDIATE (settings), already serialises every writer."""
    return f"FOR UPDATE OF {table_alias} SKIP LOCKED" if is_postgresql() else ""


def in_ids(column: str, ids: Sequence[int]) -> tuple[str, list]:
    """`column` is one of `ids`: on PostgreSQL one array parameter, sent as
    its text form (psycopg adapts a list of ints element by element in
    Python, which costs more than the statement)."""
    if is_postgresql():
        return f"{column} = ANY(%s::bigint[])", ["{" + ",".join(map(str, map(int, ids))) + "}"]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)
