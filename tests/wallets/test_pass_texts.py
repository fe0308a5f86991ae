"""The Apple pass over every mix of texts the owner can give per language: the card name and the
terms, each filled or left empty in the default language (branding) and in the others (the
Languages page). Every customer language gets a valid pass whose texts are theirs, and each
``<lang>.lproj/pass.strings`` maps them to that language's own where it has one."""
import io
import itertools
import json
import re
import zipfile

import pytest

from loyalty.extensions import db
from loyalty.services.merchant import branding
from loyalty.services.merchant import texts as merchant_texts
from tests import factories

DEFAULT = "fr"
LANGUAGES = ("en", "fr", "de", "lb")
OTHERS = tuple(code for code in LANGUAGES if code != DEFAULT)
CARD_NAMES = {"en": "Coffee card", "fr": "Carte café", "de": "Kaffeekarte", "lb": "Kaffiskaart"}
TERMS = {"en": "Stamps are personal.", "fr": "Les tampons sont personnels.",
         "de": "Stempel sind persönlich.", "lb": "Stempele si perséinlech."}
STRINGS_LINE = re.compile(r'"((?:[^"\\]|\\.)*)" = "((?:[^"\\]|\\.)*)";')

#: Every set of languages the terms may be given in (default included: it may be empty too),
#: each with the card name given in no other language or in all of them.
COMBINATIONS = [(terms, names) for size in range(len(LANGUAGES) + 1)
                for terms in itertools.combinations(LANGUAGES, size)
                for names in ((), OTHERS)]


def _label(combination):
    terms, names = combination
    return f"terms[{'+'.join(terms) or 'none'}]-names[{'+'.join(names) or 'default'}]"


def _strings(data):
    """pass.strings as {key: value}; every line must be a well-formed entry."""
    text = data.decode("utf-8")
    lines = text.splitlines()
    pairs = [STRINGS_LINE.fullmatch(line) for line in lines]
    assert all(pairs), text
    return {match.group(1): match.group(2) for match in pairs}


def _quoted(text):
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@pytest.mark.parametrize("combination", COMBINATIONS, ids=_label)
def test_every_customer_language_gets_a_valid_pass_whatever_texts_are_given(
        client, merchant, combination):
    terms_in, names_in = combination
    merchant.merchant.default_locale = DEFAULT
    program = factories.stamp_program(merchant.merchant)
    branding.update_branding(program, card_name=CARD_NAMES[DEFAULT],
                             terms_text=TERMS[DEFAULT] if DEFAULT in terms_in else None)
    for code in OTHERS:  # as the Languages page saves them
        merchant_texts.save_texts(program, [], code, actor=None, reward_texts={}, program_texts={
            "card_name": CARD_NAMES[code] if code in names_in else "",
            "stamp_reward_description": "",
            "terms_text": TERMS[code] if code in terms_in else ""})
    cards = {}
    for code in LANGUAGES:
        cards[code] = factories.card(merchant.merchant, f"Customer {code}")
        cards[code].customer.preferred_locale = code
    db.session.commit()

    def given(texts, chosen, code):
        return texts[code] if code in chosen else texts[DEFAULT] if DEFAULT in chosen else None

    for code, card in cards.items():
        response = client.get(f"/card/{card.page_secret}/wallet.pkpass")
        assert response.status_code == 200, (code, response.get_data(as_text=True)[:300])
        archive = zipfile.ZipFile(io.BytesIO(response.data))
        data = json.loads(archive.read("pass.json"))
        name = CARD_NAMES[code] if code in names_in or code == DEFAULT else CARD_NAMES[DEFAULT]
        assert data["logoText"] == name
        back = {field["key"]: field["value"] for field in data["storeCard"]["backFields"]}
        terms = given(TERMS, terms_in, code)
        assert back.get("terms") == terms
        for target in LANGUAGES:
            strings = _strings(archive.read(f"{target}.lproj/pass.strings"))
            theirs = given(TERMS, terms_in, target)
            if terms and theirs and theirs != terms:
                assert strings[_quoted(terms)] == _quoted(theirs)
            elif terms:
                assert _quoted(terms) not in strings  # nothing of theirs: the customer's text
            their_name = CARD_NAMES[target] if target in names_in or target == DEFAULT \
                else CARD_NAMES[DEFAULT]
            if their_name != name:
                assert strings[_quoted(name)] == _quoted(their_name)
