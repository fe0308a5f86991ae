"""Dates as people write them where the shop is: day first in Luxembourg in every language,
month first for English in the US; one style per kind of date (a date: medium; a date and
time: medium date and short time), on the owner's card page and at the counter."""
from datetime import UTC, datetime

import pytest

from loyalty.extensions import db
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.stamps import add_stamp
from tests import factories

NNBSP = "\u202f"  # CLDR's narrow space before AM/PM

#: (country, language) -> (a date, a date and time, the counter's time another day)
EXPECTED = {
    ("LU", "en"): ("7 Dec 2026", "7 Dec 2026, 16:03", "07/12 16:03"),
    ("LU", "fr"): ("7 déc. 2026", "7 déc. 2026, 16:03", "07/12 16:03"),
    ("LU", "de"): ("07.12.2026", "07.12.2026, 16:03", "7.12. 16:03"),
    ("LU", "lb"): ("7. Dez. 2026", "7. Dez. 2026 16:03", "7.12. 16:03"),
    ("US", "en"): ("Dec 7, 2026", f"Dec 7, 2026, 10:03{NNBSP}AM", f"12/7 10:03{NNBSP}AM"),
    ("US", "fr"): ("7 déc. 2026", "7 déc. 2026, 10:03", "07/12 10:03"),
    ("US", "de"): ("07.12.2026", "07.12.2026, 10:03", "7.12. 10:03"),
    ("US", "lb"): ("7. Dez. 2026", "7. Dez. 2026 10:03", "7.12. 10:03"),
}
ZONES = {"LU": "Europe/Luxembourg", "US": "America/New_York"}
STAMPED_AT = datetime(2026, 12, 7, 15, 3, tzinfo=UTC)  # 16:03 in Luxembourg, 10:03 in New York


def _shop(merchant, frozen_clock, country, language):
    merchant.merchant.country, merchant.merchant.timezone = country, ZONES[country]
    merchant.owner.preferred_locale = merchant.staff.preferred_locale = language
    factories.stamp_program(merchant.merchant)
    frozen_clock.set(STAMPED_AT)
    card = factories.card(merchant.merchant, "Dana Date", email="dana@example.com")
    add_stamp(card, context=ActionContext(store_id=merchant.stores[0].id,
                                          user_id=merchant.staff.id))
    db.session.commit()
    frozen_clock.set(datetime(2026, 12, 8, 15, 0, tzinfo=UTC))
    return card


@pytest.mark.parametrize(("country", "language"), list(EXPECTED))
def test_the_owners_card_page_writes_dates_as_people_do_in_the_shops_country(
        client, auth, merchant, frozen_clock, country, language):
    card = _shop(merchant, frozen_clock, country, language)
    date, date_and_time, _ = EXPECTED[country, language]
    auth.login_as(merchant.owner)
    page = client.get(f"/merchant/cards/{card.id}").get_data(as_text=True)
    assert f"<dd>{date}</dd>" in page  # member since
    assert f"<dd>{date_and_time}</dd>" in page  # last activity
    assert f"<td>{date_and_time}</td>" in page  # the history


@pytest.mark.parametrize(("country", "language"), list(EXPECTED))
def test_the_counter_history_writes_day_and_month_in_the_shops_order(
        client, terminal, merchant, frozen_clock, country, language):
    card = _shop(merchant, frozen_clock, country, language)
    *_, counter_time = EXPECTED[country, language]
    terminal.sign_in(merchant.staff)
    panel = terminal.find(card.card_number).get_data(as_text=True)
    assert f'<span class="when">{counter_time}</span>' in panel
