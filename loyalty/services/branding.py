"""How the card looks: name, colours, logo and hero image, terms and privacy link.

Images are checked by their first bytes (PNG, JPEG or WebP, whatever the file is called),
kept under ``UPLOAD_FOLDER`` named by the SHA-256 of their content, and served at
``/media/<hash>.<ext>``: a changed image gets a new address, so browsers and wallets may keep
one forever.
"""
import hashlib
import os
import re

from flask import current_app
from flask_babel import lazy_gettext as _l

from loyalty.database import write_transaction
from loyalty.services import audit, wallet_sync
from loyalty.services.errors import InvalidInput

MAX_IMAGE_BYTES = 2 * 1024 * 1024
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
)
MEDIA_NAME = re.compile(r"^[0-9a-f]{64}\.(png|jpg|webp)\Z")
FIELDS = ("card_name", "primary_color", "secondary_color", "terms_text", "privacy_url",
          "logo_url", "hero_image_url")
#: WCAG AA for normal text.
READABLE_CONTRAST = 4.5


def image_kind(data):
    """"png", "jpg" or "webp" from the file's first bytes, or None."""
    for signature, kind in SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def upload_folder():
    return current_app.config["UPLOAD_FOLDER"]


def store_image(stream):
    """Keep an uploaded image; returns its URL path. Refuses other files and large ones."""
    data = stream.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInput(_l("This image is larger than 2 MB. Save it smaller and try again."))
    kind = image_kind(data)
    if kind is None:
        raise InvalidInput(_l("Upload a PNG, JPEG or WebP image."))
    name = f"{hashlib.sha256(data).hexdigest()}.{kind}"
    folder = upload_folder()
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        temporary = f"{path}.{os.getpid()}.part"
        with open(temporary, "wb") as file:
            file.write(data)
        os.replace(temporary, path)  # whole or not at all
    return f"/media/{name}"


def media_path(name):
    """The file behind ``/media/<name>``, or None for a name that cannot be ours."""
    if not MEDIA_NAME.match(name or ""):
        return None
    path = os.path.join(upload_folder(), name)
    return path if os.path.isfile(path) else None


def _luminance(color):
    channels = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(background, text):
    """The WCAG contrast ratio of two "#rrggbb" colours (1 to 21)."""
    light, dark = sorted((_luminance(background), _luminance(text)), reverse=True)
    return round((light + 0.05) / (dark + 0.05), 2)


def update_branding(program, *, actor=None, **values):
    """Save the card's look; the audit trail keeps the old and new values."""
    values = {name: value for name, value in values.items() if name in FIELDS}
    with write_transaction():
        changes = audit.apply_changes(actor, "branding.update", program, values,
                                      label=values.get("card_name") or program.card_name)
        if changes:
            wallet_sync.program_changed(program)
    return program
