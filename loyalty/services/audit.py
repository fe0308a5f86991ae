"""The audit trail: every change an owner, manager or admin makes is recorded, in the same
transaction as the change, with the actor, the merchant, the target, the old and new values of
the fields it touched, and the client address. Rows are never changed or deleted.
"""
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from functools import cache

from sqlalchemy import Numeric, and_, bindparam, or_, select, update
from sqlalchemy.orm import selectinload

from flask_babel import lazy_gettext as _l

from loyalty.database import in_write_transaction, read_in_pages
from loyalty.extensions import db
from loyalty.models import AuditEntry, Merchant, User
from loyalty.services.errors import NotFound

PAGE_SIZE = 50
#: Text that is a plain number ("12", "-0.5", "1.0000"), as decimals are recorded.
NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?\Z")


@dataclass(frozen=True)
class Actor:
    """Who makes a change, for which merchant and stores, and from where; built by the
    blueprint from the request. ``store_ids`` None means every store of the merchant (an
    owner); a manager's are listed."""

    user_id: int | None
    ip_address: str | None = None
    merchant_id: int | None = None
    store_ids: frozenset[int] | None = None

    def require_store(self, merchant_id, store_id):
        """Refuse, as "not found", a record of another merchant or of a store not managed."""
        if self.merchant_id is not None and merchant_id != self.merchant_id:
            raise NotFound(_l("This record does not exist."))
        if self.store_ids is not None and store_id not in self.store_ids:
            raise NotFound(_l("This record does not exist."))


def _plain(value):
    """A JSON-safe form of a column value (a decimal without the column's trailing zeros:
    1, not 1.0000)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _as_value(value, number):
    value = value.value if isinstance(value, Enum) else value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        return Decimal(text) if number and NUMBER.match(text) else value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    return value


def same_value(old, new, *, number=False):
    """Whether ``old`` and ``new`` are one value written two ways: a number and another
    number of the same amount (Decimal('1.0000') and 1), an enum and its value, nothing and
    blank text; with ``number``, text spelling the same amount too ("1.0000" and "1", as the
    trail records decimals). A flag is only ever the same flag."""
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    return _as_value(old, number) == _as_value(new, number)


@cache
def _number_columns():
    """{model name: names of its decimal columns} (recorded as text in the trail)."""
    found = {}
    for mapper in db.Model.registry.mappers:
        names = {column.key for column in mapper.columns if isinstance(column.type, Numeric)}
        if names:
            found[mapper.class_.__name__] = frozenset(names)
    return found


def real_changes(entry):
    """The entry's ``{field: [old, new]}`` without the pairs that hold one value twice
    (entries written before values were compared as values hold some, such as a decimal
    recorded as "1.0000" -> "1")."""
    numbers = _number_columns().get(entry.target_type, frozenset())
    return {name: pair for name, pair in (entry.changes or {}).items()
            if not same_value(*pair, number=name in numbers)}


def changes_between(record, new_values):
    """{field: [old, new]} for the fields of ``new_values`` whose value ``record`` does not
    already have (compared as values: see ``same_value``)."""
    changed = {}
    for name, new in new_values.items():
        old = getattr(record, name)
        if not same_value(old, new):
            changed[name] = [_plain(old), _plain(new)]
    return changed


def apply_changes(actor, action, target, values, *, label=None, merchant_id=None):
    """Set ``values`` on ``target`` and, if anything changed, append one entry with the old
    and new values (labelled ``label``, else the target's name after the change). Runs inside
    the change's write transaction; returns the changes."""
    changes = changes_between(target, values)
    for name, value in values.items():
        setattr(target, name, value)
    if changes:
        owner = merchant_id if merchant_id is not None else target.merchant_id
        record(actor, action, target, merchant_id=owner,
               label=label or getattr(target, "name", None), changes=changes)
    return changes


def record(actor, action, target, *, merchant_id, changes=None, label=None, target_type=None):
    """Append one entry. Must run inside the change's ``write_transaction()``: the entry
    commits or rolls back with the change it describes."""
    assert in_write_transaction(), "audit entries are written in the change's transaction"
    if actor is None:
        return None
    entry = AuditEntry(
        merchant_id=merchant_id,
        actor_id=actor.user_id,
        action=action,
        target_type=target_type or type(target).__name__,
        target_id=getattr(target, "id", None),
        target_label=(label or "")[:200] or None,
        changes={name: [_plain(old), _plain(new)] for name, (old, new) in (changes or {}).items()},
        ip_address=(actor.ip_address or "")[:45] or None,
    )
    db.session.add(entry)
    return entry


def _worded(pair):
    """Whether a pair of old and new values holds words (text, or text inside a structure),
    not only numbers, flags and blanks."""
    return any(not (value is None or isinstance(value, bool | int | float)) for value in pair)


def blank_words_about(targets, *, keep_label=None):
    """For an erasure: the entries about ``targets`` ((type name, id) pairs) keep who did what
    and when, their numbers and flags, but every pair of values holding words becomes
    [None, None] and a label other than ``keep_label`` goes. This is the one change the trail
    accepts (its triggers refuse any other). In the caller's write transaction; one statement
    reads the entries, one writes them."""
    assert in_write_transaction(), "an erasure blanks the trail in its own transaction"
    A = AuditEntry
    about = or_(*(and_(A.target_type == kind, A.target_id == target_id)
                  for kind, target_id in targets))
    blanked = []
    for entry_id, label, changes in db.session.execute(
            select(A.id, A.target_label, A.changes).where(about)):
        new_label = label if label == keep_label else None
        new_changes = {name: [None, None] if _worded(pair) else pair
                       for name, pair in (changes or {}).items()}
        if (new_label, new_changes) != (label, changes):
            blanked.append({"entry_id": entry_id, "new_label": new_label,
                            "new_changes": new_changes})
    if blanked:
        table = A.__table__
        db.session.execute(
            update(table).where(table.c.id == bindparam("entry_id"))
            .values(target_label=bindparam("new_label"),
                    changes=bindparam("new_changes", type_=table.c.changes.type)),
            blanked)
    return len(blanked)


def trail(merchant_id, *, action=None, actor_id=None, before_id=None, limit=PAGE_SIZE):
    """A merchant's entries, newest first, filtered by action (a prefix such as "store") and
    person; ``before_id`` pages on (keyset). Returns (entries, next_before_id)."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.merchant_id == merchant_id)
        .order_by(AuditEntry.id.desc())
        .limit(limit + 1)
    )
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if actor_id:
        query = query.where(AuditEntry.actor_id == actor_id)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    entries = db.session.scalars(query.options(selectinload(AuditEntry.actor))
                                 .execution_options(include_deleted=True)).all()  # ex-staff too
    more = len(entries) > limit
    entries = entries[:limit]
    return entries, (entries[-1].id if more else None)


def actors(merchant_id):
    """The people who appear in a merchant's trail, for the filter."""
    return db.session.execute(
        select(User.id, User.name)
        .where(User.id.in_(select(AuditEntry.actor_id).where(AuditEntry.merchant_id == merchant_id)))
        .order_by(User.name)
        .execution_options(include_deleted=True)
    ).all()


@dataclass(frozen=True)
class LogFilters:
    """The back office's audit log search: each filter optional."""

    actor: str = ""  # a name or email, in part
    merchant: str = ""  # a merchant's name, in part
    action: str = ""  # a prefix: "store", "store.update"
    first_day: date | None = None  # UTC days
    last_day: date | None = None


def _log_query(filters):
    A = AuditEntry
    query = (select(A, User.name.label("actor_name"), User.email.label("actor_email"),
                    Merchant.name.label("merchant_name"))
             .outerjoin(User, User.id == A.actor_id).outerjoin(Merchant, Merchant.id == A.merchant_id))
    if filters.actor:
        query = query.where(or_(User.name.icontains(filters.actor, autoescape=True),
                                User.email.icontains(filters.actor, autoescape=True)))
    if filters.merchant:
        query = query.where(Merchant.name.icontains(filters.merchant, autoescape=True))
    if filters.action:
        query = query.where(A.action.startswith(filters.action, autoescape=True))
    if filters.first_day:
        query = query.where(A.created_at >= datetime.combine(filters.first_day, time(), UTC))
    if filters.last_day:
        query = query.where(A.created_at < datetime.combine(filters.last_day + timedelta(days=1),
                                                            time(), UTC))
    return query.execution_options(include_deleted=True)


def search_log(filters, *, before_id=None, limit=PAGE_SIZE):
    """Every merchant's entries (and the platform's own), newest first, one page (keyset).
    Returns (rows, next_before_id); a row is (entry, actor name, actor email, merchant name)."""
    query = _log_query(filters).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    rows = db.session.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1][0].id if more else None)


#: Entries read at a time by the CSV export.
EXPORT_PAGE = 1000


def log_rows(filters):
    """The same entries, oldest first, for the CSV export: read a page at a time while the
    file streams (``read_in_pages``), so the download works after the view's session is
    closed, on PostgreSQL as on SQLite."""
    return read_in_pages(_log_query(filters), AuditEntry.id, size=EXPORT_PAGE)
