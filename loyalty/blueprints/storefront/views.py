"""Customer pages on their phone: their own card (``/card/<secret>``)."""
from flask import Blueprint, g, render_template, request, session

from loyalty.services import customer_card
from loyalty.services.errors import NotFound

bp = Blueprint("storefront", __name__)

#: The link is the key to the card: it never leaves in a Referer and is never indexed (and,
#: like every page, no cache keeps a copy: ``Cache-Control: no-store``).
PRIVATE_PAGE = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"}


@bp.route("/card/<secret>")
def card(secret):
    try:
        found = customer_card.card_for_secret(secret)
    except NotFound as error:
        return render_template("storefront/not_found.html", message=error.message), 404, \
            PRIVATE_PAGE
    if "lang" not in session:  # the customer's own language, unless they picked one here
        g.page_locale = found.customer.preferred_locale
    page = request.args.get("page", 1, type=int)
    view = customer_card.card_page(found, page if 0 < page < 10_000 else 1)
    return render_template("storefront/card.html", view=view, card=found), 200, PRIVATE_PAGE
