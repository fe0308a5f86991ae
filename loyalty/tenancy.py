"""Who the request acts for: the merchant and role, resolved once per request.

Views never filter by ``merchant_id`` themselves: they call ``scoped(...)`` or
``get_or_404(...)``, so a record of another merchant is simply not found. Someone on the teams
of several merchants acts for the one they chose (``choose_merchant``, kept in their session),
else the first they joined.
"""
from functools import wraps

from flask import abort, g, session
from flask_login import current_user, login_required
from sqlalchemy import Select, select
from werkzeug.local import LocalProxy

from loyalty.extensions import db
from loyalty.models import MAX_ID, Role
from loyalty.services.platform.accounts import memberships_of, signed_in_memberships

PLATFORM_ADMIN = "platform_admin"


class Tenancy:
    """The acting user's merchant, role and allowed stores for this request."""

    def __init__(self, memberships):
        self.memberships = memberships
        chosen = session.get("merchant_id")
        merchant_ids = [m.merchant_id for m in memberships]
        first_joined = min(memberships, key=lambda m: (m.accepted_at, m.id)).merchant_id \
            if memberships else None
        self.merchant_id = chosen if chosen in merchant_ids else first_joined
        mine = [m for m in memberships if m.merchant_id == self.merchant_id]
        self.merchant = mine[0].merchant if mine else None
        roles = {m.role for m in mine}
        self.role = next((r for r in Role if r in roles), None)  # strongest role wins
        #: The live stores the memberships name, as the sign-in loader brought them along.
        self.stores = [m.store for m in mine if m.store is not None and not m.store.is_deleted]
        #: The live stores where the person is a manager (not merely staff).
        self.managed_stores = [m.store for m in mine if m.role is Role.STORE_MANAGER
                               and m.store is not None and not m.store.is_deleted]

    @property
    def all_stores(self):
        return self.role is Role.MERCHANT_OWNER

    @property
    def merchants(self):
        """Every merchant this person may act for, once each (the switcher's choices)."""
        return list({m.merchant_id: m.merchant for m in self.memberships}.values())


def _tenancy():
    if "tenancy" not in g:
        memberships = signed_in_memberships(current_user) if current_user.is_authenticated else []
        g.tenancy = Tenancy(memberships)
    return g.tenancy


tenancy = LocalProxy(_tenancy)
current_merchant = LocalProxy(lambda: _tenancy().merchant)


def choose_merchant(merchant_id):
    """Act for ``merchant_id`` from now on in this session; 404 unless the person is on its
    team (an invitation counts once accepted, in this very request too: the memberships are
    read again, not taken from the request's start)."""
    if merchant_id not in {m.merchant_id for m in memberships_of(current_user)}:
        abort(404)
    session["merchant_id"] = merchant_id
    g.pop("tenancy", None)


def scoped(target):
    """A select of ``target`` (a model or a Select) limited to the current merchant's rows."""
    stmt = target if isinstance(target, Select) else select(target)
    model = stmt.column_descriptions[0]["entity"]
    merchant_id = _tenancy().merchant_id
    return stmt.where(model.merchant_id == (merchant_id if merchant_id is not None else -1))


def get_or_404(model, record_id):
    """The current merchant's live ``model`` row with this id; anything else is a 404."""
    if not 0 < record_id <= MAX_ID:
        abort(404)
    record = db.session.scalar(scoped(model).where(model.id == record_id))
    if record is None:
        abort(404)
    return record


def home_endpoint(user):
    """Where a user lands after signing in."""
    if user.is_platform_admin:
        return "admin.index"
    role = Tenancy(memberships_of(user)).role
    if role is Role.MERCHANT_OWNER:
        return "merchant.index"
    if role in (Role.STORE_MANAGER, Role.STORE_STAFF):
        return "terminal.index"
    return None


def roles_required(*roles):
    """Allow the view to users holding one of ``roles`` at the current merchant.

    ``PLATFORM_ADMIN`` admits platform admins. Anyone else signed in gets a 403.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if PLATFORM_ADMIN in roles and current_user.is_platform_admin:
                return view(*args, **kwargs)
            if _tenancy().role in roles:
                return view(*args, **kwargs)
            abort(403)

        return wrapped

    return decorator
