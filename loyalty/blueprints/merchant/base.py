"""The owners' and managers' blueprint, and what its views share: who may open what, the
actor recorded in the audit trail, and page-or-partial rendering."""
from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from loyalty.models import MAX_ID, Role
from loyalty.redirects import is_htmx
from loyalty.services.audit import Actor
from loyalty.tenancy import current_merchant, get_or_404, tenancy

bp = Blueprint("merchant", __name__, url_prefix="/merchant")

OWNER = (Role.MERCHANT_OWNER,)
OWNER_OR_MANAGER = (Role.MERCHANT_OWNER, Role.STORE_MANAGER)


def actor():
    """Who acts, for which merchant and stores: the services check it and the audit trail
    records it."""
    stores = managed_store_ids()
    return Actor(user_id=current_user.id, ip_address=request.remote_addr,
                 merchant_id=current_merchant.id,
                 store_ids=None if stores is None else frozenset(stores))


def is_owner():
    return tenancy.role is Role.MERCHANT_OWNER


def managed_store_ids():
    """The stores the signed-in person manages: all of an owner's (None), else only those
    where they are a manager (being staff at another store gives nothing there)."""
    if is_owner():
        return None
    return [store.id for store in tenancy.managed_stores]


def managed_or_404(model, record_id, store_of=lambda record: record.store_id):
    """The merchant's ``model`` row; for a manager, only one at a store they manage."""
    record = get_or_404(model, record_id)
    managed = managed_store_ids()
    if managed is not None and store_of(record) not in managed:
        abort(404)
    return record


def id_arg(name):
    """A record id from the query string (``?before=``, ``?person=``), or None for anything
    that cannot be one."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= MAX_ID else None


def page(template, partial=None, status=200, **values):
    """The whole page, or on an HTMX request only the partial the page includes."""
    values.setdefault("merchant", current_merchant)
    values.setdefault("is_owner", is_owner())
    if partial and is_htmx():
        return render_template(partial, **values), status
    return render_template(template, **values), status
