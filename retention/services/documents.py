"""The help article as versioned documents: the shipped text loaded, and a
new version published whenever the policy settings change (stating the new
durations), and a user's reading of the change notice."""

import hashlib
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.data_version import data_version_bump, data_version_bump_all
from accounts.models import User
from retention.models import PolicyDocument, PolicyNoticeRead, PolicySection
from retention.policy.article import (
    HasDurations,
    parse_article,
    render_article_text,
    shipped_article,
)


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
    data_version_bump_all()
    if existing:
        existing.is_current = True
        existing.save(update_fields=["is_current"])
        return existing, False
    return _create_document(text, version=article_version(text)), True


def _create_document(
    text: str, *, version: str, changes: str = "", effective_at: datetime | None = None
) -> PolicyDocument:
    article = parse_article(text)
    now = timezone.now()
    document = PolicyDocument.objects.create(
        version=version,
        title=article.title,
        source_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        text=text,
        loaded_at=now,
        effective_at=effective_at or now,
        changes=changes,
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
    return document


@transaction.atomic
def policy_document_publish(
    *, durations: HasDurations, changes: str, effective_at: datetime
) -> PolicyDocument:
    """A new current version of the article stating `durations` (called by a
    settings change, in its transaction): `changes` says what changed, in
    words, for the version history and the users' notice. Its version label
    is what every later consent change records."""
    text = render_article_text(shipped_article().text, durations)
    version = article_version(text)
    if PolicyDocument.objects.filter(version=version).exists():
        # The same text again (a change undone): a version of its own all the same.
        version = f"{version}-{PolicyDocument.objects.count() + 1}"
    PolicyDocument.objects.filter(is_current=True).update(is_current=False)
    data_version_bump_all()
    return _create_document(text, version=version, changes=changes, effective_at=effective_at)


class UnknownPolicyVersion(LookupError):
    pass


def policy_notice_dismiss(*, user: User, version: str) -> PolicyNoticeRead:
    """Record that `user` read the notice of policy `version` (idempotent)."""
    document = PolicyDocument.objects.filter(version=version).first()
    if document is None:
        raise UnknownPolicyVersion(version)
    read, created = PolicyNoticeRead.objects.get_or_create(user=user, document=document)
    if created:
        data_version_bump(user_ids=[user.pk])
    return read
