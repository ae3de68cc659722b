"""What takes data out of the consumer policy's deadlines, defined once:

- a commercial owner: commercial accounts are governed by their organisation's
  terms, never by the article (nothing of theirs is purged by these rules);
- an active legal hold that covers the item: a hold on the whole account, or
  a hold on the conversation the item is (or is about), matched by the
  conversation's external id, which outlives the conversation's row.

Each exemption has two forms side by side: an ORM expression (deadline
rewrites, admin, console) and an SQL fragment (the purge's own due
predicates, retention.purge.sql). tests/retention/test_exemptions.py holds
the two forms to the same answers.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import AccountType, User
from retention.models import LegalHold


def active_holds() -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(released_at=None)


def _covering(user, conversation_external_id) -> Q:
    return Q(user_id=user) & (
        Q(scope=LegalHold.Scope.ACCOUNT)
        | Q(scope=LegalHold.Scope.CONVERSATION, conversation_external_id=conversation_external_id)
    )


def holds_covering(*, user_id: int, conversation_external_id: str = "") -> QuerySet[LegalHold]:
    """The active holds that cover an item of `user_id` about a conversation
    (or, with no conversation id, the account's own holds)."""
    if not conversation_external_id:
        return active_holds().filter(user_id=user_id, scope=LegalHold.Scope.ACCOUNT)
    return active_holds().filter(_covering(user_id, conversation_external_id))


def hold_covers(*, user_ref: str = "user_id", conversation_ref: str | None) -> Exists:
    """An active hold covers the outer row: its owner at `user_ref`, the
    external id of its conversation at `conversation_ref` (None: account
    holds only)."""
    if conversation_ref is None:
        return Exists(
            active_holds().filter(user_id=OuterRef(user_ref), scope=LegalHold.Scope.ACCOUNT)
        )
    return Exists(active_holds().filter(_covering(OuterRef(user_ref), OuterRef(conversation_ref))))


def owner_is_commercial(*, user_ref: str = "user_id") -> Exists:
    return Exists(User.objects.filter(pk=OuterRef(user_ref), account_type=AccountType.COMMERCIAL))


HOLD = LegalHold._meta.db_table


def hold_covers_sql(*, user_column: str, conversation_column: str) -> str:
    """hold_covers in SQL, for the purge's raw predicates (no parameters)."""
    # Only the table name and the columns given by the purge's own constants.
    return f"""EXISTS (
        SELECT 1 FROM {HOLD} h
        WHERE h.released_at IS NULL AND h.user_id = {user_column}
          AND (h.scope = '{LegalHold.Scope.ACCOUNT}'
               OR (h.scope = '{LegalHold.Scope.CONVERSATION}'
                   AND h.conversation_external_id = {conversation_column}))
    )"""  # noqa: S608


def owner_is_commercial_sql(*, owner_alias: str) -> str:
    """owner_is_commercial in SQL, for a query that joins the owner as `owner_alias`."""
    return f"{owner_alias}.account_type = '{AccountType.COMMERCIAL}'"
