"""Customer pages on their phone: the program (``/m/<slug>/``), joining it
(``/m/<slug>/join``) and their own card (``/card/<secret>``)."""
from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale

from loyalty.blueprints.storefront.forms import CardLinkForm, JoinForm
from loyalty.services import customer_card, enrollment, storefront
from loyalty.services.errors import DomainError, NotFound
from loyalty.throttle import TooManyAttempts, join_budgets, spend

bp = Blueprint("storefront", __name__)

#: The link is the key to the card: it never leaves in a Referer and is never indexed (and,
#: like every page, no cache keeps a copy: ``Cache-Control: no-store``).
PRIVATE_PAGE = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"}


def _not_found(error):
    return render_template("storefront/not_found.html", message=error.message), 404


@bp.route("/m/<slug>/")
def program(slug):
    try:
        public = storefront.public_program(slug)
    except NotFound as error:
        return _not_found(error)
    return render_template("storefront/program.html", program=public, link_form=CardLinkForm())


@bp.route("/m/<slug>/join", methods=["GET", "POST"])
def join(slug):
    try:
        public = storefront.public_program(slug)
    except NotFound as error:
        return _not_found(error)
    form = JoinForm()
    if request.method == "GET":
        form.language.data = str(get_locale())
    if not public.self_enrollment:
        return render_template("storefront/join.html", program=public, form=None), 403
    if form.validate_on_submit():
        if form.website.data:  # a bot: the same answer, nothing done
            return redirect(url_for("storefront.joined", slug=slug))
        try:
            spend(join_budgets(request.remote_addr, form.email.data))
            enrollment.self_enroll(storefront.merchant_for_slug(slug),
                                   first_name=form.first_name.data, last_name=form.last_name.data,
                                   email=form.email.data, phone=form.phone.data,
                                   locale=form.language.data)
        except TooManyAttempts as limit:
            return render_template("storefront/join.html", program=public, form=form,
                                   retry_minutes=limit.minutes), 429
        except DomainError as refusal:
            form.email.errors.append(str(refusal.message))
        else:
            return redirect(url_for("storefront.joined", slug=slug))
    status = 422 if request.method == "POST" else 200
    return render_template("storefront/join.html", program=public, form=form), status


@bp.post("/m/<slug>/card-link")
def card_link(slug):
    """Send the card's link again; the same answer whether the address has a card or not."""
    try:
        public = storefront.public_program(slug)
    except NotFound as error:
        return _not_found(error)
    form = CardLinkForm()
    if not form.validate_on_submit():
        return render_template("storefront/program.html", program=public, link_form=form), 422
    try:
        spend(join_budgets(request.remote_addr, form.email.data))
    except TooManyAttempts as limit:
        return render_template("storefront/program.html", program=public, link_form=form,
                               retry_minutes=limit.minutes), 429
    enrollment.resend_card_link(storefront.merchant_for_slug(slug), form.email.data)
    return redirect(url_for("storefront.joined", slug=slug))


@bp.route("/m/<slug>/join/sent")
def joined(slug):
    try:
        public = storefront.public_program(slug)
    except NotFound as error:
        return _not_found(error)
    return render_template("storefront/joined.html", program=public)


@bp.route("/card/<secret>")
def card(secret):
    try:
        found = customer_card.card_for_secret(secret)
    except NotFound as error:
        return (*_not_found(error), PRIVATE_PAGE)
    if "lang" not in session:  # the customer's own language, unless they picked one here
        g.page_locale = found.customer.preferred_locale
    page = request.args.get("page", 1, type=int)
    view = customer_card.card_page(found, page if 0 < page < 10_000 else 1)
    return render_template("storefront/card.html", view=view, card=found), 200, PRIVATE_PAGE
