"""The owner's alert rules page: every rule with its default, changes saved and audited,
refused input kept as typed, owners only."""
import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import AuditEntry, FraudRuleSetting
from loyalty.services.merchant import fraud_rules
from tests.conftest import csrf_token_from

URL = "/merchant/alert-rules"


def _defaults():
    data = {}
    for key, rule in fraud_rules.RULES.items():
        data[f"{key}_enabled"] = "y"
        data[f"{key}_threshold"] = str(rule.default)
    return data


def _post(client, **changes):
    token = csrf_token_from(client.get(URL))
    return client.post(URL, data={**_defaults(), **changes, "csrf_token": token})


@pytest.fixture
def owner(auth, merchant):
    auth.login_as(merchant.owner)
    return merchant


def test_the_owner_sees_every_rule_and_saves_a_change_audited(client, owner):
    page = client.get(URL).get_data(as_text=True)
    for rule in fraud_rules.RULES.values():
        assert f'data-testid="rule-{rule.key}"' in page and str(rule.label) in page
    assert 'href="/merchant/alert-rules" aria-current="page"' in page
    changes = dict(_defaults(), card_day_threshold="9")
    del changes["pin_burst_enabled"]  # unticked
    token = csrf_token_from(client.get(URL))
    response = client.post(URL, data={**changes, "csrf_token": token})
    assert response.status_code == 302
    assert "Alert rules saved." in client.get(response.location).get_data(as_text=True)
    found = fraud_rules.settings_of(owner.merchant.id)
    assert (found["card_day"].threshold, found["pin_burst"].enabled) == (9, False)
    assert found["staff_hour"] == fraud_rules.Setting(fraud_rules.RULES["staff_hour"], True, 30)
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "alert.rule").order_by(AuditEntry.id)).all()
    assert [entry.changes for entry in entries] == [{"threshold": [6, 9]},
                                                    {"enabled": [True, False]}]
    assert {entry.actor_id for entry in entries} == {owner.owner.id}
    activity = client.get("/merchant/activity?area=alert").get_data(as_text=True)
    assert "changed an alert rule" in activity and "Threshold" in activity


@pytest.mark.parametrize("typed", ["abc", "0", "-3", "1.5", "9" * 400, ""])
def test_a_refused_threshold_is_kept_as_typed_and_nothing_is_saved(client, owner, typed):
    response = _post(client, card_day_threshold=typed, staff_hour_threshold="12")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter a whole number from 2 to 500." in page
    assert f'value="{typed}"' in page if len(typed) < 50 else 'id="card_day_threshold"' in page
    assert 'value="12"' in page
    assert db.session.scalars(select(FraudRuleSetting)).all() == []


def test_a_closing_hour_at_which_the_night_rule_never_fires_is_refused(client, owner):
    response = _post(client, off_hours_threshold="5")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The night ends at 5 in the morning: choose the hour your stores close" in page
    assert 'value="5"' in page
    assert db.session.scalars(select(FraudRuleSetting)).all() == []
    assert _post(client, off_hours_threshold="4").status_code == 302


def test_an_altered_checkbox_is_refused(client, owner):
    assert _post(client, staff_hour_enabled="maybe").status_code == 422


@pytest.mark.parametrize("who", ["manager", "staff"])
def test_only_owners_open_it(client, auth, merchant, who):
    auth.login_as(getattr(merchant, who))
    assert client.get(URL).status_code in (403, 404)
    page = client.get("/merchant/").get_data(as_text=True)
    assert "/merchant/alert-rules" not in page
