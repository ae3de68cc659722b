"""The interface speaks French completely; the article stays in English.

The French catalog is checked as a file (every entry translated, nothing
fuzzy, placeholders and markup kept, the committed .mo compiled from the
committed .po), then as a person sees it: each page rendered in English and
in French must not share a sentence outside the article's own quoted text
(marked lang="en") and the user's own content (marked translate="no", or
by its class where other tests hold the markup fixed).
"""

import ast
import gettext
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from accounts.services import consent_record
from dashboard.presentation import date_text
from retention.services.conversations import conversations_delete_by_id, feedback_submit
from tests.factories import UserFactory

LOCALE = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES"
PO = LOCALE / "django.po"
MO = LOCALE / "django.mo"

FRENCH_MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


# --- the catalog as a file ---------------------------------------------------


def _po_entries(path: Path) -> list[dict]:
    """A small .po reader: each entry's flags, msgctxt, msgid, msgid_plural
    and msgstr (a list: one item, or one per plural form)."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"flags": set(), "msgctxt": None, "msgid_plural": None, "msgstr": {}}
        field = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {f.strip() for f in line[2:].split(",")}
                continue
            if line.startswith("#") or not line.strip():
                continue
            m = re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?) (".*")$', line)
            if m:
                field = (
                    ("msgstr", int(m.group(2) or 0))
                    if m.group(1).startswith("msgstr")
                    else m.group(1)
                )
                value = ast.literal_eval(m.group(3))
            else:
                value = ast.literal_eval(line)
            if isinstance(field, tuple):
                entry["msgstr"][field[1]] = entry["msgstr"].get(field[1], "") + value
            else:
                entry[field] = (entry.get(field) or "") + value
        if "msgid" in entry:
            entries.append(entry)
    return entries


def _messages(entries):
    return [e for e in entries if e["msgid"]]


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%|\{\w+\}")
TAG = re.compile(r"</?\w+")


def _shape(text: str) -> tuple[list[str], list[str]]:
    return sorted(PLACEHOLDER.findall(text)), sorted(TAG.findall(text))


def test_the_french_catalog_has_a_translation_for_every_entry_and_nothing_fuzzy():
    entries = _po_entries(PO)
    header = entries[0]
    assert header["msgid"] == ""
    assert "Plural-Forms: nplurals=2; plural=(n > 1);" in header["msgstr"][0]
    assert "Language: fr" in header["msgstr"][0]
    messages = _messages(entries)
    assert len(messages) > 300
    untranslated = [e["msgid"] for e in messages if not all(e["msgstr"].values())]
    assert untranslated == []
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert fuzzy == []
    plural = [e for e in messages if e["msgid_plural"] is not None]
    assert plural and all(sorted(e["msgstr"]) == [0, 1] for e in plural)


def test_every_translation_keeps_the_placeholders_and_markup_of_its_source():
    wrong = []
    for e in _messages(_po_entries(PO)):
        if e["msgid_plural"] is None:
            if _shape(e["msgstr"][0]) != _shape(e["msgid"]):
                wrong.append(e["msgid"])
            continue
        # The plural form keeps the plural's placeholders; the singular form
        # (French uses it for 0 and 1) may leave the number out.
        plural_shape = _shape(e["msgid_plural"])
        if _shape(e["msgstr"][1]) != plural_shape:
            wrong.append(e["msgid_plural"])
        allowed = set(PLACEHOLDER.findall(e["msgid"])) | set(plural_shape[0])
        if not set(PLACEHOLDER.findall(e["msgstr"][0])) <= allowed:
            wrong.append(e["msgid"])
    assert wrong == []


def test_the_committed_mo_is_compiled_from_the_committed_po():
    with MO.open("rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog
    expected = {}
    for e in _messages(_po_entries(PO)):
        key = f"{e['msgctxt']}\x04{e['msgid']}" if e["msgctxt"] else e["msgid"]
        if e["msgid_plural"] is None:
            expected[key] = e["msgstr"][0]
        else:
            for i, text in e["msgstr"].items():
                expected[(key, i)] = text
    compiled = {k: v for k, v in catalog.items() if k != ""}
    assert compiled == expected, "run: manage.py compilemessages --ignore=.venv"


# --- the pages as a person reads them -----------------------------------------


class _VisibleText(HTMLParser):
    """Text nodes a person reads, except inside lang="en" (the article's own
    words) or translate="no" (the user's titles, messages and reasons)."""

    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "wbr",
    }
    HIDDEN = {"script", "style", "svg"}
    # The user's own words printed where the markup is held fixed by other tests.
    USER_CONTENT_CLASSES = {"transcript-content", "cell-title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: is it excluded?
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        attrs = dict(attrs)
        excluded = (
            (self.stack and self.stack[-1])
            or tag in self.HIDDEN
            or (attrs.get("lang", "").startswith("en") and tag != "html")
            or attrs.get("translate") == "no"
            or bool(self.USER_CONTENT_CLASSES & set((attrs.get("class") or "").split()))
        )
        self.stack.append(bool(excluded))

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not (self.stack and self.stack[-1]):
            self.texts.append(text)


def visible_texts(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    return parser.texts


@pytest.fixture
def person(db):
    return UserFactory(email="lea@example.com")


@pytest.fixture
def lived_history(person, add_message):
    """Conversations, a deletion, feedback and a consent change: every page
    has something to say."""
    now = timezone.now()
    consent_record(
        user=person,
        allowed=True,
        source="user",
        article_version="",
        effective_at=now - timedelta(days=5),
    )
    add_message(person, now - timedelta(days=3), conversation="c-a", title="Plans for the trip")
    add_message(
        person, now - timedelta(days=2), conversation="c-b", title="Notes", kind="coding_session"
    )
    add_message(person, now - timedelta(days=1), conversation="c-c", title="Gone soon")
    conversations_delete_by_id(user=person, external_ids=["c-c"])
    feedback_submit(
        user=person,
        external_id="fb-1",
        kind="thumbs_up",
        comment="Helpful answer",
        excerpt="the answer",
        submitted_at=now - timedelta(hours=5),
        conversation_external_id="c-a",
    )
    return now


def _client(user, language):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user)
    return client


PAGES = [
    "/",
    "/conversations/",
    "/conversations/c-a/",
    "/consent/",
    "/deleted/",
    "/feedback/",
    "/policy/",
    "/auto-delete/",
    "/preferences/",
    "/account/delete/",
]


def _long_sentences(texts):
    return {t for t in texts if len(t.split()) > 3}


def _same_in_both(path, user):
    english = _client(user, "en").get(path, follow=True)
    french = _client(user, "fr").get(path, follow=True)
    assert english.status_code == french.status_code
    en_html, fr_html = english.content.decode(), french.content.decode()
    assert '<html lang="fr"' in fr_html
    return _long_sentences(visible_texts(en_html)) & _long_sentences(
        visible_texts(fr_html)
    ), fr_html


@pytest.mark.parametrize("path", PAGES)
def test_each_page_reads_in_french_with_no_english_sentence_left(path, person, lived_history):
    shared, _ = _same_in_both(path, person)
    assert shared == set()


def test_the_sign_in_page_and_a_404_read_in_french(person, lived_history):
    shared, french = _same_in_both("/accounts/login/", None)
    assert shared == set()
    assert "Se connecter" in french
    shared, french = _same_in_both("/conversations/no-such-id/", person)
    assert shared == set()
    shared, french = _same_in_both("/no/such/page/", person)
    assert shared == set()
    assert "Page introuvable" in french


def test_dates_use_french_month_names(person, lived_history):
    with translation.override("fr"):
        assert date_text(timezone.make_aware(datetime(2026, 12, 3, 12))) == "3 décembre 2026"
    month = FRENCH_MONTHS[timezone.localtime(lived_history).month - 1]
    french = _client(person, "fr").get("/conversations/").content.decode()
    english = _client(person, "en").get("/conversations/").content.decode()
    assert month in french
    assert month not in english


def test_numbers_and_plurals_follow_french_rules(person, lived_history):
    french = _client(person, "fr").get("/").content.decode()
    assert "2 dans votre historique" in french


def test_the_policy_page_says_the_article_stays_in_english_in_both_languages(db):
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/policy/").content.decode()
    french = _client(None, "fr").get("/policy/").content.decode()
    assert "stays in its published language" in english
    assert "reste dans sa langue de publication" in french
    # The article itself is the same English text in both, marked as English.
    assert '<article class="policy" lang="en">' in french
    article = re.search(r'<article class="policy" lang="en">(.*?)</article>', french, re.S).group(1)
    assert article == re.search(
        r'<article class="policy" lang="en">(.*?)</article>', english, re.S
    ).group(1)


def test_quoted_article_sentences_are_marked_english_on_a_french_page(person, lived_history):
    french = _client(person, "fr").get("/conversations/c-a/").content.decode()
    assert '<blockquote lang="en">' in french
    assert "Lire ce passage dans la politique" in french
