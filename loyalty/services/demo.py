"""Demo data for the embedded default and for trying the product: safe to load twice."""
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import Customer, Membership, Merchant, Role, Store, User
from loyalty.services import accounts

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


def load_demo_data():
    """Create the demo admin, merchants, stores, people and customers that are missing.

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
    return logins
