"""Every sentence of the shipped article is mapped to a rule or behaviour, and
the map quotes nothing the article does not say."""

from pathlib import Path

from retention.policy.article import (
    ARTICLE,
    SENTENCE_MAP,
    TOPICS,
    parse_article,
    quotes_for,
    split_sentences,
)

SHARED_ARTICLE = Path(__file__).resolve().parents[3] / "shared" / "help-article.md"


def test_every_sentence_of_the_article_is_mapped():
    unmapped = [q.text for q in ARTICLE.sentences() if q.text not in SENTENCE_MAP]
    assert unmapped == []


def test_the_map_quotes_only_sentences_the_article_has():
    sentences = {q.text for q in ARTICLE.sentences()}
    assert [s for s in SENTENCE_MAP if s not in sentences] == []
    assert set(SENTENCE_MAP.values()) <= set(TOPICS)


def test_an_added_sentence_would_be_reported_unmapped():
    changed = parse_article(ARTICLE.text + "\nWe now keep everything forever.\n")
    unmapped = [q.text for q in changed.sentences() if q.text not in SENTENCE_MAP]
    assert unmapped == ["We now keep everything forever."]


def test_every_rule_has_its_own_quote():
    for topic in (
        "commercial",
        "legal_hold",
        "flagged",
        "deleted",
        "shared_training",
        "not_shared",
        "feedback",
    ):
        assert quotes_for(topic), topic


def test_sections_have_stable_anchors():
    anchors = [s.anchor for s in ARTICLE.sections]
    assert "usage-policy-violations" in anchors
    assert "controlling-your-chat-history" in anchors
    assert len(anchors) == len(set(anchors))


def test_abbreviations_do_not_split_sentences():
    assert split_sentences("Products (e.g. Claude Free). Next one.") == [
        "Products (e.g. Claude Free).",
        "Next one.",
    ]


def test_the_shipped_copy_matches_the_published_article_when_present():
    if SHARED_ARTICLE.exists():
        assert SHARED_ARTICLE.read_text(encoding="utf-8") == ARTICLE.text
