"""What an account deletion did and what the article keeps, until when, as
JSON: the answer of DELETE /api/me/account, and what the page after the
deletion shows (carried in the new, anonymous session)."""

from dashboard.presentation import iso_utc
from retention.services.accounts import AccountDeletion


def account_deletion_json(result: AccountDeletion) -> dict:
    """What was done and what the article keeps, until when."""
    kept = result.kept
    return {
        "deleted_at": iso_utc(result.deleted_at),
        "conversations_deleted": result.conversations_deleted,
        "consent_withdrawn": result.consent_withdrawn,
        "sign_in_disabled": True,
        "sessions_ended": True,
        "kept": [
            {"kind": kind, "count": count, "until": iso_utc(until)}
            for kind, count, until in (
                ("deleted_conversations", kept.deleted_awaiting, kept.deleted_until),
                ("flagged_content", kept.flagged, kept.flagged_until),
                ("classification_scores", kept.scores, kept.scores_until),
                ("feedback", kept.feedback, kept.feedback_until),
            )
            if count
        ],
        "account_erased": result.erased,
    }
