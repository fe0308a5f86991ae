"""Images people upload (logos, hero pictures): which are accepted, and how they are decoded.

An upload is accepted when its first bytes say PNG, JPEG or WebP, its name and declared type
(where they name an image kind at all) say the same, its header declares at most ``MAX_SIDE``
pixels a side and ``MAX_PIXELS`` in all, and it decodes whole. What is kept is a new encoding
of it, scaled down into the box of its largest use: no 12000x12000 picture behind a 17 KB file,
no camera metadata (location), nothing hidden after the image's end.

Every decode goes through ``_opened``: the header is read and its size checked before a
pixel is decoded, and Pillow's own decompression-bomb error and warning are refusals.
"""
import io
import logging
import struct
import warnings

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

from loyalty.services.errors import InvalidInput

log = logging.getLogger(__name__)

MAX_SIDE = 4096
MAX_PIXELS = MAX_SIDE * MAX_SIDE
#: kind -> Pillow's format name.
FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}
SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"))
#: What a file name's extension or a declared content type says the file is.
CLAIMS = {
    "png": "png", "apng": "png", "jpg": "jpg", "jpeg": "jpg", "jpe": "jpg", "jfif": "jpg",
    "pjpeg": "jpg", "webp": "webp", "gif": "gif", "svg": "svg", "svg+xml": "svg", "svgz": "svg",
    "bmp": "bmp", "tif": "tiff", "tiff": "tiff", "ico": "ico", "x-icon": "ico", "heic": "heic",
    "heif": "heic", "avif": "avif", "html": "html", "htm": "html", "xml": "xml", "x-png": "png",
}
#: What Pillow may raise on bytes that are not a whole image of the kind asked for.
UNREADABLE = (OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError, TypeError,
              KeyError, ZeroDivisionError, Image.DecompressionBombError,
              Image.DecompressionBombWarning)

NOT_AN_IMAGE = _l("Upload a PNG, JPEG or WebP image.")
TOO_MANY_PIXELS = _l("This image is larger than %(side)d × %(side)d pixels. Save it smaller "
                     "and upload it again.", side=MAX_SIDE)
MISMATCH = _l("This file's name or type does not match the image inside it. Open it in an "
              "image editor, save it as PNG, JPEG or WebP and upload it again.")
DAMAGED = _l("This image is damaged or incomplete. Open it in an image editor, save it again "
             "and upload the new file.")


def image_kind(data):
    """"png", "jpg" or "webp" from the file's first bytes, or None."""
    for signature, kind in SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def claimed_kinds(filename, content_type):
    """The kinds a file's name and declared type say it is (nothing for "logo", "blob",
    "text/plain" or "application/octet-stream": they make no claim)."""
    claims = set()
    name = (filename or "").rsplit("/", 1)[-1].lower()
    if "." in name:
        claims.add(CLAIMS.get(name.rsplit(".", 1)[-1]))
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type.startswith(("image/", "text/")):
        claims.add(CLAIMS.get(media_type.split("/", 1)[1]))
    return claims - {None}


def _within_limit(size):
    width, height = size
    return 0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and width * height <= MAX_PIXELS


def _opened(source, kind, box=None):
    """The image in ``source`` (a path or a file object), decoded; raises InvalidInput.

    The size its header declares is checked before anything is decoded; a JPEG is decoded
    straight at the smallest scale that still covers ``box``.
    """
    with warnings.catch_warnings():
        # Pillow warns, then fails, far above MAX_PIXELS; either is a refusal here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(source, formats=[FORMATS[kind]])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise InvalidInput(TOO_MANY_PIXELS) from error
        except UNREADABLE as error:
            raise InvalidInput(DAMAGED) from error
        if not _within_limit(image.size):
            image.close()
            raise InvalidInput(TOO_MANY_PIXELS)
        try:
            if box and kind == "jpg":
                image.draft("RGB", box)
            image.load()
        except UNREADABLE as error:
            image.close()
            raise InvalidInput(DAMAGED) from error
    return image


def reencoded(data, box, *, filename=None, content_type=None):
    """``(kind, bytes)``: the uploaded image ``data``, checked, scaled down to fit ``box``
    (width, height) and encoded again in its own format. Raises InvalidInput with what to do
    for anything else: another kind of file, a name or type that says another kind, too many
    pixels, a damaged or cut-off file."""
    kind = image_kind(data)
    if kind is None:
        raise InvalidInput(NOT_AN_IMAGE)
    if claimed_kinds(filename, content_type) - {kind}:
        raise InvalidInput(MISMATCH)
    with _opened(io.BytesIO(data), kind, box) as image:
        ImageOps.exif_transpose(image, in_place=True)  # phones turn photos in EXIF, dropped here
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        picture = image.convert("RGBA" if has_alpha and kind != "jpg" else "RGB")
        picture.thumbnail(box, Image.LANCZOS)
        buffer = io.BytesIO()
        if kind == "png":
            picture.save(buffer, format="PNG", optimize=True)
        else:
            picture.save(buffer, format=FORMATS[kind], quality=88)
    return kind, buffer.getvalue()


def stored_image(data, kind, box, *, name=""):
    """The stored image ``data`` decoded as RGBA, or None when it cannot be used safely
    (missing, damaged, or over the pixel limit: kept from before uploads were checked)."""
    if data is None:
        return None
    try:
        with _opened(io.BytesIO(data), kind, box) as image:
            return image.convert("RGBA")
    except InvalidInput:
        log.warning("Stored image %s is refused (too large or unreadable); a default is used",
                    name)
        return None
