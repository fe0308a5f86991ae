"""A merchant's stores: add, edit, close and reopen, each change in the audit trail."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import Store
from loyalty.services import audit
from loyalty.services.errors import Conflict, InvalidInput
from loyalty.services.platform.accounts import normalize_phone

CODE_TAKEN = _l("Another of your open stores already uses this code. Choose another.")
FIELDS = ("name", "code", "address", "phone", "opening_note")


def _clean(values, region=None):
    values = {name: (values.get(name) or "").strip() or None for name in FIELDS}
    if not values["name"]:
        raise InvalidInput(_l("Give the store a name."))
    if not values["code"]:
        raise InvalidInput(_l("Give the store a short code, like GARE."))
    values["code"] = values["code"].upper()
    # Kept in E.164 when it parses; a store's number is shown as typed otherwise.
    values["phone"] = normalize_phone(values["phone"], region) or values["phone"]
    return values


def stores_of(merchant_id, store_ids=None):
    """The merchant's stores (a manager's only, when ``store_ids`` is given), by name."""
    query = select(Store).where(Store.merchant_id == merchant_id).order_by(Store.name)
    if store_ids is not None:
        query = query.where(Store.id.in_(store_ids))
    return db.session.scalars(query).all()


def store_names(merchant_id):
    """{store id: name} of every store the merchant ever had, closed and deleted ones too
    (what its history names)."""
    return dict(db.session.execute(
        select(Store.id, Store.name).where(Store.merchant_id == merchant_id)
        .execution_options(include_deleted=True)).all())


def add_store(merchant, *, actor=None, **values):
    values = _clean(values, merchant.country)
    try:
        with write_transaction():
            store = Store(merchant_id=merchant.id, **values)
            db.session.add(store)
            db.session.flush()
            audit.record(actor, "store.create", store, merchant_id=merchant.id, label=store.name,
                         changes={name: (None, value) for name, value in values.items() if value})
    except IntegrityError as exc:
        raise Conflict(CODE_TAKEN) from exc
    return store


def update_store(store, *, actor=None, **values):
    values = _clean(values, store.merchant.country)
    try:
        with write_transaction():
            audit.apply_changes(actor, "store.update", store, values)
    except IntegrityError as exc:
        raise Conflict(CODE_TAKEN) from exc
    return store


def set_store_open(store, is_open, *, actor=None):
    """Close a store (its terminals stop working, its history stays) or reopen it."""
    with write_transaction():
        if store.is_active != is_open:
            store.is_active = is_open
            audit.record(actor, "store.reopen" if is_open else "store.close", store,
                         merchant_id=store.merchant_id, label=store.name,
                         changes={"is_active": (not is_open, is_open)})
    return store
