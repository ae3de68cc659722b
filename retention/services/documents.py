"""Loads the shipped help article into the database as a versioned document."""

import hashlib

from django.db import transaction

from retention.models import PolicyDocument, PolicySection
from retention.policy.article import parse_article, shipped_article


def article_version(text: str) -> str:
    """A stable version label: the first 12 hex digits of the text's SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@transaction.atomic
def policy_document_load(*, text: str | None = None) -> tuple[PolicyDocument, bool]:
    """Make `text` (the shipped article by default) the current document.
    Loading the same text again changes nothing. Returns (document, created)."""
    text = text if text is not None else shipped_article().text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    existing = PolicyDocument.objects.filter(source_sha256=digest).first()
    if existing and existing.is_current:
        return existing, False
    PolicyDocument.objects.filter(is_current=True).update(is_current=False)
    if existing:
        existing.is_current = True
        existing.save(update_fields=["is_current"])
        return existing, False
    article = parse_article(text)
    document = PolicyDocument.objects.create(
        version=article_version(text),
        title=article.title,
        source_sha256=digest,
        text=text,
        is_current=True,
    )
    PolicySection.objects.bulk_create(
        PolicySection(
            document=document,
            anchor=section.anchor,
            heading=section.heading,
            level=section.level,
            position=section.position,
            body=section.body,
        )
        for section in article.sections
    )
    return document, True
