"""SQLAlchemy models, one module per aggregate. Import from here."""
from loyalty.models.accounts import (
    SECRET_MAX_BYTES,
    Membership,
    Role,
    User,
    check_secret,
    hash_secret,
)
from loyalty.models.audit import AuditEntry, AuditImmutable
from loyalty.models.base import (
    MAX_ID,
    SoftDeleteMixin,
    UTCDateTime,
    restore,
    soft_delete,
    soft_delete_cascade,
    utcnow,
)
from loyalty.models.cards import (
    LIFETIME_COUNTERS,
    REWARD_REDEMPTION_TYPES,
    REWARD_UNDO_TYPES,
    AppleRegistration,
    CardHandoff,
    LoyaltyCard,
)
from loyalty.models.files import StoredFile
from loyalty.models.fraud import FraudAlert, FraudRuleSetting
from loyalty.models.happy_hours import ALL_WEEKDAYS, HAPPY_HOUR_KINDS, HappyHour
from loyalty.models.integrations import ApiIdempotencyKey, ApiKey
from loyalty.models.ledger import (
    LedgerImmutable,
    LoyaltyTransaction,
    TransactionType,
)
from loyalty.models.ledger_days import LedgerDay
from loyalty.models.merchants import Customer, Merchant, Store
from loyalty.models.orders import ApiOrder
from loyalty.models.outbox import OutboxMessage, SentEmail
from loyalty.models.point_lots import PointLot, PointLotMove
from loyalty.models.programs import (
    LoyaltyProgram,
    MerchantLoyaltySettings,
    ProgramType,
    Reward,
)
from loyalty.models.retention_snapshots import RetentionSnapshot
from loyalty.models.sessions import PasswordToken, UserSession
from loyalty.models.staff import StaffPin
from loyalty.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "ApiIdempotencyKey", "ApiKey", "ApiOrder",
    "AppleRegistration", "CardHandoff",
    "MAX_ID", "SECRET_MAX_BYTES", "AuditEntry", "AuditImmutable",
    "LIFETIME_COUNTERS", "REWARD_REDEMPTION_TYPES", "REWARD_UNDO_TYPES", "Customer",
    "LedgerImmutable", "LoyaltyCard", "LoyaltyProgram", "LoyaltyTransaction", "Membership",
    "LedgerDay", "Merchant", "MerchantLoyaltySettings", "OutboxMessage", "SentEmail", "ProgramType", "Reward", "Role", "SoftDeleteMixin",
    "PasswordToken", "StaffPin", "Store", "TransactionType", "User", "UserSession", "UTCDateTime", "check_secret", "hash_secret",
    "restore", "soft_delete", "soft_delete_cascade", "utcnow",
    "WebhookDelivery", "WebhookEndpoint", "StoredFile",
    "ALL_WEEKDAYS", "HAPPY_HOUR_KINDS", "HappyHour",
    "RetentionSnapshot",
    "PointLot", "PointLotMove",
    "FraudAlert", "FraudRuleSetting",
]
