"""Exports: the merchant's transactions and cards, read in pages (each page a short read of
its own, see ``database.read_in_pages``) and written out as CSV chunk by chunk, so a million
rows never sit in memory at once and a slow download holds no connection.

The rows are read while the body streams, after the view has returned and its session is
closed: everything a query needs from the request (the merchant's id and time zone) is taken
when the rows are asked for, not when they are read. They are read on the read replica when
there is one (``database.replica_session``).

Every cell of every CSV export goes through ``safe_cell``: text a spreadsheet could run as a
formula is written with a leading apostrophe; numbers are written as numbers. Phone numbers
are written as ``phone_cell`` gives them, readable text that is neither a number nor a
formula.
"""
import csv
import io
import re
import unicodedata
from datetime import datetime, time
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import func, select

from loyalty.database import read_in_pages
from loyalty.models import ApiKey, Customer, LoyaltyCard, LoyaltyTransaction, StaffPin, Store

BATCH = 2000
#: What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@")
#: Characters that start a formula by themselves (a tab or carriage return first).
FORMULA_START_RAW = ("\t", "\r")
#: Kinds of characters a spreadsheet may skip or trim before it reads a cell: whitespace,
#: control characters and invisible format marks (byte-order mark, zero-width space).
SKIPPED_CATEGORIES = ("Cc", "Cf", "Zs", "Zl", "Zp")
E164 = re.compile(r"^\+[1-9][0-9]{1,14}\Z")


def _skipped(char):
    return char.isspace() or unicodedata.category(char) in SKIPPED_CATEGORIES


def is_formula(text):
    """Whether a spreadsheet could read ``text`` as a formula: it starts with a tab or a
    carriage return, or its first character that a spreadsheet does not skip is = + - or @
    once compatibility forms are folded (NFKC: the full-width "＝" and "＋", the small "﹦"
    are "=" and "+"), whatever whitespace, byte-order mark or zero-width mark comes before."""
    folded = unicodedata.normalize("NFKC", text)
    if folded.startswith(FORMULA_START_RAW):
        return True
    first = next((char for char in folded if not _skipped(char)), "")
    return first in FORMULA_START


def safe_cell(value):
    """A CSV cell a spreadsheet shows as text, never runs: text that ``is_formula`` gets a
    leading apostrophe (shown, but inert); numbers and other text are left as they are."""
    if isinstance(value, str) and is_formula(value):
        return "'" + value
    return value


def phone_cell(phone):
    """A stored phone number as a spreadsheet should show it: "(+352) 621 123 456".

    Numbers are stored in E.164 ("+352621123456"). Written so, Excel and LibreOffice open it
    as the number 352621123456 (shown as 3.52621E+11), and its leading "+" is a formula start
    that the guard would mark with an apostrophe, which the spreadsheet then shows. With the
    country code in brackets and the digits grouped as the country writes them, the cell
    starts with "(" and holds spaces: no spreadsheet reads it as a number or a formula, so it
    opens as text a person reads and dials, and it parses back to the same E.164 number
    (``contacts.normalize_phone``). Anything that is not an E.164 number is returned as it is
    (and guarded like any other text)."""
    if not isinstance(phone, str) or not E164.match(phone):
        return phone
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return phone
    country = f"+{number.country_code}"
    written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return f"({country}) {written.removeprefix(country).strip()}"


def csv_chunks(header, rows, *, delimiter=",", batch=500):
    """The CSV text (UTF-8 with a byte-order mark, so spreadsheets read the accents) in
    chunks of ``batch`` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    buffer.write("\ufeff")
    writer.writerow([safe_cell(str(name)) for name in header])
    for count, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(cell) for cell in row])
        if count % batch == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def local_bounds(timezone, first_day, last_day):
    """The UTC instants that start ``first_day`` and end ``last_day`` on the merchant's clock."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(first_day, time(), zone) if first_day else None
    end = datetime.combine(last_day, time.max, zone) if last_day else None
    return start, end


def transaction_rows(merchant, *, first_day=None, last_day=None, store_ids=None, decimal=".",
                     reward_names=None, locale=None):
    """``(local time, kind, reward, store, staff, card number, customer, stamps, points,
    amount in currency units, order reference, note, local time at the counter of a row a
    tablet kept offline and sent later, else blank)`` for every ledger row, oldest first,
    streamed. The reward a row gave is named in ``locale`` when ``reward_names``
    (``merchant_texts.RewardNames``) has it so, else as the row recorded it."""
    L = LoyaltyTransaction
    query = (
        select(L.transaction_at, L.transaction_type, L.reward_id, L.reward_description,
               Store.name, func.coalesce(StaffPin.staff_name, ApiKey.name),
               LoyaltyCard.card_number, Customer.name, L.stamps_delta, L.points_delta,
               L.purchase_amount_cents, L.order_reference, L.notes, L.counter_at)
        .join(LoyaltyCard, LoyaltyCard.id == L.card_id)
        .join(Customer, Customer.id == LoyaltyCard.customer_id)
        .outerjoin(Store, Store.id == L.store_id)
        .outerjoin(StaffPin, StaffPin.id == L.staff_pin_id)
        .outerjoin(ApiKey, ApiKey.id == L.api_key_id)  # a till's key acts without a PIN
        .where(L.merchant_id == merchant.id)
        .execution_options(include_deleted=True)
    )
    start, end = local_bounds(merchant.timezone, first_day, last_day)
    if start:
        query = query.where(L.transaction_at >= start)
    if end:
        query = query.where(L.transaction_at <= end)
    if store_ids is not None:
        query = query.where(L.store_id.in_(store_ids))
    zone = ZoneInfo(merchant.timezone)

    def reward(reward_id, recorded):
        if not recorded:
            return ""
        return reward_names.named(reward_id, recorded, locale) if reward_names else recorded

    def local(moment):
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if moment else ""

    def written(moment, kind, reward_id, recorded, store, staff, number, customer, stamps,
                points, cents, reference, notes, counter_at):
        return (local(moment), kind,
                reward(reward_id, recorded), store or "", staff or "", number, customer,
                stamps, points,
                f"{cents / 100:.2f}".replace(".", decimal) if cents is not None else "",
                reference or "", notes or "", local(counter_at))

    return (written(*row) for row in read_in_pages(query, L.transaction_at, L.id, size=BATCH,
                                                              replica=True))


def card_rows(merchant, *, store_ids=None):
    """``(card number, customer, email, phone, enrolled, store, active, stamps, points,
    points earned, rewards, last activity)`` for every live card, streamed."""
    C = LoyaltyCard
    query = (
        select(C.card_number, Customer.name, Customer.email, Customer.phone, C.created_at,
               Store.name, C.is_active, C.stamp_count, C.points_balance, C.points_earned_total,
               C.rewards_redeemed_total, C.last_activity_at)
        .join(Customer, Customer.id == C.customer_id)
        .outerjoin(Store, Store.id == C.enrolled_at_store_id)
        .where(C.merchant_id == merchant.id)
    )
    if store_ids is not None:
        query = query.where(C.enrolled_at_store_id.in_(store_ids))
    zone = ZoneInfo(merchant.timezone)

    def when(moment):
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if moment else ""

    def written(number, name, email, phone, created, store, active, stamps, points, earned,
                rewards, last):
        return (number, name, email or "", phone_cell(phone) or "", when(created), store or "",
                1 if active else 0, stamps, points, earned, rewards, when(last))

    return (written(*row) for row in read_in_pages(query, C.id, size=BATCH,
                                                              replica=True))


