"""Build merchants, teams and customers through the services, as the product would."""
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count

from sqlalchemy import select

from loyalty import clock
from loyalty.extensions import db
from loyalty.models import Customer, FraudAlert, LoyaltyTransaction, Merchant, Role, Store, User
from loyalty.services.engine import cards
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.merchant import programs
from loyalty.services.platform import accounts

PASSWORD = "correct-horse-battery"  # noqa: S105 - test data
_sequence = count(1)


def user(name="Staff Member", *, email=None, admin=False):
    email = email or f"user{next(_sequence)}@example.com"
    return accounts.register_user(email, PASSWORD, name, is_platform_admin=admin)


def customer(merchant, name="Cora Customer", *, email=None, phone=None):
    if email is None:
        email = f"customer{next(_sequence)}@example.com"
    return accounts.create_customer(merchant, name, email=email, phone=phone)


@dataclass
class MerchantTeam:
    """A merchant with two stores, an owner, a manager and a staff member, and one customer."""

    merchant: Merchant
    stores: list[Store]
    owner: User
    manager: User
    staff: User
    customers: list[Customer] = field(default_factory=list)

    @property
    def id(self):
        return self.merchant.id


def merchant_with_team(name, slug, *, stores=2):
    merchant = accounts.create_merchant(name, slug)
    store_list = [
        accounts.create_store(merchant, f"{name} store {n}", f"S{n}", address=f"{n} Main Street")
        for n in range(1, stores + 1)
    ]
    owner = user(f"{name} owner")
    manager = user(f"{name} manager")
    staff = user(f"{name} staff")
    accounts.add_member(owner, merchant, Role.MERCHANT_OWNER)
    accounts.add_member(manager, merchant, Role.STORE_MANAGER, store=store_list[0])
    accounts.add_member(staff, merchant, Role.STORE_STAFF, store=store_list[0])
    team = MerchantTeam(merchant, store_list, owner, manager, staff)
    team.customers.append(customer(merchant, f"{name} customer"))
    return team


def stamp_program(merchant, **fields):
    """A 10-stamp coffee card without a PIN unless the test asks for one."""
    defaults = {
        "stamps_target": 10, "stamp_reward_description": "A free coffee",
        "stamp_reward_value_cents": 350, "cooldown_minutes": 15, "max_stamps_per_day": 5,
        "require_staff_pin": False,
    }
    return programs.create_program(merchant, "stamps", "Coffee card", **{**defaults, **fields})


def points_program(merchant, *, rewards=(("Croissant", 50), ("Cake", 200)), **fields):
    defaults = {"points_per_euro": 10, "require_staff_pin": False, "welcome_bonus_points": 0}
    program = programs.create_program(merchant, "points", "Bakery points", **{**defaults, **fields})
    for name, cost in rewards:
        programs.add_reward(program, name, cost)
    return program


def hybrid_program(merchant, **fields):
    defaults = {"points_per_euro": 10, "stamps_target": 5, "cooldown_minutes": 0,
                "max_stamps_per_day": 50, "require_staff_pin": False}
    return programs.create_program(merchant, "hybrid", "Hybrid card", **{**defaults, **fields})


def card(merchant, name="Carla Card", *, email=None, phone=None, store=None):
    email = email if email is not None or phone else f"card{next(_sequence)}@example.com"
    return cards.enroll_customer(
        merchant, name=name, email=email, phone=phone, context=ActionContext(store_id=store.id if store else None)
    )


def fraud_alert(merchant, *, store=None, rule="staff_hour", cards=(), transaction_ids=None,
                staff_pin=None, user=None, observed=31, threshold=30, created_at=None,
                reviewed=False, key=None):
    """A fraud alert as a rule check would raise it, written directly (the checks are
    tested on their own)."""
    now = created_at or clock.now()
    card_ids = [card.id for card in cards]
    if transaction_ids is None:
        transaction_ids = list(db.session.scalars(select(LoyaltyTransaction.id).where(
            LoyaltyTransaction.card_id.in_(card_ids)).order_by(LoyaltyTransaction.id)))
    alert = FraudAlert(
        merchant_id=merchant.id, store_id=store.id if store else None, rule=rule,
        staff_pin_id=staff_pin.id if staff_pin else None, user_id=user.id if user else None,
        card_ids=card_ids, transaction_ids=transaction_ids, observed=observed,
        threshold=threshold, window_start=now - timedelta(hours=1), window_end=now,
        created_at=now,
        dedupe_key=key or f"{rule}:test:{next(_sequence)}",
        reviewed_at=now if reviewed else None)
    db.session.add(alert)
    db.session.commit()
    return alert
