"""The help article, split into sections and sentences, and the map that ties
every sentence to the behaviour it promises (or marks it general information).

The article ships verbatim in retention/data/help-article.md. A test fails when
a sentence of it is not in SENTENCE_MAP, or when the map quotes a sentence the
article no longer has, so the product cannot drift from what it promises.

The durations it states ("30 days", "5 years", ...) are the defaults of the
policy settings that privacy admins edit. DURATION_PHRASES ties each duration
phrase of each sentence to its settings field, and `render_sentence` /
`render_article_text` state the values in force, so the article shown to
users (the policy page, every quote, /api/me/) is always true. A test fails
when a duration phrase of the article is not mapped.
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

from django.utils.text import slugify

ARTICLE_PATH = Path(__file__).resolve().parent.parent / "data" / "help-article.md"

# What a sentence can be mapped to: the rule codes of docs/retention-rules.md, the
# other behaviours the article promises, or general information.
TOPICS = (
    "commercial",
    "legal_hold",
    "flagged",
    "deleted",
    "shared_training",
    "not_shared",
    "training_consent",
    "training_consent_off",
    "feedback",
    "deidentified_statistics",
    "general",
)

SENTENCE_MAP: dict[str, str] = {
    "This article is about our consumer products (e.g. Claude Free, Claude Pro, Max (and when "
    "using Claude Code with those accounts).": "commercial",
    "For our commercial products (e.g. Claude for Work, Anthropic API), see here.": "commercial",
    "Anthropic retains your personal data for as long as reasonably necessary for the purposes "
    "and criteria outlined in our Privacy Policy.": "general",
    "If you allow us to use your chats or coding sessions to improve Claude, we will retain your "
    "data for up to 5 years.": "shared_training",
    "This retention period only applies to new or resumed chats, once data sharing is "
    "enabled.": "shared_training",
    "You can learn more about how our models are trained here.": "general",
    "If you choose to provide your data for model training, you can change your privacy settings "
    "at any time following these steps here.": "training_consent",
    "If you decide to turn off the model training setting, we will not use any new chats and "
    "coding sessions you have with Claude for future model training.": "training_consent_off",
    "Your data will still be included in model training that has already started and in models "
    "that have already been trained, but we will stop using your previously stored chats and "
    "coding sessions in future model training runs.": "training_consent_off",
    "If you choose not to allow us to use your chats and coding sessions to improve Claude, your "
    "chats will be retained in our back-end storage systems for up to 30 days.": "not_shared",
    "You control your chat history and can delete your conversations at any time.": "deleted",
    "When you delete a conversation it\u2019s:": "deleted",
    "Removed from your chat history immediately": "deleted",
    "Deleted from our back-end storage systems within 30 days": "deleted",
    "We retain inputs and outputs for up to 2 years and trust and safety classification scores "
    "for up to 7 years if your chat or session is flagged by our trust and safety classifiers as "
    "violating our Usage Policy.": "flagged",
    "In all cases, we may retain chats and coding sessions as required by law or as necessary to "
    "combat violations of our Usage Policy.": "legal_hold",
    "Where you have provided feedback to us (e.g. by submitting feedback through our thumbs "
    "up/down button or sent bug reports), we retain data associated with that submission for 5 "
    "years.": "feedback",
    "Learn more.": "general",
    "We may anonymize or de-identify your personal data for research or statistical purposes, in "
    "which case we may retain this information for longer.": "deidentified_statistics",
    "For more information about our privacy practices, please see our Trust Center and Privacy "
    "Policy.": "general",
}

# Every duration the article states, per sentence: (the phrase as shipped,
# the settings field whose value it states, the unit). The shipped phrase is
# the field's default; render_sentence states the value in force instead.
DURATION_PHRASES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "If you allow us to use your chats or coding sessions to improve Claude, we will retain your "
    "data for up to 5 years.": (("5 years", "shared_training_years", "year"),),
    "If you choose not to allow us to use your chats and coding sessions to improve Claude, your "
    "chats will be retained in our back-end storage systems for up to 30 days.": (
        ("30 days", "not_shared_days", "day"),
    ),
    "Deleted from our back-end storage systems within 30 days": (
        ("30 days", "deleted_days", "day"),
    ),
    "We retain inputs and outputs for up to 2 years and trust and safety classification scores "
    "for up to 7 years if your chat or session is flagged by our trust and safety classifiers as "
    "violating our Usage Policy.": (
        ("2 years", "flagged_content_years", "year"),
        ("7 years", "flagged_scores_years", "year"),
    ),
    "Where you have provided feedback to us (e.g. by submitting feedback through our thumbs "
    "up/down button or sent bug reports), we retain data associated with that submission for 5 "
    "years.": (("5 years", "feedback_years", "year"),),
}

# Sentences ending in a link phrase ("see here", "Learn more.") whose link the
# article lost when it became data: a quote never ends in a phrase that
# points nowhere. Each maps to how it is quoted: the sentence's own words up
# to the dead phrase (no word added), or None when nothing of it stands
# without the phrase: it is left out of quotes (the commercial notice links
# the commercial terms itself). The policy page shows the article verbatim; a
# test fails on a sentence ending in such a phrase that is not listed here.
DEAD_LINK_QUOTES: dict[str, str | None] = {
    "For our commercial products (e.g. Claude for Work, Anthropic API), see here.": None,
    "You can learn more about how our models are trained here.": None,
    "If you choose to provide your data for model training, you can change your privacy settings "
    "at any time following these steps here.": (
        "If you choose to provide your data for model training, you can change your privacy "
        "settings at any time."
    ),
    "Learn more.": None,
}
DEAD_LINK_PATTERN = re.compile(r"(?:\bhere|\bLearn more)\.?$")

# A duration phrase anywhere in the article (what the mapping test looks for).
DURATION_PATTERN = re.compile(r"\b\d+\s+(?:day|week|month|year)s?\b")


class HasDurations(Protocol):
    """retention.policy.Durations (or a settings row): the values in force."""

    not_shared_days: int
    shared_training_years: int
    deleted_days: int
    flagged_content_years: int
    flagged_scores_years: int
    feedback_years: int


def amount_text(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


# What each setting's duration is, in the words of a change notice.
_CHANGE_WORDS = {
    "not_shared_days": "chats not shared for model training are kept up to",
    "shared_training_years": "chats shared for model training are kept up to",
    "deleted_days": "deleted chats are removed from our systems within",
    "flagged_content_years": "flagged chats are kept up to",
    "flagged_scores_years": "trust and safety classification scores are kept up to",
    "feedback_years": "feedback is kept for",
}
_UNIT_OF = {field: unit for phrases in DURATION_PHRASES.values() for _, field, unit in phrases}


def change_text(field: str, old: int, new: int) -> str:
    """One setting change in the words of the article: "deleted chats are
    removed from our systems within 14 days (was 30 days)"."""
    unit = _UNIT_OF[field]
    return f"{_CHANGE_WORDS[field]} {amount_text(new, unit)} (was {amount_text(old, unit)})"


def render_sentence(text: str, durations: HasDurations | None) -> str:
    """The sentence stating the durations in force (as shipped when None)."""
    if durations is None:
        return text
    for phrase, field, unit in DURATION_PHRASES.get(text, ()):
        text = text.replace(phrase, amount_text(getattr(durations, field), unit))
    return text


def render_article_text(text: str, durations: HasDurations | None) -> str:
    """The whole article's markdown with every mapped sentence stating the
    durations in force. Each mapped sentence stands verbatim on one line of
    the shipped text (a test holds that)."""
    for sentence in DURATION_PHRASES:
        text = text.replace(sentence, render_sentence(sentence, durations))
    return text


# Split after . ! ? or : followed by a capital, but not inside "e.g." / "i.e.".
_SENTENCE_BREAK = re.compile(r"(?<!e\.g\.)(?<!i\.e\.)(?<=[.!?:])\s+(?=[A-Z\u201c\"])")


@dataclass(frozen=True)
class Quote:
    section: str  # the anchor of its section on the policy page
    text: str


@dataclass(frozen=True)
class Section:
    anchor: str
    heading: str
    level: int
    position: int
    body: str
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class Article:
    title: str
    text: str
    sections: tuple[Section, ...]

    def sentences(self) -> list[Quote]:
        return [Quote(s.anchor, text) for s in self.sections for text in s.sentences]


def split_sentences(paragraph: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_BREAK.split(paragraph) if part.strip()]


def parse_article(text: str) -> Article:
    """Markdown headings open sections; paragraphs and bullets hold sentences."""
    sections: list[Section] = []
    heading, level, lines = "", 1, []
    title = ""

    def close() -> None:
        if not heading:
            return
        body = "\n".join(lines).strip()
        sentences: list[str] = []
        for block in re.split(r"\n\s*\n", body):
            block = block.strip()
            if block.startswith("- "):
                sentences.extend(line[2:].strip() for line in block.splitlines())
            elif block:
                sentences.extend(split_sentences(" ".join(block.split())))
        anchor = slugify(heading) or f"section-{len(sections) + 1}"
        sections.append(Section(anchor, heading, level, len(sections), body, tuple(sentences)))

    for line in text.splitlines():
        match = re.match(r"^(#{1,6})\s+(.*)$", line)
        if match:
            close()
            level, heading, lines = len(match.group(1)), match.group(2).strip(), []
            title = title or heading
        else:
            lines.append(line)
    close()
    return Article(title=title, text=text, sections=tuple(sections))


@cache
def shipped_article() -> Article:
    return parse_article(ARTICLE_PATH.read_text(encoding="utf-8"))


ARTICLE = shipped_article()


@cache
def quotes_for(topic: str, durations: HasDurations | None = None) -> tuple[Quote, ...]:
    """The article's own sentences for a rule or behaviour, in article order,
    stating the durations in force (`durations`; as shipped when None).
    `durations` must be hashable (retention.policy.Durations is)."""
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic!r}")
    return tuple(
        Quote(q.section, quoted)
        for q in ARTICLE.sentences()
        if SENTENCE_MAP.get(q.text) == topic
        and (quoted := quote_text(render_sentence(q.text, durations), q.text)) is not None
    )


def quote_text(rendered: str, shipped: str) -> str | None:
    """How a sentence is quoted: as rendered, or without its dead link phrase
    (DEAD_LINK_QUOTES, keyed by the shipped sentence); None: not quoted."""
    if shipped in DEAD_LINK_QUOTES:
        return DEAD_LINK_QUOTES[shipped]
    return rendered


# A rule the article has no sentence of its own for, and the topic whose
# sentences explain it: auto-delete deletes, so the deletion sentences say
# what happens at its moment (as retention.policy.decide quotes it).
QUOTED_AS = {"auto_delete": "deleted"}


@cache
def key_quotes_for(topic: str, durations: HasDurations | None = None) -> tuple[Quote, ...]:
    """The sentences of `topic` that state its duration ("Deleted from our
    back-end storage systems within 30 days"): the one line a row quotes to
    say why its date is what it is. All of the topic's quotes when none of
    them states a duration."""
    topic = QUOTED_AS.get(topic, topic)
    quotes = quotes_for(topic, durations)
    keyed = tuple(
        Quote(q.section, quote_text(render_sentence(q.text, durations), q.text) or "")
        for q in ARTICLE.sentences()
        if SENTENCE_MAP.get(q.text) == topic and q.text in DURATION_PHRASES
    )
    return keyed or quotes
