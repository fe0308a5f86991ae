"""The owner's win-back page: settings saved and audited, the email previewed in the four
languages, refused input kept as typed, and only the owner's own program."""
import pytest
from sqlalchemy import select

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import AuditEntry, Customer, LoyaltyProgram
from loyalty.services.delivery import marketing
from tests import factories
from tests.conftest import csrf_token_from

SETTINGS = {"winback_enabled": "y", "winback_inactive_days": "45",
            "winback_bonus_points": "80", "winback_bonus_stamps": "0", "winback_bonus_days": "14"}


@pytest.fixture
def owner(auth, merchant):
    auth.login_as(merchant.owner)
    return merchant


def _post(client, data):
    token = csrf_token_from(client.get("/merchant/win-back"))
    return client.post("/merchant/win-back", data={**data, "csrf_token": token})


def _program(merchant):
    db.session.commit()
    return db.session.scalar(select(LoyaltyProgram).where(
        LoyaltyProgram.merchant_id == merchant.merchant.id).execution_options(
            populate_existing=True))


def test_the_owner_switches_it_on_and_the_change_is_audited(client, owner):
    factories.points_program(owner.merchant)
    page = client.get("/merchant/win-back").get_data(as_text=True)
    assert "Win-back email" in page and "The win-back email is off" in page

    response = _post(client, SETTINGS)
    assert response.status_code == 302
    program = _program(owner)
    assert (program.winback_enabled, program.winback_inactive_days, program.winback_bonus_points,
            program.winback_bonus_days) == (True, 45, 80, 14)
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "program.update"))
    assert entry.changes["winback_enabled"] == [False, True]
    assert entry.changes["winback_inactive_days"] == [60, 45]
    shown = client.get(response.location).get_data(as_text=True)
    assert "Win-back settings saved." in shown and "The win-back email is off" not in shown


def test_the_preview_shows_the_real_email_in_each_language(client, owner):
    program = factories.points_program(owner.merchant)
    _post(client, SETTINGS)
    page = client.get("/merchant/win-back").get_data(as_text=True)
    subjects = {"en": "We miss you at Café Test", "fr": "Vous nous manquez chez Café Test",
                "de": "Wir vermissen Sie bei Café Test", "lb": "Café Test: Dir feelt eis"}
    for code, subject in subjects.items():
        assert f'data-testid="preview-{code}"' in page
        assert subject in page
    assert "80 points" in page and "80 points" in page.split('data-testid="preview-fr"')[1]
    assert "80 Punkte" in page
    html = client.get("/merchant/win-back/preview/de")
    assert html.status_code == 200 and "sandbox" in html.headers["Content-Security-Policy"]
    assert "Wir vermissen Sie" in html.get_data(as_text=True)
    assert "Angebote per E-Mail abbestellen" in html.get_data(as_text=True)
    assert client.get("/merchant/win-back/preview/xx").status_code == 404
    assert program.id


@pytest.mark.parametrize("name, typed, message", [
    ("winback_inactive_days", "3", "Enter a number of days from 7 to 730."),
    ("winback_inactive_days", "", "Enter a number of days from 7 to 730."),
    ("winback_bonus_points", "-5", "Enter a number of points from 0 to 100,000."),
    ("winback_bonus_days", "99999999999", "Enter a number of days from 1 to 365."),
    ("winback_bonus_days", "ten", "Enter a number of days from 1 to 365."),
])
def test_refused_input_is_said_next_to_the_field_and_kept_as_typed(client, owner, name, typed,
                                                                   message):
    factories.points_program(owner.merchant)
    response = _post(client, {**SETTINGS, name: typed})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert f'value="{typed}"' in page or typed == ""
    kept = 'value="80"' if name != "winback_bonus_points" else 'value="45"'
    assert kept in page  # the other fields keep what was typed too
    program = _program(owner)
    assert not program.winback_enabled and program.winback_inactive_days == 60


def test_a_stamp_program_offers_stamps_only(client, owner):
    factories.stamp_program(owner.merchant)
    page = client.get("/merchant/win-back").get_data(as_text=True)
    assert "Welcome-back gift in stamps" in page and "Welcome-back gift in points" not in page
    _post(client, {**SETTINGS, "winback_bonus_stamps": "2"})
    program = _program(owner)
    assert (program.winback_bonus_stamps, program.winback_bonus_points) == (2, 0)


def test_only_owners_and_only_their_own_program(client, auth, merchant, other_merchant):
    factories.points_program(merchant.merchant)
    other = factories.points_program(other_merchant.merchant)
    auth.login_as(merchant.manager)
    assert client.get("/merchant/win-back").status_code in (403, 404)
    auth.logout()
    auth.login_as(merchant.owner)
    _post(client, SETTINGS)
    db.session.commit()
    db.session.refresh(other)
    assert not other.winback_enabled
    assert "Other Bakery" not in client.get("/merchant/win-back").get_data(as_text=True)


def test_without_a_program_the_owner_is_sent_to_create_it(client, owner):
    response = client.get("/merchant/win-back")
    assert response.status_code == 302 and response.location.endswith("/merchant/program")


def test_the_page_says_who_takes_offers_and_who_gets_the_next_email(client, owner,
                                                                    frozen_clock):
    factories.points_program(owner.merchant)
    quiet = factories.card(owner.merchant, "Quiet Quinn")
    frozen_clock.advance(days=40)
    recent = factories.card(owner.merchant, "Recent Rita")
    factories.card(owner.merchant, "No Offers Nina")
    for card in (quiet, recent):
        with write_transaction():
            marketing.record_consent(db.session.get(Customer, card.customer_id), True,
                                     source="join")
    _post(client, {**SETTINGS, "winback_inactive_days": "30"})
    audience = client.get("/merchant/win-back").get_data(as_text=True)
    assert "2 members take offers by email." in audience
    assert "1 of them gets the email at the next morning run." in audience
