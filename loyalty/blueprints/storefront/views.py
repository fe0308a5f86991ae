"""Customer pages on their phone: the program (``/m/<slug>/``), joining it
(``/m/<slug>/join``), their own card (``/card/<secret>``) and their data on it."""
import json
import logging

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from loyalty.blueprints.storefront.forms import (
    CardLinkForm,
    EraseForm,
    JoinForm,
    MarketingConsentForm,
)
from loyalty.i18n import LANGUAGE_COOKIE
from loyalty.services.customers import (
    card_handoffs,
    enrollment,
    storefront,
)
from loyalty.services.customers import (
    card_page as customer_card,
)
from loyalty.services.customers import (
    my_data as customer_data,
)
from loyalty.services.customers.happy_hours import public_happy_hours
from loyalty.services.delivery import marketing
from loyalty.services.errors import DomainError, NotFound
from loyalty.services.wallets import apple_pass
from loyalty.services.wallets import google as google_wallet_service
from loyalty.services.wallets import status as wallets
from loyalty.throttle import TooManyAttempts, join_budgets, spend

bp = Blueprint("storefront", __name__)
log = logging.getLogger(__name__)

#: The link is the key to the card: it never leaves in a Referer and is never indexed (and,
#: like every page, no cache keeps a copy: ``Cache-Control: no-store``).
PRIVATE_PAGE = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"}


@bp.errorhandler(NotFound)
def not_found(error):
    return render_template("storefront/not_found.html", message=error.message), 404, PRIVATE_PAGE


def _on_shops_page(merchant):
    """The page falls back to the shop's language and shows times on its clock."""
    g.merchant_locale, g.page_timezone = merchant.default_locale, merchant.timezone
    g.page_country = merchant.country  # dates written as people write them there
    return merchant


def _shop(slug):
    """The merchant of ``slug`` and its program as customers see it, in the page's language
    (the visitor's choice, their browser's, else the shop's default)."""
    merchant = _on_shops_page(storefront.merchant_for_slug(slug))
    return merchant, storefront.public_program(merchant, str(get_locale()))


def _card(secret):
    """The card of ``secret``, the page in its customer's language unless they picked one."""
    card = customer_card.card_for_secret(secret)
    _on_shops_page(customer_card.merchant_of(card))
    if "lang" not in session and request.cookies.get(LANGUAGE_COOKIE) is None:
        g.page_locale = card.customer.preferred_locale
    return card


@bp.route("/m/<slug>/")
def program(slug):
    merchant, public = _shop(slug)
    return render_template("storefront/program.html", program=public, link_form=CardLinkForm(),
                           happy_hours=public_happy_hours(merchant))


@bp.route("/m/<slug>/join", methods=["GET", "POST"])
def join(slug):
    """The sign-up form; ``?store=<code>`` (a store's poster) makes the card that store's."""
    merchant, public = _shop(slug)
    if not public.self_enrollment:
        return render_template("storefront/join.html", program=public, form=None), 403
    form = JoinForm()
    if request.method == "GET":
        form.language.data = str(get_locale())
    if form.validate_on_submit():
        if form.website.data:  # a bot: the same answer, nothing done
            return redirect(url_for("storefront.joined", slug=slug))
        try:
            spend(join_budgets(request.remote_addr, form.email.data))
            enrollment.self_enroll(merchant, first_name=form.first_name.data,
                                   last_name=form.last_name.data, email=form.email.data,
                                   phone=form.phone.data, locale=form.language.data,
                                   terms_locale=str(get_locale()),
                                   birthday=form.birthday if public.birthday_bonus else None,
                                   store_code=request.args.get("store"),
                                   marketing_consent=form.marketing_consent.data,
                                   ip_address=request.remote_addr)
        except TooManyAttempts as limit:
            return render_template("storefront/join.html", program=public, form=form,
                                   retry_minutes=limit.minutes), 429
        except DomainError as refusal:
            field = form._fields.get(refusal.details.get("field"), form.email)
            field.errors = [*field.errors, str(refusal.message)]
        else:
            return redirect(url_for("storefront.joined", slug=slug))
    status = 422 if request.method == "POST" else 200
    return render_template("storefront/join.html", program=public, form=form), status


@bp.post("/m/<slug>/card-link")
def card_link(slug):
    """Send the card's link again; the same answer whether the address has a card or not."""
    merchant, public = _shop(slug)
    form = CardLinkForm()
    if not form.validate_on_submit():
        return render_template("storefront/program.html", program=public, link_form=form,
                               happy_hours=public_happy_hours(merchant)), 422
    try:
        spend(join_budgets(request.remote_addr, form.email.data))
    except TooManyAttempts as limit:
        return render_template("storefront/program.html", program=public, link_form=form,
                               happy_hours=public_happy_hours(merchant),
                               retry_minutes=limit.minutes), 429
    enrollment.resend_card_link(merchant, form.email.data)
    return redirect(url_for("storefront.joined", slug=slug, asked="link"))


@bp.route("/m/<slug>/join/sent")
def joined(slug):
    _merchant, public = _shop(slug)
    return render_template("storefront/joined.html", program=public)


@bp.route("/card/<secret>")
def card(secret):
    found = _card(secret)
    page = request.args.get("page", 1, type=int)
    view = customer_card.card_page(found, str(get_locale()), page if 0 < page < 10_000 else 1)
    consent_form = MarketingConsentForm(
        formdata=None, marketing_consent=found.customer.marketing_consent)
    return render_template("storefront/card.html", view=view, card=found, consent_form=consent_form,
                           wallets=wallets.configured()), 200, PRIVATE_PAGE


@bp.post("/card/<secret>/offers")
def offers(secret):
    """The card page's "send me offers by email" switch."""
    found = _card(secret)
    form = MarketingConsentForm()
    if not form.validate_on_submit():
        return render_template("storefront/not_found.html", title=_("This form has expired"),
                               message=_("The page was open too long or sent from somewhere "
                                         "else. Reload the page and try again.")), 400, PRIVATE_PAGE
    marketing.change_consent(found, form.marketing_consent.data, ip_address=request.remote_addr)
    return redirect(url_for("storefront.card", secret=found.page_secret, offers="saved",
                            _anchor="offers"), 303)


@bp.route("/c/<token>")
def handoff(token):
    """The counter's QR code: opens the card's own page once, then on its usual address (which
    the customer keeps)."""
    try:
        found = card_handoffs.open_once(token)
    except card_handoffs.HandoffRefused as refusal:
        return render_template("storefront/not_found.html", message=refusal.message,
                               title=_("Ask for a new QR code")), 410, PRIVATE_PAGE
    _on_shops_page(customer_card.merchant_of(found))
    return redirect(url_for("storefront.card", secret=found.page_secret, welcome=1), 303)


@bp.route("/card/<secret>/wallet.pkpass")
def apple_wallet(secret):
    """The card as an Apple Wallet pass (the card page's button)."""
    found = _card(secret)
    if not wallets.apple_enabled() or not found.is_active:
        raise NotFound(customer_card.NO_CARD)
    try:
        data, modified = apple_pass.build(found)
    except apple_pass.PassUnavailable:
        log.exception("Apple pass of card %s cannot be signed", found.id)
        return render_template("storefront/not_found.html", message=_(
            "Apple Wallet passes cannot be made right now. Try again later; your card works "
            "meanwhile from this page.")), 503, PRIVATE_PAGE
    response = Response(data, mimetype=apple_pass.MEDIA_TYPE, headers=PRIVATE_PAGE)
    response.headers["Content-Disposition"] = f'attachment; filename="{found.card_number}.pkpass"'
    response.last_modified = modified
    return response


@bp.route("/card/<secret>/google-wallet")
def google_wallet(secret):
    """On to Google's "save to wallet" page with the card's signed save link."""
    found = _card(secret)
    if not wallets.google_enabled() or not found.is_active:
        raise NotFound(customer_card.NO_CARD)
    try:
        return redirect(google_wallet_service.save_link(found))
    except google_wallet_service.WalletApiError:
        log.exception("Google Wallet refused card %s", found.id)
        return render_template("storefront/not_found.html", message=_(
            "Google Wallet is not answering right now. Try again in a few minutes; your card "
            "works meanwhile from this page.")), 503, PRIVATE_PAGE


@bp.route("/card/<secret>/my-data.json")
def my_data(secret):
    found = _card(secret)
    body = json.dumps(customer_data.export(found), ensure_ascii=False, indent=2)
    headers = {**PRIVATE_PAGE, "Content-Type": "application/json; charset=utf-8",
               "Content-Disposition": f'attachment; filename="card-{found.card_number}.json"'}
    return body, 200, headers


@bp.route("/card/<secret>/delete", methods=["GET", "POST"])
def erase(secret):
    """Delete my card: a page that says what happens, then the erasure."""
    found = _card(secret)
    form = EraseForm()
    if form.validate_on_submit():
        shop = customer_card.merchant_of(found)
        customer_data.erase(found)
        return redirect(url_for("storefront.erased", slug=shop.slug))
    view = customer_card.card_page(found, str(get_locale()))
    status = 422 if request.method == "POST" else 200
    return render_template("storefront/erase.html", view=view, card=found,
                           form=form), status, PRIVATE_PAGE


@bp.route("/m/<slug>/deleted")
def erased(slug):
    merchant = _on_shops_page(storefront.merchant_for_slug(slug))
    return render_template("storefront/erased.html", shop=merchant.name)


@bp.route("/accessibility")
def accessibility():
    """The accessibility statement, linked from the foot of every customer page."""
    return render_template("storefront/accessibility.html",
                           contact=current_app.config["ACCESSIBILITY_CONTACT"])
