"""Marketing email (offers, win-back, birthday greetings): only to customers who said yes, each
with a one-click unsubscribe.

How to send a marketing email:

1. Pick the recipients in your own grouped query with ``consenting()`` in its ``where``
   (joined to ``Customer``): consent given and not withdrawn since, an email, not erased, not
   deleted. Queue with ``mail.queue_emails(template, [{"card_id": id}, ...], merchant_id=...)``
   (register ``template`` in ``mail.EMAILS`` as for any email).
2. The letter builder ``mail.EMAILS[template]`` names returns
   ``marketing.letter(card, subject=..., context={...})``. It answers None when the customer
   no longer consents (they unsubscribed after it was queued, erased their data, have no
   email), so nothing is sent; otherwise a ``mail.Letter`` in the customer's language whose
   context has ``unsubscribe_url`` and whose headers are RFC 8058's ``List-Unsubscribe:
   <url>`` and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``.
3. The template's footer includes ``email/_unsubscribe.html`` (``.txt`` in the plain text):
   the link, said in the reader's language.

The link (``/unsubscribe/<token>``, ``storefront.unsubscribe``) works without signing in: the
token is the customer's id signed with the app's secret (``itsdangerous``), it never expires,
and following it twice says "already unsubscribed". Consent is recorded with its time on the
customer (``marketing_consent_at``, ``marketing_unsubscribed_at``, ``marketing_consent_source``)
and each change is an entry of the audit trail (``customer.marketing_consent``). Unsubscribing
stops marketing email only: transactional ones (welcome, card link, expiry warning) still go.
"""
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, or_, select

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.links import external_url
from loyalty.models import Customer, LoyaltyCard, Merchant
from loyalty.services import audit
from loyalty.services.delivery import mail
from loyalty.services.errors import NotFound

SALT = "marketing-unsubscribe"
NO_SUBSCRIPTION = _l("This unsubscribe link is not valid. Check that you opened the whole link "
                     "from the email.")
#: Where a yes or a no was given (``Customer.marketing_consent_source``).
SOURCES = ("join", "card_page", "unsubscribe")


def consenting(customer=Customer):
    """The SQL condition "may be sent offers by email" on ``customer`` (the class or an alias):
    ``Customer.marketing_consent``, and an email to write to."""
    return and_(customer.marketing_consent_at.is_not(None),
                or_(customer.marketing_unsubscribed_at.is_(None),
                    customer.marketing_consent_at > customer.marketing_unsubscribed_at),
                customer.email.is_not(None), customer.erased_at.is_(None),
                customer.deleted_at.is_(None))


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def unsubscribe_token(customer_id):
    return _serializer().dumps(customer_id)


def unsubscribe_url(customer_id):
    return external_url("storefront.unsubscribe", token=unsubscribe_token(customer_id))


def letter(card, *, subject, context):
    """The marketing ``mail.Letter`` to ``card``'s customer, or None when they may not get it."""
    customer = card.customer if card is not None else None
    if customer is None or not customer.email or not customer.marketing_consent:
        return None
    merchant = db.session.get(Merchant, card.merchant_id)
    url = unsubscribe_url(customer.id)
    return mail.Letter(
        to=customer.email, locale=customer.preferred_locale or merchant.default_locale,
        subject=subject, sender_name=merchant.name,
        context={"shop": merchant.name, "name": customer.name, "country": merchant.country,
                 **context, "unsubscribe_url": url},
        headers={"List-Unsubscribe": f"<{url}>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})


def record_consent(customer, given, *, source, ip_address=None):
    """Record a yes (``given``) or a no, now, with where it was given, in the caller's
    transaction; an audit entry keeps the history. Saying again what holds changes nothing.
    Returns whether anything changed."""
    if bool(given) == customer.marketing_consent:
        return False
    now = clock.now()
    if given:
        customer.marketing_consent_at = now
    else:
        customer.marketing_unsubscribed_at = now
    customer.marketing_consent_source = source
    audit.record(audit.Actor(user_id=None, merchant_id=customer.merchant_id,
                             ip_address=ip_address),
                 "customer.marketing_consent", customer, merchant_id=customer.merchant_id,
                 label=_card_number(customer.id),
                 changes={"marketing_consent": (not given, bool(given))})
    return True


def _card_number(customer_id):
    return db.session.scalar(select(LoyaltyCard.card_number)
                             .where(LoyaltyCard.customer_id == customer_id).limit(1))


def change_consent(card, given, *, source="card_page", ip_address=None):
    """The card page's "send me offers by email" switch. Needs an email to say yes."""
    with write_transaction():
        customer = db.session.get(Customer, card.customer_id, with_for_update=True,
                                  populate_existing=True)
        if customer is None or customer.erased_at is not None:
            raise NotFound(_l("This card has already been deleted."))
        if given and not customer.email:
            return False
        return record_consent(customer, given, source=source, ip_address=ip_address)


def customer_for_token(token):
    """The customer an unsubscribe link names; a bad, unknown or erased one is "not found"."""
    try:
        customer_id = _serializer().loads(token or "")
    except BadSignature:
        raise NotFound(NO_SUBSCRIPTION) from None
    if not isinstance(customer_id, int):
        raise NotFound(NO_SUBSCRIPTION)
    customer = db.session.get(Customer, customer_id)
    if customer is None or customer.erased_at is not None:
        raise NotFound(NO_SUBSCRIPTION)
    return customer


def unsubscribe(token, *, ip_address=None):
    """Follow an unsubscribe link (one click, or the page's button). Returns the customer and
    whether they had unsubscribed already (a second time changes nothing)."""
    with write_transaction():
        customer = customer_for_token(token)
        db.session.refresh(customer, with_for_update=True)
        changed = record_consent(customer, False, source="unsubscribe", ip_address=ip_address)
    return customer, not changed
