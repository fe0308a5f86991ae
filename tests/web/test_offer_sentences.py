"""The offer in four languages: a reward's name stands as the owner typed it, after a label,
on the program page, the poster, the customer's card page and the counter's sheet."""
import pytest

from loyalty.extensions import db
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.stamps import add_stamp
from loyalty.services.merchant import programs
from tests import factories
from tests.conftest import choose_language

#: The stamp reward as an owner would type it in each language, capital and article included.
REWARDS = {"en": "A free coffee", "fr": "Un café offert", "de": "Ein Gratis-Kaffee",
           "lb": "E Gratis-Kaffi"}

OFFERS = {
    "stamps": {
        "en": ["Reward after 10 stamps: A free coffee."],
        "fr": ["Récompense après 10 tampons : Un café offert."],
        "de": ["Prämie nach 10 Stempeln: Ein Gratis-Kaffee."],
        "lb": ["Belounung no 10 Stempelen: E Gratis-Kaffi."],
    },
    "points": {
        "en": ["Earn 10 points for every euro you spend.", "Welcome bonus: 1 point when you join."],
        "fr": ["Gagnez 10 points pour chaque euro dépensé.",
               "Bonus de bienvenue : 1 point à l'inscription."],
        "de": ["Sammeln Sie 10 Punkte pro ausgegebenem Euro.",
               "Willkommensbonus: 1 Punkt bei der Anmeldung."],
        "lb": ["Sammelt 10 Punkten fir all Euro, deen Dir ausgitt.",
               "Wëllkommbonus: 1 Punkt bei der Umeldung."],
    },
    "hybrid": {
        "en": ["Reward after 1 stamp: A free coffee.", "Earn 10 points for every euro you spend."],
        "fr": ["Récompense après 1 tampon : Un café offert.",
               "Gagnez 10 points pour chaque euro dépensé."],
        "de": ["Prämie nach 1 Stempel: Ein Gratis-Kaffee.",
               "Sammeln Sie 10 Punkte pro ausgegebenem Euro."],
        "lb": ["Belounung no 1 Stempel: E Gratis-Kaffi.",
               "Sammelt 10 Punkten fir all Euro, deen Dir ausgitt."],
    },
}


def _program(merchant, kind):
    texts = {code: {"stamp_reward_description": name} for code, name in REWARDS.items()
             if code != "en"}
    if kind == "stamps":
        program = factories.stamp_program(merchant)
    elif kind == "points":
        program = factories.points_program(merchant, welcome_bonus_points=1)
    else:
        program = factories.hybrid_program(merchant, stamps_target=1,
                                           stamp_reward_description="A free coffee")
    program.translations = texts
    db.session.commit()
    return program


def _offer(page):
    """The program page's offer paragraphs, unescaped as a reader sees them."""
    section = page.split("<h1", 1)[1].split("</section>", 1)[0]  # <h1 lang=..> when untranslated
    lines = [part.split("</p>", 1)[0] for part in section.split("<p>")[1:]]
    return [line.replace("&#39;", "'") for line in lines if "<a " not in line and "muted" not in line]


@pytest.mark.parametrize("kind", ["stamps", "points", "hybrid"])
@pytest.mark.parametrize("language", ["en", "fr", "de", "lb"])
def test_the_program_page_states_the_offer_in_whole_sentences(client, merchant, kind, language):
    _program(merchant.merchant, kind)
    page = client.get("/m/cafe-test/", headers={"Accept-Language": language}).get_data(
        as_text=True)
    assert _offer(page) == OFFERS[kind][language]


def test_the_poster_says_the_same_sentences_in_each_language(client, auth, merchant):
    _program(merchant.merchant, "hybrid")
    auth.login_as(merchant.owner)
    page = client.get("/merchant/poster?lang=en&lang=fr&lang=de&lang=lb").get_data(as_text=True)
    for language in ("en", "fr", "de", "lb"):
        assert " ".join(OFFERS["hybrid"][language]) in page
    assert "get A free coffee" not in page and "recevez Un" not in page


@pytest.mark.parametrize(("language", "missing", "ready"), [
    ("en", "9 more stamps until your reward.", "Reward: A free coffee"),
    ("fr", "Encore 9 tampons avant votre récompense.", "Récompense : Un café offert"),
    ("de", "Noch 9 Stempel bis zu Ihrer Prämie.", "Prämie: Ein Gratis-Kaffee"),
    ("lb", "Nach 9 Stempelen bis zu Ärer Belounung.", "Belounung: E Gratis-Kaffi"),
])
def test_the_card_page_names_the_reward_after_a_label(client, merchant, language, missing,
                                                        ready):
    _program(merchant.merchant, "stamps")
    card = factories.card(merchant.merchant, email="cora@example.com")
    card.customer.preferred_locale = language
    add_stamp(card, context=ActionContext())  # through the ledger, as at the counter
    db.session.commit()
    page = client.get(f"/card/{card.page_secret}").get_data(as_text=True)
    assert f"<p>{missing}</p>" in page and f"<p>{ready}</p>" in page


@pytest.mark.parametrize(("language", "title", "reward", "next_reward"), [
    ("en", "Give the reward to Ida Stamp?", "Reward: A free coffee",
     "Next reward: Croissant, 50 more points"),
    ("fr", "Remettre la récompense à Ida Stamp ?", "Récompense : Un café offert",
     "Prochaine récompense : Croissant, encore 50 points"),
    ("de", "Prämie an Ida Stamp geben?", "Prämie: Ein Gratis-Kaffee",
     "Nächste Prämie: Croissant, noch 50 Punkte"),
    ("lb", "Belounung un Ida Stamp ginn?", "Belounung: E Gratis-Kaffi",
     "Nächst Belounung: Croissant, nach 50 Punkten"),
])
def test_the_counter_names_the_reward_after_a_label(client, terminal, merchant, language, title,
                                                    reward, next_reward):
    program = _program(merchant.merchant, "hybrid")
    program.translations = {}
    programs.update_program(program, stamp_reward_description=REWARDS[language])
    programs.add_reward(program, "Croissant", 50)
    card = factories.card(merchant.merchant, "Ida Stamp", email="ida@example.com")
    add_stamp(card, context=ActionContext())  # through the ledger, as at the counter
    db.session.commit()
    terminal.sign_in(merchant.staff)
    choose_language(client, language, page="/terminal/")
    sheet = terminal.sheet(card.id, "redeem-stamps").get_data(as_text=True)
    assert f'<h2 id="sheet-title">{title}</h2>' in sheet
    assert f"<strong>{reward}</strong>" in sheet
    panel = terminal.find(card.card_number).get_data(as_text=True)
    assert f">{next_reward}</p>" in panel
