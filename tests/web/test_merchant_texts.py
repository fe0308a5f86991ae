"""The owner's texts in other languages, and what customers read: their language's text, or
the merchant's default one where none was given."""
import html
import re

from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import AuditEntry, LoyaltyProgram, Reward, SentEmail
from tests import factories
from tests.conftest import csrf_token_from

FRENCH = {"card_name": "Carte café", "stamp_reward_description": "", "terms_text": "Nos conditions."}


def _page_fields(page):
    """What the page's form sends as it is: every input's and text area's value."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, text in re.findall(r'<textarea[^>]*name="([^"]*)"[^>]*>(.*?)</textarea>', page, re.S):
        fields[name] = html.unescape(text).removeprefix("\r\n").removeprefix("\n")
    return fields


def _save(client, lang, data):
    """Type ``data`` into the ``lang`` tab of the texts page, as it is now, and save."""
    page = client.get(f"/merchant/languages?lang={lang}").get_data(as_text=True)
    typed = {f"{lang}-{name}": value for name, value in data.items()}
    return client.post(f"/merchant/languages?lang={lang}", data={**_page_fields(page), **typed})


def _reward_fields(name, translated_name="", description=""):
    reward = db.session.scalar(select(Reward).where(Reward.name == name))
    return {f"reward-{reward.id}-name": translated_name,
            f"reward-{reward.id}-description": description}


def test_the_owner_gives_texts_in_french_and_customers_read_them(client, auth, merchant):
    factories.points_program(merchant.merchant, terms_text="Our terms.")
    auth.login_as(merchant.owner)
    page = client.get("/merchant/languages").get_data(as_text=True)
    assert "Français" in page and "Deutsch" in page and "In English: Our terms." in page
    fields = {**FRENCH, **_reward_fields("Croissant", "Croissant au beurre", "Sorti du four"),
              **_reward_fields("Cake")}
    response = _save(client, "fr", fields)
    assert response.status_code == 302 and response.location.endswith("?lang=fr")
    db.session.commit()
    program = db.session.scalar(select(LoyaltyProgram))
    assert program.translations == {"fr": {"card_name": "Carte café",
                                           "terms_text": "Nos conditions."}}
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action.in_(["program.texts", "reward.texts"]))).all()
    assert sorted(e.action for e in entries) == ["program.texts", "reward.texts"]
    auth.logout()

    french = client.get("/m/cafe-test/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Carte café" in french and "Croissant au beurre" in french and "Sorti du four" in french
    assert "Nos conditions." in french and "Cake" in french  # not given: the default text
    german = client.get("/m/cafe-test/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Carte café" not in german and "Our terms." in german


def test_the_card_page_and_the_welcome_email_use_the_customers_language(client, merchant):
    program = factories.stamp_program(merchant.merchant)
    program.translations = {"de": {"card_name": "Kaffeekarte",
                                   "stamp_reward_description": "Ein Gratiskaffee"}}
    db.session.commit()
    token = csrf_token_from(client.get("/m/cafe-test/join"))
    client.post("/m/cafe-test/join", data={
        "csrf_token": token, "first_name": "Dora", "last_name": "Deutsch",
        "email": "dora@example.com", "language": "de", "consent": "y", "website": ""})
    db.session.commit()
    [welcome] = db.session.scalars(select(SentEmail)).all()
    assert "Kaffeekarte" in welcome.body_text and welcome.locale == "de"
    link = welcome.body_text.split("/card/")[1].split()[0]
    page = client.get(f"/card/{link}").get_data(as_text=True)
    assert "Kaffeekarte" in page and "Prämie: Ein Gratiskaffee" in page


def test_texts_too_long_are_refused_and_nothing_changes(client, auth, merchant):
    factories.stamp_program(merchant.merchant)
    auth.login_as(merchant.owner)
    response = _save(client, "de", {"card_name": "x" * 121, "stamp_reward_description": "",
                                    "terms_text": ""})
    assert response.status_code == 422
    db.session.commit()
    assert db.session.scalar(select(LoyaltyProgram)).translations == {}


def test_only_owners_edit_texts(client, auth, merchant):
    factories.stamp_program(merchant.merchant)
    auth.login_as(merchant.manager)
    assert client.get("/merchant/languages").status_code in (403, 404)


def test_an_unknown_language_falls_back_to_the_first_offered(client, auth, merchant):
    factories.stamp_program(merchant.merchant)
    auth.login_as(merchant.owner)
    page = client.get("/merchant/languages?lang=xx").get_data(as_text=True)
    assert 'aria-current="page" lang="fr"' in page or 'lang="fr" aria-current="page"' in page


def test_two_languages_saved_one_after_the_other_are_both_kept(client, auth, merchant):
    factories.stamp_program(merchant.merchant)
    auth.login_as(merchant.owner)
    blank = {"stamp_reward_description": "", "terms_text": ""}
    assert _save(client, "fr", {**blank, "card_name": "Carte café"}).status_code == 302
    assert _save(client, "de", {**blank, "card_name": "Kaffeekarte"}).status_code == 302
    assert _save(client, "fr", {**blank, "card_name": ""}).status_code == 302  # cleared
    db.session.commit()
    assert db.session.scalar(select(LoyaltyProgram)).translations == {
        "de": {"card_name": "Kaffeekarte"}}
