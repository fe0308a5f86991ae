"""The back office's records: merchants, stores and users listed with their deleted ones,
soft-deleted with what their deletion carries along, and restored.

A deletion's confirmation says how many rows it touches: the cascade is run inside a
savepoint, counted by batch and rolled back, so the figures are the deletion's own. A
restore first looks for a live row that took a restored row's unique value meanwhile (an
email, a store code, a shop's address) and says which, instead of failing on the index.
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from loyalty.extensions import db
from loyalty.models import Membership, Merchant, Store, User
from loyalty.models.base import cascade_counts, soft_deletable_classes
from loyalty.services import audit
from loyalty.services.errors import Conflict, NotFound
from loyalty.services.platform import accounts

PAGE_SIZE = 50
MAX_PAGE = 10_000
DELETED_FILTERS = ("live", "all", "deleted")  # the default, "include deleted", "only deleted"

#: What each kind of row is called in a deletion's confirmation, in this order.
ROW_NAMES = {
    "Merchant": lambda n: ngettext("%(num)d merchant", "%(num)d merchants", n),
    "User": lambda n: ngettext("%(num)d user account", "%(num)d user accounts", n),
    "Store": lambda n: ngettext("%(num)d store", "%(num)d stores", n),
    "Membership": lambda n: ngettext("%(num)d team membership", "%(num)d team memberships", n),
    "LoyaltyProgram": lambda n: ngettext("%(num)d loyalty program", "%(num)d loyalty programs",
                                         n),
    "Customer": lambda n: ngettext("%(num)d customer", "%(num)d customers", n),
    "LoyaltyCard": lambda n: ngettext("%(num)d card", "%(num)d cards", n),
}
#: A live row that took a restored row's unique value: what the message names.
CLASHES = {
    "uq_users_email_live": _l("another account uses the email address %(value)s"),
    "uq_stores_merchant_code_live": _l("another store of this merchant uses the code %(value)s"),
    "uq_merchants_slug_live": _l("another merchant uses the address /m/%(value)s"),
    "uq_customers_merchant_email_live": _l("another customer of this merchant uses the email "
                                           "address %(value)s"),
    "uq_loyalty_programs_merchant_live": _l("the merchant has set up a new loyalty program"),
    "uq_loyalty_cards_merchant_customer_live": _l("the customer has a new card"),
}


@dataclass(frozen=True)
class Kind:
    model: type
    search: tuple  # columns searched (case-insensitively)
    order: tuple


KINDS = {
    "merchants": Kind(Merchant, (Merchant.name, Merchant.slug), (Merchant.name, Merchant.id)),
    "stores": Kind(Store, (Store.name, Store.code, Merchant.name), (Merchant.name, Store.name,
                                                                   Store.id)),
    "users": Kind(User, (User.name, User.email), (User.name, User.id)),
}


@dataclass(frozen=True)
class Page:
    rows: list
    page: int
    has_next: bool


def listing(kind, *, text="", deleted="live", page=1):
    """One page of ``kind`` ("merchants", "stores", "users"): live rows, all, or only the
    deleted ones; ``text`` searched in names, codes and emails. One statement."""
    spec = KINDS[kind]
    model = spec.model
    query = select(model)
    if model is Store:
        query = select(Store, Merchant.name.label("merchant_name")).join(
            Merchant, Merchant.id == Store.merchant_id)
    if deleted == "live":
        query = query.where(model.deleted_at.is_(None))
    elif deleted == "deleted":
        query = query.where(model.deleted_at.is_not(None))
    text = (text or "").replace("\x00", "").strip()[:100]
    if text:
        query = query.where(or_(*(column.icontains(text, autoescape=True)
                                  for column in spec.search)))
    page = page if 0 < page <= MAX_PAGE else 1
    rows = db.session.execute(
        query.order_by(*spec.order).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
        .execution_options(include_deleted=True)).all()
    return Page(rows=rows[:PAGE_SIZE], page=page, has_next=len(rows) > PAGE_SIZE)


def record(kind, record_id):
    """A row of ``kind``, deleted or not, or NotFound."""
    found = db.session.scalar(
        select(KINDS[kind].model).where(KINDS[kind].model.id == record_id)
        .execution_options(include_deleted=True, populate_existing=True))
    if found is None:
        raise NotFound(_l("This record does not exist."))
    return found


def deletion_preview(target):
    """What deleting ``target`` would mark, as sentences ("2 stores"), in cascade order."""
    counts = cascade_counts(target)
    return [ROW_NAMES[name](counts[name]) for name in ROW_NAMES if counts.get(name)]


def _batch_counts(batch):
    """{row class name: rows} a deletion batch marked (one statement)."""
    row = db.session.execute(select(*(
        select(func.count()).select_from(cls).where(cls.deleted_batch == batch)
        .scalar_subquery().label(cls.__name__) for cls in soft_deletable_classes()))
        .execution_options(include_deleted=True)).one()
    return {name: count for name, count in row._asdict().items() if count}


def delete(target, *, actor):
    """Soft-delete ``target`` and its cascade, audited with what the deletion marked; its
    people are signed out. An admin does not delete themselves or the last platform admin."""
    kind = _kind_of(target)
    if isinstance(target, User):
        if target.id == actor.user_id:
            raise Conflict(_l("You cannot delete your own account."))
    label, merchant_id = _label(target), _merchant_id(target)

    def audited(batch):
        if isinstance(target, User):
            accounts.keep_an_admin()
        audit.record(actor, f"{kind[:-1]}.delete", target, merchant_id=merchant_id, label=label,
                     changes={name: [None, count]
                              for name, count in _batch_counts(batch).items()})

    accounts.delete_record(
        target, by=db.session.get(User, actor.user_id) if actor.user_id else None, then=audited)


def restore(target, *, actor):
    """Bring back ``target`` and exactly what its deletion carried along, or say which live
    row now holds one of their unique values, or that its merchant is deleted."""
    if target.deleted_at is None:
        raise Conflict(_l("This record is not deleted."))
    if isinstance(target, Store) and db.session.get(Merchant, target.merchant_id) is None:
        raise Conflict(_l("Its merchant is deleted: restore the merchant first."))
    clash = find_clash(target.deleted_batch)
    if clash is not None:
        raise Conflict(_l("Cannot restore: %(clash)s. Change or delete that record first, "
                          "then restore again.", clash=clash))
    kind, label, merchant_id = _kind_of(target), _label(target), _merchant_id(target)
    deleted_at = target.deleted_at
    accounts.restore_record(target, then=lambda: audit.record(
        actor, f"{kind[:-1]}.restore", target, merchant_id=merchant_id, label=label,
        changes={"deleted_at": [deleted_at, None]}))


def find_clash(batch):
    """The first unique value a row of ``batch`` shares with a live row, as a sentence."""
    for cls in soft_deletable_classes():
        for index in cls.__table__.indexes:
            if not index.unique or index.name not in CLASHES:
                continue
            columns = [column.name for column in index.columns]
            live = aliased(cls)
            same = and_(*(getattr(live, name) == getattr(cls, name) for name in columns))
            value = db.session.scalar(  # (NULL never equals: a row without email is free)
                select(getattr(cls, columns[-1])).where(
                    cls.deleted_batch == batch,
                    exists().where(same, live.deleted_at.is_(None), live.id != cls.id))
                .limit(1).execution_options(include_deleted=True))
            if value is not None:
                return CLASHES[index.name] % {"value": value}
    return None


def _kind_of(target):
    return {Merchant: "merchants", Store: "stores", User: "users"}[type(target)]


def _merchant_id(target):
    return target.id if isinstance(target, Merchant) else getattr(target, "merchant_id", None)


def _label(target):
    if isinstance(target, User):
        return f"{target.name} <{target.email}>"
    return target.name


def member_counts(user_ids):
    """{user id: live memberships} for a page of users (one grouped query)."""
    return dict(db.session.execute(
        select(Membership.user_id, func.count()).where(Membership.user_id.in_(user_ids))
        .group_by(Membership.user_id)).all())
