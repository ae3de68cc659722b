"""Reads behind the internal API: training runs and the conversations they used."""

from django.core import signing

from retention.models import TrainingRun, TrainingRunConversation

_CURSOR_SALT = "ingest.training-run-conversations"


class BadCursor(ValueError):
    """The cursor was not issued by this portal for this run."""


def training_run_get(*, external_id: str) -> TrainingRun | None:
    return TrainingRun.objects.filter(external_id=external_id).first()


def training_run_conversation_count(*, run: TrainingRun) -> int:
    return TrainingRunConversation.objects.filter(run=run).count()


def _cursor_encode(run: TrainingRun, after_id: int) -> str:
    # Signed, so a client cannot forge positions or reuse one run's cursor on another.
    return signing.dumps([run.pk, after_id], salt=_CURSOR_SALT, compress=False)


def _cursor_decode(run: TrainingRun, cursor: str) -> int:
    try:
        run_pk, after_id = signing.loads(cursor, salt=_CURSOR_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise BadCursor("not a cursor this API issued") from None
    if run_pk != run.pk or not isinstance(after_id, int):
        raise BadCursor("this cursor belongs to another training run")
    return after_id


def training_run_conversations_page(
    *, run: TrainingRun, cursor: str | None, limit: int
) -> tuple[list[str], str | None]:
    """One page of the external ids of the conversations `run` used, in the
    order they were recorded (keyset on the row id, so pages neither skip nor
    repeat rows), and the cursor of the next page or None at the end.
    Raises BadCursor."""
    after_id = _cursor_decode(run, cursor) if cursor else 0
    rows = list(
        TrainingRunConversation.objects.filter(run=run, pk__gt=after_id)
        .order_by("pk")
        .values_list("pk", "conversation_external_id")[: limit + 1]
    )
    page = rows[:limit]
    next_cursor = _cursor_encode(run, page[-1][0]) if len(rows) > limit else None
    return [external_id for _, external_id in page], next_cursor
