"""Apple's PassKit web service: the devices that hold a card's pass, and what changed.

A pass is found by its pass type and serial number; calls about it carry its
``authenticationToken`` (compared in constant time). The update tag a device gets is the
newest change time among its passes, in microseconds since the epoch: a string that only
grows.
"""
import hmac
import re

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import AppleRegistration, LoyaltyCard

IDENTIFIER = re.compile(r"^[A-Za-z0-9._-]{1,64}\Z")
PUSH_TOKEN = re.compile(r"^[A-Za-z0-9]{1,200}\Z")
#: What one call of the device log may leave in our logs: so many messages, each so long.
DEVICE_LOG_MESSAGES = 20
DEVICE_LOG_CHARS = 300


class Unauthorized(Exception):
    """No such pass, or the token does not match (the two are not told apart)."""


def _token(header):
    scheme, _space, token = (header or "").partition(" ")
    return token.strip() if scheme == "ApplePass" else ""


def authorized_card(pass_type, serial, authorization):
    """The card whose pass this is, if ``authorization`` carries its token."""
    if pass_type != current_app.config["APPLE_PASS_TYPE_ID"] or not IDENTIFIER.match(serial or ""):
        raise Unauthorized
    card = db.session.scalar(select(LoyaltyCard).where(
        LoyaltyCard.apple_serial_number == serial))
    expected = (card.apple_auth_token if card is not None else None) or ""
    if not hmac.compare_digest(expected.encode(), _token(authorization).encode()) or not expected:
        raise Unauthorized
    return card


def register(card, device, push_token):
    """Returns True for a new registration (201), False when it was known (200); of two
    registrations of one device at once, the second finds the first (the unique index)."""
    try:
        with write_transaction():
            known = db.session.scalar(select(AppleRegistration).where(
                AppleRegistration.card_id == card.id,
                AppleRegistration.device_library_id == device).with_for_update())
            if known is not None:
                known.push_token = push_token
                return False
            db.session.add(AppleRegistration(card_id=card.id, device_library_id=device,
                                             push_token=push_token))
    except IntegrityError:
        return False
    return True


def unregister(card, device):
    with write_transaction():
        db.session.query(AppleRegistration).filter(
            AppleRegistration.card_id == card.id,
            AppleRegistration.device_library_id == device).delete()


def tag_of(moment):
    return str(int(moment.timestamp() * 1_000_000))


#: Tags are change times, taken before their transaction commits: passes changed shortly
#: before a tag are listed again (the phone then gets a 304 for those it has).
TAG_MARGIN = 60_000_000  # microseconds
TAG = re.compile(r"^[0-9]{1,19}\Z")


def updated_serials(device, pass_type, since_tag=None):
    """(serial numbers changed after ``since_tag``, the new tag) of the device's passes."""
    if pass_type != current_app.config["APPLE_PASS_TYPE_ID"]:
        return [], None
    C = LoyaltyCard
    query = (select(C.apple_serial_number, C.pass_updated_at, C.created_at)
             .join(AppleRegistration, AppleRegistration.card_id == C.id)
             .where(AppleRegistration.device_library_id == device)
             .execution_options(include_deleted=True))
    rows = db.session.execute(query).all()
    since = int(since_tag) if since_tag and TAG.match(since_tag) else None
    changed = [(serial, int(tag_of(updated or created))) for serial, updated, created in rows]
    if since is not None:
        changed = [(serial, tag) for serial, tag in changed if tag > since - TAG_MARGIN]
        if not any(tag > since for _serial, tag in changed):
            return [], None  # nothing newer than the tag: 204
    if not changed:
        return [], None
    return sorted(serial for serial, _tag in changed), str(max(tag for _serial, tag in changed))


def device_log_messages(body):
    """The lines to log for a device's ``{"logs": [text, ...]}``, or None for any other body.

    Anyone can call the log endpoint, so what it leaves is bounded: at most
    ``DEVICE_LOG_MESSAGES`` lines (a last one counts the messages left out), each message cut
    to ``DEVICE_LOG_CHARS`` characters and written as one line (``repr``: a newline in a
    message cannot forge another log line)."""
    logs = body.get("logs") if isinstance(body, dict) else None
    if not isinstance(logs, list) or not all(isinstance(message, str) for message in logs):
        return None
    lines = [repr(message[:DEVICE_LOG_CHARS]) for message in logs[:DEVICE_LOG_MESSAGES]]
    if len(logs) > DEVICE_LOG_MESSAGES:
        lines.append(f"({len(logs) - DEVICE_LOG_MESSAGES} more messages not logged)")
    return lines
