"""The four catalogs stay complete: every string in the code is translated, none fuzzy."""
import os

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LANGUAGES = ["en", "fr", "de", "lb"]
METHOD_MAP = [("**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _messages_in_code():
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        os.path.join(ROOT, "loyalty"), METHOD_MAP, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(language):
    with open(os.path.join(ROOT, "translations", language, "LC_MESSAGES", "messages.po"), "rb") as f:
        return read_po(f)


def test_code_has_marked_strings():
    assert len(_messages_in_code()) > 20


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_holds_every_string_of_the_code(language):
    catalog = _catalog(language)
    missing = sorted(m for m in _messages_in_code() if m not in catalog)
    assert missing == [], f"run `flask translate update`, then translate: {missing[:10]}"


@pytest.mark.parametrize("language", ["fr", "de", "lb"])
def test_catalog_is_fully_translated_and_nothing_is_fuzzy(language):
    catalog = _catalog(language)
    untranslated = [m.id for m in catalog if m.id and not (m.string if isinstance(m.string, str) else all(m.string))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == []
    assert fuzzy == []
