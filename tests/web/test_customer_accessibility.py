"""What #23 adds to the customer pages and the shared forms, as the HTML says it: a refused
form's summary and the errors tied to their fields, autocomplete for what browsers fill in,
a shop's untranslated words marked with their language, and the accessibility statement."""
import re

import pytest

from loyalty.extensions import db
from loyalty.services.merchant import texts as merchant_texts
from tests import factories
from tests.conftest import csrf_token_from


def _tag(page, element_id):
    return re.search(rf'<[^>]*\bid="{element_id}"[^>]*>', page).group(0)


def test_a_refused_join_sums_up_its_errors_and_ties_each_to_its_field(client, merchant):
    factories.stamp_program(merchant.merchant)
    token = csrf_token_from(client.get("/m/cafe-test/join"))
    response = client.post("/m/cafe-test/join", data={
        "csrf_token": token, "first_name": "Chloé", "last_name": "Muller",
        "email": "chloe-at-example", "phone": "", "language": "fr", "website": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = re.search(r'<div class="error-summary" role="alert".*?</div>', page,
                        re.DOTALL).group(0)
    assert "2 fields need your attention:" in summary
    assert re.findall(r'href="#(\w+)"', summary) == ["email", "consent"]
    assert page.index("error-summary") < page.index('id="first_name"')  # at the top of the form
    for name in ("email", "consent"):
        tag = _tag(page, name)
        assert 'aria-invalid="true"' in tag and f'aria-describedby="{name}-errors"' in tag
        assert f'id="{name}-errors"' in page
    assert "aria-invalid" not in _tag(page, "first_name")
    assert "error-summary" not in client.get("/m/cafe-test/join").get_data(as_text=True)


def test_browsers_may_fill_in_the_join_and_sign_in_forms(client, auth, merchant):
    factories.stamp_program(merchant.merchant)
    join = client.get("/m/cafe-test/join").get_data(as_text=True)
    for name, kind in [("first_name", "given-name"), ("last_name", "family-name"),
                       ("email", "email"), ("phone", "tel")]:
        assert f'autocomplete="{kind}"' in _tag(join, name), name
    login = client.get("/login").get_data(as_text=True)
    assert 'autocomplete="username"' in _tag(login, "email")
    assert 'autocomplete="current-password"' in _tag(login, "password")
    forgot = client.get("/forgot-password").get_data(as_text=True)
    assert 'autocomplete="username"' in _tag(forgot, "email")
    auth.login_as(merchant.owner)
    account = client.get("/account").get_data(as_text=True)
    assert 'autocomplete="current-password"' in _tag(account, "current_password")
    for name in ("new_password", "confirm_password"):
        assert 'autocomplete="new-password"' in _tag(account, name)


def test_a_shops_words_not_given_in_the_pages_language_are_marked_with_theirs(client, merchant):
    program = factories.points_program(merchant.merchant, terms_text="Points are personal.")
    croissant, cake = sorted(program.rewards, key=lambda reward: reward.points_cost)
    merchant_texts.save_texts(program, [croissant, cake], "fr", actor=None,
                              program_texts={"card_name": "Carte boulangerie"},
                              reward_texts={croissant.id: {"name": "Croissant au beurre"}})
    card = factories.card(merchant.merchant, email="carla@example.com")
    db.session.commit()
    client.set_cookie("lang", "fr")
    page = client.get("/m/cafe-test/").get_data(as_text=True)
    assert "<h1>Carte boulangerie</h1>" in page  # given in French: the page's language
    assert "<span><strong>Croissant au beurre</strong>" in page
    assert '<span lang="en"><strong>Cake</strong>' in page  # as typed, in the shop's English
    assert '<p class="terms" lang="en">Points are personal.</p>' in page
    own = client.get(f"/card/{card.page_secret}").get_data(as_text=True)
    assert "<span>Croissant au beurre</span>" in own and '<span lang="en">Cake</span>' in own
    client.set_cookie("lang", "en")
    english = client.get("/m/cafe-test/").get_data(as_text=True)
    assert ' lang="' not in english.replace('<html lang="en">', "").split("</header>")[1]


@pytest.mark.parametrize("code, heading", [("en", "Accessibility"), ("fr", "Accessibilité"),
                                           ("de", "Barrierefreiheit"), ("lb", "Accessibilitéit")])
def test_the_accessibility_statement_is_linked_from_customer_pages(client, merchant, code,
                                                                   heading):
    factories.stamp_program(merchant.merchant)
    client.set_cookie("lang", code)
    program = client.get("/m/cafe-test/").get_data(as_text=True)
    assert '<footer class="customer-footer"><a href="/accessibility">' in program
    response = client.get("/accessibility")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and f"<h1>{heading}</h1>" in page
    assert "WCAG" in page and "axe-core" in page
    assert 'href="mailto:no-reply@localhost"' in page  # MAIL_FROM's address by default


def test_the_accessibility_contact_is_a_setting(make_app):
    app = make_app(ACCESSIBILITY_CONTACT="access@example.org")
    page = app.test_client().get("/accessibility").get_data(as_text=True)
    assert 'href="mailto:access@example.org"' in page


def test_the_stamp_reward_on_a_card_is_marked_when_not_translated(client, merchant):
    factories.stamp_program(merchant.merchant)
    card = factories.card(merchant.merchant, email="carla@example.com")
    db.session.commit()
    client.set_cookie("lang", "fr")
    page = client.get(f"/card/{card.page_secret}").get_data(as_text=True)
    assert '<span lang="en">A free coffee</span>' in page  # the shop's English, not escaped
