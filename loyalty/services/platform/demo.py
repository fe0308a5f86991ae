"""Demo data for the embedded default and for trying the product: safe to load twice."""
import random
from datetime import timedelta

from sqlalchemy import select

from loyalty import clock
from loyalty.extensions import db
from loyalty.models import (
    Customer,
    LoyaltyCard,
    Membership,
    Merchant,
    Role,
    Store,
    User,
)
from loyalty.services.engine import cards, staff_pins
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.points import earn_points, redeem_reward
from loyalty.services.engine.stamps import add_stamp, redeem_stamp_reward
from loyalty.services.errors import DomainError
from loyalty.services.merchant import programs
from loyalty.services.merchant import texts as merchant_texts
from loyalty.services.platform import accounts
from loyalty.services.platform import stats as platform_stats

DEMO_PASSWORD = "demo-password"  # noqa: S105 - published in the README, demo data only

ADMIN = ("admin@demo.lu", "Platform Admin")
MERCHANTS = [
    {
        "name": "Café Kaffisbuttek",
        "slug": "kaffisbuttek",
        "locale": "lb",
        "stores": [("GARE", "Gare", "12 Rue de Strasbourg, Luxembourg"),
                   ("KIRCH", "Kirchberg", "5 Avenue J.F. Kennedy, Luxembourg")],
        "owner": ("owner@kaffisbuttek.lu", "Anna Weber"),
        "staff": [("staff@kaffisbuttek.lu", "Tom Schmit", "GARE", Role.STORE_STAFF),
                  ("manager@kaffisbuttek.lu", "Lisa Muller", "KIRCH", Role.STORE_MANAGER)],
        "program": {
            "program_type": "stamps", "card_name": "Kaffiskaart", "stamps_target": 10,
            "stamp_reward_description": "e Kaffi vun Ärer Wiel gratis",
            "stamp_reward_value_cents": 350, "cooldown_minutes": 15, "max_stamps_per_day": 5,
            "primary_color": "#5b3a29", "secondary_color": "#f4e9dc",
        },
        "rewards": [],
        # The texts customers read in the other languages: (program's, {reward: (name, description)})
        "texts": {
            "en": ({"stamp_reward_description": "a free coffee of your choice"}, {}),
            "fr": ({"stamp_reward_description": "un café de votre choix offert"}, {}),
            "de": ({"stamp_reward_description": "ein Kaffee nach Wahl gratis"}, {}),
        },
        # (store, name, PIN, a manager PIN that unlocks a locked PIN at the terminal)
        "pins": [("GARE", "Tom", "1234", False), ("KIRCH", "Lisa", "2345", True),
                 ("GARE", "Anna", "9876", True)],
        "customers": [("Marie Hoffmann", "marie@example.lu", "+352 621 100 001", "fr"),
                      ("Paul Wagner", "paul@example.lu", "+352 621 100 002", "lb"),
                      ("Sophie Klein", "sophie@example.lu", None, "de"),
                      ("Jan Peeters", None, "+352 621 100 004", "en")],
    },
    {
        "name": "Boulangerie Beim Bäcker",
        "slug": "beim-baecker",
        "locale": "fr",
        "stores": [("CENTRE", "Centre", "3 Grand-Rue, Luxembourg"),
                   ("ESCH", "Esch-sur-Alzette", "40 Rue de l'Alzette, Esch-sur-Alzette"),
                   ("DIEK", "Diekirch", "8 Place Guillaume, Diekirch")],
        "owner": ("owner@beimbaecker.lu", "Marc Reuter"),
        "staff": [("staff@beimbaecker.lu", "Claire Faber", "CENTRE", Role.STORE_STAFF),
                  ("esch@beimbaecker.lu", "Luca Rossi", "ESCH", Role.STORE_STAFF)],
        "program": {
            "program_type": "points", "card_name": "Bäckerpunkten", "points_per_euro": 10,
            "welcome_bonus_points": 20, "minimum_redemption_points": 50,
            "minimum_purchase_cents": 100, "points_expiration_days": 365,
            "primary_color": "#8a4b12", "secondary_color": "#fff6e5",
        },
        "rewards": [("Croissant", 60), ("Pain au chocolat", 80), ("Baguette", 120),
                    ("Tarte aux fruits", 300), ("Gâteau d'anniversaire", 1500)],
        "texts": {
            "en": ({}, {"Pain au chocolat": "Chocolate croissant", "Tarte aux fruits": "Fruit tart",
                        "Gâteau d'anniversaire": "Birthday cake"}),
            "de": ({}, {"Pain au chocolat": "Schokocroissant", "Tarte aux fruits": "Obsttorte",
                        "Gâteau d'anniversaire": "Geburtstagstorte"}),
            "lb": ({}, {"Pain au chocolat": "Schockelacroissant", "Tarte aux fruits": "Uebstaart",
                        "Gâteau d'anniversaire": "Gebuertsdagstaart"}),
        },
        "pins": [("CENTRE", "Claire", "1111", False), ("ESCH", "Luca", "2222", False),
                 ("DIEK", "Marc", "3333", True), ("CENTRE", "Marc", "4321", True)],
        "customers": [("Nora Schroeder", "nora@example.lu", "+352 691 200 001", "de"),
                      ("Luc Thill", "luc@example.lu", None, "lb"),
                      ("Emma Dupont", "emma@example.fr", "+33 6 12 34 56 78", "fr"),
                      ("Ben Kremer", "ben@example.lu", "+352 691 200 004", "en")],
    },
]


def _user(email, name, *, admin=False):
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = accounts.register_user(email, DEMO_PASSWORD, name, is_platform_admin=admin)
    return user


def _membership(user, merchant, role, store=None):
    exists = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.merchant_id == merchant.id,
            Membership.role == role,
        )
    )
    if exists is None:
        accounts.add_member(user, merchant, role, store=store)


FIRST_NAMES = ["Lara", "Ben", "Mia", "Noah", "Emma", "Luca", "Sofia", "Max", "Lena", "Tom",
               "Chloé", "Félix", "Zoé", "Jo", "Nina", "Pit", "Anne", "Yves", "Carla", "Gil"]
LAST_NAMES = ["Schmit", "Muller", "Weber", "Wagner", "Hoffmann", "Thill", "Kieffer", "Reding",
              "Majerus", "Schiltz", "Meyer", "Steffen", "Da Silva", "Ferreira", "Kremer"]
HISTORY_DAYS = 60
EXTRA_CUSTOMERS = 26


def _program(merchant, spec, stores, history_days):
    """The demo program with its catalogue, PINs, cards and 60 days of counter activity."""
    if programs.live_program(merchant.id) is not None:
        return
    fields = dict(spec["program"], require_staff_pin=False)
    program = programs.create_program(merchant, fields.pop("program_type"), fields.pop("card_name"),
                                      **fields)
    rewards = [programs.add_reward(program, name, cost) for name, cost in spec["rewards"]]
    for locale, (program_texts, reward_names) in spec.get("texts", {}).items():
        merchant_texts.save_texts(
            program, rewards, locale, actor=None, program_texts=program_texts,
            reward_texts={reward.id: {"name": reward_names.get(reward.name)} for reward in rewards})
    for code, name, pin, manager in spec["pins"]:
        staff_pin = staff_pins.create_staff_pin(merchant, stores[code], name, pin)
        if manager:
            staff_pins.update_staff_pin(staff_pin, name, can_unlock=True)
    _history(merchant, program, list(stores.values()), spec, history_days)
    # History is written without PINs; from now on the counter asks for one.
    programs.update_program(program, require_staff_pin=True)


def _history(merchant, program, stores, spec, history_days):
    rng = random.Random(merchant.slug)
    start = clock.now() - timedelta(days=history_days)
    people = [(name, email, phone) for name, email, phone, _locale in spec["customers"]]
    for n in range(EXTRA_CUSTOMERS):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        people.append((f"{first} {last}", f"{first}.{last}.{n}@example.lu".lower().replace(" ", ""), None))
    card_ids = []
    with clock.frozen_at(start):
        for name, email, phone in people:
            store = rng.choice(stores)
            try:
                card = cards.enroll_customer(merchant, name=name, email=email, phone=phone,
                                             context=ActionContext(store_id=store.id))
            except DomainError:
                continue
            card_ids.append(card.id)
    for day in range(history_days):
        for visit in range(rng.randint(6, 14)):
            moment = start + timedelta(days=day, hours=rng.randint(7, 18), minutes=rng.randint(0, 59))
            store = rng.choice(stores)
            card = db.session.get(LoyaltyCard, rng.choice(card_ids))
            context = ActionContext(store_id=store.id)
            with clock.frozen_at(moment):
                try:
                    _visit(rng, program, card, context)
                except DomainError:
                    pass  # a cooldown or a short balance: the counter would have said so too


def _visit(rng, program, card, context):
    if program.has_stamps:
        if card.stamp_count >= program.stamps_target and rng.random() < 0.7:
            redeem_stamp_reward(card, context=context)
        else:
            add_stamp(card, context=context)
    if program.has_points:
        affordable = [r for r in programs.active_rewards(program) if r.points_cost <= card.points_balance]
        if affordable and rng.random() < 0.25:
            redeem_reward(card, rng.choice(affordable).id, context=context)
        else:
            earn_points(card, rng.randint(150, 4500), context=context)


def load_demo_data(history_days=HISTORY_DAYS):
    """Create the demo admin, merchants, stores, people, programs and activity that are missing.

    Returns the list of ``(role, email)`` demo logins.
    """
    logins = [("platform admin", _user(*ADMIN, admin=True).email)]
    for spec in MERCHANTS:
        merchant = db.session.scalar(select(Merchant).where(Merchant.slug == spec["slug"]))
        if merchant is None:
            merchant = accounts.create_merchant(spec["name"], spec["slug"], locale=spec["locale"])
        stores = {}
        for code, name, address in spec["stores"]:
            store = db.session.scalar(
                select(Store).where(Store.merchant_id == merchant.id, Store.code == code)
            )
            stores[code] = store or accounts.create_store(merchant, name, code, address=address)
        owner = _user(*spec["owner"])
        _membership(owner, merchant, Role.MERCHANT_OWNER)
        logins.append((f"owner, {merchant.name}", owner.email))
        for email, name, code, role in spec["staff"]:
            person = _user(email, name)
            _membership(person, merchant, role, stores[code])
            logins.append((f"{role.value.replace('_', ' ')}, {stores[code].name}", email))
        for name, email, phone, locale in spec["customers"]:
            known = db.session.scalar(
                select(Customer).where(Customer.merchant_id == merchant.id, Customer.name == name)
            )
            if known is None:
                accounts.create_customer(merchant, name, email=email, phone=phone, locale=locale)
        _program(merchant, spec, stores, history_days)
    # The history is written in the past: the dashboard sums those days again.
    platform_stats.forget_days()
    return logins


def demo_pins():
    """(merchant, store, staff name, PIN) for the README and the ``demo`` command's output."""
    return [
        (spec["name"], code, name, pin)
        for spec in MERCHANTS
        for code, name, pin, _can_unlock in spec["pins"]
    ]
