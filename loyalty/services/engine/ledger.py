"""Writing the ledger and checking it: balances and counters always equal the ledger's sums.

Every balance change goes through ``append`` on a card the caller has locked (``lock_card``
inside ``write_transaction``), so the card row and its ledger row are written together.
"""
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, case, func, insert, inspect, or_, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from loyalty import clock, metrics
from loyalty.extensions import db
from loyalty.models import (
    LIFETIME_COUNTERS,
    MAX_ID,
    REWARD_REDEMPTION_TYPES,
    REWARD_UNDO_TYPES,
    LoyaltyCard,
    LoyaltyTransaction,
    TransactionType,
)
from loyalty.services import events
from loyalty.services.engine import point_lots
from loyalty.services.errors import NO_CARD, CardNotFound, Conflict


@dataclass(frozen=True)
class ActionContext:
    """Who acts, where, and from which device; recorded on every ledger row.

    Ids, not ORM objects: a context may be built in one session and used in another.
    """

    store_id: int | None = None
    user_id: int | None = None
    pin: str | None = None
    staff_pin_id: int | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    #: An API call: the key acting (no staff PIN applies; the key is the credential).
    api_key_id: int | None = None
    #: An action a tablet kept without connection and sent later: when it happened at the
    #: counter (its rules are judged then; the row is marked offline).
    counter_at: datetime | None = None


@dataclass
class ActionResult:
    """What an action did. ``replayed`` means a retry returned the first answer unchanged."""

    transaction: LoyaltyTransaction
    card: LoyaltyCard
    replayed: bool = False
    extra: dict = field(default_factory=dict)


@cache
def _lock_statement():
    return (
        select(LoyaltyCard)
        .where(LoyaltyCard.id == bindparam("card_id"),
               LoyaltyCard.merchant_id == bindparam("merchant_id"))
        .options(joinedload(LoyaltyCard.customer))  # kept for the page after; may be deleted
        .with_for_update(of=LoyaltyCard)
        .execution_options(populate_existing=True)
    )


@cache
def _lock_by_statement(column):
    return (
        select(LoyaltyCard)
        .where(getattr(LoyaltyCard, column) == bindparam("value"),
               LoyaltyCard.merchant_id == bindparam("merchant_id"))
        .options(joinedload(LoyaltyCard.customer))
        .with_for_update(of=LoyaltyCard)
        .execution_options(populate_existing=True)
    )


def lock_card(card_id, merchant_id, *, number=None, token=None):
    """Read the merchant's live card holding its row lock (``FOR UPDATE``; SQLite holds the
    write lock), or raise CardNotFound. Without ``card_id``, by its (normalised) ``number``
    or its QR ``token``: a till or a tablet back online names a card so, and the lock is then
    its first read."""
    if card_id is None and (number or token):
        column, value = ("card_number", number) if number else ("qr_token", token)
        card = db.session.scalars(_lock_by_statement(column),
                                  {"value": value, "merchant_id": merchant_id}).one_or_none()
    else:
        card = card_id is not None and 0 < card_id <= MAX_ID and db.session.scalars(
            _lock_statement(), {"card_id": card_id, "merchant_id": merchant_id}).one_or_none()
    if not card:
        raise CardNotFound(NO_CARD)
    return card


@cache
def _replay_statement():
    return select(LoyaltyTransaction).where(
        LoyaltyTransaction.merchant_id == bindparam("merchant_id"),
        LoyaltyTransaction.idempotency_key == bindparam("key"),
    )


def find_replay(merchant_id, idempotency_key, card_id=None):
    """The transaction an earlier request with this key wrote, if any.

    With ``card_id``, a key already used on another card is refused rather than replayed.
    """
    if not idempotency_key:
        return None
    previous = db.session.scalar(_replay_statement(),
                                 {"merchant_id": merchant_id, "key": idempotency_key})
    if previous is not None and card_id is not None and previous.card_id != card_id:
        raise Conflict(_l("This form was already used for another card. Open the card again."))
    return previous


def touch(card, context, at, *attributes):
    """Set the card's "last ..." moments (``last_stamp_at`` ...) to ``at``; an action a tablet
    kept offline and sends later only moves them on (something newer may be there already)."""
    for name in attributes:
        current = getattr(card, name)
        if context.counter_at is None or current is None or at > current:
            setattr(card, name, at)


def append(card, transaction_type, context=None, *, stamps=0, points=0, staff_pin=None,
           idempotency_key=None, **details):
    """Apply ``stamps``/``points`` to the locked ``card`` and write the matching ledger row."""
    context = context or ActionContext()
    transaction_type = TransactionType(transaction_type)
    now = clock.now()
    card.stamp_count += stamps
    card.points_balance += points
    if events.has_pass(card):
        card.pass_updated_at = now  # what its wallet passes show changed
    if card.stamp_count < 0 or card.points_balance < 0:
        raise AssertionError(f"{transaction_type} would make card {card.id} negative")
    for attribute, (types, delta_name, sign) in LIFETIME_COUNTERS.items():
        if transaction_type in types:
            delta = stamps if delta_name == "stamps_delta" else points
            setattr(card, attribute, getattr(card, attribute) + sign * delta)
    if transaction_type in REWARD_REDEMPTION_TYPES:
        card.rewards_redeemed_total += 1
    elif transaction_type in REWARD_UNDO_TYPES:
        card.rewards_redeemed_total -= 1
    values = dict(
        merchant_id=card.merchant_id,
        card_id=card.id,
        transaction_type=transaction_type,
        stamps_delta=stamps,
        points_delta=points,
        stamps_balance_after=card.stamp_count,
        points_balance_after=card.points_balance,
        store_id=context.store_id,
        user_id=context.user_id,
        api_key_id=context.api_key_id,
        staff_pin_id=staff_pin.id if staff_pin is not None else None,
        ip_address=context.ip_address,
        user_agent=(context.user_agent or "")[:255] or None,
        idempotency_key=idempotency_key,
        transaction_at=now,
        created_at=now,
        offline=context.counter_at is not None,
        counter_at=context.counter_at,
        **{"void_shortfall": 0, **details},
    )
    columns, params = tuple(sorted(values)), {f"row_{key}": value for key, value in values.items()}
    statement = _ledger_insert(columns)
    changed = _card_changes(card)
    if changed:
        card_columns = tuple(sorted(changed))
        saved = {f"saved_{key}": value for key, value in changed.items()}
        saved["saved_card_id"] = card.id
        if _writes_in_ctes():  # one round trip: the card's UPDATE rides the ledger INSERT
            statement, params = _ledger_insert_saving_card(columns, card_columns), params | saved
        else:
            _run(_card_update(card_columns), saved)
    new_id = _run(statement, params).scalar_one()
    for key, value in changed.items():
        set_committed_value(card, key, value)
    if points:
        point_lots.follow(card, transaction_type, points, new_id, values)  # expiry by month
    metrics.count_ledger_rows(db.session, transaction_type)  # counted once it commits
    # What was written, as an object outside the session (a rollback leaves nothing behind;
    # a query of the row loads its own): the answer is built from it.
    events.card_changed(card)  # a card with a wallet pass: its passes follow
    events.transaction_recorded(card, {**values, "id": new_id})  # webhooks, if any
    row = LoyaltyTransaction(id=new_id, **values)
    set_committed_value(row, "card", card)
    set_committed_value(row, "staff_pin", staff_pin)
    return row


def _card_changes(card):
    """What changed on the card, to write in one UPDATE (the unit of work costs a counter
    action more than the statement itself); a card not yet inserted is flushed first."""
    state = inspect(card)
    columns = state.mapper.column_attrs
    if state.pending or state.transient or any(key not in columns for key in state.committed_state):
        db.session.flush()  # new, or a relationship changed: the unit of work does it all
    return {key: getattr(card, key) for key in state.committed_state}


# The statements below are built once per set of columns and bound by name on each call: an
# action then neither builds nor keys a statement (that cost more than running it). No bound
# name is a column's (``row_``, ``saved_``): SQLAlchemy would add a column named by a bound
# value to the SET of the card's UPDATE too.

@cache
def _ledger_insert(columns):
    """INSERT of a ledger row with ``columns`` (bound as ``row_<column>``), returning its id."""
    table = LoyaltyTransaction.__table__
    return (insert(table).values({name: bindparam(f"row_{name}") for name in columns})
            .returning(table.c.id))


@cache
def _card_update(columns):
    """UPDATE of the card ``saved_card_id``'s ``columns`` (bound as ``saved_<column>``)."""
    table = LoyaltyCard.__table__
    return (update(table).where(table.c.id == bindparam("saved_card_id"))
            .values({name: bindparam(f"saved_{name}") for name in columns}))


@cache
def _ledger_insert_saving_card(columns, card_columns):
    """PostgreSQL: the ledger INSERT with the card's UPDATE as a data-modifying CTE."""
    return _ledger_insert(columns).add_cte(_card_update(card_columns).cte("card_saved"))


def _writes_in_ctes():
    """PostgreSQL runs a card's UPDATE as a data-modifying CTE of its ledger INSERT; SQLite
    has no such CTE: two statements there."""
    return db.session.get_bind().dialect.name == "postgresql"


def _run(statement, params):
    with db.session.no_autoflush:  # or the unit of work would write the card first
        return db.session.execute(statement, params)


def claimed_by_voids(voids):
    """SQL: what the void rows ``voids`` (the ledger entity or an alias) claimed of their
    originals: taken back (or, undoing a reward, given back) plus recorded shortfall; 0 when
    there are none."""
    return func.coalesce(
        func.sum(func.abs(voids.stamps_delta + voids.points_delta) + voids.void_shortfall), 0)


def already_voided(original_id):
    """What voids of ``original_id`` have claimed so far."""
    T = LoyaltyTransaction
    return db.session.scalar(select(claimed_by_voids(T)).where(T.related_transaction_id == original_id))


def _counter_sum(types, delta_column, sign):
    T = LoyaltyTransaction
    return func.coalesce(
        func.sum(case((T.transaction_type.in_(types), sign * delta_column), else_=0)), 0
    )


def ledger_drift():
    """Cards (deleted ones too) whose balances or counters differ from the ledger.

    One grouped query over the whole database. Returns a list of dicts: card id, number,
    and for each mismatching field the card's value and the ledger's.
    """
    C, T = LoyaltyCard, LoyaltyTransaction
    expected = {
        "stamp_count": func.coalesce(func.sum(T.stamps_delta), 0),
        "points_balance": func.coalesce(func.sum(T.points_delta), 0),
        "rewards_redeemed_total": func.coalesce(
            func.sum(case((T.transaction_type.in_(REWARD_REDEMPTION_TYPES), 1),
                          (T.transaction_type.in_(REWARD_UNDO_TYPES), -1), else_=0)), 0
        ),
    }
    for attribute, (types, delta_name, sign) in LIFETIME_COUNTERS.items():
        expected[attribute] = _counter_sum(types, getattr(T, delta_name), sign)
    labelled = [value.label(f"ledger_{name}") for name, value in expected.items()]
    mismatch = or_(
        C.stamp_count < 0,
        C.points_balance < 0,
        *[getattr(C, name) != value for name, value in expected.items()],
    )
    rows = db.session.execute(
        select(C.id, C.card_number, *[getattr(C, name) for name in expected], *labelled)
        .outerjoin(T, and_(T.card_id == C.id))
        .group_by(C.id)
        .having(mismatch)
        .order_by(C.id)
        .execution_options(include_deleted=True)
    ).mappings().all()
    drift = []
    for row in rows:
        fields = {
            name: (row[name], row[f"ledger_{name}"])
            for name in expected
            if row[name] != row[f"ledger_{name}"] or row[name] < 0
        }
        drift.append({"card_id": row["id"], "card_number": row["card_number"], "fields": fields})
    return drift
