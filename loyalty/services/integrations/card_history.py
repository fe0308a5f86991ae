"""A card's ledger, newest first, a page at a time, for a till or a web shop.

Pages are cut by id (keyset): a page ends at a row's id and the next starts below it, so
rows written meanwhile (always with higher ids) never shift a page nor show up twice, as an
offset would. (A card's rows are written under its lock, one at a time, so their ids also
follow their commits: no row can turn up later below a page already read.) The cursor is
opaque to the caller (``v1.<id>`` in base64url): a caller sends back what it was given.

Each row names who wrote it: a staff member (their PIN's name, or the signed-in member),
the owner, an API key (its name), or the system (points expiry, a customer's erasure).
"""
import base64
import binascii
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from loyalty.extensions import db
from loyalty.models import (
    MAX_ID,
    ApiKey,
    LoyaltyTransaction,
    Membership,
    Merchant,
    Role,
    StaffPin,
    Store,
    User,
)
from loyalty.services.engine.localized import reward_names_for_rows
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.errors import InvalidInput
from loyalty.services.integrations.card_views import iso_utc
from loyalty.services.integrations.catalog import as_amount

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
CURSOR_SHAPE = re.compile(r"^v1\.([1-9][0-9]{0,18})$")
BAD_CURSOR = _l("This cursor is not valid: send the next_cursor of the previous page as it "
                "came, or no cursor for the first page.")


def encode_cursor(transaction_id):
    return base64.urlsafe_b64encode(f"v1.{transaction_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor):
    """The id a page starts below; InvalidInput for anything this API did not hand out."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    match = CURSOR_SHAPE.match(text)
    if match is None or int(match.group(1)) > MAX_ID:
        raise InvalidInput(BAD_CURSOR, errors=[{"field": "cursor", "message": str(BAD_CURSOR)}])
    return int(match.group(1))


def _statement(card_id, before, limit):
    L = LoyaltyTransaction
    owner = exists().where(Membership.user_id == L.user_id,
                           Membership.merchant_id == L.merchant_id,
                           Membership.role == Role.MERCHANT_OWNER).correlate(L)
    query = (
        select(L.id, L.transaction_type, L.stamps_delta, L.points_delta,
               L.stamps_balance_after, L.points_balance_after, L.purchase_amount_cents,
               L.order_reference, L.reward_id, L.reward_description, L.transaction_at,
               L.staff_pin_id, L.api_key_id, L.user_id, Store.code.label("store_code"),
               StaffPin.staff_name, ApiKey.name.label("key_name"), User.name.label("user_name"),
               owner.label("by_owner"))
        .outerjoin(Store, Store.id == L.store_id)
        .outerjoin(StaffPin, StaffPin.id == L.staff_pin_id)
        .outerjoin(ApiKey, ApiKey.id == L.api_key_id)
        .outerjoin(User, User.id == L.user_id)
        .where(L.card_id == card_id)
        .order_by(L.id.desc())
        .limit(limit + 1)
        .execution_options(include_deleted=True)  # a departed member still wrote the row
    )
    return query.where(L.id < before) if before is not None else query


def actor(row):
    """``(kind, name)`` of who wrote the row: staff, owner, api or system."""
    if row.api_key_id is not None:
        return "api", row.key_name
    if row.staff_pin_id is not None:
        return "staff", row.staff_name
    if row.user_id is not None:
        return ("owner" if row.by_owner else "staff"), row.user_name
    return "system", None


def transactions_page(card, *, limit=DEFAULT_LIMIT, cursor=None, locale=None):
    """``{"transactions": [...], "next_cursor": str | None}``: up to ``limit`` rows of
    ``card``'s ledger, newest first, below ``cursor``."""
    limit = max(1, min(limit or DEFAULT_LIMIT, MAX_LIMIT))
    before = decode_cursor(cursor) if cursor else None
    rows = db.session.execute(_statement(card.id, before, limit)).all()
    more, rows = len(rows) > limit, rows[:limit]
    currency = db.session.scalar(select(Merchant.currency).where(
        Merchant.id == card.merchant_id))
    cached = merchant_rows(card.merchant_id)
    names = reward_names_for_rows(rows, cached.program, known=cached.rewards)

    def shown(row):
        kind, name = actor(row)
        return {
            "id": row.id,
            "type": row.transaction_type.value,
            "stamps_delta": row.stamps_delta,
            "points_delta": row.points_delta,
            "stamps_balance_after": row.stamps_balance_after,
            "points_balance_after": row.points_balance_after,
            "amount": (as_amount(row.purchase_amount_cents, currency)
                       if row.purchase_amount_cents is not None else None),
            "order_reference": row.order_reference,
            "reward": ({"id": row.reward_id, "name": names.of_row(row, locale)}
                       if row.reward_description else None),
            "store": row.store_code,
            "actor": {"kind": kind, "name": name},
            "created_at": iso_utc(row.transaction_at),
        }

    return {"transactions": [shown(row) for row in rows],
            "next_cursor": encode_cursor(rows[-1].id) if more else None}

