"""How the card looks: name, colours, logo and hero image, terms and privacy link.

Uploaded images are checked (``services.merchant.images``: PNG, JPEG or WebP by their bytes, a name that
agrees, a bounded size, a whole file), kept re-encoded at the size of their largest use in the
file store (``loyalty.storage``: the database, so every web machine has them) named by the
SHA-256 of what is kept, and served at ``/media/<hash>.<ext>``: a changed image gets a new
address, so browsers and wallets may keep one forever.
"""
import hashlib
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from loyalty import storage
from loyalty.database import write_transaction
from loyalty.services import audit, events
from loyalty.services.errors import InvalidInput
from loyalty.services.merchant import images

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_IMAGE_SIDE = images.MAX_SIDE
#: Column -> the box its image is kept in: the largest it is shown. A logo: the printed poster
#: (a third of an A4 page), Google's 660 px program logo, Apple's 480x150 logo at @3x. A hero
#: picture: the card page (480 CSS px at 3x), Apple's 1125x369 strip at @3x, Google's hero.
IMAGE_BOXES = {"logo_url": (1024, 1024), "hero_image_url": (1500, 1500)}
MEDIA_NAME = re.compile(r"^[0-9a-f]{64}\.(png|jpg|webp)\Z")
FIELDS = ("card_name", "primary_color", "secondary_color", "terms_text", "privacy_url",
          "logo_url", "hero_image_url")


@dataclass(frozen=True)
class CheckedImage:
    """An accepted upload, re-encoded, not yet stored."""

    name: str
    data: bytes


def checked_image(stream, column, *, filename=None, content_type=None):
    """The upload in ``stream`` for ``column`` (logo_url, hero_image_url), re-encoded into
    that column's box. Raises InvalidInput, saying what to do, for a file over 2 MB or one
    ``images.reencoded`` refuses; nothing is written either way."""
    data = stream.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInput(_l("This image is larger than 2 MB. Save it smaller and try again."))
    kind, kept = images.reencoded(data, IMAGE_BOXES[column], filename=filename,
                                  content_type=content_type)
    return CheckedImage(f"{hashlib.sha256(kept).hexdigest()}.{kind}", kept)


def _store_image(image):
    """Put ``image`` in the file store (in the caller's transaction); returns its URL path."""
    storage.put(image.name, image.data, storage.CONTENT_TYPES[image.name.rsplit(".", 1)[1]])
    return f"/media/{image.name}"


def stored_media(name):
    """``(bytes, content type)`` behind ``/media/<name>``, or None (unknown, or a name that
    cannot be ours: nothing is looked up for it)."""
    if not MEDIA_NAME.match(name or ""):
        return None
    return storage.get(name)


def media_exists(name):
    """Whether ``/media/<name>`` has a file (a browser asking if its copy is still good)."""
    return bool(MEDIA_NAME.match(name or "")) and storage.exists(name)


def update_branding(program, *, actor=None, uploads=None, **values):
    """Save the card's look, with ``uploads`` ({column: CheckedImage}, from ``checked_image``)
    stored in the same transaction (the images and the addresses pointing at them are saved
    together, or neither); the audit trail keeps the old and new values."""
    values = {name: value for name, value in values.items() if name in FIELDS}
    with write_transaction():
        for column, image in (uploads or {}).items():
            values[column] = _store_image(image)
        changes = audit.apply_changes(actor, "branding.update", program, values,
                                      label=values.get("card_name") or program.card_name)
        if changes:
            events.program_changed(program)
    return program
