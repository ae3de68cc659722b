"""Reads of the policy document (the help article as shipped data)."""

from retention.models import PolicyDocument
from retention.policy.article import shipped_article
from retention.services.documents import article_version


def current_document() -> PolicyDocument | None:
    return PolicyDocument.objects.filter(is_current=True).prefetch_related("sections").first()


def current_article_version() -> str:
    version = (
        PolicyDocument.objects.filter(is_current=True).values_list("version", flat=True).first()
    )
    return version or article_version(shipped_article().text)
