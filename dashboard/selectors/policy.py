"""The policy page: the current article, section by section."""

from dataclasses import dataclass
from typing import NamedTuple

from django.utils.safestring import SafeString

from dashboard.presentation import render_article_body
from retention.models import PolicyDocument
from retention.selectors.documents import current_document


class PolicySectionShown(NamedTuple):
    anchor: str
    heading: str
    level: int  # heading level, 1 to 4
    body: SafeString


@dataclass(frozen=True)
class PolicyPage:
    document: PolicyDocument | None
    sections: list[PolicySectionShown]


def policy_page() -> PolicyPage:
    document = current_document()
    if document is None:
        return PolicyPage(None, [])
    return PolicyPage(
        document,
        [
            PolicySectionShown(
                s.anchor, s.heading, min(max(s.level, 1), 4), render_article_body(s.body)
            )
            for s in document.sections.all()  # prefetched, in position order
        ],
    )
