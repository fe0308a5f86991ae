"""The owner's happy hours page: schedule, change and delete one (audited), refusals said at
their field with what was typed kept, owners only, another merchant's happy hour not found."""
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import AuditEntry, HappyHour
from loyalty.services.merchant import happy_hours
from tests import factories
from tests.conftest import csrf_token_from

URL = "/merchant/happy-hours"


@pytest.fixture
def owner(auth, client, merchant):
    factories.hybrid_program(merchant.merchant)
    auth.login_as(merchant.owner)
    return client


def _form(client, url=URL, **values):
    data = {"name": "Double Tuesday", "kind": "points", "factor": "2", "extra_stamps": "1",
            "weekdays": ["1"], "start_time": "14:00", "end_time": "17:00",
            "starts_on": "2026-06-01", "ends_on": "", "all_stores": "y", "is_active": "y",
            "csrf_token": csrf_token_from(client.get(URL))}
    data.update(values)
    return client.post(url, data={k: v for k, v in data.items() if v is not None})


def _hours(merchant):
    db.session.expire_all()
    return db.session.scalars(select(HappyHour).where(
        HappyHour.merchant_id == merchant.merchant.id)).all()


def test_the_owner_schedules_one_at_a_store_and_sees_it_listed(owner, merchant, frozen_clock):
    gare = merchant.stores[0]
    page = owner.get(URL)
    assert page.status_code == 200 and "Schedule a happy hour" in page.text
    assert 'href="/merchant/happy-hours"' in page.text  # in the owner's navigation
    saved = _form(owner, all_stores=None, store_ids=[str(gare.id)])
    assert saved.status_code == 302
    (hour,) = _hours(merchant)
    assert (hour.kind, hour.factor, hour.weekdays, hour.all_stores) == ("points", 2, 2, False)
    assert [store.id for store in hour.stores] == [gare.id]
    listed = owner.get(URL).text
    assert "Double Tuesday" in listed and "Double points" in listed and gare.name in listed
    assert 'data-testid="happy-hours-upcoming"' in listed  # 15 June 2026 is a Monday
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "happy_hour.create")).one()
    assert entry.changes["start_time"] == [None, "14:00"]


def test_a_running_one_is_listed_as_running_now(owner, merchant, frozen_clock):
    frozen_clock.set(datetime(2026, 6, 16, 13, 0, tzinfo=UTC))  # Tuesday 15:00 in Luxembourg
    _form(owner)
    assert 'data-testid="happy-hours-running"' in owner.get(URL).text


@pytest.mark.parametrize("values, message", [
    ({"name": ""}, "Give the happy hour a name"),
    ({"factor": "11"}, "Choose a multiplier between 2 and 10."),
    ({"kind": "stamps", "extra_stamps": "0"}, "Choose between 1 and 10 extra stamps per visit."),
    ({"weekdays": None}, "Tick at least one day of the week."),
    ({"start_time": "25:00"}, "Enter the start time, like 14:00."),
    ({"start_time": "22:00", "end_time": "02:00"}, "schedule a second happy hour from 00:00"),
    ({"start_time": "14:00", "end_time": "14:00"}, "The end must be after the start"),
    ({"starts_on": "2026-06-10", "ends_on": "2026-06-01"},
     "The last day cannot be before the first day."),
    ({"starts_on": "tomorrow"}, "Enter a date like 2026-11-21."),
    ({"all_stores": None}, "Tick the stores where it applies, or choose all stores."),
])
def test_refusals_are_said_at_their_field_and_keep_what_was_typed(owner, merchant, values,
                                                                    message):
    refused = _form(owner, **{"name": "Kept name", **values})
    assert refused.status_code == 422
    assert message in refused.text
    assert 'data-testid="error-summary"' in refused.text
    if values.get("name", "Kept name"):
        assert 'value="Kept name"' in refused.text
    assert _hours(merchant) == []


def test_altered_forms_are_refused_not_crashed(owner, merchant, other_merchant):
    theirs = other_merchant.stores[0]
    for values in ({"kind": "tea"}, {"weekdays": ["9"]}, {"store_ids": [str(theirs.id)],
                                                           "all_stores": None},
                   {"factor": "x" * 500}, {"start_time": "1" * 400}):
        assert _form(owner, **values).status_code == 422, values
    assert _hours(merchant) == []


def test_the_owner_changes_and_deletes_one(owner, merchant):
    _form(owner)
    (hour,) = _hours(merchant)
    edit = owner.get(f"{URL}/{hour.id}")
    assert edit.status_code == 200 and 'value="14:00"' in edit.text and 'value="Double Tuesday"' in edit.text
    saved = _form(owner, url=f"{URL}/{hour.id}", kind="stamps", extra_stamps="2",
                  end_time="18:30", weekdays=["5", "6"])
    assert saved.status_code == 302
    (hour,) = _hours(merchant)
    assert (hour.kind, hour.factor, hour.extra_stamps, hour.weekdays) == ("stamps", None, 2, 96)
    assert "+2 stamps per visit" in owner.get(URL).text
    token = csrf_token_from(owner.get(URL))
    assert owner.post(f"{URL}/{hour.id}/delete", data={"csrf_token": token}).status_code == 302
    assert _hours(merchant) == []
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.action.like("happy_hour.%")).order_by(AuditEntry.id)).all()
    assert actions == ["happy_hour.create", "happy_hour.update", "happy_hour.delete"]


def test_another_merchants_happy_hour_is_not_found(owner, merchant, other_merchant):
    factories.stamp_program(other_merchant.merchant)
    theirs = happy_hours.create_happy_hour(
        other_merchant.merchant, name="Theirs", kind="stamps", extra_stamps=1, weekdays=[0],
        start_time=datetime(2026, 1, 1, 9).time(), end_time=datetime(2026, 1, 1, 10).time(),
        starts_on=datetime(2026, 1, 1).date(), all_stores=True)
    token = csrf_token_from(owner.get(URL))
    assert owner.get(f"{URL}/{theirs.id}").status_code == 404
    assert owner.post(f"{URL}/{theirs.id}", data={"csrf_token": token}).status_code == 404
    assert owner.post(f"{URL}/{theirs.id}/delete",
                      data={"csrf_token": token}).status_code == 404
    assert "Theirs" not in owner.get(URL).text
    db.session.expire_all()
    assert db.session.get(HappyHour, theirs.id) is not None


def test_managers_and_staff_cannot_open_it(auth, client, merchant):
    for person in (merchant.manager, merchant.staff):
        auth.login_as(person)
        assert client.get(URL).status_code in (403, 404)
        auth.logout()


def test_the_program_page_shows_running_and_upcoming_ones_in_the_customers_language(
        client, merchant, frozen_clock):
    factories.hybrid_program(merchant.merchant)
    from datetime import date, time  # noqa: PLC0415
    gare = merchant.stores[0]
    common = dict(start_time=time(14), end_time=time(17), starts_on=date(2026, 6, 1))
    happy_hours.create_happy_hour(merchant.merchant, name="Owner's words", kind="points",
                                  factor=2, weekdays=[0], all_stores=True, **common)
    happy_hours.create_happy_hour(merchant.merchant, name="Weekend", kind="stamps",
                                  extra_stamps=1, weekdays=[5], all_stores=False,
                                  store_ids=[gare.id], **common)
    happy_hours.create_happy_hour(merchant.merchant, name="Paused", kind="points", factor=5,
                                  weekdays=[0], all_stores=True, is_active=False, **common)
    happy_hours.create_happy_hour(merchant.merchant, name="Later", kind="points", factor=4,
                                  weekdays=[0], all_stores=True, **{**common,
                                  "starts_on": date(2026, 7, 1)})
    frozen_clock.set(datetime(2026, 6, 15, 13, 0, tzinfo=UTC))  # Monday 15:00 in Luxembourg
    page = client.get("/m/cafe-test/")
    section = page.text.split('data-testid="happy-hours"')[1].split("</section>")[0]
    assert "Double points" in section and "Now, until 17:00" in section
    assert "+1 stamp per visit" in section and "20 Jun 2026, 14:00–17:00" in section
    assert f"At {gare.name}" in section
    assert "Owner&#39;s words" not in section and "×5" not in section and "×4" not in section
    french = client.get("/m/cafe-test/", headers={"Accept-Language": "fr"}).text
    assert "Points doublés" in french and "Maintenant, jusqu’à 17:00" in french
    assert "+1 tampon par visite" in french


def test_the_cards_history_shows_the_base_and_the_multiplier(owner, merchant, frozen_clock):
    from datetime import date, time  # noqa: PLC0415

    from loyalty.services.engine.ledger import ActionContext  # noqa: PLC0415
    from loyalty.services.engine.points import earn_points  # noqa: PLC0415
    from loyalty.services.engine.stamps import add_stamp  # noqa: PLC0415
    for kind, size in (("points", {"factor": 3}), ("stamps", {"extra_stamps": 2})):
        happy_hours.create_happy_hour(merchant.merchant, name=kind, kind=kind, weekdays=[0],
                                      start_time=time(14), end_time=time(17),
                                      starts_on=date(2026, 6, 1), all_stores=True, **size)
    card = factories.card(merchant.merchant)
    frozen_clock.set(datetime(2026, 6, 15, 13, 0, tzinfo=UTC))
    context = ActionContext(store_id=merchant.stores[0].id)
    earn_points(card, 500, context=context)
    add_stamp(card, context=context)
    page = owner.get(f"/merchant/cards/{card.id}").text
    assert "happy hour: 50 × 3" in page and "happy hour: 1 + 2" in page


def test_the_program_page_lists_each_happy_hour_once_at_its_next_window(client, merchant,
                                                                        frozen_clock):
    from datetime import date, time  # noqa: PLC0415
    factories.stamp_program(merchant.merchant)
    happy_hours.create_happy_hour(merchant.merchant, name="Daily", kind="stamps",
                                  extra_stamps=2, weekdays=list(range(7)), all_stores=True,
                                  start_time=time(8), end_time=time(9),
                                  starts_on=date(2026, 6, 1))
    frozen_clock.set(datetime(2026, 6, 15, 13, 0, tzinfo=UTC))  # 15:00: today's is over
    section = client.get("/m/cafe-test/").text.split('data-testid="happy-hours"')[1]
    assert section.count("+2 stamps per visit") == 1
    assert "16 Jun 2026, 08:00–09:00" in section
