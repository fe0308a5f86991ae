"""Fraud checks: each counter action is looked at right after it, never in its way.

The engine reports every ledger row (``events.transaction_recorded``) and every wrong staff PIN
(``events.pin_refused``) inside the action's transaction. For a counter row (stamps, points,
rewards, voids, adjustments; recorded by a signed-in account or a staff PIN, so not an API
key's nor a customer's erasure of their data) the listener here writes one ``fraud_check``
outbox row per card and transaction with ``outbox.add_later``: a single INSERT, the only
statement the counter pays, and nothing after the commit. The drain (every few seconds) hands
it over; its job runs the merchant's enabled rules (``fraud_rule_checks.py``) over the ledger
and writes the alerts they raise. A wrong PIN writes a ``fraud_pin`` row the same way; those
rows are also what ``pin_burst`` counts.

An alert is inserted only if no alert with its ``dedupe_key`` exists for the merchant (one per
rule, subject and window): the keys of the job's candidates are looked up first, so a window
already alerted costs no count, and the insert itself does nothing on a conflict.
"""
from sqlalchemy import event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from loyalty.extensions import db
from loyalty.models import FraudAlert, LoyaltyTransaction, Merchant
from loyalty.services import events, outbox
from loyalty.services.merchant import fraud_rule_checks as checks
from loyalty.services.merchant.fraud_rules import settings_of

CHECK_KIND = "fraud_check"
PIN_KIND = "fraud_pin"
#: Ledger rows one job looks at (its card's rows from the first of its transaction on).
ROWS_PER_JOB = 20
_SEEN = "loyalty_fraud_cards"


@events.listen("transaction")
def _transaction_recorded(card, values):
    if values.get("api_key_id") is not None or values["transaction_type"] not in checks.COUNTER:
        return
    if values.get("user_id") is None and values.get("staff_pin_id") is None:
        return  # nobody at a counter: the customer's own erasure, a system row
    seen = db.session().info.setdefault(_SEEN, set())
    if card.id in seen:
        return  # one check per card and transaction: it reads the rows from the first on
    seen.add(card.id)
    outbox.add_later(CHECK_KIND, {"card_id": card.id, "from_id": values["id"]},
                     merchant_id=card.merchant_id)


@events.listen("pin_refused")
def _pin_refused(merchant_id, store_id, staff_pin_id, at):
    outbox.add_later(PIN_KIND, {"store_id": store_id, "staff_pin_id": staff_pin_id,
                                "at": at.isoformat()}, merchant_id=merchant_id)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(_SEEN, None)


@outbox.handler(CHECK_KIND)
def check_actions(row):
    payload = dict(row.payload)
    return outbox.Effect(record=lambda _row: run_checks(row.merchant_id, payload["card_id"],
                                                        payload["from_id"]))


@outbox.handler(PIN_KIND)
def check_pin(row):
    payload, merchant_id, outbox_id = dict(row.payload), row.merchant_id, row.id
    return outbox.Effect(record=lambda _row: run_pin_check(merchant_id, outbox_id, payload))


def run_checks(merchant_id, card_id, from_id):
    """The enabled rules over the card's counter rows from ``from_id`` on; returns the alerts
    written."""
    settings = {key: s for key, s in settings_of(merchant_id).items() if s.enabled}
    if not settings:
        return []
    T = LoyaltyTransaction
    rows = db.session.scalars(
        select(T).where(T.card_id == card_id, T.merchant_id == merchant_id, T.id >= from_id,
                        T.transaction_type.in_(checks.COUNTER), *checks.BY_SOMEONE)
        .order_by(T.id).limit(ROWS_PER_JOB)).all()
    if not rows:
        return []
    timezone = db.session.scalar(select(Merchant.timezone).where(Merchant.id == merchant_id))
    candidates = [candidate for row in rows
                  for candidate in checks.candidates(row, settings, timezone)]
    return _raise_new(merchant_id, candidates)


def run_pin_check(merchant_id, outbox_id, payload):
    setting = settings_of(merchant_id)["pin_burst"]
    if not setting.enabled:
        return []
    return _raise_new(merchant_id, checks.pin_candidates(merchant_id, outbox_id, payload,
                                                         setting, PIN_KIND))


def _raise_new(merchant_id, candidates):
    """Evaluate the candidates whose window has no alert yet; insert what they raise."""
    if not candidates:
        return []
    keys = {candidate.dedupe_key for candidate in candidates}
    known = set(db.session.scalars(select(FraudAlert.dedupe_key).where(
        FraudAlert.merchant_id == merchant_id, FraudAlert.dedupe_key.in_(keys))))
    raised = []
    for candidate in candidates:
        if candidate.dedupe_key in known:
            continue
        known.add(candidate.dedupe_key)
        values = candidate.evaluate()
        if values is not None:
            raised.extend(_insert(merchant_id, candidate, values))
    return raised


def _insert(merchant_id, candidate, values):
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(FraudAlert.__table__).values(
        merchant_id=merchant_id, rule=candidate.rule, dedupe_key=candidate.dedupe_key,
        **values).on_conflict_do_nothing(index_elements=["merchant_id", "dedupe_key"])
    return db.session.scalars(statement.returning(FraudAlert.__table__.c.id)).all()
