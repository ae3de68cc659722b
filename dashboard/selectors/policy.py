"""The policy page: the current article, section by section, and its
version history; the overview's notice of a policy change."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from accounts.models import User
from dashboard.presentation import ShownDate, date_text, render_article_body, shown_date
from retention.models import PolicyDocument
from retention.selectors.documents import current_document, policy_notice_for, policy_versions


class PolicySectionShown(NamedTuple):
    anchor: str
    heading: str
    level: int  # heading level, 1 to 4
    body: SafeString


class PolicyVersionShown(NamedTuple):
    version: str
    effective_at: ShownDate
    changes: str  # empty: the article as shipped
    is_current: bool


@dataclass(frozen=True)
class PolicyPage:
    document: PolicyDocument | None
    sections: list[PolicySectionShown]
    versions: list[PolicyVersionShown]


def policy_page(*, now: datetime) -> PolicyPage:
    document = current_document()
    if document is None:
        return PolicyPage(None, [], [])
    return PolicyPage(
        document,
        [
            PolicySectionShown(
                s.anchor, s.heading, min(max(s.level, 1), 4), render_article_body(s.body)
            )
            for s in document.sections.all()  # prefetched, in position order
        ],
        [
            PolicyVersionShown(v.version, shown_date(v.effective_at, now), v.changes, v.is_current)
            for v in policy_versions()
        ],
    )


@dataclass(frozen=True)
class PolicyNotice:
    version: str
    text: str  # "Our retention policy changed on 3 December 2026: ..."


def policy_notice(*, user: User) -> PolicyNotice | None:
    """The notice of the latest policy change the user has not dismissed."""
    document = policy_notice_for(user=user)
    if document is None:
        return None
    return PolicyNotice(
        document.version,
        # The change is the article's own wording: it stays English (lang="en").
        format_html(
            _("Our retention policy changed on {date}: {changes}."),
            date=date_text(document.effective_at),
            changes=format_html('<span lang="en">{}</span>', document.changes),
        ),
    )


def article_version_labels(versions: Iterable[str]) -> dict[str, str]:
    """How a person reads an article version: "the version of 3 December
    2026" (its effective date), never the version code; one query. A version
    the portal never published maps to nothing (the caller shows a dash)."""
    versions = [v for v in versions if v]
    if not versions:
        return {}
    return {
        version: _("the version of %(date)s") % {"date": date_text(effective_at)}
        for version, effective_at in PolicyDocument.objects.filter(
            version__in=versions
        ).values_list("version", "effective_at")
    }
