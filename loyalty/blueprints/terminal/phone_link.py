"""The card onto the customer's phone: a QR code on the terminal that opens their card's page
once, for a few minutes (``card_handoffs``)."""
from flask import request
from flask_login import current_user

from loyalty.blueprints.terminal.sheets import sheet_or_page
from loyalty.blueprints.terminal.views import STAFF_ROLES, _card_or_404, _store_or_redirect, bp
from loyalty.services.audit import Actor
from loyalty.services.customers import card_handoffs
from loyalty.services.customers.card_page import qr_svg
from loyalty.services.errors import DomainError
from loyalty.tenancy import current_merchant, roles_required


@bp.post("/cards/<int:card_id>/phone-link")
@roles_required(*STAFF_ROLES)
def phone_link(card_id):
    store, redirect_response = _store_or_redirect()
    if redirect_response:
        return redirect_response
    card = _card_or_404(card_id)
    actor = Actor(user_id=current_user.id, ip_address=request.remote_addr,
                  merchant_id=current_merchant.id)
    try:
        handoff, error, status = card_handoffs.show(card, actor), None, 200
    except DomainError as refusal:
        handoff, error, status = None, refusal.message, refusal.status_code
    return sheet_or_page("terminal/_phone_link.html", "terminal/phone_link_page.html", status,
                         store=store, card=card, handoff=handoff, error=error,
                         qr=qr_svg(handoff.url) if handoff else None)
