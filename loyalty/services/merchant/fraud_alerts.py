"""The fraud alerts an owner (and a manager, for their stores) reads and reviews.

The rules that raise them live beside this module (``fraud_rules``: the registry; the checks
run after each counter action). Here: a page of alerts (one statement for the page, then one
each for the names of the stores, staff PINs, accounts and API keys on it: never a query per
row), one alert with its cards and ledger rows, and the review: a note, who and when, kept
once and audited.
"""
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import (
    ApiKey,
    FraudAlert,
    LoyaltyCard,
    LoyaltyTransaction,
    StaffPin,
    Store,
    User,
)
from loyalty.services import audit
from loyalty.services.errors import Conflict, InvalidInput, NotFound
from loyalty.services.merchant import fraud_rules

PAGE_SIZE = 50
STATUSES = ("open", "reviewed", "all")
NOTE_MAX = 1000
#: Cards and ledger rows shown on one alert, at most (an alert names a handful).
DETAIL_MAX = 200


@dataclass(frozen=True)
class AlertFilters:
    status: str = "open"  # open | reviewed | all
    rule: str = ""  # a key of ``fraud_rules.RULES``, or every rule
    store_id: int | None = None
    before_id: int | None = None  # keyset: the page after


@dataclass
class Names:
    """Who and where, by id, for the alerts on a page."""

    stores: dict = field(default_factory=dict)
    pins: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    api_keys: dict = field(default_factory=dict)

    def store(self, alert):
        return self.stores.get(alert.store_id)

    def person(self, alert):
        """``("pin"|"account"|"api_key", name)`` of who acted, or None."""
        if alert.staff_pin_id in self.pins:
            return "pin", self.pins[alert.staff_pin_id]
        if alert.user_id in self.users:
            return "account", self.users[alert.user_id]
        if alert.api_key_id in self.api_keys:
            return "api_key", self.api_keys[alert.api_key_id]
        return None


@dataclass
class AlertPage:
    alerts: list
    names: Names
    next_before: int | None


def rule_label(rule):
    """The rule's name as owners read it (its key when the registry no longer knows it)."""
    entry = fraud_rules.RULES.get(rule)
    return entry.label if entry is not None else rule


def rule_description(rule):
    entry = fraud_rules.RULES.get(rule)
    return entry.description if entry is not None else ""


def rule_unit(rule):
    """What the rule's numbers count ("actions per hour"), or nothing."""
    entry = fraud_rules.RULES.get(rule)
    return entry.unit if entry is not None else ""


def rule_choices():
    return [(key, entry.label) for key, entry in fraud_rules.RULES.items()]


def _scope(query, merchant_id, store_ids):
    query = query.where(FraudAlert.merchant_id == merchant_id)
    if store_ids is not None:
        query = query.where(FraudAlert.store_id.in_(store_ids))
    return query


def names_of(alerts):
    """The names behind the ids of ``alerts``: one statement per kind of record present."""
    def ids(*attributes):
        return {value for alert in alerts for name in attributes
                if (value := getattr(alert, name)) is not None}

    def read(columns, wanted):
        if not wanted:
            return {}
        key, name = columns
        return dict(db.session.execute(select(key, name).where(key.in_(wanted))
                                       .execution_options(include_deleted=True)).all())

    return Names(stores=read((Store.id, Store.name), ids("store_id")),
                 pins=read((StaffPin.id, StaffPin.staff_name), ids("staff_pin_id")),
                 users=read((User.id, User.name), ids("user_id", "reviewed_by_id")),
                 api_keys=read((ApiKey.id, ApiKey.name), ids("api_key_id")))


def list_alerts(merchant_id, filters, *, store_ids=None, limit=PAGE_SIZE):
    """A page of the merchant's alerts, newest first (a manager's: ``store_ids``' only)."""
    query = _scope(select(FraudAlert), merchant_id, store_ids)
    if filters.status == "open":
        query = query.where(FraudAlert.reviewed_at.is_(None))
    elif filters.status == "reviewed":
        query = query.where(FraudAlert.reviewed_at.is_not(None))
    if filters.rule:
        query = query.where(FraudAlert.rule == filters.rule)
    if filters.store_id:
        query = query.where(FraudAlert.store_id == filters.store_id)
    if filters.before_id:
        query = query.where(FraudAlert.id < filters.before_id)
    alerts = db.session.scalars(query.order_by(FraudAlert.id.desc()).limit(limit + 1)).all()
    more = len(alerts) > limit
    alerts = alerts[:limit]
    return AlertPage(alerts, names_of(alerts), alerts[-1].id if more else None)


def open_count(merchant_id, *, store_ids=None):
    """How many alerts wait for a review (one count over the merchant's index)."""
    return db.session.scalar(_scope(select(func.count(FraudAlert.id)), merchant_id, store_ids)
                             .where(FraudAlert.reviewed_at.is_(None)))


def get_alert(merchant_id, alert_id, *, store_ids=None):
    """The merchant's alert (a manager's: at one of ``store_ids``), else ``NotFound``."""
    alert = db.session.scalar(_scope(select(FraudAlert), merchant_id, store_ids)
                              .where(FraudAlert.id == alert_id))
    if alert is None:
        raise NotFound(_l("This record does not exist."))
    return alert


@dataclass
class AlertDetail:
    alert: FraudAlert
    names: Names
    cards: list
    transactions: list

    def card_of(self, row):
        """The card of a ledger row, among the alert's cards (None for another one's)."""
        return next((card for card in self.cards if card.id == row.card_id), None)


def _int_ids(values):
    return [value for value in (values or []) if isinstance(value, int)][:DETAIL_MAX]


def alert_detail(alert):
    """The alert with its names, its cards (customers along) and its ledger rows, each read
    within the alert's merchant."""
    cards = db.session.scalars(
        select(LoyaltyCard).options(joinedload(LoyaltyCard.customer))
        .where(LoyaltyCard.merchant_id == alert.merchant_id,
               LoyaltyCard.id.in_(_int_ids(alert.card_ids)))
        .order_by(LoyaltyCard.id).execution_options(include_deleted=True)).all()
    transactions = db.session.scalars(
        select(LoyaltyTransaction)
        .options(joinedload(LoyaltyTransaction.store), joinedload(LoyaltyTransaction.staff_pin),
                 joinedload(LoyaltyTransaction.api_key))
        .where(LoyaltyTransaction.merchant_id == alert.merchant_id,
               LoyaltyTransaction.id.in_(_int_ids(alert.transaction_ids)))
        .order_by(LoyaltyTransaction.id).execution_options(include_deleted=True)).all()
    return AlertDetail(alert, names_of([alert]), cards, transactions)


def clean_note(note):
    """The review's note, trimmed; refused when empty, too long or holding a NUL."""
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_l("Write what you found or did: the note is kept with the review."),
                           field="note")
    if "\x00" in note:
        raise InvalidInput(_l("The note holds a character that cannot be kept."), field="note")
    if len(note) > NOTE_MAX:
        raise InvalidInput(_l("Keep the note under %(max)s characters.", max=NOTE_MAX),
                           field="note")
    return note


def review(alert, note, actor):
    """Mark ``alert`` reviewed by ``actor`` with ``note``, audited; an alert is reviewed once
    (a second review is refused and changes nothing)."""
    note = clean_note(note)
    with write_transaction():
        locked = db.session.scalar(select(FraudAlert).where(FraudAlert.id == alert.id)
                                   .with_for_update().execution_options(populate_existing=True))
        actor.require_store(locked.merchant_id, locked.store_id)
        if locked.reviewed_at is not None:
            raise Conflict(_l("This alert was already reviewed."), field="note")
        locked.reviewed_at = clock.now()
        locked.reviewed_by_id = actor.user_id
        locked.review_note = note
        audit.record(actor, "alert.review", locked, merchant_id=locked.merchant_id,
                     label=str(rule_label(locked.rule))[:200],
                     changes={"reviewed_at": (None, locked.reviewed_at.isoformat()),
                              "review_note": (None, note)})
    return locked
