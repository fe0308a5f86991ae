"""SQLAlchemy models, one module per aggregate. Import from here."""
from loyalty.models.accounts import Membership, Role, User, check_secret, hash_secret
from loyalty.models.base import (
    SoftDeleteMixin,
    UTCDateTime,
    restore,
    soft_delete,
    soft_delete_cascade,
    utcnow,
)
from loyalty.models.merchants import Customer, Merchant, Store

__all__ = [
    "Customer", "Membership", "Merchant", "Role", "SoftDeleteMixin", "Store", "User",
    "UTCDateTime", "check_secret", "hash_secret", "restore", "soft_delete",
    "soft_delete_cascade", "utcnow",
]
