"""A card as an Apple Wallet pass (``.pkpass``): a storeCard in the program's branding,
signed with ``cryptography`` (detached PKCS#7, SHA-256, Binary, the WWDR G4 intermediate).

The pass's texts are written in the customer's language; each ``<lang>.lproj/pass.strings``
maps them to en, fr, de and lb, so a phone set to another of those languages shows its own.
"""
import hashlib
import io
import json
import secrets
import zipfile

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from flask import current_app
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import func, update

from loyalty.colours import readable_on
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.links import card_url, public_base_url
from loyalty.models import LoyaltyCard, Merchant, Store
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.merchant.texts import text_for
from loyalty.services.wallets.pass_images import pass_images
from loyalty.services.wallets.status import apple_credentials

MEDIA_TYPE = "application/vnd.apple.pkpass"


class PassUnavailable(Exception):
    """The pass certificate or key cannot be used (the status page says why)."""
LANGUAGES = ("en", "fr", "de", "lb")


def _rgb(color):
    color = (color or "#000000").lstrip("#")
    red, green, blue = (int(color[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgb({red}, {green}, {blue})"


def ensure_identifiers(card):
    """Give the card its pass serial number once (stable for the card's life)."""
    if card.apple_serial_number:
        return card
    with write_transaction():
        db.session.execute(
            update(LoyaltyCard).where(LoyaltyCard.id == card.id,
                                      LoyaltyCard.apple_serial_number.is_(None))
            .values(apple_serial_number=secrets.token_hex(16),
                    apple_auth_token=func.coalesce(LoyaltyCard.apple_auth_token,
                                                   secrets.token_urlsafe(24))))
    return db.session.get(LoyaltyCard, card.id, populate_existing=True)


def _labels():
    """The pass's own words in the current language."""
    return {
        "stamps": gettext("Stamps"), "points": gettext("Points"),
        "member": gettext("Member"), "number": gettext("Card number"),
        "changed": gettext("Balance: %(value)s", value="%@"),
        "terms": gettext("Terms"), "stores": gettext("Where your card works"),
        "link": gettext("Your card online"),
    }


def _fields(card, program, labels, stores, locale):
    stamps_goal = ngettext("%(num)d stamp for a reward", "%(num)d stamps for a reward",
                           program.stamps_target) if program.has_stamps else None
    header, primary = [], []
    if program.has_points:
        primary.append({"key": "points", "label": labels["points"], "value": card.points_balance,
                        "changeMessage": labels["changed"]})
    if program.has_stamps:
        stamps = {"key": "stamps", "label": labels["stamps"],
                  "value": f"{card.stamp_count}/{program.stamps_target}",
                  "changeMessage": labels["changed"]}
        (header if program.has_points else primary).append(stamps)
    back = []
    if stamps_goal:
        back.append({"key": "goal", "label": labels["stamps"], "value": stamps_goal})
    terms = text_for(program, "terms_text", locale)
    if terms:
        back.append({"key": "terms", "label": labels["terms"], "value": terms})
    if stores:
        back.append({"key": "stores", "label": labels["stores"], "value": "\n".join(
            f"{store.name}{', ' + store.address if store.address else ''}" for store in stores)})
    back.append({"key": "link", "label": labels["link"], "value": card_url(card),
                 "attributedValue": f'<a href="{card_url(card)}">{card_url(card)}</a>'})
    return {
        "headerFields": header,
        "primaryFields": primary,
        "secondaryFields": [{"key": "member", "label": labels["member"],
                             "value": card.customer.name or ""}],
        "auxiliaryFields": [{"key": "number", "label": labels["number"],
                             "value": card.card_number}],
        "backFields": back,
    }


def pass_json(card, program, merchant, stores, locale):
    config = current_app.config
    with force_locale(locale):
        labels = _labels()
        fields = _fields(card, program, labels, stores, locale)
    card_name = text_for(program, "card_name", locale)
    body = {
        "formatVersion": 1,
        "passTypeIdentifier": config["APPLE_PASS_TYPE_ID"],
        "teamIdentifier": config["APPLE_TEAM_ID"],
        "serialNumber": card.apple_serial_number,
        "authenticationToken": card.apple_auth_token,
        "webServiceURL": f"{public_base_url()}/wallet/apple",
        "organizationName": merchant.name,
        "description": card_name,
        "logoText": card_name,
        "backgroundColor": _rgb(program.primary_color),
        # The shop's text colour where it reads on the card, else black or white.
        "foregroundColor": _rgb(readable_on(program.primary_color, program.secondary_color)),
        "labelColor": _rgb(readable_on(program.primary_color, program.secondary_color)),
        "barcodes": [{"format": "PKBarcodeFormatQR", "message": card.qr_token,
                      "messageEncoding": "iso-8859-1", "altText": card.card_number}],
        "voided": not card.is_active,
        "storeCard": fields,
    }
    if card.customer.erased_at is not None:  # voided, and nothing left that opens the card
        del body["barcodes"]
        body["storeCard"] = {"primaryFields": [], "backFields": []}
    return body


def _strings_file(card, program, stores, locale, target):
    """``target``'s translations of the texts written in ``locale`` (pass.strings, UTF-8).

    Fields are matched by key: the owner may give a text (the terms) in some languages and
    not others, so a field of the pass may have no counterpart in ``target``; such a text
    stays as written. The card name (``logoText``, ``description``) follows the target too.
    """
    with force_locale(locale):
        source = _labels()
        source_fields = _fields(card, program, source, stores, locale)
    with force_locale(target):
        translated = _labels()
        target_fields = _fields(card, program, translated, stores, target)
    pairs = {source[key]: translated[key] for key in source}
    for section, entries in source_fields.items():
        theirs = {other["key"]: other["value"] for other in target_fields[section]}
        for entry in entries:
            other = theirs.get(entry["key"])
            if isinstance(entry["value"], str) and isinstance(other, str) \
                    and entry["value"] != other:
                pairs[entry["value"]] = other
    card_name = text_for(program, "card_name", locale)
    if card_name != text_for(program, "card_name", target):
        pairs.setdefault(card_name, text_for(program, "card_name", target))

    def quoted(text):
        return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    return "".join(f"{quoted(key)} = {quoted(value)};\n" for key, value in pairs.items()
                   if key).encode("utf-8")


def sign(manifest):
    """The detached PKCS#7 signature (DER) of the manifest's bytes."""
    try:
        credentials = apple_credentials()
    except (OSError, ValueError, TypeError) as error:
        raise PassUnavailable(str(error)) from error
    return (pkcs7.PKCS7SignatureBuilder().set_data(manifest)
            .add_signer(credentials.certificate, credentials.key, hashes.SHA256())
            .add_certificate(credentials.wwdr)
            .sign(Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature,
                                 pkcs7.PKCS7Options.Binary]))


def build(card):
    """(pkpass bytes, last modified) for ``card``: its pass as it is now."""
    card = ensure_identifiers(card)
    rows = merchant_rows(card.merchant_id)
    program = rows.program
    merchant = db.session.get(Merchant, card.merchant_id)
    stores = db.session.query(Store).filter(Store.merchant_id == merchant.id,
                                            Store.is_active.is_(True)).order_by(Store.name).all()
    locale = card.customer.preferred_locale or merchant.default_locale
    files = {"pass.json": json.dumps(pass_json(card, program, merchant, stores, locale),
                                     ensure_ascii=False, indent=1).encode("utf-8")}
    files.update(pass_images(shop=merchant.name, primary_color=program.primary_color,
                             secondary_color=readable_on(program.primary_color,
                                                         program.secondary_color),
                             logo_url=program.logo_url,
                             hero_image_url=program.hero_image_url))
    for target in LANGUAGES:
        files[f"{target}.lproj/pass.strings"] = _strings_file(card, program, stores, locale,
                                                              target)
    manifest = json.dumps({name: hashlib.sha1(data).hexdigest()  # noqa: S324 - Apple's format
                           for name, data in files.items()}, indent=1).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("manifest.json", manifest)
        archive.writestr("signature", sign(manifest))
    return buffer.getvalue(), pass_modified(card)


def pass_modified(card):
    """When the pass's content last changed: whole seconds (``Last-Modified``)."""
    moment = card.pass_updated_at or card.created_at
    return moment.replace(microsecond=0)


