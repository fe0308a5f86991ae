"""Build merchants, teams and customers through the services, as the product would."""
from dataclasses import dataclass, field
from itertools import count

from loyalty.models import Customer, Merchant, Role, Store, User
from loyalty.services import accounts

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
