"""The owner's card list and a card's full history: search, filters, sorting, pages.

One statement per page, whatever the number of cards: the search runs in the database (each
table through its own trigram index on PostgreSQL), and a page is ``LIMIT`` + ``OFFSET`` over
an indexed order (``loyalty_cards`` by merchant and last activity or balance, customers by
merchant and name). The page after is known by reading one row more, so no count of the whole
list is needed.
"""
import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select, union
from sqlalchemy.orm import contains_eager, joinedload

from loyalty.contacts import fold
from loyalty.extensions import db
from loyalty.models import (
    Customer,
    LoyaltyCard,
    LoyaltyProgram,
    LoyaltyTransaction,
    Reward,
    Store,
)
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.merchant.texts import RewardNames, reward_names_for_rows
from loyalty.services.platform.accounts import normalize_email, normalize_phone

PAGE_SIZE = 50
HISTORY_PAGE_SIZE = 50
SORTS = ("name", "activity", "points", "stamps")
MAX_PAGE = 10_000
NUMBER_LIKE = re.compile(r"[\d\s\-+()./]+")
#: From this many digits a search is a whole phone number (Luxembourg's mobiles have nine
#: without the country code) or a whole card number (12): matched whole, by index.
WHOLE_NUMBER_DIGITS = 9
CARD_DIGITS = 12


@dataclass(frozen=True)
class CardFilters:
    query: str = ""
    status: str = "all"  # all | active | inactive
    store_id: int | None = None  # enrolled at this store
    reward_ready: bool = False
    sort: str = "activity"
    page: int = 1


@dataclass
class CardPage:
    cards: list
    page: int
    has_next: bool


def _search(text, region=None, merchant_id=None):
    """Conditions for a search box: card number digits (partial, dashes optional), email,
    phone or name (partial, any case)."""
    text = text.strip()[:100]
    digits = re.sub(r"\D", "", text)
    # Each table is searched on its own, so that each condition can use its own index (on
    # PostgreSQL, trigram indexes; see the "card search" migration).
    if NUMBER_LIKE.fullmatch(text) and len(digits) >= 3:  # a card number or a phone number
        phone = normalize_phone(text, region) if len(digits) >= 6 else None
        if len(digits) == CARD_DIGITS or (phone and len(digits) >= WHOLE_NUMBER_DIGITS):
            # A whole card or phone number is found by its own index: part of a number is
            # searched by trigrams, which at scale read every card or phone sharing its
            # digits (every mobile shares "352621": 1.5 s over 2 million customers).
            number = (f"{digits[:4]}-{digits[4:8]}-{digits[8:]}" if len(digits) == CARD_DIGITS
                      else None)
            phones = [Customer.phone == phone] if phone else [Customer.phone == "+" + digits]
            return LoyaltyCard.id.in_(union(
                select(LoyaltyCard.id).where(LoyaltyCard.card_number == number),
                select(LoyaltyCard.id).join(Customer, Customer.id == LoyaltyCard.customer_id)
                .where(Customer.merchant_id == merchant_id, or_(*phones))))
        phones = [func.replace(Customer.phone, "+", "").contains(digits)]
        if phone:  # "00352 621 ..." or "621 ..." typed for "+352621..."
            phones.append(Customer.phone == phone)
        return or_(
            LoyaltyCard.id.in_(select(LoyaltyCard.id).where(
                func.replace(LoyaltyCard.card_number, "-", "").contains(digits))),
            LoyaltyCard.customer_id.in_(select(Customer.id).where(or_(*phones))),
        )
    return LoyaltyCard.customer_id.in_(select(Customer.id).where(or_(
        Customer.search_name.contains(fold(text), autoescape=True),
        Customer.email.contains(normalize_email(text), autoescape=True))))


def _reward_ready(merchant_id):
    """A stamp reward is due, or the balance buys the cheapest active catalogue reward."""
    cheapest = (
        select(func.min(Reward.points_cost))
        .where(Reward.merchant_id == merchant_id, Reward.is_active.is_(True))
        .scalar_subquery()
    )
    stamps_target = (
        select(LoyaltyProgram.stamps_target)
        .where(LoyaltyProgram.id == LoyaltyCard.program_id,
               LoyaltyProgram.program_type.in_(("stamps", "hybrid")))
        .scalar_subquery()
    )
    return or_(LoyaltyCard.stamp_count >= stamps_target, LoyaltyCard.points_balance >= cheapest)


ORDER = {
    "name": (Customer.name, Customer.id),  # one card per customer: the customers index serves
    "activity": (LoyaltyCard.last_activity_at.desc().nulls_last(), LoyaltyCard.id.desc()),
    "points": (LoyaltyCard.points_balance.desc(), LoyaltyCard.id.desc()),
    "stamps": (LoyaltyCard.stamp_count.desc(), LoyaltyCard.id.desc()),
}


def list_cards(merchant_id, filters, *, store_ids=None, region=None):
    """One page of the merchant's cards (a manager's: cards enrolled at their stores)."""
    query = (
        select(LoyaltyCard)
        .join(LoyaltyCard.customer)
        .options(contains_eager(LoyaltyCard.customer))
        .where(LoyaltyCard.merchant_id == merchant_id)
    )
    if store_ids is not None:
        query = query.where(LoyaltyCard.enrolled_at_store_id.in_(store_ids))
    if filters.query.strip():
        query = query.where(_search(filters.query, region, merchant_id))
    if filters.status in ("active", "inactive"):
        query = query.where(LoyaltyCard.is_active.is_(filters.status == "active"))
    if filters.store_id:
        query = query.where(LoyaltyCard.enrolled_at_store_id == filters.store_id)
    if filters.reward_ready:
        query = query.where(_reward_ready(merchant_id))
    page = min(max(filters.page, 1), MAX_PAGE)
    rows = db.session.scalars(
        query.order_by(*ORDER.get(filters.sort, ORDER["activity"]))
        .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    ).all()
    return CardPage(cards=rows[:PAGE_SIZE], page=page, has_next=len(rows) > PAGE_SIZE)


@dataclass
class HistoryPage:
    transactions: list
    next_before: int | None
    #: The rewards the rows gave, named per language (``RewardNames.of_row``).
    reward_names: RewardNames
    #: Only the rows a tablet without connection sent later.
    offline_only: bool = False


def card_history(card, *, before_id=None, offline_only=False):
    """The card's ledger, newest first, with each row's store, staff member (or the API key
    that acted: a till's name) and the row a void
    refers to, and the names of the rewards it gave; ``before_id`` pages on (keyset over the
    primary key); ``offline_only`` keeps the rows a tablet without connection sent later."""
    query = (
        select(LoyaltyTransaction)
        .where(LoyaltyTransaction.card_id == card.id)
        .options(joinedload(LoyaltyTransaction.store), joinedload(LoyaltyTransaction.staff_pin),
                 joinedload(LoyaltyTransaction.api_key))
        .order_by(LoyaltyTransaction.id.desc())
        .limit(HISTORY_PAGE_SIZE + 1)
    )
    if before_id:
        query = query.where(LoyaltyTransaction.id < before_id)
    if offline_only:
        query = query.where(LoyaltyTransaction.offline)
    rows = db.session.scalars(query.execution_options(include_deleted=True)).all()
    more = len(rows) > HISTORY_PAGE_SIZE
    rows = rows[:HISTORY_PAGE_SIZE]
    cached = merchant_rows(card.merchant_id)
    names = reward_names_for_rows(rows, cached.program, known=cached.rewards)
    return HistoryPage(rows, rows[-1].id if more else None, names, offline_only)


def stores_for_filter(merchant_id, store_ids=None):
    query = select(Store.id, Store.name).where(Store.merchant_id == merchant_id).order_by(Store.name)
    if store_ids is not None:
        query = query.where(Store.id.in_(store_ids))
    return db.session.execute(query).all()
