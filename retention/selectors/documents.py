"""Reads of the policy document (the help article as versioned data), its
version history and a user's unread change notice."""

from django.db.models import QuerySet

from accounts.models import User
from retention.models import PolicyDocument, PolicyNoticeRead
from retention.policy.article import shipped_article
from retention.services.documents import article_version


def current_document() -> PolicyDocument | None:
    return PolicyDocument.objects.filter(is_current=True).prefetch_related("sections").first()


def current_article_version() -> str:
    version = (
        PolicyDocument.objects.filter(is_current=True).values_list("version", flat=True).first()
    )
    return version or article_version(shipped_article().text)


def policy_versions(*, limit: int = 20) -> QuerySet[PolicyDocument]:
    """The article's versions, newest first (effective date, what changed)."""
    return PolicyDocument.objects.only("version", "effective_at", "changes", "is_current").order_by(
        "-effective_at", "-id"
    )[:limit]


def policy_notice_for(*, user: User) -> PolicyDocument | None:
    """The current version when it changed the policy after the user joined
    and the user has not dismissed its notice; else None."""
    document = (
        PolicyDocument.objects.filter(is_current=True, effective_at__gt=user.date_joined)
        .exclude(changes="")
        .only("version", "effective_at", "changes")
        .first()
    )
    if document is None:
        return None
    if PolicyNoticeRead.objects.filter(user=user, document=document).exists():
        return None
    return document
