"""What each fraud rule counts, over the ledger (``fraud_rules.py`` says what they mean).

``candidates(row, settings, timezone)`` names, for one counter row, each enabled rule's window
that row falls in (its ``dedupe_key``); the job evaluates only those without an alert yet.
``evaluate()`` runs the rule's one grouped query (indexed: the ledger's (staff PIN, time),
(card, time) and (merchant, time) indexes) and gives the alert's values when the threshold is
reached, else None. Hours are clock hours (UTC); days are the merchant's local days; an action
a tablet kept offline counts when it happened at the counter (``counter_at``), not when it came.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Interval, case, func, literal, select
from sqlalchemy.orm import aliased

from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction, OutboxMessage, TransactionType
from loyalty.services.merchant.fraud_rules import (
    NIGHT_ENDS_AT,
    PIN_BURST_MINUTES,
    QUICK_REWARD_MINUTES,
    VOID_SHARE_DAYS,
    VOID_SHARE_MIN_ACTIONS,
)

T = TransactionType
EARNS = (T.STAMP_EARNED, T.POINTS_EARNED)
#: What ``staff_hour`` and ``tablet_hour`` count per earning row: the stamps it gave (ten at
#: once are ten), or one purchase credited with points.
GIVEN = case((LoyaltyTransaction.transaction_type == T.STAMP_EARNED,
              LoyaltyTransaction.stamps_delta), else_=1)
REDEMPTIONS = (T.STAMP_REDEEMED, T.POINTS_REDEEMED)
VOIDS = (T.STAMP_VOIDED, T.POINTS_VOIDED, T.STAMP_REWARD_VOIDED, T.POINTS_REWARD_VOIDED)
ADJUSTMENTS = (T.STAMP_ADJUSTED, T.POINTS_ADJUSTED)
#: Rows a person records at a counter (or an owner on a card's page): what is checked.
COUNTER = (*EARNS, *REDEMPTIONS, *VOIDS, *ADJUSTMENTS)
#: Rows someone recorded at a counter or on a card's page (an account or a staff PIN): not an
#: API key's, nor those a customer's erasure of their data writes (no one's).
BY_SOMEONE = (LoyaltyTransaction.api_key_id.is_(None),
              (LoyaltyTransaction.user_id.is_not(None)
               | LoyaltyTransaction.staff_pin_id.is_not(None)))
#: Ids of cards and ledger rows kept on an alert (the first ones).
LISTED = 100


@dataclass
class Candidate:
    rule: str
    dedupe_key: str
    evaluate: Callable


def _hour(at):
    start = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return start, start + timedelta(hours=1)


def _day(at, timezone):
    zone = ZoneInfo(timezone)
    day = at.astimezone(zone).date()
    start = datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)
    return day, start, datetime.combine(day + timedelta(days=1), datetime.min.time(),
                                        zone).astimezone(UTC)


def _happened(row):
    """When the row's action happened: at the counter for one a tablet kept offline."""
    return row.counter_at or row.transaction_at


def _within(start, end):
    """Rows that happened in [start, end): by ``counter_at`` for those kept offline (sent
    later, so they arrived after ``start`` too: the time index bounds the scan)."""
    L = LoyaltyTransaction
    happened = func.coalesce(L.counter_at, L.transaction_at)
    return (L.transaction_at >= start, happened >= start, happened < end)


def _who(row):
    return {"store_id": row.store_id, "staff_pin_id": row.staff_pin_id, "user_id": row.user_id,
            "api_key_id": row.api_key_id}


def _listed(where, threshold, start, end, row, weight=None, **who):
    """Alert values from the rows ``where`` selects: their count (``observed``; the sum of
    ``weight`` over them when given), the first ones' ids and cards; None below
    ``threshold``."""
    L = LoyaltyTransaction
    total = func.count().over() if weight is None else func.sum(weight).over()
    found = db.session.execute(
        select(L.id, L.card_id, total.label("total")).where(*where)
        .order_by(L.id).limit(LISTED)).all()
    observed = found[0].total if found else 0
    if observed < threshold:
        return None
    return dict(observed=observed, threshold=threshold, window_start=start, window_end=end,
                card_ids=sorted({r.card_id for r in found}),
                transaction_ids=[r.id for r in found], **(who or _who(row)))


def _counted(rule, row, settings, subject, column, value, types):
    setting = settings[rule]
    start, end = _hour(_happened(row))
    L = LoyaltyTransaction

    def evaluate():
        return _listed((L.merchant_id == row.merchant_id, column == value,
                        L.transaction_type.in_(types), *_within(start, end)),
                       setting.threshold, start, end, row, weight=GIVEN)
    return Candidate(rule, f"{rule}:{subject}:{value}:{start:%Y-%m-%dT%H}", evaluate)


def _card_day(row, setting, timezone):
    day, start, end = _day(_happened(row), timezone)
    L = LoyaltyTransaction

    def evaluate():
        return _listed((L.card_id == row.card_id, L.merchant_id == row.merchant_id,
                        L.transaction_type.in_(COUNTER), *BY_SOMEONE, *_within(start, end)),
                       setting.threshold, start, end, row)
    return Candidate("card_day", f"card_day:card:{row.card_id}:{day}", evaluate)


def _void_share(row, setting, timezone):
    day = row.transaction_at.astimezone(ZoneInfo(timezone)).date()
    end = row.transaction_at + timedelta(microseconds=1)
    start = row.transaction_at - timedelta(days=VOID_SHARE_DAYS)
    L = LoyaltyTransaction
    mine = (L.staff_pin_id == row.staff_pin_id, L.merchant_id == row.merchant_id,
            L.transaction_at >= start, L.transaction_at < end)

    def evaluate():
        total, voids = db.session.execute(select(
            func.count(), func.coalesce(func.sum(case((L.transaction_type.in_(VOIDS), 1),
                                                      else_=0)), 0))
            .where(*mine, L.transaction_type.in_(COUNTER))).one()
        share = voids * 100 // total if total else 0
        if total < VOID_SHARE_MIN_ACTIONS or share < setting.threshold:
            return None
        values = _listed((*mine, L.transaction_type.in_(VOIDS)), 0, start, end, row)
        return {**values, "observed": share, "threshold": setting.threshold}
    return Candidate("void_share", f"void_share:pin:{row.staff_pin_id}:{day}", evaluate)


def _big_adjustment(rule, row, setting, size):
    def evaluate():
        if size < setting.threshold:
            return None
        return dict(observed=size, threshold=setting.threshold, window_start=row.transaction_at,
                    window_end=row.transaction_at, card_ids=[row.card_id],
                    transaction_ids=[row.id], **_who(row))
    return Candidate(rule, f"{rule}:tx:{row.id}", evaluate)


def at_night(hour, closing):
    """Whether the local ``hour`` is between the closing hour and ``NIGHT_ENDS_AT``."""
    if closing > NIGHT_ENDS_AT:
        return hour >= closing or hour < NIGHT_ENDS_AT
    return closing <= hour < NIGHT_ENDS_AT


def _off_hours(row, setting, timezone):
    zone = ZoneInfo(timezone)
    local = _happened(row).astimezone(zone)
    night = (local - timedelta(hours=NIGHT_ENDS_AT)).date()

    def evaluate():
        if not at_night(local.hour, setting.threshold):
            return None
        return dict(observed=local.hour, threshold=setting.threshold,
                    window_start=_happened(row), window_end=_happened(row),
                    card_ids=[row.card_id],
                    transaction_ids=[row.id], **_who(row))
    return Candidate("off_hours", f"off_hours:store:{row.store_id}:{night}", evaluate)


def _quick_reward(row, setting, timezone):
    day, start, end = _day(_happened(row), timezone)
    L, E = LoyaltyTransaction, aliased(LoyaltyTransaction)
    if row.staff_pin_id is not None:
        subject, column, other, value = "pin", L.staff_pin_id, E.staff_pin_id, row.staff_pin_id
    else:
        subject, column, other, value = "user", L.user_id, E.user_id, row.user_id
    right_after = select(E.id).where(
        E.card_id == L.card_id, other == value, E.transaction_type.in_(EARNS), E.id < L.id,
        E.transaction_at >= L.transaction_at
        - literal(timedelta(minutes=QUICK_REWARD_MINUTES), Interval()))
    if db.session.get_bind().dialect.name == "sqlite":  # no interval arithmetic on SQLite
        right_after = select(E.id).where(
            E.card_id == L.card_id, other == value, E.transaction_type.in_(EARNS),
            E.id < L.id, func.julianday(E.transaction_at) >= func.julianday(L.transaction_at)
            - QUICK_REWARD_MINUTES / 1440)

    def evaluate():
        return _listed((L.merchant_id == row.merchant_id, column == value,
                        L.transaction_type.in_(REDEMPTIONS), *_within(start, end),
                        right_after.exists()),
                       setting.threshold, start, end, row)
    return Candidate("quick_reward", f"quick_reward:{subject}:{value}:{day}", evaluate)


def candidates(row, settings, timezone):
    """The enabled rules' windows ``row`` (a counter ledger row) falls in."""
    kind = row.transaction_type
    found = []
    if kind in EARNS and row.staff_pin_id is not None and "staff_hour" in settings:
        found.append(_counted("staff_hour", row, settings, "pin", LoyaltyTransaction.staff_pin_id,
                              row.staff_pin_id, EARNS))
    if kind in EARNS and row.user_id is not None and "tablet_hour" in settings:
        found.append(_counted("tablet_hour", row, settings, "user", LoyaltyTransaction.user_id,
                              row.user_id, EARNS))
    if "card_day" in settings:
        found.append(_card_day(row, settings["card_day"], timezone))
    if kind in VOIDS and row.staff_pin_id is not None and "void_share" in settings:
        found.append(_void_share(row, settings["void_share"], timezone))
    if kind == T.POINTS_ADJUSTED and "big_adjustment" in settings:
        found.append(_big_adjustment("big_adjustment", row, settings["big_adjustment"],
                                     abs(row.points_delta)))
    if kind == T.STAMP_ADJUSTED and "big_stamp_adjustment" in settings:
        found.append(_big_adjustment("big_stamp_adjustment", row,
                                     settings["big_stamp_adjustment"], abs(row.stamps_delta)))
    if kind not in ADJUSTMENTS and row.store_id is not None and "off_hours" in settings:
        found.append(_off_hours(row, settings["off_hours"], timezone))
    if (kind in REDEMPTIONS and (row.staff_pin_id or row.user_id) is not None
            and "quick_reward" in settings):
        found.append(_quick_reward(row, settings["quick_reward"], timezone))
    return found


def pin_candidates(merchant_id, outbox_id, payload, setting, kind):
    """``pin_burst`` for one wrong PIN: the wrong PINs at its store (``kind`` outbox rows) in
    the ``PIN_BURST_MINUTES`` before it."""
    at = datetime.fromisoformat(payload["at"])
    start, store_id = at - timedelta(minutes=PIN_BURST_MINUTES), payload["store_id"]
    hour, _end = _hour(at)
    M = OutboxMessage

    def evaluate():
        rows = db.session.execute(select(M.id, M.payload).where(
            M.merchant_id == merchant_id, M.kind == kind, M.created_at >= start,
            M.id <= outbox_id).order_by(M.id)).all()
        pins = [r.payload.get("staff_pin_id") for r in rows
                if r.payload.get("store_id") == store_id
                and start <= datetime.fromisoformat(r.payload["at"]) <= at]
        if len(pins) < setting.threshold:
            return None
        return {"observed": len(pins), "threshold": setting.threshold, "window_start": start,
                "window_end": at, "card_ids": [], "transaction_ids": [], "store_id": store_id,
                "staff_pin_id": pins[0] if len(set(pins)) == 1 else None}
    return [Candidate("pin_burst", f"pin_burst:store:{store_id}:{hour:%Y-%m-%dT%H}", evaluate)]
