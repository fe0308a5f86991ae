"""The merchant's audit trail: who changed what, filterable by kind of change and person.

The trail records values as the database holds them (a role's code, a store's id, cents); the
page names them as the owner knows them (a role's name, the store's name, an amount of money),
in the owner's language, and leaves out what was recorded but did not change.
"""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from babel import Locale
from flask import request
from flask_babel import format_currency, get_locale
from flask_babel import lazy_gettext as _l

from loyalty.blueprints.merchant.base import OWNER, bp, id_arg, page
from loyalty.blueprints.merchant.forms import PROGRAM_TYPES, ROLE_CHOICES
from loyalty.dates import datetime_label
from loyalty.services import audit
from loyalty.services.merchant import stores
from loyalty.tenancy import current_merchant, roles_required

#: How the changed fields are named on the page (the labels their forms use).
FIELD_LABELS = {
    "program_type": _l("Kind of program"), "card_name": _l("Card name"),
    "stamps_target": _l("Stamps for a reward"), "stamp_reward_description": _l("The reward"),
    "stamp_reward_value_cents": _l("What the reward is worth"),
    "cooldown_minutes": _l("Minutes between two stamps on one card"),
    "max_stamps_per_day": _l("Stamps per card per day, at most"),
    "points_per_euro": _l("Points per euro spent"),
    "point_value_cents": _l("Value of one point, in cents"),
    "minimum_purchase_cents": _l("Smallest purchase that earns points"),
    "minimum_redemption_points": _l("Fewest points a customer can redeem"),
    "welcome_bonus_points": _l("Welcome bonus"),
    "birthday_bonus_points": _l("Birthday bonus in points"),
    "birthday_bonus_stamps": _l("Birthday bonus in stamps"),
    "birthday_days_ahead": _l("Days before the birthday"),
    "points_expiration_days": _l("Points expire after this many days without a visit"),
    "expiry_warning_days": _l("Warn customers this many days before"),
    "points_expiry_rule": _l("How points expire"),
    "points_expiry_months": _l("Months after the month they were earned"),
    "require_staff_pin": _l("Staff enter their PIN for every action"),
    "offline_enabled": _l("Let the counter keep working without a connection"),
    "offline_max_actions": _l("Actions a tablet may keep, at most"),
    "offline_max_points": _l("Points a tablet may keep, at most"),
    "primary_color": _l("Card colour"), "secondary_color": _l("Text colour on the card"),
    "terms_text": _l("Terms customers agree to"), "privacy_url": _l("Link to your privacy notice"),
    "logo_url": _l("Logo (PNG, JPEG or WebP, up to 2 MB)"),
    "hero_image_url": _l("Large picture for your page (PNG, JPEG or WebP, up to 2 MB)"),
    "name": _l("Name"), "code": _l("Short code"), "address": _l("Address"), "phone": _l("Phone"),
    "opening_note": _l("Opening hours or a note for customers"),
    "points_cost": _l("Points it costs"), "description": _l("Description (optional)"),
    "position": _l("Reward catalogue"), "is_active": _l("Active"),
    "staff_name": _l("Staff member's name"), "can_unlock": _l("Manager PIN"),
    "unlocked_by": _l("Unlocked by"), "role": _l("Role"), "store_id": _l("Store"),
    "reason": _l("Reason"), "points_balance": _l("Points"), "stamp_count": _l("Stamps"),
    "erased_at": _l("Deleted on"), "deleted_at": _l("Deleted on"),
    "marketing_consent": _l("Offers by email"),
    # The platform's changes to the shop (its identity and loyalty settings, support visits).
    "slug": _l("Web address"), "timezone": _l("Time zone"), "currency": _l("Currency"),
    "default_locale": _l("Main language"), "country": _l("Country (default phone prefix)"),
    "allow_self_enrollment": _l("Customers may join online"),
    "allow_voids": _l("Staff may void transactions"),
    "void_window_days": _l("Staff may void for this many days (managers and owners any time)"),
    "allow_cross_location_redemption": _l("Rewards may be redeemed at any store"),
    "pin_lockout_attempts": _l("Wrong PINs before a PIN locks (empty: the platform's default)"),
    "pin_lockout_minutes": _l("Minutes a locked PIN stays locked (empty: the platform's default)"),
    "page": _l("Page"),
    # A fraud alert's review.
    "reviewed_at": _l("Reviewed on"), "review_note": _l("Review note"),
    # An alert rule's setting (``alert.rule``).
    "enabled": _l("On"), "threshold": _l("Threshold"),
    # What a tablet without connection sent later (``offline.*``).
    "stamps": _l("Stamps"), "amount_cents": _l("Purchase amount"),
    "counter_at": _l("At the counter"), "result": _l("Result"),
    # What a deletion carried along, counted per kind of record.
    "Merchant": _l("Shop"), "Store": _l("Stores"), "Membership": _l("Team"),
    "LoyaltyProgram": _l("Program"), "LoyaltyCard": _l("Cards"), "Customer": _l("Customers"),
}
#: Recorded for the platform's own use, not shown to the owner (a ledger row's id).
HIDDEN_FIELDS = frozenset({"before"})
ROLE_LABELS = {choice.value: choice.label for choice in ROLE_CHOICES}
PROGRAM_TYPE_LABELS = dict(PROGRAM_TYPES)
MONEY_FIELDS = frozenset({"stamp_reward_value_cents", "minimum_purchase_cents", "amount_cents"})
MOMENT_FIELDS = frozenset({"erased_at", "deleted_at", "counter_at", "reviewed_at"})
#: How a synced action turned out: "accepted", or the refusal's own words as recorded.
RESULT_LABELS = {"accepted": _l("accepted")}
SUPPORT_PAGES = {"cards": _l("Cards"), "card": _l("Card"), "statistics": _l("Statistics")}
#: The kinds of change, as the filter offers them (the first part of an action's name).
AREAS = ("program", "reward", "branding", "store", "pin", "team", "card", "customer", "offline",
         "alert")


@dataclass(frozen=True)
class ShownChange:
    label: str
    old: object
    new: object


def _money(cents):
    try:
        return format_currency(Decimal(str(cents)) / 100, current_merchant.currency)
    except (InvalidOperation, ValueError):
        return cents


def _moment(text):
    try:
        return datetime_label(datetime.fromisoformat(text))
    except (TypeError, ValueError):
        return text


def _region(code):
    return Locale.parse(str(get_locale())).territories.get(code, code)


def shown_value(name, value, store_names):
    """A recorded value as the owner knows it: names, not codes or ids."""
    if value is None or isinstance(value, bool):
        return value
    named = {"role": ROLE_LABELS, "program_type": PROGRAM_TYPE_LABELS, "page": SUPPORT_PAGES,
             "store_id": store_names, "result": RESULT_LABELS}.get(name)
    if named is not None:
        return named.get(value, value)
    if name in MONEY_FIELDS:
        return _money(value)
    if name in MOMENT_FIELDS:
        return _moment(value)
    if name == "default_locale":
        return Locale.parse(value).get_display_name(str(get_locale())) or value
    if name == "country":
        return _region(value)
    return value


def shown_entries(entries, store_names):
    """``(entry, [ShownChange])`` for the entries, without the pairs that changed nothing;
    an entry whose every recorded change was no change is left out."""
    shown = []
    for entry in entries:
        changes = audit.real_changes(entry)
        if entry.changes and not changes:
            continue
        shown.append((entry, [
            ShownChange(FIELD_LABELS.get(name, name), shown_value(name, old, store_names),
                        shown_value(name, new, store_names))
            for name, (old, new) in changes.items() if name not in HIDDEN_FIELDS]))
    return shown


@bp.route("/activity")
@roles_required(*OWNER)
def activity():
    area = request.args.get("area", "")
    area = area if area in AREAS else ""
    actor_id = id_arg("person")
    entries, next_before = audit.trail(
        current_merchant.id, action=f"{area}." if area else None, actor_id=actor_id,
        before_id=id_arg("before"))
    return page("merchant/activity.html", "merchant/_activity_rows.html",
                entries=shown_entries(entries, stores.store_names(current_merchant.id)),
                next_before=next_before, area=area, person=actor_id, areas=AREAS,
                people=audit.actors(current_merchant.id))
