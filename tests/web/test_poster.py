"""The counter poster: the join code, the offer in one sentence, in the owner's languages."""
from loyalty.extensions import db
from loyalty.services.merchant import programs, stores
from tests import factories


def test_the_poster_shows_the_join_code_and_the_offer_in_the_shops_languages(client, auth,
                                                                             merchant):
    program = factories.stamp_program(merchant.merchant)
    program.translations = {"fr": {"stamp_reward_description": "un café offert"}}
    db.session.commit()
    auth.login_as(merchant.owner)
    page = client.get("/merchant/poster").get_data(as_text=True)
    assert 'class="poster poster-a4"' in page and 'class="segno"' in page
    assert "http://localhost/m/cafe-test/join" in page
    assert "Reward after 10 stamps: A free coffee." in page  # the default language leads
    assert "Récompense après 10 tampons : un café offert." in page  # given in French
    assert 'lang="de"' not in page.split('class="poster ')[1]  # nothing given in German

    a6 = client.get("/merchant/poster?size=a6&lang=de&lang=lb").get_data(as_text=True)
    sheet = a6.split('class="poster ')[1]
    assert sheet.startswith("poster-a6") and 'lang="de"' in sheet and 'lang="lb"' in sheet
    assert "Belounung no 10 Stempelen" in sheet or "Prämie nach 10 Stempeln" in sheet


def test_without_sign_up_online_the_code_opens_the_program_page(client, auth, merchant):
    factories.points_program(merchant.merchant)
    settings = programs.loyalty_settings(merchant.merchant.id)
    settings.allow_self_enrollment = False
    db.session.commit()
    auth.login_as(merchant.owner)
    page = client.get("/merchant/poster?size=zz&lang=<script>").get_data(as_text=True)
    assert "/m/cafe-test/join" not in page and "http://localhost/m/cafe-test/" in page
    assert "ask for your card at the counter" in page
    assert 'class="poster poster-a4"' in page


def test_only_owners_print_the_poster(client, auth, merchant):
    factories.stamp_program(merchant.merchant)
    auth.login_as(merchant.staff)
    assert client.get("/merchant/poster").status_code in (403, 404)


def test_a_stores_poster_joins_at_that_store(client, auth, merchant):
    factories.stamp_program(merchant.merchant)
    stores.set_store_open(merchant.stores[1], False)
    db.session.commit()
    auth.login_as(merchant.owner)
    page = client.get("/merchant/poster").get_data(as_text=True)
    assert 'name="store" value="S1"' in page and 'value="S2"' not in page  # open stores only
    assert "http://localhost/m/cafe-test/join<" in page.replace("</p>", "<")
    sheet = client.get("/merchant/poster?store=S1").get_data(as_text=True)
    assert "http://localhost/m/cafe-test/join?store=S1" in sheet
    assert "Café Test · Café Test store 1" in sheet
    closed = client.get("/merchant/poster?store=S2").get_data(as_text=True)
    assert "join?store=" not in closed  # a closed store's poster is the shop's
