"""The four catalogs stay complete: every string in the code is translated, none fuzzy."""
import os

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LANGUAGES = ["en", "fr", "de", "lb"]
METHOD_MAP = [("**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "lazy_ngettext": (1, 2)}


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


@pytest.mark.parametrize("language", ["fr", "de", "lb"])
def test_plural_entries_have_every_form_of_the_language(language):
    catalog = _catalog(language)
    plurals = [m for m in catalog if m.id and isinstance(m.id, tuple)]
    assert plurals, "counts are shown with ngettext"
    short = [m.id[0] for m in plurals if len(m.string) != catalog.num_plurals or not all(m.string)]
    assert short == []


def test_form_validation_messages_come_in_every_language(app):
    """WTForms' own messages (a length, a required field): WTForms ships fr and de; we keep
    the Luxembourgish catalog, complete."""
    from wtforms.i18n import messages_path  # noqa: PLC0415

    from loyalty.i18n import _wtforms_catalog  # noqa: PLC0415

    pot = os.path.join(messages_path(), "wtforms.pot")
    with open(pot, "rb") as f:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    with open(os.path.join(ROOT, "translations", "lb", "LC_MESSAGES", "wtforms.po"), "rb") as f:
        ours = read_po(f)
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in ours if m.id and m.string} >= wanted
    assert not any(m.fuzzy for m in ours if m.id)
    with app.app_context():
        lengths = {code: _wtforms_catalog(code).ungettext(
            "Field cannot be longer than %(max)d character.",
            "Field cannot be longer than %(max)d characters.", 2) for code in LANGUAGES}
    assert lengths["lb"] == "D'Feld däerf héchstens %(max)d Zeeche laang sinn."
    assert len(set(lengths.values())) == 4  # en, fr, de and lb each their own
