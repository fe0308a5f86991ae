"""The birthday on the card's own page (``/card/<secret>/birthday``): set, change or remove it.

A refused form shows the card page again with what was typed and what to fix (422); a saved
one goes back to the page (303) saying so."""
from flask import redirect, render_template, request, url_for
from flask_babel import get_locale

from loyalty.blueprints.storefront.birthday_forms import BirthdayForm
from loyalty.blueprints.storefront.forms import MarketingConsentForm
from loyalty.blueprints.storefront.views import PRIVATE_PAGE, _card, bp
from loyalty.services.customers import birthdays
from loyalty.services.customers import card_page as customer_card
from loyalty.services.engine.bonuses import bonus_of
from loyalty.services.errors import DomainError
from loyalty.services.wallets import status as wallets


def birthday_form_for(card):
    """The card page's birthday form, showing the customer's birthday."""
    form = BirthdayForm(formdata=None)
    form.birthday_data(card.customer)
    return form


def gives_birthday_bonus(program):
    return any(bonus_of(program))


bp.add_app_template_global(birthday_form_for, "birthday_form_for")
bp.add_app_template_global(gives_birthday_bonus, "gives_birthday_bonus")


@bp.post("/card/<secret>/birthday")
def birthday(secret):
    found = _card(secret)
    form = BirthdayForm()
    if form.validate_on_submit():
        day, month = (None, None) if form.remove.data else form.birthday
        try:
            birthdays.change_birthday(found, day, month, ip_address=request.remote_addr)
        except DomainError as refusal:
            form.birth_day.errors = [*form.birth_day.errors, str(refusal.message)]
        else:
            return redirect(url_for("storefront.card", secret=found.page_secret,
                                    birthday="removed" if day is None else "saved",
                                    _anchor="birthday"), 303)
    view = customer_card.card_page(found, str(get_locale()))
    consent_form = MarketingConsentForm(formdata=None,
                                        marketing_consent=found.customer.marketing_consent)
    return render_template("storefront/card.html", view=view, card=found, birthday_form=form,
                           consent_form=consent_form, wallets=wallets.configured()), \
        422, PRIVATE_PAGE
