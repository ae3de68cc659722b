"""Training runs: which conversations a run may use is fixed when it starts."""

from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q

from accounts.selectors import consent_allowed_at
from retention.models import Conversation, TrainingRun, TrainingRunConversation
from retention.selectors.exemptions import owner_is_commercial


class TrainingRunConflict(ValueError):
    """The id was registered before with a different name or start time."""


def eligible_conversations(started_at: datetime):
    """Conversations a run starting at `started_at` may use: basis shared, not
    deleted by then, existing by then, and the owner's consent allowed at
    that moment; consumer accounts only."""
    return (
        Conversation.objects.filter(shared_for_training=True, created_at__lte=started_at)
        .filter(~owner_is_commercial())
        .filter(Q(deleted_at__isnull=True) | Q(deleted_at__gt=started_at))
        .annotate(consent_then=consent_allowed_at(user_ref="user_id", moment=started_at))
        .filter(consent_then=True)
    )


@transaction.atomic
def training_run_register(
    *, external_id: str, name: str, started_at: datetime
) -> tuple[TrainingRun, bool]:
    """Record a run and, in one INSERT ... SELECT, the conversations it uses.
    Registering the same id again changes nothing; a different name or start
    for a known id is a conflict."""
    run, created = TrainingRun.objects.get_or_create(
        external_id=external_id, defaults={"name": name, "started_at": started_at}
    )
    if not created:
        if run.name != name or run.started_at != started_at:
            raise TrainingRunConflict(
                f"Training run {external_id!r} is already registered with another name or start."
            )
        return run, False
    select_sql, params = (
        eligible_conversations(started_at)
        .values_list("pk", "external_id", "user_id")
        .query.sql_with_params()
    )
    table = TrainingRunConversation._meta.db_table
    # The table name comes from model metadata and the SELECT from the ORM's
    # compiler; every value is a bound parameter.
    with connection.cursor() as cursor:
        insert = (
            f"INSERT INTO {table} (run_id, conversation_id, conversation_external_id, user_id) "  # noqa: S608
            f"SELECT %s, sub.* FROM ({select_sql}) AS sub"
        )
        cursor.execute(
            insert,
            (run.pk, *params),
        )
    return run, True
