"""One-click unsubscribe from offers by email (``/unsubscribe/<token>``), without signing in.

GET shows what it does and a button; POST unsubscribes: the page's button, or a mail
program's one click (RFC 8058: ``List-Unsubscribe=One-Click`` in the body, no cookies, so no
CSRF token; the route does nothing else than unsubscribing the token's customer). A second
time says so; a bad or unknown token is "not found".
"""
from flask import g, render_template, request, session

from loyalty.blueprints.storefront.views import PRIVATE_PAGE, _on_shops_page, bp
from loyalty.extensions import csrf
from loyalty.i18n import LANGUAGE_COOKIE
from loyalty.services.delivery import marketing


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token):
    customer = marketing.customer_for_token(token)
    _on_shops_page(customer.merchant)
    if "lang" not in session and request.cookies.get(LANGUAGE_COOKIE) is None:
        g.page_locale = customer.preferred_locale  # as the card page: unless they picked one
    if request.method == "POST":
        customer, already = marketing.unsubscribe(token, ip_address=request.remote_addr)
        state = "already" if already else "done"
    else:
        state = "confirm" if customer.marketing_consent else "already"
    return render_template("storefront/unsubscribe.html", state=state,
                           shop=customer.merchant.name), 200, PRIVATE_PAGE
